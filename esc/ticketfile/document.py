"""The ticket file format: front-matter, description, conversation and activity log.

Pure text in, records out (and back): no file access here.

    ---
    id: T-4k8q2m7x
    ...front-matter, one fact per line...
    ---

    The description, in Markdown.

    ## Conversation

    ### 2026-11-20T09:14:00+01:00 · alice · reply (public)

    The text of the entry.

    ## Activity

    - 2026-11-20T09:14:00+01:00 · alice · status: new → open
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from esc.domain.choices import as_text, did_you_mean, shown, unknown_choice
from esc.domain.errors import LONE_SURROGATE_PROBLEM, ParseError, TooLargeToRead
from esc.domain.model import (
    CLOCK_STATES,
    ESCALATION_KINDS,
    FIELD_ORDER,
    METRICS,
    REQUEST_STATES,
    TICKET_FIELDS,
    Activity,
    Change,
    Escalation,
    Request,
    Status,
    Ticket,
    holds_lone_surrogate,
    tag_problem,
    with_requests,
)
from esc.domain.timestamps import (
    FIRST_YEAR,
    LAST_YEAR,
    OFFSET_MINUTES,
    RANGE_TEXT,
    as_written,
    coerce_timestamp,
    format_timestamp,
    in_range,
    not_a_timestamp,
    offset_misread,
)
from esc.ticketfile import fast_front, fingerprint, yaml_text
from esc.ticketfile.body import (
    ACTIVITY,
    Parts,
    add_activity,
    add_entry,
    escape,
    parse_appended,
    parse_body,
    render_activity,
    render_entry,
    unreadable_lines,
)


@dataclass
class TicketDoc:
    """A ticket file as read: its text, its parts, and what it means."""

    path: str
    text: str
    front_start: int
    front_end: int
    body_start: int
    data: dict[str, Any]
    key_lines: dict[str, int]  # top-level key -> 1-based line in the file
    ticket: Ticket
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    # top-level block list -> the file line of each of its items (escalations' own lines)
    item_lines: dict[str, list[int]] = field(default_factory=dict)
    # the front-matter as fast_front read it (None: it did not, or it was not kept)
    front_read: fast_front.Front | None = field(default=None, repr=False, compare=False)

    @cached_property
    def proven(self) -> bool:
        """Whether the text is as a sweep of this esc wrote and stamped it
        (:func:`esc.ticketfile.fingerprint.proven`; the stamp covers all but the ``checked``
        time and the ID)."""
        return fingerprint.proven(self)

    @property
    def front(self) -> str:
        """The front-matter YAML text."""
        return self.text[self.front_start : self.front_end]

    @property
    def body(self) -> str:
        """Everything after the closing ``---`` line."""
        return self.text[self.body_start :]


def split(text: str, path: str) -> tuple[int, int, int]:
    """Offsets (front-matter start, front-matter end, body start) of a ticket file."""
    if text.startswith("\ufeff"):
        raise ParseError(
            path, 1, "a byte order mark before the front-matter: save the file as UTF-8 without one"
        )
    conflict = conflict_line(text)
    if conflict is not None:
        raise ParseError(
            path, conflict, "unresolved merge conflict: resolve it, then `git add` the file"
        )
    first_nl = text.find("\n")
    first = text[: first_nl if first_nl >= 0 else len(text)].rstrip("\r")
    if not text.strip():  # (as an editor that saves in place leaves it for an instant)
        raise ParseError(path, 1, "the file is empty (if it is being saved, try again)")
    if first.strip() != "---":
        raise ParseError(path, 1, "no front-matter: the file must start with a '---' line")
    closing = _CLOSING.search(text, first_nl) if first_nl >= 0 else None
    if closing is None:
        raise ParseError(path, 1, "front-matter is not closed by a '---' line")
    return first_nl + 1, closing.start() + 1, closing.end()


def unstamped(text: str) -> str:
    """A ticket file's ``text`` without the sweep's fingerprint, if it has one
    (:mod:`esc.ticketfile.fingerprint`): what a merge, or a look at what a sweep wrote,
    compares."""
    if fingerprint.MARK not in text:
        return text
    try:
        start, end, _ = split(text, "")
    except ParseError:
        return text
    front, stamp = fingerprint.split_off(text[start:end])
    return text[:start] + front + text[end:] if stamp else text


def conflict_line(text: str) -> int | None:
    """The line (1-based) of the first ``<<<<<<<`` of a conflict git or esc's merge driver
    left in the file (followed by ``=======`` and ``>>>>>>>`` lines), or None."""
    if "<<<<<<<" not in text:  # (most files: a plain search is 15 times a regex scan's speed)
        return None
    start = _CONFLICT_START.search(text)
    if start is None or not _CONFLICT_END.search(text, start.end()):
        return None
    return text.count("\n", 0, start.start()) + 1


_CONFLICT_START = re.compile(r"^<{7}(?: |\r?$)", re.MULTILINE)
_CONFLICT_END = re.compile(r"^>{7}(?: |\r?$)", re.MULTILINE)

# The line that closes the front-matter: ``---`` or ``...``, then any blanks.
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[^\S\n]*(?:\n|\Z)")


def parse(text: str, path: str) -> TicketDoc:
    """Read a ticket file; raises ParseError for a file esc must not touch."""
    offsets = split(text, path)
    front = text[offsets[0] : offsets[1]]
    quick = _quick_front(front, path)
    if quick is not None:
        return _doc(text, path, offsets, *_lines_of(quick), quick)
    return _doc(text, path, offsets, *read_front(front, path), None)


def _doc(
    text: str,
    path: str,
    offsets: tuple[int, int, int],
    data: dict[str, Any],
    key_lines: dict[str, int],
    item_lines: dict[str, list[int]],
    quick: fast_front.Front | None,
    body_parts: Parts | None = None,
) -> TicketDoc:
    """The ticket file ``text`` from its front-matter's fields as read (:func:`parse`);
    ``body_parts``: its body as read already, known to hold no problem (see :func:`changed`)."""
    front_start, front_end, body_start = offsets
    body = text[body_start:]
    problems: list[tuple[int, str]] = []
    ticket = to_ticket(
        data,
        body,
        key_lines,
        problems,
        item_lines.get("escalations", []),
        item_lines.get("requests", []),
        body_parts,
    )
    doc = TicketDoc(
        path, text, front_start, front_end, body_start, data, key_lines, ticket, problems,
        item_lines, quick,
    )  # fmt: skip
    # A text a sweep wrote, as its stamp says, validated as it was written (a sweep never
    # writes one that does not): of its values only the ``sla:`` block's ``checked`` time,
    # which the stamp leaves out, is checked again; its body not at all, nor the body of a
    # sweep's edit of one read already (``body_parts``).
    if doc.proven:
        _check_checked(data, key_lines, problems, text)
    else:
        _check_values(data, key_lines, problems, quick is not None, text)
    if _SURROGATE_ESCAPE.search(text, front_start, front_end):
        check_surrogates(data, key_lines, problems)
    if body_parts is None and not doc.proven:
        problems += _body_problems(text, body_start, ticket)
    return doc


def _body_problems(text: str, body_start: int, ticket: Ticket) -> list[tuple[int, str]]:
    """(line, problem) for each time in the body outside the years esc reads, and each
    conversation entry head or activity line esc cannot read."""
    body = text[body_start:]
    problems: list[tuple[int, str]] = []
    body_line = text.count("\n", 0, body_start) + 1
    moments = [e.at for e in ticket.entries]
    if _year_out_of_range(body):  # (else the activity log stays unparsed: it is lazy)
        moments += [a.at for a in ticket.activity]
    for at in moments:
        if not in_range(at):
            written = text.find(format_timestamp(at), body_start)
            where = body_line if written < 0 else text.count("\n", 0, written) + 1
            problems.append((where, f"{format_timestamp(at)} is {RANGE_TEXT}"))
    for offset, problem in unreadable_lines(body):  # (an entry or log line esc would skip)
        problems.append((text.count("\n", 0, body_start + offset) + 1, problem))
    return problems


# A conversation heading or an activity line that starts with a time whose year is outside
# the years esc reads (FIRST_YEAR to LAST_YEAR: 1900 to 8999), found in one regex pass
# (from the line break before the line: a literal the regex engine looks for fast, where
# ``^`` in MULTILINE mode is tried at every character, five times slower).
_LINE_YEAR_OUT = re.compile(r"\n(?:- |### )(?:0\d{3}|1[0-8]\d\d|9\d{3})-\d\d-\d\dT")
assert (FIRST_YEAR, LAST_YEAR) == (1900, 8999), "_LINE_YEAR_OUT spells out the years"


def _year_out_of_range(body: str) -> bool:
    """Whether a line of the body starts with a time outside the years esc reads."""
    return _LINE_YEAR_OUT.search("\n" + body) is not None


def read_front(
    front: str, path: str
) -> tuple[dict[str, Any], dict[str, int], dict[str, list[int]]]:
    """The front-matter's fields, the line of each key and the lines of each list's items.

    Front-matter in esc's own style is read by :mod:`esc.ticketfile.fast_front`; anything else (a
    hand-written file) by ruamel.yaml, which gives the same values more slowly (YAML 1.2).
    """
    offset = _FRONT_LINE
    quick = _quick_front(front, path)
    if quick is not None:
        return _lines_of(quick)
    try:
        data, key_lines, item_lines = yaml_text.read_mapping(front)
    except yaml_text.NotAMapping:
        raise ParseError(path, offset, "front-matter must be a mapping of fields") from None
    except yaml_text.YamlError as exc:
        line = offset if exc.line is None else exc.line + offset
        raise ParseError(path, line, f"front-matter does not parse: {exc.problem}") from None
    return (
        data,
        {k: n + offset for k, n in key_lines.items()},
        {k: [n + offset for n in lines] for k, lines in item_lines.items()},
    )


_FRONT_LINE = 2  # the front-matter starts on line 2 of the file


def _quick_front(front: str, path: str) -> fast_front.Front | None:
    """The front-matter read by fast_front (None: not esc's own style); ParseError if it
    is too large to read at all."""
    if len(front) > yaml_text.MAX_CHARS:
        raise ParseError(
            path,
            _FRONT_LINE,
            f"front-matter is too large: {len(front):,} characters "
            f"(esc reads at most {yaml_text.MAX_CHARS:,})",
        )
    return fast_front.load(front)


def _lines_of(
    quick: fast_front.Front,
) -> tuple[dict[str, Any], dict[str, int], dict[str, list[int]]]:
    """What :func:`read_front` returns, from a front-matter fast_front read."""
    offset = _FRONT_LINE
    return (
        quick.data,
        {k: n + offset for k, n in quick.key_lines.items()},
        {k: [n + offset for n in lines] for k, lines in quick.item_lines.items()},
    )


# ---------------------------------------------------------------- front-matter -> Ticket


def to_ticket(
    data: Mapping[str, Any],
    body: str,
    key_lines: Mapping[str, int],
    problems: list[tuple[int, str]],
    escalation_lines: list[int] | None = None,
    request_lines: list[int] | None = None,
    body_parts: Parts | None = None,
) -> Ticket:
    """The ticket of a file's front-matter ``data`` and ``body`` (``body_parts``: the body as
    parse_body read it, if it has been), each problem added to ``problems``."""

    def line(key: str) -> int:
        return key_lines.get(key, 1)

    def text(key: str, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            if required:
                problems.append((line(key), f"{key} is missing"))
            return None
        if isinstance(value, (dict, list)):
            problems.append((line(key), f"{key} must be a single value"))
            return None
        return as_text(value)  # (`title: true` is "true", as written: not Python's "True")

    def stamp(key: str, required: bool = False) -> dt.datetime | None:
        value = data.get(key)
        if value is None:
            if required:
                problems.append((line(key), f"{key} is missing"))
            return None
        moment = coerce_timestamp(value)
        if moment is None:
            problems.append((line(key), f"{key} {as_written(value)} {not_a_timestamp(value)}"))
        elif not in_range(moment):
            problems.append((line(key), f"{key} {value!s} is {RANGE_TEXT}"))
            return None
        return moment

    created = stamp("created", True)
    updated = stamp("updated") or created
    fallback = created or dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    description, entries, activity = parse_body(body) if body_parts is None else body_parts
    return Ticket(
        id=text("id", True) or "",
        title=text("title", True) or "",
        # (an unknown status is a problem problems.check_ticket reports: the file is then
        # never written, and no command works from it)
        status=cast(Status, text("status", True) or ""),
        priority=text("priority", True) or "",
        team=text("team", True) or "",
        created=fallback,
        updated=updated or fallback,
        category=text("category"),
        assignee=text("assignee"),
        customer=text("customer"),
        channel=text("channel"),
        first_response_at=stamp("first_response_at"),
        resolved_at=stamp("resolved_at"),
        closed_at=stamp("closed_at"),
        tags=_tags(data.get("tags"), line("tags"), problems),
        impact=text("impact"),
        urgency=text("urgency"),
        csat=_csat(data.get("csat"), line("csat"), problems),
        kb=text("kb"),
        escalations=_escalations(
            data.get("escalations"), line("escalations"), problems, escalation_lines or []
        ),
        requests=_requests(data.get("requests"), line("requests"), problems, request_lines or []),
        description=description,
        entries=entries,
        activity=activity,
        extra={k: v for k, v in data.items() if k not in TICKET_FIELDS},
    )


def _tags(value: object, line: int, problems: list[tuple[int, str]]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        problems.append((line, "tags must be a list of words"))
        return ()
    for tag in value:
        problem = tag_problem(tag)
        if problem is not None:
            problems.append((line, problem))
            return ()
    return tuple(value)


def _csat(value: object, line: int, problems: list[tuple[int, str]]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        problems.append((line, f"csat must be a whole number from 1 to 5, not {value!r}"))
        return None
    return value


ESCALATION_KEYS = ("at", "kind", "from", "to", "by", "reason")  # an escalation's, in order


_ESCALATION_TEXTS = ("from", "to", "by", "reason")  # (an escalation's keys that hold text)


def _escalations(
    value: object, line: int, problems: list[tuple[int, str]], item_lines: list[int]
) -> tuple[Escalation, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append((line, "escalations must be a list"))
        return ()
    result = []
    for n, item in enumerate(value, start=1):
        where = item_lines[n - 1] if n <= len(item_lines) else line
        if not isinstance(item, dict):
            problems.append((where, f"escalation {n} must be a mapping"))
            continue
        at = coerce_timestamp(item.get("at"))
        if at is None:
            at_was = item.get("at")
            problems.append((where, f"escalation {n}: at {not_a_timestamp(at_was)}"))
            continue
        if not in_range(at):
            problems.append((where, f"escalation {n}: at {item.get('at')!s} is {RANGE_TEXT}"))
            continue
        kind = next((k for k in ESCALATION_KINDS if k == item.get("kind")), None)
        if kind is None:
            choices = ", ".join(ESCALATION_KINDS)
            written = item.get("kind")
            hint = did_you_mean(written, ESCALATION_KINDS) if isinstance(written, str) else ""
            problems.append((where, f"escalation {n}: kind must be one of {choices}{hint}"))
            continue
        unknown = sorted(set(map(str, item)) - set(ESCALATION_KEYS))
        if unknown:
            keys = ", ".join(ESCALATION_KEYS)
            problems.append((where, f"escalation {n}: unknown key {unknown[0]!r} (keys: {keys})"))
            continue
        # (where it went, who took it there and why: esc writes all three, and a report,
        # a notification and `show` name them)
        missing = next((k for k in ("to", "by", "reason") if item.get(k) in (None, "")), None)
        if missing is not None:
            problems.append((where, f"escalation {n}: {missing} is missing"))
            continue
        nested = next((k for k in _ESCALATION_TEXTS if isinstance(item.get(k), (dict, list))), None)
        if nested is not None:  # (a mapping or list where a name or text belongs)
            problems.append((where, f"escalation {n}: {nested} must be a single value"))
            continue
        if item.get("from") is not None and str(item.get("from")) == str(item.get("to")):
            # (no command writes one: `escalate` refuses a team or priority it has already;
            # audit helper-474)
            problems.append((where, f"escalation {n}: from and to are both {item.get('to')}"))
            continue
        result.append(
            Escalation(
                at=at,
                kind=kind,
                from_=None if item.get("from") is None else str(item.get("from")),
                to=str(item.get("to", "")),
                by=str(item.get("by", "")),
                reason=str(item.get("reason", "")),
            )
        )
    return tuple(result)


def _requests(
    value: object, line: int, problems: list[tuple[int, str]], item_lines: list[int]
) -> tuple[Request, ...]:
    """The ``requests:`` list (``esc involve``): one mapping per request to another team."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append((line, "requests must be a list"))
        return ()
    result: list[Request] = []
    for n, item in enumerate(value, start=1):
        where = item_lines[n - 1] if n <= len(item_lines) else line
        problem, request = _request(item)
        if request is None:
            problems.append((where, f"request {n}: {problem}"))
        elif any(r.key == request.key for r in result):
            problems.append((where, f"request {n}: a second request to {request.team} asked at "
                             f"{format_timestamp(request.asked)}"))  # fmt: skip
        else:
            result.append(request)
    return tuple(result)


REQUEST_KEYS = ("asked", "by", "team", "person", "state", "closed", "closed_by")  # in order


def _request(item: object) -> tuple[str, Request | None]:
    if not isinstance(item, dict):
        return "must be a mapping of asked, by, team, person, state", None
    unknown = sorted(set(map(str, item)) - set(REQUEST_KEYS))
    if unknown:
        return f"unknown key {unknown[0]!r} (keys: {', '.join(REQUEST_KEYS)})", None
    stamps: dict[str, dt.datetime | None] = {}
    for key in ("asked", "closed"):
        raw = item.get(key)
        stamps[key] = coerce_timestamp(raw)
        if (raw is not None or key == "asked") and stamps[key] is None:
            return f"{key} {not_a_timestamp(raw)}", None
        moment = stamps[key]
        if moment is not None and not in_range(moment):
            return f"{key} {raw!s} is {RANGE_TEXT}", None
    team, by = item.get("team"), item.get("by")
    if not isinstance(team, str) or not team:
        return "team is missing", None
    state = next((s for s in REQUEST_STATES if s == item.get("state")), None)
    if state is None:
        written = item.get("state")
        hint = did_you_mean(written, REQUEST_STATES) if isinstance(written, str) else ""
        return f"state must be one of {', '.join(REQUEST_STATES)}{hint}", None
    asked, closed = stamps["asked"], stamps["closed"]
    assert asked is not None
    if (state == "open") != (closed is None):
        return ("an open request has no closed time" if state == "open"
                else f"{'an' if state[:1] in 'aeiou' else 'a'} {state} request needs its"
                     " closed time"), None  # fmt: skip
    if closed is not None and closed < asked:
        return "closed before it was asked", None
    person = item.get("person")
    closed_by = item.get("closed_by")
    if state == "open" and closed_by is not None:  # (shown and exported as closed by one)
        return "an open request has no closed_by", None
    return "", Request(
        asked=asked,
        by="" if by is None else str(by),
        team=team,
        person=None if person is None else str(person),
        state=state,
        closed=closed,
        closed_by=None if closed_by is None else str(closed_by),
    )


def _check_values(
    data: Mapping[str, Any],
    key_lines: Mapping[str, int],
    problems: list[tuple[int, str]],
    quick: bool = False,
    text: str = "",
) -> None:
    """Problems anywhere in the front-matter's values: keys that are not text, values JSON
    has no word for (bytes, sets), times out of range, and a malformed ``sla`` or ``fired``
    (which the sweep reads back).

    ``quick``: ``data`` is as fast_front read it (text keys; text, numbers, booleans,
    nulls, times, dates, lists and mappings): then a ticket field, whose times are not
    checked here, has nothing to find, and only the other fields are looked at."""
    items: list[tuple[object, Any]] = (
        [(k, v) for k, v in data.items() if k not in TICKET_FIELDS]
        if quick
        else list(data.items())  # (YAML keys need not be text)
    )
    for key, value in items:
        line = key_lines.get(str(key)) or _non_text_key_line(key, key_lines)
        if not isinstance(key, str):
            problems.append((line, f"key {_shown_key(key)} is not text (quote it)"))
            continue
        # (the `sla:` block's dues are esc's own, up to its clocks' 10 years past a ticket of
        # 8999, the last year esc takes: each a valid time, which the block's own check
        # reads; out of range, every sweep of such a ticket failed: audit helper-447)
        problem = _value_problem(key, value, key not in TICKET_FIELDS and key != "sla")
        if problem is not None:
            problems.append((line, problem))
            continue
        inner: str | None = None  # (the key inside the block at fault, if one is)
        if key == "sla" and value is not None:
            inner, problem = _sla_problem(value)
        elif key == "fired" and value is not None:
            inner, problem = _fired_problem(value)
        if problem is not None:
            at = line_in_block(text, line, inner) if inner is not None else None
            problems.append((at or line, problem))


# A YAML escape that may stand for half of a UTF-16 pair ("\ud800"): no character alone.
_SURROGATE_ESCAPE = re.compile(r"\\(?:u[dD][89a-fA-F]|U0000[dD][89a-fA-F])")


def check_surrogates(
    data: Mapping[str, Any], key_lines: Mapping[str, int], problems: list[tuple[int, str]]
) -> None:
    """A value holding a lone surrogate (written as an escape such as ``"\\ud800"``) is a
    problem: it is no character, and no file, terminal or JSON can take it."""
    for key, value in data.items():
        if holds_lone_surrogate(key) or holds_lone_surrogate(value):
            plain = isinstance(key, str) and not holds_lone_surrogate(key)
            shown = key if plain else _shown_key(key)
            line = key_lines.get(str(key), 1)
            problems.append((line, f"{shown}: {LONE_SURROGATE_PROBLEM}"))


def _shown_key(key: object) -> str:
    """A key that is no text, as YAML writes it (a date as its date, `null`, `true`, a
    list as `[a, b]`), not as Python's repr."""
    if isinstance(key, (dt.date, dt.datetime)):
        return key.isoformat()
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (tuple, list)):
        return "[" + ", ".join(_shown_key(k) if not isinstance(k, str) else k for k in key) + "]"
    return repr(key)


_SPELLINGS: dict[object, tuple[str, ...]] = {  # (how YAML 1.2 may write these keys)
    None: ("~", "null", "Null", "NULL", ""),
    True: ("true", "True", "TRUE"),
    False: ("false", "False", "FALSE"),
}


def _non_text_key_line(key: object, key_lines: Mapping[str, int]) -> int:
    """The line of a key that is no text, by the ways YAML writes it (1 if not found: a
    complex key, `? [a, b]`, has no line of its own here)."""
    spellings = _SPELLINGS.get(key, ()) if isinstance(key, (bool, type(None))) else ()
    return next((key_lines[s] for s in spellings if s in key_lines), 1)


_PLAIN_TYPES = frozenset({str, int, bool, type(None)})  # (nothing to check inside)


def _value_problem(top: str, value: object, times: bool) -> str | None:
    """What is wrong with ``value`` (under top-level key ``top``) anywhere inside, or None;
    times out of range only if ``times``."""
    if type(value) in _PLAIN_TYPES:  # (most values: answered without the checks below)
        return None
    if isinstance(value, float) and not math.isfinite(value):  # (.nan, .inf: no JSON has it)
        return f"{top}: {value} is a number JSON cannot hold (quote it to keep it as text)"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{top}: key {_shown_key(key)} is not text (quote it)"
            problem = _value_problem(top, item, times)
            if problem is not None:
                return problem
        return None
    if isinstance(value, list):
        for item in value:
            problem = _value_problem(top, item, times)
            if problem is not None:
                return problem
        return None
    if times and isinstance(value, dt.datetime) and offset_misread(value):  # (a field of
        # your own, `times`: read as another instant, +02:39 for `+01:99`, as esc's own
        # were, which they name themselves; helper-481)
        return f"{top}: {as_written(value)} {OFFSET_MINUTES}"
    if isinstance(value, (dt.datetime, dt.date)):
        return None if in_range(value) or not times else f"{top}: {value} is {RANGE_TEXT}"
    if value is None or isinstance(value, (str, int, float)):
        return None
    kind = type(value).__name__
    return f"{top}: a {kind} value; esc reads text, numbers, times, lists and mappings"


# What the sweep writes in ``sla:``: the policy, when it checked, the configuration's
# version, and a clock (due and state) per metric
SLA_BLOCK_KEYS = ("policy", "checked", "rules", *METRICS)
# The last year a clock's due may fall in: a ticket of the last year esc takes, its clocks
# counted over at most 10 years (and a day's working hours past them)
LAST_DUE_YEAR = LAST_YEAR + 11
CLOCK_KEYS = ("due", "state")


def _check_checked(
    data: Mapping[str, Any],
    key_lines: Mapping[str, int],
    problems: list[tuple[int, str]],
    text: str,
) -> None:
    """:func:`_check_values` of the ``sla:`` block's ``checked`` time alone."""
    block = data.get("sla")
    problem = _checked_problem(block.get("checked")) if isinstance(block, dict) else None
    if problem is not None:
        line = key_lines.get("sla", 1)
        problems.append((line_in_block(text, line, "checked") or line, problem))


def _checked_problem(checked: object) -> str | None:
    """What is wrong with the ``sla:`` block's ``checked`` value, if anything."""
    if checked is not None and coerce_timestamp(checked) is None:
        return f"sla: checked {as_written(checked)} {not_a_timestamp(checked)}"
    moment = coerce_timestamp(checked)  # (written quoted too: read as a time all the same)
    if moment is not None and not in_range(moment):  # (a sweep's now)
        return f"sla: checked {checked!s} is {RANGE_TEXT}"
    return None


def _sla_problem(value: object) -> tuple[str | None, str | None]:
    """What is wrong in an ``sla`` block, and the key inside it at fault (None: the block)."""
    if not isinstance(value, dict):
        return None, "sla must be a mapping (esc sweep writes it: delete it and sweep again)"
    checked_problem = _checked_problem(value.get("checked"))
    if checked_problem is not None:
        return "checked", checked_problem
    policy = value.get("policy")
    if policy is not None and not isinstance(policy, str):
        return "policy", f"sla: policy must be the name of a policy, not {shown(policy)}"
    for name, clock in value.items():
        if name not in SLA_BLOCK_KEYS:  # (a misspelt clock: read as no clock at all)
            return name, f"sla: {unknown_choice('key', name, SLA_BLOCK_KEYS)}"
        if name in ("policy", "checked", "rules"):
            continue
        if not isinstance(clock, dict):
            return name, f"sla: {name} must be a mapping of due and state"
        for key in clock:
            if key not in CLOCK_KEYS:
                return name, f"sla: {name}: {unknown_choice('key', key, CLOCK_KEYS)}"
        due = clock.get("due")
        if due is not None and coerce_timestamp(due) is None:
            return name, f"sla: {name} due {as_written(due)} {not_a_timestamp(due)}"
        when = coerce_timestamp(due)
        if when is not None and not FIRST_YEAR <= when.year <= LAST_DUE_YEAR:
            years = f"years {FIRST_YEAR} to {LAST_DUE_YEAR}"
            return name, f"sla: {name} due {due!s} is out of range ({years})"
        state = clock.get("state")
        if state is not None and state not in CLOCK_STATES:
            return name, f"sla: {name}: {unknown_choice('state', state, CLOCK_STATES)}"
    return None, None


def _fired_problem(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, dict):
        return None, "fired must be a mapping of rule names to times"
    for name, when in value.items():
        if coerce_timestamp(when) is None:
            return name, f"fired: {name} {as_written(when)} {not_a_timestamp(when)}"
    return None, None


def line_in_block(text: str, start: int, key: str) -> int | None:
    """The line of ``key`` inside the top-level block whose key is at line ``start`` of
    ``text`` (one key a line, as the sweep writes it), else None."""
    lines = text.splitlines()
    for n in range(start, len(lines)):  # (0-based: the lines after the block's key)
        line = lines[n]
        if not line.startswith((" ", "\t")):
            break
        text_ = line.strip()
        if text_.startswith((f"{key}:", f"'{key}':", f'"{key}":')):
            return n + 1
    return None


# ---------------------------------------------------------------- writing


def render_new(
    front: Mapping[str, object], description: str, activity: list[Activity], path: str = ""
) -> str:
    """The text of a new ticket file (at ``path``); TooLargeToRead if esc could not read it
    back."""
    front_text = yaml_text.render_mapping(front)
    require_readable_front(front_text, path)
    parts = ["---\n", front_text, "---\n\n"]
    if description.strip():
        parts.append(escape(description).strip("\n") + "\n\n")
    parts.append(f"{ACTIVITY}\n\n")
    parts.extend(render_activity(a) + "\n" for a in activity)
    return "".join(parts)


def apply_change(doc: TicketDoc, change: Change) -> str:
    """The new text of ``doc`` with ``change`` made; everything else byte for byte."""
    return _edited(doc, change)[0]


def changed(doc: TicketDoc, change: Change) -> TicketDoc:
    """``doc`` with ``change`` made (:func:`apply_change`), as :func:`parse` reads the new
    text, without reading again the front-matter that the edit's check has just read."""
    text, quick = _edited(doc, change)
    if quick is None:
        return parse(text, doc.path)
    offsets = split(text, doc.path)
    if text[offsets[0] : offsets[1]] != quick.text:  # (never: the edit ends where it did)
        return parse(text, doc.path)
    parts = _body_appended(doc, change, text[offsets[2] :])
    return _doc(text, doc.path, offsets, *_lines_of(quick.front), quick.front, parts)


def _body_appended(doc: TicketDoc, change: Change, new_body: str) -> Parts | None:
    """The new body as :func:`parse` would read it, from the old one as read, when ``change``
    only appended activity lines to a body with no problem (a sweep's usual edit), and the
    lines it appended have none either (no time esc cannot read, or out of range); else
    None (the new body is read afresh)."""
    if change.entries or doc.problems:
        return None
    old = doc.ticket
    parts = parse_appended((old.description, old.entries, old.activity), doc.body, new_body)
    if parts is None:
        return None
    added = new_body[len(doc.body) :]
    if _year_out_of_range(added) or unreadable_lines(f"{ACTIVITY}\n{added}"):
        return None
    return parts


@dataclass
class _NewFront:
    text: str
    front: fast_front.Front


def _edited(doc: TicketDoc, change: Change) -> tuple[str, _NewFront | None]:
    """The new text, and its front-matter as fast_front read it (if it did)."""
    # (a sweep's fingerprint, the last line, is left as the last line: stale once the file
    # is edited, and made anew by a sweep that writes it; see fingerprint.py)
    front, stamp = fingerprint.split_off(doc.front)
    editor = yaml_text.FrontMatterEditor(front, FIELD_ORDER, doc.front_read)
    key = ""  # (the field being edited, for the line of a refusal)
    try:
        for key, value in change.sets.items():
            editor.set(key, value)
        # (each where a sweep at its moment would have put it; how many of the list's last
        # items each went before, for _check_front)
        tagged = _inserted(editor, "tags", doc, list(change.tags_added), _later_tags(doc, change))
        placed = _inserted(editor, "escalations", doc, [e.as_yaml() for e in change.escalations],
                           _later_escalations(doc, change))  # fmt: skip
        requests = _requests_after(doc, change)
        if requests is not None and _only_added(doc, change):
            for request in change.requests:
                editor.append("requests", request.as_yaml())
        elif requests is not None:
            editor.set("requests", [r.as_yaml() for r in requests])
    except yaml_text.EditError as exc:  # (say, a key written as `? key`): refuse, write nothing
        raise _refused(doc, change, str(exc), key) from None
    require_readable_front(editor.text, doc.path)
    quick = _check_front(doc, change, editor.text, placed, tagged)
    body = doc.body
    nl = yaml_text.line_break_of(doc.text)
    for entry in change.entries:  # (each in time order: see add_activity)
        body = add_entry(body, entry.at, render_entry(entry).replace("\n", nl), nl)
    if change.activity:
        body = add_activity(body, [(a.at, render_activity(a) + nl) for a in change.activity], nl)
    text = doc.text
    closing = text[doc.front_end : doc.body_start]  # (the `---` line)
    if body and not closing.endswith("\n"):  # (a file that ends at its `---`: a line break
        closing += nl  # before what is appended, or it would join the `---` line)
    new = text[: doc.front_start] + editor.text + stamp + closing + body
    return new, None if quick is None else _NewFront(editor.text + stamp, quick)


def require_readable_front(front: str, path: str) -> None:
    """TooLargeToRead unless esc would read ``front`` back as a ticket's front-matter: every
    ticket esc writes (a new one, or a change to one) is checked here before it is written,
    so that no command writes a file every command then refuses.  (The other budgets of
    :mod:`yaml_text`, aliases and nesting, esc's own writing never reaches: it writes no
    alias and no list or mapping deeper than two; a body has no budget.)"""
    if len(front) > yaml_text.MAX_CHARS:
        raise TooLargeToRead(
            path,
            _FRONT_LINE,
            f"the ticket's front-matter would be too large: {len(front):,} characters "
            f"(esc reads at most {yaml_text.MAX_CHARS:,}); nothing was written",
        )


_ANCHORED = re.compile(r"^[^#\n]*:\s*&", re.MULTILINE)  # (a key whose value is `&name …`)


def _span(doc: TicketDoc, key: str) -> tuple[int, int]:
    """Where the line of ``key`` is in the front-matter text (0, 0 if it has none)."""
    line = doc.key_lines.get(key)
    if line is None:
        return 0, 0
    lines = doc.front.splitlines(keepends=True)
    first = line - 2  # (key_lines count the file's lines: its line 1 is the opening ---)
    if not 0 <= first < len(lines):
        return 0, 0
    start = sum(len(text) for text in lines[:first])
    return start, start + len(lines[first])


def _check_front(
    doc: TicketDoc, change: Change, new_front: str, placed: Sequence[int],
    tagged: Sequence[int],
) -> fast_front.Front | None:  # fmt: skip
    """Refuse to write unless the edited front-matter means exactly what was intended
    (``placed``, ``tagged``: how many of the list's last items each escalation and each
    tag went before); the new front-matter as fast_front read it (None: it did not)."""
    expected = dict(doc.data)
    for key, value in change.sets.items():
        expected[key] = _plain(value)
    if change.tags_added:
        tags = list(expected.get("tags") or [])
        for tag, before_last in zip(change.tags_added, tagged, strict=True):
            tags.insert(len(tags) - before_last, tag)
        expected["tags"] = tags
    if change.escalations:
        listed = list(expected.get("escalations") or [])
        for esc, before_last in zip(change.escalations, placed, strict=True):
            listed.insert(len(listed) - before_last, _plain(esc.as_yaml()))
        expected["escalations"] = listed
    requests = _requests_after(doc, change)
    if requests is not None and _only_added(doc, change):
        expected["requests"] = list(expected.get("requests") or []) + [
            _plain(r.as_yaml()) for r in change.requests
        ]
    elif requests is not None:
        expected["requests"] = [_plain(r.as_yaml()) for r in requests]
    quick = fast_front.load(new_front)
    try:
        actual = quick.data if quick is not None else yaml_text.load(new_front)
    except yaml_text.YamlError:
        actual = None
    if actual != expected and _instants(actual) != _instants(expected):
        raise _refused(doc, change, None, "")
    return quick


def _refused(doc: TicketDoc, change: Change, why: str | None, key: str) -> ParseError:
    """Why esc will not write ``change`` into ``doc``'s front-matter: at the line of the
    field a YAML alias refers to (its change would break the alias), if one is; else as
    the editor said (``why``, at ``key``'s line)."""
    anchored = [k for k in change.sets if _ANCHORED.search(doc.front, *_span(doc, k))]
    if anchored:
        key = anchored[0]
        why = f"{key}: its value is a YAML anchor that an alias (*name) refers to"
        why += "; write the values out"
    line = doc.key_lines.get(key, _FRONT_LINE) if key else _FRONT_LINE  # (else its first line)
    said = f" ({why})" if why else ""
    return ParseError(
        doc.path, line, f"esc could not edit this front-matter safely{said}; nothing was written"
    )


def _instants(value: object) -> object:
    """``value`` with each timestamp as (its instant in UTC, its offset): what the file says
    of it.  (Python never finds a time in a repeated hour, 02:15 on the night clocks go
    back, equal to one with another tzinfo: the written +02:00 and Europe/Berlin's own.)"""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return (value.astimezone(dt.timezone.utc), value.utcoffset())
    if isinstance(value, Mapping):
        return {k: _instants(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_instants(v) for v in value]
    return value


def _inserted(
    editor: yaml_text.FrontMatterEditor, key: str, doc: TicketDoc, items: list[object],
    later: list[int],
) -> list[int]:  # fmt: skip
    """Each of ``items`` put in the list ``key`` before as many of its last items as
    ``later`` says (each count made as if those before it went where they were meant to);
    once one goes at the end instead (a list esc cannot insert into), the rest go at the
    end too, in their order.  How many each went before."""
    written = doc.data.get(key)
    count = len(written) if isinstance(written, list) else 0
    placed: list[int] = []
    as_meant = True
    for item, wanted in zip(items, later, strict=True):
        went = editor.insert(key, item, wanted if as_meant else 0, count)
        as_meant = as_meant and went == wanted
        placed.append(went)
        count += 1
    return placed


def _later_escalations(doc: TicketDoc, change: Change) -> list[int]:
    """For each escalation ``change`` adds, how many of the list's last items (those
    before it added, and those of the list as written) are later than it: it goes before
    them, where a sweep at its moment would have written it (a replay's escalation of 13:00
    before the one a person made at 14:00 since); 0 (at the end) for the usual one."""
    if not change.escalations:
        return []
    written = doc.data.get("escalations")
    times = [_item_time(item) for item in (written if isinstance(written, list) else [])]
    counts = []
    for esc in change.escalations:
        later = 0
        for at in reversed(times):
            if at is None or at <= esc.at:
                break
            later += 1
        counts.append(later)
        times.insert(len(times) - later, esc.at)
    return counts


def _later_tags(doc: TicketDoc, change: Change) -> list[int]:
    """For each tag ``change`` adds, how many of the list's last tags were tagged later
    (each tag's time: its first `tagged` line), as :func:`_later_escalations`."""
    if not change.tags_added:  # (most edits: no log read)
        return []
    first: dict[str, dt.datetime] = {}
    for line in (*doc.ticket.activity, *change.activity):
        if line.event == "tagged" and line.note and line.note not in first:
            first[line.note] = line.at
    written = doc.data.get("tags")
    times = [first.get(t) if isinstance(t, str) else None
             for t in (written if isinstance(written, list) else [])]  # fmt: skip
    counts = []
    for tag in change.tags_added:
        at = first.get(tag)
        later = 0
        for then in reversed(times):
            if at is None or then is None or then <= at:
                break
            later += 1
        counts.append(later)
        times.insert(len(times) - later, at)
    return counts


def _item_time(item: object) -> dt.datetime | None:
    """The ``at`` of an escalation as written (None: none esc reads)."""
    return coerce_timestamp(item.get("at")) if isinstance(item, Mapping) else None


def _requests_after(doc: TicketDoc, change: Change) -> tuple[Request, ...] | None:
    """The ticket's requests once ``change`` is made; None if it makes or closes none."""
    if not change.requests:
        return None
    return with_requests(doc.ticket.requests, change.requests)


def _only_added(doc: TicketDoc, change: Change) -> bool:
    """Whether ``change`` only adds requests, each asked after those the ticket has
    (appended, every other line left as it is; one asked before them, a missed rule's
    replayed, goes in its place, the list written again)."""
    keys = {r.key for r in doc.ticket.requests}
    last = max((r.asked for r in doc.ticket.requests), default=None)
    return not any(
        r.key in keys or (last is not None and r.asked < last) for r in change.requests
    )


_SCALARS = frozenset({str, int, bool, type(None), dt.datetime, dt.date})


def _plain(value: object) -> object:
    """``value`` as a YAML reader gives it back: mappings as dicts, sequences as lists."""
    kind = type(value)
    if kind in _SCALARS:  # (most values: no Mapping check, an ABC's isinstance is slow)
        return value
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}  # type: ignore[attr-defined]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


