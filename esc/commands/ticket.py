"""The commands that make and change one ticket: create, classify, assign, comment, wait,
resume, escalate, involve, answer, resolve, close, reopen, tag.

Each changes the ticket under its lock (:meth:`esc.store.workspace.Workspace.update`) and
reports it as one line, or as JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from esc.commands.session import Output, Session, whoami
from esc.domain import lifecycle
from esc.domain.config import Config
from esc.domain.errors import BadInput
from esc.domain.model import Change, Ticket

CommentKind = Literal["reply", "note", "message"]
COMMENT_LABELS: dict[CommentKind, str] = {
    "note": "internal note",
    "message": "customer message",
    "reply": "reply",
}


def create(
    session: Session,
    intake: lifecycle.Intake,
    actor: str | None,
    as_json: bool,
) -> Output:
    """Record a new ticket, classified and routed; its ID (or the ticket as JSON)."""
    config, now, who = session.config, session.now, whoami(actor)
    ticket = session.workspace.create(
        lambda ticket_id: lifecycle.create(intake, ticket_id, config, now, who),
        intake.description,
    )
    if session.notify:
        session.send_notifications(None, ticket, Change(activity=tuple(ticket.activity)))
    return session.ticket_output(ticket, as_json, ticket.id)


def classify(
    session: Session,
    ref: str,
    category: str | None,
    priority: str | None,
    impact: str | None,
    urgency: str | None,
    actor: str | None,
    as_json: bool,
) -> Output:
    who = whoami(actor)
    ticket = session.update(
        ref,
        lambda t, c, n: lifecycle.classify(
            t, c, n, who, category=category, priority=priority, impact=impact, urgency=urgency
        ),
    )
    line = f"{ticket.id}: {ticket.category or '-'}, {ticket.priority}, team {ticket.team}"
    return session.ticket_output(ticket, as_json, line)


def assign(
    session: Session, ref: str, person: str, force: bool, actor: str | None, as_json: bool
) -> Output:
    who = whoami(actor)
    ticket = session.update(ref, lambda t, c, n: lifecycle.assign(t, c, n, who, person, force))
    return session.ticket_output(ticket, as_json, f"{ticket.id}: assigned to {ticket.assignee}")


def comment(
    session: Session,
    ref: str,
    text: str,
    kind: CommentKind,
    author: str | None,
    as_json: bool,
) -> Output:
    """A reply, an internal note or a customer message (by the customer unless ``author``)."""
    me = None if author or kind == "message" else whoami(None)  # (not while the ticket is locked)

    def operation(t: Ticket, c: Config, n: dt.datetime) -> Change:
        who = author or me or t.customer or "customer"
        return lifecycle.comment(t, c, n, who, text, kind)

    ticket = session.update(ref, operation)
    return session.ticket_output(ticket, as_json, f"{ticket.id}: {COMMENT_LABELS[kind]} added")


def comment_kind(internal: bool, from_customer: bool) -> CommentKind:
    if internal and from_customer:
        raise BadInput("--internal and --from-customer exclude each other")
    return "note" if internal else "message" if from_customer else "reply"


def wait(session: Session, ref: str, reason: str, actor: str | None, as_json: bool) -> Output:
    who = whoami(actor)
    ticket = session.update(ref, lambda t, c, n: lifecycle.wait(t, c, n, who, reason))
    return session.ticket_output(ticket, as_json, f"{ticket.id}: pending")


def resume(session: Session, ref: str, actor: str | None, as_json: bool) -> Output:
    who = whoami(actor)
    ticket = session.update(ref, lambda t, c, n: lifecycle.resume(t, c, n, who))
    return session.ticket_output(ticket, as_json, f"{ticket.id}: open")


def escalate(
    session: Session,
    ref: str,
    to: str | None,
    up: bool,
    priority: str | None,
    reason: str,
    actor: str | None,
    as_json: bool,
) -> Output:
    who = whoami(actor)
    ticket = session.update(
        ref,
        lambda t, c, n: lifecycle.escalate(t, c, n, who, reason, to=to, up=up, priority=priority),
    )
    last = ticket.escalations[-1]
    line = f"{ticket.id}: {last.kind} escalation {last.from_} → {last.to}"
    return session.ticket_output(ticket, as_json, line)


def involve(
    session: Session,
    ref: str,
    team: str,
    person: str | None,
    ask: str,
    actor: str | None,
    as_json: bool,
) -> Output:
    """Ask another team for help; the owning team keeps the ticket."""
    who = whoami(actor)
    ticket = session.update(
        ref, lambda t, c, n: lifecycle.involve(t, c, n, who, team, ask, person=person)
    )
    line = f"{ticket.id}: asked {team}" + (f" ({person})" if person else "")
    return session.ticket_output(ticket, as_json, line)


def answer(
    session: Session,
    ref: str,
    team: str,
    text: str,
    decline: bool,
    actor: str | None,
    as_json: bool,
) -> Output:
    """Close a team's open request on a ticket: answered, or declined."""
    who = whoami(actor)
    ticket = session.update(
        ref, lambda t, c, n: lifecycle.answer(t, c, n, who, team, text, decline=decline)
    )
    state = "declined" if decline else "answered"
    return session.ticket_output(ticket, as_json, f"{ticket.id}: {team} {state}")


def resolve(
    session: Session, ref: str, resolution: str, actor: str | None, as_json: bool
) -> Output:
    who = whoami(actor)
    ticket = session.update(ref, lambda t, c, n: lifecycle.resolve(t, c, n, who, resolution))
    return session.ticket_output(ticket, as_json, f"{ticket.id}: resolved")


def close(
    session: Session,
    ref: str,
    csat: int | None,
    feedback: str | None,
    resolution: str | None,
    actor: str | None,
    as_json: bool,
) -> Output:
    who = whoami(actor)
    ticket = session.update(
        ref,
        lambda t, c, n: lifecycle.close(
            t, c, n, who, resolution=resolution, csat=csat, feedback=feedback
        ),
    )
    return session.ticket_output(ticket, as_json, f"{ticket.id}: closed")


def reopen(session: Session, ref: str, reason: str, actor: str | None, as_json: bool) -> Output:
    who = whoami(actor)
    ticket = session.update(ref, lambda t, c, n: lifecycle.reopen(t, c, n, who, reason))
    return session.ticket_output(ticket, as_json, f"{ticket.id}: open")


def tag(
    session: Session, ref: str, tags: tuple[str, ...], actor: str | None, as_json: bool
) -> Output:
    who = whoami(actor)
    ticket = session.update(ref, lambda t, c, n: lifecycle.add_tags(t, n, who, tags))
    return session.ticket_output(ticket, as_json, f"{ticket.id}: tags {', '.join(ticket.tags)}")
