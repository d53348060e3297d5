"""Timestamps: parsing, formatting and the current time (from --now, ESC_NOW or the clock)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from esc.domain.errors import BadInput


def parse_timestamp(text: str, *, what: str = "timestamp") -> dt.datetime:
    """Parse an ISO-8601 timestamp that carries a UTC offset."""
    parsed = _iso(text, what)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise BadInput(f"{what} {text!r} has no time zone offset (add Z or +01:00)")
    return shared_zone(parsed)


def parse_local_timestamp(
    text: str, *, what: str, zone: dt.tzinfo | None = None
) -> dt.datetime:
    """Parse an ISO-8601 timestamp given on a command line: one without a UTC offset is a
    time of ``zone`` (by default this machine's time zone, as ``date -d`` and git read it;
    a file's times must carry their offset: :func:`parse_timestamp`)."""
    parsed = _iso(text, what)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        naive = parsed.replace(tzinfo=None)
        if not in_range(naive):  # (0001-01-01 in a zone behind UTC is no time at all)
            raise BadInput(f"{what} {text!r} is {RANGE_TEXT}")
        parsed = _local(naive, zone, text, what)
    return shared_zone(parsed)


def _local(naive: dt.datetime, zone: dt.tzinfo | None, text: str, what: str) -> dt.datetime:
    """``naive`` as a time of ``zone`` (None: this machine's), refused (BadInput) when
    the zone has no such time (the clocks skipped it: `date -d` says "invalid date";
    Python moved it an hour earlier) or has it twice (the clocks went back over it)."""
    first, second = (
        naive.replace(fold=fold).astimezone() if zone is None
        else naive.replace(tzinfo=zone, fold=fold)
        for fold in (0, 1)
    )  # fmt: skip
    if first.utcoffset() == second.utcoffset():
        return first
    back = first.astimezone(dt.timezone.utc).astimezone(zone)  # (the wall time it is)
    if back.replace(tzinfo=None, fold=0) != naive.replace(fold=0):
        raise BadInput(
            f"{what} {text!r} is no time here: the clocks skip it;"
            " give its UTC offset"
        )
    offsets = " or ".join(format_timestamp(t)[-6:] for t in (first, second))  # (+01:00)
    raise BadInput(
        f"{what} {text!r} comes twice here: the clocks go back over it; give its UTC offset"
        f" ({offsets})"
    )


def local_wall_instant(naive: dt.datetime) -> dt.datetime:
    """The instant a wall time of this machine's time zone names, for a period's bounds: the
    first of the two when the clocks go back over it; one they skip, moved on by the gap, as
    if they had not (a day whose midnight the clocks skip, as Havana's and Santiago's do,
    starts at the first instant it has, 01:00 -04:00; Python read it as 23:00 -05:00 the
    day before, and a report's day ended an hour early: audit helper-408)."""
    first, second = (naive.replace(fold=fold).astimezone() for fold in (0, 1))
    if first.utcoffset() == second.utcoffset():
        return first
    if first.astimezone().replace(tzinfo=None, fold=0) == naive.replace(fold=0):
        return first  # (it comes twice: its first time)
    return max(first, second)  # (skipped)


def gives_offset(text: str) -> bool:
    """Whether a command line's timestamp gives its UTC offset (or Z); False for one that
    does not parse (its error is said where it is parsed)."""
    try:
        return _iso(text, "").utcoffset() is not None
    except BadInput:
        return False


def _iso(text: str, what: str) -> dt.datetime:
    """``text`` as ISO-8601 (a trailing Z is UTC), with or without an offset."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        reason = plain_reason(exc)
        why = f": {reason}" if reason and not reason.startswith("Invalid isoformat") else ""
        raise BadInput(f"{what} {text!r} is not an ISO-8601 timestamp{why}") from None
    offset = parsed.utcoffset()
    # (`+01:00:30`: an offset no RFC 3339 reader, JSON's, nor esc's own writing gives back)
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        raise BadInput(
            f"{what} {text!r} has an offset with seconds; give it in hours and minutes"
            " (+01:00)"
        )
    fault = None if offset is None else _offset_fault(value)
    if fault == "seconds":  # (`+01:00:60`, read as +01:01: no offset of seconds, whatever
        raise BadInput(  # they add up to; review helper-473)
            f"{what} {text!r} has an offset with seconds; give it in hours and minutes"
            " (+01:00)"
        )
    if fault == "minutes":
        raise BadInput(f"{what} {text!r} {OFFSET_MINUTES}")
    return parsed


# (Python reads `+01:60` as +02:00 and `+01:99` as +02:39: another instant than written)
OFFSET_MINUTES = "has an offset whose minutes are past 59 (+HH:MM, MM from 00 to 59)"
# (an offset's hours, minutes and any seconds: one hour digit as YAML writes it, `+1:60`)
_OFFSET_TAIL = re.compile(r"[+-]\d\d?:?(\d\d)(:?\d\d(?:[.,]\d+)?)?\Z", re.ASCII)


def _offset_fault(text: str) -> Literal["seconds", "minutes"] | None:
    """What is wrong with the UTC offset that ends ``text`` (an ISO-8601 time), if it reads
    as another offset than written: seconds in it, or minutes past 59."""
    found = _OFFSET_TAIL.search(text)
    if found is None:
        return None
    if found[2]:
        return "seconds"
    return "minutes" if int(found[1]) > 59 else None


def offset_misread(moment: dt.datetime) -> bool:
    """Whether ``moment``, as a YAML reader made it, had an offset whose minutes are past
    59 (ruamel.yaml names its time zone as written: `+01:60`, read as +02:00)."""
    tz = moment.tzinfo
    if type(tz) is not dt.timezone:
        return False
    name = tz.tzname(None)
    return name[:3] != "UTC" and _offset_fault(name) is not None


def plain_reason(exc: Exception) -> str:
    """Why Python refused a time, in esc's words: its own for an offset of a day or more
    quote Python's notation (``-timedelta(hours=24)``, ``datetime.timedelta(days=1, …)``)."""
    reason = str(exc)
    if reason.startswith("offset must be a timedelta"):
        return "the offset must be within ±23:59"
    return reason


def timestamp_problem(text: str, what: str) -> str | None:
    """What keeps ``text`` from being an ISO-8601 timestamp with an offset (``what`` names
    it), or None.  (Whether it is in range is asked apart: see :func:`in_range`.)"""
    try:
        parse_timestamp(text, what=what)
    except BadInput as exc:
        return str(exc)
    return None


# The years a time in esc may fall in: far enough from datetime's limits (years 1 and
# 9999) that converting it to any offset, or adding any SLA target, stays in range.
FIRST_YEAR, LAST_YEAR = 1900, 8999


def in_range(moment: dt.date) -> bool:
    """Whether a time (or day) is one esc can compute with (years 1900 to 8999)."""
    return FIRST_YEAR <= moment.year <= LAST_YEAR


# Later than any time esc reads (a bound for "everything after ...").
END_OF_TIME = dt.datetime.max.replace(tzinfo=dt.timezone.utc)

RANGE_TEXT = f"out of range: esc takes times from the years {FIRST_YEAR} to {LAST_YEAR}"


def coerce_timestamp(value: object) -> dt.datetime | None:
    """A front-matter value as an aware datetime, or None if it is not one; to the second,
    as esc keeps every time (`created: …T10:00:00.5+00:00` written by hand: the deadlines
    computed from it, written to the second, read back other than computed, and no sweep
    would write the ticket)."""
    if isinstance(value, dt.datetime):  # (one a YAML reader made: its offset is hours and
        if value.tzinfo is None or offset_misread(value):  # minutes, as YAML's timestamps
            return None  # have it; text is _iso's)
        return value.replace(microsecond=0) if value.microsecond else value
    if isinstance(value, str):
        try:
            moment = parse_timestamp(value)
        except BadInput:
            return None
        return moment.replace(microsecond=0) if moment.microsecond else moment
    return None


def as_written(value: object) -> str:
    """A front-matter time as the file has it (one whose offset a YAML reader misread,
    `+01:60`, with that offset, not the +02:00 it made of it)."""
    if isinstance(value, dt.datetime) and offset_misread(value):
        assert value.tzinfo is not None
        return f"{value.replace(tzinfo=None).isoformat()}{value.tzinfo.tzname(None)}"
    return str(value)


def not_a_timestamp(value: object) -> str:
    """Why ``value`` (that :func:`coerce_timestamp` refused) is no time esc reads."""
    if isinstance(value, dt.datetime) and offset_misread(value):
        return OFFSET_MINUTES
    if isinstance(value, str):
        try:
            parse_timestamp(value)
        except BadInput as exc:
            if "offset with seconds" in str(exc):
                return "has an offset with seconds; give it in hours and minutes (+01:00)"
            if OFFSET_MINUTES in str(exc):
                return OFFSET_MINUTES
    return "is not a timestamp with a time zone"


_READ: dict[str, dt.datetime | None] = {}


def timestamp(text: str) -> dt.datetime | None:
    """``coerce_timestamp`` for text, remembered: ticket files repeat their timestamps."""
    moment = _READ.get(text, _READ)
    if moment is _READ:
        if len(_READ) >= 100_000:
            _READ.clear()
        moment = _READ[text] = coerce_timestamp(text)
    return moment  # type: ignore[return-value]


def format_timestamp(moment: dt.datetime) -> str:
    """ISO-8601 with seconds and the offset, e.g. 2026-11-20T09:14:00+01:00."""
    return moment.isoformat(timespec="seconds")


_ZONES: dict[int, dt.timezone] = {}


def shared_zone(moment: dt.datetime) -> dt.datetime:
    """``moment`` with the shared time zone object of its fixed offset (:func:`zone_of`).

    ``datetime.fromisoformat`` makes a new time zone object for every text it parses, and
    Python compares two datetimes whose time zones are different objects by asking each
    for its offset first: ten times slower than comparing them field by field, which it
    does when the object is the same.  Times read from every file and from the cache
    share one object per offset (an offset with a fraction of a second keeps its own, as
    does a time zone with rules, which is no fixed offset).
    """
    tz = moment.tzinfo
    if type(tz) is not dt.timezone:
        return moment
    zone = _SHARED.get(tz)  # (time zones are equal by their offsets)
    if zone is None:
        offset = tz.utcoffset(None)
        zone = tz if offset.microseconds else zone_of(offset.days * 86400 + offset.seconds)
        _SHARED[tz] = zone
    if tz is zone:
        return moment
    try:
        return moment.astimezone(zone)  # (the same fields, faster than ``replace``)
    except OverflowError:  # (by way of UTC, a time near datetime's limits would leave them)
        return moment.replace(tzinfo=zone)


_SHARED: dict[dt.tzinfo, dt.timezone] = {}


def fixed_in(moment: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    """``moment`` as a time of ``tz`` (its wall clock and its offset there), with the shared
    fixed-offset zone of that offset.  Two times of one ``ZoneInfo`` compare, subtract and
    add by their wall clocks (``due + 30m`` on the night the clocks go back was an hour
    off, and 02:30+02:00 came after 02:00+01:00); with a fixed offset it is elapsed time."""
    local = moment.astimezone(tz)
    if type(local.tzinfo) is dt.timezone:
        return shared_zone(local)
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=zone_of(offset.days * 86400 + offset.seconds), fold=0)


def zone_of(offset: int) -> dt.timezone:
    """The one fixed-offset time zone object for ``offset`` seconds east of UTC."""
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = dt.timezone(dt.timedelta(seconds=offset))
    return zone
