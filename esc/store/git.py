"""Every git command esc runs goes through :func:`run`: committing what a sweep changed,
pushing and catching up, a ticket's history (esc's merge driver is
:mod:`esc.store.merge_driver`).

No value from a user or a file reaches git as an option: names come after ``--``, and
refs are spelled out in full (``refs/remotes/...``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from esc.domain.errors import BadInput, EscError


class GitError(EscError):
    pass


def run(
    cwd: Path, *args: str, timeout: float = 120, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` in ``cwd`` (fed ``input``), whatever its exit code; GitError if git
    cannot be run."""
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, check=False,
            timeout=timeout,
        )  # fmt: skip
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


# ---------------------------------------------------------------- a base to compare with
# (`esc plan --base REF`, `esc check --changed-since REF`)


def base_commit(root: Path, ref: str, option: str) -> tuple[str, str | None]:
    """The commit to compare the work tree with: where HEAD forked from ``ref`` (their
    merge base), or ``ref`` itself when they share no history here; and a note then.

    ``ref`` is checked first, so that it can never be taken as an option: BadInput
    (exit 2) for one that starts with '-' or that names no commit.
    """
    if not inside_git_work_tree(root):
        raise GitError(f"{option} needs a git repository: {root} is not in a git work tree")
    if not ref or ref.startswith("-") or "\0" in ref:
        raise BadInput(f"{option}: {ref!r} is not a git ref")
    proc = run(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    commit = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not commit:
        raise BadInput(f"{option}: unknown git ref {ref!r} (no such branch, tag or commit here)")
    fork = run(root, "merge-base", commit, "HEAD")
    forked = fork.stdout.decode("utf-8", "replace").strip()
    if fork.returncode == 0 and forked:
        return forked, None
    return commit, f"{ref} and HEAD share no history here; compared with {ref} itself"


def files_at(root: Path, commit: str, paths: Sequence[str]) -> dict[str, bytes]:
    """The content of the files under ``paths`` (relative to ``root``) in ``commit``, by
    path relative to ``root``; read with one ``ls-tree`` and one ``cat-file --batch``."""
    listing = run(root, "ls-tree", "-r", "-z", commit, "--", *paths)
    if listing.returncode != 0:
        raise GitError(f"git ls-tree failed: {_last_line(listing)}")
    blobs: list[tuple[str, str]] = []
    for item in listing.stdout.split(b"\0"):
        meta, _, raw = item.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            blobs.append((raw.decode("utf-8", "surrogateescape"), parts[2].decode()))
    if not blobs:
        return {}
    request = "".join(f"{sha}\n" for _, sha in blobs).encode()
    batch = run(root, "cat-file", "--batch", input=request)
    if batch.returncode != 0:
        raise GitError(f"git cat-file failed: {_last_line(batch)}")
    found: dict[str, bytes] = {}
    data, at = batch.stdout, 0
    for name, _ in blobs:
        header_end = data.index(b"\n", at)
        size = int(data[at:header_end].split()[2])
        found[name] = data[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1  # (each object ends with a newline)
    return found


def changed_since(root: Path, commit: str, folder: str) -> list[str]:
    """Paths under ``folder`` (relative to ``root``) whose content in the work tree differs
    from ``commit``'s, and new files git does not ignore; sorted."""
    diff = run(
        root, "diff", "--name-only", "--relative", "--no-renames", "-z", commit, "--", folder
    )
    if diff.returncode != 0:
        raise GitError(f"git diff failed: {_last_line(diff)}")
    new = run(root, "ls-files", "-z", "--others", "--exclude-standard", "--", folder)
    if new.returncode != 0:
        raise GitError(f"git ls-files failed: {_last_line(new)}")
    names = (diff.stdout + new.stdout).split(b"\0")
    return sorted({n.decode("utf-8", "surrogateescape") for n in names if n})


def _last_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else str(proc.returncode)


def inside_git_work_tree(folder: Path) -> bool:
    """True if ``folder`` is inside a git work tree (and git can be run)."""
    try:
        proc = run(folder, "rev-parse", "--is-inside-work-tree")
    except GitError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == b"true"
