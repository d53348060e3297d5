"""`esc check` and `esc upcoming`: which open tickets are overdue or about to be. Pure."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from esc.domain.config import Config
from esc.domain.model import Ticket
from esc.domain.records import immutable
from esc.domain.sla import Clock, Sla
from esc.domain.timestamps import format_timestamp
from esc.report.views import clock_phrase, sla_json


@immutable
class Checked:
    ticket: Ticket
    sla: Sla
    level: str  # "breached", "warning" or "ok"

    @property
    def clocks(self) -> tuple[Clock, ...]:
        if self.level == "breached":
            return self.sla.overdue_clocks
        if self.level == "warning":
            return self.sla.warning_clocks
        return ()


@immutable
class CheckOutcome:
    now: dt.datetime
    fail_on: str
    items: tuple[Checked, ...]  # every open ticket (that was judged)
    changed_since: str | None = None  # the git ref: only tickets changed since were judged

    @property
    def failing(self) -> tuple[Checked, ...]:
        levels = ("breached",) if self.fail_on == "breached" else ("breached", "warning")
        return tuple(i for i in self.items if i.level in levels)


def overdue_findings(
    items: Sequence[tuple[Ticket, Sla]],
    now: dt.datetime,
    fail_on: str,
    changed_since: str | None = None,
) -> CheckOutcome:
    """Every open ticket, with its SLA, judged breached, in warning or ok."""
    checked = []
    for ticket, sla in sorted(items, key=lambda item: item[0].id):
        if not ticket.active:
            continue
        level = "breached" if sla.overdue_clocks else "warning" if sla.warning_clocks else "ok"
        checked.append(Checked(ticket, sla, level))
    return CheckOutcome(now, fail_on, tuple(checked), changed_since)


def render_check(outcome: CheckOutcome, fmt: str, config: Config) -> str:
    if fmt == "json":
        return _json(outcome) + "\n"
    if fmt == "github":
        return "".join(_github(item) for item in outcome.failing)
    if fmt == "junit":
        return _junit(outcome)
    return _text(outcome)


def _describe(item: Checked) -> str:
    phrases = "; ".join(clock_phrase(c, item.sla.now) for c in item.clocks)
    return f"{item.ticket.id} ({item.ticket.team}, {item.ticket.priority}): {phrases}"


def _text(outcome: CheckOutcome) -> str:
    failing = outcome.failing
    lines = [f"{_describe(i)} — {i.ticket.title}" for i in failing]
    open_count = len(outcome.items)
    tickets = "open tickets"
    if outcome.changed_since is not None:
        tickets += f" changed since {outcome.changed_since}"
    if failing:
        lines.append(f"{len(failing)} of {open_count} {tickets} {_what(outcome)}")
    else:
        lines.append(f"ok: none of {open_count} {tickets} {_what(outcome)}")
    return "\n".join(lines) + "\n"


def _what(outcome: CheckOutcome) -> str:
    return "overdue" if outcome.fail_on == "breached" else "overdue or in warning"


def _json(outcome: CheckOutcome) -> str:
    data = {
        "now": format_timestamp(outcome.now),
        "fail_on": outcome.fail_on,
        "changed_since": outcome.changed_since,
        "failed": bool(outcome.failing),
        "open": len(outcome.items),
        "tickets": [
            {
                "id": i.ticket.id,
                "title": i.ticket.title,
                "team": i.ticket.team,
                "priority": i.ticket.priority,
                "state": i.level,
                "file": f"tickets/{i.ticket.id}.md",
                "sla": sla_json(i.sla),
            }
            for i in outcome.failing
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def _github(item: Checked) -> str:
    kind = "error" if item.level == "breached" else "warning"
    message = _describe(item).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    title = f"SLA {item.level}: {item.ticket.title}".replace("%", "%25").replace(",", "%2C")
    title = title.replace("::", ": :").replace("\n", " ")
    return f"::{kind} file=tickets/{item.ticket.id}.md,line=1,title={title}::{message}\n"


def _junit(outcome: CheckOutcome) -> str:
    failing = {i.ticket.id for i in outcome.failing}
    cases = []
    for item in outcome.items:
        name = quoteattr(f"{item.ticket.id} {item.ticket.title}")
        head = (
            f'  <testcase classname="esc.sla.{item.ticket.team}" name={name} '
            f'file="tickets/{item.ticket.id}.md">'
        )
        if item.ticket.id in failing:
            message = quoteattr(_describe(item))
            body = escape(_describe(item))
            cases.append(
                f'{head}\n    <failure message={message} type="{item.level}">{body}'
                f"</failure>\n  </testcase>"
            )
        else:
            cases.append(f"{head}</testcase>")
    stamp = format_timestamp(outcome.now)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="esc check" tests="{len(outcome.items)}" '
        f'failures="{len(failing)}" errors="0" timestamp="{stamp}">\n'
        + "".join(c + "\n" for c in cases)
        + "</testsuite>\n"
    )


def upcoming_breaches(
    items: Sequence[tuple[Ticket, Sla]], now: dt.datetime, within: dt.timedelta
) -> list[tuple[Ticket, Clock]]:
    """Running clocks of open tickets whose deadline falls in (now, now + within]."""
    rows = []
    for ticket, sla in items:
        if not ticket.active:
            continue
        for clock in sla.clocks:
            if clock.running and clock.due is not None and now < clock.due <= now + within:
                rows.append((ticket, clock))
    return sorted(rows, key=lambda row: (row[1].due or now, row[0].id))
