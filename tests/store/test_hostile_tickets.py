"""Broken and hostile ticket files beside good ones (issue 14, section 7).

Each kind of broken file is put in tickets/ next to two good tickets, and every command
that reads or writes tickets is run on the workspace in process: none may end in an
internal error or a traceback, each names the broken file in one ``path:line: message``
(or ``path: message``) line, the broken file is left byte for byte as it was, and the good
tickets are still listed, checked, reported, exported and swept.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Esc, Result

BROKEN_ID = "T-hhhhhhhh"
BROKEN = f"tickets/{BROKEN_ID}.md"
CREATED = "2026-11-20T09:00:00+01:00"

GOOD_FRONT = f"""\
id: {BROKEN_ID}
title: A ticket someone edited by hand
status: open
priority: normal
category: billing
team: support
assignee: null
customer: jane@shop.example
channel: email
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:00:00+01:00
tags: []
escalations: []
"""
GOOD_BODY = """
The description.

## Activity

- 2026-11-20T09:00:00+01:00 · alice · created
"""


def ticket(front: str = GOOD_FRONT, body: str = GOOD_BODY) -> bytes:
    return f"---\n{front}---\n{body}".encode()


def replace(key: str, line: str) -> bytes:
    """The good hand-written ticket with the line of ``key`` replaced by ``line``."""
    lines = [line if row.startswith(f"{key}:") else row for row in GOOD_FRONT.splitlines()]
    assert lines != GOOD_FRONT.splitlines(), key
    return ticket("\n".join(lines) + "\n")


def add(line: str) -> bytes:
    return ticket(GOOD_FRONT + line + "\n")


def entry_at(when: str) -> bytes:
    """The good ticket with a reply written at ``when`` (as the heading of its entry)."""
    return ticket(
        body=f"\nText.\n\n## Conversation\n\n### {when} · alice · reply (public)\n\nHello.\n\n"
        "## Activity\n\n- 2026-11-20T09:00:00+01:00 · alice · created\n"
    )


def log_at(when: str) -> bytes:
    """The good ticket with a status change logged at ``when`` (a pause the SLAs read)."""
    return ticket(body=GOOD_BODY + f"- {when} · alice · status: open → pending\n")


def alias_bomb() -> bytes:
    rows = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 10):
        rows.append(f"lol{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return add("\n".join(rows))


# What a broken file holds, and a word the message about it must contain.
BYTES_CASES: dict[str, tuple[bytes, str]] = {
    "alias bomb": (alias_bomb(), "alias"),
    "many aliases": (add("a: &a x\nb: [" + ", ".join(["*a"] * 500) + "]"), "alias"),
    "deep nesting": (add("deep: " + "[" * 3000 + "]" * 3000), "nested"),
    "huge front-matter": (add("big: " + "x" * 1_100_000), "too large"),
    "escalations text": (replace("escalations", 'escalations: "text"'), "escalations"),
    "escalation not a mapping": (replace("escalations", "escalations: [text]"), "escalation"),
    "escalation without at": (
        replace("escalations", "escalations:\n  - {kind: functional, to: engineering}"),
        "escalation 1",
    ),
    "escalation kind unknown": (
        replace(
            "escalations",
            "escalations:\n  - {at: 2026-11-20T09:30:00+01:00, kind: sideways, to: x}",
        ),
        "kind",
    ),
    "escalation at out of range": (
        replace(
            "escalations",
            "escalations:\n  - {at: 9999-12-31T23:59:59-01:00, kind: functional, "
            "from: support, to: engineering, by: alice, reason: x}",
        ),
        "out of range",
    ),
    "tags text": (replace("tags", 'tags: "x"'), "tags"),
    "tags numbers": (replace("tags", "tags: [1, 2]"), "tags"),
    "tags mappings": (replace("tags", "tags: [{a: b}]"), "tags"),
    "an ordered map keyed by a list": (add("x: !!omap [{[1]: 2}]"), "cannot be read"),
    "an ordered map with a key twice": (  # (ruamel.yaml asserted: exit 3, audit helper-389)
        add("x: !!omap [a: 1, a: 2]"),
        'an ordered map (!!omap) gives key "a" twice',
    ),
    "an ordered map, deep, with a key twice": (
        add("x: {y: [!!omap [a: [1], b: 2, a: [2]]]}"),
        'an ordered map (!!omap) gives key "a" twice',
    ),
    "tag with a comma": (replace("tags", 'tags: ["a,b"]'), "comma"),
    "created too early": (replace("created", "created: 0001-01-01T00:00:00+14:00"), "range"),
    "created too late": (replace("created", "created: 9999-12-31T23:59:59-01:00"), "range"),
    "updated too late": (replace("updated", "updated: 9999-12-31T23:59:59-01:00"), "range"),
    "first response too early": (add("first_response_at: 0001-01-01T00:00:00+14:00"), "range"),
    "sla due too late": (
        add("sla:\n  policy: standard\n  resolution: {due: 9999-12-31T23:59:59-01:00, state: ok}"),
        "range",
    ),
    "fired too early": (add("fired:\n  some-rule: 0001-01-01T00:00:00+14:00"), "range"),
    "entry heading out of range": (
        ticket(
            body="\nText.\n\n## Conversation\n\n### 9999-12-31T23:59:59-01:00 · alice · reply"
            " (public)\n\nHello.\n\n## Activity\n\n- 2026-11-20T09:00:00+01:00 · alice · created\n"
        ),
        "range",
    ),
    "activity out of range": (
        ticket(body="\nText.\n\n## Activity\n\n- 0001-01-01T00:00:00+14:00 · alice · created\n"),
        "range",
    ),
    # Issue 20: an entry or log line whose time does not read is a problem, never skipped.
    "entry on February 30": (entry_at("2026-02-30T09:30:00+01:00"), "day is out of range"),
    "entry at hour 25": (entry_at("2026-11-20T25:00:00+01:00"), "hour must be"),
    "entry without zone": (entry_at("2026-11-20T09:30:00"), "no time zone"),
    "entry yesterday": (entry_at("yesterday"), "conversation entry time"),
    "activity without zone": (log_at("2026-11-20T09:30:00"), "activity line time"),
    "activity on February 30": (log_at("2026-02-30T09:30:00+01:00"), "day is out of range"),
    "activity in CRLF file": (
        log_at("2026-11-20T09:30:00").replace(b"\n", b"\r\n"), "no time zone"
    ),
    "created not a time": (replace("created", "created: yesterday"), "created"),
    "created without zone": (replace("created", "created: 2026-11-20T09:00:00"), "created"),
    "created a day": (replace("created", "created: 2026-11-20"), "created"),
    "created on February 30": (replace("created", "created: 2026-02-30T09:00:00Z"), "2026-02-30"),
    "created missing": (replace("created", "# no created"), "created is missing"),
    "id missing": (replace("id", "# no id"), "id is missing"),
    "id of another file": (replace("id", "id: T-jjjjjjjj"), "does not match"),
    "status in-progress": (replace("status", "status: in-progress"), "in-progress"),
    "status a number": (replace("status", "status: 5"), "status"),
    "status null": (replace("status", "status: null"), "status is missing"),
    "title a list": (replace("title", "title: [a, b]"), "title"),
    "assignee a mapping": (replace("assignee", "assignee: {a: b}"), "assignee"),
    "priority a list": (replace("priority", "priority: [high]"), "priority"),
    "csat out of range": (add("csat: 9"), "csat"),
    "csat text": (add("csat: five"), "csat"),
    "csat float": (add("csat: 4.5"), "csat"),
    "sla not a mapping": (add('sla: "text"'), "sla"),
    "sla checked not a time": (add("sla:\n  policy: standard\n  checked: soon"), "sla"),
    "fired a list": (add("fired: [a, b]"), "fired"),
    "fired not a time": (add("fired:\n  some-rule: soon"), "fired"),
    "conflict in front-matter": (
        ticket(GOOD_FRONT.replace(
            "assignee: null\n",
            "<<<<<<< ours\nassignee: dan\n=======\nassignee: erin\n>>>>>>> theirs\n",
        )),
        "merge conflict",
    ),
    "conflict in body": (
        ticket(body="\n<<<<<<< ours\nOne text.\n=======\nAnother.\n>>>>>>> theirs\n"),
        "merge conflict",
    ),
    "not UTF-8": (ticket().replace(b"hand", b"h\xe4nd"), "UTF-8"),
    "NUL byte": (ticket().replace(b"hand", b"h\x00nd"), "parse"),
    "byte order mark": (b"\xef\xbb\xbf" + ticket(), "front-matter"),
    "empty file": (b"", "the file is empty"),
    "no front-matter": (b"Just text.\n", "no front-matter"),
    "front-matter not closed": (b"---\n" + GOOD_FRONT.encode(), "not closed"),
    "front-matter empty": (b"---\n---\n", "mapping"),
    "front-matter a list": (b"---\n- a\n- b\n---\n", "mapping"),
    "front-matter a scalar": (b"---\njust words\n---\n", "mapping"),
    "duplicate key": (add("status: closed"), "duplicate"),
    "tab indentation": (add("sla:\n\tpolicy: standard"), "parse"),
    "python tag": (add("x: !!python/object:os.system {}"), "parse"),
    "binary value": (add("x: !!binary aGVsbG8="), "bytes"),
    "set value": (add("x: !!set {a, b}"), "set"),
    "not a number": (add("x: .nan"), "JSON cannot hold"),
    "infinity": (add("x: [-.inf]"), "JSON cannot hold"),
    "complex key": (add("? [a, b]\n: c"), "key"),
    "integer key": (add("1: one"), "key"),
    "date key": (add("x: {2026-11-20: a}"), "x: key 2026-11-20 is not text (quote it)"),
    # (said as YAML writes them, at their own line: not `None` at line 1)
    "null key": (add("~: x"), ":15: key null is not text (quote it)"),
    "boolean key": (add("True: x"), ":15: key true is not text (quote it)"),
    "bad escape": (add('x: "\\q"'), "parse"),
    "unclosed quote": (add('x: "open'), "parse"),
    "unclosed flow": (add("x: [a, b"), "parse"),
    "directive": (ticket("%YAML 1.1\n" + GOOD_FRONT), ":2: front-matter does not parse: %YAML"
                  " 1.1: esc reads every file as YAML 1.2; remove the line"),
}

SPECIAL_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "symlink loop": (lambda p: os.symlink(p.name, p), "symlink"),
    "dangling symlink": (lambda p: os.symlink("T-nowhere.md", p), "symlink"),
    "symlink to a ticket": (lambda p: os.symlink("../elsewhere.md", p), "symlink"),
    "directory": (lambda p: p.mkdir(), "directory"),
}
ALL_CASES = sorted([*BYTES_CASES, *SPECIAL_CASES])


def snapshot(path: Path) -> tuple[object, ...]:
    """What ``path`` is, without following it: kind, link target or content."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return ("dir", sorted(os.listdir(path)))
    return ("file", path.read_bytes())


GOOD: dict[str, bytes] = {}  # (per worker: the two good tickets' files, as created once)


def two_good_tickets(esc: Esc, workspace: Path) -> list[str]:
    """Two good tickets, as `esc create` writes them: created in the worker's first
    workspace, their files copied into the next ones (create writes nothing else)."""
    if not GOOD:
        for title in ("Invoice missing", "Refund please"):
            made = esc.ok("create", "--title", title, "--category", "billing", now=CREATED)
            GOOD[made.strip()] = (workspace / "tickets" / f"{made.strip()}.md").read_bytes()
        assert sorted(p.name for p in workspace.iterdir() if p.name.startswith(".esc")) == [
            ".esc-cache"
        ]  # (but what `esc init` keeps there, the configuration it began with)
        assert [p.name for p in (workspace / ".esc-cache").iterdir()] == ["configs"]
    else:
        for ticket, data in GOOD.items():
            (workspace / "tickets" / f"{ticket}.md").write_bytes(data)
    return list(GOOD)


@pytest.fixture
def hostile(esc: Esc, workspace: Path, request: pytest.FixtureRequest) -> tuple[Path, list[str]]:
    good = two_good_tickets(esc, workspace)
    (workspace / "elsewhere.md").write_bytes(ticket())
    path = workspace / BROKEN
    case = request.param
    if case in BYTES_CASES:
        path.write_bytes(BYTES_CASES[case][0])
    else:
        SPECIAL_CASES[case][0](path)
    return path, good


def expected_word(case: str) -> str:
    return (BYTES_CASES.get(case) or SPECIAL_CASES[case])[1]


def clean(result: Result) -> None:
    """No internal error, no traceback."""
    assert result.code != 3, result.err
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err


def names_broken(result: Result, word: str) -> None:
    """One line names the broken file (``path:line: message`` or ``path: message``)."""
    lines = [
        line
        for line in (result.out + result.err).splitlines()
        if BROKEN in line and (f"{BROKEN}:" in line or f"file={BROKEN}" in line)
    ]
    assert lines, result.out + result.err
    assert any(word.lower() in line.lower() for line in lines), (word, lines)


@pytest.mark.parametrize("hostile", ALL_CASES, indirect=True)
def test_a_broken_ticket_is_a_finding_and_never_stops_the_others(
    hostile: tuple[Path, list[str]], esc: Esc, workspace: Path, request: pytest.FixtureRequest
) -> None:
    path, good = hostile
    case = request.node.callspec.params["hostile"]
    word = expected_word(case)
    before = snapshot(path)

    def run(*args: str, code: int = 1) -> Result:
        result = esc(*args)
        clean(result)
        assert result.code == code, (args, result.code, result.err)
        return result

    listed = run("list", "--all")
    names_broken(listed, word)
    assert all(g in listed.out for g in good)
    names_broken(run("validate"), word)
    names_broken(run("show", BROKEN_ID), word)
    checked = run("check")
    names_broken(checked, word)
    assert "ok:" not in checked.out
    as_json = json.loads(run("check", "--format", "json").out)
    assert as_json["failed"] is True
    assert [b["file"] for b in as_json["broken"]] == [BROKEN]
    github = run("check", "--format", "github")
    annotation = rf"^::error file={re.escape(BROKEN)}(,line=\d+)?::ticket file does not"
    assert re.search(annotation, github.out, re.MULTILINE), github.out
    junit = run("check", "--format", "junit")
    assert f'file="{BROKEN}"' in junit.out and "<error" in junit.out
    names_broken(run("report", "--format", "json"), word)
    exported = run("export", "--csv", str(workspace.parent / "csv"))
    names_broken(exported, word)
    assert "2 tickets" in exported.out
    names_broken(run("comment", BROKEN_ID, "-m", "hello"), word)
    for _ in range(2):
        swept = run("sweep", "--json", "--no-report")
        names_broken(swept, word)
        assert json.loads(swept.out)["seen"] == 2
    for g in good:
        assert "sla:\n  policy:" in (workspace / "tickets" / f"{g}.md").read_text()
    esc.ok("comment", good[0], "-m", "the good tickets still take changes")
    assert snapshot(path) == before


WRITERS = [
    ("comment", "-m", "hello"),
    ("comment", "--internal", "-m", "hello"),
    ("assign", "alice"),
    ("escalate", "--up", "--reason", "why"),
    ("tag", "vip"),
    ("wait", "--reason", "why"),
    ("resume",),
    ("resolve", "--resolution", "done"),
    ("close", "--resolution", "done"),
    ("reopen", "--reason", "again"),
    ("classify", "--priority", "high"),
]


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize(
    "hostile",
    ["status in-progress", "escalations text", "created too late", "tags text", "directory"],
    indirect=True,
)
def test_every_command_that_writes_refuses_a_ticket_that_does_not_validate(
    hostile: tuple[Path, list[str]], esc: Esc, command: tuple[str, ...]
) -> None:
    path, _ = hostile
    before = snapshot(path)
    result = esc(command[0], BROKEN_ID, *command[1:])
    clean(result)
    assert result.code == 1, result.err
    assert result.err.startswith(f"{BROKEN}:"), result.err
    assert len(result.err.splitlines()) == 1
    assert snapshot(path) == before


def test_a_ticket_that_breaks_the_configuration_is_refused_for_writing(
    esc: Esc, workspace: Path
) -> None:
    """An unknown team is found by validate only against teams.yaml: still refused, and a
    sweep reports it as it reports a file that does not parse (exit 1: the ticket's clocks
    and rules are not being swept)."""
    path = workspace / BROKEN
    path.write_bytes(replace("team", "team: nobody"))
    result = esc("comment", BROKEN_ID, "-m", "hello")
    assert result.code == 1
    assert result.err.startswith(f"{BROKEN}:7: unknown team 'nobody'"), result.err
    swept = esc("sweep", "--json", "--no-report")
    clean(swept)
    assert path.read_bytes() == replace("team", "team: nobody")
    assert swept.code == 1
    problem = f"{BROKEN}:7: unknown team 'nobody'; one of support, engineering, management"
    assert json.loads(swept.out)["broken"] == [problem]
    assert swept.err == problem + "\n"
    assert esc("sweep", "--no-report").code == 1  # (and again: never written, never forgotten)


@pytest.mark.parametrize(
    ("shape", "named"),
    [
        ("cache is a file", ".esc-cache"),
        ("locks is a file", ".esc-cache/locks/"),
        ("writes lock is a folder", ".esc-cache/writes.lock: Is a directory"),
        ("rules.yaml is a symlink loop", "rules.yaml: Too many levels of symbolic links"),
    ],
)
def test_esc_s_own_paths_in_the_wrong_shape_are_one_line(
    esc: Esc, workspace: Path, shape: str, named: str
) -> None:
    """A file where esc keeps a folder, a folder where it keeps a file, a symlink that
    loops: one line naming the path, exit 1 (never an internal error), nothing changed."""
    good = two_good_tickets(esc, workspace)
    cache = workspace / ".esc-cache"
    shutil.rmtree(cache, ignore_errors=True)
    if shape == "cache is a file":
        cache.write_text("data\n")
    elif shape == "locks is a file":
        cache.mkdir()
        (cache / "locks").write_text("")
    elif shape == "writes lock is a folder":
        (cache / "writes.lock").mkdir(parents=True)
    else:
        (workspace / "rules.yaml").unlink()
        (workspace / "rules.yaml").symlink_to("rules.yaml")
    before = (workspace / "tickets" / f"{good[0]}.md").read_bytes()
    for command in (("comment", good[0], "-m", "hello"), ("sweep", "--no-report")):
        result = esc(*command)
        clean(result)
        assert result.code == 1, (command, result.err)
        assert result.err.startswith("esc: ") and named in result.err, (command, result.err)
    assert (workspace / "tickets" / f"{good[0]}.md").read_bytes() == before


def test_the_alias_bomb_is_refused_fast(esc: Esc, workspace: Path) -> None:
    import time

    (workspace / BROKEN).write_bytes(alias_bomb())
    start = time.monotonic()
    for command in ("list", "check", "report", "sweep"):
        clean(esc(command))
    assert time.monotonic() - start < 20


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_ticket_hangs_nothing(workspace: Path) -> None:
    """A FIFO would block whoever opens it to read: every command must name it and go on
    (a real process, so that a hang is caught by the timeout)."""
    esc = Esc(workspace, process=True)
    good = esc.ok("create", "--title", "Invoice missing", "--category", "billing").strip()
    fifo = workspace / BROKEN
    os.mkfifo(fifo)
    for args in (
        ("list", "--all"),
        ("show", BROKEN_ID),
        ("validate",),
        ("check",),
        ("report",),
        ("export", "--csv", str(workspace.parent / "csv")),
        ("comment", BROKEN_ID, "-m", "hello"),
        ("sweep", "--no-report"),
        ("sweep", "--no-report"),
    ):
        try:
            result = esc(*args)
        except subprocess.TimeoutExpired:  # pragma: no cover - the bug this guards against
            pytest.fail(f"esc {' '.join(args)} hangs on a FIFO")
        clean(result)
        assert result.code == 1, (args, result.err)
        names_broken(result, "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert good in esc("list").out


# ---------------------------------------------------------------- bad command-line bytes


def shell_arg(raw: bytes) -> str:
    """A command-line argument as Python receives it from a shell: undecodable bytes as
    lone surrogates (surrogateescape)."""
    return os.fsdecode(raw)


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--title", shell_arg(b"caf\xe9"), "--category", "billing"),
        ("create", "--title", "ok", "--body", shell_arg(b"\xff\xfe")),
        ("comment", "{id}", "-m", shell_arg(b"caf\xe9")),
        ("wait", "{id}", "--reason", shell_arg(b"\xe9")),
        ("resolve", "{id}", "--resolution", shell_arg(b"\xe9")),
        ("escalate", "{id}", "--up", "--reason", shell_arg(b"\xe9")),
        ("tag", "{id}", shell_arg(b"v\xe9p")),
        ("assign", "{id}", shell_arg(b"al\xe9"), "--force"),
        ("comment", "{id}", "-m", "x", "--by", shell_arg(b"\xe9")),
    ],
    ids=["create title", "create body", "comment", "wait", "resolve", "escalate", "tag",
         "assign", "comment by"],
)
def test_bytes_that_are_not_utf8_in_arguments_are_a_usage_error(
    esc: Esc, workspace: Path, args: tuple[str, ...]
) -> None:
    ticket_id = esc.ok("create", "--title", "x", "--category", "billing", now=CREATED).strip()
    before = {p.name: p.read_bytes() for p in (workspace / "tickets").iterdir()}
    result = esc(*(a.replace("{id}", ticket_id) for a in args))
    clean(result)
    assert result.code == 2, result.err
    assert len(result.err.splitlines()) == 1
    assert "is not valid UTF-8 text; nothing was done" in result.err
    assert "\\x" in result.err  # the bytes shown as a shell user typed them
    assert {p.name: p.read_bytes() for p in (workspace / "tickets").iterdir()} == before


@pytest.mark.parametrize(
    "args",
    [
        ("--root", "\0", "list"),
        ("init", "a\0b"),
        ("report", "--out", "r\0.html"),
        ("export", "--sqlite", "x\0.db"),
        ("sweep", "--report-dir", "r\0"),
        ("merge-file", "a\0", "b", "c"),
        ("create", "--title", "caf\xe9\0", "--category", "billing"),
    ],
    ids=["root", "init", "report out", "export", "sweep report-dir", "merge-file", "title"],
)
def test_a_nul_byte_in_an_argument_is_a_usage_error(
    esc: Esc, workspace: Path, args: tuple[str, ...]
) -> None:
    """No command line holds one (argv is C strings), but a caller in the same process
    can: every path would fail in the OS (ValueError), so it is refused before anything."""
    before = sorted(p.name for p in workspace.rglob("*"))
    result = esc(*args)
    clean(result)
    assert result.code == 2, result.err
    nul = next(a for a in args if "\0" in a)
    shown = nul.replace("\0", "\\x00")
    assert result.err == f"esc: argument '{shown}' holds a NUL byte; nothing was done\n"
    assert sorted(p.name for p in workspace.rglob("*")) == before


def test_a_real_process_reports_undecodable_arguments_too(workspace: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "esc", "create", "--title", b"caf\xe9", "--category", "billing"],
        cwd=workspace,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert b"not valid UTF-8" in proc.stderr
    assert not list((workspace / "tickets").glob("*.md"))


def test_undecodable_bytes_in_esc_user_are_a_usage_error(esc: Esc, workspace: Path) -> None:
    result = esc("create", "--title", "x", env={"ESC_USER": shell_arg(b"al\xe9")})
    clean(result)
    assert result.code == 2
    assert result.err == "esc: ESC_USER='al\\xe9' is not valid UTF-8 text; nothing was done\n"
    assert not list((workspace / "tickets").glob("*.md"))
