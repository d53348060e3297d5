"""`esc export`: analyst queries on the SQLite export agree with the ticket files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sqlite3
import stat
import statistics
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import frontmatter
import pytest

from esc.config.loading import build_config
from esc.domain.model import Activity, Escalation, Ticket
from esc.report.export import SCHEMA, build_tables, utc_text
from tests.conftest import Esc

NOW = "2026-11-27T09:00:00+01:00"
TABLES = ("tickets", "escalations", "requests", "events")


# ---------------------------------------------------------------- reading the files ourselves


def _moment(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def read_files(root: Path) -> list[dict[str, Any]]:
    """Each ticket file's front-matter, plus the number of activity lines it has."""
    tickets = []
    for path in sorted((root / "tickets").glob("*.md")):
        post = frontmatter.load(str(path))
        meta = dict(post.metadata)
        section = None
        events = 0
        for line in post.content.splitlines():
            if line.startswith("## "):
                section = line.strip()
            elif section == "## Activity" and line.startswith("- "):
                events += 1
        meta["_events"] = events
        meta["_file"] = f"tickets/{path.name}"
        tickets.append(meta)
    return tickets


@pytest.fixture
def exported(demo: Path) -> Iterator[tuple[Path, sqlite3.Connection, Esc, str]]:
    desk = Esc(demo, now=NOW)
    out = desk.ok("export", "--sqlite", "db", "--csv", "out")
    connection = sqlite3.connect(demo / "db")
    yield demo, connection, desk, out
    connection.close()


def one(connection: sqlite3.Connection, sql: str, *args: object) -> Any:
    return connection.execute(sql, args).fetchone()[0]


# ---------------------------------------------------------------- the demo, queried


def test_counts_and_summary_line(exported: tuple[Path, sqlite3.Connection, Esc, str]) -> None:
    root, db, _, out = exported
    files = read_files(root)
    escalations = sum(len(t["escalations"] or []) for t in files)
    events = sum(t["_events"] for t in files)
    assert len(files) == 36
    assert one(db, "SELECT COUNT(*) FROM tickets") == len(files)
    assert one(db, "SELECT COUNT(*) FROM escalations") == escalations
    assert one(db, "SELECT COUNT(*) FROM events") == events
    requests = sum(len(t.get("requests") or []) for t in files)
    assert requests == 2 and one(db, "SELECT COUNT(*) FROM requests") == requests
    assert (
        out == f"exported {len(files)} tickets, {escalations} escalations, {requests} requests,"
        f" {events} events to db and out\n"
    )


def test_requests_with_their_state_and_minutes(
    exported: tuple[Path, sqlite3.Connection, Esc, str],
) -> None:
    _, db, _, _ = exported
    rows = db.execute(
        "SELECT ticket_id, team, person, state, asked_utc, closed_by, minutes FROM requests"
        " ORDER BY asked_utc"
    ).fetchall()
    assert rows == [
        ("T-cb45ts7v", "engineering", "ben", "answered", "2026-11-23T14:15:00Z", "ben", 1130.0),
        ("T-0m6b2xb7", "management", "clara", "open", "2026-11-26T09:42:00Z", None, None),
    ]


def test_escalations_per_destination_team(
    exported: tuple[Path, sqlite3.Connection, Esc, str],
) -> None:
    root, db, _, _ = exported
    expected = Counter(
        e["to"] for t in read_files(root) for e in t["escalations"] or [] if e["kind"] != "priority"
    )
    rows = db.execute(
        "SELECT to_value, COUNT(*) FROM escalations WHERE kind != 'priority' GROUP BY to_value"
    ).fetchall()
    assert dict(rows) == dict(expected)
    assert len(expected) >= 2
    # escalations made by automation rules are flagged
    by_rule = Counter(
        str(e["by"]).startswith("rule:") for t in read_files(root) for e in t["escalations"] or []
    )
    assert one(db, "SELECT SUM(by_rule) FROM escalations") == by_rule[True] > 0
    # seq numbers each ticket's escalations from 1, in file order
    first = db.execute(
        "SELECT ticket_id, seq, at, from_value, to_value FROM escalations ORDER BY ticket_id, seq"
    ).fetchall()
    expected_rows = [
        (t["id"], n, _moment(e["at"]).isoformat(), e["from"], e["to"])  # type: ignore[union-attr]
        for t in sorted(read_files(root), key=lambda t: str(t["id"]))
        for n, e in enumerate(t["escalations"] or [], start=1)
    ]
    assert first == expected_rows


def test_median_resolution_minutes(exported: tuple[Path, sqlite3.Connection, Esc, str]) -> None:
    root, db, _, _ = exported
    durations = [
        (_moment(t["resolved_at"]) - _moment(t["created"])).total_seconds() / 60  # type: ignore[operator]
        for t in read_files(root)
        if t.get("resolved_at")
    ]
    assert len(durations) >= 5
    n = one(db, "SELECT COUNT(*) FROM tickets WHERE resolution_minutes IS NOT NULL")
    assert n == len(durations)
    middle = db.execute(
        "SELECT resolution_minutes FROM tickets WHERE resolution_minutes IS NOT NULL "
        "ORDER BY resolution_minutes LIMIT ? OFFSET ?",
        (2 - n % 2, (n - 1) // 2),
    ).fetchall()
    median = sum(r[0] for r in middle) / len(middle)
    assert median == pytest.approx(statistics.median(durations))


def test_first_response_minutes_and_utc_columns(
    exported: tuple[Path, sqlite3.Connection, Esc, str],
) -> None:
    root, db, _, _ = exported
    rows = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT id, created, created_utc, first_response_minutes, priority_rank, level, file "
            "FROM tickets"
        )
    }
    ranks = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    for t in read_files(root):
        created = _moment(t["created"])
        assert created is not None
        created_text, created_utc, minutes, rank, level, file = rows[t["id"]]
        assert dt.datetime.fromisoformat(created_text) == created
        assert created_text == created.isoformat()
        assert created_utc == created.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        responded = _moment(t.get("first_response_at"))
        if responded is None:
            assert minutes is None
        else:
            assert minutes == pytest.approx((responded - created).total_seconds() / 60)
        assert rank == ranks[t["priority"]]
        assert level in (1, 2, 3)
        assert file == t["_file"]
    # the _utc text sorts like the moments themselves
    by_text = [r[0] for r in db.execute("SELECT id FROM tickets ORDER BY created_utc, id")]
    by_moment = [
        str(t["id"])
        for t in sorted(read_files(root), key=lambda t: (_moment(t["created"]), t["id"]))
    ]
    assert by_text == by_moment


def test_events_per_ticket(exported: tuple[Path, sqlite3.Connection, Esc, str]) -> None:
    root, db, _, _ = exported
    expected = {t["id"]: t["_events"] for t in read_files(root)}
    rows = db.execute(
        "SELECT t.id, COUNT(e.seq) FROM tickets t LEFT JOIN events e ON e.ticket_id = t.id "
        "GROUP BY t.id"
    ).fetchall()
    assert dict(rows) == expected
    assert one(db, "SELECT MIN(seq) FROM events") == 1
    assert one(db, "SELECT COUNT(*) FROM events WHERE event = 'created' AND field IS NULL") == 36
    assert one(db, "SELECT COUNT(*) FROM events WHERE field = 'status' AND event IS NULL") > 0
    # every event's ticket exists
    assert (
        one(db, "SELECT COUNT(*) FROM events WHERE ticket_id NOT IN (SELECT id FROM tickets)") == 0
    )


def test_indexes_exist(exported: tuple[Path, sqlite3.Connection, Esc, str]) -> None:
    _, db, _, _ = exported
    indexed = set()
    for table in TABLES:
        for index in db.execute(f"PRAGMA index_list({table})").fetchall():
            columns = [c[2] for c in db.execute(f"PRAGMA index_info('{index[1]}')")]
            if len(columns) == 1:
                indexed.add((table, columns[0]))
    assert {
        ("tickets", "id"),
        ("tickets", "team"),
        ("tickets", "status"),
        ("tickets", "priority"),
        ("tickets", "created_utc"),
        ("escalations", "to_value"),
        ("escalations", "at_utc"),
        ("events", "ticket_id"),
        ("events", "at_utc"),
    } <= indexed
    assert one(db, "PRAGMA integrity_check") == "ok"


def _as_csv(value: object) -> str:
    """The CSV cell of a database value: text a spreadsheet would run as a formula
    (`@wei` in a mention's event) gets a leading `'`; numbers stay as they are."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else str(value)


def test_csv_files_hold_the_same_rows(exported: tuple[Path, sqlite3.Connection, Esc, str]) -> None:
    root, db, _, _ = exported
    assert sorted(p.name for p in (root / "out").iterdir()) == [
        "escalations.csv",
        "events.csv",
        "requests.csv",
        "tickets.csv",
    ]
    for table in TABLES:
        columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
        assert columns == [name for name, _ in SCHEMA[table]]
        with open(root / "out" / f"{table}.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == columns
        expected = [[_as_csv(v) for v in r] for r in db.execute(f"SELECT * FROM {table}")]
        assert rows[1:] == expected
        assert len(expected) > 0


# ---------------------------------------------------------------- edge cases


def test_empty_workspace_exports_empty_tables(esc: Esc, workspace: Path) -> None:
    result = esc("export", "--sqlite", "empty.db", "--csv", "csv")
    assert result.code == 0, result.err
    assert result.out == (
        "exported 0 tickets, 0 escalations, 0 requests, 0 events to empty.db and csv\n"
    )
    db = sqlite3.connect(workspace / "empty.db")
    try:
        for table in TABLES:
            assert one(db, f"SELECT COUNT(*) FROM {table}") == 0
    finally:
        db.close()
    for table in TABLES:
        lines = (workspace / "csv" / f"{table}.csv").read_text(encoding="utf-8").splitlines()
        assert lines == [",".join(name for name, _ in SCHEMA[table])]


def test_broken_ticket_is_reported_and_the_others_exported(demo: Path) -> None:
    (demo / "tickets" / "T-broken00.md").write_text("---\nid: [unclosed\n---\n", encoding="utf-8")
    copy = (demo / "tickets" / "T-0m6b2xb7.md").read_text(encoding="utf-8")
    (demo / "tickets" / "T-zzcopy00.md").write_text(copy, encoding="utf-8")  # a duplicate ID
    result = Esc(demo, now=NOW)("export", "--sqlite", "db")
    assert result.code == 1
    assert result.out.startswith("exported 36 tickets, ")
    errors = result.err.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith("tickets/T-broken00.md:2: front-matter does not parse")
    # a copy under another name: its id is not its file's name, so it is not exported
    assert errors[1].startswith("tickets/T-zzcopy00.md:2: id T-0m6b2xb7 does not match")
    db = sqlite3.connect(demo / "db")
    try:
        assert one(db, "SELECT COUNT(*) FROM tickets") == 36
        assert one(db, "SELECT file FROM tickets WHERE id = 'T-0m6b2xb7'") == (
            "tickets/T-0m6b2xb7.md"
        )
    finally:
        db.close()


def test_an_output_is_required(esc: Esc) -> None:
    result = esc("export")
    assert result.code == 2
    assert result.err == "esc: give --sqlite FILE, --csv DIR, or both (see `esc export --help`)\n"


def test_existing_database_is_replaced_without_leftovers(demo: Path) -> None:
    desk = Esc(demo, now=NOW)
    target = demo / "out"
    target.mkdir()
    (target / "helpdesk.db").write_text("not a database", encoding="utf-8")
    before = sorted(p.name for p in demo.iterdir())
    for _ in range(2):
        out = desk.ok("export", "--sqlite", "out/helpdesk.db", "--csv", "out/csv")
        assert out.endswith(" to out/helpdesk.db and out/csv\n")
    db = sqlite3.connect(target / "helpdesk.db")
    try:
        assert one(db, "SELECT COUNT(*) FROM tickets") == 36
    finally:
        db.close()
    assert sorted(p.name for p in target.iterdir()) == ["csv", "helpdesk.db"]
    assert sorted(p.name for p in (target / "csv").iterdir()) == [
        "escalations.csv",
        "events.csv",
        "requests.csv",
        "tickets.csv",
    ]
    assert sorted(p.name for p in demo.iterdir()) == before


def test_a_directory_is_no_database_file(demo: Path) -> None:
    (demo / "adir").mkdir()
    result = Esc(demo, now=NOW)("export", "--sqlite", "adir")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "esc: cannot write adir: a directory, not a regular file;"
        " esc writes reports and exports to regular files only\n"
    )
    assert list((demo / "adir").iterdir()) == []


def test_an_export_to_two_targets_writes_neither_when_one_is_refused(demo: Path) -> None:
    (demo / "out" / "events.csv").mkdir(parents=True)
    (demo / "afile").write_text("mine\n")
    for args in (["--csv", "out", "--sqlite", "a.db"], ["--sqlite", "b.db", "--csv", "afile"]):
        result = Esc(demo, now=NOW)("export", *args)
        assert result.code == 1 and result.out == "", args
        assert result.err.startswith("esc: cannot write "), args
    assert not (demo / "a.db").exists() and not (demo / "b.db").exists()
    assert sorted(p.name for p in (demo / "out").iterdir()) == ["events.csv"]
    assert (demo / "afile").read_text() == "mine\n"


def test_a_csv_folder_that_is_a_dangling_link_or_a_dash_is_said_so(demo: Path) -> None:
    """`--csv LINK` (a link to nowhere) said "File exists"; `--csv -` made a folder `-`."""
    (demo / "LINK").symlink_to("/nonexistent/dir")
    dangling = Esc(demo, now=NOW)("export", "--csv", "LINK")
    assert (dangling.code, dangling.err) == (
        1, "esc: cannot write LINK: LINK is a dangling symlink (to /nonexistent/dir)\n"
    )  # fmt: skip
    for option in ("--csv", "--sqlite"):
        dash = Esc(demo, now=NOW)("export", option, "-")
        assert dash.code == 2 and "`-` (standard output) is not one here" in dash.err
    assert not (demo / "-").exists()
    # (a file in such a folder: report --out and export --sqlite made the whole chain where
    # the link pointed, as `mkdir -p` will not; audit helper-463)
    (demo / "PUB").symlink_to(demo / "nowhere" / "a")
    for args in (("report", "--out", "PUB/r.md"), ("export", "--sqlite", "PUB/x.db")):
        refused = Esc(demo, now=NOW)(*args)
        assert (refused.code, refused.err) == (1, f"esc: cannot write {args[-1]}: PUB is a"
                                               f" dangling symlink (to {demo}/nowhere/a); esc"
                                               " writes reports and exports to regular files"
                                               " only\n")  # fmt: skip
    assert not (demo / "nowhere").exists()


# ---------------------------------------------------------------- the pure row builders


def test_rows_follow_the_schema() -> None:
    config, findings = build_config("intake: support\nteams:\n  support: {level: 1}\n", "")
    assert config is not None and not findings
    at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    ticket = Ticket(
        id="T-1",
        title="x",
        status="resolved",
        priority="high",
        team="support",
        created=at,
        updated=at,
        first_response_at=at + dt.timedelta(minutes=10, seconds=30),
        resolved_at=at + dt.timedelta(hours=2),
        tags=("vip", "eu"),
        escalations=(
            Escalation(at, "priority", "normal", "high", "rule:bump", "r"),
            Escalation(at, "functional", "support", "support", "alice", "r"),
        ),
        activity=(Activity(at, "alice", event="created"), Activity(at, "bob", "status", None, "x")),
    )
    tables = build_tables([ticket], config)
    for table, rows in zip(TABLES, tables, strict=True):
        assert [list(r) for r in rows] == [[n for n, _ in SCHEMA[table]]] * len(rows)
    row = tables.tickets[0]
    assert row["created_utc"] == "2026-11-20T08:00:00Z" == utc_text(at)
    assert row["first_response_minutes"] == 10.5
    assert row["resolution_minutes"] == 120
    assert row["tags"] == "vip,eu"
    assert row["priority_rank"] == 2
    assert row["level"] == 1
    assert row["file"] == "tickets/T-1.md"
    assert row["closed_at"] is None and row["closed_at_utc"] is None
    assert [(e["seq"], e["by_rule"]) for e in tables.escalations] == [(1, 1), (2, 0)]
    assert [(e["seq"], e["event"], e["field"], e["note"]) for e in tables.events] == [
        (1, "created", None, None),
        (2, None, "status", None),
    ]


def test_the_article_that_solved_a_ticket_is_a_column(
    exported: tuple[Path, sqlite3.Connection, Esc, str],
) -> None:
    root, connection, _, _ = exported
    expected = {t["id"]: t["kb"] for t in read_files(root) if t.get("kb")}
    assert len(expected) >= 5
    rows = dict(connection.execute("SELECT id, kb FROM tickets WHERE kb IS NOT NULL"))
    assert rows == expected
    with open(root / "out" / "tickets.csv", newline="") as f:
        from_csv = {r["id"]: r["kb"] for r in csv.DictReader(f) if r["kb"]}
    assert from_csv == expected


# ---------------------------------------------------------------- special files (issue 20)


def _special(kind: str, path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to a device":
        os.symlink(os.devnull, path)
    elif kind == "symlink loop":
        os.symlink(path.name, path)
    elif kind == "dangling symlink":  # (cp: "not writing through dangling symlink")
        os.symlink(os.path.join("missing", "x"), path)
    else:
        path.mkdir()


def _what(path: Path) -> tuple[object, ...]:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    return (stat.S_IFMT(st.st_mode),)


@pytest.mark.parametrize(
    "kind", ["fifo", "link to a device", "symlink loop", "dangling symlink", "directory"]
)
@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["export", "--sqlite", "{}"], "out.db"),
        (["export", "--csv", "csv"], "csv/events.csv"),
        (["report", "--out", "{}"], "out.md"),
        (["report", "--format", "csv", "--out", "{}"], "out.csv"),
    ],
)
def test_an_output_path_that_is_no_regular_file_is_refused_and_kept(
    esc: Esc, workspace: Path, kind: str, args: list[str], name: str
) -> None:
    """A device, FIFO, symlink loop or directory at a path the user gave for output was
    replaced by a regular file (`esc export --sqlite /dev/null` as root replaced
    /dev/null): it is one line, exit 1, and stays as it was; nothing else is written."""
    esc.ok("create", "--title", "A ticket", "--category", "billing")
    path = workspace / name
    path.parent.mkdir(exist_ok=True)
    _special(kind, path)
    before = _what(path)
    result = esc(*[a.replace("{}", name) for a in args])
    lines = result.err.splitlines()
    assert len(lines) == 1, lines
    assert result.code == 1, result.err
    assert lines[0].startswith(f"esc: cannot write {name}: "), lines
    assert lines[0].endswith(
        "not a regular file; esc writes reports and exports to regular files only"
    ), lines
    assert _what(path) == before
    assert not (path.parent / "missing").exists()  # (no folder made for a dangling link)
    if "--csv" in args:  # refused before any of the three files is written
        assert [p.name for p in path.parent.iterdir()] == ["events.csv"]
    assert not list(workspace.rglob(".*.tmp"))


def test_an_output_path_that_is_a_pipe_by_proc_is_called_a_pipe(esc: Esc, workspace: Path) -> None:
    """`esc export --sqlite /dev/stdout | cat`: /dev/stdout leads, by /proc, to a pipe
    (which realpath cannot follow): refused as the pipe it is, not as "a symlink" with a
    word about tickets and articles (audit e74)."""
    esc.ok("create", "--title", "A ticket", "--category", "billing")
    read, write = os.pipe()
    try:
        (workspace / "out.db").symlink_to(f"/proc/self/fd/{write}")
        result = esc("export", "--sqlite", "out.db")
    finally:
        os.close(read)
        os.close(write)
    assert (result.code, result.err) == (1, "esc: cannot write out.db: a FIFO (named pipe),"
                                            " not a regular file; esc writes reports and"
                                            " exports to regular files only\n")  # fmt: skip


@pytest.mark.parametrize("command", [("report", "--out"), ("export", "--sqlite")])
def test_an_output_path_ending_in_a_slash_names_a_folder_not_a_file(
    esc: Esc, workspace: Path, command: tuple[str, str]
) -> None:
    """`--out newdir/` made a file named newdir; as cp says, it names a folder."""
    result = esc(*command, "newdir/")
    assert (result.code, result.err) == (1, "esc: cannot write newdir/: a folder's name, not "
                                            "a file's; esc writes reports and exports to "
                                            "regular files only\n")  # fmt: skip
    assert not (workspace / "newdir").exists()


@pytest.mark.parametrize(
    ("args", "name"),
    [(["export", "--sqlite", "{}"], "out.db"), (["report", "--out", "{}"], "out.md")],
)
def test_an_output_path_that_is_a_symlink_is_written_through_as_cp_does(
    esc: Esc, workspace: Path, args: list[str], name: str
) -> None:
    esc.ok("create", "--title", "A ticket", "--category", "billing")
    real = workspace / "elsewhere" / "real"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    os.symlink("elsewhere/real", workspace / name)
    esc.ok(*[a.replace("{}", name) for a in args])
    assert os.readlink(workspace / name) == "elsewhere/real"  # the link stays
    assert real.read_bytes() != b"old"
    assert sorted(p.name for p in real.parent.iterdir()) == ["real"]


def test_the_sla_block_a_sweep_wrote_is_in_the_tickets_table(esc: Esc, tmp_path: Path) -> None:
    """An analyst could not redo SLA compliance from the export: the policy and each
    clock's due time and state the sweep wrote were nowhere in it."""
    swept = esc.ok("create", "--title", "t", "--category", "billing").strip()
    esc.ok("sweep", "--no-report", now="2026-11-20T14:30:00+01:00")
    never = esc.ok("create", "--title", "u", "--category", "billing",
                   now="2026-11-20T14:40:00+01:00").strip()  # fmt: skip
    esc.ok("export", "--sqlite", str(tmp_path / "x.db"), now="2026-11-20T15:00:00+01:00")
    with sqlite3.connect(tmp_path / "x.db") as db:
        rows = {row[0]: row[1:] for row in db.execute(
            "SELECT id, sla_policy, sla_checked, first_response_due_utc, first_response_state,"
            " resolution_state, next_response_state FROM tickets")}  # fmt: skip
    assert rows[swept] == (
        "standard", "2026-11-20T14:30:00+01:00", "2026-11-20T13:00:00Z", "breached", "ok", None
    )
    assert rows[never] == (None,) * 6  # (never swept: no block)


def test_escalations_are_numbered_in_time_order(esc: Esc, workspace: Path, tmp_path: Path) -> None:
    """Escalations listed out of time order (by hand, or by an older esc, whose replay of a
    gap wrote the rule's escalation of Monday after the one a person made on Tuesday):
    `seq` numbered them in the file's order, the later first (issue 14's audit)."""
    ticket = esc.ok("create", "--title", "Slow page", "--category", "bug", "--body", "x",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-23T09:05:00+01:00")
    esc.ok("escalate", ticket, "--priority", "urgent", "--reason", "now bad",
           now="2026-11-24T15:00:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-25T12:00:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    lines = path.read_text().split("\n")
    first, second = (n for n, line in enumerate(lines) if line.startswith("  - {at: "))
    lines[first], lines[second] = lines[second], lines[first]  # (the later listed first)
    path.write_text("\n".join(lines))
    esc.ok("export", "--csv", str(tmp_path / "out"), now="2026-11-25T12:00:00+01:00")
    with (tmp_path / "out" / "escalations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["seq"], r["by"]) for r in rows] == [("1", "rule:breached-goes-up"), ("2", "alice")]


def test_a_ticket_that_does_not_fit_the_configuration_is_exported_and_said(
    esc: Esc, workspace: Path
) -> None:
    """A request to a team teams.yaml lacks (a hand edit, a merge): `check`, `show` and the
    report said so, the export exited 0 and wrote the row silently."""
    ticket = esc.ok("create", "--title", "t", "--body", "b").strip()
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "q")
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("team: engineering, state", "team: nosuch, state"))
    result = esc("export", "--sqlite", "x.db")
    assert result.code == 1
    assert f"tickets/{ticket}.md:" in result.err and "unknown team 'nosuch'" in result.err
    with sqlite3.connect(workspace / "x.db") as db:
        assert db.execute("select team from requests").fetchall() == [("nosuch",)]


def test_a_list_column_gives_its_items_back_whatever_they_hold(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """An attachment named with a comma read as two (audit helper-454): an item holding a
    comma, a quote or a line break is quoted as a CSV field, the others as they were."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    files = [f"attachments/{ticket}/invoice, march.pdf", f'attachments/{ticket}/say "hi".txt',
             f"attachments/{ticket}/logo.png"]  # fmt: skip
    listed = "".join(f"  - {json.dumps(name)}\n" for name in files)
    path.write_text(path.read_text().replace("\ntags: []\n", f"\ntags: []\nattachments:\n{listed}"))
    assert esc("validate").code == 0, esc("validate").out
    esc.ok("export", "--csv", str(tmp_path / "out"), "--sqlite", str(tmp_path / "x.db"))
    with (tmp_path / "out" / "tickets.csv").open(newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert next(csv.reader([row["attachments"]])) == files
    assert row["attachments"].endswith(",attachments/" + ticket + "/logo.png")
    with sqlite3.connect(tmp_path / "x.db") as db:
        (column,) = db.execute("SELECT attachments FROM tickets").fetchone()
    assert next(csv.reader([column])) == files
    # (one item written alone, not as a list: a list of one; review helper-464)
    text = path.read_text()
    path.write_text(text.replace(text[text.index("attachments:\n"):text.index("impact:")],
                                 f"attachments: {json.dumps(files[0])}\n"))  # fmt: skip
    assert esc("validate").code == 0, esc("validate").out
    esc.ok("export", "--csv", str(tmp_path / "out2"))
    with (tmp_path / "out2" / "tickets.csv").open(newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert next(csv.reader([row["attachments"]])) == files[:1]
