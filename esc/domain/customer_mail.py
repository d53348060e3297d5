"""Mail to customers: the `customer_mail:` settings of rules.yaml, the acknowledgement of a
new ticket from e-mail, and a public reply sent with `esc comment --send`.  Pure: makes
:class:`Outgoing` messages; they go out through the notifications' outbox and delivery
(:mod:`esc.store.outbox`), through a `notify:` target with a ``mailto://`` or
``mailtos://`` URL, addressed to the customer.

Every message to a customer carries the ticket ID in its subject as ``[T-xxxx]``, and its
``In-Reply-To``/``References`` name the customer's Message-IDs recorded on the ticket, so
the customer's answer threads (intake matches either).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Literal

from esc.domain.choices import did_you_mean
from esc.domain.records import immutable
from esc.domain.timestamps import format_timestamp

SECTION = "customer_mail"
CustomerMailKind = Literal["acknowledgement", "reply"]  # what a message to a customer is
KEYS = ("target", "acknowledge")
ACKNOWLEDGE_KEYS = ("subject", "body")
MAIL_SCHEMES = ("mailto", "mailtos")
# What a template may name: {id}, {title}, {customer} (as recorded), {name} (the display
# name, else the address), {address}, {subject} (the customer's subject).
PLACEHOLDERS = ("id", "title", "customer", "name", "address", "subject")
DEFAULT_SUBJECT = "[{id}] {title}"
DEFAULT_BODY = (
    "Hello {name},\n\n"
    "we have received your message and opened ticket {id} for it.\n"
    "We will answer as soon as we can. Please keep [{id}] in the subject\n"
    "when you write about it again.\n"
)
AUTO_REPLY_HEADERS: Mapping[str, str] = {
    "Auto-Submitted": "auto-replied",  # RFC 3834: autoresponders answer no auto-reply
    "X-Auto-Response-Suppress": "All",  # (Exchange's way of saying the same)
}
# On every mail esc sends a customer: a copy that comes back to intake (a `cc=`/`bcc=`
# archive address delivered to the helpdesk's mailbox) is esc's own, never a customer's
# message (it reopened the ticket it answered).
SENT_BY_ESC = "X-Esc-Ticket"
REFERENCES_KEPT = 10  # the customer's latest Message-IDs named in References
# A header line is at most 998 characters (RFC 5322), and a mailer that does not fold one
# (apprise's custom headers, a subject of one long word) sends it whole: a server refuses
# it ("500 line too long"), and the message was retried at every sweep, for ever.  So a
# subject's title and the References kept stay well inside that.
SUBJECT_TITLE_AT_MOST = 200  # characters of the ticket's title in a subject (then "…")
REFERENCES_AT_MOST = 900  # characters of References (the oldest ids left out first)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ADDRESS = re.compile(r"<\s*([^<>\s@]+@[^<>\s@]+)\s*>\s*$")
_BARE = re.compile(r"^[^<>\s@\"]+@[^<>\s@\"]+\.[^<>\s@\"]+$")


@immutable
class Acknowledge:
    subject: str = DEFAULT_SUBJECT  # a template ([ID] is put in front of one without [{id}])
    body: str = DEFAULT_BODY


@immutable
class CustomerMail:
    """The `customer_mail:` section: the notify target mail to customers goes through, and
    the acknowledgement of new tickets from e-mail (None: none is sent)."""

    target: str
    acknowledge: Acknowledge | None = None


@immutable
class Outgoing:
    """One message to a customer, ready for the outbox."""

    event: str  # its id: a hash of what it answers, so it is queued once
    ticket_id: str
    kind: CustomerMailKind
    to: str  # the customer's address
    subject: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


def template_problems(template: str) -> list[str]:
    """What is wrong with a template: each placeholder esc does not know."""
    return [
        f"unknown placeholder {{{name}}}{did_you_mean(name, PLACEHOLDERS)}; "
        f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        for name in _PLACEHOLDER.findall(template)
        if name not in PLACEHOLDERS
    ]


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each known ``{placeholder}`` replaced (other braces stay)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def address_of(customer: str | None) -> str | None:
    """The e-mail address a ticket's `customer` holds (``Jane <jane@x.example>`` or a bare
    address), lower-case; None when it holds none."""
    text = (customer or "").strip()
    found = _ADDRESS.search(text)
    if found:
        return found.group(1).lower()
    return text.lower() if _BARE.match(text) else None


def is_address(text: str) -> bool:
    """Whether ``text`` is one bare e-mail address (``jane@shop.example``), as mail to a
    customer is sent to: not a list, nor a name with an address."""
    return _BARE.match(text) is not None and not any(c in text for c in ",;:")


def display_name(customer: str) -> str:
    """The display name of ``Jane Doe <jane@x.example>`` (unquoted), else the address."""
    found = _ADDRESS.search(customer)
    name = customer[: found.start()].strip() if found else ""
    if len(name) >= 2 and name[0] == name[-1] == '"':  # (a quoted string: its `\"` and
        name = re.sub(r"\\(.)", r"\1", name[1:-1])  # `\\` are a quote and a backslash)
    name = name.strip('"').strip()
    return name or (address_of(customer) or customer)


def subject_with_id(subject: str, ticket_id: str) -> str:
    """``subject``, with ``[ID]`` added in front unless it carries it already."""
    if f"[{ticket_id}]".lower() in subject.lower():
        return subject
    return f"[{ticket_id}] {subject}".strip()


def threading_headers(message_ids: Sequence[str]) -> dict[str, str]:
    """In-Reply-To (the one recorded last) and References (the last few recorded, in the
    order recorded) for the ids of the messages on a ticket, whoever sent them."""
    kept = [m for m in message_ids if m.startswith("<") and m.endswith(">") and m.isascii()]
    kept = kept[-REFERENCES_KEPT:]  # (one in UTF-8 no header can carry as it is: an
    # encoded word there is no Message-ID, and threads nothing)
    kept = [m for m in kept if len(m) <= REFERENCES_AT_MOST]
    while len(" ".join(kept)) > REFERENCES_AT_MOST:
        kept = kept[1:]
    if not kept:
        return {}
    return {"In-Reply-To": kept[-1], "References": " ".join(kept)}


def subject_title(title: str) -> str:
    """A ticket's title as a subject carries it: at most SUBJECT_TITLE_AT_MOST characters
    (cut with "…")."""
    if len(title) <= SUBJECT_TITLE_AT_MOST:
        return title
    return title[: SUBJECT_TITLE_AT_MOST - 1].rstrip() + "…"


def outgoing_id(ticket_id: str, kind: CustomerMailKind, *parts: str) -> str:
    text = "\x1f".join([ticket_id, kind, *parts])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def acknowledgement(
    settings: CustomerMail,
    ticket_id: str,
    title: str,
    customer: str,
    subject: str,
    message_id: str,
) -> Outgoing | None:
    """The auto-reply to the message ``message_id`` that opened ``ticket_id``; None when
    no acknowledgement is configured or the customer has no address.  Its id depends on
    the ticket and the message only: made again, it is the same message."""
    ack = settings.acknowledge
    to = address_of(customer)
    if ack is None or to is None:
        return None
    values = {
        "id": ticket_id,
        "title": title,
        "customer": customer,
        "name": display_name(customer),
        "address": to,
        "subject": subject,
    }
    short = {k: subject_title(v) for k, v in values.items()}  # (any of them: `{name}` is
    # the sender's own display name, of any length; review helper-473)
    line = " ".join(render(ack.subject, short).split())
    return Outgoing(
        event=outgoing_id(ticket_id, "acknowledgement", message_id),
        ticket_id=ticket_id,
        kind="acknowledgement",
        to=to,
        subject=subject_with_id(line, ticket_id),
        body=render(ack.body, values),
        headers={**threading_headers([message_id]), **AUTO_REPLY_HEADERS, SENT_BY_ESC: ticket_id},
    )


def reply(
    ticket_id: str,
    title: str,
    to: str,
    text: str,
    at: dt.datetime,
    by: str,
    message_ids: Sequence[str],
    earlier: int = 0,
) -> Outgoing:
    """A public reply written at ``at`` by ``by``, to the customer's address ``to``;
    ``earlier``: how many replies of the same author and time the ticket holds already
    (each is a message of its own, never taken for a repeat of the first)."""
    parts = [format_timestamp(at), by, text] + ([f"#{earlier}"] if earlier else [])
    return Outgoing(
        event=outgoing_id(ticket_id, "reply", *parts),
        ticket_id=ticket_id,
        kind="reply",
        to=to,
        subject=f"Re: [{ticket_id}] {subject_title(title)}",
        body=text if text.endswith("\n") else text + "\n",
        headers={**threading_headers(message_ids), SENT_BY_ESC: ticket_id},
    )
