"""`esc explain`: why each SLA clock stands where it does, and why each rule does or not match."""

from __future__ import annotations

import datetime as dt

from esc.domain.automation import facts, memory_of
from esc.domain.calendar import (
    MAX_HORIZON,
    Calendar,
    CalendarError,
    next_working_instant,
    working_intervals,
)
from esc.domain.conditions import crossings
from esc.domain.config import Config
from esc.domain.durations import format_duration
from esc.domain.model import Ticket
from esc.domain.plan import sla_of
from esc.domain.sla import Clock, Interval, Policy, Sla, merge_intervals, unmet_collaboration
from esc.domain.timestamps import format_timestamp

MAX_INTERVALS = 12


def explain_ticket(ticket: Ticket, config: Config, now: dt.datetime) -> str:
    sla = sla_of(ticket, config, now)
    lines = [f"{ticket.id}  {ticket.title}", f"as of {format_timestamp(now)}", ""]
    if sla.policy is None:
        lines.append(f"SLA: {sla.why}" if config.policies else "SLA: rules.yaml has no policies")
    else:
        policy = sla.policy
        lines.append(f"SLA policy {policy.name}: {sla.why}")
        lines.append(f"  calendar {policy.calendar.name} ({policy.calendar.timezone})")
        if policy.pause_on:
            lines.append(f"  clocks pause while {', '.join(policy.pause_on)}")
        for clock in sla.clocks:
            clock_lines = _clock_lines(clock, policy, now)
            unmet = unmet_collaboration(ticket, clock, now)
            if unmet is not None:  # (stopped with the ticket: never met for all that)
                clock_lines[0] = (
                    f"{clock.metric}: {unmet}, stopped with the ticket (the request was still"
                    " open when the ticket was resolved or closed, and its clock stopped with"
                    " the ticket's)"
                )
            lines += ["", *clock_lines]
        missing = [m for m in policy.targets if m not in {c.metric for c in sla.clocks}]
        for metric in missing:
            why = _NOT_STARTED.get(metric)
            lines += ["", f"{metric}: not started" + (f" ({why})" if why else "")]
    lines += ["", "Rules:", *_rule_lines(ticket, config, sla)]
    return "\n".join(lines)


# Why a clock of the policy has not started (a clock that started is one of the SLA's).
_NOT_STARTED = {
    "next_response": "no unanswered customer message",
    "collaboration": "no other team was asked: no open request",
}


def _clock_lines(clock: Clock, policy: Policy, now: dt.datetime) -> list[str]:
    cal = policy.calendar
    lines = [
        f"{clock.metric}: {clock.state}",
        f"  target   {format_duration(clock.target, largest='h')} of working time",
        f"  start    {format_timestamp(clock.start)}",
    ]
    try:  # (out of working hours: it counts from the next working instant, said beside it)
        counting = next_working_instant(cal, clock.start)
    except CalendarError:  # pragma: no cover - (a calendar with no hours ahead: validated)
        counting = clock.start
    if counting > clock.start and (clock.stop is None or counting < clock.stop):
        lines[-1] += f" (counting from {_in_both(counting, cal.tz, now)}: its next working time)"
    for lo, hi in clock.paused:
        if hi <= clock.start:  # (the ticket's pauses before this clock started, as a reply
            continue  # cycle's next-response clock starts at a message: none of its time)
        lo = max(lo, clock.start)
        lines.append(f"  paused   {format_timestamp(lo)} → {format_timestamp(hi)}")
    end = min(clock.stop or now, clock.start + MAX_HORIZON)  # (as the clock counts)
    counted = _counted(clock, cal, end)
    used = format_duration(clock.used, largest="h")
    years = MAX_HORIZON.days // 365
    over = f" (counted over its first {years} years)" if end < (clock.stop or now) else ""
    tz = cal.tz
    # (in the calendar's time, its working hours' clock: named when `--now`'s reads
    # otherwise, or an interval from 21:00 UTC read as an hour before a ticket made at
    # 22:00+01:00 existed; audit helper-472)
    other = any(
        t.astimezone(tz).utcoffset() != t.astimezone(now.tzinfo).utcoffset()
        for interval in counted[:MAX_INTERVALS] for t in interval
    )  # fmt: skip
    zone = f" (in {getattr(tz, 'key', None) or tz}, the calendar's time)" if other else ""
    lines.append(f"  counted  {used} in {len(counted)} working interval(s){over}{zone}:")
    for lo, hi in counted[:MAX_INTERVALS]:
        start, end = lo.astimezone(tz), hi.astimezone(tz)
        # the end's day is named when it is another day than the start's (past midnight)
        shown = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %Y-%m-%d %H:%M}"
        lines.append(
            f"             {start:%a %Y-%m-%d %H:%M} → {shown}"
            f"  ({format_duration(hi - lo, largest='h')})"
        )
    if len(counted) > MAX_INTERVALS:
        lines.append(f"             ... and {len(counted) - MAX_INTERVALS} more")
    if clock.stop is not None:
        lines.append(f"  stopped  {format_timestamp(clock.stop)}")
    if clock.warn is not None:
        lines.append(f"  warning  {_in_both(clock.warn, tz, now)}")
    due = _in_both(clock.due, tz, now) if clock.due else "unknown while paused"
    lines.append(f"  due      {due}")
    return lines


def _in_both(moment: dt.datetime, tz: dt.tzinfo, now: dt.datetime) -> str:
    """``moment`` in the calendar's zone (its working hours' clock), and as `show` and
    `check` write it, in ``now``'s, when that reads otherwise."""
    local, mine = format_timestamp(moment.astimezone(tz)), format_timestamp(
        moment.astimezone(now.tzinfo)
    )
    return local if local == mine else f"{local} ({mine})"


def _counted(clock: Clock, cal: Calendar, end: dt.datetime) -> list[Interval]:
    """The working intervals the clock counted: working time outside its pauses."""
    pieces = []
    paused = merge_intervals(clock.paused)
    for lo, hi in working_intervals(cal, clock.start, end):
        cursor = lo
        for plo, phi in paused:
            if phi <= cursor or plo >= hi:
                continue
            if plo > cursor:
                pieces.append((cursor, plo))
            cursor = max(cursor, phi)
        if cursor < hi:
            pieces.append((cursor, hi))
    return pieces


def _rule_lines(ticket: Ticket, config: Config, sla: Sla) -> list[str]:
    if not config.automation:
        return ["  (rules.yaml has no rules)"]
    memory = memory_of(ticket)
    known = facts(ticket, config, sla)
    lines = []
    for rule in config.automation:
        reasons = rule.when.explain(known)
        if not reasons:
            last = memory.get(rule.name)
            fired = ""
            if last is not None and rule.repeat is not None:
                again = format_duration(rule.repeat, largest="h")
                fired = f"; fired {format_timestamp(last)}, again {again} of working time later"
            elif last is not None:
                fired = f"; fired {format_timestamp(last)}, waits until it stops matching"
                states = sorted({s for _, _, crossed in crossings(rule.when) for s in crossed})
                if states:  # (another clock's crossing fires it again)
                    fired += f" or another clock is {' or '.join(states)}"
            if not ticket.active:  # (the sweep acts on new, open and pending tickets only)
                fired += f"; the sweep leaves it: the ticket is {ticket.status}"
            lines.append(f"  {rule.name}: matches{fired}")
        else:
            lines.append(f"  {rule.name}: no — {'; '.join(reasons)}")
    return lines
