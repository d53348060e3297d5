"""The outbox: addressing mail to a customer through a target's mailto:// URL, keeping
messages, and sending each once (never by two processes at a time)."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from esc.domain.customer_mail import Outgoing
from esc.domain.notify import Notify, Target, expand
from esc.store.outbox import (
    Delivery,
    Message,
    Outbox,
    addressed,
    customer_message,
    deliver,
    send,
)
from tests.commands.test_notify import smtp  # noqa: F401  (the fixture)
from tests.disks import fill, small_disk
from tests.webhook import Hook

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)


def test_a_mail_url_is_addressed_to_the_customer_alone() -> None:
    url = "mailtos://user:p%40ss@smtp.example:465/boss@example.com?from=help@x.example&to=a@b.example&bcc=archive@x.example"
    got = addressed(url, "jane@shop.example", {"In-Reply-To": "<m1@shop.example>"})
    assert got == (
        "mailtos://user:p%40ss@smtp.example:465?from=help@x.example&bcc=archive@x.example"
        "&to=jane@shop.example&+In-Reply-To=%253Cm1%2540shop.example%253E"
    )  # (quoted twice: apprise decodes a header's value twice)


def test_a_customer_message_keeps_its_address_and_headers(tmp_path: Path) -> None:
    mail = Outgoing("e1", "T-abcd", "reply", "jane@x.example", "Re: [T-abcd] x", "Done\n",
                    {"In-Reply-To": "<m1@x>"})  # fmt: skip
    outbox = Outbox(tmp_path)
    assert outbox.queue([customer_message(mail, "customers", NOW)]) == ["e1-customers"]
    assert outbox.queue([customer_message(mail, "customers", NOW)]) == []  # once only
    (kept,) = outbox.all()
    assert (kept.to, kept.headers, kept.kind) == (
        "jane@x.example",
        {"In-Reply-To": "<m1@x>"},
        "reply",
    )


def test_a_sent_message_is_kept_aside_and_never_queued_again(tmp_path: Path) -> None:
    """Sent: moved to outbox/sent/ (what every sweep, check and doctor reads is what is
    still to send); made again, it is not queued again. One an older esc left sent among
    the pending is moved there when read."""
    import dataclasses

    mail = Outgoing("e1", "T-abcd", "reply", "jane@x.example", "Re: [T-abcd] x", "Done\n", {})
    outbox = Outbox(tmp_path)
    outbox.queue([customer_message(mail, "customers", NOW)])
    (message,) = outbox.all()
    outbox.save(dataclasses.replace(message, status="sent", sent=NOW))
    assert outbox.all() == []
    assert json.loads(outbox.sent_path("e1-customers").read_text())["status"] == "sent"
    assert outbox.queue([customer_message(mail, "customers", NOW)]) == []
    older = dataclasses.replace(message, event="e2", status="sent", sent=NOW)
    outbox.path(older.key).write_text(json.dumps(older.as_json()))
    assert outbox.all() == [] and outbox.sent_path("e2-customers").exists()
    assert not outbox.path("e2-customers").exists()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A small empty disk of its own."""
    with small_disk(tmp_path / "disk") as folder:
        yield folder


def test_messages_a_full_disk_cannot_all_keep_are_none_kept(disk: Path) -> None:
    """Issue 20: the disk fills while a change's messages are queued (before its ticket is
    written, which then is not): the ones kept before the one that failed stayed, and a
    later sweep sent news of a change that was never written."""
    outbox = Outbox(disk / "ws")
    messages = [
        customer_message(Outgoing(f"e{n}", "T-abcd", "reply", "jane@x.example", "Re: x",
                                  "Done\n" * 200, {}), "customers", NOW)
        for n in range(3)
    ]
    fill(disk)
    filler = disk / "filler"
    os.truncate(filler, filler.stat().st_size - 8192)  # (room for the first one alone)
    with pytest.raises(OSError) as caught:
        outbox.queue(messages)
    assert caught.value.errno == errno.ENOSPC
    assert outbox.all() == []
    assert [p.name for p in outbox.folder.iterdir() if p.is_file()] == []  # (nor a temporary)
    filler.unlink()
    assert len(outbox.queue(messages)) == 3


def test_sent_messages_a_month_old_are_removed_once_a_day(tmp_path: Path) -> None:
    """Kept only so that their events are not queued again: after 30 days none comes back.
    sent/ is looked through once per day of `now`, so a sweep every few minutes does not
    read every sent message every time."""
    import dataclasses

    outbox = Outbox(tmp_path)
    assert outbox.prune_sent(NOW) == 0  # (nothing sent yet: nothing written either)
    assert not outbox.sent_folder.exists()

    def sent(event: str, days_ago: float) -> None:
        mail = Outgoing(event, "T-abcd", "reply", "jane@x.example", "Re: x", "Done\n", {})
        message = customer_message(mail, "customers", NOW)
        when = NOW - dt.timedelta(days=days_ago)
        outbox.save(dataclasses.replace(message, status="sent", sent=when))

    sent("old", 31)
    sent("recent", 29)
    (outbox.sent_folder / "notes.txt").write_text("mine\n")
    assert outbox.prune_sent(NOW) == 1
    assert sorted(p.name for p in outbox.sent_folder.iterdir() if p.suffix) == [
        "notes.txt",
        "recent-customers.json",
    ]
    sent("older", 40)
    assert outbox.prune_sent(NOW + dt.timedelta(hours=1)) == 0  # the same day: not again
    assert outbox.prune_sent(NOW + dt.timedelta(days=1)) == 1  # the next day
    assert outbox.sent_path("recent-customers").exists()
    assert outbox.prune_sent(NOW + dt.timedelta(days=2)) == 1  # 31 days after: removed


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    server.answer_held = True  # (a held request is answered once let go)
    yield server
    server.close()


def notification(event: str, ticket_id: str = "T-1", what: str = "escalated a → b") -> Message:
    return Message(event, "hook", ticket_id, "escalated", f"[esc] {ticket_id} {what}",
                   f"{ticket_id}: {what}\nevent {event}", NOW)  # fmt: skip


def hook_notify(hook: Hook, auth: str = "") -> Notify:
    url = f"json://{auth}127.0.0.1:{hook.port}/eng?rto=60"  # (a held answer: no timeout)
    return Notify(targets={"hook": Target("hook", url)})


SENDER = """
import datetime as dt, json, sys
from pathlib import Path
from esc.domain.notify import Notify, Target
from esc.store.outbox import Outbox, deliver
root, url = Path(sys.argv[1]), sys.argv[2]
now = dt.datetime.fromisoformat(sys.argv[3])
done = deliver(Outbox(root), Notify(targets={"hook": Target("hook", url)}), now, who="esc sweep")
print(json.dumps([m.key for m in done.sent]))
"""


def test_a_message_being_sent_by_one_process_is_never_sent_by_another(
    tmp_path: Path, hook: Hook
) -> None:
    """A sweep (another process) is sending e1 to a slow endpoint; meanwhile a command
    queues e2 and sends with --notify, and a sweep-like delivery finds the outbox busy:
    neither sends (e1 again was the duplicate); the sending process sends e2 too before it
    lets go. Each event reaches the receiver once."""
    import json
    import subprocess
    import sys
    import threading

    outbox = Outbox(tmp_path)
    outbox.queue([notification("e1")])
    hook.hold = threading.Event()
    notify = hook_notify(hook)
    url = notify.targets["hook"].url
    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, str(tmp_path), url, NOW.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert hook.arrived.wait(60), "the first process never sent"
        outbox.queue([notification("e2", "T-2")])
        command = deliver(outbox, notify, NOW, only=["e2-hook"])  # (a command: no wait)
        assert (command.sent, command.failed) == ([], [])
        assert [m.key for m in command.left] == ["e2-hook"]
        assert f"esc sweep pid {sender.pid} on " in command.busy
        note = command.busy_note() or ""
        assert note.startswith("notify: 1 message left queued: esc sweep pid ")
        assert note.endswith("is sending notifications (it or the next sweep sends them)")
        other = deliver(outbox, notify, NOW, wait=0)  # (all that is due, as a sweep)
        assert other.sent == [] and [m.key for m in other.left] == ["e1-hook", "e2-hook"]
    finally:
        hook.hold.set()
        out, _ = sender.communicate(timeout=60)
    assert json.loads(out) == ["e1-hook", "e2-hook"]
    assert hook.events() == ["e1", "e2"]
    assert deliver(outbox, notify, NOW) == Delivery([], [])  # (sent: nothing left)
    assert outbox.all() == []


def test_a_command_sends_its_own_messages_only(tmp_path: Path, hook: Hook) -> None:
    """`only`: the keys a command's change queued; another message due (a sweep's retry)
    is left for the sweep, which sends what is due."""
    outbox = Outbox(tmp_path)
    outbox.queue([notification("old"), notification("mine")])
    notify = hook_notify(hook)
    mine = deliver(outbox, notify, NOW, only=["mine-hook"])
    assert [m.key for m in mine.sent] == ["mine-hook"] and hook.events() == ["mine"]
    assert [m.key for m in deliver(outbox, notify, NOW).sent] == ["old-hook"]
    assert hook.events() == ["mine", "old"]


def test_news_that_waits_for_quiet_hours_calls_no_target_in_its_backoff(
    tmp_path: Path, hook: Hook
) -> None:
    """An urgent page failed at night (next try 23:05); news made in the target's quiet
    hours, due but waiting for Monday, calls the target for nothing: the page is not tried
    again before its retry (it would be at every sweep, its backoff undone)."""
    import dataclasses

    from esc.domain.calendar import Calendar

    office = Calendar("office", "UTC", tuple(((540, 1020),) if d < 5 else () for d in range(7)))
    notify = dataclasses.replace(hook_notify(hook), quiet={"hook": office})
    night = dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.timezone.utc)  # (Friday: quiet)
    minute = dt.timedelta(minutes=1)
    page = dataclasses.replace(notification("page"), queued=night, happened=night, urgent=True)
    outbox = Outbox(tmp_path)
    outbox.queue([page])
    hook.fail = True
    assert [m.key for m in deliver(outbox, notify, night).failed] == ["page-hook"]
    news = dataclasses.replace(
        notification("news"), kind="assigned", queued=night + minute, happened=night + minute
    )
    outbox.queue([news])
    calls = len(hook.posts)
    for n in range(1, 5):
        done = deliver(outbox, notify, night + n * minute)
        assert done.failed == [] and [m.key for m in done.quiet] == ["news-hook"]
    assert len(hook.posts) == calls
    assert {m.key: m.attempts for m in outbox.all()} == {"page-hook": 1, "news-hook": 0}


def test_a_quiet_hours_message_refused_on_its_own_holds_back_no_later_news(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What quiet hours held goes before later news to its target (audit helper-441); one
    that fails of itself alone (`MessageRefused`: apprise fails on what it is given, which
    no real server makes it do, hence the one patch) marked the target down, and held back
    every later message to it (review helper-449).  The others still go, to a real server."""
    import dataclasses

    from esc.domain.calendar import Calendar
    from esc.store import outbox as module

    office = Calendar("office", "UTC", tuple(((540, 1020),) if d < 5 else () for d in range(7)))
    notify = dataclasses.replace(hook_notify(hook), quiet={"hook": office})
    night = dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.timezone.utc)  # (Friday: quiet)
    monday = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
    made = [
        dataclasses.replace(
            notification(event, what=what), kind="assigned", queued=when, happened=when
        )
        for event, what, when in (
            ("night", "cannot be sent", night),
            ("later", "later news", monday - dt.timedelta(minutes=30)),
            ("more", "more news", monday - dt.timedelta(minutes=20)),
        )
    ]
    outbox = Outbox(tmp_path)
    outbox.queue(made)
    real = module._send

    def refusing(url: str, target: str, title: str, *rest: object) -> object:
        if "cannot be sent" in title:
            return module.MessageRefused(f"target {target}: TypeError")
        return real(url, target, title, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "_send", refusing)
    done = deliver(outbox, notify, monday)
    assert hook.events() == ["later", "more"] and done.held == []


def test_once_a_target_fails_its_other_messages_wait_for_its_retry(
    tmp_path: Path, hook: Hook
) -> None:
    """A target that is down (or hangs until its timeout) fails once a delivery: the rest
    of its messages are held, untried and not counted as failures, while the other targets
    are sent to; they wait with the message that failed, and go after it, in the order
    things happened, when it is retried (not at the next delivery, which would call the
    target again for them)."""
    from dataclasses import replace

    good = Hook()
    try:
        hook.fail = True
        notify = Notify(targets={
            "hook": hook_notify(hook).targets["hook"],
            "chat": Target("chat", f"json://127.0.0.1:{good.port}/chat"),
        })  # fmt: skip
        outbox = Outbox(tmp_path)
        outbox.queue([notification("e1"), notification("e2"), notification("e3"),
                      replace(notification("e4"), target="chat")])  # fmt: skip
        first = deliver(outbox, notify, NOW)
        assert [m.key for m in first.failed] == ["e1-hook"]
        assert [m.key for m in first.held] == ["e2-hook", "e3-hook"]
        assert [m.key for m in first.sent] == ["e4-chat"] and good.events() == ["e4"]
        assert first.held_note() == (
            "notify: 2 more messages to hook not tried after its failure (tried after what "
            "failed, when it is retried)"
        )
        kept = {m.key: m for m in outbox.all()}
        assert kept["e1-hook"].attempts == 1
        assert (kept["e2-hook"].attempts, kept["e2-hook"].error) == (0, "")
        retry = kept["e1-hook"].next_try
        assert retry == NOW + dt.timedelta(minutes=5)
        assert kept["e2-hook"].next_try == kept["e3-hook"].next_try == retry
        hook.fail = False  # (back up: nothing is due before e1's retry)
        assert deliver(outbox, notify, NOW + dt.timedelta(minutes=1)).sent == []
        assert retry is not None
        later = deliver(outbox, notify, retry)
        assert [m.key for m in later.sent] == ["e1-hook", "e2-hook", "e3-hook"]
        assert later.held == [] and hook.events() == ["e1", "e2", "e3"]
    finally:
        good.close()


def test_a_message_that_fails_on_its_own_holds_up_no_other_to_its_target(
    tmp_path: Path, smtp: tuple[int, list[tuple[str, list[str], str]]]  # noqa: F811
) -> None:
    """A customer's mail that can never go (no one address to send it to) fails alone:
    the target is not taken for down, and the next customer's mail goes."""
    port, mails = smtp
    url = f"mailto://127.0.0.1:{port}?from=help@esc.example&mode=insecure"
    notify = Notify(targets={"customers": Target("customers", url)})
    outbox = Outbox(tmp_path)
    bad = Outgoing("e1", "T-1", "reply", "jane@x.example, eve@y.example", "Re: x", "Done\n", {})
    # (apprise reads `o'` as a name: it went to brien@shop.example, a stranger)
    odd = Outgoing("e2", "T-2", "reply", "o'brien@shop.example", "Re: y", "Done\n", {})
    good = Outgoing("e3", "T-3", "reply", "kim@shop.example", "Re: z", "Done\n", {})
    outbox.queue([customer_message(bad, "customers", NOW),
                  customer_message(odd, "customers", NOW + dt.timedelta(seconds=1)),
                  customer_message(good, "customers", NOW + dt.timedelta(seconds=2))])  # fmt: skip
    got = deliver(outbox, notify, NOW + dt.timedelta(minutes=1))
    assert [m.key for m in got.sent] == ["e3-customers"] and got.held == []
    assert [(m.key, m.error) for m in got.failed] == [
        ("e1-customers", "target customers: 'jane@x.example, eve@y.example' is no e-mail address"),
        ("e2-customers", "target customers: apprise cannot send to \"o'brien@shop.example\" as it"
                         " is written; mail the customer yourself"),
    ]  # fmt: skip
    assert [recipients for _, recipients, _ in mails] == [["kim@shop.example"]]


def test_a_title_a_customer_wrote_pages_no_channel_and_hides_no_link_in_a_chat(
    hook: Hook,
) -> None:
    """Mattermost (and the like) render the text as Markdown: a customer's subject
    `@channel urgent: [reset your password](https://evil.example/login)` paged everyone
    and showed a disguised link.  A webhook of one's own gets the text as it is."""
    title = "@channel urgent: [reset your password](https://evil.example/login)"
    body = f"T-1: {title}\nevent e1"
    chat = Target("chat", f"mmost://127.0.0.1:{hook.port}/tok3n")
    own = Target("own", f"json://127.0.0.1:{hook.port}/own")
    notify = Notify(targets={"chat": chat, "own": own})
    assert send(notify, "chat", f"[esc] {title}", body) is None
    assert send(notify, "own", f"[esc] {title}", body, event="e1") is None
    (chat_path, chat_post), (own_path, own_post) = hook.posts
    assert chat_path == "/hooks/tok3n"
    said = chat_post["text"]
    assert "@channel" not in said and " [reset" not in said
    assert "@\u2060channel urgent: \\[reset your password\\](https://evil.example/login)" in said
    assert own_path == "/own" and title in own_post["message"]
    # (Zulip's and Matrix's channel-wide mentions too; an address is left as it is)
    from esc.store.outbox import chat_safe

    assert chat_safe("@**all** @_**topic** @room, mail kim@all.example") == (
        "@\u2060**all** @\u2060_**topic** @\u2060room, mail kim@all.example"
    )
    # (Mattermost trims `-`, `.`, `:` before a mention: those page the channel too)
    assert chat_safe("-@channel x.@here (@all):@everyone") == (
        "-@\u2060channel x.@\u2060here (@\u2060all):@\u2060everyone"
    )


def test_a_secret_with_url_characters_reaches_the_service_decoded(
    tmp_path: Path, hook: Hook
) -> None:
    """json://user:${PASS}@host: the password, with #, @ and /, reaches the receiver as
    HTTP Basic auth; a mailtos:// URL's account and password reach apprise decoded."""
    import base64
    import warnings

    env = {"PASS": "s3cr#t@x/y", "SMTP_USER": "me@example.com"}
    notify = hook_notify(hook, "user:${PASS}@")
    assert send(notify, "hook", "title", "body\nevent e9", env) is None
    token = base64.b64encode(b"user:s3cr#t@x/y").decode()
    assert hook.auth == [f"Basic {token}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

    url = expand("mailtos://${SMTP_USER}:${PASS}@smtp.example.com?to=a@b.example", env)
    mail = apprise.Apprise.instantiate(url)
    assert mail is not None
    assert (mail.user, mail.password, mail.host) == (
        "me@example.com",
        "s3cr#t@x/y",
        "smtp.example.com",
    )


def test_a_message_describes_itself_by_ticket_what_happened_and_target() -> None:
    """Two failed messages of one ticket and target are told apart in the sweep's line."""
    assert notification("e1", "T-x").describe() == "T-x escalated a → b to hook"
    warning = notification("e2", "T-x", "SLA warning: first_response")
    assert warning.describe() == "T-x SLA warning: first_response to hook"
    mail = Outgoing("e3", "T-x", "reply", "jane@x.example", "Re: [T-x] Hello", "Hi\n", {})
    assert customer_message(mail, "customers", NOW).describe() == "T-x reply to customers"


def test_a_message_recorded_sent_is_not_sent_again_after_a_crash(tmp_path: Path) -> None:
    """Stopped between writing the sent copy and removing the pending one: it went, and
    the pending copy is dropped, not sent again."""
    import dataclasses

    outbox = Outbox(tmp_path)
    outbox.queue([notification("e1")])
    (message,) = outbox.all()
    outbox.sent_folder.mkdir(parents=True)
    sent = dataclasses.replace(message, status="sent", sent=NOW)
    outbox.sent_path(message.key).write_text(json.dumps(sent.as_json()))
    assert outbox.path(message.key).exists()
    assert outbox.due(NOW) == [] and not outbox.path(message.key).exists()


def test_a_message_to_a_target_rules_yaml_no_longer_has_is_dropped_not_retried(
    tmp_path: Path, hook: Hook
) -> None:
    """A target taken out of rules.yaml left its messages failing for ever ("no notify
    target … in rules.yaml"), and `esc check` failing after 5 tries: they are dropped,
    and said so once."""
    outbox = Outbox(tmp_path)
    outbox.queue([notification("gone")])
    renamed = Notify(targets={"other": Target("other", f"json://127.0.0.1:{hook.port}/x")})
    done = deliver(outbox, renamed, NOW)
    assert [m.key for m in done.dropped] == ["gone-hook"] and done.failed == []
    assert done.held_note() == (
        "notify: 1 message to hook dropped: no such target in rules.yaml any more"
    )
    assert outbox.due(NOW) == [] and hook.events() == []
    assert deliver(outbox, renamed, NOW).dropped == []  # (said once: it is gone)


def test_messages_left_to_a_sending_command_are_the_next_sweep_s() -> None:
    """A command sends its own messages only: "esc comment pid N is sending notifications
    (it or the next sweep sends them)" promised what it never did."""
    left = Delivery([], [], busy="esc comment pid 12 on box", left=[notification("e")])
    assert left.busy_note() == (
        "notify: 1 message left queued: esc comment pid 12 on box is sending notifications"
        " (the next sweep sends them)"
    )


def test_the_reason_a_send_failed_holds_nothing_of_the_url_but_its_host() -> None:
    """apprise's warning is told as the reason; whatever of the URL it may quote (a token
    in the user, the password, a "port", the path or the query, as written or decoded)
    is cut out; a host name stays."""
    from esc.store.outbox import _apprise_reason

    said = "Failed to send to hooks.example.com BOTTOKEN99 s3cr/et99 PATHTOKEN q=QUERYTOKEN"
    url = "tgram://123456789:BOTTOKEN99@hooks.example.com/PATHTOKEN?key=QUERYTOKEN"
    reason = _apprise_reason(said, url)
    assert reason.startswith("Failed to send to hooks.example.com ")
    for secret in ("BOTTOKEN99", "PATHTOKEN", "QUERYTOKEN"):
        assert secret not in reason
    assert "s3cr/et99" not in _apprise_reason(said, "json://user:s3cr%2Fet99@h.example/x")
    assert "BOTTOKEN99" not in _apprise_reason(said, "tgram://123456789:BOTTOKEN99/chat")


def test_an_outbox_file_of_json_that_is_no_object_is_unreadable_not_a_crash(
    tmp_path: Path,
) -> None:
    """`[]` in a queued message's file made reading the outbox raise AttributeError: every
    sweep, check and doctor stopped with an internal error (a code review's find)."""
    folder = tmp_path / ".esc-cache" / "outbox"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text("[]")
    (folder / "b.json").write_bytes(b"\xff\xfe{")
    box = Outbox(tmp_path)
    assert box.all() == []
    assert [(p.name, why) for p, why in box.unreadable()] == [
        ("a.json", "not a message esc wrote"), ("b.json", "not UTF-8 text")
    ]


@pytest.mark.parametrize(
    "edit",
    [
        {"queued": "2026-11-24T10:00:00"},
        {"attempts": 1e400},
        {"attempts": "3"},
        {"attempts": -1},
        {"next_try": "soon"},
    ],
)
def test_a_hand_edited_message_file_is_unreadable_not_a_crash(
    tmp_path: Path, edit: dict[str, object]
) -> None:
    """A time without its UTC offset, or a count of tries that is no count, made every
    sweep, check and doctor stop (exit 2, a message naming no file; exit 3 for 1e400),
    and the daily clean-up of sent/ too: the file is said to be unreadable instead."""
    box = Outbox(tmp_path)
    box.queue([notification("e1"), notification("e2")])
    path = box.path("e1-hook")
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, **edit}))
    assert [m.key for m in box.all()] == ["e2-hook"]
    assert [(p.name, why) for p, why in box.unreadable()] == [
        ("e1-hook.json", "not a message esc wrote")
    ]
    box.sent_folder.mkdir()
    os.replace(path, box.sent_path("e1-hook"))
    assert box.prune_sent(NOW + dt.timedelta(days=60)) == 0  # (not esc's to remove)
    assert box.sent_path("e1-hook").exists()


def test_a_message_tried_a_million_times_waits_six_hours() -> None:
    from esc.store.outbox import MAX_BACKOFF, _record

    class Kept:
        def save(self, message: Message) -> None:
            pass

    message = notification("e1")
    message.attempts = 10**6 - 1
    _record(Kept(), message, "down", NOW, Delivery([], []))  # type: ignore[arg-type]
    assert message.next_try == NOW + MAX_BACKOFF


def test_a_new_message_to_a_target_that_keeps_failing_never_undoes_the_backoff(
    tmp_path: Path, hook: Hook
) -> None:
    """e1 failed at 10:00 (next try 10:05); e2, queued at 10:01, calls the target: e1, which
    happened first, is tried first and fails again (next try 10:11), and e2 waits with it;
    sweeps at 10:02-10:10 ask the target nothing.  (e2, held behind e1's failure but due at
    every sweep, took e1 along every minute, its backoff undone; review helper-480.)  Back
    up at e1's retry, both go, in the order they happened (e2 went first, before the fix:
    audit helper-469, a warning told after the breach that followed it)."""
    hook.fail = True
    notify = hook_notify(hook)
    outbox = Outbox(tmp_path)
    outbox.queue([notification("e1")])
    assert [m.key for m in deliver(outbox, notify, NOW).failed] == ["e1-hook"]
    minute = dt.timedelta(minutes=1)
    outbox.queue([notification("e2")])
    tried = [
        [m.key for m in deliver(outbox, notify, NOW + n * minute).failed] for n in range(1, 11)
    ]
    assert tried == [["e1-hook"]] + [[]] * 9
    kept = {m.key: m for m in outbox.all()}
    assert {key: m.attempts for key, m in kept.items()} == {"e1-hook": 2, "e2-hook": 0}
    assert kept["e1-hook"].next_try == kept["e2-hook"].next_try == NOW + 11 * minute
    hook.fail = False
    sent = deliver(outbox, notify, NOW + 11 * minute).sent
    assert [m.key for m in sent] == ["e1-hook", "e2-hook"] and hook.events() == ["e1", "e2"]


def test_of_two_things_at_one_instant_the_first_made_goes_first(
    tmp_path: Path, hook: Hook
) -> None:
    """A breach and the escalation it made happened at one instant: they go in the order
    the sweep made them, whatever their event ids (the order was the ids')."""
    from esc.domain.notify import Event
    from esc.store.outbox import messages_of

    at = NOW - dt.timedelta(minutes=5)
    made = [
        Event("zz-breach", "T-1", "sla_breached", at, "esc", "SLA breached", ("hook",)),
        Event("aa-escalated", "T-1", "escalated", at, "rule:up", "escalated a → b", ("hook",)),
    ]
    outbox = Outbox(tmp_path)
    outbox.queue(messages_of(made, NOW))
    kept = {m.key: m.order for m in Outbox(tmp_path).all()}  # (kept in its file)
    assert kept == {"zz-breach-hook": 0, "aa-escalated-hook": 1}
    sent = deliver(outbox, hook_notify(hook), NOW).sent
    assert [m.key for m in sent] == ["zz-breach-hook", "aa-escalated-hook"]


def test_one_message_the_service_refuses_holds_back_later_news_only_while_it_is_new(
    tmp_path: Path, hook: Hook
) -> None:
    """The service answers 400 to one payload, the target up: that message is tried first
    (it happened first), fails, and the news after it waits with it; once it has failed
    more than FAILING_AFTER times (check and doctor name it), it holds nothing back: every
    later news goes at the sweep that makes it.  (It held every later message to its
    target for ever; review helper-483.)"""
    from dataclasses import replace

    from esc.store.outbox import FAILING_AFTER

    hook.refuse = "T-1: bad"
    notify = hook_notify(hook)
    outbox = Outbox(tmp_path)
    outbox.queue([notification("bad", what="bad")])
    deliver(outbox, notify, NOW)
    minute = dt.timedelta(minutes=1)
    sent_at: dict[str, dt.datetime] = {}
    for n in range(5, 24 * 60, 5):  # (a sweep every 5 minutes for a day, news each hour)
        now = NOW + n * minute
        if n % 60 == 5:
            outbox.queue([replace(notification(f"news{n}"), queued=now, happened=now)])
        sent_at.update({m.event: now for m in deliver(outbox, notify, now).sent})
    assert len(sent_at) == 24  # (all the news went)
    (bad,) = [m for m in outbox.all() if m.event == "bad"]
    assert bad.attempts > FAILING_AFTER and hook.events()[-1] == "news1385"
    late = [e for e, at in sent_at.items() if at != NOW + int(e[4:]) * minute]
    assert len(late) <= FAILING_AFTER  # (held only while the refused one was new)
    assert hook.calls <= 24 + 2 * 24  # (no call at sweeps without news or retries)


def test_a_message_kept_for_the_push_calls_no_target_in_its_backoff(
    tmp_path: Path, hook: Hook
) -> None:
    """A message a sweep keeps for its push is no news to send: the target, whose earlier
    message waits for its backoff, is not called for it at every sweep (review helper-483)."""
    hook.fail = True
    notify = hook_notify(hook)
    outbox = Outbox(tmp_path)
    outbox.queue([notification("e1")])
    deliver(outbox, notify, NOW)
    outbox.queue([notification("pushed")])
    calls = hook.calls
    minute = dt.timedelta(minutes=1)
    for n in range(1, 31):
        deliver(outbox, notify, NOW + n * minute, keep={"pushed-hook"})
    assert hook.calls - calls == 2  # (e1's retries alone: at 10:05 and 10:15)


def test_a_long_outage_costs_a_target_two_calls_a_sweep_at_most(
    tmp_path: Path, hook: Hook
) -> None:
    """The target answers 500 for a day; a sweep every 5 minutes, news every hour: the
    messages that failed more than FAILING_AFTER times wait for their own retries, and a
    second failure in one delivery takes the target down (one call more each was made for
    every such message, every sweep with news; review helper-484)."""
    from dataclasses import replace

    hook.fail = True
    notify = hook_notify(hook)
    outbox = Outbox(tmp_path)
    minute = dt.timedelta(minutes=1)
    calls = []
    for n in range(0, 24 * 60, 5):
        now = NOW + n * minute
        if n % 60 == 0:
            outbox.queue([replace(notification(f"news{n}"), queued=now, happened=now)])
        before = hook.calls
        deliver(outbox, notify, now)
        calls.append(hook.calls - before)
    assert max(calls) <= 2 and sum(calls) < 24 * 12 / 2  # (nor a call every sweep)
    hook.fail = False
    later = NOW + 30 * 60 * minute
    sent = [m.event for m in deliver(outbox, notify, later).sent]  # (back: all goes, in order)
    assert sent == [f"news{n}" for n in range(0, 24 * 60, 60)]


def test_one_customer_s_refused_address_holds_back_no_other_customer_s_mail(
    tmp_path: Path, smtp: tuple[int, list[tuple[str, list[str], str]]]  # noqa: F811
) -> None:
    """The mail server refuses one customer's address for good with a code esc does not
    know as the address's (`550 5.4.1`, Microsoft 365's for no such mailbox): the mail to
    other customers through the same target goes at the next sweep, as it did, not after
    the refused one's retries (review helper-484: 2 h 18 min)."""
    port, _ = smtp
    url = f"mailto://127.0.0.1:{port}?from=help@desk.example&mode=insecure"
    notify = Notify(targets={"customers": Target("customers", url)})
    outbox = Outbox(tmp_path)
    minute = dt.timedelta(minutes=1)

    def mail(event: str, to: str, at: dt.datetime) -> Message:
        made = Outgoing(event, "T-1", "reply", to, "Re: x", "Hello\n", {})
        return customer_message(made, "customers", at)

    outbox.queue([mail("gone", "someone@gone.example", NOW)])
    deliver(outbox, notify, NOW)
    queued = {"jane": NOW + 2 * minute, "bob": NOW + 60 * minute}
    sent: dict[str, dt.datetime] = {}
    for n in range(5, 4 * 60, 5):
        now = NOW + n * minute
        outbox.queue([mail(e, f"{e}@shop.example", at) for e, at in queued.items()
                      if now - 5 * minute < at <= now])  # fmt: skip
        sent.update({m.event: now for m in deliver(outbox, notify, now).sent})
    assert {e: sent[e] - at <= 10 * minute for e, at in queued.items()} == {
        "jane": True, "bob": True
    }


def test_a_command_s_news_waits_for_an_earlier_message_to_its_target_in_its_backoff(
    tmp_path: Path, hook: Hook
) -> None:
    """A warning failed at 10:00 (a blip); at 10:02 a person's escalation with --notify
    (a command's own delivery, `only`) is left queued, said so, and the sweep at 10:05
    sends both, in the order they happened (the escalation went first; review
    helper-484)."""
    from dataclasses import replace

    notify = hook_notify(hook)
    outbox = Outbox(tmp_path)
    outbox.queue([notification("warning")])
    hook.fail = True
    deliver(outbox, notify, NOW)
    hook.fail = False
    later = NOW + dt.timedelta(minutes=2)
    outbox.queue([replace(notification("escalated"), queued=later, happened=later)])
    mine = deliver(outbox, notify, later, only=["escalated-hook"])
    assert mine.sent == [] and [m.key for m in mine.behind] == ["escalated-hook"]
    assert mine.held_note() == (
        "notify: 1 message to hook left queued behind an earlier one waiting for its retry "
        "(the next sweep sends them in order)"
    )
    sent = deliver(outbox, notify, NOW + dt.timedelta(minutes=5)).sent
    assert [m.key for m in sent] == ["warning-hook", "escalated-hook"]
    assert hook.events() == ["warning", "escalated"]


def test_a_command_s_news_waits_for_any_earlier_notification_to_its_target(
    tmp_path: Path, hook: Hook
) -> None:
    """Due for its retry, or never tried (queued by a `--no-notify` sweep, or left while
    the lock was busy), an earlier message to the target holds a command's own behind it:
    the sweep sends both in order (review helper-485)."""
    from dataclasses import replace

    notify = hook_notify(hook)
    for failed_first in (True, False):
        outbox = Outbox(tmp_path / str(failed_first))
        outbox.queue([notification("warning")])
        if failed_first:  # (its retry at 10:05: due when the command runs at 10:07)
            hook.fail = True
            deliver(outbox, notify, NOW)
            hook.fail = False
        later = NOW + dt.timedelta(minutes=7)
        outbox.queue([replace(notification("escalated"), queued=later, happened=later)])
        assert deliver(outbox, notify, later, only=["escalated-hook"]).sent == []
        deliver(outbox, notify, later + dt.timedelta(minutes=1))
        assert hook.events()[-2:] == ["warning", "escalated"]


def test_a_customer_s_mail_is_not_ordered_with_the_notifications_to_its_target(
    tmp_path: Path, smtp: tuple[int, list[tuple[str, list[str], str]]]  # noqa: F811
) -> None:
    """The customer mail target also takes a team's notification, which waits for its
    retry: a command's mail to a customer goes at once (review helper-485); and one
    customer's mail keeps its own order once the server is back."""
    from dataclasses import replace

    port, _ = smtp
    url = f"mailto://127.0.0.1:{port}?from=help@desk.example&to=team@desk.example&mode=insecure"
    notify = Notify(targets={"customers": Target("customers", url)})
    outbox = Outbox(tmp_path)
    minute = dt.timedelta(minutes=1)
    note = replace(notification("warn"), target="customers", attempts=1, next_try=NOW + 5 * minute)
    outbox.queue([note])

    def mail(event: str, at: dt.datetime) -> Message:
        made = Outgoing(event, "T-1", "reply", "jane@shop.example", event, f"{event}\n", {})
        return customer_message(made, "customers", at)

    outbox.queue([mail("ack", NOW + minute)])
    done = deliver(outbox, notify, NOW + minute, only=["ack-customers"])
    assert [m.key for m in done.sent] == ["ack-customers"] and done.behind == []
    down = Notify(targets={"customers": Target("customers", url.replace(str(port), "1"))})
    outbox = Outbox(tmp_path / "alone")  # (the customer's mail alone)
    outbox.queue([mail("first", NOW + 2 * minute)])
    assert [m.key for m in deliver(outbox, down, NOW + 2 * minute).failed] == [
        "first-customers"
    ]
    outbox.queue([mail("second", NOW + 3 * minute)])
    sent = [m.event for m in deliver(outbox, notify, NOW + 3 * minute).sent]
    assert sent.index("first") < sent.index("second")
