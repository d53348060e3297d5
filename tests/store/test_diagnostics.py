"""What esc does quietly, said aloud under ESC_DEBUG=1 (esc.store.diagnostics)."""

from __future__ import annotations

import pytest

from esc.store.diagnostics import debugging, fallback


def test_not_debugging_without_esc_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESC_DEBUG", raising=False)
    assert debugging() is False


def test_an_empty_esc_debug_is_not_debugging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESC_DEBUG", "")
    assert debugging() is False


@pytest.mark.parametrize("off", ["0", "false", "No", "off", " "])
def test_esc_debug_set_to_off_is_not_debugging(monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    monkeypatch.setenv("ESC_DEBUG", off)
    assert not debugging()


def test_esc_debug_1_is_debugging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESC_DEBUG", "1")
    assert debugging() is True


def test_debugging_is_read_each_time_it_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESC_DEBUG", "1")
    assert debugging()
    monkeypatch.delenv("ESC_DEBUG")
    assert not debugging()


def test_a_fallback_is_silent_without_esc_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ESC_DEBUG", raising=False)
    fallback("cache not used")
    assert capsys.readouterr() == ("", "")


def test_a_fallback_under_esc_debug_is_one_line_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ESC_DEBUG", "1")
    fallback("/home/a/.cache/esc/config/x.pickle: kept configuration not used (EOFError)")
    fallback("second")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "esc: debug: /home/a/.cache/esc/config/x.pickle: kept configuration not used "
        "(EOFError)\n"
        "esc: debug: second\n"
    )
