"""The ranking index kept in .esc-cache/kb-index/: used while kb/ is unchanged, made
anew when it changes, and rebuilt when it cannot be read."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from esc.domain.kb import Article
from esc.store.kb_index import FOLDER, index_for
from esc.ticketfile.article import render


def write(root: Path, number: int, title: str, body: str, settled: bool = True) -> None:
    """An article file; ``settled``: its mtime set 10 s back, as one saved a while ago."""
    (root / "kb").mkdir(exist_ok=True)
    aid = f"KB-{number:04d}"
    article = Article(aid, title, ("account",), (), dt.date(2026, 1, 1), body, "")
    path = root / "kb" / f"{aid}.md"
    path.write_text(render(article))
    if settled:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 10_000_000_000))


def test_an_article_saved_this_instant_is_read_not_kept_until_it_settles(
    tmp_path: Path,
) -> None:
    """An edit of the same size in the same clock tick as the index was kept would leave
    stat as it was, and the kept index on the old text: a file changed within 2 s is read
    (and ranked) but not kept; once older, the index is kept as usual."""
    write(tmp_path, 1, "Unlock a locked account", "Failed logins lock it.", settled=False)
    assert ranked(tmp_path, "locked")[0][0] == "KB-0001"
    assert not (tmp_path / FOLDER).exists() or not list((tmp_path / FOLDER).iterdir())
    write(tmp_path, 1, "Unlock a locked account", "Failed logins lock it.")
    assert ranked(tmp_path, "locked")[0][0] == "KB-0001"
    assert len(list((tmp_path / FOLDER).iterdir())) == 1


def ranked(root: Path, text: str) -> list[tuple[str, float, tuple[str, ...]]]:
    index, _ = index_for(root, None)
    assert index is not None
    return [(s.article.id, s.score, s.terms) for s in index.rank(text, 5)]


def test_the_cache_gives_what_a_fresh_index_gives_and_follows_kb(tmp_path: Path) -> None:
    write(tmp_path, 1, "Unlock a locked account", "Failed logins lock it.")
    write(tmp_path, 2, "Free shipping", "A rule per zone.")
    broken = tmp_path / "kb" / "KB-0003.md"
    broken.write_text("---\nid: [broken\n---\n")
    os.utime(broken, ns=(0, broken.stat().st_mtime_ns - 10_000_000_000))
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
