"""The README's crontab line and GitHub Actions workflow, run as written in a real git repo."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from tests.conftest import ESC, REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
CREATED = "2026-11-20T09:00:00+01:00"
LATE = "2026-11-23T12:00:00+01:00"


def block(language: str) -> str:
    """The one ``language`` code block of the README's cron and CI section."""
    section = README.split("## Running esc from cron and CI", 1)[1].split("\n## ", 1)[0]
    [found] = re.findall(rf"```{language}\n(.*?)\n```", section, re.S)
    return str(found)


def run(cwd: Path, command: str, now: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    env.update(ESC_NOW=now, PATH=f"{Path(ESC).parent}:{os.environ['PATH']}")
    if "git config user.name" not in command:  # the workflow sets its identity; cron has one
        env.update(GIT_AUTHOR_NAME="cron", GIT_AUTHOR_EMAIL="cron@example.com",
                   GIT_COMMITTER_NAME="cron", GIT_COMMITTER_EMAIL="cron@example.com")
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def helpdesk(tmp_path: Path) -> tuple[Path, Path]:
    """A bare remote holding a workspace with one ticket, and a clone of it."""
    seed = tmp_path / "seed"
    subprocess.run([ESC, "init", str(seed)], check=True, capture_output=True)
    subprocess.run([ESC, "--root", str(seed), "--now", CREATED, "create", "--title",
                    "Nobody answered", "--category", "billing"], check=True, capture_output=True)
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "helpdesk")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    return remote, clone


def test_crontab_line_sweeps_commits_and_pushes(tmp_path: Path) -> None:
    remote, clone = helpdesk(tmp_path)
    line = block("crontab")
    schedule, command = line.split(" ", 5)[:5], line.split(" ", 5)[5]
    assert schedule == ["*/5", "*", "*", "*", "*"]
    command = command.replace("cd /srv/helpdesk", f"cd {clone}")
    result = run(clone, command, LATE)
    assert result.returncode == 0, result.stderr
    log = git(remote, "log", "--format=%s", "main")
    assert log.splitlines()[0] == "esc sweep: 1 ticket updated"
    # the next run finds nothing to do: no new commit
    result = run(clone, command, LATE)
    assert result.returncode == 0, result.stderr
    assert git(remote, "log", "--format=%s", "main") == log


def workflow_steps(job: str) -> list[str]:
    workflow = yaml.safe_load(block("yaml").replace("\non:", '\n"on":'))
    steps = workflow["jobs"][job]["steps"]
    return [s["run"] for s in steps if "run" in s and not s["run"].startswith("pip install")]


def test_workflow_sweep_job(tmp_path: Path) -> None:
    remote, clone = helpdesk(tmp_path)
    for step in workflow_steps("sweep"):
        result = run(clone, step, LATE)
        assert result.returncode == 0, result.stderr
    assert git(remote, "log", "-1", "--format=%an %s", "main") == (
        "esc sweep esc sweep: 1 ticket updated\n"
    )


def test_workflow_check_job_fails_on_overdue_tickets(tmp_path: Path) -> None:
    _, clone = helpdesk(tmp_path)
    validate, check = workflow_steps("check")
    assert run(clone, validate, LATE).returncode == 0
    result = run(clone, check, LATE)
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=tickets/T-")
    assert run(clone, check, "2026-11-20T10:00:00+01:00").returncode == 0
