"""`esc validate` on tickets: each kind of problem in a ticket file, reported at its line."""

from __future__ import annotations

import pytest

from esc.config.loading import build_config
from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain.config import Config, Finding
from esc.domain.errors import ParseError
from esc.ticketfile.document import TicketDoc, parse
from esc.ticketfile.problems import check_ticket, require_valid, ticket_problems

GOOD = """\
---
id: T-aaaa0001
title: Invoice missing
status: open
priority: normal
category: billing
team: support
assignee: alice
customer: jane@shop.example
channel: email
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:30:00+01:00
tags: [vip]
impact: low
urgency: high
escalations:
  - {at: 2026-11-20T09:20:00+01:00, kind: priority, from: low, to: normal, by: bob, reason: x}
  - {at: 2026-11-20T09:30:00+01:00, kind: functional, from: support, to: engineering, by: bob, reason: y}
---

The November invoice is not in the portal.

## Activity

- 2026-11-20T09:00:00+01:00 · alice · created
"""  # noqa: E501


@pytest.fixture(scope="module")
def config() -> Config:
    built, found = build_config(TEAMS_YAML, RULES_YAML)
    assert found == []
    assert built is not None
    return built


def doc(edits: dict[str, str] | None = None, name: str = "T-aaaa0001") -> TicketDoc:
    """GOOD with each ``old`` text of ``edits`` replaced by its new text, read as
    tickets/<name>.md."""
    text = GOOD
    for old, new in (edits or {}).items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse(text, f"tickets/{name}.md")


def problems(d: TicketDoc, config: Config | None) -> list[str]:
    return [str(f) for f in check_ticket(d, config)]


def test_a_good_ticket_has_no_problems(config: Config) -> None:
    assert problems(doc(), config) == []
    assert problems(doc(), None) == []


def test_problems_found_while_reading_come_with_their_lines(config: Config) -> None:
    d = doc(
        {
            "created: 2026-11-20T09:00:00+01:00": "created: 2026-11-20T09:00:00",
            "tags: [vip]": "tags: vip",
            "urgency: high": "urgency: high\ncsat: 9",
        }
    )
    assert problems(d, config) == [
        "tickets/T-aaaa0001.md:11: created 2026-11-20 09:00:00 is not a timestamp with a time zone",
        "tickets/T-aaaa0001.md:13: tags must be a list of words",
        "tickets/T-aaaa0001.md:16: csat must be a whole number from 1 to 5, not 9",
    ]


def test_missing_required_fields_are_reported_at_the_top(config: Config) -> None:
    d = doc({"title: Invoice missing\n": "", "team: support\n": ""})
    assert problems(d, None) == [
        "tickets/T-aaaa0001.md:1: title is missing",
        "tickets/T-aaaa0001.md:1: team is missing",
    ]


def test_an_id_that_is_not_the_file_name(config: Config) -> None:
    assert problems(doc(name="T-bbbb0002"), config) == [
        "tickets/T-bbbb0002.md:2: id T-aaaa0001 does not match the file name T-bbbb0002.md"
    ]


def test_status_problems_point_at_the_status_line(config: Config) -> None:
    assert problems(doc({"status: open": "status: done"}), None) == [
        "tickets/T-aaaa0001.md:4: unknown status 'done'; one of new, open, pending, resolved,"
        " closed"
    ]
    assert problems(doc({"status: open": "status: resolved"}), None) == [
        "tickets/T-aaaa0001.md:4: a resolved ticket needs resolved_at"
    ]
    assert problems(doc({"status: open": "status: closed"}), None) == [
        "tickets/T-aaaa0001.md:4: a closed ticket needs resolved_at",
        "tickets/T-aaaa0001.md:4: a closed ticket needs closed_at",
    ]
    closed = (
        "status: closed\n"
        "resolved_at: 2026-11-20T10:00:00+01:00\n"
        "closed_at: 2026-11-20T11:00:00+01:00"
    )
    assert problems(doc({"status: open": closed}), config) == []


def test_what_reopening_clears_left_on_an_active_ticket_is_said_not_blocking(
    config: Config,
) -> None:
    """A closed ticket whose status was edited to open by hand (or by a merge) kept its
    closed_at and csat: validate said "ok", and the reports counted it closed and rated
    while it was also active and overdue (issue 4's audit)."""
    left = (
        "status: open\nresolved_at: 2026-11-20T10:00:00+01:00\n"
        "closed_at: 2026-11-20T11:00:00+01:00\ncsat: 5"
    )
    found = check_ticket(doc({"status: open": left}), config)
    assert [str(f) for f in found] == [
        f"tickets/T-aaaa0001.md:{line}: {key} is set, but the ticket is open (reopening"
        " clears it): remove it, or give the ticket the status it belongs to"
        for line, key in ((5, "resolved_at"), (6, "closed_at"), (7, "csat"))
    ]
    assert not any(f.blocking for f in found)  # (commands still write it)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("status: open", "status: nwe", "4: unknown status 'nwe' (did you mean 'new'?); one of"),
        ("status: open", "status: New", "4: unknown status 'New' (did you mean 'new'?); one of"),
        ("channel: email", "channel: emial",
         "10: unknown channel 'emial' (did you mean 'email'?); one of"),
        ("kind: priority, from: low", "kind: prority, from: low",
         "17: escalation 1: kind must be one of functional, hierarchical, priority (did you"
         " mean 'priority'?)"),
        ("state: open", "state: opne",
         "20: request 1: state must be one of open, answered, declined (did you mean 'open'?)"),
    ],
)  # fmt: skip
def test_a_misspelt_value_of_a_closed_set_gets_a_did_you_mean(
    config: Config, old: str, new: str, message: str
) -> None:
    """A status, channel, escalation kind or request state misspelt was named with its
    choices but no hint, where a priority, team or category got one (audit helper-382)."""
    edits = dict([REQUESTS, (old, new)]) if old.startswith("state") else {old: new}
    found = problems(doc(edits), config)
    assert any(f.startswith(f"tickets/T-aaaa0001.md:{message}") for f in found), found


def test_an_unknown_channel_needs_no_config() -> None:
    assert problems(doc({"channel: email": "channel: pigeon"}), None) == [
        "tickets/T-aaaa0001.md:10: unknown channel 'pigeon'; one of email, chat, portal, phone, api"
    ]


def test_values_the_configuration_does_not_know(config: Config) -> None:
    d = doc(
        {
            "priority: normal": "priority: extreme",
            "category: billing": "category: weather",
            "team: support": "team: legal",
            "impact: low": "impact: huge",
            "urgency: high": "urgency: now",
        }
    )
    assert problems(d, config) == [
        "tickets/T-aaaa0001.md:5: unknown priority 'extreme'; one of low, normal, high, urgent",
        "tickets/T-aaaa0001.md:6: unknown category 'weather';"
        " one of billing, account, how-to, refund, bug, outage, data",
        "tickets/T-aaaa0001.md:7: unknown team 'legal'; one of support, engineering, management",
        "tickets/T-aaaa0001.md:14: unknown impact 'huge'; one of high, medium, low",
        "tickets/T-aaaa0001.md:15: unknown urgency 'now'; one of high, medium, low",
    ]
    assert problems(d, None) == []  # without a configuration, nothing to check them against


def test_categories_and_impact_are_free_without_a_closed_list_or_matrix() -> None:
    open_config, found = build_config(TEAMS_YAML, "")
    assert found == [] and open_config is not None
    d = doc({"category: billing": "category: weather", "impact: low": "impact: huge"})
    assert problems(d, open_config) == []


def test_escalation_problems(config: Config) -> None:
    d = doc(
        {
            "to: normal": "to: extreme",
            "kind: functional, from: support, to: engineering": "kind: sideways, from: support,"
            " to: legal",
        }
    )
    found = check_ticket(d, config)
    # an escalation of no known kind is no escalation: reported at its own line, not read
    # on; each in the file's order (as `esc validate` lists them)
    assert [str(f) for f in found] == [
        "tickets/T-aaaa0001.md:17: escalation 1: unknown priority 'extreme'",
        "tickets/T-aaaa0001.md:18: escalation 2: kind must be one of functional, hierarchical,"
        " priority",
    ]


def test_an_escalation_after_one_that_does_not_parse_keeps_its_number_and_line(
    config: Config,
) -> None:
    """Escalation 1 of no known kind is left out of the ticket, not out of the numbering:
    escalation 2's unknown team is escalation 2's, at its own line."""
    d = doc(
        {
            "kind: priority, from: low": "kind: upwards, from: low",
            "to: engineering": "to: legal",
        }
    )
    assert problems(d, config) == [
        "tickets/T-aaaa0001.md:17: escalation 1: kind must be one of functional, hierarchical,"
        " priority",
        "tickets/T-aaaa0001.md:18: escalation 2: unknown team 'legal'",
    ]


def test_an_escalation_without_a_time_is_reported_at_its_own_line(config: Config) -> None:
    d = doc({"at: 2026-11-20T09:30:00+01:00, kind: functional": "at: soon, kind: functional"})
    assert problems(d, config) == [
        "tickets/T-aaaa0001.md:18: escalation 2: at is not a timestamp with a time zone"
    ]


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        ({"by: bob, reason: y": "by: {a: 1}, reason: y"}, "by"),
        ({"by: bob, reason: y": "by: bob, reason: [x]"}, "reason"),
        ({"from: support, to: engineering": "from: [support], to: engineering"}, "from"),
    ],
)
def test_an_escalation_value_that_is_no_single_value_is_reported(
    config: Config, edit: dict[str, str], key: str
) -> None:
    """A mapping or list where an escalation holds a name or text: validate says so (it
    was read as Python's text of it, `{'a': 1}`, into show and --json)."""
    assert problems(doc(edit), config) == [
        f"tickets/T-aaaa0001.md:18: escalation 2: {key} must be a single value"
    ]


def test_an_escalation_to_an_unknown_team_is_reported_at_its_own_line(config: Config) -> None:
    d = doc({"to: engineering": "to: legal"})
    assert problems(d, config) == ["tickets/T-aaaa0001.md:18: escalation 2: unknown team 'legal'"]


def test_a_priority_escalation_that_does_not_go_up_is_said_not_blocking(
    config: Config,
) -> None:
    """`{kind: priority, from: low, to: low}` written by hand passed validate, where `esc
    escalate --priority low` on a low ticket is refused."""
    d = doc({"kind: priority, from: low, to: normal": "kind: priority, from: normal, to: low"})
    found = check_ticket(d, config)
    assert [str(f) for f in found] == [
        "tickets/T-aaaa0001.md:17: escalation 1: a priority escalation from normal to low, "
        "not up (one raises the priority)"
    ]
    assert [f.blocking for f in found] == [False]


def test_a_merge_conflict_is_reported_once_at_its_first_marker() -> None:
    body = "The November invoice is not in the portal."
    conflict = "<<<<<<< ours\nmine\n=======\ntheirs\n>>>>>>> theirs"
    with pytest.raises(ParseError) as caught:
        doc({body: conflict})
    assert str(caught.value) == (
        "tickets/T-aaaa0001.md:21: unresolved merge conflict: resolve it, then `git add` the file"
    )


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ({"tags: [vip]": 'tags: "vip"'}, "13: tags must be a list of words"),
        ({"tags: [vip]": "tags: [a, 'b,c']"}, "13: tag 'b,c' has a comma"),
        ({"updated: 2026": "updated: 9999-12-31T23:59:59-01:00\nx: 2026"}, "12: updated 9999"),
        ({"tags: [vip]": "tags: [vip]\nsla: text"}, "14: sla must be a mapping"),
        ({"tags: [vip]": "tags: [vip]\nfired: {r: soon}"}, "14: fired: r soon is not a timestamp"),
        ({"tags: [vip]": "tags: [vip]\nseen: 0001-01-01"}, "14: seen: 0001-01-01 is out of range"),
        ({"tags: [vip]": "tags: [vip]\n7: seven"}, "14: key 7 is not text"),
        ({"tags: [vip]": "tags: [vip]\nx: {1: one}"}, "14: x: key 1 is not text"),
        ({"tags: [vip]": "tags: [vip]\nx: !!binary aGk="}, "14: x: a bytes value"),
        ({"tags: [vip]": "tags: [vip]\nx: {a: [.nan]}"}, "14: x: nan is a number JSON cannot"),
        ({"tags: [vip]": "tags: [vip]\ny: -.inf"}, "14: y: -inf is a number JSON cannot"),
        ({"at: 2026-11-20T09:20": "at: 0001-01-01T00:00"}, "17: escalation 1: at 0001-01-01"),
        (
            {"- 2026-11-20T09:00:00+01:00 · alice": "- 9999-12-31T23:59:59-01:00 · alice"},
            "25: 9999-12-31T23:59:59-01:00 is out of range",
        ),
    ],
)
def test_what_validate_finds_in_the_values(edits: dict[str, str], expected: str) -> None:
    found = problems(doc(edits), None)
    assert found, edits
    assert found[0].startswith(f"tickets/T-aaaa0001.md:{expected}"), found


# ---------------------------------------------------------------- ticket_problems


def test_files_that_do_not_parse_and_duplicate_ids(config: Config) -> None:
    broken = ParseError("tickets/T-cccc0003.md", 3, "front-matter does not parse: nope")
    items: list[TicketDoc | ParseError] = [
        doc(),
        broken,
        doc(name="T-dddd0004"),
    ]
    assert ticket_problems(items, config) == [
        Finding("tickets/T-cccc0003.md", 3, "front-matter does not parse: nope"),
        Finding(
            "tickets/T-dddd0004.md", 2, "id T-aaaa0001 does not match the file name T-dddd0004.md"
        ),
        Finding(
            "tickets/T-dddd0004.md", 2, "duplicate id T-aaaa0001 (also in tickets/T-aaaa0001.md)"
        ),
    ]


def test_the_parse_errors_of_real_files_carry_their_lines() -> None:
    texts = {
        "tickets/T-a.md": "no front-matter\n",
        "tickets/T-b.md": "---\nid: T-b\n",
        "tickets/T-c.md": "---\n- a list\n---\n",
        "tickets/T-d.md": "---\nid: T-d\ncreated: 2026-02-30\n---\n",
    }
    errors: list[TicketDoc | ParseError] = []
    for path, text in texts.items():
        with pytest.raises(ParseError) as caught:
            parse(text, path)
        errors.append(caught.value)
    assert [str(f) for f in ticket_problems(errors, None)] == [
        "tickets/T-a.md:1: no front-matter: the file must start with a '---' line",
        "tickets/T-b.md:1: front-matter is not closed by a '---' line",
        "tickets/T-c.md:2: front-matter must be a mapping of fields",
        "tickets/T-d.md:3: front-matter does not parse: 2026-02-30 is not a valid timestamp"
        " (day is out of range for month)",
    ]


REQUESTS = (
    "---\n\nThe November",
    "requests:\n"
    "  - {asked: 2026-11-20T09:40:00+01:00, by: alice, team: engineering, state: open}\n"
    "  - {asked: 2026-11-20T09:45:00+01:00, by: alice, team: management, person: frank,"
    " state: answered, closed: 2026-11-20T09:50:00+01:00, closed_by: frank}\n"
    "---\n\nThe November",
)


def test_requests_to_other_teams_are_read(config: Config) -> None:
    d = doc(dict([REQUESTS]))
    assert problems(d, config) == []
    assert [(r.team, r.person, r.state, r.closed_by) for r in d.ticket.requests] == [
        ("engineering", None, "open", None),
        ("management", "frank", "answered", "frank"),
    ]
    assert [r.team for r in d.ticket.open_requests()] == ["engineering"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # (a team the configuration lacks: at the request's own line, as for escalations)
        ("team: engineering", "team: legal", "20: request 1: unknown team 'legal'"),
        ("state: open", "state: waiting", "20: request 1: state must be one of open, answered"),
        ("state: answered", "state: open", "21: request 2: an open request has no closed time"),
        # (`closed_by` on an open request passed, and export said who closed it: helper-443)
        ("team: engineering, state: open", "team: engineering, state: open, closed_by: dan",
         "20: request 1: an open request has no closed_by"),
        ("asked: 2026-11-20T09:40:00+01:00", "asked: soon", "20: request 1: asked is not a"),
        ("closed: 2026-11-20T09:50:00+01:00", "closed: 2026-11-20T09:00:00+01:00",
         "21: request 2: closed before it was asked"),
    ],
)
def test_request_problems_are_reported_at_their_lines(
    config: Config, old: str, new: str, message: str
) -> None:
    found = problems(doc(dict([REQUESTS, (old, new)])), config)
    assert len(found) == 1 and found[0].startswith(f"tickets/T-aaaa0001.md:{message}"), found


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("team: engineering, state: open", "team: engineering, person: zoe, state: open",
         "20: request 1: zoe is not in team engineering (dan, erin)"),
        ("team: engineering, state: open", "team: support, state: open",
         "20: request 1: an open request to support, which owns the ticket"),
    ],
)  # fmt: skip
def test_requests_esc_involve_refuses_are_found_but_block_no_command(
    config: Config, old: str, new: str, message: str
) -> None:
    """A request to a person not in the team asked, or an open one to the team that owns
    the ticket (hand edits, merges): `esc involve` refuses both, and validate said ok."""
    d = doc(dict([REQUESTS, (old, new)]))
    found = problems(d, config)
    assert len(found) == 1 and found[0].startswith(f"tickets/T-aaaa0001.md:{message}"), found
    assert require_valid(d, config) is d


def test_a_second_open_request_to_a_team_is_found_but_blocks_no_command(config: Config) -> None:
    """Two clones each asked engineering, and git merged both: `esc validate` says so, at
    the second's line, yet commands still take the ticket (`esc answer` closes both)."""
    both = dict([REQUESTS, ("team: management, person: frank,", "team: engineering,"),
                 ("state: answered, closed: 2026-11-20T09:50:00+01:00, closed_by: frank",
                  "state: open")])  # fmt: skip
    d = doc(both)
    assert problems(d, config) == [
        "tickets/T-aaaa0001.md:21: request 2: a second open request to engineering"
        " (request 1 is open: `esc answer --team engineering` closes both)"
    ]
    assert require_valid(d, config) is d


SWEPT = """\
urgency: high
sla:
  policy: standard
  checked: 2026-11-20T09:40:00+01:00
  first_response: {due: 2026-11-20T13:00:00+01:00, state: met}
  resolution: {due: 2026-11-23T09:00:00+01:00, state: ok}
fired:
  breached-goes-up: 2026-11-20T09:30:00+01:00"""


def test_a_swept_block_naming_what_the_configuration_has_is_no_problem(config: Config) -> None:
    assert problems(doc({"urgency: high": SWEPT}), config) == []


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        (
            "policy: standard",
            "policy: standrd",
            "17: sla: unknown policy 'standrd' (did you mean 'standard'?); "
            "choose from urgent, standard",
        ),
        (
            "  breached-goes-up:",
            "  brached-goes-up:",
            "22: fired: unknown rule 'brached-goes-up' (did you mean 'breached-goes-up'?); "
            "choose from breached-goes-up, outage-is-urgent (a rule renamed or removed in "
            "rules.yaml: its memory, kept lest it fire again if put back; delete the line "
            "once it is gone for good)",
        ),
    ],
)
def test_a_swept_block_naming_a_policy_or_rule_rules_yaml_lacks(
    config: Config, old: str, new: str, finding: str
) -> None:
    """A misspelt policy or rule is none the sweep wrote (issue 14): said at its line, with
    did-you-mean; not blocking (a rule renamed in rules.yaml leaves its old name behind)."""
    d = doc({"urgency: high": SWEPT.replace(old, new)})
    assert problems(d, config) == [f"tickets/T-aaaa0001.md:{finding}"]
    assert require_valid(d, config) is d
    assert problems(d, None) == []


@pytest.mark.parametrize(
    ("key", "meant"),
    [("priorty", "priority"), ("custmer", "customer"), ("Title", "title"), ("tgas", "tags")],
)
def test_a_key_of_your_own_that_reads_as_a_misspelt_key_of_esc(
    config: Config, key: str, meant: str
) -> None:
    """Said with did-you-mean (issue 14), as teams.yaml says `intak:`, and blocking: "a
    ticket that fails validation is refused by every command that would write it"."""
    d = doc({"urgency: high": f"urgency: high\n{key}: x"})
    said = (f"tickets/T-aaaa0001.md:16: unknown key '{key}' (did you mean '{meant}'?); "
            "declare it in rules.yaml's fields if it is meant")  # fmt: skip
    assert problems(d, config) == [said]
    with pytest.raises(ParseError) as caught:
        require_valid(d, config)
    assert str(caught.value) == said


def test_a_key_one_typo_from_a_declared_field_is_said_so() -> None:
    """`vpi: true` where rules.yaml declares `fields: [vip]`: the rules on `vip` silently
    never matched the ticket (issue 14)."""
    d = doc({"urgency: high": "urgency: high\nvpi: true"})
    declared, found = build_config(TEAMS_YAML, RULES_YAML + "fields: [vip, region]\n")
    assert found == [] and declared is not None
    assert problems(d, declared) == [
        "tickets/T-aaaa0001.md:16: unknown key 'vpi' (did you mean 'vip'?); "
        "declare it in rules.yaml's fields if it is meant"
    ]
    built, _ = build_config(TEAMS_YAML, RULES_YAML)  # (no fields declared: a key of one's own)
    assert built is not None and problems(d, built) == []


def test_a_key_declared_in_fields_or_far_from_esc_keys_is_no_problem() -> None:
    """`assigned` is one letter from `assignee`: declared in rules.yaml's `fields`, it is
    meant.  Keys of one's own that merely resemble esc's (`customer_id`, `created_by`,
    `x-custom`) are no misspelling: `esc validate` failed on them (issue 2 keeps every
    unknown key)."""
    d = doc({"urgency: high": "urgency: high\nassigned: x\nvip: true\ncustomer_id: 7\n"
                              "created_by: x\nx-custom: {a: 1}\nurgent: yes"})
    declared, found = build_config(TEAMS_YAML, RULES_YAML + "fields: [assigned]\n")
    assert found == [] and declared is not None
    assert problems(d, declared) == []
    built, _ = build_config(TEAMS_YAML, RULES_YAML)
    assert built is not None
    assert problems(d, built) == [
        "tickets/T-aaaa0001.md:16: unknown key 'assigned' (did you mean 'assignee'?); "
        "declare it in rules.yaml's fields if it is meant"
    ]


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        ("team: support", "team: suport", "7: unknown team 'suport' (did you mean 'support'?)"),
        (
            "priority: normal",
            "priority: urgnet",
            "5: unknown priority 'urgnet' (did you mean 'urgent'?)",
        ),
        (
            "category: billing",
            "category: biling",
            "6: unknown category 'biling' (did you mean 'billing'?)",
        ),
        (
            "to: engineering",
            "to: enginering",
            "18: escalation 2: unknown team 'enginering' (did you mean 'engineering'?)",
        ),
    ],
)
def test_a_misspelt_name_in_a_ticket_gets_did_you_mean(
    config: Config, old: str, new: str, finding: str
) -> None:
    """What the configuration lacks, said as every misspelling is (issue 14)."""
    [found] = problems(doc({old: new}), config)
    assert found.startswith(f"tickets/T-aaaa0001.md:{finding}"), found
