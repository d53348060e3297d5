"""Every lifecycle operation on a ticket, as pure functions returning a Change.

Each takes the ticket, the configuration, ``now`` and who acts, and either returns what
changes or raises Refused/BadInput with a message a user can act on.  No I/O.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import field, replace

from esc.domain.choices import did_you_mean, folded, unknown_choice
from esc.domain.config import Config
from esc.domain.errors import BadInput, Refused
from esc.domain.model import (
    CHANNELS,
    COMPARISON_MARKS,
    OPTIONAL_FIELDS,
    SWEEPER,
    TICKET_FIELDS,
    Activity,
    Change,
    Entry,
    EntryKind,
    Escalation,
    EscalationKind,
    Request,
    RequestState,
    Ticket,
    extended,
    front_matter,
    line_problem,
    name_problem,
    new_tag_problem,
    one_form,
    rebuilt,
    shows_nothing,
    with_requests,
)
from esc.domain.records import immutable
from esc.domain.routing import (
    facts_for,
    priority_from_matrix,
    route,
    routed_category,
    ticket_fields,
)
from esc.domain.timestamps import format_timestamp


class _Builder:
    """Collects the edits of one operation and logs each one in the activity log."""

    def __init__(self, ticket: Ticket, now: dt.datetime, actor: str) -> None:
        if now < ticket.updated:  # (a log in order: nothing is recorded before what it follows)
            what = "created" if ticket.updated == ticket.created else "last updated"
            raise Refused(
                f"{ticket.id} was {what} at {format_timestamp(ticket.updated)}, after --now"
                f" {format_timestamp(now)}; nothing was changed (check the clock, or give a"
                " later --now)"
            )
        self.ticket = ticket
        self.now = now
        self.actor = actor
        self.sets: dict[str, object] = {}
        self.escalations: list[Escalation] = []
        self.tags: list[str] = []
        self.entries: list[Entry] = []
        self.activity: list[Activity] = []
        self.requests: list[Request] = []

    def current(self, name: str) -> object:
        if name in self.sets:
            return self.sets[name]
        return getattr(self.ticket, name, self.ticket.extra.get(name))

    def set(self, name: str, value: object, note: str = "", log: bool = True) -> None:
        old = self.current(name)
        if old == value:
            return
        self.sets[name] = value
        if log:
            self.activity.append(
                Activity(
                    self.now, self.actor, field=name, old=_show(old), new=_show(value), note=note
                )
            )

    def event(self, event: str, note: str = "") -> None:
        self.activity.append(Activity(self.now, self.actor, event=event, note=note))

    def entry(self, kind: EntryKind, text: str, author: str | None = None) -> None:
        self.entries.append(Entry(self.now, author or self.actor, kind, text))
        self.event(entry_added(kind))

    def build(self) -> Change:
        if self.sets or self.escalations or self.entries or self.tags or self.requests:
            self.sets["updated"] = self.now
        return Change(
            sets=dict(self.sets),
            escalations=tuple(self.escalations),
            tags_added=tuple(self.tags),
            entries=tuple(self.entries),
            activity=tuple(self.activity),
            requests=tuple(self.requests),
        )


def _show(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    return str(value)


# ---------------------------------------------------------------- intake


@immutable
class Intake:
    """What a new ticket is created from."""

    title: str
    description: str = ""
    customer: str | None = None
    channel: str | None = None
    category: str | None = None
    priority: str | None = None
    impact: str | None = None
    urgency: str | None = None
    tags: Sequence[str] = field(default_factory=tuple)
    # Front-matter keys that are no Ticket field, written after the fields and seen by
    # routing (intake's `to`, `message_ids`, `external_id`, ...).
    extra: Mapping[str, object] = field(default_factory=dict)


def create(
    intake: Intake, ticket_id: str, config: Config, now: dt.datetime, actor: str
) -> tuple[dict[str, object], list[Activity]]:
    """The front-matter and first activity of a new ticket: classified and routed."""
    if shows_nothing(intake.title):  # (zero-width characters alone show nothing too)
        raise BadInput("a ticket needs a --title")
    problem = line_problem(intake.title)
    if problem is not None:
        raise BadInput(f"--title must be one line of text, but {problem}")
    customer = intake.customer.strip() if intake.customer is not None else None
    problem = None if customer is None else line_problem(customer)
    if problem is not None:  # (written on one line of the front-matter, and shown so)
        raise BadInput(f"--customer must be one line of text, but {problem}")
    # (as a title: trimmed of spaces; a tab or line break refused, as `esc tag` refuses it)
    tags = tuple(dict.fromkeys(one_form(tag.strip(" ")) for tag in intake.tags))
    _check_tags(tags)
    if intake.channel is not None and intake.channel not in CHANNELS:
        raise BadInput(unknown_choice("channel", intake.channel, CHANNELS))
    category = _given_category(config, intake.category)
    _check_levels(config, intake.impact, intake.urgency)
    priority = _chosen_priority(config, intake.priority, intake.impact, intake.urgency)
    ticket = Ticket(
        id=ticket_id,
        title=intake.title.strip(),  # (as typed: `東京　支店`'s ideographic space, runs of spaces)
        status="new",
        priority=priority or config.default_priority,
        team=config.intake,
        created=now,
        updated=now,
        category=category,
        customer=customer or None,  # (a blank one is none)
        channel=intake.channel,
        tags=tags,
        impact=intake.impact,
        urgency=intake.urgency,
    )
    front = front_matter(ticket)
    for name in OPTIONAL_FIELDS:  # (not written until they have a value)
        if front.get(name) is None:
            del front[name]
    clash = sorted(set(intake.extra) & set(front))
    if clash:
        raise BadInput(f"{clash[0]} is a field of its own, not an extra one")
    front.update(intake.extra)
    fields = dict(front, level=None)
    facts = facts_for(fields, intake.description, now)
    team, why = route(config, facts)
    front["team"] = team
    via = f" via {intake.channel}" if intake.channel else ""
    note = f"{front['priority']} priority{via}, routed to {team} ({why})"
    category = routed_category(config, facts) if front.get("category") is None else None
    if category is not None:  # (a category given with the ticket is kept)
        front["category"] = category
        note += f", category {category}"
    return front, [Activity(now, actor, event="created", note=note)]


NO_CATEGORY = "none"  # the category that means none (`list --category none` lists those)


def _given_category(config: Config, category: str | None) -> str | None:
    """The category a command was given, checked (None: none given, or `none`, in any case,
    which means no category, as `--assignee none` means no one): one of rules.yaml's
    `categories:`, or without that list a name, as teams.yaml's (without one, `--category
    ''`, a line break, an escape or `>=x` was written into the ticket, and `none` was a
    category no filter could name: audit helper-406)."""
    if category is None or category.strip().casefold() == NO_CATEGORY:
        return None
    if config.categories is not None:
        if category not in config.categories:
            raise BadInput(unknown_choice("category", category, config.categories))
        return category
    problem = name_problem(category)
    if problem is not None:
        raise BadInput(f"--category {category!r} {problem}: a category is a name")
    return category


def _check_levels(config: Config, impact: str | None, urgency: str | None) -> None:
    """Without a priority matrix (whose levels are the choices), an impact or urgency given
    is still a name (it is written into the ticket, and a filter or rule names it)."""
    if config.priority_matrix:
        return
    for option, value in (("--impact", impact), ("--urgency", urgency)):
        problem = None if value is None else name_problem(value)
        if problem is not None:
            raise BadInput(f"{option} {value!r} {problem}: an {option[2:]} is a name")


def _check_priority(config: Config, priority: str) -> None:
    if priority not in config.priorities:
        raise BadInput(unknown_choice("priority", priority, config.priorities))


def _chosen_priority(
    config: Config, priority: str | None, impact: str | None, urgency: str | None
) -> str | None:
    from_matrix = priority_from_matrix(config, impact, urgency)
    if priority is not None:
        _check_priority(config, priority)
        return priority
    return from_matrix


def _check_open(ticket: Ticket, doing: str) -> None:
    if ticket.status == "closed":
        raise Refused(f"{ticket.id} is closed; cannot {doing} (reopen it first)")


# ---------------------------------------------------------------- first level


def classify(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    actor: str,
    *,
    category: str | None = None,
    priority: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
) -> Change:
    """Set category/priority/impact/urgency; re-route while the ticket is at its first level
    (with the team it was routed to, never escalated)."""
    if category is None and priority is None and impact is None and urgency is None:
        raise BadInput("nothing to classify: give --category, --priority or --impact/--urgency")
    given = _given_category(config, category)  # (a value outside its choices: a usage
    _check_levels(config, impact, urgency)  # error first)
    chosen = _chosen_priority(config, priority, impact, urgency)
    _check_open(ticket, "classify it")
    b = _Builder(ticket, now, actor)
    if category is not None:  # (`none`: the category taken away)
        b.set("category", given)
    if impact is not None:
        b.set("impact", impact)
        b.set("urgency", urgency)
    if chosen is not None:
        b.set("priority", chosen)
    # (still with the team routing gave it, at whatever level that team is: a bug filed to
    # engineering that is a billing question goes to support; never once escalated; and
    # still worked on: a resolved ticket keeps the team that resolved it, as `escalate`
    # refuses to move one); only when the category changes: the same one said again (a
    # script's) moves nothing, though the routing rules now read the ticket otherwise
    if "category" in b.sets and not ticket.escalated_teams and ticket.active:
        fields = ticket_fields(ticket, config)
        fields.update(b.sets)
        team, why = route(config, facts_for(fields, ticket.description, now))
        if team != ticket.team:
            b.set("team", team, note=f"re-routed ({why})")
            b.set("assignee", None)
            _now_owned(b, team, f"the ticket was re-routed to {team}")
    return b.build()


def require_name(name: str, what: str) -> None:
    """BadInput unless ``name`` can name a person in a ticket file (``what``: the assignee,
    --by): not empty, one line, no control character, not starting with ``-``, nor with
    what a filter reads as a comparison (`assign T '=bob' --force` wrote an assignee no
    `--assignee` could ever select: audit helper-421)."""
    if not name.strip():
        raise BadInput(f"{what} is empty: name a person")
    problem = line_problem(name)
    if problem is not None:
        raise BadInput(f"{what} {name!r} is no name: {problem}")
    if name.strip().startswith("-"):  # (`--by --json`, `assign T -- -bob`: an option's look)
        raise BadInput(f"{what} {name!r} is no name: it starts with '-', as an option does")
    mark = name.strip()[:1]
    if mark in COMPARISON_MARKS:
        raise BadInput(
            f"{what} {name!r} is no name: it starts with {mark!r}, which a filter reads as a"
            " comparison"
        )


SWEEP_IDENTITY = "esc sweep"  # the git user.name `esc doctor` suggests for a cron clone


def actor_name(name: str, where: str) -> str:
    """``name`` as given for who acts (``where``: --by, ESC_USER), if it can be written as
    one: BadInput otherwise."""
    require_name(name, where)
    if " · " in name:
        why = "it has ' · ', which separates the parts of a log line"
        raise BadInput(f"{where} {name!r} is no name: {why}")
    sweep = " ".join(name.split()).casefold() in (SWEEPER, SWEEP_IDENTITY)  # (`esc sweep`:
    # the git identity doctor gives a cron clone, where a person's command took it for theirs)
    if name.strip().lower().startswith("rule:") or sweep:
        why = "it names esc's own sweep" if sweep else "it names a rule"
        raise BadInput(
            f"{where} {name!r} is no person's name: {why}, and what a person does under it "
            "would be counted and told as that"
        )
    # (trimmed, as the log line writes it: `--by " maya "` was `" maya "` in `requests:`
    # and `escalations:`, and no answer reached the maya who asked; `josé` with its accent
    # apart logged another person)
    return one_form(name.strip())


def customer_author(customer: str | None) -> str:
    """The author of what a customer says (a message, feedback): the ticket's customer as
    written, but a name no person may act under (`esc`, `rule:NAME`, `-x`: read back, the
    log said the sweep or a rule added it) within `customer (…)`; `customer` when there is
    none.  (`close --feedback` wrote the raw name: audit helper-446.)"""
    if not customer or not customer.strip():
        return "customer"
    try:
        return actor_name(customer, "customer")
    except BadInput:
        return f"customer ({customer})"


UNASSIGNED = "none"  # the assignee that takes a ticket's assignee away


def as_member(people: Sequence[str], person: str) -> str:
    """``person`` as teams.yaml spells the member of ``people`` whose name differs from it
    in case alone (`esc assign ID Alice` for `alice`, as `--team Support` is taken); else as
    given."""
    if person in people:
        return person
    same = [p for p in people if folded(p) == folded(person)]
    return same[0] if len(same) == 1 else person


def assign(
    ticket: Ticket, config: Config, now: dt.datetime, actor: str, person: str, force: bool = False
) -> Change:
    """Give the ticket to ``person`` (of its team, unless ``force``); ``none`` takes its
    assignee away (the ticket stays open: someone still has to take it)."""
    _check_open(ticket, "assign it")
    require_name(person, "the assignee")
    person = person.strip()  # (`'  bob'` was written so, and no filter named it)
    if person.casefold() == UNASSIGNED:  # (`esc assign ID none`, as `list --assignee none`)
        if ticket.assignee is None:
            raise Refused(f"{ticket.id} is not assigned to anyone")
        b = _Builder(ticket, now, actor)
        b.set("assignee", None)
        return b.build()
    team = config.teams.get(ticket.team)
    person = person if team is None else as_member(team.people, person)
    if team is None or person not in team.people:  # (forced onto another team's member:
        # as teams.yaml spells them too, `DAN` for `dan`; helper-446)
        everyone = tuple(dict.fromkeys(p for t in config.teams.values() for p in t.people))
        person = as_member(everyone, person)
    if not force and (team is None or person not in team.people):
        people = ", ".join(team.people) if team else "nobody"
        hint = did_you_mean(person, team.people) if team else ""
        raise Refused(
            f"{person} is not in team {ticket.team} ({people}){hint}; use --force to assign "
            "anyway"
        )
    b = _Builder(ticket, now, actor)
    b.set("assignee", person)
    if ticket.status == "new":
        b.set("status", "open")
    return b.build()


def comment(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    actor: str,
    text: str,
    kind: EntryKind = "reply",
) -> Change:
    """Add a public reply, an internal note, or a customer message."""
    if shows_nothing(text):
        raise BadInput("the comment is empty")
    if ticket.status == "closed" and kind != "note":
        raise Refused(f"{ticket.id} is closed; only internal notes can be added (or reopen it)")
    b = _Builder(ticket, now, actor)
    if kind == "message":
        b.entry("message", text, author=actor)
        _answered_by_customer(b, ticket)
    elif kind == "reply":
        b.entry("reply", text)
        if ticket.first_response_at is None:
            b.set("first_response_at", _first_reply(ticket, now))
        if ticket.status == "new":
            b.set("status", "open")
    else:
        b.entry("note", text)
        _mentions(b, config, text)
    return b.build()


ANSWERED = "customer replied"  # (the note of the status change a customer's message makes)


def _answered_by_customer(b: _Builder, ticket: Ticket) -> None:
    """What a customer's message does to the ticket's status: a pending one (waiting for
    them) or a resolved one opens again, `customer replied`; a closed one only in a merge
    (:func:`answered_after`), as `esc reopen` opens it (a message to a closed ticket is
    otherwise refused, and intake makes a new ticket of it)."""
    if ticket.status not in ("pending", "resolved", "closed"):
        return
    b.set("status", "open", note=ANSWERED)
    cleared = {"resolved": ("resolved_at",), "closed": ("resolved_at", "closed_at", "csat")}
    for name in cleared.get(ticket.status, ()):  # (a resolved ticket's csat, if it has one,
        b.set(name, None)  # stays: as before)
    if ticket.status != "pending" and ticket.kb is not None:  # (the article did not solve it,
        b.set("kb", None)  # as `esc reopen` says)


def answered_after(ticket: Ticket, at: dt.datetime, customer: str) -> Change:
    """What the customer's message at ``at`` does to ``ticket``, whose status a person set
    before it without having seen it (a merge joins the message intake took in one clone
    with alice's resolve, wait or close in another): its status ``customer replied``, as
    :func:`comment` makes it, logged at ``at``; nothing for an open or new ticket, and
    ``updated`` left as it is when it is later."""
    b = _Builder(replace(ticket, updated=min(ticket.updated, at)), at, customer)
    _answered_by_customer(b, ticket)
    change = b.build()
    if not change or ticket.updated < at:
        return change
    return replace(change, sets={k: v for k, v in change.sets.items() if k != "updated"})


def wait(ticket: Ticket, config: Config, now: dt.datetime, actor: str, reason: str) -> Change:
    """Put the ticket on hold, waiting for the customer."""
    if ticket.status not in ("new", "open"):
        raise Refused(f"{ticket.id} is {ticket.status}; only a new or open ticket can wait")
    _need(reason, "--reason")
    b = _Builder(ticket, now, actor)
    b.set("status", "pending", note=reason)
    return b.build()


def start(ticket: Ticket, now: dt.datetime, actor: str, reason: str = "") -> Change:
    """A new ticket opened, as a first assignment or reply opens it (a rule's ``status:
    open``)."""
    if ticket.status != "new":
        raise Refused(f"{ticket.id} is {ticket.status}, not new")
    b = _Builder(ticket, now, actor)
    b.set("status", "open", note=reason)
    return b.build()


def resume(ticket: Ticket, config: Config, now: dt.datetime, actor: str) -> Change:
    if ticket.status != "pending":
        raise Refused(f"{ticket.id} is {ticket.status}, not pending")
    b = _Builder(ticket, now, actor)
    b.set("status", "open")
    return b.build()


# ---------------------------------------------------------------- escalation


def escalate(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    actor: str,
    reason: str,
    *,
    to: str | None = None,
    up: bool = False,
    priority: str | None = None,
) -> Change:
    """A functional (--to), hierarchical (--up) or priority (--priority) escalation."""
    if sum((to is not None, up, priority is not None)) != 1:
        raise BadInput("give exactly one of --to TEAM, --up or --priority P")
    _need(reason, "--reason")
    if priority is not None:  # (a value outside its choices is a usage error first)
        _check_priority(config, priority)
    if to is not None and to not in config.teams:
        raise BadInput(unknown_choice("team", to, tuple(config.teams)))
    if ticket.status in ("resolved", "closed"):
        raise Refused(f"{ticket.id} is {ticket.status}; reopen it before escalating")
    b = _Builder(ticket, now, actor)
    if priority is not None:
        _escalate_priority(b, config, priority, reason)
    else:
        target = to if to is not None else _next_up(ticket, config)
        kind: EscalationKind = "functional" if to is not None else "hierarchical"
        _escalate_team(b, config, target, kind, reason)
    return b.build()


def _next_up(ticket: Ticket, config: Config) -> str:
    team = config.teams.get(ticket.team)
    if team is None:
        raise Refused(f"{ticket.id} belongs to unknown team {ticket.team!r}")
    if team.escalates_to is None:
        raise Refused(f"{ticket.team} is the top of the escalation chain; there is no --up")
    return team.escalates_to


def _escalate_team(
    b: _Builder, config: Config, target: str, kind: EscalationKind, reason: str
) -> None:
    ticket = b.ticket
    if target not in config.teams:
        raise BadInput(unknown_choice("team", target, tuple(config.teams)))
    if target == ticket.team:
        raise Refused(f"{ticket.id} is already with {target}")
    b.escalations.append(Escalation(b.now, kind, ticket.team, target, b.actor, reason))
    b.set("team", target, note=f"{kind} escalation: {reason}")
    b.set("assignee", None)
    if ticket.status == "new":
        b.set("status", "open")
    _now_owned(b, target, f"the ticket was escalated to {target}")


def _now_owned(b: _Builder, team: str, why: str) -> None:
    """``team`` now owns the ticket: its open request is answered (the team asked owns the
    question; no ticket holds an open request to its own team)."""
    for request in b.ticket.open_requests(b.now):
        if request.team == team:
            b.requests.append(replace(request, state="answered", closed=b.now, closed_by=b.actor))
            b.event(f"request answered by {team}", why)


def owner_answers(ticket: Ticket, actor: str, why: str) -> Change:
    """The open request of ``ticket`` to the team that owns it, answered as it was asked:
    a request a person asked of a team the ticket had already gone to, by a rule's
    escalation that a catch-up sweep replays before it (as a sweep then would have made
    it; the person, seeing the file as it was, asked the team that owned it by then).  No
    ticket holds an open request to its own team (see :func:`_now_owned`)."""
    requests, activity = [], []
    for request in ticket.open_requests():
        if request.team == ticket.team:
            at = request.asked
            requests.append(replace(request, state="answered", closed=at, closed_by=actor))
            activity.append(
                Activity(at, actor, event=f"request answered by {ticket.team}", note=why)
            )
    return Change(activity=tuple(activity), requests=tuple(requests))


def _escalate_priority(b: _Builder, config: Config, priority: str, reason: str) -> None:
    _check_priority(config, priority)
    current = b.ticket.priority
    if config.rank(priority) <= config.rank(current):
        raise Refused(f"{b.ticket.id} is already {current}; a priority escalation must go higher")
    b.escalations.append(Escalation(b.now, "priority", current, priority, b.actor, reason))
    b.set("priority", priority, note=f"priority escalation: {reason}")


# ---------------------------------------------------------------- other teams


def involve(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    actor: str,
    team: str,
    ask: str,
    person: str | None = None,
) -> Change:
    """Ask ``team`` (and ``person`` in it) for help: the owning team keeps the ticket, the
    request is open until the team answers or declines, and the ask is an internal note."""
    if team not in config.teams:
        raise BadInput(unknown_choice("team", team, tuple(config.teams)))
    people = config.teams[team].people
    if person is not None and not person.strip():  # (`esc:  is not in team sre`)
        raise BadInput("--person is empty: name a person of the team, or leave it out")
    # (`' clara '` trimmed, as `assign` trims: the error said " clara  is not in team…")
    person = None if person is None else as_member(people, person.strip())
    if person is not None and person not in people:
        hint = did_you_mean(person, people)
        raise BadInput(f"{person} is not in team {team} ({', '.join(people) or 'nobody'}){hint}")
    _need(ask, "--ask")
    if ticket.status in ("resolved", "closed"):
        raise Refused(f"{ticket.id} is {ticket.status}; reopen it before involving a team")
    if team == ticket.team:
        raise Refused(f"{ticket.id} belongs to {team}; involve another team")
    if any(r.team == team for r in ticket.open_requests()):
        raise Refused(f"{ticket.id} already has an open request to {team}")
    if any(r.key == (team, now) for r in ticket.requests):  # (a request is named by both)
        raise Refused(
            f"{ticket.id} asked {team} at {format_timestamp(now)} already; "
            "ask again a second later"
        )
    b = _Builder(ticket, now, actor)
    request = Request(asked=now, by=actor, team=team, person=person, state="open")
    b.requests.append(request)
    who = f" ({person})" if person else ""
    b.entries.append(Entry(now, actor, "note", f"Request to {team}{who}: {ask.strip()}"))
    b.event(f"involved {team}", person or "")
    _mentions(b, config, ask)
    return b.build()


def answer(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    actor: str,
    team: str,
    text: str,
    decline: bool = False,
) -> Change:
    """Close ``team``'s open request on the ticket, answered (or declined), with ``text`` as
    an internal note (every open one to the team: a merge of two clones may have left two)."""
    if team not in config.teams:
        raise BadInput(unknown_choice("team", team, tuple(config.teams)))
    _need(text, "--message")
    open_ = [r for r in ticket.open_requests() if r.team == team]
    if not open_:
        raise Refused(f"{ticket.id} has no open request to {team}")
    state: RequestState = "declined" if decline else "answered"
    b = _Builder(ticket, now, actor)
    b.requests.extend(replace(r, state=state, closed=now, closed_by=actor) for r in open_)
    heading = f"{team} declined" if decline else f"Answer from {team}"
    b.entries.append(Entry(now, actor, "note", f"{heading}: {text.strip()}"))
    b.event(f"request {state} by {team}")
    _mentions(b, config, text)
    return b.build()


# `@name` not inside a word or an e-mail address, the name as teams.yaml spells names.
def entry_added(kind: str) -> str:
    """The event an entry of ``kind`` logs beside it: `internal note added`, `reply added`."""
    return f"{'internal note' if kind == 'note' else kind} added"


def mentions(config: Config, text: str) -> tuple[str, ...]:
    """The teams and people of teams.yaml that ``text`` mentions as ``@name``, in order:
    any name teams.yaml accepts (`@josé`, `@o'neil`), in any case (`@Security`), the
    longest that fits (`@sre-oncall` before `@sre`); not inside an address
    (`bob@support.example`) or a longer word (`@support-desk` is not `@support`); not in
    code (:func:`_prose`)."""
    if "@" not in text:
        return ()
    import unicodedata  # (`@josé` with its accent apart names josé too)

    text = unicodedata.normalize("NFC", _without_comments(_prose(text)))
    names = [*config.teams, *(p for team in config.teams.values() for p in team.people)]
    pattern, canonical = _mention_pattern(tuple(dict.fromkeys(names)))
    if pattern is None:
        return ()
    found = (
        canonical.get(m[1], canonical.get(m[1].casefold(), m[1]))
        for m in pattern.finditer(text)
        if not _in_a_link(text, m.start())
    )
    return tuple(dict.fromkeys(found))


_WORD_REACH = 4096  # characters: the longest URL a mention is looked for in


def _in_a_link(text: str, at: int) -> bool:
    """Whether the ``@`` at ``at`` is in a URL (`https://x.example/@bob`, `www.…/@bob`):
    the word it is in starts as one does (`@bob/@ops` names two)."""
    # (looked for in the word's reach alone: searched back to the text's start for each
    # mention, a note of 200,000 mentions took 48 s; a word is shorter than that)
    reach = max(0, at - _WORD_REACH)
    start = max(reach, max(text.rfind(c, reach, at) for c in " \t\n(<[") + 1)
    word = text[start:at]
    return "://" in word or word.lower().startswith("www.")


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)  # (a run's start only:
# tried inside each run, 80 KB of backtick runs took 40 s)
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_LIST_ITEM = re.compile(r" {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_BREAK_OR_HEADING = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|(?:([-*_])[ \t]*)(?:\1[ \t]*){2,}$)")


def _without_comments(text: str) -> str:
    """``text`` without its HTML comments (`<!-- @dan: ask him later -->`), which Markdown
    shows nobody: a name in one pages no one.  (One pass: an opening with no closing after
    it ends the search, and stays, as Markdown then shows it.)"""
    if "<!--" not in text:
        return text
    kept: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        kept += [text[at:start], " "]
        at = end + 3
    return "".join(kept) + text[at:]


def _prose(text: str) -> str:
    """``text`` without its code, where no `@name` is a mention (as on GitHub): Markdown's
    fenced code blocks (an unclosed one to the end) and code spans, each within its
    paragraph.  A pasted command or log (`ssh @deploy`, `npm i @scope/x`) paged the
    people it happened to name.  (A line opening with ```` ``` ```` that has a backtick
    after it, ```` ```ssh @x``` ````, is a code span, as CommonMark reads it, not a fence
    swallowing the rest.)  And indented code blocks: lines indented four spaces or more
    after a blank line, a heading or a break, or at the start, outside a list (in a list
    item, an indented paragraph is the item's, and prose, until a paragraph at the
    margin); a line indented so right after a paragraph's line continues the paragraph."""
    kept: list[str] = []
    fence: str | None = None
    after_blank, in_code, in_list = True, False, False
    for line in text.split("\n"):
        found = _FENCE.fullmatch(line.rstrip("\r"))
        if fence is not None:  # (closed by a fence of its kind, at least as long, alone)
            closing = found is not None and not found.group(2).strip()
            if closing and found is not None and found.group(1).startswith(fence):
                fence = None
            continue
        if not line.strip():
            after_blank = True
            kept.append(line)
            continue
        indent = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())
        if indent >= 4 and (in_code or (after_blank and not in_list)):
            in_code, after_blank = True, False
            continue
        if found is not None and not (found.group(1)[0] == "`" and "`" in found.group(2)):
            fence = found.group(1)
            in_code = after_blank = False
            continue
        kept.append(line)
        starts_paragraph, in_code, after_blank = after_blank, False, False
        if _BREAK_OR_HEADING.match(line):  # (no paragraph: an indented block may follow)
            in_list, after_blank = False, True
        elif _LIST_ITEM.match(line):
            in_list = True
        elif indent == 0 and starts_paragraph:  # (a paragraph of its own, at the margin:
            in_list = False  # the list, if any, ended; indented, it is an item's)
    return "\n\n".join(_CODE_SPAN.sub(" ", part) for part in _PARAGRAPHS.split("\n".join(kept)))


@functools.lru_cache(maxsize=8)
def _mention_pattern(names: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One regex of every name (longest first), and each name as written by its match."""
    usable = [n for n in names if n.strip() and "\n" not in n]
    if not usable:
        return None, {}
    canonical = {n: n for n in usable}
    for n in usable:
        canonical.setdefault(n.casefold(), n)
    alternatives = "|".join(re.escape(n) for n in sorted(usable, key=len, reverse=True))
    pattern = re.compile(  # (not after a letter, digit, `.` or `@`: an address; after a
        # `_` that starts a word it may be emphasis, `_@bob_`, as before one)
        rf"(?<![^\W_]|[.@])(?<![^\W_]_)@({alternatives})(?![^\W_]|_[^\W_]|[-.][\w])",
        re.IGNORECASE,
    )
    return pattern, canonical


def _mentions(b: _Builder, config: Config, text: str) -> None:
    """Record who an internal note mentions: an activity line ``mentioned`` naming them."""
    named = mentions(config, text)
    if named:
        b.event("mentioned", " ".join(f"@{name}" for name in named))


# ---------------------------------------------------------------- the end


def resolve(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    actor: str,
    resolution: str,
    kb: str | None = None,
) -> Change:
    """Resolve, telling the customer how; ``kb``: the article that solved it (its ID, which
    the caller has checked exists)."""
    _need(resolution, "--resolution")  # (the value first, whatever the state: exit 2)
    if ticket.status in ("resolved", "closed"):
        raise Refused(f"{ticket.id} is already {ticket.status}")
    b = _Builder(ticket, now, actor)
    _resolve_into(b, resolution)
    if kb is not None:
        b.set("kb", kb)
    return b.build()


def _first_reply(ticket: Ticket, now: dt.datetime) -> dt.datetime:
    """When the ticket was first answered in public: ``now``, or the earliest public reply
    its conversation already holds (a file written by hand without `first_response_at`)."""
    earlier = [e.at for e in ticket.entries if e.public_agent_reply and e.at < now]
    return min(earlier, default=now)


def _resolve_into(b: _Builder, resolution: str) -> None:
    b.entry("resolution", resolution)
    if b.ticket.first_response_at is None:
        b.set("first_response_at", _first_reply(b.ticket, b.now))
    b.set("status", "resolved")
    b.set("resolved_at", b.now)


def close(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    actor: str,
    *,
    resolution: str | None = None,
    csat: int | None = None,
    feedback: str | None = None,
    kb: str | None = None,
) -> Change:
    """Close for good; ``kb``: the article that solved it (its ID, checked by the caller),
    as :func:`resolve` records it.  On a ticket closed already, the customer's evaluation
    alone (``csat``, ``feedback``: a survey answered after closing) is recorded."""
    if csat is not None and not 1 <= csat <= 5:
        raise BadInput("--csat must be from 1 to 5")
    for text, option in ((resolution, "--resolution"), (feedback, "--feedback")):
        if text is not None:  # (given empty: a slip, as `resolve --resolution ""` is)
            _need(text, option)
    if ticket.status == "closed":
        return _evaluated(ticket, now, actor, resolution, csat, feedback, kb)
    b = _Builder(ticket, now, actor)
    if ticket.status != "resolved":
        if not resolution or not resolution.strip():
            raise Refused(f"{ticket.id} is {ticket.status}, not resolved; give --resolution TEXT")
        _resolve_into(b, resolution)
    elif resolution and resolution.strip():
        b.entry("resolution", resolution)
    if feedback and feedback.strip():
        b.entry("feedback", feedback, author=customer_author(ticket.customer))
    if csat is not None:
        b.set("csat", csat)
    if kb is not None:
        b.set("kb", kb)
    b.set("status", "closed")
    b.set("closed_at", now)
    return b.build()


def _evaluated(
    ticket: Ticket,
    now: dt.datetime,
    actor: str,
    resolution: str | None,
    csat: int | None,
    feedback: str | None,
    kb: str | None,
) -> Change:
    """The customer's evaluation of a ticket closed already: its score and feedback."""
    evaluation = csat is not None or bool(feedback and feedback.strip())
    if not evaluation or resolution is not None or kb is not None:
        raise Refused(
            f"{ticket.id} is already closed"
            + ("; only --csat and --feedback are recorded on a closed ticket" if evaluation
               or resolution is not None or kb is not None else "")
        )  # fmt: skip
    b = _Builder(ticket, now, actor)
    given = [  # (of this closing: one given before a reopening is another survey's)
        e for e in ticket.entries
        if e.kind == "feedback" and (ticket.closed_at is None or e.at >= ticket.closed_at)
    ]  # fmt: skip
    # (the feedback the last one said already: a survey's webhook sent again, which added it
    # twice and said "recorded", as a score given again changes nothing: audit helper-421)
    again = bool(given) and given[-1].text.strip() == (feedback or "").strip()
    if feedback and feedback.strip() and not again:
        b.entry("feedback", feedback, author=customer_author(ticket.customer))
    if csat is not None and csat != ticket.csat:
        b.set("csat", csat)
    return b.build()


def reopen(ticket: Ticket, config: Config, now: dt.datetime, actor: str, reason: str) -> Change:
    _need(reason, "--reason")  # (the value first, whatever the ticket's state: exit 2)
    if ticket.status not in ("resolved", "closed"):
        raise Refused(f"{ticket.id} is {ticket.status}; only a resolved or closed ticket reopens")
    b = _Builder(ticket, now, actor)
    b.set("status", "open", note=reason)
    b.set("resolved_at", None)
    b.set("closed_at", None)
    b.set("csat", None)  # the rating was for the closed ticket; the log keeps it
    if ticket.kb is not None:  # the article did not solve it after all; the log keeps it
        b.set("kb", None)
    return b.build()


def add_tags(ticket: Ticket, now: dt.datetime, actor: str, tags: Sequence[str]) -> Change:
    # (` lead` is the tag `lead`, as a title is trimmed; a tab or a line break is refused
    # wherever it is, as the README says: `\tx` was stored as `x`)
    # (in one Unicode form: `café` typed NFC and NFD was two tags, a filter in one form
    # missed the other, and two clones' tags merged as both: audit helper-409)
    tags = [one_form(tag.strip(" ")) for tag in tags]
    _check_tags(tags)
    b = _Builder(ticket, now, actor)
    held = {one_form(tag) for tag in ticket.tags}
    for tag in dict.fromkeys(tags):
        if tag not in held:
            b.tags.append(tag)
            b.event("tagged", tag)
    return b.build()


def _check_tags(tags: Sequence[str]) -> None:
    for tag in tags:
        problem = new_tag_problem(tag)
        if problem is not None:
            raise BadInput(problem)


def _need(text: str | None, option: str) -> None:
    if shows_nothing(text):
        raise BadInput(f"{option} must not be empty")


# ---------------------------------------------------------------- combining changes



_ATTRIBUTES = TICKET_FIELDS - {"tags", "escalations", "requests"}


def applied(ticket: Ticket, change: Change) -> Ticket:
    """The ticket as it is after ``change`` (what the file will say once written)."""
    if not (change or change.activity):
        return ticket
    values: dict[str, object] = {k: v for k, v in change.sets.items() if k in _ATTRIBUTES}
    extra = dict(ticket.extra)
    extra.update({k: v for k, v in change.sets.items() if k not in _ATTRIBUTES})
    values.update(
        tags=ticket.tags + change.tags_added,
        escalations=ticket.escalations + change.escalations,
        requests=with_requests(ticket.requests, change.requests),
        entries=ticket.entries + change.entries,
        activity=extended(ticket.activity, change.activity),
        extra=extra,
    )
    return rebuilt(ticket, values)


def combined(first: Change, second: Change) -> Change:
    """One change doing ``first`` then ``second``."""
    return Change(
        sets={**first.sets, **second.sets},
        escalations=first.escalations + second.escalations,
        tags_added=first.tags_added + second.tags_added,
        entries=first.entries + second.entries,
        activity=first.activity + second.activity,
        # (a request made, then answered, in one change is the answered request, once)
        requests=with_requests(first.requests, second.requests),
    )
