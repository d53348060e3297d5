"""Records are values: equal and hashed by their fields, and never assigned to (mypy)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mypy import api

from esc.domain.model import Entry, Escalation

AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)


def test_records_with_the_same_fields_are_one_value() -> None:
    a, b = Entry(AT, "carol", "reply", "Done."), Entry(AT, "carol", "reply", "Done.")
    assert a == b and hash(a) == hash(b)
    assert len({a, b, Entry(AT, "carol", "note", "Done.")}) == 2
    assert {Escalation(AT, "functional", "support", "sre", "bob", "db")} == {
        Escalation(AT, "functional", "support", "sre", "bob", "db")
    }


def test_assigning_to_a_field_is_a_type_error(tmp_path: Path) -> None:
    source = tmp_path / "mutate.py"
    source.write_text(
        "import datetime as dt\n"
        "from esc.domain.model import Entry\n"
        "entry = Entry(dt.datetime.now(dt.timezone.utc), 'carol', 'reply', 'Done.')\n"
        "entry.text = 'Changed.'\n",
        encoding="utf-8",
    )
    out, _, code = api.run([str(source), "--no-incremental", "--cache-dir", str(tmp_path / "c")])
    assert code == 1
    assert 'mutate.py:4: error: Property "text" defined in "Entry" is read-only' in out
