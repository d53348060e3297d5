"""A sweep killed at any moment leaves every ticket as it was or as it should be."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
from pathlib import Path

from tests.conftest import ESC, Esc

NOW = "2026-11-24T12:00:00+01:00"
COUNT = 300


def build(root: Path) -> None:
    subprocess.run([ESC, "init", str(root)], check=True, capture_output=True)
    from esc import ticketfile
    from esc.clock import parse_timestamp
    from esc.model import Activity

    rng = random.Random(7)
    categories = ["billing", "account", "how-to", "bug", "outage", "data", "refund"]
    for n in range(COUNT):
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
        text = ticketfile.render_new(
            front,
            "Something is wrong.\n" * rng.randint(1, 30),
            [Activity(created, "mailbot", event="created")],
        )
        (root / "tickets" / f"{tid}.md").write_text(text)


def snapshot(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "tickets").glob("*.md"))}


def test_sigkill_at_random_moments_never_leaves_a_ticket_half_written(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    build(pristine)
    reference = tmp_path / "reference"
    shutil.copytree(pristine, reference)
    Esc(reference, now=NOW).ok("sweep", "--no-report")
    before, after = snapshot(pristine), snapshot(reference)
    assert sum(before[n] != after[n] for n in before) > COUNT // 2  # the sweep changes most

    rng = random.Random(2026)
    outcomes = set()
    for round_ in range(6):
        work = tmp_path / f"round{round_}"
        shutil.copytree(pristine, work)
        proc = subprocess.Popen(
            [ESC, "--now", NOW, "sweep", "--no-report"],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=rng.uniform(0.15, 1.2))  # let it run a random while
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = snapshot(work)
        assert set(state) == set(before)
        for name, text in state.items():
            assert text in (before[name], after[name]), f"{name} is neither old nor new"
        done = sum(state[n] == after[n] != before[n] for n in state)
        outcomes.add("none" if done == 0 else "all" if state == after else "some")
        # a temporary file the kill left behind is junk, removed once it is 10 minutes old
        for junk in (work / "tickets").glob(".*.tmp"):
            st = junk.stat()
            os.utime(junk, ns=(st.st_atime_ns, st.st_mtime_ns - 11 * 60 * 10**9))
        # the next sweep completes the job
        Esc(work, now=NOW).ok("sweep", "--no-report")
        assert snapshot(work) == after
        assert sorted(p.name for p in (work / "tickets").glob(".*")) == [".gitkeep"]
    assert "some" in outcomes, outcomes  # at least one kill landed mid-sweep
