"""The outbox's addressing of mail to a customer through a target's mailto:// URL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from esc.domain.customer_mail import Outgoing
from esc.store.outbox import Outbox, addressed, customer_message

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)


def test_a_mail_url_is_addressed_to_the_customer_alone() -> None:
    url = "mailtos://user:p%40ss@smtp.example:465/boss@example.com?from=help@x.example&to=a@b.example&bcc=archive@x.example"
    got = addressed(url, "jane@shop.example", {"In-Reply-To": "<m1@shop.example>"})
    assert got == (
        "mailtos://user:p%40ss@smtp.example:465?from=help@x.example&bcc=archive@x.example"
        "&to=jane@shop.example&+In-Reply-To=%3Cm1%40shop.example%3E"
    )


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
    import json

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
