"""What stops esc from outside: SIGTERM as an exception, and whether esc is an MTA's pipe
(where a stop defers the message rather than bounce it)."""

from __future__ import annotations

from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM (as `timeout`, cron's or CI's time limit, or `kill` send): esc stops as on
    Ctrl-C, each write either done or undone and its temporary files removed, and exits
    128 + 15 rather than dying where it stands."""


def terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def mta_pipe(args: list[str]) -> bool:
    """Whether ``args`` are `esc intake --eml …`'s, an MTA's pipe (exit 75 for whatever
    stops esc: the message is delivered again later, never bounced; `--eml /dev/stdin`,
    a usage error, too)."""
    rest = list(args)
    while rest and rest[0].startswith("-"):  # (esc's own options before the command)
        given = rest.pop(0)
        if given in _TAKING_VALUES and rest:
            rest.pop(0)
    if not rest or rest[0] != "intake":  # (`esc comment T -m intake --eml`: no pipe)
        return False
    return any(a == "--eml" or a.startswith("--eml=") for a in rest[1:])


_TAKING_VALUES = ("--root", "--now")  # (esc's options before a command that take a value)
