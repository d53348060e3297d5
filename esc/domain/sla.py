"""SLA clocks: which policy applies, and each clock's deadline and state at a given time.

Pure: takes a ticket, the configuration and ``now``; returns records. A clock counts working
time of its policy's calendar from its start, leaves out the time the ticket spent in a
``pause_on`` status (and, for resolution, the time it spent resolved before a reopen), and
ignores everything recorded after ``now``, so the SLA "as of" any moment can be computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, TypeVar

from esc.domain.calendar import (
    MAX_HORIZON,
    UTC,
    Calendar,
    CalendarError,
    add_business_time,
    business_time_and_deadlines,
    business_time_between,
)
from esc.domain.choices import did_you_mean, shown, unknown_choice
from esc.domain.conditions import (
    Condition,
    ConditionError,
    EntryError,
    Facts,
    Vocabulary,
    compile_condition,
)
from esc.domain.durations import HINT as DURATION_HINT
from esc.domain.durations import DurationError, format_duration, parse_duration
from esc.domain.model import (
    CUSTOMER_METRICS,
    METRICS,
    SWEEPER,
    Activity,
    ClockState,
    Metric,
    Request,
    Ticket,
    by_esc,
    field_changes,
    line_problem,
)
from esc.domain.records import immutable
from esc.domain.timestamps import fixed_in

POLICY_KEYS = {"name", "when", "calendar", "targets", "warn_at", "pause_on"}
STOPPED_STATUSES = ("resolved", "closed")
# The clocks a reopen resumes where they stopped (the time resolved or closed does not
# count): the resolution, and a request's OLA, which the resolution stops while it is open.
_RESUMED = ("resolution", "collaboration")

Interval = tuple[dt.datetime, dt.datetime]


class PolicyError(EntryError):
    """A policy that cannot be used (see :class:`~esc.domain.conditions.EntryError`)."""


@immutable
class Policy:
    name: str
    when: Condition
    calendar: Calendar
    targets: Mapping[str, dt.timedelta]
    warn_at: float | None = None  # share of the target after which a clock is in warning
    pause_on: tuple[str, ...] = ()


@immutable
class Clock:
    metric: Metric
    target: dt.timedelta
    start: dt.datetime
    stop: dt.datetime | None  # when it was met (or stopped), None while running
    due: dt.datetime | None  # None while paused: it depends on when the pause ends
    warn: dt.datetime | None
    state: ClockState
    used: dt.timedelta  # working time counted so far (or until stop)
    paused: tuple[Interval, ...]  # intervals left out of the count
    marks: tuple[dt.datetime, ...] = ()  # the warning and due instants the clock has crossed
    # Running but paused now (the ticket in a pausing status); a paused clock past its
    # deadline keeps the state "breached", and stands still all the same.
    pausing: bool = False

    @property
    def running(self) -> bool:
        return self.stop is None

    @property
    def left(self) -> dt.timedelta:
        return self.target - self.used


@immutable
class Sla:
    """A ticket's SLA as of ``now``."""

    now: dt.datetime
    policy: Policy | None
    why: str
    clocks: tuple[Clock, ...] = ()

    def states(self) -> dict[str, str]:
        return {c.metric: c.state for c in self.clocks}

    def condition_states(self) -> dict[str, str]:
        """The states conditions see: a clock that has stopped is ``met``, even if late.

        Rules act on what is still running; a late first response that has been given is
        history (the clock's own state stays ``breached`` for reports).
        """
        return {c.metric: "met" if c.stop is not None else c.state for c in self.clocks}

    @property
    def overdue_clocks(self) -> tuple[Clock, ...]:
        """Running clocks past their deadline: something someone must act on now."""
        return tuple(c for c in self.clocks if c.running and c.state == "breached")

    @property
    def warning_clocks(self) -> tuple[Clock, ...]:
        return tuple(c for c in self.clocks if c.running and c.state == "warning")

    @property
    def overdue(self) -> dt.timedelta | None:
        """How long past the earliest deadline a running clock has missed."""
        dues = [c.due for c in self.overdue_clocks if c.due is not None]
        return self.now - min(dues) if dues else None

    @property
    def customer_overdue(self) -> dt.timedelta | None:
        """:attr:`overdue` of the customer's clocks only (not the OLA): what rules see."""
        dues = [
            c.due
            for c in self.overdue_clocks
            if c.due is not None and c.metric in CUSTOMER_METRICS
        ]
        return self.now - min(dues) if dues else None

    def next_due(self) -> dt.datetime | None:
        """The soonest deadline of a running clock, passed already or not (a breached clock
        still running is what most needs doing)."""
        dues = [c.due for c in self.clocks if c.running and c.due]
        return min(dues) if dues else None

    def events_after(self, since: dt.datetime) -> list[dt.datetime]:
        """Warning and due instants in (since, now] that a clock crossed while running."""
        return sorted({m for c in self.clocks for m in c.marks if since < m <= self.now})


# ---------------------------------------------------------------- parsing policies


def parse_policy(
    raw: Mapping[str, object],
    calendars: Mapping[str, Calendar],
    vocabulary: Vocabulary,
    path: str,
) -> Policy:
    unknown = sorted(set(map(str, raw)) - POLICY_KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], sorted(POLICY_KEYS))
        raise PolicyError(f"unknown key {unknown[0]!r}{hint}", unknown[0])
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PolicyError("a policy needs a name", "name")
    problem = line_problem(name)
    if problem is not None:  # (it is written in ticket files, as `sla: policy: NAME`)
        raise PolicyError(f"policy name {name!r} is no name: {problem}", "name")
    try:
        when = compile_condition(
            raw.get("when"), vocabulary, path=f"{path}.when", before_sla="a policy"
        )
    except ConditionError as exc:
        raise PolicyError(str(exc), "when", exc.location) from None
    calendar_name = raw.get("calendar")
    if not isinstance(calendar_name, str) or calendar_name not in calendars:
        known = ", ".join(calendars) or "none defined"
        hint = ""
        if isinstance(calendar_name, str):
            hint = did_you_mean(calendar_name, list(calendars))
        raise PolicyError(
            f"policy {name}: unknown calendar {calendar_name!r}{hint} ({known})", "calendar"
        )
    calendar = calendars[calendar_name]
    targets = _targets(raw.get("targets"), name)
    for metric, target in targets.items():  # (a clock counts its first 10 years only)
        try:
            add_business_time(calendar, _REFERENCE, target)
        except CalendarError:
            raise PolicyError(
                f"policy {name}: {metric}: {format_duration(target, largest='h')} of"
                f" {calendar_name}'s working time takes more than 10 years",
                "targets",
                (metric,),
            ) from None
    return Policy(
        name=name,
        when=when,
        calendar=calendar,
        targets=targets,
        warn_at=_share(raw.get("warn_at"), name),
        pause_on=_statuses(raw.get("pause_on"), name),
    )


# (a target is tried from here: a calendar's working time is the same, year in, year out)
_REFERENCE = dt.datetime(2026, 1, 5, tzinfo=UTC)


def parse_working_duration(value: object, what: str) -> dt.timedelta:
    """A duration of working time: hours and minutes only (a working day differs per calendar)."""
    if value is None or isinstance(value, bool):  # (`resolution: null`, `~`, `true`)
        shown = "null" if value is None else str(value).lower()
        why = "is no duration (write e.g. 24h, or leave the target out)"
        raise PolicyError(f"{what}: {shown} {why}")
    text = str(value).strip()
    if any(unit in text.lower() for unit in ("d", "w", "s")):
        raise PolicyError(f"{what}: {text!r}: working time takes h and m only (e.g. 24h, 1h30m)")
    try:
        duration = parse_duration(text)
    except DurationError as exc:  # (its hint for working time: hours and minutes only)
        said = str(exc).replace(DURATION_HINT, 'use h and m, e.g. "45m", "4h", "1h30m"')
        raise PolicyError(f"{what}: {said}") from None
    if duration <= dt.timedelta(0):
        raise PolicyError(f"{what}: must be longer than zero")
    return duration


def _targets(raw: object, name: str) -> dict[str, dt.timedelta]:
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(f"policy {name}: targets must map metrics to durations", "targets")
    targets = {}
    for metric, value in raw.items():
        if metric not in METRICS:
            unknown = unknown_choice("metric", metric, METRICS)
            raise PolicyError(f"policy {name}: {unknown}", "targets", (metric,))
        try:
            targets[str(metric)] = parse_working_duration(value, f"policy {name}: {metric}")
        except PolicyError as exc:
            raise PolicyError(str(exc), "targets", (metric,)) from None
    return targets


def _share(raw: object, name: str) -> float | None:
    if raw is None:
        return None
    text = str(raw).strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        share = -1.0
    if not 0 < share < 1:
        raise PolicyError(
            f"policy {name}: warn_at must be a share above 0% and below 100%, like 75%"
            f" (not {text})",
            "warn_at",
        )
    return share


def _statuses(raw: object, name: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    allowed = ("new", "open", "pending")
    values = raw if isinstance(raw, list) else [raw]
    for value in values:
        if value not in allowed:
            hint = did_you_mean(value, allowed) if isinstance(value, str) else ""
            said = f"pause_on takes {', '.join(allowed)}, not {shown(value)}{hint}"
            raise PolicyError(f"policy {name}: {said}", "pause_on")
    return tuple(str(v) for v in values)


# ---------------------------------------------------------------- computing clocks


def choose_policy(policies: Sequence[Policy], facts: Facts) -> tuple[Policy | None, str]:
    """The first policy whose condition holds, and why (with why each before it does not)."""
    for n, policy in enumerate(policies, start=1):
        if policy.when.matches(facts):
            described = policy.when.describe()
            condition = described if described not in ("", "{}") else "no condition"
            why = f"policy {n} of {len(policies)} is the first that matches ({condition})"
            return policy, why + _passed_over(policies[: n - 1], facts)
    return None, "no policy matches" + _passed_over(policies, facts)


def _passed_over(policies: Sequence[Policy], facts: Facts) -> str:
    """Why each of ``policies`` (that do not match) does not, e.g. "; not urgent: priority
    is normal, needs urgent"."""
    return "".join(f"; not {p.name}: {', '.join(p.when.explain(facts))}" for p in policies)


def status_timeline(ticket: Ticket, now: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """(since, status) steps from the activity log, up to ``now``."""
    changes = [a for a in field_changes(ticket.activity, "status") if a.new]
    if not changes:
        return [(ticket.created, ticket.status)]
    steps = [(ticket.created, changes[0].old or "new")]
    # (in time order: a change a sweep replayed, written after the lines people wrote
    # since, took effect at its own earlier time; lines of one time keep the log's order)
    # (but a person's `new → open` on a ticket no longer new: :func:`opened_as_it_was`)
    stale: list[Activity] = []
    set_by = ""  # (who set the status the timeline is at)
    for c in sorted((c for c in changes if c.at <= now), key=lambda c: c.at):
        if by_esc(set_by) and opened_as_it_was(c, steps[-1][1]):
            stale.append(c)  # (only after a rule's status: after a person's, in another
            # clone merged, it is that person's change, and stands)
        else:
            steps.append((max(c.at, ticket.created), str(c.new)))
            set_by = c.by
    if steps[-1][1] != ticket.status and ticket.updated <= now:
        # the file says otherwise than its log (edited by hand): trust the file from
        # `updated`; from the skipped line's time if the file says what it said (a merge
        # took the person's status beside the rule's)
        said = next((c.at for c in reversed(stale) if c.new == ticket.status), None)
        steps.append((max(said or ticket.updated, ticket.created), ticket.status))
    return steps



def opened_as_it_was(change: Activity, status: str) -> bool:
    """Whether ``change`` is a person's ``new → open`` made when the ticket was no longer
    new (a command that opens a new ticket, an assignment or a public reply, run on a file
    a sweep had not yet written a missed rule's resolve or pending to: a side effect of
    the command on the file as it was, not a choice of status, and it changes nothing;
    swept at every instant, the file said so and the command opened nothing)."""
    return (
        change.old == "new"
        and change.new == "open"
        and status != "new"
        and not by_esc(change.by)
    )


def intervals_in(
    steps: Sequence[tuple[dt.datetime, str]], statuses: Iterable[str], now: dt.datetime
) -> list[Interval]:
    """The intervals up to ``now`` during which the status was one of ``statuses``."""
    wanted = set(statuses)
    out: list[Interval] = []
    if not wanted:
        return out
    last = len(steps) - 1
    for n, (since, status) in enumerate(steps):
        if status not in wanted:
            continue
        end = min(steps[n + 1][0], now) if n < last else now
        if since < end:
            if out and out[-1][1] >= since:
                out[-1] = (out[-1][0], end)
            else:
                out.append((since, end))
    return out


ClockMemo = dict[tuple[object, ...], tuple[Policy, dt.datetime, "Clock"]]
"""Clocks computed before, for :func:`compute`: by their arguments but the instant (the
policy by id), each with its policy and the instant it was computed for."""


def compute(
    ticket: Ticket,
    policy: Policy | None,
    why: str,
    now: dt.datetime,
    known: ClockMemo | None = None,
    count_used: bool = True,
) -> Sla:
    """Every clock of ``ticket`` under ``policy`` as of ``now``.

    ``known``, if given, remembers each clock computed (and is updated in place): a clock
    with the same arguments computed for another instant is carried to ``now`` instead of
    computed again (:func:`_remembered`).  A sweep's replay asks for the SLA of several
    versions of one ticket, and a comment changes one clock, not the others.  A clock
    carried so keeps the time used it had unless ``count_used`` (see :func:`advanced`).
    """
    if policy is None or ticket.created > now:
        return Sla(now, policy, why)
    steps = status_timeline(ticket, now)
    paused = intervals_in(steps, policy.pause_on, now)
    currently = steps[-1][1] if steps else ticket.status
    clocks = []
    for metric in METRICS:
        target = policy.targets.get(metric)
        if target is None:
            continue
        span = _span(metric, ticket, steps, now)
        if span is None:
            continue
        start, stop = span
        excluded = paused
        if metric in _RESUMED:  # (a reopen resumes them: the time resolved does not count)
            excluded = merge_intervals([*paused, *intervals_in(steps, STOPPED_STATUSES, now)])
        pausing = stop is None and currently in policy.pause_on
        if known is None:
            clock = _clock(metric, policy, target, start, stop, excluded, pausing, now)
        else:
            clock = _remembered(
                known, metric, policy, target, start, stop, excluded, pausing, now, count_used
            )
        clocks.append(clock)
    return Sla(now, policy, why, tuple(clocks))


def _remembered(
    known: ClockMemo,
    metric: Metric,
    policy: Policy,
    target: dt.timedelta,
    start: dt.datetime,
    stop: dt.datetime | None,
    excluded: Sequence[Interval],
    pausing: bool,
    now: dt.datetime,
    count_used: bool = True,
) -> Clock:
    """``_clock(metric, policy, target, start, stop, excluded, pausing, now)``, from the
    clock ``known`` has for the same arguments at another instant if that tells it (see
    :func:`_carried`); else computed, and remembered.  (``target`` is the policy's.)

    A clock computed is also kept for every ticket that asks for it with the same
    arguments (``_SHARED_CLOCKS``): a sweep's tickets share their instants (created in the
    same minute, swept at the same ``now``), and a clock is immutable.  The times' offsets
    are part of that key: a clock keeps the times it was given, and an instant written at
    another offset is written otherwise."""
    key = (metric, id(policy), start, stop, tuple(excluded), pausing)
    found = known.get(key)
    if found is not None and found[0] is policy:
        clock = _carried(found[2], found[1], excluded, policy.calendar, now, count_used)
        if clock is not None:
            return clock
    shared = (key, now, _offsets(start, stop, excluded, now))
    seen = _SHARED_CLOCKS.get(shared)
    if seen is not None and seen[0] is policy:
        clock = seen[1]
    else:
        clock = _clock(metric, policy, target, start, stop, excluded, pausing, now)
        if len(_SHARED_CLOCKS) >= _SHARED_MAX:
            _SHARED_CLOCKS.clear()
        _SHARED_CLOCKS[shared] = (policy, clock)
    known[key] = (policy, now, clock)
    return clock


def _offsets(
    start: dt.datetime, stop: dt.datetime | None, excluded: Sequence[Interval], now: dt.datetime
) -> tuple[dt.tzinfo | None, ...]:
    """The time zones of a clock's times (equal instants at other offsets compare equal)."""
    zones = [start.tzinfo, None if stop is None else stop.tzinfo, now.tzinfo]
    zones += [t.tzinfo for interval in excluded for t in interval]
    return tuple(zones)


# By the policy's id (hashing a policy hashes all of it), with the policy (held: no other
# takes its id while it is here)
_SHARED_CLOCKS: dict[tuple[object, ...], tuple[Policy, Clock]] = {}
_SHARED_MAX = 10_000  # (~0.65 KB each, with what they hold: ~6.5 MB at most)


def _carried(
    clock: Clock,
    then: dt.datetime,
    excluded: Sequence[Interval],
    cal: Calendar,
    at: dt.datetime,
    count_used: bool = True,
) -> Clock | None:
    """The clock computed as of ``then`` from the arguments ``excluded`` (the intervals
    left out, before they are cut at the clock's end) and the rest, as of ``at`` (earlier
    or later) from the same arguments, if it tells it; else None.

    A stopped clock is all counted up to its stop: the same at any instant.  A running one
    not paused now keeps its warning and due instants, as long as the intervals left out
    up to ``at`` are those up to ``then``; it only counts on (or back).
    """
    if at == then or clock.stop is not None:
        return clock
    if clock.pausing or clock.due is None or at > clock.start + MAX_HORIZON:
        return None
    if excluded and tuple((lo, min(hi, at)) for lo, hi in excluded if lo < at) != clock.paused:
        return None
    return _counted_on(clock, cal, at, count_used)


def _span(
    metric: Metric, ticket: Ticket, steps: Sequence[tuple[dt.datetime, str]], now: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """(start, stop) of one clock as of ``now``; None if the clock does not exist yet."""
    if metric == "first_response":
        stop = ticket.first_response_at
        return ticket.created, stop if stop is not None and stop <= now else None
    if metric == "resolution":
        status = steps[-1][1] if steps else ticket.status
        if status in STOPPED_STATUSES:
            resolved = (
                ticket.resolved_at if ticket.resolved_at and ticket.resolved_at <= now else None
            )
            return ticket.created, resolved or steps[-1][0]
        return ticket.created, None
    if metric == "collaboration":
        return _collaboration_span(ticket, steps, now)
    return _next_response_span(ticket, now)


def _collaboration_span(
    ticket: Ticket, steps: Sequence[tuple[dt.datetime, str]], now: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """The internal OLA of requests to other teams: the oldest request open at ``now`` (the
    one due first), else the latest one asked by then; None if none was asked."""
    request = followed_request(ticket, now)
    return None if request is None else request_span(request, steps, now)


UnmetRequest = Literal["never answered", "answered too late"]


def followed_request(ticket: Ticket, now: dt.datetime) -> Request | None:
    """The request the ticket's ``collaboration`` clock follows at ``now``: the oldest one
    open then (the one due first), else the latest one asked by then; None if none was."""
    asked = [r for r in ticket.requests if r.asked <= now]
    if not asked:
        return None
    still = [r for r in asked if r.open_at(now)]
    return min(still, key=lambda r: r.asked) if still else max(asked, key=lambda r: r.asked)


def unmet_collaboration(ticket: Ticket, clock: Clock, now: dt.datetime) -> UnmetRequest | None:
    """Why ``clock``, the ``collaboration`` clock of ``ticket`` at ``now``, `met` (stopped
    before its deadline), was not met for all that: the request it follows was still open
    when the ticket was resolved or closed (its clock stopped with the ticket's), and was
    answered (or declined) only after that, or never; None otherwise (another clock too)."""
    if clock.metric != "collaboration" or clock.state != "met":
        return None
    request = followed_request(ticket, now)
    if request is None or stopped_with_ticket(request, status_timeline(ticket, now), now) is None:
        return None
    late = request.closed is not None and request.closed <= now
    return "answered too late" if late else "never answered"


StoppedVerdict = Literal["met", "met late", "never answered", "answered too late"]


def stopped_verdict(sla: Sla, ticket: Ticket) -> StoppedVerdict | None:
    """How a ticket's clocks ended, none running (None: it has no clocks): ``met`` (each
    met its target), ``met late`` (one stopped past its deadline), else, as ``esc show``
    says it, why the ``collaboration`` clock that stopped with the ticket was not met for
    all that (``never answered``, ``answered too late``: :func:`unmet_collaboration`)."""
    if not sla.clocks:
        return None
    if any(c.state != "met" for c in sla.clocks):
        return "met late"
    unmet = (unmet_collaboration(ticket, c, sla.now) for c in sla.clocks)
    return next((u for u in unmet if u is not None), "met")


def request_span(
    request: Request, steps: Sequence[tuple[dt.datetime, str]], now: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None]:
    """(start, stop) of one request's OLA clock as of ``now``: from when it was asked until
    it was answered or declined, or until its ticket was resolved or closed with the request
    still open (an answer while the ticket stayed so came after its clock had stopped)."""
    ended = stopped_with_ticket(request, steps, now)
    if ended is not None:
        return request.asked, ended[0]
    if request.closed is not None and request.closed <= now:
        return request.asked, request.closed
    return request.asked, None


def stopped_with_ticket(
    request: Request, steps: Sequence[tuple[dt.datetime, str]], now: dt.datetime
) -> tuple[dt.datetime, str] | None:
    """When (and to which status) ``request``'s ticket was resolved or closed with the
    request open, if it stayed so until the request was answered or declined, or until
    ``now`` (still open): the request was never answered while the ticket was active, and
    its OLA clock stopped with the ticket's; None otherwise (answered in time, or the
    ticket active again, reopened, when it was)."""
    closed = request.closed if request.closed is not None and request.closed <= now else None
    status, since, stopped_as = "open", request.asked, "open"
    for at, step in steps:
        if at > now or (closed is not None and at >= closed):
            break
        if step not in STOPPED_STATUSES or status not in STOPPED_STATUSES:
            since, stopped_as = at, step  # (resolved, then closed: stopped when resolved)
        status = step
    if status not in STOPPED_STATUSES:
        return None
    return max(request.asked, since), stopped_as


def request_clocks(
    ticket: Ticket,
    policy: Policy | None,
    now: dt.datetime,
    steps: Sequence[tuple[dt.datetime, str]] | None = None,
) -> list[Clock | None]:
    """The OLA clock of each of ``ticket``'s requests as of ``now``, in the ticket's order;
    None for each when the policy sets no ``collaboration`` target (or before it is asked).
    ``steps``: the ticket's :func:`status_timeline` to ``now``, if the caller has it."""
    target = policy.targets.get("collaboration") if policy is not None else None
    if policy is None or target is None:
        return [None for _ in ticket.requests]
    if steps is None:
        steps = status_timeline(ticket, now)
    paused = intervals_in(steps, policy.pause_on, now)
    paused = merge_intervals([*paused, *intervals_in(steps, STOPPED_STATUSES, now)])
    currently = steps[-1][1] if steps else ticket.status
    out: list[Clock | None] = []
    for request in ticket.requests:
        if request.asked > now:
            out.append(None)
            continue
        start, stop = request_span(request, steps, now)
        pausing = stop is None and currently in policy.pause_on
        out.append(_clock("collaboration", policy, target, start, stop, paused, pausing, now))
    return out


def _next_response_span(
    ticket: Ticket, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """The latest reply cycle: the oldest unanswered customer message and the reply to it."""
    answered, waiting = reply_cycles(ticket, now)
    if waiting is not None:
        if ticket.status in STOPPED_STATUSES and ticket.resolved_at and ticket.resolved_at <= now:
            return waiting, max(waiting, ticket.resolved_at)
        return waiting, None
    return answered[-1] if answered else None


def reply_cycles(
    ticket: Ticket, now: dt.datetime
) -> tuple[list[tuple[dt.datetime, dt.datetime]], dt.datetime | None]:
    """The ticket's reply cycles after its first response, as of ``now``: each answered one
    (the oldest customer message not answered yet, and the public reply to it), in order,
    and the start of the one still waiting for a reply, if any."""
    first = ticket.first_response_at
    if first is None or first > now:
        return [], None
    waiting: dt.datetime | None = None
    answered: list[tuple[dt.datetime, dt.datetime]] = []
    for entry in sorted(ticket.entries, key=lambda e: e.at):
        if entry.at > now:
            break
        if entry.kind == "message" and entry.at > first and waiting is None:
            waiting = entry.at
        elif entry.public_agent_reply and waiting is not None:
            answered.append((waiting, entry.at))
            waiting = None
    return answered, waiting


def earlier_reply_clocks(ticket: Ticket, policy: Policy | None, now: dt.datetime) -> list[Clock]:
    """The next-response clocks of the reply cycles answered before the latest one: an SLA's
    clocks hold the latest cycle's alone, and a report counts each (one that breached and
    was answered still breached)."""
    target = policy.targets.get("next_response") if policy is not None else None
    if policy is None or target is None:
        return []
    answered, waiting = reply_cycles(ticket, now)
    earlier = answered if waiting is not None else answered[:-1]
    if not earlier:
        return []
    paused = intervals_in(status_timeline(ticket, now), policy.pause_on, now)
    return [
        _clock("next_response", policy, target, start, stop, paused, False, now)
        for start, stop in earlier
    ]


def _clock(
    metric: Metric,
    policy: Policy,
    target: dt.timedelta,
    start: dt.datetime,
    stop: dt.datetime | None,
    excluded: Sequence[Interval],
    pausing: bool,
    now: dt.datetime,
) -> Clock:
    cal = policy.calendar
    end = stop if stop is not None else now
    if excluded:  # nothing after the stop
        excluded = [(lo, min(hi, end)) for lo, hi in excluded if lo < end]
    warn_at = policy.warn_at
    # (the warning after the share of the target, to the next whole second, as esc keeps
    # every time: 66.7% of 4h is 2h40m4.8s, and a rule's change at that instant, written to
    # the second, read back other than made: no sweep would write the ticket)
    targets = (target,) if warn_at is None else (target, _whole_seconds(target * warn_at))
    # Working time is counted over at most MAX_HORIZON (10 years) from the start (a --now
    # thousands of years on would walk the calendar day by day for minutes): a clock that
    # ran longer met its target if it stopped by its due time.
    counted_end = min(end, start + MAX_HORIZON)
    # As if any pause ended now: right for every instant a running clock already crossed.
    if excluded and any(hi > start for _, hi in excluded):
        used = counted_time(cal, start, counted_end, excluded)
        found = [deadline(cal, start, t, excluded) for t in targets]
    else:  # nothing to leave out: one pass over the calendar
        used, found = business_time_and_deadlines(cal, start, counted_end, targets)
    due: dt.datetime | None = found[0]
    warn: dt.datetime | None = found[1] if warn_at is not None else None
    # (the calendar's instants are in UTC: ``end`` and ``now`` compared in UTC too, as
    # Python compares times of two zone objects ~20 times slower than of one)
    end_utc = end.astimezone(UTC)
    now_utc = end_utc if end is now else now.astimezone(UTC)
    marks = _crossed(warn, found[0], end_utc)
    # (met if it stopped by its deadline: one whose time ran out, then stopped later, is
    # breached, even if no working time passed between (a pause from its due second on, a
    # reply on the Saturday after a deadline at Friday's close): it was breached then)
    within = end_utc <= found[0]
    if pausing and stop is None:  # (paused from its due second on: breached then, as a
        # running clock is from its due second; a clock stopped then met its target)
        within = used < target if counted_end == end else end_utc < found[0]
    state = clock_state(now_utc, stop is not None, within, pausing, found[0], warn)
    if pausing and state == "paused":
        due = warn = None  # unknown until the pause ends
    else:
        tz = cal.tz  # (as the calendar's wall clock reads it, at a fixed offset: see fixed_in)
        due = fixed_in(found[0], tz)
        warn = None if warn is None else fixed_in(warn, tz)
    return Clock(
        metric, target, start, stop, due, warn, state, used, tuple(excluded), marks, pausing
    )


def _whole_seconds(span: dt.timedelta) -> dt.timedelta:
    """``span`` rounded up to a whole second."""
    if not span.microseconds:
        return span
    return span + dt.timedelta(microseconds=1_000_000 - span.microseconds)


def advanced(sla: Sla, at: dt.datetime, count_used: bool = True) -> Sla | None:
    """``sla`` as of the later instant ``at``, for a ticket that stays as it was (nothing
    about it lies after ``sla.now``), if its clocks alone tell it; else None.

    A stopped clock stays as it is; a running one keeps its warning and due instants and
    only counts on (its state, time used and crossed instants as of ``at``).  A clock
    paused now, or one counted up to the 10-year horizon, needs the whole computation.
    Without ``count_used``, a running clock's time used stays as it was at ``sla.now``
    (its state and crossed instants do not depend on it: for who reads only those, such
    as the rules at a moment a sweep replays; counting it is most of the carrying).
    """
    if sla.policy is None or at < sla.now:
        return None
    cal = sla.policy.calendar
    clocks = []
    for clock in sla.clocks:
        if clock.stop is not None:
            clocks.append(clock)
            continue
        if clock.pausing or clock.due is None or at > clock.start + MAX_HORIZON:
            return None
        clocks.append(_counted_on(clock, cal, at, count_used))
    return Sla(at, sla.policy, sla.why, tuple(clocks))


def _counted_on(clock: Clock, cal: Calendar, at: dt.datetime, count_used: bool = True) -> Clock:
    """A running clock not paused now, as of ``at`` (within the 10-year horizon of its
    start) with the same intervals left out: its warning and due instants stay; its time
    used (if ``count_used``; else as it was), state and crossed instants are those of
    ``at``.  (A running clock's state does not depend on its time used: see clock_state.)"""
    assert clock.due is not None  # (None only while paused now)
    if not count_used:
        used = clock.used
    elif clock.paused and any(hi > clock.start for _, hi in clock.paused):
        used = counted_time(cal, clock.start, at, clock.paused)
    else:
        used = business_time_between(cal, clock.start, at)
    due = clock.due.astimezone(UTC)
    warn = None if clock.warn is None else clock.warn.astimezone(UTC)
    at_utc = at.astimezone(UTC)  # (compared with times of the same zone object: fast)
    state = clock_state(at_utc, False, used <= clock.target, False, due, warn)
    return Clock(
        clock.metric,
        clock.target,
        clock.start,
        None,
        clock.due,
        clock.warn,
        state,
        used,
        clock.paused,
        _crossed(warn, due, at_utc),
        False,
    )


NEXT_STATES: tuple[tuple[ClockState, ...], ...] = (("breached",), ("warning", "ok"), ("paused",))


def next_index(states: Sequence[str], dues: Sequence[float | None]) -> int | None:
    """Of running clocks (each one's state and due instant, a Unix time), the one a person
    should look at first: the one most past its deadline, else the one due soonest, else
    a paused one (the first of equals); None if there is none."""
    keys = [_FAR if due is None else due for due in dues]
    for group in NEXT_STATES:
        found = [i for i, state in enumerate(states) if state in group]
        if found:
            return min(found, key=keys.__getitem__)
    return None


_FAR = float("inf")


def clock_state(
    now: dt.datetime,
    stopped: bool,
    within_target: bool,
    pausing: bool,
    due: dt.datetime | None,
    warn: dt.datetime | None,
) -> ClockState:
    """Where a clock stands at ``now``: a stopped clock met its target or breached it; a
    running one is breached from its due time (and stays breached while paused: a breach
    is a breach), paused, in warning from its warning time, else ok."""
    if stopped:
        return "met" if within_target else "breached"
    if pausing:
        return "paused" if within_target else "breached"
    return running_state(now, due, warn)


Moment = TypeVar("Moment", dt.datetime, float)  # an instant, or its Unix time


def running_state(now: Moment, due: Moment | None, warn: Moment | None) -> ClockState:
    """A running clock's state at ``now``: breached from its due time, in warning from its
    warning time, else ok (the instants as datetimes, or as Unix times: the cache's)."""
    if due is not None and now >= due:
        return "breached"
    if warn is not None and now >= warn:
        return "warning"
    return "ok"


def _crossed(
    warn: dt.datetime | None, due: dt.datetime, end: dt.datetime
) -> tuple[dt.datetime, ...]:
    """The warning and due instants reached by ``end``, in that order."""
    if warn is None or warn > end:
        return (due,) if due <= end else ()
    return (warn, due) if due <= end else (warn,)


def counted_time(
    cal: Calendar, start: dt.datetime, end: dt.datetime, excluded: Sequence[Interval]
) -> dt.timedelta:
    """Working time in [start, end) outside the ``excluded`` intervals."""
    total = business_time_between(cal, start, end)
    for lo, hi in merge_intervals(excluded):
        lo, hi = max(lo, start), min(hi, end)
        if lo < hi:
            total -= business_time_between(cal, lo, hi)
    return total


def deadline(
    cal: Calendar, start: dt.datetime, target: dt.timedelta, excluded: Sequence[Interval]
) -> dt.datetime:
    """The instant at which ``target`` working time outside ``excluded`` has been used."""
    moment, remaining = start, target
    for lo, hi in merge_intervals(excluded):
        if hi <= moment:
            continue
        if lo > moment:
            available = business_time_between(cal, moment, lo)
            if available >= remaining:
                break
            remaining -= available
        moment = max(moment, hi)
    return add_business_time(cal, moment, remaining)


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def ended_breaches(ticket: Ticket) -> list[tuple[dt.datetime, dt.datetime, Metric]]:
    """The customer clocks that breached and were then ended, not met, by a change of
    policy (an escalation to a level another policy covers, a new priority or category),
    as the sweep logged them: ``sla.first_response: warning → breached``, later
    ``breached → —`` (or ``→ ok``, ``→ warning``: the new policy's clock) at an instant
    the policy was re-selected.  Each is (when it breached, when the change ended it, its
    metric).  The ticket's SLA holds the clocks of its present policy only; a report counts
    these breaches too (a breach is a breach), each at its instants.  (Only the log's lines
    of those fields are read: most tickets' policy was never re-selected, and nothing more
    of their log is parsed.)"""
    reselected = {
        a.at
        for a in field_changes(ticket.activity, "sla.policy")
        if a.by == SWEEPER and a.old not in (None, "—")
    }
    if not reselected:
        return []
    # (a clock a priority or category corrected made `ok` again, recomputed under the more
    # lenient policy (`breached → ok`, `→ warning`), is that policy's clock, counted once
    # as such, met or not: a ticket over-rated by its customer and put right is judged
    # under its right priority, as a report made before any sweep judged it (it counted
    # one first response twice, late and met, once a sweep had logged the change); one
    # whose escalation moved it to a level of more lenient targets ended late: its breach
    # made that move)
    moved = {e.at for e in ticket.escalations if e.kind != "priority"}
    corrected = {
        a.at
        for name in ("priority", "category")
        for a in field_changes(ticket.activity, name)
        if a.at not in moved
    }
    found: list[tuple[dt.datetime, dt.datetime, Metric]] = []
    for metric in CUSTOMER_METRICS:
        breached: dt.datetime | None = None
        for line in field_changes(ticket.activity, f"sla.{metric}"):
            if line.by != SWEEPER:
                continue
            if line.new == "breached":
                breached = line.at
            elif breached is not None:
                recomputed = line.new in ("ok", "warning") and line.at in corrected
                if line.old == "breached" and line.new not in ("met", "paused") and (
                    line.at in reselected and not recomputed
                ):
                    found.append((breached, line.at, metric))
                breached = None
    return sorted(found)


def breached_at(clock: Clock) -> dt.datetime | None:
    """When a breached clock's deadline passed (None: the clock is not breached).  A clock
    paused past its deadline has no due time: the deadline it crossed counts."""
    if clock.state != "breached":
        return None
    if clock.due is not None:
        return clock.due
    return clock.marks[-1] if clock.marks else None
