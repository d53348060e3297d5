"""esc's expected errors (esc.domain.errors): the documented exit codes, the
``path:line: message`` of a file that does not parse, and what a user sees of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from esc.domain import errors
from esc.domain.errors import (
    EXIT_BUG,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    AmbiguousTicket,
    BadInput,
    ConfigError,
    EscError,
    ParseError,
    Refused,
    TicketNotFound,
    WorkspaceNotFound,
    utf8_text,
)
from tests.conftest import Esc, run_in_process

# ---------------------------------------------------------------- exit codes


def test_the_documented_exit_codes() -> None:
    # README and `esc --help` promise these to scripts and cron: they must not drift
    assert (EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED) == (0, 1, 2, 3, 130)
    assert len({EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED}) == 5


@pytest.mark.parametrize(
    "kind",
    [EscError, WorkspaceNotFound, TicketNotFound, AmbiguousTicket, Refused],
)
def test_an_expected_problem_exits_1(kind: type[EscError]) -> None:
    error = kind("no ticket 'T-1'")
    assert error.exit_code == EXIT_ERROR
    assert str(error) == "no ticket 'T-1'"


def test_a_file_that_does_not_parse_exits_1() -> None:
    assert ParseError("tickets/T-1.md", 3, "x").exit_code == EXIT_ERROR
    assert ConfigError("teams.yaml", 3, "x").exit_code == EXIT_ERROR


def test_bad_input_is_a_usage_error() -> None:
    assert BadInput("--now 'x' is not an ISO-8601 timestamp").exit_code == EXIT_USAGE


def test_every_error_class_is_an_esc_error() -> None:
    """The command line catches EscError: each expected error must be one."""
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert len(classes) >= 8  # (the eight of today, and any added later)
    for cls in classes:
        assert issubclass(cls, EscError), cls
        assert cls.exit_code in (EXIT_ERROR, EXIT_USAGE), cls
    assert issubclass(ConfigError, ParseError)


# ---------------------------------------------------------------- ParseError


def test_a_parse_error_names_its_file_and_line() -> None:
    error = ParseError("tickets/T-4k8q2m7x.md", 7, "unknown status 'weird'")
    assert str(error) == "tickets/T-4k8q2m7x.md:7: unknown status 'weird'"
    assert (error.path, error.line, error.message) == (
        "tickets/T-4k8q2m7x.md",
        7,
        "unknown status 'weird'",
    )


def test_line_0_is_the_file_as_a_whole() -> None:
    """Said at line 1: every problem reads `path:line: message`."""
    error = ParseError("tickets/T-4k8q2m7x.md", 0, "is no regular file")
    assert str(error) == "tickets/T-4k8q2m7x.md:1: is no regular file"
    assert error.line == 0


def test_a_config_error_reads_as_a_parse_error() -> None:
    error = ConfigError("teams.yaml", 2, "does not parse")
    assert str(error) == "teams.yaml:2: does not parse"
    assert isinstance(error, ParseError) and isinstance(error, EscError)
    with pytest.raises(ParseError):
        raise error


# ---------------------------------------------------------------- utf8_text


def test_utf8_text_decodes_utf8() -> None:
    assert utf8_text("Café → ✓\n".encode(), "t.md") == "Café → ✓\n"
    assert utf8_text(b"", "t.md") == ""


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"\xff", 1, "invalid start byte"),
        (b"title: ok\n\xff rest\n", 2, "invalid start byte"),
        (b"a\nb\nc\xc3", 3, "unexpected end of data"),  # cut in the middle of a character
        ("café\n".encode() + b"\xed\xa0\x80\n", 2, "invalid continuation byte"),  # a surrogate
        ("é\n".encode("latin-1"), 1, "invalid continuation byte"),  # Latin-1, not UTF-8
    ],
)
def test_utf8_text_names_the_line_of_the_first_bad_byte(
    data: bytes, line: int, reason: str
) -> None:
    with pytest.raises(ParseError) as caught:
        utf8_text(data, "tickets/T-1.md")
    assert str(caught.value) == f"tickets/T-1.md:{line}: not UTF-8 text: {reason}"
    assert (caught.value.path, caught.value.line) == ("tickets/T-1.md", line)
    assert type(caught.value) is ParseError


def test_utf8_text_raises_the_error_type_it_is_given() -> None:
    with pytest.raises(ConfigError) as caught:
        utf8_text(b"intake: support\n\x80\n", "teams.yaml", ConfigError)
    assert str(caught.value) == "teams.yaml:2: not UTF-8 text: invalid start byte"


def test_utf8_text_does_not_chain_the_decode_error() -> None:
    """One line for the user: no "during handling of the above exception" noise."""
    with pytest.raises(ParseError) as caught:
        utf8_text(b"\xff", "t.md")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


# ---------------------------------------------------------------- what the user sees


def test_an_expected_error_is_one_line_on_stderr_and_exit_1(esc: Esc) -> None:
    result = esc("show", "T-nothere")
    assert (result.code, result.out) == (EXIT_ERROR, "")
    assert result.err == "esc: no ticket 'T-nothere'\n"


def test_bad_input_exits_2_with_one_line(esc: Esc) -> None:
    result = esc("list", now="garbage")
    assert (result.code, result.out) == (EXIT_USAGE, "")
    assert result.err == "esc: --now 'garbage' is not an ISO-8601 timestamp\n"


def test_a_parse_error_is_shown_as_path_line_message(esc: Esc, workspace: Path) -> None:
    (workspace / "teams.yaml").write_bytes(b"intake: support\n\xff\n")
    result = esc("list")
    assert result.code == EXIT_ERROR
    assert result.err == "teams.yaml:2: not UTF-8 text: invalid start byte\n"  # no "esc: "


def test_no_workspace_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run_in_process(["list"], tmp_path)
    assert result.code == EXIT_ERROR
    assert result.err.startswith("esc: no esc workspace here or above")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
