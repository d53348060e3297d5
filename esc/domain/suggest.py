"""Knowledge-base articles ranked for a ticket or a search: BM25 by the bm25s library (its
tokenizer and its longer list of English stop words, with PyStemmer's Snowball English
stemmer, so "charged" finds "charge"), and the words of the query that each article
matched. Pure: articles and text in, ranking out.

bm25s and numpy take a tenth of a second or more to import, so they are imported only
when there is something to rank: ``esc show`` of a ticket with no kb/ pays nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from esc.domain.kb import Article, id_order
from esc.domain.model import Ticket
from esc.domain.records import immutable

# bm25s's own default token pattern: words of two or more letters or digits.
_WORD = re.compile(r"(?u)\b\w\w+\b")
_COMPOUND = re.compile(r"(?u)\b(\w+)-(\w+)\b")


def _joined(text: str) -> str:
    """``text`` with each hyphenated word written joined too ("e-mails" is also "emails",
    "add-on" "addon"), and each word with accents written without them too ("café" is also
    "cafe", "Überweisung" "Uberweisung"): an article and a query that write one word two
    ways still meet."""
    joined = [a + b for a, b in _COMPOUND.findall(text)]
    if not text.isascii():  # (the joined ones too: `Zoll-Gebühren` is `zollgebuhren`,
        # which neither spelling alone gave: audit helper-412)
        words = [*_WORD.findall(text), *joined]
        joined += [bare for word in words if (bare := _unaccented(word)) != word]
    return f"{text}\n{' '.join(joined)}" if joined else text


def _unaccented(word: str) -> str:
    """``word`` with its accented Latin letters as the plain ones (``é`` as ``e``, ``Ü``
    as ``U``); other scripts as they are (Cyrillic ``й`` is no ``и``, a Devanagari virama
    is part of its letter)."""
    if word.isascii():
        return word
    return "".join(_plain_latin(c) for c in unicodedata.normalize("NFC", word))


def _plain_latin(char: str) -> str:
    if not ("\u00c0" <= char <= "\u024f" or "\u1e00" <= char <= "\u1eff"):  # (Latin-1's
        return char  # letters, Latin Extended-A and -B, and Additional: Vietnamese's)
    parts = unicodedata.normalize("NFKD", char)
    plain = "".join(c for c in parts if not unicodedata.combining(c))
    return plain if plain.isascii() and plain else char


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
    """The articles, tokenized and indexed by bm25s (built once: :meth:`build`, or read
    back from esc's cache by :mod:`esc.store.kb_index`); :meth:`rank` ranks them."""

    def __init__(
        self,
        articles: Sequence[Article],
        retriever: Any,
        vocab: dict[str, int],
        common: frozenset[str] | None = None,
    ) -> None:
        import bm25s.stopwords
        import Stemmer

        self.articles = list(articles)
        self.retriever = retriever  # a bm25s.BM25 over the articles, in this order
        self.vocab = vocab  # stem -> the token id the retriever knows it by
        self._stem = Stemmer.Stemmer("english").stemWord
        self._stopwords = frozenset(bm25s.stopwords.STOPWORDS_EN_PLUS)
        # (the headings every article has: read when a ranking first names matched words,
        # unless :meth:`build` found them already)
        self._common = common

    @classmethod
    def build(cls, articles: Sequence[Article]) -> Index:
        """Tokenize (bm25s's tokenizer: its longer English stop-word list, the stemmer)
        and index the articles; there must be at least one."""
        import bm25s
        import Stemmer

        tokenizer = bm25s.tokenization.Tokenizer(
            stemmer=Stemmer.Stemmer("english").stemWord,
            stopwords="en_plus",
            splitter=_WORD.pattern,
        )
        common = _common_headings(articles)
        texts = [_joined(_ranked_text(a, common)) for a in articles]
        ids = tokenizer.tokenize(texts, return_as="ids", show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(ids, show_progress=False)
        return cls(articles, retriever, dict(tokenizer.get_vocab_dict()), common)

    def _stems(self, text: str) -> dict[str, str]:
        """The stems of ``text``'s words that are no stop words, each with its first word."""
        found: dict[str, str] = {}
        for word in _WORD.findall(_joined(text).lower()):
            if word not in self._stopwords:
                found.setdefault(self._stem(word), word)
        return found

    def _query(self, text: str) -> dict[str, str]:
        """The stems of ``text`` the articles have, each with the word it was written as;
        a word with accents by its form without them alone, which every article that
        writes it either way has (:func:`_joined`): as both, `rückerstattung` counted
        twice what `ruckerstattung` did."""
        stems = self._stems(text)
        # (the bare form's stem, of the bare word: the stemmer cuts `resume` to `resum`
        # and leaves `résumé` whole, so `résumé` was counted as both, twice `resume`)
        bare_of = {s: self._stem(_unaccented(w)) for s, w in stems.items() if _unaccented(w) != w}
        written = {bare: stems[s] for s, bare in bare_of.items()}
        query: dict[str, str] = {}
        for stem, word in stems.items():
            if stem not in self.vocab:
                continue
            bare = bare_of.get(stem, stem)
            if bare != stem and bare in stems and bare in self.vocab:
                continue  # (counted as its bare form)
            query[stem] = written.get(stem, word)
        return query

    def rank(self, text: str, limit: int) -> list[Suggestion]:
        """The best ``limit`` articles for ``text`` (those that match it at all), best
        first; equal scores in ID order."""
        if limit <= 0:
            return []
        query = self._query(text)
        if not query:
            return []
        scores = self.retriever.get_scores([self.vocab[s] for s in query])
        order = sorted(
            (i for i in range(len(self.articles)) if scores[i] > 0),
            key=lambda i: (-float(scores[i]), id_order(self.articles[i].id)),
        )
        out = []
        for i in order[:limit]:
            article = self.articles[i]
            if self._common is None:
                self._common = _common_headings(self.articles)
            in_article = self._stems(_ranked_text(article, self._common))
            found = [word for stem, word in query.items() if stem in in_article]
            terms = tuple({_unaccented(w): w for w in reversed(found)}.values())[::-1]  # (café,
            # not "café, cafe": the word and the form written without its accents, once)
            out.append(Suggestion(article, float(scores[i]), terms))
        return out


def _common_headings(articles: Sequence[Article]) -> frozenset[str]:
    """The heading lines every article has (of two or more), as their text in lower case:
    a template's (`## Problem`, `## Solution` of `esc kb new`'s drafts), which tell no
    article from another ("I have a problem" matched every article, and a ticket's
    suggestions named `problem, solution` among the words they matched).  A word the
    articles all have in their own text (`printer`, in a printer maker's) still counts."""
    if len(articles) < 2:
        return frozenset()
    common: set[str] | None = None
    for article in articles:
        heads = {line.strip().lower() for line in article.body.splitlines()
                 if line.lstrip().startswith("#")}  # fmt: skip
        common = heads if common is None else common & heads
        if not common:
            return frozenset()
    return frozenset(common or ())


def _ranked_text(article: Article, common: frozenset[str]) -> str:
    """What the ranking reads of ``article``: its text without the headings all share."""
    text = article.text()
    if not common:
        return text
    return "\n".join(line for line in text.split("\n") if line.strip().lower() not in common)


def suggest(articles: Sequence[Article], ticket: Ticket, limit: int = 3) -> list[Suggestion]:
    """The best articles for a ticket (none without articles, and no import then)."""
    if not articles:
        return []
    return Index.build(articles).rank(ticket_query(ticket), limit)


def search(articles: Sequence[Article], text: str, limit: int = 10) -> list[Suggestion]:
    """The best articles for a search text."""
    if not articles:
        return []
    return Index.build(articles).rank(text, limit)
