"""One grammar for every duration a user writes, and one formatter for every one esc shows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc.domain.durations import (
    DurationError,
    format_age,
    format_duration,
    format_relative,
    parse_duration,
)

M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", 30 * M),
        ("4h", 4 * H),
        ("1h30m", 90 * M),
        ("90s", dt.timedelta(seconds=90)),
        ("45s", dt.timedelta(seconds=45)),
        ("2d", 48 * H),
        ("1w", 7 * 24 * H),
        ("1d2h", 26 * H),
        ("1h 30m", 90 * M),
        ("  1H30M ", 90 * M),
        ("0m", dt.timedelta(0)),
        ("1w1d1h1m1s", dt.timedelta(days=8, hours=1, minutes=1, seconds=1)),
        ("1w2d3h4m5s", dt.timedelta(days=9, hours=3, minutes=4, seconds=5)),
    ],
)
def test_parse_duration(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", 'duration "5": 5 has no unit; write e.g. "5m" or "5h"'),
        (5, "duration 5: 5 has no unit"),
        ("5x", 'duration "5x" is not valid'),
        ("1y", 'duration "1y" is not valid'),
        ("-1h", 'duration "-1h" is negative'),
        ("", "empty duration"),
        ("   ", "empty duration"),
        ("1h30", 'duration "1h30": 30 has no unit'),
        ("1h1h", 'duration "1h1h" is not valid'),  # each unit once (the rules' parser took it)
        ("h", 'duration "h" is not valid'),
        ("1.5h", 'duration "1.5h": use whole numbers'),
        ("99999999999999w", "is too long"),
        # (digits of other scripts: `٣h` and a full-width `１h` were 3h and 1h here, while
        # every other number esc reads is ASCII digits: audit helper-418)
        ("\u0663h", 'duration "\u0663h" is not valid'),
        ("\uff11h", 'duration "\uff11h" is not valid'),
    ],
)
def test_bad_duration(text: str | int, message: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (90 * M, "1h30m"),
        (45 * M, "45m"),
        (51 * H, "2d3h"),
        (dt.timedelta(0), "0m"),
        (-90 * M, "-1h30m"),
        (dt.timedelta(seconds=45), "45s"),
        (dt.timedelta(seconds=90), "1m"),  # seconds are dropped from a minute on
        (dt.timedelta(days=14), "14d"),
        (dt.timedelta(days=1, minutes=1), "1d1m"),
        (dt.timedelta(microseconds=1), "0m"),
    ],
)
def test_format_duration(td: dt.timedelta, expected: str) -> None:
    assert format_duration(td) == expected


def test_format_duration_shapes() -> None:
    assert format_duration(51 * H, largest="h") == "51h"  # working time: no days
    assert format_duration(26 * H + 5 * M + dt.timedelta(seconds=3), smallest="s") == "1d2h5m3s"
    assert format_duration(dt.timedelta(0), smallest="s") == "0s"
    assert format_duration(72 * H + 5 * M, places=2, separator=" ") == "3d 0h"  # a table cell
    assert format_duration(8 * H, places=2, separator=" ") == "8h 0m"
    assert format_duration(45 * M, places=2, separator=" ") == "45m"


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (45 * M, "45m"),
        (3 * H + 59 * M, "3h"),
        (2 * 24 * H + 23 * H, "2d"),
        (dt.timedelta(days=13), "13d"),
        (dt.timedelta(days=20), "2w"),
        (-3 * H, "-3h"),
        (dt.timedelta(0), "0m"),
    ],
)
def test_format_age(td: dt.timedelta, expected: str) -> None:
    assert format_age(td) == expected


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (90 * M, "1h30m"),  # not "1h"
        (4 * H + 50 * M, "4h50m"),  # not "4h"
        (45 * M, "45m"),
        (2 * H, "2h"),
        (23 * H + 59 * M, "23h59m"),
        (24 * H + 30 * M, "1d"),  # from a day on: days and hours
        (2 * 24 * H + 3 * H + 59 * M, "2d3h"),
        (dt.timedelta(days=20, hours=5), "20d5h"),  # no weeks
        (dt.timedelta(seconds=40), "40s"),
        (dt.timedelta(0), "0s"),  # (at the deadline's second: "breached 0s ago", as 30s)
    ],
)
def test_format_relative(td: dt.timedelta, expected: str) -> None:
    assert format_relative(td) == expected
    assert parse_duration(expected) <= td  # never later than it is


@given(st.integers(min_value=-10**7, max_value=10**7))
@settings(max_examples=200, deadline=None, database=None)
def test_format_then_parse_round_trips_whole_minutes(minutes: int) -> None:
    td = dt.timedelta(minutes=minutes)
    text = format_duration(td)
    if minutes < 0:
        assert text.startswith("-")
        assert parse_duration(text[1:]) == -td
    else:
        assert parse_duration(text) == td


@given(st.integers(min_value=0, max_value=10**9))
@settings(max_examples=200, deadline=None, database=None)
def test_exact_format_then_parse_round_trips_seconds(seconds: int) -> None:
    delta = dt.timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta, smallest="s")) == delta
