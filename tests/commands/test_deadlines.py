"""`esc check`, `esc upcoming` and `esc list --overdue`, as CI and people run them."""
from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import Esc, findings, with_ola

CREATED = "2026-11-20T09:00:00+01:00"  # Friday 09:00, Berlin office hours 09-17 on weekdays
LATE = "2026-11-23T12:00:00+01:00"  # Monday noon: first response (4h, due Fri 13:00) is overdue


@pytest.fixture
def tickets(esc: Esc) -> dict[str, str]:
    made = {
        "late": esc.ok("create", "--title", "No reply yet", "--category", "billing", now=CREATED),
        "answered": esc.ok("create", "--title", "Answered", "--category", "billing", now=CREATED),
        "fresh": esc.ok("create", "--title", "Fresh <b>", "--category", "billing",
                        now="2026-11-23T11:00:00+01:00"),
    }
    made = {k: v.strip() for k, v in made.items()}
    esc.ok("comment", made["answered"], "-m", "On it", now="2026-11-20T09:30:00+01:00")
    return made


def test_check_text_lists_overdue_and_fails(esc: Esc, tickets: dict[str, str]) -> None:
    result = esc("check", now=LATE)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(f"{tickets['late']} (support, normal): first_response breached")
    assert "(due 2026-11-20T13:00:00+01:00)" in lines[0] and lines[0].endswith("No reply yet")
    assert lines[-1] == "1 of 3 active tickets overdue"


def test_check_passes_when_nothing_is_overdue(esc: Esc, tickets: dict[str, str]) -> None:
    result = esc("check", now="2026-11-20T10:00:00+01:00")
    assert result.code == 0
    assert result.out == "ok: none of 3 active tickets overdue\n"


def test_check_fail_on_warning(esc: Esc, tickets: dict[str, str]) -> None:
    # 12:00 Friday: 3h of the 4h first response used = 75%: warning, not yet breached
    assert esc("check", now="2026-11-20T12:00:00+01:00").code == 0
    result = esc("check", "--fail-on", "warning", now="2026-11-20T12:00:00+01:00")
    assert result.code == 1
    assert "first_response warning, due in 1h" in result.out
    assert result.out.splitlines()[-1] == (
        "1 of 3 active tickets overdue or in warning (0 overdue, 1 in warning)"
    )


def test_check_json(esc: Esc, tickets: dict[str, str]) -> None:
    data = json.loads(esc("check", "--format", "json", now=LATE).out)
    assert data["failed"] is True and data["active_tickets"] == 3
    assert (data["overdue_tickets"], data["warning_tickets"]) == (1, 0)
    [item] = data["tickets"]
    assert item["id"] == tickets["late"] and item["state"] == "breached"
    assert item["sla"]["first_response"]["due"] == "2026-11-20T13:00:00+01:00"
    assert item["file"] == f"tickets/{tickets['late']}.md"


def test_check_github_annotations(esc: Esc, tickets: dict[str, str]) -> None:
    out = esc("check", "--format", "github", now=LATE).out
    [line] = out.splitlines()
    assert line.startswith(f"::error file=tickets/{tickets['late']}.md,line=1::SLA breached: ")
    assert f"::SLA breached: {tickets['late']} (" in line
    warned = esc("check", "--format", "github", "--fail-on", "warning", now=LATE)
    assert warned.code == 1
    assert all(line.startswith("::error file=tickets/") for line in warned.out.splitlines())


def test_github_annotations_name_files_from_the_repository_s_top(
    esc: Esc, tickets: dict[str, str], workspace: Path
) -> None:
    """A workspace in a folder of its repository (`helpdesk/`): GitHub attaches an
    annotation to `helpdesk/tickets/…`, the path from the repository's top."""
    subprocess.run(["git", "init", "-q", str(workspace.parent)], check=True)
    out = esc("check", "--format", "github", now=LATE).out
    assert out.startswith(f"::error file=ws/tickets/{tickets['late']}.md,line=1::"), out
    # JUnit's too, which GitLab links from the repository's top (it linked `tickets/…`)
    junit = esc("check", "--format", "junit", now=LATE).out
    assert f'file="ws/tickets/{tickets["late"]}.md"' in junit and 'file="tickets/' not in junit
    (workspace / "rules.yaml").write_text("priorities: [low, high\n")
    broken = esc("check", "--format", "junit", now=LATE).out
    assert 'file="ws/rules.yaml"' in broken, broken


def test_a_configuration_that_does_not_load_is_annotated_in_github_format(
    esc: Esc, tickets: dict[str, str], workspace: Path
) -> None:
    """A pull request breaking rules.yaml failed the check with stderr alone: no annotation
    marked the file, as one does a broken ticket."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + "priorities: [low, high\n")
    line = rules.read_text().count("\n")
    result = esc("check", "--format", "github", now=LATE)
    assert result.code == 1
    [annotation] = result.out.splitlines()
    said = f"::error file=rules.yaml,line={line}::configuration does not load: "
    assert annotation.startswith(said)
    assert result.err.startswith(f"rules.yaml:{line}: ")


def test_a_configuration_that_does_not_load_is_in_the_json_and_junit_reports(
    esc: Esc, tickets: dict[str, str], workspace: Path
) -> None:
    """A merge request breaking rules.yaml: `check --format junit > esc-check.xml` wrote an
    empty file (the finding went to stderr alone), which CI's test report cannot read; json
    likewise. Both now say it, failed, where the report goes."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + "priorities: [low, high\n")
    line = rules.read_text().count("\n")
    as_json = esc("check", "--format", "json", now=LATE)
    assert as_json.code == 1 and as_json.err.startswith(f"rules.yaml:{line}: ")
    data = json.loads(as_json.out)
    assert data["failed"] is True and data["active_tickets"] is None
    [error] = data["config_errors"]
    assert (error["file"], error["line"]) == ("rules.yaml", line)
    junit = esc("check", "--format", "junit", now=LATE)
    assert junit.code == 1
    suite = ET.fromstring(junit.out)
    assert suite.get("errors") == "1"
    [case] = suite.iter("testcase")
    assert case.get("classname") == "esc.config" and case.get("name") == f"rules.yaml:{line}"
    found = case.find("error")
    assert found is not None and "configuration does not load" in found.get("message", "")


def test_check_names_the_team_whose_request_is_late(esc: Esc, workspace: Path) -> None:
    """`collaboration breached 2h ago` named no team: with requests to two teams, the one
    the clock follows (the oldest open request) is named, as `show` names each."""
    with_ola(workspace, "2h")
    ticket = esc.ok("create", "--title", "t", "--body", "b", "--category", "billing",
                    now="2026-12-14T09:00:00+01:00").strip()  # fmt: skip
    for team, day in (("management", "14"), ("engineering", "15")):
        esc.ok("involve", ticket, "--team", team, "--ask", "?", now=f"2026-12-{day}T10:00:00+01:00")
    result = esc("check", now="2026-12-15T12:00:00+01:00")
    assert result.code == 1
    assert "collaboration (management) breached" in result.out, result.out
    github = esc("check", "--format", "github", now="2026-12-15T12:00:00+01:00").out
    assert "collaboration (management) breached" in github


def test_check_junit_has_one_case_per_open_ticket(esc: Esc, tickets: dict[str, str]) -> None:
    result = esc("check", "--format", "junit", now=LATE)
    suite = ET.fromstring(result.out)
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    cases = {c.get("name", "").split()[0]: c for c in suite.iter("testcase")}
    assert set(cases) == set(tickets.values())
    assert cases[tickets["late"]].find("failure") is not None
    assert cases[tickets["answered"]].find("failure") is None
    assert "Fresh <b>" in cases[tickets["fresh"]].get("name", "")


def test_check_junit_stays_xml_with_control_characters_in_a_title(
    esc: Esc, tickets: dict[str, str]
) -> None:
    """ESC and BEL cannot be in XML 1.0, even escaped: they are shown as \\x1b, \\x07."""
    path = esc.cwd / "tickets" / f"{tickets['late']}.md"
    path.write_text(path.read_text().replace(
        "title: No reply yet", 'title: "A \\e[2J B \\e]0;X\\a C"'))  # fmt: skip
    suite = ET.fromstring(esc("check", "--format", "junit", now=LATE).out)
    names = [c.get("name", "") for c in suite.iter("testcase")]
    assert f"{tickets['late']} A \\x1b[2J B \\x1b]0;X\\x07 C" in names


def test_upcoming_soonest_first(esc: Esc, tickets: dict[str, str]) -> None:
    # Monday 11:30: fresh's first response is due 15:00; answered's resolution (24h) is due
    # Tuesday 17:00 (Fri 8h + Mon 8h + Tue 8h); late's first response is already breached.
    out = esc.ok("upcoming", "--within", "8h", now="2026-11-23T11:30:00+01:00")
    [line] = out.splitlines()
    assert line.startswith(f"{tickets['fresh']}  in 3h") and "first_response" in line
    rows = json.loads(esc.ok("upcoming", "--within", "2d", "--json",
                             now="2026-11-23T11:30:00+01:00"))
    # late's and answered's resolution are both due Tuesday 17:00 (ties go by ID); fresh's
    # (Mon 11:00 + 24h of office time = Thursday 11:00) is further than 2 days away
    tied = sorted([tickets["late"], tickets["answered"]])
    assert [(r["id"], r["metric"]) for r in rows] == [
        (tickets["fresh"], "first_response"),
        (tied[0], "resolution"),
        (tied[1], "resolution"),
    ]
    assert rows[0]["due"] == "2026-11-23T15:00:00+01:00"


def test_upcoming_writes_a_deadline_in_the_zone_of_now_as_show_does(esc: Esc) -> None:
    """The urgent policy's calendar is UTC: `upcoming` wrote its deadline as UTC, `show`
    (and `check`) as --now's offset; the text now writes it as `show` does."""
    ticket = esc.ok("create", "--title", "Checkout down", "--category", "outage",
                    "--priority", "urgent", now="2026-11-23T11:00:00+01:00").strip()  # fmt: skip
    at = "2026-11-23T11:10:00+01:00"
    [line] = esc.ok("upcoming", "--within", "1h", now=at).splitlines()
    assert line.startswith(f"{ticket}  in 20m") and " 2026-11-23T11:30:00+01:00 " in line
    assert "first_response met" not in esc.ok("show", ticket, now=at)
    assert "(2026-11-23T11:30:00+01:00)" in esc.ok("show", ticket, now=at)


def test_upcoming_bad_duration(esc: Esc) -> None:
    result = esc("upcoming", "--within", "soon")
    assert result.code == 2 and result.err.startswith("esc: --within:")


def test_list_overdue_and_json_sla(esc: Esc, tickets: dict[str, str]) -> None:
    out = esc.ok("list", "--overdue", "--json", now=LATE)
    [item] = json.loads(out)
    assert item["id"] == tickets["late"]
    assert item["sla"]["policy"] == "standard"
    assert item["sla"]["first_response"] == {
        "due": "2026-11-20T13:00:00+01:00", "state": "breached", "target": "4h",
        "used": "11h", "stopped": None,
    }
    shown = json.loads(esc.ok("show", tickets["answered"], "--json", now=LATE))
    assert shown["sla"]["first_response"]["state"] == "met"


def test_list_has_an_sla_column_with_the_next_deadline(
    esc: Esc, tickets: dict[str, str]
) -> None:
    wide = {"COLUMNS": "100"}  # (every column; a narrower terminal drops the level first)
    lines = esc.ok("list", "--sort", "created", now=LATE, env=wide).splitlines()
    assert lines[0].split()[7] == "SLA"
    rows = {line.split()[0]: line for line in lines[1:]}
    # late: first response due Fri 13:00, Monday noon is 2d23h past it; answered: its
    # resolution (24h of office time) is due Tue 17:00; fresh: first response due Mon 15:00
    assert "  breached 2d23h ago  " in rows[tickets["late"]]
    assert "  due in 1d5h  " in rows[tickets["answered"]]
    assert "  due in 3h  " in rows[tickets["fresh"]]
    items = json.loads(esc.ok("list", "--json", now=LATE))
    shown = {i["id"]: i["next_sla"] for i in items}
    assert shown[tickets["late"]] == {
        "metric": "first_response",
        "due": "2026-11-20T13:00:00+01:00",
        "state": "breached",
        "text": "breached 2d23h ago",
    }
    assert shown[tickets["fresh"]]["due"] == "2026-11-23T15:00:00+01:00"


def test_explain_shows_clocks_and_rules(esc: Esc, tickets: dict[str, str], workspace: Path) -> None:
    esc.ok("wait", tickets["answered"], "--reason", "need the invoice number",
           now="2026-11-20T10:00:00+01:00")
    esc.ok("resume", tickets["answered"], now="2026-11-20T14:00:00+01:00")
    out = esc.ok("explain", tickets["answered"], now=LATE)
    assert "SLA policy standard: policy 2 of 2 is the first that matches" in out
    assert "paused   2026-11-20T10:00:00+01:00 → 2026-11-20T14:00:00+01:00" in out
    assert "first_response: met" in out
    # resolution: Fri 09-10 and 14-17 (4h) + Mon 09-12 (3h) = 7h counted
    assert "counted  7h in 3 working interval(s):" in out
    assert "Fri 2026-11-20 09:00 → 10:00  (1h)" in out
    assert "breached-goes-up: no — " in out
    assert "outage-is-urgent: no — category is billing, needs outage" in out


def test_explain_says_what_a_sweep_now_does_at_the_moments_it_replays(
    esc: Esc, tickets: dict[str, str]
) -> None:
    """The first response was breached at 13:00, then answered at 13:30, with no sweep
    between: explain said the breach rule does not match ("first_response met") while the
    sweep at the same --now escalates, as a sweep at 13:00 would have."""
    late = tickets["late"]
    esc.ok("sweep", "--no-report", now="2026-11-20T12:00:00+01:00")
    esc.ok("comment", late, "-m", "Looking", now="2026-11-20T13:30:00+01:00")
    out = esc.ok("explain", late, now="2026-11-20T14:00:00+01:00")
    assert "breached-goes-up: no — sla is first_response met" in out  # (as of now)
    assert out.endswith(
        "A sweep at 2026-11-20T14:00:00+01:00 (the moments since the last sweep replayed):\n"
        "  2026-11-20T13:00:00+01:00  support → engineering (breached-goes-up)\n"
        "  2026-11-20T13:00:00+01:00  status new → open (breached-goes-up)\n"
        '  2026-11-20T13:00:00+01:00  note "SLA breached, escalating" (breached-goes-up)\n'
    ), out  # (the escalation opened it at 13:00, as a sweep then would have: the reply's
    # `new → open` at 13:30, on the file as it was, changes nothing)
    swept = esc.ok("sweep", "--dry-run", "--no-report", now="2026-11-20T14:00:00+01:00")
    assert f"  {late}: support → engineering (breached-goes-up)\n" in swept
    esc.ok("sweep", "--no-report", now="2026-11-20T14:00:00+01:00")
    again = esc.ok("explain", late, now="2026-11-20T14:05:00+01:00")
    assert again.endswith("A sweep at 2026-11-20T14:05:00+01:00: no rule acts\n")
    early = esc.ok("explain", tickets["fresh"], now="2026-11-20T14:05:00+01:00")
    assert early.endswith(
        "A sweep at 2026-11-20T14:05:00+01:00: leaves it (created at "
        "2026-11-23T11:00:00+01:00, after --now; left as it is)\n"
    )


def test_check_changed_since_judges_only_the_changed_tickets(
    esc: Esc, tickets: dict[str, str], workspace: Path
) -> None:
    """A pull request fails for its own overdue tickets, not for every overdue one."""
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=workspace, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "helpdesk")
    git("switch", "-qc", "pr")
    assert esc("check", now=LATE).code == 1  # the scheduled alarm: late is overdue
    result = esc("check", "--changed-since", "main", now=LATE)
    assert result.code == 0
    assert result.out == "ok: none of 0 active tickets changed since main overdue\n"
    # a new ticket, not yet added to git, and an edit of an answered one: judged, not overdue
    new = esc.ok("create", "--title", "New", "--category", "billing", now=LATE).strip()
    esc.ok("tag", tickets["answered"], "vip", now=LATE)
    result = esc("check", "--changed-since", "main", "--format", "json", now=LATE)
    data = json.loads(result.out)
    assert (result.code, data["active_tickets"], data["changed_since"]) == (0, 2, "main")
    # committing does not change what is judged; touching the late ticket does
    git("add", "-A")
    git("commit", "-qm", "pr work")
    esc.ok("comment", tickets["late"], "-m", "Sorry for the wait", "--internal", now=LATE)
    result = esc("check", "--changed-since", "main", now=LATE)
    assert result.code == 1
    assert [line.split()[0] for line in result.out.splitlines()] == [tickets["late"], "1"]
    assert result.out.splitlines()[-1] == "1 of 3 active tickets changed since main overdue"
    assert new not in result.out


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("-x", "esc: --changed-since: '-x' is not a git ref\n"),
        ("nope", "esc: --changed-since: unknown git ref 'nope' (no such branch, tag or commit "
                 "here)\n"),
    ],
)
def test_check_changed_since_a_bad_ref(esc: Esc, workspace: Path, ref: str, message: str) -> None:
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    result = esc("check", f"--changed-since={ref}")
    assert (result.code, result.out, result.err) == (2, "", message)


def test_upcoming_lists_a_ticket_once_with_its_first_breach(esc: Esc) -> None:
    """An urgent ticket's first response (30m) and resolution (4h) both fall within 8h:
    one row, the first response's."""
    made = esc.ok("create", "--title", "Checkout down", "--category", "outage",
                  "--priority", "urgent", now="2026-11-23T10:00:00+01:00").strip()  # fmt: skip
    rows = json.loads(esc.ok("upcoming", "--within", "8h", "--json",
                             now="2026-11-23T10:05:00+01:00"))  # fmt: skip
    assert [(r["id"], r["metric"]) for r in rows] == [(made, "first_response")]
    text = esc.ok("upcoming", "--within", "8h", now="2026-11-23T10:05:00+01:00")
    assert len(text.splitlines()) == 1 and text.startswith(f"{made}  in 25m")


def test_check_names_a_ticket_that_does_not_fit_the_configuration(
    esc: Esc, tickets: dict[str, str]
) -> None:
    """A misspelt priority (or a team teams.yaml lacks) is a finding of check, at its line,
    as of validate: the ticket would be judged under the wrong SLA."""
    path = esc.cwd / "tickets" / f"{tickets['fresh']}.md"
    path.write_text(path.read_text().replace("priority: normal", "priority: urgnet"))
    text = esc("check", now=LATE)
    line = f"tickets/{tickets['fresh']}.md:5: unknown priority 'urgnet'"
    assert text.code == 1 and text.out.startswith(line), text.out
    data = json.loads(esc("check", "--format", "json", now=LATE).out)
    file = f"tickets/{tickets['fresh']}.md"
    assert [(b["file"], b["line"]) for b in data["broken"]] == [(file, 5)]
    assert data["failed"] is True
    github = esc("check", "--format", "github", now=LATE).out
    assert f"::error file=tickets/{tickets['fresh']}.md,line=5::ticket file does not" in github


def test_check_names_what_validate_names_in_a_ticket_against_the_configuration(
    esc: Esc, tickets: dict[str, str]
) -> None:
    """A misspelt category, or an escalation to a team teams.yaml lacks, is check's finding
    as validate's (same text, same line), and the ticket is still counted (issue 14)."""
    late = tickets["late"]
    esc.ok("escalate", late, "--to", "engineering", "--reason", "bug", now=CREATED)
    path = esc.cwd / "tickets" / f"{late}.md"
    text = path.read_text().replace("category: billing", "category: biling")
    path.write_text(text.replace("to: engineering", "to: enginering"))
    validate = esc("validate")
    assert validate.code == 1 and len(findings(validate)) == 2, validate.err
    check = esc("check", now=LATE)
    assert check.code == 1
    assert check.out.splitlines()[:2] == findings(validate)
    assert "unknown category 'biling' (did you mean 'billing'?); one of" in check.out
    assert "escalation 1: unknown team 'enginering' (did you mean 'engineering'?)" in check.out
    # (one file, two problems: one ticket file broken)
    assert check.out.splitlines()[-1] == "1 of 3 active tickets overdue; 1 ticket file broken"


def test_check_counts_a_ticket_of_an_unknown_team_as_every_command_does(
    esc: Esc, tickets: dict[str, str]
) -> None:
    """A ticket of a team teams.yaml no longer has is a finding, and still one of the active
    tickets, overdue when it is: as `list`, the sweep and the reports count it (issue 14)."""
    path = esc.cwd / "tickets" / f"{tickets['late']}.md"
    path.write_text(path.read_text().replace("team: support", "team: suport"))
    data = json.loads(esc("check", "--format", "json", now=LATE).out)
    assert (data["active_tickets"], data["overdue_tickets"]) == (3, 1)
    assert [t["id"] for t in data["tickets"]] == [tickets["late"]]
    assert [b["message"] for b in data["broken"]] == [
        "unknown team 'suport' (did you mean 'support'?); one of support, engineering, management"
    ]
    listing = esc("list", "--overdue", "--json", now=LATE)  # (listed, and a finding: exit 1)
    assert listing.code == 1 and "unknown team 'suport'" in listing.err
    assert [t["id"] for t in json.loads(listing.out)] == [tickets["late"]]
    assert esc("check", now=LATE).out.splitlines()[-1] == (
        "1 of 3 active tickets overdue; 1 ticket file broken"
    )


def test_changed_since_in_a_shallow_clone_says_to_fetch_the_history(
    esc: Esc, tickets: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    """A CI checkout without the fork point (`fetch-depth: 1`, a shallow GitLab clone):
    `check --changed-since` and `plan --base` compared with the base branch's tip, and
    blamed the pull request for every ticket changed there since (issue 15's audit).  One
    clear line, exit 1, nothing judged."""
    from tests.conftest import Esc as Run

    def git(*args: str, cwd: Path = workspace) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "helpdesk")
    git("switch", "-qc", "pr")
    esc.ok("tag", tickets["answered"], "vip", now=LATE)
    git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qam", "pr")
    git("switch", "-q", "main")
    esc.ok("comment", tickets["late"], "-m", "Sorry", "--internal", now=LATE)
    git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qam", "main moved on")
    clone = tmp_path / "ci"
    git("clone", "-q", "--depth", "1", "--branch", "pr", workspace.as_uri(), str(clone),
        cwd=tmp_path)  # fmt: skip
    git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main", cwd=clone)
    run = Run(clone)
    for argv in (("check", "--changed-since", "origin/main"), ("plan", "--base", "origin/main")):
        result = run(*argv, now=LATE)
        assert (result.code, result.out) == (1, ""), result
        assert result.err == (
            f"esc: {argv[1]} origin/main: origin/main and HEAD share no history in this"
            " shallow clone, so what changed cannot be told; fetch the whole history"
            " (actions/checkout's `fetch-depth: 0`, GitLab's `GIT_DEPTH: 0`, or `git fetch"
            " --unshallow`)\n"
        )
    git("fetch", "-q", "--unshallow", "origin", cwd=clone)
    result = run("check", "--changed-since", "origin/main", now=LATE)
    assert result.code == 0 and "ok: none of 1 active tickets changed since" in result.out


def test_explain_names_the_calendar_s_zone_when_its_intervals_read_otherwise(
    esc: Esc, workspace: Path
) -> None:
    """The urgent policy's calendar is UTC: a ticket made at 22:00+01:00 showed its counted
    time from `Mon 21:00`, an hour before it existed as `--now` reads it, with nothing
    saying whose clock that is (audit helper-472); an office calendar in `--now`'s own
    offset says nothing more."""
    ticket = esc.ok("create", "--title", "Checkout down", "--priority", "urgent",
                    now="2026-12-07T22:00:00+01:00").strip()  # fmt: skip
    out = esc.ok("explain", ticket, now="2026-12-08T01:00:00+01:00")
    assert "  counted  3h in 1 working interval(s) (in UTC, the calendar's time):" in out
    assert "Mon 2026-12-07 21:00 → Tue 2026-12-08 00:00  (3h)" in out


def test_upcoming_says_what_a_ticket_that_does_not_fit_the_configuration_is(
    esc: Esc, workspace: Path
) -> None:
    """A ticket whose team and priority the configuration lacks: `list` and `check` name it
    (exit 1); `upcoming` listed it or not, exit 0, in silence (review helper-482)."""
    ticket = esc.ok("create", "--title", "x", "--category", "billing",
                    now="2026-11-20T09:00:00+01:00").strip()  # fmt: skip
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text().replace("team: support", "team: suport")
    path.write_text(text.replace("priority: normal", "priority: hig"))
    result = esc("upcoming", "--within", "30d", now="2026-11-20T10:00:00+01:00")
    assert result.code == 1
    assert f"tickets/{ticket}.md:7: unknown team 'suport'" in result.err
