"""`esc install-git` and `esc init`: the merge driver works without PATH, and a clone
without it is warned about by every command that writes a ticket."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import site
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Esc

SAFE = " -P" if sys.version_info >= (3, 11) else ""  # (launch.SAFE_PATH)

CREATED = "2026-11-20T09:00:00+01:00"
LATE = "2026-11-23T12:00:00+01:00"  # the tickets are breached: a sweep escalates them
WARNING = "esc: warning: this clone has no merge driver for tickets (run esc install-git)"
CRON_PATH = "/usr/bin:/bin"  # no esc on it


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def remote_and_clone(tmp_path: Path) -> tuple[Path, Path]:
    """A bare remote holding a workspace (its .gitattributes sends tickets to esc's
    driver), and a fresh clone of it: git copies no config, so the clone has no driver."""
    seed = tmp_path / "seed"
    Esc(tmp_path, now=None).ok("init", "seed")
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "helpdesk")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    return remote, clone


def create(esc: Esc, title: str = "Checkout returns 500") -> str:
    return esc.ok("create", "--title", title, "--category", "billing", now=CREATED).strip()


# ---------------------------------------------------------------- the warning


def test_a_clone_without_the_driver_is_warned_about_once_per_command(tmp_path: Path) -> None:
    _, clone = remote_and_clone(tmp_path)
    assert "merge.esc" not in (clone / ".git" / "config").read_text()
    esc = Esc(clone)
    created = esc("create", "--title", "A", "--category", "billing", now=CREATED)
    assert created.code == 0 and created.err == WARNING + "\n"
    ticket = created.out.strip()
    commented = esc("comment", ticket, "-m", "Looking into it.", "--json")
    assert commented.err == WARNING + "\n"
    assert commented.out.startswith("{")  # the JSON is untouched: the warning is on stderr
    create(esc, "B")
    swept = esc("sweep", "--no-report", now=LATE)  # writes both tickets: one warning
    assert swept.code == 0
    assert swept.out.startswith("2 tickets seen, 2 changed")
    assert swept.err == WARNING + "\n"


def test_intake_that_writes_a_ticket_warns_as_every_writer_does(tmp_path: Path) -> None:
    _, clone = remote_and_clone(tmp_path)
    esc = Esc(clone)
    taken = esc("intake", "--json", "-", input='{"title": "Form: card declined"}', now=CREATED)
    assert taken.code == 0 and taken.err == WARNING + "\n"
    message = (
        "From: Ann <ann@shop.example>\nTo: help@desk.example\nSubject: Invoice missing\n"
        "Message-ID: <m1@shop.example>\nDate: Fri, 20 Nov 2026 09:00:00 +0100\n\nWhere is it?\n"
    )
    mailed = esc("intake", "--eml", "-", input=message, now=CREATED)
    assert mailed.code == 0 and mailed.err == WARNING + "\n"
    again = esc("intake", "--eml", "-", input=message, now=CREATED)  # already taken
    assert again.code == 0 and WARNING not in again.err


def test_commands_that_write_no_ticket_do_not_warn(tmp_path: Path) -> None:
    _, clone = remote_and_clone(tmp_path)
    esc = Esc(clone)
    ticket = create(esc)
    for args in (["list"], ["show", ticket], ["validate"], ["sweep", "--dry-run", "--no-report"]):
        result = esc(*args, now=LATE)
        assert result.code == 0 and WARNING not in result.err, args
    esc.ok("sweep", "--no-report", now=LATE)
    unchanged = esc("sweep", "--no-report", now=LATE)  # changes nothing, writes nothing
    assert unchanged.out.startswith("1 tickets seen, 0 changed") and unchanged.err == ""


def test_install_git_ends_the_warning(tmp_path: Path) -> None:
    _, clone = remote_and_clone(tmp_path)
    esc = Esc(clone)
    ticket = create(esc)
    out = esc.ok("install-git")
    assert "merge.esc.driver = " in out
    result = esc("tag", ticket, "vip")
    assert result.code == 0 and result.err == ""


def test_install_git_in_a_workspace_made_by_hand_keeps_esc_s_files_out_of_git(
    tmp_path: Path,
) -> None:
    """A workspace copied in, `git init`, `esc install-git`: the first sweep's `.esc-cache/`
    (the cache, locks) and reports showed in `git status`, for `git add -A` to commit and
    push to every clone.  A .gitignore of the team's own keeps its lines, esc's added."""
    root = tmp_path / "desk"
    shutil.copytree(REPO / "tickets", root / "tickets")
    for name in ("teams.yaml", "rules.yaml"):
        shutil.copy(REPO / name, root / name)
    (root / ".gitignore").write_text("node_modules/\n")
    git(root, "init", "-q")
    esc = Esc(root)
    out = esc.ok("install-git")
    assert "added .esc-cache/, reports/, quarantine/, .*.tmp to .gitignore" in out
    assert (root / ".gitignore").read_text().startswith("node_modules/\n# esc's local cache")
    esc.ok("sweep")
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    assert ".esc-cache" not in status and "reports/" not in status
    assert "to .gitignore" not in esc.ok("install-git")  # (once: nothing to add again)
    # (a team that commits its reports says so, `!reports/`: its choice stands)
    (root / ".gitignore").write_text(".esc-cache/\n!reports/\n")
    assert "added quarantine/, .*.tmp to .gitignore" in esc.ok("install-git")
    assert "\nreports/" not in (root / ".gitignore").read_text()


def test_no_warning_where_the_driver_is_configured_another_way(tmp_path: Path) -> None:
    # in the user's global config
    _, clone = remote_and_clone(tmp_path)
    esc = Esc(clone)
    ticket = create(esc)
    git(clone, "config", "--global", "merge.esc.driver", "esc merge-file %O %A %B")
    assert esc("tag", ticket, "vip").err == ""
    # in a linked worktree, whose .git is a file: the config is the main repository's
    git(clone, "config", "--global", "--unset", "merge.esc.driver")
    assert esc("tag", ticket, "x").err == WARNING + "\n"
    esc.ok("install-git")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "a ticket")
    git(clone, "worktree", "add", "-q", "-b", "linked", str(tmp_path / "linked"))
    assert (tmp_path / "linked" / ".git").is_file()
    assert Esc(tmp_path / "linked")("tag", ticket, "y").err == ""


def test_no_warning_outside_git_or_where_tickets_merge_otherwise(tmp_path: Path) -> None:
    Esc(tmp_path, now=None).ok("init", "plain")  # writes .gitattributes, but no git here
    plain = Esc(tmp_path / "plain")
    assert plain("create", "--title", "A", "--category", "bug", now=CREATED).err == ""
    _, clone = remote_and_clone(tmp_path)
    (clone / ".gitattributes").write_text("tickets/*.md merge=esc\ntickets/*.md -merge\n")
    assert Esc(clone)("create", "--title", "B", "--category", "bug", now=CREATED).err == ""


@pytest.mark.parametrize(
    "lines", ["tickets/** merge=esc\n", "*.md merge=esc\n", "/tickets/*.md   merge=esc -diff\n"]
)
def test_any_spelling_git_reads_as_merge_esc_is_warned_about(tmp_path: Path, lines: str) -> None:
    """Only the exact line `tickets/*.md merge=esc` was recognised: `tickets/** merge=esc`
    routes the tickets to esc as well, and the clone without the driver was not warned;
    doctor said .gitattributes did not route them."""
    _, clone = remote_and_clone(tmp_path)
    (clone / ".gitattributes").write_text(lines)
    assert Esc(clone)("create", "--title", "B", "--category", "bug", now=CREATED).err == (
        WARNING + "\n"
    )
    doctor = json.loads(Esc(clone)("doctor", "--json").out)
    [check] = [c for c in doctor["checks"] if c["check"] == "merge-driver"]
    assert check["detail"].startswith("this clone has no merge driver for tickets")


# ---------------------------------------------------------------- a driver without PATH


def diverged_clone(tmp_path: Path, python: str) -> tuple[Path, str]:
    """A repository where ``python -m esc install-git`` registered the driver, and two
    branches that changed one ticket: `escalate` escalated it, `reply` replied to it."""
    repo = tmp_path / "repo"
    Esc(tmp_path, now=None).ok("init", "repo")
    git(repo, "init", "-q", "-b", "main")
    installed = subprocess.run(
        [python, "-m", "esc", "install-git"], cwd=repo, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    esc = Esc(repo)
    ticket = create(esc)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a ticket")
    git(repo, "switch", "-qc", "escalate")
    esc.ok("escalate", ticket, "--up", "--reason", "needs a developer")
    git(repo, "commit", "-qam", "escalated")
    git(repo, "switch", "-qc", "reply", "main")
    esc.ok("comment", ticket, "-m", "Looking into it.", now="2026-11-20T09:30:00+01:00")
    git(repo, "commit", "-qam", "replied")
    return repo, ticket


def merge_without_path(repo: Path) -> subprocess.CompletedProcess[str]:
    """`git merge escalate` as cron, CI or an IDE runs git: no esc on PATH."""
    env = {**os.environ, "PATH": CRON_PATH, "GIT_EDITOR": "true"}
    return subprocess.run(
        ["git", "merge", "--no-edit", "escalate"], cwd=repo, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip


def test_the_driver_is_the_absolute_interpreter_and_merges_without_path(tmp_path: Path) -> None:
    repo, ticket = diverged_clone(tmp_path, sys.executable)
    driver = git(repo, "config", "merge.esc.driver").strip()
    assert driver == f"{shlex.quote(sys.executable)}{SAFE} -m esc merge-file %O %A %B %P"
    merged = merge_without_path(repo)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    shown = Esc(repo).ok("show", ticket, "--json")
    assert '"team": "engineering"' in shown and "Looking into it." in shown


def test_an_interpreter_path_with_spaces_is_quoted(tmp_path: Path) -> None:
    """esc installed in a venv whose path has a space: the driver still runs it."""
    venv = tmp_path / "my tools" / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
        capture_output=True,
    )  # fmt: skip
    # the new venv sees the packages of the one running the tests (esc and its dependencies)
    (next(venv.glob("lib/python*/site-packages")) / "tests-esc.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages())
    )
    python = str(venv / "bin" / "python")
    repo, ticket = diverged_clone(tmp_path, python)
    driver = git(repo, "config", "merge.esc.driver").strip()
    assert driver == f"'{python}'{SAFE} -m esc merge-file %O %A %B %P"
    merged = merge_without_path(repo)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "Looking into it." in Esc(repo).ok("show", ticket)


def test_init_in_a_git_work_tree_registers_the_same_driver(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    out = Esc(repo, now=None).ok("init")
    assert "merge driver" in out
    assert git(repo, "config", "merge.esc.driver").strip() == (
        f"{shlex.quote(sys.executable)}{SAFE} -m esc merge-file %O %A %B %P"
    )


def test_init_reads_what_it_adds_to_before_it_writes_anything(tmp_path: Path) -> None:
    """A .gitattributes esc cannot read stops `esc init` before it writes a file (exit 1:
    nothing was changed), so that the same command works once the file is fixed."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".gitattributes").write_bytes(b"# caf\xe9\n")
    result = Esc(tmp_path, now=None)("init", "ws")
    assert (result.code, result.out) == (1, "")
    assert result.err == ".gitattributes:1: not UTF-8 text: invalid continuation byte\n"
    assert sorted(p.name for p in root.iterdir()) == [".gitattributes"]
    (root / ".gitattributes").write_bytes(b"# cafe\n")
    Esc(tmp_path, now=None).ok("init", "ws")
    assert (root / ".gitattributes").read_text(encoding="utf-8").startswith("# cafe\n")
    assert (root / "teams.yaml").is_file()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda root: (root / "tickets").touch(),
         "esc: ws/tickets is a file where esc keeps a folder; move it away\n"),
        (lambda root: (root / ".esc-cache").touch(),
         "esc: ws/.esc-cache is a file where esc keeps a folder; move it away\n"),
        (lambda root: (root / "rules.yaml").mkdir(),
         "esc: rules.yaml already exists in ws; use --force to overwrite\n"),
        (lambda root: (root / "teams.yaml").symlink_to(root / "missing"),
         "esc: teams.yaml already exists in ws; use --force to overwrite\n"),
    ],
)
def test_init_refuses_what_it_cannot_write_over_before_writing_anything(
    tmp_path: Path, make: Callable[[Path], object], said: str
) -> None:
    """`tickets` a file: teams.yaml and rules.yaml were written, then init said exit 1, and
    a second init refused them as existing (audit helper-406); a link to nowhere was
    replaced by a file.  One line, exit 1, nothing written."""
    root = tmp_path / "ws"
    root.mkdir()
    make(root)
    before = sorted(p.name for p in root.iterdir())
    result = Esc(tmp_path, now=None)("init", "ws")
    assert (result.code, result.err) == (1, said)
    assert sorted(p.name for p in root.iterdir()) == before
    if (root / "rules.yaml").is_dir():  # (--force writes over files, never a folder)
        forced = Esc(tmp_path, now=None)("init", "ws", "--force")
        assert forced.code == 1 and "ws/rules.yaml is a folder where esc writes a file" in (
            forced.err
        )
        assert sorted(p.name for p in root.iterdir()) == before


@pytest.mark.parametrize("name", [".gitignore", ".gitattributes"])
def test_init_refuses_a_fifo_it_would_add_to_in_one_line(tmp_path: Path, name: str) -> None:
    """`esc init DIR` read DIR/.gitignore whatever it was: a FIFO hung it for ever (issue
    20's audit). One line, exit 1, nothing written."""
    folder = tmp_path / "desk"
    folder.mkdir()
    os.mkfifo(folder / name)
    result = Esc(tmp_path)("init", str(folder))
    assert result.code == 1
    said = f"esc: cannot read {folder / name}: a FIFO (named pipe), not a regular file\n"
    assert result.err == said
    assert sorted(p.name for p in folder.iterdir()) == [name]
