"""Tickets created in different clones on different branches merge without conflict."""
from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import ESC, Esc


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_two_clones_create_tickets_and_merge_cleanly(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    subprocess.run([ESC, "init", str(origin)], check=True, capture_output=True)
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "workspace")
    for name in ("ann", "ben"):
        git(tmp_path, "clone", "-q", str(origin), name)

    ann, ben = Esc(tmp_path / "ann"), Esc(tmp_path / "ben")
    git(ann.cwd, "switch", "-qc", "ann-work")
    git(ben.cwd, "switch", "-qc", "ben-work")
    ann_ids = [ann.ok("create", "--title", f"Ann {n}", "--category", "billing").strip()
               for n in range(5)]
    ben_ids = [ben.ok("create", "--title", f"Ben {n}", "--category", "bug").strip()
               for n in range(5)]
    ann.ok("comment", ann_ids[0], "-m", "on it")
    ben.ok("escalate", ben_ids[0], "--up", "--reason", "needs a decision")
    for clone, who in ((ann, "ann"), (ben, "ben")):
        git(clone.cwd, "add", "-A")
        git(clone.cwd, "commit", "-qm", f"{who}'s tickets")

    git(ben.cwd, "push", "-q", "origin", "ben-work")
    git(ann.cwd, "fetch", "-q", "origin")
    merge = subprocess.run(["git", "merge", "--no-edit", "origin/ben-work"], cwd=ann.cwd,
                           capture_output=True, text=True, check=False)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert git(ann.cwd, "status", "--porcelain") == ""

    listed = ann.ok("list", "--all", "--json")
    import json

    ids = [t["id"] for t in json.loads(listed)]
    assert sorted(ids) == sorted(ann_ids + ben_ids)
    assert len(set(ids)) == 10
    validated = ann("validate")
    assert validated.code == 0, validated.out
