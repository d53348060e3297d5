"""Running a sweep over the workspace: plan every ticket, write what changed, report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from esc.domain.errors import EscError, ParseError
from esc.domain.plan import Escalated, Planned, plan
from esc.domain.records import immutable
from esc.domain.sla import Sla
from esc.store import git, lock, workers
from esc.store.atomic import replace_if_unchanged, sync_folder
from esc.store.cache import Entry
from esc.store.catalog import Catalog, Record
from esc.store.lock import LockTimeout
from esc.store.workspace import (
    CACHE_DIR,
    REPORTS_DIR,
    REWRITE_TRIES,
    TEMPLATES_DIR,
    Workspace,
)
from esc.ticketfile import document

if TYPE_CHECKING:
    from esc.report.contents import ReportItems


@dataclass
class SweepResult:
    now: dt.datetime
    dry_run: bool = False
    seen: int = 0
    changed: list[str] = field(default_factory=list)  # workspace-relative paths
    plans: list[Planned] = field(default_factory=list)
    broken: list[ParseError] = field(default_factory=list)
    catalog: Catalog | None = None
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # ids of open tickets in warning
    breaches: list[str] = field(default_factory=list)  # ids of open tickets overdue
    processes: int = 1  # how many processes parsed and planned tickets
    notes: list[str] = field(default_factory=list)  # tickets read again or left alone

    @property
    def escalations(self) -> list[Escalated]:
        return [e for p in self.plans for e in p.escalations]

    @property
    def skipped(self) -> list[str]:
        return [f"{p.ticket_id}: {s}" for p in self.plans for s in p.skipped]

    def add(self, record: Record, outcome: RecordOutcome) -> None:
        if outcome.changed is not None and outcome.changed not in self.changed:
            self.changed.append(outcome.changed)
        if outcome.planned is not None:
            self.plans.append(outcome.planned)
        if outcome.warning:
            self.warnings.append(record.ticket.id)
        if outcome.overdue:
            self.breaches.append(record.ticket.id)
        if outcome.note is not None:
            self.notes.append(outcome.note)


def run_sweep(
    workspace: Workspace,
    now: dt.datetime,
    dry_run: bool = False,
    jobs: int | None = None,
    after_workers: Callable[[Catalog], None] | None = None,
    on_primed: Callable[[Catalog, str, Entry], None] | None = None,
) -> SweepResult:
    """Compute SLAs and apply rules to every ticket; write each ticket that changed.

    A ticket whose file, configuration and cached SLA show that nothing can have happened
    since the last sweep (no deadline crossed, no time-based rule condition changed) is not
    parsed again.  Tickets are read one at a time, so memory stays flat; when many need
    parsing (a cold cache), worker processes sweep them first (:mod:`esc.workers`):
    ``on_primed`` sees each cache entry they make as it comes in, ``after_workers`` the
    catalog once they are done, if they left nothing to do.
    """
    catalog = Catalog(workspace)
    result = SweepResult(now, dry_run)
    each = None if on_primed is None else (lambda p: on_primed(catalog, p.name, p.entry))
    primed = {} if dry_run else {p.name: p for p in workers.prime(catalog, now, jobs, each)}
    result.processes = len({p.worker for p in primed.values()}) or 1
    done = {
        name: p.entry
        for name, p in primed.items()
        if p.entry is not None and (p.outcome is None or catalog.quiet(p.entry, now))
    }
    if primed and len(done) == len(primed) and after_workers is not None:
        after_workers(catalog)  # the cache now says what the sweep will have done
    for item in catalog.each(done):
        if isinstance(item, ParseError):
            result.broken.append(item)
            continue
        result.seen += 1
        result.records.append(item)
        before = primed.pop(item.name, None)  # (freed as the loop goes: memory stays flat)
        if before is not None and before.outcome is not None and item.name in done:
            result.add(item, before.outcome)  # a worker swept it, and nothing is left to do
            continue
        if before is not None and before.outcome is not None:
            before.outcome.warning = before.outcome.overdue = False  # as swept again below
            if before.outcome.changed is None:
                before.outcome.note = None  # (a worker left it alone: swept below)
            result.add(item, before.outcome)
        result.add(item, sweep_record(catalog, item, now, dry_run))
        item.release()  # the cache has what the reports need; the parsed file can go
    if result.changed and not dry_run:
        sync_folder(workspace.tickets_dir)  # the renames of the rewritten tickets
    result.catalog = catalog
    return result


@dataclass
class RecordOutcome:
    """What sweeping one ticket did and found."""

    changed: str | None = None  # the workspace-relative path, if (to be) rewritten
    planned: Planned | None = None
    warning: bool = False  # an open ticket with a clock in warning
    overdue: bool = False  # an open ticket with a clock past due
    note: str | None = None  # "T-…: …" when the sweep had to read the file again or leave it


def sweep_record(
    catalog: Catalog, record: Record, now: dt.datetime, dry_run: bool
) -> RecordOutcome:
    """Plan and write one ticket (the caller then syncs the tickets folder).

    The ticket is written under its lock, and only if the file still holds what the plan
    was made from: a file changed meanwhile (an agent's comment, a hand edit) is read and
    planned again, so the sweep never writes over it.
    """
    if catalog.quiet_until(record, now):
        if not record.active:
            return RecordOutcome()
        return _alerts(RecordOutcome(), catalog.sla(record, now, used=False), True)
    doc = catalog.full(record)
    ticket_plan = plan(doc.ticket, catalog.config, now)
    text = document.apply_change(doc, ticket_plan.change) if ticket_plan.change else doc.text
    if text != doc.text and not dry_run:
        workspace = catalog.workspace
        try:
            with workspace.ticket_lock(record.path):
                for tries in range(REWRITE_TRIES + 1):
                    written = replace_if_unchanged(record.path, doc.text, text, sync_dir=False)
                    if written is not None:
                        catalog.written(record, text, written)
                        break
                    if tries == REWRITE_TRIES:
                        return _left(doc.ticket.id, "it kept changing while the sweep wrote it")
                    doc = catalog.reread(record)  # changed since it was read: as it is now
                    ticket_plan = plan(doc.ticket, catalog.config, now)
                    text = (
                        document.apply_change(doc, ticket_plan.change)
                        if ticket_plan.change
                        else doc.text
                    )
                    if text == doc.text:
                        break
        except LockTimeout as exc:
            return _left(doc.ticket.id, str(exc))
        except FileNotFoundError:
            return RecordOutcome(note=f"{doc.ticket.id}: removed while the sweep read it")
        except ParseError as exc:
            return _left(doc.ticket.id, f"it changed while the sweep read it, to {exc}")
        reread = tries > 0
    else:
        reread = False
    active = ticket_plan.ticket.active
    outcome = _alerts(RecordOutcome(None, ticket_plan.planned()), ticket_plan.sla, active)
    if reread:
        outcome.note = f"{doc.ticket.id}: changed while the sweep read it; swept as it is now"
    if text != doc.text:
        outcome.changed = doc.path
        if dry_run:
            return outcome
    catalog.remember(record, ticket_plan.sla, now)
    return outcome


def _left(ticket_id: str, why: str) -> RecordOutcome:
    """A ticket the sweep could not write: the next sweep plans it again."""
    return RecordOutcome(note=f"{ticket_id}: left as it is for the next sweep: {why}")


def _alerts(outcome: RecordOutcome, sla: Sla, active: bool) -> RecordOutcome:
    outcome.warning = active and bool(sla.warning_clocks)
    outcome.overdue = active and bool(sla.overdue_clocks)
    return outcome


def sweep_message(result: SweepResult) -> str:
    """The commit message of a sweep: a summary line, then each escalation."""
    count = len(result.changed)
    lines = [f"esc sweep: {count} ticket{'s' if count != 1 else ''} updated"]
    if result.escalations:
        lines.append("")
        lines += [f"{e.ticket_id}: {e.from_} → {e.to} ({e.by})" for e in result.escalations]
    return "\n".join(lines) + "\n"


@immutable
class SweepOptions:
    dry_run: bool = False
    report_dir: Path | None = None  # None: reports/ in the workspace
    reports: bool = True
    commit: bool = False
    push: bool = False
    remote: str = "origin"
    branch: str | None = None  # None: the current branch
    lock_timeout: float = 60.0
    push_attempts: int = 5
    jobs: int | None = None  # processes for many tickets (None: one per CPU; 1: none)


@dataclass
class SweepOutcome:
    result: SweepResult
    reports: list[str] = field(default_factory=list)
    commit: str | None = None
    pushed: bool = False
    attempts: int = 1


def sweep_workspace(workspace: Workspace, now: dt.datetime, options: SweepOptions) -> SweepOutcome:
    """One sweep as cron runs it: locked, then swept, reported, committed and pushed."""
    if options.dry_run:
        return _sweep_once(workspace, now, options)
    if (options.commit or options.push) and not git.is_repo(workspace.root):
        raise EscError("--commit and --push need the workspace to be in a git repository")
    with lock.hold(workspace.root / CACHE_DIR, options.lock_timeout):
        workspace.remove_stale_temporaries(options.report_dir or workspace.root / REPORTS_DIR)
        if not options.push:
            return _sweep_once(workspace, now, options)
        return _sweep_and_push(workspace, now, options)


def _sweep_once(workspace: Workspace, now: dt.datetime, options: SweepOptions) -> SweepOutcome:
    folder = options.report_dir or workspace.root / REPORTS_DIR
    ahead: list[workers.Aside | None] = [None]
    gathered: list[ReportItems] = []
    rendering = options.reports and not options.dry_run

    def gather(catalog: Catalog, name: str, entry: Entry) -> None:
        """While workers sweep: take what the reports show of each ticket they are done with."""
        if rendering:
            if not gathered:
                from esc.report.contents import ReportItems, prepare_sweep_reports

                gathered.append(ReportItems(catalog, now))
                prepare_sweep_reports(workspace)
            gathered[0].add(name, entry)

    def render_aside(catalog: Catalog) -> None:
        """Workers swept the tickets: render the HTML and JSON reports in another process
        while this one finishes (and renders the summary)."""
        if rendering:
            items = gathered[0] if gathered else None
            ahead[0] = workers.Aside.start(
                lambda: _report_files(workspace, catalog, folder, now, items, ASIDE_REPORTS)
            )

    result = run_sweep(workspace, now, options.dry_run, options.jobs, render_aside, gather)
    outcome = SweepOutcome(result)
    assert result.catalog is not None
    if ahead[0] is not None:
        result.catalog.save()  # while the reports render elsewhere
    if options.reports:
        outcome.reports = _render_reports(
            workspace, result, folder, now, options.dry_run, ahead[0], gathered
        )
    if not options.dry_run:
        result.catalog.save()
    changed = result.changed + outcome.reports
    if options.commit and changed and not options.dry_run:
        outcome.commit = git.commit_paths(workspace.root, changed, sweep_message(result))
    return outcome


ASIDE_REPORTS = ("index.html", "report.json")  # what the process aside renders


def _render_reports(
    workspace: Workspace,
    result: SweepResult,
    folder: Path,
    now: dt.datetime,
    dry_run: bool,
    ahead: workers.Aside | None = None,
    gathered: list[ReportItems] | None = None,
) -> list[str]:
    """Render the reports unless nothing they show can have changed since the last time.

    With ``ahead`` rendering the HTML and JSON reports, only the summary is rendered here.
    """
    from esc.report.contents import SWEEP_REPORTS, sweep_reports

    catalog = result.catalog
    assert catalog is not None
    signature = _report_signature(workspace, catalog, folder, now)
    if signature is None:
        if ahead is not None:
            ahead.result()
        return []
    files: dict[str, str] = {}
    if ahead is not None:
        items = gathered[0] if gathered else None
        mine = set(SWEEP_REPORTS) - set(ASIDE_REPORTS)
        files = sweep_reports(catalog, result.records, now, items, mine)
        theirs = ahead.result()
        files = {**files, **theirs} if isinstance(theirs, dict) else {}
    if set(files) != set(SWEEP_REPORTS):
        files = sweep_reports(catalog, result.records, now)
    files = {name: files[name] for name in SWEEP_REPORTS}
    written = workspace.write_if_changed(folder, files, dry_run)
    if not dry_run:
        catalog.cache.set_meta("reports", signature)
    return written


def _report_signature(
    workspace: Workspace, catalog: Catalog, folder: Path, now: dt.datetime
) -> str | None:
    """What the reports depend on (None: they are there and nothing changed)."""
    from esc.report.contents import SWEEP_REPORTS, report_time

    templates = (
        sorted(
            f"{p.name}:{p.stat().st_mtime_ns}" for p in (workspace.root / TEMPLATES_DIR).glob("*")
        )
        if (workspace.root / TEMPLATES_DIR).is_dir()
        else []
    )
    signature = catalog.signature(report_time(now).isoformat(), str(folder), *templates)
    # (the ticket files are not part of it: reports are rendered once an hour)
    present = all((folder / name).exists() for name in SWEEP_REPORTS)
    if present and catalog.cache.meta.get("reports") == signature:
        return None
    return signature


def _report_files(
    workspace: Workspace,
    catalog: Catalog,
    folder: Path,
    now: dt.datetime,
    gathered: ReportItems | None,
    parts: tuple[str, ...],
) -> dict[str, str] | None:
    """The reports' files, rendered from the cache as the workers left it (or None)."""
    from esc.report.contents import sweep_reports

    if _report_signature(workspace, catalog, folder, now) is None:
        return None
    return sweep_reports(catalog, catalog.cached_records(), now, gathered, parts)


def _sweep_and_push(workspace: Workspace, now: dt.datetime, options: SweepOptions) -> SweepOutcome:
    """Sweep, commit, push; when the remote moved: fetch, rebase, sweep again, retry."""
    root = workspace.root
    branch = options.branch or git.current_branch(root)
    for attempt in range(1, options.push_attempts + 1):
        outcome = _sweep_once(workspace, now, options)
        outcome.attempts = attempt
        if git.push(root, options.remote, branch):
            outcome.pushed = True
            return outcome
        git.catch_up(root, options.remote, branch, root / CACHE_DIR)
        workspace = Workspace(root)  # teams.yaml or rules.yaml may have come with the rebase
    raise EscError(
        f"push to {options.remote}/{branch} was rejected {options.push_attempts} times "
        "(the remote keeps moving); nothing was forced; try again"
    )
