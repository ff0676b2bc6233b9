"""NLU cross-validation scores per language, from the predictions `rasa test nlu
--cross-validation --successes` writes (every example is either a success or an error).

An example's language is its block's `metadata: {language: ..}` (the generated nlu_policy.yml),
else its file's suffix (nlu_fr.yml), else English. A text written the same in both languages
("Ontario", "PayPal", "100200") counts for both.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

import regex
from ruamel.yaml import YAML
from sklearn.metrics import f1_score

NO_ENTITY = "no_entity"
DEFAULT_LANGUAGE = "en"
_MARKUP = re.compile(r"\[(?P<text>[^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_SUFFIX = re.compile(r"_(?P<language>[a-z]{2})$")


def plain(example: str) -> str:
    """An annotated example as the text Rasa tests: "[80](amount) $" -> "80 $"."""
    return _MARKUP.sub(lambda m: m.group("text"), example)


def example_languages(data: Path) -> Dict[str, Set[str]]:
    """Text of every intent example in data/*.yml -> the languages it is written in."""
    languages: Dict[str, Set[str]] = defaultdict(set)
    for path in sorted(data.glob("*.yml")):
        loaded = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        suffix = _SUFFIX.search(path.stem)
        for block in loaded.get("nlu") or []:
            if "intent" not in block:
                continue
            language = ((block.get("metadata") or {}).get("language")
                        or (suffix.group("language") if suffix else DEFAULT_LANGUAGE))
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    languages[plain(line[2:]).strip()].add(language)
    return dict(languages)


def _load(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def intent_f1_by_language(out: Path, languages: Dict[str, Set[str]]) -> Dict[str, Tuple[float, int]]:
    """language -> (weighted intent F1, number of examples), over the cross-validation predictions."""
    targets, predictions = defaultdict(list), defaultdict(list)
    for result in _load(out / "intent_successes.json") + _load(out / "intent_errors.json"):
        for language in languages.get(result["text"].strip(), {DEFAULT_LANGUAGE}):
            targets[language].append(result["intent"])
            predictions[language].append(result["intent_prediction"]["name"])
    return {language: (f1_score(targets[language], predictions[language], average="weighted", zero_division=0),
                       len(targets[language]))
            for language in sorted(targets)}


# Rasa's WhitespaceTokenizer (rasa/nlu/tokenizers/whitespace_tokenizer.py), to label tokens as its
# entity evaluation does.
_NOT_WORD = (r"[^\w#@&]+(?=\s|$)|(\s|^)[^\w#@&]+(?=[^0-9\s])|"
             r"(?<=[^0-9\s])[^\w._~:/?#\[\]()@!$&*+,;=-]+(?=[^0-9\s])")


def tokens(text: str) -> List[Tuple[int, int]]:
    words = regex.sub(_NOT_WORD, " ", text).split() or [text]
    spans, offset = [], 0
    for word in words:
        start = text.index(word, offset)
        spans.append((start, start + len(word)))
        offset = start + len(word)
    return spans


def _label(span: Tuple[int, int], entities: Iterable[dict], extractor: Optional[str]) -> str:
    best, label = 0, NO_ENTITY
    for entity in entities:
        if extractor and entity.get("extractor", extractor) != extractor:
            continue
        shared = min(span[1], entity["end"]) - max(span[0], entity["start"])
        if shared > best:
            best, label = shared, entity["entity"]
    return label


def entity_f1_by_language(out: Path, extractor: str, languages: Dict[str, Set[str]]
                          ) -> Dict[str, Tuple[float, int]]:
    """language -> (token-level weighted entity F1 of `extractor`, number of examples with an
    entity annotated or predicted), as Rasa's entity report computes it over all examples."""
    targets, predictions, counted = defaultdict(list), defaultdict(list), defaultdict(int)
    seen = set()
    for result in _load(out / f"{extractor}_successes.json") + _load(out / f"{extractor}_errors.json"):
        # An example with one entity right and another wrong is in both files: count it once.
        key = json.dumps(result, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        spans = tokens(result["text"])
        expected = [_label(span, result["entities"], None) for span in spans]
        found = [_label(span, result["predicted_entities"], extractor) for span in spans]
        for language in languages.get(result["text"].strip(), {DEFAULT_LANGUAGE}):
            targets[language] += expected
            predictions[language] += found
            counted[language] += 1
    scores = {}
    for language in sorted(targets):
        labels = sorted((set(targets[language]) | set(predictions[language])) - {NO_ENTITY})
        scores[language] = (f1_score(targets[language], predictions[language], labels=labels, average="weighted",
                                     zero_division=0), counted[language])
    return scores
