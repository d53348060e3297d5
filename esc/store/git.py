"""Every git command esc runs goes through :func:`run`: committing what a sweep changed,
pushing and catching up, a ticket's history (esc's merge driver is
:mod:`esc.store.merge_driver`).

No value from a user or a file reaches git as an option: names come after ``--``, refs
are spelled out in full (``refs/remotes/...``), and ``sweep --push``'s remote and branch
are checked first (:func:`check_remote_name`, :func:`check_branch_name`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from esc.domain.errors import BadInput, EscError
from esc.store import atomic, launch
from esc.store.atomic import atomic_write, remove_stale_temporaries
from esc.store.lock import REBASING as REBASING
from esc.store.lock import SWEEP_GIT as SWEEP_GIT

if TYPE_CHECKING:
    import subprocess


SWEEP_SUBJECT = "esc sweep: "  # how the subject line of a sweep's commit begins


class GitError(EscError):
    pass


class RebaseConflict(GitError):
    """A rebase stopped on a true conflict, and was undone: the files git could not merge
    (``paths``, relative to the folder the rebase was run from)."""

    def __init__(self, message: str, paths: Sequence[str]) -> None:
        super().__init__(message)
        self.paths = list(paths)


def check_remote_name(name: str) -> str:
    """``name`` if it can be a remote's name or URL (never an option); else BadInput."""
    if not name or name.startswith("-") or not name.isprintable() or name != name.strip():
        raise BadInput(f"--remote {name!r} is not a remote's name or URL")
    return name


# What `git check-ref-format --branch` refuses, and a leading "-" (an option to git).
_BAD_REF = re.compile(r"^-|^/|/$|//|\.\.|@\{|\.lock$|\.$|/\.|^\.|[\x00-\x20\x7f~^:?*\[\\]")


def check_branch_name(name: str) -> str:
    """``name`` if it is a valid branch name (git's rules); else BadInput."""
    # (`HEAD`: git refuses it as a branch; taken as one, `refs/heads/HEAD` was made on the
    # remote, audit helper-429)
    if not name or name in ("@", "HEAD") or _BAD_REF.search(name) or not name.isprintable():
        raise BadInput(f"--branch {name!r} is not a valid branch name")
    return name


def run(
    cwd: Path,
    *args: str,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` in ``cwd``, whatever its exit code; GitError if git cannot be run.
    ``env`` adds to the environment; ``input`` is fed to git's stdin."""
    import subprocess  # (only once git is run: most commands never do)

    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            check=False,
            timeout=timeout,
            env=None if env is None else {**os.environ, **env},
            input=input,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {_command_of(args)} did not finish in {timeout:g} seconds") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"cannot run git: {exc}") from None


def _command_of(args: Sequence[str]) -> str:
    """The git command ``args`` run (``rebase``), past ``-c NAME=VALUE`` settings."""
    rest = list(args)
    while len(rest) >= 2 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "git"


def output(
    cwd: Path,
    *args: str,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
) -> str:
    """What ``git ARGS`` prints; GitError with git's last line if it fails."""
    proc = run(cwd, *args, timeout=timeout, env=env, input=input)
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {_last_line(proc)}")
    return proc.stdout.decode("utf-8", "replace")


def blob_id(data: bytes) -> str:
    """The id git gives a file holding ``data`` (``git hash-object``, without filters)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # (git's id for a blob)


def converts_crlf(root: Path, path: str) -> bool:
    """Whether git, storing the file ``path`` (relative to ``root``) as `git add` does,
    turns its CRLF line endings into LF: its ``text`` or ``eol`` attribute says so, or
    ``core.autocrlf`` does for a file with neither (a clone of Git for Windows, or a
    ``*.md text eol=crlf`` line in .gitattributes: the work tree holds CRLF, the blobs
    LF)."""
    attributes: dict[str, str] = {}
    for line in output(root, "check-attr", "text", "eol", "--", path).splitlines():
        parts = line.rsplit(": ", 2)  # (`PATH: text: set`; the path may hold ": ")
        if len(parts) == 3:
            attributes[parts[1]] = parts[2]
    text, eol = attributes.get("text", "unspecified"), attributes.get("eol", "unspecified")
    if text == "unset":
        return False
    if text in ("set", "auto") or eol in ("crlf", "lf"):
        return True
    found = run(root, "config", "--get", "core.autocrlf")
    setting = found.stdout.decode(errors="replace").strip().lower()
    # (git's booleans: true, yes, on, 1, or the key without a value; and `input`)
    return found.returncode == 0 and setting in ("", "true", "yes", "on", "1", "input")


def head_blobs(root: Path, *paths: str) -> dict[str, str]:
    """The blob id of every file HEAD has under ``paths`` (folders or files), by path
    relative to ``root`` ({} before the first commit)."""
    if commit_of(root, "HEAD") is None:
        return {}
    proc = run(root, "ls-tree", "-r", "-z", "HEAD", "--", *paths)
    if proc.returncode != 0:
        raise GitError(f"git ls-tree failed: {_last_line(proc)}")
    blobs = {}
    for line in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = line.partition("\t")
        if path and meta.split(" ")[1:2] == ["blob"]:
            blobs[path] = meta.split(" ")[2]
    return blobs


def staged_paths(root: Path, folder: str) -> set[str]:
    """Paths under ``folder`` (relative to ``root``) whose index entry differs from HEAD."""
    if commit_of(root, "HEAD") is None:  # (unborn)
        out = output(root, "ls-files", "-z", "--", folder)
    else:
        out = output(root, "diff", "--cached", "--name-only", "--relative", "-z", "HEAD",
                     "--", folder)  # fmt: skip
    return {path for path in out.split("\0") if path}


def tracked(root: Path, paths: Sequence[str]) -> set[str]:
    """Those of ``paths`` (relative to ``root``) that git tracks (in its index)."""
    if not paths:
        return set()
    proc = run(root, "ls-files", "-z", "--", *paths)
    return {path for path in proc.stdout.decode("utf-8", "replace").split("\0") if path}


def uncommitted(root: Path, names: Sequence[str]) -> list[str]:
    """Those of the files ``names`` (relative to ``root``) that differ from HEAD: changed,
    staged, removed, or never committed."""
    proc = run(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *names)
    if proc.returncode != 0:
        return []
    # (each entry is "XY path"; a rename's is followed by the path it came from, bare)
    listed = proc.stdout.decode("utf-8", "replace").split("\0")
    paths = {e[3:] for e in listed if len(e) > 3} | {e for e in listed if e}
    return [n for n in names if any(p == n or p.endswith("/" + n) for p in paths)]


IDENTITY_FIX = 'git config user.name "esc sweep" && git config user.email esc-sweep@example.com'


def identity_problem(root: Path) -> str | None:
    """Why git cannot make a commit here (no user name or email), or None."""
    for which in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        proc = run(root, "var", which)
        if proc.returncode != 0:
            return "no git identity to commit as"
    return None


def store_files(root: Path, paths: Sequence[str], filters: bool = False) -> dict[str, str]:
    """Write the files ``paths`` (relative to ``root``) as they are now into git's object
    store, byte for byte (no filters), or with ``filters`` as `git add` stores them (the
    line endings :func:`converts_crlf` says git converts, converted); their blob ids."""
    if not paths:
        return {}
    # (absolute: git reads --stdin-paths from the top of the work tree, not from the
    # workspace, which may be a folder inside it)
    absolute = "".join(f"{root.resolve() / p}\n" for p in paths)
    raw = () if filters else ("--no-filters",)
    out = output(root, "hash-object", "-w", *raw, "--stdin-paths", input=absolute.encode())
    return dict(zip(paths, out.split(), strict=True))


def store_text(root: Path, data: bytes) -> str:
    """Write ``data`` into git's object store as a blob, byte for byte; its id."""
    return output(root, "hash-object", "-w", "--no-filters", "--stdin", input=data).strip()


def _own_index(scratch: Path, name: str) -> Path:
    """A temporary index of this process (``NAME.PID``); the lock file git makes beside it
    that a killed process of the same id left is removed (it is nobody's now)."""
    index = scratch / f"{name}.{os.getpid()}"
    index.with_name(index.name + ".lock").unlink(missing_ok=True)
    return index


INDEX_WAIT = 5.0  # seconds to wait for another git command to let go of the index


def _move_head(top: Path, new: str, old: str | None, entries: str) -> bool:
    """Move HEAD from ``old`` (None: unborn) to ``new``, the index entries ``entries``
    (``update-index --index-info`` lines) following it; False, and nothing done, if HEAD
    is no longer ``old``.

    Under git's own lock of the index (``index.lock``, made as git makes it), taken before
    HEAD moves and let go once the index follows it: a `git add` run by a person in between
    (checking for the lock first, as before, left that gap) made git refuse the index's
    update after HEAD had moved, and the committed tickets showed as staged deletions,
    which the person's next commit made.  The new index is written as git writes one:
    into the lock, then put in place.  GitError, nothing committed, if the lock is not had
    within :data:`INDEX_WAIT` seconds (a `git commit` with its editor open keeps it; or a
    git killed while it ran left it)."""
    import shutil
    import time

    lock_file = index_lock(top)
    index = lock_file.with_name(lock_file.name.removesuffix(".lock"))
    deadline = time.monotonic() + INDEX_WAIT
    while True:
        try:
            fd = os.open(lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            if time.monotonic() >= deadline:
                raise GitError(
                    f"{lock_file} exists: another git command is running in this clone, or"
                    " one was killed while it ran (then remove that file); nothing was"
                    " committed"
                ) from None
            time.sleep(0.05)
    staged = index.with_name(f"{index.name}.esc-{os.getpid()}")
    try:
        if index.exists():
            shutil.copyfile(index, staged)
            # (the index's own mode: git gives it the group's under core.sharedRepository,
            # which a umask of 077 took away, and the group's git refused the index)
            os.fchmod(fd, index.stat().st_mode & 0o7777)
        output(top, "update-index", "--index-info", env={"GIT_INDEX_FILE": str(staged)},
               input=entries.encode())  # fmt: skip
        if run(top, "update-ref", "-m", "esc sweep", "HEAD", new, old or "").returncode != 0:
            return False
        with atomic.naming(index), os.fdopen(fd, "wb") as out:  # (full disk: names the index)
            fd = -1
            out.write(staged.read_bytes())
        os.replace(lock_file, index)
        return True
    finally:
        if fd != -1:
            os.close(fd)
        lock_file.unlink(missing_ok=True)  # (gone once put in place; else let go)
        staged.unlink(missing_ok=True)
        staged.with_name(staged.name + ".lock").unlink(missing_ok=True)


def commit_blobs(
    root: Path,
    blobs: Mapping[str, str],
    message: str,
    scratch: Path,
    amend: str | None = None,
    when: dt.datetime | None = None,
) -> str | None:
    """Commit on top of HEAD exactly ``blobs`` (blob id by path relative to ``root``, each
    already stored), nothing else staged or dirty; the index entries of those paths follow.

    The commit is built in a temporary index and HEAD moves only if it has not moved
    meanwhile, so neither a file changed after the sweep wrote it nor anything a person
    staged goes in.  Returns the new commit's hash, or None if there was nothing to commit.
    With ``amend`` (HEAD, a commit of the sweep's not pushed yet), the blobs go into that
    commit instead: the one that stands for it has its parents, author and message (its
    :func:`commit_key`), not ``message``; None if HEAD is not ``amend``.  ``when`` dates
    the commit (the sweep's ``--now``: its commits are as reproducible as its files).
    """
    if not blobs:
        return None
    top = toplevel(root)
    prefix = output(root, "rev-parse", "--show-prefix").strip()
    head = commit_of(root, "HEAD")
    if amend is not None and (head is None or head != amend):
        return None
    scratch.mkdir(parents=True, exist_ok=True)
    entries = _index_lines(top, head, prefix, blobs)
    branch = branch_of_head(top)
    for _ in range(HEAD_MOVES + 1):
        made = _commit_on(top, head, entries, message, scratch, amend, when)
        if made is None or _move_head(top, made, head, entries):
            return made
        # (a person's `git commit` landed meanwhile: the sweep's commit goes on top of
        # theirs if theirs touched none of its files; else theirs is a version the sweep
        # never saw, and the next sweep commits what still holds)
        now_head = commit_of(top, "HEAD")
        if (
            amend is not None
            or head is None
            or now_head is None
            or branch_of_head(top) != branch  # (a person's `git switch`: not theirs to get)
            or _touched(top, head, now_head, [f"{prefix}{path}" for path in blobs])
        ):
            break
        head = now_head
    raise GitError("HEAD moved while the sweep committed; the next sweep commits its changes")


HEAD_MOVES = 3  # a person's commits that land while a sweep commits, built on at most


def _signed(top: Path) -> tuple[str, ...]:
    """``-S`` when the clone signs its commits (``commit.gpgsign``), as `git commit` does:
    ``commit-tree`` reads no such setting, and a branch that takes signed commits alone
    refused every sweep's push for good (audit helper-429)."""
    found = run(top, "config", "--type=bool", "--get", "commit.gpgsign")
    return ("-S",) if found.returncode == 0 and found.stdout.strip() == b"true" else ()


def _index_lines(top: Path, rev: str | None, prefix: str, blobs: Mapping[str, str]) -> str:
    """``update-index --index-info`` lines giving each path (of the workspace, whose path
    in the repository starts with ``prefix``) its blob, with the mode ``rev`` gives the
    file (100644 for a new one): a ticket someone made executable stays so (every commit
    of a sweep made it 100644, and the clone showed it changed for good: audit
    helper-413)."""
    modes: dict[str, str] = {}
    if rev is not None and blobs:
        folders = sorted({f"{prefix}{p}".rpartition("/")[0] or "." for p in blobs})
        out = output(top, "ls-tree", "-z", rev, "--", *(f"{f}/" for f in folders))
        for line in out.split("\0"):
            meta, _, path = line.partition("\t")
            if path and meta.startswith("100755 "):
                modes[path] = "100755"
    return "".join(
        f"{modes.get(prefix + path, '100644')} {blob}\t{prefix}{path}\n"
        for path, blob in blobs.items()
    )


def _commit_on(
    top: Path,
    head: str | None,
    entries: str,
    message: str,
    scratch: Path,
    amend: str | None,
    when: dt.datetime | None,
) -> str | None:
    """The commit of ``head``'s tree with ``entries`` (``update-index --index-info``
    lines), made but not yet on any branch; None if it would change nothing."""
    index = _own_index(scratch, "sweep-index")
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        output(top, "read-tree", *([head] if head else ["--empty"]), env=env)
        output(top, "update-index", "--index-info", env=env, input=entries.encode())
        tree = output(top, "write-tree", env=env).strip()
    finally:
        index.unlink(missing_ok=True)
    if head is not None and output(top, "rev-parse", f"{head}^{{tree}}").strip() == tree:
        return None
    parents = ["-p", head] if head else []
    dated = {} if when is None else {"GIT_COMMITTER_DATE": git_date(when)}
    author = {} if when is None else {"GIT_AUTHOR_DATE": git_date(when)}
    if amend is not None:
        parents, author, message = _made_as(top, amend)
    env = {**author, **dated}
    signed = _signed(top)
    try:
        commit = output(top, "commit-tree", *signed, tree, *parents, env=env,
                        input=message.encode())  # fmt: skip
    except GitError as exc:
        if signed:  # (git's own line, `gpg failed to sign the data`, said nothing of why)
            raise GitError(f"{exc} (commits are signed here: {SIGNING_FIX})") from None
        raise
    return commit.strip()


SIGNING_FIX = (
    "give cron a key it can use, or `git config commit.gpgsign false` in this clone"
)


def signing_problem(root: Path) -> str | None:
    """Why a commit made here cannot be signed, where the clone signs its commits
    (``commit.gpgsign``): git's reason; None if it signs none, or can sign.  Tried on a
    commit of the empty tree made in a scratch object store, which is then removed: the
    repository gets nothing."""
    import tempfile

    top = toplevel(root)
    if not _signed(top):
        return None
    objects = output(top, "rev-parse", "--git-path", "objects").strip()
    with tempfile.TemporaryDirectory(prefix="esc-signing-") as scratch:
        env = {
            "GIT_OBJECT_DIRECTORY": scratch,
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(top / objects),
        }
        tree = run(top, "mktree", env=env, input=b"", timeout=30)
        if tree.returncode != 0:
            return f"git mktree failed: {_last_line(tree)}"
        made = run(top, "commit-tree", "-S", tree.stdout.decode().strip(), env=env,
                   input=b"esc doctor: can this clone sign?\n", timeout=60)  # fmt: skip
        if made.returncode != 0:
            return _last_line(made)
    return None


def _touched(top: Path, old: str, new: str, paths: list[str]) -> bool:
    """Whether a commit between ``old`` and ``new`` changed any of ``paths`` (from the top
    of the work tree), or ``new`` does not descend from ``old`` (a reset, a rebase)."""
    if run(top, "merge-base", "--is-ancestor", old, new).returncode != 0:
        return True
    # (every file the commits changed, against the paths here: a sweep's 100k paths were
    # more than a command line holds)
    changed = output(top, "diff", "--no-renames", "--name-only", "-z", old, new)
    return not set(paths).isdisjoint(changed.split("\0"))


def git_date(moment: dt.datetime) -> str:
    """``moment`` as git's own date format (``@<seconds> +hhmm``), in its own offset."""
    return f"@{int(moment.timestamp())} {moment.strftime('%z')}"


def _made_as(top: Path, commit: str) -> tuple[list[str], dict[str, str], str]:
    """What a commit standing for ``commit`` is made with: its parents (as ``-p``
    options), its author (as the environment ``commit-tree`` reads) and its message."""
    raw = output(top, "cat-file", "commit", commit)
    headers, _, message = raw.partition("\n\n")
    parents: list[str] = []
    env: dict[str, str] = {}
    for line in headers.splitlines():
        key, _, value = line.partition(" ")
        if key == "parent":
            parents += ["-p", value]
        found = re.fullmatch(r"(.*) <(.*)> (\d+ [+-]\d{4})", value) if key == "author" else None
        if found:
            env = {"GIT_AUTHOR_NAME": found[1], "GIT_AUTHOR_EMAIL": found[2],
                   "GIT_AUTHOR_DATE": f"@{found[3]}"}  # fmt: skip
    return parents, env, message


def take_back(
    root: Path,
    commit: str,
    paths: Sequence[str],
    scratch: Path,
    message: Callable[[list[str]], str] | None = None,
    to: Mapping[str, str] | None = None,
) -> tuple[list[str], str | None] | None:
    """Take ``commit`` (HEAD) back for the files ``paths`` (relative to ``root``) that it
    changed and that its parent had: HEAD becomes the same commit without them (or its
    parent, if nothing else was in it), and each file, in the index and the work tree,
    holds its parent's version again.  The paths taken back and the commit that stands
    for ``commit`` now (None: none, HEAD is its parent); None if HEAD is not ``commit``
    or one of those files no longer holds what ``commit`` holds (nothing is done then).
    A sweep whose push was rejected takes its own rewrites back so that the rebase
    brings the remote's versions of those tickets, swept again on top of them, rather
    than merging two sweeps' effects of one deadline.  The commit that stands for it has
    the message ``message`` gives for the paths taken back (else the commit's own).
    ``to``: the blob (stored) a path is taken back to instead of its parent's version
    (what intake wrote in a ticket before the sweep rewrote it)."""
    top = toplevel(root)
    prefix = output(root, "rev-parse", "--show-prefix").strip()
    if output(top, "rev-parse", "HEAD").strip() != commit:
        return None
    parent_proc = run(top, "rev-parse", "--verify", "--quiet", f"{commit}^")
    if parent_proc.returncode != 0:
        return None
    parent = parent_proc.stdout.decode().strip()
    taken: list[tuple[str, str, str]] = []  # (path, the parent's blob, the commit's blob)
    for path in paths:
        blobs = []
        for rev in (parent, commit):
            proc = run(top, "rev-parse", "--verify", "--quiet", f"{rev}:{prefix}{path}")
            blobs.append(proc.stdout.decode().strip() if proc.returncode == 0 else "")
        old = (to or {}).get(path) or blobs[0]
        if old and blobs[1] and old != blobs[1]:
            taken.append((path, old, blobs[1]))
    if not taken:
        return [], commit
    for path, _, written in taken:  # (each must still hold what the commit holds)
        if output(top, "hash-object", "--", f"{prefix}{path}").strip() != written:
            return None
    entries = _index_lines(top, commit, prefix, {path: old for path, old, _ in taken})
    scratch.mkdir(parents=True, exist_ok=True)
    index = _own_index(scratch, "take-back-index")
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        output(top, "read-tree", commit, env=env)
        output(top, "update-index", "--index-info", env=env, input=entries.encode())
        tree = output(top, "write-tree", env=env).strip()
    finally:
        index.unlink(missing_ok=True)
    if output(top, "rev-parse", f"{parent}^{{tree}}").strip() == tree:
        new = parent
    else:
        if message is None:
            text = output(top, "log", "-1", "--format=%B", commit)
        else:
            text = message([path for path, _, _ in taken])
        new = output(top, "commit-tree", *_signed(top), tree, "-p", parent,
                     input=text.encode()).strip()  # fmt: skip
    if not _move_head(top, new, commit, entries):
        return None
    for path, old, _ in taken:
        atomic_write(root / path, run(top, "cat-file", "blob", old).stdout)
    return [path for path, _, _ in taken], None if new == parent else new


def unpushed_commits(root: Path, upstream: str) -> list[str] | None:
    """The commits of HEAD that ``upstream`` lacks, oldest first (what a rebase onto it
    replays); None if one of them is a merge (no history esc rewrites)."""
    out = output(root, "rev-list", "--reverse", "--parents", "HEAD", f"^{upstream}")
    commits = []
    for line in out.splitlines():
        ids = line.split()
        if len(ids) != 2:  # (a merge, or a root commit)
            return None
        commits.append(ids[0])
    return commits


def drop_changes(
    root: Path,
    commits: Sequence[str],
    paths: Sequence[str],
    scratch: Path,
    message: Callable[[str, list[str]], str],
) -> dict[str, str | None] | None:
    """Rewrite ``commits`` (HEAD and the unpushed commits before it, oldest first, none a
    merge) so that none of them changes ``paths`` (relative to ``root``): each stays as
    the first one's parent has it, in the history, the index and the work tree.  A commit
    left with no change is dropped; the others keep their author, dates and parents'
    order, with the message ``message`` gives (of the commit, and the paths taken out of
    it).  HEAD moves only if it has not moved meanwhile, and only if each file of
    ``paths`` still holds what HEAD holds (nobody changed it since).  What became of each
    commit (the one that stands for it; None: dropped); None if nothing was done."""
    if not commits or not paths:
        return None
    top = toplevel(root)
    prefix = output(root, "rev-parse", "--show-prefix").strip()
    head = output(top, "rev-parse", "HEAD").strip()
    if head != commits[-1]:
        return None
    base = output(top, "rev-parse", f"{commits[0]}^").strip()
    kept: dict[str, str] = {}  # path -> the blob the base has
    for path in paths:
        proc = run(top, "rev-parse", "--verify", "--quiet", f"{base}:{prefix}{path}")
        held = run(top, "rev-parse", "--verify", "--quiet", f"{head}:{prefix}{path}")
        if proc.returncode != 0 or held.returncode != 0:
            return None  # (made or removed by one of them: not a change to take back)
        committed = held.stdout.decode().strip()
        if output(top, "hash-object", "--", f"{prefix}{path}").strip() != committed:
            return None  # (changed since it was committed: someone's, left alone)
        kept[path] = proc.stdout.decode().strip()
    entries = _index_lines(top, head, prefix, kept)
    scratch.mkdir(parents=True, exist_ok=True)
    index = _own_index(scratch, "drop-index")
    env = {"GIT_INDEX_FILE": str(index)}
    parent = base
    parent_tree = output(top, "rev-parse", f"{base}^{{tree}}").strip()
    became: dict[str, str | None] = {}
    try:
        for commit in commits:
            output(top, "read-tree", commit, env=env)
            output(top, "update-index", "--index-info", env=env, input=entries.encode())
            tree = output(top, "write-tree", env=env).strip()
            # (one left with nothing is dropped; one made empty, a person's marker made with
            # --allow-empty, stays, as a rebase keeps it)
            was_empty = output(top, "rev-parse", f"{commit}^{{tree}}").strip() == output(
                top, "rev-parse", f"{commit}^^{{tree}}"
            ).strip()
            if tree == parent_tree and not was_empty:
                became[commit] = None
                continue
            taken = [
                path for path in kept
                if run(top, "diff", "--quiet", f"{commit}^", commit, "--", f"{prefix}{path}")
                .returncode != 0
            ]  # fmt: skip
            text = message(commit, taken) if taken else message_of(top, commit)
            _, author, _ = _made_as(top, commit)
            dated = {"GIT_COMMITTER_DATE": output(top, "log", "-1", "--format=%cI", commit).strip()}
            parent = output(top, "commit-tree", *_signed(top), tree, "-p", parent,
                            env={**author, **dated},
                            input=text.encode()).strip()  # fmt: skip
            parent_tree = tree
            became[commit] = parent
    finally:
        index.unlink(missing_ok=True)
    if not _move_head(top, parent, head, entries):
        return None
    for path, blob in kept.items():
        atomic_write(root / path, run(top, "cat-file", "blob", blob).stdout)
    return became


def message_of(top: Path, commit: str) -> str:
    """The whole message of ``commit``."""
    return output(top, "log", "-1", "--format=%B", commit)


def commit_files(root: Path, commit: str) -> list[str]:
    """The paths (relative to ``root``) that ``commit`` changed."""
    out = output(root, "diff-tree", "--no-commit-id", "--root", "-r", "-z", "--name-only",
                 "--relative", commit)  # fmt: skip
    return [path for path in out.split("\0") if path]


def commit_key(root: Path, commit: str) -> str:
    """What identifies a commit across a rebase: its author date and message."""
    return output(root, "log", "-1", "--format=%aI%x1f%B", commit).strip()


def find_commits(root: Path, keys: Sequence[str]) -> list[str]:
    """The commits at the top of HEAD with these keys (:func:`commit_key`), oldest first:
    where a rebase put them (one whose change was already upstream is gone)."""
    if not keys:
        return []
    out = output(root, "log", f"-{len(keys)}", "--format=%H%x1f%aI%x1f%B%x1e", "HEAD")
    found = []
    for item in reversed(out.split("\x1e")):
        commit, _, key = item.strip().partition("\x1f")
        if commit and key.strip() in keys:
            found.append(commit)
    return found


def branch_of_head(root: Path) -> str | None:
    """The branch HEAD names (None: a detached HEAD)."""
    proc = run(root, "symbolic-ref", "--quiet", "HEAD")  # (not --short: a tag of the
    # branch's name made it `heads/main`; review helper-402)
    ref = proc.stdout.decode("utf-8", "replace").strip()
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""
    return branch if proc.returncode == 0 and branch else None


def current_branch(root: Path) -> str:
    branch = branch_of_head(root)
    if branch is None:
        raise GitError("not on a branch (detached HEAD); pass --branch")
    return branch


def commit_of(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names (None: none, as HEAD before the first commit)."""
    proc = run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def require_remote(root: Path, remote: str) -> None:
    """GitError naming the fix if ``remote`` is neither a configured remote nor a URL, or
    is a path on this machine where nothing is (refused before the sweep writes a thing,
    as a remote's name that does not exist is)."""
    names = output(root, "remote").split()
    if remote in names:
        return
    if not is_url_or_path(remote):
        raise GitError(f"no git remote '{remote}' (git remote add {remote} URL)")
    path = local_path(remote)
    if path is not None and not (root / path).exists():
        raise GitError(f"no git repository at '{remote}' (--remote names a path here)")


def is_url_or_path(remote: str) -> bool:
    """Whether ``remote`` is a URL or a path, as git reads one, rather than a remote's name."""
    return any(c in remote for c in "/:")


def local_path(remote: str) -> str | None:
    """The path ``remote`` names on this machine (`/srv/repo.git`, `../origin`,
    `file:///srv/repo.git`), or None for a URL of another machine (`https://…`, git's
    scp-like `git@host:repo.git`, where a colon comes before any slash)."""
    if remote.startswith("file://"):
        return remote[len("file://") :] or None
    if "://" in remote:
        return None
    colon, slash = remote.find(":"), remote.find("/")
    if colon >= 0 and (slash < 0 or colon < slash):
        return None
    return remote


def unreachable(root: Path, remote: str) -> str | None:
    """Why ``remote`` cannot be read now without a prompt (git asks for no password: cron
    has no terminal to type one in); None if it can."""
    try:
        proc = run(
            root, "ls-remote", "--heads", "--", remote, timeout=60,
            env={"GIT_TERMINAL_PROMPT": "0"}, input=b"",
        )  # fmt: skip
    except GitError as exc:  # (git timed out, or cannot be run)
        return str(exc)
    return None if proc.returncode == 0 else _reason(proc)


def prefix_in_repository(root: Path) -> str:
    """The path of ``root`` in its git repository, with a trailing slash (``helpdesk/``),
    as GitHub names files; "" at the top of the repository or outside one."""
    proc = run(root, "rev-parse", "--show-prefix")
    return proc.stdout.decode("utf-8", "surrogateescape").strip() if proc.returncode == 0 else ""


def require_branch(root: Path, remote: str, branch: str) -> None:
    """GitError naming the branch if ``remote`` has branches and ``branch`` is none of them
    (a name mistyped would start a new branch there on every push); nothing if the remote
    has no branch yet (a first push starts it) or cannot be asked now (the push says why)."""
    try:
        proc = run(root, "ls-remote", "--heads", "--", remote, timeout=120)
    except GitError:  # (git timed out: the push says what is wrong, if anything)
        return
    if proc.returncode != 0:
        return
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    heads = [line.split("refs/heads/", 1)[1] for line in lines if "refs/heads/" in line]
    if heads and branch not in heads:
        shown = ", ".join(sorted(heads)[:5]) + (", …" if len(heads) > 5 else "")
        raise GitError(
            f"no branch '{branch}' on {remote} (it has {shown}); to start it, push it once "
            f"by hand (git push -- {remote} HEAD:refs/heads/{branch})"
        )


def unpushed(root: Path, remote: str, branch: str) -> int:
    """How many commits of HEAD the remote branch (as last fetched) does not have; for a
    branch the remote does not have yet, those none of the remote's branches has."""
    if remote not in output(root, "remote").split():  # a URL: what it has, fetched now
        fetched = run(root, "fetch", "--quiet", "--", remote, branch).returncode == 0
        others = ["^FETCH_HEAD"] if fetched else []
        return int(output(root, "rev-list", "--count", "HEAD", *others))
    ref = f"refs/remotes/{remote}/{branch}"
    known = run(root, "rev-parse", "--verify", "--quiet", ref).returncode == 0
    others = [f"^{ref}"] if known else ["--not", f"--remotes={remote}"]
    return int(output(root, "rev-list", "--count", "HEAD", *others))


def latest_commits(root: Path, count: int) -> list[tuple[str, str, list[str]]]:
    """The last ``count`` commits of HEAD, oldest first: (hash, subject, the files each
    changed, relative to ``root``) — what a push sent."""
    if count <= 0:
        return []
    text = output(root, "log", f"-n{count}", "--reverse", "--format=%H%x00%s", "HEAD")
    found = []
    for line in text.splitlines():
        commit, _, subject = line.partition("\0")
        found.append((commit, subject, commit_files(root, commit)))
    return found


@dataclass(frozen=True)
class Pushed:
    """A push the remote took: how many commits it got (None: git did not say, as for a
    new branch)."""

    commits: int | None


def push(root: Path, remote: str, branch: str) -> Pushed | None:
    """Push HEAD to ``remote``/``branch``; None if the remote moved (rejected), never forced."""
    proc = run(
        root, "push", "--porcelain", "--", remote, f"HEAD:refs/heads/{branch}", timeout=300,
    )  # fmt: skip
    text = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    if proc.returncode == 0:
        return Pushed(_commits_sent(root, proc.stdout.decode("utf-8", "replace"), branch))
    if "[rejected]" in text:
        return None
    moved, has_head = _remote_state(root, remote, branch)
    if has_head:  # (a killed sweep's orphaned push landed it first: the ref lock race lost
        return Pushed(None)  # to our own commit is no failure; git did not say how many)
    if moved:
        return None  # includes a push that lost a race for the ref lock at the remote
    rejected = [line for line in text.splitlines() if line.startswith("!")]
    why = rejected[0].split("\t")[-1] if rejected else _reason(proc)
    said = (line.removeprefix("remote:").strip() for line in text.splitlines()
            if line.startswith("remote:"))  # fmt: skip
    remote_said = [line for line in said if line]
    if rejected and remote_said:  # (a hook's or the server's own words: why it declined)
        why += f"; the remote said: {' / '.join(remote_said[:3])}"
    where = f"{remote} (branch {branch})" if _is_location(remote) else f"{remote}/{branch}"
    raise GitError(f"git push to {where} failed: {why}")


def _is_location(remote: str) -> bool:
    """Whether ``remote`` is a URL or a path rather than a remote's name (a name joined to
    its branch reads `origin/main`; a URL so joined would read as another URL)."""
    return "://" in remote or remote.startswith(("/", ".", "~")) or ":" in remote


def _commits_sent(root: Path, porcelain: str, branch: str) -> int | None:
    """How many commits a push sent, from its ``--porcelain`` line for ``branch``: the
    commits between the remote's old tip and the new one (``old..new``), none when it was
    up to date; None when git did not say (a new branch)."""
    for line in porcelain.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[1].endswith(f":refs/heads/{branch}"):
            continue
        if parts[0] == "=":
            return 0
        span = parts[2].strip()
        if ".." in span and "..." not in span:
            proc = run(root, "rev-list", "--count", span)
            if proc.returncode == 0:
                return int(proc.stdout.decode().strip())
    return None


def _remote_state(root: Path, remote: str, branch: str) -> tuple[bool, bool]:
    """After a push that failed: whether the remote branch now has commits that HEAD does
    not, and whether it has HEAD (an earlier push of the same commits landed meanwhile);
    (False, False) if it cannot be fetched."""
    try:
        output(root, "fetch", "--quiet", "--", remote, branch)
    except GitError:
        return False, False
    # (FETCH_HEAD: what was just fetched, from a remote's name or a URL alike)
    moved = run(root, "merge-base", "--is-ancestor", "FETCH_HEAD", "HEAD").returncode == 1
    has_head = run(root, "merge-base", "--is-ancestor", "HEAD", "FETCH_HEAD").returncode == 0
    return moved, has_head


# How a sweep's rebase merges: tickets with esc's driver; rendered reports keep one side
# (the sweep that follows renders them again from the merged tickets).
RENDERED = "reports"  # the sweep's rendered reports (workspace.REPORTS_DIR: git is below it)
# (report.contents.SWEEP_REPORTS: the files esc renders there, and nothing else of it)
RENDERED_FILES = ("summary.md", "index.html", "report.json")
MERGE_ATTRIBUTES = f"tickets/*.md merge=esc\n{RENDERED}/** merge=esc-derived\n"
# How git merges the common ancestors of a criss-cross merge (both clones merged each
# other's commits) into the one base it gives the driver (``merge.esc.recursive``):
# `binary` takes one of them whole.  esc's own driver there made a base of conflict
# markers, which reads as no ticket: the merge itself then fell back to text, and left
# markers in a log and a conversation both sides had only added to.
INNER_MERGE = "binary"


def merge_settings(folder: Path) -> list[str]:
    """``git -c`` options that make esc's merge driver work even where it is not installed."""
    attributes = folder / "gitattributes"
    with atomic.naming(attributes):  # (a full disk: names the file, not "the output")
        attributes.write_text(MERGE_ATTRIBUTES, encoding="utf-8")
    driver = launch.merge_driver_command()
    return [
        "-c", f"core.attributesFile={attributes}",
        "-c", "merge.esc.name=esc ticket merge",
        "-c", f"merge.esc.driver={driver}",
        "-c", f"merge.esc.recursive={INNER_MERGE}",
        "-c", "merge.esc-derived.name=esc derived file (re-rendered after the merge)",
        "-c", "merge.esc-derived.driver=true",
    ]


REBASE_SECONDS = 300.0  # what a rebase may take, at least
MERGE_SECONDS = 1.0  # and more for each file the commits it replays changed: git runs the
# merge driver (a Python process, 0.1-0.2 s) for each the remote changed too; a fixed 300 s
# stopped the rebase of an earlier sweep's 4,000 pending tickets every time, for ever


def rebase_timeout(root: Path) -> float:
    """How long the rebase onto FETCH_HEAD may take: :data:`REBASE_SECONDS`, and
    :data:`MERGE_SECONDS` for each file each commit it replays changed (the driver runs
    once per commit and file: several failed pushes' commits touch the same tickets)."""
    proc = run(root, "log", "--format=", "--name-only", "-z", "FETCH_HEAD..HEAD")
    changed = proc.stdout.count(b"\0") if proc.returncode == 0 else 0
    return REBASE_SECONDS + MERGE_SECONDS * changed


def catch_up(root: Path, remote: str, branch: str, scratch: Path) -> list[tuple[str, str]]:
    """Fetch the remote branch and rebase onto it (ticket files merge with esc's driver);
    the commits (hash, subject) the rebase left out: the remote had them and a force-push
    took them out (:func:`_upstream_ref`).

    While the rebase runs, ``scratch/rebasing`` says that esc started it: if the sweep is
    killed meanwhile, the next one aborts it (:func:`finish_unfinished`) and goes on."""
    proc = run(root, "fetch", "--quiet", "--", remote, branch)
    if proc.returncode != 0:
        if b"couldn't find remote ref" in proc.stderr:
            raise GitError(f"no branch '{branch}' on git remote '{remote}'")
        output(root, "fetch", "--quiet", "--", remote, branch)  # (raises, saying why)
    scratch.mkdir(parents=True, exist_ok=True)
    marker = scratch / REBASING
    atomic_write(marker, f"{branch}\n{os.getpid()}\n")  # (whose: writers wait for it alone)
    _reports_as_committed(root)
    staged, partly = _staged(root)
    onto = _upstream_ref(root, remote, branch)
    left_out = _left_out(root, onto)
    try:
        proc = run(
            root, *merge_settings(scratch), "rebase", "--quiet", "--autostash", *onto,
            timeout=rebase_timeout(root),
        )  # fmt: skip
        if proc.returncode != 0:
            names = _unmerged(root)
            top = toplevel(root)
            saved = _saved_meanwhile(root, top, names)
            created = _created_meanwhile(root, top)
            saved.update(created)
            aside = _moved_aside(top, created)  # (or the abort stops on them)
            run(root, "rebase", "--abort")
            kept = _put_back(top, saved)
            for path in aside:
                path.unlink(missing_ok=True)
            if kept:
                raise GitError(
                    f"could not rebase onto {remote}/{branch}: {_named(kept)} changed while it "
                    "ran; the rebase was undone and the change kept, uncommitted; commit it "
                    "(or undo it), and the next --push sweep tries again"
                )
            if not names:  # (no file in conflict: git failed otherwise, as a commit it could
                # not sign, `commit.gpgsign` with no key under cron: never "a true conflict")
                raise GitError(
                    f"could not rebase onto {remote}/{branch}: git rebase failed:"
                    f" {_last_line(proc)}; the rebase was undone, and the next --push sweep"
                    " tries again"
                )
            where = f" in {', '.join(names[:3])}{' …' if len(names) > 3 else ''}"
            prefix = output(root, "rev-parse", "--show-prefix").strip()
            raise RebaseConflict(
                f"could not rebase onto {remote}/{branch}: a true conflict{where}; resolve it "
                f"by hand (git pull --rebase -- {remote} {branch})",
                [name[len(prefix) :] for name in names if name.startswith(prefix)],
            )
        _put_aside_if_conflicting(root, remote, branch)
        if staged:  # (git's autostash puts changes back unstaged: staged ones staged again)
            run(root, "add", "--", *staged)
        _restage(root, partly)
    finally:
        if in_progress(root) is None:  # (else left for the next sweep to abort)
            marker.unlink(missing_ok=True)
    return left_out


def _left_out(root: Path, onto: Sequence[str]) -> list[tuple[str, str]]:
    """The commits a rebase ``onto`` (``--fork-point REF``) leaves out: those of HEAD's
    history before its fork point with REF's reflog that the branch just fetched lacks."""
    if len(onto) != 2 or onto[0] != "--fork-point":
        return []
    fork = run(root, "merge-base", "--fork-point", onto[1], "HEAD")
    point = fork.stdout.decode().strip()
    if fork.returncode != 0 or not point:
        return []
    listing = run(root, "log", "--format=%H%x00%s", "--reverse", f"FETCH_HEAD..{point}", "--")
    if listing.returncode != 0:
        return []
    found = (line.split("\0", 1) for line in listing.stdout.decode("utf-8", "replace").splitlines())
    return [(parts[0], parts[1]) for parts in found if len(parts) == 2]


def _upstream_ref(root: Path, remote: str, branch: str) -> list[str]:
    """What a rebase onto the branch just fetched is given: the remote-tracking branch with
    ``--fork-point`` when the fetch updated it (a remote's name), as `git pull --rebase`
    does: commits the remote once had and a force-push took out since are dropped, never
    pushed back by the next sweep (audit c67); else ``FETCH_HEAD`` (a URL, a path)."""
    if is_url_or_path(remote):
        return ["FETCH_HEAD"]
    tracking = f"refs/remotes/{remote}/{branch}"
    kept = commit_of(root, tracking)
    if kept is None or kept != fetched(root):
        return ["FETCH_HEAD"]
    return ["--fork-point", tracking]


def _reports_as_committed(root: Path) -> None:
    """The rendered reports git tracks (an older setup's) put back as committed before the
    rebase: esc's own output, which the sweep renders again after it.  Stashed with a
    person's changes, they conflicted with a remote that stopped tracking them (the fix
    `esc doctor` gives), and every later sweep said the person's changes conflict."""
    # (the three files esc renders, as HEAD has them and changed in the work tree alone:
    # never a file of a person's in that folder, nor one staged, whose change is theirs)
    rendered = [f"{RENDERED}/{name}" for name in RENDERED_FILES]
    changed = run(root, "diff", "--name-only", "-z", "--", *rendered)  # (index → work tree)
    names = [name for name in changed.stdout.decode().split("\0") if name]
    staged = run(root, "diff", "--cached", "--name-only", "-z", "--", *rendered)
    names = [name for name in names if name not in staged.stdout.decode().split("\0")]
    if changed.returncode == 0 and staged.returncode == 0 and names:  # (from the top)
        run(toplevel(root), "checkout", "--", *names)  # (as the index, HEAD's, has them)


def fetched(root: Path) -> str | None:
    """The commit the last fetch brought (``FETCH_HEAD``), if any."""
    return commit_of(root, "FETCH_HEAD")


@dataclass(frozen=True)
class _Staged:
    """A file staged in part: what its owner staged (``mode`` and ``blob`` in the index),
    and the blob HEAD had of it (None: none), by path from the repository's top."""

    path: str
    mode: str
    blob: str
    head: str | None


def _staged(root: Path) -> tuple[list[str], list[_Staged]]:
    """What is staged, which git's autostash puts back unstaged: the files whose every
    change is staged (the index as the work tree), by path from the repository's top, to
    stage again whole; and the files staged in part, with what is staged of them (staging
    them again whole would stage what their owner had not)."""
    top = toplevel(root)
    cached = run(top, "diff", "--cached", "--name-only", "-z", "--no-renames")
    unstaged = run(top, "diff", "--name-only", "-z", "--no-renames")
    if cached.returncode != 0 or unstaged.returncode != 0:
        return [], []
    changed = set(unstaged.stdout.split(b"\0"))
    names = [n.decode("utf-8", "surrogateescape") for n in cached.stdout.split(b"\0") if n]
    partly = [n for n in names if n.encode("utf-8", "surrogateescape") in changed]
    wholly = [os.path.join(top, n) for n in names if n.encode("utf-8", "surrogateescape")
              not in changed]  # fmt: skip
    if not partly:
        return wholly, []
    index = _entries(run(top, "ls-files", "--stage", "-z", "--", *partly).stdout)
    head = head_blobs(top, *partly)
    return wholly, [_Staged(p, *index[p], head.get(p)) for p in partly if p in index]


def _entries(listing: bytes) -> dict[str, tuple[str, str]]:
    """``git ls-files --stage -z``'s entries at stage 0: path -> (mode, blob)."""
    out: dict[str, tuple[str, str]] = {}
    for item in listing.split(b"\0"):
        info, tab, name = item.partition(b"\t")
        fields = info.split()
        if tab and len(fields) == 3 and fields[2] == b"0":
            out[name.decode("utf-8", "surrogateescape")] = (fields[0].decode(), fields[1].decode())
    return out


def _restage(root: Path, partly: Sequence[_Staged]) -> None:
    """What was staged of each file staged in part, staged again after the rebase: for a
    file the rebase left as HEAD had it (else what was staged was of the old version, and
    the whole change stays unstaged, as git's autostash leaves it)."""
    if not partly:
        return
    top = toplevel(root)
    head = head_blobs(top, *(p.path for p in partly))
    for staged in partly:
        if head.get(staged.path) == staged.head:
            info = f"{staged.mode},{staged.blob},{staged.path}"
            run(top, "update-index", "--cacheinfo", info)


def _put_aside_if_conflicting(root: Path, remote: str, branch: str) -> None:
    """After the rebase: if a person's uncommitted changes (stashed for it, then put back)
    conflict with what came from the remote, git left conflict markers in their files and
    kept the changes in its stash.  The work tree is then put back as committed (every
    change of theirs is in that stash entry, staged ones included) and a GitError says
    where: never a half-merged file left for the next sweep to stumble on."""
    names = _unmerged(root)
    if not names:
        return
    top = toplevel(root)
    saved = _saved_meanwhile(root, top, names, beside="stash@{0}")
    listed = run(root, "stash", "show", "--name-only", "-z", "stash@{0}")
    stashed = [n.decode("utf-8", "surrogateescape") for n in listed.stdout.split(b"\0") if n]
    others = [n for n in stashed if n not in names]  # (the stash took every change: said,
    # or a person told their edit was "left for the next sweep" finds it gone)
    run(root, "reset", "--hard", "--quiet")
    kept = _put_back(top, saved)
    also = f"; {_named(kept)}, changed while the rebase ran, kept as saved" if kept else ""
    with_others = f", with your other uncommitted changes ({_named(others)})," if others else ""
    raise GitError(
        f"your uncommitted changes to {_named(names)} conflict with {remote}/{branch}: they "
        f"are kept in git's stash (its top entry, `autostash`){with_others} and the files "
        f"are as committed{also}; run `git stash pop`, resolve the conflict, and commit"
    )


def toplevel(root: Path) -> Path:
    """The top of the repository ``root`` is in (paths git gives are from there)."""
    return Path(output(root, "rev-parse", "--show-toplevel").strip())


def _named(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _saved_meanwhile(
    root: Path, top: Path, unmerged: list[str], beside: str | None = None
) -> dict[str, bytes]:
    """The files someone saved while a sweep's rebase ran (its autostash had put every
    change aside first, so a change the index does not hold is nobody's but theirs; an
    unmerged file is git's), by path from the repository's top, with what they hold: a
    ``rebase --abort`` or ``reset --hard`` would undo them.  With ``beside`` (the stash
    entry of the changes put aside), a file that holds what that entry holds is left out:
    it is kept there."""
    listing = run(root, "diff", "--name-only", "-z", "--no-renames")
    if listing.returncode != 0:
        return {}
    skip = set(unmerged)
    saved: dict[str, bytes] = {}
    for raw in listing.stdout.split(b"\0"):
        name = raw.decode("utf-8", "surrogateescape")
        if not name or name in skip:
            continue
        try:
            data = (top / name).read_bytes()
        except OSError:  # (removed, or not a file: nothing of theirs to keep)
            continue
        if beside is not None:
            stashed = run(root, "cat-file", "blob", f"{beside}:{name}")
            if stashed.returncode == 0 and stashed.stdout == data:
                continue
        saved[name] = data
    return saved


def _created_meanwhile(root: Path, top: Path) -> dict[str, bytes]:
    """The files git does not track that someone saved while a sweep's rebase ran (its
    checkout had taken away a file the branch adds, say), with what they hold: those the
    branch the rebase started from tracks, which ``rebase --abort`` would overwrite."""
    listing = run(root, "ls-files", "--others", "--exclude-standard", "-z", "--full-name")
    head = output(root, "rev-parse", "--git-path", "rebase-merge/orig-head").strip()
    try:
        orig = (root / head).read_text(encoding="utf-8").strip()
    except OSError:
        return {}
    if not re.fullmatch(r"[0-9a-f]{40,64}", orig):  # (a commit id, never an option)
        return {}
    names = {raw.decode("utf-8", "surrogateescape") for raw in listing.stdout.split(b"\0") if raw}
    if listing.returncode != 0 or not names:
        return {}
    tracked = run(root, "ls-tree", "-r", "-z", "--name-only", "--full-tree", orig)
    at_risk = {
        raw.decode("utf-8", "surrogateescape") for raw in tracked.stdout.split(b"\0") if raw
    } & names
    saved: dict[str, bytes] = {}
    for name in sorted(at_risk):
        with contextlib.suppress(OSError):
            saved[name] = (top / name).read_bytes()
    return saved


def _moved_aside(top: Path, created: dict[str, bytes]) -> list[Path]:
    """Each file of ``created`` (:func:`_created_meanwhile`) renamed to a hidden name beside
    it, where it stays if esc is stopped before :func:`_put_back` writes it back; the new
    names."""
    moved = []
    for name in created:
        path = top / name
        aside = path.with_name(f".{path.name}.saved-while-rebasing-{os.getpid()}")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
            moved.append(aside)
    return moved


def _put_back(top: Path, saved: dict[str, bytes]) -> list[str]:
    """Each file of ``saved`` (:func:`_saved_meanwhile`) as it was saved, written back if
    what undid the rebase changed it; their names."""
    if not saved:
        return []
    for name, data in saved.items():
        path = top / name
        try:
            if path.read_bytes() == data:
                continue
        except OSError:
            pass
        atomic_write(path, data)
    return sorted(saved)


def unmerged_under(root: Path, folder: str) -> dict[str, str]:
    """The files under ``folder`` (relative to ``root``, as the paths are) that a merge,
    rebase or cherry-pick left unmerged, each with what git found: ``both changed``,
    ``deleted by them`` (changed here, deleted on the side merged in), ``deleted by us``,
    ``both added``; none outside a git work tree."""
    listing = run(root, "ls-files", "--unmerged", "-z", "--", folder)
    if listing.returncode != 0:
        return {}
    stages: dict[str, set[str]] = {}  # (path -> the stages git has of it: 1 base, 2 ours…)
    for item in listing.stdout.split(b"\0"):
        if b"\t" in item:
            info, path = item.split(b"\t", 1)
            name = path.decode("utf-8", "replace")
            stages.setdefault(name, set()).add(info.split()[-1].decode())
    return {path: _UNMERGED_KINDS.get(frozenset(found), "unmerged")
            for path, found in sorted(stages.items())}  # fmt: skip


_UNMERGED_KINDS = {
    frozenset({"1", "2", "3"}): "both changed",
    frozenset({"1", "2"}): "deleted by them",
    frozenset({"1", "3"}): "deleted by us",
    frozenset({"2", "3"}): "both added",
}


def _unmerged(root: Path) -> list[str]:
    """The files git left conflicted in the work tree (paths from the repository's top)."""
    listing = run(root, "ls-files", "--unmerged", "-z", "--full-name")
    return sorted(
        {item.split(b"\t", 1)[1].decode("utf-8", "replace") for item in listing.stdout.split(b"\0")
         if b"\t" in item}
    )  # fmt: skip


_IN_PROGRESS = (
    ("rebase-merge", "rebase"),
    ("rebase-apply", "rebase"),
    ("MERGE_HEAD", "merge"),
    ("CHERRY_PICK_HEAD", "cherry-pick"),
    ("REVERT_HEAD", "revert"),
)


def in_progress(root: Path) -> str | None:
    """The git operation left unfinished in this clone (``rebase``, ``merge``,
    ``cherry-pick``, ``revert``), if any."""
    asked = [word for name, _ in _IN_PROGRESS for word in ("--git-path", name)]
    paths = output(root, "rev-parse", *asked).splitlines()  # (relative to root, or absolute)
    for (_, what), path in zip(_IN_PROGRESS, paths, strict=True):
        if (root / path).exists():
            return what
    return None


# ---------------------------------------------------------------- what a killed git left


def index_lock(root: Path) -> Path:
    """The clone's ``index.lock`` (absolute), there or not."""
    lock_file = Path(output(root, "rev-parse", "--git-path", "index.lock").strip())
    return lock_file if lock_file.is_absolute() else root / lock_file


def index_lock_state(root: Path) -> str:
    """What the clone's ``index.lock`` is: ``none`` (not there), ``busy`` (a process may
    be using it), ``stale`` (left by a git process that was killed), or ``unknown``.

    Git's own rule: the lock is stale only if no git process runs in the repository (a
    ``git commit`` keeps it, closed, while its editor is open).  On Linux ``/proc`` says
    which processes run: the lock is stale if no process has it open and no git process
    has its current folder in the work tree or the git folder (or names them in
    ``GIT_DIR``, ``GIT_WORK_TREE`` or ``GIT_INDEX_FILE``).  A process esc may not look
    into (another user's) is not counted: the clone is the sweep's user's.  Without
    ``/proc`` it cannot be told (``unknown``)."""
    lock_file = index_lock(root)
    try:
        before = lock_file.stat()
    except OSError:
        return "none"
    busy = _git_busy(_places(root), str(lock_file.resolve()))
    if busy is None:
        return "unknown"
    try:  # (the same file still: not one a git started meanwhile made)
        after = lock_file.stat()
    except OSError:
        return "none"
    if busy or (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns):
        return "busy"
    return "stale"


def _places(root: Path) -> list[str]:
    """The folders a git process working in this clone runs in: the top of the work tree
    and the git folder (absolute, resolved)."""
    git_dir = Path(output(root, "rev-parse", "--absolute-git-dir").strip())
    return [str(toplevel(root).resolve()), str(git_dir.resolve())]


def _git_busy(places: Sequence[str], lock_file: str | None) -> bool | None:
    """Whether a process has ``lock_file`` open (if given), or a git process works in one
    of ``places`` (absolute folders); None where ``/proc`` does not say."""
    proc = Path("/proc")
    try:
        pids = [name for name in os.listdir(proc) if name.isdigit()]
    except OSError:
        return None
    if not pids or not (proc / str(os.getpid())).is_dir():
        return None
    for pid in pids:
        if pid == str(os.getpid()):
            continue
        base = proc / pid
        try:
            name = (base / "comm").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:  # (gone meanwhile)
            continue
        if name.startswith("git") and _works_in(base, places):
            return True
        if lock_file is None:
            continue
        try:
            fds = os.listdir(base / "fd")
        except OSError:  # (another user's, or gone)
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(base / "fd" / fd) == lock_file:
                    return True
    return False


def _works_in(base: Path, places: Sequence[str]) -> bool:
    """Whether the process ``base`` (``/proc/PID``) has its current folder in one of
    ``places``, or names one in its GIT_DIR, GIT_WORK_TREE or GIT_INDEX_FILE."""
    try:
        cwd = os.readlink(base / "cwd")
    except OSError:  # (another user's, or gone)
        return False
    found = [cwd]
    with contextlib.suppress(OSError):
        for item in (base / "environ").read_bytes().split(b"\0"):
            key, _, value = item.partition(b"=")
            if key in (b"GIT_DIR", b"GIT_WORK_TREE", b"GIT_INDEX_FILE") and value:
                found.append(os.path.join(cwd, os.fsdecode(value)))
    for path in found:
        path = os.path.normpath(path)
        if any(path == place or path.startswith(place.rstrip("/") + "/") for place in places):
            return True
    return False


# What git names the temporary files of a merge driver's three versions, in the folder it
# runs in (the top of the work tree); a git killed while the driver runs leaves them.
_MERGE_TEMPORARY = re.compile(r"\.merge_file_[A-Za-z0-9]{6}")


def _remove_merge_temporaries(top: Path) -> list[str]:
    """The files ``.merge_file_XXXXXX`` at the top of the work tree that git does not
    track, removed; their names."""
    try:
        names = sorted(
            entry.name for entry in os.scandir(top)
            if _MERGE_TEMPORARY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
        )  # fmt: skip
    except OSError:
        return []
    if not names:
        return []
    proc = run(top, "ls-files", "-z", "--", *names)
    if proc.returncode != 0:  # (a damaged index cannot say what it tracks: nothing removed)
        return []
    kept = {path for path in proc.stdout.decode("utf-8", "replace").split("\0") if path}
    removed = []
    for name in names:
        if name not in kept:
            with contextlib.suppress(OSError):
                (top / name).unlink()
                removed.append(name)
    return removed


@contextlib.contextmanager
def sweeping(root: Path, scratch: Path) -> Iterator[None]:
    """While a sweep commits and pushes (its lock held): ``scratch/sweep-git`` says so.
    A sweep killed meanwhile leaves it (or ``scratch/rebasing``), and the next one first
    cleans up after the git processes that died with it: the ``index.lock`` one of them
    left, once no git process runs in the clone (:func:`index_lock_state`; else every
    commit, and the abort of a rebase left, fails on it for good), and the merge driver's
    temporary files its rebase left at the top of the work tree (untracked:
    ``git add -A`` would take them), once no git process runs there either (a person's
    merge makes its own while it runs)."""
    marker = scratch / SWEEP_GIT
    rebased = (scratch / REBASING).exists()
    if marker.exists() or rebased:
        lock_file = index_lock(root)
        try:
            seen = lock_file.lstat()
        except OSError:
            seen = None
        if seen is not None and index_lock_state(root) == "stale":
            with contextlib.suppress(OSError):  # (the same file, not one a git took since)
                now_there = lock_file.lstat()
                if (now_there.st_ino, now_there.st_mtime_ns) == (seen.st_ino, seen.st_mtime_ns):
                    lock_file.unlink()
        if rebased and _git_busy(_places(root), None) is False:
            top = toplevel(root)
            _remove_merge_temporaries(top)
            # (and the temporary file the merge driver, killed with it, was writing a
            # merged ticket into beside git's: `..merge_file_XXXXXX.PID-RANDOM.tmp`)
            remove_stale_temporaries(top)
    scratch.mkdir(parents=True, exist_ok=True)
    atomic_write(marker, f"{os.getpid()}\n")
    try:
        yield
    except KeyboardInterrupt:  # (Ctrl-C, SIGTERM: a git it ran may have been killed with
        raise  # it, its lock left; the marker stays, for the next sweep to clean up after)
    except BaseException:
        marker.unlink(missing_ok=True)
        raise
    marker.unlink(missing_ok=True)


def finish_unfinished(root: Path, scratch: Path) -> bool:
    """Before a sweep commits: a rebase an earlier sweep started and did not finish (it
    was killed: ``scratch/rebasing`` is still there) is aborted, which puts the branch and
    the stashed changes back as they were before it; True if there was one.  Any other
    unfinished operation (a person's rebase or merge) is a GitError: the sweep must not
    commit in the middle of it."""
    what = in_progress(root)
    marker = scratch / REBASING
    if what == "rebase" and marker.exists():
        output(root, "rebase", "--abort")
        marker.unlink(missing_ok=True)
        return True
    marker.unlink(missing_ok=True)
    if what is not None:
        raise GitError(
            f"a {what} is in progress in this clone: finish it (git {what} --continue) or "
            f"abort it (git {what} --abort); the sweep commits nothing until then"
        )
    return False


def file_history(root: Path, path: Path) -> list[tuple[str, str, str, str]]:
    """(commit, author, ISO date, subject) of every commit that touched ``path``, newest
    first: those ``--follow`` finds (across renames), and each merge whose result for it is
    no parent's (a conflict resolved by hand, or the merge driver's field-by-field merge),
    which ``--follow`` leaves out; never a merge that did not change it.  (``--follow``
    with ``--cc`` lists every merge of the repository, whatever it touched.)"""
    form = "--format=%H%x1f%an%x1f%aI%x1f%s%x1f%P"
    literal = {"GIT_LITERAL_PATHSPECS": "1"}  # (a folder named `desk*[1]` is no pattern:
    # it matched `desk1/`, whose commits were told; audit helper-427)
    try:
        log = output(  # (paths as they are, not quoted: compared with the file's name)
            root, "-c", "core.quotePath=false", "log", "--follow", "--format=%x00%H",
            "--name-status", "--", str(path), env=literal,
        )  # fmt: skip
        followed = _own_history(log, path.name)
        merges = output(root, "log", "--merges", "--format=%H", "--", str(path),
                        env=literal).split()  # fmt: skip
        commits = list(dict.fromkeys(followed + merges))
        out = output(root, "log", "--no-walk=sorted", form, *commits) if commits else ""
    except GitError:
        return []
    rows = []
    parents: dict[str, set[str]] = {}
    for line in out.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 5:
            rows.append((parts[0], parts[1], parts[2], parts[3]))
            parents[parts[0]] = set(parts[4].split())
    return _children_first(rows, parents)


def _own_history(log: str, name: str) -> list[str]:
    """The commits of ``git log --follow --name-status`` (each ``\\0HASH`` then its
    changes) that are of the ticket file ``name``: a rename is followed only from a file
    of the same name (the workspace moved), never from another ticket's, which git takes
    for a rename when two young tickets look alike (one removed as a duplicate, another
    made in that commit: `esc log` told the other's commits as this one's; audit
    helper-427)."""
    commits = []
    for block in log.split("\0")[1:]:
        lines = block.strip("\n").split("\n")
        commits.append(lines[0].strip())
        for line in lines[1:]:
            fields = line.split("\t")
            renamed = fields[0].startswith("R") and len(fields) == 3
            if renamed and fields[1].rsplit("/", 1)[-1] != name:
                return commits  # (made from another file: where this ticket begins)
    return commits


def _children_first(
    rows: list[tuple[str, str, str, str]], parents: Mapping[str, set[str]]
) -> list[tuple[str, str, str, str]]:
    """``rows`` (newest first, by date) with each commit before its parents among them: git
    sorts by time, and a merge made in the same second as its parent could come after it
    (`esc log` then told the merge before the commit it merged)."""
    waiting = {row[0]: sum(row[0] in parents[other[0]] for other in rows) for row in rows}
    out: list[tuple[str, str, str, str]] = []
    left = list(rows)
    while left:
        row = next((r for r in left if waiting[r[0]] == 0), left[0])  # (a cycle: as given)
        left.remove(row)
        out.append(row)
        for parent in parents[row[0]]:
            if parent in waiting:
                waiting[parent] -= 1
    return out


# ---------------------------------------------------------------- a base to compare with
# (`esc plan --base REF`, `esc check --changed-since REF`)


def base_commit(root: Path, ref: str, option: str) -> tuple[str, str | None]:
    """The commit to compare the work tree with: where HEAD forked from ``ref`` (their
    merge base), or ``ref`` itself when they share no history here; and a note then.
    GitError when they share none in a shallow clone: the fork point was not fetched.

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
    shallow = run(root, "rev-parse", "--is-shallow-repository").stdout.strip() == b"true"
    if shallow:  # (the fork point not fetched: compared with the tip of ``ref``, every change
        # made there since would be taken for the branch's own)
        raise GitError(
            f"{option} {ref}: {ref} and HEAD share no history in this shallow clone, so what "
            "changed cannot be told; fetch the whole history (actions/checkout's "
            "`fetch-depth: 0`, GitLab's `GIT_DEPTH: 0`, or `git fetch --unshallow`)"
        )
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
    found: dict[str, bytes] = {}
    for (name, _), data in zip(blobs, blob_texts(root, [sha for _, sha in blobs]), strict=True):
        if data is None:  # (a partial or damaged clone's object: it was an internal error,
            raise GitError(f"git cat-file: {name}: object missing")  # review helper-476)
        found[name] = data
    return found


def blob_texts(root: Path, names: Sequence[str]) -> list[bytes | None]:
    """The content of each blob ``names`` names (an id, or ``REV:./PATH``), read with one
    ``git cat-file --batch``: None for one missing, ambiguous or no blob.  GitError if git
    fails."""
    batch = run(root, "cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode())
    if batch.returncode != 0:
        raise GitError(f"git cat-file failed: {_last_line(batch)}")
    data, at = batch.stdout, 0
    found: list[bytes | None] = []
    while len(found) < len(names):
        end = data.find(b"\n", at)
        if end < 0:
            break
        header = data[at:end].split()
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            found.append(data[end + 1 : end + 1 + size] if header[1] == b"blob" else None)
            at = end + 1 + size + 1  # (each object ends with a newline)
        else:  # (`NAME missing`, `NAME ambiguous`)
            found.append(None)
            at = end + 1
    return found + [None] * (len(names) - len(found))


def paths_changed_since(root: Path, commit: str, folder: str) -> list[str]:
    """Paths under ``folder`` (relative to ``root``) whose content in the work tree differs
    from ``commit``'s, and new files git does not ignore; sorted."""
    new = run(root, "ls-files", "-z", "--others", "--exclude-standard", "--", folder)
    if new.returncode != 0:
        raise GitError(f"git ls-files failed: {_last_line(new)}")
    untracked = {n.decode("utf-8", "surrogateescape") for n in new.stdout.split(b"\0") if n}
    return sorted(untracked | set(tracked_changed_since(root, commit, folder)))


def tracked_changed_since(root: Path, commit: str, folder: str) -> list[str]:
    """Paths under ``folder`` (relative to ``root``) that ``commit`` has and whose content
    in the work tree differs from it (the index's stat data spare reading most)."""
    diff = run(
        root, "diff", "--name-only", "--relative", "--no-renames", "-z", commit, "--", folder
    )
    if diff.returncode != 0:
        raise GitError(f"git diff failed: {_last_line(diff)}")
    return [n.decode("utf-8", "surrogateescape") for n in diff.stdout.split(b"\0") if n]


def _last_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    """What git said went wrong, in one line (:func:`_reason`); for a lock file another git
    left (killed), the line that names the file (the last only says to remove it)."""
    lines = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
    named = [line for line in lines if "Unable to create" in line and ".lock" in line]
    if named:
        said = named[0].removeprefix("fatal: ").strip()
        return f"{said} (a git process killed while it ran? if none runs, remove that file)"
    return _reason(proc)


# What git adds after a failure to reach a remote, whatever the cause: the cause is the
# line before it (ssh's "Connection refused", "Permission denied (publickey)", "… does not
# appear to be a git repository").
_NO_REMOTE = "fatal: Could not read from remote repository."
_ADVICE = ("Please make sure you have the correct access rights", "and the repository exists.")


def _reason(proc: subprocess.CompletedProcess[bytes]) -> str:
    """Why git failed, in one line: its first ``fatal:`` or ``error:`` line (or, when that
    only says the remote could not be read, the line before it, which says why); else its
    last line."""
    text = (proc.stderr + proc.stdout).decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and line not in _ADVICE]
    if not lines:
        return f"exit {proc.returncode}"
    for n, line in enumerate(lines):
        if line == _NO_REMOTE and n > 0:
            cause = lines[n - 1].removeprefix("fatal: ").removeprefix("error: ")
            return f"{cause} (could not read from the remote repository)"
        if line.startswith(("fatal: ", "error: ")):
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return lines[-1]


def inside_git_work_tree(folder: Path) -> bool:
    """True if ``folder`` is inside a git work tree (and git can be run)."""
    try:
        proc = run(folder, "rev-parse", "--is-inside-work-tree")
    except GitError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == b"true"
