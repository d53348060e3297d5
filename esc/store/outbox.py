"""The outbox: one file per message (an event for one target) in ``.esc-cache/outbox/``,
and sending them with apprise (imported only when there is something to send).

A message is written ``pending`` before it is sent and ``sent`` after, each write atomic,
so a crash between the two sends it again (the event id lets a receiver drop the repeat)
and never loses it.  A failed send is retried by a later sweep after a backoff that
doubles (5 minutes, 10, 20, … up to 6 hours); after ``FAILING_AFTER`` failures the
message is reported by `esc check` and `esc doctor`, and still retried.

Sending is exclusive: a process sends only while it holds the outbox lock
(``.esc-cache/outbox.lock``), and reads what is due once it holds it, so a message being
sent by one process (a sweep, a command given ``--notify``) is never sent by another.  A
sweep waits a while for the lock; a command sending its own messages does not wait, and
leaves them queued for the holder or the next sweep (see :func:`deliver`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args
from urllib.parse import unquote, urlsplit

from esc.domain.customer_mail import CustomerMailKind, Outgoing, is_address
from esc.domain.errors import BadInput, escape_surrogates
from esc.domain.mail import ascii_address
from esc.domain.notify import (
    Event,
    EventKind,
    Notify,
    digest_id,
    expand,
    held_for_quiet,
    quiet_until,
    variable_problem,
)
from esc.domain.timestamps import format_timestamp, parse_timestamp
from esc.store import lock
from esc.store.atomic import atomic_write

OUTBOX_DIR = Path(".esc-cache") / "outbox"
PUSH_HOLD = Path(".esc-cache") / "outbox-push-hold.json"  # what waits for a failed push
OUTBOX_LOCK = Path(".esc-cache") / lock.OUTBOX_LOCK  # held by the one process sending
DELIVERY_WAIT = 60.0  # seconds a sweep waits for another process to finish sending
FAILING_AFTER = 5
FIRST_BACKOFF = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=6)
MAX_ATTEMPTS = 10**6  # (a message retried every 6 hours for 680 years)
Status = Literal["pending", "sent", "refused"]  # refused: for good, never retried
SENT_KEPT = dt.timedelta(days=30)  # a sent message, kept so that its event is not queued again


@dataclass
class Message:
    """One event for one target, as the outbox keeps it."""

    event: str  # the event id
    target: str
    ticket_id: str
    kind: EventKind | CustomerMailKind
    title: str  # the subject line
    body: str
    queued: dt.datetime
    status: Status = "pending"
    attempts: int = 0
    next_try: dt.datetime | None = None
    sent: dt.datetime | None = None
    error: str = ""
    to: str = ""  # mail to a customer: their address (the target's URL says how to send)
    headers: dict[str, str] = field(default_factory=dict)  # mail headers esc sets
    happened: dt.datetime | None = None  # when its event happened (messages go in that order)
    urgent: bool = False  # never held for its target's quiet hours (Event.urgent)
    # its event's place among those one command or sweep made at once: of two that happened
    # at one instant (a breach and the escalation it made), the first made goes first
    order: int = 0

    @property
    def key(self) -> str:
        return message_key(self.event, self.target)

    @property
    def failing(self) -> bool:
        return self.status == "pending" and self.attempts >= FAILING_AFTER

    def what_next(self) -> str:
        """What becomes of it after a failure, for the line that says so."""
        if self.status == "refused":
            return "refused for good: not retried; write to them another way"
        return "the next sweep retries"

    def describe(self) -> str:
        """The message in a line about it: ``T-x escalated support → engineering
        (hierarchical) to eng-chat`` (a notification: its subject), ``T-x reply to
        customers`` (mail to a customer: its kind), so two of one ticket and target differ."""
        esc_subject = f"[esc] {self.ticket_id} "
        if self.title.startswith(esc_subject):
            what = self.title.removeprefix("[esc] ")
        else:
            what = f"{self.ticket_id} {self.kind.replace('_', ' ')}"
        return f"{what} to {self.target}"

    def as_json(self) -> dict[str, Any]:
        when = {"queued", "next_try", "sent", "happened"}
        return {
            k: (format_timestamp(v) if k in when and v is not None else v)
            for k, v in vars(self).items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        """The message a file holds; ValueError (or KeyError, TypeError) if it holds none
        esc wrote: a time without its UTC offset, a count that is no count (a hand edit)
        made every sweep, check and doctor fail."""
        try:
            return cls._from_json(data)
        except BadInput as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def _from_json(cls, data: Mapping[str, Any]) -> Message:
        attempts = data.get("attempts", 0)
        if type(attempts) is not int or not 0 <= attempts <= MAX_ATTEMPTS:
            raise ValueError(f"attempts {attempts!r} is no count of tries")
        times = {
            k: parse_timestamp(data[k]) if data.get(k) else None
            for k in ("next_try", "sent", "happened")
        }
        return cls(
            event=str(data["event"]),
            target=str(data["target"]),
            ticket_id=str(data["ticket_id"]),
            kind=cast("EventKind | CustomerMailKind", str(data["kind"])),  # (esc wrote it)
            title=str(data["title"]),
            body=str(data["body"]),
            queued=parse_timestamp(data["queued"]),
            status=cast(Status, data["status"]) if data.get("status") in get_args(Status)
            else "pending",
            attempts=attempts,
            error=str(data.get("error", "")),
            to=str(data.get("to", "")),
            headers={str(k): str(v) for k, v in dict(data.get("headers") or {}).items()},
            urgent=data.get("urgent") is True,
            order=order if type(order := data.get("order")) is int else 0,
            **times,
        )


def _sending_order(message: Message) -> tuple[dt.datetime, dt.datetime, int, str]:
    """Messages go in the order things happened; of one instant, in the order they were
    made (a breach before the escalation it made)."""
    return (message.happened or message.queued, message.queued, message.order, message.key)


def message_key(event: str, target: str) -> str:
    """The key of the message of ``event`` to ``target``: its file's name in the outbox."""
    return f"{event}-{target}"


def messages_of(events: Sequence[Event], now: dt.datetime) -> list[Message]:
    return [
        Message(
            e.id,
            t,
            e.ticket_id,
            e.kind,
            e.subject(),
            e.body(),
            now,
            happened=e.at,
            urgent=e.urgent,
            order=n,
        )
        for n, e in enumerate(events)
        for t in e.targets
    ]


def customer_message(mail: Outgoing, target: str, now: dt.datetime) -> Message:
    """A message to a customer (:mod:`esc.domain.customer_mail`), sent through ``target``."""
    return Message(
        mail.event, target, mail.ticket_id, mail.kind, mail.subject, mail.body, now,
        to=mail.to, headers=dict(mail.headers),
    )  # fmt: skip


class Outbox:
    """The messages to send, one file each in ``.esc-cache/outbox/``; once sent, a message
    moves to ``outbox/sent/``, where it is only ever looked up by its key (is this event
    for this target sent?), never read: the messages to send are read on every sweep,
    check and doctor, and a year of sent ones made those slow."""

    def __init__(self, root: Path) -> None:
        self.folder = root / OUTBOX_DIR
        self.sent_folder = self.folder / "sent"
        self.lock_path = root / OUTBOX_LOCK

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def sent_path(self, key: str) -> Path:
        return self.sent_folder / f"{key}.json"

    def queue(self, messages: Sequence[Message]) -> list[str]:
        """Keep each message not kept yet (one already there, pending or sent, stays as it
        is: the same event made again is not sent again); the keys of the new ones.  All
        or none: if one cannot be written (a full disk), those kept before it are removed
        again, so no message stays for a change its caller then does not write."""
        new: list[str] = []
        try:
            for message in messages:
                path = self.path(message.key)
                if self.kept(message.key):
                    continue
                self.folder.mkdir(parents=True, exist_ok=True)
                try:
                    atomic_write(path, _dump(message), exclusive=True)
                except FileExistsError:
                    continue
                new.append(message.key)
        except BaseException:
            self.discard(new)
            raise
        return new

    def kept(self, key: str) -> bool:
        """Whether the message of ``key`` is kept already: pending, or sent."""
        return self.path(key).exists() or self.sent_path(key).exists()

    def discard(self, keys: Sequence[str]) -> None:
        """Forget messages queued for a change that was not written after all."""
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    def discard_pending(self, keys: Sequence[str]) -> None:
        """Forget the messages of ``keys`` not sent yet."""
        for message in self.all():
            if message.key in keys and message.status == "pending":
                self.path(message.key).unlink(missing_ok=True)

    def hold_for_push(self, remote: str, branch: str, keys: Sequence[str]) -> None:
        """Keep the messages of ``keys`` for the push of ``remote``/``branch`` that failed:
        a sweep that does not push leaves them queued (:meth:`held_for_push`)."""
        data = {"remote": remote, "branch": branch, "keys": sorted(set(keys))}
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.hold_path, (json.dumps(data, indent=1) + "\n").encode())

    def held_for_push(self) -> tuple[str, str, frozenset[str]] | None:
        """(remote, branch, keys) of :meth:`hold_for_push`; None without (or with a file
        that is not one: then nothing is held)."""
        try:
            data = json.loads(self.hold_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        remote, branch, keys = data.get("remote"), data.get("branch"), data.get("keys")
        if not (isinstance(remote, str) and isinstance(branch, str) and isinstance(keys, list)):
            return None
        return remote, branch, frozenset(k for k in keys if isinstance(k, str))

    def release_push_hold(self) -> None:
        """The push went: nothing waits for it any longer."""
        self.hold_path.unlink(missing_ok=True)

    @property
    def hold_path(self) -> Path:
        return self.folder.parent / PUSH_HOLD.name

    def save(self, message: Message) -> None:
        """Keep ``message`` as it now is: a sent one moves to ``sent/`` (written there
        first: a crash in between leaves it in both, and :meth:`all` moves it then)."""
        if message.status != "sent":
            atomic_write(self.path(message.key), _dump(message))
            return
        self.sent_folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.sent_path(message.key), _dump(message))
        self.path(message.key).unlink(missing_ok=True)

    def prune_sent(self, now: dt.datetime) -> int:
        """Remove the messages sent more than :data:`SENT_KEPT` before ``now``; how many.

        A sent message is kept only so that its event, made again, is not queued again; a
        sweep makes events only for what changed since the ticket's last sweep, so after
        weeks none comes back.  ``sent/`` is looked through at most once a day (``.pruned``
        holds the day of ``now`` last looked at): a sweep every few minutes reads a
        month of sent messages daily, not every time."""
        marker = self.sent_folder / ".pruned"
        day = now.date().isoformat()
        try:
            if marker.read_text(encoding="utf-8").strip() == day:
                return 0
        except (OSError, ValueError):  # (none yet, or not esc's: looked through again)
            pass
        if not self.sent_folder.is_dir():
            return 0
        removed = 0
        for path in self.sent_folder.glob("*.json"):
            try:
                message = Message.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
                continue  # (a foreign file: not esc's to remove)
            if message.sent is not None and message.sent < now - SENT_KEPT:
                path.unlink(missing_ok=True)
                removed += 1
        atomic_write(marker, day + "\n")
        return removed

    def all(self) -> list[Message]:
        """The messages not sent yet (see :meth:`read`)."""
        return self.read()[0]

    def read(self) -> tuple[list[Message], list[tuple[Path, str]]]:
        """The messages not sent yet, and the files of such messages that cannot be read
        (a hand edit, a damaged disk: esc's writes are atomic), each with why: passed by,
        they are never sent, and check and doctor say so.  A sent one found here, as an
        older esc kept it, is moved to ``sent/``; a copy left here by a process stopped
        between writing it to ``sent/`` and removing it here is removed: it went."""
        if not self.folder.is_dir():
            return [], []
        out = []
        unreadable: list[tuple[Path, str]] = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                message = Message.from_json(json.loads(path.read_text(encoding="utf-8")))
            except OSError as exc:
                unreadable.append((path, exc.strerror or "unreadable"))
                continue
            except UnicodeDecodeError:
                unreadable.append((path, "not UTF-8 text"))
                continue
            except json.JSONDecodeError:
                unreadable.append((path, "not JSON"))
                continue
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                unreadable.append((path, "not a message esc wrote"))  # (`[]`: no object)
                continue
            if message.status == "sent":
                self.sent_folder.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileNotFoundError):  # (another process moved it)
                    os.replace(path, self.sent_path(message.key))
                continue
            if self.sent_path(message.key).exists():
                path.unlink(missing_ok=True)
                continue
            out.append(message)
        return sorted(out, key=lambda m: (m.queued, m.key)), unreadable

    def unreadable(self) -> list[tuple[Path, str]]:
        """The files of messages not sent yet that cannot be read (see :meth:`read`)."""
        return self.read()[1]

    def due(self, now: dt.datetime) -> list[Message]:
        """The messages to send now, in the order their events happened (five escalations
        of one ticket between two sweeps reach a chat as they were made)."""
        due = [
            m
            for m in self.all()
            if m.status == "pending" and (m.next_try is None or m.next_try <= now)
        ]
        return sorted(due, key=_sending_order)

    def failing(self) -> list[Message]:
        return [m for m in self.all() if m.failing]


def _dump(message: Message) -> str:
    return json.dumps(message.as_json(), indent=1, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class SentDigest:
    """The messages quiet hours held for one target, sent as one: its own event id, and the
    keys of the messages it carried."""

    target: str
    event: str
    keys: tuple[str, ...]


@dataclass
class Delivery:
    sent: list[Message]
    failed: list[Message]
    busy: str = ""  # who held the outbox lock, when the messages due were left to them
    left: list[Message] = field(default_factory=list)  # those left queued (busy)
    held: list[Message] = field(default_factory=list)  # untried: their target failed just now
    quiet: list[Message] = field(default_factory=list)  # waiting for their target's hours
    dropped: list[Message] = field(default_factory=list)  # to a target rules.yaml lost
    digests: list[SentDigest] = field(default_factory=list)  # each digest sent
    # a command's own, left queued: an earlier message to their target waits for its retry
    behind: list[Message] = field(default_factory=list)

    def busy_note(self) -> str | None:
        """The line saying that the messages due were left queued, if they were."""
        if not self.busy:
            return None
        count = len(self.left)
        # (a sweep sends all that is due; a command, its own messages only)
        who = "it or the next sweep sends them" if "sweep" in self.busy else None
        who = who or "the next sweep sends them"
        return (f"notify: {count} message{'s' if count != 1 else ''} left queued: {self.busy} "
                f"is sending notifications ({who})")  # fmt: skip

    def held_note(self) -> str | None:
        """The line saying which messages were not tried because their target had just
        failed, or is in its quiet hours, if any were."""
        notes = []
        if self.dropped:
            targets = ", ".join(dict.fromkeys(m.target for m in self.dropped))
            count = len(self.dropped)
            notes.append(f"{count} message{'s' if count != 1 else ''} to {targets} dropped: "
                         "no such target in rules.yaml any more")  # fmt: skip
        if self.held:
            named = list(dict.fromkeys(m.target for m in self.held))
            its = "its" if len(named) == 1 else "their"
            count = len(self.held)
            notes.append(f"{count} more message{'s' if count != 1 else ''} to {', '.join(named)} "
                         f"not tried after {its} failure (tried after what failed, when it is"
                         " retried)")  # fmt: skip
        if self.behind:
            named = list(dict.fromkeys(m.target for m in self.behind))
            count = len(self.behind)
            notes.append(f"{count} message{'s' if count != 1 else ''} to {', '.join(named)} left "
                         "queued behind an earlier one waiting for its retry (the next sweep "
                         "sends them in order)")  # fmt: skip
        if self.quiet:
            named = list(dict.fromkeys(m.target for m in self.quiet))
            its, hour = ("its", "hour") if len(named) == 1 else ("their", "hours")
            count = len(self.quiet)
            notes.append(f"{count} message{'s' if count != 1 else ''} to {', '.join(named)} held "
                         f"for {its} quiet hours (sent together at {its} next working "
                         f"{hour})")  # fmt: skip
        return "notify: " + "; ".join(notes) if notes else None


def deliver(
    outbox: Outbox,
    notify: Notify | None,
    now: dt.datetime,
    env: Mapping[str, str] | None = None,
    only: Collection[str] | None = None,
    wait: float | None = None,
    who: str = "esc",
    keep: Collection[str] = (),
) -> Delivery:
    """Send every message that is due (with ``only``, those of these keys: a command's
    own; never those of ``keep``, left queued); a failure is recorded with its backoff,
    never raised.

    Under the outbox lock, so no message is sent by two processes: what is due is read
    once it is held, and read again before letting go (a message queued meanwhile, by a
    command that found the lock held, goes too).  ``wait``: how long to wait for a process
    sending now (default: :data:`DELIVERY_WAIT` for a sweep, none with ``only``); if it
    does not let go in time, nothing is sent and the messages due are left queued for it or
    the next sweep (``busy``, ``left``).  A process stopped between a send and its record
    leaves the message pending, and the next delivery sends it again (at least once)."""
    result = Delivery([], [])
    up: set[str] = set()  # the targets a message went to in this delivery

    def gone(target: str) -> bool:
        return notify is None or target not in notify.targets

    def waits(message: Message) -> bool:  # (for its target's working hours: not sent now)
        return made_in_quiet_hours(notify, message) and waits_for_working_hours(
            notify, message, now
        )

    def due() -> list[Message]:
        ready = outbox.due(now)
        if only is None:  # (a target sent news now: what waits for its backoff is tried
            # first, in the order things happened: a warning that failed went after the
            # breach that followed it, audit helper-469; and once the target answers, all
            # of it goes: an urgent page that failed while the target was down no longer
            # waits hours behind the news that came after it.  And what waits for a target
            # rules.yaml no longer has is dropped now, said so, not once its backoff ends:
            # a `notify:` section put back weeks later sent it, stale, and check said
            # nothing of it meanwhile: audit helper-411)
            news = [m for m in ready if m.key not in keep and not waits(m)]
            calling = {m.target for m in news}
            writing = {(m.target, m.to) for m in news if m.to}  # (mail: to each customer)
            waiting = [
                m for m in outbox.all()
                if m.status == "pending"
                and (m.target in up or gone(m.target) or (m.target in calling and _pulled(m))
                     or ((m.target, m.to) in writing and m.attempts <= FAILING_AFTER))
            ]  # fmt: skip
            ready = sorted({m.key: m for m in [*ready, *waiting]}.values(), key=_sending_order)
        return [m for m in ready if (only is None or m.key in only) and m.key not in keep]

    if not due():  # (nothing to send: no lock taken, apprise not imported)
        return result
    patience = wait if wait is not None else (DELIVERY_WAIT if only is None else 0.0)
    with lock.hold_if_free(outbox.lock_path, patience, who) as holder:
        if holder is not None:
            result.busy, result.left = holder, due()
            return result
        tried: set[str] = set()
        # (a command's own messages, `only`, to a target an earlier message to which waits
        # for its retry: left for the sweep, which sends both in order; sent now, they went
        # before it: review helper-484)
        waited_on: dict[str, tuple[dt.datetime, dt.datetime, int, str]] = {}
        if only is not None:  # (due or not, tried or not: review helper-485)
            for m in outbox.all():
                if m.status == "pending" and m.key not in only and _pulled(m) and not waits(m):
                    known, place = waited_on.get(m.target), _sending_order(m)
                    waited_on[m.target] = place if known is None else min(known, place)

        def behind(message: Message) -> bool:
            """Whether a command's own ``message`` comes after a notification to its target
            not yet sent (never a customer's mail: not in the notifications' order)."""
            earliest = waited_on.get(message.target)
            return not message.to and earliest is not None and earliest < _sending_order(message)

        down: dict[str, dt.datetime | None] = {}  # the targets that failed, and when again
        failed: set[str] = set()  # the targets a message failed to in this delivery

        def takes_down(target: str, messages: Sequence[Message]) -> bool:
            """Whether ``messages``, which just failed, say their target is down: unless
            each has failed more than :data:`FAILING_AFTER` times (then `check` and `doctor`
            name it, and it may be the message the service refuses, a 400, a 552, the
            target up: the news after it is tried, so that one such message does not hold
            it all back for ever; review helper-483); a second failure in one delivery
            always does (a target down costs two calls a delivery at most)."""
            again = target in failed
            failed.add(target)
            return again or any(m.attempts <= FAILING_AFTER for m in messages)

        def hold(messages: list[Message]) -> None:
            """Leave ``messages`` untried, their target down: they wait with what failed,
            to be tried after it when it is (never due before it: each sweep would call the
            target again for them, and take the failed message along, its backoff undone;
            review helper-480)."""
            result.held.extend(messages)
            again = down.get(messages[0].target)
            for message in messages:
                if message.to:  # (mail to a customer: the next delivery tries it, as ever;
                    continue  # one customer's refused address holds back no other's)
                if again is not None and (message.next_try is None or message.next_try < again):
                    message.next_try = again
                    outbox.save(message)

        while batch := [m for m in due() if m.key not in tried]:
            # (made in a target's quiet hours, its working hours since begun: gathered in one
            # digest, which goes before any later news to its target, in the order things
            # happened: a ticket's escalation was told before the ticket's creation the night
            # before, audit helper-441)
            gathered: dict[str, list[Message]] = {}
            first: dict[str, int] = {}  # (where each target's first such message is)
            for n, message in enumerate(batch):
                if (
                    not gone(message.target)
                    and not behind(message)
                    and made_in_quiet_hours(notify, message)
                    and not waits_for_working_hours(notify, message, now)
                ):
                    gathered.setdefault(message.target, []).append(message)
                    first.setdefault(message.target, n)
            in_digests = {m.key for messages in gathered.values() for m in messages}

            def digest(target: str, gathered: dict[str, list[Message]] = gathered) -> None:
                messages = gathered.pop(target, None)
                if messages is None:
                    return
                if target in down:
                    hold(messages)
                elif (
                    error := _deliver_digest(outbox, notify, target, messages, now, env, result)
                ) is None:
                    up.add(target)
                elif not isinstance(error, MessageRefused) and takes_down(target, messages):
                    down[target] = messages[0].next_try  # (as below)

            for n, message in enumerate(batch):
                tried.add(message.key)
                target = message.target
                if gone(target):
                    outbox.discard([message.key])  # (its target was taken out of rules.yaml:
                    result.dropped.append(message)  # it would fail, and be retried, for ever)
                    continue
                if behind(message):
                    result.behind.append(message)
                    continue
                if message.key in in_digests:
                    continue  # (the digest goes when later news to its target does, or last)
                if first.get(target, n) < n:  # (its first message came before this one: the
                    digest(target)  # batch is in the order things happened)
                if target in down:  # (a target that hangs costs its timeout once a
                    hold([message])  # delivery, not once a message: the rest wait for the
                    continue  # failed one's retry, untried and not counted as failed)
                if made_in_quiet_hours(notify, message):
                    result.quiet.append(message)  # (its next working hours not come: waits)
                elif (error := _deliver_one(outbox, notify, message, now, env, result)) is None:
                    up.add(target)
                elif not isinstance(error, MessageRefused) and takes_down(target, [message]):
                    down[target] = message.next_try  # (not this message's own fault, nor
                    # one that keeps failing: then the others to its target are still tried)
            for target in list(gathered):
                digest(target)
    return result


def _pulled(message: Message) -> bool:
    """Whether ``message``, waiting for its backoff, is tried first when its target has
    news: a notification (the order things happened in is the target's; a customer's mail
    goes in its own order, and one customer's refused address holds back no other's) that
    has not failed more than :data:`FAILING_AFTER` times (one that keeps failing waits for
    its own retry: a long outage called the target once for each, every sweep with news;
    review helper-484)."""
    return not message.to and message.attempts <= FAILING_AFTER


def made_in_quiet_hours(notify: Notify | None, message: Message) -> bool:
    """Whether ``message`` tells of something that happened in its target's quiet hours
    (by when it happened, not when a sweep queued it: a sweep after a night's gap gathers
    what hourly sweeps would, and news of working hours that a late sweep finds goes at
    once, as a sweep then would have sent it, never held to go alone the next morning)."""
    when = message.happened or message.queued
    return held_for_quiet(notify, message.target, message.kind, when, message.urgent)


def waits_for_working_hours(notify: Notify | None, message: Message, now: dt.datetime) -> bool:
    """Whether ``message`` (made in its target's quiet hours) still waits at ``now``: its
    target's next working hours after it have not begun (once they have, a sweep at any
    hour sends it, gathered with the others: one that runs only at night does too)."""
    when = message.happened or message.queued
    until = quiet_until(notify, message.target, message.kind, when, message.urgent)
    return until is not None and now < until


def digest_title(target: str, count: int) -> str:
    """The subject of the one message that carries ``count`` made in quiet hours."""
    return f"[esc] {count} notifications from {target}'s quiet hours"


def _deliver_digest(
    outbox: Outbox,
    notify: Notify | None,
    target: str,
    messages: list[Message],
    now: dt.datetime,
    env: Mapping[str, str] | None,
    result: Delivery,
) -> str | None:
    """The messages made in ``target``'s quiet hours, sent as one at its next working hour
    (one alone goes as it is); None if it went, else why not.  Each is recorded as its own
    message was."""
    if len(messages) == 1:
        return _deliver_one(outbox, notify, messages[0], now, env, result)
    title = digest_title(target, len(messages))
    body = "\n\n---\n\n".join(m.body for m in messages)
    # (its own event id, made of theirs: a digest sent again after a crash has the same,
    # so a receiver can drop it as it drops a repeated message)
    digest = digest_id([m.event for m in messages])
    error = send(notify, target, title, f"{body}\n\nevent {digest}", env, event=digest)
    for message in messages:
        _record(outbox, message, error, now, result)
    if error is None:
        result.digests.append(SentDigest(target, digest, tuple(m.key for m in messages)))
    return error


def _deliver_one(
    outbox: Outbox,
    notify: Notify | None,
    message: Message,
    now: dt.datetime,
    env: Mapping[str, str] | None,
    result: Delivery,
) -> str | None:
    """Send ``message`` and record what became of it; None if it went, else why not."""
    error = send(
        notify, message.target, message.title, message.body, env, message.to, message.headers,
        event="" if message.to else message.event,
    )  # fmt: skip
    _record(outbox, message, error, now, result)
    return error


class MessageRefused(str):
    """Why a message did not go that is of the message alone, not of its target (no one
    address to send it to, apprise cannot use the mail URL addressed to its customer, or
    fails on what it is given): the other messages to the target are still tried, where a
    target that failed waits for the next delivery.  (A customer's Message-ID that failed
    every time held every other customer's mail behind it.)"""


class Undeliverable(MessageRefused):
    """A :class:`MessageRefused` that no retry can mend: the customer's address is none,
    or one apprise cannot send to as written, or the mail server refused it for good (a
    5xx reply to its RCPT).  Kept as ``refused`` and never tried again: each retry of one
    refused while the target's ``cc=``/``bcc=`` archive took it sent the archive another
    copy, for ever."""


def _record(
    outbox: Outbox, message: Message, error: str | None, now: dt.datetime, result: Delivery
) -> None:
    """What became of ``message`` (``error``: None if it went), kept in the outbox."""
    if error is None:
        message.status, message.sent, message.error = "sent", now, ""
        result.sent.append(message)
    elif isinstance(error, Undeliverable):
        message.status, message.next_try, message.error = "refused", None, error
        message.attempts += 1
        result.failed.append(message)
    else:
        message.attempts += 1
        message.error = error
        doublings = min(message.attempts - 1, 16)  # (2**16 × 5 minutes is past the cap)
        message.next_try = now + min(FIRST_BACKOFF * 2**doublings, MAX_BACKOFF)
        result.failed.append(message)
    outbox.save(message)


def send(
    notify: Notify | None,
    target: str,
    title: str,
    body: str,
    env: Mapping[str, str] | None = None,
    to: str = "",
    headers: Mapping[str, str] | None = None,
    event: str = "",
) -> str | None:
    """Send one message to ``target``; None if it went, else why not (never the URL).
    With ``to`` (mail to a customer), the target's mail URL is addressed to ``to`` alone,
    with ``headers`` added (see :func:`addressed`).  ``event``: the id of the event it
    tells of, which a receiver can read apart from the text (:func:`with_event`)."""
    found = notify.targets.get(target) if notify is not None else None
    if found is None:
        return f"no notify target {target!r} in rules.yaml"
    try:
        url = expand(found.url, os.environ if env is None else env)
    except KeyError as exc:
        name = exc.args[0]
        why = variable_problem((os.environ if env is None else env).get(name))
        return f"the environment variable {name} {why or 'is not set'}"
    if to and not is_address(to):  # (a list, or a name: apprise would send to each)
        return Undeliverable(f"target {target}: {escape_surrogates(to)!r} is no e-mail address")
    if to:
        to = ascii_address(to)  # (a domain of other letters, as DNS has it: helper-437)
        url = addressed(url, to, headers or {})
    elif event:
        url = with_event(url, event)
    scheme = url.partition("://")[0].lower()
    if scheme in _MARKDOWN_CHATS:
        title, body = chat_safe(title), chat_safe(body)
    elif scheme in _MENTION_ONLY_CHATS:
        title, body = mentions_broken(title), mentions_broken(body)
    with warnings.catch_warnings():  # (apprise and its plugins import the deprecated imghdr)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _send(url, target, title, body, to)


# Chat services that render a message's text as Markdown, with their channel-wide mentions,
# and whose apprise plugin sends it as it is (Slack's escapes it itself; Discord's does not:
# `@everyone` in a customer's title paged the channel, audit helper-403).
_MARKDOWN_CHATS = frozenset({
    "mmost", "mmosts", "rocket", "rockets", "zulip", "msteams", "workflow", "workflows",
    "matrix", "matrixs", "discord",
})  # fmt: skip
# Chats whose apprise plugin escapes the text's Markdown itself (Webex's), or that read no
# Markdown links (Google Chat's `<url|text>`): their channel-wide mentions alone are broken
# (escaped here too, the marks came out as `\\[reset\\]`; review helper-405)
_MENTION_ONLY_CHATS = frozenset({"wxteams", "webex", "gchat"})
# (Mattermost's and Slack's `@channel`, `@all`, `@here`; Discord's `@everyone`; Matrix's
# `@room`; Zulip's `@**all**`, `@**everyone**`, `@**stream**`, `@**channel**`, `@**topic**`)
_BROADCAST = re.compile(
    r"(?<!\w)@(?=(?:channel|all|here|everyone|room)\b"
    r"|_?\*\*(?:all|everyone|stream|channel|topic)\*\*)",
    re.IGNORECASE,
)
_LINK_MARKS = re.compile(r"([\[\]<>])")  # (a link's: emphasis is harmless, and `_` in a URL)


def chat_safe(text: str) -> str:
    """``text`` as a Markdown chat shows it, never read as markup of its own: a title a
    customer wrote (`@channel urgent: [reset your password](https://evil.example)`) paged
    the whole channel and showed a disguised link.  A channel-wide mention is broken by a
    word joiner after its `@`; the marks that make a link, `[`, `]`, `<`, `>`, are escaped."""
    return _LINK_MARKS.sub(r"\\\1", mentions_broken(text))


def mentions_broken(text: str) -> str:
    """``text`` with each channel-wide mention broken by a word joiner after its `@`."""
    return _BROADCAST.sub("@\u2060", text)


def addressed(url: str, to: str, headers: Mapping[str, str]) -> str:
    """A ``mailto://``/``mailtos://`` URL sending to ``to`` only: the recipients it names
    (its path, ``to=``) are dropped, its ``cc=``/``bcc=`` kept, and each header added as
    apprise's ``+Name=value``.  (apprise sets Message-ID and Date itself.)

    apprise decodes a header's value twice (the URL's query, then its mail plugin's own
    unquoting), so each is quoted twice: a value reaches the mail as written.  Quoted once,
    a customer's Message-ID `<a%0d%0aBcc:x@…>` became a line break in In-Reply-To, a header
    line of the sender's making.  (``to`` is decoded once.)"""
    from urllib.parse import quote, unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    dropped = {"to", *(f"+{h.lower()}" for h in headers)}
    kept = [p for p in parts.query.split("&")
            if p and unquote(p.partition("=")[0]).lower() not in dropped]  # fmt: skip
    added = [f"to={quote(to, safe='@')}"]
    added += [
        f"+{quote(quote(k, safe=''), safe='')}={quote(quote(v, safe=''), safe='')}"
        for k, v in headers.items()
    ]
    return urlunsplit((parts.scheme, parts.netloc, "", "&".join(kept + added), ""))


EVENT_HEADER = "X-Esc-Event"
_POSTED = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})


def with_event(url: str, event: str) -> str:
    """``url`` with the event's id where a receiver reads it apart from the text: a mail's
    ``X-Esc-Event`` header (beside ``Auto-Submitted: auto-generated``); a webhook's
    ``X-Esc-Event`` header and ``event`` field of what it posts (apprise's ``+Name=value``
    and ``:name=value``).  Other services carry it in the text alone (its last line,
    ``event …``)."""
    from urllib.parse import quote

    scheme = url.partition("://")[0].lower()
    if scheme in ("mailto", "mailtos"):
        # (and RFC 3834's mark of a mail no person wrote: a vacation autoresponder answers
        # none, so no auto-reply comes back to the desk's mailbox for intake to take;
        # audit helper-455)
        added = [f"+{EVENT_HEADER}={quote(event, safe='')}", "+Auto-Submitted=auto-generated"]
    elif scheme in _POSTED:
        added = [f"+{EVENT_HEADER}={quote(event, safe='')}", f":event={quote(event, safe='')}"]
    else:
        return url
    base, hash_, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    return base + joiner + "&".join(added) + hash_ + fragment


def apprise_knows(url: str) -> bool:
    """Whether apprise has a service that sends to ``url`` (for an ``http(s)://`` URL: a
    service's own webhook address, as Slack's or Discord's, not any web address)."""
    import apprise

    with warnings.catch_warnings():  # (apprise and its plugins import the deprecated imghdr)
        warnings.simplefilter("ignore", DeprecationWarning)
        return apprise.Apprise.instantiate(url) is not None


def _send(url: str, target: str, title: str, body: str, to: str = "") -> str | None:
    """Send with apprise; None if it went, else why not (:class:`MessageRefused` when the
    message alone is at fault: the URL made for its customer ``to`` unusable, or naming
    another address, or apprise failing on what it was given rather than on the
    service)."""
    import apprise  # (only when there is something to send: a quiet sweep never loads it)

    sender = apprise.Apprise()
    if not sender.add(url):
        said = f"target {target}: apprise cannot use its URL"
        return MessageRefused(f"{said} for this customer's address") if to else said
    if to and not _sends_to(sender[0], to):  # (`o'brien@…` went to `brien@…`, the `o'`
        # read as a name; `a..b@docomo.ne.jp` to nobody, the target then taken for down)
        return Undeliverable(
            f"target {target}: apprise cannot send to {escape_surrogates(to)!r} as it is"
            " written; mail the customer yourself"
        )
    try:
        # (at DEBUG: a mail server's refusal of the one recipient is said only there)
        fmt = "%(levelno)s %(message)s"
        capture = apprise.LogCapture(level=apprise.logging.DEBUG, fmt=fmt)  # type: ignore[no-untyped-call]
        with capture as log:
            ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
            said = log.getvalue()
    except Exception as exc:  # (apprise catches the service's failures itself: this is
        # one on what it was given, this message's, never the URL, which may hold a secret)
        return MessageRefused(f"target {target}: {type(exc).__name__}")
    if ok:
        return None
    refused = _refused_for_good(said, to) if to else None
    if refused is not None:
        return Undeliverable(f"target {target}: the mail server refused {to!r} ({refused})")
    if to and _others_alone_refused(said, to):  # (the customer has it: sent again, they got
        # it once more at every retry, for a `bcc=` archive the server refuses)
        return None
    if to and _refused_for_now(said, to):  # (greylisted, a full mailbox: this customer's
        # mail alone waits; the others' went on, where all were held behind it; audit
        # helper-455)
        return MessageRefused(f"target {target}: the mail server refused {to!r} for now")
    if not to and _LOG_SENT.search(said):  # (a target of several addresses, one refused: the
        # others have it; each retry sent it to them again, for ever, as one teammate's
        # mailbox was gone; audit helper-455)
        return None
    warned = [
        line.partition(" ")[2]
        for line in said.splitlines()
        if line.partition(" ")[0].isdigit() and int(line.partition(" ")[0]) >= 30
    ]  # (apprise's warnings: what it says of the failure)
    why = _apprise_reason("\n".join(warned), url)
    return f"target {target}: the service did not accept the message" + (
        f" ({why})" if why else ""
    )


# What apprise logs of a recipient the mail server refused: at WARNING when others were
# taken (`SMTP recipient a@b was refused: 550 b'5.1.1 …'`), at DEBUG when it was the only
# one (smtplib's SMTPRecipientsRefused: `{'a@b': (550, b'5.1.1 …')}`).
_RCPT_REFUSED = (
    re.compile(r"SMTP recipient (\S+) was refused: ([45]\d\d) (.*)"),
    re.compile(r"'([^']+)': \(([45]\d\d), b?['\"]([^'\"]*)"),
)


def _refused_for_good(log: str, to: str) -> str | None:
    """The mail server's refusal of ``to`` for good, as it said it, if apprise's log holds
    one: a 5xx reply whose enhanced status says the address is at fault (5.1.x: no such
    mailbox, a bad address; 5.2.1: the mailbox disabled).  Others are tried again: a 4xx
    (greylisting, a full mailbox), and a 5xx of policy or relay (5.7.1 relay denied: the
    account or the server's setting, which a person mends; every customer's mail refused
    for good during it)."""
    for found in _refusals(log):
        if found[1].strip("<>").lower() == to.lower():
            said = found[3].strip().removeprefix("b'").removesuffix("'")
            if re.match(r"5\.(?:1\.\d+|2\.1)\b", said):
                return " ".join(f"{found[2]} {said}".split())[:200]
    return None


_LOG_SENT = re.compile(r"^20 Sent Email to ", re.MULTILINE)  # (apprise's, at INFO, by address)


def _refused_for_now(log: str, to: str) -> bool:
    """Whether the mail server refused ``to`` with a 4xx reply (try again later)."""
    return any(
        found[1].strip("<>").lower() == to.lower() and found[2].startswith("4")
        for found in _refusals(log)
    )


def _others_alone_refused(log: str, to: str) -> bool:
    """Whether the server refused other recipients of the message (its `cc=`/`bcc=`) and
    took ``to``, the customer's address: the mail reached them."""
    refused = {found[1].strip("<>").lower() for found in _refusals(log)}
    return bool(refused) and to.lower() not in refused


def _refusals(log: str) -> Iterator[re.Match[str]]:
    for pattern in _RCPT_REFUSED:
        yield from pattern.finditer(log)


def _sends_to(service: object, to: str) -> bool:
    """Whether apprise's mail service would send to ``to`` alone, as written (a trailing
    dot of its domain aside)."""
    targets = getattr(service, "targets", None)
    if not isinstance(targets, list) or len(targets) != 1:
        return False
    found = targets[0][1] if isinstance(targets[0], tuple) else targets[0]
    return isinstance(found, str) and found.lower().rstrip(".") == to.lower().rstrip(".")


def _apprise_reason(log: str, url: str) -> str:
    """What apprise said of a failed send (its last warning: `A Connection error occurred
    sending JSON notification to 127.0.0.1.`, `Failed to send JSON POST notification:
    Internal server error., error=500.`), on one line, with nothing of the URL but its
    host: its user, password, path and query may hold a secret (a webhook's token; so
    may a "host" that is no host name, as in ``slack://TOKEN/TOKEN/TOKEN``)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    if not lines:
        return ""
    reason = " ".join(lines[-1].split())[:200]
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host, _, port = hostport.partition(":")  # (as written: not lowercased)
    # (a "port" may be a token too, as in tgram://BOTID:TOKEN/CHAT; a host name has a dot)
    secret = " ".join((userinfo, port, parts.path, parts.query, parts.fragment,
                       "" if "." in host else host))  # fmt: skip
    tokens = set(re.findall(r"[^\s/?#&=:@.]{4,}", secret))
    tokens |= {unquote(t) for t in tokens}  # (apprise says them decoded)
    for token in sorted(tokens, key=len, reverse=True):
        reason = reason.replace(token, "…")
    return reason
