"""`esc sweep`, pure part: for one ticket at ``now``, what the SLA clocks and rules change.

The plan replays what a sweep missed: if the ticket was last swept at ``checked`` and a
warning or deadline was crossed since, the rules are evaluated at each crossing in order
(then at ``now``), so every crossed step fires once, in order, even after cron was down.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from esc.domain import automation, lifecycle
from esc.domain.conditions import DurationCondition
from esc.domain.config import Config
from esc.domain.model import Activity, Change, Ticket, times_between
from esc.domain.routing import facts_for, ticket_fields
from esc.domain.sla import Sla, choose_policy, compute
from esc.domain.timestamps import coerce_timestamp

SWEEPER = "esc"
MAX_REPLAY_STEPS = 50


def sla_of(ticket: Ticket, config: Config, at: dt.datetime) -> Sla:
    """The ticket's SLA as of ``at``: the policy its fields select now, clocks as of ``at``."""
    if ticket.status == "closed" and not config.policies:
        return Sla(at, None, "no policies")
    facts = facts_for(ticket_fields(ticket, config), ticket.description, at)
    policy, why = choose_policy(config.policies, facts)
    return compute(ticket, policy, why, at)


@dataclass
class Escalated:
    ticket_id: str
    kind: str
    from_: str | None
    to: str
    by: str


@dataclass
class Planned:
    """What a sweep did to one ticket beyond its file: rules fired or skipped, escalations."""

    ticket_id: str
    fired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    escalations: list[Escalated] = field(default_factory=list)


@dataclass
class TicketPlan:
    ticket: Ticket  # as it will be
    change: Change
    sla: Sla
    fired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    escalations: list[Escalated] = field(default_factory=list)

    def planned(self) -> Planned | None:
        """The plan's record for the sweep's output; None if it only kept the books."""
        if not (self.escalations or self.fired or self.skipped):
            return None
        return Planned(self.ticket.id, self.fired, self.skipped, self.escalations)


def plan(ticket: Ticket, config: Config, now: dt.datetime) -> TicketPlan:
    """Everything one sweep at ``now`` does to ``ticket``."""
    sla_at = _remembering_sla_of(config)
    if not ticket.active:  # rules act on new, open and pending tickets only
        return _bookkeeping(ticket, now, Change(), [], [], sla_at)
    memory = automation.memory_of(ticket)
    before = dict(memory)
    budget = [config.max_actions]
    current, total = ticket, Change()
    fired: list[str] = []
    skipped: list[str] = []
    since = _checked(ticket)
    for _ in range(MAX_REPLAY_STEPS):
        at = _next_instant(current, since, now, sla_at)
        outcome = automation.run_rules(current, config, at, memory, budget, sla_at)
        current = outcome.ticket
        total = lifecycle.combined(total, outcome.change)
        fired += outcome.fired
        skipped += outcome.skipped
        if at >= now:
            break
        since = at
    updated = total.sets.get("updated")
    if isinstance(updated, dt.datetime) and updated < ticket.updated:
        total = lifecycle.combined(total, Change(sets={"updated": ticket.updated}))
    if memory != before:
        fired_memory = {name: memory[name] for name in sorted(memory)}
        total = lifecycle.combined(total, Change(sets={"fired": fired_memory}))
    return _bookkeeping(ticket, now, total, fired, skipped, sla_at)


SlaAt = Callable[[Ticket, dt.datetime], Sla]


def _remembering_sla_of(config: Config) -> SlaAt:
    """``sla_of`` for one plan: a ticket's SLA at an instant is computed once."""
    known: dict[tuple[int, dt.datetime], tuple[Ticket, Sla]] = {}

    def sla_at(ticket: Ticket, at: dt.datetime) -> Sla:
        found = known.get((id(ticket), at))
        if found is None or found[0] is not ticket:
            found = known[(id(ticket), at)] = (ticket, sla_of(ticket, config, at))
        return found[1]

    return sla_at


def _checked(ticket: Ticket) -> dt.datetime | None:
    """When a sweep last wrote this ticket (the ``checked`` time of its ``sla`` block)."""
    stored = ticket.extra.get("sla")
    return coerce_timestamp(stored.get("checked")) if isinstance(stored, Mapping) else None


def _next_instant(
    ticket: Ticket, since: dt.datetime | None, now: dt.datetime, sla_at: SlaAt
) -> dt.datetime:
    """The first moment after ``since`` and before ``now`` at which the rules' view of the
    ticket changed (a warning or deadline crossed, or the ticket changed), else ``now``.

    A ticket never swept before is evaluated as of ``now`` only.
    """
    if since is None or since >= now:
        return now
    crossings = [m for m in sla_at(ticket, now).events_after(since) if m < now]
    changes = times_between(ticket.activity, since, now)
    changes += [e.at for e in ticket.entries if since < e.at < now]
    moments = crossings + changes
    return min(moments).astimezone(now.tzinfo) if moments else now


def _bookkeeping(
    ticket: Ticket,
    now: dt.datetime,
    rules: Change,
    fired: list[str],
    skipped: list[str],
    sla_at: SlaAt,
) -> TicketPlan:
    """Add the ``sla`` block (and its log lines) to what the rules changed."""
    after = lifecycle.applied(ticket, rules)
    sla = sla_at(after, now)
    block = sla_block(sla)
    stored = ticket.extra.get("sla")
    old = (
        {k: v for k, v in stored.items() if k != "checked"} if isinstance(stored, Mapping) else None
    )
    change = rules
    if block != (_plain(old) if old is not None else None) and (block or old):
        log = _sla_log(old or {}, block, now)
        sets = {"sla": {"policy": block.get("policy"), "checked": now, **_clocks(block)}}
        change = lifecycle.combined(change, Change(sets=sets, activity=tuple(log)))
    elif change and isinstance(stored, Mapping):
        sets = {"sla": {**stored, "checked": now}}
        change = lifecycle.combined(change, Change(sets=sets))
    result = TicketPlan(lifecycle.applied(ticket, change), change, sla, fired, skipped)
    result.escalations = [
        Escalated(ticket.id, e.kind, e.from_, e.to, e.by) for e in change.escalations
    ]
    return result


def sla_block(sla: Sla) -> dict[str, object]:
    """What the sweep writes into the front-matter ``sla:`` mapping (without ``checked``)."""
    if sla.policy is None:
        return {}
    tz = sla.policy.calendar.tz
    block: dict[str, object] = {"policy": sla.policy.name}
    for clock in sla.clocks:
        due = clock.due.astimezone(tz) if clock.due is not None else None
        block[clock.metric] = {"due": due, "state": clock.state}
    return block


def _clocks(block: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in block.items() if k != "policy"}


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _sla_log(
    old: Mapping[str, object], new: Mapping[str, object], now: dt.datetime
) -> list[Activity]:
    log = []
    if old.get("policy") != new.get("policy"):
        log.append(
            Activity(
                now,
                SWEEPER,
                field="sla.policy",
                old=_text(old.get("policy")),
                new=_text(new.get("policy")),
                note="policy re-selected" if old.get("policy") else "policy selected",
            )
        )
    for metric in sorted(set(_clocks(old)) | set(_clocks(new))):
        before, after = _state(old.get(metric)), _state(new.get(metric))
        if before != after:
            log.append(Activity(now, SWEEPER, field=f"sla.{metric}", old=before, new=after))
    return log


def _state(clock: object) -> str | None:
    return str(clock.get("state")) if isinstance(clock, Mapping) and clock.get("state") else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def next_event(ticket: Ticket, sla: Sla, config: Config, now: dt.datetime) -> float | None:
    """When a sweep must look at this ticket again (a Unix time; inf: never), if unchanged.

    Until then no warning or deadline is crossed and no time-based rule condition (age,
    idle, overdue, repeat) changes, so a sweep would change nothing.
    """
    if not ticket.active:
        return math.inf
    moments: list[dt.datetime] = []
    running = [c for c in sla.clocks if c.stop is None and c.state != "paused"]
    moments += [m for c in running for m in (c.warn, c.due) if m is not None]
    dues = [c.due for c in running if c.due is not None]
    memory = automation.memory_of(ticket)
    for rule in config.automation:
        for leaf in _durations(rule.when):
            if leaf.name == "age":
                moments.append(ticket.created + leaf.limit)
            elif leaf.name == "idle":
                moments.append(ticket.updated + leaf.limit)
            else:
                moments += [due + leaf.limit for due in dues]
        if rule.repeat is not None and rule.name in memory:
            moments.append(memory[rule.name] + rule.repeat)
    future = [m.timestamp() for m in moments if m > now]
    return min(future) if future else math.inf


def _durations(condition: object) -> list[DurationCondition]:
    """The age/idle/overdue leaves of a condition tree."""
    if isinstance(condition, DurationCondition):
        return [condition]
    found: list[DurationCondition] = []
    for name in ("children", "child"):
        inner = getattr(condition, name, None)
        for part in inner if isinstance(inner, tuple) else ([inner] if inner else []):
            found += _durations(part)
    return found
