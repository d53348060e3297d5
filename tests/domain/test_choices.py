"""A value outside its choices (esc.domain.choices): "did you mean" for a near miss, and the
one message every part of esc gives for an unknown value."""

from __future__ import annotations

import pytest

from esc.domain.choices import did_you_mean, unknown_choice

PRIORITIES = ("low", "normal", "high", "urgent")
TEAMS = ("support", "engineering", "management")


# ---------------------------------------------------------------- did_you_mean


@pytest.mark.parametrize(
    ("word", "choices", "suggested"),
    [
        ("urgnet", PRIORITIES, "urgent"),  # letters swapped
        ("hihg", PRIORITIES, "high"),
        ("enginering", TEAMS, "engineering"),  # a letter missing
        ("supportt", TEAMS, "support"),  # a letter too many
        ("Urgent", PRIORITIES, "urgent"),  # another case
        ("SRE", ("support", "sre", "engineering"), "sre"),  # too short for difflib
        ("vpi", ("vip", "region"), "vip"),  # two letters swapped in a word of three
        ("wehn", ("description", "name", "repeat", "then", "when"), "when"),
        ("repaet", ("description", "name", "repeat", "then", "when"), "repeat"),
    ],
)
def test_a_near_miss_gets_the_closest_choice(
    word: str, choices: tuple[str, ...], suggested: str
) -> None:
    assert did_you_mean(word, choices) == f" (did you mean {suggested!r}?)"


@pytest.mark.parametrize(
    ("word", "choices"),
    [
        ("critical", PRIORITIES),  # nothing like it
        ("legal", TEAMS),
        ("x", PRIORITIES),
        ("urgent", ()),  # no choices at all
        ("", PRIORITIES),
        ("ab", ("ba", "xy")[1:]),  # (a swap of a choice that is not there)
        ("pvi", ("vip",)),  # letters swapped, but not neighbours
    ],
)
def test_a_word_unlike_every_choice_gets_no_hint(word: str, choices: tuple[str, ...]) -> None:
    assert did_you_mean(word, choices) == ""


def test_only_the_single_closest_choice_is_suggested() -> None:
    # "hig" is close to "high" and less close to "higher": one suggestion, the closest
    assert did_you_mean("hig", ["higher", "high"]) == " (did you mean 'high'?)"


def test_the_hint_starts_with_a_space_so_it_can_follow_the_value() -> None:
    hint = did_you_mean("normla", PRIORITIES)
    assert hint.startswith(" (") and hint.endswith("?)")
    assert f"unknown priority 'normla'{hint}" == (
        "unknown priority 'normla' (did you mean 'normal'?)"
    )


# ---------------------------------------------------------------- unknown_choice


def test_unknown_text_with_a_near_choice() -> None:
    assert unknown_choice("priority", "urgnet", PRIORITIES) == (
        "unknown priority 'urgnet' (did you mean 'urgent'?); choose from low, normal, high, urgent"
    )


def test_unknown_text_without_a_near_choice_lists_the_choices_in_their_order() -> None:
    assert unknown_choice("team", "legal", TEAMS) == (
        "unknown team 'legal'; choose from support, engineering, management"
    )


def test_a_value_that_is_no_text_is_shown_without_quotes() -> None:
    # a level of 4 where teams.yaml has levels 1 to 3: numbers read as numbers
    assert unknown_choice("level", 4, (1, 2, 3)) == "unknown level 4; choose from 1, 2, 3"
    # the others as YAML says them, or by their kind: never in Python's notation
    assert unknown_choice("team", None, TEAMS) == (
        "unknown team an empty value; choose from support, engineering, management"
    )
    assert unknown_choice("flag", True, ("a", "b")) == "unknown flag true; choose from a, b"
    assert unknown_choice("team", {"to": "ops"}, ("ops",)) == (
        "unknown team a mapping; choose from ops"
    )
    assert unknown_choice("tag", ["x"], ("x",)) == "unknown tag a list; choose from x"


def test_a_text_value_is_quoted_as_python_quotes_it() -> None:
    assert unknown_choice("team", "it's", ("support",)) == (
        'unknown team "it\'s"; choose from support'
    )
    # a line break in a value cannot break the one-line message
    message = unknown_choice("team", "sup\nport", TEAMS)
    assert "\n" not in message
    assert message.startswith("unknown team 'sup\\nport'")


def test_no_choices_at_all_says_none() -> None:
    assert unknown_choice("target", "eng-chat", ()) == "unknown target 'eng-chat'; none is defined"


def test_choices_of_any_type_are_listed_as_text() -> None:
    assert unknown_choice("csat score", 9, (1, 2, 3, 4, 5)) == (
        "unknown csat score 9; choose from 1, 2, 3, 4, 5"
    )


def test_a_number_close_to_a_text_choice_gets_the_hint() -> None:
    # the hint compares the value's text with the choices' texts
    assert unknown_choice("tier", 10, ("100", "200")) == (
        "unknown tier 10 (did you mean '100'?); choose from 100, 200"
    )


def test_the_message_is_one_line() -> None:
    message = unknown_choice("category", "biling", ("billing", "account", "how-to"))
    assert message == (
        "unknown category 'biling' (did you mean 'billing'?); choose from billing, account, how-to"
    )
    assert "\n" not in message
