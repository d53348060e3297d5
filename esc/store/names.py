"""File names and paths esc cannot hold: a name that is not UTF-8 text (``os.listdir``
gives it with surrogates, which no cache row, index, JSON or terminal takes) is a finding,
never read; a path given that is a loop of symlinks is a usage error."""

from __future__ import annotations

from pathlib import Path

from esc.domain.errors import BadInput, ParseError
from esc.domain.model import holds_lone_surrogate


def resolved(path: Path, what: str) -> Path:
    """``path`` made absolute, its symlinks followed; BadInput naming ``what`` (`--root`,
    `--report-dir`) if they make a loop (Python's ``resolve`` raised RuntimeError: an
    internal error, exit 3)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        why = "a loop of symlinks" if isinstance(exc, RuntimeError) else exc.strerror or exc
        raise BadInput(f"{what} {path}: cannot be followed ({why})") from None


def undecodable_name(name: str, folder: str) -> ParseError | None:
    """The finding for a file of ``folder`` (tickets/, kb/) whose name is not UTF-8 text,
    shown with its bytes escaped (``T-\\xff.md``); None for a name that is text."""
    if name.isascii() or not holds_lone_surrogate(name):
        return None
    shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return ParseError(f"{folder}/{shown}", 1, "the file name is not UTF-8 text: rename it")
