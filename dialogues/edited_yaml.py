"""A YAML file that admins edit while the action server runs (fields.yml, texts.yml): read again
when it changes, so a rewording needs no restart; an edit that does not read is logged once and
the last good version stays."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

log = logging.getLogger(__name__)


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
            with self.path.open(encoding="utf-8") as handle:
                loaded = YAML(typ="safe").load(handle)
            if not self._is_valid(loaded):
                raise ValueError(f"{self.path.name} must be {self._expected}")
        except (YAMLError, ValueError, TypeError) as exc:
            if not self._last:
                raise
            self._bad = stamp  # say it once per edit
            log.error("%s not reloaded, the previous wording stays: %s", self.path, exc)
            return self._last
        self._last, self._read = dict(loaded), stamp
        return self._last
