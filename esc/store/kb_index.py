"""The knowledge base's ranking index, kept in ``.esc-cache/kb-index/``.

Tokenizing and stemming every article is most of what `esc suggest` would do over a
thousand of them, so the index bm25s builds (its own save format: numpy arrays and
JSON, no pickle), the vocabulary and the articles read are kept under a key made of
every article file's name, size, inode and modification and change times (and the esc
build). Any change to kb/ makes another key; a cache that cannot be read or written, or
whose files are not what was written (each file's checksum is kept beside it), is
rebuilt or skipped (``ESC_DEBUG=1`` says so); deleting it changes nothing but speed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from esc.domain.errors import ParseError
from esc.domain.kb import Article, front_of
from esc.domain.suggest import Index
from esc.store.cache import RACY_NS, digest
from esc.store.diagnostics import fallback
from esc.store.kb import KnowledgeBase, article_paths, load
from esc.store.user_cache import esc_build

FOLDER = Path(".esc-cache") / "kb-index"
FORMAT = "3"  # 2: with its checksums; 3: no article of an ID two files hold


def index_for(
    root: Path, categories: Sequence[str] | None
) -> tuple[Index | None, KnowledgeBase]:
    """The index of kb/'s usable articles (None when there is none) and what was read
    (articles, and broken files as errors): from the cache when kb/ and rules.yaml's
    ``categories`` (an article with another cannot be used) have not changed."""
    paths = article_paths(root)
    if not paths:
        return None, KnowledgeBase()
    key = _key(root, paths, categories)
    if key is None:
        found = load(root, categories=categories)
        return (Index.build(found.articles) if found.articles else None), found
    folder = root / FOLDER / key
    if folder.is_dir():
        try:
            return _read(folder)
        except Exception as exc:  # (a cache: any failure means rebuilding it)
            fallback(f"{folder}: unreadable kb index ({exc}); rebuilt")
    found = load(root, categories=categories)
    index = Index.build(found.articles) if found.articles else None
    try:
        _write(root / FOLDER, key, found, index)
    except OSError as exc:
        fallback(f"{root / FOLDER}: kb index not written ({exc})")
    return index, found


def _key(root: Path, paths: list[Path], categories: Sequence[str] | None) -> str | None:
    digest = hashlib.sha256(f"{FORMAT} ".encode() + esc_build())
    digest.update(json.dumps(categories).encode() + b"\n")
    settled = time.time_ns() - RACY_NS  # (a file changed since may change again within its
    # clock tick, at the same size, leaving stat as it was: as for tickets, not trusted yet)
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            return None  # (removed meanwhile: read it all, cache nothing)
        if settled <= st.st_mtime_ns <= settled + 2 * RACY_NS:  # (one in the future, a
            # clock skewed or a restore, is no edit of this instant: an edit now changes it)
            return None  # (read it all, cache nothing: the next command keeps it)
        digest.update(
            f"{path.relative_to(root).as_posix()!a}\0{st.st_size}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n".encode()
        )
    return digest.hexdigest()[:32]


def _article_json(article: Article) -> dict[str, Any]:
    front = front_of(article)
    return {**front, "updated": article.updated.isoformat(), "body": article.body,
            "path": article.path}  # fmt: skip


def _write(base: Path, key: str, found: KnowledgeBase, index: Index | None) -> None:
    """Write the cache into a folder of its own, then rename it into place whole."""
    base.mkdir(parents=True, exist_ok=True)
    for old in base.iterdir():  # (earlier keys: kb/ changed since)
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    tmp = base / f".tmp-{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    data = {
        "articles": [_article_json(a) for a in found.articles],
        "broken": [[e.path, e.line, e.message] for e in found.broken],
        "vocab": index.vocab if index is not None else None,
    }
    (tmp / "kb.json").write_text(json.dumps(data), encoding="utf-8")
    if index is not None:
        index.retriever.save(str(tmp), show_progress=False)
    (tmp / SUMS).write_text(json.dumps(_sums(tmp)), encoding="utf-8")
    try:
        os.rename(tmp, base / key)
    except OSError:  # (another esc wrote it first)
        shutil.rmtree(tmp, ignore_errors=True)


SUMS = "sums.json"  # each file's checksum, checked before the index is used


def _sums(folder: Path) -> dict[str, str]:
    """A checksum of each file in ``folder`` (but the sums)."""
    return {
        path.name: digest(path.read_bytes()).hex()
        for path in sorted(folder.iterdir())
        if path.name != SUMS
    }


def _read(folder: Path) -> tuple[Index | None, KnowledgeBase]:
    """The index kept in ``folder``; ValueError if a file is not what was written (a bit
    flipped on disk, an edit: the ranking would silently change)."""
    if json.loads((folder / SUMS).read_text(encoding="utf-8")) != _sums(folder):
        raise ValueError("a file differs from what was written")
    data = json.loads((folder / "kb.json").read_text(encoding="utf-8"))
    articles = [
        Article(
            a["id"],
            a["title"],
            tuple(a["categories"]),
            tuple(a["tags"]),
            dt.date.fromisoformat(a["updated"]),
            a["body"],
            a["path"],
        )
        for a in data["articles"]
    ]
    found = KnowledgeBase(articles, [ParseError(p, n, m) for p, n, m in data["broken"]])
    if data["vocab"] is None:
        return None, found
    import bm25s

    retriever = bm25s.BM25.load(str(folder), show_progress=False)
    return Index(articles, retriever, data["vocab"]), found
