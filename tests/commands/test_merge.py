"""`esc merge-file` (esc.commands.merge): git's merge driver for one ticket file.

``merge_file`` gets the three versions git hands its driver (base, ours, theirs: files on
disk), writes the merge into ``ours``, and answers exit 0 when it is clean, 1 (with one
note naming what conflicts) when a human has to finish it.  The field-by-field merge
itself is tests/ticketfile/test_merge.py's; here is what the command says and leaves.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from esc.commands.merge import merge_file
from esc.domain.errors import EscError
from esc.ticketfile.document import parse
from tests.conftest import Esc, run_in_process

TICKET = "tickets/T-4k8q2m7x.md"

BASE = """\
---
id: T-4k8q2m7x
title: Checkout returns 500
status: open
priority: normal
category: billing
team: support
assignee: alice
customer: jane@shop.example
channel: email
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:00:00+01:00
first_response_at: null
resolved_at: null
closed_at: null
tags: []
impact: null
urgency: null
csat: null
escalations: []
---

Card payments fail since 08:50.

## Activity

- 2026-11-20T09:00:00+01:00 · alice · created · normal priority via email
"""


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def versions(tmp_path: Path, base: str, ours: str, theirs: str) -> tuple[Path, Path, Path]:
    """The three files git writes for its driver (%O, %A, %B), as bytes exactly."""
    paths = (tmp_path / ".merge_file_O", tmp_path / ".merge_file_A", tmp_path / ".merge_file_B")
    for path, text in zip(paths, (base, ours, theirs), strict=True):
        path.write_bytes(text.encode("utf-8"))
    return paths


def merge(
    base: Path, ours: Path, theirs: Path, path: str | None = TICKET
) -> tuple[int, list[str], str]:
    """(exit code, notes, what ``ours`` holds afterwards)."""
    output = merge_file(str(base), str(ours), str(theirs), path)
    assert output.text is None and output.data is None  # nothing on stdout: git reads files
    return output.code, output.notes, ours.read_text(encoding="utf-8")


# ---------------------------------------------------------------- clean merges


def test_changes_to_different_fields_merge_cleanly_into_ours(tmp_path: Path) -> None:
    ours = edit(BASE, "assignee: alice", "assignee: bob")
    theirs = edit(BASE, "priority: normal", "priority: high")
    code, notes, merged = merge(*versions(tmp_path, BASE, ours, theirs))
    assert (code, notes) == (0, [])
    assert merged == edit(ours, "priority: normal", "priority: high")
    ticket = parse(merged, TICKET).ticket
    assert (ticket.assignee, ticket.priority) == ("bob", "high")


def test_only_theirs_changed_takes_theirs(tmp_path: Path) -> None:
    theirs = edit(BASE, "status: open", "status: pending")
    code, notes, merged = merge(*versions(tmp_path, BASE, BASE, theirs))
    assert (code, notes, merged) == (0, [], theirs)


def test_only_ours_changed_keeps_ours_untouched(tmp_path: Path) -> None:
    ours = edit(BASE, "status: open", "status: pending")
    base, ours_path, theirs = versions(tmp_path, BASE, ours, BASE)
    before = ours_path.stat()
    code, notes, merged = merge(base, ours_path, theirs)
    assert (code, notes, merged) == (0, [], ours)
    after = ours_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rewritten


def test_the_same_change_on_both_sides_is_no_conflict(tmp_path: Path) -> None:
    both = edit(BASE, "assignee: alice", "assignee: carol")
    code, notes, merged = merge(*versions(tmp_path, BASE, both, both))
    assert (code, notes, merged) == (0, [], both)


def test_a_clean_merge_needs_no_path(tmp_path: Path) -> None:
    theirs = edit(BASE, "priority: normal", "priority: high")
    code, notes, _ = merge(*versions(tmp_path, BASE, BASE, theirs), path=None)
    assert (code, notes) == (0, [])


# ---------------------------------------------------------------- conflicts


def test_a_field_changed_two_ways_is_left_marked_and_exits_1(tmp_path: Path) -> None:
    ours = edit(BASE, "assignee: alice", "assignee: bob")
    theirs = edit(BASE, "assignee: alice", "assignee: carol")
    code, notes, merged = merge(*versions(tmp_path, BASE, ours, theirs))
    assert code == 1
    assert notes == [f"esc merge-file: {TICKET}: conflicting assignee; resolve the marked lines"]
    assert "<<<<<<< ours\nassignee: bob\n=======\nassignee: carol\n>>>>>>> theirs\n" in merged


def test_every_conflicting_field_is_named(tmp_path: Path) -> None:
    ours = edit(edit(BASE, "assignee: alice", "assignee: bob"), "status: open", "status: pending")
    theirs = edit(
        edit(BASE, "assignee: alice", "assignee: carol"), "status: open", "status: resolved"
    )
    code, notes, merged = merge(*versions(tmp_path, BASE, ours, theirs))
    assert code == 1
    assert notes == [
        f"esc merge-file: {TICKET}: conflicting status, assignee; resolve the marked lines"
    ]
    assert merged.count("<<<<<<< ours\n") == 2


def test_a_conflict_without_a_path_names_no_file(tmp_path: Path) -> None:
    ours = edit(BASE, "priority: normal", "priority: low")
    theirs = edit(BASE, "priority: normal", "priority: urgent")
    code, notes, _ = merge(*versions(tmp_path, BASE, ours, theirs), path=None)
    assert code == 1
    assert notes == ["esc merge-file: conflicting priority; resolve the marked lines"]


def test_the_description_changed_two_ways_conflicts(tmp_path: Path) -> None:
    ours = edit(BASE, "Card payments fail since 08:50.", "Card payments fail since 08:45.")
    theirs = edit(BASE, "Card payments fail since 08:50.", "All payments fail since 08:50.")
    code, notes, merged = merge(*versions(tmp_path, BASE, ours, theirs))
    assert code == 1
    assert notes == [f"esc merge-file: {TICKET}: conflicting description; resolve the marked lines"]
    assert "08:45" in merged and "All payments" in merged


# ---------------------------------------------------------------- versions that are no text


@pytest.mark.parametrize(("side", "index"), [("base", 0), ("ours", 1), ("theirs", 2)])
def test_a_side_with_a_nul_byte_is_refused_and_ours_is_left_as_it_was(
    tmp_path: Path, side: str, index: int
) -> None:
    texts = [BASE, edit(BASE, "assignee: alice", "assignee: bob"), BASE]
    texts[index] = edit(texts[index], "status: open", "status: op\0en")  # on line 4
    paths = versions(tmp_path, *texts)
    before = paths[1].read_bytes()
    output = merge_file(str(paths[0]), str(paths[1]), str(paths[2]), TICKET)
    assert output.code == 1
    assert output.notes == [
        f"esc merge-file: {TICKET}: cannot merge: {side} ({paths[index]}) holds a NUL byte "
        "(line 4), so it is no ticket text; ours is left as it was: fix that version and "
        "merge again"
    ]
    assert paths[1].read_bytes() == before


def test_the_first_broken_side_is_named(tmp_path: Path) -> None:
    broken = "\0" + BASE
    paths = versions(tmp_path, BASE, broken, broken)
    output = merge_file(str(paths[0]), str(paths[1]), str(paths[2]))
    assert output.code == 1
    assert output.notes[0].startswith(
        f"esc merge-file: cannot merge: ours ({paths[1]}) holds a NUL byte (line 1), "
    )


@pytest.mark.parametrize(
    ("theirs", "problem"),
    [
        (BASE.encode().replace(b"Card payments", b"Card \xff\xfepayments"),
         "is not UTF-8 text (line 23)"),
        (b"\xef\xbb\xbf" + BASE.encode(), "starts with a byte order mark, which esc refuses"),
    ],
)  # fmt: skip
def test_a_side_broken_where_the_others_are_tickets_is_named_and_ours_kept(
    tmp_path: Path, theirs: bytes, problem: str
) -> None:
    """Theirs not UTF-8 (or with a BOM) while base and ours are tickets: it was merged in
    as plain text, exit 0, into a file esc then refuses."""
    base, ours, other = (tmp_path / name for name in ("O", "A", "B"))
    base.write_bytes(BASE.encode())
    ours.write_bytes(BASE.replace("assignee: alice", "assignee: bob").encode())
    other.write_bytes(theirs)
    before = ours.read_bytes()
    output = merge_file(str(base), str(ours), str(other), TICKET)
    assert output.code == 1
    assert output.notes[0].startswith(f"esc merge-file: {TICKET}: cannot merge: theirs ({other}) "
                                      f"{problem}")  # fmt: skip
    assert ours.read_bytes() == before


@pytest.mark.parametrize(
    "cut", ["truncated", "cut at a date", "cut at a line's end", "cut after ---", "no front-matter"]
)
def test_a_side_that_is_no_ticket_where_the_others_are_is_named_and_ours_kept(
    tmp_path: Path, cut: str
) -> None:
    """Theirs cut short (an entry head half written) or with its front-matter gone: merged
    as text it went through cleanly, exit 0, and git committed a ticket esc refuses. Cut
    at `- 2026-11-` (no line esc's checks read as a log line), every line after the cut
    went, exit 0 (issue 20's audit)."""
    theirs = {
        "truncated": BASE[: BASE.index("09:00:00+01:00 · alice · created")],
        "cut at a date": BASE[: BASE.index("20T09:00:00+01:00 · alice · created")],
        # (at a line's end, or right after the front-matter's `---`: merged as deletions,
        # the activity log with them, exit 0: issue 6's second audit)
        "cut at a line's end": BASE[: BASE.index("- 2026-11-20T09:00:00+01:00 · alice")],
        "cut after ---": BASE[: BASE.index("\n---\n") + 4],
        "no front-matter": BASE[BASE.index("Card payments") :],
    }[cut]
    base, ours, other = (tmp_path / name for name in ("O", "A", "B"))
    base.write_text(BASE)
    ours.write_text(BASE.replace("assignee: alice", "assignee: bob"))
    other.write_text(theirs)
    before = ours.read_bytes()
    output = merge_file(str(base), str(ours), str(other), TICKET)
    assert output.code == 1
    [note] = output.notes
    assert note.startswith(f"esc merge-file: {TICKET}: cannot merge: theirs ({other}) is no "
                           "ticket esc reads (")  # fmt: skip
    assert ("cut short: " in note) == (cut != "no front-matter")
    assert "so it is no ticket text" not in note
    assert ours.read_bytes() == before


def test_a_side_with_a_finding_validate_names_merges_as_before(tmp_path: Path) -> None:
    """A hand-written entry head esc reads otherwise (`reply (internal)`) is a finding of
    the file, not a version that is no ticket: merged beside the other side's change."""
    head = "### 2026-11-20T10:07:00+01:00 · carol · reply (internal)\n\nsecret\n\n"
    ours = BASE.replace("## Activity", "## Conversation\n\n" + head + "## Activity")
    theirs = edit(BASE, "priority: normal", "priority: high")
    code, notes, merged = merge(*versions(tmp_path, BASE, ours, theirs))
    assert (code, notes) == (0, [])
    assert head in merged and "priority: high" in merged


def test_a_version_that_is_not_utf8_is_merged_as_plain_text(tmp_path: Path) -> None:
    latin = BASE.replace("Checkout", "Caf\xe9 checkout").encode("latin-1")
    base, ours, theirs = (tmp_path / name for name in ("O", "A", "B"))
    base.write_bytes(latin)
    ours.write_bytes(latin.replace(b"assignee: alice", b"assignee: bob"))
    theirs.write_bytes(latin.replace(b"priority: normal", b"priority: high"))
    output = merge_file(str(base), str(ours), str(theirs), TICKET)
    assert (output.code, output.notes) == (0, [])
    merged = ours.read_bytes()
    assert b"assignee: bob\n" in merged and b"priority: high\n" in merged
    assert b"Caf\xe9 checkout" in merged  # the bytes are kept as they were


def test_a_version_that_is_no_ticket_conflicts_as_text(tmp_path: Path) -> None:
    broken = edit(BASE, "priority: normal", "priority: [normal")  # no front-matter esc reads
    ours = edit(broken, "Card payments fail", "Card payments failed")
    theirs = edit(broken, "Card payments fail", "Card payment fails")
    code, notes, merged = merge(*versions(tmp_path, broken, ours, theirs))
    assert code == 1
    assert notes == [f"esc merge-file: {TICKET}: conflicting text; resolve the marked lines"]
    assert "<<<<<<< ours\n" in merged and ">>>>>>> theirs\n" in merged


def test_a_missing_version_is_an_error_not_a_merge(tmp_path: Path) -> None:
    base, ours, theirs = versions(tmp_path, BASE, BASE, BASE)
    theirs.unlink()
    with pytest.raises(EscError, match=r"^cannot read .*\.merge_file_B: No such file"):
        merge_file(str(base), str(ours), str(theirs), TICKET)
    assert ours.read_text(encoding="utf-8") == BASE


# ---------------------------------------------------------------- as git runs it


def test_the_command_line_exits_with_the_merge_and_notes_on_stderr(tmp_path: Path) -> None:
    ours = edit(BASE, "assignee: alice", "assignee: bob")
    theirs = edit(BASE, "assignee: alice", "assignee: carol")
    base, ours_path, theirs_path = versions(tmp_path, BASE, ours, theirs)
    argv = ["merge-file", str(base), str(ours_path), str(theirs_path), TICKET]
    result = run_in_process(argv, tmp_path)  # (git runs it outside any workspace)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"esc merge-file: {TICKET}: conflicting assignee; resolve the marked lines\n"
    )
    clean = versions(tmp_path, BASE, BASE, theirs)
    result = run_in_process(["merge-file", *map(str, clean)], tmp_path)
    assert (result.code, result.out, result.err) == (0, "", "")
    assert clean[1].read_text(encoding="utf-8") == theirs


def test_a_side_that_shortened_its_last_line_of_text_without_a_line_break_merges(
    tmp_path: Path,
) -> None:
    """A person shortened the last line of text and saved without a final line break (VS
    Code, Notepad): its last line is the start of base's, but it is no cut (a code
    review's find: it was refused as cut short)."""
    base_text = BASE.rstrip("\n") + "\n\nRegards, Reto Meier, Alpenglow Outdoor\n"
    ours_text = base_text.replace("Regards, Reto Meier, Alpenglow Outdoor\n", "Regards, Reto")
    theirs_text = edit(base_text, "priority: normal", "priority: high")
    code, notes, merged = merge(*versions(tmp_path, base_text, ours_text, theirs_text))
    assert (code, notes) == (0, [])
    assert merged.endswith("Regards, Reto") and "priority: high" in merged


# ---------------------------------------------------------------- a sweep that never saw


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def ticket_text(root: Path, ticket: str) -> str:
    return (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")


def breach_race(
    tmp_path: Path, taken: list[str] | None = None, mail_at: str = "09:50"
) -> tuple[Path, str, str]:
    """Issue 6's race: a support ticket whose 30-minute first response breaches at 09:30,
    swept at 09:05 and committed; on branch `alice` she escalates it up at 09:20; on
    `main` the cron sweeps at 10:00 without her change (its rule escalates support →
    engineering at the breach).  The workspace, the ticket, and alice's version.  With
    ``taken``: Ann's answer is taken in on `main` at ``mail_at``, before its sweep, which
    commits it with its own rewrite, as the cron line does (intake's version of the
    ticket is added to ``taken``)."""
    root, esc, ticket = ann_s_desk(tmp_path, "--priority", "urgent")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    esc.ok("sweep", "--commit", "--no-report", now="2026-12-01T09:05:00+01:00")
    git(root, "switch", "-qc", "alice")
    esc.ok("escalate", ticket, "--up", "--by", "alice", "--reason", "needs engineering",
           now="2026-12-01T09:20:00+01:00")  # fmt: skip
    git(root, "commit", "-qam", "alice escalates")
    alice = ticket_text(root, ticket)
    git(root, "switch", "-q", "main")
    if taken is not None:
        mail = reply_of(ticket, f"Tue, 01 Dec 2026 {mail_at}:00 +0100")
        esc.ok("intake", "--eml", "-", input=mail, now=f"2026-12-01T{mail_at}:00+01:00")
        taken.append(ticket_text(root, ticket))
    esc.ok("sweep", "--commit", "--no-report", now="2026-12-01T10:00:00+01:00")
    swept = ticket_text(root, ticket)
    assert ("It happened again" in swept) is (taken is not None)
    assert "by: \"rule:breached-goes-up\"" in swept and "from: support" in swept
    return root, ticket, alice


def reply_of(ticket: str, at: str = "Tue, 01 Dec 2026 09:50:00 +0100") -> str:
    """Ann's answer to her ticket, as mail intake takes it."""
    return (
        "From: Ann <ann@shop.example>\nTo: help@desk.example\n"
        f"Subject: Re: [{ticket}] Card charged twice\nMessage-ID: <ann-2@shop.example>\n"
        f"Date: {at}\nContent-Type: text/plain; charset=utf-8\n\n"
        "It happened again this morning.\n"
    )


def ann_s_desk(tmp_path: Path, *options: str) -> tuple[Path, Esc, str]:
    """A workspace in git with the merge driver and Ann's ticket, created at 09:00 (with
    `esc create`'s ``options``; not committed yet): the workspace, esc there, and the
    ticket."""
    root = tmp_path / "desk"
    Esc(tmp_path, now="2026-12-01T08:00:00+01:00").ok("init", "desk")
    git(root, "init", "-q", "-b", "main")
    Esc(root).ok("install-git")
    esc = Esc(root, now="2026-12-01T09:00:00+01:00")
    ticket = esc.ok("create", "--title", "Card charged twice", "--category", "billing",
                    "--customer", "ann@shop.example", *options).strip()  # fmt: skip
    return root, esc, ticket


def merged_note(root: Path, ticket: str, text: str, at: str) -> subprocess.CompletedProcess[str]:
    """Bob's internal note ``text`` at ``at`` on a branch from main's sweep at 09:05, merged
    into main (as `git merge` leaves it)."""
    git(root, "switch", "-qc", "bob", "main~1")
    Esc(root).ok("comment", ticket, "--internal", "--by", "bob", "-m", text, now=at)
    git(root, "commit", "-qam", "bob's note")
    git(root, "switch", "-q", "main")
    return git(root, "merge", "--no-edit", "bob")


def escalated_after_the_merge(root: Path, ticket: str, now: str = "2026-12-01T10:05+01:00") -> str:
    Esc(root).ok("sweep", "--no-report", now=now)
    text = ticket_text(root, ticket)
    return Esc(root).ok("show", ticket, now=now) + text


def test_a_sweep_that_never_saw_a_person_s_escalation_gives_way_in_a_merge(
    tmp_path: Path,
) -> None:
    """Merged field by field, the rule's escalation (support → engineering, at the breach)
    stood beside alice's (support → engineering, before it), and the ticket stopped at
    engineering: sweeping at every instant escalates it on to management at 09:30.  The
    sweep's rewrite gives way, alice's version is taken whole, and the next sweep replays
    from the base's check with her escalation in it."""
    root, ticket, alice = breach_race(tmp_path)
    merged = git(root, "merge", "--no-edit", "alice")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert f"esc merge-file: tickets/{ticket}.md: took theirs whole" in merged.stderr
    assert ticket_text(root, ticket) == alice
    after = escalated_after_the_merge(root, ticket)
    assert "Management (management, level 3)" in after
    assert after.count("kind: hierarchical") == 2
    assert "from: engineering, to: management, by: \"rule:breached-goes-up\"" in after
    assert after.count("rule:breached-goes-up · internal note added") == 1


@pytest.mark.parametrize("how", ["merge", "rebase"])
def test_a_sweep_committed_with_intake_s_message_gives_way_and_keeps_the_message(
    tmp_path: Path, how: str
) -> None:
    """The cron line commits intake's message with the sweep's rewrite: that side is no
    sweep's alone, and merged field by field the rule's escalation from support stood
    beside alice's (the ticket a level low).  The sweep's part gives way, the message
    stays: the merge holds alice's escalation and Ann's message, and the next sweep
    escalates on to management, as sweeping at every instant does."""
    taken: list[str] = []
    root, ticket, alice = breach_race(tmp_path, taken)
    base = git(root, "show", f"main~1:tickets/{ticket}.md").stdout
    if how == "merge":
        done = git(root, "merge", "--no-edit", "alice")
    else:  # (in a rebase too ours is main's, the branch rebased onto)
        git(root, "switch", "-q", "alice")
        done = git(root, "rebase", "main")
    expected = merge(*versions(tmp_path, base, taken[0], alice))
    assert done.returncode == 0, done.stdout + done.stderr
    said = (
        f"esc merge-file: tickets/{ticket}.md: took theirs with ours' own changes, not "
        "ours' sweep's rewrite, which never saw theirs' change before it; the next "
        "`esc sweep` replays from there"
    )
    assert said in done.stderr
    text = ticket_text(root, ticket)
    # (what intake wrote and alice's version, merged field by field: the sweep's alone gone)
    assert expected[:2] == (0, []) and text == expected[2]
    assert text.count("It happened again this morning.") == 1
    assert "by: alice, reason: needs engineering" in text
    assert "rule:breached-goes-up" not in text
    after = escalated_after_the_merge(root, ticket)
    assert "Management (management, level 3)" in after
    assert after.count("kind: hierarchical") == 2
    assert "from: engineering, to: management, by: \"rule:breached-goes-up\"" in after
    assert ticket_text(root, ticket).count("It happened again this morning.") == 1


def test_a_sweep_s_side_with_intake_s_message_keeps_intake_s_updated(tmp_path: Path) -> None:
    """Ann wrote at 09:25, before the 09:30 breach the cron's sweep escalated at (its
    escalation made `updated` 09:30): the version without the sweep has intake's 09:25,
    and the merge the later of that and alice's 09:20 (it kept the dropped escalation's
    09:30, and an `idle` rule then fired late)."""
    root, ticket, _ = breach_race(tmp_path, [], mail_at="09:25")
    swept = ticket_text(root, ticket)
    assert "\nupdated: 2026-12-01T09:30:00+01:00\n" in swept
    done = git(root, "merge", "--no-edit", "alice")
    assert done.returncode == 0 and "took theirs with ours' own changes" in done.stderr
    text = ticket_text(root, ticket)
    assert "\nupdated: 2026-12-01T09:25:00+01:00\n" in text, text


def test_both_sides_swept_unseen_the_one_that_comes_apart_gives_way(tmp_path: Path) -> None:
    """Alice's branch swept too, at 10:02, never having seen Ann's message on main: both
    sides' sweeps missed the other's change, and alice's side, which holds her
    escalation, cannot be taken apart; main's can.  `git merge main` on alice's branch
    takes main's message and alice's side (it conflicted on `team`: only the first side
    named was tried), as `git merge alice` on main does."""
    root, ticket, _ = breach_race(tmp_path, [], mail_at="09:25")  # (before both breaches)
    git(root, "switch", "-q", "alice")
    Esc(root).ok("sweep", "--commit", "--no-report", now="2026-12-01T10:02:00+01:00")
    alice = ticket_text(root, ticket)
    results = []
    for branch, other in (("alice", "main"), ("main", "alice")):
        git(root, "switch", "-q", branch)
        git(root, "switch", "-qc", f"{branch}-merged")
        done = git(root, "merge", "--no-edit", other)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "own changes, not" in done.stderr, done.stderr
        results.append(ticket_text(root, ticket))
    for text in results:
        assert text.count("It happened again this morning.") == 1
        assert "from: support, to: engineering, by: \"rule" not in text
        assert text.replace("It happened again this morning.\n", "") != alice
    after = escalated_after_the_merge(root, ticket)
    assert "Management (management, level 3)" in after


def test_a_sweep_with_intake_s_message_merges_field_by_field_beside_a_note(
    tmp_path: Path,
) -> None:
    """An internal note before the breach would not have changed what the sweep did: the
    side of intake's message and the sweep's rewrite merges field by field, as before."""
    root, ticket, _ = breach_race(tmp_path, [])
    merged = merged_note(root, ticket, "Checking the bank.", "2026-12-01T09:20:00+01:00")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "took" not in merged.stderr
    text = ticket_text(root, ticket)
    assert "Checking the bank." in text and "It happened again this morning." in text
    assert "from: support, to: engineering, by: \"rule:breached-goes-up\"" in text


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (("resolve", "--resolution", "refunded"), "resolved"),
        (("wait", "--reason", "asked for the card's last digits"), "pending"),
        (("close", "--resolution", "refunded", "--csat", "4"), "closed"),
    ],
)
@pytest.mark.parametrize(("how", "at"), [("merge", "09:40"), ("rebase", "09:40"),
                                         ("merge", "09:50")])  # (09:50: the same second)
def test_a_customer_s_message_merged_after_a_person_s_resolve_opens_the_ticket(
    tmp_path: Path, command: tuple[str, ...], status: str, how: str, at: str
) -> None:
    """Alice resolves (puts on hold, closes) the ticket at 09:40 in her clone; at 09:50
    the cron's intake takes Ann's answer into it, still open there.  Merged field by field,
    the ticket stayed resolved with her answer unread in it; it opens again at her
    message, `customer replied`, as it would have had alice's change come first."""
    root, esc, ticket = ann_s_desk(tmp_path)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    git(root, "switch", "-qc", "alice")
    esc.ok(command[0], ticket, *command[1:], "--by", "alice", now=f"2026-12-01T{at}:00+01:00")
    git(root, "commit", "-qam", f"alice: {status}")
    git(root, "switch", "-q", "main")
    esc.ok("intake", "--eml", "-", input=reply_of(ticket, "Tue, 01 Dec 2026 09:50:00 +0100"),
           now="2026-12-01T09:50:00+01:00")  # fmt: skip
    git(root, "commit", "-qam", "intake")
    if how == "merge":
        done = git(root, "merge", "--no-edit", "alice")
    else:
        git(root, "switch", "-q", "alice")
        done = git(root, "rebase", "main")
    assert done.returncode == 0, done.stdout + done.stderr
    text = ticket_text(root, ticket)
    assert "\nstatus: open\n" in text and "\nresolved_at: null\n" in text, text
    assert "\nclosed_at: null\n" in text and "\ncsat: null\n" in text
    assert (
        f"- 2026-12-01T09:50:00+01:00 · Ann <ann@shop.example> · status: {status} → open"
        " · customer replied\n"
    ) in text
    assert any(  # (hers, as written)
        " · alice · status: " in line and f" → {status}" in line for line in text.splitlines()
    )
    assert text.count("It happened again this morning.") == 1
    Esc(root).ok("validate", now="2026-12-01T10:00:00+01:00")  # (exit 0: it validates)
    shown = json.loads(Esc(root).ok("show", ticket, "--json", now="2026-12-01T10:00:00+01:00"))
    assert shown["status"] == "open"


@pytest.mark.parametrize(("closed_at", "mail_at"), [("09:40", "09:50"), ("09:50", "09:40")])
@pytest.mark.parametrize("how", ["merge", "rebase"])
def test_a_customer_s_answer_to_a_resolved_ticket_beside_a_person_s_close_merges(
    tmp_path: Path, closed_at: str, mail_at: str, how: str
) -> None:
    """The ticket is resolved; Ann answers it ("thanks"), and intake opens it again in the
    cron's clone, while alice closes it in hers.  Both changed the status: it conflicted,
    and the cron's every push stopped on it until a person resolved it.  Alice's close
    stands, with what it set; Ann's answer opens the ticket again if it came after it."""
    root, esc, ticket = ann_s_desk(tmp_path)
    esc.ok("resolve", ticket, "--resolution", "refunded", "--by", "bob",
           now="2026-12-01T09:10:00+01:00")  # fmt: skip
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    git(root, "switch", "-qc", "alice")
    esc.ok("close", ticket, "--csat", "5", "--by", "alice", now=f"2026-12-01T{closed_at}:00+01:00")
    git(root, "commit", "-qam", "alice closes")
    git(root, "switch", "-q", "main")
    esc.ok("intake", "--eml", "-", input=reply_of(ticket, f"Tue, 01 Dec 2026 {mail_at}:00 +0100"),
           now=f"2026-12-01T{mail_at}:00+01:00")  # fmt: skip
    assert "\nstatus: open\n" in ticket_text(root, ticket)
    git(root, "commit", "-qam", "intake")
    if how == "merge":
        done = git(root, "merge", "--no-edit", "alice")
    else:
        git(root, "switch", "-q", "alice")
        done = git(root, "rebase", "main")
    assert done.returncode == 0, done.stdout + done.stderr
    text = ticket_text(root, ticket)
    assert text.count("It happened again this morning.") == 1
    Esc(root).ok("validate", now="2026-12-01T10:00:00+01:00")  # (exit 0: it validates)
    shown = json.loads(Esc(root).ok("show", ticket, "--json", now="2026-12-01T10:00:00+01:00"))
    if mail_at > closed_at:  # (her answer came after the close: open again)
        assert shown["status"] == "open" and shown["csat"] is None, shown
        answered = [line for line in text.splitlines() if "· customer replied" in line]
        assert len(answered) == 1 and "09:50:00+01:00 · Ann <ann@shop.example> · status: " \
            in answered[0], answered  # (intake's own, once: not a second, closed → open)
        assert "Ann <ann@shop.example> · csat: 5 → —" in text
    else:  # (alice closed it after Ann's answer: closed, as she left it)
        assert shown["status"] == "closed" and shown["csat"] == 5, shown
        assert "\nresolved_at: 2026-12-01T09:10:00+01:00\n" in text


def test_the_same_in_a_rebase_of_the_person_s_branch(tmp_path: Path) -> None:
    """`git pull --rebase` the other way round: ours is the sweep's, theirs alice's."""
    root, ticket, alice = breach_race(tmp_path)
    git(root, "switch", "-q", "alice")
    rebased = git(root, "rebase", "main")
    assert rebased.returncode == 0, rebased.stdout + rebased.stderr
    assert ticket_text(root, ticket) == alice
    assert "Management (management, level 3)" in escalated_after_the_merge(root, ticket)


def test_a_person_s_change_after_the_sweep_merges_field_by_field(tmp_path: Path) -> None:
    """What came after the sweep's check it could not have seen: both sides are kept (the
    rule's escalation and the note), nothing is replayed."""
    root, ticket, _ = breach_race(tmp_path)
    merged = merged_note(root, ticket, "On it.", "2026-12-01T10:10:00+01:00")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "whole" not in merged.stderr
    text = ticket_text(root, ticket)
    assert "On it." in text and "by: \"rule:breached-goes-up\"" in text


def test_a_person_s_change_that_would_not_have_changed_the_sweep_merges_field_by_field(
    tmp_path: Path,
) -> None:
    """An internal note before the breach changes none of what the sweep did: the sweep's
    rewrite stands beside it (its escalation, its note), and nothing is replayed again."""
    root, ticket, _ = breach_race(tmp_path)
    git(root, "switch", "-qc", "bob", "main~1")
    Esc(root).ok("comment", ticket, "--internal", "--by", "bob", "-m", "Checking the bank.",
                 now="2026-12-01T09:20:00+01:00")  # fmt: skip
    Esc(root).ok("comment", ticket, "--internal", "--by", "bob", "-m", "Bank says no.",
                 now="2026-12-01T10:10:00+01:00")  # fmt: skip (and one after the sweep's)
    git(root, "commit", "-qam", "bob's notes")
    git(root, "switch", "-q", "main")
    merged = git(root, "merge", "--no-edit", "bob")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "whole" not in merged.stderr
    text = ticket_text(root, ticket)
    assert "Checking the bank." in text and "from: support, to: engineering" in text
    assert "Bank says no." in text
    after = escalated_after_the_merge(root, ticket, "2026-12-01T10:15:00+01:00")
    assert after.count("kind: hierarchical") == 1
    assert "Engineering (engineering, level 2)" in after


def test_a_person_s_side_that_does_not_fit_this_clone_s_teams_merges_field_by_field(
    tmp_path: Path,
) -> None:
    """The person's side escalated to a team this clone's teams.yaml lacks yet (it comes
    in the same merge): no sweep plans such a ticket, so it merges field by field, as
    before: the two escalations' teams are a conflict for a person, said as one (no
    error of esc's)."""
    root, ticket, _ = breach_race(tmp_path)
    git(root, "switch", "-qc", "carol", "main~1")
    teams = root / "teams.yaml"
    teams.write_text(teams.read_text().replace(
        "teams:\n", "teams:\n  billing-ops:\n    name: Billing Ops\n    level: 1\n"
        "    members: [gus]\n", 1))  # fmt: skip
    Esc(root).ok("escalate", ticket, "--to", "billing-ops", "--by", "carol", "--reason", "refund",
                 now="2026-12-01T09:20:00+01:00")  # fmt: skip
    git(root, "commit", "-qam", "carol's team and escalation")
    git(root, "switch", "-q", "main")
    merged = git(root, "merge", "--no-edit", "carol")
    assert merged.returncode == 1
    said = f"esc merge-file: tickets/{ticket}.md: conflicting team; resolve the marked lines\n"
    assert merged.stderr == said
    text = ticket_text(root, ticket)
    assert "to: billing-ops, by: carol" in text and "by: \"rule:breached-goes-up\"" in text


def test_a_person_s_side_changed_again_after_the_sweep_still_gives_way(tmp_path: Path) -> None:
    """Alice's escalation before the breach, and her note after the sweep's check: the
    sweep is judged on her side as it was at its check (it would have escalated from
    engineering), so it still gives way, and her later note is kept."""
    root, ticket, _ = breach_race(tmp_path)
    git(root, "switch", "-q", "alice")
    Esc(root).ok("comment", ticket, "--internal", "--by", "alice", "-m", "Eng has it.",
                 now="2026-12-01T10:10:00+01:00")  # fmt: skip
    git(root, "commit", "-qam", "alice's note")
    alice = ticket_text(root, ticket)
    git(root, "switch", "-q", "main")
    merged = git(root, "merge", "--no-edit", "alice")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert ticket_text(root, ticket) == alice
    after = escalated_after_the_merge(root, ticket, "2026-12-01T10:15:00+01:00")
    assert "Management (management, level 3)" in after and "Eng has it." in after


def alice_again(root: Path, ticket: str, *steps: tuple[str, ...]) -> str:
    """Alice's branch made again from the sweep at 09:05, one commit for each step
    (``esc`` arguments, the time last); her version of the ticket."""
    git(root, "switch", "-q", "alice")
    git(root, "reset", "-q", "--hard", "main~1")
    for *args, when in steps:
        Esc(root).ok(*args, now=when)
        git(root, "commit", "-qam", " ".join(args[:1]))
    return ticket_text(root, ticket)


@pytest.mark.parametrize("how", ["merge", "rebase"])
def test_a_person_s_escalation_after_the_rule_s_but_before_the_sweep_s_check_is_one_move(
    tmp_path: Path, how: str
) -> None:
    """The rule escalated support → engineering at the 09:30 breach, swept at 10:00; alice,
    never having seen it, escalated to engineering at 09:40.  Merged field by field, the
    file held both, one move counted twice in the reports (audit m53): a sweep at 10:00
    that had seen hers would have found the rule's needless.  The sweep's side gives way,
    and the next sweep leaves one escalation to engineering, hers."""
    root, ticket, _ = breach_race(tmp_path)
    alice_again(root, ticket, ("escalate", ticket, "--to", "engineering", "--by", "alice",
                               "--reason", "card team", "2026-12-01T09:40:00+01:00"))  # fmt: skip
    if how == "merge":
        git(root, "switch", "-q", "main")
        done = git(root, "merge", "--no-edit", "alice")
    else:
        done = git(root, "rebase", "main")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "whole" in done.stderr, done.stderr
    after = escalated_after_the_merge(root, ticket)
    text = ticket_text(root, ticket)
    moves = [line for line in text.splitlines() if "from: support, to: engineering" in line]
    assert len(moves) == 1 and "by: alice" in moves[0], moves
    assert "Engineering" in after or "Management" in after


def test_a_reply_after_the_rule_s_escalation_before_the_sweep_s_check_merges_field_by_field(
    tmp_path: Path,
) -> None:
    """Alice's reply at 09:40 came after the rule's 09:30 escalation, before the 10:00
    sweep's check: the rules would have acted alike (only the clocks differ), so the
    sweep's rewrite stands beside her reply, as before (a review found it taken whole:
    the next sweep replayed the escalation, which another clone may tell again)."""
    root, ticket, _ = breach_race(tmp_path)
    alice_again(root, ticket, ("comment", ticket, "-m", "On it", "--by", "alice",
                               "2026-12-01T09:40:00+01:00"))  # fmt: skip
    git(root, "switch", "-q", "main")
    done = git(root, "merge", "--no-edit", "alice")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "whole" not in done.stderr, done.stderr
    text = ticket_text(root, ticket)
    assert "On it" in text and "from: support, to: engineering, by: \"rule" in text


def test_a_rebase_of_several_commits_gives_way_at_the_one_the_sweep_never_saw(
    tmp_path: Path,
) -> None:
    """`git pull --rebase` of two commits, a tag and then the escalation: the tag merges
    field by field (it changes nothing the sweep did, and its `checked` goes back before
    it), and the escalation's commit still finds the sweep's work alone on the other
    side and takes alice's version whole."""
    root, ticket, _ = breach_race(tmp_path)
    alice = alice_again(
        root, ticket,
        ("tag", ticket, "vip", "--by", "alice", "2026-12-01T09:10:00+01:00"),
        ("escalate", ticket, "--up", "--by", "alice", "--reason", "big",
         "2026-12-01T09:20:00+01:00"),
    )  # fmt: skip
    rebased = git(root, "rebase", "main")
    assert rebased.returncode == 0, rebased.stdout + rebased.stderr
    assert ticket_text(root, ticket) == alice
    after = escalated_after_the_merge(root, ticket)
    assert "Management (management, level 3)" in after
    assert after.count("status: new → open") == 1


def test_both_sides_swept_the_person_s_side_with_its_own_sweep_is_taken(tmp_path: Path) -> None:
    """Alice's clone swept after her escalation (its rule went engineering → management);
    the cron's sweep never saw her escalation (support → engineering): the cron's side
    gives way, and no `team` conflict is left."""
    root, ticket, _ = breach_race(tmp_path)
    alice_again(root, ticket, ("escalate", ticket, "--up", "--by", "alice", "--reason", "big",
                               "2026-12-01T09:20:00+01:00"))  # fmt: skip
    Esc(root).ok("sweep", "--commit", "--no-report", now="2026-12-01T09:35:00+01:00")
    alice = ticket_text(root, ticket)
    git(root, "switch", "-q", "main")
    merged = git(root, "merge", "--no-edit", "alice")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert ticket_text(root, ticket) == alice
    after = escalated_after_the_merge(root, ticket)
    assert "Management (management, level 3)" in after
    assert after.count("kind: hierarchical") == 2


def test_a_sweep_under_rules_this_side_lacks_merges_field_by_field(tmp_path: Path) -> None:
    """`git merge main` on alice's branch, where main changed rules.yaml before its sweep:
    the driver cannot plan that sweep again under the rules.yaml the work tree holds
    (alice's), so it cannot tell that side is a sweep's alone, and merges field by field,
    keeping both sides' work (the documented limit: the rule's escalation stays from the
    old team)."""
    root, ticket, _ = breach_race(tmp_path)
    git(root, "reset", "-q", "--hard", "main~1")
    rules = root / "rules.yaml"
    rules.write_text(rules.read_text().replace("first_response: 30m", "first_response: 20m"))
    git(root, "commit", "-qam", "a shorter first response")
    Esc(root).ok("sweep", "--commit", "--no-report", now="2026-12-01T10:00:00+01:00")
    git(root, "switch", "-q", "alice")
    merged = git(root, "merge", "--no-edit", "main")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "whole" not in merged.stderr
    text = ticket_text(root, ticket)
    assert "by: alice, reason: needs engineering" in text
    assert "by: \"rule:breached-goes-up\"" in text


@pytest.fixture(scope="module")
def race(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, str, str]:
    """The breach race once: (workspace, ticket path, base, the cron's sweep, alice's)."""
    root, ticket, alice = breach_race(tmp_path_factory.mktemp("race"))
    path = f"tickets/{ticket}.md"
    base = git(root, "show", f"main~1:{path}").stdout
    swept = (root / path).read_text(encoding="utf-8")
    return root, path, base, swept, alice


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\nupdated: 2026-12-01T09:30:00+01:00\n",
         "\nupdated: 2026-12-01T09:30:00+01:00  # touched by hand, see the call\n"),
        ("\nsla:\n", "\nsla:\n  # the bank says the card is fine\n"),  # inside the block
        ("\ncustomer: ann@shop.example\nchannel:", "\nchannel:"),  # a field moved
        ("from: support, to: engineering, by: \"rule",
         "from: support, to: management, by: \"rule"),  # a rule's escalation edited
        ("\nSLA breached, escalating\n", "\nSLA breached, escalating. Called Ann.\n"),
        ("\n## Conversation\n", "\n## Conversation\n\nCall Ann first!\n"),
        ("internal note added\n", "internal note added\n\nAsk Jo about refunds.\n"),
    ],
)
def test_a_sweep_s_side_that_holds_a_person_s_edit_never_gives_way(
    race: tuple[Path, str, str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    old: str, new: str,
) -> None:  # fmt: skip
    """The side that gives way is dropped whole: it must be exactly what a sweep makes of
    the base.  A person's edit on the cron's side (committed there before it swept) keeps
    the merge field by field, and the edit in the merged file."""
    root, path, base, swept, alice = race
    moved = "\nchannel: null\ncustomer: ann@shop.example\n"
    if old == "\ncustomer: ann@shop.example\nchannel:":  # (moved below `channel`)
        new = "\nchannel:"
        edited = swept.replace(old, new).replace("\nchannel: null\n", moved)
    else:
        assert swept.count(old) == 1, old
        edited = swept.replace(old, new)
    assert edited != swept
    with monkeypatch.context() as here:
        here.chdir(root)  # (git runs the driver at the top of the work tree)
        code, notes, merged = merge(*versions(tmp_path, base, edited, alice), path=path)
    assert not any("whole" in note for note in notes), notes
    assert merged != alice
    kept = new if old != "\ncustomer: ann@shop.example\nchannel:" else "customer: ann@shop.example"
    assert kept.strip() in merged or code == 1, merged


def test_the_cron_s_side_as_the_sweep_wrote_it_gives_way_in_process(
    race: tuple[Path, str, str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control of the test above: untouched, the sweep's side gives way."""
    root, path, base, swept, alice = race
    with monkeypatch.context() as here:
        here.chdir(root)
        code, notes, merged = merge(*versions(tmp_path, base, swept, alice), path=path)
    assert (code, merged) == (0, alice)
    said = f"esc merge-file: {path}: took theirs whole: ours is a sweep's rewrite that never "
    assert notes == [said + "saw theirs' change before it; the next `esc sweep` replays from there"]


def test_a_merged_sweep_whose_check_went_back_does_not_give_way_to_a_note(
    tmp_path: Path,
) -> None:
    """Main merged bob's note (before the breach) beside its sweep, its `checked` moved
    back before the note; carol, on bob's branch, wrote another note before the breach
    and merges main: main's side is still the sweep's alone (planned at its last line),
    and a note would not have changed it, so the merge is field by field (it gave way
    whenever the block's `checked` had been moved back: the two plans' times differed)."""
    root, ticket, _ = breach_race(tmp_path)
    alice_again(root, ticket, ("comment", ticket, "--internal", "--by", "bob", "-m", "Bob here.",
                               "2026-12-01T09:10:00+01:00"))  # fmt: skip
    git(root, "switch", "-q", "main")
    merged = git(root, "merge", "--no-edit", "alice")
    assert merged.returncode == 0 and "whole" not in merged.stderr, merged.stderr
    moved = ticket_text(root, ticket)
    assert "  checked: 2026-12-01T09:09:59+01:00\n" in moved
    git(root, "switch", "-qc", "carol", "alice")
    Esc(root).ok("comment", ticket, "--internal", "--by", "carol", "-m", "Carol too.",
                 now="2026-12-01T09:20:00+01:00")  # fmt: skip
    git(root, "commit", "-qam", "carol's note")
    merged = git(root, "merge", "--no-edit", "main")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "whole" not in merged.stderr
    text = ticket_text(root, ticket)
    assert "Bob here." in text and "Carol too." in text
    assert "by: \"rule:breached-goes-up\"" in text


def _reply_here_note_there(
    root: Path, esc: Esc, ticket: str, there: str, reply: str, at: str, note: str, later: str
) -> None:
    """Alice's public reply at ``at`` on this branch, then Bob's internal note at
    ``later`` on branch ``there``, each committed (``there`` is left checked out)."""
    esc.ok("comment", ticket, "-m", reply, "--by", "alice", now=f"2026-12-01T{at}:00+01:00")
    git(root, "commit", "-qam", "alice replies")
    git(root, "switch", "-q", there)
    esc.ok("comment", ticket, "--internal", "-m", note, "--by", "bob",
           now=f"2026-12-01T{later}:00+01:00")  # fmt: skip
    git(root, "commit", "-qam", "bob notes")


def _resolved(root: Path, ticket: str, keep: str) -> None:
    """The conflict the driver left in ``ticket`` settled by keeping one side's lines
    (``ours`` or ``theirs``), as a person does in an editor."""
    path = root / "tickets" / f"{ticket}.md"
    kept: list[str] = []
    side = None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("<<<<<<< "):
            side = "ours"
        elif line.startswith("=======") and side == "ours":
            side = "theirs"
        elif line.startswith(">>>>>>> "):
            side = None
        elif side is None or side == keep:
            kept.append(line)
    path.write_text("".join(kept), encoding="utf-8")


def test_a_criss_cross_merge_of_notes_on_a_conflict_both_settled_alike_is_clean(
    tmp_path: Path,
) -> None:
    """Alice and Bob assign one ticket to different people; each clone merges the other's
    commit and both keep bob; then each adds a note and one merges the other: two merge
    bases (audit helper-381).  git merged the two bases with esc's driver into a base of
    conflict markers, which read as no ticket, and the merge fell back to text: markers in
    the conversation and the log, which both sides had only added to.  The bases are
    merged by taking one whole (`merge.esc.recursive = binary`): the notes merge cleanly."""
    root, esc, ticket = ann_s_desk(tmp_path)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    for branch, who, at in (("a", "alice", "10:05"), ("b", "bob", "10:06")):
        git(root, "switch", "-qc", branch, "main")
        esc.ok("assign", ticket, who, "--by", who, now=f"2026-12-01T{at}:00+01:00")
        git(root, "commit", "-qam", f"{who} assigns")
    git(root, "branch", "b1", "b")
    assert git(root, "merge", "--no-edit", "a").returncode == 1  # (on b: the assignee)
    _resolved(root, ticket, "ours")
    git(root, "commit", "-qam", "keep bob")
    git(root, "switch", "-q", "a")
    assert git(root, "merge", "--no-edit", "b1").returncode == 1
    _resolved(root, ticket, "theirs")
    git(root, "commit", "-qam", "keep bob too")
    _reply_here_note_there(root, esc, ticket, "b", "Alice after the merge", "11:00",
                           "Bob after the merge", "11:01")  # fmt: skip
    assert len(git(root, "merge-base", "--all", "a", "b").stdout.split()) == 2
    done = git(root, "merge", "--no-edit", "a")
    assert done.returncode == 0, done.stdout + done.stderr
    text = ticket_text(root, ticket)
    assert "<<<<<<<" not in text and ">>>>>>>" not in text
    assert text.index("Alice after the merge") < text.index("Bob after the merge")
    assert "assignee: bob\n" in text
    esc.ok("validate")


def test_a_ticket_a_broken_driver_left_with_one_side_is_said_with_the_way_back(
    tmp_path: Path,
) -> None:
    """The clone's merge driver runs a Python that no longer exists (a venv moved): git
    leaves the ticket unmerged holding this side's version alone, with no markers.  esc
    validate said "keep it (`git add`)", which dropped the other side's reply (audit
    helper-381).  It says the file holds one side and how to merge it again; done so, once
    the driver is mended, both sides' entries are in the file."""
    root, esc, ticket = ann_s_desk(tmp_path)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    git(root, "switch", "-qc", "alice")
    _reply_here_note_there(root, esc, ticket, "main", "Alice's reply", "09:10", "Bob's note",
                           "09:12")  # fmt: skip
    gone = tmp_path / "old-venv" / "bin" / "python3"
    git(root, "config", "merge.esc.driver", f"{gone} -m esc merge-file %O %A %B %P")
    assert git(root, "merge", "--no-edit", "alice").returncode != 0
    path = f"tickets/{ticket}.md"
    assert "Alice's reply" not in ticket_text(root, ticket)  # (this side's alone)
    found = Esc(root)("validate")
    assert found.code == 1
    assert (
        f"{path}:1: unresolved merge conflict (both changed): the file holds this side's "
        f"version alone (the other: `git show :3:{path}`), as when the merge driver failed; "
        f"fix it (`esc doctor`), then merge the file again with `git checkout -m -- {path}`"
    ) in found.err
    Esc(root).ok("install-git")
    assert git(root, "checkout", "-m", "--", path).returncode == 0
    text = ticket_text(root, ticket)
    assert "Alice's reply" in text and "Bob's note" in text and "<<<<<<<" not in text
    git(root, "add", path)
    Esc(root).ok("validate")


def test_a_command_that_writes_a_ticket_warns_of_a_driver_whose_python_is_gone(
    tmp_path: Path,
) -> None:
    """Before a merge leaves a ticket with one side alone, a command that writes one says
    the clone's driver runs a program that no longer exists (as it says of a clone with no
    driver); `esc install-git` mends it."""
    root, esc, ticket = ann_s_desk(tmp_path)
    gone = tmp_path / "old venv" / "bin" / "python3"
    git(root, "config", "merge.esc.driver", f"'{gone}' -m esc merge-file %O %A %B %P")
    said = esc("comment", ticket, "-m", "On it", "--by", "alice", now="2026-12-01T09:10:00+01:00")
    assert said.code == 0
    assert said.err == (
        f"esc: warning: this clone's merge driver runs {gone}, which no longer exists: a "
        "ticket changed on both sides would be left with one side alone (run esc install-git)\n"
    )
    Esc(root).ok("install-git")
    said = esc("comment", ticket, "-m", "Done", "--by", "alice", now="2026-12-01T09:20:00+01:00")
    assert (said.code, said.err) == (0, "")
