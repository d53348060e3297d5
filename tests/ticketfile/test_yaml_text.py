"""YAML scalars esc writes, and surgical front-matter edits."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from esc.ticketfile import fast_front, yaml_text
from esc.ticketfile.yaml_text import FrontMatterEditor

ORDER = ["id", "title", "status", "assignee", "tags", "escalations"]
TRICKY = ["yes", "no", "on", "null", "~", "12:30", "2026-01-01", "1e3", "0x1f", "-", "a: b",
          "#x", "x #y", "[a]", "{a}", "'q'", '"q"', " lead", "trail ", "", "a,b", "*ref", "&a",
          "!tag", "%p", "@x", "`x`", "|", ">", "?", "1_000", ".inf", "Can't log in"]


def load_12(text: str) -> object:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_strings_read_back_as_strings(value: str) -> None:
    line = "k: " + yaml_text.scalar(value)
    assert yaml_text.load(line) == {"k": value}
    assert load_12(line) == {"k": value}
    flow = "k: " + yaml_text.flow_mapping({"a": value, "b": "x"})
    assert yaml_text.load(flow) == {"k": {"a": value, "b": "x"}}


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_any_string_reads_back_exactly(value: str) -> None:
    value = value.replace("\x00", "")
    line = "k: " + yaml_text.scalar(value)
    assert yaml_text.load(line) == {"k": value}
    assert "\n" not in line


def test_a_plain_equals_sign_or_merge_mark_as_a_value_is_text() -> None:
    """YAML 1.2's core schema has no `value` or `merge` type: a plain `=` or `<<` value is
    text, where "could not determine a constructor for the tag 'tag:yaml.org,2002:value'"
    stopped every command on a ticket or a teams.yaml that had one (audit helper-447).  A
    `<<` key still merges."""
    text = "a: =\nb: <<\nc: [=, <<]\nx: &m {k: 1}\ny:\n  <<: *m\n  j: 2\n"
    expected = {"a": "=", "b": "<<", "c": ["=", "<<"], "x": {"k": 1}, "y": {"k": 1, "j": 2}}
    assert yaml_text.load(text) == expected
    assert yaml_text.load_with_lines(text) == expected
    data, lines, _ = yaml_text.read_mapping(text)
    assert data == expected and lines["b"] == 1


def test_other_scalars() -> None:
    when = dt.datetime(2026, 11, 20, 9, 14, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert yaml_text.scalar(when) == "2026-11-20T09:14:00+01:00"
    assert yaml_text.load("k: " + yaml_text.scalar(when)) == {"k": when}
    assert [yaml_text.scalar(v) for v in (None, True, 3)] == ["null", "true", "3"]


def edit(text: str, *ops: tuple[str, str, object]) -> str:
    editor = FrontMatterEditor(text, ORDER)
    for op, key, value in ops:
        getattr(editor, op)(key, value)
    return editor.text


def test_set_keeps_trailing_comment() -> None:
    assert edit("id: 1\nstatus: open   # note\n", ("set", "status", "closed")) == (
        "id: 1\nstatus: closed   # note\n"
    )


def test_set_keeps_the_spacing_a_person_put_after_the_colon() -> None:
    """Aligned front-matter (`status:    new`) lost its alignment on every changed line."""
    text = "id: 1\nstatus:    new      # c1\nassignee:  ~\ntags:   []\nteam:\n  x\n"
    assert edit(text, ("set", "status", "open"), ("set", "assignee", "bob"),
                ("set", "team", "ops")) == (
        "id: 1\nstatus:    open      # c1\nassignee:  bob\ntags:   []\nteam: ops\n"
    )
    assert edit(text, ("set", "tags", ["vip"])) == text.replace("tags:   []", "tags:\n  - vip")


BERLIN = dt.timezone(dt.timedelta(hours=1))
SLA_WITH_COMMENTS = """\
id: 1
sla:  # computed by esc sweep
  policy: high   # chosen by priority
  checked: 2026-11-27T09:00:00+01:00
  first_response: {due: 2026-11-25T09:02:00+01:00, state: met}  # in time
  resolution: {due: 2026-11-27T16:02:00+01:00, state: ok}
  old: gone   # a key the new value does not have
  note: ""   # empty on purpose
tags: []
"""


@pytest.mark.parametrize(
    ("before", "value", "after"),
    [
        ('status: "new"   # c\n', "open", 'status: "open"   # c\n'),
        ("priority:  'high'\n", "urgent", "priority:  'urgent'\n"),
        ("title: 'It''s'\n", "Bob's", "title: 'Bob''s'\n"),
        ("title: 'a'\n", "tab\there", 'title: "tab\\there"\n'),  # (no tab in single quotes)
        ("assignee: 'bob'\n", None, "assignee: null\n"),  # (not text: as esc writes it)
    ],
)
def test_a_changed_text_keeps_the_quotes_a_person_put_around_it(
    before: str, value: str | None, after: str
) -> None:
    key = before.split(":")[0]
    editor = FrontMatterEditor(f"id: T-1\n{before}z: 1\n")
    editor.set(key, value)
    assert editor.text == f"id: T-1\n{after}z: 1\n"
    assert yaml_text.load(editor.text)[key] == value


@pytest.mark.parametrize(
    ("before", "value", "after"),
    [
        ("tags:\n  # add tags below\n  []\n", ["x"], "tags:\n  # add tags below\n  - x\n"),
        ("tags:\n  # add tags below\n  []\n", [], "tags: []\n  # add tags below\n"),
        ("tags:   # ours\n  # one each\n  - a\n", ["b"], "tags:   # ours\n  # one each\n  - b\n"),
        ("tags:   # ours\n  - a\n", [], "tags: []   # ours\n"),
        # (and back: the comment after `[]` stays on the key's line, not on the first item)
        ("tags: []   # none yet\n", ["b"], "tags:   # none yet\n  - b\n"),
        # (a list a person wrote on one line stays on it, its comment after it)
        ("tags: [a]  # ours\n", ["a", "b"], "tags: [a, b]  # ours\n"),
        ("tags:\n\n  # spaced\n  - a\n", ["b"], "tags:\n\n  # spaced\n  - b\n"),
    ],
)
def test_comments_between_a_key_and_its_block_value_are_kept(
    before: str, value: list[str], after: str
) -> None:
    """`tags:` with a comment line, then `[]`: the first tag took the comment with it."""
    editor = FrontMatterEditor(f"id: T-1\n{before}z: 1\n")
    editor.set("tags", value)
    assert editor.text == f"id: T-1\n{after}z: 1\n"
    assert yaml_text.load(editor.text)["tags"] == value


def test_a_nested_mapping_is_edited_line_by_line_keeping_each_comment() -> None:
    """A sweep rewrites the `sla:` block: each line whose value stays is kept as written,
    comment and all; a changed value is replaced before its comment; a key that went
    loses its line; a new key gets a line after the last."""
    new = {
        "policy": "high",
        "checked": dt.datetime(2026, 11, 27, 11, 30, tzinfo=BERLIN),
        "first_response": {"due": dt.datetime(2026, 11, 25, 9, 2, tzinfo=BERLIN), "state": "met"},
        "resolution": {"due": dt.datetime(2026, 11, 27, 16, 2, tzinfo=BERLIN), "state": "warning"},
        "note": "",
        "rules": "c37ce56b",
    }
    assert edit(SLA_WITH_COMMENTS, ("set", "sla", new)) == """\
id: 1
sla:  # computed by esc sweep
  policy: high   # chosen by priority
  checked: 2026-11-27T11:30:00+01:00
  first_response: {due: 2026-11-25T09:02:00+01:00, state: met}  # in time
  resolution: {due: 2026-11-27T16:02:00+01:00, state: warning}
  note: ""   # empty on purpose
  rules: c37ce56b
tags: []
"""
    assert yaml_text.load(edit(SLA_WITH_COMMENTS, ("set", "sla", new)))["sla"] == new
    # the same instant written in another offset, or `1` for `true`, is another value
    other = {"policy": "high", "checked": dt.datetime(2026, 11, 27, 8, tzinfo=dt.timezone.utc)}
    assert "  checked: 2026-11-27T08:00:00+00:00\n" in edit(
        SLA_WITH_COMMENTS, ("set", "sla", other)
    )


def test_a_mapping_not_one_value_a_line_is_written_whole() -> None:
    text = "sla:  # c\n  policy: |\n    high\n  checked: x\n"
    assert edit(text, ("set", "sla", {"policy": "low"})) == "sla:  # c\n  policy: low\n"


def test_set_empty_and_tilde_nulls() -> None:
    text = "assignee:\nstatus: ~\n"
    assert edit(text, ("set", "assignee", "bob"), ("set", "status", "x")) == (
        "assignee: bob\nstatus: x\n"
    )


def test_missing_key_goes_in_canonical_place() -> None:
    text = "id: 1\n# about the title\ntitle: t\ntags: []\nextra: 1\n"
    assert edit(text, ("set", "status", "open")) == (
        "id: 1\n# about the title\ntitle: t\nstatus: open\ntags: []\nextra: 1\n"
    )
    assert edit("extra: 1\n", ("set", "id", "T-1")) == "id: T-1\nextra: 1\n"
    assert edit("extra: 1", ("set", "unknown", 2)) == "extra: 1\nunknown: 2\n"


def test_append_to_block_flow_empty_and_missing_lists() -> None:
    block = "tags:\n    - a   # first\n# between\nstatus: open\n"
    assert edit(block, ("append", "tags", "b")) == (
        "tags:\n    - a   # first\n    - b\n# between\nstatus: open\n"
    )
    assert edit("tags: [a,b]\n", ("append", "tags", "c")) == "tags: [a,b, c]\n"
    assert edit("tags: []\n", ("append", "tags", "c")) == "tags:\n  - c\n"
    assert edit("tags:\n", ("append", "tags", "c")) == "tags:\n  - c\n"
    assert edit("id: 1\n", ("append", "tags", "c")) == "id: 1\ntags:\n  - c\n"


def test_append_after_block_mapping_items() -> None:
    text = "escalations:\n  - at: 1\n    kind: x\nstatus: s\n"
    assert edit(text, ("append", "escalations", {"at": 2, "kind": "y"})) == (
        "escalations:\n  - at: 1\n    kind: x\n  - {at: 2, kind: y}\nstatus: s\n"
    )


def test_replace_block_scalar_and_block_list() -> None:
    text = "title: |\n  long\n  text\ntags:\n  - a\n  - b\nid: 1\n"
    assert edit(text, ("set", "title", "short"), ("set", "tags", [])) == (
        "title: short\ntags: []\nid: 1\n"
    )


def test_appending_to_a_scalar_is_refused() -> None:
    with pytest.raises(yaml_text.EditError):
        edit("tags: vip\n", ("append", "tags", "x"))


class YamlSlotsEditor(FrontMatterEditor):
    """The editor as it works on hand-written front-matter: positions from ruamel.yaml's marks."""

    def _slots(self) -> dict[str, object]:  # type: ignore[override]
        return self._yaml_slots()  # type: ignore[return-value]


FIELDS = ["id", "title", "status", "assignee", "tags", "escalations", "sla", "fired", "other"]
VALUES = st.one_of(
    st.sampled_from(TRICKY),
    st.none(),
    st.integers(0, 5),
    st.lists(st.sampled_from(["vip", "no", "a b", "x: y"]), max_size=3),
    st.dictionaries(st.sampled_from(["policy", "due", "state"]), st.sampled_from(TRICKY)),
    st.lists(st.dictionaries(st.sampled_from(["at", "to", "by"]), st.sampled_from(TRICKY))),
)
EDITS = st.lists(
    st.tuples(st.sampled_from(["set", "append"]), st.sampled_from(FIELDS), VALUES), max_size=5
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1), EDITS)
def test_edits_by_line_positions_are_the_edits_by_yaml_marks(
    front: dict[str, object], edits: list[tuple[str, str, object]]
) -> None:
    quick = FrontMatterEditor(yaml_text.render_mapping(front), FIELDS)
    slow = YamlSlotsEditor(yaml_text.render_mapping(front), FIELDS)
    for op, key, value in edits:
        outcomes = []
        for editor in (quick, slow):
            try:
                getattr(editor, op)(key, value)
                outcomes.append("ok")
            except yaml_text.EditError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]
        assert quick.text == slow.text


class ReadingEditor(FrontMatterEditor):
    """The editor reading the slots from the whole text before every edit (as it did
    before it kept them from one edit to the next)."""

    def _slots(self) -> dict[str, object]:  # type: ignore[override]
        self._known = None
        return super()._slots()  # type: ignore[return-value]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1), EDITS)
def test_slots_kept_from_edit_to_edit_are_the_slots_read_from_the_text(
    front: dict[str, object], edits: list[tuple[str, str, object]]
) -> None:
    text = yaml_text.render_mapping(front)
    kept = FrontMatterEditor(text, FIELDS, fast_front.load(text))
    read = ReadingEditor(text, FIELDS)
    for op, key, value in edits:
        outcomes = []
        for editor in (kept, read):
            try:
                getattr(editor, op)(key, value)
                outcomes.append("ok")
            except yaml_text.EditError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]
        assert kept.text == read.text
        quick = fast_front.load(kept.text)
        if kept._known is not None and quick is not None:
            assert kept._known == yaml_text._quick_slots(kept.text, quick)


def test_values_of_any_mapping_or_sequence_type_are_written_as_plain_ones_are() -> None:
    """The writers answer plain dicts, lists and scalars first (by their exact type);
    a read-only mapping, a tuple or a text subclass is written the same, and reads back
    as the same value."""
    import types

    class Word(str):
        pass

    moment = dt.datetime(2026, 11, 27, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    plain = {"due": moment, "state": "ok", "n": 3, "none": None, "flag": True}
    other = types.MappingProxyType({"due": moment, "state": Word("ok"), "n": 3,
                                    "none": None, "flag": True})  # fmt: skip
    assert yaml_text.inline(other) == yaml_text.inline(plain)
    assert yaml_text.block_value(other, 2, "\n") == yaml_text.block_value(plain, 2, "\n")
    assert yaml_text.inline((1, "a b", moment)) == yaml_text.inline([1, "a b", moment])
    assert yaml_text.scalar(Word("yes")) == yaml_text.scalar("yes") == '"yes"'
    text = "sla:" + yaml_text.block_value({"first": other, "items": (Word("x"),)}, 2, "\n") + "\n"
    assert YAML(typ="safe", pure=True).load(text) == {"sla": {"first": plain, "items": ["x"]}}


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x7f", "\x9b", "\ufffe"])
def test_a_character_yaml_does_not_allow_is_reported_at_its_line(char: str) -> None:
    """ruamel.yaml's reader names the character but at no line: esc said line 1 (issue 20)."""
    text = f"a: 1\nb: 2\nc: x{char}y\nd: 4\n"
    for load in (yaml_text.load, yaml_text.load_with_lines, yaml_text.read_mapping):
        with pytest.raises(yaml_text.YamlError) as caught:
            load(text)
        assert caught.value.line == 2, load
        assert "unacceptable character" in caught.value.problem


def test_an_offset_of_a_day_or_more_is_said_in_plain_words() -> None:
    """Python's own words quoted its notation: `offset must be a timedelta strictly between
    -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(…)` (issue 20)."""
    with pytest.raises(yaml_text.YamlError) as caught:
        yaml_text.load("a: 1\ncreated: 2026-11-20T10:00:00+25:00\n")
    assert caught.value.problem == (
        "2026-11-20T10:00:00+25:00 is not a valid timestamp (the offset must be within ±23:59)"
    )
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("text", "line"), [('a: 1\ntitle: "t\nb: 2\nc: 3\n', 1), ("a: 1\nb: 'x\n", 1)]
)
def test_a_quote_never_closed_is_reported_where_it_begins(text: str, line: int) -> None:
    """(it was reported at the last line, "found unexpected end of stream")"""
    for read in (yaml_text.load, yaml_text.load_with_lines):
        with pytest.raises(yaml_text.YamlError) as caught:
            read(text)
        assert (caught.value.problem, caught.value.line) == (
            "a quoted scalar that begins here is never closed", line
        )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('r:\n  - {note: "SLA breached}\n  - {when: {priority: "<urgent"}}\n', 1),
        ('hours:\n  mon-fri: "09:00-17:00\n  sat: "10:00-12:00"\n', 1),
        ("# it's a comment\nnote: 'unclosed\nb: 'x'\n", 1),
    ],
)
def test_a_quote_left_open_before_another_is_reported_where_it_begins(
    text: str, line: int
) -> None:
    """A closing quote left out, with another quote further on: the parser stopped at that
    one, lines later (`rules.yaml:43: expected ',' or '}', but got '<scalar>'` for a
    mistake on line 41), in its own words; the line where the quote opens is said."""
    with pytest.raises(yaml_text.YamlError) as caught:
        yaml_text.load(text)
    assert caught.value.line == line
    assert caught.value.problem.startswith(
        "a quoted value that begins here is not closed on its line"
    )
    assert yaml_text.load("note: don't\nb: 'it''s'\n") == {"note": "don't", "b": "it's"}


def test_an_anchor_defined_again_is_read_quietly_as_yaml_1_2_says() -> None:
    """`&m` on two teams' members is YAML 1.2 (an alias refers to the latest); ruamel.yaml
    warned with eight lines on stderr on every run (an error under this suite's
    `filterwarnings = error`)."""
    text = "a: &m [alice, bob]\nb: &m [dan, erin]\nc: *m\n"
    assert yaml_text.load(text) == {"a": ["alice", "bob"], "b": ["dan", "erin"],
                                    "c": ["dan", "erin"]}  # fmt: skip
    assert yaml_text.load_with_lines(text)["c"] == ["dan", "erin"]


def test_a_duplicate_key_is_said_at_its_line_without_ruamel_s_empty_values() -> None:
    """`found duplicate key "support" with value "{}" (original value: "{}")`: both were
    full mappings; the "{}" misled."""
    text = "teams:\n  support:\n    level: 1\n  support:\n    level: 2\n"
    with pytest.raises(yaml_text.YamlError) as caught:
        yaml_text.load_with_lines(text)
    assert caught.value.problem == 'duplicate key "support" (each key is given once in a mapping)'
    assert caught.value.line == 3


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ('a: "long\n  value"\na: 2\n', 2, 'duplicate key "a"'),
        ('a: "long\n  value"\nb: [1, 2\n', 2, "a flow sequence that begins here"),
        ('msg: |\n  "Hello\nx: 1\nx: 2\n', 3, 'duplicate key "x"'),
    ],
)
def test_a_quoted_value_over_two_lines_that_is_closed_takes_no_blame(
    text: str, line: int, problem: str
) -> None:
    """(a valid quoted value over two lines, or a block scalar's line starting with a
    quote, before another mistake was blamed for it)"""
    with pytest.raises(yaml_text.YamlError) as caught:
        yaml_text.load(text)
    assert (caught.value.line, caught.value.problem.startswith(problem)) == (line, True)


def test_an_item_goes_before_the_last_items_of_a_list_of_one_line_each() -> None:
    """`insert`: before the last items of a block list of one line per item; at its end
    when it is not (a comment among them, an item of several lines: a quoted text whose
    next line starts with "- " was split), or none is given."""
    editor = FrontMatterEditor("id: T-1\ntags:   # ours\n  - a\n  - c\nz: 1\n")
    assert editor.insert("tags", "b", 1, 2) == 1
    assert editor.text == "id: T-1\ntags:   # ours\n  - a\n  - b\n  - c\nz: 1\n"
    assert editor.insert("tags", "d", 0, 3) == 0
    assert editor.text == "id: T-1\ntags:   # ours\n  - a\n  - b\n  - c\n  - d\nz: 1\n"
    for written in ("  - a\n  # the last\n  - c\n", '  - a\n  - "x\n  - y"\n'):
        other = FrontMatterEditor(f"id: T-1\ntags:\n{written}z: 1\n")
        assert other.insert("tags", "b", 1, 2) == 0
        assert other.text == f"id: T-1\ntags:\n{written}  - b\nz: 1\n"


def test_a_field_with_an_empty_value_is_its_own_line_alone() -> None:
    """`resolved_at:` (null, written empty): its lines took the next field's line too, so
    taking theirs' lines for it, or removing it, took `closed_at: null` with it."""
    front = "id: T-1\nresolved_at:\nclosed_at: null\ncsat:\ntags: []\n"
    texts = yaml_text.field_texts(front)
    assert texts["resolved_at"] == "resolved_at:\n" and texts["csat"] == "csat:\n"
    assert yaml_text.field_span(front, "resolved_at") == (8, 21)
    assert yaml_text.field_gaps(front)["closed_at"] == ""


@pytest.mark.parametrize(
    ("text", "said", "line"),
    [
        ("x: !!omap [a: 1, a: 2]", 'key "a"', 0),
        ("x: !!omap\n  - a: 1\n  - b: 2\n  - a: 3\n", 'key "a"', 3),
        # (keys compared as the values they stand for: `1` and `"1"` are two keys, `1` and
        # `0x1` one; review helper-398)
        ('x: !!omap [1: a, "1": b, c: 1, c: 2]', 'key "c"', 0),
        ("x: !!omap [1: a, 0x1: b]", 'key "0x1"', 0),
    ],
)
def test_an_ordered_map_that_gives_a_key_twice_names_it(text: str, said: str, line: int) -> None:
    """ruamel.yaml's own `assert key not in omap` ended every command in exit 3."""
    with pytest.raises(yaml_text.YamlError) as caught:
        yaml_text.load(text)
    assert caught.value.problem == (
        f"an ordered map (!!omap) gives {said} twice (each key is given once)"
    )
    assert caught.value.line == line
    assert yaml_text.load('x: !!omap [1: a, "1": b]') == {"x": {1: "a", "1": "b"}}


@pytest.mark.parametrize("name", ["on", "off", "yes", "No", "OFF"])
def test_a_key_yaml_1_1_reads_as_a_boolean_is_written_quoted(name: str) -> None:
    """A rule named `on` was written `fired: {on: …}`, which PyYAML reads as `{True: …}`
    (audit helper-396); values such as these were quoted already."""
    import yaml

    assert yaml_text.mapping_key(name) == f'"{name}"'
    assert yaml.safe_load(f"{yaml_text.mapping_key(name)}: 1") == {name: 1}
    assert yaml_text.mapping_key("status") == "status"


def test_a_json_surrogate_pair_is_the_character_it_stands_for() -> None:
    """`title: "Checkout \\ud83d\\ude00"` (JSON's way, Python's json.dumps's, of writing 😀)
    was refused as "a lone surrogate", and every command refused the ticket (audit
    helper-404); a lone half is still one."""
    text = 'title: "Checkout \\ud83d\\ude00"\ntags: ["\\ud83d\\ude00", x]\nbad: "\\ud800"\n'
    assert yaml_text.load(text) == {"title": "Checkout 😀", "tags": ["😀", "x"], "bad": "\ud800"}


def test_the_characters_yaml_refuses_are_all_those_outside_what_it_allows() -> None:
    """YAML 1.2's printable characters are tab, line feed, carriage return, x20-x7E, NEL,
    xA0-xD7FF, xE000-xFFFD and x10000-x10FFFF: every other character is refused."""
    allowed = [(0x09, 0x0A), (0x0D, 0x0D), (0x20, 0x7E), (0x85, 0x85), (0xA0, 0xD7FF),
               (0xE000, 0xFFFD), (0x10000, 0x10FFFF)]  # fmt: skip
    refused = set(range(0x10000)).difference(*(range(lo, hi + 1) for lo, hi in allowed))
    everything = "".join(map(chr, range(0x110000)))
    found = {ord(m[0]) for m in yaml_text._UNACCEPTABLE.finditer(everything)}
    assert found == refused
