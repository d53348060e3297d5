#!/usr/bin/env python3
"""The knowledge base's benchmark: `esc suggest` over many articles, timed as processes.

    python bench/suggest.py [--articles 1000] [--repeat 7] [--workdir DIR] [--json OUT]

Makes DIR/kb-N (default DIR: $TMPDIR/esc-bench): what `esc init` writes, three tickets
and N generated articles (kb/KB-0001.md ..., written by esc's own article writer; titles
and bodies drawn, seeded by N, from a helpdesk vocabulary, one article in ten about
locked accounts so the ranking has real work), then times each command `--repeat` times
as a separate process (stdout to /dev/null, NO_COLOR=1) and prints the median wall-clock
and CPU (user + system, of the process: os.wait4) seconds:

| row | what runs |
| --- | --- |
| suggest | `esc suggest ID` of a ticket about a locked account (the index cached) |
| suggest, cold | the same after deleting `.esc-cache/kb-index/`: every article read and indexed |
| suggest --json | the same with `--json` |
| kb search | `esc kb search "locked account after failed logins"` |
| show (suggests) | `esc show ID` of that new ticket at level 1: it lists the top 3 |
| show (no kb) | `esc show ID` in the same workspace without kb/: nothing read or ranked |

Target: `esc suggest` over 1,000 articles < 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

NOW = "2026-11-27T09:00:00+01:00"
TARGET = ("suggest", 1000, 0.3)

_VOCAB = """
account login password reset link invoice vat refund charge payout payment checkout
shipping zone rate discount code coupon order export import csv product price stock
webhook api token domain dns certificate customer portal guest translation language theme
image storefront cdn timeout error report tax plan subscription trial upgrade admin team
invite permission role security two-factor phone app email notification newsletter consent
gdpr data delete backup sync warehouse connector etsy amazon klarna paypal stripe card
bank fee settlement currency rounding receipt label carrier tracking
"""
WORDS = tuple(_VOCAB.split())
LOCKED = "Account locked after too many failed logins"


def articles(n: int) -> list[tuple[str, tuple[str, ...], tuple[str, ...], str]]:
    """N (title, categories, tags, body), seeded by N."""
    rng = random.Random(n)
    categories = ("billing", "account", "how-to", "refund", "bug", "outage", "data")
    out = []
    for i in range(n):
        if i % 10 == 3:
            title = f"{LOCKED} ({rng.choice(WORDS)})"
            words = ["locked", "failed", "logins", "unlock", "account"]
        else:
            title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize()
            words = []
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 60))) + "."
            for _ in range(rng.randint(2, 5))
        ]
        body = "## Problem\n\n" + " ".join(words) + " " + paragraphs[0] + "\n\n## Solution\n\n"
        body += "\n\n".join(paragraphs[1:])
        tags = tuple(dict.fromkeys(rng.choice(WORDS) for _ in range(rng.randint(0, 4))))
        out.append((title, (rng.choice(categories),), tags, body))
    return out


def make_workspace(root: Path, n: int) -> str:
    """The workspace with N articles; the ID of the ticket to suggest for."""
    import datetime as dt

    from esc.domain.kb import Article
    from esc.ticketfile.article import render

    marker = root / ".kb-bench"
    if marker.exists() and marker.read_text().split("\n")[0] == str(n):
        return marker.read_text().split("\n")[1]
    if root.exists():
        shutil.rmtree(root)
    esc = [sys.executable, "-m", "esc"]
    subprocess.run([*esc, "init", str(root)], check=True, capture_output=True)
    made = []
    for title, body in (
        ("Can't log in: account locked", "It says my account is locked after failed logins."),
        ("Invoice shows the wrong VAT ID", "Please correct the VAT ID on our invoice."),
        ("How do I offer free shipping?", "Free shipping above £50 in the UK zone."),
    ):
        run = subprocess.run(
            [*esc, "--root", str(root), "--now", NOW, "create", "--title", title,
             "--body", body, "--category", "account", "--customer", "c@shop.example"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        made.append(run.stdout.strip())
    folder = root / "kb"
    folder.mkdir()
    for i, (title, categories, tags, body) in enumerate(articles(n), start=1):
        aid = f"KB-{i:04d}"
        updated = dt.date(2026, 1, 1) + dt.timedelta(i % 300)
        article = Article(aid, title, categories, tags, updated, body, "")
        (folder / f"{aid}.md").write_text(render(article), encoding="utf-8")
    marker.write_text(f"{n}\n{made[0]}\n")
    return made[0]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, child.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "esc-bench"))
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)
    root = Path(args.workdir) / f"kb-{args.articles}"
    root.parent.mkdir(parents=True, exist_ok=True)
    ticket = make_workspace(root, args.articles)
    esc = shutil.which("esc", path=str(Path(sys.executable).parent)) or "esc"
    base = [esc, "--root", str(root), "--now", NOW]
    env = {**os.environ, "NO_COLOR": "1"}
    rows = {
        "suggest": [*base, "suggest", ticket],
        "suggest, cold": [*base, "suggest", ticket],
        "suggest --json": [*base, "suggest", ticket, "--json"],
        "kb search": [*base, "kb", "search", "locked account after failed logins"],
        "show (suggests)": [*base, "show", ticket],
        "show (no kb)": [*base, "show", ticket],
    }
    results: dict[str, dict[str, object]] = {}
    for name, command in rows.items():
        if name == "show (no kb)":
            (root / "kb").rename(root / "kb.off")
        cold = name == "suggest, cold"
        try:
            timed(command, env)  # warm-up: the page cache, esc's user cache
            runs = []
            for _ in range(args.repeat):
                if cold:
                    shutil.rmtree(root / ".esc-cache" / "kb-index", ignore_errors=True)
                runs.append(timed(command, env))
        finally:
            if name == "show (no kb)":
                (root / "kb.off").rename(root / "kb")
        codes = {code for _, _, code in runs}
        results[name] = {
            "wall": statistics.median(w for w, _, _ in runs),
            "cpu": statistics.median(c for _, c, _ in runs),
            "runs": [[round(w, 4), round(c, 4)] for w, c, _ in runs],
            "exit": sorted(codes),
        }
    print(f"{args.articles} articles, {args.repeat} runs each (median), {platform.node()}")
    print(f"{'row':<18}{'wall s':>9}{'cpu s':>9}  target")
    for name, r in results.items():
        target = ""
        if name == TARGET[0] and args.articles == TARGET[1]:
            target = f"< {TARGET[2]} s: {'PASS' if float(r['wall']) < TARGET[2] else 'FAIL'}"  # type: ignore[arg-type]
        print(f"{name:<18}{r['wall']:>9.3f}{r['cpu']:>9.3f}  {target}")
    if args.json_out:
        numbers = {"articles": args.articles, "rows": results}
        Path(args.json_out).write_text(json.dumps(numbers, indent=2))
    return 0 if all(r["exit"] == [0] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
