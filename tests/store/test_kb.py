"""The kb/ folder: reading articles (broken ones reported, never used) and new ones."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from esc.domain.kb import Article
from esc.store import kb
from esc.ticketfile.article import render


def write(root: Path, name: str, article_id: str, title: str = "A title") -> None:
    folder = root / "kb"
    folder.mkdir(exist_ok=True)
    article = Article(article_id, title, ("billing",), (), dt.date(2026, 1, 1), "Body", "")
    (folder / name).write_text(render(article))


def test_no_folder_is_no_articles(tmp_path: Path) -> None:
    assert kb.article_paths(tmp_path) == []
    found = kb.load(tmp_path, categories=None)
    assert (found.articles, found.broken) == ([], [])


def test_broken_and_duplicate_articles_are_reported_and_left_out(tmp_path: Path) -> None:
    write(tmp_path, "KB-0001.md", "KB-0001")
    write(tmp_path, "copy.md", "KB-0001", "A copy")
    write(tmp_path, "KB-0002.md", "KB-0002")
    (tmp_path / "kb" / "KB-0003.md").write_text("---\ntitle: [x\n---\n")
    (tmp_path / "kb" / "notes.txt").write_text("not an article")
    (tmp_path / "kb" / "KB-0004.md").write_bytes(b"---\nid: KB-0004\ntitle: \xff\n---\n")
    found = kb.load(tmp_path, categories=None)
    # (an ID two files hold: both left out, which one is meant being unknown, as `kb show`
    # and `resolve --kb` refuse it; `kb list` and `suggest` offered the first)
    assert [a.id for a in found.articles] == ["KB-0002"]
    assert [a.title for a in found.ambiguous] == ["A title"]
    assert found.ids() == {"KB-0001", "KB-0002"}
    notes = found.notes()
    assert notes[0].startswith("kb/KB-0003.md:2: front-matter does not parse: ")
    assert notes[1:] == [
        "kb/KB-0004.md:3: not UTF-8 text: invalid start byte",
        "kb/copy.md:2: duplicate id KB-0001 (also in kb/KB-0001.md)",
    ]


def test_an_id_padded_otherwise_is_the_same_article_and_a_word_given_twice_is_said(
    tmp_path: Path,
) -> None:
    """`KB-00001` beside `KB-0001` passed `validate`, and `kb show 1` quietly picked one;
    `categories: [billing, billing]` passed too."""
    write(tmp_path, "KB-0001.md", "KB-0001")
    write(tmp_path, "KB-00001.md", "KB-00001", "Padded")
    folder = tmp_path / "kb"
    twice = Article("KB-0002", "T", ("billing", "billing"), (), dt.date(2026, 1, 1), "B", "")
    (folder / "KB-0002.md").write_text(render(twice))
    found = kb.load(tmp_path, categories=None)
    assert found.articles == [] and [a.id for a in found.ambiguous] == ["KB-00001"]
    assert found.notes() == [
        "kb/KB-0001.md:2: duplicate id KB-0001 (also in kb/KB-00001.md)",
        "kb/KB-0002.md:4: categories: billing is given twice",
    ]


def test_new_articles_take_the_next_free_id_and_never_overwrite(tmp_path: Path) -> None:
    write(tmp_path, "KB-0007.md", "KB-0007")
    before = (tmp_path / "kb" / "KB-0007.md").read_bytes()

    def build(article_id: str) -> Article:
        return Article(article_id, "New", (), (), dt.date(2026, 11, 27), "Text", "")

    made = [kb.create(tmp_path, build)]
    threads = [threading.Thread(target=lambda: made.append(kb.create(tmp_path, build)))
               for _ in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.id for a in made) == [f"KB-{n:04d}" for n in range(8, 13)]
    assert (tmp_path / "kb" / "KB-0007.md").read_bytes() == before
    assert made[0].path == "kb/KB-0008.md" and made[0].body == "Text"


def test_the_id_a_broken_article_states_is_its_front_matter_s_not_its_body_s(
    tmp_path: Path,
) -> None:
    """An `id:` line in the body (a YAML example) is not the article's ID."""
    from esc.store.kb import stated_id

    path = tmp_path / "a.md"
    path.write_text("---\ntitle: [x\n---\nid: KB-0099\n")
    assert stated_id(path) is None
    path.write_text("---\nid: KB-0003\ntitle: [x\n---\nid: KB-0099\n")
    assert stated_id(path) == "KB-0003"
    path.write_text("---\nid: KB-0003\ntitle: x\n")  # (never closed: all of it is the head)
    assert stated_id(path) == "KB-0003"
    path.write_text("# Reset\n\nid: KB-0042\n\n---\n")  # (no front-matter at all)
    assert stated_id(path) is None
