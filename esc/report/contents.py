"""Building a report from the workspace: tickets, their SLAs as of ``now``, the numbers."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import os
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from esc.domain import stats
from esc.domain.choices import unknown_choice
from esc.domain.errors import BadInput, ParseError
from esc.domain.kb import ticket_kb_findings
from esc.domain.timestamps import (
    RANGE_TEXT,
    format_timestamp,
    in_range,
    local_wall_instant,
    parse_local_timestamp,
)
from esc.report.slas import sla_for_report, sla_states_now
from esc.store.cache import CachedFile
from esc.store.catalog import Catalog, Record
from esc.store.diagnostics import fallback
from esc.store.kb import load as load_kb
from esc.store.user_cache import compiled_templates_dir
from esc.store.workspace import TEMPLATES_DIR, Workspace

if TYPE_CHECKING:
    from esc.report.render import SummaryTally

# a date in any of ISO 8601's forms Python reads: 2026-11-15, 20261115, a week (2026-W45,
# its Monday to Sunday) or a day of one (2026-W45-7); and the two it does not: a day of
# the year (2026-313, 2026313) and a month (2026-11, its first to its last day)
_DATE = re.compile(r"\d{4}-?(?:\d{2}-?\d{2}|W\d{2}(?P<day>-?\d)?)")
_ORDINAL = re.compile(r"(?P<year>\d{4})-?(?P<day>\d{3})")
_MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})")


def _iso_days(value: str) -> tuple[dt.date, int] | None:
    """The first day a date in one of ISO 8601's forms names, and how many days it spans
    (a day, a week, a month); None if ``value`` has none of those forms.  ValueError for
    one that has the form but names no day (2026-02-30, 2026-W54, 2026-400, 2026-13)."""
    if date := _DATE.fullmatch(value):
        whole_week = "W" in value and date.group("day") is None
        return dt.date.fromisoformat(value), 7 if whole_week else 1
    if ordinal := _ORDINAL.fullmatch(value):
        year, number = int(ordinal["year"]), int(ordinal["day"])
        if not 1 <= number <= (366 if calendar.isleap(year) else 365):
            raise ValueError(value)
        return dt.date(year, 1, 1) + dt.timedelta(days=number - 1), 1
    if month := _MONTH.fullmatch(value):
        year, number = int(month["year"]), int(month["month"])
        return dt.date(year, number, 1), calendar.monthrange(year, number)[1]
    return None


def parse_bound(
    text: str, now: dt.datetime, *, end: bool, option: str, local: bool
) -> dt.datetime:
    """A --since/--until value: a timestamp (without an offset, in the zone of ``now``, as a
    date is), or a date or ISO week (its start; for --until, its end).  With ``local`` (``now`` is
    this machine's time: ``--now`` without an offset, or the clock), a date is its local
    day there, with that day's offset (a period across a change of summer time starts at
    local midnight), not ``now``'s offset; an offset ``--now`` gives always wins, whatever
    the machine's zone."""
    value = text.strip()
    try:
        days = _iso_days(value)
    except ValueError:
        raise BadInput(f"{option}: {text!r} is not a date") from None
    if days is not None:
        day, span = days
        if not in_range(day):
            raise BadInput(f"{option} {text!r} is {RANGE_TEXT}")
        if end:  # (the end of that day, week or month)
            day += dt.timedelta(days=span)
        midnight = dt.datetime.combine(day, dt.time())
        return local_wall_instant(midnight) if local else midnight.replace(tzinfo=now.tzinfo)
    # (no offset: now's, or this machine's on that day, as a date is)
    moment = parse_local_timestamp(value, what=option, zone=None if local else now.tzinfo)
    if not in_range(moment):
        raise BadInput(f"{option} {text!r} is {RANGE_TEXT}")
    return moment.replace(microsecond=0)  # (esc's times are whole seconds, as --now's are)


def period_of(
    since: str | None, until: str | None, now: dt.datetime, *, local: bool = False
) -> stats.Period:
    """``[--since, --until)``; without ``--until``, up to and including ``now``; without
    ``--since``, the 30 days before the end.  ``local``: see :func:`parse_bound`."""
    for option, given in (("--since", since), ("--until", until)):
        if given is not None and not given.strip():  # (a script's unset variable)
            raise BadInput(f"{option} must not be empty")
    last = parse_bound(until, now, end=True, option="--until", local=local) if until else now
    if since:
        start = parse_bound(since, now, end=False, option="--since", local=local)
    elif local:  # (30 days of this machine's calendar: local midnight to local midnight
        # across a change of summer time, as a --since given as a date is)
        start = local_wall_instant(last.astimezone().replace(tzinfo=None) - dt.timedelta(days=30))
    else:
        start = last - dt.timedelta(days=30)
    end = last if until else now + stats.UP_TO_NOW
    if start >= end:
        if until:
            raise BadInput("--since must be before --until")
        raise BadInput(f"--since must be before --now ({format_timestamp(now)}), where the"
                       " period ends without --until")  # fmt: skip
    if not local:
        return stats.Period(start, end)
    # (each bound in this machine's time, its own day's offset: a bound given with another
    # offset, `--since 2026-10-19T00:00+05:00`, too, as the report shows them)
    start, end = start.astimezone(), end.astimezone()
    return stats.Period(start, end, _local_mondays(start, end))


def _local_mondays(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, ...]:
    """The local midnight of each Monday from the one that begins ``start``'s week to the
    first at or after ``end``, each with its own day's offset (this machine's time): the
    weeks of a report in local time, a change of summer time within them or not."""
    day = start.astimezone().date()
    day -= dt.timedelta(days=day.weekday())
    mondays = [local_wall_instant(dt.datetime.combine(day, dt.time()))]
    while mondays[-1] < end:
        day += dt.timedelta(days=7)
        mondays.append(local_wall_instant(dt.datetime.combine(day, dt.time())))
    return tuple(mondays)


def catalog_report(
    catalog: Catalog, now: dt.datetime, period: stats.Period, team: str | None = None
) -> tuple[stats.ReportJson, list[ParseError]]:
    """The report's numbers over every ticket of ``catalog``, read one at a time and let
    go of once counted (with a streamed catalog nothing is kept per ticket), and the
    files that do not parse (:func:`count_records`, then :func:`counted_report`)."""
    counted = count_records(catalog, Counted.start(catalog, now, period, team), catalog.each())
    return counted_report(catalog, counted), counted.broken


@dataclass
class Counted:
    """A report's numbers over some of the tickets: the tally, how many were settled
    before the period (counted in the totals alone), and the files that do not parse."""

    tally: stats.Tally
    settled: int = 0
    broken: list[ParseError] = field(default_factory=list)
    kb_uses: list[tuple[str, str]] = field(default_factory=list)  # (file, article) of each
    # ticket counted whose `kb:` names one: checked against kb/ once it is read

    @classmethod
    def start(
        cls, catalog: Catalog, now: dt.datetime, period: stats.Period, team: str | None
    ) -> Counted:
        _check_team(catalog.config.teams, team)
        return cls(stats.Tally(catalog.config, now, period, team))


def count_records(
    catalog: Catalog, counted: Counted, records: Iterable[Record | ParseError]
) -> Counted:
    """Count each of ``records`` (files that do not parse among them) into ``counted``.
    A ticket resolved or closed, and done with, before the period counts in the totals
    alone (:func:`esc.domain.stats.build`): its SLA is neither derived nor computed.  Any
    other's SLA is its clocks' states as of ``now`` (a report counts the time used of
    stopped clocks only)."""
    tally = counted.tally
    now, since, until, team = tally.now, tally.period.since, tally.period.until, tally.team
    for record in records:
        if isinstance(record, ParseError):
            counted.broken.append(record)
            continue
        built = record.doc is None  # (its ticket comes from the cache: dropped again)
        if catalog.settled_before(record, since):
            counted.settled += team is None or stats.keep(record.ticket, team)
        else:
            counted.broken += catalog.misfits(record)  # (counted, and a finding)
            ticket = record.ticket
            resolved = ticket.resolved_at
            if ticket.kb is not None and (resolved is None or since <= resolved < until):
                # (an article named by a resolution of the period: one of a ticket resolved
                # before it is said by validate alone, with the cache or without it, as a
                # ticket settled before the period is never read)
                counted.kb_uses.append((catalog.workspace.rel(record.path), ticket.kb))
            tally.add(record.ticket, sla_states_now(catalog, record, now))
        if built:
            record.release()
    return counted


def counted_report(catalog: Catalog, counted: Counted) -> stats.ReportJson:
    """The report of what was counted, with the knowledge base's articles; an article that
    does not parse or validate is left out and added to ``counted.broken``."""
    found = load_kb(catalog.workspace.root, categories=catalog.config.categories)
    counted.broken += _unknown_articles(catalog, counted.kb_uses, found.ids())
    tickets = list(counted.broken)  # (the report shows the ticket files; kb/ is validate's)
    counted.broken += found.broken
    return counted.tally.report(counted.settled, found.articles, tickets)


def _unknown_articles(
    catalog: Catalog, uses: Sequence[tuple[str, str]], known: set[str]
) -> list[ParseError]:
    """Each ticket file of ``uses`` whose `kb:` names an article kb/ lacks, or one whose
    file is there but cannot be used, at that line, as `esc validate` says it
    (:func:`esc.domain.kb.ticket_kb_findings`: an article left out of the report for a
    problem of its own, a category rules.yaml lacks, is one kb/ has).  (A broken file's was
    an "unknown article", did you mean another: audit helper-477.)"""
    missing = [(path, article) for path, article in uses if article not in known]
    if not missing:
        return []
    held = load_kb(catalog.workspace.root, categories=None)
    named = []
    for path, article in missing:
        try:
            doc = catalog.workspace.read(catalog.workspace.root / path, strict=False)
            line = doc.key_lines.get("kb", 1)
        except (OSError, ParseError):  # (changed since it was counted: its first line)
            line = 1
        named.append((path, line, article))
    found = ticket_kb_findings(named, held.ids(), held.broken_ids)
    return [ParseError(f.path, f.line, f.message) for f in found]


def _check_team(teams: Collection[str], team: str | None) -> None:
    if team is not None and team not in teams:
        raise BadInput(unknown_choice("team", team, tuple(teams)))


def render_hour(now: dt.datetime) -> dt.datetime:
    """The hour a sweep at ``now`` is in: the reports a sweep renders are rendered again
    once an hour (their times and the period move on), and within the hour only when what
    they show changed (a ticket file: every deadline or warning crossed is written in its
    ticket's `sla:` block), each as of the sweep that renders it, so its counts are the
    sweep's own."""
    return now.replace(minute=0, second=0, microsecond=0)


# What a sweep's reports show, counted: the report's numbers, summary.md's, and how many
# tickets were settled before the period
Counts = tuple[stats.Tally, "SummaryTally", int]


class ReportItems:
    """What a sweep's reports show, counted from cache entries as they come in (from worker
    processes, while the others are still being swept): a :class:`stats.Tally` and a
    :class:`SummaryTally`, not a ticket and an SLA per ticket.

    A ticket settled before the report's period counts only in the totals; any other is
    counted with its SLA as of the sweep's ``now``, from the cache alone, ranked by its
    file name (the records' order).
    """

    def __init__(self, catalog: Catalog, now: dt.datetime, period: stats.Period) -> None:
        from esc.report.render import SummaryTally

        self.catalog = catalog
        self.as_of = now
        self.period = period
        self.tally = stats.Tally(catalog.config, self.as_of, self.period)
        self.summary = SummaryTally(catalog.config, self.as_of)
        self.found: dict[str, CachedFile] = {}  # name -> the entry counted
        self.settled = 0
        self.complete = True  # False: the counts cannot answer (see :meth:`counted`)
        self.folder = catalog.workspace.tickets_dir

    def add(self, name: str, entry: CachedFile) -> None:
        if entry.status is None or not self.complete:
            return  # a file that does not parse: not a ticket of the reports
        if name in self.found:
            self.complete = False  # counted already with another entry: cannot be undone
            return
        record = Record(name, self.folder, entry)
        if self.catalog.settled_before(record, self.period.since):
            self.found[name] = entry
            self.settled += 1
            return
        sla = self.catalog.kept_sla_near(record, self.as_of)
        if sla is None:
            self.complete = False
            return
        self.found[name] = entry
        self.tally.add(record.ticket, sla, name)
        self.summary.add(record.ticket, sla, name)

    def counted(self, records: list[Record]) -> Counts | None:
        """The counts over ``records`` (those not yet counted are counted now) and how many
        are settled; None if the cache cannot answer for one of them, if one was counted
        with an entry it no longer has, or if the counts hold a ticket not in ``records``
        (the caller then reads every ticket afresh)."""
        names = [r.name for r in records]
        if names != sorted(names):
            return None  # (ranked by name: the order must be the names')
        for record in records:
            known = self.found.get(record.name)
            if known is None:
                self.add(record.name, record.entry)
            elif known is not record.entry:
                return None
        if not self.complete or len(self.found) != len(records):
            return None
        return self.tally, self.summary, self.settled


SWEEP_REPORTS = ("summary.md", "index.html", "report.json")
SUMMARY_TEMPLATE = "summary.md.j2"


def prepare_sweep_reports(workspace: Workspace) -> None:
    """Load the templates of the reports a sweep renders, before it renders them (while
    workers sweep: the process forked to render beside this one then has them too)."""
    from esc.report.render import TEMPLATE_OF, load_templates

    names = (SUMMARY_TEMPLATE, TEMPLATE_OF["html"])
    try:  # only a head start: rendering reports any error (esc's own or a template's)
        load_templates(names, workspace.root / TEMPLATES_DIR, compiled_templates_dir())
    except Exception as exc:
        fallback(f"templates not loaded ahead ({type(exc).__name__}: {exc}); loaded when rendered")


def links_to(root: Path, folder: Path) -> str:
    """The path from a report in ``folder`` to the workspace at ``root``, as its links to
    ticket files start (``../`` from ``reports/``; empty from the workspace itself; the
    absolute path when no relative one exists)."""
    try:
        rel = os.path.relpath(os.path.realpath(root), os.path.realpath(folder))
    except ValueError:  # (another drive)
        return str(root) + "/"
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


def write_sweep_reports(
    catalog: Catalog,
    records: list[Record],
    now: dt.datetime,
    period: stats.Period,
    folder: Path,
    dry_run: bool,
    gathered: ReportItems | None = None,
    parts: Collection[str] = SWEEP_REPORTS,
    broken: Sequence[ParseError] = (),
) -> list[str]:
    """Write the files a sweep renders (those named in ``parts``) into ``folder``, each a
    few thousand pieces at a time as it is rendered (never one whole text: at 100,000 open
    tickets index.html and report.json are ~70 MB each), unless it holds that text
    already; the names of those that changed (with ``dry_run``: would change)."""
    links = links_to(catalog.workspace.root, folder)
    made = sweep_report_pieces(catalog, records, now, period, gathered, parts, links, broken)
    return _write_pieces(catalog, made, folder, dry_run)


def write_counted_reports(
    catalog: Catalog,
    counts: Counts,
    now: dt.datetime,
    folder: Path,
    dry_run: bool,
    parts: Collection[str] = SWEEP_REPORTS,
    broken: Sequence[ParseError] = (),
) -> list[str]:
    """:func:`write_sweep_reports` from the counts made already (``ReportItems.counted``),
    so that no ticket need be held while the reports are rendered."""
    links = links_to(catalog.workspace.root, folder)
    made = _pieces(catalog, counts, now, parts, links, broken)
    return _write_pieces(catalog, made, folder, dry_run)


def _write_pieces(
    catalog: Catalog, made: dict[str, Iterator[str]], folder: Path, dry_run: bool
) -> list[str]:
    workspace = catalog.workspace
    return [
        name
        for name, pieces in made.items()
        if workspace.write_pieces_if_changed(folder / name, pieces, dry_run)
    ]


def sweep_report_pieces(
    catalog: Catalog,
    records: list[Record],
    now: dt.datetime,
    period: stats.Period,
    gathered: ReportItems | None = None,
    parts: Collection[str] = SWEEP_REPORTS,
    links: str = "../",
    broken: Sequence[ParseError] = (),
) -> dict[str, Iterator[str]]:
    """The files a sweep renders (those named in ``parts``), as of ``now`` (see
    :func:`render_hour`), each as the pieces its renderer yields.

    ``gathered`` holds the reports' tickets and SLAs if they were gathered already;
    ``links`` is the path from the reports' folder to the workspace (:func:`links_to`);
    ``broken``, the ticket files that do not parse (a ticket that does not fit the
    configuration is found here: the cache's counts never hold one, see ReportItems).
    """
    broken = list(broken)
    from esc.report.render import SummaryTally

    as_of = now
    ready = gathered.counted(records) if gathered is not None else None
    if ready is None:
        tally = stats.Tally(catalog.config, as_of, period)
        summary = SummaryTally(catalog.config, as_of)
        settled = 0
        for record in records:
            if catalog.settled_before(record, period.since):
                settled += 1
                continue
            built = record.doc is None  # (its ticket comes from the cache: dropped again)
            broken += catalog.misfits(record)  # (counted, and a finding)
            ticket, sla = record.ticket, sla_for_report(catalog, record, as_of)
            tally.add(ticket, sla)
            summary.add(ticket, sla)
            if built:
                record.release()
        ready = tally, summary, settled
    return _pieces(catalog, ready, now, parts, links, broken)


def _pieces(
    catalog: Catalog,
    counts: Counts,
    now: dt.datetime,
    parts: Collection[str],
    links: str,
    broken: Sequence[ParseError] = (),
) -> dict[str, Iterator[str]]:
    from esc.report.render import render_pieces, report_pieces

    tally, summary, settled = counts
    overrides = catalog.workspace.root / TEMPLATES_DIR
    compiled = compiled_templates_dir()
    pieces: dict[str, Iterator[str]] = {}
    if not parts:
        return pieces
    found = load_kb(catalog.workspace.root, categories=catalog.config.categories)
    folder = catalog.workspace.tickets_dir
    named = [(catalog.workspace.rel(folder / name), kb) for name, kb in tally.kb_named]
    # (a `kb:` naming an article kb/ lacks: a finding in the sweep's reports as in
    # `esc report`'s; it was in the one alone: audit helper-472)
    broken = [*broken, *_unknown_articles(catalog, named, found.ids())]
    report = tally.report(settled, found.articles, broken)
    if "summary.md" in parts:  # the summary, then the whole report in Markdown
        data = {**summary.data(), "links": links}
        pieces["summary.md"] = itertools.chain(
            render_pieces(SUMMARY_TEMPLATE, data, overrides, compiled),
            ("\n",),
            report_pieces(report, "markdown", overrides, links, compiled),
        )
    if "index.html" in parts:
        pieces["index.html"] = report_pieces(report, "html", overrides, links, compiled)
    if "report.json" in parts:
        pieces["report.json"] = report_pieces(report, "json")
    return pieces
