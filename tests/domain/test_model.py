"""The ticket record: ``rebuilt`` makes the same Ticket that ``dataclasses.replace`` makes,
for every field, since a Ticket's ``__init__`` only stores its fields."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from esc.domain.model import Escalation, Ticket, rebuilt

CREATED = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TICKET = Ticket("T-1", "Checkout fails", "open", "high", "support", CREATED, CREATED)

CHANGES: list[dict[str, object]] = [
    {},
    {"status": "resolved", "resolved_at": CREATED + dt.timedelta(hours=2)},
    {
        "team": "engineering",
        "escalations": (Escalation(CREATED, "functional", "support", "engineering", "ann", "db"),),
    },
    {"tags": ("vip",), "extra": {"sla": {"policy": "standard"}}, "complete": False},
]


def test_a_ticket_has_no_post_init_nor_fields_left_out_of_init() -> None:
    assert not hasattr(Ticket, "__post_init__")
    assert all(f.init for f in dataclasses.fields(Ticket))


@pytest.mark.parametrize("values", CHANGES)
def test_rebuilt_is_what_replace_makes(values: dict[str, object]) -> None:
    made = rebuilt(TICKET, values)
    assert made == dataclasses.replace(TICKET, **values)  # type: ignore[arg-type]
    assert vars(made) == vars(dataclasses.replace(TICKET, **values))  # type: ignore[arg-type]
    assert made is not TICKET and vars(TICKET)["status"] == "open"  # (the old one untouched)
