"""How something outside esc runs this esc: git (the merge driver), cron and CI.

None of them can rely on ``PATH``: cron's is ``/usr/bin:/bin``, and a venv that is not
activated is on nobody's.  So esc names itself by absolute path: the interpreter running
it (``sys.executable``, as it was invoked: a venv's ``bin/python`` keeps the venv) with
``-m esc``, or the ``esc`` script installed beside that interpreter.  Every command line
esc hands to a shell is built here.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

CRON_PATH = "/usr/bin:/bin"  # the PATH cron gives its jobs
CRON_SCHEDULE = "*/5 * * * *"  # the README's crontab line


def interpreter() -> str:
    """The absolute path of the Python running esc, as it was invoked (not resolved)."""
    return os.path.abspath(sys.executable) if sys.executable else "python3"


# Python 3.11's -P: the current folder is not put on sys.path.  Git runs the merge driver
# at the top of the work tree and cron the sweep in the workspace: without it, an `esc.py`
# or `esc/` committed there would be imported instead of esc (and run by the next merge).
SAFE_PATH = ("-P",) if sys.version_info >= (3, 11) else ()


def python_command(*args: str) -> str:
    """A shell command line running this esc with ``args`` (left as they are, so git's
    ``%O``-style placeholders survive): ``/abs/python -P -m esc ARGS``, the path
    shell-quoted if it needs it (:data:`SAFE_PATH`)."""
    return " ".join([shlex.quote(interpreter()), *SAFE_PATH, "-m", "esc", *args])


def merge_driver_command() -> str:
    """What git runs to merge a ticket (``merge.esc.driver``): this esc, by absolute path.

    Git fills in ``%O %A %B`` (the three versions, as temporary files) and ``%P`` (the
    ticket's path in the work tree, which messages name), each shell-quoted; a ``%`` of
    the interpreter's path is written ``%%``, which git reads as one (a venv in a folder
    named `v%P` was run as `v` and the ticket's path: every merge failed; audit
    helper-429).
    """
    command = python_command()
    return " ".join([command.replace("%", "%%"), "merge-file", "%O", "%A", "%B", "%P"])


def console_script() -> Path | None:
    """The ``esc`` script installed beside the interpreter (a venv's or pipx's ``bin/esc``),
    if there is one."""
    script = Path(interpreter()).parent / "esc"
    return script if script.is_file() and os.access(script, os.X_OK) else None


def esc_command() -> str:
    """The shortest shell command that runs this esc without PATH: its script's absolute
    path, else the interpreter with ``-m esc``."""
    script = console_script()
    return shlex.quote(str(script)) if script is not None else python_command()


def crontab_line(root: Path, maildir: Path | None = None, remote: str = "origin") -> str:
    """The README's crontab line for the workspace at ``root`` run by this esc (a ``%``,
    which ends a crontab command, escaped): with ``maildir``, intake of its new mail, then
    (whatever intake's exit code) the sweep; else the sweep alone.  What they print on
    standard output goes to /dev/null: cron mails whatever a job prints, and a summary
    every five minutes would bury the errors and warnings (standard error), which it
    still mails."""
    esc = esc_command()
    sweep = f"{esc} sweep --commit --push"
    if remote != "origin":  # (the remote doctor was given: without it, every run pushed
        # to an `origin` the clone may not have; audit helper-433)
        sweep += f" --remote {shlex.quote(remote)}"
    if maildir is not None:
        sweep = f"{{ {esc} intake --maildir {shlex.quote(str(maildir))}; {sweep}; }}"
    command = f"cd {shlex.quote(str(root))} && {sweep} >/dev/null"
    return CRON_SCHEDULE + " " + command.replace("%", "\\%")
