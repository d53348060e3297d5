"""Shared fixtures: every test runs with its own home, identity and no inherited esc settings."""

from __future__ import annotations

import compileall
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

# (on a loaded machine, as CI's 2 CPUs with xdist's workers, generating an example may be
# slower than hypothesis's health check allows: a test that fails on the machine's load,
# not on esc, is no honest test; every other check stays)
settings.register_profile("esc", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("esc")

if TYPE_CHECKING:
    from esc.domain.config import Config, Finding

REPO = Path(__file__).resolve().parent.parent
ESC = shutil.which("esc") or str(Path(sys.executable).parent / "esc")
NOW = "2026-11-20T10:00:00+01:00"  # a Friday, inside office hours in Berlin


def pytest_configure(config: pytest.Config) -> None:
    """Compile esc once, before the test processes start, as installing it would: the
    tests start hundreds of esc processes, and each would otherwise compile every module
    it imports again where the environment says not to write bytecode
    (PYTHONDONTWRITEBYTECODE), 0.55 -> 0.31 s of CPU for each."""
    compileall.compile_dir(REPO / "esc", quiet=1)


@pytest.fixture(autouse=True)
def same_folder() -> Iterator[None]:
    """No test leaves the process in another current folder (esc runs in-process)."""
    before = os.getcwd()
    yield
    assert os.getcwd() == before, "the test left the current folder changed"


@pytest.fixture(scope="session")
def compiled_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """esc's report templates as jinja compiles them into the user cache
    (``~/.cache/esc/templates``) the first time esc renders a report: compiled once per
    worker, copied into each test's home (compiling them again costs a sweep 0.25 s)."""
    from esc.report.contents import SUMMARY_TEMPLATE
    from esc.report.render import TEMPLATE_OF, load_templates

    folder = tmp_path_factory.mktemp("user-cache") / "templates"
    load_templates([SUMMARY_TEMPLATE, *TEMPLATE_OF.values()], None, folder)
    assert len(list(folder.iterdir())) == 1 + len(TEMPLATE_OF)
    return folder


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    compiled_templates: Path,
) -> None:
    """No test reads the real home, git identity, clock settings or workspace. Each home
    holds what a user's has after esc's first report: the compiled templates (jinja checks
    each against its source, so they are never stale)."""
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(compiled_templates, home / ".cache" / "esc" / "templates")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(name, "Test Runner")
    for name in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(name, "runner@example.com")
    monkeypatch.setenv("ESC_USER", "alice")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("ESC_NOW", "ESC_ROOT", "ESC_DEBUG", "ESC_JOBS", "EDITOR", "VISUAL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("XDG_CACHE_HOME",):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Esc:
    """Runs esc in ``cwd``, at ``now`` unless told otherwise, as a user would: in this
    process through ``esc.cli.main`` (stdin, stdout, stderr, environment and current folder
    swapped in for the call), or as a real process with ``process=True``."""

    cwd: Path
    now: str | None = NOW
    process: bool = False

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        now: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        when = self.now if now is None else now  # ("": no --now of the harness's)
        argv = (["--now", when] if when else []) + list(args)
        if self.process:
            return run_process(argv, self.cwd, input, env)
        return run_in_process(argv, self.cwd, input, env)

    def ok(self, *args: str, **kwargs: object) -> str:
        result = self(*args, **kwargs)  # type: ignore[arg-type]
        assert result.code == 0, f"esc {' '.join(args)} failed ({result.code}): {result.err}"
        return result.out


def run_process(
    argv: list[str], cwd: Path, input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    """``esc ARGV`` as its own process (the installed console script)."""
    proc = subprocess.run(
        [ESC, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


class _Stdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def run_in_process(
    argv: list[str], cwd: Path, input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    """``esc ARGV`` through ``esc.cli.main`` in this process."""
    from esc.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved_env = {name: os.environ.get(name) for name in env or {}}
    saved = (sys.stdin, sys.stdout, sys.stderr, os.getcwd())
    try:
        os.environ.update(env or {})
        os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = _Stdin(input or ""), out, err
        code = main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved[:3]
        os.chdir(saved[3])
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return Result(code, out.getvalue(), err.getvalue())


_PARSED: dict[tuple[str, str], tuple[Config | None, list[Finding]]] = {}


def with_ola(workspace: Path, target: str) -> None:
    """The starter workspace's standard policy given a `collaboration` target (the OLA of
    requests to other teams), such as ``2h``."""
    rules = workspace / "rules.yaml"
    text = rules.read_text()
    assert "resolution: 24h}" in text
    ola = f"resolution: 24h, collaboration: {target}}}"
    rules.write_text(text.replace("resolution: 24h}", ola, 1))


def asked_then_resolved(esc: Esc, day: str, resolved: dict[str, str]) -> dict[str, str]:
    """A billing ticket per title of ``resolved``, engineering asked for help at 09:00 of
    ``day`` (``2026-12-16``), and resolved at its time of day (``10:00``): title -> ID."""
    made = {}
    for title, at in resolved.items():
        ticket = esc.ok("create", "--title", title, "--body", "b", "--category", "billing",
                        now=f"{day}T09:00:00+01:00").strip()  # fmt: skip
        esc.ok("involve", ticket, "--team", "engineering", "--ask", "?",
               now=f"{day}T09:00:00+01:00")  # fmt: skip
        esc.ok("resolve", ticket, "--resolution", "r", now=f"{day}T{at}:00+01:00")
        made[title] = ticket
    return made


def keep_parsed_configuration(root: Path) -> None:
    """Put in the user cache what esc keeps there after its first command in the workspace
    at ``root``: its teams.yaml and rules.yaml parsed (parsing them costs a command 0.06 s;
    each text is parsed once per worker). esc still parses them again once they change."""
    from esc.config.loading import build_config
    from esc.store import user_cache
    from esc.store.workspace import Workspace

    workspace = Workspace(root.resolve())
    texts = workspace.config_texts()
    assert texts is not None, root
    if texts not in _PARSED:
        _PARSED[texts] = build_config(*texts)
    user_cache.keep_configuration(workspace.root, texts, _PARSED[texts])


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh `esc init` workspace (its configuration already kept in the user cache, as
    after esc's first command there)."""
    root = tmp_path / "ws"
    result = run_in_process(["init", str(root)], tmp_path)
    assert result.code == 0, result.err
    keep_parsed_configuration(root)
    return root


@pytest.fixture
def esc(workspace: Path) -> Esc:
    return Esc(workspace)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Path]:
    """A copy of the demo workspace at the repo root (its configuration already kept in the
    user cache, as after esc's first command there)."""
    root = tmp_path / "demo"
    root.mkdir()
    for name in ("teams.yaml", "rules.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "tickets", root / "tickets")
    shutil.copytree(REPO / "kb", root / "kb")
    keep_parsed_configuration(root)
    yield root


def findings(result: Result) -> list[str]:
    """What ``esc validate`` found: a line each on stderr, before the line that counts them."""
    *lines, count = result.err.splitlines()
    assert count == f"{len(lines)} problem(s)", result.err
    return lines


def found_text(result: Result) -> str:
    """:func:`findings` as the lines printed, each with its newline."""
    return "".join(f"{line}\n" for line in findings(result))
