"""`esc check` and `esc upcoming`: which active tickets are overdue or in warning, and the
check's findings as text, JSON, GitHub workflow commands and JUnit XML."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config
from esc.domain.errors import ParseError
from esc.domain.model import Ticket
from esc.domain.plan import sla_of
from esc.domain.sla import Sla
from esc.report.findings import (
    BROKEN_TITLE,
    CheckOutcome,
    overdue_findings,
    render_check,
    upcoming_breaches,
)
from esc.ticketfile.document import parse
from tests.conftest import Esc

CET = dt.timezone(dt.timedelta(hours=1))
H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=CET)  # a Tuesday, noon in Berlin

TICKET = """\
---
id: {id}
title: {title}
status: {status}
priority: {priority}
team: {team}
created: {created}
updated: {created}
---

## Activity

- {created} · alice · created
"""

# Under the starter rules (standard policy, office hours Mon-Fri 09-17, 4h first response,
# warning at 75%), as of NOW:
OLD = "2026-11-23T09:00:00+01:00"  # first response was due Monday 13:00: breached
MORNING = "2026-11-24T09:00:00+01:00"  # 3h of 4h used: warning, due 13:00
FRESH = "2026-11-24T11:30:00+01:00"  # 30m used: ok, due 15:30


@pytest.fixture(scope="module")
def config() -> Config:
    built, found = build_config(TEAMS_YAML, RULES_YAML)
    assert found == []
    assert built is not None
    return built


def ticket(
    ticket_id: str,
    title: str,
    created: str,
    status: str = "open",
    priority: str = "normal",
    team: str = "support",
) -> Ticket:
    text = TICKET.format(
        id=ticket_id, title=title, status=status, priority=priority, team=team, created=created
    )
    return parse(text, f"tickets/{ticket_id}.md").ticket


def with_sla(config: Config, *tickets: Ticket, now: dt.datetime = NOW) -> list[tuple[Ticket, Sla]]:
    return [(t, sla_of(t, config, now)) for t in tickets]


@pytest.fixture(scope="module")
def items(config: Config) -> list[tuple[Ticket, Sla]]:
    """One ticket of each level, and a resolved one whose first response was late."""
    found = with_sla(
        config,
        ticket("T-aaaa0003", "Invoice missing", OLD),
        ticket("T-aaaa0002", "Refund please", MORNING),
        ticket("T-aaaa0001", "Password reset", FRESH),
        ticket("T-aaaa0004", "Export done", OLD, status="resolved"),
    )
    states = {t.id: s.states()["first_response"] for t, s in found}
    assert states == {  # (what the tests below rely on)
        "T-aaaa0003": "breached",
        "T-aaaa0002": "warning",
        "T-aaaa0001": "ok",
        "T-aaaa0004": "breached",
    }
    return found


def outcome_of(
    items: list[tuple[Ticket, Sla]],
    fail_on: str = "breached",
    broken: Sequence[ParseError] = (),
    changed_since: str | None = None,
    others: Mapping[str, int] | None = None,
) -> CheckOutcome:
    return overdue_findings(items, NOW, fail_on, broken, changed_since, others)


BROKEN = ParseError("tickets/T-broken01.md", 3, "status: `opne` is not a status")


# ---------------------------------------------------------------- overdue_findings


def test_findings_judge_every_active_ticket_by_id_and_leave_finished_ones_out(
    items: list[tuple[Ticket, Sla]],
) -> None:
    outcome = outcome_of(items)
    assert [(i.ticket.id, i.level) for i in outcome.items] == [
        ("T-aaaa0001", "ok"),
        ("T-aaaa0002", "warning"),
        ("T-aaaa0003", "breached"),
    ]
    assert outcome.active == 3
    assert (outcome.count("breached"), outcome.count("warning"), outcome.count("ok")) == (1, 1, 1)


def test_a_checked_ticket_names_the_clocks_of_its_level(items: list[tuple[Ticket, Sla]]) -> None:
    by_id = {i.ticket.id: i for i in outcome_of(items).items}
    assert [c.metric for c in by_id["T-aaaa0003"].clocks] == ["first_response"]
    assert [c.state for c in by_id["T-aaaa0002"].clocks] == ["warning"]
    assert by_id["T-aaaa0001"].clocks == ()


def test_fail_on_breached_fails_only_on_overdue_tickets(items: list[tuple[Ticket, Sla]]) -> None:
    outcome = outcome_of(items, "breached")
    assert [i.ticket.id for i in outcome.failing] == ["T-aaaa0003"]
    assert outcome.failed


def test_fail_on_warning_fails_on_tickets_in_warning_too(items: list[tuple[Ticket, Sla]]) -> None:
    outcome = outcome_of(items, "warning")
    assert [i.ticket.id for i in outcome.failing] == ["T-aaaa0002", "T-aaaa0003"]


def test_nothing_overdue_passes_unless_a_file_is_broken_or_a_notification_fails(
    items: list[tuple[Ticket, Sla]],
) -> None:
    calm = [item for item in items if item[0].id in ("T-aaaa0001", "T-aaaa0002")]
    assert not outcome_of(calm, "breached").failed
    assert outcome_of(calm, "warning").failed
    assert outcome_of(calm, "breached", broken=[BROKEN]).failed
    undelivered = dataclasses.replace(outcome_of(calm), undelivered=("mail to bob failed",))
    assert undelivered.failed


def test_others_are_counted_as_active_but_never_fail(items: list[tuple[Ticket, Sla]]) -> None:
    outcome = outcome_of(items, "warning", others={"warning": 2, "ok": 5})
    assert outcome.active == 3 + 7
    assert outcome.count("warning") == 1 + 2
    assert outcome.count("ok") == 1 + 5
    assert outcome.count("breached") == 1
    assert len(outcome.failing) == 2  # only those in items are listed
    assert outcome.others == (("ok", 5), ("warning", 2))


def test_no_tickets_at_all_is_a_pass(config: Config) -> None:
    outcome = outcome_of([])
    assert outcome.active == 0 and not outcome.failed
    assert render_check(outcome, "text", config) == "ok: none of 0 active tickets overdue\n"


# ---------------------------------------------------------------- text


def test_text_lists_the_failing_tickets_and_a_summary(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    assert render_check(outcome_of(items), "text", config) == (
        "T-aaaa0003 (support, normal): first_response breached 23h ago "
        "(due 2026-11-23T13:00:00+01:00) — Invoice missing\n"
        "1 of 3 active tickets overdue\n"
    )


def test_text_with_fail_on_warning_counts_both_levels(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    text = render_check(outcome_of(items, "warning"), "text", config)
    lines = text.splitlines()
    assert lines[0] == (
        "T-aaaa0002 (support, normal): first_response warning, due in 1h "
        "(2026-11-24T13:00:00+01:00) — Refund please"
    )
    assert lines[1].startswith("T-aaaa0003 ")
    assert lines[2] == ("2 of 3 active tickets overdue or in warning (1 overdue, 1 in warning)")


def test_text_of_a_pass_starts_with_ok(items: list[tuple[Ticket, Sla]], config: Config) -> None:
    calm = [item for item in items if item[0].id == "T-aaaa0001"]
    assert render_check(outcome_of(calm, "warning"), "text", config) == (
        "ok: none of 1 active tickets overdue or in warning (0 overdue, 0 in warning)\n"
    )


def test_text_names_broken_files_first_and_counts_them_and_failing_notifications(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    calm = [item for item in items if item[0].id == "T-aaaa0001"]
    second = ParseError("tickets/T-broken02.md", 0, "not a regular file")
    outcome = dataclasses.replace(
        outcome_of(calm, broken=[BROKEN, second]), undelivered=("a", "b", "c")
    )
    assert render_check(outcome, "text", config).splitlines() == [
        "tickets/T-broken01.md:3: status: `opne` is not a status",
        "tickets/T-broken02.md:1: not a regular file",
        "none of 1 active tickets overdue; 2 ticket files broken; 3 notifications failing",
    ]
    one = dataclasses.replace(outcome_of(calm, broken=[BROKEN]), undelivered=("a",))
    assert render_check(one, "text", config).splitlines()[-1] == (
        "none of 1 active tickets overdue; 1 ticket file broken; 1 notification failing"
    )


def test_text_says_which_tickets_were_judged_with_changed_since(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    text = render_check(outcome_of(items, changed_since="origin/main"), "text", config)
    assert text.splitlines()[-1] == "1 of 3 active tickets changed since origin/main overdue"


# ---------------------------------------------------------------- JSON


def test_json_lists_the_failing_tickets_with_their_sla(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    data = json.loads(render_check(outcome_of(items, "warning", broken=[BROKEN]), "json", config))
    assert {k: v for k, v in data.items() if k not in ("tickets", "broken")} == {
        "now": "2026-11-24T12:00:00+01:00",
        "fail_on": "warning",
        "changed_since": None,
        "failed": True,
        "active_tickets": 3,
        "overdue_tickets": 1,
        "warning_tickets": 1,
        "notifications_failing": [],
    }
    assert data["broken"] == [
        {"file": "tickets/T-broken01.md", "line": 3, "message": "status: `opne` is not a status"}
    ]
    assert [(t["id"], t["state"]) for t in data["tickets"]] == [
        ("T-aaaa0002", "warning"),
        ("T-aaaa0003", "breached"),
    ]
    first = data["tickets"][0]
    assert {k: v for k, v in first.items() if k != "sla"} == {
        "id": "T-aaaa0002",
        "title": "Refund please",
        "team": "support",
        "priority": "normal",
        "state": "warning",
        "file": "tickets/T-aaaa0002.md",
    }
    assert first["sla"]["policy"] == "standard"
    assert first["sla"]["first_response"]["due"] == "2026-11-24T13:00:00+01:00"
    assert first["sla"]["first_response"]["state"] == "warning"


def test_json_of_a_file_broken_as_a_whole_has_no_line_and_keeps_non_ascii(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    whole = ParseError("tickets/T-brøken.md", 0, "not UTF-8 text")
    text = render_check(outcome_of([], broken=[whole]), "json", config)
    assert "T-brøken" in text  # (not \u00f8)
    assert text.endswith("}\n")
    data = json.loads(text)
    assert data["broken"] == [
        {"file": "tickets/T-brøken.md", "line": None, "message": "not UTF-8 text"}
    ]
    assert data["failed"] is True and data["tickets"] == []


def test_json_of_a_pass_has_no_tickets_and_counts_the_others(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    calm = [item for item in items if item[0].id == "T-aaaa0001"]
    outcome = outcome_of(calm, others={"ok": 4}, changed_since="main")
    data = json.loads(render_check(outcome, "json", config))
    assert (data["failed"], data["active_tickets"], data["tickets"]) == (False, 5, [])
    assert data["changed_since"] == "main"


# ---------------------------------------------------------------- GitHub


def test_github_gives_one_error_per_broken_file_failing_ticket_and_notification(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    whole = ParseError("tickets/T-broken02.md", 0, "not a regular file")
    outcome = dataclasses.replace(
        outcome_of(items, "warning", broken=[BROKEN, whole]), undelivered=("mail to bob failed",)
    )
    assert render_check(outcome, "github", config).splitlines() == [
        f"::error file=tickets/T-broken01.md,line=3::{BROKEN_TITLE}: "
        "status: `opne` is not a status",
        f"::error file=tickets/T-broken02.md::{BROKEN_TITLE}: not a regular file",
        "::error file=tickets/T-aaaa0002.md,line=1::SLA warning: T-aaaa0002 (support, normal): "
        "first_response warning, due in 1h (2026-11-24T13:00:00+01:00) — Refund please",
        "::error file=tickets/T-aaaa0003.md,line=1::SLA breached: T-aaaa0003 (support, normal): "
        "first_response breached 23h ago (due 2026-11-23T13:00:00+01:00) — Invoice missing",
        "::error::mail to bob failed",
    ]


def test_github_of_a_pass_prints_nothing(items: list[tuple[Ticket, Sla]], config: Config) -> None:
    calm = [item for item in items if item[0].id != "T-aaaa0003"]
    assert render_check(outcome_of(calm, "breached"), "github", config) == ""


def test_github_escapes_percent_and_line_breaks_as_the_runner_reads_them(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    broken = ParseError("tickets/T-broken01.md", 2, "100% wrong\r\nsee line 3")
    (late,) = [item for item in items if item[0].id == "T-aaaa0003"]
    renamed = (dataclasses.replace(late[0], title="50% off\nagain"), late[1])
    outcome = dataclasses.replace(
        outcome_of([renamed], broken=[broken]), undelivered=("retry %d\nfailed",)
    )
    lines = render_check(outcome, "github", config).splitlines()
    assert len(lines) == 3  # each command on one line
    assert lines[0].endswith("100%25 wrong%0D%0Asee line 3")
    assert lines[1].endswith("— 50%25 off%0Aagain")
    assert lines[2] == "::error::retry %25d%0Afailed"


# ---------------------------------------------------------------- JUnit


def junit(outcome: CheckOutcome, config: Config) -> ET.Element:
    text = render_check(outcome, "junit", config)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_has_a_case_per_ticket_and_fails_those_that_fail(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    suite = junit(outcome_of(items, "breached"), config)
    assert suite.tag == "testsuite"
    assert suite.attrib == {
        "name": "esc check",
        "tests": "3",
        "failures": "1",
        "errors": "0",
        "timestamp": "2026-11-24T12:00:00+01:00",
    }
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("file")) for c in cases] == [
        ("esc.sla.support", "T-aaaa0001 Password reset", "tickets/T-aaaa0001.md"),
        ("esc.sla.support", "T-aaaa0002 Refund please", "tickets/T-aaaa0002.md"),
        ("esc.sla.support", "T-aaaa0003 Invoice missing", "tickets/T-aaaa0003.md"),
    ]
    assert [len(c) for c in cases] == [0, 0, 1]  # a warning does not fail with "breached"
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("type") == "breached"
    assert failure.get("message") == failure.text
    assert failure.text == (
        "T-aaaa0003 (support, normal): first_response breached 23h ago "
        "(due 2026-11-23T13:00:00+01:00)"
    )


def test_junit_with_fail_on_warning_fails_the_warning_too(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    suite = junit(outcome_of(items, "warning"), config)
    assert suite.get("failures") == "2"
    failures = [f.get("type") for f in suite.iter("failure")]
    assert failures == ["warning", "breached"]


def test_junit_reports_broken_files_and_failing_notifications_as_errors(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    calm = [item for item in items if item[0].id == "T-aaaa0001"]
    outcome = dataclasses.replace(
        outcome_of(calm, broken=[BROKEN]), undelivered=("mail to <bob> & co failed",)
    )
    suite = junit(outcome, config)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "2")
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == [
        "esc.tickets",
        "esc.sla.support",
        "esc.notifications",
    ]
    broken = cases[0].find("error")
    assert broken is not None
    assert (cases[0].get("name"), cases[0].get("file")) == ("tickets/T-broken01.md",) * 2
    assert (broken.get("type"), broken.text) == ("broken", str(BROKEN))
    note = cases[2].find("error")
    assert note is not None
    assert (note.get("type"), note.get("message"), note.text) == (
        "notification",
        "mail to <bob> & co failed",
        "mail to <bob> & co failed",
    )


def test_junit_stays_well_formed_with_characters_xml_cannot_hold(
    items: list[tuple[Ticket, Sla]], config: Config
) -> None:
    (late,) = [item for item in items if item[0].id == "T-aaaa0003"]
    title = 'Bell\x07 "quoted" <b>&amp;</b> \x1b[31mred\ufffe'
    renamed = (dataclasses.replace(late[0], title=title), late[1])
    broken = ParseError("tickets/T-\x01bad.md", 1, "control\x00char")
    suite = junit(outcome_of([renamed], broken=[broken]), config)
    cases = suite.findall("testcase")
    assert cases[0].get("name") == "tickets/T-\\x01bad.md"
    error = cases[0].find("error")
    assert error is not None and error.text == "tickets/T-\\x01bad.md:1: control\\x00char"
    assert cases[1].get("name") == (
        'T-aaaa0003 Bell\\x07 "quoted" <b>&amp;</b> \\x1b[31mred\\ufffe'
    )


# ---------------------------------------------------------------- upcoming_breaches


def test_upcoming_breaches_are_the_running_deadlines_within_the_window_soonest_first(
    items: list[tuple[Ticket, Sla]],
) -> None:
    rows = upcoming_breaches(items, NOW, 4 * H)
    assert [(t.id, c.metric, c.due) for t, c in rows] == [
        ("T-aaaa0002", "first_response", dt.datetime(2026, 11, 24, 13, 0, tzinfo=CET)),
        ("T-aaaa0001", "first_response", dt.datetime(2026, 11, 24, 15, 30, tzinfo=CET)),
    ]  # (not the one already breached, nor the resolved one)


def test_upcoming_breaches_window_excludes_now_and_includes_its_end(
    items: list[tuple[Ticket, Sla]],
) -> None:
    assert [t.id for t, _ in upcoming_breaches(items, NOW, H)] == ["T-aaaa0002"]  # 13:00 = end
    assert upcoming_breaches(items, NOW, H - dt.timedelta(seconds=1)) == []
    at_due = dt.datetime(2026, 11, 24, 13, 0, tzinfo=CET)
    assert "T-aaaa0002" not in [t.id for t, _ in upcoming_breaches(items, at_due, 3 * H)]


def test_upcoming_breaches_give_each_ticket_once_with_its_first_deadline(
    config: Config,
) -> None:
    urgent = ticket("T-aaaa0009", "Site down", "2026-11-24T11:45:00+01:00", priority="urgent")
    pairs = with_sla(config, urgent)
    assert {c.metric for c in pairs[0][1].clocks} == {"first_response", "resolution"}
    rows = upcoming_breaches(pairs, NOW, 10 * H)  # both deadlines fall in the window
    assert [(t.id, c.metric) for t, c in rows] == [("T-aaaa0009", "first_response")]
    assert rows[0][1].due == dt.datetime(2026, 11, 24, 12, 15, tzinfo=CET)


def test_upcoming_breaches_ties_are_ordered_by_id(config: Config) -> None:
    pairs = with_sla(
        config, ticket("T-bbbb0002", "Second", FRESH), ticket("T-bbbb0001", "First", FRESH)
    )
    rows = upcoming_breaches(pairs, NOW, 4 * H)
    assert [t.id for t, _ in rows] == ["T-bbbb0001", "T-bbbb0002"]


# ---------------------------------------------------------------- through `esc check`


def test_esc_check_prints_the_format_asked_for_and_exits_1_when_it_fails(esc: Esc) -> None:
    ticket_id = esc.ok(
        "create", "--title", "Invoice missing", "--category", "billing", now=OLD
    ).strip()
    result = esc("check", "--format", "junit", now=NOW.isoformat())
    assert result.code == 1
    suite = ET.fromstring(result.out.encode("utf-8"))
    (failure,) = suite.iter("failure")
    assert failure.get("type") == "breached"
    assert (failure.text or "").startswith(f"{ticket_id} (support, normal): first_response")
    passing = esc("check", now="2026-11-23T10:00:00+01:00")
    assert passing.code == 0
    assert passing.out == "ok: none of 1 active tickets overdue\n"
