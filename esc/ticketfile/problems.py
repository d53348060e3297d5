"""`esc validate`: every problem in the workspace as ``path:line: message``. Pure."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from esc.domain.choices import as_text, did_you_mean, unknown_choice
from esc.domain.conditions import INTAKE_KEYS
from esc.domain.config import Config, Finding
from esc.domain.errors import ParseError
from esc.domain.mail import ATTACHMENTS, MESSAGE_IDS, REPLIES_TO
from esc.domain.model import CHANNELS, COMPUTED_KEYS, FIELD_ORDER, STATUSES, line_problem
from esc.domain.records import immutable
from esc.domain.timestamps import format_timestamp
from esc.ticketfile.yaml_text import is_flow_front

if TYPE_CHECKING:
    from esc.ticketfile.document import TicketDoc


@immutable
class Clean:
    """A ticket file known to validate: :func:`check_ticket` found nothing wrong in this
    very content under this configuration (esc's cache says so)."""

    path: str
    ticket_id: str
    id_line: int  # the line of its ``id``
    kb: str | None = None  # the article it names (``kb:``), checked against kb/ each time
    kb_line: int = 1


def ticket_problems(
    items: Iterable[TicketDoc | ParseError | Clean], config: Config | None
) -> list[Finding]:
    findings: list[Finding] = []
    seen: dict[str, tuple[str, str]] = {}  # (the file and the id) by the id in any case
    for item in items:
        if isinstance(item, ParseError):
            findings.append(Finding(item.path, item.line, item.message))
            continue
        if isinstance(item, Clean):
            ticket_id, id_line = item.ticket_id, item.id_line
        else:
            findings.extend(check_ticket(item, config))
            ticket_id, id_line = item.ticket.id, item.key_lines.get("id", 1)
        key = ticket_id.casefold()  # (an ID is matched in any case: T-ab and T-AB are one)
        if key in seen:
            path, other = seen[key]
            also = f"also in {path}" if other == ticket_id else f"as {other} in {path}"
            findings.append(Finding(item.path, id_line, f"duplicate id {ticket_id} ({also})"))
        seen.setdefault(key, (item.path, ticket_id))
    return findings


def require_valid(doc: TicketDoc, config: Config | None) -> TicketDoc:
    """``doc`` if it validates (against ``config`` too, if given); else ParseError with its
    first problem.  Commands read only tickets that validate on their own, and write only
    tickets that validate against the configuration: what esc would compute from, or
    write into, a file it does not understand could be wrong or lose what a user wrote."""
    if config is None and doc.proven:  # (a text a sweep wrote, as its stamp says: it
        # validated as it was written; but its ID, which the stamp leaves out, and the file
        # name it must match are checked again)
        found = [Finding(doc.path, line, message) for line, message in doc.problems]
        found += _id_findings(doc)
    else:
        found = [f for f in check_ticket(doc, config) if f.blocking]  # (not: one esc mends)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more; run `esc validate`)" if len(found) > 1 else ""
        raise ParseError(first.path, first.line, first.message + more)
    return doc


def require_fit(doc: TicketDoc, config: Config) -> TicketDoc:
    """:func:`require_valid` against ``config`` of a ``doc`` that validated on its own
    already (parsed strict: :func:`esc.store.workspace.parse_ticket`): only what the
    configuration adds is looked at (a sweep checked each ticket's structure twice)."""
    out: list[Finding] = []

    def add(key: str, message: str, line: int | None = None, blocking: bool = True) -> None:
        out.append(Finding(doc.path, line or doc.key_lines.get(key, 1), message, blocking))

    _against_config(doc, config, add)
    found = sorted((f for f in out if f.blocking), key=lambda f: f.line)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more; run `esc validate`)" if len(found) > 1 else ""
        raise ParseError(first.path, first.line, first.message + more)
    return doc


def misfits(doc: TicketDoc, config: Config) -> list[ParseError]:
    """Why ``doc``'s ticket, if it does not fit ``config`` (``Config.fits``: a team,
    priority or category it lacks), does not validate against it: each blocking problem as
    `esc validate` says it, at its line (none if it fits).  Such a ticket is counted,
    shown and exported, and a finding."""
    if config.fits(doc.ticket):
        return []
    return [ParseError(f.path, f.line, f.message) for f in check_ticket(doc, config) if f.blocking]


# the fields that are text (a name, a title, an address): a number or a boolean there is a
# hand edit YAML read otherwise than it looks
_TEXT_FIELDS = ("title", "customer", "assignee", "category", "impact", "urgency", "kb",
                "external_id")  # (intake's: `0017` read as 17 made the item's second ticket)


def check_ticket(doc: TicketDoc, config: Config | None) -> list[Finding]:
    out = [Finding(doc.path, line, message) for line, message in doc.problems]

    def add(key: str, message: str, line: int | None = None, blocking: bool = True) -> None:
        out.append(Finding(doc.path, line or doc.key_lines.get(key, 1), message, blocking))

    ticket = doc.ticket
    if is_flow_front(doc.front):  # (it reads, but no command can edit it: said, before
        # a command refuses it)
        add("id", "the front-matter is one flow mapping, {key: value, …}: esc reads it, but no"
            " command can edit it; write each key on a line of its own", 2, blocking=False)
    out += _id_findings(doc)
    if ticket.status and ticket.status not in STATUSES:
        hint = _hint(ticket.status, STATUSES)
        add("status", f"unknown status {ticket.status!r}{hint}; one of {', '.join(STATUSES)}")
    if ticket.status in ("resolved", "closed") and ticket.resolved_at is None:
        add("status", f"a {ticket.status} ticket needs resolved_at")
    if ticket.status == "closed" and ticket.closed_at is None:
        add("status", "a closed ticket needs closed_at")
    if ticket.active:  # (a hand edit of the status, or a merge: what reopening clears, left
        # over; not blocking: no clock reads them on an active ticket, but reports count a
        # closing and a rating by them, and a rule whose condition names one reads it as
        # written: `resolved_at: null` keeps such a ticket out, as it says)
        for key, value in (("resolved_at", ticket.resolved_at), ("closed_at", ticket.closed_at),
                           ("csat", ticket.csat)):  # fmt: skip
            if value is not None:
                add(key, f"{key} is set, but the ticket is {ticket.status} (reopening clears"
                    " it): remove it, or give the ticket the status it belongs to",
                    blocking=False)  # fmt: skip
    for key in _TEXT_FIELDS:  # (written by hand unquoted: a phone number's leading 0 lost,
        # `1e3` a title of 1000.0, and so written into what esc writes next; not blocking:
        # its words are shown as read; audit helper-421)
        value = doc.data.get(key)
        if isinstance(value, (bool, int, float)):
            kind = "a boolean" if isinstance(value, bool) else "a number"
            add(key, f"{key} is read as {kind} ({as_text(value)}), not as written: quote it",
                blocking=False)  # fmt: skip
    problem = None if not ticket.title or ticket.title.isprintable() else line_problem(ticket.title)
    if problem is not None:  # (written by hand as a block, `title: |`, or with an escape,
        # "\0": `create` refuses it; not blocking, its words are shown, escaped)
        add("title", f"title must be one line ({problem})", blocking=False)
    for key, name in (("assignee", ticket.assignee), ("customer", ticket.customer)):
        problem = None if name is None or name.isprintable() else line_problem(name)
        if problem is not None:  # (a command refuses such a name; shown escaped, not
            # blocking: written by hand, it harms nothing esc computes)
            add(key, f"{key} {name!r} is not one line of text: {problem}", blocking=False)
    if ticket.assignee is not None and ticket.assignee.startswith("-"):  # (as teams.yaml's
        # members: `esc assign` and `--by` refuse such a name; written by hand, not blocking)
        add("assignee", f"assignee {ticket.assignee!r} starts with '-', which a command line"
            " reads as an option: no person's name does", blocking=False)  # fmt: skip
    if ticket.channel is not None and ticket.channel not in CHANNELS:
        hint = _hint(ticket.channel, CHANNELS)
        add("channel", f"unknown channel {ticket.channel!r}{hint}; one of {', '.join(CHANNELS)}")
    for key, at in (
        ("updated", ticket.updated),
        ("first_response_at", ticket.first_response_at),
        ("resolved_at", ticket.resolved_at),
        ("closed_at", ticket.closed_at),
    ):  # (an edit by hand: facts that contradict each other, which no rule may act on
        # and no clock count from; the ticket is refused until they are mended)
        if at is not None and ticket.created is not None and at < ticket.created:
            said = f"{key} {format_timestamp(at)} is before created"
            add(key, f"{said} {format_timestamp(ticket.created)}")
    # (an escalation made, or a request asked, before the ticket was: as contradictory,
    # counted by reports in a period before it (audit helper-421), an OLA counted from a
    # wrong start; one closed before it was asked is the request's own problem, found as
    # it is read)
    for key, what, times in (
        ("escalations", "escalation {}: at", [e.at for e in ticket.escalations]),
        ("requests", "request {}: asked", [r.asked for r in ticket.requests]),
    ):
        lines = doc.item_lines.get(key, [])
        for n, at in enumerate(times):
            if ticket.created is not None and at < ticket.created:
                line = lines[n] if n < len(lines) else None
                said = f"{what.format(n + 1)} {format_timestamp(at)} is before created"
                add(key, f"{said} {format_timestamp(ticket.created)}", line)
    closed, resolved = ticket.closed_at, ticket.resolved_at
    if closed is not None and resolved is not None and ticket.created <= closed < resolved:
        said = f"closed_at {format_timestamp(closed)} is before resolved_at"
        # (not blocking: a replayed rule's `status: closed` before a person's later
        # resolution leaves them so, and no rule or clock reads `closed_at`)
        add("closed_at", f"{said} {format_timestamp(resolved)}", blocking=False)
    if config is not None:
        _against_config(doc, config, add)
    return sorted(out, key=lambda f: f.line)  # (in the file's order, as one reads it)


def _id_findings(doc: TicketDoc) -> list[Finding]:
    """The ticket's ID, if it does not match its file's name."""
    ticket_id = doc.ticket.id
    stem = doc.path.rsplit("/", 1)[-1].removesuffix(".md")
    if not ticket_id or ticket_id == stem:
        return []
    said = f"id {ticket_id} does not match the file name {stem}.md"
    return [Finding(doc.path, doc.key_lines.get("id", 1), said)]


def _against_config(doc: TicketDoc, config: Config, add: Callable[..., None]) -> None:
    ticket = doc.ticket
    if ticket.priority and ticket.priority not in config.priorities:
        add(
            "priority",
            f"unknown priority {ticket.priority!r}{_hint(ticket.priority, config.priorities)}"
            f"; one of {', '.join(config.priorities)}",
        )
    if ticket.team and ticket.team not in config.teams:
        hint = _hint(ticket.team, tuple(config.teams))
        add("team", f"unknown team {ticket.team!r}{hint}; one of {', '.join(config.teams)}")
    if (
        ticket.category is not None
        and config.categories is not None
        and ticket.category not in config.categories
    ):
        add(
            "category",
            f"unknown category {ticket.category!r}{_hint(ticket.category, config.categories)}"
            f"; one of {', '.join(config.categories)}",
        )
    if config.priority_matrix:
        if ticket.impact is not None and ticket.impact not in config.impact_levels:
            add(
                "impact",
                f"unknown impact {ticket.impact!r}{_hint(ticket.impact, config.impact_levels)}"
                f"; one of {', '.join(config.impact_levels)}",
            )
        if ticket.urgency is not None and ticket.urgency not in config.urgency_levels:
            add(
                "urgency",
                f"unknown urgency {ticket.urgency!r}"
                f"{_hint(ticket.urgency, config.urgency_levels)}"
                f"; one of {', '.join(config.urgency_levels)}",
            )
    _sweep_blocks(doc, config, add)
    _misspelt_keys(doc, config, add)
    lines = doc.item_lines.get("escalations", [])
    numbers = _numbers_in_file(doc.data.get("escalations"), [e.to for e in ticket.escalations])
    for n, esc in zip(numbers, ticket.escalations, strict=True):
        names = config.priorities if esc.kind == "priority" else tuple(config.teams)
        what = "priority" if esc.kind == "priority" else "team"
        for end in (esc.from_, esc.to):
            if end is not None and end not in names:
                where = lines[n - 1] if n <= len(lines) else None
                said = f"escalation {n}: unknown {what} {end!r}{_hint(end, names)}"
                add("escalations", said, where)
        if (
            esc.kind == "priority"
            and esc.from_ in config.priorities
            and esc.to in config.priorities
            and config.rank(esc.to) <= config.rank(esc.from_)
        ):  # (a priority escalation goes up, as `esc escalate --priority` refuses any other;
            # said, not blocking: a record of the past, whose priorities may have changed)
            where = lines[n - 1] if n <= len(lines) else None
            said = f"escalation {n}: a priority escalation from {esc.from_} to {esc.to}, not up"
            add("escalations", f"{said} (one raises the priority)", where, False)
    lines = doc.item_lines.get("requests", [])
    numbers = _numbers_in_file(doc.data.get("requests"), [r.team for r in ticket.requests])
    open_to: dict[str, int] = {}  # team -> the number of its first open request
    for n, request in zip(numbers, ticket.requests, strict=True):
        where = lines[n - 1] if n <= len(lines) else None
        asked = config.teams.get(request.team)
        if asked is None:
            unknown = unknown_choice("team", request.team, tuple(config.teams))
            add("requests", f"request {n}: {unknown}", where)
        elif (
            request.state == "open"
            and request.person is not None
            and request.person not in asked.people
        ):
            people = ", ".join(asked.people) or "nobody"
            add(
                "requests",
                f"request {n}: {request.person} is not in team {request.team} ({people})",
                where,
                blocking=False,  # (as `esc involve` refuses it; or a member since left)
            )
        if request.state == "open" and request.team == ticket.team:
            add(
                "requests",
                f"request {n}: an open request to {request.team}, which owns the ticket "
                f"(`esc answer --team {request.team}` closes it)",
                where,
                blocking=False,
            )
        if request.state == "open" and request.team in open_to:
            first = open_to[request.team]
            add(
                "requests",
                f"request {n}: a second open request to {request.team} (request {first} is"
                f" open: `esc answer --team {request.team}` closes both)",
                where,
                blocking=False,  # (a merge of two clones made it; the answer mends it)
            )
        elif request.state == "open":
            open_to[request.team] = n


def _hint(value: object, choices: tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for a misspelt name, else nothing."""
    return did_you_mean(value, choices) if isinstance(value, str) else ""


def _numbers_in_file(raw: object, kept: list[str]) -> list[int]:
    """The number (from 1) in the file's list ``raw`` of each entry read from it, ``kept``
    by the team each names (``to``, ``team``): the entries that do not parse are left
    out of ``kept``, not out of the file's numbering."""
    items = raw if isinstance(raw, list) else []
    numbers: list[int] = []
    i = 0
    for team in kept:
        while i < len(items) and not (
            isinstance(items[i], dict)
            and team in (str(items[i].get("to")), str(items[i].get("team")))
        ):
            i += 1
        numbers.append(i + 1)
        i += 1
    return numbers


def _sweep_blocks(doc: TicketDoc, config: Config, add: Callable[..., None]) -> None:
    """The ``sla`` block's policy and the rules ``fired`` names must be the configuration's:
    a misspelt one is none the sweep wrote.  Not blocking: a policy or rule renamed or
    removed in rules.yaml leaves such names behind (a sweep keeps a rule's memory: a rule
    removed and put back does not fire again where it fired), and the sweep writes the
    ``sla`` block anew (``fired`` keeps them)."""
    sla = doc.data.get("sla")
    policy = sla.get("policy") if isinstance(sla, dict) else None
    names = [p.name for p in config.policies]
    if isinstance(policy, str) and policy not in names and policy not in config.unloaded:
        where = _line_in_block(doc, "sla", "policy")
        add("sla", f"sla: {unknown_choice('policy', policy, names)}", where, blocking=False)
    fired = doc.data.get("fired")
    rules = [r.name for r in config.automation]
    for name in fired if isinstance(fired, dict) else ():
        if isinstance(name, str) and name not in rules and name not in config.unloaded:
            where = _line_in_block(doc, "fired", name)
            gone = " (a rule renamed or removed in rules.yaml: its memory, kept lest it fire"
            gone += " again if put back; delete the line once it is gone for good)"
            said = f"fired: {unknown_choice('rule', name, rules)}{gone}"
            add("fired", said, where, blocking=False)


# The front-matter keys esc writes: a key of your own that reads as a misspelling of one
# is said so (as teams.yaml's keys are)
ESC_KEYS = (*FIELD_ORDER, *INTAKE_KEYS, MESSAGE_IDS, ATTACHMENTS, REPLIES_TO)


def _misspelt_keys(doc: TicketDoc, config: Config, add: Callable[..., None]) -> None:
    """A key esc does not write and rules.yaml's ``fields`` does not declare, one typo
    from one esc writes or it declares (``priorty``, ``categroy``; ``vpi`` of a declared
    ``vip``): a problem that stops every command
    writing the ticket, as every problem `esc validate` names does (issue 14: a misspelt
    `categroy: outage` left the ticket uncategorised, and the rules on its category
    silently never matched); declaring the key in ``fields`` says it is meant."""
    declared = config.fields
    for key in doc.data:
        if key in COMPUTED_KEYS:  # (not blocking: nothing esc computes reads it)
            add(key, f"{key!r} is a name esc gives a value of its own (the ticket's {key} in"
                " `show --json` and `list --json`): this key is left out there; rename it",
                blocking=False)  # fmt: skip
            continue
        if not isinstance(key, str) or key in _ESC_KEY_SET or key in declared:
            continue
        hint = _key_hint(key, tuple(declared))  # (`vpi` when rules.yaml declares `vip`)
        if hint:
            add(key, f"unknown key {key!r}{hint}; declare it in rules.yaml's fields if it is meant")


_ESC_KEY_SET = frozenset(ESC_KEYS)


@functools.lru_cache(maxsize=4096)
def _key_hint(key: str, declared: tuple[str, ...] = ()) -> str:
    """" (did you mean 'priority'?)" for a key one typo from one esc writes or rules.yaml
    declares (a letter left out, added, changed or two swapped, or another case:
    ``priorty``, ``tgas``, ``Title``, ``vpi`` of a declared ``vip``); else "".  Stricter
    than for names in rules.yaml: a key of one's own is welcome, and ``customer_id`` or
    ``created_by`` is one, not a misspelling.  (Once a run per key: tickets repeat their
    keys, and a sweep checks every ticket it writes.)"""
    for known in (*ESC_KEYS, *declared):
        if key.casefold() == known.casefold() or _one_typo(key, known):
            return f" (did you mean {known!r}?)"
    return ""


def _one_typo(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with one letter left out, added or changed, or two swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )  # fmt: skip
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((n for n in range(len(short)) if short[n] != long[n]), len(short))
    return short[i:] == long[i + 1 :]


def _line_in_block(doc: TicketDoc, top: str, key: str) -> int | None:
    from esc.ticketfile.document import line_in_block  # (only for a finding)

    start = doc.key_lines.get(top)
    return None if start is None else line_in_block(doc.text, start, key)
