"""Fuzzing the command line (issue 20): hostile values in options, titles, comments, tags and
--now, and hostile ticket files and configuration snippets.  Whatever comes in, esc answers
with an exit code it documents and never with exit 3 (a bug) or a traceback.

Few examples, so the suite stays quick; each runs the real CLI in this process.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Esc, Result, run_in_process

NOW = "2026-11-20T10:00:00+01:00"
LATER = "2026-12-30T10:00:00+01:00"

# Values that have broken command lines, YAML and terminals before.
HOSTILE = [
    "", " ", "-", "--", "-h", "--help", "--now", "T-", "T-*", "*", "?", "..", "../../etc/passwd",
    "/dev/null", "/", "~", "null", "Null", "NULL", "~", "yes", "no", "on", "off", "true", "0",
    "-1", "1e999", "NaN", ".inf", "0x1F", "0o17", "1_000", "12:30", "2026-02-30", "2026-13-01",
    "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
    "2026-11-20T10:00:00", "2026-11-20 10:00", "yesterday", "now", "P1D", "8h", "0m", "-5h",
    "99999999999d", ">=", "<", ">=hgih", "!=", "'", '"', "\\", "`rm -rf /`", "$(id)", "${HOME}",
    "{", "}", "[", "]", "{a: 1}", "[1, 2", "&anchor", "*alias", "!!python/object:os.system",
    "!!binary", "%YAML 1.1", "---", "...", "\n---\n", "- a\n- b", "key: value", "a: b: c",
    "#", "# comment", "a # b", "\t", "\n", "\r\n", "\x00", "\x1b[2J", "\x1b]0;pwned\x07",
    "\x9b31m", "\x7f", "\u202egpj.exe", "\ufeff", "\u2028", "=1+1", "@SUM(A1)", "+1", "é",
    "東京", "🎫", "a" * 5000, "## Conversation", "### 2026-11-20T10:00:00+01:00 · x · reply",
    "<!-- -->", "<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", "%s%s%n", "\\x00",
    '"\\ud800"', '"x\\udfff"', '"\\U0000DC80": 1', "\x07",
]  # fmt: skip

VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=3).map("".join),
)

# Commands that take a value: TICKET stands for a ticket's ID, V for the value.
COMMANDS = [
    ["create", "--title", "V", "--body", "x"],
    ["create", "--title", "t", "--body", "V", "--customer", "V"],
    ["create", "--title", "t", "--body", "x", "--tag", "V", "--category", "V"],
    ["create", "--title", "t", "--body", "x", "--impact", "V", "--urgency", "V"],
    ["comment", "TICKET", "-m", "V"],
    ["comment", "TICKET", "-m", "V", "--from-customer", "--author", "V"],
    ["comment", "V", "-m", "hi"],
    ["tag", "TICKET", "V"],
    ["assign", "TICKET", "V"],
    ["assign", "TICKET", "V", "--force"],
    ["classify", "TICKET", "--category", "V", "--priority", "V"],
    ["escalate", "TICKET", "--to", "V", "--reason", "V"],
    ["escalate", "TICKET", "--priority", "V", "--reason", "x"],
    ["escalate", "TICKET", "--up", "--reason", "V"],
    ["wait", "TICKET", "--reason", "V"],
    ["resolve", "TICKET", "--resolution", "V"],
    ["close", "TICKET", "--resolution", "x", "--feedback", "V"],
    ["reopen", "TICKET", "--reason", "V"],
    ["show", "V"],
    ["log", "V"],
    ["explain", "V"],
    ["list", "--priority", "V"],
    ["list", "--level", "V"],
    ["list", "--sort", "V"],
    ["list", "--team", "V", "--assignee", "V", "--tag", "V"],
    ["upcoming", "--within", "V"],
    ["report", "--since", "V"],
    ["report", "--until", "V", "--team", "V"],
    ["report", "--format", "csv", "--since", "V"],
    ["check", "--format", "V"],
    ["sweep", "--dry-run", "--lock-timeout", "V"],
    ["--now", "V", "list"],
    ["--now", "V", "sweep"],
    ["--now", "V", "create", "--title", "t", "--body", "x"],
    ["--root", "V", "list"],
    ["V"],
    ["list", "V"],
]
INPUT_COMMANDS = [["intake", "--json", "-"], ["comment", "TICKET", "-m", "-"]]

# Reading the workspace: what every hostile file must survive.
READERS = [
    ["list", "--all"],
    ["list", "--json", "--all"],
    ["show", "TICKET"],
    ["show", "--json", "TICKET"],
    ["validate"],
    ["check"],
    ["upcoming"],
    ["report", "--format", "csv"],
    ["report"],
    ["sweep"],
    ["comment", "TICKET", "-m", "still there?"],
    ["export", "--csv", "out"],
]


def assert_no_bug(args: list[str], result: Result) -> None:
    shown = f"esc {args!r} → {result.code}: {result.err[-500:]!r}"
    assert result.code in (0, 1, 2), shown
    assert "Traceback" not in result.err and "internal error" not in result.err, shown
    # (what a terminal, a pipe or a file can take: no lone surrogate, as `"\\ud800"` in a
    # file makes, ever reaches the output; the in-process streams would take one)
    (result.out + result.err).encode("utf-8")


class Desk:
    """A workspace with one ticket, made once per test (the examples share ``tmp_path``)
    and copied afresh for each example."""

    def __init__(self, tmp_path: Path) -> None:
        self.pristine = tmp_path / "pristine"
        self.work = tmp_path / "work"
        if not self.pristine.exists():
            assert run_in_process(["init", str(self.pristine)], tmp_path).code == 0
            made = run_in_process(
                ["--now", NOW, "create", "--title", "Checkout fails", "--body", "Since 08:50"],
                self.pristine,
            )
            assert made.code == 0, made.err
        self.ticket = next((self.pristine / "tickets").glob("T-*.md")).stem

    def fresh(self) -> Esc:
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.pristine, self.work)
        return Esc(self.work, now=LATER)

    def run(self, esc: Esc, template: list[str], value: str, input: str | None = None) -> None:
        args = [self.ticket if a == "TICKET" else value if a == "V" else a for a in template]
        now = None if "--now" in template else LATER
        if now is None:
            esc = Esc(esc.cwd, now=None)
        assert_no_bug(args, esc(*args, input=input))


FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_hostile_values_on_the_command_line_never_end_in_a_bug(
    tmp_path: Path, data: st.DataObject
) -> None:
    desk = Desk(tmp_path)
    esc = desk.fresh()
    for _ in range(3):
        template = data.draw(st.sampled_from(COMMANDS + INPUT_COMMANDS))
        value = data.draw(VALUES)
        stdin = data.draw(VALUES) if template in INPUT_COMMANDS else None
        desk.run(esc, template, value, stdin)


FRONT_KEYS = [
    "id", "title", "status", "priority", "category", "team", "assignee", "customer", "channel",
    "created", "updated", "first_response_at", "resolved_at", "closed_at", "tags", "impact",
    "urgency", "csat", "escalations", "sla", "extra",
]  # fmt: skip


@st.composite
def hostile_ticket(draw: st.DrawFn, text: str) -> str:
    """A ticket file broken in one or two places: a value replaced, a line inserted, the
    file cut short, a byte flipped."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 2))):
        how = draw(st.sampled_from(["value", "line", "cut", "byte"]))
        at = draw(st.integers(0, len(lines) - 1))
        if how == "value":
            key = draw(st.sampled_from(FRONT_KEYS))
            value = draw(VALUES)
            index = next((i for i, ln in enumerate(lines) if ln.startswith(f"{key}:")), None)
            line = f"{key}: {value}"
            if index is None:
                lines.insert(1, line)
            else:
                lines[index] = line
        elif how == "line":
            lines.insert(at, draw(VALUES))
        elif how == "cut":
            lines = lines[: max(at, 1)]
        else:
            line = lines[at]
            if line:
                spot = draw(st.integers(0, len(line) - 1))
                lines[at] = line[:spot] + draw(st.sampled_from(HOSTILE)) + line[spot + 1 :]
    return "\n".join(lines)


@st.composite
def hostile_config(draw: st.DrawFn, text: str) -> str:
    """teams.yaml or rules.yaml with a line replaced, or a snippet appended."""
    lines = text.split("\n")
    at = draw(st.integers(0, len(lines) - 1))
    if draw(st.booleans()):
        key = lines[at].split(":")[0] if ":" in lines[at] else "x"
        lines[at] = f"{key}: {draw(VALUES)}"
    else:
        lines.append(draw(VALUES))
    return "\n".join(lines)


@FUZZ
@given(data=st.data())
def test_hostile_files_never_end_in_a_bug(tmp_path: Path, data: st.DataObject) -> None:
    desk = Desk(tmp_path)
    esc = desk.fresh()
    what = data.draw(st.sampled_from(["ticket", "ticket", "teams.yaml", "rules.yaml"]))
    if what == "ticket":
        path = esc.cwd / "tickets" / f"{desk.ticket}.md"
        path.write_text(data.draw(hostile_ticket(path.read_text())), encoding="utf-8")
    else:
        path = esc.cwd / what
        path.write_text(data.draw(hostile_config(path.read_text())), encoding="utf-8")
    for template in data.draw(st.lists(st.sampled_from(READERS), min_size=2, max_size=4)):
        desk.run(esc, template, "")
