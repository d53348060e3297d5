"""`esc sweep` through the installed command: SLAs written, rules applied once, reports, commits."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Esc, run_in_process

CREATED = "2026-11-20T09:00:00+01:00"  # Friday 09:00 Berlin
# The starter categories and a calendar that never closes (many tests' rules.yaml start so)
ALWAYS_OPEN = """\
priorities: [low, normal, high, urgent]
default_priority: normal
categories: [billing, account, how-to, refund, bug, outage, data]
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
"""
RULES_LEVELS = """\
priorities: [low, normal, high, urgent]
default_priority: normal
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon-fri: "09:00-17:00"}
sla:
  - name: first-level
    when: {level: 1}
    calendar: office
    targets: {first_response: 2h, resolution: 4h}
    warn_at: 50%
  - name: second-level
    when: {level: 2}
    calendar: office
    targets: {resolution: 8h}
rules:
  - name: warn
    when: {sla: warning}
    then: {note: "SLA warning"}
  - name: breached-goes-up
    when: {sla: breached, level: "<3"}
    then: {escalate: up, note: "SLA breached, escalating"}
"""


def files(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "tickets").glob("*.md"))}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def make(esc: Esc, title: str = "Invoice missing", category: str = "billing") -> str:
    return esc.ok("create", "--title", title, "--category", category, now=CREATED).strip()


def test_a_rule_s_request_a_person_made_again_later_never_ran_its_clock(
    esc: Esc, workspace: Path
) -> None:
    """A rule involves engineering at 09:05 (no sweep sees it); alice involves engineering
    herself at 12:00.  The rule's request is not made twice, and nothing followed from it:
    a rule on the breach of its OLA (2h, 11:05) tagged the ticket `ola-late` though its log
    shows no request before alice's (audit d67)."""
    rules = workspace / "rules.yaml"
    text = rules.read_text().replace("resolution: 24h}", "resolution: 24h, collaboration: 2h}")
    rules.write_text(text + (
        "  - name: ask-engineering\n    when: {tags: needs-dev, status: [new, open]}\n"
        "    then: {involve: engineering}\n"
        "  - name: ola-late\n    when: {sla.collaboration: breached}\n"
        "    then: {tag: ola-late}\n"))  # fmt: skip
    ticket = esc.ok("create", "--title", "Export broken", "--category", "billing",
                    now="2026-11-24T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("tag", ticket, "needs-dev", now="2026-11-24T09:05:00+01:00")
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "can you check the export?",
           now="2026-11-24T12:00:00+01:00")  # fmt: skip
    out = esc.ok("sweep", "--no-report", now="2026-11-24T12:30:00+01:00")
    assert "so it is not asked twice" in out and "ola-late" not in out
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "ola-late" not in text and "sla.collaboration: ok → warning" not in text
    assert "12:00:00+01:00 · esc · sla.collaboration: — → ok" in text


def test_a_rule_s_escalation_a_person_made_again_later_has_no_consequences(
    esc: Esc, workspace: Path
) -> None:
    """The first response breaches at 13:00: breached-goes-up would move the ticket to
    engineering, whose lead a rule assigns.  No sweep runs until 13:30; alice escalates
    it up herself at 13:10.  The rule's escalation is not made twice, and nothing followed
    from it: the lead was assigned at 13:00, ten minutes before the ticket moved (audit
    d67); assigned at 13:10, after alice's move, as hourly sweeps do."""
    teams = workspace / "teams.yaml"
    teams.write_text(teams.read_text().replace(
        "    members: [dan, erin]\n", "    members: [dan, erin]\n    lead: gina\n"))  # fmt: skip
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + (
        "  - name: lead-takes-it\n    when: {assignee: null}\n    then: {assign: lead}\n"))
    ticket = esc.ok("create", "--title", "Export broken", "--category", "billing",
                    now="2026-11-24T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-24T09:05:00+01:00")
    esc.ok("escalate", ticket, "--up", "--reason", "needs a developer",
           now="2026-11-24T13:10:00+01:00")  # fmt: skip
    out = esc.ok("sweep", "--no-report", now="2026-11-24T13:30:00+01:00")
    assert "so it is not made twice" in out
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assigned = re.findall(r"- (\S+) · rule:lead-takes-it · assignee: — → (\w+)", text)
    assert assigned == [
        ("2026-11-24T09:00:00+01:00", "carol"),
        ("2026-11-24T13:10:00+01:00", "gina"),
    ]


@pytest.mark.parametrize("settle", ["resolve", "close"])
def test_a_tag_a_policy_reads_on_a_settled_ticket_is_logged_at_its_time_whatever_the_cadence(
    tmp_path: Path, settle: str
) -> None:
    """A policy chosen by a tag, added to a resolved (or closed) ticket a sweep had seen:
    the policy's re-selection and the clock it breached were stamped at the next sweep's
    instant, not at the tag's (audit d67); without that earlier sweep, at the tag's."""
    logs = []
    for swept_between in (True, False):
        root = tmp_path / f"ws-{swept_between}"
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        rules = root / "rules.yaml"
        vip = ("  - name: vip\n    when: {tags: vip}\n    calendar: always\n"
               "    targets: {first_response: 15m, resolution: 2h}\n")  # fmt: skip
        rules.write_text(rules.read_text().replace("sla:", "sla:\n" + vip.rstrip("\n"), 1))
        desk = Esc(root)
        ticket = desk.ok("create", "--title", "Checkout slow", "--body", "b",
                         now="2026-11-24T09:00:00+01:00").strip()  # fmt: skip
        resolved = ["--resolution", "cache cleared"]
        desk.ok(settle, ticket, *resolved, now="2026-11-24T10:00:00+01:00")
        if swept_between:
            desk.ok("sweep", "--no-report", now="2026-11-24T10:05:00+01:00")
        desk.ok("tag", ticket, "vip", now="2026-11-24T10:10:00+01:00")
        desk.ok("sweep", "--no-report", now="2026-11-24T10:15:00+01:00")
        text = (root / "tickets" / f"{ticket}.md").read_text()
        logs.append([line.split(" · ", 1)[0] + " · " + line.split(" · ", 2)[2]
                     for line in text.splitlines() if " · esc · sla.policy:" in line])  # fmt: skip
    assert logs[0] == logs[1]
    reselected = "sla.policy: standard → vip · policy re-selected"
    assert logs[0][-1] == f"- 2026-11-24T10:10:00+01:00 · {reselected}"


@pytest.mark.parametrize(
    ("condition", "sweeps"),
    [
        # (`idle <= 30m` turns false a second after 30 minutes: re-armed at 10:30:01, the
        # rule fires again when the customer's message at 11:10 makes the ticket fresh)
        ('{idle: "<=30m"}', ["10:00", "11:20"]),
        ('{idle: "<=30m"}', ["10:00", "11:00", "11:20"]),
        # (`age != 1h` is false for the one second at 11:00:00, true again at 11:00:01)
        ('{age: "!=1h"}', ["10:00", "12:00"]),
    ],
)
def test_a_limit_that_turns_at_the_second_after_it_re_arms_its_rule_at_any_cadence(
    tmp_path: Path, condition: str, sweeps: list[str]
) -> None:
    """What a rule on `age`, `idle` or `overdue` does is the same whatever sweeps ran
    between, as sweeping every second (audit r78): a `<=` limit turns false, and a `!=`
    one true again, a second after the limit is reached, where the replay looked at the
    limit alone and saw the condition unchanged."""
    texts = []
    every_five = [f"{h}:{m:02d}" for h in (10, 11) for m in range(0, 60, 5)]
    for cadence in (sweeps, every_five):
        root = tmp_path / f"ws-{len(texts)}"
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        rule = f"rules:\n  - name: r\n    when: {condition}\n    then: {{note: hi}}\n"
        (root / "rules.yaml").write_text(ALWAYS_OPEN + rule)
        desk = Esc(root)
        ticket = desk.ok("create", "--title", "x", now="2026-11-20T10:00:00+00:00").strip()
        for at, what in sorted([(at, "sweep") for at in [*cadence, "12:00"]] + [("11:10", "a")]):
            now = f"2026-11-20T{at}:00+00:00"
            if what == "a":  # (the customer answers)
                desk.ok("comment", ticket, "-m", "still broken", "--from-customer", now=now)
            else:
                desk.ok("sweep", "--no-report", "--no-notify", now=now)
        text = (root / "tickets" / f"{ticket}.md").read_text()
        texts.append([line for line in text.splitlines() if "rule:r" in line])
    assert texts[0] == texts[1]
    assert len(texts[0]) >= 2, texts[0]


def test_a_customer_message_that_reopens_a_ticket_a_missed_rule_resolved_logs_alike_at_any_cadence(
    tmp_path: Path,
) -> None:
    """A rule resolves a ticket left pending for 2h (11:06:01); the customer answers at
    12:00.  One late sweep wrote the clocks' 12:00 lines before the customer's
    `resolved → open`, which it adds; sweeps that saw the resolve wrote them after it, as
    a sweep does a person's line of its instant (audit a74)."""
    logs = []
    for swept_between in (True, False):
        root = tmp_path / f"ws-{swept_between}"
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        rules = root / "rules.yaml"
        rules.write_text(rules.read_text() + (
            "  - name: auto-resolve\n    when: {status: pending, idle: \">2h\"}\n"
            "    then: {status: resolved}\n"))  # fmt: skip
        desk = Esc(root)
        ticket = desk.ok("create", "--title", "x", "--category", "billing", "--customer",
                         "c@x.example", now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
        desk.ok("comment", ticket, "-m", "Which invoice?", now="2026-11-23T09:05:00+01:00")
        desk.ok("wait", ticket, "--reason", "asked", now="2026-11-23T09:06:00+01:00")
        if swept_between:
            desk.ok("sweep", "--no-report", now="2026-11-23T11:30:00+01:00")
        desk.ok("comment", ticket, "--from-customer", "-m", "INV-42",
                now="2026-11-23T12:00:00+01:00")  # fmt: skip
        desk.ok("sweep", "--no-report", now="2026-11-23T12:30:00+01:00")
        text = (root / "tickets" / f"{ticket}.md").read_text()
        logs.append([line for line in text.splitlines()
                     if line.startswith("- 2026-11-23T12:00:00+01:00")
                     and "pending → open" not in line])  # fmt: skip
    assert logs[0] == logs[1]
    assert [line.split(" · ", 2)[2] for line in logs[1]] == [
        "message added",
        "status: resolved → open · customer replied",
        "resolved_at: 2026-11-23T11:06:01+01:00 → —",
        "sla.next_response: — → ok",
        "sla.resolution: met → ok",
    ]


def test_sweep_writes_sla_block_and_is_idempotent(esc: Esc, workspace: Path) -> None:
    ticket = make(esc)
    first = esc.ok("sweep", now="2026-11-20T10:00:00+01:00")
    assert first.startswith("1 tickets seen, 1 changed; 1 active tickets: 0 overdue, 0 in warning")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "sla:\n  policy: standard\n  checked: 2026-11-20T10:00:00+01:00\n" in text
    assert "  first_response: {due: 2026-11-20T13:00:00+01:00, state: ok}\n" in text
    before = files(workspace)
    again = esc.ok("sweep", now="2026-11-20T10:00:00+01:00")
    assert again.startswith("1 tickets seen, 0 changed")
    assert files(workspace) == before


def test_a_rule_s_regex_on_a_long_customer_message_holds_up_no_sweep(
    esc: Esc, workspace: Path
) -> None:
    # (Python's engine tries every pair of places for the two `.*` of this natural
    # pattern: hours on this message; the sweep takes the automaton's linear time)
    (workspace / "rules.yaml").write_text(ALWAYS_OPEN + """\
rules:
  - name: flaky-export
    when: {text: "/error.*timeout.*retry/i"}
    then: {tag: flaky-export}
""")
    message = "The export stopped with an error, then a timeout. " * 6_000
    quiet = esc.ok("create", "--title", "Export", "--body", message, now=CREATED).strip()
    loud = esc.ok(
        "create", "--title", "Export", "--body", message + "Retry did not help.", now=CREATED
    ).strip()
    out = esc.ok("sweep", now="2026-11-20T09:05:00+01:00")
    assert f"{loud}: tag flaky-export (flaky-export)" in out, out
    assert quiet not in out
    assert "flaky-export" not in (workspace / "tickets" / f"{quiet}.md").read_text()


RULES_ACTIONS = RULES_LEVELS.split("rules:\n")[0] + """\
rules:
  - name: triage
    when: {status: new, sla: breached}
    then: {assign: lead, tag: triaged, priority: high, note: "Breached while new"}
  - name: park
    when: {tags: triaged, status: open}
    then: {status: pending}
"""


def test_sweep_prints_every_rule_action(esc: Esc, workspace: Path) -> None:
    (workspace / "rules.yaml").write_text(RULES_ACTIONS)
    assert esc("validate").code == 0
    ticket = make(esc)
    # 11:00 Friday: the first response (2h) is breached while the ticket is new
    sweep = ("sweep", "--dry-run")
    lines = esc.ok(*sweep, now="2026-11-20T11:30:00+01:00").splitlines()
    assert lines[1:7] == [
        f"  {ticket}: assignee — → carol (triage)",
        f"  {ticket}: status new → open (triage)",
        f"  {ticket}: tag triaged (triage)",
        f"  {ticket}: normal → high (triage)",
        f'  {ticket}: note "Breached while new" (triage)',
        f"  {ticket}: status open → pending (park)",
    ]
    data = json.loads(esc.ok(*sweep, "--json", now="2026-11-20T11:30:00+01:00"))
    at = "2026-11-20T11:00:00+01:00"  # (never swept: replayed from creation, to the breach)
    assert [{k: a[k] for k in ("id", "rule", "action", "field", "from", "to")} for a in
            data["actions"]] == [
        {"id": ticket, "rule": "triage", "action": "assign", "field": "assignee",
         "from": None, "to": "carol"},
        {"id": ticket, "rule": "triage", "action": "status", "field": "status",
         "from": "new", "to": "open"},
        {"id": ticket, "rule": "triage", "action": "tag", "field": None, "from": None,
         "to": "triaged"},
        {"id": ticket, "rule": "triage", "action": "priority", "field": "priority",
         "from": "normal", "to": "high"},
        {"id": ticket, "rule": "triage", "action": "note", "field": None, "from": None,
         "to": "Breached while new"},
        {"id": ticket, "rule": "park", "action": "status", "field": "status",
         "from": "open", "to": "pending"},
    ]  # fmt: skip
    assert {a["at"] for a in data["actions"]} == {at}
    esc.ok("sweep", now="2026-11-20T11:30:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-20T11:30:00+01:00"))
    assert (shown["assignee"], shown["status"], shown["priority"]) == ("carol", "pending", "high")
    again = json.loads(esc.ok("sweep", "--json", now="2026-11-20T11:45:00+01:00"))
    assert again["actions"] == []  # each rule acted once


def test_dry_run_writes_nothing(esc: Esc, workspace: Path) -> None:
    make(esc)
    before = files(workspace)
    out = esc.ok("sweep", "--dry-run", now="2026-11-23T12:00:00+01:00")
    assert "1 would change" in out and "would write tickets/" in out
    assert files(workspace) == before
    assert not (workspace / "reports").exists()


def test_breach_escalates_once_per_crossing(esc: Esc, workspace: Path) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    # 10:00 is the warning point (50% of 2h first response): the warn rule notes it
    out = esc.ok("sweep", "--json", now="2026-11-20T10:30:00+01:00")
    assert json.loads(out)["fired"] == {ticket: ["warn"]}
    # the first response (2h) is breached at 11:00, at level 1: up to engineering, once
    out = esc.ok("sweep", now="2026-11-20T13:30:00+01:00")
    assert f"{ticket}: support → engineering (breached-goes-up)" in out
    assert esc.ok("sweep", now="2026-11-20T13:30:00+01:00").startswith("1 tickets seen, 0 changed")
    out = esc.ok("sweep", now="2026-11-20T16:00:00+01:00")
    assert "→" not in out
    # level 2 allows 8h from creation: 17:00 Friday, then re-breached: up again
    out = esc.ok("sweep", now="2026-11-23T09:30:00+01:00")
    assert f"{ticket}: engineering → management (breached-goes-up)" in out
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T09:30:00+01:00"))
    assert [(e["from"], e["to"], e["by"]) for e in shown["escalations"]] == [
        ("support", "engineering", "rule:breached-goes-up"),
        ("engineering", "management", "rule:breached-goes-up"),
    ]
    notes = [(c["at"][11:16], c["text"]) for c in shown["conversation"] if c["kind"] == "note"]
    assert notes == [
        ("10:00", "SLA warning"),  # (the first response's)
        ("11:00", "SLA warning"),  # (the resolution's, at 50% of 4h: another clock's)
        ("11:00", "SLA breached, escalating"),
        ("17:00", "SLA breached, escalating"),
    ]


@pytest.mark.parametrize("hours", [(13, 74), tuple(range(10, 75, 4))])
def test_a_ticket_breached_escalated_and_breached_again_at_the_next_level_goes_up_again(
    esc: Esc, workspace: Path, hours: tuple[int, ...]
) -> None:
    """Issue 3's own rules.yaml (one policy for every level): the first response breached
    at 13:00 took the ticket to engineering; its resolution breached at level 2 two days
    later and nothing happened, because `sla: breached` had stayed true since (the first
    response is still breached): the rule waited for it to turn false.  Another clock's
    breach is a breach again: escalated again, at its instant, however often cron ran."""
    monday = dt.datetime.fromisoformat("2026-11-23T09:00:00+01:00")
    ticket = esc.ok("create", "--title", "t", "--category", "billing", now=monday.isoformat())
    for hour in hours:  # (from Monday 09:00: once at 13:00 and Thursday 11:00, or every 4h)
        esc.ok("sweep", "--no-report", now=(monday + dt.timedelta(hours=hour)).isoformat())
    shown = json.loads(esc.ok("show", ticket.strip(), "--json", now="2026-11-26T11:00:00+01:00"))
    assert [(e["from"], e["to"], e["at"], e["by"]) for e in shown["escalations"]] == [
        ("support", "engineering", "2026-11-23T13:00:00+01:00", "rule:breached-goes-up"),
        ("engineering", "management", "2026-11-25T17:00:00+01:00", "rule:breached-goes-up"),
    ]
    assert shown["team"] == "management"


@pytest.mark.parametrize("swept_between", [True, False])
def test_a_clock_a_new_policy_puts_past_its_deadline_is_a_breach_again(
    esc: Esc, workspace: Path, swept_between: bool
) -> None:
    """Escalated at 13:00 on its first response's breach, the ticket was made urgent at
    14:00: the urgent policy's resolution (4h from 09:00) was breached from that instant,
    logged so, and the rule waited, the first response being breached since 13:00."""
    monday = "2026-12-07T{}:00+01:00"
    ticket = esc.ok("create", "--title", "t", "--category", "billing", now=monday.format("09:00"))
    ticket = ticket.strip()
    if swept_between:
        esc.ok("sweep", "--no-report", now=monday.format("13:05"))
    esc.ok("escalate", ticket, "--priority", "urgent", "--reason", "r", now=monday.format("14:00"))
    esc.ok("sweep", "--no-report", now=monday.format("14:05"))
    shown = json.loads(esc.ok("show", ticket, "--json", now=monday.format("14:05")))
    by_rule = [(e["to"], e["at"]) for e in shown["escalations"] if e["by"].startswith("rule:")]
    at = [monday.format("13:00"), monday.format("14:00")]
    assert by_rule == [("engineering", at[0]), ("management", at[1])]


def test_missed_sweeps_fire_each_crossed_step_in_order(esc: Esc, workspace: Path) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    # cron is down until Monday: warning (10:00), first response breached at level 1 (11:00),
    # resolution breached at level 2 (8h from creation: 17:00) were all crossed
    esc.ok("sweep", now="2026-11-23T12:00:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T12:00:00+01:00"))
    assert [(e["to"], e["at"]) for e in shown["escalations"]] == [
        ("engineering", "2026-11-20T11:00:00+01:00"),
        ("management", "2026-11-20T17:00:00+01:00"),
    ]
    notes = [(c["at"], c["text"]) for c in shown["conversation"] if c["kind"] == "note"]
    assert notes == [
        ("2026-11-20T10:00:00+01:00", "SLA warning"),
        ("2026-11-20T11:00:00+01:00", "SLA warning"),  # (the resolution's: another clock)
        ("2026-11-20T11:00:00+01:00", "SLA breached, escalating"),
        ("2026-11-20T17:00:00+01:00", "SLA breached, escalating"),
    ]
    before = files(workspace)
    esc.ok("sweep", now="2026-11-23T12:00:00+01:00")
    assert files(workspace) == before


def test_sweep_renders_summary_only_when_it_changes(esc: Esc, workspace: Path) -> None:
    make(esc, title="Pipe | in *title*")
    esc.ok("sweep", now="2026-11-23T12:00:00+01:00")
    summary = workspace / "reports" / "summary.md"
    text = summary.read_text()
    assert "1 active tickets" in text and "Pipe \\| in \\*title\\*" in text
    # (then the whole report, as `esc report` writes it: every report holds it all)
    assert text.endswith(esc.ok("report", now="2026-11-23T12:00:00+01:00").replace("](", "](../"))
    for heading in ("Backlog now", "SLA compliance", "Escalations", "Speed", "Satisfaction",
                    "Trend"):  # fmt: skip
        assert f"\n## {heading}\n" in text
    stamp = summary.stat().st_mtime_ns
    esc.ok("sweep", now="2026-11-23T12:05:00+01:00")
    assert summary.stat().st_mtime_ns == stamp
    esc.ok("sweep", "--no-report", now="2026-11-23T12:10:00+01:00")
    other = workspace / "elsewhere"
    esc.ok("sweep", "--report-dir", str(other), now="2026-11-23T12:10:00+01:00")
    # (as of the sweep that rendered it: its time, and the report's period, moved on)
    assert (other / "summary.md").read_text() == text.replace("T12:00:00", "T12:10:00")


def test_sweep_commit_commits_exactly_what_it_changed(esc: Esc, workspace: Path) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc)
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    (workspace / "notes.txt").write_text("staged but not the sweep's\n")
    git(workspace, "add", "notes.txt")
    (workspace / "teams.yaml").write_text((workspace / "teams.yaml").read_text() + "# dirty\n")

    out = esc.ok("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert "committed" in out
    shown = git(workspace, "log", "-1", "--format=%B")
    assert shown.startswith("esc sweep: 1 ticket updated\n\n")
    assert f"{ticket}: support → engineering (breached-goes-up)" in shown
    # dated by --now, as the files it wrote are (esc log sorts commits among their lines)
    dates = git(workspace, "log", "-1", "--format=%aI %cI").split()
    assert dates == ["2026-11-20T13:30:00+01:00"] * 2
    changed = git(workspace, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == [f"tickets/{ticket}.md"]  # (`esc init` git-ignores reports/)
    assert (workspace / "reports" / "summary.md").is_file()
    status = git(workspace, "status", "--porcelain").splitlines()
    assert set(status) == {"A  notes.txt", " M teams.yaml"}
    # nothing changed: no empty commit
    head = git(workspace, "rev-parse", "HEAD")
    esc.ok("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert git(workspace, "rev-parse", "HEAD") == head


def test_a_committing_sweep_refuses_rules_or_teams_changed_and_not_committed(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A draft of rules.yaml left uncommitted would act through the sweep (an escalation
    the committed policy does not make, committed and pushed under the sweep's name): a
    committing sweep refuses it, and writes nothing; a plain sweep uses it."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    with_remote(workspace, tmp_path)
    rules = workspace / "rules.yaml"
    committed = rules.read_text()
    rules.write_text(committed.replace("first_response: 2h", "first_response: 30m"))
    before = (workspace / "tickets" / f"{ticket}.md").read_text()
    head = git(workspace, "rev-parse", "HEAD")
    for args in (["--commit"], ["--push"]):
        result = esc("sweep", *args, now="2026-11-20T13:30:00+01:00")
        assert (result.code, result.out) == (1, "")
        assert result.err == (
            "esc: rules.yaml has changes not committed, which a committing sweep would act on "
            "and commit the effects of: commit them (or stash them), or sweep without "
            "--commit/--push; nothing was written\n"
        )
    assert (workspace / "tickets" / f"{ticket}.md").read_text() == before
    assert git(workspace, "rev-parse", "HEAD") == head
    (workspace / "teams.yaml").write_text("intake: support\nteams: {}\n")
    result = esc("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert result.err.startswith("esc: teams.yaml and rules.yaml have changes not committed")
    # committed, the sweep acts on it; a change of comments alone is no change of values
    git(workspace, "checkout", "-q", "--", "teams.yaml")
    git(workspace, "commit", "-qam", "faster first response")
    rules.write_text("# reviewed\n" + rules.read_text())
    out = esc.ok("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert "committed" in out
    assert git(workspace, "status", "--porcelain") == " M rules.yaml\n"


def test_sweep_commit_in_a_workspace_inside_the_repository(tmp_path: Path) -> None:
    """The helpdesk in a folder of a larger repository (`esc init helpdesk` in it): the
    sweep commits its tickets there (git read the files from the repository's top)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    root = repo / "helpdesk"
    assert Esc(repo)("init", "helpdesk").code == 0
    (root / "rules.yaml").write_text(RULES_LEVELS)
    esc = Esc(root)
    ticket = make(esc)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    out = esc.ok("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert "committed" in out
    changed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == [f"helpdesk/tickets/{ticket}.md"]
    assert git(repo, "status", "--porcelain") == ""
    shown = git(repo, "show", f"HEAD:helpdesk/tickets/{ticket}.md")
    assert shown == (root / "tickets" / f"{ticket}.md").read_text()


def test_sweep_carries_on_past_a_broken_ticket(esc: Esc, workspace: Path) -> None:
    make(esc)
    broken = workspace / "tickets" / "T-zzzzzzzz.md"
    broken.write_text("---\ntitle: [\n---\n")
    result = esc("sweep", now="2026-11-23T12:00:00+01:00")
    assert result.code == 1
    assert result.out.startswith("1 tickets seen, 1 changed")
    assert "tickets/T-zzzzzzzz.md:3: front-matter does not parse" in result.err
    assert broken.read_text() == "---\ntitle: [\n---\n"


@pytest.mark.parametrize(
    "before",
    [
        ["check"],
        ["list", "--all"],
        ["report", "--format", "json"],
        ["upcoming"],
        ["sweep", "--dry-run"],
        ["sweep", "--dry-run", "check", "sweep", "--dry-run"],
    ],
)
def test_commands_between_sweeps_never_make_a_sweep_skip_work(
    demo: Path, tmp_path: Path, before: list[str]
) -> None:
    """Other commands cache the SLA of tickets a sweep has not looked at since a deadline
    passed; the sweep must still fire those tickets' rules and update their files."""
    now = "2026-11-27T17:25:00+01:00"
    alone = tmp_path / "alone"
    shutil.copytree(demo, alone)
    expected = json.loads(Esc(alone, now=now).ok("sweep", "--json"))
    assert expected["changed"], "the demo has work for a sweep at this time"
    desk = Esc(demo, now=now)
    commands: list[list[str]] = [[]]
    for word in before:  # (split on command names)
        if word in ("check", "list", "report", "upcoming", "sweep"):
            commands.append([])
        commands[-1].append(word)
    for command in filter(None, commands):
        desk(*command)
    swept = json.loads(desk.ok("sweep", "--json"))
    assert swept["changed"] == expected["changed"]
    for path in sorted((alone / "tickets").glob("*.md")):
        assert path.read_bytes() == (demo / "tickets" / path.name).read_bytes(), path.name


# ---------------------------------------------------------------- replay and the cache


def sweep_at(esc: Esc, now: str) -> str:
    return esc.ok("sweep", "--no-report", now=now)


def test_a_person_s_escalation_between_missed_sweeps_is_not_doubled(
    esc: Esc, workspace: Path
) -> None:
    # The starter's standard policy: first response 4h on office hours, so a ticket
    # created Monday 09:00 breaches at 13:00; the rule `breached-goes-up` escalates.
    ticket = esc.ok("create", "--title", "Login fails", now="2026-11-23T09:00:00+01:00").strip()
    sweep_at(esc, "2026-11-23T09:05:00+01:00")
    esc.ok("escalate", ticket, "--to", "engineering", "--reason", "needs a fix",
           now="2026-11-23T14:00:00+01:00")
    out = sweep_at(esc, "2026-11-23T15:00:00+01:00")
    assert "skipped breached-goes-up" not in out  # (reported per ticket:)
    assert f"skipped {ticket}: breached-goes-up: fired at 2026-11-23T13:00:00+01:00; alice" in out
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T15:00:00+01:00"))
    assert shown["team"] == "engineering"
    assert [(e["from"], e["to"], e["by"]) for e in shown["escalations"]] == [
        ("support", "engineering", "alice")
    ]


@pytest.mark.parametrize(
    "change", [("--category", "outage"), ("--priority", "urgent")], ids=["category", "priority"]
)
def test_a_change_in_the_second_of_the_last_sweep_is_seen_at_its_instant(
    workspace: Path, tmp_path: Path, change: tuple[str, str]
) -> None:
    """A person's change in the very second a sweep ran (after it) was skipped by the next
    sweep's replay: the policy re-selected, the rule fired and the breach escalated at the
    next sweep's time (or at an unrelated timer), not at 09:00 and 09:30. Sweeping at
    09:00 again after the change, then at 12:00, writes the same bytes."""
    esc = Esc(workspace)
    ticket = esc.ok("create", "--title", "Down", "--category", "billing",
                    now="2026-12-22T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-12-22T09:00:00+01:00")
    esc.ok("classify", ticket, *change, now="2026-12-22T09:00:00+01:00")
    often = tmp_path / "often"
    shutil.copytree(workspace, often)
    Esc(often).ok("sweep", "--no-report", "--no-notify", now="2026-12-22T09:00:00+01:00")
    for root in (workspace, often):
        Esc(root).ok("sweep", "--no-report", "--no-notify", now="2026-12-22T12:00:00+01:00")
    assert files(workspace) == files(often)
    text = files(workspace)[f"{ticket}.md"]
    assert "- 2026-12-22T09:00:00+01:00 · esc · sla.policy: standard → urgent" in text
    assert "- 2026-12-22T09:30:00+01:00 · rule:breached-goes-up · team: " in text


def test_a_change_in_the_second_of_the_last_sweep_is_seen_though_more_followed(
    workspace: Path,
) -> None:
    """The same, with a note written at 09:10: the outage was still seen at 09:00."""
    esc = Esc(workspace)
    ticket = esc.ok("create", "--title", "Down", "--category", "billing",
                    now="2026-12-22T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-12-22T09:00:00+01:00")
    esc.ok("classify", ticket, "--category", "outage", now="2026-12-22T09:00:00+01:00")
    esc.ok("comment", ticket, "--internal", "-m", "looking", now="2026-12-22T09:10:00+01:00")
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-12-22T12:00:00+01:00")
    text = files(workspace)[f"{ticket}.md"]
    assert "- 2026-12-22T09:00:00+01:00 · rule:outage-is-urgent · priority: normal → urgent" in (
        text
    )


def test_sweeps_from_two_hosts_a_minute_apart_escalate_once(esc: Esc, workspace: Path) -> None:
    ticket = esc.ok("create", "--title", "Login fails", now="2026-11-23T09:00:00+01:00").strip()
    sweep_at(esc, "2026-11-23T09:05:00+01:00")
    assert f"{ticket}: support → engineering" in sweep_at(esc, "2026-11-23T13:01:00+01:00")
    behind = esc.ok("sweep", "--no-report", "--json", now="2026-11-23T12:59:00+01:00")
    assert json.loads(behind)["changed"] == []
    assert json.loads(behind)["behind"] == [
        f"{ticket}: last swept at 2026-11-23T13:01:00+01:00, after --now; left as it is"
    ]
    sweep_at(esc, "2026-11-23T13:06:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T13:06:00+01:00"))
    assert len(shown["escalations"]) == 1


STARTER_STORIES = [
    # (created, title, category, later commands)
    ("2026-11-23T08:30:00+01:00", "Checkout down", "outage", []),
    ("2026-11-23T09:10:00+01:00", "Refund please", "refund",
     [("2026-11-23T10:00:00+01:00", ["comment", "{id}", "-m", "on it"])]),
    ("2026-11-23T11:00:00+01:00", "Wrong invoice", "billing",
     [("2026-11-23T12:00:00+01:00", ["wait", "{id}", "--reason", "asked for the PDF"]),
      ("2026-11-24T10:00:00+01:00", ["comment", "{id}", "--from-customer", "-m", "here"])]),
    ("2026-11-23T16:30:00+01:00", "Data export broken", "data", []),
    ("2026-11-24T09:00:00+01:00", "Password reset", "account",
     [("2026-11-24T09:20:00+01:00", ["classify", "{id}", "--priority", "urgent"])]),
]
SWEEPS = [
    "2026-11-23T09:00:00+01:00", "2026-11-23T11:00:00+01:00", "2026-11-23T13:30:00+01:00",
    "2026-11-24T08:00:00+01:00", "2026-11-24T11:00:00+01:00", "2026-11-24T17:00:00+01:00",
    "2026-11-26T09:00:00+01:00", "2026-11-30T12:00:00+01:00",
]


def test_warm_and_cold_sweeps_write_the_same_bytes_at_every_step(tmp_path: Path) -> None:
    # The same commands in two workspaces; one keeps `.esc-cache`, the other loses it before
    # every sweep.  After each sweep every ticket file is byte-identical in both.
    # (Tickets are all created first, so both have the same IDs; a sweep before a ticket's
    # creation leaves it alone.)
    roots = [tmp_path / "warm", tmp_path / "cold"]
    assert Esc(tmp_path).ok("init", str(roots[0])) is not None
    warm = Esc(roots[0])
    events: list[tuple[str, int, list[str]]] = []
    ids: list[str] = []
    for n, (created, title, category, later) in enumerate(STARTER_STORIES):
        ids.append(warm.ok("create", "--title", title, "--category", category, now=created).strip())
        events += [(at, n, args) for at, args in later]
    shutil.copytree(roots[0], roots[1])
    cold = Esc(roots[1])
    for now in SWEEPS:
        for at, n, args in sorted(e for e in events if e[0] <= now):
            for esc in (warm, cold):
                esc.ok(*[a.replace("{id}", ids[n]) for a in args], now=at)
        events = [e for e in events if e[0] > now]
        shutil.rmtree(roots[1] / ".esc-cache", ignore_errors=True)
        assert sweep_at(warm, now) == sweep_at(cold, now)
        assert files(roots[0]) == files(roots[1]), f"after the sweep at {now}"
    assert any("escalations:\n  - {at:" in text for text in files(roots[0]).values())


# ---------------------------------------------------------------- what a committing sweep commits


@pytest.mark.parametrize("times", [("11:30",), ("10:30", "11:00", "11:30"), ("11:00", "11:30")])
def test_the_breach_that_escalates_to_a_level_of_another_policy_is_logged(
    esc: Esc, workspace: Path, times: tuple[str, ...]
) -> None:
    """Issue 3: per-level policies; the breach at 11:00 escalates to level 2, whose policy
    has no first response. The log said `sla.policy: first-level → second-level` and
    `first_response: warning → —`, never that it breached; it says so now, at 11:00,
    before the change, however often sweeps ran; and what the escalation made of the
    block (the policy it re-selected) comes after the escalation, its cause (it came
    before it: effect before cause)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc)
    for time in times:
        esc.ok("sweep", "--no-report", now=f"2026-11-20T{time}:00+01:00")
    log = [line for line in (workspace / "tickets" / f"{ticket}.md").read_text().splitlines()
           if line.startswith("- 2026-11-20T11:00:00+01:00 · ")]  # fmt: skip
    assert [line.split(" · ", 1)[1] for line in log] == [
        "esc · sla.first_response: warning → breached",
        "rule:warn · internal note added",  # (the first level's resolution warns at 11:00)
        "rule:breached-goes-up · team: support → engineering · hierarchical escalation: SLA"
        " breached, escalating",
        "rule:breached-goes-up · status: new → open",
        "rule:breached-goes-up · internal note added",
        "esc · sla.policy: first-level → second-level · policy re-selected",
        "esc · sla.first_response: breached → —",
    ]


def test_the_breach_comes_before_the_policy_change_when_the_next_level_is_breached_too(
    esc: Esc, workspace: Path
) -> None:
    """(the log read `sla.policy: first-level → second-level`, then `first_response:
    warning → breached`: as if the second level's clock had breached)"""
    rules = RULES_LEVELS.replace("targets: {resolution: 8h}", "targets: {first_response: 1h}")
    (workspace / "rules.yaml").write_text(rules)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T11:30:00+01:00")
    log = [line.split(" · ", 1)[1] for line in (workspace / "tickets" / f"{ticket}.md")
           .read_text().splitlines() if line.startswith("- 2026-11-20T11:00:00+01:00 · esc")]
    assert log[:2] == [
        "esc · sla.first_response: warning → breached",
        "esc · sla.policy: first-level → second-level · policy re-selected",
    ]


def test_a_block_an_older_esc_wrote_is_replayed_the_same_whenever_sweeps_ran(
    demo: Path, tmp_path: Path
) -> None:
    """The demo's blocks carry no `rules:` (an older esc wrote them). A rule added since,
    true at their `checked` time (an idle ticket), acted at whatever moment came next: at
    the next sweep's instant, or at a warning crossed later, so sweeps every half hour and
    one after two hours wrote different files (13 of 36 after two days). It acts at the
    block's instant in both."""
    rule = '  - name: idle-ping\n    when: {idle: ">3h", status: open}\n    then: {note: "ping"}\n'
    (demo / "rules.yaml").write_text((demo / "rules.yaml").read_text() + rule)
    once = tmp_path / "once"
    shutil.copytree(demo, once)
    for time in ("09:10", "09:40", "10:10", "11:00"):
        Esc(demo).ok("sweep", "--no-report", "--no-notify", now=f"2026-11-27T{time}:00+01:00")
    Esc(once).ok("sweep", "--no-report", "--no-notify", now="2026-11-27T11:00:00+01:00")
    unchecked = re.compile(r"(?m)^(?:  checked: |# sweep fingerprint ).*\n")  # (the sweep's)
    often, later = files(demo), files(once)
    assert {n: unchecked.sub("", t) for n, t in often.items()} == {
        n: unchecked.sub("", t) for n, t in later.items()
    }
    pinged = [line for line in often["T-n7snxv3r.md"].splitlines()
              if line.startswith("- ") and "rule:idle-ping" in line]  # fmt: skip
    assert pinged == ["- 2026-11-27T09:00:00+01:00 · rule:idle-ping · internal note added"]


RULES_RAISE = """\
priorities: [low, normal, high, urgent]
default_priority: normal
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon-fri: "09:00-17:00"}
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
sla:
  - name: urgent
    when: {priority: urgent}
    calendar: always
    targets: {first_response: 30m, resolution: 4h}
  - name: standard
    calendar: office
    targets: {first_response: 4h, resolution: 24h}
    warn_at: 75%
rules:
  - name: raise-on-warning
    when: {sla: warning, priority: "<urgent"}
    then: {priority: raise}
  - name: breached-goes-up
    when: {sla: breached, level: "<3"}
    then: {escalate: up, note: "SLA breached, escalating"}
"""


@pytest.mark.parametrize("times", [("12:30",), ("11:59", "12:00", "12:30")])
def test_what_a_rule_s_change_makes_of_the_sla_is_logged_after_it(
    esc: Esc, workspace: Path, times: tuple[str, ...]
) -> None:
    """Issue 3: a rule raises the priority at a warning; the raise re-selects the policy,
    whose first response is then breached, and that breach escalates.  The log tells it in
    that order, however often sweeps ran: it put the policy's change and the breach before
    the raise that made them (effect before cause).  The warning the rule acted on comes
    first: it was in no line (`ok → breached`), and never told (audit helper-465)."""
    (workspace / "rules.yaml").write_text(RULES_RAISE)
    ticket = esc.ok("create", "--title", "Invoice missing", "--category", "billing",
                    "--priority", "high", now="2026-12-21T09:00:00+01:00").strip()  # fmt: skip
    for time in times:
        esc.ok("sweep", "--no-report", now=f"2026-12-21T{time}:00+01:00")
    log = [line.split(" · ", 1)[1] for line in (workspace / "tickets" / f"{ticket}.md")
           .read_text().splitlines() if line.startswith("- 2026-12-21T12:00:00+01:00 · ")]
    assert log == [
        "esc · sla.first_response: ok → warning · due 2026-12-21T13:00:00+01:00",
        "rule:raise-on-warning · priority: high → urgent · priority escalation: rule"
        " raise-on-warning",
        "esc · sla.policy: standard → urgent · policy re-selected",
        "esc · sla.first_response: warning → breached",
        "rule:breached-goes-up · team: support → engineering · hierarchical escalation: SLA"
        " breached, escalating",
        "rule:breached-goes-up · status: new → open",
        "rule:breached-goes-up · internal note added",
    ]


def test_the_warning_a_rule_acted_on_is_told_though_its_change_made_the_clock_breached(
    esc: Esc, workspace: Path
) -> None:
    """A warning told once, as a breach is, also when the rule acting on it re-selects a
    policy under which the clock is breached: it was told of the breach alone (audit
    helper-465)."""
    notify = 'notify:\n  targets: {sup: "json://127.0.0.1:9/hook"}\n  teams: {support: sup}\n'
    (workspace / "rules.yaml").write_text(RULES_RAISE.replace("rules:\n", notify + "rules:\n"))
    ticket = esc.ok("create", "--title", "Invoice missing", "--category", "billing",
                    "--priority", "high", "--no-notify", now="2026-12-21T09:00:00+01:00").strip()
    out = esc.ok("sweep", "--no-report", "--dry-run", now="2026-12-21T12:30:00+01:00")
    told = [line.strip() for line in out.splitlines() if line.strip().startswith("would notify")]
    assert told[:3] == [
        f"would notify sup: [esc] {ticket} SLA warning: first_response",
        f"would notify sup: [esc] {ticket} priority escalated high → urgent",
        f"would notify sup: [esc] {ticket} SLA breached: first_response",
    ]


@pytest.mark.parametrize("times", [("13:10",), ("12:55", "13:00", "13:10")])
def test_a_breach_comes_before_the_escalation_that_answers_a_request(
    demo: Path, times: tuple[str, ...]
) -> None:
    """A ticket with an open request to engineering breaches, and the rule escalates it to
    engineering, which answers the request: the breach was logged after the rule's lines,
    and the request's clock stopping (`ok → met`) before them (effect before cause)."""
    esc = Esc(demo)
    ticket = esc.ok("create", "--title", "Invoice question", "--category", "billing",
                    now="2026-12-07T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "Is this a bug?",
           now="2026-12-07T12:50:00+01:00")  # fmt: skip
    for time in times:
        esc.ok("sweep", "--no-report", now=f"2026-12-07T{time}:00+01:00")
    log = [line.split(" · ", 1)[1] for line in (demo / "tickets" / f"{ticket}.md")
           .read_text().splitlines() if line.startswith("- 2026-12-07T13:00:00+01:00 · ")]
    assert log == [
        "esc · sla.first_response: warning → breached",
        "rule:breached-goes-up · team: support → engineering · hierarchical escalation: SLA"
        " breached, escalating",
        "rule:breached-goes-up · status: new → open",
        "rule:breached-goes-up · request answered by engineering · the ticket was escalated"
        " to engineering",
        "esc · sla.collaboration: ok → met · engineering",
        "rule:breached-goes-up · internal note added",
    ]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_ticket_removed_while_the_sweep_reads_it_is_said_and_the_rest_swept(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    """`rm` or `git rm` of a ticket while a sweep ran crashed it (exit 3, an internal
    error) part-way: the file is removed here just before the sweep reads it."""
    from esc.store import atomic, catalog

    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ids = [make(esc, f"Ticket {n}") for n in range(3)]
    gone = workspace / "tickets" / f"{ids[1]}.md"
    esc.ok("sweep", "--no-report", now="2026-11-20T09:30:00+01:00")
    for path in (workspace / "tickets").glob("*.md"):  # (written an hour ago, as most are:
        os.utime(path, (path.stat().st_atime - 3600,) * 2)  # the cache trusts them, and the
    esc.ok("sweep", "--no-report", now="2026-11-20T09:45:00+01:00")  # sweep reads them late)
    read = atomic.read_with_stat

    def removed_first(path: Path | str, *args: object, **kwargs: object) -> object:
        if Path(path).name == gone.name:
            Path(path).unlink(missing_ok=True)
        return read(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "read_with_stat", removed_first)
    monkeypatch.setattr(catalog, "read_with_stat", removed_first)
    result = esc("sweep", "--no-report", "--jobs", jobs, now="2026-11-20T11:30:00+01:00")
    assert result.code == 0, result.err
    assert not gone.exists()
    assert f"{ids[1]}: removed while the sweep read it" in result.out
    for ticket in (ids[0], ids[2]):  # (the deadline at 11:00 escalated them)
        assert "\nescalations:\n" in (workspace / "tickets" / f"{ticket}.md").read_text()
    assert not list((workspace / "tickets").glob(".*.tmp"))


def test_a_breach_a_person_s_change_makes_and_the_rules_end_at_once_is_logged(
    esc: Esc, workspace: Path
) -> None:
    """Sent back to level 1 at 11:30, past its 11:00 deadline: the first-level clock is
    breached at once, and the rule escalates it again at once; the log had the escalation
    and no breach."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc)
    esc.ok("escalate", ticket, "--to", "engineering", "--reason", "r",
           now="2026-11-20T10:30:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-20T10:45:00+01:00")
    esc.ok("escalate", ticket, "--to", "support", "--reason", "b", now="2026-11-20T11:30:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T11:45:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-11-20T11:30:00+01:00 · esc · sla.first_response: — → breached\n" in text


def test_a_request_s_ola_a_policy_change_starts_is_crossed_at_that_change(
    esc: Esc, workspace: Path
) -> None:
    """A request asked under a policy without a collaboration target has no OLA; made
    normal at 16:00, it gets the standard one, whose warning (15:01) is past: it was
    logged, and told, at 15:01, before its cause. It is crossed at 16:00."""
    rules = (workspace / "rules.yaml").read_text()
    rules = rules.replace(
        "  - name: standard\n",
        "  - name: lowpol\n    when: {priority: low}\n    calendar: office\n"
        "    targets: {first_response: 8h}\n  - name: standard\n", 1,
    ).replace("resolution: 24h}", "resolution: 24h, collaboration: 8h}", 1)
    (workspace / "rules.yaml").write_text(rules)
    assert esc("validate").code == 0, esc("validate").err
    ticket = esc.ok("create", "--title", "t", "--priority", "low", "--category", "billing",
                    now="2026-12-17T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "management", "--ask", "?",
           now="2026-12-17T09:01:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-12-17T09:30:00+01:00")
    esc.ok("classify", ticket, "--priority", "normal", now="2026-12-17T16:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-12-17T16:30:00+01:00")
    log = [line for line in (workspace / "tickets" / f"{ticket}.md").read_text().splitlines()
           if "sla.collaboration" in line]  # fmt: skip
    assert log == [
        "- 2026-12-17T16:00:00+01:00 · esc · sla.collaboration: — → warning · management,"
        " due 2026-12-18T09:01:00+01:00"
    ]


@pytest.mark.parametrize("first", ["warn", "breached-goes-up"])
def test_a_rule_another_makes_true_again_at_an_instant_fires_whatever_their_order(
    esc: Esc, workspace: Path, first: str
) -> None:
    """At 11:00 the first-level breach escalates; the second level's clock is in warning at
    once. `warn` (fired at 10:00) fired again only when listed before breached-goes-up:
    listed after, it never saw its condition false within the instant."""
    rules = RULES_LEVELS.replace(
        "targets: {resolution: 8h}", "targets: {first_response: 4h}\n    warn_at: 50%"
    ).replace("targets: {first_response: 2h, resolution: 4h}",
              "targets: {first_response: 2h, resolution: 8h}")  # fmt: skip
    head, tail = rules.split("rules:\n")
    warn, breach = tail.split("  - name: breached-goes-up\n")
    breach = "  - name: breached-goes-up\n" + breach
    tail = warn + breach if first == "warn" else breach + warn
    (workspace / "rules.yaml").write_text(head + "rules:\n" + tail)
    assert esc("validate").code == 0, esc("validate").err
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T11:30:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "  warn: 2026-11-20T11:00:00+01:00\n" in text
    assert text.count("rule:warn · internal note added") == 2


def committed_repo(esc: Esc, workspace: Path, *titles: str) -> list[str]:
    """A git repository holding the workspace with a ticket per title, all committed."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    tickets = [make(esc, title) for title in titles]
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    return tickets


def as_person(workspace: Path, name: str, *args: str) -> str:
    return git(workspace, "-c", f"user.name={name}", "-c", f"user.email={name}@example.com",
               *args)


def person_commits_during_the_sweep_s_commit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, workspace: Path, file: str,
    switch: str = "",
) -> None:  # fmt: skip
    """A person's `git commit` of ``file`` (a line added) that lands just after the sweep
    made its commit object and before it moves the branch (on a new branch ``switch``, if
    given): a real git, run through a `git` on PATH that makes the person's commit right
    after the sweep's `commit-tree`."""
    shim = tmp_path / "shim"
    shim.mkdir()
    real = shutil.which("git")
    switching = f'  "{real}" switch -q -c "{switch}" &&\n' if switch else ""
    (shim / "git").write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = commit-tree ] && [ ! -e "{tmp_path}/landed" ]; then\n'
        f'  made=$("{real}" "$@") || exit 1\n'
        f'  touch "{tmp_path}/landed"\n'
        f'  cd "{workspace}" && echo "a person\'s line" >> "{file}" &&\n'
        f"{switching}"
        f'  "{real}" -c user.name=alice -c user.email=a@example.com commit -qm "alice: {file}"'
        f' -- "{file}" >/dev/null 2>&1\n'
        '  echo "$made"; exit 0\n'
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")


def test_a_person_s_commit_that_lands_while_the_sweep_commits_is_built_on(
    esc: Esc, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person commits NOTES.md while the sweep commits: the sweep's commit goes on top of
    theirs (it failed, "HEAD moved while the sweep committed", exit 1, and waited for the
    next sweep: audit f72)."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    (workspace / "NOTES.md").write_text("notes\n")
    as_person(workspace, "bob", "add", "NOTES.md")
    as_person(workspace, "bob", "commit", "-qm", "notes")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    person_commits_during_the_sweep_s_commit(monkeypatch, tmp_path, workspace, "NOTES.md")
    result = esc("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 0, result.err
    assert (tmp_path / "landed").exists()
    subjects = git(workspace, "log", "--format=%s").splitlines()
    assert subjects[0].startswith("esc sweep: 1 ticket updated") and subjects[1:3] == [
        "alice: NOTES.md", "notes"
    ]
    assert git(workspace, "status", "--porcelain") == ""
    assert "breached-goes-up" in git(workspace, "show", f"HEAD:tickets/{ticket}.md")
    assert "a person's line" in git(workspace, "show", "HEAD:NOTES.md")


def test_a_person_s_commit_on_a_branch_they_switched_to_is_not_built_on(
    esc: Esc, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person switched to a branch of their own and committed there while the sweep
    committed: the sweep's commit never goes on their branch (review r72)."""
    committed_repo(esc, workspace, "Invoice missing")
    (workspace / "NOTES.md").write_text("notes\n")
    as_person(workspace, "bob", "add", "NOTES.md")
    as_person(workspace, "bob", "commit", "-qm", "notes")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    person_commits_during_the_sweep_s_commit(monkeypatch, tmp_path, workspace, "NOTES.md",
                                             switch="alice-work")  # fmt: skip
    result = esc("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert "esc: HEAD moved while the sweep committed" in result.err
    assert git(workspace, "log", "-1", "--format=%s", "alice-work") == "alice: NOTES.md\n"
    assert git(workspace, "log", "-1", "--format=%s", "main") == "notes\n"


def test_a_person_s_commit_of_a_ticket_the_sweep_commits_is_never_overwritten(
    esc: Esc, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person's commit that lands while the sweep commits is of the ticket the sweep
    wrote: the sweep commits nothing (its version would undo theirs) and says so; theirs
    stands, in the branch and in the file."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    path = f"tickets/{ticket}.md"
    person_commits_during_the_sweep_s_commit(monkeypatch, tmp_path, workspace, path)
    result = esc("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert "esc: HEAD moved while the sweep committed; the next sweep commits" in result.err
    assert git(workspace, "log", "-1", "--format=%s") == f"alice: {path}\n"
    assert git(workspace, "show", f"HEAD:{path}") == (workspace / path).read_text()
    assert "a person's line" in (workspace / path).read_text()


def test_a_plain_sweep_s_writes_are_committed_by_the_next_commit_sweep(
    esc: Esc, workspace: Path
) -> None:
    """Someone runs `esc sweep` (no --commit) in the clone cron commits from: its writes are
    the sweep's, not a person's edit, so the next `--commit` sweep sweeps the ticket on
    (escalating it at its breach) and commits it; a person's edit on top stays theirs."""
    ticket, other = committed_repo(esc, workspace, "Invoice missing", "Login broken")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    esc.ok("sweep", "--no-report", now="2026-11-20T10:30:00+01:00")  # (plain: not committed)
    esc.ok("comment", other, "--internal", "-m", "mine", now="2026-11-20T10:40:00+01:00")
    out = esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert f"  {ticket}: support → engineering (breached-goes-up)\n" in out
    assert f"  {other}: has uncommitted changes; left for the next sweep\n" in out
    assert git(workspace, "show", "--name-only", "--format=", "HEAD") == f"tickets/{ticket}.md\n"
    assert git(workspace, "status", "--porcelain") == f" M tickets/{other}.md\n"


def test_a_commit_sweep_in_a_repository_with_no_commit_yet(esc: Esc, workspace: Path) -> None:
    """`git init`, `esc create`, `esc sweep --commit`: no HEAD yet; the ticket is no
    commit's, so it is left for a person to commit (the sweep ran, exit 0)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc)
    git(workspace, "init", "-q", "-b", "main")
    out = esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert f"  {ticket}: is not committed yet; left for the next sweep\n" in out


def test_a_git_index_lock_left_by_a_killed_git_stops_the_commit_before_head_moves(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.git/index.lock` (a git killed while it ran): HEAD moved and the index could not
    follow, so status showed the sweep's commit undone, staged.  Now nothing is committed
    and the line names the file; once it is gone, the next sweep commits."""
    monkeypatch.setattr("esc.store.git.INDEX_WAIT", 0.2)
    committed_repo(esc, workspace, "Invoice missing")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    (workspace / ".git" / "index.lock").touch()
    (workspace / ".esc-cache").mkdir(exist_ok=True)
    (workspace / ".esc-cache" / f"sweep-index.{os.getpid()}.lock").touch()  # (a dead one's)
    result = esc("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert result.err.endswith(
        f"{workspace / '.git' / 'index.lock'} exists: another git command is running in this"
        " clone, or one was killed while it ran (then remove that file); nothing was"
        " committed\n"
    )
    assert git(workspace, "rev-list", "--count", "HEAD") == "1\n"
    (workspace / ".git" / "index.lock").unlink()
    out = esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:35:00+01:00")
    assert "committed 1 ticket left by an earlier sweep or intake" in out
    assert git(workspace, "status", "--porcelain") == ""


def test_a_git_command_a_person_runs_meanwhile_never_leaves_the_commit_staged_undone(
    esc: Esc, workspace: Path
) -> None:
    """A person's `git add` that held the index just after the sweep looked for its lock
    and before HEAD moved: git refused the index's update once the commit was made, and
    status showed the committed tickets as staged deletions, which the person's next commit
    made.  The sweep now takes git's index lock itself, waiting for one held briefly."""
    committed_repo(esc, workspace, "Invoice missing")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    lock_file = workspace / ".git" / "index.lock"
    lock_file.touch()  # (a `git add` running as the sweep commits)
    let_go = threading.Timer(0.5, lock_file.unlink)
    let_go.start()
    try:
        out = esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    finally:
        let_go.join()
    assert "esc sweep: 1 ticket updated" in git(workspace, "log", "-1", "--format=%s")
    assert git(workspace, "status", "--porcelain") == "", out
    assert not lock_file.exists()


def test_the_index_keeps_its_mode_when_the_sweep_commits(esc: Esc, workspace: Path) -> None:
    """The index the sweep puts in place had the sweep's umask (077 under some crons):
    under `core.sharedRepository=group` the group's own git then refused it (r68)."""
    committed_repo(esc, workspace, "Invoice missing")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    git(workspace, "config", "core.sharedRepository", "group")
    index = workspace / ".git" / "index"
    index.chmod(0o660)
    old = os.umask(0o077)
    try:
        esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    finally:
        os.umask(old)
    assert "esc sweep" in git(workspace, "log", "-1", "--format=%s")
    assert index.stat().st_mode & 0o777 == 0o660


@pytest.mark.parametrize(
    "setting", ["eol=crlf attribute", "core.autocrlf=true", "core.autocrlf=yes"]
)
def test_a_clone_whose_checkout_makes_crlf_is_swept_and_committed(
    esc: Esc, workspace: Path, setting: str
) -> None:
    """Git for Windows' `core.autocrlf=true`, or `*.md text eol=crlf`: the work tree holds
    CRLF, the blobs LF, and `git status` is clean; compared byte for byte, every ticket
    held "uncommitted changes", and no committing sweep ever swept one (audit
    helper-413).  Swept and committed as `git add` stores them: the clone stays clean."""
    mine, other = committed_repo(esc, workspace, "Invoice missing", "Refund late")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    if setting.startswith("eol"):
        (workspace / ".gitattributes").write_text("*.md text eol=crlf\n")
        git(workspace, "add", ".gitattributes")
        git(workspace, "commit", "-qm", "crlf")
    else:  # (git's booleans: `yes` too; review helper-419)
        git(workspace, "config", "core.autocrlf", setting.partition("=")[2])
    for name in (mine, other):
        (workspace / "tickets" / f"{name}.md").unlink()
    git(workspace, "checkout", "--", "tickets")
    assert b"\r\n" in (workspace / "tickets" / f"{mine}.md").read_bytes()
    assert git(workspace, "status", "--porcelain") == ""
    result = esc("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 0 and "uncommitted" not in result.out + result.err
    assert "esc sweep" in git(workspace, "log", "-1", "--format=%s")
    assert sorted(git(workspace, "show", "--name-only", "--format=", "HEAD").split()) == sorted(
        f"tickets/{name}.md" for name in (mine, other)
    )
    assert git(workspace, "status", "--porcelain") == ""
    assert b"\r" not in git(workspace, "show", f"HEAD:tickets/{mine}.md").encode()
    assert "sla:" in (workspace / "tickets" / f"{mine}.md").read_text()


def test_a_sweep_s_commit_keeps_a_ticket_s_mode(esc: Esc, workspace: Path) -> None:
    """A ticket someone made executable lost its x bit in every commit of the sweep's (its
    index entries said 100644), and the clone showed the file changed for good (audit
    helper-413)."""
    mine, other = committed_repo(esc, workspace, "Invoice missing", "Refund late")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    (workspace / "tickets" / f"{mine}.md").chmod(0o755)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "x bit")
    esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert "esc sweep" in git(workspace, "log", "-1", "--format=%s")
    assert git(workspace, "ls-tree", "HEAD", f"tickets/{mine}.md").startswith("100755 ")
    assert git(workspace, "ls-tree", "HEAD", f"tickets/{other}.md").startswith("100644 ")
    assert git(workspace, "status", "--porcelain") == ""


def test_a_person_s_uncommitted_edit_is_left_for_the_next_sweep(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, other = committed_repo(esc, workspace, "Invoice missing", "Refund late")
    esc.ok("comment", mine, "-m", "Checking the invoice run", "--internal",
           now="2026-11-20T10:00:00+01:00")
    edited = (workspace / "tickets" / f"{mine}.md").read_text()

    swept = esc("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    out = swept.out
    assert swept.code == 0, swept.err
    assert f"  {mine}: has uncommitted changes; left for the next sweep\n" in out
    # (what it holds back is said on stderr too, which cron mails: the README's cron line
    # sends stdout to /dev/null, and an escalation waiting on a forgotten edit is news)
    assert swept.err.splitlines()[0] == (
        f"{mine}: has uncommitted changes: held back until the ticket is committed: its escalation"
        " support → engineering, rule warn, rule breached-goes-up, first_response breached"
        " (the sweep never commits a person's edit)"
    )
    # the sweep's commit holds its own change to the other ticket, and nothing of alice's
    assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [
        f"tickets/{other}.md"
    ]
    assert "Checking the invoice run" not in git(workspace, "show", "HEAD")
    assert (workspace / "tickets" / f"{mine}.md").read_text() == edited  # nothing lost
    assert git(workspace, "status", "--porcelain") == f" M tickets/{mine}.md\n"

    # alice commits her note; the next sweep escalates her ticket under its own name
    monkeypatch.setenv("GIT_AUTHOR_NAME", "alice")
    as_person(workspace, "alice", "commit", "-qam", "Note on the invoice")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "esc sweep")
    again = esc("sweep", "--commit", now="2026-11-20T13:35:00+01:00")
    out = again.out
    assert again.code == 0 and "wait until" not in again.err
    assert "left for the next sweep" not in out
    assert f"  {mine}: support → engineering (breached-goes-up)" in out
    assert git(workspace, "log", "--format=%an", "-S", "Checking the invoice run") == "alice\n"
    story = [e for e in json.loads(esc.ok("log", mine, "--json")) if e["commit"]]
    assert {(e["by"], e["what"]) for e in story} == {
        ("Test Runner", "start"),
        ("alice", "Note on the invoice"),
        ("esc sweep", "esc sweep: 1 ticket updated"),
    }
    assert git(workspace, "status", "--porcelain") == ""


def test_a_ticket_changed_after_the_sweep_wrote_it_is_named_and_not_told_in_the_commit(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person comments on a ticket between the sweep's write and its commit: the ticket
    is theirs to commit, and the commit message listed its escalation all the same, with
    nothing saying it was left out."""
    from esc.store.pending import Pending

    mine, other = committed_repo(esc, workspace, "Invoice missing", "Refund late")
    real = Pending.to_commit

    def after_a_comment(self: Pending) -> dict[str, str]:
        path = workspace / "tickets" / f"{mine}.md"
        path.write_text(path.read_text() + "- 2026-11-20T13:30:00+01:00 · alice · note\n")
        return real(self)

    monkeypatch.setattr(Pending, "to_commit", after_a_comment)
    out = esc.ok("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert f"  {mine}: changed since the sweep wrote it; not committed (yours to commit)" in out
    message = git(workspace, "log", "-1", "--format=%B")
    assert other in message and mine not in message
    assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [
        f"tickets/{other}.md"
    ]


def test_a_ticket_nobody_committed_is_not_committed_by_the_sweep(
    esc: Esc, workspace: Path
) -> None:
    committed_repo(esc, workspace)
    new = make(esc, "Not committed yet")
    out = esc.ok("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert f"  {new}: is not committed yet; left for the next sweep\n" in out
    assert git(workspace, "rev-list", "--count", "HEAD") == "1\n"
    assert git(workspace, "status", "--porcelain") == f"?? tickets/{new}.md\n"


def test_a_failed_commit_strands_nothing(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    git(workspace, "config", "--global", "user.useConfigOnly", "true")  # no guessed identity

    result = esc("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    # what the sweep did is still told (it is written), then why it is not committed
    assert result.out.startswith("1 tickets seen, 1 changed;")
    assert f"  {ticket}: support → engineering (breached-goes-up)\n" in result.out
    assert result.err.endswith(
        'esc: no git identity to commit as (git config user.name "esc sweep" && git config '
        "user.email esc-sweep@example.com); the sweep's changes to 1 ticket are kept, and the "
        "next --commit sweep commits them\n"
    )
    swept = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "rule:breached-goes-up" in swept  # written, not lost
    assert git(workspace, "rev-list", "--count", "HEAD") == "1\n"
    assert git(workspace, "diff", "--cached", "--name-only") == ""  # nothing left staged

    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    out = esc.ok("sweep", "--commit", now="2026-11-20T13:35:00+01:00")
    assert out.startswith("1 tickets seen, 0 changed")
    assert "\ncommitted 1 ticket left by an earlier sweep or intake\n" in out
    assert git(workspace, "log", "-1", "--format=%an%n%B").strip().splitlines() == [
        "esc sweep", "esc sweep: 1 ticket updated", "",
        "1 of them left by an earlier sweep or intake", "",
        f"{ticket}: support → engineering (breached-goes-up)",
    ]  # (the escalation the earlier sweep made, told by the commit that holds it)
    assert git(workspace, "show", "--name-only", "--format=", "HEAD") == f"tickets/{ticket}.md\n"
    assert git(workspace, "show", f"HEAD:tickets/{ticket}.md") == swept
    assert git(workspace, "status", "--porcelain") == ""
    # and once committed, it is not committed again
    esc.ok("sweep", "--commit", now="2026-11-20T13:40:00+01:00")
    assert git(workspace, "rev-list", "--count", "HEAD") == "2\n"


def test_a_plain_sweep_after_a_failed_commit_strands_nothing(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit failed (no identity); rules.yaml's note was changed and committed; then a
    plain `esc sweep` (run by hand) swept the ticket again.  Every later --commit sweep
    called it "changed since the sweep wrote it; not committed (yours to commit)", for
    good, and said nothing on stderr: nobody had touched it but esc."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    git(workspace, "config", "--global", "user.useConfigOnly", "true")  # no guessed identity
    assert esc("sweep", "--commit", now="2026-11-20T13:30:00+01:00").code == 1
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("SLA breached, escalating", "Breach: going up"))
    git(workspace, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "rules",
        "rules.yaml")  # fmt: skip
    out = esc.ok("sweep", now="2026-11-23T17:30:00+01:00")  # (it escalates again: level 2)
    assert f"{ticket}: engineering → management" in out
    swept = (workspace / "tickets" / f"{ticket}.md").read_text()
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    result = esc("sweep", "--commit", now="2026-11-23T17:35:00+01:00")
    assert result.code == 0 and "yours to commit" not in result.out, result.out
    assert "\ncommitted " in result.out and result.err.count("\n") <= 1  # (the driver's)
    now = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert git(workspace, "show", f"HEAD:tickets/{ticket}.md") == now
    # (the level-2 breach came in the gap: escalated under the rules of the last sweep,
    # with their note, as sweeps then would have; see the README's Missed sweeps)
    assert " · team: engineering → management · hierarchical escalation: SLA breached" in now
    assert now.startswith(swept.split("## Activity")[0][:40])
    assert git(workspace, "status", "--porcelain") == ""


@pytest.mark.parametrize("committing", ["--commit", "--push"])
def test_a_ticket_left_by_a_failed_commit_then_edited_is_named_not_committed(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, committing: str
) -> None:
    """The sweep's commit failed (no identity); a person then comments on the ticket: the
    next --commit (or --push: cron's) sweep leaves it to them, and says so, as for its own
    writes."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    with_remote(workspace, tmp_path)
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    git(workspace, "config", "--global", "user.useConfigOnly", "true")
    assert esc("sweep", "--commit", now="2026-11-20T13:30:00+01:00").code == 1
    esc.ok("comment", ticket, "--internal", "-m", "mine", now="2026-11-20T13:32:00+01:00")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    result = esc("sweep", committing, now="2026-11-20T13:35:00+01:00")
    assert result.code == 0
    said = f"  {ticket}: changed since an earlier sweep or intake wrote it; not committed"
    assert said + " (yours to commit)" in result.out
    # (and where cron mails it from: its escalation reaches git only with their commit)
    assert f"esc: {ticket}: what an earlier sweep or intake (a sweep's rules' actions" in (
        result.err
    )
    assert git(workspace, "rev-list", "--count", "HEAD") == "1\n"
    swept = json.loads(esc.ok("sweep", committing, "--json", now="2026-11-20T13:35:00+01:00"))
    assert swept["left_out"] == [f"tickets/{ticket}.md"]
    assert git(workspace, "rev-list", "--count", "HEAD") == "1\n"
    git(workspace, "commit", "-qam", "mine")  # (theirs, committed: nothing more to say)
    again = json.loads(esc.ok("sweep", committing, "--json", now="2026-11-20T13:36:00+01:00"))
    assert again["left_out"] == []


def with_remote(workspace: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(workspace, "remote", "add", "origin", str(remote))
    git(workspace, "push", "-q", "-u", "origin", "main")
    return remote


def test_reports_a_remote_stopped_tracking_never_stop_the_push(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """An older setup tracks reports/; a person applies the fix `esc doctor` gives (`git rm
    -r --cached reports`) and pushes: the cron sweep's rebase stashed its own re-rendered
    reports, which then conflicted, and every run said the person's uncommitted changes
    conflict with the remote, leaving an `autostash` behind (audit c67)."""
    committed_repo(esc, workspace, "Invoice missing")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    esc.ok("sweep", "--no-notify", now="2026-11-20T13:00:00+01:00")  # (renders reports/)
    ignored = workspace / ".gitignore"
    if ignored.exists():
        ignored.write_text(ignored.read_text().replace("reports/\n", ""))
    git(workspace, "add", "-A")
    assert git(workspace, "ls-files", "reports") != ""
    git(workspace, "commit", "-qm", "reports tracked, as an older setup had them")
    remote = with_remote(workspace, tmp_path)
    alice = tmp_path / "alice"
    git(tmp_path, "clone", "-q", str(remote), str(alice))
    git(alice, "rm", "-r", "-q", "--cached", "--", "reports")
    as_person(alice, "alice", "commit", "-qm", "reports: not versioned")
    git(alice, "push", "-q", "origin", "main")
    result = esc("sweep", "--push", "--no-notify", now="2026-11-20T15:05:00+01:00")
    assert result.code == 0, result.err
    assert "conflict" not in result.err
    assert git(workspace, "stash", "list") == ""
    assert git(workspace, "ls-files", "reports") == ""  # (the remote's choice stands)


def test_a_person_s_file_beside_the_tracked_reports_is_never_put_back(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Only the three files esc renders are put back before the rebase: a hand-written
    `reports/notes.md` edit was reverted, and one staged new stopped every push (r68)."""
    committed_repo(esc, workspace, "Invoice missing")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    esc.ok("sweep", "--no-notify", now="2026-11-20T13:00:00+01:00")
    ignored = workspace / ".gitignore"
    if ignored.exists():
        ignored.write_text(ignored.read_text().replace("reports/\n", ""))
    (workspace / "reports" / "notes.md").write_text("v1\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "reports tracked")
    pushed_from_elsewhere(with_remote(workspace, tmp_path), tmp_path)
    (workspace / "reports" / "notes.md").write_text("v2, mine\n")
    (workspace / "reports" / "q4.md").write_text("staged, new\n")
    git(workspace, "add", "reports/q4.md")
    result = esc("sweep", "--push", "--no-notify", now="2026-11-20T15:05:00+01:00")
    assert result.code == 0, result.err
    assert (workspace / "reports" / "notes.md").read_text() == "v2, mine\n"
    assert (workspace / "reports" / "q4.md").read_text() == "staged, new\n"


def pushed_from_elsewhere(remote: Path, tmp_path: Path) -> Path:
    """Another clone of ``remote`` that pushed a commit of its own first (so the next push
    from the workspace is rejected)."""
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "NOTES.md").write_text("pushed from elsewhere first\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-qm", "notes")
    git(other, "push", "-q", "origin", "main")
    return other


def test_a_commit_a_force_push_took_out_is_not_pushed_back_by_the_next_sweep(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A bad commit made in the cron clone reached the remote with a `--push` sweep; a
    person took it out (reset, force-push) and pushed a fix: the next sweep's rebase onto
    the remote replayed it and pushed it back (audit c67).  As `git pull --rebase` does,
    what the remote once had and no longer has is dropped; the sweep's own work stands."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    remote = with_remote(workspace, tmp_path)
    (workspace / "NOTES.md").write_text("on call: nobody (a mistake)\n")
    git(workspace, "add", "NOTES.md")
    git(workspace, "commit", "-qm", "bad notes")
    esc.ok("sweep", "--push", "--no-report", now="2026-11-20T09:30:00+01:00")
    assert "bad notes" in git(remote, "log", "--format=%s", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    git(other, "reset", "-q", "--hard", "HEAD~2")  # (the bad commit and the sweep's after it)
    (other / "NOTES.md").write_text("on call: carol\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-qm", "notes, right")
    git(other, "push", "-q", "--force", "origin", "main")
    result = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 0 and "pushed" in result.out
    # (said, where cron mails it: the reviewer's stale clone that force-pushed lost them)
    (note,) = [line for line in result.err.splitlines() if "no merge driver" not in line]
    assert note.startswith("esc: the remote no longer has 2 commits this clone had from it (")
    assert " bad notes, " in note and "`git reflog` still has them" in note
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert "bad notes" not in subjects and "notes, right" in subjects
    assert (workspace / "NOTES.md").read_text() == "on call: carol\n"
    assert git(remote, "show", "main:NOTES.md") == "on call: carol\n"
    # (the sweep's work is made again on the remote's tickets: the 11:00 breach escalated)
    assert "breached-goes-up" in git(remote, "show", f"main:tickets/{ticket}.md")


def notes_changed_on_the_remote(
    esc: Esc, workspace: Path, tmp_path: Path, also: dict[str, str] | None = None
) -> Path:
    """A pushed workspace with NOTES.md ("on call: alice"; and the files of ``also``,
    committed with it), whose line another clone then changed and pushed ("on call:
    bob"); the remote."""
    committed_repo(esc, workspace, "Invoice missing")
    files = {"NOTES.md": "on call: alice\n", **(also or {})}
    for name, text in files.items():
        (workspace / name).write_text(text)
    git(workspace, "add", *files)
    git(workspace, "commit", "-qm", "notes")
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "NOTES.md").write_text("on call: bob\n")
    git(other, "commit", "-qam", "bob is on call")
    git(other, "push", "-q", "origin", "main")
    return remote


def test_what_an_uncommitted_edit_holds_back_is_said_from_a_sweep_s_workers_too(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from esc.commands import sweep as sweep_command
    from esc.store import workers

    monkeypatch.setattr(sweep_command, "MIN_TICKETS", 1)  # (the workers, on two tickets)
    monkeypatch.setattr(workers, "CHUNK", 1)
    handed: list[str] = []  # (what the workers handed back: they swept it)
    real_map = workers.fork_map

    def spied(names: list[str], *args: Any, **kwargs: Any) -> Iterator[Any]:
        for share in real_map(names, *args, **kwargs):
            handed.extend(name for [(results, _)] in [share] for name, *_ in results)
            yield share

    monkeypatch.setattr(workers, "fork_map", spied)
    mine, _ = committed_repo(esc, workspace, "Invoice missing", "Refund late")
    esc.ok("tag", mine, "vip", now="2026-11-20T10:00:00+01:00")
    swept = esc("sweep", "--commit", "--jobs", "2", "--json", now="2026-11-20T13:30:00+01:00")
    assert swept.code == 0, swept.err
    # (the workers swept both tickets: one worker, or each its own, as the load has it;
    # one took both shares under a loaded CI run, and `processes == 2` failed)
    assert sorted(handed) == sorted(p.name for p in (workspace / "tickets").glob("*.md"))
    assert json.loads(swept.out)["processes"] in (1, 2)
    held = "held back until the ticket is committed: its escalation support → engineering"
    assert f"{mine}: has uncommitted changes: {held}" in swept.err
    assert swept.err.count(f"{mine}: has uncommitted changes") == 1  # (once: it was twice,
    # the worker's look and this process's)


def test_a_person_s_uncommitted_edit_that_conflicts_with_the_remote_is_put_aside_whole(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The push is rejected and the rebase puts a person's uncommitted edit back on the
    remote's version of the same line: git leaves conflict markers in their file and the
    edit in its stash.  The file is put back as committed (no half-merged file), the edit
    stays whole in the stash, and one line says where; the next sweep pushes."""
    remote = notes_changed_on_the_remote(esc, workspace, tmp_path)
    (workspace / "NOTES.md").write_text("on call: carol\n")  # (not committed)
    (workspace / "rules.yaml").write_text((workspace / "rules.yaml").read_text() + "# mine\n")

    result = esc("sweep", "--push", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1, result.err
    assert result.err.endswith(  # (every change went in the stash: each said, not only the
        # one in conflict; rules.yaml's was gone without a word)
        "esc: your uncommitted changes to NOTES.md conflict with origin/main: they are kept "
        "in git's stash (its top entry, `autostash`), with your other uncommitted changes "
        "(rules.yaml), and the files are as committed; run `git stash pop`, resolve the "
        "conflict, and commit\n"
    ), result.err
    assert "# mine" in git(workspace, "stash", "show", "-p", "stash@{0}")
    assert git(workspace, "ls-files", "--unmerged") == ""
    assert (workspace / "NOTES.md").read_text() == "on call: bob\n"
    assert git(workspace, "stash", "list").count("autostash") == 1
    assert "+on call: carol" in git(workspace, "stash", "show", "-p", "stash@{0}")
    out = esc.ok("sweep", "--push", now="2026-11-20T13:35:00+01:00")
    assert "pushed 1 commit to origin/main" in out
    assert git(remote, "rev-parse", "main") == git(workspace, "rev-parse", "HEAD")


def test_a_pushed_commit_names_at_most_ten_of_its_tickets(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A sweep that rewrote 1,651 tickets printed their IDs on one line, which cron mails."""
    tickets = committed_repo(esc, workspace, *(f"Ticket {n}" for n in range(12)))
    with_remote(workspace, tmp_path)
    out = esc.ok("sweep", "--push", "--no-report", now="2026-11-20T13:35:00+01:00")
    [line] = [x for x in out.splitlines() if "esc sweep: 12 tickets updated" in x]
    assert line.endswith(" and 2 more)") and line.count("T-") == 10
    assert sum(ticket in line for ticket in tickets) == 10


def test_a_push_to_a_remote_given_by_its_url_retries_when_the_remote_moved(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """`--remote /path/to/remote.git` (a URL, no remote of that name): the rebase after a
    rejected push looked for `refs/remotes/URL/main`, which never exists, and failed as
    "a true conflict" every time."""
    committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    pushed_from_elsewhere(remote, tmp_path)
    out = esc.ok("sweep", "--push", "--remote", str(remote), now="2026-11-20T13:30:00+01:00")
    assert f"pushed 1 commit to {remote}/main (after 2 attempts)" in out, out
    assert git(remote, "rev-parse", "main") == git(workspace, "rev-parse", "HEAD")
    assert (workspace / "NOTES.md").exists()  # (the remote's commit came with the rebase)


def test_a_union_line_after_esc_s_never_merges_a_true_conflict_into_a_broken_ticket(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """`*.md merge=union` after esc's line in .gitattributes (it wins in git): the sweep's
    rebase "merged" `assignee: alice` and `assignee: bob` into a file that does not parse,
    and pushed it; doctor said the driver was fine."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    with (workspace / ".gitattributes").open("a") as attributes:
        attributes.write("*.md merge=union\n")
    git(workspace, "add", ".gitattributes")
    git(workspace, "commit", "-qm", "union")
    doctor = esc("doctor", now="2026-11-20T09:05:00+01:00")
    assert "problem  git gives tickets merge=union, not esc's driver" in doctor.out
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    Esc(other).ok("assign", ticket, "alice", now="2026-11-20T09:10:00+01:00")
    git(other, "commit", "-qam", "alice")
    git(other, "push", "-q", "origin", "main")
    esc.ok("assign", ticket, "bob", now="2026-11-20T09:11:00+01:00")
    git(workspace, "commit", "-qam", "bob")
    result = esc("sweep", "--push", "--no-notify", now="2026-11-20T09:30:00+01:00")
    assert result.code == 1
    assert f"a true conflict in tickets/{ticket}.md" in result.err
    pushed = git(remote, "show", f"main:tickets/{ticket}.md")
    assert pushed.count("\nassignee:") == 1  # (alice's, as pushed: nothing broken went)


def test_a_retried_push_leaves_a_person_s_staged_edit_staged(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A person's edit, staged (`git add`), while the sweep's push is rejected and it
    rebases: git's autostash put it back unstaged, so a plain `git commit` then left it
    out; a change staged in part stays as it was, its staged part staged (audit c67: the
    whole change was left unstaged)."""
    first, second = committed_repo(esc, workspace, "Invoice missing", "Refund late")
    remote = with_remote(workspace, tmp_path)
    pushed_from_elsewhere(remote, tmp_path)
    esc.ok("comment", first, "--internal", "-m", "mine", now="2026-11-20T09:30:00+01:00")
    git(workspace, "add", f"tickets/{first}.md")
    esc.ok("comment", second, "--internal", "-m", "staged", now="2026-11-20T09:30:00+01:00")
    git(workspace, "add", f"tickets/{second}.md")
    esc.ok("tag", second, "later", now="2026-11-20T09:31:00+01:00")  # (then one more, unstaged)
    out = esc.ok("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert "(after 2 attempts)" in out
    status = set(git(workspace, "status", "--porcelain").splitlines())
    assert f"M  tickets/{first}.md" in status
    assert f"MM tickets/{second}.md" in status
    staged = git(workspace, "show", f":tickets/{second}.md")
    assert "staged" in staged and "later" not in staged
    assert "later" in (workspace / "tickets" / f"{second}.md").read_text()


def test_a_true_conflict_in_the_rebase_names_the_file_after_the_summary(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A commit of the clone and one of the remote change the same line: the rebase stops
    on a true conflict. The summary of what stands is printed first, then one line naming
    the file (it said only "a true conflict", with no summary)."""
    notes_changed_on_the_remote(esc, workspace, tmp_path)
    (workspace / "NOTES.md").write_text("on call: carol\n")
    git(workspace, "commit", "-qam", "carol")
    result = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert result.out.startswith("1 tickets seen, ")
    assert result.err == (
        "esc: could not rebase onto origin/main: a true conflict in NOTES.md; resolve it by "
        "hand (git pull --rebase -- origin main)\n"
    )
    assert git(workspace, "status", "--porcelain") == ""  # (the rebase was aborted)


@pytest.mark.parametrize("as_json", [True, False])
def test_push_reports_what_it_committed_and_pushed_after_retries(
    esc: Esc, workspace: Path, tmp_path: Path, as_json: bool
) -> None:
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    pushed_from_elsewhere(remote, tmp_path)

    if not as_json:
        out = esc.ok("sweep", "--push", now="2026-11-20T13:30:00+01:00")
        head = git(remote, "rev-parse", "main").strip()
        assert out.splitlines() == [
            "1 tickets seen, 1 changed; 1 active tickets: 0 overdue, 0 in warning",
            f'  {ticket}: note "SLA warning" (warn)',  # (replayed from its creation)
            f'  {ticket}: note "SLA warning" (warn)',  # (the resolution's, at 11:00)
            f"  {ticket}: support → engineering (breached-goes-up)",
            f"  {ticket}: status new → open (breached-goes-up)",
            f'  {ticket}: note "SLA breached, escalating" (breached-goes-up)',
            "rendered reports/summary.md, reports/index.html, reports/report.json",
            f"committed {head[:12]}: 1 ticket",
            "pushed 1 commit to origin/main (after 2 attempts)",
            f"  {head[:12]} esc sweep: 1 ticket updated ({ticket})",
        ]
        return
    data = json.loads(esc.ok("sweep", "--push", "--json", now="2026-11-20T13:30:00+01:00"))
    head = git(remote, "rev-parse", "main").strip()
    assert (data["attempts"], data["pushed"], data["pushed_commits"]) == (2, True, 1)
    assert data["changed"] == data["committed"] == [f"tickets/{ticket}.md"]
    assert data["commit"] == head
    assert [e["id"] for e in data["escalations"]] == [ticket]
    assert data["pushed_list"] == [
        {"commit": head, "subject": "esc sweep: 1 ticket updated", "tickets": [ticket]}
    ]
    assert git(remote, "log", "--format=%s", "main").splitlines() == [
        "esc sweep: 1 ticket updated", "notes", "start"
    ]


def test_a_retried_push_commits_the_reports_with_the_tickets_as_of_the_remote(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Where git tracks reports/, a rejected push takes its reports back with its tickets:
    one commit of both, rendered on the remote's tickets (not a commit of reports alone,
    as of the tickets before the rebase, then one of tickets alone)."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    git(workspace, "add", "-A")
    git(workspace, "add", "-f", "reports")  # (esc init ignores them; this team tracks them)
    git(workspace, "commit", "-qm", "reports tracked")
    remote = with_remote(workspace, tmp_path)
    pushed_from_elsewhere(remote, tmp_path)
    data = json.loads(esc.ok("sweep", "--push", "--json", now="2026-11-20T13:30:00+01:00"))
    assert (data["attempts"], data["pushed_commits"]) == (2, 1)
    head = git(remote, "rev-parse", "main").strip()
    assert data["commit"] == head
    files = git(remote, "show", "--name-only", "--format=", head).split()
    assert sorted(files) == sorted(data["committed"]) == sorted(
        [f"tickets/{ticket}.md", "reports/index.html", "reports/report.json",
         "reports/summary.md"]
    )  # fmt: skip
    assert git(remote, "log", "--format=%s", "main").splitlines()[:2] == [
        "esc sweep: 1 ticket updated", "notes"
    ]
    assert git(workspace, "status", "--porcelain") == ""
    summary = (workspace / "reports" / "summary.md").read_text()
    assert "As of 2026-11-20T13:30:00+01:00" in summary


@pytest.mark.parametrize("rejected", [1, 2])
def test_a_retried_push_of_an_earlier_sweep_s_ticket_commits_the_reports_with_it(
    esc: Esc, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rejected: int
) -> None:
    """Where git tracks reports/: a sweep with no git identity wrote a ticket it could not
    commit; another clone pushed meanwhile; the next sweep's push was rejected, it took
    its reports back and rebased, and pushed the earlier sweep's ticket alone, its reports
    left modified and never committed.  They are committed with that ticket, rendered on
    the remote's tickets."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    git(workspace, "add", "-A")
    git(workspace, "add", "-f", "reports")  # (esc init ignores them; this team tracks them)
    git(workspace, "commit", "-qm", "reports tracked")
    remote = with_remote(workspace, tmp_path)
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_EMAIL", "EMAIL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    git(workspace, "config", "--global", "user.useConfigOnly", "true")
    failed = esc("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert failed.code == 1 and "no git identity to commit as" in failed.err
    as_person(remote.parent, "bob", "clone", "-q", str(remote), "other")
    other = tmp_path / "other"
    (other / "NOTES.md").write_text("pushed from elsewhere first\n")
    as_person(other, "bob", "add", "NOTES.md")
    as_person(other, "bob", "commit", "-qm", "notes")
    git(other, "push", "-q", "origin", "main")
    if rejected == 2:  # (and once more, as the first retry pushes: a pre-push hook here)
        hook = workspace / ".git" / "hooks" / "pre-push"
        hook.write_text(
            f"#!/bin/sh\ncd {str(other)!r} || exit 1\n"
            "[ -e first ] || { touch first; exit 0; }\n"  # (the first push: rejected anyway)
            "[ -e second ] || { touch second && git commit -q --allow-empty -m again"
            " && git push -q origin main >/dev/null 2>&1; }\nexit 0\n"
        )
        git(other, "config", "user.name", "bob")
        git(other, "config", "user.email", "bob@example.com")
        hook.chmod(0o755)
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    data = json.loads(esc.ok("sweep", "--push", "--json", now="2026-11-20T13:35:00+01:00"))
    assert (data["attempts"], data["pushed"], data["pushed_commits"]) == (1 + rejected, True, 1)
    head = git(remote, "rev-parse", "main").strip()
    files = git(remote, "show", "--name-only", "--format=", head).split()
    assert sorted(files) == sorted(data["committed"]) == sorted(
        [f"tickets/{ticket}.md", "reports/index.html", "reports/report.json",
         "reports/summary.md"]
    )  # fmt: skip
    assert git(remote, "log", "--format=%s", "main").splitlines()[:2] == [
        "esc sweep: 1 ticket updated", "again" if rejected == 2 else "notes"
    ]
    assert git(remote, "log", "-1", "--format=%B", "main").strip().splitlines() == [
        "esc sweep: 1 ticket updated", "", f"{ticket}: support → engineering (breached-goes-up)",
    ]  # (the escalation the earlier sweep made, told by the commit that holds it: made again
    # on the remote's ticket, as the push was rejected, the earlier sweep's write taken back)
    assert git(workspace, "status", "--porcelain") == ""
    summary = git(remote, "show", f"{head}:reports/summary.md")
    assert "As of 2026-11-20T13:35:00+01:00" in summary


def test_no_ticket_is_written_while_a_rejected_push_rebases(
    esc: Esc, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebase stashes the work tree's changes and puts them back: a comment written in
    between was lost (its stash left behind). Every writer waits for the rebase, which
    holds the writes lock: a comment given no time to wait is refused, nothing lost."""
    from esc.store import git as store_git

    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    pushed_from_elsewhere(with_remote(workspace, tmp_path), tmp_path)
    tried: list[subprocess.CompletedProcess[str]] = []
    catch_up = store_git.catch_up

    def commenting(*args: object, **kwargs: object) -> list[tuple[str, str]]:
        tried.append(subprocess.run(
            [sys.executable, "-m", "esc", "--now", "2026-11-20T13:30:00+01:00", "comment",
             ticket, "-m", "written during the rebase"],
            cwd=workspace, capture_output=True, text=True, timeout=60,
            env={**os.environ, "ESC_LOCK_TIMEOUT": "0"},
        ))  # fmt: skip
        return catch_up(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_git, "catch_up", commenting)
    esc.ok("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    (refused,) = tried
    assert refused.returncode == 1, refused.stderr
    assert "gave up after 0s" in refused.stderr
    assert git(workspace, "stash", "list") == ""


def test_two_clones_sweeping_at_different_times_escalate_once(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Issue 6's cron race: two clones sweep the same breach five minutes apart. The later
    one's push is rejected; it takes its own rewrite back, rebases onto the remote (which
    holds the earlier escalation) and sweeps again: one escalation, one note, one log line,
    as sweeping at every instant would make."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    Esc(other).ok("install-git")
    esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    first = (workspace / "tickets" / f"{ticket}.md").read_text()  # (one escalation)
    later = Esc(other)("sweep", "--commit", "--push", "--no-report", "--json",
                       now="2026-11-20T13:35:00+01:00")  # fmt: skip
    assert later.code == 0, later.err
    data = json.loads(later.out)
    assert data["pushed"] is True and data["attempts"] == 2
    assert data["escalations"] == []  # (the earlier clone's, not this sweep's)
    git(workspace, "pull", "-q", "origin", "main")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert text == (other / "tickets" / f"{ticket}.md").read_text()
    assert text.count("kind: hierarchical") == first.count("kind: hierarchical") == 1
    assert text.count("SLA breached, escalating") == first.count("SLA breached, escalating")
    assert text.count("team: support → engineering") == 1
    assert text == first  # (nothing happened between 13:30 and 13:35)
    assert git(other, "status", "--porcelain", "--", "tickets") == ""


def test_a_sweep_after_a_merge_replays_what_the_other_sweep_missed_and_escalates_once(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A note written in another clone before the breach, which this clone's sweep never
    saw: merged, the ticket says it was checked a second before the note, so the next
    sweep replays from there.  It started from the block of 13:30, logged false lines
    (`— → warning` of a clock it had at 10:49:59), logged the breach again and fired the
    rule on it again: a second escalation for one breach."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    Esc(other).ok("install-git")
    Esc(other).ok("comment", ticket, "-m", "Looking into it.", "--internal", "--by", "bob",
                  now="2026-11-20T10:50:00+01:00")  # fmt: skip (before the breach at 11:00)
    git(other, "commit", "-qam", "bob's note")
    esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    later = Esc(other)("sweep", "--commit", "--push", "--no-report", "--json",
                       now="2026-11-20T13:35:00+01:00")  # fmt: skip
    assert later.code == 0, later.err
    assert json.loads(later.out)["escalations"] == []
    text = (other / "tickets" / f"{ticket}.md").read_text()
    assert text.count("kind: hierarchical") == 1
    assert text.count("rule:breached-goes-up · internal note added") == 1
    warned = [line[2:27] for line in text.splitlines() if "rule:warn · internal note" in line]
    assert warned == ["2026-11-20T10:00:00+01:00", "2026-11-20T11:00:00+01:00"]  # (not 10:50)
    assert text.count("sla.policy: first-level → second-level") == 1
    # (nothing logged twice, nothing false; the breach that escalated it, logged: issue 3)
    assert text.count(" · esc · ") == 7
    assert text.count("sla.first_response: warning → breached") == 1
    assert "  checked: 2026-11-20T13:35:00+01:00\n" in text
    again = Esc(other).ok("sweep", "--no-report", now="2026-11-20T13:40:00+01:00")
    assert (other / "tickets" / f"{ticket}.md").read_text().count("kind: hierarchical") == 1, again


# Ann's mail, and her answer to it (threaded by In-Reply-To), as the cron's intake takes them
ANN_FIRST = (
    "From: Ann <ann@shop.example>\nTo: help@desk.example\nSubject: Invoice missing\n"
    "Message-ID: <m1@shop.example>\nDate: Fri, 20 Nov 2026 09:00:00 +0100\n\nWhere?\n"
)
ANN_REPLY = (
    ANN_FIRST.replace("<m1@", "<m2@")
    .replace("Subject: ", "In-Reply-To: <m1@shop.example>\nSubject: Re: ")
    .replace("Where?", "Still?")
)


def test_a_rejected_push_never_takes_back_what_intake_wrote(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A ticket intake added a customer message to (journalled, not committed) that the
    sweep then rewrote is not taken back when the push is rejected: the message stays."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    esc.ok("intake", "--eml", "-", input=ANN_FIRST, now=CREATED)
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    remote = with_remote(workspace, tmp_path)
    esc.ok("intake", "--eml", "-", input=ANN_REPLY, now="2026-11-20T10:00:00+01:00")
    other = pushed_from_elsewhere(remote, tmp_path)
    out = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert "pushed" in out
    (path,) = (workspace / "tickets").glob("*.md")
    assert "Still?" in path.read_text()
    git(other, "pull", "-q", "origin", "main")
    assert (other / "tickets" / path.name).read_text() == path.read_text()


def test_a_rejected_push_gives_way_to_a_person_s_escalation_keeping_intake_s_message(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The cron line: intake takes Ann's answer, the sweep escalates at the 11:00 breach
    from support, never having seen bob's escalation at 10:30 in another clone, pushed
    meanwhile.  The push is rejected; the rebase merges the ticket whose rewrite holds
    intake's message too: the sweep's part gives way, the message stays, and the sweep
    again on the remote's version makes no escalation of its own (bob's at 10:30 came
    before the breach).  Merged field by field, the rule's escalation stood beside bob's."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    esc.ok("intake", "--eml", "-", input=ANN_FIRST, now=CREATED)
    git(workspace, "init", "-q", "-b", "main")
    esc.ok("install-git")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    remote = with_remote(workspace, tmp_path)
    (path,) = (workspace / "tickets").glob("*.md")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    Esc(other).ok("escalate", path.stem, "--up", "--reason", "the CFO called", "--by", "bob",
                  now="2026-11-20T10:30:00+01:00")  # fmt: skip
    as_person(other, "bob", "commit", "-qam", "bob escalates")
    git(other, "push", "-q", "origin", "main")
    esc.ok("intake", "--eml", "-", input=ANN_REPLY, now="2026-11-20T13:00:00+01:00")
    result = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 0, result.err
    text = git(remote, "show", f"main:tickets/{path.name}")
    assert text.count("Still?") == 1 and "by: bob, reason: the CFO called" in text
    assert "rule:breached-goes-up" not in text, text
    assert text.count("kind: hierarchical") == 1
    # (and nothing tells of the escalation the remote never got: the sweep's part was
    # taken back to what intake wrote before the rebase; it stood in the commit's message
    # and the output, and its notification waited for the push)
    assert "breached-goes-up" not in result.out, result.out
    assert "breached-goes-up" not in git(remote, "log", "--format=%B", "main")


def test_a_sweep_s_commit_says_it_holds_what_intake_wrote_in_a_ticket_it_rewrote(
    esc: Esc, workspace: Path
) -> None:
    """The cron line's sweep commits intake's message with its own rewrite of the ticket:
    its message says so (it said `1 ticket updated`, as if the sweep alone had changed
    it; a ticket intake wrote that the sweep left alone was said already)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    esc.ok("intake", "--eml", "-", input=ANN_FIRST, now=CREATED)
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    esc.ok("intake", "--eml", "-", input=ANN_REPLY, now="2026-11-20T13:00:00+01:00")
    esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    body = git(workspace, "log", "-1", "--format=%B")
    assert body.startswith("esc sweep: 1 ticket updated\n\n1 of them left by an earlier "
                           "sweep or intake\n"), body  # fmt: skip
    assert "Still?" in git(workspace, "show", "HEAD", "--", "tickets")


def test_a_ticket_no_policy_applies_to_any_more_is_not_written_again_by_each_sweep(
    esc: Esc, workspace: Path
) -> None:
    """Escalated to a level no policy covers, the ticket's block says `policy: null`; a
    sweep that finds nothing else to do leaves it as it is, with or without its cache (a
    fresh clone, a rebase that touched the file): it wrote `checked` again every time, a
    commit per cron run."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc, "Invoice missing")
    esc.ok("escalate", ticket, "--to", "management", "--reason", "the CFO called", "--by",
           "bob", now="2026-11-20T10:05:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-20T10:10:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    written = path.read_text()
    assert "  policy: null\n  checked: 2026-11-20T10:10:00+01:00\n" in written
    for at in ("2026-11-20T10:15:00+01:00", "2026-11-21T10:15:00+01:00"):
        shutil.rmtree(workspace / ".esc-cache")
        out = esc.ok("sweep", "--no-report", now=at)
        assert out.startswith("1 tickets seen, 0 changed;"), out
        assert path.read_text() == written


def unpushed_escalation_then_a_person_s_upstream(
    esc: Esc, workspace: Path, tmp_path: Path
) -> tuple[str, Path, Path]:
    """A sweep commits its rule's escalation (support → engineering, at the breach) but
    cannot push it (the remote is away); meanwhile a person in another clone escalates the
    same ticket to management and pushes: the sweep's commit, never pushed, is a true
    conflict with theirs.  The ticket, the remote and the other clone."""
    return unpushed_sweep_then(
        esc, workspace, tmp_path, "escalate", "{id}", "--to", "management", "--reason",
        "the CFO called", "--by", "bob", at="2026-11-20T13:36:00+01:00",
        message="bob escalates",
    )


def test_an_earlier_sweep_s_commit_taken_back_leaves_no_commit_of_reports_alone(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Where git tracks reports/: a sweep's commit could not be pushed; a person changed its
    ticket upstream; the next sweep took the earlier commit's ticket back, but not its
    reports, and pushed `esc sweep: 0 tickets updated`, a commit of reports alone (issue
    15's audit). They go with its tickets; the sweep that pushes commits them."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    git(workspace, "add", "-A")
    git(workspace, "add", "-f", "reports")  # (esc init ignores them; this team tracks them)
    git(workspace, "commit", "-qm", "reports tracked")
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    away = tmp_path / "away.git"
    remote.rename(away)
    failed = esc("sweep", "--commit", "--push", now="2026-11-20T13:30:00+01:00")
    assert failed.code == 1 and "git push to origin/main failed" in failed.err
    files = git(workspace, "show", "--name-only", "--format=", "HEAD").split()
    assert "reports/summary.md" in files and f"tickets/{ticket}.md" in files
    away.rename(remote)
    Esc(other).ok("tag", ticket, "vip", now="2026-11-20T13:35:00+01:00")
    as_person(other, "bob", "commit", "-qam", "bob tags")
    git(other, "push", "-q", "origin", "main")
    data = json.loads(esc.ok("sweep", "--commit", "--push", "--json",
                             now="2026-11-20T13:40:00+01:00"))  # fmt: skip
    assert data["pushed"] is True
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert subjects[:3] == ["esc sweep: 1 ticket updated", "bob tags", "reports tracked"]
    for commit in git(remote, "rev-list", "main").split():
        files = git(remote, "show", "--name-only", "--format=", commit).split()
        assert any(f.startswith("tickets/") for f in files), files
    head = git(remote, "show", "--name-only", "--format=", "main").split()
    assert "reports/summary.md" in head and f"tickets/{ticket}.md" in head
    assert git(workspace, "status", "--porcelain") == ""


def test_an_earlier_sweep_s_unpushed_commit_never_stops_the_cron_on_a_person_s_change(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Issue 15: the next sweep pushes what is still pending.  The earlier sweep's rewrite
    of the ticket is its own (what a sweep makes of the committed text): taken out of its
    commit, the ticket is swept again on the remote's version, as a rejected attempt's own
    rewrites are; the rule's escalation and the person's both stand, the person's team is
    kept, and every later sweep pushes.  (It was a true conflict, and every later sweep
    failed with "resolve it by hand".)"""
    ticket, remote, other = unpushed_escalation_then_a_person_s_upstream(esc, workspace, tmp_path)
    result = esc("sweep", "--commit", "--push", "--no-report", "--json",
                 now="2026-11-20T13:45:00+01:00")  # fmt: skip
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["pushed"] is True
    assert git(remote, "rev-parse", "main") == git(workspace, "rev-parse", "HEAD")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "<<<<<<<" not in text and "team: management\n" in text
    escalations = [line for line in text.splitlines() if line.startswith("  - {at: ")]
    assert [e.split("to: ")[1].split(",")[0] for e in escalations] == ["engineering", "management"]
    assert "by: bob" in escalations[1] and 'by: "rule:breached-goes-up"' in escalations[0]
    assert text.count("kind: hierarchical") == 1
    assert text.count("rule:breached-goes-up · internal note added") == 1
    # (the earlier commit, which carried nothing else, is gone: one commit on bob's, the
    # sweep's on the remote's ticket)
    assert git(workspace, "log", "--format=%s", "-3").splitlines() == [
        "esc sweep: 1 ticket updated", "bob escalates", "start",
    ]  # fmt: skip
    again = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:50:00+01:00")
    assert again.endswith("origin/main is up to date\n")
    git(other, "pull", "-q", "origin", "main")
    assert (other / "tickets" / f"{ticket}.md").read_text() == text


def unpushed_sweep_then(
    esc: Esc, workspace: Path, tmp_path: Path, *person: str, at: str, message: str = "bob"
) -> tuple[str, Path, Path]:
    """A sweep at 13:30 commits its rule's escalation (the breach at 11:00) but cannot push
    it (the remote is away); meanwhile a person in another clone runs ``esc <person...>``
    at ``at`` on the same ticket ({id} in it), commits (``message``) and pushes.  The
    ticket, the remote and the other clone."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    away = tmp_path / "away.git"
    remote.rename(away)
    failed = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert failed.code == 1 and "git push to origin/main failed" in failed.err
    assert git(workspace, "log", "-1", "--format=%s") == "esc sweep: 1 ticket updated\n"
    away.rename(remote)
    Esc(other).ok(*[a.replace("{id}", ticket) for a in person], now=at)
    as_person(other, "bob", "commit", "-qam", message)
    git(other, "push", "-q", "origin", "main")
    return ticket, remote, other


def test_a_reply_upstream_before_the_breach_undoes_an_unpushed_sweep_s_escalation(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The earlier sweep's commit merges cleanly with the person's reply (no conflict), but
    the reply came before the first response's breach (11:00) the sweep escalated: swept
    again on the remote's version, that breach never happened; the ticket is escalated at
    13:00, when its resolution breaches (the rewrite is taken back whenever the push is
    rejected, not only on a conflict: it kept the 11:00 escalation and breach)."""
    ticket, remote, _ = unpushed_sweep_then(
        esc, workspace, tmp_path, "comment", "{id}", "-m", "On it", "--by", "bob",
        at="2026-11-20T10:30:00+01:00",
    )
    result = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:45:00+01:00")
    assert result.code == 0, result.err
    text = git(remote, "show", f"main:tickets/{ticket}.md")
    escalations = [line for line in text.splitlines() if line.startswith("  - {at: ")]
    assert len(escalations) == 1 and "{at: 2026-11-20T13:00:00+01:00," in escalations[0]
    assert "sla.first_response: warning → met" in text
    assert "first_response: warning → breached" not in text


def test_a_person_s_escalation_upstream_is_not_made_twice_by_an_unpushed_sweep(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The person escalated to the team the rule's escalation went to: the rule's is
    needless, as when the replay sees the person's first; one escalation, not two."""
    ticket, remote, _ = unpushed_sweep_then(
        esc, workspace, tmp_path, "escalate", "{id}", "--to", "engineering", "--reason",
        "the CFO called", "--by", "bob", at="2026-11-20T11:30:00+01:00",
    )
    result = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:45:00+01:00")
    assert result.code == 0, result.err
    text = git(remote, "show", f"main:tickets/{ticket}.md")
    escalations = [line for line in text.splitlines() if line.startswith("  - {at: ")]
    assert len(escalations) == 1 and "by: bob" in escalations[0], escalations


def test_taking_back_an_earlier_sweep_s_rewrite_keeps_a_person_s_empty_commit(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The unpushed commits are rewritten without the sweep's rewrite: one left with
    nothing is dropped, but one a person made empty (a marker, `--allow-empty`) stays, as
    a rebase keeps it; so do the earlier sweep's other tickets."""
    ticket, remote, _ = unpushed_escalation_then_a_person_s_upstream(esc, workspace, tmp_path)
    as_person(workspace, "alice", "commit", "-q", "--allow-empty", "-m", "deploy marker")
    result = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:45:00+01:00")
    assert result.code == 0, result.err
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert subjects[:4] == [
        "esc sweep: 1 ticket updated", "deploy marker", "bob escalates", "start",
    ], subjects  # fmt: skip
    assert ticket in git(remote, "show", "--stat", "main")


def test_a_person_s_unpushed_commit_is_never_taken_back(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Only a sweep's own commit is rewritten: a person's (here the sweep's commit made
    theirs, with a message of their own) stays as it is, and the conflict is theirs to
    resolve, told as before, with nothing lost or rewritten."""
    ticket, _, _ = unpushed_escalation_then_a_person_s_upstream(esc, workspace, tmp_path)
    path = workspace / "tickets" / f"{ticket}.md"
    head = git(workspace, "rev-parse", "HEAD")
    git(workspace, "commit", "-q", "--amend", "-m", "fix the invoice")  # (a person's commit)
    amended = git(workspace, "rev-parse", "HEAD")
    before = path.read_bytes()
    result = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:45:00+01:00")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"esc: could not rebase onto origin/main: a true conflict in tickets/{ticket}.md; "
        "resolve it by hand (git pull --rebase -- origin main)"
    )
    assert git(workspace, "rev-parse", "HEAD") == amended != head
    assert path.read_bytes() == before


def test_an_unpushed_sweep_commit_that_carries_a_customer_s_message_is_never_taken_back(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A message intake added to the ticket went into the earlier sweep's commit with the
    sweep's own rewrite: taking that back would lose the message, so the commit stays and
    the conflict is told, the message in the file and in the commit."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    esc.ok("intake", "--eml", "-", input=ANN_FIRST, now=CREATED)
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    remote = with_remote(workspace, tmp_path)
    (path,) = (workspace / "tickets").glob("*.md")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    esc.ok("intake", "--eml", "-", input=ANN_REPLY, now="2026-11-20T10:00:00+01:00")
    away = tmp_path / "away.git"
    remote.rename(away)
    assert esc("sweep", "--commit", "--push", "--no-report",
               now="2026-11-20T13:30:00+01:00").code == 1  # fmt: skip
    away.rename(remote)
    Esc(other).ok("escalate", path.stem, "--to", "management", "--reason", "the CFO called",
                  "--by", "bob", now="2026-11-20T13:36:00+01:00")  # fmt: skip
    as_person(other, "bob", "commit", "-qam", "bob escalates")
    git(other, "push", "-q", "origin", "main")
    head = git(workspace, "rev-parse", "HEAD")
    result = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:45:00+01:00")
    assert result.code == 1
    assert "a true conflict in tickets/" in result.err.splitlines()[-1]
    assert git(workspace, "rev-parse", "HEAD") == head
    assert "Still?" in path.read_text()
    assert "Still?" in git(workspace, "show", f"HEAD:tickets/{path.name}")


def test_a_rejected_push_tells_each_escalation_in_one_commit(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The commit left after a rejected push took the sweep's rewrites back holds intake's
    ticket alone: its message tells that ticket's escalation, not those taken back (told
    by the commit of the sweep on the remote's tickets)."""
    (older,) = committed_repo(esc, workspace, "Printer on fire")
    remote = with_remote(workspace, tmp_path)
    mail = (
        "From: Ann <ann@shop.example>\nTo: help@desk.example\nSubject: Invoice missing\n"
        "Message-ID: <m1@shop.example>\nDate: Fri, 20 Nov 2026 09:00:00 +0100\n\nWhere?\n"
    )
    esc.ok("intake", "--eml", "-", input=mail, now=CREATED)
    (new,) = {p.stem for p in (workspace / "tickets").glob("*.md")} - {older}
    pushed_from_elsewhere(remote, tmp_path)
    out = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert "pushed" in out and "after 2 attempts" in out
    messages = git(remote, "log", "--format=%B%x00", "main").split("\0")
    for ticket in (older, new):
        told = [m for m in messages if f"{ticket}: support → engineering" in m]
        assert len(told) == 1, (ticket, messages)
    standing = next(m for m in messages if f"{new}: support" in m)
    assert standing.strip().startswith("esc sweep: 1 ticket updated")


def test_a_remote_that_keeps_moving_ends_with_the_summary_and_the_reason(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Every push rejected (another clone pushes just before each: a pre-push hook here):
    after 5 attempts, the summary of what stands, then why, exit 1; `--json` says it as
    `git_error`; nothing forced, nothing sent."""
    committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    other = pushed_from_elsewhere(remote, tmp_path)
    hook = workspace / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        f"cd {str(other)!r} && git commit -q --allow-empty -m again"
        " && git push -q origin main >/dev/null 2>&1\n"
    )
    hook.chmod(0o755)
    result = esc("sweep", "--commit", "--push", "--no-report", "--json",
                 now="2026-11-20T13:30:00+01:00")  # fmt: skip
    reason = (
        "esc: push to origin/main was rejected 5 times (the remote keeps moving);"
        " nothing was forced; try again"
    )
    assert result.code == 1 and result.err == reason + "\n"
    told = json.loads(result.out)  # (the summary, as the text prints it first)
    assert told["git_error"] == reason and told["seen"] == 1 and told["pushed"] is False
    assert told["attempts"] == 5  # (each rejected push an attempt, as the reason says)
    # (the last attempt's commit was taken back: no commit stands to tell of, and none on
    # no branch is named)
    assert (told["commit"], told["committed"]) == (None, [])
    assert git(remote, "log", "--format=%s", "main").splitlines()[-1] == "start"
    assert "esc sweep" not in git(remote, "log", "--format=%s", "main")


def _stopped_rebase(workspace: Path, onto: str) -> None:
    """A rebase onto ``onto`` that stopped half-way, HEAD detached (as one killed does)."""
    stopped = subprocess.run(["git", "rebase", "--exec", "false", onto], cwd=workspace,
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert stopped.returncode != 0 and (workspace / ".git" / "rebase-merge").is_dir()


@contextlib.contextmanager
def _sweep_holding_the_lock(workspace: Path) -> Iterator[int]:
    """Another process (as a sweep is) that holds the workspace lock: its process id."""
    code = (
        "import sys; from pathlib import Path; from esc.store import lock\n"
        "with lock.hold(Path(sys.argv[1]), 5, 'esc sweep'):\n"
        "    print('held', flush=True); sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(workspace / ".esc-cache")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=REPO)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc.pid
    finally:
        proc.communicate("", timeout=30)


def test_a_write_while_a_running_sweep_rebases_waits_and_is_not_told_it_was_stopped(
    esc: Esc, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A comment while a sweep (alive, holding the workspace lock) rebased was refused at
    once, "a sweep was stopped while it rebased": it waits for the rebase, up to the lock
    timeout, and says who it waited for."""

    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    pushed_from_elsewhere(remote, tmp_path)
    git(workspace, "commit", "-q", "--allow-empty", "-m", "mine, not pushed yet")
    git(workspace, "fetch", "-q", "origin")
    _stopped_rebase(workspace, "origin/main")
    (workspace / ".esc-cache").mkdir(exist_ok=True)
    monkeypatch.setenv("ESC_LOCK_TIMEOUT", "0")
    with _sweep_holding_the_lock(workspace) as sweep_pid:
        (workspace / ".esc-cache" / "rebasing").write_text(f"main\n{sweep_pid}\n")
        waited = esc("comment", ticket, "-m", "mine", now="2026-11-20T13:25:00+01:00")
    assert waited.code == 1
    assert waited.err.startswith("esc: esc sweep pid ")
    assert "is rebasing onto the remote; gave up after 0s" in waited.err
    stopped = esc("comment", ticket, "-m", "mine", now="2026-11-20T13:25:00+01:00")
    assert "a sweep was stopped while it rebased" in stopped.err
    # (another process holds the lock, not the sweep that noted the rebase: said at once,
    # not waited for as if it were rebasing)
    with _sweep_holding_the_lock(workspace):
        (workspace / ".esc-cache" / "rebasing").write_text("main\n1\n")
        stopped = esc("comment", ticket, "-m", "mine", now="2026-11-20T13:25:00+01:00")
    assert "a sweep was stopped while it rebased" in stopped.err


def test_a_write_while_a_sweep_begins_its_rebase_waits_and_never_finds_no_ticket(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep notes its rebase before git's begins: while git's autostash and reset had
    the ticket files out, git said no rebase ran, and a comment wrote, or was told "no
    ticket" for one that exists (issue 12's audit).  It waits for the sweep as during the
    rebase; a note left by a sweep stopped after its rebase ended stops nothing."""
    from esc.store import lock

    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    path = workspace / "tickets" / f"{ticket}.md"
    before = path.read_bytes()
    (workspace / ".esc-cache").mkdir(exist_ok=True)
    marker = workspace / ".esc-cache" / "rebasing"
    monkeypatch.setenv("ESC_LOCK_TIMEOUT", "0")
    with _sweep_holding_the_lock(workspace) as sweep_pid:
        marker.write_text(f"main\n{sweep_pid}\n")
        waited = esc("comment", ticket, "-m", "mine", now="2026-11-20T13:25:00+01:00")
        path.rename(path.with_name("stashed"))  # (git has it out)
        gone = esc("comment", ticket, "-m", "mine", now="2026-11-20T13:25:00+01:00")
        path.with_name("stashed").rename(path)
        # (a note a stopped sweep left, its rebase never begun or ended by hand: the sweep
        # running now is not rebasing, nor is intake, which holds the lock itself)
        marker.write_text("main\n1\n")
        esc.ok("comment", ticket, "-m", "mine", now="2026-11-20T13:25:00+01:00")
        path.write_bytes(before)
    for result in (waited, gone):
        assert result.code == 1 and "is rebasing onto the remote; gave up after 0s" in result.err
    assert path.read_bytes() == before
    with lock.hold(workspace / ".esc-cache", 5, "esc intake"):  # (this process's own lock)
        marker.write_text(f"main\n{os.getpid()}\n")
        esc.ok("comment", ticket, "-m", "mine", now="2026-11-20T13:25:00+01:00")


def test_a_rebase_a_killed_sweep_left_is_aborted_by_the_next(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Killed while its rebase ran (a cron timeout kills the whole group), a sweep leaves
    the clone mid-rebase, HEAD detached: the next sweep aborts that rebase (the branch and
    the stashed changes come back) and carries on; a rebase a person started is theirs:
    the sweep commits nothing and says so."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    other = pushed_from_elsewhere(remote, tmp_path)
    git(workspace, "commit", "-q", "--allow-empty", "-m", "mine, not pushed yet")
    git(workspace, "fetch", "-q", "origin")
    _stopped_rebase(workspace, "origin/main")
    (workspace / ".esc-cache").mkdir(exist_ok=True)
    (workspace / ".esc-cache" / "rebasing").write_text("main\n")  # (the sweep's, killed)
    # a comment meanwhile would be lost when the sweep aborts that rebase: refused until then
    before = (workspace / "tickets" / f"{ticket}.md").read_bytes()
    for command in (("comment", ticket, "-m", "lost?"), ("create", "--title", "new one")):
        refused = esc(*command, now="2026-11-20T13:25:00+01:00")
        assert (refused.code, refused.err) == (1, (
            "esc: a sweep was stopped while it rebased onto the remote; run `esc sweep "
            "--commit` (or `--push`), which finishes it, then this again; nothing was written\n"
        ))
    assert (workspace / "tickets" / f"{ticket}.md").read_bytes() == before
    out = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    esc.ok("comment", ticket, "-m", "after it", now="2026-11-20T13:31:00+01:00")  # (taken)
    git(workspace, "commit", "-qam", "a comment after it")
    assert "pushed" in out
    assert git(workspace, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert not (workspace / ".git" / "rebase-merge").exists()
    assert git(remote, "log", "-1", "--format=%s", "main").startswith("esc sweep: 1 ticket")
    assert "mine, not pushed yet" in git(remote, "log", "--format=%s", "main")

    git(workspace, "commit", "-q", "--allow-empty", "-m", "again")
    git(other, "pull", "-q", "origin", "main")
    git(other, "commit", "-q", "--allow-empty", "-m", "elsewhere again")
    git(other, "push", "-q", "origin", "main")
    git(workspace, "fetch", "-q", "origin")
    _stopped_rebase(workspace, "origin/main")  # (a person's: no marker)
    before = (workspace / "tickets" / f"{ticket}.md").read_text()
    for args in (["--commit"], ["--commit", "--push"]):
        result = esc("sweep", *args, now="2026-11-23T13:30:00+01:00")
        assert (result.code, result.out) == (1, "")
        assert result.err == (
            "esc: a rebase is in progress in this clone: finish it (git rebase --continue)"
            " or abort it (git rebase --abort); the sweep commits nothing until then\n"
        )
    assert (workspace / "tickets" / f"{ticket}.md").read_text() == before
    assert (workspace / ".git" / "rebase-merge").is_dir()


def test_a_push_whose_commit_an_orphaned_push_landed_first_is_pushed(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A sweep killed alone (not its group) while its push ran leaves that `git push`
    running; it lands the commit while the next sweep pushes the same one, whose ref
    update then fails (`cannot lock ref … is at HEAD but expected …`): the remote has the
    commit, so it is pushed (here the remote's hook lands it first, as the orphan did)."""
    committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "read old new ref\n"
        'cp -R "$GIT_QUARANTINE_PATH"/. objects/\n'
        'env -u GIT_QUARANTINE_PATH git update-ref "$ref" "$new" "$old"\n'
    )
    hook.chmod(0o755)
    result = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 0 and "push" not in result.err, result.err
    head = git(workspace, "rev-parse", "HEAD").strip()
    assert f"\npushed 1 commit to origin/main\n  {head[:12]} esc sweep: " in result.out
    assert git(remote, "rev-parse", "main") == git(workspace, "rev-parse", "HEAD")


def test_an_index_lock_a_killed_sweep_s_rebase_left_is_removed_once_no_git_runs(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A sweep killed (its whole group) while its rebase ran leaves `.git/index.lock` and
    the merge driver's `.merge_file_XXXXXX` files: every later sweep failed on the lock
    (`git rebase failed: … index.lock': File exists`), for good.  The next sweep removes
    the lock once no git process runs in the clone (one that runs may be a person's
    `git commit`, its editor open: the lock is theirs, and the sweep fails as before),
    and the untracked temporaries; then it aborts the rebase and carries on."""
    (workspace / ".merge_file_Kept42").write_text("a file of the team's, tracked\n")
    committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    pushed_from_elsewhere(remote, tmp_path)
    git(workspace, "commit", "-q", "--allow-empty", "-m", "mine, not pushed yet")
    git(workspace, "fetch", "-q", "origin")
    _stopped_rebase(workspace, "origin/main")
    cache = workspace / ".esc-cache"
    cache.mkdir(exist_ok=True)
    (cache / "rebasing").write_text("main\n")  # (the killed sweep's markers)
    (cache / "sweep-git").write_text("4242\n")
    index_lock = workspace / ".git" / "index.lock"
    index_lock.write_bytes(b"half an index")
    for name in (".merge_file_a1B2c3", ".merge_file_Zz9Yy8", ".merge_file_toolong7"):
        (workspace / name).write_text("a version of a ticket\n")
    # (the merge driver's own temporary file, its writer killed with the rebase: a whole
    # ticket, untracked, that a `git add -A` would commit)
    orphan = workspace / "..merge_file_ZbXo96.999999-01290508.tmp"
    orphan.write_text("id: T-whole\n")

    person = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=workspace,
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)  # fmt: skip
    try:  # (a git process of a person's, still running in the clone: the lock may be its)
        busy = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    finally:
        assert person.stdin is not None
        person.stdin.close()
        person.wait()
    assert (busy.code, busy.out) == (1, "")
    assert busy.err.startswith("esc: git rebase failed: ") and "index.lock" in busy.err
    assert len(busy.err.splitlines()) == 1
    assert index_lock.read_bytes() == b"half an index"
    assert (workspace / ".merge_file_a1B2c3").exists()  # (a merge's, running: kept too)

    out = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert "pushed" in out
    assert not index_lock.exists() and not (workspace / ".git" / "rebase-merge").exists()
    assert git(workspace, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert "mine, not pushed yet" in git(remote, "log", "--format=%s", "main")
    left = sorted(p.name for p in workspace.glob(".merge_file_*"))
    assert left == [".merge_file_Kept42", ".merge_file_toolong7"]  # (tracked; not git's)
    assert not orphan.exists()
    assert git(workspace, "status", "--porcelain") == "?? .merge_file_toolong7\n"
    assert not (cache / "sweep-git").exists() and not (cache / "rebasing").exists()


def test_an_index_lock_of_a_sweep_killed_while_it_committed_is_removed(
    esc: Esc, workspace: Path
) -> None:
    """Killed while its git wrote the index (no rebase): the lock is removed by the next
    sweep, which commits; a lock with no killed sweep behind it (a person's git) is left,
    and named (test_a_git_index_lock_left_by_a_killed_git_…)."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    (workspace / ".esc-cache").mkdir(exist_ok=True)
    (workspace / ".esc-cache" / "sweep-git").write_text("4242\n")
    (workspace / ".git" / "index.lock").touch()
    out = esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert f"  {ticket}: support → engineering (breached-goes-up)" in out
    assert git(workspace, "log", "-1", "--format=%s") == "esc sweep: 1 ticket updated\n"
    assert git(workspace, "status", "--porcelain") == ""


def test_a_remote_that_cannot_be_reached_is_told_with_its_cause(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    import socket

    committed_repo(esc, workspace, "Invoice missing")
    with_remote(workspace, tmp_path)
    with socket.socket() as probe:  # (a port nobody listens on)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    git(workspace, "remote", "set-url", "origin", f"ssh://127.0.0.1:{port}/helpdesk.git")
    result = esc("sweep", "--push", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    # (git's own last lines only say "Could not read from remote repository … and the
    # repository exists."; the cause is ssh's line)
    assert result.err.splitlines()[-1] == (
        f"esc: git push to origin/main failed: ssh: connect to host 127.0.0.1 port {port}: "
        "Connection refused (could not read from the remote repository); the commits wait "
        "in this clone for the next --push sweep"
    )


def test_push_to_a_named_branch_from_another_branch_is_refused_before_anything_is_written(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """On `main`, `--push --branch ops` rebased main onto origin/ops: main's own commits
    went to ops, and the next push of main took ops's commits to main; on a branch of a
    person's own, their work in progress went to main (audits helper-386, helper-395)."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    git(workspace, "checkout", "-q", "-b", "feat")
    (workspace / "NOTES.md").write_text("wip\n")
    git(workspace, "add", "NOTES.md")
    git(workspace, "commit", "-qm", "feat: personal wip")
    before = (workspace / "tickets" / f"{ticket}.md").read_text()
    head = git(workspace, "rev-parse", "HEAD")
    result = esc("sweep", "--push", "--branch", "main", now="2026-11-20T13:30:00+01:00")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "esc: this clone is on branch 'feat', not 'main': --push --branch main would rebase"
        " 'feat' onto main and push its commits there (check out main to sweep it, or leave"
        " out --branch to push 'feat'); nothing was written\n"
    )
    assert (workspace / "tickets" / f"{ticket}.md").read_text() == before
    assert git(workspace, "rev-parse", "HEAD") == head
    assert git(remote, "log", "-1", "--format=%s", "main") != "feat: personal wip\n"
    git(workspace, "checkout", "-q", "main")  # (on the branch it names: pushed)
    esc.ok("sweep", "--push", "--branch", "main", now="2026-11-20T13:30:00+01:00")
    assert git(remote, "log", "-1", "--format=%s", "main") == "esc sweep: 1 ticket updated\n"
    git(workspace, "checkout", "-q", "--detach")  # (a CI job's checkout: pushes to main)
    esc.ok("sweep", "--push", "--branch", "main", now="2026-11-20T18:30:00+01:00")
    assert git(remote, "rev-parse", "main") == git(workspace, "rev-parse", "HEAD")
    # (a branch that tracks the one named is another branch: `git checkout -b feat
    # origin/main` makes one, and its work went to main; review helper-405.  A tag of the
    # branch's name is no other branch: `heads/main` was refused; review helper-402)
    git(workspace, "checkout", "-q", "-b", "prod", "--track", "origin/main")
    assert esc("sweep", "--push", "--branch", "main", now="2026-11-21T10:30:00+01:00").code == 1
    git(workspace, "checkout", "-q", "main")
    git(workspace, "tag", "main")
    esc.ok("sweep", "--push", "--branch", "main", now="2026-11-21T10:30:00+01:00")
    assert git(remote, "rev-parse", "main") == git(workspace, "rev-parse", "HEAD")


def test_push_says_what_is_missing_and_pushes_what_is_left_unpushed(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    before = (workspace / "tickets" / f"{ticket}.md").read_text()
    result = esc("sweep", "--push", now="2026-11-20T13:30:00+01:00")
    assert (result.code, result.out) == (1, "")
    assert result.err == "esc: no git remote 'origin' (git remote add origin URL)\n"
    assert (workspace / "tickets" / f"{ticket}.md").read_text() == before  # nothing written
    # (a path here where there is nothing, as --remote: refused before anything is
    # written or committed, as a remote's name that does not exist is)
    head = git(workspace, "rev-parse", "HEAD")
    for gone in (str(tmp_path / "nowhere.git"), f"file://{tmp_path}/nowhere.git"):
        result = esc("sweep", "--push", "--remote", gone, now="2026-11-20T13:30:00+01:00")
        assert (result.code, result.out) == (1, "")
        assert result.err == f"esc: no git repository at '{gone}' (--remote names a path here)\n"
    assert (workspace / "tickets" / f"{ticket}.md").read_text() == before
    assert git(workspace, "rev-parse", "HEAD") == head

    remote = with_remote(workspace, tmp_path)
    git(workspace, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    result = esc("sweep", "--push", "--json", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    last = result.err.splitlines()[-1]
    assert last.startswith("esc: git push to origin/main failed: ") and "gone.git" in last
    data = json.loads(result.out)  # (what the sweep did and committed is still told)
    assert data["changed"] == [f"tickets/{ticket}.md"] and data["pushed"] is False
    assert data["git_error"] == last
    committed = git(workspace, "rev-parse", "HEAD").strip()
    assert git(workspace, "log", "-1", "--format=%s") == "esc sweep: 1 ticket updated\n"

    git(workspace, "remote", "set-url", "origin", str(remote))
    out = esc.ok("sweep", "--push", now="2026-11-20T13:35:00+01:00")
    # (the earlier sweep's commit, which this one pushed: said with its ticket)
    assert out.endswith(
        f"\npushed 1 commit to origin/main\n  {committed[:12]} esc sweep: 1 ticket updated"
        f" ({ticket})\n"
    )
    assert git(remote, "rev-parse", "main").strip() == committed
    out = esc.ok("sweep", "--push", now="2026-11-20T13:40:00+01:00")
    assert out.endswith("\norigin/main is up to date\n")


def test_reports_after_a_change_in_the_hour_are_those_a_sweep_without_cache_renders(
    demo: Path, tmp_path: Path
) -> None:
    """Rendered as of the top of the hour, yet from the tickets as they are: a ticket closed
    between two sweeps of one hour shows in the second's reports, as it does when the
    cache is gone (the reports were left as the first sweep rendered them)."""
    esc = Esc(demo)
    esc.ok("sweep", now="2026-11-27T11:30:00+01:00")
    ticket = json.loads(esc.ok("list", "--json", now="2026-11-27T11:30:00+01:00"))[0]["id"]
    esc.ok("close", ticket, "--resolution", "done", now="2026-11-27T11:35:00+01:00")
    out = esc.ok("sweep", now="2026-11-27T11:40:00+01:00")
    assert "rendered reports/summary.md" in out
    warm = {p.name: p.read_bytes() for p in (demo / "reports").iterdir()}
    shutil.rmtree(demo / ".esc-cache")
    esc.ok("sweep", now="2026-11-27T11:40:00+01:00")
    assert {p.name: p.read_bytes() for p in (demo / "reports").iterdir()} == warm
    summary = warm["summary.md"].decode().split("# Helpdesk report")[0]
    assert ticket not in summary  # (closed: in no list of active ones)
    again = esc.ok("sweep", now="2026-11-27T11:45:00+01:00")  # (nothing changed since)
    assert "rendered" not in again


@pytest.mark.parametrize(
    "first", ["list", "check", "report", "upcoming", "validate", "sweep --no-report"]
)
def test_reports_are_rendered_again_when_another_command_saw_the_change_first(
    demo: Path, first: str
) -> None:
    """A ticket closed, another removed, between two sweeps of one hour; `esc list` (or
    another command, or a sweep told not to render) read them first and saved what it
    found: the second sweep kept the first's reports, where a sweep without the cache
    renders them again."""
    esc = Esc(demo)
    esc.ok("sweep", now="2026-11-27T11:30:00+01:00")
    listed = json.loads(esc.ok("list", "--json", now="2026-11-27T11:30:00+01:00"))
    closed, removed = listed[0]["id"], listed[1]["id"]
    esc.ok("close", closed, "--resolution", "done", now="2026-11-27T11:35:00+01:00")
    (demo / "tickets" / f"{removed}.md").unlink()
    esc(*first.split(), now="2026-11-27T11:36:00+01:00")
    out = esc.ok("sweep", now="2026-11-27T11:40:00+01:00")
    assert "rendered reports/summary.md" in out
    warm = {p.name: p.read_bytes() for p in (demo / "reports").iterdir()}
    shutil.rmtree(demo / ".esc-cache")
    esc.ok("sweep", now="2026-11-27T11:40:00+01:00")
    assert {p.name: p.read_bytes() for p in (demo / "reports").iterdir()} == warm
    again = esc.ok("sweep", now="2026-11-27T11:45:00+01:00")  # (nothing changed since)
    assert "rendered" not in again


@pytest.mark.parametrize("change", ["article removed", "article edited", "report edited",
                                    "article in a subfolder edited in place",
                                    "template edited, its time put back",
                                    "template included from a subfolder edited"])  # fmt: skip
def test_reports_whose_inputs_changed_in_the_hour_are_rendered_again(
    demo: Path, change: str
) -> None:
    """The reports hold the knowledge base's articles, and are what the sweep wrote: an
    article removed or edited, a report edited by hand (or by git), a template edited
    with its modification time put back (`cp -p`), each in the hour, made a sweep with the
    cache leave the reports as they were, where one without it renders them again."""
    import os

    # (a template's change is run in processes of their own, as esc is: jinja's own memory
    # of a template in this process goes by its modification time alone)
    esc = Esc(demo, process=change.startswith("template"))
    templates = demo / "templates"
    if change.startswith("template"):
        templates.mkdir()
        shutil.copy(REPO / "esc" / "report" / "templates" / "summary.md.j2", templates)
        (templates / "parts").mkdir()
        (templates / "parts" / "foot.j2").write_text("FOOT-1\n")
        with (templates / "summary.md.j2").open("a") as out:
            out.write('{% include "parts/foot.j2" %}\n')
    nested = demo / "kb" / "billing" / "eu" / "KB-0001.md"
    if change.startswith("article in a subfolder"):  # (kb/ may have folders, at any depth)
        nested.parent.mkdir(parents=True)
        (demo / "kb" / "KB-0001.md").rename(nested)
    esc.ok("sweep", "--no-notify", now="2026-11-30T14:01:00+01:00")
    assert "rendered" not in esc.ok("sweep", "--no-notify", now="2026-11-30T14:02:00+01:00")
    if change.startswith("article in a subfolder"):  # (the same inode: no folder changes)
        text = nested.read_text().replace("title: ", "title: Edited ", 1)
        with nested.open("r+") as out:
            out.write(text)
            out.truncate()
    elif change == "article removed":
        (demo / "kb" / "KB-0012.md").unlink()
    elif change == "article edited":
        path = demo / "kb" / "KB-0001.md"
        path.write_text(path.read_text().replace("title: ", "title: Edited ", 1))
    elif change == "report edited":
        with (demo / "reports" / "summary.md").open("a") as out:
            out.write("a hand edit\n")
    elif change == "template included from a subfolder edited":
        (templates / "parts" / "foot.j2").write_text("FOOT-2\n")
    else:
        path = templates / "summary.md.j2"
        before = path.stat()
        path.write_text("CUSTOM HEADER\n" + path.read_text())
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    out = esc.ok("sweep", "--no-notify", now="2026-11-30T14:03:00+01:00")
    assert "rendered" in out
    warm = {p.name: p.read_bytes() for p in (demo / "reports").iterdir()}
    shutil.rmtree(demo / ".esc-cache")
    esc.ok("sweep", "--no-notify", now="2026-11-30T14:03:00+01:00")
    assert {p.name: p.read_bytes() for p in (demo / "reports").iterdir()} == warm
    assert "rendered" not in esc.ok("sweep", "--no-notify", now="2026-11-30T14:04:00+01:00")


def test_a_day_of_sweeps_that_change_no_ticket_makes_no_commit(
    esc: Esc, workspace: Path
) -> None:
    # reports not ignored: the sweep commits them only once git tracks them, and then only
    # together with a ticket change, never alone however often they are rendered again
    (workspace / ".gitignore").write_text(".esc-cache/\n")
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    esc.ok("resolve", ticket, "--resolution", "Sent again", now="2026-11-20T09:30:00+01:00")
    git(workspace, "commit", "-qam", "resolved")
    out = esc.ok("sweep", "--commit", now="2026-11-20T10:00:00+01:00")
    assert "committed" in out
    assert "reports/" not in git(workspace, "show", "--name-only", "HEAD")  # (untracked)
    assert "?? reports/" in git(workspace, "status", "--porcelain")
    git(workspace, "add", "reports")  # the team tracks them from now on
    git(workspace, "commit", "-qm", "reports")
    count = git(workspace, "rev-list", "--count", "HEAD")
    start = dt.datetime.fromisoformat("2026-11-20T10:15:00+01:00")
    for step in range(24):  # (hourly, as the README's cron line runs it)
        at = (start + dt.timedelta(hours=step)).isoformat()
        out = esc.ok("sweep", "--commit", now=at)
        assert out.startswith("1 tickets seen, 0 changed"), out
    assert git(workspace, "rev-list", "--count", "HEAD") == count
    assert git(workspace, "status", "--porcelain", "--", "tickets") == ""
    assert " M reports/index.html" in git(workspace, "status", "--porcelain")  # rendered anew

    new = make(esc, "A new one")
    as_person(workspace, "bob", "add", "tickets")
    as_person(workspace, "bob", "commit", "-qm", "new ticket")
    esc.ok("sweep", "--commit", now="2026-11-21T11:00:00+01:00")
    assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [
        "reports/index.html", "reports/report.json", "reports/summary.md", f"tickets/{new}.md"
    ]
    assert git(workspace, "status", "--porcelain") == ""


def test_a_sweep_stopped_part_way_leaves_the_cache_with_what_it_did(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep saves the cache entries it made as it goes (SAVE_EVERY at a time, here
    2), not only at the end: a sweep interrupted part-way (Ctrl-C: exit 130) leaves a
    cache whose every row describes its file as it is, and the next sweep ends where one
    uninterrupted sweep would have."""
    from esc.commands import sweep as sweeping
    from esc.store.cache import FILE, Cache, digest

    for n in range(7):
        esc.ok("create", "--title", f"Printer {n} jams", "--category", "outage")
    esc.ok("sweep")
    whole = workspace.parent / "whole"
    shutil.copytree(workspace, whole)
    later = "2026-11-23T10:00:00+01:00"  # every first response past due: all rewritten
    Esc(whole).ok("sweep", now=later)

    real, calls = sweeping.sweep_records, []

    def stopped_at_the_third_batch(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sweeping, "BATCH", 2)
    monkeypatch.setattr(sweeping, "SAVE_EVERY", 2)
    monkeypatch.setattr(sweeping, "sweep_records", stopped_at_the_third_batch)
    assert esc("sweep", "--jobs", "1", now=later).code == 130
    cache = Cache(workspace / ".esc-cache")
    cache.load()
    tickets = workspace / "tickets"
    assert cache.entries.keys() == {p.name for p in tickets.glob("*.md")}
    for name, entry in cache.entries.items():  # (each row: its file as it is now)
        assert entry.digest == digest((tickets / name).read_bytes()), name
    moment = dt.datetime.fromisoformat(later).timestamp()
    swept = [name for name, entry in cache.entries.items() if entry.sla_time == moment]
    assert len(swept) == 4  # the two batches before the stop, saved
    assert (workspace / ".esc-cache" / FILE).exists()
    monkeypatch.setattr(sweeping, "sweep_records", real)
    esc.ok("sweep", now=later)
    for path in tickets.glob("*.md"):
        assert path.read_bytes() == (whole / "tickets" / path.name).read_bytes()


def test_a_report_file_that_is_a_symlink_is_never_written_through(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A committed `reports/summary.md` linking to any file had cron's sweep overwrite it
    (report --out and export write through a link the user gave; a sweep runs on what a
    commit put there): refused, one line, exit 1, the file it leads to untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    (workspace / "reports").mkdir(exist_ok=True)
    (workspace / "reports" / "summary.md").symlink_to(victim)
    make(esc)
    result = esc("sweep", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"esc: the reports were not rendered: cannot write reports/summary.md: a symlink (to "
        f"{victim}); a sweep writes its reports as files, never through a link a commit "
        "could point anywhere"
    )
    assert victim.read_text() == "mine\n"


def test_reports_that_fail_to_render_still_leave_the_sweep_told_and_committed(
    esc: Esc, workspace: Path
) -> None:
    """The tickets are written before the reports render: a workspace template that fails
    does not hide what the sweep did. Its summary (or --json) is printed and committed,
    then one line says why the reports were not rendered (exit 1)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    ticket = make(esc)
    (workspace / "templates").mkdir()
    (workspace / "templates" / "summary.md.j2").write_text("{{ nosuch.x }}\n")
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")

    result = esc("sweep", "--commit", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert result.out.startswith("1 tickets seen, 1 changed;")
    assert f"{ticket}: support → engineering (breached-goes-up)" in result.out
    assert "committed " in result.out
    assert result.err.splitlines()[-1] == (
        "esc: the reports were not rendered: templates/summary.md.j2: template failed:"
        " 'nosuch' is undefined"
    )
    shown = git(workspace, "log", "-1", "--format=%B")
    assert f"{ticket}: support → engineering (breached-goes-up)" in shown
    assert git(workspace, "status", "--porcelain", "--", "tickets") == ""

    again = esc("sweep", "--json", now="2026-11-20T14:30:00+01:00")
    assert again.code == 1
    assert json.loads(again.out)["seen"] == 1


def test_a_sweep_keeps_the_comments_a_person_wrote_in_the_sla_block(
    esc: Esc, workspace: Path
) -> None:
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T10:00:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    text = text.replace("sla:\n", "sla:  # computed by esc\n")
    text = text.replace("  policy: standard\n", "  policy: standard   # chosen by priority\n")
    path.write_text(text)
    esc.ok("sweep", now="2026-11-20T12:30:00+01:00")
    after = path.read_text()
    assert "sla:  # computed by esc\n  policy: standard   # chosen by priority\n" in after
    assert "  checked: 2026-11-20T12:30:00+01:00\n" in after
    assert after.count("# computed by esc") == 1


def test_a_template_link_that_names_nothing_leaves_the_shipped_template(
    esc: Esc, workspace: Path
) -> None:
    """templates/summary.md.j2 a dangling symlink: jinja finds no such template there, so
    the shipped one renders (the sweep once failed with an internal error, after writing
    its tickets, in the reports' signature)."""
    (workspace / "templates").mkdir()
    (workspace / "templates" / "summary.md.j2").symlink_to("nowhere.j2")
    make(esc, "Invoice missing")
    result = esc("sweep", "--no-notify")
    assert result.code == 0, result.err
    assert "# Ticket summary" in (workspace / "reports" / "summary.md").read_text()


def test_one_stuck_writer_costs_the_sweep_one_wait_not_one_per_batch(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command stuck writing keeps the writes lock past the sweep's timeout: the first
    batch waits for it and falls back to a lock per ticket; the later batches try the
    writes lock without waiting (each waited the whole timeout again: a minute per 100
    tickets by default), and every ticket is written all the same."""
    import contextlib

    from esc.commands import sweep as sweeping
    from esc.store.lock import LockTimeout

    tickets = [make(esc, f"Invoice {n}") for n in range(5)]
    waits: list[float] = []

    @contextlib.contextmanager
    def stuck(folder: Path, timeout: float, what: str) -> Iterator[None]:
        waits.append(timeout)
        raise LockTimeout("held by esc comment pid 1 on host")
        yield  # (a generator, as the real one)

    monkeypatch.setattr(sweeping, "BATCH", 2)
    monkeypatch.setattr(sweeping.lock, "hold_writes", stuck)
    out = esc.ok("sweep", "--no-report", "--jobs", "1", "--lock-timeout", "7",
                 now="2026-11-20T10:00:00+01:00")  # fmt: skip
    assert out.startswith("5 tickets seen, 5 changed")
    assert waits == [7.0, 0.0]  # batches of 2, 2 and 1 (one ticket alone: its own lock)
    for ticket in tickets:
        assert "checked: 2026-11-20T10:00:00+01:00" in (
            workspace / "tickets" / f"{ticket}.md"
        ).read_text()


LOOPING = """\
max_actions_per_ticket: 3
  - name: lower
    when: {priority: high}
    then: {priority: low}
  - name: raise
    when: {priority: low}
    then: {priority: high}
"""


def test_rules_that_can_loop_are_reported_by_validate_and_stop_no_command(
    esc: Esc, workspace: Path
) -> None:
    """Two rules that undo each other: `esc validate` reports them (exit 1), yet they stop
    no command: each fires once while its condition holds (the cap on actions at one
    instant is the backstop), and the next sweep changes nothing."""
    head, rules = RULES_LEVELS.split("rules:\n")
    looping = LOOPING.split("\n", 1)
    (workspace / "rules.yaml").write_text(f"{looping[0]}\n{head}rules:\n{rules}{looping[1]}")
    result = esc("validate", now=CREATED)
    assert result.code == 1
    assert "rules lower, raise can trigger each other endlessly" in result.err
    ticket = esc.ok("create", "--title", "Loops", "--priority", "high", now=CREATED).strip()
    swept = json.loads(esc.ok("sweep", "--json", now="2026-11-20T09:10:00+01:00"))
    assert [a["rule"] for a in swept["actions"] if a["id"] == ticket] == ["lower", "raise"]
    before = files(workspace)
    again = json.loads(esc.ok("sweep", "--json", now="2026-11-20T09:20:00+01:00"))
    assert again["actions"] == [] and files(workspace) == before


CAME_IN = "2026-11-27T09:00:00+01:00"  # the morning bench/rewrites.py's tickets came in


def new_tickets(root: Path, n: int) -> Path:
    """A workspace of ``n`` tickets that came in this morning, none swept yet (bench's
    generator): at ``CAME_IN`` a sweep rewrites every one, in worker processes."""
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "rewrites.py"), "--generate", str(root), str(n)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return root


def test_a_ticket_held_past_the_lock_timeout_is_waited_for_once_with_workers(
    tmp_path: Path,
) -> None:
    """A ticket another command holds: the sweep's worker waits `--lock-timeout` for it,
    leaves it for the next sweep and says so; the sweep's own process does not wait as
    long again (a stuck writer cost a cron sweep twice the timeout per ticket)."""
    from esc.store import lock

    root = new_tickets(tmp_path / "ws", 450)
    held = sorted(p.name for p in (root / "tickets").glob("T-*.md"))[200]
    esc = Esc(root, now=CAME_IN)
    with lock.hold_ticket(root / ".esc-cache", held, 1.0, "esc comment"):
        result = esc("sweep", "--json", "--no-report", "--jobs", "2", "--lock-timeout", "1.5")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert out["processes"] == 2 and len(out["changed"]) == 449
    ticket = held.removesuffix(".md")
    said = f"{ticket}: left as it is for the next sweep: {ticket} is being changed by esc "
    [note] = [n for n in out["notes"] if n.startswith(said)]
    assert note.startswith(f"{said}comment pid {os.getpid()} on ")
    assert note.endswith(
        "; gave up after 1.5s (ESC_LOCK_TIMEOUT; a sweep's or intake's --lock-timeout)"
    )
    # what the worker handed back is final: the sweep's own process does not try again
    from esc.commands.sweep import _left, _settled

    assert _settled(_left(ticket, "held"))


def test_with_no_lock_timeout_workers_never_leave_a_ticket_because_of_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--lock-timeout 0` (cron's "do not wait"): a worker that finds another of the same
    sweep putting its batch in place waits for it, rather than leaving its ticket for
    the next sweep as held by that sweep itself."""
    from esc.commands import sweep as sweep_command

    monkeypatch.setattr(sweep_command, "BATCH", 5)  # (many batches: many chances to meet)
    root = new_tickets(tmp_path / "ws", 1200)
    esc = Esc(root, now=CAME_IN)
    result = esc("sweep", "--json", "--no-report", "--jobs", "4", "--lock-timeout", "0")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert (out["processes"], len(out["changed"]), out["notes"]) == (4, 1200, [])


@pytest.mark.parametrize(
    "name",
    ["tier 1: breached", "breach #1", "ends in a space ", "tab\there", "7", "yes"],
)
def test_a_rule_name_validate_takes_is_written_and_read_back_by_the_sweep(
    workspace: Path, name: str
) -> None:
    """Any rule name `validate` accepts: the sweep writes it as a key of `fired:` quoted
    when it must be, the rule acts once, and the next sweep reads it back (it was written
    raw, every write refused as unsafe, and the rule never acted)."""
    rules = workspace / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    quoted = json.dumps(name)
    rules.write_text(text.replace("  - name: breached-goes-up", f"  - name: {quoted}", 1))
    esc = Esc(workspace)
    assert esc("validate").code == 0
    ticket = esc.ok("create", "--title", "t", "--category", "billing",
                    now="2026-11-02T09:00:00+01:00").strip()  # fmt: skip
    first = esc("sweep", "--json", "--no-notify", now="2026-11-04T09:00:00+01:00")
    assert first.code == 0, first.err
    assert json.loads(first.out)["changed"] == [f"tickets/{ticket}.md"]
    again = esc("sweep", "--json", "--no-notify", now="2026-11-04T10:00:00+01:00")
    assert (again.code, json.loads(again.out)["changed"]) == (0, [])
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-04T10:00:00+01:00"))
    assert [e["by"] for e in shown["escalations"]] == [f"rule:{name}"]
    assert esc("validate").code == 0


@pytest.mark.parametrize("when", ['{idle: ">99999999w"}', '{age: ">=99999999w"}',
                                  '{overdue: ">99999999w"}', '{idle: ">86399999999999s"}'])
def test_a_time_limit_no_date_reaches_is_never_reached(workspace: Path, when: str) -> None:
    """A limit that validates but that no date reaches (a million weeks): the rule never
    fires, and the sweep and `explain` say so; they stopped with an internal error, exit 3
    (audit g72, review r72)."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + f"  - name: stale\n    when: {when}\n"
                     "    then: {note: stale}\n")  # fmt: skip
    esc = Esc(workspace)
    assert esc("validate").code == 0
    ticket = make(esc)
    swept = esc("sweep", "--no-report", "--no-notify", now="2026-11-23T12:00:00+01:00")
    assert swept.code == 0, swept.err
    assert "(stale)" not in swept.out and "breached-goes-up" in swept.out
    explained = esc("explain", ticket, now="2026-11-23T12:00:00+01:00")
    assert explained.code == 0, explained.err
    assert "stale: no" in explained.out


def test_a_repeat_longer_than_the_calendar_looks_ahead_never_comes(workspace: Path) -> None:
    """`repeat: 30000h` of working time (12 years of office hours) validates: the rule fires
    once, and never again; every sweep after it stopped with exit 3 (review r72)."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + "  - name: again\n    when: {status: [new, open]}\n"
                     "    then: {note: again}\n    repeat: 30000h\n")  # fmt: skip
    esc = Esc(workspace)
    assert esc("validate").code == 0
    ticket = make(esc)
    first = esc("sweep", "--no-report", "--no-notify", now="2026-11-20T10:00:00+01:00")
    assert first.code == 0 and f'{ticket}: note "again" (again)' in first.out, first.err
    later = esc("sweep", "--no-report", "--no-notify", now="2026-11-27T10:00:00+01:00")
    assert later.code == 0 and "(again)" not in later.out, later.err
    assert esc("explain", ticket, now="2026-11-27T10:00:00+01:00").code == 0


def test_a_rule_s_request_answered_by_a_later_escalation_in_one_replay_is_one_request(
    esc: Esc, workspace: Path
) -> None:
    """`involve: engineering` at the warning, `escalate: up` (to engineering) at the breach,
    both replayed by one sweep: one request, answered by the escalation, as sweeps at each
    moment make it (the replay wrote it twice, open and answered, and the ticket no longer
    validated)."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + (
        "  - name: ask-eng\n    when: {sla: warning, team: support}\n"
        "    then: {involve: engineering, note: \"can you look\"}\n"))  # fmt: skip
    ticket = esc.ok("create", "--title", "x", "--category", "billing", "--body", "b",
                    now="2026-11-02T09:00:00+01:00").strip()  # fmt: skip
    once = workspace.parent / "once"
    shutil.copytree(workspace, once)
    esc.ok("sweep", "--no-report", now="2026-11-02T12:05:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-02T13:30:00+01:00")
    Esc(once).ok("sweep", "--no-report", now="2026-11-02T13:30:00+01:00")
    for root in (workspace, once):
        Esc(root).ok("validate")
        shown = json.loads(Esc(root).ok("show", ticket, "--json"))
        assert [(r["team"], r["state"]) for r in shown["requests"]] == [("engineering", "answered")]


def test_a_rule_s_status_change_a_person_later_agreed_with_stands_in_a_replay(
    tmp_path: Path,
) -> None:
    """A person puts the ticket on pending; a rule opens it again after 4 idle hours; the
    customer's reply an hour later "opens" it once more (it was still pending in the file,
    no sweep having run). Replayed by one sweep, the rule's change stands at its time, as
    hourly sweeps wrote it: the clock runs from then, and the breach (and its escalation)
    comes at the same instant either way (it came 75 minutes late)."""
    rules = ALWAYS_OPEN + """\
sla:
  - name: billing
    calendar: always
    targets: {first_response: 2h, resolution: 8h}
    pause_on: [pending]
rules:
  - name: breached-goes-up
    when: {sla: breached, level: "<3"}
    then: {escalate: up}
  - name: stale-pending
    when: {status: pending, idle: ">4h"}
    then: {status: open}
"""
    ends = {}
    for schedule in ("hourly", "once"):
        root = tmp_path / schedule
        Esc(tmp_path).ok("init", str(root))
        (root / "rules.yaml").write_text(rules)
        desk = Esc(root)
        at = "2026-11-02T{}:00+01:00".format
        ticket = desk.ok("create", "--title", "x", "--category", "billing", "--body", "b",
                         now=at("09:00")).strip()  # fmt: skip
        desk.ok("wait", ticket, "--reason", "need logs", now=at("09:45"))
        if schedule == "hourly":
            for hour in ("10:05", "11:05", "12:05", "13:05", "14:05"):
                desk.ok("sweep", "--no-report", now=at(hour))
        desk.ok("comment", ticket, "-m", "here", "--from-customer", now=at("15:00"))
        if schedule == "hourly":
            desk.ok("sweep", "--no-report", now=at("15:05"))
        desk.ok("sweep", "--no-report", now=at("17:00"))
        shown = json.loads(desk.ok("show", ticket, "--json"))
        ends[schedule] = (
            [(e["at"], e["to"]) for e in shown["escalations"]],
            shown["sla"]["first_response"]["due"],
        )
    assert ends["once"] == ends["hourly"]
    assert ends["once"][0] == [("2026-11-02T15:00:01+01:00", "engineering")]


def test_a_person_s_last_change_after_agreeing_with_a_rule_is_the_value_in_a_replay(
    tmp_path: Path,
) -> None:
    """A rule opens a tagged ticket (and assigns a vip one to the lead); before any sweep a
    person does the same (a reply opens it; carol assigned), then changes it again (on
    pending; alice assigned). One sweep replaying the rules wrote the rule's value over the
    person's last: the ticket read open, with its clock paused, and carol's."""
    rules = """\
priorities: [low, normal, high, urgent]
default_priority: normal
categories: [billing, account, how-to, refund, bug, outage, data]
calendars:
  office: {timezone: Europe/Berlin, hours: {mon-fri: "09:00-17:00"}}
sla:
  - name: standard
    calendar: office
    targets: {first_response: 8h, resolution: 40h}
    pause_on: [pending]
rules:
  - {name: tagged-open, when: {tags: go, status: new}, then: {status: open}}
  - {name: vip-lead, when: {tags: vip, assignee: null}, then: {assign: lead}}
"""
    ends = {}
    for schedule in ("every 5 minutes", "once"):
        root = tmp_path / schedule.replace(" ", "-")
        Esc(tmp_path).ok("init", str(root))
        (root / "rules.yaml").write_text(rules)
        desk = Esc(root)
        at = "2026-12-03T{}:00+01:00".format
        go = desk.ok("create", "--title", "go", "--category", "how-to", "--tag", "go",
                     "--body", "b", now=at("10:00")).strip()  # fmt: skip
        vip = desk.ok("create", "--title", "vip", "--category", "how-to", "--tag", "vip",
                      "--body", "b", now=at("10:00")).strip()  # fmt: skip
        if schedule != "once":
            desk.ok("sweep", "--no-report", now=at("10:05"))
        desk.ok("comment", go, "-m", "hi", "--by", "alice", now=at("10:30"))
        desk.ok("assign", vip, "carol", "--by", "bob", now=at("10:30"))
        desk.ok("wait", go, "--reason", "logs", "--by", "alice", now=at("11:00"))
        desk.ok("assign", vip, "alice", "--by", "bob", now=at("11:00"))
        desk.ok("sweep", "--no-report", now=at("11:30"))
        listed = {t["id"]: t for t in json.loads(desk.ok("list", "--all", "--json"))}
        ends[schedule] = (listed[go]["status"], listed[vip]["assignee"])
    assert ends["once"] == ends["every 5 minutes"] == ("pending", "alice")


_MISSED_RULES = """\
priorities: [low, normal, high, urgent]
calendars:
  office: {timezone: Europe/Berlin, hours: {mon-fri: "09:00-17:00"}}
sla:
  - name: standard
    calendar: office
    targets: {first_response: 2h, resolution: 8h}
    pause_on: [pending]
rules:
"""
_MISSED_TEAMS = """\
intake: support
teams:
  support: {level: 1, members: [alice, bob, carol], escalates_to: tier2}
  tier2: {level: 2, members: [dave]}
"""
# (each: the rule a sweep missed on Monday, what alice did at 09:10, and a person's later
# change of a field the rule changed, to another value than the rule's, on Tuesday 10:00)
_MISSED_CASES = {
    "opened, then resolved": (
        'when: {status: pending, idle: ">4h"}, then: {status: open}',
        ("wait", "--reason", "w"), ("resolve", "--resolution", "r"),
    ),
    "opened, then closed": (
        'when: {status: pending, idle: ">4h"}, then: {status: open}',
        ("wait", "--reason", "w"), ("close", "--resolution", "r"),
    ),
    "resolved, then a reply": (
        'when: {status: pending, idle: ">4h"}, then: {status: resolved}',
        ("wait", "--reason", "w"), ("comment", "--from-customer", "-m", "back"),
    ),
    "resolved a new ticket, then a reply": (  # (the file said `new`: the reply opened
        # nothing, and the replayed resolve stood, her message unread: audit a48)
        'when: {status: new, idle: ">2h"}, then: {status: resolved}',
        ("tag", "x"), ("comment", "--from-customer", "-m", "back"),
    ),
    "resolved (its public reply), then alice's reply": (
        'when: {status: pending, idle: ">4h"}, then: {status: resolved}',
        ("wait", "--reason", "w"), ("comment", "-m", "hi"),
    ),
    "resolved a new ticket, then assigned": (  # (`assign` on the file that said `new`
        # opened it, a side effect: no choice of status, and the rule's resolve stands)
        'when: {status: new, idle: ">2h"}, then: {status: resolved}',
        ("tag", "x"), ("assign", "bob"),
    ),
    "put a new ticket on pending, then alice's reply": (  # (her reply opened the `new`
        # file: a side effect, and the ticket stays pending, as hourly sweeps leave it)
        'when: {status: new, idle: ">2h"}, then: {status: pending}',
        ("tag", "x"), ("comment", "-m", "hi"),
    ),
    "put on pending, then resolved": (
        'when: {status: open, idle: ">4h"}, then: {status: pending}',
        ("comment", "-m", "on it"), ("resolve", "--resolution", "r"),
    ),
    "priority lowered, then raised": (
        'when: {status: new, idle: ">2h"}, then: {priority: low}',
        ("tag", "x"), ("classify", "--priority", "high"),
    ),
    "assigned, then to another": (
        'when: {assignee: null, idle: ">2h"}, then: {assign: bob}',
        ("tag", "x"), ("assign", "carol"),
    ),
    "escalated (opened), then put on pending": (
        'when: {level: 1, idle: ">2h"}, then: {escalate: up}',
        ("tag", "x"), ("wait", "--reason", "w"),
    ),
    "escalated (unassigned), then assigned": (
        'when: {level: 1, idle: ">2h"}, then: {escalate: up}',
        ("assign", "alice"), ("assign", "dave", "--force"),
    ),
}


@pytest.mark.parametrize("case", list(_MISSED_CASES))
def test_a_missed_rule_s_change_a_person_later_changed_otherwise_is_made_at_its_instant(
    tmp_path: Path, case: str
) -> None:
    """A rule's change a sweep missed, then a person's change of the same field to another
    value (alice resolved a ticket a missed rule had opened): one sweep replaying the gap
    dropped the rule's change, its line too, as if the person's had overridden it; the
    clocks' lines it made stayed (`paused → ok` with no status change), and the breach
    they made turned `met` at the person's change.  Swept at every instant, the rule's
    change is made at its instant and the person's comes after it: the file is that of
    hourly sweeps, but for `checked` and the person's own lines (written against the file
    as it was, which esc never rewrites)."""
    rule, before, after = _MISSED_CASES[case]
    texts = {}
    for cadence in ("hourly", "once"):
        root = tmp_path / cadence
        (root / "tickets").mkdir(parents=True)
        (root / "teams.yaml").write_text(_MISSED_TEAMS)
        (root / "rules.yaml").write_text(_MISSED_RULES + f"  - {{name: missed, {rule}}}\n")
        desk = Esc(root)
        ticket = desk.ok("create", "--title", "x", "--body", "b", "--by", "alice",
                         now="2026-11-02T09:00:00+01:00").strip()  # fmt: skip
        desk.ok(before[0], ticket, *before[1:], "--by", "alice", now="2026-11-02T09:10:00+01:00")
        for hour in range(10, 18) if cadence == "hourly" else []:
            desk.ok("sweep", "--no-report", "--no-notify", now=f"2026-11-02T{hour}:30:00+01:00")
        by = "cust" if "--from-customer" in after else "alice"
        desk.ok(after[0], ticket, *after[1:], "--by", by, now="2026-11-03T10:00:00+01:00")
        desk.ok("sweep", "--no-report", "--no-notify", now="2026-11-03T11:00:00+01:00")
        text = (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
        assert "· rule:missed ·" in text, cadence
        texts[cadence] = [
            line
            for line in text.replace(ticket, "T-ID").splitlines()
            if not line.startswith(("  checked:", "# sweep fingerprint "))  # (the last
            # sweep's, which wrote it here or not: a rule acted)
            and not line.startswith(f"- 2026-11-03T10:00:00+01:00 · {by} · ")
        ]
    assert texts["once"] == texts["hourly"]


def test_a_person_s_resolve_after_a_missed_rule_opened_the_ticket_keeps_the_breach(
    tmp_path: Path,
) -> None:
    """The auditor's case, told by the file: the rule's line at its instant, the breach of
    15:00:01 (no `breached → met`), and alice's line as she wrote it."""
    (tmp_path / "tickets").mkdir()
    (tmp_path / "teams.yaml").write_text(_MISSED_TEAMS)
    (tmp_path / "rules.yaml").write_text(
        _MISSED_RULES + '  - {name: pending-idle, when: {status: pending, idle: ">4h"},'
        " then: {status: open}}\n"
    )
    desk = Esc(tmp_path)
    ticket = desk.ok("create", "--title", "x", "--body", "b", "--by", "alice",
                     now="2026-11-02T09:00:00+01:00").strip()  # fmt: skip
    desk.ok("wait", ticket, "--reason", "w", "--by", "alice", now="2026-11-02T09:10:00+01:00")
    desk.ok("resolve", ticket, "--resolution", "r", "--by", "alice",
            now="2026-11-03T10:00:00+01:00")  # fmt: skip
    desk.ok("sweep", "--no-report", "--no-notify", now="2026-11-03T11:00:00+01:00")
    text = (tmp_path / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
    assert (
        "- 2026-11-02T13:10:01+01:00 · rule:pending-idle · status: pending → open\n"
        "- 2026-11-02T13:10:01+01:00 · esc · sla.first_response: paused → ok\n"
    ) in text
    assert "- 2026-11-02T15:00:01+01:00 · esc · sla.first_response: ok → breached\n" in text
    assert "- 2026-11-03T10:00:00+01:00 · alice · status: pending → resolved\n" in text
    assert "breached → met" not in text
    assert "  first_response: {due: 2026-11-02T15:00:01+01:00, state: breached}\n" in text


def test_a_ticket_the_sweep_cannot_write_is_said_and_the_others_are_swept(
    esc: Esc, workspace: Path
) -> None:
    """An immutable file (`chattr +i`): that ticket is said and left, every other ticket is
    swept, the summary printed, no temporary file left; exit 1."""
    stuck, *others = [make(esc, f"t{n}") for n in range(3)]
    path = workspace / "tickets" / f"{stuck}.md"
    if shutil.which("chattr") is None or subprocess.run(
        ["chattr", "+i", "--", str(path)], capture_output=True
    ).returncode:
        pytest.skip("no chattr +i on this file system (or not root)")
    try:
        result = esc("sweep", "--no-report", now="2026-11-20T10:00:00+01:00")
    finally:
        subprocess.run(["chattr", "-i", "--", str(path)], check=True)
    assert result.code == 1
    assert f"cannot write tickets/{stuck}.md: Operation not permitted; left as it is" in result.err
    assert "3 tickets seen, 2 changed" in result.out
    texts = files(workspace)
    assert "sla:" not in texts[f"{stuck}.md"]
    assert all("sla:" in texts[f"{t}.md"] for t in others)
    assert not [p for p in (workspace / "tickets").iterdir() if p.name.endswith(".tmp")]


def test_a_customer_reply_ends_a_rule_made_pending_in_a_replay_as_between_sweeps(
    tmp_path: Path,
) -> None:
    """A rule puts a refund ticket on pending an hour in; the customer answers at 12:00.
    Hourly sweeps wrote `pending` first, so the reply opened the ticket; one sweep at 17:05
    replays the rule, and the reply opens it at 12:00 all the same (it stayed pending,
    paused, and was never escalated)."""
    rule = (
        "  - name: ask-order-number\n"
        "    when: {category: refund, all: [{age: \">1h\"}, {age: \"<2h\"}]}\n"
        "    then: {status: pending, note: \"asked for the order number\"}\n"
    )
    ends = {}
    for schedule in ("hourly", "once"):
        root = tmp_path / schedule
        Esc(tmp_path).ok("init", str(root))
        (root / "rules.yaml").write_text((root / "rules.yaml").read_text() + rule)
        desk = Esc(root)
        at = "2026-11-02T{}:00+01:00".format
        ticket = desk.ok("create", "--title", "refund please", "--category", "refund",
                         "--body", "b", now=at("09:00")).strip()  # fmt: skip
        if schedule == "hourly":
            for hour in ("10:05", "11:05"):
                desk.ok("sweep", "--no-report", now=at(hour))
        desk.ok("comment", ticket, "-m", "order 123", "--from-customer", now=at("12:00"))
        if schedule == "hourly":
            for hour in ("12:05", "13:05", "14:05", "15:05", "16:05"):
                desk.ok("sweep", "--no-report", now=at(hour))
        desk.ok("sweep", "--no-report", now=at("17:05"))
        shown = json.loads(desk.ok("show", ticket, "--json"))
        statuses = [(a["at"], a["old"], a["new"]) for a in shown["activity"]
                    if a["field"] == "status"]  # fmt: skip
        ends[schedule] = (shown["status"], shown["team"], statuses,
                          [e["at"] for e in shown["escalations"]])  # fmt: skip
    assert ends["once"] == ends["hourly"]
    status, team, statuses, _ = ends["once"]
    assert (status, team) == ("open", "engineering")
    assert statuses[-1] == ("2026-11-02T12:00:00+01:00", "pending", "open")


@pytest.mark.parametrize("case", ["assignee", "request"])
def test_a_person_s_move_settles_what_replayed_rules_made_as_between_sweeps(
    tmp_path: Path, case: str
) -> None:
    """A person escalates the ticket to engineering between sweeps: the assignee a rule
    gave it (support's lead) is cleared, and a rule's open request to engineering is
    answered, whether a sweep had written the rule's change first or one sweep replays it
    afterwards (the replay kept carol on an engineering ticket, and the request open)."""
    rule = {
        "assignee": "  - name: lead-takes-high\n"
        "    when: {priority: \">=high\", assignee: null, team: support}\n"
        "    then: {assign: lead}\n",
        "request": "  - name: ask-eng\n    when: {sla: warning, team: support}\n"
        "    then: {involve: engineering, note: \"can you look\"}\n",
    }[case]
    moved, between, last = {"assignee": ("10:00", "09:05", "10:05"),
                            "request": ("12:30", "12:05", "12:45")}[case]  # fmt: skip
    ends = {}
    for schedule in ("between", "once"):
        root = tmp_path / schedule
        Esc(tmp_path).ok("init", str(root))
        (root / "rules.yaml").write_text((root / "rules.yaml").read_text() + rule)
        desk = Esc(root)
        at = "2026-11-02T{}:00+01:00".format
        ticket = desk.ok("create", "--title", "x", "--category", "billing", "--priority",
                         "high", "--body", "b", now=at("09:00")).strip()  # fmt: skip
        if schedule == "between":
            desk.ok("sweep", "--no-report", now=at(between))
        desk.ok("escalate", ticket, "--to", "engineering", "--reason", "dev", now=at(moved))
        desk.ok("sweep", "--no-report", now=at(last))
        shown = json.loads(desk.ok("show", ticket, "--json"))
        ends[schedule] = (shown["team"], shown["assignee"],
                          [(r["team"], r["state"]) for r in shown["requests"]])  # fmt: skip
    assert ends["once"] == ends["between"]
    assert ends["once"][:2] == ("engineering", None)
    if case == "request":
        assert ends["once"][2] == [("engineering", "answered")]


def test_a_time_written_with_a_fraction_of_a_second_is_swept(esc: Esc, workspace: Path) -> None:
    """`created: …T09:00:00.5+01:00`, written by hand, validated, yet no sweep would write
    the ticket ("could not edit this front-matter safely"): its deadlines, computed to the
    half second and written to the second, read back other than computed."""
    ticket = make(esc)
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    path.write_text(text.replace("created: 2026-11-20T09:00:00+01:00",
                                 "created: 2026-11-20T09:00:00.5+01:00"))  # fmt: skip
    assert "created: 2026-11-20T09:00:00.5+01:00" in path.read_text()
    assert esc("validate").code == 0
    result = esc("sweep", "--no-report", now="2026-11-20T09:30:00+01:00")
    assert result.code == 0, result.err
    assert "sla:" in path.read_text()
    assert "created: 2026-11-20T09:00:00.5+01:00" in path.read_text()  # (as written)


def test_a_rule_fired_and_re_armed_between_sweeps_leaves_the_same_memory(
    tmp_path: Path,
) -> None:
    """`warn` fires at the warning and is re-armed once the clock breaches: sweeps at each
    moment leave `fired: {}`; one sweep replaying both left no `fired:` at all."""
    import frontmatter

    ends = []
    for sweeps in (["10:30", "11:30"], ["11:30"]):
        root = tmp_path / "-".join(sweeps).replace(":", "")
        Esc(tmp_path).ok("init", str(root))
        (root / "rules.yaml").write_text(RULES_LEVELS)
        desk = Esc(root)
        ticket = make(desk)
        for at in sweeps:
            desk.ok("sweep", "--no-report", now=f"2026-11-20T{at}:00+01:00")
        front = frontmatter.load(str(root / "tickets" / f"{ticket}.md"))
        ends.append(front.get("fired", "no fired key"))
    assert ends[0] == ends[1]


def test_a_warning_share_that_is_no_whole_second_is_swept_at_its_second(
    esc: Esc, workspace: Path
) -> None:
    """`warn_at: 66.7%` of 2h is 1h20m2.4s: a rule firing at that instant wrote a time with a
    fraction of a second, and every sweep refused the ticket until the breach."""
    rules = RULES_LEVELS.replace("warn_at: 50%", "warn_at: 66.7%")
    assert rules != RULES_LEVELS
    (workspace / "rules.yaml").write_text(rules)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    result = esc("sweep", "--no-report", "--json", now="2026-11-20T10:30:00+01:00")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["in_warning"] == [ticket]
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-20T10:30:00+01:00"))
    assert shown["sla"]["first_response"]["state"] == "warning"
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "2026-11-20T10:20:03+01:00 · rule:warn" in text  # (2.4 s, to the next second)


@pytest.mark.parametrize("new_file", [False, True])
def test_an_edit_saved_while_the_rebase_runs_is_kept_when_the_rebase_stops(
    esc: Esc, workspace: Path, tmp_path: Path, new_file: bool
) -> None:
    """A person's editor saves a file while the sweep's rebase (after a rejected push) runs,
    and the rebase stops on it (git will not overwrite a local change, or a file it does
    not track that a commit it picks adds): the sweep aborted the rebase, which put the
    work tree back as committed and lost the save, and blamed "a true conflict".  The
    save is kept, uncommitted, and one line says so."""
    committed_repo(esc, workspace, "Invoice missing")
    if not new_file:  # (else only the commit the rebase picks adds it)
        (workspace / "TEAM.md").write_text("lead: alice\n")
        git(workspace, "add", "TEAM.md")
        git(workspace, "commit", "-qm", "team")
    remote = with_remote(workspace, tmp_path)
    pushed_from_elsewhere(remote, tmp_path)
    (workspace / "TEAM.md").write_text("lead: bob\n")
    git(workspace, "add", "TEAM.md")
    git(workspace, "commit", "-qm", "bob leads")  # (not pushed: the rebase picks it)
    hook = workspace / ".git" / "hooks" / "post-checkout"
    hook.write_text(  # the editor's save, once, while the rebase has the remote checked out
        "#!/bin/sh\n[ -e .git/saved ] && exit 0\n: > .git/saved\n"
        "printf 'lead: dora\\n' > TEAM.md\n"
    )
    hook.chmod(0o755)
    result = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert (workspace / ".git" / "saved").exists()  # (the hook ran)
    assert (workspace / "TEAM.md").read_text() == "lead: dora\n"  # the save, kept
    assert result.err.endswith(
        "esc: could not rebase onto origin/main: TEAM.md changed while it ran; the rebase was "
        "undone and the change kept, uncommitted; commit it (or undo it), and the next --push "
        "sweep tries again\n"
    ), result.err
    assert git(workspace, "log", "-1", "--format=%s") == "bob leads\n"  # (the branch as it was)


def test_an_edit_saved_while_the_rebase_runs_is_kept_when_the_autostash_conflicts(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The rebase ends, but the person's uncommitted edit (put aside for it) conflicts with
    the remote's: the files are put back as committed, the edit stays in git's stash, and
    a file saved while the rebase ran, which that stash does not hold, is kept as saved."""
    notes_changed_on_the_remote(esc, workspace, tmp_path, also={"TEAM.md": "lead: alice\n"})
    (workspace / "OTHER.md").write_text("mine\n")
    git(workspace, "add", "OTHER.md")
    git(workspace, "commit", "-qm", "other")  # (not pushed: the rebase picks it)
    (workspace / "NOTES.md").write_text("on call: carol\n")  # (not committed)
    hook = workspace / ".git" / "hooks" / "post-rewrite"
    hook.write_text(  # the editor's save, once the rebase has picked, before its autostash
        "#!/bin/sh\n[ \"$1\" = rebase ] || exit 0\nprintf 'lead: dora\\n' > TEAM.md\n"
    )
    hook.chmod(0o755)
    result = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 1
    assert result.err.endswith(
        "esc: your uncommitted changes to NOTES.md conflict with origin/main: they are kept "
        "in git's stash (its top entry, `autostash`) and the files are as committed; "
        "TEAM.md, changed while the rebase ran, kept as saved; run `git stash pop`, resolve "
        "the conflict, and commit\n"
    ), result.err
    assert (workspace / "TEAM.md").read_text() == "lead: dora\n"
    assert (workspace / "NOTES.md").read_text() == "on call: bob\n"
    assert "+on call: carol" in git(workspace, "stash", "show", "-p", "stash@{0}")


def test_a_late_sweep_across_a_change_to_summer_time_writes_what_a_timely_one_did(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Breached at 13:00 Berlin time in March, swept only after the clocks went forward:
    the escalation was written `14:00:00+02:00` (the same instant, in --now's offset), so
    the file read an hour off and differed from the one hourly sweeps made."""
    ticket = esc.ok("create", "--title", "x", "--category", "billing",
                    now="2026-03-26T09:00:00+01:00").strip()  # fmt: skip
    late = tmp_path / "late"
    shutil.copytree(workspace, late)
    esc.ok("sweep", "--no-report", now="2026-03-26T09:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-03-26T13:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-04-02T10:00:00+02:00")
    Esc(late, now="2026-04-02T10:00:00+02:00").ok("sweep", "--no-report")

    def story(root: Path) -> list[str]:
        text = (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
        return [line for line in text.splitlines() if not line.startswith("  checked:")]

    assert story(late) == story(workspace)
    assert "  - {at: 2026-03-26T13:00:00+01:00, kind: hierarchical" in "\n".join(story(late))


def test_the_sla_block_s_keys_keep_their_order_whichever_sweep_wrote_it(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A sweep whose rule fired while the clocks stood still moved `rules:` after the
    clocks, so two clones' files differed by cadence alone."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + (
        "  - name: quiet-tag\n    when: {idle: \">1h\"}\n    then: {tag: quiet}\n"))  # fmt: skip
    ticket = make(esc)
    late = tmp_path / "late"
    shutil.copytree(workspace, late)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T10:30:00+01:00")  # (the tag, alone)
    Esc(late, now="2026-11-20T10:30:00+01:00").ok("sweep", "--no-report")

    def block(root: Path) -> list[str]:
        text = (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
        lines = text.split("\nsla:\n", 1)[1].split("\n---", 1)[0].splitlines()
        return [line.split(":", 1)[0] for line in lines if not line.startswith("  checked:")]

    assert block(workspace) == block(late)
    assert block(late)[:2] == ["  policy", "  rules"]


def test_a_ticket_saved_while_the_sweep_put_its_batch_in_place_is_told_once(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person saves a ticket after the sweep noted its new text and before it put it in
    place: the sweep leaves it ("has uncommitted changes; left for the next sweep") and
    also said "changed since the sweep wrote it; not committed" of a file it never wrote."""
    import esc.commands.sweep as sweeping

    first, second = committed_repo(esc, workspace, "Invoice missing", "Login broken")
    git(workspace, "config", "user.name", "esc sweep")
    git(workspace, "config", "user.email", "esc-sweep@example.com")
    path = workspace / "tickets" / f"{first}.md"
    real = sweeping._place

    def saved_meanwhile(*args: object, **kwargs: object) -> None:
        path.write_text(path.read_text(encoding="utf-8") + "\nMine.\n", encoding="utf-8")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sweeping, "_place", saved_meanwhile)
    data = json.loads(esc.ok("sweep", "--commit", "--json", "--no-report",
                             now="2026-11-20T13:30:00+01:00"))  # fmt: skip
    assert data["left_out"] == []
    assert f"{first}: has uncommitted changes; left for the next sweep" in data["notes"]
    assert f"tickets/{second}.md" in git(workspace, "show", "--name-only", "--format=", "HEAD")
    assert path.read_text(encoding="utf-8").endswith("\nMine.\n")  # (theirs, kept)


def test_a_sweep_behind_the_last_one_leaves_the_reports_as_they_are(
    esc: Esc, workspace: Path
) -> None:
    """Issue 14: a sweep whose --now is behind the last sweep changes nothing and says so;
    it left each ticket alone but rendered the reports as of its earlier time over the
    later ones."""
    make(esc)
    esc.ok("sweep", now="2026-11-20T13:00:00+01:00")
    summary = workspace / "reports" / "summary.md"
    later = summary.read_text(encoding="utf-8")
    out = esc.ok("sweep", now="2026-11-20T12:00:00+01:00")
    assert "after --now; left as it is" in out and "rendered" not in out
    assert summary.read_text(encoding="utf-8") == later


# ---------------------------------------------------------------- the night the clocks go back


def _dst_workspace(workspace: Path, rules: str) -> None:
    """A 24-hour Berlin calendar for tickets of category data (3h first response, warned
    at 50%), and ``rules``."""
    text = (workspace / "rules.yaml").read_text()
    text = text.replace(
        "calendars:\n",
        'calendars:\n  berlin24: {timezone: Europe/Berlin, hours: {mon-sun: "00:00-24:00"}}\n', 1
    )
    text = text.replace(
        "sla:                         # first matching policy wins\n",
        "sla:                         # first matching policy wins\n  - {name: data24, when:"
        " {category: data}, calendar: berlin24, targets: {first_response: 3h, resolution:"
        " 30h}, warn_at: 50%}\n",
        1,
    )
    start = text.index("rules:                       # evaluated")
    (workspace / "rules.yaml").write_text(text[:start] + "rules:\n" + rules)


def test_an_overdue_limit_on_the_night_the_clocks_go_back_is_elapsed_time(
    esc: Esc, workspace: Path
) -> None:
    """Due at 02:30+02:00 (00:30Z): `overdue: ">30m"` holds from 02:00:01+01:00 (01:00:01Z),
    one hour of wall clock later but 30 minutes of real time; the rule fired at
    03:00:01+01:00 (the deadline plus 30 minutes of wall clock), and at 02:15 when swept
    every quarter of an hour."""
    _dst_workspace(workspace, '  - {name: late, when: {overdue: ">30m"}, then: {tag: late}}\n')
    ticket = esc.ok("create", "--title", "x", "--category", "data", "--body", "x",
                    now="2026-10-24T23:30:00+02:00").strip()  # fmt: skip
    once = workspace.parent / "once"
    shutil.copytree(workspace, once)
    for now in ("2026-10-25T02:45:00+02:00", "2026-10-25T02:15:00+01:00",
                "2026-10-25T02:30:00+01:00", "2026-10-25T04:00:00+01:00"):  # fmt: skip
        esc.ok("sweep", "--no-report", now=now)
    Esc(once).ok("sweep", "--no-report", now="2026-10-25T04:00:00+01:00")
    for folder in (workspace, once):
        text = (folder / "tickets" / f"{ticket}.md").read_text()
        assert "- 2026-10-25T02:00:01+01:00 · rule:late · tagged · late\n" in text, folder
    texts = [(f / "tickets" / f"{ticket}.md").read_text() for f in (workspace, once)]
    # (the same file, but for when a sweep last wrote it)
    assert [[ln for ln in t.splitlines() if "checked:" not in ln] for t in texts] == [
        [ln for ln in texts[1].splitlines() if "checked:" not in ln]
    ] * 2


def test_a_warning_crossed_on_the_night_the_clocks_go_back_is_logged_and_acted_on(
    esc: Esc, workspace: Path
) -> None:
    """Created 01:30+02:00: warned at 02:00+01:00 (01:00Z, 50% of 3h), idle an hour at
    02:30:01+02:00 (00:30:01Z, earlier). The idle rule's instant, of one zone object with
    the warning's, compared by wall clock (02:30 after 02:00): the warning was never
    logged and its rule never fired."""
    _dst_workspace(
        workspace,
        "  - {name: warn-tag, when: {sla: warning}, then: {tag: w}}\n"
        '  - {name: quiet, when: {idle: ">1h"}, then: {tag: q}}\n',
    )
    ticket = esc.ok("create", "--title", "x", "--category", "data", "--body", "x",
                    now="2026-10-25T01:30:00+02:00").strip()  # fmt: skip
    esc.ok("comment", ticket, "-m", "hi", "--by", "dan", now="2026-10-25T03:20:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-10-25T04:00:00+01:00")
    log = (workspace / "tickets" / f"{ticket}.md").read_text().split("## Activity")[1]
    expected = [
        "- 2026-10-25T02:30:01+02:00 · rule:quiet · tagged · q",
        "- 2026-10-25T02:00:00+01:00 · esc · sla.first_response: ok → warning · due"
        " 2026-10-25T03:30:00+01:00",
        "- 2026-10-25T02:00:00+01:00 · rule:warn-tag · tagged · w",
        "- 2026-10-25T03:20:00+01:00 · esc · sla.first_response: warning → met",
    ]
    lines = log.splitlines()
    assert [line for line in lines if line in expected] == expected


def test_a_clock_paused_at_its_deadline_stays_breached_once_stopped(
    esc: Esc, workspace: Path
) -> None:
    """Put on hold at 13:00, the first response's deadline: breached then (and escalated
    for it), as a running clock is from its due second; resolved the next day, it was
    recorded `breached → met` (no working time had passed past the target). A breach is a
    breach: it stays breached. A reply at the deadline itself is met."""
    late = esc.ok("create", "--title", "B", "--category", "billing", "--body", "x",
                  now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    on_time = esc.ok("create", "--title", "C", "--category", "billing", "--body", "x",
                     now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("wait", late, "--reason", "r", "--by", "bob", now="2026-11-23T13:00:00+01:00")
    esc.ok("comment", on_time, "-m", "hi", "--by", "bob", now="2026-11-23T13:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-23T15:00:00+01:00")
    esc.ok("resolve", late, "--resolution", "ok", "--by", "bob", now="2026-11-24T10:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-24T11:00:00+01:00")
    text = (workspace / "tickets" / f"{late}.md").read_text()
    assert "first_response: {due: 2026-11-23T13:00:00+01:00, state: breached}" in text
    assert "sla.first_response: breached → met" not in text
    other = (workspace / "tickets" / f"{on_time}.md").read_text()
    assert "first_response: {due: 2026-11-23T13:00:00+01:00, state: met}" in other


def _capped(workspace: Path, rules: str) -> None:
    """rules.yaml with `max_actions_per_ticket: 1` and ``rules`` for its rules."""
    text = (workspace / "rules.yaml").read_text()
    start = text.index("rules:")
    (workspace / "rules.yaml").write_text(
        text[:start] + "max_actions_per_ticket: 1\nrules:\n" + rules
    )


def test_what_the_cap_holds_back_second_after_second_acts_as_sweeps_every_second_would(
    esc: Esc, workspace: Path
) -> None:
    """Four rules on one breach, one action an instant: held back once only, the third
    fired at the next sweep's --now (17:00) and the fourth at the sweep after, each said
    "skipped" though it acted.  Each acts a second after the one before, as sweeps every
    second would have them: 13:00:00, :01, :02, :03."""
    _capped(workspace, "".join(
        f"  - {{name: r{n}, when: {{sla: breached}}, then: {{tag: t{n}}}}}\n" for n in range(1, 5)
    ))  # fmt: skip
    ticket = esc.ok("create", "--title", "a", "--category", "billing",
                    now="2026-11-16T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-16T09:00:05+01:00")
    out = esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-16T17:00:00+01:00")
    assert "skipped" not in out
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    for n, second in enumerate(("00", "01", "02", "03"), 1):
        assert f"- 2026-11-16T13:00:{second}+01:00 · rule:r{n} · tagged · t{n}\n" in text


def test_what_the_cap_on_actions_stopped_acts_at_the_next_instant_whatever_the_gap(
    esc: Esc, workspace: Path
) -> None:
    """`max_actions_per_ticket: 1`: at the 10:00 breach the escalation acts and the raise
    waits. It waited for the next moment the replay visited: with sweeps at 08:01 and
    18:00 only, and the ticket resolved at 12:00, it never came (hourly sweeps raised it at
    10:01). It acts at the next instant, 10:00:01, as a sweep then would have."""
    _capped(
        workspace,
        "  - {name: breached-goes-up, when: {sla: breached, level: \"<3\"}, then: {escalate: up}}\n"
        "  - {name: breached-raise, when: {sla: breached, priority: \"<high\"},"
        " then: {priority: raise}}\n"
    )
    assert esc("validate").code == 0, esc("validate").err
    ticket = esc.ok("create", "--title", "A", "--category", "billing", "--body", "hi",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-23T09:01:00+01:00")
    esc.ok("resolve", ticket, "--resolution", "done", now="2026-11-24T12:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-24T18:00:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "priority: high\n" in text
    assert "· rule:breached-raise · priority: normal → high" in text
    # (the escalation opened the new ticket, as hourly sweeps wrote it: the resolve of the
    # next day, `new → resolved` on the file as it was, does not undo that line)
    assert "13:00:00+01:00 · rule:breached-goes-up · status: new → open\n" in text
    escalated = [ln for ln in text.splitlines() if "· rule:breached-" in ln and "escalation:" in ln]
    assert len(escalated) == 2
    first, second = (ln.split(" · ")[0].removeprefix("- ") for ln in escalated)
    assert dt.datetime.fromisoformat(second) - dt.datetime.fromisoformat(first) == (
        dt.timedelta(seconds=1)
    )


def test_a_request_a_person_declined_stays_declined_after_a_replayed_escalation(
    demo: Path,
) -> None:
    """Engineering asked at 10:00 and declined at 10:32 (ben); a catch-up sweep at 11:00
    replays the 10:15 breach's escalation to engineering, which answers its open request:
    it wrote the request `answered` by the rule at 10:15, ben's decline gone from it. A
    person's later close stands, as a field a person changed later keeps their value."""
    esc = Esc(demo)
    esc.ok("involve", "T-0m6", "--team", "engineering", "--ask", "x", "--by", "maya",
           now="2026-11-27T10:00:00+01:00")  # fmt: skip
    esc.ok("answer", "T-0m6", "--team", "engineering", "--decline", "-m", "Not ours",
           "--by", "ben", now="2026-11-27T10:32:00+01:00")  # fmt: skip
    out = esc.ok("sweep", "--no-notify", "--no-report", now="2026-11-27T11:00:00+01:00")
    assert "T-0m6b2xb7: support → engineering (breached-goes-up)" in out
    text = (demo / "tickets" / "T-0m6b2xb7.md").read_text()
    assert (
        "  - {asked: 2026-11-27T10:00:00+01:00, by: maya, team: engineering, state: declined,"
        " closed: 2026-11-27T10:32:00+01:00, closed_by: ben}\n"
    ) in text
    assert "rule:breached-goes-up · request answered by engineering" not in text


def test_a_request_asked_of_the_team_a_replayed_escalation_went_to_is_answered(
    esc: Esc, workspace: Path
) -> None:
    """Created Monday 09:00, never swept; its first response breaches at 13:00, when
    `breached-goes-up` escalates it to engineering.  At 15:00 a person (the file still
    says support) asks engineering; the catch-up sweep at 15:05 replays the escalation:
    the request, asked of the team that owned the ticket by then, is answered as it was
    asked, and no open request to the ticket's own team is left (a validate finding)."""
    ticket = esc.ok("create", "--title", "Refund for an add-on", "--category", "refund",
                    "--by", "maya", now="2026-12-07T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "x", "--by", "maya",
           now="2026-12-07T15:00:00+01:00")  # fmt: skip
    out = sweep_at(esc, "2026-12-07T15:05:00+01:00")
    assert f"{ticket}: support → engineering (breached-goes-up)" in out
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert (
        "  - {asked: 2026-12-07T15:00:00+01:00, by: maya, team: engineering, state: answered,"
        ' closed: 2026-12-07T15:00:00+01:00, closed_by: "rule:breached-goes-up"}\n'
    ) in text
    assert (
        "- 2026-12-07T15:00:00+01:00 · rule:breached-goes-up · request answered by engineering"
        " · the ticket was escalated to engineering\n"
    ) in text
    assert esc("validate").code == 0, esc("validate").err
    assert ", 0 changed" in sweep_at(esc, "2026-12-07T15:10:00+01:00")


def _edit_between_sweeps(
    esc: Esc, workspace: Path, old: str, new: str, resolve: bool = True
) -> str:
    """Created Monday 09:00 (first response 4h: breached at 13:00), swept at 09:05, then
    rules.yaml edited (``old`` → ``new``), resolved at 14:00 (``resolve``): the ticket."""
    ticket = esc.ok("create", "--title", "t", "--body", "b", "--category", "billing",
                    now="2026-11-30T09:00:00+01:00").strip()  # fmt: skip
    sweep_at(esc, "2026-11-30T09:05:00+01:00")
    rules = workspace / "rules.yaml"
    assert old in rules.read_text()
    rules.write_text(rules.read_text().replace(old, new))
    if resolve:
        esc.ok("resolve", ticket, "--resolution", "done", now="2026-11-30T14:00:00+01:00")
    return ticket


def test_an_edit_of_rules_yaml_between_sweeps_keeps_what_the_gap_would_have_done(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A note's text edited while no sweep ran: the breach in the gap (13:00) escalated
    under the rules of the last sweep, as sweeps then would have, though the ticket was
    resolved since (it was lost: the new rules evaluated at 18:00 alone, on a resolved
    ticket).  The ticket is then as if no edit was made, but for the version it records."""
    ticket = _edit_between_sweeps(esc, workspace, '"SLA breached, escalating"', '"Breached"')
    # (`esc explain` says what the sweep then does: at 13:00, under the last sweep's rules)
    told = esc.ok("explain", ticket, now="2026-11-30T18:00:00+01:00")
    assert "  2026-11-30T13:00:00+01:00  support → engineering (breached-goes-up)" in told
    out = sweep_at(esc, "2026-11-30T18:00:00+01:00")
    assert f"{ticket}: support → engineering (breached-goes-up)" in out
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-11-30T13:00:00+01:00 · rule:breached-goes-up · team: support → engineering" \
        " · hierarchical escalation: SLA breached, escalating\n" in text  # fmt: skip
    assert "  checked: 2026-11-30T18:00:00+01:00\n" in text and ".999999" not in text
    # the same without the edit, but for the version recorded
    other = tmp_path / "other"
    shutil.copytree(workspace, other, ignore=shutil.ignore_patterns(".esc-cache"))
    (other / "tickets" / f"{ticket}.md").unlink()
    unedited = Esc(other)
    (other / "rules.yaml").write_text(
        (other / "rules.yaml").read_text().replace('"Breached"', '"SLA breached, escalating"')
    )
    same = _edit_between_sweeps(unedited, other, "escalating", "escalating")
    sweep_at(unedited, "2026-11-30T18:00:00+01:00")
    theirs = (other / "tickets" / f"{same}.md").read_text().replace(same, ticket)
    ours = text.splitlines()
    versioned = ("rules:", "maintainers", STAMP)  # (the stamp's hash holds the version)
    assert [line for line in ours if not any(v in line for v in versioned)] == [
        line for line in theirs.splitlines() if not any(v in line for v in versioned)
    ]
    assert ", 0 changed" in sweep_at(esc, "2026-11-30T18:10:00+01:00")


@pytest.mark.parametrize("committed", [None, "2026-11-30T10:00:00+01:00", "2030-01-01T00:00"])
def test_a_fresh_clone_replays_a_gap_under_the_rules_git_kept_as_a_warm_sweep_does(
    esc: Esc, workspace: Path, tmp_path: Path, committed: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Issue 14: a cache never changes an outcome.  rules.yaml edited after the 09:05 sweep
    (and committed, or not): with .esc-cache the breach at 13:00 escalates under the rules
    of the last sweep, kept there; without it (a fresh clone, CI) the rules were evaluated
    at 18:00 alone, under the new ones: another instant and another note.  The earlier
    rules are taken from git's history of the two files, the new ones the sweeps' own from
    now whenever they were committed, as with the cache (audit helper-472; review
    helper-476: a commit at 10:00 made the new note the breach's, written in UTC)."""
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    ticket = _edit_between_sweeps(esc, workspace, '"SLA breached, escalating"', '"Breached"')
    git(workspace, "add", "tickets")
    git(workspace, "commit", "-qm", "swept")
    if committed is not None:
        monkeypatch.setenv("GIT_COMMITTER_DATE", committed)
        monkeypatch.setenv("GIT_AUTHOR_DATE", committed)
        git(workspace, "commit", "-qam", "a note's text")
        monkeypatch.delenv("GIT_COMMITTER_DATE")
        monkeypatch.delenv("GIT_AUTHOR_DATE")
    cold = tmp_path / "cold"
    shutil.copytree(workspace, cold, ignore=shutil.ignore_patterns(".esc-cache"))
    warm_out = sweep_at(esc, "2026-11-30T18:00:00+01:00")
    cold_out = sweep_at(Esc(cold), "2026-11-30T18:00:00+01:00")
    assert cold_out == warm_out
    assert files(cold) == files(workspace)
    text = (cold / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-11-30T13:00:00+01:00 · rule:breached-goes-up · team: support → engineering" \
        " · hierarchical escalation: SLA breached, escalating\n" in text  # fmt: skip


def test_a_fresh_clone_finds_each_earlier_configuration_and_lives_without_a_broken_history(
    esc: Esc, workspace: Path
) -> None:
    """Tickets last swept under two earlier configurations: each is found in git's history,
    not the first looked for alone (review helper-476); and a history whose blobs are
    missing (a partial clone offline) leaves the rules evaluated at now: no internal error."""
    from esc.domain.plan import sweep_version
    from esc.store.config_versions import Known
    from esc.store.workspace import Workspace

    git(workspace, "init", "-q", "-b", "main")
    rules = workspace / "rules.yaml"
    versions = []
    for note in ("one", "two", "three"):
        rules.write_text(re.sub(r'note: "[^"]*"', f'note: "{note}"', rules.read_text(), count=1))
        git(workspace, "add", "-A")
        git(workspace, "commit", "-qm", note)
        versions.append(sweep_version(Workspace(workspace).config()))
    assert len(set(versions)) == 3
    config = Workspace(workspace).config()
    now = dt.datetime(2026, 11, 30, 18, tzinfo=dt.timezone.utc)
    known = Known(workspace, config, now)
    found = [known._from_history(v) for v in (versions[1], versions[0])]
    assert [None if c is None else sweep_version(c) for c in found] == [versions[1], versions[0]]
    for line in git(workspace, "rev-list", "--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        if path == "rules.yaml":
            (workspace / ".git" / "objects" / sha[:2] / sha[2:]).unlink(missing_ok=True)
    assert Known(workspace, config, now)._from_history(versions[0]) is None


ALWAYS_RULES = """\
id_prefix: T
priorities: [low, normal, high, urgent]
default_priority: normal
calendars: {always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}}
sla:
  - {name: std, calendar: always, targets: {first_response: 1h, next_response: 30m, resolution: 8h}}
rules:
  - {name: breached-up, when: {sla: breached, level: "<3"}, then: {escalate: up, note: "Up"}}
"""


@pytest.mark.parametrize("edit", [False, True])
def test_a_ticket_settled_before_an_edit_and_reopened_after_it_is_replayed(
    esc: Esc, workspace: Path, edit: bool
) -> None:
    """Resolved before rules.yaml was edited (its block then names the old rules), reopened
    by the customer after it: the breach of its next response (11:30) escalated without
    the edit, and with it nothing did (judged at the sweep's now alone: the sweep that
    could replay the gap under the old rules could not run on a file changed since)."""
    (workspace / "rules.yaml").write_text(ALWAYS_RULES)
    ticket = esc.ok("create", "--title", "Fire", "--body", "x", "--category", "billing",
                    now="2026-10-19T09:00:00Z").strip()  # fmt: skip
    sweep_at(esc, "2026-10-19T09:00:00Z")
    esc.ok("resolve", ticket, "--resolution", "done", now="2026-10-19T09:10:00Z")
    sweep_at(esc, "2026-10-19T09:15:00Z")
    if edit:  # (a note's text: the same rules but for what they write)
        rules = workspace / "rules.yaml"
        rules.write_text(rules.read_text().replace('note: "Up"', 'note: "Up!"'))
    sweep_at(esc, "2026-10-19T10:00:00Z")
    esc.ok("comment", ticket, "--from-customer", "-m", "again", now="2026-10-19T11:00:00Z")
    esc.ok("comment", ticket, "-m", "on it", now="2026-10-19T12:00:00Z")
    out = sweep_at(esc, "2026-10-19T12:30:00Z")
    assert f"{ticket}: support → engineering (breached-up)" in out
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-10-19T11:30:00+00:00 · esc · sla.next_response: ok → breached\n" in text
    assert "- 2026-10-19T11:30:00+00:00 · rule:breached-up · team: support → engineering" in text


def test_a_rule_added_between_sweeps_acts_at_now_not_in_the_gap(
    esc: Esc, workspace: Path
) -> None:
    """The rule a breach in the gap would have fired did not exist then: under the last
    sweep's rules (no rule on breaches) the gap does nothing, and the new rule acts at
    the sweep's instant, never stamped before the edit."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("name: breached-goes-up", "name: x-unused", 1)
                     .replace("when: {sla: breached, level: \"<3\"}", "when: {sla: paused}", 1))
    ticket = _edit_between_sweeps(esc, workspace, "name: x-unused", "name: breached-goes-up",
                                  resolve=False)  # fmt: skip
    rules.write_text(rules.read_text().replace("when: {sla: paused}",
                                               "when: {sla: breached, level: \"<3\"}", 1))
    out = sweep_at(esc, "2026-11-30T18:00:00+01:00")
    assert f"{ticket}: support → engineering (breached-goes-up)" in out
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-11-30T18:00:00+01:00 · rule:breached-goes-up · team: support → engineering" \
        in text  # fmt: skip
    assert "13:00:00+01:00 · rule:" not in text


def test_a_team_renamed_between_sweeps_still_lets_the_ticket_be_swept(
    esc: Esc, workspace: Path
) -> None:
    """management renamed mgmt: the gap replayed under the last sweep's rules escalated to
    `management`, which the new teams.yaml refuses, so no sweep could ever write the
    ticket again (exit 1 each time).  The rules act at now, as without the old rules."""
    ticket = esc.ok("create", "--title", "Down", "--category", "bug", "--priority", "urgent",
                    now="2026-11-30T10:00:00+01:00").strip()  # fmt: skip
    sweep_at(esc, "2026-11-30T10:05:00+01:00")
    teams = workspace / "teams.yaml"
    teams.write_text(teams.read_text().replace("management", "mgmt"))
    assert esc("validate").code == 0, esc("validate").err
    out = sweep_at(esc, "2026-11-30T11:00:00+01:00")
    assert f"{ticket}: engineering → mgmt (breached-goes-up)" in out
    assert ", 0 changed" in sweep_at(esc, "2026-11-30T11:05:00+01:00")


def test_a_ticket_created_in_the_gap_is_replayed_under_the_rules_of_its_time(
    esc: Esc, workspace: Path
) -> None:
    """Swept at 09:05; a ticket created at 10:00; rules.yaml's note edited; one sweep at
    17:05: the ticket (never swept) was replayed under the new rules from its creation,
    its 14:00 escalation stamped with the new note, before the edit.  It is replayed under
    the rules the sweeps ran under then, as the tickets swept at 09:05 are."""
    esc.ok("create", "--title", "first", "--category", "billing",
           now="2026-11-30T09:00:00+01:00")  # fmt: skip
    sweep_at(esc, "2026-11-30T09:05:00+01:00")
    ticket = esc.ok("create", "--title", "second", "--category", "billing",
                    now="2026-11-30T10:00:00+01:00").strip()  # fmt: skip
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("SLA breached, escalating", "NEW NOTE"))
    sweep_at(esc, "2026-11-30T17:05:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-11-30T14:00:00+01:00 · rule:breached-goes-up · team: support → engineering" \
        " · hierarchical escalation: SLA breached, escalating\n" in text  # fmt: skip
    assert "NEW NOTE" not in text


def test_a_rule_deleted_long_ago_never_acts_on_a_ticket_reopened_since(
    esc: Esc, workspace: Path
) -> None:
    """A resolved ticket keeps the version of the sweep that last wrote it; reopened eight
    days after a rule was deleted (four sweeps under the new rules.yaml since), it was
    replayed under the old rules and the deleted rule escalated it.  The old rules' gap
    ends when the new ones became the sweeps' own here; they act from then."""
    rules = workspace / "rules.yaml"
    extra = ('  - {name: reopened-up, when: {status: open, level: "<2"}, then: {escalate: up,'
             ' note: "old rule"}}\n')  # fmt: skip
    rules.write_text(rules.read_text() + extra)
    ticket = esc.ok("create", "--title", "t", "--category", "billing",
                    now="2026-03-02T09:00:00+01:00").strip()  # fmt: skip
    sweep_at(esc, "2026-03-02T09:05:00+01:00")
    esc.ok("resolve", ticket, "--resolution", "done", now="2026-03-02T10:00:00+01:00")
    sweep_at(esc, "2026-03-02T10:05:00+01:00")
    rules.write_text(rules.read_text().replace(extra, ""))
    for day in ("03", "04", "05", "06"):
        sweep_at(esc, f"2026-03-{day}T09:00:00+01:00")
    esc.ok("reopen", ticket, "--reason", "again", now="2026-03-10T12:00:00+01:00")
    out = sweep_at(esc, "2026-03-10T12:05:00+01:00")
    assert "reopened-up" not in out
    assert "old rule" not in (workspace / "tickets" / f"{ticket}.md").read_text()


def test_a_ticket_with_a_value_only_the_new_configuration_has_is_not_replayed_under_the_old(
    esc: Esc, workspace: Path
) -> None:
    """Priorities gained `critical`, given to a ticket: under the last sweep's rules it
    fell to the standard policy, breached at 13:00 and escalated, stamped 13:00, under a
    policy it never had.  The new rules act at now."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing",
                    now="2026-11-30T09:00:00+01:00").strip()  # fmt: skip
    sweep_at(esc, "2026-11-30T09:05:00+01:00")
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("priorities: [low, normal, high, urgent]",
                                               "priorities: [low, normal, high, urgent, critical]"))
    assert esc("validate").code == 0, esc("validate").err
    esc.ok("classify", ticket, "--priority", "critical", now="2026-11-30T09:30:00+01:00")
    sweep_at(esc, "2026-11-30T18:00:00+01:00")
    assert "13:00:00+01:00 · rule:" not in (workspace / "tickets" / f"{ticket}.md").read_text()


def test_without_the_last_sweep_s_configuration_kept_the_rules_act_at_now(
    esc: Esc, workspace: Path
) -> None:
    """A fresh clone (no .esc-cache): what the last sweep ran under is not known, so the
    rules are evaluated at now alone, as the README says."""
    ticket = _edit_between_sweeps(esc, workspace, '"SLA breached, escalating"', '"Breached"')
    shutil.rmtree(workspace / ".esc-cache")
    out = sweep_at(esc, "2026-11-30T18:00:00+01:00")
    assert "breached-goes-up" not in out
    assert "team: support\n" in (workspace / "tickets" / f"{ticket}.md").read_text()


def test_a_ticket_no_policy_applies_to_ends_the_same_whenever_sweeps_ran(
    tmp_path: Path,
) -> None:
    """Only urgent tickets have a policy; `nag` notes a ticket older than an hour, again
    every 2h.  A normal ticket (no policy) created at 09:00: one sweep at 15:00 noted it
    once, at 15:00, and sweeps at 10:30, 11:00, 13:00 and 15:00 at each of those: now
    both note it at 10:00:01, 12:00:01 and 14:00:01, as sweeping every instant would."""
    rules = (
        'priorities: [low, normal, high, urgent]\ndefault_priority: normal\n'
        'calendars:\n  office: {timezone: Europe/Berlin, hours: {mon-fri: "09:00-17:00"}}\n'
        'sla:\n  - name: urgent\n    when: {priority: urgent}\n    calendar: office\n'
        '    targets: {resolution: 4h}\n'
        'rules:\n  - name: nag\n    when: {age: ">1h"}\n    then: {note: nagnote}\n'
        '    repeat: 2h\n'
    )
    texts = {}
    for name, sweeps in (("once", ["15:00"]), ("often", ["10:30", "11:00", "13:00", "15:00"])):
        root = tmp_path / name
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        (root / "rules.yaml").write_text(rules)
        desk = Esc(root)
        ticket = desk.ok("create", "--title", "nopol", "--body", "x", "--category", "how-to",
                         now="2027-01-06T09:00:00+01:00").strip()  # fmt: skip
        for at in sweeps:
            sweep_at(desk, f"2027-01-06T{at}:00+01:00")
        texts[name] = (root / "tickets" / f"{ticket}.md").read_text().replace(ticket, "T")
        notes = [line for line in texts[name].splitlines() if "rule:nag · internal note" in line]
        assert [line[2:27] for line in notes] == [
            "2027-01-06T10:00:01+01:00", "2027-01-06T12:00:01+01:00",
            "2027-01-06T14:00:01+01:00",
        ], name  # fmt: skip
    assert texts["once"] == texts["often"]


def test_a_blockless_ticket_of_a_workspace_an_older_esc_swept_is_evaluated_at_now(
    esc: Esc, workspace: Path
) -> None:
    """An older esc wrote a ticket no policy applies to no `sla:` block: in a workspace
    whose sweeps have kept no configuration yet (the first sweep after the upgrade), such
    a ticket may have been swept all along, and is evaluated at now (a rule added since,
    replayed from its creation, escalated it twice, stamped days back); once this esc's
    sweeps ran there, one without a block was never swept, and is replayed."""
    rules = workspace / "rules.yaml"
    text = rules.read_text().replace("    calendar: office\n", "    when: {priority: normal}\n"
                                     "    calendar: office\n", 1)  # fmt: skip
    text += '  - name: idle-goes-up\n    when: {idle: ">3d"}\n    then: {escalate: up}\n'
    rules.write_text(text)
    assert esc("validate").code == 0, esc("validate").err
    old = esc.ok("create", "--title", "Old", "--priority", "low", "--category", "billing",
                 now="2026-11-02T10:00:00+01:00").strip()  # fmt: skip
    shutil.rmtree(workspace / ".esc-cache")  # (as an older esc left the workspace)
    out = sweep_at(esc, "2026-11-12T10:00:00+01:00")
    assert f"{old}: support → engineering (idle-goes-up)" in out
    assert "2026-11-12T10:00:00+01:00 · rule:idle-goes-up · team: support → engineering" in (
        workspace / "tickets" / f"{old}.md"
    ).read_text()
    assert "engineering → management" not in out
    new = esc.ok("create", "--title", "New", "--priority", "low", "--category", "billing",
                 now="2026-11-12T11:00:00+01:00").strip()  # fmt: skip
    out = sweep_at(esc, "2026-11-16T12:00:00+01:00")
    assert "2026-11-15T11:00:01+01:00 · rule:idle-goes-up · team: support → engineering" in (
        workspace / "tickets" / f"{new}.md"
    ).read_text()


def test_rules_that_undo_each_other_under_the_cap_are_not_replayed_every_second(
    esc: Esc, workspace: Path
) -> None:
    """The cap on actions contains rules that undo each other; what it held back acting
    a second later, again and again, replayed such a ticket once a second until now (451
    rule lines for a sweep five minutes after its creation; a sweep three hours later
    never ended). The next instant is visited once per moment."""
    _capped(
        workspace,
        "  - {name: down, when: {priority: high}, then: {priority: low}}\n"
        "  - {name: up, when: {priority: low}, then: {priority: high}}\n"
    )
    ticket = esc.ok("create", "--title", "A", "--category", "billing", "--priority", "high",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-23T12:00:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert 0 < sum("· rule:" in line for line in text.splitlines()) <= 4


def test_a_sweep_in_the_repeated_hour_writes_replayed_moments_in_the_helpdesk_s_zone(
    esc: Esc, workspace: Path
) -> None:
    """`--now 2026-10-25T02:40:00+01:00` is the second 02:40 in Berlin: its zone was taken
    for none of the calendars' (their offset read at the wall clock 02:40, the first one,
    +02:00), and a moment of 00:30+02:00 was written 23:30+01:00 the day before."""
    _dst_workspace(workspace, "  - {name: warn-tag, when: {sla: warning}, then: {tag: w}}\n")
    ticket = esc.ok("create", "--title", "x", "--category", "data", "--body", "x",
                    now="2026-10-25T00:30:00+02:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-10-25T02:40:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-10-25T00:30:00+02:00 · esc · sla.policy: — → data24" in text
    assert "2026-10-24T23:30:00+01:00" not in text


def test_what_the_cap_held_back_at_a_sweep_s_own_instant_acts_a_second_later(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The cap reached at the sweep's own `--now` (a 5-minute cron on a round-minute
    deadline): what it held back was never done (the next sweep starts after it), where
    without that sweep it acted a second later."""
    _capped(
        workspace,
        "  - {name: r-tag, when: {status: pending}, then: {tag: waiting}}\n"
        "  - {name: r-note, when: {status: pending}, then: {note: on hold}}\n"
    )
    ticket = esc.ok("create", "--title", "t", "--body", "b", "--category", "billing",
                    now="2026-03-02T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("wait", ticket, "--reason", "r", now="2026-03-02T10:05:00+01:00")
    once = tmp_path / "once"
    shutil.copytree(workspace, once)
    for folder, swept_at_the_wait in ((workspace, True), (once, False)):
        desk = Esc(folder)
        if swept_at_the_wait:
            desk.ok("sweep", "--no-report", now="2026-03-02T10:05:00+01:00")
        desk.ok("resume", ticket, now="2026-03-02T10:30:00+01:00")
        desk.ok("sweep", "--no-report", now="2026-03-02T12:00:00+01:00")
        text = (folder / "tickets" / f"{ticket}.md").read_text()
        assert "- 2026-03-02T10:05:00+01:00 · rule:r-tag · tagged · waiting\n" in text, folder
        assert "- 2026-03-02T10:05:01+01:00 · rule:r-note · internal note added\n" in text, folder


@pytest.mark.parametrize("capped", [False, True], ids=["", "capped"])
@pytest.mark.parametrize("command", ["resolve", "close", "comment"])
def test_a_change_in_the_second_of_the_last_sweep_is_logged_at_its_instant(
    tmp_path: Path, command: str, capped: bool
) -> None:
    """A sweep at 10:20:00, then alice's resolve in the same second (after it): the next
    sweep, at 10:25, logged `sla.first_response: ok → met` (and the resolution's) at 10:25,
    its own --now, not at 10:20:00, the instant of the change (a settled ticket whose
    `updated` is its `checked` was taken as one that sweep had seen).  A reply was logged
    at its instant; so was a resolve if the first sweep ran at 10:19:59.  With more rules
    than `max_actions_per_ticket` (none of which acts here), both were logged at 10:20:01.
    The file is the same whichever second the first sweep ran in, but for `checked`."""
    rules = ALWAYS_OPEN + """\
sla:
  - name: urgent
    calendar: always
    targets: {first_response: 30m, resolution: 2h}
"""
    if capped:
        rules += (
            "max_actions_per_ticket: 1\nrules:\n"
            "  - {name: a, when: {sla: breached}, then: {tag: a}}\n"
            "  - {name: b, when: {sla: breached}, then: {tag: b}}\n"
        )
    did = {"resolve": ("resolve", "--resolution", "r"), "close": ("close", "--resolution", "r"),
           "comment": ("comment", "-m", "hi")}[command]  # fmt: skip
    texts = {}
    for first in ("10:19:59", "10:20:00"):
        root = tmp_path / first.replace(":", "")
        Esc(tmp_path).ok("init", str(root))
        (root / "rules.yaml").write_text(rules)
        desk = Esc(root)
        ticket = desk.ok("create", "--title", "x", "--category", "billing", "--body", "b",
                         now="2026-11-02T10:00:00+01:00").strip()  # fmt: skip
        desk.ok("sweep", "--no-report", "--no-notify", now=f"2026-11-02T{first}+01:00")
        desk.ok(did[0], ticket, *did[1:], "--by", "alice", now="2026-11-02T10:20:00+01:00")
        desk.ok("sweep", "--no-report", "--no-notify", now="2026-11-02T10:25:00+01:00")
        text = (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
        assert "- 2026-11-02T10:20:00+01:00 · esc · sla.first_response: ok → met\n" in text
        texts[first] = [line for line in text.replace(ticket, "T-ID").splitlines()
                        if not line.startswith("  checked:")]  # fmt: skip
    assert texts["10:20:00"] == texts["10:19:59"]


def test_a_ticket_intake_wrote_and_someone_removed_is_not_called_theirs_to_commit(
    esc: Esc, workspace: Path
) -> None:
    """Intake wrote a ticket (journalled, for the next committing sweep); someone removed
    it: every sweep after said "changed since the sweep wrote it; not committed (yours to
    commit)" of a file that is not there."""
    committed_repo(esc, workspace, "Invoice missing")
    out = esc.ok("intake", "--json", "-", input='{"title": "web", "customer": "w@x.example",'
                 ' "body": "hi"}', now="2026-11-20T10:00:00+01:00")  # fmt: skip
    ticket = out.split("new ticket ")[1].split(",")[0]
    (workspace / "tickets" / f"{ticket}.md").unlink()
    for now in ("2026-11-20T10:05:00+01:00", "2026-11-20T10:10:00+01:00"):
        result = esc("sweep", "--commit", "--no-report", now=now)
        assert result.code == 0, result.err
        assert ticket not in result.out + result.err


def test_a_late_sweep_never_writes_a_line_in_a_person_s_name_they_did_not_make(
    esc: Esc, workspace: Path
) -> None:
    """A rule assigned the lead at 10:00:01 (replayed by a sweep at 12:00); at 11:00 alice
    assigned bob, then re-routed the ticket (which unassigned bob, as her command logged).
    The sweep wrote `11:00 · alice · assignee: carol → —`, a change alice never made (her
    own assignment had replaced the rule's before her move)."""
    rules = (workspace / "rules.yaml").read_text()
    rules = rules[: rules.index("rules:")] + (
        "rules:\n  - name: unassigned-high-at-l1\n"
        '    when: {priority: ">=high", assignee: null, idle: ">1h"}\n'
        "    then: {assign: lead}\n"
    )
    (workspace / "rules.yaml").write_text(rules)
    ticket = esc.ok("create", "--title", "x", "--priority", "high", "--category", "billing",
                    "--by", "alice", now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("assign", ticket, "bob", "--by", "alice", now="2026-11-23T11:00:00+01:00")
    esc.ok("classify", ticket, "--category", "bug", "--by", "alice",
           now="2026-11-23T11:00:00+01:00")  # fmt: skip
    before = (workspace / "tickets" / f"{ticket}.md").read_text()
    esc.ok("sweep", "--no-report", now="2026-11-23T12:00:00+01:00")
    after = (workspace / "tickets" / f"{ticket}.md").read_text()
    alice = [line for line in after.splitlines() if " · alice · " in line]
    assert alice == [line for line in before.splitlines() if " · alice · " in line]


def test_a_retried_push_says_no_held_back_news_the_remote_has_made_already(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The first attempt held back a ticket with a person's uncommitted comment, and said
    on stderr that its escalation waits; the remote (another clone's sweep) had escalated
    it already, and after the rebase nothing waits: cron mailed a stale line."""
    held, _ = committed_repo(esc, workspace, "Invoice missing", "Refund late")
    esc.ok("install-git")
    for key, value in (("user.name", "esc sweep"), ("user.email", "esc@example.com")):
        git(workspace, "config", key, value)
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    for key, value in (("user.name", "other"), ("user.email", "other@example.com")):
        git(other, "config", key, value)
    Esc(other).ok("install-git")
    Esc(other).ok("sweep", "--push", "--no-report", now="2026-11-20T13:00:00+01:00")
    esc.ok("comment", held, "--internal", "-m", "looking", now="2026-11-20T12:00:00+01:00")
    result = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert result.code == 0, result.err
    assert "team: engineering" in (workspace / "tickets" / f"{held}.md").read_text()
    assert "held back until the ticket is committed" not in result.err, result.out + result.err


def test_a_breach_ended_by_a_priority_lowered_before_any_sweep_is_logged_and_reported(
    esc: Esc, workspace: Path
) -> None:
    """A ticket breached under one policy, then lowered to a priority no policy covers,
    answered and resolved, all before any sweep ran: the sweep after that left it alone (no
    policy applied at its instant), so no log line, and no report, ever told of the breach;
    the same history swept in between did.  It is replayed from its creation, as any
    never-swept ticket a policy once applied to."""
    rules = workspace / "rules.yaml"
    text = rules.read_text().replace(
        "  - name: standard\n", '  - name: standard\n    when: {priority: ">low"}\n', 1
    )
    rules.write_text(text[: text.index("\nrules:")] + "\nrules: []\n")
    ticket = esc.ok(
        "create", "--title", "Slow export", "--priority", "normal",
        now="2026-11-02T09:00:00+01:00",
    ).strip()  # fmt: skip
    esc.ok("classify", ticket, "--priority", "low", now="2026-11-03T10:00:00+01:00")
    esc.ok("comment", ticket, "-m", "Looking into it", now="2026-11-03T11:00:00+01:00")
    esc.ok("resolve", ticket, "--resolution", "Fixed", now="2026-11-03T12:00:00+01:00")
    esc.ok("sweep", "--no-notify", now="2026-11-10T12:00:00+01:00")
    log = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "- 2026-11-02T13:00:00+01:00 · esc · sla.first_response: warning → breached\n" in log
    reselected = "- 2026-11-03T10:00:00+01:00 · esc · sla.policy: standard → — · policy re-selected"
    assert reselected + "\n" in log
    period = ("--since", "2026-11-02", "--until", "2026-11-08")
    out = esc.ok("report", "--format", "json", *period, now="2026-11-10T12:00:00+01:00")
    report = json.loads(out)
    assert report["totals"]["breaches"] == 1
    assert report["sla"]["compliance"]["overall"]["breached"] == 1


def test_a_ticket_swept_often_or_once_a_day_is_the_same_file_but_for_checked(
    tmp_path: Path,
) -> None:
    """A person replies between two sweeps: swept every hour, the sweep's lines of 09:00
    (and its rule's note of the breach) came before the reply's; swept once the next day,
    after it, so the files differed in the order of their lines and entries (issue 3's
    audit).  Each goes where sweeps at each moment would have put it."""
    files = {}
    for cadence in ("hourly", "daily"):
        root = tmp_path / cadence
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        rules = root / "rules.yaml"  # (every clock on a 24/7 calendar: a breach overnight)
        rules.write_text(rules.read_text().replace("calendar: office", "calendar: always"))
        esc = Esc(root)
        ticket = esc.ok("create", "--title", "Refund", "--category", "billing", "--priority",
                        "high", now="2026-12-14T09:00:00+01:00").strip()  # fmt: skip
        times = [f"2026-12-14T{h:02}:00:00+01:00" for h in range(10, 24)]
        if cadence == "hourly":
            esc.ok("sweep", "--no-report", now="2026-12-14T09:05:00+01:00")
        esc.ok("comment", ticket, "-m", "On it", "--internal", now="2026-12-14T09:10:00+01:00")
        for now in times if cadence == "hourly" else []:
            esc.ok("sweep", "--no-report", now=now)
        # (a note: a reply then would open the ticket the rule's escalation had opened the
        # day before, as written by the hourly sweeps; the README's "person acted before the
        # replay" tells why that one differs)
        esc.ok("comment", ticket, "-m", "Still on it", "--internal",
               now="2026-12-15T11:00:00+01:00")  # fmt: skip
        esc.ok("sweep", "--no-report", now="2026-12-15T12:00:00+01:00")
        text = (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
        files[cadence] = text.replace(ticket, "T-ID")
    assert "rule:breached-goes-up · internal note added" in files["daily"]
    assert files["hourly"] == files["daily"]


def test_a_replayed_escalation_goes_before_one_a_person_made_since(tmp_path: Path) -> None:
    """The front-matter's `escalations:` list too: a person's priority escalation on
    Tuesday came before the rule's escalation of Monday that the next day's sweep replayed
    (issue 14's audit); swept hourly, the rule's came first."""
    files = {}
    for cadence in ("hourly", "daily"):
        root = tmp_path / cadence
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        esc = Esc(root)
        ticket = esc.ok("create", "--title", "Slow page", "--category", "bug", "--body", "x",
                        now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
        esc.ok("sweep", "--no-report", now="2026-11-23T09:05:00+01:00")
        for hour in range(10, 18) if cadence == "hourly" else []:
            esc.ok("sweep", "--no-report", now=f"2026-11-23T{hour}:00:00+01:00")
        esc.ok("escalate", ticket, "--priority", "urgent", "--reason", "now bad",
               now="2026-11-24T15:00:00+01:00")  # fmt: skip
        esc.ok("sweep", "--no-report", now="2026-11-25T12:00:00+01:00")
        text = (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
        assert text.index('by: "rule:breached-goes-up"') < text.index("by: alice"), cadence
        files[cadence] = text.replace(ticket, "T-ID").split("\nsla:\n")[0]
    assert files["hourly"] == files["daily"]


def test_a_replayed_tag_goes_before_one_a_person_added_since(tmp_path: Path) -> None:
    """`tags:` too: a rule's tag of 09:00:01 that a late sweep replays goes before the tag
    a person added at 09:20 (issue 14's audit: `[hot, aging]` against `[aging, hot]`)."""
    tags = {}
    for cadence in ("often", "late"):
        root = tmp_path / cadence
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        rules = root / "rules.yaml"
        rules.write_text(rules.read_text().replace(
            "rules:", "rules:\n  - name: aging\n    when: {age: '>1d'}\n    then: {tag: aging}", 1
        ))  # fmt: skip
        esc = Esc(root)
        ticket = esc.ok("create", "--title", "Old one", "--category", "billing",
                        now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
        esc.ok("sweep", "--no-report", now="2026-11-23T09:05:00+01:00")
        if cadence == "often":
            esc.ok("sweep", "--no-report", now="2026-11-24T09:10:00+01:00")
        esc.ok("tag", ticket, "hot", now="2026-11-24T09:20:00+01:00")
        esc.ok("sweep", "--no-report", now="2026-11-24T12:00:00+01:00")
        tags[cadence] = Esc(root).ok("show", ticket, "--json", now="2026-11-24T12:00:00+01:00")
        tags[cadence] = json.loads(tags[cadence])["tags"]
    assert tags["often"] == tags["late"] == ["aging", "hot"]


def test_after_rules_yaml_changed_twice_a_sweep_without_the_cache_does_what_one_with_it_does(
    demo: Path,
) -> None:
    """Targets cut, swept, put back (or another edit), swept: a sweep without
    `.esc-cache/tickets.sqlite` then escalated tickets again for the breach their rule had
    fired on (its deadline, under the targets put back, after the firing), and rewrote
    every settled ticket for its `checked` and `rules` alone; one with the cache did
    neither.  Deleting the cache changes nothing but speed."""
    desk = Esc(demo)
    rules = demo / "rules.yaml"
    original = rules.read_text()
    desk.ok("sweep", "--no-report", now="2026-11-27T10:00:00+01:00")
    rules.write_text(original.replace("first_response: 4h, next_response: 8h",
                                      "first_response: 1h, next_response: 2h"))  # fmt: skip
    desk.ok("sweep", "--no-report", now="2026-11-27T17:30:00+01:00")
    for edit in ("back", "warn_at"):
        copy = demo.parent / f"copy-{edit}"
        shutil.copytree(demo, copy)
        changed = original if edit == "back" else original.replace("warn_at: 75%", "warn_at: 70%")
        (copy / "rules.yaml").write_text(changed)
        Esc(copy).ok("sweep", "--no-report", now="2026-11-30T09:30:00+01:00")
        cached = Esc(copy).ok("sweep", "--no-report", "--dry-run", now="2026-11-30T09:31:00+01:00")
        for stale in (copy / ".esc-cache").glob("tickets.sqlite*"):
            stale.unlink()
        cold = Esc(copy).ok("sweep", "--no-report", "--dry-run", now="2026-11-30T09:31:00+01:00")
        assert cold == cached, edit
        assert "would change" in cold and "breached-goes-up" not in cold, cold


def test_an_edit_of_targets_is_not_stamped_before_it_in_blocks_without_rules(demo: Path) -> None:
    """The demo's `sla:` blocks hold no `rules:` (an older esc's, or written by hand): a
    first sweep that changed nothing added none, and after targets were cut the next sweep
    replayed them under the new ones from their `checked`, escalating at 11:00 for an edit
    made after the 09:05 sweep.  The sweeps here know the 09:05 sweep ran under the old
    rules.yaml: such a block is that one's, and the new targets act from the edit on."""
    desk = Esc(demo)
    desk.ok("sweep", "--no-report", now="2026-11-27T09:05:00+01:00")
    control = demo.parent / "unedited"
    shutil.copytree(demo, control)
    rules = demo / "rules.yaml"
    cut = rules.read_text().replace("first_response: 4h, next_response: 8h",
                                    "first_response: 2h, next_response: 8h")  # fmt: skip
    rules.write_text(cut)

    def escalated(root: Path) -> list[tuple[str, str]]:
        out = Esc(root).ok("sweep", "--no-report", "--json", now="2026-11-27T12:00:00+01:00")
        actions = json.loads(out)["actions"]
        return sorted((a["id"], a["at"]) for a in actions if a["action"] == "escalate")

    edited, unedited = escalated(demo), escalated(control)
    before = "2026-11-27T12:00:00+01:00"
    # (before the edit, what the old targets made, and nothing more; the rest at the edit)
    assert [e for e in edited if e[1] < before] == [e for e in unedited if e[1] < before]
    assert len(edited) > len(unedited)
    assert all(at == before for ticket, at in edited if (ticket, at) not in unedited)


@pytest.mark.parametrize("cold", [False, True])
def test_a_breach_a_new_rule_s_priority_makes_at_now_is_escalated_again(
    esc: Esc, workspace: Path, cold: bool
) -> None:
    """Escalated at the first response's breach (13:00); a rule added at 14:00 makes how-to
    tickets urgent, whose policy's resolution target (4h) has passed: the resolution clock
    breached at 14:10, by that change, another breach than the one the rule fired on. It
    was never escalated, however often sweeps ran since (the rules evaluated at now alone
    had no ticket "just before" to tell the breach was new), with or without the cache."""
    ticket = esc.ok("create", "--title", "a", "--category", "how-to", "--body", "b",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    assert f"{ticket}: support → engineering" in sweep_at(esc, "2026-11-23T13:30:00+01:00")
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + "  - {name: howto-urgent, when: {category: how-to},"
                     " then: {priority: urgent}}\n")  # fmt: skip
    if cold:
        shutil.rmtree(workspace / ".esc-cache")
    out = sweep_at(esc, "2026-11-23T14:10:00+01:00")
    assert f"{ticket}: normal → urgent (howto-urgent)" in out
    assert f"{ticket}: engineering → management (breached-goes-up)" in out
    assert sweep_at(esc, "2026-11-23T14:20:00+01:00").startswith("1 tickets seen, 0 changed")


IDLE_PING = """\
rules:
  - name: idle-ping
    when: {idle: ">2h"}
    then: {notify: chat}
    repeat: 3h
notify:
  targets:
    chat: "json://127.0.0.1:9/x"
"""


def test_a_rule_s_notify_line_is_no_update_of_the_ticket_however_sweeps_ran(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """`idle: ">2h"` with `repeat: 3h`: a replay across a gap, after a person's change, took
    the rule's own `notified` line (10:00:01) for an update and fired it again at 12:00:02,
    which hourly sweeps never did: the ticket differed by cadence."""
    rules = workspace / "rules.yaml"
    text = rules.read_text()
    rules.write_text(text[: text.index("rules:")] + IDLE_PING)
    sweep_at(esc, "2026-12-07T07:59:00+01:00")
    ticket = esc.ok("create", "--title", "x", "--body", "y", "--category", "account",
                    now="2026-12-07T08:00:00+01:00").strip()  # fmt: skip
    other = tmp_path / "hourly"
    shutil.copytree(workspace, other)
    hourly = Esc(other)
    sweep_at(esc, "2026-12-07T10:18:00+01:00")
    esc.ok("tag", ticket, "a", now="2026-12-07T12:34:00+01:00")
    sweep_at(esc, "2026-12-07T20:01:00+01:00")
    for hour in range(8, 21):
        if hour == 13:
            hourly.ok("tag", ticket, "a", now="2026-12-07T12:34:00+01:00")
        sweep_at(hourly, f"2026-12-07T{hour:02}:05:00+01:00")
    lines = [
        [line for line in (root / "tickets" / f"{ticket}.md").read_text().splitlines()
         if "· notified ·" in line]
        for root in (workspace, other)
    ]  # fmt: skip
    assert lines[0] == lines[1] == [
        "- 2026-12-07T10:00:01+01:00 · rule:idle-ping · notified · chat",
        "- 2026-12-07T14:34:01+01:00 · rule:idle-ping · notified · chat",
    ]


NO_POLICY_RULES = ALWAYS_OPEN + """\
sla:
  - name: urgent
    when: {priority: urgent}
    calendar: always
    targets: {first_response: 30m}
rules:
  - name: age-raise
    when: {age: ">5h", priority: "<urgent", status: [new, open]}
    then: {priority: raise}
  - name: idle-note
    when: {idle: ">2h", status: [new, open, pending]}
    then: {note: "idle"}
"""


def test_a_ticket_no_policy_applies_to_reopened_between_sweeps_keeps_its_past(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Issue 14's audit: created at 09:10, resolved the next morning and reopened, all
    between two sweeps, a ticket no policy applies to lost what its rules would have done
    while it was open (they acted at now alone), where a sweep each hour raised its
    priority at 14:10:01 and noted it idle every two hours. Replayed from its creation, it
    is the same whatever the cadence."""
    reopened = True
    (workspace / "rules.yaml").write_text(NO_POLICY_RULES)
    esc.ok("sweep", "--no-report", now="2026-12-07T08:00:00+01:00")
    ticket = esc.ok("create", "--title", "bug1", "--category", "bug", "--body", "b",
                    now="2026-12-07T09:10:00+01:00").strip()  # fmt: skip
    hourly = tmp_path / "hourly"
    shutil.copytree(workspace, hourly)
    every = Esc(hourly)
    moments = [f"2026-12-07T{h:02d}:00:00+01:00" for h in range(10, 24)] + [
        f"2026-12-08T{h:02d}:00:00+01:00" for h in range(0, 8)
    ]

    def people(desk: Esc) -> None:
        desk.ok("resolve", ticket, "--resolution", "x", "--by", "dan",
                now="2026-12-08T08:00:00+01:00")  # fmt: skip
        if reopened:
            desk.ok("reopen", ticket, "--reason", "x", "--by", "dan",
                    now="2026-12-08T10:00:00+01:00")  # fmt: skip

    for moment in moments:
        every.ok("sweep", "--no-report", now=moment)
    people(every)
    every.ok("sweep", "--no-report", now="2026-12-08T12:00:00+01:00")
    people(esc)
    esc.ok("sweep", "--no-report", now="2026-12-08T12:00:00+01:00")

    def rules_did(root: Path) -> list[str]:
        text = (root / "tickets" / f"{ticket}.md").read_text()
        return [line for line in text.splitlines() if " · rule:" in line]

    once = rules_did(workspace)
    assert once == rules_did(hourly)
    assert any("2026-12-07T14:10:01+01:00 · rule:age-raise · priority: normal → high" in line
               for line in once), once  # fmt: skip
    assert sum("rule:idle-note" in line for line in once) >= 5


def test_a_tag_a_person_gave_after_a_rule_gave_it_in_the_gap_is_listed_once(
    esc: Esc, workspace: Path
) -> None:
    """Issue 14's audit: the warning at 08:33 tags the ticket `warned` (a rule); bob tags it
    so at 08:41 before any sweep saw the warning; the sweep at 09:00 replayed the rule's
    tag on top of bob's: `tags:` listed `warned` twice. Both taggings stay in the log."""
    rules = NO_POLICY_RULES.replace(
        "sla:\n  - name: urgent\n    when: {priority: urgent}\n    calendar: always\n"
        "    targets: {first_response: 30m}\n",
        "sla:\n  - name: std\n    calendar: always\n    targets: {first_response: 1h}\n"
        "    warn_at: 50%\n",
    ).replace("rules:\n", "rules:\n  - name: warn-tag\n    when: {sla: warning}\n"
              "    then: {tag: warned}\n")  # fmt: skip
    (workspace / "rules.yaml").write_text(rules)
    ticket = esc.ok("create", "--title", "bill1", "--category", "billing", "--body", "b",
                    now="2026-12-07T08:03:00Z").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-12-07T08:03:00Z")
    esc.ok("tag", ticket, "warned", "--by", "bob", now="2026-12-07T08:41:00Z")
    esc.ok("sweep", "--no-report", now="2026-12-07T09:00:00Z")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert text.count("  - warned\n") == 1
    assert "08:33:00+00:00 · rule:warn-tag · tagged · warned" in text
    assert "08:41:00+00:00 · bob · tagged · warned" in text


def test_a_dry_run_counts_the_active_tickets_as_the_sweep_then_does(
    esc: Esc, workspace: Path
) -> None:
    """Issue 14's audit: a rule that resolves a stale pending ticket; `sweep --dry-run` said
    `1 active tickets` and the sweep it previewed `0` (the dry run counted the ticket as
    its file, never written, still says)."""
    rules = NO_POLICY_RULES.split("rules:\n")[0] + (
        "rules:\n  - name: stale\n    when: {status: pending, idle: \">6h\"}\n"
        "    then: {status: resolved, note: auto-closed}\n"
    )
    (workspace / "rules.yaml").write_text(rules)
    ticket = esc.ok("create", "--title", "t", "--category", "billing", "--body", "b",
                    now="2026-12-07T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-12-07T09:00:00+01:00")
    esc.ok("comment", ticket, "-m", "hi", now="2026-12-07T09:10:00+01:00")
    esc.ok("wait", ticket, "--reason", "r", now="2026-12-07T09:11:00+01:00")
    later = "2026-12-07T16:00:00+01:00"
    preview = json.loads(esc.ok("sweep", "--dry-run", "--no-report", "--json", now=later))
    swept = json.loads(esc.ok("sweep", "--no-report", "--json", now=later))
    assert (preview["active_tickets"], swept["active_tickets"]) == (0, 0)


def test_a_sweep_behind_the_last_render_leaves_the_reports_whatever_its_cache(
    esc: Esc, workspace: Path
) -> None:
    """Issue 5's audit: a sweep at an earlier `--now` left the reports as of the later one
    with its cache, and rendered them as of its own with the cache deleted: the cache
    changed an outcome. Both leave them as of the later sweep."""
    make(esc)
    esc.ok("sweep", now="2026-11-30T10:00:00+01:00")
    summary = workspace / "reports" / "summary.md"
    later = summary.read_text()
    assert "As of 2026-11-30T10:00:00+01:00" in later
    esc.ok("sweep", now="2026-11-27T10:00:00+01:00")
    assert summary.read_text() == later
    shutil.rmtree(workspace / ".esc-cache")
    esc.ok("sweep", now="2026-11-27T10:05:00+01:00")
    assert summary.read_text() == later


def test_a_rule_s_resolve_a_customer_s_reply_overrode_leaves_no_resolved_at(
    esc: Esc, workspace: Path
) -> None:
    """Issue 14's second audit: a rule resolved a pending ticket at 12:00:01, no sweep ran,
    the customer replied at 14:00 (pending → open): the rule's status change gave way to
    the customer's, but its `resolved_at` stayed, an open ticket validate refuses."""
    rules = NO_POLICY_RULES.split("rules:\n")[0] + (
        "rules:\n  - name: pending-resolve\n    when: {status: pending, idle: \">3h\"}\n"
        "    then: {status: resolved}\n"
    )
    (workspace / "rules.yaml").write_text(rules)
    ticket = esc.ok("create", "--title", "x", "--category", "billing", "--body", "b",
                    now="2026-12-01T08:00:00+01:00").strip()  # fmt: skip
    esc.ok("comment", ticket, "-m", "hi", "--by", "maya", now="2026-12-01T08:05:00+01:00")
    esc.ok("wait", ticket, "--reason", "w", now="2026-12-01T09:00:00+01:00")
    esc.ok("comment", ticket, "-m", "back", "--from-customer", now="2026-12-01T14:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-12-01T15:00:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "\nstatus: open\n" in text and "\nresolved_at: null\n" in text
    assert esc("validate", now="2026-12-01T15:00:00+01:00").code == 0



def test_a_broken_rules_file_mended_upstream_reaches_the_cron_clone(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A broken rules.yaml came in with a pushing sweep's own rebase, and every later
    sweep stopped on it before it fetched: the fix pushed since never arrived, and cron
    mailed the same error every five minutes until a person pulled by hand.  The next
    `--push` sweep brings the remote's rules and sweeps with them."""
    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    alice = tmp_path / "alice"
    git(tmp_path, "clone", "-q", str(remote), str(alice))
    rules = alice / "rules.yaml"
    rules.write_text(rules.read_text().replace("priority: normal", "priority: normall"))
    as_person(alice, "alice", "commit", "-qam", "a typo")
    git(alice, "push", "-q", "origin", "main")
    broken = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert broken.code == 1 and "rules.yaml" in broken.err and "normall" in broken.err
    assert "normall" in (workspace / "rules.yaml").read_text()  # (the rebase brought it)
    rules.write_text(rules.read_text().replace("priority: normall", "priority: normal"))
    as_person(alice, "alice", "commit", "-qam", "the typo mended")
    git(alice, "push", "-q", "origin", "main")
    mended = esc("sweep", "--push", "--no-report", now="2026-11-20T13:35:00+01:00")
    assert mended.code == 0, mended.err
    assert "pushed 1 commit to origin/main" in mended.out
    assert f"{ticket}: support → engineering (breached-goes-up)" in mended.out
    assert "normall" not in (workspace / "rules.yaml").read_text()
    again = esc("sweep", "--push", "--no-report", now="2026-11-20T13:40:00+01:00")
    assert again.code == 0, again.err


def a_pushed_typo_taken_out(esc: Esc, workspace: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A workspace whose rules.yaml this clone broke ("a typo") and pushed, and a clone of
    the remote (alice's) reset to before that commit: (the remote, alice's clone)."""
    committed_repo(esc, workspace, "Invoice missing")
    remote = with_remote(workspace, tmp_path)
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("priority: normal", "priority: normall"))
    as_person(workspace, "bob", "commit", "-qam", "a typo")
    git(workspace, "push", "-q", "origin", "main")
    alice = tmp_path / "alice"
    git(tmp_path, "clone", "-q", str(remote), str(alice))
    git(alice, "reset", "-q", "--hard", "HEAD~1")
    return remote, alice


def test_commits_a_force_push_took_out_are_said_when_the_remote_mends_the_rules(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A broken rules.yaml this clone pushed, taken out of the remote by a force-push: the
    sweep that fetches the mended rules leaves the broken commit out, as every rebase of a
    push does, and says so where cron mails it (that path said nothing: review r71)."""
    remote, alice = a_pushed_typo_taken_out(esc, workspace, tmp_path)
    rules = workspace / "rules.yaml"
    (alice / "NOTES.md").write_text("rules put back\n")
    git(alice, "add", "NOTES.md")
    as_person(alice, "alice", "commit", "-qm", "the typo taken out")
    git(alice, "push", "-q", "--force", "origin", "main")
    mended = esc("sweep", "--push", "--no-report", "--json", now="2026-11-20T13:35:00+01:00")
    assert mended.code == 0, mended.err
    (note,) = [line for line in mended.err.splitlines() if "no merge driver" not in line]
    assert note.startswith("esc: the remote no longer has 1 commit this clone had from it (")
    assert " a typo" in note
    assert [c["subject"] for c in json.loads(mended.out)["dropped_commits"]] == ["a typo"]
    assert "normall" not in rules.read_text()
    assert "a typo" not in git(remote, "log", "--format=%s", "main")


def test_a_remote_whose_rules_are_broken_otherwise_is_not_rebased_onto(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """This clone's rules.yaml is broken, and the remote's too, another way (its branch
    force-pushed): no rebase onto it (it would mend nothing, and could leave out commits
    without a word, as the sweep then stopped on the remote's problem: review r72); the
    clone's own problem is said, its branch as it was."""
    _, alice = a_pushed_typo_taken_out(esc, workspace, tmp_path)
    theirs = alice / "rules.yaml"
    theirs.write_text(theirs.read_text().replace("calendar: office", "calendar: offise"))
    as_person(alice, "alice", "commit", "-qam", "another typo")
    git(alice, "push", "-q", "--force", "origin", "main")
    head = git(workspace, "rev-parse", "HEAD")
    said = esc("sweep", "--push", "--no-report", now="2026-11-20T13:35:00+01:00")
    assert said.code == 1 and said.err.startswith("rules.yaml:") and "normall" in said.err
    assert git(workspace, "rev-parse", "HEAD") == head
    assert "a typo" in git(workspace, "log", "--format=%s")


def test_a_broken_rules_file_the_remote_has_too_is_said_as_it_is(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    committed_repo(esc, workspace, "Invoice missing")
    with_remote(workspace, tmp_path)
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("priority: normal", "priority: normall"))
    as_person(workspace, "bob", "commit", "-qam", "a typo")
    git(workspace, "push", "-q", "origin", "main")
    said = esc("sweep", "--push", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert said.code == 1 and said.err.startswith("rules.yaml:"), said.err
    assert "normall" in said.err


def test_reports_are_rendered_again_when_a_crossed_deadline_could_not_be_written(
    esc: Esc, workspace: Path
) -> None:
    """A committing sweep holds back a ticket a person changed and did not commit; its
    first response then breaches within the hour.  The sweep said 1 overdue and the reports
    it left, rendered at 13:10 and unchanged since (no ticket file changed), said 0, where a
    sweep with no cache renders 1 (audit helper-384).  A change a sweep could not write
    renders them again, as of the sweep."""
    git(workspace, "init", "-q", "-b", "main")
    ticket = esc.ok("create", "--no-notify", "--title", "held", "--category", "how-to",
                    now="2026-11-02T09:30:00+01:00").strip()  # fmt: skip
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "start")
    esc.ok("sweep", "--commit", "--no-notify", now="2026-11-02T13:05:00+01:00")
    esc.ok("comment", ticket, "--internal", "-m", "looking", now="2026-11-02T13:08:00+01:00")
    esc.ok("sweep", "--commit", "--no-notify", now="2026-11-02T13:10:00+01:00")
    swept = esc("sweep", "--commit", "--no-notify", "--json", now="2026-11-02T13:40:00+01:00")
    assert json.loads(swept.out)["overdue"] == [ticket], swept.out + swept.err
    report = json.loads((workspace / "reports" / "report.json").read_text())
    assert (report["period"]["now"], report["sla"]["overdue_tickets"]) == (
        "2026-11-02T13:40:00+01:00", 1
    )
    summary = (workspace / "reports" / "summary.md").read_text()
    assert "As of 2026-11-02T13:40:00+01:00" in summary and "**1 overdue tickets**" in summary


def test_a_request_asked_and_answered_in_the_second_of_a_sweep_logs_its_clock(
    esc: Esc, workspace: Path
) -> None:
    """`esc involve` at 10:00:00, just after the 10:00 sweep, and `esc answer` at 13:30:00,
    just after the 13:30 one: the next sweeps logged neither `— → ok` nor `warning → met`
    (both sweeps took the request as seen at their instant), though a reply in a sweep's
    second gets its `ok → met` (audit helper-394)."""
    from tests.conftest import with_ola

    with_ola(workspace, "4h")
    rules = workspace / "rules.yaml"  # (no rules: none escalates to engineering)
    rules.write_text(re.sub(r"\nrules:.*", "\nrules: []\n", rules.read_text(), flags=re.S))
    ticket = esc.ok("create", "--title", "X", "--body", "b", "--category", "billing",
                    now="2026-11-24T09:00:00+01:00").strip()  # fmt: skip
    for at, args in (
        ("10:00", ("sweep", "--no-report")),
        ("10:00", ("involve", ticket, "--team", "engineering", "--ask", "q")),
        ("10:30", ("sweep", "--no-report")),
        ("13:30", ("sweep", "--no-report")),
        ("13:30", ("answer", ticket, "--team", "engineering", "-m", "done")),
        ("13:40", ("sweep", "--no-report")),
    ):
        esc.ok(*args, now=f"2026-11-24T{at}:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert [line for line in text.splitlines() if "sla.collaboration" in line] == [
        "- 2026-11-24T10:00:00+01:00 · esc · sla.collaboration: — → ok · engineering",
        "- 2026-11-24T13:00:00+01:00 · esc · sla.collaboration: ok → warning · engineering,"
        " due 2026-11-24T14:00:00+01:00",
        "- 2026-11-24T13:30:00+01:00 · esc · sla.collaboration: warning → met · engineering",
    ]


def test_a_person_s_change_to_the_value_a_missed_rule_set_is_no_update_to_idle(
    tmp_path: Path,
) -> None:
    """A rule raised the priority at 10:00:01; no sweep ran until 14:00, and at 11:30 a
    person raised it too, on a file that still said normal.  Swept hourly, their change
    was no change (already high) and `idle > 2h` fired at 12:00:02; swept once, their
    line restarted idle, and the note never came (audit helper-397).  Both end alike, but
    for the person's own line."""
    extra = (
        "  - name: raise-after-1h\n    when: {age: \">1h\", priority: \"<high\"}\n"
        "    then: {priority: high}\n"
        "  - name: stale\n    when: {idle: \">2h\"}\n    then: {note: \"idle 2h\"}\n"
    )
    notes = {}
    for mode in ("hourly", "gap"):
        root = tmp_path / mode
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        with (root / "rules.yaml").open("a") as rules:
            rules.write(extra)
        esc = Esc(root)
        ticket = esc.ok("create", "--title", "x", "--body", "b",
                        now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
        hours = ("10", "11") if mode == "hourly" else ()
        for hour in hours:
            esc.ok("sweep", "--no-report", now=f"2026-11-23T{hour}:00:00+01:00")
        esc.ok("classify", ticket, "--priority", "high", now="2026-11-23T11:30:00+01:00")
        for hour in ("12", "13") if mode == "hourly" else ():
            esc.ok("sweep", "--no-report", now=f"2026-11-23T{hour}:00:00+01:00")
        esc.ok("sweep", "--no-report", now="2026-11-23T14:00:00+01:00")
        text = (root / "tickets" / f"{ticket}.md").read_text()
        notes[mode] = [line.split(" · ")[0] for line in text.splitlines()
                       if line.startswith("- ") and "rule:" in line]  # fmt: skip
    assert notes["gap"] == notes["hourly"]
    assert "- 2026-11-23T12:00:02+01:00" in notes["gap"]  # (the `stale` note)


def test_a_hand_answer_kept_over_a_missed_escalation_logs_the_ola_clock_it_ran(
    esc: Esc, workspace: Path
) -> None:
    """No sweep ran from 09:05 to 14:40: the rule's escalation to engineering at the 13:00
    breach would have answered engineering's request, but engineering answered by hand at
    14:30, and their answer is kept.  The log said `warning → met` at 13:00 (the rule's
    answer), then `met → breached` at 13:05: a met clock breached, and a met no answer
    made (audit helper-394).  The request was open until 14:30: warning, then breached."""
    from tests.conftest import with_ola

    with_ola(workspace, "4h")
    esc.ok("sweep", "--no-report", now="2026-11-30T08:00:00+01:00")
    ticket = esc.ok("create", "--title", "V", "--body", "x", "--category", "billing",
                    now="2026-11-30T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "q",
           now="2026-11-30T09:05:00+01:00")  # fmt: skip
    esc.ok("answer", ticket, "--team", "engineering", "-m", "by hand", "--by", "dan",
           now="2026-11-30T14:30:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-30T14:40:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "rule:breached-goes-up · team: support → engineering" in text
    logged = [line.split(" · ")[2] for line in text.splitlines() if "sla.collaboration:" in line]
    assert logged == [
        "sla.collaboration: — → ok",
        "sla.collaboration: ok → warning",
        "sla.collaboration: warning → breached",
    ]


@pytest.mark.parametrize(
    ("missed", "person"),
    [
        (  # (the assignment's `new → open` is no change either)
            "  - name: lead-after-1h\n    when: {age: \">1h\", assignee: null}\n"
            "    then: {assign: carol}\n",
            ("assign", "{id}", "carol"),
        ),
        (
            "  - name: hold-after-1h\n    when: {age: \">1h\", status: new}\n"
            "    then: {status: pending}\n",
            ("wait", "{id}", "--reason", "asked the customer"),
        ),
        (
            "  - name: tag-after-1h\n    when: {age: \">1h\"}\n    then: {tag: waiting}\n",
            ("tag", "{id}", "waiting"),
        ),
    ],
    ids=["assign", "wait", "tag"],
)
def test_a_person_redoing_what_a_missed_rule_did_restarts_no_idle(
    tmp_path: Path, missed: str, person: tuple[str, ...]
) -> None:
    """A person assigned the lead, put the ticket on hold, or tagged it, as a missed rule
    had an hour and a half before, on a file that did not show it yet: hourly sweeps
    refuse the command or find it no change, and `idle > 2h` escalates at 12:00:02; swept
    once, the person's line restarted idle, and the ticket stayed with support (audit
    helper-399)."""
    idle = (
        "  - name: idle-up\n    when: {idle: \">2h\"}\n"
        "    then: {escalate: up, note: \"idle 2h\"}\n"
    )
    seen = {}
    for mode in ("hourly", "gap"):
        root = tmp_path / mode
        assert run_in_process(["init", str(root)], tmp_path).code == 0
        rules = root / "rules.yaml"
        rules.write_text(re.sub(r"\nrules:.*", "\nrules:\n", rules.read_text(), flags=re.S)
                         + missed + idle)  # fmt: skip
        esc = Esc(root)
        ticket = esc.ok("create", "--title", "x", "--body", "b", "--category", "billing",
                        "--priority", "low", now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
        for hour in ("10", "11") if mode == "hourly" else ():
            esc.ok("sweep", "--no-report", now=f"2026-11-23T{hour}:00:00+01:00")
        esc(*(a.format(id=ticket) for a in person), now="2026-11-23T11:30:00+01:00")
        for hour in ("12",) if mode == "hourly" else ():
            esc.ok("sweep", "--no-report", now=f"2026-11-23T{hour}:00:00+01:00")
        esc.ok("sweep", "--no-report", now="2026-11-23T12:30:00+01:00")
        shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T12:30:00+01:00"))
        seen[mode] = (shown["team"], [(e["at"], e["to"]) for e in shown["escalations"]])
    assert seen["gap"] == seen["hourly"] == (
        "engineering", [("2026-11-23T12:00:02+01:00", "engineering")]
    )


def test_a_long_run_of_a_person_s_changes_since_a_missed_rule_is_replayed_without_recursion(
    esc: Esc, workspace: Path
) -> None:
    """1,200 tags a person added, 5 s apart, after a rule's change no sweep wrote: the
    replay looked at each change's instant before it by a recursion of a view per instant,
    and the sweep ended in a RecursionError, exit 3 (review helper-402)."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + (
        "  - name: raise-after-1h\n    when: {age: \">1h\", priority: \"<high\"}\n"
        "    then: {priority: high}\n"
    ))  # fmt: skip
    ticket = esc.ok("create", "--title", "x", "--body", "b", "--category", "billing",
                    now="2026-11-24T09:00:00+01:00").strip()  # fmt: skip
    path = workspace / "tickets" / f"{ticket}.md"
    start = dt.datetime(2026, 11, 24, 10, 40, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    times = [(start + dt.timedelta(seconds=5 * n)).isoformat() for n in range(1200)]
    text = path.read_text()
    text = re.sub(r"(?m)^updated: .*$", f"updated: {times[-1]}", text)
    text = re.sub(r"(?m)^tags: \[\]$", "tags: [" + ", ".join(f"t{n}" for n in range(1200)) + "]",
                  text)  # fmt: skip
    path.write_text(text + "".join(f"- {at} · dan · tagged · t{n}\n" for n, at in enumerate(times)))
    assert esc("validate").code == 0
    out = esc.ok("sweep", "--no-report", now="2026-11-24T12:30:00+01:00")
    assert "normal → high (raise-after-1h)" in out


def test_an_answer_noted_late_puts_right_the_ola_breach_a_sweep_logged(
    esc: Esc, workspace: Path
) -> None:
    """sre was asked at 10:05 (1h OLA on an urgent ticket); the 11:30 sweep logged its
    breach at 11:05; then the answer given at 11:00 was noted (`--now` 11:00).  The
    `sla:` block, `show` and the report said met, but the log's breach stood, never put
    right, as a customer clock's is with `breached → met` (audit helper-401)."""
    from tests.conftest import with_ola

    with_ola(workspace, "1h")
    ticket = esc.ok("create", "--title", "X", "--body", "x", "--category", "billing",
                    now="2026-11-24T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "help",
           now="2026-11-24T10:05:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-24T11:30:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    assert "sla.collaboration: warning → breached · engineering" in path.read_text()
    esc.ok("answer", ticket, "--team", "engineering", "-m", "noted late",
           now="2026-11-24T11:00:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-24T12:30:00+01:00")
    logged = [line.split(" · ")[2] for line in path.read_text().splitlines()
              if "sla.collaboration:" in line]  # fmt: skip
    assert logged[-1] == "sla.collaboration: breached → met"


@pytest.mark.parametrize("edit", [("csat: 3 → 4", "csat: ² → 4"), ("csat: 3 → 4", "csat: 3 → ²")])
def test_a_log_line_s_number_that_is_no_ascii_number_stops_no_command(
    esc: Esc, workspace: Path, edit: tuple[str, str]
) -> None:
    """A hand-edited `csat: ² → 4` (`'²'.isdigit()` holds, `int('²')` fails): every sweep
    stopped with an internal error, exit 3, the workspace's other tickets unswept, while
    validate said ok (audit helper-418).  Read as no number."""
    ticket = make(esc)
    other = make(esc, "Refund late")
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    esc.ok("close", ticket, "--resolution", "done", "--csat", "3", now="2026-11-20T11:00:00+01:00")
    esc.ok("close", ticket, "--csat", "4", now="2026-11-20T11:30:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    assert path.read_text().count(edit[0]) == 1
    path.write_text(path.read_text().replace(*edit))
    swept = esc("sweep", now="2026-11-27T09:00:00+01:00")
    assert swept.code == 0, swept.err
    assert "sla:" in (workspace / "tickets" / f"{other}.md").read_text()
    for command in (("report", "--format", "json"), ("check",), ("list", "--all")):
        result = esc(*command, now="2026-11-27T09:00:00+01:00")
        assert result.code in (0, 1) and "internal error" not in result.err, result.err


@pytest.mark.parametrize("hourly", [True, False])
def test_a_classify_that_re_routed_a_ticket_a_missed_rule_escalated_leaves_it_escalated(
    tmp_path: Path, hourly: bool
) -> None:
    """Created 09:00 as a bug (engineering); its first response breaches at 13:00, and
    `breached-goes-up` escalates it to management.  At 14:00 alice classifies it as
    billing.  With a sweep at 13:30 the ticket was escalated by then, and classify
    re-routes no escalated ticket: it stays with management.  With no sweep between, the
    file said engineering, unescalated, and classify re-routed it to support: the 15:00
    sweep took that for her choice of team, undoing the escalation, and the breach
    escalated a second time, support → engineering (audit helper-410)."""
    root = tmp_path / "ws"
    Esc(tmp_path, now="2026-11-23T08:00:00+01:00").ok("init", str(root))
    esc = Esc(root)
    ticket = esc.ok("create", "--title", "Export broken", "--category", "bug",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    if hourly:
        esc.ok("sweep", "--no-report", now="2026-11-23T13:30:00+01:00")
    esc.ok("classify", ticket, "--category", "billing", now="2026-11-23T14:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-23T15:00:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T15:00:00+01:00"))
    assert (shown["team"], shown["category"]) == ("management", "billing")
    assert [(e["from"], e["to"]) for e in shown["escalations"]] == [("engineering", "management")]
    path = root / "tickets" / f"{ticket}.md"

    def unchecked() -> list[str]:
        return [line for line in path.read_text().splitlines() if "checked:" not in line]

    before = unchecked()
    esc.ok("sweep", "--no-report", now="2026-11-23T16:00:00+01:00")
    assert unchecked() == before  # (the next sweep has nothing to do)
    assert esc("validate", now="2026-11-23T16:00:00+01:00").code == 0


def sweep_hourly(esc: Esc, first: int, last: int) -> None:
    """A sweep on the hour, from ``first`` o'clock to ``last``, on 23 November 2026."""
    for hour in range(first, last + 1):
        esc.ok("sweep", "--no-report", now=f"2026-11-23T{hour:02d}:00:00+01:00")


@pytest.mark.parametrize("hourly", [True, False])
def test_a_void_re_route_unassigns_no_one_a_missed_rule_assigned(
    tmp_path: Path, hourly: bool
) -> None:
    """A billing ticket assigned to maya; at 13:00 a missed rule escalates it to
    engineering and `eng-lead` assigns engineering's lead.  alice's 15:30 classify on the
    file as it was re-routed it and unassigned maya: the re-route never was (the ticket
    was escalated), and its unassigning took the lead's assignment away (audit
    helper-420)."""
    root = tmp_path / "ws"
    Esc(tmp_path, now="2026-11-23T08:00:00+01:00").ok("init", str(root))
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")
    with (root / "rules.yaml").open("a") as rules:
        rules.write("  - name: eng-lead\n    when: {team: engineering, assignee: null,"
                    ' age: "<7h"}\n    then: {assign: lead}\n')  # fmt: skip
    esc = Esc(root)
    ticket = esc.ok("create", "--title", "x", "--category", "billing",
                    now="2026-11-23T08:00:00+01:00").strip()  # fmt: skip
    esc.ok("assign", ticket, "maya", now="2026-11-23T08:05:00+01:00")
    if hourly:
        sweep_hourly(esc, 10, 15)
    esc.ok("classify", ticket, "--category", "bug", now="2026-11-23T15:30:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-23T17:00:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T17:00:00+01:00"))
    assert (shown["team"], shown["assignee"]) == ("engineering", "nadia")  # (its lead)


@pytest.mark.parametrize("hourly", [True, False])
def test_a_void_re_route_answers_no_request(tmp_path: Path, hourly: bool) -> None:
    """alice asks sre at 08:05; a missed rule escalates the ticket to engineering at 13:00;
    alice's 15:30 classify as an outage, on the file as it was, re-routed it to sre and so
    answered sre's request.  The re-route never was (the ticket was escalated): the request
    stays open, its OLA breaches, and the rule on that breach acts, as after hourly sweeps
    (audit helper-420)."""
    root = tmp_path / "ws"
    Esc(tmp_path, now="2026-11-23T08:00:00+01:00").ok("init", str(root))
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")  # (sre handles outage)
    rules = root / "rules.yaml"
    text = rules.read_text().replace("  - when: {category: outage}\n    team: engineering\n", "")
    text = text.replace("resolution: 24h}", "resolution: 24h, collaboration: 8h}")
    text = re.sub(r"  - name: outage-is-urgent\n.*\n.*\n", "", text)  # (its priority as is)
    rules.write_text(text + "  - name: ola-late\n    when: {sla.collaboration: breached}\n"
                     '    then: {priority: raise, note: "sre is late"}\n')  # fmt: skip
    esc = Esc(root)
    assert esc("validate").code == 0, esc("validate").err
    ticket = esc.ok("create", "--title", "x", "--category", "billing", "--priority", "low",
                    now="2026-11-23T08:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "sre", "--ask", "logs?", now="2026-11-23T08:05:00+01:00")
    if hourly:
        sweep_hourly(esc, 10, 15)
    esc.ok("classify", ticket, "--category", "outage", now="2026-11-23T15:30:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-24T12:00:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-24T12:00:00+01:00"))
    assert (shown["team"], shown["priority"]) == ("engineering", "normal")
    assert [(r["team"], r["state"]) for r in shown["requests"]] == [("sre", "open")]


def test_a_clone_that_signs_its_commits_signs_the_sweep_s(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """`commit.gpgsign`: `git commit` signs, but the sweep made its commit with
    `commit-tree`, which reads no such setting, and a branch that takes signed commits
    alone refused every push of cron's (audit helper-429)."""
    committed_repo(esc, workspace, "Invoice missing")
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    for name, value in (("user.name", "esc sweep"), ("user.email", "esc-sweep@example.com"),
                        ("gpg.format", "ssh"), ("user.signingkey", f"{key}.pub"),
                        ("commit.gpgsign", "true")):  # fmt: skip
        git(workspace, "config", name, value)
    esc.ok("sweep", "--commit", "--no-report", now="2026-11-20T13:30:00+01:00")
    assert "esc sweep" in git(workspace, "log", "-1", "--format=%s")
    assert "gpgsig" in git(workspace, "cat-file", "-p", "HEAD")


def test_a_ticket_whose_sla_block_was_removed_is_not_escalated_twice(
    tmp_path: Path,
) -> None:
    """The `sla:` block removed by hand (a merge resolved by deleting it), `fired:` kept:
    the next sweep replayed the ticket from its creation and escalated its 13:00 breach a
    second time, engineering → management, stamped 13:00 (audits helper-407, helper-426).
    A rule's line in its log says a sweep acted on it: it is evaluated at now."""
    root = tmp_path / "ws"
    Esc(tmp_path, now="2026-11-27T08:00:00+01:00").ok("init", str(root))
    esc = Esc(root)
    ticket = esc.ok("create", "--title", "x", "--body", "y",
                    now="2026-11-27T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-27T14:00:00+01:00")  # (13:00: escalated)
    path = root / "tickets" / f"{ticket}.md"
    path.write_text(re.sub(r"sla:\n(  .*\n)+", "", path.read_text(), count=1))
    assert esc("validate", now="2026-11-27T15:00:00+01:00").code == 0
    esc.ok("sweep", "--no-report", now="2026-11-27T15:00:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-27T15:00:00+01:00"))
    assert [(e["from"], e["to"]) for e in shown["escalations"]] == [("support", "engineering")]
    assert shown["team"] == "engineering"


def test_a_void_re_route_writes_no_line_in_the_person_s_name(demo: Path) -> None:
    """The demo's VIP ticket breaches at 10:00 (no sweep sees it): escalated to engineering,
    whose lead `vip-to-lead` assigns.  maya's 10:30 classify, on the file as it was,
    re-routed it; the sweep wrote `10:30 · maya · assignee: nadia → —`, a change she never
    made, and the rule fired again (audit helper-428)."""
    for path in (demo / "tickets").glob("*.md"):
        path.unlink()
    esc = Esc(demo)
    ticket = esc.ok("create", "--title", "Card declined", "--category", "billing", "--priority",
                    "high", "--tag", "vip", "--customer", "c@x.com", "--body", "b", "--by",
                    "maya", now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("classify", ticket, "--category", "data", "--by", "maya",
           now="2026-11-23T10:30:00+01:00")  # fmt: skip
    out = esc.ok("sweep", "--no-report", now="2026-11-23T11:00:00+01:00")
    # (sofia at 09:00 with the status and a note, nadia at 10:00 with a note: once each)
    assert out.count("(vip-to-lead)") == 5
    text = (demo / "tickets" / f"{ticket}.md").read_text()
    assert "maya · assignee" not in text
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T11:00:00+01:00"))
    assert (shown["team"], shown["assignee"]) == ("engineering", "nadia")


def test_a_request_to_the_team_a_missed_escalation_moved_the_ticket_to_never_breaches(
    demo: Path,
) -> None:
    """An outage ticket escalated to management by a missed rule (the file did not show
    it); oskar asked management at 10:00.  The replay answered the request as it was asked,
    yet its OLA ran in the replay: `ok → breached` at 11:00 in the log, told to management,
    then `breached → met`, while the report counted it met (audit helper-428)."""
    for path in (demo / "tickets").glob("*.md"):
        path.unlink()
    esc = Esc(demo)
    ticket = esc.ok("create", "--title", "Checkout down", "--category", "outage", "--customer",
                    "c@x.com", "--body", "b", now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "management", "--ask", "need a decision", "--by",
           "oskar", now="2026-11-23T10:00:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-23T12:00:00+01:00")
    text = (demo / "tickets" / f"{ticket}.md").read_text()
    assert "sla.collaboration: ok → breached" not in text and "→ breached · management" not in text
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T12:00:00+01:00"))
    assert [(r["team"], r["state"]) for r in shown["requests"]] == [("management", "answered")]
    assert text.count("request answered by management") == 1


@pytest.mark.parametrize("hourly", [True, False])
def test_requests_are_in_the_order_they_were_asked_however_often_sweeps_ran(
    tmp_path: Path, hourly: bool
) -> None:
    """A rule involves management at 10:00:01 (`age > 1h`); alice involves engineering at
    11:30.  With hourly sweeps the rule's request comes first; with none between, the
    replayed one was added after alice's, and the file's order depended on how often
    sweeps ran (audit helper-432)."""
    root = tmp_path / "ws"
    Esc(tmp_path, now="2026-11-23T08:00:00+01:00").ok("init", str(root))
    (root / "rules.yaml").write_text(
        "id_prefix: T\npriorities: [low, normal, high, urgent]\ndefault_priority: normal\n"
        'calendars:\n  always: {timezone: Europe/Berlin, hours: {mon-sun: "00:00-24:00"}}\n'
        "sla:\n  - name: standard\n    calendar: always\n"
        "    targets: {first_response: 8h, resolution: 24h, collaboration: 4h}\n"
        'rules:\n  - name: ask-mgmt\n    when: {age: ">1h"}\n'
        '    then: {involve: management, note: "please look"}\n'
    )
    esc = Esc(root)
    esc.ok("sweep", "--no-report", now="2026-11-23T09:00:00+01:00")
    ticket = esc.ok("create", "--title", "x", "--body", "y",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    if hourly:
        for hour in ("09", "10", "11"):
            esc.ok("sweep", "--no-report", now=f"2026-11-23T{hour}:00:00+01:00")
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "help",
           now="2026-11-23T11:30:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-23T12:00:00+01:00")
    shown = json.loads(esc.ok("show", ticket, "--json", now="2026-11-23T12:00:00+01:00"))
    assert [r["team"] for r in shown["requests"]] == ["management", "engineering"]
    assert esc("validate", now="2026-11-23T12:00:00+01:00").code == 0


# ---------------------------------------------------------------- the sweep's fingerprint

STAMP = "# sweep fingerprint "


def _front_end(text: str) -> list[str]:
    return text.split("\n---\n", 1)[0].splitlines()


def test_a_sweep_stamps_a_ticket_it_leaves_at_rest_rules_acting_or_not(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A ticket the rules acted on until none would is at rest, as one they left alone: a
    sweep without the cache plans it no sooner than one with it (nothing is due in it),
    and does to it what a sweep planning it from its log does."""
    ticket = make(esc)
    path = workspace / "tickets" / f"{ticket}.md"
    esc.ok("sweep", "--no-report", now="2026-11-20T09:30:00+01:00")  # (the block: no rule)
    text = path.read_text()
    assert _front_end(text)[-1].startswith(STAMP)
    assert "checked: 2026-11-20T09:30:00+01:00\n" in text
    esc.ok("sweep", "--no-report", now="2026-11-20T13:30:00+01:00")  # (the breach escalates)
    text = path.read_text()
    assert "rule:breached-goes-up" in text
    assert _front_end(text)[-1].startswith(STAMP)
    for when in ("2026-11-20T13:35:00+01:00", "2026-11-23T10:00:00+01:00"):
        stamped = _cold_sweeps(workspace, tmp_path, when, stamped=True)
        assert stamped == _cold_sweeps(workspace, tmp_path, when, stamped=False)


def test_a_ticket_a_rule_was_skipped_on_is_not_stamped(esc: Esc, workspace: Path) -> None:
    """The action limit held a rule back: the ticket is not at rest, and the next sweep
    plans it whatever its deadlines say (the rule acts then), cache or not."""
    _capped(workspace, "".join(
        f"  - {{name: r{n}, when: {{sla: breached}}, then: {{tag: t{n}}}}}\n" for n in (1, 2)
    ))  # fmt: skip
    ticket = make(esc)
    path = workspace / "tickets" / f"{ticket}.md"
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-20T09:30:00+01:00")
    out = esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-20T13:00:00+01:00")
    assert "skipped" in out
    assert STAMP not in path.read_text()
    shutil.rmtree(workspace / ".esc-cache")
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-20T13:05:00+01:00")
    assert "· rule:r2 · tagged · t2" in path.read_text()


def _cold_sweeps(root: Path, tmp_path: Path, now: str, stamped: bool) -> tuple[str, dict[str, str]]:
    """A copy of ``root`` without its cache (and without fingerprints unless ``stamped``),
    swept at ``now``: what the sweep said, and the tickets without their fingerprints."""
    from esc.ticketfile.document import unstamped

    copy = tmp_path / f"{'stamped' if stamped else 'plain'}-{now[:13]}"
    shutil.copytree(root, copy)
    shutil.rmtree(copy / ".esc-cache", ignore_errors=True)
    if not stamped:
        for path in (copy / "tickets").glob("*.md"):
            path.write_text(unstamped(path.read_text()))
    said = Esc(copy).ok("sweep", "--no-report", now=now)
    return said, {name: unstamped(text) for name, text in files(copy).items()}


@pytest.mark.parametrize(
    "now",
    [
        "2026-11-27T12:05:00+01:00",  # (minutes after: hardly anything due)
        "2026-11-27T15:00:00+01:00",  # (hours: warnings and deadlines)
        "2026-11-30T10:00:00+01:00",  # (a weekend: breaches, rules)
        "2026-12-09T10:00:00+01:00",  # (twelve days: everything)
    ],
)
def test_a_cold_sweep_trusts_a_fingerprint_to_the_same_end_as_a_replay(
    demo: Path, tmp_path: Path, now: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the cache, a ticket exactly as a sweep wrote it, no rule acting, is not
    planned again until something is due, as with the cache: the same output and files as
    when every ticket is planned from its log."""
    from esc.commands import sweep as sweep_module

    Esc(demo).ok("sweep", "--no-report", now="2026-11-27T12:00:00+01:00")
    assert sum(STAMP in text for text in files(demo).values()) >= 5
    planned: list[str] = []
    real_plan = sweep_module.plan

    def counted(ticket: object, *args: object) -> object:
        planned.append(getattr(ticket, "id", "?"))
        return real_plan(ticket, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sweep_module, "plan", counted)
    plain = _cold_sweeps(demo, tmp_path, now, stamped=False)
    replayed = len(planned)
    planned.clear()
    assert _cold_sweeps(demo, tmp_path, now, stamped=True) == plain
    if now < "2026-12":  # (twelve days on, every open ticket has something due)
        assert len(planned) < replayed


def test_a_cold_sweep_s_reports_are_the_same_with_settled_tickets_taken_as_swept(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A cold sweep trusts what the last sweep wrote of a ticket settled before its
    reports' period and leaves its SLA to who needs it: its reports, and a report of an
    earlier period after it, say what they say when every ticket is planned from its log."""
    from esc.ticketfile.document import unstamped

    met, late = make(esc), make(esc, "Refund twice")
    esc.ok("comment", met, "-m", "On it", now="2026-11-20T09:30:00+01:00")
    esc.ok("resolve", met, "--resolution", "Refunded", now="2026-11-20T10:00:00+01:00")
    esc.ok("close", met, "--csat", "5", now="2026-11-20T10:30:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T14:00:00+01:00")  # (`late` breached)
    esc.ok("resolve", late, "--resolution", "Refunded", now="2026-11-20T15:00:00+01:00")
    esc.ok("close", late, "--csat", "2", now="2026-11-20T15:10:00+01:00")
    esc.ok("create", "--title", "Still open", "--category", "how-to",
           now="2026-12-28T09:00:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-12-28T09:05:00+01:00")
    for ticket in (met, late):
        assert _front_end((workspace / "tickets" / f"{ticket}.md").read_text())[-1].startswith(
            STAMP
        )
    seen = {}
    for stamped in (True, False):
        copy = tmp_path / f"stamped-{stamped}"
        shutil.copytree(workspace, copy)
        shutil.rmtree(copy / ".esc-cache")
        if not stamped:
            for path in (copy / "tickets").glob("*.md"):
                path.write_text(unstamped(path.read_text()))
        swept = Esc(copy)
        said = swept.ok("sweep", now="2027-01-04T09:00:00+01:00")
        reports = {n: (copy / "reports" / n).read_text() for n in ("summary.md", "report.json")}
        earlier = swept.ok("report", "--since", "2026-11-01", "--until", "2026-12-01",
                           "--format", "json", now="2027-01-04T09:05:00+01:00")  # fmt: skip
        seen[stamped] = (said, reports, earlier)
    assert seen[True] == seen[False]
    earlier = json.loads(seen[True][2])
    assert (earlier["totals"]["closed"], earlier["totals"]["breaches"]) == (2, 1)


def test_a_hand_edit_that_keeps_the_fingerprint_is_planned_as_it_reads(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The stamp no longer matches: the rule on the category a person wrote in acts, as it
    does in a file without a stamp, though the line is still there (and nothing is due:
    trusted, the ticket would have been left alone)."""
    ticket = make(esc)
    path = workspace / "tickets" / f"{ticket}.md"
    esc.ok("sweep", "--no-report", now="2026-11-20T09:10:00+01:00")
    text = path.read_text()
    assert _front_end(text)[-1].startswith(STAMP)
    path.write_text(text.replace("category: billing", "category: outage"))  # (updated as was)
    said, tickets = _cold_sweeps(workspace, tmp_path, "2026-11-20T10:00:00+01:00", stamped=True)
    assert (said, tickets) == _cold_sweeps(
        workspace, tmp_path / "b", "2026-11-20T10:00:00+01:00", stamped=False
    )
    assert "rule:outage-is-urgent · priority: normal → urgent" in tickets[f"{ticket}.md"]


def test_a_person_s_command_leaves_the_fingerprint_as_it_was(esc: Esc, workspace: Path) -> None:
    """Byte for byte but for what it changed: the stale line stays last; the next sweep
    that writes the ticket makes it anew."""
    ticket = make(esc)
    path = workspace / "tickets" / f"{ticket}.md"
    esc.ok("sweep", "--no-report", now="2026-11-20T09:10:00+01:00")
    before = path.read_text()
    esc.ok("tag", ticket, "vip", now="2026-11-20T09:20:00+01:00")
    after = path.read_text()
    assert _front_end(after)[-1] == _front_end(before)[-1]
    gone = [line for line in before.splitlines() if line not in after.splitlines()]
    assert [line.split(":")[0] for line in gone] == ["updated", "tags"]


def test_a_checked_time_moved_by_hand_under_a_fingerprint_is_planned(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """`checked` is left out of the hash: moved past the warning, the block no longer says
    what a sweep then wrote, and the ticket is planned, its warning logged (audit
    helper-458: the stamped file kept `ok` and no line, the unstamped one said it)."""
    ticket = make(esc)
    path = workspace / "tickets" / f"{ticket}.md"
    esc.ok("sweep", "--no-report", now="2026-11-20T09:10:00+01:00")
    text = path.read_text()
    assert _front_end(text)[-1].startswith(STAMP)
    path.write_text(text.replace("checked: 2026-11-20T09:10:00", "checked: 2026-11-20T12:10:00"))
    said, tickets = _cold_sweeps(workspace, tmp_path, "2026-11-20T12:20:00+01:00", stamped=True)
    assert (said, tickets) == _cold_sweeps(
        workspace, tmp_path / "b", "2026-11-20T12:20:00+01:00", stamped=False
    )
    assert "sla.first_response: ok → warning" in tickets[f"{ticket}.md"]
