"""What esc prints for tickets: JSON shapes, the ticket view, the list table and SLA phrases."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config
from esc.domain.model import Ticket
from esc.domain.plan import sla_of
from esc.domain.sla import Sla
from esc.report.views import (
    LIST_COLUMNS,
    clock_phrase,
    sla_json,
    ticket_json,
    ticket_table,
    ticket_text,
    upcoming_json,
)
from esc.ticketfile.document import parse

CET = dt.timezone(dt.timedelta(hours=1))
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
        "closed_at", "tags", "impact", "urgency", "csat", "escalations", "region",
    ]  # fmt: skip
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
    assert clock_phrase(running, NOW) == "resolution ok, due in 1d (2026-11-25T17:00:00+01:00)"
    later = dt.datetime(2026, 11, 27, 17, 0, tzinfo=CET)
    late = sla_of(full, config, later).clocks[1]
    assert clock_phrase(late, later) == (
        "resolution breached 2d ago (due 2026-11-25T17:00:00+01:00)"
    )


def test_clock_phrases_show_the_due_time_in_the_zone_of_now(config: Config) -> None:
    utc_now = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.timezone.utc)
    urgent = sla_of(bare(priority="urgent"), config, utc_now)
    assert [clock_phrase(c, utc_now) for c in urgent.clocks] == [
        "first_response breached 1d ago (due 2026-11-23T08:30:00+00:00)",
        "resolution breached 1d ago (due 2026-11-23T12:00:00+00:00)",
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
        "  resolution ok, due in 1d (2026-11-25T17:00:00+01:00)\n"
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
    coloured = ticket_text(ticket, config, NOW, colour=True)
    assert coloured.startswith("\x1b[1mT-aaaa0002  Password reset")
    assert "  priority       \x1b[31murgent\x1b[0m\n" in coloured


# ---------------------------------------------------------------- ticket_table


def test_ticket_table_has_a_header_and_a_row_per_ticket(config: Config, full: Ticket) -> None:
    table = ticket_table([full, bare(team="legal")], config, NOW, width=120, colour=False)
    assert table.splitlines() == [
        "ID          PRI     STATUS  TEAM     L  ASSIGNEE  AGE  TITLE",
        "T-aaaa0001  normal  open    support  1  alice     1d   Invoice missing",
        "T-aaaa0002  normal  open    legal    ?  -         1d   Password reset loops back to the"
        " login page",
    ]
    assert tuple(table.splitlines()[0].split()) == LIST_COLUMNS


def test_ticket_table_cuts_the_title_to_the_width(config: Config) -> None:
    ticket = bare()
    row = ticket_table([ticket], config, NOW, width=72, colour=False).splitlines()[1]
    assert len(row) == 72
    assert row.endswith("  Password reset l…")


def test_ticket_table_keeps_ten_characters_of_title_however_narrow(config: Config) -> None:
    row = ticket_table([bare()], config, NOW, width=20, colour=False).splitlines()[1]
    assert row.endswith("  Password …")


def test_ticket_table_colour_keeps_the_columns_aligned(config: Config) -> None:
    ticket = bare(status="pending", priority="urgent")
    plain = ticket_table([ticket], config, NOW, width=120, colour=False).splitlines()
    coloured = ticket_table([ticket], config, NOW, width=120, colour=True).splitlines()
    assert coloured[0] == f"\x1b[1m{plain[0]}\x1b[0m"
    assert "\x1b[31murgent\x1b[0m  \x1b[2mpending\x1b[0m" in coloured[1]
    assert (
        coloured[1].replace("\x1b[31m", "").replace("\x1b[2m", "").replace("\x1b[0m", "")
        == plain[1]
    )
