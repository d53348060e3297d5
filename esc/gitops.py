"""The git commands esc runs: committing exactly the files a sweep changed."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from esc.errors import EscError


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
