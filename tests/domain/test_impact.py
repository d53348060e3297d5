"""What a change does to tickets, compared base vs head (esc.domain.impact). Pure: configs
from YAML text, tickets built directly, a fixed ``now``."""

from __future__ import annotations

from esc.config.loading import build_config
from esc.config.starter import TEAMS_YAML
from esc.domain.config import Config
from esc.domain.impact import TicketPair, category_routes, compare
from esc.domain.model import Ticket
from tests.helpers import CALENDARS_YAML, berlin

CREATED = berlin(2026, 11, 23, 9)  # Monday, office hours 09-17
NOW = berlin(2026, 11, 23, 12, 30)


def config(first_response: str, routing: str = "", teams: str = TEAMS_YAML) -> Config:
    rules = CALENDARS_YAML + f"""\
categories: [billing, account, how-to, refund, bug, outage, data]
{routing}
sla:
  - name: standard
    calendar: office
    targets: {{first_response: {first_response}, resolution: 24h}}
    warn_at: 75%
"""
    built, findings = build_config(teams, rules)
    assert built is not None and not findings, findings
    return built


def ticket(**fields: object) -> Ticket:
    values: dict[str, object] = {
        "id": "T-4k8q2m7x", "title": "Invoice missing", "status": "new", "priority": "normal",
        "team": "support", "created": CREATED, "updated": CREATED, "category": "billing",
    }  # fmt: skip
    values.update(fields)
    return Ticket(**values)  # type: ignore[arg-type]


def test_a_clock_newly_in_warning_is_a_warning() -> None:
    # 4h: 3h30 used at 12:30 is past 75% (3h): warning; 8h: ok
    impact = compare([TicketPair("T-4k8q2m7x.md", "same", ticket(), ticket())],
                     config("8h"), config("4h"), NOW)  # fmt: skip
    [item] = impact.tickets
    assert impact.causes == ("deadline", "warning")
    assert item.differs == ("sla",)
    assert item.head is not None and item.head.clock("first_response") is not None


def test_the_same_outcome_is_left_out_unless_the_file_changed() -> None:
    same = config("4h")
    pair = TicketPair("T-4k8q2m7x.md", "same", ticket(), ticket())
    assert compare([pair], same, same, NOW).tickets == ()
    edited = TicketPair("T-4k8q2m7x.md", "changed", ticket(), ticket(title="Invoice gone"))
    [item] = compare([edited], same, same, NOW).tickets
    assert (item.title, item.differs, item.causes) == ("Invoice gone", (), ())


def test_a_removed_ticket_and_a_broken_head() -> None:
    gone = TicketPair("T-4k8q2m7x.md", "removed", ticket(), None)
    [item] = compare([gone], config("4h"), config("4h"), NOW).tickets
    assert (item.change, item.head, item.differs) == ("removed", None, ())
    impact = compare([gone], config("4h"), None, NOW, invalid=True)
    assert impact.causes == ("invalid",) and impact.categories == ()


def test_category_routes_follow_routing_rules_then_handles() -> None:
    base = config("4h")
    head = config("4h", routing="routing:\n  - when: {category: refund}\n    team: management\n")
    [moved] = category_routes(base, head, NOW)
    assert (moved.category, moved.base, moved.head) == ("refund", "support", "management")
    assert category_routes(base, base, NOW) == ()
