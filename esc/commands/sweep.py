"""Running a sweep over the workspace: plan every ticket, write what changed, report."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
import re
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esc.commands.session import Output, Session
from esc.domain import lifecycle
from esc.domain.as_of import ticket_after_people, ticket_as_of
from esc.domain.conditions import holds_only_on_breach
from esc.domain.config import RULES_FILE, TEAMS_FILE, Config
from esc.domain.errors import ConfigError, EscError, ParseError
from esc.domain.model import ESCALATION_KINDS, RULE_ACTOR, Change, EscalationKind, Ticket
from esc.domain.notify import (
    Event,
    Holders,
    events_of,
    missing_variables,
    named_targets,
    rule_targets,
)
from esc.domain.plan import (
    Escalated,
    Past,
    Planned,
    TicketPlan,
    as_last_swept,
    by_people_since_swept,
    marked_swept,
    next_event,
    plan,
    policy_at,
    settled_as_swept,
    sla_of,
    sweep_version,
)
from esc.domain.records import immutable
from esc.domain.sla import Sla
from esc.domain.timestamps import coerce_timestamp, format_timestamp
from esc.report.actions import RuleAction, action_json, action_text, rule_actions
from esc.report.slas import sla_states_now
from esc.store import config_versions, git, lock, merge_driver, workers
from esc.store.atomic import (
    Garbage,
    NotRegularFile,
    RemovalList,
    SyncStarted,
    Written,
    read_regular,
    replace_if_unchanged,
    sync_folder,
    write_unsynced,
)
from esc.store.cache import CachedFile
from esc.store.catalog import Catalog, Record
from esc.store.config_versions import Known
from esc.store.diagnostics import fallback
from esc.store.lock import LockTimeout
from esc.store.outbox import (
    Delivery,
    Message,
    Outbox,
    deliver,
    digest_title,
    made_in_quiet_hours,
    message_key,
    messages_of,
    waits_for_working_hours,
)
from esc.store.pending import Blobs, Follower, Guard, Pending
from esc.store.workspace import (
    ATTACHMENTS_DIR,
    CACHE_DIR,
    REPORTS_DIR,
    REWRITE_TRIES,
    TEMPLATES_DIR,
    TICKETS_DIR,
    Workspace,
    parse_ticket,
)
from esc.ticketfile import document, fingerprint, problems, yaml_text
from esc.ticketfile.document import TicketDoc

if TYPE_CHECKING:
    from esc.domain import stats
    from esc.report.contents import ReportItems


@dataclass
class SweepResult:
    now: dt.datetime
    dry_run: bool = False
    seen: int = 0
    changed: list[str] = field(default_factory=list)  # workspace-relative paths, in order
    plans: list[Planned] = field(default_factory=list)
    broken: list[ParseError] = field(default_factory=list)
    # "path:line: message" of each ticket that parses but was not written because it does
    # not validate against the configuration (or cannot be edited safely): exit 1, as broken
    invalid: list[str] = field(default_factory=list)
    catalog: Catalog | None = None
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # ids of open tickets in warning
    breaches: list[str] = field(default_factory=list)  # ids of open tickets overdue
    processes: int = 1  # how many processes parsed and planned tickets
    notes: list[str] = field(default_factory=list)  # tickets read again or left alone
    stranded: list[str] = field(default_factory=list)  # left with what matters held back
    _stranded: set[str] = field(default_factory=set, repr=False)  # (the same, to look up)
    behind: list[str] = field(default_factory=list)  # "T-…: why": created/swept after now
    actions: list[RuleAction] = field(default_factory=list)  # what the rules changed
    events: list[Event] = field(default_factory=list)  # what people are told of
    unwritten: bool = False  # a change planned and not written (RecordOutcome.unwritten)
    # why a worker process died (killed, as by the OOM killer): the tickets it had not
    # handed back were swept here, and what it wrote itself is not among the lines
    worker_died: str | None = None

    def worker_lost(self, why: str) -> None:
        self.worker_died = why
    # the paths in `changed`, to test membership in constant time (a list's `in` made a
    # sweep that rewrites 100k tickets quadratic: 75 s of CPU)
    _changed: set[str] = field(default_factory=set, repr=False)
    # (--dry-run: a ticket file's name -> whether it would be active once written)
    active_after: dict[str, bool] = field(default_factory=dict, repr=False)

    @property
    def escalations(self) -> list[Escalated]:
        return [e for p in self.plans for e in p.escalations]

    @property
    def skipped(self) -> list[str]:
        return [f"{p.ticket_id}: {s}" for p in self.plans for s in p.skipped]

    def add(self, record: Record, outcome: RecordOutcome) -> None:
        if outcome.changed is not None and outcome.changed not in self._changed:
            self._changed.add(outcome.changed)
            self.changed.append(outcome.changed)
        if outcome.planned is not None:
            self.plans.append(outcome.planned)
        if outcome.warning:
            self.warnings.append(record.ticket_id)
        if outcome.overdue:
            self.breaches.append(record.ticket_id)
        if outcome.invalid is not None:
            self.invalid.append(outcome.invalid)
        if outcome.behind is not None:
            self.behind.append(outcome.behind)
        elif outcome.note is not None:
            self.notes.append(outcome.note)
        if outcome.stranded is not None and outcome.stranded not in self._stranded:
            # (a worker's, then this process's look at the same ticket: said once)
            self.stranded.append(outcome.stranded)
            self._stranded.add(outcome.stranded)
        self.actions += outcome.actions
        self.events += outcome.events
        if outcome.active_after is not None:
            self.active_after[record.name] = outcome.active_after
        self.unwritten = self.unwritten or outcome.unwritten


# ---------------------------------------------------------------- a cold sweep on every CPU

MIN_TICKETS = 400  # below this, forking workers costs more than it saves


@dataclass
class Primed:
    """One ticket as a worker left it: its cache entry, and what the sweep did to it."""

    name: str
    entry: CachedFile | None  # None: the file vanished
    outcome: RecordOutcome | None = None  # None: the file does not parse or vanished
    worker: int = 0  # the process id of the worker


def prime(
    catalog: Catalog,
    now: dt.datetime,
    jobs: int | None = None,
    each: Callable[[Primed], None] | None = None,
    guard: Guard | None = None,
    died: Callable[[str], None] | None = None,
) -> Generator[Primed, None, None]:
    """Sweep, in up to ``jobs`` worker processes (default: one per CPU), every ticket the
    cache cannot answer for; nothing if there are too few for that to pay, or no fork.

    The workers parse, plan and write the tickets and hand back their cache entries, so
    the sweep that follows finds them all quiet and only reads the cache, as a warm sweep
    does.  Each ticket's result is yielded as it comes in, in name order (the caller holds
    only what it keeps), after ``each`` is called with it.
    """
    names = catalog.unanswered(now)
    processes = min(jobs or workers.cpus(), len(names) // workers.CHUNK + 1)
    if len(names) < MIN_TICKETS or processes < 2 or not workers.can_fork():
        return

    def task(share: list[str]) -> list[tuple[list[Handed], list[str]]]:
        removals = RemovalList()  # (old versions: the sweep's own process removes them)
        done = list(_sweep_names(catalog, share, now, guard, removals))
        if any(p.outcome is not None and p.outcome.changed for p in done):
            sync_folder(catalog.workspace.tickets_dir)  # the renames of the rewritten tickets
        return [([_handed(p) for p in done], removals.paths)]

    # The old versions the workers' writes took out of place are removed by a thread here,
    # where there is little else to do while they work (in a worker, waiting for its own
    # thread to remove them was ~5% of a first sweep's time); all are gone when this ends.
    garbage = Garbage()
    mapped = workers.fork_map(names, task, processes, TASK_BATCHES * BATCH)
    try:
        for [(handed, old_versions)] in mapped:
            for path in old_versions:
                garbage.put(path)
            garbage.flush()
            for primed in map(_taken, handed):
                if primed.entry is not None:
                    catalog.cache.put(primed.name, primed.entry)
                    if each is not None:
                        each(primed)
                yield primed
    except workers.WorkerDied as exc:  # (what no worker handed back is swept here, as
        # without workers: a ticket it wrote is read as it is now; its leftovers are removed)
        fallback(f"a sweep worker died ({exc}); the tickets left are swept in this process")
        if died is not None:
            died(str(exc))
        catalog.workspace.remove_stale_temporaries()
    except KeyboardInterrupt:  # (a stop; a SIGTERM to the process group killed the workers
        # where they stood, as it does: what they were writing ahead is removed here, once
        # they are gone, as the next sweep would, so no stop leaves it in tickets/)
        mapped.close()
        catalog.workspace.remove_stale_temporaries()
        raise
    finally:  # (the workers gone, their task ended or stopped, before the sweep goes on or
        mapped.close()  # stops: see sweep_workspace)
        garbage.close()


# A Primed as plain tuples: pickled and unpickled several times faster than dataclasses.
Handed = tuple[str, tuple[Any, ...] | None, tuple[Any, ...] | None, int]


def _handed(p: Primed) -> Handed:
    entry = None if p.entry is None else p.entry.row()
    o = p.outcome
    outcome = (
        None
        if o is None
        else (
            o.changed, o.planned, o.warning, o.overdue, o.note, o.behind, o.actions, o.events,
            o.invalid, o.left, o.stranded, o.unwritten,
        )
    )  # fmt: skip
    return p.name, entry, outcome, p.worker


def _taken(handed: Handed) -> Primed:
    name, entry, outcome, worker = handed
    row: list[Any] | None = None
    if entry is not None:  # one string for the configuration key and for each status (each
        # entry came with its own copies: ~130 bytes a ticket, kept until the sweep ends)
        row = list(entry)
        for n in _SHARED_FIELDS:
            if type(row[n]) is str:
                row[n] = _SHARED.setdefault(row[n], row[n])
    taken = None if outcome is None else RecordOutcome(*outcome)
    if taken is not None:  # (kept until the sweep prints them: see _share_strings)
        _share_strings(taken)
    return Primed(name, None if row is None else CachedFile(*row), taken, worker)


_SHARED: dict[str, str] = {}
_KINDS: dict[str | None, EscalationKind | None] = {k: k for k in ESCALATION_KINDS}
_KINDS[None] = None
_SHARED_FIELDS = (6, 9)  # CachedFile.row(): sla_key, status


def _share_strings(outcome: RecordOutcome) -> None:
    """One string for each rule name, team, status and the like in what a worker did to a
    ticket: each came with its own copies (~0.5 KB a ticket, kept until the sweep prints
    them: 50 MB when 100k tickets are rewritten)."""
    shared = _SHARED

    def one(value: str | None) -> str | None:
        return None if value is None else shared.setdefault(value, value)

    outcome.actions = tuple(
        replace(
            a,
            by=shared.setdefault(a.by, a.by),
            field=one(a.field),
            old=one(a.old),
            new=one(a.new),
            kind=_KINDS[a.kind],
        )
        for a in outcome.actions
    )
    planned = outcome.planned
    if planned is not None:
        planned.fired = [shared.setdefault(name, name) for name in planned.fired]
        planned.skipped = [shared.setdefault(text, text) for text in planned.skipped]
        for e in planned.escalations:
            e.to, e.by = (shared.setdefault(v, v) for v in (e.to, e.by))
            e.kind = _KINDS[e.kind] or e.kind
            if e.from_ is not None:
                e.from_ = shared.setdefault(e.from_, e.from_)


def _nothing() -> Generator[Primed, None, None]:
    yield from ()


class _Stream(Mapping[str, CachedFile]):
    """The workers' tickets for :meth:`Catalog.each`, taken as they come back, in name
    order, one at a time (they were all held until the sweep's loop reached them: most of
    the 1.3 GB of a sweep that rewrote 100k tickets).

    ``get(name)`` is the entry of a ticket a worker swept to the end, to be taken as it is
    (None: read here); :meth:`take` then hands over what the worker did to it.
    """

    def __init__(
        self, catalog: Catalog, now: dt.datetime, primed: Generator[Primed, None, None]
    ) -> None:
        self._catalog, self._now, self._primed = catalog, now, primed
        self._next: Primed | None = next(primed, None)
        self._current: Primed | None = None
        self.count = 0  # tickets the workers handed back so far
        self.finished = 0  # of those, the ones swept to the end (nothing left to do here)
        self.workers: set[int] = set()

    def _pull(self) -> Primed | None:
        p, self._next = self._next, next(self._primed, None)
        if p is not None:
            self.count += 1
            self.workers.add(p.worker)
            self.finished += self._finished(p)
        return p

    def _finished(self, p: Primed) -> bool:
        return p.entry is not None and (
            p.outcome is None or self._catalog.quiet(p.entry, self._now) or _settled(p.outcome)
        )

    def get(self, name: str, default: Any = None) -> Any:
        while self._next is not None and self._next.name < name:
            self._pull()  # (a name the loop never asks for: not in the folder's listing)
        self._current = None
        if self._next is None or self._next.name != name:
            return default
        p = self._current = self._pull()
        assert p is not None
        return p.entry if self._finished(p) else default

    def take(self, name: str) -> tuple[Primed | None, bool]:
        """What a worker did to ticket ``name`` (None: it was not handed to one), and
        whether the worker swept it to the end."""
        p, self._current = self._current, None
        if p is None or p.name != name:
            return None, False
        return p, self._finished(p)

    def drain(self) -> None:
        """Take the rest (the workers then finish)."""
        while self._next is not None:
            self._pull()

    def close(self) -> None:
        self._primed.close()

    def __getitem__(self, name: str) -> CachedFile:
        raise KeyError(name)  # (only get is used)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 1  # (never empty: Catalog.each asks it about every name)


def _sweep_names(
    catalog: Catalog,
    names: list[str],
    now: dt.datetime,
    guard: Guard | None,
    removals: RemovalList,
) -> Iterator[Primed]:
    """Sweep each ticket of ``names`` (in a worker process), a batch at a time; the results
    in the order of ``names`` (the parent takes them in name order: :class:`_Stream`).

    While the new texts of one batch are being made durable (:class:`_Batch`), the next
    batch is read and planned: a worker waited ~0.5 s on that at 10k tickets.  (A
    committing sweep journals and writes one batch at a time.)  The old versions of the
    tickets written are listed in ``removals``, for the sweep's own process to remove."""
    folder = catalog.workspace.tickets_dir
    worker = os.getpid()
    started: list[tuple[list[Record | Primed], _Batch]] = []  # planned, not yet written
    try:
        for start in range(0, len(names), BATCH):
            read: list[Record | Primed] = []
            for name in names[start : start + BATCH]:
                try:
                    read.append(catalog.to_sweep(name, folder))
                except ParseError:
                    read.append(Primed(name, catalog.cache.entries.get(name), worker=worker))
                except FileNotFoundError:
                    read.append(Primed(name, None, worker=worker))
            records = [r for r in read if isinstance(r, Record)]
            started.append((read, _start_batch(catalog, records, now, False, guard)))
            if len(started) > 1 or guard is not None:
                yield from _handed_back(catalog, *started.pop(0), now, guard, worker, removals)
        while started:
            yield from _handed_back(catalog, *started.pop(0), now, guard, worker, removals)
    finally:  # (an error, or the parent gone: what was written ahead is removed)
        for _, batch in started:
            _abandon(batch)


def _handed_back(
    catalog: Catalog,
    read: list[Record | Primed],
    batch: _Batch,
    now: dt.datetime,
    guard: Guard | None,
    worker: int,
    removals: RemovalList,
) -> Iterator[Primed]:
    """The batch written (:func:`_end_batch`): what was done to each ticket, in order."""
    outcomes = iter(_end_batch(catalog, batch, now, False, guard, removals))
    for item in read:
        if isinstance(item, Primed):
            yield item
            continue
        yield Primed(item.name, item.entry, next(outcomes), worker)
        catalog.cache.entries.pop(item.name, None)  # the parent keeps the entries
        catalog.cache.dirty.pop(item.name, None)


def run_sweep(
    workspace: Workspace,
    now: dt.datetime,
    dry_run: bool = False,
    jobs: int | None = None,
    after_workers: Callable[[Catalog, SweepResult], None] | None = None,
    on_primed: Callable[[Catalog, str, CachedFile], None] | None = None,
    guard: Guard | None = None,
    notify: bool = True,
    reports_from: dt.datetime | None = None,
) -> SweepResult:
    """Compute SLAs and apply rules to every ticket; write each ticket that changed.

    A ticket whose file, configuration and cached SLA show that nothing can have happened
    since the last sweep (no deadline crossed, no time-based rule condition changed) is not
    parsed again.  Tickets are read one at a time, so memory stays flat; when many need
    parsing (a cold cache), worker processes sweep them first (:func:`prime`):
    ``on_primed`` sees each cache entry they make as it comes in, ``after_workers`` the
    catalog once they are done, if they left nothing to do.  With ``guard`` (a committing
    sweep), a ticket is written only if it holds what is committed (:mod:`esc.store.pending`).
    With ``reports_from``, the start of the reports' period, the SLA of a ticket that
    settled before it is not computed (:meth:`Catalog.keep_settled`).
    """
    catalog = Catalog(workspace)
    catalog.reports_from = None if reports_from is None else reports_from.timestamp()
    texts = workspace.config_texts()
    catalog.known = Known(workspace.root, catalog.config, now)  # (read before it is kept)
    if not dry_run and texts is not None:  # (what the next sweep after an edit replays
        # the moments it missed under: see esc.store.config_versions)
        config_versions.mark_blocks_since(workspace.root, now)
        config_versions.remember(workspace.root, sweep_version(catalog.config), texts, now)
    if not notify and catalog.config.notify is not None:
        catalog.held_notify = catalog.config  # (for what people did: see _prepare)
        catalog.config = replace(catalog.config, notify=None)
        catalog.notify_held = True
    result = SweepResult(now, dry_run)
    each = None if on_primed is None else (lambda p: on_primed(catalog, p.name, p.entry))
    primed = _Stream(
        catalog,
        now,
        _nothing() if dry_run else prime(catalog, now, jobs, each, guard, result.worker_lost),
    )
    # (record, what a worker did to it, whether to sweep it here), in name order: swept a
    # batch at a time (sweep_records), added to the result in order
    queue: list[tuple[Record, RecordOutcome | None, bool]] = []

    def flush() -> None:
        outcomes = iter(sweep_records(catalog, [r for r, _, s in queue if s], now, dry_run, guard))
        for record, before, swept in queue:
            if before is not None:
                result.add(record, before)
            if swept:
                result.add(record, next(outcomes))
                record.release()  # the cache has what the reports need; the file can go
        queue.clear()
        if not dry_run and len(catalog.cache.dirty) >= SAVE_EVERY:
            catalog.save()  # (see SAVE_EVERY)

    try:
        for item in catalog.each(primed):
            if isinstance(item, ParseError):
                result.broken.append(item)
                continue
            result.seen += 1
            result.records.append(item)
            before, finished = primed.take(item.name)
            if before is not None and before.outcome is not None and finished:
                queue.append((item, before.outcome, False))  # a worker swept it: nothing left
            elif before is not None and before.outcome is not None:
                before.outcome.warning = before.outcome.overdue = False  # as swept again below
                before.outcome.behind = None  # (said again below, if it still is: once)
                if before.outcome.changed is None:
                    before.outcome.note = None  # (a worker left it alone: swept below)
                queue.append((item, before.outcome, True))
            else:
                queue.append((item, None, True))
            if len(queue) >= BATCH:  # (the workers' tickets too: each outcome was held
                flush()  # until the loop ended, ~0.4 KB a ticket)
        flush()
        primed.drain()
    finally:  # (an error part-way: the workers are stopped now, not when collected)
        primed.close()
    result.processes = len(primed.workers) or 1
    if primed.count or result.unwritten:  # (the workers read tickets the cache did not
        # vouch for; or a change was not written: the reports are rendered again)
        catalog.files_changed = True
    if primed.count and primed.finished == primed.count and after_workers is not None:
        after_workers(catalog, result)  # the workers left nothing to do: the cache says it all
    if result.changed and not dry_run:
        sync_folder(workspace.tickets_dir)  # the renames of the rewritten tickets
    result.catalog = catalog
    return result


def _settled(outcome: RecordOutcome) -> bool:
    """Whether a worker swept its ticket to the end, as one process would have: planned
    and written (or nothing to write) and not behind ``now``, or left for the next sweep
    (:func:`_left`: its lock held past ``--lock-timeout``, which this process would wait
    for as long again).

    Such a ticket is not swept again here, though its cache entry may not be quiet: a
    ticket not at rest is planned again by the next sweep (see :func:`_finish`), not by
    this one (it was: a third of a first sweep's tickets, planned twice).
    """
    return outcome.left or (outcome.note is None and outcome.behind is None)


@dataclass
class RecordOutcome:
    """What sweeping one ticket did and found."""

    changed: str | None = None  # the workspace-relative path, if (to be) rewritten
    planned: Planned | None = None
    warning: bool = False  # an open ticket with a clock in warning
    overdue: bool = False  # an open ticket with a clock past due
    note: str | None = None  # "T-…: …" when the sweep had to read the file again or leave it
    behind: str | None = None  # "T-…: …" when it was created or last swept after now
    actions: tuple[RuleAction, ...] = ()  # each change a rule made, for the output
    events: tuple[Event, ...] = ()  # the notifications the change makes (queued if written)
    invalid: str | None = None  # "path:line: message": it does not validate; not written
    left: bool = False  # not written, for the next sweep (not tried again by this one)
    # "T-…: …" when a person's edit holds back what people must learn of (an escalation,
    # a rule's action, a breach): said on stderr too, where cron's mail comes from
    stranded: str | None = None
    # a change planned and not written (a person's edit held it back, its lock held, the
    # file kept changing): what the reports show may differ from its file's (a deadline it
    # crossed is in no `sla:` block), so they are rendered again (audit helper-384)
    unwritten: bool = False
    # (--dry-run: whether the ticket would be active once written, which its record, never
    # written, does not say: a rule's resolve was counted as still active)
    active_after: bool | None = None


def sweep_record(
    catalog: Catalog,
    record: Record,
    now: dt.datetime,
    dry_run: bool,
    guard: Guard | None = None,
) -> RecordOutcome:
    """Plan and write one ticket (the caller then syncs the tickets folder).

    The ticket is written under its lock, and only if the file still holds what the plan
    was made from: a file changed meanwhile (an agent's comment, a hand edit) is read and
    planned again, so the sweep never writes over it.  With ``guard`` (a committing sweep),
    a ticket with uncommitted changes is left as it is for the next sweep, and what is
    written is journalled first.
    """
    prepared = _prepare(catalog, record, now)
    if isinstance(prepared, RecordOutcome):
        return prepared
    return _finish(catalog, record, prepared, now, dry_run, guard)


BATCH = 100  # tickets whose new texts are made durable together (one file system sync)
OWN_BATCHES_WAIT = 10.0  # seconds a ticket's write waits at least for the sweep's own batches
TASK_BATCHES = 4  # batches a worker is given at once: it plans one while the last is synced
# The cache entries a sweep made are saved this many at a time as it goes, not all at the
# end: the changes to save stay few (saving 100k at once built every row first), and a
# sweep killed part-way leaves the cache with what it did so far.  Each save is one SQLite
# transaction, of entries made from files as written; any entry is checked against its
# file before it is used (esc.store.cache), so a saved one is never trusted blindly.
SAVE_EVERY = 5000


def sweep_records(
    catalog: Catalog,
    records: list[Record],
    now: dt.datetime,
    dry_run: bool,
    guard: Guard | None = None,
) -> list[RecordOutcome]:
    """:func:`sweep_record` for each of ``records``, the new texts made durable together.

    Every ticket is planned first and its new text written to a temporary file, unsynced;
    the file system is synced once, and only then is each ticket written as
    :func:`sweep_record` writes it (under its lock, if it still holds what was planned),
    by renaming its temporary file into place.  A crash leaves each ticket old or new, as
    before, for one sync instead of one per ticket (a first sweep of 100k new tickets
    took 13 minutes, most of it in fsync).
    """
    batch = _start_batch(catalog, records, now, dry_run, guard)
    garbage = Garbage()
    try:
        return _end_batch(catalog, batch, now, dry_run, guard, garbage)
    finally:
        garbage.close()  # (the old versions gone before the caller goes on)


@dataclass
class _Batch:
    """Tickets planned (:func:`_start_batch`), the new texts of those that change written
    ahead to temporary files (``ahead``), which the file system is making durable
    (``syncing``) until :func:`_end_batch` puts them in place."""

    records: list[Record]
    prepared: list[_Prepared | RecordOutcome]
    ahead: list[tuple[Record, _Prepared]] = field(default_factory=list)
    syncing: SyncStarted | None = None


def _start_batch(
    catalog: Catalog, records: list[Record], now: dt.datetime, dry_run: bool, guard: Guard | None
) -> _Batch:
    """Each ticket planned; unless ``dry_run``, the new texts of those that change written
    to temporary files and synced in the background (when more than one changes)."""
    batch = _Batch(records, [_prepare(catalog, record, now) for record in records])
    if not dry_run:
        ahead = [
            (record, p)
            for record, p in zip(records, batch.prepared, strict=True)
            if isinstance(p, _Prepared) and p.text != p.doc.text
        ]
        if len(ahead) > 1:
            batch.ahead = ahead
            batch.syncing = _write_ahead(catalog, ahead, guard)
    return batch


def _end_batch(
    catalog: Catalog,
    batch: _Batch,
    now: dt.datetime,
    dry_run: bool,
    guard: Guard | None,
    garbage: Garbage | RemovalList,
) -> list[RecordOutcome]:
    """Once the texts written ahead are durable, each put in place (:func:`_place`: the old
    versions left to ``garbage``), and each ticket finished as :func:`sweep_record` would
    (written on its own if it was not)."""
    try:
        if batch.syncing is not None:
            batch.syncing.wait()
            _place(catalog, batch.ahead, now, garbage)
        return [
            p if isinstance(p, RecordOutcome) else _finish(catalog, record, p, now, dry_run, guard)
            for record, p in zip(batch.records, batch.prepared, strict=True)
        ]
    finally:  # (an error part-way: the temporary files not put in place yet are removed)
        _remove_ahead(batch)


def _abandon(batch: _Batch) -> None:
    """A batch never written (the sweep stopped before it): its temporary files removed once
    the sync that may be writing them is done."""
    if batch.syncing is not None:
        with contextlib.suppress(OSError):  # (they are removed whether it failed or not)
            batch.syncing.wait()
    _remove_ahead(batch)


def _remove_ahead(batch: _Batch) -> None:
    for p in batch.prepared:
        if isinstance(p, _Prepared) and p.ahead is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p.ahead[0])
            p.ahead = None


@dataclass
class _Prepared:
    """A ticket planned, with the text the sweep would write (``sweep_record``'s first
    half)."""

    doc: TicketDoc
    ticket_plan: TicketPlan
    text: str
    events: list[Event]
    ahead: Written | None = None  # its new text in a synced temporary file (a batch)
    journalled: bool = False  # noted in the committing sweep's journal already
    new: TicketDoc | None = None  # the new text as parsed (taken by the cache once written)
    placed: os.stat_result | None = None  # written with its batch (_place): the file's stat
    queued: list[str] = field(default_factory=list)  # the keys of its messages new in the outbox


def _write_ahead(
    catalog: Catalog, ahead: list[tuple[Record, _Prepared]], guard: Guard | None
) -> SyncStarted:
    """Journal each ticket's new text (a committing sweep), write it to a temporary file,
    and start syncing them all at once; a ticket the guard refuses, or whose temporary file
    cannot be written, is left to :func:`_finish`, which writes it (or not) on its own."""
    written: list[Written] = []
    try:
        for record, p in ahead:
            if guard is not None:
                if guard.why_not(p.doc.path, p.doc.text) is not None:
                    continue
                guard.wrote(p.doc.path, p.text)
                p.journalled = True
            try:
                p.ahead = write_unsynced(record.path, p.text)
            except OSError:
                continue
            written.append(p.ahead)
        return SyncStarted(catalog.workspace.tickets_dir, written)  # (the journal's lines too)
    except BaseException:
        for tmp, _ in written:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        for _, p in ahead:
            p.ahead = None
        raise


def _place(
    catalog: Catalog,
    ahead: list[tuple[Record, _Prepared]],
    now: dt.datetime,
    garbage: Garbage | RemovalList,
) -> None:
    """Put the tickets written ahead in place together, under the writes lock rather than
    a lock of their own each (making and removing a lock file per ticket was ~0.2 ms of a
    first sweep's ~2 ms per ticket): each whose lock nobody holds, if the file still holds
    what was planned.  The others are left to :func:`_finish`, which writes each under its
    own lock (reading it again if it changed), as before.

    The old versions the writes take out of place are handed together to ``garbage``'s
    thread, which removes them while the sweep goes on (:class:`~esc.store.atomic.Garbage`:
    ~0.3 ms of waiting per ticket, one after the other, when removed here); its owner
    waits for it when done (:func:`sweep_records`, :func:`_sweep_names`)."""
    workspace = catalog.workspace
    folder = workspace.root / CACHE_DIR
    patience = 0.0 if catalog.writes_lock_stuck else workspace.lock_timeout
    try:
        with lock.hold_writes(folder, patience, workspace.holder):
            for record, p in ahead:
                if p.ahead is None or not lock.ticket_free(folder, record.name):
                    continue
                queued = _queue(catalog, p.events, now)  # (before the write: never lost)
                mine, p.ahead = p.ahead, None
                written = None
                try:
                    written = replace_if_unchanged(
                        record.path,
                        p.doc.text,
                        p.text,
                        sync_dir=False,
                        written=mine,
                        garbage=garbage,
                    )
                except OSError as exc:  # (this ticket alone, as an immutable file: _finish
                    if _disk_wide(exc):  # tries it on its own and says why it could not)
                        raise
                finally:
                    if queued and not (sys.exc_info()[0] is None and written is not None):
                        Outbox(workspace.root).discard(queued)
                p.placed = written  # (None: it changed since it was read; _finish reads it)
                p.queued = queued if written is not None else []
    except LockTimeout:  # (a command kept writing a ticket: each is written under its own
        # lock; later batches do not wait for it again, or one stuck writer cost a whole
        # timeout per batch of BATCH tickets)
        catalog.writes_lock_stuck = True
    finally:
        garbage.flush()  # (removed while the sweep goes on)


def _prepare(catalog: Catalog, record: Record, now: dt.datetime) -> _Prepared | RecordOutcome:
    """The ticket planned, with its new text; or the outcome, if it is not to be written."""
    if record.entry_made and catalog.quiet(record.entry, now):
        return _quiet(catalog, record, now)
    try:
        doc = catalog.full(record)
    except FileNotFoundError:  # (removed since the folder was listed: `rm`, `git rm`)
        return _removed(record.name.removesuffix(".md"))
    try:
        problems.require_fit(doc, catalog.config)  # (never writes what does not validate; it
        # validated on its own as it was parsed)
    except ParseError as exc:  # (counted as every command counts it: its clocks as they run)
        return _alerts(_invalid(exc), sla_states_now(catalog, record, now), record.active)
    if _as_last_swept(catalog, record, doc, now):  # (what its cache would have said)
        return _quiet(catalog, record, now)
    ticket_plan, events = _swept(catalog, doc.ticket, now)
    if ticket_plan.note is not None:  # created or last swept after now: left alone
        outcome = _alerts(RecordOutcome(), ticket_plan.sla, ticket_plan.ticket.active)
        outcome.behind = ticket_plan.note
        return outcome
    try:
        new = _swept_doc(catalog.config, doc, ticket_plan)
    except ParseError as exc:  # front-matter esc cannot edit safely: left as it is
        return _alerts(_invalid(exc), sla_states_now(catalog, record, now), record.active)
    return _Prepared(doc, ticket_plan, new.text, events, new=new)


def _quiet(catalog: Catalog, record: Record, now: dt.datetime) -> RecordOutcome:
    """The outcome for a ticket a sweep at ``now`` changes nothing in (its cache entry says
    so): counted in warning or overdue as its clocks stand."""
    if not record.active:
        return RecordOutcome()
    standing = catalog.standing(record, now)  # (numbers kept with the SLA: no objects)
    if standing is not None:
        return RecordOutcome(warning=standing == "warning", overdue=standing == "overdue")
    return _alerts(RecordOutcome(), sla_states_now(catalog, record, now), True)


def _as_last_swept(catalog: Catalog, record: Record, doc: TicketDoc, now: dt.datetime) -> bool:
    """Whether ``doc`` is as the sweep that last wrote it left it, at rest (its
    fingerprint: :mod:`esc.ticketfile.fingerprint`), and nothing is due in it since: then
    its cache entry is made as that sweep made it (:func:`_finish`), and it is not planned
    (a sweep without the cache, in a fresh clone or after .esc-cache was removed, planned
    every ticket again: ~60% of a worker's time a ticket)."""
    if not doc.proven:
        return False
    ticket = doc.ticket
    if catalog.notify_held and _people_untold(ticket, now):
        return False
    if catalog.reports_from is not None and not ticket.active:  # (its SLA left to who
        # needs it: a report of an earlier period; 29% of a worker's time on a realistic
        # workspace, 83% settled, was this SLA)
        settled = settled_as_swept(ticket, catalog.config, now)
        if settled is not None and settled[1] < catalog.reports_from:
            catalog.keep_settled(record, *settled)
            return catalog.quiet(record.entry, now)
    last = as_last_swept(ticket, catalog.config, now)
    if last is None:
        return False
    catalog.keep_swept(record, *last)
    return catalog.quiet(record.entry, now)


def _removed(ticket_id: str) -> RecordOutcome:
    return RecordOutcome(note=f"{ticket_id}: removed while the sweep read it")


def _swept_doc(config: Config, doc: TicketDoc, ticket_plan: TicketPlan) -> TicketDoc:
    """What the sweep writes of ``doc`` (:func:`_changed_checked`): stamped with its
    fingerprint (:mod:`esc.ticketfile.fingerprint`) if the plan leaves it at rest
    (``TicketPlan.at_rest``: the rules acted, if they did, until none would), so that a
    sweep without the cache knows what this one knew of it; an earlier sweep's taken out
    otherwise (such a ticket is planned again by the next sweep, see :func:`_finish`)."""
    new = _changed_checked(config, doc, ticket_plan.change)
    if new.text == doc.text:
        return new
    return fingerprint.stamped(new, ticket_plan.at_rest)


def _changed_checked(config: Config, doc: TicketDoc, change: Change) -> TicketDoc:
    """``doc`` with ``change`` made (:func:`esc.ticketfile.document.changed`), checked as
    ``esc validate`` checks a ticket: a sweep never writes a ticket that would not
    validate (ParseError, at the line at fault, and nothing written)."""
    if not change:
        return doc
    new = document.changed(doc, change)
    try:
        problems.require_valid(new, config)
    except ParseError as exc:  # (esc's own change at fault: said so, the file left alone)
        why = f"the sweep's change would not validate ({exc.message}); nothing was written"
        raise ParseError(doc.path, exc.line, why) from None
    return new


def _require_on_branch(root: Path, branch: str) -> None:
    """EscError if the clone is on another branch than ``branch``, the one --push pushes
    to: the sweep rebased this branch onto that one, so that this branch's own commits (a
    person's work in progress, `main`'s history) went to ``branch``, and the next push of
    this branch took that branch's commits back to it (audits helper-386, helper-395).  A
    detached HEAD (a CI job's checkout) pushes to ``branch``.  (Not a branch that tracks
    it: `git checkout -b feat origin/main` makes feat one, and its work went to main;
    review helper-405.)"""
    on = git.branch_of_head(root)
    if on is not None and on != branch:
        raise EscError(
            f"this clone is on branch '{on}', not '{branch}': --push --branch {branch} would"
            f" rebase '{on}' onto {branch} and push its commits there (check out {branch}"
            f" to sweep it, or leave out --branch to push '{on}'); nothing was written"
        )


def _past(catalog: Catalog, ticket: Ticket) -> Past:
    """What the sweeps here know of ``ticket``'s past (:class:`esc.store.config_versions.Known`;
    one made for a catalog no sweep made knows nothing)."""
    known = catalog.known
    return Past() if known is None else known.past(ticket)


def _swept(catalog: Catalog, ticket: Ticket, now: dt.datetime) -> tuple[TicketPlan, list[Event]]:
    """:func:`_planned` for the catalog's sweep: with --no-notify, a ticket it writes gets
    the notifications of what people did since its last sweep (queued, never sent here:
    written, the ticket records this sweep, and no later one would tell of it)."""
    ticket_plan, events = _planned(catalog.config, ticket, now, _past(catalog, ticket))
    if catalog.held_notify is not None and ticket_plan.change:
        events = people_events(catalog.held_notify, ticket, ticket_plan.ticket, now)
    return ticket_plan, events


def _planned(
    config: Config, ticket: Ticket, now: dt.datetime, past: Past | None = None
) -> tuple[TicketPlan, list[Event]]:
    """The ticket's plan, and the notifications it makes: of what the rules and clocks did,
    and of what people did since the last sweep.  A sweep that tells of those alone also
    records itself in the ticket (``checked``), so no later sweep tells of them again.
    ``earlier``: the configuration the ticket was last swept under, if another one
    ``past``: see :func:`esc.domain.plan.plan`."""
    past = past or Past()
    ticket_plan = plan(ticket, config, now, past)
    if ticket_plan.note is not None:
        return ticket_plan, []
    events = notify_events(config, ticket, ticket_plan, now, past.earlier)
    if events and not ticket_plan.change:
        mark = marked_swept(ticket, config, now)
        if mark:
            ticket_plan.change = mark
            ticket_plan.ticket = lifecycle.applied(ticket_plan.ticket, mark)
    return ticket_plan, events


def _finish(
    catalog: Catalog,
    record: Record,
    prepared: _Prepared,
    now: dt.datetime,
    dry_run: bool,
    guard: Guard | None,
) -> RecordOutcome:
    """Write the planned ticket (see :func:`sweep_record`); what the sweep did."""
    doc, ticket_plan, text = prepared.doc, prepared.ticket_plan, prepared.text
    events, new = prepared.events, prepared.new
    ahead, prepared.ahead = prepared.ahead, None  # (used once: the first try)
    queued = prepared.queued
    try:
        if prepared.placed is not None:  # written with its batch
            catalog.written(record, text, prepared.placed, new)
            reread = False
        elif text != doc.text and not dry_run:
            workspace = catalog.workspace
            try:
                with workspace.ticket_lock(record.path, batches=OWN_BATCHES_WAIT):
                    for tries in range(REWRITE_TRIES + 1):
                        # (a text journalled ahead was judged by the guard then, and the
                        # journal now names the new text: the file must still hold doc.text,
                        # which replace_if_unchanged makes sure of)
                        if guard is not None and not (tries == 0 and prepared.journalled):
                            why = guard.why_not(doc.path, doc.text)
                            if why is not None:  # a person's edit: never committed as the sweep's
                                if prepared.journalled:  # (noted ahead, never written)
                                    guard.unwrote(doc.path)
                                outcome = RecordOutcome(
                                    note=f"{doc.ticket.id}: {why}; left for the next sweep",
                                    stranded=_stranded(doc.ticket.id, why, ticket_plan),
                                    unwritten=True,
                                )
                                return _alerts(outcome, ticket_plan.sla, ticket_plan.ticket.active)
                            guard.wrote(doc.path, text)
                        queued = _queue(catalog, events, now)  # (before the write: never lost)
                        written = None
                        mine, ahead = ahead, None
                        try:
                            written = replace_if_unchanged(
                                record.path, doc.text, text, sync_dir=False, written=mine
                            )
                        finally:
                            if queued and not (sys.exc_info()[0] is None and written is not None):
                                Outbox(workspace.root).discard(queued)
                        if written is not None:
                            catalog.written(record, text, written, new)
                            break
                        if tries == REWRITE_TRIES:
                            if guard is not None and (prepared.journalled or tries):
                                guard.unwrote(doc.path)  # (noted, never written)
                            left = _left(doc.ticket.id, "it kept changing while the sweep wrote it")
                            return _alerts(left, ticket_plan.sla, ticket_plan.ticket.active)
                        doc = catalog.reread(record)  # changed since it was read: as it is now
                        ticket_plan, events = _swept(catalog, doc.ticket, now)
                        new = _swept_doc(catalog.config, doc, ticket_plan)
                        text = new.text
                        if text == doc.text:
                            break
            except LockTimeout as exc:  # (still counted: overdue or in warning as it stands)
                left = _left(doc.ticket.id, str(exc))
                return _alerts(left, ticket_plan.sla, ticket_plan.ticket.active)
            except FileNotFoundError:
                return _removed(doc.ticket.id)
            except ParseError as exc:  # (it changed while the sweep read it)
                return _invalid(exc)
            except OSError as exc:  # (this file only: the other tickets are swept)
                if _disk_wide(exc):
                    raise
                said = f"cannot write {doc.path}: {exc.strerror or exc}; left as it is"
                active = ticket_plan.ticket.active
                return _alerts(RecordOutcome(invalid=said), ticket_plan.sla, active)
            reread = tries > 0
        else:
            reread = False
    finally:
        if ahead is not None:  # (never used: the lock timed out, or the guard refused)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(ahead[0])
    active = ticket_plan.ticket.active
    outcome = _alerts(RecordOutcome(None, ticket_plan.planned()), ticket_plan.sla, active)
    outcome.actions = rule_actions(doc.ticket.id, ticket_plan.change)
    if text != doc.text:  # (of a sweep that writes: those whose messages are new in the
        # outbox, not those a command's --notify or an earlier sweep keeps already)
        outcome.events = tuple(events) if dry_run else _queued_only(events, queued)
    if reread:
        outcome.note = f"{doc.ticket.id}: changed while the sweep read it; swept as it is now"
    if text != doc.text:
        outcome.changed = doc.path
        if dry_run:
            outcome.active_after = active
            return outcome
    sla = ticket_plan.sla
    # A ticket a rule was skipped on (the action limit reached) is planned again by the
    # next sweep, whatever its deadlines say; one the rules acted on until none would is at
    # rest, as one they left alone (``TicketPlan.at_rest``).
    # (--no-notify: what people did since the last sweep, left untold in a ticket the sweep
    # did not write, is told by the next sweep that notifies, as one without the cache)
    held = catalog.notify_held and text == doc.text and _people_untold(doc.ticket, now)
    rests = ticket_plan.at_rest and not held
    after = next_event(ticket_plan.ticket, sla, catalog.config, now) if rests else None
    catalog.keep_swept(record, sla, now, after)
    return outcome


def _people_untold(ticket: Ticket, now: dt.datetime) -> bool:
    lines, escalations, created = by_people_since_swept(ticket, now)
    return bool(lines or escalations or created)


_INSTANT = dt.timedelta(microseconds=1)  # (the ticket just after an instant's changes)


_TOLD: dict[int, tuple[Config, dict[str, tuple[tuple[str, ...], str, bool]]]] = {}


def _told_by(config: Config) -> dict[str, tuple[tuple[str, ...], str, bool]]:
    """Each rule's name: the names its `notify:` gives, its condition, and whether that
    holds only on a breach (made once per configuration: asked of every ticket)."""
    known = _TOLD.get(id(config))
    if known is None or known[0] is not config:
        known = _TOLD[id(config)] = (config, _rules_told(config))
    return known[1]


def _rules_told(config: Config) -> dict[str, tuple[tuple[str, ...], str, bool]]:
    return {
        rule.name: (
            tuple(rule_targets(rule.actions)),
            rule.when.describe(),
            holds_only_on_breach(rule.when),
        )
        for rule in config.automation
    }


def notify_events(
    config: Config,
    before: Ticket,
    ticket_plan: TicketPlan,
    now: dt.datetime,
    earlier: Config | None = None,
) -> list[Event]:
    """The notifications a sweep's plan makes (none without a `notify:` section): of what
    its rules and clocks did, and of what people did since the ticket's last sweep (an
    escalation, an assignment, a reopening, a low CSAT, a new ticket…: the same events, and
    ids, their command makes with ``--notify``, which the outbox then has already)."""
    notify = config.notify
    if notify is None:
        return []
    told = _told_by(config)
    # (a rule that fired before now, replayed under the configuration the ticket was last
    # swept under: its `notify:` as that one has it, a rule since renamed or removed too)
    then = _told_by(earlier) if earlier is not None else told
    fired = []  # (each time it fired, at its time)
    for name, at in ticket_plan.firings:
        said = (at < now and then.get(name)) or told.get(name)
        current = told.get(name)
        if said is not None and current is not None and not named_targets(notify, said[0]):
            # (what it named then is gone from rules.yaml, a target replaced by another:
            # the rule's own as it is now; nothing went, unsaid, though the log said
            # `notified`: audit helper-411)
            said = current
        if said is not None and said[0]:
            fired.append((name, at, *said))
    leads = {key: team.lead for key, team in config.teams.items()}
    final = ticket_plan.ticket
    due_at: dict[dt.datetime, dt.datetime | None] = {now: ticket_plan.sla.next_due()}

    def deadline(at: dt.datetime) -> dt.datetime | None:
        """The next deadline as of ``at`` (a message tells it as of what it tells of: the
        same whenever a sweep saw it)."""
        if at not in due_at:
            due_at[at] = sla_of(ticket_as_of(final, at), config, at).next_due()
        return due_at[at]

    def move_chose(at: dt.datetime, held: str) -> bool:
        """Whether the policy the ticket has just after ``at`` is the one its move from
        ``held`` at that instant chose (with ``held`` it would have another)."""
        view = ticket_as_of(final, at + _INSTANT)
        return policy_at(view, config, at) != policy_at(replace(view, team=held), config, at)

    return people_events(config, before, final, now) + events_of(
        before,
        ticket_plan.ticket,
        ticket_plan.change,
        notify,
        leads,
        config.priorities,
        fired,
        deadline,
        move_chose,
    )


def people_events(
    config: Config, before: Ticket, final: Ticket, now: dt.datetime
) -> list[Event]:
    """The notifications of what people did to ``before`` since its last sweep (none
    without a `notify:` section), told to whoever had the ticket just after it as the
    sweep's replay has it (``final``): a reopening at 14:00 of a ticket a rule escalated at
    13:00 reaches the team it went to, whether or not a sweep ran in between."""
    notify = config.notify
    if notify is None:
        return []
    leads = {key: team.lead for key, team in config.teams.items()}

    def deadline_then(at: dt.datetime) -> dt.datetime | None:
        """The next deadline as a person's change left it at ``at``, before the rules acted
        at that instant (as their command's ``--notify`` tells it: one id, one text), by
        the replay (a policy an escalation at 13:00 chose counts at 14:00)."""
        return sla_of(ticket_after_people(final, at), config, at).next_due()

    lines, escalations, created = by_people_since_swept(before, now)
    made = []
    if created:  # (a new ticket at or above the floor: judged at its priority then)
        made = events_of(None, ticket_as_of(before, before.created),
                         Change(activity=tuple(a for a in lines if a.event == "created")),
                         notify, leads, config.priorities, (), deadline_then)  # fmt: skip
        lines = tuple(a for a in lines if a.event != "created")
    if lines:  # (of the ticket as people left it: the team and priority their change gave)
        people = Change(activity=lines, escalations=escalations)
        made += events_of(before, before, people, notify, leads, config.priorities,
                          (), deadline_then, holder=Holders(final).after_people)  # fmt: skip
    return made


def _queue(catalog: Catalog, events: list[Event], now: dt.datetime) -> list[str]:
    """Keep the messages of ``events`` in the outbox; the keys of those new there."""
    if not events:
        return []
    return Outbox(catalog.workspace.root).queue(messages_of(events, now))


def _queued_only(events: list[Event], keys: list[str]) -> tuple[Event, ...]:
    """``events`` with only the targets whose messages have the outbox ``keys``."""
    new = set(keys)
    out = []
    for event in events:
        targets = tuple(t for t in event.targets if message_key(event.id, t) in new)
        if targets:
            out.append(replace(event, targets=targets))
    return tuple(out)


def _disk_wide(error: OSError) -> bool:
    """Whether ``error`` is not one ticket's own (a full or read-only disk, esc's own folders
    in the wrong shape): the sweep then stops, rather than saying so of every ticket.  One
    ticket's own is a permission its file (or its temporary file beside it) refuses: an
    immutable file, one of another owner."""
    if error.errno not in (errno.EPERM, errno.EACCES):
        return True
    names = [n for n in (error.filename, error.filename2) if isinstance(n, (str, bytes))]
    return any(Path(os.fsdecode(n)).parent.name != TICKETS_DIR for n in names)


def _left(ticket_id: str, why: str) -> RecordOutcome:
    """A ticket the sweep could not write: the next sweep plans it again (this one does
    not: a worker that waited ``--lock-timeout`` for it is not followed by the sweep's own
    process waiting as long again)."""
    return RecordOutcome(
        note=f"{ticket_id}: left as it is for the next sweep: {why}", left=True, unwritten=True
    )


def _stranded(ticket_id: str, why: str, ticket_plan: TicketPlan) -> str | None:
    """What a person's uncommitted edit holds back that people must learn of (escalations,
    rules' actions, breaches), said where cron mails it from; None if nothing such."""
    held = [f"escalation {e.from_} → {e.to}" for e in ticket_plan.escalations]
    held += [f"rule {name}" for name in dict.fromkeys(ticket_plan.fired)]
    held += [f"{a.field[len('sla.'):]} breached" for a in ticket_plan.change.activity
             if a.field is not None and a.field.startswith("sla.") and a.new == "breached"]
    held = list(dict.fromkeys(held))  # (two requests' OLA breaches: said once)
    if not held:
        return None
    return (f"{ticket_id}: {why}: held back until the ticket is committed: its "
            f"{', '.join(held)} (the sweep never commits a person's edit)")  # fmt: skip


def _invalid(error: ParseError) -> RecordOutcome:
    """A ticket not written because it does not validate (against the configuration) or
    cannot be edited safely: a finding, as a file that does not parse is (exit 1)."""
    return RecordOutcome(invalid=str(error))


def _alerts(outcome: RecordOutcome, sla: Sla, active: bool) -> RecordOutcome:
    outcome.warning = active and bool(sla.warning_clocks)
    outcome.overdue = active and bool(sla.overdue_clocks)
    return outcome


def sweep_message(escalations: Sequence[Escalated], tickets: int, earlier: int = 0) -> str:
    """The commit message of a sweep: a summary line, then each escalation, as the sweep
    prints it: ``ID: from → to (rule)``, the rule's name."""
    lines = [f"{git.SWEEP_SUBJECT}{_count(tickets, 'ticket')} updated"]
    if earlier:
        lines += ["", f"{earlier} of them left by an earlier sweep or intake"]
    if escalations:
        lines.append("")
        lines += [
            f"{e.ticket_id}: {e.from_} → {e.to} ({e.by.removeprefix(RULE_ACTOR)})"
            for e in escalations
        ]
    return "\n".join(lines) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


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
    notify: bool = True  # queue and send notifications (--no-notify: neither)
    # now is this machine's local time (the clock, or --now without an offset): the
    # reports' 30 days are its local days, and their weeks start at its local Mondays, as
    # `esc report`'s (a sweep's counted 30 × 24 hours in now's offset: audit helper-408)
    now_is_local: bool = False


@dataclass
class SweepOutcome:
    result: SweepResult
    reports: list[str] = field(default_factory=list)
    commit: str | None = None  # the sweep's (last) commit, as it is in the branch now
    committed: list[str] = field(default_factory=list)  # the files in the sweep's commits
    earlier: list[str] = field(default_factory=list)  # of those, tickets an earlier sweep wrote
    pushed: bool = False
    pushed_to: str = ""  # REMOTE/BRANCH
    pushed_commits: int = 0  # commits that went to the remote (earlier unpushed ones too)
    # (each, oldest first: its hash, subject and the files it changed)
    pushed_list: list[tuple[str, str, list[str]]] = field(default_factory=list)
    attempts: int = 1
    delivery: Delivery | None = None  # what was sent now (None: nothing was due)
    report_error: str | None = None  # why the reports were not rendered (a template, say)
    notify_error: str | None = None  # why sending stopped part-way (a full disk)
    waiting_for_push: int = 0  # messages a failed push left, held for the next --push sweep
    git_error: str | None = None  # why the commit or the push failed (the tickets are written)
    retries: list[Message] = field(default_factory=list)  # --dry-run: what is due to be resent
    held: list[Message] = field(default_factory=list)  # what waits for its target's quiet hours
    dropped: list[Message] = field(default_factory=list)  # --dry-run: to a target gone
    # --dry-run: what a delivery now would send as one message to each target: what was made
    # in its quiet hours and goes at its working hour (two or more)
    digests: dict[str, list[Message]] = field(default_factory=dict)
    journalled: frozenset[str] = frozenset()  # tickets written by intake or an earlier sweep
    journal: Mapping[str, str] = field(default_factory=dict)  # their blob ids, as written
    left_out: list[str] = field(default_factory=list)  # written, then changed by a person
    # (hash, subject) of each commit a rebase left out: the remote no longer has it
    dropped_commits: list[tuple[str, str]] = field(default_factory=list)
    left_by_others: list[str] = field(default_factory=list)  # of those, written by intake or
    # an earlier sweep alone (not this one)
    told: list[Escalated] = field(default_factory=list)  # the escalations its commit tells
    # --dry-run: (target, variable) for each target it would send to whose URL names a
    # variable this environment lacks: its messages would fail, and wait to be retried
    unsendable: list[tuple[str, str, str]] = field(default_factory=list)  # (target,
    # variable, what is wrong with it)


def sweep_workspace(workspace: Workspace, now: dt.datetime, options: SweepOptions) -> SweepOutcome:
    """One sweep as cron runs it: locked, then swept, reported, committed and pushed."""
    if options.dry_run:
        outcome = _sweep_once(workspace, now, options)
        if options.notify:  # (what a real sweep would send again: failed before, due now)
            notify = workspace.config().notify
            due = Outbox(workspace.root).due(now)  # (as a real sweep would: those held
            # for their target's quiet hours, and those to a target gone, are said apart)
            keep = frozenset() if options.push else _held_for_push(workspace.root)
            outcome.waiting_for_push = len(keep)  # (left for the push, as a real sweep)
            due = [m for m in due if m.key not in keep]
            targets = notify.targets if notify is not None else {}
            # (and what waits for its backoff to a target gone: a real sweep drops it now)
            outcome.dropped = [
                m for m in Outbox(workspace.root).all()
                if m.status == "pending" and m.target not in targets and m.key not in keep
            ]  # fmt: skip
            due = [m for m in due if m.target in targets]
            for message in due:
                waits = waits_for_working_hours(notify, message, now)
                (outcome.held if waits else outcome.retries).append(message)
            # (and what this sweep's changes would queue, held as a real sweep holds it: not
            # said to be one it would send)
            outbox = Outbox(workspace.root)
            fresh = [m for m in messages_of(outcome.result.events, now)
                     if not outbox.kept(m.key)]  # (queued before: said above, or sent)
            outcome.held += [m for m in fresh if waits_for_working_hours(notify, m, now)]
            now_due = [m for m in fresh if not waits_for_working_hours(notify, m, now)]
            # (a target a message goes to now gets those waiting for their backoff too, once
            # it answers, as a real sweep sends them: said as retries)
            trying = {m.target for m in [*outcome.retries, *now_due]}
            listed = {m.key for m in outcome.retries}
            outcome.retries += [
                m for m in outbox.all()
                if m.status == "pending" and m.target in trying and m.key not in listed
                and m.key not in keep and not waits_for_working_hours(notify, m, now)
            ]  # fmt: skip
            going = [*outcome.retries, *now_due]
            gathered: dict[str, list[Message]] = {}
            for message in going:
                if made_in_quiet_hours(notify, message):
                    gathered.setdefault(message.target, []).append(message)
            outcome.digests = {t: found for t, found in gathered.items() if len(found) > 1}
            in_digests = {(m.event, m.target) for found in outcome.digests.values() for m in found}
            outcome.retries = [m for m in outcome.retries if (m.event, m.target) not in in_digests]
            told = {m.target for m in [*going, *outcome.held]}
            if notify is not None:  # (as validate and doctor say it: before the first sweep)
                outcome.unsendable = [
                    (t.name, name, problem)
                    for t, name, problem in missing_variables(notify, os.environ)
                    if t.name in told
                ]
        return outcome
    if options.report_dir is not None and options.reports:  # (--report-dir tickets: its
        # summary.md was a ticket that does not parse, and every command failed after)
        from esc.report.contents import SWEEP_REPORTS

        for name in SWEEP_REPORTS:
            workspace.refuse_own(options.report_dir / name)
    if options.push:  # (values that reach git: never as an option)
        git.check_remote_name(options.remote)
        if options.branch is not None:
            git.check_branch_name(options.branch)
    if (options.commit or options.push) and not git.inside_git_work_tree(workspace.root):
        raise EscError("--commit and --push need the workspace to be in a git repository")
    if options.push:  # before anything is written: a missing remote is bad input
        git.require_remote(workspace.root, options.remote)
        if options.branch is not None:  # (one named: a mistyped one is no new branch)
            git.require_branch(workspace.root, options.remote, options.branch)
            _require_on_branch(workspace.root, options.branch)
    committing = options.commit or options.push
    with contextlib.ExitStack() as held:
        held.enter_context(lock.hold(workspace.root / CACHE_DIR, options.lock_timeout))
        if committing:  # (what the git processes of a killed sweep left: cleaned up)
            held.enter_context(git.sweeping(workspace.root, workspace.root / CACHE_DIR))
            # (a rebase a killed sweep left: aborted)
            git.finish_unfinished(workspace.root, workspace.root / CACHE_DIR)
            _require_committed_config(workspace.root)
        if options.push and options.branch is None:  # (a detached HEAD is refused now, too;
            # and a branch of this clone the remote lacks, as one named by --branch is)
            git.require_branch(workspace.root, options.remote, git.current_branch(workspace.root))
        workspace.remove_stale_temporaries(options.report_dir or workspace.root / REPORTS_DIR)
        mending: list[tuple[str, str]] = []  # (the commits its rebase left out, if any)
        if options.push:
            workspace = _mended_upstream(workspace, options, mending)
        try:
            if not options.push:
                outcome = _sweep_once(workspace, now, options)
            else:
                outcome = _sweep_and_push(workspace, now, options, mending)
        except BaseException:  # (Ctrl-C, a `timeout`'s SIGTERM, an error part-way: the
            # temporary files of its writes, its workers' and its own, are removed now, not
            # left in tickets/ for the next sweep: `git status` lists them, `git add -A`
            # commits them.  Every write has ended: the workers are gone, each thread done)
            workspace.remove_leftover_temporaries()
            raise
        Outbox(workspace.root).prune_sent(now)  # (once a day: those sent a month ago)
    if options.push and options.notify:
        _hold_for_push(workspace.root, options, outcome)
    if options.notify and outcome.git_error is None:  # (after the tickets are written and
        # pushed: a failed send undoes nothing; a failed push sends nothing yet.  And once the
        # workspace is let go: a target that hangs holds up no sweep's writes, only the
        # outbox, whose next sender leaves its messages to this one)
        keep = frozenset() if options.push else _held_for_push(workspace.root)
        outcome.waiting_for_push = len(keep)
        try:
            outcome.delivery = deliver(
                Outbox(workspace.root), workspace.config().notify, now, who="esc sweep",
                keep=keep,
            )  # fmt: skip
        except OSError as exc:  # (a full disk as a message's state is kept: what the
            # sweep did stands, and is told, with this after it; what is unsent stays queued)
            where = workspace.rel(exc.filename) if exc.filename else "the outbox"
            outcome.notify_error = (
                f"esc: notifications stopped part-way: cannot write {where}: "
                f"{exc.strerror or exc}; those not sent stay queued for the next sweep"
            )
            return outcome
        outcome.held = list(outcome.delivery.quiet)  # (--json: what waits, as --dry-run says)
    return outcome


def _mended_upstream(
    workspace: Workspace, options: SweepOptions, dropped: list[tuple[str, str]]
) -> Workspace:
    """The workspace a pushing sweep sweeps: this one; or, when its teams.yaml or rules.yaml
    does not load and the remote's branch has them otherwise (a broken rules.yaml an
    earlier sweep's rebase brought, mended there since: every later sweep stopped on it
    before it fetched, and the clone stayed broken until a person pulled), this one
    rebased onto the remote's branch, whose files the sweep then loads (a problem in those
    is said as any).  When the remote cannot be reached or the rebase cannot be made, the
    workspace as it is: its own problem is said, as before.  ``dropped`` gets the commits
    that rebase left out (a force-push took them out of the remote), said as the push's
    own rebases say them."""
    try:
        workspace.config()
        return workspace
    except ConfigError:
        pass
    root = workspace.root
    try:
        branch = options.branch or git.current_branch(root)
        if git.run(root, "fetch", "--quiet", "--", options.remote, branch).returncode != 0:
            return workspace
        upstream = git.fetched(root)
        files = [TEAMS_FILE, RULES_FILE]
        if upstream is None:
            return workspace
        theirs = git.files_at(root, upstream, files)
        if theirs == git.files_at(root, "HEAD", files) or not _loads(theirs):
            return workspace  # (the remote's as broken: no rebase, which could drop commits)
    except EscError:  # (the remote not to be read: the config's problem is the news)
        return workspace
    try:
        with lock.hold_writes(root / CACHE_DIR, workspace.lock_timeout, workspace.holder):
            merge_driver.force_ticket_merge(root)
            _catch_up(workspace, options.remote, branch, [], dropped)
    except (git.RebaseConflict, ConfigError):  # (undone: the clone as it was, its own
        return workspace  # problem said; what else git says, a stash kept, is said as ever)
    return Workspace(root, workspace.lock_timeout, workspace.holder, workspace.on_wait)


def _loads(files: Mapping[str, bytes]) -> bool:
    """Whether teams.yaml and rules.yaml as ``files`` holds them (by name) make a
    configuration every command can run on."""
    from esc.config.loading import usable_config  # (ruamel.yaml only when needed)

    try:
        teams = files[TEAMS_FILE].decode("utf-8")
        rules = files.get(RULES_FILE, b"").decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return False
    return usable_config(teams, rules) is not None


def _require_committed_config(root: Path) -> None:
    """A committing sweep acts on rules and teams its commits can be explained by: an edit
    of rules.yaml or teams.yaml that nobody committed (a draft) would act through the sweep,
    and its escalations be committed and pushed under the sweep's name.  An edit that
    changes no value (a comment, the layout) is no such edit."""
    dirty = git.uncommitted(root, [TEAMS_FILE, RULES_FILE])
    if not dirty:
        return
    try:
        committed = git.files_at(root, "HEAD", dirty)
    except git.GitError:  # (no commit yet: it commits no ticket either, each is left)
        return
    dirty = [name for name in dirty if not _same_values(committed.get(name), root / name)]
    if dirty:
        raise EscError(
            f"{' and '.join(dirty)} {'has' if len(dirty) == 1 else 'have'} changes not "
            "committed, which a committing sweep would act on and commit the effects of: "
            "commit them (or stash them), or sweep without --commit/--push; nothing was written"
        )


def _same_values(committed: bytes | None, path: Path) -> bool:
    """Whether the file at ``path`` holds the values of its ``committed`` text (both YAML
    that parses; comments and layout aside)."""
    if committed is None:
        return False
    try:
        values = yaml_text.load(path.read_bytes().decode("utf-8"))
        return bool(values == yaml_text.load(committed.decode("utf-8")))
    except (OSError, UnicodeDecodeError, yaml_text.YamlError):
        return False


def _adopt_earlier_sweeps(workspace: Workspace, guard: Pending) -> None:
    """Journal the tickets a sweep without ``--commit`` wrote and nobody committed (someone
    tried `esc sweep` in the clone cron commits from): a ticket whose change since HEAD is
    exactly what a sweep at its ``checked`` time makes of HEAD's version is the sweep's,
    not a person's, so this sweep goes on sweeping it and commits it (it was left as a
    person's edit for good).  Any other change stays a person's, as before."""
    root = workspace.root
    if not guard.head:  # (nothing committed yet: no committed version to compare with)
        return
    changed = [
        path
        for path in git.tracked_changed_since(root, "HEAD", TICKETS_DIR)
        if path in guard.head and path not in guard.written and path not in guard.staged
    ]
    if not changed:
        return
    sweeps = SweepsWrites(root, workspace.config())
    for path, before in git.files_at(root, "HEAD", changed).items():
        try:
            text = (root / path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if sweeps.made(path, before, text):
            guard.wrote(path, text)


class SweepsWrites:
    """Which changes to a ticket file a sweep made: exactly what a sweep at the new text's
    ``checked`` time makes of the old text (under the configuration of now, or the one the
    ticket was last swept under), nothing a person wrote."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config
        self.known: Known | None = None  # (read once; each earlier configuration built once)

    def made(self, path: str, before: bytes, text: str) -> bool:
        return self._making(path, before, text) is not None

    def gives_way(self, path: str, base: bytes, swept: str, other: str) -> bool:
        """Whether ``swept``, which changed ``base`` only as sweeps do after a person's
        change on ``other`` it never saw (:func:`esc.ticketfile.merge.swept_before`),
        gives way to ``other``: it must be exactly what a sweep makes of ``base`` (planned
        again here, byte for byte: nothing a person wrote is in it; its ``checked`` may
        have been moved back by an earlier commit's merge in a rebase, the sweep then
        taken at the last line it wrote), and that sweep, run on ``other`` as it was then,
        must plan another change (a person's escalation before the breach: the rule's
        escalation goes from the team she escalated to), or be unable to (``other`` was
        swept later itself).  Not if ``other`` is no ticket a sweep here plans (it does
        not validate under this configuration), nor if no sweep here makes ``swept``
        (made under another rules.yaml: the merge stays field by field)."""
        from esc.ticketfile.merge import swept_until  # (merges alone need it)

        found = self._making(path, base, swept)
        if found is None:
            try:
                docs = document.parse(base.decode("utf-8"), path), document.parse(swept, path)
            except (UnicodeDecodeError, ParseError):
                return False
            until = swept_until(*docs)
            found = None if until is None else self._making(path, base, swept, until)
            if found is None:
                return False
        if not self._unseen_before_its_lines(path, base, swept, other):
            # (what the other side changed came after the sweep's lines, before its check:
            # it gives way only if its rules would have acted otherwise, a person's
            # escalation making the rule's needless; not for the clocks alone, a reply
            # after the breach, which the merge keeps beside it)
            return self._acts_otherwise(path, found, other, _rules_acts)
        return self._acts_otherwise(path, found, other)

    def _unseen_before_its_lines(self, path: str, base: bytes, swept: str, other: str) -> bool:
        """Whether ``other`` holds a person's change, not in ``base``, made no later than
        the last line the sweeps added in ``swept``."""
        from esc.ticketfile.merge import swept_until, unseen_until  # (merges alone)

        try:
            b, s, o = (document.parse(t, path) for t in (base.decode("utf-8"), swept, other))
        except (UnicodeDecodeError, ParseError):
            return True
        until = swept_until(b, s)
        return until is None or unseen_until(b, s, o, until)

    def unswept(self, path: str, base: bytes, side: str, other: str) -> str | None:
        """What ``side`` was before the sweep that rewrote it last ran, when that sweep
        never saw a person's change on ``other`` (:func:`esc.ticketfile.merge.swept_amid`)
        and gives way to it as :meth:`gives_way` says: ``side``'s other changes (the
        customer's message intake took, which the cron line's sweep commits with its
        rewrite), which a merge keeps with ``other``, the sweep's part replayed by the
        next sweep.  It must be a version of which a sweep makes ``side`` byte for byte
        (:func:`esc.ticketfile.merge.unswept`: nothing a person wrote is dropped), and
        that sweep, run on it merged with ``other`` as it was then, must plan another
        change.  None otherwise (the merge stays field by field)."""
        from esc.store.merge_driver import merge_text  # (merges alone need them)
        from esc.ticketfile.merge import merge_ticket, unswept

        try:
            texts = unswept(document.parse(base.decode("utf-8"), path), document.parse(side, path))
        except (UnicodeDecodeError, ParseError):
            return None
        for text in texts:
            found = self._making(path, text.encode("utf-8"), side)
            if found is None:
                continue
            merged = merge_ticket(base.decode("utf-8"), text, other, merge_text)
            if not merged.clean or not merged.structured:
                return None
            return text if self._acts_otherwise(path, found, merged.text) else None
        return None

    def _acts_otherwise(
        self,
        path: str,
        found: tuple[TicketPlan, dt.datetime, Past, _Maker],
        other: str,
        what: Callable[[Change], object] = lambda change: _acts(change),
    ) -> bool:
        """Whether the sweep ``found`` (what :meth:`_making` found) would have planned
        another change of ``other`` as it was at the sweep's time (``what`` of it: all it
        does, by default), or could not plan it."""
        made, checked, past, maker = found
        try:  # (a sweep plans a ticket that validates, and leaves any other alone)
            other_doc = document.parse(other, path)
            problems.require_valid(other_doc, self.config)
        except ParseError:
            return False
        ticket = other_doc.ticket  # (changed after the sweep's check too: as it was then)
        would = maker(self.config, ticket_as_of(ticket, checked), checked, past)
        return would.note is not None or what(would.change) != what(made.change)

    def _making(
        self, path: str, before: bytes, text: str, at: dt.datetime | None = None
    ) -> tuple[TicketPlan, dt.datetime, Past, _Maker] | None:
        """The plan that makes ``text`` of ``before`` (with its time, past and maker), if
        a sweep's does; else None.  ``at``: a sweep at that instant, whose block's
        ``checked`` a merge then moved back (:func:`esc.ticketfile.merge.merge_ticket`:
        the time the block says is taken as written; the rest must be the plan's)."""
        try:
            old, new = document.parse(before.decode("utf-8"), path), document.parse(text, path)
            problems.require_valid(old, self.config)  # (a sweep plans no other ticket)
        except (UnicodeDecodeError, ParseError):
            return None
        block = new.ticket.extra.get("sla")
        checked = coerce_timestamp(block.get("checked")) if isinstance(block, Mapping) else None
        if checked is None or old.ticket.extra.get("sla") == block:
            return None
        when = checked if at is None else at
        # (what a sweep then writes: its plan, or, with notifications, the mark that it told
        # people of what they did, which the plan alone does not make)
        config = self.config
        self.known = self.known or Known(self.root, config, when)
        past = self.known.past(old.ticket)  # (last swept under another rules.yaml: replayed
        # under the one it was swept under then; either way a ticket without a block was
        # read then, see esc.domain.plan.plan)
        variants = (
            (past, replace(past, blockless_swept=not past.blockless_swept))
            if "sla" not in old.ticket.extra
            else (past,)
        )
        for variant in variants:
            for maker in (_plan_alone, _plan_told):  # (the second only if the first is not it)
                made = maker(config, old.ticket, when, variant)
                if at is not None:
                    made = _checked_as(made, checked)
                if _makes(old, made, text):
                    return made, when, variant, maker
        return None


def _checked_as(made: TicketPlan, checked: dt.datetime) -> TicketPlan:
    """``made`` with the ``checked`` its block says set to ``checked``."""
    block = made.change.sets.get("sla")
    if not isinstance(block, Mapping):
        return made
    sets = {**made.change.sets, "sla": {**block, "checked": checked}}
    return replace(made, change=replace(made.change, sets=sets))


def _acts(change: Change) -> Change:
    """What a sweep's change does, but for ``updated`` (the latest time of the ticket's,
    the other side's own when it is later: a merge takes the later) and the ``checked`` of
    its block (when it was: a block a merge moved back says another time)."""
    sets = {k: v for k, v in change.sets.items() if k != "updated"}
    block = sets.get("sla")
    if isinstance(block, Mapping):
        sets["sla"] = {k: v for k, v in block.items() if k != "checked"}
    return replace(change, sets=sets)


def _rules_acts(change: Change) -> tuple[object, ...]:
    """What a sweep's rules do in ``change``: their escalations, notes and log lines."""
    return (
        change.escalations,
        tuple(e for e in change.entries if e.author.startswith(RULE_ACTOR)),
        tuple(a for a in change.activity if a.by.startswith(RULE_ACTOR)),
    )


_Maker = Callable[[Config, Ticket, dt.datetime, Past], TicketPlan]


def _plan_alone(config: Config, ticket: Ticket, now: dt.datetime, past: Past) -> TicketPlan:
    return plan(ticket, config, now, past)


def _plan_told(config: Config, ticket: Ticket, now: dt.datetime, past: Past) -> TicketPlan:
    """The plan with the mark of what it told people (:func:`_planned`)."""
    return _planned(config, ticket, now, past)[0]


def _makes(old: TicketDoc, made: TicketPlan, text: str) -> bool:
    """Whether ``made``, written into ``old``, gives ``text``."""
    change = made.change
    if made.note is not None or not change:
        return False
    # (its fingerprint as the sweep stamped it or not: a rule that acted leaves none, a
    # merge that moved `checked` back left the one it had; a stamp is no one's writing)
    return document.unstamped(document.apply_change(old, change)) == document.unstamped(text)


def _sweep_once(
    workspace: Workspace, now: dt.datetime, options: SweepOptions, owed: str | None = None
) -> SweepOutcome:
    """One sweep, committed with ``--commit``; ``owed``: the sweep's commit (HEAD, not
    pushed) whose reports a rejected push took back, which takes them again if this sweep
    commits no ticket (:func:`_sweep_and_push`)."""
    folder = options.report_dir or workspace.root / REPORTS_DIR
    on = options.reports and not options.dry_run
    reports = SweepReports(workspace, now, folder, on, options.now_is_local)
    guard = Pending.load(workspace.root) if options.commit and not options.dry_run else None
    if guard is not None:
        _adopt_earlier_sweeps(workspace, guard)
    # (without --commit: what it writes over a text a committing sweep wrote and could not
    # commit is journalled too, for the next --commit sweep to commit)
    follower = None if options.commit or options.dry_run else Follower.load(workspace.root)
    result = run_sweep(
        workspace,
        now,
        options.dry_run,
        options.jobs,
        reports.start_aside,
        reports.gather,
        guard or follower,
        options.notify,
        reports.period.since,  # (whether it renders them or not: the default period's)
    )
    outcome = SweepOutcome(result)
    catalog = result.catalog
    assert catalog is not None
    if reports.aside is not None:
        catalog.save()  # while the reports render aside
    if options.reports:
        try:
            outcome.reports = reports.render(
                catalog, result.records, options.dry_run, result.broken
            )
        except EscError as exc:  # (the tickets are written: what the sweep did is still told)
            outcome.report_error = f"esc: the reports were not rendered: {exc}"
    if not options.dry_run:
        catalog.save()
    if guard is not None:
        outcome.journalled, outcome.journal = guard.before, dict(guard.loaded)
        try:
            _commit(workspace, result, outcome, guard, folder, owed)
        except EscError as exc:  # (the tickets are written: what the sweep did is still told;
            outcome.git_error = f"esc: {exc}"  # the next --commit sweep commits them)
    return outcome


def _commit(
    workspace: Workspace,
    result: SweepResult,
    outcome: SweepOutcome,
    guard: Pending,
    folder: Path,
    owed: str | None = None,
) -> None:
    """Commit every ticket the sweep (or an earlier one) wrote that still holds what it
    wrote, with the rendered reports; nothing when no ticket changed, so sweeps that change
    no ticket make no commits however often the reports are rendered.  With no ticket to
    commit, the reports go into ``owed`` (a commit of tickets whose reports were taken back)."""
    root = workspace.root
    tickets = guard.to_commit()
    if not tickets and owed is not None:
        reports = git.store_files(root, _committable_reports(workspace, folder))
        outcome.commit = git.commit_blobs(
            root, reports, "", root / CACHE_DIR, amend=owed, when=result.now
        )
        if outcome.commit is not None:
            outcome.committed = git.commit_files(root, outcome.commit)
            outcome.earlier = _tickets(outcome.committed)  # (what it stands for: theirs)
            outcome.told = _escalations_since_head(workspace, outcome.earlier, f"{owed}^")
    # (what this sweep or an earlier one wrote that a person changed since: not committed,
    # and said so; one a person committed as it was is in HEAD, nothing to say of it)
    journalled = {
        path
        for path, blob in guard.written.items()
        if guard.head.get(path) != blob and not guard.committed_as_is(path)
        and (root / path).exists()  # (a ticket file removed since: no one's to commit)
    }  # fmt: skip
    outcome.left_out = sorted((set(result.changed) | journalled) - set(tickets))
    outcome.left_by_others = sorted(journalled - set(result.changed) - set(tickets))
    if not tickets:
        return
    earlier = sorted(set(tickets) - set(result.changed))
    problem = git.identity_problem(root)
    if problem is not None:
        raise EscError(
            f"{problem} ({git.IDENTITY_FIX}); the sweep's changes to "
            f"{_count(len(tickets), 'ticket')} are kept, and the next --commit sweep commits them"
        )
    blobs = {**tickets, **git.store_files(root, _committable_reports(workspace, folder))}
    # (a ticket changed by a person since the sweep wrote it is theirs to commit: its
    # escalation is not this commit's to tell)
    ids = {Path(path).stem for path in tickets}
    told = [e for e in result.escalations if e.ticket_id in ids]
    told += _escalations_since_head(workspace, [p for p in earlier if p in tickets])
    # (and those intake wrote that the sweep rewrote too: the commit holds intake's
    # message or new ticket as well, which it did not say)
    left = set(earlier) | (set(guard.before) & set(tickets))
    # (the same tickets the output names: it said 9 where the commit said 10, one an intake
    # or earlier sweep wrote that this one rewrote; audit helper-445)
    earlier = sorted(left)
    message = sweep_message(told, len(_tickets(tickets)), len(_tickets(earlier)))
    outcome.told = told
    outcome.commit = git.commit_blobs(root, blobs, message, root / CACHE_DIR, when=result.now)
    guard.forget()
    if outcome.commit is not None:
        outcome.committed = git.commit_files(root, outcome.commit)
        outcome.earlier = earlier


def _escalations_since_head(
    workspace: Workspace, paths: list[str], base: str = "HEAD"
) -> list[Escalated]:
    """The escalations the tickets ``paths`` (written by an earlier sweep, committed now)
    hold that HEAD's versions (``base``'s) do not: what that sweep did, for the commit to
    tell."""
    if not paths:
        return []
    root = workspace.root
    try:
        committed = git.files_at(root, base, paths)
    except git.GitError:
        return []
    found: list[Escalated] = []
    for path in paths:
        try:
            now = workspace.read(root / path, strict=False).ticket
            old = committed.get(path)
            before = parse_ticket(old, path, strict=False).ticket if old else None
        except (OSError, ParseError):
            continue
        known = set(before.escalations) if before is not None else set()
        found += [
            Escalated(now.id, e.kind, e.from_, e.to, e.by)
            for e in now.escalations
            if e not in known
        ]
    return found


def _committable_reports(workspace: Workspace, folder: Path) -> list[str]:
    """The sweep's rendered reports that its commit takes: those git tracks (``esc init``
    ignores reports/; a team that wants them in the repository adds them once)."""
    from esc.report.contents import SWEEP_REPORTS

    paths = [workspace.rel(folder / name) for name in SWEEP_REPORTS if (folder / name).is_file()]
    inside = [path for path in paths if not Path(path).is_absolute()]
    kept = git.tracked(workspace.root, inside)
    return [path for path in inside if path in kept]


ASIDE_REPORTS = ("index.html", "report.json")  # what the process aside renders


class SweepReports:
    """The reports a sweep renders, unless nothing they show can have changed.

    When workers swept (a cold sweep), what the reports show of each ticket is gathered as
    the workers hand tickets back, and the HTML and JSON reports are rendered and written in
    a process aside while this one saves the cache and renders the summary: 0.2-0.3 s of a
    10k cold sweep (bench/README.md).  Otherwise (or if the process aside fails) every
    report is rendered here; the files are the same either way
    (tests/store/test_workers.py).  Each file is written as it is rendered, never held as
    one text (nor sent from the process aside: at 100,000 open tickets the three are
    ~160 MB of text).
    """

    def __init__(
        self, workspace: Workspace, now: dt.datetime, folder: Path, on: bool, local: bool
    ) -> None:
        self.workspace, self.now, self.folder, self.on = workspace, now, folder, on
        self.local = local  # (see SweepOptions.now_is_local)
        self.items: ReportItems | None = None
        self.aside: workers.Aside[list[str] | None] | None = None
        # the ticket files that do not parse, which the reports show (those that do not
        # fit the configuration they find themselves)
        self.broken: list[ParseError] = []

    def gather(self, catalog: Catalog, name: str, entry: CachedFile) -> None:
        """A worker is done with ticket ``name``: take what the reports show of it."""
        if not self.on:
            return
        if self.items is None:
            from esc.report.contents import ReportItems, prepare_sweep_reports

            self.items = ReportItems(catalog, self.now, self.period)
            prepare_sweep_reports(self.workspace)
        self.items.add(name, entry)

    @functools.cached_property
    def period(self) -> stats.Period:
        """The reports' period: the 30 days up to the sweep's now, as `esc report` has it."""
        from esc.report.contents import period_of

        return period_of(None, None, self.now, local=self.local)

    def start_aside(self, catalog: Catalog, result: SweepResult) -> None:
        """The workers swept every ticket: render and write the HTML and JSON reports aside."""
        if self.on and workers.can_fork():
            self.broken = list(result.broken)
            self.aside = workers.Aside(lambda: self._aside(catalog, result))

    def _aside(self, catalog: Catalog, result: SweepResult) -> list[str] | None:
        """What the process aside does: first it lets go of its copy of what only the
        sweep's output needs (what the rules did, to each ticket: ~0.5-1 KB a rewritten
        ticket), whose memory the reports' rows then take instead of more (a forked
        process starts as large as the sweep's)."""
        from esc.report.contents import write_counted_reports

        result.changed, result.plans, result.records = [], [], []
        result.actions, result.events, result.notes = [], [], []
        result.breaches, result.warnings, result.behind = [], [], []
        result.stranded = []
        result._stranded = set()
        result._changed = set()
        items = self.items
        if items is None:
            return self._write(catalog, None, ASIDE_REPORTS, False)
        if _report_signature(self.workspace, catalog, self.folder, self.now, self.local) is None:
            return None
        counts = items.counted(catalog.cached_records())
        if counts is None:  # (the counts cannot answer: every ticket read afresh)
            return self._write(catalog, None, ASIDE_REPORTS, False, everything=True)
        # Counted: the tickets' entries (~1.5 KB each) are let go of before the reports'
        # rows are made, which take their memory instead of more.
        catalog.cache.entries, items.found = {}, {}
        return write_counted_reports(
            catalog, counts, self.now, self.folder, False, ASIDE_REPORTS, self.broken
        )

    def render(
        self,
        catalog: Catalog,
        records: list[Record],
        dry_run: bool,
        broken: Sequence[ParseError] = (),
    ) -> list[str]:
        """Write the reports that changed; the paths written (``broken``: the ticket files
        that do not parse)."""
        from esc.report.contents import SWEEP_REPORTS

        self.broken = list(broken)
        signature = _report_signature(self.workspace, catalog, self.folder, self.now, self.local)
        if signature is None:
            if self.aside is not None:
                self.aside.result()
            return []
        written: list[str] = []
        if self.aside is not None:
            mine = tuple(name for name in SWEEP_REPORTS if name not in ASIDE_REPORTS)
            try:
                here = self._write(catalog, records, mine, dry_run)
            finally:  # (waited for even if these failed: never left running)
                aside = self.aside.result()
            if here is not None and aside is not None:
                written = here + aside
            else:  # (the process aside failed: its reports are rendered here, afresh)
                rest = self._write(catalog, records, ASIDE_REPORTS, dry_run, everything=True)
                written = (here or []) + (rest or [])
        else:
            written = self._write(catalog, records, SWEEP_REPORTS, dry_run, everything=True) or []
        if not dry_run:  # (as the reports now stand: their own stat is part of it)
            signature = _reports_inputs(self.workspace, catalog, self.folder, self.now, self.local)
            catalog.cache.set_meta("reports", signature)
            catalog.cache.set_meta("reports_as_of", f"{self.now.timestamp():.6f}")
            catalog.cache.reporting = True  # (they show the tickets as this sweep saves them)
        return [self.workspace.rel(self.folder / name) for name in SWEEP_REPORTS if name in written]

    def _write(
        self,
        catalog: Catalog,
        records: list[Record] | None,
        parts: tuple[str, ...],
        dry_run: bool,
        everything: bool = False,
    ) -> list[str] | None:
        """Write the report files ``parts`` that changed, from ``records`` (None: the cache
        as the workers left it; nothing is written, and None returned, if the reports are
        up to date), with the gathered items unless ``everything`` is read afresh; the
        names of the files written."""
        from esc.report.contents import write_sweep_reports

        if records is None:
            signature = _report_signature(
                self.workspace, catalog, self.folder, self.now, self.local
            )
            if signature is None:
                return None
            records = catalog.cached_records()
        items = None if everything else self.items
        return write_sweep_reports(
            catalog, records, self.now, self.period, self.folder, dry_run, items, parts,
            self.broken,
        )


def _report_signature(
    workspace: Workspace, catalog: Catalog, folder: Path, now: dt.datetime, local: bool
) -> str | None:
    """What the reports depend on (None: they are there and nothing changed)."""
    from esc.report.contents import SWEEP_REPORTS

    signature = _reports_inputs(workspace, catalog, folder, now, local)
    # (the ticket files are not part of it: the reports are rendered again when a ticket
    # file changed, as a sweep with no cache would: one this sweep found changed, or one
    # another command found changed first and saved, `esc list` or a --no-report sweep)
    present = all((folder / name).exists() for name in SWEEP_REPORTS)
    changed = catalog.files_changed or catalog.cache.reports_stale
    if present and catalog.cache.meta.get("reports") == signature and not changed:
        return None
    as_of = catalog.cache.meta.get("reports_as_of", "")
    rendered = float(as_of) if as_of.replace(".", "", 1).isdigit() else None
    if rendered is None and present:  # (the cache gone: as the summary says it was rendered,
        # so that a sweep behind it leaves the reports as a sweep with the cache does)
        rendered = _summary_as_of(folder)
    later = rendered is not None and rendered > now.timestamp()
    if present and later:  # (a sweep behind the one that rendered them, another host's
        # clock behind: they stay as of then, whatever it changed, with the cache or not;
        # the next sweep at or after then renders them)
        return None
    return signature


_AS_OF = re.compile(r"^As of (\S+) \(the last sweep that rendered it\)\.$", re.MULTILINE)


def _summary_as_of(folder: Path) -> float | None:
    """When the rendered ``summary.md`` says it was rendered (a Unix time), if it says so."""
    try:
        head = read_regular(folder / "summary.md")[:2000].decode("utf-8", "replace")
    except (OSError, NotRegularFile):
        return None
    found = _AS_OF.search(head)
    moment = coerce_timestamp(found[1]) if found is not None else None
    return moment.timestamp() if moment is not None else None


def _reports_inputs(
    workspace: Workspace, catalog: Catalog, folder: Path, now: dt.datetime, local: bool
) -> str:
    """The configuration, the hour, whether the period is of local days
    (``SweepOptions.now_is_local``), the folder, the templates, the articles and the
    reports as they are now, as one signature (taken again once the reports are written);
    the templates and articles in folders of their folders too."""
    from esc.report.contents import SWEEP_REPORTS, render_hour

    root = workspace.root
    # (names as ascii(): one that is not UTF-8 text holds surrogates, which no hash takes)
    templates = root / TEMPLATES_DIR  # (its subfolders too: a template may include one)
    inputs = [
        f"{p.relative_to(templates).as_posix()!a}:{_changed(p)}"
        for p in sorted(_listed_all(templates))
    ]
    kb = root / "kb"  # (its subfolders too: articles may be kept in folders, at any depth)
    inputs += [
        f"kb/{p.relative_to(kb).as_posix()!a}:{_changed(p)}" for p in sorted(_listed_all(kb))
    ]
    # (the reports as written: one edited by hand, or by git, is rendered again)
    inputs += [f"{name}:{_changed(folder / name)}" for name in SWEEP_REPORTS]
    days = "local days" if local else "days of now's offset"
    return catalog.signature(render_hour(now).isoformat(), days, str(folder), *inputs)


def _listed_all(folder: Path) -> list[Path]:
    """Every file and folder under ``folder``, at any depth (none if there is none)."""
    if not folder.is_dir():
        return []
    try:
        return list(folder.rglob("*"))
    except OSError:
        return _listed(folder)


def _listed(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _changed(path: Path) -> str:
    """What tells that a template, an article or a report changed: its size, modification
    and change times (the change time moves even when the modification time is put back,
    as by ``cp -p`` or ``touch -r``); its link's, if it names nothing (rendering says so);
    nothing if there is none."""
    try:
        st = path.stat()
    except OSError:
        try:
            st = path.lstat()
        except OSError:
            return "-"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _sweep_and_push(
    workspace: Workspace,
    now: dt.datetime,
    options: SweepOptions,
    dropped_before: Sequence[tuple[str, str]] = (),
) -> SweepOutcome:
    """Sweep, commit, push; when the remote moved: fetch, rebase, sweep again, retry.

    What it reports adds up every attempt: the tickets each changed, and the sweep's
    commits as the rebases left them (one whose change was already upstream is gone), and
    the commits the rebases left out (a force-push took them out of the remote), with
    ``dropped_before``: those the rebase that mended the configuration left out.
    """
    dropped: list[tuple[str, str]] = list(dropped_before)
    outcome = _attempts(workspace, now, options, dropped)
    outcome.dropped_commits = list(dict.fromkeys(dropped))
    return outcome


def _attempts(
    workspace: Workspace, now: dt.datetime, options: SweepOptions, dropped: list[tuple[str, str]]
) -> SweepOutcome:
    """:func:`_sweep_and_push`'s attempts; ``dropped`` gets the commits rebases left out."""
    root = workspace.root
    branch = options.branch or git.current_branch(root)
    done: list[SweepOutcome] = []
    keys: list[str] = []  # the sweep's commits, as a rebase keeps them
    owed: str | None = None  # the sweep's commit whose reports were taken back: retaken
    waiting = _waiting_for_push(root, options.remote, branch) if options.notify else []
    upstream: str | None = None  # the remote's branch as the last rebase found it
    for _ in range(options.push_attempts):
        outcome = _sweep_once(workspace, now, options, owed)
        done.append(outcome)
        outcome.attempts = len(done)  # (told with a failure too: how many pushes were tried)
        if outcome.git_error is not None:
            return outcome
        if git.commit_of(root, "HEAD") is None:  # (a repository with no commit yet: git's
            # own `ambiguous argument 'HEAD'` was the line, with no summary; helper-429)
            outcome.git_error = (
                "esc: this clone has no commit yet, so nothing can be pushed: commit the"
                " workspace first (git add -A && git commit)"
            )
            return outcome
        if outcome.commit is not None:
            key = git.commit_key(root, outcome.commit)
            if not keys or key != keys[-1]:  # (the commit owed the reports keeps its key)
                keys.append(key)
        ahead = git.unpushed(root, options.remote, branch)
        try:
            pushed = git.push(root, options.remote, branch)
        except EscError as exc:  # (the commit stays: the next --push sweep pushes it)
            waits = "; the commits wait in this clone for the next --push sweep" if ahead else ""
            outcome.git_error = f"esc: {exc}{waits}"
            return outcome
        if pushed is not None:  # (what the remote got, as git said; else what it lacked)
            sent = ahead if pushed.commits is None else pushed.commits
            # (the remote had this attempt's very commit already: another clone swept the
            # same history at the same --now under the same identity, pushed it first and
            # told of it; none of it is this sweep's to tell)
            made_elsewhere = pushed.commits == 0 and outcome.commit is not None
            if upstream is not None and waiting:
                _drop_told_upstream(root, upstream, waiting)
            outcome = _pushed(root, done, keys, sent)
            if made_elsewhere:  # (and what earlier sweeps here left for a push: their
                # commits are the remote's too, made and told by the same clone)
                told_there = outcome.result.events
                keys_dropped = [m.key for m in messages_of(told_there, now)]
                Outbox(root).discard_pending(keys_dropped + [m.key for m in waiting])
                outcome.result.events = []
            outcome.pushed_to = f"{options.remote}/{branch}"
            outcome.pushed_list = git.latest_commits(root, sent)  # (earlier sweeps' too)
            return outcome
        # No command writes a ticket meanwhile: the rebase stashes the work tree's changes
        # and puts them back, and a write between the two was lost (its stash left behind)
        with lock.hold_writes(root / CACHE_DIR, workspace.lock_timeout, workspace.holder):
            reports_back = False
            if outcome.commit is not None:  # (its own rewrites: swept again on the remote's)
                reports_back = _take_back(root, outcome, keys)
            # (and what earlier sweeps wrote that never reached the remote: a person's change
            # there since must be seen by the replay, not merged beside what it prevented)
            earlier = _take_back_earlier(
                workspace, None, keys, f"refs/remotes/{options.remote}/{branch}"
            )
            if earlier:
                _drop_unsent(root, set(earlier))
                waiting = [m for m in waiting if _path_of(m.ticket_id) not in earlier]
            try:
                # (esc's driver merges the tickets whatever a .gitattributes line after
                # esc's says, `*.md merge=union`: a union of two values is no ticket)
                merge_driver.force_ticket_merge(root)
                taken = _catch_up(workspace, options.remote, branch, keys, dropped)
                waiting = [m for m in waiting if _path_of(m.ticket_id) not in taken]
                upstream = git.fetched(root)
            except git.GitError as exc:  # (after the summary of what stands, as for a push)
                outcome.git_error = f"esc: {exc}"
                return outcome
        # (the commit that stands, as the rebase left it: it takes the reports rendered on
        # the remote's tickets, if the next attempt commits no ticket to take them)
        owed = None
        if reports_back:
            found = git.find_commits(root, keys[-1:])
            head = git.output(root, "rev-parse", "HEAD").strip()
            owed = found[-1] if found and found[-1] == head else None
        workspace = Workspace(root)  # teams.yaml or rules.yaml may have come with the rebase
    # (told after the summary of what stands: the last attempt's rewrites were taken back,
    # for the next sweep to make on the remote's tickets)
    outcome.git_error = (
        f"esc: push to {options.remote}/{branch} was rejected {options.push_attempts} times "
        "(the remote keeps moving); nothing was forced; try again"
    )
    return outcome


TAKE_BACK_TRIES = 5  # rebases that stop on earlier sweeps' commits, each taken back, at most


def _catch_up(
    workspace: Workspace,
    remote: str,
    branch: str,
    keys: list[str],
    dropped: list[tuple[str, str]] | None = None,
) -> set[str]:
    """Fetch and rebase onto the remote's branch; each time the rebase stops on a ticket an
    earlier sweep's commit (never pushed) rewrote and a person changed upstream since,
    that rewrite is taken back (:func:`_take_back_earlier`) and the rebase tried again.
    The tickets taken back (their messages never sent dropped: the next attempt makes
    what still holds again); RebaseConflict when the rest is a person's to resolve."""
    root = workspace.root
    taken: set[str] = set()
    left = [] if dropped is None else dropped  # (what a force-push took out, left out too)
    for _ in range(TAKE_BACK_TRIES):
        try:
            left += git.catch_up(root, remote, branch, root / CACHE_DIR)
            return taken
        except git.RebaseConflict as conflict:
            now_taken = _take_back_earlier(workspace, list(conflict.paths), keys)
            if not now_taken:
                raise
        taken.update(now_taken)
        _drop_unsent(root, set(now_taken))
    left += git.catch_up(root, remote, branch, root / CACHE_DIR)
    return taken


def _drop_unsent(root: Path, paths: set[str]) -> None:
    """The messages of the tickets ``paths`` a sweep queued and never tried (they wait for
    a push): their ticket's rewrite was taken back, and the next attempt makes again what
    still holds (the same event, the same key).  Not one queued by the ``checked`` of the
    version the file holds now: a sweep whose rewrite stands (pushed) made it, and it
    waits for a retry after its target failed, or for its target's hour, never to be made
    again (it was deleted for good)."""
    kept: dict[str, dt.datetime | None] = {}
    unsent = []
    for message in _never_tried(root):
        path = _path_of(message.ticket_id)
        if path not in paths:
            continue
        if path not in kept:
            try:
                kept[path] = _checked_in((root / path).read_bytes(), path)
            except OSError:
                kept[path] = None
        until = kept[path]
        if until is not None and message.queued <= until:  # (queued by a sweep at or before
            # the version kept: one whose rewrite stands; by its time queued, not the
            # event's, as one a taken-back sweep made at that version's very `checked` (a
            # second look at the last sweep's instant) is the taken-back sweep's)
            continue
        unsent.append(message.key)
    Outbox(root).discard_pending(unsent)


def _never_tried(root: Path) -> list[Message]:
    """The messages a sweep queued and never tried: they wait for the push that carries
    their ticket (a failed push sends nothing)."""
    return [m for m in Outbox(root).all() if m.attempts == 0 and m.happened is not None]


def _take_back_earlier(
    workspace: Workspace, paths: list[str] | None, keys: list[str], upstream: str | None = None
) -> list[str]:
    """Take back what earlier sweeps' commits not pushed yet (``upstream`` lacks them; by
    default the branch just fetched) wrote in tickets, so that the rebase brings the
    remote's versions and the next attempt sweeps those, as it does a rejected attempt's
    own rewrites (:func:`_take_back`): a person's change upstream since (a reply before
    the breach, an escalation of their own) is then seen by the replay, not merged beside
    a rule's action it would have prevented.  Only a ticket that sweeps' commits alone
    changed, and only as a sweep does (:class:`SweepsWrites`: no message intake took, no
    person's edit), and whose file holds what HEAD holds; those commits are rewritten
    without their changes to it.  ``paths``: the tickets a rebase stopped on, all taken
    back or none (the conflict is then a person's to resolve); None: every such ticket.
    ``keys``: this sweep's commits (:func:`git.commit_key`), kept up to date.  The paths
    taken back."""
    root = workspace.root
    upstream = upstream or git.fetched(root)
    if upstream is None or git.run(root, "rev-parse", "--verify", "--quiet",
                                   f"{upstream}^{{commit}}").returncode != 0:  # fmt: skip
        return []
    commits = git.unpushed_commits(root, upstream)
    if not commits:
        return []
    touched_by = {commit: [p for p in git.commit_files(root, commit) if _a_ticket(p)]
                  for commit in commits}  # fmt: skip
    if paths is not None:
        wanted = set(paths)
        if not wanted or not all(_a_ticket(p) for p in wanted):
            return []
    else:
        wanted = {p for files in touched_by.values() for p in files}
    takeable = _takeable(workspace, commits, touched_by, wanted)
    if paths is not None and takeable != wanted:
        return []
    if not takeable:
        return []
    tickets = sorted(takeable)
    old_keys = {commit: git.commit_key(root, commit) for commit in commits}
    became = git.drop_changes(root, commits, tickets, root / CACHE_DIR, _without_tickets(root))
    if became is None:
        return []
    _follow(root, became, old_keys, keys)
    _drop_reports_left_alone(root, upstream, keys)
    return tickets


def _follow(
    root: Path, became: Mapping[str, str | None], old_keys: Mapping[str, str], keys: list[str]
) -> None:
    """``keys`` (this sweep's own commits) as the commits rewritten (``became``) stand now."""
    for commit, new in became.items():
        if old_keys[commit] in keys:
            at = keys.index(old_keys[commit])
            keys[at : at + 1] = [] if new is None else [git.commit_key(root, new)]


def _drop_reports_left_alone(root: Path, upstream: str, keys: list[str]) -> None:
    """Earlier sweeps' commits that their tickets were taken out of, left holding their
    rendered reports alone (reports git tracks): those go too, and so do the commits, as
    the next sweep renders the reports again with what it commits.  A commit of reports
    alone records only the passing of time.  Not when a commit that keeps its tickets
    changes those reports as well (they are its too)."""
    commits = git.unpushed_commits(root, upstream)
    if not commits:
        return
    files = {commit: git.commit_files(root, commit) for commit in commits}
    alone = [
        commit for commit in commits
        if files[commit] and not any(_a_ticket(path) for path in files[commit])
        and git.output(root, "log", "-1", "--format=%s", commit).startswith(git.SWEEP_SUBJECT)
    ]  # fmt: skip
    reports = sorted({path for commit in alone for path in files[commit]})
    if not reports or any(set(files[c]) & set(reports) for c in commits if c not in alone):
        return
    old_keys = {commit: git.commit_key(root, commit) for commit in commits}
    became = git.drop_changes(
        root, commits, reports, root / CACHE_DIR, lambda commit, _: git.message_of(root, commit)
    )
    if became is not None:
        _follow(root, became, old_keys, keys)


def _a_ticket(path: str) -> bool:
    return path.startswith(f"{TICKETS_DIR}/") and path.endswith(".md")


def taken_back_by_the_next_push(
    workspace: Workspace, upstream: str, paths: Sequence[str]
) -> bool:
    """Whether the next ``sweep --push`` takes every ticket of ``paths`` back itself from
    the commits ``upstream`` lacks (:func:`_take_back_earlier`): sweeps' commits alone
    changed them, each change what a sweep makes (`esc doctor` asks, of a conflict)."""
    root = workspace.root
    commits = git.unpushed_commits(root, upstream)
    wanted = set(paths)
    if not commits or not wanted or not all(_a_ticket(p) for p in wanted):
        return False
    touched_by = {c: [p for p in git.commit_files(root, c) if _a_ticket(p)] for c in commits}
    return _takeable(workspace, commits, touched_by, wanted) == wanted


def _takeable(
    workspace: Workspace, commits: list[str], touched_by: Mapping[str, list[str]],
    wanted: set[str],
) -> set[str]:  # fmt: skip
    """Of the tickets ``wanted``, those that only sweeps' commits of ``commits`` changed,
    each change what a sweep makes, and whose file holds what HEAD holds."""
    root = workspace.root
    sweeps = SweepsWrites(root, workspace.config())
    good = set(wanted)
    for commit in commits:
        touched = good.intersection(touched_by[commit])
        if not touched:
            continue
        if not git.output(root, "log", "-1", "--format=%s", commit).startswith(git.SWEEP_SUBJECT):
            good -= touched
            continue
        before = git.files_at(root, f"{commit}^", sorted(touched))
        after = git.files_at(root, commit, sorted(touched))
        for path in touched:
            try:
                made = path in before and path in after and sweeps.made(
                    path, before[path], after[path].decode("utf-8")
                )
            except UnicodeDecodeError:
                made = False
            if not made:
                good.discard(path)
    held = git.files_at(root, "HEAD", sorted(good))
    for path in list(good):
        try:
            same = (root / path).read_bytes() == held.get(path)
        except OSError:
            same = False
        if not same:  # (changed since it was committed: someone's, left alone)
            good.discard(path)
    return good




def _without_tickets(root: Path) -> Callable[[str, list[str]], str]:
    """The message of a sweep's commit without the tickets taken out of it: one fewer
    ticket updated for each, and none of their escalations."""

    def message(commit: str, taken: list[str]) -> str:
        ids = {Path(path).stem for path in taken}
        lines = git.output(root, "log", "-1", "--format=%B", commit).rstrip("\n").split("\n")
        counted = re.fullmatch(r"esc sweep: (\d+) tickets? updated", lines[0])
        if counted is not None:
            left = max(int(counted[1]) - len(taken), 0)
            lines[0] = f"{git.SWEEP_SUBJECT}{_count(left, 'ticket')} updated"
        lines = [line for line in lines if line.partition(":")[0] not in ids
                 and not line.endswith(" left by an earlier sweep or intake")]  # fmt: skip
        while lines and not lines[-1]:  # (that count no longer told: which of them is
            lines.pop()  # taken out is not known)
        lines = [line for n, line in enumerate(lines)
                 if line or (n + 1 < len(lines) and lines[n + 1])]  # fmt: skip
        return "\n".join(lines) + "\n"

    return message


def _hold_for_push(root: Path, options: SweepOptions, outcome: SweepOutcome) -> None:
    """After a pushing sweep: the messages its failed push left waiting for the push that
    carries their tickets are held for it (a sweep that does not push leaves them queued:
    it sent them, and a second clone that pushed the same sweep first told them too); a
    push that went releases them."""
    outbox = Outbox(root)
    if outcome.git_error is None:
        outbox.release_push_hold()
        return
    try:
        branch = options.branch or git.current_branch(root)
    except git.GitError:
        return
    waiting = _waiting_for_push(root, options.remote, branch)
    if waiting:
        outbox.hold_for_push(options.remote, branch, [m.key for m in waiting])


def _held_for_push(root: Path) -> frozenset[str]:
    """The keys of the messages a failed push left waiting (:func:`_hold_for_push`) whose
    tickets' commits the remote still lacks: none once pushed (by hand too)."""
    held = Outbox(root).held_for_push()
    if held is None:
        return frozenset()
    remote, branch, keys = held
    return frozenset(m.key for m in _waiting_for_push(root, remote, branch) if m.key in keys)


def _waiting_for_push(root: Path, remote: str, branch: str) -> list[Message]:
    """The messages an earlier sweep queued and that were never tried, for tickets of its
    commits the remote does not have yet: its push failed, and they wait for the push
    that carries them (a failed push sends nothing)."""
    never_tried = _never_tried(root)
    if not never_tried:
        return []
    try:
        ahead = git.unpushed(root, remote, branch)
        files = {p for _, _, changed in git.latest_commits(root, ahead) for p in changed}
    except git.GitError:
        return []
    return [m for m in never_tried if _path_of(m.ticket_id) in files]


def _drop_told_upstream(root: Path, upstream: str, waiting: list[Message]) -> None:
    """Of the messages an earlier sweep left for its push (:func:`_waiting_for_push`),
    drop those of a ticket the remote held already as this clone pushes it (the same
    file, but for the time of its last sweep), swept there past the moment they tell of:
    another clone swept the same moments, pushed first and told them, and two clones must
    not both send.  A ticket this clone
    pushes with more in it (a message intake took here, a rule's action the other clone
    did not make) keeps its messages: better told twice, with one event id, than never.
    ``upstream``: the remote's branch as the rebase found it."""
    paths = sorted({_path_of(m.ticket_id) for m in waiting})
    try:
        theirs = git.files_at(root, upstream, paths)
        ours = git.files_at(root, "HEAD", paths)
    except git.GitError:
        return
    same = {
        path for path, data in ours.items()
        if path in theirs and _CHECKED_LINE.sub(b"", data) == _CHECKED_LINE.sub(b"", theirs[path])
    }  # fmt: skip
    swept = {path: _checked_in(theirs[path], path) for path in same}
    Outbox(root).discard_pending([
        m.key for m in waiting
        if (path := _path_of(m.ticket_id)) in same and m.happened is not None
        and (seen := swept[path]) is not None and seen >= m.happened
    ])  # fmt: skip  (and swept there past the moment it tells of: a sweep saw it)


def _checked_in(data: bytes, path: str) -> dt.datetime | None:
    """The ``checked`` time of a ticket file's ``sla:`` block (None: it has none, or the
    file does not parse)."""
    try:
        block = document.parse(data.decode("utf-8"), path).data.get("sla")
    except (ParseError, UnicodeDecodeError):
        return None
    return coerce_timestamp(block.get("checked")) if isinstance(block, dict) else None


_CHECKED_LINE = re.compile(rb"(?m)^  checked: [^\n]*\n")  # (the `sla:` block's, as esc writes it)


def _path_of(ticket_id: str) -> str:
    return f"{TICKETS_DIR}/{ticket_id}.md"


def _take_back(root: Path, outcome: SweepOutcome, keys: list[str]) -> bool:
    """A rejected push: take back the sweep's commit for the tickets it rewrote from their
    committed text (not for those intake or an earlier sweep had written: their writes
    would go with it), so that the rebase brings the remote's
    versions of them and the next attempt sweeps those.  Merging two sweeps' rewrites of
    one ticket would keep both effects of one deadline (an escalation made at 13:30 by
    one clone and at 13:35 by the other); swept again, the later sweep replays from the
    earlier one's ``checked`` and makes none.  What the taken-back rewrites did is no
    longer this sweep's to tell.  True if the reports were taken back from a commit that
    stands (for what intake or an earlier sweep wrote): it owes them."""
    assert outcome.commit is not None
    result = outcome.result
    own = [path for path in result.changed if path not in outcome.journalled]
    # (a ticket intake wrote and the sweep rewrote: the sweep's part alone is taken back, to
    # what intake wrote, which the rebase merges with the remote's; merged with the sweep's
    # part, the merge driver dropped that part, and the commit, the output and the
    # notifications told of an escalation the remote never got)
    to = _as_intake_wrote(
        root, outcome.commit, [p for p in result.changed if p in outcome.journalled],
        outcome.journal,
    )  # fmt: skip
    # (an earlier sweep's rewrite that sweep could not commit (no git identity, killed) and
    # this one committed: a sweep's alone, taken back as this sweep's own are; rebased, it
    # was merged beside the remote's sweep of the same deadline, and its messages, queued
    # for this push, told engineering of the escalation a second time: audit helper-450)
    earlier_swept = _swept_alone(
        root, outcome.commit, [p for p in _tickets(outcome.committed)
                               if p in outcome.journalled and p not in to]
    )  # fmt: skip
    reports = [path for path in outcome.committed if not path.startswith(f"{TICKETS_DIR}/")]
    def message(taken: list[str]) -> str:  # (of the commit that stands for it: what is left)
        ids = {Path(path).stem for path in taken}
        left = [p for p in _tickets(outcome.committed) if p not in taken or p in to]
        escalations = [e for e in outcome.told if e.ticket_id not in ids]
        earlier = set(outcome.earlier)
        return sweep_message(escalations, len(left), sum(path in earlier for path in left))

    own += [p for p in earlier_swept if p not in own]
    done = git.take_back(
        root, outcome.commit, own + list(to) + reports, root / CACHE_DIR, message, to
    )
    if done is None or not done[0]:
        return False
    taken, standing = done
    gone = {path for path in taken if path in earlier_swept}  # (and not left by it now)
    _drop_unsent(root, gone)
    outcome.earlier = [path for path in outcome.earlier if path not in gone]
    owes = standing is not None and any(path in reports for path in taken)
    if any(path in reports for path in taken) and result.catalog is not None:
        # (the reports go with the tickets: rendered again on the remote's tickets by the
        # next attempt, not left behind as a commit of their own, as of the tickets before)
        result.catalog.cache.set_meta("reports", "")
        result.catalog.save()
        taken = [path for path in taken if path not in reports]
        outcome.reports = []
    keys[-1:] = [] if standing is None else [git.commit_key(root, standing)]
    # (what stands in the branch now: the commit taken back is on none, and is not told)
    outcome.commit = standing
    outcome.committed = [] if standing is None else git.commit_files(root, standing)
    ids = {Path(path).stem for path in taken}
    dropped = [e for e in result.events if e.ticket_id in ids]
    Outbox(root).discard_pending([m.key for m in messages_of(dropped, result.now)])
    result.changed = [p for p in result.changed if p not in taken]
    result._changed = set(result.changed)
    result.plans = [p for p in result.plans if p.ticket_id not in ids]
    result.actions = [a for a in result.actions if a.ticket_id not in ids]
    result.events = [e for e in result.events if e.ticket_id not in ids]
    return owes


def _swept_alone(root: Path, commit: str, paths: Sequence[str]) -> list[str]:
    """Of the tickets ``paths`` that ``commit`` changed, those whose change is exactly what
    a sweep makes of its parent's version (:class:`SweepsWrites`: nothing intake took in,
    nothing a person wrote)."""
    if not paths:
        return []
    try:
        before = git.files_at(root, f"{commit}^", list(paths))
        after = git.files_at(root, commit, list(paths))
        sweeps = SweepsWrites(root, Workspace(root).config())
    except (git.GitError, EscError):
        return []
    found = []
    for path in paths:
        if path not in before or path not in after:
            continue
        try:
            if sweeps.made(path, before[path], after[path].decode("utf-8")):
                found.append(path)
        except UnicodeDecodeError:
            continue
    return found


def _as_intake_wrote(
    root: Path, commit: str, paths: Sequence[str], journal: Mapping[str, str]
) -> dict[str, str]:
    """The blob (stored) of what intake (or an earlier sweep) wrote in each ticket of
    ``paths`` before the sweep's ``commit`` rewrote it: of the versions of the file
    without the sweep's rewrite (:func:`esc.ticketfile.merge.unswept`), the one whose blob
    the journal holds, byte for byte.  A ticket none is, or new in ``commit`` (no one
    else can have changed it), is left out."""
    from esc.ticketfile.merge import unswept  # (a rejected push alone needs it)

    try:
        parents = git.files_at(root, f"{commit}^", list(paths)) if paths else {}
    except git.GitError:
        return {}
    found: dict[str, str] = {}
    blobs = Blobs(root)  # (the journal's ids are git's: line endings it converts, converted)
    for path in paths:
        before, wrote = parents.get(path), journal.get(path)
        if before is None or not wrote:
            continue
        try:
            written = (root / path).read_bytes().decode("utf-8")
            docs = document.parse(before.decode("utf-8"), path), document.parse(written, path)
        except (OSError, UnicodeDecodeError, ParseError):
            continue
        for text in unswept(*docs):
            data = blobs.stored(path, text.encode("utf-8"))
            if git.blob_id(data) == wrote:
                found[path] = git.store_text(root, data)
                break
    return found


def _pushed(root: Path, done: list[SweepOutcome], keys: list[str], ahead: int) -> SweepOutcome:
    """What the attempts of a pushed sweep did, together."""
    last = done[-1]
    result = last.result
    for earlier in reversed(done[:-1]):
        before = earlier.result
        later = set(result.changed)
        result.changed = [p for p in before.changed if p not in later] + result.changed
        result._changed = set(result.changed)
        result.plans = before.plans + result.plans
        result.actions = before.actions + result.actions
        noted = set(result.notes)
        result.notes = [n for n in before.notes if n not in noted] + result.notes
    # (result.stranded, what a person's edit holds back, is the last attempt's alone: it
    # saw every ticket as the rebase left it, and news an earlier one held back may have
    # come from the remote since; cron mailed it, stale)
    commits = git.find_commits(root, keys)
    outcome = SweepOutcome(result, attempts=len(done), pushed=True, pushed_commits=ahead)
    outcome.reports = list(dict.fromkeys(r for o in done for r in o.reports))
    outcome.commit = commits[-1] if commits else None
    outcome.committed = list(dict.fromkeys(p for c in commits for p in git.commit_files(root, c)))
    outcome.earlier = [p for p in done[0].earlier if p in outcome.committed]
    # (a ticket a person changed after a sweep wrote it, named by any attempt: theirs)
    left_out = {p for o in done for p in o.left_out} - set(outcome.committed)
    outcome.left_out = sorted(left_out)
    outcome.left_by_others = sorted(left_out.intersection(*(o.left_by_others for o in done)))
    # Only what this sweep pushed is its to tell: an event of a rejected attempt whose
    # ticket is not in the sweep's commits as the rebase left them was made upstream too.
    kept = [e for o in done[:-1] for e in o.result.events if _path(e) in outcome.committed]
    dropped = [e for o in done[:-1] for e in o.result.events if e not in kept]
    Outbox(root).discard_pending([m.key for m in messages_of(dropped, result.now)])
    result.events = kept + last.result.events
    return outcome


def _path(event: Event) -> str:
    return f"tickets/{event.ticket_id}.md"


# ---------------------------------------------------------------- the command


def sweep(session: Session, options: SweepOptions, as_json: bool) -> Output:
    """One sweep, as `esc sweep` runs it: exit 1 if a ticket does not parse."""
    workspace = session.workspace
    workspace.lock_timeout = options.lock_timeout
    options = replace(options, now_is_local=session.now_is_local)
    outcome = sweep_workspace(workspace, session.now, options)
    result = outcome.result
    if result.dry_run:  # (what would be sent: not what the outbox has, pending or sent)
        result.events = _not_kept(Outbox(workspace.root), result.events)
    problems = [str(error) for error in result.broken] + result.invalid
    output = Output(notes=problems + result.stranded, code=1 if problems else 0)
    output.notes += [  # (said where cron mails it: stdout goes to /dev/null there)
        f"esc: {Path(p).stem}: what {_writer(p, outcome)} wrote in it was not committed: a"
        " person changed it since; it reaches git when they commit it"
        for p in outcome.left_out
    ]
    if result.changed and not result.dry_run:
        output.notes += session.merge_driver_warning()
    if outcome.report_error is not None:
        output.notes.append(outcome.report_error)
        output.code = 1
    if outcome.dropped_commits:  # (said where cron mails it; no failure: git's own way)
        count = len(outcome.dropped_commits)
        named = ", ".join(f"{h[:12]} {subject}" for h, subject in outcome.dropped_commits[:5])
        more = f" and {count - 5} more" if count > 5 else ""
        output.notes.append(
            f"esc: the remote no longer has {count} commit{'s' if count != 1 else ''} this"
            f" clone had from it ({named}{more}): a force-push took them out, and the rebase"
            " left them out too, as `git pull --rebase` does (`git reflog` still has them)"
        )
    if outcome.git_error is not None:
        output.notes.append(outcome.git_error)
        output.code = 1
    if outcome.notify_error is not None:
        output.notes.append(outcome.notify_error)
        output.code = 1
    output.notes += _failed_sends(outcome)
    if result.worker_died is not None:  # (cron mails stderr: the lines above miss some)
        output.notes.append(
            f"esc: a sweep worker died ({result.worker_died}); the tickets it had not handed "
            "back were swept in this process, and what it wrote itself is not listed above "
            "(`esc log ID` shows it in each ticket)"
        )
    if as_json:
        output.data = sweep_json(outcome)
    else:
        output.text = sweep_text(outcome) + "\n"
    return output


def _failed_sends(outcome: SweepOutcome) -> list[str]:
    """A line for each message that failed to go, for stderr: news to act on (a target
    down, a secret cron's environment lacks), which cron mails while stdout goes to
    /dev/null; the exit code stays 0 (a later sweep retries it)."""
    delivery = outcome.delivery
    if delivery is None:
        return []
    return [f"notify failed ({m.attempts}×), retried after "
            f"{format_timestamp(m.next_try or outcome.result.now)}: {m.describe()}: "
            f"{m.error}" if m.status == "pending" else
            f"notify failed: {m.describe()}: {m.error} ({m.what_next()})"
            for m in delivery.failed]  # fmt: skip


def _writer(path: str, outcome: SweepOutcome, short: bool = False) -> str:
    """Who wrote what was left out of the commit at ``path``: this sweep (its rules'
    actions, its escalations), or intake or an earlier sweep (a message intake took was
    said to be the sweep's)."""
    if path in outcome.left_by_others:
        return "an earlier sweep or intake" if short else (
            "an earlier sweep or intake (a sweep's rules' actions and escalations, or the"
            " messages intake took)"
        )
    return "the sweep" if short else "a sweep (its rules' actions, its escalations)"


def _not_kept(outbox: Outbox, events: list[Event]) -> list[Event]:
    """``events`` with only the targets whose message the outbox does not keep yet (sent,
    or pending a retry): those a sweep would queue and send now."""
    out = []
    for event in events:
        targets = tuple(t for t in event.targets if not outbox.kept(message_key(event.id, t)))
        if targets:
            out.append(replace(event, targets=targets))
    return out


# ---------------------------------------------------------------- what it prints


BEHIND_SHOWN = 10  # tickets left alone as newer than --now, listed one by one


def _standings(result: SweepResult) -> tuple[int, list[str], list[str]]:
    """Active tickets, and the IDs of those overdue and of those in warning (and not
    overdue), as the reports and `esc check` count them (esc.domain.stats.standing)."""
    after = result.active_after
    active = sum(after.get(r.name, r.active) if after else r.active for r in result.records)
    overdue = set(result.breaches)
    return active, result.breaches, [i for i in result.warnings if i not in overdue]


def sweep_text(outcome: SweepOutcome) -> str:
    result, reports, dry_run = outcome.result, outcome.reports, outcome.result.dry_run
    verb = "would change" if dry_run else "changed"
    active, overdue, in_warning = _standings(result)
    lines = [
        f"{result.seen} tickets seen, {len(result.changed)} {verb}; {active} active tickets: "
        f"{len(overdue)} overdue, {len(in_warning)} in warning"
    ]
    lines += [f"  {action_text(a)}" for a in result.actions]
    lines += [f"  skipped {s}" for s in result.skipped]
    lines += [f"  {note}" for note in result.notes]
    shown = BEHIND_SHOWN if len(result.behind) > BEHIND_SHOWN + 1 else len(result.behind)
    lines += [f"  {note}" for note in result.behind[:shown]]
    if len(result.behind) > shown:
        lines.append(
            f"  … and {len(result.behind) - shown} more tickets created or last swept after"
            " --now, left as they are (--json lists them)"
        )
    if dry_run:
        lines += [f"  would write {p}" for p in result.changed + reports]
        holds = {(m.event, m.target) for m in outcome.held}  # (said below)
        gathered = {(m.event, m.target) for found in outcome.digests.values() for m in found}
        lines += [
            f"  would notify {t}: {e.subject()}"
            for e in result.events
            for t in e.targets
            if (e.id, t) not in holds and (e.id, t) not in gathered
        ]
        lines += [
            f"  would {'retry' if m.attempts else 'send'} {m.target}: {m.title}"
            for m in outcome.retries  # (never tried: left queued, or its quiet hours over)
        ]
        lines += [
            f"  would send {target}: {digest_title(target, len(found))}"
            for target, found in outcome.digests.items()
        ]
        lines += [f"  would hold {m.target} for its quiet hours: {m.title}" for m in outcome.held]
        lines += [
            f"  would drop {m.target} (no such target in rules.yaml any more): {m.title}"
            for m in outcome.dropped
        ]
        lines += [
            f"  cannot send to {target}: the environment variable {name} {problem} (its"
            " messages would fail, and wait to be retried)"
            for target, name, problem in outcome.unsendable
        ]
    elif reports:
        lines.append(f"rendered {', '.join(reports)}")
    if outcome.earlier:
        left = " and ".join(_kinds(outcome.earlier))
        lines.append(f"committed {left} left by an earlier sweep or intake")
    if outcome.commit:
        lines.append(f"committed {outcome.commit[:12]}: {', '.join(_kinds(outcome.committed))}")
    lines += [
        f"  {Path(p).stem}: changed since {_writer(p, outcome, short=True)} wrote it; not"
        " committed (yours to commit)"
        for p in outcome.left_out
    ]
    delivery = outcome.delivery
    if delivery is not None and delivery.sent:
        sent = f"notified: {_count(len(delivery.sent), 'message')} sent"
        if delivery.digests:  # (what quiet hours held went as one message a target)
            carried = sum(len(d.keys) for d in delivery.digests)
            sent += f", {carried} of them in {_count(len(delivery.digests), 'digest')}"
        lines.append(sent)
    if delivery is not None and (busy := delivery.busy_note()) is not None:
        lines.append(busy)
    if delivery is not None and (held := delivery.held_note()) is not None:
        lines.append(held)
    if outcome.waiting_for_push:
        lines.append(
            f"notified: {_count(outcome.waiting_for_push, 'message')} of a push that failed"
            " left queued for the next --push sweep (another clone may have told them)"
        )
    if outcome.pushed:
        tries = f" (after {outcome.attempts} attempts)" if outcome.attempts > 1 else ""
        if outcome.pushed_commits:
            pushed = _count(outcome.pushed_commits, "commit")
            lines.append(f"pushed {pushed} to {outcome.pushed_to}{tries}")
            for commit, subject, files in outcome.pushed_list:  # (what each held: at most
                # ten IDs a line, which cron mails; --json has them all)
                named = [Path(p).stem for p in _tickets(files)]
                ids = ", ".join(named[:PUSHED_IDS_SHOWN])
                if len(named) > PUSHED_IDS_SHOWN:
                    ids += f" and {len(named) - PUSHED_IDS_SHOWN:,} more"
                lines.append(f"  {commit[:12]} {subject}" + (f" ({ids})" if ids else ""))
        else:
            lines.append(f"{outcome.pushed_to} is up to date{tries}")
    return "\n".join(lines)


PUSHED_IDS_SHOWN = 10  # the ticket IDs a pushed commit's line names


def _tickets(paths: Iterable[str]) -> list[str]:
    return [p for p in paths if p.startswith(f"{TICKETS_DIR}/")]


def _kinds(paths: Sequence[str]) -> list[str]:
    """``1 ticket``, ``3 attachments``, ``3 reports``: what committed files are."""
    tickets = len(_tickets(paths))
    attachments = sum(p.startswith(f"{ATTACHMENTS_DIR}/") for p in paths)
    what = [_count(tickets, "ticket")] if tickets or len(paths) == attachments == 0 else []
    if attachments:
        what.append(_count(attachments, "attachment"))
    if len(paths) > tickets + attachments:
        what.append(_count(len(paths) - tickets - attachments, "report"))
    return what


def sweep_json(outcome: SweepOutcome) -> dict[str, Any]:
    result = outcome.result
    active, overdue, in_warning = _standings(result)
    return {
        "now": format_timestamp(result.now),
        "dry_run": result.dry_run,
        "seen": result.seen,
        "changed": result.changed,
        "reports": outcome.reports,
        "active_tickets": active,
        "overdue": overdue,
        "in_warning": in_warning,
        "actions": [action_json(a) for a in result.actions],
        "escalations": [
            {"id": e.ticket_id, "kind": e.kind, "from": e.from_, "to": e.to, "by": e.by}
            for e in result.escalations
        ],
        "fired": {p.ticket_id: p.fired for p in result.plans if p.fired},
        "skipped": result.skipped,
        "broken": [str(b) for b in result.broken] + result.invalid,
        "git_error": outcome.git_error,
        "dropped_commits": [{"commit": h, "subject": t} for h, t in outcome.dropped_commits],
        "notify_error": outcome.notify_error,
        "waiting_for_push": outcome.waiting_for_push,
        "notes": result.notes,
        "worker_died": result.worker_died,
        "behind": result.behind,
        "commit": outcome.commit,
        "committed": outcome.committed,
        "earlier": outcome.earlier,
        "left_out": outcome.left_out,
        "pushed": outcome.pushed,
        "pushed_commits": outcome.pushed_commits,
        "pushed_list": [
            {"commit": c, "subject": subject, "tickets": [Path(p).stem for p in _tickets(files)]}
            for c, subject, files in outcome.pushed_list
        ],
        "attempts": outcome.attempts,
        "processes": result.processes,
        "notifications": [
            {
                "event": e.id,
                "id": e.ticket_id,
                "kind": e.kind,
                "targets": list(e.targets),
                "subject": e.subject(),
            }
            for e in result.events
        ],
        "retries": [
            {
                "event": m.event,
                "id": m.ticket_id,
                "kind": m.kind,
                "target": m.target,
                "subject": m.title,
                "attempts": m.attempts,
            }
            for m in outcome.retries
        ],
        "dropped": [m.key for m in outcome.dropped],  # (--dry-run: to a target gone)
        "unsendable": [  # (--dry-run: a target whose URL names a variable not set here)
            {"target": target, "variable": name, "problem": problem}
            for target, name, problem in outcome.unsendable
        ],
        "digests": [  # (--dry-run: what goes as one message at a target's working hour)
            {
                "target": target,
                "subject": digest_title(target, len(found)),
                "events": [m.event for m in found],
            }
            for target, found in outcome.digests.items()
        ],
        "held": [  # (what waits for its target's quiet hours)
            {
                "event": m.event,
                "id": m.ticket_id,
                "kind": m.kind,
                "target": m.target,
                "subject": m.title,
            }
            for m in outcome.held
        ],
        "sent": [m.key for m in outcome.delivery.sent] if outcome.delivery else [],
        "send_failed": [m.key for m in outcome.delivery.failed] if outcome.delivery else [],
        "send_held": [m.key for m in outcome.delivery.held] if outcome.delivery else [],
        "send_dropped": [m.key for m in outcome.delivery.dropped] if outcome.delivery else [],
        "sent_digests": [  # (what quiet hours held, sent as one message a target: in `sent`)
            {"target": d.target, "event": d.event, "messages": list(d.keys)}
            for d in (outcome.delivery.digests if outcome.delivery else [])
        ],
    }
