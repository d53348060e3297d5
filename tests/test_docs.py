"""Every command has help and is documented in the README."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

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


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_in_readme(name: str) -> None:
    command = cli.commands[name]
    documented = README.split("## Commands", 1)[1]
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in ("--help", "--now", "--json", "--by"):
                assert opt in documented, f"esc {name} {opt} is not in README's Commands"


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
