"""What every command needs (the workspace, the current time, who acts) and what every
command gives back (the text or JSON it prints, notes for stderr, its exit code)."""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from esc.domain.config import Config
from esc.domain.durations import wait_seconds
from esc.domain.errors import BadInput
from esc.domain.lifecycle import actor_name
from esc.domain.model import Change, Ticket
from esc.domain.timestamps import (
    RANGE_TEXT,
    coerce_timestamp,
    gives_offset,
    in_range,
    parse_local_timestamp,
    shared_zone,
)
from esc.report import views
from esc.store import git
from esc.store.workspace import DEFAULT_LOCK_TIMEOUT, Workspace, find_root, share_with_group

if TYPE_CHECKING:
    from esc.domain.customer_mail import Outgoing

MISSING_DRIVER = "esc: warning: this clone has no merge driver for tickets (run esc install-git)"


@dataclass
class Output:
    """What a command prints: ``text`` or ``data`` (as JSON) on stdout, each of ``notes``
    as a line on stderr, and the exit code.  Text and notes are for a person, and shown
    with their control characters escaped (:mod:`esc.report.terminal`), unless ``exact``:
    text for a program (JSON, CSV, HTML, XML), printed as it is, as ``data`` is."""

    text: str | None = None
    data: object = None
    items: Iterable[object] | None = None  # (as JSON) an array, streamed item by item
    notes: list[str] = field(default_factory=list)
    code: int = 0
    exact: bool = False


MailState = Literal["sent", "queued", "failed"]


@dataclass(frozen=True)
class MailSent:
    """What became of a mail to a customer (``comment --send``): sent; kept in the outbox
    for the next sweep to send (``queued``); or refused for good and never retried
    (``failed``)."""

    to: str
    state: MailState

    def said(self) -> str:
        """The end of the command's line: `T-…: reply added, sent to ADDRESS`."""
        how = {"sent": "sent", "queued": "not sent yet", "failed": "not sent"}[self.state]
        return f", {how} to {self.to}"

    def json(self) -> dict[str, str]:
        return {"to": self.to, "state": self.state}


@dataclass
class Session:
    """One run of esc: the global options, resolved when first needed."""

    root_option: str | None = None
    now_option: str | None = None
    now_name: str = "--now"  # (where now_option came from, as errors name it: or ESC_NOW)
    command: str = ""  # the command's name, for whoever waits for a lock it holds
    colour: bool = False  # colour the text output
    width: int = 120  # the terminal's width, for tables
    on_wait: Callable[[str], None] | None = None  # told when a lock is slow to come
    notify: bool = False  # --notify: send the notifications this command's change makes
    clock: Callable[[], dt.datetime] = field(default=lambda: resolve_now(None))  # no --now
    _workspace: Workspace | None = None
    _driver_checked: bool = False  # the merge driver warning is given at most once a run
    _notified: list[str] = field(default_factory=list)  # what --notify did, for stderr

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            root = find_root(Path.cwd(), self.root_option)
            share_with_group(root)  # (its group's to write, if its folder is)
            self._workspace = Workspace(
                root,
                lock_timeout=lock_timeout_setting(),
                holder=f"esc {self.command}".strip(),
                on_wait=self.on_wait,
            )
        return self._workspace

    @property
    def config(self) -> Config:
        return self.workspace.config()

    @functools.cached_property
    def now(self) -> dt.datetime:
        return resolve_now(self.now_option, self.now_name) if self.now_option else self.clock()

    @property
    def now_is_local(self) -> bool:
        """Whether ``now`` is this machine's local time: the clock, or a ``--now`` given
        without an offset (one that gives an offset is the same instant everywhere)."""
        return not self.now_option or not gives_offset(self.now_option)

    def update(
        self,
        ref: str,
        operation: Callable[[Ticket, Config, dt.datetime], Change],
        before_write: Callable[[Path, bytes], None] | None = None,
    ) -> Ticket:
        """Change one ticket under its lock (see :meth:`Workspace.update`).  On the clock
        (no --now), the change is made at the time the lock is held: a command that waited
        for another's write comes after it (its time read before the wait, in whole
        seconds, was refused as before that write).  A --now given is kept as it is."""
        config, now = self.config, self.now
        made: list[tuple[Ticket, Change]] = []  # (the last try is the one written)

        def change(ticket: Ticket) -> Change:
            when = now if self.now_option else max(now, self.clock())  # (the lock held)
            made.append((ticket, operation(ticket, config, when)))
            return made[-1][1]

        after = self.workspace.update(ref, change, before_write)
        if made and (self.notify or _before_last_sweep(*made[-1])):
            self.send_notifications(made[-1][0], after, made[-1][1], send=self.notify)
        return after

    def send_notifications(
        self, before: Ticket | None, after: Ticket, change: Change, send: bool = True
    ) -> None:
        """With --notify: queue the notifications ``change`` made (``before`` None: a new
        ticket) in the outbox and send what is due, as a sweep does; say what happened.
        ``send`` False: queue them alone, for the next sweep to send (a change recorded
        before the ticket's last sweep, which tells only what came after it)."""
        from esc.domain.notify import events_of
        from esc.domain.plan import sla_of
        from esc.store.outbox import Outbox, deliver, messages_of

        config, now = self.config, self.now
        if config.notify is None:
            if send:
                self._notified.append(
                    "esc: --notify: rules.yaml has no notify: section; nothing sent"
                )
            return
        if send and before is not None and _rules_due_before(after, config, now):
            # (a rule the sweeps missed acts before this change, as the next sweep replays
            # it: an escalation at a breach moved the ticket to another team; told here,
            # this change went to the team and people of the file as it was, and the sweep
            # told it again, the same event, to those who had the ticket then: audit
            # helper-469.  The sweep tells it, once, to them.)
            self._notified.append(
                f"esc: --notify: rules the sweeps missed act on {after.id} before this change;"
                " the next sweep tells of it with them"
            )
            return
        leads = {key: team.lead for key, team in config.teams.items()}
        due = sla_of(after, config, now).next_due()
        events = events_of(
            before, after, change, config.notify, leads, config.priorities, (), lambda _: due
        )
        if not events:
            return
        outbox = Outbox(self.workspace.root)
        messages = messages_of(events, now)
        outbox.queue(messages)
        if not send:
            return
        # its own messages only, and only if no other process is sending (no wait)
        delivery = deliver(outbox, config.notify, now, only=[m.key for m in messages],
                           who=f"esc {self.command}".strip())  # fmt: skip
        if delivery.sent:
            self._notified.append(f"esc: notified: {len(delivery.sent)} sent")
        self._notified += [
            f"esc: notify failed: {m.describe()}: {m.error} ({m.what_next()})"
            for m in delivery.failed
        ]
        if (busy := delivery.busy_note()) is not None:
            self._notified.append(f"esc: {busy}")
        if (held := delivery.held_note()) is not None:
            self._notified.append(f"esc: {held}")

    def queue_to_customer(self, mail: Outgoing, target: str, queued: list[str]) -> None:
        """Queue ``mail`` in the outbox before the change that sends it is written (a
        command stopped just after its write left a reply recorded and never sent: nothing
        retried it), in place of what ``queued`` holds, an earlier try's (the file changed
        before that write: tried again); ``queued`` then holds its key.  See
        :meth:`forget_queued` if the write fails, :meth:`send_to_customer` once written."""
        from esc.store.outbox import Outbox, customer_message

        message = customer_message(mail, target, self.now)
        if queued == [message.key]:
            return
        outbox = Outbox(self.workspace.root)
        outbox.discard(queued)
        queued[:] = [message.key]
        outbox.queue([message])

    def forget_queued(self, queued: list[str]) -> None:
        """The change :meth:`queue_to_customer` queued mail for was not written: no mail."""
        from esc.store.outbox import Outbox

        Outbox(self.workspace.root).discard(queued)

    def send_to_customer(self, mail: Outgoing, target: str) -> MailSent:
        """Send ``mail``, queued in the outbox (:meth:`queue_to_customer`); what became of
        it (a failure is a note on stderr; the next sweep retries it unless refused for
        good)."""
        from esc.store.outbox import Outbox, customer_message, deliver

        message = customer_message(mail, target, self.now)
        outbox = Outbox(self.workspace.root)
        delivery = deliver(outbox, self.config.notify, self.now, only=[message.key],
                           who=f"esc {self.command}".strip())  # fmt: skip
        failed = [m for m in delivery.failed if m.key == message.key]
        if failed:
            kept = "kept in the outbox; " if failed[0].status == "pending" else ""
            self._notified.append(
                f"esc: sending the {mail.kind} to {mail.to} failed: {failed[0].error} "
                f"({kept}{failed[0].what_next()})"
            )
            return MailSent(mail.to, "queued" if kept else "failed")
        if (busy := delivery.busy_note()) is not None:
            self._notified.append(f"esc: {busy}")
            return MailSent(mail.to, "queued")
        if not any(m.key == message.key for m in delivery.sent):
            if outbox.sent_path(message.key).exists():  # (a sweep sent it meanwhile)
                return MailSent(mail.to, "sent")
            if (held := delivery.held_note()) is not None:
                self._notified.append(f"esc: {held}")
            return MailSent(mail.to, "queued")  # (left for the sweep)
        return MailSent(mail.to, "sent")

    def notified(self) -> list[str]:
        """What --notify did (lines for stderr), once: then an empty list."""
        notes, self._notified = self._notified, []
        return notes

    def ticket_output(
        self, ticket: Ticket, as_json: bool, line: str, more: Mapping[str, Any] | None = None
    ) -> Output:
        """A changed ticket as a command reports it: one line, or the ticket as JSON (with
        ``more``'s keys after its own: what the command did besides, said in the line)."""
        notes = self.merge_driver_warning() + self.notified()
        if as_json:  # (as `show --json` has it: its SLA now, not the block last written)
            from esc.domain.plan import sla_of  # (only for --json: the plan's imports)

            sla = sla_of(ticket, self.config, self.now)
            data = views.ticket_json(ticket, self.config, full=True, sla=sla)
            return Output(data={**data, **(more or {})}, notes=notes)
        return Output(text=line + "\n", notes=notes)

    def merge_driver_warning(self) -> list[str]:
        """For a command that wrote a ticket: the one-line warning that this clone would
        merge tickets as plain text (its .gitattributes names esc's driver, its git config
        has none); given once a run, then an empty list."""
        if self._driver_checked:
            return []
        self._driver_checked = True
        from esc.store import merge_driver  # (only commands that wrote a ticket need it)

        trouble = merge_driver.driver_trouble(self.workspace.root)
        if trouble is None:
            return []
        what, program = trouble
        if what == "missing":
            return [MISSING_DRIVER]
        return [
            f"esc: warning: this clone's merge driver runs {program}, which no longer exists:"
            " a ticket changed on both sides would be left with one side alone (run esc"
            " install-git)"
        ]


def resolve_now(option: str | None, name: str = "--now") -> dt.datetime:
    """The current time: the --now / ESC_NOW value if given (``name``: which, as an error
    says it), else the clock in local time.

    Its time zone is the shared object of its offset, as are those of the times read
    from ticket files and the cache (:func:`esc.domain.timestamps.shared_zone`).
    """
    if option:
        moment = parse_local_timestamp(option, what=name)  # (no offset: local time)
        if not in_range(moment):
            raise BadInput(f"{name} {option!r} is {RANGE_TEXT}")
        offset = moment.utcoffset()
        if offset is not None and offset.seconds % 60:
            raise BadInput(f"{name} {option!r}: its UTC offset must be whole minutes (+01:00)")
        moment = moment.replace(microsecond=0)  # (esc's times are whole seconds, as the clock's)
    else:
        moment = dt.datetime.now().astimezone().replace(microsecond=0)
    return shared_zone(moment)


def _rules_due_before(ticket: Ticket, config: Config, now: dt.datetime) -> bool:
    """Whether a sweep at ``now`` makes a rule act on ``ticket`` at an instant before its
    last update (a breach the sweeps missed, replayed)."""
    from esc.domain.plan import plan  # (only for --notify)

    return any(at < ticket.updated for _, at in plan(ticket, config, now).firings)


def _before_last_sweep(before: Ticket, change: Change) -> bool:
    """Whether ``change`` to ``before`` is recorded at or before the time its last sweep
    checked it (a call noted after the fact, a clock behind the cron host's): that sweep
    told what people did until then, and the next tells what comes after it, so the
    command queues what it makes itself (the same events a sweep makes: kept once)."""
    block = before.extra.get("sla")
    checked = coerce_timestamp(block.get("checked")) if isinstance(block, Mapping) else None
    return checked is not None and any(a.at <= checked for a in change.activity)


def whoami(given: str | None) -> str:
    """Who acts: ``given`` (--by), else ESC_USER, else git's user.name, else the login.
    A name that cannot be written as one is refused (BadInput), never changed: empty, more
    than one line, a control character, `` · `` (which separates the parts of a log line),
    or esc's own; from git or the login too, saying where it came from and how to give
    another."""
    if given is not None:
        return actor_name(given, "--by")
    if os.environ.get("ESC_USER"):
        return actor_name(os.environ["ESC_USER"], "ESC_USER")
    try:
        name = git.output(Path.cwd(), "config", "user.name", timeout=5).strip()
    except git.GitError:
        name = ""
    where = "git config user.name" if name else "the login name"
    try:
        return actor_name(name or getpass.getuser(), where)
    except BadInput as exc:
        raise BadInput(f"{exc}; give another with --by NAME or ESC_USER") from None


def lock_timeout_setting() -> float:
    """How long a command waits for a ticket another esc process is writing (ESC_LOCK_TIMEOUT)."""
    value = os.environ.get("ESC_LOCK_TIMEOUT", "").strip()
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    seconds = wait_seconds(value)
    if seconds is None:
        raise BadInput(f"ESC_LOCK_TIMEOUT={value!r}: give a number of seconds, 0 to 86400 (a day)")
    return seconds
