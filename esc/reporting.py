"""Building a report from the workspace: tickets, their SLAs as of ``now``, the numbers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from esc import stats
from esc.catalog import Catalog, Record
from esc.clock import parse_timestamp
from esc.errors import BadInput
from esc.model import Ticket
from esc.sla import Sla
from esc.store import TEMPLATES_DIR, Workspace, compiled_templates_dir

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_bound(text: str, now: dt.datetime, *, end: bool, option: str) -> dt.datetime:
    """A --since/--until value: a timestamp, or a date (its start; for --until, its end)."""
    value = text.strip()
    if _DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise BadInput(f"{option}: {text!r} is not a date") from None
        if end:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(), tzinfo=now.tzinfo)
    return parse_timestamp(value, what=option)


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
    items: list[tuple[Ticket, Sla]],
    workspace: Workspace,
    now: dt.datetime,
    period: stats.Period,
    team: str | None = None,
) -> dict[str, Any]:
    config = workspace.config()
    if team is not None and team not in config.teams:
        raise BadInput(f"unknown team {team!r}; teams are {', '.join(config.teams)}")
    return stats.build(items, config, now, period, team)


def report_time(now: dt.datetime) -> dt.datetime:
    """Reports a sweep renders are as of the top of the hour: they change at most hourly."""
    return now.replace(minute=0, second=0, microsecond=0)


def sweep_reports(catalog: Catalog, records: list[Record], now: dt.datetime) -> dict[str, str]:
    """The files a sweep renders, as of the top of the hour so they change at most hourly."""
    from esc.reports import render, render_report, summary_data

    as_of = report_time(now)
    period = stats.default_period(as_of)
    live = [r for r in records if not catalog.settled_before(r, period.since)]
    items = catalog.with_sla(live, as_of, exact=False)
    overrides = catalog.workspace.root / TEMPLATES_DIR
    compiled = compiled_templates_dir()
    report = stats.build(items, catalog.config, as_of, period, settled=len(records) - len(live))
    return {
        "summary.md": render(
            "summary.md.j2", summary_data(items, catalog.config), overrides, compiled
        ),
        "index.html": render_report(report, "html", overrides, "../", compiled),
        "report.json": render_report(report, "json"),
    }
