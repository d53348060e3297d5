"""Automation rules (esc.automation): parsing, each action, fire-once memory, caps and loops.

Configs come from YAML text through build_config; tickets are built directly; every
evaluation runs at a fixed, time-zone-aware instant.  The teams are the starter ones:
support (level 1, lead carol) -> engineering (level 2, no lead) -> management (level 3).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from esc.config.loading import build_config, parse_teams
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain import automation
from esc.domain.automation import RulesOutcome, memory_of
from esc.domain.conditions import Vocabulary
from esc.domain.config import DEFAULT_PRIORITIES, Config, Team
from esc.domain.model import Activity, Entry, Escalation, Ticket
from esc.domain.plan import sla_of
from esc.domain.rules import Rule, RuleError, loop_findings, parse_rule
from tests.helpers import CALENDARS_YAML, STANDARD_SLA_YAML, berlin

ID = "T-4k8q2m7x"


CREATED = berlin(2026, 11, 23, 9)  # Monday 09:00
NOW = berlin(2026, 11, 23, 10)

# Office hours (Mon-Thu 09-17, Fri 09-13 and 14-16) for the SLA and for `repeat`.
BASE = CALENDARS_YAML + STANDARD_SLA_YAML


def config_with(rules: str, extra: str = "") -> Config:
    """The starter teams and BASE, with ``rules`` (a YAML list, indented by two) appended."""
    built, findings = build_config(TEAMS_YAML, BASE + extra + "rules:\n" + rules)
    assert [str(f) for f in findings] == []
    assert built is not None
    return built


def ticket(**fields: Any) -> Ticket:
    fields.setdefault("status", "new")
    fields.setdefault("priority", "normal")
    fields.setdefault("team", "support")
    fields.setdefault("updated", CREATED)
    return Ticket(id=ID, title="Invoice missing", created=CREATED, **fields)


def run(
    config: Config,
    t: Ticket,
    at: dt.datetime = NOW,
    memory: dict[str, dt.datetime] | None = None,
    budget: list[int] | None = None,
) -> RulesOutcome:
    return automation.run_rules(
        t,
        config,
        at,
        {} if memory is None else memory,
        [config.max_actions] if budget is None else budget,
        lambda tk, when: sla_of(tk, config, when),
    )


@pytest.fixture(scope="module")
def teams() -> dict[str, Team]:
    found, _intake, findings = parse_teams(TEAMS_YAML)
    assert findings == []
    return found


# ---------------------------------------------------------------- parsing


def _parse(raw: dict[str, Any], teams: dict[str, Team], names: set[str] | None = None) -> Rule:
    words = Vocabulary(DEFAULT_PRIORITIES, teams=tuple(teams))
    return parse_rule(raw, teams, words, "rules[0]", names or set())


def test_parse_rule(teams: dict[str, Team]) -> None:
    rule = _parse(
        {
            "name": "nag",
            "description": "remind the team",
            "when": {"sla": "warning", "priority": ">=high"},
            "then": {"note": "hurry", "escalate": {"to": "engineering"}},
            "repeat": "1h30m",
        },
        teams,
    )
    assert rule.name == "nag"
    assert rule.actions == (("note", "hurry"), ("escalate", {"to": "engineering"}))
    assert rule.repeat == dt.timedelta(hours=1, minutes=30)
    assert rule.when.fields() == {"sla", "priority"}
    assert _parse({"name": "plain", "then": {"tag": "x"}}, teams).repeat is None


@pytest.mark.parametrize(
    ("raw", "message", "key"),
    [
        ({"then": {"tag": "x"}}, "a rule needs a name", "name"),
        ({"name": "a", "then": {"tag": "x"}, "if": {}}, "unknown key 'if'", "if"),
        (
            {"name": "a", "then": {"explode": "now"}},
            "rule a: unknown action 'explode';"
            " one of escalate, priority, assign, tag, note, status, notify, involve",
            "then",
        ),
        (
            {"name": "a", "then": {"involve": "enginering"}},
            "rule a: involve: unknown team 'enginering' (did you mean 'engineering'?);"
            " choose from support, engineering, management",
            "then",
        ),
        (
            {"name": "a", "then": {"assign": "zed"}},
            "rule a: assign: unknown person 'zed'; choose from lead, alice, bob, carol, dan, "
            "erin, frank",
            "then",
        ),
        (
            {"name": "a", "then": {"tag": "a,b"}},
            "rule a: tag: tag 'a,b' has a comma; a tag is a word (exports join tags with commas)",
            "then",
        ),
        (
            {"name": "a", "then": {"escalate": {"to": "legal"}}},
            "rule a: escalate: unknown team 'legal'; choose from support, engineering, management",
            "then",
        ),
        (
            {"name": "a", "then": {"escalate": "sideways"}},
            "rule a: escalate takes `up` or `{to: TEAM}`",
            "then",
        ),
        (
            {"name": "a", "then": {"priority": "critical"}},
            "rule a: priority: 'critical' is not a priority (or `raise`)",
            "then",
        ),
        (
            {"name": "a", "then": {"status": "new"}},
            "rule a: status: takes open, pending, resolved or closed, not 'new'",
            "then",
        ),
        ({"name": "a", "then": {"tag": " "}}, "rule a: tag: needs a text value", "then"),
        ({"name": "a", "then": {"assign": 5}}, "rule a: assign: needs a text value", "then"),
        ({"name": "a", "then": {}}, "rule a: `then` must map actions to values", "then"),
        ({"name": "a"}, "rule a: `then` must map actions to values", "then"),
        (
            {"name": "a", "then": {"tag": "x"}, "repeat": "1d"},
            "rule a: repeat: '1d': working time takes h and m only (e.g. 24h, 1h30m)",
            "repeat",
        ),
        (
            {"name": "a", "then": {"tag": "x"}, "repeat": "1w"},
            "rule a: repeat: '1w': working time takes h and m only (e.g. 24h, 1h30m)",
            "repeat",
        ),
        (
            {"name": "a", "then": {"tag": "x"}, "repeat": "0m"},
            "rule a: repeat: must be longer than zero",
            "repeat",
        ),
        (
            {"name": "a", "then": {"tag": "x"}, "when": {"priority": ">critical"}},
            "rules[0].when.priority: unknown priority 'critical';"
            " choose from low, normal, high, urgent",
            "when",
        ),
        (
            {"name": "a", "then": {"tag": "x"}, "when": {"sla": "late"}},
            "rules[0].when.sla: unknown SLA state 'late';"
            " choose from ok, warning, breached, met, paused",
            "when",
        ),
    ],
)
def test_parse_rule_errors(
    teams: dict[str, Team], raw: dict[str, Any], message: str, key: str
) -> None:
    with pytest.raises(RuleError) as caught:
        _parse(raw, teams)
    assert str(caught.value) == message
    assert caught.value.key == key


def test_parse_rule_refuses_a_duplicate_name(teams: dict[str, Team]) -> None:
    with pytest.raises(RuleError, match=r"^two rules are named 'a'$"):
        _parse({"name": "a", "then": {"tag": "x"}}, teams, names={"a"})


@pytest.mark.parametrize(
    ("rules", "finding"),
    [
        (
            "  - name: a\n    then: {explode: now}\n",
            "rules.yaml:3: rules[0]: rule a: unknown action 'explode'; one of escalate, priority,"
            " assign, tag, note, status, notify, involve",
        ),
        (
            "  - name: a\n    then: {escalate: {to: legal}}\n",
            "rules.yaml:3: rules[0]: rule a: escalate: unknown team 'legal';"
            " choose from support, engineering, management",
        ),
        (
            "  - name: a\n    then: {priority: critical}\n",
            "rules.yaml:3: rules[0]: rule a: priority: 'critical' is not a priority (or `raise`)",
        ),
        (
            "  - name: a\n    repeat: 1d\n    then: {tag: x}\n",
            "rules.yaml:3: rules[0]: rule a: repeat: '1d': working time takes h and m only"
            " (e.g. 24h, 1h30m)",
        ),
        (
            "  - name: a\n    then: {tag: x}\n  - name: a\n    then: {tag: y}\n",
            "rules.yaml:4: rules[1]: two rules are named 'a'",
        ),
    ],
)
def test_build_config_reports_rule_errors_with_their_line(rules: str, finding: str) -> None:
    _config, findings = build_config(TEAMS_YAML, "rules:\n" + rules)
    assert [str(f) for f in findings] == [finding]


def test_max_actions_per_ticket_is_read() -> None:
    assert config_with("  - name: a\n    then: {tag: x}\n").max_actions == 10
    capped = config_with("  - name: a\n    then: {tag: x}\n", "max_actions_per_ticket: 2\n")
    assert capped.max_actions == 2
    _config, findings = build_config(TEAMS_YAML, "max_actions_per_ticket: 0\n")
    assert [str(f) for f in findings] == ["rules.yaml:1: max_actions_per_ticket must be >= 1"]


# ---------------------------------------------------------------- each action


def test_escalate_up(teams: dict[str, Team]) -> None:
    config = config_with(
        '  - name: up\n    when: {tags: stuck}\n    then: {escalate: up, note: "stuck, going up"}\n'
    )
    out = run(config, ticket(tags=("stuck",), assignee="alice"))
    assert out.fired == ["up"]
    assert out.skipped == []
    assert out.change.escalations == (
        Escalation(NOW, "hierarchical", "support", "engineering", "rule:up", "stuck, going up"),
    )
    assert out.ticket.team == "engineering"
    assert out.ticket.assignee is None
    assert out.ticket.status == "open"  # new -> open
    assert out.change.entries == (Entry(NOW, "rule:up", "note", "stuck, going up"),)
    assert {a.by for a in out.change.activity} == {"rule:up"}
    team_lines = [a for a in out.change.activity if a.field == "team"]
    assert team_lines == [
        Activity(
            NOW,
            "rule:up",
            field="team",
            old="support",
            new="engineering",
            note="hierarchical escalation: stuck, going up",
        )
    ]


def test_escalate_to_a_team() -> None:
    config = config_with(
        "  - name: eng\n    when: {tags: bug}\n    then: {escalate: {to: management}}\n"
    )
    out = run(config, ticket(tags=("bug",), status="open"))
    assert out.change.escalations == (
        Escalation(NOW, "functional", "support", "management", "rule:eng", "rule eng"),
    )
    assert out.ticket.team == "management"
    assert out.ticket.status == "open"


@pytest.mark.parametrize(
    ("action", "before", "after", "escalated"),
    [
        ("high", "normal", "high", True),  # a rise is a priority escalation
        ("raise", "normal", "high", True),
        ("raise", "high", "urgent", True),
        ("low", "normal", "low", False),  # lowering is a plain change
    ],
)
def test_priority(action: str, before: str, after: str, escalated: bool) -> None:
    config = config_with(f"  - name: p\n    when: {{tags: p}}\n    then: {{priority: {action}}}\n")
    out = run(config, ticket(tags=("p",), priority=before))
    assert out.fired == ["p"]
    assert out.ticket.priority == after
    if escalated:
        assert out.change.escalations == (
            Escalation(NOW, "priority", before, after, "rule:p", "rule p"),
        )
    else:
        assert out.change.escalations == ()
    assert [(a.field, a.old, a.new, a.by) for a in out.change.activity] == [
        ("priority", before, after, "rule:p")
    ]


def test_priority_already_at_the_value_changes_nothing() -> None:
    config = config_with("  - name: p\n    when: {tags: p}\n    then: {priority: normal}\n")
    out = run(config, ticket(tags=("p",)))
    assert out.fired == ["p"]
    assert not out.change


@pytest.mark.parametrize(("value", "person"), [("dan", "dan"), ("lead", "carol")])
def test_assign(value: str, person: str) -> None:
    config = config_with(f"  - name: a\n    when: {{tags: a}}\n    then: {{assign: {value}}}\n")
    out = run(config, ticket(tags=("a",)))
    assert out.ticket.assignee == person  # dan is not in support: a rule assigns anyway
    assert out.ticket.status == "open"
    assert [(a.field, a.new, a.by) for a in out.change.activity] == [
        ("assignee", person, "rule:a"),
        ("status", "open", "rule:a"),
    ]


def test_tag() -> None:
    config = config_with("  - name: t\n    when: {priority: normal}\n    then: {tag: triaged}\n")
    out = run(config, ticket(tags=("vip",)))
    assert out.change.tags_added == ("triaged",)
    assert out.ticket.tags == ("vip", "triaged")
    assert [(a.event, a.note, a.by) for a in out.change.activity] == [
        ("tagged", "triaged", "rule:t")
    ]


def test_no_rule_acts_on_a_ticket_a_rule_resolved_at_that_instant() -> None:
    """Rules act on new, open and pending tickets: one that a rule resolved was still
    assigned, tagged, noted and lowered by the rules after it, at that instant."""
    config = config_with(
        "  - name: done\n    when: {priority: normal}\n    then: {status: resolved}\n"
        "  - name: after\n    when: {priority: normal}\n    then: {tag: x, note: hello}\n"
    )
    out = run(config, ticket())
    assert out.fired == ["done"] and out.ticket.status == "resolved"
    assert out.ticket.tags == () and not [e for e in out.change.entries if e.kind == "note"]
    # (a rule after it whose condition no longer holds is re-armed, as ever: its memory
    # is not left saying it fired)
    memory = {"after": NOW - dt.timedelta(hours=1)}
    later = config_with(
        "  - name: done\n    when: {priority: normal}\n    then: {status: resolved}\n"
        "  - name: after\n    when: {priority: normal, tags: x}\n    then: {note: hello}\n"
    )
    run(later, ticket(), memory=memory)
    assert "after" not in memory


def test_note() -> None:
    config = config_with(
        '  - name: n\n    when: {priority: normal}\n    then: {note: "Look at me"}\n'
    )
    out = run(config, ticket())
    assert out.change.entries == (Entry(NOW, "rule:n", "note", "Look at me"),)
    assert out.ticket.first_response_at is None  # an internal note is not a response
    assert out.change.sets == {"updated": NOW}


def test_a_rule_s_internal_note_is_never_its_public_resolution() -> None:
    """`then: {status: resolved, note: "closed for lack of reply"}` posted the note as the
    resolution the customer reads, beside the internal note."""
    config = config_with(
        '  - name: autoclose\n    when: {title: "/invoice/i"}\n'
        '    then: {note: "closed for lack of reply", status: resolved}\n'
    )
    out = run(config, ticket())
    assert [(e.kind, e.text) for e in out.change.entries] == [
        ("note", "closed for lack of reply"),
        ("resolution", "rule autoclose"),
    ]
    assert out.ticket.status == "resolved"


@pytest.mark.parametrize(
    ("status", "before", "sets"),
    [
        ("pending", "open", {"status": "pending"}),
        ("open", "pending", {"status": "open"}),
        ("open", "new", {"status": "open"}),  # (as a first assignment or reply opens it)
        ("resolved", "open", {"status": "resolved", "resolved_at": NOW}),
        ("closed", "resolved", {"status": "closed", "closed_at": NOW}),
    ],
)
def test_status(status: str, before: str, sets: dict[str, object]) -> None:
    config = config_with(f"  - name: s\n    when: {{tags: s}}\n    then: {{status: {status}}}\n")
    extra = {"resolved_at": CREATED} if before == "resolved" else {}
    out = run(config, ticket(tags=("s",), status=before, first_response_at=CREATED, **extra))
    assert out.fired == ["s"]
    assert out.ticket.status == status
    assert {k: v for k, v in out.change.sets.items() if k != "updated"} == sets
    assert {a.by for a in out.change.activity} == {"rule:s"}


def test_status_open_reopens_a_resolved_ticket() -> None:
    config = config_with("  - name: s\n    when: {tags: s}\n    then: {status: open}\n")
    out = run(config, ticket(tags=("s",), status="resolved", resolved_at=CREATED))
    assert out.ticket.status == "open"
    assert out.ticket.resolved_at is None


def test_several_actions_apply_in_order() -> None:
    config = config_with(
        "  - name: many\n    when: {tags: vip}\n"
        "    then: {priority: high, assign: lead, tag: seen, note: VIP}\n"
    )
    out = run(config, ticket(tags=("vip",)))
    assert out.fired == ["many"]
    assert (out.ticket.priority, out.ticket.assignee, out.ticket.tags) == (
        "high",
        "carol",
        ("vip", "seen"),
    )
    # the note is also the reason of the rule's priority escalation
    assert out.change.escalations == (
        Escalation(NOW, "priority", "normal", "high", "rule:many", "VIP"),
    )
    assert out.change.entries == (Entry(NOW, "rule:many", "note", "VIP"),)


# ---------------------------------------------------------------- refused actions


@pytest.mark.parametrize(
    ("then", "fields", "skipped"),
    [
        ("{escalate: up}", {"team": "management"}, "management is the top of the escalation chain"),
        ("{priority: raise}", {"priority": "urgent"}, f"{ID} already has the highest priority"),
        ("{assign: lead}", {"team": "engineering"}, "team engineering has no lead"),
        (
            "{escalate: {to: engineering}}",
            {"status": "resolved", "resolved_at": CREATED},
            f"{ID} is resolved; reopen it before escalating",
        ),
        ("{escalate: {to: support}}", {}, f"{ID} is already with support"),
    ],
)
def test_refused_actions_are_skipped_not_raised(
    then: str, fields: dict[str, Any], skipped: str
) -> None:
    config = config_with(f"  - name: r\n    when: {{tags: r}}\n    then: {then}\n")
    t = ticket(tags=("r",), **fields)
    memory: dict[str, dt.datetime] = {}
    out = run(config, t, memory=memory)
    assert out.fired == []
    assert len(out.skipped) == 1
    assert out.skipped[0].startswith(f"r: {skipped}")
    assert not out.change
    assert out.ticket == t
    # the attempt counts as the rule's one firing while its condition holds
    again = run(config, t, at=NOW + dt.timedelta(minutes=5), memory=memory)
    assert (again.fired, again.skipped) == ([], [])


def test_a_refused_rule_does_not_stop_the_next_ones() -> None:
    config = config_with(
        "  - name: up\n    when: {tags: r}\n    then: {escalate: up}\n"
        "  - name: tag\n    when: {tags: r}\n    then: {tag: tried}\n"
    )
    out = run(config, ticket(tags=("r",), team="management"))
    assert out.fired == ["tag"]
    assert [s.split(":")[0] for s in out.skipped] == ["up"]
    assert out.change.tags_added == ("tried",)


# ---------------------------------------------------------------- fire once, re-arm, repeat


ONCE = "  - name: vip-note\n    when: {tags: vip}\n    then: {note: VIP}\n"


def test_a_rule_fires_once_while_its_condition_stays_true() -> None:
    config = config_with(ONCE)
    memory: dict[str, dt.datetime] = {}
    first = run(config, ticket(tags=("vip",)), at=NOW, memory=memory)
    assert first.fired == ["vip-note"]
    assert memory == {"vip-note": NOW}
    t = first.ticket
    for hours in (1, 5, 24, 24 * 7):
        later = run(config, t, at=NOW + dt.timedelta(hours=hours), memory=memory)
        assert later.fired == []
        assert not later.change
    assert memory == {"vip-note": NOW}


def test_a_rule_re_arms_after_an_evaluation_sees_its_condition_false() -> None:
    config = config_with(ONCE)
    memory: dict[str, dt.datetime] = {}
    run(config, ticket(tags=("vip",)), at=NOW, memory=memory)
    # the tag went away: this evaluation sees the condition false and forgets the firing
    off = run(config, ticket(), at=berlin(2026, 11, 23, 11), memory=memory)
    assert off.fired == []
    assert memory == {}
    # true again: it fires again
    on = run(config, ticket(tags=("vip",)), at=berlin(2026, 11, 23, 12), memory=memory)
    assert on.fired == ["vip-note"]
    assert memory == {"vip-note": berlin(2026, 11, 23, 12)}


def test_a_rule_whose_own_effect_makes_it_false_re_arms() -> None:
    # assign-lead makes `assignee: null` false: the rule re-arms in the same evaluation, so
    # when the ticket is unassigned again the rule fires again.
    config = config_with(
        "  - name: lead\n    when: {tags: vip, assignee: null}\n    then: {assign: lead}\n"
    )
    memory: dict[str, dt.datetime] = {}
    out = run(config, ticket(tags=("vip",)), memory=memory)
    assert out.fired == ["lead"]
    assert memory == {}
    again = run(config, ticket(tags=("vip",)), at=berlin(2026, 11, 23, 11), memory=memory)
    assert again.fired == ["lead"]


def test_another_clock_crossing_into_the_state_a_rule_names_fires_it_again() -> None:
    """`sla: breached` stays true from the first response's breach (Monday 13:00) on: the
    resolution's breach (Wednesday 17:00, 24h of office time) is another breach, and fires
    the rule again; a rule on the first response's clock alone does not fire again."""
    config = config_with(
        "  - name: any\n    when: {sla: breached}\n    then: {tag: paged}\n"
        "  - name: first\n    when: {sla.first_response: breached}\n    then: {tag: first}\n"
    )
    memory: dict[str, dt.datetime] = {}
    t = ticket()
    expected = [
        (berlin(2026, 11, 23, 12, 59), []),
        (berlin(2026, 11, 23, 13), ["any", "first"]),
        (berlin(2026, 11, 24, 13), []),
        (berlin(2026, 11, 25, 16, 59), []),
        (berlin(2026, 11, 25, 17), ["any"]),  # (the resolution's breach)
        (berlin(2026, 11, 25, 17), []),  # (the same instant again: nothing)
        (berlin(2026, 11, 26, 10), []),
    ]
    for at, fired in expected:
        out = run(config, t, at=at, memory=memory)
        assert out.fired == fired, at
        t = out.ticket


def test_one_clock_going_from_warning_to_breached_is_one_match_of_a_rule_on_both() -> None:
    """`sla.first_response: [warning, breached]` fired at the warning (12:00, 75% of 4h)
    fired again at the breach (13:00) of the same clock: a heads-up rule acted twice."""
    config = config_with(
        "  - name: heads-up\n    when: {sla.first_response: [warning, breached]}\n"
        "    then: {tag: warned}\n"
    )
    memory: dict[str, dt.datetime] = {}
    t = ticket()
    for at, fired in [
        (berlin(2026, 11, 23, 12), ["heads-up"]),
        (berlin(2026, 11, 23, 13), []),
        (berlin(2026, 11, 24, 10), []),
    ]:
        out = run(config, t, at=at, memory=memory)
        assert out.fired == fired, at
        t = out.ticket


def test_repeat_fires_again_after_that_much_working_time() -> None:
    config = config_with(
        "  - name: nag\n    when: {tags: vip}\n    repeat: 4h\n    then: {note: still VIP}\n"
    )
    memory: dict[str, dt.datetime] = {}
    t = ticket(tags=("vip",))
    expected = [
        (berlin(2026, 11, 23, 14), ["nag"]),  # first time
        (berlin(2026, 11, 23, 17), []),  # 3 working hours later
        (berlin(2026, 11, 24, 9), []),  # the night does not count: still 3h
        (berlin(2026, 11, 24, 9, 59), []),  # 3h59m
        (berlin(2026, 11, 24, 10), ["nag"]),  # 4h of working time since Mon 14:00
        (berlin(2026, 11, 24, 13, 59), []),
        (berlin(2026, 11, 24, 14), ["nag"]),
    ]
    for at, fired in expected:
        out = run(config, t, at=at, memory=memory)
        assert out.fired == fired, at
        t = out.ticket
    assert memory == {"nag": berlin(2026, 11, 24, 14)}


def test_memory_of_reads_the_fired_front_matter() -> None:
    t = ticket(
        extra={
            "fired": {
                "a": berlin(2026, 11, 23, 9),
                "b": "2026-11-23T10:00:00+01:00",
                "c": "yesterday",
                "d": dt.datetime(2026, 11, 23, 9),  # naive: not a usable time
            }
        }
    )
    assert memory_of(t) == {
        "a": berlin(2026, 11, 23, 9),
        "b": dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    }
    assert memory_of(ticket()) == {}
    assert memory_of(ticket(extra={"fired": ["a"]})) == {}


# ---------------------------------------------------------------- order, effects, cap


def test_later_rules_see_earlier_rules_effects() -> None:
    config = config_with(
        "  - name: vip-urgent\n    when: {tags: vip}\n    then: {priority: urgent}\n"
        "  - name: urgent-dan\n    when: {priority: urgent}\n    then: {assign: dan}\n"
    )
    out = run(config, ticket(tags=("vip",)))
    assert out.fired == ["vip-urgent", "urgent-dan"]
    assert (out.ticket.priority, out.ticket.assignee) == ("urgent", "dan")


def test_earlier_rules_see_later_rules_effects_at_the_same_instant() -> None:
    # The rules run again until none fires: the first rule sees what the second did.
    config = config_with(
        "  - name: urgent-dan\n    when: {priority: urgent}\n    then: {assign: dan}\n"
        "  - name: vip-urgent\n    when: {tags: vip}\n    then: {priority: urgent}\n"
    )
    memory: dict[str, dt.datetime] = {}
    out = run(config, ticket(tags=("vip",)), memory=memory)
    assert out.fired == ["vip-urgent", "urgent-dan"]
    assert (out.ticket.priority, out.ticket.assignee) == ("urgent", "dan")
    # ... and nothing is left for the next evaluation
    later = run(config, out.ticket, at=berlin(2026, 11, 23, 10, 5), memory=memory)
    assert later.fired == []


def test_later_rules_see_the_sla_an_earlier_rule_changed() -> None:
    # At 10:00 the standard first response (4h) is fine; made urgent, the 30m target from
    # 09:00 is breached, so the next rule sees `sla: breached` in the same evaluation.
    config = config_with(
        "  - name: vip-urgent\n    when: {tags: vip}\n    then: {priority: urgent}\n"
        "  - name: breach-note\n    when: {sla.first_response: breached}\n"
        "    then: {note: first response late}\n"
    )
    t = ticket(tags=("vip",))
    assert sla_of(t, config, NOW).states() == {"first_response": "ok", "resolution": "ok"}
    out = run(config, t)
    assert out.fired == ["vip-urgent", "breach-note"]
    assert sla_of(out.ticket, config, NOW).states()["first_response"] == "breached"


CAPPED = (
    "  - name: a\n    when: {tags: x}\n    then: {note: a}\n"
    "  - name: b\n    when: {tags: x}\n    then: {note: b}\n"
    "  - name: c\n    when: {tags: x}\n    then: {note: c}\n"
)


def test_the_cap_limits_actions_per_ticket() -> None:
    config = config_with(CAPPED, "max_actions_per_ticket: 2\n")
    memory: dict[str, dt.datetime] = {}
    budget = [config.max_actions]
    out = run(config, ticket(tags=("x",)), memory=memory, budget=budget)
    assert out.fired == ["a", "b"]
    assert out.skipped == ["c: action limit for one instant reached"]
    assert [e.text for e in out.change.entries] == ["a", "b"]
    assert budget == [0]
    # c did not fire, so it is not remembered: the next sweep (a fresh budget) fires it
    assert set(memory) == {"a", "b"}
    nxt = run(config, out.ticket, at=berlin(2026, 11, 23, 10, 5), memory=memory)
    assert nxt.fired == ["c"]


def test_the_cap_is_shared_by_every_evaluation_of_one_sweep() -> None:
    config = config_with(CAPPED, "max_actions_per_ticket: 2\n")
    budget = [config.max_actions]
    first = run(config, ticket(tags=("x",)), memory={}, budget=budget)
    assert first.fired == ["a", "b"]
    second = run(config, first.ticket, at=berlin(2026, 11, 23, 11), memory={}, budget=budget)
    assert second.fired == []
    assert second.skipped == ["a: action limit for one instant reached"]


def test_rules_whose_condition_is_false_do_not_use_the_cap() -> None:
    config = config_with(CAPPED, "max_actions_per_ticket: 1\n")
    budget = [1]
    out = run(config, ticket(tags=("y",)), budget=budget)
    assert (out.fired, out.skipped, budget) == ([], [], [1])


# ---------------------------------------------------------------- loops


def _rules(text: str) -> tuple[Rule, ...]:
    config, _findings = build_config(TEAMS_YAML, "rules:\n" + text)
    assert config is not None
    return config.automation


LOOP = "can trigger each other endlessly"


def test_two_rules_that_trigger_each_other_are_reported() -> None:
    # low -> high -> low -> ...: each rule makes the other's condition true again.
    rules = _rules(
        "  - name: bump\n    when: {priority: low}\n    then: {priority: high}\n"
        "  - name: calm\n    when: {priority: high}\n    then: {priority: low}\n"
    )
    [(index, message)] = loop_findings(rules)
    assert index == 0
    assert message.startswith(f"rules bump, calm {LOOP}")


def test_a_rule_that_only_raises_is_not_named_in_a_loop_it_is_no_part_of() -> None:
    """Two rules setting a priority back and forth were reported with `overdue-raise`
    (`priority: raise`), which runs out and is no part of their loop."""
    rules = _rules(
        "  - name: overdue-raise\n    when: {overdue: '>1h', priority: '<urgent'}\n"
        "    then: {priority: raise}\n"
        "  - name: up1\n    when: {tags: flip, priority: low}\n    then: {priority: high}\n"
        "  - name: down1\n    when: {tags: flip, priority: high}\n    then: {priority: low}\n"
    )
    [(index, message)] = loop_findings(rules)
    assert (index, message.startswith(f"rules up1, down1 {LOOP}")) == (1, True), message


def test_a_longer_cycle_is_reported_once_in_rule_order() -> None:
    # a assigns bob on urgent tickets, b lowers bob's tickets, c makes low tickets urgent.
    rules = _rules(
        "  - name: unrelated\n    when: {channel: phone}\n    then: {note: call back}\n"
        "  - name: c\n    when: {priority: low}\n    then: {priority: urgent}\n"
        "  - name: a\n    when: {priority: urgent}\n    then: {assign: bob}\n"
        "  - name: b\n    when: {assignee: bob}\n    then: {priority: low}\n"
    )
    [(index, message)] = loop_findings(rules)
    assert index == 1
    assert message.startswith(f"rules c, a, b {LOOP}")


def test_rules_whose_fixed_fields_overlap_are_still_reported() -> None:
    """The categories the rules need overlap (bug): a bug ticket ping-pongs."""
    rules = _rules(
        "  - name: c\n    when: {category: bug, priority: '>low'}\n    then: {priority: low}\n"
        "  - name: d\n    when: {category: [bug, data], priority: '<urgent'}\n"
        "    then: {priority: urgent}\n"
    )
    assert [message.startswith(f"rules c, d {LOOP}") for _, message in loop_findings(rules)] == [
        True
    ]


def test_status_loops_are_reported() -> None:
    rules = _rules(
        "  - name: park\n    when: {status: open, tags: waiting}\n    then: {status: pending}\n"
        "  - name: wake\n    when: {status: pending}\n    then: {status: open}\n"
    )
    assert [index for index, _ in loop_findings(rules)] == [0]


def test_build_config_reports_a_loop_at_its_first_rule() -> None:
    _config, findings = build_config(
        TEAMS_YAML,
        "rules:\n"
        "  - name: a\n    when: {priority: low}\n    then: {priority: high}\n"
        "  - name: b\n    when: {priority: high}\n    then: {priority: low}\n",
    )
    assert [(f.line, f.message.startswith(f"rules a, b {LOOP}")) for f in findings] == [(2, True)]


def test_the_starter_rules_do_not_loop() -> None:
    config, findings = build_config(TEAMS_YAML, RULES_YAML)
    assert findings == []
    assert config is not None
    assert len(config.automation) == 2
    assert loop_findings(config.automation) == []


@pytest.mark.parametrize(
    "rules",
    [
        # one-way chains
        "  - name: a\n    when: {tags: vip}\n    then: {priority: high}\n"
        "  - name: b\n    when: {priority: high}\n    then: {assign: lead}\n",
        # a rule reading what it writes itself is not a loop between rules
        "  - name: a\n    when: {priority: '<urgent'}\n    then: {priority: raise}\n",
        # time-based conditions are left out: nothing writes age or idle
        "  - name: a\n    when: {idle: '>1h'}\n    then: {tag: stale}\n"
        "  - name: b\n    when: {tags: stale}\n    then: {note: stale}\n",
        # notes write nothing
        "  - name: a\n    when: {sla: breached}\n    then: {note: late}\n"
        "  - name: b\n    when: {sla: warning}\n    then: {note: soon}\n",
        # one field set two ways, but on tickets of categories no rule changes
        "  - name: outage-is-urgent\n    when: {category: outage, priority: '<urgent'}\n"
        "    then: {priority: urgent}\n"
        "  - name: howto-is-low\n    when: {category: how-to, priority: '>low'}\n"
        "    then: {priority: low}\n",
        "  - name: a\n    when: {category: [bug, data], team: support}\n"
        "    then: {escalate: {to: engineering}}\n"
        "  - name: b\n    when: {category: billing, team: engineering}\n"
        "    then: {escalate: {to: support}}\n",
    ],
)
def test_rules_that_cannot_loop_are_not_reported(rules: str) -> None:
    assert loop_findings(_rules(rules)) == []
