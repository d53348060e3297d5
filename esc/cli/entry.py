"""The console script's first steps: a stop asked for while esc's modules load (Ctrl-C,
or SIGTERM from cron's, CI's or an MTA's time limit) is said as any stop is, with its exit
code, never as a traceback or a process dead of the signal.  Nothing is written yet then.

Kept small: only :mod:`esc.cli.stops` and the exit codes are imported before the handler
is in place."""

from __future__ import annotations

import os
import signal
import sys

from esc.cli.stops import Terminated, mta_pipe, terminate
from esc.domain.errors import EXIT_INTERRUPTED, EXIT_TEMPFAIL, EXIT_TERMINATED


def run() -> None:  # pragma: no cover - console script (tests/cli/test_entry.py runs it)
    """esc, as its console script and `python -m esc` start it."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # (not if whoever started esc
        signal.signal(signal.SIGTERM, terminate)  # had it ignored)
    try:
        from esc.cli.main import run as esc

        esc()  # (it ends the process)
    except KeyboardInterrupt as stop:  # (before esc.cli.main's own handling began)
        terminated = isinstance(stop, Terminated)
        if terminated and mta_pipe(sys.argv[1:]):
            said, code = "esc: terminated; not taken now", EXIT_TEMPFAIL
        elif terminated:
            said, code = "esc: terminated", EXIT_TERMINATED
        else:
            said, code = "esc: interrupted", EXIT_INTERRUPTED
        try:
            sys.stderr.write(said + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(code)
