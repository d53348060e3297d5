"""Plain (marshal-able) forms of tickets and SLA clocks, for the cache. Pure.

A summary keeps everything the list, check, report and sweep commands read, except the
texts of the description and conversation (feedback entries are kept): a ticket rebuilt
from it has ``complete=False``, and code that needs the rest parses the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from esc.domain.calendar import MAX_HORIZON, Calendar
from esc.domain.config import Config
from esc.domain.model import (
    SWEEPER,
    Activity,
    Entry,
    Escalation,
    Request,
    Ticket,
    event_moments,
    field_changes,
)
from esc.domain.sla import (
    Clock,
    Policy,
    Sla,
    clock_state,
    counted_time,
    ended_breaches,
    next_index,
    reply_cycles,
    running_state,
    stopped_verdict,
)
from esc.domain.timestamps import END_OF_TIME, zone_of

_DT = "\x00dt"
_NAIVE = "\x00dtn"  # a timestamp without an offset, kept as written (ISO 8601)
_DATE = "\x00d"


def _t(moment: dt.datetime | None) -> tuple[float, int] | None:
    if moment is None:
        return None
    zone = moment.tzinfo
    offset = _OFFSETS.get(zone) if type(zone) is dt.timezone else None
    if offset is None:
        delta = moment.utcoffset()
        offset = int(delta.total_seconds()) if delta is not None else 0
        if type(zone) is dt.timezone:
            _OFFSETS[zone] = offset
    return (moment.timestamp(), offset)


# The UTC offset of each fixed-offset time zone, in seconds: asked of every time a cache
# entry holds (~20 a ticket), and the offsets are few (a time zone with rules has none).
_OFFSETS: dict[dt.timezone, int] = {}


_MOMENTS: dict[tuple[float, int], dt.datetime] = {}
MOMENTS_KEPT = 16_384


def _dt(value: Any) -> dt.datetime | None:
    """The moment a ``_t`` pair stands for.

    Made once for each pair (of the last ``MOMENTS_KEPT`` or so): the tickets a command
    reads share many moments (a day's tickets, their deadlines), and a datetime is
    immutable; a dict look-up costs a tenth of making it again.
    """
    if value is None:
        return None
    moment = _MOMENTS.get(value) if type(value) is tuple else None
    if moment is None:
        stamp, offset = value
        moment = dt.datetime.fromtimestamp(stamp, zone_of(offset))
        if type(value) is tuple:
            if len(_MOMENTS) >= MOMENTS_KEPT:
                _MOMENTS.clear()
            _MOMENTS[value] = moment
    return moment


_SPANS: dict[float, dt.timedelta] = {}


def _span(seconds: float) -> dt.timedelta:
    """A clock's target or time used, made once for each number of seconds (as moments
    are: :func:`_dt`); ``timedelta(seconds=float)`` is slow, and the targets are few."""
    span = _SPANS.get(seconds)
    if span is None:
        span = dt.timedelta(seconds=seconds)
        if len(_SPANS) >= MOMENTS_KEPT:
            _SPANS.clear()
        _SPANS[seconds] = span
    return span


class _LazyExtra(Mapping[str, Any]):
    """Unknown front-matter fields, each turned back into a Python value on first use (a
    field nobody reads, such as the ``sla:`` block a command computes anew, never is)."""

    __slots__ = ("_plain", "_value")

    def __init__(self, plain: dict[str, Any]) -> None:
        self._plain = plain
        self._value: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        try:
            return self._value[key]
        except KeyError:
            value = self._value[key] = _unplain(self._plain[key])
            return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._plain)

    def __len__(self) -> int:
        return len(self._plain)


def _req(value: Any) -> dt.datetime:
    moment = _dt(value)
    assert moment is not None
    return moment


_AS_THEY_ARE = frozenset({str, int, bool, float, type(None)})


def _plain(value: object) -> object:
    kind = type(value)
    if kind in _AS_THEY_ARE:  # (most values: tested first)
        return value
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}  # type: ignore[attr-defined]
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:  # (read back as it was: no offset is made up)
            return (_NAIVE, value.isoformat())
        return (_DT, *(_t(value) or (0.0, 0)))
    if isinstance(value, dt.date):
        return (_DATE, value.toordinal())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _unplain(value: object) -> object:
    if isinstance(value, tuple) and value and value[0] == _DT:
        return _dt(value[1:])
    if isinstance(value, tuple) and value and value[0] == _NAIVE:
        return dt.datetime.fromisoformat(str(value[1]))
    if isinstance(value, tuple) and value and value[0] == _DATE:
        return dt.date.fromordinal(int(value[1]))
    if isinstance(value, dict):
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    return value


def ticket_summary(t: Ticket) -> tuple[Any, ...]:
    return (
        t.id,
        t.title,
        t.status,
        t.priority,
        t.team,
        _t(t.created),
        _t(t.updated),
        t.category,
        t.assignee,
        t.customer,
        t.channel,
        _t(t.first_response_at),
        _t(t.resolved_at),
        _t(t.closed_at),
        tuple(t.tags),
        t.impact,
        t.urgency,
        t.csat,
        t.kb,
        tuple((_t(e.at), e.kind, e.from_, e.to, e.by, e.reason) for e in t.escalations),
        _kept_entries(t, cycles := _several_reply_cycles(t)),
        _plain(dict(t.extra)),
        tuple(
            (_t(r.asked), r.by, r.team, r.person, r.state, _t(r.closed), r.closed_by)
            for r in t.requests
        ),
        tuple((_t(a.at), a.by, a.field, a.old, a.new) for a in _kept_changes(t, cycles)),
        # the breaches of clocks a change of policy ended (a report counts them)
        tuple((_t(at), _t(end), metric) for at, end, metric in ended_breaches(t)),
    )


_CYCLE_KINDS = frozenset({"message", "reply", "resolution"})


def _kept_changes(t: Ticket, cycles: bool) -> list[Activity]:
    """The log lines a summary keeps: the status changes of a ticket with requests or reply
    cycles (its OLA clocks and its earlier next-response clocks pause on them) or that
    moved between teams (a report counts it as worked by several teams if it was active in
    the period: its status then), the scores of one with feedback (each feedback goes with
    the score given by then, not a later survey's or hand edit's), and every change of
    team (re-routings by `classify`, and the escalations' own lines, whose order tells
    which team held the ticket after several moves in one second)."""
    teams = field_changes(t.activity, "team")
    moved = bool(t.escalations or teams)
    kept = list(field_changes(t.activity, "status")) if t.requests or cycles or moved else []
    if any(e.kind == "feedback" for e in t.entries):
        kept += field_changes(t.activity, "csat")
    kept += teams
    return kept


def _several_reply_cycles(t: Ticket) -> bool:
    """Whether the ticket has had more than one reply cycle (a customer message after the
    first response, and the reply to it): a report counts the next-response clock of each,
    and the SLA keeps the latest one's alone."""
    if len(t.entries) < 4:
        return False
    answered, waiting = reply_cycles(t, END_OF_TIME)
    return len(answered) + (waiting is not None) > 1




def _kept_entries(t: Ticket, cycles: bool) -> tuple[Any, ...]:
    """The conversation entries a summary keeps: the customer's feedback (a report quotes
    it), and for a ticket of several reply cycles, the time of each message and reply."""
    return tuple(
        (_t(e.at), e.author, e.kind, e.text if e.kind == "feedback" else "")
        for e in t.entries
        if e.kind == "feedback" or (cycles and e.kind in _CYCLE_KINDS)
    )


def ticket_from_summary(data: Sequence[Any]) -> Ticket:
    (
        tid,
        title,
        status,
        priority,
        team,
        created,
        updated,
        category,
        assignee,
        customer,
        channel,
        first,
        resolved,
        closed,
        tags,
        impact,
        urgency,
        csat,
        kb,
        escalations,
        feedback,
        extra,
        requests,
        status_changes,
        ended,
    ) = data
    created_at = _dt(created)
    assert created_at is not None
    return Ticket(
        id=tid,
        title=title,
        status=status,
        priority=priority,
        team=team,
        created=created_at,
        updated=_dt(updated) or created_at,
        category=category,
        assignee=assignee,
        customer=customer,
        channel=channel,
        first_response_at=_dt(first),
        resolved_at=_dt(resolved),
        closed_at=_dt(closed),
        tags=tuple(tags),
        impact=impact,
        urgency=urgency,
        csat=csat,
        kb=kb,
        escalations=tuple(
            Escalation(_dt(at) or created_at, kind, src, dst, by, reason)
            for at, kind, src, dst, by, reason in escalations
        )
        if escalations
        else (),
        requests=tuple(
            Request(_dt(at) or created_at, by, team, person, state, _dt(closed), closed_by)
            for at, by, team, person, state, closed, closed_by in requests
        )
        if requests
        else (),
        entries=tuple(Entry(_dt(at) or created_at, a, k, x) for at, a, k, x in feedback)
        if feedback
        else (),
        activity=tuple(
            Activity(_dt(at) or created_at, by, field, old, new)
            for at, by, field, old, new in status_changes
        )
        + tuple(
            line
            for at, end, metric in ended
            for line in (  # (the lines sla.ended_breaches finds them by; never written)
                Activity(_dt(at) or created_at, SWEEPER, f"sla.{metric}", "ok", "breached"),
                Activity(_dt(end) or created_at, SWEEPER, "sla.policy", "earlier", "later"),
                Activity(_dt(end) or created_at, SWEEPER, f"sla.{metric}", "breached", "—"),
            )
        )
        if status_changes or ended
        else (),
        extra=_LazyExtra(extra),
        complete=False,
    )


def settled_at(ticket: Ticket, sla: Sla) -> float | None:
    """For a resolved or closed ticket, the Unix time of the last thing that happened to it
    (a timestamp, an escalation, an entry, a clock starting, stopping, or falling due).

    A report whose period begins after it has nothing to count for the ticket but the
    ticket itself.  None for an active ticket: its clocks may still run.
    """
    if ticket.active:
        return None
    moments = event_moments(ticket)
    for clock in sla.clocks:
        moments += [m for m in (clock.start, clock.stop, clock.due, clock.warn) if m is not None]
        moments += clock.marks
        for lo, hi in clock.paused:
            moments += (lo, hi)
    return max(moments).timestamp()


def verdict_instants(sla: Sla) -> tuple[float | None, float | None]:
    """The SLA's verdicts as numbers: the earliest warning instant and the earliest due
    instant (Unix times) of its running clocks, as :func:`sla_at` derives their states at
    a later moment (a paused clock stands still; None: no such instant).

    At a moment ``t`` not before the computation, the ticket is overdue if ``due <= t``,
    else in warning if ``warn <= t``, else neither: as ``esc.domain.stats.standing`` judges
    the SLA :func:`sla_at` gives for ``t``.
    """
    warns = []
    dues = []
    for clock in sla.clocks:
        if clock.stop is not None or clock.state == "paused":
            continue
        if clock.warn is not None:
            warns.append(clock.warn.timestamp())
        if clock.due is not None:
            dues.append(clock.due.timestamp())
    return (min(warns) if warns else None, min(dues) if dues else None)


Listing = tuple[str, str, str, str, "str | None", float, str]


def listing_of(t: Ticket) -> Listing:
    """What a row of ``esc list`` shows of the ticket, and sorts it by (its SLA aside):
    ID, priority, status, team, assignee, when it was created (a Unix time), title."""
    return (t.id, t.priority, t.status, t.team, t.assignee, t.created.timestamp(), t.title)


def cell_numbers(sla: Sla, ticket: Ticket) -> tuple[Any, ...]:
    """The numbers the SLA column of ``esc list`` needs (:func:`next_clock_at`): how the
    clocks ended if none ran on (``stopped_verdict``, None for no clocks), and for each
    running clock its metric, its state if it stands still (paused: "paused", or
    "breached" past its deadline; else None), its due and warning instants (Unix times
    or None)."""
    running = tuple(
        (
            c.metric,
            c.state if c.pausing else None,
            None if c.due is None else c.due.timestamp(),
            None if c.warn is None else c.warn.timestamp(),
        )
        for c in sla.clocks
        if c.stop is None
    )
    return (None if running else stopped_verdict(sla, ticket), running)


def next_clock_at(numbers: Sequence[Any], moment: float) -> tuple[str, str, float | None] | None:
    """Of :func:`cell_numbers`, the running clock ``esc.report.views.next_clock`` picks
    from :func:`sla_at` at ``moment`` (a Unix time not before the SLA's computation), and
    its state then: (metric, state, due instant); None when no clock runs."""
    running = numbers[1]
    if not running:
        return None
    states = [_state_at(fixed, due, warn, moment) for _, fixed, due, warn in running]
    dues = [due for _, _, due, _ in running]
    index = 0 if len(running) == 1 else next_index(states, dues)  # (one: that one)
    if index is None:
        return None
    return running[index][0], states[index], dues[index]


def _state_at(fixed: str | None, due: float | None, warn: float | None, moment: float) -> str:
    """A running clock's state at ``moment`` (``fixed``: it stands still in that state)."""
    return fixed if fixed is not None else running_state(moment, due, warn)


def sla_summary(sla: Sla) -> tuple[Any, ...]:
    return (
        _t(sla.now),
        sla.policy.name if sla.policy else None,
        sla.why,
        tuple(
            (
                c.metric,
                c.target.total_seconds(),
                _t(c.start),
                _t(c.stop),
                _t(c.due),
                _t(c.warn),
                c.state,
                c.used.total_seconds(),
                tuple((_t(a), _t(b)) for a, b in c.paused),
                tuple(_t(m) for m in c.marks),
                c.pausing,
            )
            for c in sla.clocks
        ),
    )


def sla_at(data: Sequence[Any], config: Config, now: dt.datetime, used: bool = True) -> Sla | None:
    """The SLA as of ``now`` from one computed earlier for the same ticket and config.

    None if it cannot be derived (its policy is gone).
    """
    computed, policy_name, why, clocks = data
    policy = next((p for p in config.policies if p.name == policy_name), None)
    if policy_name is not None and policy is None:
        return None
    if policy is None:
        return Sla(now, None, why)
    if used and computed is not None and computed[0] == now.timestamp():
        used = False  # computed at this very instant: the time used is as counted then
    return Sla(now, policy, why, tuple(_clock_at(c, policy.calendar, now, used) for c in clocks))


# An SLA as plain values: its policy's name (None: no policy) and each clock's metric,
# target (seconds), due instant and stop ((Unix time, UTC offset in seconds) or None),
# state and time used.
Stamp = tuple[float, int]
PlainClock = tuple[str, float, "Stamp | None", "Stamp | None", str, dt.timedelta]
PlainSla = tuple["str | None", tuple[PlainClock, ...]]


def plain_sla_at(
    data: Sequence[Any], policies: Mapping[str, Policy], now: dt.datetime, moment: float
) -> PlainSla | None:
    """:func:`sla_at` (its time used counted to ``now``, ``moment`` as a Unix time) as
    plain values, for who only shows them: the same states and times, without building
    the clocks.  ``policies``: the configuration's by name (the first of a name).  None
    when it cannot be derived."""
    computed, policy_name, _, clocks = data
    if policy_name is None:
        return None, ()
    policy = policies.get(policy_name)
    if policy is None:
        return None
    count = computed is None or computed[0] != moment  # (else as counted then)
    plain = []
    for metric, target_s, start, stop, due, warn, state, used_s, paused, _, pausing in clocks:
        if stop is None and not pausing:  # (as _clock_at derives a running clock)
            if count:
                start_at = _req(start)
                intervals = tuple((_req(a), _req(b)) for a, b in paused)
                end = min(now, start_at + MAX_HORIZON)  # (as sla.compute counts: 10 years)
                used = counted_time(policy.calendar, start_at, end, intervals)
            else:
                used = dt.timedelta(seconds=used_s)
            if due is not None and moment >= due[0]:
                state = "breached"
            elif warn is not None and moment >= warn[0]:
                state = "warning"
            else:
                state = "ok"
        else:
            used = dt.timedelta(seconds=used_s)
        plain.append((metric, target_s, due, stop, state, used))
    return policy_name, tuple(plain)


def _clock_at(data: Sequence[Any], cal: Calendar, now: dt.datetime, count: bool) -> Clock:
    metric, target_s, start, stop, due, warn, state, used_s, paused, marks, pausing = data
    start_at, stop_at, due_at, warn_at = _dt(start), _dt(stop), _dt(due), _dt(warn)
    assert start_at is not None
    intervals = tuple((_req(a), _req(b)) for a, b in paused) if paused else ()
    if stop_at is None and not pausing:  # (stopped and paused clocks stand still)
        end = min(now, start_at + MAX_HORIZON)  # (as sla.compute counts: at most 10 years)
        used = counted_time(cal, start_at, end, intervals) if count else _span(used_s)
        state = clock_state(now, False, True, False, due_at, warn_at)
    else:
        used = _span(used_s)
    return Clock(
        metric,
        _span(target_s),
        start_at,
        stop_at,
        due_at,
        warn_at,
        state,
        used,
        intervals,
        tuple(_req(m) for m in marks) if marks else (),
        pausing,
    )
