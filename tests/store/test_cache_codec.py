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
