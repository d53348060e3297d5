"""The cache's plain forms of tickets and SLAs give back what was computed."""

from __future__ import annotations

import datetime as dt
import marshal

import pytest

from esc.domain.config import Config
from esc.domain.model import Ticket
from esc.domain.plan import sla_of
from esc.store import cache_codec
from esc.store.workspace import Workspace
from tests.conftest import REPO

COMPUTED = dt.datetime.fromisoformat("2026-11-27T10:00:00+01:00")  # a Friday, office hours
LATER = (dt.timedelta(minutes=37), dt.timedelta(hours=7), dt.timedelta(days=3, hours=1))


@pytest.fixture(scope="module")
def demo() -> tuple[list[Ticket], Config]:
    workspace = Workspace(REPO)
    tickets, broken = workspace.tickets()
    assert tickets and not broken
    return tickets, workspace.config()


def cached(ticket: Ticket, config: Config, at: dt.datetime) -> tuple[object, ...]:
    """The SLA summary as the cache keeps it (through marshal)."""
    data = marshal.loads(marshal.dumps(cache_codec.sla_summary(sla_of(ticket, config, at))))
    assert isinstance(data, tuple)
    return data


def test_the_sla_at_the_instant_it_was_computed_is_the_one_computed(
    demo: tuple[list[Ticket], Config],
) -> None:
    tickets, config = demo
    for ticket in tickets:
        if ticket.updated > COMPUTED:
            continue
        expected = sla_of(ticket, config, COMPUTED)
        assert cache_codec.sla_at(cached(ticket, config, COMPUTED), config, COMPUTED) == expected


def test_running_clocks_count_their_time_up_to_a_later_instant(
    demo: tuple[list[Ticket], Config],
) -> None:
    tickets, config = demo
    running = 0
    for ticket in tickets:
        if ticket.updated > COMPUTED:
            continue
        data = cached(ticket, config, COMPUTED)
        for later in LATER:
            at = COMPUTED + later
            derived = cache_codec.sla_at(data, config, at)
            assert derived is not None
            expected = sla_of(ticket, config, at)
            for got, want in zip(derived.clocks, expected.clocks, strict=True):
                assert (got.metric, got.used, got.state) == (want.metric, want.used, want.state)
                running += got.stop is None and got.state != "paused" and got.used > dt.timedelta()
    assert running  # the demo has running clocks, so the recount was checked


def test_a_ticket_comes_back_from_its_summary(demo: tuple[list[Ticket], Config]) -> None:
    tickets, _ = demo
    for ticket in tickets:
        data = marshal.loads(marshal.dumps(cache_codec.ticket_summary(ticket)))
        back = cache_codec.ticket_from_summary(data)
        for field in ("id", "status", "priority", "team", "created", "updated", "tags"):
            assert getattr(back, field) == getattr(ticket, field)
        assert back.escalations == ticket.escalations
        assert back.requests == ticket.requests
        assert dict(back.extra) == dict(ticket.extra)
    assert sum(len(t.requests) for t in tickets) == 2  # (the demo's: one open, one answered)


@pytest.mark.parametrize("kept", [cache_codec.MOMENTS_KEPT, 3])
def test_moments_read_back_are_made_once_and_stay_right_when_few_are_kept(
    demo: tuple[list[Ticket], Config], monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    """A moment read back from the cache is made once and shared (it is immutable); with
    room for only a few, the others are made again, still the same moments, the same zones."""
    monkeypatch.setattr(cache_codec, "MOMENTS_KEPT", kept)
    monkeypatch.setattr(cache_codec, "_MOMENTS", {})
    tickets, config = demo
    for ticket in tickets * 2:
        data = marshal.loads(marshal.dumps(cache_codec.ticket_summary(ticket)))
        back = cache_codec.ticket_from_summary(data)
        for field in ("created", "updated", "first_response_at", "resolved_at", "closed_at"):
            got, want = getattr(back, field), getattr(ticket, field)
            assert got == want
            assert got is None or got.utcoffset() == want.utcoffset()
        assert [(e.at, e.at.utcoffset()) for e in back.escalations] == [
            (e.at, e.at.utcoffset()) for e in ticket.escalations
        ]
        if ticket.updated <= COMPUTED:
            sla = cache_codec.sla_at(cached(ticket, config, COMPUTED), config, COMPUTED)
            assert sla == sla_of(ticket, config, COMPUTED)
    assert len(cache_codec._MOMENTS) <= kept
    again = marshal.loads(marshal.dumps(cache_codec.ticket_summary(tickets[0])))
    first = cache_codec.ticket_from_summary(again).created
    shared = cache_codec.ticket_from_summary(again).created is first
    assert shared == (kept > 10)  # (with 3 kept, the ticket's other moments pushed it out)
