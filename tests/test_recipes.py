"""The README's crontab line and GitHub Actions workflow, run as written in a real git repo."""

from __future__ import annotations

import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.conftest import ESC, REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
CREATED = "2026-11-20T09:00:00+01:00"
LATE = "2026-11-23T12:00:00+01:00"


def block(language: str, containing: str = "") -> str:
    """The ``language`` code block of the README's cron and CI section holding ``containing``."""
    section = README.split("## Running esc from cron and CI", 1)[1].split("\n## ", 1)[0]
    found = [b for b in re.findall(rf"```{language}\n(.*?)\n```", section, re.S) if containing in b]
    assert len(found) == 1, f"expected one {language} block with {containing!r}"
    return str(found[0])


def run(cwd: Path, command: str, now: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    env.update(ESC_NOW=now, PATH=f"{Path(ESC).parent}:{os.environ['PATH']}")
    if "git config user.name" not in command:  # the workflow sets its identity; cron has one
        env.update(
            GIT_AUTHOR_NAME="cron",
            GIT_AUTHOR_EMAIL="cron@example.com",
            GIT_COMMITTER_NAME="cron",
            GIT_COMMITTER_EMAIL="cron@example.com",
        )
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def helpdesk(tmp_path: Path) -> tuple[Path, Path]:
    """A bare remote holding a workspace with one ticket, and a clone of it."""
    seed = tmp_path / "seed"
    subprocess.run([ESC, "init", str(seed)], check=True, capture_output=True)
    subprocess.run(
        [
            ESC,
            "--root",
            str(seed),
            "--now",
            CREATED,
            "create",
            "--title",
            "Nobody answered",
            "--category",
            "billing",
        ],
        check=True,
        capture_output=True,
    )
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "helpdesk")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    return remote, clone


def cron_command(clone: Path) -> str:
    line = block("crontab")
    schedule, command = line.split(" ", 5)[:5], line.split(" ", 5)[5]
    assert schedule == ["*/5", "*", "*", "*", "*"]
    return command.replace("cd /srv/helpdesk", f"cd {clone}")


def test_crontab_line_sweeps_commits_and_pushes(tmp_path: Path) -> None:
    remote, clone = helpdesk(tmp_path)
    result = run(clone, cron_command(clone), LATE)
    assert result.returncode == 0, result.stderr
    log = git(remote, "log", "--format=%s", "main")
    assert log.splitlines()[0] == "esc sweep: 1 ticket updated"
    assert "pushed" in result.stdout
    # the next run finds nothing to do: no new commit
    result = run(clone, cron_command(clone), LATE)
    assert result.returncode == 0, result.stderr
    assert git(remote, "log", "--format=%s", "main") == log


def test_two_clones_race_to_sweep_and_push(tmp_path: Path) -> None:
    remote, first = helpdesk(tmp_path)
    second = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(remote), str(second))
    # each clone also has work of its own, committed, that the other has not seen
    for clone, title in ((first, "From the first clone"), (second, "From the second clone")):
        subprocess.run(
            [
                ESC,
                "--root",
                str(clone),
                "--now",
                CREATED,
                "create",
                "--title",
                title,
                "--category",
                "bug",
            ],
            check=True,
            capture_output=True,
        )
        git(clone, "add", "-A")
        git(clone, "commit", "-qm", title)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: run(c, cron_command(c), LATE), (first, second)))
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    check = tmp_path / "check"
    git(tmp_path, "clone", "-q", str(remote), str(check))
    titles = {t["title"] for t in json.loads(run(check, "esc list --all --json", LATE).stdout)}
    assert titles == {"Nobody answered", "From the first clone", "From the second clone"}
    assert run(check, "esc validate", LATE).returncode == 0
    # everything is swept: another sweep there changes nothing
    assert run(check, "esc sweep --no-report", LATE).stdout.startswith("3 tickets seen, 0 changed")
    assert git(check, "status", "--porcelain") == ""


def test_pre_commit_hook_and_gitlab_ci_examples(tmp_path: Path) -> None:
    hook = yaml.safe_load(block("yaml", "id: esc-validate"))["repos"][0]["hooks"][0]
    _, clone = helpdesk(tmp_path)
    assert run(clone, hook["entry"], LATE).returncode == 0
    (clone / "tickets" / "T-broken00.md").write_text("---\ntitle: [\n---\n")
    assert run(clone, hook["entry"], LATE).returncode == 1
    gitlab = yaml.safe_load(block("yaml", "sweep:\n  image:"))
    assert "esc sweep --commit --push" in gitlab["sweep"]["script"]
    assert "esc validate" in gitlab["check"]["script"]


def workflow_steps(job: str) -> list[str]:
    workflow = yaml.safe_load(block("yaml", "name: helpdesk").replace("\non:", '\n"on":'))
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


def test_workflow_pull_request_job_judges_the_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pull request job fails for the tickets it touches, not for the clock."""
    _, clone = helpdesk(tmp_path)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    steps = [s.replace("${{ github.base_ref }}", "main") for s in workflow_steps("check")]
    validate, plan, check = steps
    git(clone, "switch", "-qc", "pr")
    run(clone, 'esc create --title "Brand new" --category bug', LATE)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "a new ticket")
    assert run(clone, "esc check", LATE).returncode == 1  # the scheduled alarm: one is overdue
    for step in (validate, plan, check):
        result = run(clone, step, LATE)
        assert result.returncode == 0, (step, result.stderr)
    text = summary.read_text()
    assert text.startswith("### esc plan: this change compared with `origin/main`")
    assert "tickets: 1 added" in text
    # a pull request that touches the overdue ticket fails, with an annotation on it
    [overdue] = [p.name for p in (clone / "tickets").glob("T-*.md")
                 if "Nobody answered" in p.read_text()]  # fmt: skip
    run(clone, f"esc comment {overdue[:-3]} --internal -m 'still looking'", LATE)
    result = run(clone, check, LATE)
    assert result.returncode == 1
    assert result.stdout.startswith(f"::error file=tickets/{overdue},line=1")
