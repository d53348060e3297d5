"""Commands running at the same time never lose a write: real processes, all at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from esc.cli.main import main
from esc.commands import sweep
from esc.domain.config import Config
from esc.domain.model import Ticket
from esc.domain.plan import TicketPlan
from tests.conftest import ESC, Esc
from tests.store.test_kill import NOW as KILL_NOW
from tests.store.test_kill import build

NOW = "2026-11-23T10:00:00+01:00"  # a Monday morning
LATER = "2026-11-25T16:00:00+01:00"  # two days on: deadlines have passed, rules fire


@dataclass
class Run:
    args: list[str]
    code: int
    out: str
    err: str


def run_at_once(root: Path, commands: list[list[str]], now: str = LATER) -> list[Run]:
    """Start every command as its own process before waiting for any of them."""
    env = {**os.environ, "ESC_NOW": now}
    procs = [
        (
            args,
            subprocess.Popen(
                [ESC, *args],
                cwd=root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for args in commands
    ]
    runs = []
    for args, proc in procs:
        out, err = proc.communicate(timeout=120)
        runs.append(Run(args, proc.returncode, out, err))
    return runs


def new_ticket(esc: Esc, title: str, category: str = "billing") -> str:
    out = esc.ok("create", "--title", title, "--customer", "c@shop.example", "--category", category)
    return out.strip().split()[0]


def shown(esc: Esc, ticket: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(esc.ok("show", ticket, "--json", now=LATER))
    return data


def mixed_commands(tickets: list[str], rng: random.Random) -> list[list[str]]:
    """50 commands of every kind that writes a ticket: comments, notes, tags, assignments,
    escalations of all three kinds, sweeps and creates."""
    commands: list[list[str]] = []
    for n in range(18):
        extra = ["--internal"] if n % 3 == 0 else []
        commands.append(["comment", rng.choice(tickets), "-m", f"comment number {n}", *extra])
    for n in range(8):
        commands.append(["tag", rng.choice(tickets), f"tag{n}"])
    for n in range(6):
        commands.append(["assign", rng.choice(tickets), f"person{n}", "--force"])
    for n, how in enumerate(
        [
            ["--up"],
            ["--up"],
            ["--priority", "high"],
            ["--priority", "urgent"],
            ["--to", "engineering"],
        ]
    ):
        commands.append(["escalate", rng.choice(tickets), *how, "--reason", f"reason {n}"])
    commands += [["sweep"] for _ in range(6)]
    commands += [["create", "--title", f"new ticket {n}", "--category", "bug"] for n in range(7)]
    assert len(commands) == 50
    rng.shuffle(commands)
    return commands


def assert_every_success_landed(esc: Esc, runs: list[Run]) -> None:
    for run in runs:
        assert run.code in (0, 1), f"esc {run.args}: exit {run.code}: {run.err}"
        if run.code == 1:  # a refusal is one clear line, never lost silently
            assert run.err.startswith("esc: ") and run.err.count("\n") == 1, run.err
    checked = esc("validate", now=LATER)
    assert checked.code == 0 and checked.err.startswith("ok:"), checked.err
    views: dict[str, dict[str, object]] = {}

    def view(ticket: str) -> dict[str, object]:
        if ticket not in views:
            views[ticket] = shown(esc, ticket)
        return views[ticket]

    created: list[str] = []
    for run in runs:
        if run.code != 0:
            continue
        kind = run.args[0]
        if kind == "create":
            created.append(run.out.strip().split()[0])
            continue
        if kind == "sweep":
            continue
        data = view(run.args[1])
        activity = data["activity"]
        assert isinstance(activity, list)
        if kind == "comment":
            texts = [e["text"] for e in data["conversation"]]  # type: ignore[attr-defined]
            assert texts.count(run.args[3]) == 1, (run.args, texts)
        elif kind == "tag":
            assert run.args[2] in data["tags"]  # type: ignore[operator]
            assert sum(a["note"] == run.args[2] and a["event"] == "tagged" for a in activity) == 1
        elif kind == "assign":
            person = run.args[2]
            assert sum(a["field"] == "assignee" and a["new"] == person for a in activity) == 1
        elif kind == "escalate":
            reason = run.args[-1]
            escalations = data["escalations"]
            assert isinstance(escalations, list)
            assert sum(e["reason"] == reason for e in escalations) == 1, (reason, escalations)
    assert len(created) == len(set(created))  # never the same ID twice
    for ticket in created:
        assert shown(esc, ticket)["id"] == ticket
    # one activity line per change: as many lines of people's comments as comments landed
    for ticket, data in views.items():
        landed = [
            r for r in runs if r.code == 0 and r.args[0] == "comment" and r.args[1] == ticket
        ]
        activity = data["activity"]
        assert isinstance(activity, list)
        added = [
            a for a in activity if str(a["event"]).endswith(" added") and a["by"] == "alice"
        ]
        assert len(added) == len(landed), (ticket, len(added), len(landed))


# (Each of these two also checks what a test of 20 comments at once on one ticket and one
# of 12 creates at once checked: 18 comments land on one ticket among 32 other writers,
# and 7 creates all succeed, each with an ID of its own and a file of its own.)
ALWAYS_SUCCEED = ("comment", "tag", "assign", "sweep", "create")


def test_fifty_mixed_commands_on_one_ticket_lose_nothing(workspace: Path) -> None:
    esc = Esc(workspace, now=NOW)
    ticket = new_ticket(esc, "Card charged twice")
    runs = run_at_once(workspace, mixed_commands([ticket], random.Random(12)))
    assert sum(r.code == 0 for r in runs if r.args[0] == "comment") == 18
    assert all(r.code == 0 for r in runs if r.args[0] in ALWAYS_SUCCEED)
    assert_every_success_landed(esc, runs)
    assert len(list((workspace / "tickets").glob("*.md"))) == 1 + 7


def test_fifty_mixed_commands_on_many_tickets_lose_nothing(workspace: Path) -> None:
    esc = Esc(workspace, now=NOW)
    categories = ["billing", "bug", "outage"]
    tickets = [new_ticket(esc, f"Problem {n}", categories[n % 3]) for n in range(8)]
    runs = run_at_once(workspace, mixed_commands(tickets, random.Random(34)))
    assert all(r.code == 0 for r in runs if r.args[0] in ALWAYS_SUCCEED)
    assert_every_success_landed(esc, runs)
    assert len(list((workspace / "tickets").glob("*.md"))) == 8 + 7


# ---------------------------------------------------------------- hand edits racing a sweep


def insert_line(path: Path, line: str) -> None:
    """Save ``path`` with ``line`` at the top of its description, as an editor does
    (a new file renamed over the old)."""
    text = path.read_text(encoding="utf-8")
    cut = text.index("\n---\n", 3) + 5
    tmp = path.with_name(f"editor-{path.name}.swp")
    tmp.write_text(text[:cut] + line + "\n" + text[cut:], encoding="utf-8")
    os.replace(tmp, path)


def test_a_hand_edit_saved_while_the_sweep_plans_the_ticket_survives(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    esc = Esc(workspace, now=NOW)
    ticket = new_ticket(esc, "Refund never arrived", "refund")
    path = workspace / "tickets" / f"{ticket}.md"
    real_plan = sweep.plan
    saved: list[str] = []

    def plan_then_hand_edit(
        t: Ticket, config: Config, now: dt.datetime, *rest: Any
    ) -> TicketPlan:
        planned = real_plan(t, config, now, *rest)
        if planned.change and not saved:  # the sweep has read the file and decided
            insert_line(path, "Customer called: the refund is for order 1234.")
            saved.append(t.id)
        return planned

    monkeypatch.setattr(sweep, "plan", plan_then_hand_edit)
    code = main(["--root", str(workspace), "--now", LATER, "sweep", "--no-report", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 0 and saved == [ticket]
    assert f"{ticket}: changed while the sweep read it; swept as it is now" in out
    text = path.read_text(encoding="utf-8")
    assert "Customer called: the refund is for order 1234." in text  # the hand edit
    assert "rule:breached-goes-up" in text  # and the sweep's work, done on top of it
    monkeypatch.undo()
    again = Esc(workspace, now=LATER).ok("sweep", "--no-report")
    assert again.startswith("1 tickets seen, 0 changed")


def test_hand_edits_saved_all_through_a_sweep_survive(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    build(root)
    names = sorted(p.name for p in (root / "tickets").glob("T-*.md"))
    proc = subprocess.Popen(
        [ESC, "--now", KILL_NOW, "sweep", "--no-report", "--jobs", "1"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    rng = random.Random(5)
    edited = []
    while proc.poll() is None and len(edited) < len(names):
        name = rng.choice([n for n in names if n not in edited])
        insert_line(root / "tickets" / name, f"Hand edit of {name}.")
        edited.append(name)
    _out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert len(edited) > 5  # (the sweep ran while the edits were saved)
    for name in edited:
        assert f"Hand edit of {name}." in (root / "tickets" / name).read_text(encoding="utf-8")
    assert Esc(root, now=KILL_NOW)("validate").code == 0


# ---------------------------------------------------------------- waiting for a ticket

HOLDER = """
import sys
from pathlib import Path
from esc.store.lock import hold_ticket
with hold_ticket(Path(sys.argv[1]), sys.argv[2], timeout=5, what="test holder"):
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes stdin
"""


def hold_ticket_lock(root: Path, ticket: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root / ".esc-cache"), f"{ticket}.md"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    return proc


def test_intake_s_lock_timeout_bounds_its_wait_for_a_ticket_too(workspace: Path) -> None:
    """A reply to a ticket another command holds waited ESC_LOCK_TIMEOUT's 60 s whatever
    `--lock-timeout` said: an MTA's `--eml -` hung for a minute."""
    esc = Esc(workspace, now=NOW)
    busy = new_ticket(esc, "Busy")
    holder = hold_ticket_lock(workspace, busy)
    try:
        mail = (f"From: c@d.example\nSubject: Re: [{busy}] more\nMessage-ID: <lk10@d>\n\n"
                "x\n")  # fmt: skip
        result = esc("intake", "--eml", "-", "--lock-timeout", "0.3", input=mail,
                     env={"ESC_LOCK_TIMEOUT": "30"})  # fmt: skip
        assert result.code == 75, result.err  # (the MTA tries again later)
        assert "gave up after 0.3s" in result.out  # (its report: left for the next run)
    finally:
        holder.communicate("")


def test_a_ticket_being_written_makes_others_wait_then_give_up_clearly(workspace: Path) -> None:
    esc = Esc(workspace, now=NOW)
    busy, free = new_ticket(esc, "Busy"), new_ticket(esc, "Free")
    before = (workspace / "tickets" / f"{busy}.md").read_bytes()
    holder = hold_ticket_lock(workspace, busy)
    try:
        result = esc("comment", busy, "-m", "hello", env={"ESC_LOCK_TIMEOUT": "0.3"})
        assert result.code == 1
        holder_is = f"esc: {busy} is being changed by test holder pid {holder.pid} on "
        assert result.err.startswith(holder_is)
        assert result.err.endswith(
            "gave up after 0.3s (ESC_LOCK_TIMEOUT; a sweep's or intake's --lock-timeout)\n"
        )  # (comment has no --lock-timeout: the setting it has is named first)
        assert (workspace / "tickets" / f"{busy}.md").read_bytes() == before
        # a writer of another ticket does not wait
        assert esc("comment", free, "-m", "hello", env={"ESC_LOCK_TIMEOUT": "0"}).code == 0
        # a sweep leaves the busy ticket to the next sweep, says so, and does the rest
        swept = esc("sweep", "--no-report", "--lock-timeout", "0.2", now=LATER)
        assert swept.code == 0, swept.err
        assert f"  {busy}: left as it is for the next sweep: {busy} is being changed" in swept.out
        assert (workspace / "tickets" / f"{busy}.md").read_bytes() == before
        assert " · esc · sla." in (workspace / "tickets" / f"{free}.md").read_text()
        # the busy ticket still counts, overdue as check finds it
        again = esc("sweep", "--no-report", "--json", "--lock-timeout", "0.2", now=LATER)
        overdue = json.loads(esc("check", "--format", "json", now=LATER).out)["tickets"]
        assert busy in {t["id"] for t in overdue}
        assert set(json.loads(again.out)["overdue"]) == {t["id"] for t in overdue}
    finally:
        holder.communicate("")
    assert "1 changed" in esc.ok("sweep", "--no-report", now=LATER)  # the busy one, now
    assert " · esc · sla." in (workspace / "tickets" / f"{busy}.md").read_text()
    assert esc("comment", busy, "-m", "hello", now=LATER).code == 0


def test_a_bad_lock_timeout_is_a_usage_error(workspace: Path) -> None:
    esc = Esc(workspace, now=NOW)
    ticket = new_ticket(esc, "Anything")
    for value in ("soon", "-1", "inf", "nan"):
        result = esc("comment", ticket, "-m", "x", env={"ESC_LOCK_TIMEOUT": value})
        assert result.code == 2, (value, result)
        assert "ESC_LOCK_TIMEOUT" in result.err and result.err.count("\n") == 1
