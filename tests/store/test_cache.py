"""The ticket cache is never wrong: every way a file can change makes esc read it again."""
from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

import esc as esc_package
from esc.store.cache import FILE, RACY_NS, Cache, CachedFile
from tests.conftest import Esc, findings

NOW = "2026-11-23T12:00:00+01:00"


def titles(esc: Esc) -> dict[str, str]:
    return {t["id"]: t["title"] for t in json.loads(esc.ok("list", "--all", "--json"))}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def desk(esc: Esc, workspace: Path) -> tuple[Esc, Path, str]:
    ticket = esc.ok("create", "--title", "Alpha one", "--category", "billing",
                    now="2026-11-20T09:00:00+01:00").strip()
    esc.ok("sweep", now=NOW)  # fills the cache
    assert (workspace / ".esc-cache" / FILE).exists()
    return esc, workspace / "tickets" / f"{ticket}.md", ticket


def age(path: Path, seconds: float = 10) -> None:
    """Make a file look older than the cache's racy window."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def test_a_hand_edit_is_seen(desk: tuple[Esc, Path, str]) -> None:
    esc, path, ticket = desk
    path.write_text(path.read_text().replace("Alpha one", "Alpha one, edited"))
    assert titles(esc)[ticket] == "Alpha one, edited"


def test_same_size_same_mtime_same_inode_within_the_second_is_seen(
    desk: tuple[Esc, Path, str],
) -> None:
    esc, path, ticket = desk
    titles(esc)  # the entry is verified now, while the file is fresh
    st = path.stat()
    text = path.read_text().replace("Alpha one", "Alpha two")
    assert len(text) == len(path.read_text())
    with open(path, "r+", encoding="utf-8") as handle:  # in place: same inode
        handle.write(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime as before
    assert path.stat().st_ino == st.st_ino and path.stat().st_size == st.st_size
    assert titles(esc)[ticket] == "Alpha two"


def test_a_rewrite_in_place_whose_mtime_was_put_back_is_seen(esc: Esc, workspace: Path) -> None:
    """The same size, inode and (set back) modification time: the inode's change time,
    which no one can set back, tells that the file changed since it was verified."""
    ticket = esc.ok("create", "--title", "Alpha", "--category", "billing", now=NOW).strip()
    path = workspace / "tickets" / f"{ticket}.md"
    os.utime(path, (1764000000, 1764000000))  # long before the entry is verified
    assert "Alpha" in esc.ok("list", now=NOW)  # verified now, the file looking old
    esc.ok("show", ticket, now=NOW)  # (a command's time: the rewrite comes well after)
    text = path.read_text().replace("title: Alpha", "title: Bravo")
    text = text.replace("status: new\n", "status: xyz\n")
    with open(path, "r+", encoding="utf-8") as handle:  # in place: same inode, same size
        handle.write(text)
    os.utime(path, (1764000000, 1764000000))
    for command in ("list", "validate"):
        found = esc(command, now=NOW)
        assert found.code == 1, command
        assert "unknown status 'xyz'" in found.out + found.err, command


def test_an_old_file_is_trusted_by_stat_and_a_change_to_it_still_seen(
    desk: tuple[Esc, Path, str],
) -> None:
    esc, path, ticket = desk
    age(path, RACY_NS / 1e9 * 5)
    titles(esc)  # verified while old: trusted by stat from now on
    path.write_text(path.read_text().replace("Alpha one", "Alpha, much longer now"))
    assert titles(esc)[ticket] == "Alpha, much longer now"


def test_git_checkout_and_merge_are_seen(desk: tuple[Esc, Path, str]) -> None:
    esc, path, ticket = desk
    root = path.parent.parent
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    git(root, "switch", "-qc", "other")
    esc.ok("classify", ticket, "--priority", "high", now=NOW)
    git(root, "commit", "-qam", "high")
    git(root, "switch", "-q", "main")
    assert json.loads(esc.ok("show", ticket, "--json"))["priority"] == "normal"
    listed = {t["id"]: t["priority"] for t in json.loads(esc.ok("list", "--all", "--json"))}
    assert listed[ticket] == "normal"
    git(root, "merge", "-q", "other")
    listed = {t["id"]: t["priority"] for t in json.loads(esc.ok("list", "--all", "--json"))}
    assert listed[ticket] == "high"


def test_a_rules_change_invalidates_sla(desk: tuple[Esc, Path, str]) -> None:
    esc, path, _ticket = desk
    rules = path.parent.parent / "rules.yaml"
    before = json.loads(esc.ok("list", "--json", now=NOW))[0]["sla"]
    assert before["first_response"]["state"] == "breached"
    rules.write_text(rules.read_text().replace(
        "targets: {first_response: 4h, next_response: 8h, resolution: 24h}",
        "targets: {first_response: 40h, next_response: 8h, resolution: 80h}"))
    after = json.loads(esc.ok("list", "--json", now=NOW))[0]["sla"]
    assert after["first_response"]["state"] == "ok"


@pytest.mark.parametrize("damage", ["garbage", "truncate", "foreign", "delete"])
def test_a_damaged_cache_is_rebuilt_silently(desk: tuple[Esc, Path, str], damage: str) -> None:
    esc, path, _ticket = desk
    cache = path.parent.parent / ".esc-cache" / FILE
    expected = esc.ok("list", "--all", "--json", now=NOW)
    if damage == "garbage":
        cache.write_bytes(b"not a database at all" * 100)
    elif damage == "truncate":
        cache.write_bytes(cache.read_bytes()[:100])
    elif damage == "foreign":
        with sqlite3.connect(cache) as db:
            db.execute("PRAGMA user_version=99")
    else:
        cache.unlink()
    result = esc("list", "--all", "--json", now=NOW)
    assert result.code == 0 and result.err == ""
    assert result.out == expected
    assert esc.ok("list", "--all", "--json", now=NOW) == expected


def test_outputs_are_the_same_with_and_without_the_cache(demo: Path) -> None:
    desk = Esc(demo, now="2026-11-28T10:00:00+01:00")
    commands = [["list", "--all", "--json"], ["check", "--format", "json"],
                ["upcoming", "--within", "3d", "--json"],
                ["report", "--format", "json"]]
    cold = [desk(*c).out for c in commands]
    warm = [desk(*c).out for c in commands]
    assert warm == cold
    for folder in demo.glob(".esc-cache"):
        for item in folder.iterdir():
            item.unlink()
    assert [desk(*c).out for c in commands] == cold


def test_sweeps_with_and_without_the_cache_write_the_same(demo: Path, tmp_path: Path) -> None:
    import shutil

    other = tmp_path / "other"
    shutil.copytree(demo, other)
    cached, uncached = Esc(demo), Esc(other)
    for now in ("2026-11-27T10:00:00+01:00", "2026-11-27T15:00:00+01:00",
                "2026-11-30T09:30:00+01:00", "2026-12-02T12:00:00+01:00"):
        cached.ok("sweep", now=now)
        shutil.rmtree(other / ".esc-cache", ignore_errors=True)
        uncached.ok("sweep", now=now)
        for path in sorted((demo / "tickets").glob("*.md")):
            assert path.read_text() == (other / "tickets" / path.name).read_text(), path.name


def test_two_processes_at_once_do_not_corrupt_it(demo: Path) -> None:
    desk = Esc(demo, now="2026-11-28T10:00:00+01:00", process=True)
    expected = desk.ok("list", "--all", "--json")
    results: list[int] = []

    def run() -> None:
        for _ in range(3):
            results.append(desk("list", "--all", "--json").code)
            results.append(desk("check").code)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) <= {0, 1}
    assert desk.ok("list", "--all", "--json") == expected


def test_an_entry_row_holds_every_field_in_order() -> None:
    entry = CachedFile(1, 2, 3, b"d", 4, b"s", "key", b"sla", 5.0, "open", 6.0, 7.0)
    assert len(entry.row()) == len(dataclasses.fields(CachedFile))
    assert CachedFile(*entry.row()) == entry


def test_a_first_sweep_writes_a_whole_cache_file_in_wal_mode(demo: Path) -> None:
    Esc(demo, now="2026-11-30T12:00:00+01:00").ok("sweep")  # (after the demo's last sweep)
    folder = demo / ".esc-cache"
    made = {p.name for p in folder.iterdir()} - {"locks"}  # (locks/: made if one was needed)
    assert made == {"sweep.lock", "writes.lock", "configs", FILE}  # (configs/: what it ran under)
    with sqlite3.connect(folder / FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = {row[0] for row in db.execute("SELECT name FROM files")}
    assert names == {p.name for p in (demo / "tickets").glob("*.md")}


def test_a_stale_journal_never_meets_a_new_cache_file(demo: Path) -> None:
    """A crash can leave an old cache's journal behind; the new file must not read it."""
    desk = Esc(demo, now=NOW)
    desk.ok("sweep")
    expected = desk.ok("list", "--all", "--json")
    folder = demo / ".esc-cache"
    db = sqlite3.connect(folder / FILE, isolation_level=None)
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("UPDATE files SET summary = x'00'")  # a journal with changes still in it
    wal = (folder / f"{FILE}-wal").read_bytes()
    assert len(wal) > 4096
    db.close()
    (folder / FILE).unlink()
    (folder / f"{FILE}-wal").write_bytes(wal)
    desk.ok("sweep")
    assert desk.ok("list", "--all", "--json") == expected


def test_a_fallback_is_silent_but_said_under_esc_debug(demo: Path) -> None:
    """A cache esc cannot use changes nothing a user sees; ESC_DEBUG=1 says what happened."""
    desk = Esc(demo, now=NOW)
    expected = desk.ok("list", "--all")
    (demo / ".esc-cache" / FILE).write_bytes(b"not a database at all")
    quiet = desk("list", "--all")
    assert (quiet.code, quiet.out, quiet.err) == (0, expected, "")
    (demo / ".esc-cache" / FILE).write_bytes(b"not a database at all")
    said = desk("list", "--all", env={"ESC_DEBUG": "1"})
    assert (said.code, said.out) == (0, expected)
    assert said.err.startswith("esc: debug: ") and "cache not used, rebuilt" in said.err


# ---------------------------------------------------------------- damaged rows (issue 20)


CORRUPTIONS = [
    "UPDATE files SET status = 'closed'",
    "UPDATE files SET next_event = 1e18, due_at = NULL, warn_at = NULL",
    "UPDATE files SET summary = x'00ff00'",
    "UPDATE files SET sla = x'deadbeef'",
    "UPDATE files SET summary = NULL, status = NULL",
    "UPDATE files SET size = 'big', mtime_ns = 1.5",
    "UPDATE files SET checksum = NULL",
    "UPDATE files SET name = x'00'",
]


@pytest.mark.parametrize("damage", CORRUPTIONS)
def test_a_damaged_row_is_never_trusted_but_rebuilt_from_its_file(
    esc: Esc, workspace: Path, damage: str
) -> None:
    esc.ok("create", "--title", "Checkout down", "--category", "outage", "--priority", "urgent",
           now="2026-11-20T09:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    later = "2026-11-20T11:00:00+01:00"  # past the urgent first response (30m)
    expected = esc("check", now=later)
    assert expected.code == 1 and "1 of 1 active tickets overdue" in expected.out
    db = sqlite3.connect(workspace / ".esc-cache" / FILE)
    db.execute(damage)
    db.commit()
    db.close()
    got = esc("check", now=later)
    assert (got.code, got.out) == (expected.code, expected.out)
    listed = esc("list", "--json", now=later)
    assert listed.code == 0 and len(json.loads(listed.out)) == 1
    rows = sqlite3.connect(workspace / ".esc-cache" / FILE).execute(
        "SELECT name, status FROM files").fetchall()
    assert [status for _, status in rows] == ["new"]  # the row was written anew


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE meta SET value = '1996115600.000000' WHERE key = 'reports_as_of'",
        "UPDATE meta SET checksum = NULL",
        "UPDATE meta SET value = x'00' WHERE key = 'reports_as_of'",
    ],
)
def test_a_damaged_meta_row_is_never_trusted(esc: Esc, workspace: Path, damage: str) -> None:
    """Issue 20: every cache row is checked on read.  A `reports_as_of` damaged into the
    future made every later sweep keep its reports as they were (exit 0, `summary.md` a day
    old) where a sweep without the cache renders them (audit helper-467)."""
    ticket = esc.ok("create", "--title", "Checkout down", "--category", "outage",
                    now="2026-12-01T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", now="2026-12-01T10:00:00+01:00")
    db = sqlite3.connect(workspace / ".esc-cache" / FILE)
    db.execute(damage)
    db.commit()
    db.close()
    esc.ok("comment", ticket, "-m", "later reply", now="2026-12-02T10:00:00+01:00")
    out = esc.ok("sweep", now="2026-12-02T11:00:00+01:00")
    assert "rendered reports/summary.md" in out
    summary = (workspace / "reports" / "summary.md").read_text(encoding="utf-8")
    assert "As of 2026-12-02T11:00:00+01:00" in summary
    cache = Cache(workspace / ".esc-cache")
    cache.load()  # (the damaged row gone, or written anew: every row passes)
    assert cache.damaged_meta == [] and cache.meta["reports_as_of"] == "1796205600.000000"


def test_rows_written_by_esc_pass_their_check(esc: Esc, workspace: Path) -> None:
    from esc.store.cache import Cache

    esc.ok("create", "--title", "Checkout down", "--category", "outage")
    esc.ok("sweep")
    cache = Cache(workspace / ".esc-cache")
    cache.load()
    assert len(cache.entries) == 1 and cache.damaged == []


def test_an_unknown_timestamp_without_offset_reads_the_same_from_the_cache(
    esc: Esc, workspace: Path
) -> None:
    ticket = esc.ok("create", "--title", "Odd field", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    path.write_text(text.replace("\ncsat: null\n", "\ncsat: null\nx: 2026-11-20 10:00:00\n"))
    age(path)
    cold = json.loads(esc.ok("list", "--json"))  # parsed, and cached
    warm = json.loads(esc.ok("list", "--json"))  # from the cache
    assert cold[0]["x"] == "2026-11-20T10:00:00"
    assert warm == cold


# ---------------------------------------------------------------- validate (issue 19)


def test_validate_trusts_content_it_checked_and_checks_what_changed(
    esc: Esc, workspace: Path
) -> None:
    first = esc.ok("create", "--title", "One", "--category", "billing").strip()
    second = esc.ok("create", "--title", "Two", "--category", "billing").strip()
    paths = [workspace / "tickets" / f"{t}.md" for t in (first, second)]
    for path in paths:
        age(path)
    assert esc("validate").code == 0  # checked, and remembered
    assert esc("validate").err == "ok: teams.yaml, rules.yaml and 2 tickets\n"  # trusted
    # the content changes: checked again
    text = paths[0].read_text()
    paths[0].write_text(text.replace("team: support", "team: nowhere"))
    age(paths[0])
    changed = esc("validate")
    assert changed.code == 1 and "unknown team 'nowhere'" in changed.err
    paths[0].write_text(text)
    age(paths[0])
    assert esc("validate").code == 0
    # the configuration changes: every ticket is checked again
    teams = workspace / "teams.yaml"
    teams_text = teams.read_text()
    teams.write_text(teams_text.replace("  support:", "  helpdesk:", 1))
    moved = esc("validate")
    assert moved.code == 1 and moved.err.count("unknown team 'support'; one of") == 2
    teams.write_text(teams_text)
    assert esc("validate").code == 0


def rows(workspace: Path) -> dict[str, tuple[object, ...]]:
    """name -> (summary, sla, listing, cell, checked, verified_ns) of every cache row."""
    db = sqlite3.connect(workspace / ".esc-cache" / FILE)
    try:
        found = db.execute(
            "SELECT name, summary, sla, listing, cell, checked, verified_ns FROM files"
        ).fetchall()
    finally:
        db.close()
    return {name: tuple(rest) for name, *rest in found}


@pytest.fixture
def swept_three(esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Three swept tickets (their SLAs kept), old enough to be trusted by stat; validate
    writes what it found two files at a time (so a batch is written before the end)."""
    from esc.store import catalog

    monkeypatch.setattr(catalog, "_VALIDATE_BATCH", 2)
    made = [
        esc.ok("create", "--title", title, "--category", "billing",
               now="2026-11-20T09:00:00+01:00").strip()
        for title in ("One", "Two", "Three")
    ]
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    paths = [workspace / "tickets" / f"{t}.md" for t in made]
    for path in paths:
        age(path)
    return paths


def test_validate_keeps_every_row_and_its_sla_and_then_trusts_it(
    esc: Esc, workspace: Path, swept_three: list[Path]
) -> None:
    before = rows(workspace)
    assert all(row[1] is not None and row[4] is None for row in before.values())  # SLA kept
    assert esc("validate").err == "ok: teams.yaml, rules.yaml and 3 tickets\n"
    checked = rows(workspace)
    assert checked.keys() == before.keys()
    for name, row in checked.items():
        assert row[:4] == before[name][:4]  # summary, SLA, list row and SLA cell kept
        assert row[4] is not None  # what validate found, remembered
    assert esc("validate").err == "ok: teams.yaml, rules.yaml and 3 tickets\n"
    assert rows(workspace) == checked  # trusted by stat: nothing read, nothing written
    cache = Cache(workspace / ".esc-cache")
    cache.load()
    assert len(cache.entries) == 3 and cache.damaged == []  # every row passes its check


def test_validate_restamps_a_copied_file_and_reports_a_changed_one(
    esc: Esc, workspace: Path, swept_three: list[Path]
) -> None:
    assert esc("validate").code == 0
    first, second = swept_three[:2]
    text = first.read_text()
    first.unlink()
    first.write_text(text)  # the same content in a new file (a new inode): read, not parsed
    age(first)
    second.write_text(second.read_text().replace("team: support", "team: nowhere"))
    age(second)
    before = rows(workspace)
    got = esc("validate")
    assert got.code == 1
    line = second.read_text().splitlines().index("team: nowhere") + 1
    assert got.err.startswith(f"tickets/{second.name}:{line}: unknown team 'nowhere'; one of")
    assert len(findings(got)) == 1
    after = rows(workspace)
    assert after[first.name][:5] == before[first.name][:5]
    assert after[first.name][5] != before[first.name][5]  # verified again, and stamped
    assert after[second.name] == before[second.name]  # a file with a problem: not stamped
    assert esc("validate").err == got.err


@pytest.mark.parametrize("damage", CORRUPTIONS)
def test_validate_never_trusts_a_damaged_row(
    esc: Esc, workspace: Path, swept_three: list[Path], damage: str
) -> None:
    assert esc("validate").code == 0
    swept_three[0].write_text(swept_three[0].read_text().replace("team: support", "team: x"))
    age(swept_three[0])
    db = sqlite3.connect(workspace / ".esc-cache" / FILE)
    db.execute(f"{damage} WHERE name = ?", (swept_three[0].name,))  # (the broken file's)
    db.commit()
    db.close()
    got = esc("validate")
    assert got.code == 1 and got.err.count("unknown team 'x'") == 1
    assert esc("validate").err == got.err
    cache = Cache(workspace / ".esc-cache")
    cache.load()
    assert cache.damaged == []  # the damaged row deleted
    assert sorted(cache.entries) == sorted(p.name for p in swept_three[1:])


def test_stamps_are_the_rows_values_and_leave_damaged_rows_out(
    esc: Esc, workspace: Path, swept_three: list[Path]
) -> None:
    cache = Cache(workspace / ".esc-cache")
    cache.load()
    stamps = Cache(workspace / ".esc-cache").stamps()
    assert stamps.keys() == cache.entries.keys()
    for name, stamp in stamps.items():
        entry = cache.entries[name]
        assert stamp == (entry.mtime_ns, entry.size, entry.ino, entry.digest,
                         entry.verified_ns, entry.status, entry.checked)
    assert Cache(workspace / ".esc-cache").read([*stamps, "T-nothere.md"]) == cache.entries
    db = sqlite3.connect(workspace / ".esc-cache" / FILE)
    db.execute("UPDATE files SET status = 'closed' WHERE name = ?", (swept_three[0].name,))
    db.commit()
    db.close()
    damaged = Cache(workspace / ".esc-cache")
    assert swept_three[0].name not in damaged.stamps()
    assert damaged.damaged == [swept_three[0].name]
    assert swept_three[0].name not in damaged.read(list(stamps))


def test_validate_leaves_a_row_another_command_rewrote_meanwhile(
    esc: Esc, workspace: Path, swept_three: list[Path]
) -> None:
    from esc.store.catalog import _restamp

    cache = Cache(workspace / ".esc-cache")
    cache.load()
    name = swept_three[0].name
    before = rows(workspace)
    st = swept_three[0].stat()
    store = Cache(workspace / ".esc-cache")
    _restamp(store, {name: (st, b"another content hash", 1, b"found clean")})
    assert rows(workspace) == before
    _restamp(store, {name: (st, cache.entries[name].digest, 1, b"found clean")})
    assert rows(workspace)[name][4:] == (b"found clean", 1)


def test_a_far_now_reads_the_cache_as_a_cold_run_computes(demo: Path) -> None:
    """A clock counts working time over its first 10 years at most, from the cache too: the
    kept clocks of 2026 asked about 2046 give what a run without the cache gives (they
    counted every working day between, and at 8999 that took minutes)."""
    import shutil

    esc = Esc(demo, now="2026-11-27T11:30:00+01:00")
    esc.ok("list")
    far = "2046-12-31T23:00:00+00:00"
    commands = (("list", "--json"), ("check", "--format", "json"))
    warm = [esc(*command, now=far).out for command in commands]
    shutil.rmtree(demo / ".esc-cache")
    cold = [esc(*command, now=far).out for command in commands]
    assert warm == cold and '"used"' in cold[1]


def test_the_sla_data_is_keyed_on_the_esc_that_computed_it(tmp_path: Path) -> None:
    """Another esc build (an upgrade, a development checkout edited) computes afresh: the
    key takes esc's source files, not only its version number (which a checkout keeps)."""
    import os
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "src"
    shutil.copytree(Path(esc_package.__file__).parent, copy / "esc",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    probe = "from esc.store import cache; print(cache.config_key(b'teams', b'rules'))"

    def key() -> str:
        env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([sys.executable, "-P", "-c", probe], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout.strip()

    first = key()
    assert key() == first  # (the same build: the same key)
    sla = copy / "esc" / "domain" / "sla.py"
    sla.write_text(sla.read_text() + "\n# edited\n")
    assert key() != first


def test_a_verification_from_the_future_is_not_trusted(tmp_path: Path) -> None:
    """A clock that ran an hour fast, then set back: the cache's entry was stamped in the
    future, so an in-place edit made since (its modification time put back) passed for one
    made before it, and `list` showed the old assignee until the file changed again."""
    from esc.store import cache

    path = tmp_path / "T-1.md"
    path.write_text("x")
    changed = path.stat().st_ctime_ns  # (the file system's clock: no reading of our own)
    os.utime(path, ns=(changed - 60 * 10**9, changed - 60 * 10**9))  # (a minute before)
    st = path.stat()
    verified = st.st_ctime_ns  # (verified as it was last changed: in the past)
    assert cache._trusted(st, st.st_mtime_ns, st.st_size, st.st_ino, verified)
    ahead = verified + 3600 * 10**9
    assert not cache._trusted(st, st.st_mtime_ns, st.st_size, st.st_ino, ahead)


def test_a_cache_another_esc_wrote_is_not_served(
    desk: tuple[Esc, Path, str], tmp_path: Path
) -> None:
    """Another esc (an upgrade, a downgrade, an edited checkout) may parse tickets
    otherwise: the rows it cached are not this esc's to serve, whatever its format number
    (here a copy of esc that reads titles in capitals fills the cache first)."""
    import shutil
    import sys

    esc, path, ticket = desk
    other = tmp_path / "other"
    shutil.copytree(Path(esc_package.__file__).parent, other / "esc",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    document = other / "esc" / "ticketfile" / "document.py"
    text = document.read_text(encoding="utf-8")
    reads = 'title=text("title", True) or "",'
    assert reads in text
    document.write_text(text.replace(reads, 'title=(text("title", True) or "").upper(),'))
    shutil.rmtree(path.parent.parent / ".esc-cache")
    env = {**os.environ, "PYTHONPATH": str(other)}
    argv = [sys.executable, "-P", "-m", "esc", "--now", NOW, "list", "--json"]
    made = subprocess.run(argv, cwd=path.parent.parent, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)[0]["title"] == "ALPHA ONE"  # (the other esc's reading)
    assert titles(esc) == {ticket: "Alpha one"}


def test_a_change_another_process_saves_while_the_sweep_renders_keeps_the_reports_stale(
    tmp_path: Path,
) -> None:
    """The sweep's reports follow the tickets' token only if no other command saved a
    change since the sweep loaded the cache: one that did (`esc list`, reading a file
    changed meanwhile) leaves them stale for the next sweep to render again."""

    def entry(digest: bytes) -> CachedFile:
        return CachedFile(1, 2, 3, digest, 4, b"s", "key", b"sla", 5.0, "open", 6.0, 7.0)

    def loaded() -> Cache:
        cache = Cache(tmp_path)
        cache.load()
        return cache

    first = loaded()
    first.put("T-1.md", entry(b"a"))
    first.reporting = True  # (a sweep that rendered its reports)
    first.save()
    assert not loaded().reports_stale
    sweep = loaded()
    other = loaded()  # (esc list, at the same time)
    other.put("T-1.md", entry(b"b"))
    other.save()
    assert loaded().reports_stale
    sweep.put("T-2.md", entry(b"c"))
    sweep.reporting = True
    sweep.save()
    assert loaded().reports_stale  # (its reports do not show what list found)
    again = loaded()
    again.reporting = True
    again.save()
    assert not loaded().reports_stale
    same = loaded()  # (a row saved again with what it said: no change)
    same.put("T-1.md", dataclasses.replace(entry(b"b"), verified_ns=99))
    same.save()
    assert not loaded().reports_stale
