"""A full disk, a read-only workspace and an unreadable teams.yaml (issue 20): every writer
says so in one line and exits 1, no file is half-written and no temporary file is left.

The disks are real: a small tmpfs (or, where tmpfs cannot be mounted, an ext4 image on a
loop device), mounted for the test and unmounted after it; without either the tests are
skipped with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ESC, NOW, REPO, Esc, run_in_process
from tests.disks import fill, small_disk
from tests.disks import run as _run

LATER = "2026-11-27T10:00:00+01:00"  # a week on: the sweep has work to do
WITHOUT_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A small disk of its own, holding a workspace with one ticket, at ``disk/ws``."""
    with small_disk(tmp_path / "disk") as folder:
        root = folder / "ws"
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        Esc(root).ok("create", "--title", "Checkout fails", "--body", "Since 08:50")
        Esc(root).ok("sweep", now=NOW)  # (the cache and reports exist, as in a used workspace)
        yield folder


def children() -> set[int]:
    """The processes this one started that it has not waited for yet (Linux's
    ``/proc/self/task/*/children``; zombies included)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # (a thread that ended meanwhile)
            found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def reap_children(others: set[int]) -> None:
    """Wait for every child process of this one but ``others`` (those other tests left
    running in this process: servers): what an esc command run in-process forked (a
    report rendered aside) ends before the disk is filled again, as it would with the
    command's own process."""
    for pid in children() - others:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".esc-cache" not in p.parts
    }


def temporaries(root: Path) -> list[str]:
    return [str(p) for p in root.rglob(".*") if p.name.endswith((".tmp", ".new"))]


def writers(ticket: str) -> list[list[str]]:
    return [
        ["comment", ticket, "-m", "We are on it"],
        ["comment", ticket, "--internal", "-m", "a note"],
        ["create", "--title", "Another", "--body", "text"],
        ["tag", ticket, "vip"],
        ["assign", ticket, "bob"],
        ["classify", ticket, "--priority", "high"],
        ["escalate", ticket, "--up", "--reason", "needs engineering"],
        ["wait", ticket, "--reason", "the customer's logs"],
        ["resolve", ticket, "--resolution", "fixed"],
        ["close", ticket, "--resolution", "fixed", "--csat", "5"],
        ["sweep"],
        ["sweep", "--no-report"],
        ["report", "--out", "out/report.md"],
        ["export", "--csv", "out/csv"],
        ["export", "--sqlite", "out/db.sqlite"],
    ]


def test_a_full_disk_stops_each_writer_with_one_line_and_changes_nothing(disk: Path) -> None:
    root = disk / "ws"
    esc = Esc(root, now=LATER)
    ticket = next(root.joinpath("tickets").glob("T-*.md")).stem
    before = files(root)
    others = children()
    gc.freeze()  # (what this process held before: gc.collect below looks at the rest only)
    try:
        _fill_and_write(disk, root, esc, ticket, before, others)
    finally:
        gc.unfreeze()
    esc.ok("validate")  # (and reading still works)
    (disk / "filler").unlink()
    esc.ok("comment", ticket, "-m", "We are on it")  # room again: it works


def _fill_and_write(
    disk: Path, root: Path, esc: Esc, ticket: str, before: dict[str, bytes], others: set[int]
) -> None:
    for args in writers(ticket):
        # (run in-process, what a command left can free blocks later, as its own process's
        # exit would have at once: a forked report process ending, or a file it deleted
        # freed when the garbage collector closes it)
        reap_children(others)
        gc.collect()
        fill(disk)  # (again: a failed write gives back the blocks its temporary file had)
        result = esc(*args)
        assert temporaries(disk) == [], args
        sweep = args[0] == "sweep"
        if not (sweep and result.code == 0):
            assert result.code == 1, (args, result)
            assert result.err.count("\n") == 1, (args, result.err)
            # (a sweep that wrote its tickets in the room a dropped cache freed says the
            # reports could not be written, after its summary)
            reports = "esc: the reports were not rendered: cannot write "
            said = ("esc: cannot write ", reports) if sweep else ("esc: cannot write ",)
            assert result.err.startswith(said), (args, result.err)
            assert "No space left on device" in result.err or "disk is full" in result.err
        if sweep:
            # (a sweep drops the cache it cannot update, and the room that frees may take a
            # ticket or two before the reports fail: each file whole, as esc writes them)
            esc.ok("validate")
            before = files(root)
        assert files(root) == before, (args, result.err)
        assert not (root / "out").exists(), args  # (nor a folder made for the output)


def test_a_read_only_workspace_refuses_each_writer_and_still_reads(disk: Path) -> None:
    root = disk / "ws"
    esc = Esc(root, now=LATER)
    ticket = next(root.joinpath("tickets").glob("T-*.md")).stem
    before = files(root)
    assert _run("mount", "-o", "remount,ro", str(disk)).returncode == 0
    try:
        for args in writers(ticket):
            result = esc(*args)
            assert result.code == 1, (args, result)
            assert result.err.count("\n") == 1, (args, result.err)
            assert "Read-only file system" in result.err, (args, result.err)
        assert files(root) == before
        for args in (["list"], ["show", ticket], ["check"], ["validate"], ["report"]):
            result = esc(*args)
            assert result.code in (0, 1) and "Traceback" not in result.err, (args, result)
            assert "internal error" not in result.err, (args, result)
        assert ticket in esc.ok("list")
    finally:
        _run("mount", "-o", "remount,rw", str(disk))


def test_a_read_only_tickets_folder_is_one_line(tmp_path: Path) -> None:
    """tickets/ alone read-only (a read-only bind mount), the rest of the workspace not."""
    root = tmp_path / "ws"
    assert run_in_process(["init", str(root)], tmp_path).code == 0
    esc = Esc(root)
    ticket = esc.ok("create", "--title", "Checkout fails", "--body", "x").strip()
    tickets = root / "tickets"
    if _run("mount", "--bind", "-o", "ro", str(tickets), str(tickets)).returncode != 0:
        pytest.skip("cannot make a read-only bind mount here")
    try:
        before = files(root)
        for args in (["comment", ticket, "-m", "hi"], ["create", "--title", "x", "--body", "y"]):
            result = esc(*args)
            assert result.code == 1, result
            assert result.err.startswith("esc: cannot write tickets/T-"), result.err
            assert result.err.endswith(": Read-only file system\n"), result.err
        assert files(root) == before
        assert temporaries(root) == []
    finally:
        _run("umount", str(tickets))


def test_an_unreadable_teams_yaml_is_one_line(tmp_path: Path) -> None:
    """Root reads any file: the command runs as root without the capabilities that let it
    (as an ordinary user would, for whom teams.yaml is mode 000)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run esc without CAP_DAC_OVERRIDE")
    root = tmp_path / "ws"
    assert run_in_process(["init", str(root)], tmp_path).code == 0
    ticket = Esc(root).ok("create", "--title", "Checkout fails", "--body", "x").strip()
    (root / "teams.yaml").chmod(0)
    before = files(root)
    for args in (["list"], ["comment", ticket, "-m", "hi"], ["sweep"], ["validate"]):
        proc = subprocess.run(
            [*WITHOUT_DAC, ESC, "--now", NOW, *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (proc.returncode, proc.stderr) == (1, "esc: teams.yaml: Permission denied\n"), args
    (root / "teams.yaml").chmod(0o644)
    assert files(root) == before


def test_one_unreadable_ticket_is_a_finding_and_the_others_are_read(tmp_path: Path) -> None:
    """A ticket file of mode 000 (for an ordinary user): `list`, `check`, `sweep` and
    `validate` report it at its path and go on with the others (they printed nothing and
    escalated nothing: one line for the whole command)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run esc without CAP_DAC_OVERRIDE")
    root = tmp_path / "ws"
    assert run_in_process(["init", str(root)], tmp_path).code == 0
    shut = Esc(root).ok("create", "--title", "Locked away", "--body", "x").strip()
    Esc(root).ok("create", "--title", "Checkout fails", "--body", "x")
    (root / "tickets" / f"{shut}.md").chmod(0)
    problem = f"tickets/{shut}.md:1: cannot be read: Permission denied"
    try:
        for args in (["list"], ["check"], ["sweep", "--no-report"], ["validate"],
                     ["export", "--sqlite", str(tmp_path / "out.db")]):  # fmt: skip
            proc = subprocess.run([*WITHOUT_DAC, ESC, "--now", NOW, *args], cwd=root,
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
            assert proc.returncode == 1, (args, proc.stderr)
            assert problem in proc.stdout + proc.stderr, (args, proc.stdout, proc.stderr)
            if args == ["list"]:
                assert "Checkout fails" in proc.stdout
        assert (tmp_path / "out.db").is_file()  # (the others exported)
    finally:
        (root / "tickets" / f"{shut}.md").chmod(0o644)


def test_an_unreadable_kb_or_templates_folder_is_one_line_not_an_empty_one(
    tmp_path: Path,
) -> None:
    """kb/ or templates/ of mode 000 (for an ordinary user) was taken for an empty folder:
    `kb list` said "no articles", validate "ok", and the reports used esc's own templates,
    all exit 0 (audit b67)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run esc without CAP_DAC_OVERRIDE")
    root = tmp_path / "ws"
    assert run_in_process(["init", str(root)], tmp_path).code == 0
    shutil.copytree(REPO / "kb", root / "kb")
    (root / "templates").mkdir()
    (root / "templates" / "report.md.j2").write_text("ours\n")
    cases = {
        "kb": [(["kb", "list"], "esc: kb: cannot be read (Permission denied)\n"),
               (["validate"], "esc: kb: cannot be read (Permission denied)\n")],
        "templates": [(["report"], "esc: templates: cannot be read (Permission denied)\n")],
    }  # fmt: skip
    for folder, runs in cases.items():
        (root / folder).chmod(0)
        try:
            for args, said in runs:
                proc = subprocess.run([*WITHOUT_DAC, ESC, "--now", NOW, *args], cwd=root,
                                      capture_output=True, text=True, timeout=60)  # fmt: skip
                assert (proc.returncode, proc.stderr) == (1, said), (args, proc.stderr)
        finally:
            (root / folder).chmod(0o755)
    # (a folder below kb/: its articles left out, said as an unreadable article is; `show`
    # and the others go on, where every command failed on it: r68)
    ticket = Esc(root).ok("create", "--title", "Refund not received", "--body", "x").strip()
    (root / "kb" / "private").mkdir()
    (root / "kb" / "private").chmod(0)
    try:
        said = "kb/private:1: cannot be read (Permission denied): its articles are left out"
        for args, code in ((["show", ticket], 0), (["kb", "list"], 1)):
            proc = subprocess.run([*WITHOUT_DAC, ESC, "--now", NOW, *args], cwd=root,
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
            assert proc.returncode == code and said in proc.stderr, (args, proc.stderr)
    finally:
        (root / "kb" / "private").chmod(0o755)


# ---------------------------------------------------------------- the sweep's write path


def test_the_old_versions_a_batch_exchanges_out_are_gone_once_its_garbage_is_closed(
    tmp_path: Path,
) -> None:
    """The sweep's batch leaves the old versions to a thread (atomic.Garbage): each file
    holds its new text at once, the old ones are junk under a temporary name until the
    thread removes them, and none is left once the garbage is closed."""
    from esc.store import atomic

    names = [f"T-{n}.md" for n in range(1, 41)]
    for name in names:
        (tmp_path / name).write_text(f"{name} as read\n")
    ahead = [atomic.write_unsynced(tmp_path / n, f"{n} new ✓\n") for n in names]
    atomic.sync_written(tmp_path, ahead)
    garbage = atomic.Garbage()
    for name, written in zip(names, ahead, strict=True):
        target = tmp_path / name
        st = atomic.replace_if_unchanged(
            target, f"{name} as read\n", f"{name} new ✓\n", written=written, garbage=garbage
        )
        assert st is not None and target.read_text() == f"{name} new ✓\n"
        assert os.stat(target).st_ino == st.st_ino
        leftover = [p for p in tmp_path.iterdir() if p.name.startswith(f".{name}.")]
        assert all(p.read_text() == f"{name} as read\n" for p in leftover)  # old, or gone
    garbage.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    garbage.close()  # (closing twice, or with nothing put, waits for nothing)
    atomic.Garbage().close()


def test_garbage_is_handed_to_its_thread_a_batch_at_a_time(tmp_path: Path) -> None:
    """Files put stay until flush hands them over (one wake of the thread per batch, not
    per file); close removes what is left, and flushing nothing starts no thread."""
    from esc.store import atomic

    junk = [tmp_path / f".T-{n}.md.1-x.tmp" for n in range(5)]
    for path in junk:
        path.write_text("old\n")
    garbage = atomic.Garbage()
    garbage.flush()  # (nothing put: nothing to do)
    for path in junk[:3]:
        garbage.put(path)
    assert all(path.exists() for path in junk)  # put, not handed over yet
    garbage.flush()
    for path in junk[3:]:
        garbage.put(path)
    garbage.close()  # (waits for the first three, hands over and removes the other two)
    assert list(tmp_path.iterdir()) == []


def test_a_save_written_in_place_between_the_check_and_the_swap_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor that saves into the same file (same inode, same size) an instant before
    the swap: what came out is the very file compared, but not what was compared, so the
    save is put back and nothing is written."""
    from esc.store import atomic

    target = tmp_path / "T-1.md"
    target.write_text("as read\n")
    real = atomic._exchange

    def exchange_after_an_in_place_save(a: Path, b: Path) -> bool:
        with open(b, "r+") as handle:
            handle.write("as save\n")  # (the same length: only the bytes tell)
        return real(a, b)

    monkeypatch.setattr(atomic, "_exchange", exchange_after_an_in_place_save)
    garbage = atomic.Garbage()
    assert atomic.replace_if_unchanged(target, "as read\n", "esc's\n", garbage=garbage) is None
    garbage.close()
    assert target.read_text() == "as save\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T-1.md"]


def test_a_save_that_deletes_and_writes_anew_between_the_check_and_the_swap_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that removes the file and writes it anew (git's checkout), caught between the
    check and the swap: the swap found no file, and `esc comment` stopped with an internal
    error (issue 12's audit). Nothing is written; the caller reads the file again."""
    from esc.store import atomic

    target = tmp_path / "T-1.md"
    target.write_text("as read\n")
    real = atomic._exchange
    calls = []

    def exchange_while_the_file_is_gone(a: Path, b: Path) -> bool:
        if not calls:
            calls.append(b)
            b.unlink()  # (gone for an instant, written anew just after)
            try:
                return real(a, b)
            finally:
                b.write_text("as checked out\n")
        return real(a, b)

    monkeypatch.setattr(atomic, "_exchange", exchange_while_the_file_is_gone)
    assert atomic.replace_if_unchanged(target, "as read\n", "esc's\n") is None
    assert target.read_text() == "as checked out\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["T-1.md"]


def test_a_ticket_with_a_very_long_id_is_locked_and_written(tmp_path: Path) -> None:
    """An ID of 251 characters (valid: `validate` is content): its file's name fits, but
    `NAME.lock` and `.NAME.PID-RANDOM.tmp` did not (`File name too long`, and a sweep
    stopped there): both are cut, the lock's made unique by a hash of the name."""
    from esc.store import lock

    root = tmp_path / "ws"
    assert run_in_process(["init", str(root)], tmp_path).code == 0
    made = Esc(root).ok("create", "--title", "Long one", "--category", "billing").strip()
    long_id = "T-" + "a" * 249
    text = (root / "tickets" / f"{made}.md").read_text().replace(f"id: {made}", f"id: {long_id}")
    (root / "tickets" / f"{long_id}.md").write_text(text)
    (root / "tickets" / f"{made}.md").unlink()
    Esc(root).ok("comment", long_id, "--internal", "-m", "hi")
    assert "hi" in (root / "tickets" / f"{long_id}.md").read_text()
    Esc(root).ok("sweep", "--no-report", now="2026-11-20T12:00:00+01:00")
    lock_path = lock.ticket_lock_path(root / ".esc-cache", f"{long_id}.md")
    assert len(lock_path.name.encode()) < 255
    assert lock.ticket_lock_path(root / ".esc-cache", lock_path.name[: -len(".lock")]) == lock_path


def test_a_write_that_fails_leaves_no_folder_it_made(tmp_path: Path) -> None:
    """`export --csv out/` or the first `kb new` on a full disk said so (exit 1) and left an
    empty `out/` or `kb/` behind: "nothing written" is no folder either; a folder that was
    there already, or that something else filled meanwhile, stays."""
    from esc.store.atomic import folders_made_for

    target = tmp_path / "a" / "b" / "file.csv"
    with pytest.raises(OSError), folders_made_for(target):
        assert target.parent.is_dir()
        raise OSError(28, "No space left on device")
    assert not (tmp_path / "a").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(OSError), folders_made_for(tmp_path / "kept" / "new" / "f"):
        (tmp_path / "kept" / "new" / "other").write_text("another's")
        raise OSError(28, "No space left on device")
    assert (tmp_path / "kept" / "new" / "other").exists()
    with folders_made_for(target):
        target.write_text("x")
    assert target.read_text() == "x"


def test_files_written_together_are_all_new_or_all_as_they_were(disk: Path) -> None:
    """`export --csv` on a disk with room for some of its tables: three were new and the
    fourth old, a set that does not go together. Every new version is written first, and
    renamed into place only once all are: none is, and the error names the file."""
    from esc.store.atomic import atomic_write_all

    out = disk / "out"
    out.mkdir()
    paths = [out / name for name in ("tickets.csv", "escalations.csv", "events.csv")]
    for path in paths:
        path.write_text("old\n")
    spare = disk / "spare"
    spare.write_bytes(b"\0" * 64 * 1024)
    fill(disk)
    spare.unlink()  # (about 64 KiB free: room for the two small tables, not the third)
    texts = ["new\n" * 100, "new\n" * 100, "new\n" * 100_000]
    with pytest.raises(OSError) as caught:
        atomic_write_all(list(zip(paths, texts, strict=True)))
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(paths[2])
    assert [p.read_text() for p in paths] == ["old\n"] * 3
    assert temporaries(disk) == []
    (disk / "filler").unlink()
    atomic_write_all(list(zip(paths, texts, strict=True)))
    assert [p.read_text() for p in paths] == texts
