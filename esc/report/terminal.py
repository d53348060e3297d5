"""Text for a person's terminal: no control character from a file or an option reaches it.

A ticket's title, a comment, a team's name or a file name can hold anything, and a
terminal obeys what it is sent: an escape sequence may set the window title (OSC), clear
the screen or move the cursor (CSI), print a link that points elsewhere, and a bidi
override reorders what is shown.  :func:`printable` is applied to everything esc prints
for a person (``esc.cli.output``; ``--json`` and the machine formats are printed exactly):
each such character is shown as a visible escape instead — ``\\x1b``, ``\\x9b``,
``\\u202e`` — so the reader sees that it is there and nothing is obeyed.  Escaped:

* C0 controls (U+0000-U+001F) but a line break and a tab, which lay text out (in a
  one-line cell, such as a table's, they are escaped too: ``\\n``, ``\\t``, ``\\r``);
* DEL (U+007F) and the C1 controls (U+0080-U+009F; U+009B is a CSI of its own);
* the line and paragraph separators (U+2028, U+2029), which some terminals and pagers
  take for line breaks and others show as nothing;
* the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), as
  "Trojan Source" uses them; the marks U+200E, U+200F and U+061C, which only mark a
  direction in right-to-left text, are kept;
* a lone surrogate (U+D800-U+DFFF: half of a UTF-16 pair, as a ``"\\ud800"`` escape in
  a file makes), which is no character and which no terminal could be sent.

esc's own colours are no exception to the rule but a different thing: :func:`style`
gives a marker that holds a random token made when esc starts, which no file can know, and
:func:`printable` turns only those markers into the terminal's colour sequences.
"""

from __future__ import annotations

import functools
import os
import re

_TOKEN = os.urandom(8).hex()  # (not `secrets`: its import costs more than all this module)
_STYLE = f"\x00{_TOKEN}:"  # + SGR parameters + "\x00": a colour esc itself asked for
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_KEEP_LINES = re.compile(f"{re.escape(_STYLE)}([0-9;]*)\x00|[{_UNSAFE}]")
_ONE_LINE = re.compile(f"{re.escape(_STYLE)}([0-9;]*)\x00|[{_UNSAFE}\t\n]")


def style(parameters: str) -> str:
    """A colour or weight for :func:`printable` to turn into ``ESC [ parameters m``."""
    return f"{_STYLE}{parameters}\x00"


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with each control character shown as a visible escape (see the module),
    and esc's own :func:`style` markers made into colours.  With ``one_line`` (for a cell
    or a field, before it is laid out), line breaks and tabs are escaped too and the
    markers left for the final pass.  Printable text is returned as it is."""
    if one_line:  # (a cell, escaped before it is laid out: esc's markers stay markers)
        return _ONE_LINE.sub(lambda m: m[0] if m[1] is not None else _escape(m[0]), text)
    return _KEEP_LINES.sub(lambda m: f"\x1b[{m[1]}m" if m[1] is not None else _escape(m[0]), text)


_NEEDS_ESCAPING = re.compile(f"[{_UNSAFE}\t\n]")


def printable_cells(cells: list[str]) -> list[str]:
    """:func:`printable` of each of ``cells`` with ``one_line`` (``cells`` itself when
    none holds anything to escape: one look at them all)."""
    if _NEEDS_ESCAPING.search("".join(cells)) is None:
        return cells
    return [printable(cell, one_line=True) for cell in cells]


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# ---------------------------------------------------------------- columns on a terminal


def columns(text: str) -> int:
    """How many columns ``text`` takes on a terminal: two for a wide character (CJK, most
    emoji: East Asian Width W or F), none for a combining mark or a format character (a
    zero-width joiner), one for the rest.  ASCII text is its length, asked in one look."""
    if text.isascii():
        return len(text)
    # (a cell of a table with a dash or an arrow in it: each character that is not ASCII
    # looked up once a run, not every character of every cell, 20% of `esc list` at 10k)
    return len(text) + sum(_more_than_one(char) for char in text if char > "\x7f")


def cut_to(text: str, most: int) -> str:
    """``text`` if it takes at most ``most`` columns, else its start with ``…`` in its last
    column (``most`` >= 1)."""
    if text.isascii():
        return text if len(text) <= most else text[: most - 1] + "…"
    if columns(text) <= most:
        return text
    used = 0
    for end, char in enumerate(text):
        used += _columns_of(char)
        if used > most - 1:  # (this character would reach the column of the `…`)
            return text[:end] + "…"
    return text


def padded(text: str, width: int) -> str:
    """``text`` with spaces after it to fill ``width`` columns (as ``str.ljust`` does by
    characters)."""
    return text + " " * (width - columns(text))


@functools.lru_cache(maxsize=4096)
def _more_than_one(char: str) -> int:
    """The columns a character takes, less one (1 for a wide one, -1 for a mark)."""
    return _columns_of(char) - 1


def _columns_of(char: str) -> int:
    import unicodedata  # (only for text that is not ASCII)

    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
