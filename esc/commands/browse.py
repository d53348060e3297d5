"""The commands that read tickets: show, list, log and explain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from esc.commands.session import Output, Session
from esc.domain import query
from esc.domain.explain import explain_ticket
from esc.domain.model import ACTIVE_STATUSES, Ticket
from esc.domain.plan import sla_of
from esc.domain.sla import Sla
from esc.report import views
from esc.report.history import story, story_json, story_text
from esc.report.slas import sla_column_now, sla_now, sla_states_now
from esc.store import git
from esc.store.catalog import Catalog, Record
from esc.store.catalog import load as load_catalog


def show(session: Session, ref: str, as_json: bool) -> Output:
    """One ticket: facts, SLA clocks, escalations, description and conversation."""
    ticket = session.workspace.load(ref).ticket
    config, now = session.config, session.now
    sla = sla_of(ticket, config, now)
    from esc.commands import kb  # (list, log and explain need none of the knowledge base)
    from esc.report import kb as kb_views

    suggestions, notes = kb.suggestions_for_show(session, ticket, config)
    if as_json:
        data = views.ticket_json(ticket, config, full=True, sla=sla)
        if suggestions:
            data["suggestions"] = [kb_views.suggestion_json(s) for s in suggestions]
        return Output(data=data, notes=notes)
    section = kb_views.suggestion_lines(suggestions, session.colour)
    text = views.ticket_text(ticket, config, now, session.colour, sla, section)
    return Output(text=text + "\n", notes=notes)


def list_tickets(
    session: Session,
    statuses: tuple[str, ...],
    all_: bool,
    filters: dict[str, str | None],
    overdue: bool,
    sort: str | None,
    as_json: bool,
    involving: str | None = None,
) -> Output:
    """Tickets as a table (or JSON), filtered and sorted; ``filters`` maps team, priority,
    assignee, category, tags and level to what they must be (None: anything);
    ``involving``: only tickets with an open request to that team."""
    config, now = session.config, session.now
    catalog, records, broken = load_catalog(session.workspace)
    spec: dict[str, object] = {}
    if statuses or not all_:
        wanted_statuses = list(statuses or ACTIVE_STATUSES)
        records = [r for r in records if r.status in wanted_statuses]
        # (no status in ``spec``: the records are filtered already, and click checked
        # the names; a spec left empty matches without looking at any ticket)
    if overdue:  # judged by the numbers kept with each SLA: built for the overdue only
        records = [r for r in records if catalog.standing(r, now) in (None, "overdue")]
    by_id = {r.ticket.id: r for r in records}
    for key, value in filters.items():
        if value is None:
            continue
        if key == "level":
            spec[key] = query.level_value(value)
        elif key == "assignee":
            spec[key] = None if value == "none" else value
        else:
            spec[key] = value
    tickets = [r.ticket for r in records]
    if involving is not None:
        tickets = query.involving(tickets, config, involving)
    chosen = query.select(tickets, config, spec, sort, now)
    del records
    # (the table shows one clock's state and deadline; --overdue judges every clock)
    sla_at = sla_now if as_json else sla_states_now if overdue else sla_column_now
    slas: dict[str, Sla] | None = None
    if overdue or not as_json:
        slas = {t.id: sla_at(catalog, by_id[t.id], now) for t in chosen}
        catalog.save()
    if overdue:
        assert slas is not None
        chosen = [t for t in chosen if slas[t.id].overdue_clocks]
        if sort is None:
            chosen.sort(key=lambda t: -(slas[t.id].overdue or dt.timedelta()).total_seconds())
    output = Output(notes=[str(error) for error in broken], code=1 if broken else 0)
    if as_json:
        output.items = _json_items(catalog, chosen, by_id, slas, now)
    elif chosen:
        assert slas is not None
        output.text = views.ticket_table(
            chosen, config, now, session.width, session.colour, slas
        )
        output.text += "\n"
    else:
        output.notes.append("no tickets match")
    return output


def _json_items(
    catalog: Catalog,
    chosen: list[Ticket],
    by_id: dict[str, Record],
    slas: dict[str, Sla] | None,
    now: dt.datetime,
) -> Iterator[dict[str, Any]]:
    """Each ticket of ``list --json`` as it is written: its SLA computed (unless given in
    ``slas``) and its record let go one at a time, so memory stays flat."""
    for ticket in chosen:
        record = by_id.pop(ticket.id)
        sla = slas[ticket.id] if slas is not None else sla_now(catalog, record, now)
        yield views.ticket_json(ticket, catalog.config, sla=sla)
        record.release()
    catalog.save()


def log(session: Session, ref: str, as_json: bool) -> Output:
    """A ticket's story: its activity log and the git commits of its file, in time order."""
    workspace = session.workspace
    doc = workspace.load(ref)
    events = story(doc.ticket, git.file_history(workspace.root, workspace.root / doc.path))
    if as_json:
        return Output(data=story_json(events))
    return Output(text=story_text(events) + "\n")


def explain(session: Session, ref: str) -> Output:
    """Why a ticket's SLA clocks stand where they do, and which rules match it."""
    ticket = session.workspace.load(ref).ticket
    return Output(text=explain_ticket(ticket, session.config, session.now) + "\n")
