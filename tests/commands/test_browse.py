"""`esc list` served from the cache prints exactly what a cold run prints (issue 19).

Without filters or ``--sort``, a warm `esc list` builds no ticket: its rows come from the
cache's columns (what a row shows, the numbers of the SLA cell) and `--json` from each
ticket's fixed JSON text, kept in the cache, with its SLA spliced in.  A cold run (no
``.esc-cache``) parses every file and computes every SLA: these tests hold the two
against each other on generated workspaces, at moments before, at and after the SLAs
were kept, with and without filters and sorts.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from esc.commands.browse import list_tickets
from esc.commands.session import Session
from esc.report.views import LIST_COLUMNS
from esc.store import cache_codec
from tests.conftest import REPO, Esc, asked_then_resolved, with_ola

NOW = "2026-11-27T09:00:00+01:00"  # the generated workspaces' own time
DEMO_NOW = "2026-11-27T11:30:00+01:00"
MOMENTS = [
    "2026-11-27T08:30:00+01:00",  # before the SLAs were kept: computed afresh
    NOW,
    "2026-11-27T18:30:00+01:00",  # warnings and deadlines crossed since
    "2027-01-01T12:00:00+01:00",  # every clock long past its deadline
]
COMMANDS = [
    ("list",),
    ("list", "--all"),
    ("list", "--json"),
    ("list", "--all", "--json"),
    ("list", "--status", "pending"),
    ("list", "--status", "resolved", "--status", "closed", "--json"),
    ("list", "--all", "--sort", "title", "--json"),
    ("list", "--team", "support", "--json"),
    ("list", "--overdue"),
    ("list", "--overdue", "--json"),
]


def _generated(factory: pytest.TempPathFactory, n: int, shape: str) -> Path:
    root = factory.mktemp(shape) / "ws"
    generate = [sys.executable, str(REPO / "bench" / "generate.py"), str(n), str(root)]
    subprocess.run(
        [*generate, "--jobs", "1", "--shape", shape],
        check=True,
        capture_output=True,
        timeout=300,
    )
    Esc(root, now=NOW).ok("sweep", "--no-report", "--no-notify")
    return root


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two years of tickets, most closed, some pending (paused clocks), swept at NOW."""
    return _generated(tmp_path_factory, 60, "realistic")


@pytest.fixture(scope="module")
def all_open(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every ticket open, created today, swept at NOW."""
    return _generated(tmp_path_factory, 40, "open")


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"))
    return target


@pytest.mark.parametrize("shape", ["realistic", "all_open"])
def test_list_from_the_cache_prints_what_a_cold_run_prints(
    shape: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source: Path = request.getfixturevalue(shape)
    warm_root = _copy(source, tmp_path / "warm")
    cold_root = _copy(source, tmp_path / "cold")
    warm, cold = Esc(warm_root), Esc(cold_root)
    for moment in MOMENTS:
        for command in COMMANDS:
            shutil.rmtree(cold_root / ".esc-cache", ignore_errors=True)
            expected = cold(*command, now=moment)
            assert expected.code == 0, expected.err
            # (--json: its texts are made on the first run, then read back on the second)
            attempts = ("first", "again") if "--json" in command else ("first",)
            for attempt in attempts:
                got = warm(*command, now=moment)
                assert (got.code, got.out, got.err) == (
                    expected.code,
                    expected.out,
                    expected.err,
                ), (moment, command, attempt)
    with sqlite3.connect(warm_root / ".esc-cache" / "tickets.sqlite") as db:
        texts = db.execute("SELECT count(*) FROM texts").fetchone()[0]
    assert texts == len(list((warm_root / "tickets").glob("*.md")))  # every --json text kept


def test_a_warm_list_builds_no_ticket(all_open: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is the one taken (else the comparison above proves little)."""
    esc = Esc(all_open)
    esc.ok("list", "--json", now=NOW)  # (the JSON texts kept)
    built = []
    original = cache_codec.ticket_from_summary

    def counted(data: object) -> object:
        built.append(data)
        return original(data)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_codec, "ticket_from_summary", counted)
    table = esc.ok("list", now=NOW)
    assert len(table.splitlines()) == 41  # a header and every ticket
    assert esc.ok("list", "--json", now=NOW).count('"id": "T-') == 40
    assert built == []
    esc.ok("list", "--team", "support", now=NOW)  # a filter needs the tickets
    assert built


def test_a_coloured_table_from_the_cache_is_the_cold_one(all_open: Path, tmp_path: Path) -> None:
    warm_root = _copy(all_open, tmp_path / "warm")
    cold_root = _copy(all_open, tmp_path / "cold")
    for moment in MOMENTS[1:3]:
        shutil.rmtree(cold_root / ".esc-cache", ignore_errors=True)
        outputs = []
        for root in (cold_root, warm_root):
            session = Session(root_option=str(root), now_option=moment, colour=True)
            output = list_tickets(session, (), False, {}, False, None, False)
            outputs.append(output.text)
        assert outputs[0] == outputs[1]
        assert outputs[0] is not None and "\x00" in outputs[0]  # (esc's colour markers)


@pytest.mark.parametrize("columns", [200, 100, 80, 72, 60])
def test_the_table_fits_the_terminal(demo: Path, columns: int) -> None:
    """Every line fits COLUMNS: the title takes what is left; a terminal too narrow for
    every column at its widest loses the level first, then cuts team and assignee, drops
    the age, a space between columns, cuts the SLA... (ID, priority, status and title
    stay)."""
    out = Esc(demo).ok("list", env={"COLUMNS": str(columns)}, now=DEMO_NOW)
    lines = out.splitlines()
    assert len(lines) == 21 and max(map(len, lines)) <= columns
    header = lines[0].split()
    assert header[:3] == ["ID", "PRI", "STATUS"] and header[-1] == "TITLE"
    ids = [line.split()[0] for line in lines[1:]]
    assert ids == [t["id"] for t in json.loads(Esc(demo).ok("list", "--json", now=DEMO_NOW))]
    if columns >= 100:  # (wide enough for every column, as they are)
        assert header == list(LIST_COLUMNS) and "  " in lines[0]
        assert "…" not in "".join(line[: line.rindex("  ")] for line in lines[1:])
    if columns == 80:  # (the level dropped, the team cut, the age dropped, one space)
        assert header == ["ID", "PRI", "STATUS", "TEAM", "ASSIGNEE", "SLA", "TITLE"]
        assert any(" managem… " in line for line in lines)
        assert any(" breached 1d8h ago " in line for line in lines)  # (the SLA whole)
    if columns == 60:  # (and the SLA cut, the assignee dropped)
        assert header == ["ID", "PRI", "STATUS", "TEAM", "SLA", "TITLE"]
        assert any(" breached 1d8h… " in line for line in lines)


@pytest.mark.parametrize(
    "option", ["--team", "--priority", "--category", "--assignee", "--tag", "--involving"]
)
def test_an_empty_filter_value_is_a_usage_error(esc: Esc, option: str) -> None:
    """(`list --team ''` said "no tickets match", exit 0, where an unknown team is exit 2)"""
    esc.ok("create", "--title", "t", "--body", "x")
    for value in ("", "  "):
        result = esc("list", option, value)
        assert (result.code, result.err) == (2, f"esc: {option} must not be empty\n")


def test_category_none_lists_the_uncategorised_and_age_sorts_as_the_column(esc: Esc) -> None:
    first = esc.ok("create", "--title", "a", "--body", "x", now="2026-11-20T09:00:00+01:00")
    second = esc.ok("create", "--title", "b", "--body", "x", "--category", "billing",
                    now="2026-11-20T10:00:00+01:00").strip()  # fmt: skip
    now = "2026-11-20T11:00:00+01:00"
    listed = json.loads(esc.ok("list", "--category", "none", "--json", now=now))
    assert [t["id"] for t in listed] == [first.strip()]
    # (`none` in any case, as `assign T NONE` and `classify --category None` take it: it was
    # an unknown category, exit 2, and `--assignee NONE` listed nothing, exit 0; helper-446)
    for option in ("--category", "--assignee"):
        for spelled in ("NONE", "None", " none "):
            shown = json.loads(esc.ok("list", option, spelled, "--json", now=now))
            assert first.strip() in [t["id"] for t in shown], (option, spelled)
    youngest = [t["id"] for t in json.loads(esc.ok("list", "--sort", "age", "--json", now=now))]
    assert youngest == [second, first.strip()]
    oldest = [t["id"] for t in json.loads(esc.ok("list", "--sort", "-age", "--json", now=now))]
    assert oldest == [first.strip(), second]


def test_an_open_category_and_an_assignee_nobody_names_are_matched_in_any_case(
    esc: Esc, workspace: Path
) -> None:
    """The README takes a category or an assignee in any case "as the files spell it":
    without a closed list of categories, `--category shipping` listed `shipping` alone and
    `--category SHIPPING` nothing, one queue split by how people typed it; likewise an
    assignee teams.yaml does not name."""
    rules = workspace / "rules.yaml"
    text = rules.read_text()
    start = text.index("\ncategories:")
    rules.write_text(text[:start] + text[text.index("\n", start + 1) :])
    upper = esc.ok("create", "--title", "b", "--body", "x", "--category", "Shipping").strip()
    lower = esc.ok("create", "--title", "c", "--body", "x", "--category", "shipping").strip()
    other = esc.ok("create", "--title", "d", "--body", "x", "--category", "billing").strip()
    for given in ("shipping", "Shipping", "SHIPPING"):
        listed = json.loads(esc.ok("list", "--category", given, "--json"))
        assert sorted(t["id"] for t in listed) == sorted([upper, lower]), given
    esc.ok("assign", other, "zed", "--force")
    for given in ("zed", "Zed", "ZED", "=Zed"):
        assert [t["id"] for t in json.loads(esc.ok("list", "--assignee", given, "--json"))] == [
            other
        ]


def test_a_ticket_of_a_team_teams_yaml_no_longer_has_is_listed_shown_and_a_finding(
    esc: Esc, workspace: Path
) -> None:
    """A team renamed in teams.yaml: `list` and `show` printed its tickets (level `?`) and
    exited 0 while `validate` and `report` exited 1; each lists or shows it and names the
    problem (`path:line: message`, exit 1), as every command that counts it does."""
    ticket = esc.ok("create", "--title", "x", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("\nteam: support\n", "\nteam: sales\n"))
    problem = (
        f"tickets/{ticket}.md:7: unknown team 'sales'; one of support, engineering, management"
    )
    for command in (("list",), ("list", "--json"), ("show", ticket), ("show", ticket, "--json")):
        result = esc(*command)
        assert (result.code, result.err) == (1, problem + "\n"), command
        assert ticket in result.out, command
    assert esc("validate").err.startswith(problem)


def test_a_teams_queue_shows_the_clock_that_team_answers_to(demo: Path) -> None:
    """`list --involving T` is T's queue: its SLA column is the OLA of T's request, not the
    ticket's own next deadline (the reply the owning team owes the customer)."""
    at_eleven = "2026-11-27T11:00:00+01:00"
    queue = Esc(demo).ok("list", "--involving", "management", now=at_eleven)
    [row] = [line for line in queue.splitlines() if line.startswith("T-0m6b2xb7")]
    assert " breached 18m ago " in row  # (asked 10:42 the day before, 8h of office hours)
    owned = Esc(demo).ok("list", now=at_eleven)
    [row] = [line for line in owned.splitlines() if line.startswith("T-0m6b2xb7")]
    assert " breached 45m ago " in row  # (its next response, due 10:15)
    earlier = Esc(demo).ok("list", "--involving", "Management", now=NOW)
    assert " warning, due in 1h42m " in earlier
    # --json's next_sla is the clock the column shows (README), in the queue too
    listed = json.loads(Esc(demo).ok("list", "--involving", "management", "--json",
                                     now=at_eleven))  # fmt: skip
    [ticket] = [t for t in listed if t["id"] == "T-0m6b2xb7"]
    assert ticket["next_sla"] == {"metric": "collaboration", "due": "2026-11-27T10:42:00+01:00",
                                  "state": "breached", "text": "breached 18m ago"}  # fmt: skip
    overdue = json.loads(Esc(demo).ok("list", "--involving", "management", "--overdue", "--json",
                                      now=at_eleven))  # fmt: skip
    assert [t["next_sla"] for t in overdue if t["id"] == "T-0m6b2xb7"] == [ticket["next_sla"]]


def test_a_queue_says_never_answered_of_a_request_its_ticket_was_resolved_with(
    workspace: Path,
) -> None:
    """The queue's SLA column said "met" of a request left open when its ticket was
    resolved: its clock stopped with the ticket before its deadline, never answered."""
    with_ola(workspace, "2h")
    esc = Esc(workspace)
    made = asked_then_resolved(esc, "2026-12-17", {"in time": "10:00", "late": "12:00"})
    titles = {ticket: title for title, ticket in made.items()}
    queue = esc.ok("list", "--all", "--involving", "engineering", now="2026-12-17T12:30:00+01:00")
    cells = {line.split()[0]: line for line in queue.splitlines()[1:]}
    for ticket, title in titles.items():
        said = "never answered, late" if title == "late" else "never answered "
        assert said in cells[ticket] and " met " not in cells[ticket]
    # the plain list says it too, as show does, before a sweep and from what a sweep kept
    for swept in (False, True):
        if swept:
            esc.ok("sweep", "--no-report", now="2026-12-17T12:30:00+01:00")
        listed = esc.ok("list", "--all", now="2026-12-17T12:40:00+01:00")
        cells = {line.split()[0]: line for line in listed.splitlines()[1:]}
        for ticket, title in titles.items():
            said = "met late" if title == "late" else "never answered"  # (past due: late)
            assert f" {said} " in cells[ticket] and "met  " not in cells[ticket], swept


def test_show_and_explain_never_call_met_a_request_its_ticket_was_resolved_with(
    workspace: Path,
) -> None:
    """The SLA section, the request's `ola` and `esc explain` said "collaboration met" of a
    request left open when its ticket was resolved before the OLA's deadline."""
    with_ola(workspace, "2h")
    esc = Esc(workspace)
    [ticket] = asked_then_resolved(esc, "2026-12-17", {"early": "10:00"}).values()
    before = "2026-12-17T10:30:00+01:00"
    shown = esc.ok("show", ticket, now=before)
    [line] = [x for x in shown.splitlines() if x.strip().startswith("collaboration")]
    assert line.strip() == (
        "collaboration never answered, stopped with the ticket (due 2026-12-17T11:00:00+01:00)"
    )
    [request] = json.loads(esc.ok("show", ticket, "--json", now=before))["requests"]
    assert request["ola"]["stopped_with_ticket"] is True
    explained = esc.ok("explain", ticket, now=before)
    assert "collaboration: never answered, stopped with the ticket (the request was" in explained
    assert "collaboration: met" not in explained
    esc.ok("answer", ticket, "--team", "engineering", "-m", "done", now="2026-12-17T10:45:00+01:00")
    after = esc.ok("show", ticket, now="2026-12-17T12:00:00+01:00")
    assert "collaboration answered too late, stopped with the ticket" in after
    explained = esc.ok("explain", ticket, now="2026-12-17T12:00:00+01:00")
    assert "collaboration: answered too late, stopped with the ticket (the request" in explained


def asking(esc: Esc, team: str, at: str) -> str:
    """A new ticket that asked ``team`` for help as it was created, at ``at``: its ID."""
    ticket = esc.ok("create", "--title", "t", "--body", "b", now=at).strip()
    esc.ok("involve", ticket, "--team", team, "--ask", "?", now=at)
    return ticket


def test_show_says_met_of_a_request_answered_in_time(workspace: Path) -> None:
    with_ola(workspace, "2h")
    esc = Esc(workspace)
    day = "2026-12-17T{}:00+01:00"
    ticket = asking(esc, "engineering", day.format("09:00"))
    esc.ok("answer", ticket, "--team", "engineering", "-m", "ok", now=day.format("09:30"))
    esc.ok("resolve", ticket, "--resolution", "r", now=day.format("10:00"))
    later = "2026-12-17T12:00:00+01:00"
    shown = esc.ok("show", ticket, now=later)
    assert "  collaboration met (due 2026-12-17T11:00:00+01:00)" in shown
    [request] = json.loads(esc.ok("show", ticket, "--json", now=later))["requests"]
    ola = {"due": "2026-12-17T11:00:00+01:00", "state": "met", "stopped_with_ticket": False}
    assert request["ola"] == ola


def test_a_team_s_overdue_queue_holds_the_requests_to_it_past_their_ola(workspace: Path) -> None:
    """`list --involving engineering --overdue` listed a ticket whose request to management
    was breached, engineering's own request due in 2h."""
    with_ola(workspace, "2h")
    esc = Esc(workspace)
    day = "2026-12-17T{}:00+01:00"
    ticket = asking(esc, "management", day.format("09:00"))
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "?", now=day.format("12:00"))
    later = day.format("12:30")
    assert esc("list", "--involving", "engineering", "--overdue", now=later).out == ""
    late = esc.ok("list", "--involving", "management", "--overdue", now=later)
    assert esc.ok("list", "--involving", "=Management", "--overdue", now=later) == late
    assert [line.split()[0] for line in late.splitlines()[1:]] == [ticket]
    assert " breached 1h30m ago " in late


def test_a_team_s_overdue_queue_puts_its_most_overdue_request_first(workspace: Path) -> None:
    """Sorted by the ticket's own SLA, the queue put first the ticket breached longest,
    its request to the team overdue for an hour, over one whose request was for 19 hours."""
    with_ola(workspace, "2h")
    esc = Esc(workspace)
    wed, thu = "2026-12-16T{}:00+01:00", "2026-12-17T{}:00+01:00"
    a = esc.ok("create", "--title", "a", "--body", "b", now=wed.format("09:00")).strip()
    b = esc.ok("create", "--title", "b", "--body", "b", now=wed.format("14:00")).strip()
    esc.ok("involve", b, "--team", "management", "--ask", "?", now=wed.format("15:00"))
    esc.ok("involve", a, "--team", "management", "--ask", "?", now=thu.format("09:00"))
    queue = esc.ok("list", "--involving", "management", "--overdue", now=thu.format("12:00"))
    assert [line.split()[0] for line in queue.splitlines()[1:]] == [b, a]
    own = esc.ok("list", "--overdue", now=thu.format("12:00"))  # (by their own SLAs)
    assert [line.split()[0] for line in own.splitlines()[1:]] == [a, b]


@pytest.mark.parametrize(
    "args", [(), ("--level", "1"), ("--priority", ">=high"), ("--priority", "normal")]
)
def test_a_ticket_a_filter_cannot_judge_is_a_finding_not_left_out_in_silence(
    esc: Esc, workspace: Path, args: tuple[str, ...]
) -> None:
    """A ticket whose team and priority the configuration lacks (`suport`, `hig`) is listed
    unfiltered with its findings (exit 1); a filter on its level or priority left it out
    without a word, exit 0 (audit helper-474).  Its findings are said, whatever the
    filter, and the exit is 1."""
    mine = esc.ok("create", "--title", "billing q", "--body", "x", "--category", "billing").strip()
    esc.ok("create", "--title", "bug", "--body", "x", "--category", "bug", "--priority", "high")
    path = workspace / "tickets" / f"{mine}.md"
    text = path.read_text().replace("team: support", "team: suport")
    path.write_text(text.replace("priority: normal", "priority: hig"))
    listed = esc("list", *args)
    assert listed.code == 1
    assert f"tickets/{mine}.md:5: unknown priority 'hig'" in listed.err
    assert f"tickets/{mine}.md:7: unknown team 'suport'" in listed.err
