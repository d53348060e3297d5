"""Locks that keep esc processes on one machine from writing over each other.

Two kinds, both OS file locks (``flock``) under ``.esc-cache/``, which the kernel releases
when their holder exits or is killed (a lock left by a killed process is simply taken over):

- the **workspace lock** (``sweep.lock``): one sweep at a time;
- a **ticket lock** (``locks/<file>.lock``): one writer of a ticket at a time.  Every
  command that rewrites a ticket holds its lock while it reads, changes and writes the
  file, so writers of one ticket take turns and writers of different tickets never wait
  for each other.  A ticket lock's file is removed by its holder before it lets go; a
  process that locked a file that was removed meanwhile tries again.
- the **writes lock** (``writes.lock``), with which a sweep puts a batch of tickets in
  place without making and removing a lock file for each: a holder of a ticket lock also
  holds the writes lock, shared, from just after taking the ticket lock until it lets go;
  the sweep takes it exclusively for its batch, so no command is reading, changing or
  writing any ticket meanwhile, and writes each ticket whose lock nobody holds
  (:func:`ticket_free`).  A ticket whose lock is held (its holder may be waiting for the
  writes lock) is written afterwards, under its own ticket lock, as any command does.
- the **outbox lock** (``outbox.lock``): one process at a time sends the outbox's messages
  (:func:`hold_if_free`, see :func:`esc.store.outbox.deliver`).

Each lock file records who holds it, for the message a waiting command prints.

A lock is its holder's alone: a process it forks (the sweep's workers) closes its copy of
every lock held at the fork, since a ``flock`` stays held while any copy is open.  So the
moment the holder dies the lock is free, even while a worker of its is still ending.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from esc.domain.errors import EscError

LOCK_FILE = "sweep.lock"
WRITES_LOCK = "writes.lock"  # shared by ticket writers, exclusive for a sweep's batch
TICKET_LOCKS = "locks"  # the folder of ticket locks, in .esc-cache/
OUTBOX_LOCK = "outbox.lock"  # held by the one process sending notifications (hold_if_free)
POLL_SECONDS = 0.05  # the longest pause between two tries
NOTICE_SECONDS = 1.0  # after this long waiting, ``on_wait`` is told who holds the lock

REBASING = "rebasing"  # in esc's folder while a sweep's rebase runs: a kill leaves it
SWEEP_GIT = "sweep-git"  # in esc's folder while a sweep commits or pushes: a kill leaves it


class LockTimeout(EscError):
    pass


_HELD: set[int] = set()  # the descriptors of the locks this process holds


def _forget_inherited() -> None:
    """In a forked child: close its copies of the parent's locks (never unlocking them:
    that would let go of the parent's lock)."""
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_inherited)


def _holder_text(what: str) -> bytes:
    import socket  # (only once a lock is taken: most commands take none)

    return f"{what} pid {os.getpid()} on {socket.gethostname()}\n".encode()


def _note_holder(fd: int, what: str) -> None:
    """Record in the lock file who holds it; on a full disk the lock holds all the same
    (the note only names the holder in a waiting command's message), and the write the
    lock guards says what is wrong."""
    os.ftruncate(fd, 0)
    try:
        os.write(fd, _holder_text(what))
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise


def _holder(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip() or "another esc process"
    except OSError:
        return "another esc process"


# How long a command waits for a ticket another writes: every command, ESC_LOCK_TIMEOUT;
# the sweep and intake, their --lock-timeout (no other command has one).
TICKET_WAIT_SETTING = "(ESC_LOCK_TIMEOUT; a sweep's or intake's --lock-timeout)"


@contextlib.contextmanager
def hold(folder: Path, timeout: float, what: str = "esc sweep") -> Iterator[None]:
    """Hold the workspace lock, waiting up to ``timeout`` seconds for it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        if not _flock_within(fd, timeout):
            raise LockTimeout(
                f"the workspace is locked by {_holder(path)}; gave up after {timeout:g}s "
                "(--lock-timeout, ESC_LOCK_TIMEOUT)"
            )
        with _holding(fd, what):
            yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _holding(fd: int, what: str) -> Iterator[None]:
    """While ``fd``, locked exclusively, is held: its holder is noted in the file (for the
    message a waiting command prints); cleared and unlocked after."""
    _HELD.add(fd)
    try:
        _note_holder(fd, what)
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        _HELD.discard(fd)


@contextlib.contextmanager
def hold_if_free(path: Path, timeout: float, what: str) -> Iterator[str | None]:
    """Hold the lock file ``path`` exclusively, waiting up to ``timeout`` seconds for it
    (0: one try).  Yields None while it is held; if it was not free in time, yields who
    holds it instead, and holds nothing (the caller leaves its work to the holder)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    try:
        if not _flock_within(fd, timeout):
            yield _holder(path)
            return
        with _holding(fd, what):
            yield None
    finally:
        os.close(fd)


def _flock_within(fd: int, timeout: float) -> bool:
    """Whether ``fd`` was locked exclusively within ``timeout`` seconds."""
    deadline, pause = time.monotonic() + timeout, 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(pause, left))
            pause = min(pause * 2, POLL_SECONDS)


def ticket_lock_path(folder: Path, name: str) -> Path:
    """The lock file of the ticket file ``name`` (e.g. ``T-1234abcd.md``), in ``folder``
    (the workspace's ``.esc-cache``).  A name too long for a file name with `.lock` after
    it (a file system takes 255 bytes) is cut and made unique by a hash of it; a name so
    made maps to itself, so a lock file's name gives back its lock's."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > LOCK_NAME_BYTES:
        whole = hashlib.sha256(raw).hexdigest()[:16]
        name = f"{raw[:60].decode('utf-8', 'ignore')}-{whole}"
    return folder / TICKET_LOCKS / f"{name}.lock"


LOCK_NAME_BYTES = 200  # a ticket file's name longer than this: its lock file's is cut


@contextlib.contextmanager
def hold_ticket(
    folder: Path,
    name: str,
    timeout: float,
    what: str,
    on_wait: Callable[[str], None] | None = None,
    batches: float = 0.0,
) -> Iterator[None]:
    """Hold the lock of the ticket file ``name``, waiting up to ``timeout`` seconds for it.

    ``on_wait`` is called once, with who holds it, if the wait goes on for a second.  A
    sweep's batch being put in place (the writes lock held exclusively) is waited for at
    least ``batches`` seconds: within a sweep, only its own batches hold it so (the
    workspace lock keeps other sweeps out), and its worker processes must not leave a
    ticket for the next sweep because another of them is writing (``--lock-timeout 0``).
    """
    path = ticket_lock_path(folder, name)
    start = time.monotonic()
    fd = _take(path, timeout, what, name, on_wait)
    try:
        left = max(0.0, timeout - (time.monotonic() - start), batches)
        with _writes(folder, fcntl.LOCK_SH, left, name, on_wait, said=max(timeout, batches)):
            yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # (still held: a process waiting on this file will try again)
        _HELD.discard(fd)
        os.close(fd)


@contextlib.contextmanager
def hold_writes(folder: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold the writes lock exclusively (a sweep putting a batch of tickets in place),
    waiting up to ``timeout`` seconds for the commands writing a ticket now to finish;
    LockTimeout if they do not."""
    with _writes(folder, fcntl.LOCK_EX, timeout, "", None, what):
        yield


@contextlib.contextmanager
def _writes(
    folder: Path,
    mode: int,
    timeout: float,
    name: str,
    on_wait: Callable[[str], None] | None,
    what: str | None = None,
    said: float | None = None,
) -> Iterator[None]:
    """The writes lock held in ``mode`` (shared for a writer of ticket ``name``, exclusive
    for a sweep's batch, whose holder ``what`` is noted in the file); a give-up says it
    waited ``said`` seconds (the whole wait, of which ``timeout`` was left)."""
    path = folder / WRITES_LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    try:
        _wait_for(fd, mode, path, timeout, name, on_wait, said)
        _HELD.add(fd)
        try:
            if what is not None:
                _note_holder(fd, what)
            yield
        finally:
            if what is not None:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _HELD.discard(fd)
        os.close(fd)


def _wait_for(
    fd: int,
    mode: int,
    path: Path,
    timeout: float,
    name: str,
    on_wait: Callable[[str], None] | None,
    said: float | None = None,
) -> None:
    patience = _Patience(path, name, timeout, on_wait, said=said)
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            patience.wait()


class _Patience:
    """Waiting for a held lock ``path`` (of ticket file ``name``): polls backing off, tells
    ``on_wait`` once after NOTICE_SECONDS, and raises LockTimeout after ``timeout`` seconds
    (at once with ``give_up``)."""

    def __init__(
        self,
        path: Path,
        name: str,
        timeout: float,
        on_wait: Callable[[str], None] | None,
        give_up: bool = False,
        said: float | None = None,
    ) -> None:
        self.path, self.timeout, self.on_wait, self.give_up = path, timeout, on_wait, give_up
        self.said = timeout if said is None else said  # (what the give-up says it waited)
        self.ticket = name.removesuffix(".md") or "a ticket"
        self.start = time.monotonic()
        self.pause = 0.001
        self.told = False

    def wait(self) -> None:
        waited = time.monotonic() - self.start
        if self.give_up or waited >= self.timeout:
            raise LockTimeout(
                f"{self.ticket} is being changed by {_holder(self.path)}; "
                f"gave up after {self.said:g}s {TICKET_WAIT_SETTING}"
            ) from None
        if self.on_wait is not None and not self.told and waited >= NOTICE_SECONDS:
            self.on_wait(f"waiting for {self.ticket}: {_holder(self.path)} is changing it")
            self.told = True
        time.sleep(min(self.pause, max(0.0, self.timeout - waited)))
        self.pause = min(self.pause * 2, POLL_SECONDS)


def ticket_free(folder: Path, name: str) -> bool:
    """Whether nobody holds the lock of the ticket file ``name`` now (for the holder of the
    writes lock, exclusively: then nobody can start writing it either, see above)."""
    try:
        fd = os.open(ticket_lock_path(folder, name), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # (not a lock file: left to the ticket's own lock to say what is wrong)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # (closing it lets go of the probe's lock)
    return True


def try_ticket(folder: Path, name: str) -> int | None:
    """The ticket lock as an open descriptor if it is free now (None if it is held); the
    caller lets go with :func:`let_go`."""
    path = ticket_lock_path(folder, name)
    try:
        return _take(path, 0.0, "esc", name, None, give_up=True)
    except LockTimeout:
        return None


def let_go(folder: Path, name: str, fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(ticket_lock_path(folder, name))
    _HELD.discard(fd)
    os.close(fd)


def _take(
    path: Path,
    timeout: float,
    what: str,
    name: str,
    on_wait: Callable[[str], None] | None,
    give_up: bool = False,
) -> int:
    patience = _Patience(path, name, timeout, on_wait, give_up)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            patience.wait()
            continue
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # its holder removed the file as it let go: lock the new one
            os.close(fd)
            continue
        _HELD.add(fd)
        try:
            _note_holder(fd, what)
        except BaseException:
            _HELD.discard(fd)
            os.close(fd)
            raise
        return fd


def remove_unheld_ticket_locks(folder: Path) -> list[Path]:
    """Remove the ticket lock files in ``folder`` (``.esc-cache``) that nobody holds (their
    holder was killed before it could remove them); the paths removed."""
    removed = []
    locks = folder / TICKET_LOCKS
    try:
        names = os.listdir(locks)
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        if name.endswith(".lock"):
            ticket = name.removesuffix(".lock")
            fd = try_ticket(folder, ticket)
            if fd is not None:
                let_go(folder, ticket, fd)
                removed.append(locks / name)
    return removed


def workspace_holder(folder: Path) -> str | None:
    """Who holds the workspace lock in ``folder`` (a sweep), if a process does now."""
    path = folder / LOCK_FILE
    for held, holder, _ in held_locks(folder):
        if held == path:
            return holder
    return None


def held_locks(folder: Path) -> list[tuple[Path, str, float]]:
    """The locks in ``folder`` (``.esc-cache``) that a process holds now, the workspace lock
    first, then the writes lock (held exclusively: a sweep putting a batch in place, for
    which every ticket writer waits), the outbox's (a process sending notifications), then
    the ticket locks: (lock file, who holds it, when they took it as a file modification
    time).

    Each is probed with a shared lock that is let go at once, and its file is left as it
    is, so a holder or a process waiting for it is not disturbed.
    """
    candidates = [folder / LOCK_FILE, folder / WRITES_LOCK, folder / OUTBOX_LOCK]
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        candidates += sorted(
            folder / TICKET_LOCKS / name
            for name in os.listdir(folder / TICKET_LOCKS)
            if name.endswith(".lock")
        )
    held = []
    for path in candidates:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or not a lock file
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append((path, _holder(path), os.fstat(fd).st_mtime))
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    return held
