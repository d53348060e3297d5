"""Domain records: tickets, escalations, conversation entries, activity, and changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Activity:
    """One line of the append-only activity log: a field change or an event."""

    at: dt.datetime
    by: str
    field: str | None = None  # set for a field change
    old: str | None = None
    new: str | None = None
    event: str | None = None  # set for an event such as "created" or "internal note"
    note: str = ""


@dataclass(frozen=True)
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
    activity: tuple[Activity, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True  # False: rebuilt from the cache without description and conversation

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def escalated_teams(self) -> bool:
        return any(e.kind != "priority" for e in self.escalations)


@dataclass(frozen=True)
class Change:
    """What one operation does to a ticket; the store turns it into text edits."""

    sets: Mapping[str, object] = field(default_factory=dict)
    escalations: tuple[Escalation, ...] = ()
    tags_added: tuple[str, ...] = ()
    entries: tuple[Entry, ...] = ()
    activity: tuple[Activity, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sets or self.escalations or self.tags_added or self.entries)
