"""Parsing and reading mail (esc.store.mail) with Python's email and mailbox."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from esc.store import mail as store
from tests import mail_corpus as corpus


def test_multipart_alternative_takes_the_plain_part() -> None:
    data = corpus.message(text="Plain words", html="<p>HTML <b>words</b></p>")
    parsed = store.parse(data)
    assert parsed.mail.text.strip() == "Plain words"
    assert parsed.mail.sender == "Jane Doe <jane@shop.example>"
    assert parsed.mail.address == "jane@shop.example"
    assert parsed.mail.message_id == "<m1@shop.example>"
    assert parsed.mail.date is not None and parsed.mail.date.isoformat() == (
        "2026-11-20T09:40:00+01:00"
    )


def test_recipients_and_references_are_collected() -> None:
    data = corpus.message(
        to="Help <HELP@esc.example>, security@esc.example",
        headers={"Cc": "boss@shop.example", "In-Reply-To": "<a@x>", "References": "<b@x> <a@x>"},
    )
    mail = store.parse(data).mail
    assert mail.recipients == ("help@esc.example", "security@esc.example", "boss@shop.example")
    assert mail.references == ("<a@x>", "<b@x>")


def test_a_message_without_message_id_gets_a_stable_one() -> None:
    data = corpus.message(message_id=None)
    assert store.parse(data).mail.message_id == store.parse(data).mail.message_id
    assert store.parse(data).mail.message_id == store.fallback_id(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (corpus.broken_mime(), "broken MIME"),
        (corpus.unknown_charset(), "unknown charset"),
        (corpus.message(sender=""), "no From address"),
        (corpus.message(sender="undisclosed-recipients:;"), "no From address"),
    ],
)
def test_unusable_messages_are_malformed(data: bytes, reason: str) -> None:
    with pytest.raises(store.Malformed, match=reason):
        store.parse(data)


def test_a_message_over_50_mb_is_not_even_parsed() -> None:
    data = b"From: a@b.example\r\n\r\n" + b"x" * store.MAX_MESSAGE_BYTES
    with pytest.raises(store.Malformed, match="over 50 MB"):
        store.parse(data)


def test_attachment_names_cannot_leave_their_folder() -> None:
    assert store.safe_name("../../etc/passwd") == "passwd"
    assert store.safe_name("C:\\Users\\x\\.bashrc") == "bashrc"
    assert store.safe_name("a\x00b.png") == "ab.png"
    assert store.safe_name("..") == "attachment"


def test_a_maildir_message_marked_seen_is_not_read_again(tmp_path: Path) -> None:
    box = corpus.maildir(tmp_path / "Maildir", corpus.message(), corpus.message(message_id="<2@x>"))
    first, second = list(store.read_maildir(box))
    assert first.path is not None
    store.mark_seen(first.path)
    assert [i.data for i in store.read_maildir(box)] == [second.data]
    (seen,) = (box / "cur").iterdir()
    assert seen.name.endswith(":2,S")
    assert (
        mailbox.Maildir(box, create=False).get_message(seen.name.split(":")[0]).get_flags() == "S"
    )


def test_quoted_text_and_signature_are_stripped() -> None:
    for quoting in ("gmail", "outlook", "apple"):
        text = store.parse(corpus.reply(quoting, "Works now.\n\n-- \nJane Doe, Shop Ltd", None))
        assert store.strip_quoted(text.mail.text) == "Works now.", quoting


@pytest.mark.parametrize(
    ("header", "customer"),
    [
        ("=?iso-8859-1?q?J=FCrgen_M=FCller?= <jm@corp.example>", "Jürgen Müller <jm@corp.example>"),
        ("=?utf-8?b?5byg5LiJ?= <z@corp.example>", "张三 <z@corp.example>"),
        ('"Doe, Jane" <jd@corp.example>', '"Doe, Jane" <jd@corp.example>'),
        ("jd@corp.example", "jd@corp.example"),
    ],
)
def test_the_senders_display_name_is_kept_as_text(header: str, customer: str) -> None:
    """The name as people read it, never its RFC 2047 encoding (=?utf-8?b?…?=)."""
    data = f"From: {header}\r\nSubject: x\r\nMessage-ID: <n@x>\r\n\r\nhi\r\n".encode()
    assert store.parse(data).mail.sender == customer


def test_a_date_in_utc_with_an_unknown_zone_is_read() -> None:
    """RFC 5322's `-0000`: the time is UTC (the sender's zone unknown); Python reads it
    without an offset, and it was taken as no date at all."""
    data = (b"From: a@x.example\r\nSubject: x\r\nDate: Wed, 02 Dec 2026 09:00:00 -0000\r\n"
            b"Message-ID: <n@x>\r\n\r\nhi\r\n")  # fmt: skip
    date = store.parse(data).mail.date
    assert date is not None and date.isoformat() == "2026-12-02T09:00:00+00:00"
