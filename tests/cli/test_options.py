"""The options every command shares: here, the terminal width a session lays tables out in,
found as ``shutil.get_terminal_size`` finds it without importing shutil on every run."""

from __future__ import annotations

import shutil

import pytest

from esc.cli.options import terminal_width


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
