"""The README's recipes run as written: its crontab line and GitHub Actions workflow in a
real git repo, and its other shell blocks on the demo workspace or an empty folder."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests import mail_corpus as corpus
from tests.conftest import ESC, REPO, Esc

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


# The paths of the README's crontab line, which it says to replace: the clone's folder,
# and esc's absolute path (`esc doctor` prints the line with both filled in).
README_CLONE = "/srv/helpdesk"
README_ESC = "/srv/helpdesk/.venv/bin/esc"
README_MAILDIR = "/var/mail/helpdesk/Maildir"
CRON_PATH = "/usr/bin:/bin"


def crontab_line() -> tuple[str, str]:
    """The README's crontab line: (its schedule, its command)."""
    line = block("crontab")
    fields = line.split(" ", 5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    return " ".join(fields[:5]), fields[5]


def doctor(clone: Path) -> dict[str, object]:
    report = json.loads(Esc(clone)("doctor", "--json", "--maildir", str(maildir_of(clone))).out)
    assert isinstance(report, dict)
    return report


def maildir_of(clone: Path) -> Path:
    """The Maildir the clone's mail is delivered to (beside the clone; made empty)."""
    folder = clone.parent / f"{clone.name}-Maildir"
    if not folder.exists():
        corpus.maildir(folder)
    return folder


def cron_command(clone: Path) -> str:
    """The README's crontab command with its paths replaced as the README says."""
    _, command = crontab_line()
    assert command.startswith(f"cd {README_CLONE} && {{ {README_ESC} intake --maildir ")
    esc = doctor(clone)["esc"]
    assert isinstance(esc, str) and os.path.isabs(esc)
    command = command.replace(README_MAILDIR, str(maildir_of(clone)))
    return command.replace(README_ESC, esc).replace(README_CLONE, str(clone))


def cron_home(tmp_path: Path) -> Path:
    """The home of the user cron runs the line as: a git identity in ~/.gitconfig."""
    home = tmp_path / "cron-home"
    if not home.exists():
        home.mkdir()
        (home / ".gitconfig").write_text("[user]\n\tname = cron\n\temail = cron@example.com\n")
    return home


def cron(command: str, now: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``command`` as cron runs it: ``env -i`` with cron's PATH and HOME, from HOME. Also
    ESC_NOW (the tests never read the clock) and, where this checkout is not installed but
    run through PYTHONPATH (a development setup), that PYTHONPATH."""
    env = [f"PATH={CRON_PATH}", f"HOME={home}", f"ESC_NOW={now}"]
    if os.environ.get("PYTHONPATH"):
        env.append(f"PYTHONPATH={os.environ['PYTHONPATH']}")
    return subprocess.run(
        ["env", "-i", *env, "sh", "-c", command],
        cwd=home, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_doctor_prints_the_readme_crontab_line_for_this_clone(tmp_path: Path) -> None:
    _, clone = helpdesk(tmp_path)
    schedule, _ = crontab_line()
    assert doctor(clone)["crontab"] == f"{schedule} {cron_command(clone)}"


def test_crontab_line_sweeps_commits_and_pushes(tmp_path: Path) -> None:
    remote, clone = helpdesk(tmp_path)
    home = cron_home(tmp_path)
    if shutil.which("esc", path=CRON_PATH) is None:  # as on most machines: issue 15, item 6
        plain = cron(f"cd {clone} && esc sweep --commit --push", LATE, home)
        assert plain.returncode == 127 and "esc: not found" in plain.stderr
    corpus.maildir(maildir_of(clone), corpus.message(date="Mon, 23 Nov 2026 11:50:00 +0100"))
    result = cron(cron_command(clone), LATE, home)
    assert result.returncode == 0, result.stderr
    log = git(remote, "log", "--format=%an: %s", "main")
    assert log.splitlines()[0] == "cron: esc sweep: 2 tickets updated"
    # cron mails what a job prints: not the summaries (to /dev/null), only what needs a
    # person, here that the clone has no merge driver (once from intake, once the sweep)
    warning = "esc: warning: this clone has no merge driver for tickets (run esc install-git)\n"
    assert (result.stdout, result.stderr) == ("", warning * 2)
    titles = git(remote, "grep", "-h", "^title:", "main", "--", "tickets").splitlines()
    assert sorted(titles) == ["title: Checkout returns 500", "title: Nobody answered"]
    # the next run finds nothing to do: no new commit; with the driver, nothing to mail
    assert run(clone, "esc install-git", LATE).returncode == 0
    result = cron(cron_command(clone), LATE, home)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert git(remote, "log", "--format=%an: %s", "main") == log


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
    home = cron_home(tmp_path)
    commands = [cron_command(first), cron_command(second)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: cron(c, LATE, home), commands))
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
    assert "esc validate || failed=1" in gitlab["check"]["script"]


def test_gitlab_merge_request_job_writes_its_reports_when_validate_fails(tmp_path: Path) -> None:
    """GitLab runs a job's `script:` lines in one shell and stops at the first that fails:
    with `esc validate` failing, the plan and the JUnit report were never written (issue
    15's audit). Run as GitLab runs it, every report is written and the job fails."""
    _, clone = helpdesk(tmp_path)
    base = git(clone, "rev-parse", "HEAD").strip()
    (clone / "tickets" / "T-broken00.md").write_text("---\ntitle: [\n---\n")
    gitlab = yaml.safe_load(block("yaml", "sweep:\n  image:"))
    lines = [line for line in gitlab["check"]["script"] if not line.startswith("pip install")]
    script = f"CI_MERGE_REQUEST_DIFF_BASE_SHA={base}\n" + "\n".join(lines)
    result = run(clone, script, LATE)
    assert result.returncode == 1, result.stderr
    assert "T-broken00" in (clone / "esc-check.xml").read_text()
    assert (clone / "esc-plan.md").read_text().strip()
    (clone / "tickets" / "T-broken00.md").unlink()
    assert run(clone, script, LATE).returncode == 0


def workflow() -> dict[str, object]:
    loaded = yaml.safe_load(block("yaml", "name: helpdesk").replace("\non:", '\n"on":'))
    assert isinstance(loaded, dict)
    return loaded


def workflow_steps(job: str) -> list[str]:
    steps = workflow()["jobs"][job]["steps"]  # type: ignore[index]
    return [s["run"] for s in steps if "run" in s and not s["run"].startswith("pip install")]


def distribution_name() -> str:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    return config["metadata"]["name"]


def test_the_distribution_name_is_not_esc_and_the_command_is() -> None:
    """`esc` on the package index is another project (issue 15, item 8)."""
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    assert config["metadata"]["name"] == "esc-helpdesk"
    scripts = config["options.entry_points"]["console_scripts"].split()
    assert scripts == ["esc", "=", "esc.cli.entry:run"]
    quick = README.split("## Commands", 1)[0]
    assert "pipx install git+https://github.com/OWNER/esc" in quick
    assert 'pip install "esc-helpdesk @ git+https://github.com/OWNER/esc"' in quick
    assert "pip install esc\n" not in README and "pipx install esc\n" not in README


def test_ci_installs_esc_by_name_from_a_requirements_file() -> None:
    """No recipe runs `pip install .`, which fails in a helpdesk repository (it does not
    hold esc's source): they install requirements.txt, whose one line names esc's
    distribution and its git URL, and which keys setup-python's pip cache."""
    requirement = block("text", "git+")
    name, _, url = requirement.partition(" @ ")
    assert name == distribution_name()
    assert url.startswith("git+https://github.com/OWNER/esc@")
    gitlab = yaml.safe_load(block("yaml", "sweep:\n  image:"))
    jobs = workflow()["jobs"]
    assert isinstance(jobs, dict)
    for steps in [job["steps"] for job in jobs.values()]:
        runs = [step["run"] for step in steps if "run" in step]
        assert "pip install -r requirements.txt" in runs
        (setup,) = [step for step in steps if step.get("uses", "").startswith("actions/setup-py")]
        assert setup["with"]["cache"] == "pip"
        assert setup["with"]["cache-dependency-path"] == "requirements.txt"
    for job in gitlab.values():
        assert "pip install -r requirements.txt" in job["script"]
    assert "pip install ." not in README.split("## Running esc from cron and CI", 1)[1]


def test_workflow_keeps_esc_s_cache_and_outbox_between_runs() -> None:
    """Each runner starts from a fresh checkout: the sweep job restores `.esc-cache/` (the
    outbox's failed notifications, retried by a later sweep; the ticket cache) and gives
    the sweep the notify targets' secrets."""
    steps = workflow()["jobs"]["sweep"]["steps"]  # type: ignore[index]
    (cache,) = [s for s in steps if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == ".esc-cache"
    assert cache["with"]["restore-keys"] == "esc-cache-"
    (sweep,) = [s for s in steps if "esc sweep" in s.get("run", "")]
    assert sweep["env"]["SLACK_WEBHOOK_URL"] == "${{ secrets.SLACK_WEBHOOK_URL }}"
    assert steps.index(cache) < steps.index(sweep)


def test_gitlab_sweep_keeps_esc_s_cache_and_outbox_between_runs() -> None:
    """GitLab's sweep job started from a fresh clone every run: the outbox's failed
    notifications were never retried, the journal of what an earlier sweep could not
    commit was lost, and every run was a cold sweep (audit c67)."""
    gitlab = yaml.safe_load(block("yaml", "sweep:\n  image:"))
    cache = gitlab["sweep"]["cache"]
    assert cache["paths"] == [".esc-cache/"] and cache["when"] == "always"


def test_the_pull_request_job_plans_and_annotates_when_validate_fails() -> None:
    """A failing `esc validate` skipped the steps after it: no plan in the run's summary and
    no annotation of the broken file (issue 15's audit)."""
    steps = workflow()["jobs"]["check"]["steps"]  # type: ignore[index]
    runs = [s for s in steps if s.get("run", "").startswith("esc ")]
    assert [s["run"].split()[1] for s in runs] == ["validate", "plan", "check"]
    assert [s.get("if") for s in runs] == [None, "${{ !cancelled() }}", "${{ !cancelled() }}"]


def test_workflow_publishes_the_reports_the_sweep_rendered() -> None:
    """`reports/` is git-ignored: a runner's reports went nowhere; the sweep job uploads
    them, after the sweep, as the run's artifact."""
    steps = workflow()["jobs"]["sweep"]["steps"]  # type: ignore[index]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"] == "reports/"
    (sweep,) = [s for s in steps if "esc sweep" in s.get("run", "")]
    assert steps.index(sweep) < steps.index(upload)


def test_workflow_runs_one_sweep_at_a_time() -> None:
    jobs = workflow()["jobs"]
    assert isinstance(jobs, dict)
    assert jobs["sweep"]["concurrency"] == {"group": "helpdesk-sweep", "cancel-in-progress": False}
    assert jobs["check"]["concurrency"]["cancel-in-progress"] is True
    assert "${{ github.ref }}" in jobs["check"]["concurrency"]["group"]


def test_readme_states_what_the_schedule_costs() -> None:
    """The runs a month of the workflow's schedule, each billed as at least one minute,
    against the 2,000 minutes of GitHub's free plan; and a cheaper cadence that fits."""
    (schedule,) = workflow()["on"]["schedule"]  # type: ignore[index]
    minutes = re.fullmatch(r"\*/(\d+) \* \* \* \*", schedule["cron"])
    assert minutes, schedule
    runs = 24 * 60 // int(minutes[1]) * 30
    section = README.split("**What the schedule costs.**", 1)[1].split("\n\n", 1)[0]
    section = " ".join(section.split())
    assert f"{runs:,} runs in a 30-day month" in section
    assert f"about {runs:,} minutes a month" in section
    assert "2,000 minutes a month" in section
    cheaper = re.findall(r"`\*/(\d+)` \(([\d,]+) minutes", section)
    assert cheaper
    for every, cost in cheaper:
        assert 24 * 60 // int(every) * 30 == int(cost.replace(",", "")) <= 2000


def test_workflow_sweep_job(tmp_path: Path) -> None:
    remote, clone = helpdesk(tmp_path)
    for step in workflow_steps("sweep"):
        result = run(clone, step, LATE)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr  # (the merge driver is registered first)
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


# The README's shell blocks no test here runs, and why: every other one is run below.
NOT_RUN = {
    "pip install . && esc list": "the quick start's install: .ci/run installs esc so",
    "pip install -e '.[test]' && pytest": "the quick start's tests: .ci/run runs them so",
    "pipx install git+https://github.com/OWNER/esc": "installs from a placeholder URL",
}


def _shell_blocks() -> list[str]:
    """The README's ``sh`` blocks outside the cron and CI section (its blocks have tests of
    their own above) that :data:`NOT_RUN` does not name."""
    before, after = README.split("## Running esc from cron and CI", 1)
    rest = after.split("\n## ", 1)[1] if "\n## " in after else ""
    blocks = re.findall(r"```sh\n(.*?)\n```", before + rest, re.S)
    return [b for b in blocks if not any(key in b for key in NOT_RUN)]


def test_every_shell_block_of_the_readme_is_run_or_named_as_not_run() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    for key in NOT_RUN:  # (a recipe renamed, or gone: say so here too)
        assert sum(key in b for b in blocks) == 1, key
    assert len(_shell_blocks()) >= 4  # the demo's, a new workspace, the KB, other teams


@pytest.mark.parametrize("recipe", _shell_blocks(), ids=lambda b: b.split("\n")[0][:40])
def test_readme_recipe_runs_as_written(recipe: str, tmp_path: Path, demo: Path) -> None:
    """Each on a git repository holding the demo workspace (the recipes name its
    tickets), or in an empty folder for one that makes a workspace of its own; `$EDITOR`
    is a command that saves the file as it is, as a user who accepts a draft does."""
    if "esc init" in recipe:
        cwd = tmp_path / "empty"
        cwd.mkdir()
    else:
        cwd = demo
        git(cwd, "init", "-q")
        git(cwd, "add", "-A")
        git(cwd, "-c", "user.name=maya", "-c", "user.email=maya@example.com", "commit", "-qm",
            "the demo")  # fmt: skip
    result = run(cwd, f"export EDITOR=true\n{recipe}", "2026-11-27T09:00:00+01:00")
    assert result.returncode == 0, (recipe, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr
