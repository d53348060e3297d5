"""The journal of what a committing sweep wrote: what its commit may take, and what not."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from esc.store import git, pending
from esc.store.pending import JOURNAL, Pending
from esc.store.workspace import CACHE_DIR
from tests.disks import fill, small_disk


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "tickets").mkdir(parents=True)
    for name in ("a", "b", "c"):
        (root / "tickets" / f"{name}.md").write_text(f"{name}\n")
    sh(root, "init", "-q", "-b", "main")
    sh(root, "add", "-A")
    sh(root, "commit", "-qm", "start")
    return root


def test_only_tickets_holding_what_is_committed_may_be_written(tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "tickets" / "b.md").write_text("b, edited\n")
    sh(root, "add", "tickets/b.md")
    (root / "tickets" / "b.md").write_text("b\n")  # staged, then put back: still staged
    pending = Pending.load(root)
    assert pending.why_not("tickets/a.md", "a\n") is None
    assert pending.why_not("tickets/a.md", "a, by hand\n") == "has uncommitted changes"
    assert pending.why_not("tickets/b.md", "b\n") == "has uncommitted changes"
    assert pending.why_not("tickets/new.md", "new\n") == "is not committed yet"
    pending.wrote("tickets/a.md", "a, swept\n")  # what an earlier sweep wrote may be swept on
    assert pending.why_not("tickets/a.md", "a, swept\n") is None


def test_a_write_the_sweep_could_not_commit_is_committed_later(tmp_path: Path) -> None:
    root = repo(tmp_path)
    pending = Pending.load(root)
    for name in ("a", "c"):
        pending.wrote(f"tickets/{name}.md", f"{name}, swept\n")
        (root / "tickets" / f"{name}.md").write_text(f"{name}, swept\n")
    (root / "tickets" / "c.md").write_text("c, swept, then edited by hand\n")
    with (root / ".esc-cache" / JOURNAL).open("a") as journal:
        journal.write('["tickets/b.md", "12')  # a sweep killed halfway through a line

    later = Pending.load(root)  # (a new sweep: the one that wrote was killed, say)
    blobs = later.to_commit()
    assert blobs == {"tickets/a.md": git.blob_id(b"a, swept\n")}
    assert git.commit_blobs(root, blobs, "esc sweep\n", root / ".esc-cache") is not None
    later.forget()
    assert Pending.load(root).to_commit() == {}
    assert sh(root, "status", "--porcelain", "--", "tickets") == " M tickets/c.md\n"


def test_journal_lines_that_are_not_esc_s_are_skipped_not_a_crash(tmp_path: Path) -> None:
    """`null`, `1e999999` or `[[[…` deep in sweep-pending: every `sweep --commit` ended in
    exit 3 (TypeError, RecursionError); a line esc wrote among them still counts."""
    root = repo(tmp_path)
    folder = root / ".esc-cache"
    folder.mkdir()
    good = '["tickets/a.md", "' + "0" * 40 + '"]'
    (folder / JOURNAL).write_text("\n".join(["null", "1e999999", "[" * 100_000, good]) + "\n")
    assert Pending.load(root).journal() == {"tickets/a.md": "0" * 40}


def test_a_full_disk_names_the_journal_it_could_not_write(tmp_path: Path) -> None:
    """The journal's line is one append; on a full disk the error names the journal, so
    the one line esc prints is `cannot write .esc-cache/sweep-pending: No space left on
    device`, not "cannot write the output" (audit e74)."""
    with small_disk(tmp_path / "disk") as root:
        (root / CACHE_DIR).mkdir()
        (root / CACHE_DIR / JOURNAL).write_text("", encoding="utf-8")
        fill(root)
        with pytest.raises(OSError) as caught:
            pending.note(root, "tickets/T-1.md", b"text\n", pending.Blobs(root))
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(root / CACHE_DIR / JOURNAL)
