"""A lock inside the workspace that keeps two sweeps on one machine from running at once.

It is an OS file lock (``flock``) on ``.esc-cache/sweep.lock``: the kernel releases it
when its holder exits or is killed, so a lock left by a killed process is simply taken
over.  The file also records who holds it, for the message a waiting sweep prints.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from esc.errors import EscError

LOCK_FILE = "sweep.lock"
POLL_SECONDS = 0.05


class LockTimeout(EscError):
    pass


@contextlib.contextmanager
def hold(folder: Path, timeout: float, what: str = "esc sweep") -> Iterator[None]:
    """Hold the workspace lock, waiting up to ``timeout`` seconds for it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, timeout)
        os.ftruncate(fd, 0)
        os.write(fd, f"{what} pid {os.getpid()} on {socket.gethostname()}\n".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = path.read_text(errors="replace").strip() or "another esc process"
                raise LockTimeout(
                    f"the workspace is locked by {holder}; gave up after {timeout:g}s "
                    "(--lock-timeout)"
                ) from None
            time.sleep(POLL_SECONDS)
