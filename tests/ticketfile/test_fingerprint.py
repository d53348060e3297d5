from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from esc.domain.errors import ParseError
from esc.domain.model import Change
from esc.store import workspace
from esc.ticketfile import document, fast_front, fingerprint, yaml_text

TICKET = """\
---
id: T-4k8q2m7x
title: Invoice missing
status: open
priority: normal
updated: 2026-11-20T10:00:00+01:00
sla:
  policy: standard
  checked: 2026-11-20T10:00:00+01:00
  first_response: {due: 2026-11-20T13:00:00+01:00, state: ok}
---

Where is it?

## Activity

- 2026-11-20T09:00:00+01:00 · ann@shop.example · created
"""


def parse(text: str) -> document.TicketDoc:
    return document.parse(text, "tickets/T-4k8q2m7x.md")


def test_a_stamp_is_the_front_matter_s_last_line_and_proves_the_text() -> None:
    doc = fingerprint.stamped(parse(TICKET))
    front = doc.front
    assert front.startswith(parse(TICKET).front)
    assert front.splitlines()[-1].startswith("# sweep fingerprint ")
    assert len(front.splitlines()[-1]) == len("# sweep fingerprint ") + 16
    assert fingerprint.proven(doc)
    again = parse(doc.text)
    assert fingerprint.proven(again)
    assert again.data == parse(TICKET).data  # (a comment: the same fields)
    assert again.ticket == parse(TICKET).ticket
    assert again.key_lines == parse(TICKET).key_lines


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("status: open", "status: new"),  # a field
        ("Where is it?", "Where is it!"),  # the description
        ("· created\n", "· created\n- 2026-11-20T11:00:00+01:00 · bob · note\n"),  # the log
        ("state: ok}", "state: warning}"),  # the block
        ("title: Invoice missing\n", "title: Invoice missing\n# a person's note\n"),
    ],
)
def test_any_edit_but_checked_and_the_id_makes_the_stamp_stale(old: str, new: str) -> None:
    stamped = fingerprint.stamped(parse(TICKET)).text
    assert old in stamped
    assert not fingerprint.proven(parse(stamped.replace(old, new, 1)))


@pytest.mark.parametrize(
    "line",
    [
        "- 2026-11-20 11:00 · bob · note",  # a log line whose time does not read
        "- 0999-11-20T11:00:00+01:00 · bob · note",  # a year esc does not read
    ],
)
def test_a_line_added_by_hand_to_a_stamped_body_is_a_problem(line: str) -> None:
    """A stamped text's body is not checked again (a sweep wrote it, and the stamp covers
    it all): any edit to it makes the stamp stale, and the body is checked as any is."""
    fields = "team: billing\ncreated: 2026-11-20T09:00:00+01:00\n"
    whole = TICKET.replace("updated:", fields + "updated:")
    stamped = fingerprint.stamped(parse(whole)).text
    assert parse(stamped).proven and parse(stamped).problems == []
    edited = parse(stamped + line + "\n")
    assert not edited.proven
    assert [n for n, _ in edited.problems] == [len(stamped.splitlines()) + 1]


def test_what_the_stamp_leaves_out_of_a_stamped_text_is_still_checked() -> None:
    """The ID, the file name it must match and the block's ``checked`` time: edited by
    hand, the stamp still matches, and the problem is said at its line."""
    fields = "team: billing\ncreated: 2026-11-20T09:00:00+01:00\n"
    stamped = fingerprint.stamped(parse(TICKET.replace("updated:", fields + "updated:"))).text
    odd = stamped.replace("checked: 2026-11-20T10:00:00+01:00", "checked: soon")
    doc = parse(odd)
    assert doc.proven
    assert [n for n, _ in doc.problems] == [odd.splitlines().index("  checked: soon") + 1]
    with pytest.raises(ParseError, match="checked"):
        workspace.parse_ticket(odd.encode(), "tickets/T-4k8q2m7x.md")
    renamed = stamped.replace("id: T-4k8q2m7x", "id: T-zzzzzzzz")
    assert parse(renamed).proven
    with pytest.raises(ParseError, match="does not match the file name") as raised:
        workspace.parse_ticket(renamed.encode(), "tickets/T-4k8q2m7x.md")
    assert raised.value.line == 2


def test_checked_and_the_id_are_left_out_of_the_hash() -> None:
    """Sweeps at other times, and the same story in another clone (another ID), write the
    same line: the plan takes `checked` as written, stamp or not, and no ID changes it."""
    stamped = fingerprint.stamped(parse(TICKET)).text
    line = stamped.splitlines()[12]
    other = TICKET.replace("checked: 2026-11-20T10:00:00", "checked: 2026-11-20T10:05:00")
    assert fingerprint.stamped(parse(other)).text.splitlines()[12] == line
    renamed = TICKET.replace("T-4k8q2m7x", "T-zzzzzzzz")
    assert fingerprint.stamped(document.parse(renamed, "x.md")).text.splitlines()[12] == line


def test_a_stamp_is_made_anew_or_taken_out() -> None:
    doc = fingerprint.stamped(parse(TICKET))
    edited = parse(doc.text.replace("status: open", "status: new"))
    restamped = fingerprint.stamped(edited)
    assert fingerprint.proven(restamped)
    assert restamped.text.count("# sweep fingerprint ") == 1
    plain = fingerprint.stamped(edited, stamp=False)
    assert plain.text == TICKET.replace("status: open", "status: new")
    assert fingerprint.stamped(parse(TICKET), stamp=False).text == TICKET


def test_a_file_with_crlf_line_breaks_gets_a_crlf_stamp() -> None:
    text = TICKET.replace("\n", "\r\n")
    doc = fingerprint.stamped(parse(text))
    assert "\r\n# sweep fingerprint " in doc.text
    assert "\n" not in doc.text.replace("\r\n", "")
    assert fingerprint.proven(parse(doc.text))


def test_a_stamp_anywhere_but_the_last_line_proves_nothing_and_still_reads() -> None:
    line = fingerprint.stamped(parse(TICKET)).front.splitlines()[-1] + "\n"
    moved = TICKET.replace("sla:\n", line + "sla:\n", 1)
    doc = parse(moved)  # (a comment in the middle: read by ruamel.yaml, the same fields)
    assert doc.data == parse(TICKET).data
    assert not fingerprint.proven(doc)
    assert fingerprint.split_off(doc.front) == (doc.front, "")


def test_fast_front_reads_a_stamped_front_matter_as_ruamel_does() -> None:
    front = fingerprint.stamped(parse(TICKET)).front
    quick = fast_front.load(front)
    assert quick is not None  # (esc's own style: not the slow reader)
    assert quick.data == yaml_text.load(front)


def test_other_edits_keep_the_stamp_as_the_last_line_stale() -> None:
    stamped = fingerprint.stamped(parse(TICKET))
    line = stamped.front.splitlines()[-1]
    changed = document.changed(stamped, Change(sets={"priority": "high", "tags": ["vip"]}))
    assert changed.front.splitlines()[-1] == line
    assert changed.data["tags"] == ["vip"] and changed.data["priority"] == "high"
    assert changed.text == document.parse(changed.text, changed.path).text
    assert not fingerprint.proven(changed)
    assert document.unstamped(changed.text) == document.apply_change(
        parse(TICKET), Change(sets={"priority": "high", "tags": ["vip"]})
    )


def test_only_the_id_line_s_id_and_the_block_s_checked_are_left_out() -> None:
    commented = TICKET.replace("sla:\n", "sla:    # the sweep's\n")
    line = fingerprint.stamped(parse(commented)).front.splitlines()[-1]
    later = commented.replace("checked: 2026-11-20T10:00:00", "checked: 2026-11-21T10:00:00")
    assert fingerprint.stamped(parse(later)).front.splitlines()[-1] == line
    stamped = fingerprint.stamped(parse(TICKET)).text
    named = stamped.replace("Where is it?", "Where is it? (T-4k8q2m7x)")
    assert not fingerprint.proven(parse(named))  # (the ID elsewhere is text like any)
    elsewhere = stamped.replace("status: open", "status: open\nchecked: 2026-11-20T10:00:00+01:00")
    assert not fingerprint.proven(parse(elsewhere))


def test_a_stamp_of_another_esc_version_proves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another version's sweep may plan otherwise (review helper-459)."""
    stamped = fingerprint.stamped(parse(TICKET)).text
    assert fingerprint.proven(parse(stamped))
    monkeypatch.setattr(fingerprint, "_salt", lambda: b"esc 9.9.9 fingerprint 2\0")
    assert not fingerprint.proven(parse(stamped))


def test_a_stamp_is_of_esc_s_source_not_of_where_it_is_installed(tmp_path: Path) -> None:
    """Any change to esc's code makes its stamps others' (an older esc's stamp let through
    a file this one's checks refuse; review helper-483); the same code, anywhere, stamps
    alike."""
    import esc

    package = Path(esc.__file__).parent
    copy = tmp_path / "elsewhere" / "esc"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert fingerprint.salt_of(copy) == fingerprint.salt_of(package) == fingerprint._salt()
    (copy / "domain" / ".#plan.py").symlink_to("user@host.1:2")  # (an editor's lock)
    (copy / "domain" / ".plan.py.swp.py").write_text("x")
    assert fingerprint.salt_of(copy) == fingerprint.salt_of(package)
    checks = copy / "ticketfile" / "problems.py"
    checks.write_text(checks.read_text() + "\n# a new check\n")
    assert fingerprint.salt_of(copy) != fingerprint.salt_of(package)


def test_a_front_matter_of_the_stamp_alone_is_no_mapping() -> None:
    """As ruamel.yaml reads it (fast_front read it as an empty one: six fields "missing";
    review helper-459)."""
    line = fingerprint.stamped(parse(TICKET)).front.splitlines()[-1] + "\n"
    assert fast_front.load(line) is None
    with pytest.raises(ParseError, match="front-matter must be a mapping"):
        document.parse(f"---\n{line}---\n\nbody\n", "tickets/T-4k8q2m7x.md")
