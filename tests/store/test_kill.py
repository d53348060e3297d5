"""A sweep killed at any moment leaves every ticket as it was or as it should be."""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ESC, Esc

NOW = "2026-11-24T12:00:00+01:00"
COUNT = 300


def build(root: Path, count: int = COUNT) -> None:
    subprocess.run([ESC, "init", str(root)], check=True, capture_output=True)
    from esc.domain.model import Activity
    from esc.domain.timestamps import parse_timestamp
    from esc.ticketfile import document

    rng = random.Random(7)
    categories = ["billing", "account", "how-to", "bug", "outage", "data", "refund"]
    for n in range(count):
        created = parse_timestamp(
            f"2026-11-{rng.randint(16, 23):02d}T{rng.randint(8, 18):02d}:00:00+01:00"
        )
        tid = f"T-k{n:07d}"
        front = {
            "id": tid,
            "title": f"Ticket number {n}",
            "status": rng.choice(["new", "open"]),
            "priority": rng.choice(["low", "normal", "high", "urgent"]),
            "category": rng.choice(categories),
            "team": "support",
            "assignee": None,
            "customer": f"c{n}@shop.example",
            "channel": "email",
            "created": created,
            "updated": created,
            "first_response_at": None,
            "resolved_at": None,
            "closed_at": None,
            "tags": [],
            "impact": None,
            "urgency": None,
            "csat": None,
            "escalations": [],
        }
        text = document.render_new(
            front,
            "Something is wrong.\n" * rng.randint(1, 30),
            [Activity(created, "mailbot", event="created")],
        )
        (root / "tickets" / f"{tid}.md").write_text(text)


def snapshot(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "tickets").glob("*.md"))}


def leftovers(root: Path) -> list[str]:
    """Temporary files and ticket locks anywhere in the workspace."""
    found = [
        str(p.relative_to(root))
        for p in root.rglob(".*")
        if p.is_file() and p.name.endswith((".tmp", ".new"))
    ]
    locks = root / ".esc-cache" / "locks"
    return found + ([str(p.relative_to(root)) for p in locks.iterdir()] if locks.is_dir() else [])


@pytest.mark.parametrize("jobs", ["2", "1"])
def test_killing_a_sweeps_process_group_never_leaves_a_ticket_half_written(
    tmp_path: Path, jobs: str
) -> None:
    """As a cron timeout or `systemctl stop` does: the sweep, its workers and the process
    rendering reports die at once.  The next sweep finishes the job and leaves no junk.

    Tickets are written in batches (temporary files, one sync, then the renames), by the
    workers (``--jobs 2``) or by the sweep's own process (``--jobs 1``): a kill between
    the batch's temporary files and its renames leaves old tickets and junk files that
    the next sweep removes."""
    pristine = tmp_path / "pristine"
    count = 420  # (enough for worker processes, and batches enough for a kill after the
    # first one's writes to land before the last's on a loaded machine: with 200, two
    # batches, a slow look at the first write once saw them all written)
    build(pristine, count=count)
    reference = tmp_path / "reference"
    shutil.copytree(pristine, reference)
    Esc(reference, now=NOW).ok("sweep")
    before, after = snapshot(pristine), snapshot(reference)
    assert sum(before[n] != after[n] for n in before) > count // 2  # the sweep changes most

    rng = random.Random(2026)
    outcomes = set()
    for round_ in range(3):
        work = tmp_path / f"round{round_}"
        shutil.copytree(pristine, work)
        proc = subprocess.Popen(
            [ESC, "--now", NOW, "sweep", "--jobs", jobs],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # Kill it before any write (round 0), as soon as its first write is seen (round 1:
        # later batches are still to come, however fast the machine), or a random while
        # after that (round 2: during or after the rest of the writes).
        first_write(work, before, proc, at_once=round_ == 0)
        try:
            proc.wait(timeout=0.0 if round_ < 2 else rng.uniform(0.0, 0.4))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, rng.choice([signal.SIGKILL, signal.SIGTERM]))
        proc.wait()
        group_gone(proc.pid)  # (as when cron runs the next sweep: minutes later)
        state = snapshot(work)
        assert set(state) == set(before)
        for name, text in state.items():
            assert text in (before[name], after[name]), f"{name} is neither old nor new"
        done = sum(state[n] == after[n] != before[n] for n in state)
        outcomes.add("none" if done == 0 else "all" if state == after else "some")
        # the next sweep completes the job and removes what the kill left behind
        Esc(work, now=NOW).ok("sweep")
        assert snapshot(work) == after
        assert leftovers(work) == []
        assert sorted(p.name for p in (work / "tickets").glob(".*")) == [".gitkeep"]
    assert "some" in outcomes, outcomes  # at least one kill landed mid-sweep


@pytest.mark.parametrize(
    ("jobs", "signum", "to_group", "code", "said"),
    [
        ("2", signal.SIGTERM, False, 143, "esc: terminated"),  # `timeout`, `kill`
        ("2", signal.SIGINT, True, 130, "esc: interrupted"),  # Ctrl-C at a terminal
        ("1", signal.SIGTERM, False, 143, "esc: terminated"),
    ],
)
def test_a_sweep_stopped_by_a_signal_part_way_removes_its_temporary_files(
    tmp_path: Path, jobs: str, signum: int, to_group: bool, code: int, said: str
) -> None:
    """SIGTERM (`timeout`, a CI job's time limit, `kill`) or Ctrl-C while a sweep writes:
    it stops as on an error, with one line and 128 + the signal, every ticket old or new,
    and none of its temporary files (new texts written ahead, old versions taken out of
    place) left in tickets/, where `git status` lists them and `git add -A` commits them;
    they were left for the next sweep to remove, hundreds of them."""
    work = tmp_path / "ws"
    count = 420  # (enough for worker processes, and batches enough for a kill after the
    # first one's writes to land before the last's on a loaded machine: with 200, two
    # batches, a slow look at the first write once saw them all written)
    build(work, count=count)
    before = snapshot(work)
    proc = subprocess.Popen(
        [ESC, "--now", NOW, "sweep", "--jobs", jobs, "--no-report"],
        cwd=work,
        stdout=subprocess.PIPE,  # (as cron reads it, to mail: a traceback came that way)
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    first_write(work, before, proc, at_once=False)
    os.killpg(proc.pid, signal.SIGSTOP)  # (part-way, wherever it is: the signal waits)
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    os.killpg(proc.pid, signal.SIGCONT)
    _, err = proc.communicate()
    group_gone(proc.pid)
    assert (proc.returncode, err.decode().strip()) == (code, said)
    assert leftovers(work) == []
    state = snapshot(work)
    assert set(state) == set(before)
    Esc(work, now=NOW).ok("sweep", "--no-report")  # (the next sweep finishes the job)
    assert sum(state[n] != before[n] for n in state) > 0  # (it had written some)
    assert {n: t for n, t in snapshot(work).items() if state[n] != before[n]} == {
        n: t for n, t in state.items() if t != before[n]
    }  # (each ticket written whole, as the sweep makes it)


def group_gone(pgid: int) -> None:
    """Return once no process of group ``pgid`` is left (dying workers are reaped)."""
    for _ in range(1000):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    raise AssertionError(f"processes of group {pgid} outlived the kill by 10 s")


def first_write(
    work: Path, before: dict[str, str], proc: subprocess.Popen[bytes], at_once: bool
) -> None:
    """Return once the sweep in ``work`` has rewritten a ticket (or has ended): put a new
    file in its place (every write is a rename; looking at the inodes, not reading every
    file, leaves the CPUs to the sweep)."""
    folder = work / "tickets"
    inodes = {n: (folder / n).stat().st_ino for n in before}
    while not at_once and proc.poll() is None:
        with os.scandir(folder) as entries:
            if any(e.name in inodes and e.inode() != inodes[e.name] for e in entries):
                return
        time.sleep(0.02)  # (polling a process that runs on its own; no clock is read)


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat.rpartition(b")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


def busy(pid: int) -> bool:
    """Whether process ``pid`` has used 20 ms of CPU (a worker that has: past its set-up)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()
    except OSError:
        return False
    return int(fields[11]) + int(fields[12]) >= 2  # utime + stime, in clock ticks (10 ms)


def test_killing_the_sweep_alone_kills_its_workers(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    build(root, count=900)
    proc = subprocess.Popen(
        [ESC, "--now", NOW, "sweep", "--no-report", "--jobs", "2"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    while proc.poll() is None and not (len(workers) == 2 and all(map(busy, workers))):
        workers = children(proc.pid)  # (until both have done some work: they are set up)
        time.sleep(0.005)  # (polling a process that runs on its own: no CPU taken from it)
    assert len(workers) == 2, "the sweep ended before its workers were seen at work"
    watches = [os.pidfd_open(pid) for pid in workers]
    try:
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)  # stopped: they cannot notice anything by themselves
        proc.kill()
        proc.wait()
        for fd in watches:  # a pidfd turns readable when its process has ended
            assert select.select([fd], [], [], 30)[0] == [fd], "a worker outlived its sweep"
    finally:
        for fd in watches:
            os.close(fd)
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    # the next sweep takes over and leaves no junk
    Esc(root, now=NOW).ok("sweep", "--no-report")
    assert leftovers(root) == []
