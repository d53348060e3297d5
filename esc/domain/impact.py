"""What a change to teams.yaml, rules.yaml or tickets/ does, as of ``now``: each ticket's
SLA, routing and next sweep (:func:`esc.domain.plan.plan`) under the base version and
under the head, compared; and the team each category is routed to.  Pure.

What the change causes is named by the words `esc plan --fail-on` takes (:data:`CAUSES`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, get_args

from esc.domain.config import Config
from esc.domain.model import ClockState, EscalationKind, Metric, Ticket, front_matter
from esc.domain.plan import Past, plan
from esc.domain.records import immutable
from esc.domain.routing import facts_for, route, ticket_fields

Cause = Literal[
    "invalid", "policy", "deadline", "breach", "warning", "escalation", "rule", "routing"
]
CAUSES: tuple[Cause, ...] = get_args(Cause)
FileChange = Literal["added", "removed", "changed", "same"]
# What differs for one ticket: its SLA (policy, deadlines, clock states), the team routing
# picks for it, what the next sweep does to it.
Aspect = Literal["sla", "route", "sweep"]


@immutable
class ClockView:
    metric: Metric
    due: dt.datetime | None  # in the time zone of the policy's calendar
    state: ClockState
    running: bool


@immutable
class Escalating:
    """An escalation the next sweep makes (``by``: ``rule:NAME``)."""

    kind: EscalationKind
    from_: str | None
    to: str
    by: str

    def __str__(self) -> str:
        return f"{self.kind} {self.from_} → {self.to} by {self.by}"


@immutable
class VersionOutcome:
    """One ticket under one version: its SLA as the next sweep leaves it, the team routing
    picks for it while it is at its first level, and what the next sweep does to it."""

    policy: str | None
    clocks: tuple[ClockView, ...]
    route: str | None  # None: an escalated, finished or higher-level ticket is not re-routed
    fired: tuple[str, ...]
    escalations: tuple[Escalating, ...]
    actions: tuple[str, ...]  # the rules' other effects: "assignee → sofia", "tag +vip", ...

    def clock(self, metric: str) -> ClockView | None:
        return next((c for c in self.clocks if c.metric == metric), None)

    @property
    def sweep(self) -> tuple[tuple[str, ...], tuple[Escalating, ...], tuple[str, ...]]:
        return self.fired, self.escalations, self.actions


@immutable
class TicketPair:
    """One ticket file in the base version and in the head (None where it is missing or
    does not parse)."""

    name: str
    change: FileChange
    base: Ticket | None
    head: Ticket | None


@immutable
class TicketImpact:
    id: str
    title: str
    file: str
    change: FileChange
    base: VersionOutcome | None  # None: not in the base, or the base's configuration is broken
    head: VersionOutcome | None
    differs: tuple[Aspect, ...]
    causes: tuple[Cause, ...]


@immutable
class RouteChange:
    category: str
    base: str
    head: str


@immutable
class Impact:
    tickets: tuple[TicketImpact, ...]  # whose file changed or whose outcome differs, by ID
    categories: tuple[RouteChange, ...]
    causes: tuple[Cause, ...]  # in the order of CAUSES


def compare(
    pairs: Sequence[TicketPair],
    base: Config | None,
    head: Config | None,
    now: dt.datetime,
    invalid: bool = False,
) -> Impact:
    """Each ticket's outcome under ``base`` and ``head`` as of ``now``, compared; ``invalid``
    says the head has problems of its own (its configuration, a ticket file).  A head whose
    configuration does not load (None, where the base's did) tells nothing of what its
    policies and rules would do: the ticket files it adds, removes or changes are listed,
    none is compared (every policy would read as removed), and the change causes
    ``invalid`` alone."""
    if head is None and base is not None:
        files = [_ticket_impact(pair, None, None, now) for pair in pairs if pair.change != "same"]
        files.sort(key=lambda t: (t.id, t.file))
        return Impact(tuple(files), (), ("invalid",))
    tickets = []
    for pair in pairs:
        found = _ticket_impact(pair, base, head, now)
        if found.change != "same" or found.differs:
            tickets.append(found)
    tickets.sort(key=lambda t: (t.id, t.file))
    categories = category_routes(base, head, now) if base and head else ()
    causes = {cause for t in tickets for cause in t.causes}
    if categories:
        causes.add("routing")
    if invalid:
        causes.add("invalid")
    return Impact(tuple(tickets), categories, tuple(c for c in CAUSES if c in causes))


def outcome(
    ticket: Ticket, config: Config, now: dt.datetime, earlier: Config | None = None
) -> VersionOutcome:
    """What ``config`` makes of ``ticket`` as of ``now`` (see :class:`VersionOutcome`);
    ``earlier``: the configuration it may have been last swept under (see
    :func:`esc.domain.plan.plan`)."""
    planned = plan(ticket, config, now, Past(earlier) if earlier is not None else Past())
    sla = planned.sla
    tz = sla.policy.calendar.tz if sla.policy is not None else None
    clocks = tuple(
        ClockView(
            c.metric,
            c.due.astimezone(tz) if c.due is not None and tz is not None else c.due,
            c.state,
            c.running,
        )
        for c in sla.clocks
    )
    routed = None
    if ticket.active and config.level(ticket.team) == 1 and not ticket.escalated_teams:
        routed, _ = route(config, facts_for(ticket_fields(ticket, config), ticket.description, now))
    change = planned.change
    escalations = tuple(Escalating(e.kind, e.from_, e.to, e.by) for e in change.escalations)
    moved = {"priority" if e.kind == "priority" else "team" for e in change.escalations}
    actions = [
        f"{name} → {'none' if value is None else value}"
        for name, value in change.sets.items()
        if name not in _BOOKKEEPING | moved and not isinstance(value, dt.datetime)
    ]
    actions += [f"tag +{tag}" for tag in change.tags_added]
    actions += [f"{entry.kind}: {' '.join(entry.text.split())}" for entry in change.entries]
    return VersionOutcome(
        sla.policy.name if sla.policy is not None else None,
        clocks,
        routed,
        tuple(planned.fired),
        escalations,
        tuple(actions),
    )


_BOOKKEEPING = frozenset({"sla", "fired", "updated"})


def category_routes(base: Config, head: Config, now: dt.datetime) -> tuple[RouteChange, ...]:
    """The categories a new ticket of which routing sends to another team under ``head``."""
    changes = []
    for category in dict.fromkeys((*_categories(head), *_categories(base))):
        before, after = _route_new(base, category, now), _route_new(head, category, now)
        if before != after:
            changes.append(RouteChange(category, before, after))
    return tuple(changes)


def _categories(config: Config) -> tuple[str, ...]:
    if config.categories is not None:
        return config.categories
    return tuple(dict.fromkeys(c for team in config.teams.values() for c in team.handles))


def _route_new(config: Config, category: str, now: dt.datetime) -> str:
    """The team a new ticket of ``category`` (nothing else said) is routed to, as `esc
    create` routes it."""
    ticket = Ticket(
        id="",
        title="",
        status="new",
        priority=config.default_priority,
        team=config.intake,
        created=now,
        updated=now,
        category=category,
    )
    fields = dict(front_matter(ticket), level=None)
    return route(config, facts_for(fields, "", now))[0]


def _ticket_impact(
    pair: TicketPair, base: Config | None, head: Config | None, now: dt.datetime
) -> TicketImpact:
    before = outcome(pair.base, base, now) if pair.base is not None and base else None
    # (a ticket the base's sweeps last swept: the next sweep after the change replays what
    # it missed under the base's configuration, then the head's at now, as a sweep does)
    after = outcome(pair.head, head, now, base) if pair.head is not None and head else None
    shown = pair.head or pair.base
    ticket_id = shown.id if shown is not None and shown.id else pair.name.removesuffix(".md")
    differs: list[Aspect] = []
    causes: set[Cause] = set()
    if after is not None:
        if before is None or _sla_of(before) != _sla_of(after):
            differs.append("sla")
        if before is not None and before.route and after.route and before.route != after.route:
            differs.append("route")
            causes.add("routing")
        if any(after.sweep) if before is None else before.sweep != after.sweep:
            differs.append("sweep")
        causes |= _causes(before, after)
    return TicketImpact(
        ticket_id,
        shown.title if shown is not None else "",
        f"tickets/{pair.name}",
        pair.change,
        before,
        after,
        tuple(differs),
        tuple(c for c in CAUSES if c in causes),
    )


def _sla_of(outcome: VersionOutcome) -> tuple[object, ...]:
    return (outcome.policy, tuple(shown(c) for c in outcome.clocks))


def shown(clock: ClockView | None) -> tuple[object, ...] | None:
    """What of a clock a change is judged by: its state, and its deadline while it runs (a
    stopped clock whose deadline moved but whose state did not is history, unchanged)."""
    if clock is None:
        return None
    return (clock.metric, clock.state, clock.running, clock.due if clock.running else None)


def _causes(before: VersionOutcome | None, after: VersionOutcome) -> set[Cause]:
    causes: set[Cause] = set()
    if before is not None:
        if before.policy != after.policy:
            causes.add("policy")
        # (a deadline moved: of a clock that runs on both sides; a clock the change
        # stops, as a reply stops the first response, or starts moves none)
        metrics = {c.metric for c in (*before.clocks, *after.clocks)}
        if any(_moved(before, after, m) for m in metrics):
            causes.add("deadline")
    for clock in after.clocks:
        if not clock.running or clock.state not in ("breached", "warning"):
            continue
        earlier = before.clock(clock.metric) if before is not None else None
        if earlier is None or not earlier.running or earlier.state != clock.state:
            causes.add("breach" if clock.state == "breached" else "warning")
    if set(after.escalations) - set(before.escalations if before is not None else ()):
        causes.add("escalation")
    if set(after.fired) != set(before.fired if before is not None else ()):
        causes.add("rule")
    return causes


def _moved(before: VersionOutcome, after: VersionOutcome, metric: str) -> bool:
    was, now = _due(before, metric), _due(after, metric)
    return was is not None and now is not None and was != now


def _due(outcome: VersionOutcome, metric: str) -> dt.datetime | None:
    """The deadline of a running clock (a stopped clock's moved deadline changes nothing)."""
    clock = outcome.clock(metric)
    return clock.due if clock is not None and clock.running else None
