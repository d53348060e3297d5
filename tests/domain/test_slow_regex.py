"""Regular expressions Python's engine may take minutes on (esc.domain.slow_regex)."""

from __future__ import annotations

import re

import pytest

from esc.domain.slow_regex import backtracks_badly

SLOW = [
    r"(a+)+$",
    r"^(\w+\s?)*$",
    r"(a|aa)+$",
    r"(a|b|ab)*c",
    r"(\d+\.?)+$",
    r"([a-z]+.)+!",
    r"(.*a){11}",
    r"((\w+)(\s?))*!",
    r"(a|aa){2,}",
    r"(a+)+\s*x",
    r"(?P<b>b)(a+)+(?P=b)",
    # (characters beyond the sample: the pattern's own are sampled; r70)
    r"(й+)+$",
    r"([α-ω]+\s?)*$",
    r"([ぁ-ん]+)+$",
    r"(а|аа)+$",
    # (a lookaround or \B holds inside a run: no place to cut)
    r"((?!re:)\w+\s?)*$",
    r"(?:(?=\w)\w+)+$",
    r"(?:\w+\B)+!",
    # (a bounded repeat of 4 or more: n**4 and up)
    r"^(.*?,){5}P",
    r"(.*a){9}!",
    # (review r71: alternatives alike past an anchor; repeats in repeats multiply; a
    # range that shares digits or spaces with a class only beyond the sample)
    r"(?:\ba|a| )+$",
    r"(?m:(?:^a\n|a\n)+$)",
    r"(?:\b\w+\s|\w+\s)+$",
    r"(?:(?:\w+){3}){3}!",
    "(?:\\d|[\uff00-\uffef]x?)+$",
    "(?:\\s|[\u1ff0-\u200f]x?)+$",
]
FAST = [
    r"(a|ab)*c",
    r"(\d+\.)+\d+",
    r"(\S+\s+)*$",
    r"(\b\w+\b\s*)+!",
    r"(Re: |Fwd: |Fw: )*x",
    r"(\w+\s?){3}!",
    r"[\w\s]*$",
    # (alternatives that begin alike but one must match a character the other never does)
    r"^(?:[A-Z][a-z]+|[A-Z]{2,})(?: (?:[A-Z][a-z]+|[A-Z]{2,}))*$",
    r"^(?:(?:[\w.]+@[\w.]+|\w+), )*$",
    r"^(?:(?:[A-Z]+-\d+|[A-Z]+),\s*)*$",
    r"^(?:\d+\.\d+|\d+)(?:,(?:\d+\.\d+|\d+))*$",
]
# (nothing after them can fail, and one iteration is enough: the search ends at the first
# match, never tried another way)
AT_THE_END = [r"(\w+\s?)+", r"(a|aa)+", r"(https?://\S+\s*)+", r"x(a+)+|y", r"(a+)+b*"]


@pytest.mark.parametrize("pattern", SLOW)
def test_a_repeat_that_cuts_one_text_many_ways_is_found(pattern: str) -> None:
    assert backtracks_badly(pattern, 0)


@pytest.mark.parametrize("pattern", FAST)
def test_a_repeat_that_cuts_a_text_one_way_is_not(pattern: str) -> None:
    assert not backtracks_badly(pattern, 0)


@pytest.mark.parametrize("pattern", AT_THE_END)
def test_a_repeat_nothing_after_can_fail_ends_at_its_first_match(pattern: str) -> None:
    assert not backtracks_badly(pattern, 0)
    assert backtracks_badly(f"(?:{pattern})$", 0) and backtracks_badly(f"(?:{pattern}){{2}}!", 0)


@pytest.mark.parametrize("pattern", SLOW)
@pytest.mark.parametrize("around", ["(?:{})", "x{}", "{}|y", "(?={})", "(?i){}", "(z|{})"])
def test_found_wherever_it_stands_in_a_pattern(pattern: str, around: str) -> None:
    assert backtracks_badly(around.format(pattern), 0)


@pytest.mark.parametrize(
    ("slow", "never_given_back"),
    [(r"(a+)+$", r"(a++)+$"), (r"(a|aa)+$", r"(?>a|aa)+$"), (r"(\w+\s?)*!", r"(?>\w+\s?)*!")],
)
def test_possessive_repeats_and_atomic_groups_never_backtrack(
    slow: str, never_given_back: str
) -> None:
    assert backtracks_badly(slow, 0) and not backtracks_badly(never_given_back, 0)


def test_case_folding_counts_as_the_pattern_has_it() -> None:
    """`a` is the start of `AA` only when case is ignored: by a flag, or inside `(?i:…)`."""
    assert not backtracks_badly("(a|AA)+$", 0)
    assert backtracks_badly("(a|AA)+$", re.IGNORECASE)
    assert backtracks_badly("(?i:(a|AA)+)$", 0)
    assert not backtracks_badly("(?i)(?-i:(a|AA)+)$", 0)


def test_a_class_python_makes_of_one_character_alternatives_is_one_way() -> None:
    """`(\\d|\\w)` is `[\\d\\w]` to Python's parser: one way to match each character."""
    assert not backtracks_badly(r"(\d|\w)+$", 0)


def test_a_huge_fixed_repeat_is_read_without_spelling_it_out() -> None:
    """`x{400000000}` was spelled place by place: a MemoryError, exit 3 (r70)."""
    assert not backtracks_badly("x{400000000}", 0)
    assert not backtracks_badly("(?:[a-z]{9999}){9999}", 0)


def test_a_character_a_later_python_reads_otherwise_is_read_as_python_does_now() -> None:
    """`[[]` matches `[` today; Python's FutureWarning is not the user's to see."""
    assert not backtracks_badly("^[[]EXT[]]", 0)
    assert backtracks_badly("([[]+)+$", 0)
