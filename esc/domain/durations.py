"""Durations as esc reads and writes them: "30m", "4h", "1h30m", "2d", "1w". Pure.

One grammar (:func:`parse_duration`) for every duration a user writes: SLA targets, rule
``repeat``, wall-clock conditions (``idle: ">1h 30m"``) and ``esc upcoming --within``; and
one formatter (:func:`format_duration`) for every duration esc shows, with two shapes of
it for people: :func:`format_age` (one unit, for how old a ticket is) and
:func:`format_relative` (for how far a deadline is).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Literal

Unit = Literal["w", "d", "h", "m", "s"]
UNIT_SECONDS: dict[Unit, int] = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_ORDER: tuple[Unit, ...] = ("w", "d", "h", "m", "s")
_PART = re.compile(r"\s*([0-9]+)\s*([a-z]*)\s*")
HINT = 'use w, d, h, m or s, e.g. "45m", "4h", "1h30m", "2d"'


class DurationError(ValueError):
    """A duration that does not read; the message says why, with an example."""


def parse_duration(text: object) -> dt.timedelta:
    """Parse "30m", "4h", "1h30m", "1h 30m", "90s", "2d" (24 h), "1w" (7 d): whole numbers,
    each unit at most once; never a bare number, a fraction or a negative duration."""
    if not isinstance(text, str):
        raise DurationError(_no_unit(text, str(text).lstrip("-")))
    value = text.strip().lower()
    if not value:
        raise DurationError(f"empty duration ({HINT})")
    if value.startswith("-"):
        raise DurationError(f"duration {_quoted(text)} is negative")
    if "." in value:
        raise DurationError(f'duration {_quoted(text)}: use whole numbers, e.g. "1h30m" for 1.5 h')
    seconds = 0
    seen: set[str] = set()
    position = 0
    while position < len(value):
        match = _PART.match(value, position)
        if match and not match.group(2):
            raise DurationError(_no_unit(text, match.group(1)))
        if not match or match.group(2) not in UNIT_SECONDS or match.group(2) in seen:
            raise DurationError(f"duration {_quoted(text)} is not valid ({HINT})")
        seen.add(match.group(2))
        if len(match.group(1)) > MAX_DIGITS:  # (int() refuses 4,300 digits; any timedelta 10)
            raise DurationError(f"duration {_quoted(_cut(text))} is too long")
        seconds += int(match.group(1)) * UNIT_SECONDS[match.group(2)]  # type: ignore[index]
        position = match.end()
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:
        raise DurationError(f"duration {_quoted(text)} is too long") from None


MAX_DIGITS = 20  # a number of more digits is no duration a timedelta holds


WAIT_AT_MOST = 86_400.0  # seconds a command waits for a lock at most (a day)
_SECONDS = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


def wait_seconds(text: str) -> float | None:
    """A number of seconds to wait (``--lock-timeout``, ``ESC_LOCK_TIMEOUT``): 0 to a day,
    written as a plain decimal number in ASCII digits, as every number esc reads (`float`
    takes `３`, `1_0` for 10, `1e300`, a wait that never ends, `nan` and `inf`: audit
    helper-468); None if ``text`` is none."""
    text = text.strip()
    if not _SECONDS.fullmatch(text):
        return None
    seconds = float(text)
    return seconds if seconds <= WAIT_AT_MOST else None


def _cut(text: object) -> object:
    """``text`` as a message quotes it: a long one cut (a value may be kilobytes)."""
    return f"{text[:40]}…" if isinstance(text, str) and len(text) > 40 else text


def _no_unit(text: object, number: str) -> str:
    return f'duration {_quoted(text)}: {number} has no unit; write e.g. "{number}m" or "{number}h"'


def _quoted(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def format_duration(
    td: dt.timedelta,
    *,
    largest: Unit = "d",
    smallest: Unit = "m",
    places: int | None = None,
    separator: str = "",
) -> str:
    """``td`` in whole units from ``largest`` down to ``smallest``, the rest rounded down:
    "2d3h", "1h30m", "45m".

    Without ``places``, every unit that is not zero ("1d30m"); with it, that many units
    from the largest that is not zero, zeros included, as a table's cells want ("3d 0h").
    Zero is "0" and the smallest unit ("0m"); a duration under one smallest unit is given
    in seconds ("45s"); a negative one starts with "-".
    """
    return _format_seconds(int(td.total_seconds()), largest, smallest, places, separator)


def _format_seconds(
    total: int, largest: Unit, smallest: Unit, places: int | None, separator: str
) -> str:
    sign, total = ("-" if total < 0 else ""), abs(total)
    if 0 < total < UNIT_SECONDS[smallest]:
        return f"{sign}{total}s"
    units = _ORDER[_ORDER.index(largest) : _ORDER.index(smallest) + 1]
    counts = []
    for unit in units:
        count, total = divmod(total, UNIT_SECONDS[unit])
        counts.append((count, unit))
    while counts and counts[0][0] == 0:
        counts.pop(0)
    if places is None:
        parts = [f"{n}{unit}" for n, unit in counts if n]
    else:
        parts = [f"{n}{unit}" for n, unit in counts[:places]]
    return sign + (separator.join(parts) or f"0{smallest}")


def format_age(td: dt.timedelta) -> str:
    """A short human age, one unit rounded down: 45m, 3h, 2d, then weeks from 14 days (5w)."""
    return _age(int(td.total_seconds()))


def format_relative(td: dt.timedelta) -> str:
    """How far a deadline is from now ("due in 1h30m", "breached 2d3h ago"): to the minute
    below a day ("4h50m", "45m"), in days and hours from a day on ("2d3h"; the minutes
    dropped), never rounded up, so a deadline is never shown later than it is."""
    return _relative(int(td.total_seconds()))


# (Both depend on the whole seconds alone, as format_duration does: a table of many
# tickets asks for the same few again and again.)


@functools.lru_cache(maxsize=4096)
def _age(seconds: int) -> str:
    fortnight = abs(seconds) >= UNIT_SECONDS["w"] * 2
    return _format_seconds(seconds, "w" if fortnight else "d", "m", 1, "")


@functools.lru_cache(maxsize=4096)
def _relative(seconds: int) -> str:
    if seconds == 0:  # (at the deadline's second: under a minute, so in seconds, as 30s is)
        return "0s"
    day = abs(seconds) >= UNIT_SECONDS["d"]
    return _format_seconds(seconds, "d", "h" if day else "m", None, "")
