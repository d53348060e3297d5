"""`esc doctor`: every setup problem that makes esc fail in cron, CI or a merge, with its
fix; exit 1 if any, 0 if none."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from esc.commands.doctor import check_python
from esc.store import lock
from tests.conftest import NOW, Esc

SAFE = " -P" if sys.version_info >= (3, 11) else ""  # (launch.SAFE_PATH)

CRON_PATH = "/usr/bin:/bin"
ESC_SCRIPT = Path(sys.executable).parent / "esc"  # the esc installed beside this Python
DRIVER = f"{shlex.quote(sys.executable)}{SAFE} -m esc merge-file %O %A %B %P"


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def cron_path_with_esc(tmp_path: Path) -> str:
    """A PATH (as a crontab may set) on which this esc is found."""
    folder = tmp_path / "cron-bin"
    if not folder.exists():
        folder.mkdir()
        (folder / "esc").symlink_to(ESC_SCRIPT)
    return f"{folder}:{CRON_PATH}"


def healthy_clone(tmp_path: Path) -> Path:
    """A clone of a bare remote, with the driver installed and a git identity."""
    seed = tmp_path / "seed"
    Esc(tmp_path, now=None).ok("init", "seed")
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "helpdesk")
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(tmp_path / "remote.git"))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(clone))
    Esc(clone).ok("install-git")
    git(clone, "config", "user.name", "esc sweep")
    git(clone, "config", "user.email", "esc-sweep@example.com")
    return clone


def doctor(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = Esc(root)("doctor", "--json", *args)
    return result.code, json.loads(result.out)


def problems(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["check"]: (c["detail"], c["fix"]) for c in report["checks"] if not c["ok"]}


def test_a_healthy_clone_has_no_problems(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    result = Esc(clone)("doctor", "--cron-path", cron_path_with_esc(tmp_path))
    assert result.code == 0, result.out
    assert result.out.endswith("no problems\n")
    assert "problem " not in result.out
    assert f"ok       merge driver for tickets: {DRIVER}\n" in result.out
    assert "ok       git identity: esc sweep <esc-sweep@example.com>\n" in result.out
    # it changes nothing, and leaves no file of its write test behind
    assert git(clone, "status", "--porcelain") == ""
    assert not list(clone.rglob("*write-test*"))


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("*.md merge=union", "merge two values of one field into a ticket that does not parse"),
        ("*.md binary", "would not merge tickets at all: a ticket both sides changed is a"),
        ("tickets/** -merge", "would not merge tickets at all"),
    ],
)
def test_a_gitattributes_line_that_overrides_esc_s_says_what_git_would_do(
    tmp_path: Path, line: str, said: str
) -> None:
    """`*.md binary` after esc's line was said to merge two values into a ticket that does
    not parse: git merges nothing then, and keeps ours, unmarked."""
    clone = healthy_clone(tmp_path)
    with (clone / ".gitattributes").open("a") as attributes:
        attributes.write(line + "\n")
    detail, _ = problems(doctor(clone)[1])["merge-driver"]
    assert said in detail, detail


def test_attachments_no_ticket_has_are_a_note(tmp_path: Path) -> None:
    """An intake killed between saving a new ticket's attachments and writing the ticket
    left `attachments/T-…/` for good: nothing named it."""
    clone = healthy_clone(tmp_path)
    ticket = Esc(clone).ok("create", "--title", "t").strip()
    for name in (ticket, "T-gone0001"):
        (clone / "attachments" / name).mkdir(parents=True)
        (clone / "attachments" / name / "log.txt").write_text("x")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 0, report
    [note] = [c for c in report["checks"] if c["check"] == "attachments"]
    assert note["detail"].startswith("attachments/T-gone0001: no ticket has this folder")
    assert note["fix"] == "if nobody needs it: rm -r -- attachments/T-gone0001"


def test_a_repository_with_no_commit_yet_is_a_problem_and_the_push_says_so(
    tmp_path: Path,
) -> None:
    """A fresh repository whose workspace nobody committed: every `sweep --commit --push`
    failed on git's own `ambiguous argument 'HEAD'`, with no summary (--json printed
    nothing), and doctor said "no problems" (audit helper-429)."""
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(tmp_path / "u.git"))
    clone = tmp_path / "u"
    git(tmp_path, "init", "-q", "-b", "main", str(clone))
    git(clone, "remote", "add", "origin", str(tmp_path / "u.git"))
    Esc(tmp_path, now=None).ok("init", str(clone))
    code, report = doctor(clone)
    assert code == 1 and "no commit yet" in problems(report)["branch"][0]
    swept = Esc(clone)("sweep", "--commit", "--push", "--json")
    assert swept.code == 1 and json.loads(swept.out)["now"]  # (the summary, as ever)
    assert swept.err == ("esc: this clone has no commit yet, so nothing can be pushed: commit"
                         " the workspace first (git add -A && git commit)\n")  # fmt: skip


def test_a_branch_the_remote_lacks_or_a_detached_head_is_a_problem(tmp_path: Path) -> None:
    """A clone on a branch the remote does not have (while it has others), or on a detached
    HEAD: the crontab line doctor prints fails on every run (`no branch 'helpdesk' on
    origin`, `not on a branch`), and doctor said "no problems" (audit helper-433)."""
    clone = healthy_clone(tmp_path)
    git(clone, "checkout", "-qb", "helpdesk")
    code, report = doctor(clone)
    assert code == 1
    detail, fix = problems(report)["branch"]
    assert "origin has no branch helpdesk (it has main)" in detail
    assert "git push -u -- origin helpdesk" in fix
    git(clone, "checkout", "-q", "--detach")
    code, report = doctor(clone)
    assert code == 1 and "a detached HEAD" in problems(report)["branch"][0]


def test_the_crontab_line_pushes_to_the_remote_doctor_was_given(tmp_path: Path) -> None:
    """`doctor --remote upstream` checked that remote, then printed a crontab line without
    `--remote`, which pushed to an `origin` the clone does not have (audit helper-433)."""
    clone = healthy_clone(tmp_path)
    git(clone, "remote", "rename", "origin", "upstream")
    _, report = doctor(clone, "--remote", "upstream")
    line = report["crontab"].rstrip()
    assert line.endswith("sweep --commit --push --remote upstream >/dev/null"), line


def test_an_unfinished_rebase_is_a_problem(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    git(clone, "switch", "-qc", "side")
    (clone / "NOTES.md").write_text("side\n")
    git(clone, "add", "NOTES.md")
    git(clone, "commit", "-qm", "side")
    git(clone, "switch", "-q", "main")
    (clone / "NOTES.md").write_text("main\n")
    git(clone, "add", "NOTES.md")
    git(clone, "commit", "-qm", "main")
    stopped = subprocess.run(["git", "rebase", "side"], cwd=clone, capture_output=True)
    assert stopped.returncode != 0  # (a conflict: the rebase waits for a person)
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    assert problems(report) == {
        "git-state": (
            "a rebase is in progress: `esc sweep --commit`/`--push` commits nothing until it"
            " is done",
            "git rebase --continue (once its conflicts are resolved) or git rebase --abort",
        )
    }


def test_commits_the_remote_lacks_are_a_problem_only_when_they_conflict(tmp_path: Path) -> None:
    """Issue 15: a clone whose commits conflict with the remote's fails every `sweep --push`
    (as of the last fetch); commits merely not pushed yet are the next push's."""
    clone = healthy_clone(tmp_path)
    (clone / "NOTES.md").write_text("on call: alice\n")
    git(clone, "add", "NOTES.md")
    git(clone, "commit", "-qm", "notes")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 0 and problems(report) == {}
    (branch,) = [c for c in report["checks"] if c["check"] == "branch"]
    assert branch["detail"] == (
        "main has 1 commit origin/main lacks (as of the last fetch): the next `esc sweep "
        "--push` pushes them"
    )
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(other))
    (other / "NOTES.md").write_text("on call: bob\n")
    git(other, "add", "NOTES.md")
    git(other, "-c", "user.name=bob", "-c", "user.email=bob@example.com", "commit", "-qm", "bob")
    git(other, "push", "-q", "origin", "main")
    git(clone, "fetch", "-q", "origin")
    head = git(clone, "rev-parse", "HEAD")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    assert problems(report) == {
        "branch": (
            "main has 1 commit origin/main lacks, which conflicts with the 1 it has that main "
            "lacks (as of the last fetch), in NOTES.md: each `esc sweep --push` fails to "
            "rebase until that is resolved",
            "git pull --rebase -- origin main, resolve the conflict, and push",
        )
    }
    assert git(clone, "rev-parse", "HEAD") == head and git(clone, "status", "--porcelain") == ""


def test_a_sweep_s_unpushed_commit_in_conflict_is_advice_the_next_sweep_acts_on(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Only sweeps' commits changed the ticket in conflict: the next `sweep --push` takes
    their rewrite back and makes it again on the remote's version, so it is no problem
    (it said "resolve the conflict", exit 1, and the sweep then mended it itself)."""
    from tests.commands.test_sweep import unpushed_escalation_then_a_person_s_upstream

    ticket, _, _ = unpushed_escalation_then_a_person_s_upstream(esc, workspace, tmp_path)
    git(workspace, "fetch", "-q", "origin")
    _, report = doctor(workspace)
    (branch,) = [c for c in report["checks"] if c["check"] == "branch"]
    assert "branch" not in problems(report) and branch["advice"], branch
    assert f"in tickets/{ticket}.md: sweeps' commits, whose own rewrites" in branch["detail"]
    assert esc("sweep", "--commit", "--push", "--no-report",
               now="2026-11-20T13:45:00+01:00").code == 0  # fmt: skip


def test_a_sweep_s_commit_that_holds_more_than_its_rewrite_in_conflict_is_a_problem(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A commit of a sweep's that also holds what no sweep writes (a person's line amended
    into it; a message intake took) is not taken back: every `sweep --push` fails to
    rebase until a person resolves it, so it is a problem, not advice (doctor said the
    next sweep would mend it, by the commits' subjects alone)."""
    from tests.commands.test_sweep import unpushed_escalation_then_a_person_s_upstream

    ticket, _, _ = unpushed_escalation_then_a_person_s_upstream(esc, workspace, tmp_path)
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("\n## ", "\nThe card ends in 4242.\n\n## ", 1))
    git(workspace, "-c", "user.name=ann", "-c", "user.email=ann@example.com",
        "commit", "-q", "-a", "--amend", "--no-edit")  # fmt: skip
    git(workspace, "fetch", "-q", "origin")
    code, report = doctor(workspace)
    assert code == 1 and "branch" in problems(report), report
    said, fix = problems(report)["branch"]
    assert f"in tickets/{ticket}.md: each `esc sweep --push` fails to rebase" in said
    assert fix == "git pull --rebase -- origin main, resolve the conflict, and push"


def test_tickets_both_sides_changed_are_no_conflict_when_esc_merges_them(tmp_path: Path) -> None:
    """As the sweep's rebase merges them: with esc's driver, registered in the clone or not
    (a note added on each side is no conflict; as plain text, it was one)."""
    clone = healthy_clone(tmp_path)
    ticket = Esc(clone).ok("create", "--title", "Checkout fails", "--by", "ann").strip()
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "ticket")
    git(clone, "push", "-q", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(other))
    Esc(other).ok("comment", ticket, "--internal", "-m", "Looking into it", "--by", "bob",
                  now="2026-11-20T10:05:00+01:00")  # fmt: skip
    git(other, "-c", "user.name=bob", "-c", "user.email=bob@example.com", "commit", "-qam", "b")
    git(other, "push", "-q", "origin", "main")
    Esc(clone).ok("comment", ticket, "--internal", "-m", "Me too", "--by", "ann",
                  now="2026-11-20T10:06:00+01:00")  # fmt: skip
    git(clone, "commit", "-qam", "mine")
    git(clone, "config", "--remove-section", "merge.esc")  # (a clone without install-git)
    git(clone, "fetch", "-q", "origin")
    _, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert "branch" not in problems(report), problems(report)
    (branch,) = [c for c in report["checks"] if c["check"] == "branch"]
    assert branch["detail"].startswith("main has 1 commit origin/main lacks (as of the last")


def test_an_index_lock_a_killed_git_left_is_a_problem_with_its_fix(tmp_path: Path) -> None:
    """A killed sweep's rebase left `.git/index.lock` (every later sweep failed on it):
    doctor said "no problems".  Left by a killed git (no git process runs in the clone),
    it is a problem with the command that removes it; while a git process runs there (a
    person's `git commit`, its editor open) it is that process's, and no problem."""
    clone = healthy_clone(tmp_path)
    lock_file = clone / ".git" / "index.lock"
    lock_file.touch()
    (clone / ".esc-cache").mkdir(exist_ok=True)
    (clone / ".esc-cache" / lock.SWEEP_GIT).write_text("4242\n")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    assert problems(report) == {
        "index-lock": (
            f"{lock_file} was left by a git process that was killed (none runs in the clone):"
            " every commit (a sweep's too) and rebase fails until it is removed (a killed"
            " sweep's: the next --commit or --push sweep removes it)",
            f"rm -f -- {lock_file}",
        )
    }
    person = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=clone,
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    finally:
        assert person.stdin is not None
        person.stdin.close()
        person.wait()
    assert code == 0 and problems(report) == {}
    [held] = [c["detail"] for c in report["checks"] if c["check"] == "index-lock"]
    assert held == f"{lock_file} is held by a git process running in the clone"
    assert lock_file.exists()  # (doctor changes nothing)


def test_esc_not_on_crons_path_gets_the_crontab_line_with_absolute_paths(tmp_path: Path) -> None:
    """On cron's own PATH (no esc from a venv or pipx is ever there) it is advice, with the
    crontab line that names esc by its absolute path: a set-up clone has no problems."""
    clone = healthy_clone(tmp_path)
    code, report = doctor(clone)  # cron's own PATH: no esc on it here
    assert code == 0
    assert report["problems"] == 0
    [cron] = [c for c in report["checks"] if c["check"] == "cron"]
    assert cron["ok"] and cron["advice"]
    assert cron["detail"].startswith(f"esc is not on cron's PATH ({CRON_PATH})")
    line = f"*/5 * * * * cd {clone} && {ESC_SCRIPT} sweep --commit --push >/dev/null"
    assert report["esc"] == str(ESC_SCRIPT)
    assert report["crontab"] == line
    assert cron["fix"] == f"name esc by its absolute path in the crontab: {line}"
    text = Esc(clone)("doctor")
    assert text.code == 0
    assert f"note     esc is not on cron's PATH ({CRON_PATH})" in text.out
    assert f"  fix:   name esc by its absolute path in the crontab: {line}\n" in text.out
    assert text.out.endswith(f"crontab line for this clone: {line}\nno problems\n")
    # the PATH a crontab sets (--cron-path) that does not find esc: a problem
    code, report = doctor(clone, "--cron-path", str(tmp_path / "empty-bin"))
    assert code == 1
    assert problems(report)["cron"][0].startswith("esc is not on cron's PATH")


def test_reports_git_tracks_are_a_note_with_how_to_untrack_them(tmp_path: Path) -> None:
    """Tracked, the hourly reports stay modified between the sweeps that commit a ticket,
    and a person's `git pull --rebase` refuses: doctor says so, as a note (exit 0)."""
    clone = healthy_clone(tmp_path)
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 0 and "reports" not in {c["check"] for c in report["checks"]}
    Esc(clone).ok("sweep", "--no-notify")
    git(clone, "add", "-f", "reports")
    git(clone, "commit", "-qm", "track the reports")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 0
    [found] = [c for c in report["checks"] if c["check"] == "reports"]
    assert found["detail"].startswith("git tracks reports/ (3 files): rendered every hour")
    assert found["fix"].startswith("to keep them out of git: git rm -r -q --cached -- reports")


def test_with_a_maildir_the_crontab_line_takes_the_mail_before_it_sweeps(
    tmp_path: Path,
) -> None:
    clone = healthy_clone(tmp_path)
    (clone.parent / "mail dir" / "new").mkdir(parents=True)
    _code, report = doctor(clone, "--maildir", "../mail dir")
    box = shlex.quote(str(clone.parent / "mail dir"))  # (its whole path, `..` resolved)
    assert report["crontab"] == (
        f"*/5 * * * * cd {clone} && {{ {ESC_SCRIPT} intake --maildir {box}; "
        f"{ESC_SCRIPT} sweep --commit --push; }} >/dev/null"
    )
    assert "maildir" not in problems(report)
    # a folder that is no Maildir: every cron run's intake would fail
    code, report = doctor(clone, "--maildir", "../nowhere")
    assert code == 1
    detail, fix = problems(report)["maildir"]
    assert detail.startswith(f"{clone.parent / 'nowhere'} is not a Maildir (no new/ folder)")
    assert fix.startswith("give --maildir the Maildir")


def test_another_esc_on_crons_path_is_a_problem(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    other = tmp_path / "other-bin"
    other.mkdir()
    (other / "esc").write_text("#!/bin/sh\necho 'an unrelated esc'\n")
    (other / "esc").chmod(0o755)
    _, report = doctor(clone, "--cron-path", str(other))
    detail, _ = problems(report)["cron"]
    assert detail == (
        f"cron's PATH ({other}) finds {other / 'esc'}, which is not this esc ({ESC_SCRIPT})"
    )


def test_a_clone_without_the_driver(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    git(clone, "config", "--remove-section", "merge.esc")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    detail, fix = problems(report)["merge-driver"]
    assert detail.startswith("this clone has no merge driver for tickets")
    assert fix == f"esc install-git (registers {DRIVER})"
    Esc(clone).ok("install-git")  # the fix works
    assert doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))[0] == 0


def test_a_clone_an_older_esc_set_up_is_advised_to_merge_common_ancestors_whole(
    tmp_path: Path,
) -> None:
    """A clone whose driver an older esc registered has no `merge.esc.recursive`: a
    criss-cross merge there leaves conflict markers in notes both sides only added
    (tests/commands/test_merge.py).  Advice (exit 0), with the fix that sets it."""
    clone = healthy_clone(tmp_path)
    git(clone, "config", "--unset", "merge.esc.recursive")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 0
    (found,) = [c for c in report["checks"] if c["check"] == "merge-driver"]
    assert found["ok"] and found["advice"]  # (advice: no problem)
    assert found["detail"].startswith(f"merge driver for tickets: {DRIVER}; but ")
    assert "merge.esc.recursive is not set: a criss-cross merge" in found["detail"]
    assert found["fix"] == f"esc install-git (registers {DRIVER})"
    Esc(clone).ok("install-git")  # the fix works
    _, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    (found,) = [c for c in report["checks"] if c["check"] == "merge-driver"]
    assert (found["ok"], found["advice"], found["fix"]) == (True, False, None)


def test_gitattributes_not_sending_tickets_to_esc(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    (clone / ".gitattributes").write_text("*.png binary\n")
    _, report = doctor(clone)
    detail, fix = problems(report)["merge-driver"]
    assert detail.startswith(".gitattributes does not send `tickets/*.md` to esc's merge driver")
    assert fix == "esc install-git, then commit .gitattributes"


def test_a_driver_that_needs_path_or_a_python_that_is_gone(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    git(clone, "config", "merge.esc.driver", "esc merge-file %O %A %B")  # as esc 0.1 did
    detail, fix = problems(doctor(clone)[1])["merge-driver"]
    assert detail == (
        "the merge driver (`esc merge-file %O %A %B`) finds `esc` through PATH: where esc is "
        "not on PATH (cron, CI, an IDE) a merge fails with `esc: not found`"
    )
    assert fix == f"esc install-git (registers {DRIVER})"
    gone = tmp_path / "old venv" / "bin" / "python"
    git(clone, "config", "merge.esc.driver", f"'{gone}' -m esc merge-file %O %A %B %P")
    detail, _ = problems(doctor(clone)[1])["merge-driver"]
    assert detail.endswith(f"runs {gone}, which no longer exists")
    # a Python that exists but has no esc
    broken = tmp_path / "no-esc"
    broken.write_text("#!/bin/sh\necho 'No module named esc' >&2\nexit 1\n")
    broken.chmod(0o755)
    git(clone, "config", "merge.esc.driver", f"{broken} -m esc merge-file %O %A %B %P")
    detail, _ = problems(doctor(clone)[1])["merge-driver"]
    assert detail.endswith(f"fails: `{broken} -m esc --version` exits 1: No module named esc")
    # one that finds esc only through this shell's PYTHONPATH (cron and git have none)
    shell_only = tmp_path / "shell-only"
    shell_only.write_text(f'#!/bin/sh\n[ -n "$PYTHONPATH" ] && exec {sys.executable} "$@"\n'
                          "echo 'No module named esc' >&2\nexit 1\n")  # fmt: skip
    shell_only.chmod(0o755)
    git(clone, "config", "merge.esc.driver", f"{shell_only} -m esc merge-file %O %A %B %P")
    found = Esc(clone)("doctor", "--json", env={"PYTHONPATH": str(tmp_path)})
    detail, _ = problems(json.loads(found.out))["merge-driver"]
    assert detail.endswith("exits 1: No module named esc")
    git(clone, "config", "merge.esc.driver", "cat %A")
    detail, _ = problems(doctor(clone)[1])["merge-driver"]
    assert detail == "merge.esc.driver is `cat %A`, not esc's merge-file"
    # one that lacks %B: every merge failed, git kept ours unmarked, doctor said ok
    git(clone, "config", "merge.esc.driver", f"{sys.executable} -P -m esc merge-file %O %A")
    detail, _ = problems(doctor(clone)[1])["merge-driver"]
    assert "esc's merge-file takes %O %A %B (the base, ours and theirs" in detail


def test_no_git_identity_in_config(tmp_path: Path) -> None:
    """The tests' GIT_AUTHOR_* variables do not count: cron and CI do not have them."""
    clone = healthy_clone(tmp_path)
    git(clone, "config", "--unset", "user.email")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    detail, fix = problems(report)["identity"]
    assert detail == (
        "no git identity: user.email not set in git config, so `esc sweep --commit` cannot commit"
    )
    assert fix.startswith('git config user.name "esc sweep" && git config user.email ')


def test_commits_signed_with_no_key_that_can_sign(tmp_path: Path) -> None:
    """`commit.gpgsign` set (a developer's ~/.gitconfig) and a signing program that fails
    where cron runs: every committing sweep failed, doctor said "no problems", and the
    sweep's error was git's own line (audit helper-445).  Tried on a commit the repository
    never gets."""
    clone = healthy_clone(tmp_path)
    gpg = tmp_path / "gpg"
    gpg.write_text("#!/bin/sh\necho 'gpg: signing failed: No secret key' >&2\nexit 2\n")
    gpg.chmod(0o755)
    git(clone, "config", "commit.gpgsign", "true")
    git(clone, "config", "gpg.program", str(gpg))
    objects = git(clone, "count-objects", "-v")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    detail, fix = problems(report)["signing"]
    assert detail.startswith("commits are signed here (commit.gpgsign) and signing failed (")
    assert "gpg failed to sign the data" in detail, detail
    assert fix == "give cron a key it can use, or `git config commit.gpgsign false` in this clone"
    assert git(clone, "count-objects", "-v") == objects  # (nothing stored by the try)
    ticket = Esc(clone).ok("create", "--title", "t", "--body", "b").strip()
    git(clone, "add", "-A")
    git(clone, "-c", "commit.gpgsign=false", "commit", "-qm", ticket)
    (clone / "tickets" / f"{ticket}.md").write_text(
        (clone / "tickets" / f"{ticket}.md").read_text().replace("title: t", "title: u")
    )
    git(clone, "-c", "commit.gpgsign=false", "commit", "-qam", "u")
    swept = Esc(clone)("sweep", "--commit", "--no-report", now="2026-12-31T12:00:00+01:00")
    assert swept.code == 1 and "(commits are signed here: give cron a key" in swept.err
    git(clone, "config", "commit.gpgsign", "false")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 0 and "signing" not in problems(report)


def test_no_remote_for_push(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    _, report = doctor(clone, "--remote", "upstream")
    detail, fix = problems(report)["remote"]
    assert detail == (
        "no git remote `upstream`: `esc sweep --push` has nowhere to push "
        "(this clone has origin: give sweep --remote)"
    )
    assert fix == "git remote add upstream URL"
    git(clone, "remote", "remove", "origin")
    detail, _ = problems(doctor(clone)[1])["remote"]
    assert detail == "no git remote `origin`: `esc sweep --push` has nowhere to push"
    # a path as --remote is read as the sweep reads it, not told to `git remote add` it
    gone = str(tmp_path / "nowhere.git")
    detail, fix = problems(doctor(clone, "--remote", gone)[1])["remote"]
    assert detail.startswith(f"`{gone}` cannot be read: ") and "git remote add" not in fix


def test_a_remote_that_cannot_be_read_is_a_problem(tmp_path: Path) -> None:
    """A remote the cron user cannot reach is found before the first sweep fails on it."""
    clone = healthy_clone(tmp_path)
    assert "ok       git remote `origin` for `esc sweep --push`, reached\n" in (
        Esc(clone).ok("doctor", "--cron-path", cron_path_with_esc(tmp_path))
    )
    git(clone, "remote", "set-url", "origin", str(tmp_path / "moved.git"))
    code, report = doctor(clone)
    assert code == 1
    detail, fix = problems(report)["remote"]
    assert detail == (
        f"git remote `origin` cannot be read: '{tmp_path / 'moved.git'}' does not appear to be "
        "a git repository"
    )
    assert fix.startswith("check its URL (git remote get-url -- origin) and that this user")


def test_outside_git_it_says_so_once(tmp_path: Path) -> None:
    Esc(tmp_path, now=None).ok("init", "ws")
    code, report = doctor(tmp_path / "ws")
    assert code == 1
    found = problems(report)
    assert set(found) == {"git"}
    assert found["git"][1] == "git init (or clone your helpdesk repository), then esc install-git"


def test_a_lock_held_for_hours_is_a_hung_process(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    cache = clone / ".esc-cache"
    now = dt.datetime.fromisoformat(NOW)
    with lock.hold(cache, 0, "esc sweep"):
        taken = (now - dt.timedelta(minutes=5)).timestamp()
        os.utime(cache / "sweep.lock", (taken, taken))
        report = doctor(clone)[1]
        assert "lock" not in problems(report)  # a sweep running now
        assert [c["detail"] for c in report["checks"] if c["check"] == "lock"] == [
            "1 lock(s) held by running esc commands, none for long"
        ]
        taken = (now - dt.timedelta(hours=2, minutes=10)).timestamp()
        os.utime(cache / "sweep.lock", (taken, taken))
        detail, fix = problems(doctor(clone)[1])["lock"]
    host = socket.gethostname()
    assert detail.startswith(
        f".esc-cache/sweep.lock has been held for 2h10m by esc sweep pid {os.getpid()} on {host}"
    )
    assert fix == (
        f"if that process hangs, stop it (kill {os.getpid()} on {host}); its lock goes with it"
    )
    assert "lock" not in problems(doctor(clone)[1])  # let go: no problem, whatever its age


def test_a_sweep_batch_holding_every_writer_for_hours_is_named(tmp_path: Path) -> None:
    """The writes lock, held exclusively by a sweep putting its batch in place, makes every
    command that writes a ticket wait: held for hours, doctor names it and its holder."""
    clone = healthy_clone(tmp_path)
    cache = clone / ".esc-cache"
    now = dt.datetime.fromisoformat(NOW)
    with lock.hold_writes(cache, 0, "esc sweep"):
        taken = (now - dt.timedelta(minutes=1)).timestamp()
        os.utime(cache / "writes.lock", (taken, taken))
        assert "lock" not in problems(doctor(clone)[1])  # a batch being written now
        taken = (now - dt.timedelta(hours=3)).timestamp()
        os.utime(cache / "writes.lock", (taken, taken))
        detail, fix = problems(doctor(clone)[1])["lock"]
    host = socket.gethostname()
    assert detail.startswith(
        f".esc-cache/writes.lock has been held for 3h by esc sweep pid {os.getpid()} on {host}"
    )
    assert fix.startswith(f"if that process hangs, stop it (kill {os.getpid()} on {host})")
    assert "lock" not in problems(doctor(clone)[1])  # let go


def test_a_process_sending_notifications_for_hours_is_named(tmp_path: Path) -> None:
    """The outbox lock (one process sends notifications at a time): held for hours by a
    hung sender, every later sweep leaves its messages queued; doctor names it."""
    clone = healthy_clone(tmp_path)
    cache = clone / ".esc-cache"
    cache.mkdir(exist_ok=True)
    now = dt.datetime.fromisoformat(NOW)
    with lock.hold_if_free(cache / "outbox.lock", 0, "esc sweep") as holder:
        assert holder is None
        taken = (now - dt.timedelta(hours=3)).timestamp()
        os.utime(cache / "outbox.lock", (taken, taken))
        detail, _ = problems(doctor(clone)[1])["lock"]
    assert detail.startswith(".esc-cache/outbox.lock has been held for 3h by esc sweep pid ")
    assert "lock" not in problems(doctor(clone)[1])  # let go


def test_caches_that_cannot_be_written(tmp_path: Path) -> None:
    clone = healthy_clone(tmp_path)
    cache = clone / ".esc-cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.write_text("not a folder\n")
    blocked = tmp_path / "xdg"
    blocked.write_text("a file where the user cache should be\n")
    result = Esc(clone)("doctor", "--json", env={"XDG_CACHE_HOME": str(blocked)})
    found = problems(json.loads(result.out))
    assert found["cache"][0].startswith(f".esc-cache/ cannot be written ({cache} is not a folder)")
    assert found["user-cache"][0].startswith(
        f"esc's user cache {blocked / 'esc'} cannot be written ({blocked} is not a folder)"
    )
    assert found["user-cache"][1] == "make it writable, or set XDG_CACHE_HOME to a folder that is"


def test_python_version() -> None:
    assert check_python((3, 12, 1), "/usr/bin/python3").ok
    old = check_python((3, 9, 18), "/usr/bin/python3.9")
    assert old.detail == "Python 3.9.18 (/usr/bin/python3.9) is older than esc needs (3.10)"
    assert old.fix is not None and "3.10 or newer" in old.fix


def test_an_option_looking_remote_is_refused(tmp_path: Path) -> None:
    """`--remote=--upload-pack=…` reaches no git command: a usage error, as for sweep."""
    root = tmp_path / "ws"
    Esc(tmp_path, now=None).ok("init", str(root))
    result = Esc(root)("doctor", "--remote=--upload-pack=touch")
    assert (result.code, result.err) == (
        2, "esc: --remote '--upload-pack=touch' is not a remote's name or URL\n"
    )


def test_a_notify_target_cron_cannot_use_and_a_broken_config_are_problems(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A target whose variable cron's environment lacks (every message to it fails, while
    `esc validate` said so), or a rules.yaml that does not load (cron's sweep stops): doctor
    listed only git's problems."""
    clone = healthy_clone(tmp_path)
    rules = clone / "rules.yaml"
    good = rules.read_text(encoding="utf-8")
    rules.write_text(good + 'notify:\n  targets:\n    chat: "json://127.0.0.1:${HOOK_PORT}/x"\n',
                     encoding="utf-8")  # fmt: skip
    monkeypatch.delenv("HOOK_PORT", raising=False)
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    detail, fix = problems(report)["notify"]
    assert detail.startswith("rules.yaml:") and "HOOK_PORT is not set" in detail
    assert "crontab" in fix
    rules.write_text(good + "default_priority: [\n", encoding="utf-8")
    code, report = doctor(clone, "--cron-path", cron_path_with_esc(tmp_path))
    assert code == 1
    detail, fix = problems(report)["config"]
    assert detail.startswith("rules.yaml:") and "esc validate" in fix
