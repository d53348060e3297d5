"""The git commands esc runs: committing exactly the files a sweep changed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from esc.domain.errors import EscError


class GitError(EscError):
    pass


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=120
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def commit_paths(root: Path, paths: Sequence[str], message: str) -> str | None:
    """Commit exactly ``paths`` (relative to ``root``), nothing else staged or dirty.

    Returns the new commit's hash, or None if there was nothing to commit.
    """
    if not paths:
        return None
    _git(root, "rev-parse", "--git-dir")
    _git(root, "add", "--", *paths)
    staged = _git(root, "diff", "--cached", "--name-only", "--", *paths).split()
    if not staged:
        return None
    # `git commit --only PATHS` commits those paths alone, leaving the rest of the index as it was.
    _git(root, "commit", "--quiet", "--only", "-m", message, "--", *paths)
    return _git(root, "rev-parse", "HEAD").strip()


def is_repo(root: Path) -> bool:
    try:
        _git(root, "rev-parse", "--is-inside-work-tree")
    except GitError:
        return False
    return True


def current_branch(root: Path) -> str:
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    if branch == "HEAD":
        raise GitError("not on a branch (detached HEAD); pass --branch")
    return branch


def push(root: Path, remote: str, branch: str) -> bool:
    """Push HEAD to ``remote``/``branch``; False if the remote moved (rejected), never forced."""
    proc = subprocess.run(
        ["git", "push", "--quiet", "--porcelain", remote, f"HEAD:refs/heads/{branch}"],
        cwd=root, capture_output=True, text=True, check=False, timeout=300,
    )
    if proc.returncode == 0:
        return True
    output = proc.stdout + proc.stderr
    if "[rejected]" in output or _remote_moved(root, remote, branch):
        return False  # includes a push that lost a race for the ref lock at the remote
    detail = [line for line in output.strip().splitlines() if line.startswith(("!", "error"))]
    raise GitError(f"git push failed: {detail[0] if detail else proc.returncode}")


def _remote_moved(root: Path, remote: str, branch: str) -> bool:
    """Whether the remote branch now has commits that HEAD does not."""
    try:
        _git(root, "fetch", "--quiet", remote, branch)
    except GitError:
        return False
    proc = subprocess.run(
        ["git", "merge-base", "--is-ancestor", f"{remote}/{branch}", "HEAD"],
        cwd=root, capture_output=True, check=False,
    )
    return proc.returncode == 1


# How a sweep's rebase merges: tickets with esc's driver; rendered reports keep one side
# (the sweep that follows renders them again from the merged tickets).
MERGE_ATTRIBUTES = "tickets/*.md merge=esc\nreports/** merge=esc-derived\n"


def merge_settings(folder: Path) -> list[str]:
    """``git -c`` options that make esc's merge driver work even where it is not installed."""
    attributes = folder / "gitattributes"
    attributes.write_text(MERGE_ATTRIBUTES, encoding="utf-8")
    driver = f'"{sys.executable}" -m esc merge-file %O %A %B'
    return [
        "-c", f"core.attributesFile={attributes}",
        "-c", "merge.esc.name=esc ticket merge",
        "-c", f"merge.esc.driver={driver}",
        "-c", "merge.esc-derived.name=esc derived file (re-rendered after the merge)",
        "-c", "merge.esc-derived.driver=true",
    ]


def catch_up(root: Path, remote: str, branch: str, scratch: Path) -> None:
    """Fetch the remote branch and rebase onto it (ticket files merge with esc's driver)."""
    _git(root, "fetch", "--quiet", remote, branch)
    scratch.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["git", *merge_settings(scratch), "rebase", "--quiet", f"{remote}/{branch}"],
        cwd=root, capture_output=True, text=True, check=False, timeout=300,
    )
    if proc.returncode != 0:
        subprocess.run(["git", "rebase", "--abort"], cwd=root, capture_output=True, check=False)
        raise GitError(
            f"could not rebase onto {remote}/{branch}: a true conflict; resolve it by hand"
        )


def file_history(root: Path, path: Path) -> list[tuple[str, str, str, str]]:
    """(commit, author, ISO date, subject) of every commit that touched ``path``, newest first."""
    try:
        out = _git(root, "log", "--follow", "--format=%H%x1f%an%x1f%aI%x1f%s", "--", str(path))
    except GitError:
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 4:
            rows.append((parts[0], parts[1], parts[2], parts[3]))
    return rows
