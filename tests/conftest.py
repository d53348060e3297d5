"""Shared fixtures: every test runs with its own home, identity and no inherited esc settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ESC = shutil.which("esc") or str(Path(sys.executable).parent / "esc")
NOW = "2026-11-20T10:00:00+01:00"  # a Friday, inside office hours in Berlin


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the real home, git identity, clock settings or workspace."""
    home = tmp_path_factory.mktemp("home")
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
    """Runs the installed `esc` as a subprocess in ``cwd``, at ``now`` unless told otherwise."""

    cwd: Path
    now: str | None = NOW

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        now: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        command = [ESC]
        when = now or self.now
        if when:
            command += ["--now", when]
        command += list(args)
        proc = subprocess.run(
            command,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            input=input,
            env={**os.environ, **(env or {})},
            timeout=60,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kwargs: object) -> str:
        result = self(*args, **kwargs)  # type: ignore[arg-type]
        assert result.code == 0, f"esc {' '.join(args)} failed ({result.code}): {result.err}"
        return result.out


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh `esc init` workspace."""
    root = tmp_path / "ws"
    subprocess.run([ESC, "init", str(root)], check=True, capture_output=True)
    return root


@pytest.fixture
def esc(workspace: Path) -> Esc:
    return Esc(workspace)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Path]:
    """A copy of the demo workspace at the repo root."""
    root = tmp_path / "demo"
    root.mkdir()
    for name in ("teams.yaml", "rules.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "tickets", root / "tickets")
    yield root
