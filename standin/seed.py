"""A workspace seeded from a policy pack: its people, with a title saying what each approves, and
the channels the pack names (approval channels, then the admins' channel).

The titles are what Slack shows as a profile's title; they let someone trying the stand-in pick
"the director of cost centre 100200" in the user switcher without reading the YAML. People are
listed requesters first, then approvers from the lowest level to the highest, then delegates,
then two people Slack lets write to the app but who may not use microbuy: a guest of the
workspace and someone of a partner organisation in the shared channels (Slack Connect).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from .workspace import DEFAULT_CHANNELS, Workspace

REQUESTER = "Requester"
PARTNER_TEAM = "T0PARTNER"
# (id, name, title, Slack's flags for them): in every channel, as the pack's people are.
OUTSIDERS = (
    ("U0GUEST", "Gabriel Lavoie", "Guest (contractor): may not use microbuy", {"is_restricted": True}),
    ("U0EXTERNAL", "Erin Walsh", "Partner organization, via Slack Connect: may not use microbuy",
     {"team_id": PARTNER_TEAM}),
)


def workspace_from_policy(policy_file: Optional[str] = None) -> Workspace:
    from policies import load_policy

    policy = load_policy(policy_file) if policy_file else load_policy()
    rules = policy.rules
    titles, ranks = roles(rules)
    order = sorted(rules.people, key=lambda user_id: ranks.get(user_id, 0))  # stable: the pack's order within a rank
    people = {user_id: (rules.people[user_id].name, rules.people[user_id].language) for user_id in order}
    channels = channels_of(rules) or DEFAULT_CHANNELS
    workspace = Workspace.from_people(people, channels=channels, tz=rules.pack.timezone, titles=titles,
                                      team_name=_text(rules.pack.name, rules))
    with workspace.lock:
        for user_id, name, title, kind in OUTSIDERS:
            workspace.add_user(user_id, ".".join(name.lower().split()), real_name=name, tz=rules.pack.timezone,
                               title=title, **kind)
            for channel in workspace.channels.values():
                if not channel.is_im:
                    channel.members.append(user_id)
    return workspace


def roles(rules: Any) -> Tuple[Dict[str, str], Dict[str, int]]:
    """({user_id: title}, {user_id: rank}) from the approval section: rank 0 for requesters,
    then by the lowest level a person approves at, delegates after every approver."""
    approval = rules.approval
    levels = list(approval.levels)
    held: Dict[str, Dict[str, List[str]]] = {}  # person -> level -> cost centres ("" for all)
    for level, people in approval.approvers.items():
        for person in people:
            held.setdefault(person, {}).setdefault(level, []).append("")
    for code, centre in approval.cost_centres.items():
        for level, people in centre.approvers.items():
            for person in people:
                held.setdefault(person, {}).setdefault(level, []).append(str(code))
    titles: Dict[str, str] = {}
    ranks: Dict[str, int] = {}
    for person, by_level in held.items():
        parts = []
        for level in sorted(by_level, key=lambda lv: levels.index(lv) if lv in levels else len(levels)):
            name = _text(approval.levels[level].name, rules) if level in approval.levels else level
            parts.append(_where(name, by_level[level]))
        titles[person] = "; ".join(parts)
        ranks[person] = 1 + min(levels.index(lv) if lv in levels else len(levels) for lv in by_level)
    for delegation in approval.delegates:
        whom = rules.people[delegation.person].name if delegation.person in rules.people else delegation.person
        part = f"Delegate of {whom}, {delegation.from_:%Y-%m-%d} to {delegation.to:%Y-%m-%d}"
        titles[delegation.delegate] = "; ".join(filter(None, [titles.get(delegation.delegate), part]))
        ranks.setdefault(delegation.delegate, 2 + len(levels))
    for person in rules.people:
        titles.setdefault(person, REQUESTER)
    return titles, ranks


def channels_of(rules: Any) -> Dict[str, str]:
    """{channel id: name} for each distinct channel the pack names: the cost centres' approval
    channels in order, then the admins' channel. "#name" gets a made-up id; an id keeps itself."""
    named: List[str] = [str(centre.channel) for centre in rules.approval.cost_centres.values()]
    admin = getattr(rules.pack, "admin_channel", None)
    if admin:
        named.append(str(admin))
    channels: Dict[str, str] = {}
    for ref in named:
        if ref.startswith("#"):
            name = ref[1:]
            if name in channels.values():
                continue
            channel_id = _channel_id(name, channels)
        else:
            if ref in channels:
                continue
            channel_id, name = ref, ref.lower()
        channels[channel_id] = name
    return channels


def _channel_id(name: str, taken: Dict[str, str]) -> str:
    base = "C0" + re.sub(r"[^A-Z0-9]", "", name.upper())[:12]
    channel_id, n = base, 1
    while channel_id in taken:
        n += 1
        channel_id = f"{base}{n}"
    return channel_id


def _where(level_name: str, codes: List[str]) -> str:
    if "" in codes:
        return level_name
    if len(codes) == 1:
        return f"{level_name}, cost centre {codes[0]}"
    return f"{level_name}, cost centres {', '.join(codes)}"


def _text(text: Any, rules: Any) -> str:
    language = rules.pack.default_language
    return text.get_text(language, language) if hasattr(text, "get_text") else str(text)
