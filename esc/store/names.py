"""File names esc cannot hold: a name that is not UTF-8 text (``os.listdir`` gives it with
surrogates, which no cache row, index, JSON or terminal takes) is a finding, never read."""

from __future__ import annotations

from esc.domain.errors import ParseError
from esc.domain.model import holds_lone_surrogate


def undecodable_name(name: str, folder: str) -> ParseError | None:
    """The finding for a file of ``folder`` (tickets/, kb/) whose name is not UTF-8 text,
    shown with its bytes escaped (``T-\\xff.md``); None for a name that is text."""
    if name.isascii() or not holds_lone_surrogate(name):
        return None
    shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return ParseError(f"{folder}/{shown}", 1, "the file name is not UTF-8 text: rename it")
