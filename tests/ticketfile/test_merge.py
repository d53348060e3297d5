"""The git merge driver: `esc merge-file` merges ticket files field by field.

Unit tests of ``merge_ticket`` for each rule, then real git: merges, rebases and
cherry-picks of one ticket changed on two branches or in two clones.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc.config.starter import GITATTRIBUTES
from esc.domain import lifecycle
from esc.domain.config import Config, Team
from esc.domain.errors import ParseError
from esc.domain.model import Activity, Change, Entry, Escalation, Request
from esc.store import merge_driver
from esc.ticketfile import yaml_text
from esc.ticketfile.body import render_activity
from esc.ticketfile.document import apply_change, parse
from esc.ticketfile.merge import MergeResult, swept_until, unswept
from esc.ticketfile.merge import merge_ticket as merge_with
from tests.conftest import Esc

SAFE = " -P" if sys.version_info >= (3, 11) else ""  # (launch.SAFE_PATH)


def merge_ticket(base: str, ours: str, theirs: str) -> MergeResult:
    """The merge as git's driver makes it: descriptions merged by ``git merge-file``."""
    return merge_with(base, ours, theirs, merge_text=merge_driver.merge_text)

CET = dt.timezone(dt.timedelta(hours=1))

BASE = """\
---
id: T-4k8q2m7x
title: Checkout returns 500
status: open                # a comment that must survive
priority: high
category: outage
team: support
assignee: alice
customer: jane@shop.example
channel: email
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:10:00+01:00
first_response_at: null
resolved_at: null
closed_at: null
tags:
  - vip
impact: null
urgency: null
csat: null
escalations:
  - {at: 2026-11-20T09:02:00+01:00, kind: priority, from: normal, to: high, by: alice, reason: down}
sla:
  policy: standard
  checked: 2026-11-20T09:15:00+01:00
  first_response: {due: 2026-11-20T13:00:00+01:00, state: ok}
fired:
  outage-is-urgent: 2026-11-20T09:05:00+01:00
---

Card payments fail since 08:50.

All card types are affected.

## Conversation

### 2026-11-20T09:05:00+01:00 · jane@shop.example · message (public)

Any news?

## Activity

- 2026-11-20T09:00:00+01:00 · alice · created · high priority via email
- 2026-11-20T09:02:00+01:00 · alice · priority: normal → high · priority escalation: shop down
- 2026-11-20T09:05:00+01:00 · jane@shop.example · message added
"""


def at(hh_mm: str) -> dt.datetime:
    hours, minutes = hh_mm.split(":")
    return dt.datetime(2026, 11, 20, int(hours), int(minutes), tzinfo=CET)


def change(text: str, **kwargs: object) -> str:
    """``text`` with a Change applied the way esc applies it."""
    return apply_change(parse(text, "t.md"), Change(**kwargs))  # type: ignore[arg-type]


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def note(when: str, author: str, text: str, kind: str = "note") -> Change:
    entry = Entry(at(when), author, kind, text)
    event = "internal note added" if kind == "note" else f"{kind} added"
    return Change(
        sets={"updated": at(when)},
        entries=(entry,),
        activity=(Activity(at(when), author, event=event),),
    )


def apply(text: str, *changes: Change) -> str:
    for c in changes:
        text = apply_change(parse(text, "t.md"), c)
    return text


def clean(base: str, ours: str, theirs: str) -> str:
    result = merge_ticket(base, ours, theirs)
    assert result.conflicts == [], result.text
    assert result.structured
    parse(result.text, "merged.md")
    return result.text


def data(text: str) -> dict[str, object]:
    return parse(text, "t.md").data


# ---------------------------------------------------------------- front-matter fields


def test_trivial_merges_return_one_side_byte_for_byte() -> None:
    ours = change(BASE, sets={"priority": "urgent"})
    assert merge_ticket(BASE, ours, BASE).text == ours
    assert merge_ticket(BASE, BASE, ours).text == ours
    assert merge_ticket(BASE, ours, ours).text == ours


def test_a_field_changed_on_one_side_takes_that_side() -> None:
    ours = change(BASE, sets={"priority": "urgent"})
    theirs = change(BASE, sets={"category": "bug", "impact": "high"})
    merged = clean(BASE, ours, theirs)
    # theirs' changes applied to ours, every other byte as it was
    assert merged == change(ours, sets={"category": "bug", "impact": "high"})
    assert "status: open                # a comment that must survive\n" in merged
    got = data(merged)
    assert (got["priority"], got["category"], got["impact"]) == ("urgent", "bug", "high")


def test_a_field_changed_identically_on_both_sides_is_fine() -> None:
    ours = change(BASE, sets={"status": "pending", "priority": "urgent"})
    theirs = change(BASE, sets={"status": "pending"})
    got = data(clean(BASE, ours, theirs))
    assert (got["status"], got["priority"]) == ("pending", "urgent")


def test_a_field_one_side_removed_is_removed() -> None:
    ours = edit(BASE, "urgency: null\n", "")
    theirs = change(BASE, sets={"priority": "urgent"})
    merged = clean(BASE, ours, theirs)
    assert "urgency" not in data(merged)
    assert data(merged)["priority"] == "urgent"
    # and a field theirs added (a key ours does not have yet) lands in esc's key order
    theirs = edit(BASE, "urgency: null\n", "urgency: null\nsource: web form\n")
    merged = clean(BASE, change(BASE, sets={"priority": "low"}), theirs)
    assert "urgency: null\ncsat: null\n" in merged and "source: web form\n" in merged


def test_updated_takes_the_later_time() -> None:
    ours = change(BASE, sets={"updated": at("10:30"), "priority": "urgent"})
    theirs = change(BASE, sets={"updated": at("10:00"), "category": "bug"})
    assert data(clean(BASE, ours, theirs))["updated"] == at("10:30")
    assert data(clean(BASE, theirs, ours))["updated"] == at("10:30")


def test_first_response_at_takes_the_earlier_time() -> None:
    ours = change(BASE, sets={"first_response_at": at("10:30")})
    theirs = change(BASE, sets={"first_response_at": at("10:10")})
    assert data(clean(BASE, ours, theirs))["first_response_at"] == at("10:10")
    assert data(clean(BASE, theirs, ours))["first_response_at"] == at("10:10")


def test_tags_added_on_both_sides_take_the_order_they_were_added_in() -> None:
    """Issue 6: tags take the union in time order (the time of each one's `tagged` line)."""

    def tagged(text: str, tag: str, hhmmss: str, by: str) -> str:
        at = dt.datetime.fromisoformat(f"2026-11-20T{hhmmss}+01:00")
        return change(
            text, tags_added=(tag,), activity=(Activity(at, by, event="tagged", note=tag),)
        )

    ours = tagged(BASE, "b-tag", "10:02:30", "bea")  # (the pulling side tagged later)
    theirs = tagged(BASE, "a-tag", "10:02:00", "al")
    assert data(clean(BASE, ours, theirs))["tags"] == ["vip", "a-tag", "b-tag"]
    assert data(clean(BASE, theirs, ours))["tags"] == ["vip", "a-tag", "b-tag"]


def test_mail_ids_and_attachments_each_side_took_are_kept_both() -> None:
    """Two clones that each took a reply by mail to one ticket: `message_ids` (and
    `attachments`) grew on both sides, and the merge was a conflict that left the ticket
    unreadable, and every later reply to it left for the next intake (audit helper-414)."""
    base = change(BASE, sets={"message_ids": ["<g1@shop>"], "attachments": ["a/1.pdf"]})
    ours = change(base, sets={"message_ids": ["<g1@shop>", "<g2@shop>"],
                              "attachments": ["a/1.pdf", "a/2.pdf"]})  # fmt: skip
    theirs = change(base, sets={"message_ids": ["<g1@shop>", "<g3@shop>"]})
    merged = data(clean(base, ours, theirs))
    assert merged["message_ids"] == ["<g1@shop>", "<g2@shop>", "<g3@shop>"]
    assert merged["attachments"] == ["a/1.pdf", "a/2.pdf"]
    both = change(base, sets={"message_ids": ["<g1@shop>", "<g2@shop>"]})
    assert data(clean(base, ours, both))["message_ids"] == ["<g1@shop>", "<g2@shop>"]


def test_a_tag_added_in_either_unicode_form_on_both_sides_is_one_tag() -> None:
    """`café` tagged NFC in one clone and NFD in another merged as `[vip, café, "café"]`
    (audit helper-409)."""
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    at = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CET)
    ours = change(BASE, tags_added=(nfc,), activity=(Activity(at, "al", event="tagged", note=nfc),))
    theirs = change(BASE, tags_added=(nfd,),
                    activity=(Activity(at, "bo", event="tagged", note=nfd),))  # fmt: skip
    assert data(clean(BASE, ours, theirs))["tags"] == ["vip", nfc]


def test_tags_a_person_wrote_on_one_line_with_a_comment_merge_either_way() -> None:
    """A hand-written `tags: [vip]   # c` tagged on both sides merges clean whichever side is
    ours, the list kept on its line with its comment (the later tag on ours' side made the
    list a block, the comment went to the key's line, and the driver fell back to a text
    merge that conflicted on the tags and on the activity lines)."""
    hand = edit(BASE, "tags:\n  - vip\n", "tags: [vip]   # c\n")

    def tagged(tag: str, hhmmss: str) -> str:
        at = dt.datetime.fromisoformat(f"2026-11-20T{hhmmss}+01:00")
        line = Activity(at, "al", event="tagged", note=tag)
        return change(hand, tags_added=(tag,), activity=(line,))

    later, earlier = tagged("y", "14:04:00"), tagged("x", "14:02:00")
    for ours, theirs in ((later, earlier), (earlier, later)):
        merged = clean(hand, ours, theirs)
        assert "\ntags: [vip, x, y]   # c\n" in merged
        assert merged.count("tagged · x") == merged.count("tagged · y") == 1


def test_a_field_written_empty_takes_the_other_side_s_value_either_way() -> None:
    """A hand-written `resolved_at:` (empty: null): one side resolved, the other commented;
    one direction dropped `closed_at: null` under it, and the driver fell back to a text
    merge that conflicted on fields only one side changed."""
    hand = edit(BASE, "resolved_at: null\n", "resolved_at:\n")
    resolved = change(hand, sets={"status": "resolved", "resolved_at": at("10:30"),
                                  "updated": at("10:30")})  # fmt: skip
    noted = apply(hand, note("10:20", "bea", "checking"))
    for ours, theirs in ((noted, resolved), (resolved, noted)):
        merged = clean(hand, ours, theirs)
        assert "\nresolved_at: 2026-11-20T10:30:00+01:00\nclosed_at: null\n" in merged
        assert data(merged)["status"] == "resolved"


def test_items_a_person_commented_stay_as_written_when_the_other_side_s_go_among_them() -> None:
    """`  - vip    # first` and an escalation line with a comment: when theirs' new item is
    earlier than ours', the list was written anew, the comments went, and the driver fell
    back to a text merge that conflicted, in that direction only. Theirs' item is put in
    its place among ours' lines."""
    hand = edit(BASE, "tags:\n  - vip\n", "tags:\n  - vip    # first\n  - \"psp\"\n")
    hand = edit(hand, "reason: down}\n", "reason: down}   # hand-added\n")

    def tagged(tag: str, hhmm: str) -> str:
        line = Activity(at(hhmm), "al", event="tagged", note=tag)
        return change(hand, tags_added=(tag,), activity=(line,))

    def escalated(hhmm: str, to: str, source: str) -> str:
        return change(hand, escalations=(escalation(hhmm, to, "al", source),))

    pairs = [
        (tagged("y", "14:04"), tagged("x", "14:02")),
        (escalated("14:04", "management", "engineering"), escalated("14:02", "sales", "support")),
    ]
    for later, earlier in pairs:
        merged = {clean(hand, later, earlier), clean(hand, earlier, later)}
        assert len(merged) == 1  # (both directions alike)
        text = merged.pop()
        assert "  - vip    # first\n  - \"psp\"\n" in text and "down}   # hand-added\n" in text
    assert data(clean(hand, tagged("y", "14:04"), tagged("x", "14:02")))["tags"] == [
        "vip", "psp", "x", "y"
    ]


def test_tags_take_the_union_ours_first() -> None:
    ours = change(BASE, tags_added=("regression", "checkout"))
    theirs = change(BASE, tags_added=("psp", "checkout"))
    merged = clean(BASE, ours, theirs)
    assert data(merged)["tags"] == ["vip", "regression", "checkout", "psp"]
    assert "tags:\n  - vip\n  - regression\n  - checkout\n  - psp\nimpact:" in merged


def test_a_tag_removed_on_one_side_stays_removed() -> None:
    ours = edit(BASE, "tags:\n  - vip\n", "tags: []\n")
    theirs = change(BASE, tags_added=("psp",))
    assert data(clean(BASE, ours, theirs))["tags"] == ["psp"]


def escalation(when: str, to: str, by: str, source: str = "support") -> Escalation:
    """(Two sides' escalations by people from one ``source`` are a conflict: see
    test_two_people_making_the_same_escalation_at_once_is_a_conflict.)"""
    return Escalation(at(when), "hierarchical", source, to, by, f"{by} says so")


def test_one_rule_s_escalation_written_in_two_offsets_merges_as_one() -> None:
    """Two clones whose sweeps ran with --now in other offsets (a UTC runner, a Berlin cron
    box) made the same rule's escalation at one instant, 10:20+01:00 and 09:20+00:00: the
    rebase kept both, two escalations, two notes, two sets of log lines."""

    def escalated(zone: dt.tzinfo) -> str:
        when = at("10:20").astimezone(zone)
        by, why = "rule:breached-goes-up", "SLA breached, escalating"
        return change(
            BASE,
            sets={"team": "engineering", "updated": when},
            escalations=(Escalation(when, "hierarchical", "support", "engineering", by, why),),
            entries=(Entry(when, by, "note", why),),
            activity=(Activity(when, by, field="team", old="support", new="engineering"),
                      Activity(when, by, event="internal note added")),
        )  # fmt: skip

    ours, theirs = escalated(CET), escalated(dt.timezone.utc)
    assert ours != theirs
    for one, other in ((ours, theirs), (theirs, ours)):
        merged = clean(BASE, one, other)
        assert merged == one  # (once, as the side merged into wrote it)
    # (a person's own line in the other offset beside it is theirs, and kept)
    noted = apply(theirs, note("10:30", "bob", "Looking"))
    merged = clean(BASE, ours, noted)
    assert merged.count("kind: hierarchical") == 1 and merged.count("Looking") == 1


def test_two_notes_in_one_second_one_on_each_side_keep_a_log_line_each() -> None:
    """bob's two different notes at one instant, one on each side: both entries were kept
    and one `internal note added` line (the lines are alike: the merge kept it once)."""
    ours = apply(BASE, note("10:30", "bob", "Restarted the web tier"))
    theirs = apply(BASE, note("10:30", "bob", "Paged the database team"))
    for one, other in ((ours, theirs), (theirs, ours)):
        merged = clean(BASE, one, other)
        assert merged.count("· bob · note (internal)") == 2
        assert merged.count("· bob · internal note added") == 2
    # (the same note on both sides is one entry, one line; so it stays when one side also
    # has an entry with no `added` line of its own, as `esc involve`'s ask)
    assert clean(BASE, ours, ours).count("· bob · internal note added") == 1
    asked = Change(
        entries=(Entry(at("10:30"), "bob", "note", "Asked engineering"),),
        activity=(Activity(at("10:30"), "bob", event="request to engineering"),),
    )
    both = apply(BASE, asked, note("10:30", "bob", "Restarted the web tier"))
    for one, other in ((both, ours), (ours, both)):
        merged = clean(BASE, one, other)
        assert merged.count("· bob · note (internal)") == 2
        assert merged.count("· bob · internal note added") == 1


def test_escalations_take_the_union_in_time_order() -> None:
    ours = change(BASE, escalations=(escalation("10:20", "management", "ours", "sales"),))
    theirs = change(
        BASE,
        escalations=(
            escalation("10:10", "engineering", "theirs"),
            escalation("10:20", "management", "theirs"),
        ),
    )
    merged = clean(BASE, ours, theirs)
    got = data(merged)["escalations"]
    assert isinstance(got, list)
    assert [(e["at"], e["by"]) for e in got] == [
        (at("09:02"), "alice"),
        (at("10:10"), "theirs"),
        (at("10:20"), "ours"),  # a tie: ours first
        (at("10:20"), "theirs"),
    ]


def test_escalations_added_later_by_theirs_are_appended_keeping_ours_bytes() -> None:
    ours = change(BASE, escalations=(escalation("10:10", "engineering", "ours"),))
    later = escalation("10:20", "management", "theirs", "sales")
    theirs = change(BASE, escalations=(later,))
    merged = clean(BASE, ours, theirs)
    assert merged == change(ours, escalations=(later,))


def test_the_same_escalation_on_both_sides_counts_once() -> None:
    same = escalation("10:10", "engineering", "bob")
    ours = change(BASE, escalations=(same,), sets={"priority": "urgent"})
    theirs = change(BASE, escalations=(same,), tags_added=("psp",))
    got = data(clean(BASE, ours, theirs))["escalations"]
    assert isinstance(got, list) and len(got) == 2


SWEPT_EARLY = {
    "policy": "standard",
    "checked": at("10:00"),
    "first_response": {"due": at("13:00"), "state": "ok"},
}
SWEPT_LATE = {
    "policy": "urgent",
    "checked": at("11:00"),
    "first_response": {"due": at("09:30"), "state": "breached"},
}


def test_sla_takes_the_later_checked_block_and_never_conflicts() -> None:
    ours = change(BASE, sets={"sla": SWEPT_LATE})
    theirs = change(BASE, sets={"sla": SWEPT_EARLY})
    assert data(clean(BASE, ours, theirs))["sla"] == SWEPT_LATE
    assert data(clean(BASE, theirs, ours))["sla"] == SWEPT_LATE
    # a tie keeps ours
    tie = {**SWEPT_EARLY, "policy": "other"}
    assert data(clean(BASE, change(BASE, sets={"sla": tie}), theirs))["sla"] == tie


def test_a_sweep_s_block_that_never_saw_the_other_side_s_change_says_so_by_checked() -> None:
    """A person comments at 10:30 in one clone; another clone's sweep checks at 11:00 without
    it: the merge keeps the 11:00 block, checked a second before 10:30, so the next sweep
    replays from there and tells of the comment (it said 11:00: nobody was ever told).
    One side's later sweep having seen it all, or a change after the check, keeps it."""
    ours = change(BASE, sets={"sla": SWEPT_LATE})
    theirs = apply(BASE, note("10:30", "dan", "Looked at it."))
    unseen = {**SWEPT_LATE, "checked": at("10:30") - dt.timedelta(seconds=1)}
    assert data(clean(BASE, ours, theirs))["sla"] == unseen
    assert data(clean(BASE, theirs, ours))["sla"] == unseen
    after = apply(BASE, note("11:30", "dan", "Later on."))
    assert data(clean(BASE, ours, after))["sla"] == SWEPT_LATE
    seen = change(theirs, sets={"sla": SWEPT_LATE})  # (that clone's own sweep saw it)
    assert data(clean(theirs, seen, theirs))["sla"] == SWEPT_LATE
    # theirs' own sweep checked (10:45) after the note: told there, not rewound here
    told = change(theirs, sets={"sla": {**SWEPT_EARLY, "checked": at("10:45")}})
    assert data(clean(BASE, ours, told))["sla"] == SWEPT_LATE


def test_fired_merges_rule_by_rule_each_taking_the_later_time() -> None:
    ours = change(
        BASE, sets={"fired": {"outage-is-urgent": at("10:30"), "breached-goes-up": at("10:00")}}
    )
    theirs = change(
        BASE, sets={"fired": {"outage-is-urgent": at("10:10"), "unassigned": at("10:05")}}
    )
    assert data(clean(BASE, ours, theirs))["fired"] == {
        "breached-goes-up": at("10:00"),
        "outage-is-urgent": at("10:30"),
        "unassigned": at("10:05"),
    }


# ---------------------------------------------------------------- the body


def test_conversation_entries_merge_in_time_order_once_each() -> None:
    shared = note("10:00", "bob", "Both sides have this one.")
    ours = apply(BASE, shared, note("10:20", "alice", "Ours, later."))
    theirs = apply(
        BASE,
        note("09:50", "dan", "Theirs, earlier.", kind="reply"),
        shared,
        note("10:30", "jane@shop.example", "Theirs, last.", kind="message"),
    )
    merged = clean(BASE, ours, theirs)
    entries = parse(merged, "m.md").ticket.entries
    assert [(e.author, e.text) for e in entries] == [
        ("jane@shop.example", "Any news?"),
        ("dan", "Theirs, earlier."),
        ("bob", "Both sides have this one."),
        ("alice", "Ours, later."),
        ("jane@shop.example", "Theirs, last."),
    ]
    assert "\n\n### 2026-11-20T10:30:00+01:00 · jane@shop.example · message (public)\n\n" in merged
    assert merged.count("Both sides have this one.") == 1


def test_the_activity_log_is_the_union_in_time_order() -> None:
    ours = apply(BASE, note("10:00", "bob", "B"), note("10:20", "alice", "A"))
    theirs = apply(BASE, note("09:50", "dan", "D"), note("10:00", "bob", "B"))
    merged = clean(BASE, ours, theirs)
    lines = [line for line in merged.split("## Activity\n\n")[1].splitlines()]
    assert lines == [
        "- 2026-11-20T09:00:00+01:00 · alice · created · high priority via email",
        "- 2026-11-20T09:02:00+01:00 · alice · priority: normal → high · priority escalation: "
        "shop down",
        "- 2026-11-20T09:05:00+01:00 · jane@shop.example · message added",
        "- 2026-11-20T09:50:00+01:00 · dan · internal note added",
        "- 2026-11-20T10:00:00+01:00 · bob · internal note added",
        "- 2026-11-20T10:20:00+01:00 · alice · internal note added",
    ]


def test_activity_ties_put_ours_first() -> None:
    ours = change(BASE, activity=(Activity(at("10:00"), "ours", event="poked"),))
    theirs = change(BASE, activity=(Activity(at("10:00"), "theirs", event="poked"),))
    merged = clean(BASE, ours, theirs)
    assert merged.endswith(
        "- 2026-11-20T10:00:00+01:00 · ours · poked\n"
        "- 2026-11-20T10:00:00+01:00 · theirs · poked\n"
    )


def test_a_first_conversation_entry_on_both_sides_creates_one_section() -> None:
    base = edit(BASE, "## Conversation\n\n### 2026-11-20T09:05:00+01:00 · jane@shop.example"
                " · message (public)\n\nAny news?\n\n", "")  # fmt: skip
    ours = apply(base, note("10:00", "ours", "O"))
    theirs = apply(base, note("10:10", "theirs", "T"))
    merged = clean(base, ours, theirs)
    assert merged.count("## Conversation") == 1
    assert [e.author for e in parse(merged, "m.md").ticket.entries] == ["ours", "theirs"]


def test_description_edits_in_different_places_merge_as_text() -> None:
    ours = edit(BASE, "Card payments fail since 08:50.", "Card payments fail since 08:45.")
    theirs = edit(BASE, "All card types are affected.", "Only Visa is affected.")
    merged = clean(BASE, ours, theirs)
    assert parse(merged, "m.md").ticket.description == (
        "Card payments fail since 08:45.\n\nOnly Visa is affected."
    )


def test_description_edits_in_the_same_place_are_a_true_conflict() -> None:
    ours = edit(BASE, "since 08:50.", "since 08:45.")
    theirs = edit(BASE, "since 08:50.", "since 08:55.")
    theirs = apply(theirs, note("10:00", "bob", "B"))
    result = merge_ticket(BASE, ours, theirs)
    assert result.conflicts == ["description"]
    assert (
        "<<<<<<< ours\nCard payments fail since 08:45.\n=======\n"
        "Card payments fail since 08:55.\n>>>>>>> theirs\n"
    ) in result.text
    assert "bob · internal note added" in result.text  # the rest is still merged


def test_an_entry_edited_on_both_sides_merges_as_text_once() -> None:
    """The conversation merges as text: an entry both sides edited is one entry, its
    edits merged (in different lines: clean), never two entries under one heading."""
    base = edit(BASE, "Any news?\n", "Any news?\n\nThe shop is down.\n")
    ours = edit(base, "Any news?", "Any news at all?")
    theirs = apply(edit(base, "The shop is down.", "The whole shop is down."),
                   note("10:00", "bob", "B"))  # fmt: skip
    merged = clean(base, ours, theirs)
    assert merged.count("· jane@shop.example · message (public)") == 1
    assert "Any news at all?\n\nThe whole shop is down.\n" in merged
    assert "bob · internal note added" in merged


@pytest.mark.parametrize(
    "heading",
    [
        "### 2026-11-20T09:05:00+01:00 · jane@shop.example · note (internal)",  # made internal
        "### 2026-11-20T09:05:00+01:00 · Jane Doe · message (public)",  # its author fixed
    ],
)
def test_an_entry_whose_heading_one_side_edited_and_text_the_other_stays_one(
    heading: str,
) -> None:
    """One side made a reply internal (or fixed its author), the other edited its text:
    it was two entries, the public one with the new text and the internal one with the
    old: a note made internal came back public."""
    ours = edit(BASE, "Any news?", "Any news at all?")
    theirs = edit(BASE, "### 2026-11-20T09:05:00+01:00 · jane@shop.example · message (public)",
                  heading)  # fmt: skip
    for one, other in ((ours, theirs), (theirs, ours)):
        merged = clean(BASE, one, other)
        assert merged.count("### 2026-11-20T09:05:00+01:00 ·") == 1, merged
        assert f"{heading}\n\nAny news at all?\n" in merged


def test_a_comment_line_between_fields_on_one_side_merges_as_fields_do() -> None:
    """A person's `# …` line of its own above `status:` on one side, a tag added on each:
    the whole file went to a text merge, and tags, `updated` and the log conflicted."""
    ours = apply(BASE, Change(sets={"tags": ("vip", "b1"), "updated": at("10:01")}))
    theirs = edit(BASE, "title: Checkout returns 500\n",
                  "title: Checkout returns 500\n# finance owns the credit notes\n")  # fmt: skip
    theirs = apply(theirs, Change(sets={"tags": ("vip", "a1"), "updated": at("10:00")}))
    for one, other in ((ours, theirs), (theirs, ours)):
        merged = clean(BASE, one, other)
        assert "title: Checkout returns 500\n# finance owns the credit notes\nstatus:" in merged
        assert data(merged)["tags"] in (["vip", "b1", "a1"], ["vip", "a1", "b1"])


def test_an_entry_deleted_on_one_side_and_edited_on_the_other_is_a_true_conflict() -> None:
    """The edit came back without a word, though one side had deleted the entry (git calls
    it modify/delete); deleted where the other side left it as it was, it stays deleted."""
    entry = "### 2026-11-20T09:05:00+01:00 · jane@shop.example · message (public)\n\nAny news?\n\n"
    deleted = edit(BASE, entry, "")
    edited = edit(BASE, "Any news?", "Any news at all?")
    for ours, theirs in ((deleted, edited), (edited, deleted)):
        result = merge_ticket(BASE, ours, theirs)
        assert result.conflicts == ["conversation"] and "<<<<<<< ours" in result.text
        assert "Any news at all?" in result.text  # (nothing either side wrote is lost)
    other = edit(BASE, "Card payments fail", "Card payments failed")
    assert "Any news?" not in clean(BASE, deleted, other)
    # (an entry added with the same heading as one there is no deletion of it)
    twice = edit(BASE, entry, entry + entry.replace("Any news?", "Also by phone."))
    merged = clean(BASE, twice, edited)
    assert "Any news at all?" in merged and "Also by phone." in merged


def test_a_comment_above_the_field_a_new_key_went_before_is_not_the_new_key_s() -> None:
    """Theirs added `impact: high` between a comment and the field below it; ours deleted
    the comment: the whole gap was taken for the new key's, and the comment came back."""
    base = edit(BASE, "status: open ", "# waiting on sign-off\nstatus: open ")
    base = edit(base, "impact: null\n", "")
    ours = edit(base, "# waiting on sign-off\n", "")
    theirs = edit(base, "# waiting on sign-off\n", "# waiting on sign-off\nimpact: high\n")
    merged = clean(base, ours, theirs)
    assert "waiting on sign-off" not in merged and data(merged)["impact"] == "high"


def test_an_entry_edited_in_the_same_line_on_both_sides_is_a_true_conflict() -> None:
    ours = edit(BASE, "Any news?", "Any news yet?")
    theirs = edit(BASE, "Any news?", "Any news today?")
    result = merge_ticket(BASE, ours, theirs)
    assert result.conflicts == ["conversation"]
    assert result.text.count("· jane@shop.example · message (public)") == 1
    assert "<<<<<<< ours\nAny news yet?\n=======\nAny news today?\n>>>>>>> theirs\n" in result.text


# ---------------------------------------------------------------- true conflicts


def test_a_key_only_one_side_added_keeps_its_comments_whichever_side_it_is() -> None:
    """`vendor_ref: 7781  # PO number` (and a comment line above it) added on one side, a
    note on each: merged one way it was clean, the other way the comment was lost and the
    whole file went to a text merge, `updated` and the log in conflict."""
    added = "channel: email\n# the PO\nvendor_ref: 7781  # PO number\n"
    mine = apply(BASE, note("10:00", "bob", "A"))
    other = edit(apply(BASE, note("10:01", "carol", "B")), "channel: email\n", added)
    for ours, theirs in ((mine, other), (other, mine)):
        merged = clean(BASE, ours, theirs)
        assert added in merged and data(merged)["vendor_ref"] == 7781
        assert "bob · internal note added" in merged and "carol · internal note added" in merged


def test_a_side_saved_with_crlf_merges_as_if_it_had_the_other_s_line_breaks() -> None:
    """One side saved the ticket with CRLF (a Windows editor): every line differed, and
    the other side's edit, a comment on `priority`, put the whole file between markers."""
    ours = edit(BASE, "status: open ", "status: pending").replace("\n", "\r\n")
    theirs = edit(BASE, "priority: high\n", "priority: high  # agreed with Jane\n")
    merged = clean(BASE, ours, theirs)
    assert merged.count("\r\n") == merged.count("\n")  # (ours' line breaks throughout)
    assert "status: pending" in merged and "priority: high  # agreed with Jane\r\n" in merged
    back = clean(BASE.replace("\n", "\r\n"), theirs, ours)  # (the other way round)
    assert "\r" not in back and "status: pending" in back


def test_an_assignee_given_in_the_team_the_other_side_left_is_a_conflict() -> None:
    """One side escalated to engineering (the ticket unassigned, as it was), the other gave
    it to bob of support: merged clean, engineering's ticket was bob's. A person decides;
    an assignment in the team both sides keep merges as before."""
    base = edit(BASE, "assignee: alice", "assignee: null")
    moved = apply(base, Change(sets={"team": "engineering", "updated": at("10:00")}))
    given = apply(base, Change(sets={"assignee": "bob", "updated": at("10:01")}))
    for ours, theirs in ((moved, given), (given, moved)):
        result = merge_ticket(base, ours, theirs)
        assert result.conflicts == ["assignee"], result.text
        assert "assignee: bob" in result.text and "assignee: null" in result.text
    tagged = apply(base, Change(sets={"tags": ("vip", "x"), "updated": at("10:02")}))
    assert data(clean(base, given, tagged))["assignee"] == "bob"


def test_a_field_changed_differently_on_both_sides_is_marked_for_a_human() -> None:
    ours = apply(BASE, Change(sets={"assignee": "bob", "updated": at("10:00")}))
    theirs = apply(BASE, Change(sets={"assignee": "carol", "updated": at("10:05")}))
    theirs = apply(theirs, note("10:05", "carol", "mine now"))
    result = merge_ticket(BASE, ours, theirs)
    assert result.conflicts == ["assignee"]
    assert "\nteam: support\n<<<<<<< ours\nassignee: bob\n=======\nassignee: carol\n" \
           ">>>>>>> theirs\ncustomer: jane@shop.example\n" in result.text  # fmt: skip
    # everything else is merged as usual
    assert "updated: 2026-11-20T10:05:00+01:00\n" in result.text
    assert "mine now" in result.text
    # and the file no longer parses, pointing at the conflict
    with pytest.raises(ParseError) as caught:
        parse(result.text, "tickets/T-4k8q2m7x.md")
    marker_line = result.text.splitlines().index("<<<<<<< ours") + 1
    assert caught.value.line == marker_line
    assert caught.value.message.startswith("unresolved merge conflict")


def test_several_conflicts_are_each_marked() -> None:
    ours = change(BASE, sets={"assignee": "bob", "status": "pending", "title": "T1"})
    theirs = change(BASE, sets={"assignee": "carol", "status": "resolved", "title": "T1"})
    result = merge_ticket(BASE, ours, theirs)
    assert result.conflicts == ["status", "assignee"]
    assert result.text.count("<<<<<<< ours\n") == 2
    assert "title: T1\n" in result.text


def test_a_version_that_is_no_ticket_falls_back_to_a_text_merge() -> None:
    broken = edit(BASE, "priority: high\n", "priority: [high\n")
    ours = edit(broken, "Any news?", "Any news at all?")
    result = merge_ticket(broken, ours, change(BASE, sets={"team": "engineering"}))
    assert not result.structured
    assert result.conflicts == []
    assert "Any news at all?" in result.text and "team: engineering" in result.text
    # conflicting text changes: git's markers, and a conflict to report
    conflicted = merge_ticket(broken, ours, edit(broken, "Any news?", "Hello?"))
    assert conflicted.conflicts == ["text"]
    assert "<<<<<<< ours\n" in conflicted.text and ">>>>>>> theirs\n" in conflicted.text


def test_crlf_files_stay_crlf() -> None:
    base = BASE.replace("\n", "\r\n")
    ours = apply(base, note("10:00", "ours", "O"))
    theirs = apply(base, note("10:10", "theirs", "T"), Change(tags_added=("psp",)))
    merged = clean(base, ours, theirs)
    assert "\n" not in merged.replace("\r\n", "")
    assert [e.author for e in parse(merged, "m.md").ticket.entries][-2:] == ["ours", "theirs"]


def test_a_section_only_theirs_has_takes_ours_line_breaks() -> None:
    """Ours made the file CRLF; theirs, LF, added the first entry of the conversation: the
    merge took theirs' `## Conversation` heading as it was, LF in a CRLF file."""
    start = BASE.index("## Conversation")
    base = BASE[:start] + BASE[BASE.index("## Activity") :]
    ours = base.replace("\n", "\r\n")
    theirs = apply(base, note("10:10", "theirs", "T", kind="reply"))
    merged = clean(base, ours, theirs)
    assert "## Conversation" in merged
    assert "\n" not in merged.replace("\r\n", ""), merged


def test_merged_front_matter_is_verified_field_by_field() -> None:
    ours = change(BASE, sets={"priority": "urgent"}, tags_added=("a",))
    theirs = change(BASE, sets={"csat": 4, "fired": {}}, tags_added=("b",))
    merged = clean(BASE, ours, theirs)
    expected = dict(data(BASE))
    expected.update(priority="urgent", csat=4, fired={}, tags=["vip", "a", "b"])
    assert yaml_text.load(parse(merged, "m.md").front) == expected


# ---------------------------------------------------------------- the command


# ---------------------------------------------------------------- nothing dropped (issue 20)


def test_text_theirs_wrote_before_the_first_entry_is_kept() -> None:
    ours = apply(BASE, note("10:00", "bob", "Ours."))
    theirs = edit(BASE, "## Conversation\n\n", "## Conversation\n\nTheirs' preface.\n\n")
    merged = clean(BASE, ours, theirs)
    assert "## Conversation\n\nTheirs' preface.\n\n### " in merged
    assert "Ours." in merged
    # and the other way round: ours' preface, theirs' entry
    merged = clean(BASE, theirs, ours)
    assert "Theirs' preface." in merged and "Ours." in merged


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_a_comment_one_side_added_to_a_front_matter_line_is_kept(side: str) -> None:
    commented = edit(BASE, "priority: high\n", "priority: high  # VIP: keep it high\n")
    other = change(BASE, sets={"assignee": "bob"})
    ours, theirs = (commented, other) if side == "ours" else (other, commented)
    merged = clean(BASE, ours, theirs)
    assert "priority: high  # VIP: keep it high\n" in merged
    assert data(merged)["assignee"] == "bob"


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_a_first_conversation_under_no_description_adds_no_blank_line(nl: str) -> None:
    """A ticket with no description: theirs adds its first comment, ours renames it; the
    merge is theirs with ours' title, byte for byte (it had a blank line more after the
    front-matter, and a CRLF file stays CRLF)."""
    base = BASE.replace("Card payments fail since 08:50.\n\nAll card types are affected.\n\n", "")
    base = base.replace(base[base.index("## Conversation") : base.index("## Activity")], "")
    base = base.replace("\n", nl)
    theirs = apply(base, note("10:00", "bob", "Looking into it"))
    assert f"---{nl}{nl}## Conversation{nl}" in theirs
    ours = edit(base, "title: Checkout returns 500", "title: Checkout fails")
    merged = clean(base, ours, theirs)
    assert merged == edit(theirs, "title: Checkout returns 500", "title: Checkout fails")


def test_a_comment_on_a_line_whose_value_the_other_side_changed_is_never_dropped() -> None:
    ours = edit(BASE, "priority: high\n", "priority: high  # VIP: keep it high\n")
    theirs = change(BASE, sets={"priority": "urgent"})
    result = merge_ticket(BASE, ours, theirs)
    assert "# VIP: keep it high" in result.text
    assert "priority: urgent" in result.text


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_a_comment_on_a_field_the_other_side_changed_goes_with_the_new_value(side: str) -> None:
    """One side put a comment on `priority: high`, the other raised it to urgent: a
    conflict (the text merge, as if both had changed the line), though only one side
    changed the value.  The merge takes the new value and keeps the comment."""
    commented = edit(BASE, "priority: high\n", "priority: high  # VIP: keep it high\n")
    raised = change(BASE, sets={"priority": "urgent"})
    ours, theirs = (commented, raised) if side == "ours" else (raised, commented)
    merged = clean(BASE, ours, theirs)
    assert "priority: urgent  # VIP: keep it high\n" in merged
    # (and a value ours changed with a comment of its own, beside theirs' change of the
    # next field, stays ours' line: the merge fell back to the text, with markers)
    ours = edit(BASE, "priority: high\n", "priority: urgent  # agreed on the phone\n")
    theirs = edit(BASE, "category: outage\n", "category: bug\n")
    merged = clean(BASE, ours, theirs)
    assert "priority: urgent  # agreed on the phone\ncategory: bug\n" in merged


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_a_comment_one_side_edited_goes_with_the_value_the_other_changed(side: str) -> None:
    """`priority: high  # customer says high`: one side edited the comment, the other raised
    the priority; only one side changed each, but the merge conflicted both ways (the
    line with base's comment was taken for one the merge lost)."""
    hand = edit(BASE, "priority: high\n", "priority: high   # customer says high\n")
    edited = edit(hand, "# customer says high", "# agreed with Jane")
    raised = change(hand, sets={"priority": "urgent"})
    ours, theirs = (edited, raised) if side == "ours" else (raised, edited)
    assert "\npriority: urgent   # agreed with Jane\n" in clean(hand, ours, theirs)


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_a_comment_on_a_line_of_the_sla_block_goes_with_the_state_a_sweep_wrote(
    side: str,
) -> None:
    """A person commented a clock's line; a sweep in another clone changed its state: the
    `sla:` block was left as a conflict (the issue: recomputed, never left so).  The
    merge takes the sweep's state and keeps the comment."""
    line = "  first_response: {due: 2026-11-20T13:00:00+01:00, state: ok}\n"
    commented = edit(BASE, line, line.rstrip("\n") + "   # merchant away till Mon\n")
    swept = edit(BASE, line, line.replace("state: ok", "state: breached"))
    ours, theirs = (commented, swept) if side == "ours" else (swept, commented)
    merged = clean(BASE, ours, theirs)
    assert (
        "  first_response: {due: 2026-11-20T13:00:00+01:00, state: breached}"
        "   # merchant away till Mon\n"
    ) in merged


def test_comment_lines_and_text_after_the_last_entry_are_kept() -> None:
    ours = edit(BASE, "category: outage\n", "category: outage\n# ours: checked with Jane\n")
    ours = apply(ours, note("10:00", "bob", "Ours."))
    theirs = edit(BASE, "Any news?\n", "Any news?\n\nP.S. theirs wrote this after it.\n")
    theirs = change(theirs, sets={"updated": at("10:30")})
    merged = merge_ticket(BASE, ours, theirs).text
    for line in ("# ours: checked with Jane", "P.S. theirs wrote this after it.", "Ours."):
        assert line in merged


# Random lines each side adds: own-line comments and comments on lines in the
# front-matter, paragraphs in the body; both sides also change `updated`, so the merge
# is never trivial.
_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12)


@st.composite
def _side(draw: st.DrawFn, name: str) -> tuple[str, list[str]]:
    lines = BASE.splitlines(keepends=True)
    closing = lines.index("---\n", 1)
    added = []
    for n in range(draw(st.integers(0, 4))):
        word = f"{name}-{n} {draw(_WORDS).strip()}".strip()
        where = draw(st.sampled_from(["comment", "own line", "body"]))
        if where == "comment":
            i = draw(st.integers(1, closing - 1))
            if "#" in lines[i] or not lines[i].rstrip("\n"):
                continue
            lines[i] = lines[i].rstrip("\n") + f"  # {word}\n"
        elif where == "own line":
            i = draw(st.integers(1, closing))
            lines.insert(i, f"# {word}\n")
            closing += 1
        else:
            i = draw(st.integers(closing + 1, len(lines)))
            lines.insert(i, f"\n{word}\n\n")
        added.append(word)
    when = "10:00" if name == "ours" else "10:30"
    updated = f"updated: 2026-11-20T{when}:00+01:00"
    return edit("".join(lines), "updated: 2026-11-20T09:10:00+01:00", updated), added


@settings(max_examples=25, deadline=None)
@given(ours=_side("ours"), theirs=_side("theirs"))
def test_every_line_either_side_added_is_in_the_merge(
    ours: tuple[str, list[str]], theirs: tuple[str, list[str]]
) -> None:
    result = merge_ticket(BASE, ours[0], theirs[0])
    for word in ours[1] + theirs[1]:  # (inside conflict markers counts: a human sees it)
        assert word in result.text, (word, result.text)


@pytest.mark.parametrize("side", ["base", "ours", "theirs"])
def test_a_side_holding_a_nul_byte_is_named_and_ours_left_as_it_was(
    tmp_path: Path, side: str
) -> None:
    texts = {
        "base": BASE,
        "ours": change(BASE, tags_added=("a",)),
        "theirs": change(BASE, sets={"priority": "low"}),
    }
    texts[side] = texts[side].replace("Any news?", "Any\0news?")
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = Esc(tmp_path, now=None)(
        "merge-file", "base", "ours", "theirs", "tickets/T-4k8q2m7x.md"
    )
    assert result.code == 1
    assert result.out == ""
    line = texts[side][: texts[side].index("\0")].count("\n") + 1
    assert result.err.splitlines() == [
        f"esc merge-file: tickets/T-4k8q2m7x.md: cannot merge: {side} ({side}) holds a NUL"
        f" byte (line {line}), so it is no ticket"
        " text; ours is left as it was: fix that version and merge again"
    ]
    assert (tmp_path / "ours").read_text(encoding="utf-8") == texts["ours"]


def test_merge_file_writes_ours_and_exits_by_conflict(tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("base", "ours", "theirs")}
    files["base"].write_text(BASE, encoding="utf-8")
    files["ours"].write_text(change(BASE, tags_added=("a",)), encoding="utf-8")
    files["theirs"].write_text(change(BASE, sets={"priority": "low"}), encoding="utf-8")
    args = [str(files[n]) for n in ("base", "ours", "theirs")]
    result = Esc(tmp_path, now=None)("merge-file", *args)
    assert (result.code, result.err) == (0, "")
    got = data(files["ours"].read_text(encoding="utf-8"))
    assert (got["tags"], got["priority"]) == (["vip", "a"], "low")

    files["theirs"].write_text(change(BASE, tags_added=("b",), sets={"priority": "urgent"}))
    result = Esc(tmp_path, now=None)("merge-file", *args)
    assert result.code == 1
    assert "conflicting priority" in result.err
    assert "<<<<<<< ours\npriority: low\n=======\npriority: urgent\n>>>>>>> theirs\n" in (
        files["ours"].read_text(encoding="utf-8")
    )


def test_merge_file_merges_undecodable_files_as_text_in_place(tmp_path: Path) -> None:
    base = b"---\nid: T-1\n---\n\ncaf\xe9\none\ntwo\nthree\n"
    (tmp_path / "base").write_bytes(base)
    (tmp_path / "ours").write_bytes(base.replace(b"one", b"ONE"))
    (tmp_path / "theirs").write_bytes(base.replace(b"three", b"THREE"))
    result = Esc(tmp_path, now=None)("merge-file", "base", "ours", "theirs")  # relative paths
    assert result.code == 0, result.err
    assert (tmp_path / "ours").read_bytes() == base.replace(b"one", b"ONE").replace(
        b"three", b"THREE"
    )


def test_gitattributes_is_written_once_keeping_other_lines(tmp_path: Path) -> None:
    path = tmp_path / ".gitattributes"
    assert merge_driver.ensure_gitattributes(tmp_path) is True
    assert path.read_text() == GITATTRIBUTES
    assert merge_driver.ensure_gitattributes(tmp_path) is False
    path.write_text("*.png binary\ntickets/*.md merge=union")  # no final newline
    assert merge_driver.ensure_gitattributes(tmp_path) is True
    text = path.read_text()
    assert text.startswith("*.png binary\ntickets/*.md merge=union\n")
    assert text.endswith("tickets/*.md merge=esc\n")
    assert merge_driver.ensure_gitattributes(tmp_path) is False


# ---------------------------------------------------------------- real git


# What `esc install-git` registers: the Python running esc, by absolute path.
DRIVER = f"{sys.executable}{SAFE} -m esc merge-file %O %A %B %P"


@pytest.fixture(autouse=True)
def cron_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Git finds the driver without PATH: these merges run with cron's, which has no esc."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("GIT_EDITOR", "true")


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc


def new_repo(path: Path) -> Path:
    """`esc init`, then `git init`, then `esc install-git`, committed."""
    Esc(path.parent, now=None).ok("init", path.name)
    git(path, "init", "-q", "-b", "main")
    out = Esc(path, now=None).ok("install-git")
    assert f"merge.esc.driver = {DRIVER}\n" in out
    git(path, "add", "-A")
    git(path, "commit", "-qm", "workspace")
    return path


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def create_ticket(repo: Path) -> str:
    ticket_id = Esc(repo, now="2026-11-20T09:00:00+01:00").ok(
        "create", "--title", "Checkout returns 500", "--category", "billing",
        "--customer", "jane@shop.example", "--channel", "email", "--body", "Card payments fail.",
    ).strip()  # fmt: skip
    commit_all(repo, f"create {ticket_id}")
    return ticket_id


def escalating_side(repo: Path, ticket_id: str) -> None:
    """One agent escalates up the chain and adds an internal note."""
    Esc(repo, now="2026-11-20T10:00:00+01:00").ok(
        "escalate", ticket_id, "--up", "--reason", "needs a developer", "--by", "bob"
    )
    Esc(repo, now="2026-11-20T10:20:00+01:00").ok(
        "comment", ticket_id, "--internal", "-m", "Logs show PSP timeouts.", "--by", "bob"
    )
    commit_all(repo, "escalate")


def replying_side(repo: Path, ticket_id: str) -> None:
    """Another replies publicly, tags, and records the customer's answer."""
    Esc(repo, now="2026-11-20T09:40:00+01:00").ok("comment", ticket_id, "-m", "Looking into it.")
    Esc(repo, now="2026-11-20T10:05:00+01:00").ok("tag", ticket_id, "psp", "vip")
    Esc(repo, now="2026-11-20T10:10:00+01:00").ok(
        "comment", ticket_id, "--from-customer", "-m", "Still failing for Visa."
    )
    commit_all(repo, "reply")


def diverge(repo: Path) -> tuple[str, str, str]:
    """Branches `esc` and `reply` changing one ticket; returns (id, their two texts)."""
    ticket_id = create_ticket(repo)
    path = repo / "tickets" / f"{ticket_id}.md"
    git(repo, "switch", "-qc", "esc")
    escalating_side(repo, ticket_id)
    escalated = path.read_text(encoding="utf-8")
    git(repo, "switch", "-qc", "reply", "main")
    replying_side(repo, ticket_id)
    replied = path.read_text(encoding="utf-8")
    return ticket_id, escalated, replied


def assert_both_sides_once(repo: Path, ticket_id: str, *sides: str) -> None:
    """Every entry, escalation, activity line and tag of both sides is there, once."""
    text = (repo / "tickets" / f"{ticket_id}.md").read_text(encoding="utf-8")
    assert "<<<<<<<" not in text
    ticket = parse(text, "merged").ticket
    tickets = [parse(side, "side").ticket for side in sides]
    assert Counter(ticket.entries) == Counter(set().union(*(t.entries for t in tickets)))
    assert Counter(ticket.escalations) == Counter(
        set().union(*(t.escalations for t in tickets))
    )
    assert sorted(ticket.tags) == sorted(set().union(*(t.tags for t in tickets)))
    lines = [render_activity(a) for a in ticket.activity]
    wanted: Counter[str] = Counter()
    for t in tickets:
        wanted |= Counter(render_activity(a) for a in t.activity)
    assert Counter(lines) == wanted
    assert [a.at for a in ticket.activity] == sorted(a.at for a in ticket.activity)
    assert [e.at for e in ticket.entries] == sorted(e.at for e in ticket.entries)
    assert ticket.team == "engineering"
    assert ticket.first_response_at is not None
    assert ticket.updated == max(t.updated for t in tickets)
    result = Esc(repo)("validate")
    assert result.code == 0, result.out + result.err
    assert git(repo, "status", "--porcelain").stdout == ""


def test_init_inside_a_git_work_tree_registers_the_driver(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    out = Esc(repo, now=None).ok("init", "helpdesk")  # a workspace in a sub-folder
    assert "merge driver" in out
    assert (repo / "helpdesk" / ".gitattributes").read_text() == GITATTRIBUTES
    config = git(repo, "config", "--get-regexp", r"^merge\.esc\.").stdout
    assert config == (
        f"merge.esc.name esc ticket merge\nmerge.esc.driver {DRIVER}\nmerge.esc.recursive binary\n"
    )
    attr = git(repo, "check-attr", "merge", "helpdesk/tickets/T-1.md").stdout
    assert attr.strip() == "helpdesk/tickets/T-1.md: merge: esc"


def test_init_outside_git_says_to_run_install_git(tmp_path: Path) -> None:
    result = Esc(tmp_path, now=None)("init", "ws")
    assert result.code == 0
    assert "esc install-git" in result.err
    assert (tmp_path / "ws" / ".gitattributes").read_text() == GITATTRIBUTES
    refused = Esc(tmp_path / "ws", now=None)("install-git")
    assert refused.code == 1 and "git init" in refused.err


def test_install_git_is_idempotent(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    (repo / ".gitattributes").write_text("*.pdf binary\n" + GITATTRIBUTES)
    assert "kept" in Esc(repo, now=None).ok("install-git")
    assert (repo / ".gitattributes").read_text() == "*.pdf binary\n" + GITATTRIBUTES
    assert git(repo, "config", "merge.esc.driver").stdout == DRIVER + "\n"


def test_git_merge_of_concurrent_escalation_and_replies_is_clean(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    ticket_id, escalated, replied = diverge(repo)
    git(repo, "switch", "-q", "esc")
    merged = git(repo, "merge", "--no-edit", "reply", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert_both_sides_once(repo, ticket_id, escalated, replied)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P is 3.11's")
def test_a_committed_esc_module_is_never_what_the_driver_runs(tmp_path: Path) -> None:
    """Git runs the driver at the top of the work tree: an `esc.py` (or `esc/`) committed
    there is not imported in esc's place (python -P), so a pull cannot run it."""
    repo = new_repo(tmp_path / "repo")
    marker = tmp_path / "ran"
    (repo / "esc.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(9)\n")
    commit_all(repo, "a module named esc")
    ticket_id, escalated, replied = diverge(repo)
    git(repo, "switch", "-q", "esc")
    merged = git(repo, "merge", "--no-edit", "reply", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert not marker.exists()
    assert_both_sides_once(repo, ticket_id, escalated, replied)


def test_git_rebase_of_concurrent_changes_is_clean(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    ticket_id, escalated, replied = diverge(repo)
    rebased = git(repo, "rebase", "esc", check=False)  # on branch `reply`
    assert rebased.returncode == 0, rebased.stdout + rebased.stderr
    assert git(repo, "rev-parse", "reply~1").stdout == git(repo, "rev-parse", "esc").stdout
    assert_both_sides_once(repo, ticket_id, escalated, replied)


def test_git_cherry_pick_of_concurrent_changes_is_clean(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    ticket_id, escalated, replied = diverge(repo)
    git(repo, "switch", "-q", "esc")
    picked = git(repo, "cherry-pick", "reply", check=False)
    assert picked.returncode == 0, picked.stdout + picked.stderr
    assert_both_sides_once(repo, ticket_id, escalated, replied)


def test_two_clones_pull_each_others_changes_cleanly(tmp_path: Path) -> None:
    seed = new_repo(tmp_path / "seed")
    ticket_id = create_ticket(seed)
    git(tmp_path, "clone", "-q", "--bare", str(seed), "origin.git")
    clones = {}
    for name in ("ann", "ben"):
        git(tmp_path, "clone", "-q", "origin.git", name)
        clones[name] = tmp_path / name
        Esc(clones[name], now=None).ok("install-git")  # git does not clone config
    ann, ben = clones["ann"], clones["ben"]
    escalating_side(ann, ticket_id)
    replying_side(ben, ticket_id)
    sides = [(c / "tickets" / f"{ticket_id}.md").read_text() for c in (ann, ben)]
    git(ben, "push", "-q", "origin", "main")
    pulled = git(ann, "pull", "--no-rebase", "--no-edit", "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert_both_sides_once(ann, ticket_id, *sides)
    git(ann, "push", "-q", "origin", "main")
    git(ben, "pull", "--ff-only", "-q", "origin", "main")
    assert (ben / "tickets" / f"{ticket_id}.md").read_text() == (
        ann / "tickets" / f"{ticket_id}.md"
    ).read_text()


def test_without_the_driver_git_merges_tickets_as_text(tmp_path: Path) -> None:
    """What `esc install-git` is for: a clone without merge.esc falls back to git's text
    merge, which conflicts on the lines both sides appended."""
    repo = new_repo(tmp_path / "repo")
    git(repo, "config", "--local", "--remove-section", "merge.esc")
    ticket_id, _, _ = diverge(repo)
    git(repo, "switch", "-q", "esc")
    merged = git(repo, "merge", "--no-edit", "reply", check=False)
    assert merged.returncode != 0
    assert f"tickets/{ticket_id}.md" in merged.stdout


def test_a_true_conflict_is_left_to_a_human(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    ticket_id = create_ticket(repo)
    git(repo, "switch", "-qc", "bob")
    Esc(repo).ok("assign", ticket_id, "bob")
    Esc(repo).ok("comment", ticket_id, "--internal", "-m", "Bob takes it.")
    commit_all(repo, "bob")
    git(repo, "switch", "-qc", "carol", "main")
    Esc(repo, now="2026-11-20T10:05:00+01:00").ok("assign", ticket_id, "carol")
    commit_all(repo, "carol")
    merged = git(repo, "merge", "--no-edit", "bob", check=False)
    assert merged.returncode != 0
    assert f"CONFLICT (content): Merge conflict in tickets/{ticket_id}.md" in merged.stdout
    # the driver names the ticket (git's %P), not the temporary file it merged
    assert f"esc merge-file: tickets/{ticket_id}.md: conflicting assignee" in merged.stderr
    status = git(repo, "status").stdout
    assert f"both modified:   tickets/{ticket_id}.md" in status
    text = (repo / "tickets" / f"{ticket_id}.md").read_text(encoding="utf-8")
    assert "<<<<<<< ours\nassignee: carol\n=======\nassignee: bob\n>>>>>>> theirs\n" in text
    assert "Bob takes it." in text  # the rest of the file is merged
    marker = text.splitlines().index("<<<<<<< ours") + 1
    result = Esc(repo)("validate")
    assert result.code == 1
    path = f"tickets/{ticket_id}.md"
    assert f"{path}:{marker}: unresolved merge conflict" in result.err, result.err


def test_the_article_a_resolution_recorded_merges_like_any_field() -> None:
    """kb: (esc resolve --kb) set on one side, a priority on the other: both kept; set to
    two different articles: a conflict, never one silently dropped."""
    ours = change(BASE, sets={"kb": "KB-0003", "status": "resolved"})
    theirs = change(BASE, sets={"priority": "urgent"})
    got = data(clean(BASE, ours, theirs))
    assert (got["kb"], got["status"], got["priority"]) == ("KB-0003", "resolved", "urgent")
    other = change(BASE, sets={"kb": "KB-0007"})
    assert not merge_ticket(BASE, ours, other).clean


# ---------------------------------------------------------------- requests to other teams


def request(when: str, team: str, **closing: object) -> Request:
    state = str(closing.pop("state", "open"))
    return Request(at(when), "alice", team, None, state, **closing)  # type: ignore[arg-type]


def requests_of(text: str) -> list[tuple[str, str, object]]:
    got = data(text)["requests"]
    assert isinstance(got, list)
    return [(r["team"], r["state"], r.get("closed_by")) for r in got]


def test_requests_both_sides_made_are_both_kept_appending_theirs() -> None:
    ours = change(BASE, requests=(request("10:10", "engineering"),))
    theirs = change(BASE, requests=(request("10:20", "management"),))
    merged = clean(BASE, ours, theirs)
    assert requests_of(merged) == [("engineering", "open", None), ("management", "open", None)]
    assert merged == change(ours, requests=(request("10:20", "management"),))


def test_theirs_request_asked_before_ours_is_placed_before_it() -> None:
    """As escalations are: in the order they were asked, whichever side merges."""
    ours = change(BASE, requests=(request("10:10", "engineering"),))
    theirs = change(BASE, requests=(request("10:05", "management"),))
    for merged in (clean(BASE, ours, theirs), clean(BASE, theirs, ours)):
        assert requests_of(merged) == [("management", "open", None), ("engineering", "open", None)]
        assert parse(merged, "t.md").problems == []


def test_a_request_answered_on_one_side_stays_answered_beside_the_other_sides_new_one() -> None:
    base = change(BASE, requests=(request("10:00", "engineering"),))
    answered = request(
        "10:00", "engineering", state="answered", closed=at("10:30"), closed_by="dan"
    )
    ours = change(base, requests=(request("10:40", "management"),))
    theirs = change(base, requests=(answered,))
    assert requests_of(clean(base, ours, theirs)) == [
        ("engineering", "answered", "dan"),
        ("management", "open", None),
    ]


def test_one_request_both_sides_made_and_one_answered_merges_as_one_answered() -> None:
    """A rule's `involve:` made in both clones, answered in one: `git pull` crashed the
    driver (no base to merge the request's fields from); in two offsets it was kept twice,
    a second open request to the team, which no command reads."""
    answered = request("10:00", "engineering", state="answered", closed=at("10:30"),
                       closed_by="dan")  # fmt: skip
    ours = change(change(BASE, requests=(request("10:00", "engineering"),)), requests=(answered,))
    for zone in (CET, dt.timezone.utc):
        asked = Request(at("10:00").astimezone(zone), "alice", "engineering", None, "open")
        theirs = change(BASE, requests=(asked,))
        for one, other in ((ours, theirs), (theirs, ours)):
            merged = clean(BASE, one, other)
            assert requests_of(merged) == [("engineering", "answered", "dan")], zone


def test_a_log_line_with_a_time_in_its_text_in_two_offsets_merges_as_one() -> None:
    """The sweep's `sla.first_response: ok → warning · due …` and a resolve's
    `first_response_at: — → …`, written by two clones in other offsets: kept twice."""

    def warned(zone: dt.tzinfo) -> str:
        when, due = at("10:00").astimezone(zone), at("11:00").astimezone(zone)
        lines = (
            Activity(when, "esc", field="sla.first_response", old="ok", new="warning",
                     note=f"due {due.isoformat()}"),
            Activity(when, "alice", field="first_response_at", new=when.isoformat()),
        )  # fmt: skip
        return change(BASE, activity=lines)

    ours, theirs = warned(CET), warned(dt.timezone.utc)
    assert ours != theirs
    assert clean(BASE, ours, theirs) == ours and clean(BASE, theirs, ours) == theirs


def test_both_sides_asking_the_same_team_at_once_is_a_conflict_validate_points_at() -> None:
    """Two clones each ran `esc involve T --team engineering` (10:00 and 10:05): two open
    requests to one team, which `esc involve` never makes and `esc validate` refuses, is a
    conflict (each side's ask kept between markers), not a clean merge."""
    ours = change(BASE, requests=(request("10:00", "engineering"),))
    theirs = change(BASE, requests=(request("10:05", "engineering"),))
    merged = merge_ticket(BASE, ours, theirs)
    assert not merged.clean
    assert "<<<<<<< ours" in merged.text and ">>>>>>> theirs" in merged.text
    # one side's request answered before the other asked again: both kept, cleanly
    answered = request("10:00", "engineering", state="answered", closed=at("10:02"),
                       closed_by="dan")  # fmt: skip
    ours = change(BASE, requests=(answered,))
    assert requests_of(clean(BASE, ours, theirs)) == [
        ("engineering", "answered", "dan"),
        ("engineering", "open", None),
    ]


def test_an_open_request_to_the_team_the_other_side_escalated_to_is_a_conflict() -> None:
    """One clone escalated to engineering, the other asked engineering for help: merged
    cleanly, the ticket was engineering's with an open request to engineering, which
    neither command makes and `esc validate` refuses.  A conflict on `requests`, each
    side's between markers (whichever side escalated)."""
    escalated = change(BASE, sets={"team": "engineering"})
    asked = change(BASE, requests=(request("11:02", "engineering"),))
    for ours, theirs in ((escalated, asked), (asked, escalated)):
        merged = merge_ticket(BASE, ours, theirs)
        assert not merged.clean
        assert "requests" in merged.conflicts
        assert merged.text.count("<<<<<<< ours") == 1
        assert merged.text.count("team: engineering") >= 1
    # asked a team other than the one escalated to: clean, as ever
    other = change(BASE, requests=(request("11:02", "management"),))
    assert requests_of(clean(BASE, escalated, other)) == [("management", "open", None)]
    # a ticket that had such a request already (a hand edit, an older esc): not this
    # merge's doing, and every merge of it was a conflict
    had = change(escalated, requests=(request("11:02", "engineering"),))
    ours = change(had, sets={"assignee": "dan"})
    theirs = change(had, sets={"title": "Checkout fails for every card"})
    assert merge_ticket(had, ours, theirs).clean


def test_a_request_closed_on_both_sides_takes_the_earlier_close() -> None:
    base = change(BASE, requests=(request("10:00", "engineering"),))
    late = request("10:00", "engineering", state="answered", closed=at("11:00"), closed_by="dan")
    early = request("10:00", "engineering", state="declined", closed=at("10:30"), closed_by="erin")
    for ours, theirs in ((late, early), (early, late)):
        merged = clean(base, change(base, requests=(ours,)), change(base, requests=(theirs,)))
        assert requests_of(merged) == [("engineering", "declined", "erin")]


def test_an_escalation_edited_on_both_sides_stays_one() -> None:
    """Ours made its reason longer, theirs mended its `by`: both were kept, and the ticket
    counted two escalations where there was one. One, with both edits; one field edited
    differently on both sides is a conflict."""
    line = "by: alice, reason: down}"
    ours = edit(BASE, line, "by: alice, reason: down (ENG-41)}")
    theirs = edit(BASE, line, "by: bob, reason: down}")
    merged = clean(BASE, ours, theirs)
    [got] = data(merged)["escalations"]
    assert (got["by"], got["reason"]) == ("bob", "down (ENG-41)")
    other = edit(BASE, line, "by: alice, reason: shop down}")
    assert merge_ticket(BASE, ours, other).conflicts == ["escalations"]


def test_a_request_changed_on_both_sides_merges_field_by_field() -> None:
    """Ours gave the request to dan, theirs answered it: theirs' whole request was taken
    and ours' person lost, without a word. Each field one side changed takes that side;
    one changed differently on both sides is a conflict."""
    from dataclasses import replace

    asked = request("10:00", "engineering")
    base = change(BASE, requests=(asked,))
    person = change(base, requests=(replace(asked, person="dan"),))
    answered = replace(asked, state="answered", closed=at("11:00"), closed_by="erin")
    both = clean(base, person, change(base, requests=(answered,)))
    [got] = data(both)["requests"]
    assert (got["person"], got["state"], got["closed_by"]) == ("dan", "answered", "erin")
    other = change(base, requests=(replace(asked, person="erin"),))
    assert merge_ticket(base, person, other).conflicts == ["requests"]


def test_a_heading_in_a_fenced_block_of_the_description_stays_in_the_description() -> None:
    """A description with `## Activity` in a code block (pasted from a Markdown file): the
    driver took it for the log's heading, found two, and gave up on the structure."""
    pasted = "All card types are affected.\n\n```markdown\n## Activity\n- not ours\n```\n"
    base = edit(BASE, "All card types are affected.\n", pasted)
    ours = apply(base, note("10:00", "bob", "B"))
    theirs = apply(base, note("09:50", "dan", "D"))
    merged = clean(base, ours, theirs)
    assert pasted in merged
    assert merged.count("\n## Activity\n") == 2  # (the pasted one, and the log's own)
    assert [e.text for e in parse(merged, "m.md").ticket.entries][-2:] == ["D", "B"]


def test_a_log_line_both_sides_added_but_for_trailing_blanks_is_one_line() -> None:
    """Every reader takes an activity line without the blanks it ends in, and the merge
    kept one of the two; its check for lost lines then found the other "lost" and sent
    the file to conflict markers."""
    line = "- 2026-11-20T09:35:00+01:00 · bob · priority: normal → high"
    ours = BASE + line + "   \n"
    theirs = BASE + line + "\n"
    merged = clean(BASE, ours, theirs)
    assert merged.count(line) == 1


def test_a_conflict_on_status_takes_the_fields_its_change_set_with_it() -> None:
    """One clone closed a resolved ticket (closed_at, csat), the other reopened it
    (resolved_at: null): only `status` got markers, the rest merged on its own, and no
    choice of status validated (closed with no resolved_at, or open and closed at once)."""
    resolved = change(BASE, sets={"status": "resolved", "resolved_at": at("16:00")})
    closed = change(resolved, sets={"status": "closed", "closed_at": at("17:13"), "csat": 5})
    reopened = change(resolved, sets={"status": "open", "resolved_at": None})
    merged = merge_ticket(resolved, reopened, closed)
    assert not merged.clean
    assert set(merged.conflicts) >= {"status", "resolved_at", "closed_at", "csat"}
    # taking one side in every conflict gives that side's ticket, whole: closed (resolved,
    # rated), or open again (none of those)
    sides = r"<<<<<<< ours\n(.*?)=======\n(.*?)>>>>>>> theirs\n"
    theirs = parse(re.sub(sides, r"\2", merged.text, flags=re.S), "t.md").ticket
    assert (theirs.status, theirs.csat, theirs.closed_at) == ("closed", 5, at("17:13"))
    assert theirs.resolved_at == at("16:00")
    ours = parse(re.sub(sides, r"\1", merged.text, flags=re.S), "t.md").ticket
    assert (ours.status, ours.resolved_at, ours.closed_at, ours.csat) == ("open", None, None, None)


def test_a_person_s_status_stands_against_the_open_a_rule_s_escalation_set() -> None:
    """The cron clone's rule escalated a new ticket (opening it) while a person resolved
    it in their clone: `status: open` against `resolved` was a conflict for the person to
    untangle, though the `open` was only a side effect, as the sweep run first shows
    (open, then resolved).  The person's status stands, with the fields it set; both
    logs are kept.  Two people's statuses still conflict."""
    new = change(BASE, sets={"status": "new"})
    rule = "rule:breached-goes-up"
    opened = change(new, sets={"status": "open", "team": "engineering"}, activity=(
        Activity(at("13:00"), rule, field="team", old="support", new="engineering"),
        Activity(at("13:00"), rule, field="status", old="new", new="open"),
    ))  # fmt: skip
    resolved = change(new, sets={"status": "resolved", "resolved_at": at("13:30")}, activity=(
        Activity(at("13:30"), "bob", field="status", old="new", new="resolved"),
    ))  # fmt: skip
    for ours, theirs in ((opened, resolved), (resolved, opened)):
        merged = parse(clean(new, ours, theirs), "m.md").ticket
        assert (merged.status, merged.resolved_at, merged.team) == (
            "resolved", at("13:30"), "engineering"
        )
        assert [(a.by, a.new) for a in merged.activity if a.field == "status"][-2:] == [
            (rule, "open"), ("bob", "resolved")
        ]
    # the person's move before the rule's: had the sweep seen it, the rule would not have
    # acted on a resolved ticket: a conflict for a person to decide
    early = change(new, sets={"status": "resolved", "resolved_at": at("09:58")}, activity=(
        Activity(at("09:58"), "bob", field="status", old="new", new="resolved"),
    ))  # fmt: skip
    assert "status" in merge_ticket(new, opened, early).conflicts
    assert "status" in merge_ticket(new, early, opened).conflicts
    by_hand = change(new, sets={"status": "open"}, activity=(
        Activity(at("13:00"), "alice", field="status", old="new", new="open"),
    ))  # fmt: skip
    assert "status" in merge_ticket(new, by_hand, resolved).conflicts


# What esc's own commands make of a ticket, for merges of two people's commands: support
# (alice, bob), engineering (tomas), both (nadia)
TEAMS = Config(
    teams={
        "support": Team("support", "Support", 1, members=("alice", "bob", "nadia"),
                        escalates_to="engineering"),
        "engineering": Team("engineering", "Engineering", 2, members=("tomas", "nadia")),
    },
    intake="support",
)  # fmt: skip
NEW = edit(edit(BASE, "status: open ", "status: new  "), "assignee: alice", "assignee: null")


def did(text: str, command: Callable[..., Change], when: str, actor: str, *args: object,
        **kwargs: object) -> str:  # fmt: skip
    """``text`` after ``command`` (a function of esc.domain.lifecycle) by ``actor``."""
    doc = parse(text, "t.md")
    return apply_change(doc, command(doc.ticket, TEAMS, at(when), actor, *args, **kwargs))


def test_two_people_making_the_same_escalation_at_once_is_a_conflict() -> None:
    """maya and tomas each ran `escalate --up` (or `--priority urgent`) in their clones:
    merged as a union, the ticket held two escalations from support while at engineering,
    and reports counted two, though serially the second is refused or goes further.  A
    conflict on `escalations`, each side's list between markers, everything else (both
    log lines, both notes) merged; escalations of different kinds still merge cleanly."""
    for how in ({"up": True}, {"priority": "urgent"}):
        one = did(NEW, lifecycle.escalate, "10:10", "alice", "auth bug", **how)
        two = did(NEW, lifecycle.escalate, "10:11", "bob", "looks like a bug", **how)
        for ours, theirs in ((one, two), (two, one)):
            result = merge_ticket(NEW, ours, theirs)
            assert result.conflicts == ["escalations"], result.text
            assert result.text.count("<<<<<<< ours\nescalations:\n") == 1
            for reason in ("auth bug", "looks like a bug"):
                assert result.text.count(f"escalation: {reason}\n") == 1  # (its log line)
    up = did(NEW, lifecycle.escalate, "10:10", "alice", "auth bug", up=True)
    urgent = did(NEW, lifecycle.escalate, "10:11", "bob", "shop down", priority="urgent")
    merged = parse(clean(NEW, up, urgent), "m.md").ticket
    assert [(e.kind, e.by) for e in merged.escalations][-2:] == [
        ("hierarchical", "alice"), ("priority", "bob")
    ]
    # a rule's beside a person's: the sweep's replay decides (README: it stays beside it
    # when the rule cannot be planned again here)
    by = "rule:breached-goes-up"
    rule = change(NEW, sets={"team": "engineering"}, escalations=(
        Escalation(at("10:30"), "hierarchical", "support", "engineering", by, "breached"),
    ))  # fmt: skip
    assert len(parse(clean(NEW, up, rule), "m.md").ticket.escalations) == 3


def test_a_comment_on_one_of_several_items_lines_of_one_key_is_never_lost_unsaid() -> None:
    """Two requests written as block mappings, each `    team: …  # …` with its own comment:
    base's comment on a key was taken as kept whenever the merge had another comment on a
    key of that name, so dropping one of the two went unreported (a code review's find)."""
    from esc.ticketfile.merge import lost_lines

    items = (
        "requests:\n  - asked: 2026-11-20T10:00:00+01:00\n    by: al\n"
        "    team: management  # c1\n    state: open\n"
        "  - asked: 2026-11-20T11:00:00+01:00\n    by: al\n"
        "    team: support  # c2 Jane owns this\n    state: open\n"
    )
    base = edit(BASE, "escalations:\n", items + "escalations:\n")
    ours = edit(base, "assignee: alice", "assignee: bob")
    theirs = edit(base, "status: open ", "status: pending ")
    merged = edit(ours, "status: open ", "status: pending ")
    for comment in ("  # c1", "  # c2 Jane owns this"):
        assert lost_lines(base, ours, theirs, merged.replace(comment, "")), comment


def test_a_tag_taken_out_on_one_side_and_one_added_on_the_other_merge_alike_either_way() -> None:
    """Ours took `- 'vat'` out, theirs added `- "swiss"` (quoted, by hand): one direction
    merged, the other rewrote the list and conflicted (issue 6's second audit). Both
    merge, each item's line as written."""
    hand = edit(BASE, "tags:\n  - vip\n", "tags:\n  - vip    # first\n  - 'vat'\n")
    removed = edit(hand, "  - 'vat'\n", "")
    added = edit(hand, "  - 'vat'\n", "  - 'vat'\n  - \"swiss\"\n")
    for ours, theirs in ((removed, added), (added, removed)):
        merged = clean(hand, ours, theirs)
        assert data(merged)["tags"] == ["vip", "swiss"]
        assert "  - vip    # first\n" in merged


# ---------------------------------------------------------------- a sweep's work alone


@pytest.fixture(scope="module")
def swept_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A ticket as a sweep at 09:05 left it, and as one at 10:00 rewrote it: the 09:30
    breach logged, the rule's escalation, its note and the `sla:` block."""
    folder = tmp_path_factory.mktemp("swept")
    Esc(folder, now=None).ok("init", "desk")
    root = folder / "desk"
    ticket = Esc(root, now="2026-12-01T09:00:00+01:00").ok(
        "create", "--title", "Card charged twice", "--category", "billing",
        "--priority", "urgent", "--customer", "ann@shop.example",
    ).strip()  # fmt: skip
    path = root / "tickets" / f"{ticket}.md"
    Esc(root).ok("sweep", "--no-report", "--no-notify", now="2026-12-01T09:05:00+01:00")
    base = path.read_text(encoding="utf-8")
    Esc(root).ok("sweep", "--no-report", "--no-notify", now="2026-12-01T10:00:00+01:00")
    return base, path.read_text(encoding="utf-8")


def test_a_sweep_s_rewrite_reads_as_a_sweep_s_until_its_last_line(
    swept_pair: tuple[str, str],
) -> None:
    base, swept = swept_pair
    assert "team: engineering" in swept and "rule:breached-goes-up" in swept
    until = dt.datetime.fromisoformat("2026-12-01T09:30:00+01:00")
    assert swept_until(parse(base, "base"), parse(swept, "swept")) == until
    assert swept_until(parse(base, "base"), parse(base, "base")) is None  # (nothing added)


def test_a_sweep_s_rewrite_among_a_customer_s_message_comes_apart_as_it_was_made(
    tmp_path: Path,
) -> None:
    """The cron line's intake adds Ann's message at 09:50 and its sweep rewrites the
    ticket at 10:00: the likeliest text without the sweep's lines, block, escalation and
    fields is the one intake wrote, byte for byte (the merge driver then checks that a
    sweep makes the side of it)."""
    Esc(tmp_path, now=None).ok("init", "desk")
    root = tmp_path / "desk"
    esc = Esc(root, now="2026-12-01T09:00:00+01:00")
    ticket = esc.ok("create", "--title", "Card charged twice", "--category", "billing",
                    "--priority", "urgent", "--customer", "ann@shop.example").strip()  # fmt: skip
    path = root / "tickets" / f"{ticket}.md"
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-12-01T09:05:00+01:00")
    base = path.read_text(encoding="utf-8")
    esc.ok("comment", ticket, "--from-customer", "--by", "ann@shop.example", "-m", "Again!",
           now="2026-12-01T09:50:00+01:00")  # fmt: skip
    intaken = path.read_text(encoding="utf-8")
    esc.ok("sweep", "--no-report", "--no-notify", now="2026-12-01T10:00:00+01:00")
    swept = path.read_text(encoding="utf-8")
    assert "rule:breached-goes-up" in swept and "Again!" in swept
    texts = list(unswept(parse(base, "base"), parse(swept, "swept")))
    assert texts[0] == intaken
    assert all("rule:" not in text and "Again!" in text for text in texts)
    # (a sweep's rewrite alone comes apart the same way)
    assert next(unswept(parse(intaken, "base"), parse(swept, "swept"))) == intaken
    assert list(unswept(parse(base, "base"), parse(base, "base"))) == []  # (nothing added)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n## Conversation", "\nCard ending 4242.\n\n## Conversation"),  # the description
        ("\n## Activity\n", "\n### 2026-12-01T09:40:00+01:00 · bob · note (internal)\n\n"
         "Called Ann.\n\n## Activity\n"),  # an entry of a person's
        ("\n## Activity\n\n", "\n## Activity\n\n- 2026-12-01T09:40:00+01:00 · bob · "
         "priority: urgent → high\n"),  # a line of a person's
        ("by: \"rule:breached-goes-up\", reason:", "by: bob, reason:"),  # an escalation
    ],
)
def test_what_a_person_added_beside_the_sweep_s_does_not_read_as_a_sweep_s(
    swept_pair: tuple[str, str], old: str, new: str
) -> None:
    """The first test of a side a merge may take for a sweep's alone (the merge driver
    then plans it again, byte for byte)."""
    base, swept = swept_pair
    assert swept.count(old) == 1, old
    edited = swept.replace(old, new)
    assert swept_until(parse(base, "base"), parse(edited, "edited")) is None


def test_fingerprints_are_left_out_of_a_merge_and_kept_where_one_side_is_the_result() -> None:
    """A sweep's fingerprint (the front-matter's last line) on both sides, each stale on
    the other's text: the fields merge as ever, and the merged text, no sweep's, has none;
    where one side is the merge, it is that side, line and all."""
    from esc.ticketfile import fingerprint

    def stamped(text: str) -> str:
        return fingerprint.stamped(parse(text, "t.md")).text

    base = stamped(BASE)
    ours = stamped(BASE.replace("assignee: alice", "assignee: bob"))
    theirs = stamped(BASE.replace("state: ok}", "state: warning}"))
    result = merge_ticket(base, ours, theirs)
    assert result.clean
    assert "assignee: bob" in result.text and "state: warning}" in result.text
    assert "# sweep fingerprint " not in result.text
    assert merge_ticket(base, ours, base).text == ours
    assert merge_ticket(base, base, theirs).text == theirs
    only_stamped = stamped(BASE.replace("status: open ", "status: new  "))
    plain = fingerprint.stamped(parse(only_stamped, "t.md"), stamp=False).text
    assert merge_ticket(BASE, only_stamped, plain).text == only_stamped


@pytest.mark.parametrize(
    ("settle", "escalate"),
    [
        (("close", "--resolution", "ok", "--csat", "5"), ("escalate", "--up", "--reason", "eng")),
        (("resolve", "--resolution", "ok"), ("escalate", "--to", "engineering", "--reason", "x")),
        (("close", "--resolution", "ok"), ("escalate", "--priority", "urgent", "--reason", "vip")),
    ],
)
def test_an_escalation_after_the_other_side_settled_the_ticket_is_a_conflict(
    tmp_path: Path, settle: tuple[str, ...], escalate: tuple[str, ...]
) -> None:
    """One clone closes (or resolves) the ticket at 10:05, another escalates it at 10:06:
    one after the other the escalation is refused ("reopen it first"); merged, a closed
    ticket moved on, silently, and its report counted both (audit helper-461).  The
    status is marked for a person; an escalation made before the close merges as ever."""
    Esc(tmp_path, now=None).ok("init", "desk")
    esc = Esc(tmp_path / "desk", now="2026-11-20T10:00:00+01:00")
    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    esc.ok("assign", ticket, "bob")
    path = tmp_path / "desk" / "tickets" / f"{ticket}.md"
    base = path.read_text()
    esc.ok(settle[0], ticket, *settle[1:], now="2026-11-20T10:05:00+01:00")
    settled = path.read_text()
    for when, conflicted in (("10:06", True), ("10:04", False)):
        path.write_text(base)
        esc.ok(escalate[0], ticket, *escalate[1:], now=f"2026-11-20T{when}:00+01:00")
        escalated = path.read_text()
        for ours, theirs in ((settled, escalated), (escalated, settled)):
            result = merge_ticket(base, ours, theirs)
            assert ("status" in result.conflicts) is conflicted, (when, result.conflicts)
            if not conflicted:
                assert result.clean and f"status: {parse(settled, 't.md').data['status']}" in (
                    result.text
                )


def test_a_rule_s_escalation_after_the_close_is_the_sweep_s_to_give_way() -> None:
    """Not a person's escalation: a sweep's, which a merge of what the sweep never saw (the
    close) replays or drops as ever; only a person's is refused serially."""
    from esc.ticketfile.merge import _escalated_after_settled

    base = {"status": "open", "escalations": []}
    closed = {"status": "closed", "closed_at": "2026-11-20T10:05:00+01:00", "escalations": []}
    for by, said in (("alice", True), ("rule:breached-goes-up", False)):
        escalated = {"status": "open", "escalations": [
            {"at": "2026-11-20T13:00:00+01:00", "kind": "hierarchical", "from": "support",
             "to": "engineering", "by": by, "reason": "x"}]}  # fmt: skip
        assert _escalated_after_settled(base, closed, escalated) is said
        assert _escalated_after_settled(base, escalated, closed) is said


def test_an_escalation_between_a_resolve_and_the_close_is_a_conflict(tmp_path: Path) -> None:
    """Resolved at 10:05 and closed at 10:10 on one side, escalated at 10:07 on the other:
    serially refused ("is resolved; reopen it"), merged it was clean (review helper-464)."""
    Esc(tmp_path, now=None).ok("init", "desk")
    esc = Esc(tmp_path / "desk", now="2026-11-20T10:00:00+01:00")
    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    esc.ok("comment", ticket, "-m", "On it.")  # (open: the escalation changes no status)
    path = tmp_path / "desk" / "tickets" / f"{ticket}.md"
    base = path.read_text()
    assert "\nstatus: open\n" in base
    esc.ok("resolve", ticket, "--resolution", "ok", now="2026-11-20T10:05:00+01:00")
    esc.ok("close", ticket, now="2026-11-20T10:10:00+01:00")
    settled = path.read_text()
    path.write_text(base)
    esc.ok("escalate", ticket, "--up", "--reason", "eng", now="2026-11-20T10:07:00+01:00")
    assert "status" in merge_ticket(base, settled, path.read_text()).conflicts
