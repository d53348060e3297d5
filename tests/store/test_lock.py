"""Two sweeps on one machine never run at once; a killed sweep's lock is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Esc

HOLDER = """
import sys
from pathlib import Path
from esc.store.lock import hold
with hold(Path(sys.argv[1]), timeout=5, what="test holder"):
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes stdin or kills us
"""


def start_holder(workspace: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(workspace / ".esc-cache")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    return proc


def test_a_second_sweep_gives_up_naming_the_holder(esc: Esc, workspace: Path) -> None:
    holder = start_holder(workspace)
    try:
        result = esc("sweep", "--lock-timeout", "0")
        assert result.code == 1
        assert result.err.startswith("esc: the workspace is locked by test holder pid ")
        assert f"pid {holder.pid} on " in result.err
        assert "--lock-timeout" in result.err
    finally:
        holder.communicate("")
    assert esc("sweep", "--lock-timeout", "0").code == 0


def test_the_lock_of_a_killed_sweep_is_taken_over(esc: Esc, workspace: Path) -> None:
    holder = start_holder(workspace)
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate()
    assert (workspace / ".esc-cache" / "sweep.lock").exists()
    result = esc("sweep", "--lock-timeout", "0")
    assert result.code == 0, result.err


def test_read_only_commands_do_not_wait_for_the_lock(esc: Esc, workspace: Path) -> None:
    holder = start_holder(workspace)
    try:
        for args in (["list"], ["check"], ["sweep", "--dry-run"]):
            result = esc(*args)
            assert result.code in (0, 1) and "locked" not in result.err
    finally:
        holder.communicate("")


FORKING_HOLDER = """
import os, signal, sys, time
from pathlib import Path
from esc.store.lock import hold
with hold(Path(sys.argv[1]), timeout=5, what="esc sweep"):
    ready, started = os.pipe()
    child = os.fork()  # as the sweep forks its workers
    if child == 0:
        os.write(started, b"!")  # (its fork handlers have run: what it inherited is closed)
        while True:  # a worker that goes on (no PR_SET_PDEATHSIG here: it outlives us)
            time.sleep(1)
    os.read(ready, 1)  # (else a loaded machine may not have run the worker at all yet)
    print(child, flush=True)
    sys.stdin.read()  # hold until the test kills us
"""


def test_a_killed_holders_lock_is_free_at_once_though_a_process_it_forked_lives_on(
    esc: Esc, workspace: Path
) -> None:
    """A flock stays held while any copy of its descriptor is open, and a forked worker
    has one: the worker closes it, so the holder's death frees the lock (issue 20)."""
    with subprocess.Popen(
        [sys.executable, "-c", FORKING_HOLDER, str(workspace / ".esc-cache")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        try:
            assert esc("sweep", "--lock-timeout", "0").code == 1  # (held while its holder lives)
            proc.kill()
            proc.wait()
            os.kill(worker, 0)  # the worker still runs...
            result = esc("sweep", "--lock-timeout", "0")  # ...and the lock is free at once
            assert result.code == 0, result.err
        finally:
            os.kill(worker, signal.SIGKILL)
            proc.kill()


# ---------------------------------------------------------------- the writes lock


def test_a_ticket_writer_and_a_sweeps_batch_exclude_each_other(tmp_path: Path) -> None:
    from esc.store import lock

    cache = tmp_path / ".esc-cache"
    busy = r"^a ticket is being changed by another esc process; "
    with lock.hold_ticket(cache, "T-1.md", 1.0, "esc comment"):
        assert not lock.ticket_free(cache, "T-1.md")
        assert lock.ticket_free(cache, "T-2.md")
        with pytest.raises(lock.LockTimeout, match=busy), lock.hold_writes(cache, 0.05, "x"):
            pass
    assert lock.ticket_free(cache, "T-1.md")
    assert not (cache / "locks" / "T-1.md.lock").exists()  # (no lock file is left behind)
    with lock.hold_writes(cache, 0.05, "esc sweep"):
        with (
            pytest.raises(lock.LockTimeout) as raised,
            lock.hold_ticket(cache, "T-2.md", 0.05, "esc comment"),
        ):
            pass
        sweep = f"T-2 is being changed by esc sweep pid {os.getpid()} on "
        assert str(raised.value).startswith(sweep)
        assert lock.ticket_free(cache, "T-2.md")  # (let go of as it gave up)
    with (
        lock.hold_ticket(cache, "T-2.md", 0.05, "esc comment"),  # free again
        lock.hold_ticket(cache, "T-3.md", 0.05, "esc tag"),  # writers share it
    ):
        pass


def test_a_writer_that_gives_up_on_a_sweeps_batch_says_how_long_it_waited(
    tmp_path: Path,
) -> None:
    """The wait for the writes lock is what is left of the ticket's: the give-up says the
    whole wait (`gave up after 0.3s`, as README says of 60s), not what was left of it."""
    from esc.store import lock

    cache = tmp_path / ".esc-cache"
    with (
        lock.hold_writes(cache, 0.05, "esc sweep"),
        pytest.raises(lock.LockTimeout) as raised,
        lock.hold_ticket(cache, "T-2.md", 0.3, "esc comment"),
    ):
        pass
    assert str(raised.value).endswith(
        "; gave up after 0.3s (ESC_LOCK_TIMEOUT; a sweep's or intake's --lock-timeout)"
    )


def test_lock_files_take_the_umask_as_every_file_does(tmp_path: Path) -> None:
    """In a workspace a group shares (umask 002), another member of the group can take the
    locks one member's command made: they are group-writable, as the tickets are."""
    from esc.store import lock

    cache = tmp_path / ".esc-cache"
    before = os.umask(0o002)
    try:
        with lock.hold_ticket(cache, "T-1.md", 0.05, "esc comment"):
            mode = os.stat(cache / "locks" / "T-1.md.lock").st_mode & 0o777
        with lock.hold(cache, 0.05, "esc sweep"):
            pass
    finally:
        os.umask(before)
    assert mode == 0o664
    assert os.stat(cache / "writes.lock").st_mode & 0o777 == 0o664
    assert os.stat(cache / lock.LOCK_FILE).st_mode & 0o777 == 0o664


def test_a_sweeps_batch_leaves_a_ticket_whose_lock_is_held(esc: Esc, workspace: Path) -> None:
    """A ticket locked by a command that has not got the writes lock yet is not written with
    the batch, but under its own lock afterwards (here: given up on, and said so)."""
    from esc.store import lock

    for title in ("One", "Two", "Three"):
        esc.ok("create", "--title", title, "--customer", "c@shop.example")
    names = sorted(p.name for p in (workspace / "tickets").glob("T-*.md"))
    busy = workspace / "tickets" / names[1]
    before = busy.read_bytes()
    fd = lock.try_ticket(workspace / ".esc-cache", busy.name)  # the ticket lock alone
    assert fd is not None
    try:
        swept = esc("sweep", "--no-report", "--lock-timeout", "0.1")
        assert swept.code == 0, swept.err
        assert f"{busy.stem}: left as it is for the next sweep: {busy.stem} is being" in swept.out
        assert "2 changed" in swept.out
        assert busy.read_bytes() == before
    finally:
        lock.let_go(workspace / ".esc-cache", busy.name, fd)
    assert "1 changed" in esc.ok("sweep", "--no-report")
    assert busy.read_bytes() != before


def test_hold_if_free_yields_the_holder_instead_of_waiting(tmp_path: Path) -> None:
    """The outbox lock: free, it is held (and noted); held by another, a try yields who
    holds it and holds nothing; let go, it is free again. A killed holder's is free."""
    from esc.store.lock import hold_if_free

    path = tmp_path / ".esc-cache" / "outbox.lock"
    with hold_if_free(path, 0, "esc sweep") as first:
        assert first is None
        assert path.read_text().startswith(f"esc sweep pid {os.getpid()} on ")
        with hold_if_free(path, 0, "esc assign") as second:
            assert second is not None and second.startswith("esc sweep pid ")
        assert path.read_text().startswith("esc sweep pid ")  # (the try left it as it was)
    with hold_if_free(path, 0, "esc assign") as third:
        assert third is None
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_IF_FREE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    with hold_if_free(path, 0, "esc assign") as busy:
        assert busy is not None and f"pid {holder.pid} on " in busy
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate()
    with hold_if_free(path, 0, "esc assign") as taken:
        assert taken is None


HOLD_IF_FREE = """
import sys
from pathlib import Path
from esc.store.lock import hold_if_free
with hold_if_free(Path(sys.argv[1]), 5, "esc sweep") as busy:
    assert busy is None
    print("locked", flush=True)
    sys.stdin.read()
"""
