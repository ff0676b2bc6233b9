"""A new policy in force through the workflow, without Slack: recorded once across processes, and
the requests waiting for a decision that the new rules judge differently, with their deciders."""
from workflow import policy_change

from workflow_kit import AMINA, ESDC, KWAME, pens, variant

NEW_MANAGER = (("        manager: [U01AMINA]", "        manager: [U04KWAME]"),)


def test_a_version_is_recorded_once_for_the_same_stamp(kit):
    new = variant(*NEW_MANAGER)
    stamp = ("policies/esdc.yml", 123, 456)
    assert policy_change.record_in_force(kit.sessions, ESDC, new, stamp)
    assert not policy_change.record_in_force(kit.sessions, ESDC, new, stamp)  # another process
    assert policy_change.record_in_force(kit.sessions, ESDC, new, ("policies/esdc.yml", 124, 456))
    assert policy_change.record_refused(kit.sessions, "policies/esdc.yml", "line 3: bad", ESDC, stamp)
    assert not policy_change.record_refused(kit.sessions, "policies/esdc.yml", "line 3: bad", ESDC, stamp)


def test_a_waiting_request_the_new_rules_route_elsewhere_is_flagged_to_its_deciders_once(kit):
    waiting = kit.file(pens())
    decided = kit.file(pens(description="box of pencils"))
    kit.approve_all(decided)
    new = variant(*NEW_MANAGER)
    [flag] = policy_change.waiting_changes(kit.sessions, ESDC, new)
    assert (flag.change.request_id, flag.change.changed, flag.deciders) == (waiting, ("route",), [AMINA])
    assert flag.change.after.route[0][1] == (KWAME,)
    assert policy_change.claim_flag(kit.sessions, new, flag)
    assert not policy_change.claim_flag(kit.sessions, new, flag)
    [audited] = kit.audit(waiting, "policy.flagged")
    assert (audited["to"], audited["changed"]) == ([AMINA], ["route"])


def test_the_same_rules_flag_nothing(kit):
    kit.file(pens())
    assert policy_change.waiting_changes(kit.sessions, ESDC, ESDC) == []
