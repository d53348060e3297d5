"""How git, cron and CI run this esc (esc.store.launch): by absolute path, shell-quoted, with
Python's -P so that nothing in the current folder is imported instead of esc."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from esc.store.launch import (
    CRON_SCHEDULE,
    SAFE_PATH,
    console_script,
    crontab_line,
    esc_command,
    interpreter,
    merge_driver_command,
    python_command,
)

SAFE = " -P" if sys.version_info >= (3, 11) else ""


@pytest.fixture
def venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A venv's bin folder (its path with a space) whose python runs esc; no esc script yet."""
    folder = tmp_path / "my venv" / "bin"
    folder.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(folder / "python"))
    return folder


def install_script(folder: Path, mode: int = 0o755) -> Path:
    script = folder / "esc"
    script.write_text("#!/bin/sh\n")
    script.chmod(mode)
    return script


def cron_words(line: str) -> list[str]:
    """The words a shell makes of a crontab line's command (cron first turns ``\\%`` into
    ``%``)."""
    assert line.startswith(CRON_SCHEDULE + " ")
    command = line[len(CRON_SCHEDULE) + 1 :]
    assert "%" not in command.replace("\\%", "")  # every % escaped: none ends the command
    return shlex.split(command.replace("\\%", "%"), posix=True)


# ---------------------------------------------------------------- the interpreter


def test_the_interpreter_is_the_running_python_by_absolute_path() -> None:
    assert interpreter() == os.path.abspath(sys.executable)
    assert os.path.isabs(interpreter())


def test_the_interpreter_path_is_made_absolute_but_not_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "python3.11"
    real.write_text("")
    link = tmp_path / "venv-python"
    link.symlink_to(real)
    monkeypatch.setattr(sys, "executable", str(link))
    assert interpreter() == str(link)  # (a venv's bin/python, a symlink, keeps the venv)
    monkeypatch.setattr(sys, "executable", os.path.relpath(link))  # (relative to the cwd)
    assert interpreter() == str(link)


def test_without_a_known_interpreter_python3_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "")
    assert interpreter() == "python3"
    assert python_command("--version") == f"python3{SAFE} -m esc --version"


# ---------------------------------------------------------------- command lines


def test_python_command_quotes_the_path_and_leaves_the_arguments_as_they_are(
    venv: Path,
) -> None:
    command = python_command("merge-file", "%O", "%A")
    assert command == f"'{venv}/python'{SAFE} -m esc merge-file %O %A"
    words = shlex.split(command)
    assert words[0] == str(venv / "python")  # one word, space and all


def test_a_plain_path_is_not_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/opt/esc/bin/python")
    assert python_command() == f"/opt/esc/bin/python{SAFE} -m esc"


def test_a_path_with_a_quote_survives_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = tmp_path / "it's $HOME; rm -rf" / "python"
    monkeypatch.setattr(sys, "executable", str(odd))
    assert shlex.split(python_command("sweep"))[:1] == [str(odd)]
    assert shlex.split(python_command("sweep"))[-3:] == ["-m", "esc", "sweep"]


def test_the_merge_driver_command_hands_git_its_placeholders(venv: Path) -> None:
    assert merge_driver_command() == (f"'{venv}/python'{SAFE} -m esc merge-file %O %A %B %P")


def test_a_percent_in_the_interpreter_s_path_reaches_git_as_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A venv in a folder named `v%P`: git read the path's `%P` as the ticket's path, ran a
    python that is not there, and every merge failed (audit helper-429).  Written `%%`,
    which git reads as one `%`; its own placeholders stay."""
    monkeypatch.setattr(sys, "executable", str(tmp_path / "v%P" / "bin" / "python"))
    assert merge_driver_command() == (
        f"{tmp_path}/v%%P/bin/python{SAFE} -m esc merge-file %O %A %B %P"
    )


# ---------------------------------------------------------------- the esc script


def test_no_console_script_beside_the_interpreter(venv: Path) -> None:
    assert console_script() is None
    assert esc_command() == python_command()


def test_the_console_script_beside_the_interpreter_is_preferred(venv: Path) -> None:
    script = install_script(venv)
    assert console_script() == script
    assert esc_command() == shlex.quote(str(script))
    assert shlex.split(esc_command()) == [str(script)]


def test_a_script_that_cannot_run_is_not_used(venv: Path) -> None:
    install_script(venv, mode=0o644)
    assert console_script() is None
    assert esc_command() == python_command()


def test_a_folder_named_esc_is_no_script(venv: Path) -> None:
    (venv / "esc").mkdir()
    assert console_script() is None


# ---------------------------------------------------------------- crontab


def test_the_crontab_line_sweeps_in_the_workspace(venv: Path, tmp_path: Path) -> None:
    script = install_script(venv)
    root = tmp_path / "help desk"
    line = crontab_line(root)
    assert line == f"*/5 * * * * cd '{root}' && '{script}' sweep --commit --push >/dev/null"
    assert cron_words(line) == [
        "cd", str(root), "&&", str(script), "sweep", "--commit", "--push", ">/dev/null"
    ]  # fmt: skip


def test_the_crontab_line_runs_intake_then_the_sweep_whatever_intake_exits(
    venv: Path, tmp_path: Path
) -> None:
    root, maildir = tmp_path / "ws", tmp_path / "Mail" / "support inbox"
    line = crontab_line(root, maildir)
    esc = python_command()
    assert line == (
        f"*/5 * * * * cd {root} && {{ {esc} intake --maildir '{maildir}'; "
        f"{esc} sweep --commit --push; }} >/dev/null"
    )
    python = str(venv / "python")
    assert cron_words(line) == [
        "cd", str(root), "&&", "{",
        python, *SAFE_PATH, "-m", "esc", "intake", "--maildir", str(maildir) + ";",
        python, *SAFE_PATH, "-m", "esc", "sweep", "--commit", "--push;", "}", ">/dev/null",
    ]  # fmt: skip


def test_a_percent_sign_in_a_path_is_escaped_for_cron(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "100%" / "python"))
    root, maildir = tmp_path / "50%off", tmp_path / "mail%box"
    line = crontab_line(root, maildir)
    assert "50\\%off" in line and "mail\\%box" in line and "100\\%" in line
    words = cron_words(line)
    assert words[1] == str(root)
    assert str(maildir) + ";" in words
    assert str(tmp_path / "100%" / "python") in words
