"""Every git command esc runs goes through :func:`run`: committing what a sweep changed,
pushing and catching up, a ticket's history (esc's merge driver is
:mod:`esc.store.merge_driver`).

No value from a user or a file reaches git as an option: names come after ``--``, refs
are spelled out in full (``refs/remotes/...``), and ``sweep --push``'s remote and branch
are checked first (:func:`check_remote`, :func:`check_branch`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from esc.domain.errors import BadInput, EscError
from esc.store import launch


class GitError(EscError):
    pass


def check_remote(name: str) -> str:
    """``name`` if it can be a remote's name or URL (never an option); else BadInput."""
    if not name or name.startswith("-") or not name.isprintable() or name != name.strip():
        raise BadInput(f"--remote {name!r} is not a remote's name or URL")
    return name


# What `git check-ref-format --branch` refuses, and a leading "-" (an option to git).
_BAD_REF = re.compile(r"^-|^/|/$|//|\.\.|@\{|\.lock$|\.$|/\.|^\.|[\x00-\x20\x7f~^:?*\[\\]")


def check_branch(name: str) -> str:
    """``name`` if it is a valid branch name (git's rules); else BadInput."""
    if not name or name == "@" or _BAD_REF.search(name) or not name.isprintable():
        raise BadInput(f"--branch {name!r} is not a valid branch name")
    return name


def run(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` in ``cwd``, whatever its exit code; GitError if git cannot be run."""
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, check=False, timeout=timeout
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from None


def output(cwd: Path, *args: str, timeout: float = 120) -> str:
    """What ``git ARGS`` prints; GitError with git's last line if it fails."""
    proc = run(cwd, *args, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        detail = (err or out).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {detail[-1] if detail else proc.returncode}")
    return out


def commit_paths(root: Path, paths: Sequence[str], message: str) -> str | None:
    """Commit exactly ``paths`` (relative to ``root``), nothing else staged or dirty.

    Returns the new commit's hash, or None if there was nothing to commit.
    """
    if not paths:
        return None
    output(root, "rev-parse", "--git-dir")
    output(root, "add", "--", *paths)
    staged = output(root, "diff", "--cached", "--name-only", "--", *paths).split()
    if not staged:
        return None
    # `git commit --only PATHS` commits those paths alone, leaving the rest of the index as it was.
    output(root, "commit", "--quiet", "--only", "-m", message, "--", *paths)
    return output(root, "rev-parse", "HEAD").strip()


def current_branch(root: Path) -> str:
    branch = output(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    if branch == "HEAD":
        raise GitError("not on a branch (detached HEAD); pass --branch")
    return branch


def push(root: Path, remote: str, branch: str) -> bool:
    """Push HEAD to ``remote``/``branch``; False if the remote moved (rejected), never forced."""
    proc = run(
        root, "push", "--quiet", "--porcelain", "--", remote, f"HEAD:refs/heads/{branch}",
        timeout=300,
    )  # fmt: skip
    if proc.returncode == 0:
        return True
    text = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    if "[rejected]" in text or _remote_moved(root, remote, branch):
        return False  # includes a push that lost a race for the ref lock at the remote
    detail = [line for line in text.strip().splitlines() if line.startswith(("!", "error"))]
    raise GitError(f"git push failed: {detail[0] if detail else proc.returncode}")


def _remote_moved(root: Path, remote: str, branch: str) -> bool:
    """Whether the remote branch now has commits that HEAD does not."""
    try:
        output(root, "fetch", "--quiet", "--", remote, branch)
    except GitError:
        return False
    proc = run(root, "merge-base", "--is-ancestor", f"refs/remotes/{remote}/{branch}", "HEAD")
    return proc.returncode == 1


# How a sweep's rebase merges: tickets with esc's driver; rendered reports keep one side
# (the sweep that follows renders them again from the merged tickets).
MERGE_ATTRIBUTES = "tickets/*.md merge=esc\nreports/** merge=esc-derived\n"


def merge_settings(folder: Path) -> list[str]:
    """``git -c`` options that make esc's merge driver work even where it is not installed."""
    attributes = folder / "gitattributes"
    attributes.write_text(MERGE_ATTRIBUTES, encoding="utf-8")
    driver = launch.merge_driver_command()
    return [
        "-c", f"core.attributesFile={attributes}",
        "-c", "merge.esc.name=esc ticket merge",
        "-c", f"merge.esc.driver={driver}",
        "-c", "merge.esc-derived.name=esc derived file (re-rendered after the merge)",
        "-c", "merge.esc-derived.driver=true",
    ]


def catch_up(root: Path, remote: str, branch: str, scratch: Path) -> None:
    """Fetch the remote branch and rebase onto it (ticket files merge with esc's driver)."""
    output(root, "fetch", "--quiet", "--", remote, branch)
    scratch.mkdir(parents=True, exist_ok=True)
    proc = run(
        root, *merge_settings(scratch), "rebase", "--quiet", f"refs/remotes/{remote}/{branch}",
        timeout=300,
    )  # fmt: skip
    if proc.returncode != 0:
        run(root, "rebase", "--abort")
        raise GitError(
            f"could not rebase onto {remote}/{branch}: a true conflict; resolve it by hand"
        )


def file_history(root: Path, path: Path) -> list[tuple[str, str, str, str]]:
    """(commit, author, ISO date, subject) of every commit that touched ``path``, newest first."""
    try:
        out = output(root, "log", "--follow", "--format=%H%x1f%an%x1f%aI%x1f%s", "--", str(path))
    except GitError:
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 4:
            rows.append((parts[0], parts[1], parts[2], parts[3]))
    return rows


def inside_git_work_tree(folder: Path) -> bool:
    """True if ``folder`` is inside a git work tree (and git can be run)."""
    try:
        proc = run(folder, "rev-parse", "--is-inside-work-tree")
    except GitError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == b"true"
