"""The ranking index kept in .esc-cache/kb-index/: used while kb/ is unchanged, made
anew when it changes, and rebuilt when it cannot be read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from esc.domain.kb import Article
from esc.store.kb_index import FOLDER, index_for
from esc.ticketfile.article import render


def write(root: Path, number: int, title: str, body: str) -> None:
    (root / "kb").mkdir(exist_ok=True)
    aid = f"KB-{number:04d}"
    article = Article(aid, title, ("account",), (), dt.date(2026, 1, 1), body, "")
    (root / "kb" / f"{aid}.md").write_text(render(article))


def ranked(root: Path, text: str) -> list[tuple[str, float, tuple[str, ...]]]:
    index, _ = index_for(root, None)
    assert index is not None
    return [(s.article.id, s.score, s.terms) for s in index.rank(text, 5)]


def test_the_cache_gives_what_a_fresh_index_gives_and_follows_kb(tmp_path: Path) -> None:
    write(tmp_path, 1, "Unlock a locked account", "Failed logins lock it.")
    write(tmp_path, 2, "Free shipping", "A rule per zone.")
    (tmp_path / "kb" / "KB-0003.md").write_text("---\nid: [broken\n---\n")
    first = ranked(tmp_path, "my account is locked")
    assert first[0][0] == "KB-0001" and first[0][2] == ("account", "locked")
    keys = list((tmp_path / FOLDER).iterdir())
    assert len(keys) == 1
    index, found = index_for(tmp_path, None)  # from the cache: the same articles and errors
    assert index is not None and [a.id for a in index.articles] == ["KB-0001", "KB-0002"]
    assert [str(e) for e in found.broken] == [str(e) for e in index_for(tmp_path, None)[1].broken]
    assert found.notes()[0].startswith("kb/KB-0003.md:")
    assert ranked(tmp_path, "my account is locked") == first
    # an edit makes another key; the old one goes
    write(tmp_path, 2, "Locked account, shipping", "Locked locked locked account.")
    assert ranked(tmp_path, "my account is locked")[0][0] == "KB-0002"
    assert [p.name for p in (tmp_path / FOLDER).iterdir()] != [k.name for k in keys]
    assert len(list((tmp_path / FOLDER).iterdir())) == 1


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    write(tmp_path, 1, "Unlock a locked account", "Failed logins lock it.")
    first = ranked(tmp_path, "locked")
    (key,) = (tmp_path / FOLDER).iterdir()
    (key / "kb.json").write_text("{not json")
    assert ranked(tmp_path, "locked") == first
    for path in key.iterdir():
        path.unlink()
    assert ranked(tmp_path, "locked") == first


def test_an_index_whose_files_changed_on_disk_is_rebuilt(tmp_path: Path) -> None:
    """A bit flipped in the index's arrays, or a title edited in its JSON, would silently
    change the ranking or what `esc kb search` prints: each file's checksum is checked."""
    write(tmp_path, 1, "Unlock a locked account", "Failed logins lock it.")
    write(tmp_path, 2, "Free shipping", "A rule per zone.")
    first = ranked(tmp_path, "locked account shipping")
    (key,) = (tmp_path / FOLDER).iterdir()
    kept = key / "kb.json"
    kept.write_text(kept.read_text().replace("Unlock a locked account", "HACKED"))
    index, _ = index_for(tmp_path, None)
    assert index is not None and index.articles[0].title == "Unlock a locked account"
    assert ranked(tmp_path, "locked account shipping") == first
    (key,) = (tmp_path / FOLDER).iterdir()
    arrays = sorted(p for p in key.iterdir() if p.suffix == ".npy")
    data = bytearray(arrays[0].read_bytes())
    data[-1] ^= 0xFF  # (the last byte: a value, not the header)
    arrays[0].write_bytes(bytes(data))
    assert ranked(tmp_path, "locked account shipping") == first
