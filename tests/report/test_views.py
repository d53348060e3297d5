"""What esc prints for tickets: JSON shapes, the ticket view, the list table and SLA phrases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config
from esc.domain.model import Ticket
from esc.domain.plan import sla_of
from esc.domain.sla import Clock, Sla
from esc.report.terminal import columns, printable
from esc.report.views import (
    LIST_COLUMNS,
    clock_phrase,
    next_sla_json,
    sla_cell,
    sla_json,
    ticket_json,
    ticket_table,
    ticket_text,
    upcoming_json,
    upcoming_text,
)
from esc.ticketfile.document import parse

CET = dt.timezone(dt.timedelta(hours=1))
H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=CET)  # Tuesday afternoon

FULL = """\
---
id: T-aaaa0001
title: Invoice missing
status: open
priority: normal
category: billing
team: support
assignee: alice
customer: jane@shop.example
channel: email
created: 2026-11-23T09:00:00+01:00
updated: 2026-11-23T09:30:00+01:00
first_response_at: 2026-11-23T09:30:00+01:00
tags: [vip, eu]
impact: low
urgency: high
escalations:
  - {at: 2026-11-23T09:20:00+01:00, kind: priority, from: low, to: normal, by: bob, reason: x}
region: emea
level: 7
---

The November invoice is not in the portal.

## Conversation

### 2026-11-23T09:25:00+01:00 · bob · note (internal)

Checked billing.

### 2026-11-23T09:30:00+01:00 · alice · reply (public)

We are on it.

## Activity

- 2026-11-23T09:00:00+01:00 · alice · created · normal priority
- 2026-11-23T09:30:00+01:00 · alice · first_response_at: — → 2026-11-23T09:30:00+01:00
"""

BARE = """\
---
id: T-aaaa0002
title: Password reset loops back to the login page
status: {status}
priority: {priority}
team: {team}
created: 2026-11-23T09:00:00+01:00
updated: 2026-11-23T10:00:00+01:00
---

## Activity

- 2026-11-23T09:00:00+01:00 · alice · created
- 2026-11-23T10:00:00+01:00 · alice · status: new → {status}
"""


@pytest.fixture(scope="module")
def config() -> Config:
    built, found = build_config(TEAMS_YAML, RULES_YAML)
    assert found == []
    assert built is not None
    return built


@pytest.fixture(scope="module")
def full() -> Ticket:
    return parse(FULL, "tickets/T-aaaa0001.md").ticket


def bare(status: str = "open", priority: str = "normal", team: str = "support") -> Ticket:
    text = BARE.format(status=status, priority=priority, team=team)
    return parse(text, "tickets/T-aaaa0002.md").ticket


# ---------------------------------------------------------------- ticket_json


def test_ticket_json_has_the_front_matter_names_and_the_computed_level(
    config: Config, full: Ticket
) -> None:
    data = ticket_json(full, config)
    assert list(data) == [
        "id", "title", "status", "priority", "category", "team", "level", "assignee",
        "customer", "channel", "created", "updated", "first_response_at", "resolved_at",
        "closed_at", "tags", "impact", "urgency", "csat", "kb", "escalations", "requests",
        "region",
    ]  # fmt: skip
    assert data["requests"] == []  # (not in the file until a team is involved; always here)
    assert data["level"] == 1  # the team's level, not the file's `level: 7`
    assert data["created"] == "2026-11-23T09:00:00+01:00"
    assert data["resolved_at"] is None
    assert data["tags"] == ["vip", "eu"]
    assert data["region"] == "emea"
    assert data["escalations"] == [
        {
            "at": "2026-11-23T09:20:00+01:00",
            "kind": "priority",
            "from": "low",
            "to": "normal",
            "by": "bob",
            "reason": "x",
        }
    ]
    assert "sla" not in data and "description" not in data
    json.dumps(data)  # plain JSON, nothing else


def test_ticket_json_full_adds_description_conversation_and_activity(
    config: Config, full: Ticket
) -> None:
    data = ticket_json(full, config, full=True)
    assert data["description"] == "The November invoice is not in the portal."
    assert data["conversation"] == [
        {
            "at": "2026-11-23T09:25:00+01:00",
            "author": "bob",
            "kind": "note",
            "visibility": "internal",
            "text": "Checked billing.",
        },
        {
            "at": "2026-11-23T09:30:00+01:00",
            "author": "alice",
            "kind": "reply",
            "visibility": "public",
            "text": "We are on it.",
        },
    ]
    assert data["activity"][1] == {
        "at": "2026-11-23T09:30:00+01:00",
        "by": "alice",
        "field": "first_response_at",
        "old": None,
        "new": "2026-11-23T09:30:00+01:00",
        "event": None,
        "note": "",
    }
    assert data["activity"][0]["event"] == "created"
    json.dumps(data)


def test_ticket_json_of_an_unknown_team_has_no_level(config: Config) -> None:
    assert ticket_json(bare(team="legal"), config)["level"] is None


# ---------------------------------------------------------------- sla_json and clock_phrase


def test_sla_json_gives_each_clock(config: Config, full: Ticket) -> None:
    sla = sla_of(full, config, NOW)
    assert ticket_json(full, config, sla=sla)["sla"] == sla_json(sla)
    assert sla_json(sla) == {
        "policy": "standard",
        "first_response": {
            "due": "2026-11-23T13:00:00+01:00",
            "state": "met",
            "target": "4h",
            "used": "30m",
            "stopped": "2026-11-23T09:30:00+01:00",
        },
        "resolution": {
            "due": "2026-11-25T17:00:00+01:00",  # 8h Monday, 8h Tuesday, 8h Wednesday
            "state": "ok",
            "target": "24h",
            "used": "14h",
            "stopped": None,
        },
    }


def test_sla_json_without_a_policy_is_empty() -> None:
    assert sla_json(Sla(NOW, None, "no policy matches")) == {}


def test_a_paused_clock_has_no_due_time(config: Config) -> None:
    sla = sla_of(bare(status="pending"), config, NOW)
    assert sla_json(sla)["resolution"] == {
        "due": None,
        "state": "paused",
        "target": "24h",
        "used": "1h",
        "stopped": None,
    }
    assert [clock_phrase(c, NOW) for c in sla.clocks] == [
        "first_response paused (3h left)",
        "resolution paused (23h left)",
    ]


def test_clock_phrases_for_met_running_and_breached_clocks(config: Config, full: Ticket) -> None:
    met, running = sla_of(full, config, NOW).clocks
    assert clock_phrase(met, NOW) == "first_response met (due 2026-11-23T13:00:00+01:00)"
    # a deadline is never rounded down to a whole day: Tue 15:00 to Wed 17:00 is 1d2h
    assert clock_phrase(running, NOW) == "resolution ok, due in 1d2h (2026-11-25T17:00:00+01:00)"
    later = dt.datetime(2026, 11, 27, 17, 0, tzinfo=CET)
    late = sla_of(full, config, later).clocks[1]
    assert clock_phrase(late, later) == (
        "resolution breached 2d ago (due 2026-11-25T17:00:00+01:00)"
    )


def test_clock_phrases_show_the_due_time_in_the_zone_of_now(config: Config) -> None:
    utc_now = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.timezone.utc)
    urgent = sla_of(bare(priority="urgent"), config, utc_now)
    assert [clock_phrase(c, utc_now) for c in urgent.clocks] == [
        "first_response breached 1d5h ago (due 2026-11-23T08:30:00+00:00)",
        "resolution breached 1d2h ago (due 2026-11-23T12:00:00+00:00)",
    ]


def test_upcoming_json_says_how_long_until_the_deadline(config: Config, full: Ticket) -> None:
    clock = sla_of(full, config, NOW).clocks[1]
    assert upcoming_json(full, clock, NOW) == {
        "id": "T-aaaa0001",
        "title": "Invoice missing",
        "team": "support",
        "priority": "normal",
        "assignee": "alice",
        "metric": "resolution",
        "due": "2026-11-25T17:00:00+01:00",
        "state": "ok",
        "in": "1d2h",
    }
    # (as `upcoming` prints it: from a day on, days and hours, the minutes dropped; it
    # said `2d3h59m` where the text said `2d3h`)
    later = NOW - dt.timedelta(minutes=59, seconds=30)
    assert upcoming_json(full, clock, later)["in"] == "1d2h"


# ---------------------------------------------------------------- ticket_text


def test_ticket_text_shows_facts_sla_escalations_and_conversation(
    config: Config, full: Ticket
) -> None:
    text = ticket_text(full, config, NOW, colour=False, sla=sla_of(full, config, NOW))
    assert text == (
        "T-aaaa0001  Invoice missing\n"
        "\n"
        "  status         open\n"
        "  priority       normal\n"
        "  team           Customer Support (support, level 1)\n"
        "  assignee       alice\n"
        "  category       billing\n"
        "  customer       jane@shop.example via email\n"
        "  created        2026-11-23T09:00:00+01:00 (1d ago)\n"
        "  updated        2026-11-23T09:30:00+01:00\n"
        "  impact         low, urgency high\n"
        "  first response 2026-11-23T09:30:00+01:00\n"
        "  tags           vip, eu\n"
        "\n"
        "SLA (standard)\n"
        "  first_response met (due 2026-11-23T13:00:00+01:00)\n"
        "  resolution ok, due in 1d2h (2026-11-25T17:00:00+01:00)\n"
        "\n"
        "Escalations\n"
        "  2026-11-23T09:20:00+01:00  priority     low → normal  by bob: x\n"
        "\n"
        "Description\n"
        "\n"
        "    The November invoice is not in the portal.\n"
        "\n"
        "Conversation\n"
        "\n"
        "  2026-11-23T09:25:00+01:00  bob · internal note\n"
        "    Checked billing.\n"
        "\n"
        "  2026-11-23T09:30:00+01:00  alice · reply\n"
        "    We are on it."
    )


def test_ticket_text_of_a_bare_ticket_marks_what_is_missing(config: Config) -> None:
    text = ticket_text(bare(team="legal"), config, NOW, colour=False)
    assert "  team           legal (legal, level ?)\n" in text
    assert "  assignee       -\n" in text
    assert "  customer       - via -\n" in text
    for section in ("SLA", "Escalations", "Description", "Conversation", "impact", "tags"):
        assert section not in text


def test_ticket_text_colours_only_when_asked(config: Config) -> None:
    ticket = bare(priority="urgent")
    assert "\x1b[" not in ticket_text(ticket, config, NOW, colour=False)
    coloured = printable(ticket_text(ticket, config, NOW, colour=True))  # (as printed)
    assert coloured.startswith("\x1b[1mT-aaaa0002  Password reset")
    assert "  priority       \x1b[31murgent\x1b[0m\n" in coloured


# ---------------------------------------------------------------- ticket_table


def test_ticket_table_has_a_header_and_a_row_per_ticket(config: Config, full: Ticket) -> None:
    slas = {full.id: sla_of(full, config, NOW)}
    table = ticket_table([full, bare(team="legal")], config, NOW, 120, False, slas)
    assert table.splitlines() == [
        "ID          PRI     STATUS  TEAM     L  ASSIGNEE  AGE  SLA          TITLE",
        "T-aaaa0001  normal  open    support  1  alice     1d   due in 1d2h  Invoice missing",
        "T-aaaa0002  normal  open    legal    ?  -         1d   -            Password reset loops"
        " back to the login page",
    ]
    assert tuple(table.splitlines()[0].split()) == LIST_COLUMNS


def test_ticket_table_cuts_the_title_to_the_width(config: Config) -> None:
    ticket = bare()
    row = ticket_table([ticket], config, NOW, 72, False, {}).splitlines()[1]
    assert len(row) == 72
    assert row.endswith("  -    Password re…")


def test_ticket_table_keeps_ten_characters_of_title_however_narrow(config: Config) -> None:
    row = ticket_table([bare()], config, NOW, 20, False, {}).splitlines()[1]
    assert row.endswith(" Password …")


@pytest.mark.parametrize("width", [36, 40, 45])
def test_ticket_table_fits_a_terminal_of_forty_columns(config: Config, width: int) -> None:
    """At 40 columns every row was 50 wide: the SLA column was never let go (`esc show`
    tells the clocks); ID, priority, status and ten characters of title are 36."""
    ticket = bare(status="pending", priority="urgent")
    slas = {ticket.id: sla_of(ticket, config, NOW)}
    table = ticket_table([ticket], config, NOW, width, False, slas)
    assert max(columns(line) for line in table.splitlines()) <= width, table


@pytest.mark.parametrize("colour", [False, True])
def test_ticket_table_counts_a_wide_character_as_two_columns(
    config: Config, colour: bool
) -> None:
    """A CJK title or an emoji takes two columns a character: the table still fits, and
    the columns after a wide team or assignee stay aligned."""
    long_title = "日本語のタイトルがとても長いですね、これはテストです。"
    wide = dataclasses.replace(bare(), title=long_title)
    emoji = dataclasses.replace(
        bare(), id="T-aaaa0003", title="Checkout 🔥🔥 down", assignee="Zoë 李"
    )
    for width in (50, 70, 120):
        table = ticket_table([wide, emoji], config, NOW, width, colour, {})
        lines = printable(table).splitlines()
        shown = [_plain(line) for line in lines]
        assert all(columns(line) <= width for line in shown), (width, shown)
        titles = zip(shown, ["TITLE", "日本", "Che"], strict=True)
        starts = [_column_start(line, start) for line, start in titles]
        assert len(set(starts)) == 1, shown  # (each title starts in the header's column)
    assert long_title in table


def _plain(line: str) -> str:
    import re

    return re.sub("\x1b\\[[0-9;]*m", "", line)


def _column_start(line: str, text: str) -> int:
    """The terminal column at which ``text`` starts in ``line``."""
    return columns(line[: line.index(text)])


def test_ticket_table_colour_keeps_the_columns_aligned(config: Config) -> None:
    ticket = bare(status="pending", priority="urgent")
    slas = {ticket.id: sla_of(ticket, config, NOW)}
    plain = ticket_table([ticket], config, NOW, 120, False, slas).splitlines()
    coloured = printable(ticket_table([ticket], config, NOW, 120, True, slas)).splitlines()
    assert coloured[0] == f"\x1b[1m{plain[0]}\x1b[0m"
    assert "\x1b[31murgent\x1b[0m  \x1b[2mpending\x1b[0m" in coloured[1]
    assert "  \x1b[31mbreached 1d5h ago\x1b[0m  " in coloured[1]  # the urgent policy never pauses
    assert (
        coloured[1].replace("\x1b[31m", "").replace("\x1b[2m", "").replace("\x1b[0m", "")
        == plain[1]
    )


# ---------------------------------------------------------------- the SLA column of `esc list`

MON = dt.datetime(2026, 11, 23, 0, 0, tzinfo=CET)  # bare() is created Mon 09:00, normal


def at(hours: float) -> dt.datetime:
    return MON + dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("status", "when", "cell", "metric", "state"),
    [
        # first response: 4h from Mon 09:00, so due 13:00, in warning from 12:00 (75%)
        ("open", at(11), "due in 2h", "first_response", "ok"),
        ("open", at(11.5), "due in 1h30m", "first_response", "ok"),  # never rounded down
        ("open", at(12.25), "warning, due in 45m", "first_response", "warning"),
        ("open", at(14.5), "breached 1h30m ago", "first_response", "breached"),
        # three days later both clocks are past due: the one most past due is shown
        ("open", at(3 * 24 + 16), "breached 3d3h ago", "first_response", "breached"),
        ("pending", at(11), "paused", "first_response", "paused"),
    ],
)
def test_the_sla_cell_shows_the_next_deadline_and_its_state(
    config: Config, status: str, when: dt.datetime, cell: str, metric: str, state: str
) -> None:
    ticket = bare(status=status)
    if status == "pending":  # (pending from 10:00, so paused at 11:00)
        assert ticket.activity[-1].new == "pending"
    sla = sla_of(ticket, config, when)
    assert sla_cell(sla, ticket) == cell
    shown = next_sla_json(sla)
    assert shown is not None
    assert (shown["metric"], shown["state"], shown["text"]) == (metric, state, cell)
    paused = state == "paused"
    assert (shown["due"] is None) == paused
    assert ticket_json(ticket, config, sla=sla)["next_sla"] == shown


def test_the_sla_cell_of_a_ticket_with_every_clock_stopped(config: Config, full: Ticket) -> None:
    def stopped(state: str) -> Clock:
        return Clock(
            "resolution", 4 * H, at(9), at(12), at(13), None, state, 3 * H, ()  # type: ignore[arg-type]
        )

    first = sla_of(full, config, NOW).clocks[0]
    assert first.state == "met"
    met = Sla(NOW, None, "", (first, stopped("met")))
    late = Sla(NOW, None, "", (first, stopped("breached")))
    none = Sla(NOW, None, "none")
    assert (sla_cell(met, full), sla_cell(late, full), sla_cell(none, full)) == (
        "met",
        "met late",
        "-",
    )
    assert next_sla_json(met) is next_sla_json(late) is None


def test_a_ticket_created_after_now_is_0m_old_not_negative(config: Config) -> None:
    before = at(8)  # an hour before bare() was created
    table = ticket_table([bare()], config, before, 120, False, {}).splitlines()
    assert table[1].split()[6] == "0m"
    assert "  created        2026-11-23T09:00:00+01:00 (after --now)\n" in ticket_text(
        bare(), config, before, colour=False
    )


def test_upcoming_says_how_long_to_the_minute(config: Config, full: Ticket) -> None:
    ticket = bare()
    first = sla_of(ticket, config, at(11.5)).clocks[0]
    resolution = sla_of(full, config, NOW).clocks[1]
    lines = upcoming_text([(ticket, first), (full, resolution)], at(11.5)).splitlines()
    assert lines[0].startswith("T-aaaa0002  in 1h30m first_response  2026-11-23T13:00:00+01:00")
    # deadlines a day or more away are shown in days and hours
    assert upcoming_text([(full, resolution)], NOW).startswith("T-aaaa0001  in 1d2h resolution")


def test_show_lists_the_conversation_and_escalations_in_time_order(
    config: Config, full: Ticket
) -> None:
    """A catch-up sweep writes a rule's 11:00 note after a 15:00 message (the file is
    append-only): show listed them in file order. A reply to a closed ticket that intake
    took up names it (`follows:`), which only the front-matter said."""
    entries = tuple(reversed(full.entries))
    escalations = tuple(reversed((*full.escalations, dataclasses.replace(
        full.escalations[0], at=full.escalations[0].at - dt.timedelta(minutes=5)))))  # fmt: skip
    extra = {**full.extra, "follows": "T-ggnkxzqy"}
    shuffled = dataclasses.replace(full, entries=entries, escalations=escalations, extra=extra)
    text = ticket_text(shuffled, config, NOW, colour=False)
    times = [line.split()[0] for line in text.splitlines() if line.startswith("  2026-")]
    conversation = times[len(escalations) :]
    assert times[: len(escalations)] == sorted(times[: len(escalations)])
    assert conversation == sorted(conversation) and len(conversation) == len(entries) > 1
    assert "  follows        T-ggnkxzqy (closed: this ticket took its reply up)" in text
