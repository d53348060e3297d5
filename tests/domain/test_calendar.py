"""Tests for esc.calendar: golden cases computed by hand, parse errors, and properties."""
from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if importlib.util.find_spec("esc") is None:  # pragma: no cover
    # Let `pytest tests/test_calendar.py` work in a checkout where esc is not installed.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from esc.domain.calendar import (
    Calendar,
    CalendarError,
    add_business_time,
    add_business_times,
    business_time_between,
    is_working,
    next_working_instant,
    parse_calendar,
    parse_calendars,
    working_intervals,
)

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE_DATA: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "hours": {"mon-thu": "09:00-17:00", "fri": "09:00-13:00, 14:00-16:00"},
    "holidays": [dt.date(2026, 12, 25), "2026-12-26", "2026-12-24 12:00-17:00"],
}
CONFIG: dict[str, Any] = {
    "office": OFFICE_DATA,
    "always": {"timezone": "UTC", "hours": {"mon-sun": "00:00-24:00"}},
    "always_berlin": {"timezone": "Europe/Berlin", "hours": {"mon-sun": "00:00-24:00"}},
    "always_ny": {"timezone": "America/New_York", "hours": {"mon-sun": "00:00-24:00"}},
    "ny": {
        "timezone": "America/New_York",
        "hours": {"mon-fri": "09:00-17:00"},
        "holidays": ["2026-11-26", "2026-12-24 13:00-17:00"],
    },
    # Sunday night hours that cross both DST transitions in Europe/Berlin.
    "nights": {
        "timezone": "Europe/Berlin",
        "hours": {"sun": "01:00-04:00", "mon-fri": "09:00-17:00"},
    },
}
CALS = parse_calendars(CONFIG)
OFFICE, ALWAYS, NY = CALS["office"], CALS["always"], CALS["ny"]
ALWAYS_BERLIN, ALWAYS_NY, NIGHTS = CALS["always_berlin"], CALS["always_ny"], CALS["nights"]

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def _at(tz: dt.tzinfo, year: int, month: int, day: int, *hms: int) -> dt.datetime:
    hour, minute, second, micro = (*hms, 0, 0, 0, 0)[:4]
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def berlin(year: int, month: int, day: int, *hms: int) -> dt.datetime:
    """A Europe/Berlin wall-clock time (fold=0)."""
    return _at(BERLIN, year, month, day, *hms)


def ny(year: int, month: int, day: int, *hms: int) -> dt.datetime:
    return _at(NEW_YORK, year, month, day, *hms)


def utc(year: int, month: int, day: int, *hms: int) -> dt.datetime:
    return _at(UTC, year, month, day, *hms)


def test_dates_used_below_fall_on_the_weekdays_the_comments_claim() -> None:
    assert dt.date(2026, 1, 9).strftime("%a") == "Fri"
    assert dt.date(2026, 1, 12).strftime("%a") == "Mon"
    assert dt.date(2026, 12, 24).strftime("%a") == "Thu"
    for sunday in ("2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01"):
        assert dt.date.fromisoformat(sunday).strftime("%a") == "Sun"


# --- parsing -------------------------------------------------------------------------------


def test_parse_office_calendar() -> None:
    assert OFFICE.name == "office"
    assert OFFICE.timezone == "Europe/Berlin"
    assert OFFICE.tz is ZoneInfo("Europe/Berlin")
    day = ((540, 1020),)
    assert OFFICE.weekly == (day, day, day, day, ((540, 780), (840, 960)), (), ())
    assert OFFICE.holidays == (
        (dt.date(2026, 12, 24), ((720, 1020),)),
        (dt.date(2026, 12, 25), ((0, 1440),)),
        (dt.date(2026, 12, 26), ((0, 1440),)),
    )
    assert hash(OFFICE) == hash(parse_calendar("office", OFFICE_DATA))
    assert parse_calendar("office", OFFICE_DATA) == OFFICE


@pytest.mark.parametrize(
    ("key", "days"),
    [
        ("mon-fri", [0, 1, 2, 3, 4]),
        ("sat-sun", [5, 6]),
        ("fri-mon", [0, 4, 5, 6]),  # wraps over the weekend
        ("mon, wed", [0, 2]),
        ("Mon - Tue, fri", [0, 1, 4]),
        ("sun", [6]),
        ("mon-sun", [0, 1, 2, 3, 4, 5, 6]),
    ],
)
def test_day_keys(key: str, days: list[int]) -> None:
    cal = parse_calendar("c", {"timezone": "UTC", "hours": {key: "10:00-11:00"}})
    assert [i for i, ranges in enumerate(cal.weekly) if ranges] == days


def test_ranges_are_sorted_and_touching_ones_merged() -> None:
    cal = parse_calendar(
        "c", {"timezone": "UTC", "hours": {"mon": "14:00-24:00, 08:00-12:00, 12:00-13:00"}}
    )
    assert cal.weekly[0] == ((480, 780), (840, 1440))


def test_range_lists_and_holiday_duplicates() -> None:
    cal = parse_calendar(
        "c",
        {
            "timezone": "UTC",
            "hours": {"mon": ["08:00-12:00", "13:00-17:00"]},
            "holidays": ["2026-01-05 08:00-09:00", "2026-01-05 10:00-11:00"],
        },
    )
    assert cal.weekly[0] == ((480, 720), (780, 1020))
    assert cal.holidays == ((dt.date(2026, 1, 5), ((480, 540), (600, 660))),)


def test_parse_calendars_empty_and_names() -> None:
    assert parse_calendars(None) == {}
    assert set(CALS) == set(CONFIG)


BAD_CALENDARS: list[tuple[object, str]] = [
    ("nope", "calendars.office: expected a mapping"),
    ({"hours": {"mon": "09:00-17:00"}}, 'missing key "timezone"'),
    ({"timezone": "UTC"}, 'missing key "hours"'),
    ({"timezone": "UTC", "hours": {"mon": "9-5"}, "hour": {}}, 'unknown key "hour"'),
    ({"timezone": "Europe/Berln", "hours": {"mon": "09:00-17:00"}}, '"Europe/Berln"'),
    ({"timezone": "", "hours": {"mon": "09:00-17:00"}}, "calendars.office.timezone"),
    ({"timezone": "../etc/passwd", "hours": {"mon": "09:00-17:00"}}, "unknown time zone"),
    # (the machine's own zone: the same files gave other deadlines on another host)
    ({"timezone": "localtime", "hours": {"mon": "09:00-17:00"}}, "every machine reads alike"),
    ({"timezone": "Factory", "hours": {"mon": "09:00-17:00"}}, "every machine reads alike"),
    ({"timezone": "right/UTC", "hours": {"mon": "09:00-17:00"}}, "every machine reads alike"),
    ({"timezone": "UTC", "hours": {"fri": "09:00-25:00"}}, 'hours.fri: "09:00-25:00" is not'),
    ({"timezone": "UTC", "hours": {"fri": "09:60-10:00"}}, 'hours.fri: "09:60-10:00"'),
    ({"timezone": "UTC", "hours": {"fri": "24:00-24:00"}}, 'hours.fri: "24:00-24:00"'),
    ({"timezone": "UTC", "hours": {"fri": "24:30"}}, 'hours.fri: "24:30"'),
    ({"timezone": "UTC", "hours": {"fri": "17:00-09:00"}}, 'hours.fri: "17:00-09:00" ends before'),
    ({"timezone": "UTC", "hours": {"fri": "09:00-09:00"}}, 'hours.fri: "09:00-09:00" is empty'),
    ({"timezone": "UTC", "hours": {"fri": ""}}, "hours.fri"),
    ({"timezone": "UTC", "hours": {"fri": 9}}, "hours.fri: 9 is not a time range"),
    (
        {"timezone": "UTC", "hours": {"mon": "09:00-13:00, 12:00-14:00"}},
        'hours.mon: time ranges "09:00-13:00" and "12:00-14:00" overlap',
    ),
    ({"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00", "fri": "10:00-11:00"}}, "fri"),
    ({"timezone": "UTC", "hours": {"mon, mon": "09:00-17:00"}}, "mon is named twice"),
    ({"timezone": "UTC", "hours": {"mon-fry": "09:00-17:00"}}, 'hours.mon-fry: "mon-fry"'),
    (  # (a day misspelt: the range meant, audit helper-382)
        {"timezone": "UTC", "hours": {"mon-fir": "09:00-17:00"}},
        '"mon-fir" is not a day or day range (mon..sun, mon-fri) (did you mean \'mon-fri\'?)',
    ),
    ({"timezone": "UTC", "hours": {"tues": "09:00-17:00"}}, "(did you mean 'tue'?)"),
    ({"timezone": "UTC", "hours": {"": "09:00-17:00"}}, "is not a day"),
    ({"timezone": "UTC", "hours": ["mon"]}, "calendars.office.hours: expected a mapping"),
    ({"timezone": "UTC", "hours": {}}, "calendar office has no working hours"),
    (
        {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": "2026-12-25"},
        "calendars.office.holidays: expected a list",
    ),
    (
        {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": ["2026-13-01"]},
        'holidays[0]: "2026-13-01" is not a date',
    ),
    (
        {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": ["2026-12-24 noon"]},
        'holidays[0]: "noon" is not a time range',
    ),
    (
        {"timezone": "UTC", "hours": {"mon": "09:00-17:00"}, "holidays": [20261225]},
        "holidays[0]: 20261225 is not a date",
    ),
    (  # (a range of days: said in the file's terms, not Python's `{'from': datetime…}`)
        {
            "timezone": "UTC",
            "hours": {"mon": "09:00-17:00"},
            "holidays": [{"from": dt.date(2026, 1, 1), "to": dt.date(2030, 12, 31)}],
        },
        'holidays[0]: a mapping is not a date (YYYY-MM-DD or "YYYY-MM-DD HH:MM-HH:MM")',
    ),
    (
        {
            "timezone": "UTC",
            "hours": {"mon": "09:00-17:00"},
            "holidays": [dt.datetime(2026, 12, 24, 12, 0)],
        },
        "holidays[0]: 2026-12-24 12:00:00 is a timestamp",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_CALENDARS)
def test_bad_calendar(data: object, message: str) -> None:
    with pytest.raises(CalendarError) as info:
        parse_calendar("office", data)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_bad_calendars_mapping() -> None:
    with pytest.raises(CalendarError, match="calendars: expected a mapping"):
        parse_calendars(["office"])
    with pytest.raises(CalendarError, match="calendars: 3 is not a calendar name"):
        parse_calendars({3: CONFIG["always"]})
    with pytest.raises(CalendarError, match=r"calendars\.broken\.hours"):
        parse_calendars({"ok": CONFIG["always"], "broken": {"timezone": "UTC", "hours": 1}})


# --- durations -----------------------------------------------------------------------------


# --- golden cases: office calendar (Europe/Berlin, winter time UTC+1 unless noted) ------------


def test_out_of_hours_creation() -> None:
    # Friday 2026-01-09 18:00 is after Friday's 16:00 close; Sat and Sun are off.
    # Counting starts Monday 2026-01-12 09:00; 09:00 + 4h = 13:00 local (12:00 UTC).
    result = add_business_time(OFFICE, berlin(2026, 1, 9, 18), 4 * H)
    assert result == berlin(2026, 1, 12, 13)
    assert result.tzinfo is UTC
    assert result == utc(2026, 1, 12, 12)


def test_split_day() -> None:
    # Friday 12:00-13:00 gives 1h, the 13:00-14:00 break is skipped, 14:00 + 1h = 15:00.
    assert add_business_time(OFFICE, berlin(2026, 1, 9, 12), 2 * H) == berlin(2026, 1, 9, 15)
    # Between Friday 12:30 and 14:30: 12:30-13:00 (30m) + 14:00-14:30 (30m) = 1h.
    between = business_time_between(OFFICE, berlin(2026, 1, 9, 12, 30), berlin(2026, 1, 9, 14, 30))
    assert between == H


def test_weekend() -> None:
    # Saturday 2026-01-10 10:00: nothing until Monday 09:00; + 1h = Monday 10:00.
    assert add_business_time(OFFICE, berlin(2026, 1, 10, 10), H) == berlin(2026, 1, 12, 10)
    # Friday 15:00-16:00 (1h) + Monday 09:00-10:00 (1h) = 2h.
    between = business_time_between(OFFICE, berlin(2026, 1, 9, 15), berlin(2026, 1, 12, 10))
    assert between == 2 * H
    # A whole week: Mon-Thu 4 x 8h + Friday 4h + 2h = 38h.
    assert business_time_between(OFFICE, berlin(2026, 1, 12), berlin(2026, 1, 19)) == 38 * H


def test_partial_holiday() -> None:
    # Thu 2026-12-24 is off from 12:00, so 10:00-12:00 counts 2h; Fri 25 and Sat 26 are
    # holidays, Sun is off; the remaining 2h run Mon 2026-12-28 09:00-11:00.
    assert add_business_time(OFFICE, berlin(2026, 12, 24, 10), 4 * H) == berlin(2026, 12, 28, 11)
    assert not is_working(OFFICE, berlin(2026, 12, 24, 12))
    assert is_working(OFFICE, berlin(2026, 12, 24, 11, 59))
    # A ticket created on the 24th at 13:00 waits until Monday 09:00.
    assert next_working_instant(OFFICE, berlin(2026, 12, 24, 13)) == berlin(2026, 12, 28, 9)


def test_whole_holidays() -> None:
    # Wed 2026-12-23 16:00-17:00 = 1h, Thu 24 09:00-12:00 = 3h (4h so far), Fri 25 holiday
    # (its normal 6h do not count), weekend; Mon 28 09:00 + 4h = 13:00.
    assert add_business_time(OFFICE, berlin(2026, 12, 23, 16), 8 * H) == berlin(2026, 12, 28, 13)
    # Between Wed 23 00:00 and Tue 29 00:00: 8h + 3h + 0 + 0 + 0 + 8h = 19h.
    assert business_time_between(OFFICE, berlin(2026, 12, 23), berlin(2026, 12, 29)) == 19 * H


def test_more_than_a_week() -> None:
    # The office week has 38h. From Mon 2026-01-12 09:00, 100h = 2 weeks (76h) -> Mon 26 09:00,
    # then 24h more = Mon 8h + Tue 8h + Wed 8h, ending exactly at Wed 2026-01-28 17:00.
    start = berlin(2026, 1, 12, 9)
    assert add_business_time(OFFICE, start, 100 * H) == berlin(2026, 1, 28, 17)
    assert business_time_between(OFFICE, start, berlin(2026, 1, 28, 17)) == 100 * H
    # 500h = 13 weeks (494h) + 6h. From Mon 2026-01-05 09:00, 13 weeks on is Mon 2026-04-06
    # 09:00, now in summer time (UTC+2) but still 09:00 on the wall; + 6h = 15:00 local.
    result = add_business_time(OFFICE, berlin(2026, 1, 5, 9), 500 * H)
    assert result == berlin(2026, 4, 6, 15)
    assert result == utc(2026, 4, 6, 13)


def test_very_long_targets() -> None:
    # 10000h on an always-on calendar is exactly 10000h of real time.
    assert add_business_time(ALWAYS, utc(2026, 1, 1), 10000 * H) == utc(2026, 1, 1) + 10000 * H
    # 5 years of office time: 38h/week, with 3 holiday days (Dec 2026) along the way.
    start = berlin(2026, 1, 5, 9)
    end = add_business_time(OFFICE, start, 38 * 52 * 5 * H)
    assert business_time_between(OFFICE, start, end) == 38 * 52 * 5 * H


def test_zero_duration_is_next_working_instant() -> None:
    assert add_business_time(OFFICE, berlin(2026, 1, 10, 10), dt.timedelta(0)) == berlin(
        2026, 1, 12, 9
    )
    inside = berlin(2026, 1, 12, 10, 17, 3, 5)
    assert add_business_time(OFFICE, inside, dt.timedelta(0)) == inside


def test_negative_duration_rejected() -> None:
    with pytest.raises(CalendarError, match="negative"):
        add_business_time(OFFICE, berlin(2026, 1, 12, 10), -M)


def test_is_working_and_next_working_instant() -> None:
    assert is_working(OFFICE, berlin(2026, 1, 12, 9))  # start is inclusive
    assert not is_working(OFFICE, berlin(2026, 1, 12, 17))  # end is exclusive
    assert not is_working(OFFICE, berlin(2026, 1, 9, 13, 30))  # Friday break
    assert not is_working(OFFICE, berlin(2026, 1, 11, 12))  # Sunday
    assert next_working_instant(OFFICE, berlin(2026, 1, 9, 13, 30)) == berlin(2026, 1, 9, 14)
    assert next_working_instant(OFFICE, berlin(2026, 1, 12, 17)) == berlin(2026, 1, 13, 9)
    t = berlin(2026, 1, 12, 12)
    assert next_working_instant(OFFICE, t) == t
    assert next_working_instant(OFFICE, t).tzinfo is UTC
    assert is_working(ALWAYS, utc(2026, 1, 1))


def test_working_intervals() -> None:
    # Friday 2026-01-09 10:00 to Monday 12 10:00 (UTC+1): Fri 10-13, Fri 14-16, Mon 09-10.
    assert list(working_intervals(OFFICE, berlin(2026, 1, 9, 10), berlin(2026, 1, 12, 10))) == [
        (utc(2026, 1, 9, 9), utc(2026, 1, 9, 12)),
        (utc(2026, 1, 9, 13), utc(2026, 1, 9, 15)),
        (utc(2026, 1, 12, 8), utc(2026, 1, 12, 9)),
    ]
    # Touching days are merged into one interval.
    assert list(working_intervals(ALWAYS, utc(2026, 1, 1, 12), utc(2026, 1, 4))) == [
        (utc(2026, 1, 1, 12), utc(2026, 1, 4))
    ]
    assert list(working_intervals(OFFICE, berlin(2026, 1, 12, 10), berlin(2026, 1, 12, 10))) == []
    backwards = business_time_between(OFFICE, berlin(2026, 1, 13), berlin(2026, 1, 12))
    assert backwards == dt.timedelta(0)


def test_naive_datetimes_rejected() -> None:
    naive = dt.datetime(2026, 1, 12, 10)
    with pytest.raises(ValueError, match="no time zone"):
        add_business_time(OFFICE, naive, H)
    with pytest.raises(ValueError, match="no time zone"):
        is_working(OFFICE, naive)
    with pytest.raises(ValueError, match="no time zone"):
        business_time_between(OFFICE, berlin(2026, 1, 12), naive)
    with pytest.raises(ValueError, match="no time zone"):
        next_working_instant(OFFICE, naive)


def test_no_working_time_for_400_days_is_an_error() -> None:
    # Every day of 2026 and 2027 is a holiday: nothing within 400 days of the start.
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(730)]
    cal = parse_calendar("closed", {"timezone": "UTC", "hours": {"mon-sun": "09:00-17:00"},
                                    "holidays": days})
    with pytest.raises(CalendarError, match="calendar closed has no working time for 400 days"):
        add_business_time(cal, utc(2026, 1, 1), H)
    with pytest.raises(CalendarError, match="no working time"):
        next_working_instant(cal, utc(2026, 1, 1))
    # Bounded questions are still answered.
    assert business_time_between(cal, utc(2026, 1, 1), utc(2027, 12, 31)) == dt.timedelta(0)
    assert not is_working(cal, utc(2026, 6, 1, 10))
    # Shortly before the closure, working time is found as usual.
    assert add_business_time(cal, utc(2025, 12, 31, 16), H) == utc(2025, 12, 31, 17)


def test_targets_beyond_ten_years_are_an_error() -> None:
    with pytest.raises(CalendarError, match="more than 10 years"):
        add_business_time(ALWAYS, utc(2026, 1, 1), dt.timedelta(weeks=600))


# --- DST -----------------------------------------------------------------------------------


def test_berlin_spring_forward_keeps_wall_clock_hours() -> None:
    # 2026-03-29 (Sunday) 02:00 CET -> 03:00 CEST. Friday 27 is UTC+1, Monday 30 UTC+2.
    assert list(working_intervals(OFFICE, berlin(2026, 3, 30), berlin(2026, 3, 31))) == [
        (utc(2026, 3, 30, 7), utc(2026, 3, 30, 15))  # 09:00-17:00 CEST
    ]
    # Fri 27 15:00-16:00 (1h), then Monday 30 09:00 + 1h = 10:00 CEST = 08:00 UTC.
    result = add_business_time(OFFICE, berlin(2026, 3, 27, 15), 2 * H)
    assert result == berlin(2026, 3, 30, 10)
    assert result == utc(2026, 3, 30, 8)
    # Fri 27 09:00 to Mon 30 17:00: Friday 6h + Monday 8h = 14h, no hour gained or lost.
    assert business_time_between(OFFICE, berlin(2026, 3, 27, 9), berlin(2026, 3, 30, 17)) == 14 * H


def test_berlin_fall_back_keeps_wall_clock_hours() -> None:
    # 2026-10-25 (Sunday) 03:00 CEST -> 02:00 CET. Friday 23 is UTC+2, Monday 26 UTC+1.
    assert list(working_intervals(OFFICE, berlin(2026, 10, 26), berlin(2026, 10, 27))) == [
        (utc(2026, 10, 26, 8), utc(2026, 10, 26, 16))  # 09:00-17:00 CET
    ]
    # Fri 23 15:00-16:00 (1h), then Monday 26 09:00 + 2h = 11:00 CET = 10:00 UTC.
    result = add_business_time(OFFICE, berlin(2026, 10, 23, 15), 3 * H)
    assert result == berlin(2026, 10, 26, 11)
    assert result == utc(2026, 10, 26, 10)
    between = business_time_between(OFFICE, berlin(2026, 10, 23, 9), berlin(2026, 10, 26, 17))
    assert between == 14 * H


def test_new_york_spring_forward_keeps_wall_clock_hours() -> None:
    # 2026-03-08 (Sunday) 02:00 EST -> 03:00 EDT. Fri 6 is UTC-5, Mon 9 UTC-4.
    # Fri 16:00-17:00 (1h), Monday 09:00 EDT + 1h = 10:00 EDT = 14:00 UTC.
    result = add_business_time(NY, ny(2026, 3, 6, 16), 2 * H)
    assert result == ny(2026, 3, 9, 10)
    assert result == utc(2026, 3, 9, 14)
    # Fri 09:00 to Mon 17:00 = 8h + 8h.
    assert business_time_between(NY, ny(2026, 3, 6, 9), ny(2026, 3, 9, 17)) == 16 * H


def test_new_york_fall_back_keeps_wall_clock_hours() -> None:
    # 2026-11-01 (Sunday) 02:00 EDT -> 01:00 EST. Fri Oct 30 is UTC-4, Mon Nov 2 UTC-5.
    # Fri 16:00-17:00 (1h), Monday 09:00 EST + 1h = 10:00 EST = 15:00 UTC.
    result = add_business_time(NY, ny(2026, 10, 30, 16), 2 * H)
    assert result == ny(2026, 11, 2, 10)
    assert result == utc(2026, 11, 2, 15)
    assert business_time_between(NY, ny(2026, 10, 30, 9), ny(2026, 11, 2, 17)) == 16 * H


@pytest.mark.parametrize(
    ("cal", "tz", "day", "hours"),
    [
        (ALWAYS_BERLIN, BERLIN, dt.date(2026, 3, 29), 23),
        (ALWAYS_BERLIN, BERLIN, dt.date(2026, 10, 25), 25),
        (ALWAYS_NY, NEW_YORK, dt.date(2026, 3, 8), 23),
        (ALWAYS_NY, NEW_YORK, dt.date(2026, 11, 1), 25),
        (ALWAYS_BERLIN, BERLIN, dt.date(2026, 3, 28), 24),
        (ALWAYS_NY, NEW_YORK, dt.date(2026, 11, 2), 24),
    ],
)
def test_always_calendar_counts_real_time_on_transition_days(
    cal: Calendar, tz: ZoneInfo, day: dt.date, hours: int
) -> None:
    # 00:00-24:00 local spans the transition: count elapsed time, 23h or 25h.
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    assert business_time_between(cal, start, end) == hours * H
    assert add_business_time(cal, start, hours * H) == end
    assert list(working_intervals(cal, start, end)) == [
        (start.astimezone(UTC), end.astimezone(UTC))
    ]


def test_nonexistent_boundary_maps_to_end_of_gap() -> None:
    # On 2026-03-29 Berlin skips 02:00-03:00 local. The Sunday range 01:00-04:00 starts at
    # 01:00 CET (00:00 UTC) and ends at 04:00 CEST (02:00 UTC): 2h of real time.
    assert business_time_between(NIGHTS, berlin(2026, 3, 29), berlin(2026, 3, 29, 12)) == 2 * H
    # A range starting at 02:30, which does not exist, starts at 03:00 CEST = 01:00 UTC.
    cal = parse_calendar("c", {"timezone": "Europe/Berlin", "hours": {"sun": "02:30-04:00"}})
    assert list(working_intervals(cal, berlin(2026, 3, 29), berlin(2026, 3, 30))) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    ]
    # A range entirely inside the gap is empty that day.
    gap = parse_calendar(
        "c", {"timezone": "Europe/Berlin", "hours": {"sun": "02:10-02:50", "mon": "09:00-10:00"}}
    )
    assert business_time_between(gap, berlin(2026, 3, 29), berlin(2026, 3, 30)) == dt.timedelta(0)
    assert business_time_between(gap, berlin(2026, 3, 22), berlin(2026, 3, 23)) == 40 * M
    # New York: 2026-03-08 skips 02:00-03:00; 02:30 maps to 03:00 EDT = 07:00 UTC.
    cal = parse_calendar("c", {"timezone": "America/New_York", "hours": {"sun": "02:30-04:00"}})
    assert list(working_intervals(cal, ny(2026, 3, 8), ny(2026, 3, 9))) == [
        (utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))
    ]


def test_ambiguous_boundary_uses_first_occurrence() -> None:
    # On 2026-10-25 Berlin repeats 02:00-03:00 local. 02:30 is taken at its first occurrence,
    # 02:30 CEST = 00:30 UTC; 03:30 is CET = 02:30 UTC, so 02:30-03:30 lasts 2h.
    cal = parse_calendar("c", {"timezone": "Europe/Berlin", "hours": {"sun": "02:30-03:30"}})
    assert list(working_intervals(cal, berlin(2026, 10, 25), berlin(2026, 10, 26))) == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))
    ]
    # The NIGHTS range 01:00-04:00 runs 01:00 CEST (23:00 UTC) to 04:00 CET (03:00 UTC): 4h.
    assert business_time_between(NIGHTS, berlin(2026, 10, 25), berlin(2026, 10, 25, 12)) == 4 * H
    # A range ending at 02:30 ends at the first 02:30 (00:30 UTC), before the repeated hour.
    early = parse_calendar("c", {"timezone": "Europe/Berlin", "hours": {"sun": "00:00-02:30"}})
    assert list(working_intervals(early, berlin(2026, 10, 25), berlin(2026, 10, 26))) == [
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 0, 30))
    ]
    second_0215 = utc(2026, 10, 25, 1, 15)  # 02:15 CET, the repeated occurrence
    assert not is_working(early, second_0215)
    assert is_working(ALWAYS_BERLIN, second_0215)


# --- properties ----------------------------------------------------------------------------

PROPERTY_CALENDARS = [OFFICE, NY, NIGHTS]
starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2028, 12, 31),
    timezones=st.sampled_from([UTC, BERLIN, NEW_YORK]),
    allow_imaginary=False,
)
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=300 * H)
calendars = st.sampled_from(PROPERTY_CALENDARS)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)


@given(calendars, starts, durations)
@PROPERTY_SETTINGS
def test_add_then_measure_round_trips(cal: Calendar, start: dt.datetime, d: dt.timedelta) -> None:
    end = add_business_time(cal, start, d)
    assert end >= start
    assert end.tzinfo is UTC
    assert business_time_between(cal, start, end) == d


@given(calendars, starts, durations, durations)
@PROPERTY_SETTINGS
def test_add_is_monotonic(
    cal: Calendar, start: dt.datetime, d1: dt.timedelta, d2: dt.timedelta
) -> None:
    d1, d2 = min(d1, d2), max(d1, d2)
    assert add_business_time(cal, start, d1) <= add_business_time(cal, start, d2)


@given(calendars, starts, durations)
@PROPERTY_SETTINGS
def test_result_is_working_or_end_of_working_interval(
    cal: Calendar, start: dt.datetime, d: dt.timedelta
) -> None:
    end = add_business_time(cal, start, d)
    tick = dt.timedelta(microseconds=1)
    assert is_working(cal, end) or (end - tick >= start and is_working(cal, end - tick))
    # It is the earliest such instant: one tick earlier, less time has been counted.
    if d:
        assert business_time_between(cal, start, end - tick) < d


@given(calendars, starts, starts)
@PROPERTY_SETTINGS
def test_intervals_are_ordered_working_and_sum_up(
    cal: Calendar, a: dt.datetime, b: dt.datetime
) -> None:
    start, end = min(a, b), min(max(a, b), min(a, b) + 60 * 24 * H)
    intervals = list(working_intervals(cal, start, end))
    for lo, hi in intervals:
        assert start <= lo < hi <= end
        assert is_working(cal, lo)
        assert is_working(cal, hi - dt.timedelta(microseconds=1))
    for (_, hi), (lo, _) in itertools.pairwise(intervals):
        assert hi < lo
        assert not is_working(cal, hi)
    total = sum((hi - lo for lo, hi in intervals), dt.timedelta(0))
    assert business_time_between(cal, start, end) == total


@given(calendars, starts)
@PROPERTY_SETTINGS
def test_next_working_instant(cal: Calendar, t: dt.datetime) -> None:
    nxt = next_working_instant(cal, t)
    assert nxt >= t
    assert is_working(cal, nxt)
    assert (nxt.timestamp() == t.timestamp()) == is_working(cal, t)  # same instant (fold-safe)
    assert business_time_between(cal, t, nxt) == dt.timedelta(0)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["office", "always_berlin", "ny", "nights"]),
    st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 1, 1)),
    st.integers(min_value=0, max_value=90 * 24 * 60),
    st.lists(
        st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)),
        max_size=3,
    ),
)
def test_business_time_from_running_sums_is_the_sum_of_working_intervals(
    name: str, start: dt.datetime, minutes: int, asked_before: list[dt.datetime]
) -> None:
    cal = parse_calendars({name: CONFIG[name]})[name]  # fresh running sums
    for moment in asked_before:  # grow them from wherever earlier questions put the origin
        business_time_between(cal, moment.replace(tzinfo=UTC), start.replace(tzinfo=UTC))
    begin = start.replace(tzinfo=BERLIN)
    end = begin + dt.timedelta(minutes=minutes)
    expected = sum((hi - lo for lo, hi in working_intervals(cal, begin, end)), dt.timedelta(0))
    assert business_time_between(cal, begin, end) == expected


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(["office", "always_berlin", "ny", "nights"]),
    st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 1, 1)),
    st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), min_size=1, max_size=3),
)
def test_several_durations_in_one_pass_are_each_added_alone(
    name: str, start: dt.datetime, minutes: list[int]
) -> None:
    cal = CALS[name]
    begin = start.replace(tzinfo=BERLIN)
    durations = [dt.timedelta(minutes=m) for m in minutes]
    fresh = parse_calendars({name: CONFIG[name]})[name]
    alone = [add_business_time(fresh, begin, d) for d in durations]
    assert add_business_times(cal, begin, durations) == alone
    for moment, duration in zip(alone, durations, strict=True):
        assert business_time_between(cal, begin, moment) == duration
