"""The console script's first steps (esc.cli.entry): a stop while esc's modules load."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

# A real process, sent a real signal while it imports esc.cli.main (where esc's own
# handling of stops is not in place yet), as `timeout` or Ctrl-C sends it at any moment.
STOPPED_WHILE_LOADING = """
import importlib.abc, os, signal, sys

SIGNUM = int(sys.argv[1])

class Stop(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "esc.cli.main":
            os.kill(os.getpid(), SIGNUM)
        return None

sys.meta_path.insert(0, Stop())
sys.argv = ["esc", *sys.argv[2:]]
from esc.cli.entry import run
run()
"""


@pytest.mark.parametrize(
    ("signum", "args", "code", "said"),
    [
        (signal.SIGINT, ["list"], 130, "esc: interrupted\n"),
        (signal.SIGTERM, ["list"], 143, "esc: terminated\n"),
        # (an MTA's time limit: deferred, never a bounce of the customer's mail)
        (signal.SIGTERM, ["intake", "--eml", "-"], 75, "esc: terminated; not taken now\n"),
    ],
)
def test_a_stop_while_esc_starts_is_said_in_one_line_with_its_code(
    tmp_path: Path, signum: int, args: list[str], code: int, said: str
) -> None:
    """Ctrl-C or SIGTERM in esc's first tenth of a second printed a traceback (a
    KeyboardInterrupt in an import) or killed it outright (no line; `intake --eml -`
    then ended 143, and the MTA bounced the mail)."""
    result = subprocess.run(
        [sys.executable, "-c", STOPPED_WHILE_LOADING, str(int(signum)), *args],
        cwd=tmp_path, input="", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (code, "", said)


def test_a_stop_while_intake_s_options_are_read_defers_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM while click reads `intake --eml -`'s options (esc's handling in place, the
    intake's own not yet): 75 and its line said so, where it said `esc: terminated`."""
    from esc.cli import main as cli_main
    from esc.cli import options
    from esc.cli.stops import Terminated

    def stopped(*args: object, **kwargs: object) -> None:
        raise Terminated

    monkeypatch.setattr(options, "refuse_repeated", stopped)
    assert cli_main.main(["intake", "--eml", "-"]) == 75
    assert capsys.readouterr().err.splitlines()[-1] == "esc: terminated; not taken now"
    assert cli_main.main(["list"]) == 143


def test_only_intake_with_eml_is_an_mta_s_pipe() -> None:
    """`esc comment T -m intake --eml` (a word of a message) was taken for the pipe: its
    usage error exited 75."""
    from esc.cli.stops import mta_pipe

    assert mta_pipe(["intake", "--eml", "-"]) and mta_pipe(["intake", "--eml=/dev/stdin"])
    assert mta_pipe(["--root", "/srv/desk", "--now", "2026-11-20T10:00:00Z", "intake", "--eml"])
    assert not mta_pipe(["comment", "T-1", "-m", "intake", "--eml"])
    assert not mta_pipe(["--root", "intake", "list", "--eml"])
    assert not mta_pipe(["intake", "--mbox", "in.mbox"])
