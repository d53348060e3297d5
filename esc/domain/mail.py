"""What an incoming message means for the helpdesk, as pure functions (no I/O).

The store parses a message (:mod:`esc.store.mail`) into a :class:`Mail`; here it is judged
(automatic? allowed sender?), threaded onto a ticket or turned into an
:class:`~esc.domain.lifecycle.Intake` for a new one, with the front-matter fields that
record where it came from.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import field

from esc.domain.errors import BadInput
from esc.domain.lifecycle import Intake
from esc.domain.model import shows_nothing, without_bidi_controls
from esc.domain.records import immutable

# Front-matter keys intake writes (kept in Ticket.extra; conditions may read `to`).
MESSAGE_IDS = "message_ids"  # the Message-IDs of every message recorded on the ticket
RECIPIENTS = "to"  # the addresses the first message was sent to (routing: `to: …`)
EXTERNAL_ID = "external_id"  # JSON intake: the id the form, chat or portal gave it
FOLLOWS = "follows"  # a ticket opened by a reply to a closed one: that ticket's ID
ATTACHMENTS = "attachments"  # saved attachments, as paths relative to the workspace
# a ticket a reply opened, whose original no ticket held then (a reply delivered first):
# the Message-IDs it answers, so that the original, when it comes, joins the ticket
REPLIES_TO = "replies_to"
REPLIES_TO_KEPT = 10  # of a long References, the newest ones kept (and In-Reply-To's)

# A Date header is taken as `created` when it lies in [now - DATE_PAST, now + DATE_SKEW];
# within the skew after now it counts as now (a sender's clock a little fast).
DATE_PAST = dt.timedelta(days=7)
DATE_SKEW = dt.timedelta(minutes=5)

# (not `list`: a customer writing through a mailing list or a Google Group alias is a person)
_AUTO_PRECEDENCE = frozenset({"bulk", "auto_reply", "junk"})
DAEMONS = ("mailer-daemon", "postmaster")
# A forward's prefix, first in the subject, any case: "Fwd: …", "WG: …" (a reply to a forward,
# "Re: Fwd: …", is a reply: its quote of what came before is left out, as any reply's).
# (after any bracketed tags a gateway or a ticket system put first: `[EXTERNAL] Fwd:`,
# `[T-…] Fwd:`)
_FORWARD_PREFIX = re.compile(r"^\s*(?:\[[^\]]*\]\s*)*(?:fwd?|wg|tr|vs|rv|i)\s*:", re.IGNORECASE)
# The line mail clients open a forwarded message with in its text (Gmail's, Thunderbird's,
# Apple Mail's): what follows is what the sender sends on, not a quote to leave out.
_FORWARD_LINE = re.compile(
    r"^[ \t>]*(?:-{5,}\s*forwarded message\s*-{5,}|begin forwarded message:)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)


def trimmed(text: str) -> str:
    """A mail's text without its blank lines at the start and its white space at the end:
    its first line's indentation kept (a traceback's `    at Foo.bar(…)`, as `esc create
    --body` keeps it)."""
    return _LEADING_BLANK_LINES.sub("", text).rstrip()


_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*(?:\r\n|\r|\n))+")


def forwarded(subject: str, text: str = "") -> bool:
    """Whether a mail forwards another: its subject says so (``Fwd:``, ``FW:``, ``WG:``,
    ``TR:``, after any bracketed tags), or its text holds a client's forward line (``----------
    Forwarded message ---------``, ``Begin forwarded message:``): what follows the sender's
    words is what they send, not a quote to leave out."""
    return _FORWARD_PREFIX.match(subject) is not None or _FORWARD_LINE.search(text) is not None


# The reply and forward prefixes mail clients put before a subject, in their languages
# (Re, AW, SV, Antw, R, Odp, Ynt, RES, 答复, 回复…; Fwd, WG, TR, RV, I, PD, ENC, 转发…),
# counted or not (`Re[2]:`, `Re(2):`, `Re^2:`), with a full-width colon too, and the
# `[EXTERNAL]` tag mail gateways add.
_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:\[(?:external|ext)\]|(?:re|fwd?|aw|wg|sv|vs|antw|doorst|tr|rv|r|i|odp|pd|ynt|"
    r"res|enc|答复|回复|转发|回覆|轉寄|轉發)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]))+\s*",
    re.IGNORECASE,
)


@immutable
class Mail:
    """One parsed message: the parts intake uses, already decoded to text."""

    message_id: str | None
    sender: str  # the From header as written to the ticket: "Jane Doe <jane@shop.example>"
    address: str  # the From address alone, lower-case
    recipients: tuple[str, ...]  # To and Cc addresses, lower-case
    subject: str
    date: dt.datetime | None  # None: no Date header, or one that does not parse
    in_reply_to: tuple[str, ...]  # the Message-IDs In-Reply-To names (usually one)
    references: tuple[str, ...]  # those References names, as written: oldest first
    text: str  # the text part (an HTML-only message's HTML turned into text)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case name → value
    # the ids an earlier esc gave this message when it had no Message-ID (its content's
    # hash, made of other headers): a message taken then is not taken again
    earlier_ids: tuple[str, ...] = ()
    # the Message-ID it gave, as read (bytes that are no UTF-8 escaped), when esc uses
    # another (one that names nothing, `<x@>`; one of such bytes): an earlier esc may have
    # recorded it so (see the intake's index)
    given_ids: tuple[str, ...] = ()
    # the person Reply-To names, as written to the ticket, when it is another than From and
    # none of the message's recipients (a web form's `noreply@` sender, a mailing list that
    # rewrote From to its own address); "" otherwise
    reply_to: str = ""
    reply_address: str = ""  # its address alone, lower-case ("" without one)


def customer_address(mail: Mail) -> str:
    """The address of :func:`customer_of`, lower-case, as the tickets' index keys its
    customers (a second reply through the same form joined no ticket the first opened)."""
    return mail.reply_address or mail.address


def customer_of(mail: Mail) -> str:
    """Who wrote ``mail``, as the ticket records its customer and a reply goes to them:
    the person Reply-To names where a form or a list sent it for them (RT and Freshdesk
    read it so), else its sender."""
    return mail.reply_to or mail.sender


def automatic(mail: Mail, tickets: Container[str]) -> str | None:
    """Why the message was sent by a machine (an auto-reply, a bounce), or None.
    ``tickets``: the IDs of this workspace's tickets (a copy of esc's own mail names one)."""
    headers = mail.headers
    about = headers.get("x-esc-ticket", "").strip()  # (customer_mail.SENT_BY_ESC)
    if about and about in tickets:  # (esc's own mail come back, an archive copy; another
        # helpdesk's esc marks its replies so too: a partner's answer was dropped unseen)
        return f"sent by esc (about {about})"
    if headers.get("x-esc-event", "").strip():  # (a notification's: store.outbox.EVENT_HEADER;
        # one sent to the helpdesk's own mailbox, as `esc notify test` to a `from=` address)
        return f"sent by esc (a notification, event {headers['x-esc-event'].strip()})"
    auto = _bare(headers.get("auto-submitted", ""))
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    # (`auto-reply` as `auto_reply`; `X-Precedence`, as some mailers name it)
    precedence = _bare(headers.get("precedence", "") or headers.get("x-precedence", ""))
    precedence = precedence.replace("-", "_")
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in AUTO_REPLY_HEADERS:
        value = headers.get(name, "").strip()
        if value and _bare(value) not in ("no", "false", "0"):  # (`X-Autoreply: no`: a person)
            return f"{name}: {value}"
    local = mail.address.split("@", 1)[0]
    if local in DAEMONS:
        return f"from {mail.address}"
    if headers.get("content-type", "").lower().startswith("multipart/report"):
        return "a delivery report"
    if headers.get("return-path", "").strip() == "<>":  # (a null sender: a bounce, RFC 5321)
        return "Return-Path: <>"
    return None


# The headers autoresponders mark their mail with besides RFC 3834's Auto-Submitted: any
# value but `no`/`false`/`0` is a machine's (Exchange's X-Auto-Response-Suppress is no mark
# of an auto-reply: it asks others not to send one).
AUTO_REPLY_HEADERS = (
    "x-autoreply", "x-autorespond", "x-auto-reply", "x-autogenerated", "x-mail-autoreply",
    "x-autoreply-from", "x-fc-machinegenerated",
)  # fmt: skip


def _bare(value: str) -> str:
    """A header's keyword, lower-case, without its comments: `no (sent by a person)`,
    `auto-replied; vacation` (RFC 3834 keeps comments and parameters after it)."""
    return re.sub(r"\([^)]*\)", " ", value.split(";")[0]).strip().lower()


def sender_pattern(pattern: str, option: str) -> str:
    """``--allow``/``--deny``'s ``pattern`` as a glob on a sender's address: an address or a
    glob as given; a domain, bare or after an ``@`` (``shop.example``, ``@shop.example``),
    as every address at it (``*@shop.example``: as written, either matched no sender, and
    an `--allow` turned every sender away).  BadInput for one that can match no address."""
    text = pattern.strip()
    globbed = any(c in text for c in "*?[")
    if text.startswith("@") and not globbed:
        text = "*" + text
    elif "@" not in text and "." in text and not globbed:  # (`.shop.example`: its subdomains)
        text = "*@" + ("*" + text if text.startswith(".") else text)
    local, at, domain = text.rpartition("@")
    if (
        not text
        or ("@" not in text and "*" not in text)
        or (at and not (local and domain))
        or ("@" in local and not globbed and not local.startswith('"'))  # (`a@b@c`: no
        # address has two @ but one whose local part is quoted, `"a@b"@c.example`)
    ):
        raise BadInput(
            f"{option} {pattern!r} matches no sender: give an address, a domain or a glob"
            " (jane@shop.example, shop.example, *@shop.example)"
        )
    return text


def sender_allowed(
    address: str, allow: Sequence[str], deny: Sequence[str], customer: str = ""
) -> str | None:
    """None when ``address`` (From's) may open tickets, else why not.  ``customer``: the
    address the ticket would be for, when Reply-To names another (a web form's): denied,
    it is turned away as its sender would be (a form's `noreply@` let a denied address
    through).  Only the sender is allowed by ``allow``: Reply-To is anyone's to write, and
    naming an allowed address there let any sender in.  Patterns are addresses or shell
    globs, case-insensitive (``*@shop.example``); deny wins; an empty allow list allows
    everyone."""
    for pattern in deny:
        for who in (address, customer) if customer else (address,):
            if fnmatch.fnmatchcase(_ascii_domain(who), _ascii_domain(pattern)):
                return f"sender {who} is denied ({pattern})"
    if allow and not any(
        fnmatch.fnmatchcase(_ascii_domain(address), _ascii_domain(p)) for p in allow
    ):
        return f"sender {address} is not allowed"
    return None


def _ascii_domain(address: str) -> str:
    """``address`` (or a pattern of one) in lower case, its domain's labels in their ASCII
    form (IDNA: `müller.example` is `xn--mller-kva.example`, as mail headers carry it):
    `--deny müller.example` let `x@xn--mller-kva.example` in, and `--allow` turned it away
    (audit helper-424)."""
    return ascii_address(address.lower())


def ascii_address(address: str) -> str:
    """``address`` with its domain's labels in their ASCII form (IDNA 2008's, as DNS has
    it: `müller.example` is `xn--mller-kva.example`; Python's "idna" codec is IDNA 2003's,
    which writes `ß` as `ss`, another domain: review helper-431), its local part as it is:
    mail to `jurgen@müller.example` was refused for good, never retried (audit
    helper-437), where `jurgen@xn--mller-kva.example` reaches them."""
    local, at, domain = address.rpartition("@")
    if domain.isascii():
        return address
    import unicodedata

    labels = []
    for label in unicodedata.normalize("NFC", domain).split("."):
        labels.append(
            label if label.isascii() else "xn--" + label.lower().encode("punycode").decode()
        )
    return f"{local}{at}{'.'.join(labels)}"


def created_at(date: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """The ticket's `created`: the Date header when sane, else ``now``.

    Sane: no more than :data:`DATE_PAST` before ``now`` (a message that waited in a
    mailbox over a weekend keeps its time; a year-old or 1970 date does not), and not after
    ``now`` (up to :data:`DATE_SKEW` after it counts as ``now``; later is a wrong clock).
    """
    if date is None or date.tzinfo is None:
        return now
    if now - DATE_PAST <= date <= now:
        return date
    return now


def tickets_in_subject(subject: str) -> list[str]:
    """What a subject carries as a ticket's ``[T-xxxx]`` tag (lower-cased), in order, with
    any prefix: one an earlier ``id_prefix`` gave its tickets too, which customers still
    write (the caller keeps those that are tickets: a subject may hold other tags, ``Re:
    [T-Mobile] contract [T-4k8q2m7x]``; spaces inside the brackets, as some clients and
    people write it, ``[ T-4k8q2m7x ]``, are allowed)."""
    found = re.findall(r"\[\s*((?:[^\s\[\]]+-)?[0-9A-Za-z]{4,})\s*\]", subject)
    return [f.lower() for f in found]


def thread(mail: Mail, recorded: Mapping[str, str], known: Sequence[str]) -> str | None:
    """The ticket this message continues: one whose recorded Message-IDs (``recorded``:
    Message-ID → ticket ID) its In-Reply-To or References name, else the ticket ID in its
    subject when ``known`` has it; None for a new conversation.

    In-Reply-To (the message answered) is looked up first, then References from the
    newest to the oldest, so a reply that names both a closed ticket's old message and
    the follow-up ticket's newer one continues the follow-up."""
    for ref in (*mail.in_reply_to, *reversed(mail.references)):
        if ref in recorded:
            return recorded[ref]
    by_lower = {k.lower(): k for k in known}
    for found in tickets_in_subject(mail.subject):  # (the first that is a ticket)
        if found in by_lower:
            return by_lower[found]
    return None


def follow_up_title(
    title: str, follows: str, earlier: str | None = None, tags: Sequence[str] = ()
) -> str:
    """The title of a ticket a reply to closed ``follows`` opens: without the reply's
    prefixes (``Re:``, ``Fwd:``, ``AW:``, ``SV:``, ``回复：``…: :data:`_REPLY_PREFIX`) and the
    old ticket's ``[ID]`` tag (and those of ``tags``: the first ticket of a chain of closed
    follow-ups, which the reply names); when nothing would be left (``Re: [T-…]``), the
    old ticket's title ``earlier``, else ``title`` itself."""
    named = "|".join(re.escape(t) for t in (follows, *tags))
    untagged = re.sub(r"\[\s*(?:" + named + r")\s*\]", " ", title, flags=re.IGNORECASE)
    stripped = _REPLY_PREFIX.sub("", " ".join(untagged.split()))
    return stripped or earlier or title


def one_line(text: str) -> str:
    """A header's text (a subject, a sender's name) on one line: each control character a
    space, each run of spaces one, the bidi controls a title may not hold left out."""
    return " ".join(without_bidi_controls(_CONTROLS.sub(" ", text)).split())


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def intake_for(
    mail: Mail,
    attachments: Sequence[str] = (),
    follows: str | None = None,
    earlier: str | None = None,
    tags: Sequence[str] = (),
) -> Intake:
    """A new ticket from ``mail``: the subject as title, the text as description (for a
    follow-up of closed ``follows``, the title without reply prefixes and the old ID, or
    ``follows``' own title ``earlier`` when the subject holds nothing more)."""
    title = one_line(mail.subject)  # (a title is one line)
    if follows and title:
        title = follow_up_title(title, follows, earlier, tags)
    if shows_nothing(title):  # (nothing a person sees: `=?utf-8?q?=E2=80=8B?=`)
        title = f"(no subject) from {mail.address}"
    extra: dict[str, object] = {}
    if mail.recipients:
        extra[RECIPIENTS] = list(mail.recipients)
    if mail.message_id:
        extra[MESSAGE_IDS] = [mail.message_id]
    if follows:
        extra[FOLLOWS] = follows
    elif mail.in_reply_to or mail.references:  # (a reply: what it answers may come later)
        answered = [*mail.in_reply_to[:3], *reversed(mail.references[-REPLIES_TO_KEPT:])]
        extra[REPLIES_TO] = list(dict.fromkeys(answered))
    if attachments:
        extra[ATTACHMENTS] = list(attachments)
    return Intake(
        title=title,
        description=trimmed(mail.text),
        customer=customer_of(mail),
        channel="email",
        extra=extra,
    )


def with_attachments(text: str, attachments: Sequence[str]) -> str:
    """A message's text followed by the list of its saved attachments."""
    if not attachments:
        return text
    listed = "\n".join(f"- {path}" for path in attachments)
    return f"{text}\n\nAttachments:\n{listed}" if text else f"Attachments:\n{listed}"


def recorded_ids(extra: Mapping[str, object], key: str = MESSAGE_IDS) -> list[str]:
    """The Message-IDs a ticket's front-matter records (``key``: those it answers,
    :data:`REPLIES_TO`)."""
    value = extra.get(key)
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)] if isinstance(value, str) else []
