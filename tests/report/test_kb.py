"""Knowledge-base articles and suggestions as esc prints them (esc.report.kb): JSON shapes,
the `esc kb list` and `esc suggest` tables, an article's text and the section `esc show`
adds."""

from __future__ import annotations

import datetime as dt
import json

from esc.domain.kb import Article
from esc.domain.suggest import Suggestion
from esc.report.kb import (
    article_json,
    article_text,
    articles_table,
    suggestion_json,
    suggestion_lines,
    suggestions_table,
)
from esc.report.terminal import printable

REFUND = Article(
    id="KB-0001",
    title="How to refund a double charge",
    categories=("billing", "refund"),
    tags=("stripe", "card"),
    updated=dt.date(2026, 11, 2),
    body="\nFind both charges in the dashboard.\n\nRefund the later one.\n\n",
    path="kb/KB-0001.md",
)
BARE = Article(
    id="KB-0002",
    title="Reset a password",
    categories=(),
    tags=(),
    updated=dt.date(2026, 1, 15),
    body="   \n",
    path="kb/KB-0002.md",
)


# ---------------------------------------------------------------- JSON


def test_article_json_gives_its_facts_and_the_body_only_when_full() -> None:
    data = article_json(REFUND)
    assert data == {
        "id": "KB-0001",
        "title": "How to refund a double charge",
        "categories": ["billing", "refund"],
        "tags": ["stripe", "card"],
        "updated": "2026-11-02",
        "file": "kb/KB-0001.md",
    }
    full = article_json(REFUND, full=True)
    assert full == {**data, "body": REFUND.body}  # (as in the file, not stripped)
    assert json.loads(json.dumps(full)) == full  # plain JSON


def test_article_json_of_an_article_without_categories_or_tags_has_empty_lists() -> None:
    data = article_json(BARE)
    assert (data["categories"], data["tags"]) == ([], [])
    assert "body" not in data


def test_suggestion_json_is_the_article_with_its_score_rounded_and_its_terms() -> None:
    data = suggestion_json(Suggestion(REFUND, 3.14159265, ("refund", "charg")))
    assert data == {**article_json(REFUND), "score": 3.142, "terms": ["refund", "charg"]}
    assert "body" not in data


# ---------------------------------------------------------------- tables


def test_articles_table_aligns_columns_to_their_widest_cell() -> None:
    assert articles_table([REFUND, BARE], 120).splitlines() == [
        "ID       UPDATED     CATEGORIES      TITLE",
        "KB-0001  2026-11-02  billing,refund  How to refund a double charge",
        "KB-0002  2026-01-15  -               Reset a password",
    ]


def test_an_empty_articles_table_is_its_header() -> None:
    assert articles_table([], 80) == "ID  UPDATED  CATEGORIES  TITLE\n"


def test_the_last_column_is_cut_to_the_width_with_an_ellipsis() -> None:
    table = articles_table([REFUND, BARE], 50)
    lines = table.splitlines()
    fixed = len("KB-0001  2026-11-02  billing,refund  ")
    assert lines[1] == "KB-0001  2026-11-02  billing,refund  How to refun…"
    assert len(lines[1]) == 50 == fixed + 13
    assert lines[2] == "KB-0002  2026-01-15  -               Reset a pass…"
    assert lines[0].endswith("  TITLE")  # (fits: left whole)
    assert all(len(line) <= 50 for line in lines)


def test_the_last_column_keeps_at_least_ten_characters_however_narrow() -> None:
    lines = articles_table([REFUND], 20).splitlines()
    assert lines[1].endswith("  How to re…")
    assert lines[1].split("  ")[-1] == "How to re…"  # 10 characters


def test_suggestions_table_shows_the_score_with_two_places_and_the_matched_terms() -> None:
    suggestions = [
        Suggestion(REFUND, 7.456, ("refund", "charg")),
        Suggestion(BARE, 0.5, ()),
    ]
    assert suggestions_table(suggestions, 100).splitlines() == [
        "ID       SCORE  TITLE                          MATCHED",
        "KB-0001  7.46   How to refund a double charge  refund, charg",
        "KB-0002  0.50   Reset a password",  # (no terms: no trailing spaces)
    ]


# ---------------------------------------------------------------- text


def test_article_text_shows_the_facts_then_the_body() -> None:
    assert article_text(REFUND, colour=False) == (
        "KB-0001  How to refund a double charge\n"
        "\n"
        "  categories  billing, refund\n"
        "  tags        stripe, card\n"
        "  updated     2026-11-02\n"
        "  file        kb/KB-0001.md\n"
        "\n"
        "Find both charges in the dashboard.\n"
        "\n"
        "Refund the later one.\n"
    )


def test_article_text_of_a_blank_body_ends_with_the_facts_and_dashes_for_none() -> None:
    assert article_text(BARE, colour=False) == (
        "KB-0002  Reset a password\n"
        "\n"
        "  categories  -\n"
        "  tags        -\n"
        "  updated     2026-01-15\n"
        "  file        kb/KB-0002.md\n"
    )


def test_article_text_in_colour_makes_only_the_heading_bold() -> None:
    coloured = printable(article_text(REFUND, colour=True))
    lines = coloured.splitlines()
    assert lines[0] == "\x1b[1mKB-0001  How to refund a double charge\x1b[0m"
    assert lines[1:] == article_text(REFUND, colour=False).splitlines()[1:]


def test_suggestion_lines_are_nothing_without_suggestions() -> None:
    assert suggestion_lines([], colour=True) == []


def test_suggestion_lines_are_a_titled_section_one_line_per_article() -> None:
    suggestions = [Suggestion(REFUND, 12.3456, ("refund", "charg")), Suggestion(BARE, 0.5, ())]
    assert suggestion_lines(suggestions, colour=False) == [
        "",
        "Suggested articles",
        "  KB-0001  12.35  How to refund a double charge  (refund, charg)",
        "  KB-0002   0.50  Reset a password  ()",
    ]
    coloured = [printable(line) for line in suggestion_lines(suggestions, colour=True)]
    assert coloured[1] == "\x1b[1mSuggested articles\x1b[0m"
