"""What a purchase's opening message says, read the way staff write it.

    read_opening("need 3 boxes of printer paper from walmart at 49.97 each, CC 100200", policy, "en")
      -> Opening(values={"quantity": 3, "supplier": "walmart", "unit_price": "49.97",
                         "cost_centre": "100200"}, asked={})

The NLU's entities find much of a first message, but not the readings people actually write: a
total rather than a unit price ("maybe $40 total", "$1,800 flat fee"), a rate and a count ("10
hours at $95/hour" is 10 at $95), a yearly price, number words ("a dozen", "trois"), a cost
centre by its number or its team's name ("for the Digital Service team"), a delivery city ("our
Ottawa office" is Ontario), a supplier in lower case ("from walmart"). The purchase form asks
this module when a conversation's first message starts it (dialogues/actions/purchase_form.py),
and keeps what the entities missed. Every reading is shown back in the summary, where it can be
changed; a reading that could go two ways ("5 keyboards, $650": each or in all?) is not kept, so
the question is asked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, List, Optional, Tuple

from policies import LoadedPolicy
from policies.money import AmountError, parse_amount

from . import answers
from .places import province_of_place
from .suppliers import known_supplier

# An amount as typed: "$89.99", "89,99 $", "1 234,50 $", "$1,800", "1,200" (a sign or a money word
# makes it money; a bare number only with a price word around it).
_AMOUNT = re.compile(
    r"(?P<before>(?:CA)?\$\s?)?(?P<number>\d{1,3}(?:[ \u00a0\u202f,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"(?P<after>\s?\$|\s?(?:dollars?|bucks|CAD)\b)?", re.IGNORECASE)
_EACH = re.compile(r"^\s*(?:each|ea\b|ch\.|chaque\b|apiece|a piece|par (?:utilisateur|usager|si[eè]ge|poste|analyste|"
                   r"employ[ée]e?|participant|personne|membre)|per (?:analyst|developer|employee|participant|member)|"
                   r"per (?:unit|item|piece|person|box|pack|licen[cs]e|seat|user|ticket|head)|"
                   r"/\s?(?:unit|ea|each|box|pack|person|seat|user|ticket)|a (?:box|pack|unit|seat|"
                   r"ticket|licen[cs]e|head)|chacune?|l'unit[ée]|par (?:unit[ée]|personne|bo[iî]te|billet|"
                   r"participant|licence|pi[eè]ce|nuit|mot|jour)|la pi[eè]ce|le billet|la bo[iî]te|le paquet|"
                   r"la rame|la nuit|le mot|la paire|le lot|l'exemplaire|pi[eè]ce|per (?:night|word|copy|pair)|"
                   r"a (?:night|word|copy|"
                   r"pair)|/\s?(?:night|word|nuit|mot))", re.IGNORECASE)
_UNIT_BEFORE = re.compile(r"(?:unit price|price per unit|per unit|prix unitaire|prix à l'unité|each at|@)\s*:?\s*$",
                          re.IGNORECASE)
_TOTAL_AFTER = re.compile(r"^\s*(?:total|in total|all in|altogether|for (?:all|the lot|everything)|flat|"
                          r"(?:flat|one-time|fixed) fee|au total|en tout|pour le tout|forfait(?:aire)?|"
                          r"tout compris)\b", re.IGNORECASE)
_TOTAL_BEFORE = re.compile(r"(?:total(?: of| is| cost| price)?|in total|altogether|flat fee of|fee of|budget of|"
                           r"fixed price(?: of)?|flat rate(?: of)?|prix fixe(?: de)?|forfait|prix forfaitaire(?: de)?|"
                           r"au total|en tout|total de|forfait de|budget de)\s*:?\s*(?:about|around|roughly|maybe|"
                           r"environ|approx\.?)?\s*$", re.IGNORECASE)
_RATE_AFTER = re.compile(r"^\s*(?:/\s?(?:hr|hour|h|day|jour|j)\b|per (?:hour|day)|an hour|a hour|a day|hourly|daily|"
                         r"de l'heure|l'heure|/\s?heure|par (?:heure|jour)|la journée|le jour)", re.IGNORECASE)
# A monthly price: the price of one month ("$450/month"; "12 mois à 650 $/mois" is 12 at 650).
_MONTHLY_AFTER = re.compile(r"^\s*(?:/\s?(?:month|mo|mois)\b|per month|a month|monthly|par mois|le mois|mensuel)",
                            re.IGNORECASE)
_MONTH_COUNT = re.compile(r"\b(\d{1,2})\s*(?:months?|mois)\b", re.IGNORECASE)
_HOURS = re.compile(r"\b(\d{1,4})\s*(?:hours?|hrs?|h\b|heures?)", re.IGNORECASE)
_DAY_COUNT = re.compile(r"\b(\d{1,3})[- ]?(?:days?|jours?)\b", re.IGNORECASE)
_YEARLY_AFTER = re.compile(r"^\s*(?:a year|per year|/\s?(?:yr|year|an)\b|annually|yearly|per annum|par (?:an|année)|"
                           r"l'an|annuellement|pour l'année|for the year|for a year)", re.IGNORECASE)

# Number words before what is bought ("a dozen", "two", "trois", "a couple of").
_COUNT_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "fifty": 50, "hundred": 100,
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30, "cinquante": 50, "cent": 100,
}
_DOZEN = re.compile(r"\b(?:(?P<n>\w+)\s+)?(?:dozens?|douzaines?)\b", re.IGNORECASE)
_COUPLE = re.compile(r"\b(?:a couple of|a pair of|une paire de)\b", re.IGNORECASE)
# "x 2", "2x", but not a size ("11 x 17", "4x6").
_TIMES = re.compile(r"(?:(?<!\d)(?<!\d )\bx\s?(\d{1,4})\b|\b(\d{1,4})\s?x\b(?!\s?\d))", re.IGNORECASE)

# Where a supplier's name starts, and what ends it.
_SUPPLIER_START = re.compile(r"\b(?:from|at|via|through|on|off|chez|aupr[eè]s de|de chez|avec|pay[ée]e?s? à|paid to|"
                             r"(?:supplier|vendor|fournisseur|vendeur|marchand)\s*:)\s+", re.IGNORECASE)
_SUPPLIER_STOP = re.compile(
    r"\s*(?:[,;!?()\[\]:]|\.(?!\w)|\s[-/]\s|\$|\d(?![a-zà-ÿ])|"
    r"\b(?:at|for|to|with|by|in|on|about|around|each|the team|charged?|"
    r"cost|costs|priced|under|pour|à|a|au|aux|et|avec|par|environ|dans|sur|centre(?= de co)|cc|qty|please|thanks|pls|"
    r"delivered|shipped|livr[ée]e?s?|today|tomorrow|next|this|asap|because|since|so|parce|car|puisque)\b)",
    re.IGNORECASE)
_NOT_SUPPLIERS = {"the", "our", "my", "a", "an", "le", "la", "les", "un", "une", "des", "notre", "mon", "ma",
                  "home", "work", "office", "bureau", "the office", "least", "most", "once", "first", "last",
                  "amazon prime day", "the moment", "the end", "ottawa", "gatineau", "toronto", "montreal",
                  "montréal", "noon", "midi"}

_CC_NUMBER = re.compile(r"(?<!\d)(\d{5,7})(?!\d)")


@dataclass
class Opening:
    """What the opening message says: slot -> value, in the form the slot keeps (quantity an int,
    unit_price a decimal string, cost_centre and province the pack's codes, the others text)."""

    values: Dict[str, object] = field(default_factory=dict)
    # Readings that could go two ways, left for the question: slot -> why.
    unsure: Dict[str, str] = field(default_factory=dict)
    # Readings kept only when the NLU found nothing for the answer: a count in digits before a
    # noun ("Commande de 20 cartables"), an item that no "I need" introduces ("Team lunch for ...").
    fallback: Dict[str, object] = field(default_factory=dict)
    # Readings said so plainly that they win over the NLU's ("from Staples", not its "Logitech").
    sure: set = field(default_factory=set)


def read_opening(text: str, policy: LoadedPolicy, language: str = "en", locale: Optional[str] = None) -> Opening:
    raw = answers.clean(text)
    opening = Opening()
    if not raw or raw.startswith("/"):
        return opening  # nothing typed, or a button's or a slash command's intent ("/start_purchase")
    locale = locale or ("fr_CA" if language == "fr" else "en_CA")
    spans_taken: List[Tuple[int, int]] = []

    cost_centre = _cost_centre(raw, policy, spans_taken)
    if cost_centre:
        opening.values["cost_centre"] = cost_centre
    province = _province(raw, policy)
    if province:
        opening.values["province"] = province
    quantity = _quantity(raw)
    digit_count = _digit_count(raw, spans_taken)
    _amounts(raw, locale, quantity if quantity is not None else digit_count, opening, spans_taken)
    if "quantity" not in opening.values and quantity is not None:
        opening.values["quantity"] = quantity
    elif "quantity" not in opening.values and digit_count is not None:
        if re.match(rf"{digit_count}\s", _GREETING.sub("", raw)):
            opening.values["quantity"] = digit_count  # "3 YubiKey 5 NFC keys": the count opens the message
        else:
            opening.fallback["quantity"] = digit_count
    supplier, plain = _supplier(raw)
    usual = known_supplier(raw)
    if supplier and usual and supplier.casefold() in usual.casefold() and len(usual) > len(supplier):
        supplier = usual  # "via Rail" of "VIA Rail": the usual supplier's whole name
    if supplier:
        opening.values["supplier"] = supplier
        if plain:
            opening.sure.add("supplier")
    else:
        supplier = _supplier_alone(raw, policy) or _supplier_named(raw, policy)
        if supplier:
            opening.values["supplier"] = supplier
        elif usual:
            opening.fallback["supplier"] = usual  # "..., $31.47 all in, staples": a usual supplier, no cue
    when = _needed_by(raw)
    if when:
        opening.fallback["needed_by"] = when
    why = _justification(raw)
    if why:
        opening.values["justification"] = why
    item, singular = _item(raw)
    # "... - Best Buy - Ottawa office": a place, not the thing (the seller's name may be the thing
    # too: "Abonnement annuel à l'Acadie Nouvelle", "... à Canva Pro")
    if item and weak_item(item, raw, usual_sellers=False):
        item, singular = None, False
    if item:
        opening.values["item"] = item
    else:
        item, singular = _item_first(raw)
        if item and weak_item(item, raw, usual_sellers=False):
            item, singular = None, False
        if item:
            opening.fallback["item"] = item
    if item and singular and "quantity" not in opening.values and quantity is None and digit_count in (None, 1):
        opening.values["quantity"] = 1  # "a webcam", "un cours": one
    return opening


# -- cost centre, province ------------------------------------------------------------------------

def _cost_centre(raw: str, policy: LoadedPolicy, taken: List[Tuple[int, int]]) -> Optional[str]:
    centres = policy.rules.approval.cost_centres
    for match in _CC_NUMBER.finditer(raw):
        if match.group(1) in centres:
            taken.append(match.span())
            return match.group(1)
    folded = " " + answers._words(raw) + " "
    best: Tuple[int, Optional[str]] = (0, None)
    for code, names in answers.cost_centre_options(policy).items():
        for name in names:
            needle = answers._words(name)
            if len(needle) >= 4 and f" {needle} " in folded and len(needle) > best[0]:
                best = (len(needle), code)
            initials = "".join(w[0] for w in needle.split() if w not in answers._INITIALS_SKIP)
            if len(initials) >= 3 and re.search(rf"\b{re.escape(initials.upper())}\b", raw) and best[0] < 3:
                best = (3, code)
    return best[1]


def _province(raw: str, policy: LoadedPolicy) -> Optional[str]:
    folded = " " + answers._words(raw) + " "
    for code, names in answers.province_options(policy).items():
        for name in names:
            if len(name) >= 4 and f" {answers._words(name)} " in folded:
                return code
    place = province_of_place(raw)
    if place and place in policy.rules.tax.jurisdictions:
        return place
    return None


# -- quantity and amounts --------------------------------------------------------------------------

def _quantity(raw: str) -> Optional[int]:
    """A count the entities may have missed: "a dozen", "x 2", "a couple of", a number word
    before a noun. None when the message gives no count in words (a digit count is the NLU's)."""
    dozen = _DOZEN.search(raw)
    if dozen:
        n = (dozen.group("n") or "").casefold()
        times = int(n) if n.isdigit() else _COUNT_WORDS.get(n, 1)
        return 12 * times
    by = _TIMES.search(raw)
    if by:
        return int(by.group(1) or by.group(2))
    if _COUPLE.search(raw):
        return 2
    for word in re.findall(r"\b[a-zà-ÿ]+\b", raw.casefold()):
        if word in _COUNT_WORDS:
            return _COUNT_WORDS[word]
    return None


# The months, as staff abbreviate them in both languages.
_MONTHS = (r"(?:jan(?:uary|vier)?|feb(?:ruary)?|f[ée]v(?:rier)?|mar(?:ch|s)?|apr(?:il)?|avr(?:il)?|may|mai|june?|juin|"
           r"july?|juil(?:let)?|aug(?:ust)?|ao[uû]t|sept?(?:ember|embre)?|oct(?:ober|obre)?|nov(?:ember|embre)?|"
           r"d[ée]c(?:ember|embre)?)\b\.?")
_DIGIT_COUNT = re.compile(r"(?<![\d$.,])(?<!\d )(\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+|\d{1,4})\s+"
                          r"(?!(?:(?:hours?|hrs?|heures?|days?|jours?|dollars?|\$|bucks|years?|ans?|months?|mois|weeks?|semaines?|am|pm|h|"
                          r"count|ct|sheets?|feuilles|pages|go|gb|to|tb|mb|mo|po|inch|inches|pouces?|cm|mm|ml|l|kg|"
                          r"g)\b|" + _MONTHS + r"))[a-zà-ÿ]", re.IGNORECASE)


_MONTH_BEFORE = re.compile(r"(?i)\b" + _MONTHS + r"\s+$")


def _digit_count(raw: str, taken: List[Tuple[int, int]]) -> Optional[int]:
    """A count in digits before a noun ("5 ergonomic keyboards"), to tell a unit price from a
    total; the NLU's quantity entity fills the answer itself."""
    for match in _DIGIT_COUNT.finditer(raw):
        count = int(re.sub(r"\D", "", match.group(1)))
        if not count or 1900 <= count <= 2099 or _MONTH_BEFORE.search(raw[:match.start()]):
            continue  # "the 2027 Almanac", "ISO 27001:2022 standard", "before the Jan 15 launch"
        if not any(a <= match.start() < b for a, b in taken):
            return count
    return None


def _amounts(raw: str, locale: str, quantity: Optional[int], opening: Opening, taken: List[Tuple[int, int]]) -> None:
    """The unit price (and the count a rate gives) from the amounts of the message."""
    found = []
    for match in _AMOUNT.finditer(raw):
        if any(a <= match.start() < b for a, b in taken):
            continue
        money = bool(match.group("before") or match.group("after"))
        before, after = raw[max(0, match.start() - 40):match.start()], raw[match.end():match.end() + 40]
        priced_after = bool(_EACH.match(after) or _TOTAL_AFTER.match(after) or _RATE_AFTER.match(after)
                            or _YEARLY_AFTER.match(after) or _MONTHLY_AFTER.match(after))
        if not money and not priced_after and re.match(r"\s*[a-zà-ÿ]", after, re.IGNORECASE):
            continue  # "pour 2 nuits", "for 3 designers": a count
        if not money and not (priced_after or _UNIT_BEFORE.search(before) or _TOTAL_BEFORE.search(before)
                              or re.search(r"\b(?:at|for|à|pour|price|prix|cost|co[uû]te?)\s*$", before, re.I)):
            continue
        try:
            value = parse_amount(match.group("number"), locale=locale)
        except AmountError:
            try:
                value = parse_amount(match.group("number"), locale="en_CA" if locale != "en_CA" else "fr_CA")
            except AmountError:
                continue
        found.append((value, before, after))
    if not found:
        return
    if len(found) > 1:
        # Two prices ("$89.99 each, about $270 in all"): the one said per unit wins; else ask.
        per_unit = [f for f in found if _EACH.match(f[2]) or _UNIT_BEFORE.search(f[1]) or _RATE_AFTER.match(f[2])
                    or _MONTHLY_AFTER.match(f[2])]
        if len(per_unit) != 1:
            opening.unsure["unit_price"] = "several amounts"
            return
        found = per_unit
    value, before, after = found[0]
    rate = _RATE_AFTER.match(after)
    if rate:
        daily = re.search(r"day|jour|j\b", rate.group(0), re.IGNORECASE)
        count = (_DAY_COUNT if daily else _HOURS).search(raw)
        if count:
            opening.values["quantity"] = int(count.group(1))
        opening.values["unit_price"] = _money(value)
        return
    if _MONTHLY_AFTER.match(after):
        months = _MONTH_COUNT.search(raw)
        if months and quantity in (None, int(months.group(1))):
            opening.values["quantity"] = int(months.group(1))
        opening.values["unit_price"] = _money(value)
        return
    if _EACH.match(after) or _UNIT_BEFORE.search(before) or _YEARLY_AFTER.match(after) \
            or _EACH.match(re.sub(r"^\s*/\s?(?:month|mo|mois|year|yr|an)\b", "", after)):
        opening.values["unit_price"] = _money(value)
        return
    total = _TOTAL_AFTER.match(after) or _TOTAL_BEFORE.search(before)
    if quantity in (None, 1):
        opening.values["unit_price"] = _money(value)
        if total and quantity is None:
            opening.values["quantity"] = 1
        return
    if total:
        unit = (value / quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if unit * quantity == value:
            opening.values["unit_price"] = _money(unit)
        else:
            opening.unsure["unit_price"] = "a total that does not divide evenly"
        return
    if re.search(r"(?:\bat|@|à|\d\s?x)\s*$", before, re.IGNORECASE):
        opening.values["unit_price"] = _money(value)  # "3 at $40", "4 x 195 $"
        return
    opening.unsure["unit_price"] = "each or in all"


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


# -- supplier --------------------------------------------------------------------------------------

_PLAIN_START = re.compile(r"(?i)(?:from|chez|de chez|via|through|pay[ée]e?s? à|paid to|supplier|vendor|fournisseur)\b")
_MONTH = re.compile(r"(?i)" + _MONTHS + r"(?:\s+\d{1,2})?$")


def _supplier(raw: str) -> Tuple[Optional[str], bool]:
    """The supplier after "from", "chez", "at", ...: the name and whether the cue is a plain one
    ("from Staples"; "on" and "at" also start a date, a topic or a place)."""
    for start in _SUPPLIER_START.finditer(raw):
        cue = start.group(0).strip()
        if cue in ("On", "VIA") or (cue.casefold() == "on" and not raw[start.end():start.end() + 1].isupper()):
            continue  # "On a besoin de...", "on digital identity", "VIA Rail": no cue
        rest = raw[start.end():]
        stop = _SUPPLIER_STOP.search(rest)
        name = rest[: stop.start()] if stop else rest
        name = re.sub(r"^(?:the|The)\s+(?=[A-Z])", "", name.strip(" '\""))  # "from the Standards Council ..."
        words = name.split()
        if not words or len(words) > 5 or name.casefold() in _NOT_SUPPLIERS:
            continue
        if words[0].casefold() in _NOT_SUPPLIERS and not words[0][:1].isupper():
            continue
        if province_of_place(name) or re.fullmatch(r"[\d\W]+", name) or _MONTH.match(name):
            continue
        return name, bool(_PLAIN_START.match(cue))
    return None, False


# A name standing alone between commas: "12 notebooks, Staples, $6.49 each", "..., $32, Uline".
_NAME_ALONE = re.compile(r"^(?=\S*[A-Za-zÀ-ÿ])[A-Z0-9][\w'&.-]*(?:\s+(?:&|and|of|the|et|en|de|du|des|la|le|inc\.?|"
                         r"ltd\.?|ltée|co\.?|"
                         r"[A-Z0-9][\w'&.-]*)){0,3}$")
_NOT_NAMES = {"thanks", "thank you", "thx", "merci", "please", "pls", "svp", "asap", "urgent", "hi", "hello",
              "bonjour", "salut", "cheers", "ok", "yes", "no", "oui", "non", "monday", "tuesday", "wednesday",
              "thursday", "friday", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "today", "tomorrow",
              "aujourd'hui", "demain", "cad", "tps", "tvh", "hst", "gst"}


def _team_names(policy: LoadedPolicy) -> set:
    """The cost centres' team names as compared: a team is no supplier."""
    return {answers._words(name) for names in answers.cost_centre_options(policy).values() for name in names}


def _supplier_alone(raw: str, policy: LoadedPolicy) -> Optional[str]:
    """A supplier named on its own, with no "from" or "chez": a capitalised name of one to four
    words between commas, beside an amount or ending the message, that is no place, team, cost
    centre or courtesy."""
    # A comma between digits is a French decimal ("6,49 $"), not a separator.
    segments = [part.strip(" .!?") for part in re.split(r"(?<!\d),|,(?!\d)|;|\s-\s|(?<=[.!?])\s+", raw)]
    teams = _team_names(policy)
    for index, segment in enumerate(segments[1:], start=1):
        if not _NAME_ALONE.match(segment) or _CC_NUMBER.search(segment):
            continue
        folded = answers._words(segment)
        if segment.casefold() in _NOT_NAMES or folded in _NOT_NAMES or segment.casefold() in _NOT_SUPPLIERS \
                or folded in teams or province_of_place(segment) or re.fullmatch(r"(?i)cc\s?\d*", segment):
            continue
        beside = segments[index - 1:index + 2]
        if index == len(segments) - 1 or any(_AMOUNT.search(part) and re.search(r"\$|dollars?|bucks", part, re.I)
                                             for part in beside if part is not segment):
            return segment
    return None


# A capitalised name after a weaker cue: "with Porter", "w/ VIA Rail", "de Première Moisson",
# "au Lord Elgin", "traiteur Saveurs du Monde", or before "quoted": "Bloom Research quoted $1,200".
_NAMED_BEFORE = re.compile(r"(?:\b(?:with|w/|by|pay|payer|sur|de|du|des|au|aux|at the|traiteur|caterer|hotel|hôtel|"
                           r"restaurant|the firm|la firme|l'entreprise|the company)|\b[dl]'|w/)\s*", re.IGNORECASE)
_CAPITALISED = re.compile(r"(?:[A-ZÀ-Ý][\w'&.-]*|[A-Z0-9]{2,}[\w'&.-]*)(?:\s+(?:&|and|of|the|et|en|de|du|des|la|le|"
                          r"inc\.?|ltd\.?|ltée|[A-ZÀ-Ý0-9][\w'&.-]*)){0,4}")
_NAMED_AFTER = re.compile(r"(?P<name>" + _CAPITALISED.pattern + r")\s+(?:quoted|charges|offers|a soumis|propose|"
                          r"demande|a fait une soumission|is offering)\b")
_NOT_NAME_WORDS = {"i", "we", "the", "our", "my", "it", "this", "cc", "le", "la", "les", "je", "on", "nous",
                   "mon", "ma", "notre", "un", "une", "des", "de", "du", "ce", "cette"}


def _only_a_place(name: str) -> bool:
    """A place and nothing more ("Moncton", "Saint-Boniface"), not a firm named after one."""
    return bool(province_of_place(name)) and len(name.split()) <= 2 and not re.search(
        r"(?i)\b(?:gallery|inc|ltd|lt[ée]e|co|catering|traiteur|studio|caf[ée]|pizza|hotel|h[ôo]tel|centre|center)\b",
        name)


def _supplier_named(raw: str, policy: LoadedPolicy) -> Optional[str]:
    teams = _team_names(policy)
    candidates = [m.group("name") for m in _NAMED_AFTER.finditer(raw)]
    for cue in _NAMED_BEFORE.finditer(raw):
        after = _CAPITALISED.match(raw, cue.end())
        if after and (len(after.group(0).split()) > 1 or not re.match(r"(?i)(?:de|du|des|au|aux|[dl]')\s*$",
                                                                     cue.group(0))):
            candidates.append(after.group(0))  # "de Première Moisson", not "le départ de Lucie"
    for name in candidates:
        name = re.sub(r"\s+(?:&|and|of|the|et|en|de|du|des|la|le)$", "", name.strip(" '\".,")).strip()
        first = name.split()[0].casefold() if name.split() else ""
        if not name or first in _NOT_NAME_WORDS or name.casefold() in _NOT_NAMES or name.casefold() in _NOT_SUPPLIERS \
                or answers._words(name) in teams or _only_a_place(name) or _CC_NUMBER.search(name) \
                or _MONTH.match(name):
            continue
        return name
    return None


# The days a delivery is asked for ("Thursday's session", "demain"), read by _needed_by too.
_WORKDAYS = r"tomorrow|demain|monday|tuesday|wednesday|thursday|friday|lundi|mardi|mercredi|jeudi|vendredi"
_DAY_OR_MONTH = re.compile(r"(?i)(?:" + _WORKDAYS + r"|saturday|sunday|samedi|dimanche|today|aujourd'hui)$|"
                           + _MONTHS + r"$")


def weak_supplier(value: object, policy: LoadedPolicy) -> bool:
    """Whether a supplier the NLU found names no one who sells: a day ("Saturday Dec 5"), a word
    such as "registration" or "service", a team of the pack ("Service" of "Digital Service")."""
    if not isinstance(value, str):
        return False
    name = answers.clean(value).strip(" .,:;-–—")
    folded = answers._words(name)
    if not name or _DAY_OR_MONTH.match(name) or name.casefold() in _NOT_SUPPLIERS:
        return True
    if folded in {"registration", "inscription", "service", "services", "subscription", "abonnement"}:
        return True
    return any(f" {folded} " in f" {team} " for team in _team_names(policy))


# -- item ------------------------------------------------------------------------------------------

_WANT = re.compile(
    r"(?:\b(?:(?:need|want|like|have) to (?:order|buy|purchase|get|renew|book|hire|pay for|subscribe to)|"
    r"register (?:\w+ )?(?:\d+ |\w+ )?(?:people|analysts|staff|employees|colleagues|of us|us|me|myself)? ?for(?: the)?|"
    r"registering for(?: the)?|sign (?:\w+ )?up for(?: the)?|enrol(?:l)?(?: \w+)? in(?: the)?|take the|lease|leasing|"
    r"(?:order|item|request|purchase|achat|article|commande)\s?:|"
    r"expense|put|(?:needs?|wants?|requires?|order|buy|purchase|renew|hire|(?<!our )(?<!the )(?<!a )(?<!my )book|"
    r"subscribe to|buying|getting|ordering|"
    r"purchasing|renewing)|"
    r"i'?d like(?! to)|can i get|could i get|"
    r"requesting:?|request for|"
    r"il me faut|il me faudrait|il nous faut|il nous faudrait|il faut|il faudrait|faudrait(?: commander| acheter)?|"
    r"faut que je commande|passer(?= (?:la|le|l')\s*)|inscription (?:au|aux|à la|à l')|"
    r"inscrire \w+ (?:\w+ )?(?:au|aux)|"
    r"(?:je |on |nous )?(?:veux|veut|voudrais|voudrait|voudrions|aimerais|aimerait|aimerions|dois|doit|devons) "
    r"(?:commander|acheter|renouveler|"
    r"réserver|embaucher|inscrire \w+ (?:\w+ )?à)|commander|acheter|renouveler|j'ach[eè]te|je commande|"
    r"commande de|achat de|achat :|achat urgent :|inscription à|inscrire \w+ (?:\w+ )?à)\s+|"
    r"\bbesoin d'|\bbesoin de\s+|"
    r"^(?:(?:hi|hello|hey|bonjour|salut|allo)(?: there| all| team| everyone| tout le monde)?[,!.]?\s+)?"
    r"(?=(?:a|an|one|un|une|\d{1,4})\s+[a-zà-ÿ]))",
    re.IGNORECASE)
_ITEM_STOP = re.compile(
    r"\s*(?:[,;!?()\[\]:]|\.(?!\w)|\s[-/]\s|\b(?:so|because|parce que|parce qu'|afin de|afin que|with|avec)\b|\$|"
    r"\d+(?:[.,]\d+)?\s?\$|\bto\s+(?!(?:hdmi|usb|vga|dvi|ethernet|lightning|"
    r"displayport)\b)|\b(?:from|at|for|through|via|on|chez|pour|à|au|"
    r"aupr[eè]s|charged?|to be|delivered|livr[ée]e?s?|please|thanks|merci|asap|cost|costs|it's|its|which|that|"
    r"qui|dans)\b)", re.IGNORECASE)
_LEADING = re.compile(r"^(?:(?:a|an|the|some|a few|few|several|quelques|plusieurs|our|my|new|another|un|une|des|du|"
                      r"de la|le|la|les|notre|nos|mon|ma|mes|nouveau|nouvelle|\d{1,4}|[a-z]+'s)\s+|[dl]')+",
                      re.IGNORECASE)


# Words for "something" that name no item: the item question is asked.
_VAGUE_ITEMS = {"stuff", "some stuff", "things", "thing", "items", "item", "a few things", "supplies", "something",
                "trucs", "des trucs", "choses", "des choses", "articles", "quelque chose", "it", "them", "ca", "cela"}


# "a box of pens", "a few pens": one box, some pens, but how many pens is the question.
_CONTAINER_WORDS = {"few", "couple", "pair", "dozen", "bunch", "lot", "box", "pack", "set", "case", "douzaine", "paire",
                    "boîte", "boite", "paquet", "ensemble"}
_SINGULAR = re.compile(r"^(?:a|an|one|un|une|a single|a new|une nouvelle|un nouveau)\s+(?!(?:"
                       + "|".join(sorted(_CONTAINER_WORDS)) + r")\b)", re.IGNORECASE)


def _trimmed(phrase: str) -> Tuple[str, bool]:
    """An item's words without the article, count or possessive before them and the preposition
    left after them, and whether they were said as one ("a webcam")."""
    singular = bool(_SINGULAR.match(phrase))
    phrase = _LEADING.sub("", phrase).strip()
    phrase = re.sub(r"(?i)\s+[x×]\s?\d{1,4}$", "", phrase)  # "keyboards x3": the count is read apart
    return re.sub(r"(?i)(?:\s+(?:de|du|des|of|à|at|for|pour|d'))+$", "", phrase).strip(), singular


def _item(raw: str) -> Tuple[Optional[str], bool]:
    """What is bought, after "I need to order", "il me faut", ...: the words up to the supplier,
    the price or the reason, and whether it was said as one ("a webcam"). (None, False) when the
    message has no such phrase."""
    for want in _WANT.finditer(raw):
        rest = raw[want.end():]
        stop = _ITEM_STOP.search(rest)
        phrase = (rest[: stop.start()] if stop else rest).strip()
        phrase = re.sub(r"(».|»).*$", "»", phrase)  # "webinaire « Rédaction claire » de l'Institut"
        phrase = re.sub(r"(?i)^(?:to\s+)?(?:r[ée]server|acheter|commander|renouveler|order|buy|get|book|purchase|"
                        r"hire|rent|renew)\s+(?:(?:me|us|nous|moi)\s+)?", "", phrase)
        phrase, singular = _trimmed(phrase)
        if re.match(r"(?i)(?:to|a purchase|an order|something|un achat|quelque chose|acheter|commander)\b", phrase):
            continue
        if answers.folded(phrase) in _VAGUE_ITEMS:
            continue
        words = [w for w in phrase.split() if w not in ("«", "»")]
        if 1 <= len(words) <= (10 if "«" in phrase or '"' in phrase else 8) and any(ch.isalpha() for ch in phrase):
            return phrase, singular
    return None, False


# What the NLU sometimes takes for the item but names nothing bought: a unit of time or of people,
# a request's label, a fragment ending on a preposition ("couple of", "rames à").
_WEAK_ITEM = re.compile(r"(?i)^(?:(?:hours?|hrs?|heures?|days?|jours?|nights?|nuits?|users?|people|personnes?|re|"
                        r"words?|mots?|cases?|seats?|places?|titles?|licen[cs]es|inscriptions?|copies|exemplaires?|"
                        r"participants?|order|request|training request|registering|registration|inscription|"
                        r"paquets?|packs?|boxes|bo[iî]tes?|cartons?|"
                        r"purchase|achat|commande|want|need|besoin|items?|articles?)|.*\b(?:of|à|de|du|des|for|pour|"
                        r"au|aux|a|the|le|la|les))$")


_PRONOUNS = {"it", "this", "that", "them", "these", "those", "one", "ça", "ca", "cela", "ceci", "ce", "le", "la", "les",
             "en", "y", "lui", "eux", "ok", "okay"}


def weak_item(value: object, message: str = "", supplier: object = None, usual_sellers: bool = True) -> bool:
    """Whether an item the NLU found names nothing bought: "hours", "couple of", "Registering",
    "paquets", a pronoun ("It's $240/yr"), "ok", a first name after "de" or "for" ("la retraite de
    Lucie"), a place ("- Ottawa office"), or who sells it ("Enterprise", the supplier named)."""
    if not isinstance(value, str):
        return False
    item = answers.clean(value).strip(" .,:;-–—")
    folded = item.casefold()
    if not item or _WEAK_ITEM.match(item) or folded in _PRONOUNS or _only_a_place(item):
        return True
    said_by = answers.clean(supplier).casefold() if isinstance(supplier, str) else ""
    # "Enterprise", or "Fleurs de Lys" of "Fleurs de Lys florist"; but "pizza" of "Gabriel's Pizza" is bought
    if said_by and (folded == said_by or folded in said_by and len(item.split()) > 1) \
            or usual_sellers and known_supplier(item) == item:
        return True
    return bool(re.fullmatch(r"[A-ZÀ-Ý][a-zà-ÿ]+", item)) and bool(
        re.search(rf"\b(?:de|d'|of|for|pour|à|to)\s*{re.escape(item)}\b", message))


# "a", "un", "d'une", "the", maybe with a price or "new" between: "a $50 gift card", "une nouvelle".
_ONE_BEFORE = re.compile(r"(?i)(?:\b(?:a|an|one|un|une|the|le|la)|\b[dl]'une?|\bl')\s*"
                         r"(?:(?:CA)?\$\s?\d[\d.,]*\s*|\d[\d.,]*\s?\$\s*|(?:new|nouvelle|nouveau|single|seule?)\s+)?$")


def said_as_one(text: str, item: object) -> bool:
    """Whether the message names its item with "a", "an", "un", "une" ("a $50 gift card", "Achat
    d'une licence Adobe", "I want to take the PSM exam") and gives no count anywhere: one of it."""
    raw = answers.clean(text)
    if not isinstance(item, str) or not item.strip() or _quantity(raw) is not None or _digit_count(raw, []) is not None:
        return False
    at = raw.casefold().find(item.casefold().strip())
    if at < 0:
        return False
    first_word = item.split()[0].casefold()
    return bool(_ONE_BEFORE.search(raw[max(0, at - 30):at])) and not first_word.endswith("s") \
        and first_word not in _CONTAINER_WORDS  # "a box of pens": how many pens is the question


# A message that opens with what is bought ("Team lunch for our 12 co-op students", "billet de
# train Montréal-Québec pour la rencontre FPT, 89 $"): its first words, after a greeting.
_GREETING = re.compile(r"^(?:(?:(?:hi|hello|hey)(?:\s+(?:there|all|team|everyone|folks))?|tout le monde|"
                       r"good (?:morning|afternoon)|morning|bonjour|bonsoir|salut|allo|"
                       r"urgent|please|pls|svp|quick one|question)\b[\s,!.:;-]*)+", re.IGNORECASE)
_NOT_AN_ITEM_START = re.compile(
    r"(?i)(?:i|i'm|im|i've|we|we're|my|our|can|could|would|will|is|are|do|does|did|how|what|when|where|who|why|"
    r"which|it|this|that|there|here|thanks|thank|ok|okay|yes|no|je|j'|on|nous|mon|ma|mes|notre|nos|est-ce|"
    r"peux|pouvez|pourrais|pourriez|comment|quand|où|quoi|qui|pourquoi|merci|oui|non|c'est|ça|il|elle|ils|"
    r"elles|le|la|les|l')\b|(?:j'|l'|c')")


def _item_first(raw: str) -> Tuple[Optional[str], bool]:
    text = _GREETING.sub("", raw).strip()
    label = re.match(r"^(?:[^\s:—–-]+(?:\s+[^\s:—–-]+){0,4})\s*(?::|—|–|\s-\s)\s*(?=\S)", text)
    # "Re: ...", "Objet : ...": a label before a colon, or a label word before a dash; but "Hill Times
    # subscription renewal - $459/yr" names the thing before its dash
    if label and not re.search(r"\d|\$", label.group(0)) and (label.group(0).rstrip().endswith(":") or re.match(
            r"(?i)(?:re|fw|fwd|tr|objet|subject|sujet|item|article|order|commande|achat|demande|request)\b",
            label.group(0))):
        text = text[label.end():]  # "Re: ...", "Objet : ...", "Avec Uber : taxi ...": what follows the label
    if not text or _NOT_AN_ITEM_START.match(text) or text.rstrip().endswith("?") and "$" not in text:
        return None, False
    if re.match(r"(?i)(?:want|need|looking|please|pls|can|could|would|wanted|needed|buy|buying|order|ordering|"
                r"purchase|get|getting|book|rent|hire|renew|acheter|commander|achat|commande|besoin|r[ée]server|"
                r"louer|embaucher|renouveler)\b", text):
        return None, False  # a verb of wanting: _item has read what follows it, or found nothing to buy
    stop = _ITEM_STOP.search(text)
    phrase, singular = _trimmed((text[: stop.start()] if stop else text).strip())
    named = _GENERIC_THEN.match(text)
    if named and _GENERIC_ITEM.fullmatch(phrase):
        # "Registration for the Agile Coaching workshop", "Abonnement annuel à Canva Pro": the thing
        rest = text[named.end():]
        stop = _ITEM_STOP.search(rest)
        phrase, singular = _trimmed((rest[: stop.start()] if stop else rest).strip())
    if answers.folded(phrase) in _VAGUE_ITEMS or not 1 <= len(phrase.split()) <= 8 \
            or not any(ch.isalpha() for ch in phrase):
        return None, False
    return phrase, singular


# A first phrase that says how a thing is bought, not what: the thing follows "for", "to", "à".
_GENERIC_ITEM = re.compile(r"(?i)(?:annual |yearly |monthly )?(?:registration|subscription|renewal|membership|"
                           r"inscription|abonnement|renouvellement|adh[ée]sion)(?: (?:annuel|annuelle|mensuel|"
                           r"num[ée]rique|digital|annual))?")
_GENERIC_THEN = re.compile(_GENERIC_ITEM.pattern
                           + r"\s+(?:for|to|of|à|au|aux|à la|à l'|pour)\s+(?:the\s+|le\s+|la\s+|l')?", re.IGNORECASE)


# -- when ------------------------------------------------------------------------------------------

# A day the NLU's dates missed: "tomorrow", "Thursday's all-hands", "lundi", "demain matin" (read
# against the pack's today by the answer's own reading, dialogues/answers.py read_date).
_DAY = re.compile(r"(?i)\b(?:(?:next|this|prochain|ce)\s+)?(?:" + _WORKDAYS + r")(?:\s+(?:prochain|next))?(?='s\b|\b)")


def _needed_by(raw: str) -> Optional[str]:
    for match in _DAY.finditer(raw):
        if not re.search(r"(?i)\b(?:happy|bon|bonne|every|each|chaque|tous les|last|dernier)\s+$", raw[:match.start()]):
            return match.group(0)  # not "happy Friday", "every Monday", "last Tuesday"
    return None


# -- why -------------------------------------------------------------------------------------------

_BECAUSE = re.compile(r"(?:\b(?:because|since|as|so that|so(?= (?:we|i|they|the|our) )|in order to|parce que|puisque|"
                      r"afin que|afin de|pour que|pour qu'|car)\s+|\bparce qu'|\bpour (?=(?:[a-zà-ÿ]+(?:er|ir|re))\s+"
                      r"(?:les?|la|l'|nos|notre|des|un|une|mon|ma|mes|leur|leurs|ce|ces|cet|cette)\b)|"
                      r"\((?=(?:mine|my|our|the old|l'ancien|le mien|la mienne|mon|ma)\b))(?P<why>.+)$",
                      re.IGNORECASE)
MIN_REASON_WORDS = 2


def _justification(raw: str) -> Optional[str]:
    """The reason, when the message gives one after "because" / "parce que": the words to the end
    of its sentence, kept as typed (the approver reads them). A reason of under three words ("as
    usual") is no reason."""
    match = _BECAUSE.search(raw)
    if not match:
        return None
    why = re.split(r"(?<=[.!?])\s+|\s*[;()]\s*|,?\s+(?:cc|centre de co[uû]ts|cost cent(?:re|er))\b",
                   match.group("why"), maxsplit=1, flags=re.IGNORECASE)[0].strip(" .!?,")
    if len(why.split()) < MIN_REASON_WORDS or re.match(r"(?i)(?:soon as|well|usual|of|always)\b", why):
        return None
    return why
