"""Domain records: tickets, escalations, conversation entries, activity, and changes."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import field, fields
from typing import Any, Literal, get_args, overload

from esc.domain.errors import LONE_SURROGATE
from esc.domain.records import immutable

Status = Literal["new", "open", "pending", "resolved", "closed"]
Channel = Literal["email", "chat", "portal", "phone", "api"]
EscalationKind = Literal["functional", "hierarchical", "priority"]
ClockState = Literal["ok", "warning", "breached", "met", "paused"]  # of an SLA clock
# the SLA clocks; ``collaboration`` is the internal OLA of requests to other teams
Metric = Literal["first_response", "next_response", "resolution", "collaboration"]
RequestState = Literal["open", "answered", "declined"]  # of a request to another team
STATUSES: tuple[Status, ...] = get_args(Status)
ACTIVE_STATUSES: tuple[Status, ...] = ("new", "open", "pending")
# The fields a status change sets, and a reopen clears: they go with the status, in a merge
# and in a replay where a person's change overrides a rule's.
STATUS_SET_FIELDS = ("resolved_at", "closed_at", "csat")
SWEEPER = "esc"  # who acts in a ticket's log for the sweep (a rule's actions: ``rule:NAME``)
RULE_ACTOR = "rule:"  # ``rule:NAME``: who acts in a ticket's log for rule NAME


def by_esc(actor: str) -> bool:
    """Whether ``actor`` of a log line is the sweep or one of its rules (no person)."""
    return actor == SWEEPER or actor.startswith(RULE_ACTOR)
NOTIFIED = "notified"  # the log line of a rule's `notify:` (who was told): no update of the
# ticket, as `updated` is not (an `idle` rule's clock does not start again at it)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
ESCALATION_KINDS: tuple[EscalationKind, ...] = get_args(EscalationKind)
CLOCK_STATES: tuple[ClockState, ...] = get_args(ClockState)
METRICS: tuple[Metric, ...] = get_args(Metric)
# The clocks of the customer's SLA; the OLA (collaboration) is internal: rules see it only
# when they name it (``sla.collaboration``), never through ``sla:`` or ``overdue:``.
CUSTOMER_METRICS: tuple[Metric, ...] = ("first_response", "next_response", "resolution")
REQUEST_STATES: tuple[RequestState, ...] = get_args(RequestState)

# The front-matter fields, in the order esc writes them.
FIELD_ORDER = (
    "id",
    "title",
    "status",
    "priority",
    "category",
    "team",
    "assignee",
    "customer",
    "channel",
    "created",
    "updated",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "tags",
    "impact",
    "urgency",
    "csat",
    "kb",
    "escalations",
    "requests",
    "sla",
    "fired",
)
# The fields of a Ticket that are not in its front-matter (the body, and unknown keys).
BODY_PARTS = frozenset({"description", "entries", "activity", "extra", "complete"})
# Keys esc writes in the front-matter that are no attribute of a Ticket (kept in extra).
SWEEP_KEYS = frozenset({"sla", "fired"})
# Fields a new ticket's file leaves out while they have no value (written once set).
OPTIONAL_FIELDS = frozenset({"kb"})
# The names esc's JSON of a ticket (`show --json`, `list --json`) gives values of its own:
# a front-matter key of the same name is left out of it (validate says so)
COMPUTED_KEYS = frozenset({"level", "description", "conversation", "activity", "next_sla"})

# Conversation entry kinds and who writes them.
EntryKind = Literal["message", "reply", "note", "resolution", "feedback"]
ENTRY_KINDS: dict[EntryKind, str] = {
    "message": "public",  # from the customer
    "reply": "public",  # an agent's public reply
    "note": "internal",  # an agent's internal note
    "resolution": "public",  # how it was solved, told to the customer
    "feedback": "public",  # the customer's feedback on closing
}


@immutable
class Escalation:
    at: dt.datetime
    kind: EscalationKind
    from_: str | None
    to: str
    by: str
    reason: str

    def as_yaml(self) -> dict[str, object]:
        return {
            "at": self.at,
            "kind": self.kind,
            "from": self.from_,
            "to": self.to,
            "by": self.by,
            "reason": self.reason,
        }


@immutable
class Request:
    """A request to another team (``esc involve``): the owning team keeps the ticket, and
    ``team`` answers or declines; ``closed`` is when, ``closed_by`` who."""

    asked: dt.datetime
    by: str
    team: str
    person: str | None
    state: RequestState
    closed: dt.datetime | None = None
    closed_by: str | None = None

    @property
    def key(self) -> tuple[str, dt.datetime]:
        """What names a request in its ticket (also across a merge): its team and time."""
        return self.team, self.asked

    def open_at(self, now: dt.datetime) -> bool:
        """Whether the request was open at ``now`` (asked by then, not closed by then)."""
        return self.asked <= now and (self.closed is None or self.closed > now)

    def as_yaml(self) -> dict[str, object]:
        item: dict[str, object] = {"asked": self.asked, "by": self.by, "team": self.team}
        if self.person is not None:
            item["person"] = self.person
        item["state"] = self.state
        if self.closed is not None:
            item["closed"] = self.closed
            item["closed_by"] = self.closed_by
        return item


@immutable
class Entry:
    """One conversation entry: a customer message, a public reply or an internal note."""

    at: dt.datetime
    author: str
    kind: EntryKind
    text: str

    @property
    def visibility(self) -> str:
        return ENTRY_KINDS[self.kind]

    @property
    def public_agent_reply(self) -> bool:
        return self.kind in ("reply", "resolution")


@immutable
class Activity:
    """One line of the append-only activity log: a field change or an event."""

    at: dt.datetime
    by: str
    field: str | None = None  # set for a field change
    old: str | None = None
    new: str | None = None
    event: str | None = None  # set for an event such as "created" or "internal note"
    note: str = ""


class LazyActivity(Sequence[Activity], ABC):
    """An activity log whose lines are parsed when first needed (the file format's
    :class:`esc.ticketfile.body.ActivityText`), or a log already parsed
    (:class:`ActivityLog`).

    Most readers of a ticket (a sweep of a closed one, a report) need none of the log or
    only the changes of one field: these two ask for just that.  The changes of a field
    are found once (an SLA asks for the status changes several times).
    """

    __slots__ = ()

    _fields: dict[str, tuple[Activity, ...]] | None

    @abstractmethod
    def _all(self) -> tuple[Activity, ...]:
        """Every activity of the log, in log order."""

    def times_between(self, lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
        """When the activities in the open interval (lo, hi) happened, in log order."""
        return [a.at for a in self._all() if lo < a.at < hi]

    def of_field(self, name: str) -> tuple[Activity, ...]:
        """The changes of field ``name``, in order."""
        known = self._fields
        if known is None:
            known = self._fields = {}
        else:
            found = known.get(name)
            if found is not None:
                return found
        found = known[name] = self._changes_of(name)
        return found

    def _changes_of(self, name: str) -> tuple[Activity, ...]:
        return tuple(a for a in self._all() if a.field == name)

    @overload
    def __getitem__(self, index: int) -> Activity: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Activity, ...]: ...

    def __getitem__(self, index: int | slice) -> Activity | tuple[Activity, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[Activity]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self._all() == tuple(other)

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


class ActivityLog(LazyActivity):
    """An activity log of parsed lines (a ticket as it was at an earlier moment: the lines
    logged by then, :mod:`esc.domain.as_of`)."""

    __slots__ = ("_fields", "_items")

    def __init__(self, items: tuple[Activity, ...]) -> None:
        self._items = items
        self._fields = None

    def _all(self) -> tuple[Activity, ...]:
        return self._items


_KEPT_FROM = 64  # lines: a log this long keeps its changes of each field as it grows


def extended(log: Sequence[Activity], lines: Sequence[Activity]) -> Sequence[Activity]:
    """``log`` with ``lines`` after it; the changes of each field already found in ``log``
    carried on (a replay applies a rule's lines to the ticket at each of many moments, and
    asked for the status changes of each whole log again: quadratic in the moments)."""
    if not lines:
        return log
    if len(log) < _KEPT_FROM:  # (a short log, most tickets': a tuple, read in a look)
        return (*log, *lines)
    made = ActivityLog((*log, *lines))
    if type(log) is not tuple and isinstance(log, LazyActivity) and log._fields:
        made._fields = {
            name: found + tuple(a for a in lines if a.field == name)
            for name, found in log._fields.items()
        }
    return made


def times_between(log: Sequence[Activity], lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
    """When the log's activities in the open interval (lo, hi) happened, in log order."""
    if type(log) is not tuple and isinstance(log, LazyActivity):  # (ABCs are slow to ask)
        return log.times_between(lo, hi)
    return [a.at for a in log if lo < a.at < hi]


def by_person(actor: str) -> bool:
    """Whether ``actor`` of a log line is a person (not the sweep, not a rule)."""
    return actor != SWEEPER and not actor.startswith(RULE_ACTOR)


def event_moments(ticket: Ticket) -> list[dt.datetime]:
    """When each thing the ticket records happened: its creation and last update, its
    first response, resolution and closing, each escalation, entry, and request asked or
    closed (not its activity log's lines, nor its SLA clocks')."""
    moments = [ticket.created, ticket.updated]
    for moment in (ticket.first_response_at, ticket.resolved_at, ticket.closed_at):
        if moment is not None:
            moments.append(moment)
    moments += [e.at for e in ticket.escalations]
    moments += [e.at for e in ticket.entries]
    moments += [m for r in ticket.requests for m in (r.asked, r.closed) if m is not None]
    return moments


def field_changes(log: Sequence[Activity], name: str) -> tuple[Activity, ...]:
    """The changes of field ``name`` in an activity log, in order."""
    if type(log) is not tuple and isinstance(log, LazyActivity):  # (ABCs are slow to ask)
        return log.of_field(name)
    return tuple(a for a in log if a.field == name)


@immutable
class Ticket:
    id: str
    title: str
    status: Status
    priority: str
    team: str
    created: dt.datetime
    updated: dt.datetime
    category: str | None = None
    assignee: str | None = None
    customer: str | None = None
    channel: str | None = None
    first_response_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    tags: tuple[str, ...] = ()
    impact: str | None = None
    urgency: str | None = None
    csat: int | None = None
    kb: str | None = None  # the knowledge-base article that solved it (KB-0003)
    escalations: tuple[Escalation, ...] = ()
    requests: tuple[Request, ...] = ()
    description: str = ""
    entries: tuple[Entry, ...] = ()
    activity: Sequence[Activity] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True  # False: rebuilt from the cache without description and conversation

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def open_requests(self, now: dt.datetime | None = None) -> tuple[Request, ...]:
        """The requests to other teams still open (at ``now``, if given)."""
        if now is None:
            return tuple(r for r in self.requests if r.state == "open")
        return tuple(r for r in self.requests if r.open_at(now))

    def team_at(self, moment: dt.datetime) -> str:
        """The team that held the ticket just before ``moment``, by its moves from team to
        team (:meth:`team_moves`): a clock met or breached is the team's that held the
        ticket then, not the one an escalation (the one the breach made, at the same
        instant) or a re-routing moved it to later."""
        held: str | None = None
        for at, old, new in self.team_moves():
            if at < moment:
                held = new
            elif held is None:  # (moved only at or after the moment: it was with the first)
                return old or self.team
        return self.team if held is None else held

    def team_moves(self) -> tuple[tuple[dt.datetime, str | None, str], ...]:
        """Each move of the ticket from one team to another, in time order, as (when, from,
        to): its escalations to a team, and its re-routings by `classify` (a `team:` line
        of the activity log that no escalation made; a ticket rebuilt from the cache keeps
        those lines)."""
        lines = field_changes(self.activity, "team")
        escalations = [e for e in self.escalations if e.kind != "priority"]
        paired = escalation_lines(escalations, lines)
        moves = [(e.at, e.from_, e.to) for e in escalations]
        places: list[float] = []
        for n in paired:  # (one whose line a hand edit took out: just after the one before)
            places.append(n if n is not None else (places[-1] if places else -1) + 0.5)
        for n, line in enumerate(lines):
            if n not in paired and line.new:
                moves.append((line.at, line.old, line.new))
                places.append(n)
        if any(a[0] >= b[0] for a, b in itertools.pairwise(moves)):
            # (in time; moves of one instant in the order of their log lines: a person's
            # re-routing, then the escalation a rule made of the ticket it left; else the
            # file's order.  Each move has a line of its own: two alike in one second,
            # support → engineering by `classify` and again by `escalate --up` after a move
            # back, are two moves at two places)
            order = sorted(range(len(moves)), key=lambda i: (moves[i][0], places[i]))
            moves = [moves[i] for i in order]
        return tuple(moves)

    def reroutings(self) -> tuple[Activity, ...]:
        """The `team:` lines of the activity log that no escalation made
        (:func:`escalation_lines`): the ticket's re-routings by `classify`."""
        lines = field_changes(self.activity, "team")
        if not lines:
            return ()
        paired = escalation_lines([e for e in self.escalations if e.kind != "priority"], lines)
        return tuple(a for n, a in enumerate(lines) if n not in paired and a.new)

    def escalations_in_time(self) -> tuple[Escalation, ...]:
        """The escalations in time order: a sweep that replays a gap appends the rules'
        escalation of 13:00 after a person's of 14:00, made on the file meanwhile (their
        order in the file: the order they were written in)."""
        found = self.escalations
        if all(a.at <= b.at for a, b in itertools.pairwise(found)):
            return found
        return tuple(sorted(found, key=lambda e: e.at))

    @property
    def escalated_teams(self) -> bool:
        return any(e.kind != "priority" for e in self.escalations)


def rebuilt(ticket: Ticket, values: Mapping[str, object]) -> Ticket:
    """``dataclasses.replace(ticket, **values)`` for a fraction of its cost (a sweep rebuilds
    its ticket at every moment of a replay, and for every change it applies): a Ticket's
    ``__init__`` only stores its fields (no ``__post_init__``), so its fields with
    ``values`` in place are the record it makes.  ``values`` names fields of Ticket."""
    made = object.__new__(Ticket)
    fields_of = vars(made)
    fields_of.update(vars(ticket))
    fields_of.update(values)
    return made


# Front-matter fields that are attributes of Ticket (derived from the record); every other
# key is kept in Ticket.extra.
TICKET_FIELDS: frozenset[str] = frozenset(f.name for f in fields(Ticket)) - BODY_PARTS
assert set(FIELD_ORDER) == TICKET_FIELDS | SWEEP_KEYS, "FIELD_ORDER must list every field"


def front_matter(ticket: Ticket) -> dict[str, object]:
    """The ticket's front-matter fields in the order esc writes them (tags as a list,
    escalations and requests as mappings; no ``requests`` while there is none), without the
    sweep's ``sla`` and ``fired``."""
    values: dict[str, object] = {}
    for name in FIELD_ORDER:
        if name in TICKET_FIELDS:
            value = getattr(ticket, name)
            if name == "tags":
                value = list(value)
            elif name == "escalations":
                value = [e.as_yaml() for e in value]
            elif name == "requests":
                if not value:
                    continue  # (written only once a team is involved)
                value = [r.as_yaml() for r in value]
            values[name] = value
    return values


@immutable
class Change:
    """What one operation does to a ticket; the store turns it into text edits."""

    sets: Mapping[str, object] = field(default_factory=dict)
    escalations: tuple[Escalation, ...] = ()
    tags_added: tuple[str, ...] = ()
    entries: tuple[Entry, ...] = ()
    activity: tuple[Activity, ...] = ()
    # Requests to other teams made or closed: each replaces the ticket's request with the
    # same key (team, asked), or is added after the others.
    requests: tuple[Request, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.sets or self.escalations or self.tags_added or self.entries or self.requests
        )


def with_requests(current: Sequence[Request], made: Sequence[Request]) -> tuple[Request, ...]:
    """``current`` with each of ``made`` in place of the request with its key, or added in
    the order they were asked (after each asked at the same time or before it: a missed
    rule's request, replayed, goes before a person's asked later, as after hourly sweeps;
    it went after it, and the file's order depended on how often sweeps ran: audit
    helper-432)."""
    out = list(current)
    for request in made:
        at = next((n for n, r in enumerate(out) if r.key == request.key), None)
        if at is None:
            place = len(out)
            while place > 0 and out[place - 1].asked > request.asked:
                place -= 1
            out.insert(place, request)
        else:
            out[at] = request
    return tuple(out)


# What a value given to a filter or a condition may start with to compare rather than name
# (`=high`, `!=high`, `>=high`): a name or tag starting so could never be named
COMPARISON_MARKS = "=!<>"


def tag_problem(tag: str) -> str | None:
    """What is wrong with ``tag`` as a tag, or None: exports join a ticket's tags with
    commas, so a tag is one word without commas or line breaks."""
    if not tag.strip():
        return "a tag must not be empty"
    if "," in tag:
        return f"tag {tag!r} has a comma; a tag is a word (exports join tags with commas)"
    if not tag.isprintable():
        char = next(c for c in tag if not c.isprintable())
        named = _CHARACTER_NAMES.get(char, f"U+{ord(char):04X}, a character that does not print")
        return f"tag {tag!r} has {named}; a tag is a word of printable characters"

    return None


def name_problem(name: str) -> str | None:
    """What keeps ``name`` from naming a team, a person, a priority or a category, or None:
    it is written into tickets' front-matter and activity lines and given on the command
    line, so it is not blank and holds no line break, tab or control character."""
    if not name.strip():
        return "is blank"
    problem = line_problem(name)
    if problem is not None:
        return problem.replace("it has", "has", 1)
    if name != name.strip(" "):  # (`'bob '`: every command trims what it is given, and
        # never found them: "bob is not in team support (… bob …) (did you mean 'bob '?)";
        # audit helper-436)
        return "has a space at either end"
    if name.lstrip()[:1] in COMPARISON_MARKS:
        mark = name.lstrip()[0]
        return f"starts with {mark!r}, which a filter or condition reads as a comparison"
    if name.startswith("-"):  # (`esc assign T -x` is an option, and every command refuses
        # a name so given: one that could never be chosen)
        return "starts with '-', which a command line reads as an option"
    return None


def whole_number(text: str) -> int | None:
    """``text`` (spaces around it aside) as a whole number written in ASCII digits, else
    None: what a log line or a file holds may be anything (`str.isdigit` holds for `²`,
    which `int` refuses: a hand-edited `csat: ² → 4` stopped every sweep with exit 3;
    audit helper-418)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def one_form(text: str) -> str:
    """``text`` in one Unicode form (NFC), as esc compares and writes names: `café` typed
    with its accent as a letter of its own (NFD, as macOS input gives it) is `café`."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def new_tag_problem(tag: str) -> str | None:
    """:func:`tag_problem`, for a tag given anew (`esc tag`, `esc create --tag`, a rule's
    `tag:`): also one that starts as a comparison, which no filter could name (`--tag '=t'`
    is the tag `t`).  (A ticket or article already holding one is read as it is.)"""
    problem = tag_problem(tag)
    if problem is None and tag.lstrip()[:1] in COMPARISON_MARKS:
        mark = tag.lstrip()[0]
        return f"tag {tag!r} starts with {mark!r}, which a filter reads as a comparison"
    return problem




def texts_of(value: object) -> Iterator[str]:
    """The strings of ``value``: itself, or those in its lists and mappings, keys too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from texts_of(key)
            yield from texts_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts_of(item)


def holds_lone_surrogate(value: object) -> bool:
    """Whether a string of ``value`` (:func:`texts_of`) holds a lone surrogate: what a
    ``"\\ud800"`` escape in JSON or YAML, or bytes that are not UTF-8 read with
    ``surrogateescape``, make; no file, terminal or JSON can take it."""
    return any(LONE_SURROGATE.search(text) for text in texts_of(value))


# What shows as nothing: zero-width spaces and joiners, the word joiner, a byte-order mark,
# the soft hyphen, and the bidirectional marks.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def shows_nothing(text: str | None) -> bool:
    """Whether ``text`` shows nothing: empty, blank, or zero-width characters alone (a
    title, a reason or a message made of `\\u200b` is none)."""
    return text is None or not _INVISIBLE.sub("", text).strip()


def line_problem(text: str) -> str | None:
    """What keeps ``text`` from being one line of text (a title), or None: a control
    character, a line or paragraph separator, or a bidi embedding, override or isolate
    (U+202A-U+202E, U+2066-U+2069: `Refund \u202eFDP.exe` reads as `exe.PDF`; audit
    helper-481)."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS:
            kind = "bidi control" if char in _BIDI_CONTROLS else "control"
            name = _CHARACTER_NAMES.get(char, f"the {kind} character U+{ord(char):04X}")
            return f"it has {name}"
    return None


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def without_bidi_controls(text: str) -> str:
    """``text`` without the bidi embeddings, overrides and isolates :func:`line_problem`
    refuses: what intake takes from a mail's subject or sender, or a form's or chat's JSON
    (which wrap names in isolates), rather than turn the message away (review helper-482)."""
    if not any(char in _BIDI_CONTROLS for char in text):
        return text
    return "".join(char for char in text if char not in _BIDI_CONTROLS)


_CHARACTER_NAMES = {"\t": "a tab", "\n": "a line break", "\r": "a carriage return"}


def escalation_lines(
    escalations: Sequence[Escalation], lines: Sequence[Activity]
) -> list[int | None]:
    """For each of ``escalations`` (to a team), the place in ``lines`` of the `team:` line it
    logged, or None (a hand edit took it out): each takes a line of its own, of its time,
    old and new team (else of its time and new team: a line a hand edit changed), the first
    not taken after the line of the escalation before it (escalations are logged in their
    order).  A `team:` line none takes is a re-routing, also one by `classify` in the same
    second alike an escalation's line."""
    found: list[int | None] = [None] * len(escalations)
    taken: set[int] = set()
    for exact in (True, False):
        last = -1  # (the line the escalation before took)
        for i, e in enumerate(escalations):
            place = found[i]
            if place is not None:
                last = place
                continue
            fits = [n for n, a in enumerate(lines)
                    if n not in taken and a.field == "team" and a.new and a.at == e.at
                    and a.new == e.to and (not exact or a.old == e.from_)]  # fmt: skip
            if fits:
                n = next((n for n in fits if n > last), fits[0])
                found[i], last = n, n
                taken.add(n)
    return found
