"""Domain records: tickets, escalations, conversation entries, activity, and changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any, overload

from esc.domain.records import immutable
from esc.domain.timestamps import timestamp

STATUSES = ("new", "open", "pending", "resolved", "closed")
ACTIVE_STATUSES = ("new", "open", "pending")
CHANNELS = ("email", "chat", "portal", "phone", "api")
ESCALATION_KINDS = ("functional", "hierarchical", "priority")

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
    "escalations",
    "sla",
    "fired",
)
# Front-matter fields that are attributes of Ticket; every other key is kept in Ticket.extra.
TICKET_FIELDS = frozenset(FIELD_ORDER) - {"sla", "fired"}
TIMESTAMP_FIELDS = ("created", "updated", "first_response_at", "resolved_at", "closed_at")

# Conversation entry kinds and who writes them.
ENTRY_KINDS = {
    "message": "public",  # from the customer
    "reply": "public",  # an agent's public reply
    "note": "internal",  # an agent's internal note
    "resolution": "public",  # how it was solved, told to the customer
    "feedback": "public",  # the customer's feedback on closing
}
CUSTOMER_KINDS = ("message", "feedback")


@immutable
class Escalation:
    at: dt.datetime
    kind: str
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
class Entry:
    """One conversation entry: a customer message, a public reply or an internal note."""

    at: dt.datetime
    author: str
    kind: str
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


class ActivityLog(Sequence[Activity]):
    """An activity log as read from a file: its lines are parsed when first needed.

    Most readers of a ticket (a sweep of a closed one, a report) need none of the log or
    only the changes of one field; :meth:`of_field` parses just the lines that can be those.
    """

    __slots__ = ("_items", "_parse", "_text")

    def __init__(self, text: str, parse: Callable[[str], Activity | None]) -> None:
        self._text = text  # the log's lines; blank ones are skipped
        self._parse = parse
        self._items: tuple[Activity, ...] | None = None

    def _all(self) -> tuple[Activity, ...]:
        if self._items is None:
            lines = (line for line in self._text.split("\n") if line)
            self._items = tuple(a for a in map(self._parse, lines) if a is not None)
        return self._items

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

    def times_between(self, lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
        if self._items is not None:
            return [a.at for a in self._items if lo < a.at < hi]
        found = []
        for line in self._text.split("\n"):
            cut = line.find(" · ", 2)
            if line[:2] != "- " or cut < 0:
                continue  # not an activity line
            at = timestamp(line[2:cut])  # an activity line's time, if it is one
            if at is not None and lo < at < hi:
                item = self._parse(line)
                if item is not None:
                    found.append(item.at)
        return found

    def of_field(self, name: str) -> tuple[Activity, ...]:
        if self._items is not None:
            return tuple(a for a in self._items if a.field == name)
        marker = f" · {name}: "  # every line that is a change of ``name`` holds this
        lines = [line for line in self._text.split("\n") if marker in line]
        return tuple(a for a in map(self._parse, lines) if a is not None and a.field == name)


def times_between(log: Sequence[Activity], lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
    """When the log's activities in the open interval (lo, hi) happened, in log order."""
    if isinstance(log, ActivityLog):
        return log.times_between(lo, hi)
    return [a.at for a in log if lo < a.at < hi]


def field_changes(log: Sequence[Activity], name: str) -> tuple[Activity, ...]:
    """The changes of field ``name`` in an activity log, in order."""
    if isinstance(log, ActivityLog):
        return log.of_field(name)
    return tuple(a for a in log if a.field == name)


@immutable
class Ticket:
    id: str
    title: str
    status: str
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
    escalations: tuple[Escalation, ...] = ()
    description: str = ""
    entries: tuple[Entry, ...] = ()
    activity: Sequence[Activity] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True  # False: rebuilt from the cache without description and conversation

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def escalated_teams(self) -> bool:
        return any(e.kind != "priority" for e in self.escalations)


@immutable
class Change:
    """What one operation does to a ticket; the store turns it into text edits."""

    sets: Mapping[str, object] = field(default_factory=dict)
    escalations: tuple[Escalation, ...] = ()
    tags_added: tuple[str, ...] = ()
    entries: tuple[Entry, ...] = ()
    activity: tuple[Activity, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sets or self.escalations or self.tags_added or self.entries)
