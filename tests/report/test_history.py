"""`esc log`: the activity log and the git history of a ticket's file, in time order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import Esc


def commit(root: Path, message: str, when: str, author: str = "Ann Author") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "GIT_AUTHOR_NAME": author,
    }
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=root, check=True, env=env)


def test_log_merges_activity_and_commits(esc: Esc, workspace: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=workspace, check=True)
    ticket = esc.ok(
        "create", "--title", "Export fails", "--category", "data", now="2026-11-20T09:00:00+01:00"
    ).strip()
    commit(workspace, "new ticket", "2026-11-20T09:01:00+01:00")
    esc.ok("comment", ticket, "-m", "Looking", now="2026-11-20T09:30:00+01:00")
    commit(workspace, "reply", "2026-11-20T09:31:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("Export fails", "Export fails for big shops"))
    commit(workspace, "retitled by hand", "2026-11-20T10:00:00+01:00", author="Ben Hand")

    events = json.loads(esc.ok("log", ticket[:6], "--json"))
    assert [(e["source"], e["by"]) for e in events] == [
        ("activity", "alice"),  # created
        ("git", "Ann Author"),
        ("activity", "alice"),  # reply added
        ("activity", "alice"),  # first_response_at
        ("activity", "alice"),  # status new -> open
        ("git", "Ann Author"),
        ("git", "Ben Hand"),
    ]
    assert events[-1]["what"] == "retitled by hand" and len(events[-1]["commit"]) == 40
    # a commit's parts as git names them, too
    assert {k: events[-1][k] for k in ("author", "date", "message")} == {
        "author": "Ben Hand",
        "date": "2026-11-20T10:00:00+01:00",
        "message": "retitled by hand",
    }
    assert "author" not in events[0]  # (an activity line's author is `by`)
    text = esc.ok("log", ticket)
    assert "Ben Hand    commit " in text and ": retitled by hand" in text
    assert text.splitlines()[0].startswith("2026-11-20T09:00:00+01:00  alice")


def test_log_of_a_ticket_edited_into_one_that_does_not_parse_still_tells_its_story(
    esc: Esc, workspace: Path
) -> None:
    """Who broke the file is what `esc log` is for: it refused a ticket whose front-matter
    did not parse, printing nothing. Its commits and its activity lines are told, the
    problem is said (`path:line: message`), exit 1; the file is left as it is."""
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=workspace, check=True)
    ticket = esc.ok("create", "--title", "Export fails", "--category", "data",
                    now="2026-11-20T09:00:00+01:00").strip()  # fmt: skip
    commit(workspace, "new ticket", "2026-11-20T09:01:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("priority: normal", "priority: [normal"))
    commit(workspace, "priority by hand", "2026-11-20T10:00:00+01:00", author="Ben Hand")
    broken = path.read_bytes()
    result = esc("log", ticket)
    assert result.code == 1
    assert result.err.startswith(f"tickets/{ticket}.md:")
    lines = result.out.splitlines()
    assert "created" in lines[0] and "Ben Hand" in lines[-1] and "priority by hand" in lines[-1]
    as_json = esc("log", ticket, "--json")
    assert as_json.code == 1 and json.loads(as_json.out)[-1]["by"] == "Ben Hand"
    assert path.read_bytes() == broken


def test_log_outside_git_shows_the_activity(esc: Esc) -> None:
    ticket = esc.ok("create", "--title", "No git here").strip()
    lines = esc.ok("log", ticket).splitlines()
    assert len(lines) == 1 and "created" in lines[0]


def test_log_keeps_commits_of_one_second_in_order_and_shows_a_resolved_merge(
    esc: Esc, workspace: Path
) -> None:
    """Three commits in one second come in the order they were made (git lists them newest
    first); a merge whose conflict a person resolved by hand is in the story too."""
    git = ["git", "-C", str(workspace)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    ticket = esc.ok("create", "--title", "Export fails", now="2026-11-20T09:00:00+01:00").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    same = "2026-11-20T09:05:00+01:00"
    title = "Export fails"
    for n in (1, 2, 3):
        path.write_text(path.read_text().replace(f"title: {title}", f"title: Export {n}", 1))
        title = f"Export {n}"
        commit(workspace, f"edit {n}", same)
    subprocess.run([*git, "checkout", "-qb", "other"], check=True)
    path.write_text(path.read_text().replace("title: Export 3", "title: Other title"))
    commit(workspace, "theirs", "2026-11-20T09:10:00+01:00")
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    path.write_text(path.read_text().replace("title: Export 3", "title: Our title"))
    commit(workspace, "ours", "2026-11-20T09:11:00+01:00")
    subprocess.run([*git, "merge", "-q", "other"], capture_output=True)  # (a true conflict)
    text = path.read_text()
    start, end = text.index("<<<<<<<"), text.index(">>>>>>> other") + len(">>>>>>> other\n")
    path.write_text(text[:start] + "title: Carol's title\n" + text[end:])
    commit(workspace, "merge: Carol's title", "2026-11-20T09:20:00+01:00", author="Carol")
    events = json.loads(esc.ok("log", ticket, "--json"))
    made = [e["what"] for e in events if e["source"] == "git"]
    assert made == ["edit 1", "edit 2", "edit 3", "theirs", "ours", "merge: Carol's title"]


def test_a_merge_made_in_the_second_of_its_parents_comes_after_them(
    esc: Esc, workspace: Path
) -> None:
    """Two branches and their merge all in one second: the merge came before the commit
    it merged (git sorts by time alone)."""
    git = ["git", "-C", str(workspace)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    ticket = esc.ok("create", "--title", "Export fails", now="2026-11-20T09:00:00+01:00").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    commit(workspace, "created", "2026-11-20T09:00:00+01:00")
    same = "2026-11-20T09:05:00+01:00"
    subprocess.run([*git, "checkout", "-qb", "x"], check=True)
    path.write_text(path.read_text().replace("title: Export fails", "title: From x"))
    commit(workspace, "x", same)
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    path.write_text(path.read_text().replace("channel: null", "channel: email"))
    commit(workspace, "y", same)
    env = {**os.environ, "GIT_AUTHOR_DATE": same, "GIT_COMMITTER_DATE": same}
    merged = subprocess.run([*git, "merge", "-q", "--no-edit", "x"],
                            check=False, env=env, capture_output=True, text=True)  # fmt: skip
    assert merged.returncode == 0, merged.stdout + merged.stderr
    events = json.loads(esc.ok("log", ticket, "--json"))
    made = [e["what"] for e in events if e["source"] == "git"]
    assert made.index("Merge branch 'x'") > max(made.index("x"), made.index("y")), made


def test_log_leaves_out_merges_that_did_not_change_the_ticket(esc: Esc, workspace: Path) -> None:
    """Merges of `git pull` that brought other tickets are not in a ticket's story: only
    the commits that changed its file (and a merge whose result for it is no parent's)."""
    git = ["git", "-C", str(workspace)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    ticket = esc.ok("create", "--title", "Export fails", now="2026-11-20T09:00:00+01:00").strip()
    commit(workspace, "new ticket", "2026-11-20T09:00:00+01:00")
    subprocess.run([*git, "checkout", "-qb", "other"], check=True)
    esc.ok("create", "--title", "Another one", now="2026-11-20T09:05:00+01:00")
    commit(workspace, "another ticket", "2026-11-20T09:05:00+01:00")
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    (workspace / "NOTES.md").write_text("notes\n")
    commit(workspace, "notes", "2026-11-20T09:06:00+01:00")
    env = {**os.environ, "GIT_AUTHOR_DATE": "2026-11-20T09:07:00+01:00",
           "GIT_COMMITTER_DATE": "2026-11-20T09:07:00+01:00"}  # fmt: skip
    merge = [*git, "merge", "-q", "--no-ff", "-m", "merge other", "other"]
    subprocess.run(merge, check=True, env=env)
    fresh = esc.ok("create", "--title", "Not committed", now="2026-11-20T09:10:00+01:00").strip()
    made = [e["what"] for e in json.loads(esc.ok("log", ticket, "--json")) if e["source"] == "git"]
    assert made == ["new ticket"]
    assert [e for e in json.loads(esc.ok("log", fresh, "--json")) if e["source"] == "git"] == []


def test_log_of_a_ticket_left_in_conflict_tells_the_activity_it_holds(
    esc: Esc, workspace: Path
) -> None:
    """A merge that conflicts leaves git's markers in the file, which then reads no more:
    `esc log` told its commits alone, none of the activity lines the file still held
    (audit helper-409); outside git, an empty line.  Each line under `## Activity` that
    reads is told, once, the problem said, exit 1."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=workspace, check=True)
    ticket = esc.ok("create", "--title", "x", "--body", "Card payments fail",
                    now="2026-11-23T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("comment", ticket, "-m", "Looking", now="2026-11-23T09:30:00+01:00")
    commit(workspace, "c0", "2026-11-23T09:31:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    subprocess.run(["git", "checkout", "-qb", "other"], cwd=workspace, check=True)
    path.write_text(path.read_text().replace("Card payments fail\n", "fail on Visa\n"))
    commit(workspace, "visa", "2026-11-23T09:40:00+01:00")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=workspace, check=True)
    path.write_text(path.read_text().replace("Card payments fail\n", "fail on Amex\n"))
    commit(workspace, "amex", "2026-11-23T09:41:00+01:00")
    merged = subprocess.run([*git, "merge", "-q", "other"], cwd=workspace, capture_output=True)
    assert merged.returncode != 0 and "<<<<<<<" in path.read_text()
    held = path.read_bytes()
    result = esc("log", ticket, "--json")
    assert result.code == 1 and "conflict" in result.err
    told = [(e["source"], e["what"]) for e in json.loads(result.out)]
    activity = [what for source, what in told if source == "activity"]
    assert activity[0].startswith("created") and len(activity) == 4  # and reply, first
    # response, status
    assert told[-2:] == [("git", "c0"), ("git", "amex")]  # (the merge is not made yet)
    assert path.read_bytes() == held
    subprocess.run(["rm", "-rf", str(workspace / ".git")], check=True)  # outside git too
    assert len(esc("log", ticket).out.splitlines()) == 4


def test_log_tells_no_commit_of_another_ticket_git_takes_for_a_rename(
    esc: Esc, workspace: Path
) -> None:
    """T-A removed as a duplicate and T-B made in one commit: the two young tickets look
    alike, git's `--follow` took it for a rename, and `esc log` of T-B told T-A's commits
    (audit helper-427); and a workspace folder named `desk*[1]` matched `desk1/`'s commits
    as a pattern."""
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=workspace, check=True)
    first = esc.ok("create", "--title", "Password reset", "--category", "account",
                   "--customer", "ann@shop.example", "--body", "cannot log in",
                   now="2026-11-20T10:00:00+01:00").strip()  # fmt: skip
    commit(workspace, f"intake: {first}", "2026-11-20T10:01:00+01:00")
    esc.ok("tag", first, "dup", now="2026-11-20T10:05:00+01:00")
    commit(workspace, f"bob tags {first} dup", "2026-11-20T10:06:00+01:00")
    (workspace / "tickets" / f"{first}.md").unlink()
    second = esc.ok("create", "--title", "Password reset again", "--category", "account",
                    "--customer", "ann@shop.example", "--body", "cannot log in",
                    now="2026-11-20T10:20:00+01:00").strip()  # fmt: skip
    commit(workspace, f"drop dup; intake: {second}", "2026-11-20T10:21:00+01:00")
    told = [e["what"] for e in json.loads(esc.ok("log", second, "--json",
                                                 now="2026-11-20T10:30:00+01:00"))
            if e["source"] == "git"]  # fmt: skip
    assert told == [f"drop dup; intake: {second}"]


def test_log_reads_the_workspace_s_path_as_it_is_not_as_a_pattern(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True)
    desk = tmp_path / "desk*[1]"
    Esc(tmp_path, now="2026-11-20T09:00:00+01:00").ok("init", str(desk))
    esc = Esc(desk, now="2026-11-20T09:00:00+01:00")
    ticket = esc.ok("create", "--title", "x", "--category", "billing", "--body", "b").strip()
    commit(tmp_path, "init", "2026-11-20T09:01:00+01:00")
    (tmp_path / "desk1" / "tickets").mkdir(parents=True)
    shutil.copy(desk / "tickets" / f"{ticket}.md", tmp_path / "desk1" / "tickets")
    commit(tmp_path, "copy to desk1", "2026-11-20T09:02:00+01:00")
    told = [e["what"] for e in json.loads(esc.ok("log", ticket, "--json",
                                                 now="2026-11-20T09:20:00+01:00"))
            if e["source"] == "git"]  # fmt: skip
    assert told == ["init"]
