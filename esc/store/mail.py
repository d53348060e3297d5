"""Reading incoming mail: Maildir, mbox and single RFC 5322 messages, parsed with Python's
``email`` (policy ``default``) into :class:`esc.domain.mail.Mail`.

No MIME is parsed by hand: ``email`` finds the text part and decodes it, ``html2text``
turns an HTML-only message into text, and ``mail-parser-reply`` strips quoted replies and
signatures.  A message that cannot be used (broken MIME, an unknown charset, no From,
over :data:`MAX_MESSAGE_BYTES`) raises :class:`Malformed` and is put in quarantine.
"""

from __future__ import annotations

import binascii
import codecs
import contextlib
import datetime as dt
import email
import email.errors
import email.message
import email.policy
import email.utils
import hashlib
import mailbox
import mimetypes
import os
import quopri
import re
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esc.domain.mail import AUTO_REPLY_HEADERS, DAEMONS, Mail, one_line, trimmed
from esc.store import atomic

if TYPE_CHECKING:
    from typing_extensions import Buffer

MAX_MESSAGE_BYTES = 50 * 1024 * 1024  # a larger message is quarantined unread
# a longer header (as written, folded; all of one name in a part together) is quarantined
# unread: Python's parser of headers is quadratic in their encoded words and parameters (a
# From of 987,000 characters took 16 s and 11.8 GB, a Subject of 1.2 million 8 s, a
# Content-Type of 469,000 14 s, twenty To of 99,000 each 21 s)
MAX_HEADER_CHARS = 100_000
# a part's MIME headers (Content-Type, Content-Disposition: a few hundred characters in any
# real mail) longer than this, or all of a message's together longer than the limit above:
# quarantined too (20 parts with a Content-Type of 99,000 characters each took 235 s)
MAX_MIME_HEADER_CHARS = 10_000
_MIME_HEADERS = frozenset({"content-type", "content-disposition"})
_READ_RAW = frozenset({"message-id", "in-reply-to", "references"})  # (by esc, in linear time)
ATTACHMENT_LIMIT = 10 * 1024 * 1024  # default: a larger attachment is listed, not saved
QUARANTINED_FILE = "intake-quarantined"  # in esc's cache folder: see Quarantined
# the languages whose quote headers mail-parser-reply is given (it knows cs, da, ja, ko, pl,
# sv and zh too, but takes their short words, `Od:`/`Do:`, in a customer's own lines for a
# quote's header: an Outlook block in those is cut here, by one naming an address)
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]

# Defects that mean the MIME structure is broken (others, like a stray header line, are not).
_FATAL_DEFECTS = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,  # (a message cut short, as an mbox being
    # written is read: its whole copy comes later, and would be "already taken")
    email.errors.MultipartInvariantViolationDefect,
)
_HEADERS = (
    "auto-submitted", "precedence", *AUTO_REPLY_HEADERS, "content-type", "return-path",
    "x-esc-ticket", "x-esc-event", "x-precedence",
)  # fmt: skip  (X-Esc-Event: a notification esc sent, which it must never take back in)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_BARE_ID = re.compile(r"[^<>\s@]+@[^<>\s@]+")  # (`abc@host` without the brackets)
# A Maildir name: seconds, "." and the unique part ("M<usec>P<pid>Q<n>", "R…", …), "." host.
_MAILDIR_NAME = re.compile(r"([0-9]+)\.([^.]*)\.")


class Malformed(Exception):
    """A message intake cannot use; its text says why, in a few words."""


@dataclass
class Attachment:
    name: str  # a safe file name
    data: bytes = b""
    too_big: bool = False
    size: int = 0


@dataclass
class Parsed:
    mail: Mail
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Incoming:
    """One message of a source: where it is (for messages), its bytes, and how to mark it
    done or move it to quarantine."""

    where: str
    data: bytes
    path: Path | None = None  # a Maildir file: moved to cur/ with the S flag when done
    taken: Callable[[], None] | None = None  # (IMAP) mark it taken on the server
    quarantined: Callable[[], None] | None = None  # (IMAP) mark it quarantined there
    problem: str | None = None  # why it is quarantined unread (too big to download)
    left: str | None = None  # why it is left for the next run, unread (still being written)


def _blank(part: email.message.MIMEPart) -> bool:
    """Whether a text part holds nothing but white space."""
    return not _text_of(part).strip()


def _text_of(part: email.message.MIMEPart) -> str:
    """A text part's text, its flowed lines joined (``format=flowed``, RFC 3676, as
    Thunderbird sends it: :func:`_unflowed`)."""
    text = _decoded_text(part)
    if part.get_content_type() == "text/plain" and str(part.get_param("format", "")).lower() == (
        "flowed"
    ):
        return _unflowed(text, str(part.get_param("delsp", "")).lower() == "yes")
    return text


def _unflowed(text: str, delsp: bool) -> str:
    """``format=flowed`` text as its sender wrote it: a line ending in a space goes on in
    the next (with ``delsp=yes`` that space is no part of the text), a leading space that
    stuffs a line is taken off; quoted lines (``>``) join only lines of their own depth,
    and the signature line ``-- `` stays a line of its own."""
    out: list[str] = []
    open_depth: int | None = None  # (the quote depth of a line still flowing, if one is)
    for raw in text.split("\n"):
        depth = len(raw) - len(raw.lstrip(">"))
        line = raw[depth:]
        if line.startswith(" "):
            line = line[1:]  # (space-stuffed)
        flowing = line.endswith(" ") and line != "-- "
        if flowing and delsp:
            line = line[:-1]
        if open_depth is not None and open_depth == depth and out:
            out[-1] += line
        else:
            out.append(">" * depth + (" " if depth else "") + line if depth else line)
        open_depth = depth if flowing else None
    return "\n".join(out)


def _decoded_text(part: email.message.MIMEPart) -> str:
    """A text part's text.  8-bit text under no charset (or US-ASCII, the default), or
    under UTF-8 but not UTF-8, which ``email`` turned into U+FFFD, is read as its 8-bit
    headers are: UTF-8, else Latin-1; Latin-1 as Windows-1252 (:func:`windows_1252`)."""
    charset = part.get_content_charset()
    if charset is not None and not charset.strip():  # (`charset=""`: none is named)
        raw = part.get_payload(decode=True)
        return _eight_bit(raw if isinstance(raw, bytes) else b"").replace("\r\n", "\n")
    if charset in (None, "us-ascii", "ascii", "utf-8", "utf8"):
        raw = part.get_payload(decode=True)
        if isinstance(raw, bytes) and not raw.isascii() and not _utf_8(raw, charset):
            return _eight_bit(raw).replace("\r\n", "\n")  # (UTF-8 declared, Latin-1 sent:
            # `café` as a mail client shows it, not `caf\ufffd`)
    wider = _WIDER.get(charset or "")
    if wider is not None:  # (read as the WHATWG Encoding standard reads the label)
        raw = part.get_payload(decode=True)
        if isinstance(raw, bytes):
            return raw.decode(wider, "replace").replace("\r\n", "\n")
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    return windows_1252(text) if part.get_content_charset() in _LATIN_1 else text


# Labels under which mail clients send text in the wider Windows code page, which mail
# readers and browsers read it as (the WHATWG Encoding standard): Outlook's Shift_JIS is
# CP932 (`①`, NEC's and IBM's rows: Python's shift_jis made them U+FFFD), GB2312 and GBK
# are GB18030, EUC-KR is CP949.
_WIDER = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "ms_kanji": "cp932", "csshiftjis": "cp932",
    "gb2312": "gb18030", "gb_2312-80": "gb18030", "csgb2312": "gb18030", "x-gbk": "gb18030",
    "gbk": "gb18030",
    "gb_2312": "gb18030", "chinese": "gb18030", "csiso58gb231280": "gb18030",
    "iso-ir-58": "gb18030",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "csksc56011987": "cp949",
    "ks_c_5601-1989": "cp949", "ksc5601": "cp949", "ksc_5601": "cp949", "korean": "cp949",
    "cseuckr": "cp949", "windows-949": "cp949", "iso-ir-149": "cp949",
}  # fmt: skip (the WHATWG Encoding standard's labels of those three)


def _utf_8(raw: bytes, charset: str | None) -> bool:
    """Whether ``raw`` is declared UTF-8 (``charset``) and is that."""
    if charset not in ("utf-8", "utf8"):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# The labels under which Outlook sends Windows-1252 (its curly quotes, dashes, €).
_LATIN_1 = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"})


# Latin-1's C1 control characters as Windows-1252 has those bytes: Outlook sends its curly
# quotes, dashes and € (0x80-0x9F) under an ISO-8859-1 label (or none), which mail
# clients and browsers read as Windows-1252 (as the WHATWG Encoding standard says).
_C1_AS_1252 = {
    byte: char
    for byte in range(0x80, 0xA0)
    if (char := bytes([byte]).decode("cp1252", "replace")) != "\ufffd"
}


def windows_1252(text: str) -> str:
    """``text`` (read as Latin-1) with its C1 control characters as Windows-1252 has them:
    `I don\x92t` is `I don’t`, `\x80 5` is `€ 5`."""
    return text.translate(_C1_AS_1252) if _C1.search(text) else text


_C1 = re.compile("[\x80-\x9f]")


def _commented_name(msg: email.message.EmailMessage) -> str:
    """The name in an old-style From header's comment (``jane@shop.example (Jane Doe)``),
    which the header parser leaves out; "" if there is none."""
    from email.utils import parseaddr

    raw = next((value for key, value in msg.raw_items() if key.lower() == "from"), "")
    return parseaddr(str(raw))[0]


# Charsets mail is sent in under names Python's codecs do not know (IANA's registered
# names and mail clients' own): Outlook's Thai default, Hebrew and Arabic logical order.
_CHARSET_ALIASES = {
    "windows_874": "cp874",
    "iso_8859_8_i": "iso8859_8",
    "iso_8859_8_e": "iso8859_8",
    "iso_8859_6_i": "iso8859_6",
    "iso_8859_6_e": "iso8859_6",
    "latin_9": "iso8859_15",
    "x_sjis": "shift_jis",
    "windows_31j": "cp932",  # (IANA's name of Microsoft's Shift_JIS)
    "x_ms_cp932": "cp932",
    "x_euc_jp": "euc_jp",
    "x_windows_949": "cp949",
    "x_mac_roman": "mac_roman",
    "x_gbk": "gbk",
    "cp_850": "cp850",
    "unicode_1_1_utf_8": "utf_8",  # (the WHATWG Encoding standard's other UTF-8 labels)
    "unicode11utf8": "utf_8",
    "unicode20utf8": "utf_8",
    "x_unicode20utf8": "utf_8",
}


# Charsets that say the text is 8-bit in an unknown charset (RFC 1428's `unknown-8bit`):
# read as 8-bit text that no header names is (:func:`_eight_bit`), never quarantined
_UNKNOWN_CHARSETS = frozenset({"unknown_8bit", "x_unknown", "unknown", "x_user_defined"})


def _charset_alias(name: str) -> codecs.CodecInfo | None:
    """A codec search function (:func:`codecs.register`) for :data:`_CHARSET_ALIASES` and
    :data:`_UNKNOWN_CHARSETS`."""
    key = name.replace("-", "_")
    if key in _UNKNOWN_CHARSETS:
        return _UNKNOWN_CODEC
    target = _CHARSET_ALIASES.get(key)
    return codecs.lookup(target) if target is not None else None


def _decode_unknown(data: Buffer, errors: str = "strict", /) -> tuple[str, int]:
    raw = bytes(data)
    return _eight_bit(raw), len(raw)


def _encode_unknown(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return text.encode("utf-8", errors), len(text)


_UNKNOWN_CODEC = codecs.CodecInfo(_encode_unknown, _decode_unknown, name="unknown-8bit")


codecs.register(_charset_alias)


def fallback_id(data: bytes) -> str:
    """A stable Message-ID for a message that has none: its content's hash, without the
    headers a mail reader adds to an mbox as it reads (``Status``, ``X-Status``, mutt's
    ``Content-Length`` and ``Lines``, Thunderbird's ``X-Mozilla-*``, ``X-Keywords``,
    ``X-UID``: a message marked read is the same message), nor those each server that
    delivers it adds (``Received``, ``Delivered-To``, ``Return-Path``, spam and
    authentication verdicts: one message delivered twice, by two relays or to two
    aliases, is one message)."""
    return _content_id(_lf(data), _NOT_CONTENT)  # (with LF line ends: a Maildir's copy and
    # IMAP's, with CRLF ones, are one message)


def _lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n") if b"\r\n" in data else data


def earlier_fallback_ids(data: bytes) -> tuple[str, ...]:
    """The :func:`fallback_id` earlier versions of esc gave ``data`` (its line ends as read;
    before, only ``Status`` and ``X-Status`` left out; then the mbox state headers alone),
    those that differ from
    today's: a message without a Message-ID that an mbox holds is read again on every run,
    and must be known by the id it was taken under."""
    today = fallback_id(data)
    earlier = (
        _content_id(data, _NOT_CONTENT),  # (its line ends as read)
        _content_id(data, _EARLIER_MBOX_STATE),
        _content_id(data, _MBOX_STATE),
    )
    return tuple(dict.fromkeys(i for i in earlier if i != today))


def _content_id(data: bytes, state: re.Pattern[bytes]) -> str:
    """A Message-ID made of ``data``'s hash, without the header lines ``state`` matches."""
    ends = [i + 1 for i in (data.find(b"\n\n"), data.find(b"\n\r\n")) if i >= 0]
    end = min(ends, default=len(data))  # (the end of the headers: the body is left as it is)
    kept = state.sub(b"", data[:end]) + data[end:]
    return f"<sha256-{hashlib.sha256(kept).hexdigest()[:32]}@esc.invalid>"


_EARLIER_MBOX_STATE = re.compile(rb"^(?:X-)?Status:[^\n]*\n", re.MULTILINE | re.IGNORECASE)


# The headers mail readers keep an mbox message's state in (read, answered, flagged, its
# size and its keywords), each with any folded lines that continue it.
_MBOX_STATE = re.compile(
    rb"^(?:(?:X-)?Status|Content-Length|Lines|X-Mozilla-[A-Za-z0-9-]+|X-Keywords|X-UID|"
    rb"X-IMAP(?:base)?):[^\n]*\n(?:[ \t][^\n]*\n)*",
    re.MULTILINE | re.IGNORECASE,
)


# The headers each server that delivers a message adds (its trace, the address it was
# delivered to, its spam and authentication verdicts), each with its folded lines.
_DELIVERY = (
    rb"Received|X-Received|Delivered-To|X-Delivered-To|Return-Path|X-Original-To|"
    rb"Envelope-To|X-Envelope-(?:From|To)|Received-SPF|Authentication-Results|"
    rb"ARC-[A-Za-z0-9-]+|X-Spam-[A-Za-z0-9-]+|X-Virus-[A-Za-z0-9-]+"
)
_NOT_CONTENT = re.compile(
    rb"^(?:(?:X-)?Status|Content-Length|Lines|X-Mozilla-[A-Za-z0-9-]+|X-Keywords|X-UID|"
    rb"X-IMAP(?:base)?|" + _DELIVERY + rb"):[^\n]*\n(?:[ \t][^\n]*\n)*",
    re.MULTILINE | re.IGNORECASE,
)


def parse(data: bytes, attachment_limit: int = ATTACHMENT_LIMIT) -> Parsed:
    """The message in ``data``; Malformed if intake cannot use it."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise Malformed(f"over {MAX_MESSAGE_BYTES // (1024 * 1024)} MB")
    try:
        return _parse(data, attachment_limit)
    except Malformed:
        raise
    except LookupError as exc:
        if type(exc) is LookupError:  # (a codec Python does not know; not an IndexError)
            raise Malformed(f"unknown charset ({exc})") from None
        raise Malformed(f"cannot be parsed ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # a message email cannot make sense of: the batch goes on
        said = str(exc)
        if said.count(")") > said.count("("):  # (some of email's end in a stray one)
            said = said.rstrip(")")
        raise Malformed(f"cannot be parsed ({type(exc).__name__}: {said})") from None


def _read_as_mail_readers_do(part: email.message.Message) -> None:
    """``part``'s transfer encoding and charset as mail readers read them, for ``email`` to
    decode it by (the message as received is kept, never this copy): a transfer encoding
    with white space or a comment around it (`base64 (standard)`, `quoted-printable `,
    which RFC 2045 allows) left an attachment saved as base64 text and the body as
    quoted-printable; a charset by another of its names (`ISO_8859-1:1987`, `CP819`,
    `ANSI_X3.4-1968`, `x-cp1252`, `koi8`: the WHATWG Encoding standard's labels) lost the
    curly quotes and € Outlook sends, or was quarantined; one in RFC 2231's form
    (`charset*=utf-8''utf-8`) was quarantined with Python's TypeError."""
    header = part.get("Content-Transfer-Encoding")
    if header is not None:
        cte = getattr(header, "cte", None)
        if isinstance(cte, str) and cte and cte != str(header):
            part.replace_header("Content-Transfer-Encoding", cte)
    given = part.get_param("charset")
    if given is None or part.get_content_maintype() != "text":
        return
    given_label = email.utils.collapse_rfc2231_value(given).strip().lower()
    label = _WHATWG_LABELS.get(given_label, given_label)
    if label != given_label or not isinstance(given, str):
        part.set_param("charset", label)


# Charset labels that name one encoding under another of its names (the WHATWG Encoding
# standard's labels), as intake reads them: every label of windows-1252 but its own as
# ISO-8859-1 or US-ASCII (read as Windows-1252 where they hold its bytes: _decoded_text),
# and labels Python's codecs do not know.
_WHATWG_LABELS = {
    **dict.fromkeys(
        ("cp819", "csisolatin1", "ibm819", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1",
         "iso_8859-1:1987", "l1", "latin1", "iso-8859-1", "latin-1"),
        "iso-8859-1",
    ),
    **dict.fromkeys(("ansi_x3.4-1968", "ascii", "us-ascii"), "us-ascii"),
    "x-cp1252": "windows-1252",
    "koi8": "koi8-r", "cskoi8r": "koi8-r", "koi": "koi8-r", "koi8_r": "koi8-r",
    "x-mac-cyrillic": "mac-cyrillic", "x-mac-ukrainian": "mac-cyrillic",
}  # fmt: skip


def _named_address(name: str, spec: str) -> str:
    """``Name <spec>``, the name quoted where it must be.  (An address in UTF-8, as RFC
    6532 allows, `jörg@exämple.de`: Python's Address refuses its local part, and the
    message was quarantined.)"""
    try:
        return str(Address(display_name=name, addr_spec=spec))
    except (ValueError, email.errors.MessageError, email.errors.MessageDefect):
        if re.search(r'[",()<>@:;\[\]\\.]', name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{spec}>"


def _refuse_long_headers(data: bytes) -> None:
    """Malformed if a part's headers of one name (but those esc reads itself, Message-ID,
    In-Reply-To and References) are longer than :data:`MAX_HEADER_CHARS` together: read
    first as ``compat32`` reads them, as text, before the policy that parses them (and
    already parses every Content-Type while it reads the message) takes its time."""
    plain = email.message_from_bytes(data, policy=email.policy.compat32)
    mime = 0  # (the MIME headers of every part together)
    for part, whose in _parts_and_whose(plain, "its"):
        totals: dict[str, list[int]] = {}
        for name, value in part.raw_items():
            key = name.lower()
            if key in _READ_RAW:
                continue
            total = totals.setdefault(key, [0, 0])
            total[0] += len(str(value))
            total[1] += 1
            limit = MAX_MIME_HEADER_CHARS if key in _MIME_HEADERS else MAX_HEADER_CHARS
            if key in _MIME_HEADERS:
                mime += len(str(value))
            if total[0] > limit or mime > MAX_HEADER_CHARS:
                said = one_line(name)[:40]
                what = f"{said} headers are" if total[1] > 1 else f"{said} header is"
                if total[0] <= limit:  # (each short enough, but all the parts' together)
                    whose, what, total[0], limit = "its parts'", "MIME headers are", mime, (
                        MAX_HEADER_CHARS
                    )
                raise Malformed(
                    f"{whose} {what} {total[0]:,} characters long (esc reads at most "
                    f"{limit:,})"
                )


def _parts_and_whose(
    part: email.message.Message, whose: str
) -> Iterator[tuple[email.message.Message, str]]:
    """Each part of a message with whose headers they are: the message's (``its``), or
    a message attached to it (``its attached message's``, a forward saved whole)."""
    yield part, whose
    if not part.is_multipart():  # (its text not decoded: a charset in RFC 2231's form,
        return  # `charset*=utf-8''utf-8`, made Python's decode() a TypeError)
    payload = part.get_payload()
    if isinstance(payload, list):
        inner = "its attached message's" if part.get_content_type() == "message/rfc822" else whose
        for sub in payload:
            if isinstance(sub, email.message.Message):
                yield from _parts_and_whose(sub, inner)


def _parse(data: bytes, attachment_limit: int) -> Parsed:
    _refuse_long_headers(data)
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    for part in msg.walk():
        for defect in part.defects:
            if isinstance(defect, _FATAL_DEFECTS):
                raise Malformed(f"broken MIME ({type(defect).__name__})")
    for leaf in _parts(msg, top=True):  # (a message attached whole is one: saved as it came)
        _read_as_mail_readers_do(leaf)
    addresses = _sender_addresses(msg)
    if not addresses or not addresses[0].username or not addresses[0].domain:
        daemon = _daemon(msg, addresses)  # (`From: MAILER-DAEMON`: a bounce, to be ignored)
        if daemon is None:
            raise Malformed("no From address")
        spec = sender = daemon
    else:
        first = addresses[0]
        spec = _unescaped(first.addr_spec)
        name = _joined_name(msg, spec) or _display_name(first)
        if not name:  # (the old style, `jane@shop.example (Jane Doe)`: a comment holds it)
            name = one_line(_commented_name(msg))
        sender = _named_address(name, spec) if name else spec
    said = _said_once([(part, shown) for part in _inline_texts(msg)
                       if (shown := _shown(part)).strip()])  # fmt: skip
    body = _chosen(msg) if not said else None
    text = ""
    if said:  # (a mixed message's inline text parts, in order: see _inline_texts)
        html_alone = len(said) == 1 and said[0][0].get_content_subtype() == "html"
        text = said[0][1] if html_alone else "\n\n".join(
            [said[0][1].rstrip("\n"), *(shown.strip("\n") for _, shown in said[1:])]
        ) + "\n"  # (as a plain body, and the text after an inline image, were joined)
    elif body is not None:
        text = _shown(body)
        if body.get_content_subtype() != "html":  # (a mail split around an inline image:
            # the text after it, too)
            text = "\n\n".join([text.rstrip("\n"), *_more_text(msg, body)]) + "\n"
    bodies = [part for part, _ in said] + ([body] if body is not None else [])
    attachments = [
        _attachment(part, n, attachment_limit)
        for n, part in enumerate(
            p for p in _parts(msg, top=True)
            if all(p is not b for b in bodies) and _is_attachment(p)
        )
    ]
    recipients: dict[str, None] = {}  # (in order, each once)
    # (and the envelope's: a message Bcc'd to security@ reaches it with `To: undisclosed-
    # recipients:;` and the address only in Delivered-To or X-Original-To)
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for specs in _addresses_of_each(msg, name):
            for addr in specs:
                to = _unescaped(addr).lower()
                if to and "@" in to:
                    recipients[to] = None
    reply_to, reply_address = _reply_to(msg, spec, recipients)
    # (a Message-ID that names nothing, `<@>`, `<x@>`, is no id: two unrelated messages
    # that gave it were one, the second `already taken`; its content's hash stands in)
    given = " ".join(_raw_values(msg, "Message-ID"))
    ids = _usable_ids(given)
    mail = Mail(
        message_id=ids[0] if ids else fallback_id(data),
        sender=sender,
        address=spec.lower(),
        recipients=tuple(recipients),
        subject=_subject(msg),
        date=_date(msg),
        in_reply_to=_message_ids(msg, "In-Reply-To"),
        references=_message_ids(msg, "References"),
        text=text.replace("\r\n", "\n").replace("\x00", ""),  # (a NUL: no text, and git
        # would take the ticket for a binary file that no merge can join)
        headers={name: _unescaped(str(msg[name])) for name in _HEADERS if msg[name] is not None},
        # (not the id an earlier esc took it under when it names nothing, `<x@>`: every
        # later message a broken mailer gave it was then `already taken`, lost)
        earlier_ids=() if ids else earlier_fallback_ids(data),
        given_ids=tuple(i for i in _ids_in(given)[:1] if not ids or i != ids[0]),
        reply_to=reply_to,
        reply_address=reply_address,
    )
    return Parsed(mail, attachments)


def _reply_to(
    msg: email.message.EmailMessage, sender: str, recipients: Container[str]
) -> tuple[str, str]:
    """The one person Reply-To names, as ``Name <address>``, and the address alone
    (lower-case), if another than the sender and none of the message's recipients (a list
    that sets Reply-To to itself names the helpdesk's own address); ("", "") if it names
    none, several, or such an address."""
    listed = _addresses(msg, "Reply-To") or ()
    if len(listed) != 1 or not listed[0].username or not listed[0].domain:
        return "", ""
    spec = _unescaped(listed[0].addr_spec)
    if spec.lower() == sender.lower() or spec.lower() in recipients:
        return "", ""
    name = _display_name(listed[0])
    return (_named_address(name, spec) if name else spec), spec.lower()


def _addresses(msg: email.message.EmailMessage, name: str) -> tuple[Address, ...] | None:
    """The addresses of the header ``name`` (From, Reply-To), as the policy parses them;
    None without one.  A display name that decodes to a line break (`=?utf-8?q?Evil=0A?=`),
    which the policy refuses (ValueError: the message was quarantined, with Python's
    words), is read from the header as written, on one line."""
    try:
        header = msg[name]
    except (ValueError, IndexError):  # (IndexError: Python's parser on `a@`, no domain)
        return _addresses_on_one_line(_raw_values(msg, name)[:1])
    return None if header is None else tuple(getattr(header, "addresses", ()))


def _sender_addresses(msg: email.message.EmailMessage) -> tuple[Address, ...]:
    """From's addresses, as :func:`_addresses` reads them; Malformed if it names more than
    one address (`ceo@shop.example <attacker@evil.example>`, `ceo@shop.example,
    attacker@evil.example`, a group): the first alone was read, so the ticket was the
    CEO's and `--deny evil.example` let it in (audit helper-400, review helper-402).  One
    address written twice (`john@x.example <john@x.example>`) is one."""
    try:
        header = msg["From"]
        broken = header is not None and any(
            isinstance(d, email.errors.InvalidHeaderDefect) for d in header.defects
        )
    except (ValueError, IndexError):
        header, broken = None, True
    listed = () if header is None else tuple(getattr(header, "addresses", ()))
    raw = _raw_values(msg, "From")[:1]
    named = {a.addr_spec.lower() for a in listed}
    if broken and raw:  # (as written: every text that looks like an address)
        named |= {m.lower() for m in _ADDRESS_LIKE.findall(_QUOTED.sub("", raw[0]))}
    named = {a for a in named if all(a.partition("@")[::2])}  # (an address: `x@y`, no
    # name alone, `Smith` of `Smith, John <…>`, nor `<>`; review helper-405)
    if len(named) > 1:
        shown = ", ".join(sorted(named)[:3])
        raise Malformed(f"its From header names more than one address ({one_line(shown)})")
    if header is not None:
        return listed
    return _addresses_on_one_line(raw)


_ADDRESS_LIKE = re.compile(r"[^\s<>,;:\"()@\[\]]+@[^\s<>,;:\"()@\[\]]+")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _addresses_of_each(msg: email.message.EmailMessage, name: str) -> list[list[str]]:
    """The addresses (``addr_spec``) each header ``name`` gives: To and Cc as the policy
    parses them (as :func:`_addresses` reads them, a name with a line break too), the
    envelope's (Delivered-To, X-Original-To), which it leaves as text, as written."""
    try:
        headers = msg.get_all(name) or []
    except (ValueError, IndexError):  # (IndexError: Python's parser on `bob@`, no domain)
        return [[a.addr_spec for a in _addresses_on_one_line([raw])]
                for raw in _raw_values(msg, name)]  # fmt: skip
    return [
        [a.addr_spec for a in listed]
        if (listed := getattr(header, "addresses", None)) is not None
        else [addr for _, addr in email.utils.getaddresses([str(header)])]
        for header in headers
    ]


def _addresses_on_one_line(raw: Sequence[str]) -> tuple[Address, ...]:
    from email.header import decode_header, make_header

    found = []
    for name, spec in email.utils.getaddresses(list(raw)):
        with contextlib.suppress(ValueError, LookupError, email.errors.HeaderParseError):
            name = str(make_header(decode_header(name)))  # (else as written)
        try:
            found.append(Address(display_name=one_line(name), addr_spec=spec))
        except (ValueError, IndexError, email.errors.HeaderParseError):
            continue  # (no address the policy would read either)
    return tuple(found)


def _display_name(address: Any) -> str:
    """An address header's display name, on one line, as the ticket writes it (`Jürgen`
    sent as windows-1252 bytes read as such)."""
    return one_line(windows_1252(_unescaped(address.display_name)))


def _joined_name(msg: email.message.EmailMessage, spec: str) -> str | None:
    """The From display name made of MIME-encoded words, decoded as one text (RFC 2047
    6.2: the space between two words is no part of it), if it is one: ``email`` decoded
    each word on its own, and a name a mailer folded mid-character (`J=C3?= =?…?=BCrgen`)
    was `JÃ ¼rgen`, one folded between words `Kundens ervice`; the Subject was right."""
    import email.header

    raw = next((value for key, value in msg.raw_items() if key.lower() == "from"), None)
    if not isinstance(raw, str) or "=?" not in raw or _SURROGATES.search(raw):
        return None
    try:
        name, address = email.utils.getaddresses([raw])[0]
        # (a comment, `(Sales)`, is no part of the name: the header parser left it out,
        # which getaddresses does not; such a name is read as that parser reads it)
        if "=?" not in name or "(" in raw or address.lower() != spec.lower():
            return None
        text = str(email.header.make_header(email.header.decode_header(name)))
    except (ValueError, LookupError, IndexError, UnicodeError, email.errors.MessageError):
        return None
    return one_line(windows_1252(text)) or None


def _daemon(msg: email.message.EmailMessage, addresses: Sequence[Address]) -> str | None:
    """The sender of a message with no From address esc can use that is a mail system's
    (`MAILER-DAEMON`, `postmaster`, a delivery report), as its name; else None."""
    local = addresses[0].username.lower() if addresses else ""
    if local in DAEMONS:
        return local
    name = addresses[0].display_name.strip().lower() if addresses else ""
    if name in DAEMONS and not addresses[0].addr_spec.strip("<> "):
        return name  # (`From: "MAILER-DAEMON" <>`: the null sender of a bounce, named)
    if msg.get_content_type() == "multipart/report":
        return "mailer-daemon"
    return None


_SURROGATES = re.compile("[\udc80-\udcff]")


def _subject(msg: email.message.EmailMessage) -> str:
    """The Subject as its sender wrote it: in raw 8-bit bytes too (see :func:`_unescaped`:
    ``email`` turns those it cannot read as UTF-8 into U+FFFD), MIME-encoded words decoded."""
    raw = next((value for name, value in msg.raw_items() if name.lower() == "subject"), None)
    if not isinstance(raw, str) or not _SURROGATES.search(raw):
        subject = str(msg["Subject"] or "")  # (its C1 controls from a Latin-1 word alone)
        wider = isinstance(raw, str) and any(  # (a label mail readers read wider: `①`
            m.group(1).split("*", 1)[0].lower() in _WIDER for m in _ENCODED_WORD.finditer(raw)
        )  # in a Shift_JIS word left the whole word undecoded, or garbled the header)
        if ("\ufffd" in subject or wider) and isinstance(raw, str) and "\ufffd" not in raw:
            return _words_as_sent(_unfolded(raw).strip())
        latin = _LATIN_1_WORD.search(str(raw or "")) is not None
        return windows_1252(subject) if latin else subject
    text = _unfolded(_unescaped(raw)).strip()
    return windows_1252(str(email.policy.default.header_factory("subject", text)))


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _words_as_sent(raw: str) -> str:
    """A header whose MIME-encoded words do not decode as they say (`email` gave U+FFFD): each
    word that is Latin-1 under a UTF-8 label (`=?utf-8?q?caf=E9?=`) read as such, and one
    that is no text in any case (`=?utf-8?b?broken!!?=`, not base64) kept as written, never
    replaced by characters nobody wrote."""
    import base64
    import binascii
    import quopri

    def word(found: re.Match[str]) -> str:
        charset, kind, payload = found.group(1), found.group(2).lower(), found.group(3)
        try:
            if kind == "b":
                data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
            else:
                data = quopri.decodestring(payload.replace("_", " ").encode("ascii"), header=True)
            label = charset.split("*", 1)[0]
            try:  # (Shift_JIS as CP932, GB2312 as GB18030…, as mail readers read them)
                return data.decode(_WIDER.get(label.lower(), label))
            except UnicodeDecodeError:  # (Latin-1 under a UTF-8 label: Windows's reading)
                return data.decode("cp1252")
        except (binascii.Error, LookupError, UnicodeError, ValueError):
            return found.group(0)

    # (white space between two encoded words is no text of the header's, RFC 2047: it goes
    # between two that decode; beside one kept as written, it stays)
    out: list[str] = []
    end, decoded_last = 0, False
    for found in _ENCODED_WORD.finditer(raw):
        gap = raw[end : found.start()]
        shown = word(found)
        decoded = shown != found.group(0)
        if not (gap.strip() == "" and gap and decoded and decoded_last):
            out.append(gap)
        out.append(shown)
        end, decoded_last = found.end(), decoded
    out.append(raw[end:])
    return "".join(out)


_LATIN_1_WORD = re.compile(r"=\?(?:iso-?8859-1|latin-?1|us-ascii)\?", re.IGNORECASE)


def _unescaped(text: str) -> str:
    """Header text as its sender wrote it: raw 8-bit bytes in a header (which ``email``
    keeps as surrogate escapes, text no file can hold) read as UTF-8 (RFC 6532), else as
    Latin-1."""
    if not _SURROGATES.search(text):
        return text
    return _eight_bit(text.encode("utf-8", "surrogateescape"))


def _eight_bit(raw: bytes) -> str:
    """8-bit text whose charset no header names: UTF-8 (RFC 6532), else Latin-1 (read as
    Windows-1252).  UTF-8 with a stray byte or two (a gateway's signature in Latin-1 under
    a letter in UTF-8) is UTF-8, each stray byte U+FFFD, as the WHATWG decoder reads it:
    read as Latin-1, all its text was garbled (`GrÃ¼ÃŸe`).  It is UTF-8 when its characters
    beyond ASCII outnumber the bytes that are not UTF-8 (Latin-1's `Straße“`, whose `ß“`
    is a character of UTF-8 by chance, is Latin-1)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")
        stray = text.count("\ufffd") - raw.count("\ufffd".encode())
        if sum(not c.isascii() for c in text) - stray > stray:
            return text
        return windows_1252(raw.decode("latin-1"))


def _raw_values(msg: email.message.EmailMessage, header: str) -> list[str]:
    """The values of the headers named ``header`` as written, unfolded (not parsed:
    Python's parser of a Message-ID raised IndexError on ``<>``)."""
    return [_unfolded(str(value)) for name, value in msg.raw_items()
            if name.lower() == header.lower()]  # fmt: skip


def _unfolded(value: str) -> str:
    """A header's value on one line: each line break before a space or tab (a fold)
    taken out (RFC 5322)."""
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def _message_ids(msg: email.message.EmailMessage, header: str) -> tuple[str, ...]:
    """The Message-IDs the headers named ``header`` hold, in their order, each once."""
    found: dict[str, None] = {}  # (in order, each once: a list looked up was quadratic,
    # 22 s for a References of 60,000 ids)
    for value in _raw_values(msg, header):
        found.update(dict.fromkeys(_usable_ids(value)))
    return tuple(found)


def _usable_ids(value: str) -> list[str]:
    """The Message-IDs in a header's value that name a message (:func:`_names_one`), as
    text: one of UTF-8 bytes (RFC 6532) read as such, one of bytes that are no UTF-8
    left out.  (Read with their bytes escaped, `<t\\udcc3\\udcbc@x>` made a ticket no
    command could read, again on every run; an acknowledgement of it crashed intake.)"""
    found = []
    for message_id in _ids_in(value):
        if not message_id.isascii():
            try:
                message_id = message_id.encode("utf-8", "surrogateescape").decode("utf-8")
            except UnicodeError:
                continue
        if _names_one(message_id):
            found.append(message_id)
    return found


def _names_one(message_id: str) -> bool:
    """Whether ``<…>`` names a message: something on each side of its `@` (RFC 5322's
    id-left and id-right), or, without one (an old mailer's), some text."""
    inner = message_id[1:-1]
    if "@" not in inner:
        return len(inner.strip(".")) >= 4
    left, _, right = inner.rpartition("@")
    return bool(left.strip(".")) and bool(right.strip("."))


def _ids_in(value: str) -> list[str]:
    """The Message-IDs in a header's value, each as ``<id>``: those in angle brackets,
    else (some mailers leave them out, against RFC 5322) each ``local@domain`` word."""
    found = _MESSAGE_ID.findall(value)
    if found:
        return found
    return [f"<{word}>" for word in re.split(r"[\s,]+", value) if _BARE_ID.fullmatch(word)]


# A Date whose zone is unknown: its time last, then `-0000`, a zone's name Python does not
# know (`CET`, `MEZ`: RFC 5322 reads those as -0000) or none; one time in it (`+0100, Fri,
# 27 Nov …`, two dates, is no sane date).  Comments, `(GMT+00:00)`, are taken out first.
_UNKNOWN_ZONE = re.compile(
    r"\A[^:]*\d:\d\d(?::\d\d)?(?:\s+(?:-0000|(?P<zone>[A-Za-z]{1,5})))?\s*\Z"
)
_COMMENTS = re.compile(r"\s*\([^()]*\)")
_TIMES = re.compile(r"\d:\d\d")
# Zone names Python does not read whose meaning is not in doubt (RFC 5322's "out-of-band
# information confirming their meaning"): a mailer in Berlin that writes `CET` means
# +01:00, which read as -0000 put `created` an hour off.  (Not IST, CST, BST and the like:
# each names several zones.)
_KNOWN_ZONES = {
    "CET": 1, "MEZ": 1, "CEST": 2, "MESZ": 2, "WET": 0, "WEST": 1, "EET": 2,
    "EEST": 3, "MSK": 3, "HKT": 8, "SGT": 8, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
    "NZST": 12, "NZDT": 13,
}  # fmt: skip


def _date(msg: email.message.EmailMessage) -> dt.datetime | None:
    try:
        header = msg["Date"]
        value = getattr(header, "datetime", None) if header is not None else None
    except (ValueError, TypeError, IndexError):
        return None
    raw = _raw_values(msg, "Date")
    if len(set(raw)) != 1 or len(_TIMES.findall(_COMMENTS.sub("", raw[0]))) != 1:
        return None  # (two Dates, or two times in one: which is meant is not known)
    zones = _NUMERIC_ZONE.findall(_COMMENTS.sub("", raw[0]))
    if any(len(zone) != 5 or int(zone[3:]) > 59 for zone in zones):
        # (`+01`, which Python reads as +00:01, or `+0160`, read as +02:00: no zone as RFC
        return None  # 5322 writes it, whose minutes are 00 to 59; wherever it stands)
    unknown = _UNKNOWN_ZONE.match(_COMMENTS.sub("", raw[0]).strip())
    if isinstance(value, dt.datetime) and value.tzinfo is None and unknown is not None:
        # RFC 5322: -0000 is UTC, the sender's own zone unknown, and so is none, or a name
        # not known (Python leaves them naive; read as written: Python writes -0000 for any
        # value it reads no zone in, two dates `…09:00:00 +0100, Fri, …` too, which lost
        # their offset)
        hours = _KNOWN_ZONES.get((unknown["zone"] or "").upper(), 0)
        value = value.replace(tzinfo=dt.timezone(dt.timedelta(hours=hours)))
    return value if isinstance(value, dt.datetime) and value.tzinfo is not None else None


_NUMERIC_ZONE = re.compile(r"(?<![\w-])[+-]\d+|(?<=\d\d:\d\d)[+-]\d+")


def _parts(part: email.message.EmailMessage, top: bool) -> Iterator[email.message.EmailMessage]:
    """The leaves of ``part``'s MIME tree, an attached message (``message/rfc822``: a mail
    forwarded as an attachment) being one leaf: intake never descends into it."""
    if part.get_content_maintype() == "message" and not top:
        yield part
    elif part.is_multipart():
        for sub in part.get_payload():
            assert isinstance(sub, email.message.EmailMessage)
            yield from _parts(sub, top=False)
    else:
        yield part


def _said_once(
    said: list[tuple[email.message.EmailMessage, str]],
) -> list[tuple[email.message.EmailMessage, str]]:
    """``said`` but an HTML part that says what the plain one before it says, or the other
    way round (a web form's mailer that puts the text as plain and as HTML side by side in
    a mixed message, not as alternatives: its words twice in the ticket).  Two plain parts
    alike are the customer's (a caption under each of two images): both kept."""
    kept: list[tuple[email.message.EmailMessage, str]] = []
    for part, shown in said:
        if kept and (
            kept[-1][0].get_content_subtype() != part.get_content_subtype()
            and _as_said(kept[-1][1]) == _as_said(shown)
        ):
            continue
        kept.append((part, shown))
    return kept


def _as_said(text: str) -> str:
    """``text`` but its spacing and the marks Markdown adds to an HTML part's words."""
    return " ".join(re.sub(r"[*_`\\]", "", text).split()).casefold()


def _chosen(part: email.message.EmailMessage) -> email.message.EmailMessage | None:
    """The text part ``get_body`` chooses in ``part``: the plain one, else the HTML (an
    empty plain part: the HTML)."""
    body = part.get_body(preferencelist=("plain", "html"))
    if body is not None and body.get_content_subtype() == "plain" and _blank(body):
        body = part.get_body(preferencelist=("html",)) or body
    assert body is None or isinstance(body, email.message.EmailMessage)
    return body


def _inline_texts(msg: email.message.EmailMessage) -> Iterator[email.message.EmailMessage]:
    """The parts of a multipart/mixed message that are its body, as mail readers show it:
    each inline text part, in order (no attachment, none with a file name), each
    multipart/alternative (or related) in it giving the part :func:`_chosen` chooses, a
    multipart in it (a signed message's, a mixed one) its own.  A mailing list adds its
    footer to an HTML-only mail as a plain part after it, and ``get_body`` took the
    footer for the whole text.  Nothing for a message that is not multipart/mixed."""
    if msg.get_content_type() != "multipart/mixed":
        return
    yield from _inline_texts_of(msg)


def _inline_texts_of(part: email.message.EmailMessage) -> Iterator[email.message.EmailMessage]:
    """:func:`_inline_texts` of one multipart, in the mixed message or the message."""
    for sub in part.iter_parts():
        assert isinstance(sub, email.message.EmailMessage)
        kind = sub.get_content_type()
        if sub.is_attachment():
            continue
        if kind in ("multipart/alternative", "multipart/related"):
            chosen = _chosen(sub)
            if chosen is not None:
                yield chosen
        elif sub.get_content_maintype() == "multipart":
            yield from _inline_texts_of(sub)
        elif kind in ("text/plain", "text/html") and not _is_attachment(sub):
            yield sub


def _shown(part: email.message.EmailMessage) -> str:
    """A text part's text as the body holds it: an HTML part's turned into Markdown."""
    text = _text_of(part)
    if part.get_content_subtype() == "html":  # (the mark as Outlook writes it in text:
        # html2text escapes its leading dash; a forward keeps it, a reply ends there)
        text = html_to_text(_quote_marked(text)).replace("\\" + _ORIGINAL_LINE, _ORIGINAL_LINE)
    return text


def _is_attachment(part: email.message.EmailMessage) -> bool:
    return (
        part.is_attachment()
        or part.get_content_maintype() == "message"  # (an attached message: see _parts)
        or part.get_filename() is not None  # (a named part: `server.log` inline too)
        # (an inline image known by its Content-ID alone, as an HTML mail's screenshot)
        or part.get_content_maintype() not in ("text", "multipart", "message")
        # (text that is no message's text: a meeting invite's text/calendar, a CSV)
        or (part.get_content_maintype() == "text" and part.get_content_subtype()
            not in ("plain", "html"))
    )  # fmt: skip


def _more_text(part: email.message.EmailMessage, body: email.message.MIMEPart) -> Iterator[str]:
    """The plain-text parts of a mixed message after ``body`` (the text after an inline
    image, as Apple Mail sends it), not inside an alternative (the same text again)."""
    if part.get_content_type() == "multipart/alternative" or not part.is_multipart():
        return
    seen_body = False
    for sub in _parts(part, top=True):
        if sub is body:
            seen_body = True
        elif (
            seen_body
            and sub.get_content_type() == "text/plain"
            and not _is_attachment(sub)
            and not _beside(part, sub, body)
        ):
            more = _text_of(sub)
            if more.strip():
                yield more.strip("\n")


def _beside(
    root: email.message.EmailMessage,
    leaf: email.message.EmailMessage,
    body: email.message.MIMEPart,
) -> bool:
    """Whether ``leaf`` is another form of ``body``'s text: both in one multipart/alternative
    of ``root`` (a later alternative, after an inline image, is more text)."""
    for part in root.walk():
        if part.get_content_type() == "multipart/alternative":
            inside = list(part.walk())
            if any(sub is leaf for sub in inside) and any(sub is body for sub in inside):
                return True
    return False


def _attachment(part: email.message.EmailMessage, n: int, limit: int) -> Attachment:
    if part.get_content_maintype() == "message":  # (kept whole, as an .eml file)
        name = safe_name(part.get_filename() or f"message-{n + 1}.eml")
        name = name if name.lower().endswith(".eml") else f"{name}.eml"
        return _sized(name, _message_bytes(part), limit)
    unnamed = f"attachment-{n + 1}{mimetypes.guess_extension(part.get_content_type()) or ''}"
    name = safe_name(part.get_filename() or unnamed)
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    encoding = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if encoding in _LINE_ENCODINGS and part.get_content_maintype() == "text":  # (its line
        # breaks the transport's, CRLF on the wire (another type's CRLF is encoded, `=0D=0A`:
        # the sender's bytes; review helper-473):
        # with LF, as the message's text is, whether it came by IMAP (CRLF) or from a file
        # (LF); base64's and binary's bytes are the sender's own: kept; audit helper-453)
        data = _lf(data)
    return _sized(name, data, limit)


_LINE_ENCODINGS = frozenset({"7bit", "8bit", "quoted-printable", ""})


def _message_bytes(part: email.message.EmailMessage) -> bytes:
    """An attached message's bytes: the message it holds, as email writes it back (one
    sent base64 or quoted-printable encoded, against RFC 2046, decoded)."""
    payload = part.get_payload()
    inners = payload if isinstance(payload, list) else []
    data = b"".join(m.as_bytes(policy=part.policy) for m in inners if isinstance(m, Message))
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        try:
            return binascii.a2b_base64(data)
        except binascii.Error:  # (not base64 after all: kept as it came)
            return data
    if encoding == "quoted-printable":
        return quopri.decodestring(data.lstrip(b"\r\n"))
    return data


def _sized(name: str, data: bytes, limit: int) -> Attachment:
    if len(data) > limit:
        return Attachment(name, b"", too_big=True, size=len(data))
    return Attachment(name, data, size=len(data))


NAME_BYTES = 200  # an attachment's file name at most, in UTF-8 (a file system allows 255,
# less the `-2` of a name taken and a temporary file's `.NAME.PID-RANDOM.tmp`)


def safe_name(name: str) -> str:
    """A file name that stays in its folder: no path, no leading dot, no control characters
    or surrogates, at most NAME_BYTES bytes (the stem cut, the extension kept)."""
    base = re.split(r"[\\/]", _unescaped(name))[-1]  # (raw Latin-1 bytes: as read)
    base = re.sub(r"[\x00-\x1f\x7f\ud800-\udfff]", "", base).strip().lstrip(".")
    if len(base.encode()) > NAME_BYTES:
        stem, dot, ext = base.rpartition(".")
        if not dot or not stem or len(ext.encode()) > 16:
            stem, dot, ext = base, "", ""
        room = NAME_BYTES - len((dot + ext).encode())
        stem = stem.encode()[:room].decode("utf-8", "ignore")  # (never half a character)
        base = stem + dot + ext
    return base or "attachment"


# Where webmail starts the message a reply quotes, in HTML only (no `>` in the text it
# makes): Outlook on the web's `<hr><div id="divRplyFwdMsg">` (its From/Sent/To block),
# Yahoo's `<div class="yahoo_quoted">` ("On Tuesday, … wrote:" and the message, unquoted).
_HTML_QUOTE = re.compile(
    r"(?:<hr\b[^>]*>\s*)?(?=<div\b[^>]*\bid=[\"']?divRplyFwdMsg\b)"
    r"|(?=<div\b[^>]*\bclass=[\"'][^\"']*\byahoo_quoted\b)",
    re.IGNORECASE,
)


_ORIGINAL_LINE = "-----Original Message-----"


def _quote_marked(html: str) -> str:
    """``html`` with an "Original Message" line where webmail starts the message it
    quotes (:data:`_HTML_QUOTE`), which the text a reply keeps ends before
    (:func:`strip_quoted`); a forward keeps all of it.  And Thunderbird's plain-text
    signature, `<pre class="moz-signature">-- …</pre>`, as lines of text: as code its
    `-- ` was indented, and no signature's mark."""
    html = _PRE_SIGNATURE.sub(_signature_as_lines, html, count=1)
    html = _MOBILE_LINKED.sub(_unlinked, html, count=1)
    return _HTML_QUOTE.sub(f"<p>{_ORIGINAL_LINE}</p>", html, count=1)


# Outlook mobile's signature, "Get <a …>Outlook for iOS</a>": as text, the reply parser
# knows it (as a link, `Get [Outlook for iOS](https://…)`, it stayed in the reply)
_MOBILE_LINKED = re.compile(
    r"(<div\b[^>]*\bid=[\"']?ms-outlook-mobile-signature\b[^>]*>)(.*?)(</div\s*>)",
    re.IGNORECASE | re.DOTALL,
)
_ANCHOR = re.compile(r"</?a\b[^>]*>", re.IGNORECASE)


def _unlinked(found: re.Match[str]) -> str:
    return found[1] + _ANCHOR.sub("", found[2]) + found[3]


_PRE_SIGNATURE = re.compile(
    r"<pre\b([^>]*\bclass=[\"']?moz-signature\b[^>]*)>(.*?)</pre\s*>", re.IGNORECASE | re.DOTALL
)


def _signature_as_lines(found: re.Match[str]) -> str:
    return f"<div{found[1]}>" + found[2].replace("\n", "<br>") + "</div>"


def html_to_text(html: str) -> str:
    import html2text  # (only for HTML-only mail)

    class Converter(html2text.HTML2Text):
        """html2text's, with the sender's text escaped where it would start a line of
        Markdown (:data:`_LINE_MARKUP`), and there alone: html2text escaped a `-`, `+` or
        `1.` at the start of every piece of text it was given, after `<b>Note</b>`, an
        `&nbsp;` or a `<span>` too (`**Note** \\- important`, a signature's `\\--` that
        was then no signature), and no `#`, `1)`, `*` or `>` (`<p># 5 is down</p>` became a
        heading; a customer's `&gt; 100 errors` line was cut from a reply as a quote).  A
        mark that is a piece of text of its own (`<span>-</span>`) is markup only if a
        space follows it (Outlook's `1.&nbsp;` is none): it is marked, and escaped or not
        once the whole text is known (:func:`_marks_judged`)."""

        indents: list[bool]  # (for each `<blockquote>` open: whether it is an indent)
        lists = 0  # (how many `<ul>`/`<ol>` are open)

        def handle_tag(self, tag: str, attrs: dict[str, str | None], start: bool) -> None:
            if tag in ("ul", "ol"):  # (one nested deeper than MAX_LIST_DEPTH is its
                # parent's: a mail of 1,000 nested lists, 19 KB, was a ticket of 1 MB,
                # each level's line indented by all the levels above it, made in minutes)
                self.lists = self.lists + 1 if start else max(self.lists - 1, 0)
                if self.lists + (0 if start else 1) > MAX_LIST_DEPTH:
                    return
            if tag == "blockquote":  # (Gmail's and Apple Mail's "indent", a blockquote with
                # no border: text moved right, no quote, which a reply's text lost)
                if start:  # (a quote nested deeper than MAX_LIST_DEPTH quotes is its
                    # parent's, as a list is: 3,000 nested quotes made a 9 MB ticket)
                    deep = sum(not i for i in self.indents) >= MAX_LIST_DEPTH
                    self.indents.append(_is_indent(attrs) or deep)
                    indent = self.indents[-1]
                else:
                    indent = bool(self.indents) and self.indents.pop()
                if indent:
                    tag = "div"
            super().handle_tag(tag, attrs, start)

        def handle_data(self, data: str, entity_char: bool = False) -> None:
            super().handle_data(data, entity_char=True)  # (True: html2text escapes nothing)

        def o(self, data: str, puredata: bool = False, force: bool | str = False) -> None:
            if puredata and not (self.code or self.pre):
                if "\\" in data:  # (a backslash of the sender's, `\\fs01\\*.log`: not an
                    data = _BACKSLASH.sub(r"\\\\", data)  # escape, as html2text kept it)
                if self._at_line_start():
                    if _MARK_ALONE.fullmatch(data):
                        data = _MARK + data.lstrip()
                    elif _UNDERLINE.fullmatch(data) and self._under_text():
                        data = "\\" + data.lstrip()  # (under a line of text: a heading's)
                    else:
                        data = _LINE_MARKUP.sub(_markup_escaped, data, count=1)
            super().o(data, puredata, force)

        def _at_line_start(self) -> bool:
            """Whether a text put out now starts a line of Markdown, or a list item's or a
            quote's: a paragraph or line break pending or just put out, a bullet or a
            quote's `>` after it; not a text after `<b>12345</b>`, whose `# 2 of 3` reads
            as text as it is."""
            if self.start or self.p_p or self.lastWasNL:
                return True
            return _LINE_PREFIX.fullmatch(self._line_so_far()) is not None

        def _line_so_far(self) -> str:
            tail = ""  # (an `&nbsp;` or two before a text are no text)
            for n, piece in enumerate(reversed(self.outtextlist)):
                if "\n" in piece or n == _PIECES_BACK:
                    tail = piece.rpartition("\n")[2] + tail
                    break
                tail = piece + tail
            return tail.replace(_NBSP_HELD, " ")

        def _under_text(self) -> bool:
            """Whether the line put out before this one holds text (a `<br>` ended it)."""
            if self.p_p or self.start or not self.lastWasNL:
                return False
            out = "".join(self.outtextlist[-_PIECES_BACK:]).rstrip(" \t")
            return bool(out.endswith("\n") and out[:-1].rpartition("\n")[2].strip())

    converter = Converter()
    converter.indents = []
    converter.body_width = 0
    converter.ignore_images = True
    converter.unicode_snob = True  # (`&eacute;` is é, `&ndash;` –: never their ASCII stand-ins)
    text = _marks_judged(converter.handle(_BARE_AMPERSAND.sub(_ampersand_kept, html)))
    text = _SPACES_ONLY.sub("", text)  # (a `<br>` on an empty line: an empty line)
    text = _LAST_BREAK.sub(_break_dropped, text)  # (`thanks.<br></p>`: `thanks.  ` made
    # the reply's text unlike the parser's, and the signature and quote below it stayed)
    text = _SIGNATURE_MARK.sub("-- ", text)  # (`-- <br>`: its line as mail writes it,
    text = _BREAK_BEFORE_SIGNATURE.sub("\n", text)  # and the line above it without a `<br>`)
    text = _BLANKS.sub("\n\n", text)  # (as Markdown reads them: the quote below a quote's
    # "On … wrote:" line two blank lines down was not taken for its header)
    text = _quotes_given_back(text).strip("\n").rstrip()
    if text.startswith("    ") or _LIST_FIRST.match(text):  # (code first: indented; a list
        return text  # first: its items all alike)
    return text.lstrip()


MAX_LIST_DEPTH = 10  # lists (and quotes) nested deeper in an HTML mail: read at this depth

_MARK = "\x00"  # (before a mark alone in its piece of text; a NUL of the mail's own goes
# here, as :func:`parse` drops every NUL of a text)
_MARKED = re.compile(r"\x00((?:#{1,6}|[-+*]|\d{1,9}[.)])(?=[ \t]|$))?", re.MULTILINE)
_SPACES_ONLY = re.compile(r"^[ \t\xa0]+$", re.MULTILINE)  # (Outlook's `<o:p>&nbsp;</o:p>`)


def _is_indent(attrs: Mapping[str, str | None]) -> bool:
    """Whether a `<blockquote>` is an indent (`style="margin:0 0 0 40px;border:none"`), not
    a quote (`type="cite"`, `class="gmail_quote"`, or any with a border)."""
    style = (attrs.get("style") or "").replace(" ", "").lower()
    quoted = attrs.get("type") == "cite" or "quote" in (attrs.get("class") or "").lower()
    return "border:none" in style and not quoted


def _marks_judged(text: str) -> str:
    """``text`` with each mark that stood alone in its piece of text (:data:`_MARK`)
    escaped if a space or the line's end follows it (`<span>-</span> dash`: a list's),
    else as written (`<span>-</span>20% discount`, Outlook's `1.&nbsp;&nbsp;Restart`)."""
    if _MARK not in text:
        return text
    return _MARKED.sub(lambda m: _escaped_mark(m[1]) if m[1] else "", text)


def _escaped_mark(mark: str) -> str:
    return f"{mark[:-1]}\\{mark[-1]}" if mark[0].isdigit() else f"\\{mark}"


# A `<br>`'s two spaces at a paragraph's end (not in code, indented four spaces)
_LAST_BREAK = re.compile(r"^(?! {4})([^\n]*?)[ ]+(?=\n[ \t]*\n)", re.MULTILINE)
_SIGNATURE_MARK = re.compile(r"^--[ \t\xa0]*$", re.MULTILINE)
_BREAK_BEFORE_SIGNATURE = re.compile(r"(?<=\S)[ ]+\n(?=-- \n)")
_LIST_FIRST = re.compile(r"[ ]{1,3}(?:[*+-]|\d{1,9}\.)[ ]")
_BLANKS = re.compile(r"\n(?:[ \t]*\n){2,}")


def _break_dropped(found: re.Match[str]) -> str:
    return found[1]


def _quotes_given_back(text: str) -> str:
    """``text`` with the blocks of escaped `>` lines of a quote given back: from the first
    block right below a quote's attribution ("On … wrote:") on, every such block (a mail
    that quotes as plain text does, with `&gt;` in its HTML, answering between quotes); a
    `&gt; 100 errors` line of the sender's own, under a line of theirs, stays their text."""
    if "\\>" not in text:
        return text
    lines = text.split("\n")
    above = ""  # (the last line with text before this one)
    quoting = False
    for n, line in enumerate(lines):
        if line.startswith("\\>"):
            quoting = quoting or bool(_WROTE.fullmatch(above.strip()))
            if quoting:
                lines[n] = line[1:]
        if line.strip() and not line.startswith("\\>"):
            above = line
    return "\n".join(lines)




# What, at the start of a line, Markdown reads as markup where a sender meant text: a
# heading's `#`s, a bullet (`-`, `+`, `*`), an ordered item's `1.` or `1)` (each followed by
# a space), a quote's `>`, a fence (```` ``` ````, `~~~`) or a break (`***`, `---`, `___`).
# Not the `-- ` a signature starts with; a heading's underline (`===`, `--`) only under a
# line of text (:data:`_UNDERLINE`).
_LINE_MARKUP = re.compile(
    r"^(\s*)(?:(#{1,6}|[-+*])(?=\s)|(\d{1,9})([.)])(?=\s)|(>|```|~~~)"
    r"|(?=(?:([-*_])[ \t]*)(?:\6[ \t]*){2,}$)(.))"
)
_MARK_ALONE = re.compile(r"\s*(?:#{1,6}|[-+*]|\d{1,9}[.)])")  # (a piece of text of its own)
_UNDERLINE = re.compile(r"\s*=+[ \t]*")  # (`--` under a line is a signature's mark first)
# What may stand before a text at a line's start: indentation, a quote's `>`s, a bullet
_LINE_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)*[ \t]*(?:(?:[*+-]|\d{1,9}\.)[ ])?[ \t]*")
_BACKSLASH = re.compile(r"\\(?=[\\`*_{}\[\]()#+\-.!<>\"$%&',/:;=?@^|~])")  # (kept one)
_NBSP_HELD = "&nbsp_place_holder;"  # (html2text's stand-in for `&nbsp;` until its end)
_PIECES_BACK = 64  # (pieces of output looked back through for the line's start)


def _markup_escaped(found: re.Match[str]) -> str:
    space, mark, number, dot, opening, _, first = found.groups()
    if number is not None:
        return f"{space}{number}\\{dot}"
    return f"{space}\\{mark or opening or first}"


# `&name` with no `;`: a character reference only for the few names HTML reads so (`&copy`,
# `&amp`, HTML5's legacy ones, the longest that starts it); html2text took any name
# (`?with=query&and=more` became `∧=more`), where a browser shows `&and=more`
_BARE_AMPERSAND = re.compile(r"&([A-Za-z][A-Za-z0-9]*)(?![A-Za-z0-9;])")


def _ampersand_kept(found: re.Match[str]) -> str:
    from html.entities import html5

    name = found.group(1)
    if any(name[:end] in html5 for end in range(len(name), 1, -1)):
        return found.group(0)  # (a legacy reference: as a browser reads it)
    return "&amp;" + name


def strip_quoted(text: str, known: str = "") -> str:
    """The new text of a reply: quoted earlier messages and the signature removed.  A text
    that quotes nothing (no ``>`` line, no header block of a quoted message, no
    "Original Message" line) is kept whole: the parser took "Best regards," for where a
    signature starts (a P.S. after it was lost) and "On Friday your engineer wrote:" for a
    quote's header (the rest of the message was lost).  So is one whose ``>`` lines quote
    no earlier message (:func:`_hide_pasted`; ``known``: the text of the ticket it answers)."""
    hidden = _hide_pasted(text, known)
    if hidden is not text:  # (the sender's pasted `>` lines: theirs, kept as written)
        return strip_quoted(hidden, known).replace(_HIDDEN, ">")
    shown = _hide_pasted_headers(text)
    if shown is not text:  # (a mail's From/To/Subject the sender pasted: theirs too)
        return strip_quoted(shown, known).replace(_HIDDEN_HEAD, "")
    if not _quotes(text):
        quoted = _indented_quote(text)  # (Yahoo's: the quote below it indented, no `>`)
        return trimmed(text[:quoted] if quoted is not None else text)
    answered = _answers_between_quotes(text, known)
    if answered is not None:  # (the parser keeps what comes before the first quote only)
        return answered
    from mailparser_reply import EmailReplyParser  # (only for replies)

    parsed = EmailReplyParser(languages=REPLY_LANGUAGES).read(text)
    replies = parsed.replies
    whole = trimmed(text)
    kept = (replies[0].body or replies[0].content or "").strip() if replies else ""
    kept = _as_written(kept, whole)  # (the parser strips each line: a traceback's indent;
    # the text's first line is stripped with its ends, as every reply's is)
    if replies and kept and replies[0].body:  # (a P.S. below the sign-off is the sender's)
        signature = replies[0].signatures or ""
        if _is_text(signature):  # (the sender's own lines, a P.S. among them: as written)
            kept = _through(kept, signature, whole)
        else:
            kept = _with_postscript(kept, signature)
    kept = _without_attribution(_without_trailing_quote(_whole_lines(kept, whole) or whole), whole)
    kept = _before_header_block(kept)  # (a language the parser does not read: its block)
    kept = _before_original(kept)  # (its "-----Ursprüngliche Nachricht-----" line)
    kept = _MOBILE_SIGNATURE.sub("", kept).rstrip() or kept  # (the parser's English alone)
    if all(line.lstrip().startswith(">") for line in kept.splitlines()):
        return whole  # (nothing but a quote, with its header line or not: all of it, as written)
    return kept


def _as_written(kept: str, whole: str) -> str:
    """``kept``, the reply parser's new text (each line stripped of its spaces), with its
    lines as the sender wrote them in ``whole``, where it starts: the indentation of code,
    a traceback or a config pasted above the quote kept; ``kept`` as it is when its lines
    are not ``whole``'s first ones (blank lines aside)."""
    lines = whole.splitlines()
    written: list[str] = []
    n = 0
    for line in kept.splitlines():
        while n < len(lines) and lines[n].strip() != line.strip():
            if lines[n].strip():
                return kept
            n += 1  # (a blank line the parser left out)
        if n == len(lines):
            return kept
        written.append(lines[n].rstrip() if line.strip() else "")
        n += 1
    return "\n".join(written)


# A postscript's first line: "PS:", "P.S.", "PPS", "P.S:" (after the sign-off the reply
# parser cuts as a signature)
_POSTSCRIPT = re.compile(r"^[ \t]*P\.?P?\.?[ \t]?S\b\.?:?", re.IGNORECASE | re.MULTILINE)


def _is_text(signature: str) -> bool:
    """Whether what the reply parser cut as a signature is the sender's text: a list ("-
    cleared the cache" / "- another card", read as a "--" line) or a long line that
    begins as a sign-off does ("Best regards from the whole team, we really need this
    fixed today"). A signature starts with "--" alone, or a short sign-off ("Best regards,",
    "- Jane", "Sent from my iPhone")."""
    lines = [line.strip() for line in signature.splitlines() if line.strip()]
    if not lines or lines[0] in ("--", "-- ", "—"):
        return False
    if _LIST_ITEM.match(lines[0]):
        return sum(bool(_LIST_ITEM.match(line)) for line in lines) >= 2
    return len(lines[0]) > _SIGN_OFF_CHARS


def _through(kept: str, signature: str, whole: str) -> str:
    """``kept`` and the ``signature`` after it, as ``whole`` has them (its blank lines and
    indentation), or joined if they cannot be found there."""
    lines = [line.strip() for line in signature.splitlines() if line.strip()]
    first = kept.splitlines()[0].strip() if kept.strip() else ""
    start = whole.find(first) if first else -1
    at = start + len(kept.splitlines()[0].strip()) if start >= 0 else -1
    for line in ([] if at < 0 else [*kept.splitlines()[1:], *lines]):
        if line.strip():
            at = whole.find(line.strip(), at)
            if at < 0:
                break
            at += len(line.strip())
    if start < 0 or at < 0:
        return f"{kept}\n{signature.strip()}"
    return trimmed(whole[whole.rfind("\n", 0, start) + 1 : at])


_SIGN_OFF_CHARS = 40  # (a sign-off line is short: "Mit freundlichen Grüßen," is 24)


def _with_postscript(kept: str, signature: str) -> str:
    """``kept`` and the postscript the sender wrote below the signature, if any: "Kind
    regards, / Jane / PS: the serial is 12345" lost the serial with the signature."""
    found = _POSTSCRIPT.search(signature)
    if found is None:
        return kept
    return f"{kept}\n\n{signature[found.start():].strip()}"


def _answers_between_quotes(text: str, known: str = "") -> str | None:
    """The customer's own lines of a reply that answers between the lines it quotes
    ("> Did you restart it?" / "Yes, twice." / "> Which model?" / "HP 4000."), or below
    them (a bottom-posted reply, as Thunderbird and mutt write one): every line but the
    ``>`` ones and the line heading the quote; None for a reply whose own text all comes
    before its quote (the usual top-posted reply, left to the parser)."""
    lines = text.strip().splitlines()
    quoted = [line.lstrip().startswith(">") for line in lines]
    if True not in quoted:
        return None
    # (a line right after a quoted one, with no blank line between, is the quote's own,
    # wrapped by a client that left out its `>`, when the quoted line stops mid-sentence:
    # "> Could you tell us whether" / "that helped?"; after "> Did you restart it?" it is
    # the answer)
    seen = " ".join(known.split())
    for n in range(1, len(lines)):
        if not quoted[n] and quoted[n - 1] and lines[n].strip() and _runs_on(lines[n - 1]):
            # (when the ticket's text is known, only if the two lines run on in it: after
            # "> Please send your order number", "A-123456" is the answer, which went)
            joined = " ".join(f"{lines[n - 1].lstrip().lstrip('>')} {lines[n]}".split())
            quoted[n] = not seen or joined in seen
    first = quoted.index(True)
    last = len(quoted) - 1 - quoted[::-1].index(True)
    between = zip(lines[first:last], quoted[first:last], strict=True)
    if not any(line.strip() and not q for line, q in between):
        # (nothing of its own between its quoted lines: bottom-posted if all its own text
        # is below them; a top-posted reply's footer below the quote (a disclaimer, a
        # list's) is the parser's to cut)
        heading = _ATTRIBUTION.fullmatch
        above = [ln for ln in lines[:first] if ln.strip() and not heading(ln.strip())]
        if above or not any(line.strip() for line in lines[last + 1 :]):
            return None
    own = [
        line
        for i, (line, q) in enumerate(zip(lines, quoted, strict=True))
        if not q and not (
            _ATTRIBUTION.fullmatch(line.strip()) and i + 1 < len(lines) and _heads_quote(i, quoted)
        )
    ]  # fmt: skip
    return _before_signature(re.sub(r"\n{3,}", "\n\n", "\n".join(own)).strip())


def _before_signature(text: str) -> str:
    """``text`` without the signature its sender's client marked with the standard line
    ``-- `` (RFC 3676), when their own text comes before it: a bottom-posted reply kept
    `Kai Example / Example GmbH` under its answer, where a top-posted one lost it."""
    lines = text.split("\n")
    for n in range(len(lines) - 1, 0, -1):
        if lines[n] == "-- " and "\n".join(lines[:n]).strip():  # (a P.S. below it stays)
            return _with_postscript("\n".join(lines[:n]).rstrip(), "\n".join(lines[n + 1 :]))
    return text


def _runs_on(quoted_line: str) -> bool:
    """Whether a quoted line stops mid-sentence (the line after it may be its rest, wrapped
    by a client that left out the ``>``), not at a sentence's end or a colon."""
    words = quoted_line.strip().lstrip(">").strip()
    if _LIST_ITEM.match(words):  # ("> - your browser version" / "Firefox 133": an item
        return False  # asked for, and the answer under it, not its wrapped rest)
    return bool(words) and words[-1] not in ".?!:;)\"'…。？！"


_LIST_ITEM = re.compile(r"(?:[-*•·]|\d{1,2}[.)])\s")


def _heads_quote(index: int, quoted: list[bool]) -> bool:
    """Whether the line at ``index`` is followed (past blank lines) by a quoted line."""
    return next((q for q in quoted[index + 1 : index + 3] if q), False)


def _whole_lines(kept: str, whole: str) -> str:
    """``kept`` (the parser's new text) up to the line the parser cut it in: a quote's
    header line it read part of (``Le jeu. 10 déc. 2026 à 16:50, <a@b> a écrit :`` gave
    "Le") is the quote's."""
    if not whole.startswith(kept) or len(kept) >= len(whole) or whole[len(kept)] in "\r\n":
        return kept
    return trimmed(whole[: whole.rfind("\n", 0, len(kept)) + 1])


# The line a mail client writes above a quote: it names an address, that someone wrote, or
# a date and a time, and ends in a colon ("On Thu, Dec 10, 2026 at 4:50 PM <help@…> wrote:",
# "El jue, … escribió:", "Help Desk wrote:", "2026年12月10日(木) 16:50 Help Desk:"); taken
# for one only right above a quoted line.  (A time without a date is not enough: "Since
# the update at 09:30 the dashboard shows:" is the sender's.)
_WROTE_WORDS = (
    r"wrote|writes|schrieb|a[ \t]+écrit|escribió|escreveu|ha[ \t]+scritto|scrisse|schreef"
    r"|skrev|napisała?|pisze|написала?|пишет"
)
_WROTE_CJK = "写道|寫道"  # (no word boundary around them: written apart)
_DATED = (  # (a time, and a date: a year, or day.month.year)
    r"(?=[^\n]*\d{1,2}[:.h]\d{2})"
    r"(?=[^\n]*(?:(?<!\d)(?:19|20)\d{2}(?!\d)|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}))"
)
_ATTRIBUTION = re.compile(
    rf"(?:{_DATED}|(?=[^\n]*(?:@|\b(?:{_WROTE_WORDS})\b|{_WROTE_CJK})))[^\n]*[:：][ \t]*",
    re.IGNORECASE,
)
# Of those, one that says someone wrote: what a plain-text quote's `&gt;` lines in HTML
# are given back under (:func:`_quotes_given_back`)
_WROTE = re.compile(
    rf"[^\n]*(?:\b(?:{_WROTE_WORDS})\b|{_WROTE_CJK})[^\n]*[:：][ \t]*", re.IGNORECASE
)


def _without_attribution(kept: str, whole: str) -> str:
    """``kept`` without its last line if that line heads the quote that follows it in
    ``whole`` (a language the parser does not read left it: "El … escribió:")."""
    lines = kept.rstrip().splitlines()
    if not lines or not _ATTRIBUTION.fullmatch(lines[-1].strip()):
        return kept
    at = whole.find(lines[-1])
    after = whole[at + len(lines[-1]) :].lstrip() if at >= 0 else ""
    if not after.startswith(">"):
        return kept
    return trimmed("\n".join(lines[:-1]))


# A quoted message's header lines, as mail clients write them above a quote (Outlook's
# From/Sent/To/Subject block, in the languages REPLY_LANGUAGES reads), and the lines that
# open one ("-----Original Message-----").
_QUOTE_HEADER = re.compile(
    r"^[ \t*_]*(?:from|sent|date|to|cc|subject|von|gesendet|datum|an|betreff|de|envoy[ée]|"
    r"[àa]|objet|enviado(?: el)?|fecha|para|asunto|fr[åa]n|skickat|till|[äa]mne|da|inviato|"
    r"oggetto|van|"
    r"verzonden|aan|onderwerp|"
    r"fra|sendt|dato|til|emne|"  # Danish
    r"od|wys[łl]ane|do|temat|data|"  # Polish
    r"odesl[áa]no|komu|p[řr]edm[ěe]t|kopie|"  # Czech
    r"发件人|发送时间|日期|收件人|主题|抄送|"  # Chinese
    r"寄件者|寄件日期|收件者|副本|主旨|"  # Chinese (Taiwan, Hong Kong)
    r"差出人|送信日時|日付|宛先|件名|"  # Japanese
    r"보낸 사람|받는 사람|보낸 날짜|날짜|제목|"  # Korean
    r"от|отправлено|кому|тема|дата|копия"  # Russian (no language of the parser's)
    r")[ \t*_]*[:：]",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTE_DATE = re.compile(  # (of those, the quoted message's time)
    r"^[ \t*_]*(?:sent|date|gesendet|datum|envoy[ée]|enviado(?: el)?|fecha|skickat|inviato|"
    r"verzonden|sendt|dato|wys[łl]ane|data|odesl[áa]no|发送时间|日期|寄件日期|送信日時|日付|"
    r"보낸 날짜|날짜|"
    r"отправлено|дата)[ \t*_]*[:：]",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^[ \t]*\\?-{2,}[ \t]*(?:original message|urspr[üu]ngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande)",
    re.IGNORECASE | re.MULTILINE,
)


# A phone's signature in the languages of REPLY_LANGUAGES (the reply parser knows English's
# "Sent from my iPhone" alone): the last line of a reply's own words.
_MOBILE_SIGNATURE = re.compile(
    r"\n[ \t]*(?:von meinem \S+(?: \S+){0,3} gesendet|gesendet von meinem \S+(?: \S+){0,3}|"
    r"envoy[ée] de mon \S+(?: \S+){0,3}|enviado desde mi \S+(?: \S+){0,3}|"
    r"inviato da(?: mio)? \S+(?: \S+){0,3}|"
    r"(?:verzonden|verstuurd) (?:met|vanaf|van) mijn \S+(?: \S+){0,3})[ \t]*\Z",
    re.IGNORECASE,
)


def _before_original(text: str) -> str:
    """``text`` up to an "Original Message" line it still holds (in a language of
    :data:`_ORIGINAL`: Outlook's German, French and Spanish ones were kept), or all of it
    if nothing of the sender's own comes before."""
    found = _ORIGINAL.search(text)
    kept = trimmed(text[: found.start()]) if found else ""
    return kept or text


def _before_header_block(text: str) -> str:
    """``text`` up to a quoted message's header block it still holds (three header lines in
    a row, blank lines between allowed: From/Sent/To in a language the parser does not
    read, as Japanese or Russian Outlook writes them), or all of it."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if not _QUOTE_HEADER.match(line):
            continue
        run = [ln for ln in lines[start : start + 6] if ln.strip()][:4]
        if _header_block(run) and start > 0:
            kept = trimmed("\n".join(lines[:start]))
            if kept:
                return kept
    return text


def _header_block(lines: Sequence[str]) -> bool:
    """Whether ``lines`` open a quoted message's header block: three header lines, one
    naming an address (`From: Help <help@…>`) and one its time (`Sent:`, `Date:`: every
    client writes it there), not any three "Key: value" lines a customer wrote (`Od:
    Berlin` / `Do: Paris` / `Data: 3 grudnia`), nor the From, To and Subject of a mail of
    their system's they pasted to show it (what followed it was cut as the quote)."""
    headers = [line for line in lines if _QUOTE_HEADER.match(line)]
    return (
        len(headers) >= 3
        and any("@" in line for line in headers)
        and any(_QUOTE_DATE.match(line) for line in headers)
    )


def _indented_quote(text: str) -> int | None:
    """Where an indented quote of an earlier message starts in ``text``, as Yahoo quotes: an
    attribution line with a year, a time and the sender's address ("On Saturday, December
    5, 2026, 10:00:00 AM GMT+1, Support <help@x.example> wrote:", itself indented or not),
    after text of the sender's own, and below it nothing but indented lines to the end
    (a customer's own "On Friday your engineer wrote:" is no such line, and a mail pasted
    with the customer's words after it is not cut); None if there is none."""
    lines = text.splitlines(keepends=True)
    start = 0
    for n, line in enumerate(lines):
        if _ATTRIBUTION_END.search(line) and _dated_attribution(line.strip()):
            below = [rest for rest in lines[n + 1 :] if rest.strip()]
            if text[:start].strip() and below and all(r[:1] in (" ", "\t") for r in below):
                return start
        start += len(line)
    return None


def _dated_attribution(line: str) -> bool:
    """Whether ``line`` reads as a mail client's attribution: "On …", a year, a time and
    an address in angle brackets before its ending "wrote:" (each found by a search of
    its own: one line a sender writes costs a few scans, whatever it holds)."""
    return (
        line.startswith("On ")
        and _YEAR.search(line) is not None
        and _TIME.search(line) is not None
        and _ADDRESS_BEFORE_WROTE.search(line) is not None
    )


_ATTRIBUTION_END = re.compile(r" wrote:[ \t]*\r?\n?$")
_YEAR = re.compile(r"\b\d{4}\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_ADDRESS_BEFORE_WROTE = re.compile(r"<[^<>@\s]+@[^<>\s]+> wrote:[ \t]*$")


def _quotes(text: str) -> bool:
    """Whether ``text`` holds a quote of an earlier message: a line starting with ``>``, an
    "Original Message" line, or a header block of a quoted message (From, Sent, To…)."""
    if re.search(r"^[ \t]*>", text, re.MULTILINE) or _ORIGINAL.search(text):
        return True
    lines = text.splitlines()
    return any(
        _header_block([ln for ln in lines[n : n + 6] if ln.strip()][:4])
        for n, line in enumerate(lines)
        if _QUOTE_HEADER.match(line)
    )


def _hide_pasted(text: str, known: str) -> str:
    """``text`` with the ``>`` of each block of lines the sender pasted (their own output,
    not a quote) written as :data:`_HIDDEN`, so that what strips quotes takes them for the
    sender's text; ``text`` itself if none is.  A block is pasted when it follows a line of
    the sender's that introduces it ("The error I get is:") or is a Python prompt's
    (`>>> `), has no "On … wrote:" line above or atop it, and none of its lines is text of
    the ticket it answers (``known``: such a block repeats what the ticket holds).  Each
    block is judged alone: a quote elsewhere in the reply is stripped as ever.  (A
    trailing `> old text` under a reply is a quote.)  A block indented as code is always
    the sender's."""
    if _HIDDEN in text or ">" not in text:
        return text
    lines = text.split("\n")
    marked = [line.lstrip().startswith(">") for line in lines]
    seen = " ".join(known.split())
    hidden = False
    n = 0
    while n < len(lines):
        if not marked[n]:
            n += 1
            continue
        end = next((i for i in range(n, len(lines)) if not marked[i]), len(lines))
        block = lines[n:end]
        above = next((ln.strip() for ln in reversed(lines[:n]) if ln.strip()), "")
        said = [" ".join(line.lstrip().lstrip(">").split()) for line in block]
        attributed = bool(_ATTRIBUTION.fullmatch(above) or _ATTRIBUTION.fullmatch(said[0]))
        repeated = any(len(line) >= 12 and line in seen for line in said)
        introduced = above.endswith((":", "：")) and not above.lstrip().startswith(">")
        prompt = all(line.lstrip().startswith(">>> ") or line.strip() == ">>>" for line in block)
        code = all(line.startswith(("    ", "\t")) for line in block)  # (indented: code, an
        # R or PowerShell session's `> ` prompts in a `<pre>`, never a quote)
        if code or (not attributed and not repeated and (introduced or prompt)):
            for i in range(n, end):
                lines[i] = lines[i].replace(">", _HIDDEN, 1)
            hidden = True
        n = end
    return "\n".join(lines) if hidden else text


_HIDDEN_HEAD = "\ufdd1"  # (a noncharacter) before each line of a header block the sender
# pasted (no time line: :func:`_header_block`), while quotes go: the reply parser cut there


def _hide_pasted_headers(text: str) -> str:
    """``text`` with :data:`_HIDDEN_HEAD` before each line of each block of three or more
    header lines, one naming an address, with no time line: a mail's From/To/Subject the
    sender pasted to show it (a quote's block has its `Sent:`); ``text`` itself if none."""
    if _HIDDEN_HEAD in text or "@" not in text:
        return text
    lines = text.split("\n")
    n, hidden = 0, False
    while n < len(lines):
        end = n
        while end < len(lines) and _QUOTE_HEADER.match(lines[end]):
            end += 1
        run = lines[n:end]
        if (
            len(run) >= 3
            and any("@" in line for line in run)
            and not any(_QUOTE_DATE.match(line) for line in run)
        ):
            lines[n:end] = [_HIDDEN_HEAD + line for line in run]
            hidden = True
        n = max(end, n + 1)
    return "\n".join(lines) if hidden else text


_HIDDEN = "\ufdd0"  # (a noncharacter: no text holds it) a pasted line's `>`, while quotes go


def _without_trailing_quote(text: str) -> str:
    """``text`` without the block of ``>`` lines (blank lines among them) it ends with: a
    quote with no "On … wrote:" line above it; all of ``text`` when it is all quoted."""
    lines = text.splitlines()
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    kept = trimmed("\n".join(lines[:end]))
    return kept or text


# ---------------------------------------------------------------- sources


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether a Maildir entry is a folder (no message: never "left" on every run)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def read_maildir(folder: Path) -> Iterator[Incoming]:
    """The messages of a Maildir not yet marked seen: those in new/, and those in cur/
    without the S flag, in delivery order.  (A Maildir whose delivery agent made new/ only
    gets its cur/ and tmp/, where the messages taken are moved.)"""
    for sub in ("cur", "tmp"):
        (folder / sub).mkdir(exist_ok=True)
    found: dict[str, Path] = {}
    for sub in ("new", "cur"):  # (each folder listed once: cur/ keeps every message taken)
        with os.scandir(folder / sub) as listing:  # (each entry's kind without a stat)
            names = sorted(e.name for e in listing if not _is_folder(e))
        for name in names:
            if not name.startswith("."):  # (a dot-file, as a folder, is no message, as in
                found.setdefault(name.split(":", 1)[0], folder / sub / name)  # any reader)
    entries: list[tuple[str, Path]] = []
    for key, path in found.items():
        if {"S", "T"} & set(_flags(path)):  # (seen, or trashed by a person: `T`)
            continue
        entries.append((key, path))
    entries.sort(key=lambda item: delivery_order(item[0]))
    for _key, path in entries:
        where = f"{folder}/{path.parent.name}/{path.name}"
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # (taken by another reader meanwhile)
            continue
        except OSError as exc:  # (a folder, a file esc may not read: said, left where it
            # is for a person, and the rest of the batch goes on)
            problem = f"cannot be read ({exc.strerror or exc}); left where it is"
            yield Incoming(where, b"", problem=problem)
            continue
        yield Incoming(where, data, path)


def delivery_order(key: str) -> tuple[int, int, int, str]:
    """A sort key putting Maildir names in delivery order: by the seconds they start with,
    then the microseconds of their ``M<usec>`` part (not zero-padded: ``M99999`` comes
    before ``M100000``), then the name; names of another form after those, by name."""
    found = _MAILDIR_NAME.match(key)
    if found is None:
        return (1, 0, 0, key)
    usec = re.search(r"M([0-9]+)", found.group(2))
    return (0, int(found.group(1)), int(usec.group(1)) if usec else 0, key)


def _flags(path: Path) -> str:
    name = path.name
    return name.split(":2,", 1)[1] if path.parent.name == "cur" and ":2," in name else ""


def mark_seen(path: Path) -> None:
    """Move a Maildir message to cur/ with the S (seen) flag, as a mail reader does."""
    base, _, info = path.name.partition(":2,")  # (its flags kept, in new/ too: F, R...)
    base = base.split(":", 1)[0]
    flags = "".join(sorted(set(info if ":2," in path.name else "") | {"S"}))
    target = path.parent.parent / "cur" / f"{base}:2,{flags}"
    if target != path:
        os.rename(path, target)


def mbox_problem(path: Path) -> str | None:
    """Why ``path`` is no mbox file, if it is not: one with text must start with a
    ``From `` line (an empty file is an empty mbox).  Python's reader would take such a
    file for a mailbox with no message, and the messages in it would go unread."""
    with open(path, "rb") as file:
        head = file.read(4096).lstrip(b"\r\n")
    if head and not head.startswith(b"From "):
        return 'not an mbox file: it does not start with a "From " line'
    return None


# Why an mbox's last message that ends without a line break is left for the next run
STILL_WRITTEN = "it is cut short: still being written"


def _cut(data: bytes) -> bool:
    """Whether an mbox's last message is plainly cut short: it ends without a line break,
    or its headers have no blank line after them and no Message-ID yet (cut at a line's
    end before it: taken under its content's hash, it was a second ticket when read
    whole; a message of headers alone that has one is taken, and one cut there has its
    id, never taken twice).  One cut at a line's end within its body cannot be told from a
    whole one (Python's mailbox ends its last message so): taken as it is."""
    if not data.endswith(b"\n"):
        return True
    headers_only = b"\n\n" not in data and b"\n\r\n" not in data
    return headers_only and re.search(rb"(?im)^message-id:", data) is None


def read_mbox(path: Path) -> Iterator[Incoming]:
    """The messages of an mbox file, in order.  Its last message, when it ends without a
    line break (as no message an mbox holds does, when it is whole: the delivery agent is
    still writing it), is :attr:`Incoming.left` for the next run, unread: taken, it was a
    ticket cut short, or, cut before its Message-ID, a second ticket when read whole."""
    box = mailbox.mbox(path, create=False)
    try:
        keys = list(box.iterkeys())
        for n, key in enumerate(keys):
            data = box.get_bytes(key)  # (the last one: up to the end of the file as read)
            if n == len(keys) - 1 and _cut(data):
                yield Incoming(f"{path}#{n + 1}", data, left=STILL_WRITTEN)
                continue
            yield Incoming(f"{path}#{n + 1}", _unescaped_from(data))
    finally:
        box.close()


_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


def _unescaped_from(data: bytes) -> bytes:
    """A message as it was before it went into the mbox: each body line a delivery agent
    wrote as ``>From …`` (so that it would not start a new message) given back its
    ``From …`` (mboxrd: one ``>`` less; Python's reader leaves them)."""
    ends = [i for i in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if i >= 0]
    if not ends:
        return data
    end = min(ends)
    return data[:end] + _ESCAPED_FROM.sub(rb"\1", data[end:])


class Quarantined:
    """The messages quarantined before (their content's hash, one a line, in a file of
    esc's cache), so an mbox, read whole on every run, reports each bad message once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.known = set(path.read_text(encoding="ascii").split())
        except (OSError, ValueError):
            self.known = set()

    @staticmethod
    def key(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def __contains__(self, data: bytes) -> bool:
        return self.key(data) in self.known

    def add(self, data: bytes) -> None:
        key = self.key(data)
        if key in self.known:
            return
        self.known.add(key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic.atomic_write(self.path, "".join(f"{k}\n" for k in sorted(self.known)))


def quarantine(folder: Path, item: Incoming) -> Path:
    """Keep a message intake could not use in ``folder``, named by its content's hash
    (so a rerun does not keep it twice); a Maildir file is moved there."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(item.data).hexdigest()[:20]}.eml"
    if not target.exists():
        atomic.atomic_write(target, item.data)
    if item.path is not None:
        item.path.unlink(missing_ok=True)
    return target
