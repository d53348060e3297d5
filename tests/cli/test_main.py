"""Every esc command as a user runs it: the installed `esc` in a subprocess.

Assertions are on what a user sees (stdout, stderr, exit code) and on the ticket files and
`esc show --json` afterwards.  Every run also checks that esc printed no traceback and did
not report an internal error (exit 3).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from esc.config.starter import GITIGNORE, RULES_YAML, TEAMS_YAML
from tests.conftest import ESC, NOW, Esc, Result, findings, found_text, run_in_process

ID_RE = re.compile(r"^T-[0-9a-hjkmnp-tv-z]{8}$")
LATER = "2026-11-20T11:30:00+01:00"
EXIT_BUG = 3

FRONT_MATTER_NAMES = (
    "id",
    "title",
    "status",
    "priority",
    "category",
    "team",
    "assignee",
    "customer",
    "channel",
    "created",
    "updated",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "tags",
    "impact",
    "urgency",
    "csat",
    "escalations",
)
TIMESTAMPS = ("created", "updated", "first_response_at", "resolved_at", "closed_at")


@dataclass
class CheckedEsc(Esc):
    """The conftest runner, plus: no run may print a traceback or exit with the bug code."""

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        now: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        result = super().__call__(*args, input=input, now=now, env=env)
        assert "Traceback" not in result.err, result.err
        assert "Traceback" not in result.out, result.out
        assert result.code != EXIT_BUG, f"esc {' '.join(args)}: {result.err}"
        return result


@pytest.fixture
def esc(workspace: Path) -> CheckedEsc:
    return CheckedEsc(workspace)


# ---------------------------------------------------------------- helpers


def at(days: float = 0, hours: float = 0) -> str:
    """NOW shifted back by ``days`` and ``hours``, as esc writes it."""
    moment = dt.datetime.fromisoformat(NOW) - dt.timedelta(days=days, hours=hours)
    return moment.isoformat(timespec="seconds")


def create(esc: Esc, *args: str, title: str = "Card declined", now: str | None = None) -> str:
    out = esc.ok("create", "--title", title, *args, now=now)
    ticket_id = out.strip()
    assert ID_RE.match(ticket_id), out
    return ticket_id


def show(esc: Esc, ref: str) -> dict[str, Any]:
    data = json.loads(esc.ok("show", ref, "--json"))
    assert isinstance(data, dict)
    return data


def list_json(esc: Esc, *args: str) -> list[dict[str, Any]]:
    data = json.loads(esc.ok("list", "--json", *args))
    assert isinstance(data, list)
    return data


def ticket_file(workspace: Path, ticket_id: str) -> Path:
    return workspace / "tickets" / f"{ticket_id}.md"


def ticket_files(workspace: Path) -> list[str]:
    return sorted(p.name for p in (workspace / "tickets").glob("*.md"))


def all_ticket_bytes(workspace: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((workspace / "tickets").glob("*.md"))}


def rename_ticket(workspace: Path, old: str, new: str) -> None:
    """Give a ticket a chosen ID (file name and front-matter), as if esc had picked it."""
    path = ticket_file(workspace, old)
    text = path.read_text(encoding="utf-8").replace(f"id: {old}\n", f"id: {new}\n", 1)
    ticket_file(workspace, new).write_text(text, encoding="utf-8")
    path.unlink()


def assert_refused(result: Result, *fragments: str) -> None:
    """An expected error: exit 1, nothing on stdout, one `esc: ...` line on stderr."""
    assert_one_line_error(result, 1, *fragments)


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    assert result.code == code, result
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("esc: "), result.err
    for fragment in fragments:
        assert fragment in result.err


def assert_same_ticket(printed: dict[str, Any], shown: dict[str, Any]) -> None:
    """A mutating command's --json output is the ticket as `esc show --json` sees it.

    (Computed, clock-dependent extras such as an SLA summary are not compared.)"""
    names = (*FRONT_MATTER_NAMES, "level", "description", "conversation", "activity")
    for name in (*names, "sla", "next_sla"):  # (the SLA as show has it: computed now)
        assert name in printed, name
    for name, value in printed.items():
        if name not in ("sla", "next_sla"):
            assert value == shown[name], name


def assert_bad_input(result: Result, *fragments: str) -> None:
    """A value esc cannot use: a usage error (exit 2), one `esc: ...` line, nothing done."""
    assert_one_line_error(result, 2, *fragments)


def assert_usage_error(result: Result, *fragments: str) -> None:
    """A command line click refuses: one `esc: ...` line that says where the usage is."""
    assert_one_line_error(result, 2, *fragments)
    assert "--help`)" in result.err


def activity(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (a["at"], a["by"], a["field"], a["old"], a["new"], a["event"], a["note"])
        for a in data["activity"]
    ]


def field_changes(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(a["field"], a["old"], a["new"]) for a in data["activity"] if a["field"]]


def edit_workspace_file(workspace: Path, name: str, old: str, new: str) -> None:
    path = workspace / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_partners_team(workspace: Path) -> None:
    """A second level-1 team, "partners", that handles refunds instead of support."""
    edit_workspace_file(
        workspace,
        "teams.yaml",
        "handles: [billing, account, how-to, refund]",
        "handles: [billing, account, how-to]",
    )
    with (workspace / "teams.yaml").open("a", encoding="utf-8") as handle:
        handle.write(
            "  partners:\n    name: Partner Desk\n    level: 1\n    members: [gina]\n"
            "    escalates_to: engineering\n    handles: [refund]\n"
        )


# ---------------------------------------------------------------- init


def test_init_creates_the_starter_files(tmp_path: Path) -> None:
    result = CheckedEsc(tmp_path, now=None)("init", "fresh")
    root = tmp_path / "fresh"
    assert result.code == 0, result.err
    assert result.out == f"esc workspace ready in {root.resolve()}\n"
    assert (root / "teams.yaml").read_text(encoding="utf-8") == TEAMS_YAML
    assert (root / "rules.yaml").read_text(encoding="utf-8") == RULES_YAML
    assert (root / "tickets").is_dir()
    gitignore = (root / ".gitignore").read_text(encoding="utf-8")
    assert gitignore == GITIGNORE
    assert ".esc-cache/" in gitignore.splitlines()
    # and it is a workspace esc can use straight away
    assert CheckedEsc(root).ok("validate") == ""


def test_init_makes_the_workspace_root_or_esc_root_names(tmp_path: Path) -> None:
    """`esc --root ../B init` (or ESC_ROOT=../B) wrote the workspace where it ran, and
    with --force overwrote that folder's own teams.yaml and rules.yaml."""
    here, there, other = (tmp_path / n for n in ("A", "B", "C"))
    for folder in (here, there, other):
        folder.mkdir()
    esc = CheckedEsc(here, now=None)
    assert esc.ok("--root", str(there), "init") == f"esc workspace ready in {there.resolve()}\n"
    assert (there / "teams.yaml").is_file() and not any(here.iterdir())
    (here / "teams.yaml").write_text("# mine\n", encoding="utf-8")
    esc.ok("init", "--force", env={"ESC_ROOT": str(there)})
    assert (here / "teams.yaml").read_text(encoding="utf-8") == "# mine\n"
    # a DIRECTORY given wins over ESC_ROOT (set once in a profile); beside --root it is
    # one folder too many
    esc.ok("init", str(other), env={"ESC_ROOT": str(there)})
    assert (other / "rules.yaml").is_file()
    clash = esc("--root", str(there), "init", ".", "--force")
    assert clash.code == 2 and "two folders given" in clash.err
    assert (here / "teams.yaml").read_text(encoding="utf-8") == "# mine\n"


def test_init_twice_refuses_and_changes_nothing(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    with (workspace / "teams.yaml").open("a", encoding="utf-8") as handle:
        handle.write("# my own edit\n")
    names = ("teams.yaml", "rules.yaml", ".gitignore", f"tickets/{ticket_id}.md")
    before = {name: (workspace / name).read_bytes() for name in names}
    result = esc("init", ".")
    assert_refused(result, "teams.yaml", "rules.yaml", "--force")  # (.gitignore: added to)
    assert {name: (workspace / name).read_bytes() for name in names} == before


def test_init_force_overwrites_the_starter_files(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    (workspace / "teams.yaml").write_text("intake: nobody\n", encoding="utf-8")
    (workspace / ".gitignore").write_text("", encoding="utf-8")
    assert "esc workspace ready" in esc.ok("init", ".", "--force")
    assert (workspace / "teams.yaml").read_text(encoding="utf-8") == TEAMS_YAML
    assert (workspace / ".gitignore").read_text(encoding="utf-8") == GITIGNORE
    assert ticket_files(workspace) == [f"{ticket_id}.md"]  # tickets are not starter files


# ---------------------------------------------------------------- create


def test_create_prints_the_id_alone(esc: CheckedEsc, workspace: Path) -> None:
    result = esc("create", "--title", "Card declined")
    assert result.code == 0, result.err
    assert ID_RE.match(result.out.rstrip("\n"))
    assert result.out.count("\n") == 1
    assert result.err == ""
    assert ticket_files(workspace) == [result.out.strip() + ".md"]


def test_create_records_the_intake(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(
        esc,
        "--customer",
        "dave@example.com",
        "--channel",
        "email",
        "--category",
        "billing",
        "--body",
        "My card was declined twice.",
    )
    data = show(esc, ticket_id)
    assert data["id"] == ticket_id
    assert data["title"] == "Card declined"
    assert data["customer"] == "dave@example.com"
    assert data["channel"] == "email"
    assert data["category"] == "billing"
    assert data["created"] == NOW
    assert data["updated"] == NOW
    assert data["status"] == "new"
    assert data["priority"] == "normal"
    assert data["team"] == "support"
    assert data["level"] == 1
    assert data["assignee"] is None
    assert data["description"] == "My card was declined twice."
    text = ticket_file(workspace, ticket_id).read_text(encoding="utf-8")
    assert text.startswith(f"---\nid: {ticket_id}\ntitle: Card declined\nstatus: new\n")
    assert f"\ncreated: {NOW}\n" in text
    assert "\nMy card was declined twice.\n" in text


def test_create_json_prints_the_ticket(esc: CheckedEsc) -> None:
    result = esc("create", "--title", "Card declined", "--category", "bug", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert ID_RE.match(data["id"])
    assert data["team"] == "engineering"
    assert data["created"] == NOW
    assert_same_ticket(data, show(esc, data["id"]))


@pytest.mark.parametrize(
    ("args", "priority"),
    [
        (["--priority", "high"], "high"),
        (["--impact", "high", "--urgency", "high"], "urgent"),
        (["--impact", "medium", "--urgency", "low"], "low"),
        (["--priority", "low", "--impact", "high", "--urgency", "high"], "low"),
        ([], "normal"),
    ],
)
def test_create_priority(esc: CheckedEsc, args: list[str], priority: str) -> None:
    data = show(esc, create(esc, *args))
    assert data["priority"] == priority


def test_create_records_impact_and_urgency(esc: CheckedEsc) -> None:
    data = show(esc, create(esc, "--impact", "high", "--urgency", "medium"))
    assert (data["impact"], data["urgency"], data["priority"]) == ("high", "medium", "high")


def test_without_a_matrix_impact_and_urgency_are_recorded_at_the_default_priority(
    esc: CheckedEsc, workspace: Path
) -> None:
    """The matrix is optional: priority from --priority, else the matrix, else the default."""
    rules = workspace / "rules.yaml"
    text = rules.read_text()
    start = text.index("priority_matrix:")
    end = text.index("\n", text.index("\n  low:", start) + 1)
    rules.write_text(text[:start] + text[end + 1 :])
    data = show(esc, create(esc, "--impact", "high", "--urgency", "high"))
    assert (data["impact"], data["urgency"], data["priority"]) == ("high", "high", "normal")
    esc.ok("classify", data["id"], "--impact", "low", "--urgency", "low")
    assert show(esc, data["id"])["impact"] == "low"


@pytest.mark.parametrize(
    ("category", "team", "why"),
    [
        ("billing", "support", "support handles billing"),
        ("refund", "support", "support handles refund"),
        ("bug", "engineering", "engineering handles bug"),
        ("outage", "engineering", "routing rule 1"),
    ],
)
def test_create_routes_by_category(esc: CheckedEsc, category: str, team: str, why: str) -> None:
    data = show(esc, create(esc, "--category", category))
    assert data["team"] == team
    assert data["activity"][0]["event"] == "created"
    assert data["activity"][0]["note"] == f"normal priority, routed to {team} ({why})"


def test_create_routes_a_category_nobody_handles_to_intake(
    esc: CheckedEsc, workspace: Path
) -> None:
    edit_workspace_file(workspace, "rules.yaml", "outage, data]", "outage, data, other]")
    data = show(esc, create(esc, "--category", "other"))
    assert data["team"] == "support"
    assert data["activity"][0]["note"] == "normal priority, routed to support (intake)"


def test_create_a_routing_rule_wins_over_handles(esc: CheckedEsc, workspace: Path) -> None:
    edit_workspace_file(
        workspace,
        "rules.yaml",
        "  - when: {category: outage}\n",
        "  - when: {category: billing, priority: urgent}\n    team: management\n"
        "  - when: {category: outage}\n",
    )
    urgent = show(esc, create(esc, "--category", "billing", "--priority", "urgent"))
    normal = show(esc, create(esc, "--category", "billing"))
    assert urgent["team"] == "management"
    assert normal["team"] == "support"


def test_create_reads_the_body_from_stdin(esc: CheckedEsc) -> None:
    result = esc("create", "--title", "Card declined", "--body", "-", input="Line one\nLine two\n")
    assert result.code == 0, result.err
    ticket_id = result.out.strip()
    assert show(esc, ticket_id)["description"] == "Line one\nLine two"


def test_create_tags_are_repeatable(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc, "--tag", "vip", "--tag", "eu", "--tag", "vip")
    assert show(esc, ticket_id)["tags"] == ["vip", "eu"]
    assert "\ntags:\n  - vip\n  - eu\n" in ticket_file(workspace, ticket_id).read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--category", "gardening"], "unknown category 'gardening'; choose from billing,"),
        (["--priority", "asap"], "unknown priority 'asap'; choose from low, normal, high, urgent"),
        (["--impact", "high"], "give both --impact and --urgency, or neither"),
        (["--urgency", "high"], "give both --impact and --urgency, or neither"),
        (["--impact", "huge", "--urgency", "high"], "unknown impact 'huge'"),
        (["--title", " "], "a ticket needs a --title"),
    ],
)
def test_create_refusals(esc: CheckedEsc, workspace: Path, args: list[str], message: str) -> None:
    title = [] if "--title" in args else ["--title", "Card declined"]
    result = esc("create", *title, *args)
    assert_bad_input(result, message)
    assert ticket_files(workspace) == []


def test_create_bad_channel_is_a_usage_error(esc: CheckedEsc, workspace: Path) -> None:
    result = esc("create", "--title", "Card declined", "--channel", "fax")
    assert_bad_input(result, "--channel", "'fax'")
    assert ticket_files(workspace) == []


def test_create_without_a_title_is_a_usage_error(esc: CheckedEsc, workspace: Path) -> None:
    assert_usage_error(esc("create"), "--title")
    assert ticket_files(workspace) == []


def test_every_command_line_click_refuses_is_one_line(
    esc: CheckedEsc, workspace: Path
) -> None:
    assert esc("create").err == "esc: missing option '--title' (see `esc create --help`)\n"
    assert_usage_error(esc("list", "--bogus"), "no such option '--bogus'", "esc list --help")
    # (esc's own option after the command: where it goes, not "did you mean --sort")
    assert esc("list", "--root", "/tmp").err == (
        "esc: --root goes before the command: esc --root PATH list … (see `esc list --help`)\n"
    )
    assert_usage_error(esc("nosuchcmd"), "no such command 'nosuchcmd'", "`esc --help`")
    assert_usage_error(esc("show"), "missing argument 'TICKET'", "esc show --help")
    assert esc("create", "--customer", "x", "--title").err == (
        "esc: option '--title' requires an argument (see `esc create --help`)\n"
    )  # (click gave this one no context: it said nowhere where the usage is)
    assert ticket_files(workspace) == []


def test_now_is_taken_before_or_after_a_group_s_command_name(esc: CheckedEsc) -> None:
    """`--now` "before or after the command name": `esc kb --now X list` said `no such
    option '--now'`."""
    now = "2026-12-01T10:00:00+01:00"
    assert esc("kb", "--now", now, "list", now="").out == esc("kb", "list", "--now", now).out
    unknown = esc("notify", "--now", now, "test", "x", now="")  # (no notify: section)
    assert (unknown.code, unknown.err) == (
        2, "esc: rules.yaml notify: unknown target, team or person 'x'; none is defined\n"
    )  # fmt: skip


# ---------------------------------------------------------------- ticket references


@pytest.fixture
def two_ids(esc: CheckedEsc, workspace: Path) -> tuple[str, str]:
    """Two tickets whose IDs share the prefix `ab`: T-abcd1234 and T-abxy5678."""
    rename_ticket(workspace, create(esc, title="First"), "T-abcd1234")
    rename_ticket(workspace, create(esc, title="Second"), "T-abxy5678")
    return "T-abcd1234", "T-abxy5678"


@pytest.mark.parametrize(
    "ref", ["T-abcd1234", "abcd1234", "abc", "ABC", "T-abc", "t-ABC", "T-ABCD1234"]
)
def test_any_unique_prefix_names_a_ticket(
    esc: CheckedEsc, two_ids: tuple[str, str], ref: str
) -> None:
    assert show(esc, ref)["id"] == "T-abcd1234"


def test_a_ticket_file_path_names_the_ticket(esc: CheckedEsc, two_ids: tuple[str, str]) -> None:
    assert show(esc, "tickets/T-abxy5678.md")["id"] == "T-abxy5678"


def test_a_prefix_works_for_mutating_commands(
    esc: CheckedEsc, workspace: Path, two_ids: tuple[str, str]
) -> None:
    assert esc.ok("assign", "ABX", "bob") == "T-abxy5678: assigned to bob\n"
    assert show(esc, "T-abxy5678")["assignee"] == "bob"


@pytest.mark.parametrize("ref", ["ab", "T-ab", "t", "T"])
def test_an_ambiguous_prefix_names_the_candidates(
    esc: CheckedEsc, workspace: Path, two_ids: tuple[str, str], ref: str
) -> None:
    before = all_ticket_bytes(workspace)
    assert_refused(esc("show", ref), "ambiguous", "T-abcd1234", "T-abxy5678")
    assert_refused(esc("assign", ref, "bob"), "ambiguous", "T-abcd1234", "T-abxy5678")
    assert all_ticket_bytes(workspace) == before


@pytest.mark.parametrize("ref", ["zz", "T-abcd12345", "T-q"])
def test_an_unknown_id_is_an_error(esc: CheckedEsc, two_ids: tuple[str, str], ref: str) -> None:
    assert_refused(esc("show", ref), f"no ticket {ref!r}")
    assert_refused(esc("comment", ref, "-m", "hello"), f"no ticket {ref!r}")


# ---------------------------------------------------------------- classify


def test_classify_changes_category_and_priority_and_re_routes(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--category", "billing")
    esc.ok("assign", ticket_id, "alice")
    out = esc.ok("classify", ticket_id, "--category", "bug", "--priority", "high", now=LATER)
    assert out == f"{ticket_id}: bug, high, team engineering\n"
    data = show(esc, ticket_id)
    assert (data["category"], data["priority"], data["team"]) == ("bug", "high", "engineering")
    assert data["assignee"] is None
    assert data["level"] == 2
    assert data["updated"] == LATER
    team_change = [a for a in data["activity"] if a["field"] == "team"]
    assert team_change == [
        {
            "at": LATER,
            "by": "alice",
            "field": "team",
            "old": "support",
            "new": "engineering",
            "event": None,
            "note": "re-routed (engineering handles bug)",
        }
    ]


def test_classify_within_the_team_keeps_the_assignee(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--category", "billing")
    esc.ok("assign", ticket_id, "bob")
    esc.ok("classify", ticket_id, "--category", "refund")
    data = show(esc, ticket_id)
    assert (data["category"], data["team"], data["assignee"]) == ("refund", "support", "bob")


def test_classify_by_impact_and_urgency(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    out = esc.ok("classify", ticket_id, "--impact", "high", "--urgency", "high")
    assert out == f"{ticket_id}: -, urgent, team support\n"


def test_classify_does_not_re_route_after_a_team_escalation(
    esc: CheckedEsc, workspace: Path
) -> None:
    add_partners_team(workspace)
    ticket_id = create(esc, "--category", "billing")
    esc.ok("escalate", ticket_id, "--to", "partners", "--reason", "a partner's customer")
    esc.ok("classify", ticket_id, "--category", "account")
    data = show(esc, ticket_id)
    assert (data["team"], data["level"], data["category"]) == ("partners", 1, "account")


def test_classify_does_not_re_route_above_the_first_level(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--category", "billing")
    esc.ok("escalate", ticket_id, "--up", "--reason", "needs a developer")
    esc.ok("classify", ticket_id, "--category", "account")
    assert show(esc, ticket_id)["team"] == "engineering"


def test_classify_refusals(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_bad_input(esc("classify", ticket_id), "nothing to classify")
    assert_bad_input(esc("classify", ticket_id, "--category", "x"), "unknown category 'x'")
    assert_bad_input(esc("classify", ticket_id, "--priority", "x"), "unknown priority 'x'")
    assert_bad_input(esc("classify", ticket_id, "--impact", "high"), "give both")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


# ---------------------------------------------------------------- assign


def test_assign_a_member_opens_the_ticket(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    assert esc.ok("assign", ticket_id, "bob", now=LATER) == f"{ticket_id}: assigned to bob\n"
    data = show(esc, ticket_id)
    assert (data["assignee"], data["status"], data["updated"]) == ("bob", "open", LATER)


def test_assign_the_team_lead(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    esc.ok("assign", ticket_id, "carol")
    assert show(esc, ticket_id)["assignee"] == "carol"


def test_assign_refuses_a_non_member(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    before = ticket_file(workspace, ticket_id).read_bytes()
    result = esc("assign", ticket_id, "dan")
    assert_refused(result, "dan is not in team support (alice, bob, carol)", "--force")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


def test_assign_force(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    assert esc.ok("assign", ticket_id, "dan", "--force") == f"{ticket_id}: assigned to dan\n"
    assert show(esc, ticket_id)["assignee"] == "dan"


def test_assign_the_same_person_again_changes_nothing(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    esc.ok("assign", ticket_id, "bob")
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert esc.ok("assign", ticket_id, "bob", now=LATER) == f"{ticket_id}: assigned to bob\n"
    assert ticket_file(workspace, ticket_id).read_bytes() == before


def test_assign_none_takes_the_assignee_away(esc: CheckedEsc, workspace: Path) -> None:
    """There was no way to unassign a ticket: `assign ID none` was "none is not in team
    support", and with --force stored a person called none."""
    ticket_id = create(esc)
    esc.ok("assign", ticket_id, "bob")
    for spelled in ("none", "None"):
        esc.ok("assign", ticket_id, "bob", now=LATER)
        assert esc.ok("assign", ticket_id, spelled, "--force", now=LATER) == (
            f"{ticket_id}: unassigned\n"
        )
        data = show(esc, ticket_id)
        assert (data["assignee"], data["status"]) == (None, "open")
    assert [t["id"] for t in list_json(esc, "--assignee", "none")] == [ticket_id]
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_refused(esc("assign", ticket_id, "none"), f"{ticket_id} is not assigned to anyone")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


# ---------------------------------------------------------------- comment


def test_public_reply_sets_the_first_response_once(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    assert esc.ok("comment", ticket_id, "-m", "Looking into it") == f"{ticket_id}: reply added\n"
    esc.ok("comment", ticket_id, "-m", "Found it", now=LATER)
    data = show(esc, ticket_id)
    assert data["first_response_at"] == NOW
    assert data["updated"] == LATER
    assert data["status"] == "open"
    assert data["conversation"] == [
        {
            "at": NOW,
            "author": "alice",
            "kind": "reply",
            "visibility": "public",
            "text": "Looking into it",
        },
        {
            "at": LATER,
            "author": "alice",
            "kind": "reply",
            "visibility": "public",
            "text": "Found it",
        },
    ]


def test_internal_note_is_not_a_first_response(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    out = esc.ok("comment", ticket_id, "--internal", "-m", "Check the logs", "--author", "bob")
    assert out == f"{ticket_id}: internal note added\n"
    data = show(esc, ticket_id)
    assert data["first_response_at"] is None
    assert data["status"] == "new"
    assert data["conversation"] == [
        {
            "at": NOW,
            "author": "bob",
            "kind": "note",
            "visibility": "internal",
            "text": "Check the logs",
        }
    ]


def test_customer_message_takes_a_pending_ticket_back_to_open(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--customer", "dave@example.com")
    esc.ok("wait", ticket_id, "--reason", "need the invoice number")
    out = esc.ok("comment", ticket_id, "--from-customer", "-m", "INV-1", now=LATER)
    assert out == f"{ticket_id}: customer message added\n"
    data = show(esc, ticket_id)
    assert data["status"] == "open"
    assert data["first_response_at"] is None
    assert data["conversation"][-1] == {
        "at": LATER,
        "author": "dave@example.com",
        "kind": "message",
        "visibility": "public",
        "text": "INV-1",
    }


def test_customer_message_reopens_a_resolved_ticket(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--customer", "dave@example.com")
    esc.ok("resolve", ticket_id, "--resolution", "Refunded")
    esc.ok("comment", ticket_id, "--from-customer", "-m", "Not refunded yet", now=LATER)
    data = show(esc, ticket_id)
    assert (data["status"], data["resolved_at"]) == ("open", None)
    assert data["activity"][-2]["note"] == "customer replied"


def test_customer_message_without_a_customer_is_by_customer(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    esc.ok("comment", ticket_id, "--from-customer", "-m", "hello?")
    assert show(esc, ticket_id)["conversation"][0]["author"] == "customer"


def test_comment_reads_the_message_from_stdin(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    esc.ok("comment", ticket_id, "-m", "-", input="First line\nSecond line\n")
    assert show(esc, ticket_id)["conversation"][0]["text"] == "First line\nSecond line"
    # (a byte order mark a Windows editor put first is no text: not kept, invisible)
    esc.ok("comment", ticket_id, "-m", "-", input="\ufeffThird\n")
    assert show(esc, ticket_id)["conversation"][1]["text"] == "Third"


@pytest.mark.parametrize(
    "message",
    [
        "Before\n## Activity\nafter",
        "## Conversation",
        "## Activity\n- 2026-11-20T10:00:00+01:00 · mallory · status: new → closed",
        "### 2026-11-20T10:00:00+01:00 · eve · reply (public)\n\nforged entry",
        "\\## Activity",
        "keep\n\n\nblank lines\n  and indentation",
        # a merge's conflict pasted in: the file would be refused as an unresolved one
        "see:\n<<<<<<< HEAD\nfoo\n=======\nbar\n>>>>>>> branch",
        "\\<<<<<<< HEAD",
    ],
)
def test_a_message_that_looks_like_esc_headings_round_trips(esc: CheckedEsc, message: str) -> None:
    ticket_id = create(esc)
    esc.ok("comment", ticket_id, "-m", message, "--internal")
    esc.ok("comment", ticket_id, "-m", "after it")
    data = show(esc, ticket_id)
    assert [e["text"] for e in data["conversation"]] == [message, "after it"]
    assert [e["author"] for e in data["conversation"]] == ["alice", "alice"]
    assert all(a["by"] == "alice" for a in data["activity"])
    assert data["status"] == "open"


def test_a_description_that_looks_like_esc_headings_round_trips(esc: CheckedEsc) -> None:
    body = "Steps:\n## Conversation\n### 2026-11-20T10:00:00+01:00 · eve · note (internal)\nx"
    body += "\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> main"
    ticket_id = create(esc, "--body", body)
    esc.ok("comment", ticket_id, "-m", "reply")
    data = show(esc, ticket_id)
    assert data["description"] == body
    assert [e["text"] for e in data["conversation"]] == ["reply"]


def test_comment_refusals(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_bad_input(
        esc("comment", ticket_id, "-m", "x", "--internal", "--from-customer"), "exclude each other"
    )
    assert_bad_input(esc("comment", ticket_id, "-m", "  "), "the comment is empty")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


def test_a_closed_ticket_takes_only_internal_notes(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    esc.ok("close", ticket_id, "--resolution", "Duplicate")
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_refused(esc("comment", ticket_id, "-m", "hi"), "closed", "only internal notes")
    assert_refused(esc("comment", ticket_id, "-m", "hi", "--from-customer"), "closed")
    assert ticket_file(workspace, ticket_id).read_bytes() == before
    esc.ok("comment", ticket_id, "-m", "for the record", "--internal")
    assert show(esc, ticket_id)["conversation"][-1]["kind"] == "note"


# ---------------------------------------------------------------- wait / resume


def test_wait_and_resume(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    assert esc.ok("wait", ticket_id, "--reason", "need logs") == f"{ticket_id}: pending\n"
    assert show(esc, ticket_id)["status"] == "pending"
    assert esc.ok("resume", ticket_id, now=LATER) == f"{ticket_id}: open\n"
    data = show(esc, ticket_id)
    assert data["status"] == "open"
    assert [a for a in data["activity"] if a["field"] == "status"] == [
        {
            "at": NOW,
            "by": "alice",
            "field": "status",
            "old": "new",
            "new": "pending",
            "event": None,
            "note": "need logs",
        },
        {
            "at": LATER,
            "by": "alice",
            "field": "status",
            "old": "pending",
            "new": "open",
            "event": None,
            "note": "",
        },
    ]


def test_resume_refuses_a_ticket_that_is_not_pending(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_refused(esc("resume", ticket_id), f"{ticket_id} is new, not pending")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


def test_wait_refuses_a_pending_ticket(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    esc.ok("wait", ticket_id, "--reason", "need logs")
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_refused(esc("wait", ticket_id, "--reason", "again"), "is pending")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


def test_wait_needs_a_reason(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    assert_usage_error(esc("wait", ticket_id), "--reason")


# ---------------------------------------------------------------- escalate


def test_functional_escalation(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc, "--category", "billing")
    esc.ok("assign", ticket_id, "alice")
    args = ["--to", "engineering", "--reason", "needs a developer", "--by", "bob"]
    out = esc.ok("escalate", ticket_id, *args, now=LATER)
    assert out == f"{ticket_id}: functional escalation support → engineering\n"
    data = show(esc, ticket_id)
    assert (data["team"], data["level"], data["assignee"]) == ("engineering", 2, None)
    assert data["escalations"] == [
        {
            "at": LATER,
            "kind": "functional",
            "from": "support",
            "to": "engineering",
            "by": "bob",
            "reason": "needs a developer",
        }
    ]
    assert (data["activity"][-2]["field"], data["activity"][-2]["note"]) == (
        "team",
        "functional escalation: needs a developer",
    )
    text = ticket_file(workspace, ticket_id).read_text(encoding="utf-8")
    assert "\nteam: engineering\n" in text
    assert "\nassignee: null\n" in text
    assert "\nescalations:\n  - {at: 2026-11-20T11:30:00+01:00, kind: functional," in text


def test_hierarchical_escalation_follows_escalates_to(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    out = esc.ok("escalate", ticket_id, "--up", "--reason", "needs a developer")
    assert out == f"{ticket_id}: hierarchical escalation support → engineering\n"
    out = esc.ok("escalate", ticket_id, "--up", "--reason", "needs a decision", now=LATER)
    assert out == f"{ticket_id}: hierarchical escalation engineering → management\n"
    data = show(esc, ticket_id)
    assert (data["team"], data["level"], data["status"]) == ("management", 3, "open")
    assert [(e["kind"], e["from"], e["to"], e["at"]) for e in data["escalations"]] == [
        ("hierarchical", "support", "engineering", NOW),
        ("hierarchical", "engineering", "management", LATER),
    ]


def test_priority_escalation(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    out = esc.ok("escalate", ticket_id, "--priority", "urgent", "--reason", "VIP customer")
    assert out == f"{ticket_id}: priority escalation normal → urgent\n"
    data = show(esc, ticket_id)
    assert (data["priority"], data["team"]) == ("urgent", "support")
    assert data["escalations"] == [
        {
            "at": NOW,
            "kind": "priority",
            "from": "normal",
            "to": "urgent",
            "by": "alice",
            "reason": "VIP customer",
        }
    ]


ESCALATION_REFUSALS = {
    "closed": (
        [["close", "--resolution", "Duplicate"]],
        ["--up"],
        "is closed; reopen it before escalating",
    ),
    "resolved": (
        [["resolve", "--resolution", "Fixed"]],
        ["--to", "engineering"],
        "is resolved; reopen it before escalating",
    ),
    "unknown team": ([], ["--to", "legal"], "unknown team 'legal'"),
    "own team": ([], ["--to", "support"], "is already with support"),
    "top of the chain": (
        [["escalate", "--to", "management", "--reason", "exec complaint"]],
        ["--up"],
        "management is the top of the escalation chain",
    ),
    "priority equal": ([], ["--priority", "normal"], "is already normal"),
    "priority lower": ([], ["--priority", "low"], "must go higher"),
    "unknown priority": ([], ["--priority", "asap"], "unknown priority 'asap'"),
    "to and up": ([], ["--to", "engineering", "--up"], "give exactly one of"),
    "up and priority": ([], ["--up", "--priority", "high"], "give exactly one of"),
    "none": ([], [], "give exactly one of"),
}


BAD_INPUT = {"unknown team", "unknown priority", "to and up", "up and priority", "none"}


@pytest.mark.parametrize("case", list(ESCALATION_REFUSALS))
def test_escalation_refusals_leave_the_file_unchanged(
    esc: CheckedEsc, workspace: Path, case: str
) -> None:
    setup, args, message = ESCALATION_REFUSALS[case]
    ticket_id = create(esc)
    for command in setup:
        esc.ok(command[0], ticket_id, *command[1:])
    before = ticket_file(workspace, ticket_id).read_bytes()
    result = esc("escalate", ticket_id, *args, "--reason", "why not", now=LATER)
    if case in BAD_INPUT:
        assert_bad_input(result, message)
    else:
        assert_refused(result, message)
    assert ticket_file(workspace, ticket_id).read_bytes() == before


@pytest.mark.parametrize("team", ["", "  "])
def test_escalating_to_a_blank_team_is_a_usage_error(
    esc: CheckedEsc, workspace: Path, team: str
) -> None:
    ticket_id = create(esc)
    before = all_ticket_bytes(workspace)
    assert_bad_input(esc("escalate", ticket_id, "--to", team, "--reason", "r"), "unknown team")
    assert all_ticket_bytes(workspace) == before


def test_a_team_named_blank_is_refused_and_escalating_to_it_changes_nothing(
    esc: CheckedEsc, workspace: Path
) -> None:
    """A team `""` in teams.yaml was taken; `escalate --to ''` then wrote `team: ""` (which
    every later command refused) and ended in an internal error (issue 20)."""
    ticket_id = create(esc)
    teams = workspace / "teams.yaml"
    teams.write_text(teams.read_text().replace("teams:\n", 'teams:\n  "": {level: 1}\n', 1))
    line = teams.read_text().splitlines().index('  "": {level: 1}') + 1
    before = all_ticket_bytes(workspace)
    result = esc("escalate", ticket_id, "--to", "", "--reason", "r")
    assert (result.code, result.err) == (1, f"teams.yaml:{line}: team name '' is blank\n")
    assert all_ticket_bytes(workspace) == before


# ---------------------------------------------------------------- resolve / close / reopen


def test_resolve(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    assert esc.ok("resolve", ticket_id, "--resolution", "Refunded") == f"{ticket_id}: resolved\n"
    data = show(esc, ticket_id)
    assert (data["status"], data["resolved_at"], data["first_response_at"]) == (
        "resolved",
        NOW,
        NOW,
    )
    assert data["conversation"] == [
        {
            "at": NOW,
            "author": "alice",
            "kind": "resolution",
            "visibility": "public",
            "text": "Refunded",
        }
    ]


def test_close_a_resolved_ticket_with_csat_and_feedback(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--customer", "dave@example.com")
    esc.ok("resolve", ticket_id, "--resolution", "Refunded")
    out = esc.ok("close", ticket_id, "--csat", "4", "--feedback", "Quick, thanks", now=LATER)
    assert out == f"{ticket_id}: closed\n"
    data = show(esc, ticket_id)
    assert (data["status"], data["csat"], data["closed_at"], data["resolved_at"]) == (
        "closed",
        4,
        LATER,
        NOW,
    )
    assert data["conversation"][-1] == {
        "at": LATER,
        "author": "dave@example.com",
        "kind": "feedback",
        "visibility": "public",
        "text": "Quick, thanks",
    }


def test_close_an_unresolved_ticket_needs_a_resolution(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_refused(esc("close", ticket_id), f"{ticket_id} is new, not resolved", "--resolution")
    assert ticket_file(workspace, ticket_id).read_bytes() == before
    esc.ok("close", ticket_id, "--resolution", "Duplicate of another ticket")
    data = show(esc, ticket_id)
    assert (data["status"], data["resolved_at"], data["closed_at"]) == ("closed", NOW, NOW)
    assert data["conversation"][0]["kind"] == "resolution"


# (`３` and `٣`: Python's int took them, where every other number esc reads is ASCII
# digits; helper-446)
@pytest.mark.parametrize("csat", ["9", "0", "five", "\uff13", "\u0663"])
def test_csat_out_of_range_is_a_usage_error(esc: CheckedEsc, workspace: Path, csat: str) -> None:
    ticket_id = create(esc)
    esc.ok("resolve", ticket_id, "--resolution", "Refunded")
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_bad_input(esc("close", ticket_id, "--csat", csat), "--csat")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


def test_close_refuses_a_closed_ticket(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    esc.ok("close", ticket_id, "--resolution", "Duplicate")
    assert_refused(esc("close", ticket_id), "is already closed")


def test_a_survey_answered_after_closing_is_recorded(esc: CheckedEsc, workspace: Path) -> None:
    """"resolved, closed and evaluated": the customer's score usually comes after the
    ticket is closed; `close --csat/--feedback` on a closed ticket refused it, and reopening
    to close again cleared the score."""
    ticket_id = create(esc)
    esc.ok("close", ticket_id, "--resolution", "Refunded")
    out = esc.ok("close", ticket_id, "--csat", "2", "--feedback", "Too slow", now=LATER)
    assert out == f"{ticket_id}: CSAT 2 and feedback recorded\n"
    shown = json.loads(esc.ok("show", ticket_id, "--json", now=LATER))
    assert (shown["status"], shown["csat"]) == ("closed", 2)
    assert shown["closed_at"] != shown["updated"]  # (closed when it was, evaluated later)
    assert [e["kind"] for e in shown["conversation"]][-1] == "feedback"
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_refused(esc("close", ticket_id, "--csat", "4", "--resolution", "x"),
                   "only --csat and --feedback are recorded on a closed ticket")
    assert ticket_file(workspace, ticket_id).read_bytes() == before
    # (the same score again changes nothing, and says so: "CSAT 2 recorded" was said of
    # a write never made; audit helper-390)
    again = esc.ok("close", ticket_id, "--csat", "2", now=LATER)
    assert again == f"{ticket_id}: CSAT 2 already recorded; nothing changed\n"
    assert ticket_file(workspace, ticket_id).read_bytes() == before
    # (and the same feedback with it, a survey's webhook sent again: it was added twice;
    # audit helper-421)
    retried = esc.ok("close", ticket_id, "--csat", "2", "--feedback", "Too slow ", now=LATER)
    assert retried == f"{ticket_id}: CSAT 2 and feedback already recorded; nothing changed\n"
    assert ticket_file(workspace, ticket_id).read_bytes() == before
    # (says what it wrote: the score alone, the feedback being the one given; review
    # helper-431)
    rescored = esc.ok("close", ticket_id, "--csat", "4", "--feedback", "Too slow", now=LATER)
    assert rescored == f"{ticket_id}: CSAT 4 recorded (feedback already)\n"
    # (a survey of a later closing is another: the same words are its feedback)
    later = "2026-12-01T10:00:00+01:00"
    esc.ok("reopen", ticket_id, "--reason", "again", now=later)
    esc.ok("close", ticket_id, "--resolution", "Refunded again", now=later)
    again = esc.ok("close", ticket_id, "--csat", "4", "--feedback", "Too slow",
                   now="2026-12-02T10:00:00+01:00")  # fmt: skip
    assert again == f"{ticket_id}: CSAT 4 and feedback recorded\n"


@pytest.mark.parametrize("finish", ["resolve", "close"])
def test_reopen(esc: CheckedEsc, finish: str) -> None:
    ticket_id = create(esc)
    esc.ok(finish, ticket_id, "--resolution", "Refunded")
    out = esc.ok("reopen", ticket_id, "--reason", "charged again", now=LATER)
    assert out == f"{ticket_id}: open\n"
    data = show(esc, ticket_id)
    assert (data["status"], data["resolved_at"], data["closed_at"]) == ("open", None, None)
    reopened = next(a for a in data["activity"] if a["at"] == LATER and a["field"] == "status")
    assert (reopened["old"], reopened["new"], reopened["note"]) == (
        "resolved" if finish == "resolve" else "closed",
        "open",
        "charged again",
    )


def test_reopen_refuses_an_open_ticket(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    before = ticket_file(workspace, ticket_id).read_bytes()
    assert_refused(esc("reopen", ticket_id, "--reason", "x"), "only a resolved or closed")
    assert ticket_file(workspace, ticket_id).read_bytes() == before


# ---------------------------------------------------------------- tag


def test_tag_adds_tags(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--tag", "vip")
    assert esc.ok("tag", ticket_id, "eu", "vip", "beta") == f"{ticket_id}: tags vip, eu, beta\n"
    assert show(esc, ticket_id)["tags"] == ["vip", "eu", "beta"]


# ---------------------------------------------------------------- --json on every mutation


MUTATIONS: dict[str, tuple[list[list[str]], list[str]]] = {
    "classify": ([], ["classify", "--priority", "high"]),
    "assign": ([], ["assign", "bob"]),
    "comment": ([], ["comment", "-m", "Looking into it"]),
    "wait": ([], ["wait", "--reason", "need logs"]),
    "resume": ([["wait", "--reason", "need logs"]], ["resume"]),
    "escalate": ([], ["escalate", "--up", "--reason", "needs a developer"]),
    "resolve": ([], ["resolve", "--resolution", "Refunded"]),
    "close": ([], ["close", "--resolution", "Refunded", "--csat", "5"]),
    "reopen": ([["resolve", "--resolution", "Refunded"]], ["reopen", "--reason", "again"]),
    "tag": ([], ["tag", "vip"]),
}


@pytest.mark.parametrize("command", list(MUTATIONS))
def test_every_mutating_command_prints_the_ticket_as_json(esc: CheckedEsc, command: str) -> None:
    setup, args = MUTATIONS[command]
    ticket_id = create(esc)
    for step in setup:
        esc.ok(step[0], ticket_id, *step[1:])
    before = show(esc, ticket_id)
    result = esc(args[0], ticket_id, *args[1:], "--json", now=LATER)
    assert result.code == 0, result.err
    printed = json.loads(result.out)
    assert_same_ticket(printed, show(esc, ticket_id))
    assert printed["activity"] != before["activity"]
    assert printed["updated"] == LATER
    # (its SLA now, as `show --json` at the same --now says it: resolve's, close's, …)
    at_once = json.loads(esc.ok("show", ticket_id, "--json", now=LATER))
    assert (printed["sla"], printed["next_sla"]) == (at_once["sla"], at_once["next_sla"])


# ---------------------------------------------------------------- show


def test_show_text(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--customer", "dave@example.com", "--channel", "email", "--tag", "vip")
    esc.ok("comment", ticket_id, "-m", "Looking into it")
    out = esc.ok("show", ticket_id)
    lines = out.splitlines()
    assert lines[0] == f"{ticket_id}  Card declined"
    assert "  status         open" in lines
    assert "  team           Customer Support (support, level 1)" in lines
    assert "  priority       normal" in lines
    assert "  customer       dave@example.com via email" in lines
    assert "  tags           vip" in lines
    assert "Looking into it" in out


def test_show_json_fields(esc: CheckedEsc) -> None:
    ticket_id = create(esc, "--body", "Details")
    data = show(esc, ticket_id)
    for name in (*FRONT_MATTER_NAMES, "level", "description", "conversation", "activity"):
        assert name in data, name
    assert data["level"] == 1
    assert data["description"] == "Details"
    assert data["conversation"] == []
    assert [a["event"] for a in data["activity"]] == ["created"]


# ---------------------------------------------------------------- list


@pytest.fixture(scope="module")
def listing_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One workspace with six tickets in different states, shared by the read-only list tests.

    A: low billing, vip, assigned to bob (open), 2 days old
    B: high bug -> engineering (new), 1 day old
    C: urgent account, pending, 3 days old
    D: normal refund, resolved, 4 days old
    E: normal how-to, closed, 5 days old
    F: normal how-to, tag eu, escalated up twice -> management (level 3), 6 hours old
    """
    root = tmp_path_factory.mktemp("listing") / "ws"
    home = tmp_path_factory.mktemp("listing-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("ESC_USER", "alice")
        mp.setenv("NO_COLOR", "1")
        for name in ("ESC_NOW", "ESC_ROOT", "ESC_DEBUG"):
            mp.delenv(name, raising=False)
        subprocess.run([ESC, "init", str(root)], check=True, capture_output=True)
        run = CheckedEsc(root)
        ids = {
            "A": create(run, "--priority", "low", "--category", "billing", "--tag", "vip",
                        title="Alpha", now=at(days=2)),
            "B": create(run, "--priority", "high", "--category", "bug",
                        title="Bravo", now=at(days=1)),
            "C": create(run, "--priority", "urgent", "--category", "account",
                        title="Charlie", now=at(days=3)),
            "D": create(run, "--category", "refund", title="Delta", now=at(days=4)),
            "E": create(run, "--category", "how-to", title="Echo", now=at(days=5)),
            "F": create(run, "--category", "how-to", "--tag", "eu",
                        title="Foxtrot", now=at(hours=6)),
        }  # fmt: skip
        run.ok("assign", ids["A"], "bob")
        run.ok("wait", ids["C"], "--reason", "need logs")
        run.ok("resolve", ids["D"], "--resolution", "Refunded")
        run.ok("close", ids["E"], "--resolution", "Answered")
        run.ok("escalate", ids["F"], "--up", "--reason", "a bug after all")
        run.ok("escalate", ids["F"], "--up", "--reason", "needs a decision")
        ids["root"] = str(root)
        yield ids


@pytest.fixture
def listing(listing_root: dict[str, str]) -> CheckedEsc:
    return CheckedEsc(Path(listing_root["root"]))


def titles(esc: Esc, *args: str) -> list[str]:
    return [t["title"][0] for t in list_json(esc, *args)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "CBFA"),  # active only; by priority, then oldest first
        (["--all"], "CBEDFA"),
        (["--status", "resolved"], "D"),
        (["--status", "resolved", "--status", "closed"], "ED"),
        (["--status", "pending"], "C"),
        (["--team", "support"], "CA"),
        (["--team", "support", "--all"], "CEDA"),
        (["--team", "engineering"], "B"),
        (["--team", "management"], "F"),
        (["--team", "engineering", "--team", "management"], "BF"),  # (repeated: any of them)
        (["--assignee", "bob", "--assignee", "none"], "CBFA"),
        (["--category", "bug", "--category", "how-to"], "BF"),
        (["--tag", "vip", "--tag", "eu"], "FA"),
        (["--priority", ">=high"], "CB"),
        (["--priority", "high"], "B"),
        (["--priority", "<normal"], "A"),
        (["--assignee", "bob"], "A"),
        (["--assignee", "none"], "CBF"),
        (["--category", "bug"], "B"),
        (["--category", "how-to", "--all"], "EF"),
        (["--tag", "vip"], "A"),
        (["--tag", "eu"], "F"),
        (["--level", "2"], "B"),
        (["--level", "1"], "CA"),
        (["--level", ">=2"], "BF"),
        (["--sort", "created"], "CABF"),
        (["--sort", "-created"], "FBAC"),
        (["--sort", "created", "--all"], "EDCABF"),
        (["--sort", "title"], "ABCF"),
        (["--tag", "nobody"], ""),
    ],
)
def test_list_filters_and_sorts(listing: CheckedEsc, args: list[str], expected: str) -> None:
    assert "".join(titles(listing, *args)) == expected


def test_list_table(listing: CheckedEsc, listing_root: dict[str, str]) -> None:
    result = listing("list", env={"COLUMNS": "100"})  # (wide enough for every column)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "ID", "PRI", "STATUS", "TEAM", "L", "ASSIGNEE", "AGE", "SLA", "TITLE"
    ]  # fmt: skip
    # Charlie's urgent policy (30m first response, round the clock) never pauses
    charlie = [listing_root["C"], "urgent", "pending", "support", "1", "-", "3d",
               "breached 2d23h ago", "Charlie"]  # fmt: skip
    alpha = [listing_root["A"], "low", "open", "support", "1", "bob", "2d",
             "breached 1d20h ago", "Alpha"]  # fmt: skip
    assert [cell.strip() for cell in lines[1].split("  ") if cell] == charlie
    assert [cell.strip() for cell in lines[4].split("  ") if cell] == alpha
    assert len(lines) == 5


def test_list_with_nothing_to_show(listing: CheckedEsc) -> None:
    result = listing("list", "--tag", "nobody")
    assert (result.code, result.out, result.err) == (0, "", "no tickets match\n")


def test_list_json_objects(listing: CheckedEsc, listing_root: dict[str, str]) -> None:
    data = list_json(listing, "--all")
    assert len(data) == 6
    for item in data:
        for name in (*FRONT_MATTER_NAMES, "level"):
            assert name in item, name
        for name in TIMESTAMPS:
            if item[name] is not None:
                moment = dt.datetime.fromisoformat(item[name])
                assert moment.utcoffset() is not None, item[name]
    foxtrot = next(item for item in data if item["id"] == listing_root["F"])
    assert (foxtrot["team"], foxtrot["level"], foxtrot["tags"]) == ("management", 3, ["eu"])
    assert foxtrot["created"] == at(hours=6)
    assert [e["to"] for e in foxtrot["escalations"]] == ["engineering", "management"]


def test_list_refuses_an_unknown_sort_field(listing: CheckedEsc) -> None:
    assert_bad_input(listing("list", "--sort", "colour"), "cannot sort by 'colour'")


def test_list_refuses_an_unknown_priority_filter(listing: CheckedEsc) -> None:
    assert_bad_input(listing("list", "--priority", ">=asap"), "unknown priority 'asap'")


# BUG: `esc list --sort created` compares the timestamps as text, so tickets created in
# different UTC offsets come out in the wrong order: 10:00+01:00 (09:00Z) sorts after
# 09:30+00:00 (09:30Z).
def test_list_sort_created_is_chronological_across_offsets(esc: CheckedEsc) -> None:
    early = create(esc, title="early", now="2026-11-20T10:00:00+01:00")  # 09:00 UTC
    late = create(esc, title="late", now="2026-11-20T09:30:00+00:00")  # 09:30 UTC
    assert [t["id"] for t in list_json(esc, "--sort", "created")] == [early, late]
    assert [t["id"] for t in list_json(esc, "--sort", "-created")] == [late, early]


# ---------------------------------------------------------------- the activity log


def test_activity_log_records_every_change_in_order(esc: CheckedEsc) -> None:
    t = [at(hours=-h) for h in range(9)]  # NOW, NOW+1h, ... NOW+8h
    intake = ["--customer", "dave@example.com", "--channel", "email", "--category", "billing"]
    ticket_id = create(esc, *intake, "--by", "carol", now=t[0])
    esc.ok("assign", ticket_id, "bob", "--by", "carol", now=t[1])
    esc.ok("comment", ticket_id, "-m", "Looking into it", "--author", "bob", now=t[2])
    esc.ok("wait", ticket_id, "--reason", "need the invoice number", "--by", "bob", now=t[3])
    esc.ok("comment", ticket_id, "--from-customer", "-m", "INV-1", now=t[4])
    esc.ok("escalate", ticket_id, "--up", "--reason", "over the limit", "--by", "bob", now=t[5])
    esc.ok("resolve", ticket_id, "--resolution", "Refunded", "--by", "dan", now=t[6])
    esc.ok("close", ticket_id, "--csat", "5", "--by", "dan", now=t[7])
    esc.ok("reopen", ticket_id, "--reason", "charged again", "--by", "erin", now=t[8])
    dave = "dave@example.com"
    data = show(esc, ticket_id)
    assert activity(data) == [
        (t[0], "carol", None, None, None, "created",
         "normal priority via email, routed to support (support handles billing)"),
        (t[1], "carol", "assignee", None, "bob", None, ""),
        (t[1], "carol", "status", "new", "open", None, ""),
        (t[2], "bob", None, None, None, "reply added", ""),
        (t[2], "bob", "first_response_at", None, t[2], None, ""),
        (t[3], "bob", "status", "open", "pending", None, "need the invoice number"),
        (t[4], dave, None, None, None, "message added", ""),
        (t[4], dave, "status", "pending", "open", None, "customer replied"),
        (t[5], "bob", "team", "support", "engineering", None,
         "hierarchical escalation: over the limit"),
        (t[5], "bob", "assignee", "bob", None, None, ""),
        (t[6], "dan", None, None, None, "resolution added", ""),
        (t[6], "dan", "status", "open", "resolved", None, ""),
        (t[6], "dan", "resolved_at", None, t[6], None, ""),
        (t[7], "dan", "csat", None, "5", None, ""),
        (t[7], "dan", "status", "resolved", "closed", None, ""),
        (t[7], "dan", "closed_at", None, t[7], None, ""),
        (t[8], "erin", "status", "closed", "open", None, "charged again"),
        (t[8], "erin", "resolved_at", t[6], None, None, ""),
        (t[8], "erin", "closed_at", t[7], None, None, ""),
        (t[8], "erin", "csat", "5", None, None, ""),
    ]  # fmt: skip
    assert data["updated"] == t[8]
    assert (data["status"], data["team"], data["csat"]) == ("open", "engineering", None)


def test_a_refused_command_adds_nothing_to_the_activity_log(esc: CheckedEsc) -> None:
    ticket_id = create(esc)
    before = show(esc, ticket_id)["activity"]
    esc("resume", ticket_id)
    esc("assign", ticket_id, "dan")
    assert show(esc, ticket_id)["activity"] == before


# ---------------------------------------------------------------- validate


def three_tickets(esc: Esc) -> list[str]:
    return [
        create(esc, "--category", "billing", title="One"),
        create(esc, "--category", "bug", title="Two"),
        create(esc, "--priority", "urgent", "--tag", "vip", title="Three"),
    ]


def test_validate_a_healthy_workspace(esc: CheckedEsc) -> None:
    ids = three_tickets(esc)
    esc.ok("assign", ids[0], "bob")
    esc.ok("escalate", ids[1], "--up", "--reason", "needs a decision")
    esc.ok("close", ids[2], "--resolution", "Done", "--csat", "3")
    result = esc("validate")
    assert (result.code, result.out) == (0, "")
    assert result.err == "ok: teams.yaml, rules.yaml and 3 tickets\n"


def break_line(path: Path, prefix: str, replacement: str) -> None:
    """Replace the one line of ``path`` that starts with ``prefix``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [n for n, line in enumerate(lines) if line.startswith(prefix)]
    assert len(hits) == 1, (prefix, lines)
    lines[hits[0]] = replacement + "\n"
    path.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("prefix", "replacement", "line", "message"),
    [
        ("title:", "title: Card: declined: twice", 3, "front-matter does not parse"),
        ("status:", "status: weird", 4, "unknown status 'weird'; one of new, open, pending"),
        ("created:", "created: 2026-11-20T10:00:00", 11, "is not a timestamp with a time zone"),
        ("updated:", "updated: 2026-11-20 10:00", 12, "is not a timestamp with a time zone"),
        ("priority:", "priority: asap", 5, "unknown priority 'asap'"),
        ("team:", "team: legal", 7, "unknown team 'legal'"),
    ],
)
def test_validate_reports_a_broken_ticket_with_its_line(
    esc: CheckedEsc, workspace: Path, prefix: str, replacement: str, line: int, message: str
) -> None:
    ids = three_tickets(esc)
    break_line(ticket_file(workspace, ids[1]), prefix, replacement)
    result = esc("validate")
    assert result.code == 1
    assert result.err.startswith(f"tickets/{ids[1]}.md:{line}: ")
    assert message in result.err
    assert len(findings(result)) == 1, result.err
    assert result.err.endswith("\n1 problem(s)\n")


HAND_WRITTEN_ESCALATIONS = """\
escalations:
  - at: 2026-11-20T10:00:00+01:00
    kind: functional
    from: support
    to: engineering
    by: bob
    reason: needs a developer
  - at: 2026-11-20T11:00:00
    kind: hierarchical
    from: engineering
    to: management
    by: dan
    reason: needs a decision
"""


# BUG: a naive `at` in the second of two hand-written (block-style) escalations is reported
# at the line of `escalations:` + 2 (the ticket's line 22) instead of the line of that
# escalation (line 27): ticketfile._escalations assumes one line per escalation.
def test_validate_reports_a_naive_escalation_time_at_its_line(
    esc: CheckedEsc, workspace: Path
) -> None:
    ticket_id = create(esc)
    path = ticket_file(workspace, ticket_id)
    text = path.read_text(encoding="utf-8")
    text = text.replace("escalations: []\n", HAND_WRITTEN_ESCALATIONS)
    path.write_text(text.replace("team: support", "team: management"), encoding="utf-8")
    line = text.splitlines().index("  - at: 2026-11-20T11:00:00") + 1
    assert line == 27
    result = esc("validate")
    assert result.code == 1
    assert found_text(result) == (
        f"tickets/{ticket_id}.md:27: escalation 2: at is not a timestamp with a time zone\n"
    )


def test_validate_refuses_an_offset_whose_minutes_are_past_59_and_the_sweep_leaves_it(
    esc: CheckedEsc, workspace: Path
) -> None:
    """`created: …+01:60` read as +02:00, an entry head's `+01:99` as +02:39: the ticket
    validated and a sweep escalated it on times its file does not say (audit helper-467)."""
    ticket_id = create(esc)
    path = ticket_file(workspace, ticket_id)
    text = path.read_text(encoding="utf-8")
    created = next(line for line in text.splitlines() if line.startswith("created: "))
    text = text.replace(created, created[:-6] + "+01:60")
    text += "\n## Conversation\n\n### 2026-11-20T11:00:00+01:99 · bob · reply (public)\n\nhi\n"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    at_created = lines.index(created[:-6] + "+01:60") + 1
    at_entry = lines.index("### 2026-11-20T11:00:00+01:99 · bob · reply (public)") + 1
    result = esc("validate")
    why = "has an offset whose minutes are past 59 (+HH:MM, MM from 00 to 59)"
    assert (result.code, found_text(result)) == (
        1,
        f"tickets/{ticket_id}.md:{at_created}: {created[:-6]}+01:60 {why}\n".replace(
            ": created: ", ": created "
        )
        + f"tickets/{ticket_id}.md:{at_entry}: conversation entry time"
        f" '2026-11-20T11:00:00+01:99' {why}\n",
    )
    swept = esc("sweep", "--no-report", now="2026-12-01T10:00:00+01:00")
    assert swept.code == 1 and path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("to: engineering, why: x", "unknown key 'why' (keys: at, kind, from, to, by, reason)"),
        ("by: bob, reason: x", "to is missing"),
        ("to: engineering, reason: x", "by is missing"),
        ("to: engineering, by: bob", "reason is missing"),
        ("to: engineering, by: '', reason: x", "by is missing"),
        ("to: engineering, by: bob, reason: null", "reason is missing"),
        ("to: support, by: bob, reason: x", "from and to are both support"),
    ],
)
def test_validate_reports_an_escalation_without_its_keys(
    esc: CheckedEsc, workspace: Path, entry: str, problem: str
) -> None:
    """An escalation is `{at, kind, from, to, by, reason}`: a key esc does not know (a typo
    that would lose the reason), or no `to`, `by` or `reason` (where it went, who took it
    there and why: `show`, reports and notifications name them), is a problem at its line."""
    ticket_id = create(esc)
    path = ticket_file(workspace, ticket_id)
    text = path.read_text(encoding="utf-8").replace(
        "escalations: []\n",
        "escalations:\n  - {at: 2026-11-20T10:00:00+01:00, kind: hierarchical, from: support, "
        + entry + "}\n",
    )
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("escalations:") + 2
    result = esc("validate")
    expected = f"tickets/{ticket_id}.md:{line}: escalation 1: {problem}\n"
    assert (result.code, found_text(result)) == (1, expected)


def test_validate_reports_a_request_with_an_unknown_key(esc: CheckedEsc, workspace: Path) -> None:
    """A request is `{asked, by, team, person, state, closed, closed_by}`: a typo (`persn`)
    is a problem at its line, as an escalation's is."""
    ticket_id = create(esc)
    path = ticket_file(workspace, ticket_id)
    text = path.read_text(encoding="utf-8").replace(
        "escalations: []\n",
        "escalations: []\nrequests:\n  - {asked: 2026-11-20T10:00:00+01:00, by: bob, "
        "team: engineering, persn: ben, state: open}\n",
    )
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("requests:") + 2
    result = esc("validate")
    expected = (
        f"tickets/{ticket_id}.md:{line}: request 1: unknown key 'persn' "
        "(keys: asked, by, team, person, state, closed, closed_by)\n"
    )
    assert (result.code, found_text(result)) == (1, expected)


def test_teams_yaml_takes_keys_of_your_own_but_not_a_misspelt_intake(
    esc: CheckedEsc, workspace: Path
) -> None:
    """teams.yaml has "this exact shape; you may add keys" (issue 2): a key of your own is
    fine; one that reads as a misspelt `intake` is a problem, and so is no intake."""
    teams = workspace / "teams.yaml"
    original = teams.read_text()
    teams.write_text("company: Acme\nversion: 1\n" + original)
    assert esc("validate").code == 0
    teams.write_text(original.replace("intake:", "intak:", 1))
    result = esc("validate")
    assert result.code == 1
    line = original.splitlines().index(next(x for x in original.splitlines()
                                             if x.startswith("intake:"))) + 1  # fmt: skip
    assert f"teams.yaml:{line}: unknown key 'intak' (did you mean 'intake'?)\n" in result.err
    assert "teams.yaml:1: intake is missing: the team new tickets go to when no rule routes" in (
        result.err
    )
    # a section esc reads in rules.yaml, put here, would be ignored without a word
    teams.write_text(original + "notify:\n  targets: {}\n")
    result = esc("validate")
    line = len(original.splitlines()) + 1
    assert f"teams.yaml:{line}: notify belongs in rules.yaml: esc reads it there\n" in result.err


def test_validate_counts_lines_from_the_top_of_the_file(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    path = ticket_file(workspace, ticket_id)
    path.write_text(
        path.read_text(encoding="utf-8").replace("---\n", "---\n# hand edited\n\n", 1),
        encoding="utf-8",
    )
    break_line(path, "status:", "status: weird")
    result = esc("validate")
    assert result.code == 1
    assert result.err.startswith(f"tickets/{ticket_id}.md:6: unknown status 'weird'")


def test_validate_reports_an_id_that_does_not_match_the_file_name(
    esc: CheckedEsc, workspace: Path
) -> None:
    ids = three_tickets(esc)
    break_line(ticket_file(workspace, ids[0]), "id:", "id: T-aaaaaaaa")
    result = esc("validate")
    assert result.code == 1
    assert found_text(result) == (
        f"tickets/{ids[0]}.md:2: id T-aaaaaaaa does not match the file name {ids[0]}.md\n"
    )


def test_validate_reports_a_duplicate_id(esc: CheckedEsc, workspace: Path) -> None:
    ids = three_tickets(esc)
    copy = workspace / "tickets" / "T-zzzzzzzz.md"  # sorts after every other ID
    copy.write_bytes(ticket_file(workspace, ids[0]).read_bytes())
    result = esc("validate")
    assert result.code == 1
    lines = findings(result)
    assert f"tickets/T-zzzzzzzz.md:2: duplicate id {ids[0]} (also in tickets/{ids[0]}.md)" in lines
    assert all(line.startswith("tickets/T-zzzzzzzz.md:2: ") for line in lines), lines


def test_validate_reports_ids_that_differ_only_in_case(esc: CheckedEsc, workspace: Path) -> None:
    """IDs are matched in any case (`esc show t-ab…`): two that differ only in case are one
    ID twice, and `show` could not tell them apart."""
    ids = three_tickets(esc)
    upper = "T-" + ids[0][2:].upper()
    path = workspace / "tickets" / f"{upper}.md"
    path.write_text(ticket_file(workspace, ids[0]).read_text().replace(ids[0], upper))
    result = esc("validate")
    assert result.code == 1
    names = sorted([f"{upper}.md", f"{ids[0]}.md"])  # (files are read in name order)
    first, second = names
    first_id, second_id = (Path(n).stem for n in names)
    assert found_text(result) == (
        f"tickets/{second}:2: duplicate id {second_id} (as {first_id} in tickets/{first})\n"
    )
    # ambiguous to every command, however the ID is typed, until one is renamed: the
    # full ID as either file is named too (it addressed that file, and `sweep` rewrote
    # both as two tickets)
    before = {p: p.read_bytes() for p in (path, ticket_file(workspace, ids[0]))}
    said = f"esc: ticket ID {{}} is ambiguous: {', '.join(sorted([upper, ids[0]]))}\n"
    for typed in (upper, ids[0], ids[0].lower()):
        for command in (["show", typed], ["tag", typed, "x"], ["comment", typed, "-m", "hi"]):
            result = esc(*command)
            assert (result.code, result.err) == (1, said.format(repr(typed))), command
    twins = sorted(f"tickets/{name}" for name in names)
    for command in (["list"], ["check"], ["sweep", "--no-report"], ["report"]):
        result = esc(*command)
        assert result.code == 1, command
        for one, other in (twins, twins[::-1]):
            assert (
                f"{one}:1: the same ID as {other} in another case: no command reads or "
                "writes either until one is renamed"
            ) in result.err + result.out, command
    assert {p: p.read_bytes() for p in before} == before
    listed = esc("list", "--all", "--json").out
    assert upper not in listed and ids[0] not in listed and ids[1] in listed


def test_validate_reports_an_escalation_cycle(esc: CheckedEsc, workspace: Path) -> None:
    three_tickets(esc)
    top = "    members: [frank]"
    break_line(workspace / "teams.yaml", top, top + "\n    escalates_to: support")
    result = esc("validate")
    assert result.code == 1
    assert (
        "teams.yaml:10: escalation cycle: support → engineering → management → support"
        in result.err.splitlines()
    )
    assert "teams.yaml:22: escalation cycle: management → support → engineering → management" in (
        result.err.splitlines()
    )


def test_validate_reports_an_unknown_escalates_to(esc: CheckedEsc, workspace: Path) -> None:
    three_tickets(esc)
    edit_workspace_file(workspace, "teams.yaml", "escalates_to: management", "escalates_to: board")
    result = esc("validate")
    assert result.code == 1
    board = "teams.yaml:16: team engineering: escalates_to unknown team 'board'"
    assert findings(result) == [board]
    # other commands stop at the broken configuration, naming the same place
    listing = esc("list")
    assert listing.code == 1
    assert "teams.yaml:16: team engineering: escalates_to unknown team 'board'" in listing.err


# The misspellings of issue 14: each passed `esc validate` and then silently never matched.
MISSPELLED_CONDITIONS = {
    "key in a route": (
        "  - when: {category: outage}",
        "  - when: {categroy: outage}",
        "routing[0].when.categroy: unknown condition key 'categroy'"
        " (did you mean 'category'?)",
    ),
    "text key": (
        "  - when: {category: outage}",
        '  - when: {titel: "/refund/i"}',
        "routing[0].when.titel: unknown condition key 'titel' (did you mean 'title'?)",
    ),
    "key in a policy": (
        "    when: {priority: urgent}",
        "    when: {priorty: urgent}",
        "sla[0].when.priorty: unknown condition key 'priorty' (did you mean 'priority'?)",
    ),
    "priority in a policy": (
        "    when: {priority: urgent}",
        "    when: {priority: urgnet}",
        "sla[0].when.priority: unknown priority 'urgnet' (did you mean 'urgent'?);"
        " choose from low, normal, high, urgent",
    ),
    "category in a rule": (
        '    when: {category: outage, priority: "<urgent"}',
        '    when: {category: securty, priority: "<urgent"}',
        "rules[1].when.category: unknown category 'securty'; choose from billing, account,",
    ),
}


@pytest.mark.parametrize("case", list(MISSPELLED_CONDITIONS))
def test_a_misspelled_condition_stops_validate_and_every_command(
    esc: CheckedEsc, workspace: Path, case: str
) -> None:
    old, new, message = MISSPELLED_CONDITIONS[case]
    ticket_id = create(esc, "--category", "outage")
    before = all_ticket_bytes(workspace)
    edit_workspace_file(workspace, "rules.yaml", old, new)
    line = (workspace / "rules.yaml").read_text(encoding="utf-8").splitlines().index(new) + 1
    result = esc("validate")
    assert result.code == 1
    assert result.err.startswith(f"rules.yaml:{line}: ")
    assert message in result.err
    assert len(findings(result)) == 1, result.err
    for args in (
        ["list"],
        ["show", ticket_id],
        ["create", "--title", "Checkout down"],
        ["comment", ticket_id, "-m", "On it"],
        ["escalate", ticket_id, "--up", "--reason", "needs a developer"],
        ["sweep", "--no-report"],
        ["check"],
        ["report"],
    ):
        refused = esc(*args)
        assert refused.code == 1, (args, refused)
        assert refused.err.startswith(f"rules.yaml:{line}: "), (args, refused.err)
        assert message in refused.err
        assert len(refused.err.splitlines()) == 1, refused.err
    assert all_ticket_bytes(workspace) == before


def test_custom_fields_declared_in_rules_yaml_may_be_conditions(
    esc: CheckedEsc, workspace: Path
) -> None:
    edit_workspace_file(
        workspace, "rules.yaml", "routing:", "fields: [vip]\n\nrouting:\n  - when: {vip: yes}\n"
        "    team: management"
    )
    assert esc("validate").code == 0
    ticket_id = create(esc, "--category", "billing")
    break_line(ticket_file(workspace, ticket_id), "tags:", "tags: []\nvip: yes")
    esc.ok("classify", ticket_id, "--category", "account")  # (re-routing reads vip)
    assert show(esc, ticket_id)["team"] == "management"
    edit_workspace_file(workspace, "rules.yaml", "fields: [vip]", "fields: [region]")
    result = esc("validate")
    assert result.code == 1
    assert "routing[0].when.vip: unknown condition key 'vip'" in result.err
    assert "rules.yaml's `fields:`" in result.err


# ---------------------------------------------------------------- a ticket that does not parse


@pytest.fixture
def broken(esc: CheckedEsc, workspace: Path) -> tuple[list[str], str]:
    """Three tickets, the middle one ("Two") with a front-matter that does not parse."""
    ids = three_tickets(esc)
    break_line(ticket_file(workspace, ids[1]), "title:", "title: Two: broken")
    return ids, f"tickets/{ids[1]}.md:3: front-matter does not parse"


def test_list_skips_a_broken_ticket_and_reports_it(
    esc: CheckedEsc, broken: tuple[list[str], str]
) -> None:
    ids, where = broken
    result = esc("list", "--json")
    assert result.code == 1
    assert sorted(t["id"] for t in json.loads(result.out)) == sorted([ids[0], ids[2]])
    assert result.err.startswith(where)
    table = esc("list")
    assert table.code == 1
    assert "One" in table.out and "Three" in table.out and ids[1] not in table.out
    assert table.err.startswith(where)


def test_a_broken_ticket_is_never_rewritten(
    esc: CheckedEsc, workspace: Path, broken: tuple[list[str], str]
) -> None:
    ids, where = broken
    before = ticket_file(workspace, ids[1]).read_bytes()
    result = esc("assign", ids[1], "alice")
    assert result.code == 1
    assert result.err.startswith(where)
    assert ticket_file(workspace, ids[1]).read_bytes() == before
    assert esc("show", ids[1]).code == 1
    assert esc("comment", ids[1], "-m", "hi").code == 1
    assert ticket_file(workspace, ids[1]).read_bytes() == before


# ---------------------------------------------------------------- values outside their choices

# Every value given to esc that is outside its choices or grammar, wherever the choices come
# from (click, the configuration, esc's own grammars): a usage error, exit 2, one line.
OUTSIDE_THE_CHOICES = [
    (["upcoming", "--within", "3x"], 'duration "3x" is not valid'),
    (["list", "--priority", ">=hgih"], "unknown priority 'hgih' (did you mean 'high'?)"),
    (["list", "--priority", "urgnet"], "unknown priority 'urgnet' (did you mean 'urgent'?)"),
    (["--now", "yesterday", "list"], "--now 'yesterday' is not an ISO-8601 timestamp"),
    (["list", "--now", "yesterday"], "--now 'yesterday' is not an ISO-8601 timestamp"),
    (["list", "--now", "2026-11-30T12:00:00+25:00"], "the offset must be within ±23:59"),
    (["escalate", "ID", "--priority", "critical", "--reason", "r"], "unknown priority 'critical'"),
    (["escalate", "ID", "--to", "legal", "--reason", "r"], "unknown team 'legal'; choose from"),
    (["classify", "ID", "--category", "nonsense"], "unknown category 'nonsense'; choose from"),
    (["classify", "ID", "--priority", "hihg"], "unknown priority 'hihg' (did you mean 'high'?)"),
    (["classify", "ID", "--impact", "huge", "--urgency", "high"], "unknown impact 'huge'"),
    (["classify", "ID", "--impact", "high", "--urgency", "now"], "unknown urgency 'now'"),
    (["create", "--title", "t", "--category", "billling"], "(did you mean 'billing'?)"),
    (["create", "--title", "t", "--priority", "critical"], "unknown priority 'critical'"),
    (["create", "--title", "t", "--channel", "fax"], "'fax' is not one of"),
    (["close", "ID", "--csat", "9"], "--csat"),
    (["list", "--status", "bogus"], "'bogus' is not one of"),
    (["list", "--team", "nobody"], "--team: unknown team 'nobody'; choose from support,"),
    (["list", "--category", "securty"], "--category: unknown category 'securty'"),
    (["list", "--level", "9"], "--level: unknown level 9; choose from 1, 2, 3"),
    (["list", "--level", "high"], "--level takes a number or a comparison"),
    (["list", "--sort", "bogus"], "cannot sort by 'bogus'"),
    (["check", "--format", "xml"], "'xml' is not one of"),
    (["check", "--fail-on", "late"], "'late' is not one of"),
    (["report", "--format", "pdf"], "'pdf' is not one of"),
    (["report", "--team", "suport"], "unknown team 'suport' (did you mean 'support'?)"),
    (["report", "--since", "last week"], "--since 'last week' is not an ISO-8601 timestamp"),
    (["report", "--since", ""], "--since must not be empty"),
    (["report", "--until", " "], "--until must not be empty"),
    # issue 20: times and spans past what datetime holds (these were internal errors)
    (["report", "--since", "0001-01-01", "--until", "9999-12-31"], "--until '9999-12-31' is out"),
    (["report", "--since", "0001-01-01"], "--since '0001-01-01' is out of range"),
    (["report", "--since", "1899-12-31T23:00:00Z"], "out of range: esc takes times from"),
    (["upcoming", "--within", "99999999d"], "--within: 99999999d is longer than esc looks"),
    (["sweep", "--jobs", "0"], "--jobs"),
    (["sweep", "--lock-timeout", "-1"], "--lock-timeout"),
    (["sweep", "--lock-timeout", "nan"], "'nan': give a number of seconds, 0 to 86400"),
    (["intake", "--json", "-", "--lock-timeout", "inf"], "'inf': give a number of seconds"),
    # (Python's own forms: `1_0` was 10, `1e300` a wait that never ends; audit helper-468)
    (["sweep", "--lock-timeout", "1_0"], "'1_0': give a number of seconds, 0 to 86400"),
    (["sweep", "--lock-timeout", "1e300"], "'1e300': give a number of seconds"),
    (["sweep", "--lock-timeout", "86401"], "'86401': give a number of seconds"),
]


@pytest.mark.parametrize(
    ("args", "message"), OUTSIDE_THE_CHOICES, ids=[" ".join(a) for a, _ in OUTSIDE_THE_CHOICES]
)
def test_a_value_outside_its_choices_is_a_usage_error(
    esc: CheckedEsc, workspace: Path, args: list[str], message: str
) -> None:
    ticket_id = create(esc)
    before = all_ticket_bytes(workspace)
    argv = [ticket_id if arg == "ID" else arg for arg in args]
    # (a --now of the case's own is the only one: the harness gives one otherwise)
    result = esc(*argv, now="") if "--now" in argv else esc(*argv)
    assert_bad_input(result, message)
    assert all_ticket_bytes(workspace) == before


@pytest.mark.parametrize(
    ("setup", "args"),
    [
        ((), ("reopen", "ID", "--reason", "")),  # (new: not resolved, not reopened)
        (("resolve", "ID", "--resolution", "done"), ("resolve", "ID", "--resolution", "")),
    ],
)
def test_an_empty_value_is_a_usage_error_whatever_the_ticket_s_state(
    esc: CheckedEsc, workspace: Path, setup: tuple[str, ...], args: tuple[str, ...]
) -> None:
    """`reopen --reason ""` on a new ticket was exit 1 (`only a resolved or closed ticket
    reopens`), on a resolved one exit 2: the value is looked at first, as `wait`,
    `escalate` and `classify` do (audit helper-474)."""
    ticket_id = create(esc)
    if setup:
        esc.ok(*[ticket_id if a == "ID" else a for a in setup])
    result = esc(*[ticket_id if a == "ID" else a for a in args])
    assert result.code == 2 and "must not be empty" in result.err, result.err


def test_a_value_outside_its_choices_is_a_usage_error_on_a_closed_ticket_too(
    esc: CheckedEsc, workspace: Path
) -> None:
    """Exit 2 for the value, wherever the ticket stands; a good value is refused (1)."""
    ticket_id = create(esc)
    esc.ok("close", ticket_id, "--resolution", "Done")
    for args, message in [
        (["escalate", ticket_id, "--priority", "critical", "--reason", "x"], "unknown priority"),
        (["escalate", ticket_id, "--to", "nobody", "--reason", "x"], "unknown team 'nobody'"),
        (["classify", ticket_id, "--category", "nonsense"], "unknown category 'nonsense'"),
    ]:
        result = esc(*args)
        assert (result.code, message in result.err) == (2, True), (args, result.err)
    refused = esc("escalate", ticket_id, "--priority", "urgent", "--reason", "x")
    assert refused.code == 1 and "is closed" in refused.err


@pytest.mark.parametrize(
    ("command", "env", "message"),
    [
        ("create", {"ESC_NOW": "yesterday"}, "ESC_NOW 'yesterday' is not an ISO-8601 timestamp"),
        ("create", {"ESC_LOCK_TIMEOUT": "soon"}, "ESC_LOCK_TIMEOUT='soon'"),
        ("sweep", {"ESC_LOCK_TIMEOUT": "soon"}, "ESC_LOCK_TIMEOUT='soon': give a number of"),
        # (digits other than ASCII: taken by the commands that write tickets, refused by
        # sweep's option; one reading for both now, review helper-449)
        ("create", {"ESC_LOCK_TIMEOUT": "\uff13"}, "ESC_LOCK_TIMEOUT='\uff13': give a number"),
        ("sweep", {"ESC_LOCK_TIMEOUT": "\uff13"}, "ESC_LOCK_TIMEOUT='\uff13': give a number"),
        ("sweep", {"ESC_JOBS": "many"}, "esc: ESC_JOBS='many': 'many' is not a whole number"),
        ("sweep", {"ESC_JOBS": "-1"}, "esc: ESC_JOBS='-1': -1 is not in the range x>=1"),
    ],
)
def test_an_environment_value_outside_its_choices_is_a_usage_error(
    workspace: Path, command: str, env: dict[str, str], message: str
) -> None:
    args = ["create", "--title", "t"] if command == "create" else ["sweep", "--no-report"]
    result = CheckedEsc(workspace, now=None)(*args, env=env)
    assert_bad_input(result, message)
    assert ticket_files(workspace) == []


# ---------------------------------------------------------------- --now, --root, python -m


def test_now_before_and_after_the_command(esc: CheckedEsc, workspace: Path) -> None:
    plain = CheckedEsc(workspace, now=None)
    before = plain.ok("--now", "2026-01-02T03:04:05+02:00", "create", "--title", "x").strip()
    after = plain.ok("create", "--title", "y", "--now", "2026-03-04T05:06:07-05:00").strip()
    assert show(plain, before)["created"] == "2026-01-02T03:04:05+02:00"
    assert show(plain, after)["created"] == "2026-03-04T05:06:07-05:00"
    age_before = plain.ok("--now", "2026-01-02T06:04:05+02:00", "list", "--team", "support")
    age_after = plain.ok("list", "--team", "support", "--now", "2026-01-02T06:04:05+02:00")
    assert age_before == age_after
    assert age_before.splitlines()[1].split()[6] == "3h"


def test_esc_now_environment(esc: CheckedEsc, workspace: Path) -> None:
    plain = CheckedEsc(workspace, now=None)
    env = {"ESC_NOW": "2026-05-06T07:08:09Z"}
    ticket_id = plain.ok("create", "--title", "x", env=env).strip()
    assert show(plain, ticket_id)["created"] == "2026-05-06T07:08:09+00:00"
    # an explicit --now wins over the environment, in either position
    other = plain.ok("create", "--title", "y", "--now", "2026-01-01T00:00:00Z", env=env).strip()
    assert show(plain, other)["created"] == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize("where", ["before", "after", "env"])
def test_a_now_without_an_offset_is_local_time(
    esc: CheckedEsc, workspace: Path, where: str
) -> None:
    """`--now 2026-11-20T10:00:00` is 10:00 where esc runs, as the clock would be; the
    ticket records it with that offset."""
    plain = CheckedEsc(workspace, now=None)
    naive = "2026-11-20T10:00:00"
    if where == "before":
        result = plain("--now", naive, "create", "--title", "x", "--json")
    elif where == "after":
        result = plain("create", "--title", "x", "--now", naive, "--json")
    else:
        result = plain("create", "--title", "x", "--json", env={"ESC_NOW": naive})
    assert result.code == 0, result.err
    local = dt.datetime.fromisoformat(naive).astimezone()
    assert json.loads(result.out)["created"] == local.isoformat()


def test_root_option_and_environment_from_elsewhere(
    esc: CheckedEsc, workspace: Path, tmp_path: Path
) -> None:
    ticket_id = create(esc)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    away = CheckedEsc(elsewhere)
    by_option = json.loads(away.ok("--root", str(workspace), "show", ticket_id, "--json"))
    by_env = json.loads(away.ok("show", ticket_id, "--json", env={"ESC_ROOT": str(workspace)}))
    assert by_option["id"] == by_env["id"] == ticket_id
    away.ok("--root", str(workspace), "assign", ticket_id, "bob")
    assert show(esc, ticket_id)["assignee"] == "bob"


def test_a_workspace_is_found_from_a_subfolder(esc: CheckedEsc, workspace: Path) -> None:
    ticket_id = create(esc)
    inside = CheckedEsc(workspace / "tickets")
    assert [t["id"] for t in list_json(inside)] == [ticket_id]


def test_a_path_that_is_a_loop_of_symlinks_is_a_usage_error(
    esc: CheckedEsc, workspace: Path, tmp_path: Path
) -> None:
    """Python's resolve() raises RuntimeError on a loop: every path option given one was an
    internal error, exit 3 (audit b67)."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    said = f"{loop}: cannot be followed (a loop of symlinks)"
    assert_one_line_error(CheckedEsc(tmp_path)("--root", str(loop), "list"), 2, "--root", said)
    assert_one_line_error(CheckedEsc(tmp_path)("list", env={"ESC_ROOT": str(loop)}), 2, said)
    assert_one_line_error(CheckedEsc(tmp_path)("init", str(loop)), 2, said)
    swept = esc("sweep", "--report-dir", str(loop))
    assert_one_line_error(swept, 2, "--report-dir", said)
    mail = esc("intake", "--eml", "-", "--quarantine", str(loop), input="Subject: x\n\nhi\n")
    assert_one_line_error(mail, 75, "--quarantine", said, "; not taken now")


def test_outside_a_workspace(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert_refused(CheckedEsc(elsewhere)("list"), "no esc workspace", "esc init", "--root")
    assert_refused(CheckedEsc(elsewhere)("--root", str(elsewhere), "list"), "not an esc workspace")


@pytest.mark.parametrize("group", [[], ["kb"], ["notify"]])
def test_a_group_alone_prints_its_help(tmp_path: Path, group: list[str]) -> None:
    """`esc` (or `esc kb`) with no command prints the help `--help` prints, as it is: it
    was a usage error whose whole help was squeezed into one line on stderr."""
    alone = run_in_process(group, tmp_path)
    asked = run_in_process([*group, "--help"], tmp_path)
    assert (alone.code, alone.out, alone.err) == (0, asked.out, "")
    assert alone.out.startswith("Usage: esc") and alone.out.count("\n") > 5


def test_python_dash_m_esc_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "esc", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    for command in ("create", "escalate", "list", "validate"):
        assert command in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["list", "--all"], ["report", "--format", "json"]])
def test_output_to_a_reader_that_went_away_ends_quietly(demo: Path, args: list[str]) -> None:
    """`esc list | head -0`: the reader closes the pipe before esc writes to it."""
    proc = subprocess.Popen(
        [ESC, "--now", NOW, *args], cwd=demo, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 1)  # (1: click's code for a broken pipe)
    assert err == ""


def test_output_arrives_whole_through_a_pipe(demo: Path) -> None:
    proc = subprocess.run(
        [ESC, "--now", NOW, "report", "--format", "json"], cwd=demo, capture_output=True, check=True
    )
    assert json.loads(proc.stdout)["totals"]["tickets"] == 36
    assert proc.stdout.endswith(b"}\n") and proc.stderr == b""


# ---------------------------------------------------------------- small things (issue 14, s.6-7)


def test_every_command_the_starter_files_suggest_works(esc: CheckedEsc) -> None:
    """The starter teams.yaml once suggested `esc assign ID lead`, which fails."""
    suggested = re.findall(r"`(esc [^`]+)`", TEAMS_YAML + RULES_YAML)
    assert suggested
    ticket_id = esc.ok("create", "--title", "x", "--category", "billing").strip()
    for command in suggested:
        words = command.split()[1:]
        if words[0] in ("assign", "escalate", "comment", "tag"):
            words = [w.replace("ID", ticket_id) for w in words]
            if ticket_id not in words:
                words.insert(1, ticket_id)
            if words[0] == "escalate":
                words += ["--reason", "the starter says so"]
            result = esc(*words)
            assert result.code == 0, (command, result.err)


def test_a_title_with_a_tab_is_refused_not_changed(esc: CheckedEsc, workspace: Path) -> None:
    for title in ("Checkout\treturns 500", "two\nlines", "a\u2028b"):
        result = esc("create", "--title", title, "--category", "billing")
        assert result.code == 2, result.err
        assert result.err.startswith("esc: --title must be one line of text, but it has ")
        assert ticket_files(workspace) == []
    assert "a tab" in esc("create", "--title", "a\tb").err


def test_a_tag_with_a_comma_is_refused(esc: CheckedEsc, workspace: Path) -> None:
    """Exports join tags with commas, so a tag holding one would be ambiguous."""
    result = esc("create", "--title", "x", "--tag", "a,b")
    assert result.code == 2
    assert "has a comma" in result.err
    assert ticket_files(workspace) == []
    ticket_id = esc.ok("create", "--title", "x", "--category", "billing").strip()
    before = (workspace / "tickets" / f"{ticket_id}.md").read_text()
    for bad in ("a,b", "", "a\tb"):
        result = esc("tag", ticket_id, "vip", bad)
        assert result.code == 2, (bad, result.err)
        assert len(result.err.splitlines()) == 1
    assert (workspace / "tickets" / f"{ticket_id}.md").read_text() == before


def test_now_out_of_range_is_a_usage_error(esc: CheckedEsc) -> None:
    result = esc("list", now="9999-12-31T23:59:59-01:00")
    assert result.code == 2
    assert "out of range" in result.err


@pytest.mark.parametrize("now", ["8999-12-31T23:59:59-12:00", "1900-01-01T00:00:00+14:00"])
def test_the_first_and_last_times_esc_takes_give_an_answer_in_seconds(demo: Path, now: str) -> None:
    """Issue 20: at a --now thousands of years after the demo's tickets, the SLA clocks
    walked the calendar day by day (minutes per ticket); they count at most 10 years."""
    paused = "T-d7ca5vff"  # pending: its pause runs until --now
    for args in (
        ["sweep", "--dry-run", "--no-report"],
        ["list"],
        ["check"],
        ["upcoming"],
        ["explain", paused],
        ["show", paused, "--json"],
    ):
        proc = subprocess.run(
            [ESC, "--now", now, *args], cwd=demo, capture_output=True, text=True, timeout=30
        )
        assert proc.returncode in (0, 1), (args, proc.stderr)
        assert proc.stderr == "" or "internal error" not in proc.stderr, (args, proc.stderr)
    explained = subprocess.run(
        [ESC, "--now", "8999-12-31T23:59:59-12:00", "explain", paused],
        cwd=demo, capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert "(counted over its first 10 years)" in explained


def test_a_ticket_of_the_last_year_esc_takes_is_swept(esc: CheckedEsc, workspace: Path) -> None:
    """Created in 8999, the last year esc takes, its clocks' dues fall in 9000: every sweep
    said its change "would not validate" and wrote nothing, exit 1, the breach never
    escalated, while `validate` said ok (audit helper-447)."""
    ticket = esc.ok("create", "--title", "Checkout down", "--priority", "urgent", "--body",
                    "b", now="8999-12-31T22:00:00+00:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="8999-12-31T23:00:00+00:00")
    text = ticket_file(workspace, ticket).read_text()
    assert "\nsla:\n" in text and "9000-01-0" in text
    assert esc("validate", now="8999-12-31T23:50:00+00:00").code == 0
    assert "0 changed" in esc.ok("sweep", "--no-report", now="8999-12-31T23:50:00+00:00")
    # (a due past any clock's reach, or a `checked` out of esc's years, by hand: a finding,
    # as before, never a time esc computes with)
    path = ticket_file(workspace, ticket)
    quoted = re.search(r"due: (9000-01-0\S+),", text)
    assert quoted is not None
    for old, new in (("due: 9000-01-0", "due: 9999-12-3"), ("checked: 8999", "checked: 9001"),
                     (quoted[0], 'due: "9999-12-31T23:59:59-14:00",')):  # (quoted: a time too)
        path.write_text(text.replace(old, new, 1))
        found = esc("validate", now="8999-12-31T23:50:00+00:00")
        assert found.code == 1 and "out of range" in found.err, found.err


def _in_a_terminal(argv: list[str], cwd: Path, editor: str) -> tuple[int, str]:
    """Run esc with a terminal as stdin and stdout (so it opens $EDITOR)."""
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "esc", *argv],
            cwd=cwd,
            stdin=follower,
            stdout=follower,
            stderr=subprocess.PIPE,
            env={**os.environ, "EDITOR": editor, "VISUAL": editor},
        )
        os.close(follower)
        follower = -1
        _, err = proc.communicate(timeout=60)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    return proc.returncode, err.decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_leaving_the_editor_without_saving_creates_nothing(workspace: Path) -> None:
    code, err = _in_a_terminal(["--now", NOW, "create", "--title", "x"], workspace, "true")
    assert code == 1, err
    assert err.startswith("esc: no description was saved in the editor"), err
    assert ticket_files(workspace) == []
    # an editor that saves a description creates the ticket with it
    editor = workspace.parent / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Card payments fail\\n" > "$1"\n')
    editor.chmod(0o755)
    code, err = _in_a_terminal(["--now", NOW, "create", "--title", "x"], workspace, str(editor))
    assert code == 0, err
    [name] = ticket_files(workspace)
    assert "Card payments fail" in (workspace / "tickets" / name).read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_editor_opens_when_stdout_is_captured_and_keeps_every_line(workspace: Path) -> None:
    """`ID=$(esc create --title …)` at a terminal: the editor opens on the terminal (what it
    draws does not go into the captured ID), and text written below the template's marker
    line is kept: only the marker line itself is removed."""
    import fcntl
    import os
    import pty
    import termios

    editor = workspace.parent / "editor.sh"
    editor.write_text(
        '#!/bin/sh\necho "drawing the screen"\n'
        'printf "Above\\n%s\\nBelow the marker\\n" "$(cat "$1")" > "$1"\n'
    )
    editor.chmod(0o755)

    def terminal() -> None:  # (the pty becomes the controlling terminal, as in a shell)
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "esc", "--now", NOW, "create", "--title", "x"],
            cwd=workspace, stdin=follower, capture_output=True, text=True, timeout=60,
            env={**os.environ, "EDITOR": str(editor), "VISUAL": str(editor)},
            preexec_fn=terminal,
        )  # fmt: skip
        os.set_blocking(leader, False)
        drawn = os.read(leader, 4096).decode()
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    [name] = ticket_files(workspace)
    assert proc.stdout == name.removesuffix(".md") + "\n"  # the ID alone
    assert "drawing the screen" in drawn
    text = (workspace / "tickets" / name).read_text()
    assert "Above\n\nBelow the marker\n" in text
    assert "<!--" not in text


# ---------------------------------------------------------------- involve, answer


def test_involve_asks_another_team_and_answer_closes_the_request(
    esc: CheckedEsc, workspace: Path
) -> None:
    ticket = create(esc, "--category", "billing", now=at(hours=1))
    assert esc.ok("involve", ticket, "--team", "engineering", "--person", "dan", "--ask",
                  "Is the PDF service down?") == f"{ticket}: asked engineering (dan)\n"
    shown = show(esc, ticket)
    assert shown["team"] == "support"  # the owning team keeps it
    assert [(r["team"], r["person"], r["state"], r["age"]) for r in shown["requests"]] == [
        ("engineering", "dan", "open", "0m")
    ]
    ask = "Request to engineering (dan): Is the PDF service down?"
    assert shown["conversation"][-1]["text"] == ask
    assert [t["id"] for t in list_json(esc, "--involving", "engineering")] == [ticket]
    assert list_json(esc, "--involving", "management") == []
    both = list_json(esc, "--involving", "management", "--involving", "engineering")
    assert [t["id"] for t in both] == [ticket]  # (repeatable: any of them)
    text = esc.ok("show", ticket)
    assert f"open      engineering (dan)  asked {NOW} by alice, 0m ago" in text
    path = workspace / "tickets" / f"{ticket}.md"  # (a request written by hand with no `by`)
    path.write_text(path.read_text().replace("by: alice, ", "", 1))
    assert f"open      engineering (dan)  asked {NOW}, 0m ago" in esc.ok("show", ticket)
    path.write_text(path.read_text().replace(f"asked: {NOW}, ", f"asked: {NOW}, by: alice, ", 1))
    out = esc.ok(
        "answer", ticket, "--team", "engineering", "-m", "Yes.", "--by", "dan", now=LATER
    )
    assert out == f"{ticket}: engineering answered\n"
    request = show(esc, ticket)["requests"][0]
    assert (request["state"], request["closed"]) == ("answered", LATER)
    assert request["closed_by"] == "dan"
    assert list_json(esc, "--involving", "engineering") == []
    log = [(a[2] or a[5], a[6]) for a in activity(show(esc, ticket))][-2:]
    assert log == [("involved engineering", "dan"), ("request answered by engineering", "")]


def test_a_request_left_open_when_the_ticket_was_resolved_is_shown_never_answered(
    esc: CheckedEsc, workspace: Path
) -> None:
    """`show` said such a request was `open …, 3h ago · OLA met`: open and met at once,
    never answered, its age growing for as long as the ticket exists."""
    ticket = create(esc, "--category", "billing", now=at(hours=1))
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "Down?")
    esc.ok("resolve", ticket, "--resolution", "Fixed on our side", now=LATER)
    text = esc.ok("show", ticket, now="2026-12-24T10:00:00+01:00")
    line = next(x for x in text.splitlines() if "engineering  asked" in x)
    assert line == (
        f"  open      engineering  asked {NOW} by alice; never answered: the ticket was "
        f"resolved {LATER}"
    )
    data = json.loads(esc.ok("show", ticket, "--json", now="2026-12-24T10:00:00+01:00"))
    assert data["requests"][0]["age"] is None


def test_requests_in_json_have_every_field_and_every_ticket_has_requests(
    esc: CheckedEsc, workspace: Path
) -> None:
    """A script reads `requests` and each request's fields without checking they exist."""
    ticket = create(esc, "--category", "billing", now=at(hours=1))
    assert show(esc, ticket)["requests"] == []
    assert [t["requests"] for t in list_json(esc)] == [[]]
    changed = json.loads(esc.ok("involve", ticket, "--team", "engineering", "--ask", "Down?",
                                "--json"))  # fmt: skip
    fields = ["asked", "by", "team", "person", "state", "closed", "closed_by"]
    assert changed["requests"][0]["person"] is None
    for data in (changed, show(esc, ticket), list_json(esc)[0]):  # (each alike)
        assert list(data["requests"][0]) == [*fields, "age", "ola"]
        assert (data["requests"][0]["person"], data["requests"][0]["closed"]) == (None, None)


def test_an_option_s_name_given_as_another_option_s_value_is_refused(
    esc: CheckedEsc, workspace: Path
) -> None:
    """`comment T -m --internal` wrote a public reply saying "--internal", `resolve T
    --resolution --kb` told the customer "--kb", `--by --json` recorded a person so named:
    each a usage error, nothing written; the value meant is still taken in one word."""
    ticket = create(esc, "--category", "billing")
    before = all_ticket_bytes(workspace)
    for argv, option in (
        (("comment", ticket, "-m", "--internal"), "--message=--internal"),
        (("resolve", ticket, "--resolution", "--kb"), "--resolution=--kb"),
        (("comment", ticket, "--by", "--json", "-m", "hi"), "=--json"),
        (("create", "--title", "--body", "--body", "x"), "--title=--body"),
        (("escalate", ticket, "--reason", "--up"), "--reason=--up"),
    ):
        assert_bad_input(esc(*argv), "an option of this command, as its value", option)
    for argv in (("comment", ticket, "--by", "-x", "-m", "hi"),
                 ("assign", ticket, "--force", "--", "-x")):  # fmt: skip
        assert_bad_input(esc(*argv), "'-x' is no name: it starts with '-'")
    assert all_ticket_bytes(workspace) == before
    esc.ok("comment", ticket, "--message=--internal", "--internal")
    assert "--internal" in show(esc, ticket)["conversation"][0]["text"]


def test_involve_and_answer_refuse_with_one_line_and_change_nothing(
    esc: CheckedEsc, workspace: Path
) -> None:
    ticket = create(esc, "--category", "billing")
    before = all_ticket_bytes(workspace)
    assert_bad_input(esc("involve", ticket, "--team", "enginering", "--ask", "?"),
                     "unknown team 'enginering' (did you mean 'engineering'?)")
    assert_bad_input(esc("involve", ticket, "--team", "engineering", "--person", "frank",
                         "--ask", "?"), "frank is not in team engineering")
    # (an empty --person said "esc:  is not in team engineering"; audit helper-401)
    assert_bad_input(esc("involve", ticket, "--team", "engineering", "--person", "",
                         "--ask", "?"), "--person is empty: name a person of the team")
    assert_refused(esc("involve", ticket, "--team", "support", "--ask", "?"), "belongs to support")
    assert_refused(esc("answer", ticket, "--team", "engineering", "-m", "x"),
                   f"{ticket} has no open request to engineering")
    assert_bad_input(esc("list", "--involving", "nobody"), "--involving: unknown team 'nobody'")
    # --now before the command and after it: refused (the command's was kept, the other
    # dropped: a note recorded two days off), as twice before it is
    for argv in (
        ("--now", "2026-11-20T10:00:00+01:00", "comment", ticket, "--internal", "-m", "hi",
         "--now", "2026-11-22T10:00:00+01:00"),
        ("--now", "2026-11-20T10:00:00+01:00", "kb", "list", "--now", "2026-11-20T10:00:00+01:00"),
    ):  # fmt: skip
        result = esc(*argv, now="")
        assert (result.code, result.out) == (2, ""), result.err
        assert result.err == "esc: invalid value for '--now': given twice; it takes one value\n"
    assert all_ticket_bytes(workspace) == before
    # an option that takes one value, given twice: refused, not the last one kept silently
    for argv in (
        ("involve", ticket, "--team", "engineering", "--team", "management", "--ask", "?"),
        ("involve", ticket, "--team", "engineering", "--ask", "a", "--ask", "b"),
        ("answer", ticket, "--team", "engineering", "--team", "management", "-m", "x"),
        ("list", "--priority", "high", "--priority", "low"),
        # (a --now after the command, eager as --help is, let the repeat through)
        ("comment", ticket, "-m", "a", "-m", "b", "--now", "2026-11-20T11:00:00+01:00"),
    ):
        assert_bad_input(esc(*argv), "given 2 times; it takes one value")
    assert all_ticket_bytes(workspace) == before
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "?")
    assert_refused(esc("involve", ticket, "--team", "engineering", "--ask", "again"),
                   "already has an open request to engineering")
    assert esc.ok("answer", ticket, "--team", "engineering", "--decline", "-m", "Not ours") == (
        f"{ticket}: engineering declined\n"
    )
    assert show(esc, ticket)["requests"][0]["state"] == "declined"
    # asked again within the same second: refused, the declined request kept (a request
    # is named by its team and time: the new one replaced it)
    before = all_ticket_bytes(workspace)
    assert_refused(esc("involve", ticket, "--team", "engineering", "--ask", "again"),
                   "already; ask again a second later")
    assert all_ticket_bytes(workspace) == before
    assert esc("validate").code == 0


def test_a_ticket_id_too_long_for_a_file_name_is_no_ticket(esc: Esc) -> None:
    """Found by the fuzz test: the name was looked up as a file, and the system's "File
    name too long" was an internal error (exit 3)."""
    long_id = "a" * 3000
    for args in (["show", long_id], ["comment", long_id, "-m", "hi"]):
        result = esc(*args)
        assert result.code == 1, result.err
        assert result.err.startswith("esc: no ticket 'aaaa") and result.err.count("\n") == 1


# ------------------------------------------------------- what a new user found (2026-12-03)


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("comment", ("-m", "Back then")),
        ("resolve", ("--resolution", "Fixed before it was asked")),
        ("close", ("--resolution", "Closed before it was asked")),
        ("assign", ("alice",)),
        ("tag", ("vip",)),
    ],
)
def test_a_change_before_the_ticket_was_last_updated_is_refused(
    esc: CheckedEsc, workspace: Path, command: str, args: tuple[str, ...]
) -> None:
    """A log stays in order: a person's change at a --now before the ticket's creation or
    last update is refused (exit 1) and writes nothing, as a sweep leaves such a ticket."""
    ticket_id = create(esc)
    path = ticket_file(workspace, ticket_id)
    before = path.read_bytes()
    result = esc(command, ticket_id, *args, now=at(days=20))
    assert_refused(result, f"{ticket_id} was created at {NOW}, after --now {at(days=20)}")
    assert path.read_bytes() == before
    esc.ok("comment", ticket_id, "-m", "Looking", now=at(hours=-2))
    changed = path.read_bytes()
    assert_refused(esc(command, ticket_id, *args, now=at(hours=-1)), "was last updated at")
    assert path.read_bytes() == changed


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("rules.yaml", b"categories: [bug]\n# caf\xe9\n", 2),
        ("teams.yaml", b"intake: caf\xe9\n", 1),
    ],
)
def test_a_configuration_file_that_is_not_utf8_is_one_line(
    esc: CheckedEsc, workspace: Path, name: str, text: bytes, line: int
) -> None:
    (workspace / name).write_bytes(text)
    for command in (["validate"], ["list"], ["create", "--title", "x"], ["sweep"]):
        assert esc(*command).err == f"{name}:{line}: not UTF-8 text: invalid continuation byte\n"
        assert esc(*command).code == 1
    assert ticket_files(workspace) == []


def test_a_template_that_is_not_utf8_is_one_line(esc: CheckedEsc, workspace: Path) -> None:
    (workspace / "templates").mkdir()
    (workspace / "templates" / "report.md.j2").write_bytes(b"# Report\n\xe9{{ x }}\n")
    result = esc("report")
    assert (result.code, result.out) == (1, "")
    assert result.err == "templates/report.md.j2:2: not UTF-8 text: invalid continuation byte\n"


def test_a_comparison_no_value_can_meet_is_refused(esc: CheckedEsc, workspace: Path) -> None:
    """As an unknown level or score is refused, so is a comparison none of them meets."""
    assert_bad_input(esc("list", "--level", ">=5"), "level >=5 holds for none of the values")
    assert_bad_input(esc("list", "--priority", "<low"), "priority <low holds for none")
    assert esc("list", "--level", ">=2").code == 0
    rules = (workspace / "rules.yaml").read_text(encoding="utf-8")
    rules = rules.replace('level: "<3"', 'level: ">=5"')
    rules = rules.replace('priority: "<urgent"', 'csat: ">5"')
    (workspace / "rules.yaml").write_text(rules, encoding="utf-8")
    result = esc("validate")
    found = result.out + result.err
    assert result.code == 1
    assert "level >=5 holds for none of the values (1, 2" in found
    assert "csat score >5 holds for none of the values (1, 2, 3, 4, 5)" in found


@pytest.mark.parametrize(
    "head",
    [
        "### 2026-11-26 10:15 · info@alpenglow-outdoor.ch · message (public)",
        "### 26.11.2026 10:15 · info@alpenglow-outdoor.ch · message (public)",
        "### 2026-11-26T10:15:00+01:00 · info@alpenglow-outdoor.ch · mesage (public)",
        "### 2026-11-26T10:15:00+01:00 · info@alpenglow-outdoor.ch · message",
        "### 2026-11-26T10:15:00+01:00 - info@alpenglow-outdoor.ch - message (public)",
    ],
)
def test_an_entry_whose_head_is_not_in_shape_never_vanishes(demo: Path, head: str) -> None:
    """A customer's message under a heading esc cannot read is a finding at its line:
    never folded silently into the entry above it, its clock never left out."""
    path = demo / "tickets" / "T-0m6b2xb7.md"
    good = "### 2026-11-26T10:15:00+01:00 · info@alpenglow-outdoor.ch · message (public)"
    text = path.read_text(encoding="utf-8")
    assert good in text
    path.write_text(text.replace(good, head), encoding="utf-8")
    before = path.read_bytes()
    esc = CheckedEsc(demo, now="2026-11-27T12:00:00+01:00")
    found = esc("validate")
    assert found.code == 1
    assert "tickets/T-0m6b2xb7.md:52: not a conversation entry head esc can read" in found.err
    shown = esc("show", "T-0m6b2xb7")
    assert (shown.code, shown.out) == (1, "")
    assert shown.err.startswith("tickets/T-0m6b2xb7.md:52: not a conversation entry head")
    swept = esc("sweep", "--no-report")
    assert swept.code == 1 and "tickets/T-0m6b2xb7.md:52:" in swept.err
    assert path.read_bytes() == before


# ------------------------------------------------ stdin and arguments that are no text


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"bad \xff end\n", "esc: stdin is not valid UTF-8 text (at character 5)\n"),
        (b"x\x00y\n", "esc: stdin holds a NUL byte, which is no text\n"),
    ],
)
def test_stdin_that_is_no_text_is_refused_and_changes_nothing(
    esc: CheckedEsc, workspace: Path, data: bytes, problem: str
) -> None:
    """`comment -m -` and `create --body -` with bytes that are not UTF-8 (exit 3: the
    write failed) or a NUL (written into the file, which git then called binary)."""
    ticket = create(esc)
    before = all_ticket_bytes(workspace)
    for args in (["comment", ticket, "-m", "-"], ["create", "--title", "t", "--body", "-"]):
        proc = subprocess.run([ESC, "--now", NOW, *args], cwd=workspace, input=data,
                              capture_output=True, timeout=60)  # fmt: skip
        assert (proc.returncode, proc.stderr.decode()) == (2, problem)
        assert all_ticket_bytes(workspace) == before


def test_an_endless_stdin_is_refused_not_read_until_the_kernel_kills_esc(
    workspace: Path,
) -> None:
    """`create --body - < /dev/zero` read until the kernel killed esc, with no message."""
    with open("/dev/zero", "rb") as endless:
        proc = subprocess.run([ESC, "--now", NOW, "create", "--title", "t", "--body", "-"],
                              cwd=workspace, stdin=endless, capture_output=True,
                              timeout=120)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "esc: stdin holds more than 50,000,000 characters, more than a ticket's text may be;"
        " nothing was done\n"
    )


def test_an_argument_that_is_no_utf8_is_quoted_without_its_control_characters(
    workspace: Path,
) -> None:
    proc = subprocess.run([ESC, "show", b"\x1b]0;PWNED\x07\xff"], cwd=workspace,
                          capture_output=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert b"\x1b" not in proc.stderr and b"\x07" not in proc.stderr
    assert proc.stderr.startswith(b"esc: argument '\\x1b]0;PWNED\\x07\\xff' is not valid UTF-8")


def test_an_undecodable_argument_with_a_line_break_is_said_on_one_line() -> None:
    import contextlib
    import io

    from esc.cli.main import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--now", "2026-12-01T12:00:00Z", "create", "--title", "x", "--body",
                     "a\nb\udcff"])  # fmt: skip
    assert code == 2
    assert err.getvalue().splitlines() == [
        "esc: argument 'a\\nb\\xff' is not valid UTF-8 text; nothing was done"
    ]


def test_every_option_that_takes_one_value_refuses_to_be_given_twice(
    esc: Esc, workspace: Path
) -> None:
    """Click keeps the last of two values and drops the other silently: `comment -m "Part
    one" -m "Part two"` wrote "Part two" alone, `create --title a --title b` titled it b.
    Every option that takes one value is refused twice (exit 2, nothing written); flags,
    options that take several values, and --help may repeat."""
    ticket = create(esc, "--category", "billing")
    before = all_ticket_bytes(workspace)
    for argv in (
        ("create", "--title", "first", "--title", "second", "--category", "bug"),
        ("create", "--title", "t", "--body", "b1", "--body", "b2"),
        ("comment", ticket, "-m", "Part one", "-m", "Part two"),
        ("comment", ticket, "-m", "one", "--message=two"),
        ("escalate", ticket, "--to", "engineering", "--to", "management", "--reason", "r"),
        ("escalate", ticket, "--up", "--reason", "r1", "--reason", "r2"),
        ("close", ticket, "--resolution", "a", "--resolution", "b"),
        ("list", "--sort", "priority", "--sort", "created"),
        ("--root", str(workspace), "--root", str(workspace), "list"),
    ):
        result = esc(*argv)
        assert_bad_input(result, "given 2 times; it takes one value")
    assert all_ticket_bytes(workspace) == before
    assert esc.ok("list", "--json", "--json").startswith("[")  # (a flag twice: the same)
    assert "Usage: esc create" in esc.ok("create", "--title", "a", "--title", "b", "--help")
    assert esc.ok("comment", ticket, "-m", "--title") == f"{ticket}: reply added\n"


def test_a_dash_reads_every_text_option_from_stdin(esc: Esc, workspace: Path) -> None:
    """`--resolution -`, `--reason -`, `--feedback -` read stdin, as `--body -` and `-m -`
    do: a literal "-" was sent to the customer as the resolution.  Stdin holds one text:
    two options given `-` are refused (exit 2, nothing written)."""
    ticket = create(esc, "--category", "billing")
    esc.ok("wait", ticket, "--reason", "-", input="Send the invoice number\n")
    esc.ok("escalate", ticket, "--up", "--reason", "-", input="Needs a refund approval\n")
    esc.ok("resolve", ticket, "--resolution", "-", input="Refunded in full\n")
    esc.ok("reopen", ticket, "--reason", "-", input="Refund bounced\n")
    before = all_ticket_bytes(workspace)
    result = esc("close", ticket, "--feedback", "-", "--resolution", "-", input="x\n")
    assert_bad_input(result, "- (stdin) was given to another option already")
    assert all_ticket_bytes(workspace) == before
    esc.ok("close", ticket, "--resolution", "Refunded again", "--feedback", "-", input="Quick!\n")
    text = ticket_file(workspace, ticket).read_text(encoding="utf-8")
    for said in ("Send the invoice number", "Needs a refund approval", "Refunded in full",
                 "Refund bounced", "Quick!"):  # fmt: skip
        assert said in text, said
    assert "\n-\n" not in text and "· -\n" not in text
    # (stdin's last line break ends the text, as `$(…)` takes it: no "\n" kept in a reason)
    assert "\\n" not in text
    escalation = show(esc, ticket)["escalations"][0]
    assert escalation["reason"] == "Needs a refund approval"


def test_a_status_or_channel_in_another_case_is_the_same_value(esc: Esc, workspace: Path) -> None:
    """`--status Open`, `--channel Email`: click's raw "'Open' is not one of …" for a value
    any reader knows; taken in any case, and written as esc writes it."""
    ticket = create(esc, "--category", "billing", "--channel", "Email")
    assert show(esc, ticket)["channel"] == "email"
    assert ticket in esc.ok("list", "--status", "NEW")
    # (and list's filters of a team, a category or a priority, as the files spell them)
    for args in (["--team", "Support"], ["--category", "BILLING"], ["--priority", ">=Low"]):
        assert [t["id"] for t in list_json(esc, *args)] == [ticket], args
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "?")
    assert [t["id"] for t in list_json(esc, "--involving", "Engineering")] == [ticket]
    refused = esc("list", "--team", "Suport")
    assert refused.code == 2 and "did you mean 'support'" in refused.err
    # (and the priority matrix's impact and urgency, as `--priority HIGH` is taken)
    matrix = create(esc, "--category", "billing", "--impact", "High", "--urgency", "HIGH")
    assert [show(esc, matrix)[k] for k in ("impact", "urgency", "priority")] == [
        "high", "high", "urgent"]  # fmt: skip
    esc.ok("classify", matrix, "--impact", "Low", "--urgency", "Medium")
    assert [show(esc, matrix)[k] for k in ("impact", "urgency", "priority")] == [
        "low", "medium", "low"]  # fmt: skip
    # (and a member of a team, as teams.yaml spells them)
    assert esc.ok("assign", matrix, "Alice") == f"{matrix}: assigned to alice\n"
    assert esc.ok("involve", matrix, "--team", "Engineering", "--person", "DAN", "--ask",
                  "?") == f"{matrix}: asked engineering (dan)\n"  # fmt: skip
    assert show(esc, matrix)["requests"][0]["person"] == "dan"


def test_a_file_where_esc_keeps_its_cache_folder_is_named(esc: Esc, workspace: Path) -> None:
    """`.esc-cache` made a file (by hand, by a script): `esc: .esc-cache: File exists` and
    `…/T-1.md.lock: Not a directory` said nothing of what to do."""
    import shutil

    ticket = create(esc, "--category", "billing")
    shutil.rmtree(workspace / ".esc-cache", ignore_errors=True)
    (workspace / ".esc-cache").write_text("junk\n")
    for args in (("sweep", "--no-report"), ("comment", ticket, "-m", "hi")):
        result = esc(*args)
        assert result.code == 1, result
        assert result.err.endswith(
            ": .esc-cache is a file where esc keeps a folder; move it away\n"
        ), result.err


def test_a_removed_current_folder_is_one_line_or_no_matter_with_root(
    workspace: Path, tmp_path: Path
) -> None:
    """A shell still in a folder someone removed: `esc --root /abs/ws list` was an
    internal error (exit 3, from looking up the current folder)."""
    gone = tmp_path / "gone"
    gone.mkdir()
    script = 'cd "$1" && rmdir "$1" && shift && exec "$@"'
    env = {**os.environ, "ESC_NOW": NOW}
    with_root = subprocess.run(["sh", "-c", script, "sh", str(gone), ESC, "--root",
                                str(workspace), "list", "--all"],
                               capture_output=True, text=True, env=env)  # fmt: skip
    assert (with_root.returncode, with_root.stderr) == (0, "no tickets match\n")
    gone.mkdir()
    without = subprocess.run(["sh", "-c", script, "sh", str(gone), ESC, "list"],
                             capture_output=True, text=True, env=env)  # fmt: skip
    assert without.returncode == 1
    assert without.stderr == (
        "esc: the current folder no longer exists (it was removed); cd to one that does, "
        "or give the workspace by its absolute path (--root)\n"
    )


def test_a_title_or_a_message_of_zero_width_characters_alone_is_empty(
    esc: CheckedEsc, workspace: Path
) -> None:
    """`create --title $'\\u200b'` made a ticket with an invisible title, and a comment of
    zero-width characters was added; both show nothing, as an empty one."""
    invisible = "\u200b\u200d\ufeff"
    refused = esc("create", "--title", invisible, "--body", "x")
    assert (refused.code, refused.err) == (2, "esc: a ticket needs a --title\n")
    ticket = create(esc, "--category", "billing")
    said = esc("comment", ticket, "-m", invisible)
    assert (said.code, said.err) == (2, "esc: the comment is empty\n")
    item = json.dumps([{"title": invisible, "body": "x"}])
    intake = esc("intake", "--json", "-", input=item)
    assert intake.code == 2 and "a ticket needs a title" in intake.err
    assert len(ticket_files(workspace)) == 1


def test_a_front_matter_key_named_as_a_computed_json_field_is_said_and_left_out(
    esc: Esc, workspace: Path
) -> None:
    """`level: 9`, `description: …` written in a ticket's front-matter: validate said ok,
    and `show --json` gave the computed value where `list --json` gave the file's
    (issue 2's audit).  Validate names each (not blocking), and every command's JSON gives
    esc's own."""
    ticket = create(esc, "--category", "billing", "--body", "The body.")
    path = ticket_file(workspace, ticket)
    path.write_text(path.read_text().replace(
        "\ncsat: null\n", "\ncsat: null\nlevel: 9\ndescription: mine\nactivity: x\n"))  # fmt: skip
    result = esc("validate")
    assert result.code == 1
    for key in ("level", "description", "activity"):
        assert (
            f"'{key}' is a name esc gives a value of its own (the ticket's {key} in `show"
            " --json` and `list --json`): this key is left out there; rename it"
        ) in result.err
    shown, [listed] = show(esc, ticket), list_json(esc)
    assert shown["level"] == listed["level"] == 1
    assert shown["description"] == "The body." and "description" not in listed
    esc.ok("comment", ticket, "-m", "Still written")  # (not blocking)


def test_show_escapes_the_control_characters_python_takes_for_line_breaks(
    esc: CheckedEsc,
) -> None:
    """A vertical tab, a form feed, U+001C, U+0085 and U+2028 in a comment each started a
    new line in `show` (cut by `str.splitlines`), where every control character is shown
    as its escape (issue 20's audit); the file and `--json` keep them as written."""
    ticket_id = create(esc)
    text = "a\x0bb\x0cc\x1cd\x85e\u2028f"
    esc.ok("comment", ticket_id, "--internal", "-m", text)
    shown = esc.ok("show", ticket_id)
    assert "    a\\x0bb\\x0cc\\x1cd\\x85e\\u2028f\n" in shown
    assert show(esc, ticket_id)["conversation"][-1]["text"] == text


@pytest.mark.parametrize(
    "argv",
    [
        ("report", "--out", "", "--format", "json"),
        ("export", "--sqlite", ""),
        ("export", "--csv", " "),
        ("sweep", "--report-dir", ""),
        ("intake", "--maildir", ""),
        ("intake", "--mbox", ""),
        ("intake", "--imap", "h", "--imap-cafile", ""),
        ("doctor", "--maildir", ""),
        ("--root", "", "list"),
        ("init", ""),
    ],
)
def test_an_empty_path_is_a_usage_error(esc: CheckedEsc, argv: tuple[str, ...]) -> None:
    """A script's unset variable: `--out "$FILE"` wrote the report to stdout, `init ""`
    made a workspace in the current folder (issue 20's audit). Exit 2, one line, as an
    empty --now is."""
    result = esc(*argv)
    assert result.code == 2
    assert result.err.endswith(" is empty: give a path, or leave it out\n"), result.err
    assert result.out == ""


def test_show_of_a_ticket_created_after_now_says_no_clock_started(esc: CheckedEsc) -> None:
    """`show --now` before the ticket's creation printed its policy's heading over nothing
    (issue 3's audit): it says why no clock is there."""
    ticket_id = create(esc, now="2026-11-20T09:00:00+01:00")
    out = esc.ok("show", ticket_id, now="2026-11-19T09:00:00+01:00")
    sla = out.split("\nSLA (", 1)[1].splitlines()
    assert sla[1] == "  no clock started: created after --now"


def test_explain_says_when_a_clock_started_out_of_hours_counts_from(esc: CheckedEsc) -> None:
    """A ticket created on a Saturday: `start` named its creation, though the clock counts
    from Monday 09:00, which only the counted intervals showed (issue 3's audit)."""
    ticket_id = create(esc, "--category", "billing", now="2026-11-21T10:00:00+01:00")
    out = esc.ok("explain", ticket_id, now="2026-11-23T10:00:00+01:00")
    assert (
        "  start    2026-11-21T10:00:00+01:00 (counting from 2026-11-23T09:00:00+01:00:"
        " its next working time)"
    ) in out


def test_bidi_controls_in_a_title_are_refused_and_named_by_validate(
    esc: CheckedEsc, workspace: Path
) -> None:
    """The README names the bidi embeddings, overrides and isolates (U+202A-U+202E,
    U+2066-U+2069) among what a title may not hold: `create` took `Refund \\u202eFDP.exe`
    (it reads as `exe.PDF`) and validate passed it; and a time with an offset's minutes
    past 59 in a field of one's own was read as another instant (audit helper-481)."""
    refused = esc("create", "--title", "Refund \u202eFDP.exe")
    assert refused.code == 2
    assert "it has the bidi control character U+202E" in refused.err
    ticket_id = create(esc)
    path = ticket_file(workspace, ticket_id)
    text = path.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    text = text.replace(title, "title: Hello \u2066there")
    text = text.replace("\ncsat: null\n", "\ncsat: null\nfollow_up: 2026-11-20T10:00:00+01:99\n")
    path.write_text(text, encoding="utf-8")
    found = found_text(esc("validate"))
    assert "title must be one line (it has the bidi control character U+2066)" in found
    assert (
        "follow_up: 2026-11-20T10:00:00+01:99 has an offset whose minutes are past 59" in found
    )
