"""A local, git-ignored cache of parsed tickets and their SLA clocks (``.esc-cache/``).

It can never serve stale data: an entry is used only while its file's ``mtime_ns``, size
and inode are unchanged, the file was already older than the clock granularity when the
entry was verified, *and* its inode has not changed since (its change time, which no one
can set back); otherwise the file's content hash decides.  SLA data is also keyed
on a hash of teams.yaml, rules.yaml and esc's version.  A corrupt, truncated or
foreign-version cache is deleted and rebuilt; deleting it (tickets.sqlite: the rest of
``.esc-cache/`` is state, see the README) changes nothing but speed.
SQLite keeps two esc processes using it at once from corrupting it.

Every row is checked when it is read: the database's schema version, then a checksum of
the row's values (its file name included, so the types and the values are the ones esc
wrote); a row that fails it (corrupted inside a database that still opens) is dropped and
its file parsed again, as if it had never been cached, and the row written anew.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import sqlite3
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

from esc.store.atomic import atomic_build
from esc.store.diagnostics import fallback
from esc.store.user_cache import esc_build, zone_database

SCHEMA = 28  # 6: the article a resolution used (kb); 7: requests to other teams; 8: SLA
# verdicts as numbers, row checksums and validate's checked content; 9: list's row and SLA
# column as plain values, each ticket's fixed JSON text (a table of its own); 10: rows of
# files read before entry heads and log lines not in shape were problems (read again); 11:
# the fixed JSON text has `requests` (empty) for a ticket without any, and a .nan or .inf
# in the front-matter is a problem; 12: an escalation with an unknown key, or without `to`,
# is a problem (validate's clean verdicts of such files are void); 13: the texts of
# a file saved with CRLF line breaks are read with LF ones; 14: the status changes of a
# ticket with requests (its OLA clocks pause on them), and a request with an unknown key
# is a problem (validate's clean verdicts of such files are void); 15: a value holding a
# lone surrogate escape ("\ud800") is a problem
# 16: the times of the messages and replies of a ticket of several reply cycles, and its
# status changes (a report counts each cycle's next-response clock); 17: a ticket with
# requests is next looked at by a sweep when any request's own OLA clock crosses a mark;
# 18: the breaches of clocks a change of policy ended (sla.ended_breaches), for reports;
# 19: and when the change ended each (SLA compliance counts the clocks finished in a period);
# 20: the kept log lines name their field: the scores of a ticket with feedback given twice
# 21: a request asked before its ticket was created is a problem (validate's clean verdicts
# of such files are void); 22: the changes of team a re-routing by `classify` made; 23: a
# conversation entry head whose visibility is not its kind's, or an entry in the
# description (no `## Conversation` heading), or a title with a line break, is a problem
# (clean verdicts void); 24: a front-matter that is one flow mapping, which no command can
# edit, an assignee or customer with a control character, or a time whose UTC offset has
# seconds (`+01:00:30`), is a problem (clean verdicts void); 25: what reopening clears left
# on an active ticket, and a front-matter key named as a field esc's JSON computes (`level`,
# `description`…), are problems (clean verdicts void), and such a key is left out of the
# ticket's fixed JSON text; 26: list's SLA cell of a ticket no clock runs on is how they
# ended, "never answered" for a request left open when it was resolved; 27: the scores
# of a ticket with one feedback too (a later survey's score is not the feedback's); 28:
# meta rows carry a checksum (a damaged `reports_as_of` kept the sweep's reports as they
# were), an escalation without `by` or `reason`, or from a team or priority to itself, or a
# time whose offset's minutes are past 59 (in a field of one's own too), or a title,
# customer or assignee with a bidi control character, is a problem (clean verdicts void)
# Meta keys: a token that changes whenever a save changes what a ticket's row says, and
# the token the sweep's reports were rendered at (see Cache.tickets_changed).
TICKETS = "tickets"
REPORTED = "reported"
FILE = "tickets.sqlite"
RACY_NS = 2_000_000_000  # a file changed within 2 s of being verified is re-hashed


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def config_key(*texts: bytes) -> str:
    """What the SLA data (and validate's verdicts) depend on: this esc (its version and
    source files: :func:`esc.store.user_cache.esc_build`), the time-zone database its
    calendars read (:func:`esc.store.user_cache.zone_database`) and the configuration's
    text."""
    h = hashlib.blake2b(digest_size=16)
    h.update(esc_build())
    h.update(zone_database())
    for text in texts:
        h.update(len(text).to_bytes(8, "little"))
        h.update(text)
    return h.hexdigest()


@dataclass(slots=True)  # (no __dict__ per entry: 100k of them are loaded at once)
class CachedFile:
    mtime_ns: int
    size: int
    ino: int
    digest: bytes
    verified_ns: int
    summary: bytes  # marshal of the ticket summary, or of ("error", line, message)
    sla_key: str | None = None
    sla: bytes | None = None  # marshal of the SLA data, valid for sla_key
    next_event: float | None = None  # when the sweep must look at the ticket again
    status: str | None = None  # the ticket's status (None: the file does not parse)
    sla_time: float | None = None  # the Unix time the SLA data was computed for
    settled: float | None = None  # a closed or resolved ticket: the Unix time of its last event
    # The SLA's verdicts as numbers (Unix times), valid with ``sla``: the earliest warning
    # instant and the earliest due instant of its running (not paused) clocks.  From the
    # first the ticket is in warning, from the second overdue (esc.store.catalog.standing).
    warn_at: float | None = None
    due_at: float | None = None
    # marshal of (config key, ticket ID, line of its id) once `esc validate` found nothing
    # wrong in this very content under that configuration
    checked: bytes | None = None
    # marshal of what a row of `esc list` shows of the ticket (cache_codec.listing_of)
    listing: bytes | None = None
    # marshal of the numbers the SLA column of `esc list` needs, valid with ``sla``
    # (cache_codec.cell_numbers)
    cell: bytes | None = None

    def row(self) -> tuple[Any, ...]:
        """The fields in order (as stored, and as ``CachedFile(*row)`` takes them back)."""
        return (
            self.mtime_ns,
            self.size,
            self.ino,
            self.digest,
            self.verified_ns,
            self.summary,
            self.sla_key,
            self.sla,
            self.next_event,
            self.status,
            self.sla_time,
            self.settled,
            self.warn_at,
            self.due_at,
            self.checked,
            self.listing,
            self.cell,
        )

    def checksum(self, name: str) -> int:
        """A checksum of the row of file ``name`` (its values and their types)."""
        return _checksum(name, self.row())

    def trusted(self, st: os.stat_result) -> bool:
        """The file is this entry's, judged by stat alone (no read)."""
        return _trusted(st, self.mtime_ns, self.size, self.ino, self.verified_ns)


class Stamp(NamedTuple):
    """What `esc validate` needs of a row (:meth:`Cache.stamps`): whether a file is still
    the one the row describes, and what validate found in that content."""

    mtime_ns: int
    size: int
    ino: int
    digest: bytes
    verified_ns: int
    status: str | None
    checked: bytes | None

    def trusted(self, st: os.stat_result) -> bool:
        """As :meth:`CachedFile.trusted`."""
        return _trusted(st, self.mtime_ns, self.size, self.ino, self.verified_ns)


def _trusted(st: os.stat_result, mtime_ns: int, size: int, ino: int, verified_ns: int) -> bool:
    """Whether the file is surely as it was verified: the same modification time, size
    and inode, that time not within the clock's granularity of the verification, and
    its inode not changed since (the change time, which no one can set back, moves with
    a rewrite in place whose modification time was put back, as by ``touch -d``), and
    the verification not in the future (a clock that ran fast and was set back: a change
    made since would pass for one made before it)."""
    return (
        st.st_mtime_ns == mtime_ns
        and st.st_size == size
        and st.st_ino == ino
        and st.st_mtime_ns < verified_ns - RACY_NS
        and st.st_ctime_ns <= verified_ns
        and verified_ns <= time.time_ns()
    )


class Cache:
    """The entries of one workspace, loaded at once and saved at the end of a command."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE
        self.entries: dict[str, CachedFile] = {}
        self.dirty: dict[str, CachedFile] = {}
        self.removed: set[str] = set()
        self.meta: dict[str, str] = {}
        self.dirty_meta: dict[str, str] = {}
        self.damaged_meta: list[object] = []  # keys of meta rows that failed their check
        self.damaged: list[object] = []  # names of the rows that failed their check on load
        # fixed JSON texts made since loading, to be written: name -> (digest, key, parts)
        self.dirty_texts: dict[str, tuple[bytes, str, bytes]] = {}
        # Whether a ticket's row says something new (a file new, changed or gone): the
        # next save then gives the tickets a new token (TICKETS), so that a sweep knows
        # its reports are stale whichever command saw the change first.  ``reporting``:
        # the reports the sweep rendered show what this process saves (REPORTED follows).
        self.tickets_changed = False
        self.reporting = False
        self._token: str | None = None  # the TICKETS token as this process knows it

    def load(self) -> None:
        try:
            self.entries, self.meta = self._read()
        except (sqlite3.Error, ValueError, EOFError, TypeError, OSError) as exc:
            fallback(f"{self.path}: cache not used, rebuilt ({type(exc).__name__}: {exc})")
            self.entries, self.meta = {}, {}
            self._reset()
        self._token = self.meta.get(TICKETS)

    @property
    def reports_stale(self) -> bool:
        """Whether a ticket's row changed since the sweep's reports were rendered (by any
        command: `esc list` reads a changed file, and saves its row, first)."""
        return bool(self.damaged_meta) or self.meta.get(TICKETS) != self.meta.get(REPORTED)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def _read(self) -> tuple[dict[str, CachedFile], dict[str, str]]:
        if not self.path.exists():
            return {}, {}
        with contextlib.closing(self._connect()) as db:
            if _foreign(db):
                raise ValueError("foreign cache version")
            meta = {}
            for key, value, check in db.execute("SELECT key, value, checksum FROM meta"):
                if type(key) is str and type(value) is str and _meta_checksum(key, value) == check:
                    meta[key] = value
                else:
                    self.damaged_meta.append(key)
            entries = {}
            bad = []
            shared: dict[str | None, str | None] = {}  # (one object each: keys, statuses)
            for row in db.execute(  # (a row at a time: never all the rows and all the entries)
                "SELECT name, mtime_ns, size, ino, digest, verified_ns, summary, sla_key, sla,"
                " next_event, status, sla_time, settled, warn_at, due_at, checked, listing, cell,"
                " checksum"
                " FROM files"
            ):
                name, values, check = row[0], row[1:-1], row[-1]
                if type(name) is str and _read_checksum(name, values) == check:
                    entry = CachedFile(*values)
                    entry.sla_key = shared.setdefault(entry.sla_key, entry.sla_key)
                    entry.status = shared.setdefault(entry.status, entry.status)
                    entries[name] = entry
                else:
                    bad.append(name)
        if bad:  # parsed again (the cache has no entry for them) and written anew
            fallback(f"{self.path}: {len(bad)} damaged rows not used, rebuilt from their files")
            self.damaged.extend(bad)
        if self.damaged_meta:  # (as with no cache: the reports rendered again, say)
            fallback(f"{self.path}: {len(self.damaged_meta)} damaged meta rows not used")
        return entries, meta

    # `esc validate` reads every row but needs only a few of its values: it takes them as
    # stamps (a few hundred bytes a row, not the whole entry: 100k rows stay small) and
    # reads the whole rows of the files whose stamps it changes, a batch at a time.

    def stamps(self) -> dict[str, Stamp]:
        """Every row's :class:`Stamp` (instead of :meth:`load`: ``entries`` stays empty);
        rows that fail their check are left out and rewritten at the next save, as by
        :meth:`load`."""
        try:
            return self._stamps()
        except (sqlite3.Error, ValueError, EOFError, TypeError, OSError) as exc:
            fallback(f"{self.path}: cache not used, rebuilt ({type(exc).__name__}: {exc})")
            self._reset()
            return {}

    def _stamps(self) -> dict[str, Stamp]:
        if not self.path.exists():
            return {}
        stamps = {}
        bad = []
        shared: dict[str | None, str | None] = {}  # (one object per status)
        with contextlib.closing(self._connect()) as db:
            if _foreign(db):
                raise ValueError("foreign cache version")
            for row in db.execute(_SELECT_FILES):
                name, values, check = row[0], row[1:-1], row[-1]
                if type(name) is str and _read_checksum(name, values) == check:
                    entry = CachedFile(*values)
                    status = shared.setdefault(entry.status, entry.status)
                    stamps[name] = Stamp(
                        entry.mtime_ns,
                        entry.size,
                        entry.ino,
                        entry.digest,
                        entry.verified_ns,
                        status,
                        entry.checked,
                    )
                else:
                    bad.append(name)
        if bad:
            fallback(f"{self.path}: {len(bad)} damaged rows not used, rebuilt from their files")
            self.damaged.extend(bad)
        return stamps

    def stream(
        self, start: str | None = None, stop: str | None = None
    ) -> Iterator[tuple[str, CachedFile]]:
        """Every row's entry, one at a time in name order, none kept (instead of
        :meth:`load`, for a command that reads each ticket once: 100k entries are ~200 MB);
        with ``start`` and ``stop``, the rows of the names from ``start`` and before ``stop``.
        Rows that fail their check are left out and rewritten at the next save, as by
        :meth:`load`; a cache that cannot be read ends the stream (the rest is not used)
        and is rebuilt."""
        if not self.path.exists():
            return
        shared: dict[str | None, str | None] = {}  # (one object each: keys, statuses)
        bad = []
        try:
            with contextlib.closing(self._connect()) as db:
                if _foreign(db):
                    raise ValueError("foreign cache version")
                bounds = [("name >= ?", start), ("name < ?", stop)]
                where = [test for test, bound in bounds if bound is not None]
                cursor = db.execute(
                    f"{_SELECT_FILES}{' WHERE ' if where else ''}{' AND '.join(where)}"
                    " ORDER BY name",
                    [bound for _, bound in bounds if bound is not None],
                )
                while rows := cursor.fetchmany(500):  # (SQLite's steps not interleaved
                    for row in rows:  # with the caller's work: markedly faster)
                        name, values, check = row[0], row[1:-1], row[-1]
                        if type(name) is str and _read_checksum(name, values) == check:
                            entry = CachedFile(*values)
                            entry.sla_key = shared.setdefault(entry.sla_key, entry.sla_key)
                            entry.status = shared.setdefault(entry.status, entry.status)
                            yield name, entry
                        else:
                            bad.append(name)
        except (sqlite3.Error, ValueError, EOFError, TypeError, OSError) as exc:
            fallback(f"{self.path}: cache not used, rebuilt ({type(exc).__name__}: {exc})")
            self._reset()
        if bad:
            fallback(f"{self.path}: {len(bad)} damaged rows not used, rebuilt from their files")
            self.damaged.extend(bad)

    def read(self, names: list[str]) -> dict[str, CachedFile]:
        """The entries of the rows of ``names`` that exist and pass their check (not kept
        in ``entries``); none if the cache cannot be read."""
        found: dict[str, CachedFile] = {}
        if not names or not self.path.exists():
            return found
        try:
            with contextlib.closing(self._connect()) as db:
                if _foreign(db):
                    return found
                for row in _rows_named(db, _SELECT_FILES, names):
                    name, values, check = row[0], row[1:-1], row[-1]
                    if type(name) is str and _read_checksum(name, values) == check:
                        found[name] = CachedFile(*values)
        except (sqlite3.Error, ValueError, TypeError) as exc:  # (a cache only)
            fallback(f"{self.path}: cache rows not read ({type(exc).__name__}: {exc})")
        return found

    def _reset(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(str(self.path) + suffix)

    def put(self, name: str, entry: CachedFile) -> None:
        """Keep ``entry`` as the row of file ``name`` (a file read afresh, or written)."""
        old = self.entries.get(name)
        if old is None or old.digest != entry.digest:
            self.tickets_changed = True
        self.restamp(name, entry)

    def restamp(self, name: str, entry: CachedFile) -> None:
        """Keep ``entry`` as the row of file ``name``, whose content it says the same of as
        the row kept (the file verified again, or its SLA computed for another time)."""
        self.entries[name] = entry
        self.dirty[name] = entry
        self.removed.discard(name)

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value
        self.dirty_meta[key] = value

    def forget(self, names: Iterable[str]) -> None:
        for name in names:
            self.tickets_changed = True
            self.entries.pop(name, None)
            self.dirty.pop(name, None)
            self.dirty_texts.pop(name, None)
            self.removed.add(name)

    # Each ticket's fixed JSON text (``esc list --json``) lives in a table of its own, read
    # only by who asks for it, a few hundred rows at a time: kept with the entries, it
    # would be in memory for every command.  A text is (the content hash of the file it
    # was made from, the configuration key it was made under, its parts, marshalled);
    # who reads it compares the first two with the entry and the catalog.

    def put_text(self, name: str, digest: bytes, key: str, parts: bytes) -> None:
        self.dirty_texts[name] = (digest, key, parts)

    def texts(self, names: Iterable[str]) -> dict[str, tuple[bytes, str, bytes]]:
        """The JSON texts stored (or made since loading) for ``names`` that pass their
        check: name -> (digest, key, parts); a name without one is left out."""
        found = {}
        wanted = []
        for name in names:
            made = self.dirty_texts.get(name)
            if made is not None:
                found[name] = made
            else:
                wanted.append(name)
        if not wanted or not self.path.exists():
            return found
        try:
            with contextlib.closing(self._connect()) as db:
                if _foreign(db):
                    return found
                for name, text_digest, key, parts, check in _rows_named(
                    db, "SELECT * FROM texts", wanted
                ):
                    if _text_checksum(name, text_digest, key, parts) == check:
                        found[name] = (text_digest, key, parts)
        except (sqlite3.Error, ValueError, TypeError) as exc:  # (made again: a cache only)
            fallback(f"{self.path}: JSON texts not used ({type(exc).__name__}: {exc})")
        return found

    def save(self) -> None:
        """Write what changed; a cache that cannot be written is simply not updated."""
        if self.damaged:
            self.tickets_changed = True
        if not (
            self.dirty or self.removed or self.dirty_meta or self.damaged or self.dirty_texts
            or self.damaged_meta
            or self.reporting
        ):  # fmt: skip
            return
        try:
            self.folder.mkdir(exist_ok=True)
            if self.path.exists():
                self._write()
            else:
                self._write_new()
        except (sqlite3.Error, OSError) as exc:
            fallback(f"{self.path}: cache not saved, removed ({type(exc).__name__}: {exc})")
            with contextlib.suppress(OSError):
                self._reset()
        self.dirty.clear()
        self.removed.clear()
        self.damaged.clear()
        self.dirty_meta.clear()
        self.damaged_meta.clear()
        self.dirty_texts.clear()
        self.tickets_changed = False

    def _write(self) -> None:
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if _foreign(db):
                    db.execute("DROP TABLE IF EXISTS files")
                    db.execute("DROP TABLE IF EXISTS meta")
                    db.execute("DROP TABLE IF EXISTS texts")
                    _create_tables(db)
                db.executemany("DELETE FROM files WHERE name = ?", [(n,) for n in self.removed])
                db.executemany("DELETE FROM texts WHERE name = ?", [(n,) for n in self.removed])
                db.executemany("DELETE FROM files WHERE name IS ?", [(n,) for n in self.damaged])
                _insert(db, self.dirty.items())
                _insert_texts(db, self.dirty_texts.items())
                db.executemany("DELETE FROM meta WHERE key IS ?", [(k,) for k in self.damaged_meta])
                _insert_meta(db, self.dirty_meta.items())
                self._tokens(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _write_new(self) -> None:
        """A cache file written whole (a first sweep): built aside without a journal, which
        is much faster, then renamed into place (not synced: a cache lost in a crash is
        simply rebuilt).  No journal of an earlier cache file may meet the new one."""

        def build(building: Path) -> None:
            with contextlib.closing(sqlite3.connect(building, isolation_level=None)) as db:
                db.execute("PRAGMA journal_mode=OFF")
                db.execute("PRAGMA synchronous=OFF")
                db.execute("BEGIN")
                _create_tables(db)
                _insert(db, self.entries.items())
                _insert_texts(db, self.dirty_texts.items())
                _insert_meta(db, self.meta.items())
                self._tokens(db)
                db.execute("COMMIT")
                db.execute("PRAGMA journal_mode=WAL")

        atomic_build(self.path, build, durable=False, before_rename=self._reset)

    def _tokens(self, db: sqlite3.Connection) -> None:
        """In the transaction that saves: a new TICKETS token if a ticket's row says
        something new; and, when the sweep's reports show what is saved (``reporting``),
        REPORTED set to it, unless another command saved a change since this process
        last knew the token (the reports do not show that change: they stay stale)."""
        if not (self.tickets_changed or self.reporting):
            return
        row = db.execute("SELECT value, checksum FROM meta WHERE key = ?", (TICKETS,)).fetchone()
        current = row[0] if row and _meta_checksum(TICKETS, row[0]) == row[1] else None
        others = current != self._token
        if self.tickets_changed:
            current = self._token = uuid.uuid4().hex
            _insert_meta(db, [(TICKETS, current)])
        if current is not None:
            self.meta[TICKETS] = current
        if self.reporting and not others and current is not None:
            _insert_meta(db, [(REPORTED, current)])
            self.meta[REPORTED] = current


_SELECT_FILES = (  # (the columns in the order of CachedFile's fields, as it takes them)
    f"SELECT name, {', '.join(f.name for f in fields(CachedFile))}, checksum FROM files"
)


def _create_tables(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT, checksum INTEGER)")
    db.execute(
        "CREATE TABLE files (name TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER,"
        " ino INTEGER, digest BLOB, verified_ns INTEGER, summary BLOB,"
        " sla_key TEXT, sla BLOB, next_event REAL, status TEXT, sla_time REAL,"
        " settled REAL, warn_at REAL, due_at REAL, checked BLOB, listing BLOB, cell BLOB,"
        " checksum INTEGER)"
    )
    db.execute(
        "CREATE TABLE texts (name TEXT PRIMARY KEY, digest BLOB, key TEXT, parts BLOB,"
        " checksum INTEGER)"
    )
    db.execute(f"PRAGMA user_version={SCHEMA}")
    db.execute(f"PRAGMA application_id={_build_id()}")


def _foreign(db: sqlite3.Connection) -> bool:
    """Whether the cache file is another esc's: of another format (``SCHEMA``), or written
    by another build (another version, or edited source: :func:`esc_build`), which may
    have parsed the tickets otherwise (its rows are not this esc's to serve)."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    (build,) = db.execute("PRAGMA application_id").fetchone()
    return bool(version != SCHEMA or build != _build_id())


@functools.lru_cache(maxsize=1)
def _build_id() -> int:
    """:func:`esc_build` as SQLite's 32-bit application id (never 0: an id never set)."""
    return int.from_bytes(esc_build()[:4], "big", signed=True) or 1


def _insert(db: sqlite3.Connection, entries: Iterable[tuple[str, CachedFile]]) -> None:
    db.executemany(  # (the rows made one at a time as SQLite takes them, never all at once)
        "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ((name, *row, _checksum(name, row)) for name, row in ((n, e.row()) for n, e in entries)),
    )


def _insert_texts(
    db: sqlite3.Connection, texts: Iterable[tuple[str, tuple[bytes, str, bytes]]]
) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO texts VALUES (?,?,?,?,?)",
        [(name, *text, _text_checksum(name, *text)) for name, text in texts],
    )


def _insert_meta(db: sqlite3.Connection, items: Iterable[tuple[str, str]]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?, ?)",
        [(key, value, _meta_checksum(key, value)) for key, value in items],
    )


def _meta_checksum(key: str, value: Any) -> int:
    """CRC-32 of a meta row (its key and value), as a file's row has one (issue 20)."""
    try:
        return zlib.crc32(marshal.dumps((key, value), 2))
    except ValueError:  # a value marshal does not know: no row of esc's
        return -1


def _text_checksum(name: Any, digest: Any, key: Any, parts: Any) -> int:
    """CRC-32 of a JSON text's row (its name, the hash and key it was made for, its parts)."""
    try:
        return zlib.crc32(marshal.dumps((name, digest, key, parts), 2))
    except ValueError:  # a value marshal does not know: no row of esc's
        return -1


_REAL = (8, 10, 11, 12, 13)  # the row's REAL columns (SQLite hands back floats for them)


def _rows_named(db: sqlite3.Connection, select: str, names: list[str]) -> Iterator[Any]:
    """The rows of ``select`` whose ``name`` is one of ``names``, asked for 500 names at a
    time (SQLite's limit on a statement's parameters)."""
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        yield from db.execute(f"{select} WHERE name IN ({','.join('?' * len(chunk))})", chunk)


def _read_checksum(name: str, values: tuple[Any, ...]) -> int:
    """:func:`_checksum` of a row as SQLite hands it back, whose REAL columns hold floats
    already (or None, or what a damage left there, which fails the check either way)."""
    try:
        return zlib.crc32(marshal.dumps((name, *values), 2))
    except ValueError:  # a value marshal does not know: no row of esc's
        return -1


def _checksum(name: str, row: tuple[Any, ...]) -> int:
    """CRC-32 of ``name`` and the row's values, marshalled (so their types count too), as
    they will read back: an int written to a REAL column reads back as a float."""
    values = list(row)
    for i in _REAL:
        if type(values[i]) is int:
            values[i] = float(values[i])
    return _read_checksum(name, tuple(values))


def now_ns() -> int:
    return time.time_ns()


def pack(value: Any) -> bytes:
    return marshal.dumps(value)


def unpack(data: bytes) -> object:
    return marshal.loads(data)
