"""The session every command runs in: --now / ESC_NOW."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from esc.commands.session import Session, resolve_now
from esc.commands.ticket import comment
from esc.domain import timestamps
from esc.domain.errors import BadInput
from tests.conftest import Esc


@pytest.mark.parametrize(
    "text", ["2026-11-27T09:00:00+01:00", "2026-07-01T12:30:00+02:00", "2026-11-27T08:00:00Z"]
)
def test_now_keeps_its_instant_and_offset_in_the_shared_zone(text: str) -> None:
    now = resolve_now(text)
    parsed = timestamps.parse_timestamp(text)
    assert now == parsed and now.utcoffset() == parsed.utcoffset()
    assert timestamps.format_timestamp(now) == timestamps.format_timestamp(parsed)
    offset = now.utcoffset()
    assert offset is not None
    assert now.tzinfo is timestamps.zone_of(int(offset.total_seconds()))


def test_now_without_an_offset_is_this_machines_local_time() -> None:
    """As `date -d` and git read it; the clock (no --now) is local time too."""
    local = dt.datetime(2026, 11, 27, 9, 0).astimezone()
    for given in ("2026-11-27T09:00:00", "2026-11-27T09:00", "2026-11-27 09:00:00"):
        now = resolve_now(given)
        assert now == local and now.utcoffset() == local.utcoffset()
    with pytest.raises(BadInput, match="is not an ISO-8601 timestamp"):
        resolve_now("27/11/2026 09:00")


@pytest.mark.parametrize(
    "given",
    ["2027-01-01T10:00:00.5+01:00", "2027-01-01T09:00:00,5Z", "2027-01-01T14:30:00.999999+05:30"],
)
def test_now_with_a_fraction_of_a_second_is_taken_to_the_second_and_writes(
    given: str, workspace: Path
) -> None:
    """`--now "$(date -Ins)"`: esc's times are whole seconds, as the clock's; a command
    given one writes its ticket (the fraction once made the edit refused)."""
    whole = given.replace(",", ".").split(".")[0]
    assert resolve_now(given) == resolve_now(whole + ("Z" if given.endswith("Z") else given[-6:]))
    esc = Esc(workspace)
    ticket = esc.ok("create", "--title", "x", "--category", "billing", now=given).strip()
    assert esc("comment", ticket, "-m", "hello", now=given).code == 0
    assert esc("sweep", "--no-notify", now=given).code == 0


def test_now_with_an_offset_in_seconds_is_refused() -> None:
    with pytest.raises(BadInput, match=r"--now .* has an offset with seconds"):
        resolve_now("2027-01-02T10:00:00+01:00:30")


def test_now_out_of_range_is_refused() -> None:
    with pytest.raises(BadInput, match="--now"):
        resolve_now("0001-01-01T00:00:00+00:00")



def test_on_the_clock_a_change_is_made_when_the_ticket_s_lock_is_held(
    workspace: Path,
) -> None:
    """No --now: a command read the clock (09:00:07), then waited while another command
    wrote the ticket at 09:00:08; it was refused as "before" that write.  Its change is
    made at the time it holds the lock (09:00:09), after the write it waited for.  (The
    clock is the session's: given here, never the machine's.)"""
    esc = Esc(workspace)
    ticket = esc.ok("create", "--title", "Card declined", now="2026-11-20T09:00:05+01:00")
    ticket = ticket.strip()
    zone = dt.timezone(dt.timedelta(hours=1))
    times = iter([dt.datetime(2026, 11, 20, 9, 0, s, tzinfo=zone) for s in (7, 9)])
    late = Session(root_option=str(workspace), clock=lambda: next(times))
    assert late.now.second == 7  # (read before the wait)
    esc.ok("comment", ticket, "--internal", "-m", "first", now="2026-11-20T09:00:08+01:00")
    output = comment(late, ticket, "mine", "note", "ann", False)
    assert output.code == 0
    shown = json.loads(esc.ok("show", ticket, "--json"))
    assert shown["updated"] == "2026-11-20T09:00:09+01:00"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Evil\x1b]0;x\x07", "'Evil\\x1b]0;x\\x07' is no name: it has the control character"),
        ("esc", "'esc' is no person's name: it names esc's own sweep"),
        # (the identity doctor gives the cron clone: a person's note there was the sweep's)
        ("esc sweep", "'esc sweep' is no person's name: it names esc's own sweep"),
        ("-x", "'-x' is no name: it starts with '-'"),
        ("Esc  Sweep", "'Esc  Sweep' is no person's name: it names esc's own sweep"),
        ("rule:night", "'rule:night' is no person's name: it names a rule"),
        ("a · b", "'a · b' is no name: it has ' · '"),
    ],
)
def test_a_git_user_name_esc_cannot_write_is_refused_as_esc_user_is(
    esc: Esc, monkeypatch: pytest.MonkeyPatch, name: str, why: str
) -> None:
    """`git config user.name` skipped the checks --by and ESC_USER get: its ESC and BEL went
    into the activity line, and `esc` logged a person's action as the sweep's (issue 20)."""
    import subprocess

    monkeypatch.delenv("ESC_USER")
    subprocess.run(["git", "init", "-q", str(esc.cwd)], check=True)
    subprocess.run(["git", "-C", str(esc.cwd), "config", "user.name", name], check=True)
    result = esc("create", "--title", "t", "--body", "x")
    assert result.code == 2
    assert result.err.startswith(f"esc: git config user.name {why}")
    assert result.err.endswith("; give another with --by NAME or ESC_USER\n")
    assert result.err.count("\n") == 1
    assert list((esc.cwd / "tickets").glob("*.md")) == []
    assert esc("create", "--title", "t", "--body", "x", env={"ESC_USER": "bob"}).code == 0
