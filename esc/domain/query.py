"""`esc list`'s filters and sort order. Pure."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, overload

from esc.domain.choices import folded, unknown_choice
from esc.domain.conditions import ConditionError, compile_condition, split_comparison
from esc.domain.config import Config
from esc.domain.errors import BadInput
from esc.domain.model import FIELD_ORDER, STATUSES, Ticket
from esc.domain.routing import facts_for, ticket_fields

SORTABLE = (
    *(f for f in FIELD_ORDER if f not in ("escalations", "requests", "sla", "fired")),
    "level",
    "age",  # (the table's column: youngest first, as `-created`)
)


_CLOSED_NAMES = ("team", "category", "priority", "impact", "urgency")


@overload
def in_its_case(config: Config, key: str, value: str) -> str: ...
@overload
def in_its_case(config: Config, key: str, value: None) -> None: ...
def in_its_case(config: Config, key: str, value: str | None) -> str | None:
    """A value of a field with a closed set of values (team, category, priority, impact,
    urgency), given to a filter or a command (`--team Support`, `--priority '>=High'`, `--to
    Engineering`, `--impact High`, a form's `"category": "Billing"`), as rules.yaml and
    teams.yaml spell it when only the
    case differs, as `--status` and `--channel` take any case; anything else (None too)
    as given (an unknown value is refused with the choices, as ever).  Without a closed
    list of categories, a category the teams handle or routing gives (`--category DATA`
    for teams.yaml's `handles: [data]`) is spelled as they spell it; a person (`--assignee
    BEN`) as teams.yaml names them."""
    if value is None:
        return None
    names = _spellings(config, key)
    if names is None:
        return value
    operator, word = split_comparison(value)
    if word in names:
        return value
    same = [n for n in names if folded(n) == folded(word)]
    return operator + same[0] if len(same) == 1 else value


def _spellings(config: Config, key: str) -> list[str] | None:
    """The values of ``key`` as the configuration spells them, if it names them."""
    if key == "category" and config.categories is None:  # (an open set: the ones named)
        return [*config.named_categories]
    if key == "assignee":
        return list(dict.fromkeys(p for team in config.teams.values() for p in team.people))
    found = config.vocabulary.choices(key) if key in _CLOSED_NAMES else None
    return None if found is None else [str(c) for c in found[1]]


def level_value(text: str) -> int | str:
    """A --level filter: a whole number, or a comparison such as '>=2'."""
    if re.fullmatch(r"=?\s*[0-9]+", text.strip()):  # (`=2`, the companion of `!=2`, too)
        return int(text.strip().lstrip("=").strip())
    if re.fullmatch(r"(<=|>=|<|>|!=)\s*[0-9]+", text.strip()):
        return text.strip()
    raise BadInput(f"--level takes a number or a comparison like '>=2', not {text!r}")


def involving(tickets: list[Ticket], config: Config, teams: Sequence[str]) -> list[Ticket]:
    """The tickets with a request still open to any of ``teams`` (``esc list --involving``)."""
    for team in teams:
        if team not in config.teams:
            raise BadInput(f"--involving: {unknown_choice('team', team, tuple(config.teams))}")
    return [t for t in tickets if any(r.team in teams for r in t.open_requests())]


def select(
    tickets: list[Ticket],
    config: Config,
    spec: dict[str, object],
    sort: str | None,
    now: dt.datetime,
) -> list[Ticket]:
    """The tickets matching ``spec`` (a condition mapping), in ``sort`` order."""
    try:
        condition = compile_condition(spec, config.vocabulary, path="filter")
    except ConditionError as exc:
        raise BadInput(
            f"--{exc.path.removeprefix('filter.').replace('tags', 'tag')}: {exc.message}"
        ) from None
    chosen = (
        [
            t
            for t in tickets
            if condition.matches(facts_for(ticket_fields(t, config), t.description, now))
        ]
        if spec
        else list(tickets)  # (nothing to match: no ticket's fields are looked at)
    )
    if sort is None:
        return sorted(chosen, key=lambda t: (-config.rank(t.priority), t.created, t.id))
    field = sort.removeprefix("-")  # (one `-`: descending; `--title` is no field)
    sortable = (*SORTABLE, *config.fields)  # (and the fields rules.yaml declares)
    if field not in sortable:
        raise BadInput(f"cannot sort by {field!r}; fields: {', '.join(sortable)}")
    if field == "age":  # (age grows as created goes back)
        field, sort = "created", ("created" if sort.startswith("-") else "-created")

    def key(ticket: Ticket) -> tuple[int, int, Any]:
        """(without the field last; numbers and times before text, as a declared field
        may hold both, `tier: 1` and `tier: gold`: compared, they stopped `list`)"""
        if field == "priority":
            return (0, 0, config.rank(ticket.priority))
        if field == "status":  # (in the order of the lifecycle, as priorities by rank)
            return (0, 0, STATUSES.index(ticket.status))
        value = ticket_fields(ticket, config).get(field)
        if value is None or value == []:
            return (1, 0, "")
        if isinstance(value, dt.datetime):
            return (0, 0, value.timestamp())
        if isinstance(value, dt.date):  # (a day: its start, in UTC, among the times)
            midnight = dt.datetime.combine(value, dt.time(), dt.timezone.utc)
            return (0, 0, midnight.timestamp())
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, 0, value)
        return (0, 1, str(value).lower())

    descending = sort.startswith("-")
    present = [t for t in chosen if key(t)[0] == 0]
    missing = [t for t in chosen if key(t)[0] == 1]
    return sorted(present, key=key, reverse=descending) + missing
