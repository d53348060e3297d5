"""The records teams.yaml and rules.yaml hold: teams, routes, policies, rules, settings.

Reading and checking the files is :mod:`esc.config.loading` (with ruamel.yaml, imported
only when a configuration is read from its files rather than from the kept copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING

from esc.domain.errors import escape_surrogates, located
from esc.domain.records import immutable

if TYPE_CHECKING:
    from esc.domain.calendar import Calendar
    from esc.domain.conditions import Condition, Vocabulary
    from esc.domain.customer_mail import CustomerMail
    from esc.domain.model import Ticket
    from esc.domain.notify import Notify
    from esc.domain.rules import Rule
    from esc.domain.sla import Policy

TEAMS_FILE = "teams.yaml"
RULES_FILE = "rules.yaml"
DEFAULT_PRIORITIES = ("low", "normal", "high", "urgent")
TEAMS_FILE_KEYS = frozenset({"intake", "teams"})  # the top of teams.yaml
TEAM_KEYS = {"name", "level", "members", "lead", "escalates_to", "handles", "description", "email"}
RULES_KEYS = {
    "priorities",
    "default_priority",
    "categories",
    "priority_matrix",
    "routing",
    "id_prefix",
    "calendars",
    "sla",
    "rules",
    "max_actions_per_ticket",
    "fields",
    "notify",
    "customer_mail",
}


@immutable
class Finding:
    """One problem in a file, reported as ``path:line: message``."""

    path: str
    line: int
    message: str
    # False: `esc validate` reports it, but the configuration works (rules that can trigger
    # each other endlessly: the cap on actions at one instant stops them as they run)
    blocking: bool = True

    def __post_init__(self) -> None:
        # (a message may quote a value from the file, a lone surrogate too: shown escaped)
        self.message = escape_surrogates(self.message)  # type: ignore[misc]

    def __str__(self) -> str:
        return located(self.path, self.line, self.message)


MAX_LEVEL = 100  # a team's level: 1 (first line) up to this (a hierarchy is never deeper)


@immutable
class Team:
    key: str
    name: str
    level: int
    members: tuple[str, ...] = ()
    lead: str | None = None
    escalates_to: str | None = None
    handles: tuple[str, ...] = ()

    @property
    def people(self) -> tuple[str, ...]:
        """Everyone who may be assigned a ticket of this team: members and lead."""
        return self.members + ((self.lead,) if self.lead and self.lead not in self.members else ())


@immutable
class Route:
    when: Condition
    team: str
    category: str | None = None  # given to a ticket that has none (an e-mail's, say)


@immutable
class Config:
    teams: Mapping[str, Team]
    intake: str
    priorities: tuple[str, ...] = DEFAULT_PRIORITIES
    default_priority: str = "normal"
    categories: tuple[str, ...] | None = None
    priority_matrix: Mapping[str, Mapping[str, str]] | None = None
    routing: tuple[Route, ...] = ()
    id_prefix: str = "T"
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    policies: tuple[Policy, ...] = ()
    automation: tuple[Rule, ...] = ()
    max_actions: int = 10
    fields: tuple[str, ...] = ()  # custom front-matter fields that conditions may read
    notify: Notify | None = None  # where events are sent (None: nowhere)
    customer_mail: CustomerMail | None = None  # mail to customers (None: none is sent)
    # the names of SLA policies and rules that rules.yaml has but that did not load (a
    # finding each): a ticket's `sla:` block or `fired:` naming one is not a finding again
    unloaded: frozenset[str] = frozenset()

    @property
    def vocabulary(self) -> Vocabulary:
        """What a condition on this configuration may name (for filters given later)."""
        return vocabulary(
            self.teams, self.priorities, self.categories, self.priority_matrix, self.fields
        )

    def level(self, team: str) -> int | None:
        found = self.teams.get(team)
        return found.level if found else None

    def rank(self, priority: str) -> int:
        return self.priorities.index(priority) if priority in self.priorities else -1

    def fits(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` names only teams, priorities, categories, impacts and
        urgencies this configuration has (in its escalations and requests too): what
        ``esc validate`` checks of a ticket against the configuration, at a glance.  A
        ticket that does not fit is still counted and shown, and a finding everywhere."""
        teams, priorities = self.teams, self.priorities
        if (ticket.team and ticket.team not in teams) or (
            ticket.priority and ticket.priority not in priorities
        ):
            return False
        categories = self.categories
        if categories is not None and ticket.category not in (None, *categories):
            return False
        if self.priority_matrix and (
            (ticket.impact is not None and ticket.impact not in self.impact_levels)
            or (ticket.urgency is not None and ticket.urgency not in self.urgency_levels)
        ):
            return False
        for e in ticket.escalations:
            names: Mapping[str, object] | tuple[str, ...] = (
                priorities if e.kind == "priority" else teams
            )
            if (e.from_ is not None and e.from_ not in names) or e.to not in names:
                return False
        return all(r.team in teams for r in ticket.requests)

    @property
    def named_categories(self) -> tuple[str, ...]:
        """The categories rules.yaml and teams.yaml spell: its closed list, or without one,
        those the teams handle, the routing rules give and the conditions name."""
        if self.categories is not None:
            return self.categories
        from esc.domain.conditions import field_values

        handled = (c for team in self.teams.values() for c in team.handles)
        given = (route.category for route in self.routing if route.category is not None)
        conditions = (  # (a rule's `category: outage` beside `handles: [Outage]`: both
            # spellings named, neither taken for the other)
            *(route.when for route in self.routing),
            *(policy.when for policy in self.policies),
            *(rule.when for rule in self.automation),
        )
        named = (v for c in conditions for v in field_values(c, "category"))
        return tuple(dict.fromkeys((*handled, *given, *named)))

    @property
    def impact_levels(self) -> tuple[str, ...]:
        return tuple(self.priority_matrix) if self.priority_matrix else ()

    @property
    def urgency_levels(self) -> tuple[str, ...]:
        if not self.priority_matrix:
            return ()
        return tuple(next(iter(self.priority_matrix.values())))


def vocabulary(
    teams: Mapping[str, Team],
    priorities: tuple[str, ...],
    categories: tuple[str, ...] | None,
    priority_matrix: Mapping[str, Mapping[str, str]] | None,
    fields: tuple[str, ...],
) -> Vocabulary:
    """What conditions may name, from the parts of a configuration (rules.yaml's conditions
    are compiled while it is read, before there is a Config)."""
    from esc.domain.conditions import Vocabulary

    return Vocabulary(
        priorities=priorities,
        fields=frozenset(fields),
        categories=categories,
        teams=tuple(teams) or None,  # (none when teams.yaml is broken: that is its finding)
        levels=tuple(sorted({team.level for team in teams.values()})) or None,
        impacts=tuple(priority_matrix) if priority_matrix else None,
        urgencies=tuple(next(iter(priority_matrix.values()))) if priority_matrix else None,
    )
