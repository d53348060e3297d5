"""The knowledge base: `esc kb new|list|search|show`, `esc suggest`, and what `esc show`,
`esc resolve --kb` and `esc validate` need of it.

Commands that read many articles print each broken one as ``path:line: message`` on
stderr and exit 1, as `esc list` does for tickets; the others are still used.
"""

from __future__ import annotations

from collections.abc import Sequence

from esc.commands.session import Output, Session
from esc.domain import kb, query
from esc.domain.choices import unknown_choice
from esc.domain.config import Config, Finding
from esc.domain.errors import BadInput, ParseError
from esc.domain.model import Ticket, line_problem, tag_problem
from esc.domain.suggest import Suggestion, ticket_query
from esc.report import kb as views
from esc.store import kb as store
from esc.store.kb_index import index_for
from esc.ticketfile.article import ArticleDoc
from esc.ticketfile.document import TicketDoc

SHOWN_IN_SHOW = 3  # articles `esc show` suggests for a new or open ticket at level 1


def _output(found: store.KnowledgeBase) -> Output:
    return Output(notes=found.notes(), code=1 if found.broken else 0)


def new(
    session: Session,
    source: str | None,
    title: str | None,
    categories: tuple[str, ...],
    tags: tuple[str, ...],
    body: str | None,
    as_json: bool,
) -> Output:
    """Write a new article (drafted from a resolved ticket with ``source``); its ID."""
    config, today = session.config, session.now.date()
    draft: kb.Article | None = None
    if source is not None:
        ticket = session.workspace.load(source).ticket
        draft = kb.draft_from(ticket, "", today)
    elif title is None:
        raise BadInput("give --title (or --from TICKET to draft from a resolved ticket)")
    chosen_title = " ".join((title if title is not None else draft.title if draft else "").split())
    if title is not None:
        problem = line_problem(title) if title.strip() else "it is empty"
        if problem:
            raise BadInput(f"--title must be one line of text, but {problem}")
    chosen_categories = tuple(  # (in any case, as every command takes a category)
        query.in_its_case(config, "category", c) for c in categories
    ) or (draft.categories if draft else ())
    for category in chosen_categories:
        _require_category(config, category)
    for tag in tags:
        problem = tag_problem(tag)
        if problem:
            raise BadInput(problem)
    chosen_tags = tuple(dict.fromkeys(tags or (draft.tags if draft else ())))
    text = body if body is not None else draft.body if draft else ""

    def build(article_id: str) -> kb.Article:
        return kb.Article(
            id=article_id,
            title=chosen_title,
            categories=tuple(dict.fromkeys(chosen_categories)),
            tags=chosen_tags,
            updated=today,
            body=text,
            path="",
        )

    article = store.create(session.workspace.root, build)
    if as_json:
        return Output(data=views.article_json(article, full=True))
    return Output(text=f"{article.id}\n", notes=[f"esc: wrote {article.path}"])


def _usable(session: Session) -> store.KnowledgeBase:
    """kb/'s articles; one with a category rules.yaml lacks, as one that does not parse,
    among the broken."""
    return store.load(session.workspace.root, categories=session.config.categories)


def _require_category(config: Config, category: str) -> None:
    """BadInput unless ``category`` is one of rules.yaml's (when it closes the list)."""
    if config.categories is not None and category not in config.categories:
        raise BadInput(unknown_choice("category", category, config.categories))


def list_articles(session: Session, category: str | None, as_json: bool) -> Output:
    if category is not None:  # (in any case, as `list --category` takes it)
        category = query.in_its_case(session.config, "category", category)
        _require_category(session.config, category)
    found = _usable(session)
    articles = sorted(found.articles, key=lambda a: kb.id_order(a.id))
    if category is not None:
        articles = [a for a in articles if category in a.categories]
    output = _output(found)
    if as_json:
        output.data = [views.article_json(a) for a in articles]
    elif articles:
        output.text = views.articles_table(articles, session.width)
    else:
        output.notes.append("no articles" if category is None else "no articles match")
    return output


def search_articles(session: Session, text: str, limit: int, as_json: bool) -> Output:
    if not text.strip():
        raise BadInput("give some words to search for")
    index, found = index_for(session.workspace.root, session.config.categories)
    ranked = index.rank(text, limit) if index is not None else []
    return _ranked(found, ranked, session.width, as_json)


def show_article(session: Session, ref: str, as_json: bool) -> Output:
    article = _article(_usable(session), ref)
    if as_json:
        return Output(data=views.article_json(article, full=True))
    return Output(text=views.article_text(article, session.colour))


def suggest_for(session: Session, ref: str, limit: int, as_json: bool) -> Output:
    """`esc suggest ID`: the best articles for a ticket, with scores and matched words."""
    if limit < 1:
        raise BadInput("--limit must be 1 or more")
    ticket = session.workspace.load(ref).ticket
    index, found = index_for(session.workspace.root, session.config.categories)
    ranked = index.rank(ticket_query(ticket), limit) if index is not None else []
    return _ranked(found, ranked, session.width, as_json)


def _ranked(
    found: store.KnowledgeBase, ranked: Sequence[Suggestion], width: int, as_json: bool
) -> Output:
    output = _output(found)
    if as_json:
        output.data = [views.suggestion_json(s) for s in ranked]
    elif ranked:
        output.text = views.suggestions_table(ranked, width)
    else:
        output.notes.append("no articles match" + ("" if found.articles else " (kb/ holds none)"))
    return output


# ---------------------------------------------------------------- for other commands


def suggestions_for_show(
    session: Session, ticket: Ticket, config: Config
) -> tuple[list[Suggestion] | None, list[str]]:
    """The top articles `esc show` lists for a new or open ticket at level 1 (none may
    match), and notes for broken articles; None for any other ticket, or when kb/ has no
    article files, for which nothing is read, imported or ranked."""
    if ticket.status not in ("new", "open") or config.level(ticket.team) != 1:
        return None, []
    if not store.article_paths(session.workspace.root):
        return None, []
    index, found = index_for(session.workspace.root, config.categories)
    ranked = index.rank(ticket_query(ticket), SHOWN_IN_SHOW) if index is not None else []
    return ranked, found.notes()


def article_for_show(session: Session, doc: TicketDoc) -> tuple[str | None, list[str]]:
    """What `esc show` says of the article in the ticket's ``kb:``: its title, or (one kb/
    does not hold) "not in kb/" and `esc validate`'s finding, ``path:line: kb: unknown
    article …``; nothing for a ticket without one, for which kb/ is not read."""
    named = doc.ticket.kb
    if named is None:
        return None, []
    found = _usable(session)
    ids = {article.id for article in found.articles}
    use = (doc.path, doc.key_lines.get("kb", 1), named)
    # (as validate reads it: the ID as written)
    unknown = kb.ticket_kb_findings([use], ids, found.broken_ids)
    if unknown:
        said = "its file has a problem" if "cannot be used" in unknown[0].message else "not in kb/"
        return said, [str(ParseError(f.path, f.line, f.message)) for f in unknown]
    return next(a.title for a in found.articles if a.id == named), []


def article_id_for_resolve(session: Session, ref: str) -> str:
    """The ID of the article ``esc resolve --kb`` names; a usage error if there is none."""
    return _article(_usable(session), ref).id


def _article(found: store.KnowledgeBase, ref: str) -> kb.Article:
    """The article ``ref`` names; its first problem (exit 1) if its file is there but does
    not parse or validate, else a usage error naming the articles there are."""
    try:
        article = kb.find(ref, found.articles)
    except BadInput:
        wanted = kb.normalise(ref)
        if wanted in found.broken_ids:  # the article is there, but esc cannot use it
            raise found.broken_ids[wanted] from None
        broken = [e for e in found.broken if e.path.endswith(f"/{wanted}.md")]
        if broken:  # (its file, named after it, does not parse)
            raise broken[0] from None
        raise
    twice = found.duplicated.get(kb.id_number(article.id))
    if twice is not None:  # (two files hold its ID: which one is meant is not known)
        raise twice
    return article


def article_findings(session: Session, config: Config | None) -> tuple[list[Finding], int]:
    """`esc validate`'s findings in kb/: files that do not parse, missing, unknown or
    wrong keys, duplicate IDs, unknown categories; and how many article files there are."""
    findings: list[Finding] = []
    seen: dict[int | str, str] = {}  # (by the ID's number: KB-00001 and KB-0001 are one)
    count = 0
    for item in store.scan(session.workspace.root):
        count += 1
        if isinstance(item, ParseError):
            findings.append(Finding(item.path, item.line, item.message))
            continue
        # (a file's problems in the order of its lines, as a reader fixes them)
        mine = _article_problems(item, config)
        article = item.article
        number = kb.id_number(article.id)
        if article.id and number in seen:
            mine.append(
                Finding(
                    article.path,
                    item.key_lines.get("id", 1),
                    f"duplicate id {article.id} (also in {seen[number]})",
                )
            )
        if article.id:
            seen.setdefault(number, article.path)
        findings += sorted(mine, key=lambda f: f.line)  # (in its lines' order, as a reader
    return findings, count  # fixes them)


def _article_problems(doc: ArticleDoc, config: Config | None) -> list[Finding]:
    path = doc.article.path
    out = [Finding(path, line, message) for line, message in doc.problems]
    misnamed = kb.file_name_problem(doc.article.id, path)
    if misnamed is not None:
        out.append(Finding(path, doc.key_lines.get("id", 1), misnamed))
    if config is not None:
        line = doc.key_lines.get("categories", 1)
        unknown = kb.category_problems(doc.article, config.categories)
        out += [Finding(path, line, message) for message in unknown]
    return out
