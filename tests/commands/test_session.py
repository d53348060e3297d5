"""The session every command runs in: --now / ESC_NOW."""

from __future__ import annotations

import pytest

from esc.commands.session import resolve_now
from esc.domain import timestamps
from esc.domain.errors import BadInput


@pytest.mark.parametrize(
    "text", ["2026-11-27T09:00:00+01:00", "2026-07-01T12:30:00+02:00", "2026-11-27T08:00:00Z"]
)
def test_now_keeps_its_instant_and_offset_in_the_shared_zone(text: str) -> None:
    now = resolve_now(text)
    parsed = timestamps.parse_timestamp(text)
    assert now == parsed and now.utcoffset() == parsed.utcoffset()
    assert timestamps.format_timestamp(now) == timestamps.format_timestamp(parsed)
    offset = now.utcoffset()
    assert offset is not None
    assert now.tzinfo is timestamps.zone_of(int(offset.total_seconds()))


def test_now_without_an_offset_is_refused() -> None:
    with pytest.raises(BadInput, match="no time zone offset"):
        resolve_now("2026-11-27T09:00:00")


def test_now_out_of_range_is_refused() -> None:
    with pytest.raises(BadInput, match="--now"):
        resolve_now("0001-01-01T00:00:00+00:00")
