"""Every command has help and is documented in the README."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from esc.cli.main import cli
from tests.conftest import ESC, REPO, run_in_process

README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name: str, tmp_path: Path) -> None:
    result = run_in_process([name, "--help"], tmp_path)
    assert result.code == 0
    assert result.out.startswith(f"Usage: esc {name}")
    summary = result.out.split("\n\n")[1].strip()
    assert len(summary) > 15, f"esc {name} has no real help text"


def test_the_installed_command_lists_every_command() -> None:
    result = subprocess.run([ESC, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    listed = result.stdout.split("Commands:", 1)[1]
    assert all(re.search(rf"^  {re.escape(name)}\b", listed, re.M) for name in COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_readme(name: str) -> None:
    assert f"`esc {name}" in README, f"esc {name} is not documented in README.md"


def _leaf_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command a user runs, with its name (``kb new``: a group's commands too)."""
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _leaf_commands(command, f"{prefix}{name} ")
        else:
            found.append((f"{prefix}{name}", command))
    return found


LEAVES = _leaf_commands(cli)


def _section(name: str) -> tuple[str, str]:
    """The README's section of ``esc NAME``: its synopsis and the text below it."""
    found = re.search(
        rf"^### esc {re.escape(name)}\n\n```text\n(esc {re.escape(name)}\b.*?)\n```\n(.*?)(?=^##)",
        README.split("## Commands", 1)[1],
        re.S | re.M,
    )
    assert found is not None, f"README's Commands has no section '### esc {name}' with its synopsis"
    return found[1], found[2]


@pytest.mark.parametrize("name", [name for name, _ in LEAVES])
def test_every_command_has_a_section_whose_synopsis_names_each_option(name: str) -> None:
    """--help and the README do not drift: each option is in the command's own synopsis
    (but --now and --root, which every command takes: the Commands section says so)."""
    synopsis, text = _section(name)
    assert text.strip(), f"esc {name}: the section says nothing"
    assert f"[`esc {name}`](#esc-{name.replace(' ', '-')})" in README, "not in the table"
    command = dict(LEAVES)[name]
    options = {
        opt
        for param in command.params
        for opt in [*param.opts, *param.secondary_opts]
        if opt.startswith("-") and opt not in ("-h", "--help", "--now", "--root")
    }
    named = set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", synopsis))  # (whole options only:
    # `--imap` is not `--imap-port`)
    assert not options - named, f"esc {name}: {sorted(options - named)} not in its synopsis"
    assert not named - options, f"esc {name}: {sorted(named - options)} in its synopsis only"


@pytest.mark.parametrize("name", [name for name, _ in LEAVES])
def test_the_readme_table_says_of_each_command_what_help_lists(name: str) -> None:
    """`esc --help` lists each command with the line the README's table gives it (there
    with its code in backticks), whole: not cut at 45 characters with "..."."""
    row = re.search(rf"^\| \[`esc {re.escape(name)}`\]\(#[\w-]+\) \| (.+) \|$", README, re.M)
    assert row is not None, f"esc {name} has no row in README's table of commands"
    assert dict(LEAVES)[name].short_help == row[1].replace("`", "")


def test_readme_starts_with_the_two_quick_start_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert "pip install . && esc list" in blocks[0]
    assert "pip install -e '.[test]' && pytest" in blocks[1]
    ci = (REPO / ".ci" / "run").read_text()
    assert "pip install -q -e '.[test]'" in ci and "pytest" in ci


def test_exit_codes_are_documented() -> None:
    from esc.domain import errors

    table = README.split("## Exit codes", 1)[1].split("##", 1)[0]
    for code in (errors.EXIT_OK, errors.EXIT_ERROR, errors.EXIT_USAGE, errors.EXIT_BUG):
        assert f"| {code} |" in table


def test_the_readme_s_teams_yaml_and_rules_yaml_validate_together(tmp_path: Path) -> None:
    """The file formats' examples are files a user may start from: together they load."""
    def blocks(section: str) -> list[str]:
        text = README.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        return list(re.findall(r"```yaml\n(.*?)\n```", text, re.S))

    (teams,) = blocks("teams.yaml")
    rules = blocks("rules.yaml")
    assert len(rules) >= 2  # (the settings, then the calendars, policies and rules)
    (tmp_path / "tickets").mkdir()
    (tmp_path / "teams.yaml").write_text(teams + "\n", encoding="utf-8")
    (tmp_path / "rules.yaml").write_text("\n".join(rules) + "\n", encoding="utf-8")
    result = run_in_process(["validate"], tmp_path)
    assert (result.code, result.err) == (0, "ok: teams.yaml, rules.yaml and 0 tickets\n")
