"""What the sweep prints of the rules' work (esc.report.actions): one action per change a
rule made, read from the change the plan made, manual changes left out."""

from __future__ import annotations

import datetime as dt

from esc.config.loading import build_config
from esc.config.starter import TEAMS_YAML
from esc.domain import lifecycle
from esc.domain.config import Config
from esc.domain.model import Change, Ticket
from esc.domain.plan import plan
from esc.report.actions import RuleAction, action_json, action_text, rule_actions
from tests.helpers import CALENDARS_YAML, STANDARD_SLA_YAML, berlin

ID = "T-4k8q2m7x"
CREATED = berlin(2026, 11, 23, 9)  # Monday 09:00
LATE = berlin(2026, 11, 24, 9)  # the first response is long past due


def config(rules: str) -> Config:
    built, findings = build_config(
        TEAMS_YAML, CALENDARS_YAML + STANDARD_SLA_YAML + "rules:\n" + rules
    )
    assert [str(f) for f in findings] == []
    assert built is not None
    return built


def ticket(**fields: object) -> Ticket:
    base: dict[str, object] = {
        "status": "open",
        "priority": "normal",
        "team": "support",
        "assignee": "alice",
        "updated": CREATED,
    }
    return Ticket(id=ID, title="Invoice missing", created=CREATED, **{**base, **fields})  # type: ignore[arg-type]


def test_an_escalation_is_one_action_and_its_side_effects_are_shown_too() -> None:
    rules = config(
        "  - name: up\n"
        "    when: {sla: breached, level: 1}\n"
        "    then: {escalate: up, note: 'Breached, going up'}\n"
    )
    actions = rule_actions(ID, plan(ticket(), rules, LATE).change)
    assert [action_text(a) for a in actions] == [
        f"{ID}: support → engineering (up)",
        f"{ID}: assignee alice → — (up)",
        f'{ID}: note "Breached, going up" (up)',
    ]
    escalation = action_json(actions[0])
    assert escalation == {
        "id": ID,
        "at": escalation["at"],
        "rule": "up",
        "action": "escalate",
        "field": "team",
        "from": "support",
        "to": "engineering",
        "kind": "hierarchical",
    }


def test_a_priority_rise_is_a_priority_action_with_its_escalation_kind() -> None:
    rules = config("  - name: raise\n    when: {sla: breached}\n    then: {priority: raise}\n")
    [action] = rule_actions(ID, plan(ticket(), rules, LATE).change)
    assert (action.action, action.kind, action.old, action.new) == (
        "priority",
        "priority",
        "normal",
        "high",
    )
    assert action_text(action) == f"{ID}: normal → high (raise)"


def test_changes_made_by_people_are_not_rule_actions() -> None:
    at = dt.datetime(2026, 11, 23, 10, tzinfo=CREATED.tzinfo)
    manual = lifecycle.add_tags(ticket(), at, "alice", ["vip"])
    by_rule = lifecycle.add_tags(ticket(), at, "rule:vip", ["vip"])
    assert rule_actions(ID, manual) == ()
    assert rule_actions(ID, lifecycle.combined(manual, by_rule)) == (
        RuleAction(ID, at, "rule:vip", "tag", new="vip"),
    )
    assert rule_actions(ID, Change()) == ()


def test_a_long_note_is_cut_in_the_text_but_whole_in_the_json() -> None:
    text = "word " * 30
    action = RuleAction(ID, CREATED, "rule:n", "note", new=text)
    shown = action_text(action)
    assert shown.endswith('…" (n)') and len(shown) < 100
    assert action_json(action)["to"] == text


def test_a_rule_asking_a_team_is_an_involve_action() -> None:
    rule = "  - name: ask-eng\n    when: {priority: high}\n    then: {involve: engineering}"
    rules = config(rule)
    p = plan(ticket(priority="high"), rules, LATE)
    involve = [a for a in rule_actions(ID, p.change) if a.action == "involve"]
    assert [action_text(a) for a in involve] == [f"{ID}: involve engineering (ask-eng)"]
    assert action_json(involve[0])["to"] == "engineering"


def test_a_rule_s_note_that_mentions_says_whom() -> None:
    """It printed `T-…: event mentioned (NAME)`: what happened, not whom it named."""
    rules = config(
        "  - name: ask-eng\n"
        "    when: {sla: breached}\n"
        "    then: {note: 'Breached: @engineering please look'}\n"
    )
    actions = rule_actions(ID, plan(ticket(), rules, LATE).change)
    assert [action_text(a) for a in actions] == [
        f'{ID}: note "Breached: @engineering please look" (ask-eng)',
        f"{ID}: mentioned @engineering (ask-eng)",
    ]
    assert action_json(actions[1])["to"] == "mentioned @engineering"
