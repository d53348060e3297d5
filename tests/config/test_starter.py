"""The starter files (esc.config.starter): teams.yaml and rules.yaml parse and validate
cleanly and do what their comments say, .gitignore and .gitattributes do their job, and
`esc init` writes exactly these files, nothing more."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from esc.commands.session import Session
from esc.commands.setup import init
from esc.commands.validate import validate
from esc.config.loading import build_config
from esc.config.starter import GITATTRIBUTES, GITIGNORE, RULES_YAML, STARTER_FILES, TEAMS_YAML
from esc.domain.conditions import Facts
from esc.domain.config import Config
from esc.domain.errors import EscError
from esc.domain.routing import priority_from_matrix, route
from esc.domain.rules import loop_findings
from esc.store.merge_driver import routes_tickets
from esc.ticketfile import yaml_text


@pytest.fixture(scope="module")
def starter() -> Config:
    config, findings = build_config(TEAMS_YAML, RULES_YAML)
    assert [str(f) for f in findings] == []
    assert config is not None
    return config


def files_under(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# ---------------------------------------------------------------- the files themselves


def test_the_starter_files_are_these_five() -> None:
    assert set(STARTER_FILES) == {
        "teams.yaml",
        "rules.yaml",
        ".gitignore",
        ".gitattributes",
        "tickets/.gitkeep",
    }
    assert STARTER_FILES["teams.yaml"] == TEAMS_YAML
    assert STARTER_FILES["rules.yaml"] == RULES_YAML
    assert STARTER_FILES[".gitignore"] == GITIGNORE
    assert STARTER_FILES[".gitattributes"] == GITATTRIBUTES
    assert STARTER_FILES["tickets/.gitkeep"] == ""


@pytest.mark.parametrize("name", [n for n in STARTER_FILES if n != "tickets/.gitkeep"])
def test_each_file_is_whole_lines_of_plain_text(name: str) -> None:
    text = STARTER_FILES[name]
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\t" not in text and "\r" not in text
    assert all(line == line.rstrip() for line in text.splitlines())  # no trailing blanks


@pytest.mark.parametrize("text", [TEAMS_YAML, RULES_YAML], ids=["teams.yaml", "rules.yaml"])
def test_the_yaml_means_the_same_to_another_reader(text: str) -> None:
    """esc reads YAML 1.2 (ruamel.yaml); a user's tools may read 1.1 (PyYAML): the starter
    files hold nothing the two read differently (yes/no, 09:00 as a number, ...)."""
    import yaml

    ours = json.dumps(yaml_text.load(text), sort_keys=True, default=str)
    theirs = json.dumps(yaml.safe_load(text), sort_keys=True, default=str)
    assert ours == theirs


# ---------------------------------------------------------------- teams.yaml and rules.yaml


def test_the_starter_configuration_has_no_findings() -> None:
    config, findings = build_config(TEAMS_YAML, RULES_YAML)
    assert findings == []
    assert config is not None


def test_the_chain_goes_support_engineering_management(starter: Config) -> None:
    chain = [starter.intake]
    while (up := starter.teams[chain[-1]].escalates_to) is not None:
        chain.append(up)
    assert chain == ["support", "engineering", "management"]
    assert [starter.level(team) for team in chain] == [1, 2, 3]
    assert list(starter.teams) == chain  # no team outside the chain


def test_the_support_lead_is_carol(starter: Config) -> None:
    """teams.yaml: "a rule's `assign: lead` assigns to carol"."""
    assert starter.teams["support"].lead == "carol"
    assert "carol" in starter.teams["support"].people


def test_every_category_reaches_a_team_that_handles_it(starter: Config) -> None:
    assert starter.categories == ("billing", "account", "how-to", "refund", "bug", "outage", "data")
    where = {c: route(starter, Facts(fields={"category": c}))[0] for c in starter.categories}
    assert where == {
        "billing": "support",
        "account": "support",
        "how-to": "support",
        "refund": "support",
        "bug": "engineering",
        "outage": "engineering",  # by the routing rule
        "data": "engineering",
    }
    assert route(starter, Facts(fields={"category": "outage"}))[1] == "routing rule 1"
    assert route(starter, Facts(fields={"category": None}))[0] == "support"  # intake


def test_the_priority_matrix_gives_only_configured_priorities(starter: Config) -> None:
    assert starter.impact_levels == starter.urgency_levels == ("high", "medium", "low")
    given = {
        (impact, urgency): priority_from_matrix(starter, impact, urgency)
        for impact in starter.impact_levels
        for urgency in starter.urgency_levels
    }
    assert set(given.values()) == set(starter.priorities)
    assert given[("high", "high")] == "urgent" and given[("low", "low")] == "low"


def test_the_id_prefix_and_priorities(starter: Config) -> None:
    assert starter.id_prefix == "T"
    assert starter.priorities == ("low", "normal", "high", "urgent")
    assert starter.default_priority == "normal"


def test_urgent_tickets_run_on_the_clock_the_rest_on_office_hours(starter: Config) -> None:
    urgent, standard = starter.policies
    assert (urgent.name, urgent.calendar.name, urgent.calendar.timezone) == (
        "urgent",
        "always",
        "UTC",
    )
    assert (standard.name, standard.calendar.name, standard.calendar.timezone) == (
        "standard",
        "office",
        "Europe/Berlin",
    )
    assert urgent.when.matches(Facts(fields={"priority": "urgent"}))
    assert not urgent.when.matches(Facts(fields={"priority": "high"}))
    assert standard.pause_on == ("pending",)


def test_the_starter_rules_are_ready_and_do_not_loop(starter: Config) -> None:
    assert [rule.name for rule in starter.automation] == ["breached-goes-up", "outage-is-urgent"]
    assert loop_findings(starter.automation) == []
    breached = starter.automation[0]
    late = {"first_response": "met", "resolution": "breached"}
    assert breached.when.matches(Facts(fields={"level": 2}, sla=late))
    assert not breached.when.matches(Facts(fields={"level": 3}, sla=late))  # the top
    assert not breached.when.matches(Facts(fields={"level": 1}, sla={"resolution": "warning"}))


def test_the_commented_fields_example_works_when_uncommented() -> None:
    rules = RULES_YAML.replace("# fields: [vip, region]", "fields: [vip, region]")
    assert rules != RULES_YAML
    config, findings = build_config(TEAMS_YAML, rules)
    assert findings == [] and config is not None
    assert config.fields == ("vip", "region")


# ---------------------------------------------------------------- .gitignore and .gitattributes


def test_gitignore_leaves_the_cache_and_reports_out_of_git() -> None:
    patterns = [line for line in GITIGNORE.splitlines() if line and not line.startswith("#")]
    assert patterns == [".esc-cache/", "reports/", "quarantine/", ".*.tmp"]


def test_gitattributes_sends_tickets_to_escs_merge_driver() -> None:
    assert routes_tickets(GITATTRIBUTES)
    lines = [line for line in GITATTRIBUTES.splitlines() if not line.startswith("#")]
    assert lines == ["tickets/*.md merge=esc"]


# ---------------------------------------------------------------- esc init


def test_init_writes_exactly_the_starter_files(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    output = init(str(root), force=False)
    assert output.code == 0
    assert output.text == f"esc workspace ready in {root.resolve()}\n"
    written = files_under(root)
    # (and, in the git-ignored cache, the configuration it began with: a sweep's tickets
    # without an `sla:` block were then never swept, see esc.store.config_versions)
    [kept] = [name for name in written if name.startswith(".esc-cache/")]
    assert kept.startswith(".esc-cache/configs/") and ".esc-cache/" in STARTER_FILES[".gitignore"]
    del written[kept]
    assert written == {name: text.encode() for name, text in STARTER_FILES.items()}
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [".esc-cache", "tickets"]


def test_init_outside_git_says_how_to_register_the_merge_driver(tmp_path: Path) -> None:
    output = init(str(tmp_path / "desk"), force=False)
    assert output.notes == [
        "not in a git repository: after `git init`, run `esc install-git` to register "
        "esc's merge driver for tickets"
    ]


def test_a_fresh_workspace_validates(tmp_path: Path) -> None:
    init(str(tmp_path / "desk"), force=False)
    output = validate(Session(root_option=str(tmp_path / "desk")))
    assert (output.code, output.notes) == (0, ["ok: teams.yaml, rules.yaml and 0 tickets"])


def test_init_keeps_an_existing_gitattributes_and_adds_the_line(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    root.mkdir()
    (root / ".gitattributes").write_text("*.png binary\n", encoding="utf-8")
    init(str(root), force=False)
    assert (root / ".gitattributes").read_text(encoding="utf-8") == "*.png binary\n" + GITATTRIBUTES


def test_init_keeps_an_existing_gitignore_and_adds_what_it_lacks(tmp_path: Path) -> None:
    """A repository's own .gitignore is kept, line for line (CRLF too): esc's entries it
    lacks are added at its end, one it has (written its own way) is not added twice, and
    `--force` never replaces it."""
    root = tmp_path / "desk"
    root.mkdir()
    (root / ".gitignore").write_bytes(b"node_modules/\r\n/.esc-cache\r\n")
    init(str(root), force=False)
    text = (root / ".gitignore").read_bytes().decode()
    assert text.startswith("node_modules/\r\n/.esc-cache\r\n# the reports")
    assert ".esc-cache/" not in text and "\r\nreports/\r\n" in text
    assert text.endswith("\r\nquarantine/\r\n# what a write killed part-way leaves beside its "
                         "file (.NAME.PID-RANDOM.tmp): never committed\r\n.*.tmp\r\n")  # fmt: skip
    assert "\n" not in text.replace("\r\n", "")
    assert init(str(root), force=True).code == 0
    assert (root / ".gitignore").read_bytes().decode() == text  # (it has them all now)


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    init(str(root), force=False)
    (root / "teams.yaml").write_text("intake: mine\n", encoding="utf-8")
    (root / ".gitignore").unlink()
    before = files_under(root)
    with pytest.raises(EscError) as caught:
        init(str(root), force=False)
    assert str(caught.value) == (
        f"teams.yaml, rules.yaml, tickets/.gitkeep already exist in {root}; "
        "use --force to overwrite"
    )
    assert files_under(root) == before  # not even the missing .gitignore


def test_init_force_writes_the_starter_files_again(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    init(str(root), force=False)
    (root / "rules.yaml").write_text("priorities: [p1]\n", encoding="utf-8")
    (root / "tickets" / "T-4k8q2m7x.md").write_text("a ticket\n", encoding="utf-8")
    (root / ".gitattributes").write_text("tickets/*.md merge=esc\n*.pdf binary\n", "utf-8")
    assert init(str(root), force=True).code == 0
    written = files_under(root)
    assert written["rules.yaml"] == RULES_YAML.encode()
    assert written["tickets/T-4k8q2m7x.md"] == b"a ticket\n"  # tickets are not starter files
    assert written[".gitattributes"] == b"tickets/*.md merge=esc\n*.pdf binary\n"  # kept
