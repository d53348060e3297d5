"""CSV formula injection (issue 20): text a spreadsheet would run as a formula is written
with a leading ', in `export --csv` and `report --format csv`; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from esc.report.spreadsheet import csv_text, neutralised
from tests.conftest import Esc

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_formula_gets_a_leading_quote(text: str) -> None:
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("value", ["x=1", "a-b", " =1", "", None, -3, 2.5, "2026-11-20T08:00Z"])
def test_anything_else_stays_as_it_is(value: object) -> None:
    assert neutralised(value) is value


def test_csv_text_neutralises_text_cells_only() -> None:
    text = csv_text(["key", "value"], [["=a", -3], ["b", "-3"], ["c", None]], lineterminator="\n")
    assert list(csv.reader(io.StringIO(text))) == [
        ["key", "value"],
        ["'=a", "-3"],
        ["b", "'-3"],
        ["c", ""],
    ]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_cell_holding_a_carriage_return_is_quoted_whatever_the_line_ending(
    ending: str,
) -> None:
    """`report --format csv` (rows ending in "\\n") wrote `Printer\\r=1+1\\r@SUM(A1)` unquoted:
    a reader split the row at each CR, into cells that were formulas no `'` neutralised."""
    hostile = "Printer\r=1+1\r@SUM(A1)"
    text = csv_text(["key", "value"], [["t", hostile], ["u", "x\r\ny"]], lineterminator=ending)
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["key", "value"],
        ["t", hostile],
        ["u", "x\r\ny"],
    ]
    assert text.endswith(ending) and text.count(f'"{ending}') == 2


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_csv_neutralises_every_text_column(esc: Esc, workspace: Path) -> None:
    ticket = esc.ok(
        "create", "--title", "=1+1", "--customer", "=cmd|' /C calc'!A0", "--body", "x"
    ).strip()
    esc.ok("tag", ticket, "+tag", "@at")
    esc.ok("assign", ticket, "@evil", "--force", env={"ESC_USER": "+me"})  # (a name
    # starting with `-` is refused: an option's look)
    esc.ok("escalate", ticket, "--up", "--reason", "=reason", env={"ESC_USER": "@boss"})
    result = esc("export", "--csv", "out")
    assert result.code == 0, result.err

    [row] = _rows(workspace / "out" / "tickets.csv")
    assert row["title"] == "'=1+1"
    assert row["customer"] == "'=cmd|' /C calc'!A0"
    assert row["assignee"] == ""  # (escalating up cleared it)
    assert row["tags"] == "'+tag,@at"
    assert row["priority_rank"] == "1" and row["level"] == "2"
    [escalation] = _rows(workspace / "out" / "escalations.csv")
    assert (escalation["by"], escalation["reason"]) == ("'@boss", "'=reason")
    events = _rows(workspace / "out" / "events.csv")
    assert {"'+me", "'@boss", "alice"} <= {e["by"] for e in events}
    assert "'@evil" in {e["new_value"] for e in events}
    everything = "".join(p.read_text() for p in (workspace / "out").iterdir())
    for line in everything.splitlines():
        for cell in next(csv.reader([line])):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_report_csv_neutralises_text_and_keeps_numbers(esc: Esc) -> None:
    esc.ok("create", "--title", "@SUM(1+1)*cmd", "--customer", "-x", "--body", "x")
    out = esc.ok("report", "--format", "csv", now="2026-12-30T10:00:00+01:00")
    rows = dict(csv.reader(io.StringIO(out)))
    titles = [v for k, v in rows.items() if k.endswith(".title")]
    assert titles and set(titles) == {"'@SUM(1+1)*cmd"}
    numbers = [v for v in rows.values() if v.lstrip("-").replace(".", "", 1).isdigit()]
    assert numbers  # counts and durations are written as numbers, not as text
    assert not [v for v in rows.values() if v.startswith(("=", "+", "@", "\t", "\r"))]
    assert not [v for v in rows.values() if v.startswith("-") and not v[1:2].isdigit()]
    # every key of the JSON is there: an empty list (no broken file) as a row of its own
    assert rows["broken"] == "" and not [k for k in rows if k.startswith("broken[")]
