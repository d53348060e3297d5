"""`esc validate` (esc.commands.validate): teams.yaml, rules.yaml, the environment notify
needs, every ticket and every kb/ article checked; each problem as ``path:line: message``
on stdout and exit 1, or one ``ok`` note and exit 0.

``validate`` is called directly with a Session on a fresh `esc init` workspace; tickets
are made by esc itself (in this process) so that they are exactly what esc writes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from esc.commands.session import Output, Session
from esc.commands.validate import validate
from tests.conftest import REPO, Esc, findings, found_text

NOTIFY = 'notify:\n  targets:\n    eng-chat: "json://127.0.0.1:${HOOK_PORT}/eng"\n'


def check(workspace: Path) -> Output:
    return validate(Session(root_option=str(workspace)))


def problems(output: Output) -> list[str]:
    assert output.code == 1 and output.text is None  # (each a line on stderr, as notes)
    *lines, count = output.notes
    assert count == f"{len(lines)} problem(s)"
    return lines


def create(esc: Esc, title: str, category: str = "billing") -> str:
    return esc.ok("create", "--title", title, "--category", category).strip()


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(f"\n{old}\n") == 1, old
    path.write_text(text.replace(f"\n{old}\n", f"\n{new}\n"), encoding="utf-8")


def with_article(workspace: Path, name: str = "KB-0001") -> None:
    (workspace / "kb").mkdir(exist_ok=True)
    shutil.copy(REPO / "kb" / f"{name}.md", workspace / "kb" / f"{name}.md")


# ---------------------------------------------------------------- a healthy workspace


def test_a_fresh_workspace_is_ok(workspace: Path) -> None:
    output = check(workspace)
    assert (output.code, output.text, output.data) == (0, None, None)
    assert output.notes == ["ok: teams.yaml, rules.yaml and 0 tickets"]


def test_ok_counts_the_tickets(esc: Esc, workspace: Path) -> None:
    create(esc, "Card declined")
    create(esc, "Export is empty", "bug")
    assert check(workspace).notes == ["ok: teams.yaml, rules.yaml and 2 tickets"]


def test_ok_counts_the_articles_when_there_are_some(workspace: Path) -> None:
    with_article(workspace, "KB-0001")
    with_article(workspace, "KB-0002")
    output = check(workspace)
    assert output.code == 0
    assert output.notes == ["ok: teams.yaml, rules.yaml and 0 tickets, 2 articles"]


def test_validate_writes_nothing(esc: Esc, workspace: Path) -> None:
    ticket = workspace / "tickets" / f"{create(esc, 'Card declined')}.md"
    replace_line(ticket, "status: new", "status: weird")  # a problem: nothing is fixed
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    before = {p: b for p, b in before.items() if ".esc-cache" not in p.parts}
    check(workspace)
    check(workspace)
    assert {p: p.read_bytes() for p in before} == before


# ---------------------------------------------------------------- problems


def test_a_problem_in_teams_yaml(workspace: Path) -> None:
    replace_line(workspace / "teams.yaml", "    level: 2", "    levle: 2")
    lines = problems(check(workspace))
    assert len(lines) == 1
    assert lines[0].startswith(f"teams.yaml:{line_of(workspace / 'teams.yaml', '    levle: 2')}: ")
    assert lines[0].endswith(": team engineering: unknown key 'levle' (did you mean 'level'?)")


def test_a_problem_in_rules_yaml(workspace: Path) -> None:
    rules = workspace / "rules.yaml"
    replace_line(rules, "default_priority: normal", "default_priority: medium")
    [line] = problems(check(workspace))
    assert line.startswith(f"rules.yaml:{line_of(rules, 'default_priority: medium')}: ")
    assert line.endswith(": default_priority 'medium' is not a priority")


def test_a_policy_or_rule_that_does_not_load_is_one_finding_not_one_a_ticket(
    esc: Esc, workspace: Path
) -> None:
    """Swept tickets name the policy and the rule in their `sla:` block and `fired:`: a
    mistake in that policy (or rule) is its own finding, not also one in every ticket."""
    ticket = create(esc, "Card declined", "bug")
    esc.ok("sweep", "--no-report", now="2026-11-30T09:00:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    assert "\n  policy: standard\n" in text
    assert "\nfired: {}\n" in text  # (a rule's time, as a sweep writes it while it matches)
    fired = "fired:\n  breached-goes-up: 2026-11-20T14:00:00+01:00\n"
    path.write_text(text.replace("\nfired: {}\n", f"\n{fired}", 1))
    assert check(workspace).code == 0
    rules = workspace / "rules.yaml"
    replace_line(rules, "    warn_at: 75%", "    warn_at: 100%")
    level = 'level: "<3"}'
    replace_line(rules, f"    when: {{sla: breached, {level}", f"    when: {{sla: late, {level}")
    lines = problems(check(workspace))
    assert [line.split(":")[0] for line in lines] == ["rules.yaml", "rules.yaml"], lines
    replace_line(rules, "  - name: standard", "  - name: standard-hours")  # (renamed: said)
    lines = problems(check(workspace))
    assert any("sla: unknown policy 'standard'" in line for line in lines), lines


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        (  # a reply meant as a secret: read as the public reply it is
            "· reply (public)", "· reply (internal)",
            "a reply is public, not internal: write 'reply (public)', or make it a note to have "
            "it internal",
        ),
        (
            "· note (internal)", "· note (public)",
            "a note is internal, not public: write 'note (internal)', or make it a reply to "
            "have it public",
        ),
        (  # the section's heading written as a title: every entry read as description
            "\n## Conversation\n", "\n# Conversation\n",
            "a conversation entry in the description: its '## Conversation' heading is "
            "missing or not written so",
        ),
    ],
)
def test_an_entry_esc_would_read_otherwise_than_written_is_found(
    esc: Esc, workspace: Path, old: str, new: str, finding: str
) -> None:
    """A head's visibility is its kind's (a `reply (internal)` showed as public), and an
    entry under no `## Conversation` heading was the description's text: both said."""
    ticket = create(esc, "Card declined")
    esc.ok("comment", ticket, "-m", "We are on it.")
    esc.ok("comment", ticket, "--internal", "-m", "Check the PSP logs.")
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    [line] = problems(check(workspace))
    assert line.startswith(f"tickets/{ticket}.md:") and finding in line, line
    where = int(line.split(":")[1])
    assert "###" in path.read_text().splitlines()[where - 1]


def test_a_title_written_over_several_lines_is_a_finding(esc: Esc, workspace: Path) -> None:
    """`create --title` refuses a line break; a title written by hand as a block passed."""
    ticket = create(esc, "Card declined")
    path = workspace / "tickets" / f"{ticket}.md"
    block = "title: |\n  Card\n  declined\n"
    path.write_text(path.read_text().replace("title: Card declined\n", block))
    [line] = problems(check(workspace))
    assert line == f"tickets/{ticket}.md:3: title must be one line (it has a line break)"
    # (any control character, as `create` refuses it: a NUL written as an escape)
    path.write_text(path.read_text().replace(block, 'title: "Card\\0declined"\n'))
    [line] = problems(check(workspace))
    assert line == (
        f"tickets/{ticket}.md:3: title must be one line (it has the control character U+0000)"
    )


def test_a_broken_ticket_is_reported_at_its_line(esc: Esc, workspace: Path) -> None:
    ticket_id = create(esc, "Card declined")
    path = workspace / "tickets" / f"{ticket_id}.md"
    replace_line(path, "priority: normal", "priority: asap")
    [line] = problems(check(workspace))
    assert line.startswith(f"tickets/{ticket_id}.md:{line_of(path, 'priority: asap')}: ")
    assert "unknown priority 'asap'" in line


def test_every_problem_is_listed_and_counted(esc: Esc, workspace: Path) -> None:
    first, second = create(esc, "One"), create(esc, "Two")
    replace_line(workspace / "tickets" / f"{first}.md", "status: new", "status: weird")
    replace_line(workspace / "tickets" / f"{second}.md", "team: support", "team: legal")
    replace_line(workspace / "teams.yaml", "    level: 3", "    levle: 3")
    lines = problems(check(workspace))
    assert len(lines) == 3
    assert lines[0].startswith("teams.yaml:")  # the configuration first, then the tickets
    assert sorted(line.split(":")[0] for line in lines[1:]) == sorted(
        [f"tickets/{first}.md", f"tickets/{second}.md"]
    )


def test_problems_are_found_again_on_the_next_run(esc: Esc, workspace: Path) -> None:
    """The second run reads the cache the first one filled: it must not forget problems."""
    ticket_id = create(esc, "Card declined")
    replace_line(workspace / "tickets" / f"{ticket_id}.md", "status: new", "status: weird")
    first = check(workspace)
    assert check(workspace) == first
    assert first.code == 1


def test_a_fixed_problem_is_no_longer_reported(esc: Esc, workspace: Path) -> None:
    ticket_id = create(esc, "Card declined")
    path = workspace / "tickets" / f"{ticket_id}.md"
    replace_line(path, "status: new", "status: weird")
    assert check(workspace).code == 1
    replace_line(path, "status: weird", "status: new")
    assert check(workspace).notes == ["ok: teams.yaml, rules.yaml and 1 ticket"]


# ---------------------------------------------------------------- kb/


def test_a_ticket_naming_an_article_that_exists_is_ok(esc: Esc, workspace: Path) -> None:
    with_article(workspace)
    ticket_id = create(esc, "Refund")
    esc.ok("resolve", ticket_id, "--resolution", "Refunded", "--kb", "KB-0001")
    assert check(workspace).notes == ["ok: teams.yaml, rules.yaml and 1 ticket, 1 article"]


def test_a_ticket_naming_an_article_that_is_gone_is_reported(esc: Esc, workspace: Path) -> None:
    with_article(workspace, "KB-0001")
    with_article(workspace, "KB-0002")
    ticket_id = create(esc, "Refund")
    esc.ok("resolve", ticket_id, "--resolution", "Refunded", "--kb", "KB-0001")
    path = workspace / "tickets" / f"{ticket_id}.md"
    assert check(workspace).code == 0  # (and the ticket is now known clean to the cache)
    (workspace / "kb" / "KB-0001.md").unlink()
    lines = problems(check(workspace))
    assert lines == [
        f"tickets/{ticket_id}.md:{line_of(path, 'kb: KB-0001')}: kb: unknown article "
        "'KB-0001' (did you mean 'KB-0002'?); `esc kb list` lists them"
    ]


def test_a_ticket_naming_an_article_with_no_kb_at_all(esc: Esc, workspace: Path) -> None:
    with_article(workspace)
    ticket_id = create(esc, "Refund")
    esc.ok("resolve", ticket_id, "--resolution", "Refunded", "--kb", "KB-0001")
    shutil.rmtree(workspace / "kb")
    [line] = problems(check(workspace))
    assert line.endswith(": kb: unknown article 'KB-0001': kb/ holds no articles")


def test_an_article_that_does_not_parse_is_reported(workspace: Path) -> None:
    with_article(workspace)
    (workspace / "kb" / "KB-0002.md").write_text("---\nid: KB-0002\ntitle: [broken\n---\n")
    [line] = problems(check(workspace))
    assert line.startswith("kb/KB-0002.md:")
    assert "does not parse" in line


# ---------------------------------------------------------------- the environment


def test_a_notify_variable_missing_from_the_environment_is_reported(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = workspace / "rules.yaml"
    with rules.open("a", encoding="utf-8") as handle:
        handle.write(NOTIFY)
    monkeypatch.delenv("HOOK_PORT", raising=False)
    target_line = line_of(rules, '    eng-chat: "json://127.0.0.1:${HOOK_PORT}/eng"')
    assert problems(check(workspace)) == [
        f"rules.yaml:{target_line}: notify target eng-chat: the environment variable "
        "HOOK_PORT is not set"
    ]
    monkeypatch.setenv("HOOK_PORT", "8025")
    assert check(workspace).code == 0


def test_a_file_name_that_is_not_utf_8_is_one_finding_everywhere(
    esc: Esc, workspace: Path
) -> None:
    """`T-\\xff\\xfe.md` in tickets/ (or kb/): `os.listdir` gives it with surrogates, which
    no cache row, index or terminal takes (exit 3 before): every command that reads the
    folder names it, its bytes escaped, and goes on with the others (exit 1)."""
    import os

    ticket = create(esc, "A good one")
    good = workspace / "tickets" / f"{ticket}.md"
    bad = os.path.join(os.fsencode(workspace / "tickets"), b"T-\xff\xfe.md")
    with open(bad, "wb") as out:
        out.write(good.read_bytes())
    (workspace / "kb").mkdir()
    shutil.copy(REPO / "kb" / "KB-0001.md", workspace / "kb" / "KB-0001.md")
    with open(os.path.join(os.fsencode(workspace / "kb"), b"KB-\xff.md"), "wb") as out:
        out.write(b"---\n")
    said = "tickets/T-\\xff\\xfe.md:1: the file name is not UTF-8 text: rename it"
    for command in (["list"], ["list", "--json"], ["check"], ["report"], ["sweep"],
                    ["export", "--sqlite", "out.db"]):  # fmt: skip
        result = esc(*command)
        assert result.code == 1 and said in result.out + result.err, (command, result)
    found = esc("validate")
    assert found.code == 1 and said in found.err
    assert "kb/KB-\\xff.md:1: the file name is not UTF-8 text: rename it" in found.err
    assert ticket in esc("list").out  # (the others are read)
    suggest = esc("suggest", ticket)
    assert suggest.code == 1 and "kb/KB-\\xff.md:1:" in suggest.err


def test_a_line_break_in_a_file_name_is_escaped_one_problem_one_line(
    esc: Esc, workspace: Path
) -> None:
    (workspace / "tickets" / "T-new\nline.md").write_text("not a ticket\n")
    for command in (("validate",), ("list",)):
        result = esc(*command)
        said = [line for line in (result.out + result.err).splitlines() if "T-new" in line]
        assert said == ["tickets/T-new\\nline.md:1: no front-matter: the file must start "
                        "with a '---' line"], command  # fmt: skip
    # a ticket in such a file: the name quoted in the message is escaped too
    text = (workspace / "tickets" / f"{create(esc, 'Card declined')}.md").read_text()
    (workspace / "tickets" / "T-new\nline.md").write_text(text)
    said = [line for line in esc("validate").err.splitlines() if "T-new" in line]
    assert said and all(line.count("\\n") == 2 for line in said if "file name" in line), said


def test_a_ticket_changed_on_one_side_and_deleted_on_the_other_is_named(
    esc: Esc, workspace: Path
) -> None:
    """A merge left a ticket deleted on one side and changed on the other (`git status`:
    `UD`): the file has no markers, and `esc validate` said ok."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=a", "-c", "user.email=a@b", *args],
                       cwd=workspace, check=True, capture_output=True)  # fmt: skip

    ticket = esc.ok("create", "--title", "t", "--body", "b").strip()
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "start")
    git("checkout", "-qb", "side")
    git("rm", "-q", f"tickets/{ticket}.md")
    git("commit", "-qm", "deleted")
    git("checkout", "-q", "main")
    esc.ok("comment", ticket, "-m", "still here", "--internal")
    git("commit", "-qam", "commented")
    merged = subprocess.run(["git", "merge", "-q", "side"], cwd=workspace, capture_output=True)
    assert merged.returncode != 0  # (a modify/delete conflict)
    result = esc("validate")
    assert result.code == 1
    assert found_text(result) == (
        f"tickets/{ticket}.md:1: unresolved merge conflict (deleted by them): keep it "
        "(`git add`) or delete it (`git rm`)\n"
    )


def test_validate_runs_where_git_is_not_installed(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """(looking for what a merge left, validate failed with `cannot run git` where git is
    not installed: a CI job that downloaded the files)"""
    esc.ok("create", "--title", "t", "--body", "b")
    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = esc("validate")
    assert result.code == 0, result.err
    assert result.err.startswith("ok: ")


def test_a_ticket_git_left_unmerged_without_markers_is_named(
    esc: Esc, workspace: Path
) -> None:
    """Both sides changed it and the merge driver gave up (a side holding a NUL byte: ours
    left as it was, no markers): `git status` says `UU`, and validate said ok."""
    import subprocess

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", "-c", "user.name=a", "-c", "user.email=a@b", *args],
                              cwd=workspace, capture_output=True)  # fmt: skip

    ticket = esc.ok("create", "--title", "t", "--body", "b").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "start")
    git("checkout", "-qb", "side")
    path.write_text(path.read_text().replace("title: t", "title: side"))
    git("commit", "-qam", "side")
    git("checkout", "-q", "main")
    path.write_text(path.read_text().replace("title: t", "title: main"))
    git("commit", "-qam", "main")
    assert git("merge", "-q", "side").returncode != 0
    path.write_text(path.read_text().split("<<<<<<<")[0] + "x\n")  # (markers gone, unmerged)
    result = esc("validate")
    assert result.code == 1
    assert f"tickets/{ticket}.md:1: unresolved merge conflict (both changed)" in result.err


def test_a_request_asked_before_its_ticket_or_closed_before_asked_is_named(
    esc: Esc, workspace: Path
) -> None:
    """A hand edit put a request's `asked` a month before the ticket: validate said ok, and
    `show` gave an OLA breached 30 days ago."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing", "--body", "b",
                    now="2026-12-01T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "?",
           now="2026-12-01T11:00:00+01:00")  # fmt: skip
    esc.ok("answer", ticket, "--team", "engineering", "-m", "a", now="2026-12-01T12:00:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    line = next(n for n, x in enumerate(text.splitlines(), 1) if "asked: 2026-12-01T11" in x)
    for old, new, said in (
        ("asked: 2026-12-01T11", "asked: 2026-11-01T11",
         "request 1: asked 2026-11-01T11:00:00+01:00 is before created 2026-12-01T10:00:00+01:00"),
        ("closed: 2026-12-01T12", "closed: 2026-12-01T10:30",
         "request 1: closed before it was asked"),
    ):  # fmt: skip
        path.write_text(text.replace(old, new))
        result = esc("validate", now="2026-12-02T12:00:00+01:00")
        assert result.code == 1 and findings(result) == [f"tickets/{ticket}.md:{line}: {said}"]
    path.write_text(text)
    assert esc("validate", now="2026-12-02T12:00:00+01:00").code == 0


def test_a_text_field_yaml_reads_as_a_number_or_a_boolean_is_named(
    esc: Esc, workspace: Path
) -> None:
    """`customer: 0612345678` written by hand lost its leading 0, `title: 1e3` became
    1000.0, and both went into what esc wrote next; validate said ok (audit helper-421).
    Named, not blocking."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    path.write_text(text.replace("customer: null", "customer: 0612345678")
                    .replace("title: t\n", "title: 1e3\n") + "")  # fmt: skip
    front, _, rest = path.read_text().partition("\n---\n")
    path.write_text(front + "\nexternal_id: 0017\n---\n" + rest)  # (audit helper-430)
    result = esc("validate")
    assert result.code == 1
    assert f"tickets/{ticket}.md:3: title is read as a number (1000.0), not as written:" \
        " quote it" in result.err
    assert "customer is read as a number (612345678), not as written: quote it" in result.err
    assert "external_id is read as a number (17), not as written: quote it" in result.err
    assert esc("show", ticket).code == 0  # (not blocking)
    path.write_text(text)
    assert esc("validate").code == 0


def test_an_escalation_before_its_ticket_is_named(esc: Esc, workspace: Path) -> None:
    """An escalation hand-dated two years before `created` passed validate, as a request
    asked before it no longer does (audit helper-421)."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing", "--body", "b",
                    now="2026-12-01T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("escalate", ticket, "--priority", "high", "--reason", "r",
           now="2026-12-01T10:02:00+01:00")  # fmt: skip
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    line = next(n for n, x in enumerate(text.splitlines(), 1) if "{at: 2026-12-01T10:02" in x)
    path.write_text(text.replace("{at: 2026-12-01T10:02:00", "{at: 2025-01-01T00:00:00"))
    result = esc("validate", now="2026-12-02T12:00:00+01:00")
    said = "escalation 1: at 2025-01-01T00:00:00+01:00 is before created 2026-12-01T10:00:00+01:00"
    assert result.code == 1 and findings(result) == [f"tickets/{ticket}.md:{line}: {said}"]
    path.write_text(text)
    assert esc("validate", now="2026-12-02T12:00:00+01:00").code == 0


def test_times_before_created_are_named_and_reports_count_no_negative_duration(
    esc: Esc, workspace: Path
) -> None:
    """A `resolved_at` edited to a day before `created` passed validate, and the reports'
    wall-clock medians counted -1440 minutes."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing", "--body", "b",
                    now="2026-11-02T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("comment", ticket, "-m", "hi", now="2026-11-02T11:00:00+01:00")
    esc.ok("resolve", ticket, "--resolution", "r", now="2026-11-02T12:00:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    path.write_text(text.replace("resolved_at: 2026-11-02T12:00:00+01:00",
                                 "resolved_at: 2026-11-01T10:00:00+01:00"))  # fmt: skip
    result = esc("validate", now="2026-11-10T12:00:00+01:00")
    line = text.splitlines().index("resolved_at: 2026-11-02T12:00:00+01:00") + 1
    assert result.code == 1
    assert found_text(result) == (
        f"tickets/{ticket}.md:{line}: resolved_at 2026-11-01T10:00:00+01:00 is before created"
        " 2026-11-02T10:00:00+01:00\n"
    )
    shown = esc("show", ticket, now="2026-11-10T12:00:00+01:00")  # (refused, as broken)
    assert shown.code == 1 and "resolved_at 2026-11-01T10:00:00+01:00 is before" in shown.err
    swept = esc("sweep", "--no-report", "--no-notify", now="2026-11-10T12:00:00+01:00")
    assert swept.code == 1 and path.read_text().count("resolved_at: 2026-11-01") == 1
    text = path.read_text()
    path.write_text(text.replace("updated: 2026-11-02T12:00:00+01:00",
                                 "updated: 2026-11-02T09:00:00+01:00"))  # fmt: skip
    assert "updated 2026-11-02T09:00:00+01:00 is before created" in esc("validate").err
    report = esc("report", "--since", "2026-10-01", "--format", "json",
                 now="2026-11-10T12:00:00+01:00")  # fmt: skip
    data = json.loads(report.out)
    resolution = data["speed"]["resolution"]["overall"]
    assert resolution["wall"]["count"] == resolution["working"]["count"] == 0


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("### 2026-11-20T10:05:00+01:00", "### 2026-11-20T10:05:00+0\u0661:00"),
        ("### 2026-11-20T10:05:00+01:00", "### \uff12\uff10\uff12\uff16-11-20T10:05:00+01:00"),
        (
            "- 2026-11-20T10:05:00+01:00 · alice · reply added",
            "- \uff12026-11-20T10:05:00+01:00 · alice · reply added",
        ),
    ],
)
def test_a_time_in_other_digits_is_a_finding_never_a_lost_entry(
    esc: Esc, workspace: Path, old: str, new: str
) -> None:
    """`\\d` matched Arabic-Indic and full-width digits: the time passed as plainly valid
    and was never checked, and the entry (or log line) its reader could not date vanished
    from `show`, while `validate` said ok."""
    ticket = esc.ok("create", "--title", "a", "--body", "x", now="2026-11-20T10:00:00+01:00")
    ticket = ticket.strip()
    esc.ok("comment", ticket, "-m", "hello", now="2026-11-20T10:05:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    result = esc("validate", now="2026-11-25T10:00:00+01:00")
    assert result.code == 1 and "is not an ISO-8601 timestamp" in result.err
    assert esc("show", ticket, now="2026-11-25T10:00:00+01:00").code == 1  # (refused, said)


def test_a_front_matter_of_one_flow_mapping_is_a_finding_before_a_command_refuses_it(
    esc: Esc, workspace: Path
) -> None:
    """It reads (list, show), but assign, wait and escalate refuse to edit it: validate said
    ok.  Now it says so, not blocking, at its line."""
    (workspace / "tickets" / "T-zz000001.md").write_text(
        "---\n{id: T-zz000001, title: t, status: open, priority: normal, category: billing,"
        " team: support, assignee: null, customer: null, channel: null,"
        " created: 2026-11-20T09:00:00+01:00, updated: 2026-11-20T09:00:00+01:00}\n---\n"
    )
    result = esc("validate")
    assert result.code == 1
    assert result.err.startswith("tickets/T-zz000001.md:2: the front-matter is one flow mapping")
    assert "T-zz000001" in esc.ok("list")
    refused = esc("assign", "T-zz000001", "alice")
    assert refused.code == 1 and "one flow mapping" in refused.err


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ('"lu\\e]0;PWN\\akas"',
         "assignee 'lu\\x1b]0;PWN\\x07kas' is not one line of text: it has the control"
         " character U+001B"),
        ('"--force"',  # (audit e74: `assign T --force` and a teams.yaml member are refused)
         "assignee '--force' starts with '-', which a command line reads as an option: no"
         " person's name does"),
    ],
)  # fmt: skip
def test_an_assignee_the_command_line_refuses_is_a_finding(
    esc: Esc, workspace: Path, written: str, said: str
) -> None:
    """The command line refuses such a name (`--by 'bob\\e[31m'`, `--by --force`, exit 2);
    written by hand it passed validate.  Said, not blocking (it is shown escaped)."""
    ticket = esc.ok("create", "--title", "x", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("assignee: null", f"assignee: {written}"))
    result = esc("validate")
    assert result.code == 1
    assert result.err.startswith(f"tickets/{ticket}.md:8: {said}"), result.err
    assert ticket in esc.ok("list")  # (not blocking: listed, shown escaped)
