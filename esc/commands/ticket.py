"""The commands that make and change one ticket: create, classify, assign, comment, wait,
resume, escalate, involve, answer, resolve, close, reopen, tag.

Each changes the ticket under its lock (:meth:`esc.store.workspace.Workspace.update`) and
reports it as one line, or as JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Literal

from esc.commands.session import Output, Session, whoami
from esc.domain import customer_mail, lifecycle, query
from esc.domain import mail as mails
from esc.domain.config import Config
from esc.domain.errors import BadInput, Refused
from esc.domain.model import Change, Ticket
from esc.store.atomic import holds

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
    intake = dataclasses.replace(
        intake,
        category=query.in_its_case(config, "category", intake.category),
        priority=query.in_its_case(config, "priority", intake.priority),
        impact=query.in_its_case(config, "impact", intake.impact),
        urgency=query.in_its_case(config, "urgency", intake.urgency),
    )
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
    category = query.in_its_case(session.config, "category", category)
    priority = query.in_its_case(session.config, "priority", priority)
    impact = query.in_its_case(session.config, "impact", impact)
    urgency = query.in_its_case(session.config, "urgency", urgency)
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
    said = f"assigned to {ticket.assignee}" if ticket.assignee else "unassigned"
    return session.ticket_output(ticket, as_json, f"{ticket.id}: {said}")


def comment(
    session: Session,
    ref: str,
    text: str,
    kind: CommentKind,
    author: str | None,
    as_json: bool,
    send: bool = False,
) -> Output:
    """A reply, an internal note or a customer message (by the customer unless ``author``).
    ``send``: the reply is also e-mailed to the customer (refused, changing nothing, when
    no mail to customers is configured or the customer has no address)."""
    if send and kind != "reply":
        raise BadInput("--send e-mails a public reply: not with --internal or --from-customer")
    settings = session.config.customer_mail if send else None
    if send and settings is None:
        raise Refused(
            "--send: rules.yaml sends no mail to customers (no customer_mail: section); "
            "nothing changed"
        )
    if author is not None:
        author = lifecycle.actor_name(author, "--by")
    me = None if author or kind == "message" else whoami(None)  # (not while the ticket is locked)
    outgoing: list[customer_mail.Outgoing] = []

    def operation(t: Ticket, c: Config, n: dt.datetime) -> Change:
        who = author or me or lifecycle.customer_author(t.customer)
        to = customer_mail.address_of(t.customer) if send else None
        if send and to is None:
            held = f"customer is {t.customer!r}" if t.customer else "ticket has no customer"
            raise Refused(
                f"{t.id}: --send: no e-mail address to send to (the {held}); nothing changed"
            )
        change = lifecycle.comment(t, c, n, who, text, kind)
        if to is not None:
            ids = mails.recorded_ids(t.extra)
            # (replies by the same author in the same second: each a message of its own,
            # whatever their words, as the file keeps them, read back)
            same = sum(e.kind == "reply" and e.at == n and e.author == who for e in t.entries)
            outgoing[:] = [customer_mail.reply(t.id, t.title, to, text, n, who, ids, same)]
        return change

    queued: list[str] = []
    writing: list[tuple[Path, bytes]] = []

    def before_write(path: Path, data: bytes) -> None:  # (queued first: never lost)
        if settings is not None and outgoing:
            session.queue_to_customer(outgoing[0], settings.target, queued)
            writing[:] = [(path, data)]

    try:
        ticket = session.update(ref, operation, before_write)
    except BaseException:  # (the reply not written: nor is its mail sent; raised as it was)
        if queued and not holds(*writing[0]):
            session.forget_queued(queued)
        raise
    line = f"{ticket.id}: {COMMENT_LABELS[kind]} added"
    if settings is None or not outgoing:
        return session.ticket_output(ticket, as_json, line)
    sent = session.send_to_customer(outgoing[0], settings.target)
    return session.ticket_output(ticket, as_json, line + sent.said(), {"mail": sent.json()})


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
    to = query.in_its_case(session.config, "team", to)
    priority = query.in_its_case(session.config, "priority", priority)
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
    team = query.in_its_case(session.config, "team", team)
    known = session.config.teams.get(team)
    if person is not None and known is not None:  # (as the line below names them)
        person = lifecycle.as_member(known.people, person.strip())
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
    team = query.in_its_case(session.config, "team", team)
    ticket = session.update(
        ref, lambda t, c, n: lifecycle.answer(t, c, n, who, team, text, decline=decline)
    )
    state = "declined" if decline else "answered"
    return session.ticket_output(ticket, as_json, f"{ticket.id}: {team} {state}")


def resolve(
    session: Session,
    ref: str,
    resolution: str,
    article: str | None,
    actor: str | None,
    as_json: bool,
) -> Output:
    """Resolve; ``article``: the knowledge-base article that solved it (must exist)."""
    who = whoami(actor)
    kb_id = None
    if article is not None:
        from esc.commands.kb import article_id_for_resolve

        kb_id = article_id_for_resolve(session, article)
    ticket = session.update(
        ref, lambda t, c, n: lifecycle.resolve(t, c, n, who, resolution, kb=kb_id)
    )
    line = f"{ticket.id}: resolved" + (f" with {kb_id}" if kb_id else "")
    return session.ticket_output(ticket, as_json, line)


def close(
    session: Session,
    ref: str,
    csat: int | None,
    feedback: str | None,
    resolution: str | None,
    article: str | None,
    actor: str | None,
    as_json: bool,
) -> Output:
    """Close; ``article``: the knowledge-base article that solved it (must exist)."""
    who = whoami(actor)
    kb_id = None
    if article is not None:
        from esc.commands.kb import article_id_for_resolve

        kb_id = article_id_for_resolve(session, article)
    closed_before: list[bool] = []
    made: list[Change] = []

    def change(t: Ticket, c: Config, n: dt.datetime) -> Change:
        closed_before.append(t.status == "closed")
        made.append(lifecycle.close(
            t, c, n, who, resolution=resolution, csat=csat, feedback=feedback, kb=kb_id
        ))  # fmt: skip
        return made[-1]

    ticket = session.update(ref, change)
    if closed_before and closed_before[-1]:  # (a survey answered after closing)
        said = ([f"CSAT {csat}"] if csat is not None else []) + (["feedback"] if feedback else [])
        wrote = made[-1]
        new = ([f"CSAT {csat}"] if "csat" in wrote.sets else []) + (
            ["feedback"] if wrote.entries else []
        )  # (what was written of it: a score or a feedback given again is not; review
        # helper-431)
        if not new:
            line = f"{' and '.join(said)} already recorded; nothing changed"
        elif new == said:
            line = f"{' and '.join(said)} recorded"
        else:
            kept = [s for s in said if s not in new]
            line = f"{' and '.join(new)} recorded ({' and '.join(kept)} already)"
        return session.ticket_output(ticket, as_json, f"{ticket.id}: {line}")
    return session.ticket_output(
        ticket, as_json, f"{ticket.id}: closed" + (f" with {kb_id}" if kb_id else "")
    )


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
