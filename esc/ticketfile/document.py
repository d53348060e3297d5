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
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from esc.domain.errors import ParseError
from esc.domain.model import (
    ENTRY_KINDS,
    FIELD_ORDER,
    TICKET_FIELDS,
    Activity,
    ActivityLog,
    Change,
    Entry,
    Escalation,
    Ticket,
)
from esc.domain.timestamps import coerce_timestamp, format_timestamp, timestamp
from esc.ticketfile import fast_front, yaml_text

CONVERSATION = "## Conversation"
ACTIVITY = "## Activity"
SEP = " · "
ARROW = " → "
NONE_MARK = "—"

_KINDS = "|".join(ENTRY_KINDS)
_ENTRY_HEAD = re.compile(
    rf"### (?P<at>\S+) · (?P<author>.+?) · (?P<kind>{_KINDS}) \((?:public|internal)\)[ \t]*"
)
_STRUCTURAL = re.compile(
    r"(?:## (?:Conversation|Activity)[ \t]*"
    rf"|### \S+ · .+? · (?:{_KINDS}) \((?:public|internal)\)[ \t]*)"
)
_ESCAPED = re.compile(r"\\+" + _STRUCTURAL.pattern)
_ACTIVITY_LINE = re.compile(r"- (?P<at>\S+) · (?P<by>.+?) · (?P<rest>.*)")
_FIELD_CHANGE = re.compile(r"(?P<field>[A-Za-z_][\w.]*): (?P<rest>.*)")


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
    first_nl = text.find("\n")
    first = text[: first_nl if first_nl >= 0 else len(text)].rstrip("\r")
    if first.strip() != "---":
        raise ParseError(path, 1, "no front-matter: the file must start with a '---' line")
    closing = _CLOSING.search(text, first_nl) if first_nl >= 0 else None
    if closing is None:
        raise ParseError(path, 1, "front-matter is not closed by a '---' line")
    return first_nl + 1, closing.start() + 1, closing.end()


# The line that closes the front-matter: ``---`` or ``...``, then any blanks.
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[^\S\n]*(?:\n|\Z)")


def parse(text: str, path: str) -> TicketDoc:
    """Read a ticket file; raises ParseError for a file esc must not touch."""
    front_start, front_end, body_start = split(text, path)
    front, body = text[front_start:front_end], text[body_start:]
    data, key_lines, item_lines = read_front(front, path)
    problems: list[tuple[int, str]] = []
    ticket = to_ticket(data, body, key_lines, problems, item_lines.get("escalations", []))
    return TicketDoc(
        path, text, front_start, front_end, body_start, data, key_lines, ticket, problems
    )


def read_front(
    front: str, path: str
) -> tuple[dict[str, Any], dict[str, int], dict[str, list[int]]]:
    """The front-matter's fields, the line of each key and the lines of each list's items.

    Front-matter in esc's own style is read by :mod:`esc.quickyaml`; anything else (a
    hand-written file) by ruamel.yaml, which gives the same values more slowly (YAML 1.2).
    """
    offset = 2  # the front-matter starts on line 2 of the file
    quick = fast_front.load(front)
    if quick is not None:
        return (
            quick.data,
            {k: n + offset for k, n in quick.key_lines.items()},
            {k: [n + offset for n in lines] for k, lines in quick.item_lines.items()},
        )
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


# ---------------------------------------------------------------- front-matter -> Ticket


def to_ticket(
    data: Mapping[str, Any],
    body: str,
    key_lines: Mapping[str, int],
    problems: list[tuple[int, str]],
    escalation_lines: list[int] | None = None,
) -> Ticket:
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
        return str(value)

    def stamp(key: str, required: bool = False) -> dt.datetime | None:
        value = data.get(key)
        if value is None:
            if required:
                problems.append((line(key), f"{key} is missing"))
            return None
        moment = coerce_timestamp(value)
        if moment is None:
            problems.append((line(key), f"{key} {value!s} is not a timestamp with a time zone"))
        return moment

    created = stamp("created", True)
    updated = stamp("updated") or created
    fallback = created or dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    description, entries, activity = parse_body(body)
    return Ticket(
        id=text("id", True) or "",
        title=text("title", True) or "",
        status=text("status", True) or "",
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
        escalations=_escalations(
            data.get("escalations"), line("escalations"), problems, escalation_lines or []
        ),
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
    return tuple(value)


def _csat(value: object, line: int, problems: list[tuple[int, str]]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        problems.append((line, f"csat must be a whole number from 1 to 5, not {value!r}"))
        return None
    return value


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
            problems.append((where, f"escalation {n}: at is not a timestamp with a time zone"))
            continue
        result.append(
            Escalation(
                at=at,
                kind=str(item.get("kind", "")),
                from_=None if item.get("from") is None else str(item.get("from")),
                to=str(item.get("to", "")),
                by=str(item.get("by", "")),
                reason=str(item.get("reason", "")),
            )
        )
    return tuple(result)


# ---------------------------------------------------------------- body


def parse_body(body: str) -> tuple[str, tuple[Entry, ...], Sequence[Activity]]:
    """Split the Markdown body into description, conversation entries and activity.

    Bodies with only ``\n`` line breaks (all that esc writes) are cut at their headings
    with regular expressions; others go line by line.  Both read the same (tested).
    """
    if any(c in body for c in _ODD_BREAKS):
        return _parse_body_by_lines(body)
    cuts = [(m.start(), m.end(), m[1]) for m in _lines_matching(body, "## ", _SECTION)]
    description = body[: cuts[0][0]] if cuts else body
    entries: list[Entry] = []
    activity: list[str] = []  # its text, parsed when needed
    for n, (_, end, name) in enumerate(cuts):
        part = body[end : cuts[n + 1][0] if n + 1 < len(cuts) else len(body)]
        if name == "Conversation":
            entries += _entries(part)
        else:
            activity.append(part)
    return (
        _unescape(description).strip("\n"),
        tuple(entries),
        ActivityLog("\n".join(activity), parse_activity_line),
    )


# Characters other than "\n" that str.splitlines() also takes for line breaks.
_ODD_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# A section heading and an entry head, each matched from a line's start to its end.
_SECTION = re.compile(r"## (Conversation|Activity)[^\S\n]*$", re.MULTILINE)
_ENTRY_HEADS = re.compile(f"{_ENTRY_HEAD.pattern}$", re.MULTILINE)


def _lines_matching(text: str, prefix: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """The matches of ``pattern`` at the start of each line of ``text`` that starts with
    ``prefix`` (found with str.find: much faster than a regex scan of the whole text)."""
    starts = [0] if text.startswith(prefix) else []
    newline = text.find("\n" + prefix)
    while newline >= 0:
        starts.append(newline + 1)
        newline = text.find("\n" + prefix, newline + 1)
    matches = (pattern.match(text, start) for start in starts)
    return [match for match in matches if match is not None]


def _entries(part: str) -> list[Entry]:
    heads = _lines_matching(part, "### ", _ENTRY_HEADS)
    entries = []
    last = len(heads) - 1
    for n, head in enumerate(heads):
        stamp, author, kind = head.group("at", "author", "kind")
        at = timestamp(stamp)
        if at is None:
            continue
        end = heads[n + 1].start() if n < last else len(part)
        text = _unescape(part[head.end() + 1 : end]).strip("\n")
        entries.append(Entry(at, author, kind, text))
    return entries




def _parse_body_by_lines(body: str) -> tuple[str, tuple[Entry, ...], tuple[Activity, ...]]:
    """parse_body for any text: line by line, with every line break Python knows."""
    description: list[str] = []
    entries: list[Entry] = []
    activity: list[Activity] = []
    section = "description"
    current: tuple[re.Match[str], list[str]] | None = None

    def flush() -> None:
        if current is not None:
            head, lines = current
            at = timestamp(head["at"])
            if at is not None:
                text = _unescape("".join(lines)).strip("\n")
                entries.append(Entry(at, head["author"], head["kind"], text))

    for raw in body.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        if line.rstrip() == CONVERSATION:
            flush()
            current, section = None, "conversation"
            continue
        if line.rstrip() == ACTIVITY:
            flush()
            current, section = None, "activity"
            continue
        if section == "conversation":
            head = _ENTRY_HEAD.fullmatch(line)
            if head is not None:
                flush()
                current = (head, [])
            elif current is not None:
                current[1].append(raw)
        elif section == "activity":
            item = parse_activity_line(line)
            if item is not None:
                activity.append(item)
        else:
            description.append(raw)
    flush()
    return _unescape("".join(description)).strip("\n"), tuple(entries), tuple(activity)


def _escape(text: str) -> str:
    """Keep user text from being read as esc's own headings."""
    out = []
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        if _STRUCTURAL.fullmatch(line) or _ESCAPED.fullmatch(line):
            raw = "\\" + raw
        out.append(raw)
    return "".join(out)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    for raw in text.splitlines(keepends=True):
        if _ESCAPED.fullmatch(raw.rstrip("\r\n")):
            raw = raw[1:]
        out.append(raw)
    return "".join(out)


def _activity_value(value: str | None) -> str:
    if value is None:
        return NONE_MARK
    if (
        value == NONE_MARK
        or not value
        or value.startswith('"')
        or value != value.strip()
        or any(s in value for s in (SEP.strip(), ARROW.strip()))
        or any(unicodedata.category(c)[0] in "CZ" and c != " " for c in value)
    ):
        return yaml_text.quote(value)
    return value


def render_activity(item: Activity) -> str:
    """One activity line (without the newline)."""
    by = _one_line(item.by)
    if item.field is not None:
        what = f"{item.field}: {_activity_value(item.old)}{ARROW}{_activity_value(item.new)}"
    else:
        what = item.event or "changed"
    note = " ".join(item.note.split())
    return f"- {format_timestamp(item.at)}{SEP}{by}{SEP}{what}" + (f"{SEP}{note}" if note else "")


def parse_activity_line(line: str) -> Activity | None:
    line = line.rstrip()
    parts = line[2:].split(SEP, 2)
    if (
        line[:2] != "- "
        or len(parts) < 3
        or not parts[1]
        or _NO_SPACE.fullmatch(parts[0]) is None
        or "\n" in line
    ):
        return _parse_activity_line_by_regex(line)
    at = timestamp(parts[0])
    if at is None:
        return None
    return _activity_item(at, parts[1], parts[2])


_NO_SPACE = re.compile(r"\S+")


def _parse_activity_line_by_regex(line: str) -> Activity | None:
    match = _ACTIVITY_LINE.fullmatch(line)
    if match is None:
        return None
    at = timestamp(match["at"])
    return None if at is None else _activity_item(at, match["by"], match["rest"])


def _activity_item(at: dt.datetime, by: str, rest: str) -> Activity:
    """The activity of a line's text after its time and author."""
    field, colon, value = rest.partition(": ")
    if colon and '"' not in value and "\n" not in value and _FIELD_NAME.fullmatch(field):
        # ``field: old → new · note`` without quoted values (most lines): as below, faster
        old, arrow, after = value.partition(ARROW)
        if arrow:
            new, _, note = after.partition(SEP)
            return Activity(
                at,
                by,
                field=field,
                old=None if old == NONE_MARK else old,
                new=None if new == NONE_MARK else new,
                note=note,
            )
    return _activity_item_by_regex(at, by, rest)


_FIELD_NAME = re.compile(r"[A-Za-z_][\w.]*")


def _activity_item_by_regex(at: dt.datetime, by: str, rest: str) -> Activity:
    change = _FIELD_CHANGE.fullmatch(rest)
    if change is not None:
        parsed = _parse_change(change["rest"])
        if parsed is not None:
            old, new, note = parsed
            return Activity(at, by, field=change["field"], old=old, new=new, note=note)
    event, _, note = rest.partition(SEP)
    return Activity(at, by, event=event, note=note)


def _parse_change(rest: str) -> tuple[str | None, str | None, str] | None:
    old, rest = _take_value(rest, ARROW)
    if not rest.startswith(ARROW):
        return None
    new, rest = _take_value(rest[len(ARROW) :], SEP)
    note = rest[len(SEP) :] if rest.startswith(SEP) else ""
    return old, new, note


def _take_value(text: str, stop: str) -> tuple[str | None, str]:
    if text.startswith('"'):
        try:
            value, end = json.JSONDecoder().raw_decode(text)
            return str(value), text[end:]
        except ValueError:
            pass
    cut = text.find(stop)
    raw, rest = (text, "") if cut < 0 else (text[:cut], text[cut:])
    return (None if raw == NONE_MARK else raw), rest


def _one_line(name: str) -> str:
    return " ".join(name.split()).replace(SEP.strip(), "-") or "?"


def render_entry(entry: Entry) -> str:
    head = (
        f"### {format_timestamp(entry.at)}{SEP}{_one_line(entry.author)}"
        f"{SEP}{entry.kind} ({entry.visibility})"
    )
    text = _escape(entry.text.strip("\n"))
    return f"{head}\n\n{text}\n\n" if text else f"{head}\n\n"


# ---------------------------------------------------------------- writing


def render_new(front: Mapping[str, object], description: str, activity: list[Activity]) -> str:
    """The text of a new ticket file."""
    parts = ["---\n", yaml_text.render_mapping(front), "---\n\n"]
    if description.strip():
        parts.append(_escape(description.strip("\n")) + "\n\n")
    parts.append(f"{ACTIVITY}\n\n")
    parts.extend(render_activity(a) + "\n" for a in activity)
    return "".join(parts)


def apply_change(doc: TicketDoc, change: Change) -> str:
    """The new text of ``doc`` with ``change`` made; everything else byte for byte."""
    editor = yaml_text.FrontMatterEditor(doc.front, FIELD_ORDER)
    for key, value in change.sets.items():
        editor.set(key, value)
    for tag in change.tags_added:
        editor.append("tags", tag)
    for esc in change.escalations:
        editor.append("escalations", esc.as_yaml())
    _check_front(doc, change, editor.text)
    body = doc.body
    nl = "\r\n" if "\r\n" in doc.text else "\n"
    for entry in change.entries:
        body = _append_entry(body, render_entry(entry).replace("\n", nl), nl)
    for item in change.activity:
        body = _append_activity(body, render_activity(item) + nl, nl)
    text = doc.text
    return text[: doc.front_start] + editor.text + text[doc.front_end : doc.body_start] + body


def _check_front(doc: TicketDoc, change: Change, new_front: str) -> None:
    """Refuse to write unless the edited front-matter means exactly what was intended."""
    expected = dict(doc.data)
    for key, value in change.sets.items():
        expected[key] = _plain(value)
    if change.tags_added:
        expected["tags"] = list(expected.get("tags") or []) + list(change.tags_added)
    if change.escalations:
        expected["escalations"] = list(expected.get("escalations") or []) + [
            _plain(e.as_yaml()) for e in change.escalations
        ]
    quick = fast_front.load(new_front)
    try:
        actual = quick.data if quick is not None else yaml_text.load(new_front)
    except yaml_text.YamlError:
        actual = None
    if actual != expected:
        raise ParseError(
            doc.path, 1, "esc could not edit this front-matter safely; nothing was written"
        )


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _section_start(body: str, heading: str) -> int:
    """Index of the line that is exactly ``heading``, or -1."""
    pos = 0
    for raw in body.splitlines(keepends=True):
        if raw.rstrip() == heading:
            return pos
        pos += len(raw)
    return -1


def _join(before: str, block: str, nl: str) -> str:
    if not before:
        return block
    if before.endswith(nl + nl) or before == nl:
        return before + block
    return before + (nl if before.endswith(nl) else nl + nl) + block


def _append_entry(body: str, block: str, nl: str) -> str:
    activity_at = _section_start(body, ACTIVITY)
    head, tail = (body, "") if activity_at < 0 else (body[:activity_at], body[activity_at:])
    if _section_start(head, CONVERSATION) < 0:
        head = _join(head, f"{CONVERSATION}{nl}{nl}", nl)
    return _join(head, block, nl) + tail


def _append_activity(body: str, line: str, nl: str) -> str:
    if _section_start(body, ACTIVITY) < 0:
        body = _join(body, f"{ACTIVITY}{nl}{nl}", nl)
    if body and not body.endswith(nl):
        body += nl
    return body + line
