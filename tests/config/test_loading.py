"""Reading teams.yaml and rules.yaml: the Config built, and every finding as path:line: message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from esc.config.loading import build_config, parse_teams
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config, Finding
from tests.conftest import Esc, found_text

SMALL_TEAMS = """\
intake: desk
teams:
  desk:
    members: [ann]
    escalates_to: ops
    handles: [billing]
  ops:
    level: 2
    lead: olga
"""


def findings(teams: str = SMALL_TEAMS, rules: str = "") -> list[str]:
    return [str(f) for f in build_config(teams, rules)[1]]


def loads(teams: str = SMALL_TEAMS, rules: str = "") -> Config:
    config, found = build_config(teams, rules)
    assert [str(f) for f in found] == []
    assert config is not None
    return config


# ---------------------------------------------------------------- clean configurations


def test_the_starter_files_load_cleanly() -> None:
    config = loads(TEAMS_YAML, RULES_YAML)
    assert config.intake == "support"
    assert [t.key for t in config.teams.values()] == ["support", "engineering", "management"]
    assert config.teams["support"].people == ("alice", "bob", "carol")
    assert config.teams["management"].escalates_to is None
    assert config.priorities == ("low", "normal", "high", "urgent")
    assert config.default_priority == "normal"
    assert config.categories is not None and "refund" in config.categories
    assert config.priority_matrix is not None
    assert config.priority_matrix["high"]["high"] == "urgent"
    assert config.urgency_levels == ("high", "medium", "low")
    assert [r.team for r in config.routing] == ["engineering"]
    assert sorted(config.calendars) == ["always", "office"]
    assert [p.name for p in config.policies] == ["urgent", "standard"]
    assert config.policies[1].targets["resolution"] == dt.timedelta(hours=24)
    assert config.policies[1].warn_at == 0.75
    assert [r.name for r in config.automation] == ["breached-goes-up", "outage-is-urgent"]
    assert config.max_actions == 10


def test_an_empty_rules_file_gives_the_defaults() -> None:
    config = loads(rules="# nothing here yet\n")
    assert config.priorities == ("low", "normal", "high", "urgent")
    assert config.default_priority == "normal"
    assert config.categories is None
    assert config.priority_matrix is None
    assert (config.routing, config.policies, config.automation) == ((), (), ())
    assert config.id_prefix == "T"
    assert config.teams["desk"].level == 1  # level defaults to the first line
    assert config.teams["desk"].name == "desk"  # and the name to the key


def test_own_priorities_prefix_and_limits() -> None:
    config = loads(rules="priorities: [p3, p2, p1]\nid_prefix: OPS\nmax_actions_per_ticket: 3\n")
    assert config.priorities == ("p3", "p2", "p1")
    assert config.default_priority == "p3"  # no `normal`: the lowest
    assert config.rank("p1") == 2
    assert (config.id_prefix, config.max_actions) == ("OPS", 3)


def test_findings_name_the_paths_they_were_given() -> None:
    broken = SMALL_TEAMS.replace("escalates_to: ops", "escalates_to: board")
    _, found = build_config(broken, "colour: red\n", "cfg/teams.yaml", "cfg/rules.yaml")
    assert found == [
        Finding("cfg/teams.yaml", 5, "team desk: escalates_to unknown team 'board'"),
        Finding("cfg/rules.yaml", 1, "unknown key 'colour'"),
    ]


# ---------------------------------------------------------------- teams.yaml


def test_every_kind_of_team_finding_with_its_line() -> None:
    teams = """\
intake: nobody
teams:
  desk:
    level: 0
    members: [ann, 3]
    lead: [olga]
    escalate_to: ops
    colour: red
    handles: [billing]
  ops:
    level: 2
    members: olga
    handles: [billing, bug]
  board: just a name
"""  # (`colour:`, a key of your own, is welcome)
    assert findings(teams) == [
        "teams.yaml:7: team desk: unknown key 'escalate_to' (did you mean 'escalates_to'?)",
        "teams.yaml:4: team desk: level must be a positive integer",
        "teams.yaml:5: team desk: every member must be a string, not 3",
        "teams.yaml:6: team desk: lead must be a name",
        "teams.yaml:12: team ops: every member must be in a list",
        "teams.yaml:14: team board: must be a mapping",
        "teams.yaml:1: intake: unknown team 'nobody'",
        "teams.yaml:13: category 'billing' is claimed by both desk and ops",
    ]


@pytest.mark.parametrize(
    ("mine", "other"),
    [("billing", "Billing"), ("billing", "BILLING"), ("caf\u00e9", "cafe\u0301")],
)
def test_a_category_two_teams_claim_in_other_cases_or_forms_is_claimed_twice(
    mine: str, other: str
) -> None:
    """`handles: [billing]` beside another team's `[Billing]` (or the same word in the other
    Unicode form): every command takes a category in any case, and `Billing` went to the
    second team, `billing` to the first, while validate said ok (audit helper-421)."""
    teams = f"""\
intake: desk
teams:
  desk:
    members: [ann]
    handles: [{mine}]
  ops:
    members: [olga]
    handles: [bug, {other}]
"""
    assert f"teams.yaml:8: category {other!r} is claimed by both desk and ops" in findings(teams)


def test_a_member_with_a_space_at_either_end_is_a_finding() -> None:
    """`members: [alice, 'bob ']` passed validate; every command trims the name it is given
    and so never found him: `esc: bob is not in team desk (…) (did you mean 'bob '?)`
    (audit helper-436)."""
    teams = SMALL_TEAMS.replace("members: [ann]", "members: [ann, 'bob ']")
    assert any("has a space at either end" in f for f in findings(teams)), findings(teams)


def test_a_value_of_the_wrong_kind_is_named_by_its_kind_not_in_python_notation() -> None:
    teams = """\
intake: {desk: 1}
teams:
  desk:
    members: [ann, {bob: 1}, [carl]]
    escalates_to: {to: ops}
  ops:
    escalates_to: dsek
"""
    rules = """\
default_priority: [normal]
categories: [billing, {bug: 1}]
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
sla:
  - name: p
    calendar: always
    targets: {resolution: 4h}
    pause_on: [{pending: 1}]
"""
    assert findings(teams, rules) == [
        "teams.yaml:4: team desk: every member must be a string, not a mapping",
        "teams.yaml:4: team desk: every member must be a string, not a list",
        "teams.yaml:5: team desk: escalates_to must name a team",
        "teams.yaml:1: intake: unknown team a mapping",
        "teams.yaml:7: team ops: escalates_to unknown team 'dsek' (did you mean 'desk'?)",
        "rules.yaml:1: default_priority a list is not a priority",
        "rules.yaml:2: every category must be a string, not a mapping",
        "rules.yaml:9: sla[0]: policy p: pause_on takes new, open, pending, not a mapping",
    ]
    assert not any("{'" in f or "['" in f for f in findings(teams, rules))


def test_a_misspelt_key_beside_the_one_it_misspells_is_said_too() -> None:
    """`handle: [data]` below `handles: [bug]` (or `intak:` below `intake:`) passed
    validate, and data went to intake: the misspelling is said wherever it is."""
    teams = SMALL_TEAMS.replace("[billing]\n", "[billing]\n    handle: [data]\n")
    teams = "intak: ops\n" + teams
    assert findings(teams) == [
        "teams.yaml:1: unknown key 'intak' (did you mean 'intake'?)",
        "teams.yaml:8: team desk: unknown key 'handle' (did you mean 'handles'?)",
    ]
    # (said, not blocking: beside the key it looks like, it may be a key of one's own)
    config, found = build_config(teams, "")
    assert config is not None and [f.blocking for f in found] == [False, False]


def test_a_cycle_is_reported_at_the_teams_in_it_and_a_category_listed_twice_as_such() -> None:
    teams = """\
intake: desk
teams:
  desk:
    escalates_to: ops
    handles: [billing, bug, billing]
  ops:
    escalates_to: board
  board:
    escalates_to: board
"""
    assert findings(teams) == [
        "teams.yaml:5: team desk: handles lists 'billing' twice",
        "teams.yaml:9: escalation cycle: board → board",
    ]


def test_a_usable_config_is_still_built_despite_team_findings() -> None:
    config, found = build_config(SMALL_TEAMS.replace("level: 2", "level: two"), "")
    assert [str(f) for f in found] == ["teams.yaml:8: team ops: level must be a positive integer"]
    assert config is not None
    assert config.teams["ops"].level == 1


def test_a_name_starting_with_a_dash_is_one_no_command_line_could_give() -> None:
    """`members: [dan, "-x"]` passed validate, but `esc assign T -x` is an option and every
    command refuses such a name: -x could never be assigned."""
    teams = SMALL_TEAMS.replace("[ann]", '[ann, "-x"]')
    assert findings(teams) == [
        "teams.yaml:4: team desk: every member must be a name; '-x' starts with '-', which a "
        "command line reads as an option"
    ]


def test_a_member_listed_twice_is_said_as_a_category_handled_twice_is() -> None:
    assert findings(SMALL_TEAMS.replace("[ann]", "[ann, ann]")) == [
        "teams.yaml:4: team desk: members lists 'ann' twice"
    ]
    config, found = build_config(SMALL_TEAMS.replace("[ann]", "[ann, ann]"), "")
    assert config is not None and config.teams["desk"].members == ("ann",)
    assert [f.blocking for f in found] == [False]  # (taken once: every command runs)


def test_names_that_differ_only_in_case_are_a_finding() -> None:
    """`Support` beside `support`, or `Ann` beside `ann`: every command takes a name in any
    case, so `escalate --to SUPPORT` said "unknown team" and `assign T ANN` named neither.
    Two teams so named are a problem; two people, said but not blocking (both are
    assigned as written)."""
    teams = SMALL_TEAMS.replace("lead: olga", "lead: Ann") + "  Desk:\n    members: [zed]\n"
    _, found = build_config(teams, "")
    assert [(str(f), f.blocking) for f in found] == [
        ("teams.yaml:10: team 'Desk' and team 'desk' differ only in case; name them apart", True),
        ("teams.yaml:9: team ops: 'Ann' and 'ann' differ only in case; name them apart", False),
    ]
    assert findings(SMALL_TEAMS) == []


def test_priorities_or_categories_that_differ_only_in_case_are_a_problem() -> None:
    """`priorities: [low, High, high]` passed validate, then `--priority HIGH` was refused
    (did you mean 'High'), and `high` could never be given by a person (audit b67)."""
    rules = "priorities: [low, normal, High, high, urgent]\ncategories: [Billing, billing]\n"
    _, found = build_config(SMALL_TEAMS, rules)
    assert [(str(f), f.blocking) for f in found] == [
        ("rules.yaml:1: priority 'high' and priority 'High' differ only in case;"
         " name them apart", True),
        ("rules.yaml:2: category 'billing' and category 'Billing' differ only in case;"
         " name them apart", True),
    ]


def test_none_names_no_person_and_no_category() -> None:
    """`esc assign T none` and `--assignee none` mean no one, `--category none` no category:
    a member, lead or category so named (in any case) could never be chosen."""
    teams = SMALL_TEAMS.replace("[ann]", "[ann, None]").replace("[billing]", "[none]")
    teams = teams.replace("lead: olga", "lead: NONE")
    assert findings(teams, "categories: [billing, nOne]\n") == [
        "teams.yaml:4: team desk: member 'None' is what `esc assign T none` and "
        "`--assignee none` read as no one: choose another name",
        "teams.yaml:6: team desk: category 'none' is what `--category none` reads as no "
        "category: choose another name",
        "teams.yaml:9: team ops: lead 'NONE' is what `esc assign T none` and "
        "`--assignee none` read as no one: choose another name",
        "rules.yaml:1: category 'nOne' is what `--category none` reads as no category: "
        "choose another name",
    ]
    assert loads().teams["desk"].level == 1  # (a team without `level:` is first line)


def test_an_escalation_cycle_is_reported_on_each_team_in_it() -> None:
    teams = SMALL_TEAMS.replace("    lead: olga\n", "    lead: olga\n    escalates_to: desk\n")
    assert findings(teams) == [  # (desk's level left out: 1, and ops's step down to it)
        "teams.yaml:10: team ops (level 2): escalates_to desk, a lower level (1); the chain"
        " goes up: a team escalates to one of its own level or higher",
        "teams.yaml:5: escalation cycle: desk → ops → desk",
        "teams.yaml:10: escalation cycle: ops → desk → ops",
    ]


def test_a_chain_that_steps_down_a_level_is_refused() -> None:
    """`escalates_to` is the next step up: engineering at level 5 escalating to management
    at 3 validated, and `escalate --up` lowered a ticket's level (audit helper-461)."""
    teams = SMALL_TEAMS.replace("level: 2", "level: 5").replace(
        "    lead: olga\n", "    lead: olga\n    escalates_to: board\n  board:\n    level: 3\n"
    )
    assert findings(teams) == [
        "teams.yaml:10: team ops (level 5): escalates_to board, a lower level (3); the chain"
        " goes up: a team escalates to one of its own level or higher"
    ]
    same = SMALL_TEAMS.replace("level: 2", "level: 1")  # (one's own level: a step aside)
    assert findings(same) == []
    # (a level left out is 1, as the README says: a step down to it is said; a misspelt
    # one, `levle:`, is said once, as the key it is; review helper-464)
    left_out = teams.replace("  board:\n    level: 3\n", "  board:\n    members: [bo]\n")
    assert findings(left_out) == [
        "teams.yaml:10: team ops (level 5): escalates_to board, a lower level (1); the chain"
        " goes up: a team escalates to one of its own level or higher"
    ]
    misspelt = [f for f in findings(teams.replace("    level: 3\n", "    levle: 3\n"))
                if "lower level" in f]  # fmt: skip
    assert misspelt == []


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("- desk\n", "teams.yaml:1: teams.yaml must be a mapping with `intake` and `teams`"),
        ("intake: desk\nteams: [desk]\n", "teams.yaml:2: `teams` must be a mapping of team names"),
        ("intake: desk\n", "teams.yaml:1: `teams` must be a mapping of team names"),
        ("intake: desk\nteams:\n  desk: {level: 1\n", "teams.yaml:3: does not parse: a flow"),
        (
            "intake: a\nintake: b\nteams: {a: {}}\n",
            'teams.yaml:2: does not parse: duplicate key "intake"',
        ),
    ],
)
def test_a_teams_file_that_cannot_be_used_gives_no_config(text: str, finding: str) -> None:
    config, found = build_config(text, "")
    assert config is None
    assert len(found) == 1
    assert str(found[0]).startswith(finding)


def test_parse_teams_picks_the_first_team_when_intake_is_unknown() -> None:
    teams, intake, found = parse_teams(SMALL_TEAMS.replace("intake: desk", "intake: 7"))
    assert intake == "desk"
    assert list(teams) == ["desk", "ops"]
    assert [str(f) for f in found] == ["teams.yaml:1: intake: unknown team 7"]


# ---------------------------------------------------------------- rules.yaml: settings


def test_every_kind_of_settings_finding_with_its_line() -> None:
    rules = """\
priorities: [low, high, low]
default_priority: medium
colour: blue
id_prefix: T-1
max_actions_per_ticket: 0
categories: [bug]
"""
    assert findings(rules=rules) == [
        "rules.yaml:3: unknown key 'colour'",
        "rules.yaml:1: priorities must be a list of distinct names",
        "rules.yaml:2: default_priority 'medium' is not a priority",
        "rules.yaml:4: id_prefix must be letters or digits, like T or OPS",
        "rules.yaml:5: max_actions_per_ticket must be >= 1",
        # (where the team says it: teams.yaml's line, not rules.yaml's)
        "teams.yaml:6: team desk handles 'billing', which is not in rules.yaml's categories",
    ]


def test_priority_matrix_findings() -> None:
    rules = """\
priority_matrix:
  high: {high: urgent, low: extreme}
  low: {high: normal}
  mid: 3
"""
    assert findings(rules=rules) == [
        "rules.yaml:2: priority_matrix.high.low: 'extreme' is not a priority",
        "rules.yaml:3: priority_matrix.low must map the urgencies the other rows map"
        " (high, low): it lacks low",
        "rules.yaml:4: priority_matrix.mid must map urgency to priority",
    ]


def test_an_ordered_map_with_a_key_twice_is_a_finding_at_its_line() -> None:
    """ruamel.yaml's own `assert key not in omap` ended every command in exit 3."""
    rules = "x: 1\ny: !!omap\n  - a: 1\n  - b: 2\n  - a: 3\n"
    assert findings(rules=rules) == [
        'rules.yaml:5: does not parse: an ordered map (!!omap) gives key "a" twice (each key'
        " is given once)"
    ]


def test_a_misspelt_impact_is_said_not_taken_for_a_new_one() -> None:
    """`hgh:` defined an impact of its own: a ticket's `impact: high` was then refused."""
    rules = """\
priority_matrix:
  hgh:    {high: urgent, medium: high,   low: normal}
  medium: {high: high,   medium: normal, low: low}
  low:    {high: normal, medium: low,    low: low}
"""
    assert findings(rules=rules) == [
        "rules.yaml:2: priority_matrix.hgh: impact 'hgh' is named like no urgency (did you"
        " mean 'high'?); the others are named as the urgencies are (high, medium, low)"
    ]
    scales = """\
priority_matrix:
  outage:   {now: urgent, today: high}
  degraded: {now: high,   today: normal}
"""
    assert findings(rules=scales) == []
    apart = """\
priority_matrix:
  low:  {lo: low,    hi: normal}
  high: {lo: normal, hi: urgent}
"""
    assert findings(rules=apart) == []
    shifted = """\
priority_matrix:
  sev2: {sev1: urgent, sev2: high,   sev3: normal}
  sev3: {sev1: high,   sev2: normal, sev3: low}
  sev4: {sev1: normal, sev2: low,    sev3: low}
"""
    assert findings(rules=shifted) == []


def test_the_row_of_the_priority_matrix_that_lacks_an_urgency_is_the_one_named() -> None:
    """The first row was the one every other was compared with: the first row short of
    `low` named the two rows after it, never itself."""
    rules = """\
priority_matrix:
  high:   {high: urgent, medium: high}
  medium: {high: high,   medium: normal, low: low}
  low:    {high: normal, medium: low,    low: low}
"""
    assert findings(rules=rules) == [
        "rules.yaml:2: priority_matrix.high must map the urgencies the other rows map"
        " (high, medium, low): it lacks low"
    ]
    typo = rules.replace("medium: high}", "medium: high, lwo: normal}")
    assert findings(rules=typo) == [
        "rules.yaml:2: priority_matrix.high must map the urgencies the other rows map"
        " (high, medium, low): it lacks low; it has lwo, which the others lack"
    ]


def test_a_misspelt_routing_key_gets_did_you_mean_not_a_missing_team() -> None:
    """`teem:` for `team:` is said as a misspelt key, as the README promises (issue 14),
    not as a route without a team."""
    rules = """\
routing:
  - when: {category: billing}
    teem: ops
"""
    assert findings(rules=rules) == [
        "rules.yaml:3: routing[0]: unknown key 'teem' (did you mean 'team'?)"
        "; choose from when, team, category",
    ]


def test_a_misspelt_intake_team_gets_did_you_mean() -> None:
    assert findings(SMALL_TEAMS.replace("intake: desk", "intake: dsek")) == [
        "teams.yaml:1: intake: unknown team 'dsek' (did you mean 'desk'?)",
    ]


def test_routing_findings() -> None:
    rules = """\
routing:
  - when: {category: bug}
    team: legal
  - team: ops
    when: {priority: ">=huge"}
  - when: {category: bug}
  - team: ops
"""
    assert findings(rules=rules) == [
        "rules.yaml:3: routing[0]: unknown team 'legal'; choose from desk, ops",
        "rules.yaml:5: routing[1].when.priority: unknown priority 'huge'"
        "; choose from low, normal, high, urgent",
        "rules.yaml:6: routing[2] must be a mapping with `when` and `team`",
    ]
    config, _ = build_config(SMALL_TEAMS, rules)
    assert config is not None
    assert [r.team for r in config.routing] == ["ops"]  # the good rule is kept


@pytest.mark.parametrize(
    ("rules", "finding"),
    [
        ("[1]\n", "rules.yaml:1: rules.yaml must be a mapping"),
        ("priorities: [a, b]\nfoo: [\n", "rules.yaml:3: does not parse: expected the node content"),
    ],
)
def test_a_rules_file_that_cannot_be_used_gives_no_config(rules: str, finding: str) -> None:
    config, found = build_config(SMALL_TEAMS, rules)
    assert config is None
    assert [str(f)[: len(finding)] for f in found] == [finding]


@pytest.mark.parametrize(
    ("rules", "finding"),
    [
        ("calendars: [a]\n", "rules.yaml:1: calendars must map names to calendars"),
        ("sla: {a: 1}\n", "rules.yaml:1: sla must be a list of policies"),
        ("rules: {a: 1}\n", "rules.yaml:1: rules must be a list of rules"),
        ("routing: {a: 1}\n", "rules.yaml:1: routing must be a list of {when, team}"),
        ("priority_matrix: []\n", "rules.yaml:1: priority_matrix must map impact to urgency"),
    ],
)
def test_sections_of_the_wrong_shape(rules: str, finding: str) -> None:
    assert findings(rules=rules) == [finding]


# ---------------------------------------------------------------- calendars, policies, rules


@pytest.mark.parametrize(
    ("zone", "meant"),
    [
        ("Europe/Berln", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("New York", "America/New_York"),
        ("Amerca/Chicago", "America/Chicago"),
    ],
)
def test_a_misspelt_time_zone_or_a_city_alone_gets_a_did_you_mean(zone: str, meant: str) -> None:
    rules = f'calendars:\n  office: {{timezone: "{zone}", hours: {{mon-fri: "09:00-17:00"}}}}\n'
    assert findings(rules=rules) == [
        f'rules.yaml:2: calendars.office.timezone: unknown time zone "{zone}"'
        f" (did you mean '{meant}'?)"
    ]


def test_an_offset_or_a_zone_no_machine_reads_alike_gets_no_did_you_mean() -> None:
    """`GMT+2` was offered 'Etc/GMT+2' (two hours *behind* UTC, as POSIX signs it),
    `Factori` 'Factory' (a zone esc refuses); a city of two zones names both (review
    helper-398)."""
    for zone in ("GMT+2", "UTC-5", "Factori"):
        rules = f'calendars:\n  office: {{timezone: "{zone}", hours: {{mon-fri: "09:00-17:00"}}}}\n'
        assert findings(rules=rules) == [
            f'rules.yaml:2: calendars.office.timezone: unknown time zone "{zone}"'
        ]
    rules = 'calendars:\n  office: {timezone: "Pacific", hours: {mon-fri: "09:00-17:00"}}\n'
    assert findings(rules=rules) == [
        'rules.yaml:2: calendars.office.timezone: unknown time zone "Pacific" (did you mean'
        " 'Canada/Pacific' or 'US/Pacific'?)"
    ]


def test_calendar_findings_point_at_the_key_at_fault() -> None:
    rules = """\
calendars:
  office:
    timezone: Mars/Olympus
    hours: {mon-fri: "09:00-17:00"}
  late:
    timezone: UTC
    hours:
      mon-fri: "09:00-17:00"
      fri: "18:00-20:00"
  night:
    timezone: UTC
    hours:
      mon: "17:00-09:00"
  eve:
    timezone: UTC
    hours: {mon: "09:00-10:00"}
    holidays: ["2026-12-24 25:00-26:00"]
  nohours:
    timezone: UTC
  idle: {timezone: UTC, hours: {}}
  extra: {timezone: UTC, hours: {mon: "09:00-10:00"}, colour: red}
"""
    assert findings(rules=rules) == [
        'rules.yaml:3: calendars.office.timezone: unknown time zone "Mars/Olympus"',
        'rules.yaml:9: calendars.late.hours.fri: fri is already given by "mon-fri"',
        'rules.yaml:13: calendars.night.hours.mon: "17:00-09:00" ends before it starts'
        " (one past midnight: split it over two days)",
        'rules.yaml:17: calendars.eve.holidays[0]: "25:00-26:00" is not a time range (HH:MM-HH:MM)',
        'rules.yaml:18: calendars.nohours: missing key "hours"',
        "rules.yaml:20: calendars.idle: calendar idle has no working hours",
        'rules.yaml:21: calendars.extra: unknown key "colour" (expected timezone, hours, holidays)',
    ]


def test_a_broken_calendar_is_named_once_and_an_empty_range_is_called_empty() -> None:
    """A policy on a calendar that is written but broken said "unknown calendar 'office'
    (none defined)" too, a false second line; "09:00-09:00" was said to end before it
    starts."""
    rules = """\
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon-fri: "09:00-09:00"}
sla:
  - name: standard
    calendar: office
    targets: {resolution: 4h}
"""
    assert findings(rules=rules) == [
        'rules.yaml:4: calendars.office.hours.mon-fri: "09:00-09:00" is empty'
        " (it ends as it starts)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("    timezone:", "    timezon:", 3),
        ("    hours:\n", "    hour:\n", 4),
        ("    holidays:", "    holiday:", 6),
        ("- 2026-12-24 12:00-17:00", "- 2026-12-24 12:00-1700", 7),
        ('mon-fri: "09:00-17:00"', 'mon-fri: "09:00-1700"', 5),
    ],
)
def test_a_calendar_s_mistake_is_said_at_its_line(old: str, new: str, line: int) -> None:
    """Guessed from the key names anywhere in the message, a misspelt `timezon:` was said at
    the `holidays:` line its hint named, `hour:` at the calendar's (audit helper-452)."""
    rules = """\
calendars:
  office:
    timezone: Europe/Berlin
    hours:
      mon-fri: "09:00-17:00"
    holidays:
      - 2026-12-24 12:00-17:00
"""
    assert old in rules
    [found] = findings(rules=rules.replace(old, new, 1))
    assert found.startswith(f"rules.yaml:{line}: calendars.office"), found


def test_an_impossible_holiday_date_is_a_finding() -> None:
    """It raised ValueError out of build_config: every command exited 3 ("internal error")."""
    rules = """\
calendars:
  office:
    timezone: UTC
    hours: {mon-fri: "09:00-17:00"}
    holidays: [2026-02-30]
"""
    _, found = build_config(SMALL_TEAMS, rules)
    assert [(f.path, f.line) for f in found] == [("rules.yaml", 5)]
    assert "2026-02-30 is not a valid timestamp" in found[0].message


@pytest.mark.parametrize(
    ("teams", "rules", "where", "said"),
    [
        (SMALL_TEAMS + "x: !!bool maybe\n", "", ("teams.yaml", None), "maybe is not a valid bool"),
        (SMALL_TEAMS, 'default_priority: !!int ""\n', ("rules.yaml", 1), '"" is not a valid int'),
    ],
)
def test_a_tag_whose_value_it_cannot_be_is_a_finding(
    teams: str, rules: str, where: tuple[str, int | None], said: str
) -> None:
    """`!!bool maybe`, `!!int ""`: a KeyError or IndexError out of ruamel.yaml was an
    internal error of every command."""
    _, found = build_config(teams, rules)
    (finding,) = found
    assert finding.path == where[0] and said in finding.message
    if where[1] is not None:
        assert finding.line == where[1]


@pytest.mark.parametrize(
    ("key", "said"),
    [("~", "an empty value"), ("[a]", "a list"), ("!!binary aGVsbG8=", "binary data"),
     ("true", "true")],
)  # fmt: skip
def test_a_team_whose_name_is_no_text_is_a_finding(key: str, said: str) -> None:
    """`~:` under `teams:` passed validate, and `esc create` wrote `team: None`, which the
    next sweep refused as an unknown team."""
    (finding,) = findings(teams=SMALL_TEAMS + f"  {key}:\n    handles: [data]\n")
    assert finding == f"teams.yaml:10: a team's name must be text, not {said}"
    assert findings(teams=SMALL_TEAMS + "  7:\n    level: 2\n") == []  # (a number is a name)


@pytest.mark.parametrize(
    ("name", "why"),
    [('"a · b"', "it has ' · ', which separates the parts of a log line"),
     ('"a\\nb"', "it has a line break"), ('"x\\e[31m"', "it has the control character U+001B"),
     ('"a\\Lb"', "it has the control character U+2028")],
)  # fmt: skip
def test_a_rule_name_that_cannot_be_written_in_a_log_line_is_a_finding(
    name: str, why: str
) -> None:
    """A rule's name is written in ticket files as `rule:NAME`: raw control characters or
    a line break in it passed validate."""
    rules = f"rules:\n  - name: {name}\n    when: {{status: open}}\n    then: {{tag: x}}\n"
    (finding,) = findings(rules=rules)
    assert finding.startswith("rules.yaml:2: ") and finding.endswith(f"is no name: {why}")


def test_policy_findings_point_at_the_key_at_fault() -> None:
    rules = """\
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
sla:
  - name: a
    calendar: office
    targets: {resolution: 4h}
  - name: b
    calendar: always
    targets: {resolution: 2d}
  - name: c
    calendar: always
    targets: {reply: 4h}
  - name: d
    calendar: always
    targets: {resolution: 4h}
    warn_at: 150%
  - name: e
    calendar: always
    targets: {resolution: 4h}
    pause_on: [closed]
  - calendar: always
    targets: {resolution: 4h}
  - name: h
    calendar: always
    targets: {resolution: 4h}
    colour: red
  - just a string
"""
    assert findings(rules=rules) == [
        "rules.yaml:5: sla[0]: policy a: unknown calendar 'office' (always)",
        "rules.yaml:9: sla[1]: policy b: resolution: '2d': working time takes h and m only"
        " (e.g. 24h, 1h30m)",
        "rules.yaml:12: sla[2]: policy c: unknown metric 'reply';"
        " choose from first_response, next_response, resolution, collaboration",
        "rules.yaml:16: sla[3]: policy d: warn_at must be a share above 0% and below 100%,"
        " like 75% (not 150%)",
        "rules.yaml:20: sla[4]: policy e: pause_on takes new, open, pending, not 'closed'",
        "rules.yaml:21: sla[5]: a policy needs a name",
        "rules.yaml:26: sla[6]: unknown key 'colour'",
        "rules.yaml:27: sla[7] must be a mapping",
    ]


def test_a_bad_policy_condition_names_its_path_and_line() -> None:
    rules = """\
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
sla:
  - name: g
    calendar: always
    targets: {resolution: 4h}
    when: {priority: ">=huge"}
"""
    (found,) = findings(rules=rules)
    assert found.startswith("rules.yaml:7: sla[0]")
    assert found.endswith(
        "sla[0].when.priority: unknown priority 'huge'; choose from low, normal, high, urgent"
    )


def test_automation_rule_findings_point_at_the_key_at_fault() -> None:
    rules = """\
rules:
  - name: b
    then: {escalate: {to: legal}}
  - name: c
    then: {dance: yes}
  - name: b
    then: {tag: y}
  - name: e
    then: {priority: raise}
    repeat: 1d
  - name: f
    when: {sla: breached}
  - 7
  - name: g
    when: {sla: late}
    then: {tag: x}
"""
    found = findings(rules=rules)
    assert found[:5] == [
        "rules.yaml:3: rules[0]: rule b: escalate: unknown team 'legal'; choose from desk, ops",
        "rules.yaml:5: rules[1]: rule c: unknown action 'dance';"
        " one of escalate, priority, assign, tag, note, status, notify, involve",
        "rules.yaml:10: rules[3]: rule e: repeat: '1d': working time takes h and m only"
        " (e.g. 24h, 1h30m)",
        "rules.yaml:11: rules[4]: rule f: `then` must map actions to values",
        "rules.yaml:13: rules[5] must be a mapping",
    ]
    # (the rule's name, b, is not taken by the first rule: it did not load)
    assert len(found) == 6
    assert found[5].startswith("rules.yaml:15: rules[6]")
    assert found[5].endswith(
        "when.sla: unknown SLA state 'late'; choose from ok, warning, breached, met, paused"
    )


def test_two_rules_with_one_name() -> None:
    rules = "rules:\n  - name: a\n    then: {tag: x}\n  - name: a\n    then: {tag: y}\n"
    assert findings(rules=rules) == ["rules.yaml:4: rules[1]: two rules are named 'a'"]


def test_two_policies_with_one_name() -> None:
    """As two rules of one name are: the `sla:` block, the log and the reports name a
    policy, and a change between two of one name was never logged (audit helper-452)."""
    rules = (
        'calendars:\n  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}\n'
        "sla:\n  - name: urgent\n    when: {priority: urgent}\n    calendar: always\n"
        "    targets: {resolution: 4h}\n  - name: urgent\n    calendar: always\n"
        "    targets: {resolution: 24h}\n"
    )
    assert findings(rules=rules) == ["rules.yaml:8: sla[1]: two policies are named 'urgent'"]


def test_rules_that_trigger_each_other_endlessly_are_reported_on_the_first() -> None:
    rules = """\
rules:
  - name: calm
    then: {note: fine}
  - name: lower
    when: {priority: high}
    then: {priority: low}
  - name: raise
    when: {priority: low}
    then: {priority: high}
"""
    assert findings(rules=rules) == [
        "rules.yaml:4: rules lower, raise can trigger each other endlessly"
        " (they set priority to different values and each re-enables the other)"
    ]


def test_a_broken_teams_file_is_the_only_finding() -> None:
    found = findings("intake: [\n", RULES_YAML)
    assert [f.split(":")[0] for f in found] == ["teams.yaml"]


# ---------------------------------------------------------------- conditions: keys and values


def test_custom_fields_are_declared_under_fields() -> None:
    rules = """\
fields: [vip, region]
routing:
  - when: {vip: true, region: [eu, us]}
    team: ops
"""
    config = loads(rules=rules)
    assert config.fields == ("vip", "region")
    assert config.routing[0].when.fields() == {"vip", "region"}


def test_fields_findings() -> None:
    rules = """\
fields:
  - vip
  - priority
  - vip
  - sla.resolution
  - 3
"""
    assert findings(rules=rules) == [
        "rules.yaml:6: every field in fields must be a string, not 3",
        "rules.yaml:3: fields: 'priority' is one of esc's own fields; list custom ones only",
        "rules.yaml:4: fields: 'vip' is listed twice",
        "rules.yaml:5: fields: 'sla.resolution' is one of esc's own fields; list custom ones only",
    ]
    assert findings(rules="fields: vip\n") == [
        "rules.yaml:1: every field in fields must be in a list"
    ]


def test_a_declared_field_that_is_esc_s_own_with_two_letters_swapped_is_said() -> None:
    """`fields: [vip, prioirty]` passed `esc validate`: a condition on the misspelling then
    matches nothing.  Said, and only by validate (a field of that name still works)."""
    rules = "fields: [vip, prioirty, teams, region]\n"
    assert findings(rules=rules) == [
        "rules.yaml:1: fields: 'prioirty' is esc's own 'priority' misspelt? (a custom "
        "field needs a name of its own)"
    ]
    config, found = build_config(SMALL_TEAMS, rules)
    assert config is not None and config.fields == ("vip", "prioirty", "teams", "region")
    assert [f.blocking for f in found] == [False]  # (every command still runs)
    # (a letter left out, added or changed in a name of five letters or more: `priorty`)
    typos = findings(rules="fields: [priorty, assignees, channels, assigned]\n")
    assert [f.split("fields: ")[1].split(" misspelt?")[0] for f in typos] == [
        "'priorty' is esc's own 'priority'",
    ]  # (a plural, or a letter changed, may well be a field of one's own)


def test_a_rule_on_a_person_teams_yaml_does_not_name_is_said_not_blocking() -> None:
    """`when: {assignee: olag}` passed validate (and never matched), where `assign: olag` is
    refused with a hint.  Said by validate; not blocking: a person who left the teams may
    still hold tickets a rule names them for."""
    rules = """\
rules:
  - name: ann-s
    when: {any: [{assignee: olag}, {not: {assignee: "!=ann"}}]}
    then: {tag: x}
"""
    assert findings(rules=rules) == [  # (at the `when:` line, named as every condition's)
        "rules.yaml:3: rules[0].when.assignee: unknown person 'olag' (did you mean 'olga'?);"
        " choose from ann, olga (rule ann-s)"
    ]
    config, found = build_config(SMALL_TEAMS, rules)
    assert config is not None and [f.blocking for f in found] == [False]


def test_a_rule_only_on_settled_tickets_never_fires_and_is_said_not_blocking() -> None:
    """`when: {status: resolved}` passed validate, where `level: ">=5"` is refused: rules
    act on new, open and pending tickets alone, so it never fires.  Said, not blocking (it
    does nothing, as written); one that holds for an active status is fine."""
    rules = """\
rules:
  - name: dead
    when: {status: resolved}
    then: {tag: x}
  - name: dead-too
    when: {status: [closed, resolved], tags: vip}
    then: {tag: x}
  - name: alive
    when: {status: "!=closed"}
    then: {tag: x}
  - name: nested
    when: {any: [{status: closed}, {tags: vip}]}
    then: {tag: y}
  - name: negated
    when: {not: {status: [new, open, pending]}}
    then: {tag: y}
  - name: either
    when: {all: [{any: [{status: resolved}, {status: closed}]}, {tags: vip}]}
    then: {tag: y}
"""
    said = (
        "never fires: its status holds only for resolved or closed tickets, and rules act on"
        " new, open and pending ones"
    )
    assert findings(rules=rules) == [
        f"rules.yaml:3: rules[0].when.status: rule dead {said}",
        f"rules.yaml:6: rules[1].when.status: rule dead-too {said}",
        f"rules.yaml:15: rules[4].when.status: rule negated {said}",
        f"rules.yaml:18: rules[5].when.status: rule either {said}",
    ]
    config, found = build_config(SMALL_TEAMS, rules)
    assert config is not None and [f.blocking for f in found] == [False] * 4


def test_a_condition_finding_is_on_the_line_of_the_key_or_value_at_fault() -> None:
    rules = """\
fields: [vip]
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
routing:
  - team: ops
    when:
      any:
        - vip: true
        - categroy: outage
sla:
  - name: urgent
    calendar: always
    targets: {resolution: 4h}
    when:
      priority:
        - high
        - urgnet
rules:
  - name: a
    then: {tag: x}
    when:
      not:
        team: opps
"""
    assert findings(rules=rules) == [
        "rules.yaml:9: routing[0].when.any[1].categroy: unknown condition key 'categroy'"
        " (did you mean 'category'?); a custom front-matter field must be declared in"
        " rules.yaml's `fields:`",
        "rules.yaml:17: sla[0]: sla[0].when.priority[1]: unknown priority 'urgnet'"
        " (did you mean 'urgent'?); choose from low, normal, high, urgent",
        "rules.yaml:23: rules[0].when.not.team: unknown team 'opps'"
        " (did you mean 'ops'?); choose from desk, ops",
    ]


def test_a_target_or_action_finding_is_on_its_own_line_below_the_block() -> None:
    rules = """\
calendars:
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
sla:
  - name: urgent
    calendar: always
    targets:
      first_response: 30m
      resolution: 4x
  - name: rest
    calendar: always
    targets:
      first_respnse: 1h
rules:
  - name: a
    when: {priority: high}
    then:
      tag: x
      priority: asap
  - name: b
    when: {priority: low}
    then:
      note: moved
      escalate:
        to: opps
  - name: c
    when: {priority: normal}
    then:
      note: x
      explode: now
"""
    found = findings(rules=rules)
    assert [f.split(": ")[0] for f in found] == [
        "rules.yaml:8", "rules.yaml:12", "rules.yaml:18", "rules.yaml:24", "rules.yaml:29"
    ]
    assert "resolution: duration \"4x\" is not valid" in found[0]
    assert found[0].endswith('(use h and m, e.g. "45m", "4h", "1h30m")')  # (no days: working time)
    assert "unknown metric 'first_respnse' (did you mean 'first_response'?)" in found[1]
    assert "priority: 'asap' is not a priority" in found[2]
    assert "escalate: unknown team 'opps' (did you mean 'ops'?)" in found[3]
    assert "unknown action 'explode'" in found[4]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("{status: opne}", "unknown status 'opne' (did you mean 'open'?)"),
        ("{channel: fax}", "unknown channel 'fax'; choose from email, chat, portal, phone, api"),
        ("{level: 3}", "unknown level 3; choose from 1, 2"),
        ("{category: securty}", "unknown category 'securty'; choose from billing, bug"),
        ("{impact: huge}", "unknown impact 'huge'; choose from high, low"),
        ("{sla.first_response: late}", "unknown SLA state 'late'; choose from ok, warning,"),
        ("{sla.first: ok}", "unknown SLA metric 'first'; choose from first_response,"),
        ("{first_response: breached}", "(did you mean 'sla.first_response'?)"),
    ],
)
def test_every_closed_value_is_checked_against_its_list(when: str, message: str) -> None:
    rules = f"""\
categories: [billing, bug]
priority_matrix:
  high: {{high: urgent, low: high}}
  low: {{high: normal, low: low}}
routing:
  - when: {when}
    team: ops
"""
    (found,) = findings(rules=rules)
    assert found.startswith("rules.yaml:6: routing[0].when.")
    assert message in found



def test_the_starter_files_example_of_fields_loads() -> None:
    assert "# fields: [vip, region]\n" in RULES_YAML
    declared = RULES_YAML.replace("# fields: [vip, region]", "fields: [vip, region]")
    config = loads(TEAMS_YAML, declared)
    assert config.fields == ("vip", "region")


def test_a_person_in_notify_people_in_the_other_unicode_form_is_the_member() -> None:
    """teams.yaml's `zoë` (NFC), rules.yaml's `notify.people` key `zoë` typed NFD: "unknown
    person 'zoë' (did you mean 'zoë'?)", and she was never told (audit helper-423)."""
    teams = SMALL_TEAMS.replace("members: [ann]", "members: [ann, zo\u00eb]")
    rules = ('notify:\n  targets: {z: "json://hooks.example.com/z"}\n'
             "  people:\n    zoe\u0308: z\n")  # fmt: skip
    config = loads(teams, rules)
    assert config.notify is not None and config.notify.people == {"zo\u00eb": ("z",)}


# ---------------------------------------------------------------- customer_mail

MAIL_TARGETS = """\
notify:
  targets:
    customers: "mailtos://smtp.example.com?from=help@example.com"
    chat: "json://hooks.example.com/esc"
"""


def test_customer_mail_loads_with_the_default_acknowledgement() -> None:
    config = loads(rules=MAIL_TARGETS + "customer_mail: {target: customers, acknowledge: true}\n")
    settings = config.customer_mail
    assert settings is not None and settings.target == "customers"
    assert settings.acknowledge is not None and "[{id}]" in settings.acknowledge.subject
    plain = loads(rules=MAIL_TARGETS + "customer_mail: {target: customers}\n").customer_mail
    assert plain is not None and plain.acknowledge is None
    assert loads(rules=MAIL_TARGETS).customer_mail is None


def test_customer_mail_findings_name_the_line_with_did_you_mean() -> None:
    rules = MAIL_TARGETS + (
        "customer_mail:\n"  # line 5
        "  target: customer\n"
        "  acknowledge:\n"
        "    subject: 'Ticket {id}'\n"
        "    bdy: 'Hello {nmae}'\n"
        "  acknowlege: true\n"
    )
    assert findings(rules=rules) == [
        "rules.yaml:10: customer_mail: unknown key 'acknowlege' (did you mean 'acknowledge'?); "
        "choose from target, acknowledge",
        "rules.yaml:6: customer_mail.target: unknown target 'customer' (did you mean "
        "'customers'?); choose from customers, chat",
        "rules.yaml:9: customer_mail.acknowledge: unknown key 'bdy' (did you mean 'body'?); "
        "choose from subject, body",
    ]  # (a subject without [{id}] is fine: esc puts [ID] in front)
    body = MAIL_TARGETS + "customer_mail:\n  target: customers\n  acknowledge: {body: 'Hi {nmae}'}"
    (problem,) = findings(rules=body)
    assert problem.startswith(
        "rules.yaml:7: customer_mail.acknowledge.body: unknown placeholder {nmae} "
        "(did you mean 'name'?)"
    )
    chat = findings(rules=MAIL_TARGETS + "customer_mail: {target: chat}\n")
    assert chat == [
        "rules.yaml:5: customer_mail.target: notify target chat is not mail (mailto:// or mailtos://)"
    ]


def test_a_link_with_a_placeholder_esc_does_not_fill_is_a_finding() -> None:
    """Only {id} is filled in: a misspelt {ID} or a stray brace went into every message."""
    targets = 'notify:\n  targets: {chat: "json://hooks.example.com/esc"}\n'
    for link, odd in [("{ID}", "{ID}"), ("{id}/{0}", "{0}"), ("{id}/{", "{"), ("x}", "}")]:
        rules = targets + f'  link: "https://git.example.com/t/{link}"\n'
        assert findings(rules=rules) == [
            f"rules.yaml:3: notify.link: unknown placeholder {odd}; known: {{id}} (the "
            "ticket's ID)"
        ], link
    assert findings(rules=targets + '  link: "https://git.example.com/t/{id}.md"\n') == []


def test_a_link_without_id_is_a_base_url_each_ticket_s_file_is_added_to() -> None:
    """"a link (a configurable base URL, e.g. the repository's file view)": a link without
    {id} gave every message the same bare URL."""
    targets = 'notify:\n  targets: {chat: "json://hooks.example.com/esc"}\n'
    for link in ("https://github.com/acme/helpdesk/blob/main",
                 "https://github.com/acme/helpdesk/blob/main/"):  # fmt: skip
        config = loads(rules=targets + f'  link: "{link}"\n')
        assert config.notify is not None
        assert config.notify.link == "https://github.com/acme/helpdesk/blob/main/tickets/{id}.md"


def test_a_target_longer_than_ten_years_of_working_time_is_a_finding() -> None:
    """A clock counts its first 10 years of working time: a target that would not fit
    (21,000 h of office hours; or a calendar open one minute a week) is said where it is
    written, not an internal error of every command that computes it."""
    rules = """\
calendars:
  office: {timezone: Europe/Berlin, hours: {mon-fri: "09:00-17:00"}}
  minute: {timezone: UTC, hours: {mon: "09:00-09:01"}}
sla:
  - name: long
    calendar: office
    targets: {resolution: 21000h}
  - name: slow
    calendar: minute
    targets: {first_response: 10h}
"""
    assert findings(rules=rules) == [
        "rules.yaml:7: sla[0]: policy long: resolution: 21000h of office's working time takes"
        " more than 10 years",
        "rules.yaml:10: sla[1]: policy slow: first_response: 10h of minute's working time takes"
        " more than 10 years",
    ]


def validate(root: Path, teams: str, rules: str) -> str:
    """`esc validate` of a workspace with these files, which it finds wrong (exit 1): what
    it said."""
    (root / "rules.yaml").write_text(rules)
    (root / "teams.yaml").write_text(teams)
    (root / "tickets").mkdir()
    result = Esc(root)("validate")
    assert result.code == 1
    return result.out + result.err


def test_a_misspelt_key_anywhere_in_the_configuration_gets_did_you_mean(tmp_path: Path) -> None:
    """A rule's, a policy's, a team's, rules.yaml's and notify's keys, as condition keys
    and values do (issue 14): `wehn` for `when`, `levle` for `level`."""
    rules = RULES_YAML.replace("    when: {sla: breached", "    wehn: {sla: breached", 1)
    rules = rules.replace("    when: {priority: urgent}", "    wehn: {priority: urgent}", 1)
    rules = rules.replace("default_priority:", "defualt_priority:", 1)
    rules += "notify:\n  tagrets: {}\n"
    teams = TEAMS_YAML.replace("    level: 1", "    levle: 1", 1)
    assert rules.count("wehn") == 2 and teams.count("levle") == 1
    said_all = validate(tmp_path, teams, rules)
    for said in (
        "unknown key 'wehn' (did you mean 'when'?)",
        "sla[0]: unknown key 'wehn' (did you mean 'when'?)",
        "unknown key 'defualt_priority' (did you mean 'default_priority'?)",
        "notify: unknown key 'tagrets' (did you mean 'targets'?)",
        "unknown key 'levle' (did you mean 'level'?)",
    ):
        assert said in said_all, said


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("when: {priority: urgent}", 'when: {overdue: ">=1h"}',
         "sla[0].when.overdue: overdue cannot choose a policy"),
        ("when: {priority: urgent}", "when: {any: [{sla: breached}, {priority: urgent}]}",
         "sla[0].when.any[0].sla: sla cannot choose a policy"),
        ("  - when: {category: outage}", "  - when: {category: outage, sla.first_response: ok}",
         "routing[0].when.sla.first_response: sla.first_response cannot choose a route"),
    ],
)  # fmt: skip
def test_sla_and_overdue_cannot_choose_a_policy_or_a_route(
    tmp_path: Path, old: str, new: str, said: str
) -> None:
    """They passed validate and never matched: a policy and a route are chosen before any
    SLA is known (issue 14: a condition that silently never matches is a finding)."""
    assert old in RULES_YAML
    found = validate(tmp_path, TEAMS_YAML, RULES_YAML.replace(old, new, 1))
    assert said in found and "it is known only once a policy gives the ticket its SLA" in found


@pytest.mark.parametrize(
    "when", ["{tags: security, not: {sla: breached}}", "{sla: null}", "{not: {overdue: '>1h'}}"]
)
def test_a_route_on_what_always_holds_before_an_sla_still_loads(tmp_path: Path, when: str) -> None:
    """`not: {sla: breached}` (no SLA yet: it holds) and `sla: null` matched before, and
    stopped every command once `sla` was refused in routes: they are taken as they were."""
    rules = RULES_YAML.replace("  - when: {category: outage}", f"  - when: {when}", 1)
    assert rules != RULES_YAML
    (tmp_path / "rules.yaml").write_text(rules)
    (tmp_path / "teams.yaml").write_text(TEAMS_YAML)
    (tmp_path / "tickets").mkdir()
    assert Esc(tmp_path)("validate").code == 0


def test_a_key_yaml_reads_as_no_text_is_reported_at_its_own_line(tmp_path: Path) -> None:
    """`2026-01-01:` or `123:` (a date, a number to YAML): at its line, not the mapping's."""
    rules = RULES_YAML + "2026-01-01: x\n123: y\n"
    teams = TEAMS_YAML.replace("    level: 2\n", "    level: 2\n    456: z\n", 1)
    said = validate(tmp_path, teams, rules)
    lines = rules.splitlines()
    assert f"rules.yaml:{lines.index('2026-01-01: x') + 1}: unknown key '2026-01-01'" in said
    assert f"rules.yaml:{lines.index('123: y') + 1}: unknown key '123'" in said
    assert "456" not in said  # (a team's key of its own is welcome: no misspelt key of esc's)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_a_condition_on_a_number_no_ticket_can_hold_is_a_finding(
    tmp_path: Path, value: str
) -> None:
    """A ticket refuses `.inf` (JSON cannot hold it): a rule comparing with it could never
    match, so validate says so at its line, in the ticket's words."""
    rules = RULES_YAML.replace('when: {sla: breached, level: "<3"}', f"when: {{csat: {value}}}")
    assert rules != RULES_YAML
    said = validate(tmp_path, TEAMS_YAML, rules)
    line = next(n for n, text in enumerate(rules.splitlines(), 1) if f"csat: {value}" in text)
    assert f"rules.yaml:{line}: rules[0].when.csat: " in said
    assert "is a number JSON cannot hold (quote it to keep it as text)" in said


# ---------------------------------------------------------------- lone surrogates (issue 20)

LONE = "a lone surrogate escape (such as \\ud800) is no character"


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("timezone: Europe/Berlin", 'timezone: "\\ud800"', "22: calendars.office.timezone"),
        ('mon-fri: "09:00-17:00"', '"\\ud800": "09:00-17:00"', "24: key calendars.office.hours."
         "\\ud800"),
        ("refund, bug", 'refund, "\\ud800", bug', "6: categories[4]"),
        ("[low, normal", '[low, "\\ud800", normal', "4: priorities[1]"),
        ("name: breached-goes-up", 'name: "a\\ud800"', "39: rules[0].name"),
        ('note: "SLA breached, escalating"', 'note: "\\U0000DFFF"', "41: rules[0].then.note"),
    ],
)
def test_a_lone_surrogate_in_rules_yaml_is_a_finding_at_its_line(
    old: str, new: str, shown: str
) -> None:
    """`timezone: "\\ud800"` crashed validate (exit 3); in a category or a rule's note it was
    taken, and the sweep then blamed the ticket it wrote it into."""
    assert old in RULES_YAML
    assert findings(TEAMS_YAML, RULES_YAML.replace(old, new, 1)) == [f"rules.yaml:{shown}: {LONE}"]


def test_a_lone_surrogate_in_teams_yaml_is_a_finding_at_its_line() -> None:
    teams = TEAMS_YAML.replace("members: [dan, erin]", 'members: [dan, "\\udc80"]', 1)
    assert findings(teams, RULES_YAML) == [f"teams.yaml:15: teams.engineering.members[1]: {LONE}"]


def test_every_command_refuses_a_configuration_holding_a_lone_surrogate(esc: Esc) -> None:
    rules = esc.cwd / "rules.yaml"
    text = rules.read_text().replace('note: "SLA breached, escalating"', 'note: "\\ud800"')
    rules.write_text(text)
    line = f"rules.yaml:41: rules[0].then.note: {LONE}\n"
    checked = esc("validate")
    assert (checked.code, found_text(checked)) == (1, line)
    for args in (("create", "--title", "t", "--body", "x"), ("sweep",), ("list",)):
        result = esc(*args)
        assert (result.code, result.err) == (1, line), args
    assert list((esc.cwd / "tickets").glob("*.md")) == []


# ---------------------------------------------------------------- names (issue 20)


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("teams:\n", 'teams:\n  "": {level: 1}\n', "5: team name '' is blank"),
        ("teams:\n", 'teams:\n  "  ": {level: 1}\n', "5: team name '  ' is blank"),
        ("teams:\n", 'teams:\n  "a\\nb": {level: 1}\n', "5: team name 'a\\nb' has a line break"),
        (
            "teams:\n",
            'teams:\n  "a\\eb": {level: 1}\n',
            "5: team name 'a\\x1bb' has the control character U+001B",
        ),
        (
            "members: [alice, bob]",
            'members: [alice, "b\\tob"]',
            "8: team support: every member must be a name; 'b\\tob' has a tab",
        ),
        ("lead: carol", 'lead: " "', "9: team support: lead ' ' is blank"),
        (
            "handles: [bug",
            'handles: ["bu\\ng"',
            "17: team engineering: every category in handles must be a name; 'bu\\ng' has a "
            "line break",
        ),
    ],
)
def test_a_blank_name_or_one_with_a_control_character_is_refused_in_teams_yaml(
    old: str, new: str, shown: str
) -> None:
    assert old in TEAMS_YAML
    teams = TEAMS_YAML.replace(old, new, 1)
    assert f"teams.yaml:{shown}" in findings(teams, RULES_YAML)


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("[low, normal", '["lo\\nw", low, normal', "4: every priority must be a name; 'lo\\nw'"),
        ("[billing", '[" ", billing', "6: every category must be a name; ' ' is blank"),
        ("[billing", '["\\a", billing', "6: every category must be a name; '\\x07' has the"),
    ],
)
def test_a_blank_priority_or_category_or_one_with_a_control_character_is_refused(
    old: str, new: str, shown: str
) -> None:
    rules = RULES_YAML.replace(old, new, 1)
    assert any(f.startswith(f"rules.yaml:{shown}") for f in findings(TEAMS_YAML, rules))


def test_a_control_character_in_the_configuration_is_reported_at_its_line() -> None:
    """BEL in rules.yaml or teams.yaml was reported at line 1 (issue 20)."""
    rules = RULES_YAML.replace("calendar: always", "calendar: always\x07", 1)
    line = rules[: rules.index("\x07")].count("\n") + 1
    assert findings(TEAMS_YAML, rules) == [
        f"rules.yaml:{line}: does not parse: unacceptable character #x0007: special characters "
        "are not allowed"
    ]
    teams = TEAMS_YAML.replace("[dan", "[d\x1ban", 1)
    line = teams[: teams.index("\x1b")].count("\n") + 1
    assert findings(teams, RULES_YAML)[0].startswith(f"teams.yaml:{line}: does not parse")


@pytest.mark.parametrize("level", ["101", "99999999999999999999999"])
def test_a_level_above_100_is_a_finding(level: str) -> None:
    """`level: 99999999999999999999999` was taken, then `esc export --sqlite` ended in an
    internal error (OverflowError: SQLite holds 64 bits) (issue 20)."""
    found = findings(SMALL_TEAMS.replace("level: 2", f"level: {level}"))
    assert found == [f"teams.yaml:8: team ops: level {level} is above 100"]
    assert loads(SMALL_TEAMS.replace("level: 2", "level: 100")).teams["ops"].level == 100


def test_export_refuses_a_level_sqlite_cannot_hold(esc: Esc) -> None:
    teams = esc.cwd / "teams.yaml"
    teams.write_text(teams.read_text().replace("level: 3", "level: 99999999999999999999999"))
    result = esc("export", "--sqlite", "out.sqlite")
    line = teams.read_text().splitlines().index("    level: 99999999999999999999999") + 1
    assert (result.code, result.err) == (
        1,
        f"teams.yaml:{line}: team management: level 99999999999999999999999 is above 100\n",
    )
    assert not (esc.cwd / "out.sqlite").exists()


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("default_priority: normal", "default_priority: norml", "(did you mean 'normal'?)"),
        ("then: {escalate: up, note", "then: {escalate: upp, note", "(did you mean 'up'?)"),
        ("timezone: Europe/Berlin", "timzone: Europe/Berlin", "(did you mean 'timezone'?)"),
        ("then: {priority: urgent}", "then: {priority: rase}", "(did you mean 'raise'?)"),
    ],
)
def test_a_misspelt_value_of_rules_yaml_gets_a_did_you_mean(
    tmp_path: Path, old: str, new: str, said: str
) -> None:
    """(issue 14: each was reported with no hint)"""
    from tests.conftest import Esc

    esc = Esc(tmp_path, now="2026-12-01T10:00:00+01:00")
    esc.ok("init", ".")
    rules = tmp_path / "rules.yaml"
    assert old in rules.read_text()
    rules.write_text(rules.read_text().replace(old, new, 1))
    result = esc("validate")
    assert result.code == 1 and said in result.err.splitlines()[0], result.err


def test_a_target_of_null_is_said_as_yaml_writes_it() -> None:
    """`resolution: null` (or `~`) was `duration "None" is not valid`."""
    rules = (
        "calendars:\n  always: {timezone: UTC, hours: {mon-sun: \"00:00-24:00\"}}\n"
        "sla:\n  - name: a\n    calendar: always\n"
        "    targets: {first_response: 1h, resolution: ~}\n"
    )
    assert findings(rules=rules) == [
        "rules.yaml:6: sla[0]: policy a: resolution: null is no duration (write e.g. 24h, or"
        " leave the target out)"
    ]


def test_git_conflict_markers_in_rules_yaml_are_said_as_a_conflict() -> None:
    """A merge of rules.yaml left git's markers: `could not find expected ':'` told nothing;
    a ticket says "unresolved merge conflict" at the first marker, and so does rules.yaml."""
    rules = (
        "id_prefix: T\n<<<<<<< ours\ndefault_priority: normal\n=======\n"
        "default_priority: high\n>>>>>>> theirs\n"
    )
    assert findings(rules=rules) == [
        "rules.yaml:2: unresolved merge conflict: resolve it, then `git add` the file"
    ]


def test_a_numeric_id_prefix_is_asked_to_be_quoted() -> None:
    """`id_prefix: 1` said "must be letters or digits" though 1 is a digit: YAML read a
    number, which the message now says."""
    assert findings(rules="id_prefix: 1\n") == [
        'rules.yaml:1: id_prefix 1 is read as a number: quote it (id_prefix: "1")'
    ]
    assert loads(rules='id_prefix: "1"\n').id_prefix == "1"


def test_a_category_listed_twice_is_a_finding() -> None:
    """`categories: [billing, billing, account]` passed validate, and messages then offered
    "one of billing, billing, …"."""
    assert findings(rules="categories: [billing, billing, account]\n") == [
        "rules.yaml:1: categories lists billing more than once"
    ]


@pytest.mark.parametrize("name", ["=ops", "!ops", ">ops", "<ops"])
def test_a_name_that_starts_as_a_comparison_is_refused(name: str) -> None:
    """A team `=ops` validated, then `list --team '=ops'` said "unknown team 'ops'" and a
    condition `team: "=ops"` meant `ops`: a name no filter or condition could ever give."""
    teams = SMALL_TEAMS.replace("  ops:", f'  "{name}":').replace("escalates_to: ops",
                                                                  f'escalates_to: "{name}"')
    found = findings(teams=teams)
    assert any(f"team name '{name}' starts with '{name[0]}'" in f for f in found), found
    rules = f'categories: [billing, "{name}"]\n'
    assert any(f"'{name}' starts with '{name[0]}'" in f for f in findings(rules=rules))


def test_an_id_prefix_too_long_to_name_a_file_is_refused() -> None:
    """A 300-letter id_prefix validated, then every `esc create` failed on "File name too
    long"."""
    assert findings(rules=f"id_prefix: {'T' * 300}\n") == [
        "rules.yaml:1: id_prefix is 300 characters long; at most 32, like T or OPS"
    ]
    assert findings(rules=f"id_prefix: {'T' * 32}\n") == []


def test_notify_targets_that_differ_only_in_case_are_a_finding() -> None:
    """`s` and `S` name the outbox's files (`EVENT-s.json`, `EVENT-S.json`): on a file
    system that ignores case one message overwrote the other (audit helper-387)."""
    rules = """\
notify:
  targets:
    chat: "json://127.0.0.1:8080/a"
    Chat: "json://127.0.0.1:8080/b"
"""
    assert findings(rules=rules) == [
        "rules.yaml:4: notify target 'Chat' and target 'chat' differ only in case; name them"
        " apart (the outbox's files are named after them)"
    ]


def test_a_secret_written_in_a_notify_target_is_a_finding_not_blocking() -> None:
    """Issue 16: secrets come from the environment, never from files in the repository: a
    password or token written in rules.yaml is said (the value never shown); one in a
    variable is not."""
    rules = """\
notify:
  targets:
    lit: "mailtos://bob:Hunter2Password@smtp.example.com?to=a@b.c"
    tok: "json://hooks.example.com/in?token=abc123"
    fine: "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.com?to=a@b.c"
    plain: "json://127.0.0.1:8080/hook?to=x"
"""
    said = findings(rules=rules)
    assert said == [
        "rules.yaml:3: notify target lit: a password is written in rules.yaml, which git keeps"
        " and shares: put it in an environment variable (${NAME}) instead",
        "rules.yaml:4: notify target tok: a token is written in rules.yaml, which git keeps"
        " and shares: put it in an environment variable (${NAME}) instead",
    ]
    assert "Hunter2" not in " ".join(said)
    config, found = build_config(SMALL_TEAMS, rules)
    assert config is not None and not any(f.blocking for f in found)


def test_a_secret_in_an_apprise_header_or_parameter_argument_is_a_finding_too() -> None:
    """apprise sends `+NAME=` as a header, `-NAME=` as a parameter of the URL it posts to:
    `+Authorization=Bearer …`, `-token=…`, `+X-Api-Key=…` went to git unsaid, only a plain
    `?token=` was (audit helper-469); one made of a variable is fine."""
    rules = """\
notify:
  targets:
    h1: "json://127.0.0.1:9/h1?+Authorization=Bearer%20sk_live_abcdef123456"
    h2: "json://127.0.0.1:9/h2?-token=abcdef123456"
    h3: "json://127.0.0.1:9/h3?+X-Api-Key=abcdef123456"
    h4: "json://127.0.0.1:9/h4?access_token=abcdef123456"
    ok: "json://127.0.0.1:9/ok?+Authorization=Bearer%20${HOOK_TOKEN}&format=markdown"
"""
    said = findings(rules=rules)
    tail = " is written in rules.yaml, which git keeps and shares: put it in an environment"
    assert [line.partition(tail)[0] for line in said] == [
        "rules.yaml:3: notify target h1: an authorization",
        "rules.yaml:4: notify target h2: a token",
        "rules.yaml:5: notify target h3: an x-api-key",
        "rules.yaml:6: notify target h4: an access_token",
    ]
    assert "abcdef" not in " ".join(said)


@pytest.mark.parametrize(
    "url", ["gchat://${GC_WS}/${GC_KEY}/${GC_TOKEN}", "workflows://${WF_HOST}/${WF_ID}/${WF_SIG}",
            "wxteams://${WX_TOKEN}", "webex://${WX_TOKEN}"],
)  # fmt: skip
def test_the_chats_the_readme_names_are_targets_esc_sends_to(url: str) -> None:
    """`gchat://` and `workflows://` (named in the README) and Webex's `wxteams://` were
    "not one esc sends to", and every command stopped on rules.yaml; it had `webexteams`,
    which apprise does not know (audit helper-403)."""
    rules = f'notify:\n  targets:\n    chat: "{url}"\n'
    assert findings(rules=rules) == []
    from esc.store.outbox import _MARKDOWN_CHATS, _MENTION_ONLY_CHATS

    assert "discord" in _MARKDOWN_CHATS  # (its plugin sends the text as it is)
    assert {"wxteams", "webex", "gchat"} <= _MENTION_ONLY_CHATS  # (Webex's escapes itself)


@pytest.mark.parametrize("team", ["[desk, ops]", "{name: desk}", "!!set {desk}"])
def test_a_route_to_anything_but_one_team_is_a_finding_not_an_internal_error(team: str) -> None:
    """`team: [sre, engineering]` in a route crashed every command (unhashable: exit 3);
    a route goes to one team (audit helper-479)."""
    rules = f"routing:\n  - when: {{category: billing}}\n    team: {team}\n"
    assert findings(rules=rules) == ["rules.yaml:3: routing[0]: team must name one team"]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("[Customer, Support]", "name must be text"),
        ("{en: Support}", "name must be text"),
        ("true", "name must be text"),
        ("1e3", "name must be text"),
        ('"a\\tb"', "name 'a\\tb' has a tab"),
    ],
)
def test_a_team_s_name_must_be_a_name(name: str, said: str) -> None:
    """A team's `name:` was never checked: a list, a mapping, `true` or `1e3` validated and
    `show` gave Python's writing of it (`['Customer', 'Support']`, `True`, `1000.0`)
    (audit helper-479)."""
    teams = SMALL_TEAMS.replace("  desk:\n", f"  desk:\n    name: {name}\n")
    found = findings(teams=teams)
    assert len(found) == 1 and found[0].startswith(f"teams.yaml:4: team desk: {said}"), found


@pytest.mark.parametrize("name", ['"> Escalations"', '"- Support -"', '"Support "', "2024", '""'])
def test_a_team_s_display_name_is_not_held_to_what_a_key_must_be(name: str) -> None:
    """A display name is never a filter's or a command line's: `> Escalations`, `2024`, a
    space at its end are shown as written, `""` falls back to the key (review helper-482:
    the key's rules stopped every command)."""
    teams = SMALL_TEAMS.replace("  desk:\n", f"  desk:\n    name: {name}\n")
    assert findings(teams=teams) == []


def test_a_route_to_a_team_written_as_a_number_says_which_team_it_meant() -> None:
    """(`team: 7` read "team must name one team"; it is an unknown team, did you mean '7'
    as before: review helper-482)"""
    teams = SMALL_TEAMS.replace("  ops:\n", "  ops:\n    handles: []\n") + "  '7':\n    level: 2\n"
    rules = "routing:\n  - when: {category: billing}\n    team: 7\n"
    [said] = findings(teams=teams, rules=rules)
    assert said.startswith("rules.yaml:3: routing[0]: unknown team 7") and "'7'" in said
