"""Timestamps, and the shared time zone objects that make comparisons cheap."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from esc.domain import timestamps
from esc.domain.errors import BadInput
from esc.store import cache_codec
from esc.ticketfile import document


def test_times_from_the_cache_share_the_zone_of_now() -> None:
    now = timestamps.parse_timestamp("2026-11-27T09:00:00+01:00")
    created = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    back = cache_codec._dt(cache_codec._t(created))
    assert back == created and back is not None and back.tzinfo is now.tzinfo


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2026-11-27T09:00:00+01:00", 3600),
        ("2026-07-01T12:30:00-05:30", -19800),
        ("2026-11-27T08:00:00Z", 0),
        ("2026-11-27T08:00:00+00:00", 0),
    ],
)
def test_parsed_times_share_one_zone_per_offset(text: str, offset: int) -> None:
    first, second = timestamps.parse_timestamp(text), timestamps.parse_timestamp(f" {text} ")
    assert first.tzinfo is second.tzinfo is timestamps.zone_of(offset)
    assert timestamps.format_timestamp(first) == dt.datetime.fromisoformat(
        text.replace("Z", "+00:00")
    ).isoformat(timespec="seconds")


def test_times_read_from_a_ticket_file_share_the_zone() -> None:
    text = (
        "---\nid: T-1\ntitle: t\nstatus: open\npriority: normal\ncategory: billing\n"
        "team: support\ncreated: 2026-11-20T10:00:00+01:00\n"
        "updated: 2026-11-21T11:00:00+01:00\n---\n\n## Description\n\nx\n\n"
        "## Activity\n\n- 2026-11-20T10:00:00+01:00 · mailbot · created\n"
    )
    ticket = document.parse(text, "T-1.md").ticket
    zone = timestamps.zone_of(3600)
    assert ticket.created.tzinfo is zone and ticket.updated.tzinfo is zone
    assert ticket.activity[0].at.tzinfo is zone


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+14:00"])
def test_times_at_the_limits_of_datetime_share_the_zone_too(text: str) -> None:
    moment = timestamps.parse_timestamp(text)
    assert moment.isoformat() == text
    offset = moment.utcoffset()
    assert offset is not None and moment.tzinfo is timestamps.zone_of(int(offset.total_seconds()))


def test_a_time_zone_with_rules_or_an_odd_offset_is_kept() -> None:
    ruled = dt.datetime(2026, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert timestamps.shared_zone(ruled).tzinfo is ruled.tzinfo
    odd = dt.datetime.fromisoformat("2026-07-01T12:00:00+01:00:00.5")
    assert timestamps.shared_zone(odd) is odd


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(BadInput, match="no time zone offset"):
        timestamps.parse_timestamp("2026-11-27T09:00:00")


@pytest.mark.parametrize("text", ["0001-01-01", "0001-01-01T00:30", "9999-12-31T23:59"])
def test_a_local_time_outside_the_years_esc_takes_is_a_usage_error(text: str) -> None:
    """(`--now 0001-01-01` in a zone behind UTC: "internal error (year 0 is out of range)")"""
    behind = zoneinfo.ZoneInfo("America/New_York")
    with pytest.raises(BadInput, match="out of range: esc takes times from the years 1900"):
        timestamps.parse_local_timestamp(text, what="--now", zone=behind)


def test_an_offset_with_seconds_is_refused_where_json_could_not_give_it_back() -> None:
    """`created: …+01:00:30` validated and reached `--json` as it was, which RFC 3339
    readers refuse; escalation times made from it came out at `…:30+00:00`."""
    import pytest

    from esc.domain.errors import BadInput
    from esc.domain.timestamps import coerce_timestamp, not_a_timestamp, parse_timestamp

    with pytest.raises(BadInput, match="offset with seconds"):
        parse_timestamp("2026-11-25T11:20:00+01:00:30")
    assert coerce_timestamp("2026-11-25T11:20:00+01:00:30") is None
    assert not_a_timestamp("2026-11-25T11:20:00+01:00:30").startswith("has an offset with")
    assert coerce_timestamp("2026-11-25T11:20:00+05:45") is not None  # (Nepal: minutes)


@pytest.mark.parametrize("offset", ["+01:60", "+01:99", "-05:75", "+0160", "+1:60"])
def test_an_offset_whose_minutes_are_past_59_is_refused_not_read_as_another_instant(
    offset: str,
) -> None:
    """Python reads `+01:60` as +02:00 and `+01:99` as +02:39: a ticket's `created`, entry
    heads and log lines validated as an instant their text does not say, and rules acted
    on it (audit helper-467); ruamel.yaml's own reading of the front-matter likewise."""
    from ruamel.yaml import YAML

    from esc.domain.errors import BadInput
    from esc.domain.timestamps import as_written, coerce_timestamp, not_a_timestamp

    text = f"2026-11-20T10:00:00{offset}"
    with pytest.raises(BadInput):  # (`+1:60`: no ISO-8601 offset at all)
        timestamps.parse_timestamp(text)
    assert coerce_timestamp(text) is None
    assert timestamps.timestamp(text) is None
    read = YAML(typ="rt").load(f"created: {text}\n")["created"]
    if isinstance(read, str):  # (`+0160`: no YAML timestamp; text, refused as above)
        assert coerce_timestamp(read) is None
        return
    assert coerce_timestamp(read) is None
    assert not_a_timestamp(read) == (
        "has an offset whose minutes are past 59 (+HH:MM, MM from 00 to 59)"
    )
    assert as_written(read) == text
    assert coerce_timestamp(YAML(typ="rt").load("t: 2026-11-20T10:00:00+05:45\n")["t"])


@pytest.mark.parametrize("offset", ["+01:00:60", "+010060", "+01:59:60"])
def test_an_offset_of_sixty_seconds_is_refused_not_read_as_a_minute(offset: str) -> None:
    """`+01:00:60` was read as +01:01 (its seconds a whole minute: no `offset with
    seconds`), in a file and in ESC_NOW (review helper-473)."""
    from esc.domain.errors import BadInput

    with pytest.raises(BadInput, match="has an offset with seconds"):
        timestamps.parse_timestamp(f"2026-12-01T10:00:00{offset}")


BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def test_a_local_time_the_clocks_skip_or_pass_twice_is_refused() -> None:
    """`--now 2026-03-29T02:30` in Berlin (no such time: `date -d` says invalid date) was
    taken as 01:30+01:00, an hour before what was typed; one the clocks go back over is
    two instants: both refused, naming the offsets to choose from."""
    with pytest.raises(BadInput) as skipped:
        timestamps.parse_local_timestamp("2026-03-29T02:30", what="--now", zone=BERLIN)
    assert str(skipped.value) == (
        "--now '2026-03-29T02:30' is no time here: the clocks skip it; give its UTC offset"
    )
    with pytest.raises(BadInput) as twice:
        timestamps.parse_local_timestamp("2026-10-25T02:30", what="--since", zone=BERLIN)
    assert str(twice.value) == (
        "--since '2026-10-25T02:30' comes twice here: the clocks go back over it; give its"
        " UTC offset (+02:00 or +01:00)"
    )
    for text, offset in [("2026-03-29T01:59", 1), ("2026-03-29T03:00", 2),
                         ("2026-10-25T01:59", 2), ("2026-10-25T03:00", 1)]:  # fmt: skip
        moment = timestamps.parse_local_timestamp(text, what="--now", zone=BERLIN)
        assert moment.utcoffset() == dt.timedelta(hours=offset), text
        assert moment.replace(tzinfo=None) == dt.datetime.fromisoformat(text)
