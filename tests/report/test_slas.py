"""Each ticket's SLA as commands and reports need it (esc.report.slas): from what the catalog
kept when that can answer, else computed from the ticket and kept for the next reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from esc.domain.model import Ticket
from esc.domain.plan import sla_of
from esc.domain.sla import Sla
from esc.report.slas import (
    sla_for_report,
    sla_now,
    sla_states_now,
    tickets_with_sla,
    tickets_with_states,
)
from esc.store.catalog import Catalog, Record
from esc.store.workspace import Workspace
from tests.conftest import Esc

CET = dt.timezone(dt.timedelta(hours=1))
H = dt.timedelta(hours=1)


def at(hour: int, minute: int = 0) -> dt.datetime:
    """A time on Monday 23 November 2026 (office hours 09-17 under the starter rules)."""
    return dt.datetime(2026, 11, 23, hour, minute, tzinfo=CET)


def create(esc: Esc, title: str, when: dt.datetime) -> str:
    out = esc.ok("create", "--title", title, "--category", "billing", now=when.isoformat())
    return out.strip()


def catalog(root: Path) -> Catalog:
    return Catalog(Workspace(root))


def only_record(current: Catalog) -> Record:
    records, broken = current.records()
    assert broken == []
    (record,) = records
    return record


def parsed(root: Path, ticket_id: str) -> Ticket:
    """The ticket as its file says, parsed afresh (not through the catalog)."""
    workspace = Workspace(root)
    return workspace.read(workspace.tickets_dir / f"{ticket_id}.md").ticket


def expected(root: Path, ticket_id: str, now: dt.datetime) -> Sla:
    return sla_of(parsed(root, ticket_id), Workspace(root).config(), now)


def running(sla: Sla) -> dict[str, tuple[str, dt.timedelta]]:
    return {c.metric: (c.state, c.used) for c in sla.clocks if c.running}


@pytest.fixture
def invoice(esc: Esc) -> str:
    """A new ticket created at 09:00: its first response (4h) is in warning from 12:00
    (75%) and breached from 13:00."""
    return create(esc, "Invoice missing", at(9))


# ---------------------------------------------------------------- sla_now


def test_sla_now_computes_the_sla_on_a_first_read_and_keeps_it(
    workspace: Path, invoice: str
) -> None:
    current = catalog(workspace)
    record = only_record(current)
    assert current.kept_sla(record, at(11)) is None
    sla = sla_now(current, record, at(11))
    assert sla == expected(workspace, invoice, at(11))
    assert running(sla) == {"first_response": ("ok", 2 * H), "resolution": ("ok", 2 * H)}
    kept = current.kept_sla(record, at(11))
    assert kept is not None and kept.states() == sla.states()


def test_a_kept_sla_answers_a_later_moment_without_parsing_the_ticket(
    workspace: Path, invoice: str
) -> None:
    first = catalog(workspace)
    sla_now(first, only_record(first), at(10))
    first.save()

    again = catalog(workspace)
    record = only_record(again)
    assert record.doc is None  # (from the cache)
    sla = sla_now(again, record, at(13, 30))
    assert record.doc is None  # answered from what was kept: the file was not parsed
    truth = expected(workspace, invoice, at(13, 30))
    assert sla.now == at(13, 30)
    assert (
        running(sla)
        == running(truth)
        == {
            "first_response": ("breached", dt.timedelta(hours=4, minutes=30)),
            "resolution": ("ok", dt.timedelta(hours=4, minutes=30)),
        }
    )
    assert sla.overdue == truth.overdue == dt.timedelta(minutes=30)


def test_a_moment_before_the_kept_sla_is_computed_from_the_ticket(
    workspace: Path, invoice: str
) -> None:
    first = catalog(workspace)
    sla_now(first, only_record(first), at(14))
    first.save()

    again = catalog(workspace)
    record = only_record(again)
    sla = sla_now(again, record, at(10))
    assert record.doc is not None  # the cache could not answer: parsed
    assert sla == expected(workspace, invoice, at(10))
    assert sla.states() == {"first_response": "ok", "resolution": "ok"}
    kept = again.kept_sla(record, at(14))  # the later one is still what is kept
    assert kept is not None and kept.states()["first_response"] == "breached"


def test_an_answer_from_the_cache_is_the_sla_computed_afresh(
    workspace: Path, esc: Esc, invoice: str
) -> None:
    other = create(esc, "Refund please", at(9, 30))
    esc.ok("comment", invoice, "-m", "Looking into it", now=at(10).isoformat())
    first = catalog(workspace)
    for record in first.records()[0]:
        sla_now(first, record, at(10, 30))
    first.save()
    again = catalog(workspace)
    for moment in (at(11), at(12, 15), at(16)):
        for record in again.records()[0]:
            truth = expected(workspace, record.ticket.id, moment)
            assert running(sla_now(again, record, moment)) == running(truth), moment
    assert {r.ticket.id for r in again.records()[0]} == {invoice, other}


# ---------------------------------------------------------------- sla_states_now


def test_sla_states_now_gives_the_states_as_of_now(workspace: Path, invoice: str) -> None:
    first = catalog(workspace)
    sla_now(first, only_record(first), at(10))
    first.save()

    again = catalog(workspace)
    record = only_record(again)
    states = sla_states_now(again, record, at(12, 30))
    assert record.doc is None  # from the cache
    assert states.states() == expected(workspace, invoice, at(12, 30)).states()
    assert states.states()["first_response"] == "warning"
    assert [c.metric for c in states.warning_clocks] == ["first_response"]
    # its time used may be as of the kept computation, never beyond now
    assert all(H <= c.used <= dt.timedelta(hours=3, minutes=30) for c in states.clocks)


def test_sla_states_now_without_a_kept_sla_computes_and_keeps_one(
    workspace: Path, invoice: str
) -> None:
    current = catalog(workspace)
    record = only_record(current)
    states = sla_states_now(current, record, at(13, 5))
    assert states == expected(workspace, invoice, at(13, 5))
    assert states.states()["first_response"] == "breached"
    assert current.kept_sla(record, at(13, 5)) is not None


# ---------------------------------------------------------------- sla_for_report


def test_sla_for_report_uses_an_sla_kept_a_little_after_the_moment(
    workspace: Path, invoice: str
) -> None:
    first = catalog(workspace)
    sla_now(first, only_record(first), at(13, 10))  # breached by then
    first.save()

    again = catalog(workspace)
    record = only_record(again)
    report = sla_for_report(again, record, at(12, 0))  # a report as of the top of the hour
    assert record.doc is None  # from what was kept, though that is later
    assert report.now == at(12)
    assert report.states() == expected(workspace, invoice, at(12)).states()
    assert report.states()["first_response"] == "warning"  # as of noon, not breached


def test_sla_for_report_without_a_kept_sla_computes_it(workspace: Path, invoice: str) -> None:
    current = catalog(workspace)
    record = only_record(current)
    assert sla_for_report(current, record, at(9, 30)) == expected(workspace, invoice, at(9, 30))


# ---------------------------------------------------------------- tickets_with_*


def test_tickets_with_sla_pairs_each_record_with_its_sla_in_order(
    workspace: Path, esc: Esc, invoice: str
) -> None:
    other = create(esc, "Refund please", at(11))
    current = catalog(workspace)
    records = current.records()[0]
    pairs = tickets_with_sla(current, records, at(12, 30))
    assert [t.id for t, _ in pairs] == [r.ticket.id for r in records]
    slas = {t.id: s for t, s in pairs}
    assert slas[invoice] == expected(workspace, invoice, at(12, 30))
    assert slas[other] == expected(workspace, other, at(12, 30))
    assert slas[invoice].states()["first_response"] == "warning"
    assert slas[other].states()["first_response"] == "ok"
    assert tickets_with_sla(current, [], at(12)) == []


def test_tickets_with_states_pairs_each_record_with_its_states(
    workspace: Path, esc: Esc, invoice: str
) -> None:
    other = create(esc, "Refund please", at(11))
    current = catalog(workspace)
    records = current.records()[0]
    pairs = tickets_with_states(current, records, at(13, 30))
    assert [t.id for t, _ in pairs] == [r.ticket.id for r in records]
    states = {t.id: s.states()["first_response"] for t, s in pairs}
    assert states == {invoice: "breached", other: "ok"}
