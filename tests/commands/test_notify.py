"""Notifications end to end: a sweep's events reach a real HTTP server on 127.0.0.1 through
apprise's json:// URL, each once; failures are retried later; nothing is lost."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.commands.test_sweep import RULES_LEVELS, make
from tests.conftest import ESC, Esc
from tests.webhook import Hook

NOTIFY = """\
notify:
  link: "https://git.example.com/helpdesk/blob/main/tickets/{id}.md"
  targets:
    eng-chat: "json://127.0.0.1:${HOOK_PORT}/eng"
    support-chat: "json://127.0.0.1:${HOOK_PORT}/support"
  teams:
    engineering: eng-chat
    support: [support-chat]
"""


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    server = Hook()
    monkeypatch.setenv("HOOK_PORT", str(server.port))
    yield server
    server.close()
    server.server.server_close()


def test_an_escalation_is_sent_once_to_the_team_it_lands_on(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    assert esc("validate").code == 0
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    assert hook.posts == []
    # 10:00 warning: support is warned; 11:00 first response breached: the breach escalates
    # to engineering, whose policy has no first response: engineering is told of the
    # escalation, both teams of the breach (issue 3: the breach is logged and told)
    assert "notified: 1 message sent" in esc.ok("sweep", now="2026-11-20T10:30:00+01:00")
    out = esc.ok("sweep", now="2026-11-20T11:30:00+01:00")
    assert "notified: 3 messages sent" in out
    titles = [(p, b["title"].removeprefix(f"[esc] {ticket} ")) for p, b in hook.posts]
    assert sorted(titles[1:]) == [
        ("/eng", "SLA breached: first_response"),
        ("/eng", "escalated support → engineering (hierarchical)"),
        ("/support", "SLA breached: first_response"),
    ]
    (_, warning), *later = hook.messages()
    escalated = next(text for _, text in later if "escalated support" in text)
    # (a breach gives the team that had the ticket as the clock crossed, as the README says)
    breaches = [text for _, text in later if "SLA breached" in text]
    assert len(breaches) == 2 and all("team support, priority normal" in t for t in breaches)
    assert f"{ticket}: Invoice missing" in warning and "SLA warning: first_response" in warning
    assert "escalated support → engineering (hierarchical) by rule:breached-goes-up" in escalated
    assert "at 2026-11-20T11:00:00+01:00" in escalated
    assert "team engineering, priority normal" in escalated
    assert f"https://git.example.com/helpdesk/blob/main/tickets/{ticket}.md" in escalated
    assert "next deadline: 2026-11-20T17:00:00+01:00" in escalated  # level 2: 8h from 09:00
    assert "event " in escalated
    esc.ok("sweep", now="2026-11-20T11:45:00+01:00")
    assert len(hook.posts) == 4  # a second sweep sends nothing new


def test_notify_leaves_a_change_to_the_sweep_when_rules_it_missed_act_before_it(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """The first response breached at 11:00 and no sweep ran: the next sweep escalates the
    ticket to engineering at 11:00.  Alice closes it at 12:00, CSAT 1, with --notify: the
    command told support of the low CSAT (the file's team), and the sweep told engineering
    (the team that had it then), one event to two teams with two stories; without
    --notify, engineering alone.  The command leaves it to the sweep, and says so (audit
    helper-469)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    closed = esc("close", ticket, "--resolution", "fixed", "--csat", "1", "--by", "alice",
                 "--notify", now="2026-11-20T12:00:00+01:00")  # fmt: skip
    assert closed.code == 0
    assert closed.err == (
        f"esc: --notify: rules the sweeps missed act on {ticket} before this change; the next"
        " sweep tells of it with them\n"
    )
    assert hook.posts == []
    esc.ok("sweep", now="2026-11-20T12:30:00+01:00")
    low = [(path, b["title"]) for path, b in hook.posts if "low CSAT" in b["title"]]
    assert low == [("/eng", f"[esc] {ticket} low CSAT 1")]


def test_a_disk_that_fills_while_messages_are_sent_is_told_after_the_summary(
    tmp_path: Path, hook: Hook
) -> None:
    """Issue 20: the disk fills as a sent message's state is kept: the sweep says what it
    did, then one line on what stopped the sending (it said that line alone, with none of
    what it did), exit 1; what is unsent stays queued, and a later sweep sends it."""
    from tests.disks import fill, small_disk

    with small_disk(tmp_path / "disk") as disk:
        root = disk / "ws"
        Esc(tmp_path).ok("init", str(root))
        (root / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
        esc = Esc(root)
        make(esc)
        hook.fail = True  # (the warning's message stays queued, to be tried again)
        esc("sweep", "--no-report", now="2026-11-20T10:30:00+01:00")
        hook.fail = False
        (root / ".esc-cache" / "tickets.sqlite").unlink()  # (none to drop, and free room)
        fill(disk)
        result = esc("sweep", "--no-report", now="2026-11-20T10:40:00+01:00")
        assert result.code == 1
        assert result.out.startswith("1 tickets seen, 0 changed;"), result.out
        assert result.err.splitlines()[-1].startswith(
            "esc: notifications stopped part-way: cannot write .esc-cache/outbox/"
        ), result.err
        assert result.err.splitlines()[-1].endswith(
            ": No space left on device; those not sent stay queued for the next sweep"
        )
        (disk / "filler").unlink()
        esc.ok("sweep", "--no-report", now="2026-11-20T10:50:00+01:00")
        assert [b["title"].split(" ", 2)[2] for _, b in hook.posts][-1] == (
            "SLA warning: first_response"
        )


def test_what_people_are_told_and_the_log_do_not_depend_on_when_sweeps_ran(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """One sweep after the breach told of the breach's escalation alone: the warning it had
    crossed on the way was never sent, its log lines were stamped with the sweep's time,
    and a late warning went to the team the ticket was escalated to later as well. Swept
    every half hour or once, the files say the same (but `checked`), and the same people
    are told the same, stamped when it happened."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    once = tmp_path / "once"
    shutil.copytree(workspace, once)
    for now in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30"):
        esc.ok("sweep", "--no-report", now=f"2026-11-20T{now}:00+01:00")
    often = hook.messages()
    hook.posts.clear()
    Esc(once, now="2026-11-20T11:30:00+01:00").ok("sweep", "--no-report")
    assert hook.messages() == often
    assert sorted(path for path, _ in often) == ["/eng", "/eng", "/support", "/support"]
    (_, warning), *later = often
    escalated = next(text for _, text in later if "escalated support" in text)
    assert sum("SLA breached: first_response" in text for _, text in later) == 2
    assert "SLA warning: first_response by esc at 2026-11-20T10:00:00+01:00" in warning
    # (the team that had it then, and the deadline it warns of)
    assert "team support, priority normal\nnext deadline: 2026-11-20T11:00:00+01:00" in warning
    assert "at 2026-11-20T11:00:00+01:00" in escalated

    def story(root: Path) -> list[str]:
        text = (root / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
        return [line for line in text.splitlines() if not line.startswith("  checked:")]

    assert story(once) == story(workspace)
    assert (
        "- 2026-11-20T10:00:00+01:00 · esc · sla.first_response: ok → warning · due "
        "2026-11-20T11:00:00+01:00"
    ) in story(once)


def test_the_sweep_removes_what_it_sent_a_month_before(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """outbox/sent/ keeps each sent message 30 days (its event is not made again after
    that), then a sweep removes it; --dry-run removes nothing."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    make(esc)
    esc.ok("sweep", now="2026-11-20T10:30:00+01:00")  # the warning, sent
    sent = workspace / ".esc-cache" / "outbox" / "sent"
    (kept,) = sent.glob("*.json")
    esc.ok("sweep", now="2026-12-20T10:00:00+01:00")  # 30 days after: still kept
    assert kept.exists()
    esc.ok("sweep", "--dry-run", now="2026-12-21T10:00:00+01:00")
    assert kept.exists()
    esc.ok("sweep", now="2026-12-21T10:00:00+01:00")
    assert not kept.exists()
    # the warning, then (20 December) the escalation, its breach to both teams, and the
    # breach at level 2 that escalated it to management (which nobody is told of)
    assert len(hook.posts) == 5


def test_a_failing_endpoint_is_retried_later_and_the_tickets_still_written(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T10:30:00+01:00")
    assert len(hook.posts) == 1  # the warning
    hook.fail = True
    result = esc("sweep", now="2026-11-20T11:30:00+01:00")
    assert result.code == 0
    # (on stderr, which cron mails: the README's cron line sends stdout to /dev/null)
    assert "notify failed (1×), retried after 2026-11-20T11:35:00+01:00" in result.err
    assert "notify failed" not in result.out and result.code == 0
    # (with why, as apprise says it: an HTTP 500 is no refused connection)
    assert "the service did not accept the message (Failed to send JSON" in result.err
    assert "error=500" in result.err
    assert "escalations:" in (workspace / "tickets" / f"{ticket}.md").read_text()
    hook.fail = False
    # the other message to eng-chat, not tried after the first failed, waits with it for its
    # retry, as support-chat's does (a sweep before then asks neither target anything); then
    # all go, each target's in the order things happened (the breach, then the escalation
    # it made at that instant)
    out = esc.ok("sweep", now="2026-11-20T11:32:00+01:00")
    assert "notified" not in out and len(hook.posts) == 1
    out = esc.ok("sweep", now="2026-11-20T11:36:00+01:00")
    assert "notified: 3 messages sent" in out and len(hook.posts) == 4
    eng = [b["title"] for path, b in hook.posts[1:] if path == "/eng"]
    assert eng == [f"[esc] {ticket} SLA breached: first_response",
                   f"[esc] {ticket} escalated support → engineering (hierarchical)"]  # fmt: skip
    titles = sorted(b["title"].removeprefix(f"[esc] {ticket} ") for _, b in hook.posts[1:])
    assert titles == ["SLA breached: first_response"] * 2 + [
        "escalated support → engineering (hierarchical)"
    ]
    ids = [m.rpartition("event ")[2] for _, m in hook.messages()]
    assert len(set(ids)) == 3 and all(len(i) == 20 for i in ids)


def test_after_five_failures_check_and_doctor_say_so(esc: Esc, workspace: Path, hook: Hook) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    make(esc)
    hook.fail = True
    for now in ("09:30", "11:30", "12:00", "13:00", "15:00", "16:30"):
        esc.ok("sweep", now=f"2026-11-20T{now}:00+01:00")
    # a dry run lists what a sweep now would send again (it failed before and is due)
    dry = esc.ok("sweep", "--dry-run", now="2026-11-20T23:00:00+01:00")
    assert "  would retry eng-chat: [esc] T-" in dry
    retries = json.loads(esc.ok("sweep", "--dry-run", "--json", now="2026-11-20T23:00:00+01:00"))
    assert {r["target"] for r in retries["retries"]} >= {"eng-chat"}
    # (each target's first message failed 5 times; the others to it wait, never tried)
    tried = sorted((r["target"], r["attempts"]) for r in retries["retries"] if r["attempts"])
    assert tried == [("eng-chat", 5), ("support-chat", 5)]
    check = esc("check", now="2026-11-20T16:30:00+01:00")
    assert check.code == 1
    # (the message as the sweep names it, and the others to its target that wait behind it)
    assert "notification T-" in check.err and "SLA warning" in check.err
    assert "failed 5 times" in check.err and "more to eng-chat not sent yet" in check.err
    doctor = esc("doctor", now="2026-11-20T16:30:00+01:00")
    assert "failed 5 times" in doctor.out
    # nothing overdue any more: the failing notifications alone fail the check, in every
    # format, and the text never says "ok"
    for ticket in json.loads(esc.ok("list", "--json", now="2026-11-20T16:30:00+01:00")):
        esc.ok("resolve", ticket["id"], "--resolution", "Done", now="2026-11-20T16:31:00+01:00")
    late = "2026-11-20T16:32:00+01:00"
    text = esc("check", now=late)
    assert text.code == 1 and not text.out.startswith("ok:")
    assert text.out.rstrip().endswith("notifications failing") or text.out.rstrip().endswith(
        "1 notification failing"
    ), text.out
    data = json.loads(esc("check", "--format", "json", now=late).out)
    assert data["failed"] is True and data["notifications_failing"]
    assert all("failed 5 times" in n for n in data["notifications_failing"])
    github = esc("check", "--format", "github", now=late)
    assert github.code == 1
    lines = github.out.splitlines()
    assert lines and all(line.startswith("::error::notification ") for line in lines)
    assert any("SLA warning" in line for line in lines)
    import xml.etree.ElementTree as ET

    suite = ET.fromstring(esc("check", "--format", "junit", now=late).out)
    assert int(suite.get("errors", "0")) == len(data["notifications_failing"])
    # the targets taken out of rules.yaml: nothing left to act on (the next sweep drops
    # their messages), so check and doctor no longer say so, before it runs too
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    assert esc("check", now=late).code == 0
    assert "failed 5 times" not in esc("doctor", now=late).out


def test_a_notification_file_that_cannot_be_read_is_named_by_check_and_doctor(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """A torn file in the outbox was passed by, for good: never sent, and no command said
    so. Check and doctor name it (exit 1); the sweep still sends the others."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    make(esc)
    hook.fail = True
    esc.ok("sweep", now="2026-11-20T11:30:00+01:00")
    [torn, *_] = sorted((workspace / ".esc-cache" / "outbox").glob("*.json"))
    torn.write_bytes(torn.read_bytes()[:50])
    check = esc("check", now="2026-11-20T11:31:00+01:00")
    said = f"notification file .esc-cache/outbox/{torn.name} cannot be read (not JSON)"
    assert check.code == 1 and said in check.err
    doctor = esc("doctor", now="2026-11-20T11:31:00+01:00")
    assert doctor.code == 1 and said in doctor.out
    # (its own fix, not a failing target's "later sweeps retry": none does; audit helper-469)
    assert "mend the file's JSON, or remove the file" in doctor.out
    assert "later sweeps retry" not in doctor.out
    assert torn.exists()  # (a person's to mend or remove)


def test_dry_run_lists_the_messages_and_no_notify_sends_none(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    out = esc.ok("sweep", "--dry-run", now="2026-11-20T11:30:00+01:00")
    assert f"  would notify eng-chat: [esc] {ticket} escalated support → engineering" in out
    assert "cannot send" not in out
    assert hook.posts == []
    # (a target whose URL names a variable this environment lacks: said, as validate does,
    # in the preview a person reads before the first sweep, not found out by cron's)
    unset = {"HOOK_PORT": ""}
    out = esc.ok("sweep", "--dry-run", now="2026-11-20T11:30:00+01:00", env=unset)
    assert (
        "  cannot send to eng-chat: the environment variable HOOK_PORT is not set (its"
        " messages would fail, and wait to be retried)"
    ) in out.splitlines()
    data = json.loads(
        esc.ok("sweep", "--dry-run", "--json", now="2026-11-20T11:30:00+01:00", env=unset)
    )
    unset = {"target": "eng-chat", "variable": "HOOK_PORT", "problem": "is not set"}
    assert unset in data["unsendable"]
    esc.ok("sweep", "--no-notify", now="2026-11-20T11:30:00+01:00")
    esc.ok("sweep", now="2026-11-20T11:40:00+01:00")
    assert hook.posts == []  # what a --no-notify sweep did is never sent


def test_a_rule_notifies_its_named_target(esc: Esc, workspace: Path, hook: Hook) -> None:
    rules = RULES_LEVELS.replace(
        'then: {note: "SLA warning"}', 'then: {note: "SLA warning", notify: oncall}'
    )
    notify = NOTIFY.replace(
        "  teams:", '    oncall: "json://127.0.0.1:${HOOK_PORT}/oncall"\n  teams:'
    )
    (workspace / "rules.yaml").write_text(rules + notify)
    assert esc("validate").code == 0
    make(esc)
    esc.ok("sweep", now="2026-11-20T10:30:00+01:00")
    assert ("/oncall") in [p for p, _ in hook.messages()]
    assert any("rule warn fired (sla: warning) by rule:warn" in m for _, m in hook.messages())


def test_a_rule_that_fired_in_a_gap_under_the_last_sweep_s_rules_notifies_as_they_said(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """The warning at 10:00 came while no sweep ran; rules.yaml then renamed the rule
    (`warn` → `warned`): the catch-up sweep replays 10:00 under the last sweep's rules,
    where `warn` fired and said `notify: oncall`, so oncall hears of it (the new rules'
    `notify:` were asked: no `warn` there, no message)."""
    rules = RULES_LEVELS.replace(
        'then: {note: "SLA warning"}', 'then: {note: "SLA warning", notify: oncall}'
    )
    notify = NOTIFY.replace(
        "  teams:", '    oncall: "json://127.0.0.1:${HOOK_PORT}/oncall"\n  teams:'
    )
    (workspace / "rules.yaml").write_text(rules + notify)
    make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    renamed = (rules + notify).replace("name: warn\n", "name: warned\n")
    (workspace / "rules.yaml").write_text(renamed)
    assert esc("validate").code == 0, esc("validate").err
    esc.ok("sweep", now="2026-11-20T10:30:00+01:00")
    assert any(path == "/oncall" and "rule warn fired (sla: warning) by rule:warn" in m
               for path, m in hook.messages())  # fmt: skip


def test_validate_names_a_bad_scheme_and_a_missing_variable_without_the_secret(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_HOOK", raising=False)
    monkeypatch.setenv("WHOLE_URL", "ftp://secret-host/x")
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS
        + 'notify:\n  targets:\n    a: "gopher://secret-token@host"\n'
        + '    b: "slack://${SLACK_HOOK}"\n'
        + '    ops/pager: "json://127.0.0.1/x"\n'
        + '    whole: "${WHOLE_URL}"\n'
    )
    result = esc("validate")
    assert result.code == 1
    assert "rules.yaml:29: notify target whole: scheme 'ftp' is not one esc sends to" in result.err
    assert "secret-host" not in result.err + result.err
    assert "rules.yaml:28: notify target 'ops/pager': a name of up to 64 letters" in result.err
    assert "rules.yaml:26: notify target a: scheme 'gopher' is not one esc sends to" in result.err
    assert "rules.yaml:27: notify target b: the environment variable SLACK_HOOK is not set" in (
        result.err
    )
    assert "secret-token" not in result.err + result.err
    # (a name too long to name the outbox's files: every sweep failed on it, after validate)
    long = "x" * 65
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS + f'notify:\n  targets:\n    {long}: "json://127.0.0.1/x"\n'
    )
    result = esc("validate")
    assert result.code == 1
    assert f"notify target '{long}': a name of up to 64 letters" in result.err
    assert esc("sweep").code == 1  # (refused as every command refuses a broken rules.yaml)
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS + f'notify:\n  targets:\n    {long[1:]}: "json://127.0.0.1/x"\n'
    )
    assert esc("validate").code == 0
    # (each problem once, in the file's order; `an apikey`)
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS
        + 'notify:\n  targets:\n    a: "json://host/?apikey=abc123"\n'
        + '    b: "slack://${SLACK_HOOK}/${SLACK_HOOK}/C"\n'
        + '    c: "gopher://host"\n'
    )
    lines = esc("validate").err.splitlines()
    assert [line.split(": ", 1)[0] for line in lines[:-1]] == [
        "rules.yaml:26", "rules.yaml:27", "rules.yaml:28"
    ]
    assert "notify target a: an apikey is written in rules.yaml" in lines[0]
    assert "abc123" not in "".join(lines)


def test_validate_names_a_misspelt_person_and_a_bad_url_once(
    esc: Esc, workspace: Path
) -> None:
    """`notify.people: {carl: …}` passed validate (carol was never told); a target whose URL
    is bad was also said to be "unknown" where a team names it."""
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS
        + 'notify:\n  targets:\n    a: "foo://x/y"\n    b: "json://127.0.0.1/x"\n'
        + "  teams:\n    support: [a]\n  people:\n    carl: b\n"
    )
    result = esc("validate")
    assert result.code == 1
    assert "notify target a: scheme 'foo' is not one esc sends to" in result.err
    assert "unknown target 'a'" not in result.err
    assert "notify.people: unknown person 'carl' (did you mean 'carol'?)" in result.err
    rules = (workspace / "rules.yaml").read_text().replace('"foo://x/y"', '"json://127.0.0.1/a"')
    (workspace / "rules.yaml").write_text(rules)
    assert esc("validate").code == 1
    make(esc)  # (not blocking: a rule may name someone no team has)


def test_validate_names_a_url_apprise_cannot_use_once_its_variables_are_in(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apprise was asked only about http(s) addresses: `slack://${SLACK_TOKENS}` holding
    one token of three, or a mailbox with no domain, passed validate, and every sweep then
    failed on it ("apprise cannot use its URL") and retried for ever."""
    monkeypatch.setenv("LEAD", "lead-secret")
    monkeypatch.setenv("SLACK_TOKENS", "T1secret")
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS
        + 'notify:\n  targets:\n    lead: "mailto://${LEAD}"\n'
        + '    chat: "slack://${SLACK_TOKENS}"\n'
        + '    team: "discord://x"\n'
        + '    fine: "mailto://127.0.0.1:2525?from=esc@example.com&to=${LEAD}@example.com"\n'
    )
    result = esc("validate")
    assert result.code == 1
    found = [line.partition(", once")[0] for line in result.err.splitlines()
             if "notify target" in line]  # fmt: skip
    assert found == [
        "rules.yaml:26: notify target lead: apprise cannot use this mailto:// URL",
        "rules.yaml:27: notify target chat: apprise cannot use this slack:// URL",
        "rules.yaml:28: notify target team: apprise cannot use this discord:// URL",
    ]
    assert "secret" not in result.err


def test_validate_names_an_http_address_apprise_cannot_send_to(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apprise takes an http(s) URL only as a service's own webhook (Slack's, Discord's…):
    a plain web address would fail on every sweep; validate says so, without quoting it."""
    monkeypatch.setenv("OWN_HOOK", "https://hooks.internal.example/esc?token=secret-token")
    slack = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS
        + 'notify:\n  targets:\n    dead: "http://127.0.0.1:18081/dead"\n'
        + f'    slack: "{slack}"\n'
        + '    own: "${OWN_HOOK}"\n'
        + '    fine: "json://127.0.0.1/x"\n'
    )
    result = esc("validate")
    assert result.code == 1
    said = (
        "apprise knows no service at this http(s) address (a webhook of your own is json://, "
        "form:// or xml://; jsons:// and the like for https)"
    )
    found = [line for line in result.err.splitlines() if "notify target" in line]
    assert found == [
        f"rules.yaml:26: notify target dead: {said}",
        f"rules.yaml:28: notify target own: {said}",
    ]
    assert "secret-token" not in result.err + result.err


def test_notify_test_sends_to_a_target(esc: Esc, workspace: Path, hook: Hook) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    assert esc.ok("notify", "test", "eng-chat") == "sent a test message to eng-chat\n"
    assert hook.messages()[0][0] == "/eng"
    # (an event id, as every message carries: in the text's last line and the header)
    event = hook.messages()[0][1].splitlines()[-1].removeprefix("event ")
    assert len(event) == 20 and hook.headers[0]["X-Esc-Event"] == event
    unknown = esc("notify", "test", "nope")
    assert unknown.code == 2 and "unknown target, team or person 'nope'" in unknown.err
    close = esc("notify", "test", "eng-caht")  # (a team's name is taken too: listed)
    assert close.err == ("esc: rules.yaml notify: unknown target, team or person 'eng-caht'"
                         " (did you mean 'eng-chat'?); choose from eng-chat, support-chat,"
                         " engineering, support\n")  # fmt: skip
    # a team's name, as a rule's `notify:` may give it: each of its targets
    assert esc.ok("notify", "test", "engineering") == "sent a test message to eng-chat\n"
    assert hook.messages()[-1][0] == "/eng"
    hook.fail = True
    assert esc("notify", "test", "eng-chat").code == 1
    # a variable set but empty is not set, as validate says: nothing goes to a URL with a
    # hole where its secret was (it went to `json://127.0.0.1:/eng`)
    hook.fail = False
    sent = len(hook.posts)
    empty = esc("notify", "test", "eng-chat", env={"HOOK_PORT": ""})
    assert empty.code == 1 and "the environment variable HOOK_PORT is not set" in empty.err
    found = esc("validate", env={"HOOK_PORT": ""})
    assert "notify target eng-chat: the environment variable HOOK_PORT is not set" in found.err
    assert len(hook.posts) == sent
    # one whose bytes are not UTF-8 (`P=$'\xff'`: Python hands them on as a surrogate) was an
    # internal error, exit 3, in validate and in every send (audit helper-411): said as a
    # variable that cannot be used, its value never shown
    for command in (("notify", "test", "eng-chat"), ("validate",)):
        bad = esc(*command, env={"HOOK_PORT": "\udcff"})
        said = "notify target eng-chat: " if command == ("validate",) else "notify test: "
        assert bad.code == 1 and f"{said}the environment variable HOOK_PORT is not UTF-8" \
            " text" in bad.err, bad.err
    assert len(hook.posts) == sent


def test_a_failed_send_says_why_as_the_service_answered_never_its_url_s_secrets(
    esc: Esc, workspace: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every failure read `the service did not accept the message`: a server down, an
    HTTP 500 and bad credentials alike.  It says what apprise said, without the URL's
    user, password, path or query (a webhook's token)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    hook.fail = True
    refused = esc("notify", "test", "eng-chat")
    assert refused.code == 1 and "error=500" in refused.err
    with socket.socket() as probe:  # (a port nobody listens on: the connection refused)
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    secret = "s3cretT0ken"
    (workspace / "rules.yaml").write_text(
        RULES_LEVELS + NOTIFY.replace("${HOOK_PORT}/eng", f"{closed}/{secret}?key={secret}")
    )
    down = esc("notify", "test", "eng-chat")
    assert down.code == 1
    assert down.err == (
        "esc: notify test: target eng-chat: the service did not accept the message (A "
        "Connection error occurred sending JSON notification to 127.0.0.1.)\n"
    )
    assert secret not in down.err + down.out


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[tuple[str, list[str], str]]]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: (its port, the mails it received).  It
    refuses, for good, every recipient at `bounce.example` (as a server does an address
    with no mailbox: 550 5.1.1 at RCPT), by its policy every one at `relay.example`
    (554 5.7.1: an account or relay setting a person mends), and for now every one at
    `grey.example` (450 4.7.1: greylisting)."""
    import socket
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from aiosmtpd.controller import Controller

    got: list[tuple[str, list[str], str]] = []

    class Handler:
        async def handle_RCPT(
            self, server: object, session: object, envelope: Any, address: str, options: object
        ) -> str:
            if address.endswith("@bounce.example"):
                return "550 5.1.1 no such user"
            if address.endswith("@relay.example"):  # (a policy's refusal, not the address's)
                return "554 5.7.1 Relay access denied"
            if address.endswith("@grey.example"):  # (try again later: greylisting)
                return "450 4.7.1 Greylisted, try again later"
            if address.endswith("@gone.example"):  # (Microsoft 365's for no such mailbox)
                return "550 5.4.1 Recipient address rejected: Access denied"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            got.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, got
    controller.stop()


def test_an_escalation_is_emailed_to_the_lead_of_the_team_it_lands_on(
    esc: Esc,
    workspace: Path,
    hook: Hook,
    smtp: tuple[int, list[tuple[str, list[str], str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, mails = smtp
    monkeypatch.setenv("SMTP_PORT", str(port))
    notify = (NOTIFY + "  people:\n    erin: erin-mail\n").replace(
        "  teams:",
        '    erin-mail: "mailto://127.0.0.1:${SMTP_PORT}?to=erin@example.com'
        '&from=esc@example.com&mode=insecure"\n  teams:',
    )
    teams = (workspace / "teams.yaml").read_text()
    teams = teams.replace("members: [dan, erin]", "members: [dan]\n    lead: erin", 1)
    (workspace / "teams.yaml").write_text(teams)
    (workspace / "rules.yaml").write_text(RULES_LEVELS + notify)
    assert esc("validate").code == 0, esc("validate").err
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T10:30:00+01:00")
    assert mails == []  # the warning goes to support's chat only
    esc.ok("sweep", now="2026-11-20T11:30:00+01:00")
    # the escalation, and the breach that made it (told to the lead it lands on too)
    assert [(m[0], m[1]) for m in mails] == [("esc@example.com", ["erin@example.com"])] * 2
    import email
    import email.policy

    messages = [email.message_from_string(m[2], policy=email.policy.default) for m in mails]
    assert sorted(str(m["Subject"]).removeprefix(f"[esc] {ticket} ") for m in messages) == [
        "SLA breached: first_response", "escalated support → engineering (hierarchical)"
    ]
    message = next(m for m in messages if "escalated" in str(m["Subject"]))
    body = message.get_body(("plain",))
    assert body is not None and message.get_body(("html",)) is None  # (text, as written)
    lines = body.get_content().splitlines()
    assert lines[0] == f"{ticket}: Invoice missing"  # one fact a line, the breaks kept
    assert lines[1].startswith("escalated support → engineering (hierarchical) by rule:")
    assert "by rule:breached-goes-up" in lines[1]
    assert message["X-Esc-Event"] == lines[-1].removeprefix("event ")  # (apart from the text)
    # (RFC 3834: no autoresponder answers it, into the desk's intake; audit helper-455)
    assert all(m["Auto-Submitted"] == "auto-generated" for m in messages)
    esc.ok("sweep", now="2026-11-20T12:00:00+01:00")
    assert len(mails) == 2


def test_a_mail_target_of_several_addresses_one_refused_tells_the_others_once(
    esc: Esc,
    workspace: Path,
    hook: Hook,
    smtp: tuple[int, list[tuple[str, list[str], str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A team's mail target of two addresses, one mailbox gone (550 5.1.1): the message
    counted as failed, and every retry sent it to the other again, for ever, every later
    message too (audit helper-455).  The others have it: sent."""
    port, mails = smtp
    monkeypatch.setenv("SMTP_PORT", str(port))
    notify = NOTIFY.replace(
        "  teams:",
        '    team-mail: "mailto://127.0.0.1:${SMTP_PORT}?to=carol@example.com,'
        'gone@bounce.example&from=esc@example.com&mode=insecure"\n  teams:',
    ).replace("support: [support-chat]", "support: [team-mail]")
    (workspace / "rules.yaml").write_text(RULES_LEVELS + notify)
    assert esc("validate").code == 0, esc("validate").err
    make(esc)
    for hour in ("10:30", "11:30", "13:00", "17:00"):
        esc.ok("sweep", "--no-report", now=f"2026-11-20T{hour}:00+01:00")
    events = [m[2].split("X-Esc-Event: ")[1].split()[0] for m in mails]
    assert events and len(events) == len(set(events)), events  # (each once)
    assert all(m[1] == ["carol@example.com"] for m in mails)


def test_a_sweep_killed_while_sending_loses_nothing(esc: Esc, workspace: Path, hook: Hook) -> None:
    """SIGKILL while the service holds the request: the message is still pending, and the
    next sweep sends it (again: the receiver sees one event id twice at most)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    hook.hold = threading.Event()
    proc = subprocess.Popen(
        [ESC, "--now", "2026-11-20T10:30:00+01:00", "sweep"],
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert hook.arrived.wait(30), "the sweep never sent"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        hook.hold.set()
        if proc.poll() is None:
            proc.kill()
    assert (
        "sla.first_response: ok → warning" in (workspace / "tickets" / f"{ticket}.md").read_text()
    )
    pending = [json.loads(p.read_text()) for p in (workspace / ".esc-cache/outbox").glob("*.json")]
    assert [m["status"] for m in pending] == ["pending"]
    hook.hold = None
    out = esc.ok("sweep", now="2026-11-20T10:31:00+01:00")
    assert "notified: 1 message sent" in out
    assert [p for p, _ in hook.messages()][-1] == "/support"
    outbox = workspace / ".esc-cache/outbox"
    assert list(outbox.glob("*.json")) == []  # (what is still to send: nothing)
    sent = [json.loads(p.read_text()) for p in (outbox / "sent").glob("*.json")]
    assert [m["status"] for m in sent] == ["sent"]


QUIET = """
import contextlib, io, sys
from esc.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(code, "apprise" in sys.modules)
"""


def test_a_sweep_with_nothing_to_send_does_not_load_apprise(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    argv = ["--root", str(workspace), "--now", "2026-11-20T09:40:00+01:00", "sweep"]
    proc = subprocess.run(
        [sys.executable, "-c", QUIET, *argv], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.split() == ["0", "False"], proc.stderr


def test_a_command_given_notify_sends_what_its_change_makes(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    # A person's escalation with --notify reaches the team it lands on at once; without
    # --notify the command sends nothing, and the next sweep sends it (not the one sent
    # already: the same event id is in the outbox), and no later sweep again.
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    result = esc("escalate", ticket, "--to", "engineering", "--reason", "a bug", "--notify",
                 now="2026-11-20T09:30:00+01:00")  # fmt: skip
    assert result.code == 0, result.err
    assert result.err == "esc: notified: 1 sent\n"
    assert [path for path, _ in hook.posts] == ["/eng"]
    assert "escalated support → engineering (functional)" in hook.messages()[0][1]
    esc.ok("escalate", ticket, "--priority", "urgent", "--reason", "outage",
           now="2026-11-20T09:50:00+01:00")  # fmt: skip
    assert len(hook.posts) == 1
    swept = json.loads(esc.ok("sweep", "--no-report", "--json", now="2026-11-20T09:55:00+01:00"))
    sent = [text for _, text in hook.messages()]
    assert sum("escalated support → engineering (functional)" in t for t in sent) == 1
    # (--json lists what this sweep queued: not the escalation the command sent)
    told = [n["subject"] for n in swept["notifications"]]
    assert told == [f"[esc] {ticket} priority escalated normal → urgent"], told
    assert len(swept["sent"]) == 1
    assert sum("priority escalated normal → urgent by alice" in t for t in sent) == 1, sent
    count = len(hook.posts)
    esc.ok("sweep", "--no-report", now="2026-11-20T10:05:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T10:06:00+01:00")
    later = [text for _, text in hook.messages()[count:]]
    assert not any("escalated" in t for t in later), later


def with_dan_s_chat(workspace: Path) -> None:
    """rules.yaml with the teams' targets and dan's own chat (`/dan` on the hook)."""
    rules = RULES_LEVELS + NOTIFY.replace(
        "  teams:", '    dan-chat: "json://127.0.0.1:${HOOK_PORT}/dan"\n  teams:'
    ) + "  people:\n    dan: dan-chat\n"
    (workspace / "rules.yaml").write_text(rules)


def test_a_sweep_without_notify_leaves_what_people_did_to_the_next_sweep(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`sweep --no-notify` after an assignment made without --notify, in a ticket it does
    not rewrite: the cache marked the ticket quiet, and no later sweep told of it (one
    without the cache did)."""
    with_dan_s_chat(workspace)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    esc.ok("assign", ticket, "dan", "--force", now="2026-11-20T09:10:00+01:00")
    start = len(hook.posts)
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-20T09:11:00+01:00")
    assert len(hook.posts) == start
    esc.ok("sweep", "--no-report", now="2026-11-20T09:12:00+01:00")
    assert [p for p, t in hook.messages()[start:] if "assigned to dan" in t] == ["/dan"]


def test_a_sweep_without_notify_that_writes_a_ticket_keeps_what_people_did_for_the_next(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`sweep --no-notify` that rewrites the ticket (its warning crossed) after an
    assignment made without --notify: the ticket then recorded that sweep, and no sweep
    told of the assignment.  Queued, not sent, it goes with the next sweep that notifies;
    what the --no-notify sweep's own changes made (the warning) is never sent."""
    with_dan_s_chat(workspace)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    esc.ok("assign", ticket, "dan", "--force", now="2026-11-20T09:10:00+01:00")
    before = (workspace / "tickets" / f"{ticket}.md").read_text()
    start = len(hook.posts)
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-20T10:45:00+01:00")
    assert (workspace / "tickets" / f"{ticket}.md").read_text() != before  # (written)
    assert len(hook.posts) == start
    esc.ok("sweep", "--no-report", now="2026-11-20T10:46:00+01:00")
    told = [(p, t) for p, t in hook.messages()[start:]]
    assert [p for p, t in told if "assigned to dan" in t] == ["/dan"]
    assert not [t for _, t in told if "SLA warning" in t]
    esc.ok("sweep", "--no-report", now="2026-11-20T10:50:00+01:00")
    assert len(hook.posts) == start + len(told)  # (once)


def test_a_sweep_without_notify_keeps_what_people_did_when_it_reads_the_ticket_again(
    esc: Esc, workspace: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but the file changes while the sweep writes it (a person saves it): the
    sweep reads it again and plans it anew, where it lost the assignment's news."""
    import esc.commands.sweep as sweeping

    with_dan_s_chat(workspace)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    esc.ok("assign", ticket, "dan", "--force", now="2026-11-20T09:10:00+01:00")
    path = workspace / "tickets" / f"{ticket}.md"
    real = sweeping.replace_if_unchanged
    saved: list[bool] = []

    def saved_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if not saved:
            saved.append(True)
            path.write_text(path.read_text(encoding="utf-8") + "\nMine.\n", encoding="utf-8")
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeping, "replace_if_unchanged", saved_meanwhile)
    start = len(hook.posts)
    out = esc.ok("sweep", "--no-report", "--no-notify", now="2026-11-20T10:45:00+01:00")
    assert "changed while the sweep read it" in out and saved
    assert path.read_text(encoding="utf-8").count("Mine.") == 1
    esc.ok("sweep", "--no-report", now="2026-11-20T10:46:00+01:00")  # (saved once only)
    assert [p for p, t in hook.messages()[start:] if "assigned to dan" in t] == ["/dan"]


def test_what_people_did_between_sweeps_is_sent_in_the_order_it_happened(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """Escalations made between two sweeps reach the chat as they were made (they went in
    the order of their event ids: "engineering → support" before "support → engineering")."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    moves = [("engineering", "09:10"), ("support", "09:11"), ("engineering", "09:12"),
             ("support", "09:13"), ("engineering", "09:14")]  # fmt: skip
    for team, at in moves:
        esc.ok("escalate", ticket, "--to", team, "--reason", "back and forth",
               now=f"2026-11-20T{at}:00+01:00")  # fmt: skip
    start = len(hook.posts)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:20:00+01:00")
    at = [line.partition(" at ")[2][:25] for _, text in hook.messages()[start:]
          for line in text.splitlines() if "escalated" in line and " at " in line]  # fmt: skip
    assert at == [f"2026-11-20T{at}:00+01:00" for _, at in moves]


def test_a_dry_run_lists_only_what_it_would_send_now(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """An assignment told with `--notify` already: `sweep --dry-run` said it "would notify"
    of it again, though the sweep sends nothing twice."""
    with_dan_s_chat(workspace)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    esc.ok("assign", ticket, "dan", "--force", "--notify", now="2026-11-20T09:10:00+01:00")
    assert [p for p, t in hook.messages() if "assigned to dan" in t] == ["/dan"]
    out = esc.ok("sweep", "--no-report", "--dry-run", now="2026-11-20T09:11:00+01:00")
    assert "assigned to dan" not in out, out
    data = json.loads(esc.ok("sweep", "--no-report", "--dry-run", "--json",
                             now="2026-11-20T09:11:00+01:00"))  # fmt: skip
    assert not [n for n in data["notifications"] if "assigned to dan" in n["subject"]]


def test_a_sweep_tells_of_what_people_did_without_notify(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`esc assign` and `esc reopen` without --notify: the next sweep sends their events,
    once; a clone that pulls the sweep's commit finds them told (`checked` moved on)."""
    with_dan_s_chat(workspace)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    start = len(hook.posts)
    esc.ok("escalate", ticket, "--to", "engineering", "--reason", "a bug",
           now="2026-11-20T09:10:00+01:00")  # fmt: skip
    esc.ok("assign", ticket, "dan", now="2026-11-20T09:20:00+01:00")
    assert len(hook.posts) == start  # (no --notify: the commands sent nothing)
    before = (workspace / "tickets" / f"{ticket}.md").read_text()
    out = esc.ok("sweep", "--no-report", "--json", now="2026-11-20T09:30:00+01:00")
    sent = hook.messages()[start:]
    assert {p for p, t in sent if "escalated support → engineering" in t} == {"/eng"}
    assert [p for p, t in sent if "assigned to dan" in t] == ["/dan"]
    assert json.loads(out)["changed"] == [f"tickets/{ticket}.md"]  # (checked moved on)
    after = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "checked: 2026-11-20T09:30:00+01:00" in after and after != before
    count = len(hook.posts)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:40:00+01:00")
    assert len(hook.posts) == count  # told once


def test_a_change_recorded_before_the_last_sweep_is_told_by_the_next(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """An escalation entered at 09:28 (a call noted after the fact) after the 09:30 sweep
    had checked the ticket: the 09:40 sweep told nobody, and `checked` moved past it for
    good.  The command queues what it makes (the sweep tells what came after its last
    look): the next sweep sends it, once; `checked` and the log are left as they are (a
    replay from before the sweep made a rule that notifies fire again)."""
    with_dan_s_chat(workspace)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:30:00+01:00")
    start = len(hook.posts)
    esc.ok("escalate", ticket, "--to", "engineering", "--reason", "a bug",
           now="2026-11-20T09:28:00+01:00")  # fmt: skip
    path = workspace / "tickets" / f"{ticket}.md"
    assert "checked: 2026-11-20T09:30:00+01:00" in path.read_text()
    assert len(hook.posts) == start  # (queued, not sent: no --notify)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:40:00+01:00")
    sent = hook.messages()[start:]
    assert [p for p, t in sent if "escalated support → engineering" in t] == ["/eng"]
    after = path.read_text()
    lines = [line for line in after.splitlines() if line.startswith("- 2026")]
    assert len(lines) == len(set(lines)), after
    count = len(hook.posts)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:50:00+01:00")
    assert len(hook.posts) == count  # told once
    # in the very second of the last sweep: told by the next, once
    esc.ok("assign", ticket, "dan", now="2026-11-20T09:50:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T10:00:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T10:10:00+01:00")
    assert [p for p, t in hook.messages()[count:] if "assigned to dan" in t] == ["/dan"]


URGENT_ONLY = """\
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
sla:
  - name: urgent
    when: {priority: urgent}
    calendar: always
    targets: {first_response: 30m}
"""


def test_people_events_on_a_ticket_no_policy_applies_to_are_told_once(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """No policy: the sweep writes no `sla:` block of clocks, but still records that it
    told (`checked`), so an assignment is sent by the next sweep, once."""
    notify = NOTIFY.replace("  teams:", "  people:\n    alice: support-chat\n  teams:")
    (workspace / "rules.yaml").write_text(URGENT_ONLY + notify)
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    esc.ok("assign", ticket, "alice", "--by", "bob", now="2026-11-20T09:10:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T09:15:00+01:00")
    assert [t for _, t in hook.messages() if "assigned to alice" in t] != []
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "sla:\n  checked: 2026-11-20T09:15:00+01:00\n" in text
    count = len(hook.posts)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:25:00+01:00")
    assert len(hook.posts) == count


def test_a_new_ticket_is_judged_at_the_priority_it_was_created_at(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """created_at_or_above: high; created at normal, raised to high before the sweep: no
    "created at priority high" (esc create --notify would have sent none)."""
    notify = NOTIFY.replace("  targets:", "  created_at_or_above: high\n  targets:")
    (workspace / "rules.yaml").write_text(RULES_LEVELS + notify)
    ticket = make(esc)
    esc.ok("classify", ticket, "--priority", "high", now="2026-11-20T09:01:00+01:00")
    high = esc.ok("create", "--title", "Down", "--category", "billing", "--priority", "high",
                  now="2026-11-20T09:02:00+01:00").strip()  # fmt: skip
    # (raised in the very second it was made, as a script's classify after create: the
    # log says it was created at normal (audit d72))
    same = esc.ok("create", "--title", "Slow", "--category", "billing",
                  now="2026-11-20T09:03:00+01:00").strip()  # fmt: skip
    esc.ok("classify", same, "--priority", "high", now="2026-11-20T09:03:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    created = [t for _, t in hook.messages() if "created at priority" in t]
    assert len(created) == 1 and high in created[0], created
    assert "created at priority high" in created[0]


def test_an_escalation_with_notify_tells_the_assignee_too(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`esc escalate --priority … --notify`: the team, and the assignee (bob), once each;
    an escalation to another team tells the assignee it took the ticket from."""
    bob = '    bob-chat: "json://127.0.0.1:${HOOK_PORT}/bob"\n  teams:'
    notify = NOTIFY.replace("  teams:", bob) + "  people:\n    bob: bob-chat\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + notify)
    ticket = make(esc)
    esc.ok("assign", ticket, "bob", now="2026-11-20T09:10:00+01:00")
    result = esc("escalate", ticket, "--priority", "high", "--reason", "vip", "--notify",
                 now="2026-11-20T09:20:00+01:00")  # fmt: skip
    assert result.code == 0, result.err
    assert result.err == "esc: notified: 2 sent\n"
    assert sorted(p for p, _ in hook.messages()) == ["/bob", "/support"]
    assert all("priority escalated normal → high by alice" in t for _, t in hook.messages())
    esc.ok("escalate", ticket, "--to", "engineering", "--reason", "a bug", "--notify",
           now="2026-11-20T09:30:00+01:00")  # fmt: skip
    moved = [p for p, t in hook.messages() if "escalated support → engineering" in t]
    assert sorted(moved) == ["/bob", "/eng"]


def test_a_command_does_not_send_what_a_sweep_is_sending(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """A sweep is sending its warning to a slow endpoint; `esc assign --notify` meanwhile
    sends none of the sweep's messages (before: the warning went twice, with one event
    id) and leaves its own queued, saying so; the sweep sends it before it ends."""
    bob = '    bob-chat: "json://127.0.0.1:${HOOK_PORT}/bob?rto=60"\n  teams:'
    notify = NOTIFY.replace("  teams:", bob) + "  people:\n    bob: bob-chat\n"
    notify = notify.replace("/support", "/support?rto=60")  # (a held answer: no timeout)
    (workspace / "rules.yaml").write_text(RULES_LEVELS + notify)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    hook.hold, hook.answer_held = threading.Event(), True
    sweep = subprocess.Popen(
        [ESC, "--now", "2026-11-20T10:30:00+01:00", "sweep", "--no-report"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert hook.arrived.wait(60), "the sweep never sent"
        result = esc("assign", ticket, "bob", "--notify", now="2026-11-20T10:31:00+01:00")
        assert result.code == 0, result.err
        assert result.err.startswith("esc: notify: 1 message left queued: esc sweep pid ")
        assert result.err.endswith(
            "is sending notifications (it or the next sweep sends them)\n"
        ), result.err
    finally:
        hook.hold.set()
        out, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 0, err
    assert "notified: 2 messages sent" in out
    assert sorted(p for p, _ in hook.messages()) == ["/bob", "/support"]
    assert any("assigned to bob" in t for _, t in hook.messages())


def test_a_sweep_stuck_sending_does_not_stop_the_next_sweep_s_writes(
    esc: Esc, workspace: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep waits on a target that does not answer: it has let go of the workspace, so
    the next sweep (cron's, minutes later) writes its tickets and leaves its messages to
    the one sending, which sends them before it ends (before: the next sweep waited for
    the workspace lock, gave up, and wrote nothing)."""
    notify = NOTIFY.replace("/support", "/support?rto=60").replace("/eng", "/eng?rto=60")
    (workspace / "rules.yaml").write_text(RULES_LEVELS + notify)
    ticket = make(esc)
    esc.ok("sweep", now="2026-11-20T09:30:00+01:00")
    hook.hold, hook.answer_held = threading.Event(), True
    stuck = subprocess.Popen(
        [ESC, "--now", "2026-11-20T10:30:00+01:00", "sweep", "--no-report"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert hook.arrived.wait(60), "the sweep never sent"
        monkeypatch.setattr("esc.store.outbox.DELIVERY_WAIT", 0.0)  # (else a minute's wait)
        result = esc("sweep", "--no-report", "--lock-timeout", "5",
                     now="2026-11-20T11:30:00+01:00")  # fmt: skip
        assert result.code == 0, result.err
        assert f"  {ticket}: support → engineering (breached-goes-up)\n" in result.out
        # (the warning, the escalation and its breach to both teams)
        assert "notify: 4 messages left queued: esc sweep pid " in result.out
        text = (workspace / "tickets" / f"{ticket}.md").read_text()
        assert "support → engineering" in text
    finally:
        hook.hold.set()
        out, err = stuck.communicate(timeout=60)
    assert stuck.returncode == 0, err
    assert "notified: 4 messages sent" in out
    assert sorted(p for p, _ in hook.messages()) == ["/eng", "/eng", "/support", "/support"]


def test_intake_given_notify_sends_what_its_new_tickets_make(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`esc intake --notify`, as any command that causes an event: an urgent ticket from a
    form tells the team at once; a normal one (below `created_at_or_above`) tells nobody."""
    notify = NOTIFY.replace("notify:\n", "notify:\n  created_at_or_above: high\n")
    (workspace / "rules.yaml").write_text(RULES_LEVELS + notify)
    items = '[{"title": "Shop down", "priority": "urgent"}, {"title": "Typo", "priority": "low"}]'
    result = esc("intake", "--json", "-", "--notify", input=items)
    assert result.code == 0, result.err
    assert result.err == "esc: notified: 1 sent\n"
    assert [(p, "created at priority urgent" in t) for p, t in hook.messages()] == [
        ("/support", True)
    ]


def test_no_notify_on_a_command_is_the_default_spelled_out(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`--no-notify` turns sending off: a command refused it (no such option, exit 2)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    out = esc.ok("escalate", ticket, "--to", "engineering", "--reason", "r", "--no-notify",
                 now="2026-11-20T09:10:00+01:00")  # fmt: skip
    assert "notified" not in out and hook.posts == []
    esc.ok("sweep", "--no-report", now="2026-11-20T09:20:00+01:00")  # (the sweep tells of it)
    assert [path for path, _ in hook.messages()] == ["/eng"]


def test_a_rule_notifies_a_list_of_targets_teams_and_people(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`then: {notify: [oncall, support]}` was refused ("needs a text value"), and so was a
    team's or person's name: a rule could page one named target only."""
    paging = NOTIFY.replace("  teams:", '    oncall: "json://127.0.0.1:${HOOK_PORT}/oncall"\n'
                            "  people:\n    carol: [eng-chat]\n  teams:")  # fmt: skip
    rules = RULES_LEVELS.replace(
        'then: {note: "SLA warning"}', 'then: {note: "SLA warning", notify: [oncall, support]}'
    )
    (workspace / "rules.yaml").write_text(rules + paging)
    assert esc("validate").code == 0
    make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T10:05:00+01:00")
    paths = sorted(path for path, m in hook.messages() if "rule warn fired" in m)
    assert paths == ["/oncall", "/support"]
    (workspace / "rules.yaml").write_text(rules.replace("[oncall, support]", "carol") + paging)
    assert esc("validate").code == 0
    (workspace / "rules.yaml").write_text(rules.replace("[oncall, support]", "zoe") + paging)
    result = esc("validate")
    assert result.code == 1 and "rule warn: notify: unknown target 'zoe'" in result.err


def test_a_rule_s_notify_is_sent_each_time_it_fires_whatever_the_cadence(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """A rule's `notify:` was told once per sweep, and only if it was still in `fired:` as
    the sweep ended: one sweep after the warning and the breach (which re-armed it) told
    nothing, a sweep between them told it. Each firing is told, at its instant."""
    rules = RULES_LEVELS.replace(
        "rules:\n",
        "rules:\n  - name: warn-page\n    when: {sla: warning}\n    then: {notify: eng-chat}\n",
    )
    (workspace / "rules.yaml").write_text(rules + NOTIFY)
    assert esc("validate").code == 0, esc("validate").err
    make(esc)
    once = tmp_path / "once"
    shutil.copytree(workspace, once)
    for now in ("10:31", "11:30"):
        esc.ok("sweep", "--no-report", now=f"2026-11-20T{now}:00+01:00")
    often = hook.messages()
    hook.posts.clear()
    Esc(once, now="2026-11-20T11:30:00+01:00").ok("sweep", "--no-report")
    assert hook.messages() == often
    paged = [text for path, text in often if "rule warn-page fired" in text]
    assert len(paged) == 2  # (each clock's warning: the first response's, the resolution's)
    assert "at 2026-11-20T10:00:00+01:00" in paged[0] and "at 2026-11-20T11:00:00+01:00" in paged[1]


def made_twice(esc: Esc, workspace: Path, tmp_path: Path) -> tuple[str, Path]:
    """A ticket under RULES_LEVELS with NOTIFY, and a copy of the workspace holding it (to
    sweep at another cadence): its ID and the copy."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    once = tmp_path / "once"
    shutil.copytree(workspace, once)
    return ticket, once


def test_a_reopening_reaches_the_team_a_rule_escalated_to_whatever_the_cadence(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """The 11:00 breach escalates to engineering; a person resolves the ticket at 11:30 and
    the customer reopens it at 12:00.  One sweep at 12:15 told support of the reopening
    (the team of the file before it), hourly sweeps engineering (audit d67), and its next
    deadline was support's policy's (audit d69): it is told to the team that held the
    ticket then, by the replay, and both cadences tell the same message."""
    ticket, once = made_twice(esc, workspace, tmp_path)
    esc.ok("sweep", "--no-report", now="2026-11-20T11:15:00+01:00")
    for root in (workspace, once):
        desk = Esc(root)
        desk.ok("resolve", ticket, "--resolution", "credited", now="2026-11-20T11:30:00+01:00")
        desk.ok("comment", ticket, "--from-customer", "-m", "still wrong",
                now="2026-11-20T12:00:00+01:00")  # fmt: skip
        desk.ok("sweep", "--no-report", now="2026-11-20T12:15:00+01:00")
    reopened = [(path, text) for path, text in hook.messages() if "reopened" in text]
    assert [path for path, _ in reopened] == ["/eng", "/eng"]
    assert reopened[0][1] == reopened[1][1]
    assert "reopened (resolved → open) by customer at 2026-11-20T12:00:00+01:00" in reopened[0][1]
    assert "team engineering" in reopened[0][1]
    # (level 2's 8h resolution, paused while it was resolved: Monday 09:30)
    assert "next deadline: 2026-11-23T09:30:00+01:00" in reopened[0][1]


@pytest.mark.parametrize("swept_between", [True, False])
def test_a_rule_s_priority_escalation_tells_the_deadline_it_gave_whatever_the_cadence(
    esc: Esc, workspace: Path, hook: Hook, swept_between: bool
) -> None:
    """The starter's outage-is-urgent makes a new outage urgent at 09:00 (first response
    30m); a person who saw it still normal set it urgent at 09:10.  One sweep at 09:15 told
    "next deadline 13:00" (normal's), a sweep at 09:05 "09:30" (audit d67): the ticket as of
    09:00 is the rule's, whatever a later line found."""
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text() + NOTIFY)
    ticket = esc.ok("create", "--title", "Checkout down", "--category", "outage",
                    now="2026-11-24T09:00:00+01:00").strip()  # fmt: skip
    if swept_between:
        esc.ok("sweep", "--no-report", now="2026-11-24T09:05:00+01:00")
    esc.ok("classify", ticket, "--priority", "urgent", now="2026-11-24T09:10:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-24T09:15:00+01:00")
    raised = [text for _, text in hook.messages() if "priority escalated normal → urgent" in text]
    assert len(raised) == 1
    assert "next deadline: 2026-11-24T09:30:00+01:00" in raised[0]


def test_a_rule_s_request_a_person_made_again_later_tells_nobody_it_fired(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """A rule involves engineering, with a `notify:`, at the 09:30 breach and every hour
    after; alice involves engineering herself at 13:00, before any sweep.  The rule's
    request was never made, and its firings before hers told eng-chat four times that it
    fired, with no `notified` line in the ticket (review r70): nobody is told of what was
    not made; what is told is logged."""
    rules = workspace / "rules.yaml"
    starter = rules.read_text().replace(  # (no escalation: the ticket stays support's)
        '  - name: breached-goes-up\n    when: {sla: breached, level: "<3"}\n'
        '    then: {escalate: up, note: "SLA breached, escalating"}\n', "")
    assert starter != rules.read_text()
    rules.write_text(starter + (
        "  - name: ask-eng\n    when: {sla: breached, team: support}\n    repeat: 1h\n"
        "    then: {involve: engineering, notify: eng-chat}\n") + NOTIFY)  # fmt: skip
    assert esc("validate").code == 0, esc("validate").err
    ticket = esc.ok("create", "--title", "Checkout slow", "--category", "billing",
                    "--priority", "urgent", now="2026-11-24T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "can you look?",
           now="2026-11-24T13:00:00+01:00")  # fmt: skip
    out = esc.ok("sweep", "--no-report", now="2026-11-24T14:00:00+01:00")
    assert "so it is not asked twice" in out
    told = [re.search(r"by rule:ask-eng at (\S+)", t) for _, t in hook.messages()
            if "rule ask-eng fired" in t]  # fmt: skip
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    logged = re.findall(r"- (\S+) · rule:ask-eng · notified · eng-chat", text)
    # (from alice's request on, the rule's own is refused, its notify: stands and is logged)
    assert [m.group(1) for m in told if m] == logged
    assert logged and all(at >= "2026-11-24T13:00:00+01:00" for at in logged)


def test_a_message_tells_the_ticket_as_it_was_when_it_happened(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """The 10:00 warning, told by a sweep at 10:55 after the ticket was made high at
    10:45, said `priority high` and the deadline of then; told by a sweep at 10:31, it
    said `priority normal`: the message is of the ticket as it was at 10:00."""
    ticket, once = made_twice(esc, workspace, tmp_path)
    esc.ok("sweep", "--no-report", now="2026-11-20T10:31:00+01:00")
    for root in (workspace, once):
        Esc(root).ok("classify", ticket, "--priority", "high", now="2026-11-20T10:45:00+01:00")
        Esc(root).ok("sweep", "--no-report", now="2026-11-20T10:55:00+01:00")
    warnings = [text for _, text in hook.messages() if "SLA warning" in text]
    assert len(warnings) == 2 and warnings[0] == warnings[1]
    assert "team support, priority normal" in warnings[0]


def test_the_next_level_s_warning_is_told_to_the_team_it_landed_on(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """The breach at 11:00 escalates to level 2, whose own first-response clock is in
    warning at once: that warning is engineering's (the team whose policy it is), not
    support's, which the escalation took the ticket from."""
    rules = RULES_LEVELS.replace(
        "targets: {resolution: 8h}", "targets: {first_response: 4h}\n    warn_at: 50%"
    )
    (workspace / "rules.yaml").write_text(rules + NOTIFY)
    assert esc("validate").code == 0, esc("validate").err
    ticket = make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T11:30:00+01:00")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "11:00:00+01:00 · esc · sla.first_response: breached → warning" in text
    second = [(path, t) for path, t in hook.messages()
              if "SLA warning: first_response by esc at 2026-11-20T11:00" in t]  # fmt: skip
    assert [path for path, _ in second] == ["/eng"]
    assert "team engineering" in second[0][1]


def test_a_breach_a_priority_change_makes_is_told_to_the_team_that_had_the_ticket(
    demo: Path, hook: Hook
) -> None:
    """wei (sre) raises T-cb45ts7v to high at 18:41: the high policy's resolution clock is
    breached at once, and breached-goes-up moves it sre → management at that instant.  The
    breach is sre's (the policy a priority change chose, sre holding the ticket), told to
    sre too, and the message says `team sre` (it was told only to management, the message
    saying `team management`)."""
    rules = demo / "rules.yaml"
    rules.write_text(rules.read_text() + NOTIFY.replace("eng-chat: \"", "sre-chat: \"")
                     .replace("/eng\"", "/sre\"").replace("support-chat: \"json", "mgmt-chat:"
                     " \"json").replace("/support\"", "/mgmt\"").replace(
                     "engineering: eng-chat", "sre: sre-chat").replace(
                     "support: [support-chat]", "management: [mgmt-chat]"))  # fmt: skip
    desk = Esc(demo)
    assert desk("validate").code == 0, desk("validate").err
    desk.ok("sweep", "--no-notify", "--no-report", now="2026-11-27T18:00:00+01:00")
    desk.ok("escalate", "T-cb45ts7v", "--priority", "high", "--reason", "BF", "--by", "wei",
            now="2026-11-27T18:41:00+01:00")  # fmt: skip
    out = desk.ok("sweep", "--no-report", now="2026-11-27T18:45:00+01:00")
    assert "T-cb45ts7v: sre → management (breached-goes-up)" in out
    breaches = [(path, text) for path, text in hook.messages()
                if "T-cb45ts7v" in text and "SLA breached: resolution" in text]  # fmt: skip
    # (and to management, where the breach's own escalation took it at that instant, as
    # the README says: one message, naming the team that had the ticket as it crossed)
    assert sorted(path for path, _ in breaches) == ["/mgmt", "/sre"]
    assert all("team sre, priority high" in text for _, text in breaches)
    escalated = [path for path, text in hook.messages()
                 if "T-cb45ts7v" in text and "escalated sre → management" in text]  # fmt: skip
    assert escalated == ["/mgmt"]


def test_quiet_hours_hold_what_is_not_urgent_for_one_digest_at_the_next_working_hour(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """"Optional per-target quiet hours on a business calendar: warnings gathered into a
    digest at the next working hour. Urgent messages are never held." (Was not built.)"""
    quiet = NOTIFY + "  quiet:\n    support-chat: office\n    eng-chat: office\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + quiet)
    assert esc("validate").code == 0
    friday = "2026-11-20T16:00:00+01:00"  # (warnings at 17:00, as the office closes)
    first = esc.ok("create", "--title", "One", "--category", "billing", now=friday).strip()
    esc.ok("create", "--title", "Two", "--category", "billing", now=friday)
    out = esc.ok("sweep", "--no-report", now="2026-11-20T17:30:00+01:00")
    assert hook.posts == []
    assert "notify: 2 messages to support-chat held for its quiet hours" in out
    # an escalation is urgent: never held, whatever the hour
    esc.ok("escalate", first, "--to", "engineering", "--reason", "r", "--notify",
           now="2026-11-20T18:00:00+01:00")  # fmt: skip
    assert [path for path, _ in hook.messages()] == ["/eng"]
    esc.ok("sweep", "--no-report", now="2026-11-21T10:00:00+01:00")  # (Saturday: quiet)
    assert len(hook.posts) == 1
    planned = json.loads(esc.ok("sweep", "--no-report", "--dry-run", "--json",
                                now="2026-11-23T09:05:00+01:00"))  # fmt: skip
    [digest_planned] = planned["digests"]
    assert len(digest_planned["events"]) == 2 and digest_planned["target"] == "support-chat"
    assert planned["retries"] == []  # (each message once: in its digest)
    twin = workspace.parent / "twin"  # (the same sweep, asked for JSON: below)
    shutil.copytree(workspace, twin)
    out = esc.ok("sweep", "--no-report", now="2026-11-23T09:05:00+01:00")  # (Monday, open)
    assert "notified: 2 messages sent, 2 of them in 1 digest" in out  # (one post)
    path, digest = hook.messages()[-1]
    assert path == "/support" and len(hook.posts) == 2
    assert digest.count("SLA warning: first_response") == 2
    assert ": One\n" in digest and ": Two\n" in digest
    # a digest carries an event id of its own too, made of its messages' (the same when
    # it is sent again), apart from the text and as its last line
    (_, posted), headers = hook.posts[-1], hook.headers[-1]
    assert len(posted["event"]) == 20 and headers["X-Esc-Event"] == posted["event"]
    assert digest.endswith(f"\nevent {posted['event']}")
    esc.ok("sweep", "--no-report", now="2026-11-23T09:10:00+01:00")
    assert len(hook.posts) == 2  # (each sent once)
    swept = json.loads(Esc(twin).ok("sweep", "--no-report", "--json",
                                    now="2026-11-23T09:05:00+01:00"))  # fmt: skip
    [sent] = swept["sent_digests"]  # (the JSON says what the text line says)
    assert sent["target"] == "support-chat" and sent["event"] == posted["event"]
    assert sorted(sent["messages"]) == sorted(swept["sent"])
    bad = RULES_LEVELS + NOTIFY + "  quiet:\n    support-chat: offfice\n    nope: office\n"
    (workspace / "rules.yaml").write_text(bad)
    result = esc("validate")
    assert result.code == 1
    assert "notify.quiet.support-chat: unknown calendar 'offfice' (did you mean 'office'?)" in (
        result.err
    )
    assert "notify.quiet: unknown target 'nope'" in result.err


def test_what_quiet_hours_held_goes_before_later_news_to_its_target(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """A ticket created on Friday night, then warned, breached and escalated on Monday
    morning, swept once at 10:05: the escalation was told before the ticket's creation,
    which waited for its digest until the rest had gone (audit helper-441)."""
    quiet = NOTIFY.replace("notify:\n", "notify:\n  created_at_or_above: high\n")
    quiet += "  quiet:\n    support-chat: office\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + quiet)
    assert esc("validate").code == 0
    ticket = esc.ok("create", "--title", "Night order", "--category", "billing", "--priority",
                    "high", now="2026-11-20T22:30:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-23T10:05:00+01:00")
    told = [str(body["title"]) for path, body in hook.posts
            if path == "/support" and ticket in str(body["title"])]  # fmt: skip
    assert len(told) > 1 and told[0].endswith("created at priority high"), told


def test_what_quiet_hours_held_goes_at_a_sweep_after_the_next_working_hour_began(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """Held for the next working hour, the digest went only with a sweep run *in* working
    hours: a nightly cron never sent it, for days, and nothing said so. A sweep at any hour
    after the next working hour began sends it."""
    quiet = NOTIFY + "  quiet:\n    support-chat: office\n    eng-chat: office\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + quiet)
    friday = "2026-11-20T16:00:00+01:00"  # (warnings at 17:00, as the office closes)
    esc.ok("create", "--title", "One", "--category", "billing", now=friday)
    out = esc.ok("sweep", "--no-report", now="2026-11-20T18:30:00+01:00")
    assert "held for its quiet hours" in out and hook.posts == []
    esc.ok("sweep", "--no-report", now="2026-11-21T18:30:00+01:00")  # (Saturday: no hours)
    assert hook.posts == []
    esc.ok("sweep", "--no-report", now="2026-11-23T18:30:00+01:00")  # (Monday night)
    warned = [path for path, text in hook.messages() if "SLA warning: first_response" in text]
    assert warned == ["/support"]
    assert "held for" not in esc.ok("sweep", "--no-report", now="2026-11-23T18:35:00+01:00")


def test_quiet_hours_never_hold_news_of_a_ticket_at_the_highest_priority(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """"Urgent messages are never held": a ticket made urgent at 20:00 was told the next
    morning, 13 hours later, as a high one is."""
    quiet = NOTIFY.replace("notify:\n", "notify:\n  created_at_or_above: high\n")
    quiet += "  quiet:\n    support-chat: office\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + quiet)
    evening = "2026-11-19T20:00:00+01:00"  # (Thursday, the office closed)
    for priority in ("urgent", "high"):
        esc.ok("create", "--title", f"Payments {priority}", "--category", "billing",
               "--priority", priority, now=evening)  # fmt: skip
    out = esc.ok("sweep", "--no-report", now="2026-11-19T20:01:00+01:00")
    assert [b["title"].split(" ", 2)[2] for _, b in hook.posts] == ["created at priority urgent"]
    assert "notify: 1 message to support-chat held for its quiet hours" in out
    esc.ok("sweep", "--no-report", now="2026-11-20T09:01:00+01:00")
    assert [b["title"].split(" ", 2)[2] for _, b in hook.posts][1:] == [
        "created at priority high"
    ]


def test_quiet_hours_gather_by_when_it_happened_not_when_a_sweep_saw_it(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """Warnings crossed at 17:00 on Friday (office closed): swept at 17:30 they wait for one
    digest on Monday; swept only on Monday at 09:05 they went one by one, as made in
    working hours. Both cadences send the same digest now."""
    quiet = NOTIFY + "  quiet:\n    support-chat: office\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + quiet)
    for title in ("One", "Two"):
        esc.ok("create", "--title", title, "--category", "billing",
               now="2026-11-20T16:00:00+01:00")  # fmt: skip
    once = tmp_path / "once"
    shutil.copytree(workspace, once)
    esc.ok("sweep", "--no-report", now="2026-11-20T17:30:00+01:00")
    esc.ok("sweep", "--no-report", now="2026-11-23T09:05:00+01:00")
    often = [b["title"] for _, b in hook.posts]
    hook.posts.clear()
    dry = Esc(once).ok("sweep", "--no-report", "--dry-run", now="2026-11-23T09:05:00+01:00")
    told = ("  would notify support-chat", "  would send support-chat")
    said = [line.split(": ", 1)[1] for line in dry.splitlines() if line.startswith(told)]
    Esc(once).ok("sweep", "--no-report", now="2026-11-23T09:05:00+01:00")
    assert [b["title"] for _, b in hook.posts] == often
    assert sorted(said) == sorted(often)  # (the dry run said what went, the digest as one)
    assert "[esc] 2 notifications from support-chat's quiet hours" in often


def test_a_person_s_escalation_is_told_alike_by_the_command_and_by_the_sweep(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """Made urgent at 10:20, the ticket is past the urgent policy's 30 minutes: the rule
    escalates it to engineering at that instant. `escalate --notify` told support; left to
    the sweep, the same event (one id) went to engineering, saying `team engineering`."""
    (workspace / "rules.yaml").write_text((workspace / "rules.yaml").read_text() + NOTIFY)
    ticket = esc.ok("create", "--title", "t", "--category", "how-to", "--priority", "low",
                    now="2026-12-07T09:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-12-07T09:05:00+01:00")
    later = tmp_path / "later"
    shutil.copytree(workspace, later)
    args = ("escalate", ticket, "--priority", "urgent", "--reason", "ceo")
    esc.ok(*args, "--notify", now="2026-12-07T10:20:00+01:00")
    told = [(p, t) for p, t in hook.messages() if "priority escalated" in t]
    hook.posts.clear()
    Esc(later).ok(*args, now="2026-12-07T10:20:00+01:00")
    Esc(later).ok("sweep", "--no-report", now="2026-12-07T10:25:00+01:00")
    assert [(p, t) for p, t in hook.messages() if "priority escalated" in t] == told
    assert [p for p, _ in told] == ["/support"] and "team support" in told[0][1]


def test_a_webhook_reads_the_event_id_apart_from_the_text(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """"Each message carries a stable event id": a receiver had to parse it out of the
    text; a webhook gets it as a field of what is posted and as a header."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    make(esc)
    esc.ok("sweep", "--no-report", now="2026-11-20T10:30:00+01:00")
    ((_, posted),) = hook.posts
    (text_id,) = hook.events()
    assert posted["event"] == text_id
    assert hook.headers[0]["X-Esc-Event"] == text_id


def test_the_person_asked_is_told_of_their_request_s_ola(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`involve --person dan`: dan's request's OLA warning went to his team and the owning
    team, not to him, where an assignee is told of the ticket's own clocks."""
    rules = RULES_LEVELS.replace(
        "targets: {first_response: 2h, resolution: 4h}",
        "targets: {first_response: 2h, resolution: 40h, collaboration: 2h}",
    ).split("rules:\n")[0]
    dan = '    dan-chat: "json://127.0.0.1:${HOOK_PORT}/dan"\n'
    notify = NOTIFY.replace("    support-chat:", dan + "    support-chat:") + (
        "  people:\n    dan: dan-chat\n"
    )
    (workspace / "rules.yaml").write_text(rules + notify)
    assert esc("validate").code == 0, esc("validate").err
    ticket = make(esc)
    esc.ok("comment", ticket, "-m", "Looking.", now="2026-11-20T09:10:00+01:00")
    esc.ok("involve", ticket, "--team", "engineering", "--person", "dan", "--ask", "Logs?",
           now="2026-11-20T09:30:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-20T10:45:00+01:00")
    to_dan = [text for path, text in hook.messages() if path == "/dan"]
    assert any("SLA warning: collaboration (the request to engineering)" in t for t in to_dan)


def test_each_team_asked_is_told_of_its_own_request_s_ola_warning_and_breach(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """Two teams asked half an hour apart (OLA 2 working hours, warning at half): the
    second request's warning and breach were never logged nor told, as the ticket's
    `collaboration` clock is its oldest open request's.  Each team now hears of its own,
    at its own instant, with its own deadline, from one late sweep or several."""
    rules = RULES_LEVELS.replace(
        "targets: {first_response: 2h, resolution: 4h}",
        "targets: {first_response: 2h, resolution: 40h, collaboration: 2h}",
    ).split("rules:\n")[0]
    mgmt = '    mgmt-chat: "json://127.0.0.1:${HOOK_PORT}/mgmt"\n'
    notify = NOTIFY.replace("    support-chat:", mgmt + "    support-chat:").replace(
        "    support: [support-chat]", "    support: [support-chat]\n    management: mgmt-chat"
    )
    (workspace / "rules.yaml").write_text(rules + notify)
    ticket = make(esc)
    esc.ok("comment", ticket, "-m", "Looking.", now="2026-11-20T09:10:00+01:00")
    esc.ok("involve", ticket, "--team", "engineering", "--ask", "Logs?",
           now="2026-11-20T09:30:00+01:00")  # fmt: skip
    esc.ok("involve", ticket, "--team", "management", "--ask", "Refund?",
           now="2026-11-20T10:00:00+01:00")  # fmt: skip
    once = tmp_path / "once"
    shutil.copytree(workspace, once)
    # (swept from the cache: the ticket is quiet until its next moment, which must be the
    # second request's too, or its warning and breach wait for something else to change)
    for now in ("10:15", "11:45", "12:30"):
        esc.ok("sweep", "--no-report", now=f"2026-11-20T{now}:00+01:00")
    often = hook.messages()
    hook.posts.clear()
    Esc(once, now="2026-11-20T12:30:00+01:00").ok("sweep", "--no-report")
    assert hook.messages() == often
    told = [(path, text.splitlines()[1]) for path, text in hook.messages() if "SLA" in text]
    def said(what: str, team: str, at: str) -> str:
        return f"SLA {what}: collaboration (the request to {team}) by esc at 2026-11-20T{at}+01:00"

    assert told == [
        ("/eng", said("warning", "engineering", "10:30:00")),
        ("/support", said("warning", "engineering", "10:30:00")),
        ("/mgmt", said("warning", "management", "11:00:00")),
        ("/support", said("warning", "management", "11:00:00")),
        ("/eng", said("breached", "engineering", "11:30:00")),
        ("/support", said("breached", "engineering", "11:30:00")),
        ("/mgmt", said("breached", "management", "12:00:00")),
        ("/support", said("breached", "management", "12:00:00")),
    ]
    mgmt_warning = next(text for path, text in hook.messages()
                        if path == "/mgmt" and "SLA warning" in text)  # fmt: skip
    assert "next deadline: 2026-11-20T12:00:00+01:00" in mgmt_warning
    mgmt_breach = next(text for path, text in hook.messages()
                       if path == "/mgmt" and "SLA breached" in text)  # fmt: skip
    assert "next deadline: 2026-11-20T12:00:00+01:00 (passed)" in mgmt_breach  # (its own)
    log = (workspace / "tickets" / f"{ticket}.md").read_text(encoding="utf-8")
    assert (
        "- 2026-11-20T11:00:00+01:00 · esc · sla.collaboration: ok → warning · management,"
        " due 2026-11-20T12:00:00+01:00\n"
    ) in log


def test_news_of_working_hours_a_sweep_finds_after_closing_is_not_held(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """Warnings crossed at 16:30 and 16:45 (office open), first seen by a sweep at 17:05:
    held "to be sent together at its next working hour", they went one by one the next
    morning. Quiet hours are by when it happened: news of working hours goes at once, as
    a sweep then would have sent it."""
    quiet = NOTIFY + "  quiet:\n    support-chat: office\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + quiet)
    assert esc("validate").code == 0, esc("validate").err
    for title, at in (("One", "15:30"), ("Two", "15:45")):
        esc.ok("create", "--title", title, "--category", "billing",
               now=f"2026-11-19T{at}:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-19T16:15:00+01:00")
    before = len(hook.posts)
    out = esc.ok("sweep", "--no-report", now="2026-11-19T17:05:00+01:00")
    assert "held for its quiet hours" not in out
    warned = [b["title"] for _, b in hook.posts[before:]]
    assert len(warned) == 2 and all("SLA warning: first_response" in t for t in warned)
    esc.ok("sweep", "--no-report", now="2026-11-20T09:05:00+01:00")
    assert [b["title"] for _, b in hook.posts[before:]] == warned  # (nothing sent twice)


def test_dry_run_says_what_quiet_hours_hold_apart_from_what_it_would_retry(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """Messages held for quiet hours, never tried: `--dry-run` called them "would retry"
    (what failed), at hours the real sweep holds them too."""
    quiet = NOTIFY + "  quiet:\n    support-chat: office\n"
    (workspace / "rules.yaml").write_text(RULES_LEVELS + quiet)
    for title in ("One", "Two"):
        esc.ok("create", "--title", title, "--category", "billing",
               now="2026-11-20T16:00:00+01:00")  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-11-20T17:30:00+01:00")
    saturday = esc.ok("sweep", "--no-report", "--dry-run", now="2026-11-21T10:00:00+01:00")
    assert saturday.count("would hold support-chat for its quiet hours: [esc] T-") == 2
    assert "would retry" not in saturday and "would send" not in saturday
    data = json.loads(esc.ok("sweep", "--no-report", "--dry-run", "--json",
                             now="2026-11-21T10:00:00+01:00"))  # fmt: skip
    assert len(data["held"]) == 2 and data["retries"] == []
    monday = esc.ok("sweep", "--no-report", "--dry-run", now="2026-11-23T09:05:00+01:00")
    # (at its working hour the two go as one message, as the real sweep sends them: the
    # dry run listed each as a message of its own)
    digest = "[esc] 2 notifications from support-chat's quiet hours"
    assert f"  would send support-chat: {digest}\n" in monday
    assert "would send support-chat: [esc] T-" not in monday
    data = json.loads(esc.ok("sweep", "--no-report", "--dry-run", "--json",
                             now="2026-11-23T09:05:00+01:00"))  # fmt: skip
    assert [(d["target"], d["subject"], len(d["events"])) for d in data["digests"]] == [
        ("support-chat", digest, 2)
    ]
    assert hook.posts == []
    esc.ok("sweep", "--no-report", now="2026-11-23T09:05:00+01:00")
    assert [b["title"] for _, b in hook.posts] == [digest]


def test_dry_run_says_a_message_to_a_target_gone_would_be_dropped(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """A message whose target rules.yaml no longer has is dropped by a sweep; `--dry-run`
    listed it as one it would send."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    make(esc)
    hook.fail = True
    esc.ok("sweep", "--no-report", now="2026-11-20T10:30:00+01:00")  # (queued, failed)
    hook.fail = False
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY.replace("support-chat", "chat"))
    assert esc("validate").code == 0, esc("validate").err
    dry = esc.ok("sweep", "--no-report", "--dry-run", now="2026-11-20T12:00:00+01:00")
    assert "would drop support-chat (no such target in rules.yaml any more): [esc] T-" in dry
    assert "would retry support-chat" not in dry and "would send support-chat" not in dry


def test_a_message_waiting_for_its_backoff_is_dropped_once_its_target_is_gone(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """The `notify:` section taken out while a failed message waited for its backoff:
    no sweep said it was dropped, `check` no longer named it, and the section put back
    weeks later sent the stale page (audit helper-411).  Dropped by the next sweep, said."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    make(esc)
    hook.fail = True
    esc.ok("sweep", "--no-report", now="2026-11-20T10:30:00+01:00")  # (queued, failed)
    hook.fail = False
    (workspace / "rules.yaml").write_text(RULES_LEVELS)
    dry = esc.ok("sweep", "--no-report", "--dry-run", now="2026-11-20T10:31:00+01:00")
    assert "would drop support-chat (no such target in rules.yaml any more)" in dry
    swept = esc("sweep", "--no-report", now="2026-11-20T10:31:00+01:00")  # (in its backoff)
    said = "1 message to support-chat dropped: no such target in rules.yaml any more"
    assert said in swept.out + swept.err, swept
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    esc.ok("sweep", "--no-report", now="2026-12-10T10:00:00+01:00")
    assert [b["title"] for _, b in hook.posts if "SLA warning" in b["title"]] == []


PAGING_AROUND_THE_CLOCK = RULES_LEVELS.replace(
    "calendars:\n", 'calendars:\n  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}\n'
).replace(
    "    when: {level: 1}\n    calendar: office\n", "    when: {level: 1}\n    calendar: always\n"
).replace(
    "rules:\n",
    "rules:\n  - name: page-breach\n    when: {sla: breached}\n    then: {notify: eng-chat}\n"
    "  - name: page-warning\n    when: {sla: warning}\n    then: {notify: eng-chat}\n",
)


def test_quiet_hours_never_hold_a_rule_s_page_fired_on_a_breach(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """"Urgent messages are never held", and a breach is urgent: a rule's `notify:` fired
    on `sla: breached` at 21:00 on a Friday waited all weekend for the office to open
    (only news of a ticket at the top priority went at once).  Its page on the warning
    (not urgent) still waits."""
    quiet = NOTIFY + "  quiet:\n    eng-chat: office\n"
    (workspace / "rules.yaml").write_text(PAGING_AROUND_THE_CLOCK + quiet)
    assert esc("validate").code == 0, esc("validate").err
    esc.ok("create", "--title", "Night", "--category", "billing", now="2026-11-20T19:00:00+01:00")
    out = esc.ok("sweep", "--no-report", now="2026-11-20T21:30:00+01:00")
    sent = [text.split("\n")[1] for path, text in hook.messages() if path == "/eng"]
    assert "rule page-breach fired (sla: breached) by rule:page-breach at 2026-11-20T21:00" in (
        "\n".join(sent)
    )
    assert not [line for line in sent if "page-warning" in line]
    assert "notify: 2 messages to eng-chat held for its quiet hours" in out  # (2 warnings)


def test_dry_run_says_which_new_messages_quiet_hours_would_hold(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`--dry-run` said `would notify` for every message the sweep's changes make, also
    those the real sweep holds for their target's quiet hours; they are `would hold`, in
    the text and in `--json`'s `held`, as a real sweep's `--json` lists what it held."""
    quiet = NOTIFY + "  quiet:\n    eng-chat: office\n"
    (workspace / "rules.yaml").write_text(PAGING_AROUND_THE_CLOCK + quiet)
    ticket = esc.ok(
        "create", "--title", "Night", "--category", "billing", now="2026-11-20T19:00:00+01:00"
    ).strip()
    night = "2026-11-20T21:30:00+01:00"
    dry = esc.ok("sweep", "--no-report", "--dry-run", now=night)
    notified = [line for line in dry.splitlines() if "would notify eng-chat" in line]
    assert any("rule page-breach fired" in line for line in notified)  # (urgent: a breach)
    assert not [line for line in notified if "page-warning" in line]
    held = [line for line in dry.splitlines() if "would hold" in line]
    warning = f"  would hold eng-chat for its quiet hours: [esc] {ticket} rule page-warning fired"
    assert held == [f"{warning} (sla: warning)"] * 2  # (the first response's, the resolution's)
    data = json.loads(esc.ok("sweep", "--no-report", "--dry-run", "--json", now=night))
    assert [(m["target"], m["kind"]) for m in data["held"]] == [("eng-chat", "rule")] * 2
    assert hook.posts == []  # (a dry run sends nothing)
    real = json.loads(esc.ok("sweep", "--no-report", "--json", now=night))
    assert [(m["target"], m["event"]) for m in real["held"]] == [
        (m["target"], m["event"]) for m in data["held"]
    ]


def _notifying_clones(esc: Esc, workspace: Path, tmp_path: Path) -> tuple[str, Path, Path]:
    """A committed ticket in a workspace whose rules notify, its bare remote, and a second
    clone of it with the merge driver: the ticket's ID, the remote and the other clone."""
    from tests.commands.test_sweep import committed_repo, git, with_remote

    (ticket,) = committed_repo(esc, workspace, "Invoice missing")
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    git(workspace, "commit", "-qam", "notify")
    remote = with_remote(workspace, tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    Esc(other).ok("install-git")
    return ticket, remote, other


def test_an_earlier_sweep_s_uncommitted_rewrite_is_taken_back_and_not_told_twice(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: each sent once.  A sweep here could not commit (no git identity) what its
    rules did; the other clone swept the same deadline, pushed and told it.  The next
    `--push` sweep here commits the earlier sweep's rewrite, is rejected, and takes that
    rewrite back as it takes its own, so the rebase brings the other clone's: nothing is
    told twice, and the commit names no escalation it does not make.  (The earlier
    rewrite was rebased as if a person's, beside a person's note: engineering was told of
    the escalation twice, and the commit listed it; audit helper-450.)"""
    from tests.commands.test_sweep import git

    ticket, _remote, other = _notifying_clones(esc, workspace, tmp_path)
    esc.ok("comment", ticket, "--internal", "-m", "bob's note", now="2026-11-20T10:30:00+01:00")
    git(workspace, "commit", "-qam", "a note")
    Esc(other).ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:00+01:00")
    told = sorted((p, b["title"]) for p, b in hook.posts)
    assert len(told) == 4 and any("escalated" in title for _, title in told)
    identity = {n: os.environ[n] for n in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME",
                "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL") if n in os.environ}  # fmt: skip
    for name in (*identity, "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    git(workspace, "config", "user.useConfigOnly", "true")  # (no identity guessed)
    failed = esc("sweep", "--commit", "--no-report", now="2026-11-20T11:35:00+01:00")
    assert failed.code == 1 and "no git identity" in failed.err
    for name, value in identity.items():
        monkeypatch.setenv(name, value)
    out = esc.ok("sweep", "--push", "--no-report", now="2026-11-20T11:40:00+01:00")
    assert "pushed" in out and "left by an earlier sweep" not in out
    assert sorted((p, b["title"]) for p, b in hook.posts) == told  # (nothing twice)
    message = git(workspace, "log", "-1", "--format=%B")
    assert message.startswith("esc sweep: ") and "breached-goes-up" not in message
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert text.count("hierarchical escalation") == 1 and "bob's note" in text


def test_a_sweep_whose_push_failed_sends_nothing_another_clone_pushed_and_told(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """Issue 16: two clones sweeping the same history must not both send.  This clone's push
    failed (its messages wait for the push); the other clone swept the same moments,
    pushed and told them; this clone's next push rebases onto the other's commit, and
    sends none of what waited: the other clone told it."""
    from tests.commands.test_sweep import git

    ticket, remote, other = _notifying_clones(esc, workspace, tmp_path)
    git(workspace, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    failed = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:00+01:00")
    assert failed.code == 1 and "git push" in failed.err
    assert hook.posts == []  # (a failed push sends nothing)
    Esc(other).ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:30+01:00")
    told = sorted((p, b["title"]) for p, b in hook.posts)
    assert len(told) == 4 and all(ticket in title for _, title in told)
    git(workspace, "remote", "set-url", "origin", str(remote))
    out = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:40:00+01:00")
    assert "notified" not in out
    assert sorted((p, b["title"]) for p, b in hook.posts) == told  # (nothing twice)
    # with nobody else pushing, what waited for a push goes with it
    git(workspace, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    esc.ok("escalate", ticket, "--priority", "high", "--reason", "db",
           now="2026-11-20T11:45:00+01:00")  # fmt: skip
    git(workspace, "commit", "-qam", "escalated")
    assert esc("sweep", "--commit", "--push", "--no-report",
               now="2026-11-20T11:50:00+01:00").code == 1  # fmt: skip
    git(workspace, "remote", "set-url", "origin", str(remote))
    out = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:55:00+01:00")
    assert "notified: " in out
    assert [(p, b["title"]) for p, b in hook.posts[len(told) :]] == [
        ("/eng", f"[esc] {ticket} priority escalated normal → high")
    ]
    # what this clone's ticket holds and the other clone's does not (a person's note here,
    # naming a team): the other clone swept the ticket later and pushed first, but never
    # had the note, and never told it
    git(other, "pull", "-q", "origin", "main")
    git(workspace, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    esc.ok("comment", ticket, "--internal", "-m", "@engineering please look",
           now="2026-11-20T12:00:00+01:00")  # fmt: skip
    git(workspace, "commit", "-qam", "a note")
    assert esc("sweep", "--commit", "--push", "--no-report",
               now="2026-11-20T12:05:00+01:00").code == 1  # fmt: skip
    told = list(hook.posts)
    Esc(other).ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T17:10:00+01:00")
    text = (other / "tickets" / f"{ticket}.md").read_text()
    assert "  checked: 2026-11-20T17:10:00+01:00\n" in text and "please look" not in text
    git(workspace, "remote", "set-url", "origin", str(remote))
    esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T17:15:00+01:00")
    mentioned = [b["title"] for _, b in hook.posts[len(told) :] if "mention" in b["title"]]
    assert len(mentioned) == 1, [b["title"] for _, b in hook.posts[len(told) :]]


@pytest.mark.parametrize("plain", [(), ("--commit",)])
def test_a_sweep_that_does_not_push_leaves_what_a_failed_push_held_for_the_next_push(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path, plain: tuple[str, ...]
) -> None:
    """This clone's push failed; the other clone pushed the same sweep and told it; a sweep
    here without --push (or with --commit alone) sent everything that waited for the push:
    each message twice (audit helper-387).  It leaves them queued and says so; the next
    --push sweep finds them told upstream and drops them."""
    from tests.commands.test_sweep import git

    _, remote, other = _notifying_clones(esc, workspace, tmp_path)
    git(workspace, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    failed = esc("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:00+01:00")
    assert failed.code == 1 and hook.posts == []
    Esc(other).ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:30+01:00")
    told = sorted((p, b["title"]) for p, b in hook.posts)
    assert len(told) == 4
    git(workspace, "remote", "set-url", "origin", str(remote))
    preview = esc.ok("sweep", "--dry-run", "--no-report", now="2026-11-20T11:31:00+01:00")
    assert "would send" not in preview
    out = esc.ok("sweep", *plain, "--no-report", now="2026-11-20T11:31:00+01:00")
    assert sorted((p, b["title"]) for p, b in hook.posts) == told  # (nothing twice)
    assert (
        "notified: 4 messages of a push that failed left queued for the next --push sweep"
        " (another clone may have told them)"
    ) in out
    esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:40:00+01:00")
    assert sorted((p, b["title"]) for p, b in hook.posts) == told
    assert not (workspace / ".esc-cache" / "outbox-push-hold.json").exists()


def test_a_message_waiting_for_its_retry_survives_a_later_sweep_taken_back(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """The 11:30 sweep pushed its escalation, but the chat failed: its messages wait for a
    retry (the ones behind the failed one never tried).  The 17:30 sweep's push fails (its
    escalation at the 17:00 breach), the remote moves, and the 17:35 sweep takes that
    unpushed rewrite back before it rebases:
    it dropped every message of the ticket never tried, the 11:30 ones too, which no
    sweep makes again (audit n49).  They are sent, once."""
    from tests.commands.test_sweep import git

    ticket, remote, other = _notifying_clones(esc, workspace, tmp_path)
    hook.fail = True
    esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:00+01:00")
    assert hook.posts == []
    waiting = sorted(m.name for m in (workspace / ".esc-cache" / "outbox").glob("*.json"))
    assert waiting
    hook.fail = False
    git(workspace, "remote", "set-url", "origin", str(tmp_path / "nowhere.git"))
    assert esc("sweep", "--commit", "--push", "--no-report",
               now="2026-11-20T17:30:00+01:00").code == 1  # fmt: skip
    sent_before = list(hook.posts)
    assert "rule:breached-goes-up" in (workspace / "tickets" / f"{ticket}.md").read_text()
    git(workspace, "remote", "set-url", "origin", str(remote))
    git(other, "pull", "-q", "origin", "main")
    (other / "NOTES.md").write_text("on call: bob\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-qm", "notes")
    git(other, "push", "-q", "origin", "main")
    esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T17:35:00+01:00")
    esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T18:30:00+01:00")
    sent = sorted(m.name for m in (workspace / ".esc-cache" / "outbox" / "sent").glob("*.json"))
    assert set(waiting) <= set(sent), (waiting, sent)
    titles = [b["title"] for _, b in hook.posts]
    assert len(titles) == len(set(zip(titles, (p for p, _ in hook.posts), strict=True)))
    assert sent_before == [] or all(t in titles for t in (b["title"] for _, b in sent_before))


def test_two_clones_sweeping_the_same_second_make_one_commit_and_tell_it_once(
    esc: Esc, workspace: Path, hook: Hook, tmp_path: Path
) -> None:
    """Two clones at the same commit swept at the same --now under the same git identity
    (as `esc doctor` has every clone set it) make the very same commit: the second push
    found the remote up to date, took it as its own, and sent every message again
    (issue 16's audit).  It tells none of what its commit holds: the first clone did."""
    from tests.commands.test_sweep import git

    _, _, other = _notifying_clones(esc, workspace, tmp_path)
    Esc(other).ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:00+01:00")
    told = list(hook.posts)
    assert told
    out = esc.ok("sweep", "--commit", "--push", "--no-report", now="2026-11-20T11:30:00+01:00")
    assert git(workspace, "rev-parse", "HEAD") == git(other, "rev-parse", "HEAD")
    assert "notified" not in out
    assert hook.posts == told
    assert not [m for m in (workspace / ".esc-cache" / "outbox").rglob("*.json")
                if "sent" not in m.parts]  # fmt: skip


def test_a_rule_s_notify_is_logged_in_the_ticket_and_said_by_the_sweep(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """A rule that only notifies left no trace in the ticket (`git diff`, `esc log` could not
    tell anyone was paged) and "1 changed" in the sweep said nothing of it; a replay that
    did not know it fired made it fire again under another event id."""
    (workspace / "rules.yaml").write_text(PAGING_AROUND_THE_CLOCK + NOTIFY)
    ticket = esc.ok("create", "--title", "Night", "--category", "billing",
                    now="2026-11-20T19:00:00+01:00").strip()  # fmt: skip
    out = esc.ok("sweep", "--no-report", now="2026-11-20T21:30:00+01:00")
    assert f"  {ticket}: notify eng-chat (page-breach)" in out.splitlines()
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert "· rule:page-breach · notified · eng-chat\n" in text
    pages = [t for _, t in hook.messages() if "rule page-breach fired" in t]
    assert len(pages) == 1
    # (later sweeps, one without the cache, know it fired: no second page)
    esc.ok("sweep", "--no-report", now="2026-11-20T22:00:00+01:00")
    shutil.rmtree(workspace / ".esc-cache")
    esc.ok("sweep", "--no-report", now="2026-11-20T23:00:00+01:00")
    assert len([t for _, t in hook.messages() if "rule page-breach fired" in t]) == 1


def test_a_target_that_answers_again_gets_what_waited_for_its_backoff_at_once(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """The warning failed at 12:10 (its next try at 12:15); at 12:12 the target answers a
    newer message, and the warning waited for its backoff behind it (up to 6 hours for a
    message that failed often): it goes in the same sweep, right after."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = make(esc)
    hook.fail = True
    esc.ok("sweep", now="2026-11-20T12:10:00+01:00")  # (the 12:00 warning: failed)
    assert not hook.messages()
    hook.fail = False
    esc.ok("comment", ticket, "--internal", "-m", "@support have a look",
           now="2026-11-20T12:11:00+01:00")  # fmt: skip
    dry = esc.ok("sweep", "--dry-run", now="2026-11-20T12:12:00+01:00")  # (says it too)
    assert "would retry support-chat:" in dry and "would notify support-chat:" in dry, dry
    esc.ok("sweep", now="2026-11-20T12:12:00+01:00")
    sent = [text for path, text in hook.messages() if path == "/support"]
    assert any("SLA warning" in line for line in sent), sent
    assert any("mentions @support" in line for line in sent), sent


def test_a_re_routing_and_two_escalations_in_one_second_are_told_as_they_were(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`classify` re-routed the ticket support → engineering, then one person escalated it
    back to support and up again, all in one second: the re-routing was told as a
    hierarchical escalation, and the functional one as hierarchical too."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY)
    ticket = esc.ok("create", "--title", "Duplicates", "--body", "x",
                    now="2026-11-20T09:00:00+01:00").strip()  # fmt: skip
    at = "2026-11-20T09:10:00+01:00"
    esc.ok("classify", ticket, "--category", "bug", "--by", "ann", now=at)
    esc.ok("escalate", ticket, "--to", "support", "--reason", "how-to", "--by", "ann", now=at)
    esc.ok("escalate", ticket, "--up", "--reason", "key account", "--by", "ann", now=at)
    out = esc.ok("sweep", "--dry-run", now="2026-11-20T09:20:00+01:00")
    told = sorted(line.split(f"{ticket} ", 1)[1] for line in out.splitlines()
                  if "would notify" in line)  # fmt: skip
    assert told == [
        "escalated engineering → support (functional)",
        "escalated support → engineering (hierarchical)",
    ]


def test_notify_test_of_a_team_with_no_target_says_nothing_was_sent(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """`teams: {support: []}`: `notify test support` sent nothing, printed nothing and
    exited 0, which reads as success (audit helper-423)."""
    (workspace / "rules.yaml").write_text(RULES_LEVELS + NOTIFY.replace("[support-chat]", "[]"))
    result = esc("notify", "test", "support")
    assert (result.code, result.out) == (1, "")
    assert result.err == "esc: notify test: support has no target in rules.yaml's notify:;" \
        " nothing was sent\n"
    assert hook.posts == []


def test_a_rule_whose_target_was_replaced_pages_the_new_one(
    esc: Esc, workspace: Path, hook: Hook
) -> None:
    """rules.yaml's page-urgent rule sent to `old`; an edit replaced `old` with `new` (the
    target and the rule's `notify:`).  A ticket made before the first sweep under the edit
    is replayed under the rules the sweeps ran then, whose rule named `old`: nothing was
    sent, nothing said, and the log claimed `notified · old` (audit helper-411).  What it
    names being gone, the rule's targets are as rules.yaml has them now."""
    rule = ("  - name: page-urgent\n    when: {priority: urgent}\n"
            "    then: {notify: %s}\n")  # fmt: skip
    base = (workspace / "rules.yaml").read_text() + rule % "old"
    assert base.rstrip().endswith("then: {notify: old}")  # (the last of the rules)
    targets = 'notify:\n  targets:\n    %s: "json://127.0.0.1:${HOOK_PORT}/%s"\n'
    (workspace / "rules.yaml").write_text(base + targets % ("old", "OLD"))
    esc.ok("sweep", "--no-report", now="2026-12-29T09:00:00+01:00")
    (workspace / "rules.yaml").write_text(
        base.replace(rule % "old", rule % "new") + targets % ("new", "NEW")
    )
    made = esc.ok("create", "--title", "down", "--priority", "urgent",
                  now="2026-12-29T10:00:00+01:00").strip()  # fmt: skip
    esc.ok("sweep", "--no-report", now="2026-12-29T10:05:00+01:00")
    assert [path for path, _ in hook.messages()] == ["/NEW"]
    assert "rule page-urgent fired" in hook.messages()[0][1] and made in hook.messages()[0][1]
