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


# ---------------------------------------------------------------- values that reach git


def pushing_clone(tmp_path: Path) -> Path:
    """A workspace cloned from a bare remote, with a ticket whose sweep changes it."""
    seed = tmp_path / "seed"
    subprocess.run([ESC, "init", str(seed)], check=True, capture_output=True)
    git(seed, "init", "-q", "-b", "main")
    Esc(seed).ok("create", "--title", "Invoice missing", "--category", "billing")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "workspace")
    git(tmp_path, "clone", "-q", "--bare", str(seed), "remote.git")
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), "clone")
    return tmp_path / "clone"


def test_remote_and_branch_never_reach_git_as_options(tmp_path: Path) -> None:
    """`--remote '--upload-pack=touch FILE;git-upload-pack'` once ran the command."""
    clone = pushing_clone(tmp_path)
    esc = Esc(clone)
    head = git(clone, "rev-parse", "HEAD")
    marker = tmp_path / "pwned"
    hostile = f"--upload-pack=touch {marker};git-upload-pack"
    for option in ("--remote", "--branch"):
        result = esc("sweep", "--push", option, hostile, "--no-report")
        assert result.code == 2, result.err
        assert result.err.startswith(f"esc: {option} "), result.err
        assert len(result.err.splitlines()) == 1
        assert not marker.exists()
    for option, value in (("--branch", "a..b"), ("--branch", "x y"), ("--remote", ""),
                          ("--branch", "HEAD")):  # (`refs/heads/HEAD` made: helper-429)
        result = esc("sweep", "--push", option, value, "--no-report")
        assert result.code == 2, (option, value, result.err)
    assert git(clone, "rev-parse", "HEAD") == head  # nothing was committed or swept
    assert git(clone, "status", "--porcelain") == ""
    # a good name still pushes
    esc.ok("sweep", "--push", "--remote", "origin", "--branch", "main", "--no-report")
    assert git(tmp_path / "remote.git", "rev-parse", "main") == git(clone, "rev-parse", "HEAD")


def test_a_branch_the_remote_lacks_is_one_line_naming_it_until_started(
    tmp_path: Path,
) -> None:
    """`--branch hotfix`, which the remote lacks, is refused with one line naming it and
    nothing written (a mistyped name would start a new branch on every push); once the
    branch is pushed by hand, the sweep's push counts its one commit, not the history."""
    clone = pushing_clone(tmp_path)
    git(clone, "config", "user.name", "esc sweep")
    git(clone, "config", "user.email", "esc-sweep@example.com")
    head = git(clone, "rev-parse", "HEAD")
    refused = Esc(clone)("sweep", "--push", "--branch", "hotfix", "--no-report")
    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith("esc: no branch 'hotfix' on origin (it has main); ")
    assert len(refused.err.splitlines()) == 1
    assert git(clone, "rev-parse", "HEAD") == head and git(clone, "status", "--porcelain") == ""
    git(clone, "push", "-q", "origin", "HEAD:refs/heads/hotfix")
    git(clone, "checkout", "-q", "-b", "hotfix", "--track", "origin/hotfix")
    out = Esc(clone).ok("sweep", "--push", "--branch", "hotfix", "--no-report")
    assert "pushed 1 commit to origin/hotfix" in out, out
    remote = tmp_path / "remote.git"
    assert git(remote, "rev-parse", "hotfix") == git(clone, "rev-parse", "HEAD")
    # the same for the clone's own branch, when no --branch names one: not started there
    git(clone, "checkout", "-q", "-b", "other")
    head = git(clone, "rev-parse", "HEAD")
    refused = Esc(clone)("sweep", "--push", "--no-report", now="2026-11-27T16:00:00+01:00")
    assert refused.code == 1 and refused.out == ""
    assert refused.err.startswith("esc: no branch 'other' on origin (it has hotfix, main); ")
    assert git(clone, "rev-parse", "HEAD") == head and git(clone, "status", "--porcelain") == ""
    assert "other" not in git(remote, "branch")


def test_pushed_counts_what_the_remote_got_not_what_the_tracking_ref_says(
    tmp_path: Path,
) -> None:
    """`git remote remove origin && git remote add origin …` drops the remote-tracking
    refs: the count was of every commit no remote ref had (the whole history); it is what
    the push sent, as git says it (old..new)."""
    clone = pushing_clone(tmp_path)
    git(clone, "config", "user.name", "esc sweep")
    git(clone, "config", "user.email", "esc-sweep@example.com")
    git(clone, "remote", "remove", "origin")
    git(clone, "remote", "add", "origin", str(tmp_path / "remote.git"))
    out = Esc(clone).ok("sweep", "--push", "--branch", "main", "--no-report")
    assert "pushed 1 commit to origin/main" in out, out
    remote = tmp_path / "remote.git"
    assert git(remote, "rev-list", "--count", "main") == "2\n"


def test_a_push_the_remote_declines_says_the_remote_s_own_words(tmp_path: Path) -> None:
    clone = pushing_clone(tmp_path)
    git(clone, "config", "user.name", "esc sweep")
    git(clone, "config", "user.email", "esc-sweep@example.com")
    hook = tmp_path / "remote.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'denied by policy: main is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = Esc(clone)("sweep", "--push", "--no-report")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "esc: git push to origin/main failed: [remote rejected] (pre-receive hook declined); "
        "the remote said: denied by policy: main is frozen; the commits wait in this clone "
        "for the next --push sweep"
    )


def test_a_rebase_that_fails_on_no_conflict_says_git_s_reason(tmp_path: Path) -> None:
    """A cron clone whose git signs commits (`commit.gpgsign`, as a developer's
    ~/.gitconfig may) with a gpg that cannot ask for a passphrase: every rebase that
    replayed intake's commit failed, said to be "a true conflict" in no file, for ever."""
    clone = pushing_clone(tmp_path)
    for repo, who in ((clone, "esc sweep"),):
        git(repo, "config", "user.name", who)
        git(repo, "config", "user.email", "esc-sweep@example.com")
    git(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), "alice")
    alice = tmp_path / "alice"
    (alice / "NOTES.md").write_text("on call: alice\n")
    git(alice, "add", "NOTES.md")
    git(alice, "-c", "user.name=alice", "-c", "user.email=a@example.com", "commit", "-qm", "n")
    git(alice, "push", "-q", "origin", "main")
    (clone / "TEAM.md").write_text("the team\n")  # (a commit of the clone's own, unpushed)
    git(clone, "add", "TEAM.md")
    git(clone, "commit", "-qm", "team")
    gpg = tmp_path / "gpg"
    gpg.write_text("#!/bin/sh\necho 'gpg: signing failed: Inappropriate ioctl for device' >&2\n"
                   "exit 2\n")  # fmt: skip
    gpg.chmod(0o755)
    git(clone, "config", "commit.gpgsign", "true")
    git(clone, "config", "gpg.program", str(gpg))
    result = Esc(clone)("sweep", "--push", "--no-report")
    assert result.code == 1
    last = result.err.splitlines()[-1]
    # (its own commit signed as the clone signs, since audit helper-429: it fails first)
    assert last.startswith(("esc: could not rebase onto origin/main: git rebase failed: ",
                            "esc: git commit-tree failed: ")), last  # fmt: skip
    assert "true conflict" not in result.err and "gpg" in last, result.err
    status = git(clone, "status", "--porcelain").splitlines()
    if "commit-tree" in last:  # (the tickets it wrote wait, journalled, for the next sweep)
        assert all(line.startswith(" M tickets/") for line in status), status
    else:
        assert status == []  # (the rebase undone)


def test_a_sweep_stopped_by_a_signal_while_it_commits_leaves_its_marker(tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM to the sweep alone while git commits: Python kills that git
    (SIGKILL), whose `index.lock` stays; the marker must stay too, or the next sweep skips
    cleaning up after it and every commit fails on the lock.  An error is no kill: gone."""
    import pytest

    from esc.store import git as gitting

    git(tmp_path, "init", "-q", "repo")
    root, scratch = tmp_path / "repo", tmp_path / "repo" / ".esc-cache"
    marker = scratch / gitting.SWEEP_GIT
    with pytest.raises(KeyboardInterrupt), gitting.sweeping(root, scratch):
        raise KeyboardInterrupt
    assert marker.exists()
    with pytest.raises(RuntimeError), gitting.sweeping(root, scratch):
        raise RuntimeError("a bug")
    assert not marker.exists()


def test_a_rebase_may_take_longer_the_more_files_its_commits_changed(tmp_path: Path) -> None:
    """A fixed 300 s stopped the rebase of an earlier sweep's 4,000 pending tickets (the
    merge driver runs for each) every time, and the clone stayed stuck mid-rebase; a git
    that runs out of time says which, in one line (not Python's repr of its command)."""
    import pytest

    from esc.store import git as gitting

    git(tmp_path, "init", "-q", "-b", "main", "repo")
    root = tmp_path / "repo"
    ident = ["-c", "user.name=a", "-c", "user.email=a@b"]
    (root / "base.md").write_text("x\n")
    git(root, "add", "-A")
    git(root, *ident, "commit", "-qm", "base")
    git(root, "branch", "remote")
    for n in range(30):
        (root / f"t{n}.md").write_text(f"{n}\n")
    git(root, "add", "-A")
    git(root, *ident, "commit", "-qm", "mine")
    git(root, "fetch", "-q", ".", "remote")
    assert gitting.rebase_timeout(root) == gitting.REBASE_SECONDS + 30 * gitting.MERGE_SECONDS
    with pytest.raises(gitting.GitError, match=r"^git rebase did not finish in 0 seconds$"):
        gitting.run(root, "-c", "core.pager=cat", "rebase", "--quiet", "remote", timeout=0)
