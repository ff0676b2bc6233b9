"""Reading the requester's answers: amounts, quantities, dates, yes/no and choices from the policy.

Each reader returns the value in the form a purchase request takes, or raises AnswerError with
what to type instead. Pure: the policy and today's date come in as arguments.
"""
from __future__ import annotations

import calendar
import math
import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import dateparser
import parsedatetime
from dateutil import parser as isoparser
from rapidfuzz import fuzz

from policies import AmountError, LoadedPolicy, parse_amount
from policies.request import MAX_QUANTITY

from .wording import Phrase

if TYPE_CHECKING:
    from dateparser import _Settings

# Answers longer than this are cut before reading: a request field holds at most 4,000 characters.
MAX_ANSWER = 4000
UNKNOWN = "unknown"


class AnswerError(ValueError):
    """An answer that could not be read; the message says what to type instead, in English by
    str() and in the requester's language by text() (the wording is in dialogues/project/texts.yml)."""

    def __init__(self, key: str, **values) -> None:
        self.phrase = Phrase(key, **values)
        super().__init__(self.phrase.text("en"))

    def text(self, language: str, locale: Optional[str] = None) -> str:
        return self.phrase.text(language, locale)


def clean(text: object) -> str:
    """User text as one tidy line: control and bidi characters dropped, spaces collapsed."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text))[: MAX_ANSWER * 2]
    # Control characters (tabs, newlines) separate words; invisible ones (bidi marks, zero-width
    # spaces, soft hyphens) would split a name such as "Sta\u200bples" in two, so they go.
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text
                   if unicodedata.category(ch) not in ("Cf", "Co", "Cn", "Cs"))
    return re.sub(r"\s+", " ", text).strip()[:MAX_ANSWER]


def folded(text: object) -> str:
    """For comparing names: lower case, no accents, single spaces."""
    text = unicodedata.normalize("NFKD", clean(text).casefold())
    return re.sub(r"\s+", " ", "".join(ch for ch in text if not unicodedata.combining(ch))).strip()


# -- amounts and quantities ----------------------------------------------------------------------

# A money-looking run of characters: optional currency sign, digits with separators, optional k.
_MONEY = re.compile(r"(?:[$€£]\s?)?\(?-?\d[\d\s,.'\u00a0\u202f]*(?:\s?[kK]\b)?\)?(?:\s?\$)?")


_CURRENCIES = re.compile(r"\b(USD|CAD|EUR|GBP|JPY|CHF|AUD|MXN|INR|CNY)\b|US\$|C\$|CA\$|[€£¥₹]", re.IGNORECASE)
_SIGN_CODES = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "US$": "USD", "C$": "CAD", "CA$": "CAD"}


def read_amount(text: object, locale: str = "en_CA", currency: str = "CAD") -> Decimal:
    """The unit price in an answer such as "89.99", "about $90 each" or "1 234,50 $"."""
    raw = clean(text)
    if not raw:
        raise AnswerError("price_missing")
    for mark in _CURRENCIES.finditer(raw):
        code = _SIGN_CODES.get(mark.group(0).upper(), mark.group(0).upper())
        if code != currency:
            raise AnswerError("price_other_currency", currency=currency)
    # The sentence's own punctuation after the amount ("unit price $420, charge 100300") is not part of it.
    raw = _CURRENCIES.sub(" ", raw).strip().rstrip(",;:!?.").strip()
    try:
        return parse_amount(raw, locale=locale)
    except AmountError as whole:
        reason = whole
    if _DATE_LIKE.search(raw):  # "2026-12-15" or "31/12/2026" is a date, not $2,026
        raise AnswerError("price_not_found", text=_short(raw))
    # Pick the number out of a sentence only when the other words are about money ("about $90
    # each"); "Dec 15", "1e9" or "NaN" are not prices.
    matches = sorted(_MONEY.finditer(raw), key=lambda m: not re.search(r"[$€£]", m.group(0)))
    for match in matches:
        candidate = match.group(0).strip()
        rest = (raw[: match.start()] + " " + raw[match.end():]).casefold()
        if not any(ch.isdigit() for ch in candidate) or not set(re.findall(r"[^\W\d_]+", rest)) <= _PRICE_WORDS:
            continue
        try:
            return parse_amount(candidate, locale=locale)
        except AmountError as exc:
            reason = exc
            break  # the first number is the price; a later one is not a better guess
    if not any(ch.isdigit() for ch in raw) or reason.code == "not_an_amount":
        raise AnswerError("price_not_found", text=_short(raw))
    raise AnswerError("price_unreadable", text=_short(raw), reason=amount_reason(reason))


def amount_reason(error: AmountError) -> Phrase:
    """Why the policy's amount reader refused an amount, to be said in the requester's language:
    texts.yml words each of its codes (amount_<code>) with the values it gives."""
    return Phrase(f"amount_{error.code}", **error.values)


_DATE_LIKE = re.compile(r"\d\s?[-/]\s?\d{1,2}\s?[-/]\s?\d")

_PRICE_WORDS = {
    "about", "around", "approximately", "approx", "roughly", "maybe", "each", "per", "unit", "item", "one", "a",
    "an", "apiece", "piece", "cad", "usd", "dollars", "dollar", "bucks", "it", "it's", "its", "is", "s", "costs",
    "cost", "price", "before", "tax", "taxes", "pre", "plus", "the", "for", "at", "they", "are", "that", "was",
    "environ", "chacun", "chacune", "chaque", "l", "unité", "unite", "coûte", "coute", "prix", "avant", "taxe",
    "pièce", "à", "de", "le", "la", "ça", "ca", "c", "est", "k",
    "peu", "près", "pres", "approximativement", "autour", "du", "par", "personne", "unitaire", "hors", "coûtent",
    "coutent", "sont", "ils", "elles", "il", "elle", "vaut", "valent", "un", "une", "pour",
}

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "pair": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "half": 0.5,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30, "quarante": 40,
    "cinquante": 50, "demi": 0.5, "demie": 0.5,
}
_VAGUE = {"few", "couple", "bunch", "several", "some", "many", "lots", "lot", "plenty", "quelques", "plusieurs",
          "beaucoup", "certains", "certaines", "dizaine", "dizaines", "centaine", "centaines"}
_MULTIPLIERS = {"dozen": 12, "dozens": 12, "douzaine": 12, "douzaines": 12, "hundred": 100, "cent": 100,
                "cents": 100, "thousand": 1000, "mille": 1000}
# Whole numbers as people group them: 3, 1,000, 10 000 (space or no-break space), 1.000 is not one.
_WHOLE = re.compile(r"(?<![\d.,])(-?)(\d{1,3}(?:[,\u00a0\u202f ]\d{3})+|\d+)(?![\d]|[.,]\d)")


def read_quantity(text: object, maximum: int = MAX_QUANTITY) -> int:
    """A whole number of units from "3", "1,000", "three", "5 of them", "two dozen"."""
    raw = clean(text)
    if _CURRENCIES.search(raw) or "$" in raw:
        raise AnswerError("quantity_looks_like_price")
    if re.search(r"\d[.,]\d{1,2}(?!\d)", raw):
        raise AnswerError("quantity_not_whole", text=_short(raw))
    words = re.findall(r"[a-zà-ÿ]+", folded(raw))
    if any(word in _VAGUE for word in words):
        raise AnswerError("quantity_vague")
    match = _WHOLE.search(raw)
    if match and match.group(1):
        raise AnswerError("quantity_too_small")
    value: float
    if match:
        value = int(re.sub(r"\D", "", match.group(2)))
    else:
        found = [_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS]
        if not found and not any(w in _MULTIPLIERS for w in words):
            raise AnswerError("quantity_unreadable", text=_short(raw))
        if any(number < 1 for number in found):  # "half a dozen"
            value = 1
            for number in found:
                value *= number
        elif len(found) >= 2 and found[0] >= 20 and found[0] % 10 == 0 and found[1] < 10:  # "twenty two"
            value = found[0] + found[1]
        else:
            value = found[0] if found else 1
    for word in words:
        if word in _MULTIPLIERS:
            value *= _MULTIPLIERS[word]
    if value != int(value):
        raise AnswerError("quantity_not_whole", text=_short(raw))
    value = int(value)
    if value < 1:
        raise AnswerError("quantity_too_small")
    if value > maximum:
        raise AnswerError("quantity_too_large", maximum=maximum)
    return value


# -- dates -------------------------------------------------------------------------------------

_CALENDAR = parsedatetime.Calendar(version=parsedatetime.VERSION_CONTEXT_STYLE)
MAX_DATE_TEXT = 200  # characters


def read_date(text: object, today: date, language: str = "en") -> date:
    """A date from "2026-12-15", "Dec 15", "next Friday", "in two weeks" or "15 décembre".

    ISO dates first; English relative phrases through parsedatetime; everything else (other
    languages, day-month orders) through dateparser, preferring future dates.
    """
    raw = clean(text)
    if not raw:
        raise AnswerError("date_missing")
    # \d{4,}: "99999999-01-01" is not a real date, not "01-01" with digits in front.
    iso = re.search(r"\b\d{4,}-\d{1,2}-\d{1,2}\b", raw)
    if iso:
        try:
            when = isoparser.isoparse(iso.group(0)).date()
        except ValueError:
            raise AnswerError("date_impossible", text=_short(iso.group(0))) from None
        return _within_reach(when, today)
    if len(raw) > MAX_DATE_TEXT:
        # No date needs more words; dateparser recurses once per word and fails on long text.
        raise AnswerError("date_too_long")
    part = _month_part(raw, today)
    if part is not None:
        return _within_reach(part, today)
    base = datetime.combine(today, time(9))
    if language == "en":
        parsed, context = _CALENDAR.parseDT(raw, sourceTime=base)
        if context.hasDate:
            return _within_reach(parsed.date(), today)
    settings: _Settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base, "PREFER_DAY_OF_MONTH": "first"}
    languages = [language] + [lang for lang in ("en", "fr") if lang != language]
    found = dateparser.parse(raw, settings=settings, languages=languages)
    if found is None:
        from dateparser.search import search_dates

        # A date inside a sentence, but only if every number written is part of it: in
        # "Feb 31 2027" only "Feb" reads as a date, and a made-up day must not become the 1st.
        hits = search_dates(raw, settings=settings, languages=languages) or []
        numbers = re.findall(r"\d+", raw)
        hits = [(said, when) for said, when in hits if all(n in re.findall(r"\d+", said) for n in numbers)]
        found = hits[0][1] if hits else None
    if found is None:
        raise AnswerError("date_unreadable", text=_short(raw))
    return _within_reach(found.date(), today)


# "end of the month", "fin décembre", "mi-janvier": part of a month, which the parsers read as its
# first day (or not at all).
_MONTHS = {name: number for number, names in enumerate([
    ("january", "jan", "janvier", "janv"), ("february", "feb", "fevrier", "fevr"), ("march", "mar", "mars"),
    ("april", "apr", "avril", "avr"), ("may", "mai"), ("june", "jun", "juin"), ("july", "jul", "juillet", "juil"),
    ("august", "aug", "aout"), ("september", "sep", "sept", "septembre"), ("october", "oct", "octobre"),
    ("november", "nov", "novembre"), ("december", "dec", "decembre")], start=1) for name in names}
_MONTH_PART = re.compile(r"\b(?P<part>end of|fin|middle of|mid|mi)\b[\s-]*(?:(?:the|this|du|de)\b\s*|d')?"
                         r"(?P<month>[a-z]+)(?:\s+(?P<year>\d{4}))?\b(?!\s*\d)")


def _month_part(raw: str, today: date) -> Optional[date]:
    match = _MONTH_PART.search(folded(raw).replace("’", "'"))
    if not match:
        return None
    said = match.group("month")
    month = today.month if said in ("month", "mois") else _MONTHS.get(said)
    if month is None:
        return None
    end = match.group("part") in ("end of", "fin")
    if match.group("year"):
        year = int(match.group("year"))
    else:
        year = today.year if month >= today.month else today.year + 1
        if date(year, month, calendar.monthrange(year, month)[1] if end else 15) < today:
            year += 1  # mid-month already gone: the same part of next year
    if not 1 <= year <= 9999:
        return None
    return date(year, month, calendar.monthrange(year, month)[1] if end else 15)


MAX_YEARS_AHEAD = 5


def _within_reach(when: date, today: date) -> date:
    if when.year > today.year + MAX_YEARS_AHEAD:
        raise AnswerError("date_too_far", date=when.isoformat(), years=MAX_YEARS_AHEAD)
    return when


# -- yes / no ----------------------------------------------------------------------------------

_YES = {"yes", "y", "yep", "yeah", "yup", "sure", "correct", "true", "ok", "okay", "oui", "ouais", "vrai",
        "absolument", "exact", "exactement", "tout a fait", "certainement", "bien entendu", "effectivement",
        "c'est ca", "c'est exact", "c'est correct", "c'est bon", "parfait", "soumettre", "soumets", "envoyer",
        "envoie", "envoie-la", "vas-y", "allez-y", "je confirme", "confirme", "signee", "signe",
        "affirmative", "confirm", "confirmed", "submit", "absolutely", "definitely", "of course", "bien sur",
        "d'accord", "it is", "i do", "we do", "they are", "it has", "they have", "signed", "/affirm"}
_NO = {"no", "n", "nope", "nah", "false", "non", "faux", "not", "never", "negative", "no way", "pas du tout",
       "not yet", "pas encore", "jamais", "aucunement", "absolument pas", "pas vraiment", "pas signee", "pas signe",
       "it isn't", "it is not", "they aren't", "not signed", "/deny"}
_UNSURE = {"not sure", "unsure", "don't know", "dont know", "i don't know", "no idea", "unknown", "maybe",
           "aucune idee", "pas certain", "pas certaine", "incertain", "je l'ignore", "sais pas",
           "je ne sais pas", "je sais pas", "pas sur", "inconnu", "peut-etre", "?"}


def read_yes_no(text: object, intent: Optional[str] = None, allow_unknown: bool = False):
    """True, False, or UNKNOWN (when allowed) from an answer or the intent NLU found in it."""
    raw = folded(text)
    words = raw.strip(" .!").replace("’", "'")
    first = re.split(r"[\s,.!;:]+", words)[0] if words else ""
    unsure = words in _UNSURE or any(phrase in words for phrase in _UNSURE if len(phrase) > 3)
    if unsure and allow_unknown:
        return UNKNOWN
    if unsure:
        raise AnswerError("yes_no_unsure_not_allowed")
    if words in _YES or first in {"yes", "yep", "yeah", "oui", "sure", "correct"}:
        return True
    if words in _NO or first in {"no", "nope", "non", "nah"}:
        return False
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    raise AnswerError("yes_no_or_unsure" if allow_unknown else "yes_no")


# -- choices from the policy -------------------------------------------------------------------

# Codes ("ON", "NT", "100200") are matched as written, never by a close spelling: a made-up word or
# a number is always near some code ("Atlantide" holds "nt", "1" is in "100200").
MIN_FUZZY_LABEL = 4
# Typed words that begin a name: "ont" is Ontario, "1002" is cost centre 100200.
MIN_PREFIX = 3
# Short words that initials skip: "Prince Edward Island" is PEI, "Terre-Neuve-et-Labrador" T.-N.-L.
_INITIALS_SKIP = {"and", "of", "the", "et", "de", "du", "des", "la", "le"}


def choose(text: object, options: Mapping[str, Sequence[str]], cutoff: int = 85) -> Optional[str]:
    """The option id an answer names: its id or one of its names as written, a number that begins
    exactly one numeric id, the start or the initials of a name, or a close spelling of a name.
    An answer as close to two options as to one names neither."""
    raw = folded(text)
    if not raw:
        return None
    names: List[Tuple[str, str]] = []
    for option, labels in options.items():
        for label in (option, *labels):
            label = folded(label)
            if label == raw or (_compact(raw) and _compact(label) == _compact(raw)):  # "N.S.", "Pay Pal"
                return option
            names.append((label, option))
    if re.fullmatch(r"[\d\s]+", raw):  # a number only names a code it begins: "1" is not 100200
        digits = raw.replace(" ", "")
        begun = {option for label, option in names if label.isdigit() and label.startswith(digits)}
        return begun.pop() if len(digits) >= MIN_PREFIX and len(begun) == 1 else None
    said = set(re.findall(r"\w+", raw))
    coded = {option for label, option in names if any(ch.isdigit() for ch in label) and label in said}
    if len(coded) == 1:  # "cc 100300", the button's title "100200 Digital Service"
        return coded.pop()
    scores: Dict[str, float] = {}
    for label, option in names:
        if len(label) >= MIN_FUZZY_LABEL:
            scores[option] = max(scores.get(option, 0.0), _closeness(raw, label))
    if not scores:
        return None
    top = max(scores.values())
    best = [option for option, score in scores.items() if score == top]
    return best[0] if top >= cutoff and len(best) == 1 else None


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _closeness(raw: str, label: str) -> float:
    """0-100: how surely a folded answer names a folded name of at least MIN_FUZZY_LABEL letters."""
    score = max(fuzz.ratio(raw, label), fuzz.ratio(_compact(raw), _compact(label)),  # "Ontaroi", "Pay Pall"
                fuzz.token_sort_ratio(raw, label))  # "supplies office"
    if len(raw) >= MIN_PREFIX and label.startswith(raw):  # "ont", "newfoundland"
        score = max(score, 90)
    if len(raw) >= MIN_FUZZY_LABEL and re.search(rf"(?<!\w){re.escape(raw)}", label):  # "scotia", "edward island"
        score = max(score, 90)
    if len(raw) >= 5:  # the start of a name, misspelt: "benefit delivery"
        score = max(score, fuzz.ratio(raw, label[: len(raw)]) * 0.95)
    if re.search(rf"(?<!\w){re.escape(label)}(?!\w)", raw):  # "delivered in Ontario"
        score = max(score, 90)
    letters = _compact(raw)
    words = [w for w in re.split(r"[\s-]+", label) if w and w not in _INITIALS_SKIP]
    if len(letters) >= 3 and letters.isalpha() and letters == "".join(w[0] for w in words):  # "PEI", "T.-N.-L."
        score = max(score, 95)
    return score


def category_options(policy: LoadedPolicy) -> Dict[str, List[str]]:
    """Each category id with its names and synonyms in every language."""
    out = {}
    for key, category in policy.rules.categories.items():
        out[key] = [*category.name.values(), *(s for words in category.synonyms.values() for s in words)]
    return out


def category_phrases(policy: LoadedPolicy) -> Dict[str, List[str]]:
    """Each category id with its names, synonyms and examples of what staff buy in it."""
    out = category_options(policy)
    for key, category in policy.rules.categories.items():
        out[key] += [e for words in category.examples.values() for e in words]
    return out


_PHRASE_INDEX: Tuple[Optional[str], List[Tuple[str, str, bool]]] = (None, [])


def _category_needles(policy: LoadedPolicy) -> List[Tuple[str, str, bool]]:
    """(phrase as compared, category, shared) for every phrase of category_phrases; shared when
    every telling word of it is used by several categories ("subscription", "abonnement": how a
    thing is bought, not what). Built once per policy version: a guess compares the message with
    some two thousand phrases."""
    global _PHRASE_INDEX
    if _PHRASE_INDEX[0] != policy.version:
        index = _category_words(policy)
        needles = [(_words(_ELIDED.sub("", name)), key,
                    all(len(index.get(word, ())) > 1 for word in _telling_words(name)))
                   for key, names in category_phrases(policy).items() for name in names]
        _PHRASE_INDEX = (policy.version, needles)
    return _PHRASE_INDEX[1]


def guess_category(text: object, policy: LoadedPolicy, language: Optional[str] = None) -> Optional[str]:
    """The category of an item: first a name or synonym that appears in it whole, the longest
    winning ("a USB-C dock" names "USB-C dock": IT hardware); else the category whose words (its
    name, synonyms and the pack's `examples:` of what staff buy in it) the item's words point to
    most, each word weighing more the fewer categories use it ("clés USB de 64 Go": IT hardware).
    None when no word is telling or two categories tie: the question is asked."""
    return _phrase_category(text, policy) or _word_category(text, policy, language)


def guess_category_in_message(item: object, message: object, policy: LoadedPolicy,
                              language: Optional[str] = None) -> Optional[str]:
    """The category of an item, else of the message it came in ("team lunch for the co-op
    students' farewell", "billet de train ... pour la rencontre"): a name or synonym the message
    holds whole, else its words, which must point to one category clearly (twice the weight a
    guess from the item needs)."""
    return (guess_category(item, policy, language) or _phrase_category(message, policy)
            or _word_category(message, policy, language, head_required=False))


_ELIDED = re.compile(r"\b[dlj]'", re.IGNORECASE)  # "papier pour l'imprimante": "papier pour imprimante"


def _phrase_category(text: object, policy: LoadedPolicy) -> Optional[str]:
    haystack = " " + _words(_ELIDED.sub("", clean(text))) + " "
    # A phrase only one category uses beats a shared one ("abonnement numérique au Devoir" is a
    # newspaper, whatever "abonnement" says); then the longest wins.
    best: Tuple[bool, int, Optional[str]] = (False, 0, None)
    for needle, key, shared in _category_needles(policy):
        found = len(needle) >= 2 and f" {needle} " in haystack
        # plurals: "whiteboards" names "whiteboard"
        found = found or len(needle) >= 4 and (f" {needle}s " in haystack or f" {needle}es " in haystack)
        if found and (not shared, len(needle)) > best[:2]:
            best = (not shared, len(needle), key)
    return best[2]


# Words that say nothing of what is bought, in either language.
_NOT_TELLING = frozenset("""
a an the of for to and or with from in on at by our my your their new some few more one two three per each
need needs order buy purchase get renew team teams office bureau service services item items thing things unit units
pack box boxes set sets kit kits piece pieces pair pairs copy copies annual yearly monthly year month day days
le la les un une des du de d l au aux et ou pour par sur avec dans notre nos mon ma mes votre vos leur leurs
annuel annuelle mensuel mensuelle nouveau nouvelle nouveaux nouvelles quelques chaque ensemble boite boites paquet
paquets lot lots annee mois jour jours
""".split())


def _stem(word: str) -> str:
    """A word without its plural ending: "markers" -> "marker", "bureaux" -> "bureau"."""
    if len(word) > 4 and word.endswith(("ies",)):
        return word[:-3] + "y"
    if len(word) > 3 and word[-1] in "sx" and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def _telling_words(text: object) -> List[str]:
    words = re.findall(r"[a-z0-9]+", _words(re.sub(r"\b[dlj]'", " ", clean(text), flags=re.IGNORECASE)))
    stems = [_stem(w) for w in words if w not in _NOT_TELLING and len(w) > 1 and not w.isdigit()]
    return [w for w in stems if w not in _NOT_TELLING]


_WORD_INDEX: Tuple[Optional[str], Dict[str, Dict[str, float]]] = (None, {})


def _category_words(policy: LoadedPolicy) -> Dict[str, Dict[str, float]]:
    """word -> {category: weight}: log(1 + categories / categories using the word). Built once per
    policy version."""
    global _WORD_INDEX
    if _WORD_INDEX[0] == policy.version:
        return _WORD_INDEX[1]
    using: Dict[str, set] = {}
    for key, phrases in category_phrases(policy).items():
        for phrase in phrases:
            for word in _telling_words(phrase):
                using.setdefault(word, set()).add(key)
    count = max(1, len(policy.rules.categories))
    index = {word: {key: math.log(1 + count / len(keys)) for key in keys} for word, keys in using.items()}
    _WORD_INDEX = (policy.version, index)
    return index


# A guess needs at least one word that only one or two categories use.
MIN_CATEGORY_SCORE = 1.5


# Words that hold what is bought after them: "boxes of printer paper", "une boîte de stylos".
_CONTAINERS = re.compile(r"^.*?\b(?:box|boxes|pack|packs|set|sets|case|cases|ream|reams|bottle|bottles|bag|bags|"
                         r"pair|pairs|roll|rolls|carton|cartons|dozen|lot|boite|boites|paquet|paquets|ensemble|"
                         r"ensembles|caisse|caisses|rame|rames|douzaine|sac|sacs)\s+(?:of|de|d)\s+")
_PHRASE_END = re.compile(r"\s(?:for|from|to|with|at|by|pour|avec|chez|a|au|aux|sur|dans)\s.*$")


def _head(text: object, language: Optional[str]) -> Optional[str]:
    """The word naming what is bought: the last of the noun phrase in English ("ergonomic chairs":
    chairs), the first in French ("imprimante laser Brother": imprimante), after a container
    ("boxes of printer paper": paper)."""
    phrase = _words(re.sub(r"\b[dlj]'", "de ", clean(text), flags=re.IGNORECASE))
    phrase = _PHRASE_END.sub("", _CONTAINERS.sub("", phrase))
    words = [_stem(w) for w in re.findall(r"[a-z0-9]+", phrase)
             if not w.isdigit() and w not in _NOT_TELLING and _stem(w) not in _NOT_TELLING]
    if not words:
        return None
    return words[0] if language == "fr" else words[-1]


def _word_category(text: object, policy: LoadedPolicy, language: Optional[str] = None,
                   head_required: bool = True) -> Optional[str]:
    """By the words: the head of the item must be a word some category uses (so "ergonomic chairs"
    is not IT hardware for the "ergonomic keyboard" it shares a word with), and counts double.
    A whole message has no head: its words must score twice as high."""
    index = _category_words(policy)
    head = _head(text, language) if head_required else None
    if head_required and (head is None or head not in index):
        return None
    scores: Dict[str, float] = {}
    for word in set(_telling_words(text)):
        for key, weight in index.get(word, {}).items():
            scores[key] = scores.get(key, 0.0) + weight * (2 if word == head else 1)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, score = ranked[0]
    if score < MIN_CATEGORY_SCORE * (1 if head_required else 2) or (len(ranked) > 1 and ranked[1][1] >= score):
        return None
    return best


def _words(text: object) -> str:
    """Folded text with punctuation as spaces, the same for a sentence and a policy name."""
    return folded(re.sub(r"[^\w\s-]", " ", clean(text)))


def province_options(policy: LoadedPolicy) -> Dict[str, List[str]]:
    return {code: list(j.name.values()) for code, j in policy.rules.tax.jurisdictions.items()}


def cost_centre_options(policy: LoadedPolicy) -> Dict[str, List[str]]:
    return {code: list(c.name.values()) for code, c in policy.rules.approval.cost_centres.items()}


def classification_options(policy: LoadedPolicy) -> Dict[str, List[str]]:
    return {key: list(names.values()) for key, names in policy.rules.data_classification.levels.items()}


def payment_options(policy: LoadedPolicy, allowed: Iterable[str]) -> Dict[str, List[str]]:
    methods = policy.rules.payment.methods
    return {key: list(methods[key].name.values()) for key in allowed if key in methods}


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
