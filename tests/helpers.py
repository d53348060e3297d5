"""Test data shared by the SLA, automation and sweep-plan tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

# Office hours (Mon-Thu 09-17, Fri 09-13 and 14-16, Christmas off) and an always-on calendar.
CALENDARS_YAML = """\
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon-thu: "09:00-17:00", fri: "09:00-13:00, 14:00-16:00"}
    holidays: [2026-12-25, 2026-12-26, "2026-12-24 12:00-17:00"]
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
"""

# The starter policies: urgent on the always calendar, standard on office hours.
STANDARD_SLA_YAML = """\
sla:
  - name: urgent
    when: {priority: urgent}
    calendar: always
    targets: {first_response: 30m, resolution: 4h}
  - name: standard
    calendar: office
    targets: {first_response: 4h, next_response: 8h, resolution: 24h}
    warn_at: 75%
    pause_on: [pending]
"""


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)
