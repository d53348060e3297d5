"""Timestamps: --now, and the shared time zone objects that make comparisons cheap."""

from __future__ import annotations

import datetime as dt

import pytest

from esc import clock, summary
from esc.errors import BadInput


@pytest.mark.parametrize(
    "text", ["2026-11-27T09:00:00+01:00", "2026-07-01T12:30:00+02:00", "2026-11-27T08:00:00Z"]
)
def test_now_keeps_its_instant_and_offset_in_the_shared_zone(text: str) -> None:
    now = clock.resolve_now(text)
    parsed = clock.parse_timestamp(text)
    assert now == parsed and now.utcoffset() == parsed.utcoffset()
    assert clock.format_timestamp(now) == clock.format_timestamp(parsed)
    offset = now.utcoffset()
    assert offset is not None
    assert now.tzinfo is clock.zone_of(int(offset.total_seconds()))


def test_times_from_the_cache_share_the_zone_of_now() -> None:
    now = clock.resolve_now("2026-11-27T09:00:00+01:00")
    created = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    back = summary._dt(summary._t(created))
    assert back == created and back is not None and back.tzinfo is now.tzinfo


def test_now_without_an_offset_is_refused() -> None:
    with pytest.raises(BadInput, match="no time zone offset"):
        clock.resolve_now("2026-11-27T09:00:00")
