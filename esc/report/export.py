"""`esc export`: tickets, escalations, requests to other teams and the activity log as
SQLite tables or CSV files.

The functions that build rows are pure: they take tickets (and the configuration) and
return plain dicts whose keys are the columns, in order.  Only ``write_sqlite`` and
``write_csv`` touch files, and both write atomically: a temporary file in the target's
folder, then a rename, so a reader sees the old export or the new one, never half.

Conventions, the same in every table and both formats:

* every timestamp column holds ISO-8601 text with the offset written in the ticket file
  (``2026-11-20T09:00:00+01:00``) and is followed by ``<name>_utc``, the same moment in UTC
  (``2026-11-20T08:00:00Z``), which sorts and compares as text;
* a missing value, and empty text (no tags, no note), is NULL (an empty field in CSV);
* durations are wall-clock minutes (REAL), flags are 0 or 1.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from esc.domain.config import Config
from esc.domain.errors import EscError, ParseError
from esc.domain.mail import (
    ATTACHMENTS,
    EXTERNAL_ID,
    FOLLOWS,
    MESSAGE_IDS,
    RECIPIENTS,
    REPLIES_TO,
)
from esc.domain.model import METRICS, Ticket
from esc.domain.timestamps import coerce_timestamp, format_timestamp
from esc.report.spreadsheet import csv_text
from esc.store.atomic import (
    REGULAR_ONLY,
    NotRegularFile,
    atomic_build,
    atomic_write_all,
    folders_made_for,
    output_target,
)
from esc.store.workspace import TICKETS_DIR
from esc.ticketfile.document import TicketDoc

Row = dict[str, object]


def _stamp(name: str) -> list[tuple[str, str]]:
    return [(name, "TEXT"), (f"{name}_utc", "TEXT")]


# (column, SQL type), in order; the CSV header is the same names.
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "tickets": [
        ("id", "TEXT PRIMARY KEY"),
        ("title", "TEXT"),
        ("status", "TEXT"),
        ("priority", "TEXT"),
        ("priority_rank", "INTEGER"),
        ("category", "TEXT"),
        ("team", "TEXT"),
        ("level", "INTEGER"),
        ("assignee", "TEXT"),
        ("customer", "TEXT"),
        ("channel", "TEXT"),
        *_stamp("created"),
        *_stamp("updated"),
        *_stamp("first_response_at"),
        *_stamp("resolved_at"),
        *_stamp("closed_at"),
        ("tags", "TEXT"),
        ("impact", "TEXT"),
        ("urgency", "TEXT"),
        ("csat", "INTEGER"),
        ("kb", "TEXT"),
        ("external_id", "TEXT"),  # (JSON intake's: the id the form, chat or portal gave it)
        ("follows", "TEXT"),  # (intake's: the closed ticket whose reply opened this one)
        ("recipients", "TEXT"),  # (e-mail intake's `to:`: the addresses written to)
        ("message_ids", "TEXT"),  # (e-mail intake's: every message's Message-ID)
        ("attachments", "TEXT"),  # (e-mail intake's: the saved attachments' paths)
        ("escalation_count", "INTEGER"),
        ("first_response_minutes", "REAL"),
        ("resolution_minutes", "REAL"),
        # (the `sla:` block the last sweep wrote: the policy, and each clock's due and state)
        ("sla_policy", "TEXT"),
        *_stamp("sla_checked"),
        *(c for metric in METRICS for c in (*_stamp(f"{metric}_due"), (f"{metric}_state", "TEXT"))),
        ("file", "TEXT"),
        # (added after the others, last: a script reading an older export by a column's
        # place finds each where it was)
        ("replies_to", "TEXT"),  # (e-mail intake's: what a reply that came first answers)
    ],
    "escalations": [
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets(id)"),
        ("seq", "INTEGER NOT NULL"),
        *_stamp("at"),
        ("kind", "TEXT"),
        ("from_value", "TEXT"),
        ("to_value", "TEXT"),
        ("by", "TEXT"),
        ("by_rule", "INTEGER"),
        ("reason", "TEXT"),
    ],
    "requests": [
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets(id)"),
        ("seq", "INTEGER NOT NULL"),
        *_stamp("asked"),
        ("by", "TEXT"),
        ("team", "TEXT"),
        ("person", "TEXT"),
        ("state", "TEXT"),
        *_stamp("closed"),
        ("closed_by", "TEXT"),
        ("minutes", "REAL"),
    ],
    "events": [
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets(id)"),
        ("seq", "INTEGER NOT NULL"),
        *_stamp("at"),
        ("by", "TEXT"),
        ("field", "TEXT"),
        ("old_value", "TEXT"),
        ("new_value", "TEXT"),
        ("event", "TEXT"),
        ("note", "TEXT"),
    ],
}
PRIMARY_KEYS = {
    "escalations": ("ticket_id", "seq"),
    "requests": ("ticket_id", "seq"),
    "events": ("ticket_id", "seq"),
}
INDEXES = (
    ("tickets", "team"),
    ("tickets", "status"),
    ("tickets", "priority"),
    ("tickets", "created_utc"),
    ("escalations", "to_value"),
    ("escalations", "at_utc"),
    ("requests", "team"),
    ("events", "ticket_id"),
    ("events", "at_utc"),
)


class Tables(NamedTuple):
    tickets: list[Row]
    escalations: list[Row]
    requests: list[Row]
    events: list[Row]

    def named(self) -> dict[str, list[Row]]:
        return {
            "tickets": self.tickets,
            "escalations": self.escalations,
            "requests": self.requests,
            "events": self.events,
        }

    def summary(self) -> str:
        return (
            f"{len(self.tickets)} tickets, {len(self.escalations)} escalations, "
            f"{len(self.requests)} requests, {len(self.events)} events"
        )


# ---------------------------------------------------------------- rows (pure)


def utc_text(moment: dt.datetime) -> str:
    """A moment in UTC as ISO-8601 text: 2026-11-20T08:00:00Z."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamps(name: str, moment: dt.datetime | None) -> Row:
    if moment is None:
        return {name: None, f"{name}_utc": None}
    return {name: format_timestamp(moment), f"{name}_utc": utc_text(moment)}


def _sla_columns(block: object) -> Row:
    """The columns of the ``sla:`` block a sweep wrote in a ticket (nulls where it has none:
    never swept, or no policy applies): its policy, when it was checked, and each clock's
    due time and state, as the sweep left them."""
    stored = block if isinstance(block, Mapping) else {}
    policy = stored.get("policy")
    row: Row = {
        "sla_policy": None if policy is None else str(policy),
        **_stamps("sla_checked", coerce_timestamp(stored.get("checked"))),
    }
    for metric in METRICS:
        clock = stored.get(metric)
        clock = clock if isinstance(clock, Mapping) else {}
        state = clock.get("state")
        row |= _stamps(f"{metric}_due", coerce_timestamp(clock.get("due")))
        row[f"{metric}_state"] = None if state is None else str(state)
    return row


def _text_of(value: object) -> str | None:
    """A front-matter value as a text column (None for none, or for a list or mapping,
    which is no value of it)."""
    if value is None or isinstance(value, (list, dict)):
        return None
    return str(value)


def _joined(value: object) -> str | None:
    """A front-matter list as a text column, comma-joined as ``tags`` is (a lone value as
    itself; None for none, or for a mapping).  An item that holds a comma, a double quote
    or a line break is quoted as a CSV field is (``"invoice, march.pdf",logo.png``): read
    as one line of CSV, the column gives the items back (an attachment named with a comma
    read as two; audit helper-454)."""
    if isinstance(value, list):
        return ",".join(_item(str(item)) for item in value if item is not None) or None
    text = _text_of(value)  # (one item written alone, as a list of one: review helper-464)
    return None if text is None else _item(text)


def _item(text: str) -> str:
    if any(mark in text for mark in (",", '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _nulls(row: Row) -> Row:
    return {k: (None if v == "" else v) for k, v in row.items()}


def _minutes(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 60


def exportable(
    items: Iterable[TicketDoc | ParseError],
) -> tuple[list[TicketDoc], list[ParseError]]:
    """Split scanned files into those to export and those that cannot be.

    A file that does not parse cannot be exported, nor can one without an ID or a second
    file with an ID already seen (the ID is the tickets table's key): each is reported
    like a broken file, as ``path:line: message``.
    """
    good: list[TicketDoc] = []
    bad: list[ParseError] = []
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, ParseError):
            bad.append(item)
            continue
        ticket_id = item.ticket.id
        line = item.key_lines.get("id", 1)
        if not ticket_id:
            bad.append(ParseError(item.path, line, "id is missing; not exported"))
            continue
        if ticket_id in seen:
            also = f"(also in {seen[ticket_id]})"
            bad.append(
                ParseError(item.path, line, f"duplicate id {ticket_id} {also}; not exported")
            )
            continue
        seen[ticket_id] = item.path
        good.append(item)
    return good, bad


def ticket_rows(
    tickets: Sequence[Ticket], config: Config, files: Sequence[str] | None = None
) -> list[Row]:
    """One row per ticket.  ``files`` are the tickets' paths (default tickets/<ID>.md)."""
    rows = []
    for n, t in enumerate(tickets):
        rank = config.rank(t.priority)
        row: Row = {
            "id": t.id,
            "title": t.title,
            "status": t.status,
            "priority": t.priority,
            "priority_rank": rank if rank >= 0 else None,
            "category": t.category,
            "team": t.team,
            "level": config.level(t.team),
            "assignee": t.assignee,
            "customer": t.customer,
            "channel": t.channel,
            **_stamps("created", t.created),
            **_stamps("updated", t.updated),
            **_stamps("first_response_at", t.first_response_at),
            **_stamps("resolved_at", t.resolved_at),
            **_stamps("closed_at", t.closed_at),
            "tags": ",".join(t.tags),
            "impact": t.impact,
            "urgency": t.urgency,
            "csat": t.csat,
            "kb": t.kb,
            "external_id": _text_of(t.extra.get(EXTERNAL_ID)),
            "follows": _text_of(t.extra.get(FOLLOWS)),
            "recipients": _joined(t.extra.get(RECIPIENTS)),
            "message_ids": _joined(t.extra.get(MESSAGE_IDS)),
            "attachments": _joined(t.extra.get(ATTACHMENTS)),
            "escalation_count": len(t.escalations),
            "first_response_minutes": _minutes(t.created, t.first_response_at),
            "resolution_minutes": _minutes(t.created, t.resolved_at),
            **_sla_columns(t.extra.get("sla")),
            "file": files[n] if files is not None else f"{TICKETS_DIR}/{t.id}.md",
            "replies_to": _joined(t.extra.get(REPLIES_TO)),
        }
        rows.append(_nulls(row))
    return rows


def escalation_rows(tickets: Sequence[Ticket]) -> list[Row]:
    """One row per escalation, numbered from 1 in each ticket's order."""
    return [
        _nulls(
            {
                "ticket_id": t.id,
                "seq": seq,
                **_stamps("at", e.at),
                "kind": e.kind,
                "from_value": e.from_,
                "to_value": e.to,
                "by": e.by,
                "by_rule": int(e.by.startswith("rule:")),
                "reason": e.reason,
            }
        )
        for t in tickets
        for seq, e in enumerate(t.escalations_in_time(), start=1)
    ]


def request_rows(tickets: Sequence[Ticket]) -> list[Row]:
    """One row per request to another team, numbered from 1 in each ticket's order;
    ``minutes``: wall-clock minutes from asked to answered or declined (NULL while open)."""
    return [
        _nulls(
            {
                "ticket_id": t.id,
                "seq": seq,
                **_stamps("asked", r.asked),
                "by": r.by,
                "team": r.team,
                "person": r.person,
                "state": r.state,
                **_stamps("closed", r.closed),
                "closed_by": r.closed_by,
                "minutes": _minutes(r.asked, r.closed),
            }
        )
        for t in tickets
        for seq, r in enumerate(t.requests, start=1)
    ]


def event_rows(tickets: Sequence[Ticket]) -> list[Row]:
    """One row per activity-log line: a field change (``field`` set) or an event."""
    return [
        _nulls(
            {
                "ticket_id": t.id,
                "seq": seq,
                **_stamps("at", a.at),
                "by": a.by,
                "field": a.field,
                "old_value": a.old,
                "new_value": a.new,
                "event": a.event,
                "note": a.note,
            }
        )
        for t in tickets
        for seq, a in enumerate(t.activity, start=1)
    ]


def build_tables(
    tickets: Sequence[Ticket], config: Config, files: Sequence[str] | None = None
) -> Tables:
    return Tables(
        ticket_rows(tickets, config, files),
        escalation_rows(tickets),
        request_rows(tickets),
        event_rows(tickets),
    )


# ---------------------------------------------------------------- writing


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def schema_sql() -> list[str]:
    """The CREATE TABLE and CREATE INDEX statements."""
    statements = []
    for table, columns in SCHEMA.items():
        parts = [f"{_quote(name)} {kind}" for name, kind in columns]
        if table in PRIMARY_KEYS:
            parts.append(f"PRIMARY KEY ({', '.join(map(_quote, PRIMARY_KEYS[table]))})")
        statements.append(f"CREATE TABLE {_quote(table)} (\n  " + ",\n  ".join(parts) + "\n)")
    for table, column in INDEXES:
        statements.append(
            f"CREATE INDEX {_quote(f'{table}_{column}')} ON {_quote(table)} ({_quote(column)})"
        )
    return statements


def _values(table: str, rows: Iterable[Mapping[str, object]]) -> Iterable[tuple[object, ...]]:
    names = [name for name, _ in SCHEMA[table]]
    return (tuple(row[name] for name in names) for row in rows)


def write_sqlite(path: Path, tables: Tables) -> None:
    """Write ``tables`` as a new SQLite database at ``path``, replacing it atomically
    (through a symlink, as ``cp`` does; never over a device, FIFO or other special file)."""
    given, path = path, _target(path)
    _check_folder(path.parent, given)

    def build(tmp: Path) -> None:
        connection = sqlite3.connect(tmp)
        try:
            connection.execute("PRAGMA journal_mode = OFF")  # a fresh file: nothing to roll back
            connection.execute("PRAGMA synchronous = OFF")  # synced once, by atomic_build
            with connection:
                for statement in schema_sql():
                    connection.execute(statement)
                for table, rows in tables.named().items():
                    names = [name for name, _ in SCHEMA[table]]
                    connection.executemany(
                        f"INSERT INTO {_quote(table)} ({', '.join(map(_quote, names))}) "
                        f"VALUES ({', '.join('?' * len(names))})",
                        _values(table, rows),
                    )
        finally:
            connection.close()

    try:
        with folders_made_for(path):  # (a folder made for it removed again if it fails)
            atomic_build(path, build)
    except (OSError, sqlite3.Error) as exc:
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EscError(f"cannot write {given}: {message}") from None


def _target(path: Path) -> Path:
    """Where an export to ``path`` is written (see :func:`esc.store.atomic.output_target`)."""
    try:
        return output_target(path)
    except NotRegularFile as exc:
        raise EscError(f"cannot write {path}: {exc}; {REGULAR_ONLY}") from None
    except OSError as exc:
        raise EscError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_targets(sqlite_file: Path | None, csv_dir: Path | None) -> None:
    """Refuse (EscError) an export whose SQLite file or CSV folder cannot be written (a
    folder, a device, a FIFO; a file where a folder must be), before anything is written:
    an export to both writes neither when one is refused; nor one whose SQLite file is
    the CSV folder or one of its tables' files, which one would write over the other."""
    if sqlite_file is not None and csv_dir is not None:
        database = os.path.realpath(sqlite_file)
        folder = os.path.realpath(csv_dir)
        if database == folder or database in (os.path.join(folder, f"{t}.csv") for t in SCHEMA):
            raise EscError(
                f"--sqlite {sqlite_file} is --csv {csv_dir} or one of its files: one would"
                " write over the other; name them apart"
            )
    if sqlite_file is not None:
        _target(sqlite_file)
        _check_folder(sqlite_file.parent, sqlite_file)
    if csv_dir is not None:
        _check_folder(csv_dir, csv_dir)
        if csv_dir.is_dir():
            for table in SCHEMA:
                _target(csv_dir / f"{table}.csv")


def table_csv(table: str, rows: Iterable[Mapping[str, object]]) -> str:
    """One table as CSV: a header row, then the rows; NULL is an empty field, and text a
    spreadsheet would take for a formula starts with ``'`` (:mod:`esc.report.spreadsheet`)."""
    return csv_text([name for name, _ in SCHEMA[table]], _values(table, rows))


def write_csv(folder: Path, tables: Tables) -> list[Path]:
    """Write ``<folder>/tickets.csv``, ``escalations.csv``, ``requests.csv`` and ``events.csv``,
    all of them or none (:func:`esc.store.atomic.atomic_write_all`)."""
    written = []
    _check_folder(folder, folder)
    named = tables.named()
    try:  # (all or none: the tables of one export go together; a folder made for them is
        # removed again if they cannot be written, a full disk say)
        with folders_made_for(folder / "tickets.csv"):
            targets = {table: _target(folder / f"{table}.csv") for table in named}
            # (a table's text made when its turn comes, and let go once written aside)
            atomic_write_all((targets[t], table_csv(t, rows)) for t, rows in named.items())
    except OSError as exc:
        raise EscError(f"cannot write {exc.filename or folder}: {exc.strerror or exc}") from None
    written += [folder / f"{table}.csv" for table in named]
    return written


def _check_folder(folder: Path, target: Path) -> None:
    """Refuse ``target`` if ``folder`` or a folder above it is something else."""
    for part in (folder, *folder.parents):
        if part.is_symlink() and not part.exists():  # (as --sqlite and report --out say it)
            said = f"{part} is a dangling symlink (to {os.readlink(part)})"
            raise EscError(f"cannot write {target}: {said}")
        if part.exists() and not part.is_dir():
            raise EscError(f"cannot write {target}: {part} is not a folder")
