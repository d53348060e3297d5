"""The lifecycle operations (esc.lifecycle): pure functions from a Ticket to a Change.

No files here: a Config is built from the starter teams.yaml/rules.yaml text, tickets are
constructed directly, and every operation runs at a fixed, time-zone-aware ``NOW``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain import lifecycle
from esc.domain.config import Config
from esc.domain.errors import BadInput, Refused
from esc.domain.model import Activity, Change, Entry, Escalation, Request, Ticket

CET = dt.timezone(dt.timedelta(hours=1))
CREATED = dt.datetime(2026, 11, 19, 9, 0, tzinfo=CET)
EARLIER = dt.datetime(2026, 11, 19, 15, 30, tzinfo=CET)
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CET)
NOW_TEXT = "2026-11-20T10:00:00+01:00"
EARLIER_TEXT = "2026-11-19T15:30:00+01:00"

# The starter configuration plus: a second level-1 team ("partners", which takes refunds),
# a category no team handles ("other"), and a routing rule that sends urgent billing
# tickets straight to management, ahead of support's `handles`.
CUSTOM_TEAMS = (
    TEAMS_YAML.replace(
        "handles: [billing, account, how-to, refund]", "handles: [billing, account, how-to]"
    )
    + """\
  partners:
    name: Partner Desk
    level: 1
    members: [gina]
    escalates_to: engineering
    handles: [refund]
"""
)
CUSTOM_RULES = RULES_YAML.replace(
    "categories: [billing, account, how-to, refund, bug, outage, data]",
    "categories: [billing, account, how-to, refund, bug, outage, data, other]",
).replace(
    "routing:                     # first match wins; then the teams' `handles`; then `intake`\n",
    "routing:\n  - when: {category: billing, priority: urgent}\n    team: management\n",
)


def make_config(teams: str, rules: str) -> Config:
    config, findings = build_config(teams, rules)
    assert findings == []
    assert config is not None
    return config


@pytest.fixture(scope="module")
def config() -> Config:
    return make_config(TEAMS_YAML, RULES_YAML)


@pytest.fixture(scope="module")
def custom() -> Config:
    return make_config(CUSTOM_TEAMS, CUSTOM_RULES)


def ticket(**changes: Any) -> Ticket:
    """An open support ticket about billing, assigned to alice, with the given changes."""
    base = Ticket(
        id="T-4k8q2m7x",
        title="Card declined",
        status="open",
        priority="normal",
        team="support",
        created=CREATED,
        updated=CREATED,
        category="billing",
        assignee="alice",
        customer="dave@example.com",
        channel="email",
    )
    return dataclasses.replace(base, **changes)


def change_log(change: Change) -> list[tuple[str | None, str | None, str | None, str | None]]:
    """The activity of a change as (field or event, old, new, note) for field changes and
    (event, None, None, note) for events."""
    return [(a.field or a.event, a.old, a.new, a.note) for a in change.activity]


def assert_stamped(change: Change, actor: str = "bob") -> None:
    """Every activity entry of a real change is at NOW by the actor, and `updated` is NOW."""
    assert change.sets["updated"] == NOW
    assert change.activity, "a change must be logged"
    for item in change.activity:
        assert item.at == NOW
        assert item.by == actor


def assert_empty(change: Change) -> None:
    assert not change
    assert dict(change.sets) == {}
    assert change.activity == ()
    assert change.entries == ()
    assert change.escalations == ()
    assert change.tags_added == ()


# ---------------------------------------------------------------- create


def test_a_title_s_spaces_within_are_kept_as_typed(config: Config) -> None:
    """`東京　支店` (an ideographic space) became `東京 支店`, and runs of spaces one: the
    README says a title is refused or never changed."""
    for title in ("東京\u3000支店", "Order\u00a0#4711", "two  spaces"):
        front, _ = lifecycle.create(lifecycle.Intake(title, "x"), "T-4k8q2m7x", config, NOW, "a")
        assert front["title"] == title


def test_create_records_the_intake_and_defaults(config: Config) -> None:
    intake = lifecycle.Intake(
        "  Card   declined  ",
        "It fails.",
        customer="dave@example.com",
        channel="email",
        tags=("vip", "eu", "vip"),
    )
    front, activity = lifecycle.create(intake, "T-4k8q2m7x", config, NOW, "alice")
    assert front["id"] == "T-4k8q2m7x"
    assert front["title"] == "Card   declined"  # (trimmed; as typed within: never changed)
    assert front["status"] == "new"
    assert front["priority"] == "normal"  # rules.yaml's default_priority
    assert front["team"] == "support"  # no category: the intake team
    assert front["assignee"] is None
    assert front["customer"] == "dave@example.com"
    assert front["channel"] == "email"
    assert front["created"] == NOW
    assert front["updated"] == NOW
    assert front["first_response_at"] is None
    assert front["resolved_at"] is None
    assert front["closed_at"] is None
    assert front["tags"] == ["vip", "eu"]
    assert front["escalations"] == []
    assert activity == [
        Activity(
            NOW,
            "alice",
            event="created",
            note="normal priority via email, routed to support (intake)",
        )
    ]


@pytest.mark.parametrize(
    ("category", "team", "why"),
    [
        ("billing", "support", "support handles billing"),
        ("bug", "engineering", "engineering handles bug"),
        ("outage", "engineering", "routing rule 1"),
    ],
)
def test_create_routes_by_category(config: Config, category: str, team: str, why: str) -> None:
    front, activity = lifecycle.create(
        lifecycle.Intake("x", category=category), "T-1", config, NOW, "alice"
    )
    assert front["category"] == category
    assert front["team"] == team
    assert activity[0].note == f"normal priority, routed to {team} ({why})"


def test_create_sends_a_category_nobody_handles_to_intake(custom: Config) -> None:
    front, _ = lifecycle.create(lifecycle.Intake("x", category="other"), "T-1", custom, NOW, "a")
    assert front["team"] == "support"


def test_create_routing_rule_wins_over_handles(custom: Config) -> None:
    urgent, _ = lifecycle.create(
        lifecycle.Intake("x", category="billing", priority="urgent"), "T-1", custom, NOW, "a"
    )
    normal, _ = lifecycle.create(
        lifecycle.Intake("x", category="billing", priority="normal"), "T-2", custom, NOW, "a"
    )
    assert urgent["team"] == "management"
    assert normal["team"] == "support"


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [("high", "high", "urgent"), ("high", "medium", "high"), ("medium", "low", "low")],
)
def test_create_priority_from_the_matrix(
    config: Config, impact: str, urgency: str, priority: str
) -> None:
    front, _ = lifecycle.create(
        lifecycle.Intake("x", impact=impact, urgency=urgency), "T-1", config, NOW, "a"
    )
    assert front["priority"] == priority
    assert front["impact"] == impact
    assert front["urgency"] == urgency


def test_create_explicit_priority_wins_over_the_matrix(config: Config) -> None:
    front, _ = lifecycle.create(
        lifecycle.Intake("x", priority="low", impact="high", urgency="high"),
        "T-1",
        config,
        NOW,
        "a",
    )
    assert front["priority"] == "low"


@pytest.mark.parametrize(
    ("intake", "message"),
    [
        (lifecycle.Intake("   "), "a ticket needs a --title"),
        (lifecycle.Intake("x", channel="fax"), "unknown channel 'fax'"),
        (lifecycle.Intake("x", category="gardening"), "unknown category 'gardening'"),
        (lifecycle.Intake("x", priority="meh"), "unknown priority 'meh'"),
        (lifecycle.Intake("x", impact="high"), "give both --impact and --urgency"),
        (lifecycle.Intake("x", urgency="high"), "give both --impact and --urgency"),
        (lifecycle.Intake("x", impact="huge", urgency="high"), "unknown impact 'huge'"),
        (lifecycle.Intake("x", impact="high", urgency="now"), "unknown urgency 'now'"),
    ],
)
def test_create_refuses_bad_input(config: Config, intake: lifecycle.Intake, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        lifecycle.create(intake, "T-1", config, NOW, "alice")


# ---------------------------------------------------------------- classify


def test_classify_re_routes_a_first_level_ticket(config: Config) -> None:
    change = lifecycle.classify(ticket(), config, NOW, "bob", category="bug")
    assert dict(change.sets) == {
        "category": "bug",
        "team": "engineering",
        "assignee": None,
        "updated": NOW,
    }
    assert change_log(change) == [
        ("category", "billing", "bug", ""),
        ("team", "support", "engineering", "re-routed (engineering handles bug)"),
        ("assignee", "alice", None, ""),
    ]
    assert_stamped(change)


def test_classify_does_not_re_route_a_resolved_ticket(config: Config) -> None:
    """A resolved ticket keeps the team that resolved it (`escalate` refuses to move one):
    its category changes, and nothing else."""
    resolved = ticket(status="resolved", resolved_at=EARLIER)
    change = lifecycle.classify(resolved, config, NOW, "bob", category="bug")
    assert dict(change.sets) == {"category": "bug", "updated": NOW}


def test_classify_within_the_same_team_keeps_team_and_assignee(config: Config) -> None:
    change = lifecycle.classify(ticket(), config, NOW, "bob", category="refund")
    assert dict(change.sets) == {"category": "refund", "updated": NOW}


def test_classify_priority_and_matrix(config: Config) -> None:
    change = lifecycle.classify(ticket(), config, NOW, "bob", impact="high", urgency="medium")
    assert dict(change.sets) == {
        "impact": "high",
        "urgency": "medium",
        "priority": "high",
        "updated": NOW,
    }
    assert change_log(change) == [
        ("impact", None, "high", ""),
        ("urgency", None, "medium", ""),
        ("priority", "normal", "high", ""),
    ]
    explicit = lifecycle.classify(ticket(), config, NOW, "bob", priority="urgent")
    assert dict(explicit.sets) == {"priority": "urgent", "updated": NOW}


def test_classify_re_routes_a_ticket_at_its_first_level_above_level_1(config: Config) -> None:
    """Filed as a bug, routed to engineering (level 2), never escalated: still at its first
    level, so a billing question goes to support (it stayed with engineering, and nothing
    said why, issue 2)."""
    t = ticket(team="engineering", category="bug", assignee="dan")
    change = lifecycle.classify(t, config, NOW, "bob", category="billing")
    assert dict(change.sets) == {
        "category": "billing", "team": "support", "assignee": None, "updated": NOW
    }


def test_classify_does_not_re_route_after_a_team_escalation(custom: Config) -> None:
    escalated = ticket(
        team="partners",
        assignee="gina",
        escalations=(Escalation(EARLIER, "functional", "support", "partners", "bob", "refund"),),
    )
    change = lifecycle.classify(escalated, custom, NOW, "bob", category="account")
    assert dict(change.sets) == {"category": "account", "updated": NOW}
    # the same ticket without the escalation record would go back to support
    fresh = dataclasses.replace(escalated, escalations=())
    rerouted = lifecycle.classify(fresh, custom, NOW, "bob", category="account")
    assert rerouted.sets["team"] == "support"


def test_classify_still_re_routes_after_a_priority_escalation(config: Config) -> None:
    t = ticket(escalations=(Escalation(EARLIER, "priority", "low", "normal", "bob", "vip"),))
    change = lifecycle.classify(t, config, NOW, "bob", category="data")
    assert change.sets["team"] == "engineering"


def test_classify_to_an_unhandled_category_routes_to_intake(custom: Config) -> None:
    t = ticket(team="partners", category="refund", assignee="gina")
    change = lifecycle.classify(t, custom, NOW, "bob", category="other")
    assert change.sets["team"] == "support"
    assert change.sets["assignee"] is None
    assert ("team", "partners", "support", "re-routed (intake)") in change_log(change)


def test_classify_same_values_is_a_no_op(config: Config) -> None:
    assert_empty(
        lifecycle.classify(ticket(), config, NOW, "bob", category="billing", priority="normal")
    )


def test_classify_with_the_category_it_has_moves_nothing(config: Config) -> None:
    """The same category said again (a script's) is no change, though routing would now
    give the ticket to another team (routing rules edited since, or a tag they read): the
    team and its assignee stay."""
    t = ticket(team="engineering", category="billing", assignee="dan")
    assert_empty(lifecycle.classify(t, config, NOW, "bob", category="billing"))
    with_priority = lifecycle.classify(t, config, NOW, "bob", category="billing", priority="high")
    assert dict(with_priority.sets) == {"priority": "high", "updated": NOW}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, BadInput, "nothing to classify"),
        ({"category": "gardening"}, BadInput, "unknown category 'gardening'"),
        ({"priority": "meh"}, BadInput, "unknown priority 'meh'"),
        ({"urgency": "high"}, BadInput, "give both --impact and --urgency"),
        ({"impact": "high"}, BadInput, "give both --impact and --urgency"),
        ({"impact": "huge", "urgency": "high"}, BadInput, "unknown impact 'huge'"),
    ],
)
def test_classify_refuses_bad_input(
    config: Config, kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        lifecycle.classify(ticket(), config, NOW, "bob", **kwargs)


def test_classify_refuses_a_closed_ticket(config: Config) -> None:
    with pytest.raises(Refused, match="T-4k8q2m7x is closed; cannot classify it"):
        lifecycle.classify(ticket(status="closed"), config, NOW, "bob", category="bug")


# ---------------------------------------------------------------- assign


def test_assign_a_member_opens_a_new_ticket(config: Config) -> None:
    change = lifecycle.assign(ticket(status="new", assignee=None), config, NOW, "carol", "bob")
    assert dict(change.sets) == {"assignee": "bob", "status": "open", "updated": NOW}
    assert change_log(change) == [("assignee", None, "bob", ""), ("status", "new", "open", "")]
    assert_stamped(change, "carol")


def test_assign_the_team_lead(config: Config) -> None:
    change = lifecycle.assign(ticket(), config, NOW, "bob", "carol")
    assert dict(change.sets) == {"assignee": "carol", "updated": NOW}
    assert change_log(change) == [("assignee", "alice", "carol", "")]


def test_assign_refuses_a_non_member(config: Config) -> None:
    with pytest.raises(Refused) as caught:
        lifecycle.assign(ticket(), config, NOW, "bob", "dan")
    assert str(caught.value) == (
        "dan is not in team support (alice, bob, carol); use --force to assign anyway"
    )
    with pytest.raises(Refused) as caught:  # (a name a typo away: the member meant)
        lifecycle.assign(ticket(), config, NOW, "bob", "carl")
    assert "(alice, bob, carol) (did you mean 'carol'?); use --force" in str(caught.value)


def test_assign_force_allows_a_non_member(config: Config) -> None:
    change = lifecycle.assign(ticket(), config, NOW, "bob", "dan", force=True)
    assert change.sets["assignee"] == "dan"
    # (a member of another team, as teams.yaml spells them: `DAN` was written `DAN`, and
    # the same person spelled two ways; helper-446)
    change = lifecycle.assign(ticket(), config, NOW, "bob", "DAN", force=True)
    assert change.sets["assignee"] == "dan"
    change = lifecycle.assign(ticket(), config, NOW, "bob", "Zed", force=True)
    assert change.sets["assignee"] == "Zed"  # (nobody's: as given)


@pytest.mark.parametrize(
    ("person", "message"),
    [
        ("", "the assignee is empty: name a person"),
        ("  ", "the assignee is empty: name a person"),
        ("x\ty", "the assignee 'x\\ty' is no name: it has a tab"),
    ],
)
def test_assign_refuses_no_name_even_with_force(config: Config, person: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        lifecycle.assign(ticket(), config, NOW, "bob", person, force=True)
    assert str(caught.value) == message


def test_assign_refuses_on_an_unknown_team(config: Config) -> None:
    with pytest.raises(Refused, match=r"alice is not in team ghosts \(nobody\)"):
        lifecycle.assign(ticket(team="ghosts"), config, NOW, "bob", "alice")


def test_assign_refuses_a_closed_ticket(config: Config) -> None:
    with pytest.raises(Refused, match="is closed; cannot assign it"):
        lifecycle.assign(ticket(status="closed"), config, NOW, "bob", "bob", force=True)


def test_assign_the_same_person_is_a_no_op(config: Config) -> None:
    assert_empty(lifecycle.assign(ticket(), config, NOW, "bob", "alice"))


# ---------------------------------------------------------------- comment


def test_first_public_reply_sets_first_response_and_opens(config: Config) -> None:
    t = ticket(status="new", assignee=None)
    change = lifecycle.comment(t, config, NOW, "bob", "Looking into it", "reply")
    assert change.entries == (Entry(NOW, "bob", "reply", "Looking into it"),)
    assert dict(change.sets) == {"first_response_at": NOW, "status": "open", "updated": NOW}
    assert change_log(change) == [
        ("reply added", None, None, ""),
        ("first_response_at", None, NOW_TEXT, ""),
        ("status", "new", "open", ""),
    ]
    assert_stamped(change)


def test_later_reply_keeps_the_first_response(config: Config) -> None:
    t = ticket(first_response_at=EARLIER)
    change = lifecycle.comment(t, config, NOW, "bob", "Any news?", "reply")
    assert dict(change.sets) == {"updated": NOW}
    assert change_log(change) == [("reply added", None, None, "")]


def test_a_reply_written_by_hand_before_is_the_first_response(config: Config) -> None:
    """A hand-written ticket with a public reply and no `first_response_at`: the next reply
    was stamped as the first response, a day late."""
    earlier = Entry(EARLIER, "bob", "reply", "On it")
    t = ticket(status="open", entries=(Entry(EARLIER, "ann", "note", "x"), earlier))
    change = lifecycle.comment(t, config, NOW, "bob", "Any news?", "reply")
    assert change.sets["first_response_at"] == EARLIER
    resolved = lifecycle.resolve(t, config, NOW, "bob", "Fixed")
    assert resolved.sets["first_response_at"] == EARLIER


def test_internal_note_is_not_a_response(config: Config) -> None:
    t = ticket(status="new", assignee=None)
    change = lifecycle.comment(t, config, NOW, "bob", "check the logs", "note")
    assert change.entries == (Entry(NOW, "bob", "note", "check the logs"),)
    assert change.entries[0].visibility == "internal"
    assert dict(change.sets) == {"updated": NOW}
    assert change_log(change) == [("internal note added", None, None, "")]


def test_customer_message_takes_a_pending_ticket_back_to_open(config: Config) -> None:
    change = lifecycle.comment(ticket(status="pending"), config, NOW, "dave", "Here", "message")
    assert change.entries == (Entry(NOW, "dave", "message", "Here"),)
    assert dict(change.sets) == {"status": "open", "updated": NOW}
    assert change_log(change) == [
        ("message added", None, None, ""),
        ("status", "pending", "open", "customer replied"),
    ]
    assert_stamped(change, "dave")


def test_customer_message_reopens_a_resolved_ticket(config: Config) -> None:
    t = ticket(status="resolved", resolved_at=EARLIER, first_response_at=EARLIER)
    change = lifecycle.comment(t, config, NOW, "dave", "Still broken", "message")
    assert dict(change.sets) == {"status": "open", "resolved_at": None, "updated": NOW}
    assert ("resolved_at", EARLIER_TEXT, None, "") in change_log(change)


def test_customer_message_on_a_resolved_ticket_keeps_a_rating_it_has(config: Config) -> None:
    """Only the resolution goes (a merge's helper shared with comment cleared the rating
    and `closed_at` of a resolved ticket too, as `esc reopen` does of a closed one)."""
    t = ticket(status="resolved", resolved_at=EARLIER, first_response_at=EARLIER, csat=4)
    change = lifecycle.comment(t, config, NOW, "dave", "Still broken", "message")
    assert dict(change.sets) == {"status": "open", "resolved_at": None, "updated": NOW}


def test_a_customer_s_message_after_a_close_it_never_saw_opens_it(config: Config) -> None:
    """In a merge: alice closed the ticket at EARLIER in her clone, Ann's message came at
    NOW in the cron's; it opens again as `esc reopen` opens it, logged by Ann."""
    closed = ticket(status="closed", resolved_at=EARLIER, closed_at=EARLIER, csat=2)
    change = lifecycle.answered_after(closed, NOW, "ann@shop.example")
    assert dict(change.sets) == {
        "status": "open", "resolved_at": None, "closed_at": None, "csat": None, "updated": NOW,
    }  # fmt: skip
    assert ("status", "closed", "open", "customer replied") in change_log(change)
    assert_stamped(change, "ann@shop.example")
    assert not lifecycle.answered_after(ticket(status="open"), NOW, "ann@shop.example")


def test_customer_message_does_not_set_first_response(config: Config) -> None:
    change = lifecycle.comment(ticket(status="new"), config, NOW, "dave", "Hello", "message")
    assert "first_response_at" not in change.sets
    assert "status" not in change.sets


def test_comment_on_a_closed_ticket_only_as_internal_note(config: Config) -> None:
    closed = ticket(status="closed", resolved_at=EARLIER, closed_at=EARLIER)
    for kind in ("reply", "message"):
        with pytest.raises(Refused, match="is closed; only internal notes can be added"):
            lifecycle.comment(closed, config, NOW, "bob", "hi", kind)
    note = lifecycle.comment(closed, config, NOW, "bob", "for the record", "note")
    assert note.entries == (Entry(NOW, "bob", "note", "for the record"),)


@pytest.mark.parametrize("text", ["", "  \n\t "])
def test_comment_refuses_empty_text(config: Config, text: str) -> None:
    with pytest.raises(BadInput, match="the comment is empty"):
        lifecycle.comment(ticket(), config, NOW, "bob", text, "reply")


# ---------------------------------------------------------------- wait / resume


@pytest.mark.parametrize("status", ["new", "open"])
def test_wait_puts_the_ticket_on_hold_with_the_reason(config: Config, status: str) -> None:
    change = lifecycle.wait(ticket(status=status), config, NOW, "bob", "send the logs")
    assert dict(change.sets) == {"status": "pending", "updated": NOW}
    assert change_log(change) == [("status", status, "pending", "send the logs")]
    assert_stamped(change)


@pytest.mark.parametrize("status", ["pending", "resolved", "closed"])
def test_wait_refuses_other_statuses(config: Config, status: str) -> None:
    with pytest.raises(Refused, match=f"is {status}; only a new or open ticket can wait"):
        lifecycle.wait(ticket(status=status), config, NOW, "bob", "why")


def test_wait_needs_a_reason(config: Config) -> None:
    with pytest.raises(BadInput, match="--reason must not be empty"):
        lifecycle.wait(ticket(), config, NOW, "bob", "  ")


def test_resume_takes_a_pending_ticket_back_to_open(config: Config) -> None:
    change = lifecycle.resume(ticket(status="pending"), config, NOW, "bob")
    assert dict(change.sets) == {"status": "open", "updated": NOW}
    assert change_log(change) == [("status", "pending", "open", "")]
    assert_stamped(change)


@pytest.mark.parametrize("status", ["new", "open", "resolved", "closed"])
def test_resume_refuses_a_ticket_that_is_not_pending(config: Config, status: str) -> None:
    with pytest.raises(Refused, match=f"T-4k8q2m7x is {status}, not pending"):
        lifecycle.resume(ticket(status=status), config, NOW, "bob")


# ---------------------------------------------------------------- escalate


def test_functional_escalation(config: Config) -> None:
    change = lifecycle.escalate(
        ticket(status="new"), config, NOW, "bob", "needs a developer", to="engineering"
    )
    assert change.escalations == (
        Escalation(NOW, "functional", "support", "engineering", "bob", "needs a developer"),
    )
    assert dict(change.sets) == {
        "team": "engineering",
        "assignee": None,
        "status": "open",
        "updated": NOW,
    }
    assert change_log(change) == [
        ("team", "support", "engineering", "functional escalation: needs a developer"),
        ("assignee", "alice", None, ""),
        ("status", "new", "open", ""),
    ]
    assert_stamped(change)


def test_hierarchical_escalation_goes_to_escalates_to(config: Config) -> None:
    t = ticket(team="engineering", assignee="dan", category="bug")
    change = lifecycle.escalate(t, config, NOW, "dan", "needs a decision", up=True)
    assert change.escalations == (
        Escalation(NOW, "hierarchical", "engineering", "management", "dan", "needs a decision"),
    )
    assert dict(change.sets) == {"team": "management", "assignee": None, "updated": NOW}
    assert change_log(change)[0] == (
        "team",
        "engineering",
        "management",
        "hierarchical escalation: needs a decision",
    )


def test_escalation_of_a_pending_ticket_keeps_it_pending(config: Config) -> None:
    change = lifecycle.escalate(ticket(status="pending"), config, NOW, "bob", "r", up=True)
    assert "status" not in change.sets


def test_priority_escalation(config: Config) -> None:
    change = lifecycle.escalate(ticket(), config, NOW, "bob", "VIP customer", priority="urgent")
    assert change.escalations == (
        Escalation(NOW, "priority", "normal", "urgent", "bob", "VIP customer"),
    )
    assert dict(change.sets) == {"priority": "urgent", "updated": NOW}
    assert change_log(change) == [
        ("priority", "normal", "urgent", "priority escalation: VIP customer"),
    ]
    assert_stamped(change)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"to": "engineering", "up": True},
        {"to": "engineering", "priority": "high"},
        {"up": True, "priority": "high"},
        {"to": "engineering", "up": True, "priority": "high"},
    ],
)
def test_escalate_needs_exactly_one_kind(config: Config, kwargs: dict[str, Any]) -> None:
    with pytest.raises(BadInput, match="give exactly one of --to TEAM, --up or --priority P"):
        lifecycle.escalate(ticket(), config, NOW, "bob", "why", **kwargs)


def test_escalate_needs_a_reason(config: Config) -> None:
    with pytest.raises(BadInput, match="--reason must not be empty"):
        lifecycle.escalate(ticket(), config, NOW, "bob", " ", up=True)


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_escalate_refuses_a_finished_ticket(config: Config, status: str) -> None:
    t = ticket(status=status, resolved_at=EARLIER, closed_at=EARLIER)
    with pytest.raises(Refused, match=f"T-4k8q2m7x is {status}; reopen it before escalating"):
        lifecycle.escalate(t, config, NOW, "bob", "why", up=True)


def test_escalate_to_an_unknown_team_is_bad_input(config: Config) -> None:
    with pytest.raises(
        BadInput, match="unknown team 'legal'; choose from support, engineering, management"
    ):
        lifecycle.escalate(ticket(), config, NOW, "bob", "why", to="legal")


def test_escalate_refuses_the_own_team(config: Config) -> None:
    with pytest.raises(Refused, match="T-4k8q2m7x is already with support"):
        lifecycle.escalate(ticket(), config, NOW, "bob", "why", to="support")


def test_escalate_up_refuses_at_the_top_of_the_chain(config: Config) -> None:
    t = ticket(team="management", assignee="frank")
    with pytest.raises(Refused, match="management is the top of the escalation chain"):
        lifecycle.escalate(t, config, NOW, "bob", "why", up=True)


def test_escalate_up_refuses_from_an_unknown_team(config: Config) -> None:
    with pytest.raises(Refused, match="belongs to unknown team 'ghosts'"):
        lifecycle.escalate(ticket(team="ghosts"), config, NOW, "bob", "why", up=True)


@pytest.mark.parametrize("priority", ["normal", "low"])
def test_priority_escalation_must_go_higher(config: Config, priority: str) -> None:
    with pytest.raises(Refused, match="T-4k8q2m7x is already normal; a priority escalation"):
        lifecycle.escalate(ticket(), config, NOW, "bob", "why", priority=priority)


def test_priority_escalation_refuses_an_unknown_priority(config: Config) -> None:
    with pytest.raises(BadInput, match="unknown priority 'asap'"):
        lifecycle.escalate(ticket(), config, NOW, "bob", "why", priority="asap")


# ---------------------------------------------------------------- resolve / close / reopen


def test_resolve(config: Config) -> None:
    change = lifecycle.resolve(ticket(first_response_at=EARLIER), config, NOW, "bob", "Refunded")
    assert change.entries == (Entry(NOW, "bob", "resolution", "Refunded"),)
    assert change.entries[0].visibility == "public"
    assert dict(change.sets) == {"status": "resolved", "resolved_at": NOW, "updated": NOW}
    assert change_log(change) == [
        ("resolution added", None, None, ""),
        ("status", "open", "resolved", ""),
        ("resolved_at", None, NOW_TEXT, ""),
    ]
    assert_stamped(change)


def test_resolve_counts_as_the_first_response(config: Config) -> None:
    change = lifecycle.resolve(ticket(status="new"), config, NOW, "bob", "Done")
    assert change.sets["first_response_at"] == NOW


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_resolve_refuses_a_finished_ticket(config: Config, status: str) -> None:
    with pytest.raises(Refused, match=f"T-4k8q2m7x is already {status}"):
        lifecycle.resolve(ticket(status=status), config, NOW, "bob", "Done")


def test_resolve_needs_a_resolution(config: Config) -> None:
    with pytest.raises(BadInput, match="--resolution must not be empty"):
        lifecycle.resolve(ticket(), config, NOW, "bob", "")


def test_close_a_resolved_ticket_with_csat_and_feedback(config: Config) -> None:
    t = ticket(status="resolved", resolved_at=EARLIER, first_response_at=EARLIER)
    change = lifecycle.close(t, config, NOW, "bob", csat=4, feedback="Quick, thanks")
    assert change.entries == (Entry(NOW, "dave@example.com", "feedback", "Quick, thanks"),)
    assert dict(change.sets) == {
        "csat": 4,
        "status": "closed",
        "closed_at": NOW,
        "updated": NOW,
    }
    assert change_log(change) == [
        ("feedback added", None, None, ""),
        ("csat", None, "4", ""),
        ("status", "resolved", "closed", ""),
        ("closed_at", None, NOW_TEXT, ""),
    ]
    assert_stamped(change)


def test_close_an_unresolved_ticket_with_a_resolution(config: Config) -> None:
    change = lifecycle.close(ticket(), config, NOW, "bob", resolution="Duplicate")
    assert change.entries == (Entry(NOW, "bob", "resolution", "Duplicate"),)
    assert change.sets["status"] == "closed"
    assert change.sets["resolved_at"] == NOW
    assert change.sets["closed_at"] == NOW
    assert [(f, o, n) for f, o, n, _ in change_log(change) if f == "status"] == [
        ("status", "open", "resolved"),
        ("status", "resolved", "closed"),
    ]


def test_close_feedback_without_a_customer_is_by_customer(config: Config) -> None:
    t = ticket(status="resolved", resolved_at=EARLIER, customer=None)
    change = lifecycle.close(t, config, NOW, "bob", feedback="ok")
    assert change.entries[0].author == "customer"


def test_close_an_unresolved_ticket_needs_a_resolution(config: Config) -> None:
    with pytest.raises(Refused, match="T-4k8q2m7x is open, not resolved; give --resolution"):
        lifecycle.close(ticket(), config, NOW, "bob")


@pytest.mark.parametrize("status", ["open", "resolved", "closed"])
@pytest.mark.parametrize(("option", "text"), [("resolution", ""), ("feedback", "   ")])
def test_close_refuses_an_empty_resolution_or_feedback_whatever_the_status(
    config: Config, status: str, option: str, text: str
) -> None:
    """(on a resolved ticket `--resolution ""` was taken silently as no resolution)"""
    t = ticket(status=status, resolved_at=None if status == "open" else EARLIER)
    with pytest.raises(BadInput, match=f"--{option} must not be empty"):
        lifecycle.close(t, config, NOW, "bob", csat=4, **{option: text})


def test_close_refuses_a_closed_ticket(config: Config) -> None:
    with pytest.raises(Refused, match="T-4k8q2m7x is already closed"):
        lifecycle.close(ticket(status="closed"), config, NOW, "bob", resolution="x")


@pytest.mark.parametrize("csat", [0, 6, -1])
def test_close_refuses_csat_out_of_range(config: Config, csat: int) -> None:
    t = ticket(status="resolved", resolved_at=EARLIER)
    with pytest.raises(BadInput, match="--csat must be from 1 to 5"):
        lifecycle.close(t, config, NOW, "bob", csat=csat)


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_reopen(config: Config, status: str) -> None:
    closed = status == "closed"
    t = ticket(
        status=status,
        resolved_at=EARLIER,
        closed_at=EARLIER if closed else None,
        csat=2 if closed else None,
    )
    change = lifecycle.reopen(t, config, NOW, "bob", "still failing")
    expected_sets: dict[str, object] = {"status": "open", "resolved_at": None, "updated": NOW}
    expected_log = [
        ("status", status, "open", "still failing"),
        ("resolved_at", EARLIER_TEXT, None, ""),
    ]
    if closed:  # the rating was for the closed ticket: cleared, but kept in the log
        expected_sets.update(closed_at=None, csat=None)
        expected_log += [("closed_at", EARLIER_TEXT, None, ""), ("csat", "2", None, "")]
    assert dict(change.sets) == expected_sets
    assert change_log(change) == expected_log
    assert_stamped(change)


@pytest.mark.parametrize("status", ["new", "open", "pending"])
def test_reopen_refuses_an_active_ticket(config: Config, status: str) -> None:
    with pytest.raises(Refused, match=f"is {status}; only a resolved or closed ticket reopens"):
        lifecycle.reopen(ticket(status=status), config, NOW, "bob", "why")


def test_reopen_needs_a_reason(config: Config) -> None:
    t = ticket(status="resolved", resolved_at=EARLIER)
    with pytest.raises(BadInput, match="--reason must not be empty"):
        lifecycle.reopen(t, config, NOW, "bob", "")


# ---------------------------------------------------------------- tags


def test_add_tags_adds_only_new_tags_once() -> None:
    change = lifecycle.add_tags(ticket(tags=("vip",)), NOW, "bob", ["eu", "vip", "eu", "beta"])
    assert change.tags_added == ("eu", "beta")
    assert dict(change.sets) == {"updated": NOW}
    assert change_log(change) == [("tagged", None, None, "eu"), ("tagged", None, None, "beta")]
    assert_stamped(change)


def test_add_existing_tags_is_a_no_op() -> None:
    assert_empty(lifecycle.add_tags(ticket(tags=("vip", "eu")), NOW, "bob", ["eu", "vip"]))


def test_a_tag_is_trimmed_as_a_title_is_and_a_character_that_does_not_print_is_named(
    config: Config,
) -> None:
    """`--tag ' lead'` kept the space (no filter could name it); `--tag $'a\\u00a0b'` was
    said to hold "a line break, tab or control character"."""
    change = lifecycle.add_tags(ticket(tags=("vip",)), NOW, "bob", [" lead ", "vip "])
    assert change.tags_added == ("lead",)
    intake = lifecycle.Intake("t", "", None, None, None, None, None, None, (" lead", "lead"))
    front, _ = lifecycle.create(intake, "T-1", config, NOW, "bob")
    assert front["tags"] == ["lead"]
    with pytest.raises(BadInput, match=r"has U\+00A0, a character that does not print"):
        lifecycle.add_tags(ticket(), NOW, "bob", ["no\u00a0break"])
    # (a tab or a line break around it is refused too, as one inside it is: `\tx` was `x`)
    for given in ("\tx", "x\n"):
        with pytest.raises(BadInput, match=r"has a (tab|line break)"):
            lifecycle.add_tags(ticket(), NOW, "bob", [given])


# ---------------------------------------------------------------- purity


def test_operations_do_not_touch_the_ticket(config: Config) -> None:
    t = ticket(status="new", assignee=None)
    before = dataclasses.asdict(t)
    lifecycle.assign(t, config, NOW, "bob", "bob")
    lifecycle.comment(t, config, NOW, "bob", "hi", "reply")
    lifecycle.escalate(t, config, NOW, "bob", "why", to="engineering")
    lifecycle.classify(t, config, NOW, "bob", category="bug")
    lifecycle.close(t, config, NOW, "bob", resolution="done", csat=5)
    assert dataclasses.asdict(t) == before


# ---------------------------------------------------------------- applying and combining changes


def test_applied_is_the_ticket_after_the_change(config: Config) -> None:
    t = ticket(status="new", assignee=None, tags=("vip",))
    change = lifecycle.combined(
        lifecycle.assign(t, config, NOW, "carol", "bob"),
        lifecycle.add_tags(t, NOW, "carol", ["eu"]),
    )
    after = lifecycle.applied(t, change)
    assert (after.assignee, after.status, after.updated) == ("bob", "open", NOW)
    assert after.tags == ("vip", "eu")
    assert after.activity == change.activity
    assert (after.id, after.title, after.team, after.created) == (t.id, t.title, t.team, CREATED)


def test_applied_appends_escalations_and_entries(config: Config) -> None:
    t = ticket(entries=(Entry(EARLIER, "dave", "message", "help"),))
    escalated = lifecycle.applied(
        t, lifecycle.escalate(t, config, NOW, "bob", "needs a developer", to="engineering")
    )
    assert (escalated.team, escalated.assignee) == ("engineering", None)
    assert [e.to for e in escalated.escalations] == ["engineering"]
    replied = lifecycle.applied(t, lifecycle.comment(t, config, NOW, "bob", "on it", "reply"))
    assert [e.text for e in replied.entries] == ["help", "on it"]
    assert replied.first_response_at == NOW


def test_applied_keeps_unknown_fields_in_extra() -> None:
    t = ticket(extra={"source": "import"})
    after = lifecycle.applied(t, Change(sets={"sla": {"policy": "standard"}, "status": "open"}))
    assert dict(after.extra) == {"source": "import", "sla": {"policy": "standard"}}
    assert dict(t.extra) == {"source": "import"}


def test_combined_does_the_first_then_the_second(config: Config) -> None:
    t = ticket(status="new", assignee=None)
    first = lifecycle.assign(t, config, NOW, "carol", "bob")
    second = lifecycle.escalate(
        lifecycle.applied(t, first), config, NOW, "bob", "needs a developer", up=True
    )
    both = lifecycle.combined(first, second)
    assert dict(both.sets) == {
        "assignee": None,  # the later change wins
        "status": "open",
        "team": "engineering",
        "updated": NOW,
    }
    assert both.escalations == second.escalations
    assert both.activity == first.activity + second.activity
    after = lifecycle.applied(t, both)
    assert (after.team, after.assignee, after.status) == ("engineering", None, "open")


# ---------------------------------------------------------------- other teams


def test_involve_opens_a_request_and_keeps_the_team(config: Config) -> None:
    change = lifecycle.involve(ticket(), config, NOW, "bob", "engineering", "Is it a bug?", "dan")
    assert_stamped(change)
    assert change.requests == (Request(NOW, "bob", "engineering", "dan", "open"),)
    assert "team" not in change.sets and "assignee" not in change.sets
    ask = "Request to engineering (dan): Is it a bug?"
    assert change.entries == (Entry(NOW, "bob", "note", ask),)
    assert change_log(change) == [("involved engineering", None, None, "dan")]
    after = lifecycle.applied(ticket(), change)
    assert after.team == "support" and after.open_requests() == change.requests


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"team": "enginering"}, BadInput, "unknown team 'enginering' (did you mean 'engi"),
        ({"person": "frank"}, BadInput, "frank is not in team engineering (dan, erin)"),
        ({"ask": "  "}, BadInput, "--ask must not be empty"),
        ({"team": "support"}, Refused, "T-4k8q2m7x belongs to support; involve another team"),
    ],
)
def test_involve_refuses_bad_input(
    config: Config, kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    args = {"team": "engineering", "ask": "Is it a bug?", "person": None, **kwargs}
    with pytest.raises(error) as raised:
        lifecycle.involve(ticket(), config, NOW, "bob", **args)
    assert str(raised.value).startswith(message)


def test_involve_refuses_a_second_open_request_and_a_resolved_ticket(config: Config) -> None:
    asked = Request(EARLIER, "alice", "engineering", None, "open")
    with pytest.raises(Refused, match="already has an open request to engineering"):
        lifecycle.involve(ticket(requests=(asked,)), config, NOW, "bob", "engineering", "again?")
    done = dataclasses.replace(asked, state="answered", closed=EARLIER, closed_by="dan")
    change = lifecycle.involve(ticket(requests=(done,)), config, NOW, "bob", "engineering", "more")
    assert change.requests[0].asked == NOW  # an answered request does not block a new one
    with pytest.raises(Refused, match="is resolved; reopen it"):
        lifecycle.involve(ticket(status="resolved"), config, NOW, "bob", "engineering", "x")


def test_answer_and_decline_close_the_open_request(config: Config) -> None:
    asked = Request(EARLIER, "alice", "engineering", "dan", "open")
    before = ticket(requests=(asked,))
    change = lifecycle.answer(before, config, NOW, "dan", "engineering", "Yes, a bug.")
    closed = dataclasses.replace(asked, state="answered", closed=NOW, closed_by="dan")
    assert change.requests == (closed,)
    assert change.entries == (Entry(NOW, "dan", "note", "Answer from engineering: Yes, a bug."),)
    assert change_log(change) == [("request answered by engineering", None, None, "")]
    assert lifecycle.applied(before, change).open_requests() == ()
    declined = lifecycle.answer(before, config, NOW, "dan", "engineering", "Not ours", decline=True)
    assert declined.requests[0].state == "declined"
    assert declined.entries[0].text == "engineering declined: Not ours"
    with pytest.raises(Refused, match="T-4k8q2m7x has no open request to management"):
        lifecycle.answer(before, config, NOW, "frank", "management", "?")
    with pytest.raises(BadInput, match="unknown team 'mgmt'"):
        lifecycle.answer(before, config, NOW, "frank", "mgmt", "?")


def test_an_answer_closes_every_open_request_to_the_team(config: Config) -> None:
    """Two open requests to one team (a merge of two clones asking at once): the answer
    closes both, so none stays open with its OLA clock running."""
    first = Request(EARLIER, "alice", "engineering", None, "open")
    second = Request(EARLIER + dt.timedelta(minutes=1), "bob", "engineering", None, "open")
    before = ticket(requests=(first, second))
    change = lifecycle.answer(before, config, NOW, "dan", "engineering", "Done.")
    assert [r.state for r in change.requests] == ["answered", "answered"]
    assert lifecycle.applied(before, change).open_requests() == ()


def test_escalating_to_the_team_asked_closes_its_request(config: Config) -> None:
    """The owning team keeps a ticket it involves another team in; escalated to that team,
    the ticket is the asked team's own: its request is answered then (else it would stay
    open on its own team, its OLA clock running, which `involve` refuses to make)."""
    asked = Request(EARLIER, "alice", "engineering", "dan", "open")
    other = Request(EARLIER, "alice", "management", None, "open")
    before = ticket(requests=(asked, other))
    change = lifecycle.escalate(before, config, NOW, "bob", "a bug", to="engineering")
    closed = dataclasses.replace(asked, state="answered", closed=NOW, closed_by="bob")
    assert change.requests == (closed,)
    assert ("request answered by engineering", None, None, "the ticket was escalated to "
            "engineering") in change_log(change)  # fmt: skip
    after = lifecycle.applied(before, change)
    assert (after.team, after.open_requests()) == ("engineering", (other,))
    # a priority escalation moves no team: the request stays open
    raised = lifecycle.escalate(before, config, NOW, "bob", "vip", priority="high")
    assert raised.requests == ()


def test_re_routing_to_the_team_asked_closes_its_request(config: Config) -> None:
    """`classify` that re-routes a first-level ticket to a team it asked: as an escalation
    there does, the request is answered (the team owns the ticket now)."""
    asked = Request(EARLIER, "alice", "engineering", None, "open")
    before = ticket(requests=(asked,))
    change = lifecycle.classify(before, config, NOW, "bob", category="bug")
    closed = dataclasses.replace(asked, state="answered", closed=NOW, closed_by="bob")
    assert change.requests == (closed,)
    assert ("request answered by engineering", None, None, "the ticket was re-routed to "
            "engineering") in change_log(change)  # fmt: skip
    after = lifecycle.applied(before, change)
    assert (after.team, after.open_requests()) == ("engineering", ())
    # re-routed elsewhere (or not at all), the request stays open
    kept = lifecycle.classify(before, config, NOW, "bob", category="refund")
    assert kept.requests == ()


def test_mentions_in_internal_notes_are_recorded(config: Config) -> None:
    text = "@dan and @engineering, see this; not mail@dan or @nobody; @dan again."
    change = lifecycle.comment(ticket(), config, NOW, "bob", text, kind="note")
    assert change_log(change)[-1] == ("mentioned", None, None, "@dan @engineering")
    reply = lifecycle.comment(ticket(), config, NOW, "bob", "Thanks @dan", kind="reply")
    assert all(a.event != "mentioned" for a in reply.activity)  # (public replies: no)
    asked = lifecycle.involve(ticket(), config, NOW, "bob", "engineering", "cc @frank")
    assert change_log(asked)[-1] == ("mentioned", None, None, "@frank")


@pytest.mark.parametrize(
    "text",
    [
        "Ran it:\n\n```\nssh @dan deploy\n```\n",
        "Ran it:\n\n~~~~ sh\nssh @dan deploy\n~~~~\n",
        "Ran `ssh @dan deploy` and ``npm i @dan/x``",
        "Ran ```ssh @dan deploy``` again",  # (Slack's way: a code span, no fence)
        "Ran it:\r\n\r\n```\r\nssh @dan deploy\r\n```\r\n",
        "Ran it:\n\n    ssh @dan deploy\n\n    ok\n",  # (an indented code block)
        "    ssh @dan deploy\n\tssh @dan again",  # (one at the start, a tab's indent)
        "## Log\n    ssh @dan deploy",  # (after a heading, or a break: no paragraph)
        "Ran it.\n\n* * *\n    ssh @dan deploy",
    ],
)
def test_a_name_in_code_is_no_mention(config: Config, text: str) -> None:
    """A pasted command or log (fenced, indented or in backticks) named people it paged."""
    assert lifecycle.mentions(config, text) == ()
    after = text + "\n\nOver to @frank."
    assert lifecycle.mentions(config, after) == ("frank",)
    unclosed = "Ran it:\n\n```\nssh @dan deploy\n\nOver to @frank."  # (code to the end)
    assert lifecycle.mentions(config, unclosed) == ()


def test_a_name_beside_code_is_still_a_mention(config: Config) -> None:
    text = "@dan: `make test` fails;\n    @frank too (a paragraph's line, no code block)\n"
    assert lifecycle.mentions(config, text) == ("dan", "frank")
    listed = "Steps:\n- ask @dan\n  - then @frank\n"
    assert lifecycle.mentions(config, listed) == ("dan", "frank")
    # (a review's finds, each lost its mentions: a Slack-style ```code``` taken for a
    # fence to the end; a list item's indented paragraph taken for code; a backtick typed
    # for an apostrophe paired with a code span paragraphs later)
    slack = "```ssh @deploy``` failed, @dan please look\n\nthanks @frank"
    assert lifecycle.mentions(config, slack) == ("dan", "frank")
    item = "- item one\n\n    @dan please look"
    assert lifecycle.mentions(config, item) == ("dan",)
    # (after the list, a paragraph of its own: an indented block then is code again)
    ended = item + "\n\nThe log:\n\n    ssh @frank\n\n@erin?"
    assert lifecycle.mentions(config, ended) == ("dan", "erin")
    # (an item's later paragraphs, indented less than code, keep it in the item)
    steps = "1. Restart\n\n   It failed again.\n\n    @dan can you look"
    assert lifecycle.mentions(config, steps) == ("dan",)
    apostrophe = "I can`t log in.\n\n@frank please check `ssh` output"
    assert lifecycle.mentions(config, apostrophe) == ("frank",)
    # (a URL's path paged bob; `_@dan_`, emphasis, paged nobody)
    assert lifecycle.mentions(config, "see https://x.example/@dan, _@frank_ please") == (
        "frank",
    )
    assert lifecycle.mentions(config, "ping @dan/@frank, not x_@erin") == ("dan", "frank")
    indented = "```\nrun it\n    ```\n@dan inside still\n```\n\n@frank after"
    assert lifecycle.mentions(config, indented) == ("frank",)  # (a fence indented 4: code)


def test_a_name_in_an_html_comment_is_no_mention(config: Config) -> None:
    """Markdown shows an HTML comment to nobody: `<!-- @dan later -->` paged dan (audit
    helper-425)."""
    assert lifecycle.mentions(config, "Fixed. <!-- @dan: tell the customer -->") == ()
    several = "<!--\n@dan\n-->Over to @frank <!-- and @erin --> now"
    assert lifecycle.mentions(config, several) == ("frank",)
    # (an opening never closed is shown as it is: the name in it is read)
    assert lifecycle.mentions(config, "a <!-- b @dan") == ("dan",)
    assert lifecycle.mentions(config, "<!-- x --> @dan <!--") == ("dan",)
    opened = "<!--" * 50_000 + " @dan"  # (one pass: never a search to the end per opening)
    assert lifecycle.mentions(config, opened) == ("dan",)


def test_a_pasted_log_of_backtick_runs_is_read_in_one_pass(config: Config) -> None:
    """Runs of 1, 2, 3… backticks that close nothing (a pasted log), 20 KB in one paragraph:
    a code span was tried from inside each run, to the paragraph's end each time (2.4 s
    here, 40 s at 80 KB, for one `esc comment`)."""
    runs, size, k = [], 0, 1
    while size < 20_000:
        runs.append("`" * k + " a ")
        size, k = size + k + 3, k + 1
    assert lifecycle.mentions(config, "".join(runs) + " @dan") == ("dan",)


def test_a_note_of_many_mentions_is_read_in_one_pass(config: Config) -> None:
    """Each mention looked back to the text's start for the word it is in: a note of
    200,000 lines of mentions took 48 s to add (audit b67)."""
    note = "@dan @frank see https://x.example/@erin\n" * 20_000
    assert lifecycle.mentions(config, note) == ("dan", "frank")


def test_any_name_teams_yaml_accepts_can_be_mentioned_in_any_case() -> None:
    """`@josé`, `@o'neil` were cut at the first letter outside A-Z, and `@Security` missed
    team security: no `mentioned` line at all."""
    teams = TEAMS_YAML.replace(
        "members: [alice, bob]", "members: [alice, bob, josé, \"o'neil\", Clara]"
    )
    assert teams != TEAMS_YAML
    config = make_config(teams, RULES_YAML)
    text = "cc @josé, @o'neil and @clara; @Engineering too; @alice's draft; not @alice-team"
    change = lifecycle.comment(ticket(), config, NOW, "bob", text, kind="note")
    assert change_log(change)[-1] == (
        "mentioned", None, None, "@josé @o'neil @Clara @engineering @alice"
    )
