"""Printing what a command gives back, and turning errors into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from esc.commands.session import Output


def emit(output: Output) -> int:
    """Print ``output`` (stdout, then its notes on stderr); its exit code."""
    if output.items is not None:
        _stream(output.items)
    elif output.data is not None:
        click.echo(json.dumps(output.data, indent=2, ensure_ascii=False))
    elif output.text is not None:
        click.echo(output.text, nl=False)
    for note in output.notes:
        click.echo(note, err=True)
    return output.code


def _stream(items: Iterable[object]) -> None:
    """A JSON array, one item per line, each written as it comes (by json's C encoder:
    without ``indent``), so the array is never held whole."""
    out = sys.stdout
    sep = "[\n"
    for item in items:
        out.write(sep)
        out.write(json.dumps(item, ensure_ascii=False))
        sep = ",\n"
    out.write("[]\n" if sep == "[\n" else "\n]\n")
    out.flush()


def tell_waiting(message: str) -> None:
    """Say on stderr what a command waits for (only on a terminal)."""
    click.echo(f"esc: {message}…", err=True)
