"""A YAML file that admins edit while the action server runs (fields.yml, texts.yml): read again
when it changes, so a rewording needs no restart; an edit that does not read is logged once and
the last good version stays. texts.yml is a catalogue of texts (EditedCatalogue), read and checked
by policies/catalogue.py like every catalogue people read."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from policies.catalogue import load_catalogue

log = logging.getLogger(__name__)


def lists_of_names(loaded: Any) -> bool:
    """A mapping of keys to lists of names (places.yml by province, suppliers.yml by kind)."""
    return isinstance(loaded, dict) and all(
        isinstance(key, str) and isinstance(names, list) and all(isinstance(n, str) and n.strip() for n in names)
        for key, names in loaded.items())


class EditedYaml:
    def __init__(self, path: Path, is_valid: Callable[[Any], bool], expected: str):
        self.path = path
        self._is_valid = is_valid
        self._expected = expected  # what the file must hold, said when it does not
        self._last: Dict[str, dict] = {}
        self._read: Tuple[int, int] = (-1, -1)  # (mtime_ns, size) of the version in _last
        self._bad: Tuple[int, int] = (-1, -1)  # of the last edit that did not read

    def __call__(self) -> Dict[str, dict]:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp in (self._read, self._bad):
            return self._last
        try:
            loaded = self.load()
        except (YAMLError, ValueError, TypeError) as exc:
            if not self._last:
                raise
            self._bad = stamp  # say it once per edit
            log.error("%s not reloaded, the previous wording stays: %s", self.path, exc)
            return self._last
        self._last, self._read = loaded, stamp
        return self._last

    def load(self) -> Dict[str, dict]:
        """The file as it is now, checked; raises what is wrong with it."""
        with self.path.open(encoding="utf-8") as handle:
            loaded = YAML(typ="safe").load(handle)
        if not self._is_valid(loaded):
            raise ValueError(f"{self.path.name} must be {self._expected}")
        return dict(loaded)


class EditedCatalogue(EditedYaml):
    """A catalogue of texts (`id: {en: ..., fr: ...}`), checked by policies.catalogue: every entry
    one text per language, the `fallback` one always there, the placeholders of each language
    those of the fallback's (some of them left out, with `may_leave_out`). A CatalogueError is a
    ValueError: the first read raises it, a later edit is logged with the file, id and problem."""

    def __init__(self, path: Path, fallback: str, may_leave_out: bool = False):
        super().__init__(path, lambda loaded: True, "a catalogue of texts (policies/catalogue.py)")
        self.fallback = fallback
        self.may_leave_out = may_leave_out

    def load(self) -> Dict[str, dict]:
        return dict(load_catalogue(self.path, fallback=self.fallback, may_leave_out=self.may_leave_out))
