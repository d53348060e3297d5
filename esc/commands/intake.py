"""`esc intake`: tickets from e-mail (Maildir, mbox, one message on stdin) and from JSON.

The whole batch runs under the workspace lock (the one `esc sweep` takes), so intake and
sweep never interleave and two intakes never both create a ticket for one message.  Each
message is one atomic write (a new ticket, or a customer message on an existing one) that
records its Message-ID, so a message is never taken twice and a rerun after a crash goes
on where the first run stopped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from esc.commands.session import Output, Session
from esc.domain import customer_mail, lifecycle, query
from esc.domain import mail as mails
from esc.domain.config import Config
from esc.domain.errors import (
    EXIT_TEMPFAIL,
    BadInput,
    EscError,
    ParseError,
    Refused,
    TicketNotFound,
    TooLargeToRead,
    escape_surrogates,
)
from esc.domain.model import (
    CHANNELS,
    Activity,
    Change,
    Ticket,
    holds_lone_surrogate,
    line_problem,
    one_form,
    shows_nothing,
    texts_of,
    without_bidi_controls,
)
from esc.store import atomic, git, lock, outbox, pending
from esc.store import mail as store
from esc.store.imap import ImapError, ImapSettings, ImapSource, settings_of
from esc.store.lock import LockTimeout
from esc.store.workspace import ATTACHMENTS_DIR, CACHE_DIR, QUARANTINE_DIR, Workspace
from esc.ticketfile import document, yaml_text
from esc.ticketfile.yaml_text import YamlError

ACTOR = "esc intake"
IMAP_PASSWORD = "ESC_IMAP_PASSWORD"  # the environment variable --imap reads the password from
JSON_KEYS = ("title", "body", "customer", "channel", "category", "priority", "external_id")


@dataclass
class MailOptions:
    maildir: Path | None = None
    mbox: Path | None = None
    eml: bytes | None = None  # one message (stdin)
    quarantine: Path | None = None  # default: <workspace>/quarantine
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    attachment_limit: int = store.ATTACHMENT_LIMIT
    lock_timeout: float = 60.0
    imap: ImapSettings | None = None


def _as_escaped(message_id: str) -> str:
    """A Message-ID of UTF-8 bytes as an older esc wrote it in a ticket's file, its bytes
    escaped (`<t\\udcc3\\udcbc@x>`): a file no command reads, whose message intake
    must never take again."""
    return "".join(
        c if c.isascii() else "".join(f"\\udc{b:02x}" for b in c.encode()) for c in message_id
    )


@dataclass
class _Index:
    """What the tickets record: Message-IDs and external ids → ticket, status by ticket."""

    messages: dict[str, str] = field(default_factory=dict)
    # (channel, external id) → ticket: each channel's system numbers its own items (a chat
    # widget's 5123 is no portal's 5123)
    external: dict[tuple[str, str], str] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # (a follow-up's, when its reply's
    # subject is nothing but `Re: [T-…]`)
    follow_ups: dict[str, str] = field(default_factory=dict)  # closed ticket → its latest
    # each ticket's customer address; and (Message-ID, sender's address) → the ticket
    # that sender's reply to it opened before it came (``replies_to``; the first): each
    # sender's later replies, and their original, join it (another sender claims nothing)
    addresses: dict[str, str] = field(default_factory=dict)
    awaiting: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def of(cls, tickets: Iterable[Ticket]) -> _Index:
        index = cls()
        created: dict[str, dt.datetime] = {}
        awaiting_since: dict[tuple[str, str], dt.datetime] = {}  # (two replies came first:
        # the one opened first)
        for ticket in tickets:
            index.status[ticket.id] = ticket.status
            index.titles[ticket.id] = ticket.title
            for message_id in mails.recorded_ids(ticket.extra):
                index.messages[message_id] = ticket.id
            index.addresses[ticket.id] = email.utils.parseaddr(ticket.customer or "")[1].lower()
            for message_id in mails.recorded_ids(ticket.extra, mails.REPLIES_TO):
                key = (message_id, index.addresses[ticket.id])
                if key not in awaiting_since or ticket.created < awaiting_since[key]:
                    awaiting_since[key] = ticket.created
                    index.awaiting[key] = ticket.id
            external = ticket.extra.get(mails.EXTERNAL_ID)
            if external is not None:
                index.external[(ticket.channel or "", one_form(str(external).strip()))] = (
                    ticket.id
                )
            follows = ticket.extra.get(mails.FOLLOWS)
            if isinstance(follows, str):
                created[ticket.id] = ticket.created
                known = index.follow_ups.get(follows)
                if known is None or created[known] <= ticket.created:
                    index.follow_ups[follows] = ticket.id
        return index

    def continued(self, target: str) -> str:
        """The ticket a message to ``target`` goes to: ``target``, or, if it is closed, the
        follow-up a reply to it opened (the latest, and its own, while they are closed)."""
        seen = {target}
        while self.status.get(target) == "closed" and target in self.follow_ups:
            target = self.follow_ups[target]
            if target in seen:  # (a loop made by hand: never for ever)
                break
            seen.add(target)
        return target


class _Left(Exception):
    """A message that cannot be taken now, for a reason that is not its own (its ticket's
    file does not parse or is held too long): left where it is for the next run."""


@dataclass
class _Broken:
    """The ticket files that do not parse: their IDs and texts, so that a message they may
    hold (its Message-ID recorded there) or continue is not made a ticket twice."""

    texts: dict[str, str] = field(default_factory=dict)  # ticket ID (its file's name) → text

    @classmethod
    def of(cls, workspace: Workspace, problems: Iterable[Any]) -> _Broken:
        found = cls()
        for problem in problems:
            path = workspace.root / problem.path
            try:
                found.texts[path.stem] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                found.texts[path.stem] = ""
        return found

    def holding(self, mail: mails.Mail) -> str | None:
        """The broken ticket ``mail`` may belong to (its Message-ID, a message it answers or
        the ID in its subject is in that file), if any."""
        ids = [i for i in (mail.message_id, *mail.in_reply_to, *mail.references) if i]
        # (and as an older esc wrote an id that is no ASCII: its bytes escaped)
        ids += [escape_surrogates(i) for i in mail.given_ids]
        ids += [_as_escaped(i) for i in ids if not i.isascii()]
        subject = mail.subject.lower()
        for ticket_id, text in self.texts.items():
            if ticket_id.lower() in subject or any(i in text for i in ids):
                return ticket_id
        return None

    def following(self, closed: str) -> str | None:
        """The broken ticket that may be the follow-up of the closed ticket ``closed`` (a
        ``follows:`` line of its file names it), if any: a later reply to ``closed`` goes
        there, never to a second follow-up."""
        line = re.compile(rf"(?mi)^{mails.FOLLOWS}:[ \t]*[\"']?{re.escape(closed)}[\"']?[ \t]*$")
        return next((t for t, text in self.texts.items() if line.search(text)), None)

    def holding_external(self, external: str) -> str | None:
        """The broken ticket that may hold the item of ``external`` (an ``external_id:``
        line of its file names it, read as YAML reads that line: a merge's conflict may
        have left one from each side), if any."""
        lines = re.compile(rf"(?m)^{mails.EXTERNAL_ID}:.*$")
        for ticket_id, text in self.texts.items():
            for line in lines.findall(text):
                try:
                    read = yaml_text.load(line)
                except YamlError:
                    continue
                value = read.get(mails.EXTERNAL_ID) if isinstance(read, Mapping) else None
                if value is not None and one_form(str(value).strip()) == external:
                    return ticket_id
        return None


@dataclass
class _Run:
    session: Session
    options: MailOptions
    index: _Index
    journal: _Journal
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    queued: list[str] = field(default_factory=list)  # the outbox keys of the acknowledgements
    # this run queued: what it sends (never what others queued: that is the sweep's)
    quarantined: store.Quarantined | None = None  # what earlier runs quarantined
    broken: _Broken | None = None  # the ticket files that do not parse


    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


class _Journal:
    """What intake writes, journalled for the next ``esc sweep --commit``
    (:mod:`esc.store.pending`): a new ticket, its attachments, and a message added to a
    ticket that held only what is committed (or what esc wrote). A ticket with a person's
    uncommitted edit is left to that person to commit, as the sweep leaves it."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        inside = git.inside_git_work_tree(workspace.root)
        self.pending = pending.Pending.load(workspace.root) if inside else None

    def ticket_path(self, ticket_id: str) -> Path:
        return self.workspace.tickets_dir / f"{ticket_id}.md"

    def is_ours(self, path: Path) -> bool:
        """Whether esc may journal a write to ``path`` made now (see the class)."""
        if self.pending is None:
            return False
        try:
            data: bytes | None = path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError:
            return False
        return self.pending.committed_or_ours(self.workspace.rel(path), data)

    def will_write(self, path: Path, data: bytes) -> None:
        """Journal ``data`` for ``path`` before it is written (new files: a new ticket, an
        attachment), so that an intake killed just after the write leaves it noted, and the
        next ``sweep --commit`` commits it (the file must hold exactly that)."""
        if self.pending is None:
            return
        rel = self.workspace.rel(path)
        self.pending.written[rel] = pending.note(
            self.workspace.root, rel, data, self.pending.blobs
        )

    def noted(self, path: Path) -> str | None:
        """The blob id the journal holds for ``path`` now (None: none)."""
        return None if self.pending is None else self.pending.written.get(self.workspace.rel(path))

    def note_again(self, path: Path, blob: str | None) -> None:
        """Journalled by :meth:`will_write`, then not written: the journal holds ``blob``
        for ``path`` again (what :meth:`noted` said just before), none if None."""
        if self.pending is not None:
            self.pending.restore(self.workspace.rel(path), blob)


def imap_settings(host: str, user: str | None, **options: Any) -> ImapSettings:
    """``--imap``'s settings, the password from ESC_IMAP_PASSWORD (never an option)."""
    password = os.environ.get(IMAP_PASSWORD)
    return settings_of(host, user, password, IMAP_PASSWORD, **options)


def intake_mail(session: Session, options: MailOptions) -> Output:
    """Take every message of the source given: new tickets, customer messages, ignored."""
    workspace = session.workspace
    session.config  # noqa: B018  (a broken configuration stops it before any message is read)
    session.now  # noqa: B018  (and a --now that is no time: each message was quarantined for it)
    options.allow = tuple(mails.sender_pattern(p, "--allow") for p in options.allow)
    options.deny = tuple(mails.sender_pattern(p, "--deny") for p in options.deny)
    if options.maildir is not None and not (options.maildir / "new").is_dir():
        raise BadInput(f"{options.maildir}: not a Maildir (no new/ folder)")
    if options.mbox is not None and options.mbox.is_dir():  # (a Maildir given to --mbox)
        hint = " (a Maildir: --maildir)" if (options.mbox / "new").is_dir() else ""
        raise BadInput(f"{options.mbox}: a folder, not an mbox file{hint}")
    if options.mbox is not None and not options.mbox.is_file():
        raise BadInput(f"{options.mbox}: no such mbox file")
    if options.mbox is not None:
        try:
            problem = store.mbox_problem(options.mbox)
        except OSError as exc:
            raise BadInput(f"{options.mbox}: cannot read it ({exc.strerror})") from None
        if problem is not None:
            raise BadInput(f"{options.mbox}:1: {problem}")
    workspace.lock_timeout = options.lock_timeout  # (also the wait for a ticket another
    # command is writing, as the sweep's: an MTA's `--eml -` must not hang for a minute)
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(ImapSource(options.imap)) if options.imap else None
        try:
            stack.enter_context(lock.hold(workspace.root / CACHE_DIR, options.lock_timeout, ACTOR))
        except LockTimeout as exc:
            if options.eml is None:
                raise
            # (an MTA piping a message: "try again later", not a bounce of the customer's mail)
            return Output(text="", notes=[f"esc: {exc}; not taken now"], code=EXIT_TEMPFAIL)
        workspace.remove_stale_temporaries()  # (what killed processes left, as a sweep does)
        workspace.remove_stale_attachments()  # (a killed intake's half-saved files)
        tickets, broken = workspace.tickets()
        run = _Run(session, options, _Index.of(tickets), _Journal(workspace))
        run.broken = _Broken.of(workspace, broken)
        run.notes += [str(problem) for problem in broken]  # (said, and exit 1, as by list)
        run.quarantined = store.Quarantined(workspace.root / CACHE_DIR / store.QUARANTINED_FILE)
        stopped: ImapError | None = None
        try:
            for item in _incoming(options, source):
                _take(run, item)
        except ImapError as exc:  # (the server gone part-way, a command refused: what was
            # taken is said, and its acknowledgements sent, then why it stopped; the whole
            # run's report was lost, the tickets made, audit helper-453)
            stopped = exc
        if run.queued:  # (under the lock, as the sweep sends: never both at once)
            _deliver(run)
    said = _report(run)
    if stopped is not None:
        return Output(text=said.text, notes=[*said.notes, f"esc: {stopped}"], code=1)
    return said


def _incoming(options: MailOptions, imap: ImapSource | None) -> Iterable[store.Incoming]:
    if options.maildir is not None:
        yield from store.read_maildir(options.maildir)
    if options.mbox is not None:
        yield from store.read_mbox(options.mbox)
    if options.eml is not None:
        yield store.Incoming("stdin", options.eml)
    if imap is not None:
        yield from imap.messages()


def _take(run: _Run, item: store.Incoming) -> None:
    if item.left is not None:  # (an mbox's last message still being written: not read,
        # so nothing of it, its Message-ID or its hash, is recorded before it is whole)
        run.lines.append(f"{item.where}: left for the next run ({item.left})")
        run.count("left")
        return
    if item.problem is not None:  # (quarantined where it is, unread; or, a Maildir entry
        # that cannot be read, left where it is: the batch goes on)
        run.notes.append(f"esc: {item.where}: {item.problem}")
        if item.quarantined is None:
            run.count("left")
            return
        run.count("quarantined")
        item.quarantined()
        return
    reread = item.path is None and item.quarantined is None  # (an mbox, stdin: not moved)
    if reread and run.quarantined is not None and item.data in run.quarantined:
        run.lines.append(f"{item.where}: quarantined before")
        run.count("quarantined before")
        return
    try:
        parsed = store.parse(item.data, run.options.attachment_limit)
    except store.Malformed as exc:
        _quarantine(run, item, str(exc))
        return
    mail = parsed.mail
    try:
        outcome = _outcome(run, mail, parsed.attachments)
    except BadInput as exc:  # (a message esc cannot record: the batch goes on)
        _quarantine(run, item, str(exc))
        return
    except TooLargeToRead as exc:  # (its ticket would be one esc cannot read back)
        _quarantine(run, item, exc.message)
        return
    except _Left as exc:  # (nothing wrong with the message: taken by a later run)
        run.lines.append(f"{item.where}: left for the next run ({exc})")
        run.count("left")
        return
    run.lines.append(f"{item.where}: {outcome}")
    if item.path is not None:
        store.mark_seen(item.path)
    if item.taken is not None:
        item.taken()


def _quarantine(run: _Run, item: store.Incoming, why: str) -> None:
    workspace = run.session.workspace
    folder = run.options.quarantine or workspace.root / QUARANTINE_DIR
    try:
        kept = store.quarantine(folder, item)
    except OSError as exc:  # (the message stays where it was: the run stops, nothing lost)
        raise EscError(
            f"{item.where}: {why}; it cannot be kept in {folder} ({exc.strerror or exc})"
        ) from None
    if run.quarantined is not None:
        run.quarantined.add(item.data)
    run.notes.append(f"esc: {item.where}: {why}; kept in {workspace.rel(kept)}")
    run.count("quarantined")
    if item.quarantined is not None:
        item.quarantined()


def _taken_as_given(index: _Index, mail: mails.Mail) -> str | None:
    """The Message-ID an earlier esc took ``mail`` under, as the message gave it (one that
    names nothing, `<x@>`), if that ticket is this very message's: its sender and its
    subject (an mbox is read whole every run: it was taken again).  A later message
    another gave the same id, or the same sender's next one, is taken (as it is where no
    earlier esc ran: each was `already taken`, lost)."""
    for given in mail.given_ids:
        ticket = index.messages.get(given)
        if (
            ticket is not None
            and index.addresses.get(ticket) == mails.customer_address(mail)
            and index.titles.get(ticket) == mails.one_line(mail.subject).strip()
        ):
            return given
    return None


def _awaiting(index: _Index, mail: mails.Mail) -> str | None:
    """The ticket an earlier reply of the same sender to a message it answers too opened
    (``replies_to`` names it, the original not come yet), if any."""
    for ref in (*mail.in_reply_to, *reversed(mail.references)):
        ticket = index.awaiting.get((ref, mails.customer_address(mail)))
        if ticket is not None:
            return ticket
    return None


def _outcome(run: _Run, mail: mails.Mail, attachments: list[store.Attachment]) -> str:
    options, index = run.options, run.index
    message_id = mail.message_id or ""
    taken = next((i for i in (message_id, *mail.earlier_ids) if i in index.messages), None)
    taken = taken or _taken_as_given(index, mail)
    if taken is not None:
        run.count("duplicate")
        return f"already taken ({index.messages[taken]})"
    why = mails.automatic(mail, index.status) or mails.sender_allowed(
        mail.address, options.allow, options.deny, mail.reply_address
    )
    if why is not None:
        run.count("ignored")
        return f"ignored: {why}"
    threaded = target = mails.thread(mail, index.messages, list(index.status))
    who = mails.customer_address(mail)  # (as the index keys each ticket's customer)
    awaited = index.awaiting.get((message_id, who)) if target is None else None
    if awaited is not None:  # (the same sender's reply to it came first and opened a
        # ticket: it joins that one; another sender naming its Message-ID claims nothing)
        threaded = target = awaited
    if target is None:  # (a second reply to an original not come yet: to the ticket the
        # first one opened, the same sender's; it made a second ticket of one conversation)
        target = _awaiting(index, mail)
        threaded = target if target is not None else threaded
    if target is not None:  # (a second reply to a closed ticket: to the follow-up it opened)
        target = index.continued(target)
    held = None if run.broken is None else run.broken.holding(mail)
    if held is not None and target is None:  # (its ticket may be that one: never a second)
        raise _Left(f"it may belong to {held}, whose file does not parse")
    if target is not None and index.status.get(target) == "closed" and run.broken is not None:
        follow_up = run.broken.following(target)  # (a follow-up of it that does not parse:
        if follow_up is not None:  # the reply's ticket, not a second follow-up)
            raise _Left(f"it may belong to {follow_up}, a follow-up of {target} whose file "
                        "does not parse")  # fmt: skip
    if target is not None and index.status.get(target) != "closed":
        try:
            ticket = _add_message(run, target, mail, attachments)
        except TooLargeToRead as exc:  # (the message's fault, not the ticket's: kept apart)
            raise BadInput(exc.message) from None
        except (ParseError, LockTimeout, TicketNotFound, Refused) as exc:  # (Refused: its
            # ticket was last changed after --now, a clock behind: not the message's fault;
            # or closed since the index was read: the reply opens its follow-up, below)
            if not (isinstance(exc, Refused) and _closed_now(run, target)):
                raise _Left(f"{target} cannot be written: {exc}") from None
            index.status[target] = "closed"
        else:
            index.messages[message_id] = ticket.id
            index.status[ticket.id] = ticket.status
            run.count("reply")
            return f"customer message on {ticket.id}"
    ticket = _new_ticket(run, mail, attachments, follows=target, threaded=threaded)
    index.messages[message_id] = ticket.id
    index.status[ticket.id] = ticket.status
    for answered in mails.recorded_ids(ticket.extra, mails.REPLIES_TO):
        index.awaiting.setdefault((answered, mails.customer_address(mail)), ticket.id)
    index.addresses[ticket.id] = mails.customer_address(mail)
    acknowledged = _acknowledge(run, ticket, mail)
    if target is not None:
        index.follow_ups[target] = ticket.id
        _note_follow_up(run, target, ticket.id)
        run.count("follow-up")
        return (
            f"new ticket {ticket.id} (a reply to closed {target}), team {ticket.team}"
            + acknowledged
        )
    run.count("new")
    return f"new ticket {ticket.id}, team {ticket.team}{acknowledged}"


def _closed_now(run: _Run, ticket_id: str) -> bool:
    """Whether ``ticket_id``'s file says it is closed (a command closed it after the
    intake's index was read)."""
    try:
        return run.session.workspace.load(ticket_id).ticket.status == "closed"
    except (EscError, OSError):
        return False


def _acknowledge(run: _Run, ticket: Ticket, mail: mails.Mail) -> str:
    """Queue the acknowledgement of a new ticket, when rules.yaml asks for one (after the
    ticket is written: a crash in between loses the acknowledgement, never sends two); what
    its line says of it (nothing when none is asked for).  A customer with no address esc
    can send to (`"jane doe"@shop.example`, `jane@shop`) gets none, said so: the line said
    nothing of it (audit helper-424)."""
    settings = run.session.config.customer_mail
    if settings is None or settings.acknowledge is None:
        return ""
    outgoing = customer_mail.acknowledgement(
        settings, ticket.id, ticket.title, mails.customer_of(mail), mail.subject,
        mail.message_id or "",
    )
    if outgoing is None:
        return ", acknowledgement not sent (no e-mail address esc can send to)"
    message = outbox.customer_message(outgoing, settings.target, run.session.now)
    run.queued += outbox.Outbox(run.session.workspace.root).queue([message])
    return ACKNOWLEDGED


def _deliver(run: _Run) -> None:
    """Send the acknowledgements this run queued, as a command sends its own messages (the
    notifications and retries other commands left queued are the sweep's to send, as
    ``--no-notify`` says); a failure is retried by the next sweep."""
    session = run.session
    delivery = outbox.deliver(
        outbox.Outbox(session.workspace.root), session.config.notify, session.now,
        only=run.queued, who="esc intake",
    )  # fmt: skip
    if delivery.sent:
        run.lines.append(
            f"sent: {len(delivery.sent)} message{'s' if len(delivery.sent) != 1 else ''}"
        )
    run.notes += [
        f"esc: sending {m.kind} of {m.ticket_id} failed: {m.error} ({m.what_next()})"
        for m in delivery.failed
    ]
    # (a new ticket's line said `, acknowledged` when the acknowledgement was queued: one
    # not sent now says so, as its failure on stderr does)
    failed = [m for m in delivery.failed if m.status == "pending"]
    waiting = (*failed, *delivery.left, *delivery.held, *delivery.quiet, *delivery.behind)
    unsent = {m.ticket_id for m in waiting if m.kind == "acknowledgement"}
    gone = {m.ticket_id: "its target is gone" for m in delivery.dropped}
    gone |= {m.ticket_id: "refused for good" for m in delivery.failed if m.status == "refused"}
    run.lines = [_acknowledged_later(line, unsent, gone) for line in run.lines]
    if (busy := delivery.busy_note()) is not None:
        run.notes.append(f"esc: {busy}")
    if (held := delivery.held_note()) is not None:
        run.notes.append(f"esc: {held}")


def _acknowledged_later(line: str, unsent: set[str], gone: Mapping[str, str]) -> str:
    """A new ticket's line, ``, acknowledged``, as ``, acknowledgement queued`` if the
    acknowledgement of its ticket (one of ``unsent``) was not sent, or as ``not sent`` if
    it never will be (``gone``, with why: its target no longer in rules.yaml, or the
    customer's address refused for good)."""
    if not line.endswith(ACKNOWLEDGED) or not (unsent or gone):
        return line
    found = re.search(r"new ticket ([^\s,]+)", line)
    if found is None or (found[1] not in unsent and found[1] not in gone):
        return line
    if found[1] in gone:
        return line[: -len(ACKNOWLEDGED)] + f", acknowledgement not sent ({gone[found[1]]})"
    return line[: -len(ACKNOWLEDGED)] + ", acknowledgement queued (not sent yet)"


ACKNOWLEDGED = ", acknowledged"


def _save_attachments(
    run: _Run, ticket_id: str, attachments: list[store.Attachment]
) -> tuple[list[str], list[str]]:
    """Write the attachments under attachments/<ID>/; (their paths, lines for the text)."""
    root = run.session.workspace.root
    paths: list[str] = []
    lines: list[str] = []
    folder = root / ATTACHMENTS_DIR / ticket_id
    for attachment, name in zip(attachments, _names(attachments, folder), strict=True):
        if attachment.too_big:
            lines.append(_listed(attachment, name, run.options.attachment_limit))
            continue
        relpath = f"{ATTACHMENTS_DIR}/{ticket_id}/{name}"
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        run.journal.will_write(path, attachment.data)
        atomic.atomic_write(path, attachment.data)
        paths.append(relpath)
        lines.append(name)  # (by name, as a new ticket's description lists them: its
    return paths, lines  # front-matter's `attachments:` has the paths)


def _names(attachments: list[store.Attachment], folder: Path | None) -> list[str]:
    """Each attachment's file name: its own, or with ``-2``, ``-3``… when an earlier one
    saved (or a file in ``folder``) has it, in any case (`Report.TXT` beside `report.txt`
    is one file on a clone on macOS or Windows, and git's checkout there collides).  One
    too large to save keeps its own name and takes none (listed, never a file)."""
    taken = {p.name.casefold() for p in folder.iterdir()} if folder and folder.is_dir() else set()
    names = []
    for attachment in attachments:
        name = attachment.name
        if attachment.too_big:
            names.append(name)
            continue
        n = 1
        while name.casefold() in taken:
            n += 1
            stem, dot, ext = attachment.name.rpartition(".")
            name = f"{stem}-{n}.{ext}" if dot and stem else f"{attachment.name}-{n}"
        taken.add(name.casefold())
        names.append(name)
    return names


def _listed(attachment: store.Attachment, name: str, limit: int) -> str:
    if not attachment.too_big:
        return name
    return (
        f"{name} (not saved: {attachment.size} bytes, over the {limit // (1024 * 1024)} MB limit)"
    )


def _new_ticket(
    run: _Run,
    mail: mails.Mail,
    attachments: list[store.Attachment],
    follows: str | None,
    threaded: str | None = None,
) -> Ticket:
    session = run.session
    config = session.config
    created = mails.created_at(mail.date, session.now)
    if follows is not None:  # (a reply to a closed ticket: its new text, as a reply's)
        mail = replace(mail, text=_new_text(mail, _answered(run, follows)) or mail.text)
    description = mails.intake_for(mail).description

    def build(ticket_id: str) -> tuple[dict[str, object], list[Activity]]:
        paths, _lines = _save_attachments(run, ticket_id, attachments)
        earlier = None if follows is None else run.index.titles.get(follows)
        # (the closed ticket the mail answers, when its follow-up is closed too: its tag)
        tags = () if threaded in (None, follows) else (threaded,)
        intake = mails.intake_for(mail, paths, follows, earlier, tags)
        return lifecycle.create(intake, ticket_id, config, created, ACTOR)

    if attachments:  # (by the names they are saved under: a new ticket's folder is empty)
        limit = run.options.attachment_limit
        names = [_listed(a, n, limit) for a, n in zip(attachments, _names(attachments, None),
                                                       strict=True)]  # fmt: skip
        description = mails.with_attachments(description, names)
    ticket = session.workspace.create(build, description, run.journal.will_write)
    _told_of_new(session, ticket)
    return ticket


def _new_text(mail: mails.Mail, answered: Ticket | None = None) -> str:
    """What a message that continues a ticket adds: its text without the quote of what
    came before; all of it when it forwards another mail (`Fwd:`: that is what it sends).
    ``answered``: the ticket it continues, whose text tells a quote of it from `>` lines
    the sender pasted (a terminal's output), which are kept."""
    if mails.forwarded(mail.subject, mail.text):
        return mails.trimmed(mail.text)
    known = "" if answered is None else "\n".join(
        [answered.title, answered.description, *(e.text for e in answered.entries)]
    )
    return store.strip_quoted(mail.text, known)


def _answered(run: _Run, target: str) -> Ticket | None:
    """The ticket a message continues, as its file now reads (None if it does not)."""
    try:
        return run.session.workspace.load(target).ticket
    except (ParseError, EscError, OSError):  # (its text only tells quotes apart: without
        return None  # it, `>` lines are quotes as ever)


def _told_of_new(session: Session, ticket: Ticket) -> None:
    """With --notify: the notifications a new ticket makes (created at or above the
    priority `created_at_or_above` names), sent now, as `esc create --notify` sends them.
    (A customer message that reopens a ticket sends as any command's change does.)"""
    if session.notify:
        session.send_notifications(None, ticket, Change(activity=tuple(ticket.activity)))


def _add_message(
    run: _Run, target: str, mail: mails.Mail, attachments: list[store.Attachment]
) -> Ticket:
    text = _new_text(mail, _answered(run, target)) or mails.trimmed(mail.text)
    text = text or "(an empty message)"
    paths, lines = _save_attachments(run, target, attachments)
    text = mails.with_attachments(text, lines)
    message_id = mail.message_id or ""

    def operation(ticket: Ticket, config: Config, now: dt.datetime) -> Change:
        recorded = mails.recorded_ids(ticket.extra)
        if any(i in recorded for i in (message_id, *mail.earlier_ids)):  # (taken meanwhile
            return Change()  # by another process)
        who = mails.customer_of(mail)
        change = lifecycle.comment(ticket, config, now, who, text, "message")
        sets: dict[str, object] = {mails.MESSAGE_IDS: [*recorded, message_id]}
        if paths:  # (the reply's files listed with the first message's: `show --json` has all)
            kept = ticket.extra.get(mails.ATTACHMENTS)
            earlier = [str(p) for p in kept] if isinstance(kept, list) else []
            sets[mails.ATTACHMENTS] = [*earlier, *(p for p in paths if p not in earlier)]
        return lifecycle.combined(change, Change(sets=sets))

    written = None
    try:
        written = _journalled_update(run, target, operation)
        return written
    finally:
        if written is None:  # (not written: nor are its attachments; saved again next run)
            for relpath in paths:
                with contextlib.suppress(OSError):
                    (run.session.workspace.root / relpath).unlink()


def _note_follow_up(run: _Run, closed: str, new: str) -> None:
    note = f"The customer wrote again after closing; follow-up ticket {new}."
    try:
        _journalled_update(
            run, closed, lambda t, c, n: lifecycle.comment(t, c, n, ACTOR, note, "note")
        )
    except (ParseError, LockTimeout, TicketNotFound, Refused) as exc:  # (the new ticket stands)
        run.notes.append(f"esc: {new} follows {closed}, which was not noted of it: {exc}")


def _journalled_update(
    run: _Run, target: str, operation: Callable[[Ticket, Config, dt.datetime], Change]
) -> Ticket:
    path = run.journal.ticket_path(target)
    noted: list[bytes] = []
    before = run.journal.noted(path)  # (what this run, or an earlier one, noted of it)

    def will_write(written: Path, data: bytes) -> None:
        # (asked under the ticket's lock, of the text the write replaces: asked before it,
        # a person's `esc comment` written in between was journalled as intake's, and the
        # next `sweep --commit` committed it under the sweep's name)
        if not run.journal.is_ours(written):  # (a person's uncommitted edit: theirs to
            if noted:  # commit; an earlier try's note, of a text then ours, undone)
                run.journal.note_again(path, before)
                noted.clear()
            return
        run.journal.will_write(written, data)  # (before: a kill after the write leaves it
        noted.append(data)  # noted, and the next `sweep --commit` commits it)

    try:
        return run.session.update(target, operation, will_write)
    except BaseException:
        if noted and not atomic.holds(path, noted[-1]):  # (noted, not written: journal as
            run.journal.note_again(path, before)  # it was just before)
        raise


def _report(run: _Run) -> Output:
    order = ("new", "reply", "follow-up", "duplicate", "ignored", "quarantined",
             "quarantined before", "left")  # fmt: skip
    labels = {
        "new": "new ticket",
        "reply": "customer message",
        "follow-up": "follow-up of a closed ticket",
        "duplicate": "already taken",
        "ignored": "ignored",
        "quarantined": "quarantined",
        "quarantined before": "quarantined before",
        "left": "left for the next run",
    }
    total = sum(run.counts.values())
    plurals = {"new ticket": "new tickets", "customer message": "customer messages",
               "follow-up of a closed ticket": "follow-ups of closed tickets"}  # fmt: skip
    parts = [
        f"{run.counts[k]} {labels[k] if run.counts[k] == 1 else plurals.get(labels[k], labels[k])}"
        for k in order
        if run.counts.get(k)
    ]
    summary = f"{total} message{'s' if total != 1 else ''}" + (
        ": " + ", ".join(parts) if parts else ""
    )
    text = "\n".join([*run.lines, summary]) + "\n"
    wrote = any(run.counts.get(k) for k in ("new", "reply", "follow-up"))
    notes = run.notes + (run.session.merge_driver_warning() if wrote else [])
    notes += run.session.notified()
    broken = run.broken is not None and bool(run.broken.texts)  # (each said: path:line:)
    if run.options.eml is not None:  # (an MTA's pipe: a ticket file that does not parse,
        broken = False  # said on stderr, is not the message's fault; it was taken, and
        # exit 1 would have the MTA bounce it to the customer)
    quarantined = run.counts.get("quarantined") and run.options.eml is None  # (with --eml -,
    # kept in quarantine is taken: exit 1 would have the MTA bounce it, a bounce to an
    # address the message may have forged; its line on stderr says it)
    failed = quarantined or run.counts.get("left") or broken
    if run.counts.get("left") and run.options.eml is not None:  # (piped by an MTA: it keeps
        return Output(text=text, notes=notes, code=EXIT_TEMPFAIL)  # the message, tries later)
    return Output(text=text, notes=notes, code=1 if failed else 0)


# ---------------------------------------------------------------- JSON


class _KeyTwice(Exception):
    """A JSON object with one key twice (its name)."""


def _no_key_twice(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise _KeyTwice(name)
        found[name] = value
    return found


MAX_JSON_DEPTH = 100  # arrays and objects in one another, at most


def _nesting(text: str) -> int:
    """How deep arrays and objects nest in JSON ``text`` (brackets inside strings left out;
    a text that is no JSON gets a number all the same, and the parser says what is wrong)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub('""', text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def intake_json(session: Session, text: str, lock_timeout: float) -> Output:
    """Tickets from a JSON object or list (see the README's schema), idempotent by
    ``external_id``.  Every item is checked before any is written."""
    session.now  # noqa: B018  (a --now that is no time: said before any item is read)
    text = text.removeprefix("\ufeff")  # (a byte order mark, as Windows tools write)
    if _nesting(text) > MAX_JSON_DEPTH:  # (told before parsing: how deep the parser goes
        # depends on the process's recursion limit, and no form sends that)
        raise BadInput("--json: nested too deep; nothing was written")
    try:
        data = json.loads(text, object_pairs_hook=_no_key_twice)
    except json.JSONDecodeError as exc:
        raise BadInput(f"--json: not JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:  # ([[[[… thousands deep: no form sends that)
        raise BadInput("--json: nested too deep; nothing was written") from None
    except _KeyTwice as exc:  # (JSON keeps the last silently: which one was meant?)
        why = f"the key {exc.args[0]!r} is given twice"
        raise BadInput(f"--json: {why}; nothing was written") from None
    except ValueError as exc:  # (a whole number of more digits than Python converts: 4300;
        # an ID that long is no form's: audit helper-470)
        if "integer string conversion" not in str(exc):
            raise
        raise BadInput("--json: a number has more digits than 4300; nothing was written") from None
    problem = _not_text(data)
    if problem is not None:
        raise BadInput(f"--json: {problem}; nothing was written")
    items = data if isinstance(data, list) else [data]
    config, now = session.config, session.now
    intakes = [_json_intake(n, item, config, now) for n, item in enumerate(items, 1)]
    workspace = session.workspace
    workspace.lock_timeout = lock_timeout  # (a ticket's lock too, as the sweep's)
    lines: list[str] = []
    notes: list[str] = []
    made = seen = left = 0
    with lock.hold(workspace.root / CACHE_DIR, lock_timeout, ACTOR):
        workspace.remove_stale_temporaries()  # (what killed processes left, as a sweep does)
        tickets, broken = workspace.tickets()
        notes += [str(problem) for problem in broken]  # (said, and exit 1, as by list)
        held = _Broken.of(workspace, broken)
        index = _Index.of(tickets)
        journal = _Journal(workspace)
        for external, intake in intakes:
            key = (intake.channel or "", external or "")
            if external is not None and key in index.external:
                lines.append(f"{external}: already taken ({index.external[key]})")
                seen += 1
                continue
            holder = None if external is None else held.holding_external(external)
            if holder is not None:  # (its ticket may be that one: never a second)
                why = f"it may belong to {holder}, whose file does not parse"
                lines.append(f"{external}: left for the next run ({why})")
                left += 1
                continue
            ticket = workspace.create(
                _builder(intake, config, now), intake.description, journal.will_write
            )
            _told_of_new(session, ticket)
            if external is not None:
                index.external[key] = ticket.id
            lines.append(f"{external or ticket.title}: new ticket {ticket.id}, team {ticket.team}")
            made += 1
    count = f"{_counted(len(intakes), 'item')}: {_counted(made, 'new ticket')}"
    lines.append(f"{count}, {seen} already taken" + (f", {left} left" if left else ""))
    notes += (session.merge_driver_warning() if made else []) + session.notified()
    # (each broken file is said, path:line:, as every command says it; but exit 1 only when
    # an item was left: a form's webhook that retries on a failure would send again the
    # items taken, and those without an external_id would be made twice, as --eml's MTA)
    return Output(text="\n".join(lines) + "\n", notes=notes, code=1 if left else 0)


def _counted(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _builder(
    intake: lifecycle.Intake, config: Config, now: dt.datetime
) -> Callable[[str], tuple[dict[str, object], list[Activity]]]:
    return lambda ticket_id: lifecycle.create(intake, ticket_id, config, now, ACTOR)


def _json_kind(value: object) -> str:
    """What a JSON value is, in JSON's words (not Python's ``NoneType``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "a value"


_LEFT_OUT_WHEN_EMPTY = ("customer", "channel", "category", "priority")


def _json_intake(
    n: int, item: object, config: Config, now: dt.datetime
) -> tuple[str | None, lifecycle.Intake]:
    if not isinstance(item, Mapping):
        raise BadInput(f"--json item {n}: expected an object, got {_json_kind(item)}")
    unknown = sorted(set(item) - set(JSON_KEYS))
    if unknown:
        raise BadInput(
            f"--json item {n}: unknown key {unknown[0]!r} (known: {', '.join(JSON_KEYS)})"
        )
    values: dict[str, str | None] = {}
    for key in JSON_KEYS:
        value = item.get(key)
        if (value is not None and not isinstance(value, (str, int))) or isinstance(value, bool):
            raise BadInput(f"--json item {n}: {key} must be a string")
        values[key] = None if value is None else str(value)
    for key in ("title", "customer"):  # (a chat's name wrapped in isolates: taken without
        # them, as from a mail, not the batch refused; review helper-482)
        given = values[key]
        values[key] = None if given is None else without_bidi_controls(given)
    for key in _LEFT_OUT_WHEN_EMPTY:  # (a form's field nobody filled in: as if left out)
        given = values[key]
        if given is not None and not given.strip():
            values[key] = None
    title = values["title"] or ""
    if shows_nothing(title):  # (lifecycle.create's own messages name --title)
        raise BadInput(f"--json item {n}: a ticket needs a title")
    problem = line_problem(title)
    if problem is not None:
        raise BadInput(f"--json item {n}: title must be one line of text, but {problem}")
    channel = (values["channel"] or "api").lower()  # (as `esc create --channel` takes it)
    if channel not in CHANNELS:
        raise BadInput(f"--json item {n}: channel must be one of {', '.join(CHANNELS)}")
    external = values["external_id"]
    if external is not None and not external.strip():
        raise BadInput(f"--json item {n}: external_id is empty (leave it out instead)")
    if external is not None:  # (a form that pads its ids: " 42 " is the item 42 is; and in
        # one Unicode form: `café-1` sent NFC and then NFD made two tickets, helper-424)
        external = one_form(external.strip())
    problem = None if external is None else line_problem(external)
    if problem is not None:
        raise BadInput(f"--json item {n}: external_id must be one line of text, but {problem}")
    intake = lifecycle.Intake(
        title=title,
        description=values["body"] or "",
        customer=values["customer"],
        channel=channel,
        category=query.in_its_case(config, "category", values["category"]),
        priority=query.in_its_case(config, "priority", values["priority"]),
        extra={mails.EXTERNAL_ID: external} if external is not None else {},
    )
    try:  # (the same checks as the write, before anything is written: its size too, under
        # an ID as long as the one it gets)
        like = f"{config.id_prefix}-00000000"
        front, activity = lifecycle.create(intake, like, config, now, ACTOR)
        document.render_new(front, intake.description, activity)
    except BadInput as exc:  # (lifecycle names the option of `esc create`: here, the key)
        said = re.sub(r"--(title|customer|category|priority|channel)\b", r"\1", str(exc))
        raise BadInput(f"--json item {n}: {said}") from None
    except TooLargeToRead as exc:
        raise BadInput(f"--json item {n}: {exc.message}") from None
    return external, intake


def _not_text(value: object) -> str | None:
    """Why a string in the JSON is no text a ticket file can hold, if one is not: a lone
    surrogate escape (``"\\ud800"``: not a character) or a NUL (``"\\u0000"``)."""
    if holds_lone_surrogate(value):
        return "a string holds a lone surrogate escape (such as \\ud800), which is no text"
    if any("\0" in text for text in texts_of(value)):
        return "a string holds a NUL character (\\u0000), which is no text"
    return None
