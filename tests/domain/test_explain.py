"""`esc explain`: the policy and why, each clock's working time and deadline, and each rule."""

from __future__ import annotations

import datetime as dt

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config
from esc.domain.explain import explain_ticket
from esc.domain.model import Ticket
from esc.ticketfile.document import parse

CET = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=CET)  # Tuesday afternoon

# Waited for the customer from Monday 10:00 to Tuesday 11:00.
PAUSED_ONCE = """\
---
id: T-aaaa0001
title: Invoice missing
status: open
priority: normal
category: billing
team: support
created: 2026-11-23T09:00:00+01:00
updated: 2026-11-24T11:00:00+01:00
---

Where is my invoice?

## Activity

- 2026-11-23T09:00:00+01:00 · alice · created
- 2026-11-23T10:00:00+01:00 · alice · status: new → pending
- 2026-11-24T11:00:00+01:00 · alice · status: pending → open
"""

URGENT = """\
---
id: T-aaaa0002
title: Checkout down
status: open
priority: urgent
category: outage
team: engineering
created: 2026-11-24T09:00:00+01:00
updated: 2026-11-24T09:10:00+01:00
first_response_at: 2026-11-24T09:10:00+01:00
fired: {breached-goes-up: 2026-11-24T13:00:00+01:00}
---
"""


def config(rules: str = RULES_YAML) -> Config:
    built, found = build_config(TEAMS_YAML, rules)
    assert found == []
    assert built is not None
    return built


@pytest.fixture(scope="module")
def starter() -> Config:
    return config()


def ticket(text: str = PAUSED_ONCE, **edits: str) -> Ticket:
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse(text, "tickets/T-aaaa0001.md").ticket


def block(text: str, heading: str) -> list[str]:
    """The lines of one paragraph of the explanation, from its heading to the blank line."""
    lines = text.splitlines()
    start = lines.index(heading)
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return lines[start:end]


def test_the_head_names_the_ticket_the_time_and_the_policy_chosen(starter: Config) -> None:
    text = explain_ticket(ticket(), starter, NOW)
    assert text.splitlines()[:7] == [
        "T-aaaa0001  Invoice missing",
        "as of 2026-11-24T15:00:00+01:00",
        "",
        "SLA policy standard: policy 2 of 2 is the first that matches (no condition); not"
        " urgent: priority is normal, needs urgent",
        "  calendar office (Europe/Berlin)",
        "  clocks pause while pending",
        "",
    ]


def test_a_clock_shows_its_pause_the_working_time_counted_and_the_deadline(
    starter: Config,
) -> None:
    text = explain_ticket(ticket(), starter, NOW)
    assert block(text, "first_response: breached") == [
        "first_response: breached",
        "  target   4h of working time",
        "  start    2026-11-23T09:00:00+01:00",
        "  paused   2026-11-23T10:00:00+01:00 → 2026-11-24T11:00:00+01:00",
        "  counted  5h in 2 working interval(s):",
        "             Mon 2026-11-23 09:00 → 10:00  (1h)",
        "             Tue 2026-11-24 11:00 → 15:00  (4h)",
        "  warning  2026-11-24T13:00:00+01:00",
        "  due      2026-11-24T14:00:00+01:00",  # 1h on Monday, 3h after the pause
    ]
    # 24h: 1h Monday, 6h Tuesday, 8h Wednesday, 8h Thursday, 1h Friday
    assert block(text, "resolution: ok")[-2:] == [
        "  warning  2026-11-26T12:00:00+01:00",
        "  due      2026-11-27T10:00:00+01:00",
    ]


REPLIED_THEN_PAUSED = PAUSED_ONCE.replace(
    "updated: 2026-11-24T11:00:00+01:00\n",
    "updated: 2026-11-24T11:00:00+01:00\nfirst_response_at: 2026-11-23T09:30:00+01:00\n",
).replace(
    "## Activity",
    "## Conversation\n\n### 2026-11-23T09:30:00+01:00 · alice · reply (public)\n\nSent.\n\n"
    "### 2026-11-24T11:00:00+01:00 · jane@shop.example · message (public)\n\nNot here.\n\n"
    "## Activity",
)


def test_a_clock_lists_no_pause_from_before_it_started(starter: Config) -> None:
    """The next response's clock starts at the customer's message (Tuesday 11:00): the
    pause that ended then (Monday 10:00 to Tuesday 11:00) is none of its time, and was
    listed under it."""
    text = explain_ticket(ticket(REPLIED_THEN_PAUSED), starter, NOW)
    [heading] = [line for line in text.splitlines() if line.startswith("next_response:")]
    lines = block(text, heading)
    assert "  start    2026-11-24T11:00:00+01:00" in lines
    assert not [line for line in lines if line.startswith("  paused")], lines


def test_a_clock_that_has_not_started_says_why(starter: Config) -> None:
    text = explain_ticket(ticket(), starter, NOW)
    assert "next_response: not started (no unanswered customer message)" in text.splitlines()
    # (the collaboration clock's is no customer's message: no other team was asked)
    from dataclasses import replace

    policies = tuple(
        replace(p, targets={**p.targets, "collaboration": dt.timedelta(hours=8)})
        for p in starter.policies
    )
    text = explain_ticket(ticket(), replace(starter, policies=policies), NOW)
    assert "collaboration: not started (no other team was asked: no open request)" in (
        text.splitlines()
    )


def test_a_clock_paused_now_has_no_deadline(starter: Config) -> None:
    pending = ticket(
        **{
            "status: open": "status: pending",
            "- 2026-11-24T11:00:00+01:00 · alice · status: pending → open\n": "",
            "updated: 2026-11-24T11:00:00+01:00": "updated: 2026-11-23T10:00:00+01:00",
        }
    )
    lines = block(explain_ticket(pending, starter, NOW), "resolution: paused")
    assert "  paused   2026-11-23T10:00:00+01:00 → 2026-11-24T15:00:00+01:00" in lines
    assert "  counted  1h in 1 working interval(s):" in lines
    assert lines[-1] == "  due      unknown while paused"


def test_a_met_clock_shows_when_it_stopped_and_rules_show_when_they_fired(
    starter: Config,
) -> None:
    text = explain_ticket(ticket(URGENT), starter, NOW)
    assert "SLA policy urgent: policy 1 of 2 is the first that matches (priority: urgent)" in text
    assert "  calendar always (UTC)" in text
    assert "clocks pause" not in text
    assert block(text, "first_response: met") == [
        "first_response: met",
        "  target   30m of working time",
        "  start    2026-11-24T09:00:00+01:00",
        "  counted  10m in 1 working interval(s) (in UTC, the calendar's time):",
        "             Tue 2026-11-24 08:00 → 08:10  (10m)",
        "  stopped  2026-11-24T09:10:00+01:00",
        # (in the calendar's zone, and as `show` and `check` write it, in --now's)
        "  due      2026-11-24T08:30:00+00:00 (2026-11-24T09:30:00+01:00)",
    ]
    assert text.splitlines()[-3:] == [
        "Rules:",
        "  breached-goes-up: matches; fired 2026-11-24T13:00:00+01:00,"
        " waits until it stops matching or another clock is breached",
        "  outage-is-urgent: no — priority is urgent, needs <urgent",
    ]


def test_a_repeating_rule_says_when_it_fires_again_and_a_resolved_ticket_is_left(
    starter: Config,
) -> None:
    """A rule with `repeat:` fires again while it matches (not only once it stopped); a
    rule that matches a resolved ticket does nothing to it: explain says both."""
    repeating = config(RULES_YAML.replace(
        'then: {escalate: up, note: "SLA breached, escalating"}',
        'then: {escalate: up, note: "SLA breached, escalating"}\n    repeat: 2h',
    ))  # fmt: skip
    text = explain_ticket(ticket(URGENT), repeating, NOW)
    assert (
        "  breached-goes-up: matches; fired 2026-11-24T13:00:00+01:00,"
        " again 2h of working time later"
    ) in text.splitlines()
    resolved = ticket(URGENT, **{"status: open": "status: resolved", "urgent": "normal"})
    assert (
        "  outage-is-urgent: matches; the sweep leaves it: the ticket is resolved"
    ) in explain_ticket(resolved, starter, NOW).splitlines()


def test_rules_that_do_not_match_say_every_reason(starter: Config) -> None:
    text = explain_ticket(ticket(), starter, dt.datetime(2026, 11, 23, 9, 30, tzinfo=CET))
    assert text.splitlines()[-3:] == [
        "Rules:",
        "  breached-goes-up: no — sla is first_response ok, resolution ok, needs breached",
        "  outage-is-urgent: no — category is billing, needs outage",
    ]
    top = ticket(**{"team: support": "team: management", "priority: normal": "priority: low"})
    assert explain_ticket(top, starter, NOW).splitlines()[-2] == (
        "  breached-goes-up: no — level is 3, needs <3"
    )


def test_without_policies_or_rules_it_says_so() -> None:
    text = explain_ticket(ticket(), config(""), NOW)
    assert text.splitlines()[3:] == [
        "SLA: rules.yaml has no policies",
        "",
        "Rules:",
        "  (rules.yaml has no rules)",
    ]


def test_when_no_policy_matches_it_says_so() -> None:
    standard = "  - name: standard\n"
    only_urgent = RULES_YAML.replace(standard, standard + "    when: {category: bug}\n")
    text = explain_ticket(ticket(), config(only_urgent), NOW)
    assert text.splitlines()[3] == (
        "SLA: no policy matches; not urgent: priority is normal, needs urgent; not standard:"
        " category is billing, needs bug"
    )
    assert "  breached-goes-up: no — sla is not set, needs breached" in text.splitlines()


def test_a_long_clock_lists_twelve_intervals_and_counts_the_rest(starter: Config) -> None:
    old = ticket(
        **{
            "- 2026-11-23T09:00:00+01:00 · alice": "- 2026-11-02T09:00:00+01:00 · alice",
            "created: 2026-11-23T09:00:00+01:00": "created: 2026-11-02T09:00:00+01:00",
        }
    )
    lines = block(explain_ticket(old, starter, NOW), "resolution: breached")
    # three weeks of 8h days from Mon 2 Nov, 1h on Mon 23 Nov, 4h on Tue 24 Nov after the pause
    counted = lines.index("  counted  125h in 17 working interval(s):")
    assert lines[counted + 1] == "             Mon 2026-11-02 09:00 → 17:00  (8h)"
    assert lines[counted + 12] == "             Tue 2026-11-17 09:00 → 17:00  (8h)"
    assert lines[counted + 13] == "             ... and 5 more"


def test_an_interval_past_midnight_names_the_day_it_ends(starter: Config) -> None:
    later = dt.datetime(2026, 11, 25, 15, 0, tzinfo=CET)
    lines = block(explain_ticket(ticket(URGENT), starter, later), "resolution: breached")
    (interval,) = [line for line in lines if line.endswith("(30h)")]
    assert interval == "             Tue 2026-11-24 08:00 → Wed 2026-11-25 14:00  (30h)"
