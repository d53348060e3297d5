"""What esc prints: tables and ticket views for people, stable JSON for scripts. Pure."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from esc.domain.config import Config
from esc.domain.durations import format_age, format_duration, format_relative
from esc.domain.model import COMPUTED_KEYS, Request, Ticket, front_matter
from esc.domain.sla import (
    Clock,
    Sla,
    next_index,
    request_clocks,
    status_timeline,
    stopped_verdict,
    stopped_with_ticket,
    unmet_collaboration,
)
from esc.domain.timestamps import format_timestamp, zone_of
from esc.report.terminal import columns, cut_to, padded, printable, printable_cells, style

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
    data = _fields_json(ticket, config, sla is not None)
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


def _fields_json(ticket: Ticket, config: Config, with_sla: bool) -> dict[str, Any]:
    """:func:`ticket_json`'s fields but the description, conversation and activity; with
    ``with_sla``, the stored ``sla`` and ``next_sla`` as None, in their places."""
    data: dict[str, Any] = {}
    for key, value in front_matter(ticket).items():
        data[key] = _iso_all(value)
        if key == "team":
            data["level"] = config.level(ticket.team)
        elif key == "requests":
            data[key] = [_request_fields(r) for r in ticket.requests]
        elif key == "escalations" and not ticket.requests:
            data["requests"] = []  # (the file has none until a team is involved; JSON always)
    for key in ticket.extra:
        if key in data or key in COMPUTED_KEYS:  # (its own value, or none: the same in
            continue  # every command; validate names the key)
        if with_sla and key in ("sla", "next_sla"):
            data[key] = None  # (replaced by the SLA computed now, in this place: the stored
            continue  # one is never converted)
        data[key] = _jsonable(ticket.extra[key])
    return data


# ``esc list --json`` writes each ticket as the text of what does not change (kept in the
# cache) with the fields its SLA fills in spliced in as it is written.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # (json.dumps(v, ensure_ascii=False))


def _c_encoder() -> Callable[[object], str]:
    """:data:`_ENCODE` for a value that holds no container twice: json's C encoder, made
    once (``JSONEncoder.encode`` makes one per call, which costs more than a small value's
    encoding); ``_ENCODE`` where Python has none."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return _ENCODE
    encoder = json.JSONEncoder(ensure_ascii=False)
    chunks = make(
        None,  # (no check for circular references: these values are plain trees)
        encoder.default,
        json.encoder.encode_basestring,
        None,
        encoder.key_separator,
        encoder.item_separator,
        False,
        False,
        True,
    )
    return lambda value: "".join(chunks(value, 0))


_ENCODE_TREE = _c_encoder()
_FILLED = ("sla", "next_sla", "requests")


@dataclass(frozen=True)
class Encoded:
    """One value of a JSON array, already written as JSON (json.dumps's separators)."""

    text: str


def ticket_json_parts(ticket: Ticket, config: Config) -> tuple[str, ...]:
    """:func:`ticket_json` of ``ticket`` with an SLA, as parts of its JSON text: each run
    of fields the SLA leaves alone as its text (``"key": value`` pairs, so it begins with
    a quote), and the name of each field it fills in (``sla``, ``next_sla``, ``requests``)
    in its place; :func:`ticket_json_text` puts them together."""
    data = _fields_json(ticket, config, True)
    data.setdefault("sla", None)  # (as ticket_json adds them: at the end, in this order)
    data.setdefault("next_sla", None)
    parts: list[str] = []
    run: list[str] = []
    for key, value in data.items():
        if key in _FILLED and (key != "requests" or ticket.requests):
            if run:
                parts.append(", ".join(run))
                run = []
            parts.append(key)
        else:
            run.append(f"{_ENCODE(key)}: {_ENCODE(value)}")
    if run:
        parts.append(", ".join(run))
    return tuple(parts)


def ticket_json_text(parts: Sequence[str], filled: Mapping[str, object]) -> Encoded:
    """The JSON text of :func:`ticket_json_parts`, each field to fill in from ``filled``:
    the very text ``json.dumps(ticket_json(...), ensure_ascii=False)`` gives."""
    return Encoded(
        "{"
        + ", ".join(p if p[0] == '"' else f'"{p}": {_ENCODE_TREE(filled[p])}' for p in parts)
        + "}"
    )


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
    rows = []
    for t in tickets:
        sla = slas.get(t.id)
        clock = next_clock(sla) if sla is not None else None
        rows.append(
            list_row(
                (t.id, t.priority, t.status, t.team, t.assignee, t.created.timestamp(), t.title),
                config,
                now,
                sla_cell(sla, t) if sla is not None else "-",
                None if clock is None else clock.state,
            )
        )
    return list_table(rows, width, colour)[:-1]


ListRow = tuple[list[str], "str | None"]  # the cells of LIST_COLUMNS; the SLA's state


def list_row(
    listing: tuple[str, str, str, str, str | None, float, str],  # (cache_codec.Listing)
    config: Config,
    now: dt.datetime,
    sla: str,
    state: str | None,
) -> ListRow:
    """A row of ``esc list``: the ticket's ``listing`` (ID, priority, status, team,
    assignee, created as a Unix time, title), its SLA cell and the state of the clock that
    cell shows (for its colour; None: not coloured)."""
    tid, priority, status, team, assignee, created, title = listing
    age = format_age(max(now - dt.datetime.fromtimestamp(created, _UTC), _ZERO))
    level = sys.intern(str(config.level(team) or "?"))  # (one string each: 100k rows)
    cells = [tid, priority, status, team, level, assignee or "-", age, sys.intern(sla), title]
    return cells, state


_UTC = dt.timezone.utc
_ZERO = dt.timedelta(0)


def list_table(rows: list[ListRow], width: int, colour: bool) -> str:
    """The table of ``esc list`` (:func:`ticket_table`) of its rows (:func:`list_row`),
    with a line break at the end; ``rows`` is emptied as the lines are made (100k rows
    and their lines need not be in memory at once).  It fits ``width`` columns: the title
    takes what is left, and a table too wide for a title of :data:`MIN_TITLE` is made
    narrower one step at a time (:func:`_narrowed`)."""
    shown = [printable_cells(cells) for cells, _ in rows]  # (as shown)
    states = [state for _, state in rows] if colour else []
    rows.clear()
    widths = [_column_width(h, [cells[i] for cells in shown]) for i, h in enumerate(LIST_COLUMNS)]
    kept, caps, gap = _narrowed(widths, width)
    headers = list(LIST_COLUMNS)
    sla_at: int | None = SLA_COLUMN
    if len(kept) < len(LIST_COLUMNS) - 1 or caps:  # (narrower: each row's cells cut)
        picked = [*kept, len(LIST_COLUMNS) - 1]
        cuts = [caps.get(i) for i in picked]
        headers = [headers[i] for i in picked]
        widths = [
            widths[i] if cap is None else min(widths[i], cap)
            for i, cap in zip(picked, cuts, strict=True)
        ]
        sla_at = picked.index(SLA_COLUMN) if SLA_COLUMN in picked else None
        shown = [
            [_cut(cells[i], cap) for i, cap in zip(picked, cuts, strict=True)] for cells in shown
        ]
    fixed = sum(widths[:-1]) + gap * (len(widths) - 1)
    widths[-1] = max(MIN_TITLE, min(widths[-1], width - fixed))
    space = " " * gap
    lines = [_row(headers, widths, None, colour, space, sla_at, header=True)]
    line = space.join(f"{{:<{w}}}" for w in widths[:-1]) + space + "{}"
    most = widths[-1]
    shown.reverse()  # (taken from the end: each row let go of once it is a line)
    while shown:
        cells = shown.pop()
        if colour:
            lines.append(_row(list(cells), widths, states[len(lines) - 1], colour, space, sla_at))
            continue
        text = line.format(*cells)
        if not text.isascii():  # (a wide character takes two columns: laid out by columns)
            lines.append(_row(list(cells), widths, None, False, space, None))
            continue
        if len(cells[-1]) > most:  # (ASCII: a character a column; `…` takes one)
            text = text[: len(text) - len(cells[-1]) + most - 1] + "…"
        text = text.rstrip()
        lines.append(text)
    lines.append("")
    return "\n".join(lines)


MIN_TITLE = 10  # the narrowest title column
# How a table too wide for its terminal is made narrower, one step at a time until it fits
# (a column by its index in LIST_COLUMNS): the level goes first (the team tells it), then
# team and assignee are cut to 8 characters, the age goes, one space is left between
# columns (two keep cells of several words apart as long as they can), the SLA is cut to
# 14, then the assignee, the team and the SLA go (36 columns then take every row).  The
# ID, priority, status and title always stay.
_NARROWER: tuple[tuple[Literal["drop", "gap", "cap"], int, int], ...] = (
    ("drop", 4, 0),
    ("cap", 3, 8),
    ("cap", 5, 8),
    ("drop", 6, 0),
    ("gap", 0, 1),
    ("cap", SLA_COLUMN, 14),
    ("drop", 5, 0),
    ("drop", 3, 0),
    ("drop", SLA_COLUMN, 0),  # (a terminal of 40 columns: `esc show` tells the clocks)
)


def _narrowed(widths: list[int], width: int) -> tuple[list[int], dict[int, int], int]:
    """The columns before the title a table ``width`` wide shows (indexes into
    LIST_COLUMNS), the widths some are cut to, and the spaces between columns: every
    column at its widest, two spaces apart, if the title gets :data:`MIN_TITLE` or more (or
    all it needs); else the first of the steps of :data:`_NARROWER` after which it does
    (or all of them)."""
    kept = list(range(len(LIST_COLUMNS) - 1))
    caps: dict[int, int] = {}
    gap = 2

    title = min(widths[-1], MIN_TITLE)

    def fits() -> bool:
        used = sum(min(widths[i], caps.get(i, widths[i])) for i in kept) + gap * len(kept)
        return used + title <= width

    for kind, column, size in _NARROWER:
        if fits():
            break
        if kind == "drop":
            kept.remove(column)
            caps.pop(column, None)
        elif kind == "gap":
            gap = size
        else:
            caps[column] = size
    return kept, {i: c for i, c in caps.items() if c < widths[i]}, gap


def _column_width(header: str, cells: list[str]) -> int:
    """The columns the widest of ``cells`` (or ``header``) takes on a terminal."""
    if "".join(cells).isascii():  # (most tables: their lengths, at C speed)
        return max(len(header), max(map(len, cells), default=0))
    return max(columns(header), max(map(columns, cells), default=0))


def _cut(cell: str, cap: int | None) -> str:
    return cell if cap is None else cut_to(cell, cap)


def _row(
    cells: list[str],
    widths: list[int],
    state: str | None,
    colour: bool,
    space: str,
    sla_at: int | None,
    header: bool = False,
) -> str:
    cells[-1] = cut_to(cells[-1], widths[-1])
    padded_cells = [padded(c, w) for c, w in zip(cells, widths, strict=False)]
    padded_cells[-1] = cells[-1]
    if header:
        return paint(space.join(padded_cells), "bold", colour)
    padded_cells[1] = paint(padded_cells[1], PRIORITY_COLOUR.get(cells[1]), colour)
    padded_cells[2] = paint(padded_cells[2], STATUS_COLOUR.get(cells[2]), colour)
    if state is not None and sla_at is not None:
        padded_cells[sla_at] = paint(padded_cells[sla_at], STATE_COLOUR.get(state), colour)
    return space.join(padded_cells).rstrip()


def ticket_text(
    ticket: Ticket,
    config: Config,
    now: dt.datetime,
    colour: bool,
    sla: Sla | None = None,
    sections: Sequence[str] = (),
    article: str | None = None,
) -> str:
    """A ticket for reading in a terminal: facts, escalations, conversation, activity;
    ``sections`` (lines, such as suggested articles) come after the SLA clocks;
    ``article``: what is said of the article in its ``kb:`` (its title)."""
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
        named = f"{ticket.kb} ({article})" if article else ticket.kb
        facts.append(("solved with", printable(named, one_line=True)))
    follows = ticket.extra.get("follows")  # (intake's: a reply to a closed ticket)
    if isinstance(follows, str) and follows:
        facts.append(("follows", f"{follows} (closed: this ticket took its reply up)"))
    external = ticket.extra.get("external_id")  # (JSON intake's: the form's or chat's id)
    if external is not None and external != "":
        facts.append(("external id", str(external)))
    lines = [head, ""] + [f"  {k:<15}{printable(v, one_line=True)}" for k, v in facts]
    if sla is not None:
        lines += sla_lines(sla, colour, ticket)
    lines += sections
    if ticket.escalations:
        lines += ["", paint("Escalations", "bold", colour)]
        for e in sorted(ticket.escalations, key=lambda e: e.at):  # (in time: a catch-up
            when = format_timestamp(e.at)  # sweep writes what it replays after later ones)
            came = "—" if e.from_ is None else e.from_  # (hand-written without `from`)
            said = f"  {when}  {e.kind:<12} {came} → {e.to}"
            said += f"  by {e.by}" if e.by else ""
            said += f": {e.reason}" if e.reason else ""
            lines.append(printable(said, one_line=True))  # (a reason's line break as \n)
    if ticket.requests:
        lines += ["", paint("Requests", "bold", colour)]
        lines += [f"  {line}" for line in request_lines(ticket, now, sla, colour)]
    if ticket.description:
        lines += ["", paint("Description", "bold", colour), "", _indent(ticket.description)]
    if ticket.entries:
        lines += ["", paint("Conversation", "bold", colour)]
        for entry in sorted(ticket.entries, key=lambda e: e.at):  # (in time, as escalations)
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
    steps = status_timeline(ticket, now)
    clocks = request_clocks(ticket, sla.policy if sla else None, now, steps)
    lines = []
    for request, clock in zip(ticket.requests, clocks, strict=True):
        who = f"{request.team} ({request.person})" if request.person else request.team
        line = f"{request.state:<9} {who}  asked {format_timestamp(request.asked)}"
        line += f" by {request.by}" if request.by else ""  # (as an escalation's: said if known)
        ended = stopped_with_ticket(request, steps, now)
        if ended is not None:
            # (left open when the ticket was resolved: never answered, its age no longer
            # growing, and its OLA, which stopped with the ticket, no "met" (it counts only
            # if its deadline passed first: breached); an answer since came too late)
            stopped = f"the ticket was {ended[1]} {format_timestamp(ended[0])}"
            if request.closed is not None and request.closed <= now:
                line += f"; {request.state} {format_timestamp(request.closed)}"
                line += f" by {request.closed_by}" if request.closed_by else ""
                line += f", too late: {stopped}"
            else:
                line += f"; never answered: {stopped}"
            if clock is not None and clock.state == "breached":
                phrase = clock_phrase(clock, now).replace("collaboration", "OLA", 1)
                line += f" · {paint(phrase, STATE_COLOUR.get(clock.state), colour)}"
            lines.append(line)
            continue
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


def _ended_at(ticket: Ticket) -> dt.datetime | None:
    """When the ticket was resolved or closed, if it is now (None: it is active)."""
    if ticket.active:
        return None
    return ticket.resolved_at or ticket.closed_at


def requests_json(ticket: Ticket, sla: Sla) -> list[dict[str, Any]]:
    """The ticket's requests as in its file, each with ``age`` (open ones, as of the SLA's
    ``now``) and ``ola``: its clock ``{due, state, stopped_with_ticket}``, or null without
    a target (``stopped_with_ticket``: the request was still open when the ticket was
    resolved or closed, so its clock stopped with the ticket's: never answered in time,
    whatever its state says)."""
    out = []
    steps = status_timeline(ticket, sla.now)
    clocks = request_clocks(ticket, sla.policy, sla.now, steps)
    for request, clock in zip(ticket.requests, clocks, strict=True):
        item = _request_fields(request)
        ended = _ended_at(ticket)
        opened = request.open_at(sla.now) and (ended is None or request.asked > ended)
        item["age"] = format_age(sla.now - request.asked) if opened else None
        item["ola"] = (
            None
            if clock is None
            else {
                "due": _iso(clock.due),
                "state": clock.state,
                "stopped_with_ticket": stopped_with_ticket(request, steps, sla.now) is not None,
            }
        )
        out.append(item)
    return out


def _request_fields(request: Request) -> dict[str, Any]:
    """A request's fields in JSON, every one of them (null where the file leaves it out)."""
    return {
        "asked": _iso(request.asked),
        "by": request.by,
        "team": request.team,
        "person": request.person,
        "state": request.state,
        "closed": _iso(request.closed),
        "closed_by": request.closed_by,
    }


def _ago(ticket: Ticket, now: dt.datetime) -> str:
    if ticket.created > now:
        return "after --now"
    return f"{age_text(ticket, now)} ago"


def _indent(text: str) -> str:
    """``text`` indented, cut at its line breaks alone: a vertical tab, a form feed, U+001C
    or U+0085 in a comment are no line breaks (``str.splitlines`` took them for ones, so
    `show` printed them as breaks, not as the escapes every control character is shown as)."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(("    " + line) if line else "" for line in lines)


# ---------------------------------------------------------------- SLA views


def sla_json(sla: Sla) -> dict[str, Any]:
    """The computed SLA: ``{policy, <metric>: {due, state, target, used}}``."""
    if sla.policy is None:
        return {}
    data: dict[str, Any] = {"policy": sla.policy.name}
    for clock in sla.clocks:
        data[clock.metric] = _clock_json(
            _iso(clock.due),
            clock.state,
            format_duration(clock.target, largest="h"),
            _hours(clock.used),
            _iso(clock.stop),
        )
    return data


def _clock_json(
    due: object, state: str, target: str, used: str, stopped: object
) -> dict[str, object]:
    return {"due": due, "state": state, "target": target, "used": used, "stopped": stopped}


def plain_sla_json(
    policy: str | None, clocks: Sequence[tuple[str, float, Any, Any, str, dt.timedelta]]
) -> dict[str, Any]:
    """:func:`sla_json` of an SLA as plain values (``esc.store.cache_codec.PlainSla``)."""
    if policy is None:
        return {}
    data: dict[str, Any] = {"policy": policy}
    for metric, target, due, stop, state, used in clocks:
        data[metric] = _clock_json(_stamp(due), state, _target(target), _hours(used), _stamp(stop))
    return data


def plain_next_sla_json(
    clocks: Sequence[tuple[str, float, Any, Any, str, dt.timedelta]], now: dt.datetime
) -> dict[str, Any] | None:
    """:func:`next_sla_json` of an SLA as plain values (:func:`plain_sla_json`) at ``now``."""
    running = [c for c in clocks if c[3] is None]
    if len(running) == 1:  # (next_index picks it, whatever its state)
        index: int | None = 0
    else:
        dues = [None if c[2] is None else c[2][0] for c in running]
        index = next_index([c[4] for c in running], dues)
    if index is None:
        return None
    metric, _, due, _, state, _ = running[index]
    at = None if due is None else dt.datetime.fromtimestamp(due[0], _UTC)
    text = clock_cell(state, at, now)
    return {"metric": metric, "due": _stamp(due), "state": state, "text": text}


# (Many tickets share their clocks' targets, many their due instants and times used.)


@functools.lru_cache(maxsize=4096)
def _stamp(value: tuple[float, int] | None) -> str | None:
    """:func:`_iso` of a plain timestamp (Unix time, UTC offset in seconds)."""
    if value is None:
        return None
    return format_timestamp(dt.datetime.fromtimestamp(value[0], zone_of(value[1])))


@functools.lru_cache(maxsize=256)
def _target(seconds: float) -> str:
    return format_duration(dt.timedelta(seconds=seconds), largest="h")


@functools.lru_cache(maxsize=4096)
def _hours(used: dt.timedelta) -> str:
    return format_duration(used, largest="h")


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


def sla_lines(sla: Sla, colour: bool, ticket: Ticket) -> list[str]:
    """``esc show``'s SLA section: a line per clock.  The ``collaboration`` clock of a
    request left open when the ticket was resolved or closed stopped with the ticket's
    clocks before its deadline, but was never met: it says so."""
    if sla.policy is None:
        return []
    lines = ["", paint(f"SLA ({sla.policy.name})", "bold", colour)]
    if not sla.clocks and ticket.created > sla.now:  # (a heading over nothing, it was)
        lines.append(f"  {paint('no clock started: created after --now', 'dim', colour)}")
    for clock in sla.clocks:
        phrase = clock_phrase(clock, sla.now)
        style = STATE_COLOUR.get(clock.state)
        unmet = unmet_collaboration(ticket, clock, sla.now)
        if unmet is not None:
            phrase = phrase.replace(" met ", f" {unmet}, stopped with the ticket ", 1)
            style = "dim"
        lines.append(f"  {paint(phrase, style, colour)}")
    return lines


STATE_COLOUR = {"breached": "red", "warning": "yellow", "met": "green", "paused": "dim"}


def next_clock(sla: Sla) -> Clock | None:
    """The running clock a person should look at first: the one most past its deadline,
    else the one due soonest, else a paused one; None if no clock is running."""
    return first_clock(sla.clocks)


def first_clock(clocks: Sequence[Clock]) -> Clock | None:
    """:func:`next_clock` of these ``clocks``."""
    running = [c for c in clocks if c.running]
    dues = [None if c.due is None else c.due.timestamp() for c in running]
    index = next_index([c.state for c in running], dues)
    return None if index is None else running[index]


def sla_cell(sla: Sla, ticket: Ticket) -> str:
    """The SLA column of ``esc list``: the next deadline and its state, compactly:
    "breached 2h ago", "warning, due in 40m", "due in 3h", "paused"; with no clock
    running, how they ended (``esc.domain.sla.stopped_verdict``: "met", "met late",
    "never answered"...) or "-" (no clocks)."""
    clock = next_clock(sla)
    if clock is None:
        return stopped_cell(stopped_verdict(sla, ticket))
    return clock_cell(clock.state, clock.due, sla.now)


def stopped_cell(verdict: str | None) -> str:
    """:func:`sla_cell` with no clock running: the verdict, "-" for none (no clocks)."""
    return "-" if verdict is None else verdict


def clock_cell(state: str, due: dt.datetime | None, now: dt.datetime) -> str:
    """:func:`sla_cell` of the running clock it shows: its state and due instant."""
    if state == "paused" or due is None:
        return state
    if state == "breached":
        return f"breached {format_relative(now - due)} ago"
    text = f"due in {format_relative(due - now)}"
    return f"warning, {text}" if state == "warning" else text


def next_sla_json(sla: Sla) -> dict[str, Any] | None:
    """``next_sla`` of a ticket's JSON: the clock the SLA column shows (None: none runs)."""
    clock = next_clock(sla)
    if clock is None:
        return None
    return {
        "metric": clock.metric,
        "due": _iso(clock.due),
        "state": clock.state,
        "text": clock_cell(clock.state, clock.due, sla.now),
    }


def clock_next_json(clock: Clock, now: dt.datetime) -> dict[str, Any]:
    """``next_sla`` of a ticket in a team's queue (``list --involving``): the OLA clock of
    the request to the team, as its SLA cell shows it."""
    return {
        "metric": clock.metric,
        "due": _iso(clock.due),
        "state": clock.state,
        "text": clock_cell(clock.state, clock.due, now),
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
        # (as the text says it: to the minute below a day, days and hours from a day on)
        "in": format_relative(clock.due - now) if clock.due else None,
    }


def upcoming_text(rows: Sequence[tuple[Ticket, Clock]], now: dt.datetime) -> str:
    lefts = [format_relative(clock.due - now) if clock.due else "?" for _, clock in rows]
    width = max((len(left) for left in lefts), default=0)
    lines = []
    for (ticket, clock), left in zip(rows, lefts, strict=True):
        # (in --now's zone, as `show` writes a deadline: not the calendar's, UTC say)
        due = format_timestamp(clock.due.astimezone(now.tzinfo)) if clock.due else "-"
        lines.append(
            f"{ticket.id}  in {left:<{width}} {clock.metric:<15} {due}  {ticket.team:<12} "
            f"{ticket.priority:<7} {printable(ticket.title, one_line=True)}"
        )
    return "\n".join(lines)
