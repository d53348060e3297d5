"""`esc list`'s query: filters as conditions, comparisons, sort orders and their errors."""

from __future__ import annotations

import datetime as dt

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config
from esc.domain.errors import BadInput
from esc.domain.model import Ticket
from esc.domain.query import SORTABLE, level_value, select
from esc.ticketfile.document import parse

CET = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CET)


def ticket(
    ticket_id: str,
    title: str,
    priority: str,
    created: str,
    *,
    team: str = "support",
    status: str = "open",
    assignee: str | None = None,
    tags: str = "[]",
    csat: str = "null",
) -> Ticket:
    text = f"""\
---
id: {ticket_id}
title: {title}
status: {status}
priority: {priority}
category: billing
team: {team}
assignee: {assignee or "null"}
created: 2026-11-{created}+01:00
tags: {tags}
csat: {csat}
---

About {title.lower()}.
"""
    return parse(text, f"tickets/{ticket_id}.md").ticket


@pytest.fixture(scope="module")
def config() -> Config:
    built, findings = build_config(TEAMS_YAML, RULES_YAML)
    assert findings == []
    assert built is not None
    return built


@pytest.fixture(scope="module")
def desk() -> list[Ticket]:
    return [
        ticket("T-aaaa0001", "Invoice missing", "normal", "18T09:00:00", assignee="alice"),
        ticket("T-aaaa0002", "checkout down", "urgent", "19T12:00:00", team="engineering",
               tags="[vip]"),
        ticket("T-aaaa0003", "Password reset", "low", "17T08:00:00", status="pending",
               csat="4"),
        ticket("T-aaaa0004", "Refund please", "high", "20T09:30:00", assignee="bob",
               tags="[vip, eu]"),
        ticket("T-aaaa0005", "Data export", "urgent", "16T15:00:00", team="management",
               status="closed", assignee="frank", csat="2"),
    ]  # fmt: skip


def ids(tickets: list[Ticket]) -> list[str]:
    return [t.id[-1] for t in tickets]


# ---------------------------------------------------------------- filters


def test_no_filter_keeps_every_ticket_highest_priority_then_oldest_first(
    config: Config, desk: list[Ticket]
) -> None:
    assert ids(select(desk, config, {}, None, NOW)) == ["5", "2", "4", "1", "3"]


def test_filters_on_status_and_team(config: Config, desk: list[Ticket]) -> None:
    spec: dict[str, object] = {"status": ["open", "pending"], "team": "support"}
    assert ids(select(desk, config, spec, None, NOW)) == ["4", "1", "3"]


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (">=high", ["5", "2", "4"]),
        ("<normal", ["3"]),
        ("!=urgent", ["4", "1", "3"]),
        ("normal", ["1"]),
    ],
)
def test_priority_compares_on_the_configured_order(
    config: Config, desk: list[Ticket], priority: str, expected: list[str]
) -> None:
    assert ids(select(desk, config, {"priority": priority}, None, NOW)) == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [("1", ["4", "1", "3"]), (">=2", ["5", "2"]), ("<3", ["2", "4", "1", "3"])],
)
def test_level_filters_on_the_team_level(
    config: Config, desk: list[Ticket], level: str, expected: list[str]
) -> None:
    spec: dict[str, object] = {"level": level_value(level)}
    assert ids(select(desk, config, spec, None, NOW)) == expected


def test_assignee_none_keeps_the_unassigned(config: Config, desk: list[Ticket]) -> None:
    assert ids(select(desk, config, {"assignee": None}, None, NOW)) == ["2", "3"]


def test_a_tag_filter_keeps_tickets_carrying_the_tag(config: Config, desk: list[Ticket]) -> None:
    assert ids(select(desk, config, {"tags": "vip"}, None, NOW)) == ["2", "4"]
    assert ids(select(desk, config, {"tags": "eu"}, None, NOW)) == ["4"]


def test_time_conditions_are_evaluated_at_the_given_now(config: Config, desk: list[Ticket]) -> None:
    assert ids(select(desk, config, {"age": ">2d2h"}, None, NOW)) == ["5", "3"]
    later = NOW + dt.timedelta(days=1)
    assert ids(select(desk, config, {"age": ">2d2h"}, None, later)) == ["5", "1", "3"]


def test_a_bad_filter_is_a_usage_error_naming_the_option(
    config: Config, desk: list[Ticket]
) -> None:
    with pytest.raises(BadInput) as priority:
        select(desk, config, {"priority": ">=huge"}, None, NOW)
    assert str(priority.value) == (
        "--priority: unknown priority 'huge'; choose from low, normal, high, urgent"
    )
    with pytest.raises(BadInput) as tag:
        select(desk, config, {"tags": ">vip"}, None, NOW)
    assert str(tag.value) == "--tag: tags cannot be compared with '>'"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"team": "suport"}, "--team: unknown team 'suport' (did you mean 'support'?)"),
        ({"category": "biling"}, "--category: unknown category 'biling' (did you mean 'billing'?)"),
        ({"priority": "urgnet"}, "--priority: unknown priority 'urgnet' (did you mean 'urgent'?)"),
        ({"level": 9}, "--level: unknown level 9; choose from 1, 2, 3"),
    ],
)
def test_a_filter_value_the_configuration_does_not_have_is_a_usage_error(
    config: Config, desk: list[Ticket], spec: dict[str, object], message: str
) -> None:
    """(it used to list nothing: "no tickets match")"""
    with pytest.raises(BadInput) as caught:
        select(desk, config, spec, None, NOW)
    assert str(caught.value).startswith(message)


# ---------------------------------------------------------------- level_value


@pytest.mark.parametrize(("text", "value"), [("2", 2), (" 3 ", 3), (">=2", ">=2"), ("!=1", "!=1")])
def test_level_value_takes_a_number_or_a_comparison(text: str, value: int | str) -> None:
    assert level_value(text) == value


@pytest.mark.parametrize("text", ["two", "==2", ">=", "2.5", ">=high", "="])
def test_level_value_refuses_anything_else(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        level_value(text)
    assert str(caught.value) == (f"--level takes a number or a comparison like '>=2', not {text!r}")


# ---------------------------------------------------------------- sorting


def test_sort_by_a_field_ascending_and_descending(config: Config, desk: list[Ticket]) -> None:
    assert ids(select(desk, config, {}, "created", NOW)) == ["5", "3", "1", "2", "4"]
    assert ids(select(desk, config, {}, "-created", NOW)) == ["4", "2", "1", "3", "5"]


def test_sort_by_priority_follows_the_configured_order(config: Config, desk: list[Ticket]) -> None:
    order = ids(select(desk, config, {}, "priority", NOW))
    assert order[:3] == ["3", "1", "4"]
    assert sorted(order[3:]) == ["2", "5"]
    assert ids(select(desk, config, {}, "-priority", NOW))[2:] == ["4", "1", "3"]


def test_sort_by_status_follows_the_lifecycle(config: Config, desk: list[Ticket]) -> None:
    """new, open, pending, resolved, closed: not the alphabet's closed, new, open, ..."""
    assert ids(select(desk, config, {}, "status", NOW)) == ["1", "2", "4", "3", "5"]
    assert ids(select(desk, config, {}, "-status", NOW)) == ["5", "3", "1", "2", "4"]


def test_sort_by_text_ignores_case(config: Config, desk: list[Ticket]) -> None:
    assert ids(select(desk, config, {}, "title", NOW)) == ["2", "5", "1", "3", "4"]


def test_tickets_without_the_sort_field_come_last_either_way(
    config: Config, desk: list[Ticket]
) -> None:
    assert ids(select(desk, config, {}, "assignee", NOW)) == ["1", "4", "5", "2", "3"]
    assert ids(select(desk, config, {}, "-assignee", NOW)) == ["5", "4", "1", "2", "3"]
    assert ids(select(desk, config, {}, "-csat", NOW)) == ["3", "5", "1", "2", "4"]


def test_sort_by_a_field_rules_yaml_declares(config: Config, desk: list[Ticket]) -> None:
    """`fields: [region]`: a declared field shows in `list --json` and a condition reads it;
    `--sort region` was refused (the README says any field)."""
    from dataclasses import replace

    declared = replace(config, fields=("region",))
    regions = dict(zip(ids(desk), ["eu", None, "apac", "us", "eu"], strict=True))
    tickets = [replace(t, extra={**t.extra, "region": regions[t.id[-1]]}) for t in desk]
    tickets = [t if regions[t.id[-1]] else replace(t, extra={}) for t in tickets]
    assert ids(select(tickets, declared, {}, "region", NOW)) == ["3", "1", "5", "4", "2"]
    with pytest.raises(BadInput, match="cannot sort by 'region'"):
        select(tickets, config, {}, "region", NOW)
    # (one holding numbers and text, `tier: 1` and `tier: gold`: numbers first, no crash)
    tiers = dict(zip(ids(desk), [2, "gold", 1, None, "Bronze"], strict=True))
    tiered = [replace(t, extra={"tier": tiers[t.id[-1]]}) for t in desk]
    declared = replace(config, fields=("tier",))
    assert ids(select(tiered, declared, {}, "tier", NOW)) == ["3", "1", "5", "2", "4"]
    assert ids(select(tiered, declared, {}, "-tier", NOW)) == ["2", "5", "1", "3", "4"]
    # (days among times: in time order, not after them as text)
    days = dict(zip(ids(desk), [dt.datetime(2026, 2, 1, 9, tzinfo=dt.timezone.utc),
                                dt.date(2026, 1, 1), dt.date(2026, 5, 1), None,
                                dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone.utc)],
                    strict=True))  # fmt: skip
    dated = [replace(t, extra={"due": days[t.id[-1]]}) for t in desk]
    by_day = replace(config, fields=("due",))
    assert ids(select(dated, by_day, {}, "due", NOW)) == ["2", "1", "5", "3", "4"]


def test_sort_by_the_computed_level(config: Config, desk: list[Ticket]) -> None:
    assert ids(select(desk, config, {}, "-level", NOW))[:2] == ["5", "2"]


@pytest.mark.parametrize("field", ["colour", "-sla", "escalations", "fired", "--title", "---id"])
def test_sorting_by_an_unknown_field_names_the_sortable_ones(
    config: Config, desk: list[Ticket], field: str
) -> None:
    with pytest.raises(BadInput) as caught:
        select(desk, config, {}, field, NOW)
    name = field.removeprefix("-")  # (`--title`: no field; one `-` is descending)
    assert str(caught.value) == f"cannot sort by {name!r}; fields: {', '.join(SORTABLE)}"
    assert str(caught.value).endswith("csat, kb, level, age")


def test_equals_is_the_companion_of_not_equals() -> None:
    """`--priority =high` was "unknown priority '=high'" while `!=high` and `>=high` worked."""
    from esc.domain.query import level_value

    assert level_value("=2") == level_value("2") == 2
    assert level_value("= 3") == 3


def test_a_name_in_another_unicode_form_is_the_one_teams_yaml_spells() -> None:
    """`josé` and `café` given decomposed (e + a combining accent, as macOS writes file
    names and some pastes): refused as unknown, "did you mean 'josé'" (audit b67)."""
    from esc.domain.lifecycle import as_member
    from esc.domain.query import in_its_case

    teams = TEAMS_YAML.replace("members: [alice, bob]", 'members: [alice, bob, "jos\u00e9"]')
    rules = RULES_YAML.replace("categories: [", 'categories: ["caf\u00e9", ', 1)
    config, found = build_config(teams, rules)
    assert config is not None, found
    assert in_its_case(config, "category", "cafe\u0301") == "caf\u00e9"
    assert in_its_case(config, "assignee", "JOSE\u0301") == "jos\u00e9"
    assert as_member(("alice", "jos\u00e9"), "jose\u0301") == "jos\u00e9"
    from esc.domain.lifecycle import actor_name, mentions

    assert actor_name("jose\u0301", "--by") == "jos\u00e9"  # (logged as one person)
    assert mentions(config, "cc @jose\u0301 please") == ("jos\u00e9",)
