#!/usr/bin/env python3
"""What one sweep costs after cron was down for a while: the replay of every moment missed.

    python bench/gap.py [--weeks 1,2,4,16] [--repeat 1] [--workdir DIR] [--json OUT]
                        [--rev REV | --esc-src DIR]

The workspace is the repository's demo (tickets/, teams.yaml, rules.yaml, kb/) with rules
whose conditions turn true again and again as time passes (a note every 4 hours while a
clock is breached, one when a ticket is idle for 3 hours, a tag at 5 days of age, a
priority raised when overdue by 2 hours and lowered when an urgent ticket is idle, a
pending ticket reopened after a day), swept once at the demo's `now`.  For each gap it
times one sweep `--no-report --no-notify` that many weeks later, on a fresh copy, beside
the floor (bench/floor.py) of the same workspace: every rule's every moment in the gap is
replayed, as sweeps every minute would have acted, so the cost grows with the moments; it
should grow about in proportion to the gap, not with its square (a replay of 4 months
took 7 minutes while each moment applied every earlier effect again).
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

from run import REPO, Runner, git, prepared, source_options, warm_page_cache  # noqa: E402

NOW = dt.datetime.fromisoformat("2026-11-27T09:10:00+01:00")  # the demo's, and a sweep then
RULES = """\
  - name: bench-repeat-breached
    when: {sla: breached}
    then: {note: "still breached"}
    repeat: 4h
  - name: bench-idle
    when: {idle: ">3h", status: open}
    then: {note: "idle ping"}
  - name: bench-age
    when: {age: ">5d"}
    then: {tag: old}
  - name: bench-overdue-raise
    when: {overdue: ">=2h", priority: "<urgent"}
    then: {priority: raise}
  - name: bench-calm-down
    when: {priority: urgent, idle: ">2h"}
    then: {priority: high}
  - name: bench-reopen
    when: {status: pending, idle: ">1d"}
    then: {status: open}
"""
GIT_ID = ["-c", "user.name=esc-bench", "-c", "user.email=bench@localhost",
          "-c", "commit.gpgsign=false"]


def make_workspace(root: Path, runner: Runner) -> None:
    """The demo with the rules above, swept once at NOW and committed."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name in ("teams.yaml", "rules.yaml"):
        shutil.copy2(REPO / name, root / name)
    for folder in ("tickets", "kb"):
        shutil.copytree(REPO / folder, root / folder)
    rules = root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").rstrip("\n") + "\n" + RULES,
                     encoding="utf-8")
    git(root, "init", "-q")
    sample = runner.run([*runner.esc, "--root", str(root), "--now", NOW.isoformat(), "sweep",
                         "--no-report", "--no-notify"], root)
    if sample.rc != 0:
        raise SystemExit(f"the first sweep failed: {sample.stderr.strip()[-300:]}")
    shutil.rmtree(root / ".esc-cache", ignore_errors=True)
    git(root, *GIT_ID, "add", "-A")
    git(root, *GIT_ID, "commit", "-q", "-m", "swept once")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", default="1,2,4,16")
    parser.add_argument("--repeat", type=int, default=1)
    source_options(parser, "esc-bench-gap")
    args = parser.parse_args(argv)
    workdir, runner, label = prepared(args)
    base = workdir / "demo"
    make_workspace(base, runner)
    floor = [runner.run([sys.executable, str(HERE / "floor.py"), str(base)], base)
             for _ in range(5)]
    floor_wall = statistics.median(s.seconds for s in floor)
    print(f"{label}; load {os.getloadavg()[0]:.1f}; floor {floor_wall:.3f} s", file=sys.stderr)
    results: dict[str, object] = {"esc": label, "floor": floor_wall, "gaps": {}}
    print(f"{'weeks missed':>12} {'wall s':>8} {'cpu s':>8} {'× floor':>8} {'s/week':>8}")
    for weeks in (int(w) for w in args.weeks.split(",") if w):
        later = NOW + dt.timedelta(weeks=weeks)
        samples = []
        for _ in range(args.repeat):
            root = workdir / "gap"
            if root.exists():
                shutil.rmtree(root)
            shutil.copytree(base, root, symlinks=True)
            warm_page_cache(root)
            samples.append(runner.run([*runner.esc, "--root", str(root), "--now",
                                       later.isoformat(), "sweep", "--no-report",
                                       "--no-notify"], root))
            bad = [s for s in samples if s.rc not in (0, 1)]
            if bad:
                raise SystemExit(f"sweep after {weeks} weeks: exit {bad[0].rc}: "
                                 f"{bad[0].stderr.strip()[-300:]}")
        wall = statistics.median(s.seconds for s in samples)
        cpu = statistics.median(s.cpu for s in samples)
        results["gaps"][str(weeks)] = {"wall": round(wall, 3), "cpu": round(cpu, 3)}  # type: ignore[index]
        print(f"{weeks:12} {wall:8.2f} {cpu:8.2f} {wall / floor_wall:7.1f}× {wall / weeks:8.2f}",
              flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
