"""Each ticket's SLA as of a moment, as commands and reports need it: from the catalog
when what it kept can answer, else computed from the ticket and kept for next time."""

from __future__ import annotations

import datetime as dt

from esc.domain.model import Ticket
from esc.domain.sla import Sla
from esc.store.catalog import Catalog, Record


def sla_now(catalog: Catalog, record: Record, now: dt.datetime) -> Sla:
    """The ticket's SLA as of ``now``, its running clocks' time used counted to ``now``."""
    kept = catalog.kept_sla(record, now)
    return kept if kept is not None else _computed(catalog, record, now)


def sla_states_now(catalog: Catalog, record: Record, now: dt.datetime) -> Sla:
    """The ticket's SLA as of ``now`` for who needs only its clocks' states (the time used
    may be as of an earlier computation)."""
    kept = catalog.kept_sla_states(record, now)
    return kept if kept is not None else _computed(catalog, record, now)


def sla_for_report(catalog: Catalog, record: Record, moment: dt.datetime) -> Sla:
    """The ticket's SLA as a report as of ``moment`` shows it: its clocks' states, and the
    time used of those that stopped (a report counts no running clock's time used, so that
    of a running clock may be as of an earlier computation)."""
    kept = catalog.kept_sla_near(record, moment)
    return kept if kept is not None else _computed(catalog, record, moment)


def _computed(catalog: Catalog, record: Record, now: dt.datetime) -> Sla:
    from esc.domain.plan import sla_of  # (and the rules with it: only when the cache cannot answer)

    try:
        ticket = catalog.full(record).ticket
    except FileNotFoundError:  # (removed since the folder was listed: as the cache knew
        return sla_of(record.ticket, catalog.config, now)  # it, and nothing kept of it)
    sla = sla_of(ticket, catalog.config, now)
    catalog.keep_sla(record, sla, now)
    return sla


def tickets_with_sla(
    catalog: Catalog, records: list[Record], now: dt.datetime
) -> list[tuple[Ticket, Sla]]:
    return [(r.ticket, sla_now(catalog, r, now)) for r in records]


def tickets_with_states(
    catalog: Catalog, records: list[Record], now: dt.datetime
) -> list[tuple[Ticket, Sla]]:
    return [(r.ticket, sla_states_now(catalog, r, now)) for r in records]
