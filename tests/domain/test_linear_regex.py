"""The linear-time search: it says what ``re.search`` says, on any pattern it takes, and
takes no time on the texts that hold ``re`` up for minutes."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc.domain import linear_regex
from esc.domain.linear_regex import LONG_TEXT, NEVER, search, searcher

# pieces of patterns, over a small alphabet so that matches are frequent
_ATOMS = st.sampled_from(
    ["a", "b", "A", "é", "É", " ", r"\n", ".", r"\w", r"\W", r"\d", r"\s", r"\S", "[ab]",
     "[^a]", "[a-c]", r"[^\w\s]", r"[\d_]", "_", "1", "k", "K", "\u212a", "ß", "ſ", "s"]
)  # fmt: skip
_ANCHORS = st.sampled_from(["^", "$", r"\b", r"\B", r"\A", r"\Z"])
_REPEATS = st.sampled_from(["*", "+", "?", "*?", "+?", "??", "{2}", "{0,2}", "{1,3}", "{2,}"])
_SCOPES = st.sampled_from(["(?:", "(", "(?i:", "(?s:", "(?m:", "(?-i:", "(?x:", "(?i-s:"])


def _patterns() -> st.SearchStrategy[str]:
    leaf = st.one_of(_ATOMS, _ANCHORS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.tuples(inner, inner).map(lambda p: f"{p[0]}|{p[1]}"),
            st.tuples(_SCOPES, inner).map(lambda p: f"{p[0]}{p[1]})"),
            st.tuples(_SCOPES, inner, _REPEATS).map(lambda p: f"{p[0]}{p[1]}){p[2]}"),
            st.tuples(_ATOMS, _REPEATS).map("".join),
        )

    return st.recursive(leaf, extend, max_leaves=8)


_TEXTS = st.text(alphabet="abAé É\n_1kK\u212aßſs.!", max_size=30)
_FLAGS = st.sampled_from([0, re.I, re.M, re.S, re.I | re.M | re.S, re.A, re.A | re.I])


@settings(max_examples=1500, deadline=None)
@given(_patterns(), _FLAGS, _TEXTS)
def test_it_says_what_re_says(source: str, flags: int, text: str) -> None:
    try:
        pattern = re.compile(source, flags)
    except re.error:
        return
    found = searcher(pattern)
    assert found is not None, source
    assert found(text) == (pattern.search(text) is not None), (source, flags, text)


@pytest.mark.parametrize(
    ("source", "text", "expected"),
    [
        (r"$", "abc\n", True),
        (r"c$", "abc\n", True),
        (r"c$", "abc\nd", False),
        (r"(?m)c$", "abc\nd", True),
        (r"\Ac", "abc", False),
        (r"^b", "a\nb", False),
        (r"(?m)^b", "a\nb", True),
        (r"\bfoo\b", "a foo.", True),
        (r"\bfoo\b", "afoo", False),
        (r"(?i)straße", "STRASSE", False),  # (no full case folding in re: none here)
        (r"(?i)k", "\u212a", True),  # (the Kelvin sign folds to k)
        (r"(?a)\w", "é", False),
        (r"\w", "é", True),
        (r"a{3,5}", "aa", False),
        (r"(ab){2}c", "ababc", True),
        (r"", "", True),
        (r"x*", "", True),
    ],
)
def test_anchors_flags_and_counts_as_re_has_them(source: str, text: str, expected: bool) -> None:
    pattern = re.compile(source)
    found = searcher(pattern)
    assert found is not None
    assert found(text) is expected
    assert (pattern.search(text) is not None) is expected


@pytest.mark.parametrize(
    "source",
    [
        r"(a)\1",
        r"a(?=b)",
        r"(?<!a)b",
        r"(?>a+)b",
        r"a++b",
        r"(a)?(?(1)b|c)",
        r"(ab){30000}",
        r"(?a:[^\w\s])",
    ],
)
def test_a_pattern_the_automaton_cannot_stand_for_is_left_to_re(source: str) -> None:
    pattern = re.compile(source)
    assert searcher(pattern) is None
    text = "x" * LONG_TEXT + "ab" + "b"
    assert search(pattern, text) == (pattern.search(text) is not None)


def test_a_text_that_holds_re_up_for_minutes_is_searched_at_once() -> None:
    # `re` tries every pair of places for the two `.*`: ~n**3/6 steps, hours at this length
    pattern = re.compile(r"error.*timeout.*retry")
    text = "error timeout " * 20_000
    assert search(pattern, text) is False
    assert search(pattern, text + " retry") is True


def test_the_more_unbounded_repeats_the_shorter_a_long_text() -> None:
    # (re's worst case grows as the text's length to the power of the repeats, plus one;
    # without one, re takes time linear in the text, and less of it than the automaton)
    lengths = [
        linear_regex._searcher(re.compile(source))[0]
        for source in ["abc", r"x.{0,200}y", r"\d+", r"a.*b", r"a.*b.*c", r"a.*b.*c.*d"]
    ]
    assert lengths == [NEVER, NEVER, LONG_TEXT, LONG_TEXT, 500, 125]
    assert linear_regex._searcher(re.compile(r"(.*a){9}!"))[0] == 64
    assert linear_regex._searcher(re.compile(r"(a)\1"))[0] == NEVER


@pytest.mark.parametrize(
    ("source", "text"),
    [
        # (a part that makes no state, written out forever: not searched here, where re
        # would take gigabytes)
        ("(?:){4294967294}x", None),
        ("(?:(?:){60000}){60000}x", None),
        ("x.{0,9000}y", "x" + "a" * 3000),  # (too many states: re, in linear time on it)
        ("a.*[ab]{5000}c", "a" + "b" * 6000),
    ],
)
def test_a_pattern_too_big_for_the_automaton_is_left_to_re(source: str, text: str | None) -> None:
    pattern = re.compile(source)
    assert searcher(pattern) is None
    if text is not None:
        assert search(pattern, text) is (pattern.search(text) is not None)


def test_groups_nested_deeper_than_the_stack_lets_it_read_are_left_to_re() -> None:
    pattern = re.compile("(" * 150 + "b" + ")" * 150 + "$")

    def deep(frames: int) -> Callable[[str], bool] | None:
        return deep(frames - 1) if frames else searcher(pattern)

    depth = len(inspect.stack())
    assert deep(sys.getrecursionlimit() - depth - 100) is None
    assert search(pattern, "a" * 3000 + "b") is True


def test_a_part_re_warns_of_is_read_without_a_word(recwarn: pytest.WarningsRecorder) -> None:
    # (`[[` is a set in a later Python: the rule's own compile says nothing of it either)
    with pytest.warns(FutureWarning):
        pattern = re.compile("[[a]x.*y")
    assert searcher(pattern) is not None
    assert search(pattern, "[x" * 2000 + "y") is True
    assert not recwarn.list


def test_what_a_searcher_remembers_of_a_text_is_bounded() -> None:
    pattern = re.compile(r"a.*[ab]{12}c")
    found = searcher(pattern)
    assert found is not None
    text = "".join("ab"[(n * 7919) % 13 % 2] for n in range(50_000))  # many sets of states
    assert found(text) is False
    automaton = found.__self__  # type: ignore[attr-defined]
    assert automaton._size <= linear_regex._KEPT
    assert found(text + "c") is True


def test_short_texts_are_left_to_re(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(text: str) -> bool:
        raise AssertionError("a short text needs no searcher")

    pattern = re.compile("b+")
    monkeypatch.setitem(linear_regex._SEARCHERS, pattern, (LONG_TEXT, refused))
    assert search(pattern, "a" * (LONG_TEXT - 2) + "b") is True
    with pytest.raises(AssertionError):
        search(pattern, "a" * LONG_TEXT + "b")
