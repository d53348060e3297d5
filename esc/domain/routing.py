"""Classification and routing: priority from impact x urgency, and the team for a ticket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from esc.domain.choices import unknown_choice
from esc.domain.conditions import Facts
from esc.domain.config import Config
from esc.domain.errors import BadInput
from esc.domain.model import FIELD_ORDER, TICKET_FIELDS, Ticket


def ticket_fields(ticket: Ticket, config: Config) -> dict[str, object]:
    """The ticket's front-matter values plus the computed ``level``, as conditions see them
    (escalations and requests are not fields conditions look at): what
    :func:`esc.domain.model.front_matter` gives, read straight from the ticket."""
    fields: dict[str, object] = dict(ticket.extra)
    for name in _CONDITION_FIELDS:  # (as front_matter has them, in its order)
        fields[name] = getattr(ticket, name)
    fields["tags"] = list(ticket.tags)
    fields["level"] = config.level(ticket.team)
    return fields


def ticket_field(ticket: Ticket, config: Config, name: str) -> object:
    """``ticket_fields(ticket, config).get(name)``, without making the others."""
    if name == "level":
        return config.level(ticket.team)
    if name == "tags":
        return list(ticket.tags)
    if name in _CONDITION_NAMES:
        return getattr(ticket, name)
    return ticket.extra.get(name)


_NOT_CONDITIONS = ("escalations", "requests")  # (not fields conditions look at)
_CONDITION_FIELDS = tuple(n for n in FIELD_ORDER if n in TICKET_FIELDS and n not in _NOT_CONDITIONS)
_CONDITION_NAMES = frozenset(_CONDITION_FIELDS)


def facts_for(
    fields: Mapping[str, object], description: str, now: dt.datetime | None = None
) -> Facts:
    created = fields.get("created")
    updated = fields.get("updated")
    return Facts(
        fields=fields,
        body=description,
        now=now,
        created=created if isinstance(created, dt.datetime) else None,
        updated=updated if isinstance(updated, dt.datetime) else None,
    )


def priority_from_matrix(config: Config, impact: str | None, urgency: str | None) -> str | None:
    """The matrix's priority for impact x urgency; None if either is not given, or if
    rules.yaml has no matrix (the matrix is optional: impact and urgency are recorded, and
    the priority is the default)."""
    if impact is None and urgency is None:
        return None
    if impact is None or urgency is None:
        raise BadInput("give both --impact and --urgency, or neither")
    if not config.priority_matrix:
        return None
    row = config.priority_matrix.get(impact)
    if row is None:
        raise BadInput(unknown_choice("impact", impact, config.impact_levels))
    if urgency not in row:
        raise BadInput(unknown_choice("urgency", urgency, tuple(row)))
    return row[urgency]


def routed_category(config: Config, facts: Facts) -> str | None:
    """The category the first routing rule that matches gives, if it gives one."""
    for rule in config.routing:
        if rule.when.matches(facts):
            return rule.category
    return None


def route(config: Config, facts: Facts) -> tuple[str, str]:
    """The team for a ticket and why: routing rules, then `handles`, then intake."""
    for n, rule in enumerate(config.routing):
        if rule.when.matches(facts):
            return rule.team, f"routing rule {n + 1}"
    category = facts.fields.get("category")
    for team in config.teams.values():
        if category is not None and category in team.handles:
            return team.key, f"{team.key} handles {category}"
    if config.categories is None and isinstance(category, str):  # (an open set: `billing`
        # for `handles: [Billing]`, the case aside, when no team names it as written)
        for team in config.teams.values():
            if any(category.casefold() == c.casefold() for c in team.handles):
                return team.key, f"{team.key} handles {category}"
    return config.intake, "intake"
