"""The closed sets of what esc shows: each output format and failure level, written once
for the code that renders it and for the CLI's choices (a module of its own, light enough
for the CLI to import at start-up)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

ReportFormat = Literal["markdown", "html", "json", "csv"]  # `esc report --format`
CheckFormat = Literal["text", "json", "github", "junit"]  # `esc check --format`
FailOn = Literal["breached", "warning"]  # `esc check --fail-on`
PlanFormat = Literal["markdown", "json"]  # `esc plan --format`

_SUFFIXES: dict[str, ReportFormat] = {
    ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
    ".json": "json", ".csv": "csv",
}  # fmt: skip


def report_format_for(out: str | None) -> ReportFormat:
    """The format `esc report --out PATH` writes when no --format is given: the one its
    name's extension says (`.html`, `.json`, `.csv`, `.md`), else Markdown."""
    if out is None:
        return "markdown"
    return _SUFFIXES.get(PurePath(out).suffix.lower(), "markdown")
