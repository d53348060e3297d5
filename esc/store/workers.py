"""Work on every CPU: forked worker processes that each take a share of a list of names
and hand their results back, and one process that computes something aside.

The processes are forked from the calling process, so they start with everything it
holds (its configuration, its catalog, its locks) and need nothing pickled but the names
and their results.  The kernel kills them the moment their parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from esc.store.diagnostics import fallback

CHUNK = 100  # names per task: big enough to amortise the hand-over, small enough to balance
PR_SET_PDEATHSIG = 1

R = TypeVar("R")


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this forked process as soon as the process that forked it dies
    (Linux), so that killing a sweep stops its workers at once.

    Ctrl-C is left to the parent, which stops its workers itself: a worker stopped by one
    while it waited for a task broke the pool, whose manager then waited for ever on the
    other worker, itself blocked handing back a result nobody read.  SIGTERM kills it
    outright, as it did before esc caught SIGTERM (the handler it inherits would raise):
    a pool that breaks, or the exit of a process working aside, stops the others with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # (blocked by fork_map while it forks: a SIGTERM to the process group before this ran
    # raised the parent's handler's exception here, a traceback in cron's mail)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class WorkerDied(Exception):
    """A worker process died (killed, as by the kernel's OOM killer) before its share was
    done: the shares not yet handed back are lost, and the caller does them itself."""


def fork_map(
    names: list[str], task: Callable[[list[str]], list[R]], processes: int, size: int = CHUNK
) -> Generator[list[R], None, None]:
    """``task`` run on shares of ``names`` (``size`` at most) in ``processes`` forked
    processes; the results of each share as they come back, in order (while the others go
    on).  WorkerDied if a worker dies: the results handed back so far stand, and nothing
    waits for the lost share for ever (as ``multiprocessing.Pool`` did)."""
    global _TASK
    _TASK = task
    gc.freeze()  # the workers' collector then leaves inherited objects alone (no copy-on-write)
    collecting = gc.isenabled()
    gc.disable()  # (here too while the results come in: they make no reference cycles)
    try:
        context = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(
            processes, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
        )
        try:
            # (the workers are forked as the tasks are given out, with SIGTERM blocked:
            # each unblocks it once it no longer has esc's handler, die_with_parent)
            held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            try:
                shares = [pool.submit(_run_task, s) for s in _chunks(names, processes, size)]
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            for share in shares:
                yield _result(pool, share)
        except BrokenProcessPool as exc:
            _abandon(pool)
            raise WorkerDied(str(exc)) from None
        except BaseException:  # (stopped: a SIGTERM, an error; the workers may be dead)
            _abandon(pool)
            raise
        pool.shutdown(wait=True)
    finally:
        _TASK = None
        # Left frozen, with the results: they live as long as the caller, and the first
        # collection would otherwise go through every one of them (~50 ms at 10,000).
        gc.freeze()
        if collecting:
            gc.enable()


REAP_SECONDS = 2.0  # how long a stopped pool's killed workers are waited for, at most
POLL = 0.5  # seconds: how often a wait for a share's results looks at the workers
GRACE = 2.0  # seconds a dead worker leaves the pool to notice it before it is given up


def _result(pool: ProcessPoolExecutor, share: Future[list[R]]) -> list[R]:
    """The results of ``share`` once a worker hands them back; BrokenProcessPool if a worker
    is found dead and the pool has not said so within GRACE: a worker killed while it wrote
    its results (the OOM killer) leaves half a message in the pipe, and the pool's own
    thread, which would have said so, waits for ever for the rest of it."""
    dead_since: float | None = None
    while True:
        try:
            return share.result(timeout=POLL)
        except FutureTimeout:
            pass
        if dead_since is None:
            if any(p.exitcode is not None for p in _workers(pool).values()):
                dead_since = time.monotonic()
        elif time.monotonic() - dead_since >= GRACE:
            raise BrokenProcessPool("a worker process died while it handed back its results")


def _workers(pool: ProcessPoolExecutor) -> dict[int, multiprocessing.Process]:
    """The pool's worker processes (CPython's: no public way)."""
    return dict(getattr(pool, "_processes", None) or {})


def _abandon(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool`` without waiting for it: its workers killed, its queued shares dropped.
    Waiting (the ``with`` statement's shutdown) could last for ever: a worker killed while
    it wrote its results (a SIGTERM to the process group) leaves half a message in the
    pipe, which the pool's own thread waits to read the rest of; esc ends its process
    with ``os._exit``, which does not wait for that thread."""
    workers = _workers(pool).values()
    for process in workers:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()
    # (each reaped, for a moment at most: one killed and not reaped yet is a zombie, whose
    # process id still runs, so its temporary files would be taken for a live writer's and
    # left in tickets/ by the clean-up that follows)
    deadline = time.monotonic() + REAP_SECONDS
    for process in workers:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
    # (this process's own end of the pipe the results come back on, closed, the workers
    # being gone: a pool thread waiting for the rest of a message then reads its end and
    # stops, rather than waiting for ever, and holding this process's exit, in a test)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        pool._result_queue._writer.close()  # type: ignore[attr-defined]
    pool.shutdown(wait=False, cancel_futures=True)


_TASK: Callable[[list[str]], list[Any]] | None = None  # what forked workers inherit


def _run_task(names: list[str]) -> list[Any]:
    assert _TASK is not None
    gc.disable()  # a worker lives for one task list and makes few reference cycles
    return _TASK(names)


def _chunks(names: list[str], processes: int, size: int = CHUNK) -> list[list[str]]:
    """Tasks of ``size`` names, the last round of them a quarter of that, and at least four
    for each process: the workers then finish within a few names of each other (and each
    takes a share, though one starts late)."""
    head = max(0, len(names) - processes * size)  # before the last round
    small = max(1, min(size // 4, -(-(len(names) - head) // (4 * processes))))
    chunks = [names[i : min(i + size, head)] for i in range(0, head, size)]
    return chunks + [names[i : i + small] for i in range(head, len(names), small)]


class Aside(Generic[R]):
    """``work()`` running in a forked process while this one goes on.

    :meth:`result` waits for its answer: None if the work failed or the process died (said
    under ESC_DEBUG=1), and the caller then does the work itself, so errors are reported
    as without a fork.
    """

    def __init__(self, work: Callable[[], R]) -> None:
        global _ASIDE
        context = multiprocessing.get_context("fork")
        self._answer, sender = context.Pipe(duplex=False)
        _ASIDE = work
        gc.freeze()  # (see fork_map)
        try:
            self._process = context.Process(
                target=_run_aside, args=(sender, os.getpid()), daemon=True
            )
            self._process.start()  # forked now: it sees everything done so far
        finally:
            gc.unfreeze()
            _ASIDE = None
            sender.close()

    def result(self) -> R | None:
        try:
            while not self._answer.poll(0.05):
                if not self._process.is_alive():
                    fallback("the process working aside died without an answer")
                    return None
            answer: tuple[bool, R | str] = self._answer.recv()
        except (EOFError, OSError) as exc:
            fallback(f"no answer from the process working aside ({exc})")
            return None
        finally:
            self._answer.close()
            self._process.join()
        done, value = answer
        if not done:
            fallback(f"the work aside failed ({value}); doing it here")
            return None
        return value  # type: ignore[return-value]


_ASIDE: Callable[[], object] | None = None


def _run_aside(sender: Connection, parent: int) -> None:
    assert _ASIDE is not None
    die_with_parent(parent)
    gc.disable()
    try:
        answer: tuple[bool, object] = (True, _ASIDE())
    except Exception as exc:  # the parent does it again and reports the error its own way
        answer = (False, f"{type(exc).__name__}: {exc}")
    sender.send(answer)
    sender.close()
