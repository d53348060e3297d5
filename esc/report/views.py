"""What esc prints: tables and ticket views for people, stable JSON for scripts. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from esc.domain.config import Config
from esc.domain.durations import format_age, format_duration, format_relative
from esc.domain.model import Ticket, front_matter
from esc.domain.sla import Clock, Sla, next_index, request_clocks
from esc.domain.timestamps import format_timestamp
from esc.report.terminal import printable, style

_COLOURS = {"red": "31", "yellow": "33", "green": "32", "blue": "34", "dim": "2", "bold": "1"}
PRIORITY_COLOUR = {"urgent": "red", "high": "yellow"}
STATUS_COLOUR = {"new": "blue", "pending": "dim", "resolved": "green", "closed": "dim"}


def paint(text: str, colour: str | None, enabled: bool) -> str:
    """``text`` in ``colour`` once printed (see :func:`esc.report.terminal.style`)."""
    if not enabled or colour is None:
        return text
    return f"{style(_COLOURS[colour])}{text}{style('0')}"


def _iso(value: object) -> object:
    return format_timestamp(value) if isinstance(value, dt.datetime) else value


def ticket_json(
    ticket: Ticket, config: Config, full: bool = False, sla: Sla | None = None
) -> dict[str, Any]:
    """The ticket as JSON: the front-matter names, plus computed ``level`` (and ``sla``)."""
    data: dict[str, Any] = {}
    for key, value in front_matter(ticket).items():
        data[key] = _iso_all(value)
        if key == "team":
            data["level"] = config.level(ticket.team)
    for key in ticket.extra:
        if key in data:
            continue
        if sla is not None and key in ("sla", "next_sla"):
            data[key] = None  # (replaced by the SLA computed now, in this place: the stored
            continue  # one is never converted)
        data[key] = _jsonable(ticket.extra[key])
    if sla is not None:
        data["sla"] = sla_json(sla)
        data["next_sla"] = next_sla_json(sla)
        if ticket.requests:
            data["requests"] = requests_json(ticket, sla)
    if full:
        data["description"] = ticket.description
        data["conversation"] = [
            {
                "at": _iso(e.at),
                "author": e.author,
                "kind": e.kind,
                "visibility": e.visibility,
                "text": e.text,
            }
            for e in ticket.entries
        ]
        data["activity"] = [
            {
                "at": _iso(a.at),
                "by": a.by,
                "field": a.field,
                "old": a.old,
                "new": a.new,
                "event": a.event,
                "note": a.note,
            }
            for a in ticket.activity
        ]
    return data


def _iso_all(value: object) -> object:
    """``value`` with every timestamp in it written as in the files."""
    if isinstance(value, list):
        return [_iso_all(v) for v in value]
    if isinstance(value, dict):
        return {k: _iso_all(v) for k, v in value.items()}
    return _iso(value)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


LIST_COLUMNS = ("ID", "PRI", "STATUS", "TEAM", "L", "ASSIGNEE", "AGE", "SLA", "TITLE")
SLA_COLUMN = LIST_COLUMNS.index("SLA")


def age_text(ticket: Ticket, now: dt.datetime) -> str:
    """How old the ticket is, one unit rounded down; "0m" for one created after ``now``."""
    return format_age(max(now - ticket.created, dt.timedelta(0)))


def ticket_table(
    tickets: Sequence[Ticket],
    config: Config,
    now: dt.datetime,
    width: int,
    colour: bool,
    slas: Mapping[str, Sla],
) -> str:
    """A table that fits ``width`` columns: the title takes what is left.  The SLA column
    is :func:`sla_cell` of each ticket's SLA in ``slas`` ("-" for one without)."""
    rows = [
        [
            t.id,
            t.priority,
            t.status,
            t.team,
            str(config.level(t.team) or "?"),
            t.assignee or "-",
            age_text(t, now),
            sla_cell(slas[t.id]) if t.id in slas else "-",
            t.title,
        ]
        for t in tickets
    ]
    rows = [[printable(cell, one_line=True) for cell in row] for row in rows]  # (as shown)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(LIST_COLUMNS)]
    fixed = sum(widths[:-1]) + 2 * (len(widths) - 1)
    widths[-1] = max(10, min(widths[-1], width - fixed))
    lines = [_row(list(LIST_COLUMNS), widths, None, colour, header=True)]
    for ticket, row in zip(tickets, rows, strict=False):
        lines.append(_row(row, widths, ticket, colour, sla=slas.get(ticket.id)))
    return "\n".join(lines)


def _row(
    cells: list[str],
    widths: list[int],
    ticket: Ticket | None,
    colour: bool,
    header: bool = False,
    sla: Sla | None = None,
) -> str:
    title = cells[-1]
    if len(title) > widths[-1]:
        cells[-1] = title[: widths[-1] - 1] + "…"
    padded = [c.ljust(w) for c, w in zip(cells, widths, strict=False)]
    padded[-1] = cells[-1]
    if header:
        return paint("  ".join(padded), "bold", colour)
    if ticket is not None:
        padded[1] = paint(padded[1], PRIORITY_COLOUR.get(ticket.priority), colour)
        padded[2] = paint(padded[2], STATUS_COLOUR.get(ticket.status), colour)
        clock = next_clock(sla) if sla is not None and colour else None  # (for its colour)
        if clock is not None:
            padded[SLA_COLUMN] = paint(padded[SLA_COLUMN], STATE_COLOUR.get(clock.state), colour)
    return "  ".join(padded).rstrip()


def ticket_text(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    colour: bool,
    sla: Sla | None = None,
    sections: Sequence[str] = (),
) -> str:
    """A ticket for reading in a terminal: facts, escalations, conversation, activity;
    ``sections`` (lines, such as suggested articles) come after the SLA clocks."""
    level = config.level(ticket.team)
    team = config.teams.get(ticket.team)
    head = paint(printable(f"{ticket.id}  {ticket.title}", one_line=True), "bold", colour)
    facts = [
        ("status", paint(ticket.status, STATUS_COLOUR.get(ticket.status), colour)),
        ("priority", paint(ticket.priority, PRIORITY_COLOUR.get(ticket.priority), colour)),
        ("team", f"{team.name if team else ticket.team} ({ticket.team}, level {level or '?'})"),
        ("assignee", ticket.assignee or "-"),
        ("category", ticket.category or "-"),
        ("customer", f"{ticket.customer or '-'} via {ticket.channel or '-'}"),
        ("created", f"{format_timestamp(ticket.created)} ({_ago(ticket, now)})"),
        ("updated", format_timestamp(ticket.updated)),
    ]
    if ticket.impact or ticket.urgency:
        facts.append(("impact", f"{ticket.impact or '-'}, urgency {ticket.urgency or '-'}"))
    for name in ("first_response_at", "resolved_at", "closed_at"):
        value = getattr(ticket, name)
        if value is not None:
            facts.append((name.replace("_at", "").replace("_", " "), format_timestamp(value)))
    if ticket.tags:
        facts.append(("tags", ", ".join(ticket.tags)))
    if ticket.csat is not None:
        facts.append(("csat", f"{ticket.csat}/5"))
    if ticket.kb is not None:
        facts.append(("solved with", ticket.kb))
    lines = [head, ""] + [f"  {k:<15}{printable(v, one_line=True)}" for k, v in facts]
    if sla is not None:
        lines += sla_lines(sla, colour)
    lines += sections
    if ticket.escalations:
        lines += ["", paint("Escalations", "bold", colour)]
        for e in ticket.escalations:
            when = format_timestamp(e.at)
            lines.append(f"  {when}  {e.kind:<12} {e.from_} → {e.to}  by {e.by}: {e.reason}")
    if ticket.requests:
        lines += ["", paint("Requests", "bold", colour)]
        lines += [f"  {line}" for line in request_lines(ticket, now, sla, colour)]
    if ticket.description:
        lines += ["", paint("Description", "bold", colour), "", _indent(ticket.description)]
    if ticket.entries:
        lines += ["", paint("Conversation", "bold", colour)]
        for entry in ticket.entries:
            tag = "internal note" if entry.kind == "note" else entry.kind
            style = "yellow" if entry.kind == "note" else "dim"
            lines += [
                "",
                paint(f"  {format_timestamp(entry.at)}  {entry.author} · {tag}", style, colour),
            ]
            lines.append(_indent(entry.text))
    return "\n".join(lines)


def request_lines(ticket: Ticket, now: dt.datetime, sla: Sla | None, colour: bool) -> list[str]:
    """One line per request to another team: state, team (person), who asked when, its
    age (open ones) and its OLA clock (when the policy sets a ``collaboration`` target)."""
    clocks = request_clocks(ticket, sla.policy if sla else None, now)
    lines = []
    for request, clock in zip(ticket.requests, clocks, strict=True):
        who = f"{request.team} ({request.person})" if request.person else request.team
        line = f"{request.state:<9} {who}  asked {format_timestamp(request.asked)} by {request.by}"
        if request.open_at(now):
            line += f", {format_age(now - request.asked)} ago"
        elif request.closed is not None:
            line += f"; {request.state} {format_timestamp(request.closed)}"
            line += f" by {request.closed_by}" if request.closed_by else ""
        if clock is not None:
            phrase = clock_phrase(clock, now).replace("collaboration", "OLA", 1)
            line += f" · {paint(phrase, STATE_COLOUR.get(clock.state), colour)}"
        lines.append(line)
    return lines


def requests_json(ticket: Ticket, sla: Sla) -> list[dict[str, Any]]:
    """The ticket's requests as in its file, each with ``age`` (open ones, as of the SLA's
    ``now``) and ``ola``: its clock ``{due, state}``, or null without a target."""
    out = []
    clocks = request_clocks(ticket, sla.policy, sla.now)
    for request, clock in zip(ticket.requests, clocks, strict=True):
        item: dict[str, Any] = {k: _iso(v) for k, v in request.as_yaml().items()}
        item.setdefault("closed", None)
        item.setdefault("closed_by", None)
        opened = request.open_at(sla.now)
        item["age"] = format_age(sla.now - request.asked) if opened else None
        item["ola"] = None if clock is None else {"due": _iso(clock.due), "state": clock.state}
        out.append(item)
    return out


def _ago(ticket: Ticket, now: dt.datetime) -> str:
    if ticket.created > now:
        return "after --now"
    return f"{age_text(ticket, now)} ago"


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines())


# ---------------------------------------------------------------- SLA views


def sla_json(sla: Sla) -> dict[str, Any]:
    """The computed SLA: ``{policy, <metric>: {due, state, target, used}}``."""
    if sla.policy is None:
        return {}
    data: dict[str, Any] = {"policy": sla.policy.name}
    for clock in sla.clocks:
        data[clock.metric] = {
            "due": _iso(clock.due),
            "state": clock.state,
            "target": format_duration(clock.target, largest="h"),
            "used": format_duration(clock.used, largest="h"),
            "stopped": _iso(clock.stop),
        }
    return data


def clock_phrase(clock: Clock, now: dt.datetime) -> str:
    """E.g. 'resolution breached 3h ago (due 2026-11-20T17:00:00+01:00)'."""
    if clock.state == "paused":
        return f"{clock.metric} paused ({format_duration(clock.left, largest='h')} left)"
    if clock.due is None:
        return f"{clock.metric} {clock.state}"
    due = format_timestamp(clock.due.astimezone(now.tzinfo))
    if clock.stop is not None:
        return f"{clock.metric} {clock.state} (due {due})"
    if clock.state == "breached":
        return f"{clock.metric} breached {format_relative(now - clock.due)} ago (due {due})"
    return f"{clock.metric} {clock.state}, due in {format_relative(clock.due - now)} ({due})"


def sla_lines(sla: Sla, colour: bool) -> list[str]:
    if sla.policy is None:
        return []
    lines = ["", paint(f"SLA ({sla.policy.name})", "bold", colour)]
    for clock in sla.clocks:
        style = STATE_COLOUR.get(clock.state)
        lines.append(f"  {paint(clock_phrase(clock, sla.now), style, colour)}")
    return lines


STATE_COLOUR = {"breached": "red", "warning": "yellow", "met": "green", "paused": "dim"}


def next_clock(sla: Sla) -> Clock | None:
    """The running clock a person should look at first: the one most past its deadline,
    else the one due soonest, else a paused one; None if no clock is running."""
    running = [c for c in sla.clocks if c.running]
    dues = [None if c.due is None else c.due.timestamp() for c in running]
    index = next_index([c.state for c in running], dues)
    return None if index is None else running[index]


def sla_cell(sla: Sla) -> str:
    """The SLA column of ``esc list``: the next deadline and its state, compactly:
    "breached 2h ago", "warning, due in 40m", "due in 3h", "paused"; with no clock
    running, "met" (every clock met its target), "met late" (one stopped past its
    deadline) or "-" (no clocks)."""
    clock = next_clock(sla)
    if clock is None:
        if not sla.clocks:
            return "-"
        return "met" if all(c.state == "met" for c in sla.clocks) else "met late"
    if clock.state == "paused" or clock.due is None:
        return clock.state
    if clock.state == "breached":
        return f"breached {format_relative(sla.now - clock.due)} ago"
    due = f"due in {format_relative(clock.due - sla.now)}"
    return f"warning, {due}" if clock.state == "warning" else due


def next_sla_json(sla: Sla) -> dict[str, Any] | None:
    """``next_sla`` of a ticket's JSON: the clock the SLA column shows (None: none runs)."""
    clock = next_clock(sla)
    if clock is None:
        return None
    return {
        "metric": clock.metric,
        "due": _iso(clock.due),
        "state": clock.state,
        "text": sla_cell(sla),
    }


def upcoming_json(ticket: Ticket, clock: Clock, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "title": ticket.title,
        "team": ticket.team,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "metric": clock.metric,
        "due": _iso(clock.due),
        "state": clock.state,
        "in": format_duration(clock.due - now) if clock.due else None,
    }


def upcoming_text(rows: Sequence[tuple[Ticket, Clock]], now: dt.datetime) -> str:
    lefts = [format_relative(clock.due - now) if clock.due else "?" for _, clock in rows]
    width = max((len(left) for left in lefts), default=0)
    lines = []
    for (ticket, clock), left in zip(rows, lefts, strict=True):
        due = format_timestamp(clock.due) if clock.due else "-"
        lines.append(
            f"{ticket.id}  in {left:<{width}} {clock.metric:<15} {due}  {ticket.team:<12} "
            f"{ticket.priority:<7} {ticket.title}"
        )
    return "\n".join(lines)
