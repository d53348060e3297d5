"""Knowledge-base articles: the record, its front-matter's meaning, IDs, and drafting an
article from a solved ticket. Pure: the file format is :mod:`esc.ticketfile.article`,
the kb/ folder :mod:`esc.store.kb`, the ranking :mod:`esc.domain.suggest`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from esc.domain.choices import as_text, did_you_mean, unknown_choice
from esc.domain.config import Finding
from esc.domain.errors import BadInput, ParseError, Refused
from esc.domain.model import RULE_ACTOR, Ticket, line_problem, tag_problem
from esc.domain.records import immutable
from esc.domain.timestamps import coerce_timestamp

# The front-matter keys of an article, in the order esc writes them; all required.
ARTICLE_KEYS = ("id", "title", "categories", "tags", "updated")
PREFIX = "KB"
_ID = re.compile(r"KB-([0-9]{4,})")  # (ASCII digits: `KB-٠٠٣٩` validated, and was KB-0039
# to `kb new` but to no lookup: audit helper-425)


def id_number(article_id: str) -> int | str:
    """What names an article: its ID's number (KB-00001 and KB-0001 are one), or the ID
    itself if it is not like KB-0001."""
    found = _ID.fullmatch(article_id)
    return int(found.group(1)) if found else article_id


def id_order(article_id: str) -> tuple[int, int, str]:
    """Where an article's ID goes in a list: by number (``KB-9999`` before ``KB-10000``, as
    ``esc kb new`` numbers them), an ID not like KB-0001 after those, by its text."""
    number = id_number(article_id)
    return (0, number, article_id) if isinstance(number, int) else (1, 0, article_id)


# An article whose `updated` date is this old is reported as stale.
STALE_AFTER = dt.timedelta(days=180)


@immutable
class Article:
    id: str
    title: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    updated: dt.date
    body: str
    path: str

    def text(self) -> str:
        """What the ranking reads: the title (twice: it names the problem), the
        categories, the tags and the body."""
        return "\n".join(
            [self.title, self.title, " ".join(self.categories), " ".join(self.tags), self.body]
        )


def article_from(
    data: Mapping[str, Any], key_lines: Mapping[str, int], body: str, path: str
) -> tuple[Article, list[tuple[int, str]]]:
    """The article a front-matter means, and its problems as (line, message): a missing or
    unknown key, a value of the wrong type."""
    problems: list[tuple[int, str]] = []

    def line(key: str) -> int:
        return key_lines.get(key, 1)

    for key in data:
        if key not in ARTICLE_KEYS:
            hint = did_you_mean(str(key), ARTICLE_KEYS)
            problems.append((line(key), f"unknown key {key!r}{hint}; an article has "
                             f"{', '.join(ARTICLE_KEYS)}"))
    for key in ARTICLE_KEYS:
        if key not in data:
            problems.append((1, f"{key} is missing"))

    def text(key: str) -> str:
        value = data.get(key)
        if value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
            if key in data:
                problems.append((line(key), f"{key} must be one line of text"))
            return ""
        if "\n" in str(value).strip():  # (`title: |` over two lines: `kb new` refuses it)
            problems.append((line(key), f"{key} must be one line of text, not several"))
        return as_text(value)

    def words(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            # (`[on, 010]`: 010 is a number, as in a ticket's tags, whose reading this is)
            problems.append((line(key), f"{key} must be a list of words, like [billing, refund]"))
            return ()
        out = tuple(value)
        for word in out:
            problem = tag_problem(word)
            if problem is not None:
                problems.append((line(key), f"{key}: {problem}"))
        for word in dict.fromkeys(w for w in out if out.count(w) > 1):
            problems.append((line(key), f"{key}: {word} is given twice"))
        return out

    raw_title = data.get("title")
    title_problem = (  # (a folded title, `title: >`, ends with a line break: one line)
        line_problem(raw_title.strip())
        if isinstance(raw_title, str) and raw_title.strip() and "\n" not in raw_title.strip()
        else None  # (empty, or several lines: text() says so)
    )
    if title_problem is not None:  # (a title is shown, listed and linked: one line, as a
        # ticket's is; an escape sequence validated: audit helper-481)
        problems.append((line("title"), f"title must be one line of text, but {title_problem}"))
    article_id = text("id")
    if article_id and not _ID.fullmatch(article_id):
        problems.append((line("id"), f"id {article_id!r} is not like KB-0001"))
    updated = _date(data.get("updated"))
    if updated is None and "updated" in data:
        problems.append((line("updated"), f"updated {data.get('updated')!s} is not a date "
                         "like 2026-11-27"))
    article = Article(
        id=article_id,
        title=" ".join(text("title").split()),
        categories=words("categories"),
        tags=words("tags"),
        updated=updated or dt.date(1970, 1, 1),
        body=body,
        path=path,
    )
    return article, problems


def category_problems(article: Article, categories: Sequence[str] | None) -> list[str]:
    """A message for each of the article's categories rules.yaml does not have (none when
    ``categories`` is None: rules.yaml leaves the list open)."""
    if categories is None:
        return []
    return [unknown_choice("category", c, categories) for c in article.categories
            if c not in categories]  # fmt: skip


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            moment = coerce_timestamp(value)
            return moment.date() if moment is not None else None
    return None


def front_of(article: Article) -> dict[str, object]:
    """An article's front-matter, in the order esc writes it."""
    return {
        "id": article.id,
        "title": article.title,
        "categories": list(article.categories),
        "tags": list(article.tags),
        "updated": article.updated,
    }


# ---------------------------------------------------------------- IDs


def number_of(article_id: str) -> int | None:
    match = _ID.fullmatch(article_id.upper())
    return int(match[1]) if match else None


def file_name_problem(article_id: str, path: str) -> str | None:
    """Why an article's file name and its ID disagree, if they do: a file named as an
    article ID (`KB-0014.md`, as `esc kb new` names them) names that article; any other
    name is free (README: "a file you add by hand may have any name")."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".md")
    if number_of(stem) is None or not article_id or article_id == stem:
        return None
    return f"id {article_id} does not match the file name {stem}.md"


def next_id(taken: Iterable[str]) -> str:
    """The next article ID after the highest taken: ``KB-0001``, ``KB-0002``..."""
    numbers = [n for n in (number_of(t) for t in taken) if n is not None]
    return f"{PREFIX}-{max(numbers, default=0) + 1:04d}"


def normalise(ref: str) -> str:
    """What the user typed as an article: ``KB-0003``, ``kb-0003``, ``KB-3`` or ``3`` →
    ``KB-0003``."""
    text = ref.strip().upper()
    number = text.removeprefix(f"{PREFIX}-")
    if number.isascii() and number.isdigit() and len(number) <= 9:
        return f"{PREFIX}-{int(number):04d}"
    return text


def find(ref: str, articles: Sequence[Article]) -> Article:
    """The article ``ref`` names; BadInput (a usage error) for one that does not exist."""
    wanted = normalise(ref)
    for typed in (ref.strip().upper(), wanted):  # (as typed first: an ID named by hand)
        for article in articles:
            if article.id.upper() == typed:
                return article
    raise BadInput(unknown_article(ref, [a.id for a in articles]))


def unknown_article(ref: str, ids: Sequence[str]) -> str:
    """``unknown article 'KB-0093' (did you mean 'KB-0003'?); `esc kb list` lists them``"""
    if not ids:
        return f"unknown article {ref!r}: kb/ holds no articles"
    hint = did_you_mean(normalise(ref), ids)
    return f"unknown article {ref!r}{hint}; `esc kb list` lists them"


# ---------------------------------------------------------------- drafting


def draft_from(ticket: Ticket, article_id: str, today: dt.date) -> Article:
    """A new article drafted from a resolved ticket: its title, category and tags, the
    customer's problem (description and messages) and the resolution (else the last
    public reply). Refused for a ticket that is not resolved or closed."""
    if ticket.status not in ("resolved", "closed"):
        raise Refused(
            f"{ticket.id} is {ticket.status}: draft an article from a resolved ticket"
        )
    problem = [ticket.description.strip()] if ticket.description.strip() else []
    problem += [e.text.strip() for e in ticket.entries if e.kind == "message" and e.text.strip()]
    solved = [e for e in ticket.entries if e.kind == "resolution"] or [
        e for e in ticket.entries if e.kind == "reply"
    ]
    solution = solved[-1].text.strip() if solved else "(how it was solved)"
    body = (
        "## Problem\n\n"
        + (_no_draft_headings("\n\n".join(problem)) or "(what the customer saw)")
        + "\n\n## Solution\n\n"
        + _no_draft_headings(solution)
        + "\n"
    )
    return Article(
        id=article_id,
        title=ticket.title,
        categories=(ticket.category,) if ticket.category else (),
        tags=tuple(t for t in ticket.tags if t not in _tagged_by_rules(ticket)),
        updated=today,
        body=body,
        path="",
    )


# A line of the words a draft quotes that reads as one of the draft's own headings.
# (`## Solution?` and `# Problem description` too: the reader takes them for its sections)
_DRAFT_HEADING = re.compile(r"([ ]{0,3})(#{1,6}[ \t]+(?:problem|solution)\b.*)", re.IGNORECASE)


def _no_draft_headings(text: str) -> str:
    """``text`` with a line that reads as a draft's own heading (`## Solution` in what the
    customer wrote) escaped (`\\## Solution`): shown as written, not as a second section."""
    out = []
    fence: str | None = None  # (inside a fenced block: `# Solution: restart it` is code)
    for line in text.split("\n"):
        mark = _FENCE.match(line)
        opens = mark is not None and fence is None
        closes = (  # (a closing fence takes no info string: "```python" inside one is text)
            mark is not None and fence is not None and mark.group(1)[0] == fence[0]
            and len(mark.group(1)) >= len(fence) and not line[mark.end() :].strip()
        )  # fmt: skip
        if opens or closes:
            fence = mark.group(1) if opens and mark is not None else None
        elif fence is None and _DRAFT_HEADING.fullmatch(line):
            line = _DRAFT_HEADING.sub(r"\1\\\2", line)
        out.append(line)
    return "\n".join(out)


_FENCE = re.compile(r"[ ]{0,3}(`{3,}|~{3,})")


def _tagged_by_rules(ticket: Ticket) -> set[str]:
    """The tags a rule put on ``ticket`` (its first `tagged` line is a rule's): the state
    of the work (`waiting-on-team`), not what the problem is about."""
    first: dict[str, str] = {}
    for line in ticket.activity:
        if line.event == "tagged" and line.note not in first:
            first[line.note] = line.by
    return {tag for tag, by in first.items() if by.startswith(RULE_ACTOR)}


def ticket_kb_findings(
    uses: Sequence[tuple[str, int, str]],
    article_ids: set[str],
    broken: Mapping[str, ParseError] | None = None,
) -> list[Finding]:
    """Tickets whose ``kb:`` names an article kb/ does not have; ``uses``: (path, line,
    article) of each ticket that names one.  ``broken``: the first problem of each article
    whose file is there but cannot be used, by its ID (``KnowledgeBase.broken_ids``): said
    as its problem (it was an "unknown article", did you mean another; audit helper-438)."""
    ids = sorted(article_ids)
    out = []
    for path, line, article in uses:
        if article in article_ids:
            continue
        problem = (broken or {}).get(article) or (broken or {}).get(normalise(article))
        said = (
            f"article {article} cannot be used: {problem}"
            if problem is not None
            else unknown_article(article, ids)
        )
        out.append(Finding(path, line, f"kb: {said}"))
    return out
