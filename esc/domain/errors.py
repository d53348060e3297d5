"""Expected errors: each maps to one line on stderr and a documented exit code."""
from __future__ import annotations

import re

EXIT_OK = 0
EXIT_ERROR = 1  # an expected error, or a finding (validate, check)
EXIT_USAGE = 2  # bad command line (click's own code)
EXIT_BUG = 3  # an unexpected exception: a bug in esc
EXIT_TEMPFAIL = 75  # `esc intake --eml -`: not taken now; the MTA delivers it again (sysexits)
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM: 128 + 15, as a shell reports a process it killed


class EscError(Exception):
    """An expected problem, reported as one line without a traceback."""

    exit_code = EXIT_ERROR


class WorkspaceNotFound(EscError):
    pass


class TicketNotFound(EscError):
    pass


class AmbiguousTicket(EscError):
    pass


# Half of a UTF-16 pair (a ``"\\ud800"`` escape in YAML or JSON, or a byte that is not
# UTF-8 read with surrogateescape): no character, so no terminal, file or JSON takes it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# what a finding says of a key or value holding one
LONE_SURROGATE_PROBLEM = "a lone surrogate escape (such as \\ud800) is no character"


def escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate written as its escape (``\\ud800``), as esc shows
    any character a terminal must not be sent: a message quoting a value from a file can
    then always be printed, written or put in JSON.  Text without one is returned as is."""
    if text.isascii() or LONE_SURROGATE.search(text) is None:
        return text
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def located(path: str, line: int, message: str) -> str:
    """A problem in a file as every command says it, ``path:line: message``: line 0 (the
    file as a whole, say a FIFO) said at its line 1, so that editors and CI jump to it; a
    line break in the file's name escaped (one problem, one line)."""
    shown = path.replace("\n", "\\n").replace("\r", "\\r")
    if "\n" in message or "\r" in message:  # (a file's name quoted in the message too)
        message = message.replace("\n", "\\n").replace("\r", "\\r")
    return f"{shown}:{line or 1}: {message}"


class ParseError(EscError):
    """A file that does not parse: carries ``path:line: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        message = escape_surrogates(message)  # (a message may quote a value from the file)
        super().__init__(located(path, line, message))
        self.path = path
        self.line = line
        self.message = message


class ConfigError(ParseError):
    pass


class TooLargeToRead(ParseError):
    """A change that would make a file esc itself refuses to read (its front-matter over
    the budget): refused before anything is written.  What made it so large was given to
    esc (a tag, a title, a reason), so it is a usage error."""

    exit_code = EXIT_USAGE


def utf8_text(data: bytes, path: str, error: type[ParseError] = ParseError) -> str:
    """A file's bytes as text; ``error`` (``path:line: not UTF-8 text``, at the line of the
    first byte that is not UTF-8) if they are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(path, line, f"not UTF-8 text: {exc.reason}") from None


class Refused(EscError):
    """A lifecycle operation that is not allowed on this ticket right now."""


class BadInput(EscError):
    """A value given on the command line (or in esc's environment variables) that esc
    cannot use: a usage error."""

    exit_code = EXIT_USAGE
