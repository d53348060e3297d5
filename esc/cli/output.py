"""Printing what a command gives back, and turning errors into exit codes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from esc.commands.session import Output


def emit(output: Output) -> int:
    """Print ``output`` (stdout, then its notes on stderr); its exit code."""
    if output.data is not None:
        click.echo(json.dumps(output.data, indent=2, ensure_ascii=False))
    elif output.text is not None:
        click.echo(output.text, nl=False)
    for note in output.notes:
        click.echo(note, err=True)
    return output.code


def tell_waiting(message: str) -> None:
    """Say on stderr what a command waits for (only on a terminal)."""
    click.echo(f"esc: {message}…", err=True)
