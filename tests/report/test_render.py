"""summary.md's numbers (esc.report.render.summary_data): tickets counted as tickets,
clocks as clocks, every active ticket in the team table, clocks in time order."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config
from esc.domain.model import Ticket
from esc.domain.plan import sla_of
from esc.report.render import _environment, _joined, render, summary_data
from tests.conftest import Esc

CET = dt.timezone(dt.timedelta(hours=1))
CREATED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=CET)  # Monday 09:00
NOW = dt.datetime(2026, 11, 26, 17, 0, tzinfo=CET)  # Thursday 17:00


def config() -> Config:
    built, found = build_config(TEAMS_YAML, RULES_YAML)
    assert found == [] and built is not None
    return built


def ticket(n: int, created: dt.datetime = CREATED, **fields: str) -> Ticket:
    base = {"status": "open", "priority": "normal", "team": "support"}
    return Ticket(  # type: ignore[arg-type]
        id=f"T-aaaa000{n}", title=f"Ticket {n}", created=created, updated=created,
        **{**base, **fields},
    )  # fmt: skip


def test_the_summary_counts_tickets_and_clocks_apart() -> None:
    conf = config()
    both = ticket(1)  # first response (4h) and resolution (24h): both past due by Thursday
    urgent = ticket(2, CREATED + dt.timedelta(days=3), priority="urgent")  # UTC, 24/7 policy
    legal = ticket(3, NOW - dt.timedelta(hours=1), team="legal")  # a team teams.yaml lacks
    items = [(t, sla_of(t, conf, NOW)) for t in (both, urgent, legal)]
    data = summary_data(items, conf, NOW)
    assert [len(s.overdue_clocks) for _, s in items] == [2, 2, 0]
    assert (data["overdue_tickets"], len(data["overdue"])) == (2, 4)  # type: ignore[arg-type]
    total = data["total"]
    assert total == {"new": 0, "open": 3, "pending": 0, "active": 3, "overdue": 2, "warning": 0}
    teams = data["teams"]
    assert isinstance(teams, list)
    assert teams[-1] == {"name": "(unknown team)", "level": "?", "new": 0, "open": 1,
                         "pending": 0, "active": 1, "overdue": 0, "warning": 0}  # fmt: skip
    assert sum(row["active"] for row in teams) == total["active"]  # type: ignore[index]
    # in the order of the deadlines, shown in the zone of the summary's time (the urgent
    # policy's calendar is UTC: as text, 2026-11-26T09:30:00+00:00 sorted first)
    dues = [row["due"] for row in data["overdue"]]  # type: ignore[attr-defined]
    assert dues == [
        "2026-11-23T13:00:00+01:00",
        "2026-11-25T17:00:00+01:00",
        "2026-11-26T09:30:00+01:00",
        "2026-11-26T13:00:00+01:00",
    ]
    text = render("summary.md.j2", data)
    assert "- **2 overdue tickets**: active tickets with an SLA clock running past its " \
        "deadline (4 breached clocks).\n" in text  # fmt: skip
    assert "| **all** | | 0 | 3 | 0 | 3 | 2 | 0 |\n" in text


def test_the_rows_of_clocks_and_requests_are_what_the_macros_write(demo: Path) -> None:
    """The dashboard writes a row per breached clock, clock in warning and open request
    with when() and num() written out (a report may have 10,000 such rows): each row's
    time and number cells are byte for byte what those macros write."""
    desk = Esc(demo, now="2026-11-27T09:00:00+01:00")
    report = json.loads(desk.ok("report", "--format", "json"))
    html = desk.ok("report", "--format", "html")
    template = _environment(None).get_template("report.html.j2")
    macros = template.make_module({"r": report, "links": ""})
    lists = [
        ("sla.breached_now", "due", "over_seconds"),
        ("sla.warning_now", "due", "left_seconds"),
        ("collaboration.open_now", "asked", "age_seconds"),
    ]
    for name, moment, number in lists:
        section, key = name.split(".")
        rows = report[section][key]
        assert rows, f"the demo has no {name} to check"
        for n, row in enumerate(rows):
            when = macros.when(row[moment])
            cell = macros.num(f"{name}[{n}].{number}", row[number], "duration")
            assert f'<a href="{row["file"]}">{row["id"]}</a>' in html
            assert f"<td>{when}</td>{cell}</tr>\n" in html
        assert html.count(f'data-key="{name}[') == len(rows)


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_a_report_joined_a_few_pieces_at_a_time_is_the_one_jinja_renders(
    demo: Path, size: int
) -> None:
    """render() joins a template's pieces a few thousand at a time (so a large report never
    holds them all in one list): the same text as jinja's own render()."""
    report = json.loads(Esc(demo, now="2026-11-27T09:00:00+01:00").ok("report", "--format", "json"))
    template = _environment(None).get_template("report.html.j2")
    pieces = template.generate(r=report, links="../")
    assert _joined(pieces, size) == template.render(r=report, links="../")


def test_a_report_in_pieces_is_the_report_as_one_text(demo: Path) -> None:
    """report_pieces (what a sweep writes a few thousand pieces at a time) joins to the very
    text render_report makes, in HTML and JSON, and summary.md's rows, kept as tuples and
    made into dicts as the template reads them, are the rows summary_data lists."""
    from esc.report.render import ClockRows, render_report, report_pieces

    report = json.loads(Esc(demo, now="2026-11-27T09:00:00+01:00").ok("report", "--format", "json"))
    assert report["sla"]["breached_now"]  # (rows to write)
    for fmt in ("html", "json"):
        assert "".join(report_pieces(report, fmt, links="../")) == render_report(
            report, fmt, links="../"
        )
    conf = config()
    items = [(t, sla_of(t, conf, NOW)) for t in (ticket(1), ticket(2, priority="urgent"))]
    rows = summary_data(items, conf, NOW)["overdue"]
    assert isinstance(rows, ClockRows) and len(rows) == 4
    assert rows == list(rows) and rows[1:3] == list(rows)[1:3] and rows[-1] == list(rows)[-1]
    assert all(set(row) == {"id", "title", "team", "priority", "metric", "due"} for row in rows)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(240 * 3600, "240h 0m"), (3 * 3600 + 20 * 60, "3h 20m"), (45 * 60, "45m"), (None, "–")],
)
def test_working_time_is_shown_in_hours(seconds: float | None, shown: str) -> None:
    """240 working hours (30 eight-hour days) read "10d 0h", as if days had 24 of them."""
    from esc.report.render import working_text

    assert working_text(seconds) == shown


def test_an_entity_in_a_title_shows_literally_in_markdown() -> None:
    """`&amp;` in a title rendered as "&" on GitHub; a plain `&` stays as it is."""
    from esc.report.render import md_escape

    assert md_escape("Amber & Oak &amp; co") == "Amber & Oak &amp;amp; co"
    assert md_escape("&#169;") == "&\\#169;"  # (its # escaped: no entity either)


def test_a_rate_short_of_all_or_above_none_never_shows_as_100_or_0_percent() -> None:
    """399 clocks met of 400 showed "100%" in a row with a breach (json: 0.9975)."""
    from esc.report.render import percent_text

    shown = [percent_text(x) for x in (None, 0, 1, 0.5, 0.9975, 0.99999, 0.004, 0.994)]
    assert shown == ["–", "0%", "100%", "50%", "99.7%", "99.9%", "0.4%", "99%"]


def test_a_rate_halfway_between_two_percents_rounds_up_as_people_round() -> None:
    """5 of 8 met showed "62%" (Python's round() to even) while 3 of 8 showed "38%"."""
    from esc.report.render import percent_text

    shown = [percent_text(x) for x in (0.625, 0.125, 0.375, 0.145, 0.8333)]
    assert shown == ["63%", "13%", "38%", "15%", "83%"]


def test_a_customer_s_web_address_is_no_live_link_in_the_markdown() -> None:
    """`Pay at www.evil.example/pay` in a title was a link GitHub made by itself in a pull
    request's comment or a wiki (audit helper-392): the `.` after `www` and the `:` of a
    scheme are escaped, so it shows as written, as text (checked against GitHub's own
    renderer, cmark-gfm, by hand)."""
    from esc.report.render import md_escape

    assert md_escape("Pay at www.evil.example/pay or https://evil.example/login") == (
        "Pay at www\\.evil.example/pay or https\\://evil.example/login"
    )
    assert md_escape("ratio 3:1, wwwx.example") == "ratio 3:1, wwwx.example"
    assert md_escape("_www.evil.example 3https://evil.example") == (  # (review helper-405)
        "\\_www\\.evil.example 3https\\://evil.example"
    )


DAY = "2026-11-26T"


def test_a_mention_a_customer_wrote_pings_no_one_in_the_markdown(
    esc: Esc, workspace: Path
) -> None:
    """`cc @octocat and @github/security` in a title, a reason or feedback: posted as a pull
    request's comment, or published with the sweep's summary.md, the report pinged whoever
    a customer named (audit helper-463).  A word joiner after the `@`, shown the same; an
    address's `@` is left as it is."""
    from esc.report.render import md_escape

    assert md_escape("cc @octocat and @github/security") == (
        "cc @\u2060octocat and @\u2060github/security"
    )
    assert md_escape("jane@shop.example, a @ b, @") == "jane@shop.example, a @ b, @"
    assert md_escape("cc -@octocat, thanks.@octocat") == (  # (review helper-464)
        "cc -@\u2060octocat, thanks.@\u2060octocat"
    )
    ticket = esc.ok("create", "--title", "Ping @octocat please", "--category", "billing",
                    "--customer", "jane@shop.example", now=DAY + "10:00:00+01:00").strip()
    esc.ok("escalate", ticket, "--up", "--reason", "ask @frank now", now=DAY + "10:05:00+01:00")
    out = esc.ok("report", now=DAY + "15:00:00+01:00")
    assert "@octocat" not in out and "@frank" not in out
    assert "Ping @\u2060octocat please" in out and "ask @\u2060frank now" in out
