"""A ticket as it was at an earlier moment (esc.domain.as_of), rebuilt from its records."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain import lifecycle
from esc.domain.as_of import (
    History,
    changed_since,
    later_changes,
    ticket_after_people,
    ticket_as_of,
)
from esc.domain.config import Config
from esc.domain.model import Activity, Ticket
from tests.helpers import berlin

CREATED = berlin(2026, 11, 23, 9)


def config() -> Config:
    built, findings = build_config(TEAMS_YAML, RULES_YAML)
    assert findings == [] and built is not None
    return built


def story() -> tuple[Ticket, Config]:
    """Created 09:00; replied 09:30; tagged 10:00; urgent 11:00; escalated 12:00;
    pending 13:00; customer message 14:00 (open again)."""
    cfg = config()
    t = Ticket(
        id="T-1",
        title="x",
        status="new",
        priority="normal",
        team="support",
        created=CREATED,
        updated=CREATED,
        customer="acme",
    )
    steps = [
        lambda t: lifecycle.comment(t, cfg, berlin(2026, 11, 23, 9, 30), "alice", "hi"),
        lambda t: lifecycle.add_tags(t, berlin(2026, 11, 23, 10), "alice", ["vip"]),
        lambda t: lifecycle.classify(t, cfg, berlin(2026, 11, 23, 11), "bob", priority="urgent"),
        lambda t: lifecycle.escalate(
            t, cfg, berlin(2026, 11, 23, 12), "bob", "db", to="engineering"
        ),
        lambda t: lifecycle.wait(t, cfg, berlin(2026, 11, 23, 13), "dan", "asked for logs"),
        lambda t: lifecycle.comment(
            t, cfg, berlin(2026, 11, 23, 14), "acme", "logs", kind="message"
        ),
    ]
    for step in steps:
        t = lifecycle.applied(t, step(t))
    return t, cfg


def test_the_present_is_the_ticket_itself() -> None:
    t, _ = story()
    assert not changed_since(t, berlin(2026, 11, 23, 14))
    assert ticket_as_of(t, berlin(2026, 11, 23, 15)) is t


def test_each_moment_shows_the_fields_of_then() -> None:
    t, _ = story()
    seen = {
        hour: ticket_as_of(t, berlin(2026, 11, 23, hour, 15)) for hour in (9, 10, 11, 12, 13, 14)
    }
    assert [(v.status, v.priority, v.team, v.tags) for v in seen.values()] == [
        ("new", "normal", "support", ()),
        ("open", "normal", "support", ("vip",)),
        ("open", "urgent", "support", ("vip",)),
        ("open", "urgent", "engineering", ("vip",)),
        ("pending", "urgent", "engineering", ("vip",)),
        ("open", "urgent", "engineering", ("vip",)),
    ]
    assert [len(v.escalations) for v in seen.values()] == [0, 0, 0, 1, 1, 1]
    assert [len(v.entries) for v in seen.values()] == [0, 1, 1, 1, 1, 2]
    assert [v.updated.hour for v in seen.values()] == [9, 10, 11, 12, 13, 14]


def test_before_the_first_reply_it_was_new_and_unanswered() -> None:
    t, _ = story()
    before = ticket_as_of(t, berlin(2026, 11, 23, 9, 10))
    assert (before.status, before.first_response_at, before.entries) == ("new", None, ())
    assert before.updated == CREATED
    assert all(a.at <= berlin(2026, 11, 23, 9, 10) for a in before.activity)


def test_an_instant_includes_what_happened_at_it() -> None:
    t, _ = story()
    assert ticket_as_of(t, berlin(2026, 11, 23, 12)).team == "engineering"
    assert ticket_as_of(t, berlin(2026, 11, 23, 12) - dt.timedelta(seconds=1)).team == "support"


def test_a_field_is_as_its_last_change_by_then_left_it_though_a_later_one_says_otherwise(
) -> None:
    """A rule made the ticket urgent at 11:30 in a sweep's replay; a person who never saw it
    (no sweep had run) logged `priority: normal → high` at 12:30.  At 12:00 it was urgent,
    not `normal` as the person's line found it (audit d67: a message's next deadline as of
    11:30 depended on whether a sweep ran in between), whether the log is in time order or
    has the replay's lines after the person's, as a plan's ticket has them."""
    t, _ = story()
    rule = Activity(berlin(2026, 11, 23, 11, 30), "rule:up", field="priority", old="urgent",
                    new="critical")  # fmt: skip
    person = Activity(berlin(2026, 11, 23, 12, 30), "bob", field="priority", old="urgent",
                      new="high")  # fmt: skip
    lines = tuple(t.activity)
    at = berlin(2026, 11, 23, 12)
    for log in (tuple(sorted((*lines, rule, person), key=lambda a: a.at)), (*lines, person, rule)):
        told = dataclasses.replace(t, priority="high", activity=log, updated=person.at)
        assert ticket_as_of(told, at).priority == "critical"
        assert History(told).as_of(at).priority == "critical"
        assert ticket_as_of(told, berlin(2026, 11, 23, 11, 15)).priority == "urgent"
        assert ticket_as_of(told, berlin(2026, 11, 23, 12, 45)).priority == "high"


def test_a_hand_edit_between_two_people_s_lines_counts_as_the_later_line_found_it() -> None:
    """A person escalated to engineering at 13:15; someone edited `team: management` by
    hand (no line); at 13:45 a person moved it back to support from management.  At 13:30
    it was management's, as the later line found it (review r70: not engineering)."""
    t, _ = story()
    moved = Activity(berlin(2026, 11, 23, 13, 15), "bob", field="team", old="support",
                     new="engineering")  # fmt: skip
    back = Activity(berlin(2026, 11, 23, 13, 45), "bob", field="team", old="management",
                    new="support")  # fmt: skip
    lines = tuple(a for a in t.activity if a.field != "team")
    told = dataclasses.replace(t, team="support", activity=(*lines, moved, back),
                               escalations=(), updated=back.at)  # fmt: skip
    at = berlin(2026, 11, 23, 13, 30)
    assert ticket_as_of(told, at).team == "management"
    assert History(told).as_of(at).team == "management"


def test_after_people_a_rule_s_change_at_their_instant_is_undone_theirs_kept() -> None:
    """At 12:00 a person set the priority high, and a rule, seeing it, moved the ticket to
    engineering: the ticket just after what the person did is high and still support's."""
    t, _ = story()
    noon = berlin(2026, 11, 23, 12)
    before = ticket_as_of(t, noon - dt.timedelta(minutes=1))
    person = Activity(noon, "bob", field="priority", old=before.priority, new="high")
    rule = Activity(noon, "rule:up", field="team", old="support", new="engineering")
    lines = [a for a in t.activity if a.at < noon]
    told = dataclasses.replace(
        before, priority="high", team="engineering", updated=noon,
        activity=(*lines, person, rule), escalations=(),
    )  # fmt: skip
    after = ticket_after_people(told, noon)
    assert (after.priority, after.team, after.updated) == ("high", "support", noon)
    assert [a.by for a in after.activity if a.at == noon] == ["bob"]
    assert ticket_as_of(told, noon).team == "engineering"


def test_later_changes_of_one_field() -> None:
    t, _ = story()
    changes = later_changes(t, "status", berlin(2026, 11, 23, 10), berlin(2026, 11, 23, 15))
    assert [(c.at.hour, c.old, c.new) for c in changes] == [
        (13, "open", "pending"),
        (14, "pending", "open"),
    ]
    assert later_changes(t, "status", berlin(2026, 11, 23, 14), berlin(2026, 11, 23, 15)) == []


def test_a_rebuilt_ticket_is_the_record_replace_makes() -> None:
    # ticket_as_of makes its record without dataclasses.replace (a replay rebuilds the
    # ticket at every moment), which holds while a Ticket's __init__ only stores its fields.
    t, _ = story()
    assert not hasattr(Ticket, "__post_init__")
    for hour in range(8, 16):
        seen = ticket_as_of(t, berlin(2026, 11, 23, hour, 30))
        assert type(seen) is Ticket
        fields = {f.name: getattr(seen, f.name) for f in dataclasses.fields(Ticket)}
        assert vars(seen) == vars(dataclasses.replace(t, **fields))


def _fields(ticket: Ticket) -> dict[str, object]:
    values = {f.name: getattr(ticket, f.name) for f in dataclasses.fields(ticket)}
    values["activity"] = tuple(ticket.activity)
    return values


def _longer_story() -> tuple[Ticket, Config]:
    """The story, then a note, a tag taken back by hand... every kind of line again."""
    t, cfg = story()
    steps = [
        lambda t: lifecycle.comment(t, cfg, berlin(2026, 11, 23, 15), "alice", "n", kind="note"),
        lambda t: lifecycle.add_tags(t, berlin(2026, 11, 23, 15, 30), "bob", ["billing"]),
        lambda t: lifecycle.assign(t, cfg, berlin(2026, 11, 23, 16), "bob", "dan"),
        lambda t: lifecycle.resolve(t, cfg, berlin(2026, 11, 23, 17), "dan", "fixed"),
        lambda t: lifecycle.reopen(t, cfg, berlin(2026, 11, 24, 9), "acme", "still broken"),
    ]
    for step in steps:
        t = lifecycle.applied(t, step(t))
    return t, cfg


@settings(max_examples=60, deadline=None)
@given(minutes=st.lists(st.integers(min_value=-60, max_value=26 * 60), min_size=1, max_size=8))
def test_a_history_gives_every_moment_as_ticket_as_of_does(minutes: list[int]) -> None:
    """:class:`History` (bisection over the ordered records, for a replay's many moments)
    makes the very ticket :func:`ticket_as_of` makes, at any instant, in any order asked."""
    t, _ = _longer_story()
    history = History(t)
    assert history.ordered
    for minute in minutes:
        at = CREATED + dt.timedelta(minutes=minute, seconds=minute % 7)
        assert _fields(history.as_of(at)) == _fields(ticket_as_of(t, at)), at


def test_a_history_gives_the_instants_of_its_records_as_ticket_as_of_does() -> None:
    t, _ = _longer_story()
    history = History(t)
    second = dt.timedelta(seconds=1)
    for line in t.activity:
        for at in (line.at - second, line.at, line.at + second):
            assert _fields(history.as_of(at)) == _fields(ticket_as_of(t, at)), at


def test_a_history_of_records_out_of_order_is_ticket_as_of_itself() -> None:
    """A log a hand edit put out of time order: no bisection, the same answers."""
    t, _ = _longer_story()
    lines = tuple(t.activity)
    shuffled = dataclasses.replace(t, activity=(lines[-1], *lines[:-1]))
    history = History(shuffled)
    assert not history.ordered
    for hour in (8, 10, 13, 16, 20):
        at = berlin(2026, 11, 23, hour, 10)
        assert _fields(history.as_of(at)) == _fields(ticket_as_of(shuffled, at))
