"""`python -m esc`."""
from __future__ import annotations

from esc.cli.entry import run

run()
