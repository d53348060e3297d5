"""`python -m esc`."""
from __future__ import annotations

from esc.cli.main import run

run()
