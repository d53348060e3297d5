"""The ticket record: ``rebuilt`` makes the same Ticket that ``dataclasses.replace`` makes,
for every field, since a Ticket's ``__init__`` only stores its fields."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from esc.domain.model import (
    Activity,
    ActivityLog,
    Escalation,
    Ticket,
    extended,
    field_changes,
    rebuilt,
    times_between,
)

CREATED = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TICKET = Ticket("T-1", "Checkout fails", "open", "high", "support", CREATED, CREATED)

CHANGES: list[dict[str, object]] = [
    {},
    {"status": "resolved", "resolved_at": CREATED + dt.timedelta(hours=2)},
    {
        "team": "engineering",
        "escalations": (Escalation(CREATED, "functional", "support", "engineering", "ann", "db"),),
    },
    {"tags": ("vip",), "extra": {"sla": {"policy": "standard"}}, "complete": False},
]


def test_a_ticket_has_no_post_init_nor_fields_left_out_of_init() -> None:
    assert not hasattr(Ticket, "__post_init__")
    assert all(f.init for f in dataclasses.fields(Ticket))


@pytest.mark.parametrize("values", CHANGES)
def test_rebuilt_is_what_replace_makes(values: dict[str, object]) -> None:
    made = rebuilt(TICKET, values)
    assert made == dataclasses.replace(TICKET, **values)  # type: ignore[arg-type]
    assert vars(made) == vars(dataclasses.replace(TICKET, **values))  # type: ignore[arg-type]
    assert made is not TICKET and vars(TICKET)["status"] == "open"  # (the old one untouched)


# ---------------------------------------------------------------- activity logs

LOG = (
    Activity(CREATED, "ann", field="status", old="new", new="open"),
    Activity(CREATED + dt.timedelta(minutes=5), "ann", event="internal note"),
    Activity(CREATED + dt.timedelta(minutes=9), "bob", field="status", old="open", new="pending"),
)


def test_an_activity_log_is_the_sequence_of_its_lines() -> None:
    log, lines = ActivityLog(LOG), LOG
    assert log == lines and lines == log and list(log) == list(LOG) and len(log) == 3
    assert log[1] is LOG[1] and log[1:] == LOG[1:] and hash(log) == hash(LOG)
    assert repr(log) == repr(LOG)


def test_an_activity_logs_changes_of_a_field_are_found_once() -> None:
    log = ActivityLog(LOG)
    first = field_changes(log, "status")
    assert first == (LOG[0], LOG[2]) and field_changes(log, "status") is first
    assert field_changes(log, "team") == () == field_changes(LOG, "team")
    assert times_between(log, CREATED, CREATED + dt.timedelta(hours=1)) == [LOG[1].at, LOG[2].at]
    assert field_changes(LOG, "status") == first  # (a plain tuple: the same answer)


def test_the_team_at_a_moment_reads_the_escalations_in_time_order() -> None:
    """A sweep that replays a gap appends the rules' escalation of 13:00 after a person's
    of 14:00 (made on the file meanwhile): the team at 13:30 was the rule's, engineering,
    not the support the person's line moved it from."""
    hour = dt.timedelta(hours=1)
    person = Escalation(CREATED + 6 * hour, "functional", "support", "management", "alice", "x")
    rule = Escalation(CREATED + 5 * hour, "hierarchical", "support", "engineering", "rule:up", "")
    ticket = dataclasses.replace(TICKET, team="management", escalations=(person, rule))
    assert ticket.team_at(CREATED + 5.5 * hour) == "engineering"
    assert ticket.team_at(CREATED + 4 * hour) == "support"
    assert ticket.team_at(CREATED + 7 * hour) == "management"
    assert ticket.escalations_in_time() == (rule, person)


def test_moves_of_one_instant_are_in_the_order_of_their_log_lines() -> None:
    """A person re-routed the ticket engineering → support at 12:30, and the replayed rule
    escalated it support → engineering at that instant: escalations came first on a tie,
    so the team before 12:30 read as support, and a replayed escalation of 12:00 was told
    to support (issue 14's audit)."""
    at = CREATED + dt.timedelta(hours=3)
    rule = Escalation(at, "hierarchical", "support", "engineering", "rule:up", "late")
    rerouted = Activity(at, "alice", field="team", old="engineering", new="support",
                        note="re-routed")  # fmt: skip
    escalated = Activity(at, "rule:up", field="team", old="support", new="engineering")
    ticket = dataclasses.replace(TICKET, team="engineering", escalations=(rule,),
                                 activity=(*TICKET.activity, rerouted, escalated))  # fmt: skip
    assert [(m[1], m[2]) for m in ticket.team_moves()] == [
        ("engineering", "support"), ("support", "engineering")]  # fmt: skip
    assert ticket.team_at(at - dt.timedelta(minutes=30)) == "engineering"


def test_a_re_routing_and_two_escalations_in_one_second_are_three_moves_in_order() -> None:
    """`classify` re-routed support → engineering, `escalate --to support` moved it back and
    `escalate --up` to engineering again, all in one second: the re-routing's line is alike
    the last escalation's, and was taken for it, and the two escalations were put in the
    order of the first line of each kind: the ticket read as support's after them."""
    at = CREATED + dt.timedelta(hours=3)
    back = Escalation(at, "functional", "engineering", "support", "ann", "how-to")
    up = Escalation(at, "hierarchical", "support", "engineering", "ann", "key account")
    lines = (
        Activity(at, "ann", field="team", old="support", new="engineering"),  # classify
        Activity(at, "ann", field="team", old="engineering", new="support"),
        Activity(at, "ann", field="team", old="support", new="engineering"),
    )
    ticket = dataclasses.replace(TICKET, team="engineering", escalations=(back, up),
                                 activity=(*TICKET.activity, *lines))  # fmt: skip
    assert ticket.reroutings() == (lines[2],)  # (alike the first: one of them is `classify`'s)
    assert [(m[1], m[2]) for m in ticket.team_moves()] == [
        ("support", "engineering"), ("engineering", "support"), ("support", "engineering")]
    assert ticket.team_at(at + dt.timedelta(seconds=1)) == "engineering"
    assert ticket.team_at(at) == "support"


@pytest.mark.parametrize("hand_edit", ["line taken out", "its old team edited"])
def test_an_escalation_whose_line_a_hand_edit_changed_keeps_its_place(hand_edit: str) -> None:
    """Two escalations in one second, support → engineering → management; the first one's
    `team:` line taken out by hand (or its old team written otherwise): it was put after
    the second, so the ticket read as engineering's before and after them both."""
    at = CREATED + dt.timedelta(hours=3)
    first = Escalation(at, "hierarchical", "support", "engineering", "ann", "up")
    second = Escalation(at, "hierarchical", "engineering", "management", "ann", "up")
    lines = [Activity(at, "ann", field="team", old="engineering", new="management")]
    if hand_edit == "its old team edited":
        lines.insert(0, Activity(at, "ann", field="team", old="sales", new="engineering"))
    ticket = dataclasses.replace(TICKET, team="management", escalations=(first, second),
                                 activity=(*TICKET.activity, *lines))  # fmt: skip
    assert ticket.reroutings() == ()
    assert [(m[1], m[2]) for m in ticket.team_moves()] == [
        ("support", "engineering"), ("engineering", "management")]
    assert ticket.team_at(at) == "support"
    assert ticket.team_at(at + dt.timedelta(seconds=1)) == "management"


def test_a_new_tag_that_starts_as_a_comparison_is_refused_an_old_one_read() -> None:
    """Refused where a tag is given anew; a ticket holding `<3min` already is read as it
    is (it was refused as a broken file: out of `list` and every sweep)."""
    from esc.domain.model import new_tag_problem, tag_problem

    said = "tag '=t' starts with '=', which a filter reads as a comparison"
    assert new_tag_problem("=t") == said
    assert new_tag_problem("t=1") is None
    assert tag_problem("<3min") is None


def test_a_log_extended_line_by_line_tells_each_field_s_changes_as_the_whole_log_does() -> None:
    """A replay applies a rule's lines to the ticket at each of many moments: a long log
    carries on the changes of each field it found, rather than reading itself again."""
    at = CREATED
    lines = [
        Activity(at + dt.timedelta(minutes=n), "rule:r", field=("status", "team", None)[n % 3],
                 old="a", new="b") if n % 3 != 2 else Activity(at, "rule:r", event="tagged")
        for n in range(200)
    ]  # fmt: skip
    log: object = ()
    for n, line in enumerate(lines):
        log = extended(log, [line])  # type: ignore[arg-type]
        if n % 7 == 0:  # (asked now and then, as a replay asks: found, then carried on)
            assert field_changes(log, "status") == tuple(a for a in lines[: n + 1]
                                                         if a.field == "status")  # fmt: skip
    assert tuple(log) == tuple(lines)  # type: ignore[arg-type]
    for name in ("status", "team", "priority"):
        assert field_changes(log, name) == tuple(a for a in lines if a.field == name)  # type: ignore[arg-type]
    assert extended(log, []) is log  # type: ignore[arg-type]
