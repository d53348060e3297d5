"""Printing what a command gives back, and turning errors into exit codes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from esc.report.terminal import printable

if TYPE_CHECKING:
    from esc.commands.session import Output


def emit(output: Output) -> int:
    """Print ``output`` (stdout, then its notes on stderr); its exit code.  What is for a
    person goes through :func:`printable`, so no control character from a ticket file or
    an option reaches the terminal; JSON and ``exact`` text are printed as they are."""
    if output.data is not None:
        click.echo(json.dumps(output.data, indent=2, ensure_ascii=False))
    elif output.text is not None:
        click.echo(output.text if output.exact else printable(output.text), nl=False)
    for note in output.notes:
        say(note)
    return output.code


def say(line: str) -> None:
    """One line for a person on stderr: a note, or an error (which may quote a value)."""
    click.echo(printable(line), err=True)


def tell_waiting(message: str) -> None:
    """Say on stderr what a command waits for (only on a terminal)."""
    say(f"esc: {message}…")
