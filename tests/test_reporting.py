"""The reports a sweep renders agree with `esc report`, though they skip settled tickets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Esc


@pytest.mark.parametrize(
    "now",
    [
        "2026-11-27T09:00:00+01:00",  # the demo's own time: a few tickets settled
        "2026-12-14T15:00:00+01:00",
        "2027-03-01T10:00:00+01:00",  # every closed ticket settled long ago
    ],
)
def test_sweep_reports_have_the_numbers_of_esc_report(demo: Path, now: str) -> None:
    desk = Esc(demo, now=now)
    desk.ok("sweep")
    swept = json.loads((demo / "reports" / "report.json").read_text(encoding="utf-8"))
    reported = json.loads(desk.ok("report", "--format", "json"))
    assert swept == reported
    assert swept["totals"]["tickets"] == 36


def test_a_ticket_reopened_by_hand_is_no_longer_settled(demo: Path) -> None:
    desk = Esc(demo, now="2027-03-01T10:00:00+01:00")
    desk.ok("sweep")
    path = next(
        p
        for p in sorted((demo / "tickets").glob("*.md"))
        if "status: closed" in p.read_text(encoding="utf-8")
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: closed", "status: open", 1),
        encoding="utf-8",
    )
    (demo / "reports" / "report.json").unlink()  # render again within the hour
    desk.ok("sweep")
    swept = json.loads((demo / "reports" / "report.json").read_text(encoding="utf-8"))
    assert swept == json.loads(desk.ok("report", "--format", "json"))
    assert path.stem in [row["id"] for row in swept["sla"]["breached_now"]]
