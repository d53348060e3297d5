"""`esc plan --base REF` in a real git repository: a branch that tightens an SLA target,
moves a category to another team and edits a ticket, compared with main."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Esc

CREATED = "2026-11-20T09:00:00+01:00"  # Friday 09:00, Berlin office hours 09-17
NOW = "2026-11-20T10:30:00+01:00"  # 4h first response: due 13:00; with 1h: due 10:00, breached


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def change(esc: Esc, workspace: Path) -> dict[str, str]:
    """main: three tickets; the branch `change` (checked out): a 1h first response, billing
    handled by engineering, a tag on one ticket and a new ticket."""
    made = {
        "late": esc.ok("create", "--title", "Invoice missing", "--category", "billing",
                       now=CREATED).strip(),
        "bug": esc.ok("create", "--title", "Export crashes", "--category", "bug",
                      now=CREATED).strip(),
        "answered": esc.ok("create", "--title", "Wrong VAT", "--category", "billing",
                           now=CREATED).strip(),
    }  # fmt: skip
    esc.ok("comment", made["answered"], "-m", "Looking into it", now="2026-11-20T09:10:00+01:00")
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "helpdesk")
    git(workspace, "switch", "-qc", "change")
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("first_response: 4h,", "first_response: 1h,"))
    teams = workspace / "teams.yaml"
    text = teams.read_text().replace("[billing, account, how-to", "[account, how-to")
    teams.write_text(text.replace("[bug, outage, data]", "[billing, bug, outage, data]"))
    esc.ok("tag", made["answered"], "vip", now="2026-11-20T10:00:00+01:00")
    made["new"] = esc.ok("create", "--title", "How do I export?", "--category", "how-to",
                         now="2026-11-20T10:00:00+01:00").strip()  # fmt: skip
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "tighter first response; billing to engineering")
    return made


def test_plan_json_shows_what_the_change_does(esc: Esc, change: dict[str, str]) -> None:
    result = esc("plan", "--base", "main", "--format", "json", now=NOW)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["base"]["ref"] == "main" and data["now"] == NOW
    assert data["files"] == {
        "teams.yaml": "changed",
        "rules.yaml": "changed",
        "tickets": {"added": [change["new"]], "removed": [], "changed": [change["answered"]]},
    }
    assert data["causes"] == ["deadline", "breach", "escalation", "rule", "routing"]
    assert data["failed"] is False and data["findings"] == []
    assert data["routing"] == [{"category": "billing", "base": "support", "head": "engineering"}]
    tickets = {t["id"]: t for t in data["tickets"]}
    late = tickets[change["late"]]
    assert late["change"] == "same" and late["differs"] == ["sla", "route", "sweep"]
    assert late["base"]["clocks"]["first_response"] == {
        "due": "2026-11-20T13:00:00+01:00", "state": "ok", "running": True,
    }  # fmt: skip
    assert late["head"]["clocks"]["first_response"] == {
        "due": "2026-11-20T10:00:00+01:00", "state": "breached", "running": True,
    }  # fmt: skip
    assert (late["base"]["route"], late["head"]["route"]) == ("support", "engineering")
    assert late["base"]["fired"] == [] and late["head"]["fired"] == ["breached-goes-up"]
    assert late["head"]["escalations"] == [
        {"kind": "hierarchical", "from": "support", "to": "engineering",
         "by": "rule:breached-goes-up"},
    ]  # fmt: skip
    assert "note: SLA breached, escalating" in late["head"]["actions"]
    # the bug is at engineering (level 2): not re-routed, but its breach escalates it too
    bug = tickets[change["bug"]]
    assert bug["head"]["route"] is None and bug["head"]["escalations"][0]["to"] == "management"
    # answered in time under either target: its stopped clock's deadline moved, no matter
    answered = tickets[change["answered"]]
    assert answered["change"] == "changed" and answered["differs"] == ["route"]
    assert answered["head"]["clocks"]["first_response"] == {
        "due": "2026-11-20T10:00:00+01:00", "state": "met", "running": False,
    }  # fmt: skip
    assert answered["causes"] == ["routing"]
    new = tickets[change["new"]]
    assert new["change"] == "added" and new["base"] is None
    assert new["head"]["clocks"]["first_response"]["due"] == "2026-11-20T11:00:00+01:00"


def test_plan_says_deadlines_in_the_zone_of_now_where_people_read_them(
    esc: Esc, change: dict[str, str]
) -> None:
    """Issue 15's audit: a policy on a calendar of UTC said its deadlines in +00:00 beside
    the base's in +01:00 in the pull request's table, where show and check say them in
    --now's zone. The Markdown does too; the JSON keeps each calendar's (as the README
    says of every JSON)."""
    now = "2026-11-20T14:30:00+05:00"  # (NOW, as a reader five hours east says it)
    data = json.loads(esc.ok("plan", "--base", "main", "--format", "json", now=now))
    late = {t["id"]: t for t in data["tickets"]}[change["late"]]
    assert late["head"]["clocks"]["first_response"]["due"] == "2026-11-20T10:00:00+01:00"
    text = esc.ok("plan", "--base", "main", now=now)
    assert "due 2026-11-20 14:00+05:00" in text and "+01:00" not in text.split("#### SLA")[1]


def test_plan_markdown_for_a_pull_request(esc: Esc, change: dict[str, str]) -> None:
    out = esc.ok("plan", "--base", "main", now=NOW)
    lines = out.splitlines()
    assert lines[0].startswith("### esc plan: this change compared with `main` (")
    assert lines[0].endswith(f"as of {NOW}")
    assert "Changed: teams.yaml changed; rules.yaml changed; tickets: 1 added, 1 changed." in out
    assert "What it causes: deadline, breach, escalation, rule, routing" in out
    late = f"| `{change['late']}` Invoice missing |"
    assert (
        f"{late} first_response | ok, due 2026-11-20 13:00+01:00 "
        "| **breached**, due 2026-11-20 10:00+01:00 |"
    ) in lines
    assert "| billing | support | engineering |" in lines
    assert f"{late} support | engineering |" in lines
    [sweep] = [line for line in lines if line.startswith(late) and "fires" in line]
    assert sweep == (
        f"{late} – | fires breached-goes-up; escalates hierarchical support → engineering by "
        "rule:breached-goes-up; status → open; note: SLA breached, escalating |"
    )
    assert f"| `{change['new']}` How do I export? | added |" in lines
    assert f"| `{change['answered']}` Wrong VAT | changed |" in lines
    sla = out.split("#### SLA (3 tickets)", 1)[1].split("####", 1)[0]  # not the answered one
    assert change["answered"] not in sla and change["late"] in sla


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [
        ("breach", 1),
        ("policy,warning", 0),
        ("escalation", 1),
        ("invalid", 0),
        ("policy, routing", 1),
        ("", 2),  # (`--fail-on "$CAUSES"` with the variable unset: it would never fail)
        (" , ", 2),
    ],
)
def test_fail_on_exits_1_when_the_change_causes_it(
    esc: Esc, change: dict[str, str], fail_on: str, code: int
) -> None:
    result = esc("plan", "--base", "main", "--fail-on", fail_on, now=NOW)
    assert result.code == code, result.err
    if code == 2:
        assert result.err == "esc: --fail-on must not be empty\n"
    elif code:
        assert result.err.startswith("the change causes: ")
    else:
        assert result.err == ""


def test_a_reply_moves_no_deadline(esc: Esc, workspace: Path) -> None:
    """A pull request that answers a ticket stops its first response: `--fail-on deadline`
    (there to catch a policy edit) failed every such pull request."""
    ticket = esc.ok("create", "--title", "q", "--category", "billing", now=CREATED).strip()
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "helpdesk")
    git(workspace, "switch", "-qc", "reply")
    esc.ok("comment", ticket, "-m", "answered", now="2026-11-20T09:30:00+01:00")
    git(workspace, "commit", "-qam", "reply")
    result = esc("plan", "--base", "main", "--fail-on", "deadline", now=NOW)
    assert (result.code, result.err) == (0, "")


def test_a_policy_change_is_named(esc: Esc, change: dict[str, str], workspace: Path) -> None:
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("  - name: standard\n", "  - name: office\n"))
    data = json.loads(esc.ok("plan", "--base", "main", "--format", "json", now=NOW))
    assert "policy" in data["causes"]
    late = next(t for t in data["tickets"] if t["id"] == change["late"])
    assert (late["base"]["policy"], late["head"]["policy"]) == ("standard", "office")
    assert esc("plan", "--base", "main", "--fail-on", "policy", now=NOW).code == 1


def test_a_broken_configuration_is_reported(
    esc: Esc, change: dict[str, str], workspace: Path
) -> None:
    (workspace / "rules.yaml").write_text("priorities: [low, normal\n")  # uncommitted: the head
    result = esc("plan", "--base", "main", now=NOW)
    assert result.code == 0
    assert "#### Problems on this side" in result.out and "- `rules.yaml:" in result.out
    assert "What it causes: invalid" in result.out
    assert esc("plan", "--base", "main", "--fail-on", "invalid", now=NOW).code == 1


def test_a_broken_ticket_the_change_adds_is_invalid(esc: Esc, change: dict[str, str],
                                                   workspace: Path) -> None:
    (workspace / "tickets" / "T-broken00.md").write_text("---\ntitle: [\n---\n")
    data = json.loads(esc.ok("plan", "--base", "main", "--format", "json", now=NOW))
    assert [f.split(":")[0] for f in data["findings"]] == ["tickets/T-broken00.md"]
    assert "invalid" in data["causes"]


def test_a_team_renamed_that_tickets_still_name_is_invalid(
    esc: Esc, change: dict[str, str], workspace: Path
) -> None:
    """A branch renames the team `engineering` in teams.yaml: the tickets that still say
    `team: engineering`, none of them edited, stop validating, and every sweep after the
    merge leaves them alone; the preview showed no finding and `--fail-on invalid` passed
    (audit helper-413)."""
    teams = workspace / "teams.yaml"
    teams.write_text(teams.read_text().replace("  engineering:", "  platform:", 1))
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("engineering", "platform"))
    bug = change["bug"]
    assert "team: engineering" in (workspace / "tickets" / f"{bug}.md").read_text()
    result = esc("plan", "--base", "main", "--format", "json", "--fail-on", "invalid", now=NOW)
    data = json.loads(result.out)
    assert result.code == 1 and "invalid" in data["causes"]
    assert any(f.startswith(f"tickets/{bug}.md:") and "unknown team 'engineering'" in f
               for f in data["findings"])  # fmt: skip
    git(workspace, "checkout", "-q", "--", ".")  # (the rename undone: nothing invalid)
    assert esc("plan", "--base", "main", "--fail-on", "invalid", now=NOW).code == 0


def test_a_clone_whose_checkout_makes_crlf_changed_no_ticket(
    esc: Esc, change: dict[str, str], workspace: Path
) -> None:
    """`core.autocrlf=true` (Git for Windows): the work tree holds CRLF, the commits LF,
    and `git status` is clean; the preview said every ticket had changed (audit
    helper-413)."""
    git(workspace, "config", "core.autocrlf", "true")
    for path in (workspace / "tickets").glob("*.md"):
        path.unlink()
    git(workspace, "checkout", "--", "tickets")
    assert git(workspace, "status", "--porcelain") == ""
    data = json.loads(esc.ok("plan", "--base", "HEAD", "--format", "json", now=NOW))
    assert data["files"]["tickets"] == {"added": [], "changed": [], "removed": []}


def test_a_fingerprint_alone_changed_no_ticket(
    esc: Esc, change: dict[str, str], workspace: Path
) -> None:
    """A branch that only drops (or adds) a sweep's fingerprint, a comment that is never
    data: the preview listed the ticket as changed, differing in nothing (audit
    helper-457)."""
    from esc.ticketfile import document, fingerprint

    path = workspace / "tickets" / f"{change['bug']}.md"
    text = path.read_text()
    stamped = fingerprint.stamped(document.parse(text, path.name)).text
    assert stamped != text
    path.write_text(stamped)
    data = json.loads(esc.ok("plan", "--base", "HEAD", "--format", "json", now=NOW))
    assert data["files"]["tickets"] == {"added": [], "changed": [], "removed": []}
    path.write_text(stamped.replace("status: ", "status:  ", 1))  # (a change: still one)
    data = json.loads(esc.ok("plan", "--base", "HEAD", "--format", "json", now=NOW))
    assert data["files"]["tickets"]["changed"] == [change["bug"]]


def test_a_configuration_that_stops_every_command_is_said_so(
    esc: Esc, change: dict[str, str], workspace: Path
) -> None:
    """`priority: urgnet` in a policy: the preview listed the problem and still ended "No
    ticket's SLA, routing or next sweep changes." while every command (the next sweep
    too) would refuse to run."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("{priority: urgent}", "{priority: urgnet}", 1))
    out = esc.ok("plan", "--base", "HEAD", now=NOW)
    assert "stops every esc command (exit 1) until its problems are fixed" in out
    assert "No ticket's SLA, routing or next sweep changes." not in out
    data = json.loads(esc.ok("plan", "--base", "HEAD", "--format", "json", now=NOW))
    assert data["blocked"] is True and "invalid" in data["causes"]
    # (nothing is made up of what its policies would do: a typo is no change of policy)
    rules.write_text(rules.read_text().replace("{priority: urgnet}", "{priority: urgent}", 1)
                     .replace("first_response: 1h", "first_response: 4x", 1))  # fmt: skip
    data = json.loads(esc.ok("plan", "--base", "main", "--format", "json", now=NOW))
    assert data["causes"] == ["invalid"]  # (the files it changes: listed all the same)
    assert data["files"]["tickets"]["added"] and data["tickets"]
    assert all(t["causes"] == [] and t["head"] is None for t in data["tickets"])
    assert esc("plan", "--base", "HEAD", "--fail-on", "policy,rule", now=NOW).code == 0
    # (a cause and a format in any case, `md` for Markdown, as `esc report` takes it)
    failing = esc("plan", "--base", "HEAD", "--fail-on", "Invalid", "--format", "MD", now=NOW)
    assert failing.code == 1 and failing.out.startswith("#")


def test_nothing_changed(esc: Esc, change: dict[str, str]) -> None:
    out = esc.ok("plan", "--base", "HEAD", now=NOW)
    assert "Changed: no ticket file changed; teams.yaml and rules.yaml unchanged." in out
    assert out.rstrip().endswith("No ticket's SLA, routing or next sweep changes.")


def test_the_base_is_where_the_branch_forked(esc: Esc, change: dict[str, str],
                                             workspace: Path) -> None:
    """Work that landed on main after the branch forked is not this change's doing."""
    git(workspace, "switch", "-q", "main")
    esc.ok("create", "--title", "Landed on main later", "--category", "bug", now=CREATED)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "later on main")
    git(workspace, "switch", "-q", "change")
    data = json.loads(esc.ok("plan", "--base", "main", "--format", "json", now=NOW))
    assert data["base"]["commit"] == git(workspace, "rev-parse", "main~1").strip()
    assert data["files"]["tickets"]["removed"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "-x"], "esc: --base: '-x' is not a git ref\n"),
        (["--base=--output=x"], "esc: --base: '--output=x' is not a git ref\n"),
        (["--base", "no-such-branch"],
         "esc: --base: unknown git ref 'no-such-branch' (no such branch, tag or commit here)\n"),
        (["--base", "main", "--fail-on", "breach,polcy"],
         "esc: --fail-on: unknown cause 'polcy' (did you mean 'policy'?); choose from invalid, "
         "policy, deadline, breach, warning, escalation, rule, routing\n"),
    ],
)  # fmt: skip
def test_a_bad_ref_or_cause_is_one_line_and_exit_2(
    esc: Esc, change: dict[str, str], workspace: Path, args: list[str], message: str
) -> None:
    result = esc("plan", *args, now=NOW)
    assert (result.code, result.out, result.err) == (2, "", message)
    assert not (workspace / "x").exists()


def test_outside_git_is_one_line(esc: Esc) -> None:
    result = esc("plan", "--base", "main")
    assert result.code == 1
    assert result.err.startswith("esc: --base needs a git repository: ")
    assert len(result.err.splitlines()) == 1


def test_the_readme_example_is_real_output(demo: Path) -> None:
    """The README's `esc plan` example, made again on the demo workspace."""
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Previewing a change: `esc plan`", 1)[1]
    shown = section.split("```markdown\n", 1)[1].split("\n```", 1)[0]
    git(demo, "init", "-q", "-b", "main")
    git(demo, "add", "-A")
    git(demo, "commit", "-qm", "demo")
    git(demo, "switch", "-qc", "tighter")
    rules, teams = demo / "rules.yaml", demo / "teams.yaml"
    rules.write_text(rules.read_text().replace("{first_response: 4h,", "{first_response: 2h,"))
    text = teams.read_text().replace("how-to, refund]", "how-to]")
    top = "    lead: clara              # the top of the chain: no escalates_to"
    text = text.replace(f"{top}, and handles no category", f"{top}\n    handles: [refund]")
    teams.write_text(text)
    esc = Esc(demo)
    esc.ok("comment", "T-bayajkak", "-m", "Refund on its way", "--by", "maya",
           now="2026-11-27T09:30:00+01:00")  # fmt: skip
    git(demo, "commit", "-qam", "2h first response; refunds to management")
    out = esc.ok("plan", "--base", "main", now="2026-11-27T11:30:00+01:00")
    commit = git(demo, "rev-parse", "main").strip()
    assert out.rstrip("\n") == shown.replace(shown.split("(", 1)[1][:10], commit[:10], 1)


def test_a_ticket_that_does_not_validate_gets_no_made_up_breach(
    esc: Esc, change: dict[str, str], workspace: Path
) -> None:
    """A ticket the change adds with only `id` and `title`: its SLA was computed from a
    1970 creation time, "breached", and `--fail-on breach` failed for it; only `invalid`
    is the change's."""
    (workspace / "tickets" / "T-brokenzz.md").write_text(
        "---\nid: T-brokenzz\ntitle: half a ticket\n---\n\nText.\n"
    )
    data = json.loads(esc.ok("plan", "--base", "HEAD", "--format", "json", now=NOW))
    assert "tickets/T-brokenzz.md" in " ".join(data["findings"])
    assert "invalid" in data["causes"] and "breach" not in data["causes"]
    broken = [t for t in data["tickets"] if t["id"] == "T-brokenzz"]
    assert broken and broken[0]["head"] is None
