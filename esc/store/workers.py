"""A cold sweep on every CPU: worker processes parse, plan and write the tickets the cache
cannot vouch for, and hand back their cache entries.

After :func:`prime` the cache holds an up-to-date entry (summary, SLA, next event) for
every ticket a worker handled, so the sweep that follows finds them all quiet and only
reads the cache, as a warm sweep does.  The workers are forked from the sweeping process:
they share its configuration and lock and write only ticket files (each atomically, each
by one worker); the cache itself is written only by the parent.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from esc.domain.errors import ParseError
from esc.store.atomic import sync_folder
from esc.store.cache import Entry
from esc.store.catalog import Catalog

if TYPE_CHECKING:
    from esc.commands.sweep import RecordOutcome

MIN_TICKETS = 400  # below this, forking costs more than it saves
CHUNK = 100  # tickets per task: big enough to amortise the hand-over, small enough to balance


@dataclass
class Primed:
    """One ticket as a worker left it: its cache entry, and what the sweep did to it."""

    name: str
    entry: Entry | None  # None: the file vanished
    outcome: RecordOutcome | None = None  # None: the file does not parse or vanished
    worker: int = 0  # the process id of the worker


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this forked process as soon as the process that forked it dies
    (Linux), so that killing a sweep stops its workers at once."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def prime(
    catalog: Catalog,
    now: dt.datetime,
    jobs: int | None = None,
    each: Callable[[Primed], None] | None = None,
) -> list[Primed]:
    """Sweep, in up to ``jobs`` worker processes (default: one per CPU), every ticket the
    cache cannot answer for; [] if there are too few for that to pay, or no fork.

    ``each`` is called with every ticket's result as it comes in, while the workers go on.
    """
    names = catalog.unanswered(now)
    processes = min(jobs or cpus(), len(names) // CHUNK + 1)
    if len(names) < MIN_TICKETS or processes < 2:
        return []
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        return []
    chunks = _chunks(names, processes)
    global _JOB
    _JOB = (catalog, now)
    gc.freeze()  # the workers' collector then leaves inherited objects alone (no copy-on-write)
    collecting = gc.isenabled()
    gc.disable()  # (here too while the results come in: they make no reference cycles)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(processes, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            done: list[Primed] = []
            for handed in pool.imap(_sweep_chunk, chunks):
                chunk = [_taken(h) for h in handed]
                done += chunk
                for primed in chunk:
                    if primed.entry is not None:
                        catalog.cache.put(primed.name, primed.entry)
                        if each is not None:
                            each(primed)
    finally:
        _JOB = None
        # Left frozen, with the results: they live as long as the sweep, and the first
        # collection would otherwise go through every one of them (~50 ms at 10,000).
        gc.freeze()
        if collecting:
            gc.enable()
    return done


_JOB: tuple[Catalog, dt.datetime] | None = None  # what forked workers inherit


def _chunks(names: list[str], processes: int) -> list[list[str]]:
    """Tasks of CHUNK names, the last round of them a quarter of that: the workers then
    finish within a few tickets of each other."""
    small = CHUNK // 4
    head = max(0, len(names) - processes * CHUNK)  # before the last round
    chunks = [names[i : min(i + CHUNK, head)] for i in range(0, head, CHUNK)]
    return chunks + [names[i : i + small] for i in range(head, len(names), small)]


class Aside:
    """``work()`` running in a forked process while this one goes on.

    :meth:`result` waits for its answer: None if the work failed or the process died, and
    the caller then does the work itself, so errors are reported as without a fork.
    """

    def __init__(self, work: Callable[[], object]) -> None:
        global _ASIDE
        context = multiprocessing.get_context("fork")
        self._answer, sender = context.Pipe(duplex=False)
        _ASIDE = work
        gc.freeze()  # (see prime)
        try:
            self._process = context.Process(
                target=_run_aside, args=(sender, os.getpid()), daemon=True
            )
            self._process.start()  # forked now: it sees everything done so far
        finally:
            gc.unfreeze()
            _ASIDE = None
            sender.close()

    def result(self) -> object | None:
        try:
            while not self._answer.poll(0.05):
                if not self._process.is_alive():
                    return None  # died without answering
            answer: object = self._answer.recv()
            return answer
        except (EOFError, OSError):
            return None
        finally:
            self._answer.close()
            self._process.join()

    @classmethod
    def start(cls, work: Callable[[], object]) -> Aside | None:
        if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover
            return None
        return cls(work)


_ASIDE: Callable[[], object] | None = None


def _run_aside(sender: Connection, parent: int) -> None:
    assert _ASIDE is not None
    die_with_parent(parent)
    gc.disable()
    try:
        answer = _ASIDE()
    except Exception:  # the parent does it again and reports the error its own way
        answer = None
    sender.send(answer)
    sender.close()


def _sweep_chunk(names: list[str]) -> list[Handed]:
    assert _JOB is not None
    catalog, now = _JOB
    gc.disable()  # a worker lives for one sweep and makes few reference cycles
    done = list(_sweep_names(catalog, names, now))
    if any(p.outcome is not None and p.outcome.changed for p in done):
        sync_folder(catalog.workspace.tickets_dir)  # the renames of the rewritten tickets
    return [_handed(p) for p in done]


# A Primed as plain tuples: pickled and unpickled several times faster than dataclasses.
Handed = tuple[str, tuple[Any, ...] | None, tuple[Any, ...] | None, int]


def _handed(p: Primed) -> Handed:
    entry = None if p.entry is None else p.entry.row()
    o = p.outcome
    outcome = None if o is None else (o.changed, o.planned, o.warning, o.overdue, o.note)
    return p.name, entry, outcome, p.worker


def _taken(handed: Handed) -> Primed:
    from esc.commands.sweep import RecordOutcome

    name, entry, outcome, worker = handed
    return Primed(
        name,
        None if entry is None else Entry(*entry),
        None if outcome is None else RecordOutcome(*outcome),
        worker,
    )


def _sweep_names(catalog: Catalog, names: list[str], now: dt.datetime) -> Iterator[Primed]:
    from esc.commands.sweep import sweep_record  # (esc.sweeper imports this module)

    folder = catalog.workspace.tickets_dir
    worker = os.getpid()
    for name in names:
        try:
            record = catalog.record(name, folder)
        except ParseError:
            yield Primed(name, catalog.cache.entries.get(name), worker=worker)
            continue
        except FileNotFoundError:
            yield Primed(name, None, worker=worker)
            continue
        outcome = sweep_record(catalog, record, now, dry_run=False)
        yield Primed(name, record.entry, outcome, worker)
        catalog.cache.entries.pop(name, None)  # the parent keeps the entries, not the worker
        catalog.cache.dirty.pop(name, None)
