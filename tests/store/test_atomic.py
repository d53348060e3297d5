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

from tests.conftest import ESC, NOW, Esc, run_in_process

LATER = "2026-11-27T10:00:00+01:00"  # a week on: the sweep has work to do
WITHOUT_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def _mount(folder: Path, size_kb: int) -> str | None:
    """Mount a fresh file system of ``size_kb`` KiB at ``folder``; why not, or None."""
    tmpfs = _run("mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=755", "tmpfs", str(folder))
    if tmpfs.returncode == 0:
        return None
    image = folder.parent / f"{folder.name}.img"
    with open(image, "wb") as handle:
        handle.truncate(max(size_kb, 1024) * 1024)
    made = _run("mkfs.ext4", "-q", "-m", "0", str(image))
    loop = _run("mount", "-o", "loop", str(image), str(folder)) if made.returncode == 0 else made
    if loop.returncode == 0:
        return None
    return f"cannot mount a tmpfs ({tmpfs.stderr.strip()}) or a loop device ({loop.stderr.strip()})"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A small disk of its own, holding a workspace with one ticket, at ``disk/ws``."""
    folder = tmp_path / "disk"
    folder.mkdir()
    why = _mount(folder, 1024)
    if why is not None:
        pytest.skip(why)
    try:
        root = folder / "ws"
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        Esc(root).ok("create", "--title", "Checkout fails", "--body", "Since 08:50")
        Esc(root).ok("sweep", now=NOW)  # (the cache and reports exist, as in a used workspace)
        yield folder
    finally:
        if _run("umount", str(folder)).returncode != 0:
            _run("umount", "-l", str(folder))


def fill(folder: Path) -> None:
    """Use up every free block of the file system at ``folder``."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)


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


@pytest.fixture
def lease_breaks_ignored() -> Iterator[None]:
    """As in a sweep's worker (atomic.ignore_lease_breaks), put back after the test."""
    import signal

    from esc.store import atomic

    before = signal.getsignal(signal.SIGIO)
    atomic.ignore_lease_breaks()
    yield
    signal.signal(signal.SIGIO, before)


def _placed(folder: Path, names: list[str], old: str, new: str, spares: object) -> list[int]:
    """Each of ``names`` written from ``old`` to ``new`` as a batch does: its temporary file
    written (over a spare, if one is free), synced, exchanged in; the new files' inodes."""
    from esc.store import atomic

    assert isinstance(spares, atomic.Spares)
    ahead = [atomic.write_unsynced(folder / n, f"{n} {new}\n", spares) for n in names]
    mark = spares.mark()
    if atomic.sync_written(folder, ahead):
        spares.synced(mark)
    inodes = []
    for name, written in zip(names, ahead, strict=True):
        st = atomic.replace_if_unchanged(
            folder / name, f"{name} {old}\n", f"{name} {new}\n", written=written, garbage=spares
        )
        assert st is not None and (folder / name).read_text() == f"{name} {new}\n"
        inodes.append(st.st_ino)
    return inodes


def test_old_versions_are_written_over_once_their_exchange_is_durable(
    tmp_path: Path, lease_breaks_ignored: None
) -> None:
    """A worker's old versions (atomic.Spares) become its next temporary files: not before a
    sync that started after they were exchanged out has returned (till then a crash could
    bring one back in place), then written over, with the target's mode, whatever their
    size; no file in place changes but the one written, and what is left is listed."""
    from esc.store import atomic

    names = [f"T-{n}.md" for n in range(1, 7)]
    for name in names:
        (tmp_path / name).write_text(f"{name} first, and a longer text than the next ones\n")
        os.chmod(tmp_path / name, 0o640)
    first = {n: os.stat(tmp_path / n).st_ino for n in names}
    spares = atomic.Spares()
    old = "first, and a longer text than the next ones"
    second = _placed(tmp_path, names[:3], old, "second", spares)
    # the three old versions are spares now, but their exchanges are not synced yet: the
    # next three temporary files are new ones; the sync that makes those durable covers
    # the three exchanges, and once it returned, the first three are free
    assert spares.take() is None and len(spares.left()) == 3
    third = _placed(tmp_path, names[3:], old, "second", spares)
    assert not set(second + third) & set(first.values())
    fourth = _placed(tmp_path, names[:3], "second", "third ✓", spares)
    assert sorted(fourth) == sorted(first[n] for n in names[:3])  # their first versions
    for name in names:
        text = "third ✓" if name in names[:3] else "second"
        assert (tmp_path / name).read_text() == f"{name} {text}\n"
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o640
    hidden = sorted(str(p) for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
    assert sorted(spares.left()) == hidden and len(hidden) == 6
    assert all(p.read_text().endswith(("first, and a longer text than the next ones\n",
                                       "second\n")) for p in map(Path, hidden))


def test_old_versions_are_not_written_over_while_no_sync_has_run(
    tmp_path: Path, lease_breaks_ignored: None
) -> None:
    """A batch that wrote nothing ahead (a committing sweep's guard refused each ticket)
    syncs nothing: the spares it was to make free stay as they are, never written over."""
    from esc.store import atomic

    (tmp_path / "T-1.md").write_text("T-1.md as read\n")
    spares = atomic.Spares()
    [first] = _placed(tmp_path, ["T-1.md"], "as read", "new", spares)
    mark = spares.mark()
    syncing = atomic.SyncStarted(tmp_path, [])
    syncing.wait()
    assert syncing.whole is False and not atomic.sync_written(tmp_path, [])
    (tmp_path / "T-2.md").write_text("T-2.md as read\n")
    [second] = _placed(tmp_path, ["T-2.md"], "as read", "new", spares)  # (its own sync)
    assert second != first and (tmp_path / "T-1.md").read_text() == "T-1.md new\n"
    del mark  # (a mark whose sync did not run is never taken as one)


def test_an_old_version_open_elsewhere_or_unlike_a_new_file_is_never_written_over(
    tmp_path: Path, lease_breaks_ignored: None
) -> None:
    """A reader that opened a ticket before the sweep exchanged it out (`less`), or an
    appender, keeps the old text, never another ticket's, and so does a client a server
    sent the old file to with sendfile; an old version with an extended attribute (an
    ACL), another group or another mode is not made another ticket's file either."""
    from esc.store import atomic

    names = ["T-1.md", "T-2.md", "T-3.md", "T-8.md", "T-9.md"]
    for name in names:
        (tmp_path / name).write_text(f"{name} as read\n")
    os.chmod(tmp_path / "T-8.md", 0o600)  # (its old version: of another mode than T-4's)
    reader = open(tmp_path / "T-1.md", "rb")  # noqa: SIM115 - held open across the sweep
    # a server that sent T-9.md on with sendfile (here splice), to a client that has not
    # read it yet: the pages stay in the pipe after the file is closed
    pipe_out, pipe_in = os.pipe()
    with open(tmp_path / "T-9.md", "rb") as sent:
        assert os.splice(sent.fileno(), pipe_in, 100) == len("T-9.md as read\n")
    try:
        os.setxattr(tmp_path / "T-2.md", "user.note", b"kept")
    except OSError as exc:
        pytest.skip(f"no extended attributes here ({exc})")
    first = {n: os.stat(tmp_path / n).st_ino for n in names}
    spares = atomic.Spares()
    _placed(tmp_path, names, "as read", "new", spares)
    spares.synced(spares.mark())  # (as if a sync had run: each is free but for the checks)
    for name in ("T-4.md", "T-5.md", "T-6.md"):
        (tmp_path / name).write_text(f"{name} as read, and longer than the new text\n")
    longer = "as read, and longer than the new text"
    made = _placed(tmp_path, ["T-4.md", "T-5.md", "T-6.md"], longer, "new", spares)
    assert reader.read() == b"T-1.md as read\n"
    reader.close()
    assert os.read(pipe_out, 100) == b"T-9.md as read\n"
    os.close(pipe_out), os.close(pipe_in)
    # the old versions like a new file were written over; the others are left to remove
    assert sorted(made) == sorted([first["T-3.md"], first["T-9.md"], made[2]])
    assert sorted(os.stat(p).st_ino for p in spares.removable()) == sorted(
        [first["T-1.md"], first["T-2.md"], first["T-8.md"]]
    )
    if os.geteuid() == 0:  # (only root may give a file another group)
        spares.synced(spares.mark())
        for junk in spares.left():  # (T-4's, T-5's and T-6's old versions)
            os.chown(junk, -1, os.getegid() + 1)
        (tmp_path / "T-7.md").write_text("T-7.md as read\n")
        [ino] = _placed(tmp_path, ["T-7.md"], "as read", "new", spares)
        assert os.stat(tmp_path / "T-7.md").st_gid == os.getegid()
        assert len(spares.removable()) == 3 and ino not in made


def test_an_old_version_linked_elsewhere_too_is_never_written_over(
    tmp_path: Path, lease_breaks_ignored: None
) -> None:
    """A ticket file with another name as well (a backup made with `cp -al`): what comes out
    of the exchange is that backup's file, which keeps its text; it is left to remove."""
    from esc.store import atomic

    (tmp_path / "backup").mkdir()
    (tmp_path / "T-1.md").write_text("T-1.md as read\n")
    os.link(tmp_path / "T-1.md", tmp_path / "backup" / "T-1.md")
    (tmp_path / "T-2.md").write_text("T-2.md as read\n")
    spares = atomic.Spares()
    _placed(tmp_path, ["T-1.md"], "as read", "new", spares)
    spares.synced(spares.mark())  # (as if a sync had run)
    [linked] = spares.left()
    _placed(tmp_path, ["T-2.md"], "as read", "new", spares)
    assert (tmp_path / "backup" / "T-1.md").read_text() == "T-1.md as read\n"
    assert (tmp_path / "T-2.md").read_text() == "T-2.md new\n"
    assert linked in spares.removable() and Path(linked).read_text() == "T-1.md as read\n"


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


def test_old_versions_are_written_over_only_on_a_local_file_system(tmp_path: Path) -> None:
    """Where a lease cannot see every reader (FUSE, overlayfs, NFS) or syncfs may sync
    nothing, no spare is written over: each temporary file is made anew."""
    from esc.store import atomic

    assert atomic._local_file_system(tmp_path)  # (ext4 or tmpfs, where the tests run)
    assert not atomic._local_file_system(Path("/proc/self"))
    assert not atomic._local_file_system(Path("/sys/kernel"))
