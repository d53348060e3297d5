"""What esc does quietly, said aloud under ``ESC_DEBUG=1``.

A cache esc cannot use or write, or a faster path it had to leave, changes nothing a
user sees, so esc goes on without a word; with ``ESC_DEBUG=1`` each such fallback prints
one ``esc: debug: ...`` line on stderr.
"""

from __future__ import annotations

import os
import sys


def debugging() -> bool:
    """Whether ESC_DEBUG is set to something other than off (empty, 0, false, no, off)."""
    return os.environ.get("ESC_DEBUG", "").strip().lower() not in _OFF


_OFF = frozenset({"", "0", "false", "no", "off"})


def fallback(message: str) -> None:
    """Say, under ESC_DEBUG=1, that esc fell back to a slower or simpler way."""
    if debugging():
        print(f"esc: debug: {message}", file=sys.stderr, flush=True)
