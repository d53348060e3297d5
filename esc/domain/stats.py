"""The numbers of a report: backlog, SLA compliance, escalations, collaboration, speed,
satisfaction, trend.

Pure: takes tickets, the configuration, ``now`` and the period; returns plain data with
stable keys (the JSON report is exactly this).  Definitions, so every format agrees (the
summary, ``esc check`` and the sweep's output count with the same words, through
:func:`standing`):

* the period is [since, until); a ticket counts for it by the time of the event counted
  (created, resolved, escalated, closed, a clock's outcome);
* ``team`` keeps tickets that are with that team now, were escalated away from it, or
  asked it for help (:func:`keep`);
* *active tickets* are those whose status is new, open or pending (the status ``open`` is
  one of three); the backlog is the active tickets as of ``now``;
* an *overdue ticket* is an active ticket with a running clock past its deadline; a
  ticket *in warning* has a running clock in warning and none past its deadline: each
  active ticket is overdue, in warning or neither (:func:`standing`), as of ``now``;
* *breached clocks* (``breached_now``) are the running clocks past their deadline of the
  active tickets, as of ``now``: an overdue ticket has one or more; *clocks in warning*
  likewise;
* a clock *finishes* when it stops: *met* if in time, *breached* if late (a breached clock
  a change of policy ended finishes then, breached); *breaches* counts the clocks whose
  deadline passed in the period (whether they have stopped since or not), and *SLA
  compliance* is the share met of the clocks that finished in the period (a clock still
  running is not counted, past its deadline or not: it is among the breached now);
* a *level-1 resolution* is a ticket resolved in the period by a level-1 team that was
  never escalated to another team (a priority escalation does not count); it *used an
  article* when it records one (``kb:``); an article is *stale* when its ``updated`` date
  is more than 180 days before ``now``;
* *collaboration*: a ticket is *worked by several teams* when two or more teams took part
  in it (the teams it belonged to, by its escalations and re-routings, and the teams
  asked in requests)
  and it was active at some time in the period; *open requests* are those open at ``now``
  of the active tickets, per team asked, with their age; *OLA compliance* is SLA
  compliance over the requests' own clocks (the policy's ``collaboration`` target);
* percentiles use the nearest-rank method; the median is the middle value (or the mean of
  the two middle values); durations are in seconds.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from esc.domain.config import Config
from esc.domain.errors import ParseError
from esc.domain.kb import STALE_AFTER, Article, id_order
from esc.domain.model import (
    ACTIVE_STATUSES,
    CUSTOMER_METRICS,
    ESCALATION_KINDS,
    Ticket,
    field_changes,
    whole_number,
)
from esc.domain.records import immutable
from esc.domain.sla import (
    Clock,
    Sla,
    breached_at,
    earlier_reply_clocks,
    ended_breaches,
    request_clocks,
    status_timeline,
    stopped_with_ticket,
)
from esc.domain.timestamps import format_timestamp

# An active ticket's age, in days from its creation to ``now`` (0 for one created after
# ``now``), falls in the bucket (name, lo, hi) with ``lo <= days < hi``.
AGING = (("<1d", 0, 1), ("1-3d", 1, 3), ("3-7d", 3, 7), (">7d", 7, None))
# AGING as bisect needs it (an age below 1 day, or negative: the first bucket): the lower
# limits past the first, and the names
_AGING_LIMITS = [dt.timedelta(days=lo) for _, lo, _ in AGING[1:]]
_AGING_NAMES = [name for name, _, _ in AGING]
_DONE = ("resolved", "closed")  # (the statuses whose resolved_at counts: _resolved_at)
_NONE: list[Any] = []  # (no escalations in the period: never appended to)
_UNKNOWN: Any = object()  # (a team's level not looked up yet)
# What a Tally is set up with rather than counts (Tally.counts leaves them out), and the
# lists of rows that hold their ticket's rank (at that index)
_SETTINGS = frozenset(
    {"config", "now", "period", "team", "weeks", "parts", "starts", "first", "last", "_levels"}
)
_RANKED = {"breached": 0, "warning": 0, "several": 0, "open_rows": 0, "given": 2}
TOP_REASONS = 10


@immutable
class Period:
    since: dt.datetime
    until: dt.datetime
    # the instants its weeks start at (each Monday's midnight, and the one after the last
    # week), when they are local midnights whose offset may change within it (a period of
    # this machine's local time across a change of summer time); else () and its weeks are
    # cut at midnight in the offset of its end
    week_starts: tuple[dt.datetime, ...] = ()

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, dt.datetime) and self.since <= moment < self.until


Standing = Literal["overdue", "warning", "ok"]


def standing(sla: Sla) -> Standing:
    """Where an active ticket stands as of the SLA's ``now``: ``overdue`` (a running clock is
    past its deadline), else ``warning`` (a running clock is in warning), else ``ok``."""
    return _standing(sla.overdue_clocks, sla.warning_clocks)


def _standing(overdue: Sequence[Clock], warning: Sequence[Clock]) -> Standing:
    """:func:`standing` of an SLA whose overdue and warning clocks these are."""
    if overdue:
        return "overdue"
    return "warning" if warning else "ok"


def default_period(now: dt.datetime, days: int = 30) -> Period:
    """The ``days`` up to and including ``now``: what happened at ``now`` itself counts (a
    ticket created and closed at one ``--now``, a sweep's escalation at its own instant)."""
    return Period(now - dt.timedelta(days=days), now + UP_TO_NOW)


# A period that ends at ``now`` ends just after it: esc's times are whole seconds, and one
# at ``now`` is in the period (shown as ``now``: a timestamp is written to the second).
UP_TO_NOW = dt.timedelta(microseconds=1)


CUSTOMER = frozenset(CUSTOMER_METRICS)  # (the clocks SLA compliance counts)


def keep(ticket: Ticket, team: str | None) -> bool:
    """Whether a report of ``team`` (None: of every team) counts ``ticket``: the team has
    it, had it before an escalation (or a re-routing) took it away, or was asked for help
    on it."""
    if team is None:
        return True
    return (
        ticket.team == team
        or any(old == team for _, old, _ in ticket.team_moves())
        or any(r.team == team for r in ticket.requests)
    )


class PeriodJson(TypedDict):
    since: str
    until: str
    now: str
    team: str | None
    days: float


class TotalsJson(TypedDict):
    tickets: int
    created: int
    resolved: int
    closed: int
    escalations: int
    breaches: int


class ReportJson(TypedDict):
    """The numbers of a report: report.json, and what every format renders."""

    period: PeriodJson
    totals: TotalsJson
    backlog: dict[str, Any]
    sla: dict[str, Any]
    escalations: dict[str, Any]
    collaboration: dict[str, Any]
    speed: dict[str, Any]
    satisfaction: dict[str, Any]
    trend: list[dict[str, Any]]
    knowledge_base: dict[str, Any]
    # ticket files that do not parse or validate: {file, line, message} (a finding)
    broken: list[dict[str, Any]]


def build(
    items: Iterable[tuple[Ticket, Sla]],
    config: Config,
    now: dt.datetime,
    period: Period,
    team: str | None = None,
    settled: int = 0,
    articles: Sequence[Article] = (),
) -> ReportJson:
    """Every number of the report.

    ``settled`` counts further tickets that were resolved or closed before the period and
    had nothing happen since (no clock, escalation, entry or timestamp in or after it): they
    count in ``totals.tickets`` and nowhere else, so callers may leave them out of ``items``.
    ``items`` may be a generator: each pair is counted as it comes (:class:`Tally`).
    """
    tally = Tally(config, now, period, team)
    for ticket, sla in items:
        tally.add(ticket, sla)
    return tally.report(settled, articles)


Rank = int | str  # where a ticket comes in the report's order (ties in its lists)


def _ranked(rows: list[tuple[Rank, dict[str, Any]]], key: str, sign: int) -> list[dict[str, Any]]:
    """``rows`` by ``sign * row[key]``, ties in the tickets' order."""
    return [row for _, row in sorted(rows, key=lambda r: (sign * r[1][key], r[0]))]


class _Rate:
    """Clocks finished: how many, how many met."""

    __slots__ = ("met", "total")

    def __init__(self) -> None:
        self.met = self.total = 0

    def add(self, clock: Clock) -> None:
        self.count(clock.state == "met")

    def count(self, met: bool, clocks: int = 1) -> None:
        self.total += clocks
        self.met += met * clocks

    def json(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "breached": self.total - self.met,
            "total": self.total,
            "rate": _rate(self.met, self.total),
        }


# The row of the tickets (or clocks) whose team, level or priority the configuration does
# not have (a team renamed in teams.yaml, a misspelt priority): counted, so that the rows
# add up, and each such ticket is a finding of its own
UNKNOWN_TEAM = "(unknown team)"
UNKNOWN_LEVEL = "?"
UNKNOWN_PRIORITY = "(unknown priority)"


def _with_unknown(rows: dict[str, int], counts: Counter[str], name: str) -> dict[str, int]:
    """``rows`` and, if ``counts`` holds keys ``rows`` lacks, their sum as row ``name``."""
    unknown = sum(n for key, n in counts.items() if key not in rows)
    if unknown:
        rows[name] = unknown
    return rows


Duration = tuple[int | None, str, float, float | None]  # level, priority, wall, working seconds


def _score_with(ticket: Ticket, at: dt.datetime) -> int | None:
    """The score the customer had given by ``at``: the feedback written then goes with it
    (a later survey's score is the later feedback's); by the log's ``csat`` lines, or the
    file's score where the log has none."""
    changes = [line for line in field_changes(ticket.activity, "csat") if line.at <= at]
    if not changes:
        return ticket.csat
    score = changes[-1].new
    number = None if score is None else whole_number(score)
    return ticket.csat if number is None else number


class Tally:
    """The report's numbers, counted one (ticket, SLA) at a time: it keeps the counts and
    the rows the report shows (clocks breached or in warning, open requests, tickets worked
    by several teams, feedback, durations of the period), not the tickets and their SLAs,
    so memory does not grow with a Ticket and an Sla per ticket.

    :meth:`add` each pair once, with its ``rank`` in the report's order (by default the
    order added; ties in the report's sorted lists keep it), then :meth:`report`.
    """

    def __init__(
        self, config: Config, now: dt.datetime, period: Period, team: str | None = None
    ) -> None:
        self.config, self.now, self.period, self.team = config, now, period, team
        self.count = 0
        self.totals = Counter[str]()
        self._levels: dict[str, int | None] = {}  # (config.level, by team)
        # backlog
        self.active = 0
        self.by_team = Counter[str]()
        self.by_level = Counter[int | None]()
        self.by_priority = Counter[str]()
        self.by_status = Counter[str]()
        self.aging = Counter[str]()
        # SLA
        self.finished = Counter[tuple[str, str, str, bool]]()  # (metric, team, priority, met)
        self.standings = Counter[str]()
        self.breached: list[_KeptClock] = []
        self.warning: list[_KeptClock] = []
        # escalations
        self.records = 0
        self.by_kind = Counter[str]()
        self.flow = Counter[tuple[str | None, str]]()
        self.reasons = Counter[str]()
        self.by_rule = 0
        self.created = self.escalated_created = 0
        self.resolved = self.first_contact = 0
        # collaboration
        self.several: list[tuple[Rank, str, str, str, tuple[str, ...]]] = []
        self.open_rows: list[tuple[Rank, dict[str, Any]]] = []
        self.ola = _Rate()
        self.asked = self.answered = self.declined = 0
        # speed
        self.first_response: list[Duration] = []
        self.resolution: list[Duration] = []
        # satisfaction
        self.scores = Counter[int]()
        self.given: list[tuple[dt.datetime, str, Rank, int, dict[str, Any]]] = []
        # trend
        weeks = _weeks(period)
        self.weeks = weeks
        self.parts = [Period(max(w.since, period.since), min(w.until, period.until)) for w in weeks]
        self.trend = {name: [0] * len(weeks) for name in TREND}
        self.starts = [part.since for part in self.parts]
        self.first = self.parts[0].since if self.parts else period.until
        self.last = self.parts[-1].until if self.parts else period.until
        # knowledge base
        self.level_1 = self.with_article = 0
        self.used = Counter[str]()
        self.escalated_categories = Counter[str]()
        # (file name, article) of each ticket counted whose `kb:` names one, open or
        # resolved in the period: checked against kb/ by who renders the report
        self.kb_named: list[tuple[str, str]] = []

    def _level_of(self, team: str) -> int | None:
        """``config.level(team)``, asked once a team."""
        level = self._levels.get(team, _UNKNOWN)
        if level is _UNKNOWN:
            level = self._levels[team] = self.config.level(team)
        return level  # type: ignore[no-any-return]

    def add(self, ticket: Ticket, sla: Sla, rank: Rank | None = None) -> None:
        """Count one ticket with its SLA as of ``now`` (nothing if the team leaves it out).

        (Called once per ticket of the report, 100,000 times on a large workspace: each
        test of a moment against the period is written out, and what most tickets lack,
        escalations, requests, feedback, is skipped before anything is made for it.)
        """
        if self.team is not None and not keep(ticket, self.team):
            return
        order: Rank = self.count if rank is None else rank
        self.count += 1
        now = self.now
        since, until = self.period.since, self.period.until
        team, priority, status = ticket.team, ticket.priority, ticket.status
        created, escalations, requests = ticket.created, ticket.escalations, ticket.requests
        resolved = ticket.resolved_at if status in _DONE else None  # (_resolved_at)
        created_in = since <= created < until
        resolved_in = resolved is not None and since <= resolved < until
        closed_at = ticket.closed_at
        closed_in = closed_at is not None and since <= closed_at < until
        moves = [e for e in escalations if since <= e.at < until] if escalations else _NONE
        # (moved from team to team: by escalations, or re-routed by `classify`)
        moved = bool(escalations) or bool(field_changes(ticket.activity, "team"))
        totals = self.totals  # (a count that would not change is not touched)
        if created_in:
            totals["created"] += 1
        if resolved_in:
            totals["resolved"] += 1
        if closed_in:
            totals["closed"] += 1
        if moves:
            totals["escalations"] += len(moves)
        level = self._level_of(team)
        active = status in ACTIVE_STATUSES
        # backlog
        if active:
            self.active += 1
            self.by_team[team] += 1
            self.by_level[level] += 1
            self.by_priority[priority] += 1
            self.by_status[status] += 1
            age = now - created
            self.aging[_AGING_NAMES[bisect.bisect_right(_AGING_LIMITS, age)]] += 1
        # SLA: each clock's outcome (if it finished in the period), breaches, the trend, and
        # the running clocks overdue or in warning (Sla.overdue_clocks, .warning_clocks)
        breaches = 0
        overdue: list[Clock] = []
        warning: list[Clock] = []
        stopped_first: Clock | None = None  # (_clock(sla, "first_response"))
        breached_weeks: set[int] = set()  # (the trend counts the ticket once a week)
        clocks: Sequence[Clock] = sla.clocks
        if len(ticket.entries) >= 4:  # (a message and a reply twice: reply cycles answered
            # before the latest, whose clocks the SLA does not hold, count too)
            clocks = (*earlier_reply_clocks(ticket, sla.policy, now), *clocks)
        for clock in clocks:
            state = clock.state
            stop = clock.stop
            # (compliance, breaches and the trend are the customer's SLA: the OLA of
            # requests is counted apart, in the Collaboration part)
            customer = clock.metric in CUSTOMER
            if customer and state == "breached":
                breached = breached_at(clock)
                if breached is not None:
                    if since <= breached < until:
                        breaches += 1
                    breached_weeks.add(self._week_of(breached))
            finished = finished_at(clock)
            if finished is not None and since <= finished < until and customer:
                held = ticket.team_at(finished) if moved else team
                self.finished[(clock.metric, held, priority, state == "met")] += 1
            if stop is None:
                if state == "breached":
                    overdue.append(clock)
                elif state == "warning":
                    warning.append(clock)
            elif stopped_first is None and clock.metric == "first_response":
                stopped_first = clock
        for breached, ended, metric in ended_breaches(ticket):  # (its policy lines alone read)
            # (a clock of an earlier policy, breached, then ended by the change of policy
            # its own escalation made: finished, late, when the change ended it; the breach
            # is the team's that held the ticket; not one a policy selected again has back,
            # counted with the clocks above)
            if any(c.metric == metric and breached_at(c) == breached for c in clocks):
                continue
            if since <= breached < until:
                breaches += 1
            if since <= ended < until:
                held = ticket.team_at(ended) if moved else team
                self.finished[(metric, held, priority, False)] += 1
            breached_weeks.add(self._week_of(breached))
        if breaches:
            totals["breaches"] += breaches
        if active:
            self.standings[_standing(overdue, warning)] += 1
            if overdue:
                self.breached += [_kept_clock(order, ticket, c, now) for c in overdue]
            if warning:
                self.warning += [_kept_clock(order, ticket, c, now) for c in warning]
        # escalations
        if moves:
            self.records += len(moves)
            for e in moves:
                self.by_kind[e.kind] += 1
                if e.kind != "priority":
                    self.flow[(e.from_, e.to)] += 1
                self.reasons[" ".join(e.reason.split())] += 1
                self.by_rule += e.by.startswith("rule:")
        # (an escalation after the period's end is not the period's: a report on a past
        # period says the same later)
        escalated = bool(escalations) and any(e.at < until for e in escalations)
        if created_in:
            self.created += 1
            self.escalated_created += escalated
        if resolved_in:
            self.resolved += 1
            self.first_contact += not escalated and level == 1
        # collaboration (a ticket with neither escalations nor requests had one team)
        if (moved or requests) and _active_in(ticket, self.period):
            teams = teams_of(ticket, self.period.until)
            if len(teams) > 1:
                self.several.append((order, ticket.id, ticket.title, team, teams))
        if requests:
            if active:
                self.open_rows += [
                    (
                        order,
                        {
                            "id": ticket.id,
                            "title": ticket.title,
                            "team": r.team,
                            "person": r.person,
                            "asked": format_timestamp(r.asked.astimezone(now.tzinfo)),
                            "age_seconds": max(0, int((now - r.asked).total_seconds())),
                            "file": f"tickets/{ticket.id}.md",
                        },
                    )
                    for r in ticket.open_requests(now)
                    if self.team is None or r.team == self.team
                ]
            # (with --team: its own queue, the requests asked of it, and their OLA)
            steps = status_timeline(ticket, now)
            olas = request_clocks(ticket, sla.policy, now, steps)
            for r, c in zip(requests, olas, strict=True):
                if self.team is not None and r.team != self.team:
                    continue
                # (finished by its team: answered or declined; a request left open when
                # the ticket was resolved was never answered, even if answered since: not
                # met, breached if its deadline passed first)
                answered = r.closed is not None and stopped_with_ticket(r, steps, now) is None
                if c is not None and finished_at(c) in self.period and (
                    answered or c.state == "breached"
                ):
                    self.ola.add(c)
                self.asked += r.asked in self.period
                if r.closed in self.period:
                    self.answered += r.state == "answered"
                    self.declined += r.state == "declined"
        # speed
        # (by the level that held the ticket then: support's answer is level 1's, even
        # once an escalation took the ticket up)
        first = ticket.first_response_at
        # (a time before `created`, edited by hand, makes no negative duration: left out, as
        # its clock counts none; `esc validate` names it)
        if first is not None and since <= first < until and first >= created:
            stopped = stopped_first
            wall = (first - created).total_seconds()
            work = stopped.used.total_seconds() if stopped else None
            then = self._level_of(ticket.team_at(first)) if moved else level
            self.first_response.append((then, priority, wall, work))
        if resolved is not None and resolved_in and resolved >= created:
            stopped = _clock(sla, "resolution")
            wall = (resolved - created).total_seconds()
            work = stopped.used.total_seconds() if stopped else None
            then = self._level_of(ticket.team_at(resolved)) if moved else level
            self.resolution.append((then, priority, wall, work))
        # satisfaction
        if closed_in:  # (feedback counts with or without a score: the customer said it)
            if ticket.csat is not None:
                self.scores[ticket.csat] += 1
            for n, entry in enumerate(ticket.entries):
                if entry.kind == "feedback" and (
                    ticket.resolved_at is None or entry.at >= ticket.resolved_at
                ):  # feedback from an earlier closing, before a reopen, went with the old rating
                    at = format_timestamp(entry.at.astimezone(now.tzinfo))  # (the report's)
                    said: dict[str, Any] = {
                        "id": ticket.id,
                        "csat": _score_with(ticket, entry.at),
                        "at": at,
                        "text": entry.text,
                    }
                    self.given.append((entry.at, ticket.id, order, n, said))
        # trend (breaches counted with the clocks above)
        if self.first <= created < self.last:
            self.trend["created"][bisect.bisect_right(self.starts, created) - 1] += 1
        if resolved is not None:
            self._week("resolved", resolved)
        for name, weeks in (
            ("breached", breached_weeks),
            ("escalated", {self._week_of(e.at) for e in escalations}),
        ):  # (tickets: one breached twice, or escalated twice, in a week counts once)
            for week in weeks - {-1}:
                self.trend[name][week] += 1
        # knowledge base
        kb = ticket.kb
        if kb is not None and (
            ticket.resolved_at is None or since <= ticket.resolved_at < until
        ):  # (as `esc report` checks them: an article named by a resolution of the period)
            self.kb_named.append((rank if isinstance(rank, str) else f"{ticket.id}.md", kb))
        if resolved_in:
            if level == 1 and not ticket.escalated_teams:
                self.level_1 += 1
                self.with_article += ticket.kb is not None
            if ticket.kb is not None:
                self.used[ticket.kb] += 1
        if ticket.category is not None and moves and any(e.kind != "priority" for e in moves):
            # tickets escalated to another team in the period, by category
            self.escalated_categories[ticket.category] += 1

    def _week(self, name: str, moment: dt.datetime | None) -> None:
        """Count ``moment`` in the trend's week it falls in (if any)."""
        week = self._week_of(moment)
        if week >= 0:
            self.trend[name][week] += 1

    def _week_of(self, moment: dt.datetime | None) -> int:
        """The trend's week ``moment`` falls in; -1 if none."""
        if moment is not None and self.first <= moment < self.last:
            return bisect.bisect_right(self.starts, moment) - 1
        return -1

    def counts(self) -> dict[str, Any]:
        """What this tally has counted, as plain values (for :meth:`merge` into another
        tally with the same settings, in another process)."""
        return {k: v for k, v in vars(self).items() if k not in _SETTINGS}

    def merge(self, counts: Mapping[str, Any]) -> None:
        """Count what another tally with the same settings counted (its :meth:`counts`), as
        if its tickets had been added here after those added so far: its rows rank after
        these, and the report is the one a single tally adding every ticket in turn makes."""
        offset = self.count
        for name, value in counts.items():
            mine = getattr(self, name)
            if name in _RANKED:
                at = _RANKED[name]
                mine += [(*r[:at], r[at] + offset, *r[at + 1 :]) for r in value]
            elif name == "trend":
                for series, weekly in value.items():
                    self.trend[series] = [a + b for a, b in zip(mine[series], weekly, strict=True)]
            elif isinstance(mine, Counter):
                mine.update(value)
            elif isinstance(mine, list):
                mine += value
            elif isinstance(mine, _Rate):
                mine.count(True, value.met)
                mine.count(False, value.total - value.met)
            elif type(mine) is int:
                setattr(self, name, mine + value)
            else:
                raise TypeError(f"Tally.merge: {name} ({type(mine).__name__})")

    def report(
        self,
        settled: int = 0,
        articles: Sequence[Article] = (),
        broken: Sequence[ParseError] = (),
    ) -> ReportJson:
        """Every number of the report (see :func:`build`), and ``broken``: the ticket files
        that do not parse (left out) or do not validate against the configuration
        (counted), each a finding the report shows, in file and line order."""
        period, now = self.period, self.now
        return {
            "period": {
                # (in the report's offset, as every time it shows, but for local midnights
                # across a change of summer time, each in its own: the instants as given)
                "since": format_timestamp(_in_report_offset(period, period.since, now)),
                "until": format_timestamp(_in_report_offset(period, period.until, now)),
                "now": format_timestamp(now),
                "team": self.team,
                "days": round((period.until - period.since).total_seconds() / 86400, 2),
            },
            "totals": {
                "tickets": self.count + settled,
                "created": self.totals["created"],
                "resolved": self.totals["resolved"],
                "closed": self.totals["closed"],
                "escalations": self.totals["escalations"],
                "breaches": self.totals["breaches"],
            },
            "backlog": self._backlog(),
            "sla": self._sla(),
            "escalations": self._escalations(),
            "collaboration": self._collaboration(),
            "speed": {
                "first_response": _durations(self.first_response, self.config),
                "resolution": _durations(self.resolution, self.config),
            },
            "satisfaction": self._satisfaction(),
            "trend": self._trend(),
            "knowledge_base": self._knowledge_base(articles),
            "broken": [
                {"file": path, "line": line or None, "message": message}
                for path, line, message in sorted({(e.path, e.line, e.message) for e in broken})
            ],
        }

    def _backlog(self) -> dict[str, Any]:
        config = self.config
        teams = sorted(config.teams.values(), key=lambda tm: (tm.level, tm.key))
        levels = sorted({tm.level for tm in teams})
        by_level = {str(lv): self.by_level[lv] for lv in levels}
        if self.by_level[None]:  # (a team teams.yaml does not have: its own row, so the
            by_level[UNKNOWN_LEVEL] = self.by_level[None]  # counts add up to the active)
        return {
            "active": self.active,
            "by_team": _with_unknown(
                {tm.key: self.by_team[tm.key] for tm in teams}, self.by_team, UNKNOWN_TEAM
            ),
            "by_level": by_level,
            "by_priority": _with_unknown(
                {p: self.by_priority[p] for p in config.priorities},
                self.by_priority,
                UNKNOWN_PRIORITY,
            ),
            "by_status": {s: self.by_status[s] for s in ACTIVE_STATUSES},
            "aging": {name: self.aging[name] for name, _, _ in AGING},
        }

    def _sla(self) -> dict[str, Any]:
        config = self.config
        overall = _Rate()
        by: dict[tuple[str, str], _Rate] = {}
        for (metric, team, priority, met), clocks in self.finished.items():
            overall.count(met, clocks)
            for key in (("metric", metric), ("team", team), ("priority", priority)):
                by.setdefault(key, _Rate()).count(met, clocks)

        def rate(kind: str, key: str) -> dict[str, Any]:
            return by.get((kind, key), _Rate()).json()

        by_team = {k: rate("team", k) for k in config.teams}
        by_priority = {p: rate("priority", p) for p in config.priorities}
        for kind, known, rows, name in (
            ("team", config.teams, by_team, UNKNOWN_TEAM),
            ("priority", config.priorities, by_priority, UNKNOWN_PRIORITY),
        ):
            unknown = _Rate()  # (clocks of a team or priority the configuration lacks)
            for (of, named), counted in by.items():
                if of == kind and named not in known:
                    unknown.count(True, counted.met)
                    unknown.count(False, counted.total - counted.met)
            if unknown.total:
                rows[name] = unknown.json()
        return {
            "compliance": {
                "overall": overall.json(),
                "by_metric": {m: rate("metric", m) for m in CUSTOMER_METRICS},
                "by_team": by_team,
                "by_priority": by_priority,
            },
            "overdue_tickets": self.standings["overdue"],
            "warning_tickets": self.standings["warning"],
            "breached_clocks": len(self.breached),
            "warning_clocks": len(self.warning),
            "breached_now": _ranked(_clock_rows(self.breached, self.now), "over_seconds", -1),
            "warning_now": _ranked(_clock_rows(self.warning, self.now), "left_seconds", 1),
        }

    def _escalations(self) -> dict[str, Any]:
        flow = self.flow
        # (equal counts in the order a person reads them: `r2` before `r10`)
        reasons = sorted(self.reasons.items(), key=lambda kv: (-kv[1], _natural(kv[0])))
        rest = reasons[TOP_REASONS:]  # (left out of the list: how many, and their escalations)
        return {
            "total": self.records,
            "by_kind": {k: self.by_kind[k] for k in ESCALATION_KINDS},
            "flow": [
                {"from": a, "to": b, "count": n}
                for (a, b), n in sorted(flow.items(), key=lambda kv: (-kv[1], str(kv[0])))
            ],
            "escalated_tickets": self.escalated_created,
            "created_tickets": self.created,
            "rate": _rate(self.escalated_created, self.created),
            "first_contact_resolutions": self.first_contact,
            "resolved_tickets": self.resolved,
            "first_contact_resolution_rate": _rate(self.first_contact, self.resolved),
            "reasons": [{"reason": r, "count": n} for r, n in reasons[:TOP_REASONS]],
            "other_reasons": {"reasons": len(rest), "count": sum(n for _, n in rest)},
            "by_source": {"manual": self.records - self.by_rule, "rule": self.by_rule},
        }

    def _open_by_team(self, open_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The open requests per team asked, with the oldest one's age; those to a team
        teams.yaml lacks (a hand edit) under "(unknown team)", so the rows add up."""
        def row(match: Callable[[str], bool]) -> dict[str, Any]:
            ages = [r["age_seconds"] for r in open_rows if match(r["team"])]
            return {"open": len(ages), "oldest_seconds": max(ages, default=None)}

        out = {k: row(lambda team, k=k: team == k) for k in self.config.teams}  # type: ignore[misc]
        if any(r["team"] not in self.config.teams for r in open_rows):
            out[UNKNOWN_TEAM] = row(lambda team: team not in self.config.teams)
        return out

    def _collaboration(self) -> dict[str, Any]:
        several = [
            {"id": ticket_id, "title": title, "team": team, "teams": list(teams)}
            for _, ticket_id, title, team, teams in sorted(self.several, key=lambda r: r[0])
        ]
        open_rows = _ranked(self.open_rows, "age_seconds", -1)
        return {
            "several_teams": len(several),
            "several_teams_tickets": several,
            "asked": self.asked,
            "answered": self.answered,
            "declined": self.declined,
            "open_requests": len(open_rows),
            "open_by_team": self._open_by_team(open_rows),
            "open_now": open_rows,
            "ola": self.ola.json(),
        }

    def _satisfaction(self) -> dict[str, Any]:
        scores = list(self.scores.elements())
        given = sorted(self.given, key=lambda g: g[:4])
        return {
            "responses": len(scores),
            "average": _half_up(sum(scores), len(scores), 2) if scores else None,
            "distribution": {str(n): self.scores[n] for n in range(1, 6)},
            "feedback": [row for *_, row in given],
        }

    def _trend(self) -> list[dict[str, Any]]:
        rows = []
        for n, week in enumerate(self.weeks):
            iso = week.since.isocalendar()
            rows.append(
                {
                    "week": f"{iso.year}-W{iso.week:02d}",
                    "start": week.since.date().isoformat(),
                    **{name: self.trend[name][n] for name in TREND},
                }
            )
        return rows

    def _knowledge_base(self, articles: Sequence[Article]) -> dict[str, Any]:
        today = self.now.date()
        by_id = {a.id: a for a in articles}
        covered = {c for a in articles for c in a.categories}
        stale = sorted(
            (a for a in articles if today - a.updated > STALE_AFTER),
            key=lambda a: (a.updated, id_order(a.id)),
        )
        return {
            "articles": len(articles),
            "level_1_resolutions": self.level_1,
            "with_article": self.with_article,
            "article_rate": _rate(self.with_article, self.level_1),
            "most_used": [
                {
                    "id": k,
                    "title": by_id[k].title if k in by_id else None,
                    "file": by_id[k].path if k in by_id else None,
                    "count": n,
                }
                for k, n in sorted(
                    self.used.items(), key=lambda kv: (-kv[1], id_order(kv[0]))
                )[:TOP_ARTICLES]
            ],
            "gaps": [
                {"category": c, "escalated": n}
                for c, n in sorted(
                    self.escalated_categories.items(), key=lambda kv: (-kv[1], kv[0])
                )
                if c not in covered
            ],
            "stale_after_days": STALE_AFTER.days,
            "stale": [
                {
                    "id": a.id,
                    "title": a.title,
                    "file": a.path,
                    "updated": a.updated.isoformat(),
                    "days": (today - a.updated).days,
                }
                for a in stale
            ],
        }


def _resolved_at(ticket: Ticket) -> dt.datetime | None:
    return ticket.resolved_at if ticket.status in _DONE else None


TREND = ("created", "resolved", "breached", "escalated")
TOP_ARTICLES = 10


# ---------------------------------------------------------------- SLA


def finished_at(clock: Clock) -> dt.datetime | None:
    """When the clock finished: its stop, met if in time, breached if late; None while it
    runs or is paused (past its deadline or not: it is breached now, not finished)."""
    if clock.state in ("met", "breached"):
        return clock.stop
    return None


class Rate(float):
    """A share (0 to 1) as the reports' JSON holds it, rounded to 4 places, that keeps the
    counts it is of, so that a percentage shown is rounded once, from them: 51 of 101 is
    50% (50.495…), not the 51% that 0.505 rounds to."""

    __slots__ = ("part", "whole")
    part: int
    whole: int

    def __new__(cls, part: int, whole: int) -> Rate:
        rate = super().__new__(cls, round(part / whole, 4))
        rate.part, rate.whole = part, whole
        return rate

    def __reduce__(self) -> tuple[type[Rate], tuple[int, int]]:
        return (Rate, (self.part, self.whole))


def _rate(met: int, total: int) -> Rate | None:
    return Rate(met, total) if total else None


def _half_up(part: int, whole: int, places: int) -> float:
    """``part / whole`` (both ≥ 0) rounded to ``places`` decimals half up, as people round
    (an average score of 4.625 is 4.63: `round` makes it 4.62); exactly, in integers."""
    scale: int = 10**places
    return (2 * part * scale + whole) // (2 * whole) / scale


# A clock row as a Tally keeps it until the report is made: (rank, ticket ID, title, team,
# priority, assignee, metric, due); its dict is made then (:func:`_clock_rows`: as dicts,
# the rows of 100,000 overdue tickets took ~90 MB for as long as the sweep counted them).
_KeptClock = tuple[Rank, str, str, str, str, "str | None", str, dt.datetime]


def _kept_clock(order: Rank, ticket: Ticket, clock: Clock, now: dt.datetime) -> _KeptClock:
    due = clock.due or breached_at(clock) or now
    return (
        order,
        ticket.id,
        ticket.title,
        ticket.team,
        ticket.priority,
        ticket.assignee,
        clock.metric,
        due,
    )


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that orders the numbers in ``text`` by value (`r2` before `r10`)."""
    return tuple(
        (0, int(part)) if part.isascii() and part.isdigit() else (1, part)
        for part in re.split(r"([0-9]+)", text)
        if part
    )


def _clock_rows(kept: list[_KeptClock], now: dt.datetime) -> list[tuple[Rank, dict[str, Any]]]:
    return [(row[0], _clock_row(row, now)) for row in kept]


def _clock_row(row: _KeptClock, now: dt.datetime) -> dict[str, Any]:
    _, ticket_id, title, team, priority, assignee, metric, due = row
    return {
        "id": ticket_id,
        "title": title,
        "team": team,
        "priority": priority,
        "assignee": assignee,
        "metric": metric,
        "due": format_timestamp(due.astimezone(now.tzinfo)),
        "over_seconds": max(0, int((now - due).total_seconds())),
        "left_seconds": max(0, int((due - now).total_seconds())),
        "file": f"tickets/{ticket_id}.md",
    }


# ---------------------------------------------------------------- collaboration


def teams_of(ticket: Ticket, until: dt.datetime | None = None) -> tuple[str, ...]:
    """Every team that took part in the ticket (before ``until``, the end of a report's
    period: a report on a past period says the same later): the teams it belonged to (its
    first team, then each escalation's or re-routing's), then the teams asked in its
    requests; each once."""
    every = ticket.team_moves()
    moves = [m for m in every if until is None or m[0] < until]
    owners = [every[0][1] if every and every[0][1] else ticket.team]
    owners += [new for _, _, new in moves]
    if len(moves) == len(every):
        owners.append(ticket.team)
    asked = [r.team for r in ticket.requests if until is None or r.asked < until]
    return tuple(dict.fromkeys([*owners, *asked]))


def _active_in(ticket: Ticket, period: Period) -> bool:
    """Whether the ticket was active at some time in the period, as its activity log
    tells: one settled all through it and reopened since was not (judged by the status of
    now, a report on last month listed it once it was reopened this month)."""
    if ticket.created >= period.until:
        return False
    resolved = _resolved_at(ticket)
    if resolved is not None and resolved < period.since:
        return False  # (settled before the period, and ever since)
    if ticket.created >= period.since:
        return True
    changes = field_changes(ticket.activity, "status")
    # (its status at the period's start: what the first change after it changed; none
    # since, the status it has now)
    then = next((a.old for a in changes if a.at > period.since), ticket.status)
    return then not in _DONE or any(
        period.since < a.at < period.until and a.new not in _DONE for a in changes
    )


# ---------------------------------------------------------------- speed


def _summary(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "p90": None}
    import statistics

    ordered = sorted(values)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return {
        "count": len(ordered),
        "median": round(float(statistics.median(ordered)), 1),
        "p90": round(float(ordered[rank - 1]), 1),
    }


def _durations(rows: Sequence[Duration], config: Config) -> dict[str, Any]:
    def both(subset: Sequence[Duration]) -> dict[str, Any]:
        return {
            "wall": _summary([wall for _, _, wall, _ in subset]),
            "working": _summary([work for _, _, _, work in subset if work is not None]),
        }

    levels = sorted({tm.level for tm in config.teams.values()})
    by_level = {str(lv): both([r for r in rows if r[0] == lv]) for lv in levels}
    by_priority = {p: both([r for r in rows if r[1] == p]) for p in config.priorities}
    # (a ticket of a team or a priority the configuration lacks: a row of its own, as in
    # the backlog and compliance, so that the rows add up to the overall count)
    unknown = [r for r in rows if r[0] not in levels]
    if unknown:
        by_level[UNKNOWN_LEVEL] = both(unknown)
    unknown = [r for r in rows if r[1] not in config.priorities]
    if unknown:
        by_priority[UNKNOWN_PRIORITY] = both(unknown)
    return {"overall": both(rows), "by_level": by_level, "by_priority": by_priority}


def _clock(sla: Sla, metric: str) -> Clock | None:
    return next((c for c in sla.clocks if c.metric == metric and c.stop is not None), None)


# ---------------------------------------------------------------- trend


def _in_report_offset(period: Period, moment: dt.datetime, now: dt.datetime) -> dt.datetime:
    """``moment`` (an end of ``period``) as the report shows it: in ``now``'s offset, or in
    its own for a period of local midnights (2026-10-19T00:00:00+02:00, not the 18th's
    23:00 in winter's +01:00)."""
    return moment if period.week_starts else moment.astimezone(now.tzinfo)


def _weeks(period: Period) -> list[Period]:
    if period.week_starts:
        starts = period.week_starts
        return [Period(a, b) for a, b in itertools.pairwise(starts)]
    tz = period.until.tzinfo
    start = period.since.astimezone(tz)
    monday = (start - dt.timedelta(days=start.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    weeks = []
    while monday < period.until:
        weeks.append(Period(monday, monday + dt.timedelta(days=7)))
        monday += dt.timedelta(days=7)
    return weeks
