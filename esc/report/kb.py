"""Knowledge-base articles and suggestions as people read them (tables, text) and as
JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from esc.domain.kb import Article
from esc.domain.suggest import Suggestion
from esc.report.views import paint


def article_json(article: Article, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "categories": list(article.categories),
        "tags": list(article.tags),
        "updated": article.updated.isoformat(),
        "file": article.path,
    }
    if full:
        data["body"] = article.body
    return data


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    return {
        **article_json(suggestion.article),
        "score": round(suggestion.score, 3),
        "terms": list(suggestion.terms),
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    """Columns as wide as their widest cell; the last one cut to fit ``width``."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    fixed = sum(widths[:-1]) + 2 * (len(widths) - 1)
    last = max(10, width - fixed)
    lines = []
    for row in [list(header), *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        tail = row[-1] if len(row[-1]) <= last else row[-1][: last - 1] + "…"
        lines.append("  ".join([*cells, tail]).rstrip())
    return "\n".join(lines) + "\n"


def articles_table(articles: Sequence[Article], width: int) -> str:
    rows = [
        [a.id, a.updated.isoformat(), ",".join(a.categories) or "-", a.title] for a in articles
    ]
    return _table(("ID", "UPDATED", "CATEGORIES", "TITLE"), rows, width)


def suggestions_table(suggestions: Sequence[Suggestion], width: int) -> str:
    rows = [
        [s.article.id, f"{s.score:.2f}", s.article.title, ", ".join(s.terms)]
        for s in suggestions
    ]
    return _table(("ID", "SCORE", "TITLE", "MATCHED"), rows, width)


def article_text(article: Article, colour: bool) -> str:
    facts = [
        ("categories", ", ".join(article.categories) or "-"),
        ("tags", ", ".join(article.tags) or "-"),
        ("updated", article.updated.isoformat()),
        ("file", article.path),
    ]
    lines = [paint(f"{article.id}  {article.title}", "bold", colour), ""]
    lines += [f"  {k:<12}{v}" for k, v in facts]
    if article.body.strip():
        lines += ["", article.body.strip("\n")]
    return "\n".join(lines) + "\n"


def suggestion_lines(suggestions: Sequence[Suggestion], colour: bool) -> list[str]:
    """The section ``esc show`` adds for a new or open ticket at level 1."""
    if not suggestions:
        return []
    lines = ["", paint("Suggested articles", "bold", colour)]
    for s in suggestions:
        terms = ", ".join(s.terms)
        lines.append(f"  {s.article.id}  {s.score:5.2f}  {s.article.title}  ({terms})")
    return lines
