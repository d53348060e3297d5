"""Realistic e-mail built with Python's email library, for the intake tests.

Each builder returns the message's bytes as a mail client or MTA would deliver them.
"""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

DATE = "Fri, 20 Nov 2026 09:40:00 +0100"  # 20 minutes before the tests' NOW


def message(
    subject: str = "Checkout returns 500",
    text: str | None = "Card payments fail since 08:50.\n\nJane",
    html: str | None = None,
    sender: str = "Jane Doe <jane@shop.example>",
    to: str = "help@esc.example",
    message_id: str | None = "<m1@shop.example>",
    date: str | None = DATE,
    charset: str = "utf-8",
    cte: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if date:
        msg["Date"] = date
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    if text is not None:
        msg.set_content(text, charset=charset, cte=cte)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html", charset=charset, cte=cte)
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(policy=SMTP)


def reply(
    quoting: str,
    new_text: str,
    in_reply_to: str | None,
    subject: str = "Re: Checkout returns 500",
    message_id: str = "<r1@shop.example>",
    references: str | None = None,
) -> bytes:
    """A customer's reply quoting the previous message, as Gmail, Outlook or Apple Mail
    quote it."""
    quoted = {
        "gmail": (
            "On Fri, 20 Nov 2026 at 10:05, Support <help@esc.example> wrote:\n"
            "> Could you try again with another card?\n> \n> Alice\n"
        ),
        "outlook": (
            "________________________________\n"
            "From: Support <help@esc.example>\n"
            "Sent: Friday, November 20, 2026 10:05 AM\n"
            "To: Jane Doe <jane@shop.example>\n"
            "Subject: RE: Checkout returns 500\n\n"
            "Could you try again with another card?\n\nAlice\n"
        ),
        "apple": (
            "> On 20 Nov 2026, at 10:05, Support <help@esc.example> wrote:\n"
            "> \n> Could you try again with another card?\n"
        ),
    }[quoting]
    headers = {"In-Reply-To": in_reply_to, "References": references or in_reply_to}
    headers = headers if in_reply_to else {}
    return message(
        subject=subject,
        text=f"{new_text}\n\n{quoted}",
        message_id=message_id,
        date="Fri, 20 Nov 2026 10:20:00 +0100",
        headers=headers,
    )


def auto_reply() -> bytes:
    return message(
        subject="Automatic reply: Your ticket",
        text="I am out of office until Monday.",
        message_id="<ooo@shop.example>",
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )


def bounce() -> bytes:
    """A delivery status notification (RFC 3464), as Postfix sends it."""
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.esc.example>\r\n"
        b"To: help@esc.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Date: Fri, 20 Nov 2026 09:40:00 +0100\r\nMessage-ID: <bounce@mx.esc.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n\r\n'
        b"--B1\r\nContent-Type: text/plain\r\n\r\nUser unknown.\r\n"
        b"--B1\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.esc.example\r\n\r\nFinal-Recipient: rfc822; x@y\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n\r\n--B1--\r\n"
    )


def broken_mime() -> bytes:
    return (
        b"From: Jane <jane@shop.example>\r\nTo: help@esc.example\r\nSubject: broken\r\n"
        b"Message-ID: <broken@shop.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"no boundary ever starts here\r\n"
    )


def unknown_charset() -> bytes:
    return (
        b"From: Jane <jane@shop.example>\r\nTo: help@esc.example\r\nSubject: odd\r\n"
        b"Message-ID: <charset@shop.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello\r\n"
    )


def maildir(folder: Path, *messages: bytes) -> Path:
    """A real Maildir holding ``messages`` in new/."""
    box = mailbox.Maildir(folder, create=True)
    for data in messages:
        box.add(data)
    box.close()
    return folder


def mbox(path: Path, *messages: bytes) -> Path:
    box = mailbox.mbox(path, create=True)
    for data in messages:
        box.add(data)
    box.close()
    return path
