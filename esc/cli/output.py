"""Printing what a command gives back, and turning errors into exit codes."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from esc.domain.errors import EscError, escape_surrogates
from esc.report.terminal import printable

if TYPE_CHECKING:
    from esc.commands.session import Output


def emit(output: Output) -> int:
    """Print ``output`` (stdout, then its notes on stderr); its exit code.  What is for a
    person goes through :func:`printable`, so no control character from a ticket file or
    an option reaches the terminal; JSON and ``exact`` text are printed as they are, but
    for a lone surrogate, which no output can hold: written as its escape, ``\\ud800``
    (in JSON, the escape that stands for it).

    The command has done its work by now; only its output may not get through.  A reader
    that went away (``esc list | head -1``: a broken pipe) is normal: the rest is not
    printed and the command's exit code stands, as with other tools.  Output that cannot
    be written (stdout on a full disk or /dev/full) is an error: one line, exit 1.
    """
    try:
        if output.items is not None:
            _stream(output.items)  # (JSON: exact)
        elif output.data is not None:
            click.echo(escape_surrogates(json.dumps(output.data, indent=2, ensure_ascii=False)))
        elif output.text is not None:
            if output.exact:  # (as it is: click would strip escape sequences off a pipe)
                click.echo(escape_surrogates(output.text), nl=False, color=True)
            else:
                click.echo(printable(output.text), nl=False)
    except BrokenPipeError:
        _let_go_of_stdout()
    except OSError as exc:
        _let_go_of_stdout()
        for note in output.notes:
            say(note)
        raise EscError(f"cannot write the output: {exc.strerror or exc}") from None
    for note in output.notes:
        say(note)
    return output.code


def _let_go_of_stdout() -> None:
    """Drop what is still buffered for stdout, so nothing tries to write it again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def standard_output_closed() -> bool:
    """Make sure file descriptors 0-2 are open (a closed one is given /dev/null, so that no
    file esc opens, nor a program it runs, takes its place); whether stdout was closed
    (``>&-``), which esc refuses: what it printed would go nowhere."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
            os.open(os.devnull, os.O_RDWR)  # (the lowest free descriptor: this one)
    if 0 in closed:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the whole run
    if 2 in closed:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if 1 in closed:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    return 1 in closed


def say(line: str) -> None:
    """One line for a person on stderr: a note, or an error (which may quote a value)."""
    click.echo(printable(line), err=True)


def _stream(items: Iterable[object]) -> None:
    """A JSON array, one item per line, each written as it comes (by json's C encoder:
    without ``indent``; an :class:`Encoded` item is written already), so the array is
    never held whole."""
    from esc.report.views import Encoded  # (not at start-up)

    out = sys.stdout
    sep = "[\n"
    for item in items:
        out.write(sep)
        text = item.text if isinstance(item, Encoded) else json.dumps(item, ensure_ascii=False)
        out.write(escape_surrogates(text))
        sep = ",\n"
    out.write("[]\n" if sep == "[\n" else "\n]\n")
    out.flush()


def tell_waiting(message: str) -> None:
    """Say on stderr what a command waits for (only on a terminal)."""
    say(f"esc: {message}…")
