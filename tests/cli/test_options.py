"""The options every command shares: the terminal width a session lays tables out in,
found as ``shutil.get_terminal_size`` finds it without importing shutil on every run, and
--now, which every command checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from esc.cli.options import terminal_width
from tests.conftest import Esc


@pytest.mark.parametrize("columns", ["77", "200"])
def test_columns_in_the_environment_is_the_width(
    monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert terminal_width() == int(columns)


@pytest.mark.parametrize("columns", ["", "0", "-3", "wide"])
def test_without_a_usable_columns_it_is_what_shutil_says(
    monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    expected = shutil.get_terminal_size((120, 24)).columns
    assert terminal_width() == expected


# ---------------------------------------------------------------- an empty --now (issue 20)


@pytest.mark.parametrize("where", ["before", "after"])
def test_an_empty_now_on_the_command_line_is_a_usage_error(where: str, tmp_path: Path) -> None:
    """`esc --now "" list` took the clock (exit 0) where `--now "   "` was exit 2: an empty
    --now is a script's unset variable, not a wish for the clock."""
    from tests.conftest import run_in_process

    root = tmp_path / "ws"
    assert run_in_process(["init", str(root)], tmp_path).code == 0
    before = sorted(p.name for p in (root / "tickets").iterdir())
    argv = ["--now", "", "create", "--title", "t"]
    if where == "after":
        argv = ["create", "--title", "t", "--now", ""]
    result = run_in_process(argv, root)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "esc: --now is empty: give a time such as 2026-11-20T10:00:00+01:00, or leave --now out\n"
    )
    assert sorted(p.name for p in (root / "tickets").iterdir()) == before


def test_an_empty_esc_now_is_as_if_unset(tmp_path: Path) -> None:
    from tests.conftest import NOW, run_in_process

    root = tmp_path / "ws"
    assert run_in_process(["init", str(root)], tmp_path).code == 0
    result = run_in_process(["create", "--title", "t", "--now", NOW], root, env={"ESC_NOW": ""})
    assert result.code == 0, result.err


@pytest.mark.parametrize("args", [["export", "--csv", "out"], ["kb", "list"], ["validate"]])
def test_a_now_that_is_no_time_is_refused_by_a_command_that_reads_no_clock(
    tmp_path: Path, args: list[str]
) -> None:
    """`esc export --now 2026-12-01T12:71:00Z` took it silently; every command says it."""
    Esc(tmp_path, now=None).ok("init", "ws")
    result = Esc(tmp_path / "ws", now="2026-12-01T12:71:00Z")(*args)
    assert result.code == 2
    assert result.err == (
        "esc: --now '2026-12-01T12:71:00Z' is not an ISO-8601 timestamp: minute must be in "
        "0..59\n"
    )
    assert not (tmp_path / "ws" / "out").exists()
