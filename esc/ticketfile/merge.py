"""A git merge driver for ticket files: three versions in, one merged ticket out.

Git calls ``esc merge-file %O %A %B`` when both sides of a merge, rebase or cherry-pick
changed the same ``tickets/*.md`` file.  Instead of merging lines, esc merges the ticket
field by field:

- a front-matter field changed on one side only takes that side's value; changed to the
  same value on both sides it is simply kept;
- ``message_ids`` and ``attachments`` (what intake recorded of each mail) only grow: both
  sides' additions are kept, once each, theirs' after ours';
- ``tags`` and ``escalations`` only grow: both sides' additions are kept, once each
  (escalations in time order, ties ours first; tags in the order their log lines give
  them: theirs' new ones placed by when they were tagged), but a person's escalation on
  each side from the same place (two people escalating at once) is a conflict;
- ``requests`` (to other teams) merge request by request, each named by its team and
  ``asked`` time: both sides' new requests are kept (theirs' placed by when they were
  asked, ties ours first); a request one side answered or declined takes that side's
  state (both did: the earlier close wins, ours on a tie); one a side deleted stays
  deleted unless the other side closed it; both sides asking the same team at once (two
  open requests to one team, which ``esc involve`` never makes) is a conflict, and so is
  an open request to the team one side escalated the ticket to (which owns it then: a
  request to it is answered by the escalation, and never made);
- ``status`` changed differently on both sides is a conflict, with the fields each
  change set, but a person's status on a ``new`` ticket against the ``open`` a sweep's
  rule set there as a side effect: the person's stands;
- ``updated`` takes the later time and ``first_response_at`` the earlier one (the first
  response is the first of the two replies, and both replies are in the conversation);
- ``sla`` (written by ``esc sweep``, derived) is never a conflict: the side with the later
  ``checked`` time wins, ours on a tie; the next sweep recomputes it anyway from the
  merged ticket.  ``fired`` (when each rule last fired) merges rule by rule, each taking
  the later time.  When the kept block's sweep never saw what the other side did before
  its ``checked``, that time is moved back to a second before it; a side that changed the
  base only as sweeps do, after a person's change on the other side, is named
  (``unseen_by``: :func:`esc.store.merge_driver.merge_files` may take the other side
  whole);
- the conversation (each ``### ...`` entry) and the activity log (each ``- ...`` line) are
  merged as a union in time order, ours first on a tie, an item present on both sides
  counting once; an item one side removed stays removed;
- the description is merged as text, like ``git merge-file``;
- a true conflict, the same field changed to different values on both sides (or the
  description changed in the same place), keeps both versions between git's conflict
  markers (``<<<<<<< ours``, ``=======``, ``>>>>>>> theirs``).  In the front-matter the
  markers make the YAML unparseable on purpose, so ``esc validate`` reports the file at
  that line until someone resolves it.

The merged front-matter is ours' text with theirs' changes applied by
:class:`~esc.ticketfile.yaml_text.FrontMatterEditor`, so every untouched line keeps its
bytes, and the result is checked to mean exactly what was intended.  If a version does not
parse as a ticket (or esc cannot merge it safely), the whole file is merged as plain text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar, cast

from esc.domain.errors import ParseError
from esc.domain.lifecycle import ANSWERED, answered_after, entry_added
from esc.domain.mail import ATTACHMENTS, MESSAGE_IDS, RECIPIENTS, REPLIES_TO
from esc.domain.model import FIELD_ORDER, STATUS_SET_FIELDS, Activity, by_esc, one_form
from esc.domain.records import immutable
from esc.domain.timestamps import coerce_timestamp, format_timestamp, timestamp
from esc.ticketfile import fingerprint, yaml_text
from esc.ticketfile.body import (
    ACTIVITY,
    CONVERSATION,
    ENTRY_HEAD,
    SEP,
    activity_time,
    description_end,
    entry_time,
    heading_of,
    parse_activity_line,
)
from esc.ticketfile.document import TicketDoc, apply_change, parse, unstamped

OURS_MARK, SPLIT_MARK, THEIRS_MARK = "<<<<<<< ours", "=======", ">>>>>>> theirs"
DESCRIPTION = "description"
ENTRY = "conversation"  # (an entry edited differently on both sides)
TEXT = "text"

_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

T = TypeVar("T")
H = TypeVar("H", bound=Hashable)


class _Missing:
    """A key absent from one version of the front-matter."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_CONFLICT: Any = object()


class Unmergeable(Exception):
    """A version esc cannot merge field by field (it falls back to a text merge)."""


Side = Literal["ours", "theirs"]


@immutable
class MergeResult:
    """The merged text, and what still conflicts (front-matter keys, ``description``, or
    ``text`` for a plain text merge); clean when ``conflicts`` is empty."""

    text: str
    conflicts: list[str]
    structured: bool = True  # False: merged as plain text, because a version is no ticket
    # the side that changed the base only as sweeps do, after a change a person made on
    # the other side, which they never saw (:func:`swept_before`)
    unseen_by: Side | None = None
    # the side that gave way: a sweep's rewrite alone of what the other side changed
    # unseen, so the other side was taken whole (:func:`esc.store.merge_driver.merge_files`)
    replayed: Side | None = None
    # the sides whose changes hold others' beside a sweep's that never saw the other
    # side's (intake's message committed with the sweep's rewrite: :func:`swept_amid`)
    amid: tuple[Side, ...] = ()
    # with ``replayed``: only that side's sweep gave way; the rest of it is merged with
    # the other side
    kept_own: bool = False

    @property
    def clean(self) -> bool:
        return not self.conflicts


# ---------------------------------------------------------------- the merge


TextMerge = Callable[[str, str, str], tuple[str, bool]]
"""A plain three-way text merge (base, ours, theirs) -> (text, whether conflicts remain);
esc uses ``git merge-file`` (:func:`esc.store.merge_driver.merge_text`)."""


def merge_ticket(base: str, ours: str, theirs: str, merge_text: TextMerge) -> MergeResult:
    """Merge three versions of one ticket file (see the module docstring for the rules);
    ``merge_text`` merges the description, and whole files that are not tickets.  The
    sweeps' fingerprints are left out of a merged text, which no sweep wrote
    (:mod:`esc.ticketfile.fingerprint`)."""
    base, theirs = (in_the_breaks_of(ours, text) for text in (base, theirs))
    plain = [unstamped(text) for text in (base, ours, theirs)]
    if ours == theirs or theirs == base or plain[1] == plain[2] or plain[2] == plain[0]:
        return MergeResult(ours, [])  # (as it is, with its fingerprint, if it has one)
    if ours == base or plain[1] == plain[0]:
        return MergeResult(theirs, [])
    base, ours, theirs = plain
    docs = _parsed(base, ours, theirs)  # (read once, for the merge and for swept_before)
    try:
        if docs is None:
            raise Unmergeable("a version is no ticket")
        result = _merge_tickets(docs, ours, merge_text)
        lost = lost_lines(base, ours, theirs, result.text)
        if lost:  # a line the field-by-field merge would drop: merge the text instead
            raise Unmergeable(f"the field-by-field merge would drop {lost[0]!r}")
        if result.clean:
            result = replace(result, text=_answered_in_the_merge(docs, result.text))
    except Unmergeable:
        text, conflicted = merge_text(base, ours, theirs)
        result = MergeResult(text, [TEXT] if conflicted else [], structured=False)
    if docs is None:
        return result
    side = swept_before(*docs)
    if side is not None:
        return replace(result, unseen_by=side)
    sides = swept_amid(*docs)
    return replace(result, unseen_by=sides[0], amid=sides) if sides else result


def _answered_in_the_merge(docs: tuple[TicketDoc, TicketDoc, TicketDoc], merged: str) -> str:
    """``merged`` with what a customer's message from one side does to the status the
    other side set before it, never having seen it (intake took Ann's reply in the cron's
    clone while alice resolved the ticket in hers, or put it on hold, or closed it): the
    ticket opens again, `customer replied`, at the first such message, as it would have
    had alice's change come first (merged field by field, the ticket stayed resolved, or
    waiting for the customer, with her answer unread in it)."""
    b, o, t = docs
    status = {"ours": o.ticket.status, "theirs": t.ticket.status}
    try:
        doc = parse(merged, "merged")
    except ParseError:
        return merged
    ticket = doc.ticket
    if ticket.status not in ("pending", "resolved", "closed"):
        return merged
    known = set(b.ticket.activity)
    for setter, other in ((o, t), (t, o)):
        if setter.ticket.status != ticket.status or status["ours"] == status["theirs"]:
            continue
        moved = [a.at for a in setter.ticket.activity if a.field == "status" and a not in known]
        if not moved:
            continue
        seen = set(setter.ticket.entries) | set(b.ticket.entries)
        later = sorted(  # (one in the very second of the person's change may have come
            # after it: it opens the ticket, never left unread in it)
            (e for e in other.ticket.entries
             if e.kind == "message" and e not in seen and e.at >= max(moved)),
            key=lambda e: e.at,
        )  # fmt: skip
        if not later:
            return merged
        change = answered_after(ticket, later[0].at, later[0].author)
        # (a field the other side's own `customer replied` logged at that instant already,
        # as it opened the ticket it had resolved: not logged twice)
        logged = {(a.at, a.by, a.field) for a in ticket.activity if a.field}
        lines = tuple(a for a in change.activity if (a.at, a.by, a.field) not in logged)
        return apply_change(doc, replace(change, activity=lines)) if change else merged
    return merged


def _parsed(base: str, ours: str, theirs: str) -> tuple[TicketDoc, TicketDoc, TicketDoc] | None:
    """The three versions as tickets; None if one is no ticket (merged as text)."""
    try:
        return parse(base, "base"), parse(ours, "ours"), parse(theirs, "theirs")
    except ParseError:
        return None


def swept_before(b: TicketDoc, o: TicketDoc, t: TicketDoc) -> Side | None:
    """The side that changed the base only as sweeps do (:func:`swept_until`) after a
    change a person made on the other side, which it never saw: a line of the other
    side's log by a person, not in the base, no later than the last line the sweeps
    added or their ``checked``.  (A person's escalation at 09:20 in one clone, a rule's
    at the 09:30 breach in a cron clone that never saw it: the rule's went from the old
    team.)  None if there is none.  (``b``, ``o``, ``t``: base, ours and theirs.)"""
    sides: tuple[tuple[Side, TicketDoc, TicketDoc], ...] = (("ours", o, t), ("theirs", t, o))
    for side, swept, other in sides:
        until = swept_until(b, swept)
        if until is None:
            continue
        until = max(until, _checked(swept.ticket.extra.get("sla")) or until)  # (and what
        # came after its lines but before its check, which it never saw either: a
        # person's escalation at 10:15 to where the rule's at 10:00 took it made the rule's
        # needless, as the sweep at 10:30 would have found had it seen it; merged, the
        # ticket held both, one move counted twice)
        if unseen_until(b, swept, other, until):
            return side
    return None


def swept_until(base: TicketDoc, side: TicketDoc) -> dt.datetime | None:
    """The time of the last line sweeps added to ``base`` in ``side``, when what ``side``
    changed of ``base`` reads as a sweep's: lines of the log by esc or a rule, a rule's
    notes and escalations, the description as it was, nothing removed.  None otherwise,
    or if they added no line.  (What the merge driver then takes for a sweep's alone it
    plans again, byte for byte: :meth:`esc.commands.sweep.SweepsWrites.gives_way`.)"""
    b, s = base.ticket, side.ticket
    lines = _added(b.activity, s.activity)
    if not lines or b.description != s.description or not all(_by_a_sweep(a.by) for a in lines):
        return None
    entries, escalations = _added(b.entries, s.entries), _added(b.escalations, s.escalations)
    if entries is None or escalations is None:
        return None
    if not all(_by_a_sweep(e.author) for e in entries) or not all(
        _by_a_sweep(e.by) for e in escalations
    ):
        return None
    return max(a.at for a in lines)


def swept_amid(b: TicketDoc, o: TicketDoc, t: TicketDoc) -> tuple[Side, ...]:
    """As :func:`swept_before`, for a side whose changes of the base hold a sweep's lines
    among others (the customer's message intake took, which the cron line's sweep commits
    with its own rewrite; a person's note): the sides whose sweep added lines after a
    change a person made on the other side, which that side never saw (both, when each
    side's sweep missed the other's: the caller takes the one it can take apart)."""
    found: list[Side] = []
    sides: tuple[tuple[Side, TicketDoc, TicketDoc], ...] = (("ours", o, t), ("theirs", t, o))
    for side, swept, other in sides:
        lines = _added(b.ticket.activity, swept.ticket.activity)
        if not lines:
            continue
        ran = [a.at for a in lines if _by_a_sweep(a.by)]
        if not ran:
            continue
        checked = _checked(swept.ticket.extra.get("sla"))  # (as in swept_before)
        until = max(ran) if checked is None else max(*ran, checked)
        if unseen_until(b, swept, other, until):
            found.append(side)
    return tuple(found)


# The fields a sweep's plan writes whatever its rules say: its block and its rules' times
_SWEEPS_OWN = ("sla", "fired")
UNSWEPT_FIELDS_AT_MOST = 6  # (fields that either a sweep or the rest may have changed)
UNSWEPT_TRIES_AT_MOST = 16  # (versions made: the likeliest come first; a long ticket's
# plan takes a tenth of a second, and a rebase may merge it for several commits)
# What intake records of a ticket's mail, which no sweep writes: the side's as they are
_MAIL_KEYS = (MESSAGE_IDS, RECIPIENTS, REPLIES_TO)


def unswept(base: TicketDoc, side: TicketDoc) -> Iterator[str]:
    """The texts ``side`` may have been before the sweep that rewrote it last ran (what
    :func:`swept_amid` names), made one at a time: ``side`` without the sweeps' lines of
    the log, notes and escalations it added to ``base``, its ``sla`` block and ``fired``
    as ``base`` has them, ``updated`` the latest time of what else it added (no earlier
    than the base's: what intake wrote), and each other field that changed either as
    ``side`` or as ``base`` has it (a rule's escalation moved ``team``), the likeliest first
    (a field sweeps' lines log as changed, and no one else's, as ``base`` has it).  Which
    of them a sweep makes ``side`` of, byte for byte, the caller tells
    (:meth:`esc.commands.sweep.SweepsWrites.unswept`).  None if ``side`` cannot be taken
    apart so (a line of the base's gone, an escalation of another's added)."""
    b, s = base.ticket, side.ticket
    lines, escalations = _added(b.activity, s.activity), _added(b.escalations, s.escalations)
    if not lines or escalations is None or not all(_by_a_sweep(e.by) for e in escalations):
        return
    try:
        body = _unswept_body(base.body, side.body)
        mine, was = yaml_text.field_spans(side.front), yaml_text.field_texts(base.front)
    except (Unmergeable, yaml_text.YamlError):
        return
    if body is None:
        return
    own = [k for k in (*_SWEEPS_OWN, "escalations") if k != "escalations" or escalations]
    changed = [
        str(k) for k in {**base.data, **side.data}
        if k not in own and k not in _MAIL_KEYS and k != "updated"
        and not _same(base.data.get(k, MISSING), side.data.get(k, MISSING))
    ]  # fmt: skip
    if len(changed) > UNSWEPT_FIELDS_AT_MOST or any(
        k not in mine and k in was for k in (*own, *changed)
    ):  # (too many to try; a key the side lacks and the base has: nowhere to put it)
        return
    nl = yaml_text.line_break_of(side.front)
    stamp = fingerprint.split_off(base.front)[1]  # (a sweep's fingerprint: kept, stale, by
    # a person's command, as intake's, that edited the file after it)
    fixed = {k: _ended(was.get(k, ""), nl) for k in own if k in mine}
    updated = _updated_before(b.updated, lines, side, mine.get("updated"))
    if updated is not None:
        fixed["updated"] = updated
    logged = {a.field for a in lines if a.field and _by_a_sweep(a.by)}
    others = {a.field for a in lines if a.field and not _by_a_sweep(a.by)}
    likely = {k for k in changed if k.partition(".")[0] in logged and k not in others}
    # each choice of the fields to put back, the likeliest first: the fields sweeps logged
    # put back, then one field more or less each time
    choices = sorted(
        (frozenset(k for i, k in enumerate(changed) if mask >> i & 1)
         for mask in range(1 << len(changed))),
        key=lambda back: (len(back ^ likely), sorted(back)),
    )  # fmt: skip
    for back in choices[:UNSWEPT_TRIES_AT_MOST]:  # (each planned again by the caller)
        put = {**fixed, **{k: _ended(was.get(k, ""), nl) for k in back if k in mine}}
        front = side.front
        for key in sorted(put, key=lambda k: mine[k][0], reverse=True):
            start, end = mine[key]
            front = front[:start] + put[key] + front[end:]
        front = fingerprint.split_off(front)[0] + stamp  # (the sweeps' own too, as base's)
        text = side.text[: side.front_start] + front + side.text[side.front_end : side.body_start]
        try:
            parse(text + body, "unswept")
        except ParseError:
            continue
        yield text + body


def _updated_before(
    was: dt.datetime | None,
    lines: Sequence[Activity],
    side: TicketDoc,
    span: tuple[int, int] | None,
) -> str | None:
    """The ``updated:`` line of ``side`` as it was before its sweep: the latest time of the
    lines others added to the log (the base's ``updated``, if later: what intake wrote),
    in place of the time it says; None if it says that already, or if it cannot be told."""
    times = [a.at for a in lines if not _by_a_sweep(a.by)]
    if was is None or span is None:
        return None
    before, now = max([was, *times]), side.ticket.updated
    if now is None or before == now:
        return None
    line, said = side.front[span[0] : span[1]], format_timestamp(now)
    if line.count(said) != 1:
        return None
    return line.replace(said, format_timestamp(before))


def _unswept_body(base: str, side: str) -> str | None:
    """``side``'s body without the conversation entries and activity lines sweeps added
    to ``base``'s (a section only they made gone with them); None if it reads otherwise."""
    b, s = _split_body(base), _split_body(side)
    if s.activity is None:
        return None
    parts = [s.description]
    for was, now, author in (
        (b.conversation, s.conversation, _entry_author),
        (b.activity, s.activity, _line_author),
    ):
        if now is None:
            continue
        have = Counter(was.items if was else [])
        kept = []
        for item in now.items:
            if have[item]:
                have[item] -= 1
                kept.append(item)
            elif not _by_a_sweep(author(item) or ""):
                kept.append(item)
        if kept or was is not None or now is s.activity:
            parts.append(_Section(now.head, kept, now.tail).text)
    return "".join(parts)


def _entry_author(block: str) -> str | None:
    head = ENTRY_HEAD.fullmatch(block.partition("\n")[0].rstrip("\r"))
    return None if head is None else head["author"].strip()


def _line_author(line: str) -> str | None:
    item = parse_activity_line(line.rstrip("\r\n"))
    return None if item is None else item.by


_by_a_sweep = by_esc


def unseen_until(b: TicketDoc, swept: TicketDoc, other: TicketDoc, until: dt.datetime) -> bool:
    """Whether ``other`` holds a line of a person's, in neither the base ``b`` nor
    ``swept``, made no later than ``until``: a change ``swept``'s sweep never saw."""
    seen = set(b.ticket.activity) | set(swept.ticket.activity)
    return any(
        a.at <= until and a not in seen and not by_esc(a.by) for a in other.ticket.activity
    )


def _added(old: Sequence[H], new: Sequence[H]) -> list[H] | None:
    """What ``new`` holds that ``old`` does not, each as often as it is added; None if
    ``new`` lacks anything ``old`` holds."""
    have, had = Counter(new), Counter(old)
    if had - have:
        return None
    return list((have - had).elements())


def in_the_breaks_of(ours: str, text: str) -> str:
    """``text`` with ours' line breaks when each is written with one kind throughout (a side
    saved with CRLF by a Windows editor: every line differed, and the other side's edits
    all conflicted); as it is otherwise."""
    mine, its = _breaks(ours), _breaks(text)
    if mine is None or its is None or mine == its:
        return text
    return text.replace("\r\n", "\n").replace("\n", mine)


def _breaks(text: str) -> str | None:
    """The one kind of line break ``text`` has ("\r\n" or "\n"), None if mixed or none."""
    lines = text.count("\n")
    if not lines or "\r" in text.replace("\r\n", ""):
        return None
    crlf = text.count("\r\n")
    return "\r\n" if crlf == lines else "\n" if crlf == 0 else None


# Fields whose merged value is neither side's line but computed from both (see the module
# docstring): their lines may go, unless a person wrote a comment on them.
_COMPUTED = ("updated", "first_response_at", "tags", "escalations", "requests", "sla", "fired")


def lost_lines(base: str, ours: str, theirs: str, merged: str) -> list[str]:
    """The lines of ours or theirs that are missing from ``merged`` although neither side
    removed them (the lines base has and one side lacks): text nothing may drop.  Blank
    lines do not count, nor the lines of a field esc computes from both sides, unless
    they hold a ``#`` (a YAML comment someone wrote)."""
    kept = set(_lines(merged))
    removed = set(_lines(base)) - (set(_lines(ours)) & set(_lines(theirs)))
    merged_comments = {c for c in map(_field_comment, kept) if c is not None}
    # (a comment of base's on a field, which the other side changed: the merge keeps that
    # side's, `priority: urgent   # agreed with Jane`, and base's is no line lost)
    # (only for a key written once, in base and in the merge: a key of each item of a
    # block list, `    team:`, is no one line of base's)
    based = [c for c in map(_field_comment, _lines(base)) if c is not None]
    once = Counter((c[0], c[1]) for c in based)
    now = Counter((c[0], c[1]) for c in merged_comments)
    was = {(c[0], c[1]): c[2] for c in based if once[(c[0], c[1])] == 1}
    merged_comments |= {
        (indent, key, was[(indent, key)])
        for indent, key, comment in merged_comments
        if (indent, key) in was and now[(indent, key)] == 1 and comment != was[(indent, key)]
    }
    lost: list[str] = []
    instants = {_timed_key(line) for line in kept if line.startswith(("- ", "### "))}
    for side in (ours, theirs):
        computed, fields = _computed_lines(side)
        for line in _lines(side):
            if line in kept or line in removed or not line.strip():
                continue
            if line.startswith(("- ", "### ")) and _timed_key(line) in instants:
                continue  # (the same log line or entry head, its time in another offset)
            if line in computed and (
                "#" not in line or _field_comment(line) in merged_comments
            ):  # (a computed field's line: its value the merge's, a comment on it kept,
                # `  next_response: {…}  # merchant away` with the new state)
                continue
            if line in fields and (
                "#" not in line or _field_comment(line) in merged_comments
            ):  # (a field of one line: its value is the field merge's to decide, and only
                # a comment on it must stay, as `priority: high  # agreed` keeps it)
                continue
            lost.append(line)
    return lost


# A front-matter field of one line (or a block's child key, indented) with a comment after
# its value: (its indent, key, the comment)
_COMMENTED_FIELD = re.compile(r"([ \t]*)([A-Za-z_][\w-]*):[ \t]+[^#\s][^#]*?[ \t]+(#.*)")


def _field_comment(line: str) -> tuple[str, str, str] | None:
    found = _COMMENTED_FIELD.fullmatch(line)
    if found is None:
        return None
    return found.group(1), found.group(2), found.group(3).rstrip()


def _lines(text: str) -> list[str]:
    """The lines of ``text``; an activity line without the blanks it may end in (every
    reader, and the merge itself, takes it without them: :func:`_line_key`)."""
    out = []
    for line in text.splitlines():
        line = line.rstrip("\r\n")
        if line.startswith("- ") and line != line.rstrip() and _line_time(line) is not None:
            line = line.rstrip()
        out.append(line)
    return out


def _computed_lines(text: str) -> tuple[set[str], set[str]]:
    """The lines of the fields in _COMPUTED in the front-matter of ticket text ``text``,
    and the front-matter's fields written on one line (``priority: high  # agreed``)."""
    try:
        doc = parse(text, "side")
    except ParseError:
        return set(), set()
    try:
        fields = yaml_text.field_texts(doc.front)  # (one parse for all of them)
    except yaml_text.YamlError:
        return set(), set()
    out: set[str] = set()
    for key in _COMPUTED:
        if key in fields:
            out.update(_lines(fields[key]))
    single = {field.rstrip("\r\n") for field in fields.values() if "\n" not in field.rstrip("\r\n")}
    return out, single


def _merge_tickets(
    docs: tuple[TicketDoc, TicketDoc, TicketDoc], ours: str, merge_text: TextMerge
) -> MergeResult:
    b, o, t = docs
    nl = yaml_text.line_break_of(ours)
    try:
        front, conflicts = _merge_front(b, o, t, nl)
    except (TypeError, ValueError, yaml_text.YamlError, yaml_text.EditError) as exc:
        raise Unmergeable(f"front-matter: {exc}") from None
    body, body_conflicts = _merge_body(b.body, o.body, t.body, nl, merge_text)
    text = ours[: o.front_start] + front + ours[o.front_end : o.body_start] + body
    if not conflicts and not body_conflicts:  # (markers do not parse, on purpose)
        try:
            parse(text, "merged")
        except ParseError as exc:  # pragma: no cover - the front-matter was verified
            raise Unmergeable(str(exc)) from None
    return MergeResult(text, conflicts + body_conflicts)


# ---------------------------------------------------------------- front-matter


def _merge_front(
    base: TicketDoc, ours: TicketDoc, theirs: TicketDoc, nl: str
) -> tuple[str, list[str]]:
    b, o, t = base.data, ours.data, theirs.data
    editor = yaml_text.FrontMatterEditor(ours.front, FIELD_ORDER)
    expected = dict(o)
    conflicts: list[str] = []
    keys = list(o) + [k for k in t if k not in o] + [k for k in b if k not in o and k not in t]
    # Each field's lines as written (comments too) where theirs' front-matter differs:
    # a field whose lines only theirs changed takes theirs' lines, not a rendering of
    # its value, so a comment theirs wrote on it is kept.
    texts = (
        [yaml_text.field_texts(f.front) for f in (base, ours, theirs)]
        if theirs.front != base.front
        else None
    )
    answered = _answered_side(base, ours, theirs)
    for key in keys:
        bv, ov, tv = (d.get(key, MISSING) for d in (b, o, t))
        if answered is not None and key in _STATUS_AND_ITS:  # (the person's status, and
            # what it set; the customer's message opens it again after, if it came later)
            value = tv if answered == "ours" else ov
            if not _same(value, ov):
                _apply(editor, str(key), ov, value)
                if value is MISSING:
                    expected.pop(key, None)
                else:
                    expected[key] = value
            continue
        if (
            texts is not None
            and bv is MISSING
            and ov is MISSING
            and tv is not MISSING
            and _add_their_lines(editor, str(key), base.front, theirs.front, nl)
        ):  # (a key only theirs added, with a comment on it or above it: as written)
            expected[key] = tv
            continue
        if texts is not None and _take_their_lines(editor, str(key), texts, nl):
            if not _same(tv, ov):
                expected[key] = tv
            continue
        if (  # (theirs wrote a comment on the line, ours changed its value: theirs' line,
            # with ours' value)
            texts is not None
            and _same(tv, bv)
            and not _same(ov, bv)
            and ov is not MISSING
            and texts[2].get(str(key)) != texts[0].get(str(key))  # (theirs wrote on it)
            and not _own_comment(texts[1].get(str(key), "#"), texts[0].get(str(key), ""))
            # (ours' own comment: ours' line; base's comment, which theirs changed: theirs')
            and _take_their_lines(editor, str(key), [texts[1], texts[1], texts[2]], nl)
        ):
            editor.set(str(key), ov)
            continue
        if _same(ov, tv) or _same(tv, bv):
            continue
        value = tv if _same(ov, bv) else _resolve(key, bv, ov, tv, (ours, theirs))
        if value is _CONFLICT:
            conflicts.append(str(key))
            continue
        if _same(value, ov):
            continue
        _apply(editor, str(key), ov, value)
        if value is MISSING:
            del expected[key]
        else:
            expected[key] = value
    if _assigned_in_the_team_left(b, o, t) and "assignee" not in conflicts:
        # (one side moved the ticket to another team, which leaves it to nobody there, and
        # the other gave it to someone of the team it left: merged on their own, the new
        # team's ticket had the old team's person; a person decides)
        _ours_again(editor, expected, "assignee", o)
        conflicts.append("assignee")
    if "status" not in conflicts and _escalated_after_settled(b, o, t):
        # (one side resolved or closed the ticket, the other escalated it after that: one
        # after the other, the escalation is refused, "reopen it first"; merged on their
        # own, a closed ticket moved on, its report counting both; a person decides)
        _ours_again(editor, expected, "status", o)
        conflicts.append("status")
    if "status" in conflicts:  # (what each side's status change set goes with it: merged
        # on their own, `closed` from one side and `resolved_at: null` from the other made
        # a ticket no choice of status validates)
        for key in STATUS_SET_FIELDS:
            if key in conflicts or _same(o.get(key, MISSING), t.get(key, MISSING)):
                continue
            _ours_again(editor, expected, key, o)
            conflicts.append(key)
    if "requests" not in conflicts and _owner_asked(expected) and not any(
        _owner_asked(side) for side in (b, o, t)
    ):  # (made by this merge: one that was there already is no conflict of this merge's)
        # (one side escalated to a team the other asked for help: an open request to the
        # team that owns the ticket, which neither command makes and `esc validate`
        # refuses; ours' requests and theirs' between markers, for a person to decide)
        _ours_again(editor, expected, "requests", o)
        conflicts.append("requests")
    if texts is not None:
        _take_their_gaps(editor, base.front, ours.front, theirs.front, nl)
    before = _unseen_since(base, ours, theirs, expected.get("sla", MISSING))
    if before is not None:  # (the next sweep replays from there, and tells of it)
        block = {**expected["sla"], "checked": before}
        _apply(editor, "sla", expected["sla"], block)
        expected["sla"] = block
    if _canon(yaml_text.load(editor.text)) != _canon(expected):
        raise Unmergeable("the merged front-matter would not mean what was intended")
    front = editor.text
    if conflicts:
        front = _mark_conflicts(front, theirs.front, conflicts, nl)
    return front, conflicts


def _assigned_in_the_team_left(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> bool:
    """Whether one side moved the ticket to another team, its assignee left as it was, while
    the other side kept the team and gave the ticket to someone."""
    for mover, other in ((ours, theirs), (theirs, ours)):
        moved = not _same(mover.get("team"), base.get("team"))
        if (
            moved
            and _same(other.get("team"), base.get("team"))
            and _same(mover.get("assignee"), base.get("assignee"))
            and not _same(other.get("assignee"), base.get("assignee"))
            and other.get("assignee") is not None
        ):
            return True
    return False


def _escalated_after_settled(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> bool:
    """Whether one side resolved or closed the ticket while the other escalated it at a
    time after that (audit helper-461)."""
    for settler, other in ((ours, theirs), (theirs, ours)):
        status = settler.get("status")
        if status not in ("resolved", "closed") or _same(status, base.get("status")):
            continue
        # (when it left the active statuses: resolved, then closed later, it was settled from
        # its resolve on; review helper-464)
        times = [coerce_timestamp(settler.get(key)) for key in ("resolved_at", "closed_at")]
        known = [t for t in times if t is not None]
        if not known:
            continue
        settled = min(known)
        before = base.get("escalations") or []
        added = [e for e in other.get("escalations") or [] if e not in before]
        for item in added:  # (a person's: a rule's is a sweep's, which gives way, or is
            # replayed, as the merge of what a sweep never saw has it)
            if not isinstance(item, Mapping) or _by_a_sweep(str(item.get("by", ""))):
                continue
            at = coerce_timestamp(item.get("at"))
            if at is not None and at > settled:
                return True
    return False


def _ours_again(
    editor: yaml_text.FrontMatterEditor, expected: dict[Any, Any], key: str, ours: Any
) -> None:
    """Put ours' value of ``key`` back in the front-matter being edited (and in what it is
    ``expected`` to hold), where the merge had taken another: ours' lines, for the markers
    of a conflict on it."""
    mine = ours.get(key, MISSING)
    if _same(expected.get(key, MISSING), mine):
        return
    _apply(editor, key, expected.get(key, MISSING), mine)
    if mine is MISSING:
        expected.pop(key, None)
    else:
        expected[key] = mine


def _owner_asked(front: Mapping[str, Any]) -> bool:
    """Whether the ticket has an open request to the team that owns it."""
    team, asked = front.get("team"), front.get("requests")
    return isinstance(asked, list) and any(
        isinstance(r, Mapping) and r.get("closed") is None and r.get("team") == team
        for r in asked
    )


def _own_comment(lines: str, base: str) -> bool:
    """Whether a field's ``lines`` hold a comment that is not the one base's ``lines`` of
    it hold (a comment one side wrote or changed on it)."""
    if "#" not in lines:
        return False
    mine, was = _field_comment(lines.rstrip("\r\n")), _field_comment(base.rstrip("\r\n"))
    return mine is None or was is None or mine[2] != was[2]


def _take_their_lines(
    editor: yaml_text.FrontMatterEditor, key: str, texts: list[dict[str, str]], nl: str
) -> bool:
    """Put theirs' lines of ``key`` in place of ours' if only theirs changed them (ours'
    are base's) and both sides have the field; True if done."""
    base, ours, theirs = (t.get(key) for t in texts)
    if ours is None or theirs is None or base is None or ours != base or theirs == base:
        return False
    text = editor.text
    found = [i for i in _occurrences(text, ours) if i == 0 or text[i - 1] == "\n"]
    if len(found) != 1:
        return False  # (not found once in what is being edited: leave it to the value merge)
    start = found[0]
    new = theirs.replace("\r\n", "\n").replace("\n", nl)
    editor.text = editor.text[:start] + new + editor.text[start + len(ours) :]
    return True


def _add_their_lines(
    editor: yaml_text.FrontMatterEditor, key: str, base: str, theirs: str, nl: str
) -> bool:
    """Add a key only theirs has, with the lines theirs wrote for it (a comment on its line,
    or on lines of their own above it), after the key theirs has before it; True if done.
    Rendered from its value, the comment was lost, and the whole file went to a text
    merge; without a comment there is nothing to keep: False (the value merge adds it)."""
    texts, gaps = yaml_text.field_texts(theirs), yaml_text.field_gaps(theirs)
    own = texts.get(key, "")
    known = set(base.splitlines(keepends=True))  # (a line of base above the field the key
    # went in front of is that field's, as written where it is: not the new key's)
    gap = "".join(line for line in gaps.get(key, "").splitlines(keepends=True)
                  if line not in known)  # fmt: skip
    if "#" not in own and not gap.strip():
        return False
    order = list(texts)
    before = order[: order.index(key)] if key in order else []
    text = editor.text
    at = None
    for previous in reversed(before):
        span = yaml_text.field_span(text, previous)
        if span is not None:
            at = span[1]
            break
    if at is None:
        return False
    if text[at - 1 : at] != "\n":
        return False
    lines = (gap + own).replace("\r\n", "\n").replace("\n", nl)
    editor.text = text[:at] + lines + text[at:]
    return True


def _take_their_gaps(
    editor: yaml_text.FrontMatterEditor, base: str, ours: str, theirs: str, nl: str
) -> None:
    """Put in the lines between fields (a comment on a line of its own, a blank line) that
    only theirs changed: a note a person wrote above `status:` on one side, and a tag
    added on each, merged as fields do (it had sent the whole file to a text merge, and its
    tags, `updated` and log lines between conflict markers)."""
    was, mine, their = (yaml_text.field_gaps(front) for front in (base, ours, theirs))
    for key, gap in their.items():
        old = was.get(key)
        if old is None or gap == old or mine.get(key) != old:
            continue  # (unchanged by theirs; or a field base lacks; or ours changed it too)
        text = editor.text
        if key is None:
            at = len(text)
        else:
            starts = [i for i in _occurrences(text, f"{key}:") if i == 0 or text[i - 1] == "\n"]
            if len(starts) != 1:
                continue
            at = starts[0]
        if text[at - len(old) : at] != old:
            continue
        new = gap.replace("\r\n", "\n").replace("\n", nl)
        editor.text = text[: at - len(old)] + new + text[at:]


def _occurrences(text: str, part: str) -> list[int]:
    found, at = [], text.find(part)
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def _resolve(
    key: str, base: Any, ours: Any, theirs: Any, docs: tuple[TicketDoc, TicketDoc]
) -> Any:
    """The merged value of a field both sides changed differently, or _CONFLICT (``docs``:
    ours and theirs, whose activity logs tell when each tag was added)."""
    if key in ("tags", "escalations") and all(_is_list(v) for v in (base, ours, theirs)):
        when = _escalation_time if key == "escalations" else _tagging_time(docs)
        mine, other = _listed(ours), _listed(theirs)
        if key == "escalations":
            edited = _edited_on_both_sides_alike(_listed(base), mine, other)
            if edited is _CONFLICT:
                return _CONFLICT
            mine, other = edited
            if _moved_alike(_listed(base), mine, other):
                return _CONFLICT
        key_of = _canon if key == "escalations" else _tag_key
        return merge_sequence(_listed(base), mine, other, key_of, when)
    if key in (MESSAGE_IDS, ATTACHMENTS) and all(_is_list(v) for v in (base, ours, theirs)):
        # (two clones that each took a reply by mail: each side's ids only grew)
        return merge_sequence(_listed(base), _listed(ours), _listed(theirs), _canon)
    if key == "updated":
        return _later(ours, theirs, coerce_timestamp)
    if key == "first_response_at":
        first, second = coerce_timestamp(ours), coerce_timestamp(theirs)
        if first is None or second is None:
            return _CONFLICT
        return theirs if second < first else ours
    if key == "sla":
        return _later(ours, theirs, _checked)
    if key == "fired":
        return _merge_fired(base, ours, theirs)
    if key == "requests" and all(_is_list(v) for v in (base, ours, theirs)):
        return _merge_requests(_listed(base), _listed(ours), _listed(theirs))
    if key == "status":
        return _a_person_s_status(base, ours, theirs, docs)
    return _CONFLICT


def _moved_alike(base: list[Any], ours: list[Any], theirs: list[Any]) -> bool:
    """Whether each side added an escalation by a person from the same place (both from
    support to another team, `--up` or `--to`; both from priority normal): two people
    escalating at once.  Serially the second is refused (`already with engineering`, `a
    priority escalation must go higher`) or goes further (`--up` from engineering), so
    merged as a union the ticket held two moves from support while at engineering, and
    reports counted both: a person decides which stands (or that both do)."""
    was = {_canon(item) for item in base}

    def moves(items: list[Any], other: list[Any]) -> set[tuple[str, str]]:
        theirs_too = {_canon(item) for item in other}
        return {
            ("priority" if item.get("kind") == "priority" else "team", str(item.get("from")))
            for item in items
            if isinstance(item, Mapping)
            and _canon(item) not in was
            and _canon(item) not in theirs_too
            and not by_esc(str(item.get("by")))  # (a rule's beside a person's: the sweep's
            # replay decides, :func:`swept_before`)
        }

    return bool(moves(ours, theirs) & moves(theirs, ours))


# A status, and what a change of it sets
_STATUS_AND_ITS = ("status", *STATUS_SET_FIELDS, "kb")


def _answered_side(base: TicketDoc, ours: TicketDoc, theirs: TicketDoc) -> Side | None:
    """The side whose last status change since the base is a customer's message opening
    the ticket (`customer replied`: intake took Ann's answer to the resolved ticket) while
    the other side's is a person's (alice closed it meanwhile): the person's status stands
    in the merge (it conflicted, and the cron's pushes stopped until a person resolved it),
    and the message opens the ticket again if it came after it
    (:func:`_answered_in_the_merge`).  None otherwise."""
    known = set(base.ticket.activity)

    def last(doc: TicketDoc) -> Any:
        moves = [a for a in doc.ticket.activity if a.field == "status" and a not in known]
        return moves[-1] if moves else None

    mine, other = last(ours), last(theirs)
    if mine is None or other is None:
        return None
    for side, one, two in (("ours", mine, other), ("theirs", other, mine)):
        if one.note == ANSWERED and two.note != ANSWERED:
            return cast(Side, side)
    return None


def _a_person_s_status(base: Any, ours: Any, theirs: Any, docs: tuple[TicketDoc, ...]) -> Any:
    """The status a person set on a `new` ticket (resolved it, put it on hold) where the
    other side's is the `open` a sweep's rule set as a side effect (an escalation opens a
    new ticket): the person's choice stands, as it would have had the sweep run first
    (`open` and then the person's move), and the next sweep replays the rest; any other
    pair of statuses is a conflict for a person to resolve."""
    if base != "new":
        return _CONFLICT
    opened = [_opened_by_esc(doc) for doc in docs]
    moved = [_status_moved_at(doc) for doc in docs]
    for rule_side, person_side, value in ((0, 1, theirs), (1, 0, ours)):
        when, by_person = opened[rule_side], moved[person_side]
        if (
            (ours, theirs)[rule_side] == "open"
            and when is not None
            and opened[person_side] is None
            and by_person is not None
            and by_person >= when  # (the person's move at or after the rule's: had the
            # sweep seen a move before it, the rule would not have acted on a ticket
            # resolved or on hold)
        ):
            return value
    return _CONFLICT


def _opened_by_esc(doc: TicketDoc) -> dt.datetime | None:
    """When the last status change in ``doc``'s log, `new → open` by esc's sweep or one of
    its rules, was made; None if the last one is another."""
    lines = [a for a in doc.ticket.activity if a.field == "status"]
    if not lines:
        return None
    last = lines[-1]
    automatic = by_esc(last.by)
    return last.at if automatic and (last.old, last.new) == ("new", "open") else None


def _status_moved_at(doc: TicketDoc) -> dt.datetime | None:
    """When the last status change in ``doc``'s log was made, if it has one."""
    lines = [a for a in doc.ticket.activity if a.field == "status"]
    return lines[-1].at if lines else None


def _tagging_time(docs: tuple[TicketDoc, TicketDoc]) -> Callable[[Any], dt.datetime | None]:
    """When each tag was first added (its `tagged` line in either side's log), for the
    tags both sides added to take their place in time order."""
    first: dict[str, dt.datetime] = {}
    for doc in docs:
        for line in doc.ticket.activity:
            tag = one_form(line.note)
            if line.event == "tagged" and tag and (tag not in first or line.at < first[tag]):
                first[tag] = line.at
    return lambda tag: first.get(one_form(tag)) if isinstance(tag, str) else None


def _merge_requests(base: list[Any], ours: list[Any], theirs: list[Any]) -> Any:
    """Requests to other teams merged one by one (named by team and ``asked``)."""

    def key(item: Any) -> tuple[str, str] | None:
        if not isinstance(item, Mapping):
            return None
        asked = coerce_timestamp(item.get("asked"))  # (as an instant: one a rule made in
        # two clones whose sweeps ran in other offsets is one request)
        return (str(item.get("team")), _instant(asked)) if asked is not None else None

    sides = []
    for items in (base, ours, theirs):
        keyed = {key(item): item for item in items}
        if None in keyed or len(keyed) != len(items):
            return _CONFLICT  # (not requests esc wrote: a person decides)
        sides.append(keyed)
    b, o, t = sides
    merged = []
    for name in [*o, *(n for n in t if n not in o)]:
        bv, ov, tv = (d.get(name, MISSING) for d in (b, o, t))
        if ov is MISSING or tv is MISSING:  # new on one side, or deleted on one side
            kept = tv if ov is MISSING else ov
            if bv is MISSING or not _same(kept, bv):
                merged.append(kept)
        elif _same(ov, tv) or _same(tv, bv):
            merged.append(ov)
        elif _same(ov, bv):
            merged.append(tv)
        else:  # (changed on both sides, or added on both and answered on one: field by
            # field, as the front-matter merges)
            both = _merge_fields({} if bv is MISSING else bv, ov, tv)
            if both is _CONFLICT:
                return _CONFLICT
            merged.append(both)
    if any(n not in o and n not in b for n in t):  # (theirs' new ones placed by when they
        # were asked, as escalations are, ties ours first; ours' own order is left alone)
        merged.sort(key=lambda item: coerce_timestamp(item.get("asked")) or _EARLIEST)
    open_teams = [str(item.get("team")) for item in merged if item.get("closed") is None]
    if len(open_teams) != len(set(open_teams)):  # (both sides asked the same team at once:
        return _CONFLICT  # one open request a team, as `esc involve` keeps it; a person decides)
    return merged


def _edited_on_both_sides_alike(base: list[Any], ours: list[Any], theirs: list[Any]) -> Any:
    """Ours' and theirs' escalations, with one that both sides edited (a reason made longer
    on one, its `by` mended on the other: neither side has it as it was) merged field by
    field and put in both sides' place, so that it appears once; _CONFLICT if a field was
    changed differently on both.  An escalation is known by its time and kind."""
    def ident(item: Any) -> tuple[object, str] | None:
        if not isinstance(item, Mapping):
            return None
        at = coerce_timestamp(item.get("at"))
        return (str(item.get("at")) if at is None else _instant(at)), str(item.get("kind"))

    mine, other = list(ours), list(theirs)
    was = {_canon(i) for i in base}
    kept = {_canon(i) for i in [*ours, *theirs]}
    for old in base:
        if _canon(old) in kept or ident(old) is None:
            continue  # (kept by one side at least: merge_sequence's own rules)
        in_ours = [i for i in mine if ident(i) == ident(old) and _canon(i) not in was]
        in_theirs = [i for i in other if ident(i) == ident(old) and _canon(i) not in was]
        if len(in_ours) != 1 or len(in_theirs) != 1:
            continue
        both = _merge_fields(old, in_ours[0], in_theirs[0])
        if both is _CONFLICT:
            return _CONFLICT
        mine[mine.index(in_ours[0])] = both
        other[other.index(in_theirs[0])] = both
    return mine, other


_CLOSING = ("state", "closed", "closed_by")  # (what answering or declining a request sets)


def _merge_fields(base: Any, ours: Any, theirs: Any) -> Any:
    """One request (or escalation) changed on both sides, field by field: each field one
    side changed takes that side (ours' person and theirs' answer both stay); a request's
    answer (state, closed, closed_by) both sides gave differently is the earlier one; any
    other field changed differently on both sides is a conflict for a person."""
    def changed(f: str) -> tuple[bool, bool]:
        bv = base.get(f, MISSING)
        return not _same(ours.get(f, MISSING), bv), not _same(theirs.get(f, MISSING), bv)

    answers = [f for f in _CLOSING if all(changed(f)) and not _same(ours.get(f), theirs.get(f))]
    first = _closed_first(ours, theirs) if answers else None
    out: dict[Any, Any] = {}
    for f in dict.fromkeys([*ours, *theirs]):
        mine, other = changed(f)
        if first is not None and f in _CLOSING:
            value = first.get(f, MISSING)
        elif not other or _same(ours.get(f, MISSING), theirs.get(f, MISSING)):
            value = ours.get(f, MISSING)
        elif not mine:
            value = theirs.get(f, MISSING)
        else:
            return _CONFLICT
        if value is not MISSING:
            out[f] = value
    return out


def _closed_first(ours: Any, theirs: Any) -> Any:
    """Of one request changed on both sides: the one closed (answered or declined), the
    earlier closed if both are, ours on a tie."""
    mine, other = coerce_timestamp(ours.get("closed")), coerce_timestamp(theirs.get("closed"))
    if other is not None and (mine is None or other < mine):
        return theirs
    return ours


def _later(ours: Any, theirs: Any, when: Callable[[Any], dt.datetime | None]) -> Any:
    """Theirs if its time is later than ours' (or ours has none), else ours."""
    mine, other = when(ours), when(theirs)
    return theirs if other is not None and (mine is None or other > mine) else ours


def _unseen_since(
    base: TicketDoc, ours: TicketDoc, theirs: TicketDoc, merged: Any
) -> dt.datetime | None:
    """The ``checked`` time the merged ``sla:`` block must say when the sweep that wrote it
    never saw what the other side did before then (a person escalates at 11:58 in one clone,
    a sweep in another checks at 12:01: merged, the block says 12:01, and no sweep would
    replay, or tell anyone of, the escalation): a second before the earliest such line of
    the other side's activity log.  None when the block's sweep saw all there was."""
    checked = _checked(merged)
    if checked is None:
        return None
    mine, theirs_block = ours.data.get("sla", MISSING), theirs.data.get("sla", MISSING)
    if _same(merged, mine) and not _same(merged, theirs_block):
        swept, other = ours, theirs
    elif _same(merged, theirs_block) and not _same(merged, mine):
        swept, other = theirs, ours
    else:
        return None
    seen = {*base.ticket.activity, *swept.ticket.activity}
    # (what the other side's own sweep checked, it told of there: only what came after)
    told = _checked(other.data.get("sla"))
    unseen = [
        a.at
        for a in other.ticket.activity
        if a.at <= checked and a not in seen and (told is None or a.at > told)
    ]
    if not unseen:
        return None
    return min(unseen) - dt.timedelta(seconds=1)


def _checked(block: Any) -> dt.datetime | None:
    return coerce_timestamp(block.get("checked")) if isinstance(block, Mapping) else None


def _merge_fired(base: Any, ours: Any, theirs: Any) -> Any:
    """Rule memories merged rule by rule, each rule taking the later time."""
    if not all(v is MISSING or v is None or isinstance(v, Mapping) for v in (base, ours, theirs)):
        return ours  # not a memory esc wrote: keep ours (the next sweep rewrites it)
    b, o, t = (v if isinstance(v, Mapping) else {} for v in (base, ours, theirs))
    merged: dict[Any, Any] = {}
    for name in [*o, *(n for n in t if n not in o), *(n for n in b if n not in o and n not in t)]:
        bv, ov, tv = (d.get(name, MISSING) for d in (b, o, t))
        if _same(ov, tv) or _same(tv, bv):
            value = ov
        elif _same(ov, bv):
            value = tv
        else:
            value = _later(ov, tv, coerce_timestamp)
        if value is not MISSING:
            merged[name] = value
    if not merged and ours is MISSING:
        return MISSING
    return dict(sorted(merged.items(), key=lambda item: str(item[0])))


def _apply(editor: yaml_text.FrontMatterEditor, key: str, ours: Any, value: Any) -> None:
    """Change ``key`` in the front-matter being edited to ``value`` (MISSING: remove it)."""
    if value is MISSING:
        span = yaml_text.field_span(editor.text, key)
        if span is not None:
            editor.text = editor.text[: span[0]] + editor.text[span[1] :]
        return
    if (
        key in ("tags", "escalations", "requests")
        and isinstance(ours, list)
        and isinstance(value, list)
        and len(value) > len(ours)
        and _canon(value[: len(ours)]) == _canon(ours)
    ):
        for item in value[len(ours) :]:
            editor.append(key, item)
        return
    if (
        key in ("tags", "escalations", "requests")
        and isinstance(ours, list)
        and isinstance(value, list)
        and (_inserted(editor, key, ours, value) or _removed(editor, key, ours, value))
    ):
        return
    editor.set(key, value)


def _removed(
    editor: yaml_text.FrontMatterEditor, key: str, ours: list[Any], value: list[Any]
) -> bool:
    """``value`` is ours' list with some items taken out (theirs removed a tag): their
    lines go, ours' other lines kept as written (a quoted item, a comment: written anew,
    they went, and a merge conflicted one way and not the other); False, nothing done,
    otherwise."""
    keep: list[bool] = []
    at = 0
    for item in ours:
        stays = at < len(value) and _same(item, value[at])
        keep.append(stays)
        at += stays
    if at != len(value) or all(keep):
        return False
    return editor.remove_items(key, keep)


def _inserted(
    editor: yaml_text.FrontMatterEditor, key: str, ours: list[Any], value: list[Any]
) -> bool:
    """``value`` is ours' list with items put among ours' (theirs', earlier in time): each
    put in its place, ours' lines kept as written (a comment on an item: a list written
    anew lost it, and the driver fell back to a text merge that conflicted); False, nothing
    done, if ours' items are not all in ``value`` in their order, or the list is not one
    line per item."""
    seen = 0
    placed: list[tuple[Any, int]] = []  # (an item to put, how many of ours' come after it)
    for item in value:
        if seen < len(ours) and _same(item, ours[seen]):
            seen += 1
        else:
            placed.append((item, len(ours) - seen))
    if seen != len(ours) or not placed:
        return False
    before = editor.text
    count = len(ours)
    for item, after in placed:
        if editor.insert(key, item, after, count) != after:
            editor.text = before  # (put at the end instead: the list written anew)
            return False
        count += 1
    return True


def _mark_conflicts(front: str, theirs: str, keys: Sequence[str], nl: str) -> str:
    """``front`` with each key's lines replaced by ours' and theirs' versions between markers.

    The result does not parse as YAML, on purpose: a human resolves it like any conflict.
    """
    edits: list[tuple[int, int, str]] = []
    for key in keys:
        mine = yaml_text.field_span(front, key)
        other = yaml_text.field_span(theirs, key)
        mine_text = front[mine[0] : mine[1]] if mine else ""
        other_text = theirs[other[0] : other[1]] if other else ""
        block = (
            f"{OURS_MARK}{nl}{_ended(mine_text, nl)}{SPLIT_MARK}{nl}"
            f"{_ended(other_text, nl)}{THEIRS_MARK}{nl}"
        )
        if mine is None:  # ours removed the field theirs changed: mark it at the end
            lead = nl if front and not front.endswith("\n") else ""
            edits.append((len(front), len(front), lead + block))
        else:
            edits.append((mine[0], mine[1], block))
    for start, end, block in sorted(edits, reverse=True):
        front = front[:start] + block + front[end:]
    return front


def _ended(text: str, nl: str) -> str:
    return text if not text or text.endswith("\n") else text + nl


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return a is b or _canon(a) == _canon(b)


def _tag_key(value: Any) -> str:
    """A tag as merged: in one Unicode form (`café` tagged NFC on one side and NFD on the
    other is one tag; audit helper-409)."""
    return _canon(one_form(value) if isinstance(value, str) else value)


def _canon(value: Any) -> str:
    """A text that is equal for equal YAML values: timestamps with an offset compared as
    instants (one escalation a rule made at 16:30+01:00 in one clone and at 15:30+00:00 in
    another, whose sweeps ran with --now in other offsets, is one escalation)."""
    return json.dumps(value, sort_keys=True, default=_json_default, ensure_ascii=False)


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime):
        return _instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


def _is_list(value: Any) -> bool:
    return value is MISSING or value is None or isinstance(value, list)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _escalation_time(item: Any) -> dt.datetime | None:
    return coerce_timestamp(item.get("at")) if isinstance(item, Mapping) else None


# ---------------------------------------------------------------- sequences


def merge_sequence(
    base: Sequence[T],
    ours: Sequence[T],
    theirs: Sequence[T],
    key: Callable[[T], Hashable],
    when: Callable[[T], dt.datetime | None] | None = None,
) -> list[T]:
    """A 3-way merge of a list that grows: ours' items, plus theirs' new ones.

    An item counts as the same on both sides when ``key`` is equal (added on both sides,
    it appears once); an item one side removed from ``base`` stays removed.  With ``when``,
    theirs' new items are placed in time order among ours' (ours first on a tie; an item
    without a time goes with the item before it); without it they follow ours'.
    """
    b = Counter(key(i) for i in base)
    o = Counter(key(i) for i in ours)
    t = Counter(key(i) for i in theirs)

    def wanted(k: Hashable) -> int:
        if o[k] == b[k]:
            return t[k]
        if t[k] == b[k]:
            return o[k]
        return max(o[k], t[k])

    kept: list[tuple[T, dt.datetime]] = []
    seen: Counter[Hashable] = Counter()
    for item, at in zip(ours, _times(ours, when), strict=True):
        k = key(item)
        seen[k] += 1
        if seen[k] <= wanted(k):
            kept.append((item, at))
    added: list[tuple[T, dt.datetime]] = []
    seen = Counter()
    for item, at in zip(theirs, _times(theirs, when), strict=True):
        k = key(item)
        seen[k] += 1
        if min(o[k], wanted(k)) < seen[k] <= wanted(k):
            added.append((item, at))
    if when is None:
        return [item for item, _ in kept + added]
    merged: list[T] = []
    i = j = 0
    while i < len(kept) or j < len(added):
        if j == len(added) or (i < len(kept) and kept[i][1] <= added[j][1]):
            merged.append(kept[i][0])
            i += 1
        else:
            merged.append(added[j][0])
            j += 1
    return merged


def _times(items: Sequence[T], when: Callable[[T], dt.datetime | None] | None) -> list[dt.datetime]:
    out: list[dt.datetime] = []
    last = _EARLIEST
    for item in items:
        moment = when(item) if when is not None else None
        last = moment if moment is not None else last
        out.append(last)
    return out


# ---------------------------------------------------------------- body


@dataclass
class _Section:
    head: str  # the heading line and the lines before the first item
    items: list[str]  # conversation entries (whole blocks) or activity lines
    tail: str = ""  # blank lines after the last activity line

    @property
    def text(self) -> str:
        return self.head + "".join(self.items) + self.tail


@dataclass
class _Body:
    description: str
    conversation: _Section | None
    activity: _Section | None


def _split_body(body: str) -> _Body:
    """The description, conversation and activity of a body written in esc's layout."""
    description: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = description
    fenced, pos = description_end(body), 0  # (a heading in a fenced block: description)
    for raw in body.splitlines(keepends=True):
        heading = heading_of(raw) if pos >= fenced else None
        pos += len(raw)
        if heading is not None:
            if heading in sections or (heading == CONVERSATION and ACTIVITY in sections):
                raise Unmergeable(f"the body's {heading!r} is out of place")
            current = sections[heading] = []
        current.append(raw)
    conversation = activity = None
    if CONVERSATION in sections:
        lines = sections[CONVERSATION]
        head, items = [lines[0]], []
        for raw in lines[1:]:
            if ENTRY_HEAD.fullmatch(raw.rstrip("\r\n")):
                items.append(raw)
            elif items:
                items[-1] += raw
            else:
                head.append(raw)
        conversation = _Section("".join(head), items)
    if ACTIVITY in sections:
        lines = sections[ACTIVITY]
        head, rest = [lines[0]], lines[1:]
        while rest and not rest[0].strip():
            head.append(rest.pop(0))
        tail: list[str] = []
        while rest and not rest[-1].strip():
            tail.insert(0, rest.pop())
        activity = _Section("".join(head), rest, "".join(tail))
    return _Body("".join(description), conversation, activity)


def _merge_body(
    base: str, ours: str, theirs: str, nl: str, merge_text: TextMerge
) -> tuple[str, list[str]]:
    b, o, t = _split_body(base), _split_body(ours), _split_body(theirs)
    conflicts: list[str] = []
    if o.description == t.description or t.description == b.description:
        description = o.description
    elif o.description == b.description:
        description = t.description
    else:
        description, conflicted = merge_text(b.description, o.description, t.description)
        if conflicted:
            conflicts.append(DESCRIPTION)
    if b.conversation and o.conversation and t.conversation:
        o_items, t_items, conflicted = _edited_on_both_sides(
            b.conversation.items, o.conversation.items, t.conversation.items, merge_text
        )
        o.conversation.items, t.conversation.items = o_items, t_items
        if conflicted:
            conflicts.append(ENTRY)
    bc, oc, tc = (s.items if s else [] for s in (b.conversation, o.conversation, t.conversation))
    entries = merge_sequence(bc, oc, tc, _entry_key, entry_time)
    conversation = _merge_section(
        b.conversation, o.conversation, t.conversation, _entry_key, entry_time, nl,
        default_head=f"{CONVERSATION}{nl}{nl}", blank_after=True, items=entries,
    )  # fmt: skip
    activity = _merge_section(
        b.activity, o.activity, t.activity, _line_key, _line_time, nl,
        default_head=f"{ACTIVITY}{nl}{nl}", blank_after=False,
        logged=(_entry_lines(entries), _entry_lines(_added_alike(bc, oc, tc))),
    )  # fmt: skip
    parts = [description]
    for section, was in ((conversation, o.conversation), (activity, o.activity)):
        if section is None:
            continue
        if was is None and parts[-1].strip() and not parts[-1].endswith(nl + nl):
            parts[-1] = parts[-1].rstrip("\r\n") + nl + nl  # a new section after a paragraph
        parts.append(section)
    return "".join(parts), conflicts


def _edited_on_both_sides(
    base: list[str], ours: list[str], theirs: list[str], merge_text: TextMerge
) -> tuple[list[str], list[str], bool]:
    """Ours' and theirs' conversation entries, with each entry both sides edited (its
    heading as in base, its text changed differently on each side) merged as text and put
    in both sides' place, so that it appears once; and whether a conflict is left in one.
    (An entry edited on one side only takes that side's text: :func:`merge_sequence`.)"""
    was, mine, their = (_by_heading(items) for items in (base, ours, theirs))
    ours, theirs = list(ours), list(theirs)
    conflicted = False
    for heading, old in was.items():
        o = mine.get(heading) or _reheaded(old, ours, was)
        t = their.get(heading) or _reheaded(old, theirs, was)
        gone = (o is None and _heading_gone(heading, ours)) != (
            t is None and _heading_gone(heading, theirs)
        )
        if gone and (o is None) != (t is None):  # (deleted on one side: edited on the
            # other, a true conflict, as git's modify/delete; not edited, it stays deleted)
            kept = t if o is None else o
            assert kept is not None
            if _entry_key(kept) != _entry_key(old):
                merged, _ = merge_text(old, "", kept) if o is None else merge_text(old, kept, "")
                side = theirs if o is None else ours
                side[side.index(kept)] = merged
                conflicted = True
            continue
        if o is None or t is None:
            continue
        if len({_entry_key(old), _entry_key(o), _entry_key(t)}) < 3:
            continue  # (unchanged, changed on one side, or the same change on both)
        merged, clash = merge_text(old, o, t)
        conflicted = conflicted or clash
        ours[ours.index(o)] = theirs[theirs.index(t)] = merged
    return ours, theirs, conflicted


def _heading_gone(heading: str, items: list[str]) -> bool:
    """Whether no entry of ``items`` has ``heading`` (one that two entries have, a note
    added in the same minute by the same person, is there, not deleted)."""
    return not any(item.splitlines()[0].rstrip() == heading for item in items)


def _reheaded(old: str, items: list[str], was: Mapping[str, str]) -> str | None:
    """The entry of ``items`` that is ``old`` with its heading edited (made internal, its
    author's name fixed): the one entry at ``old``'s time whose heading base lacks, if
    ``old``'s own heading is gone from ``items``; None otherwise."""
    heading = old.splitlines()[0].rstrip()
    if any(item.splitlines()[0].rstrip() == heading for item in items):
        return None
    at = entry_time(old)
    found = [
        item for item in items
        if item.splitlines()[0].rstrip() not in was and at is not None and entry_time(item) == at
    ]  # fmt: skip
    return found[0] if len(found) == 1 else None


def _by_heading(items: list[str]) -> dict[str, str]:
    """Each entry by its heading line, for the headings only one entry has."""
    found: dict[str, list[str]] = {}
    for item in items:
        found.setdefault(item.splitlines()[0].rstrip(), []).append(item)
    return {heading: entries[0] for heading, entries in found.items() if len(entries) == 1}


def _merge_section(
    base: _Section | None,
    ours: _Section | None,
    theirs: _Section | None,
    key: Callable[[str], Hashable],
    when: Callable[[str], dt.datetime | None],
    nl: str,
    default_head: str,
    blank_after: bool,
    items: list[str] | None = None,
    logged: tuple[Counter[Hashable], Counter[Hashable]] | None = None,
) -> str | None:
    """The merged text of the conversation or the activity section (None: no section).
    ``items``: its items merged already; ``logged``: how many log lines of each key the
    merged conversation's entries have, and those of the entries both sides added alike
    (:func:`_entry_lines`)."""
    if items is None:
        items = merge_sequence(
            base.items if base else [], ours.items if ours else [],
            theirs.items if theirs else [], key, when,
        )  # fmt: skip
    if logged:
        items = _each_entry_logged(items, base, ours, theirs, key, logged)
    head = ours.head if ours else theirs.head if theirs else default_head
    # The text between the heading and the first item: theirs' if only theirs changed it
    # (if both did, theirs' lines are missing and lost_lines sends it to a text merge).
    if ours is not None and theirs is not None and base is not None and ours.head == base.head:
        head = theirs.head
    if ours is not None and items == ours.items and head == ours.head:
        return ours.text
    if ours is None and not items:
        return None
    if ours is None or head is not ours.head:  # (theirs' heading, in ours' line breaks: a
        # CRLF file took an LF `## Conversation` from theirs)
        head = head.replace("\r\n", "\n").replace("\n", nl)
    tail = ours.tail if ours else ""
    out = []
    for item in items:
        item = item.replace("\r\n", "\n").replace("\n", nl)  # theirs' may differ from ours'
        if blank_after and not item.endswith(nl + nl):
            item = item.rstrip("\r\n") + nl + nl
        elif not item.endswith("\n"):
            item += nl
        out.append(item)
    return head + "".join(out) + tail


def _added_alike(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """The entries both sides added, alike (as many times as both did)."""
    b, o, t = (Counter(map(_entry_key, side)) for side in (base, ours, theirs))
    first = {_entry_key(item): item for item in ours}
    return [first[k] for k in o for _ in range(min(o[k], t[k]) - b[k])]


def _entry_lines(entries: Sequence[str]) -> Counter[Hashable]:
    """For the merged conversation's ``entries``, the key (:func:`_line_key`) of the log
    line each one has (`- TIME · bob · internal note added`), counted."""
    found: Counter[Hashable] = Counter()
    for block in entries:
        head = ENTRY_HEAD.match(block)
        at = timestamp(head["at"]) if head is not None else None
        if head is not None and at is not None:
            found[(at, f"{SEP}{head['author']}{SEP}{entry_added(head['kind'])}")] += 1
    return found


def _each_entry_logged(
    items: list[str],
    base: _Section | None,
    ours: _Section | None,
    theirs: _Section | None,
    key: Callable[[str], Hashable],
    logged: tuple[Counter[Hashable], Counter[Hashable]],
) -> list[str]:
    """The merged log ``items`` with the line of each entry the sides added (bob's two
    notes in one second, one on each side: one `internal note added` line each, alike) as
    often as the entries are, and as the lines the sides added for different entries are
    at most (a note both sides added is one; an entry with no line of its own, an `esc
    involve`'s ask, none): the merge keeps alike lines once."""
    entries_logged, alike = logged
    counts = [Counter(map(key, s.items if s else [])) for s in (base, ours, theirs)]
    have = Counter(map(key, items))
    out = list(items)
    for k, entries in entries_logged.items():
        b, o, t = (c[k] for c in counts)
        want = min(entries, o + t - b - alike[k])
        if have[k] >= want or not have[k]:
            continue
        last = max(i for i, item in enumerate(out) if key(item) == k)
        out[last + 1 : last + 1] = [out[last]] * (want - have[k])
    return out


def _entry_key(block: str) -> Hashable:
    """An entry as the same one on both sides: its text, its head's time as an instant
    (two sweeps whose --now was in other offsets, a UTC runner and a Berlin cron box, wrote
    a rule's note at one instant as 15:30+00:00 and 16:30+01:00: kept twice)."""
    text = block.replace("\r\n", "\n").rstrip()
    head = ENTRY_HEAD.match(text)
    if head is None:
        return text
    at = timestamp(head["at"])
    return text if at is None else (at, text[head.end("at") :])


def _line_key(line: str) -> Hashable:
    """An activity line as the same one on both sides: its text, its time as an instant
    (as :func:`_entry_key`), and so each time in its text (`due 2026-11-27T17:30:00+05:30`,
    `first_response_at: — → …`, as each clone's sweep wrote it)."""
    text = line.rstrip()
    cut = text.find(SEP, 2)
    at = timestamp(text[2:cut]) if text[:2] == "- " and cut >= 0 else None
    if at is None:
        return text
    rest = text[cut:]
    return at, _TIME_IN_TEXT.sub(_as_utc, rest) if _TIME_IN_TEXT.search(rest) else rest


# A time with an offset in a log line's text, as esc writes one
_TIME_IN_TEXT = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?(?:Z|[+-]\d\d:\d\d)"
)


def _as_utc(found: re.Match[str]) -> str:
    at = timestamp(found[0])
    return found[0] if at is None else _instant(at)


def _instant(at: dt.datetime) -> str:
    """A time with an offset as the instant it is (UTC), for telling sides' items apart."""
    return at.astimezone(dt.timezone.utc).isoformat() if at.utcoffset() is not None else (
        at.isoformat()
    )


def _timed_key(line: str) -> Hashable:
    """An activity line's or an entry head's key (:func:`_line_key`, :func:`_entry_key`)."""
    return _line_key(line) if line.startswith("- ") else _entry_key(line)


def _line_time(line: str) -> dt.datetime | None:
    return activity_time(line.rstrip("\r\n"))
