"""A workspace as a git commit holds it, and as its work tree is: read, never written."""
from __future__ import annotations

import subprocess
from pathlib import Path

from esc.domain.errors import ParseError
from esc.store import git, snapshot
from esc.store.workspace import Workspace
from tests.conftest import Esc


def run_git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_a_commit_of_a_workspace_in_a_subfolder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    run_git(repo, "init", "-q", "-b", "main")
    (repo / "README").write_text("not the helpdesk\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "before the helpdesk")  # no workspace in this commit
    Esc(tmp_path).ok("init", str(repo / "help"))
    esc = Esc(repo / "help")
    ticket = esc.ok("create", "--title", "Héllo", "--category", "bug").strip()
    (repo / "help" / "tickets" / "T-latin100.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "helpdesk")
    workspace = Workspace(repo / "help")
    commit = run_git(repo, "rev-parse", "HEAD").strip()
    (repo / "help" / "rules.yaml").write_text("priorities: [low\n")  # the work tree moves on

    then = snapshot.at_commit(workspace, commit)
    assert then.config is not None and then.findings == []
    assert sorted(then.files) == sorted([f"{ticket}.md", "T-latin100.md"])  # (no .gitkeep)
    parsed = then.doc(f"{ticket}.md")
    assert not isinstance(parsed, ParseError) and parsed.ticket.title == "Héllo"
    broken = then.doc("T-latin100.md")
    assert isinstance(broken, ParseError) and str(broken).startswith(
        "tickets/T-latin100.md:2: not UTF-8 text"
    )
    now = snapshot.in_work_tree(workspace)
    assert now.config is None and now.findings[0].path == "rules.yaml"
    assert now.files == then.files

    before = snapshot.at_commit(workspace, commit + "~1")
    assert before.config is None and before.files == {} and before.teams is None
    assert [str(f) for f in before.findings] == ["teams.yaml:1: file is missing"]


def test_paths_changed_since_lists_edited_and_untracked_tickets(esc: Esc, workspace: Path) -> None:
    first = esc.ok("create", "--title", "One", "--category", "bug").strip()
    second = esc.ok("create", "--title", "Two", "--category", "bug").strip()
    run_git(workspace, "init", "-q", "-b", "main")
    run_git(workspace, "add", "-A")
    run_git(workspace, "commit", "-qm", "two tickets")
    assert git.paths_changed_since(workspace, "HEAD", "tickets") == []
    esc.ok("tag", first, "x")
    (workspace / "tickets" / f"{second}.md").unlink()
    third = esc.ok("create", "--title", "Three", "--category", "bug").strip()
    (workspace / "tickets" / "notes.txt~").write_text("ignored by nobody, but not a ticket")
    assert git.paths_changed_since(workspace, "HEAD", "tickets") == sorted(
        [f"tickets/{first}.md", f"tickets/{second}.md", f"tickets/{third}.md",
         "tickets/notes.txt~"]
    )  # fmt: skip
