"""The knowledge base's folder, kb/: reading its articles and writing a new one.

A file that does not parse, or whose front-matter has a problem, comes back as a
:class:`ParseError` (``path:line: message``) and is never rewritten; a new article is
written atomically under the next free ID, never over an existing file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from esc.domain import kb
from esc.domain.errors import EscError, ParseError, utf8_text
from esc.store import atomic
from esc.store.names import undecodable_name
from esc.ticketfile import article as article_file
from esc.ticketfile.article import ArticleDoc

KB_DIR = "kb"


@dataclass
class KnowledgeBase:
    """The articles of a workspace's kb/ folder that can be used, and the files that
    cannot (as their first problem)."""

    articles: list[kb.Article] = field(default_factory=list)
    broken: list[ParseError] = field(default_factory=list)
    # the first problem of each article that parsed but cannot be used, by its ID (a file
    # added by hand has any name: its ID is in it)
    broken_ids: dict[str, ParseError] = field(default_factory=dict)
    # the problem of an ID two files hold (by its number, as :func:`load` finds them): an
    # article named by it is ambiguous
    duplicated: dict[int | str, ParseError] = field(default_factory=dict)
    # the first article of each ID two files hold: left out of ``articles`` with the other
    # (which one is meant is not known: `kb list` and `suggest` offered the one `kb show`
    # and `resolve --kb` refuse), yet its ID is one kb/ holds
    ambiguous: list[kb.Article] = field(default_factory=list)

    def notes(self) -> list[str]:
        return [str(error) for error in self.broken]

    def ids(self) -> set[str]:
        """The IDs kb/ holds in a file that parses and validates (an ID two files hold
        too): what a ticket's ``kb:`` may name without a finding of its own."""
        return {a.id for a in (*self.articles, *self.ambiguous)}


def kb_dir(root: Path) -> Path:
    return root / KB_DIR


def article_paths(root: Path) -> list[Path]:
    """The article files: kb/*.md and those in folders below it, such as kb/billing/*.md
    (articles filed by topic), but hidden ones (none if there is no kb/ folder)."""
    return _walked(root)[0]


def _walked(root: Path) -> tuple[list[Path], list[ParseError]]:
    """:func:`article_paths`, and a finding for each folder below kb/ that cannot be read
    (its articles are not there: said, as an unreadable article is, while every other
    command goes on).  EscError if kb/ itself cannot be read (it was taken for an empty
    one, "no articles", exit 0)."""
    folder = kb_dir(root)
    found: list[Path] = []
    skipped: list[ParseError] = []

    def unreadable(exc: OSError) -> None:
        if isinstance(exc, FileNotFoundError):
            return  # (no kb/, or a folder removed since it was listed)
        shown = os.path.relpath(exc.filename, root) if exc.filename else KB_DIR
        said = f"cannot be read ({exc.strerror or exc})"
        if shown == KB_DIR:
            raise EscError(f"{shown}: {said}")
        skipped.append(ParseError(shown, 1, f"{said}: its articles are left out"))

    for top, dirs, names in os.walk(folder, onerror=unreadable):  # (symlinks not followed)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(top)
        found += [here / n for n in sorted(names) if n.endswith(".md") and not n.startswith(".")]
    return found, skipped


def relative(root: Path, path: Path) -> str:
    """An article's path as findings show it: ``kb/KB-0001.md``, ``kb/billing/KB-0002.md``."""
    return path.relative_to(root).as_posix()


def read_doc(path: Path, rel: str) -> ArticleDoc:
    """One article file, parsed; ParseError if it is no UTF-8 text or does not parse."""
    try:
        data = atomic.read_with_stat(path)[0]
    except atomic.NotRegularFile as exc:
        raise ParseError(rel, 0, str(exc)) from None
    return article_file.parse(utf8_text(data, rel), rel)


def scan(root: Path) -> Iterator[ArticleDoc | ParseError]:
    """Every article file, parsed, or its error (a folder that cannot be read too)."""
    paths, skipped = _walked(root)
    yield from skipped
    for path in paths:
        rel = relative(root, path)
        unreadable = undecodable_name(path.name, rel.rsplit("/", 1)[0])
        if unreadable is not None:
            yield unreadable
            continue
        try:
            yield read_doc(path, rel)
        except ParseError as exc:
            yield exc
        except FileNotFoundError:  # (removed since the folder was listed)
            continue
        except OSError as exc:  # (unreadable: one article, as one that does not parse)
            yield ParseError(rel, 1, f"cannot be read ({exc.strerror or exc})")


def load(root: Path, *, categories: Sequence[str] | None) -> KnowledgeBase:
    """The articles that parse and have no problem (the first of two with one ID is
    kept); the others as ParseErrors with their first problem.  ``categories``: those
    rules.yaml has (an article with another is left out, as `esc validate` reports it;
    None: every category, as when rules.yaml leaves the list open)."""
    found = KnowledgeBase()
    seen: dict[int | str, str] = {}  # (by number: KB-00001 is KB-0001, as `kb show 1` finds it)
    for item in scan(root):
        if isinstance(item, ParseError):
            found.broken.append(item)
            stated = stated_id(root / item.path)
            if stated is not None:  # (a hand-named file that does not parse: its ID is
                found.broken_ids.setdefault(kb.normalise(stated), item)  # still its own)
            continue
        article = item.article
        category_line = item.key_lines.get("categories", 1)
        problems = list(item.problems)
        misnamed = kb.file_name_problem(article.id, article.path)  # (validate says it)
        if misnamed is not None:
            problems.append((item.key_lines.get("id", 1), misnamed))
        problems += [
            (category_line, message) for message in kb.category_problems(article, categories)
        ]
        if problems:
            line, message = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            found.broken.append(ParseError(article.path, line, message + more))
            if article.id:
                found.broken_ids.setdefault(article.id, found.broken[-1])
            if misnamed is not None:  # (a ticket naming the file's ID names this file too:
                # its problem is said, not "unknown article"; audit helper-458)
                stem = article.path.rsplit("/", 1)[-1].removesuffix(".md")
                found.broken_ids.setdefault(kb.normalise(stem), found.broken[-1])
        elif kb.id_number(article.id) in seen:
            line = item.key_lines.get("id", 1)
            also = f"duplicate id {article.id} (also in {seen[kb.id_number(article.id)]})"
            found.broken.append(ParseError(article.path, line, also))
            found.duplicated.setdefault(kb.id_number(article.id), found.broken[-1])
        else:
            seen[kb.id_number(article.id)] = article.path
            found.articles.append(article)
    if found.duplicated:
        for article in found.articles:
            twice = found.duplicated.get(kb.id_number(article.id))
            if twice is not None:
                found.ambiguous.append(article)
                found.broken_ids.setdefault(article.id, twice)
        found.articles = [a for a in found.articles if a not in found.ambiguous]
    return found


_CLOSING = re.compile(r"(?<=\n)(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)  # (after line 1)
_STATED_ID = re.compile(r"^id:[ \t]*[\"']?([A-Za-z0-9][\w-]*)", re.MULTILINE)


def stated_id(path: Path) -> str | None:
    """The ID an article file that does not parse states on an ``id:`` line of its own
    (None if none): naming that ID gives the file's problem, and `esc kb new` never takes
    it."""
    try:  # (never a FIFO or a device: read_with_stat refuses what is no regular file)
        head = atomic.read_with_stat(path)[0][: 64 * 1024].decode("utf-8", "replace")
    except (atomic.NotRegularFile, OSError):
        return None
    if not re.match(r"\ufeff?---[ \t]*\r?\n", head):  # (no front-matter: no ID of its own)
        return None
    closing = _CLOSING.search(head)  # (the front-matter's, if it closes: not an `id:` line
    found = _STATED_ID.search(head, 0, closing.start() if closing else len(head))  # below)
    return found[1] if found else None


def create(root: Path, build: Callable[[str], kb.Article]) -> kb.Article:
    """Write a new article under the next free ID; ``build`` makes it from the ID."""
    folder = kb_dir(root)
    with atomic.folders_made_for(folder / "KB-0001.md"):  # (a failed first article: no kb/)
        return _created(root, folder, build)


def _created(root: Path, folder: Path, build: Callable[[str], kb.Article]) -> kb.Article:
    taken: list[str] = []
    for tries in range(CREATE_TRIES):
        if tries == 0 or tries % 10 == 0:  # (read again now and then: others write too)
            taken = [p.stem for p in article_paths(root)]
            for doc in scan(root):  # (a file that does not parse keeps the ID it states)
                stated = doc.article.id if isinstance(doc, ArticleDoc) else stated_id(
                    root / doc.path
                )
                taken += [stated] if stated else []
        article_id = kb.next_id(taken)
        taken.append(article_id)  # (lost to another esc: the next one is tried)
        path = folder / f"{article_id}.md"
        article = build(article_id)
        try:
            atomic.atomic_write(path, article_file.render(article), exclusive=True)
        except FileExistsError:  # (another esc took this ID meanwhile)
            continue
        return read_doc(path, relative(root, path)).article
    raise EscError(  # pragma: no cover - (CREATE_TRIES articles written meanwhile)
        f"could not find a free article ID in {CREATE_TRIES} tries: others kept taking them"
    )


CREATE_TRIES = 1000  # IDs tried while other commands take the next ones (sequential IDs)
