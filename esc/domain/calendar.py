"""Business-hours calendars and duration arithmetic.

Everything here is pure: no I/O, no clock. Every function takes the instants it needs, all of
them timezone-aware datetimes (a naive datetime raises ValueError); results are aware datetimes
in UTC.

A calendar has weekly working hours and holidays, both in the local wall-clock time of its time
zone. Working time is the set of real instants whose local date and wall-clock time fall inside
a working range of that date; durations are real elapsed time (``timedelta``) inside it.

Daylight saving time:

* Hours stay on the wall clock: Monday 09:00-17:00 Europe/Berlin is 09:00-17:00 local time on
  both sides of a DST change. A range that does not contain a transition keeps its length.
* A range that contains a transition counts real elapsed time: 00:00-24:00 is 23 h on the
  spring-forward day and 25 h on the fall-back day.
* A range boundary that does not exist (02:30 on a spring-forward day in Europe/Berlin) maps
  to the first instant after the gap (03:00 local, the moment of the transition). A range that
  lies entirely inside the gap is empty.
* A range boundary that is ambiguous (02:30 on a fall-back day) maps to its first occurrence
  (``fold=0``). So 02:30-03:30 on 2026-10-25 in Europe/Berlin is 2 h of real time, and a range
  ending at 02:30 that day ends before the repeated hour begins.

A day's working ranges are its weekly hours minus that date's holidays (a whole day, or part
of one). Scanning forward iterates day by day over ranges, never minute by minute.
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import field, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from esc.domain.choices import did_you_mean, folded, shown
from esc.domain.durations import format_duration
from esc.domain.records import immutable

__all__ = [
    "Calendar",
    "CalendarError",
    "add_business_time",
    "add_business_times",
    "business_time_and_deadlines",
    "business_time_between",
    "is_working",
    "next_working_instant",
    "parse_calendar",
    "parse_calendars",
    "working_intervals",
]

UTC = dt.timezone.utc
MINUTES_PER_DAY = 1440
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALENDAR_KEYS = ("timezone", "hours", "holidays")

#: Scanning forward gives up after this many consecutive days without working time.
MAX_IDLE_DAYS = 400
#: add_business_time gives up when the answer lies further than this from the start.
MAX_HORIZON = dt.timedelta(days=3653)

_ONE_DAY = dt.timedelta(days=1)
_MINUTE_US = 60_000_000  # microseconds in a minute
_ZERO = dt.timedelta(0)
_DAY_CACHE_LIMIT = 8192

Range = tuple[int, int]
"""A local wall-clock range of one day: (start_minute, end_minute), end <= 1440."""
Span = tuple[dt.datetime, dt.datetime]
"""A half-open interval of real time [start, end), in UTC."""


class CalendarError(ValueError):
    """A calendar or duration that cannot be used; the message names the key and value."""


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@immutable
class Calendar:
    """Weekly working hours and holidays in the wall-clock time of ``timezone``.

    ``weekly`` has 7 entries, Monday first, each a sorted tuple of non-overlapping
    (start_minute, end_minute) ranges. ``holidays`` is a sorted tuple of
    (date, ranges that are off that day); a whole-day holiday is ``((0, 1440),)``.
    """

    name: str
    timezone: str
    weekly: tuple[tuple[Range, ...], ...]
    holidays: tuple[tuple[dt.date, tuple[Range, ...]], ...] = ()
    _days: dict[dt.date, tuple[Span, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Running sums of working microseconds: _sums[i] is the working time before local date
    # _first[0] + i days, counted from the first day asked about (grown both ways; earlier
    # days get negative sums).  Non-decreasing, so a goal's day is found by bisection.
    _first: list[dt.date] = field(default_factory=list, init=False, repr=False, compare=False)
    _sums: list[int] = field(default_factory=lambda: [0], init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise CalendarError(f"calendar {self.name}: weekly hours need 7 days, Monday first")

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        return _zone(self.timezone)

    @functools.cached_property
    def holiday_map(self) -> Mapping[dt.date, tuple[Range, ...]]:
        return dict(self.holidays)

    def local_ranges(self, day: dt.date) -> tuple[Range, ...]:
        """The working ranges of ``day`` in local minutes: weekly hours minus holidays."""
        ranges = self.weekly[day.weekday()]
        off = self.holiday_map.get(day)
        return _subtract(ranges, off) if off else ranges

    def day_spans(self, day: dt.date) -> tuple[Span, ...]:
        """The working time of local date ``day`` as UTC intervals, in order."""
        spans = self._days.get(day)
        if spans is None:
            spans = self._compute_day_spans(day)
            if len(self._days) >= _DAY_CACHE_LIMIT:
                self._days.clear()
            self._days[day] = spans
        return spans

    def worked_before_day(self, day: dt.date) -> int:
        """Working microseconds from a fixed origin until local date ``day`` (negative
        before the origin): differences of two of these are working time."""
        first = self._first
        if not first:
            first.append(day)
        index = (day - first[0]).days
        sums = self._sums
        if 0 <= index < len(sums):
            return sums[index]
        self._grow(index)
        return sums[(day - first[0]).days]

    def _grow(self, index: int) -> None:
        """Extend the running sums to cover ``_first[0] + index`` days."""
        first, sums = self._first, self._sums
        while index >= len(sums):  # add the day before first + len(sums)
            last = first[0] + dt.timedelta(days=len(sums) - 1)
            sums.append(sums[-1] + self._length(last))
        if index < 0:  # prepend the days from first + index to first - 1
            earlier, day, total = [], first[0], sums[0]
            for _ in range(-index):
                day -= _ONE_DAY
                total -= self._length(day)
                earlier.append(total)
            earlier.reverse()
            sums[:0] = earlier
            first[0] = day

    def _length(self, day: dt.date) -> int:
        """Working microseconds of local date ``day``: its ranges' minutes when the zone's
        offset is the same at its start and at its end (no clock change that day), else
        its UTC spans measured.  (The sums may span centuries: a cache of 2026 asked about
        2400 sums 137,000 days, and converting each range to UTC took 9 s of them.)"""
        spans = self._days.get(day)
        if spans is not None:
            return _day_length(spans)
        ranges = self.local_ranges(day)
        if not ranges:
            return 0
        tz = self.tz
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        if tz.utcoffset(midnight) == tz.utcoffset(midnight + _ONE_DAY):
            return sum(end - start for start, end in ranges) * _MINUTE_US
        return _day_length(self.day_spans(day))

    def day_reaching(self, goal: int, day: dt.date) -> dt.date | None:
        """The first local date from ``day`` by whose end ``goal`` (a running sum) is
        worked, if the sums grown so far reach it (else None: scan day by day)."""
        first, sums = self._first, self._sums
        index = (day - first[0]).days + 1 if first else -1  # the sum by the end of ``day``
        if index < 0 or index >= len(sums) or sums[-1] < goal:
            return None
        return first[0] + dt.timedelta(days=bisect.bisect_left(sums, goal, index) - 1)

    def _compute_day_spans(self, day: dt.date) -> tuple[Span, ...]:
        tz = self.tz
        midnight = dt.datetime.combine(day, dt.time())
        spans = []
        for start, end in self.local_ranges(day):
            lo = _wall_to_utc(midnight + dt.timedelta(minutes=start), tz)
            hi = _wall_to_utc(midnight + dt.timedelta(minutes=end), tz)
            if lo < hi:
                spans.append((lo, hi))
        return tuple(spans)


# --- wall clock to real time ---------------------------------------------------------------


def _wall(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _wall_to_utc(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a naive local wall time: fold=0 if ambiguous, gap end if missing."""
    first = wall.replace(tzinfo=tz).astimezone(UTC)
    if _wall(first, tz) == wall:
        return first
    # ``wall`` lies in a gap. fold=0 applies the offset from before the gap (a later instant),
    # fold=1 the one after it (an earlier instant); the transition lies between the two.
    # Binary search for the first whole second whose wall time is at or after ``wall``.
    lo = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = first
    if lo > hi:
        lo, hi = hi, lo
    lo_s, hi_s = 0, int((hi - lo).total_seconds())
    while lo_s < hi_s:
        mid = (lo_s + hi_s) // 2
        if _wall(lo + dt.timedelta(seconds=mid), tz) >= wall:
            hi_s = mid
        else:
            lo_s = mid + 1
    return lo + dt.timedelta(seconds=lo_s)


def _aware(moment: dt.datetime, what: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


def _subtract(ranges: Iterable[Range], off: Iterable[Range]) -> tuple[Range, ...]:
    result: list[Range] = []
    for start, end in ranges:
        pieces = [(start, end)]
        for off_start, off_end in off:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, off_start)), (max(s, off_end), e))
                if piece[0] < piece[1]
            ]
        result.extend(pieces)
    return tuple(result)


# --- scanning ------------------------------------------------------------------------------


def _spans_from(cal: Calendar, t: dt.datetime) -> Iterator[Span]:
    """Working spans (unmerged, UTC) that end after ``t``, in order, without end.

    Raises CalendarError after MAX_IDLE_DAYS consecutive days without working time.
    """
    day = _wall(t, cal.tz).date() - _ONE_DAY
    idle = 0
    while True:
        spans = cal.day_spans(day)
        if spans:
            idle = 0
            for span in spans:
                if span[1] > t:
                    yield span
        else:
            idle += 1
            if idle > MAX_IDLE_DAYS:
                raise CalendarError(
                    f"calendar {cal.name} has no working time for {MAX_IDLE_DAYS} days"
                    f" after {day - dt.timedelta(days=MAX_IDLE_DAYS)}"
                )
        day += _ONE_DAY


def working_intervals(
    cal: Calendar, start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The working intervals clipped to [start, end), in time order, in UTC.

    Touching intervals (e.g. Monday until 24:00 and Tuesday from 00:00) are merged.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return
    tz = cal.tz
    day, last = _wall(start, tz).date() - _ONE_DAY, _wall(end, tz).date() + _ONE_DAY
    current: Span | None = None
    while day <= last:
        for lo, hi in cal.day_spans(day):
            lo, hi = max(lo, start), min(hi, end)
            if lo >= hi:
                continue
            if current is not None and lo <= current[1]:
                current = (current[0], max(current[1], hi))
                continue
            if current is not None:
                yield current
            current = (lo, hi)
        day += _ONE_DAY
    if current is not None:
        yield current


def business_time_between(cal: Calendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Working time in [start, end); zero if end <= start.

    The working time before ``end`` minus that before ``start``, each from running sums of
    whole days (a day's spans lie within its own local midnights) and the spans of its day.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return dt.timedelta(0)
    cal = _near(cal, start.date())
    return dt.timedelta(microseconds=_worked_before(cal, end) - _worked_before(cal, start))


def _near(cal: Calendar, day: dt.date) -> Calendar:
    """``cal``, or a fresh copy of it if its running sums lie more than MAX_HORIZON from
    ``day``: sums are only ever differenced, so a time far from those asked about before
    (a --now thousands of years on) starts sums of its own instead of growing the old ones
    day by day across the millennia between."""
    first = cal._first
    if not first:
        return cal
    lo = first[0] - MAX_HORIZON
    hi = first[0] + dt.timedelta(days=len(cal._sums)) + MAX_HORIZON
    if lo <= day <= hi:
        return cal
    return replace(cal)


_MICROSECOND = dt.timedelta(microseconds=1)
_MEMO_SIZE = 4096  # deadlines remembered per calendar (a sweep asks for one ticket's at a time)


def _day_length(spans: tuple[Span, ...]) -> int:
    return sum((hi - lo) // _MICROSECOND for lo, hi in spans)


def _worked_before(cal: Calendar, t: dt.datetime, day: dt.date | None = None) -> int:
    """Working microseconds from the calendar's first summed day until the instant ``t``
    (on local date ``day``, if the caller knows it)."""
    if day is None:
        day = t.astimezone(cal.tz).date()
    total = cal.worked_before_day(day)
    for lo, hi in cal.day_spans(day):
        if lo < t:
            total += (min(hi, t) - lo) // _MICROSECOND
    return total


def is_working(cal: Calendar, t: dt.datetime) -> bool:
    """Whether the instant ``t`` is working time."""
    t = _aware(t, "t")
    day = _wall(t, cal.tz).date()
    return any(
        lo <= t < hi for d in (day - _ONE_DAY, day, day + _ONE_DAY) for lo, hi in cal.day_spans(d)
    )


def next_working_instant(cal: Calendar, t: dt.datetime) -> dt.datetime:
    """``t`` (in UTC) if it is working time, else the start of the next working interval."""
    t = _aware(t, "t")
    lo, _hi = next(_spans_from(cal, t))  # never exhausted: it raises CalendarError instead
    return max(lo, t)


def add_business_time(cal: Calendar, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
    """The earliest instant d >= start with business_time_between(cal, start, d) == duration.

    A zero duration gives next_working_instant(cal, start). The result is in UTC.
    """
    return add_business_times(cal, start, (duration,))[0]


def add_business_times(
    cal: Calendar, start: dt.datetime, durations: Sequence[dt.timedelta]
) -> list[dt.datetime]:
    """add_business_time for several durations from one start, in one pass.

    Whole days are skipped by their running sums; only the last day's spans are looked at.
    """
    start = _aware(start, "start")
    day = _wall(start, cal.tz).date()
    cal = _near(cal, day)
    return _add_to(cal, start, day, _worked_before(cal, start, day), durations)


def business_time_and_deadlines(
    cal: Calendar, start: dt.datetime, end: dt.datetime, durations: Sequence[dt.timedelta]
) -> tuple[dt.timedelta, list[dt.datetime]]:
    """``business_time_between(cal, start, end)`` and ``add_business_times(cal, start,
    durations)`` at once (an SLA clock's time used and its deadlines share their start)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    day = _wall(start, cal.tz).date()
    cal = _near(cal, day)
    memo = _deadlines_from(cal)
    key = (start, tuple(durations))
    known = memo.get(key)
    if known is None:
        base = _worked_before(cal, start, day)
        known = (base, _add_to(cal, start, day, base, durations))
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = known
    base, found = known
    used = _worked_before(cal, end) - base if end > start else 0
    return dt.timedelta(microseconds=used), list(found)


_Deadlines = dict[tuple[dt.datetime, tuple[dt.timedelta, ...]], tuple[int, list[dt.datetime]]]
# business_time_and_deadlines' answers from one start, per calendar (by id, with the
# calendar itself so that an id is never taken for another's): (the running sum at the
# start, the deadlines) by (start, durations).  An SLA clock is asked for again at each
# instant a sweep replays, always from the same start.  Not a field of Calendar: its
# fields are what the sweep's configuration version hashes.
_DEADLINES: dict[int, tuple[Calendar, _Deadlines]] = {}


def _deadlines_from(cal: Calendar) -> _Deadlines:
    found = _DEADLINES.get(id(cal))
    if found is None or found[0] is not cal:
        if len(_DEADLINES) >= 64:  # (calendars of configurations no longer used)
            _DEADLINES.clear()
        found = _DEADLINES[id(cal)] = (cal, {})
    return found[1]


def _add_to(
    cal: Calendar, start: dt.datetime, day: dt.date, base: int, durations: Sequence[dt.timedelta]
) -> list[dt.datetime]:
    """add_business_times, given ``start`` (in UTC), its local date and the running sum
    ``base`` at it."""
    for duration in durations:
        if duration < _ZERO:
            raise CalendarError(f"duration {format_duration(duration)} is negative")
    found: list[dt.datetime] = []
    last_day = (start + MAX_HORIZON).date() + _ONE_DAY
    done = cal.worked_before_day(day + _ONE_DAY)  # by the end of ``day``
    ordered = durations if len(durations) < 2 else sorted(durations)
    for duration in ordered:
        if not duration:
            found.append(next_working_instant(cal, start))
            continue
        goal = base + duration // _MICROSECOND
        if done < goal:
            reached = cal.day_reaching(goal, day)
            if reached is not None and _within(reached, day, last_day):
                day, done = reached, cal.worked_before_day(reached + _ONE_DAY)
            else:
                day, done = _scan_to(cal, start, duration, goal, day, done, last_day)
        moment = _instant_of(cal, day, goal)
        if moment - start > MAX_HORIZON:
            raise _beyond_horizon(cal, start, duration)
        found.append(moment)
    if ordered is durations:
        return found
    return [found[ordered.index(d)] for d in durations]


def _within(reached: dt.date, day: dt.date, last_day: dt.date) -> bool:
    """Whether the scan from ``day`` to ``reached`` would neither give up (too many days
    without work) nor pass the horizon on the way."""
    return reached <= last_day and (reached - day).days <= MAX_IDLE_DAYS


def _scan_to(
    cal: Calendar,
    start: dt.datetime,
    duration: dt.timedelta,
    goal: int,
    day: dt.date,
    done: int,
    last_day: dt.date,
) -> tuple[dt.date, int]:
    """Day by day from ``day`` to the one by whose end ``goal`` is worked, growing the sums;
    raises CalendarError after MAX_IDLE_DAYS days without work or beyond the horizon."""
    idle = 0
    while done < goal:
        day += _ONE_DAY
        before, done = done, cal.worked_before_day(day + _ONE_DAY)
        idle = idle + 1 if done == before else 0
        if idle > MAX_IDLE_DAYS:
            raise CalendarError(
                f"calendar {cal.name} has no working time for {MAX_IDLE_DAYS} days"
                f" after {day - dt.timedelta(days=MAX_IDLE_DAYS)}"
            )
        if day > last_day:
            raise _beyond_horizon(cal, start, duration)
    return day, done


def _instant_of(cal: Calendar, day: dt.date, goal: int) -> dt.datetime:
    """The instant on local date ``day`` by which ``goal`` microseconds are worked."""
    total = cal.worked_before_day(day)
    for lo, hi in cal.day_spans(day):
        length = (hi - lo) // _MICROSECOND
        if total + length >= goal:
            return lo + dt.timedelta(microseconds=goal - total)
        total += length
    raise AssertionError("the running sums say the goal is reached on this day")


def _beyond_horizon(cal: Calendar, start: dt.datetime, duration: dt.timedelta) -> CalendarError:
    return CalendarError(
        f"{format_duration(duration)} of business time on calendar {cal.name} ends more than"
        f" {MAX_HORIZON.days // 365} years after {start.isoformat()}"
    )


# --- parsing calendars ---------------------------------------------------------------------

_TIME_RANGE = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})")
_DAY_RANGE = re.compile(r"([a-z]+)(?:\s*-\s*([a-z]+))?")
_HOLIDAY = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:\s+(.*))?", re.DOTALL)


def parse_calendars(data: object) -> dict[str, Calendar]:
    """Parse the ``calendars:`` mapping of name -> calendar settings."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise CalendarError(f"calendars: expected a mapping of names, got {_kind(data)}")
    result: dict[str, Calendar] = {}
    for name, body in data.items():
        if not isinstance(name, str) or not name.strip():
            raise CalendarError(f"calendars: {_q(name)} is not a calendar name")
        result[name] = parse_calendar(name, body)
    return result


def parse_calendar(name: str, data: object) -> Calendar:
    """Parse one calendar's settings: ``timezone``, ``hours`` and optional ``holidays``."""
    where = f"calendars.{name}"
    if not isinstance(data, Mapping):
        raise CalendarError(f"{where}: expected a mapping, got {_kind(data)}")
    for key in data:
        if key not in CALENDAR_KEYS:
            hint = did_you_mean(key, CALENDAR_KEYS) if isinstance(key, str) else ""
            raise CalendarError(
                f"{where}: unknown key {_q(key)}{hint} (expected {', '.join(CALENDAR_KEYS)})"
            )
    for key in ("timezone", "hours"):
        if key not in data:
            raise CalendarError(f"{where}: missing key {_q(key)}")
    timezone = _parse_timezone(f"{where}.timezone", data["timezone"])
    weekly = _parse_hours(f"{where}.hours", data["hours"])
    holidays = _parse_holidays(f"{where}.holidays", data.get("holidays"))
    if not any(weekly):
        raise CalendarError(f"calendar {name} has no working hours")
    return Calendar(name=name, timezone=timezone, weekly=weekly, holidays=holidays)


def _q(value: object) -> str:
    """A value for a message: strings in double quotes, anything else as
    :func:`esc.domain.choices.shown` has it (never Python's notation: ``{'from': …}``)."""
    return f'"{value}"' if isinstance(value, str) else shown(value)


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _parse_timezone(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CalendarError(f"{where}: expected a time zone name like Europe/Berlin")
    zone = value.strip()
    if zone.lower() in ("localtime", "factory") or zone.startswith("right/"):
        # (the machine's own zone, which another host has otherwise, so the same files gave
        # other deadlines there; no zone at all; leap seconds counted, as no clock does)
        raise CalendarError(
            f"{where}: {_q(value)} is no time zone every machine reads alike: name one, like"
            " Europe/Berlin"
        )
    try:
        _zone(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError(f"{where}: unknown time zone {_q(value)}{_zone_meant(zone)}") from None
    return zone


def _zone_meant(zone: str) -> str:
    """`` (did you mean 'Europe/Berlin'?)`` for a zone misspelt (``Europe/Berln``, in
    other case) or given by its city alone (``Berlin``, ``New York``); nothing for an
    offset (``GMT+2``: `Etc/GMT+2` is two hours *behind* UTC, as POSIX signs it)."""
    if _OFFSET_LIKE.search(zone):
        return ""
    from zoneinfo import available_timezones  # (a walk of the zone files: for a wrong one)

    names = sorted(
        (n for n in available_timezones() if n.split("/", 1)[0] not in _NOT_MEANT),
        key=lambda n: (n.split("/", 1)[0] not in _REGIONS, n),
    )  # (the regions' names first: `Europe/Berlin`, not an old alias of it)
    city = folded(zone.replace(" ", "_"))
    by_city = [name for name in names if folded(name.rsplit("/", 1)[-1]) == city]
    if by_city:
        return f" (did you mean {' or '.join(repr(n) for n in by_city[:2])}?)"
    return did_you_mean(zone, names)


_OFFSET_LIKE = re.compile(r"[+-]\d")
# (names _parse_timezone refuses, and those no machine reads alike: never suggested)
_NOT_MEANT = frozenset({"Factory", "localtime", "right", "posix"})
_REGIONS = frozenset({
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
    "Indian", "Pacific",
})  # fmt: skip


def _parse_hours(where: str, value: object) -> tuple[tuple[Range, ...], ...]:
    if not isinstance(value, Mapping):
        raise CalendarError(f"{where}: expected a mapping like mon-fri: 09:00-17:00")
    weekly: list[tuple[Range, ...]] = [() for _ in DAY_NAMES]
    given_by: dict[int, str] = {}
    for key, ranges in value.items():
        key_where = f"{where}.{key}"
        days = _parse_days(key_where, key)
        parsed = _parse_ranges(key_where, ranges)
        for day in days:
            if day in given_by:
                raise CalendarError(
                    f"{key_where}: {DAY_NAMES[day]} is already given by {_q(given_by[day])}"
                )
            given_by[day] = str(key)
            weekly[day] = parsed
    return tuple(weekly)


def _parse_days(where: str, key: object) -> list[int]:
    if not isinstance(key, str) or not key.strip():
        raise CalendarError(f"{where}: {_q(key)} is not a day (mon..sun, mon-fri, or mon, wed)")
    days: list[int] = []
    for part in key.lower().split(","):
        match = _DAY_RANGE.fullmatch(part.strip())
        first = _day_index(match.group(1)) if match else None
        last = _day_index(match.group(2) or match.group(1)) if match else None
        if first is None or last is None:
            raise CalendarError(
                f"{where}: {_q(part.strip())} is not a day or day range (mon..sun, mon-fri)"
                f"{_days_meant(match)}"
            )
        span = (last - first) % 7
        for offset in range(span + 1):
            day = (first + offset) % 7
            if day in days:
                raise CalendarError(f"{where}: {DAY_NAMES[day]} is named twice")
            days.append(day)
    return days


def _days_meant(match: re.Match[str] | None) -> str:
    """`` (did you mean 'mon-fri'?)`` for a day or range with a day misspelt (``mon-fir``,
    ``tues``), else nothing."""
    if match is None:
        return ""
    meant = []
    for name in filter(None, match.groups()):
        if name not in DAY_NAMES:
            hint = did_you_mean(name, DAY_NAMES)
            if not hint:
                return ""
            name = hint.split("'")[1]
        meant.append(name)
    return f" (did you mean {'-'.join(meant)!r}?)"


def _day_index(name: str) -> int | None:
    return DAY_NAMES.index(name) if name in DAY_NAMES else None


def _parse_ranges(where: str, value: object) -> tuple[Range, ...]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = ", ".join(value)
    if not isinstance(value, str) or not value.strip():
        raise CalendarError(f"{where}: {_q(value)} is not a time range (HH:MM-HH:MM)")
    ranges = []
    for part in value.split(","):
        ranges.append(_parse_range(where, part.strip()))
    ranges.sort()
    merged: list[Range] = []
    for start, end in ranges:
        if merged and start < merged[-1][1]:
            raise CalendarError(
                f"{where}: time ranges {_show_range(merged[-1])} and"
                f" {_show_range((start, end))} overlap"
            )
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_range(where: str, text: str) -> Range:
    match = _TIME_RANGE.fullmatch(text)
    bad = f'{where}: "{text}" is not a time range (HH:MM-HH:MM)'
    if not match:
        raise CalendarError(bad)
    sh, sm, eh, em = (int(group) for group in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
        raise CalendarError(bad)
    start, end = sh * 60 + sm, eh * 60 + em
    if start == end:
        raise CalendarError(f'{where}: "{text}" is empty (it ends as it starts)')
    if start > end:
        raise CalendarError(
            f'{where}: "{text}" ends before it starts (one past midnight: split it over two days)'
        )
    return (start, end)


def _show_range(span: Range) -> str:
    return f'"{_show_minute(span[0])}-{_show_minute(span[1])}"'


def _show_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_holidays(
    where: str, value: object
) -> tuple[tuple[dt.date, tuple[Range, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise CalendarError(f"{where}: expected a list of dates, got {_kind(value)}")
    result: dict[dt.date, tuple[Range, ...]] = {}
    for index, item in enumerate(value):
        day, off = _parse_holiday(f"{where}[{index}]", item)
        if day in result:
            off = _union(result[day] + off)
        result[day] = off
    return tuple(sorted(result.items()))


def _parse_holiday(where: str, item: object) -> tuple[dt.date, tuple[Range, ...]]:
    whole_day: tuple[Range, ...] = ((0, MINUTES_PER_DAY),)
    if isinstance(item, dt.datetime):
        raise CalendarError(
            f'{where}: {item.isoformat(" ")} is a timestamp; write "YYYY-MM-DD HH:MM-HH:MM"'
        )
    if isinstance(item, dt.date):
        return item, whole_day
    bad = f'{where}: {_q(item)} is not a date (YYYY-MM-DD or "YYYY-MM-DD HH:MM-HH:MM")'
    if not isinstance(item, str):
        raise CalendarError(bad)
    match = _HOLIDAY.fullmatch(item.strip())
    if not match:
        raise CalendarError(bad)
    try:
        day = dt.date.fromisoformat(match.group(1))
    except ValueError:
        raise CalendarError(bad) from None
    if match.group(2) is None:
        return day, whole_day
    return day, _parse_ranges(where, match.group(2))


def _union(ranges: Iterable[Range]) -> tuple[Range, ...]:
    merged: list[Range] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)
