#!/usr/bin/env python3
"""Proof that two versions of esc behave the same: every command on the demo workspace.

    python bench/same_output.py REV_A [REV_B] [--keep DIR]

For each version (a git revision, exported with `git archive` and put first on
PYTHONPATH; REV_B defaults to the working tree) it copies the demo workspace (tickets/,
teams.yaml, rules.yaml) into the same folder, makes it a git repository, and runs every
command, read-only ones and ones that write, at three `--now` values, in the same order.
It records each command's exit code, stdout and stderr and, after each command that
writes, the content of every file in the workspace.  IDs of tickets made by `esc create`
are random: both versions draw them from the same seeded generator, and they are renamed
NEW-1, NEW-2, ... in order of appearance.  It prints each
difference and exits 1 if there is any, 0 if every byte is the same.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOWS = ["2026-11-27T09:00:00+01:00", "2026-11-28T15:30:00+01:00", "2026-12-02T11:00:00+01:00"]
# Tickets of the demo used below (a refund, an outage, a resolved one, ...).
SAMPLE = ["T-0m6b2xb7", "T-0zw9hcmp", "T-11kea3sh", "T-26q0vfng", "T-95ke1pks"]
ID = re.compile(r"T-[0-9a-z]{8}")

MERGE_BASE = """---
id: T-merge001
title: Base
status: open
priority: normal
category: billing
team: support
assignee: null
customer: c@shop.example
channel: email
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:00:00+01:00
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

## Activity

- 2026-11-20T09:00:00+01:00 · mailbot · created
"""


def commands(now: str) -> list[list[str]]:
    """Every command, in an order that makes each one do something."""
    a, b, c, d, e = SAMPLE
    read = [
        ["--help"], ["list"], ["list", "--all"], ["list", "--json"], ["list", "--overdue"],
        ["list", "--all", "--sort", "-created"], ["list", "--priority", ">=high", "--json"],
        ["list", "--team", "support", "--assignee", "none"], ["show", a], ["show", b, "--json"],
        ["validate"], ["check"], ["check", "--format", "json"], ["check", "--format", "github"],
        ["check", "--format", "junit"], ["check", "--fail-on", "warning"], ["upcoming"],
        ["upcoming", "--within", "2d", "--json"], ["explain", a], ["explain", c], ["log", d],
        ["log", e, "--json"], ["report"], ["report", "--format", "json"],
        ["report", "--format", "csv"], ["report", "--format", "html"],
        ["report", "--team", "engineering", "--since", "2026-11-01"],
        ["export", "--csv", "exported"], ["export", "--sqlite", "exported/esc.sqlite"],
        ["sweep", "--dry-run"], ["sweep", "--dry-run", "--json"],
    ]
    write = [
        ["sweep", "--json", "--jobs", "1"], ["sweep"], ["list", "--json"], ["check"],
        ["create", "--title", "Checkout shows a blank page", "--customer", "ann@shop.example",
         "--channel", "chat", "--category", "bug", "--body", "Since 9:00."],
        ["create", "--title", "Invoice address wrong", "--impact", "low", "--urgency", "high",
         "--body", "-", "--json"],
        ["classify", a, "--category", "bug"],
        ["classify", b, "--impact", "high", "--urgency", "high"],
        ["assign", c, "erin", "--force"], ["assign", d, "aylin"],
        ["comment", a, "-m", "We are on it."],
        ["comment", b, "-m", "Looks like the DB.", "--internal"],
        ["comment", c, "-m", "Any news?", "--from-customer"], ["wait", e, "--reason", "Need logs"],
        ["resume", e], ["escalate", a, "--up", "--reason", "Needs engineering"],
        ["escalate", b, "--to", "engineering", "--reason", "Specialist"],
        ["escalate", d, "--priority", "urgent", "--reason", "Impact grew"],
        ["escalate", d, "--priority", "low", "--reason", "refused"],
        ["tag", a, "vip", "eu"], ["resolve", b, "--resolution", "Fixed the index"],
        ["reopen", b, "--reason", "Came back"], ["close", c, "--csat", "4", "--feedback", "ok",
                                                 "--resolution", "Done"],
        ["comment", "T-nonexist", "-m", "x"], ["escalate", a, "--up", "--up", "--reason", "x"],
        ["classify", a, "--category", "nonsense"], ["--now", "yesterday", "list"],
        ["sweep", "--json"], ["show", a, "--json"], ["log", a],
        ["merge-file", "merge/base.md", "merge/ours.md", "merge/theirs.md"],
        ["install-git"], ["init", "fresh"], ["validate"],
    ]
    return [["--now", now, *argv] for argv in read + write]


WRITES = {"sweep", "create", "classify", "assign", "comment", "wait", "resume", "escalate",
          "tag", "resolve", "reopen", "close", "merge-file", "install-git", "init", "export",
          "report"}


def export_tree(rev: str, into: Path) -> Path:
    """esc's package as of ``rev`` (or the working tree for "WORKTREE")."""
    src = into / f"src-{rev.replace('/', '_')}"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    if rev == "WORKTREE":
        shutil.copytree(REPO / "esc", src / "esc", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "esc"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    (src / "sitecustomize.py").write_text(SAME_IDS)
    return src


# New ticket IDs drawn from a generator seeded by the command line, so both versions make
# the same ones (Python imports sitecustomize from PYTHONPATH at start-up).
SAME_IDS = """
import random, secrets, sys
secrets.randbelow = random.Random(" ".join(sys.argv)).randrange
"""


def workspace(root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name in ("teams.yaml", "rules.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "tickets", root / "tickets")
    merge = root / "merge"
    merge.mkdir()
    (merge / "base.md").write_text(MERGE_BASE)
    (merge / "ours.md").write_text(MERGE_BASE.replace("assignee: null", "assignee: bob"))
    (merge / "theirs.md").write_text(MERGE_BASE.replace("tags: []", "tags:\n  - vip"))
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-11-20T09:00:00+01:00",
           "GIT_COMMITTER_DATE": "2026-11-20T09:00:00+01:00"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "demo"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)


def snapshot(root: Path) -> dict[str, str]:
    """Every file of the workspace but git's and the cache's: text, or a hash."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or rel.parts[0] in (".git", ".esc-cache"):
            continue
        data = path.read_bytes()
        if rel.suffix == ".sqlite":
            files[str(rel)] = sqlite_dump(path)
            continue
        try:
            files[str(rel)] = data.decode("utf-8")
        except UnicodeDecodeError:
            files[str(rel)] = hashlib.sha256(data).hexdigest()
    return files


def sqlite_dump(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


def run_version(src: Path, root: Path, home: Path) -> list[tuple[str, str]]:
    """(label, text) of everything the commands printed and wrote, in order."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ESC_")}
    env.update(PYTHONPATH=str(src), ESC_USER="alice", NO_COLOR="1", HOME=str(home),
               XDG_CACHE_HOME=str(home / "cache"), GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="A", GIT_AUTHOR_EMAIL="a@x",
               GIT_COMMITTER_NAME="A", GIT_COMMITTER_EMAIL="a@x", COLUMNS="120")
    out: list[tuple[str, str]] = []
    names: dict[str, str] = {}

    def stable(text: str) -> str:
        def rename(match: re.Match[str]) -> str:
            ident = match.group()
            if ident in known:
                return ident
            return names.setdefault(ident, f"NEW-{len(names) + 1}")
        return ID.sub(rename, text).replace(str(root), "<ws>")

    for now in NOWS:
        workspace(root)
        known = {p.stem for p in (root / "tickets").glob("*.md")}
        for step, argv in enumerate(commands(now)):
            proc = subprocess.run([sys.executable, "-m", "esc", *argv], cwd=root, env=env,
                                  capture_output=True, text=True, input="From stdin.\n",
                                  timeout=120)
            label = f"{step:02d} " + " ".join(argv)
            out.append((f"{label} [exit]", str(proc.returncode)))
            out.append((f"{label} [stdout]", stable(proc.stdout)))
            out.append((f"{label} [stderr]", stable(proc.stderr)))
            if set(argv) & WRITES:
                for name, text in snapshot(root).items():
                    out.append((f"{label} [file {stable(name)}]", stable(text)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev_a")
    parser.add_argument("rev_b", nargs="?", default="WORKTREE")
    parser.add_argument("--keep", type=Path, help="work here (default: a temporary folder)")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="esc-same-"))
    results = []
    for rev in (args.rev_a, args.rev_b):
        src = export_tree(rev, base)
        home = base / f"home-{rev.replace('/', '_')}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir()
        results.append(run_version(src, base / "ws", home))
        print(f"{rev}: {len(results[-1])} outputs", file=sys.stderr)
    a, b = (dict(r) for r in results)
    differences = 0
    for label in sorted(set(a) | set(b)):
        if a.get(label) != b.get(label):
            differences += 1
            print(f"--- differs: {label}")
            left, right = (a.get(label, "<missing>"), b.get(label, "<missing>"))
            sys.stdout.writelines(difflib.unified_diff(
                left.splitlines(True), right.splitlines(True), args.rev_a, args.rev_b, n=1))
    total = len(set(a) | set(b))
    print(f"{total - differences} of {total} outputs identical; {differences} differ")
    if not args.keep:
        shutil.rmtree(base)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
