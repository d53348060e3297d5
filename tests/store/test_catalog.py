"""The catalog: every ticket file through the cache, parsed only when it changed, and the
SLA bookkeeping a sweep leaves so that the next one can skip quiet tickets."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from esc.domain.errors import ParseError
from esc.domain.plan import sla_of
from esc.report.slas import sla_now
from esc.store import catalog as catalog_module
from esc.store.catalog import Catalog, Record, load
from esc.store.workspace import Workspace
from tests.conftest import Esc

CET = dt.timezone(dt.timedelta(hours=1))


def at(hour: int, minute: int = 0, day: int = 20) -> dt.datetime:
    """A time in November 2026 (the 20th is a Friday)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CET)


def create(esc: Esc, title: str, when: dt.datetime, *extra: str) -> str:
    out = esc.ok("create", "--title", title, "--category", "billing", *extra, now=when.isoformat())
    return out.strip()


def catalog(root: Path) -> Catalog:
    return Catalog(Workspace(root))


def by_title(records: list[Record]) -> dict[str, Record]:
    return {r.ticket.title: r for r in records}


def age(path: Path, seconds: float = 10) -> None:
    """Make a file look older than the cache's window for files changed while being read."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


@pytest.fixture
def two(esc: Esc) -> tuple[str, str]:
    return create(esc, "Invoice missing", at(9)), create(esc, "Refund please", at(9, 30))


# ---------------------------------------------------------------- records


def test_a_first_read_parses_every_file_and_a_second_comes_from_the_cache(
    workspace: Path, two: tuple[str, str]
) -> None:
    first, records, broken = load(Workspace(workspace))
    assert broken == []
    assert [r.name for r in records] == sorted(f"{i}.md" for i in two)
    assert all(r.doc is not None for r in records)  # parsed
    first.save()

    again = catalog(workspace)
    records, broken = again.records()
    assert broken == []
    assert all(r.doc is None for r in records)  # not parsed: rebuilt from the cache
    invoice = by_title(records)["Invoice missing"]
    assert invoice.ticket.id == two[0]
    assert invoice.ticket.created == at(9)
    assert invoice.status == "new"
    assert invoice.active
    assert invoice.path == workspace / "tickets" / f"{two[0]}.md"


def test_full_parses_a_record_from_the_cache(workspace: Path, esc: Esc) -> None:
    ticket_id = create(esc, "Invoice missing", at(9), "--body", "Where is my invoice?")
    load(Workspace(workspace))[0].save()
    again = catalog(workspace)
    (record,) = again.records()[0]
    cached = record.ticket
    assert not cached.complete  # rebuilt from the cache: no description, no conversation
    assert cached.description == ""
    doc = again.full(record)
    assert doc.ticket.id == ticket_id
    assert doc.ticket.description == "Where is my invoice?"
    assert record.ticket.complete
    assert record.ticket.description == "Where is my invoice?"
    assert record.doc is doc


def test_a_changed_file_is_read_again(workspace: Path, two: tuple[str, str]) -> None:
    load(Workspace(workspace))[0].save()
    path = workspace / "tickets" / f"{two[0]}.md"
    path.write_text(path.read_text().replace("Invoice missing", "Invoice missing again"))
    records, _ = catalog(workspace).records()
    changed = by_title(records)["Invoice missing again"]
    assert changed.doc is not None  # parsed, not taken from the cache
    assert by_title(records)["Refund please"].doc is None


def test_an_edit_within_the_second_it_was_read_is_still_seen(
    workspace: Path, two: tuple[str, str]
) -> None:
    path = workspace / "tickets" / f"{two[0]}.md"
    os.utime(path)  # changed just now...
    load(Workspace(workspace))[0].save()  # ...and verified at once
    st = path.stat()
    path.write_text(path.read_text().replace("Invoice missing", "Invoice mislaid"))  # in place
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_ino, after.st_mtime_ns) == (
        st.st_size,
        st.st_ino,
        st.st_mtime_ns,
    )
    records, _ = catalog(workspace).records()
    assert "Invoice mislaid" in by_title(records)


def test_files_that_do_not_parse_come_back_as_parse_errors_every_time(
    workspace: Path, two: tuple[str, str]
) -> None:
    tickets = workspace / "tickets"
    (tickets / "T-broken00.md").write_text("no front-matter here\n")
    (tickets / "T-latin100.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    expected = [
        ("tickets/T-broken00.md", 1, "no front-matter: the file must start with a '---' line"),
        ("tickets/T-latin100.md", 2, "not UTF-8 text: invalid continuation byte"),
    ]
    first = catalog(workspace)
    records, broken = first.records()
    assert [(e.path, e.line, e.message) for e in broken] == expected
    assert len(records) == 2  # the others are read all the same
    first.save()
    records, broken = catalog(workspace).records()  # now the errors come from the cache
    assert [(e.path, e.line, e.message) for e in broken] == expected
    assert len(records) == 2


def torn_first_read(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[int]:
    """The first read of ``path`` catches it half written (an editor saving it in place:
    truncated, then written), as a read racing that save does; returns the reads' count."""
    real = catalog_module.read_with_stat
    reads: list[int] = []

    def read(name: str | Path) -> tuple[bytes, os.stat_result]:
        data, st = real(name)
        if Path(name) == path:
            reads.append(1)
            if len(reads) == 1:
                return data[: len(data) // 3], st
        return data, st

    monkeypatch.setattr(catalog_module, "read_with_stat", read)
    return reads


def test_a_file_caught_half_saved_is_read_again_not_reported_broken(
    workspace: Path, two: tuple[str, str], esc: Esc, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workspace / "tickets" / f"{two[0]}.md"
    reads = torn_first_read(monkeypatch, path)
    result = esc("sweep", "--no-report", now=at(14).isoformat())
    assert (result.code, result.err) == (0, "")
    assert len(reads) == 2
    assert "sla:" in path.read_text()  # swept as it reads now
    assert esc.ok("show", two[0]).startswith(f"{two[0]}")


def test_a_file_that_reads_the_same_twice_is_broken(
    workspace: Path, two: tuple[str, str], esc: Esc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read again only while it reads differently: a broken file costs one more read."""
    path = workspace / "tickets" / "T-broken00.md"
    path.write_text("no front-matter here\n")
    reads = torn_first_read(monkeypatch, workspace / "tickets" / "elsewhere.md")
    real = catalog_module.read_with_stat
    broken_reads: list[str] = []

    def counted(name: str | Path) -> tuple[bytes, os.stat_result]:
        if Path(name) == path:
            broken_reads.append(str(name))
        return real(name)

    monkeypatch.setattr(catalog_module, "read_with_stat", counted)
    result = esc("list")
    assert result.code == 1 and reads == []
    assert result.err == (
        "tickets/T-broken00.md:1: no front-matter: the file must start with a '---' line\n"
    )
    assert len(broken_reads) == 2


def test_a_record_to_sweep_makes_its_entry_only_when_asked_for(
    workspace: Path, two: tuple[str, str]
) -> None:
    """A sweep's worker parses a ticket without making its cache entry (most are rewritten:
    the entry kept is then the new text's); asked for, the entry is the one `record` makes,
    and kept."""
    folder = workspace / "tickets"
    name = f"{two[0]}.md"
    lazy = catalog(workspace)
    record = lazy.to_sweep(name, folder)
    assert record.ticket.title == "Invoice missing" and record.doc is not None
    assert not record.entry_made and name not in lazy.cache.entries
    made = record.entry
    assert record.entry_made and lazy.cache.entries[name] is made
    eager = catalog(workspace).record(name, folder).entry
    assert (made.digest, made.summary, made.listing, made.status) == (
        eager.digest,
        eager.summary,
        eager.listing,
        eager.status,
    )
    replaced = catalog(workspace).to_sweep(name, folder)
    replaced.entry = made  # (as a write sets the new text's): nothing left to make
    assert replaced.entry is made and replaced.entry_made


def test_a_record_to_sweep_of_a_file_that_does_not_parse_is_a_parse_error_kept(
    workspace: Path, two: tuple[str, str]
) -> None:
    folder = workspace / "tickets"
    (folder / "T-broken00.md").write_text("no front-matter here\n")
    first = catalog(workspace)
    with pytest.raises(ParseError) as raised:
        first.to_sweep("T-broken00.md", folder)
    assert (raised.value.path, raised.value.line) == ("tickets/T-broken00.md", 1)
    assert first.cache.entries["T-broken00.md"].status is None  # the error, kept
    first.save()
    records, broken = catalog(workspace).records()
    assert [e.path for e in broken] == ["tickets/T-broken00.md"] and len(records) == 2


def test_only_visible_markdown_files_are_tickets(workspace: Path, two: tuple[str, str]) -> None:
    tickets = workspace / "tickets"
    (tickets / "notes.txt").write_text("not a ticket\n")
    (tickets / ".T-hidden0.md").write_text("not a ticket either\n")
    assert catalog(workspace).names() == sorted(f"{i}.md" for i in two)


def test_a_deleted_ticket_is_forgotten(workspace: Path, two: tuple[str, str]) -> None:
    load(Workspace(workspace))[0].save()
    (workspace / "tickets" / f"{two[1]}.md").unlink()
    current = catalog(workspace)
    records, _ = current.records()
    assert [r.ticket.id for r in records] == [two[0]]
    assert sorted(current.cache.entries) == [f"{two[0]}.md"]


def test_records_read_for_a_moment_hold_no_parsed_ticket_and_keep_the_active_slas(
    workspace: Path, esc: Esc, two: tuple[str, str]
) -> None:
    """`esc list` and `esc check` without a cache: each parsed ticket is let go once read
    (a parsed ticket is ~18 KB: 1.8 GB at 100k), an active one after its SLA as of the
    moment is kept, which is the SLA the command would have computed from it."""
    closed = create(esc, "Old question", at(8))
    esc.ok("resolve", closed, "--resolution", "answered", now=at(8, 30).isoformat())
    esc.ok("close", closed, now=at(8, 40).isoformat())
    now = at(15)
    read = catalog(workspace)
    records, broken = read.records(now)
    assert broken == [] and len(records) == 3
    assert all(r.doc is None for r in records)  # parsed, then let go
    kept = {r.ticket.id: r for r in records}
    assert kept[two[0]].entry.sla_time == kept[two[1]].entry.sla_time == now.timestamp()
    assert kept[closed].entry.sla_time is None  # (computed only if a command shows it)
    parsed = {r.ticket.id: r for r in catalog(workspace).records()[0]}
    assert all(r.doc is not None for r in parsed.values())
    for tid in (*two, closed):
        assert sla_now(read, kept[tid], now) == sla_of(parsed[tid].ticket, read.config, now)


def test_a_streamed_catalog_reads_the_same_records_and_keeps_no_entry(
    workspace: Path, esc: Esc, two: tuple[str, str]
) -> None:
    """`esc report`'s catalog: the cache's rows read beside the files, none kept."""
    third = create(esc, "Password reset", at(10))
    broken = workspace / "tickets" / "T-broken00.md"
    broken.write_text("no front-matter\n")
    for path in (workspace / "tickets").glob("*.md"):
        age(path)
    load(Workspace(workspace))[0].save()
    (workspace / "tickets" / f"{two[1]}.md").unlink()  # a row whose file is gone
    (workspace / "tickets" / "T-aaaa0000.md").write_text(  # a file with no row
        (workspace / "tickets" / f"{third}.md").read_text().replace(third, "T-aaaa0000")
    )
    streamed = Catalog(Workspace(workspace), streamed=True)
    items = list(streamed.each())
    records = {r.name: r for r in items if isinstance(r, Record)}
    assert streamed.cache.entries == {"T-aaaa0000.md": records["T-aaaa0000.md"].entry}
    assert [n for n, r in records.items() if r.doc is not None] == ["T-aaaa0000.md"]  # parsed
    loaded, errors = catalog(workspace).records()
    assert [e.path for e in items if not isinstance(e, Record)] == [e.path for e in errors]
    assert [(n, r.ticket) for n, r in records.items()] == [(r.name, r.ticket) for r in loaded]
    streamed.save()
    after = catalog(workspace)
    assert sorted(after.cache.entries) == sorted(
        ["T-aaaa0000.md", f"{two[0]}.md", f"{third}.md", "T-broken00.md"]
    )  # the row of the gone file forgotten


def test_no_tickets_folder_means_no_tickets(workspace: Path) -> None:
    (workspace / "tickets" / ".gitkeep").unlink()
    (workspace / "tickets").rmdir()
    assert catalog(workspace).records() == ([], [])


# ---------------------------------------------------------------- SLA through a sweep
#
# A billing ticket created Friday 20 Nov 2026 at 09:00 falls under the starter's standard
# policy (office hours, Mon-Fri 09:00-17:00): first response due 13:00, warning at 12:00.


@pytest.fixture
def swept(workspace: Path, esc: Esc) -> tuple[Path, str]:
    ticket_id = create(esc, "Invoice missing", at(9))
    assert esc("sweep", "--no-report", now=at(10).isoformat()).code == 0
    return workspace, ticket_id


def record_of(current: Catalog) -> Record:
    (record,) = current.records()[0]
    return record


def test_after_a_sweep_a_ticket_is_quiet_until_its_next_event(swept: tuple[Path, str]) -> None:
    root, _ = swept
    current = catalog(root)
    record = record_of(current)
    assert current.quiet(record.entry, at(10))
    assert current.quiet(record.entry, at(11, 59))
    assert not current.quiet(record.entry, at(12))  # the first-response warning
    assert not current.quiet(record.entry, at(9, 59))  # before the sweep looked at it


def test_a_quiet_ticket_that_was_not_touched_is_not_read_by_the_next_sweep(
    swept: tuple[Path, str],
) -> None:
    root, ticket_id = swept
    path = root / "tickets" / f"{ticket_id}.md"
    age(path)
    load(Workspace(root))[0].save()  # verified while old: trusted by its stat from now on
    current = catalog(root)
    assert current.unanswered(at(11)) == []
    assert current.unanswered(at(12)) == [f"{ticket_id}.md"]
    path.write_text(path.read_text().replace("Invoice missing", "Invoice missing!"))
    assert catalog(root).unanswered(at(11)) == [f"{ticket_id}.md"]


def test_the_cached_sla_is_the_sla_of_the_ticket(swept: tuple[Path, str]) -> None:
    root, _ = swept
    current = catalog(root)
    record = record_of(current)
    cached = current.kept_sla(record, at(11))
    assert cached is not None
    assert record.doc is None  # answered without reading the file
    computed = sla_of(current.full(record).ticket, current.config, at(11))
    assert cached.policy is not None and computed.policy is not None
    assert cached.policy.name == computed.policy.name == "standard"
    assert cached.states() == computed.states() == {"first_response": "ok", "resolution": "ok"}
    assert [c.due for c in cached.clocks] == [c.due for c in computed.clocks]
    assert [c.used for c in cached.clocks] == [c.used for c in computed.clocks]
    assert current.kept_sla(record, at(9, 30)) is None  # computed after that moment
    assert current.kept_sla_near(record, at(9, 30)) is not None


def test_a_changed_configuration_voids_the_sla_in_the_cache(swept: tuple[Path, str]) -> None:
    root, _ = swept
    rules = root / "rules.yaml"
    rules.write_text(rules.read_text() + "# a comment changes the configuration's key\n")
    current = catalog(root)
    record = record_of(current)
    assert current.kept_sla(record, at(11)) is None
    assert not current.quiet(record.entry, at(11))


def test_an_sla_computed_outside_a_sweep_never_makes_a_ticket_quiet(
    workspace: Path, esc: Esc
) -> None:
    create(esc, "Invoice missing", at(9))
    current = catalog(workspace)
    record = record_of(current)
    assert sla_now(current, record, at(10)).states() == {"first_response": "ok", "resolution": "ok"}
    current.save()
    again = catalog(workspace)
    record = record_of(again)
    assert again.kept_sla(record, at(10)) is not None  # kept for the next reader...
    assert not again.quiet(record.entry, at(10))  # ...but the next sweep still plans it


def test_only_an_sla_computed_after_the_last_change_and_newer_is_kept(
    workspace: Path, esc: Esc
) -> None:
    create(esc, "Invoice missing", at(9))
    current = catalog(workspace)
    record = record_of(current)
    sla_now(current, record, at(8))  # before the ticket was created: not kept
    assert current.kept_sla(record, at(11)) is None
    sla_now(current, record, at(11))
    assert current.kept_sla(record, at(11)) is not None
    sla_now(current, record, at(10))  # older than the one kept: does not replace it
    assert current.kept_sla(record, at(10, 30)) is None
    kept = current.kept_sla(record, at(11))
    assert kept is not None and kept.now == at(11)


def test_a_resolved_ticket_is_settled_once_its_last_deadline_has_passed(
    workspace: Path, esc: Esc
) -> None:
    ticket_id = create(esc, "Invoice missing", at(9))
    create(esc, "Refund please", at(9))
    esc.ok("resolve", ticket_id, "--resolution", "Sent again", now=at(9, 45).isoformat())
    assert esc("sweep", "--no-report", now=at(10).isoformat()).code == 0
    current = catalog(workspace)
    records = by_title(current.records()[0])
    resolved, active = records["Invoice missing"], records["Refund please"]
    assert not resolved.active
    # its resolution deadline (24h of office hours: Tuesday 24 Nov, 17:00) still counts
    assert not current.settled_before(resolved, at(10))
    assert current.settled_before(resolved, at(17, 1, day=24))
    assert not current.settled_before(active, at(17, 1, day=30))  # an active one never is


def test_a_ticket_kept_settled_is_quiet_and_its_sla_computed_by_who_needs_it(
    workspace: Path, esc: Esc
) -> None:
    """What a cold sweep keeps of a ticket settled before its reports' period (its SLA not
    computed): no sweep looks at it again, a report of a later period skips it, and one
    that needs its SLA computes it and keeps it, though it is older than the sweep's."""
    ticket_id = create(esc, "Invoice missing", at(9))
    esc.ok("resolve", ticket_id, "--resolution", "Sent again", now=at(9, 45).isoformat())
    current = catalog(workspace)
    record = record_of(current)
    current.keep_settled(record, at(10), at(17, day=24).timestamp())
    current.save()
    again = catalog(workspace)
    record = record_of(again)
    assert again.quiet(record.entry, at(10)) and again.quiet(record.entry, at(9, day=30))
    assert again.settled_before(record, at(17, 1, day=24))
    assert not again.settled_before(record, at(17, day=24))
    assert again.kept_sla(record, at(11)) is None
    assert sla_now(again, record, at(11)).states() == {"first_response": "met", "resolution": "met"}
    assert again.kept_sla(record, at(11)) is not None
    assert again.quiet(record.entry, at(9, day=30))  # (as the sweep left it)


def test_a_time_dependent_policy_is_never_answered_from_the_cache(
    workspace: Path, esc: Esc
) -> None:
    rules = workspace / "rules.yaml"
    text = rules.read_text()
    assert text.count("when: {priority: urgent}") == 1
    aged = text.replace("when: {priority: urgent}", "when: {priority: urgent, age: '>1d'}")
    rules.write_text(aged)
    create(esc, "Invoice missing", at(9))
    assert esc("sweep", "--no-report", now=at(10).isoformat()).code == 0
    current = catalog(workspace)
    record = record_of(current)
    assert current.kept_sla(record, at(11)) is None
    assert not current.quiet(record.entry, at(11))


# ---------------------------------------------------------------- verdicts as numbers


def _desk_for_verdicts(esc: Esc) -> None:
    """Tickets whose clocks stand differently as time goes by: a new one (its first
    response goes into warning, then past due), an urgent one (no warning, due in 30m), a
    pending one (its clocks paused), one answered (the resolution clock runs) and one
    resolved (not active)."""
    create(esc, "Invoice missing", at(9))
    create(esc, "Checkout down", at(9, 5), "--priority", "urgent")
    waiting = create(esc, "Which VAT rate?", at(9, 10))
    esc.ok("wait", waiting, "--reason", "Asked for the country", now=at(9, 20).isoformat())
    answered = create(esc, "Export fails", at(9, 15))
    esc.ok("comment", answered, "-m", "Looking into it", now=at(9, 40).isoformat())
    done = create(esc, "Typo on the invoice", at(9, 20))
    esc.ok("resolve", done, "--resolution", "Fixed", now=at(9, 50).isoformat())


READ_COMMANDS = [
    ("check",),
    ("check", "--fail-on", "warning"),
    ("check", "--format", "json"),
    ("check", "--format", "json", "--fail-on", "warning"),
    ("check", "--format", "github", "--fail-on", "warning"),
    ("check", "--format", "junit"),
    ("list",),
    ("list", "--all"),
    ("list", "--overdue"),
    ("list", "--overdue", "--json"),
    ("list", "--json"),
    ("list", "--all", "--json"),
    ("sweep", "--dry-run", "--no-report"),
]


def test_commands_served_from_the_cache_print_what_a_cold_run_prints(
    tmp_path: Path, workspace: Path, esc: Esc
) -> None:
    import shutil

    _desk_for_verdicts(esc)
    esc.ok("sweep", "--no-report", now=at(10).isoformat())  # the SLAs kept as of 10:00
    cold_root = tmp_path / "cold"
    shutil.copytree(workspace, cold_root)
    cold = Esc(cold_root)
    # 10:05: nothing crossed; 12:05: the new ticket's warning (75% of 4h) passed since the
    # SLAs were kept; 13:30: its first response is past due; then days and years later
    far = dt.datetime(2031, 6, 2, tzinfo=CET)
    moments = [at(10, 5), at(12, 5), at(13, 30), at(10, day=23), far]
    standings = set()
    for moment in moments:
        for command in READ_COMMANDS:
            shutil.rmtree(cold_root / ".esc-cache", ignore_errors=True)
            expected = cold(*command, now=moment.isoformat())
            got = esc(*command, now=moment.isoformat())
            assert (got.code, got.out, got.err) == (expected.code, expected.out, expected.err), (
                moment,
                command,
            )
        kept = catalog(workspace)
        records, _ = kept.records()
        standings |= {kept.standing(r, moment) for r in records if r.active}
    assert {"ok", "warning", "overdue"} <= standings  # every verdict was judged by numbers


def test_a_paused_clock_is_neither_in_warning_nor_overdue_by_the_numbers(
    workspace: Path, esc: Esc
) -> None:
    waiting = create(esc, "Which VAT rate?", at(9, 10))
    esc.ok("wait", waiting, "--reason", "Asked for the country", now=at(9, 20).isoformat())
    esc.ok("sweep", "--no-report", now=at(10).isoformat())
    kept = catalog(workspace)
    (record,) = kept.records()[0]
    later = dt.datetime(2031, 6, 2, tzinfo=CET)
    assert kept.standing(record, later) == "ok"
    sla = sla_now(kept, record, later)
    assert [c.state for c in sla.clocks if c.running] == ["paused", "paused"]


def test_a_clock_paused_past_its_deadline_stands_still_in_the_cache(
    tmp_path: Path, workspace: Path, esc: Esc
) -> None:
    """A pending ticket's resolution clock, breached before the pause: still breached, but
    its time used no longer grows (the cache counted it on until this was kept)."""
    import shutil

    late = create(esc, "Export fails", at(9))  # due Tuesday 17:00 (24 h of office time)
    esc.ok("wait", late, "--reason", "Asked for the logs", now=at(10, day=25).isoformat())
    esc.ok("sweep", "--no-report", now=at(11, day=25).isoformat())  # kept, pausing
    cold_root = tmp_path / "cold"
    shutil.copytree(workspace, cold_root)
    for moment in (at(11, day=25), at(16, day=25), at(10, day=30)):
        for command in (("list", "--json"), ("list",), ("check", "--format", "json")):
            shutil.rmtree(cold_root / ".esc-cache", ignore_errors=True)
            expected = Esc(cold_root)(*command, now=moment.isoformat())
            assert esc(*command, now=moment.isoformat()) == expected, (moment, command)
    kept = catalog(workspace)
    (record,) = kept.records()[0]
    sla = sla_now(kept, record, at(10, day=30))
    (resolution,) = [c for c in sla.clocks if c.metric == "resolution"]
    assert (resolution.state, resolution.pausing) == ("breached", True)
    assert resolution.used == dt.timedelta(hours=25)  # Friday 09:00 to Wednesday 10:00


def test_no_verdict_from_numbers_kept_after_the_moment_asked_about(
    workspace: Path, esc: Esc
) -> None:
    create(esc, "Invoice missing", at(9))
    esc.ok("sweep", "--no-report", now=at(13, 30).isoformat())
    kept = catalog(workspace)
    (record,) = kept.records()[0]
    assert kept.standing(record, at(13, 30)) == "overdue"
    assert kept.standing(record, at(10)) is None  # (computed anew, as kept_sla would be)


def test_the_sla_column_from_the_kept_numbers_is_the_one_of_the_whole_sla(
    workspace: Path, esc: Esc
) -> None:
    from esc.report.views import clock_cell, next_clock, sla_cell, stopped_cell
    from esc.store import cache_codec

    _desk_for_verdicts(esc)
    esc.ok("sweep", "--no-report", now=at(10).isoformat())
    kept = catalog(workspace)
    records, _ = kept.records()
    far = dt.datetime(2031, 6, 2, tzinfo=CET)
    cells = set()
    for moment in [at(10, 5), at(12, 5), at(13, 30), at(10, day=23), far]:
        for record in records:
            whole = kept.kept_sla_states(record, moment)
            assert whole is not None
            numbers = kept.kept_cell(record, moment.timestamp())
            assert numbers is not None
            assert record.doc is None  # (from the cache, the file not read)
            shown = cache_codec.next_clock_at(numbers, moment.timestamp())
            clock = next_clock(whole)
            if shown is None:  # no clock runs
                assert clock is None
                assert stopped_cell(numbers[0]) == sla_cell(whole, record.ticket)
                continue
            assert clock is not None
            due = None if clock.due is None else clock.due.timestamp()
            assert shown == (clock.metric, clock.state, due)
            instant = None if due is None else dt.datetime.fromtimestamp(due, dt.timezone.utc)
            cell = clock_cell(shown[1], instant, moment)
            assert cell == sla_cell(whole, record.ticket)
            cells.add(cell.split(" ")[0])
    assert {"due", "warning,", "breached", "paused"} <= cells
    assert kept.kept_cell(records[0], at(9, 59).timestamp()) is None  # kept after it


@pytest.mark.parametrize("cut", [0, 1, 2, 3, 4])
def test_shares_of_a_streamed_catalog_read_every_file_and_row_once(
    workspace: Path, esc: Esc, two: tuple[str, str], cut: int
) -> None:
    """`esc report` over two processes: the files before ``cut`` and from it, each with the
    cache's rows of its names (a row whose file is gone forgotten by the share whose names
    it falls between), read as one streamed catalog reads them all."""
    for title in ("Password reset", "Invoice copy"):
        create(esc, title, at(10))
    for path in (workspace / "tickets").glob("*.md"):
        age(path)
    load(Workspace(workspace))[0].save()
    gone = sorted((workspace / "tickets").glob("*.md"))[1]
    gone.unlink()
    whole = Catalog(Workspace(workspace), streamed=True)
    expected = [(r.name, r.ticket) for r in whole.each() if isinstance(r, Record)]
    shared = Catalog(Workspace(workspace), streamed=True)
    names = shared.names()
    assert len(names) == 3 and cut <= 4
    parts = [list(shared.share(0, min(cut, 3))), list(shared.share(min(cut, 3), 3))]
    seen = [(r.name, r.ticket) for part in parts for r in part if isinstance(r, Record)]
    assert seen == expected
    assert shared.cache.entries == {} and shared.cache.removed == {gone.name}


COARSE = getattr(time, "CLOCK_REALTIME_COARSE", 5)  # (Linux's; Python names it from 3.13)


@pytest.mark.parametrize("command", ["list", "validate"])
def test_a_save_in_place_while_a_file_is_parsed_is_seen_by_the_next_read(
    workspace: Path, esc: Esc, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A file saved in place while esc parsed it, its size, inode and modification time
    kept (`cp -p`, `rsync --inplace -t`): its entry was verified as of the end of the
    parse, after the save's change time, and the cache served the old text until the file
    changed again (validate's clean verdict hid a broken ticket)."""
    ticket = create(esc, "Invoice missing", at(9))
    path = workspace / "tickets" / f"{ticket}.md"
    age(path, 3600)
    real = catalog_module.parse_ticket
    saved: list[bool] = []

    def parse_while_saved(data: bytes, rel: str, *args: object, **kwargs: object) -> object:
        if not saved:  # (the save lands while the parse runs, a tick of the clock the file
            # system stamps times with after the read began, as a save during a long parse
            # does: within the same tick no stamp can tell them apart)
            began = time.time_ns()
            while time.clock_gettime_ns(COARSE) <= began:
                pass
            st = path.stat()
            text = path.read_bytes().replace(b"priority: normal", b"priority: nxrmal")
            with open(path, "r+b") as handle:
                handle.write(text)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
            saved.append(True)
        return real(data, rel, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog_module, "parse_ticket", parse_while_saved)
    import shutil

    shutil.rmtree(workspace / ".esc-cache", ignore_errors=True)  # (no entry knows the file)
    first = esc(command)  # (read the file as it was, and kept its entry)
    assert first.code == 0, first.err
    monkeypatch.setattr(catalog_module, "parse_ticket", real)
    assert saved
    result = esc("validate")
    assert result.code == 1 and "unknown priority 'nxrmal'" in result.err, result.err
    listed = esc("list", "--json")
    assert '"priority": "nxrmal"' in listed.out
