"""Running a sweep over the workspace: plan every ticket, write what changed, report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from esc import ticketfile
from esc.catalog import Catalog, Record
from esc.errors import ParseError
from esc.model import Change
from esc.store import Workspace, atomic_write
from esc.sweep import Escalated, TicketPlan, plan


@dataclass
class SweepResult:
    now: dt.datetime
    seen: int = 0
    changed: list[str] = field(default_factory=list)  # workspace-relative paths
    plans: list[TicketPlan] = field(default_factory=list)
    broken: list[ParseError] = field(default_factory=list)
    catalog: Catalog | None = None
    records: list[Record] = field(default_factory=list)

    @property
    def escalations(self) -> list[Escalated]:
        return [e for p in self.plans for e in p.escalations]

    @property
    def warnings(self) -> list[TicketPlan]:
        return [p for p in self.plans if p.ticket.active and p.sla.warning_clocks]

    @property
    def breaches(self) -> list[TicketPlan]:
        return [p for p in self.plans if p.ticket.active and p.sla.overdue_clocks]

    @property
    def skipped(self) -> list[str]:
        return [f"{p.ticket.id}: {s}" for p in self.plans for s in p.skipped]


def run_sweep(workspace: Workspace, now: dt.datetime, dry_run: bool = False) -> SweepResult:
    """Compute SLAs and apply rules to every ticket; write each ticket that changed.

    A ticket whose file, configuration and cached SLA show that nothing can have happened
    since the last sweep (no deadline crossed, no time-based rule condition changed) is not
    parsed again.
    """
    catalog = Catalog(workspace)
    config = catalog.config
    result = SweepResult(now)
    records, result.broken = catalog.records()
    result.records = records
    for record in records:
        result.seen += 1
        if catalog.quiet_until(record, now):
            sla = catalog.sla(record, now)
            result.plans.append(TicketPlan(record.ticket, Change(), sla))
            continue
        doc = catalog.full(record)
        ticket_plan = plan(doc.ticket, config, now)
        result.plans.append(ticket_plan)
        if ticket_plan.change:
            text = ticketfile.apply_change(doc, ticket_plan.change)
            if text != doc.text:
                result.changed.append(doc.path)
                if dry_run:
                    continue
                atomic_write(record.path, text)
                catalog.written(record, text)
        catalog.remember(record, ticket_plan.sla, now)
    result.catalog = catalog
    return result


def sweep_message(result: SweepResult) -> str:
    """The commit message of a sweep: a summary line, then each escalation."""
    count = len(result.changed)
    lines = [f"esc sweep: {count} ticket{'s' if count != 1 else ''} updated"]
    if result.escalations:
        lines.append("")
        lines += [f"{e.ticket_id}: {e.from_} → {e.to} ({e.by})" for e in result.escalations]
    return "\n".join(lines) + "\n"
