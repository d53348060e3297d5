#!/usr/bin/env python3
"""What one sweep costs on a never-swept ticket with a long history: the replay of its notes.

    python bench/long_ticket.py [--notes 2500,10000] [--minutes 8] [--repeat 1]
                                [--workdir DIR] [--json OUT] [--rev REV | --esc-src DIR]

The workspace is the repository's teams.yaml and rules.yaml and one open ticket that no
sweep has seen, with N internal notes ``--minutes`` apart from its creation (a long
incident worked in the ticket while cron was off, or a ticket imported with its history).
A first sweep replays it from its creation, moment by moment: this times one `esc sweep
--dry-run --no-report --no-notify`, and its peak memory, for each N.  The replay kept a
version of the ticket for every moment, each with its own copy of the conversation so far
(1.7 GB at 10,000 notes); it keeps the latest few now.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import REPO, prepared, source_options, warm_page_cache  # noqa: E402

CREATED = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
NOW = dt.datetime.fromisoformat("2026-12-01T10:00:00+01:00")


def ticket_text(notes: int, minutes: int) -> str:
    """An open ticket created at CREATED with ``notes`` internal notes, each logged."""
    step = dt.timedelta(minutes=minutes)
    times = [(CREATED + step * n).isoformat() for n in range(1, notes + 1)]
    front = f"""---
id: T-longlong
title: Long incident
status: open
priority: normal
category: bug
team: support
assignee: maya
customer: c@x.example
channel: email
created: {CREATED.isoformat()}
updated: {times[-1] if times else CREATED.isoformat()}
first_response_at: null
resolved_at: null
closed_at: null
tags: []
impact: null
urgency: null
csat: null
escalations: []
---

It broke.

## Conversation

"""
    entries = "\n".join(f"### {t} · maya · note (internal)\n\nNote {n}\n"
                        for n, t in enumerate(times, 1))
    log = [f"- {CREATED.isoformat()} · maya · created · normal priority via email"]
    log += [f"- {t} · maya · internal note added" for t in times]
    return front + entries + "\n## Activity\n\n" + "\n".join(log) + "\n"


def make_workspace(root: Path, notes: int, minutes: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "tickets").mkdir(parents=True)
    for name in ("teams.yaml", "rules.yaml"):
        shutil.copy2(REPO / name, root / name)
    (root / "tickets" / "T-longlong.md").write_text(ticket_text(notes, minutes),
                                                    encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", default="2500,10000")
    parser.add_argument("--minutes", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    source_options(parser, "esc-bench-long")
    args = parser.parse_args(argv)
    workdir, runner, label = prepared(args)
    print(f"{label}; load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    results: dict[str, object] = {"esc": label, "notes": {}}
    print(f"{'notes':>8} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}")
    for notes in (int(n) for n in args.notes.split(",") if n):
        root = workdir / f"long-{notes}"
        make_workspace(root, notes, args.minutes)
        samples = []
        for _ in range(args.repeat):
            shutil.rmtree(root / ".esc-cache", ignore_errors=True)
            warm_page_cache(root)
            samples.append(runner.run([*runner.esc, "--root", str(root), "--now",
                                       NOW.isoformat(), "sweep", "--dry-run", "--no-report",
                                       "--no-notify"], root))
            bad = [s for s in samples if s.rc not in (0, 1)]
            if bad:
                raise SystemExit(f"sweep of {notes} notes: exit {bad[0].rc}: "
                                 f"{bad[0].stderr.strip()[-300:]}")
        wall = statistics.median(s.seconds for s in samples)
        cpu = statistics.median(s.cpu for s in samples)
        peak = max(s.rss_kb for s in samples) / 1024
        results["notes"][str(notes)] = {  # type: ignore[index]
            "wall": round(wall, 3), "cpu": round(cpu, 3), "peak_mb": round(peak, 1)
        }
        print(f"{notes:8} {wall:8.2f} {cpu:8.2f} {peak:8.0f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
