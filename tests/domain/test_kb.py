"""Knowledge-base articles: what a front-matter means, IDs, drafting from a ticket."""

from __future__ import annotations

import datetime as dt

import pytest

from esc.domain.errors import BadInput, Refused
from esc.domain.kb import Article, article_from, draft_from, find, next_id, normalise
from esc.domain.model import Activity, ActivityLog, Entry, Ticket

CET = dt.timezone(dt.timedelta(hours=1))
GOOD = {
    "id": "KB-0003",
    "title": "Unlock   an account",
    "categories": ["account"],
    "tags": ["login"],
    "updated": dt.date(2026, 11, 2),
}
LINES = {key: n + 2 for n, key in enumerate(GOOD)}


def test_a_good_front_matter_is_an_article() -> None:
    article, problems = article_from(GOOD, LINES, "Body", "kb/KB-0003.md")
    assert problems == []
    assert article == Article(
        "KB-0003", "Unlock an account", ("account",), ("login",), dt.date(2026, 11, 2),
        "Body", "kb/KB-0003.md",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        ({"categores": ["account"]}, 7, "unknown key 'categores' (did you mean 'categories'?)"),
        ({"id": "3"}, 2, "id '3' is not like KB-0001"),
        # (digits of another script: read as 39 by `kb new`, by no lookup; audit helper-425)
        ({"id": "KB-\u0660\u0660\u0663\u0669"}, 2, "is not like KB-0001"),
        ({"title": ""}, 3, "title must be one line of text"),
        ({"title": "Unlock\nan account\n"}, 3, "title must be one line of text, not several"),
        ({"tags": "login"}, 5, "tags must be a list of words"),
        ({"tags": ["a,b"]}, 5, "has a comma"),
        ({"updated": "last week"}, 6, "updated last week is not a date like 2026-11-27"),
    ],
)
def test_each_problem_is_on_its_line(change: dict[str, object], line: int, message: str) -> None:
    data = {**GOOD, **change}
    _, problems = article_from(data, {**LINES, "categores": 7}, "", "kb/x.md")
    assert len(problems) == 1, problems
    assert problems[0][0] == line and message in problems[0][1]


def test_a_missing_key_is_a_problem() -> None:
    data = {k: v for k, v in GOOD.items() if k != "updated"}
    assert article_from(data, LINES, "", "kb/x.md")[1] == [(1, "updated is missing")]


def test_ids_count_up_from_the_highest_and_take_short_forms() -> None:
    assert next_id([]) == "KB-0001"
    assert next_id(["KB-0002", "notes", "KB-0010", "kb-0004"]) == "KB-0011"
    assert normalise("3") == normalise("kb-0003") == "KB-0003"
    articles = [article_from(GOOD, LINES, "", "kb/KB-0003.md")[0]]
    assert find("3", articles).id == "KB-0003"
    with pytest.raises(BadInput, match=r"unknown article 'KB-0033' \(did you mean 'KB-0003'\?\)"):
        find("KB-0033", articles)
    with pytest.raises(BadInput, match="kb/ holds no articles"):
        find("3", [])


def ticket(status: str) -> Ticket:
    at = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CET)
    return Ticket(
        id="T-1", title="Account locked", status=status, priority="normal", team="support",
        created=at, updated=at, category="account", tags=("security",),
        description="I can't log in.",
        entries=(
            Entry(at, "noah", "message", "It was our old tablet."),
            Entry(at, "priya", "reply", "Unlocked it."),
            Entry(at, "priya", "note", "internal: do not copy"),
            Entry(at, "priya", "resolution", "Unlocked; the tablet had a stale password."),
        ),
    )  # fmt: skip


def test_a_draft_has_the_problem_in_the_customers_words_and_the_resolution() -> None:
    draft = draft_from(ticket("resolved"), "KB-0009", dt.date(2026, 11, 27))
    assert (draft.title, draft.categories) == ("Account locked", ("account",))
    assert draft.tags == ("security",)
    assert draft.updated == dt.date(2026, 11, 27)
    problem, solution = draft.body.split("## Solution")
    assert "I can't log in." in problem and "It was our old tablet." in problem
    assert solution.strip() == "Unlocked; the tablet had a stale password."
    assert "internal" not in draft.body and "Unlocked it." not in draft.body


def test_a_draft_leaves_out_the_tags_a_rule_put_on_the_ticket() -> None:
    """A rule's tag (`waiting-on-team`) says how the work stood, not what the problem is:
    a person's tag is kept, one a rule added is not (a tag with no line of its own, a hand
    edit's, is kept)."""
    t = ticket("resolved")
    at = t.created
    log = ActivityLog((
        Activity(at, "rule:ask-sre", event="tagged", note="waiting-on-team"),
        Activity(at, "priya", event="tagged", note="security"),
    ))  # fmt: skip
    t = Ticket(**{**t.__dict__, "tags": ("security", "waiting-on-team", "tablet"), "activity": log})
    assert draft_from(t, "KB-0009", dt.date(2026, 11, 27)).tags == ("security", "tablet")


def test_without_a_resolution_entry_the_last_public_reply_is_the_solution() -> None:
    t = ticket("closed")
    t = Ticket(**{**t.__dict__, "entries": t.entries[:3]})
    assert draft_from(t, "KB-0009", dt.date(2026, 11, 27)).body.endswith("Unlocked it.\n")


@pytest.mark.parametrize("status", ["new", "open", "pending"])
def test_an_unresolved_ticket_is_refused(status: str) -> None:
    with pytest.raises(Refused, match=f"T-1 is {status}: draft an article from a resolved"):
        draft_from(ticket(status), "KB-0009", dt.date(2026, 11, 27))


def test_a_draft_escapes_headings_outside_code_blocks_alone() -> None:
    """"```python" inside a block is text, no closing fence (CommonMark: a closing fence
    takes no info string): it closed the block, so `## Solution` in the code was escaped
    and the real `## Problem` after it was not (a code review's find)."""
    from esc.domain.kb import _no_draft_headings

    text = "```\nx\n```python\n## Solution\n```\n## Problem"
    assert _no_draft_headings(text) == "```\nx\n```python\n## Solution\n```\n\\## Problem"


def test_an_article_title_with_a_control_character_is_a_problem() -> None:
    """(an escape sequence in a title validated: audit helper-481)"""
    data = {**GOOD, "title": "Refund \x1b]0;KB\x07 charge"}
    _, problems = article_from(data, LINES, "Body", "kb/KB-0003.md")
    said = "title must be one line of text, but it has the control character U+001B"
    assert (LINES["title"], said) in problems


def test_a_folded_title_is_one_line() -> None:
    """(`title: >` reads as the line and a line break: it was "has a line break", the
    article unusable; review helper-482)"""
    _, problems = article_from({**GOOD, "title": "Reset a locked account\n"}, LINES, "B", "x")
    assert [p for p in problems if p[0] == LINES["title"]] == []
