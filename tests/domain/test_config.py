"""The records of teams.yaml and rules.yaml (esc.domain.config): findings as
``path:line: message``, a team's people, and what a Config answers (levels, ranks, the
priority matrix's axes, the vocabulary conditions are checked against).

Configs are built directly, not read from files (that is tests/config/test_loading.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.conditions import ConditionError, Facts, compile_condition
from esc.domain.config import (
    DEFAULT_PRIORITIES,
    RULES_FILE,
    RULES_KEYS,
    TEAM_KEYS,
    TEAMS_FILE,
    TEAMS_FILE_KEYS,
    Config,
    Finding,
    Team,
    vocabulary,
)
from esc.domain.model import Escalation, Request, Ticket

SUPPORT = Team(
    "support",
    "Customer Support",
    1,
    members=("alice", "bob"),
    lead="carol",
    escalates_to="engineering",
    handles=("billing", "refund"),
)
ENGINEERING = Team("engineering", "Engineering", 2, members=("dan", "erin"), lead="dan")
MANAGEMENT = Team("management", "Management", 3, members=("frank",))
SECOND_LINE = Team("second", "Second line", 2)  # a second team at level 2

MATRIX = {
    "high": {"high": "urgent", "medium": "high", "low": "normal"},
    "medium": {"high": "high", "medium": "normal", "low": "low"},
    "low": {"high": "normal", "medium": "low", "low": "low"},
}


def config(**kwargs: object) -> Config:
    teams = {t.key: t for t in (SUPPORT, ENGINEERING, MANAGEMENT, SECOND_LINE)}
    return Config(teams, "support", **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- Finding


def test_a_finding_reads_path_line_message() -> None:
    finding = Finding("rules.yaml", 12, "unknown priority 'asap'")
    assert str(finding) == "rules.yaml:12: unknown priority 'asap'"


def test_a_finding_at_line_0_is_about_the_whole_file() -> None:
    assert str(Finding("teams.yaml", 0, "is a folder")) == "teams.yaml:1: is a folder"


def test_findings_compare_and_hash_by_their_fields() -> None:
    one = Finding("teams.yaml", 3, "unknown key 'lede'")
    same = Finding("teams.yaml", 3, "unknown key 'lede'")
    other = Finding("teams.yaml", 4, "unknown key 'lede'")
    assert one == same and one != other
    assert len({one, same, other}) == 2  # (findings are collected without duplicates)


# ---------------------------------------------------------------- Team


def test_a_teams_people_are_its_members_then_its_lead() -> None:
    assert SUPPORT.people == ("alice", "bob", "carol")


def test_a_lead_who_is_a_member_is_listed_once() -> None:
    assert ENGINEERING.people == ("dan", "erin")


def test_a_team_without_a_lead_has_its_members() -> None:
    assert MANAGEMENT.people == ("frank",)
    assert SECOND_LINE.people == ()


def test_a_team_with_only_a_lead() -> None:
    assert Team("ops", "Ops", 2, lead="olga").people == ("olga",)


def test_team_defaults() -> None:
    team = Team("desk", "desk", 1)
    assert (team.members, team.lead, team.escalates_to, team.handles) == ((), None, None, ())


# ---------------------------------------------------------------- Config


def test_config_defaults() -> None:
    found = config()
    assert found.priorities == DEFAULT_PRIORITIES == ("low", "normal", "high", "urgent")
    assert found.default_priority == "normal"
    assert found.categories is None  # any category
    assert found.priority_matrix is None
    assert (found.routing, found.policies, found.automation, found.fields) == ((), (), (), ())
    assert found.id_prefix == "T"
    assert found.max_actions == 10
    assert (found.notify, found.customer_mail) == (None, None)
    assert dict(found.calendars) == {}


def test_a_teams_level() -> None:
    found = config()
    assert [found.level(key) for key in ("support", "engineering", "management")] == [1, 2, 3]


def test_an_unknown_team_has_no_level() -> None:
    assert config().level("legal") is None
    assert config().level("") is None


def test_rank_orders_the_priorities_lowest_first() -> None:
    found = config()
    assert [found.rank(p) for p in ("low", "normal", "high", "urgent")] == [0, 1, 2, 3]
    assert found.rank("urgent") > found.rank("low")


def test_rank_follows_the_configured_priorities() -> None:
    found = config(priorities=("p3", "p2", "p1"), default_priority="p3")
    assert [found.rank(p) for p in ("p3", "p2", "p1")] == [0, 1, 2]
    assert found.rank("urgent") == -1  # a default priority that is not configured


def test_an_unknown_priority_ranks_below_every_known_one() -> None:
    found = config()
    assert found.rank("asap") == -1
    assert all(found.rank("asap") < found.rank(p) for p in found.priorities)


def test_the_priority_matrix_axes() -> None:
    found = config(priority_matrix=MATRIX)
    assert found.impact_levels == ("high", "medium", "low")
    assert found.urgency_levels == ("high", "medium", "low")


def test_axes_of_a_matrix_whose_rows_and_columns_differ() -> None:
    found = config(priority_matrix={"major": {"now": "urgent", "later": "high"},
                                    "minor": {"now": "normal", "later": "low"}})  # fmt: skip
    assert found.impact_levels == ("major", "minor")
    assert found.urgency_levels == ("now", "later")


def test_no_matrix_no_axes() -> None:
    assert (config().impact_levels, config().urgency_levels) == ((), ())
    empty = config(priority_matrix={})
    assert (empty.impact_levels, empty.urgency_levels) == ((), ())


# ---------------------------------------------------------------- vocabulary


def test_the_vocabulary_of_a_config() -> None:
    found = config(priority_matrix=MATRIX, categories=("billing", "bug"), fields=("vip",))
    words = found.vocabulary
    assert words.priorities == DEFAULT_PRIORITIES
    assert words.categories == ("billing", "bug")
    assert words.teams == ("support", "engineering", "management", "second")
    assert words.levels == (1, 2, 3)  # each level once, in order
    assert words.impacts == ("high", "medium", "low")
    assert words.urgencies == ("high", "medium", "low")
    assert words.fields == frozenset({"vip"})


def test_the_vocabulary_of_a_config_without_matrix_or_categories() -> None:
    words = config().vocabulary
    assert (words.categories, words.impacts, words.urgencies) == (None, None, None)
    assert words.fields == frozenset()


def test_without_teams_the_vocabulary_leaves_teams_and_levels_unchecked() -> None:
    """teams.yaml is broken: its own finding says so, conditions are not failed as well."""
    words = vocabulary({}, DEFAULT_PRIORITIES, None, None, ())
    assert (words.teams, words.levels) == (None, None)
    assert compile_condition({"team": "anything", "level": 7}, words).matches(
        Facts(fields={"team": "anything", "level": 7})
    )


def test_a_condition_on_the_vocabulary_refuses_an_unknown_team() -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition({"team": "enginering"}, config().vocabulary)
    assert str(caught.value) == (
        "when.team: unknown team 'enginering' (did you mean 'engineering'?);"
        " choose from support, engineering, management, second"
    )


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ({"level": 5}, "when.level: unknown level 5; choose from 1, 2, 3"),
        ({"urgency": "mid"}, "when.urgency: unknown urgency 'mid'; choose from high, medium, low"),
        ({"impact": "huge"}, "when.impact: unknown impact 'huge'; choose from high, medium, low"),
        (
            {"category": "bugs"},
            "when.category: unknown category 'bugs' (did you mean 'bug'?);"
            " choose from billing, bug",
        ),
    ],
)
def test_a_condition_on_the_vocabulary_refuses_unknown_values(
    when: dict[str, object], message: str
) -> None:
    words = config(priority_matrix=MATRIX, categories=("billing", "bug")).vocabulary
    with pytest.raises(ConditionError) as caught:
        compile_condition(when, words)
    assert str(caught.value) == message


def test_a_custom_field_must_be_declared() -> None:
    with pytest.raises(ConditionError, match="unknown condition key 'vip'"):
        compile_condition({"vip": True}, config().vocabulary)
    condition = compile_condition({"vip": True}, config(fields=("vip",)).vocabulary)
    assert condition.matches(Facts(fields={"vip": True}))
    assert not condition.matches(Facts(fields={"vip": False}))


# ---------------------------------------------------------------- the files' keys


def test_the_file_names() -> None:
    assert (TEAMS_FILE, RULES_FILE) == ("teams.yaml", "rules.yaml")


def test_the_starter_files_use_only_known_keys() -> None:
    import yaml  # an independent reader of the starter files

    teams = yaml.safe_load(TEAMS_YAML)
    rules = yaml.safe_load(RULES_YAML)
    assert set(teams) <= TEAMS_FILE_KEYS
    for team in teams["teams"].values():
        assert set(team) <= TEAM_KEYS
    assert set(rules) <= RULES_KEYS


def test_the_starter_files_build_a_config_that_answers() -> None:
    built, findings = build_config(TEAMS_YAML, RULES_YAML)
    assert findings == [] and built is not None
    assert [built.level(t) for t in ("support", "engineering", "management")] == [1, 2, 3]
    assert built.rank(built.default_priority) == 1
    assert built.impact_levels == built.urgency_levels == ("high", "medium", "low")
    assert built.vocabulary.levels == (1, 2, 3)
    assert built.vocabulary.teams == ("support", "engineering", "management")


# ---------------------------------------------------------------- fits


AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)


def _ticket(**fields: object) -> Ticket:
    values: dict[str, object] = {
        "id": "T-4k8q2m7x", "title": "Invoice missing", "status": "new", "priority": "normal",
        "team": "support", "created": AT, "updated": AT, "category": "billing",
    }  # fmt: skip
    values.update(fields)
    return Ticket(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [
        {"team": "suport"},
        {"priority": "urgnet"},
        {"category": "biling"},
        {"impact": "hgh"},
        {"urgency": "hgh"},
        {"escalations": (Escalation(AT, "functional", "support", "enginering", "a", "b"),)},
        {"escalations": (Escalation(AT, "priority", "normal", "urgnet", "a", "b"),)},
        {"requests": (Request(AT, "a", "legal", None, "open"),)},
    ],
    ids=str,
)
def test_a_ticket_naming_what_the_configuration_lacks_does_not_fit(
    fields: dict[str, object],
) -> None:
    """What validate checks of a ticket against the configuration, at a glance (issue 14:
    such a ticket is counted, and a finding, in every command)."""
    settings = config(categories=("billing", "bug"), priority_matrix=MATRIX)
    assert settings.fits(_ticket())
    assert not settings.fits(_ticket(**fields))


def test_a_ticket_fits_a_configuration_without_categories_or_matrix() -> None:
    assert config().fits(_ticket(category="anything", impact="x", urgency="y"))
