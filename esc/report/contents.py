"""Building a report from the workspace: tickets, their SLAs as of ``now``, the numbers."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Collection, Iterable

from esc.domain import stats
from esc.domain.choices import unknown_choice
from esc.domain.errors import BadInput
from esc.domain.model import Ticket
from esc.domain.sla import Sla
from esc.domain.timestamps import RANGE_TEXT, in_range, parse_timestamp
from esc.report.slas import sla_for_report
from esc.store.cache import Entry
from esc.store.catalog import Catalog, Record
from esc.store.kb import load as load_kb
from esc.store.user_cache import compiled_templates_dir
from esc.store.workspace import TEMPLATES_DIR, Workspace

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_bound(text: str, now: dt.datetime, *, end: bool, option: str) -> dt.datetime:
    """A --since/--until value: a timestamp, or a date (its start; for --until, its end)."""
    value = text.strip()
    if _DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise BadInput(f"{option}: {text!r} is not a date") from None
        if not in_range(day):
            raise BadInput(f"{option} {text!r} is {RANGE_TEXT}")
        if end:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(), tzinfo=now.tzinfo)
    moment = parse_timestamp(value, what=option)
    if not in_range(moment):
        raise BadInput(f"{option} {text!r} is {RANGE_TEXT}")
    return moment


def period_of(since: str | None, until: str | None, now: dt.datetime) -> stats.Period:
    end = parse_bound(until, now, end=True, option="--until") if until else now
    start = (
        parse_bound(since, now, end=False, option="--since")
        if since
        else end - dt.timedelta(days=30)
    )
    if start >= end:
        raise BadInput("--since must be before --until")
    return stats.Period(start, end)


def build_report(
    items: Iterable[tuple[Ticket, Sla]],
    workspace: Workspace,
    now: dt.datetime,
    period: stats.Period,
    team: str | None = None,
    settled: int = 0,
) -> stats.ReportJson:
    """The report's numbers; ``settled`` counts tickets left out of ``items`` as done
    with before the period (see :func:`esc.domain.stats.build`).  ``items`` may be a
    generator: each pair is counted as it comes, none is kept."""
    config = workspace.config()
    if team is not None and team not in config.teams:
        raise BadInput(unknown_choice("team", team, tuple(config.teams)))
    articles = load_kb(workspace.root).articles
    return stats.build(items, config, now, period, team, settled, articles=articles)


def report_time(now: dt.datetime) -> dt.datetime:
    """Reports a sweep renders are as of the top of the hour: they change at most hourly."""
    return now.replace(minute=0, second=0, microsecond=0)


class ReportItems:
    """What a sweep's reports show of each ticket, gathered from cache entries as they come
    in (from worker processes, while the others are still being swept).

    A ticket settled before the report's period counts only in the totals; any other is
    a (ticket, SLA as of the top of the hour) pair, from the cache alone.
    """

    def __init__(self, catalog: Catalog, now: dt.datetime) -> None:
        self.catalog = catalog
        self.as_of = report_time(now)
        self.period = stats.default_period(self.as_of)
        # name -> (the entry, its pair or None if settled)
        self.found: dict[str, tuple[Entry, tuple[Ticket, Sla] | None]] = {}
        self.complete = True  # False: an entry the cache cannot answer for without a file
        self.folder = catalog.workspace.tickets_dir

    def add(self, name: str, entry: Entry) -> None:
        if entry.status is None or not self.complete:
            return  # a file that does not parse: not a ticket of the reports
        record = Record(name, self.folder, entry)
        if self.catalog.settled_before(record, self.period.since):
            self.found[name] = (entry, None)
            return
        sla = self.catalog.kept_sla_near(record, self.as_of)
        if sla is None:
            self.complete = False
            return
        self.found[name] = (entry, (record.ticket, sla))

    def items(self, records: list[Record]) -> tuple[list[tuple[Ticket, Sla]], int] | None:
        """The pairs of ``records`` in their order and how many are settled (records not
        gathered with the entry they have now are added now); None if the cache cannot
        answer for one of them."""
        for record in records:
            known = self.found.get(record.name)
            if known is None or known[0] is not record.entry:
                self.add(record.name, record.entry)
        if not self.complete:
            return None
        pairs = (self.found[r.name][1] for r in records if r.name in self.found)
        items = [pair for pair in pairs if pair is not None]
        return items, len(records) - len(items)


SWEEP_REPORTS = ("summary.md", "index.html", "report.json")
SUMMARY_TEMPLATE = "summary.md.j2"


def prepare_sweep_reports(workspace: Workspace) -> None:
    """Load the templates of the reports a sweep renders, before it renders them (while
    workers sweep: the process forked to render beside this one then has them too)."""
    from esc.report.render import TEMPLATE_OF, load_templates

    names = (SUMMARY_TEMPLATE, TEMPLATE_OF["html"])
    with contextlib.suppress(Exception):  # only a head start: rendering reports any error
        load_templates(names, workspace.root / TEMPLATES_DIR, compiled_templates_dir())


def sweep_reports(
    catalog: Catalog,
    records: list[Record],
    now: dt.datetime,
    gathered: ReportItems | None = None,
    parts: Collection[str] = SWEEP_REPORTS,
) -> dict[str, str]:
    """The files a sweep renders (those named in ``parts``), as of the top of the hour so
    they change at most hourly.

    ``gathered`` holds the reports' tickets and SLAs if they were gathered already.
    """
    from esc.report.render import render, render_report, summary_data

    as_of = report_time(now)
    period = stats.default_period(as_of)
    ready = gathered.items(records) if gathered is not None else None
    if ready is None:
        live = [r for r in records if not catalog.settled_before(r, period.since)]
        pairs = [(r.ticket, sla_for_report(catalog, r, as_of)) for r in live]
        ready = pairs, len(records) - len(live)
    items, settled = ready
    overrides = catalog.workspace.root / TEMPLATES_DIR
    compiled = compiled_templates_dir()
    files = {}
    if "summary.md" in parts:
        data = summary_data(items, catalog.config, as_of)
        files["summary.md"] = render(SUMMARY_TEMPLATE, data, overrides, compiled)
    if "index.html" in parts or "report.json" in parts:
        articles = load_kb(catalog.workspace.root).articles
        report = stats.build(
            items, catalog.config, as_of, period, settled=settled, articles=articles
        )
        if "index.html" in parts:
            files["index.html"] = render_report(report, "html", overrides, "../", compiled)
        if "report.json" in parts:
            files["report.json"] = render_report(report, "json")
    return files
