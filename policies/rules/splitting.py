"""Contract splitting: one need bought in pieces to stay under a limit, and repeated
sole-sourcing to one supplier. Looks at the same cost centre's purchases in rolling windows."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Tuple

from rapidfuzz import fuzz

from ..evaluation import BLOCK, WARN
from ..facts import Facts, Purchase, in_force
from ..same_need import NeedWords, fold, need_of, need_words, shared_vocabulary, similarity


def _plain(text: str) -> str:
    text = fold(text.casefold()).replace("&", " and ")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


@lru_cache(maxsize=16)
def _ignored(ignore_words: Tuple[str, ...]) -> frozenset:
    return frozenset(_plain(word) for word in ignore_words)


@lru_cache(maxsize=8192)  # the same suppliers recur in every history
def supplier_key(name: str, ignore_words: Tuple[str, ...] = ()) -> str:
    """A supplier's name without case, accents, punctuation and the pack's ignored words
    ("Staples Canada Inc." is "staples" when Canada and Inc. are ignored)."""
    ignored = _ignored(ignore_words)
    words = _plain(name).split()
    return " ".join(word for word in words if word not in ignored) or " ".join(words)


def is_same_supplier(a: str, b: str, threshold: int, ignore_words: Iterable[str] = ()) -> bool:
    words = tuple(ignore_words)
    key_a, key_b = supplier_key(a, words), supplier_key(b, words)
    # token_set: a name inside another counts as the same supplier ("Staples Business Depot" is
    # "Staples"). It also joins "Amazon" with "Amazon Web Services": for a splitting check,
    # asking once too often is better than missing a split.
    return key_a == key_b or fuzz.token_set_ratio(key_a, key_b) >= threshold


def _recent(facts: Facts, days: int) -> List[Purchase]:
    since = facts.on - timedelta(days=days)
    return [r for r in facts.history if r.cost_centre == facts.request.cost_centre and since <= r.on <= facts.on]


def _from_supplier(facts: Facts, days: int) -> List[Purchase]:
    since = facts.on - timedelta(days=days)
    return [r for r in _supplier_history(facts) if since <= r.on]


def _supplier_history(facts: Facts) -> List[Purchase]:
    """This cost centre's purchases from the request's supplier, over the longest window; the
    fuzzy name match runs once per record, however many rules ask."""
    if "supplier_history" not in facts.memo:
        rule = facts.rules.splitting
        longest = max(rule.window_days, facts.rules.sole_sourcing.window_days)
        facts.memo["supplier_history"] = [
            r
            for r in _recent(facts, longest)
            if is_same_supplier(r.supplier, facts.request.supplier, rule.supplier_similarity,
                                rule.supplier_ignore_words)
        ]
    return facts.memo["supplier_history"]


# The pack's word lists, stemmed once per rules object (a policy version).
_NEED_WORDS: Dict[int, Tuple[Any, NeedWords, frozenset]] = {}


def need_words_of(rules) -> Tuple[NeedWords, frozenset]:
    """The same-need measure's word lists from the pack, and the stems of the cost centres'
    names ("Digital Service" says who buys, not what)."""
    held = _NEED_WORDS.get(id(rules))
    if held is None or held[0] is not rules:
        rule = rules.splitting.same_need
        synonyms = tuple(tuple(group) for group in rule.synonyms)
        if rule.shared_vocabulary:
            synonyms += shared_vocabulary()  # after the pack's own: a pack's group wins a wording
        words = _stemmed_lists(tuple(w for ws in rule.ignore_words.values() for w in ws), synonyms,
                               tuple(rule.generic_words))
        names = tuple(text for centre in rules.approval.cost_centres.values() for text in centre.name.values())
        drop = frozenset(_stemmed_lists(names, (), ()).ignored)
        if len(_NEED_WORDS) > 8:
            _NEED_WORDS.clear()
        held = _NEED_WORDS[id(rules)] = (rules, words, drop)
    return held[1], held[2]


@lru_cache(maxsize=8)  # a policy edit elsewhere in the pack keeps the stemmed lists (half a second)
def _stemmed_lists(ignore_words: Tuple[str, ...], synonyms: Tuple[Tuple[str, ...], ...],
                   generic_words: Tuple[str, ...]) -> NeedWords:
    return need_words(ignore_words, synonyms, generic_words)


def score(a: str, b: str, words: NeedWords, drop: frozenset) -> float:
    """How alike two descriptions' needs are, 0 to 100."""
    return 100 * similarity(need_of(a, words, drop), need_of(b, words, drop))


def _same_need_scores(facts: Facts) -> List[Tuple[Purchase, float]]:
    """This cost centre's purchases of the category in the window, each with its same-need score;
    computed once per request, however many rules ask."""
    if "same_need" not in facts.memo:
        words, drop = need_words_of(facts.rules)
        facts.memo["same_need"] = [
            (r, score(r.description, facts.request.description, words, drop))
            for r in _recent(facts, facts.rules.splitting.window_days)
            if r.category == facts.request.category
        ]
    return facts.memo["same_need"]


def _same_need(facts: Facts) -> List[Purchase]:
    block = facts.rules.splitting.same_need.block
    return [r for r, value in _same_need_scores(facts) if value >= block]


def _maybe_same_need(facts: Facts) -> List[Purchase]:
    band = facts.rules.splitting.same_need
    return [r for r, value in _same_need_scores(facts) if band.warn <= value < band.block]


def _total(records: List[Purchase]) -> Decimal:
    return sum((r.total for r in records), Decimal("0.00"))


def _past_limit(facts: Facts, records: List[Purchase]):
    """(combined, limit) when these purchases and this one add up past the transaction limit."""
    limit = in_force(facts.rules.limits.per_transaction.amounts, facts.on)
    combined = _total(records) + facts.total
    if not records or limit is None or combined <= limit.amount:
        return None
    return combined, limit


def _over_limit(facts: Facts, rule_id: str, key: str, field: str, records: List[Purchase]):
    over = _past_limit(facts, records)
    if over is None:
        return []
    combined, limit = over
    rule = facts.rules.splitting
    return [
        facts.finding(
            rule_id, BLOCK, key, rule.source, field=field,
            data={"combined": combined, "limit": limit.amount, "purchases": [r.reference for r in records]},
            window_days=rule.window_days, combined=facts.money(combined), limit=facts.money(limit.amount),
            purchases=facts.purchases(records), count=len(records),
        )
    ]


def same_supplier(facts: Facts):
    records = _from_supplier(facts, facts.rules.splitting.window_days)
    return _over_limit(facts, "splitting.same_supplier", "split_same_supplier", "supplier", records)


def same_requirement(facts: Facts):
    records = _same_need(facts)
    from_supplier = _from_supplier(facts, facts.rules.splitting.window_days)
    reported = {r.reference for r in from_supplier} if _past_limit(facts, from_supplier) else set()
    if records and {r.reference for r in records} <= reported:
        return []  # the same purchases are already reported as splitting with this supplier
    return (_over_limit(facts, "splitting.same_requirement", "split_same_requirement", "description", records)
            or _doubtful(facts, records, reported))


def _doubtful(facts: Facts, sure: List[Purchase], reported: set):
    """A warning for the approver: purchases that may be the same need (between the pack's two
    bands) would, with the sure ones and this one, pass the limit. A person judges these."""
    maybe = _maybe_same_need(facts)
    if not maybe or {r.reference for r in maybe} <= reported:
        return []
    over = _past_limit(facts, sure + maybe)
    if over is None:
        return []
    combined, limit = over
    rule = facts.rules.splitting
    scores = dict((r.reference, value) for r, value in _same_need_scores(facts))
    matches = "; ".join(f"{r.reference}, {facts.money(r.total)} ({r.supplier}, {r.on.isoformat()})" for r in maybe)
    return [
        facts.finding(
            "splitting.same_requirement", WARN, "split_same_need_doubtful", rule.source, field="description",
            data={"combined": combined, "limit": limit.amount, "purchases": [r.reference for r in sure + maybe],
                  "doubtful": [r.reference for r in maybe],
                  "scores": {r.reference: round(scores[r.reference]) for r in maybe}},
            window_days=rule.window_days, combined=facts.money(combined), limit=facts.money(limit.amount),
            matches=matches, count=len(maybe),
        )
    ]


def attestation(facts: Facts):
    rule = facts.rules.splitting
    records = _from_supplier(facts, rule.window_days)
    if not records:
        return None
    values: Dict[str, Any] = dict(window_days=rule.window_days, purchases=facts.purchases(records),
                                  count=len(records))
    data = {"purchases": [r.reference for r in records]}
    if facts.request.attest_standalone is True:
        return [facts.finding("splitting.attestation", WARN, "split_attested", rule.source, data=data, **values)]
    return [
        facts.finding(
            "splitting.attestation", BLOCK, "split_attestation_needed", rule.source, field="attest_standalone",
            data=data, **values,
        )
    ]


def sole_sourcing(facts: Facts):
    rule = facts.rules.sole_sourcing
    records = _from_supplier(facts, rule.window_days)
    findings = []
    kind = facts.category.kind
    same_kind = [r for r in records
                 if r.category in facts.rules.categories and facts.rules.categories[r.category].kind == kind]
    combined = _total(same_kind) + facts.total
    if kind in rule.max_total and combined > rule.max_total[kind]:
        findings.append(
            facts.finding(
                "sole_sourcing", BLOCK, "sole_source_over_value", rule.source, field="supplier",
                data={"combined": combined, "limit": rule.max_total[kind]},
                window_days=rule.window_days, combined=facts.money(combined),
                limit=facts.money(rule.max_total[kind]), kind=facts.text(rule.kind_names[kind]),
            )
        )
    count = len(records) + 1
    if count > rule.warn_after_count:
        findings.append(
            facts.finding("sole_sourcing", WARN, "sole_source_frequent", rule.source, field="supplier",
                          data={"count": count}, window_days=rule.window_days, count=count)
        )
    return findings

