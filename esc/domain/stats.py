"""The numbers of a report: backlog, SLA compliance, escalations, collaboration, speed,
satisfaction, trend.

Pure: takes tickets, the configuration, ``now`` and the period; returns plain data with
stable keys (the JSON report is exactly this).  Definitions, so every format agrees (the
summary, ``esc check`` and the sweep's output count with the same words, through
:func:`standing`):

* the period is [since, until); a ticket counts for it by the time of the event counted
  (created, resolved, escalated, closed, a clock's outcome);
* ``team`` keeps tickets that are with that team now or were escalated away from it;
* *active tickets* are those whose status is new, open or pending (the status ``open`` is
  one of three); the backlog is the active tickets as of ``now``;
* an *overdue ticket* is an active ticket with a running clock past its deadline; a
  ticket *in warning* has a running clock in warning and none past its deadline: each
  active ticket is overdue, in warning or neither (:func:`standing`), as of ``now``;
* *breached clocks* (``breached_now``) are the running clocks past their deadline of the
  active tickets, as of ``now``: an overdue ticket has one or more; *clocks in warning*
  likewise;
* a clock's outcome is decided once: *met* when it stops in time (at its stop), or
  *breached* when its deadline passes first (at its deadline, whether it has stopped since
  or not); *breaches* counts the clocks breached in the period, and *SLA compliance* is
  the share met of the clocks decided in the period (met in it, or breached in it);
* a *level-1 resolution* is a ticket resolved in the period by a level-1 team that was
  never escalated to another team (a priority escalation does not count); it *used an
  article* when it records one (``kb:``); an article is *stale* when its ``updated`` date
  is more than 180 days before ``now``;
* *collaboration*: a ticket is *worked by several teams* when two or more teams took part
  in it (the teams it belonged to, by its escalations, and the teams asked in requests)
  and it was active at some time in the period; *open requests* are those open at ``now``
  of the active tickets, per team asked, with their age; *OLA compliance* is SLA
  compliance over the requests' own clocks (the policy's ``collaboration`` target);
* percentiles use the nearest-rank method; the median is the middle value (or the mean of
  the two middle values); durations are in seconds.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypedDict

from esc.domain.config import Config
from esc.domain.kb import STALE_AFTER, Article
from esc.domain.model import ACTIVE_STATUSES, ESCALATION_KINDS, METRICS, Ticket
from esc.domain.records import immutable
from esc.domain.sla import Clock, Sla, request_clocks
from esc.domain.timestamps import format_timestamp

AGING = (("<1d", 0, 1), ("1-3d", 1, 3), ("3-7d", 3, 7), (">7d", 7, None))
TOP_REASONS = 10


@immutable
class Period:
    since: dt.datetime
    until: dt.datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, dt.datetime) and self.since <= moment < self.until


Standing = Literal["overdue", "warning", "ok"]


def standing(sla: Sla) -> Standing:
    """Where an active ticket stands as of the SLA's ``now``: ``overdue`` (a running clock is
    past its deadline), else ``warning`` (a running clock is in warning), else ``ok``."""
    if sla.overdue_clocks:
        return "overdue"
    return "warning" if sla.warning_clocks else "ok"


def default_period(now: dt.datetime, days: int = 30) -> Period:
    return Period(now - dt.timedelta(days=days), now)


def keep(ticket: Ticket, team: str | None) -> bool:
    if team is None:
        return True
    return ticket.team == team or any(
        e.from_ == team for e in ticket.escalations if e.kind != "priority"
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


def build(
    items: Sequence[tuple[Ticket, Sla]],
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
    """
    chosen = [(t, s) for t, s in items if keep(t, team)]
    return {
        "period": {
            "since": format_timestamp(period.since),
            "until": format_timestamp(period.until),
            "now": format_timestamp(now),
            "team": team,
            "days": round((period.until - period.since).total_seconds() / 86400, 2),
        },
        "totals": _totals(chosen, period, settled),
        "backlog": _backlog(chosen, config, now),
        "sla": _sla(chosen, config, now, period),
        "escalations": _escalations(chosen, config, period),
        "collaboration": _collaboration(chosen, config, now, period),
        "speed": _speed(chosen, config, period),
        "satisfaction": _satisfaction(chosen, period),
        "trend": _trend(chosen, period),
        "knowledge_base": _knowledge_base(chosen, config, now, period, articles),
    }


def _totals(items: Sequence[tuple[Ticket, Sla]], period: Period, settled: int) -> TotalsJson:
    tickets = [t for t, _ in items]
    return {
        "tickets": len(tickets) + settled,
        "created": sum(t.created in period for t in tickets),
        "resolved": sum(_resolved_at(t) in period for t in tickets),
        "closed": sum(t.closed_at in period for t in tickets),
        "escalations": sum(e.at in period for t in tickets for e in t.escalations),
        "breaches": sum(1 for _, s in items for c in s.clocks if _breached_in(c, period)),
    }


def _resolved_at(ticket: Ticket) -> dt.datetime | None:
    return ticket.resolved_at if ticket.status in ("resolved", "closed") else None


# ---------------------------------------------------------------- backlog


def _backlog(
    items: Sequence[tuple[Ticket, Sla]], config: Config, now: dt.datetime
) -> dict[str, Any]:
    active = [t for t, _ in items if t.status in ACTIVE_STATUSES]
    teams = sorted(config.teams.values(), key=lambda tm: (tm.level, tm.key))
    levels = sorted({tm.level for tm in teams})
    return {
        "active": len(active),
        "by_team": {tm.key: sum(t.team == tm.key for t in active) for tm in teams},
        "by_level": {str(lv): sum(config.level(t.team) == lv for t in active) for lv in levels},
        "by_priority": {p: sum(t.priority == p for t in active) for p in config.priorities},
        "by_status": {s: sum(t.status == s for t in active) for s in ACTIVE_STATUSES},
        "aging": {
            name: sum(_in_bucket(_age(t, now), lo, hi) for t in active) for name, lo, hi in AGING
        },
    }


def _age(ticket: Ticket, now: dt.datetime) -> dt.timedelta:
    """How old the ticket is at ``now``; 0 for one created after ``now``."""
    return max(now - ticket.created, dt.timedelta(0))


def _in_bucket(age: dt.timedelta, lo: int, hi: int | None) -> bool:
    days = age.total_seconds() / 86400
    return days >= lo and (hi is None or days < hi)


# ---------------------------------------------------------------- SLA


def breached_at(clock: Clock) -> dt.datetime | None:
    """When a breached clock's deadline passed (None: the clock is not breached).  A clock
    paused past its deadline has no due time: the deadline it crossed counts."""
    if clock.state != "breached":
        return None
    if clock.due is not None:
        return clock.due
    return clock.marks[-1] if clock.marks else None


def decided_at(clock: Clock) -> dt.datetime | None:
    """When the clock's outcome was decided: met at its stop, breached at its deadline;
    None while it is undecided (running, not past its deadline)."""
    if clock.state == "met":
        return clock.stop
    return breached_at(clock)


def _breached_in(clock: Clock, period: Period) -> bool:
    """A deadline that passed in the period without the clock stopping in time."""
    return breached_at(clock) in period


def _rate(met: int, total: int) -> float | None:
    return round(met / total, 4) if total else None


def _compliance(clocks: Iterable[Clock]) -> dict[str, Any]:
    decided = list(clocks)
    met = sum(c.state == "met" for c in decided)
    return {
        "met": met,
        "breached": len(decided) - met,
        "total": len(decided),
        "rate": _rate(met, len(decided)),
    }


def _sla(
    items: Sequence[tuple[Ticket, Sla]], config: Config, now: dt.datetime, period: Period
) -> dict[str, Any]:
    decided = [(t, c) for t, s in items for c in s.clocks if decided_at(c) in period]
    active = [(t, s) for t, s in items if t.active]
    standings = Counter(standing(s) for _, s in active)
    breached = [_clock_row(t, c, now) for t, s in active for c in s.overdue_clocks]
    warning = [_clock_row(t, c, now) for t, s in active for c in s.warning_clocks]
    return {
        "compliance": {
            "overall": _compliance(c for _, c in decided),
            "by_metric": {m: _compliance(c for _, c in decided if c.metric == m) for m in METRICS},
            "by_team": {
                k: _compliance(c for t, c in decided if t.team == k) for k in config.teams
            },
            "by_priority": {
                p: _compliance(c for t, c in decided if t.priority == p) for p in config.priorities
            },
        },
        "overdue_tickets": standings["overdue"],
        "warning_tickets": standings["warning"],
        "breached_clocks": len(breached),
        "warning_clocks": len(warning),
        "breached_now": sorted(breached, key=lambda r: -r["over_seconds"]),
        "warning_now": sorted(warning, key=lambda r: r["left_seconds"]),
    }


def _clock_row(ticket: Ticket, clock: Clock, now: dt.datetime) -> dict[str, Any]:
    due = clock.due or breached_at(clock) or now
    return {
        "id": ticket.id,
        "title": ticket.title,
        "team": ticket.team,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "metric": clock.metric,
        "due": format_timestamp(due.astimezone(now.tzinfo)),
        "over_seconds": max(0, int((now - due).total_seconds())),
        "left_seconds": max(0, int((due - now).total_seconds())),
        "file": f"tickets/{ticket.id}.md",
    }


# ---------------------------------------------------------------- collaboration


def teams_of(ticket: Ticket) -> tuple[str, ...]:
    """Every team that took part in the ticket: the teams it belonged to (its first team,
    then each escalation's), then the teams asked in its requests; each once."""
    moves = [e for e in ticket.escalations if e.kind != "priority"]
    owners = [moves[0].from_ if moves and moves[0].from_ else ticket.team]
    owners += [e.to for e in moves] + [ticket.team]
    return tuple(dict.fromkeys([*owners, *(r.team for r in ticket.requests)]))


def _active_in(ticket: Ticket, period: Period) -> bool:
    """Whether the ticket was active at some time in the period."""
    resolved = _resolved_at(ticket)
    return ticket.created < period.until and (resolved is None or resolved >= period.since)


def _collaboration(
    items: Sequence[tuple[Ticket, Sla]], config: Config, now: dt.datetime, period: Period
) -> dict[str, Any]:
    several = [
        {"id": t.id, "title": t.title, "team": t.team, "teams": list(teams_of(t))}
        for t, _ in items
        if _active_in(t, period) and len(teams_of(t)) > 1
    ]
    open_rows: list[dict[str, Any]] = [
        {
            "id": t.id,
            "title": t.title,
            "team": r.team,
            "person": r.person,
            "asked": format_timestamp(r.asked),
            "age_seconds": max(0, int((now - r.asked).total_seconds())),
            "file": f"tickets/{t.id}.md",
        }
        for t, _ in items
        if t.active
        for r in t.open_requests(now)
    ]
    open_rows.sort(key=lambda row: -row["age_seconds"])
    clocks = [
        c
        for t, s in items
        for c in request_clocks(t, s.policy, now)
        if c is not None and decided_at(c) in period
    ]
    asked = [r for t, _ in items for r in t.requests if r.asked in period]
    closed = [r for t, _ in items for r in t.requests if r.closed in period]
    return {
        "several_teams": len(several),
        "several_teams_tickets": several,
        "asked": len(asked),
        "answered": sum(r.state == "answered" for r in closed),
        "declined": sum(r.state == "declined" for r in closed),
        "open_requests": len(open_rows),
        "open_by_team": {
            k: {
                "open": sum(row["team"] == k for row in open_rows),
                "oldest_seconds": max(
                    (row["age_seconds"] for row in open_rows if row["team"] == k), default=None
                ),
            }
            for k in config.teams
        },
        "open_now": open_rows,
        "ola": _compliance(clocks),
    }


# ---------------------------------------------------------------- escalations


def _escalations(
    items: Sequence[tuple[Ticket, Sla]], config: Config, period: Period
) -> dict[str, Any]:
    tickets = [t for t, _ in items]
    records = [(t, e) for t in tickets for e in t.escalations if e.at in period]
    flow = Counter((e.from_, e.to) for _, e in records if e.kind != "priority")
    created = [t for t in tickets if t.created in period]
    resolved = [t for t in tickets if _resolved_at(t) in period]
    first_contact = [t for t in resolved if not t.escalations and config.level(t.team) == 1]
    reasons = Counter(" ".join(e.reason.split()) for _, e in records)
    return {
        "total": len(records),
        "by_kind": {k: sum(e.kind == k for _, e in records) for k in ESCALATION_KINDS},
        "flow": [
            {"from": a, "to": b, "count": n}
            for (a, b), n in sorted(flow.items(), key=lambda kv: (-kv[1], str(kv[0])))
        ],
        "escalated_tickets": sum(bool(t.escalations) for t in created),
        "created_tickets": len(created),
        "rate": _rate(sum(bool(t.escalations) for t in created), len(created)),
        "first_contact_resolutions": len(first_contact),
        "resolved_tickets": len(resolved),
        "first_contact_resolution_rate": _rate(len(first_contact), len(resolved)),
        "reasons": [
            {"reason": r, "count": n}
            for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
        ],
        "by_source": {
            "manual": sum(not e.by.startswith("rule:") for _, e in records),
            "rule": sum(e.by.startswith("rule:") for _, e in records),
        },
    }


# ---------------------------------------------------------------- speed


def _summary(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "p90": None}
    ordered = sorted(values)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return {
        "count": len(ordered),
        "median": round(float(statistics.median(ordered)), 1),
        "p90": round(float(ordered[rank - 1]), 1),
    }


def _durations(
    rows: Sequence[tuple[Ticket, float, float | None]], config: Config
) -> dict[str, Any]:
    def both(subset: Sequence[tuple[Ticket, float, float | None]]) -> dict[str, Any]:
        return {
            "wall": _summary([wall for _, wall, _ in subset]),
            "working": _summary([work for _, _, work in subset if work is not None]),
        }

    levels = sorted({tm.level for tm in config.teams.values()})
    return {
        "overall": both(rows),
        "by_level": {
            str(lv): both([r for r in rows if config.level(r[0].team) == lv]) for lv in levels
        },
        "by_priority": {
            p: both([r for r in rows if r[0].priority == p]) for p in config.priorities
        },
    }


def _clock(sla: Sla, metric: str) -> Clock | None:
    return next((c for c in sla.clocks if c.metric == metric and c.stop is not None), None)


def _speed(items: Sequence[tuple[Ticket, Sla]], config: Config, period: Period) -> dict[str, Any]:
    first, resolution = [], []
    for ticket, sla in items:
        if ticket.first_response_at is not None and ticket.first_response_at in period:
            clock = _clock(sla, "first_response")
            wall = (ticket.first_response_at - ticket.created).total_seconds()
            first.append((ticket, wall, clock.used.total_seconds() if clock else None))
        resolved = _resolved_at(ticket)
        if resolved is not None and resolved in period:
            clock = _clock(sla, "resolution")
            wall = (resolved - ticket.created).total_seconds()
            resolution.append((ticket, wall, clock.used.total_seconds() if clock else None))
    return {
        "first_response": _durations(first, config),
        "resolution": _durations(resolution, config),
    }


# ---------------------------------------------------------------- satisfaction and trend


def _satisfaction(items: Sequence[tuple[Ticket, Sla]], period: Period) -> dict[str, Any]:
    rated = [t for t, _ in items if t.csat is not None and t.closed_at in period]
    scores = [t.csat for t in rated if t.csat is not None]
    given = [
        (e.at, t, e)
        for t in rated
        for e in t.entries
        if e.kind == "feedback" and (t.resolved_at is None or e.at >= t.resolved_at)
    ]  # feedback from an earlier closing, before a reopen, went with the old rating
    feedback = [
        {"id": t.id, "csat": t.csat, "at": format_timestamp(e.at), "text": e.text}
        for _, t, e in sorted(given, key=lambda g: (g[0], g[1].id))
    ]
    return {
        "responses": len(scores),
        "average": round(float(statistics.mean(scores)), 2) if scores else None,
        "distribution": {str(n): scores.count(n) for n in range(1, 6)},
        "feedback": feedback,
    }


def _weeks(period: Period) -> list[Period]:
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


def _trend(items: Sequence[tuple[Ticket, Sla]], period: Period) -> list[dict[str, Any]]:
    weeks = _weeks(period)
    parts = [Period(max(w.since, period.since), min(w.until, period.until)) for w in weeks]
    tickets = [t for t, _ in items]
    created = _per_part((t.created for t in tickets), parts)
    resolved = _per_part((_resolved_at(t) for t in tickets), parts)
    breached = _per_part((breached_at(c) for _, s in items for c in s.clocks), parts)
    escalated = _per_part((e.at for t in tickets for e in t.escalations), parts)
    rows = []
    for n, week in enumerate(weeks):
        iso = week.since.isocalendar()
        rows.append(
            {
                "week": f"{iso.year}-W{iso.week:02d}",
                "start": week.since.date().isoformat(),
                "created": created[n],
                "resolved": resolved[n],
                "breached": breached[n],
                "escalated": escalated[n],
            }
        )
    return rows


def _per_part(moments: Iterable[dt.datetime | None], parts: Sequence[Period]) -> list[int]:
    """How many of ``moments`` fall in each of ``parts`` (consecutive periods)."""
    counts = [0] * len(parts)
    if not parts:
        return counts
    starts = [part.since for part in parts]
    first, last = parts[0].since, parts[-1].until
    for moment in moments:
        if moment is not None and first <= moment < last:
            counts[bisect.bisect_right(starts, moment) - 1] += 1
    return counts


# ---------------------------------------------------------------- knowledge base

TOP_ARTICLES = 10


def _knowledge_base(
    items: Sequence[tuple[Ticket, Sla]],
    config: Config,
    now: dt.datetime,
    period: Period,
    articles: Sequence[Article],
) -> dict[str, Any]:
    tickets = [t for t, _ in items]
    resolved = [t for t in tickets if _resolved_at(t) in period]
    level_1 = [t for t in resolved if config.level(t.team) == 1 and not t.escalated_teams]
    by_id = {a.id: a for a in articles}
    used = Counter(t.kb for t in resolved if t.kb is not None)
    covered = {c for a in articles for c in a.categories}
    escalated = Counter(  # tickets escalated to another team in the period, by category
        t.category
        for t in tickets
        if t.category is not None
        and any(e.kind != "priority" and e.at in period for e in t.escalations)
    )
    today = now.date()
    stale = sorted(
        (a for a in articles if today - a.updated > STALE_AFTER), key=lambda a: (a.updated, a.id)
    )
    with_article = sum(t.kb is not None for t in level_1)
    return {
        "articles": len(articles),
        "level_1_resolutions": len(level_1),
        "with_article": with_article,
        "article_rate": _rate(with_article, len(level_1)),
        "most_used": [
            {
                "id": k,
                "title": by_id[k].title if k in by_id else None,
                "file": by_id[k].path if k in by_id else None,
                "count": n,
            }
            for k, n in sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ARTICLES]
        ],
        "gaps": [
            {"category": c, "escalated": n}
            for c, n in sorted(escalated.items(), key=lambda kv: (-kv[1], kv[0]))
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
