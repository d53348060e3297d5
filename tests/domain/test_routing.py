"""Routing and classification: the team for a ticket and why, priority from impact x urgency."""

from __future__ import annotations

import datetime as dt

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config
from esc.domain.errors import BadInput
from esc.domain.routing import (
    facts_for,
    priority_from_matrix,
    route,
    ticket_field,
    ticket_fields,
)
from esc.ticketfile.document import parse

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))

TICKET = """\
---
id: T-4k8q2m7x
title: Checkout returns 500
status: open
priority: high
category: bug
team: engineering
assignee: dan
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:30:00+01:00
tags: [vip, eu]
region: emea
---

Card payments fail since 08:50.
"""


def config(rules: str = RULES_YAML, teams: str = TEAMS_YAML) -> Config:
    built, findings = build_config(teams, rules)
    assert [str(f) for f in findings] == []
    assert built is not None
    return built


@pytest.fixture(scope="module")
def starter() -> Config:
    return config()


def where(cfg: Config, description: str = "", **fields: object) -> tuple[str, str]:
    """The team and reason ``route`` gives for a new ticket with ``fields``."""
    return route(cfg, facts_for({"level": None, **fields}, description, NOW))


# ---------------------------------------------------------------- route


def test_a_routing_rule_wins_over_the_teams_handles(starter: Config) -> None:
    # outage is in engineering's handles too; the rule claims it first
    assert where(starter, category="outage") == ("engineering", "routing rule 1")


def test_a_category_goes_to_the_team_that_handles_it(starter: Config) -> None:
    assert where(starter, category="bug") == ("engineering", "engineering handles bug")
    assert where(starter, category="refund") == ("support", "support handles refund")


@pytest.mark.parametrize("category", [None, "weather"])
def test_without_a_claimed_category_the_ticket_goes_to_intake(
    starter: Config, category: str | None
) -> None:
    assert where(starter, category=category) == ("support", "intake")


def test_the_first_matching_routing_rule_wins_and_is_numbered_from_one() -> None:
    rules = """\
routing:
  - when: {title: invoice}
    team: management
  - when: {priority: ">=high"}
    team: engineering
  - when: {priority: ">=normal"}
    team: management
"""
    cfg = config(rules)
    assert where(cfg, title="Urgent", priority="urgent") == ("engineering", "routing rule 2")
    assert where(cfg, title="Invoice wrong", priority="urgent") == ("management", "routing rule 1")
    assert where(cfg, title="Hello", priority="normal") == ("management", "routing rule 3")
    assert where(cfg, title="Hello", priority="low") == ("support", "intake")


def test_a_routing_rule_can_read_the_description() -> None:
    cfg = config("routing:\n  - when: {body: /gdpr/i}\n    team: management\n")
    assert where(cfg, "Please delete my data (GDPR art. 17)") == ("management", "routing rule 1")
    assert where(cfg, "Please delete my account") == ("support", "intake")


# ---------------------------------------------------------------- priority_from_matrix


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [("high", "high", "urgent"), ("high", "low", "normal"), ("low", "medium", "low")],
)
def test_the_matrix_gives_the_priority(
    starter: Config, impact: str, urgency: str, priority: str
) -> None:
    assert priority_from_matrix(starter, impact, urgency) == priority


def test_no_impact_and_no_urgency_means_no_priority_from_the_matrix(starter: Config) -> None:
    assert priority_from_matrix(starter, None, None) is None


@pytest.mark.parametrize(("impact", "urgency"), [("high", None), (None, "low")])
def test_impact_and_urgency_come_together(
    starter: Config, impact: str | None, urgency: str | None
) -> None:
    with pytest.raises(BadInput, match=r"^give both --impact and --urgency, or neither$"):
        priority_from_matrix(starter, impact, urgency)


def test_unknown_impact_and_urgency_name_the_choices(starter: Config) -> None:
    with pytest.raises(BadInput) as impact:
        priority_from_matrix(starter, "huge", "high")
    assert str(impact.value) == "unknown impact 'huge'; choose from high, medium, low"
    with pytest.raises(BadInput) as urgency:
        priority_from_matrix(starter, "high", "now")
    assert str(urgency.value) == "unknown urgency 'now'; choose from high, medium, low"


def test_impact_without_a_matrix_gives_no_priority() -> None:
    """The matrix is optional: without one, impact and urgency say nothing of the priority
    (it is --priority's, else the default), though both or neither are still needed."""
    cfg = config("priorities: [low, high]\n")
    assert priority_from_matrix(cfg, "high", "high") is None
    with pytest.raises(BadInput, match=r"^give both --impact and --urgency"):
        priority_from_matrix(cfg, "high", None)


# ---------------------------------------------------------------- ticket_fields, facts_for


def test_ticket_fields_are_the_front_matter_plus_the_computed_level(starter: Config) -> None:
    ticket = parse(TICKET, "tickets/T-4k8q2m7x.md").ticket
    fields = ticket_fields(ticket, starter)
    assert fields["level"] == 2
    assert fields["team"] == "engineering"
    assert fields["tags"] == ["vip", "eu"]
    assert fields["region"] == "emea"  # an unknown front-matter key is a field too
    assert fields["created"] == dt.datetime.fromisoformat("2026-11-20T09:00:00+01:00")
    assert fields["customer"] is None


@pytest.mark.parametrize(
    "text",
    [TICKET, TICKET.replace("region: emea", "level: 9"), TICKET.replace("engineering", "legal")],
)
def test_one_field_is_what_all_the_fields_hold(starter: Config, text: str) -> None:
    """ticket_field(name) is ticket_fields()[name] for every field, and None for a name the
    ticket does not have (the replay reads a policy's fields one by one)."""
    ticket = parse(text, "t.md").ticket
    fields = ticket_fields(ticket, starter)
    for name, value in fields.items():
        assert ticket_field(ticket, starter, name) == value, name
    assert ticket_field(ticket, starter, "no-such-field") is None


def test_a_ticket_of_an_unknown_team_has_no_level(starter: Config) -> None:
    ticket = parse(TICKET.replace("team: engineering", "team: legal"), "t.md").ticket
    assert ticket_fields(ticket, starter)["level"] is None


def test_an_extra_key_cannot_shadow_a_real_field(starter: Config) -> None:
    # a hand-written `level:` in the front-matter is not the team's level
    ticket = parse(TICKET.replace("region: emea", "level: 9"), "t.md").ticket
    assert ticket_fields(ticket, starter)["level"] == 2


def test_facts_take_created_and_updated_only_when_they_are_times(starter: Config) -> None:
    ticket = parse(TICKET, "t.md").ticket
    facts = facts_for(ticket_fields(ticket, starter), ticket.description, NOW)
    assert facts.created == ticket.created
    assert facts.updated == dt.datetime.fromisoformat("2026-11-20T09:30:00+01:00")
    assert facts.body == "Card payments fail since 08:50."
    assert facts.now == NOW
    loose = facts_for({"created": "2026-11-20", "updated": None}, "", None)
    assert loose.created is None
    assert loose.updated is None
