"""Numbers that agree (issue 14): the same quantity is the same number in every output.

A copy of the demo is swept at a given --now (on the hour, and off it: the sweep's
reports are as of the sweep's --now, whatever deadlines passed since the hour began), then
each quantity is read from everything that shows it: the sweep's output (text and JSON),
reports/summary.md, reports/index.html, reports/report.json, `esc report`,
`esc check` (text and JSON) and `esc list`.  The moments are chosen so that the counts of
tickets and of clocks differ (a ticket with two clocks past due; an overdue ticket with
another clock in warning), which is what the reports used to mix up.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Esc

MOMENTS = {
    # Friday noon: many tickets in warning, a few overdue
    "friday": "2026-11-27T12:00:00+01:00",
    # the next Wednesday: tickets with two clocks past due, overdue ones with one in warning
    "wednesday": "2026-12-02T15:00:00+01:00",
    # off the hour: deadlines passed since the hour began
    "friday, 12:47": "2026-11-27T12:47:00+01:00",
    "wednesday, 15:52": "2026-12-02T15:52:00+01:00",
}


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{pattern!r} not in:\n{text}"
    return int(found[1])


def section(markdown: str, heading: str) -> str:
    """The text under ``heading``, up to the next heading of its level."""
    return markdown.split(heading + "\n", 1)[1].split("\n## ", 1)[0]


def team_total(summary: str) -> dict[str, int]:
    """The **all** row of summary.md's table of active tickets by team, by column."""
    lines = summary.splitlines()
    head = next(line for line in lines if line.startswith("| team | level |"))
    total = next(line for line in lines if line.startswith("| **all** |"))
    names = [cell.strip() for cell in head.strip("|").split("|")]
    cells = [cell.strip() for cell in total.strip("|").split("|")]
    return {name: int(cell) for name, cell in zip(names, cells, strict=True) if cell.isdigit()}


def html_values(html: str) -> dict[str, set[str]]:
    """Every data-key of the dashboard with the values it shows (one per key expected)."""
    values: dict[str, set[str]] = {}
    for key, value in re.findall(r'data-key="([^"]+)" data-value=\'([^\']*)\'', html):
        values.setdefault(key, set()).add(value)
    return values


@pytest.fixture(params=list(MOMENTS), ids=list(MOMENTS))
def swept(request: pytest.FixtureRequest, demo: Path) -> tuple[Esc, dict[str, Any], str]:
    desk = Esc(demo, now=MOMENTS[request.param])
    text = desk.ok("sweep")
    return desk, json.loads(desk.ok("sweep", "--json")), text


def test_the_same_quantity_is_the_same_number_everywhere(
    swept: tuple[Esc, dict[str, Any], str], demo: Path
) -> None:
    desk, sweep, sweep_text = swept
    report = json.loads((demo / "reports" / "report.json").read_text(encoding="utf-8"))
    assert report == json.loads(desk.ok("report", "--format", "json"))  # as of the same now
    summary = (demo / "reports" / "summary.md").read_text(encoding="utf-8")
    html = html_values((demo / "reports" / "index.html").read_text(encoding="utf-8"))
    markdown = desk.ok("report")
    check_text = desk("check").out
    check = json.loads(desk("check", "--format", "json").out)
    check_warning = json.loads(desk("check", "--format", "json", "--fail-on", "warning").out)
    listed = json.loads(desk.ok("list", "--json"))
    listed_overdue = json.loads(desk.ok("list", "--overdue", "--json"))
    sla = report["sla"]

    # the counts of tickets and of clocks differ here, so mixing them up would show
    assert sla["breached_clocks"] > sla["overdue_tickets"] or sla["warning_tickets"] > 0
    assert sla["warning_clocks"] >= sla["warning_tickets"]

    active = {
        "sweep text": number(r"; (\d+) active tickets:", sweep_text),
        "sweep json": sweep["active_tickets"],
        "summary": number(r"^- \*\*(\d+) active tickets\*\*", summary),
        "summary table": team_total(summary)["active"],
        "report.json": report["backlog"]["active"],
        "html": int(*html["backlog.active"]),
        "markdown": number(r"^(\d+) active tickets \(status new, open or pending\)", markdown),
        "check text": number(r"of (\d+) active tickets overdue$", check_text),
        "check json": check["active_tickets"],
        "list": len(listed),
    }
    assert len(set(active.values())) == 1, active
    assert report["backlog"]["by_status"]["open"] < report["backlog"]["active"]  # not the same

    overdue = {
        "sweep text": number(r"active tickets: (\d+) overdue", sweep_text),
        "sweep json": len(sweep["overdue"]),
        "summary": number(r"^- \*\*(\d+) overdue tickets\*\*", summary),
        "summary table": team_total(summary)["overdue"],
        "report.json": sla["overdue_tickets"],
        "html": int(*html["sla.overdue_tickets"]),
        "markdown": number(r"^\d+ active tickets .*: (\d+) overdue", markdown),
        "check text": number(r"^(\d+) of \d+ active tickets overdue$", check_text),
        "check json": check["overdue_tickets"],
        "list --overdue": len(listed_overdue),
    }
    assert len(set(overdue.values())) == 1, overdue
    ids = {
        "sweep json": set(sweep["overdue"]),
        "report.json": {row["id"] for row in sla["breached_now"]},
        "check json": {t["id"] for t in check["tickets"]},
        "list --overdue": {t["id"] for t in listed_overdue},
        "list": {t["id"] for t in listed if t["next_sla"] and t["next_sla"]["state"] == "breached"},
    }
    assert len({frozenset(v) for v in ids.values()}) == 1, ids

    in_warning = {
        "sweep text": number(r"overdue, (\d+) in warning$", sweep_text),
        "sweep json": len(sweep["in_warning"]),
        "summary": number(r"^- \*\*(\d+) tickets in warning\*\*", summary),
        "summary table": team_total(summary)["in warning"],
        "report.json": sla["warning_tickets"],
        "html": int(*html["sla.warning_tickets"]),
        "markdown": number(r"^\d+ active tickets .*, (\d+) in warning", markdown),
        "check json": check_warning["warning_tickets"],
    }
    assert len(set(in_warning.values())) == 1, in_warning

    breached_clocks = {
        "summary": number(r"\((\d+) breached clocks\)", summary),
        "summary rows": section(summary, "## Breached clocks").count("\n| [T-"),
        "report.json": sla["breached_clocks"],
        "report.json rows": len(sla["breached_now"]),
        "html": int(*html["sla.breached_clocks"]),
        "markdown": number(r"^(\d+) breached clocks \(running past their deadline\)", markdown),
    }
    assert len(set(breached_clocks.values())) == 1, breached_clocks

    warning_clocks = {
        "summary": number(r"\((\d+) clocks in warning", summary),
        "summary rows": section(summary, "## Clocks in warning").count("\n| [T-"),
        "report.json": sla["warning_clocks"],
        "report.json rows": len(sla["warning_now"]),
        "html": int(*html["sla.warning_clocks"]),
        "markdown": number(r"^(\d+) clocks in warning on active tickets", markdown),
    }
    assert len(set(warning_clocks.values())) == 1, warning_clocks

    compliance = sla["compliance"]["overall"]
    breaches = {
        "report.json totals": report["totals"]["breaches"],
        "html totals": int(*html["totals.breaches"]),
    }
    assert len(set(breaches.values())) == 1, breaches
    finished_late = {  # (compliance counts the clocks finished in the period)
        "report.json compliance": compliance["breached"],
        "html compliance": int(*html["sla.compliance.overall.breached"]),
        "markdown": number(r"^\| all \| \d+ \| (\d+) \| \d+ \| \d+% \|$", markdown),
    }
    assert len(set(finished_late.values())) == 1, finished_late
    assert compliance["met"] + compliance["breached"] == compliance["total"] > 0
    assert html["sla.compliance.overall.rate"] == {json.dumps(compliance["rate"])}
    assert f"| {compliance['met']} | {compliance['breached']} | {compliance['total']} |" in markdown


def test_a_ticket_of_an_unknown_team_is_counted_alike_and_a_finding_everywhere(
    esc: Esc, workspace: Path
) -> None:
    """A ticket whose team teams.yaml does not have (renamed, misspelt) is one of the active
    and overdue tickets in every output, in a row of its own where tickets are counted by
    team or level (the rows add up), and a finding at its line (issue 14's audit: the
    sweep, check and the reports counted it each their own way)."""
    odd = esc.ok("create", "--title", "A", "--body", "x", "--category", "billing",
                 now="2026-03-02T09:00:00Z").strip()
    esc.ok("create", "--title", "B", "--body", "y", "--category", "bug",
           now="2026-03-02T09:10:00Z")
    path = workspace / "tickets" / f"{odd}.md"
    path.write_text(path.read_text().replace("team: support", "team: suport"))
    (workspace / "tickets" / "T-zzzzzzzz.md").write_text("---\nid: [x\n---\n")  # (no ticket)
    now = "2026-03-02T15:00:00Z"
    finding = (
        f"tickets/{odd}.md:7: unknown team 'suport' (did you mean 'support'?)"
        "; one of support, engineering, management"
    )
    unread = "tickets/T-zzzzzzzz.md:2: front-matter does not parse"
    swept = esc("sweep", now=now)
    assert swept.code == 1 and finding in swept.err.splitlines() and unread in swept.err
    sweep = json.loads(esc("sweep", "--json", now=now).out)
    assert finding in sweep["broken"]
    report = json.loads((workspace / "reports" / "report.json").read_text(encoding="utf-8"))
    reported = esc("report", "--format", "json", now=now)
    assert reported.code == 1 and finding in reported.err.splitlines()
    assert json.loads(reported.out) == report
    # each a finding in every format of the report (the sweep's and `esc report`)
    broken = [(b["file"], b["line"], b["message"][:30]) for b in report["broken"]]
    assert broken == [
        (f"tickets/{odd}.md", 7, "unknown team 'suport' (did you"),
        ("tickets/T-zzzzzzzz.md", 2, "front-matter does not parse: a"),
    ]
    page = (workspace / "reports" / "index.html").read_text(encoding="utf-8")
    assert f"<code>tickets/{odd}.md:7</code></a>: unknown team &#39;suport&#39; (did" in page
    assert "<code>tickets/T-zzzzzzzz.md:2</code>" in page
    for text in (esc("report", now=now).out, (workspace / "reports" / "summary.md").read_text()):
        assert f"- [tickets/{odd}.md:7](" in text and "- [tickets/T-zzzzzzzz.md:2](" in text
    csv = esc("report", "--format", "csv", now=now).out
    assert f"broken[0].file,tickets/{odd}.md\nbroken[0].line,7\n" in csv
    summary = (workspace / "reports" / "summary.md").read_text(encoding="utf-8")
    html = html_values((workspace / "reports" / "index.html").read_text(encoding="utf-8"))
    check_text = esc("check", now=now)
    check = json.loads(esc("check", "--format", "json", now=now).out)
    assert check_text.code == 1 and finding in check_text.out.splitlines()
    assert finding in [f"{b['file']}:{b['line']}: {b['message']}" for b in check["broken"]]
    listed = json.loads(esc("list", "--json", now=now).out)  # (exit 1: the file unread)
    overdue_listed = json.loads(esc("list", "--overdue", "--json", now=now).out)

    active = {
        "sweep text": number(r"; (\d+) active tickets:", swept.out),
        "sweep json": sweep["active_tickets"],
        "summary": number(r"^- \*\*(\d+) active tickets\*\*", summary),
        "summary table": team_total(summary)["active"],
        "report.json": report["backlog"]["active"],
        "report.json by team": sum(report["backlog"]["by_team"].values()),
        "report.json by level": sum(report["backlog"]["by_level"].values()),
        "html": int(*html["backlog.active"]),
        "check text": number(r"of (\d+) active tickets overdue", check_text.out),
        "check json": check["active_tickets"],
        "list": len(listed),
    }
    assert set(active.values()) == {2}, active
    overdue = {
        "sweep text": number(r"active tickets: (\d+) overdue", swept.out),
        "sweep json": len(sweep["overdue"]),
        "summary": number(r"^- \*\*(\d+) overdue tickets\*\*", summary),
        "summary table": team_total(summary)["overdue"],
        "report.json": report["sla"]["overdue_tickets"],
        "html": int(*html["sla.overdue_tickets"]),
        "check text": number(r"^(\d+) of \d+ active tickets overdue", check_text.out),
        "check json": check["overdue_tickets"],
        "list --overdue": len(overdue_listed),
    }
    assert set(overdue.values()) == {2}, overdue
    assert report["backlog"]["by_team"]["(unknown team)"] == 1
    assert report["backlog"]["by_level"]["?"] == 1
    assert int(*html["backlog.by_team.(unknown team)"]) == 1
    assert "| \\(unknown team\\) | 1 |" in esc("report", now=now).out


def test_speed_rows_add_up_with_a_team_or_priority_the_configuration_lacks(
    esc: Esc, workspace: Path
) -> None:
    """Response and resolution times by level and by priority left out a ticket of a team
    or priority rules.yaml and teams.yaml do not have (renamed, misspelt), so their rows
    did not add up to the overall count, where the backlog and compliance give such
    tickets a row of their own (issue 4's audit)."""
    tickets = []
    for title in ("A", "B", "C"):
        ticket = esc.ok("create", "--title", title, "--category", "billing",
                        now="2026-03-02T09:00:00Z").strip()  # fmt: skip
        esc.ok("comment", ticket, "-m", "On it", now="2026-03-02T10:00:00Z")
        esc.ok("resolve", ticket, "--resolution", "Done", now="2026-03-02T11:00:00Z")
        tickets.append(workspace / "tickets" / f"{ticket}.md")
    tickets[0].write_text(tickets[0].read_text().replace("team: support", "team: legacy"))
    tickets[1].write_text(tickets[1].read_text().replace("priority: normal", "priority: p0"))
    now = "2026-03-03T09:00:00Z"
    report = json.loads(esc("report", "--format", "json", now=now).out)
    for metric in ("first_response", "resolution"):
        speed = report["speed"][metric]
        assert speed["overall"]["wall"]["count"] == 3
        for by, unknown in (("by_level", "?"), ("by_priority", "(unknown priority)")):
            rows = speed[by]
            assert sum(row["wall"]["count"] for row in rows.values()) == 3, (metric, by)
            assert rows[unknown]["wall"]["count"] == 1, (metric, by)
    markdown = esc("report", now=now).out
    assert "| level ? |" in markdown and "| \\(unknown priority\\) |" in markdown
