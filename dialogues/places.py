"""Which province a named place is in (dialogues/project/places.yml), for a delivery said by city:
"our Ottawa office" is Ontario, "livré à Moncton" New Brunswick. The file is read again when an
admin edits it (dialogues/edited_yaml.py)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from . import PROJECT
from .answers import folded
from .edited_yaml import EditedYaml, lists_of_names

PLACES_FILE = PROJECT / "places.yml"
_FILE = EditedYaml(PLACES_FILE, lists_of_names, "a mapping of province codes to lists of place names")
_INDEX: Tuple[Optional[dict], List[Tuple[str, str]]] = (None, [])


def _places() -> List[Tuple[str, str]]:
    """(folded place name, province code), the longest names first ("Quebec City" before "Quebec")."""
    global _INDEX
    data: Dict[str, Any] = _FILE()
    if _INDEX[0] is not data:
        names = [(folded(name), code) for code, places in data.items() for name in places]
        _INDEX = (data, sorted(names, key=lambda pair: -len(pair[0])))
    return _INDEX[1]


def province_of_place(text: str) -> Optional[str]:
    """The province of the first known place named in `text` as a whole word, or None."""
    haystack = " " + re.sub(r"[^\w\s'.-]", " ", folded(text)) + " "
    for name, code in _places():
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", haystack):
            return code
    return None
