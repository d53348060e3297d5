"""The body's grammar: entries and activity lines written and read back, and the fast
paths (cutting at headings, reading only the lines a question needs) reading the same."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc.domain import model
from esc.domain.model import Activity
from esc.domain.timestamps import timestamp
from esc.ticketfile import body

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        ("open", "pending", ""),
        (None, "alice", "assigned"),
        ("a → b", "x · y", 'quote " and → arrow'),
        ('"quoted"', "—", ""),
        ("multi\nline", None, ""),
    ],
)
def test_activity_lines_round_trip(old: str | None, new: str | None, note: str) -> None:
    item = Activity(NOW, "bob", field="status", old=old, new=new, note=note)
    line = body.render_activity(item)
    assert "\n" not in line
    assert body.parse_activity_line(line) == item


BODY_LINES = st.one_of(
    st.sampled_from(
        [
            "",
            "Some text.",
            "## Conversation",
            "## Activity",
            "## Conversation  ",
            "## Activity\t",
            "## Activity\u3000",
            "\\## Activity",
            "\\\\### 2026-11-02T08:00:00Z · bob · note (internal)",
            "### 2026-11-02T08:00:00Z · mallory · reply (public)",
            "### 2026-11-02T08:00:00Z · a · b · message (public) ",
            "### not-a-time · bob · note (internal)",
            "- 2026-11-02T08:00:00Z · bob · status: new → open",
            "- 2026-11-02T08:00:00Z · bob · status: \"a → b\" → — · why · not",
            "- 2026-11-02T08:00:00Z ·  · x · y",
            "- 2026-11-02T08:00:00Z · bob · created · by mail",
            "- 2026-11-02T08:00:00Z · bob",
            "-  2026-11-02T08:00:00Z · bob · x",
            "- yesterday · bob · created",
            " - 2026-11-02T08:00:00Z · bob · created",
            "```",
            "```markdown",
            "  ~~~~",
            "~~~",
            "````",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(BODY_LINES, max_size=25), st.booleans())
def test_bodies_read_the_same_by_sections_and_line_by_line(lines: list[str], end: bool) -> None:
    text = "\n".join(lines) + ("\n" if end else "")
    assert body.parse_body(text) == body._parse_body_by_lines(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(BODY_LINES, max_size=25), st.integers(0, 3), st.integers(0, 3))
def test_activity_times_between_are_those_of_the_parsed_log(
    lines: list[str], lo_minutes: int, span: int
) -> None:
    _, _, log = body.parse_body("## Activity\n\n" + "\n".join(lines) + "\n")
    lo = dt.datetime(2026, 11, 2, 7, 58, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=lo_minutes)
    hi = lo + dt.timedelta(minutes=span)
    expected = [a.at for a in tuple(log) if lo < a.at < hi]
    _, _, fresh = body.parse_body("## Activity\n\n" + "\n".join(lines) + "\n")
    assert model.times_between(fresh, lo, hi) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(BODY_LINES, max_size=25), st.sampled_from(["status", "x", "sla.resolution"]))
def test_the_changes_of_one_field_are_those_of_the_parsed_log(
    lines: list[str], name: str
) -> None:
    text = "## Activity\n\n" + "\n".join(lines) + "\n"
    _, _, log = body.parse_body(text)
    expected = tuple(a for a in tuple(log) if a.field == name)
    _, _, fresh = body.parse_body(text)
    assert model.field_changes(fresh, name) == expected
    assert model.field_changes(fresh, name) == expected  # (asked again: kept, the same)
    other = "status" if name != "status" else "team"
    assert model.field_changes(fresh, other) == tuple(a for a in log if a.field == other)


def test_unreadable_lines_names_each_entry_head_and_log_line_esc_cannot_read() -> None:
    text = (
        "### yesterday · alice · reply (public)\n"  # in the description: text, not an entry
        "- soon · a · b\n"
        "## Conversation\n"
        "### 2026-11-20T09:00:00+01:00 · alice · reply (public)\n"
        "- a list · in · the reply\n"  # a list item in an entry is text
        "### Steps to reproduce\n"  # a Markdown heading in an entry is text
        "### 2026-02-30T09:00:00+01:00 · bob · note (internal)\n"
        "### 2026-11-29T23:59:59Z · bob · note (internal)\n"  # day 29 exists: read, valid
        "### 2026-11-26 10:15 · info@shop.example · message (public)\n"  # meant as a head
        "### 2026-11-26T10:15:00+01:00 · bob · mesage (public)\n"  # a kind misspelt
        "### 2026-11-26T10:16:00+01:00 · bob · reply\n"  # no (public)
        "### 26.11.2026 10:15 customer wrote\n"  # a date first
        "## Activity\n"
        "- 2026-11-20T09:00:00+01:00 · alice · created\n"
        "- 2026-11-20T09:30:00 · alice · status: open → pending\n"
        "- 2026-11-20 09:40 · alice · status: pending → open\n"  # meant as a log line
        "- 2026-11-20T09:50:00+01:00 - alice - assigned\n"  # no · between its parts
        "- a remark someone left in the log\n"  # like nothing of esc's: left alone
        "### 2026-11-20T25:00:00+01:00 · a · reply (public)\n"  # no entry in the log
    )

    def found(text: str) -> list[tuple[int, str]]:
        return [(text.count("\n", 0, at) + 1, p) for at, p in body.unreadable_lines(text)]

    head = "not a conversation entry head esc can read (### TIME · AUTHOR · KIND (public))"
    line = "not an activity line esc can read (- TIME · WHO · WHAT)"
    assert found(text) == [
        (7, "conversation entry time '2026-02-30T09:00:00+01:00' is not an ISO-8601 timestamp:"
            " day is out of range for month"),
        (9, f"{head}: '### 2026-11-26 10:15 · info@shop.example · message (public)'"),
        (10, f"{head}: '### 2026-11-26T10:15:00+01:00 · bob · mesage (public)'"),
        (11, f"{head}: '### 2026-11-26T10:16:00+01:00 · bob · reply'"),
        (12, f"{head}: '### 26.11.2026 10:15 customer wrote'"),
        (15, "activity line time '2026-11-20T09:30:00' has no time zone offset (add Z or +01:00)"),
        (16, f"{line}: '- 2026-11-20 09:40 · alice · status: pending → open'"),
        (17, f"{line}: '- 2026-11-20T09:50:00+01:00 - alice - assigned'"),
    ]  # fmt: skip
    assert found(text.replace("\n", "\r\n")) == found(text)


def test_a_head_or_log_line_with_no_space_after_its_mark_is_a_problem_not_lost() -> None:
    """`###2026-…` was read as text of the entry before it (an internal note's text shown
    under a public reply), and `-2026-…` dropped from the log, both unsaid, while their
    near-misses with a space were findings (audit helper-404)."""
    text = (
        "## Conversation\n"
        "### 2026-11-20T09:00:00+01:00 · alice · reply (public)\n"
        "Hello\n"
        "###2026-11-20T09:05:00+01:00 · alice · note (internal)\n"
        "INTERNAL ONLY\n"
        "## Activity\n"
        "- 2026-11-20T09:00:00+01:00 · alice · created\n"
        "-2026-11-20T09:30:00+01:00 · alice · status: open → pending\n"
    )
    found = [(text.count("\n", 0, at) + 1, p.split(":")[0])
             for at, p in body.unreadable_lines(text)]  # fmt: skip
    assert found == [
        (4, "not a conversation entry head esc can read (### TIME · AUTHOR · KIND (public))"),
        (8, "not an activity line esc can read (- TIME · WHO · WHAT)"),
    ]
    # (and a person's text so written is escaped by esc, and read back as written; a line
    # that can be no head, `##1.2.3 release`, `###2026-11-27 was`, no time, is left as an
    # older esc wrote it, not made a finding; review helper-405)
    said = "###2026-11-27T08:00 was the outage\n##1.2.3 release\n###2026-11-27 was\n-2026 too"
    written = body.escape(said)
    assert written.splitlines() == ["\\###2026-11-27T08:00 was the outage", "##1.2.3 release",
                                    "###2026-11-27 was", "-2026 too"]  # fmt: skip
    entry = f"## Conversation\n### 2026-11-20T09:00:00+01:00 · alice · reply (public)\n{written}\n"
    assert body.unreadable_lines(entry) == []
    assert body.parse_body(entry)[1][0].text.strip() == said


def test_an_entry_or_log_line_of_year_0000_is_a_problem_not_a_silent_gap() -> None:
    """Year 0000 looked plainly valid to the fast scan, and no datetime holds it: the reply
    and the log line vanished from show, log and export, and the ticket validated."""
    text = (
        "## Conversation\n"
        "### 0000-01-01T00:00:00+00:00 · alice · reply (public)\n"
        "Hello\n"
        "## Activity\n"
        "- 0000-01-01T00:00:00+00:00 · esc · sla.policy: — → standard\n"
    )
    found = [(text.count("\n", 0, at) + 1, p) for at, p in body.unreadable_lines(text)]
    assert [(n, p.split(":")[0]) for n, p in found] == [
        (2, "conversation entry time '0000-01-01T00"),
        (5, "activity line time '0000-01-01T00"),
    ]


@pytest.mark.parametrize(
    "written",
    [
        "###\t2026-11-20T10:05:00+00:00 · alice · reply (public)",  # a tab after the hashes
        " ### 2026-11-20T10:05:00+00:00 · alice · reply (public)",  # Markdown's heading too
        "#### 2026-11-20T10:05:00+00:00 · alice · reply (public)",
        "###  2026-11-20T10:05:00+00:00 · alice · reply (public)",
    ],
)
def test_a_head_written_as_another_markdown_heading_is_a_finding(written: str) -> None:
    """Markdown reads these as headings, esc did not read them as entries: the entry and
    its text vanished from show and export while validate said ok."""
    text = f"## Conversation\n\n{written}\n\nHello\n\n## Activity\n"
    ((at, problem),) = body.unreadable_lines(text)
    assert text[at:].startswith(written)
    assert problem.startswith("not a conversation entry head esc can read")


@pytest.mark.parametrize(
    "written",
    [
        "* 2026-11-20T10:05:00+00:00 · alice · created",
        "+ 2026-11-20T10:05:00+00:00 · alice · created",
        " - 2026-11-20T10:05:00+00:00 · alice · created",
        "-\t2026-11-20T10:05:00+00:00 · alice · created",
    ],
)
def test_a_log_line_written_as_another_list_item_is_a_finding(written: str) -> None:
    text = f"## Activity\n\n- 2026-11-20T10:00:00+00:00 · alice · created\n{written}\n"
    ((at, problem),) = body.unreadable_lines(text)
    assert text[at:].startswith(written)
    assert problem.startswith("not an activity line esc can read")


def test_text_that_looks_like_a_head_is_escaped_and_reads_back() -> None:
    """What a person writes that looks like an entry head (one esc reads, or one it would
    not) is escaped when esc writes it, so it reads back as text, never as a problem."""
    for line in (
        "### 2026-11-20T09:00:00+01:00 · alice · reply (public)",
        "### 2026-11-26 10:15 · info@shop.example · message (public)",
        "### 26.11.2026 10:15 customer wrote",
        "### Steps to reproduce",
        " ### 2026-11-20T09:00:00+01:00 · alice · reply (public)",
        "#### 2026-11-26 · what happened",
    ):
        text = f"Quoted:\n{line}\nend"
        head = "### 2026-11-20T09:00:00+01:00 · a · reply (public)"
        written = f"## Conversation\n\n{head}\n\n{body.escape(text)}\n"
        assert body.unreadable_lines(written) == []
        assert body.parse_body(written)[1][0].text == text


def _section_start_by_lines(text: str, heading: str) -> int:
    """The reference for body._section_start: the first line that is just ``heading``
    (after the description's fenced blocks)."""
    pos, fenced = 0, body.description_end(text)
    for raw in text.splitlines(keepends=True):
        if pos >= fenced and body.heading_of(raw) == heading:
            return pos
        pos += len(raw)
    return -1


@settings(max_examples=150, deadline=None)
@given(st.lists(BODY_LINES, max_size=25), st.booleans())
def test_a_section_is_found_where_reading_line_by_line_finds_it(
    lines: list[str], end: bool
) -> None:
    text = "\n".join(lines) + ("\n" if end else "")
    for heading in (body.CONVERSATION, body.ACTIVITY):
        assert body._section_start(text, heading) == _section_start_by_lines(text, heading)


@settings(max_examples=150, deadline=None)
@given(st.lists(BODY_LINES, max_size=25), st.booleans(), st.lists(BODY_LINES, max_size=4))
def test_lines_appended_to_the_log_read_as_the_whole_new_body_reads(
    lines: list[str], end: bool, added: list[str]
) -> None:
    """What a sweep appends is read from the body as read before, or not at all (None):
    never differently from reading the new body (the lines added may be anything)."""
    text = "\n".join(lines) + ("\n" if end else "")
    new = body.append_activity(text, "".join(line + "\n" for line in added), "\n")
    parts = body.parse_appended(body.parse_body(text), text, new)
    if parts is not None:
        assert parts == body.parse_body(new)
        assert parts[2].text == body.parse_body(new)[2].text  # type: ignore[attr-defined]


def test_activity_lines_appended_to_the_last_section_are_read_without_reading_again() -> None:
    text = "Help.\n\n## Conversation\n\n### 2026-11-02T08:00:00Z · bob · note (internal)\n\nx\n"
    text += "\n## Activity\n\n- 2026-11-02T08:00:00Z · bob · created\n"
    line = body.render_activity(Activity(NOW, "esc", field="status", old="new", new="open"))
    parts = body.parse_appended(body.parse_body(text), text, body.append_activity(text, line, "\n"))
    assert parts is not None
    assert [a.new for a in parts[2]] == [None, "open"]
    # not the last section: the lines would go to the conversation, so the body is read again
    swapped = text.replace("## Conversation", "## Other").replace("## Activity", "## Conversation")
    swapped = swapped.replace("## Other", "## Activity")
    new = body.append_activity(swapped, line, "\n")
    assert body.parse_appended(body.parse_body(swapped), swapped, new) is None


HAND_WRITTEN = (
    "Body.\n\n## Activity\n\n- 2026-03-01T09:00:00+01:00 · alice · created\n\n"
    "## Conversation\n\n### 2026-03-01T09:10:00+01:00 · alice · reply (public)\n\nHello."
)


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_a_hand_written_body_with_the_log_before_the_conversation_gets_each_in_its_section(
    nl: str,
) -> None:
    """A file whose activity log comes before its conversation (written by hand): a new
    log line goes to the end of the log and a new entry to the end of the conversation,
    never into the last reply's text, and no second heading is made."""
    text = HAND_WRITTEN.replace("\n", nl)
    line = body.render_activity(Activity(NOW, "bob", event="reply added")) + nl
    entry = body.render_entry(model.Entry(NOW, "bob", "reply", "second")).replace("\n", nl)
    new = body.append_activity(body.append_entry(text, entry, nl), line, nl)
    description, entries, activity = body.parse_body(new)
    assert description == "Body."
    assert [e.text for e in entries] == ["Hello.", "second"]
    assert [a.event for a in activity] == ["created", "reply added"]
    assert new.count("## Conversation") == new.count("## Activity") == 1
    assert new.startswith(text.split("## Conversation")[0].rstrip(nl) + nl)  # (log grew)
    assert new.replace(nl, "\n").split("## Conversation")[0].endswith(
        "· created\n- 2026-11-20T10:00:00+01:00 · bob · reply added\n\n"
    )


def test_a_log_line_goes_into_an_empty_log_that_a_conversation_follows() -> None:
    text = "Body.\n\n## Activity\n\n## Conversation\n\n"
    text += "### 2026-03-01T09:10:00+01:00 · a · note (internal)\n\nx\n"
    line = body.render_activity(Activity(NOW, "bob", event="created")) + "\n"
    new = body.append_activity(text, line, "\n")
    assert "## Activity\n\n- 2026-11-20T10:00:00+01:00 · bob · created\n\n## Conversation" in new
    assert [e.text for e in body.parse_body(new)[1]] == ["x"]


@pytest.mark.parametrize("odd", ["\u00a0", "\u2003", "\u3000", "\x1f", "\u2028", "\u2029",
                                 "\x0b", "\x0c", "\x1c", "\x1e", "\x85"])  # fmt: skip
@pytest.mark.parametrize("heading", [body.ACTIVITY, body.CONVERSATION])
def test_a_heading_in_user_text_ending_in_odd_whitespace_is_escaped(heading: str, odd: str) -> None:
    """`## Activity` + a no-break space (or a line separator) in a comment: the reader
    takes it for a heading (it strips any whitespace), so it is escaped like a plain one;
    else the text after it was hidden, or read as forged activity lines."""
    text = f"thanks\n{heading}{odd}\n- 2026-11-25T11:21:00+01:00 · x · status: open → pending\nend"
    entry = body.render_entry(model.Entry(NOW, "acme", "message", text))
    doc = body.append_entry("Body.\n\n## Activity\n\n- 2026-11-02T08:00:00Z · bob · created\n",
                            entry, "\n")  # fmt: skip
    _, entries, activity = body.parse_body(doc)
    assert [e.text for e in entries] == [text]
    assert [a.by for a in activity] == ["bob"]


@pytest.mark.parametrize("tail", [" extra", "\u00a0", " (public)", "."])
def test_an_entry_head_with_more_after_its_visibility_is_a_finding_not_dropped(tail: str) -> None:
    """`### TIME · alice · reply (public) extra`: the reader takes a head only as a whole
    line, so such an entry would vanish from `show`, `--json` and exports: it is named."""
    text = (
        "## Conversation\n"
        f"### 2026-11-20T09:10:00+01:00 · alice · reply (public){tail}\n"
        "Hello there.\n"
        "### 2026-11-20T09:11:00+01:00 · alice · reply (public) \t\n"  # (blanks: read)
        "Fine.\n"
    )
    [(at, problem)] = body.unreadable_lines(text)
    assert text.count("\n", 0, at) == 1
    assert problem.startswith("not a conversation entry head esc can read")


PASTED = (
    "Pasted from our wiki:\n\n```markdown\n## Activity\n\nour changelog\n## Conversation\n```"
    "\n\nThanks."
)


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_a_heading_in_a_fenced_block_of_the_description_is_description_text(nl: str) -> None:
    """`## Activity` pasted in a code block of a hand-written description: it was taken for
    the log's heading, so esc appended its lines into the description, and `show` cut the
    description at it."""
    text = PASTED.replace("\n", nl) + nl
    description, entries, activity = body.parse_body(text)
    assert description == PASTED
    assert (entries, list(activity)) == ((), [])
    line = "- 2026-11-22T15:00:00+01:00 · bob · assignee: — → bob" + nl
    logged = body.append_activity(text, line, nl)
    assert logged == text + nl + "## Activity" + nl + nl + line
    entry = body.render_entry(model.Entry(dt.datetime(2026, 11, 22, 14, tzinfo=dt.timezone.utc),
                                          "bob", "reply", "hello"))
    replied = body.append_entry(logged, entry.replace("\n", nl), nl)
    assert replied.startswith(text + nl + "## Conversation" + nl)
    assert body.parse_body(replied)[0] == body.parse_body(text)[0]
    assert [e.text for e in body.parse_body(replied)[1]] == ["hello"]
    assert len(list(body.parse_body(replied)[2])) == 1
    assert body.unreadable_lines(replied) == []


@pytest.mark.parametrize(
    "text",
    [
        "Broken paste:\n```\n\n## Activity\n\n- 2026-11-22T15:00:00+01:00 · bob · created\n",
        "```\n## Conversation\n\n### 2026-11-22T15:00:00+01:00 · bob · reply (public)\n\nx\n```\n",
    ],
)
def test_a_fence_left_open_before_esc_s_own_lines_hides_no_heading(text: str) -> None:
    """A fence not closed before one of esc's own lines (an entry head, a log line) is no
    block: the headings after it are esc's sections, as before."""
    assert body.description_end(text) == 0
    assert body.parse_body(text)[1] or list(body.parse_body(text)[2])


@pytest.mark.parametrize(
    "line",
    [
        "- 2026-11-20T10:00:00+01:00 · bob · status: open →  pending",
        "- 2026-11-20T10:00:00+01:00 · bob · status:  open → pending  ",
        "- 2026-11-20T10:00:00+01:00 · bob · status: open → pending   · why",
        '- 2026-11-20T10:00:00+01:00 · bob · status:  "open" →  "pending"',
    ],
)
def test_spaces_a_hand_edit_left_around_a_logged_value_are_not_part_of_it(line: str) -> None:
    """esc quotes a value with spaces around it, so unquoted ones are a person's typing:
    `→  pending` was read as the status " pending", and the pause it logged was lost."""
    item = body.parse_activity_line(line)
    assert item is not None
    assert (item.field, item.old, item.new) == ("status", "open", "pending")


def test_a_second_space_around_an_author_makes_no_other_person() -> None:
    """`### … ·  bob · reply (public)` (a hand edit's second space) was read as the author
    " bob", another person than bob, in the reports and the people it notifies."""
    text = (
        "Help\n\n## Conversation\n\n### 2026-11-20T10:00:00+01:00 ·  bob · reply (public)\n\n"
        "On it.\n\n## Activity\n\n- 2026-11-20T10:00:00+01:00 ·  bob  · reply added\n"
    )
    for parse in (body.parse_body, body._parse_body_by_lines):
        _, entries, log = parse(text)
        assert [e.author for e in entries] == ["bob"]
        assert [a.by for a in log] == ["bob"]


def test_a_misspelt_section_heading_is_a_problem_where_the_section_is_missing() -> None:
    """`## Activty`: the whole log was read as the description (and a sweep wrote a new
    log after it). A heading one typo from a section the body lacks is said; a heading of
    one's own in a body that has its sections is not."""
    from esc.ticketfile.body import unreadable_lines

    body = "\nThe text.\n\n## Activty\n\n- 2026-11-20T09:00:00+01:00 · alice · created\n"
    assert [p for _, p in unreadable_lines(body)] == [
        "heading '## Activty': did you mean '## Activity'?"
    ]
    fine = (
        "\nThe text.\n\n## Activities planned\n\n## Activity\n\n"
        "- 2026-11-20T09:00:00+01:00 · a · created\n"
    )
    assert unreadable_lines(fine) == []


@pytest.mark.parametrize(
    ("conversation", "problem"),
    [
        ("## 2026-11-20T10:00:00+01:00 · alice · reply (public)\n\nHello there\n",
         "not a conversation entry head esc can read"),
        ("Stray text before entries\n\n### 2026-11-20T10:00:00+01:00 · alice · reply"
         " (public)\n\nHi\n", "text outside any conversation entry: 'Stray text before"),
    ],
)  # fmt: skip
def test_conversation_text_no_entry_holds_is_a_problem(conversation: str, problem: str) -> None:
    """An entry headed `##` (not `###`), or text before the first entry: `show` and
    `export` dropped it without a word, and validate said ok."""
    from esc.ticketfile.body import unreadable_lines

    body = (f"\ndesc\n\n## Conversation\n\n{conversation}\n## Activity\n\n"
            "- 2026-11-20T09:00:00+01:00 · a · created\n")  # fmt: skip
    found = [p for _, p in unreadable_lines(body)]
    assert len(found) == 1 and found[0].startswith(problem), found


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, 14, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_log_lines_and_entries_go_in_time_order_never_past_other_text(nl: str) -> None:
    """A sweep that replays moments before a person's later change (their reply at 09:10,
    the breach at 09:05 seen only by the next day's sweep) put its lines after the
    person's: the file differed from one swept at each moment (issue 3's audit).  Each
    line and entry goes before the last ones whose time is later; on a tie, after; never
    past a line that is no log line (a person's paragraph ends the log's ordered part)."""
    def line(hour: int, minute: int, what: str) -> str:
        return body.render_activity(Activity(_at(hour, minute), "esc", event=what)) + nl

    text = nl.join([
        "Help.", "", "## Conversation", "",
        "### 2026-12-14T09:10:00+01:00 · alice · reply (public)", "", "On it.", "",
        "## Activity", "",
        "- 2026-12-14T09:00:00+01:00 · alice · created",
        "- 2026-12-14T09:10:00+01:00 · alice · reply added", "",
    ])  # fmt: skip
    new = body.add_activity(text, [(_at(9, 5), line(9, 5, "a")), (_at(9, 10), line(9, 10, "b")),
                                   (_at(9, 0), line(9, 0, "c"))], nl)  # fmt: skip
    assert new.split(nl)[-6:] == [
        "- 2026-12-14T09:00:00+01:00 · alice · created",
        "- 2026-12-14T09:00:00+01:00 · esc · c",
        "- 2026-12-14T09:05:00+01:00 · esc · a",
        "- 2026-12-14T09:10:00+01:00 · alice · reply added",
        "- 2026-12-14T09:10:00+01:00 · esc · b",
        "",
    ]
    assert body.add_activity(text, [(_at(11), line(11, 0, "d"))], nl) == body.append_activity(
        text, line(11, 0, "d"), nl
    )  # (the usual case: at the end, as ever)
    broken = text.replace(f"reply added{nl}", f"reply added{nl}- 2026-12-14T11:00:00+01:00 · x{nl}")
    assert body.add_activity(broken, [(_at(9, 5), line(9, 5, "a"))], nl) == body.append_activity(
        broken, line(9, 5, "a"), nl
    )  # (nor past a line that only starts as a log line does)
    noted = text.replace(f"reply added{nl}", f"reply added{nl}{nl}A note by hand.{nl}")
    assert body.add_activity(noted, [(_at(9, 5), line(9, 5, "a"))], nl) == body.append_activity(
        noted, line(9, 5, "a"), nl
    )  # (not past the paragraph)
    note = body.render_entry(model.Entry(_at(9, 5), "rule:late", "note", "Late")).replace(
        "\n", nl
    )
    with_entry = body.add_entry(text, _at(9, 5), note, nl)
    assert with_entry.index("rule:late") < with_entry.index("alice · reply (public)")
    assert with_entry.replace(note, "") == text
    later = body.add_entry(text, _at(9, 10), note, nl)  # (a tie: after)
    assert later == body.append_entry(text, note, nl)


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("marcel·lí", "marcel·lí"),  # (Catalan: a `·` within a word is a letter's)
        ("Gal·la Puig ‹galla@x.cat›", "Gal·la Puig ‹galla@x.cat›"),
        ("a · b", "a - b"),  # (the separator itself: never in a name)
        ("a · · b", "a - - b"),
        ("x ·", "x -"),
    ],
)
def test_a_name_is_written_as_given_but_for_the_separator(name: str, written: str) -> None:
    """`marcel·lí` was written `marcel-lí` in every log line and entry heading: the log
    then named someone else, and the sweep told them of what they did themselves."""
    at = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)
    line = body.render_activity(Activity(at, name, "status", "new", "open"))
    parsed = body.parse_activity_line(line)
    assert parsed is not None
    assert (parsed.by, parsed.field, parsed.new) == (written, "status", "open")
    entry = body.render_entry(model.Entry(at, name, "note", "Hi"))
    (read,) = body.parse_body(f"x\n\n## Conversation\n\n{entry}")[1]
    assert (read.author, read.text) == (written, "Hi")


# Lines built from the pieces that decide how a log line is cut: separators, arrows, the
# none mark, spaces and tabs around values, quotes, odd whitespace, field-like words.
_LINE_PIECES = st.sampled_from(
    [" · ", " → ", "—", " ", "  ", "\t", "·", "→", ":", ": ", '"', '"a b"', "\\", "\r",
     "\x0b", "\xa0", "\u2003", "\n", "-", "- ", "status", "sla.first_response", "_x", "é",
     "2026-11-20T10:00:00+01:00", "2026-02-30T10:00:00Z", "bob", "a", "open"]
)  # fmt: skip


_PARTS = st.lists(_LINE_PIECES, max_size=4).map("".join)
# A line in a log line's shape, each part of it drawn from the pieces (odd ones included)
_SHAPED = st.tuples(_PARTS, _PARTS, _PARTS, _PARTS, _PARTS).map(
    lambda p: f"- 2026-11-20T10:00:00+01:00 · {p[0]} · status: {p[1]} → {p[2]} · {p[3]}{p[4]}"
)


_WHOLE_LINE = re.compile(r"- (?P<at>\S+) · (?P<by>.+?) · (?P<rest>.*)")
_CHANGE = re.compile(r"(?P<field>[A-Za-z_][\w.]*): (?P<rest>.*)")


def _read_by_regex(line: str) -> Activity | None:
    """The grammar of a log line as regular expressions of the whole line (esc's reading
    until it cut lines with str.find): what parse_activity_line must read alike."""
    match = _WHOLE_LINE.fullmatch(line.rstrip())
    at = timestamp(match["at"]) if match is not None else None
    if match is None or at is None:
        return None
    by, rest = match["by"].strip(), match["rest"]
    change = _CHANGE.fullmatch(rest)
    if change is not None:
        old, after = body._take_value(change["rest"], body.ARROW)
        if after.startswith(body.ARROW):
            new, after = body._take_value(after[len(body.ARROW) :], body.SEP)
            note = after[len(body.SEP) :] if after.startswith(body.SEP) else ""
            return Activity(at, by, field=change["field"], old=old, new=new, note=note)
    event, _, note = rest.partition(body.SEP)
    return Activity(at, by, event=event, note=note)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.lists(_LINE_PIECES, max_size=14).map("".join), _SHAPED), st.booleans())
def test_a_log_line_is_cut_as_the_regular_expressions_of_its_grammar_cut_it(
    line: str, headed: bool
) -> None:
    """parse_activity_line cuts a line with str.find (~10% faster than one regex of the
    whole line); on odd lines (separators, arrows and quotes where values go, odd spaces
    and line breaks) it reads what the grammar's regular expressions read."""
    if headed:  # (most lines start as a log line does: a time, then who acted)
        line = "- 2026-11-20T10:00:00+01:00 · " + line
    assert body.parse_activity_line(line) == _read_by_regex(line)
