"""The closed sets of what esc shows: each output format and failure level, written once
for the code that renders it and for the CLI's choices (a module of its own, light enough
for the CLI to import at start-up)."""

from __future__ import annotations

from typing import Literal

ReportFormat = Literal["markdown", "html", "json", "csv"]  # `esc report --format`
CheckFormat = Literal["text", "json", "github", "junit"]  # `esc check --format`
FailOn = Literal["breached", "warning"]  # `esc check --fail-on`
PlanFormat = Literal["markdown", "json"]  # `esc plan --format`
