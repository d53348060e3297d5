"""The grammar of a ticket's body, written once: the description, the ``## Conversation``
section of ``### <at> · <author> · <kind> (<visibility>)`` entries, and the append-only
``## Activity`` section of ``- <at> · <who> · <field>: <old> → <new> · <note>`` lines (or
``- <at> · <who> · <event> · <note>``).  Reading, writing and the merge driver use it.
Pure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Sequence
from typing import cast

from esc.domain.model import ENTRY_KINDS, Activity, Entry, EntryKind, LazyActivity
from esc.domain.timestamps import format_timestamp, timestamp, timestamp_problem
from esc.ticketfile import yaml_text

CONVERSATION = "## Conversation"
ACTIVITY = "## Activity"
SEP = " · "
ARROW = " → "
NONE_MARK = "—"

_KINDS = "|".join(ENTRY_KINDS)
ENTRY_HEAD = re.compile(
    rf"### (?P<at>\S+) · (?P<author>.+?) · (?P<kind>{_KINDS}) \((?P<visibility>public|internal)\)"
    r"[ \t]*"
)
# The kinds with the visibility each has (a head that says the other is a problem: a
# `reply (internal)` a person meant as a secret would be read as the public reply it is)
_KIND_AND_VISIBILITY = "|".join(f"{kind} \\({seen}\\)" for kind, seen in ENTRY_KINDS.items())
# A line that reads as an attempt at an entry head: one esc reads, or one it would not
# read but a person (or a mail client) meant as one: with a `·`, ending in `(public)` or
# `(internal)`, or starting with a date (`### 2026-11-26 10:15 · …`, `### 26.11.2026 …`).
# (Written as Markdown reads a heading too: up to three spaces before it, three to six
# `#`, a tab after them: `###\t2026-…`, ` ### 2026-…` and `#### 2026-…` were dropped
# from the conversation with no finding.)
_DATE_LIKE = r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?!\d)[^\n]*"
# (an ISO time right after the marks, no space: `###2026-11-27T…` was taken for text of
# the entry before, and `-2026-11-27T…` dropped from the log, unsaid; audit helper-404.
# Only `###`, and only a time: an older esc wrote a person's `##1.2.3 release` as it was;
# review helper-405)
_TIME_RIGHT_AFTER = r"\d{4}-\d{2}-\d{2}T[^\n]*"
_HEAD_LIKE = (
    r"[ ]{0,3}(?:#{2,6}[ \t]+(?:[^\n]*·[^\n]*|[^\n]*\((?:public|internal)\)[ \t]*"
    rf"|{_DATE_LIKE})|#{{3,6}}{_TIME_RIGHT_AFTER})"
)
# What esc escapes in text it writes (a person's words never read as its own lines).
# (a heading followed by any whitespace, a no-break space or a line separator included:
# the reader takes it for one, as `heading_of` strips any; and a line git writes to mark
# a merge's conflict, `<<<<<<< HEAD` or `>>>>>>> branch`, which would make the file one
# every command refuses as an unresolved conflict)
_STRUCTURAL = re.compile(
    rf"(?:## (?:Conversation|Activity)\s*|{_HEAD_LIKE}|[<>]{{7}}(?:[ \t][^\n]*)?)"
)
_ESCAPED = re.compile(r"\\+" + _STRUCTURAL.pattern)
# An activity line's start, its time (then who acted, up to the next separator: found with
# str.find, see _cut_log_line), and the start of what follows if it is a field's change.
_LINE_HEAD = re.compile(r"- (\S+) · ")
_FIELD_NAME = re.compile(r"([A-Za-z_][\w.]*): ")


def parse_body(body: str) -> tuple[str, tuple[Entry, ...], Sequence[Activity]]:
    """Split the Markdown body into description, conversation entries and activity.

    Bodies with only ``\n`` line breaks (all that esc writes) are cut at their headings
    with regular expressions; others go line by line.  Both read the same (tested).
    """
    if any(c in body for c in _ODD_BREAKS):
        return _parse_body_by_lines(body)
    cuts = [(m.start(), m.end(), m[1]) for m in _lines_matching(body, "## ", _SECTION)]
    if cuts and _fence_marked(body):  # (a heading in a fenced block is description)
        fenced = description_end(body)
        cuts = [cut for cut in cuts if cut[0] >= fenced]
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
        ActivityText("\n".join(activity), bool(cuts) and cuts[-1][2] == "Activity"),
    )


Parts = tuple[str, tuple[Entry, ...], Sequence[Activity]]  # what parse_body returns


def parse_appended(parts: Parts, body: str, new_body: str) -> Parts | None:
    """``parse_body(new_body)``, from ``parts = parse_body(body)``, when ``new_body`` is
    ``body`` with lines added at its end, in its last section, an activity log (what a
    sweep's edit does); None when it is not, or when the lines added hold a heading or a
    line break other than ``"\n"``: the caller then parses the new body."""
    description, entries, activity = parts
    if not (isinstance(activity, ActivityText) and activity.ends_body):
        return None
    if not new_body.startswith(body):
        return None
    added = new_body[len(body) :]
    if body and not body.endswith("\n") and not added.startswith("\n"):
        return None  # (the first line added would continue the body's last line)
    if any(c in added for c in _ODD_BREAKS) or "\n## " in "\n" + added:
        return None
    if _fence_marked(added):  # (it may close a fence the description opened)
        return None
    # (the log's last part is the body's last section: it goes on with the lines added)
    return description, entries, ActivityText(activity.text + added, True)


# Characters other than "\n" that str.splitlines() also takes for line breaks.
_ODD_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# A section heading and an entry head, each matched from a line's start to its end.
_SECTION = re.compile(r"## (Conversation|Activity)[^\S\n]*$", re.MULTILINE)
_HEADING_LINE = re.compile(r"^## (?:Conversation|Activity)[ \t]*$", re.MULTILINE)
_ENTRY_HEADS = re.compile(f"{ENTRY_HEAD.pattern}$", re.MULTILINE)


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
        kind_of = cast(EntryKind, kind)  # (one of _KINDS, as matched)
        entries.append(Entry(at, author.strip(), kind_of, text))  # (`·  bob`: bob)
    return entries




_SECTION_NAMES = frozenset({"Conversation", "Activity"})
_HEADING = re.compile(r"^## +(\S[^\n]*?)[ \t]*$", re.MULTILINE)


def _misspelt_sections(body: str, present: set[str]) -> list[tuple[int, str]]:
    """(offset, problem) for a heading that reads as a misspelling of a section the body
    lacks (``## Activty``: the whole log was read as the description, and a sweep wrote a
    new log after it)."""
    missing = [name for name in ("Conversation", "Activity") if name not in present]
    headings = body.count("\n## ") + body.startswith("## ")  # (at C speed: most bodies
    if not missing or headings <= len(present):  # have no heading but their sections)
        return []
    from esc.domain.choices import did_you_mean  # (only for a body lacking a section)

    found: list[tuple[int, str]] = []
    for heading in _HEADING.finditer(body):
        if heading[1] in _SECTION_NAMES:  # (a section of its own: most headings here)
            continue
        hint = did_you_mean(heading[1], missing)
        if hint:
            meant = hint.split("'")[1]
            said = f"heading '## {heading[1]}': did you mean '## {meant}'?"
            found.append((heading.start(), said))
    return found


def unreadable_lines(body: str) -> list[tuple[int, str]]:
    """(offset in ``body``, problem) for each conversation entry head and activity line
    esc cannot read: one whose time it cannot read (no offset, Feb 30, hour 25...), or a
    line meant as one that does not have its shape (``### 2026-11-26 10:15 · …``, a kind
    misspelt, ``(public)`` left out; a log line whose parts are not `` · ``-separated).
    Such an entry or line would be skipped, so its ticket does not validate.

    One regex pass per section finds the heads and lines whose time is not plainly valid
    (an ISO-8601 time with a day up to 28 and an offset); only those are parsed.  Another
    finds the lines not in the shape of a head (or log line) but like one."""
    if any(c in body for c in _ODD_BREAKS):  # (every line break counts: keep the offsets)
        body = body.translate(_BREAKS_AS_NL)
    matched = _lines_matching(body, "## ", _SECTION)
    fenced = description_end(body) if matched and _fence_marked(body) else 0
    cuts = [(m.end(), m[1]) for m in matched if m.start() >= fenced]
    found: list[tuple[int, str]] = _misspelt_sections(body, {name for _, name in cuts})
    if (
        ("\n### " in body or body.startswith("### "))
        and all(name != "Conversation" for _, name in cuts)
        and not _fence_marked(body)
    ):
        # (an entry in the description: its section's heading left out, or written as
        # `# Conversation`: read as the description's text, and shown as no entry)
        starts = [m.start() for m in matched]
        lost = _LOST_HEAD.search(body, 0, min(starts, default=len(body)))
        if lost is not None:
            found.append((lost.start(), "a conversation entry in the description: its "
                          f"'{CONVERSATION}' heading is missing or not written so "
                          f"({lost[0].strip()!r})"))  # fmt: skip
    for n, (end, name) in enumerate(cuts):
        stop = _next_section(body, cuts, n)
        if name == "Conversation":
            # (text before its first entry's head is no entry's: never shown; a line like
            # a head is said as one below)
            stray = _STRAY.match(body, end, stop)
            text = stray["text"].strip() if stray is not None else ""
            line = text.splitlines()[0] if text else ""
            if stray is not None and line and not _HEAD_LIKE_LINE.fullmatch(line):
                said = f"text outside any conversation entry: {line!r} (make it an entry, or"
                found.append((stray.start("text"), f"{said} move it to the description)"))
            odd, shaped, what, like, meant = (
                _ODD_HEAD, ENTRY_HEAD, "conversation entry time", _HEAD_LIKE_LINE, _HEAD_SHAPE
            )
        else:
            odd, shaped, what, like, meant = (
                _ODD_ACTIVITY, _ACTIVITY_START, "activity line time", _ACTIVITY_LIKE, _LOG_SHAPE
            )
        # (the pattern starts with the line break before the line, a literal the regex
        # engine searches for fast; the section starts with its heading's line break)
        whole = name == "Conversation"  # (a head is the whole line; a log line runs on)
        for match in odd.finditer(body, end, stop):
            line = match["line"]
            head = shaped.fullmatch(line) if whole else shaped.match(line)
            if head is not None:  # in shape: its time may still not read
                problem = timestamp_problem(head["at"], what)
                if problem is None and whole:
                    problem = _visibility_problem(head["kind"], head["visibility"])
            else:
                problem = f"{meant}: {line.strip()!r}" if like.fullmatch(line) else None
            if problem is not None:
                found.append((match.start() + 1, problem))
    return found


def _visibility_problem(kind: str, written: str) -> str | None:
    """Why a head's visibility is not its kind's (None if it is): esc reads the kind, so a
    `reply (internal)` is a public reply, and a `note (public)` an internal note."""
    has = ENTRY_KINDS.get(cast(EntryKind, kind))
    if has is None or has == written:
        return None
    other = "a note" if written == "internal" else "a reply"
    return (f"a {kind} is {has}, not {written}: write '{kind} ({has})', or make it "
            f"{other} to have it {written}")


def _next_section(body: str, cuts: list[tuple[int, str]], n: int) -> int:
    if n + 1 >= len(cuts):
        return len(body)
    return body.rfind("\n", 0, cuts[n + 1][0]) + 1


_BREAKS_AS_NL = str.maketrans({c: "\n" for c in _ODD_BREAKS})
# A time that is surely valid: checked by regex alone (days up to 28 exist in every month).
_PLAIN_TIME = (  # ([0-9], not \d: `２026` or `+0١:00` is no time esc reads; a year esc
    # takes, 1900-8999: year 0000, which no datetime holds, made the entry vanish unsaid)
    r"(?:19[0-9]{2}|[2-8][0-9]{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])T(?:[01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
# The lines of a section that are not surely fine: each head (or log line) but one in
# shape whose time is plainly valid (an ISO-8601 time in the years 1900-8999 with a day up
# to 28 and an offset).
# Of those, one in shape has its time read; any other is a problem if it is like a head
# (or log line): a Markdown heading in an entry's text (`### Steps`), or a list item in
# the log that looks like nothing of esc's, is not.
# A conversation entry head as esc writes one, anywhere in the body
_LOST_HEAD = re.compile(
    rf"^### [0-9]{{4}}-\S+ · .+? · (?:{_KINDS}) \((?:public|internal)\)[ \t]*$", re.MULTILINE
)


_ODD_HEAD = re.compile(
    rf"\n(?P<line>(?!### {_PLAIN_TIME} · .+? · (?:{_KIND_AND_VISIBILITY})[ \t]*$)"
    r"[ ]{0,3}#{2,6}[ \t\d][^\n]*)",
    re.MULTILINE,
)
# (a list item as Markdown writes one: `* …`, `+ …`, ` - …`, which esc does not read)
_ODD_ACTIVITY = re.compile(rf"\n(?P<line>(?!- {_PLAIN_TIME} · .+? · )[ ]{{0,3}}[-*+][ \t\d][^\n]*)")
_ACTIVITY_START = re.compile(r"- (?P<at>\S+) · .+? · ")
_HEAD_LIKE_LINE = re.compile(_HEAD_LIKE)
# What a conversation holds before its first entry's head (nothing, as esc writes it)
_STRAY = re.compile(r"\n*(?P<text>(?:(?![ ]{0,3}#{3,6}[ \t])[^\n]*\n?)*)")
_ACTIVITY_LIKE = re.compile(  # (`-2026-11-27T…`, with no space, was dropped unsaid)
    rf"[ ]{{0,3}}(?:[-*+][ \t]+(?:[^\n]*·[^\n]*|{_DATE_LIKE})|[-*+]{_TIME_RIGHT_AFTER})"
)
_HEAD_SHAPE = "not a conversation entry head esc can read (### TIME · AUTHOR · KIND (public))"
_LOG_SHAPE = "not an activity line esc can read (- TIME · WHO · WHAT)"


def _parse_body_by_lines(body: str) -> tuple[str, tuple[Entry, ...], tuple[Activity, ...]]:
    """parse_body for any text: line by line, with every line break Python knows."""
    description: list[str] = []
    entries: list[Entry] = []
    activity: list[Activity] = []
    section = "description"
    current: tuple[re.Match[str], list[str]] | None = None
    crlf = "\r\n" in body and body.count("\r\n") == body.count("\n")  # (every break)
    fenced, pos = description_end(body), 0  # (a heading before ``fenced``: description)

    def flush() -> None:
        if current is not None:
            head, lines = current
            at = timestamp(head["at"])
            if at is not None:
                text = _lf(_unescape("".join(lines)), crlf).strip("\n")
                kind = cast(EntryKind, head["kind"])  # (one of _KINDS, as matched)
                # (`·  bob`, a hand-written second space: bob, not another person " bob")
                entries.append(Entry(at, head["author"].strip(), kind, text))

    for raw in body.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        heading = heading_of(line) if pos >= fenced else None
        pos += len(raw)
        if heading is not None:
            flush()
            current, section = None, "conversation" if heading == CONVERSATION else "activity"
            continue
        if section == "conversation":
            head = ENTRY_HEAD.fullmatch(line)
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
    text = _lf(_unescape("".join(description)), crlf).strip("\n")
    return text, tuple(entries), tuple(activity)


def _lf(text: str, crlf: bool) -> str:
    """``text`` with its CRLF line breaks as LF if the file was saved with CRLF breaks
    (an editor on Windows): the text the user wrote.  In a file of LF breaks, a CR before
    one is the text's own (a comment that ended in one), kept."""
    return text.replace("\r\n", "\n") if crlf else text


def escape(text: str) -> str:
    """User text as a ticket holds it: its line breaks as ``\n`` (the writer gives them the
    file's own style: a Windows ``\r\n`` or a lone ``\r`` pasted into a reply made the
    file's breaks mixed), kept from being read as esc's own headings."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
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
        or not value.isprintable()  # (a control or separator other than the space: C*, Z*)
    ):
        return yaml_text.quote(value)
    return value


def render_activity(item: Activity) -> str:
    """One activity line (without the newline)."""
    return f"- {format_timestamp(item.at)}{SEP}{_one_line(item.by)}{SEP}{activity_what(item)}"


def activity_what(item: Activity) -> str:
    """What an activity line says happened (after its time and who): the field's change or
    the event, then the note, as the line writes them."""
    if item.field is not None:
        what = f"{item.field}: {_activity_value(item.old)}{ARROW}{_activity_value(item.new)}"
    else:
        what = item.event or "changed"
    note = " ".join(item.note.split())
    return what + (f"{SEP}{note}" if note else "")


def parse_activity_line(line: str) -> Activity | None:
    """One activity line (None if it is not one): ``- <at> · <who> · <rest>``, each part on
    the one line (any line break in it: none), the time a run of non-blanks, who acted up
    to the first separator after it, then a field's change (``field: old → new`` and an
    optional `` · note``) or else an event and its note.  Cut with ``str.find`` after one
    short match: a regex of the whole line cost ~10% more (tested to read alike)."""
    line = line.rstrip()
    cut = _cut_log_line(line)
    if cut is None:
        return None
    written, start, end = cut
    at = timestamp(written)
    if at is None:
        return None
    by, rest = line[start:end].strip(), line[end + len(SEP) :]
    field = _FIELD_NAME.match(rest)
    if field is not None:
        old, after = _take_value(rest[field.end() :], ARROW)
        if after.startswith(ARROW):
            new, after = _take_value(after[len(ARROW) :], SEP)
            note = after[len(SEP) :] if after.startswith(SEP) else ""
            return Activity(at, by, field[1], old, new, None, note)
    event, _, note = rest.partition(SEP)
    return Activity(at, by, event=event, note=note)



def _cut_log_line(line: str) -> tuple[str, int, int] | None:
    """The time as written, and where who acted starts and ends, of a line in the shape of
    an activity line (``- <time> · <who> · …``, no line break in it); None for any other."""
    head = _LINE_HEAD.match(line)
    if head is None or "\n" in line:
        return None
    start = head.end()
    end = line.find(SEP, start + 1)  # (who acted: at least one character, up to a ` · `)
    return None if end < 0 else (head[1], start, end)


def activity_time(line: str) -> dt.datetime | None:
    """The time of an activity line (None if it is no activity line)."""
    at = _time_of(line)
    return at if at is not None and parse_activity_line(line) is not None else None


def _time_of(line: str) -> dt.datetime | None:
    """The time at the start of what may be an activity line, read without the rest (of a
    line that is one, the time :func:`parse_activity_line` reads)."""
    head = _LINE_HEAD.match(line)
    return None if head is None else timestamp(head[1])


def entry_time(block: str) -> dt.datetime | None:
    """The time of a conversation entry (its head line first), or None."""
    match = ENTRY_HEAD.match(block)
    return timestamp(match["at"]) if match else None


# A fenced code block's opening line (Markdown's: up to three spaces, then three or more
# backticks with no backtick after them, or tildes), and what a body must hold to have one.
_FENCE_OPEN = re.compile(r"[ ]{0,3}(`{3,}(?=[^`]*$)|~{3,})")


def _fence_marked(text: str, end: int | None = None) -> bool:
    """Whether ``text`` (up to ``end``) holds what a fence needs, three backticks or tildes
    (two searches for a string at C speed: a regex of the two scans ~4 µs a ticket)."""
    return text.find("```", 0, end) >= 0 or text.find("~~~", 0, end) >= 0


def description_end(body: str) -> int:
    """Where the last fenced code block of a hand-written description ends (0 if it has
    none): a line in one, ``## Activity`` pasted from a Markdown file say, is description
    text, not the heading of a section (which esc's appends would then go under).

    A block counts only if it is closed before any of esc's own lines (a conversation
    entry head, an activity line): a fence left open is not one.  (esc escapes a heading
    in the text it writes, fenced or not: this is for files written by hand.)"""
    heading = _HEADING_LINE.search(body)  # (a line that heads a section, at the latest the
    # first one: no fence opens past it; the conversation and log are not looked through)
    if not _fence_marked(body, len(body) if heading is None else heading.start()):
        return 0
    lines = body.splitlines(keepends=True)
    end = pos = i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r\n" + _ODD_BREAKS)
        if heading_of(line) is not None:
            break
        opening = _FENCE_OPEN.match(line)
        closed = None if opening is None else _fence_close(lines, i + 1, opening[1])
        if closed is None:
            pos += len(lines[i])
            i += 1
            continue
        pos += sum(len(raw) for raw in lines[i : closed + 1])
        end, i = pos, closed + 1
    return end


def _fence_close(lines: list[str], first: int, mark: str) -> int | None:
    """The index of the line that closes a fence opened with ``mark``, from ``first`` on;
    None if none does before one of esc's own lines."""
    closing = re.compile(rf"[ ]{{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*")
    for j in range(first, len(lines)):
        line = lines[j].rstrip("\r\n" + _ODD_BREAKS)
        if closing.fullmatch(line):
            return j
        if ENTRY_HEAD.fullmatch(line) or _cut_log_line(line) is not None:
            return None
    return None


def heading_of(line: str) -> str | None:
    """The section a line heads (CONVERSATION or ACTIVITY), or None."""
    heading = line.rstrip()
    return heading if heading in (CONVERSATION, ACTIVITY) else None


class ActivityText(LazyActivity):
    """The activity section's lines, parsed when first needed."""

    __slots__ = ("_fields", "_items", "_text", "ends_body")

    def __init__(self, text: str, ends_body: bool = False) -> None:
        self._text = text  # the log's lines; blank ones are skipped
        self._items: tuple[Activity, ...] | None = None
        self._fields = None  # of_field's answers
        self.ends_body = ends_body  # its last section is the last of the body it is from

    @property
    def text(self) -> str:
        """The lines of the log's sections, as the file has them (joined by line breaks)."""
        return self._text

    def _all(self) -> tuple[Activity, ...]:
        if self._items is None:
            lines = (line for line in self._text.split("\n") if line)
            self._items = tuple(a for a in map(parse_activity_line, lines) if a is not None)
        return self._items

    def times_between(self, lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
        if self._items is not None:
            return [a.at for a in self._items if lo < a.at < hi]
        found = []
        for line in self._text.split("\n"):
            at = _time_of(line)
            if at is not None and lo < at < hi and parse_activity_line(line) is not None:
                found.append(at)
        return found

    def _changes_of(self, name: str) -> tuple[Activity, ...]:
        if self._items is not None:
            return tuple(a for a in self._items if a.field == name)
        marker = f"{SEP}{name}: "  # every line that is a change of ``name`` holds this
        text = self._text
        found = text.find(marker)
        lines = []  # (each line holding it, found with str.find: most lines do not)
        while found >= 0:
            end = text.find("\n", found)
            end = len(text) if end < 0 else end
            lines.append(text[text.rfind("\n", 0, found) + 1 : end])
            found = text.find(marker, end)
        return tuple(
            a for a in map(parse_activity_line, lines) if a is not None and a.field == name
        )


_JSON = json.JSONDecoder()  # (a quoted value in a log line is a JSON string)


def _take_value(text: str, stop: str) -> tuple[str | None, str]:
    text = text.lstrip(" \t")  # (a hand edit's spaces: esc writes none, see the end)
    if text.startswith('"'):
        try:
            value, end = _JSON.raw_decode(text)
            return str(value), text[end:]
        except ValueError:
            pass
    cut = text.find(stop)
    raw, rest = (text, "") if cut < 0 else (text[:cut], text[cut:])
    # (esc quotes a value with spaces around it: unquoted, they are a hand edit's, `→  pending`)
    raw = raw.strip(" \t")
    return (None if raw == NONE_MARK else raw), rest


def _one_line(name: str) -> str:
    """A name as a log line or an entry's heading holds it: on one line, and never holding
    the separator ` · ` (written ` - `); a `·` within a word stays (Catalan's `Marcel·lí`
    was written `Marcel-lí`, and then told of what they did themselves)."""
    text = f" {' '.join(name.split())} "
    while SEP in text:  # (`a · · b`: a replace leaves a separator where two overlapped)
        text = text.replace(SEP, " - ")
    return text.strip() or "?"


def render_entry(entry: Entry) -> str:
    head = (
        f"### {format_timestamp(entry.at)}{SEP}{_one_line(entry.author)}"
        f"{SEP}{entry.kind} ({entry.visibility})"
    )
    text = escape(entry.text).strip("\n")  # (its line breaks made `\n` first: see escape)
    return f"{head}\n\n{text}\n\n" if text else f"{head}\n\n"



# ---------------------------------------------------------------- appending


def _section_start(body: str, heading: str) -> int:
    """Index of the line that is exactly ``heading`` (not in a fenced block of the
    description: :func:`description_end`), or -1."""
    fenced = description_end(body)
    if not any(c in body for c in _ODD_BREAKS):  # (only "\n" ends a line: found by find)
        start = 0
        if not body.startswith(heading) or fenced:
            start = body.find("\n" + heading, max(fenced - 1, 0)) + 1
            if not start:
                return -1
        while True:  # (each line that starts with the heading, up to one that is just it)
            end = body.find("\n", start)
            if heading_of(body[start:] if end < 0 else body[start:end]) == heading:
                return start
            start = body.find("\n" + heading, start) + 1
            if not start:
                return -1
    pos = 0
    for raw in body.splitlines(keepends=True):
        if pos >= fenced and heading_of(raw) == heading:
            return pos
        pos += len(raw)
    return -1


def _join(before: str, block: str, nl: str) -> str:
    if not before:
        return block
    if before.endswith(nl + nl) or before == nl:
        return before + block
    return before + (nl if before.endswith(nl) else nl + nl) + block


def _section_end(body: str, start: int) -> int:
    """Where the section whose heading line starts at ``start`` ends: at the next line that
    heads a section, or at the end of the body."""
    if not any(c in body for c in _ODD_BREAKS):  # (only "\n" ends a line: each line that
        # starts as a heading found by find, not every line of the section looked at; a
        # replay that adds a hundred notes asked this of a long conversation each time)
        pos = body.find("\n", start)
        while pos >= 0:
            pos = body.find("\n## ", pos)
            if pos < 0:
                break
            end = body.find("\n", pos + 1)
            if heading_of(body[pos + 1 :] if end < 0 else body[pos + 1 : end]) is not None:
                return pos + 1
            pos += 1
        return len(body)
    pos = start
    for n, raw in enumerate(body[start:].splitlines(keepends=True)):
        if n and heading_of(raw) is not None:
            return pos
        pos += len(raw)
    return len(body)


def append_entry(body: str, block: str, nl: str) -> str:
    """``body`` with the entry ``block`` at the end of its conversation (made before the
    activity log if there is none), wherever the sections stand in a hand-written file."""
    conversation_at = _section_start(body, CONVERSATION)
    if conversation_at >= 0:
        end = _section_end(body, conversation_at)
        return _join(body[:end], block, nl) + body[end:]
    activity_at = _section_start(body, ACTIVITY)
    head, tail = (body, "") if activity_at < 0 else (body[:activity_at], body[activity_at:])
    head = _join(head, f"{CONVERSATION}{nl}{nl}", nl)
    return _join(head, block, nl) + tail


def append_activity(body: str, line: str, nl: str) -> str:
    """``body`` with the activity ``line`` (lines, each ending in ``nl``) at the end of its
    activity log (made at the end if there is none), even when a conversation follows it
    in a hand-written file."""
    prepared, at = _log_end(body, nl)
    return prepared[:at] + line + prepared[at:]


def _log_end(body: str, nl: str) -> tuple[str, int]:
    """``body`` made ready for lines at the end of its activity log (the log made, or a
    line break added, if needed), and where they go in it."""
    activity_at = _section_start(body, ACTIVITY)
    if activity_at < 0:
        body = _join(body, f"{ACTIVITY}{nl}{nl}", nl)
    else:
        end = _section_end(body, activity_at)
        if end < len(body):  # (a section follows: the lines go before its blank lines)
            head = body[:end]
            kept = head.rstrip("\r\n")
            gap = head[len(kept) :]
            gap = gap[len(nl) :] if gap.startswith(nl) else gap
            if heading_of(kept[kept.rfind("\n") + 1 :]) is not None:  # (a log of no lines)
                kept += nl
            return kept + nl + gap + body[end:], len(kept) + len(nl)
    if body and not body.endswith(nl):
        body += nl
    return body, len(body)


def add_activity(body: str, lines: Sequence[tuple[dt.datetime, str]], nl: str) -> str:
    """``body`` with the activity ``lines`` (each its time and its text, ending in ``nl``)
    in its log, in time order: each at the log's end, or before the last lines there whose
    time is later (never past any other line).  A sweep that replays the moments a person's
    later change came after writes its lines where sweeps at each moment would have, so the
    file is the same whenever sweeps ran; usually every line goes at the end."""
    text, tail = _log_end(body, nl)
    if lines and all(a[0] <= b[0] for a, b in itertools.pairwise(lines)):  # (in order, as a
        first = lines[0][1]  # sweep's are: all at the end if the first is not earlier)
        start = text.rfind("\n", 0, tail - 1) + 1 if tail else 0
        stamp = first[: first.find(SEP, 2)]
        before = None if _not_later(text[start : start + len(stamp) + 1], stamp) else (
            activity_time(text[start:tail].rstrip("\r\n")))  # fmt: skip
        if before is None or before <= lines[0][0]:
            return text[:tail] + "".join(line for _, line in lines) + text[tail:]
    for at, line in lines:
        where = tail
        stamp = line[: line.find(SEP, 2)]  # ("- <time>": one written in the same offset is
        while where > 0:  # compared as text, as most are: no time read)
            start = text.rfind("\n", 0, where - 1) + 1
            if _not_later(text[start : start + len(stamp) + 1], stamp):
                break
            before = activity_time(text[start:where].rstrip("\r\n"))  # (a log line's alone)
            if before is None or before <= at:
                break
            where = start
        text = text[:where] + line + text[where:]
        tail += len(line)
    return text


def _not_later(head: str, stamp: str) -> bool:
    """Whether the line that starts with ``head`` (``stamp``'s length and one more) is a log
    line no later than ``stamp`` ("- <time>"), told from the text alone: both times written
    alike (the same length and offset, as ISO 8601 in one offset sorts as text); False when
    that cannot tell (read its time then)."""
    return (
        len(stamp) > 13
        and head[-1:] == " "
        and head[:2] == "- "
        and head[12:13] == stamp[12:13] == "T"  # (ISO 8601's own separator, both)
        and head[-7:-1] == stamp[-6:]
        and head[:-1] <= stamp
    )


def add_entry(body: str, at: dt.datetime, block: str, nl: str) -> str:
    """``body`` with the conversation entry ``block`` (written at ``at``) in time order:
    before the last entries of its conversation whose time is later (usually none: at its
    end, :func:`append_entry`)."""
    conversation_at = _section_start(body, CONVERSATION)
    if conversation_at < 0:
        return append_entry(body, block, nl)
    where = None
    end = _section_end(body, conversation_at)
    found = body.rfind("\n### ", conversation_at, end)  # (each entry's head, from the last)
    while found >= 0:
        stop = body.find("\n", found + 1)
        head = ENTRY_HEAD.fullmatch(body[found + 1 : end if stop < 0 else stop].rstrip("\r"))
        if head is not None:
            written = timestamp(head["at"])
            if written is None or written <= at:
                break
            where = found + 1
        found = body.rfind("\n### ", conversation_at, found)
    if where is None:  # (at the end, as append_entry puts it)
        return _join(body[:end], block, nl) + body[end:]
    return body[:where] + block + body[where:]
