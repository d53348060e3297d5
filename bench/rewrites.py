#!/usr/bin/env python3
"""What a sweep costs per ticket it rewrites: N new tickets, all open, created the same day.

    python bench/rewrites.py [--sizes 10000,30000,100000] [--repeat 1] [--workdir DIR]
                             [--rows first,cross,report-html,report-closed] [--json OUT]
                             [--rev REV | --esc-src DIR]

Issue 19's write side.  For each size N it makes (or reuses) DIR/open-N: a git repository
with the starter configuration and N tickets that `esc create` would have written today
(status `new`, no `sla:` block yet, created between NOW - 8h and NOW), written with esc's
own library as bench/generate.py does, then times as processes of their own, beside the
floor (bench/floor.py) of the same run:

* ``first``: the first sweep of the N never-swept tickets (no `.esc-cache/`): every one is
  rewritten (its `sla:` block, and what the rules do);
* ``cross``: after that sweep, a sweep three days later (every first response is past
  due): every ticket is rewritten again, this time from a warm cache;
* ``report-html``: `esc report --format html` after the first sweep;
* ``report-closed``: `esc report --format html` on DIR/closed-N after a sweep, where 99
  tickets in 100 were created over the last two years and resolved and closed within the
  hour: only the open ones need an SLA computed.

The rewritten count is N in ``first`` and ``cross``, so the sizes show whether a sweep's
cost is linear in the tickets it rewrites.  Each number is wall-clock seconds, CPU
seconds (user + system) and peak RSS from `/usr/bin/time`; ratios are to the floor's
median in the same run (CPU ratios are the steadier ones on a shared machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Runner, Sample, git, prepared, source_options, warm_page_cache  # noqa: E402

GENERATOR_VERSION = 2
MARKER = ".bench-rewrites.json"
NOW = dt.datetime.fromisoformat("2026-11-27T09:00:00+01:00")
LATER = NOW + dt.timedelta(days=3)  # every first response past due
GIT_ID = ["-c", "user.name=esc-bench", "-c", "user.email=bench@localhost",
          "-c", "commit.gpgsign=false"]
ROWS = ["first", "cross", "report-html", "report-closed"]

TITLES = ["Checkout returns 500 for all customers", "Cannot log in since this morning",
          "Invoice shows the wrong VAT ID", "Order export stops at 10,000 rows",
          "Refund for order #10482 not received", "Payment provider timeouts since 08:50",
          "How do I connect my own domain?", "Analytics show zero visits since Monday"]
CATEGORIES = ["outage", "account", "billing", "bug", "refund", "outage", "how-to", "data"]
CHANNELS = ["email", "portal", "chat", "phone", "api"]
PRIORITIES = [None, None, None, "low", "normal", "high", "urgent"]
SENTENCES = ["It started this morning and nothing changed on our side.",
             "Customers are writing to us about it, so please hurry.",
             "The error message says \"Something went wrong\".",
             "We already cleared the cache and logged out and in again."]


# ---------------------------------------------------------------- the workspace


def _ticket_text(index: int, ticket_id: str, closed: bool) -> str:
    from esc.config.loading import build_config
    from esc.config.starter import RULES_YAML, TEAMS_YAML
    from esc.domain import lifecycle
    from esc.domain.model import Ticket
    from esc.ticketfile import document

    global _CONFIG
    if _CONFIG is None:
        _CONFIG, _ = build_config(TEAMS_YAML, RULES_YAML)
    config = _CONFIG
    assert config is not None
    rng = random.Random(f"esc-bench-rewrites/{index}")
    closed = closed and index % 100 != 0  # (1 in 100 stays open)
    minutes = rng.uniform(60, 60 * 24 * 730) if closed else rng.uniform(1, 480)
    created = NOW - dt.timedelta(minutes=minutes)
    created = created.replace(microsecond=0, second=0)
    kind = rng.randrange(len(TITLES))
    description = " ".join(rng.sample(SENTENCES, 2))
    intake = lifecycle.Intake(TITLES[kind], description, f"c{index}@shop.example",
                              rng.choice(CHANNELS), CATEGORIES[kind], rng.choice(PRIORITIES),
                              None, None, ())
    front, activity = lifecycle.create(intake, ticket_id, config, created, "mailbot")
    text = document.render_new(front, description, activity)
    if not closed:
        return text
    path = f"tickets/{ticket_id}.md"
    doc = document.parse(text, path)
    ticket: Ticket = doc.ticket
    steps = [lambda t, at: lifecycle.resolve(t, config, at, "lena", "Fixed; confirmed."),
             lambda t, at: lifecycle.close(t, config, at, "lena", csat=5)]
    at = created
    for step in steps:
        at += dt.timedelta(minutes=20)
        text = document.apply_change(doc, step(ticket, at))
        doc = document.parse(text, path)
        ticket = doc.ticket
    return text


_CONFIG = None


def _write_chunk(job: tuple[str, int, list[str], bool]) -> int:
    folder, start, ids, closed = job
    for offset, ticket_id in enumerate(ids):
        text = _ticket_text(start + offset, ticket_id, closed)
        with open(os.path.join(folder, f"{ticket_id}.md"), "w", encoding="utf-8") as handle:
            handle.write(text)
    return len(ids)


def make_workspace(root: Path, n: int, closed: bool, env: dict[str, str]) -> None:
    """DIR/open-N or DIR/closed-N, unless its marker says it is there already."""
    wanted = {"version": GENERATOR_VERSION, "n": n, "closed": closed, "now": NOW.isoformat()}
    try:
        if json.loads((root / MARKER).read_text()) == wanted:
            return
    except (OSError, ValueError):
        pass
    print(f"  generating {root} ({n} tickets)", file=sys.stderr, flush=True)
    began = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--generate", str(root), str(n),
                    *(["--closed"] if closed else [])], env=env, check=True)
    if closed:  # swept once, so the tickets carry their final sla: blocks
        subprocess.run([sys.executable, "-m", "esc", "--root", str(root), "--now",
                        NOW.isoformat(), "sweep", "--no-report", "--no-notify"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(root / ".esc-cache", ignore_errors=True)
    git(root, *GIT_ID, "add", "-A")
    git(root, *GIT_ID, "commit", "-q", "-m", f"{n} tickets")
    (root / ".git" / "info" / "exclude").write_text(MARKER + "\n")
    (root / MARKER).write_text(json.dumps(wanted))
    print(f"  generated in {time.perf_counter() - began:.0f} s", file=sys.stderr)


def generate(root: Path, n: int, closed: bool) -> None:
    from esc.config.starter import STARTER_FILES
    from esc.domain import ids

    if root.exists():
        shutil.rmtree(root)
    (root / "tickets").mkdir(parents=True)
    for name, text in STARTER_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    rng = random.Random(n)
    seen: set[str] = set()
    for _ in range(n):
        seen.add(ids.new_id("T", seen, rng.randrange))
    names = sorted(seen)
    chunk = 2000
    jobs = [(str(root / "tickets"), s, names[s:s + chunk], closed) for s in range(0, n, chunk)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        sum(pool.map(_write_chunk, jobs))
    git(root, "init", "-q")


def restore(root: Path) -> None:
    git(root, "checkout", "-q", "--", ".")
    git(root, "clean", "-fdq", "--", "tickets", "reports")
    shutil.rmtree(root / ".esc-cache", ignore_errors=True)
    os.sync()


# ---------------------------------------------------------------- timing


def esc(root: Path, now: dt.datetime, *args: str) -> list[str]:
    return [sys.executable, "-m", "esc", "--root", str(root), "--now", now.isoformat(), *args]


def row(label: str, samples: list[Sample], floor: dict[str, float]) -> dict[str, object]:
    wall = statistics.median(s.seconds for s in samples)
    cpu = statistics.median(s.cpu for s in samples)
    return {"row": label, "runs": len(samples), "wall": round(wall, 3), "cpu": round(cpu, 3),
            "x_floor_wall": round(wall / floor["wall"], 1),
            "x_floor_cpu": round(cpu / floor["cpu"], 1),
            "peak_mb": round(max(s.rss_kb for s in samples) / 1024),
            "walls": [round(s.seconds, 3) for s in samples],
            "cpus": [round(s.cpu, 3) for s in samples]}


def bench(n: int, workdir: Path, runner: Runner, repeat: int, rows: set[str]) -> list[dict]:
    root = workdir / f"open-{n}"
    make_workspace(root, n, False, runner.env)
    out: list[dict] = []

    def timed(argv: list[str], before=None, after=None, times: int = repeat) -> list[Sample]:
        samples = []
        for _ in range(times):
            if before is not None:
                before()
            warm_page_cache(root)
            sample = runner.run(argv, root)
            if sample.rc != 0:
                raise SystemExit(f"{' '.join(argv)}: exit {sample.rc}\n{sample.stderr[-2000:]}")
            samples.append(sample)
            if after is not None:
                after()
        return samples

    floor_runs = timed([sys.executable, str(HERE / "floor.py"), str(root)], times=max(5, repeat))
    floor = {"wall": statistics.median(s.seconds for s in floor_runs),
             "cpu": statistics.median(s.cpu for s in floor_runs)}
    out.append(row("floor", floor_runs, floor))
    first = esc(root, NOW, "sweep", "--no-notify")
    if "first" in rows:
        out.append(row(f"first sweep, {n} rewritten", timed(first, lambda: restore(root)), floor))
    if "cross" in rows:
        def swept_once() -> None:
            restore(root)
            subprocess.run(first, env=runner.env, check=True, stdout=subprocess.DEVNULL)
        cross = esc(root, LATER, "sweep", "--no-notify")
        out.append(row(f"sweep 3 days later, {n} rewritten", timed(cross, swept_once), floor))
    if "report-html" in rows:
        restore(root)
        subprocess.run(first, env=runner.env, check=True, stdout=subprocess.DEVNULL)
        html = esc(root, NOW, "report", "--format", "html", "--out", "/dev/null")
        out.append(row("report --format html (all open)", timed(html), floor))
    if "report-closed" in rows:
        closed = workdir / f"closed-{n}"
        make_workspace(closed, n, True, runner.env)
        html = esc(closed, NOW, "report", "--format", "html", "--out", "/dev/null")
        floor_closed = timed([sys.executable, str(HERE / "floor.py"), str(closed)],
                             times=max(5, repeat))
        fc = {"wall": statistics.median(s.seconds for s in floor_closed),
              "cpu": statistics.median(s.cpu for s in floor_closed)}
        out.append(row("floor (closed workspace)", floor_closed, fc))
        shutil.rmtree(closed / ".esc-cache", ignore_errors=True)
        subprocess.run(esc(closed, NOW, "sweep", "--no-report", "--no-notify"), env=runner.env,
                       check=True, stdout=subprocess.DEVNULL)  # (the cache, as cron leaves it)
        out.append(row("report --format html (99% closed)", timed(html), fc))
    restore(root)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--rows", default=",".join(ROWS))
    source_options(parser, "esc-bench-rewrites")
    parser.add_argument("--generate", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--closed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generate(Path(args.generate[0]), int(args.generate[1]), args.closed)
        return 0
    rows = {r for r in args.rows.split(",") if r}
    if rows - set(ROWS):
        parser.error(f"unknown rows: {', '.join(sorted(rows - set(ROWS)))}")
    workdir, runner, label = prepared(args)
    results: dict[str, object] = {"esc": label, "now": NOW.isoformat(), "sizes": {}}
    print(f"{label}; load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    for size in (int(s.replace("k", "000")) for s in args.sizes.split(",") if s):
        found = bench(size, workdir, runner, args.repeat, rows)
        results["sizes"][str(size)] = found  # type: ignore[index]
        print(f"\n{size} tickets, all open ({label})")
        print(f"{'':50} {'wall s':>8} {'× floor':>8} {'cpu s':>8} {'× floor':>8} {'peak MB':>8}")
        for r in found:
            print(f"{r['row']:50} {r['wall']:8.2f} {r['x_floor_wall']:7.1f}× {r['cpu']:8.2f} "
                  f"{r['x_floor_cpu']:7.1f}× {r['peak_mb']:8}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
