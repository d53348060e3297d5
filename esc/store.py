"""The workspace on disk: the only module that reads or writes files.

A workspace is a folder with teams.yaml, rules.yaml and tickets/.  Every write is atomic
(temporary file, fsync, rename) and a file that does not parse is never rewritten.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import io
import os
import pickle
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from esc import __version__, ids, lock, ticketfile
from esc.config import RULES_FILE, TEAMS_FILE, Config, Finding
from esc.errors import ConfigError, EscError, ParseError, WorkspaceNotFound
from esc.model import Activity, Change, Ticket
from esc.ticketfile import TicketDoc

TICKETS_DIR = "tickets"
CACHE_DIR = ".esc-cache"
REPORTS_DIR = "reports"
TEMPLATES_DIR = "templates"


class _PlainPickler(pickle.Pickler):
    """Pickles ruamel.yaml's subclasses of str, int, float, dict and list (which keep
    quoting and line numbers) as the plain types: reading the kept configuration back
    then needs no ruamel.yaml."""

    def reducer_override(self, obj: object) -> Any:
        kind = type(obj)
        if kind in _PLAIN or not kind.__module__.startswith("ruamel."):
            return NotImplemented
        if isinstance(obj, str):
            return str, (str(obj),)
        if isinstance(obj, int):
            return int, (int(obj),)
        if isinstance(obj, float):
            return float, (float(obj),)
        if isinstance(obj, dict):
            return dict, (dict(obj),)
        if isinstance(obj, list):
            return list, (list(obj),)
        return NotImplemented


_PLAIN = frozenset({str, int, float, dict, list})


def _config_key(texts: tuple[str, str]) -> bytes:
    """What a parsed configuration depends on: the files' text and esc's own source files
    (their names, sizes and times: another esc, or an edited one, parses afresh)."""
    h = hashlib.blake2b(digest_size=16)
    package = os.path.dirname(os.path.abspath(__file__))
    h.update(f"{__version__}\0{package}\0{pickle.HIGHEST_PROTOCOL}\0".encode())
    with os.scandir(package) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.endswith(".py"):
                st = entry.stat()
                h.update(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little") + data)
    return h.digest()


def find_root(start: Path, explicit: str | None = None) -> Path:
    """The workspace: ``explicit`` (--root / ESC_ROOT), else the nearest folder upwards."""
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not (root / TEAMS_FILE).is_file():
            raise WorkspaceNotFound(f"{explicit}: not an esc workspace (no {TEAMS_FILE})")
        return root
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / TEAMS_FILE).is_file() and (folder / TICKETS_DIR).is_dir():
            return folder
    raise WorkspaceNotFound(
        "no esc workspace here or above (a folder with teams.yaml and tickets/); "
        "run `esc init` or pass --root"
    )


def read_with_stat(path: str | Path) -> tuple[bytes, os.stat_result]:
    """The bytes of a file and its stat, from one open."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        data = os.read(fd, st.st_size + 1)
        if len(data) <= st.st_size:  # all of it (a regular file reads short only at its end)
            return data, st
        chunks = [data]  # it grew since the fstat
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks), st
    finally:
        os.close(fd)


def temporary_path(path: Path) -> Path:
    """Where a new version of ``path`` is written before it is renamed into place: a hidden
    file beside it named after it and this process (``.NAME.PID-RANDOM.tmp``), so the next
    sweep can tell a temporary file left by a killed process from one being written."""
    return path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")


def _write_temporary(path: Path, data: bytes, mode: int | None) -> tuple[Path, os.stat_result]:
    """``data`` in a new temporary file beside ``path``, synced; its path and stat."""
    tmp = temporary_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            os.fchmod(fd, (0o666 & ~_umask()) if mode is None else mode)
            st = os.fstat(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp, st


def _mode_of(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None


def atomic_write(
    path: Path, text: str | bytes, *, exclusive: bool = False, sync_dir: bool = True
) -> os.stat_result:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half;
    returns the stat of the file written.

    With ``exclusive`` the write fails with FileExistsError if ``path`` exists.  The
    folder is synced afterwards (so the rename survives a crash) unless ``sync_dir`` is
    False: then the caller calls :func:`sync_folder` once after a batch of writes.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    tmp, st = _write_temporary(path, data, None if exclusive else _mode_of(path))
    try:
        if exclusive:
            os.link(tmp, path)  # fails if path exists: no clobbering a ticket made meanwhile
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        sync_folder(path.parent)
    return st


def replace_if_unchanged(
    path: Path, expected: str, text: str, *, sync_dir: bool = True
) -> os.stat_result | None:
    """Replace ``path`` with ``text`` atomically if it still holds ``expected``; returns the
    stat of the file written, or None (nothing written) if it holds something else now.

    The caller holds the ticket's lock, so no esc process writes the file meanwhile; this
    guards against everything else (an editor's save, git).  The new text is put in place
    by exchanging it with the file (``renameat2`` with ``RENAME_EXCHANGE``, where the
    system has it): if what came out is not the file that was compared, a save landed in
    between and is put straight back.
    """
    data = text.encode("utf-8")
    tmp, st = _write_temporary(path, data, _mode_of(path))
    try:
        try:
            now, compared = read_with_stat(path)
        except FileNotFoundError:
            now = None
        if now != expected.encode("utf-8"):
            os.unlink(tmp)
            return None
        if not _exchange(tmp, path):
            os.replace(tmp, path)  # (no exchange here: a save in the last microsecond wins)
        else:
            out, st_out = read_with_stat(tmp)
            if st_out.st_ino != compared.st_ino or out != now:
                _put_back(tmp, path, st)
                return None
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(tmp).st_ino == st.st_ino:
                os.unlink(tmp)
        raise
    if sync_dir:
        sync_folder(path.parent)
    return st


def _put_back(tmp: Path, path: Path, ours: os.stat_result) -> None:
    """A save came in just before the exchange: give ``path`` back what it held."""
    _exchange(tmp, path)
    if os.stat(tmp).st_ino == ours.st_ino:
        os.unlink(tmp)
    else:  # another save came in meanwhile: the newest stays
        os.replace(tmp, path)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Any = None  # libc's renameat2, looked up once (False: there is none)


def _exchange(a: Path, b: Path) -> bool:
    """Swap the files at ``a`` and ``b`` atomically; False if the system cannot."""
    global _renameat2
    if _renameat2 is None:
        try:
            _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
        except (OSError, AttributeError):  # pragma: no cover - not Linux, or an old libc
            _renameat2 = False
    if _renameat2 is False:  # pragma: no cover
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # pragma: no cover - the file system
        return False
    raise OSError(error, os.strerror(error), str(b))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sync_folder(folder: Path) -> None:
    """Make the renames done in ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a command waits for a ticket another one is writing
STALE_SECONDS = 3600.0  # a temporary file this old is junk, whoever made it


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
                teams = (self.root / TEAMS_FILE).read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
            try:
                rules = (self.root / RULES_FILE).read_text(encoding="utf-8")
            except FileNotFoundError:
                rules = ""
            self._texts = (teams, rules)
        return self._texts

    def config_findings(self) -> tuple[Config | None, list[Finding]]:
        """The configuration (None if unusable) and every finding in its files; kept in
        the user cache, keyed by the files' text and esc's own code."""
        texts = self.config_texts()
        if texts is None:
            return None, [Finding(TEAMS_FILE, 1, "file is missing")]
        key = _config_key(texts)
        kept = self._kept_config(key)
        if kept is not None:
            return kept
        from esc.configfile import build_config  # (ruamel.yaml only when needed)

        found = build_config(texts[0], texts[1])
        self._keep_config(key, found)
        return found

    def _config_cache(self) -> Path | None:
        """Where this workspace's parsed configuration is kept (one file per workspace)."""
        base = user_cache_dir()
        if base is None:
            return None
        name = hashlib.blake2b(str(self.root).encode(), digest_size=8).hexdigest()
        return base / "config" / f"{name}.pickle"

    def _kept_config(self, key: bytes) -> tuple[Config | None, list[Finding]] | None:
        path = self._config_cache()
        try:
            data = path.read_bytes() if path is not None else b""
        except OSError:
            return None
        try:
            kept_key, found = pickle.loads(data)
        except Exception:  # a damaged or foreign cache file is not used (and replaced)
            return None
        return found if kept_key == key else None

    def _keep_config(self, key: bytes, found: tuple[Config | None, list[Finding]]) -> None:
        path = self._config_cache()
        if path is None:
            return
        try:
            out = io.BytesIO()
            _PlainPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump((key, found))
            data = out.getvalue()
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data, sync_dir=False)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass  # a cache that cannot be written is simply not kept

    def config(self) -> Config:
        """The configuration; a broken one stops the command with its first problem."""
        if self._config is None:
            config, findings = self.config_findings()
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

    def read(self, path: Path) -> TicketDoc:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(self.rel(path), 1, f"not UTF-8 text: {exc.reason}") from None
        return ticketfile.parse(text, self.rel(path))

    def scan(self) -> Iterator[TicketDoc | ParseError]:
        """Every ticket file, parsed; files that do not parse come back as their error."""
        for path in self.ticket_paths():
            try:
                yield self.read(path)
            except ParseError as exc:
                yield exc

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
        if exact.is_file():  # a full ID: no need to list the folder
            return exact
        try:
            names = os.listdir(self.tickets_dir)
        except FileNotFoundError:
            names = []
        stems = [n[:-3] for n in names if n.endswith(".md") and not n.startswith(".")]
        return self.tickets_dir / f"{ids.resolve(ref, stems, prefix)}.md"

    def load(self, ref: str) -> TicketDoc:
        return self.read(self.resolve(ref))

    @contextlib.contextmanager
    def ticket_lock(self, path: Path, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock of the ticket file at ``path`` (see :mod:`esc.lock`)."""
        with lock.hold_ticket(
            self.root / CACHE_DIR,
            path.name,
            self.lock_timeout if timeout is None else timeout,
            self.holder,
            self.on_wait,
        ):
            yield

    def update(self, ref: str, operation: Callable[[Ticket], Change]) -> Ticket:
        """Apply ``operation`` to one ticket and write it back atomically if it changed.

        The ticket's lock is held from reading to writing, so concurrent writers of the
        ticket take turns and none loses another's change; if something that takes no lock
        (an editor, git) changed the file meanwhile, the file is read and changed again.
        """
        path = self.resolve(ref)
        with self.ticket_lock(path):
            for _ in range(REWRITE_TRIES):
                doc = self.read_existing(path)
                change = operation(doc.ticket)
                if not change:
                    return doc.ticket
                text = ticketfile.apply_change(doc, change)
                if replace_if_unchanged(path, doc.text, text) is not None:
                    return ticketfile.parse(text, doc.path).ticket
        raise EscError(f"{self.rel(path)}: the file kept changing while esc wrote it; try again")

    def read_existing(self, path: Path) -> TicketDoc:
        """:meth:`read`, with a ticket removed meanwhile an expected problem."""
        try:
            return self.read(path)
        except FileNotFoundError:
            raise EscError(f"{self.rel(path)}: the ticket was removed") from None

    def create(
        self,
        build: Callable[[str], tuple[dict[str, object], list[Activity]]],
        description: str,
    ) -> Ticket:
        """Write a new ticket under a fresh ID; ``build`` makes its front-matter from the ID."""
        self.tickets_dir.mkdir(exist_ok=True)
        prefix = self.config().id_prefix
        for _ in range(10):
            ticket_id = ids.new_id(prefix, set(self.ticket_ids()))
            front, activity = build(ticket_id)
            text = ticketfile.render_new(front, description, activity)
            path = self.tickets_dir / f"{ticket_id}.md"
            try:
                atomic_write(path, text, exclusive=True)
            except FileExistsError:
                continue
            return ticketfile.parse(text, self.rel(path)).ticket
        raise EscError("could not find a free ticket ID")  # pragma: no cover

    def remove_stale_temporaries(self, *folders: Path) -> list[str]:
        """Delete what killed esc processes left behind: temporary files in tickets/, the
        cache and ``folders`` (the sweep's reports) whose process is gone (or that are an
        hour old), and ticket lock files nobody holds.  Returns the paths removed."""
        removed = []
        cache_dir = self.root / CACHE_DIR
        for folder in (self.tickets_dir, cache_dir, *folders):
            for name in _names(folder):
                if name[0] == ".":
                    path = folder / name
                    if _stale_temporary(path, name) and _unlink(path):
                        removed.append(self.rel(path))
        locks = cache_dir / lock.TICKET_LOCKS
        for name in _names(locks):
            if name.endswith(".lock"):
                ticket = name.removesuffix(".lock")
                fd = lock.try_ticket(cache_dir, ticket)
                if fd is not None:
                    lock.let_go(cache_dir, ticket, fd)
                    removed.append(self.rel(locks / name))
        return removed

    def write_if_changed(self, folder: Path, files: dict[str, str], dry_run: bool) -> list[str]:
        """Write each file of ``folder`` whose content differs; returns those paths."""
        changed = []
        for name, text in files.items():
            path = folder / name
            try:
                same = path.read_text(encoding="utf-8") == text
            except (OSError, UnicodeDecodeError):  # (none yet, or not a file: writing says)
                same = False
            if same:
                continue
            if not dry_run:
                self.write_output(path, text)
            changed.append(self.rel(path))
        return changed

    def write_output(self, path: Path, text: str) -> None:
        """Write a report or export the user asked for, atomically."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text)
        except OSError as exc:
            raise EscError(f"cannot write {path}: {exc.strerror or exc}") from None

    def write_new_file(self, relpath: str, text: str, force: bool) -> bool:
        """Write a starter file; False if it exists and ``force`` is not given."""
        path = self.root / relpath
        if path.exists() and not force:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
        return True


REWRITE_TRIES = 5  # reads of a ticket that keeps changing before a command gives up


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _unlink(path: Path) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


# esc's temporary files: .NAME.PID-RANDOM.tmp (temporary_path), the cache's
# .tickets.sqlite.PID.new, and an older esc's .NAME.XXXXXXXX.tmp (no process id).
_TEMPORARY = re.compile(r"\..+\.(?:(\d+)-[0-9a-f]{8}\.tmp|(\d+)\.new|[a-z0-9_]{8}\.tmp)\Z")


def _stale_temporary(path: Path, name: str) -> bool:
    """Whether ``name`` is a temporary file of esc's that is junk: its writer is no longer
    running, or it is too old to be anybody's write in progress."""
    match = _TEMPORARY.match(name)
    if match is None:
        return False
    try:
        age = time.time() - os.stat(path, follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return False
    writer = match[1] or match[2]
    if writer is None:  # an older esc's: junk once it is ten minutes old
        return age > 600
    return age > STALE_SECONDS or not process_running(int(writer))


def process_running(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie, dead but not yet waited
    for, does not)."""
    if pid == os.getpid():
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rpartition(b")")[2].split()[:1]
        return state != [b"Z"]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def user_cache_dir() -> Path | None:
    """esc's cache of what it derives from its own code and a workspace's configuration,
    like Python's .pyc files: ``$XDG_CACHE_HOME/esc`` (default ``~/.cache/esc``); None if
    there is no home."""
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(os.path.expanduser("~"), ".cache") if os.path.expanduser("~") != "~" else ""
    )
    return Path(base, "esc") if base else None


def compiled_templates_dir() -> Path | None:
    """Where jinja keeps compiled report templates between runs (``templates`` in the
    user cache).  Jinja checks each against its source, so it is never stale."""
    base = user_cache_dir()
    return base / "templates" if base is not None else None
