"""Notifications: the `notify:` settings of rules.yaml, the events a change to a ticket
makes, who is told of each, and the message.  Pure: takes the change, the ticket and the
configuration, returns events; sending them is :mod:`esc.store.outbox`.

An event's id is a hash of what happened (ticket, kind, time, from, to, by, target), so
two sweeps that make the same change make the same id, and a receiver can drop repeats.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from typing import Literal, get_args

from esc.domain.as_of import value_between
from esc.domain.calendar import Calendar, CalendarError, is_working, next_working_instant
from esc.domain.model import (
    Activity,
    Change,
    Request,
    Ticket,
    by_person,
    escalation_lines,
    field_changes,
    whole_number,
)
from esc.domain.records import immutable
from esc.domain.timestamps import format_timestamp, timestamp

EventKind = Literal[
    "escalated", "sla_warning", "sla_breached", "assigned", "created", "reopened", "low_csat",
    "rule", "involved", "answered", "mentioned",
]  # fmt: skip
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))
NOTIFY_KEYS = {
    "targets", "teams", "people", "link", "created_at_or_above", "low_csat", "quiet"
}  # fmt: skip
# The schemes apprise reads that esc accepts: chat, email, webhooks, push.
SCHEMES = frozenset({
    "slack", "slacks", "mailto", "mailtos", "json", "jsons", "form", "forms", "xml", "xmls",
    "msteams", "mmost", "mmosts", "discord", "ntfy", "ntfys", "tgram", "matrix", "matrixs",
    "rocket", "rockets", "pover", "gotify", "gotifys", "zulip", "pagerduty", "opsgenie",
    "wxteams", "webex", "workflow", "workflows", "gchat",  # (Webex, Teams, Google Chat)
    "https", "http",  # (a service's own webhook URL: apprise knows Slack's…)
})  # fmt: skip
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "_.-~")
URGENT: frozenset[str] = frozenset({"sla_breached", "escalated"})


@immutable
class Target:
    name: str
    url: str  # with ${VARIABLES}, as written
    line: int = 0  # where rules.yaml names it


@immutable
class Notify:
    """The `notify:` section of rules.yaml."""

    targets: Mapping[str, Target] = field(default_factory=dict)
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # team -> targets
    people: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # person -> targets
    link: str | None = None  # "https://…/tickets/{id}.md"
    created_at_or_above: str | None = None  # a priority
    low_csat: int = 2  # a CSAT at or below this is low
    quiet: Mapping[str, Calendar] = field(default_factory=dict)  # target -> its working hours


def held_for_quiet(
    notify: Notify | None, target: str, kind: str, queued: dt.datetime, urgent: bool
) -> bool:
    """Whether a message of ``kind`` to ``target``, made at ``queued``, waits for the
    target's working hours (`notify.quiet`): made outside them and not ``urgent`` (a
    breach, an escalation, news of a ticket at the highest priority: see
    :attr:`Event.urgent`; nor is mail to a customer)."""
    if notify is None or urgent or kind in URGENT or kind not in EVENT_KINDS:
        return False
    hours = notify.quiet.get(target)
    return hours is not None and not is_working(hours, queued)


def quiet_until(
    notify: Notify | None, target: str, kind: str, made: dt.datetime, urgent: bool
) -> dt.datetime | None:
    """When a message made at ``made`` in ``target``'s quiet hours may go: the start of the
    target's next working hours after it (a sweep at or after it sends it, whatever hour
    that sweep runs at: a nightly sweep held it for ever); None if it is not held."""
    if notify is None or not held_for_quiet(notify, target, kind, made, urgent):
        return None
    try:
        return next_working_instant(notify.quiet[target], made)
    except CalendarError:  # (hours that never come: it goes now, never held for ever)
        return None


def url_problem(url: str) -> str | None:
    """What is wrong with a target's URL (never quoting it: it may hold a secret).  A URL
    whose scheme is in a variable (``${SLACK_WEBHOOK_URL}``: a whole secret URL) is known
    only when it is sent: apprise then says whether it can use it."""
    if "${" in _VARIABLE.sub("", url):  # (`${SLACK_TA/x`: sent as the literal text)
        return "has a `${` that does not start a variable like ${NAME}"
    scheme, sep, rest = url.partition("://")
    if _VARIABLE.search(scheme):
        return None
    if not sep or not rest:
        return "is not a URL (SCHEME://…)"
    if scheme.lower() not in SCHEMES:
        return f"scheme {scheme!r} is not one esc sends to ({', '.join(sorted(SCHEMES)[:8])}, …)"
    return None


_SECRET_PARAMETERS = frozenset({"pass", "password", "token", "key", "apikey", "api_key", "secret"})
# (the words of a parameter's name that make it one: `access_token`, `X-Api-Key`,
# `client_secret`, an `Authorization` header; apprise's `+NAME=` is a header it sends,
# `-NAME=` a parameter of the URL it posts to, `:NAME=` a field of what it posts)
_SECRET_WORDS = frozenset({*_SECRET_PARAMETERS, "authorization", "credentials", "passwd"})
_NAME_WORDS = re.compile(r"[-_.]")


_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def _unquote(text: str) -> str:
    """``text`` with its URL escapes (`%20`, `%24%7B`) decoded, each to the character of
    its byte: enough to read an ASCII name or a `${NAME}` in it."""
    return _PERCENT.sub(lambda m: chr(int(m[1], 16)), text) if "%" in text else text


def _secret_name(key: str) -> str | None:
    """The name of a query parameter that holds a secret (lower-case, without apprise's
    prefix), or None."""
    name = _unquote(key).lstrip("+-:").strip().lower()
    if name in _SECRET_PARAMETERS or any(w in _SECRET_WORDS for w in _NAME_WORDS.split(name)):
        return name
    return None


def written_secret(url: str) -> str | None:
    """What secret ``url`` holds as written in the file, not from a variable (``a
    password``: in its userinfo, ``user:PASSWORD@host``; ``a token``: a query parameter
    named as one), or None.  (Never the value itself: it is what must not be shown.)"""
    _, sep, rest = url.partition("://")
    if not sep:
        return None
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if at and ":" in userinfo:
        password = userinfo.split(":", 1)[1]
        if password and not _VARIABLE.fullmatch(password):
            return "a password"
    for part in rest.partition("?")[2].split("&"):
        key, eq, value = part.partition("=")
        name = _secret_name(key) if eq and value else None
        if name and not _VARIABLE.search(_unquote(value)):  # (`Bearer ${TOKEN}`: a variable's)
            return f"{'an' if name[0] in 'aeiox' else 'a'} {name}"
    return None


def variables(url: str) -> list[str]:
    return _VARIABLE.findall(url)


def expand(url: str, env: Mapping[str, str]) -> str:
    """The URL with each ``${NAME}`` replaced by the environment's value (KeyError, with
    the name, if :func:`variable_problem` finds one, as :func:`missing_variables` and `esc
    validate` have it: a URL with a hole where its secret goes is never sent to).

    A value put in the URL's userinfo (between ``://`` and the ``@`` that ends the
    authority, as written: ``mailtos://${USER}:${PASSWORD}@host``) is percent-encoded,
    so a password holding ``#``, ``@``, ``/`` or ``:`` stays the password (apprise decodes
    it); anywhere else the value goes in as it is (a variable may hold a whole webhook URL,
    a host with its credentials, or a path's tokens)."""
    start, end = _userinfo(url)

    def value(match: re.Match[str]) -> str:
        text = env.get(match.group(1))
        if text is None or variable_problem(text) is not None:
            raise KeyError(match.group(1))
        return percent_encoded(text) if start <= match.start() < end else text

    return _VARIABLE.sub(value, url)


def percent_encoded(text: str) -> str:
    """``text`` with every character but letters, digits and ``_.-~`` percent-encoded (as
    UTF-8), as ``urllib.parse.quote(text, safe="")`` does."""
    return "".join(
        c if c in _UNRESERVED else "".join(f"%{b:02X}" for b in c.encode()) for c in text
    )


def _userinfo(url: str) -> tuple[int, int]:
    """Where the userinfo of ``url`` (as written, with its ``${NAMES}``) starts and ends;
    (0, 0) if it has none."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        return 0, 0
    start = len(scheme) + len(sep)
    authority_end = len(url)
    for stop in "/?#":
        at = url.find(stop, start)
        if at != -1:
            authority_end = min(authority_end, at)
    end = url.rfind("@", start, authority_end)
    return (start, end) if end != -1 else (0, 0)


def missing_variables(notify: Notify, env: Mapping[str, str]) -> list[tuple[Target, str, str]]:
    """Each target, a variable its URL names that ``env`` does not give a usable value,
    and what is wrong with it (:func:`variable_problem`)."""
    return [
        (t, name, problem)
        for t in notify.targets.values()
        for name in dict.fromkeys(variables(t.url))  # (named twice in one URL: said once)
        if (problem := variable_problem(env.get(name))) is not None
    ]


def variable_problem(value: str | None) -> str | None:
    """What is wrong with an environment variable's value for a target's URL, said after
    its name: unset or empty ("is not set"), or not UTF-8 text (Python hands such bytes on
    as lone surrogates, which no URL can hold: the send, or `esc validate`, stopped with an
    internal error, exit 3; audit helper-411); None if it can be used.  Never the value,
    which is a secret."""
    if not value:
        return "is not set"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not UTF-8 text"
    return None


@immutable
class Event:
    """Something that happened to a ticket that someone is told of."""

    id: str
    ticket_id: str
    kind: EventKind
    at: dt.datetime
    by: str  # a person, or rule:NAME
    what: str  # "escalated support → engineering (hierarchical)"
    targets: tuple[str, ...]
    title: str = ""
    team: str = ""
    priority: str = ""
    deadline: dt.datetime | None = None
    link: str | None = None
    top: bool = False  # the ticket is at the highest priority
    on_breach: bool = False  # a rule fired on a breach (`sla: breached`, `overdue:`)
    question: str = ""  # what a request for help asks (`esc involve --ask`)

    @property
    def urgent(self) -> bool:
        """Never held for quiet hours: a breach (or a rule fired on one), an escalation, or
        any news of a ticket at the highest priority (`urgent` by default)."""
        return self.kind in URGENT or self.top or self.on_breach

    def subject(self) -> str:
        return f"[esc] {self.ticket_id} {_one_line(self.what)}"

    def body(self) -> str:
        """The message: each value on its own line, as one line (a title edited by hand to
        hold line breaks cannot write a line of its own), times in the event's offset."""
        deadline = self.deadline
        lines = [
            f"{self.ticket_id}: {_one_line(self.title)}",
            f"{_one_line(self.what)} by {_one_line(self.by)} at {format_timestamp(self.at)}",
            *([f"question: {_one_line(self.question)}"] if self.question else []),
            f"team {_one_line(self.team)}, priority {_one_line(self.priority)}",
            "next deadline: "
            + (
                format_timestamp(deadline.astimezone(self.at.tzinfo))
                + (" (passed)" if deadline <= self.at else "")
                if deadline is not None
                else "none running"
            ),
        ]
        if self.link:
            lines.append(self.link)
        lines.append(f"event {self.id}")
        return "\n".join(lines)


# Line breaks and other control characters (and Unicode's line and paragraph separators)
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _one_line(text: str) -> str:
    """``text`` with each run of line breaks or control characters as one space."""
    return _BREAKS.sub(" ", text)


def event_id(ticket_id: str, kind: EventKind, at: dt.datetime, *parts: str | None) -> str:
    """The id of an event: the same wherever and however often it is made, whatever the
    offset its time is written in (a rule's escalation replayed by a sweep whose --now is
    UTC, on a CI runner, and by one whose --now is Berlin's: one instant, one id)."""
    instant = format_timestamp(at.astimezone(dt.timezone.utc))
    return _id_of(ticket_id, kind, instant, *(p or "" for p in parts))


def probe_id(target: str, at: dt.datetime) -> str:
    """The event id of `esc notify test`'s message to ``target`` at ``at`` (as every
    message has one; the same test run again at that --now, the same id)."""
    return _id_of("test", target, format_timestamp(at))


def digest_id(event_ids: Sequence[str]) -> str:
    """The event id of a digest of several messages (quiet hours): made of theirs, so the
    same digest sent again has the same."""
    return _id_of("digest", *sorted(event_ids))


def _id_of(*parts: str) -> str:
    """An event id: a hash of what makes the event the one it is."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


@immutable
class Holder:
    """Who had a ticket just after what people did at an instant: its team, its assignee
    (None: nobody) and its priority."""

    team: str
    assignee: str | None
    priority: str


class Holders:
    """Who had a ticket just after what people did at each instant (:meth:`after_people`),
    read from its log once: a sweep asks at every line people logged since the last one,
    thousands after a long gap."""

    _FIELDS = ("team", "assignee", "priority")

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        # (by the lines' times: a plan's ticket lists its replay's lines after the people's;
        # in log order at one instant)
        self.lines = sorted(ticket.activity, key=lambda a: a.at)
        self.times = [a.at for a in self.lines]
        self.people = [i for i, a in enumerate(self.lines) if by_person(a.by)]
        self.changes = {
            name: [i for i, a in enumerate(self.lines) if a.field == name] for name in self._FIELDS
        }

    def after_people(self, at: dt.datetime) -> Holder:
        """Who had the ticket just after the last line people logged at ``at``: what rules
        and the sweep did before it counts (an escalation at 13:00 a sweep replays later),
        what they did after it does not, at that instant either (a rule the reopening fired
        acts after the sweep that saw the reopening: that one told of it).  A sweep tells of
        what people did as a sweep at that instant would have."""
        last = bisect.bisect_left(self.times, at) - 1  # (every line before ``at``)
        end = bisect.bisect_right(self.times, at)
        at_then = bisect.bisect_right(self.people, end - 1) - 1  # (people's last by then)
        if at_then >= 0 and self.people[at_then] > last:
            last = self.people[at_then]
        ticket = self.ticket
        team, priority = self._value("team", last), self._value("priority", last)
        return Holder(team or ticket.team, self._value("assignee", last),
                      priority or ticket.priority)  # fmt: skip

    def _value(self, name: str, last: int) -> str | None:
        """Field ``name`` just after line ``last``, as :func:`ticket_as_of` reads it."""
        where = self.changes[name]
        k = bisect.bisect_right(where, last)
        if k < len(where):  # (a later change: between it and the last by then)
            held = value_between(self.lines[where[k - 1]] if k else None, self.lines[where[k]])
        else:  # (none later: as the file has it, a hand edit since the last line too)
            held = getattr(self.ticket, name)
        return None if held in (None, "—") else str(held)


def events_of(
    before: Ticket | None,
    after: Ticket,
    change: Change,
    notify: Notify,
    leads: Mapping[str, str | None],
    priorities: Sequence[str],
    rules_fired: Sequence[tuple[str, dt.datetime, tuple[str, ...], str, bool]] = (),
    deadline_at: Callable[[dt.datetime], dt.datetime | None] | None = None,
    move_chose: Callable[[dt.datetime, str], bool] | None = None,
    holder: Callable[[dt.datetime], Holder] | None = None,
) -> list[Event]:
    """The events ``change`` made (``before`` is None for a new ticket), each with its
    targets; events nobody is to be told of are left out.  ``leads``: team -> its lead;
    ``rules_fired``: (rule, when it fired, the names its `notify:` gives, its condition,
    whether that holds only on a breach), each time it fired.  ``move_chose(at, team)``:
    whether the policy the ticket has just after ``at`` is the one its move from ``team``
    at that instant chose (with ``team`` it would have another): a clock of that policy is
    the new team's; one a priority change chose, the team it had then (without it, any
    policy re-selected at the instant of a move is taken for the move's).  ``holder(at)``:
    who had the ticket just after what people did at ``at`` (a sweep telling of it; without
    it, ``after`` as it stands just after that instant)."""
    made: list[Event] = []

    def held_then(at: dt.datetime) -> Holder:
        if holder is not None:
            return holder(at)
        then = at + _INSTANT
        return Holder(after.team_at(then), after.assignee, _priority_at(after, then))

    kinds = {(e.at, e.by): e.kind for e in change.escalations if e.kind == "priority"}
    moved_by = _escalation_lines(change)  # (each team: line an escalation logged: its kind)

    def add(
        kind: EventKind, line: Activity, what: str, targets: list[str],
        held: str | None = None, due: dt.datetime | None = None, breach: bool = False,
        question: str = "", priority: str | None = None,
    ) -> None:  # fmt: skip
        chosen = tuple(dict.fromkeys(t for t in targets if t in notify.targets))
        if not chosen:
            return
        parts: tuple[str | None, ...] = (line.field, line.old, line.new, line.by)
        if line.event is not None and kind in ("involved", "answered", "mentioned"):
            parts += (line.event, line.note)
        if kind != "rule" and repeats[0]:  # (a line the same as one before it at its
            # instant: two notes mentioning @sre by one person in one second are two
            # events; the first keeps the id it always had)
            parts += (f"#{repeats[0]}",)
        key_at = at = line.at
        if kind in ("sla_warning", "sla_breached"):  # (known by the instant it crossed, at
            # which every sweep stamps it: two sweeps, a late one, another clone, one after
            # a crash, make one id)
            key_at, parts = at.astimezone(dt.timezone.utc), (line.field, line.new)
        eid = event_id(after.id, kind, key_at, *parts)
        link = _link(notify, after.id)
        # (the ticket as it was just after the instant it tells of, not as the sweep that
        # tells it leaves it: the same message whenever a sweep saw it)
        then = held_then(at)
        if priority is not None:  # (the priority it tells of: a new ticket's, as made)
            then = replace(then, priority=priority)
        top = bool(priorities) and then.priority == priorities[-1]
        if due is None and deadline_at is not None:
            due = deadline_at(at)
        made.append(Event(eid, after.id, kind, at, line.by, what, chosen, after.title,
                          held or then.team, then.priority, due, link, top,
                          breach, question))  # fmt: skip

    def team(name: str | None, lead: bool = False) -> list[str]:
        if name is None:
            return []
        out = list(notify.teams.get(name, ()))
        head = leads.get(name)
        return out + (person(head) if lead and head else [])

    acting: list[str] = [""]  # who made the line at hand: never told of what they did

    def person(name: str | None) -> list[str]:
        if not name or name == acting[0]:
            return []
        return list(notify.people.get(name, ()))

    def assignee(escalation: Activity) -> list[str]:
        """The targets of the ticket's assignee when ``escalation`` was made: as the last
        assignee line before it left the ticket, else as the first after it found it (an
        escalation to another team unassigns: it took the ticket from that one), else as
        the ticket is now."""
        at = change.activity.index(escalation)
        lines = [(i, a) for i, a in enumerate(change.activity) if a.field == "assignee"]
        earlier = [a.new for i, a in lines if i < at]
        later = [a.old for i, a in lines if i > at]
        name = earlier[-1] if earlier else later[0] if later else after.assignee
        return person(name) if name != "—" else []

    def owner(line: Activity) -> Holder:
        """Who owns the ticket that ``line`` tells of: the team and assignee that had it
        just after it (a sweep's replay), else as ``after`` has them."""
        if holder is not None:
            return holder(line.at)
        return Holder(after.team, after.assignee, after.priority)

    def team_then(line: Activity) -> str:
        """The team that had the ticket as ``line`` was made: a move logged before it at
        its instant counts, one after it (a later rule's escalation at the same second)
        does not."""
        at = change.activity.index(line)
        for earlier in reversed(change.activity[:at]):
            if earlier.at != line.at:
                break
            if earlier.field == "team" and earlier.new:
                return earlier.new
        return after.team_at(line.at)

    reselected: list[dt.datetime | None] = [None]  # (the instant of the last sla.policy line)
    repeats = [0]  # (how many lines the same as the one at hand come before it in the log)
    in_log = Counter(map(_same, after.activity))
    in_change = Counter(map(_same, change.activity))
    so_far: Counter[tuple[object, ...]] = Counter()
    for n, line in enumerate(change.activity):
        f, old, new = line.field, line.old, line.new
        same = _same(line)
        repeats[0] = max(0, in_log[same] - in_change[same]) + so_far[same]
        so_far[same] += 1
        acting[0] = line.by
        if f == "sla.policy" and old not in (None, "—"):
            reselected[0] = line.at
        kind = moved_by.get(n) if f == "team" else kinds.get((line.at, line.by))
        if f == "team" and kind is not None:
            add("escalated", line, f"escalated {old} → {new} ({kind})",
                team(new, lead=True) + assignee(line))  # fmt: skip
        elif f == "priority" and kind == "priority":  # (the team that had it then)
            holding = team_then(line)
            add("escalated", line, f"priority escalated {old} → {new}",
                team(holding, True) + assignee(line), held=holding)  # fmt: skip
        elif f == "assignee" and new and new != "—":
            add("assigned", line, f"assigned to {new}", person(new))
        elif f == "status" and new == "open" and old in ("resolved", "closed"):
            owned = owner(line)
            add("reopened", line, f"reopened ({old} → open)",
                person(owned.assignee) + team(owned.team))  # fmt: skip
        elif f == "csat" and (score := whole_number(new or "")) is not None and (
            score <= notify.low_csat
        ):
            acting[0] = ""  # (the customer's rating: the agent who typed it in is told too)
            owned = owner(line)
            add("low_csat", line, f"low CSAT {new}",
                team(owned.team, lead=True) + person(owned.assignee))  # fmt: skip
        elif f is not None and f.startswith("sla.") and f != "sla.policy":
            metric = f[len("sla.") :]
            # (the team that had it as it crossed, and the one it has after that instant,
            # if the breach's own escalation moved it: both are told, whenever a sweep saw
            # it; not a team it went to later)
            held, then = after.team_at(line.at), after.team_at(line.at + _INSTANT)
            if reselected[0] == line.at and (move_chose is None or move_chose(line.at, held)):
                held = then  # (after the policy's change at that instant: a clock of the
                # policy its escalation chose, the new team's; not one a priority change
                # chose while the team it left had it)
            # (the team that had it, and its assignee, else its lead; the team the breach's
            # own escalation moved it to, its lead and its assignee)
            had = person(_assignee_at(after, line.at)) or person(leads.get(held or ""))
            who = team(held) + had
            if held != then:
                who += team(then, lead=True) + person(_assignee_at(after, line.at + _INSTANT))
            of, own = metric, None  # (what the message names, the deadline the line does)
            if metric == "collaboration":  # (a request's OLA: its team is told too, and
                requests = _asked(after, line)  # the person asked, if one was)
                teams_asked = [r.team for r in requests]
                who += [x for name in teams_asked for x in team(name, True)]
                who += [x for r in requests for x in person(r.person)]
                of = f"{metric} (the request to {teams_asked[0]})" if teams_asked else metric
                own = due_noted(line)
            if new == "warning" and old != "warning":  # (the deadline it warns of)
                due = due_noted(line) or (_due(change, metric) if metric != "collaboration"
                                          else None)
                add("sla_warning", line, f"SLA warning: {of}", team(then) + who, held, due)
            elif new == "breached" and old != "breached":
                # (stamped when it happened: at its deadline, or, after it, at the change to
                # the ticket or its policy that made the clock late)
                add("sla_breached", line, f"SLA breached: {of}", team(then) + who, held, own)
        elif line.event is not None and line.event.startswith("involved "):
            asked = line.event[len("involved ") :]
            whom = f"{asked} ({line.note})" if line.note else asked
            # (the question: the note `esc involve --ask` wrote with it, "Request to
            # engineering (dan): …", without what the line says already)
            head = f"Request to {whom}: "
            asking = [e.text.strip().removeprefix(head) for e in (*change.entries, *after.entries)
                      if e.at == line.at and e.author == line.by and e.kind == "note"
                      and e.text.strip().startswith(head)]
            add("involved", line, f"asks {whom} for help", team(asked, lead=True) +
                person(line.note or None), question=asking[0] if asking else "")  # fmt: skip
        elif line.event and not line.note and (answered := _ANSWERED.fullmatch(line.event)):
            # (an answer or a decline: the owning team, its assignee and whoever asked
            # learn of it; a request an escalation or re-routing closed has a note, and the
            # team it went to owns the ticket now: nobody is told twice)
            state, asked = answered.groups()
            askers = [r.by for r in after.requests if r.team == asked and r.closed == line.at]
            owned = owner(line)
            add("answered", line, f"{asked} {state} the request for help",
                team(owned.team) + person(owned.assignee) +
                [x for name in askers for x in person(name)])  # fmt: skip
        elif line.event == "mentioned":
            named = [n.lstrip("@") for n in line.note.split()]
            add("mentioned", line, f"mentions {line.note} in a note",
                [t for n in named for t in (person(n) or team(n))])  # fmt: skip
        elif line.event == "created" and before is None and notify.created_at_or_above:
            floor = notify.created_at_or_above
            # (the priority it was created at: not one a person gave it in that very second,
            # `esc classify --priority` run by a script after `esc create`, which is told as
            # its own change; the created line names the priority it was made at)
            made_at = _priority_at(after, line.at)
            rank = priorities.index(made_at) if made_at in priorities else -1
            if floor in priorities and rank >= priorities.index(floor):
                add("created", line, f"created at priority {made_at}",
                    team(after.team, lead=True), priority=made_at)
    for rule, at, names, when, breach in sorted(rules_fired, key=lambda f: (f[1], f[0])):
        line = Activity(at, f"rule:{rule}", field="notify", new=" ".join(names))
        # (what it fired on: "rule page fired (priority: urgent, sla: breached)")
        add("rule", line, f"rule {rule} fired ({when})" if when else f"rule {rule} fired",
            named_targets(notify, names), breach=breach)  # fmt: skip
    return made


def _escalation_lines(change: Change) -> dict[int, str]:
    """The kind of escalation each `team:` line of ``change`` logged, by the line's place in
    its activity (:func:`esc.domain.model.escalation_lines`); a line none logged is a
    re-routing, which nobody is told of."""
    moves = [e for e in change.escalations if e.kind != "priority"]
    paired = escalation_lines(moves, change.activity)
    return {n: e.kind for n, e in zip(paired, moves, strict=True) if n is not None}


def _same(line: Activity) -> tuple[object, ...]:
    """What makes two activity lines the same line (written twice in one second)."""
    return (line.at, line.by, line.field, line.old, line.new, line.event, line.note)


def _priority_at(ticket: Ticket, moment: dt.datetime) -> str:
    """The ticket's priority just before ``moment``, by its log of priority changes."""
    return _value_at(ticket, "priority", moment) or ticket.priority


def _assignee_at(ticket: Ticket, moment: dt.datetime) -> str | None:
    """Who the ticket was assigned to just before ``moment`` (None: nobody)."""
    return _value_at(ticket, "assignee", moment)


def _value_at(ticket: Ticket, name: str, moment: dt.datetime) -> str | None:
    """Field ``name`` just before ``moment``, by the ticket's log of its changes: as the
    last change before it left it, else as the first after it found it, else as the ticket
    has it now (None for no value)."""
    changes = field_changes(ticket.activity, name)
    earlier = [a.new for a in changes if a.at < moment]
    later = [a.old for a in changes if a.at >= moment]
    value = earlier[-1] if earlier else later[0] if later else getattr(ticket, name)
    return None if value in (None, "—") else str(value)


_ANSWERED = re.compile(r"request (answered|declined) by (.+)")  # (lifecycle.answer's line)
_INSTANT = dt.timedelta(microseconds=1)  # (a priority escalation: the team just after it)


DUE_NOTE = "due "  # (a warning's log line: ``sla.first_response: ok → warning · due …``)


def due_noted(line: Activity) -> dt.datetime | None:
    """The deadline a warning's log line names in its note (``due …``, or after what the
    clock is of: ``security, due …``), if it names one."""
    if line.note.startswith(DUE_NOTE):
        return timestamp(line.note[len(DUE_NOTE) :])
    about, comma, due = line.note.rpartition(", " + DUE_NOTE)
    return timestamp(due) if comma and about else None


def _asked_team(ticket: Ticket, line: Activity) -> list[str]:
    """The team whose request an ``sla.collaboration`` line is of (see :func:`_asked`)."""
    return [r.team for r in _asked(ticket, line)]


def _asked(ticket: Ticket, line: Activity) -> list[Request]:
    """The request an ``sla.collaboration`` line is of: the note names its team first
    (``security``, ``security, due …``); a line written before each request's clock was
    logged of its own names none: its oldest request open then."""
    for request in ticket.requests:
        if line.note == request.team or line.note.startswith(f"{request.team}, {DUE_NOTE}"):
            return [request]
    return sorted(ticket.open_requests(line.at), key=lambda r: r.asked)[:1]


def _due(change: Change, metric: str) -> dt.datetime | None:
    """The deadline of ``metric``'s clock in the ``sla:`` block ``change`` writes, if any."""
    block = change.sets.get("sla")
    clock = block.get(metric) if isinstance(block, Mapping) else None
    due = clock.get("due") if isinstance(clock, Mapping) else None
    return due if isinstance(due, dt.datetime) else None


def _link(notify: Notify, ticket_id: str) -> str | None:
    return notify.link.replace("{id}", ticket_id) if notify.link else None


def rule_targets(actions: Sequence[tuple[str, object]]) -> list[str]:
    """The names a rule's `notify:` action gives: of targets, or of teams or people the
    `notify:` section lists (:func:`named_targets`)."""
    names: list[str] = []
    for key, value in actions:
        if key == "notify":
            names += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return names


def named_targets(notify: Notify, names: Sequence[str]) -> list[str]:
    """The targets ``names`` stand for: a target itself, or a team's or a person's targets
    (`notify.teams`, `notify.people`)."""
    out: list[str] = []
    for name in names:
        if name in notify.targets:
            out.append(name)
        else:
            out += notify.teams.get(name, ()) or notify.people.get(name, ())
    return list(dict.fromkeys(out))
