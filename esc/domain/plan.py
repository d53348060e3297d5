"""`esc sweep`, pure part: for one ticket at ``now``, what the SLA clocks and rules change.

The plan replays what a sweep missed: if the ticket was last swept at ``checked``, the
rules are evaluated at each moment since at which their view of the ticket changed, in
order, against the ticket as it was at that moment (:mod:`esc.domain.as_of`), then at
``now``.  So the outcome does not depend on when or how often sweeps ran: it is what
sweeping at every instant would have done, and no effect is stamped before its cause.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, Field, dataclass, field, is_dataclass, replace
from dataclasses import fields as dc_fields
from typing import TypeVar, cast, get_args

from esc.domain import automation, lifecycle
from esc.domain.as_of import LOGGED_FIELDS, History, later_changes, ticket_as_of
from esc.domain.automation import CAP_REACHED
from esc.domain.calendar import MAX_HORIZON, CalendarError, add_business_time
from esc.domain.conditions import DurationCondition
from esc.domain.config import Config
from esc.domain.model import (
    RULE_ACTOR,
    STATUS_SET_FIELDS,
    SWEEPER,
    Activity,
    Change,
    ClockState,
    Entry,
    Escalation,
    EscalationKind,
    Request,
    Ticket,
    by_person,
    event_moments,
    field_changes,
    times_between,
)
from esc.domain.notify import DUE_NOTE
from esc.domain.routing import facts_for, ticket_field, ticket_fields
from esc.domain.rules import Rule
from esc.domain.sla import (
    Clock,
    ClockMemo,
    Policy,
    Sla,
    advanced,
    breached_at,
    choose_policy,
    compute,
    opened_as_it_was,
    request_clocks,
)
from esc.domain.timestamps import coerce_timestamp, fixed_in, format_timestamp

# The moments one sweep replays for a ticket, at most: enough for a `repeat: 1h` rule on an
# always-open calendar over a year without sweeps (8,760), while a rule repeating every
# minute cannot hold a sweep for long.  Past it, the rest is evaluated at now, and said.
MAX_REPLAY_STEPS = 10_000


def sla_of(ticket: Ticket, config: Config, at: dt.datetime) -> Sla:
    """The ticket's SLA as of ``at``: the policy its fields select now, clocks as of ``at``.

    The policy chosen, and each clock computed, are shared with every ticket whose fields
    and times agree (:func:`_policies_chosen`, :func:`esc.domain.sla.compute`'s ``known``):
    a command's tickets share their instants, created in the same minute and counted at
    the same ``at`` (a cold sweep's tickets at their last sweep's time: 94 → 43 µs each)."""
    if ticket.status == "closed" and not config.policies:
        return Sla(at, None, "no policies")
    policy, why = _policy_of(ticket, config, at, _policies_chosen(config))
    return compute(ticket, policy, why, at, {})


def policy_at(ticket: Ticket, config: Config, at: dt.datetime) -> str | None:
    """The name of the policy that applies to ``ticket`` at ``at`` (None: none does)."""
    policy = _policy_of(ticket, config, at)[0]
    return None if policy is None else policy.name


def _policy_of(
    ticket: Ticket,
    config: Config,
    at: dt.datetime,
    known: dict[tuple[object, ...], tuple[Policy | None, str]] | None = None,
) -> tuple[Policy | None, str]:
    """The policy that applies to ``ticket`` at ``at``, and why.  ``known``, if given,
    remembers it for the versions of the ticket that agree on what the policies'
    conditions read (:func:`_policy_key`): a replay asks at every moment and after every
    rule, and most changes (a comment, a status) select no other policy."""
    if known is None:
        facts = facts_for(ticket_fields(ticket, config), ticket.description, at)
        return choose_policy(config.policies, facts)
    key = _policy_key(ticket, config, _policy_reads(config), at)
    found = None if key is None else known.get(key)
    if found is None:
        facts = facts_for(ticket_fields(ticket, config), ticket.description, at)
        found = choose_policy(config.policies, facts)
        if key is not None:
            known[key] = found
    return found


def _policy_key(
    ticket: Ticket, config: Config, reads: tuple[str, ...], at: dt.datetime
) -> tuple[object, ...] | None:
    """What the policies' conditions read of a version of a ticket (its fields as
    :func:`esc.domain.routing.ticket_fields` has them): the fields they name, the body,
    and for an age or idle limit the instant and the time it counts from.  None if a field
    they name holds a value other than text, a whole number or a list of texts: values
    that compare equal would then not tell the conditions' answer (a time in another zone
    on another local date), so the policy is chosen afresh."""
    key: list[object] = []
    for name in reads:
        if name in ("sla", "overdue"):
            continue  # (no SLA in a policy's facts: it is what they choose)
        if name == "body":
            key.append(ticket.description)
        elif name in ("age", "idle"):
            key += (at, ticket_field(ticket, config, "created" if name == "age" else "updated"))
        else:
            value = ticket_field(ticket, config, name)
            if type(value) is list and all(type(v) is str for v in value):
                value = tuple(value)
            elif not (value is None or type(value) is str or type(value) is int):
                return None
            key.append(value)
    return tuple(key)


_POLICY_READS: dict[int, tuple[Config, tuple[str, ...]]] = {}


_POLICIES_CHOSEN: dict[int, tuple[Config, dict[tuple[object, ...], tuple[Policy | None, str]]]] = {}


def _policies_chosen(config: Config) -> dict[tuple[object, ...], tuple[Policy | None, str]]:
    """The policy chosen for each :func:`_policy_key` so far, for every ticket a process
    plans under ``config`` (most tickets share a few keys: their priority, say)."""
    known = _per_config(_POLICIES_CHOSEN, config, lambda c: {})
    if len(known) >= 20_000:
        known.clear()
    return known


def _policy_reads(config: Config) -> tuple[str, ...]:
    """The names the policies' conditions read (found once per configuration)."""
    return _per_config(
        _POLICY_READS,
        config,
        lambda c: tuple(sorted(frozenset[str]().union(*(p.when.fields() for p in c.policies)))),
    )


def _clock_inputs(ticket: Ticket) -> tuple[object, ...]:
    """Everything of a ticket its SLA clocks are computed from (:func:`esc.domain.sla.compute`),
    besides the policy: tickets that agree on these have the same clocks."""
    return (
        ticket.created,
        ticket.status,
        ticket.updated,
        ticket.first_response_at,
        ticket.resolved_at,
        ticket.requests,
        ticket.entries,
        field_changes(ticket.activity, "status"),
    )


_INPUT_NAMES = ("created", "status", "updated", "first_response_at", "resolved_at", "requests",
                "entries", "status_changes")  # fmt: skip  (_clock_inputs's, in its order)
_ENTRIES = _INPUT_NAMES.index("entries")


@dataclass(slots=True)  # (one per escalation a sweep made, kept until it prints them)
class Escalated:
    ticket_id: str
    kind: EscalationKind
    from_: str | None
    to: str
    by: str


@dataclass(slots=True)
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
    note: str | None = None  # "T-…: …" when it was created or last swept after now
    firings: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (rule, when) each

    @property
    def at_rest(self) -> bool:
        """Whether the ticket, as planned, is at rest at the plan's instant: the rules were
        evaluated until none fired (a rule that fired saw what the others did, and fired
        again if it made another's condition true), and none was skipped (the action limit
        reached, or a change it could not make).  Then, the ticket left as planned, no
        sweep changes anything in it until :func:`next_event`, whether a rule acted or not;
        one not at rest is planned again by the next sweep."""
        return not self.skipped

    def planned(self) -> Planned | None:
        """The plan's record for the sweep's output; None if it only kept the books."""
        if not (self.escalations or self.fired or self.skipped):
            return None
        return Planned(self.ticket.id, self.fired, self.skipped, self.escalations)


@dataclass(frozen=True)
class Past:
    """What a workspace's sweeps know of a ticket's past that its file does not say."""

    # the configuration its `sla.rules` names, if another than this one and kept
    earlier: Config | None = None
    # when this configuration became the one the sweeps here run under (None: unknown)
    switched: dt.datetime | None = None
    # a ticket no policy applies to, without an `sla:` block, may have been swept (by an
    # older esc, which wrote such tickets no block)
    blockless_swept: bool = False


_NO_PAST = Past()


def plan(
    ticket: Ticket, config: Config, now: dt.datetime, past: Past = _NO_PAST
) -> TicketPlan:
    """Everything one sweep at ``now`` does to ``ticket``.

    The rules are evaluated at every moment since the ticket's last sweep at which their
    view of it changed (a change to the ticket, a warning or deadline crossed, a time-based
    condition turning true), each time against the ticket as it was then plus what the
    rules did before; then at ``now``.  What they did is then written as of now: a field
    a person changed after the rule acted keeps the person's value, and an escalation a
    person already made is not made twice.

    A ticket last swept under another configuration (rules.yaml or teams.yaml edited
    since) is not replayed under this one: that would stamp effects before the edit that
    caused them.  Given that other configuration (``past.earlier``, the one its
    ``sla.rules`` names), the moments it missed are replayed under it until this one
    became the sweeps' own (``past.switched``), as sweeps then would have, and under this
    one since (:func:`_across`); without it, this one's rules act at now alone.

    A ticket without an ``sla:`` block was never swept, and is replayed from its creation;
    ``past.blockless_swept``: but one no policy applies to may have been (an older esc
    wrote such tickets no block): it is evaluated at now, as that esc did, lest rules added
    since act in its past.
    """
    if past.earlier is not None:
        across = _across(ticket, config, now, past)
        if across is not None:
            return across
    behind = _behind(ticket, now)
    if behind is not None:
        return _untouched(ticket, now, behind, lambda t, at: sla_of(t, config, at))
    stored = _stored_version(ticket)  # (None: swept before esc recorded it; trusted)
    since = _checked(ticket) if stored in (None, sweep_version(config)) else None
    if "sla" not in ticket.extra and not _acted_on_by_rules(ticket) and (
        _policy_of(ticket, config, now)[0]
        # (every sweep since it was created wrote a block, even of a ticket no policy
        # applies to: an open one without one was never swept, resolved and reopened since
        # or not, and its past is replayed as sweeps then would have seen it; reopened, it
        # was evaluated at now alone.  A settled one is evaluated at now, as ever: no block
        # is written of it, and replayed it would be again by every sweep that plans it)
        or (ticket.active and not past.blockless_swept and not _acted_on_by_rules(ticket))
        or (not past.blockless_swept and _had_policy(ticket, config, now))
    ):
        # never swept (created while no sweep ran): replayed from the instant it was
        # created, whether resolved or closed since or not: a sweep every minute would
        # have seen it active until then.  (A ticket no policy applies to gets a block of
        # the sweep alone, `checked` and `rules`, from its first sweep on; before esc wrote
        # one, nothing told whether a sweep had seen it: an open one no rule acted on is
        # replayed, any other evaluated at now, as before.)
        since = ticket.created - _MICROSECOND
    if not ticket.active and not _settled_at(ticket, since, now) and (
        since is None
        or ticket.updated <= since
        or not _policy_input_changed(ticket, config, since, now)
    ):  # (a status change sets `updated`: most closed tickets need no replay at all; their
        # one SLA computation is not worth remembering.  One whose status, or a field its
        # policy is chosen by, changed since: replayed, so that a policy re-selected is
        # logged at the change that re-selected it, not at this sweep; and one a person
        # settled in the very second of the last sweep, as the replay looks at that
        # instant again for an open one: else its clocks' `ok → met` was stamped at now)
        return _bookkeeping(
            ticket, config, now, Change(), [], [], lambda t, at: sla_of(t, config, at)
        )
    sla_at = _Slas(config, now)
    # (what the last sweep saw: a breach it saw, re-timed by targets changed since, is no
    # new one; nor is one timed before that sweep, which judged it under the rules.yaml of
    # each moment: a replay from it, under the same rules as that sweep but not as the
    # moments before it (a target made shorter, then longer again), took a breach of those
    # moments for a new one, and a sweep without the cache escalated again.  Asked only of
    # a rule that fired and is still true)
    changed_rules = stored not in (None, sweep_version(config))
    seen = (  # (none without a block: a ticket never swept, as most a first sweep reads)
        _once(functools.partial(_seen, ticket, changed_rules))
        if "sla" in ticket.extra
        else None
    )
    memory = automation.memory_of(ticket)
    before = dict(memory)
    recorded = _swept_after(ticket, since)
    if recorded:  # (`fired:` is of later too: as it was at `since`)
        memory = _memory_as_of(ticket, memory, since)
    effects: list[_Effect] = []
    fired: list[str] = []
    fired_at: list[tuple[str, dt.datetime]] = []  # (each time a rule fired, for its notify:)
    skipped: list[str] = []
    versions = _Versions(ticket, since, now)
    views = _Views(ticket, versions, effects)
    logged = _Logged(ticket, config, now)
    firings: dict[dt.datetime, set[str]] = {}
    for line in recorded:
        if line.by.startswith(RULE_ACTOR):
            firings.setdefault(line.at, set()).add(line.by[len(RULE_ACTOR) :])
    if since is not None and recorded:
        logged.restart(since, sla_at(versions.as_of(since), since), recorded)
    moment = since
    spent_at_since = {n for n, t in memory.items() if t == since}
    spent_at_since |= firings.get(since, set()) if since is not None else set()
    deferred: dt.datetime | None = None  # (the next instant, after one whose cap was reached)
    at_deferred = False  # (this moment is such a next instant)
    chain = 0  # (how many such next instants in a row: the cap reached at each)
    if since is not None and "sla" in ticket.extra and len(config.automation) > config.max_actions:
        # (the last sweep may have reached the cap at its own instant: what it held back
        # acts a second later, as it does when the capped instant is one a replay visits)
        deferred = since + _SECOND
    # (a person's change in the very second of the last sweep may have come after it: the
    # rules see it at that instant, as a sweep run after it would have; if the sweep saw it,
    # the rules' memory makes the second look at that instant do nothing, but for the cap
    # on actions, which that sweep may have reached there: what it held back acts in its
    # next second still, the budget at that instant being what the sweep left of it.  Not
    # looked at again while the cap might have been reached, the change was seen a second
    # late: the clocks a reply or a resolve stopped logged `ok → met` at 10:20:01)
    revisit = (
        since is not None
        and since < now
        and _changed_by_person_at(ticket, since)
    )
    # (a block of an esc that recorded no rules' version: which rules that sweep ran is
    # unknown; the rules are looked at as of its instant too, so a rule true then acts
    # then, however often sweeps ran since, not at whatever moment came next; the block
    # stands as written unless they change the ticket)
    unversioned = (
        not revisit
        and deferred is None
        and since is not None
        and since < now
        and stored is None
        and isinstance(ticket.extra.get("sla"), Mapping)
    )
    revisit = revisit or unversioned
    for step in range(MAX_REPLAY_STEPS + 1):
        then: Ticket | None = None  # (the ticket as it was just before ``at``)
        if moment is None:
            at = now
        elif revisit:
            at, revisit = moment, False
        else:
            then = views(moment)
            at = _next_instant(versions, then, moment, now, config, memory, sla_at)
            at_deferred = deferred is not None and moment < deferred < at
            if deferred is not None and at_deferred:
                at = deferred  # (what the cap on actions left: the rules' next instant)
            deferred = None
            if step == MAX_REPLAY_STEPS and at < now:  # (moments left: never silently)
                skipped.append(
                    f"replay stopped after {MAX_REPLAY_STEPS:,} moments, at"
                    f" {format_timestamp(moment)}; what the rules would have done since is"
                    " evaluated as of now (sweep more often, or make `repeat:` longer)"
                )
                at = now
            effects += _replies_that_reopen(ticket, versions, effects, moment, at)
            effects += _moves_that_settle(ticket, versions, effects, moment, at)
            effects += _reroutes_undone(ticket, effects, moment, at)
            effects += _asked_of_owner(ticket, versions, effects, moment, at)
        view = views(at)
        for name in firings.get(at, ()):  # (a sweep elsewhere fired it then: it is in the
            memory[name] = at  # view, and the rule does not fire again at that instant)
        if view.active:
            budget = [config.max_actions]  # (at each instant, as a sweep then would have)
            if at == since:  # (the last sweep's own instant, looked at again: the rules it
                # fired then took their part of the cap; a second sweep at one --now fires
                # nothing it held back, which acts a second later)
                budget[0] -= len(spent_at_since)
            acted = view  # (what the rules saw: with what people did at ``at``)
            if then is None and moment is None and at - _MICROSECOND >= ticket.created:
                # (evaluated at now alone, rules.yaml changed since the last sweep: a clock
                # a change at now put past its deadline (a policy chosen anew by a rule's
                # priority) crossed now, as in a replay; the ticket just before now says)
                then = views(at - _MICROSECOND)
            just_before = None if then is None else functools.partial(sla_at, then, at)
            outcome = automation.run_rules(
                view, config, at, memory, budget, sla_at, just_before, seen,
                functools.partial(_needless, ticket, at, now),
            )  # fmt: skip
            chain = chain + 1 if at_deferred else 0
            held_back = [s for s in outcome.skipped if s.endswith(CAP_REACHED)]
            if budget[0] <= 0 and held_back and chain < len(config.automation) and at < now:
                # (the cap reached: the rules it stopped act at the next instant, as a sweep
                # then would, and so on while the cap holds some back, as sweeps every second
                # would; at most as many seconds in a row as there are rules: rules that undo
                # each other, which the cap is there for, would otherwise be replayed every
                # second until now.  Held back to act then, they are not "skipped".)
                deferred = at + _SECOND
                outcome.skipped = [s for s in outcome.skipped if not s.endswith(CAP_REACHED)]
            made = [_Effect(name, at, change) for name, change in outcome.changes]
            effects += made
            fired += outcome.fired
            fired_at += [(name, at) for name in outcome.fired]
            skipped += outcome.skipped
            view = outcome.ticket
            # (a breach a change at ``at`` ended, as an escalation to a level another policy
            # covers does, made by the rules now or recorded by a sweep before: logged at
            # its instant, before the change's lines, as the audit trail and the reports
            # must have it)
            if then is not None and moment is not None and not versions.quiet(moment, at):
                after = sla_at(view, at)
                if after.policy is None or after.policy.name != logged.block.get("policy"):
                    logged.breaches(at, sla_at(then, at), after)  # (an earlier sweep's)
            if outcome.changes:  # (and what each change made of the block: after its lines)
                changed = sla_at(acted, at)
                logged.warnings(at, changed, sla_at(view, at))
                logged.breaches(at, changed, sla_at(view, at))
                for effect, after in zip(made, outcome.slas, strict=True):
                    logged.made_by(effect, at, changed, after)
                    changed = after
        if at >= now:
            break
        if unversioned and at == since and not effects:
            unversioned = False  # (nothing the rules did at its instant: the block stands)
        else:
            logged.at(at, view, sla_at(view, at))  # (the block a sweep then wrote)
        moment = at
    total = Change()
    void = _void_reroutes(ticket, effects)
    for effect in effects:
        kept = _kept(ticket, effect, now, now, void)
        if kept is None:
            skipped.append(_made_by_hand(ticket, effect, now))
        else:
            total = lifecycle.combined(total, kept)
            if kept.activity:
                logged.last_lines[id(effect)] = kept.activity[-1]
    total = lifecycle.combined(total, _owner_answers(ticket, total))
    updated = total.sets.get("updated")
    if isinstance(updated, dt.datetime) and updated < ticket.updated:
        total = lifecycle.combined(total, Change(sets={"updated": ticket.updated}))
    # (a rule that fired and was re-armed within one replay leaves `fired: {}`, as sweeps at
    # each of those moments leave it: the memory written once, then emptied)
    if memory != before or (fired and "fired" not in ticket.extra):
        fired_memory = {name: memory[name] for name in sorted(memory)}
        total = lifecycle.combined(total, Change(sets={"fired": fired_memory}))
    result = _bookkeeping(ticket, config, now, total, fired, skipped, sla_at, logged)
    result.firings = fired_at
    return result


def _across(ticket: Ticket, config: Config, now: dt.datetime, past: Past) -> TicketPlan | None:
    """The plan of a ticket last swept under ``past.earlier``, another configuration: what
    a sweep just before this one became the sweeps' own (``past.switched``; else just
    before ``now``) does under ``earlier`` (the moments since its last sweep replayed under
    the rules in effect then: a breach in the gap escalates as it would have, whatever edit
    came since), then what one at ``now`` does under ``config``, replaying the moments
    since it became theirs (at now alone, when it became theirs now: nothing is stamped
    before the edit).  None unless the ticket's ``sla.rules`` is ``earlier``'s; for a ticket
    settled by its last sweep (nothing to replay); when that
    sweep could not run (a change after it); or when the ticket, or what the old rules
    made, does not fit the configuration it goes to (a team renamed since, a priority
    added: not replayed as it was)."""
    earlier = past.earlier
    assert earlier is not None
    version, checked = _stored_version(ticket), _checked(ticket)
    current = sweep_version(config)
    if "sla" not in ticket.extra:  # (never swept: from its creation, under the one before)
        version, checked = sweep_version(earlier), ticket.created - _MICROSECOND
    elif version is None and checked is not None:  # (a block without `rules:`, swept
        # before the switch: under the one before, as the sweeps here know it, and so
        # read by the plans below, which would trust it as this one's)
        version = sweep_version(earlier)
        block = ticket.extra["sla"]
        assert isinstance(block, Mapping)
        ticket = lifecycle.applied(ticket, Change(sets={"sla": _marked(block, checked, version)}))
    if version is None or checked is None or version != sweep_version(earlier):
        return None
    if version == current or not earlier.fits(ticket):
        return None
    if not ticket.active and ticket.updated <= checked:  # (settled when last swept: nothing
        # to replay; marked as swept under this configuration, it was rewritten by a sweep
        # without the cache alone, for its `checked` and `rules`: churn a sweep with it,
        # which never reads a settled ticket, did not make)
        return None
    inner = Past(blockless_swept=past.blockless_swept)
    end = now if past.switched is None or past.switched >= now else past.switched
    first = TicketPlan(ticket, Change(), Sla(now, None, ""))  # (the old rules' gap: none
    if end > checked:  # when this configuration was the sweeps' own by its last sweep)
        first = plan(ticket, earlier, end - _MICROSECOND, inner)
        if first.note is not None and _behind(ticket, end - _MICROSECOND) is not None:
            # (a person changed it since the switch, a ticket settled then and reopened
            # after it, say: the gap under the old rules is replayed on the ticket as it was
            # then; when they did nothing in it, the moments since are this one's, from the
            # switch on.  It was judged at now alone: a breach after the reopen, its
            # escalation, lost)
            then_view = ticket_as_of(ticket, end - _MICROSECOND)
            gap = plan(then_view, earlier, end - _MICROSECOND, inner)
            if gap.note is None and _bookkeeping_only(gap.change):  # (else: as before)
                first = TicketPlan(ticket, Change(), gap.sla)
        if first.note is not None or (first.change and not config.fits(first.ticket)):
            return None
    change, swept = first.change, first.ticket
    block = swept.extra.get("sla")
    if end < now and isinstance(block, Mapping):  # (the sweeps here have run under this
        # one since `end`: the moments since are replayed under it, from then)
        mark = Change(sets={"sla": _marked(block, max(checked, end - _MICROSECOND), current)})
        change, swept = lifecycle.combined(change, mark), lifecycle.applied(swept, mark)
    then = plan(swept, config, now, inner)
    if then.note is not None:  # pragma: no cover - (swept before now: never behind)
        return None
    change = lifecycle.combined(change, then.change)
    block = change.sets.get("sla")
    if "sla" not in then.change.sets and isinstance(block, Mapping):  # (a settled ticket:
        # the block the replay wrote, marked as swept now, under this configuration)
        mark = Change(sets={"sla": _marked(block, now, sweep_version(config))})
        change = lifecycle.combined(change, mark)
        then.ticket = lifecycle.applied(then.ticket, mark)
    made = TicketPlan(
        then.ticket,
        change,
        then.sla,
        first.fired + then.fired,
        first.skipped + then.skipped,
        first.escalations + then.escalations,
    )
    made.firings = first.firings + then.firings
    return made


def _bookkeeping_only(change: Change) -> bool:
    """Whether ``change`` is a sweep's ``sla:`` block alone: no rule acted, no clock
    crossed anything (no line to log)."""
    return set(change.sets) <= {"sla"} and not (
        change.entries or change.escalations or change.tags_added or change.requests
        or change.activity
    )


def _owner_answers(ticket: Ticket, total: Change) -> Change:
    """A replayed escalation to a team that a person asked (after the instant it is
    replayed at, not knowing of it) answers the request, as the escalation made then would
    have (:func:`esc.domain.lifecycle.owner_answers`)."""
    team = total.sets.get("team")
    if not ticket.requests or team is None:
        return Change()
    made = next((e for e in reversed(total.escalations) if e.to == team), None)
    if made is None:
        return Change()
    after = lifecycle.applied(ticket, total)
    return lifecycle.owner_answers(after, made.by, f"the ticket was escalated to {team}")


class _Logged:
    """The ``sla:`` block's log lines of the moments a replay visits: at each, what a sweep
    at that instant would have logged of the block it wrote (the ticket as it was then,
    with what the rules did at that instant) against the one before it.  So a warning
    crossed, a deadline passed or a policy re-selected between two sweeps is logged (and
    told) at its instant, however often sweeps ran."""

    def __init__(self, ticket: Ticket, config: Config, now: dt.datetime) -> None:
        stored = ticket.extra.get("sla")
        block = _stored_block(stored) or {}
        self.ticket = ticket
        self.block: Mapping[str, object] = {str(k): _plain(v) for k, v in block.items()}
        self.lines: list[Activity] = []
        self.zone = _replay_zone(config, now)
        self.since = _checked(ticket) if isinstance(stored, Mapping) else None
        self.key: object = None  # (what the block is made of, when last made: most
        # moments change nothing in it, and making it is the cost)
        self.requests = _request_states(ticket, config, self.since)
        self.asked: list[tuple[RequestKey, Activity]] = []  # (the requests' clocks' lines)
        self.recorded: set[tuple[object, ...]] = set()  # (what a sweep logged already)
        self.restarted = False
        # (a line of what a rule's change made of the block, by id: the rule's effect it
        # follows in the log; and each effect's last line of its own, once kept)
        self.made_lines: dict[int, _Effect] = {}
        self.last_lines: dict[int, Activity] = {}

    def restart(self, since: dt.datetime, sla: Sla, recorded: list[Activity]) -> None:
        """Start from the block a sweep at ``since`` wrote, not the stored one, which is of
        later: a merge moved ``checked`` back before what the other side's sweep never saw
        (:mod:`esc.ticketfile.merge`); the lines that sweep logged (``recorded``) are not
        logged again."""
        self.block = sla_block(sla)
        self.key = None
        self.since = since
        self.recorded = {_said(a) for a in recorded if a.by == SWEEPER}
        self.restarted = True

    def breaches(self, at: dt.datetime, before: Sla, after: Sla) -> None:
        """Log the clocks breached in ``before`` (the SLA the rules acted on at ``at``) that
        are not in ``after`` (once the rules' change selected another policy, or restarted
        the clock; a clock of another policy is another clock), as breached at ``at``: only
        them, not the rest of a block that was never written (a warning crossed in the
        same instant by a clock the change ended is no news)."""
        if before.policy is None:
            return
        # (a clock of another policy is another clock, even breached too: the breach of the
        # one the rules acted on comes first in the log, then the policy's change)
        same = after.policy is not None and after.policy.name == before.policy.name
        ended = {c.metric for c in after.clocks if c.state == "breached"} if same else set()
        hidden = [c.metric for c in before.clocks if c.state == "breached"
                  and c.metric not in ended and c.metric != "collaboration"]  # fmt: skip
        self._breached(at, before, hidden)

    def warnings(self, at: dt.datetime, before: Sla, after: Sla) -> None:
        """Log the clocks in warning in ``before`` (the SLA the rules acted on at ``at``)
        that the rules' change made breached (another policy selected: a priority raised on
        the warning, say, whose urgent policy finds the clock past due), as in warning at
        ``at``: the warning the rules saw is in the log, and told, before their lines, as a
        breach they acted on is, and the clock goes `ok → warning → breached`, not `ok →
        breached` (audit helper-465).  Not a clock the change ended or made `ok` (an
        escalation to a level of more lenient targets: a warning gone as it came is no
        news), nor one still in warning after it (the block says so)."""
        if before.policy is None:
            return
        breached = {c.metric for c in after.clocks if c.state == "breached"}
        shown = [c.metric for c in before.clocks if c.state == "warning"
                 and c.metric in breached and c.metric != "collaboration"]  # fmt: skip
        self._breached(at, before, shown)

    def _breached(self, at: dt.datetime, before: Sla, hidden: Sequence[str]) -> None:
        """Log ``hidden``, clocks breached in ``before``, as breached at ``at`` (and nothing
        else of the block)."""
        if not hidden or before.policy is None:
            return
        full = sla_block(before)
        block = dict(self.block) if self.block.get("policy") == full["policy"] else {}
        if not block:  # (the block logged last is another policy's: this one as it stood)
            block = full
        else:
            block.update({metric: full[metric] for metric in hidden})
        if block != self.block:
            self.lines += _sla_log(self.block, block, at, before, self.since, self.zone)
            self.block = block
            self.key = None

    def made_by(self, effect: _Effect, at: dt.datetime, before: Sla, after: Sla) -> None:
        """The block after a rule's change at ``at`` (``after``; ``before``: the SLA it
        changed), if the change made anything of it (a policy re-selected, a deadline it
        put in the past): those lines go right after the rule's own, before those of the
        rules it made act in turn (the priority raised, the policy it re-selected, the
        breach that made, the escalation on that breach)."""
        if _block_key(before) == _block_key(after):
            return
        # (a breach the rules acted on at its instant, which their change did not end (those
        # are :meth:`breaches`'): logged before their lines, as when their change made
        # nothing of the block, not as what the change made)
        if before.policy is not None and after.policy is not None and (
            before.policy.name == after.policy.name
        ):
            still = {c.metric for c in after.clocks if c.state == "breached"}
            acted_on = [c.metric for c in before.clocks if c.state == "breached"
                        and c.metric in still and c.metric != "collaboration"]  # fmt: skip
            self._breached(at, before, acted_on)
        for line in self._block(at, after):
            self.made_lines[id(line)] = effect

    def anchors(self) -> dict[int, int]:
        """For each line of what a rule's change made of the block, by id: the id of the
        line of the rule's own it follows (of those kept: :func:`_merged`)."""
        found = {}
        for line_id, effect in self.made_lines.items():
            last = self.last_lines.get(id(effect))
            if last is not None:
                found[line_id] = id(last)
        return found

    def _block(self, at: dt.datetime, sla: Sla) -> list[Activity]:
        key = _block_key(sla)
        if key == self.key:
            return []
        self.key = key
        block = sla_block(sla)
        if block == self.block:
            return []
        lines = _sla_log(self.block, block, at, sla, self.since, self.zone)
        self.lines += lines
        self.block = block
        return lines

    def at(self, at: dt.datetime, view: Ticket, sla: Sla) -> None:
        self._block(at, sla)
        if view.requests or self.requests:
            view = self._answers_kept(view, at)
            lines, self.requests = _request_log(self.requests, view, sla, self.since, self.zone)
            self.asked += lines
        self.since = at

    def _answers_kept(self, view: Ticket, at: dt.datetime) -> Ticket:
        """``view`` with each request a rule's change closed by ``at`` open again where the
        file has a person closing it later (a missed escalation to the team asked, and that
        team's answer by hand since: their answer is kept, not the rule's, and the
        request's clock ran until it; its log said `warning → met` at the escalation, then
        `met → breached`; audit helper-394)."""
        own = {r.key: r for r in self.ticket.requests}
        kept = []
        for request in view.requests:
            mine = own.get(request.key)
            if (
                request.closed is not None
                and request.closed <= at
                and not by_person(request.closed_by or "")
                and mine is not None
                and mine.closed is not None
                and mine.closed > at
                and by_person(mine.closed_by or "")
            ):
                request = replace(request, state="open", closed=None, closed_by=None)
            kept.append(request)
        return replace(view, requests=tuple(kept)) if kept != list(view.requests) else view

    def request_lines(self, kept: Sequence[Request]) -> list[Activity]:
        """The lines of the requests' clocks, but of a request the outcome does not make (a
        rule's, asked by a person later: its clock never ran)."""
        keys = {r.key for r in kept}
        return [line for key, line in self.asked if key in keys]


def _block_key(sla: Sla) -> object:
    """What the ``sla:`` block of ``sla`` is made of (most moments change nothing in it,
    and making it is the cost)."""
    policy = sla.policy
    return (policy and policy.name, tuple((c.metric, c.state, c.due) for c in sla.clocks))


RequestKey = tuple[str, dt.datetime]  # a request's team and when it was asked
# each request's OLA clock (by its key): its state and its deadline
RequestStates = dict[RequestKey, tuple[ClockState, dt.datetime | None]]


def _request_states(ticket: Ticket, config: Config, at: dt.datetime | None) -> RequestStates:
    """The state of each request's OLA clock as a sweep at ``at`` saw it (none before the
    ticket was first swept, or when no request was asked by then)."""
    if at is None or not ticket.requests or at < ticket.created:
        return {}
    states = _request_states_at(ticket, config, at)
    logged = _ola_lines(ticket, at)
    # (a request asked or answered in the very second of that sweep, after it ran: the
    # sweep logged nothing of it then, and its clock's `— → ok` or `→ met` was never
    # logged, as the ticket's own clocks' are on a person's change in that second)
    unseen = [
        r.key for r in ticket.requests
        if at in (r.asked, r.closed)
        and not any(when == at and team == r.team for when, team, _ in logged)
    ]  # fmt: skip
    if unseen:
        before = _request_states_at(ticket, config, at - _MICROSECOND)
        for key in unseen:
            if key in before:
                states[key] = before[key]
            else:
                states.pop(key, None)
    # (as that sweep logged it, where the file says otherwise since: an answer noted late,
    # `--now` before that sweep, left its `ok → breached` in the log, never put right, as
    # a customer clock's is with `breached → met`; audit helper-401)
    for key, said in _logged_request_states(ticket, logged).items():
        if key in states and said != states[key][0]:
            states[key] = (said, states[key][1])
    return states


_CLOCK_STATES: frozenset[str] = frozenset(get_args(ClockState))


def _ola_lines(ticket: Ticket, at: dt.datetime) -> list[tuple[dt.datetime, str, str | None]]:
    """(when, team, state) of each line the sweeps logged of a request's OLA clock
    (``sla.collaboration``, its note naming the team) by ``at``, in the log's order."""
    return [
        (line.at, line.note.split(",", 1)[0], line.new) for line in ticket.activity
        if line.field == "sla.collaboration" and line.by == SWEEPER and line.at <= at
    ]  # fmt: skip


def _logged_request_states(
    ticket: Ticket, logged: Sequence[tuple[dt.datetime, str, str | None]]
) -> dict[RequestKey, ClockState]:
    """Each request's OLA state as the sweeps logged it (``logged``: :func:`_ola_lines`):
    its team's last line from when it was asked (until the team was asked again)."""
    found: dict[RequestKey, ClockState] = {}
    for request in ticket.requests if logged else ():
        later = [r.asked for r in ticket.requests
                 if r.team == request.team and r.asked > request.asked]  # fmt: skip
        until = min(later) if later else None
        for when, team, state in logged:
            if (
                team == request.team
                and when >= request.asked
                and (until is None or when < until)
                and state in _CLOCK_STATES
            ):
                found[request.key] = cast(ClockState, state)
    return found


def _request_states_at(ticket: Ticket, config: Config, at: dt.datetime) -> RequestStates:
    if at < ticket.created:
        return {}
    then = ticket_as_of(ticket, at)
    policy = _policy_of(then, config, at)[0]
    clocks = request_clocks(then, policy, at)
    return {r.key: (c.state, c.due) for r, c in zip(then.requests, clocks, strict=True)
            if c is not None}  # fmt: skip


def _request_log(
    old: RequestStates, ticket: Ticket, sla: Sla, since: dt.datetime | None,
    zone: dt.tzinfo | None,
) -> tuple[list[tuple[RequestKey, Activity]], RequestStates]:  # fmt: skip
    """The log lines of each request's own OLA clock (``sla.collaboration``, the note
    naming the team asked) that changed state since ``old`` (as of ``since``), as of
    ``sla.now``, each with its request's key; and the states now.  The ``sla:`` block's
    ``collaboration`` clock is one request's (the oldest open one: what rules see); each
    request's warning and breach is logged, and told to its team, of its own."""
    now = sla.now
    clocks = request_clocks(ticket, sla.policy, now)
    made = {r.key: c for r, c in zip(ticket.requests, clocks, strict=True) if c is not None}
    new = {key: (c.state, c.due) for key, c in made.items()}
    lines: list[tuple[RequestKey, Activity]] = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[1], k[0])):
        (before, was_due), (after, due) = old.get(key, (None, None)), new.get(key, (None, None))
        if before != after:
            # (a deadline a change moved into the past, as a policy re-selected: crossed now;
            # so is one a change gave a request asked before, which had no clock then)
            moved = before is not None and was_due != due
            started = before is None and since is not None and key[1] <= since
            lately = now if moved or started else since
            clock = made.get(key)
            made_lines = _clock_log("collaboration", before, after, clock, now, lately, zone,
                                    key[0])  # fmt: skip
            lines += [(key, line) for line in made_lines]
    return lines, new


def _swept_after(ticket: Ticket, since: dt.datetime | None) -> list[Activity]:
    """The lines a sweep wrote after ``since`` (its ``sla.*`` lines, its rules' changes):
    none, unless a merge moved ``checked`` back before a change the sweep that wrote them
    never saw, so that the next sweep replays it."""
    if since is None or not isinstance(ticket.extra.get("sla"), Mapping):
        return []
    return [a for a in ticket.activity
            if a.at > since and (a.by == SWEEPER or a.by.startswith(RULE_ACTOR))]  # fmt: skip


def _memory_as_of(
    ticket: Ticket, stored: dict[str, dt.datetime], since: dt.datetime | None
) -> dict[str, dt.datetime]:
    """When each rule last fired as of ``since``, by the stored ``fired:`` (written later)
    and the lines the rules logged by then; the replay's first moment forgets those whose
    condition no longer held."""
    if since is None:
        return stored
    memory = {name: at for name, at in stored.items() if at <= since}
    for line in ticket.activity:
        if line.at <= since and line.by.startswith(RULE_ACTOR):
            name = line.by[len(RULE_ACTOR) :]
            if name not in memory or memory[name] < line.at:
                memory[name] = line.at
    return memory


def _said(line: Activity) -> tuple[object, ...]:
    """What a sweep's line says, but for how its note writes a time (in a zone of its own)."""
    return (line.at, line.field, line.old, line.new, line.event)


def _stored_block(stored: object) -> dict[str, object] | None:
    """The ``sla:`` block a sweep wrote, without its ``checked`` and ``rules``."""
    if not isinstance(stored, Mapping):
        return None
    return {k: v for k, v in stored.items() if k not in ("checked", "rules")}


def _replies_that_reopen(
    ticket: Ticket,
    versions: _Versions,
    effects: list[_Effect],
    since: dt.datetime,
    until: dt.datetime,
) -> list[_Effect]:
    """What the customer's messages in (since, until] did to a ticket a replayed rule had
    put on ``pending``, or resolved, before them: a message opens it again, as it would
    have had a sweep written the rule's change first (the message was added to the file
    as it was, still open or new, and changed no status; a resolved one stayed resolved
    with the customer's answer unread in it)."""
    made: list[_Effect] = []
    for entry in versions.messages():
        if not since < entry.at <= until:
            continue
        written, seen = _just_before(entry.at, ticket, versions, [*effects, *made])
        if seen.status not in ("pending", "resolved") or written.status == seen.status:
            continue
        change = lifecycle.answered_after(seen, entry.at, entry.author)
        sets = {k: v for k, v in change.sets.items() if k != "updated"}
        made.append(_Effect(f"a message from {entry.author}", entry.at, replace(change, sets=sets)))
    return made


@dataclass
class _Effect:
    """What one rule did at one moment of the replay."""

    rule: str
    at: dt.datetime
    change: Change
    # whether a person made it again later, by the sweep's now (:func:`_needless`): found
    # once, as every view of the replay asks (None: not asked yet)
    needless: bool | None = field(default=None, compare=False)


class _Views:
    """:func:`_view` of each moment of one replay, as of that moment, ``effects`` being the
    replay's own list (which only grows): each built on the last one asked for when nothing
    was recorded in the ticket between (:meth:`_Versions.quiet`: what people did since an
    effect, which decides what of it is kept, is then the same), applying only the effects
    added since.  (Built afresh each moment, a replay of many moments applied every effect
    so far at each: a sweep after four months of missed moments took minutes a ticket.)"""

    def __init__(self, ticket: Ticket, versions: _Versions, effects: list[_Effect]) -> None:
        self.ticket = ticket
        self.versions = versions
        self.effects = effects
        # (the last view made with every effect of the list then: its moment, its base,
        # how many effects, the view before its `updated` is mended)
        self.last: tuple[dt.datetime, Ticket, int, Ticket] | None = None
        self._by_time: dict[dt.datetime, list[Activity]] | None = None  # (the log, by time)
        # (:func:`_void_reroutes` of the effects so far: how many, and what it found)
        self._void_for: tuple[int, frozenset[tuple[dt.datetime, str]]] = (0, frozenset())

    def __call__(self, at: dt.datetime) -> Ticket:
        base, view = self._made(at)
        if view.updated < base.updated:
            view = replace(view, updated=self._updated(base.updated, view.updated))
        return view

    def _made(self, at: dt.datetime) -> tuple[Ticket, Ticket]:
        """The ticket as of ``at`` (its file's), and with the rules' effects (its `updated`
        as those leave it)."""
        base = self.versions.as_of(at)
        last, effects = self.last, self.effects
        start, view = 0, base
        if (
            last is not None
            and last[1] is base
            and last[0] <= at
            and self.versions.quiet(last[0], at)
        ):
            start, view = last[2], last[3]
        whole = True
        for effect in effects[start:]:
            if effect.at <= at:
                kept = _kept(self.ticket, effect, at, self.versions.span[1], self._void())
                if kept is not None:
                    view = lifecycle.applied(view, kept)
            else:  # (one of later: not in this view, nor to be taken as applied)
                whole = False
        if whole:
            self.last = (at, base, len(effects), view)
        return base, view

    def _void(self) -> frozenset[tuple[dt.datetime, str]]:
        if self._void_for[0] != len(self.effects):
            self._void_for = (len(self.effects), _void_reroutes(self.ticket, self.effects))
        return self._void_for[1]

    def _updated(self, latest: dt.datetime, made: dt.datetime) -> dt.datetime:
        """When the ticket was last updated as the rules see it: at ``latest`` (the file's
        `updated` as of the moment), unless all that people did then changed nothing in
        the replay's view of the instant before it (a person who raised a priority a
        missed rule had raised by then, on a file that did not show it yet: with sweeps on
        time, theirs was no change, and made no update, and an `idle` rule fired as it
        would have; audits helper-397, helper-399); then, likewise, as of the person's
        change before, and so on (``made``: the rules' own last change, at least).  A loop
        over those instants, each view made without this (a recursion of a view per
        instant: 1,000 tags of a tag a rule had added were a RecursionError, exit 3;
        review helper-402), and the views' memory (``last``) left as it was."""
        saved = self.last
        try:
            moment = latest
            while True:
                lines = self._lines_at(moment)
                if not lines or not all(
                    by_person(a.by) and _settable(a) for a in lines
                ) or self._recorded_at(moment):
                    return max(moment, made)
                base, before = self._made(moment - _MICROSECOND)
                if not all(_no_change(a, before) for a in lines):
                    return max(moment, made)
                made = max(made, before.updated)
                if before.updated >= base.updated:  # (the rules' change the latest)
                    return made
                moment = base.updated  # (a person's change before: was it one?)
        finally:
            self.last = saved

    def _lines_at(self, moment: dt.datetime) -> list[Activity]:
        if self._by_time is None:
            self._by_time = {}
            for line in self.ticket.activity:
                self._by_time.setdefault(line.at, []).append(line)
        return self._by_time.get(moment, [])

    def _recorded_at(self, moment: dt.datetime) -> bool:
        """Whether something other than log lines was recorded at ``moment``: an entry, an
        escalation, a request asked or closed (a change whatever the view held)."""
        ticket = self.ticket
        return (
            any(e.at == moment for e in ticket.entries)
            or any(e.at == moment for e in ticket.escalations)
            or any(moment in (r.asked, r.closed) for r in ticket.requests)
        )


def _no_change(line: Activity, view: Ticket) -> bool:
    """Whether a person's log line changed nothing in ``view``: a field set to the value it
    had (a status too: `wait` on a ticket a rule put on pending, the `new → open` of an
    assignment), or a tag it had."""
    if line.field in _SETTABLE_FIELDS:
        return _text(getattr(view, line.field)) == line.new
    return line.event == "tagged" and line.note in view.tags


def _settable(line: Activity) -> bool:
    """Whether a log line is of what :func:`_no_change` may find no change."""
    return line.field in _SETTABLE_FIELDS or line.event == "tagged"


# (the fields a person's change of which may be no change in a replay's view; not `team`,
# whose change is an escalation or a re-routing of its own)
_SETTABLE_FIELDS = frozenset({"priority", "assignee", "category", "impact", "urgency", "status"})


def _view(
    base: Ticket, ticket: Ticket, at: dt.datetime, effects: list[_Effect], now: dt.datetime
) -> Ticket:
    """The ticket as the rules saw it at ``at``: as it was then (``base``, the ticket as of
    ``at``), with the rules' effects (as they stand by the sweep's ``now``)."""
    view = base
    void = _void_reroutes(ticket, effects)
    for effect in effects:
        if effect.at <= at:
            kept = _kept(ticket, effect, at, now, void)
            if kept is not None:
                view = lifecycle.applied(view, kept)
    if view.updated < base.updated:
        view = replace(view, updated=base.updated)
    return view


def _kept(
    ticket: Ticket,
    effect: _Effect,
    until: dt.datetime,
    now: dt.datetime,
    void: frozenset[tuple[dt.datetime, str]] = frozenset(),
) -> Change | None:
    """What of a rule's effect still stands at ``until``, after what people did since.

    A field someone changed after the rule acted keeps their value; an escalation someone
    made to the same place after the rule acted makes the rule's one needless (None), as
    does a request someone made to the same team.  Needless by the sweep's ``now``, it was
    never made, at any moment of the replay: nothing followed from it (audit d67: a rule on
    the OLA of a request a person made again later tagged a ticket whose log shows no
    request before theirs; a rule assigning the lead of the team an escalation a person
    made again later moved it to had assigned them at the rule's instant).
    """
    change = effect.change
    if until < now:
        if effect.needless is None:
            effect.needless = _needless(ticket, effect.at, now, effect.rule, change)
        if effect.needless:
            return None
    if change.requests and all(
        _asked_later(ticket, request, effect.at, until) for request in change.requests
    ):
        return None
    if change.tags_added:  # (a person tagged it so after the rule did, by ``until``: the
        # rule's tagging happened, and stays in the log, but the tag is there once; it was
        # listed twice.  Not by the tags as of now: a view before the person's tagging
        # lost the rule's tag)
        again = {
            line.note
            for line in ticket.activity
            if line.event == "tagged" and effect.at < line.at <= until
            and not line.by.startswith(RULE_ACTOR)
        }  # fmt: skip
        if again & set(change.tags_added):
            kept_tags = tuple(t for t in change.tags_added if t not in again)
            change = replace(change, tags_added=kept_tags)
    closed = _closed_later(ticket, change, effect.at, until)
    if closed:  # (a person answered or declined it after the rule's move answered it: the
        # person's close stands, as a field a person changed later keeps their value)
        change = replace(
            change,
            requests=tuple(r for r in change.requests if r.key not in closed),
            activity=tuple(a for a in change.activity if not _answers(a, closed)),
        )
    later = {
        name: later_changes(ticket, name, effect.at, until)
        for name in change.sets
        if name in LOGGED_FIELDS
    }
    if void:  # (re-routes that never were, :func:`_void_reroutes`: what the rules did
        # stands over them, the escalation's team and what the re-route's unassigning
        # would undo; taken as the person's choice of team, a re-route undid the
        # escalation, and the breach it was made for escalated a second time: audits
        # helper-410, helper-420)
        for name in ("team", "assignee"):
            if name in later:
                later[name] = [a for a in later[name] if (a.at, a.by) not in void]
    if "status" in later:  # (a person's `new → open` on the file as it was, without the
        # rule's status: a side effect of their command, no choice of status, which neither
        # overrides nor supersedes the rule's; the clocks skip it too, status_timeline)
        ruled = str(change.sets["status"])
        later["status"] = [a for a in later["status"] if not opened_as_it_was(a, ruled)]
    overridden = {name for name, made in later.items() if _overrides(change, name, made)}
    if "status" in overridden:  # (what the rule's status change set goes with it: its
        # `resolved_at` stayed on a ticket a person's later change left open, which
        # validate refuses, issue 14's audit)
        overridden |= {name for name in change.sets if name in STATUS_SET_FIELDS}
    # (a person changed the field later, to another value than the rule's, at once or
    # after first agreeing with it: the rule's change happened, at its instant, as sweeps
    # then would have made it, and stays in the log, but the value is the person's last)
    superseded = {
        name
        for name, made in later.items()
        if name not in overridden and made and made[-1].new != _ruled(change, name)
    }
    if "status" in superseded:  # (and the value of what the rule's status change set is
        # the person's too: their status change, made on the file without the rule's, left
        # those as they were there; a `resolved_at` of the rule's on a ticket left open
        # would be refused by validate)
        superseded |= {n for n in change.sets if n in STATUS_SET_FIELDS and n not in overridden}
    # (but the first response was the rule's, earlier: a person's reply after its public one
    # (a rule's resolution) set `first_response_at` on the file as it was, without it; as
    # sweeps then would have left it, it is the rule's, and the clock met, not breached)
    superseded.discard("first_response_at")
    if not overridden and not superseded:
        return change
    if overridden and change.escalations and all(
        _made_later(ticket, escalation, effect.at, until) for escalation in change.escalations
    ):
        return None
    return replace(
        change,
        sets={k: v for k, v in change.sets.items() if k not in overridden | superseded},
        # (an escalation a person overrode happened all the same, as hourly sweeps would
        # have made it: its record and its log line stay, the value is the person's)
        activity=tuple(a for a in change.activity
                       if a.field not in overridden - {_moves(e) for e in change.escalations}),
    )  # fmt: skip


_NO_VOID: frozenset[tuple[dt.datetime, str]] = frozenset()


def _void_reroutes(
    ticket: Ticket, effects: Sequence[_Effect]
) -> frozenset[tuple[dt.datetime, str]]:
    """When, and by whom, a person's `classify` re-routed the ticket on its file as it
    was, after a rule's escalation (to another team) in ``effects`` that the file did not
    show yet: re-routes that never were, as classify re-routes no escalated ticket (each
    its instant and who made it: its `team:` line and the unassigning that goes with it,
    made together)."""
    if not effects:  # (most replays: nothing to look through)
        return _NO_VOID
    moved = [e.at for e in effects if any(x.kind != "priority" for x in e.change.escalations)]
    if not moved:
        return _NO_VOID
    first = min(moved)
    return frozenset(
        (a.at, a.by) for a in field_changes(ticket.activity, "team")
        if a.at > first and _rerouted(a)
    )  # fmt: skip


def _reroutes_undone(
    ticket: Ticket, effects: list[_Effect], since: dt.datetime, until: dt.datetime
) -> list[_Effect]:
    """What a re-route that never was (:func:`_void_reroutes`) in (since, until] did to the
    requests: the one to the team it went to, which it answered as the ticket's new owner,
    open again, as after hourly sweeps, which saw the ticket escalated and no re-route
    (audit helper-420: the request's OLA never ran, nor the rule on its breach)."""
    void = {v for v in _void_reroutes(ticket, effects) if since < v[0] <= until}
    if not void:
        return []
    made = []
    for at, by in sorted(void):
        reopened = tuple(
            replace(r, state="open", closed=None, closed_by=None)
            for r in ticket.requests
            if r.state == "answered" and r.closed == at and r.closed_by == by
            and any(a.at == at and a.by == by and a.event == f"request answered by {r.team}"
                    and a.note == f"the ticket was re-routed to {r.team}"
                    for a in ticket.activity)
        )  # fmt: skip
        if reopened:
            made.append(_Effect(f"the re-routing by {by}, never made", at,
                                Change(requests=reopened)))  # fmt: skip
    return made


def _asked_of_owner(
    ticket: Ticket,
    versions: _Versions,
    effects: list[_Effect],
    since: dt.datetime,
    until: dt.datetime,
) -> list[_Effect]:
    """A request a person asked in (since, until] of the team a replayed rule's escalation
    had moved the ticket to by then (the file did not show it yet): answered as it was
    asked, as the escalation made then would have made it (:func:`_owner_answers`), in
    the replay too: its OLA ran, breached in the log and was told to the team, and then was
    met (audit helper-428)."""
    made: list[_Effect] = []
    for request in ticket.requests:
        if not since < request.asked <= until or not by_person(request.by):
            continue
        written, seen = _just_before(request.asked, ticket, versions, [*effects, *made])
        if seen.team != request.team or written.team == request.team:
            continue
        escalation = next((e for e in reversed(seen.escalations) if e.to == request.team), None)
        if escalation is None:
            continue
        opened = replace(request, state="open", closed=None, closed_by=None)
        if request != opened:  # (closed since by a person: theirs stands)
            continue
        why = f"the ticket was escalated to {request.team}"
        answered = replace(request, state="answered", closed=request.asked,
                           closed_by=escalation.by)  # fmt: skip
        line = Activity(request.asked, escalation.by,
                        event=f"request answered by {request.team}", note=why)  # fmt: skip
        made.append(_Effect(escalation.by.removeprefix(RULE_ACTOR), request.asked,
                            Change(activity=(line,), requests=(answered,))))  # fmt: skip
    return made


def _rerouted(line: Activity) -> bool:
    """Whether ``line`` is a person's `classify` moving the ticket to the team its new
    category routes to (`team: … · re-routed (…)`): routing, which is never given to an
    escalated ticket, not a choice of team."""
    return line.field == "team" and line.note.startswith("re-routed") and by_person(line.by)


def _needless(
    ticket: Ticket, at: dt.datetime, now: dt.datetime, rule: str, change: Change
) -> bool:
    """Whether rule ``rule``'s ``change`` at ``at`` is an escalation or a request a person
    made again after it, by ``now`` (:func:`_kept`): never made, it has no consequences."""
    if not change.requests and not change.escalations:
        return False
    return _kept(ticket, _Effect(rule, at, change), now, now) is None


def _closed_later(
    ticket: Ticket, change: Change, at: dt.datetime, until: dt.datetime
) -> set[RequestKey]:
    """The keys of the open requests ``change`` closes (a move answers the request to the
    team it goes to) that a person closed otherwise in (at, until], by the ticket's file."""
    closing = {r.key for r in change.requests if r.closed is not None and r.asked < at}
    if not closing:
        return set()
    return {
        r.key
        for r in ticket.requests
        if r.key in closing and r.closed is not None and at < r.closed <= until
        and by_person(r.closed_by or "")
    }  # fmt: skip


def _answers(line: Activity, keys: set[RequestKey]) -> bool:
    """Whether ``line`` is the log line of a move's answer to one of the requests ``keys``."""
    return line.event in {f"request answered by {team}" for team, _ in keys}


def _moves(escalation: Escalation) -> str:
    """The field an escalation changes."""
    return "priority" if escalation.kind == "priority" else "team"


def _ruled(change: Change, name: str) -> str | None:
    """The value a rule's ``change`` gave field ``name``, as its log line writes it."""
    return next((a.new for a in change.activity if a.field == name), None)


def _overrides(change: Change, name: str, later: Sequence[Activity]) -> bool:
    """Whether what people did to field ``name`` after a rule's ``change`` overrides it, the
    rule's line going with its value: they changed a field the rule set without a line of
    its own; or, after a rule's escalation, first to the value the escalation had set (an
    escalation they made themselves is judged by _made_later; a reply's `new → open` on
    the file as it was, which the escalation had opened, is no change of theirs at all:
    :func:`_kept` leaves it out, and the escalation's status line stands).

    A person who later set another value does not override the rule's change: it was made
    at its instant, as sweeps then would have made it, and the person's came after it (it
    is superseded, in :func:`_kept`: the value is the person's).  Dropped, its line went
    and the clocks it had moved stayed moved: a ticket a missed rule had opened and alice
    resolved the next day logged `paused → ok` with no status change, and its breach turned
    `met`.  Nor does one who later set the rule's value, with a rule's plain change (a
    customer's reply opening a ticket the rule had opened agrees with the rule: its change
    stands, at its own time)."""
    if not later:
        return False
    line = next((a for a in change.activity if a.field == name), None)
    if line is None:
        return True
    return bool(change.escalations) and later[0].new == line.new


def _made_later(
    ticket: Ticket, escalation: Escalation, at: dt.datetime, until: dt.datetime
) -> Escalation | None:
    """The escalation to the same place someone made in (at, until], if any: the first
    later change of the field it moves went where the rule's went."""
    name = _moves(escalation)
    later = later_changes(ticket, name, at, until)
    if not later or later[0].new != escalation.to:
        return None
    priority = name == "priority"
    for made in ticket.escalations:
        same_kind = (made.kind == "priority") == priority
        if at < made.at <= until and same_kind and made.to == escalation.to:
            return made
    return None


def _asked_later(
    ticket: Ticket, request: Request, at: dt.datetime, until: dt.datetime
) -> Request | None:
    """The request to the same team someone made in (at, until], if any: a rule's request
    is then not made twice."""
    return next(
        (r for r in ticket.requests if r.team == request.team and at < r.asked <= until), None
    )


def _made_by_hand(ticket: Ticket, effect: _Effect, now: dt.datetime) -> str:
    """Why a rule's escalation (or request) is not written: someone made the same one after
    it fired."""
    if effect.change.requests:
        made = effect.change.requests[0]
        asked = _asked_later(ticket, made, effect.at, now)
        if asked is not None:
            return (
                f"{effect.rule}: fired at {format_timestamp(effect.at)}; {asked.by} involved"
                f" {made.team} at {format_timestamp(asked.asked)}, so it is not asked twice"
            )
    escalation = effect.change.escalations[0]
    later = _made_later(ticket, escalation, effect.at, now)
    assert later is not None
    return (
        f"{effect.rule}: fired at {format_timestamp(effect.at)}; {later.by} escalated to"
        f" {escalation.to} at {format_timestamp(later.at)}, so it is not made twice"
    )


def _behind(ticket: Ticket, now: dt.datetime) -> str | None:
    """Why a sweep at ``now`` must leave the ticket alone, if it must: it was created, last
    swept or last changed after ``now`` (a sweep run late, or on a host whose clock is
    behind): what it wrote as of ``now`` would follow later lines in the log."""
    checked = _checked(ticket)
    if now < ticket.created:
        when = f"created at {format_timestamp(ticket.created)}"
    elif checked is not None and now < checked:
        when = f"last swept at {format_timestamp(checked)}"
    elif now < ticket.updated:
        when = f"last updated at {format_timestamp(ticket.updated)}"
    else:
        return None
    return f"{ticket.id}: {when}, after --now; left as it is"


def _untouched(ticket: Ticket, now: dt.datetime, note: str, sla_at: SlaAt) -> TicketPlan:
    return TicketPlan(ticket, Change(), sla_at(ticket, now), note=note)


SlaAt = Callable[[Ticket, dt.datetime], Sla]


K = TypeVar("K")
V = TypeVar("V")


class _Recent(dict[K, V]):
    """A dict of a replay's memos that keeps the latest ``RECENT`` of them: a replay moves
    forward and asks again only for moments it just saw, and one that visits thousands of
    moments (a never-swept ticket with 10,000 notes) held a version of the ticket for each,
    every one with its own copy of the conversation and log so far (1.7 GB).  A memo let go
    of is made again when asked for, the same."""

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        if len(self) > RECENT:
            del self[next(iter(self))]


RECENT = 128  # memos a replay keeps of each kind (a usual replay makes far fewer)


class _Versions:
    """The ticket as of each instant of one plan's replay, from ``since`` (if it replays)
    to ``now``: ``ticket_as_of`` rebuilt once an instant (the replay asks for each moment
    twice: to find the next one, then to run the rules), and not again for an instant
    after (or before) which nothing was recorded since the one asked for before (a
    warning or deadline crossed changes nothing in the ticket); and when the ticket's log
    or conversation has its next entry."""

    def __init__(self, ticket: Ticket, since: dt.datetime | None, now: dt.datetime) -> None:
        self.ticket = ticket
        self.span = (since, now)
        self.known: dict[dt.datetime, Ticket] = _Recent()
        self.last: dt.datetime | None = None
        self._times: tuple[list[dt.datetime], list[dt.datetime]] | None = None
        self._history: History | None = None  # (made when a moment is first rebuilt)
        self._messages: list[Entry] | None = None

    def messages(self) -> list[Entry]:
        """The customer's messages in the ticket's conversation, in its order (found once:
        a replay looks for those of each moment it visits, and a conversation of 10,000
        notes was read through at each)."""
        if self._messages is None:
            self._messages = [e for e in self.ticket.entries if e.kind == "message"]
        return self._messages

    def times(self) -> tuple[list[dt.datetime], list[dt.datetime]]:
        """The times in (since, now] of the ticket's log and conversation, and of everything
        recorded in it, each sorted.  (Found when first needed: once the ticket as of
        ``since`` has read the whole log, if it needed to.)"""
        if self._times is None:
            ticket, (since, now) = self.ticket, self.span
            changes: list[dt.datetime] = []
            recorded: list[dt.datetime] = []
            if since is not None and since < now:  # (times_between is open at both ends)
                changes = times_between(ticket.activity, since, now + _MICROSECOND)
                changes += [e.at for e in ticket.entries if since < e.at <= now]
                # (the instant it was made: a ticket written by hand with no log says it
                # by its `created:` alone; its clocks' first lines were stamped at its
                # first message instead (audit e72))
                changes += [ticket.created] if since < ticket.created <= now else []
                recorded = [e.at for e in ticket.escalations]
                recorded += [r.asked for r in ticket.requests]
                recorded += [r.closed for r in ticket.requests if r.closed is not None]
                recorded = [t for t in [*recorded, ticket.updated] if since < t <= now]
            self._times = sorted(changes), sorted([*changes, *recorded])
        return self._times

    def as_of(self, at: dt.datetime) -> Ticket:
        """``ticket_as_of(ticket, at)``."""
        found = self.known.get(at)
        if found is None:
            last = self.last
            if (
                last is not None
                and last in self.known
                and self.quiet(min(last, at), max(last, at))
            ):
                found = self.known[at] = self.known[last]
            else:
                if self._history is None:
                    self._history = History(self.ticket)
                found = self.known[at] = self._history.as_of(at)
        self.last = at
        return found

    def quiet(self, lo: dt.datetime, hi: dt.datetime) -> bool:
        """Whether nothing was recorded in the ticket in (lo, hi], both in the replay's span:
        it was the same at both."""
        since, now = self.span
        if since is None or lo < since or hi > now:
            return False
        recorded = self.times()[1]
        n = bisect.bisect_right(recorded, lo)
        return n == len(recorded) or recorded[n] > hi

    def next_change(self, since: dt.datetime) -> dt.datetime | None:
        """The first time in the ticket's log or conversation after ``since`` (in the
        replay's span) up to now, if any."""
        assert self.span[0] is not None and since >= self.span[0]
        changes = self.times()[0]
        n = bisect.bisect_right(changes, since)
        return changes[n] if n < len(changes) else None


_MICROSECOND = dt.timedelta(microseconds=1)
_SECOND = dt.timedelta(seconds=1)  # (esc's times are whole seconds: the next instant)


def _moves_that_settle(
    ticket: Ticket,
    versions: _Versions,
    effects: list[_Effect],
    since: dt.datetime,
    until: dt.datetime,
) -> list[_Effect]:
    """What a person's moves of the ticket to another team in (since, until] did to what
    replayed rules had made before them: an escalation or re-routing unassigns the ticket
    (a person a rule assigned it to stays with the team that had it) and answers the open
    request to the team it goes to, as it would have had a sweep written the rules' changes
    first (the move was made on the file as it was, without them)."""
    made: list[_Effect] = []
    void = _void_reroutes(ticket, effects)  # (a re-route that never was settles nothing:
    # it unassigned the lead a rule assigned, in the person's name, and the rule fired
    # again; audit helper-428)
    for line in field_changes(ticket.activity, "team"):
        if not since < line.at <= until or not by_person(line.by) or line.new is None:
            continue
        if (line.at, line.by) in void:
            continue
        before = line.at - _MICROSECOND
        written, seen = _just_before(line.at, ticket, versions, [*effects, *made])
        sets: dict[str, object] = {}
        activity: list[Activity] = []
        # (an assignment the same person's command made at that instant, before the move,
        # already replaced the rule's: the move unassigned theirs, and its own line says so)
        assigned_then = any(
            a.at == line.at and a.field == "assignee" and by_person(a.by)
            for a in ticket.activity[: ticket.activity.index(line)]
        )
        if seen.assignee is not None and written.assignee is None and not assigned_then:
            sets["assignee"] = None
            activity.append(Activity(line.at, line.by, field="assignee", old=seen.assignee))
        asked = {r.key for r in written.requests}
        answered = tuple(
            replace(r, state="answered", closed=line.at, closed_by=line.by)
            for r in seen.open_requests(before)
            if r.team == line.new and r.key not in asked
        )
        if answered:
            why = f"the ticket was moved to {line.new}"
            activity.append(Activity(line.at, line.by, event=f"request answered by {line.new}",
                                     note=why))  # fmt: skip
        if sets or answered:
            change = Change(sets=sets, activity=tuple(activity), requests=answered)
            made.append(_Effect(f"a move by {line.by}", line.at, change))
    return made


def _just_before(
    at: dt.datetime, ticket: Ticket, versions: _Versions, effects: list[_Effect]
) -> tuple[Ticket, Ticket]:
    """The ticket just before ``at``: as its file had it (what a person's command at ``at``
    was applied to), and as the replayed rules' ``effects`` made it."""
    before = at - _MICROSECOND
    written = versions.as_of(before)
    return written, _view(written, ticket, before, effects, versions.span[1])


class _Slas:
    """``sla_of`` for one plan: a ticket's SLA at an instant is computed once, and once for
    the versions of it (as of a moment, with the rules' changes) that the same policy
    applies to and whose clocks are computed from the same values; of versions that differ,
    each clock computed from the same values is carried over (:func:`esc.domain.sla.compute`).

    An SLA of an instant before ``now`` is the rules' view of a moment the replay visits:
    a running clock carried to it keeps the time used it had (its state and the instants
    it crossed are those of the instant; nothing reads its time used).  The SLA of ``now``
    (the plan's, written and kept in the cache) counts every clock's time used."""

    def __init__(self, config: Config, now: dt.datetime) -> None:
        self.config = config
        self.now = now  # (the SLAs of earlier instants are for the rules: states only)
        self.by_ticket: dict[tuple[int, dt.datetime], tuple[Ticket, Sla]] = _Recent()
        # ((policy, why, inputs), at)
        self.by_inputs: dict[tuple[_Hashed, dt.datetime], Sla] = _Recent()
        self.latest: dict[_Hashed, Sla] = _Recent()  # by (policy, why, inputs)
        self.clocks: ClockMemo = {}  # each clock computed, for the versions that differ
        self.policies = _policies_chosen(config)

    def __call__(self, ticket: Ticket, at: dt.datetime) -> Sla:
        found = self.by_ticket.get((id(ticket), at))
        if found is not None and found[0] is ticket:
            return found[1]
        if ticket.status == "closed" and not self.config.policies:
            sla = Sla(at, None, "no policies")
        else:
            policy, why = _policy_of(ticket, self.config, at, self.policies)
            inputs = _Hashed((id(policy), why, _clock_inputs(ticket)), len(ticket.entries) > 16)
            known = self.by_inputs.get((inputs, at)) or self._advanced(ticket, inputs, at)
            sla = known or compute(ticket, policy, why, at, self.clocks, at >= self.now)
            self.by_inputs[(inputs, at)] = self.latest[inputs] = sla
        self.by_ticket[(id(ticket), at)] = (ticket, sla)
        return sla

    def _advanced(self, ticket: Ticket, inputs: _Hashed, at: dt.datetime) -> Sla | None:
        """The SLA of a version of ``ticket`` with the same policy and clock inputs, computed
        for an earlier instant, carried on to ``at`` (:func:`esc.domain.sla.advanced`) if
        nothing about the ticket lies after that instant; else None."""
        earlier = self.latest.get(inputs)
        if earlier is None or earlier.now >= at or not _all_before(ticket, earlier.now, at):
            return None
        return advanced(earlier, at, at >= self.now)

    def known(self, ticket: Ticket, at: dt.datetime) -> Sla | None:
        """The SLA of ``ticket`` at ``at`` if it was computed (for it or a version with the
        same clocks), else None."""
        found = self.by_ticket.get((id(ticket), at))
        if found is not None and found[0] is ticket:
            return found[1]
        policy, why = _policy_of(ticket, self.config, at, self.policies)
        inputs = _Hashed((id(policy), why, _clock_inputs(ticket)), len(ticket.entries) > 16)
        return self.by_inputs.get((inputs, at))


class _Hashed:
    """A key whose hash is found once: a version's clock inputs (its conversation, status
    changes and requests) are looked up and stored several times per SLA asked for.  The
    conversation counts in the hash by its length and last entry alone (hashing every entry
    of every version made a replay that adds many notes quadratic); equal keys still have
    equal hashes, and keys are compared whole."""

    __slots__ = ("hash", "value")

    def __init__(self, value: tuple[object, ...], long: bool = False) -> None:
        self.value = value  # (``long``: its conversation is long; else hashed whole)
        self.hash = hash(tuple(_summary(part) for part in value)) if long else hash(value)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Hashed) and self.hash == other.hash and self.value == other.value


def _summary(part: object) -> object:
    """What of a part of a :class:`_Hashed` key its hash is made of: a tuple of clock inputs
    with its conversation (``Ticket.entries``, the only long part) by length and last entry."""
    if type(part) is tuple and len(part) == len(_INPUT_NAMES):
        entries = part[_ENTRIES]
        if type(entries) is tuple:
            last = entries[-1] if entries else None
            return (*part[:_ENTRIES], len(entries), last, *part[_ENTRIES + 1 :])
    return part


def by_people_since_swept(
    ticket: Ticket, now: dt.datetime
) -> tuple[tuple[Activity, ...], tuple[Escalation, ...], bool]:
    """What people (not esc, not a rule) did to ``ticket`` after its last sweep (all of it,
    if it was never swept), up to ``now``: their activity lines, their escalations, and
    whether the ticket was created then.  A sweep tells people of these (an assignment, an
    escalation, a reopening…): their command may have sent nothing (no ``--notify``)."""
    since = _checked(ticket)
    if since is None:
        since = ticket.created - _MICROSECOND
    lines = tuple(a for a in ticket.activity if since < a.at <= now and by_person(a.by))
    escalations = tuple(
        e for e in ticket.escalations if since < e.at <= now and by_person(e.by)
    )
    return lines, escalations, since < ticket.created <= now


def _changed_by_person_at(ticket: Ticket, at: dt.datetime) -> bool:
    """Whether a person changed ``ticket`` at the instant ``at`` (by its log)."""
    if ticket.updated < at:  # (a person's change sets `updated`)
        return False
    return any(line.at == at and by_person(line.by) for line in ticket.activity)


def _settled_at(ticket: Ticket, since: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a person changed the status (or a field a policy is chosen by) of ``ticket``
    in the very second of its last sweep, ``since``, before ``now``: maybe after that sweep,
    which then never saw it (its `updated` is its `checked`), as a resolve at 10:20:00
    after a sweep at 10:20:00 (the clocks it stopped were met then, not at the next
    sweep)."""
    if since is None or since >= now or ticket.updated < since:
        return False
    return any(
        line.at == since and line.field in _REPLAYED_WHEN_SETTLED and by_person(line.by)
        for line in ticket.activity
    )


def marked_swept(ticket: Ticket, config: Config, now: dt.datetime) -> Change:
    """The change that records a sweep at ``now`` in the ticket's ``sla:`` block (its
    ``checked``), for a sweep that changes nothing else but told people of what they did:
    the next sweep, here or in another clone, finds it told.  A ticket no policy applies to
    (no block yet) gets one of ``checked`` and ``rules`` alone."""
    stored = ticket.extra.get("sla")
    version = sweep_version(config)
    if not isinstance(stored, Mapping):  # (no policy applies: a block of the sweep alone)
        return Change(sets={"sla": {"checked": now, "rules": version}})
    return Change(sets={"sla": _marked(stored, now, version)})


# The fields whose change after a settled ticket's last sweep is replayed at its instant
_REPLAYED_WHEN_SETTLED = ("status", "priority", "category", "impact", "urgency", "team")


def _policy_input_changed(
    ticket: Ticket, config: Config, since: dt.datetime, now: dt.datetime
) -> bool:
    """Whether the status, or anything a policy is chosen by, changed in (since, now]: of a
    settled ticket, a policy re-selected then is logged at that change, as a sweep then
    would have, not at now (a tag the policies read, added after a sweep, was stamped at
    the next sweep's instant, and its clocks' lines and notifications with it)."""
    reads = _policy_reads(config)
    names = {*_REPLAYED_WHEN_SETTLED, *reads}  # (a field of one's own too: a rule's `set:` logs it)
    if any(later_changes(ticket, name, since, now) for name in names):
        return True
    return "tags" in reads and any(
        line.event == "tagged" and since < line.at <= now for line in ticket.activity
    )


def _had_policy(ticket: Ticket, config: Config, now: dt.datetime) -> bool:
    """Whether a policy applied to ``ticket`` once, none applying now: as it came in, or
    after a change of a field a policy is chosen by (a priority lowered past a breach).
    A sweep then would have written it a block, and logged what its clocks did."""
    moments = [ticket.created] + [
        line.at
        for line in ticket.activity
        if line.field in _REPLAYED_WHEN_SETTLED and ticket.created < line.at <= now
    ]
    return any(
        _policy_of(ticket_as_of(ticket, at), config, at)[0] is not None for at in moments
    )


def _acted_on_by_rules(ticket: Ticket) -> bool:
    """Whether a rule's line is in ``ticket``'s log: a sweep acted on it (its block since
    removed by hand, or by an older esc's merge): it is evaluated at now, never replayed
    to act twice."""
    return any(line.by.startswith(RULE_ACTOR) for line in ticket.activity)


def _checked(ticket: Ticket) -> dt.datetime | None:
    """When a sweep last wrote this ticket (the ``checked`` time of its ``sla`` block)."""
    stored = ticket.extra.get("sla")
    return coerce_timestamp(stored.get("checked")) if isinstance(stored, Mapping) else None


def _once(make: Callable[[], V]) -> Callable[[], V]:
    """``make``'s answer, made when first asked for and kept (``functools.cache`` of a
    partial costs a ``functools.update_wrapper`` per ticket a sweep plans)."""
    kept: list[V] = []

    def answer() -> V:
        if not kept:
            kept.append(make())
        return kept[0]

    return answer


def _seen(ticket: Ticket, retimed: bool = True) -> automation.Seen | None:
    """What the ticket's last sweep saw of each clock: its state and deadline then
    (``retimed``: it was swept under another rules.yaml than this one)."""
    stored = ticket.extra.get("sla")
    if not isinstance(stored, Mapping):
        return None
    states: dict[str, str] = {}
    dues: dict[str, dt.datetime] = {}
    for key, value in stored.items():
        state = _state(value)
        if state is None or not isinstance(value, Mapping):
            continue
        states[str(key)] = state
        due = coerce_timestamp(value.get("due"))
        if due is not None:
            dues[str(key)] = due
    if not states:
        return None
    return automation.Seen(coerce_timestamp(stored.get("checked")), states, dues, retimed)


def stored_version(ticket: Ticket) -> str | None:
    """The version (:func:`sweep_version`) of the configuration the ticket was last swept
    under, as its ``sla.rules`` says (None: never swept, or before esc recorded it)."""
    return _stored_version(ticket)


def _stored_version(ticket: Ticket) -> str | None:
    """The version of the sweep's configuration the ticket was last swept under."""
    stored = ticket.extra.get("sla")
    value = stored.get("rules") if isinstance(stored, Mapping) else None
    return None if value is None else str(value)


_VERSIONS: dict[int, tuple[Config, str]] = {}


def sweep_version(config: Config) -> str:
    """A short hash of everything in the configuration a sweep's outcome depends on
    (priorities, calendars, policies, rules, the teams' levels, leads and chain).

    A ticket whose ``sla.rules`` differs was last swept under another configuration, at
    an unknown time since: its missed moments are not replayed under this one (that would
    stamp effects before the change that caused them); the rules are evaluated at now.
    """
    return _per_config(_VERSIONS, config, _version)


def _version(config: Config) -> str:
    teams = [(t.key, t.level, t.lead, t.escalates_to) for t in config.teams.values()]
    parts = (config.priorities, config.calendars, config.policies, config.automation)
    text = repr(_canonical((*parts, config.max_actions, teams)))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


T = TypeVar("T")


def _per_config(
    table: dict[int, tuple[Config, T]], config: Config, make: Callable[[Config], T]
) -> T:
    """``make(config)``, computed once per configuration (``table`` keeps it by the
    configuration's id, with the configuration itself so that an id is never taken for
    another's)."""
    known = table.get(id(config))
    if known is None or known[0] is not config:
        known = table[id(config)] = (config, make(config))
    return known[1]


def _canonical(value: object) -> object:
    """``value`` with its sets sorted, so that its repr is the same in every process."""
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, Mapping):
        return [(_canonical(k), _canonical(v)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        parts = [
            (f.name, _canonical(_configured(value, f)))
            for f in dc_fields(value)
            if not (f.metadata.get("added_with_default") and getattr(value, f.name) == f.default)
        ]  # (a field esc added later, at the default that keeps the old meaning: left out)
        return (type(value).__name__, parts)
    return value


def _configured(record: object, spec: Field[object]) -> object:
    """A record's field as configured: a field left out of comparisons is a cache (a
    calendar's running sums), whose contents depend on what was computed before; it counts
    as its empty value, as when the version was first taken from a fresh configuration."""
    if spec.compare:
        return getattr(record, spec.name)
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return spec.default


def _next_instant(
    versions: _Versions,
    view: Ticket,
    since: dt.datetime,
    now: dt.datetime,
    config: Config,
    memory: Mapping[str, dt.datetime],
    sla_at: _Slas,
) -> dt.datetime:
    """The first moment after ``since`` and before ``now`` at which the rules' view of the
    ticket changes: a warning or deadline crossed, the ticket changed, or a time-based
    condition (age, idle, overdue, repeat) reached; else ``now``.  ``view`` is the ticket
    as the rules see it at ``since``."""
    if since >= now:
        return now
    known = sla_at.known(view, since) if _all_before(view, since, now) else None
    if known is not None:  # (the rules computed it: no need of one as of now)
        sla = known
        moments = [
            m
            for c in sla.clocks
            if c.stop is None and not c.pausing
            for m in (c.warn, c.due)
            if m is not None and since < m < now
        ]
    else:
        sla = sla_at(view, now)
        moments = [m for m in sla.events_after(since) if m < now]
    if view.requests:  # (each request's own OLA clock is logged at its marks)
        moments += [m for c in request_clocks(view, sla.policy, since)
                    if c is not None and c.stop is None and not c.pausing
                    for m in (c.warn, c.due) if m is not None and since < m < now]  # fmt: skip
    change = versions.next_change(since)
    if change is not None and change < now:
        moments.append(change)
    moments += [m for m in time_moments(view, sla, config, memory) if since < m < now]
    return fixed_in(min(moments), _replay_zone(config, now)) if moments else now


_ZONES: dict[tuple[int, dt.datetime], tuple[Config, dt.tzinfo | None]] = {}


def _replay_zone(config: Config, now: dt.datetime) -> dt.tzinfo | None:
    """The zone a replayed moment is written in: that of the first calendar whose offset at
    ``now`` is ``now``'s (the helpdesk's own), so that a moment before a change of summer
    time reads as a sweep at that moment would have written it (13:00+01:00, not
    14:00+02:00); else ``now``'s own offset."""
    key = (id(config), now)  # (one sweep's: its configuration and its now)
    known = _ZONES.get(key)
    if known is None or known[0] is not config:
        # (the offset at the instant ``now`` is, not at its wall clock: in the hour the
        # clocks go back, 02:40+01:00 is the second 02:40, whose offset is +01:00)
        offset = now.utcoffset()
        zones = [c.tz for c in config.calendars.values()]
        zone = next((z for z in zones if now.astimezone(z).utcoffset() == offset), now.tzinfo)
        known = _ZONES[key] = (config, zone)
    return known[1]


def _all_before(view: Ticket, since: dt.datetime, now: dt.datetime) -> bool:
    """Whether nothing of ``view`` its SLA clocks are computed from lies after ``since``,
    and ``now`` is within the 10-year horizon of counted time: then the SLA at ``since``
    tells the clocks until ``now`` if the ticket stays as it is.

    A running clock's warning and due instants do not depend on when they are asked
    about, nor does a paused one cross anything while its pause lasts; only a time that
    lies after ``since`` (a first response or resolution time, an entry, a request or a
    status change written by hand without a log line, or after the moment a replay
    views) would change the clocks between.  (The policy that applies at ``since``
    applies until the next moment of a replay: a policy's age or idle limit is one,
    :func:`time_moments`.)
    """
    if view.created > since or view.updated > since:
        return False
    if now - view.created >= MAX_HORIZON:  # (clocks counted only that far)
        return False
    stops = (view.first_response_at, view.resolved_at)
    if any(t is not None and t > since for t in stops):
        return False
    if any(e.at > since for e in view.entries):
        return False
    if any(a.at > since for a in field_changes(view.activity, "status")):
        return False
    return all(r.asked <= since and (r.closed is None or r.closed <= since) for r in view.requests)


def _bookkeeping(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    rules: Change,
    fired: list[str],
    skipped: list[str],
    sla_at: SlaAt,
    logged: _Logged | None = None,
) -> TicketPlan:
    """Add the ``sla`` block (and its log lines: those of the moments a replay visited,
    ``logged``, then now's) to what the rules changed."""
    after = lifecycle.applied(ticket, rules)
    sla = sla_at(after, now)
    block = sla_block(sla)
    stored = ticket.extra.get("sla")
    old = _stored_block(stored)
    version = sweep_version(config)
    change = rules
    earlier = logged.lines if logged is not None else []
    if logged is not None and (logged.asked or after.requests):
        earlier = earlier + logged.request_lines(after.requests)
    changed = block != _as_written(old) and bool(block or old)
    zone = _replay_zone(config, now)
    if logged is not None:
        since, asked = logged.since, logged.requests
    else:
        since = _checked(ticket) if old else ticket.created - _MICROSECOND
        asked = _request_states(ticket, config, since if old else None)
    requests: list[Activity] = []
    if after.requests or asked:
        made = {r.key for r in after.requests}  # (not a rule's request it did not make)
        requests = [line for key, line in _request_log(asked, after, sla, since, zone)[0]
                    if key in made]  # fmt: skip
    if changed or earlier or requests:
        if logged is not None:
            log = earlier + _sla_log(logged.block, block, now, sla, since, zone)
        else:
            log = _sla_log(old or {}, block, now, sla, since, zone)
        log += requests
        if logged is not None and logged.recorded:
            log = [line for line in log if _said(line) not in logged.recorded]
        sets = {
            "sla": {
                "policy": block.get("policy"),
                "checked": now,
                "rules": version,
                **_clocks(block),
            }
        }
        change = lifecycle.combined(change, Change(sets=sets))
        anchors = logged.anchors() if logged is not None else {}
        anchors = {**_closing_requests(log, change.activity), **anchors}
        change = replace(change, activity=_merged(log, change.activity, anchors))
    elif not isinstance(stored, Mapping) and after.active:
        # (no policy applies: a block of the sweep alone, so that the next sweep replays the
        # moments since, as it does any other ticket's; a resolved or closed one gets none)
        sets = {"sla": {"checked": now, "rules": version}}
        change = lifecycle.combined(change, Change(sets=sets))
    elif isinstance(stored, Mapping) and (
        change or _under_another(ticket, after, version) or (logged and logged.restarted)
    ):  # (or replayed from a `checked` a merge moved back: now marked as swept at now)
        # (an active ticket last swept under another configuration is marked as swept under
        # this one now, though nothing else changed: else every later sweep would find the
        # old version and evaluate it at its own instant only, never replaying what it missed)
        sets = {"sla": _marked(stored, now, version)}
        change = lifecycle.combined(change, Change(sets=sets))
    result = TicketPlan(lifecycle.applied(ticket, change), change, sla, fired, skipped)
    result.escalations = [
        Escalated(ticket.id, e.kind, e.from_, e.to, e.by) for e in change.escalations
    ]
    return result


def _as_written(old: dict[str, object] | None) -> object:
    """A stored block (:func:`_stored_block`) as :func:`sla_block` would make it.  A block
    that says no policy applies, `policy: null`, is the block of no policy: compared as
    such, or every sweep wrote the ticket again, its `checked` alone changed."""
    written = _plain(old) if old is not None else None
    return {} if written == {"policy": None} else written


def _under_another(ticket: Ticket, after: Ticket, version: str) -> bool:
    """Whether the active ``ticket`` was last swept under a configuration other than the
    one of ``version`` (one swept before esc recorded versions is trusted)."""
    stored = _stored_version(ticket)
    return after.active and stored is not None and stored != version


def _marked(stored: Mapping[str, object], now: dt.datetime, version: str) -> dict[str, object]:
    """The ``sla:`` block ``stored`` with a sweep at ``now`` recorded, its keys in the order
    a sweep writes them (``policy``, ``checked``, ``rules``, then the clocks), whatever
    wrote it before: the file's bytes do not depend on which sweep wrote it last."""
    head = {"policy": stored["policy"]} if "policy" in stored else {}
    rest = {k: v for k, v in stored.items() if k not in ("policy", "checked", "rules")}
    return {**head, "checked": now, "rules": version, **rest}


def sla_block(sla: Sla) -> dict[str, object]:
    """What the sweep writes into the front-matter ``sla:`` mapping (without ``checked``)."""
    if sla.policy is None:
        return {}
    tz = sla.policy.calendar.tz
    block: dict[str, object] = {"policy": sla.policy.name}
    for clock in sla.clocks:
        due = fixed_in(clock.due, tz) if clock.due is not None else None
        block[clock.metric] = {"due": due, "state": clock.state}
    return block


def _clocks(block: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in block.items() if k not in ("policy", "rules")}


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _sla_log(
    old: Mapping[str, object],
    new: Mapping[str, object],
    now: dt.datetime,
    sla: Sla,
    since: dt.datetime | None,
    zone: dt.tzinfo | None,
) -> list[Activity]:
    """The log lines of the ``sla:`` block's change since the last sweep (``since``): its
    policy's, and each clock's (:func:`_clock_log`) but the ``collaboration`` one, whose
    lines are each request's (:func:`_request_log`).  So the log (and what it tells
    people) is the same whether sweeps ran every minute or once after a day: what a sweep
    at every instant would have written."""
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
    clocks: dict[str, Clock] = {c.metric: c for c in sla.clocks}
    for metric in sorted(set(_clocks(old)) | set(_clocks(new))):
        if metric == "collaboration":  # (each request's own clock: _request_log)
            continue
        before, after = _state(old.get(metric)), _state(new.get(metric))
        if before == after:  # (most clocks of most moments)
            continue
        # (a deadline that moved now, by a change to the ticket or its policy, was crossed
        # now if it lies before: the change made the clock late, not the time it names)
        moved = _due(old.get(metric)) != _due(new.get(metric))
        lately = now if moved else since
        log += _clock_log(metric, before, after, clocks.get(metric), now, lately, zone)
    return log


def _due(clock: object) -> object:
    return clock.get("due") if isinstance(clock, Mapping) else None


def _clock_log(
    metric: str, before: str | None, after: str | None, clock: Clock | None,
    now: dt.datetime, since: dt.datetime | None, zone: dt.tzinfo | None,
    about: str | None = None,
) -> list[Activity]:  # fmt: skip
    """The lines of one clock's change of state from ``before`` to ``after`` since the last
    sweep (``since``), each stamped at the instant it happened where the clock tells it (a
    warning crossed, a deadline passed, a clock met, a request's clock started), else at
    ``now``; a clock that is breached now and crossed its warning since (an ``ok`` clock at
    the last sweep, or one no sweep saw yet) gets its warning line first.  ``about``: what
    the clock is of, first in the note (a request's team)."""

    def crossed(moment: dt.datetime | None) -> dt.datetime | None:
        if moment is None or moment > now or (since is not None and moment <= since):
            return None
        return fixed_in(moment, zone)

    def note(warning: bool) -> str:
        due = ""
        if warning and clock is not None and clock.due is not None:
            due = f"{DUE_NOTE}{format_timestamp(clock.due.astimezone(zone))}"
        return ", ".join(part for part in (about, due) if part)

    field = f"sla.{metric}"
    log: list[Activity] = []
    warned = crossed(clock.warn) if clock is not None else None
    if before in (None, "ok") and after == "breached" and warned is not None:
        log.append(Activity(warned, SWEEPER, field=field, old=before, new="warning",
                            note=note(True)))  # fmt: skip
        before = "warning"
    at = None
    if clock is not None and after == "breached":
        at = crossed(breached_at(clock))
    elif clock is not None and after == "warning":
        at = warned
    elif clock is not None and after == "met":
        at = crossed(clock.stop)
    elif clock is not None and before is None and about is not None:  # (a request asked)
        at = crossed(clock.start)
    log.append(Activity(at or now, SWEEPER, field=field, old=before, new=after,
                        # (a request's breach names its deadline too: its message tells it)
                        note=note(after == "warning" or (after == "breached" and bool(about)))))
    return log


def _closing_requests(log: list[Activity], activity: Sequence[Activity]) -> dict[int, int]:
    """For each line of a request's clock (``sla.collaboration``) that a rule's line at its
    instant ended, answering or declining that team's request (an escalation to the team
    answers it), by id: the id of that line, which it follows (:func:`_merged`); it came
    before the rule's lines, the effect before its cause."""
    closing = {
        (a.at, a.event.rpartition(" by ")[2]): id(a)
        for a in activity
        if a.event is not None and a.event.startswith("request ") and " by " in a.event
    }
    # (and the line that starts the clock of a request a rule made, `— → ok`: after the
    # rule's `involved TEAM`, as after a person's, not before it and the policy's lines;
    # audit helper-443)
    opening = {
        (a.at, a.event.removeprefix("involved ")): id(a)
        for a in activity
        if a.event is not None and a.event.startswith("involved ") and not by_person(a.by)
    }
    if not closing and not opening:
        return {}
    found = {}
    for line in log:
        if line.field != "sla.collaboration":
            continue
        key = (line.at, line.note or "")
        made = opening.get(key) if line.old is None else None
        anchor = closing.get(key, made)
        if anchor is not None:
            found[id(line)] = anchor
    return found


def _merged(
    log: list[Activity], activity: Sequence[Activity], anchors: Mapping[int, int]
) -> tuple[Activity, ...]:
    """The sweep's ``sla.*`` lines among the rules' lines, in time order (each kept in its
    own order; at one instant, a clock's line first: the breach before the escalation it
    made), but a line of what a rule's change made of the block (``anchors``: by id, the
    id of the rule's line it follows), right after that rule's lines: the priority raised,
    then the policy it re-selected.  A person's line the replay adds (what a customer's
    message or a person's move did to what a missed rule had made) comes before the
    clocks' lines of its instant: a sweep then would have found it in the file, and
    written its own lines after it (audit a74)."""
    if not log:
        return tuple(activity)
    position = {id(a): n for n, a in enumerate(activity)} if anchors else {}
    keyed: list[tuple[dt.datetime, int, int, int, int, Activity]] = []
    for n, a in enumerate(log):
        after = position.get(anchors.get(id(a), -1))
        keyed.append((a.at, 0, 0, 0, n, a) if after is None else (a.at, 1, after, 1, n, a))
    keyed += [(a.at, -1 if by_person(a.by) else 1, n, 0, 0, a) for n, a in enumerate(activity)]
    ordered = sorted(keyed, key=lambda item: item[:5])
    return tuple(a for *_, a in ordered)


def _state(clock: object) -> str | None:
    return str(clock.get("state")) if isinstance(clock, Mapping) and clock.get("state") else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def as_last_swept(
    ticket: Ticket, config: Config, now: dt.datetime
) -> tuple[Sla, dt.datetime, float] | None:
    """What the sweep that last wrote ``ticket`` knew of it, for a ticket exactly as that
    sweep wrote it and left it at rest (its fingerprint says so:
    :mod:`esc.ticketfile.fingerprint`): the SLA as of its ``checked`` instant, that
    instant, and when a sweep must look at the ticket again (:func:`next_event`), if that
    is after ``now``; else None, and the ticket is planned: a deadline or a time-based
    condition came due since, or it was swept under another configuration, or after
    ``now``, or its block is not what a sweep at its ``checked`` time writes (that time
    edited by hand: the fingerprint leaves it out).

    A sweep with its cache keeps exactly these and plans the ticket no sooner; this is
    what a sweep without it (a fresh clone's, CI's) can know of it without the replay."""
    checked = _checked(ticket)
    if checked is None or not ticket.updated <= checked <= now:
        return None
    if _stored_version(ticket) != sweep_version(config):
        return None
    sla = sla_of(ticket, config, checked)
    # (not what a sweep then wrote: `checked` edited by hand)
    if _as_written(_stored_block(ticket.extra.get("sla"))) != sla_block(sla):
        return None
    after = next_event(ticket, sla, config, checked)
    if after is None or now.timestamp() >= after:
        return None
    return sla, checked, after


def settled_as_swept(
    ticket: Ticket, config: Config, now: dt.datetime
) -> tuple[dt.datetime, float] | None:
    """For a resolved or closed ``ticket`` exactly as the sweep that last wrote it left it
    (as :func:`as_last_swept` asks), what that sweep knew of it without its SLA: its
    ``checked`` instant, and an instant (a Unix time) not before anything that happened to
    it, its clocks' starts, stops, warnings and deadlines included (so not before what
    ``esc.store.cache_codec.settled_at`` finds from its SLA); else None.

    Only when its SLA is the same at every instant from its last event on, as the block
    holds it: no policy is chosen by an age or idle time, every clock of the block had
    stopped by then (the first response given, the resolution, the next response of a
    ticket resolved; any other clock is not judged here), and its last event is not after
    ``checked``.  A sweep at ``checked`` then wrote the block an SLA computed now would
    give (:func:`as_last_swept` computes it to see), and a sweep never looks at the ticket
    again (:func:`next_event`: never), whatever its SLA.  (Its log is not read: a ticket
    resolved, by a person or a rule, has its `resolved_at`, and its status changes came
    no later than its last resolution or closing, which stopped its clocks.)"""
    if ticket.active or ticket.resolved_at is None:
        return None
    checked = _checked(ticket)
    if checked is None or not ticket.updated <= checked <= now:
        return None
    if _stored_version(ticket) != sweep_version(config) or _policy_limits(config):
        return None
    block = _stored_block(ticket.extra.get("sla"))
    if block is None:
        return None
    last = max(event_moments(ticket))
    if last > checked:
        return None
    dues = []
    for metric, clock in _clocks(block).items():
        if not _stopped(ticket, metric) or not isinstance(clock, Mapping):
            return None
        due = coerce_timestamp(clock.get("due"))
        if clock.get("state") not in ("met", "breached") or due is None:
            return None
        dues.append(due)
    return checked, max([last, *dues]).timestamp()


def _stopped(ticket: Ticket, metric: str) -> bool:
    """Whether the clock ``metric`` of the settled and resolved ``ticket`` is stopped (see
    ``esc.domain.sla``'s spans): the first response when it was given, the resolution and
    the next response always."""
    if metric == "first_response":
        return ticket.first_response_at is not None
    return metric in ("resolution", "next_response")  # (the latter: the ticket resolved)


def next_event(ticket: Ticket, sla: Sla, config: Config, now: dt.datetime) -> float | None:
    """When a sweep must look at this ticket again (a Unix time; inf: never), if unchanged.

    Until then no warning or deadline is crossed and no time-based condition of a rule
    (age, idle, overdue, repeat) or of a policy (age, idle) changes, so a sweep would
    change nothing.
    """
    if not ticket.active:
        return math.inf
    clocks = list(sla.clocks)
    if ticket.requests:  # (each request's own OLA clock is logged and told: _request_log)
        clocks += [c for c in request_clocks(ticket, sla.policy, now) if c is not None]
    running = [c for c in clocks if c.stop is None and c.state != "paused"]
    moments = [m for c in running for m in (c.warn, c.due) if m is not None]
    moments += time_moments(ticket, sla, config, automation.memory_of(ticket))
    future = [m.timestamp() for m in moments if m > now]
    return min(future) if future else math.inf


def time_moments(
    ticket: Ticket, sla: Sla, config: Config, memory: Mapping[str, dt.datetime]
) -> list[dt.datetime]:
    """The instants at which a time-based condition changes as things stand: a rule's (an
    age or idle time reached, a clock overdue by so much) or a policy's (an age or idle
    time: another policy may apply from then), or at which a rule may repeat."""
    if not _timed(config):
        return []
    dues = [c.due for c in sla.clocks if c.stop is None and c.due is not None]
    moments = _limits_reached(ticket, _policy_limits(config), dues)
    for rule, leaves in _rule_limits(config):
        moments += _limits_reached(ticket, leaves, dues)
        last = memory.get(rule.name)
        again = None if rule.repeat is None or last is None else _repeat_at(rule.repeat, last, sla)
        if again is not None:
            moments.append(again)
    return moments


def _limits_reached(
    ticket: Ticket, leaves: list[DurationCondition], dues: list[dt.datetime]
) -> list[dt.datetime]:
    """When each age/idle/overdue limit of ``leaves`` turns its condition (``dues``: the
    running clocks' deadlines, from which overdue counts): `>=` and `<` at the limit, `>`
    and `<=` a second after it (esc's times are whole seconds), `!=` at both (false for
    the one second of the limit)."""
    moments: list[dt.datetime | None] = []
    for leaf in leaves:
        for past in _TURNS[leaf.op]:
            if leaf.name == "age":
                moments.append(_after(ticket.created, leaf.limit, past))
            elif leaf.name == "idle":
                moments.append(_after(ticket.updated, leaf.limit, past))
            else:
                moments += [_after(due, leaf.limit, past) for due in dues]
    return [m for m in moments if m is not None]


_TURNS = {  # (when, after its limit, a duration condition turns true or false)
    ">=": (dt.timedelta(0),),
    "<": (dt.timedelta(0),),
    ">": (_SECOND,),
    "<=": (_SECOND,),
    "!=": (dt.timedelta(0), _SECOND),
}


def _after(moment: dt.datetime, *spans: dt.timedelta) -> dt.datetime | None:
    """``moment`` plus ``spans``; None past the last time a datetime or a timedelta holds
    (a limit of a million weeks, `idle: ">99999999w"`, which validates: never reached)."""
    try:
        for span in spans:
            moment += span
        return moment
    except OverflowError:
        return None


_RULE_LIMITS: dict[int, tuple[Config, list[tuple[Rule, list[DurationCondition]]]]] = {}
_POLICY_LIMITS: dict[int, tuple[Config, list[DurationCondition]]] = {}


def _rule_limits(config: Config) -> list[tuple[Rule, list[DurationCondition]]]:
    """Each rule with the age/idle/overdue leaves of its condition (found once per
    configuration: a replay asks at every moment)."""
    return _per_config(
        _RULE_LIMITS, config, lambda c: [(rule, _durations(rule.when)) for rule in c.automation]
    )


_TIMED: dict[int, tuple[Config, bool]] = {}


def _timed(config: Config) -> bool:
    """Whether a condition of the configuration changes with time alone (an age, idle or
    overdue limit of a rule or a policy) or a rule repeats: else no instant of
    :func:`time_moments` exists, for any ticket (found once per configuration)."""
    return _per_config(
        _TIMED,
        config,
        lambda c: bool(_policy_limits(c))
        or any(leaves or rule.repeat is not None for rule, leaves in _rule_limits(c)),
    )


def _policy_limits(config: Config) -> list[DurationCondition]:
    """The age/idle leaves of the policies' conditions (an overdue leaf never holds for a
    policy: which policy applies decides what is overdue)."""
    return _per_config(
        _POLICY_LIMITS,
        config,
        lambda c: [d for p in c.policies for d in _durations(p.when) if d.name != "overdue"],
    )


def _repeat_at(repeat: dt.timedelta, last: dt.datetime, sla: Sla) -> dt.datetime | None:
    """When a rule that fired at ``last`` may fire again (working time of the calendar);
    None: never (past the last time a datetime holds)."""
    if sla.policy is None:
        return _after(last, repeat)
    try:
        return add_business_time(sla.policy.calendar, last, repeat)
    except CalendarError:  # (more working time than the calendar looks ahead: never)
        return None


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
