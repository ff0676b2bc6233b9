"""Same need: whether two purchase descriptions buy the same thing, however each is worded.

Contract splitting is rarely typed the same way twice: "Ergonomic chairs for the Digital Service
team" then "Ergonomic office chairs (Digital Service)", or "laptop bags" then "carrying cases for
notebooks". Comparing characters misses the first kind and cannot see the second, so a description
is read for the words that carry the need:

- the words are folded (case, accents, French elisions) and stemmed the same way whatever the
  language (the shorter of the English and French Snowball stems: "chairs" and "chair",
  "chaises" and "chaise" are one word); numbers, the pack's ignored words (filler, quantities,
  containers, months, "team": `splitting.same_need.ignore_words`) and the cost centres' names
  are dropped;
- the pack's synonym groups (`splitting.same_need.synonyms`, both languages in one group) turn
  every wording of a thing into one concept: "laptop", "notebook computer", "ordinateur portable";
  a capitalised wording is also a product or title ("SurveyMonkey"), and two different ones are
  two things;
- the head is the word that names what is bought: the last of the first phrase in English
  ("printer paper": paper), the first in French ("papier pour imprimante": papier), passing over
  who buys ("Policy team: ...") and generic words ("licence", "abonnement": the thing is the rest),
  so "chair repair" and "new chairs", or "printer paper" and "printer", are different needs.

Two descriptions with the same head score 0.6, plus up to 0.4 for how alike their other words
are; a head that is a kind of the other's ("laptop bags", "bags") 0.6 plus up to 0.2; different
heads, at most 0.5 for the words they share. The pack's two bands (percent) turn the score into
a block, a warning for the approver to judge, or nothing (rules/splitting.py).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

# Wordings shared by every pack (goods, services, abbreviations, product lines): a file of its own,
# read with the fast C loader, so that a pack stays quick to load and check.
SHARED_VOCABULARY = Path(__file__).parent / "vocabulary" / "same_need.yml"

# Words that tell French from English: the description's language picks its stemmer.
_FRENCH = frozenset("de des du la le les pour au aux une un et avec chez sur dans d l à par".split())
_ENGLISH = frozenset("for the of and to with from a an on in at by our".split())
# Where the first phrase, the one naming what is bought, ends.
_PHRASE_END = {
    "en": re.compile(r"[,;:()\[\]/|]|\s[-–—]\s|\b(?:for|from|with|to|at|by|via|including|incl|plus|per)\b"),
    "fr": re.compile(r"[,;:()\[\]/|]|\s[-–—]\s|\b(?:pour|chez|avec|par|via|incluant|plus|sur|selon)\b|\bà\b"),
}
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu)['’]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# "of" joins a container to its content ("boxes of pens": pens) or a thing to what it is for
# ("repair of chairs": repair); the first phrase keeps what comes before it unless that is all
# ignored words.
_OF = re.compile(r"\bof\b")
# Several things in one phrase ("keyboards and mice", "claviers et souris"): each has its head.
_AND = re.compile(r"\b(?:and|et|plus|or|ou)\b|[+&]")
# A phrase about who buys ("Policy team: 5 Excel seats", "équipe BDM, ...") names no thing.
_WHO = frozenset("""team teams ops unit branch division staff officers officer employees members crew group
equipe equipes unite direction personnel employes agents agent membres groupe""".split())

_HEAD_WEIGHT = 0.6
_REST_WEIGHT = 0.4
_NO_HEAD_WEIGHT = 0.5
# A misspelt head still names the thing ("keybaord"): a fuzzy match of long words only.
_TYPO_LENGTH = 5


def fold(text: str) -> str:
    """Text without its accents ("chiffrées": "chiffrees")."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@lru_cache(maxsize=2)
def _stemmer(language: str):
    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=65536)  # the same words recur in every history
def _stem(word: str) -> str:
    """One stem whatever the language, so an English and a French description meet: the shorter
    of the English and French stems ("figma", "figm": figm), without accents."""
    word = fold(word)  # "chiffrées" and "chiffrees" alike: staff drop accents
    english, french = _stemmer("english").stemWord(word), _stemmer("french").stemWord(word)
    return min(english, french, key=len)


# Endings only French words have, for a description with no little words to tell.
_FRENCH_ENDING = re.compile(r"(?:iques?|eaux|eux|ées?|ettes?|eurs|euses?|ment)$")


def _language(words: Sequence[str]) -> str:
    french = sum(word in _FRENCH for word in words)
    english = sum(word in _ENGLISH for word in words)
    if french == english:
        accented = any(fold(word) != word or _FRENCH_ENDING.search(word) for word in words)
        return "fr" if accented else "en"
    return "fr" if french > english else "en"


def _words(text: str) -> List[str]:
    text = _ELISION.sub(" ", text.casefold().replace("&", " and ").replace("’", "'"))
    return [w for part in _WORD.findall(text) for w in part.split("-") if w]


def shared_vocabulary(path: Optional[Path] = None) -> Tuple[Tuple[str, ...], ...]:
    """The shared synonym groups, read again when the file changes. Raises VocabularyError when
    the file cannot be read or is not a list of groups of wordings."""
    path = path or SHARED_VOCABULARY
    try:
        stat = path.stat()
        return _read_vocabulary(path, stat.st_mtime_ns, stat.st_size)
    except VocabularyError:
        raise
    except (OSError, ValueError, YAMLError) as exc:
        raise VocabularyError(f"{path}: cannot be read: {exc}") from None


class VocabularyError(ValueError):
    """The shared vocabulary file is missing or not in the expected form."""


@lru_cache(maxsize=4)
def _read_vocabulary(path: Path, _mtime: int, _size: int) -> Tuple[Tuple[str, ...], ...]:
    loaded = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    groups = loaded.get("synonyms") if isinstance(loaded, dict) else None
    if not isinstance(groups, list) or not all(
            isinstance(group, list) and group and all(isinstance(w, str) and w.strip() for w in group)
            for group in groups):
        raise VocabularyError(f"{path}: 'synonyms' must be a list of groups, each a list of wordings")
    return tuple(tuple(group) for group in groups)


@dataclass(frozen=True, eq=False)  # hashed by identity: one per pack version, a cache key
class NeedWords:
    """The pack's word lists, stemmed once: ignored stems, the concept each wording names, and
    the synonyms' single words (a misspelt word is matched to them)."""

    ignored: FrozenSet[str]
    concepts: Dict[Tuple[str, ...], str]
    longest: int
    spellings: Dict[str, str]
    # A concept's broader one, by the last word of its first wording: "laptop bag" is a bag.
    parents: Dict[str, str]
    # Terms that say how a thing is bought ("licence", "subscription"): the thing is the rest.
    generic: FrozenSet[str] = frozenset()
    # Wordings that are a product or a title ("SurveyMonkey", "Le Devoir"): two of one concept are
    # two things, one beside the concept's plain name is the same thing told more precisely.
    brands: FrozenSet[Tuple[str, ...]] = frozenset()


def need_words(ignore_words: Iterable[str], synonyms: Iterable[Iterable[str]],
               generic_words: Iterable[str] = ()) -> NeedWords:
    """Builds the word lists from the pack's."""
    ignored = set()
    for word in ignore_words:
        for part in _words(word):
            ignored |= {fold(part), _stem(part)}
    concepts: Dict[Tuple[str, ...], str] = {}
    spellings: Dict[str, str] = {}
    brands: set = set()
    for group in synonyms:
        group = list(group)
        if not group:
            continue
        name = "=" + fold(group[0].casefold())
        for wording in group:
            every = _words(wording)
            words = [w for w in every if fold(w) not in ignored]
            key = tuple(_stem(w) for w in words if _stem(w) not in ignored)
            dropped = [w for w in every if fold(w) in ignored or _stem(w) in ignored]
            if len(key) == 1 and any(len(w) >= 4 for w in dropped):
                continue  # "Microsoft Project" without "project" would make every "Microsoft" one
            if key:
                concepts.setdefault(key, name)
                if any(ch.isupper() for ch in wording) and wording != group[0]:
                    brands.add(key)
            if len(key) == 1 and len(key[0]) >= _TYPO_LENGTH:
                spellings.setdefault(key[0], name)
    longest = max((len(key) for key in concepts), default=1)
    parents: Dict[str, str] = {}
    for group in synonyms:
        group = list(group)
        words = [w for w in _words(group[0]) if fold(w) not in ignored] if group else []
        if len(words) > 1:
            name, broader = "=" + fold(group[0].casefold()), concepts.get((_stem(words[-1]),))
            if broader and broader != name:
                parents[name] = broader
    lists = NeedWords(frozenset(ignored), concepts, longest, spellings, parents, brands=frozenset(brands))
    # generic words read as any description's are (a generic wording of a group is its concept)
    generic = {term for word in generic_words for term in _terms(_words(word), lists, frozenset())}
    return replace(lists, generic=frozenset(generic))


@dataclass(frozen=True)
class Need:
    """What a description buys: its heads (the things), the first phrase's other words, and all
    its words."""

    heads: FrozenSet[str]
    modifiers: FrozenSet[str]
    terms: FrozenSet[str]
    broader: FrozenSet[str] = frozenset()  # the concepts the heads are kinds of ("laptop bag": bag)
    brands: FrozenSet[str] = frozenset()  # the products or titles named ("#surveymonkey")


def _term(word: str, lists: NeedWords) -> Optional[str]:
    folded = fold(word)
    if folded in lists.ignored:
        return None
    stem = _stem(word)
    if stem in lists.ignored or len(stem) < 2:
        return None
    return stem


def _terms(words: Sequence[str], lists: NeedWords, drop: FrozenSet[str]) -> List[str]:
    pairs: List[Tuple[str, str]] = []
    for word in words:
        term = _term(word, lists)
        if term is not None and term not in drop:
            pairs.append((word, term))
    out: List[str] = []
    i = 0
    while i < len(pairs):
        for size in range(min(lists.longest, len(pairs) - i), 0, -1):
            key = tuple(t for _, t in pairs[i:i + size])
            concept = lists.concepts.get(key)
            if concept:
                out.append(concept)
                if key in lists.brands:
                    out.append("#" + " ".join(key))  # which product, beside what it is
                i += size
                break
        else:
            out.append(_misspelt(pairs[i][0], lists) or pairs[i][1])
            i += 1
    return out


def _misspelling(a: str, b: str) -> bool:
    """Whether two different stems are one word misspelt: the same first letter, and two letters
    swapped, or one wrong in a word of 6 letters or more, or two in one of 10 or more. Looser,
    and a large vocabulary finds a "misspelling" for every word ("sprint" for "print")."""
    shortest = min(len(a), len(b))
    if shortest < _TYPO_LENGTH or a[0] != b[0]:
        return False
    if len(a) == len(b) and sorted(a) == sorted(b):
        return DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1  # "chiar", "chair"
    allowed = 2 if shortest >= 10 else 1 if shortest >= 6 else 0
    return allowed > 0 and DamerauLevenshtein.distance(a, b, score_cutoff=allowed) <= allowed


@lru_cache(maxsize=16384)
def _misspelt_cached(stem: str, lists: NeedWords) -> Optional[str]:
    found = process.extractOne(stem, lists.spellings.keys(), scorer=DamerauLevenshtein.distance, score_cutoff=2)
    if found and _misspelling(stem, found[0]):
        return lists.spellings[found[0]]
    return None


def _misspelt(word: str, lists: NeedWords) -> Optional[str]:
    """The concept a word not in the lists is a misspelling of ("chiars": chair, "keybaords":
    keyboard). Short words are left alone ("boot" is not "book")."""
    stem = _stem(word)
    if len(stem) < _TYPO_LENGTH:
        return None
    return _misspelt_cached(stem, lists)


def need_of(description: str, lists: NeedWords, drop: FrozenSet[str] = frozenset()) -> Need:
    """The need a description states; `drop` holds stems that say nothing here (the cost
    centres' names)."""
    return _need_of(description or "", lists, drop)


@lru_cache(maxsize=16384)  # a cost centre's history is read again at every request
def _need_of(description: str, lists: NeedWords, drop: FrozenSet[str]) -> Need:
    text = description.casefold()
    every = _words(text)
    language = _language(every)
    read = _terms(every, lists, drop)
    terms = frozenset(t for t in read if not t.startswith("#"))
    brands = frozenset(t for t in read if t.startswith("#"))
    heads: List[str] = []
    modifiers: set = set()
    fallback: List[str] = []  # the heads of the first phrase of generic terms only
    for phrase in _PHRASE_END[language].split(text):
        if language == "en":
            parts = _OF.split(phrase, maxsplit=1)
            if len(parts) > 1 and not _telling(_terms(_words(parts[0]), lists, drop), lists):
                phrase = parts[1]  # "boxes of pens", "subscription of The Economist": what follows
            else:
                phrase = parts[0]
        words = [w for w in map(fold, _words(phrase)) if w in _WHO or w not in lists.ignored]
        if words and (words[-1] if language == "en" else words[0]) in _WHO:
            continue  # "Policy team", "équipe BDM": who buys, not what
        generic_only: List[str] = []
        for chunk in _AND.split(phrase):
            found = [t for t in _terms(_words(chunk), lists, drop) if not t.startswith("#")]
            telling = _telling(found, lists)
            if telling:
                head = telling[-1] if language == "en" else telling[0]
                heads.append(head)
                modifiers |= set(telling) - {head}
            elif found:
                generic_only.append(found[-1] if language == "en" else found[0])
        if heads:
            break
        fallback = fallback or generic_only
    heads = heads or fallback
    broader = {lists.parents[head] for head in heads if head in lists.parents}
    return Need(frozenset(heads), frozenset(modifiers - set(heads)), terms, frozenset(broader), brands)


def _telling(terms: List[str], lists: NeedWords) -> List[str]:
    return [term for term in terms if term not in lists.generic]


def _same_word(a: str, b: str) -> bool:
    """The same stem, or one misspelt ("ergonim", "ergonom"); a concept only as itself."""
    if a == b:
        return True
    return not a.startswith("=") and not b.startswith("=") and _misspelling(a, b)


def _shared(a: FrozenSet[str], b: FrozenSet[str]) -> float:
    """How much of the smaller set the larger holds (one description may say more)."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    found = len(small & large)
    fuzzy = [y for y in large - small if len(y) >= _TYPO_LENGTH and not y.startswith("=")]
    if fuzzy:
        found += sum(1 for x in small - large if any(_same_word(x, y) for y in fuzzy))
    return found / len(small)


def _holds(terms: FrozenSet[str], heads: FrozenSet[str]) -> bool:
    return all(any(_same_word(head, term) for term in terms) for head in heads)


@lru_cache(maxsize=65536)  # a request is compared with the same history at each of its turns
def similarity(a: Need, b: Need) -> float:
    """0 (nothing in common) to 1 (the same need)."""
    shared = _shared(a.terms, b.terms)
    if not a.heads or not b.heads:
        return _NO_HEAD_WEIGHT * shared
    if a.brands and b.brands and not a.brands & b.brands:
        return _NO_HEAD_WEIGHT * shared  # two products ("SPSS", "NVivo"), two titles: two things
    same_thing = any(_same_word(x, y) for x in a.heads for y in b.heads) \
        or (_holds(b.terms, a.heads) and _holds(a.terms, b.heads))
    if not same_thing:
        if a.heads & b.broader or b.heads & a.broader:
            # one names a kind of the other ("laptop bags", "cases"): perhaps the same thing
            return _HEAD_WEIGHT + _REST_WEIGHT * 0.5 * _alike(a.terms - a.heads, b.terms - b.heads)
        # "chair repair" and "new chairs": what one buys is at most a word of the other
        return _NO_HEAD_WEIGHT * shared
    # The same thing: one description may name it more precisely ("webcams", "Logitech C920
    # webcams"), which is no difference; two different kinds of it are ("laser", "3D" printers).
    kind = _alike(a.modifiers, b.modifiers)
    rest = _alike(a.terms - a.heads, b.terms - b.heads)
    return _HEAD_WEIGHT + _REST_WEIGHT * (0.5 * kind + 0.5 * rest)


def _alike(a: FrozenSet[str], b: FrozenSet[str]) -> float:
    """1 when either says nothing more or one holds all the other says (more detail is no
    difference); else the share of all their words both hold ("level B, J. Smith" and "level C,
    M. Roy" differ: each says something the other does not)."""
    if not a or not b:
        return 1.0
    if _shared(a, b) == 1.0:
        return 1.0
    both = len(a & b) + sum(1 for x in a - b if any(_same_word(x, y) for y in b - a))
    return both / len(a | b)
