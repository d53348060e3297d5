"""What a committing sweep may write, and what it wrote and has not committed yet.

A sweep with ``--commit`` writes only tickets that hold what is committed (or what an
earlier sweep wrote and could not commit): a ticket with a person's uncommitted edit is
left for the next sweep, so the edit is never committed under the sweep's name.  Before
it writes a ticket, the sweep notes the ticket's path and the blob id of the text it
writes in a journal (``.esc-cache/sweep-pending``); its commit takes each journalled
ticket whose file still holds exactly that text.  So a commit that fails (no git
identity, a killed sweep, HEAD moved) strands nothing: the next sweep commits it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from esc.store import atomic, git
from esc.store.workspace import ATTACHMENTS_DIR, CACHE_DIR, TICKETS_DIR

JOURNAL = "sweep-pending"


class Guard(Protocol):
    """What a sweep asks before it writes a ticket, and tells once it has (or has not)."""

    def why_not(self, path: str, text: str) -> str | None: ...

    def wrote(self, path: str, text: str) -> None: ...

    def unwrote(self, path: str) -> None: ...


@dataclass
class Pending:
    """The committed state of the tickets, and the journal of the sweep's writes."""

    root: Path  # the workspace
    head: dict[str, str]  # blob id in HEAD by workspace-relative ticket path
    staged: set[str]  # ticket paths whose index entry differs from HEAD
    written: dict[str, str] = field(default_factory=dict)  # the journal: path -> blob id
    # what the journal held when loaded: written by intake or an earlier sweep, not
    # committed yet (a sweep whose push is rejected never takes those back)
    before: frozenset[str] = frozenset()
    loaded: dict[str, str] = field(default_factory=dict)  # the journal when loaded
    # the ids git gives the files as it stores them (:class:`Blobs`)
    blobs: Blobs = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.blobs = Blobs(self.root)

    @classmethod
    def load(cls, root: Path) -> Pending:
        pending = cls(root, git.head_blobs(root, TICKETS_DIR), git.staged_paths(root, TICKETS_DIR))
        pending.written = pending.journal()
        pending.before = frozenset(pending.written)
        pending.loaded = dict(pending.written)
        return pending

    def journal(self) -> dict[str, str]:
        """The journal as it is on disk (worker processes add to it): the blob id last
        written by path."""
        try:
            lines = (self.root / CACHE_DIR / JOURNAL).read_text(encoding="utf-8").splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            lines = []
        written = {}
        for line in lines:
            try:
                path, blob = json.loads(line)
            except (ValueError, TypeError, RecursionError):
                continue  # (a line a killed sweep left half-written, or not esc's)
            if isinstance(path, str) and isinstance(blob, str) and blob:
                written[path] = blob
            elif isinstance(path, str) and blob == "":  # (noted, then not written: unwrote)
                written.pop(path, None)
        return written

    def why_not(self, path: str, text: str) -> str | None:
        """Why the sweep may not write ``path`` that holds ``text``, or None if it may."""
        if path in self.staged:
            return "has uncommitted changes"
        data = text.encode("utf-8")
        if self.head.get(path) in self.blobs.ids(path, data):
            return None
        if self.written.get(path) == self.blobs.blob(path, data):
            return None
        return "has uncommitted changes" if path in self.head else "is not committed yet"

    def wrote(self, path: str, text: str) -> None:
        """Note that the sweep is about to write ``text`` to ``path`` (before it does, so
        a sweep killed after writing leaves it noted)."""
        self.written[path] = note(self.root, path, text.encode("utf-8"), self.blobs)

    def restore(self, path: str, blob: str | None) -> None:
        """The journal names ``blob`` for ``path`` again (None: nothing), as it did before
        a write noted ahead that did not happen."""
        _append(self.root, path, blob or "")
        if blob:
            self.written[path] = blob
        else:
            self.written.pop(path, None)

    def unwrote(self, path: str) -> None:
        """Note that the sweep did not write ``path`` after all (noted ahead, the file
        changed before it was put in place, and it is a person's now): the journal names
        what it named before this sweep, so the sweep neither commits it nor says a person
        changed what it wrote."""
        previous = self.loaded.get(path, "")
        _append(self.root, path, previous)
        if previous:
            self.written[path] = previous
        else:
            self.written.pop(path, None)

    def committed_or_ours(self, path: str, data: bytes | None) -> bool:
        """Whether ``data`` (a file's bytes; None: no file) is what HEAD or an esc write
        left there: a change esc makes on top of it is esc's alone to commit."""
        if path in self.staged:
            return False
        if data is None:
            return path not in self.head
        blobs = self.blobs
        return self.head.get(path) in blobs.ids(path, data) or self.written.get(
            path
        ) == blobs.blob(path, data)


    def committed_as_is(self, path: str) -> bool:
        """Whether the file at ``path`` holds what HEAD has (a person committed it since)."""
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            return False
        return self.head.get(path) in self.blobs.ids(path, data)

    def to_commit(self) -> dict[str, str]:
        """The journalled tickets whose file still holds what the sweep wrote and that
        HEAD does not have yet: blob id (stored in git) by path."""
        self.written = self.journal()
        blobs = self.blobs
        candidates = []
        read: dict[str, tuple[str, ...]] = {}
        for path, blob in self.written.items():
            try:
                data = (self.root / path).read_bytes()
            except OSError:
                continue
            if blobs.blob(path, data) == blob and self.head.get(path) != blob:
                candidates.append(path)
                read[path] = blobs.ids(path, data)
        # (stored as `git add` stores them: with the line endings git converts converted)
        stored = git.store_files(self.root, candidates, filters=blobs.any_converted)
        # (a file changed between reading and storing it is a person's now: not committed)
        kept = {path: blob for path, blob in stored.items() if blob in read[path]}
        # (a new ticket's attachments go with their ticket, or wait with it: committed alone,
        # other clones got a folder no ticket has, which doctor advised to remove; audit
        # helper-437)
        tickets = {p for p in kept if p.startswith(f"{TICKETS_DIR}/")} | set(self.head)
        return {
            path: blob
            for path, blob in kept.items()
            if not path.startswith(f"{ATTACHMENTS_DIR}/")
            or f"{TICKETS_DIR}/{path.split('/')[1]}.md" in tickets
        }

    def forget(self) -> None:
        """After a commit: the journal keeps nothing (whatever it held is committed, or is
        a person's to commit now, as the file changed after the sweep wrote it)."""
        self.written.clear()
        journal = self.root / CACHE_DIR / JOURNAL
        if journal.exists():
            atomic.atomic_write(journal, "")


@dataclass
class Follower:
    """The journal kept by a sweep without ``--commit``: it writes any ticket, and a ticket
    that holds what a committing sweep wrote and could not commit yet (no git identity, a
    killed sweep) it journals again with its own new text, which is esc's too.  So the next
    ``--commit`` sweep commits it, never taking it for a person's edit left for good."""

    root: Path
    written: dict[str, str]  # the journal: path -> blob id
    # the paths about to be written over that hold what the journal names (that blob id)
    following: dict[str, str] = field(default_factory=dict)

    blobs: Blobs = field(init=False, repr=False)  # (as Pending's)

    def __post_init__(self) -> None:
        self.blobs = Blobs(self.root)

    @classmethod
    def load(cls, root: Path) -> Follower | None:
        """The follower of the workspace's journal; None when it names nothing."""
        written = Pending(root, {}, set()).journal()
        return cls(root, written) if written else None

    def why_not(self, path: str, text: str) -> str | None:
        blob = self.blobs.blob(path, text.encode("utf-8"))
        if self.written.get(path) == blob:
            self.following[path] = blob
        else:  # (a person's edit since: theirs, as a committing sweep leaves it)
            self.following.pop(path, None)
        return None

    def wrote(self, path: str, text: str) -> None:
        if path in self.following:
            self.written[path] = note(self.root, path, text.encode("utf-8"), self.blobs)

    def unwrote(self, path: str) -> None:
        previous = self.following.pop(path, None)
        if previous is not None:  # (noted, never written: the file holds what it held)
            _append(self.root, path, previous)
            self.written[path] = previous


def note(root: Path, path: str, data: bytes, blobs: Blobs) -> str:
    """Journal that esc wrote ``data`` to ``path`` (relative to the workspace ``root``):
    the next ``--commit`` sweep commits it if the file still holds it.  The blob id (as
    git stores it: :meth:`Blobs.blob`)."""
    blob = blobs.blob(path, data)
    _append(root, path, blob)
    return blob


class Blobs:
    """The blob ids git gives files of a workspace's clone as `git add` stores them: with
    their CRLF line endings made LF where git converts them (:func:`git.converts_crlf`,
    asked once for the files of each folder and ending).  Compared byte for byte, every
    ticket of a clone whose checkout makes CRLF (Git for Windows' ``core.autocrlf``, an
    ``eol=crlf`` attribute) held "uncommitted changes", and no committing sweep ever
    swept one (audit helper-413)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._converted: dict[tuple[str, str], bool] = {}

    def converted(self, path: str) -> bool:
        folder, _, name = path.rpartition("/")
        key = (folder.partition("/")[0], name.rpartition(".")[2] if "." in name else "")
        found = self._converted.get(key)
        if found is None:
            try:
                found = git.converts_crlf(self.root, path)
            except git.GitError:
                found = False
            self._converted[key] = found
        return found

    @property
    def any_converted(self) -> bool:
        """Whether git converts the line endings of any file asked of so far."""
        return any(self._converted.values())

    def stored(self, path: str, data: bytes) -> bytes:
        """``data``, written to ``path``, as git stores it."""
        if b"\r\n" in data and self.converted(path):
            return data.replace(b"\r\n", b"\n")
        return data

    def blob(self, path: str, data: bytes) -> str:
        """The blob id git stores ``data`` as, written to ``path``."""
        return git.blob_id(self.stored(path, data))

    def ids(self, path: str, data: bytes) -> tuple[str, ...]:
        """:meth:`blob`, and the id of ``data`` byte for byte if that differs (a file
        committed with CRLF before git was told to convert: `git add` leaves it so)."""
        blob, raw = self.blob(path, data), git.blob_id(data)
        return (blob,) if blob == raw else (blob, raw)


def _append(root: Path, path: str, blob: str) -> None:
    """One line of the journal: ``path`` holds ``blob`` as esc wrote it ("": forget it)."""
    line = json.dumps([path, blob]) + "\n"
    folder = root / CACHE_DIR
    folder.mkdir(exist_ok=True)
    journal = folder / JOURNAL
    with atomic.naming(journal):  # (a full disk: "cannot write .esc-cache/sweep-pending")
        # (0o666 less the umask, as every file esc makes: one made 0644 under umask 022 in
        # a workspace its group shares locked every other user's intake and committing
        # sweep out of it, for good: audit helper-448)
        fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, line.encode("utf-8"))  # one write: lines of workers never mix
        finally:
            os.close(fd)
