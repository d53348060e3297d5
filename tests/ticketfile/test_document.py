"""The ticket file format: parsing, byte-for-byte round trips, and escaping."""
from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import frontmatter
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc.domain.errors import ParseError
from esc.domain.model import Activity, Change, Entry, Escalation, Request
from esc.ticketfile import document

HERE = Path(__file__).resolve().parents[1]
HANDWRITTEN = (HERE / "data" / "handwritten.md").read_text(encoding="utf-8")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines removed from ``before`` and lines added in ``after``."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def test_parse_handwritten_ticket() -> None:
    doc = document.parse(HANDWRITTEN, "tickets/T-abcd1234.md")
    t = doc.ticket
    assert t.id == "T-abcd1234"
    assert t.title == "Login loop on Safari"
    assert t.tags == ("safari", "login")
    assert t.first_response_at is None and t.resolved_at is None
    assert t.created == dt.datetime(2026, 11, 2, 8, tzinfo=dt.timezone.utc)
    assert t.extra == {"x-legacy-id": 4711, "x-notes": "multi-line\nnote, indented oddly\n"}
    assert t.description.startswith("Description with trailing spaces   \nand odd")
    assert [(e.author, e.kind, e.text) for e in t.entries] == [
        ("Jane Doe", "message", "hello, I keep getting logged out")
    ]
    assert doc.key_lines["status"] == 5
    assert doc.problems == []


def test_a_change_rewrites_only_what_it_changes() -> None:
    doc = document.parse(HANDWRITTEN, "tickets/T-abcd1234.md")
    change = Change(
        sets={"assignee": "alice", "updated": NOW},
        activity=(Activity(NOW, "carol", field="assignee", old="bob", new="alice"),),
    )
    after = document.apply_change(doc, change)
    removed, added = changed_lines(HANDWRITTEN, after)
    assert removed == ["assignee: bob", "updated: 2026-11-02T08:00:00Z"]
    assert added == [
        "assignee: alice",
        "updated: 2026-11-20T10:00:00+01:00",
        "",
        "## Activity",
        "",
        "- 2026-11-20T10:00:00+01:00 · carol · assignee: bob → alice",
    ]
    # everything else, comments and odd spacing included, is byte for byte the same
    assert after.startswith(HANDWRITTEN.split("assignee: bob")[0])
    assert after.split("assignee: alice")[1].split("updated:")[0] == HANDWRITTEN.split(
        "assignee: bob"
    )[1].split("updated:")[0]


def test_many_changes_keep_comments_unknown_fields_and_body() -> None:
    doc = document.parse(HANDWRITTEN, "tickets/T-abcd1234.md")
    esc = Escalation(NOW, "functional", "support", "engineering", "bob", "needs a developer")
    change = Change(
        sets={"team": "engineering", "assignee": None, "first_response_at": NOW, "csat": 4},
        escalations=(esc,),
        tags_added=("regression",),
        entries=(Entry(NOW, "bob", "note", "Looks like the cookie fix"),),
    )
    after = document.apply_change(doc, change)
    removed, added = changed_lines(HANDWRITTEN, after)
    assert sorted(removed) == sorted(
        [
            "team: support",
            "assignee: bob",
            "first_response_at: ~",
            "tags: [safari,  login]",
            "csat:",
            "escalations: []",
        ]
    )
    assert "tags: [safari,  login, regression]" in added
    assert "csat: 4" in added
    assert "escalations:" in added
    assert (
        "  - {at: 2026-11-20T10:00:00+01:00, kind: functional, from: support, "
        "to: engineering, by: bob, reason: needs a developer}"
    ) in added
    for line in HANDWRITTEN.splitlines():
        if line not in removed:
            assert line in after.splitlines()
    reread = document.parse(after, "t.md").ticket
    assert reread.escalations == (esc,)
    assert reread.extra["x-legacy-id"] == 4711
    assert reread.entries[-1].text == "Looks like the cookie fix"


def test_unchanged_parse_and_empty_change_is_identity() -> None:
    doc = document.parse(HANDWRITTEN, "t.md")
    assert document.apply_change(doc, Change()) == HANDWRITTEN


def test_crlf_file_keeps_crlf() -> None:
    crlf = HANDWRITTEN.replace("\n", "\r\n")
    doc = document.parse(crlf, "t.md")
    after = document.apply_change(
        doc, Change(sets={"status": "pending"}, entries=(Entry(NOW, "bob", "reply", "hi"),))
    )
    assert "\n" not in after.replace("\r\n", "")
    assert document.parse(after, "t.md").ticket.status == "pending"


def test_text_ending_in_windows_line_breaks_adds_no_blank_line() -> None:
    doc = document.parse(HANDWRITTEN, "t.md")
    windows = Entry(NOW, "bob", "reply", "a\r\nb\r\n\r\n")
    after = document.apply_change(doc, Change(entries=(windows,)))
    plain = document.apply_change(doc, Change(entries=(Entry(NOW, "bob", "reply", "a\nb"),)))
    assert after == plain
    new = document.render_new({"id": "T-1"}, "hello\r\nworld\r\n\r\n", [])
    assert new == document.render_new({"id": "T-1"}, "hello\nworld", [])


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
@pytest.mark.parametrize("text", ["win1\r\nwin2\r\n", "old\rmac\r", "mixed\r\nbreaks\nhere"])
def test_user_text_s_line_breaks_take_the_file_s_style(nl: str, text: str) -> None:
    """Windows text in an LF ticket made it CRLF from then on, with stray `\r` lines; in
    a CRLF ticket it wrote `\r\r\n`. The file keeps its style, the text reads back with
    `\n` breaks; a CRLF pasted into one line of an LF file does not switch it."""
    original = HANDWRITTEN.replace("\n", nl)
    if nl == "\n":  # (one line of a hand edit pasted from Windows)
        original = original.replace("\n## Activity", "\r\n## Activity", 1)
    doc = document.parse(original, "t.md")
    after = document.apply_change(doc, Change(entries=(Entry(NOW, "bob", "reply", text),)))
    added = after[len(original.rsplit(nl + "## Activity", 1)[0]) :]
    assert added.replace(nl, "").count("\r") == 0 and added.replace(nl, "").count("\n") == 0
    read = document.parse(after, "t.md").ticket.entries[-1].text
    assert read == text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
@pytest.mark.parametrize("closing", ["---", "---  ", "..."])
def test_a_file_that_ends_at_its_closing_line_gets_a_line_break_before_what_is_added(
    nl: str, closing: str
) -> None:
    """A valid ticket whose last line is the closing `---` with no line break: what a
    command appends starts on a line of its own (it once joined the `---` line, and the
    file no longer parsed)."""
    front = nl.join(["---", "id: T-nonl0001", "title: t", "status: new", "priority: normal",
                     "team: support", "created: 2026-11-30T09:00:00+01:00",
                     "updated: 2026-11-30T09:00:00+01:00", closing])  # fmt: skip
    doc = document.parse(front, "t.md")
    entry = Entry(NOW, "bob", "reply", "hi")
    log = (Activity(NOW, "bob", field="status", old="new", new="open"),)
    change = Change(sets={"status": "open"}, entries=(entry,), activity=log)
    after = document.apply_change(doc, change)
    assert after.startswith(front.replace("status: new", "status: open") + nl + "## ")
    parsed = document.parse(after, "t.md")
    assert (parsed.problems, parsed.ticket.entries, tuple(parsed.ticket.activity)) == (
        [], (entry,), log
    )
    assert document.changed(doc, change).text == after
    # a change to the front-matter alone adds nothing after it
    assert document.apply_change(doc, Change(sets={"status": "open"})).endswith(closing)


def test_a_crlf_file_reads_as_the_lf_file_reads() -> None:
    """Saved by an editor on Windows: the description and the entries are the text the
    user wrote, with LF breaks (`show --json` gave "\\r\\nLine one\\r\\n\\r")."""
    lf = document.apply_change(
        document.parse(HANDWRITTEN, "t.md"),
        Change(entries=(Entry(NOW, "bob", "reply", "Two lines,\nand this one."),)),
    )
    crlf = document.parse(lf.replace("\n", "\r\n"), "t.md").ticket
    plain = document.parse(lf, "t.md").ticket
    assert crlf.description == plain.description and "\r" not in crlf.description
    assert crlf.entries == plain.entries
    assert crlf.entries[-1].text == "Two lines,\nand this one."


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("no front matter\n", 1, "no front-matter"),
        ("---\nid: T-1\n", 1, "not closed"),
        ("---\nid: T-1\ntitle: [unclosed\n---\n", 3, "never closed"),
        ("---\nid: T-1\n  bad: indent\n---\n", 3, "does not parse"),
        ("---\n- a list\n---\n", 2, "must be a mapping"),
        ("---\nid: T-1\ncreated: 2025-02-30T09:00:00Z\n---\n", 3, "2025-02-30T09:00:00Z is not"),
        ("---\nid: T-1\nx:\n  - {at: 2025-13-01}\n---\n", 4, "2025-13-01 is not a valid"),
        # (a tag whose value it cannot be: an internal error of every command before)
        ("---\nid: T-1\nx: !!bool maybe\n---\n", 3, "maybe is not a valid bool"),
        ("---\nid: T-1\nx: !<tag:yaml.org,2002:bool> no pe\n---\n", 3, "no pe is not a valid"),
        ('---\nid: T-1\nx: !!int ""\n---\n', 3, '"" is not a valid int'),
        ('---\nid: T-1\nx: [1, !!float ""]\n---\n', 3, '"" is not a valid float'),
    ],
)
def test_broken_files_report_path_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ParseError) as info:
        document.parse(text, "tickets/T-x.md")
    assert info.value.path == "tickets/T-x.md"
    assert info.value.line == line
    assert message in info.value.message
    assert str(info.value).startswith(f"tickets/T-x.md:{line}: ")


@pytest.mark.parametrize(
    "text",
    [
        "## Activity",
        "## Conversation",
        "### 2026-11-02T08:00:00Z · mallory · reply (public)",
        "\\## Activity",
        "line one\n## Activity\n- 2026-11-02T08:00:00Z · x · status: open → closed\nend",
    ],
)
def test_user_text_that_looks_like_structure_round_trips(text: str) -> None:
    doc = document.parse(HANDWRITTEN, "t.md")
    after = document.apply_change(doc, Change(entries=(Entry(NOW, "bob", "note", text),)))
    ticket = document.parse(after, "t.md").ticket
    assert ticket.entries[-1].text == text
    assert ticket.activity == ()
    assert ticket.status == "open"


def test_new_ticket_file_is_standard_front_matter() -> None:
    """Other tools (static site generators, python-frontmatter) read esc's files."""
    front = {
        "id": "T-0000abcd",
        "title": "Yes: a title with a colon",
        "status": "new",
        "tags": ["no", "vip"],
        "created": NOW,
        "escalations": [],
    }
    text = document.render_new(front, "Body *text*", [Activity(NOW, "bob", event="created")])
    post = frontmatter.loads(text)
    assert post["title"] == "Yes: a title with a colon"
    assert post["tags"] == ["no", "vip"]
    assert post["created"] == NOW
    assert post.content.startswith("Body *text*")


@settings(max_examples=70, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",))).map(lambda s: s.strip("\n")))
def test_any_entry_text_round_trips(text: str) -> None:
    doc = document.parse(HANDWRITTEN, "t.md")
    change = Change(
        entries=(Entry(NOW, "bob", "note", text),),
        activity=(Activity(NOW, "bob", field="status", old=text, new="x"),),
    )
    after = document.apply_change(doc, change)
    ticket = document.parse(after, "t.md").ticket
    # (an entry's line breaks are written as the file's: `\r\n` and a lone `\r` as `\n`)
    written = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if written.strip():
        assert ticket.entries[-1].text == written
    assert ticket.activity[-1].old == text


def _split_line_by_line(text: str) -> tuple[int, int, int] | None:
    """What split() must find, the slow way: the first line after the first that is
    ``---`` or ``...`` once trailing whitespace is stripped."""
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].rstrip("\r").strip() != "---":
        return None
    pos = first_nl + 1
    while pos < len(text):
        nl = text.find("\n", pos)
        line_end = len(text) if nl < 0 else nl + 1
        if text[pos:line_end].rstrip("\r\n").rstrip() in ("---", "..."):
            return first_nl + 1, pos, line_end
        pos = line_end
    return None


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["---", "...", "--- ", "---\r", "...\u3000", " ---", "----", "a: b"]),
            st.text(max_size=5),
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_split_finds_the_closing_line(lines: list[str], end: bool) -> None:
    text = "---\n" + "\n".join(lines) + ("\n" if end else "")
    expected = _split_line_by_line(text)
    if expected is None:
        with pytest.raises(ParseError):
            document.split(text, "t.md")
    else:
        assert document.split(text, "t.md") == expected


# ---------------------------------------------------------------- refusals, mutation-checked

# Characters that make YAML, timestamps and lists mean something else: each edit replaces
# or inserts one, anywhere in a good hand-written ticket.
HOSTILE_CHARS = st.sampled_from(
    [*" :-#,[]{}\"'\\\n\t?&*!|>%@`~=<0123456789aZé\r\x00\ufeff\u2028", "9999", "0001"]
)


def _values(value: object) -> list[object]:
    if isinstance(value, dict):
        return [v for item in value.items() for part in item for v in _values(part)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [value]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), HOSTILE_CHARS, st.booleans()), max_size=4))
def test_a_mutated_ticket_is_refused_or_safe_to_use(edits: list[tuple[int, str, bool]]) -> None:
    """Whatever is done to a ticket file, reading it either refuses it with a ParseError
    (``path:line: message``) or gives a ticket every command can compute with and write:
    times in range, tags words, keys text, and an edit that is made or refused cleanly."""
    from esc.ticketfile.problems import require_valid

    text = HANDWRITTEN
    for position, char, replace in edits:
        at = position % (len(text) + 1)
        text = text[:at] + char + text[at + (1 if replace else 0) :]
    try:
        doc = require_valid(document.parse(text, "tickets/T-abcd1234.md"), None)
    except ParseError as exc:
        assert str(exc).startswith("tickets/T-abcd1234.md:")
        assert "\n" not in str(exc)
        return
    t = doc.ticket
    moments = [t.created, t.updated, t.first_response_at, t.resolved_at, t.closed_at]
    moments += [e.at for e in t.escalations] + [e.at for e in t.entries]
    moments += [a.at for a in t.activity]
    moments += [v for v in _values(doc.data) if isinstance(v, dt.date)]
    for moment in moments:
        if isinstance(moment, dt.datetime):
            moment.astimezone(dt.timezone.utc)
            assert 1900 <= moment.year <= 8999
    assert all(isinstance(tag, str) and "," not in tag for tag in t.tags)
    assert all(isinstance(key, str) for key in doc.data)
    assert not any(isinstance(v, (bytes, set)) for v in _values(doc.data))
    note = Change(
        sets={"updated": NOW},
        entries=(Entry(NOW, "alice", "note", "checked"),),
        tags_added=("mutated",),
    )
    try:
        after = document.apply_change(doc, note)
    except ParseError:
        return  # refused: esc could not edit this front-matter safely
    again = document.parse(after, doc.path)
    assert again.ticket.updated == NOW
    assert "mutated" in again.ticket.tags


@pytest.mark.parametrize(
    ("front", "line", "message"),
    [
        ("a: &a [x, x]\nb: [*a, *a, *a]\n", 2, None),  # a few aliases are fine
        ("a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n", 3, "too many aliases"),
        ("a: &a [x]\nb: &b [*a, *a]\nc: [*b]\n", 2, None),
        ("a: " + "[" * 101 + "]" * 101 + "\n", 2, "nested too deeply"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", 2, "nested too deeply"),
        ("a: " + "x" * 1_000_001 + "\n", 2, "too large"),
    ],
)
def test_the_yaml_budget(front: str, line: int, message: str | None) -> None:
    text = "---\n" + front + "---\n"
    if message is None:
        document.parse(text, "t.md")
        return
    with pytest.raises(ParseError) as caught:
        document.parse(text, "t.md")
    assert message in caught.value.message
    assert caught.value.line >= line - 1


def test_an_alias_bomb_is_counted_without_expanding_it() -> None:
    import time

    rows = ['l0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"l{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    start = time.monotonic()
    with pytest.raises(ParseError) as caught:
        document.parse("---\n" + "\n".join(rows) + "\n---\n", "t.md")
    assert time.monotonic() - start < 2
    assert "alias" in caught.value.message


def test_a_conflict_is_reported_as_one_at_its_first_marker() -> None:
    text = HANDWRITTEN.replace(
        "priority: normal\n",
        "<<<<<<< ours\npriority: normal\n=======\npriority: low\n>>>>>>> theirs\n",
    )
    assert text != HANDWRITTEN
    with pytest.raises(ParseError) as caught:
        document.parse(text, "t.md")
    assert caught.value.line == text.splitlines().index("<<<<<<< ours") + 1
    assert caught.value.message.startswith("unresolved merge conflict")
    # a setext heading in a description is no conflict
    heading = HANDWRITTEN.replace("\n## Conversation", "\nHeading\n=======\n\n## Conversation")
    assert document.parse(heading, "t.md").ticket.description.endswith("Heading\n=======")


def test_a_new_request_is_appended_and_an_answer_rewrites_only_its_own_line() -> None:
    asked = Request(NOW, "carol", "engineering", "dan", "open")
    doc = document.parse(HANDWRITTEN, "tickets/T-abcd1234.md")
    first = document.apply_change(doc, Change(requests=(asked,)))
    removed, added = changed_lines(HANDWRITTEN, first)
    assert removed == []
    assert added == [
        "requests:",
        "  - {asked: 2026-11-20T10:00:00+01:00, by: carol, team: engineering, person: dan,"
        " state: open}",
    ]
    other = Request(NOW, "carol", "management", None, "open")
    second = document.apply_change(document.parse(first, "t.md"), Change(requests=(other,)))
    answered = Request(NOW, "carol", "engineering", "dan", "answered", NOW, "dan")
    third = document.apply_change(document.parse(second, "t.md"), Change(requests=(answered,)))
    removed, added = changed_lines(second, third)
    assert [line.split(", state")[1] for line in (*removed, *added)] == [
        ": open}",
        ": answered, closed: 2026-11-20T10:00:00+01:00, closed_by: dan}",
    ]
    assert [(r.team, r.state) for r in document.parse(third, "t.md").ticket.requests] == [
        ("engineering", "answered"),
        ("management", "open"),
    ]


def test_a_changed_document_is_its_new_text_parsed() -> None:
    """`changed` builds the new document from the front-matter its edit read back, for the
    sweep's cache: the very document `parse` makes of the new text, problems included."""
    path = "tickets/T-1.md"
    text = document.render_new(
        {"id": "T-1", "title": "Checkout down", "status": "new", "priority": "high",
         "team": "support", "created": NOW, "updated": NOW, "tags": [], "escalations": []},
        "It fails.", [Activity(NOW, "mailbot", event="created")],
    )  # fmt: skip
    later = NOW + dt.timedelta(hours=2)
    changes = [
        Change(
            sets={
                "status": "open",
                "updated": later,
                "sla": {
                    "policy": "standard",
                    "checked": later,
                    "first_response": {"due": later, "state": "breached"},
                },
            },
            tags_added=("vip",),
            escalations=(Escalation(later, "functional", "support", "engineering", "esc", "x"),),
            entries=(Entry(later, "esc", "note", "SLA breached"),),
            activity=(Activity(later, "esc", field="status", old="new", new="open"),),
        ),
        # a sweep's usual edit: its body read from the old one, the lines added checked
        Change(
            sets={"updated": later + dt.timedelta(hours=1)},
            activity=(
                Activity(later, "esc", field="sla.resolution", old="running", new="breached"),
                Activity(later, "esc", event="rule x fired", note="a → b"),
            ),
        ),
        Change(activity=(Activity(later, "esc", event="x · y"),)),
        Change(sets={"x-when": dt.datetime(9500, 1, 1, tzinfo=dt.timezone.utc)}),  # a problem
        Change(sets={"title": "x"}),
        Change(activity=(Activity(dt.datetime(9400, 1, 1, tzinfo=dt.timezone.utc), "esc"),)),
    ]
    for source in (text, HANDWRITTEN):
        doc = document.parse(source, path)
        assert (doc.front_read is not None) == (source == text)  # (esc's own style only)
        for change in changes:
            new = document.changed(doc, change)
            assert new.text == document.apply_change(doc, change)
            assert new == document.parse(new.text, path)
            doc = new
        assert [p for _, p in doc.problems if "x-when" in p]
        assert [p for _, p in doc.problems if p.startswith("9400-01-01T00:00:00+00:00 is out")]

    # a log that is not the body's last section (a conversation follows it): the lines go
    # to the end of the log, not into the conversation after it
    doc = document.parse(text.replace("\n## Activity", "\n## Activity\n\n## Conversation"), path)
    new = document.changed(doc, changes[1])
    assert new == document.parse(new.text, path)
    assert len(doc.ticket.activity) == 0
    assert [a.event for a in new.ticket.activity] == [None, "rule x fired"]
    assert new.ticket.entries == doc.ticket.entries


@pytest.mark.parametrize("fold", [0, 1])
def test_a_time_in_the_repeated_hour_is_written(fold: int) -> None:
    """02:15 on the night Berlin's clocks go back, either occurrence: Python never finds it
    equal to the +02:00 or +01:00 time read back, but it is the same instant and offset."""
    from zoneinfo import ZoneInfo

    path = "tickets/T-1.md"
    created = dt.datetime(2026, 10, 24, 23, tzinfo=dt.timezone.utc)
    text = document.render_new(
        {"id": "T-1", "title": "Night", "status": "new", "priority": "urgent",
         "team": "support", "created": created, "updated": created, "tags": [],
         "escalations": []},
        "It fails.", [Activity(created, "mailbot", event="created")],
    )  # fmt: skip
    due = dt.datetime(2026, 10, 25, 2, 15, fold=fold, tzinfo=ZoneInfo("Europe/Berlin"))
    block = {"policy": "urgent", "checked": created, "first_response": {"due": due, "state": "ok"}}
    new = document.apply_change(document.parse(text, path), Change(sets={"sla": block}))
    offset = "+01:00" if fold else "+02:00"
    assert f"  first_response: {{due: 2026-10-25T02:15:00{offset}, state: ok}}\n" in new


def test_a_lone_surrogate_escape_in_the_front_matter_is_a_problem_at_its_line() -> None:
    """`title: "\\ud800 …"` read as a string no file, terminal or JSON can take: validate
    said ok, and every command reading the ticket ended in an internal error (exit 3)."""
    text = (
        "---\nid: T-1\ntitle: \"\\ud800 VAT\"\nstatus: open\npriority: normal\n"
        "team: support\ncreated: 2026-11-20T10:00:00+01:00\n"
        "updated: 2026-11-20T10:00:00+01:00\nnotes: [\"ok\", \"\\U0000DFFF\"]\n---\n\nx\n"
    )
    doc = document.parse(text, "tickets/T-1.md")
    assert (3, "title: a lone surrogate escape (such as \\ud800) is no character") in doc.problems
    assert (9, "notes: a lone surrogate escape (such as \\ud800) is no character") in doc.problems
    fine = document.parse(text.replace("\\ud800", "\\u00e9").replace("\\U0000DFFF", "ok"), "t")
    assert not [p for _, p in fine.problems if "surrogate" in p]



def test_a_field_a_yaml_alias_refers_to_is_refused_at_its_line_saying_why() -> None:
    """`team: &x support` and `foo: *x`: esc cannot change the team without breaking the
    alias; it refuses at the team's line, saying so (it said "undefined alias 'x'", at
    line 1, of a file that defines it)."""
    text = (
        "---\nid: T-aaaa0001\ntitle: Down\nstatus: open\npriority: normal\n"
        "team: &x support\nfoo: *x\ncreated: 2026-11-20T09:00:00+01:00\n"
        "updated: 2026-11-20T09:00:00+01:00\n---\n\nBody.\n"
    )
    doc = document.parse(text, "tickets/T-aaaa0001.md")
    with pytest.raises(ParseError) as refused:
        document.apply_change(doc, Change(sets={"status": "pending", "team": "engineering"}))
    assert (refused.value.line, refused.value.message) == (
        6,
        "esc could not edit this front-matter safely (team: its value is a YAML anchor that"
        " an alias (*name) refers to; write the values out); nothing was written",
    )


@pytest.mark.parametrize(
    "front",
    [
        '{id: T-aaaa0001, title: "Flow", status: open, priority: normal, team: support,'
        " created: 2026-11-20T09:00:00+01:00}\n",
        '# written by a script\n{"id": "T-aaaa0001",\n "title": "Flow", "status": "open",'
        ' "priority": "normal", "team": "support",\n "created": "2026-11-20T09:00:00+01:00"}\n',
    ],
)
def test_a_front_matter_written_as_one_flow_mapping_is_read_and_refused_saying_why(
    front: str,
) -> None:
    """It validates (it is YAML, or JSON); esc edits front-matter by lines, so a change is
    refused with nothing written, saying how to write it (it said "does not parse")."""
    doc = document.parse(f"---\n{front}---\n\nBody.\n", "tickets/T-aaaa0001.md")
    assert (doc.problems, doc.ticket.title) == ([], "Flow")
    with pytest.raises(ParseError) as refused:
        document.apply_change(doc, Change(sets={"assignee": "bob"}))
    assert (refused.value.line, refused.value.message) == (
        2,
        "esc could not edit this front-matter safely (it is one flow mapping, {key: value, …};"
        " esc edits front-matter written one key per line: write each key on a line of its"
        " own); nothing was written",
    )


def test_a_field_whose_value_is_an_alias_is_written_over_and_the_anchor_kept() -> None:
    """`updated: *c` (the value of `created: &c …`): a change to `updated` writes its value
    in place of the alias, `created` keeps its anchor. (The alias was taken for the
    anchor's own text: the edit put a second `updated:` line in, and was refused.)"""
    text = (
        "---\nid: T-aaaa0001\ntitle: Down\nstatus: open\npriority: normal\nteam: support\n"
        "created: &c 2026-11-20T09:00:00+01:00\nupdated: *c\nextra: &m {a: 1}\n"
        "copy: *m\n---\n\nBody.\n"
    )
    doc = document.parse(text, "tickets/T-aaaa0001.md")
    after = document.apply_change(doc, Change(sets={"updated": NOW, "copy": {"a": 2}}))
    assert after == text.replace("updated: *c", "updated: 2026-11-20T10:00:00+01:00").replace(
        "copy: *m", "copy:\n  a: 2"
    )
    assert document.parse(after, "t.md").data["extra"] == {"a": 1}


def test_a_control_character_in_the_front_matter_is_reported_at_its_line() -> None:
    """ESC in a value on line 9 was reported at line 2, the front-matter's first (issue 20)."""
    text = (
        "---\nid: T-1\ntitle: t\nstatus: open\npriority: normal\nteam: support\n"
        "created: 2026-11-20T09:00:00+01:00\nchannel: null\ncustomer: \"a\x1bb\"\n---\n\nx\n"
    )
    assert text.splitlines()[8].startswith("customer")
    with pytest.raises(ParseError) as caught:
        document.parse(text, "tickets/T-1.md")
    assert str(caught.value) == (
        "tickets/T-1.md:9: front-matter does not parse: unacceptable character #x001b: "
        "special characters are not allowed"
    )


SWEPT_FRONT = """\
---
id: T-1
sla:
  policy: standard
  checked: 2026-11-20T09:40:00+01:00
  rules: dd6f4cd8
  first_response: {due: 2026-11-20T13:00:00+01:00, state: met}
  resolution: {due: 2026-11-23T09:00:00+01:00, state: ok}
---
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "state: ok}",
            "state: okay}",
            8,
            "sla: resolution: unknown state 'okay'; choose from ok, warning, breached, met, paused",
        ),
        (
            "state: met}",
            "stat: met}",
            7,
            "sla: first_response: unknown key 'stat' (did you mean 'state'?); choose from due, "
            "state",
        ),
        (
            "  first_response:",
            "  first_respnse:",
            7,
            "sla: unknown key 'first_respnse' (did you mean 'first_response'?); choose from "
            "policy, checked, rules, first_response, next_response, resolution, collaboration",
        ),
        (
            "policy: standard",
            "policy: [a]",
            4,
            "sla: policy must be the name of a policy, not a list",
        ),
        (
            "checked: 2026-11-20T09:40:00+01:00",
            "checked: 2026-11-20T09:40:00",
            5,
            "sla: checked 2026-11-20 09:40:00 is not a timestamp with a time zone",
        ),
    ],
)
def test_an_sla_block_that_is_not_what_the_sweep_writes_is_a_problem_at_its_line(
    old: str, new: str, line: int, message: str
) -> None:
    """A misspelt clock, clock key or state (issue 14) read as no clock, or as a state
    nothing has: said at the line at fault, with did-you-mean where one is close."""
    def sla_problems(text: str) -> list[tuple[int, str]]:  # (not: the fields left out)
        found = document.parse(text, "tickets/T-1.md").problems
        return [(n, said) for n, said in found if said.startswith("sla")]

    assert sla_problems(SWEPT_FRONT) == []
    assert sla_problems(SWEPT_FRONT.replace(old, new)) == [(line, message)]


def test_replayed_escalations_that_cannot_go_before_a_hand_written_one_keep_their_order() -> None:
    """Two escalations a replay makes, earlier than the list's last one, which is written
    by hand as a mapping of several lines (no place before it to put a line): the first
    went at the end and the second, still counted as going before one item, went before
    the first: written in the wrong order, and not refused (a review of the change)."""
    text = (
        "---\nid: T-1\ntitle: t\nstatus: open\npriority: normal\ncategory: billing\n"
        "team: management\ncreated: 2026-11-20T10:00:00+00:00\n"
        "updated: 2026-11-20T10:46:00+00:00\nescalations:\n"
        "  - at: 2026-11-20T10:46:00+00:00\n    kind: functional\n    from: support\n"
        "    to: management\n    by: bob\n    reason: x\n---\n\nBody\n"
    )
    doc = document.parse(text, "tickets/T-1.md")
    at = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.timezone.utc)
    first = Escalation(at, "hierarchical", "support", "engineering", "rule:up", "late")
    second = Escalation(at, "priority", "normal", "high", "rule:raise", "late")
    new = document.apply_change(doc, Change(escalations=(first, second)))
    assert new.index("rule:up") < new.index("rule:raise")
    assert new.startswith(text[: text.index("---\n\nBody")])  # (the hand-written lines kept)
