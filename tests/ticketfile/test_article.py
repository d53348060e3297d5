"""The article file: read with the ticket file's front-matter reader, written in esc's style."""

from __future__ import annotations

import datetime as dt

import frontmatter
import pytest

from esc.domain.errors import ParseError
from esc.domain.kb import Article
from esc.ticketfile.article import parse, render

ARTICLE = Article(
    "KB-0007", "Add a second admin: owners only", ("how-to",), ("team", "admin"),
    dt.date(2026, 9, 1), "## Solution\n\n**Settings → Team → Invite member**.", "",
)  # fmt: skip


def test_an_article_written_reads_back_the_same_and_any_reader_agrees() -> None:
    text = render(ARTICLE)
    assert text.startswith("---\nid: KB-0007\ntitle: ")
    front = "categories:\n  - how-to\ntags:\n  - team\n  - admin\nupdated: 2026-09-01\n---\n\n"
    assert front in text
    doc = parse(text, "kb/KB-0007.md")
    assert doc.problems == []
    assert doc.article == Article(**{**ARTICLE.__dict__, "path": "kb/KB-0007.md"})
    other = frontmatter.loads(text)  # an independent reader (PyYAML) sees the same values
    assert other["title"] == ARTICLE.title and other["tags"] == ["team", "admin"]
    assert other.content == ARTICLE.body


def test_a_hand_written_article_in_block_style_with_comments_reads_too() -> None:
    text = (
        "---\nid: KB-0001   # first\ntitle: 'Refunds'\ncategories:\n  - refund\ntags: []\n"
        "updated: 2026-02-03T10:00:00+01:00\n---\nBody\n"
    )
    doc = parse(text, "kb/a.md")
    assert doc.problems == []
    assert (doc.article.categories, doc.article.updated) == (("refund",), dt.date(2026, 2, 3))
    assert doc.key_lines["categories"] == 4


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("no front-matter\n", "kb/a.md:1: no front-matter"),
        ("---\nid: [KB-1\n---\n", "kb/a.md:2: front-matter does not parse: a flow sequence"),
        ("---\n- a list\n---\n", "kb/a.md:2: front-matter must be a mapping"),
    ],
)
def test_a_file_that_does_not_parse_says_where(text: str, where: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text, "kb/a.md")
    assert str(caught.value).startswith(where)


def test_problems_in_values_are_listed_with_their_lines() -> None:
    doc = parse("---\nid: KB-0001\ntitle: x\ncategories: nope\ntags: []\n---\n", "kb/a.md")
    assert doc.problems == [
        (1, "updated is missing"),
        (4, "categories must be a list of words, like [billing, refund]"),
    ]


def test_a_lone_surrogate_in_an_article_is_a_problem_at_its_line() -> None:
    """As in a ticket: `title: "\\ud800"` is no character, and an article holding one was
    taken and listed (issue 20)."""
    text = '---\nid: KB-0001\ntitle: "\\ud800 reset"\ntags: [a, "\\udfff"]\n---\n\nbody\n'
    doc = parse(text, "kb/KB-0001.md")
    lone = "a lone surrogate escape (such as \\ud800) is no character"
    assert (3, f"title: {lone}") in doc.problems
    assert (4, f"tags: {lone}") in doc.problems
