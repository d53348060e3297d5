"""The workspace: a folder with teams.yaml, rules.yaml and tickets/; finding it, its
configuration, and reading, changing and creating its tickets.

Every ticket is written atomically (:mod:`esc.store.atomic`) under its lock
(:mod:`esc.store.lock`); a file that does not parse is never rewritten.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from esc.domain import ids
from esc.domain.config import RULES_FILE, TEAMS_FILE, Config, Finding
from esc.domain.errors import (
    ConfigError,
    EscError,
    ParseError,
    WorkspaceNotFound,
    utf8_text,
)
from esc.domain.model import Activity, Change, Ticket, whole_number
from esc.store import atomic, lock, user_cache
from esc.store.names import resolved, undecodable_name
from esc.ticketfile import document, problems
from esc.ticketfile.document import TicketDoc

TICKETS_DIR = "tickets"
REREADS = 4  # times a file that does not parse is read again while it reads differently
SETTLE = 0.005  # seconds before the first read again (doubled each time: 75 ms in all)


def _reappears(path: Path) -> bool:
    """Whether the file at ``path``, missing, is back within 75 ms (:func:`settle`): an
    editor that saves by renaming the file away (``T-….md~``) and writing a new one leaves
    no file there for an instant, and a command that came then said "no ticket", or "the
    ticket was removed"."""
    for tries in range(REREADS):
        settle(tries)
        if path.is_file():
            return True
    return False


def settle(tries: int) -> None:
    """Wait before reading again a file that did not parse: an editor saving it in place
    (truncate, then write) was caught half way, and read again at once it still is (two
    empty reads in one instant agree); a file that is truly broken reads the same after
    the first wait, and costs that alone (5 ms), but an empty one, which no ticket is, is
    waited for in full (75 ms: an editor that truncates, then writes)."""
    time.sleep(SETTLE * 2**tries)
ATTACHMENTS_DIR = "attachments"  # what intake saves of a message, by ticket
CACHE_DIR = ".esc-cache"
CONFIGS_DIR = "configs"  # (in CACHE_DIR: the configurations sweeps ran under, config_versions)
REPORTS_DIR = "reports"
TEMPLATES_DIR = "templates"
QUARANTINE_DIR = "quarantine"  # (what intake could not take: see esc.store.mail)


def share_with_group(root: Path) -> None:
    """A workspace whose folder its group may write (a shared box: people or agents as
    users of one group) gets the files and folders esc makes writable by that group too,
    as git's ``core.sharedRepository = group`` does: under the usual umask 022 the first
    user's lock files (0644) locked every other user out of every ticket.  (The process's
    umask: the command is one process; an in-process caller restores it.)"""
    try:
        mode = os.stat(root).st_mode
    except OSError:
        return
    if mode & stat.S_IWGRP:
        current = os.umask(0)
        os.umask(current & ~0o070)


def find_root(start: Path, explicit: str | None = None) -> Path:
    """The workspace: ``explicit`` (--root / ESC_ROOT), else the nearest folder upwards."""
    if explicit:
        try:
            given = Path(explicit).expanduser()
        except RuntimeError:  # (~name of no user, or no home: as a shell, take it as it is)
            given = Path(explicit)
        root = resolved(given, "--root")
        if not os.path.lexists(root / TEAMS_FILE):  # (one that is there but no file esc
            # can read, a folder or a link to nowhere, is named as its problem when read)
            raise WorkspaceNotFound(f"{explicit}: not an esc workspace (no {TEAMS_FILE})")
        return root
    here = resolved(start, "the current folder")
    for folder in (here, *here.parents):
        # (a teams.yaml there in any form: this folder's, named as its problem when read,
        # never a workspace further up, which would get what was meant for this one)
        if os.path.lexists(folder / TEAMS_FILE) and (folder / TICKETS_DIR).is_dir():
            return folder
    raise WorkspaceNotFound(
        "no esc workspace here or above (a folder with teams.yaml and tickets/); "
        "run `esc init` or pass --root"
    )



DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a command waits for a ticket another one is writing


def _config_bytes(root: Path, name: str) -> bytes:
    """teams.yaml or rules.yaml as bytes; one that is no regular file is a ConfigError."""
    path = root / name
    try:
        return atomic.read_regular(path)
    except atomic.NotRegularFile as exc:  # (a folder too: opened read-only, then fstat'ed)
        raise ConfigError(name, 0, str(exc)) from None
    except FileNotFoundError:
        if os.path.islink(path):  # (a link to nowhere is no "no rules": a file went astray)
            target = os.readlink(path)
            why = f"a dangling symlink (to {target}), not a file esc can read"
            raise ConfigError(name, 0, why) from None
        raise




@dataclass
class Workspace:
    root: Path
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    holder: str = "esc"  # who holds the locks this workspace takes (e.g. "esc comment")
    on_wait: Callable[[str], None] | None = None  # told when a lock is slow to come
    _config: Config | None = None
    _texts: tuple[str, str] | None = None

    @property
    def tickets_dir(self) -> Path:
        return self.root / TICKETS_DIR

    def rel(self, path: str | Path) -> str:
        """A path as users see it in messages: relative to the workspace."""
        text, root = str(path), os.path.join(self.root, "")  # (str: faster than relative_to)
        if text == str(self.root):
            return "."
        return text[len(root) :] if text.startswith(root) else text

    # ------------------------------------------------------------ configuration

    def config_texts(self) -> tuple[str, str] | None:
        """The text of teams.yaml and rules.yaml ("" if there is none), read once; None
        without a teams.yaml."""
        if self._texts is None:
            try:
                teams = _config_bytes(self.root, TEAMS_FILE)
            except FileNotFoundError:
                return None
            try:
                rules = _config_bytes(self.root, RULES_FILE)
            except FileNotFoundError:
                rules = b""
            self._texts = (
                utf8_text(teams, TEAMS_FILE, ConfigError),
                utf8_text(rules, RULES_FILE, ConfigError),
            )
        return self._texts

    def config_findings(self) -> tuple[Config | None, list[Finding]]:
        """The configuration (None if unusable) and every finding in its files; kept in
        the user cache, keyed by the files' text and esc's own code."""
        texts = self.config_texts()
        if texts is None:
            return None, [Finding(TEAMS_FILE, 1, "file is missing")]
        kept = user_cache.kept_configuration(self.root, texts)
        if kept is not None:
            return kept
        from esc.config.loading import build_config  # (ruamel.yaml only when needed)

        found = build_config(texts[0], texts[1])
        user_cache.keep_configuration(self.root, texts, found)
        return found

    def config(self) -> Config:
        """The configuration; a broken one stops the command with its first problem (rules
        that can loop do not: `esc validate` reports them, the action cap stops them)."""
        if self._config is None:
            config, found = self.config_findings()
            findings = [f for f in found if f.blocking]
            if findings or config is None:
                first = findings[0] if findings else Finding(TEAMS_FILE, 1, "cannot be used")
                more = (
                    f" (and {len(findings) - 1} more; run `esc validate`)"
                    if len(findings) > 1
                    else ""
                )
                raise ConfigError(first.path, first.line, first.message + more)
            self._config = config
        return self._config

    # ------------------------------------------------------------ tickets

    def ticket_paths(self) -> list[Path]:
        try:
            names = os.listdir(self.tickets_dir)
        except FileNotFoundError:
            return []
        return [
            self.tickets_dir / n
            for n in sorted(names)
            if n.endswith(".md") and not n.startswith(".")
        ]

    def ticket_ids(self) -> list[str]:
        return [p.stem for p in self.ticket_paths()]

    def read(self, path: Path, strict: bool = True) -> TicketDoc:
        """The ticket file at ``path``, parsed; ParseError if it does not parse or is no
        regular file, and (if ``strict``) if it does not validate on its own.  A file that
        does not parse is read again while it reads differently (an editor saving it in
        place was caught half way: empty, or cut short), up to :data:`REREADS` times."""
        data = self.read_bytes(path)
        for tries in range(REREADS):
            try:
                return parse_ticket(data, self.rel(path), strict)
            except ParseError:
                settle(tries)
                again = self.read_bytes(path)
                if again == data and data.strip():  # (an empty file is an editor's save
                    raise  # under way, truncated and not written yet: waited for in full)
                data = again
        return parse_ticket(data, self.rel(path), strict)

    def read_bytes(self, path: Path) -> bytes:
        """The bytes of a ticket file; a path that is no regular file is a ParseError."""
        try:
            return atomic.read_with_stat(path)[0]
        except atomic.NotRegularFile as exc:
            raise ParseError(self.rel(path), 0, str(exc)) from None

    def scan(self, strict: bool = True) -> Iterator[TicketDoc | ParseError]:
        """Every ticket file, parsed; files that do not parse (or, if ``strict``, do not
        validate) come back as their error."""
        for path in self.ticket_paths():
            unreadable = undecodable_name(path.name, TICKETS_DIR)
            if unreadable is not None:
                yield unreadable
                continue
            try:
                yield self.read(path, strict)
            except ParseError as exc:
                yield exc
            except FileNotFoundError:  # (removed since the folder was listed)
                continue
            except PermissionError as exc:  # (one file: the others are still read)
                yield ParseError(self.rel(path), 0, f"cannot be read: {exc.strerror}")

    def tickets(self) -> tuple[list[Ticket], list[ParseError]]:
        good: list[Ticket] = []
        bad: list[ParseError] = []
        for item in self.scan():
            if isinstance(item, ParseError):
                bad.append(item)
            else:
                good.append(item.ticket)
        return good, bad

    def resolve(self, ref: str) -> Path:
        prefix = self.config().id_prefix
        exact = self.tickets_dir / f"{ids.normalise_ref(ref, prefix)}.md"
        try:
            found = exact.is_file()  # (a full ID: its file, unless another case has one too)
        except OSError as exc:  # a name too long for any file is no ticket's: listed below
            if exc.errno != errno.ENAMETOOLONG:
                raise
            found = False
        if not found and ids.is_whole_id(exact.stem, prefix):
            found = _reappears(exact)  # (an editor saving it was caught in between)
        try:
            names = os.listdir(self.tickets_dir)
        except FileNotFoundError:
            names = []
        if found:
            # (`t-AAAA0001.md` beside `T-aaaa0001.md`: one ID twice, which every command
            # refuses, however it is typed, until one is renamed; a file system that
            # ignores case lists the one file once)
            size, lowered = len(exact.name), exact.name.lower()
            if sum(len(n) == size and n.lower() == lowered for n in names) <= 1:
                return exact
        stems = [n[:-3] for n in names if n.endswith(".md") and not n.startswith(".")]
        return self.tickets_dir / f"{ids.resolve(ref, stems, prefix)}.md"

    def load(self, ref: str) -> TicketDoc:
        return self.read_existing(self.resolve(ref))

    @contextlib.contextmanager
    def ticket_lock(
        self, path: Path, timeout: float | None = None, batches: float = 0.0
    ) -> Iterator[None]:
        """Hold the lock of the ticket file at ``path`` (see :mod:`esc.store.lock`; a
        sweep's batches waited for at least ``batches`` seconds)."""
        with lock.hold_ticket(
            self.root / CACHE_DIR,
            path.name,
            self.lock_timeout if timeout is None else timeout,
            self.holder,
            self.on_wait,
            batches,
        ):
            yield

    def update(
        self,
        ref: str,
        operation: Callable[[Ticket], Change],
        before_write: Callable[[Path, bytes], None] | None = None,
    ) -> Ticket:
        """Apply ``operation`` to one ticket and write it back atomically if it changed.

        The ticket's lock is held from reading to writing, so concurrent writers of the
        ticket take turns and none loses another's change; if something that takes no lock
        (an editor, git) changed the file meanwhile, the file is read and changed again.
        ``before_write`` is told the path and the bytes just before each write (as
        :meth:`create` tells it).
        """
        self._require_no_rebase_left()  # (first: while git has it out, no file to find)
        path = self.resolve(ref)
        with self.ticket_lock(path):
            for tries in range(REWRITE_TRIES):
                if tries:  # (an editor saving in place again and again: let it finish)
                    time.sleep(REWRITE_PAUSE * 2 ** (tries - 1))
                doc = problems.require_valid(self.read_existing(path), self.config())
                change = operation(doc.ticket)
                if not change:
                    return doc.ticket
                text = document.apply_change(doc, change)
                if before_write is not None:
                    before_write(path, text.encode("utf-8"))
                if atomic.replace_if_unchanged(path, doc.text, text) is not None:
                    return document.parse(text, doc.path).ticket
        raise EscError(f"{self.rel(path)}: the file kept changing while esc wrote it; try again")

    def _require_no_rebase_left(self) -> None:
        """EscError if a sweep was stopped while it rebased onto the remote (killed by a
        cron or CI timeout): the next committing sweep aborts that rebase, which puts the
        work tree back as it was before it, and a ticket written meanwhile would lose its
        change then.  Nothing is written until a sweep has finished it."""
        folder = self.root / CACHE_DIR
        marker = folder / lock.REBASING
        if not marker.exists():
            return
        from esc.store import git  # (only when a sweep left its marker: most never do)

        # a sweep that rebases now (it holds the workspace lock) is waited for, as a
        # writer waits for a sweep's batch: its rebase ends, or it aborts it, shortly; and
        # from when it notes it, before git's own rebase begins (its autostash and reset
        # take the ticket files out and put them back, while git says no rebase runs)
        deadline = time.monotonic() + self.lock_timeout
        while marker.exists():
            holder = lock.workspace_holder(folder)
            if holder is not None and f" pid {os.getpid()} on " in f" {holder}":
                holder = None  # (this process's own lock, as intake holds it: not a sweep's)
            owner = _marker_owner(marker)  # (the sweep that noted it: it holds the lock)
            if owner is not None and holder is not None and f" pid {owner} on " not in f" {holder}":
                holder = None  # (another process holds it, as intake does: not that sweep)
            if git.in_progress(self.root) != "rebase":
                # (that sweep, running its catch-up, holds the workspace lock; else the note
                # is a stopped one's, whose rebase never began or was ended by hand: nothing
                # to wait for)
                if owner is None or holder is None:
                    return
            elif holder is None:
                raise EscError(
                    "a sweep was stopped while it rebased onto the remote; run `esc sweep "
                    "--commit` (or `--push`), which finishes it, then this again; nothing "
                    "was written"
                )
            if time.monotonic() > deadline:
                raise lock.LockTimeout(
                    f"{holder} is rebasing onto the remote; gave up after {self.lock_timeout:g}s"
                    f" {lock.TICKET_WAIT_SETTING}; nothing was written"
                )
            time.sleep(lock.POLL_SECONDS)

    def read_existing(self, path: Path) -> TicketDoc:
        """:meth:`read`, with a ticket removed meanwhile an expected problem; one gone for
        an instant (an editor saving it by renaming it away, then writing it anew, as
        Emacs's first save does) is read once it is back (:func:`_reappears`)."""
        try:
            return self.read(path)
        except FileNotFoundError:
            if _reappears(path):
                with contextlib.suppress(FileNotFoundError):
                    return self.read(path)
            raise EscError(f"{self.rel(path)}: the ticket was removed") from None

    def create(
        self,
        build: Callable[[str], tuple[dict[str, object], list[Activity]]],
        description: str,
        before_write: Callable[[Path, bytes], None] | None = None,
    ) -> Ticket:
        """Write a new ticket under a fresh ID; ``build`` makes its front-matter from the ID.
        ``before_write`` is told the path and the bytes just before they are written (a
        journal of esc's writes: a process killed after the write leaves it noted)."""
        self._require_no_rebase_left()
        self.tickets_dir.mkdir(exist_ok=True)
        prefix = self.config().id_prefix
        for _ in range(10):
            ticket_id = ids.new_id(prefix, set(self.ticket_ids()), secrets.randbelow)
            front, activity = build(ticket_id)
            path = self.tickets_dir / f"{ticket_id}.md"
            text = document.render_new(front, description, activity, self.rel(path))
            if before_write is not None:
                before_write(path, text.encode("utf-8"))
            try:
                atomic.atomic_write(path, text, exclusive=True)
            except FileExistsError:
                continue
            return document.parse(text, self.rel(path)).ticket
        raise EscError("could not find a free ticket ID")  # pragma: no cover

    def remove_stale_temporaries(self, *folders: Path) -> list[str]:
        """Delete what killed esc processes left behind: temporary files in tickets/, the
        cache (and its configs/), the outbox, kb/ and ``folders`` (the sweep's reports)
        whose process is gone (or that are an
        hour old), and ticket lock files nobody holds.  Returns the paths removed."""
        cache_dir = self.root / CACHE_DIR
        from esc.store.kb import KB_DIR  # (not at start-up: few commands need them)
        from esc.store.outbox import Outbox

        outbox = Outbox(self.root)
        every = (
            self.tickets_dir, cache_dir, outbox.folder, outbox.sent_folder, self.root / KB_DIR,
            cache_dir / CONFIGS_DIR, *folders,
        )  # fmt: skip
        removed = [path for folder in every for path in atomic.remove_stale_temporaries(folder)]
        removed += lock.remove_unheld_ticket_locks(cache_dir)
        return [self.rel(path) for path in removed]

    def remove_leftover_temporaries(self) -> None:
        """Delete the temporary files in tickets/ of this process, and of those that are
        gone, once a sweep stopped part-way (Ctrl-C, SIGTERM, an error): every write of
        theirs has ended, so each is junk (a new text never put in place, an old version
        taken out of place)."""
        atomic.remove_temporaries_of_gone_or(self.tickets_dir, os.getpid())

    def remove_stale_attachments(self) -> list[str]:
        """Delete the temporary files a killed intake left among the attachments it was
        saving (``attachments/ID/.NAME.PID-RANDOM.tmp``, its process gone); the paths
        removed.  (Intake calls it under the lock it holds: one folder per ticket with
        attachments is too many to list on every sweep.)"""
        try:
            folders = [e.path for e in os.scandir(self.root / ATTACHMENTS_DIR) if e.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        removed = [p for f in folders for p in atomic.remove_stale_temporaries(Path(f))]
        return [self.rel(path) for path in removed]

    def attachments_without_ticket(self) -> list[str]:
        """The folders of ``attachments/`` named for a ticket that has no file in tickets/
        (an intake killed after it saved a new ticket's attachments, before it wrote the
        ticket; or a ticket deleted), as paths relative to the workspace, sorted."""
        try:
            folders = [e.name for e in os.scandir(self.root / ATTACHMENTS_DIR) if e.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [
            f"{ATTACHMENTS_DIR}/{name}"
            for name in sorted(folders)
            if not name.startswith(".") and not (self.tickets_dir / f"{name}.md").exists()
        ]

    def refuse_own(self, path: Path) -> None:
        """Refuse (EscError) to write a report or export over, or into, the workspace's own
        files (``--out tickets/T-….md``, ``--sqlite rules.yaml``): a ticket, rules.yaml,
        teams.yaml, .gitattributes, .gitignore, or anything in tickets/, kb/, attachments/,
        templates/, the quarantine, esc's cache or a .git folder, through a symlink too.
        Only git could bring them back (and .git not even that)."""
        from esc.store.kb import KB_DIR  # (not at start-up: few commands need it)

        target = os.path.realpath(path)
        root = os.path.realpath(self.root)
        files = (TEAMS_FILE, RULES_FILE, ".gitattributes", ".gitignore")
        folders = (TICKETS_DIR, KB_DIR, ATTACHMENTS_DIR, TEMPLATES_DIR, QUARANTINE_DIR,
                   CACHE_DIR, ".git")  # fmt: skip
        found = next(
            (
                name if name in files else f"{name}/"
                for name in (*files, *folders)
                if target == os.path.join(root, name)
                or (name in folders and target.startswith(os.path.join(root, name, "")))
            ),
            ".git/" if ".git" in Path(target).parts else None,  # (a repository's, above)
        )
        if found is not None:
            raise EscError(
                f"cannot write {path}: it is the workspace's own ({found}), which a report"
                " or export never replaces; name a file elsewhere (reports/, say)"
            )

    def write_output(self, path: Path, text: str) -> None:
        """Write a report or export the user asked for, atomically: through a symlink, as
        ``cp`` does; never over a device, FIFO or anything else that is no regular file."""
        try:
            target = atomic.output_target(path)
            with atomic.folders_made_for(target):
                atomic.atomic_write(target, text)
        except atomic.NotRegularFile as exc:
            raise EscError(f"cannot write {path}: {exc}; {atomic.REGULAR_ONLY}") from None
        except OSError as exc:
            raise EscError(f"cannot write {path}: {exc.strerror or exc}") from None

    def write_pieces_if_changed(self, path: Path, pieces: Iterable[str], dry_run: bool) -> bool:
        """Write the text of a sweep's report, ``pieces``, to ``path`` as :meth:`write_output`
        does, unless the file holds that text already; whether it differed.  But a report
        file that is a symlink is refused: a sweep runs from cron on what a commit put there,
        and one pointing anywhere would have it overwrite any file it may write (its folder
        may be one: reports/ linked to a web server's).  The text is compared and written a
        few thousand pieces at a time, never held whole (a sweep's reports at 100,000 open
        tickets are 20-70 MB each)."""
        if os.path.islink(path):
            leads_to = ""
            with contextlib.suppress(OSError):  # (gone or changed since: said all the same)
                leads_to = f" (to {os.readlink(path)})"
            raise EscError(
                f"cannot write {self.rel(path)}: a symlink{leads_to}; a sweep writes its reports"
                " as files, never through a link a commit could point anywhere"
            )
        if dry_run:
            try:  # (the file a symlink leads to, as a write would compare)
                compared = atomic.output_target(path)
            except (atomic.NotRegularFile, OSError):
                compared = path
            with _Comparison(compared) as old:
                for data in _encoded(pieces):
                    old.feed(data)
                return not old.finish()

        def build(tmp: Path) -> None:
            with _Comparison(target) as old, open(tmp, "xb") as out:
                for data in _encoded(pieces):
                    out.write(data)
                    old.feed(data)
                if old.finish():
                    raise _Same  # (the temporary file is removed: nothing is written)

        try:
            target = atomic.output_target(path)
            with atomic.folders_made_for(target):
                atomic.atomic_build(target, build)
        except _Same:
            return False
        except atomic.NotRegularFile as exc:
            raise EscError(f"cannot write {path}: {exc}; {atomic.REGULAR_ONLY}") from None
        except OSError as exc:
            raise EscError(f"cannot write {path}: {exc.strerror or exc}") from None
        return True

    def read_text_file(self, relpath: str) -> str | None:
        """The text of a file of the workspace (None: there is none); an unreadable or
        non-UTF-8 one is an expected error naming it."""
        return read_text_file(self.root / relpath, relpath)

    def write_new_file(self, relpath: str, text: str, force: bool) -> bool:
        """Write a starter file; False if it exists and ``force`` is not given."""
        path = self.root / relpath
        if path.exists() and not force:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.atomic_write(path, text)
        return True



def read_text_file(path: Path, relpath: str) -> str | None:
    """The text of a file of the workspace (None: there is none), read only if it is a
    regular file (a FIFO there hung `esc init` for ever); an unreadable or non-UTF-8 one
    is an expected error naming it."""
    try:
        return utf8_text(atomic.read_regular(path), relpath)
    except FileNotFoundError:
        return None
    except atomic.NotRegularFile as exc:
        raise EscError(f"cannot read {path}: {exc}") from None
    except OSError as exc:
        raise EscError(f"cannot read {path}: {exc.strerror or exc}") from None


class _Same(Exception):
    """The text to write is the one the file holds already."""


def _encoded(pieces: Iterable[str], size: int = 4096) -> Iterator[bytes]:
    """The pieces of a text as UTF-8, joined ``size`` at a time."""
    it = iter(pieces)
    while batch := list(itertools.islice(it, size)):
        yield "".join(batch).encode("utf-8")


class _Comparison:
    """Whether a file holds the bytes fed to it, read as they come (a file that is not a
    regular file, or none, holds nothing: it is never opened blindly, a FIFO would hang)."""

    def __init__(self, path: Path) -> None:
        self.same = True
        self._fd: int | None = None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            self.same = False
            return
        if stat.S_ISREG(os.fstat(fd).st_mode):
            self._fd = fd
        else:
            os.close(fd)
            self.same = False

    def __enter__(self) -> _Comparison:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _read(self, size: int) -> bytes:
        assert self._fd is not None
        chunks = []
        while size > 0 and (chunk := os.read(self._fd, min(size, 1 << 20))):
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def feed(self, data: bytes) -> None:
        if self.same:
            self.same = self._read(len(data)) == data

    def finish(self) -> bool:
        """Whether the file held exactly the bytes fed (nothing more)."""
        if self.same:
            self.same = self._read(1) == b""
        return self.same


REWRITE_TRIES = 8  # reads of a ticket that keeps changing before a command gives up
REWRITE_PAUSE = 0.005  # seconds before the second read, doubled before each next (~0.6 s in all)


def parse_ticket(data: bytes, rel: str, strict: bool = True) -> TicketDoc:
    """A ticket file's bytes parsed (``rel``: its path in messages); ParseError if they are
    not UTF-8 or do not parse, and (if ``strict``) if the ticket does not validate on its
    own (see :func:`esc.ticketfile.problems.require_valid`)."""
    doc = document.parse(utf8_text(data, rel), rel)
    return problems.require_valid(doc, None) if strict else doc


def _marker_owner(marker: Path) -> int | None:
    """The process id of the sweep that noted its rebase in ``marker`` (None: gone, or
    noted by an older esc, which wrote none)."""
    try:
        lines = marker.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return whole_number(lines[1]) if len(lines) > 1 else None
