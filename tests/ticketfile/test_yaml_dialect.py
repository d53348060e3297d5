"""One YAML dialect, YAML 1.2, for every file esc reads: a scalar means the same in a
ticket (read fast or by the YAML library), in teams.yaml and in rules.yaml."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest

from esc.ticketfile import document
from esc.ticketfile.yaml_text import load_with_lines
from tests.conftest import Esc

SCALARS = [
    "yes", "no", "on", "off", "y", "~", "null", "Null", "010", "0o10", "0x1f", "1e3", ".inf",
    "2026-01-01", "12:30", "2026-01-01 12:30", '"quoted"', "true", "False", "-7",
    "2026-11-20T10:00:00+01:00", "!!str 010", "!!str yes", "!!int \"012\"", "!!float 1",
]  # fmt: skip

TICKET = """---
id: T-0000dial
title: Dialect
status: open
priority: normal
category: billing
team: support
assignee: null
customer: c@shop.example
channel: email
created: 2026-11-20T09:00:00+01:00
updated: 2026-11-20T09:00:00+01:00
first_response_at: null
resolved_at: null
closed_at: null
tags: []
impact: null
urgency: null
csat: null
escalations: []
{extra}
---
Body.

## Conversation

## Activity

- 2026-11-20T09:00:00+01:00 · alice · created
"""


def plain(value: Any) -> Any:
    """A value with ruamel.yaml's round-trip subclasses turned into the plain type."""
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, dt.datetime):  # (ruamel.yaml's TimeStamp is one)
        return dt.datetime.fromisoformat(value.isoformat())
    return value


def same(a: Any, b: Any) -> bool:
    a, b = plain(a), plain(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("text", SCALARS)
def test_a_scalar_means_the_same_in_every_file(text: str) -> None:
    fast = document.parse(TICKET.format(extra=f"x: {text}"), "t.md").data["x"]
    # a comment sends the front-matter to the YAML library instead of the fast reader
    slow = document.parse(TICKET.format(extra=f"# hand-written\nx: {text}"), "t.md").data["x"]
    rule = load_with_lines(f"rules:\n  - name: r\n    when: {{x: {text}}}\n")["rules"][0]
    rules = rule["when"]["x"]
    teams = load_with_lines(f"teams:\n  support:\n    x: {text}\n")["teams"]["support"]["x"]
    assert same(fast, slow), (fast, slow)
    assert same(fast, rules), (fast, rules)
    assert same(fast, teams), (fast, teams)


def test_yaml_1_2_values() -> None:
    values = {
        text: document.parse(TICKET.format(extra=f"x: {text}"), "t.md").data["x"]
        for text in SCALARS
    }
    assert values["yes"] == "yes" and values["no"] == "no" and values["on"] == "on"
    assert values["010"] == 10 and values["0o10"] == 8 and values["1e3"] == 1000.0
    assert values["~"] is None and values["true"] is True and values["12:30"] == "12:30"
    assert values['"quoted"'] == "quoted" and values["2026-01-01"] == dt.date(2026, 1, 1)


RULES = """
  - name: vip-tagged
    when: {vip: yes}
    then: {tag: vip-seen}
  - name: code-tagged
    when: {code: 010}
    then: {tag: code-ten}
"""


def test_a_rule_on_yes_matches_a_ticket_with_yes(workspace: Path) -> None:
    """`when: {vip: yes}` never matched `vip: yes` while tickets were read as YAML 1.1."""
    rules = workspace / "rules.yaml"
    declared = "fields: [vip, code]\n"  # (custom fields a rule reads are declared)
    rules.write_text(declared + rules.read_text(encoding="utf-8") + RULES)  # (ends in rules:)
    ticket = workspace / "tickets" / "T-0000dial.md"
    ticket.write_text(TICKET.format(extra="vip: yes\ncode: 010"), encoding="utf-8")
    esc = Esc(workspace, now="2026-11-20T10:00:00+01:00")
    explained = esc.ok("explain", "T-0000dial")
    assert "vip-tagged" in explained and "vip is true" not in explained
    esc.ok("sweep", "--no-report")
    tags = document.parse(ticket.read_text(encoding="utf-8"), "t").ticket.tags
    assert set(tags) == {"vip-seen", "code-ten"}


def test_a_text_field_that_yaml_reads_as_another_scalar_shows_as_written() -> None:
    """`title: true` showed as Python's `True`; a time as Python prints one."""
    text = TICKET.format(extra="").replace("title: Dialect", "title: true")
    text = text.replace("customer: c@shop.example", "customer: 2026-11-20T09:00:00+01:00")
    ticket = document.parse(text, "t.md").ticket
    assert (ticket.title, ticket.customer) == ("true", "2026-11-20T09:00:00+01:00")


def test_an_article_s_tags_read_as_a_ticket_s(esc: Esc, workspace: Path) -> None:
    """`tags: [on, 010]` in an article was taken as the words "on" and "10", while in a
    ticket 010 (a number) is a finding: the article's front-matter reads as a ticket's."""
    (workspace / "kb").mkdir(exist_ok=True)
    (workspace / "kb" / "KB-0001.md").write_text(
        "---\nid: KB-0001\ntitle: Refunds\ncategories: [refund]\ntags: [on, 010]\n"
        "updated: 2026-11-01\n---\n\nHow refunds work.\n",
        encoding="utf-8",
    )
    result = esc("validate")
    assert result.code == 1
    assert "kb/KB-0001.md:5: tags must be a list of words, like [billing, refund]\n" in result.err


@pytest.mark.parametrize(
    "text", ['"quoted"', "'single'", "1.5", "0x1f", "1_000", "|\n      block\n", "!!str 010"]
)
def test_teams_and_rules_values_are_plain_types(text: str) -> None:
    """A quoted policy name (`name: "standard"`) came back as ruamel's str subclass, which
    the cache's marshal refused: `esc list` and `check` exited 3 (a bug) on a fresh clone."""
    value = load_with_lines(f"sla:\n  - name: {text}\n")["sla"][0]["name"]
    assert type(value) in (str, int, float)


def test_a_quoted_policy_name_is_the_name(esc: Esc, workspace: Path) -> None:
    rules = workspace / "rules.yaml"
    rules.write_text(rules.read_text().replace("  - name: standard", '  - name: "standard"'))
    ticket = esc.ok("create", "--title", "t", "--category", "billing", "--body", "b").strip()
    for command in (("list",), ("check",), ("list", "--json"), ("sweep", "--no-report")):
        esc.ok(*command)
    assert "  policy: standard\n" in (workspace / "tickets" / f"{ticket}.md").read_text()


@pytest.mark.parametrize("version", ["1.1", "1.0", ""])
def test_a_yaml_directive_of_another_version_is_refused_at_its_line(
    esc: Esc, workspace: Path, version: str
) -> None:
    """`%YAML 1.1` made that one file read `yes` as true and `010` as 8."""
    rules = workspace / "rules.yaml"
    rules.write_text(f"# rules\n%YAML {version}\n---\n" + rules.read_text())
    result = esc("validate")
    assert result.code == 1
    assert f"rules.yaml:2: does not parse: %YAML {version}: esc reads every file as YAML 1.2" in (
        result.out + result.err
    )
    rules.write_text(rules.read_text().replace(f"%YAML {version}", "%YAML 1.2"))
    assert esc("validate").code == 0
