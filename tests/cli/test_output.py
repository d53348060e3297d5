"""Printing a command's output: `list --json` streams its array, one ticket per line."""

from __future__ import annotations

import json

from tests.conftest import Esc


def test_list_json_is_an_array_written_one_ticket_per_line(esc: Esc) -> None:
    first = esc.ok("create", "--title", "Invoice missing", "--category", "billing").strip()
    second = esc.ok("create", "--title", "Café — 500 errors", "--category", "outage").strip()
    out = esc.ok("list", "--json")
    lines = out.split("\n")
    assert lines[0] == "[" and lines[-2:] == ["]", ""]
    items = [json.loads(line.removesuffix(",")) for line in lines[1:-2]]
    assert sorted(i["id"] for i in items) == sorted([first, second])
    assert json.loads(out) == items
    assert "Café — 500 errors" in out  # not escaped to \\u sequences
    assert {"sla", "next_sla", "level", "title"} <= set(items[0])


def test_list_json_with_no_ticket_is_an_empty_array(esc: Esc) -> None:
    assert esc.ok("list", "--json") == "[]\n"
