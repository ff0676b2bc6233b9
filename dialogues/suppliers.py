"""Suppliers staff commonly buy from (dialogues/project/suppliers.yml), for a first message that
names one with no cue ("whiteboard markers, $31.47 all in, staples"). The file is read again when
an admin edits it (dialogues/edited_yaml.py)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from . import PROJECT
from .answers import folded
from .edited_yaml import EditedYaml, lists_of_names

SUPPLIERS_FILE = PROJECT / "suppliers.yml"
_FILE = EditedYaml(SUPPLIERS_FILE, lists_of_names, "a mapping of kinds of supplier to lists of names")
_INDEX: Tuple[Optional[dict], List[Tuple[re.Pattern, str]]] = (None, [])


def _suppliers() -> List[Tuple[re.Pattern, str]]:
    """(pattern of a folded name as a whole word, the name), the longest names first."""
    global _INDEX
    data: Dict[str, Any] = _FILE()
    if _INDEX[0] is not data:
        names = sorted({name.strip() for names in data.values() for name in names}, key=lambda n: -len(n))
        patterns = [(re.compile(rf"(?<![\w-]){re.escape(folded(name))}(?![\w-])"), name) for name in names]
        _INDEX = (data, patterns)
    return _INDEX[1]


def known_supplier(text: str) -> Optional[str]:
    """The first known supplier the text names, as it spells it; a name followed by a model or a
    product ("Dell P2723D", "Figma Professional") is a brand there, not who sells it."""
    haystack = folded(text)
    same_places = len(haystack) == len(text)
    found: Optional[Tuple[int, int, str]] = None
    for pattern, name in _suppliers():
        for match in pattern.finditer(haystack):
            if same_places and re.match(r"\s+[A-Z0-9]", text[match.end():]):
                continue
            if found is None or (match.start(), -match.end()) < (found[0], -found[1]):
                found = (match.start(), match.end(), name)
            break
    if found is None:
        return None
    start, end, name = found
    return text[start:end].strip() if same_places else name
