"""Timestamps: --now, and the shared time zone objects that make comparisons cheap."""

from __future__ import annotations

import datetime as dt

import pytest

from esc.domain import timestamps
from esc.domain.errors import BadInput
from esc.store import cache_codec


@pytest.mark.parametrize(
    "text", ["2026-11-27T09:00:00+01:00", "2026-07-01T12:30:00+02:00", "2026-11-27T08:00:00Z"]
)
def test_now_keeps_its_instant_and_offset_in_the_shared_zone(text: str) -> None:
    now = timestamps.resolve_now(text)
    parsed = timestamps.parse_timestamp(text)
    assert now == parsed and now.utcoffset() == parsed.utcoffset()
    assert timestamps.format_timestamp(now) == timestamps.format_timestamp(parsed)
    offset = now.utcoffset()
    assert offset is not None
    assert now.tzinfo is timestamps.zone_of(int(offset.total_seconds()))


def test_times_from_the_cache_share_the_zone_of_now() -> None:
    now = timestamps.resolve_now("2026-11-27T09:00:00+01:00")
    created = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    back = cache_codec._dt(cache_codec._t(created))
    assert back == created and back is not None and back.tzinfo is now.tzinfo


def test_now_without_an_offset_is_refused() -> None:
    with pytest.raises(BadInput, match="no time zone offset"):
        timestamps.resolve_now("2026-11-27T09:00:00")
