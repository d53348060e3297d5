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
