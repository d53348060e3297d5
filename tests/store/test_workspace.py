"""The workspace on disk: finding it, atomic writes, broken files left alone."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from esc.domain.errors import EscError, ParseError, WorkspaceNotFound
from esc.store import atomic, lock
from esc.store.workspace import Workspace, find_root
from tests.conftest import NOW, Esc


def test_find_root_walks_up(workspace: Path) -> None:
    deep = workspace / "tickets" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == workspace.resolve()


def test_find_root_outside_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="esc init"):
        find_root(tmp_path)
    with pytest.raises(WorkspaceNotFound, match="not an esc workspace"):
        find_root(tmp_path, str(tmp_path))


@pytest.mark.parametrize("kind", ["folder", "dangling symlink", "fifo"])
def test_a_teams_yaml_there_but_unreadable_is_its_folder_s_problem_not_a_parent_s(
    workspace: Path, kind: str
) -> None:
    """A workspace inside another whose teams.yaml is a folder, a link to nowhere or a FIFO:
    `esc create` there wrote the ticket into the outer workspace (its teams.yaml was taken
    for none); now this folder is the workspace, and its teams.yaml is named (exit 1)."""
    inner = workspace / "sub"
    (inner / "tickets").mkdir(parents=True)
    shutil.copy(workspace / "rules.yaml", inner / "rules.yaml")
    teams = inner / "teams.yaml"
    if kind == "folder":
        teams.mkdir()
    elif kind == "fifo":
        os.mkfifo(teams)
    else:
        teams.symlink_to("nowhere")
    assert find_root(inner) == inner.resolve()
    assert find_root(workspace, str(inner)) == inner.resolve()
    result = Esc(inner)("create", "--title", "meant for sub")
    assert result.code == 1 and result.err.startswith("teams.yaml:1: a "), result.err
    assert list((workspace / "tickets").glob("*.md")) == []
    assert list((inner / "tickets").glob("*.md")) == []


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "t.md"
    target.write_text("old")
    target.chmod(0o640)
    atomic.atomic_write(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["t.md"]


def test_exclusive_write_never_clobbers(tmp_path: Path) -> None:
    target = tmp_path / "t.md"
    target.write_text("mine")
    with pytest.raises(FileExistsError):
        atomic.atomic_write(target, "theirs", exclusive=True)
    assert target.read_text() == "mine"
    assert os.listdir(tmp_path) == ["t.md"]


def test_broken_ticket_is_never_rewritten(esc: Esc, workspace: Path) -> None:
    good = esc.ok("create", "--title", "Fine").strip()
    broken = workspace / "tickets" / "T-broken00.md"
    text = "---\nid: T-broken00\ntitle: [oops\nstatus: open\n---\nbody\n"
    broken.write_text(text)
    before = broken.stat().st_mtime_ns

    for args in (["assign", "T-broken00", "alice"], ["comment", "T-broken00", "-m", "hi"],
                 ["escalate", "T-broken00", "--up", "--reason", "x"]):
        result = esc(*args)
        assert result.code == 1
        assert result.err.startswith("tickets/T-broken00.md:4: front-matter does not parse")
        assert "Traceback" not in result.err
    assert broken.read_text() == text
    assert broken.stat().st_mtime_ns == before

    listed = esc("list")
    assert listed.code == 1
    assert good in listed.out
    assert "tickets/T-broken00.md:4:" in listed.err


def test_scan_reports_every_broken_file(workspace: Path) -> None:
    (workspace / "tickets" / "T-a.md").write_text("no front matter\n")
    (workspace / "tickets" / "T-b.md").write_bytes(b"---\nid: \xff\n---\n")
    items = list(Workspace(workspace).scan())
    assert all(isinstance(i, ParseError) for i in items)
    assert [str(i) for i in items] == [
        "tickets/T-a.md:1: no front-matter: the file must start with a '---' line",
        "tickets/T-b.md:2: not UTF-8 text: invalid start byte",
    ]


# ---------------------------------------------------------------- the kept configuration

IMPORTS = """
import contextlib, io, json, sys
from esc.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps([code, out.getvalue(), any(m.startswith("ruamel") for m in sys.modules)]))
"""


def run_in_process(root: Path, *args: str) -> tuple[int, str, bool]:
    """esc ``args`` in a fresh interpreter: exit code, output, whether ruamel.yaml loaded."""
    proc = subprocess.run(
        [sys.executable, "-c", IMPORTS, "--root", str(root), "--now", NOW, *args],
        capture_output=True, text=True, check=True, timeout=60,
    )
    code, out, ruamel = json.loads(proc.stdout)
    return code, out, ruamel


def kept_configs() -> list[Path]:
    folder = Path(os.environ["HOME"]) / ".cache" / "esc" / "config"
    return sorted(folder.glob("*.pickle")) if folder.is_dir() else []


def test_the_configuration_is_read_once_then_kept(demo: Path) -> None:
    for kept in kept_configs():  # (the demo fixture keeps it, as after a first command)
        kept.unlink()
    first = run_in_process(demo, "list", "--all")
    assert first[2] and len(kept_configs()) == 1  # parsed with ruamel.yaml, then kept
    again = run_in_process(demo, "list", "--all")
    assert again[:2] == first[:2] and not again[2]  # the kept one: no ruamel.yaml at all


def test_an_edited_configuration_is_read_again(demo: Path) -> None:
    run_in_process(demo, "list")
    teams = demo / "teams.yaml"
    teams.write_text(teams.read_text(encoding="utf-8").replace("level: 2", "level: two", 1))
    code, _out, ruamel = run_in_process(demo, "validate")
    assert (code, ruamel) == (1, True)
    result = Esc(demo)("validate")
    assert result.code == 1
    assert "teams.yaml:31: team engineering: level must be a positive integer" in result.err
    listed = Esc(demo)("list")
    assert listed.code == 1
    assert listed.err.startswith("teams.yaml:31: team engineering: level must be")


def test_a_damaged_kept_configuration_is_replaced(demo: Path) -> None:
    expected = run_in_process(demo, "list", "--all")[:2]
    (kept,) = kept_configs()
    kept.write_bytes(b"\x80\x05not a pickle")
    assert run_in_process(demo, "list", "--all")[:2] == expected
    assert run_in_process(demo, "list", "--all") == (*expected, False)


# ---------------------------------------------------------------- writing over nobody


def test_replace_if_unchanged_writes_only_over_what_was_read(tmp_path: Path) -> None:
    target = tmp_path / "T-1.md"
    target.write_text("as read\n")
    os.chmod(target, 0o640)
    st = atomic.replace_if_unchanged(target, "as read\n", "new ✓\n")
    assert st is not None and target.read_text() == "new ✓\n"
    assert os.stat(target).st_ino == st.st_ino and target.stat().st_mode & 0o777 == 0o640
    # someone saved meanwhile: nothing is written, their text stays
    target.write_text("a hand edit\n")
    assert atomic.replace_if_unchanged(target, "new ✓\n", "newer\n") is None
    assert target.read_text() == "a hand edit\n"
    target.unlink()
    assert atomic.replace_if_unchanged(target, "a hand edit\n", "newer\n") is None
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary file left


def test_a_batch_written_ahead_and_synced_once_replaces_only_what_was_read(
    tmp_path: Path,
) -> None:
    """The sweep's batch: temporary files written unsynced, one sync, then each put in
    place only over what was read; a file saved meanwhile keeps the save."""
    names = ["T-1.md", "T-2.md", "T-3.md"]
    for name in names:
        (tmp_path / name).write_text(f"{name} as read\n")
    os.chmod(tmp_path / "T-1.md", 0o640)
    ahead = [atomic.write_unsynced(tmp_path / n, f"{n} new ✓\n") for n in names]
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert len(hidden) == 3 and all(h.endswith(".tmp") for h in hidden)  # not in place yet
    assert all((tmp_path / n).read_text() == f"{n} as read\n" for n in names)
    atomic.sync_written(tmp_path, ahead)
    (tmp_path / "T-2.md").write_text("a hand edit\n")
    done = [
        atomic.replace_if_unchanged(tmp_path / n, f"{n} as read\n", f"{n} new ✓\n", written=w)
        for n, w in zip(names, ahead, strict=True)
    ]
    assert [st is not None for st in done] == [True, False, True]
    assert [(tmp_path / n).read_text() for n in names] == [
        "T-1.md new ✓\n",
        "a hand edit\n",
        "T-3.md new ✓\n",
    ]
    assert (tmp_path / "T-1.md").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary file left


def test_a_save_landing_between_the_check_and_the_swap_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "T-1.md"
    target.write_text("as read\n")
    real = atomic._exchange
    saves = iter(["saved just in time\n", "saved later still\n"])

    def exchange_after_a_save(a: Path, b: Path) -> bool:
        editor = tmp_path / "editor.swp"
        editor.write_text(next(saves, "never\n"))
        os.replace(editor, b)  # an editor's save, one instant before the swap
        return real(a, b)

    monkeypatch.setattr(atomic, "_exchange", exchange_after_a_save)
    assert atomic.replace_if_unchanged(target, "as read\n", "esc's\n") is None
    # the first save was put back, then the second landed before the put-back: it stays
    assert target.read_text() == "saved later still\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T-1.md"]


def test_stale_temporaries_are_removed_only_when_their_writer_is_gone(
    workspace: Path,
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    tickets = workspace / "tickets"
    reports = workspace / "reports"
    reports.mkdir()
    dead = [
        tickets / f".T-1.md.{gone.pid}-0123abcd.tmp",
        reports / f".index.html.{gone.pid}-89abcdef.tmp",
        workspace / ".esc-cache" / f".tickets.sqlite.{gone.pid}.new",
        workspace / ".esc-cache" / "configs" / f".current.json.{gone.pid}-0123abcd.tmp",
    ]
    alive = [tickets / f".T-2.md.{os.getpid()}-0123abcd.tmp"]  # being written now
    mine = [tickets / ".notes.tmp", tickets / ".T-3.md.12-xyz.tmp", reports / ".draft.tmp"]
    (workspace / ".esc-cache" / "configs").mkdir(parents=True, exist_ok=True)
    for path in dead + alive + mine:
        path.write_text("x")
    old = tickets / ".T-4.md.abcd_123.tmp"  # an older esc's name, without a process id
    old.write_text("x")
    young = tickets / ".T-5.md.abcd_124.tmp"
    young.write_text("x")
    os.utime(old, (time.time() - 700, time.time() - 700))
    removed = Workspace(workspace).remove_stale_temporaries(reports)
    assert sorted(removed) == sorted(str(p.relative_to(workspace)) for p in [*dead, old])
    for path in alive + mine + [young]:
        assert path.exists(), path


def test_a_live_writer_s_temporary_is_kept_however_old(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command stopped (Ctrl-Z, a suspended machine) between writing its temporary file
    and renaming it for over an hour: a sweep removed the file, and the command's rename
    then failed with an internal error, its write lost. Its writer runs: it is kept."""
    import types

    left = workspace / "tickets" / f".T-1.md.{os.getpid()}-0123abcd.tmp"
    left.write_text("x")  # (written by this process, which still runs, two hours later:)
    later = types.SimpleNamespace(**{n: getattr(time, n) for n in dir(time) if n[0] != "_"})
    later.time = lambda: time.time() + 7200
    monkeypatch.setattr(atomic, "time", later)
    assert Workspace(workspace).remove_stale_temporaries() == []
    assert left.exists()


def test_a_killed_writer_s_temporaries_in_kb_the_outbox_and_attachments_are_removed(
    workspace: Path,
) -> None:
    """A killed `kb new`, notification send or intake left `.NAME.PID-RANDOM.tmp` files
    that nothing removed (git listed those in kb/ and attachments/ as untracked)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    outbox = workspace / ".esc-cache" / "outbox"
    folders = [workspace / "kb", outbox, outbox / "sent", workspace / "attachments" / "T-1"]
    dead = [folder / f".x.{gone.pid}-0123abcd.tmp" for folder in folders]
    for path in dead:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    alive = workspace / "attachments" / "T-1" / f".y.{os.getpid()}-0123abcd.tmp"
    alive.write_text("x")
    ws = Workspace(workspace)
    assert sorted(ws.remove_stale_temporaries()) == sorted(
        str(p.relative_to(workspace)) for p in dead[:3]
    )
    assert ws.remove_stale_attachments() == [str(dead[3].relative_to(workspace))]
    assert alive.exists() and not any(p.exists() for p in dead)


def test_a_temporary_whose_process_id_was_reused_is_removed(workspace: Path) -> None:
    # The writer was killed; its process id now belongs to a process that started after
    # the file was written (ids are reused: pid_max is often 32768), so it is junk.
    later = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        left = workspace / "tickets" / f".T-1.md.{later.pid}-0123abcd.tmp"
        left.write_text("x")
        os.utime(left, (time.time() - 60, time.time() - 60))  # written a minute ago
        removed = Workspace(workspace).remove_stale_temporaries()
        assert removed == [str(left.relative_to(workspace))]
    finally:
        later.communicate(b"")


def test_a_ticket_lock_nobody_holds_is_removed(workspace: Path) -> None:
    cache_dir = workspace / ".esc-cache"
    held = lock.try_ticket(cache_dir, "T-1.md")
    assert held is not None
    left = lock.ticket_lock_path(cache_dir, "T-2.md")
    left.write_text("esc comment pid 1 on a box that died\n")  # its holder was killed
    removed = Workspace(workspace).remove_stale_temporaries()
    assert removed == [".esc-cache/locks/T-2.md.lock"]
    assert lock.ticket_lock_path(cache_dir, "T-1.md").exists()
    lock.let_go(cache_dir, "T-1.md", held)
    assert list((cache_dir / "locks").iterdir()) == []


def test_a_report_written_in_pieces_is_written_only_when_its_text_differs(
    workspace: Path,
) -> None:
    """Workspace.write_pieces_if_changed (a sweep's reports, never one whole text): the
    pieces' text is written atomically when the file holds anything else (more, less, or
    none), and the file is left untouched (same inode, no temporary file) when it holds
    exactly that text; with dry_run it only says whether it would write."""
    ws = Workspace(workspace)
    folder = workspace / "reports"
    path = folder / "summary.md"
    pieces = ["# Ticket summary\n", "é" * 5000, "\n", *(f"row {n}\n" for n in range(9000))]
    text = "".join(pieces)
    assert ws.write_pieces_if_changed(path, iter(pieces), dry_run=True)
    assert not path.exists()
    assert ws.write_pieces_if_changed(path, iter(pieces), dry_run=False)
    assert path.read_text(encoding="utf-8") == text
    inode = path.stat().st_ino
    assert not ws.write_pieces_if_changed(path, iter(pieces), dry_run=False)
    assert not ws.write_pieces_if_changed(path, iter(pieces), dry_run=True)
    assert path.stat().st_ino == inode and os.listdir(folder) == ["summary.md"]
    for other in (text + "x", text[:-1], text[:100]):  # longer, shorter, a prefix
        path.write_text(other, encoding="utf-8")
        assert ws.write_pieces_if_changed(path, iter(pieces), dry_run=True)
        assert path.read_text(encoding="utf-8") == other
        assert ws.write_pieces_if_changed(path, iter(pieces), dry_run=False)
        assert path.read_text(encoding="utf-8") == text
    assert os.listdir(folder) == ["summary.md"]


def test_a_report_in_pieces_is_never_written_over_a_fifo_and_a_failing_one_leaves_the_file(
    workspace: Path,
) -> None:
    from esc.domain.errors import EscError

    ws = Workspace(workspace)
    fifo = workspace / "reports" / "index.html"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(EscError, match=r"cannot write .*index\.html: .*regular files only"):
        ws.write_pieces_if_changed(fifo, iter(["<html>"]), dry_run=False)
    assert ws.write_pieces_if_changed(fifo, iter(["<html>"]), dry_run=True)  # (not opened)
    path = workspace / "reports" / "report.json"
    path.write_text("{}\n")

    def failing() -> Iterator[str]:
        yield "{"
        raise ValueError("a template failed part-way")

    with pytest.raises(ValueError, match="part-way"):
        ws.write_pieces_if_changed(path, failing(), dry_run=False)
    assert path.read_text() == "{}\n"
    assert sorted(os.listdir(path.parent)) == ["index.html", "report.json"]  # no temporary


def test_a_sweep_s_report_file_that_is_a_symlink_is_refused_its_folder_may_be_one(
    workspace: Path,
) -> None:
    """A report file linked anywhere (a commit can put one there; cron sweeps) is never
    written through, nor compared as if it were written; a reports/ folder that is a link
    (to a web server's folder) is written into."""
    ws = Workspace(workspace)
    real = workspace / "elsewhere.md"
    real.write_text("same\n")
    (workspace / "reports").mkdir()
    link = workspace / "reports" / "summary.md"
    link.symlink_to(real)
    for dry_run in (True, False):
        with pytest.raises(EscError, match=r"a symlink .*never through a link"):
            ws.write_pieces_if_changed(link, iter(["new\n"]), dry_run)
    assert link.is_symlink() and real.read_text() == "same\n"
    served = workspace / "served"
    served.mkdir()
    (workspace / "site").symlink_to(served, target_is_directory=True)
    assert ws.write_pieces_if_changed(workspace / "site" / "index.html", iter(["x\n"]), False)
    assert (served / "index.html").read_text() == "x\n"


@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "symlink to a file"])
def test_a_configuration_file_that_is_no_regular_file_is_named_never_read(
    tmp_path: Path, kind: str
) -> None:
    """rules.yaml a link to /dev/zero was read for ever (and took all memory), a FIFO hung:
    one line naming it. A symlink to a regular file is read through, as before."""
    from esc.config.starter import RULES_YAML, TEAMS_YAML

    (tmp_path / "teams.yaml").write_text(TEAMS_YAML)
    (tmp_path / "tickets").mkdir()
    rules = tmp_path / "rules.yaml"
    if kind == "device":
        rules.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(rules)
    elif kind == "folder":
        rules.mkdir()
    else:
        (tmp_path / "shared.yaml").write_text(RULES_YAML)
        rules.symlink_to(tmp_path / "shared.yaml")
    workspace = Workspace(tmp_path)
    if kind == "symlink to a file":
        assert workspace.config_texts() == (TEAMS_YAML, RULES_YAML)
        return
    with pytest.raises(ParseError, match=r"^rules\.yaml:1: a .*not a regular file$"):
        workspace.config_texts()


@pytest.mark.parametrize("name", ["rules.yaml", "teams.yaml"])
def test_a_configuration_symlink_to_nowhere_is_a_problem_not_no_configuration(
    tmp_path: Path, name: str
) -> None:
    """rules.yaml moved away and linked to a path that is gone was read as no rules: the
    sweep ended every ticket's clocks and validate said ok."""
    from esc.config.starter import RULES_YAML, TEAMS_YAML

    (tmp_path / "teams.yaml").write_text(TEAMS_YAML)
    (tmp_path / "rules.yaml").write_text(RULES_YAML)
    (tmp_path / "tickets").mkdir()
    (tmp_path / name).unlink()
    (tmp_path / name).symlink_to(tmp_path / "gone.yaml")
    pattern = rf"^{re.escape(name)}:1: a dangling symlink \(to .*gone\.yaml\)"
    with pytest.raises(ParseError, match=pattern):
        Workspace(tmp_path).config_texts()
    (tmp_path / "rules.yaml").unlink()  # (no rules.yaml at all: no rules, as ever)
    (tmp_path / "teams.yaml").unlink(missing_ok=True)
    (tmp_path / "teams.yaml").write_text(TEAMS_YAML)
    assert Workspace(tmp_path).config_texts() == (TEAMS_YAML, "")


def test_a_ticket_caught_half_saved_by_an_editor_is_read_again(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor saving in place (truncate, then write) caught empty: `esc comment` said
    the healthy file had no front-matter; it reads it again while it reads differently.
    One that reads the same twice is broken, as before."""
    from tests.conftest import Esc

    esc = Esc(workspace)
    ticket = esc.ok("create", "--title", "Checkout fails", "--body", "x").strip()
    real = Workspace.read_bytes
    seen: list[int] = []

    def half_saved(self: Workspace, path: Path) -> bytes:
        seen.append(1)
        return b"" if len(seen) == 1 else real(self, path)

    monkeypatch.setattr(Workspace, "read_bytes", half_saved)
    esc.ok("comment", ticket, "-m", "still there")
    assert len(seen) >= 2
    monkeypatch.setattr(Workspace, "read_bytes", lambda self, path: b"not a ticket\n")
    result = esc("comment", ticket, "-m", "again")
    assert result.code == 1 and "no front-matter" in result.err


@pytest.mark.parametrize("command", ["comment", "sweep"])
def test_an_editor_s_save_caught_empty_is_waited_for_not_called_broken(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """An editor truncates the file, then writes it: esc read it empty, read it again at
    once (empty still: the two reads agreed) and refused the healthy file, `no
    front-matter` (a sweep too, exit 1).  It now waits before reading again, and an empty
    file (no ticket is) through every wait, 75 ms in all; the save lands during the third
    (the editor, here, writes in it)."""
    import esc.store.catalog
    import esc.store.workspace
    from tests.conftest import Esc

    esc_ = Esc(workspace, now="2026-11-20T10:00:00+01:00")
    ticket = esc_.ok("create", "--title", "Checkout fails", "--body", "x").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    saved = path.read_bytes()
    path.write_bytes(b"")  # (truncated: the write is on its way)
    real = esc.store.workspace.settle
    waits: list[int] = []

    def editor_writes_meanwhile(tries: int) -> None:
        waits.append(tries)
        if tries == 2:  # (a slow editor: two reads found it empty still)
            path.write_bytes(saved)
        real(tries)

    monkeypatch.setattr(esc.store.workspace, "settle", editor_writes_meanwhile)
    monkeypatch.setattr(esc.store.catalog, "settle", editor_writes_meanwhile)
    if command == "comment":
        esc_.ok("comment", ticket, "-m", "still there")
        assert "still there" in path.read_text(encoding="utf-8")
    else:
        assert "1 tickets seen" in esc_.ok("sweep", "--no-report")
    assert waits


# ---------------------------------------------------------------- no write esc cannot read back


def test_a_change_that_would_make_the_front_matter_unreadable_is_refused(esc: Esc) -> None:
    """`esc tag ID` with ten tags of 120,000 characters wrote a ticket whose front-matter
    (1.2 million characters) every command then refused to read (issue 20)."""
    ticket = esc.ok("create", "--title", "Refund", "--body", "x").strip()
    path = esc.cwd / "tickets" / f"{ticket}.md"
    before = path.read_bytes()
    tags = [f"{n}{'0' * 120_000}" for n in range(10)]
    result = esc("tag", ticket, *tags)
    assert result.code == 2
    assert result.err == (
        f"tickets/{ticket}.md:2: the ticket's front-matter would be too large: 1,200,399 "
        "characters (esc reads at most 1,000,000); nothing was written\n"
    )
    assert path.read_bytes() == before
    assert esc("show", ticket).code == 0


def test_a_new_ticket_esc_could_not_read_back_is_not_written(esc: Esc) -> None:
    result = esc("create", "--title", "x" * 1_000_001, "--body", "x")
    assert result.code == 2
    assert "the ticket's front-matter would be too large" in result.err
    assert result.err.count("\n") == 1
    assert list((esc.cwd / "tickets").glob("*.md")) == []


def test_a_sweep_never_writes_a_ticket_it_could_not_read_back(esc: Esc) -> None:
    """A front-matter just within the budget, which the sweep's `sla:` block would push over:
    the sweep names the ticket and leaves it as it is."""
    ticket = esc.ok("create", "--title", "Down", "--body", "x").strip()
    path = esc.cwd / "tickets" / f"{ticket}.md"
    text = path.read_text()
    front = text.split("---\n")[1]
    filler = "n" * (1_000_000 - len(front) - len("notes: \n") - 10)
    path.write_text(text.replace("escalations: []\n", f"escalations: []\nnotes: {filler}\n", 1))
    before = path.read_bytes()
    assert esc("show", ticket).code == 0
    result = esc("sweep", "--no-report")
    assert result.code == 1
    assert f"tickets/{ticket}.md:2: " in result.err
    assert "front-matter would be too large" in result.err
    assert path.read_bytes() == before


def test_a_workspace_its_group_may_write_gets_files_its_group_may_write(
    esc: Esc, workspace: Path
) -> None:
    """Two agents on one box as two users of one group: under umask 022 the first one's
    lock files (0644) and folders (0755) locked the other out of every ticket. A workspace
    whose folder its group may write gets what esc makes writable by the group (as git's
    core.sharedRepository); a private one stays as the umask says."""
    import stat

    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    shutil.rmtree(workspace / ".esc-cache", ignore_errors=True)
    workspace.chmod(workspace.stat().st_mode | stat.S_IWGRP)
    before = os.umask(0o022)
    try:
        esc.ok("comment", ticket, "-m", "from A")
        made = [workspace / ".esc-cache", *(workspace / ".esc-cache").rglob("*")]
        assert made[1:], made
        for path in made:
            assert path.stat().st_mode & stat.S_IWGRP, path
        assert os.umask(0o022) == 0o022  # (the command gave this process its umask back)
        # (the journal of what esc wrote and git has not yet, made by intake or a sweep in
        # a git clone, was made 0644 whatever the umask: every other user's intake and
        # committing sweep failed on it, for good; audit helper-448)
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "w"]):
            subprocess.run(["git", *args], cwd=workspace, check=True, capture_output=True)
        esc.ok("intake", "--json", "-", input='{"title": "form", "body": "b"}')
        journal = workspace / ".esc-cache" / "sweep-pending"
        assert journal.exists() and journal.stat().st_mode & stat.S_IWGRP
        shutil.rmtree(workspace / ".esc-cache")
        workspace.chmod(workspace.stat().st_mode & ~stat.S_IWGRP)
        esc.ok("comment", ticket, "-m", "private")
        assert not (workspace / ".esc-cache").stat().st_mode & stat.S_IWGRP
    finally:
        os.umask(before)


@pytest.mark.parametrize("command", ["comment", "show"])
def test_a_ticket_an_editor_saves_by_renaming_it_away_is_read_once_it_is_back(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """Emacs's first save renames the file away (`T-….md~`) and writes a new one: a
    command that came in between exited 1, "no ticket 'T-…'" or "the ticket was removed"
    (audit helper-385).  It looks again for 75 ms; the editor's save ends in that wait
    here (``settle`` is each wait)."""
    import esc.store.workspace as workspace_module

    ticket = esc.ok("create", "--title", "Saved", "--body", "b", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    backup = path.with_name(path.name + "~")
    path.rename(backup)
    waits: list[int] = []

    def editor_saves(tries: int) -> None:
        waits.append(tries)
        if len(waits) == 2 and backup.exists():  # (after two waits: the new file written)
            shutil.copy(backup, path)

    monkeypatch.setattr(workspace_module, "settle", editor_saves)
    args = ["-m", "during the save"] if command == "comment" else []
    assert ticket in esc.ok(command, ticket, *args)
    assert waits == [0, 1]
    if command == "comment":
        assert "during the save" in path.read_text()
    path.unlink()  # (gone for good: said as before, after the waits)
    backup.unlink()
    waits.clear()
    result = esc(command, ticket, *args)
    assert (result.code, result.err) == (1, f"esc: no ticket '{ticket}'\n"), result.err
    assert waits == [0, 1, 2, 3]
