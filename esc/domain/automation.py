"""Automation rules run on one ticket at one instant. Pure.  The rules themselves are
:mod:`esc.domain.rules`.

A rule fires at most once while its condition stays true: the ticket remembers when each
rule last fired (front-matter ``fired``), and forgets it when a sweep sees the condition
false.  ``repeat: 4h`` lets a rule fire again after that much working time while true.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from esc.domain import lifecycle
from esc.domain.calendar import business_time_between
from esc.domain.conditions import Facts, crossings
from esc.domain.config import Config
from esc.domain.errors import BadInput, Refused
from esc.domain.model import (
    CUSTOMER_METRICS,
    NOTIFIED,
    RULE_ACTOR,
    Activity,
    Change,
    Ticket,
)
from esc.domain.routing import ticket_fields
from esc.domain.rules import Rule
from esc.domain.sla import Clock, Sla, request_clocks
from esc.domain.timestamps import coerce_timestamp


@dataclass
class RulesOutcome:
    """What the rules did to one ticket at one instant."""

    ticket: Ticket
    change: Change = field(default_factory=Change)
    changes: list[tuple[str, Change]] = field(default_factory=list)  # (rule, its change)
    slas: list[Sla] = field(default_factory=list)  # (the SLA after each of ``changes``)
    fired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "rule: why it could not act"


def facts(ticket: Ticket, config: Config, sla: Sla) -> Facts:
    return Facts(
        fields=ticket_fields(ticket, config),
        body=ticket.description,
        now=sla.now,
        created=ticket.created,
        updated=ticket.updated,
        sla=sla.condition_states(),
        overdue=sla.customer_overdue,
    )


MAX_PASSES = 100  # a bound on passes at one instant, beyond the action budget


def run_rules(
    ticket: Ticket,
    config: Config,
    at: dt.datetime,
    memory: dict[str, dt.datetime],
    budget: list[int],
    sla_of: Callable[[Ticket, dt.datetime], Sla],
    before: Callable[[], Sla] | None = None,
    last_sweep: Callable[[], Seen | None] | None = None,
    needless: Callable[[str, Change], bool] | None = None,
) -> RulesOutcome:
    """Evaluate the rules in order at ``at``, again and again until none fires: later rules
    see earlier rules' effects, and an earlier rule sees a later one's (a rule that makes
    the ticket urgent, and so breached, lets a rule on breaches fire at the same instant).

    A rule fires at most once while its condition holds, so the passes end; ``budget``
    (the actions this ticket may still take in this sweep) bounds rules that undo each
    other.  ``memory`` (rule name -> when it last fired) is updated in place.  ``before``:
    the SLA of the ticket as it was just before ``at`` (before what changed it then), if
    known, asked for only when a clock may have entered a state at ``at`` by a change
    (:func:`crossed_since`).  ``last_sweep``: what the ticket's last sweep saw
    (:class:`Seen`), asked for when needed.  ``needless(rule, change)``: whether a rule's
    change is one a person made again later (a replay's): the rule fired, and its change
    is listed, but the later rules do not see it (nothing follows from what was never made).
    """
    outcome = RulesOutcome(ticket)
    first: tuple[Sla, Facts] | None = None
    if memory:  # (a rule whose condition is false as the instant begins is re-armed
        # before any rule acts: whatever their order, a rule an earlier one in the list
        # makes true again at this instant fires again)
        sla = sla_of(ticket, at)
        first = sla, facts(ticket, config, sla)
        for rule in config.automation:
            if rule.name in memory and not rule.when.matches(first[1]):
                memory.pop(rule.name, None)
    for _ in range(MAX_PASSES):
        if not _one_pass(
            outcome, config, at, memory, budget, sla_of, first, before, last_sweep, needless
        ):
            break
        first = None
    return outcome


def _one_pass(
    outcome: RulesOutcome,
    config: Config,
    at: dt.datetime,
    memory: dict[str, dt.datetime],
    budget: list[int],
    sla_of: Callable[[Ticket, dt.datetime], Sla],
    first: tuple[Sla, Facts] | None = None,
    before: Callable[[], Sla] | None = None,
    last_sweep: Callable[[], Seen | None] | None = None,
    needless: Callable[[str, Change], bool] | None = None,
) -> bool:
    """One pass over the rules; whether any fired (or tried to).  ``first``: the SLA and
    facts of the ticket as the pass finds it, if known."""
    if first is not None:
        sla, seen = first
    else:
        sla = sla_of(outcome.ticket, at)
        seen = facts(outcome.ticket, config, sla)  # (what the rules see until one changes it)
    acted = False
    for rule in config.automation:
        if not rule.when.matches(seen):
            memory.pop(rule.name, None)
            continue
        if "status" in outcome.change.sets and not outcome.ticket.active:  # (a rule
            continue  # resolved or closed it: rules act on new, open and pending tickets,
            # the later ones at this instant too; their memory is kept as it is)
        last = memory.get(rule.name)
        if last is not None and not (
            _may_repeat(rule, last, at, sla)
            or crossed_since(rule, last, at, sla, before, outcome.ticket, last_sweep)
        ):
            continue
        if budget[0] <= 0:
            outcome.skipped.append(f"{rule.name}: {CAP_REACHED}")
            return False
        budget[0] -= 1
        memory[rule.name] = at
        acted = True
        try:
            change = rule_change(rule, outcome.ticket, config, at)
        except (Refused, BadInput) as exc:
            outcome.skipped.append(f"{rule.name}: {exc}")
            continue
        if needless is not None and needless(rule.name, change):
            # (listed, for the sweep to say it was not made twice; not fired: its
            # `notify:` is not sent, as its line, dropped with it, would not say it was)
            outcome.changes.append((rule.name, change))
            outcome.slas.append(sla)
            continue
        if change or change.activity:  # (a notify: a line of its own, the ticket as it was)
            outcome.ticket = lifecycle.applied(outcome.ticket, change)
            outcome.change = lifecycle.combined(outcome.change, change)
            outcome.changes.append((rule.name, change))
            sla = sla_of(outcome.ticket, at)
            outcome.slas.append(sla)
            seen = facts(outcome.ticket, config, sla)
        outcome.fired.append(rule.name)
    return acted


CAP_REACHED = "action limit for one instant reached"  # (the end of a skipped rule's line)


def _may_repeat(rule: Rule, last: dt.datetime, at: dt.datetime, sla: Sla) -> bool:
    if rule.repeat is None:
        return False
    if sla.policy is None:
        return at - last >= rule.repeat
    return business_time_between(sla.policy.calendar, last, at) >= rule.repeat


def crossed_since(
    rule: Rule,
    last: dt.datetime,
    at: dt.datetime,
    sla: Sla,
    before: Callable[[], Sla] | None = None,
    ticket: Ticket | None = None,
    last_sweep: Callable[[], Seen | None] | None = None,
) -> bool:
    """Whether a clock crossed, after ``last`` and by ``at``, into a state an ``sla:`` term
    of the rule's condition names (:func:`esc.domain.conditions.crossings`), and is in it
    at ``at``: another breach (or warning) than the one the rule fired on, which it fires
    on again though its condition never turned false in between.  A clock crosses at its
    deadline (or warning time), or at a change that put it past that (a policy chosen
    anew, whose deadline counted from the start has passed: it was not in that state in
    ``before``, the SLA just before ``at``).  The ``collaboration`` clock follows one
    request of ``ticket`` at a time (the oldest open): another request's own clock that
    crossed is another crossing too (a second team's OLA breached while the first's is).
    A clock the ticket's last sweep (``last_sweep``) saw breached, with a deadline the
    rule had fired after, is the breach the rule fired on: no new one, though under
    rules.yaml as it is now its deadline falls later (a target made longer since)."""
    terms = crossings(rule.when)
    if not terms or last >= at:
        return False
    for metric, states, crossed in terms:
        for clock in sla.clocks:
            named = clock.metric == metric if metric else clock.metric in CUSTOMER_METRICS
            if not named or clock.state not in crossed:
                continue
            earlier = None if before is None else before()  # (the plan's SLAs are kept:
            if earlier is not None and all(  # asked again, it is not computed again)
                c.state not in states for c in earlier.clocks if c.metric == clock.metric
            ):
                return True  # (put in it by what changed at ``at``)
            # (else by time: its mark passed since ``last``)
            if _crossed_by_time(clock, states, last, at, last_sweep):
                return True
            if metric == "collaboration" and ticket is not None and ticket.requests:
                own = [c for c in request_clocks(ticket, sla.policy, at) if c is not None]
                if any(c.state in crossed and _crossed_by_time(c, states, last, at, None)
                       for c in own):  # fmt: skip  (a request's: the block has none of its own)
                    return True
    return False


@dataclass(frozen=True)
class Seen:
    """What a ticket's last sweep saw (its ``sla:`` block): when (``checked``), and the
    state and deadline of each clock, by metric."""

    checked: dt.datetime | None
    states: Mapping[str, str]
    dues: Mapping[str, dt.datetime]
    retimed: bool = True  # (swept under another rules.yaml: its deadlines may have moved)


def _crossed_by_time(clock: Clock, states: tuple[str | None, ...], last: dt.datetime,
                     at: dt.datetime,
                     last_sweep: Callable[[], Seen | None] | None) -> bool:  # fmt: skip
    """Whether ``clock``, in a state a term names at ``at``, got there by its mark passing
    after ``last`` (and by ``at``), unless it was in a state the term names then already
    (in warning, then breached, for `[warning, breached]`: the same match), or the last
    sweep saw it breached by a deadline the rule fired after (``last_sweep``: the breach
    the rule fired on, its deadline moved later by rules.yaml since) or by one before that
    sweep (a target made longer, then that sweep: its deadline, as that sweep wrote it, is
    the later one, but the breach is the one the rule fired on), or in warning by a mark
    before that sweep."""
    due, warn = clock.due, clock.warn
    matched = (due is not None and due <= last) or (
        "warning" in states and warn is not None and warn <= last
    )
    instant = due if clock.state == "breached" else warn
    if matched or instant is None or not last < instant <= at:
        return False
    swept = last_sweep() if last_sweep is not None else None
    seen = swept.states.get(clock.metric) if swept is not None else None
    seen_due = swept.dues.get(clock.metric) if swept is not None else None
    if swept is None or seen is None or seen_due is None or clock.start > seen_due:
        return True  # (nothing seen of it; or a new cycle of its metric, a next response
        # asked for after the deadline the last sweep saw)
    if clock.state == "breached":  # (the breach the rule fired on, as the last sweep saw it;
        # or the very deadline that sweep saw breached, fallen before it: judged there, where
        # the rule did not fire again, under the rules.yaml of each moment, as a replay from
        # that sweep's `checked` cannot; a deadline re-timed since, by a change of the
        # ticket, is another breach)
        fired_on = swept.retimed and seen_due <= last
        judged = swept.checked is not None and instant < swept.checked and clock.due == seen_due
        return not (seen == "breached" and (fired_on or judged))
    if not swept.retimed:  # (under the same rules, the replay from that sweep sees it)
        return True
    # (a warning the last sweep saw already, or past it: the same warning, its mark moved;
    # but one at that sweep's own instant may be one the action cap held back there)
    return not (seen in ("warning", "breached") and instant != swept.checked)


def rule_change(rule: Rule, ticket: Ticket, config: Config, at: dt.datetime) -> Change:
    """The change all of a rule's actions make, applied in order."""
    actor = f"{RULE_ACTOR}{rule.name}"
    note = next((str(v) for k, v in rule.actions if k == "note"), None)
    reason = note or f"rule {rule.name}"
    made: list[tuple[str, Change]] = []
    current = ticket
    for action, value in rule.actions:
        change = _action(action, value, current, config, at, actor, reason)
        current = lifecycle.applied(current, change)
        made.append((action, change))
    # with `involve:`, the note is the request's ask: written as its note when a request is
    # made, and not at all when none is (the team was asked already, or owns the ticket)
    asking = any(action == "involve" for action, _ in made)
    total = Change()
    for action, change in made:
        if not (asking and action == "note"):
            total = lifecycle.combined(total, change)
    return total


def _action(
    action: str, value: object, t: Ticket, config: Config, at: dt.datetime, actor: str, reason: str
) -> Change:
    if action == "escalate":
        target = value.get("to") if isinstance(value, Mapping) else None
        if target is not None:
            return lifecycle.escalate(t, config, at, actor, reason, to=str(target))
        return lifecycle.escalate(t, config, at, actor, reason, up=True)
    if action == "priority":
        wanted = _raised(t, config) if value == "raise" else str(value)
        if config.rank(wanted) > config.rank(t.priority):
            return lifecycle.escalate(t, config, at, actor, reason, priority=wanted)
        return lifecycle.classify(t, config, at, actor, priority=wanted)
    if action == "assign":
        person = _lead(t, config) if value == "lead" else str(value)
        return lifecycle.assign(t, config, at, actor, person, force=True)
    if action == "tag":
        return lifecycle.add_tags(t, at, actor, [str(value)])
    if action == "notify":  # (the sweep's events carry the message; the log says who was
        # told, as for every action of a rule: an audit, and a firing a replay after a merge
        # knows, which it fired again under another event id)
        names = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        return Change(activity=(Activity(at, actor, event=NOTIFIED, note=", ".join(names)),))
    if action == "involve":  # idempotent: one open request per team, none to its own team
        team = str(value)
        if team == t.team or any(r.team == team for r in t.open_requests()):
            return Change()
        return lifecycle.involve(t, config, at, actor, team, reason)
    if action == "note":
        return lifecycle.comment(t, config, at, actor, str(value), kind="note")
    # (a resolution is public: the customer reads it, so never the rule's internal note)
    said = f"rule {actor.removeprefix(RULE_ACTOR)}" if value in ("resolved", "closed") else reason
    return _status(str(value), t, config, at, actor, said)


def _raised(t: Ticket, config: Config) -> str:
    rank = config.rank(t.priority)
    if rank + 1 >= len(config.priorities):
        raise Refused(f"{t.id} already has the highest priority")
    return config.priorities[rank + 1]


def _lead(t: Ticket, config: Config) -> str:
    team = config.teams.get(t.team)
    if team is None or team.lead is None:
        raise Refused(f"team {t.team} has no lead")
    return team.lead


def _status(
    status: str, t: Ticket, config: Config, at: dt.datetime, actor: str, reason: str
) -> Change:
    if status == t.status:
        return Change()
    if status == "pending":
        return lifecycle.wait(t, config, at, actor, reason)
    if status == "resolved":
        return lifecycle.resolve(t, config, at, actor, reason)
    if status == "closed":
        resolution = None if t.status == "resolved" else reason
        return lifecycle.close(t, config, at, actor, resolution=resolution)
    if t.status == "pending":
        return lifecycle.resume(t, config, at, actor)
    if t.status == "new" and status == "open":
        return lifecycle.start(t, at, actor, reason)
    return lifecycle.reopen(t, config, at, actor, reason)


def memory_of(ticket: Ticket) -> dict[str, dt.datetime]:
    """The ticket's record of when each rule last fired."""
    raw = ticket.extra.get("fired")
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for name, when in raw.items():
        moment = coerce_timestamp(when)
        if moment is not None:
            out[str(name)] = moment
    return out
