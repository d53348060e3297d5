"""The reports a sweep renders agree with `esc report`, though they skip settled tickets."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from esc.domain.stats import Period
from tests.conftest import Esc


@pytest.mark.parametrize(
    "now",
    [
        "2026-11-27T09:00:00+01:00",  # the demo's own time: a few tickets settled
        "2026-12-14T15:00:00+01:00",
        "2027-03-01T10:00:00+01:00",  # every closed ticket settled long ago
    ],
)
def test_sweep_reports_have_the_numbers_of_esc_report(demo: Path, now: str) -> None:
    desk = Esc(demo, now=now)
    desk.ok("sweep")
    swept = json.loads((demo / "reports" / "report.json").read_text(encoding="utf-8"))
    reported = json.loads(desk.ok("report", "--format", "json"))
    assert swept == reported
    assert swept["totals"]["tickets"] == 36


def test_a_ticket_reopened_by_hand_is_no_longer_settled(demo: Path) -> None:
    desk = Esc(demo, now="2027-03-01T10:00:00+01:00")
    desk.ok("sweep")
    path = next(
        p
        for p in sorted((demo / "tickets").glob("*.md"))
        if "status: closed" in p.read_text(encoding="utf-8")
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: closed", "status: open", 1),
        encoding="utf-8",
    )
    (demo / "reports" / "report.json").unlink()  # render again within the hour
    desk.ok("sweep")
    swept = json.loads((demo / "reports" / "report.json").read_text(encoding="utf-8"))
    assert swept == json.loads(desk.ok("report", "--format", "json"))
    assert path.stem in [row["id"] for row in swept["sla"]["breached_now"]]


def test_counts_gathered_as_entries_come_in_are_those_read_at_the_end(demo: Path) -> None:
    from esc.domain.stats import build, default_period
    from esc.domain.timestamps import parse_timestamp
    from esc.report.contents import ReportItems
    from esc.report.render import summary_data
    from esc.report.slas import sla_for_report
    from esc.store.catalog import Catalog
    from esc.store.workspace import Workspace

    now = parse_timestamp("2026-11-27T09:20:00+01:00")
    Esc(demo, now=now.isoformat()).ok("sweep", "--no-report")  # the cache, as workers leave it
    catalog = Catalog(Workspace(demo))
    records = catalog.cached_records()
    as_of = now
    period = default_period(as_of)
    live = [r for r in records if not catalog.settled_before(r, period.since)]
    pairs = [(r.ticket, sla_for_report(catalog, r, as_of)) for r in live]
    expected = build(pairs, catalog.config, as_of, period, settled=len(records) - len(live))
    gathered = ReportItems(catalog, now, period)
    for record in reversed(records[::2]):  # some came in early, out of order; others at the end
        gathered.add(record.name, record.entry)
    counted = gathered.counted(records)
    assert counted is not None
    tally, summary, settled = counted
    assert tally.report(settled) == expected
    assert summary.data() == summary_data(pairs, catalog.config, as_of)
    assert expected["sla"]["breached_now"] and 0 < len(live) < len(records)
    # an entry replaced after it was counted: the counts cannot answer, the caller reads afresh
    changed = next(r for r in records[::2] if catalog.settled_before(r, period.since))
    changed.entry = replace(changed.entry, settled=None)
    assert gathered.counted(records) is None


@pytest.mark.parametrize(
    ("template", "text", "error"),
    [
        (
            "report.md.j2",
            "# Report\n{% for x in %}\n",
            "templates/report.md.j2:2: template does not parse: "
            "Expected an expression, got 'end of statement block'",
        ),
        (
            "report.md.j2",
            "# Report\n{{ nonexistent.total }}\n",
            "esc: templates/report.md.j2: template failed: 'nonexistent' is undefined",
        ),
        (  # (an error of the template's own expression, not jinja's: no internal error)
            "report.md.j2",
            "# Report\n\n{{ 1/0 }}\n",
            "esc: templates/report.md.j2:3: template failed: ZeroDivisionError: division by zero",
        ),
        (  # (a workspace's templates come with its commits: never a way out of jinja's
            # sandbox to the sweep host's shell and secrets)
            "report.md.j2",
            "{{ cycler.__init__.__globals__.os.popen('echo ran-a-shell').read() }}\n",
            "esc: templates/report.md.j2: template failed: access to attribute '__init__' of"
            " 'type' object is unsafe.",
        ),
        (  # (the usual way to override a part: by its own name it extended itself, exit 3)
            "report.md.j2",
            "{% extends 'report.md.j2' %}\n",
            "esc: templates/report.md.j2: template failed: it includes or extends itself,"
            " without end (esc's own report.md.j2 is `esc/report.md.j2`:"
            " `{% extends 'esc/report.md.j2' %}`)",
        ),
        (
            "report.md.j2",
            "# Report\n{{ r.totals.created + 'x' }}\n",
            "esc: templates/report.md.j2:2: template failed: TypeError: unsupported operand"
            " type(s) for +: 'int' and 'str'",
        ),
    ],
)
def test_a_broken_template_override_is_one_line_and_exit_1(
    demo: Path, template: str, text: str, error: str
) -> None:
    (demo / "templates").mkdir()
    (demo / "templates" / template).write_text(text, encoding="utf-8")
    result = Esc(demo)("report", "--format", "markdown")
    assert (result.code, result.err, result.out) == (1, error + "\n", "")


def test_reports_rendered_with_and_without_overrides_share_no_compiled_templates(
    demo: Path, tmp_path: Path
) -> None:
    """One report in a workspace with `templates/` (an empty folder will do) left esc's
    templates compiled in jinja's sandbox in the user cache, and every later report and
    sweep of a workspace without overrides, the user's others too, exited 3 ("'Environment'
    object has no attribute 'call'") until the cache was deleted (audit helper-451)."""
    other = tmp_path / "other"
    shutil.copytree(demo, other)
    now = "2026-11-27T10:00:00+01:00"
    # (each a process of its own, as cron's and a person's are: one process keeps what it
    # compiled in memory, and never reads it back)
    fresh = Esc(other, process=True).ok("report", "--format", "html", now=now)
    shutil.rmtree(Path.home() / ".cache" / "esc" / "templates")
    (demo / "templates").mkdir()
    overridden = Esc(demo, process=True).ok("report", "--format", "html", now=now)
    assert Esc(other, process=True).ok("report", "--format", "html", now=now) == fresh
    (demo / "templates").rmdir()
    assert Esc(demo, process=True).ok("report", "--format", "html", now=now) == overridden
    assert Esc(other, process=True)("sweep", "--no-notify", now=now).code == 0


def test_an_id_in_a_markdown_table_is_escaped_as_the_text_beside_it(demo: Path) -> None:
    """An article a ticket names that kb/ lacks, `kb: "KB-9 | **x**"` by hand, went into
    the Markdown tables as written: its `|` made columns, its `**` bold (audit helper-454).
    Escaped as titles are; an ordinary ID reads as before."""
    path = demo / "tickets" / "T-0s5qq2a9.md"
    path.write_text(path.read_text().replace("kb: KB-0001", 'kb: "KB-9 | **x**"', 1))
    done = Esc(demo)("report", "--format", "markdown", now="2026-11-27T11:30:00+01:00")
    assert done.code == 1 and "kb: unknown article" in done.err  # (a finding, as before)
    text = done.out
    assert "| KB-9 | **x** |" not in text and "KB-9 \\| \\*\\*x\\*\\*" in text, text
    assert "[T-0s5qq2a9](" in text or "T-0s5qq2a9" in text


def test_a_template_override_changes_no_other_report_s_numbers(demo: Path) -> None:
    """A wiki's `report.md.j2` that put the newest week first (`r.trend.reverse()`)
    reversed the trend in the sweep's report.json and dashboard too, rendered after it from
    the same numbers; `r.totals.update(...)` rewrote them (audit helper-435).  An override
    changes no data it is handed: one line, exit 1, as a template that fails does."""
    (demo / "templates").mkdir()
    (demo / "templates" / "report.md.j2").write_text(
        "{% set _ = r.trend.reverse() %}{% include 'esc/report.md.j2' %}\n"
    )
    swept = Esc(demo)("sweep", now="2026-11-27T09:00:00+01:00")
    assert swept.code == 1 and "template failed" in swept.err, swept.err
    asked = json.loads(Esc(demo).ok("report", "--format", "json", now="2026-11-27T09:00:00+01:00"))
    if (demo / "reports" / "report.json").exists():
        written = json.loads((demo / "reports" / "report.json").read_text())
        assert written["trend"] == asked["trend"]


@pytest.mark.parametrize("how", ["the template", "a folder it includes from", "templates/"])
def test_a_template_override_reached_through_a_link_is_refused(
    demo: Path, tmp_path: Path, how: str
) -> None:
    """Git commits symbolic links: a `summary.md.j2` linked to /proc/self/environ put the
    sweep's secrets in reports/, and an `{% include %}` through a link to /etc the host's
    files, whatever the sandbox (audit helper-422).  One line, exit 1, nothing rendered."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.j2").write_text("SECRET=hunter2\n")
    templates = demo / "templates"
    if how == "templates/":
        templates.symlink_to(outside)
        (outside / "report.md.j2").write_text("{% include 'secret.j2' %}\n")
    else:
        templates.mkdir()
        if how == "the template":
            (templates / "report.md.j2").symlink_to(outside / "secret.j2")
        else:
            (templates / "etc").symlink_to(outside)
            (templates / "report.md.j2").write_text("{% include 'etc/secret.j2' %}\n")
    result = Esc(demo)("report", "--format", "markdown")
    assert (result.code, result.out) == (1, "")
    assert "a symbolic link; esc renders only templates that are files of" in result.err
    swept = Esc(demo)("sweep", "--report-dir", str(tmp_path / "out"))
    assert swept.code == 1 and "the reports were not rendered" in swept.err
    assert "hunter2" not in "".join(p.read_text() for p in (tmp_path / "out").glob("*"))


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's time zone is Europe/Berlin (summer time until 25 October 2026)."""
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_template_override_may_wrap_esc_s_own(demo: Path) -> None:
    own = Esc(demo).ok("report", "--format", "markdown")
    (demo / "templates").mkdir()
    wrapped = "Our weekly numbers\n\n{% include 'esc/report.md.j2' %}"
    (demo / "templates" / "report.md.j2").write_text(wrapped, encoding="utf-8")
    assert Esc(demo).ok("report", "--format", "markdown") == "Our weekly numbers\n\n" + own


def test_a_date_is_the_local_day_when_now_is_local_time(berlin: None) -> None:
    """`TZ=Europe/Berlin esc --now 2026-11-20T15:00:00 report --since 2026-10-12`: the
    period started at 00:00+01:00 (November's offset), an hour after the local midnight,
    and a ticket created at 00:30 that Monday fell out of it."""
    import datetime as dt

    from esc.domain.timestamps import parse_local_timestamp
    from esc.report.contents import period_of

    local = parse_local_timestamp("2026-11-20T15:00:00", what="--now")
    period = period_of("2026-10-12", "2026-10-18", local, local=True)
    assert period.since.isoformat() == "2026-10-12T00:00:00+02:00"
    assert period.until.isoformat() == "2026-10-19T00:00:00+02:00"
    assert period_of("2026-10-12T06:00", None, local, local=True).since.isoformat() == (
        "2026-10-12T06:00:00+02:00"
    )
    # (without --since, the 30 days before the end in local days: from local midnight, or
    # the time of day --now gives, across the change of summer time on 25 October)
    until_only = period_of(None, "2026-11-05", local, local=True)
    assert until_only.since.isoformat() == "2026-10-07T00:00:00+02:00"
    assert period_of(None, None, local, local=True).since.isoformat() == (
        "2026-10-21T15:00:00+02:00"
    )
    # a --now with an offset: its offset, whether the machine's zone has it now or not
    for offset in ("+05:00", "+01:00"):
        given = dt.datetime.fromisoformat(f"2026-11-20T15:00:00{offset}")
        assert period_of("2026-10-12", None, given).since.isoformat() == (
            f"2026-10-12T00:00:00{offset}"
        )


def test_a_now_that_gives_its_offset_reports_the_same_on_every_machine(
    berlin: None, esc: Esc, workspace: Path
) -> None:
    """`--now 2026-11-10T12:00:00+01:00` on a machine in Berlin (whose offset is +01:00 in
    November too): `--since 2026-10-20` is 00:00+01:00, as on a machine in UTC, not the
    local midnight of a summer day (23:00+01:00 the day before)."""
    esc.ok("create", "--title", "P", "--category", "billing", "--body", "x",
           now="2026-10-19T23:30:00+01:00")  # fmt: skip
    period = ["--since", "2026-10-20", "--until", "2026-10-20", "--format", "json"]
    data = json.loads(esc.ok("report", *period, now="2026-11-10T12:00:00+01:00"))
    assert data["period"]["since"] == "2026-10-20T00:00:00+01:00"
    assert data["totals"]["created"] == 0
    # without an offset, --now is the machine's time: the local day (from 00:00+02:00,
    # summer time's midnight, written in its own offset)
    data = json.loads(esc.ok("report", *period, now="2026-11-10T12:00:00"))
    assert data["period"]["since"] == "2026-10-20T00:00:00+02:00"
    assert data["totals"]["created"] == 1


def test_the_weeks_of_a_local_report_start_at_local_midnight_across_summer_time(
    berlin: None, esc: Esc, workspace: Path
) -> None:
    """The weekly trend's weeks were cut at --now's winter offset: a ticket made at 00:30 on
    a summer Monday fell in the week before, a week the period does not reach."""
    for at in ("2026-10-19T00:30:00+02:00", "2026-10-25T23:30:00+01:00",
               "2026-10-26T00:30:00+01:00"):  # fmt: skip
        esc.ok("create", "--title", "P", "--category", "billing", "--body", "x", now=at)
    data = json.loads(esc.ok("report", "--since", "2026-10-19", "--format", "json",
                             now="2026-11-10T12:00:00"))  # fmt: skip
    assert data["period"]["since"] == "2026-10-19T00:00:00+02:00"
    given = json.loads(esc.ok("report", "--since", "2026-10-19T00:00+05:00", "--format",
                              "json", now="2026-11-10T12:00:00"))  # fmt: skip
    assert given["period"]["since"] == "2026-10-18T21:00:00+02:00"  # (the machine's time)
    weeks = [(w["week"], w["start"], w["created"]) for w in data["trend"]]
    assert weeks == [
        ("2026-W43", "2026-10-19", 2),
        ("2026-W44", "2026-10-26", 1),
        ("2026-W45", "2026-11-02", 0),
        ("2026-W46", "2026-11-09", 0),
    ]


@pytest.fixture
def machine_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set this machine's time zone (TZ) for the test."""
    import time

    def zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield zone
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("zone", "day", "first"),
    [
        ("America/Havana", "2026-03-08", "2026-03-08T01:00:00-04:00"),
        ("America/Santiago", "2026-09-06", "2026-09-06T01:00:00-03:00"),
        ("Europe/Berlin", "2026-03-29", "2026-03-29T00:00:00+01:00"),  # (skips 02:00)
    ],
)
def test_a_day_whose_midnight_the_clocks_skip_starts_at_its_first_instant(
    machine_zone: Callable[[str], None], zone: str, day: str, first: str
) -> None:
    """Local days where summer time starts at midnight (Havana, Santiago): the day began at
    23:00 the day before, and the day before lost its last hour (audit helper-408)."""
    import datetime as dt

    from esc.domain.timestamps import parse_local_timestamp
    from esc.report.contents import period_of

    machine_zone(zone)
    local = parse_local_timestamp("2026-10-20T15:00:00", what="--now")
    period = period_of(day, day, local, local=True)
    assert period.since.isoformat() == first
    before = period_of("2026-02-01", (dt.date.fromisoformat(day) - dt.timedelta(days=1))
                       .isoformat(), local, local=True)  # fmt: skip
    assert before.until == period.since  # (no hour lost, none counted twice)
    assert period.until - period.since == dt.timedelta(hours=23)
    # (weeks start at their Monday's first instant: a Monday whose midnight is skipped too)
    monday = period_of("2026-03-09", "2026-09-07", local, local=True).week_starts
    assert monday and all(m.hour == 0 and m.minute == 0 for m in monday)
    assert all(m.astimezone().hour == 0 for m in period.week_starts)


def test_the_sweep_s_reports_count_the_local_days_esc_report_counts(
    berlin: None, esc: Esc, workspace: Path
) -> None:
    """A sweep with a --now without an offset (cron's) counted 30 × 24 hours in now's
    offset, and weeks cut at it, while `esc report` at the same --now counts 30 local
    days and weeks from local Mondays: across the end of summer time the sweep's
    report.json and summary.md counted a ticket less, and one in another week (audit
    helper-408)."""
    for at in ("2026-10-11T09:30:00+02:00", "2026-10-19T00:30:00+02:00"):
        esc.ok("create", "--title", "P", "--category", "billing", "--body", "x", now=at)
    esc.ok("sweep", now="2026-11-10T09:00:00")
    swept = json.loads((workspace / "reports" / "report.json").read_text())
    asked = json.loads(esc.ok("report", "--format", "json", now="2026-11-10T09:00:00"))
    assert swept["period"] == asked["period"]
    assert swept["period"]["since"] == "2026-10-11T09:00:00+02:00"
    assert swept["totals"] == asked["totals"] and swept["totals"]["created"] == 2
    assert swept["trend"] == asked["trend"]
    # with an offset, both count in it (the same instant everywhere)
    esc.ok("sweep", now="2026-11-10T10:00:00+01:00")
    swept = json.loads((workspace / "reports" / "report.json").read_text())
    asked = json.loads(esc.ok("report", "--format", "json", now="2026-11-10T10:00:00+01:00"))
    assert swept["period"] == asked["period"]
    assert swept["period"]["since"] == "2026-10-11T10:00:00+01:00"


def bounds(period: Period) -> tuple[str, str]:
    """A report period's ``[since, until)`` as ISO text."""
    return (period.since.isoformat(), period.until.isoformat())


@pytest.mark.parametrize(
    ("until", "end"),
    [
        ("2026-11-15", "2026-11-16T00:00:00+01:00"),
        ("20261115", "2026-11-16T00:00:00+01:00"),  # (was the 15th's start: the day lost)
        ("2026-W45", "2026-11-09T00:00:00+01:00"),  # (the week's end, not its Monday)
        ("2026W45", "2026-11-09T00:00:00+01:00"),
        ("2026-W45-7", "2026-11-09T00:00:00+01:00"),  # (that Sunday included)
        ("2026-11-15T12:00", "2026-11-15T12:00:00+01:00"),  # (a time is that time)
        ("2026-319", "2026-11-16T00:00:00+01:00"),  # (a day of the year: the 15th)
        ("2026319", "2026-11-16T00:00:00+01:00"),
        ("2026-10", "2026-11-01T00:00:00+01:00"),  # (a month: to its last day's end)
    ],
)
def test_every_date_form_until_takes_means_the_end_of_that_day_or_week(
    until: str, end: str
) -> None:
    from esc.report.contents import period_of

    now = dt.datetime.fromisoformat("2026-11-27T12:00:00+01:00")
    assert period_of(None, until, now).until.isoformat() == end
    week = period_of("2026-W45", "2026-W45", now)
    assert bounds(week) == (
        "2026-11-02T00:00:00+01:00",
        "2026-11-09T00:00:00+01:00",
    )


def test_a_month_and_a_day_of_the_year_are_periods_and_days_that_are_none_are_refused() -> None:
    from esc.domain.errors import BadInput
    from esc.report.contents import period_of

    now = dt.datetime.fromisoformat("2027-01-10T12:00:00+01:00")
    december = period_of("2026-12", "2026-12", now)
    assert bounds(december) == (
        "2026-12-01T00:00:00+01:00",
        "2027-01-01T00:00:00+01:00",
    )
    assert period_of("2026-001", None, now).since.isoformat() == "2026-01-01T00:00:00+01:00"
    for wrong in ("2026-13", "2026-00", "2026-000", "2026-366", "2026-02-30"):
        with pytest.raises(BadInput, match="is not a date"):
            period_of(wrong, None, now)


def test_a_bound_s_fraction_of_a_second_is_dropped_as_now_s_is() -> None:
    """`--since …09:00:00.5` counted from the half second while the report showed 09:00:00;
    esc's times are whole seconds: the bound is the one shown."""
    from esc.report.contents import period_of

    now = dt.datetime.fromisoformat("2026-11-03T12:00:00+01:00")
    period = period_of("2026-11-02T09:00:00.5+01:00", "2026-11-02T10:00:00.999+01:00", now)
    assert bounds(period) == (
        "2026-11-02T09:00:00+01:00",
        "2026-11-02T10:00:00+01:00",
    )


def test_a_since_after_now_without_until_names_now_not_an_until_nobody_gave() -> None:
    from esc.domain.errors import BadInput
    from esc.report.contents import period_of

    now = dt.datetime.fromisoformat("2026-11-12T12:00:00+01:00")
    with pytest.raises(BadInput) as given:
        period_of("2026-11-20", None, now)
    assert str(given.value) == (
        "--since must be before --now (2026-11-12T12:00:00+01:00), where the period ends "
        "without --until"
    )
    with pytest.raises(BadInput, match=r"^--since must be before --until$"):
        period_of("2026-11-20", "2026-11-19", now)
