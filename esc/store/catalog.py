"""Every ticket of the workspace, through the cache: parsed only when its file changed.

Commands that read many tickets (sweep, list, check, upcoming, report) go through a
Catalog; a ticket rebuilt from the cache is incomplete (no description or conversation)
and ``full()`` parses its file when a command needs the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esc.domain.config import Config
from esc.domain.errors import ParseError
from esc.domain.model import ACTIVE_STATUSES, Ticket, holds_lone_surrogate
from esc.domain.sla import Policy, Sla
from esc.store import cache, cache_codec
from esc.store.atomic import NotRegularFile, read_with_stat
from esc.store.cache import Cache, CachedFile, Stamp
from esc.store.names import undecodable_name
from esc.store.workspace import (
    CACHE_DIR,
    REREADS,
    TICKETS_DIR,
    Workspace,
    parse_ticket,
    settle,
)
from esc.ticketfile import document, problems
from esc.ticketfile.document import TicketDoc
from esc.ticketfile.problems import Clean

if TYPE_CHECKING:  # (the sweep's alone: `esc list` needs none of its plan)
    from esc.store import config_versions

if TYPE_CHECKING:  # (esc.domain.stats imports statistics: not at start-up)
    from esc.domain.stats import Standing

TIME_FIELDS = frozenset({"age", "idle", "overdue", "sla"})


class Record:
    """One ticket file (``name`` in ``folder``); its Ticket is built from the cached summary
    only when asked for."""

    __slots__ = ("_entry", "_path", "_ticket", "_unmade", "doc", "folder", "name")

    def __init__(
        self,
        name: str,
        folder: Path,
        entry: CachedFile | None,
        *,
        ticket: Ticket | None = None,
        doc: TicketDoc | None = None,
        unmade: Callable[[], CachedFile] | None = None,
    ) -> None:
        self.name, self.folder, self.doc = name, folder, doc
        self._entry, self._unmade = entry, unmade  # (one of them: see Catalog.to_sweep)
        self._ticket = ticket
        self._path: Path | None = None

    @property
    def entry(self) -> CachedFile:
        """The ticket's cache entry (made now if it was left to be made when asked for)."""
        entry = self._entry
        if entry is None:
            assert self._unmade is not None
            entry = self._entry = self._unmade()
            self._unmade = None
        return entry

    @entry.setter
    def entry(self, value: CachedFile) -> None:
        self._entry, self._unmade = value, None

    @property
    def entry_made(self) -> bool:
        """Whether the entry exists yet (one left to be made is of a file just parsed: it
        holds no SLA, so a sweep must plan the ticket)."""
        return self._entry is not None

    @property
    def path(self) -> Path:
        if self._path is None:  # (made when needed: most records never need it)
            self._path = self.folder / self.name
        return self._path

    @property
    def ticket(self) -> Ticket:
        if self._ticket is None:
            data = cache.unpack(self.entry.summary)
            assert isinstance(data, tuple)
            self._ticket = cache_codec.ticket_from_summary(data)
        return self._ticket

    @ticket.setter
    def ticket(self, value: Ticket) -> None:
        self._ticket = value

    @property
    def ticket_id(self) -> str:
        """The ticket's ID, from the row kept for `esc list` when the Ticket is not built
        (building it to read its ID kept a Ticket per overdue ticket for the rest of a sweep:
        ~2.8 KB each)."""
        if self._ticket is None and self.entry.listing is not None:
            listing = cache.unpack(self.entry.listing)
            if isinstance(listing, tuple) and listing and type(listing[0]) is str:
                return listing[0]
        return self.ticket.id

    def release(self) -> None:
        """Drop the parsed file and ticket (they are rebuilt from the cache when needed)."""
        self.doc = None
        self._ticket = None

    @property
    def status(self) -> str:
        if self._ticket is not None:
            return self._ticket.status
        return self.entry.status or self.ticket.status

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES




class Catalog:
    """The tickets of ``workspace`` through the cache.  A ``streamed`` catalog does not
    load the cache's entries: :meth:`each` reads them with the files, one at a time, and
    keeps none (for a command that reads each ticket once, such as `esc report`: at 100k
    tickets the entries alone are ~200 MB); only :meth:`each` may then be used to read."""

    def __init__(self, workspace: Workspace, *, streamed: bool = False) -> None:
        self.workspace = workspace
        self.config = workspace.config()
        self.cache = Cache(workspace.root / CACHE_DIR)
        self.streamed = streamed
        if not streamed:
            self.cache.load()
        texts = workspace.config_texts() or ("", "")  # (as the configuration was read)
        self.key = cache.config_key(*(text.encode("utf-8") for text in texts))
        self._names: list[str] | None = None
        self._undecodable: list[str] = []  # ticket files whose names are not UTF-8
        self._twins: list[str] = []  # ticket files whose names differ only in case
        self._stats: dict[str, os.stat_result] = {}  # files looked at, not yet read
        # when each file read was first opened: its entry is verified as of then, not of
        # when its parse ended (a save in place during the parse, its modification time
        # put back, has a change time before that end: trusted, it would never be read)
        self._read_at: dict[str, int] = {}
        self.timeless = not any(p.when.fields() & TIME_FIELDS for p in self.config.policies)
        self._policies: dict[str, Policy] | None = None  # by name, once needed
        self._shared: dict[str, str] = {}  # (see listing)
        # Whether a ticket file was found changed since the cache last knew it (read and
        # parsed again, new, removed), or written: what was rendered from them may be stale.
        self.files_changed = False
        # A sweep's batch found the writes lock held past its timeout (a command stuck
        # writing): later batches try it without waiting, each ticket under its own lock.
        self.writes_lock_stuck = False
        # A sweep with --no-notify: a ticket people changed since its last sweep is not
        # marked quiet, so that the next sweep that notifies tells of it.
        self.notify_held = False
        # A sweep's reports count settled tickets from this instant (a Unix time): the SLA
        # of a ticket settled before it, as the last sweep left it, is not computed by the
        # sweep (keep_settled).  None: the sweep keeps every ticket's SLA.
        self.reports_from: float | None = None
        # (and the configuration with its `notify:`, of which a sweep with --no-notify queues
        # what people did in a ticket it writes, never sending it)
        self.held_notify: Config | None = None
        # what the sweeps here know of tickets' pasts, set by a sweep for its plans
        self.known: config_versions.Known | None = None

    # ------------------------------------------------------------ tickets

    def records(self, now: dt.datetime | None = None) -> tuple[list[Record], list[ParseError]]:
        """Every ticket's record, and the files that do not parse.

        With ``now``, a ticket the cache could not answer for (parsed now) is let go of once
        read, as one from the cache is, an active one after its SLA as of ``now`` is kept:
        a command run without a cache holds no more than one run with it (a parsed ticket
        is ~18 KB: 1.8 GB at 100k).  Its SLA is what the command would compute later from
        the parsed ticket; any other is computed from the file, read again.
        """
        records: list[Record] = []
        broken: list[ParseError] = []
        for item in self.each():
            if isinstance(item, ParseError):
                broken.append(item)
                continue
            if now is not None and item.doc is not None:
                if item.active:
                    from esc.domain.plan import sla_of  # (and the rules: only when parsed)

                    self.keep_sla(item, sla_of(item.ticket, self.config, now), now)
                item.release()
            records.append(item)
        return records, broken

    def names(self) -> list[str]:
        """The names of the ticket files, sorted (listed once per catalog)."""
        if self._names is None:
            try:
                found = os.listdir(self.workspace.tickets_dir)
            except FileNotFoundError:
                found = []
            names = [n for n in found if n.endswith(".md") and n[0] != "."]
            # (a name that is no UTF-8 text holds surrogates: no cache row can hold it; an
            # ASCII one, as esc makes them, never does: one quick test for most)
            bad = {n for n in names if not n.isascii() and holds_lone_surrogate(n)}
            self._undecodable = sorted(bad)
            names = sorted(n for n in names if n not in bad) if bad else sorted(names)
            # (`t-AAAA0001.md` beside `T-aaaa0001.md`: one ID twice, neither of them "the"
            # ticket: both left unread, and unwritten, until one is renamed)
            if len(set(map(str.lower, names))) != len(names):
                lowered: dict[str, list[str]] = {}
                for name in names:
                    lowered.setdefault(name.lower(), []).append(name)
                twins = {n for group in lowered.values() if len(group) > 1 for n in group}
                self._twins = sorted(twins)
                names = [n for n in names if n not in twins]
            self._names = names
        return self._names

    def _undecodable_names(self) -> Iterator[ParseError]:
        """A finding for each ticket file whose name is not UTF-8 text, and for each whose
        name differs from another's only in case (each left unread)."""
        self.names()
        for name in self._undecodable:
            error = undecodable_name(name, TICKETS_DIR)
            if error is not None:
                yield error
        for name in self._twins:
            others = [n for n in self._twins if n != name and n.lower() == name.lower()]
            yield ParseError(
                f"{TICKETS_DIR}/{name}", 1,
                f"the same ID as {', '.join(f'{TICKETS_DIR}/{n}' for n in others)} in another "
                "case: no command reads or writes either until one is renamed",
            )  # fmt: skip

    def each(self, fresh: Mapping[str, CachedFile] | None = None) -> Iterator[Record | ParseError]:
        """Every ticket file in name order, read (or parsed) one at a time.

        ``fresh`` entries were just made from their files (by workers): taken as they are.
        """
        yield from self._undecodable_names()
        if self.streamed:
            yield from self._streamed()
            return
        folder = self.workspace.tickets_dir
        names = self.names()
        for name in names:
            try:
                entry = fresh.get(name) if fresh else None
                if entry is not None:
                    yield self._cached(name, folder, entry)
                else:
                    yield self.record(name, folder)
            except ParseError as exc:
                yield exc
            except FileNotFoundError:
                continue
        gone = set(self.cache.entries) - set(names)
        self.files_changed = self.files_changed or bool(gone)
        self.cache.forget(gone)

    def share(self, start: int, stop: int) -> Iterator[Record | ParseError]:
        """:meth:`each` of a streamed catalog over the ticket files ``names()[start:stop]``
        (with the cache's rows of the names between, and of files gone from there): shares
        that together cover every name, one after the other, read every file and row once."""
        assert self.streamed
        names = self.names()
        if start <= 0:
            yield from self._undecodable_names()
        if start >= stop:  # (no names: its neighbours' shares cover the rows about it)
            return
        first = None if start <= 0 else names[start]
        after = None if stop >= len(names) else names[stop]
        yield from self._streamed(names[start:stop], first, after)

    def _streamed(
        self,
        names: list[str] | None = None,
        first: str | None = None,
        after: str | None = None,
    ) -> Iterator[Record | ParseError]:
        """:meth:`each` of a streamed catalog: the cache's rows (in name order, as the
        files are) read alongside the files, and let go of once their file is read
        (``names``, if given, with the rows from ``first`` and before ``after``)."""
        folder = self.workspace.tickets_dir
        if names is None:
            names = self.names()
        rows = self.cache.stream(first, after)
        ahead: dict[str, CachedFile] = {}  # rows read, their file not reached yet
        last: str | None = None  # the name of the last row read
        done = False  # every row read
        for name in names:
            while not done and (last is None or last < name):
                row = next(rows, None)
                if row is None:
                    done = True
                else:
                    last = row[0]
                    ahead[last] = row[1]
            try:
                yield self._record(name, folder, ahead.pop(name, None))
            except ParseError as exc:
                yield exc
            except FileNotFoundError:
                continue
        ahead.update(rows)  # (rows of files that are gone, or out of order)
        listed = set(names)
        gone = {name for name in ahead if name not in listed}
        self.files_changed = self.files_changed or bool(gone)
        self.cache.forget(gone)

    def record(self, name: str, folder: Path) -> Record:
        """The ticket file ``name`` in ``folder`` (the tickets folder), from the cache if it
        vouches for the file, else parsed."""
        return self._record(name, folder, self.cache.entries.get(name))

    def to_sweep(self, name: str, folder: Path) -> Record:
        """:meth:`record`, for a sweep's worker process: a ticket file that must be parsed
        gets its cache entry (kept by the cache) only when the entry is asked for.  Most
        such tickets are rewritten, and the entry kept is then the new text's
        (:meth:`written`): making the old text's too was ~30 µs a ticket for nothing."""
        entry = self.cache.entries.get(name)
        path = f"{folder}/{name}"
        if entry is not None:
            return self._record(name, folder, entry)
        self.files_changed = True
        doc, data, st = self._parse(name, path, *self._read(name, path))
        return Record(
            name,
            folder,
            None,
            ticket=doc.ticket,
            doc=doc,
            unmade=lambda: self._keep_entry(name, st, cache.digest(data), doc.ticket),
        )

    def _record(self, name: str, folder: Path, entry: CachedFile | None) -> Record:
        path = f"{folder}/{name}"  # (a name from the folder's listing: no join needed)
        if entry is not None:
            st = self._stats.pop(name, None) or os.lstat(path)
            if entry.trusted(st):
                return self._cached(name, folder, entry)
        data, st = self._read(name, path)
        digest = cache.digest(data)
        if entry is not None and entry.digest == digest:
            entry = replace(
                entry,
                mtime_ns=st.st_mtime_ns,
                size=st.st_size,
                ino=st.st_ino,
                verified_ns=self._verified_as_of(name),
            )
            self.cache.restamp(name, entry)
            return self._cached(name, folder, entry)
        self.files_changed = True  # (new, or changed since the cache knew it)
        doc, entry = self._parsed(name, path, data, st, digest)
        return Record(name, folder, entry, ticket=doc.ticket, doc=doc)

    def _parsed(
        self, name: str, path: str | Path, data: bytes, st: os.stat_result, digest: bytes
    ) -> tuple[TicketDoc, CachedFile]:
        """The file ``name`` parsed from ``data`` and its new cache entry (kept); a file that
        does not parse is kept as its error, and raised."""
        doc, read, st = self._parse(name, path, data, st)
        if read is not data:  # (read again: it was being saved)
            digest = cache.digest(read)
        return doc, self._keep_entry(name, st, digest, doc.ticket)

    def _parse(
        self, name: str, path: str | Path, data: bytes, st: os.stat_result
    ) -> tuple[TicketDoc, bytes, os.stat_result]:
        """The file ``name`` parsed from ``data`` (read with ``st``), with the bytes and stat
        it was parsed from.  A file that does not parse is read again, and parsed again if
        it reads differently (someone saved it in place while it was read: the first read
        caught it half written), up to :data:`REREADS` times; one that reads the same is
        kept as its error, and raised."""
        rel = self.workspace.rel(path)
        for tries in range(REREADS + 1):
            try:
                return parse_ticket(data, rel), data, st
            except ParseError as exc:
                if tries < REREADS:
                    settle(tries)
                again, st_again = self._read(name, path) if tries < REREADS else (data, st)
                if again == data and (data.strip() or tries == REREADS):  # (empty: an
                    # editor's save under way, waited for in full, as Workspace.read does)
                    self._remember_error(name, st, cache.digest(data), exc)
                    raise
                data, st = again, st_again
        raise AssertionError("unreachable")  # pragma: no cover

    def _keep_entry(
        self, name: str, st: os.stat_result, digest: bytes, ticket: Ticket
    ) -> CachedFile:
        """The new cache entry of the file ``name`` (``st``, ``digest``) holding ``ticket``,
        kept."""
        entry = self._entry(st, digest, ticket, self._verified_as_of(name))
        self.cache.put(name, entry)
        return entry

    def _verified_as_of(self, name: str) -> int:
        """The time the file ``name`` was first opened to be read (now if it was not)."""
        return self._read_at.pop(name, None) or cache.now_ns()

    def _read(self, name: str, path: str | Path) -> tuple[bytes, os.stat_result]:
        """A ticket file's bytes and stat; one that is no regular file is a ParseError (and
        forgotten by the cache: it is looked at again every time)."""
        self._read_at.setdefault(name, cache.now_ns())
        try:
            return read_with_stat(path)
        except NotRegularFile as exc:
            self.cache.forget({name})
            raise ParseError(self.workspace.rel(path), 0, str(exc)) from None
        except PermissionError as exc:  # (one file: the others are still read)
            self.cache.forget({name})
            why = f"cannot be read: {exc.strerror}"
            raise ParseError(self.workspace.rel(path), 0, why) from None

    def cached_records(self) -> list[Record]:
        """A record for every ticket file the cache knows that parses, as the cache has it
        (no file is looked at: for when the cache was just brought up to date)."""
        folder = self.workspace.tickets_dir
        entries = self.cache.entries
        return [Record(n, folder, entries[n]) for n in sorted(entries) if entries[n].status]

    def unanswered(self, now: dt.datetime) -> list[str]:
        """Ticket files a sweep at ``now`` must parse: new, changed, or not quiet.

        The others were looked at just now: :meth:`record` takes them as they were then.
        """
        folder = str(self.workspace.tickets_dir)
        names = []
        for name in self.names():
            entry = self.cache.entries.get(name)
            if entry is None:
                names.append(name)
                continue
            try:
                st = os.lstat(f"{folder}/{name}")
            except FileNotFoundError:
                continue
            if entry.trusted(st) and self.quiet(entry, now):
                self._stats[name] = st
            else:
                names.append(name)
        return names

    def _cached(self, name: str, folder: Path, entry: CachedFile) -> Record:
        if entry.status is None:  # a file that did not parse: say so again
            data = cache.unpack(entry.summary)
            if isinstance(data, tuple) and data and data[0] == "error":
                raise ParseError(self.workspace.rel(folder / name), int(data[1]), str(data[2]))
        return Record(name, folder, entry)

    @staticmethod
    def _entry(
        st: os.stat_result, digest: bytes, ticket: Ticket, verified_ns: int | None = None
    ) -> CachedFile:
        """The cache entry of a file (``st``, ``digest``) holding ``ticket``, verified as of
        ``verified_ns`` (when it was opened to be read; now, for a file esc just wrote)."""
        return CachedFile(
            st.st_mtime_ns,
            st.st_size,
            st.st_ino,
            digest,
            cache.now_ns() if verified_ns is None else verified_ns,
            cache.pack(cache_codec.ticket_summary(ticket)),
            status=ticket.status,
            listing=cache.pack(cache_codec.listing_of(ticket)),
        )

    def _remember_error(
        self, name: str, st: os.stat_result, digest: bytes, exc: ParseError
    ) -> None:
        packed = cache.pack(("error", exc.line, exc.message))
        verified = self._verified_as_of(name)
        self.cache.put(
            name, CachedFile(st.st_mtime_ns, st.st_size, st.st_ino, digest, verified, packed)
        )

    def full(self, record: Record) -> TicketDoc:
        """The parsed file of ``record`` (parsing it now if it came from the cache)."""
        if record.doc is None:
            record.doc = self.workspace.read(record.path)
            record.ticket = record.doc.ticket
        return record.doc

    def misfits(self, record: Record) -> list[ParseError]:
        """Why ``record``'s ticket, if it does not fit the configuration (``Config.fits``),
        does not validate against it: each problem as `esc validate` says it, at its line
        (none if it fits).  Such a ticket is counted and shown, and a finding."""
        if self.config.fits(record.ticket):  # (most do: the file is not read again)
            return []
        return problems.misfits(self.full(record), self.config)

    def written(
        self, record: Record, text: str, st: os.stat_result, doc: TicketDoc | None = None
    ) -> None:
        """``record``'s file now holds ``text`` (just written by esc; ``st`` is its stat);
        ``doc`` is ``text`` as parsed, if the caller has it (``document.changed``)."""
        self.files_changed = True
        self._read_at.pop(record.name, None)  # (the text read is gone: it was replaced)
        if doc is None or doc.text != text:
            doc = document.parse(text, self.workspace.rel(record.path))
        entry = self._entry(st, cache.digest(text.encode()), doc.ticket)
        record.doc, record.ticket, record.entry = doc, doc.ticket, entry
        self.cache.put(record.name, entry)

    def reread(self, record: Record) -> TicketDoc:
        """``record``'s file read again (it changed since it was read): its parsed file."""
        data, st = self._read(record.name, record.path)
        doc, entry = self._parsed(record.name, record.path, data, st, cache.digest(data))
        record.doc, record.ticket, record.entry = doc, doc.ticket, entry
        return doc

    def listing(self, record: Record) -> cache_codec.Listing:
        """What a row of ``esc list`` shows of the ticket (``cache_codec.listing_of``), from
        the cache without building the ticket when it has it."""
        packed = record.entry.listing
        if packed is None or record._ticket is not None:
            return cache_codec.listing_of(record.ticket)
        listing: cache_codec.Listing = cache.unpack(packed)  # type: ignore[assignment]
        tid, priority, status, team, assignee, created, title = listing
        shared = self._shared  # (one string for each priority, status, team and person)
        priority = shared.setdefault(priority, priority)
        status = shared.setdefault(status, status)
        team = shared.setdefault(team, team)
        if assignee is not None:
            assignee = shared.setdefault(assignee, assignee)
        return tid, priority, status, team, assignee, created, title

    def let_go(self) -> None:
        """Save what changed, then drop every entry: for a command done with the cache (its
        records are no longer used), so that what it prints next has the memory."""
        self.save()
        self.cache.entries = {}

    def texts(self, records: Sequence[Record]) -> dict[str, tuple[str, ...]]:
        """The fixed JSON texts kept for ``records`` (name -> its parts, as
        ``esc.report.views.ticket_json_parts`` made them) that were made from their files'
        present content under this configuration."""
        entries = {r.name: r.entry for r in records}
        found = {}
        for name, (digest, key, packed) in self.cache.texts(list(entries)).items():
            if key == self.key and digest == entries[name].digest:
                parts = cache.unpack(packed)
                if isinstance(parts, tuple) and all(type(p) is str and p for p in parts):
                    found[name] = parts
        return found

    def keep_text(self, record: Record, parts: tuple[str, ...]) -> None:
        """Keep ``parts``, the fixed JSON text of ``record``'s ticket (made from its entry)."""
        self.cache.put_text(record.name, record.entry.digest, self.key, cache.pack(parts))
        if len(self.cache.dirty_texts) >= 2000:  # (written as they come: memory stays flat)
            self.cache.save()

    # ------------------------------------------------------------ SLA
    #
    # The catalog keeps each ticket's SLA as computed (by esc.report.slas, or by a sweep)
    # and derives it at a later moment from what it kept; it computes none itself.

    def _known(self, entry: CachedFile) -> bool:
        """Whether what a sweep or a command kept of the ticket's SLA (its times, its next
        event, when it settled) is of this configuration."""
        return entry.sla_key == self.key and self.timeless

    def _usable(self, entry: CachedFile) -> bool:
        """:meth:`_known`, with the SLA itself kept (not of a ticket :meth:`keep_settled`
        kept)."""
        return entry.sla is not None and self._known(entry)

    def kept_sla(self, record: Record, now: dt.datetime) -> Sla | None:
        """The ticket's SLA as of ``now``, derived from the one kept, if that is certain to
        be right (kept for this configuration, computed at ``now`` or before); else None."""
        return self._kept(record, now, later=False, count_used=True)

    def kept_sla_states(self, record: Record, now: dt.datetime) -> Sla | None:
        """:meth:`kept_sla`, with each running clock's state as of ``now`` but its time used
        as of the kept computation (not counted again: faster, for who needs the states)."""
        return self._kept(record, now, later=False, count_used=False)

    def kept_cell(self, record: Record, moment: float) -> tuple[Any, ...] | None:
        """The numbers kept for the SLA column of ``esc list`` (``cache_codec.cell_numbers``
        of :meth:`kept_sla_states` at ``moment``, a Unix time), when that would not be
        None; else None."""
        entry = record.entry
        if entry.cell is None or not self._usable(entry) or entry.sla_time is None:
            return None
        if moment < entry.sla_time:
            return None
        data = cache.unpack(entry.cell)
        assert isinstance(data, tuple)
        return data

    def kept_sla_near(self, record: Record, moment: dt.datetime) -> Sla | None:
        """The SLA as of ``moment`` from the one kept, even if that was computed a little
        after ``moment`` (for reports), as
        :meth:`kept_sla_states` derives it: reports count only stopped clocks' time."""
        return self._kept(record, moment, later=True, count_used=False)

    def _kept(self, record: Record, now: dt.datetime, later: bool, count_used: bool) -> Sla | None:
        data = self._kept_data(record, now, later)
        return None if data is None else cache_codec.sla_at(data, self.config, now, count_used)

    def kept_plain_sla(
        self, record: Record, now: dt.datetime, moment: float
    ) -> cache_codec.PlainSla | None:
        """:meth:`kept_sla` as plain values (``cache_codec.plain_sla_at``), or None;
        ``moment`` is ``now`` as a Unix time."""
        entry = record.entry
        if not self._usable(entry) or entry.sla_time is None or entry.sla is None:
            return None
        if moment < entry.sla_time:
            return None
        data = cache.unpack(entry.sla)
        assert isinstance(data, tuple)
        if self._policies is None:
            self._policies = {}
            for policy in self.config.policies:  # (the first of a name, as sla_at finds it)
                self._policies.setdefault(policy.name, policy)
        return cache_codec.plain_sla_at(data, self._policies, now, moment)

    def _kept_data(self, record: Record, now: dt.datetime, later: bool) -> tuple[Any, ...] | None:
        entry = record.entry
        if not self._usable(entry) or entry.sla_time is None or entry.sla is None:
            return None
        if not later and now.timestamp() < entry.sla_time:
            return None
        data = cache.unpack(entry.sla)
        assert isinstance(data, tuple)
        return data

    def keep_sla(self, record: Record, sla: Sla, now: dt.datetime) -> None:
        """Keep ``sla``, computed as of ``now`` by a command other than a sweep.

        It says nothing of what a sweep would do now (a deadline may have passed since the
        last sweep, with its rules still to fire): when a sweep would look at the ticket
        again stays what the last sweep of this very content kept, if one did (until then
        it changes nothing: a report of an earlier period, say, leaves its tickets quiet);
        else the next sweep plans it.
        """
        self._keep(record, sla, now, None)

    def keep_swept(
        self, record: Record, sla: Sla, now: dt.datetime, next_event: float | None
    ) -> None:
        """Keep ``sla``, computed as of ``now`` by a sweep that planned the ticket, and
        ``next_event``: until then (a Unix time) a sweep would change nothing in it."""
        self._keep(record, sla, now, next_event)

    def keep_settled(self, record: Record, checked: dt.datetime, settled: float) -> None:
        """Keep what the sweep at ``checked`` that last wrote the settled ticket knew of it
        without its SLA (``esc.domain.plan.settled_as_swept``): that no sweep looks at it
        again, and ``settled``, an instant not before its last event; not its SLA, which who
        needs it computes (and keeps: :meth:`keep_sla`), as for a ticket no sweep planned.
        A sweep's reports skip such a ticket (:meth:`settled_before` their period)."""
        if self._keeps(record, checked):
            entry = record.entry
            entry.sla_key, entry.sla = self.key, None
            entry.sla_time, entry.next_event, entry.settled = checked.timestamp(), math.inf, settled
            entry.warn_at = entry.due_at = entry.cell = None
            self.cache.restamp(record.name, entry)

    def _keeps(self, record: Record, now: dt.datetime) -> bool:
        """Whether what is known of the ticket as of ``now`` is kept: only what saw
        everything in the ticket (``now`` is not before its last update), and only if it is
        newer than what is kept already; never of a ticket that does not fit the
        configuration (``Config.fits``)."""
        entry = record.entry
        ticket = record.ticket
        if now < ticket.updated:
            return False
        if not self.config.fits(ticket):  # (a finding wherever it is counted: each command
            return False  # that counts it builds it, and finds that, rather than trust it)
        return not (
            self._known(entry) and entry.sla_time is not None and now.timestamp() < entry.sla_time
        )

    def _keep(self, record: Record, sla: Sla, now: dt.datetime, next_event: float | None) -> None:
        """Keep ``sla`` and ``next_event``, if :meth:`_keeps` says so."""
        if not self._keeps(record, now):
            return
        entry = record.entry
        ticket = record.ticket
        if next_event is None and self._known(entry):
            next_event = entry.next_event  # (a sweep's, of this content: see keep_sla)
        entry.sla_key, entry.sla = self.key, cache.pack(cache_codec.sla_summary(sla))
        entry.sla_time = now.timestamp()
        entry.next_event = next_event
        entry.settled = cache_codec.settled_at(ticket, sla)
        entry.warn_at, entry.due_at = cache_codec.verdict_instants(sla)
        entry.cell = cache.pack(cache_codec.cell_numbers(sla, ticket))
        self.cache.restamp(record.name, entry)

    def standing(self, record: Record, now: dt.datetime) -> Standing | None:
        """Where the ticket's SLA stands at ``now`` (overdue, warning or ok, as
        ``esc.domain.stats.standing`` judges :meth:`kept_sla`), from the numbers kept with
        it and without building the SLA; None when :meth:`kept_sla` would be None."""
        entry = record.entry
        if not self._usable(entry) or entry.sla_time is None:
            return None
        moment = now.timestamp()
        if moment < entry.sla_time:
            return None
        if entry.due_at is not None and entry.due_at <= moment:
            return "overdue"
        if entry.warn_at is not None and entry.warn_at <= moment:
            return "warning"
        return "ok"

    def overdue_since(self, record: Record, now: dt.datetime) -> float | None:
        """The deadline (a Unix time) of the ticket's running clock that is furthest past
        due at ``now``, from the numbers kept with its SLA, if :meth:`standing` says it is
        overdue; else None (not overdue, or the numbers cannot tell)."""
        if self.standing(record, now) != "overdue":
            return None
        return record.entry.due_at

    def quiet(self, entry: CachedFile, now: dt.datetime) -> bool:
        """Whether a sweep at ``now`` certainly changes nothing in the ticket of ``entry``."""
        if not self._known(entry) or entry.next_event is None or entry.sla_time is None:
            return False
        return entry.sla_time <= now.timestamp() < entry.next_event

    def settled_before(self, record: Record, moment: dt.datetime) -> bool:
        """Whether the ticket was resolved or closed, and done with, before ``moment``."""
        entry = record.entry
        return (
            self._known(entry)
            and entry.settled is not None
            and entry.settled < moment.timestamp()
            and not record.active
        )

    def save(self) -> None:
        self.cache.save()

    def signature(self, *parts: str) -> str:
        """A hash of the configuration and ``parts``."""
        h = hashlib.blake2b(digest_size=16)
        h.update(self.key.encode())
        for part in parts:
            h.update(part.encode() + b"\0")
        return h.hexdigest()


def validation_items(
    workspace: Workspace, config: Config | None
) -> Iterator[TicketDoc | ParseError | Clean]:
    """Every ticket file for `esc validate`, in name order: parsed (leniently: each problem
    is a finding), or, when the cache checked this very content under this configuration
    and found nothing wrong, :class:`Clean` without being parsed.  A file found clean is
    remembered as such (``CachedFile.checked``), a batch of files at a time.

    Only each row's stamp is loaded (``Cache.stamps``), never the whole cache: at 100k
    tickets the entries alone would be ~200 MB."""
    store = Cache(workspace.root / CACHE_DIR)
    stamps = store.stamps()
    texts = workspace.config_texts() or ("", "")
    key = cache.config_key(*(text.encode("utf-8") for text in texts))
    pending: dict[str, _Restamp] = {}  # rows of files whose content is the row's
    for path in workspace.ticket_paths():
        name, rel = path.name, workspace.rel(path)
        unreadable = undecodable_name(name, TICKETS_DIR)
        if unreadable is not None:
            yield unreadable
            continue
        stamp = stamps.pop(name, None)
        known = _checked(stamp, key)
        try:
            if known is not None and stamp is not None and stamp.trusted(os.lstat(path)):
                yield Clean(rel, *known)
                continue
            opened = cache.now_ns()  # (verified as of then: a save during the check is seen)
            data, st = read_with_stat(path)
        except FileNotFoundError:
            continue
        except NotRegularFile as exc:
            yield ParseError(rel, 0, str(exc))
            continue
        except PermissionError as exc:
            yield ParseError(rel, 0, f"cannot be read: {exc.strerror}")
            continue
        digest = cache.digest(data)
        same = stamp is not None and stamp.digest == digest and stamp.status is not None
        if same and known is not None:
            pending[name] = (st, digest, opened, None)
            yield Clean(rel, *known)
        else:
            try:
                doc = parse_ticket(data, rel, strict=False)
            except ParseError as exc:
                yield exc
                continue
            if not problems.check_ticket(doc, config):
                checked = cache.pack(
                    (
                        key,
                        doc.ticket.id,
                        doc.key_lines.get("id", 1),
                        doc.ticket.kb,
                        doc.key_lines.get("kb", 1),
                    )
                )
                if same:  # (the row is kept, with the SLA kept for this content)
                    pending[name] = (st, digest, opened, checked)
                else:
                    fresh = Catalog._entry(st, digest, doc.ticket, opened)
                    fresh.checked = checked
                    store.put(name, fresh)
            yield doc
        if len(pending) + len(store.dirty) >= _VALIDATE_BATCH:
            _restamp(store, pending)
    _restamp(store, pending)


_VALIDATE_BATCH = 1000
# A row to update: the file's stat, its content hash, when it was verified, and what
# validate found in it (``CachedFile.checked``; None: the row's is kept)
_Restamp = tuple[os.stat_result, bytes, int, "bytes | None"]


def _restamp(store: Cache, pending: dict[str, _Restamp]) -> None:
    """Write the rows of ``pending`` (the files' stat, and what validate found) and the
    entries put in ``store``, then let go of them.  A row whose content hash is no longer
    the one validate read (another command wrote it meanwhile) is left as it is."""
    rows = store.read(list(pending))
    for name, (st, digest, verified_ns, checked) in pending.items():
        entry = rows.get(name)
        if entry is None or entry.digest != digest or entry.status is None:
            continue
        store.restamp(
            name,
            replace(
                entry,
                mtime_ns=st.st_mtime_ns,
                size=st.st_size,
                ino=st.st_ino,
                verified_ns=verified_ns,
                checked=entry.checked if checked is None else checked,
            ),
        )
    pending.clear()
    store.save()
    store.entries = {}


def _checked(entry: Stamp | None, key: str) -> tuple[str, int, str | None, int] | None:
    """(ticket ID, line of its id, the article its ``kb:`` names, that line) if ``entry``
    says its content validated under ``key``."""
    if entry is None or entry.checked is None or entry.status is None:
        return None
    data = cache.unpack(entry.checked)
    if not (isinstance(data, tuple) and len(data) == 5 and data[0] == key):
        return None
    kb = None if data[3] is None else str(data[3])
    return str(data[1]), int(data[2]), kb, int(data[4])


def load(
    workspace: Workspace, now: dt.datetime | None = None
) -> tuple[Catalog, list[Record], list[ParseError]]:
    """A catalog and its records (see :meth:`Catalog.records` for ``now``); the caller
    saves the catalog when done."""
    catalog = Catalog(workspace)
    records, broken = catalog.records(now)
    return catalog, records, broken
