"""Knowledge-base articles ranked for a ticket or a search: BM25 by the bm25s library (its
tokenizer and its longer list of English stop words, with PyStemmer's Snowball English
stemmer, so "charged" finds "charge"), and the words of the query that each article
matched. Pure: articles and text in, ranking out.

bm25s and numpy take a tenth of a second or more to import, so they are imported only
when there is something to rank: ``esc show`` of a ticket with no kb/ pays nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from esc.domain.kb import Article
from esc.domain.model import Ticket
from esc.domain.records import immutable

if TYPE_CHECKING:
    import bm25s

# bm25s's own default token pattern: words of two or more letters or digits.
_WORD = re.compile(r"(?u)\b\w\w+\b")


@immutable
class Suggestion:
    article: Article
    score: float  # BM25, as bm25s computes it (higher: a better match)
    terms: tuple[str, ...]  # the words of the query found in the article


def ticket_query(ticket: Ticket) -> str:
    """What a ticket is about, in the customer's words: its title, its description and
    the customer's messages (not the agents' replies or notes)."""
    messages = [e.text for e in ticket.entries if e.kind == "message"]
    return "\n".join([ticket.title, ticket.description, *messages])


class Index:
    """The articles, tokenized and indexed once; :meth:`rank` ranks them for a text."""

    def __init__(self, articles: Sequence[Article]) -> None:
        import bm25s
        import Stemmer

        self.articles = list(articles)
        self._stem = Stemmer.Stemmer("english").stemWord
        self._tokenizer = bm25s.tokenization.Tokenizer(
            stemmer=self._stem, stopwords="en_plus", splitter=_WORD.pattern
        )
        self._stopwords = frozenset(self._tokenizer.stopwords)
        ids: Any = self._tokenizer.tokenize(
            [a.text() for a in self.articles], return_as="ids", show_progress=False
        )
        self._words = [set(doc) for doc in ids]
        self._retriever: bm25s.BM25 | None = None
        if self.articles:
            self._retriever = bm25s.BM25()
            self._retriever.index(ids, show_progress=False)

    def rank(self, text: str, limit: int) -> list[Suggestion]:
        """The best ``limit`` articles for ``text`` (those that match it at all), best
        first; equal scores in ID order."""
        if self._retriever is None or limit <= 0:
            return []
        vocab = self._tokenizer.get_vocab_dict()
        query: dict[int, str] = {}  # token id -> the first word of the text that gave it
        for word in _WORD.findall(text.lower()):
            if word in self._stopwords:
                continue
            token = vocab.get(self._stem(word))
            if token is not None:
                query.setdefault(token, word)
        if not query:
            return []
        scores = self._retriever.get_scores(list(query))
        order = sorted(
            (i for i in range(len(self.articles)) if scores[i] > 0),
            key=lambda i: (-float(scores[i]), self.articles[i].id),
        )
        return [
            Suggestion(
                self.articles[i],
                float(scores[i]),
                tuple(word for token, word in query.items() if token in self._words[i]),
            )
            for i in order[:limit]
        ]


def suggest(articles: Sequence[Article], ticket: Ticket, limit: int = 3) -> list[Suggestion]:
    """The best articles for a ticket (none without articles, and no import then)."""
    if not articles:
        return []
    return Index(articles).rank(ticket_query(ticket), limit)


def search(articles: Sequence[Article], text: str, limit: int = 10) -> list[Suggestion]:
    """The best articles for a search text."""
    if not articles:
        return []
    return Index(articles).rank(text, limit)
