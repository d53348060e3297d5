"""CSV for spreadsheets: the one writer of ``export --csv`` and ``report --format csv``.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
one that starts with a tab or a carriage return may be read as one too; a customer's name
or a ticket's title is anybody's text, so a cell like ``=HYPERLINK("http://…")`` would run
when an analyst opens the file.  Every text cell that starts so is written with a leading
``'`` (OWASP's advice), which a spreadsheet shows as text and does not display.  Numbers
(``priority_rank``, ``-3`` in a report) are not text: they are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """``value`` as a cell: text that a spreadsheet would take for a formula gets a leading
    ``'``; anything else (numbers, None, other text) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, lineterminator: str = "\r\n"
) -> str:
    """A header row, then ``rows``, as CSV (None is an empty field), every text cell
    :func:`neutralised`."""
    # (written with "\r\n", each row's own ending then made ``lineterminator``: the csv
    # module quotes a cell only for a character of its line ending, so with "\n" a cell
    # holding a bare "\r" went out unquoted, and a reader split the row there, its next
    # part a formula no ``'`` had neutralised)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if lineterminator == "\r\n":  # (the csv module's own ending: one pass)
        writer.writerow([neutralised(name) for name in header])
        writer.writerows([neutralised(cell) for cell in row] for row in rows)
        return out.getvalue()
    lines = []
    for row in [header, *rows]:
        writer.writerow([neutralised(cell) for cell in row])
        lines.append(out.getvalue().removesuffix("\r\n") + lineterminator)
        out.seek(0)
        out.truncate()
    return "".join(lines)
