"""esc's git merge driver on the files git hands it (esc.store.merge_driver): the plain text
merge, merging three versions of a ticket into ours, .gitattributes, registering the driver
in a clone, noticing a clone without it, and checking that its program runs esc.  Real
``git`` in temporary folders."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from esc.domain.errors import EscError
from esc.store import launch
from esc.store.merge_driver import (
    ATTRIBUTES_LINE,
    DRIVER_NAME,
    GITATTRIBUTES,
    BrokenSide,
    clone_lacks_driver,
    configure_git,
    configured_driver,
    driver_fails,
    ensure_gitattributes,
    gitattributes_route_tickets,
    gitattributes_text,
    merge_files,
    merge_text,
    routes_tickets,
    write_gitattributes,
)
from esc.ticketfile.document import parse

TICKET = """\
---
id: T-4k8q2m7x
title: Checkout returns 500
status: open
priority: normal
team: support
tags: [vip]
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:00:00+01:00
---

Card payments fail.

## Activity

- 2026-11-20T09:00:00+01:00 · alice · created
"""


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A new git repository whose .gitattributes sends tickets to esc's driver."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitattributes").write_text(GITATTRIBUTES)
    return root


def sides(folder: Path, base: str, ours: str, theirs: str) -> tuple[Path, Path, Path]:
    paths = (folder / "base", folder / "ours", folder / "theirs")
    for path, text in zip(paths, (base, ours, theirs), strict=True):
        path.write_text(text, encoding="utf-8")
    return paths


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


# ---------------------------------------------------------------- merge_text


def test_merge_text_merges_changes_to_different_lines() -> None:
    base = "one\ntwo\nthree\nfour\nfive\n"
    text, conflicted = merge_text(base, base.replace("one", "ONE"), base.replace("five", "fünf"))
    assert (text, conflicted) == ("ONE\ntwo\nthree\nfour\nfünf\n", False)


def test_merge_text_marks_a_conflict_with_the_sides_names() -> None:
    text, conflicted = merge_text("a\nb\nc\n", "a\nours\nc\n", "a\ntheirs\nc\n")
    assert conflicted is True
    assert text == "a\n<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\nc\n"


def test_merge_text_of_identical_sides_is_that_text() -> None:
    assert merge_text("", "x\n", "x\n") == ("x\n", False)


# ---------------------------------------------------------------- merge_files


def test_merge_files_merges_a_ticket_field_by_field_into_ours(tmp_path: Path) -> None:
    base, ours, theirs = sides(
        tmp_path,
        TICKET,
        TICKET.replace("tags: [vip]", "tags: [vip, psp]"),
        TICKET.replace("priority: normal", "priority: high"),
    )
    result = merge_files(base, ours, theirs)
    assert result.clean and result.structured
    merged = ours.read_text(encoding="utf-8")
    assert merged == result.text
    ticket = parse(merged, "tickets/T-4k8q2m7x.md").ticket
    assert (ticket.priority, ticket.tags) == ("high", ("vip", "psp"))
    assert base.read_text(encoding="utf-8") == TICKET  # (the others are left alone)
    assert theirs.read_text(encoding="utf-8") == TICKET.replace("normal", "high")


def test_merge_files_reports_a_conflicting_field(tmp_path: Path) -> None:
    base, ours, theirs = sides(
        tmp_path,
        TICKET,
        TICKET.replace("priority: normal", "priority: low"),
        TICKET.replace("priority: normal", "priority: urgent"),
    )
    result = merge_files(base, ours, theirs)
    assert not result.clean
    assert result.conflicts == ["priority"]
    assert "<<<<<<< ours\npriority: low\n=======\npriority: urgent\n>>>>>>> theirs\n" in (
        ours.read_text(encoding="utf-8")
    )


def test_merge_files_leaves_ours_untouched_when_it_is_the_result(tmp_path: Path) -> None:
    changed = TICKET.replace("priority: normal", "priority: high")
    base, ours, theirs = sides(tmp_path, TICKET, changed, TICKET)
    before = ours.stat()
    result = merge_files(base, ours, theirs)
    assert result.text == changed and result.clean
    after = ours.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not written


@pytest.mark.parametrize("side", ["base", "ours", "theirs"])
def test_a_side_holding_a_nul_byte_is_refused_and_nothing_is_written(
    tmp_path: Path, side: str
) -> None:
    texts = {"base": TICKET, "ours": TICKET.replace("vip", "psp"), "theirs": TICKET}
    texts[side] = texts[side].replace("Card payments", "Card\0payments")
    base, ours, theirs = sides(tmp_path, texts["base"], texts["ours"], texts["theirs"])
    with pytest.raises(BrokenSide) as caught:
        merge_files(base, ours, theirs)
    path = {"base": base, "ours": ours, "theirs": theirs}[side]
    assert (caught.value.side, caught.value.path) == (side, path)
    assert caught.value.problem == "holds a NUL byte (line 12)"
    assert str(caught.value) == f"{side} ({path}) holds a NUL byte (line 12)"
    assert isinstance(caught.value, EscError)
    assert ours.read_text(encoding="utf-8") == texts["ours"]


def test_files_that_are_not_utf8_are_merged_as_text_in_place(tmp_path: Path) -> None:
    base = b"caf\xe9\none\ntwo\nthree\nfour\n"
    paths = (tmp_path / "base", tmp_path / "ours", tmp_path / "theirs")
    for path, data in zip(
        paths, (base, base.replace(b"one", b"ONE"), base.replace(b"four", b"FOUR")), strict=True
    ):
        path.write_bytes(data)
    result = merge_files(*paths)
    assert (result.clean, result.structured) == (True, False)
    assert paths[1].read_bytes() == b"caf\xe9\nONE\ntwo\nthree\nFOUR\n"
    assert result.text == "caf\ufffd\nONE\ntwo\nthree\nFOUR\n"


def test_files_that_are_not_utf8_and_conflict_are_a_text_conflict(tmp_path: Path) -> None:
    paths = (tmp_path / "base", tmp_path / "ours", tmp_path / "theirs")
    for path, data in zip(paths, (b"\xff\nx\n", b"\xff\nours\n", b"\xff\ntheirs\n"), strict=True):
        path.write_bytes(data)
    result = merge_files(*paths)
    assert result.conflicts == ["text"] and not result.structured
    assert b"<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\n" in paths[1].read_bytes()


def test_a_side_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    base, ours, theirs = sides(tmp_path, TICKET, TICKET, TICKET)
    theirs.unlink()
    with pytest.raises(
        EscError, match=f"^{re.escape(f'cannot read {theirs}')}: No such file or directory$"
    ):
        merge_files(base, ours, theirs)


# ---------------------------------------------------------------- .gitattributes


def test_routes_tickets_takes_the_last_merge_attribute_of_the_pattern() -> None:
    assert routes_tickets(ATTRIBUTES_LINE)
    assert routes_tickets("*.png binary\n  tickets/*.md   text   merge=esc  \n")
    assert routes_tickets("tickets/*.md merge=union\ntickets/*.md merge=esc\n")
    assert not routes_tickets("tickets/*.md merge=esc\ntickets/*.md -merge\n")
    assert not routes_tickets("tickets/*.md merge=esc\ntickets/*.md !merge\n")
    assert not routes_tickets("tickets/*.md merge=esc merge=union\n")
    assert not routes_tickets("tickets/*.md merge\n")
    assert routes_tickets("tickets/*.md merge=esc\ntickets/*.md text\n")  # (no merge attribute)
    assert not routes_tickets("docs/*.md merge=esc\n")  # another pattern
    assert not routes_tickets("# tickets/*.md merge=esc\n")  # a comment
    assert not routes_tickets("")


def test_a_missing_gitattributes_gets_the_starter_file(tmp_path: Path) -> None:
    assert gitattributes_text(tmp_path) == GITATTRIBUTES
    assert ensure_gitattributes(tmp_path) is True
    assert (tmp_path / ".gitattributes").read_text() == GITATTRIBUTES
    assert ATTRIBUTES_LINE in GITATTRIBUTES.splitlines()
    assert ensure_gitattributes(tmp_path) is False
    assert gitattributes_text(tmp_path) is None


def test_the_line_is_appended_after_other_lines_keeping_them(tmp_path: Path) -> None:
    path = tmp_path / ".gitattributes"
    path.write_text("*.png binary\ntickets/*.md merge=esc\ntickets/*.md -merge")
    assert ensure_gitattributes(tmp_path) is True
    assert path.read_text() == (
        "*.png binary\ntickets/*.md merge=esc\ntickets/*.md -merge\n" + GITATTRIBUTES
    )
    assert gitattributes_route_tickets(tmp_path)


def test_an_empty_gitattributes_gets_the_line_with_nothing_before_it(tmp_path: Path) -> None:
    (tmp_path / ".gitattributes").write_text("")
    assert gitattributes_text(tmp_path) == GITATTRIBUTES


def test_a_crlf_gitattributes_keeps_its_line_endings(tmp_path: Path) -> None:
    path = tmp_path / ".gitattributes"
    path.write_bytes(b"*.png binary\r\n*.md text")
    assert ensure_gitattributes(tmp_path) is True
    data = path.read_bytes()
    assert data == b"*.png binary\r\n*.md text\r\n" + GITATTRIBUTES.replace("\n", "\r\n").encode()
    assert b"\n" not in data.replace(b"\r\n", b"")  # no bare LF
    assert ensure_gitattributes(tmp_path) is False


def test_a_gitattributes_that_is_not_utf8_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / ".gitattributes"
    path.write_bytes(b"*.png binary\n\xff\n")
    with pytest.raises(EscError, match=r"^\.gitattributes:2: not UTF-8 text"):
        ensure_gitattributes(tmp_path)
    assert path.read_bytes() == b"*.png binary\n\xff\n"
    assert gitattributes_route_tickets(tmp_path) is False


def test_a_gitattributes_that_cannot_be_read_or_written_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".gitattributes").mkdir()
    said = r"^cannot read .*\.gitattributes: a directory, not a regular file$"
    with pytest.raises(EscError, match=said):
        gitattributes_text(tmp_path)
    assert gitattributes_route_tickets(tmp_path) is False
    with pytest.raises(EscError, match=r"^cannot write .*missing.*\.gitattributes: "):
        write_gitattributes(tmp_path / "missing", GITATTRIBUTES)


def test_gitattributes_route_tickets_of_a_folder_without_one_is_false(tmp_path: Path) -> None:
    assert gitattributes_route_tickets(tmp_path) is False


# ---------------------------------------------------------------- the driver in a clone


def test_configure_git_registers_this_esc_as_the_driver(repo: Path) -> None:
    assert configured_driver(repo) is None
    configure_git(repo)
    assert git(repo, "config", "--local", "merge.esc.name") == f"{DRIVER_NAME}\n"
    assert git(repo, "config", "--local", "merge.esc.driver") == (
        launch.merge_driver_command() + "\n"
    )
    assert configured_driver(repo) == launch.merge_driver_command()
    # (the common ancestors of a criss-cross merge: one taken whole, never esc's markers)
    assert git(repo, "config", "--local", "merge.esc.recursive") == "binary\n"
    configure_git(repo)  # again: the same, once
    assert git(repo, "config", "--local", "--get-all", "merge.esc.driver").count("\n") == 1


def test_configure_git_outside_a_repository_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EscError, match=r"^git config merge\.esc\.name failed: "):
        configure_git(tmp_path)
    assert configured_driver(tmp_path) is None


def test_a_clone_lacks_the_driver_until_it_is_configured(repo: Path) -> None:
    assert clone_lacks_driver(repo) is True
    (repo / "tickets").mkdir()
    assert clone_lacks_driver(repo / "tickets") is False  # (no .gitattributes there)
    configure_git(repo)
    assert clone_lacks_driver(repo) is False


def test_no_driver_is_lacking_where_tickets_are_not_sent_to_it(repo: Path) -> None:
    (repo / ".gitattributes").write_text("tickets/*.md merge=union\n")
    assert clone_lacks_driver(repo) is False
    (repo / ".gitattributes").unlink()
    assert clone_lacks_driver(repo) is False


def test_no_driver_is_lacking_outside_a_repository(tmp_path: Path) -> None:
    (tmp_path / ".gitattributes").write_text(GITATTRIBUTES)
    assert clone_lacks_driver(tmp_path) is False


def test_a_driver_in_the_global_config_is_found_by_asking_git(repo: Path) -> None:
    global_config = Path(os.environ["GIT_CONFIG_GLOBAL"])
    global_config.write_text('[merge "esc"]\n\tname = esc\n\tdriver = esc merge-file %O %A %B\n')
    assert clone_lacks_driver(repo) is False
    assert configured_driver(repo) == "esc merge-file %O %A %B"


def test_a_section_without_a_driver_line_is_still_lacking(repo: Path) -> None:
    with (repo / ".git" / "config").open("a") as config:
        config.write('[merge "esc"]\n\tname = esc ticket merge\n[merge "other"]\n\tdriver = x\n')
    assert clone_lacks_driver(repo) is True


def test_a_linked_worktree_finds_the_driver_of_its_repository(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    worktree = repo.parent / "worktree"
    git(repo, "worktree", "add", "-q", str(worktree))
    (worktree / ".gitattributes").write_text(GITATTRIBUTES)
    assert (worktree / ".git").is_file()
    assert clone_lacks_driver(worktree) is True
    configure_git(repo)
    assert clone_lacks_driver(worktree) is False


# ---------------------------------------------------------------- driver_fails


def test_a_program_that_says_it_is_esc_does_not_fail(tmp_path: Path) -> None:
    ok = script(tmp_path, "esc-ok", 'test "$1" = --version && echo "esc, version 9.9"\n')
    assert driver_fails([str(ok)]) is None


def test_the_registered_driver_runs_this_esc() -> None:
    words = shlex.split(launch.merge_driver_command())
    assert words[-5:] == ["merge-file", "%O", "%A", "%B", "%P"]
    assert driver_fails(words[:-5]) is None


def test_a_program_that_fails_says_how_with_its_last_line(tmp_path: Path) -> None:
    broken = script(
        tmp_path,
        "python",
        "echo 'Traceback (most recent call last):' >&2\n"
        "echo \"ModuleNotFoundError: No module named 'esc'\" >&2\nexit 1\n",
    )
    assert driver_fails([str(broken), "-m", "esc"]) == (
        f"`{broken} -m esc --version` exits 1: ModuleNotFoundError: No module named 'esc'"
    )


def test_a_program_that_runs_but_is_not_esc_fails(tmp_path: Path) -> None:
    other = script(tmp_path, "other", "echo 'Python 3.11.7'\n")
    assert driver_fails([str(other)]) == f"`{other} --version` exits 0: Python 3.11.7"
    silent = script(tmp_path, "silent", "exit 3\n")
    assert driver_fails([str(silent)]) == f"`{silent} --version` exits 3"


def test_a_program_that_cannot_be_run_fails(tmp_path: Path) -> None:
    said = driver_fails([str(tmp_path / "gone" / "python"), "-m", "esc"])
    assert said is not None and said.startswith("cannot run it: ")
    assert "No such file or directory" in said


def test_the_program_runs_without_this_shells_pythonpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs = script(
        tmp_path,
        "needs-pythonpath",
        'if [ -n "$PYTHONPATH" ]; then echo esc; else echo "no module esc" >&2; exit 1; fi\n',
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert driver_fails([str(needs)]) == f"`{needs} --version` exits 1: no module esc"
