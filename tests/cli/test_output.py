"""Printing what a command gives back: nothing for a person carries a terminal's control
sequences from a ticket file, the configuration or an option (issue 20), JSON and the
machine formats stay exact, and `list --json` streams its array one ticket per line."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ESC, NOW, Esc

# What a hostile ticket can hold: a window title (OSC), a screen clear (CSI), a link, a C1
# CSI, DEL and a bidi override.
OSC = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\"
HOSTILE = f"{OSC}Refund{CLEAR}{LINK}\x9b31m\x7f\u202egpj.exe"
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_ticket(esc: Esc) -> str:
    """A ticket whose title, customer, description and a comment hold control sequences (the title
    and customer written into its file by hand, as a script or a mail gateway might)."""
    ticket = esc.ok("create", "--title", "Refund", "--body", f"body {CLEAR}").strip()
    esc.ok("comment", ticket, "-m", f"reply {OSC}{LINK}")
    path = esc.cwd / "tickets" / f"{ticket}.md"
    quoted = json.dumps(HOSTILE)  # (a YAML double-quoted scalar takes JSON's escapes)
    text = path.read_text().replace("title: Refund\n", f"title: {quoted}\n", 1)
    path.write_text(text.replace("customer: null\n", f"customer: {json.dumps(OSC + 'x')}\n"))
    return ticket


def assert_safe(text: str) -> None:
    found = UNSAFE.findall(text)
    assert not found, f"control characters reach the terminal: {found!r} in {text!r}"


def test_list_and_show_escape_what_a_ticket_file_holds(esc: Esc) -> None:
    ticket = hostile_ticket(esc)
    listed = esc.ok("list", env={"COLUMNS": "120"})  # (the title column then starts so)
    assert_safe(listed)
    row = next(line for line in listed.splitlines() if line.startswith(ticket))
    assert "  \\x1b]0;pwned\\x07Refund\\x1b[2J\\x1b[H\\x1b]8;;https://ev" in row
    shown = esc.ok("show", ticket)
    assert_safe(shown)
    assert f"{ticket}  \\x1b]0;pwned\\x07Refund\\x1b[2J" in shown
    assert "  customer       \\x1b]0;pwned\\x07x via -" in shown
    assert "    reply \\x1b]0;pwned\\x07\\x1b]8;;https://evil.example\\x1b\\here" in shown
    assert "    body \\x1b[2J\\x1b[H" in shown


def test_json_stays_exact(esc: Esc) -> None:
    ticket = hostile_ticket(esc)
    data = json.loads(esc.ok("show", "--json", ticket))
    assert data["title"] == HOSTILE
    assert data["conversation"][0]["text"] == f"reply {OSC}{LINK}"
    assert json.loads(esc.ok("list", "--json"))[0]["title"] == HOSTILE


def test_every_command_reading_tickets_escapes_them(esc: Esc) -> None:
    ticket = hostile_ticket(esc)
    esc.ok("escalate", ticket, "--up", "--reason", f"stuck {CLEAR}")
    for args in (
        ["log", ticket],
        ["explain", ticket],
        ["check", "--fail-on", "warning"],
        ["check", "--format", "github"],
        ["upcoming", "--within", "30d"],
        ["report"],
        ["sweep", "--dry-run"],
    ):
        result = esc(*args, now="2026-12-30T10:00:00+01:00")
        assert result.code in (0, 1), (args, result.err)
        assert_safe(result.out + result.err)


def test_a_line_break_in_a_title_is_shown_escaped_where_a_title_is_one_line(esc: Esc) -> None:
    """A hand-edited title with a line break printed a forged line in `check` (`0 of 2
    active tickets overdue`), and split the rows of `upcoming` and the head of `explain`
    (`list` and `show` escaped it): `\\n` and `\\t` there too."""
    ticket = esc.ok("create", "--title", "Checkout 500", "--body", "x").strip()
    path = esc.cwd / "tickets" / f"{ticket}.md"
    forged = "Checkout 500\n0 of 9 active tickets overdue\tX"
    path.write_text(path.read_text().replace("title: Checkout 500\n",
                                             f"title: {json.dumps(forged)}\n"))  # fmt: skip
    shown = "Checkout 500\\n0 of 9 active tickets overdue\\tX"
    soon, later = "2026-11-20T11:00:00+01:00", "2026-12-30T10:00:00+01:00"
    for args, now in ((["check"], later), (["upcoming"], soon), (["explain", ticket], later)):
        out = esc(*args, now=now).out
        assert shown in out, (args, out)
        assert not [line for line in out.splitlines() if line.startswith("0 of 9")], args


def test_a_markdown_report_written_to_a_file_holds_no_control_sequence(esc: Esc) -> None:
    """`report > a.md` was escaped, `report --out b.md` and the sweep's reports/summary.md
    held the raw sequences, which a later `cat` obeyed."""
    hostile_ticket(esc)
    later = "2026-12-30T10:00:00+01:00"
    esc.ok("report", "--out", "b.md", now=later)
    esc.ok("sweep", "--no-notify", now=later)
    for name in ("b.md", "reports/summary.md"):
        text = (esc.cwd / name).read_text()
        assert_safe(text)
        assert "\\x1b" in text, name


def test_an_error_quoting_a_value_escapes_it(esc: Esc) -> None:
    for args in (
        ["show", f"T-{CLEAR}"],
        ["list", "--status", OSC],
        ["list", "--team", OSC],
        [f"{CLEAR}x"],
        ["comment", f"T-{OSC}", "-m", "hi"],
    ):
        result = esc(*args)
        assert result.code in (1, 2), (args, result)
        assert result.err.strip(), args
        assert_safe(result.err)
    assert esc("show", f"T-{CLEAR}").err == "esc: no ticket 'T-\\x1b[2J\\x1b[H'\n"


def test_a_broken_file_is_reported_with_its_values_escaped(esc: Esc) -> None:
    bad = esc.cwd / "tickets" / "T-badbad00.md"
    bad.write_text("---\nid: T-badbad00\ntitle: [\x1b]0;x\x07\n---\n")
    bad.with_name("T-\x1b[2J.md").write_text("---\n: : :\n---\n")
    result = esc("validate")
    assert result.code == 1
    assert "tickets/T-\\x1b[2J.md:1: id is missing\n" in result.err
    assert_safe(result.out + result.err)


def test_machine_formats_are_printed_exactly(esc: Esc) -> None:
    hostile_ticket(esc)
    report = json.loads(esc.ok("report", "--format", "json"))
    assert isinstance(report, dict)
    checked = esc("check", "--format", "json", now="2026-12-30T10:00:00+01:00")
    assert json.loads(checked.out)["tickets"][0]["title"] == HOSTILE


SURROGATE_FIELDS = ["created", "updated", "first_response_at", "resolved_at", "closed_at", "id"]


@pytest.mark.parametrize("key", SURROGATE_FIELDS)
def test_a_lone_surrogate_in_a_finding_is_shown_escaped(esc: Esc, key: str) -> None:
    """`created: "\\ud800"` made validate and check end in an internal error (exit 3): the
    finding quoted the raw value, which no terminal can be sent (issue 20)."""
    ticket = esc.ok("create", "--title", "Refund", "--body", "x").strip()
    path = esc.cwd / "tickets" / f"{ticket}.md"
    text = re.sub(f"(?m)^{key}: .*$", f'{key}: "\\\\ud800"', path.read_text(), count=1)
    path.write_text(text)
    for args in (("validate",), ("check",), ("check", "--format", "junit"), ("list",)):
        result = esc(*args)
        assert result.code == 1, (args, result.err)
        shown = result.out + result.err
        shown.encode("utf-8")  # (what a terminal, a pipe or a file can take)
        assert "\\ud800" in shown, args
    found = json.loads(esc("check", "--format", "json").out.encode("utf-8"))["broken"]
    assert "\\ud800" in found[0]["message"]
    assert path.read_text() == text


def test_a_lone_surrogate_in_a_finding_reaches_a_real_terminal(esc: Esc) -> None:
    ticket = esc.ok("create", "--title", "Refund", "--body", "x").strip()
    path = esc.cwd / "tickets" / f"{ticket}.md"
    path.write_text(re.sub("(?m)^created: .*$", 'created: "\\\\ud800"', path.read_text()))
    done = _esc(esc.cwd, "validate", stdout=subprocess.PIPE)
    assert done.returncode == 1, done.stderr
    assert f"tickets/{ticket}.md:11: created \\ud800 is not a timestamp" in done.stderr
    assert done.stdout == "" and done.stderr.endswith("\n2 problem(s)\n")


# ---------------------------------------------------------------- output that cannot be written


def _esc(root: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``esc ARGS`` as its own process, with its standard streams as given."""
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        [ESC, "--now", NOW, *args], cwd=root, text=True, timeout=60, check=False, **kwargs
    )


def _shell(root: Path, line: str) -> subprocess.CompletedProcess[str]:
    """``line`` in sh, where ``esc`` is this esc (for redirections Python cannot make)."""
    return subprocess.run(
        ["sh", "-c", line],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ESC": ESC, "ESC_NOW": NOW},
    )


def test_stdout_on_a_full_device_is_one_line_and_exit_1(esc: Esc) -> None:
    ticket = esc.ok("create", "--title", "Checkout fails", "--body", "x").strip()
    with open("/dev/full", "w") as full:
        for args in (
            ["list"], ["show", "--json", ticket], ["report"], ["--help"], ["list", "--help"]
        ):  # (help too: click writes it)
            proc = _esc(esc.cwd, *args, stdout=full)
            assert (proc.returncode, proc.stderr) == (
                1,
                "esc: cannot write the output: No space left on device\n",
            ), args
        for group in ([], ["kb"], ["notify"]):  # (alone, each prints its help: that was a
            # traceback, exit 1; audit helper-430)
            proc = subprocess.run([ESC, *group], cwd=esc.cwd, stdout=full, stderr=subprocess.PIPE,
                                  text=True, timeout=60, check=False)  # fmt: skip
            assert (proc.returncode, proc.stderr) == (
                1, "esc: cannot write the output: No space left on device\n"
            ), group
        proc = _esc(esc.cwd, "comment", ticket, "-m", "We are on it", stdout=full)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "We are on it" in esc.ok("show", ticket)  # (the work was done; printing failed)


def test_stdout_closed_is_refused_in_one_line(esc: Esc) -> None:
    ticket = esc.ok("create", "--title", "Checkout fails", "--body", "x").strip()
    before = (esc.cwd / "tickets" / f"{ticket}.md").read_bytes()
    for line in ('"$ESC" list >&-', f'"$ESC" comment {ticket} -m hi >&-'):
        proc = _shell(esc.cwd, line)
        assert (proc.returncode, proc.stderr) == (
            1,
            "esc: standard output is closed; nothing was done (send it to /dev/null instead)\n",
        ), line
    assert (esc.cwd / "tickets" / f"{ticket}.md").read_bytes() == before
    both = _shell(esc.cwd, '"$ESC" list >&- 2>&-; echo "exit $?"')  # (nowhere to say it)
    assert (both.stdout, both.stderr) == ("exit 1\n", "")
    no_stdin = _shell(esc.cwd, '"$ESC" create --title "From cron" --body - <&-')
    assert no_stdin.returncode == 0 and no_stdin.stdout.startswith("T-"), no_stdin


def test_a_reader_that_goes_away_ends_esc_quietly_with_its_own_exit_code(esc: Esc) -> None:
    """`esc list | head -1`: the rest is not printed, nothing is said, the exit code is
    the command's (0 for a list, 1 for a check that finds overdue tickets)."""
    for n in range(3):
        esc.ok("create", "--title", f"Ticket {n}", "--body", "x")
    for args, code in ((["list"], 0), (["list", "--json"], 0), (["check"], 1)):
        proc = subprocess.Popen(
            [ESC, "--now", "2026-12-30T10:00:00+01:00", *args],
            cwd=esc.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before esc writes a byte
        assert (proc.wait(timeout=60), proc.stderr.read()) == (code, b""), args
        proc.stderr.close()
    piped = _shell(esc.cwd, '"$ESC" list | head -1')
    assert piped.stdout.startswith("ID ") and piped.stderr == ""


def test_list_json_is_an_array_written_one_ticket_per_line(esc: Esc) -> None:
    first = esc.ok("create", "--title", "Invoice missing", "--category", "billing").strip()
    second = esc.ok("create", "--title", "Café — 500 errors", "--category", "outage").strip()
    out = esc.ok("list", "--json")
    lines = out.split("\n")
    assert lines[0] == "[" and lines[-2:] == ["]", ""]
    items = [json.loads(line.removesuffix(",")) for line in lines[1:-2]]
    assert sorted(i["id"] for i in items) == sorted([first, second])
    assert json.loads(out) == items
    assert "Café — 500 errors" in out  # not escaped to \\u sequences
    assert {"sla", "next_sla", "level", "title"} <= set(items[0])


def test_list_json_with_no_ticket_is_an_empty_array(esc: Esc) -> None:
    assert esc.ok("list", "--json") == "[]\n"
