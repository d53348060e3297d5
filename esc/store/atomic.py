"""Writing files so that nothing is ever half-written or lost, and reading them whole.

Every file esc writes goes through :func:`atomic_write`, :func:`atomic_build` or
:func:`replace_if_unchanged` (but lock files, which hold no data, and the SQLite cache,
which SQLite writes in transactions): the new text goes to a temporary file beside the
target (named after the target and the writing process), is synced, then renamed into
place.  :func:`remove_stale_temporaries` deletes temporary files whose writer was killed.

A command that writes many files (the sweep) writes their temporary files first, unsynced
(:func:`write_unsynced`), syncs them all at once (:func:`sync_written`: one ``syncfs``
instead of an ``fsync`` per file), and only then renames each into place and syncs the
folder once: after a crash, every file is still old or new, as with one file at a time.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any


class NotRegularFile(Exception):
    """A path that is no regular file (a FIFO, a directory, a symlink, a device): what it
    is, in a few words."""


# Opening a FIFO to read would wait for a writer, and a device may do anything: a path is
# opened without following a symlink and without waiting, and read only if regular.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def read_with_stat(path: str | Path) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file and its stat, from one open; NotRegularFile for anything
    else (never opened blindly: a FIFO would hang the reader)."""
    fd, data, st = _open_and_read(path)
    os.close(fd)
    return data, st


def read_regular(path: str | Path) -> bytes:
    """The bytes of ``path`` through any symlink (a configuration file may be one), if it
    is a regular file; NotRegularFile for a device, FIFO or folder (/dev/zero would be read
    for ever, a FIFO would hang), FileNotFoundError if there is none."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"{_kind(st.st_mode)}, not a regular file")
        return _read_all(fd, st.st_size)
    finally:
        os.close(fd)


def holds(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` holds ``data`` now (a write made, whatever failed
    after it; False if it cannot be read)."""
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _open_and_read(path: str | Path) -> tuple[int, bytes, os.stat_result]:
    """:func:`read_with_stat`, the file left open: its descriptor (the caller closes it)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # (O_NOFOLLOW on a symlink)
            raise NotRegularFile(_what_link(path)) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"{_kind(st.st_mode)}, not a regular file")
        return fd, _read_all(fd, st.st_size), st
    except BaseException:
        os.close(fd)
        raise


def _read_all(fd: int, size: int) -> bytes:
    """Everything in the open regular file ``fd`` from its start (``size``: its size when
    last looked at)."""
    data = os.pread(fd, size + 1, 0)
    if len(data) <= size:  # all of it (a regular file reads short only at its end)
        return data
    chunks = [data]  # it grew since
    while chunks[-1]:
        chunks.append(os.pread(fd, 1 << 16, sum(map(len, chunks))))
    return b"".join(chunks)


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ]
    return next((name for test, name in kinds if test(mode)), "a special file")


def _what_link(path: str | Path) -> str:
    """A symlink described: where it points, and whether that exists."""
    try:
        target = os.readlink(path)
    except OSError:  # (no longer a symlink: it changed meanwhile)
        return "not a regular file"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"a symlink loop (to {target}), not a regular file"
        return f"a dangling symlink (to {target}), not a regular file"
    return (
        f"a symlink (to {target}), not a regular file; esc reads and writes tickets and "
        "articles as files"
    )


REGULAR_ONLY = "esc writes reports and exports to regular files only"


@contextlib.contextmanager
def folders_made_for(path: Path) -> Iterator[None]:
    """The folders ``path`` needs made (as ``mkdir -p``), and removed again if what is
    done within fails (a full disk): a write that fails leaves nothing, not even an
    empty folder; one that was there already stays."""
    missing = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        for made in reversed(missing):  # (one level at a time: a full disk part-way
            made.mkdir(exist_ok=True)  # leaves none of them)
        yield
    except BaseException:
        for made in missing:  # (innermost first; one another process filled stays)
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


def output_target(path: Path) -> Path:
    """Where a report or export the user asked for at ``path`` goes: ``path`` itself, or
    the file a symlink there leads to (written through, as ``cp`` does, so the link stays);
    NotRegularFile if that exists and is no regular file (a device such as /dev/null, a
    FIFO, a socket, a directory, a symlink loop), which esc never replaces, or if the
    symlink leads nowhere (as ``cp`` will not write through it)."""
    target = Path(os.path.realpath(path))
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        if os.path.islink(path):  # (cp: "not writing through dangling symlink")
            with contextlib.suppress(OSError):  # (one the kernel follows where realpath
                # cannot, a /proc link: `/dev/stdout` on a pipe is that pipe, say so)
                st = os.stat(path)
                if not stat.S_ISREG(st.st_mode):
                    raise NotRegularFile(f"{_kind(st.st_mode)}, not a regular file") from None
            raise NotRegularFile(_what_link(path)) from None
        for part in path.parents:  # (nor through a folder's: `pub/r.md`, pub a link to
            # nowhere, made the whole chain where it pointed, as `mkdir -p` will not;
            # export --csv refused it; audit helper-463)
            if os.path.islink(part) and not os.path.exists(part):
                said = f"{part} is a dangling symlink (to {os.readlink(part)})"
                raise NotRegularFile(said) from None
        return target
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFile(_what_link(path)) from None
        raise
    if stat.S_ISLNK(st.st_mode):  # (realpath stops at a loop)
        raise NotRegularFile(_what_link(target))
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(f"{_kind(st.st_mode)}, not a regular file")
    return target


def temporary_path(path: Path) -> Path:
    """Where a new version of ``path`` is written before it is renamed into place: a hidden
    file beside it named after it and this process (``.NAME.PID-RANDOM.tmp``), so the next
    sweep can tell a temporary file left by a killed process from one being written.  (A
    name too long for that, near the 255 bytes a file system takes, is cut.)"""
    name = path.name
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > TEMPORARY_NAME_BYTES:
        name = raw[:TEMPORARY_NAME_BYTES].decode("utf-8", "ignore")
    return path.with_name(f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")


TEMPORARY_NAME_BYTES = 200  # of the target's name in its temporary's (the rest: ~25 bytes)


def _write_temporary(
    path: Path, data: bytes, mode: int | None, *, sync: bool = True
) -> tuple[Path, os.stat_result]:
    """``data`` in a new temporary file beside ``path``, synced unless not ``sync``; its
    path and stat."""
    tmp = temporary_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
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


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """An OSError raised inside names ``path`` if it names no file (``os.write`` on a full
    disk says only "No space left on device") or only the temporary file beside it: the
    one line esc prints then says which file could not be written."""
    try:
        yield
    except OSError as exc:
        named = exc.filename
        temporary = named is not None and os.path.basename(named).startswith(f".{path.name}.")
        if (named is None or temporary) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


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
    with naming(path):
        tmp, st = _write_temporary(path, data, None if exclusive else _mode_of(path))
        _put_in_place(tmp, path, exclusive=exclusive)
        if sync_dir:
            sync_folder(path.parent)
    return st


def atomic_write_all(files: Iterable[tuple[Path, str | bytes]]) -> None:
    """Write each ``(path, text)`` as :func:`atomic_write` does, all or none: every new
    version is written (and synced) beside its file first, and only then are they renamed
    into place, so a full disk part-way leaves every file as it was, not a mix of old and
    new ones (an export's tables that no longer go together).  The OSError names the file
    that could not be written.  ``files`` may be made one at a time (a generator): each
    text is let go once its temporary file holds it."""
    made: list[tuple[Path, Path]] = []
    try:
        for path, text in files:
            data = text.encode("utf-8") if isinstance(text, str) else text
            with naming(path):
                tmp, _ = _write_temporary(path, data, _mode_of(path))
            made.append((tmp, path))
    except BaseException:
        for tmp, _ in made:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    for n, (tmp, path) in enumerate(made):
        try:
            with naming(path):
                _put_in_place(tmp, path, exclusive=False)
        except BaseException:
            for later, _ in made[n + 1 :]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(later)
            raise
    for folder in dict.fromkeys(path.parent for _, path in made):
        sync_folder(folder)


def atomic_build(
    path: Path,
    build: Callable[[Path], None],
    *,
    durable: bool = True,
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Replace ``path`` with a file that ``build(tmp)`` makes at a temporary path beside
    it (for a file a library writes, like an SQLite database): readers see the old file
    or the new one, never half.

    The new file is synced before its rename unless ``durable`` is False (a cache, which
    may be lost in a crash and is then rebuilt); ``before_rename`` runs just before it.
    """
    with naming(path):
        _build(path, build, durable, before_rename)


def _build(
    path: Path,
    build: Callable[[Path], None],
    durable: bool,
    before_rename: Callable[[], None] | None,
) -> None:
    tmp = temporary_path(path)
    try:
        build(tmp)
        if durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        mode = _mode_of(path)
        os.chmod(tmp, (0o666 & ~_umask()) if mode is None else mode)
        if before_rename is not None:
            before_rename()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _put_in_place(tmp, path, exclusive=False)
    if durable:
        sync_folder(path.parent)


def _put_in_place(tmp: Path, path: Path, *, exclusive: bool) -> None:
    """Rename the finished temporary file ``tmp`` to ``path`` (with ``exclusive``, only if
    no file of that name exists); ``tmp`` is removed if that fails."""
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


Written = tuple[Path, os.stat_result]  # a temporary file: its path and its stat


def write_unsynced(path: Path, text: str) -> Written:
    """A temporary file beside ``path`` holding ``text`` (with ``path``'s mode), not synced
    yet: :func:`sync_written` must sync it before it is renamed into place
    (:func:`replace_if_unchanged` with ``written``)."""
    with naming(path):
        return _write_temporary(path, text.encode("utf-8"), _mode_of(path), sync=False)


def sync_written(folder: Path, written: list[Written]) -> None:
    """Make the temporary files ``written`` (in ``folder``) durable: the file system that
    holds ``folder`` synced once (``syncfs``), or, where there is none, each file."""
    if not written:
        return
    if _syncfs(folder):
        return
    for tmp, _ in written:  # pragma: no cover - not Linux
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class SyncStarted:
    """:func:`sync_written` of ``written`` (in ``folder``), running in a thread of its own
    from now on: the caller goes on (a sweep plans its next batch) while the file system
    writes.  :meth:`wait` returns once the files are durable, or raises what the sync
    raised; nothing written may be renamed into place before it returns."""

    def __init__(self, folder: Path, written: list[Written]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._sync, args=(folder, written), name="esc-sync", daemon=True
        )
        self._thread.start()

    def _sync(self, folder: Path, written: list[Written]) -> None:
        try:
            sync_written(folder, written)
        except BaseException as exc:  # (handed to the caller: wait raises it)
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


_syncfs_call: Any = None  # libc's syncfs, looked up once (False: there is none)


def _syncfs(folder: Path) -> bool:
    """Sync the file system holding ``folder``; False if the system cannot."""
    global _syncfs_call
    import ctypes  # (here, not at the top: most commands write nothing)

    if _syncfs_call is None:
        try:
            _syncfs_call = ctypes.CDLL(None, use_errno=True).syncfs
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            _syncfs_call = False
    if _syncfs_call is False:  # pragma: no cover
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _syncfs_call(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(folder))
    finally:
        os.close(fd)
    return True


def replace_if_unchanged(
    path: Path,
    expected: str,
    text: str,
    *,
    sync_dir: bool = True,
    written: Written | None = None,
    garbage: Garbage | RemovalList | None = None,
) -> os.stat_result | None:
    """Replace ``path`` with ``text`` atomically if it still holds ``expected``; returns the
    stat of the file written, or None (nothing written) if it holds something else now.

    The caller holds the ticket's lock, so no esc process writes the file meanwhile; this
    guards against everything else (an editor's save, git).  The new text is put in place
    by exchanging it with the file (``renameat2`` with ``RENAME_EXCHANGE``, where the
    system has it): if what came out is not the file that was compared, a save landed in
    between and is put straight back.

    ``written`` is the temporary file already holding ``text`` (from :func:`write_unsynced`,
    then :func:`sync_written`): it is used instead of a new one, and removed if nothing is
    written.  With ``garbage``, the old version exchanged out (under a temporary name) is
    left to it to remove rather than removed here (see :class:`Garbage`, :class:`RemovalList`).
    """
    with naming(path):
        return _replace_if_unchanged(path, expected, text, sync_dir, written, garbage)


def _replace_if_unchanged(
    path: Path,
    expected: str,
    text: str,
    sync_dir: bool,
    written: Written | None,
    garbage: Garbage | RemovalList | None,
) -> os.stat_result | None:
    if written is None:
        written = _write_temporary(path, text.encode("utf-8"), _mode_of(path))
    tmp, st = written
    fd = -1
    try:
        try:
            fd, now, compared = _open_and_read(path)
        except FileNotFoundError:
            now = None
        if now != expected.encode("utf-8"):
            os.unlink(tmp)
            return None
        try:
            exchanged = _exchange(tmp, path)
        except FileNotFoundError:
            if not os.path.lexists(tmp):
                raise
            # (ours is there: the file was removed since it was compared, as a save that
            # deletes and writes anew does, git's checkout: not what was compared, so
            # nothing is written, and the caller reads it again; exit 3 it was)
            os.unlink(tmp)
            return None
        if not exchanged:
            os.replace(tmp, path)  # (no exchange here: a save in the last microsecond wins)
        else:
            # What came out must be the very file compared, holding what was compared: the
            # inode now at ``tmp`` is the one still open here (it cannot be reused while
            # open), read again through the same descriptor (an in-place save shows there)
            st_out = os.lstat(tmp)
            same = (st_out.st_ino, st_out.st_dev) == (compared.st_ino, compared.st_dev)
            if not same or _read_all(fd, st_out.st_size) != now:
                _put_back(tmp, path, st)
                return None
            if garbage is None:
                os.unlink(tmp)
            else:
                garbage.put(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(tmp).st_ino == st.st_ino:
                os.unlink(tmp)
        raise
    finally:
        if fd >= 0:
            os.close(fd)
    if sync_dir:
        sync_folder(path.parent)
    return st


class Garbage:
    """Files that are junk once written elsewhere (the old versions of files
    :func:`replace_if_unchanged` exchanged out), removed by a thread of their own while
    the caller goes on: removing a file costs ~0.3 ms of waiting on the file system, most
    of it not CPU (the journal), which a sweep that rewrites thousands of tickets spent
    one after the other.

    Each file is junk under its temporary name (``.NAME.PID-RANDOM.tmp``): if the process
    dies before the thread removes it, the next sweep does (:func:`remove_stale_temporaries`),
    and no file in place is ever half old and half new.  :meth:`close` waits until every
    file put is gone; the thread must not outlive the work that put them (a process forked
    while it runs would not have it).
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending: list[str] = []

    def put(self, path: Path | str) -> None:
        """Remove ``path`` soon: once :meth:`flush` (or :meth:`close`) hands it over."""
        self._pending.append(os.fspath(path))

    def flush(self) -> None:
        """Hand the files put so far to the thread, which removes them while the caller goes
        on (all at once: waking the thread for each file cost a switch between threads
        per ticket)."""
        if not self._pending:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._remove, name="esc-garbage", daemon=True)
            self._thread.start()
        self._queue.put(self._pending)
        self._pending = []

    def _remove(self) -> None:
        while (paths := self._queue.get()) is not None:
            for path in paths:
                with contextlib.suppress(OSError):  # (gone, or not removable: the next sweep's)
                    os.unlink(path)

    def close(self) -> None:
        """Wait until every file put has been removed (or could not be)."""
        self.flush()
        # (a thread whose start a Ctrl-C cut short may never have run: nothing to wait for,
        # and joining it was an internal error; the next sweep removes what it had to)
        if self._thread is not None and self._thread.ident is not None:
            self._queue.put(None)
            self._thread.join()
        self._thread = None


class RemovalList:
    """Old versions exchanged out (see :class:`Garbage`), only listed: for another process
    to remove (a sweep's worker hands them to the sweep, whose thread removes them while
    the workers go on).  Until then each is junk under its temporary name, which the next
    sweep removes if nothing else does (:func:`remove_stale_temporaries`)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def put(self, path: Path) -> None:
        self.paths.append(os.fspath(path))

    def flush(self) -> None:
        """(Nothing to hand over: :attr:`paths` are taken as they are.)"""

    def close(self) -> None:
        """(Nothing to wait for.)"""


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
    import ctypes

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


STALE_SECONDS = 3600.0  # a temporary file this old is junk, whoever made it

# esc's temporary files: .NAME.PID-RANDOM.tmp (temporary_path), and an older esc's
# .tickets.sqlite.PID.new and .NAME.XXXXXXXX.tmp (no process id).
_TEMPORARY = re.compile(r"\..+\.(?:(\d+)-[0-9a-f]{8}\.tmp|(\d+)\.new|[a-z0-9_]{8}\.tmp)\Z")


def _stale_temporary(path: Path, name: str) -> bool:
    """Whether ``name`` is a temporary file of esc's that is junk: its writer is no longer
    running (where the system cannot tell a process id reused, an hour old is junk too)."""
    match = _TEMPORARY.match(name)
    if match is None:
        return False
    try:
        written = os.stat(path, follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return False
    age = time.time() - written
    writer = match[1] or match[2]
    if writer is None:  # an older esc's: junk once it is ten minutes old
        return age > 600
    pid = int(writer)
    if not process_running(pid):
        return True
    started = process_started(pid)  # (a process id is reused once its process is gone)
    if started is None:  # (no /proc to tell a reused id by: an hour is surely no write)
        return age > STALE_SECONDS
    # (a writer still running, stopped for hours by Ctrl-Z or a suspended machine, keeps
    # its file: removing it made its rename fail, an internal error, its write lost)
    return started > written + 2.0  # (btime is in whole seconds)


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (a Unix time), if /proc says."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        with open("/proc/stat", "rb") as handle:
            boot = next(line for line in handle if line.startswith(b"btime "))
    except (OSError, StopIteration):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return float(boot.split()[1]) + int(fields[19]) / ticks


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


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files in ``folder`` whose writer is gone; the paths removed."""
    removed = []
    for name in _names(folder):
        if name[0] == ".":
            path = folder / name
            if _stale_temporary(path, name) and _unlink(path):
                removed.append(path)
    return removed


def remove_temporaries_of_gone_or(folder: Path, writer: int) -> None:
    """Delete the temporary files in ``folder`` whose writer is gone, and those of process
    ``writer`` (one that stopped part-way: none of its writes goes on)."""
    for name in _names(folder):
        match = _TEMPORARY.match(name) if name[0] == "." else None
        if match is not None:
            path = folder / name
            mine = (match[1] or match[2]) == str(writer)
            with contextlib.suppress(OSError):  # (what cannot go stays for the next sweep)
                if mine or _stale_temporary(path, name):
                    os.unlink(path)


def cannot_write_in(folder: Path) -> str | None:
    """Why esc could not write a file in ``folder`` (None if it can), found by writing and
    removing a temporary file there; a folder not made yet is judged by the nearest one
    above it that exists, where it would be made."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return f"{folder}: no folder to make it in"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    try:
        tmp, _ = _write_temporary(probe / "write-test", b"", None)
        os.unlink(tmp)
    except OSError as exc:
        return f"{probe}: {exc.strerror or exc}"
    return None
