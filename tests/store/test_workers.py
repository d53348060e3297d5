"""A cold sweep in worker processes does exactly what one process does."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, Esc

NOW = "2026-11-27T13:00:00+01:00"  # the generated workspace four hours on: rules fire
TICKETS = 450  # above workers.MIN_TICKETS
LONG_AGO = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace of 450 tickets made by the benchmark's generator, swept as cron leaves it."""
    root = tmp_path_factory.mktemp("generated") / "ws"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "generate.py"), str(TICKETS), str(root)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    broken = root / "tickets" / "T-broken00.md"
    broken.write_text("---\nid: T-broken00\ntitle: [unclosed\n---\n", encoding="utf-8")
    # (written long ago, as a repository's files are: a file changed within 2 s of the
    # cache's verifying it is looked at again, and on a fast machine the sweeps that follow
    # the generation fall within those 2 s; copytree keeps these times)
    for path in (root / "tickets").iterdir():
        os.utime(path, (LONG_AGO, LONG_AGO))
    return root


def copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git", ".esc-cache"))
    return target


def sweep(root: Path, *args: str) -> dict[str, object]:
    result = Esc(root, now=NOW)("sweep", "--json", *args)
    assert result.code == 1, result.err  # the broken file
    assert "tickets/T-broken00.md:3: front-matter does not parse" in result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def same_files(a: Path, b: Path) -> list[str]:
    """Paths (relative) whose bytes differ between two trees, ignoring the caches."""
    differ = []
    for path in sorted(a.rglob("*")):
        rel = path.relative_to(a)
        skip = not path.is_file() or ".esc-cache" in rel.parts
        if not skip and not filecmp.cmp(path, b / rel, shallow=False):
            differ.append(str(rel))
    return differ


def test_workers_write_and_report_what_one_process_does(generated: Path, tmp_path: Path) -> None:
    alone, shared = copy(generated, tmp_path / "alone"), copy(generated, tmp_path / "shared")
    one = sweep(alone, "--jobs", "1")
    two = sweep(shared, "--jobs", "2")
    assert (one["processes"], two["processes"]) == (1, 2)
    assert one["changed"], "the generated workspace has tickets to change an hour later"
    assert {k: v for k, v in one.items() if k != "processes"} == {
        k: v for k, v in two.items() if k != "processes"
    }
    assert same_files(alone, shared) == []
    assert sorted(p.name for p in (shared / "reports").iterdir()) == [
        "index.html",
        "report.json",
        "summary.md",
    ]
    # the workers' cache entries serve later commands as the single process's do
    for args in (["list", "--json"], ["list", "--overdue", "--json"], ["check"]):
        assert Esc(alone, now=NOW)(*args).out == Esc(shared, now=NOW)(*args).out
    again = sweep(shared)
    assert (again["processes"], again["changed"]) == (1, [])  # warm: nothing left to do


def test_a_worker_killed_part_way_leaves_a_sweep_that_ends_as_one_process_s(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed (as by the OOM killer) after handing back a share: the sweep hung
    for ever, holding the workspace lock, waiting for the share it lost.  It sweeps what
    no worker handed back itself, and leaves the tickets as a sweep in one process does."""
    import signal

    from esc.commands import sweep as sweeping

    alone, shared = copy(generated, tmp_path / "alone"), copy(generated, tmp_path / "shared")
    real, parent, tasks = sweeping._sweep_names, os.getpid(), []

    def dying(*args: object, **kwargs: object) -> object:
        tasks.append(1)  # (each worker counts its own: a forked copy of the list)
        if os.getpid() != parent and len(tasks) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sweeping, "_sweep_names", dying)
    sweep(alone, "--jobs", "1")
    swept = Esc(shared, now=NOW)("sweep", "--json", "--jobs", "2")  # (it ends: exit 1 for
    # the broken file alone; said on stderr, which cron mails, as the lines miss some)
    assert json.loads(swept.out)["worker_died"] is not None
    assert "esc: a sweep worker died (" in swept.err
    # The tickets are written as one process writes them.  (What the worker that died, or
    # the other, which the broken pool stops, wrote and had not handed back yet is found
    # written: the sweep's lines do not tell what the rules did to those.)
    assert same_files(alone, shared) == []
    assert not [p for p in (shared / "tickets").iterdir() if p.name.endswith(".tmp")]
    assert sweep(shared)["changed"] == []  # (and nothing is left to do)


def test_a_worker_killed_while_it_hands_back_a_share_does_not_hang_the_sweep(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed (as by the OOM killer) half-way through writing its results: the
    pool's own thread waited for ever for the rest of the message, and the sweep with it,
    holding the workspace lock, so every later cron sweep failed.  It is found dead, and
    the sweep ends as one whose worker died between shares does."""
    import multiprocessing.connection
    import signal

    from esc.commands import sweep as sweeping

    alone, shared = copy(generated, tmp_path / "alone"), copy(generated, tmp_path / "shared")
    real_names, parent = sweeping._sweep_names, os.getpid()
    real_send = multiprocessing.connection.Connection._send  # type: ignore[attr-defined]

    def half_sent(self: object, buf: bytes, *args: object) -> None:
        if len(buf) > 8192:  # (a share's results: half of it written, then killed)
            real_send(self, buf[: len(buf) // 2], *args)  # type: ignore[arg-type]
            os.kill(os.getpid(), signal.SIGKILL)
        real_send(self, buf, *args)  # type: ignore[arg-type]

    def dying(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:  # (in a worker: its handing back is cut short)
            monkeypatch.setattr(multiprocessing.connection.Connection, "_send", half_sent)
        return real_names(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sweeping, "_sweep_names", dying)
    sweep(alone, "--jobs", "1")
    swept = Esc(shared, now=NOW)("sweep", "--json", "--jobs", "2")
    assert json.loads(swept.out)["worker_died"] is not None
    assert "esc: a sweep worker died (" in swept.err
    assert same_files(alone, shared) == []
    assert not [p for p in (shared / "tickets").iterdir() if p.name.endswith(".tmp")]
    assert sweep(shared)["changed"] == []


def test_esc_jobs_is_read_from_the_environment(generated: Path, tmp_path: Path) -> None:
    root = copy(generated, tmp_path / "ws")
    result = Esc(root, now=NOW)("sweep", "--json", env={"ESC_JOBS": "1"})
    assert json.loads(result.out)["processes"] == 1


def test_work_aside_answers_or_says_none_when_it_fails_or_dies() -> None:
    from esc.store.workers import Aside

    def die() -> None:
        os._exit(3)

    def fail() -> None:
        raise ValueError("boom")

    answers = [Aside(work) for work in (lambda: {"a": "b" * 100_000}, fail, die)]
    assert [a.result() for a in answers] == [{"a": "b" * 100_000}, None, None]


def test_a_broken_report_template_is_reported_as_without_workers(
    generated: Path, tmp_path: Path
) -> None:
    """Templates are loaded while the workers sweep; an error in one is reported when the
    reports are rendered, as one process reports it."""
    results = []
    for jobs in ("1", "2"):
        root = copy(generated, tmp_path / f"jobs-{jobs}")
        (root / "templates").mkdir()
        (root / "templates" / "summary.md.j2").write_text("{% for x in %}\n", encoding="utf-8")
        results.append(Esc(root, now=NOW)("sweep", "--jobs", jobs))
    alone, shared = results
    assert "summary.md.j2" in shared.err and "Traceback" not in shared.err
    assert (shared.code, shared.err) == (alone.code, alone.err)
    assert same_files(tmp_path / "jobs-1", tmp_path / "jobs-2") == []


@pytest.mark.parametrize(
    ("count", "processes", "size"),
    [
        (10_000, 2, 100),
        (450, 2, 100),
        (401, 3, 100),
        (199, 2, 100),
        (10_000, 2, 400),
        (450, 2, 400),
        (3, 2, 2),
    ],
)
def test_tasks_cover_every_ticket_once_in_order_ending_small(
    count: int, processes: int, size: int
) -> None:
    from esc.store.workers import _chunks

    names = [f"T-{n:05d}.md" for n in range(count)]
    chunks = _chunks(names, processes, size)
    assert [name for chunk in chunks for name in chunk] == names
    assert all(0 < len(chunk) <= size for chunk in chunks)
    last_round = chunks[-2 * processes :]
    assert all(len(chunk) <= max(1, size // 4) for chunk in last_round)
    if count > 2 * processes * size:
        assert len(chunks[0]) == size
    assert len(chunks) >= min(count, 4 * processes)  # (each process takes a share)


def test_workers_given_several_batches_at_once_write_what_one_process_does(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker plans its next batch while the new texts of the last one are made durable:
    with batches of 7 tickets, each task holds four, and the sweep writes every ticket as
    one process does."""
    from esc.commands import sweep as sweep_command

    monkeypatch.setattr(sweep_command, "BATCH", 7)
    alone, shared = copy(generated, tmp_path / "alone"), copy(generated, tmp_path / "shared")
    one = sweep(alone, "--jobs", "1")
    two = sweep(shared, "--jobs", "2")
    assert (one["processes"], two["processes"]) == (1, 2)
    assert {k: v for k, v in one.items() if k != "processes"} == {
        k: v for k, v in two.items() if k != "processes"
    }
    assert same_files(alone, shared) == []
    assert [p.name for p in (shared / "tickets").iterdir() if p.name.endswith(".tmp")] == []


def test_a_report_that_cannot_be_written_fails_as_without_workers(
    generated: Path, tmp_path: Path
) -> None:
    """The HTML and JSON reports render in the process aside; when one cannot be written
    the sweep ends as one process ends it (what it did printed, then one line, exit 1),
    with the same files written."""
    results = []
    for jobs in ("1", "2"):
        root = copy(generated, tmp_path / f"jobs-{jobs}")
        (root / "reports" / "report.json").mkdir(parents=True)  # a folder: not writable as a file
        results.append(Esc(root, now=NOW)("sweep", "--jobs", jobs))
    alone, shared = results
    assert shared.code == alone.code == 1
    assert shared.out == alone.out
    assert shared.out.startswith("450 tickets seen, 11 changed;")  # (the tickets are written)
    assert shared.err == alone.err.replace("jobs-1", "jobs-2")
    last = shared.err.splitlines()[-1]
    assert last.startswith("esc: the reports were not rendered: cannot write ")
    assert last.endswith(
        "report.json: a directory, not a regular file;"
        " esc writes reports and exports to regular files only"
    )
    assert same_files(tmp_path / "jobs-1", tmp_path / "jobs-2") == []
    assert (tmp_path / "jobs-2" / "reports" / "index.html").is_file()


def test_a_ticket_a_worker_swept_is_not_planned_again_here(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ticket is planned once per sweep, as in one process: one a rule acted on (not
    quiet, so the next sweep plans it again) was planned a second time by the parent."""
    from esc.commands import sweep as sweeping

    planned_here: list[str] = []
    parent = os.getpid()
    real = sweeping.plan

    def plan(ticket, config, now, *rest):  # type: ignore[no-untyped-def]
        if os.getpid() == parent:
            planned_here.append(ticket.id)
        return real(ticket, config, now, *rest)

    monkeypatch.setattr(sweeping, "plan", plan)
    result = sweep(copy(generated, tmp_path / "ws"), "--jobs", "2")
    assert result["processes"] == 2 and result["fired"], "rules act on some tickets"
    assert planned_here == []


def test_tickets_behind_now_are_listed_once_with_workers(generated: Path, tmp_path: Path) -> None:
    """Swept at NOW, then again an hour earlier with workers: each ticket is "behind" the
    earlier --now once (a worker's outcome and this process's were both listed)."""
    ws = copy(generated, tmp_path / "ws")
    sweep(ws, "--jobs", "2")
    shutil.rmtree(ws / ".esc-cache")  # (the workers read every ticket again)
    earlier = dt.datetime.fromisoformat(NOW) - dt.timedelta(hours=1)
    result = Esc(ws, now=earlier.isoformat())("sweep", "--json", "--jobs", "2")
    behind = json.loads(result.out)["behind"]
    assert json.loads(result.out)["processes"] == 2 and behind
    assert len(behind) == len(set(behind))
