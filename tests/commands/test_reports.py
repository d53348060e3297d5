"""`esc report`: the same bytes whether the cache lets it skip settled tickets or not."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Esc, asked_then_resolved, with_ola

FORMATS = ["markdown", "html", "json", "csv"]


def _reports(desk: Esc, root: Path, team: str | None, *extra: str) -> tuple[list[str], list[str]]:
    """Every format of the report without a cache (every ticket's SLA computed), and with
    the cache a sweep left (the tickets settled before the period only counted)."""
    args = [["report", "--format", fmt, *extra] + (["--team", team] if team else [])
            for fmt in FORMATS]  # fmt: skip
    desk.ok("sweep", "--no-report")
    warm = [desk.ok(*a) for a in args]
    shutil.rmtree(root / ".esc-cache")
    return [desk.ok(*a) for a in args], warm


@pytest.mark.parametrize(
    "now",
    [
        "2026-11-27T09:00:00+01:00",  # the demo's own time: a few tickets settled
        "2027-03-01T10:00:00+01:00",  # every closed ticket settled long ago
    ],
)
@pytest.mark.parametrize("team", [None, "support", "engineering"])
def test_a_report_skipping_settled_tickets_is_byte_identical(
    demo: Path, now: str, team: str | None
) -> None:
    cold, warm = _reports(Esc(demo, now=now), demo, team)
    assert warm == cold


def test_a_request_s_clock_paused_by_a_wait_counts_the_same_from_the_cache(demo: Path) -> None:
    """A ticket with a request to another team, put on hold after: its OLA clock pauses
    while it is pending, from the cache's summary as from the file (the summary had no log,
    so the whole life counted as pending: the breached request reported met)."""
    desk = Esc(demo, now="2026-11-27T12:00:00+01:00")
    desk.ok("wait", "T-0m6", "--reason", "need docs")
    cold, warm = _reports(desk, demo, None)
    assert warm == cold
    assert '"breached": 1' in cold[2]
    desk.ok("report", "--format", "json")  # (the cache made by the cold report)
    assert desk.ok("report", "--format", "json") == cold[2]


def test_the_same_on_a_generated_workspace(tmp_path: Path) -> None:
    """bench/generate.py's two years of tickets, most closed: settled ones are skipped."""
    root = tmp_path / "ws"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "generate.py"), "120", str(root), "--jobs", "1"],
        check=True,
        capture_output=True,
    )
    desk = Esc(root, now="2026-11-27T09:00:00+01:00")
    for team in (None, "support"):
        cold, warm = _reports(desk, root, team)
        assert warm == cold
        assert '"tickets": 120' in cold[2] or team is not None
    cold, warm = _reports(desk, root, None, "--since", "2026-06-01", "--until", "2026-09-30")
    assert warm == cold


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE files SET status = 'closed', settled = 1.0",  # (fails its check)
        "UPDATE files SET sla = x'deadbeef'",
        "DELETE FROM files",
        "INSERT INTO files (name, checksum) VALUES ('T-gone0000.md', 0)",
    ],
)
def test_a_report_over_a_damaged_cache_is_the_cold_report(demo: Path, damage: str) -> None:
    """`esc report` reads the cache's rows beside the files: a row that fails its check,
    a file with no row and a row with no file change nothing it prints."""
    import sqlite3

    desk = Esc(demo, now="2027-03-01T10:00:00+01:00")  # (most tickets settled)
    cold, warm = _reports(desk, demo, None)
    assert warm == cold
    desk.ok("sweep", "--no-report")
    db = sqlite3.connect(demo / ".esc-cache" / "tickets.sqlite")
    db.execute(damage)
    db.commit()
    db.close()
    assert [desk.ok("report", "--format", fmt) for fmt in FORMATS] == cold
    assert [desk.ok("report", "--format", fmt) for fmt in FORMATS] == cold  # (rows rewritten)


class Split:
    """``split(True)``: `esc report` counts the second half of any workspace in a second
    process (as it does from SPLIT_AT tickets on a machine with more than one CPU);
    ``split(False)``: in one process.  ``handed``: what the second processes handed back
    (one per report whose second half was counted there)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from esc.commands import reports
        from esc.store import workers

        self.monkeypatch, self.reports = monkeypatch, reports
        self.handed: list[object] = []
        taken = reports._take
        monkeypatch.setattr(workers, "cpus", lambda: 2)

        def take(*args: Any) -> None:
            self.handed.append(args[-1])
            taken(*args)

        monkeypatch.setattr(reports, "_take", take)

    def __call__(self, on: bool, head_start: int = 0) -> None:
        """``head_start``: how many more tickets esc counts than the forked process (by
        default as many: halves)."""
        self.monkeypatch.setattr(self.reports, "SPLIT_AT", 2 if on else 10**9)
        self.monkeypatch.setattr(self.reports, "FORK_HEAD_START", head_start)
        self.handed.clear()


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> Split:
    return Split(monkeypatch)


@pytest.mark.parametrize(
    ("team", "now", "head_start"),
    [
        (None, "2026-11-27T09:00:00+01:00", 0),
        ("support", "2026-11-27T09:00:00+01:00", 0),
        (None, "2027-03-01T10:00:00+01:00", 0),
        ("support", "2027-03-01T10:00:00+01:00", 0),
        (None, "2026-11-27T09:00:00+01:00", 7),
        (None, "2026-11-27T09:00:00+01:00", 10**6),  # (the other process: the last ticket)
    ],
)
def test_a_report_counted_by_two_processes_is_byte_identical(
    demo: Path, split: Split, team: str | None, now: str, head_start: int
) -> None:
    """Each share of the tickets counted by a process of its own, the second share's counts
    added after the first's: every format the same, without a cache and with one."""
    desk = Esc(demo, now=now)
    split(False)
    alone, alone_warm = _reports(desk, demo, team)
    shutil.rmtree(demo / ".esc-cache")
    split(True, head_start)
    halves, halves_warm = _reports(desk, demo, team)
    assert halves == alone and halves_warm == alone_warm == alone
    assert len(split.handed) == 2 * len(alone)


def test_the_second_process_keeps_what_it_computed_and_says_what_does_not_parse(
    demo: Path, split: Split
) -> None:
    """Without a cache, the second process computes its tickets' SLAs: the cache saved
    after the report holds them (the next report reads no ticket file), and a file in its
    half that does not parse is reported as by one process, in file order."""
    import sqlite3

    names = sorted(p.name for p in (demo / "tickets").glob("*.md"))
    broken = demo / "tickets" / names[-1]
    broken.write_text("---\nid: [unclosed\n---\n", encoding="utf-8")
    desk = Esc(demo, now="2026-11-27T09:00:00+01:00")
    split(False)
    alone = desk("report", "--format", "json")
    shutil.rmtree(demo / ".esc-cache", ignore_errors=True)
    split(True)
    halves = desk("report", "--format", "json")
    assert len(split.handed) == 1
    assert (halves.code, halves.out, halves.err) == (alone.code, alone.out, alone.err)
    assert alone.code == 1 and f"tickets/{broken.name}:" in alone.err
    db = sqlite3.connect(demo / ".esc-cache" / "tickets.sqlite")
    kept = dict(db.execute("SELECT name, sla IS NOT NULL OR status IS NULL FROM files"))
    db.close()
    assert set(kept) == set(names) and all(kept.values())
    assert desk("report", "--format", "json").out == halves.out


@pytest.mark.parametrize("how", [["--jobs", "1"], []])
def test_jobs_1_counts_every_ticket_in_one_process(
    demo: Path, split: Split, how: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--jobs 1` (or ESC_JOBS=1) keeps `esc report` to one process, with the same report."""
    desk = Esc(demo, now="2026-11-27T09:00:00+01:00")
    split(True)
    halves = desk.ok("report", "--format", "json")
    assert len(split.handed) == 1
    if not how:
        monkeypatch.setenv("ESC_JOBS", "1")
    split(True)
    assert desk.ok("report", "--format", "json", *how) == halves
    assert split.handed == []


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE files SET status = 'closed', settled = 1.0",  # (fails its check)
        "DELETE FROM files WHERE rowid % 2 = 0",
        "INSERT INTO files (name, checksum) VALUES ('T-zzzzzzzz.md', 0)",  # (the second half)
    ],
)
def test_two_processes_over_a_damaged_cache_give_the_cold_report(
    demo: Path, split: Split, damage: str
) -> None:
    """The second process finds damaged rows in its half as one process would: the report
    is the cold one, and the rows it rewrote are saved (the next report the same)."""
    import sqlite3

    desk = Esc(demo, now="2027-03-01T10:00:00+01:00")
    split(False)
    cold, _ = _reports(desk, demo, None)
    desk.ok("sweep", "--no-report")
    db = sqlite3.connect(demo / ".esc-cache" / "tickets.sqlite")
    db.execute(damage)
    db.commit()
    db.close()
    split(True)
    assert [desk.ok("report", "--format", fmt) for fmt in FORMATS] == cold
    assert [desk.ok("report", "--format", fmt) for fmt in FORMATS] == cold
    assert len(split.handed) == 2 * len(FORMATS)


def test_feedback_without_a_score_is_reported(esc: Esc) -> None:
    """The customer said it: a ticket closed with feedback and no CSAT is listed (csat
    null, "no score"), and counts in no score's average."""
    import json

    ticket = esc.ok("create", "--title", "t", "--body", "x", now="2026-11-23T09:00:00+01:00")
    ticket = ticket.strip()
    esc.ok("resolve", ticket, "--resolution", "ok", now="2026-11-23T09:10:00+01:00")
    esc.ok("close", ticket, "--feedback", "no score", now="2026-11-23T09:20:00+01:00")
    now = "2026-11-23T12:00:00+01:00"
    data = json.loads(esc.ok("report", "--format", "json", now=now))
    assert data["satisfaction"]["feedback"] == [
        {"id": ticket, "csat": None, "at": "2026-11-23T09:20:00+01:00", "text": "no score"}
    ]
    assert sum(data["satisfaction"]["distribution"].values()) == 0
    markdown = esc.ok("report", now=now)
    assert f"tickets/{ticket}.md) (no score): no score" in markdown
    html = esc.ok("report", "--format", "html", now=now)
    assert "no score, " in html and "<blockquote>no score</blockquote>" in html


def test_reports_link_to_tickets_from_where_they_are(esc: Esc, workspace: Path) -> None:
    """`sweep --report-dir` and `report --out` anywhere: links relative to the report;
    `--out -` is stdout."""
    ticket = esc.ok("create", "--title", "Late", "--body", "x", now="2026-11-20T09:00:00+01:00")
    ticket = ticket.strip()
    later = "2026-11-23T10:00:00+01:00"  # (breached: listed and linked)
    esc.ok("sweep", "--report-dir", "a/b", now=later)
    link = f"(../../tickets/{ticket}.md)"
    assert link in (workspace / "a" / "b" / "summary.md").read_text()
    assert f'href="../../tickets/{ticket}.md"' in (workspace / "a" / "b" / "index.html").read_text()
    esc.ok("sweep", now=later)
    assert f"(../tickets/{ticket}.md)" in (workspace / "reports" / "summary.md").read_text()
    esc.ok("report", "--out", "x/y/z/report.md", now=later)
    assert f"(../../../tickets/{ticket}.md)" in (workspace / "x/y/z/report.md").read_text()
    assert esc.ok("report", "--out", "-", now=later) == esc.ok("report", now=later)
    assert not (workspace / "-").exists()


def test_out_s_extension_says_the_format_unless_format_does(demo: Path) -> None:
    """`--out r.html` writes HTML, `.json` JSON, `.csv` CSV; another name, or stdout,
    Markdown; `--format` wins over the name."""
    esc = Esc(demo, now="2026-11-27T09:00:00+01:00")
    for name, fmt in [("r.html", "html"), ("r.JSON", "json"), ("r.csv", "csv"),
                      ("r.md", "markdown"), ("r.txt", "markdown")]:  # fmt: skip
        esc.ok("report", "--out", name)
        assert (demo / name).read_text() == esc.ok("report", "--format", fmt), name
    esc.ok("report", "--out", "forced.html", "--format", "json")
    assert json.loads((demo / "forced.html").read_text())["backlog"]["active"] > 0


def test_a_report_or_export_never_writes_over_the_workspace_s_own_files(demo: Path) -> None:
    """`report --out tickets/T-….md` replaced the ticket with a report (exit 0), and
    `export --sqlite rules.yaml` wrote over rules.yaml before failing on it: refused, with
    one line naming the path, and nothing written; anywhere else is written."""
    esc = Esc(demo, now="2026-11-27T09:00:00+01:00")
    ticket = sorted((demo / "tickets").glob("*.md"))[0]
    (demo / "linked.md").symlink_to(ticket)
    (demo / "tables").mkdir()  # (a folder of its own, a table in it a link to a ticket)
    (demo / "tables" / "events.csv").symlink_to(ticket)
    before = {
        p: p.read_bytes() for p in demo.rglob("*") if p.is_file() and ".esc-cache" not in p.parts
    }
    for args in [
        ("report", "--out", f"tickets/{ticket.name}"),
        ("report", "--out", "linked.md"),
        ("report", "--out", "tickets/new.md"),
        ("report", "--out", "./rules.yaml"),
        ("report", "--out", "kb/summary.md"),
        ("export", "--sqlite", "teams.yaml"),
        ("export", "--csv", "tickets"),
        ("export", "--csv", "kb/tables"),
        ("report", "--out", ".gitattributes"),
        ("report", "--out", ".gitignore"),
        ("export", "--sqlite", "../.git/config"),  # (a repository's above the workspace)
        ("export", "--csv", "tables"),
    ]:
        result = esc(*args)
        assert result.code == 1 and result.out == "", args
        path = "tables/events.csv" if args[2] == "tables" else Path(args[2])
        assert result.err.startswith(
            f"esc: cannot write {path}: it is the workspace's own ("
        ), args
        assert len(result.err.splitlines()) == 1
    after = {
        p: p.read_bytes() for p in demo.rglob("*") if p.is_file() and ".esc-cache" not in p.parts
    }
    assert after == before
    esc.ok("report", "--out", "reports/summary.md")
    esc.ok("export", "--sqlite", "out/all.sqlite", "--csv", "out")
    assert (demo / "reports" / "summary.md").is_file() and (demo / "out" / "tickets.csv").is_file()


def test_a_sweep_never_renders_its_reports_into_the_workspace_s_own_folders(
    demo: Path,
) -> None:
    """`sweep --report-dir tickets` wrote tickets/summary.md, a ticket that does not
    parse, and every command failed after: refused, nothing written; a folder of its own
    is rendered into."""
    esc = Esc(demo, now="2026-11-27T09:00:00+01:00")
    before = {p: p.read_bytes() for p in demo.rglob("*") if p.is_file()}
    for folder in ["tickets", "kb", ".esc-cache", "tickets/reports"]:
        result = esc("sweep", "--report-dir", folder)
        assert result.code == 1 and result.out == "", folder
        assert result.err.startswith(f"esc: cannot write {demo / folder}/summary.md: it is "
                                     "the workspace's own ("), result.err  # fmt: skip
    assert {p: p.read_bytes() for p in demo.rglob("*") if p.is_file()} == before
    esc.ok("sweep", "--report-dir", "elsewhere")
    assert (demo / "elsewhere" / "summary.md").is_file()
    assert esc("validate").code == 0


def test_an_export_whose_database_is_its_csv_folder_or_a_table_is_refused(demo: Path) -> None:
    """`export --sqlite out --csv out` wrote the database, then failed (exit 1); with
    `--sqlite d/tickets.csv --csv d` the CSV table replaced the database, and the line said
    both were exported: refused before either is written."""
    esc = Esc(demo, now="2026-11-27T09:00:00+01:00")
    (demo / "d").mkdir()
    for sqlite, csv in [("out", "out"), ("d/tickets.csv", "d"), ("./d/events.csv", "d/")]:
        result = esc("export", "--sqlite", sqlite, "--csv", csv)
        assert (result.code, result.out) == (1, ""), (sqlite, result.err)
        assert result.err == (
            f"esc: --sqlite {Path(sqlite)} is --csv {Path(csv)} or one of its files: one would "
            "write over "
            "the other; name them apart\n"
        )
    assert not (demo / "out").exists() and list((demo / "d").iterdir()) == []
    esc.ok("export", "--sqlite", "d/all.sqlite", "--csv", "d")


def test_an_exact_format_on_a_pipe_keeps_escape_sequences(demo: Path) -> None:
    """`report --format csv|html` hold values exactly: on a pipe as in `--out` (click took
    the escape sequences off what went to a pipe: a title with ESC [2J lost them)."""
    esc = Esc(demo, now="2026-11-27T09:00:00+01:00")
    overdue = json.loads(esc.ok("list", "--overdue", "--json"))[0]["id"]
    path = demo / "tickets" / f"{overdue}.md"
    lines = path.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("title: "))
    lines[at] = 'title: "Down\\e[2Jnow"'
    path.write_text("\n".join(lines))
    for fmt in ("csv", "html"):
        piped = esc("report", "--format", fmt)
        esc.ok("report", "--format", fmt, "--out", f"r.{fmt}")
        assert "\x1b[2J" in piped.out and piped.out == (demo / f"r.{fmt}").read_text()


def test_a_report_counts_what_happened_at_now_and_speed_by_the_level_that_acted(
    esc: Esc,
) -> None:
    """Created, answered, escalated, resolved and closed within the hour and reported at the
    instant of the closing: all of it is in the period (it ends at `now`, included); the
    first response is level 1's (support answered before the escalation), the resolution
    level 2's."""
    at = "2026-11-02T{}:00+00:00".format
    ticket = esc.ok("create", "--title", "J", "--body", "x", "--category", "billing",
                    now=at("09:00")).strip()  # fmt: skip
    esc.ok("comment", ticket, "-m", "hi", now=at("09:10"))
    esc.ok("escalate", ticket, "--up", "--reason", "r", now=at("09:20"))
    esc.ok("resolve", ticket, "--resolution", "ok", now=at("10:00"))
    esc.ok("close", ticket, "--csat", "5", "--feedback", "nice", now=at("10:00"))
    report = json.loads(esc.ok("report", "--format", "json", now=at("10:00")))
    totals = report["totals"]
    assert (totals["created"], totals["resolved"], totals["closed"]) == (1, 1, 1)
    assert (totals["escalations"], report["satisfaction"]["responses"]) == (1, 1)
    speed = report["speed"]
    assert speed["first_response"]["by_level"]["1"]["wall"]["count"] == 1
    assert speed["first_response"]["by_level"]["2"]["wall"]["count"] == 0
    assert speed["resolution"]["by_level"]["2"]["wall"]["count"] == 1


def test_report_bounds_without_an_offset_are_in_the_zone_of_now_and_md_is_markdown(
    esc: Esc,
) -> None:
    now = "2026-11-27T09:00:00+09:00"
    esc.ok("create", "--title", "t", "--body", "x", now="2026-11-02T19:00:00+09:00")
    same = [
        json.loads(esc.ok("report", "--format", "json", "--since", since, now=now))["period"]
        for since in ("2026-11-01T10:00", "2026-11-01T10:00:00+09:00")
    ]
    assert same[0] == same[1] and same[0]["since"] == "2026-11-01T10:00:00+09:00"
    assert esc.ok("report", "--format", "md", now=now) == esc.ok(
        "report", "--format", "markdown", now=now
    )


def test_feedback_times_are_in_the_report_s_offset_and_one_rating_is_singular(
    esc: Esc,
) -> None:
    ticket = esc.ok("create", "--title", "t", "--body", "x",
                    now="2026-11-02T19:00:00+09:00").strip()  # fmt: skip
    esc.ok("close", ticket, "--resolution", "ok", "--csat", "4", "--feedback", "fb",
           now="2026-11-02T19:30:00+09:00")  # fmt: skip
    report = json.loads(esc.ok("report", "--format", "json", now="2026-11-03T12:00:00Z"))
    assert [f["at"] for f in report["satisfaction"]["feedback"]] == ["2026-11-02T10:30:00+00:00"]
    assert "from 1 rating." in esc.ok("report", now="2026-11-03T12:00:00Z")


def test_compiled_templates_cut_short_are_compiled_again(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compiled template in the user's cache cut short (a full disk, a killed write):
    jinja's unpickling of it raised out of every report and sweep (exit 3)."""
    import os

    from esc.report import render

    esc = Esc(demo)
    first = esc.ok("report", "--format", "html", now="2026-11-27T11:30:00+01:00")
    compiled = Path(os.environ["HOME"]) / ".cache" / "esc" / "templates"
    kept = sorted(compiled.iterdir())
    assert kept
    for path in kept:
        path.write_bytes(path.read_bytes()[:40])
    monkeypatch.setattr(render, "_ENVIRONMENTS", {})  # (a new process: read from the cache)
    assert esc.ok("report", "--format", "html", now="2026-11-27T11:30:00+01:00") == first
    assert any(path.stat().st_size > 40 for path in kept)  # (the one used: compiled again)


def cold_then_warm_reports(
    esc: Esc, workspace: Path, now: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """`esc report --format json` at ``now`` with no cache ("cold"), then from the cache the
    first run left ("warm"): each must count the same."""
    shutil.rmtree(workspace / ".esc-cache", ignore_errors=True)
    for cache in ("cold", "warm"):
        yield cache, json.loads(esc.ok("report", "--format", "json", now=now))


def test_every_reply_cycle_s_next_response_counts_not_the_latest_alone(
    esc: Esc, workspace: Path
) -> None:
    """A reply answered late, then a quick one: the report counted the latest cycle alone,
    so the breach vanished from compliance and the breaches once the customer wrote again.
    Each cycle counts: from the files, from the cache, and in the sweep's report."""
    import json

    t = esc.ok("create", "--title", "t", "--category", "billing", now="2026-11-23T09:00:00+01:00")
    t = t.strip()
    esc.ok("comment", t, "-m", "On it", now="2026-11-23T09:30:00+01:00")
    esc.ok("comment", t, "-m", "Still broken", "--from-customer", now="2026-11-23T10:00:00+01:00")
    esc.ok("comment", t, "-m", "Late", now="2026-11-24T11:00:00+01:00")  # (9h: due Tue 10:00)
    esc.ok("comment", t, "-m", "And now?", "--from-customer", now="2026-11-24T12:00:00+01:00")
    esc.ok("comment", t, "-m", "Quick", now="2026-11-24T13:00:00+01:00")  # (1h: met)
    now = "2026-11-24T18:00:00+01:00"
    wanted = {"met": 1, "breached": 1, "total": 2, "rate": 0.5}
    for cache, data in cold_then_warm_reports(esc, workspace, now):
        assert data["sla"]["compliance"]["by_metric"]["next_response"] == wanted, cache
        assert data["totals"]["breaches"] == 1, cache
    esc.ok("sweep", "--no-notify", now=now)
    swept = json.loads((workspace / "reports" / "report.json").read_text(encoding="utf-8"))
    assert swept["sla"]["compliance"]["by_metric"]["next_response"] == wanted
    assert "| next_response | 1 | 1 | 2 | 50% |" in esc.ok("report", now=now)


def test_the_period_is_shown_in_the_report_s_offset(esc: Esc) -> None:
    """The HTML says "(times in UTC+00:00)": a --since given in +05:00 was shown as written
    (and a request's `asked` in its ticket's offset), so it read five hours off."""
    import json

    now = "2026-11-10T12:00:00Z"
    args = ("--since", "2026-11-03T00:00:00+05:00", "--until", "2026-11-06T00:00:00-03:00")
    data = json.loads(esc.ok("report", "--format", "json", *args, now=now))
    assert (data["period"]["since"], data["period"]["until"]) == (
        "2026-11-02T19:00:00+00:00", "2026-11-06T03:00:00+00:00"
    )
    html = esc.ok("report", "--format", "html", *args, now=now)
    assert ">2026-11-02 19:00</time> to <time datetime=\"2026-11-06T03:00:00+00:00\"" in html


def test_a_breach_that_escalated_to_a_level_of_another_policy_is_counted(
    esc: Esc, workspace: Path
) -> None:
    """Per-level policies: the first-response breach at 11:00 escalated the ticket to level
    2, whose policy has no first response; the report counted no breach and 100%
    compliance. It counts the breach now, as support's (the team that held the ticket),
    from the files, from the cache and in the sweep's report."""
    import json

    from tests.commands.test_sweep import RULES_LEVELS

    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    esc.ok("create", "--title", "t", "--category", "billing", now="2026-11-20T09:00:00+01:00")
    now = "2026-11-20T11:30:00+01:00"
    esc.ok("sweep", "--no-notify", now=now)
    wanted = {"met": 0, "breached": 1, "total": 1, "rate": 0.0}
    for cache, data in cold_then_warm_reports(esc, workspace, now):
        assert data["sla"]["compliance"]["by_metric"]["first_response"] == wanted, cache
        assert data["sla"]["compliance"]["by_team"]["support"] == wanted, cache
        assert data["totals"]["breaches"] == 1, cache
    esc.ok("sweep", "--no-notify", now="2026-11-20T12:30:00+01:00")
    swept = json.loads((workspace / "reports" / "report.json").read_text(encoding="utf-8"))
    assert swept["sla"]["compliance"]["by_metric"]["first_response"] == wanted


def test_a_ticket_re_routed_by_classify_counts_for_the_team_that_held_it(
    esc: Esc, workspace: Path
) -> None:
    """Support answered 6h in (first response breached), then `classify` re-routed the
    ticket to engineering: the breach is support's (the team that held it when the clock
    finished), the first response level 1's, and support's own report counts the ticket;
    from the files and from the cache alike."""
    at = "2026-11-0{}:00+01:00".format
    ticket = esc.ok("create", "--title", "X", "--body", "x", "--category", "billing",
                    now=at("2T09:00")).strip()  # fmt: skip
    esc.ok("comment", ticket, "-m", "hi", now=at("2T15:00"))
    esc.ok("classify", ticket, "--category", "bug", now=at("2T15:30"))
    assert json.loads(esc.ok("show", ticket, "--json", now=at("2T15:30")))["team"] == "engineering"
    breached = {"met": 0, "breached": 1, "total": 1, "rate": 0.0}
    for cache, data in cold_then_warm_reports(esc, workspace, at("3T12:00")):
        by_team = data["sla"]["compliance"]["by_team"]
        assert by_team["support"] == breached, cache
        assert by_team.get("engineering", {"total": 0})["total"] == 0, cache
        first = data["speed"]["first_response"]["by_level"]
        assert (first["1"]["wall"]["count"], first["2"]["wall"]["count"]) == (1, 0), cache
        assert [t["id"] for t in data["collaboration"]["several_teams_tickets"]] == [ticket]
    support = json.loads(esc.ok("report", "--team", "support", "--format", "json",
                                now=at("3T12:00")))  # fmt: skip
    assert support["totals"]["created"] == 1
    assert support["sla"]["compliance"]["by_team"]["support"] == breached


def test_a_ticket_reopened_later_is_not_in_an_earlier_period_s_collaboration(
    esc: Esc, workspace: Path
) -> None:
    """Escalated, resolved and closed in October: November's report listed it among the
    tickets worked by several teams once it was reopened in December (active in the period
    was judged by the status of now)."""
    ticket = esc.ok("create", "--title", "VAT wrong", "--body", "x", "--category", "billing",
                    now="2026-10-12T10:00:00+02:00").strip()  # fmt: skip
    esc.ok("escalate", ticket, "--to", "engineering", "--reason", "ledger bug",
           now="2026-10-12T10:20:00+02:00")  # fmt: skip
    esc.ok("resolve", ticket, "--resolution", "fixed", now="2026-10-14T10:20:00+02:00")
    esc.ok("close", ticket, "--csat", "4", now="2026-10-15T10:20:00+02:00")
    november = ["report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", "json"]

    def listed(now: str) -> list[str]:
        data = json.loads(esc.ok(*november, now=now))
        return [t["id"] for t in data["collaboration"]["several_teams_tickets"]]

    assert listed("2026-12-01T09:00:00+01:00") == []
    esc.ok("reopen", ticket, "--reason", "back again", now="2026-12-03T09:00:00+01:00")
    assert listed("2026-12-05T09:00:00+01:00") == []
    october = json.loads(esc.ok("report", "--since", "2026-10-01", "--until", "2026-10-31",
                                "--format", "json", now="2026-12-05T09:00:00+01:00"))  # fmt: skip
    assert [t["id"] for t in october["collaboration"]["several_teams_tickets"]] == [ticket]


def test_a_priority_put_right_after_a_breach_counts_one_clock_swept_or_not(
    esc: Esc, workspace: Path
) -> None:
    """Created urgent (30 minutes to a first response), breached, put right to normal at
    10:45 (4 hours), answered at 11:00: one first response, met, before any sweep; once a
    sweep had logged the policy's change it counted two, one breached and one met."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().split("\nrules:")[0] + "\n")  # (no automation)
    ticket = esc.ok("create", "--title", "Card payments fail", "--body", "x", "--category",
                    "billing", "--priority", "urgent", now="2026-11-02T10:00:00+01:00").strip()
    esc.ok("classify", ticket, "--priority", "normal", now="2026-11-02T10:45:00+01:00")
    esc.ok("comment", ticket, "-m", "On it", now="2026-11-02T11:00:00+01:00")

    def counted() -> tuple[object, object]:
        data = json.loads(esc.ok("report", "--format", "json", now="2026-11-03T09:00:00+01:00"))
        return data["sla"]["compliance"]["by_metric"]["first_response"], data["totals"]["breaches"]

    one = ({"met": 1, "breached": 0, "total": 1, "rate": 1.0}, 0)
    assert counted() == one
    esc.ok("sweep", "--no-notify", "--no-report", now="2026-11-02T12:00:00+01:00")
    logged = (workspace / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
    assert "sla.first_response: breached → ok" in logged  # (its breach stays in the log)
    assert counted() == one


def test_a_breach_whose_policy_comes_back_is_counted_once(esc: Esc, workspace: Path) -> None:
    """Breached at 11:00 under `pa`; made high (`pb`, no first response) at 11:45, normal
    again (`pa`) at 12:00: the ended breach and the clock back in place are one breach."""
    import json

    rules = (workspace / "rules.yaml").read_text()
    start = rules.index("sla:")
    end = rules.index("rules:", start)
    policies = """sla:
  - name: pa
    when: {priority: normal}
    calendar: office
    targets: {first_response: 2h}
  - name: pb
    calendar: office
    targets: {resolution: 8h}
"""
    (workspace / "rules.yaml").write_text(rules[:start] + policies + rules[end:])
    assert esc("validate").code == 0, esc("validate").err
    ticket = esc.ok("create", "--title", "t", "--category", "billing",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-notify", "--no-report", now="2026-11-23T11:30:00+01:00")
    esc.ok("classify", ticket, "--priority", "high", now="2026-11-23T11:45:00+01:00")
    esc.ok("sweep", "--no-notify", "--no-report", now="2026-11-23T11:50:00+01:00")
    esc.ok("classify", ticket, "--priority", "normal", now="2026-11-23T12:00:00+01:00")
    esc.ok("sweep", "--no-notify", "--no-report", now="2026-11-23T12:05:00+01:00")
    data = json.loads(esc.ok("report", "--format", "json", now="2026-11-23T12:10:00+01:00"))
    # (one breach; the clock runs again under `pa`: not finished, so not in compliance)
    assert data["sla"]["compliance"]["by_metric"]["first_response"]["total"] == 0
    assert data["totals"]["breaches"] == 1


def test_compliance_is_met_on_time_of_the_clocks_that_finished_in_the_period(
    esc: Esc, workspace: Path
) -> None:
    """Issue 4: "compliance per metric (met on time / all that finished in the period)".
    M's first response, late, finished in the period; N's clock still runs past its
    deadline (a breach now, and a breach of the period, but not finished); no resolution
    clock finished at all."""
    m = esc.ok("create", "--title", "M", "--category", "billing", "--body", "x",
               now="2026-11-02T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("comment", m, "-m", "hi", now="2026-11-04T10:00:00+01:00")
    n = esc.ok("create", "--title", "N", "--category", "billing", "--body", "x",
               now="2026-11-03T09:00:00+01:00").strip()  # fmt: skip
    period = ["--since", "2026-11-03", "--until", "2026-11-08"]
    now = "2026-11-10T12:00:00+01:00"
    data = json.loads(esc.ok("report", *period, "--format", "json", now=now))
    compliance = data["sla"]["compliance"]
    first = compliance["by_metric"]["first_response"]
    assert (first["met"], first["breached"], first["total"]) == (0, 1, 1)
    resolution = compliance["by_metric"]["resolution"]
    assert (resolution["total"], resolution["rate"]) == (0, None)
    assert compliance["overall"]["total"] == 1
    assert n in {row["id"] for row in data["sla"]["breached_now"]}
    # N's first response and both resolutions fell due in the period: breaches all the same
    assert data["totals"]["breaches"] >= 2
    markdown = esc.ok("report", *period, now=now)
    assert "| first_response | 0 | 1 | 1 | 0% |" in markdown
    assert "| met | breached | finished | compliance |" in markdown


def test_a_request_never_answered_is_no_ola_met_when_the_ticket_is_resolved(
    esc: Esc, workspace: Path
) -> None:
    """Engineering asked at 09:10 (OLA 8h), the ticket resolved and closed at 10:00 with
    the request still open: OLA compliance said 1 met, 100%, of a team that never
    answered. A request counts once its team answers or declines (or its deadline passes
    first: breached)."""
    with_ola(workspace, "8h")
    assert esc("validate").code == 0, esc("validate").err
    ticket = esc.ok("create", "--title", "R", "--body", "b", "--category", "billing",
                    now="2026-11-02T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "?",
           now="2026-11-02T09:10:00+01:00")  # fmt: skip
    esc.ok("resolve", ticket, "--resolution", "r", now="2026-11-02T10:00:00+01:00")
    answered = esc.ok("create", "--title", "S", "--body", "b", "--category", "billing",
                      now="2026-11-02T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", answered, "--team", "engineering", "--ask", "?",
           now="2026-11-02T09:10:00+01:00")  # fmt: skip
    esc.ok("answer", answered, "--team", "engineering", "-m", "done",
           now="2026-11-02T09:40:00+01:00")  # fmt: skip
    data = json.loads(esc.ok("report", "--format", "json", now="2026-11-10T10:00:00+01:00"))
    ola = data["collaboration"]["ola"]
    assert (ola["met"], ola["breached"], ola["total"]) == (1, 0, 1)


def test_an_answer_after_the_ticket_was_resolved_is_too_late_to_count_as_met(
    esc: Esc, workspace: Path
) -> None:
    """A 2h OLA asked at 09:00, the ticket resolved at 10:00, the request answered at 15:00:
    its clock paused while the ticket was resolved, so the answer moved the deadline to
    16:00 and counted as met.  The clock stops with the ticket: such a request was never
    answered in time, and counts only if its deadline passed first (breached)."""
    with_ola(workspace, "2h")
    made = asked_then_resolved(esc, "2026-12-16", {"in time": "10:00", "late": "12:00"})
    for ticket in made.values():
        esc.ok("answer", ticket, "--team", "engineering", "-m", "late", "--by", "dan",
               now="2026-12-16T15:00:00+01:00")  # fmt: skip
    now = "2026-12-16T16:30:00+01:00"
    data = json.loads(esc.ok("report", "--format", "json", now=now))
    ola = data["collaboration"]["ola"]
    assert (ola["met"], ola["breached"], ola["total"]) == (0, 1, 1)
    line = next(x for x in esc.ok("show", made["in time"], now=now).splitlines()
                if "engineering  asked" in x)  # fmt: skip
    assert line == (
        "  answered  engineering  asked 2026-12-16T09:00:00+01:00 by alice; answered"
        " 2026-12-16T15:00:00+01:00 by dan, too late: the ticket was resolved"
        " 2026-12-16T10:00:00+01:00"
    )
    late = esc.ok("show", made["late"], now=now)
    assert "OLA breached (due 2026-12-16T11:00:00+01:00" in late


def test_a_request_open_at_resolve_stops_when_the_ticket_was_resolved_not_closed(
    esc: Esc, workspace: Path
) -> None:
    """A 1h OLA asked at 09:00 (due 10:00), the ticket resolved at 09:50 and closed at
    10:30, the request answered at 15:00: its clock stopped at the close, past its
    deadline (breached), and `show` said "too late: the ticket was closed 10:30" (audit
    helper-383).  It stopped when the ticket was resolved, before its deadline: no breach."""
    with_ola(workspace, "1h")
    made = asked_then_resolved(esc, "2026-12-16", {"resolved, then closed": "09:50"})
    ticket = made["resolved, then closed"]
    esc.ok("close", ticket, now="2026-12-16T10:30:00+01:00")
    esc.ok("answer", ticket, "--team", "engineering", "-m", "late", "--by", "dan",
           now="2026-12-16T15:00:00+01:00")  # fmt: skip
    now = "2026-12-16T16:30:00+01:00"
    ola = json.loads(esc.ok("report", "--format", "json", now=now))["collaboration"]["ola"]
    assert (ola["met"], ola["breached"], ola["total"]) == (0, 0, 0)
    line = next(x for x in esc.ok("show", ticket, now=now).splitlines()
                if "engineering  asked" in x)  # fmt: skip
    assert line.endswith(", too late: the ticket was resolved 2026-12-16T09:50:00+01:00")


def test_report_takes_a_team_in_any_case_as_list_does(demo: Path) -> None:
    esc = Esc(demo, now="2026-11-27T12:00:00+01:00")
    shouted = json.loads(esc.ok("report", "--team", "Support", "--format", "json"))
    assert shouted == json.loads(esc.ok("report", "--team", "support", "--format", "json"))
    assert shouted["period"]["team"] == "support"
    assert esc("report", "--team", "nobody").code == 2


def test_each_feedback_goes_with_the_score_given_with_it(esc: Esc, workspace: Path) -> None:
    """Closed with 2 and "first text", then a second survey of 5 and "second text": both
    feedback rows said 5/5. Each row has the score given with its text, read from the
    files (a cold run) and from the cache alike."""
    ticket = esc.ok("create", "--title", "fb", "--category", "billing", "--body", "x",
                    now="2026-11-05T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("close", ticket, "--resolution", "ok", "--csat", "2", "--feedback", "first text",
           now="2026-11-05T10:10:00+01:00")  # fmt: skip
    esc.ok("close", ticket, "--csat", "5", "--feedback", "second text",
           now="2026-11-06T10:10:00+01:00")  # fmt: skip
    now = "2026-11-20T00:00:00+01:00"
    for _ in ("cold", "warm"):
        data = json.loads(esc.ok("report", "--since", "2026-11-05", "--format", "json", now=now))
        rows = [(f["csat"], f["text"]) for f in data["satisfaction"]["feedback"]]
        assert rows == [(2, "first text"), (5, "second text")]
        assert data["satisfaction"]["distribution"]["5"] == 1  # (the ticket's score now)
        text = esc.ok("report", "--since", "2026-11-05", now=now)
        assert "(2/5): first text" in text and "(5/5): second text" in text
    # one feedback, then a later survey's score alone: the feedback still goes with 2, from
    # the files and from the cache alike (the cache kept no score lines for it)
    other = esc.ok("create", "--title", "fb2", "--category", "billing", "--body", "x",
                   now="2026-11-07T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("close", other, "--resolution", "ok", "--csat", "2", "--feedback", "meh",
           now="2026-11-07T10:10:00+01:00")  # fmt: skip
    esc.ok("close", other, "--csat", "4", now="2026-11-09T10:10:00+01:00")
    said = []
    for cold in (True, False, False):
        if cold:
            shutil.rmtree(workspace / ".esc-cache", ignore_errors=True)
        said.append(esc.ok("report", "--since", "2026-11-05", now=now))
    assert all("(2/5): meh" in text for text in said), said[-1]


def test_a_format_is_taken_in_any_case(esc: Esc) -> None:
    """`--format HTML` was a usage error where `--out A.HTML` gave HTML."""
    assert esc.ok("report", "--format", "HTML").startswith("<!doctype html>")
    assert json.loads(esc.ok("report", "--format", "Json"))["period"]
    checked = esc("check", "--format", "JSON", "--fail-on", "Warning")
    assert json.loads(checked.out)["fail_on"] == "warning"


def test_the_html_title_names_the_last_day_of_the_period_not_the_day_after(esc: Esc) -> None:
    """`--until 2026-11-09` (the end of the 9th) was titled "… to 2026-11-10"."""
    page = esc.ok("report", "--since", "2026-11-01", "--until", "2026-11-09", "--format", "html")
    assert "<title>Helpdesk report, 2026-11-01 to 2026-11-09</title>" in page
    page = esc.ok("report", "--since", "2026-11-01", "--format", "html")  # (to --now)
    assert "<title>Helpdesk report, 2026-11-01 to 2026-11-20</title>" in page


def test_reasons_beyond_the_ten_most_frequent_are_counted_not_dropped(esc: Esc) -> None:
    """Twelve escalations, each with its own reason: the ten listed (most frequent, then
    alphabetical), and a row that says two other reasons gave two escalations."""
    at = "2026-11-02T{}:00+00:00".format
    for n in range(12):
        ticket = esc.ok("create", "--title", f"t{n}", "--body", "x", "--category", "billing",
                        now=at("09:00")).strip()  # fmt: skip
        esc.ok("escalate", ticket, "--up", "--reason", f"reason {n:02}", now=at("09:30"))
    report = json.loads(esc.ok("report", "--format", "json", now=at("10:00")))
    escalations = report["escalations"]
    assert [r["reason"] for r in escalations["reasons"]] == [f"reason {n:02}" for n in range(10)]
    assert escalations["other_reasons"] == {"reasons": 2, "count": 2}
    assert "| 2 other reasons | 2 |" in esc.ok("report", now=at("10:00"))
    html = esc.ok("report", "--format", "html", now=at("10:00"))
    assert 'data-format="count">2</span> other reasons</td>' in html
    assert '<td class="num" data-key="escalations.other_reasons.count"' in html
    csv = esc.ok("report", "--format", "csv", now=at("10:00"))
    assert "escalations.other_reasons.reasons,2" in csv


def test_a_ticket_naming_an_article_whose_file_is_broken_is_said_as_validate_says_it(
    demo: Path,
) -> None:
    """kb/KB-0001.md there but without `updated:`: validate says the article cannot be
    used, and why; the report and the sweep's reports called it an unknown article, did
    you mean another (audit helper-477)."""
    article = demo / "kb" / "KB-0001.md"
    article.write_text(re.sub(r"(?m)^updated:.*\n", "", article.read_text()))
    desk = Esc(demo, now="2026-12-01T10:00:00+01:00")
    said = [line for line in desk("validate").err.splitlines() if ": kb: article" in line]
    assert said and all("KB-0001 cannot be used: kb/KB-0001.md:" in line for line in said)
    report = desk("report", "--format", "json")
    broken = [f"{b['file']}:{b['line']}: {b['message']}" for b in json.loads(report.out)["broken"]]
    assert [b for b in broken if ": kb: " in b] == said
    desk("sweep", "--no-notify", now="2026-12-01T10:05:00+01:00")
    swept = json.loads((demo / "reports" / "report.json").read_text())["broken"]
    assert [f"{b['file']}:{b['line']}: {b['message']}" for b in swept
            if ": kb: " in b["message"] or "kb: " in b["message"]] == said  # fmt: skip


def test_a_ticket_naming_an_article_kb_lacks_is_said_by_report_and_export(
    demo: Path, tmp_path: Path
) -> None:
    """kb/KB-0007.md removed: validate named the ticket whose `kb:` names it, while the
    report (showing "KB-0007 (not in kb/)") exited 0 with `broken: []`, and export said
    nothing. Both now say it as validate does, exit 1, and still report and export."""
    (tmp_path / "kept").write_text((demo / "kb" / "KB-0007.md").read_text())
    (demo / "kb" / "KB-0007.md").unlink()
    desk = Esc(demo, now="2026-12-08T16:00:00+01:00")
    [said] = desk("validate").err.splitlines()[:1]
    assert said.endswith("kb: unknown article 'KB-0007' (did you mean 'KB-0010'?); "
                         "`esc kb list` lists them")  # fmt: skip
    report = desk("report", "--format", "json")
    assert report.code == 1 and report.err == said + "\n"
    [broken] = json.loads(report.out)["broken"]
    assert f"{broken['file']}:{broken['line']}: {broken['message']}" == said
    exported = desk("export", "--csv", str(tmp_path / "csv"))
    assert exported.code == 1 and exported.err == said + "\n"
    assert (tmp_path / "csv" / "tickets.csv").is_file()
    # the sweep's reports too: report.json and summary.md are the report's (they said
    # nothing of it: audit helper-472), with the cache and without it
    for cache in ("warm", "cold"):
        if cache == "cold":
            shutil.rmtree(demo / ".esc-cache")
        desk("sweep", "--no-notify", now="2026-12-08T16:05:00+01:00")
        swept = json.loads((demo / "reports" / "report.json").read_text())
        assert [f"{b['file']}:{b['line']}: {b['message']}" for b in swept["broken"]] == [said]
        summary = (demo / "reports" / "summary.md").read_text()
        assert "kb: unknown article 'KB-0007' \\(did you mean 'KB-0010'?\\)" in summary
    # a ticket resolved before the period (KB-0004's, 20 October) is validate's to say, not
    # the report's, with the cache or without it (one settled before it is never read)
    (demo / "kb" / "KB-0007.md").write_text((tmp_path / "kept").read_text())
    (demo / "kb" / "KB-0004.md").unlink()
    for cold in (True, False):
        if cold:
            shutil.rmtree(demo / ".esc-cache", ignore_errors=True)
        again = desk("report", "--format", "json", "--since", "2026-11-01")
        assert (again.code, json.loads(again.out)["broken"]) == (0, []), (cold, again.err)


def test_open_requests_to_a_team_teams_yaml_lacks_are_counted_under_unknown_team(
    esc: Esc, workspace: Path
) -> None:
    """A request's team edited by hand to one teams.yaml lacks: `open_requests` counted it
    and no row of `open_by_team` did, so the rows did not add up."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing", "--body", "x",
                    now="2026-11-20T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "?",
           now="2026-11-20T10:05:00+01:00")  # fmt: skip
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("team: engineering,", "team: legal,"))
    result = esc("report", "--format", "json", now="2026-11-20T12:00:00+01:00")
    collaboration = json.loads(result.out)["collaboration"]
    rows = collaboration["open_by_team"]
    assert rows["(unknown team)"]["open"] == 1
    assert sum(r["open"] for r in rows.values()) == collaboration["open_requests"] == 1


def _cold_and_warm(desk: Esc, root: Path, *args: str) -> tuple[str, str]:
    """``esc report ARGS`` with no cache, then again with the cache the first one made."""
    shutil.rmtree(root / ".esc-cache", ignore_errors=True)
    return desk.ok("report", *args), desk.ok("report", *args)


def test_a_ticket_worked_by_several_teams_counts_the_same_from_the_cache(
    esc: Esc, workspace: Path
) -> None:
    """The cache's summary of a ticket that moved between teams keeps its status changes:
    "worked by several teams" asks whether it was active in the period (one created before
    it and settled before it was counted from the cache, one reopened since too)."""
    def moved_and_resolved(title: str, day: str, resolved: str) -> str:
        ticket = esc.ok("create", "--title", title, "--category", "billing",
                        now=f"{day}T10:00:00+02:00").strip()  # fmt: skip
        esc.ok("escalate", ticket, "--to", "engineering", "--reason", "bug",
               now=f"{day}T11:00:00+02:00")  # fmt: skip
        esc.ok("resolve", ticket, "--resolution", "fixed", now=resolved)
        return ticket

    moved = moved_and_resolved("Export broken", "2026-10-01", "2026-10-20T10:00:00+02:00")
    esc.ok("close", moved, "--csat", "5", now="2026-10-25T10:00:00+02:00")
    old = moved_and_resolved("Old", "2026-09-01", "2026-09-05T10:00:00+02:00")
    esc.ok("reopen", old, "--reason", "back", now="2026-11-20T10:00:00+01:00")
    for now, extra in (("2026-11-10T10:00:00+01:00", ()),
                       ("2026-11-25T10:00:00+01:00", ("--until", "2026-10-31"))):  # fmt: skip
        desk = Esc(workspace, now=now)
        for fmt in ("markdown", "json"):
            cold, warm = _cold_and_warm(desk, workspace, "--format", fmt, *extra)
            assert warm == cold, (now, fmt)
        several = json.loads(cold)["collaboration"]["several_teams"]
        assert several == 1, (now, several)  # (the first; the old one was settled then)


def test_team_moves_in_one_second_count_the_same_from_the_cache(
    esc: Esc, workspace: Path
) -> None:
    """Re-routed and escalated twice in one second: which team held the ticket after it is
    told by the order of its `team:` lines, which the cache's summary keeps (the report
    counted its first response for engineering from the cache, for support without)."""
    ticket = esc.ok("create", "--title", "Duplicates", "--body", "x",
                    now="2026-11-27T04:19:00+01:00").strip()  # fmt: skip
    at = "2026-11-27T08:55:00+01:00"
    esc.ok("classify", ticket, "--category", "data", now=at)
    esc.ok("escalate", ticket, "--to", "support", "--reason", "how-to", now=at)
    esc.ok("escalate", ticket, "--up", "--reason", "key account", now=at)
    esc.ok("comment", ticket, "-m", "hi", now=at)
    desk = Esc(workspace, now="2026-11-27T09:00:00+01:00")
    for fmt in ("markdown", "json", "csv"):
        cold, warm = _cold_and_warm(desk, workspace, "--format", fmt)
        assert warm == cold, fmt


def test_markdown_links_to_a_workspace_whose_path_has_a_space_stay_links(
    workspace: Path, tmp_path: Path
) -> None:
    """`[T-…](help desk/tickets/T-….md)`: a space (or a parenthesis) in the link's target
    ends the link, and GitHub showed the text alone (audit helper-392).  The target is
    percent-encoded; a team or priority in summary.md's tables is escaped as in the report."""
    from esc.report.render import link_target

    assert link_target("help desk/tickets/T-1.md") == "help%20desk/tickets/T-1.md"
    assert link_target("../a (b)/kb/KB-0001.md") == "../a%20%28b%29/kb/KB-0001.md"
    assert link_target("tickets/T-4k8q2m7x.md") == "tickets/T-4k8q2m7x.md"
    root = workspace.rename(tmp_path / "help desk")
    esc = Esc(root)
    out = tmp_path / "out" / "report.md"
    out.parent.mkdir()
    ticket = esc.ok("create", "--title", "x", "--body", "b", "--category", "billing",
                    now="2026-11-26T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("report", "--out", str(out), now="2026-11-27T09:00:00+01:00")
    assert f"[{ticket}](../help%20desk/tickets/{ticket}.md)" in out.read_text()
    path = root / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("\nteam: support\n", "\nteam: a|b\n"))
    esc("sweep", now="2026-11-27T09:00:00+01:00")
    summary = (root / "reports" / "summary.md").read_text()
    assert f"| [{ticket}](../tickets/{ticket}.md) | x | a\\|b | normal |" in summary
