"""The command line (click only): options, output, exit codes."""

from __future__ import annotations
