"""The demo workspace at the repository root: valid, varied, and every command runs on it."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from esc.domain.model import STATUSES
from tests.conftest import Esc

NOW = "2026-11-27T09:00:00+01:00"


@pytest.fixture
def desk(demo: Path) -> Esc:
    return Esc(demo, now=NOW)


def all_tickets(desk: Esc) -> list[dict[str, object]]:
    return list(json.loads(desk.ok("list", "--all", "--json")))


def test_demo_validates(desk: Esc) -> None:
    result = desk("validate")
    assert result.code == 0, result.out
    assert result.err.startswith("ok: teams.yaml, rules.yaml and ")


def test_demo_is_a_realistic_helpdesk(desk: Esc) -> None:
    tickets = all_tickets(desk)
    assert 30 <= len(tickets) <= 40
    statuses = Counter(t["status"] for t in tickets)
    assert set(statuses) == set(STATUSES)
    kinds = Counter(e["kind"] for t in tickets for e in t["escalations"])  # type: ignore[attr-defined]
    assert kinds["functional"] >= 2 and kinds["hierarchical"] >= 2 and kinds["priority"] >= 2
    assert any(t["team"] == "management" for t in tickets)
    assert any(t["csat"] for t in tickets)
    full = [json.loads(desk.ok("show", str(t["id"]), "--json")) for t in tickets[:12]]
    kinds_seen = {c["kind"] for t in full for c in t["conversation"]}
    assert {"message", "reply", "note"} <= kinds_seen


def test_every_read_command_runs_on_the_demo(desk: Esc) -> None:
    first = all_tickets(desk)[0]["id"]
    for args in (["list"], ["list", "--all", "--priority", ">=high"], ["show", str(first)],
                 ["explain", str(first)], ["upcoming", "--within", "1d"],
                 ["check", "--format", "junit"], ["sweep", "--dry-run"]):
        result = desk(*args)
        assert result.code in (0, 1), (args, result.err)
        assert "Traceback" not in result.err and result.out


def test_the_lifecycle_runs_on_the_demo(desk: Esc) -> None:
    ticket = desk.ok("create", "--title", "Refund for a double charge", "--category", "refund",
                     "--customer", "ops@shop.example", "--channel", "email").strip()
    support = next(t for t in all_tickets(desk) if t["id"] == ticket)
    assert support["team"] == "support"
    member = "maya"
    for args in (["assign", ticket, member], ["comment", ticket, "-m", "Looking into it"],
                 ["comment", ticket, "-m", "Checked the PSP", "--internal"],
                 ["wait", ticket, "--reason", "bank statement"],
                 ["comment", ticket, "-m", "Here it is", "--from-customer"],
                 ["escalate", ticket, "--up", "--reason", "needs engineering"],
                 ["escalate", ticket, "--priority", "high", "--reason", "customer is a VIP"],
                 ["resolve", ticket, "--resolution", "Refunded"],
                 ["close", ticket, "--csat", "5", "--feedback", "Thanks"],
                 ["reopen", ticket, "--reason", "charged again"]):
        desk.ok(*args)
    shown = json.loads(desk.ok("show", ticket, "--json"))
    assert shown["status"] == "open" and shown["team"] == "engineering"
    assert [e["kind"] for e in shown["escalations"]] == ["hierarchical", "priority"]
    assert desk("validate").code == 0


def test_the_demo_s_committed_reports_are_what_this_esc_renders(desk: Esc, demo: Path) -> None:
    """The demo's `reports/` are among the first things a new user reads: they said
    "decided" and 88% after the compliance changed to the clocks that finished (92%)."""
    from tests.conftest import REPO

    out = desk.ok("sweep", "--no-notify")
    assert "rendered reports/summary.md, reports/index.html, reports/report.json" in out
    for name in ("summary.md", "index.html", "report.json"):
        rendered = (demo / "reports" / name).read_text(encoding="utf-8")
        assert rendered == (REPO / "reports" / name).read_text(encoding="utf-8"), name
