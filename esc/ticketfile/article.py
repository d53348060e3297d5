"""The knowledge-base article file: YAML front-matter (id, title, categories, tags,
updated) and a Markdown body, read with the ticket file's own front-matter reader (one
YAML dialect, one parser) and written in esc's style. Pure text in, records out.

    ---
    id: KB-0003
    title: Reset a locked account
    categories:
      - account
    tags:
      - login
      - lockout
    updated: 2026-11-02
    ---

    ## Problem
    ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

from esc.domain.kb import Article, article_from, front_of
from esc.ticketfile import yaml_text
from esc.ticketfile.document import check_surrogates, read_front, split


@dataclass
class ArticleDoc:
    """An article file as read: the article, the line of each key, and its problems."""

    article: Article
    key_lines: dict[str, int]
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def parse(text: str, path: str) -> ArticleDoc:
    """Read an article file; ParseError for one whose front-matter does not parse, its
    problems listed for one whose values are wrong."""
    front_start, front_end, body_start = split(text, path)
    data, key_lines, _ = read_front(text[front_start:front_end], path)
    body = text[body_start:].strip("\r\n")
    article, problems = article_from(data, key_lines, body, path)
    check_surrogates(data, key_lines, problems)  # (as in a ticket: no character at all)
    return ArticleDoc(article, key_lines, problems)


def render(article: Article) -> str:
    """The text of an article file, its front-matter in esc's own style (one fact per
    line, block lists), which :mod:`esc.ticketfile.fast_front` reads without a YAML
    library: a thousand articles are read in milliseconds, not a second."""
    front = yaml_text.render_mapping(front_of(article))
    body = article.body.strip("\n")
    return f"---\n{front}---\n\n{body}\n" if body else f"---\n{front}---\n"
