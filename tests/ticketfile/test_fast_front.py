"""The fast front-matter reader gives ruamel.yaml's answer (YAML 1.2), or None (never a
different answer)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from esc.ticketfile import document, fast_front, yaml_text

ROOT = Path(__file__).resolve().parents[2]


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types, key order and UTC offsets all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return bool(a == b)


def reference(text: str) -> Any:
    """What ruamel.yaml's safe loader reads: the reference for every file esc reads."""
    return YAML(typ="safe", pure=True).load(text)


def agrees(text: str) -> fast_front.Front | None:
    """Check the fast reader against ruamel.yaml on ``text``; return what the fast one read."""
    front = fast_front.load(text)
    try:
        expected = reference(text)
    except (YAMLError, ValueError, TypeError):  # (TypeError: !!omap [{[1]: 2}])
        assert front is None, f"ruamel.yaml refuses {text!r} but the fast reader read {front}"
        return None
    if front is not None:
        assert same(front.data, expected), f"{text!r}: {front.data!r} != {expected!r}"
    return front


TYPICAL = """\
id: T-00615qwm
title: Discount code WELCOME10 applied twice
status: closed
priority: normal
category: bug
team: engineering
assignee: erin
customer: umut.novak@citykaffee.at
channel: email
created: 2025-05-22T16:14:00+02:00
updated: 2025-06-03T16:08:00Z
first_response_at: null
tags:
  - vip
  - export
impact: null
csat: 4
escalations:
  - {at: 2025-05-23T09:00:00+02:00, kind: functional, to: sre, by: alice, reason: "db: down"}
  - {at: 2025-05-24T09:00:00+02:00, kind: priority, to: high, by: rule:x, reason: why not?}
sla:
  policy: standard
  checked: 2026-11-27T08:00:00+01:00
  first_response: {due: 2025-05-23T12:14:00+02:00, state: met}
fired: {}
"""


def test_reads_what_esc_writes_exactly_as_reference() -> None:
    front = agrees(TYPICAL)
    assert front is not None
    assert front.data["escalations"][0]["reason"] == "db: down"
    assert front.data["created"] == dt.datetime(
        2025, 5, 22, 16, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert front.key_lines["id"] == 0 and front.key_lines["tags"] == 12
    assert front.item_lines == {"tags": [13, 14], "escalations": [18, 19]}


@pytest.mark.parametrize(
    "text",
    [
        "title: a # comment\n",  # comments
        "title: x\n\nstatus: open\n",  # blank lines
        "title: x\n  continued\n",  # a multi-line plain scalar
        "tags:\n- a\n- b\n",  # an indentless list
        "tags:\n  - a\n   - b\n",  # uneven indentation
        "title: 'single quoted'\n",
        'title: "a\\x41"\n',  # a YAML-only escape
        'title: "a\\/b"\n',
        "csat: 017\n",  # YAML 1.1 octal
        "csat: 4.5\n",
        "when: 2025-05-22 16:14:00+02:00\n",
        "title: &a x\nother: *a\n",
        "title: x\ntitle: y\n",  # a duplicate key
        "title: x\r\nstatus: open\r\n",
        "title: x\tz\n",
        "a: {b: c,d: e}\n",
        "a: {b: c# d: e}\n",  # a separator that is not ", "
        "a: {b: c,  d: e}\n",
        "a: {b: c, d: e }\n",
        "a: {b: c, }\n",
        "a: { b: c}\n",
        "a: {b: c}}\n",
        'a: {b: "c"d, e: f}\n',
        "a: {b: [c]}\n",
        "sla:\n  first:\n    due: x\n",
        "a: {b: c,, d: e}\n",
        "a: {b: , d: e}\n",
        "a: {b: c, b: d}\n",  # a duplicate key in a flow mapping
        "a: {b: c, d: [e]}\n",
        "a: {b: c, d: e#f}\n",
        "a: {b: c, d:e}\n",
        "a: {b:c}\n",
        "a: {b: c: d}\n",
        "a: {b: c:}\n",
        "a: {1b: c}\n",
        "a:: x\n",
        "a:x\n",
        "a :x\n",
        "  a: x\n",  # a child line with no key above it
        "a: x\n  b: c\n",
        "a:\n  b: c\n  - d\n",  # a block mapping, then an item
        "a:\n  - b\n  c: d\n",
        "a:\n  b: c\n   d: e\n",
        "a:\n  b:\n",
        "a:\n  b: c\n  b: d\n",
        "a: []\n  - b\n",
        "a: 1\na: 1\n",
        "null: x\n",
        "a:\n  2025-01-01: x\n",
        "created: 2025-02-30T09:00:00+01:00\n",  # no such day: ruamel.yaml raises ValueError
        "",
        "title: x",  # no final newline
    ],
)
def test_anything_else_is_left_to_reference(text: str) -> None:
    assert fast_front.load(text) is None
    agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: {b: c, d: e}\n",
        "a: {b: c d, e-f: 2025-05-22T16:14:00Z, g: null, h: 12, i: true, j: x:y}\n",
        'a: {b: "c, d", e: f}\n',  # (a quoted value may hold ", ")
        "a:\n  - {b: c}\n  - {b: c}\n",
        "a:\n  b1: {c: d}\n  b.2: e\n",
        "a:\nb: x\n",
    ],
)
def test_esc_style_lines_take_the_fast_path(text: str) -> None:
    assert agrees(text) is not None


def test_each_read_makes_its_own_lists_and_mappings() -> None:
    """Lines are remembered from read to read, their values are not shared: a caller may
    change what one read gave without changing what the next one gives."""
    text = "tags: []\nfired: {}\nsla:\n  first: {due: 2025-05-22T16:14:00Z, state: met}\n"
    first, second = fast_front.load(text), fast_front.load(text)
    assert first is not None and second is not None
    first.data["tags"].append("x")
    first.data["fired"]["y"] = 1
    first.data["sla"]["first"]["state"] = "breached"
    assert second.data == {
        "tags": [],
        "fired": {},
        "sla": {"first": {"due": dt.datetime(2025, 5, 22, 16, 14, tzinfo=dt.timezone.utc),
                          "state": "met"}},
    }  # fmt: skip


def test_every_demo_ticket_takes_the_fast_path() -> None:
    paths = sorted((ROOT / "tickets").glob("*.md"))
    assert len(paths) > 20
    for path in paths:
        text = path.read_text(encoding="utf-8")
        start, end, _ = document.split(text, str(path))
        assert agrees(text[start:end]) is not None, path


def test_hand_written_files_agree_or_fall_back() -> None:
    for path in sorted((ROOT / "tests" / "data").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        try:
            start, end, _ = document.split(text, str(path))
        except Exception:
            continue
        agrees(text[start:end])


# ------------------------------------------------------------------ generated front-matter

WORDS = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs",), include_characters="\t\r\n\x85\u2028"
    ),
    max_size=12,
)
TRICKY = st.sampled_from(
    ["", "null", "~", "yes", "No", "on", "true", "017", "0x1f", "1_000", "4.5", ".inf", "-3",
     "+7", "12", "2025-05-22", "2025-5-2", "2025-05-22T16:14:00+02:00", "1:20", "<<", "=",
     "a: b", "a #b", "a#b", "C#", "#x", "-x", "- x", "?x", "a ?b", "why?", "[x]", "{x}",
     "a, b", "a,b", "x:", "x:y", "http://x/y", "'q'", '"q"', "a\\b", "é", "ü ö", " x", "x ",
     "a  b", "@x", "`x`", "%x", "!x", "&x", "*x", "|", ">"]
)  # fmt: skip
OFFSETS = st.integers(min_value=-14 * 4, max_value=14 * 4).map(
    lambda q: dt.timezone(dt.timedelta(minutes=15 * q))
)
STAMPS = st.builds(
    lambda d, tz: d.replace(microsecond=0, tzinfo=tz),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    OFFSETS,
)
SCALARS = st.one_of(
    WORDS, TRICKY, st.none(), st.booleans(), st.integers(-(10**6), 10**6), STAMPS, st.dates()
)
FLOW = st.dictionaries(st.sampled_from(["at", "kind", "from", "to", "by", "reason"]), SCALARS)
VALUES = st.one_of(
    SCALARS,
    st.lists(st.one_of(SCALARS, FLOW), max_size=4),
    st.dictionaries(
        st.from_regex(r"[a-z][a-z_\-]{0,8}", fullmatch=True), st.one_of(SCALARS, FLOW), max_size=4
    ),
)  # fmt: skip
KEYS = st.one_of(
    st.sampled_from(["id", "title", "status", "tags", "escalations", "sla", "csat", "created"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,10}", fullmatch=True),
)
FRONTS = st.dictionaries(KEYS, VALUES, min_size=1, max_size=8)


@settings(max_examples=80, deadline=None)
@given(FRONTS)
def test_generated_front_matter_reads_as_the_yaml_library_reads_it(data: dict[str, Any]) -> None:
    agrees(yaml_text.render_mapping(data))


SIMPLE = st.dictionaries(
    # keys YAML reads as strings (not "no", "on", "null", ...)
    st.from_regex(r"[a-z_]{1,10}", fullmatch=True).filter(lambda k: reference(f"{k}: 1") == {k: 1}),
    st.one_of(
        st.from_regex(r"[A-Za-z][a-z0-9.@\-]{0,10}( [a-z]{1,5}){0,3}", fullmatch=True),
        st.none(),
        st.integers(0, 99),
        STAMPS,
        st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=70, deadline=None)
@given(SIMPLE)
@example({"_": None, "no": None})  # (a key written quoted, as YAML 1.1 reads it a boolean)
@example({"fired": {"on": "x", "Off": "y"}})
def test_what_esc_writes_is_read_without_the_yaml_library(data: dict[str, Any]) -> None:
    text = yaml_text.render_mapping(data)
    expected = reference(text)
    front = fast_front.load(text)
    assert front is not None, text
    assert same(front.data, expected)


MUTATIONS = st.sampled_from(list(" :-#,[]{}\"'\\\n\t?&*!|>%@`~=<0123456789aZé\r\u2028"))


@settings(max_examples=100, deadline=None)
@given(FRONTS, st.lists(st.tuples(st.integers(0, 10**6), MUTATIONS, st.booleans()), max_size=4))
@example({"title": "x"}, [(3, ":", True)])
def test_mutated_front_matter_never_reads_differently(
    data: dict[str, Any], edits: list[tuple[int, str, bool]]
) -> None:
    text = yaml_text.render_mapping(data)
    for position, char, replace in edits:
        at = position % (len(text) + 1)
        text = text[:at] + char + text[at + (1 if replace else 0) :]
    agrees(text)


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.text(min_size=1, max_size=8),
        st.from_regex(r"[-+]?[0-9][0-9_]{0,4}", fullmatch=True),
        st.sampled_from(["true", "True", "TRUE", "tRUE", "null", "NULL", "nULL", "no", "n"]),
    )
)
def test_plain_scalars_get_the_tag_ruamel_yaml_gives_them(text: str) -> None:
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    expected = str(VersionedResolver(version=(1, 2)).resolve(ScalarNode, text, (True, False)))
    assert fast_front._tag_of(text) == expected


def test_a_flow_mapping_line_read_again_is_a_new_mapping_with_the_same_values() -> None:
    """Lines holding a flow mapping of scalars are remembered (a sweep writes the same
    deadlines into many tickets and reads them back): each reading is its own mapping,
    as ruamel.yaml would give, so a change to one never shows in another ticket's."""
    text = (
        "sla:\n"
        "  first_response: {due: 2026-11-27T13:00:00+01:00, state: ok}\n"
        "escalations:\n"
        "  - {at: 2026-11-27T09:00:00+01:00, kind: team, to: engineering}\n"
    )
    first, second = fast_front.load(text), fast_front.load(text)
    assert first is not None and second is not None
    assert first.data == second.data == YAML(typ="safe", pure=True).load(text)
    first.data["sla"]["first_response"]["state"] = "breached"
    first.data["escalations"][0]["kind"] = "manual"
    third = fast_front.load(text)
    assert third is not None and third.data == second.data
    assert third.data["sla"]["first_response"]["state"] == "ok"
    assert third.data["escalations"][0]["kind"] == "team"
