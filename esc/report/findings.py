"""`esc check` and `esc upcoming`: which active tickets are overdue or about to be. Pure.

Counted as the reports count (:func:`esc.domain.stats.standing`): an active ticket is
*overdue* when a running clock is past its deadline, else *in warning* when one is in
warning."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from esc.domain.config import Config
from esc.domain.errors import ParseError
from esc.domain.model import Ticket
from esc.domain.records import immutable
from esc.domain.sla import Clock, Sla, followed_request
from esc.domain.stats import standing
from esc.domain.timestamps import format_timestamp
from esc.report.choices import CheckFormat, FailOn
from esc.report.terminal import printable
from esc.report.views import clock_phrase, sla_json

CheckLevel = Literal["breached", "warning", "ok"]  # how `esc check` judges an active ticket


@immutable
class Checked:
    ticket: Ticket
    sla: Sla
    level: CheckLevel

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
    items: tuple[Checked, ...]  # every active ticket (but those in ``others``)
    broken: tuple[ParseError, ...] = ()  # ticket files that do not parse or validate
    changed_since: str | None = None  # the git ref: only tickets changed since were judged
    # more active tickets, not failing: (level, how many) for "warning" and "ok", judged
    # without building their SLAs
    others: tuple[tuple[str, int], ...] = ()
    # notifications that failed too often to be retried quietly (each one line): a finding
    undelivered: tuple[str, ...] = ()

    @property
    def active(self) -> int:
        return len(self.items) + sum(n for _, n in self.others)

    @property
    def failing(self) -> tuple[Checked, ...]:
        levels = ("breached",) if self.fail_on == "breached" else ("breached", "warning")
        return tuple(i for i in self.items if i.level in levels)

    @property
    def failed(self) -> bool:
        return bool(self.failing or self.broken or self.undelivered)

    def count(self, level: CheckLevel) -> int:
        return sum(i.level == level for i in self.items) + dict(self.others).get(level, 0)


def overdue_findings(
    items: Sequence[tuple[Ticket, Sla]],
    now: dt.datetime,
    fail_on: str,
    broken: Sequence[ParseError] = (),
    changed_since: str | None = None,
    others: Mapping[str, int] | None = None,
) -> CheckOutcome:
    """Every active ticket, with its SLA, judged breached (overdue), in warning or ok; and
    the ticket files that could not be judged (each a finding of its own).  ``others``
    counts the active tickets judged already and not failing, by level, when the caller
    leaves them out of ``items`` (they are not printed, but counted)."""
    checked = []
    levels: dict[str, CheckLevel] = {"overdue": "breached", "warning": "warning", "ok": "ok"}
    for ticket, sla in sorted(items, key=lambda item: item[0].id):
        if not ticket.active:
            continue
        checked.append(Checked(ticket, sla, levels[standing(sla)]))
    return CheckOutcome(
        now,
        fail_on,
        tuple(checked),
        tuple(broken),
        changed_since,
        tuple(sorted((others or {}).items())),
    )


def render_check(
    outcome: CheckOutcome, fmt: CheckFormat, config: Config, prefix: str = ""
) -> str:
    """The check's report in ``fmt``; ``prefix``: the workspace's path in its repository
    (``helpdesk/``), for GitHub's annotations and JUnit's ``file=``, which CI reads from
    the repository's top."""
    if fmt == "json":
        return _json(outcome) + "\n"
    if fmt == "github":
        broken = "".join(_github_broken(error, prefix) for error in outcome.broken)
        undelivered = "".join(f"::error::{_github_data(n)}\n" for n in outcome.undelivered)
        failing = "".join(_github(item, prefix) for item in outcome.failing)
        return broken + failing + undelivered
    if fmt == "junit":
        return _junit(outcome, prefix)
    return _text(outcome)


BROKEN_TITLE = "ticket file does not parse or validate"


def _describe(item: Checked) -> str:
    phrases = "; ".join(_phrase(item, c) for c in item.clocks)
    return f"{item.ticket.id} ({item.ticket.team}, {item.ticket.priority}): {phrases}"


def _phrase(item: Checked, clock: Clock) -> str:
    """A clock as the check says it; the ``collaboration`` clock with the team whose
    request it follows (`collaboration (sre) breached 2h ago`): which team is late."""
    phrase = clock_phrase(clock, item.sla.now)
    if clock.metric == "collaboration":
        request = followed_request(item.ticket, item.sla.now)
        if request is not None:
            return phrase.replace("collaboration", f"collaboration ({request.team})", 1)
    return phrase


def _text(outcome: CheckOutcome) -> str:
    failing = outcome.failing
    lines = [str(error) for error in outcome.broken]
    lines += [f"{_describe(i)} — {printable(i.ticket.title, one_line=True)}" for i in failing]
    active = outcome.active
    tickets = "active tickets"
    if outcome.changed_since is not None:
        tickets += f" changed since {outcome.changed_since}"
    if failing:
        summary = f"{len(failing)} of {active} {tickets} {_what(outcome)}"
    else:
        summary = f"none of {active} {tickets} {_what(outcome)}"
    if outcome.broken:  # (files: one with two problems is one file broken)
        count = len({error.path for error in outcome.broken})
        summary += f"; {count} ticket file{'s' if count != 1 else ''} broken"
    if outcome.undelivered:
        count = len(outcome.undelivered)
        summary += f"; {count} notification{'s' if count != 1 else ''} failing"
    lines.append(summary if outcome.failed else f"ok: {summary}")
    return "\n".join(lines) + "\n"


def _what(outcome: CheckOutcome) -> str:
    if outcome.fail_on == "breached":
        return "overdue"
    overdue, warning = outcome.count("breached"), outcome.count("warning")
    return f"overdue or in warning ({overdue} overdue, {warning} in warning)"


def _json(outcome: CheckOutcome) -> str:
    data = {
        "now": format_timestamp(outcome.now),
        "fail_on": outcome.fail_on,
        "changed_since": outcome.changed_since,
        "failed": outcome.failed,
        "active_tickets": outcome.active,
        "overdue_tickets": outcome.count("breached"),
        "warning_tickets": outcome.count("warning"),
        "broken": [
            {"file": e.path, "line": e.line or None, "message": e.message}
            for e in outcome.broken
        ],
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
        "notifications_failing": list(outcome.undelivered),
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def _github(item: Checked, prefix: str) -> str:
    """``::error file=tickets/ID.md,line=1::MESSAGE``: every ticket listed fails the check
    (with ``--fail-on warning``, one in warning too), so each is an error."""
    message = f"SLA {item.level}: {_describe(item)} — {item.ticket.title}"
    path = f"{prefix}tickets/{item.ticket.id}.md"
    return f"::error file={_github_property(path)},line=1::{_github_data(message)}\n"


def _github_broken(error: ParseError, prefix: str) -> str:
    line = f",line={error.line}" if error.line else ""
    message = f"{BROKEN_TITLE}: {error.message}"
    path = _github_property(prefix + error.path)
    return f"::error file={path}{line}::{_github_data(message)}\n"


def github_config_errors(errors: Sequence[ParseError], prefix: str) -> str:
    """``::error file=rules.yaml,line=5::configuration does not load: …``, one per finding
    of a teams.yaml or rules.yaml that stops every command."""
    out = []
    for error in errors:
        line = f",line={error.line}" if error.line else ""
        message = f"configuration does not load: {error.message}"
        path = _github_property(prefix + error.path)
        out.append(f"::error file={path}{line}::{_github_data(message)}\n")
    return "".join(out)


def json_config_errors(
    errors: Sequence[ParseError], now: dt.datetime, fail_on: FailOn, changed_since: str | None
) -> str:
    """`check --format json` when teams.yaml or rules.yaml does not load: failed, with each
    finding in ``config_errors`` (``file``, ``line``, ``message``) and nothing judged (the
    counts null), so a CI job that reads the file sees why."""
    data = {
        "now": format_timestamp(now),
        "fail_on": fail_on,
        "changed_since": changed_since,
        "failed": True,
        "config_errors": [
            {"file": e.path, "line": e.line or None, "message": e.message} for e in errors
        ],
        "active_tickets": None,
        "overdue_tickets": None,
        "warning_tickets": None,
        "broken": [],
        "tickets": [],
        "notifications_failing": [],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def junit_config_errors(errors: Sequence[ParseError], now: dt.datetime, prefix: str) -> str:
    """`check --format junit` when teams.yaml or rules.yaml does not load: one test case with
    an ``<error>`` per finding (classname ``esc.config``), so CI's test report shows it."""
    from xml.sax.saxutils import escape, quoteattr

    cases = []
    for error in errors:
        where = f"{error.path}:{error.line}" if error.line else error.path
        message = f"configuration does not load: {error.message}"
        cases.append(
            f'  <testcase classname="esc.config" name={quoteattr(_xml(where))} '
            f"file={quoteattr(_xml(prefix + error.path))}>\n"
            f"    <error message={quoteattr(_xml(message))}"
            f' type="config">{escape(_xml(str(error)))}</error>\n  </testcase>\n'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="esc check" tests="{len(errors)}" failures="0" '
        f'errors="{len(errors)}" timestamp="{format_timestamp(now)}">\n'
        + "".join(cases)
        + "</testsuite>\n"
    )


def _github_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub reads it back."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """A workflow command's property (``file=``), escaped as GitHub reads it back: its
    `:` and `,` too, which would end it."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    """``text`` with each character XML 1.0 cannot hold, even escaped (ESC, BEL, …), shown
    as ``\\x1b``: the report stays well-formed, and the value is seen, not lost."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256 else
                        f"\\u{ord(m[0]):04x}", text)  # fmt: skip


def _junit(outcome: CheckOutcome, prefix: str) -> str:
    # (imported here: xml.sax brings in urllib, http, email and ssl, ~30 ms every `esc check`
    # would pay for a format it rarely asks for)
    from xml.sax.saxutils import escape, quoteattr

    failing = {i.ticket.id for i in outcome.failing}
    cases = [
        f'  <testcase classname="esc.tickets" name={quoteattr(_xml(error.path))} '
        f"file={quoteattr(_xml(prefix + error.path))}>\n"
        f'    <error message={quoteattr(_xml(str(error)))} '
        f'type="broken">{escape(_xml(str(error)))}</error>\n  </testcase>'
        for error in outcome.broken
    ]
    for item in outcome.items:
        name = quoteattr(_xml(f"{item.ticket.id} {item.ticket.title}"))
        head = (
            f'  <testcase classname={quoteattr(_xml(f"esc.sla.{item.ticket.team}"))} '
            f"name={name} file={quoteattr(_xml(f'{prefix}tickets/{item.ticket.id}.md'))}>"
        )
        if item.ticket.id in failing:
            message = quoteattr(_xml(_describe(item)))
            body = escape(_xml(_describe(item)))
            cases.append(
                f'{head}\n    <failure message={message} type="{item.level}">{body}'
                f"</failure>\n  </testcase>"
            )
        else:
            cases.append(f"{head}</testcase>")
    cases += [
        f'  <testcase classname="esc.notifications" name={quoteattr(_xml(note))}>\n'
        f'    <error message={quoteattr(_xml(note))} type="notification">{escape(_xml(note))}'
        "</error>\n  </testcase>"
        for note in outcome.undelivered
    ]
    stamp = format_timestamp(outcome.now)
    errors = (*outcome.broken, *outcome.undelivered)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="esc check" tests="{outcome.active + len(errors)}" '
        f'failures="{len(failing)}" errors="{len(errors)}" timestamp="{stamp}">\n'
        + "".join(c + "\n" for c in cases)
        + "</testsuite>\n"
    )


def upcoming_breaches(
    items: Sequence[tuple[Ticket, Sla]], now: dt.datetime, within: dt.timedelta
) -> list[tuple[Ticket, Clock]]:
    """The active tickets with a running clock whose deadline falls in (now, now + within],
    each once, with the first such clock (the breach that comes first)."""
    rows = []
    end = now + within
    for ticket, sla in items:
        if not ticket.active:
            continue
        due = [c for c in sla.clocks if c.running and c.due is not None and now < c.due <= end]
        if due:
            rows.append((ticket, min(due, key=lambda clock: clock.due or now)))
    return sorted(rows, key=lambda row: (row[1].due or now, row[0].id))
