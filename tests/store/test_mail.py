"""Parsing and reading mail (esc.store.mail) with Python's email and mailbox."""

from __future__ import annotations

import base64
import email
import email.policy
import mailbox
import quopri
import re
from email.message import EmailMessage
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
    assert mail.in_reply_to == ("<a@x>",)
    assert mail.references == ("<b@x>", "<a@x>")  # (as written: oldest first)


def test_a_message_without_message_id_gets_a_stable_one() -> None:
    data = corpus.message(message_id=None)
    assert store.parse(data).mail.message_id == store.parse(data).mail.message_id
    assert store.parse(data).mail.message_id == store.fallback_id(data)


def test_a_text_that_starts_indented_keeps_its_first_line_s_indent() -> None:
    """A traceback pasted as the whole message, or above a quote: `    at Foo.bar(…)` kept
    as written (blank lines before it dropped), as `esc create --body` keeps it."""
    trace = "    at Foo.bar(Foo.java:1)\n    at Baz"
    assert store.strip_quoted(f"\n\n{trace}\n") == trace
    quoted = f"{trace}\n\nOn Mon, Jan 5, 2026 at 10:00 AM Bob <b@x.example> wrote:\n> hi\n"
    assert store.strip_quoted(quoted) == trace


def test_utf_8_declared_but_latin_1_sent_is_read_as_latin_1() -> None:
    data = (b"From: x@shop.example\nSubject: s\nMessage-ID: <l1@x>\n"
            b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            b"caf\xe9 cr\xe8me \x80 5\n")  # fmt: skip
    assert store.parse(data).mail.text.strip() == "caf\u00e9 cr\u00e8me \u20ac 5"
    good = data.replace(b"caf\xe9 cr\xe8me \x80", "café crème €".encode())
    assert store.parse(good).mail.text.strip() == "caf\u00e9 cr\u00e8me \u20ac 5"


def test_utf_8_with_a_stray_byte_stays_utf_8() -> None:
    """A letter in UTF-8 under a gateway's signature in Latin-1 was read whole as Latin-1:
    `GrÃ¼ÃŸe fÃ¼r MÃ¼nchen` (audit helper-388).  The stray byte alone is U+FFFD; Latin-1 whose
    `ß“` happens to be a character of UTF-8 is still Latin-1."""
    data = (b"From: j@shop.example\nSubject: U\nMessage-ID: <u1@x>\n"
            b"Content-Type: text/plain; charset=utf-8\n\n"
            b"Gr\xc3\xbc\xc3\x9fe f\xc3\xbcr M\xc3\xbcnchen\n\n"
            b"Gesendet \xfcber Gateway\n")  # fmt: skip
    assert store.parse(data).mail.text.strip() == (
        "Gr\u00fc\u00dfe f\u00fcr M\u00fcnchen\n\nGesendet \ufffdber Gateway"
    )
    latin = data.replace(data[data.index(b"Gr") :], "„Straße“ am Montag\n".encode("cp1252"))
    assert store.parse(latin).mail.text.strip() == "„Straße“ am Montag"


@pytest.mark.parametrize(
    "sender", ["ceo@shop.example <attacker@evil.example>",
               "CEO <ceo@shop.example> <attacker@evil.example>",
               "ceo@shop.example, attacker@evil.example",  # (review helper-402: no defect)
               "Team: ceo@shop.example, attacker@evil.example;",
               "ceo@shop.example attacker@evil.example"],
)  # fmt: skip
def test_a_from_header_of_two_addresses_is_malformed_never_the_first_alone(sender: str) -> None:
    """Python's parser read `ceo@shop.example <attacker@evil.example>` as the first address
    alone: the ticket was the CEO's, replies went to them, and `--deny evil.example` let it
    in (audit helper-400).  Which address sent it is not known: quarantined."""
    data = f"From: {sender}\nTo: help@shop.example\nSubject: pay\nMessage-ID: <s@x>\n\nb\n"
    with pytest.raises(store.Malformed, match="its From header names more than one address"):
        store.parse(data.encode())


def test_one_address_written_twice_in_from_is_one_sender() -> None:
    """`From: john@x.example <john@x.example>` (a name that is the address, unquoted) was
    quarantined as naming two addresses (review helper-402)."""
    data = b"From: john@x.example <john@x.example>\nSubject: s\nMessage-ID: <j@x>\n\nb\n"
    assert store.parse(data).mail.address == "john@x.example"


def test_an_address_with_no_domain_is_no_address_not_a_python_error() -> None:
    """`Cc: bob@` quarantined a good message, "cannot be parsed (IndexError: string index
    out of range)"; `From: a@` too, where "no From address" is what it is (audit
    helper-400)."""
    data = (b"From: Jane <jane@shop.example>\nTo: help@shop.example\nCc: bob@\n"
            b"Subject: hi\nMessage-ID: <x4@x>\n\nhello\n")  # fmt: skip
    assert store.parse(data).mail.recipients == ("help@shop.example",)
    with pytest.raises(store.Malformed, match=r"^no From address$"):
        store.parse(data.replace(b"From: Jane <jane@shop.example>", b"From: a@"))


def test_a_display_name_that_decodes_to_a_line_break_is_read_on_one_line() -> None:
    """`From: =?utf-8?q?Evil=0A=22Name?= <ann@x.example>` was quarantined, "cannot be parsed
    (ValueError: invalid arguments; address parts cannot contain CR or LF)" (audit
    helper-388): the address is fine, and the name is read on one line, as a subject is."""
    data = (b"From: =?utf-8?q?Evil=0A=22Name?= <ann@x.example>\n"
            b"To: =?utf-8?q?Help=0D=0Adesk?= <help@x.example>, b@x.example\n"
            b"Reply-To: =?utf-8?q?Bo=0Ab?= <bob@y.example>\n"
            b"Subject: s\nMessage-ID: <h@x>\n\nb\n")  # fmt: skip
    mail = store.parse(data).mail
    assert (mail.sender, mail.address) == ('"Evil \\"Name" <ann@x.example>', "ann@x.example")
    assert mail.recipients == ("help@x.example", "b@x.example")
    assert (mail.reply_to, mail.reply_address) == ("Bo b <bob@y.example>", "bob@y.example")


@pytest.mark.parametrize("label", ['""', '" "', "unicode-1-1-utf-8", "x-user-defined"])
def test_an_empty_charset_and_the_whatwg_s_other_labels_are_read_not_quarantined(
    label: str,
) -> None:
    """`charset=""` was `unknown charset (unknown encoding: )`, the message quarantined;
    so were two labels of the WHATWG Encoding standard (audit helper-388)."""
    data = (b"From: a@x.example\nSubject: s\nMessage-ID: <e9@x>\n"
            b"Content-Type: text/plain; charset=" + label.encode()
            + b"\n\nhello caf\xc3\xa9\n")  # fmt: skip
    assert store.parse(data).mail.text.strip() == "hello caf\u00e9"


@pytest.mark.parametrize("given", ["<@>", "<x@>", "<@host>", "<.@.>", "<ab>"])
def test_a_message_id_that_names_nothing_is_none(given: str) -> None:
    """Two unrelated messages that gave `Message-ID: <@>` were one: the second was
    `already taken`.  Such an id is no id; the content's hash stands in, as for none."""
    data = corpus.message().replace(b"<m1@shop.example>", given.encode())
    assert store.parse(data).mail.message_id == store.fallback_id(data)
    assert given not in store.parse(data).mail.earlier_ids  # (no claim on later mail)
    other = corpus.message(text="Another matter.").replace(b"<m1@shop.example>", given.encode())
    assert store.parse(other).mail.message_id != store.parse(data).mail.message_id
    for fine in ("<a@b>", "<1234.5678>", "<x.y@host.example>"):
        assert store.parse(corpus.message(message_id=fine)).mail.message_id == fine


def test_a_message_id_of_utf_8_bytes_is_text_and_one_of_other_bytes_none() -> None:
    """`Message-ID: <tü@x.example>` in UTF-8 (RFC 6532) was kept with its bytes escaped: a
    ticket no command could read, made again on every run.  Read as text; an id of bytes
    that are no UTF-8 is left out (the content's hash stands in), in In-Reply-To too; so
    is an In-Reply-To that names nothing (`<@>`: it joined two unrelated replies)."""
    data = corpus.message().replace(b"<m1@shop.example>", "<tü@x.example>".encode())
    assert store.parse(data).mail.message_id == "<tü@x.example>"
    latin = corpus.message().replace(b"<m1@shop.example>", b"<t\xfc@x.example>")
    assert store.parse(latin).mail.message_id == store.fallback_id(latin)
    answer = corpus.message(headers={"In-Reply-To": "<orig@shop.example>",
                                     "References": "<a@b> <orig@shop.example>"})  # fmt: skip
    answer = answer.replace(b"<orig@shop.example>", b"<@>").replace(b"<a@b>", b"<r\xff@b>")
    mail = store.parse(answer).mail
    assert (mail.in_reply_to, mail.references) == ((), ())


def test_a_message_without_message_id_has_one_id_whatever_its_line_ends() -> None:
    """A Maildir's copy (LF) and IMAP's (CRLF) are one message; the id an earlier esc gave
    the CRLF copy is still known as one of its ids."""
    crlf = corpus.message(message_id=None)
    assert b"\r\n" in crlf
    lf = crlf.replace(b"\r\n", b"\n")
    assert store.fallback_id(lf) == store.fallback_id(crlf) == store.parse(crlf).mail.message_id
    before = store.earlier_fallback_ids(crlf)[0]
    assert before != store.fallback_id(crlf) and before.startswith("<sha256-")


@pytest.mark.parametrize("header", ["<>", "<", "< >"])
def test_a_message_id_python_cannot_parse_is_no_message_id(header: str) -> None:
    """`Message-ID: <>` made Python's header parser raise IndexError, which was taken for
    an unknown charset: the message was quarantined, and said so wrongly."""
    data = (
        "From: jane@shop.example\nTo: help@esc.example\nSubject: Hi\n"
        f"Message-ID: {header}\nIn-Reply-To: {header}\nReferences: {header} <m1@shop.example>\n"
        "\nHello\n"
    ).encode()
    mail = store.parse(data).mail
    assert mail.message_id == store.fallback_id(data)
    assert (mail.in_reply_to, mail.references) == ((), ("<m1@shop.example>",))


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
    # (the flags it has already, in new/ too, are kept: flagged, replied)
    for folder, name in (("new", "104.E.host:2,F"), ("cur", "105.E.host:2,FR")):
        path = box / folder / name
        path.write_bytes(corpus.message(message_id=f"<{name}@x>"))
        store.mark_seen(path)
    assert sorted(p.name for p in (box / "cur").iterdir() if p != seen) == [
        "104.E.host:2,FS", "105.E.host:2,FRS",
    ]  # fmt: skip


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


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Wed, 02 Dec 2026 09:00:00 +0100", "2026-12-02T09:00:00+01:00"),
        ("Wed, 02 Dec 2026 09:00:00", "2026-12-02T09:00:00+00:00"),  # (no zone: UTC)
        ("Wed, 02 Dec 2026 09:00:00 -0000 (UTC)", "2026-12-02T09:00:00+00:00"),
        ("Wed, 02 Dec 2026 09:00:00 -0000 (GMT+00:00)", "2026-12-02T09:00:00+00:00"),
        ("Wed, 02 Dec 2026 09:00:00 CET", "2026-12-02T09:00:00+01:00"),  # (its meaning sure)
        ("Wed, 02 Dec 2026 09:00:00 XYZ", "2026-12-02T09:00:00+00:00"),  # (RFC 5322: -0000)
        ("Wed, 02 Dec 2026 09:00:00 IST", "2026-12-02T09:00:00+00:00"),  # (three zones)
        ("Wed, 02 Dec 2026 09:00:00 GMT", "2026-12-02T09:00:00+00:00"),
        # (two dates, a broken mailer's: no sane date, so `--now`; its offset was lost,
        # and 09:00 read as UTC, an hour off)
        ("Wed, 02 Dec 2026 09:00:00 +0100, Wed, 02 Dec 2026 09:00:00 +0100", None),
        ("Wed, 02 Dec 2026 09:00:00 +0100 Wed, 02 Dec 2026 10:00:00 +0200", None),
        ("Wed, 02 Dec 2026 09:00:00 BST", "2026-12-02T09:00:00+00:00"),  # (two zones' name)
        # (a zone of other than four digits: Python read `+01` as a minute (+00:01);
        # audit helper-388)
        ("Wed, 02 Dec 2026 09:00:00 +01", None),
        ("Wed, 02 Dec 2026 09:00:00 -5", None),
        ("Wed, 02 Dec 2026 09:00:00 +010000", None),
        # (minutes past 59: Python read `+0160` as +02:00, another instant; helper-470)
        ("Wed, 02 Dec 2026 09:00:00 +0160", None),
        ("Wed, 02 Dec 2026 09:00:00 -0075", None),
        ("Wed, 02 Dec 2026 09:00:00 +0160 GMT", None),  # (not last: review helper-473)
        ("Wed, 02 Dec 2026 09:00:00+0160", None),
        ("Wed, 02 Dec 2026 09:00:00 +0160 +0100", None),
        ("Wed, 02 Dec 2026 09:00:00+0100", "2026-12-02T09:00:00+01:00"),
        ("Wed, 02 Dec 2026 09:00:00 +0545", "2026-12-02T09:00:00+05:45"),  # (Nepal)
        ("Wed, 02 Dec 2026 09:00:00 -0500 (EST)", "2026-12-02T09:00:00-05:00"),
    ],
)
def test_a_date_is_read_with_its_zone_or_not_at_all(written: str, read: str | None) -> None:
    data = f"From: a@x.example\nSubject: x\nDate: {written}\nMessage-ID: <n@x>\n\nhi\n"
    date = store.parse(data.encode()).mail.date
    assert (date and date.isoformat()) == read


def test_two_date_headers_that_differ_are_no_date() -> None:
    data = (
        "From: a@x.example\nSubject: x\nDate: Wed, 02 Dec 2026 09:00:00 +0100\n"
        "Date: Wed, 02 Dec 2026 09:00:00 +0200\nMessage-ID: <n@x>\n\nhi\n"
    )
    assert store.parse(data.encode()).mail.date is None


def forwarded(filename: str | None, text: str | None = "See the mail below.") -> bytes:
    """A mail forwarding another as an attachment (message/rfc822), as Thunderbird's
    "Forward As Attachment" does; the forwarded one has an attachment of its own."""
    inner = email.message_from_bytes(
        corpus.message(
            subject="Original problem",
            message_id="<orig@shop.example>",
            attachments=[("invoice.pdf", b"%PDF-inner", "application/pdf")],
        ),
        policy=email.policy.default,
    )
    outer = EmailMessage()
    outer["From"] = "Bob <bob@shop.example>"
    outer["To"] = "help@esc.example"
    outer["Subject"] = "Fwd: Original problem"
    outer["Message-ID"] = "<fwd@shop.example>"
    if text is not None:
        outer.set_content(text)
    outer.add_attachment(inner, filename=filename)
    if filename is None:  # (no file name: some clients send none)
        (part,) = [p for p in outer.iter_attachments()]
        del part["Content-Disposition"]
        part["Content-Disposition"] = "attachment"
    return outer.as_bytes(policy=email.policy.SMTP)


def test_a_message_forwarded_as_an_attachment_is_kept_whole() -> None:
    parsed = store.parse(forwarded("original.eml"))
    assert parsed.mail.text.strip() == "See the mail below."
    (attachment,) = parsed.attachments  # (not the forwarded mail's own invoice.pdf)
    assert attachment.name == "original.eml"
    kept = email.message_from_bytes(attachment.data, policy=email.policy.default)
    assert kept["Subject"] == "Original problem"
    assert kept["Message-ID"] == "<orig@shop.example>"
    assert [p.get_filename() for p in kept.iter_attachments()] == ["invoice.pdf"]
    assert attachment.size == len(attachment.data)


def test_an_attachment_is_the_same_whether_the_message_came_with_crlf_or_lf() -> None:
    """By IMAP a message comes with CRLF line breaks, from a Maildir or mbox with LF: a
    text attachment sent as 7bit, 8bit or quoted-printable (its line breaks the
    transport's) was saved with CRLF from IMAP, LF from a file.  Both LF now; a base64
    one keeps the sender's bytes, CRLF and all (audit helper-453)."""
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    msg = MIMEMultipart()
    msg["From"], msg["Subject"], msg["Message-ID"] = "jane@shop.example", "Logs", "<l@x>"
    msg.attach(MIMEText("See the logs.", "plain"))
    plain = MIMEText("line 1\nline 2\n", "plain", "utf-8")
    plain.replace_header("Content-Transfer-Encoding", "8bit")
    plain.set_payload("line 1\nline 2\n")
    plain.add_header("Content-Disposition", "attachment", filename="log.txt")
    msg.attach(plain)
    quoted = MIMEText("caf\u00e9\nline 2\n", "plain", "utf-8")  # (base64 by default)
    del quoted["Content-Transfer-Encoding"]
    quoted["Content-Transfer-Encoding"] = "quoted-printable"
    quoted.set_payload("caf=C3=A9\nline 2\n")
    quoted.add_header("Content-Disposition", "attachment", filename="notes.txt")
    msg.attach(quoted)
    exact = MIMEApplication(b"a\r\nb\r\n", "octet-stream")  # (base64)
    exact.add_header("Content-Disposition", "attachment", filename="data.bin")
    msg.attach(exact)
    encoded = MIMEApplication(b"", "octet-stream")  # (its CRLF encoded: the sender's)
    del encoded["Content-Transfer-Encoding"]
    encoded["Content-Transfer-Encoding"] = "quoted-printable"
    encoded.set_payload("a=0D=0Ab=0D=0A")
    encoded.add_header("Content-Disposition", "attachment", filename="data.qp")
    msg.attach(encoded)
    lf = msg.as_bytes().replace(b"\r\n", b"\n")
    crlf = lf.replace(b"\n", b"\r\n")
    by_file = {a.name: a.data for a in store.parse(lf).attachments}
    by_imap = {a.name: a.data for a in store.parse(crlf).attachments}
    assert by_file == by_imap == {
        "log.txt": b"line 1\nline 2\n",
        "notes.txt": "caf\u00e9\nline 2\n".encode(),
        "data.bin": b"a\r\nb\r\n",
        "data.qp": b"a\r\nb\r\n",
    }


def test_a_meeting_invite_alone_is_kept_as_an_attachment() -> None:
    """A message whose one part is text/calendar (an invite) made a ticket with an empty
    description and saved nothing: the invite was in neither; now it is an attachment
    (`.ics`), as a CSV sent as text/csv is, beside the text when there is one."""
    invite = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    alone = (
        "From: jane@shop.example\nTo: help@esc.example\nSubject: Invite\n"
        "Message-ID: <inv@shop.example>\nMIME-Version: 1.0\n"
        "Content-Type: text/calendar; method=REQUEST; charset=utf-8\n\n" + invite
    ).encode()
    parsed = store.parse(alone)
    (attachment,) = parsed.attachments
    assert attachment.name == "attachment-1.ics" and b"SUMMARY:Review" in attachment.data
    mixed = email.message.EmailMessage()
    mixed["From"], mixed["To"], mixed["Subject"] = "jane@shop.example", "h@esc.example", "x"
    mixed.set_content("Numbers attached.")
    mixed.add_attachment("a,b\n1,2\n", subtype="csv", disposition="inline")
    del mixed.get_payload()[1]["Content-Disposition"]
    parsed = store.parse(mixed.as_bytes())
    assert parsed.mail.text.strip() == "Numbers attached."
    assert [a.name for a in parsed.attachments] == ["attachment-1.csv"]


@pytest.mark.parametrize(
    ("filename", "name"),
    [(None, "message-1.eml"), ("Original problem", "Original problem.eml"),
     ("../x.EML", "x.EML")],
)  # fmt: skip
def test_a_forwarded_message_is_named_as_an_eml_file(filename: str | None, name: str) -> None:
    (attachment,) = store.parse(forwarded(filename)).attachments
    assert attachment.name == name


def test_a_forwarded_message_alone_is_no_body_and_keeps_the_size_limit() -> None:
    parsed = store.parse(forwarded("original.eml", text=None), attachment_limit=100)
    assert parsed.mail.text == ""
    (attachment,) = parsed.attachments
    assert (attachment.name, attachment.too_big, attachment.data) == ("original.eml", True, b"")
    assert attachment.size > 100


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable", "8bit"])
def test_a_forwarded_message_encoded_against_the_rfc_is_decoded(encoding: str) -> None:
    """RFC 2046 allows no base64 or quoted-printable for message/rfc822; some send it."""
    inner = "From: a@x.example\nSubject: Grüße\n\nhello\n".encode()
    body = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring}.get(
        encoding, lambda data: data
    )(inner)
    data = (
        b"From: Bob <bob@x.example>\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
        b"Content-Type: text/plain\r\n\r\nouter\r\n--B\r\nContent-Type: message/rfc822\r\n"
        b"Content-Transfer-Encoding: " + encoding.encode() + b"\r\n\r\n" + body + b"\r\n--B--\r\n"
    )
    parsed = store.parse(data)
    assert parsed.mail.text.strip() == "outer"
    (attachment,) = parsed.attachments
    assert attachment.name == "message-1.eml"
    assert attachment.data.replace(b"\r\n", b"\n") == inner


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("It broke again.\n\n> old quoted\n", "It broke again."),
        ("It broke again.\n\n> old\n>\n\n> more\n\n", "It broke again."),
        ("Hi,\n> a line I answer\nmy answer\n", "Hi,\n> a line I answer\nmy answer"),
        ("> everything\n> quoted\n", "> everything\n> quoted"),
    ],
)
def test_a_trailing_quote_without_a_header_line_is_stripped(text: str, kept: str) -> None:
    assert store.strip_quoted(text) == kept


def test_yahoo_s_indented_quote_under_a_dated_attribution_is_stripped() -> None:
    """Yahoo indents the message it quotes, with no `>`, under an indented attribution: the
    whole quote was kept.  A customer's own "On Friday your engineer wrote:" stays."""
    yahoo = (
        "Still broken, see attached.\n\n    On Saturday, December 5, 2026, 10:00:00 AM GMT+1,"
        " Customer Support <help@esc.example> wrote:\n\n    Hello Jane, try again.\n"
    )
    assert store.strip_quoted(yahoo) == "Still broken, see attached."
    own = "On Friday your engineer wrote: it is fixed. It is not.\n"
    assert store.strip_quoted(own) == own.strip()
    pasted = (  # (a mail pasted, the customer's words after it: nothing of it cut)
        "The mail our bank sent:\n\nOn Friday, December 4, 2026, 09:00 AM, Bank"
        " <noreply@bank.example> wrote:\n  Your payout failed.\n\nWhy did it fail?\n"
    )
    assert store.strip_quoted(pasted) == pasted.strip()
    many = "hello\nOn " + "2026 10:00 " * 2000  # (read in one scan or so: it took minutes)
    assert store.strip_quoted(many) == many.strip()


def test_a_mail_s_headers_the_customer_pasted_are_no_quote_without_its_time() -> None:
    """A customer showed what their system sends (From, To, Subject: no Sent or Date line,
    which every mail client writes in a quote's header): their question below it was
    cut as the quote, and lost.  A quoted header block (with its time) is still cut."""
    pasted = (
        "This is what our system sends:\n\nFrom: noreply@shop.example\nTo: customer@gmail.com\n"
        "Subject: Your order 1001\n\nGmail never shows it. Can you check your relay logs "
        "for order 1001?\n"
    )
    assert store.strip_quoted(pasted) == pasted.strip()
    quoting = (  # (and in a reply that quotes too: the reply parser cut at its From)
        "Here is what I got:\n\nFrom: noreply@pay.example\nTo: jane@shop.example\n"
        "Subject: Payment failed\n\nWhat does it mean?\n\nJane\n\n"
        "On Mon, Dec 1, 2026 at 9:00 AM Support <help@esc.example> wrote:\n"
        "> Please send us the provider's mail.\n"
    )
    assert store.strip_quoted(quoting) == quoting.split("\n\nOn Mon")[0]
    outlook = (
        "Works now, thanks.\n\nFrom: Support <help@esc.example>\n"
        "Sent: Friday, December 4, 2026 09:00\nTo: Jane <jane@shop.example>\n"
        "Subject: Your ticket\n\nPlease try again.\n"
    )
    assert store.strip_quoted(outlook) == "Works now, thanks."
    spanish = (  # (Apple Mail in Spanish: its time key is `Fecha:`)
        "Hola, sigue sin funcionar.\n\nDe: Soporte <help@esc.example>\n"
        "Fecha: 4 de diciembre de 2026, 9:00\nPara: Ana <ana@shop.example>\n"
        "Asunto: Su ticket\n\nPor favor, inténtelo de nuevo.\n"
    )
    assert store.strip_quoted(spanish) == "Hola, sigue sin funcionar."


def test_a_bottom_posted_reply_loses_its_marked_signature() -> None:
    """Thunderbird's bottom-posted reply kept its `-- ` signature, a top-posted one lost
    it; a `--` line of the sender's own (no space: no signature mark) stays."""
    reply = (
        "On 01.12.26 09:00, Support wrote:\n> Did the update help?\n\n"
        "No, it still crashes on start.\n\n-- \nKai Example\nExample GmbH\n"
    )
    assert store.strip_quoted(reply) == "No, it still crashes on start."
    own = reply.replace("-- \n", "--\n")
    assert store.strip_quoted(own).endswith("--\nKai Example\nExample GmbH")
    postscript = reply + "PS: the serial is 12345\n"
    assert store.strip_quoted(postscript) == (
        "No, it still crashes on start.\n\nPS: the serial is 12345"
    )


def test_a_maildir_is_read_in_delivery_order_not_name_order(tmp_path: Path) -> None:
    """Maildir's microseconds are not zero-padded: M100000 was read before M99999."""
    box = corpus.maildir(tmp_path / "Maildir")
    names = [
        "1763628000.M100000P7Q2.host",  # later in the same second
        "1763628000.M99999P7Q1.host",
        "1763627999.M5P7Q3.host",  # a second earlier
        "not-a-delivery-name",  # (last)
        "1763628001.12345_1.host",  # an old-style name without M
    ]
    for n, name in enumerate(names):
        (box / "new" / name).write_bytes(corpus.message(message_id=f"<{n}@x>"))
    read = [Path(i.where).name for i in store.read_maildir(box)]
    assert read == [
        "1763627999.M5P7Q3.host",
        "1763628000.M99999P7Q1.host",
        "1763628000.M100000P7Q2.host",
        "1763628001.12345_1.host",
        "not-a-delivery-name",
    ]


QUOTED = "> Please clear your cookies.\n"


@pytest.mark.parametrize(
    "header",
    [
        "On Thu, Dec 10, 2026 at 4:50 PM <help@shop.example> wrote:",
        "Am Do., 10. Dez. 2026 um 16:50 Uhr schrieb <help@shop.example>:",
        "Le jeu. 10 déc. 2026 à 16:50, <help@shop.example> a écrit :",
        "El jue, 10 dic 2026 a las 16:50, <help@shop.example> escribió:",
    ],
)
def test_a_quote_s_header_line_goes_with_it_in_every_language(header: str) -> None:
    """The new text of a reply, whatever language its client wrote the quote's header in
    (French gave "Le", Spanish kept "El … escribió:"); a reply of nothing but a quote is
    kept whole, as written (it was the quote alone, the header alone or a fragment)."""
    assert store.strip_quoted(f"Thanks, that fixed it!\n\n{header}\n{QUOTED}") == (
        "Thanks, that fixed it!"
    )
    assert store.strip_quoted(f"{header}\n{QUOTED}") == f"{header}\n{QUOTED}".strip()


@pytest.mark.parametrize("header", ["Help Desk wrote:", "Anna Schmidt schrieb:"])
def test_a_short_header_line_with_no_date_or_address_goes_with_its_quote(header: str) -> None:
    """"Help Desk wrote:" (no time, no address) stayed, above a bottom-posted answer with
    the quote kept whole, and alone above a top-posted one; a line that says "wrote:" but
    heads no quote is the customer's."""
    bottom = f"{header}\n> Invoice number?\n\nShort 4717.\n"
    assert store.strip_quoted(bottom) == "Short 4717."
    assert store.strip_quoted(f"Top 4720.\n\n{header}\n> Invoice number?\n") == "Top 4720."
    own = f"Your engineer wrote: it is fixed.\nIt is not.\n\n{header}\n> Fixed?\n"
    assert store.strip_quoted(own) == "Your engineer wrote: it is fixed.\nIt is not."


@pytest.mark.parametrize(
    ("head", "raw", "text"),
    [
        ("", "Grüße aus München, 5 €".encode(), "Grüße aus München, 5 €"),  # UTF-8
        ("MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n",
         b"Gr\xfc\xdfe", "Grüße"),  # Latin-1
        ("Content-Type: text/plain; charset=us-ascii\n", "naïve".encode(), "naïve"),
    ],
)  # fmt: skip
def test_8_bit_text_under_no_charset_is_read_as_8_bit_headers_are(
    head: str, raw: bytes, text: str
) -> None:
    """(the body became U+FFFD garbage, while the same bytes in the Subject were read)"""
    data = (
        b"From: u@c.example\nTo: h@e.example\nSubject: x\nMessage-ID: <raw8@c>\n"
        + head.encode() + b"\n" + raw + b"\n"
    )  # fmt: skip
    assert store.parse(data).mail.text.strip() == text


def test_message_ids_without_angle_brackets_are_message_ids() -> None:
    """(a redelivered message with `Message-ID: abc@host` made a second ticket, and a reply
    with `In-Reply-To: abc@host` did not thread)"""
    data = (
        b"From: u@c.example\nTo: h@e.example\nSubject: x\nMessage-ID: nobracket-123@c.example\n"
        b"In-Reply-To: alt1@cust.example\nReferences: a@b.example,  c@d.example\n\nbody\n"
    )
    mail = store.parse(data).mail
    assert mail.message_id == "<nobracket-123@c.example>"
    assert mail.in_reply_to == ("<alt1@cust.example>",)
    assert mail.references == ("<a@b.example>", "<c@d.example>")


def test_answers_written_between_the_quoted_lines_are_kept() -> None:
    """A reply that answers between the lines it quotes: the ticket got "Hi," alone, and
    "Yes, twice." and "HP 4000." were lost without a word."""
    text = (
        "Hi,\n\nOn Tue, Dec 1, 2026 at 10:00 AM Help <help@desk.example> wrote:\n"
        "> Did you restart it?\n\nYes, twice.\n\n> Which model?\n\nHP 4000.\n\nJane\n"
    )
    assert store.strip_quoted(text) == "Hi,\n\nYes, twice.\n\nHP 4000.\n\nJane"
    top_posted = (
        "Thanks, that fixed it.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Help <help@desk.example>"
        " wrote:\n> Did you restart it?\n> Please try.\n"
    )
    assert store.strip_quoted(top_posted) == "Thanks, that fixed it."


def test_a_bottom_posted_reply_and_answers_without_blank_lines_keep_only_their_own() -> None:
    """A reply written below the quote (Thunderbird, mutt) kept the `>` lines; answers
    between quoted questions with no blank lines kept every line, each answer taken for
    the quoted line before it wrapped by the client."""
    bottom = (
        "On Tue, Dec 1, 2026 at 10:00 AM Support <help@x.example> wrote:\n"
        "> Did you restart it?\n> Which model?\n\nYes, twice. It is an HP 4000.\n"
    )
    assert store.strip_quoted(bottom) == "Yes, twice. It is an HP 4000."
    tight = "> Did you restart it?\nYes, twice.\n> Which model?\nHP 4000.\n"
    assert store.strip_quoted(tight) == "Yes, twice.\nHP 4000."
    # (a top-posted reply keeps its own text alone: a disclaimer below the quote is no reply)
    footer = (
        "Yes, it works now.\n\nOn Mon, 16 Nov 2026 at 10:00, Support <s@x.example> wrote:\n"
        "> Did you restart it?\n\nCONFIDENTIALITY NOTICE: for the addressee only.\n"
    )
    assert store.strip_quoted(footer) == "Yes, it works now."


@pytest.mark.parametrize(
    ("reply", "header"),
    [
        ("Tack, det fungerar.", "Från: Help <help@desk.example>\nSkickat: den 1 december"
         " 2026 10:05\nTill: Jane <jane@shop.example>\nÄmne: Printer"),
        ("Dzięki, działa.", "Od: Help <help@desk.example>\nWysłane: wtorek, 1 grudnia 2026"
         " 10:05\nDo: Jane <jane@shop.example>\nTemat: Printer"),
        ("Tak, det virker.", "Fra: Help <help@desk.example>\nSendt: 1. december 2026 10:05\n"
         "Til: Jane <jane@shop.example>\nEmne: Printer"),
        ("谢谢，可以了。", "发件人: Help <help@desk.example>\n发送时间: 2026年12月1日 10:05\n"
         "收件人: Jane <jane@shop.example>\n主题: Printer"),
        ("謝謝，可以了。", "寄件者: Help <help@desk.example>\n寄件日期: 2026年12月1日 上午"
         " 10:05\n收件者: Jane <jane@shop.example>\n主旨: Printer"),
        ("ありがとうございます。", "差出人: Help <help@desk.example>\n送信日時: 2026年12月1日"
         " 10:05\n宛先: Jane <jane@shop.example>\n件名: Printer"),
        ("Спасибо, работает.", "От: Help <help@desk.example>\nОтправлено: 1 декабря 2026 г."
         " 10:05\nКому: Jane <jane@shop.example>\nТема: Printer"),
    ],
)  # fmt: skip
def test_an_outlook_quote_is_stripped_in_more_languages(reply: str, header: str) -> None:
    """Swedish, Polish, Danish, Chinese (and Taiwan's), Japanese and Russian Outlook
    replies kept their whole quoted history (the parser was given six languages of its
    thirteen)."""
    text = f"{reply}\n\n{header}\n\nDid you restart it?\n"
    assert store.strip_quoted(text) == reply


@pytest.mark.parametrize(
    "header",
    [
        "W dniu 10.12.2026 o 16:50, Help Desk pisze:",  # (Thunderbird's, with no address)
        "10.12.2026 16:50, Help Desk пишет:",
        "Help Desk 于2026年12月10日周四 16:50写道：",
        "在 2026/12/10 16:50, Help Desk 写道:",
        "2026年12月10日(木) 16:50 Help Desk:",
        "Am 10.12.2026 um 16:50 schrieb Help Desk:",
    ],
)
def test_a_quote_header_with_a_name_alone_is_a_header(header: str) -> None:
    """A header with a date and a time, or a "wrote" in its language, and no address: still
    a quote's header (a time with no date, "Since the update at 09:30 it shows:", is the
    sender's line)."""
    text = f"Thanks, that fixed it.\n\n{header}\n> Please restart the printer.\n> Regards\n"
    assert store.strip_quoted(text) == "Thanks, that fixed it."


def test_a_gmail_quote_header_with_a_full_width_colon_goes_with_it() -> None:
    text = (
        "谢谢，可以了。\n\nHelp <help@desk.example> 于2026年12月1日周二 10:05写道："
        "\n> 重启了吗？\n"
    )
    assert store.strip_quoted(text) == "谢谢，可以了。"


def test_the_envelope_recipient_is_a_recipient_too() -> None:
    """A message Bcc'd to security@ comes with `To: undisclosed-recipients:;` and the
    address only in Delivered-To / X-Original-To: a `to:` route did not see it."""
    raw = (
        b"From: Jane <jane@shop.example>\r\nTo: undisclosed-recipients:;\r\n"
        b"Delivered-To: security@shop.example\r\nX-Original-To: Security@Shop.example\r\n"
        b"Subject: leak\r\nMessage-ID: <x1@shop.example>\r\n\r\nHi\r\n"
    )
    parsed = store.parse(raw)
    assert parsed.mail.recipients == ("security@shop.example",)
    assert parsed.mail.address == "jane@shop.example"


def test_an_inline_image_known_by_its_content_id_alone_is_kept() -> None:
    """An HTML mail's screenshot, an image part with a Content-ID and no file name: it was
    neither saved nor listed."""
    raw = (
        b"From: Jane <jane@shop.example>\r\nTo: help@desk.example\r\nSubject: screenshot\r\n"
        b"Message-ID: <c1@shop.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/related; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src=\"cid:img1\"></p>\r\n"
        b"--B\r\nContent-Type: image/png\r\nContent-ID: <img1>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--B--\r\n"
    )
    parsed = store.parse(raw)
    assert [(a.name, a.size) for a in parsed.attachments] == [("attachment-1.png", 8)]
    assert parsed.mail.text.strip() == "See"


def test_a_customer_s_own_key_value_lines_and_a_wrapped_quote_line_are_no_quote() -> None:
    """"Od: Berlin" / "Do: Paris" / "Data: 3 grudnia" are a customer's words, not an
    Outlook header block (which names an address); a quoted line a client wrapped without
    its `>` belongs to the quote, not to the answer between the quotes."""
    own = "Dzien dobry,\nOd: Berlin\nDo: Paris\nData: 3 grudnia\nProsze o zmiane.\n\n> q\n"
    assert store.strip_quoted(own) == own.split("\n\n>")[0]
    wrapped = (
        "Yes, restarting fixed it!\n\nOn Thu, Dec 3, 2026 at 10:00 AM Help"
        " <help@example.com> wrote:\n> Could you tell us whether\nthat helped?\n> Regards\n"
    )
    assert store.strip_quoted(wrapped) == "Yes, restarting fixed it!"


@pytest.mark.parametrize(
    "label",
    # (IANA's and WHATWG's other names of ISO-8859-1 and US-ASCII, which lost the curly
    # quotes and € or were quarantined: audit helper-442)
    ["charset=iso-8859-1", "charset=latin1", None, "charset=ISO_8859-1:1987",
     "charset=CP819", "charset=csISOLatin1", "charset=iso-ir-100", "charset=iso88591",
     'charset="ANSI_X3.4-1968"', "charset=x-cp1252", "charset*=utf-8''iso-8859-1"],
)  # fmt: skip
def test_windows_1252_punctuation_under_a_latin_1_label_is_read_as_mail_clients_read_it(
    label: str | None,
) -> None:
    """Outlook sends its curly quotes, dashes and € (bytes 0x80-0x9F) labelled ISO-8859-1,
    or with no label: they became control characters (`I don\\x92t`), in the title too."""
    head = f"Content-Type: text/plain; {label}\n" if label else ""
    data = (
        b"From: J <j@j.example>\nTo: h@x\nMessage-ID: <cp1252@x>\n"
        b"Subject: =?iso-8859-1?Q?I_don=92t_get_it_=96_help?=\n" + head.encode()
        + b"Content-Transfer-Encoding: 8bit\n\nI don\x92t understand \x93this\x94 \x80 5\n"
    )  # fmt: skip
    mail = store.parse(data).mail
    assert mail.subject == "I don\u2019t get it \u2013 help"
    assert mail.text.strip() == "I don\u2019t understand \u201cthis\u201d \u20ac 5"


@pytest.mark.parametrize(
    ("mine", "separator", "header"),
    [
        ("Geht nicht.", "-----Urspr\u00fcngliche Nachricht-----",
         "Von: S <help@s.example>\nGesendet: Dienstag, 1. Dezember 2026 12:00\n"
         "An: J <j@j.example>\nBetreff: AW: t"),
        ("Ca ne marche pas.", "-----Message d'origine-----",
         "De : S <help@s.example>\nEnvoy\u00e9 : mardi 1 d\u00e9cembre 2026 12:00\n"
         "\u00c0 : J <j@j.example>\nObjet : RE: t"),
        ("No funciona.", "-----Mensaje original-----",
         "De: Soporte <help@s.example>\nEnviado el: martes, 1 de diciembre de 2026 12:00\n"
         "Para: J <j@j.example>\nAsunto: RE: t"),
    ],
)  # fmt: skip
def test_outlook_s_original_message_line_in_other_languages_ends_the_reply(
    mine: str, separator: str, header: str
) -> None:
    """German, French and Spanish Outlook replies kept their "-----Original Message-----"
    line (and the Spanish one its `De:` and `Enviado el:` lines) in the customer's text."""
    assert store.strip_quoted(f"{mine}\n\n{separator}\n{header}\n\nHallo\n") == mine


@pytest.mark.parametrize(
    "html",
    [
        # Outlook on the web: a rule, then the quoted message's From/Sent/To block
        '<div>It still fails.</div><hr style="display:inline-block;width:98%">'
        '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Help &lt;help@s.example&gt;<br>'
        "<b>Sent:</b> Tuesday, December 1, 2026 12:00<br><b>To:</b> J &lt;j@j.example&gt;"
        "</div><div>Hello Jane, did it work?</div>",
        # Yahoo: "On … wrote:" and the message in a div, no blockquote (no `>` in the text)
        '<div>It still fails.</div><div class="yahoo_quoted" id="yahoo_quoted_1"><div>On '
        "Tuesday, December 1, 2026, 12:00 PM, Help &lt;help@s.example&gt; wrote:</div>"
        "<div>Hello Jane, did it work?</div></div>",
    ],
)
def test_an_html_only_reply_from_webmail_keeps_only_the_customer_s_words(html: str) -> None:
    """Outlook on the web's reply kept a `* * *` line (its rule) and Yahoo's kept the whole
    quoted message: webmail marks where the quote starts in its HTML alone."""
    data = (
        b"From: J <j@j.example>\nTo: h@x\nMessage-ID: <w1@x>\nSubject: RE: [T-1] x\n"
        b"Content-Type: text/html; charset=utf-8\n\n<html><body>" + html.encode()
        + b"</body></html>\n"
    )  # fmt: skip
    assert store.strip_quoted(store.parse(data).mail.text) == "It still fails."


@pytest.mark.parametrize(
    ("mine", "signature", "quote"),
    [
        ("Danke!", "Von meinem iPhone gesendet", "Am 01.12.2026 um 10:00 schrieb S <h@s.example>:"),
        ("Merci !", "Envoyé de mon iPhone", "Le 1 déc. 2026 à 10:00, S <h@s.example> a écrit :"),
        ("Gracias", "Enviado desde mi Samsung Galaxy", "El 1 dic 2026, S <h@s.example> escribió:"),
        ("Grazie", "Inviato da iPhone", "Il giorno 1 dic 2026, S <h@s.example> ha scritto:"),
        ("Bedankt", "Verzonden met mijn iPhone", "Op 1 dec. 2026 schreef S <h@s.example>:"),
    ],
)  # fmt: skip
def test_a_phone_s_signature_in_another_language_leaves_a_reply(
    mine: str, signature: str, quote: str
) -> None:
    """`Sent from my iPhone` left a reply; `Von meinem iPhone gesendet` stayed in it."""
    text = f"{mine}\n\n{signature}\n\n> {quote}\n> Hallo\n"
    assert store.strip_quoted(text) == mine


@pytest.mark.parametrize(
    "signature", ["Verstuurd vanaf mijn iPhone", "Von meinem Samsung Galaxy Smartphone gesendet"]
)
def test_more_phone_signatures_leave_a_reply(signature: str) -> None:
    text = f"Thanks\n\n{signature}\n\n> On Tue, S <h@s.example> wrote:\n> Hi\n"
    assert store.strip_quoted(text) == "Thanks"


@pytest.mark.parametrize(
    ("label", "read"),
    [("koi8", "\u0420\u0443\u0441"), ("x-mac-cyrillic", "\u0421\u0433\u0431"),
     ("utf-8''utf-8", "Gr\u00fc\u00dfe")],
)  # fmt: skip
def test_a_charset_by_a_name_python_lacks_or_in_rfc_2231_s_form_is_read(
    label: str, read: str
) -> None:
    """WHATWG's `koi8` and `x-mac-cyrillic` were quarantined as unknown charsets, and
    `charset*=utf-8''utf-8` (RFC 2231) with Python's TypeError (audit helper-442)."""
    text = {"koi8": b"\xf2\xd5\xd3", "x-mac-cyrillic": b"\x91\xe3\xe1"}.get(
        label, "Grüße".encode()
    )
    param = f"charset*={label}" if "''" in label else f"charset={label}"
    data = (b"From: a@x.example\nSubject: s\nMessage-ID: <r9@x>\nContent-Type: text/plain; "
            + param.encode() + b"\nContent-Transfer-Encoding: 8bit\n\n" + text + b"\n")  # fmt: skip
    assert store.parse(data).mail.text.strip() == read


@pytest.mark.parametrize("written", ["base64 (standard)", "base64 ", "Base64\t", " BASE64"])
def test_a_transfer_encoding_with_space_or_a_comment_around_it_is_decoded(written: str) -> None:
    """`Content-Transfer-Encoding: base64 (standard)` or `quoted-printable ` (white space
    and comments RFC 2045 allows) left the attachment saved as base64 text and the body as
    quoted-printable, with nothing said (audit helper-442)."""
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n%%EOF\n"
    data = (
        b"From: J <j@x.example>\nSubject: s\nMessage-ID: <cte@x>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n--B\n'
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: "
        + re.sub("(?i)base64", "quoted-printable", written).encode()
        + b"\n\nGr=C3=BC=C3=9Fe, the in=\nvoice.\n--B\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="i.pdf"\n'
        b"Content-Transfer-Encoding: " + written.encode() + b"\n\n"
        + base64.b64encode(pdf) + b"\n--B--\n"
    )  # fmt: skip
    parsed = store.parse(data)
    assert parsed.mail.text.strip() == "Grüße, the invoice."
    assert [(a.name, a.data) for a in parsed.attachments] == [("i.pdf", pdf)]


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("=?UTF-8?B?SsM=?= =?UTF-8?B?vHJnZW4gTcO8bGxlcg==?=", "Jürgen Müller"),  # (mid-ü)
        ("=?utf-8?b?U3RhZHR3ZXJrZSBEw7xzc2VsZG9yZiBLdW5kZW5z?=\n "
         "=?utf-8?b?ZXJ2aWNlIEFicmVjaG51bmc=?=",
         "Stadtwerke Düsseldorf Kundenservice Abrechnung"),
    ],
)  # fmt: skip
def test_a_display_name_folded_across_encoded_words_is_one_name(header: str, name: str) -> None:
    """RFC 2047: the space between two encoded words is no part of the text.  The name was
    `JÃ ¼rgen Müller` (a character split between two words) or `Kundens ervice`, while
    the same words in the Subject were read right (audit helper-442)."""
    data = (f"From: {header} <jm@shop.example>\nSubject: {header}\nMessage-ID: <sp@x>\n\n"
            "hello\n").encode()  # fmt: skip
    mail = store.parse(data).mail
    assert (mail.sender, mail.subject) == (f"{name} <jm@shop.example>", name)
    # (a comment beside the words is no part of the name, as the header parser reads it:
    # review helper-449)
    commented = f"From: {header} (Sales) <jm@shop.example>\nMessage-ID: <sp2@x>\n\nhi\n"
    assert store.parse(commented.encode()).mail.sender.endswith(" <jm@shop.example>")
    assert "Sales" not in store.parse(commented.encode()).mail.sender


def test_text_in_another_charset_is_not_read_as_windows_1252() -> None:
    """(ISO-8859-2 text holding cp1250's bytes: its letters turned into œ, Œ, Ÿ)"""
    data = (
        b"From: J <j@j.example>\nTo: h@x\nMessage-ID: <l2@x>\nSubject: x\n"
        b"Content-Type: text/plain; charset=iso-8859-2\n\nZa\xbf\xf3\xb3\xe6 \x9c\n"
    )
    assert "\u0153" not in store.parse(data).mail.text


def test_an_html_only_forward_keeps_the_message_it_forwards_under_outlook_s_line() -> None:
    """(the mark where webmail's quote starts showed as `\\-----Original Message-----`)"""
    data = (
        b"From: J <j@j.example>\nTo: h@x\nMessage-ID: <f1@x>\nSubject: FW: x\n"
        b"Content-Type: text/html; charset=utf-8\n\n<html><body><div>See below.</div><hr>"
        b'<div id="divRplyFwdMsg"><b>From:</b> Bank &lt;b@bank.example&gt;</div>'
        b"<div>Your payout failed.</div></body></html>\n"
    )
    text = store.parse(data).mail.text
    assert text.startswith("See below.\n\n-----Original Message-----\n")
    assert text.endswith("Your payout failed.")


def test_lists_nested_past_ten_levels_are_read_at_the_tenth() -> None:
    """1,000 nested lists (a 19 KB mail) made a ticket of 1 MB, each line indented by every
    level above it, in seconds (3,000: 9 MB, minutes) while intake held the workspace lock
    (audit helper-388).  Deeper than MAX_LIST_DEPTH, a list is read as its parent's."""
    from esc.store.mail import MAX_LIST_DEPTH, html_to_text

    bare = html_to_text("<ul><li>" * 3000 + "x" + "</li></ul>" * 3000)
    assert len(bare) < 3000 * 30  # (linear: ~22 characters a level, at most)
    deep = html_to_text("<ul><li>a" * 3000 + "</li></ul>" * 3000).splitlines()
    assert len(deep) == 3000 and deep[-1] == " " * 2 * MAX_LIST_DEPTH + "* a"
    assert max(len(line) for line in deep) == len(deep[-1])
    quotes = html_to_text("<blockquote>a" * 3000 + "</blockquote>" * 3000).splitlines()
    assert max(len(line) for line in quotes) == len(">" * MAX_LIST_DEPTH + " a")  # (review
    # helper-398: each nested quote added a `>` to every line below it, 9 MB of 78 KB)
    shallow = "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul><p>after</p>"
    assert html_to_text(shallow) == "  * a\n    * b\n  * c\n\nafter"


def test_a_bare_ampersand_in_html_only_mail_stays_as_a_browser_shows_it() -> None:
    """`?with=query&and=more` in an HTML-only mail became `?with=query∧=more`."""
    html = "<p>https://example.com/p?with=query&and=more&amp;x=2 &copy; &eacute;</p>"
    assert store.html_to_text(html) == "https://example.com/p?with=query&and=more&x=2 © é"


def test_text_in_html_only_mail_that_would_start_markdown_is_escaped() -> None:
    """`<p># 5 is down</p>` became a heading and `<p>1) one</p>` a list in the ticket: the
    sender's text is kept as text, as html2text keeps a leading `-`; real markup stays."""
    html = (
        "<p># 5 is down</p><p>1) restart</p><p>* star</p><p>&#35; entity</p>"
        "<h2>Heading</h2><ul><li>item</li></ul><p>#hashtag and 2) mid-line</p>"
        "<pre># a comment in code</pre>"
    )
    lines = store.html_to_text(html).splitlines()
    assert lines[:8:2] == ["\\# 5 is down", "1\\) restart", "\\* star", "\\# entity"]
    assert "## Heading" in lines and "  * item" in lines
    assert "#hashtag and 2) mid-line" in lines
    # (after an inline tag a text goes on its line: as written, no backslash)
    inline = store.html_to_text("<p>Order <b>12345</b> # 2 of 3, <b>3</b> * 4, <i>a</i> 1) x</p>")
    assert inline == "Order **12345** # 2 of 3, **3** * 4, _a_ 1) x"
    assert store.html_to_text("<p>a<br># b</p><blockquote># q</blockquote>").splitlines()[1:] == [
        "\\# b", "", "> \\# q"
    ]
    assert "    # a comment in code" in lines
    # (html2text escaped a `-`, `+` or `1.` at every piece of text's start, after an
    # entity, an inline tag or a span too: none of these is Markdown, none is escaped)
    mid = (
        "<p>Price 5&nbsp;- 10 EUR</p><p>He said &quot;- no&quot;</p><p>Caf&eacute; + bar</p>"
        "<p><b>Note</b> - important</p><p><span>Item</span><span> - five</span></p>"
        "<p>--help fails</p>"
    )
    assert "\\" not in store.html_to_text(mid)
    # (what would start a line of Markdown is escaped at a line's start, in a quote too)
    marks = (
        "<p>- dash</p><p>+ plus</p><p>2. two</p><p>&gt; 100 errors</p><p>Total<br>===</p>"
        "<p>```</p><p>***</p><blockquote>quoted<br># 5 of 10<br>1) restart</blockquote>"
    )
    assert [line for line in store.html_to_text(marks).splitlines() if line] == [
        "\\- dash", "\\+ plus", "2\\. two", "\\> 100 errors", "Total  ", "\\===",
        "\\```", "\\***", "> quoted  ", "> \\# 5 of 10  ", "> 1\\) restart",
    ]  # fmt: skip


def test_an_html_reply_keeps_the_sender_s_lines_and_loses_its_signature_and_quote() -> None:
    """A customer's own `&gt; 100 errors` line in a Gmail reply was cut as a quote (and the
    "On … wrote:" line kept); a Thunderbird reply's `-- ` signature, escaped `\\--` by
    html2text, stayed with the quote below it."""
    gmail = (
        '<div>Since this morning we see</div><div>&gt; 100 errors per minute</div>'
        '<div>on the checkout.</div><div class="gmail_quote"><div class="gmail_attr">On Fri,'
        " Nov 27, 2026 at 9:40 AM Support &lt;help@desk.example&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote">Please restart it.<br></blockquote></div>'
    )
    thunderbird = (
        '<p>It works now, thanks.<br></p><div class="moz-signature">-- <br>Jane Doe<br>'
        'ACME Corp</div><div class="moz-cite-prefix">On 27.11.26 09:40, Support wrote:<br>'
        '</div><blockquote type="cite">Please restart it.</blockquote>'
    )
    assert store.strip_quoted(store.html_to_text(gmail)) == (
        "Since this morning we see\n\n\\> 100 errors per minute\n\non the checkout."
    )
    assert store.strip_quoted(store.html_to_text(thunderbird)) == "It works now, thanks."
    # (a reply that quotes as plain text does, `&gt;` lines under its "On … wrote:" line,
    # in HTML: a quote still, stripped; the sender's own `&gt;` line above stays theirs)
    plain = (
        "<div>Thanks, restarted it, still down.<br><br>On Fri, 27 Nov 2026 at 09:10, Support"
        " &lt;support@desk.example&gt; wrote:<br>&gt; Please restart the server.<br></div>"
    )
    assert store.strip_quoted(store.html_to_text(plain)) == "Thanks, restarted it, still down."
    # (a line of the sender's with a time and a colon is no quote's header; answers between
    # `&gt;` quotes keep the answers alone; a bottom post loses its header and signature)
    own = (
        "<div>Since the update at 09:30 the dashboard shows:</div><div>&gt; 100 errors</div>"
        "<div>Please help.</div>" + gmail[gmail.index('<div class="gmail_quote">') :]
    )
    assert store.strip_quoted(store.html_to_text(own)) == (
        "Since the update at 09:30 the dashboard shows:\n\n\\> 100 errors\n\nPlease help."
    )
    between = (
        "On Thu, 26 Nov 2026 at 16:50, Help &lt;help@x&gt; wrote:<br>&gt; Did you restart?<br>"
        "<br>Yes, twice.<br><br>&gt; Which model?<br><br>HP 4000"
    )
    assert store.strip_quoted(store.html_to_text(between)) == "Yes, twice.\n\nHP 4000"
    # (a line of the sender's with a time and a colon is no quote's header in a bottom post
    # either: the answer under the quote, and what it shows, stay)
    timed = (
        "On Thu, Dec 10, 2026 at 4:50 PM Help &lt;help@x.example&gt; wrote:<br>&gt; Did it"
        " help?<br><br>No. Since the update at 09:30 it shows:<br>&gt; 100 errors<br><br>Jane"
    )
    assert store.strip_quoted(store.html_to_text(timed)) == (
        "No. Since the update at 09:30 it shows:  \n> 100 errors\n\nJane"
    )
    bottom = (
        '<div class="moz-cite-prefix">On 26.11.26 16:50, Help Desk wrote:<br></div><blockquote'
        ' type="cite">Did you restart it?</blockquote><p>Yes, twice.</p><div'
        ' class="moz-signature">-- <br>Jane Doe</div>'
    )
    assert store.strip_quoted(store.html_to_text(bottom)) == "Yes, twice."
    # (a signature right under the last line, `Yes.<br>-- <br>Kai`, or Thunderbird's
    # plain-text one in a `<pre>`; a Portuguese attribution; Outlook's empty paragraphs)
    quote = gmail[gmail.index('<div class="gmail_quote">') :]
    for signed in ("<p>Yes, twice.<br>-- <br>Kai</p>",
                   '<p>Yes, twice.</p><pre class="moz-signature">-- \nKai\nKai GmbH</pre>'):
        raw = (
            "From: k@x.example\nSubject: Re: x\nMessage-ID: <q@x>\nContent-Type: text/html"
            f"\n\n{signed}{quote}\n"
        )  # fmt: skip
        assert store.strip_quoted(store.parse(raw.encode()).mail.text) == "Yes, twice."
    mobile = (
        '<div>Yes, twice.</div><div id="ms-outlook-mobile-signature">Get <a href="https://ak'
        'a.ms/o0ukef">Outlook for iOS</a></div><hr><div id="divRplyFwdMsg"><b>From:</b> Help'
        " &lt;help@x.example&gt;<br><b>Sent:</b> Thursday, December 10, 2026 4:50 PM<br><b>"
        "To:</b> Jane<br><b>Subject:</b> Re: x</div><div>Did it help?</div>"
    )  # (Outlook mobile's signature, a link: it stayed, as `Get [Outlook for iOS](…)`)
    raw = f"From: k@x.example\nMessage-ID: <m@x>\nContent-Type: text/html\n\n{mobile}\n"
    assert store.strip_quoted(store.parse(raw.encode()).mail.text) == "Yes, twice."
    indented = (  # (Gmail's "indent": a blockquote with no border, no quote: it was lost)
        'Hi, the steps I took<blockquote style="margin:0 0 0 40px;border:none;padding:0px">'
        "<div>clear the cache</div><div>reboot</div></blockquote><div>and it fails</div>"
    )
    assert store.strip_quoted(store.html_to_text(indented + quote)) == (
        "Hi, the steps I took\n\nclear the cache\n\nreboot\n\nand it fails"
    )
    session = "I get this<pre>&gt; library(foo)\nError: no package</pre>Any idea?"  # (code)
    assert store.strip_quoted(store.html_to_text(session + quote)) == (
        "I get this\n\n    > library(foo)\n    Error: no package\n\nAny idea?"
    )
    portuguese = "Em 26/11/2026 16:50, Help &lt;h@x&gt; escreveu:<br>&gt; Ajudou?<br><br>Sim."
    assert store.strip_quoted(store.html_to_text(portuguese)) == "Sim."
    empty = "<p class=MsoNormal>Hi,</p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p>x</p>"
    assert store.html_to_text(empty) == "Hi,\n\nx"
    assert store.html_to_text("<ul><li>Printer</li><li>Scanner</li></ul>") == (
        "  * Printer\n  * Scanner"  # (a list first: its items alike)
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>&nbsp;&nbsp;- indented item</p>", "\\- indented item"),  # (an `&nbsp;` first)
        ("<div>&nbsp; 1. first</div>", "1\\. first"),
        ("<p>Hi<br>--<br>Jane</p>", "Hi\n-- \nJane"),  # (`--` under a line: a sign-off first)
        ("<p>It works.<br></p><div>-- <br>Jane</div>", "It works.\n\n-- \nJane"),  # (a sign-off)
        ("<p>=&gt; result</p>", "=> result"),
        # (a mark alone in a span is markup only if a space follows: Outlook's lists' `1.`
        # and its language spans, `<span>-</span><span>20%</span>`, are text)
        ("<p><span>-</span><span>20% off</span></p><p><span>-</span> dash</p>",
         "-20% off\n\n\\- dash"),
        ("<p class=MsoListParagraph><span>1.<span>&nbsp;&nbsp;</span></span>Restart</p>",
         "1.\xa0\xa0Restart"),
        ("<p>Total<br>=<br>42</p>", "Total  \n\\=  \n42"),  # (under a line: a heading's)
        ("<pre>$ ls *.log\n# c</pre>", "    $ ls *.log\n    # c"),  # (code first: indented)
        ("<p>C:\\logs\\*.log, C:\\temp</p>", "C:\\logs\\\\*.log, C:\\temp"),  # (a backslash
        # Markdown would read as an escape, kept one: `\\*` shows `\*`)
    ],
)
def test_what_starts_a_line_is_escaped_and_only_that(html: str, text: str) -> None:
    assert store.html_to_text(html) == text


def test_a_postscript_below_the_sign_off_is_kept() -> None:
    """"Kind regards, / Jane / PS: the serial is 12345": the PS went with the signature."""
    quote = "\n\nOn Tue, Dec 1, 2026 at 10:00 AM Support <help@x.example> wrote:\n> Model?\n"
    signed = "Thanks, that fixed it.\n\nKind regards,\nJane"
    with_ps = f"{signed}\n\nP.S. the model is HP 4000, serial 12345.{quote}"
    assert store.strip_quoted(with_ps) == (
        "Thanks, that fixed it.\n\nP.S. the model is HP 4000, serial 12345."
    )
    assert store.strip_quoted(signed + quote) == "Thanks, that fixed it."


def test_a_control_character_in_the_sender_s_name_is_dropped_not_a_quarantine() -> None:
    """An ESC in the display name sent the message to quarantine ("--customer must be one
    line of text"), where the same ESC in the subject is dropped."""
    raw = (
        b'From: "Jane \x1b[31mDoe\x07" <jane@shop.example>\r\nTo: help@desk.example\r\n'
        b"Subject: hi\r\nMessage-ID: <e1@shop.example>\r\n\r\nbody\r\n"
    )
    assert store.parse(raw).mail.sender == '"Jane [31mDoe" <jane@shop.example>'


@pytest.mark.parametrize("part", ["text/plain", "text/html"])
def test_a_nul_in_a_message_s_text_is_dropped(part: str) -> None:
    """A NUL in the body went into the ticket as it was: git took the file for a binary one
    that no merge could join (JSON intake refuses a NUL; a subject drops it)."""
    raw = (
        b"From: u@x.example\r\nTo: h@x.example\r\nSubject: nul\r\nMessage-ID: <n@x>\r\n"
        b"Content-Type: " + part.encode() + b"; charset=utf-8\r\n\r\nbefore\x00after\r\n"
    )
    assert store.parse(raw).mail.text.strip() == "beforeafter"


@pytest.mark.parametrize("quote", ["> What do you see?\n", ">\n"])
def test_a_reply_keeps_the_indentation_of_what_the_customer_pasted(quote: str) -> None:
    """The reply parser strips each line it keeps: a traceback or a config pasted above a
    quote lost its indentation (issue 17's audit), where the same text without a quote,
    or in a new ticket, kept it."""
    own = 'Here is the traceback:\n\n    File "x.py", line 3\n      return 1\n\tcode: 7'
    header = "On Thu, Dec 3, 2026 at 9:00 AM Help <help@desk.example> wrote:\n"
    assert store.strip_quoted(f"{own}\n\n{header}{quote}") == own


QUOTE = "\n\nOn Thu, Dec 3, 2026 at 10:00 AM Help <help@x.example> wrote:\n> Could you tell us?\n"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # a list the reply parser took for a signature ("- " for "-- ")
        ("What I tried:\n- cleared the cache\n- another card\nNone of it helped." + QUOTE,
         "What I tried:\n- cleared the cache\n- another card\nNone of it helped."),
        # a long line that starts as a sign-off does
        ("Still failing.\nBest regards from all of us, we need this fixed today\nplease." + QUOTE,
         "Still failing.\nBest regards from all of us, we need this fixed today\nplease."),
        # a signature is still cut: a short sign-off, or "-- "
        ("Thanks, it works now.\n\nBest regards,\nJane Doe\nShop GmbH" + QUOTE,
         "Thanks, it works now."),
        ("Works.\n\n-- \nJane" + QUOTE, "Works."),
        ("Thanks, that fixed it.\n\n- Jane\nAcme Corp | Head of IT" + QUOTE,
         "Thanks, that fixed it."),  # (a one-line "- Jane": a sign-off)
        # the list and a P.S. below the sign-off, once each, as written
        ("What I tried:\n\n- cleared the cache\n- restarted\n\nBest,\nJane\n\nPS: 12345" + QUOTE,
         "What I tried:\n\n- cleared the cache\n- restarted\n\nBest,\nJane\n\nPS: 12345"),
        # answers under quoted list items are the customer's, not the items' wrapped rest
        ("Hi,\n\n> - your browser version\nFirefox 133\n> - the order number\n4711\n",
         "Hi,\n\nFirefox 133\n4711"),
    ],
)  # fmt: skip
def test_the_customer_s_own_lines_are_never_cut_as_a_signature_or_a_quote(
    text: str, kept: str
) -> None:
    assert store.strip_quoted(text) == kept


def test_format_flowed_text_is_joined_as_its_sender_wrote_it() -> None:
    """Thunderbird's `format=flowed`: each soft line break (a line ending in a space) was
    kept, the customer's paragraphs cut into 72-character lines."""
    data = (b"From: x@shop.example\nSubject: s\nMessage-ID: <ff@x>\n"
            b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=no\n\n"
            b"The export stops at ten thousand rows every time we \n"
            b"run it, since Monday.\n\n-- \nJane\n")  # fmt: skip
    text = store.parse(data).mail.text
    assert "every time we run it, since Monday.\n" in text and "\n-- \nJane" in text


def test_quote_marks_on_pasted_output_are_the_sender_s_own_unless_they_quote_the_ticket() -> None:
    """Issue 17: `>` lines under a line that introduces them, or a Python prompt's, are the
    sender's own (kept); the same lines repeating the ticket's text, or under an "On …
    wrote:" line, are a quote (cut)."""
    pasted = "The error I get is:\n\n> Permission denied (publickey)\n> fatal: no remote"
    assert store.strip_quoted(pasted, "Checkout returns 500") == pasted
    assert store.strip_quoted(pasted, "it says Permission denied (publickey) here") == (
        "The error I get is:"
    )
    prompt = '>>> import printer\n>>> printer.status()\n"on fire"'
    assert store.strip_quoted(prompt) == prompt
    quoted = "Thanks!\n\nOn Tue, 1 Dec 2026 at 10:00, Help <h@s.example> wrote:\n> fatal: no"
    assert store.strip_quoted(quoted) == "Thanks!"


@pytest.mark.parametrize(
    ("raw", "subject"),
    [
        (b"=?utf-8?b?broken!!?=", "=?utf-8?b?broken!!?="),  # (no base64: as written)
        (b"Hello =?utf-8?b?broken!!?= there", "Hello =?utf-8?b?broken!!?= there"),
        (b"=?utf-8?q?caf=E9?= ok", "caf\u00e9 ok"),  # (Latin-1 under a UTF-8 label)
        (b"=?utf-8?b?Y2Fm6Q==?=", "caf\u00e9"),  # (the same in base64: kept raw, it was)
        # (the space beside a word kept as written stays: it went)
        (b"=?utf-8?b?broken!!?= =?utf-8?q?caf=C3=A9?=", "=?utf-8?b?broken!!?= caf\u00e9"),
        (b"=?utf-8?b?Y2Fmw6k=?= =?utf-8?b?IGF1IGxhaXQ=?=", "caf\u00e9 au lait"),
    ],
)
def test_a_subject_whose_encoded_words_do_not_decode_keeps_what_was_sent(
    raw: bytes, subject: str
) -> None:
    """`=?utf-8?b?broken!!?=` became the title `n\ufffd$z`: characters nobody wrote. A
    word that is no text is kept as written; Latin-1 under a UTF-8 label reads as Latin-1."""
    data = b"From: J <j@j.example>\nTo: h@x\nMessage-ID: <s@x>\nSubject: " + raw + b"\n\nx\n"
    assert store.parse(data).mail.subject == subject


def test_a_reply_below_a_quote_its_sender_introduced_keeps_the_reply() -> None:
    """"Support team said:", their mail quoted, then the customer's answer below it: only
    the line above the quote was kept, the answer lost. Quoting nothing the ticket holds,
    it is all the customer's, kept whole; and "the printer says:" above its pasted output
    is never taken for a quote's heading (a code review's find)."""
    text = (
        "Support team said:\n> We have refunded the order, it takes 5 days\n"
        "> Kind regards, Anna\n\nStill nothing after a week."
    )
    assert store.strip_quoted(text, "Checkout returns 500") == text
    printer = "Hi,\n\nevery time I print, the printer says:\n\n> PAPER JAM TRAY 2\n> PRESS OK"
    assert store.strip_quoted(printer, "Checkout returns 500") == printer
    console = (
        "> Did you restart it?\nYes, twice. After that the console says:\n"
        "> Error 42: disk not found.\nThanks, Jane"
    )
    assert "Yes, twice. After that the console says:" in store.strip_quoted(console)


def test_a_pasted_block_is_kept_beside_a_quote_the_reply_also_holds() -> None:
    """Each block of `>` lines is judged alone: one real quote anywhere (a Gmail quote
    below) made every `>` line go, the customer's pasted error too; and one block that
    repeats the ticket's text made every block a quote (issue 17's audit)."""
    gmail = (
        "Here is the error I get:\n> Error 49.4C02 service required\n\nPlease help.\n\n"
        "On Thu, Dec 10, 2026 at 8:00 AM Help <help@shop.example> wrote:\n"
        "> Did you restart it?\n> Regards"
    )
    assert store.strip_quoted(gmail, "Printer broken") == (
        "Here is the error I get:\n> Error 49.4C02 service required\n\nPlease help."
    )
    again = (
        "Same as before, the panel says:\n> Error 49.4C02 service required\n"
        "And the PC now says:\n> Spooler crashed: 0x800706BA"
    )
    kept = store.strip_quoted(again, "Error 49.4C02 service required")
    assert "> Spooler crashed: 0x800706BA" in kept


def test_an_answer_typed_under_a_quoted_question_is_kept_when_the_ticket_says_otherwise() -> None:
    """"> Please send your order number" / "A-123456": the answer was taken for the quoted
    line's wrapped rest (it stops mid-sentence) and lost (issue 17's second audit). With
    the ticket's text known, a line is the quote's rest only if the two run on in it."""
    text = (
        "On Thu, Dec 10, 2026 at 8:00 AM Help <help@shop.example> wrote:\n"
        "> Please send your order number\nA-123456\n> Did you restart it?\nYes, twice.\n"
    )
    known = "Please send your order number. Did you restart it?"
    assert store.strip_quoted(text, known) == "A-123456\nYes, twice."
    wrapped = (
        "Thanks\n\nOn Thu, Dec 10, 2026 at 8:00 AM Help <help@shop.example> wrote:\n"
        "> Could you tell us whether\nthat helped?\n"
    )
    assert store.strip_quoted(wrapped, "Could you tell us whether that helped?") == "Thanks"


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("Shift_JIS", "cp932", "①報告"),
        ("GB2312", "gb18030", "登录失败 镕"),
        ("EUC-KR", "cp949", "똠방"),
        ("ks_c_5601-1989", "cp949", "똠방"),  # (labels Python reads no wider, or not at all)
        ("windows-949", "cp949", "똠방"),
        ("chinese", "gb18030", "登录失败 镕"),
    ],
)
def test_an_encoded_subject_under_a_narrow_label_is_read_as_mail_readers_read_it(
    label: str, codec: str, text: str
) -> None:
    """One character outside the label's charset (`①` in Shift_JIS, as Outlook writes it)
    left the word undecoded or garbled the whole subject."""
    import base64

    word = base64.b64encode(text.encode(codec)).decode()
    data = (f"From: a@shop.example\r\nTo: help@esc.example\r\nSubject: =?{label}?B?{word}?=\r\n"
            "Message-ID: <s@shop.example>\r\n\r\nhi\r\n").encode()  # fmt: skip
    assert store.parse(data).mail.subject == text


def _mixed(*parts: bytes) -> bytes:
    """A multipart/mixed message holding ``parts`` (each its headers, a blank line, its
    text), as a mailing list sends an HTML-only mail with its footer added."""
    head = (b"From: Customer <cust@c.example>\r\nTo: help@esc.example\r\nSubject: Payments\r\n"
            b"Message-ID: <list1@c.example>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n')  # fmt: skip
    return head + b"".join(b"--X\r\n" + part + b"\r\n" for part in parts) + b"--X--\r\n"


_FOOTER = (
    b"Content-Type: text/plain; charset=us-ascii\r\nContent-Disposition: inline\r\n\r\n"
    b"____\r\nHelp mailing list\r\nhttps://lists.example.com/mailman/listinfo/help\r\n"
)


def test_an_html_only_mail_with_a_list_s_plain_footer_after_it_keeps_its_text() -> None:
    """Mailman adds its footer to an HTML-only mail as a text/plain part after it, in a
    multipart/mixed: the footer alone became the description, the customer's words were
    nowhere.  Every inline text part is the body, in order, as a mail reader shows it (an
    alternative giving its plain text); an attachment, a named part, is none of it."""
    html = (
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>All card payments fail since 9:00 with error 502. Order 4711.</p>\r\n"
    )
    log = (b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=server.log"
           b"\r\n\r\n502 at 09:00\r\n")  # fmt: skip
    named = b"Content-Type: text/plain; name=notes.txt\r\n\r\nmy notes\r\n"
    parsed = store.parse(_mixed(html, log, named, _FOOTER))
    assert parsed.mail.text == (
        "All card payments fail since 9:00 with error 502. Order 4711.\n\n"
        "____\nHelp mailing list\nhttps://lists.example.com/mailman/listinfo/help\n"
    )
    assert [a.name for a in parsed.attachments] == ["server.log", "notes.txt"]
    alternative = (
        b'Content-Type: multipart/alternative; boundary="A"\r\n\r\n'
        b"--A\r\nContent-Type: text/plain\r\n\r\nPlain words\r\n"
        b"--A\r\nContent-Type: text/html\r\n\r\n<p>HTML words</p>\r\n--A--\r\n"
    )
    assert store.parse(_mixed(alternative, _FOOTER)).mail.text.startswith("Plain words\n\n____\n")


def test_the_same_text_as_plain_and_html_side_by_side_is_said_once() -> None:
    """A web form's mailer put the text as plain and as HTML side by side in a mixed
    message (not as alternatives): the ticket held its words twice."""
    plain = b"Content-Type: text/plain\r\n\r\nError 42 at checkout.\r\n"
    html = b"Content-Type: text/html\r\n\r\n<p>Error 42 at <b>checkout</b>.</p>\r\n"
    assert store.parse(_mixed(plain, html)).mail.text == "Error 42 at checkout.\n"
    assert store.parse(_mixed(plain, html, _FOOTER)).mail.text.count("Error 42") == 1
    other = b"Content-Type: text/plain\r\n\r\nAnd a second thing.\r\n"
    assert store.parse(_mixed(plain, other)).mail.text == (
        "Error 42 at checkout.\n\nAnd a second thing.\n"
    )
    # (the customer's own repeats stay: a caption under two images, or words that differ
    # in their signs alone)
    caption = b"Content-Type: text/plain\r\n\r\nAfter the update:\r\n"
    image = (b"Content-Type: image/png\r\nContent-Disposition: inline\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n")  # fmt: skip
    assert store.parse(_mixed(caption, image, caption, image)).mail.text.count("After") == 2
    signs = b"Content-Type: text/html\r\n\r\n<p>-40.00 EUR?!</p>\r\n"
    plain_sum = b"Content-Type: text/plain\r\n\r\n40.00 EUR\r\n"
    assert "-40.00 EUR?!" in store.parse(_mixed(plain_sum, signs)).mail.text


def test_a_reply_in_html_with_a_list_s_footer_after_it_loses_its_quote_alone() -> None:
    html = (b"Content-Type: text/html; charset=utf-8\r\n\r\n<div>It still fails.</div>"
            b"<div>On Tue, Dec 1, 2026 at 12:00 PM Help &lt;help@esc.example&gt; wrote:<br>"
            b'<blockquote type="cite">Did it work?</blockquote></div>\r\n')  # fmt: skip
    assert store.strip_quoted(store.parse(_mixed(html, _FOOTER)).mail.text) == "It still fails."


def test_an_mbox_s_last_message_of_headers_alone_with_its_id_is_taken(tmp_path: Path) -> None:
    """A whole message of headers alone ends an mbox without a blank line after them (as
    Python's mailbox writes it): with its Message-ID it is taken, not left on every run;
    without one it may be cut before it, and is left."""
    box = tmp_path / "inbox.mbox"
    head = b"From a@x Fri Nov 27 08:00:00 2026\nFrom: a@x.example\nSubject: Call me\n"
    box.write_bytes(head + b"Message-ID: <h1@x.example>\n")
    (whole,) = store.read_mbox(box)
    assert whole.left is None
    box.write_bytes(head)
    (cut,) = store.read_mbox(box)
    assert cut.left == store.STILL_WRITTEN
