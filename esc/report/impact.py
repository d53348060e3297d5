"""`esc plan`'s output: what a change does (:mod:`esc.domain.impact`) as Markdown for a pull
request comment or a GitHub step summary, and as JSON.  Pure."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from esc.domain.config import RULES_FILE, TEAMS_FILE, Finding
from esc.domain.impact import Cause, ClockView, Impact, TicketImpact, VersionOutcome, shown
from esc.domain.records import immutable
from esc.domain.timestamps import format_timestamp
from esc.report.render import md_code, md_escape

MAX_ROWS = 50  # rows a Markdown table shows before "… and N more" (a PR comment is short)
FILES = ("teams.yaml", "rules.yaml")


@immutable
class Preview:
    """An impact with what it compared: the base (the ref as given and its commit), the
    state of the configuration files, the head's problems and the base's."""

    ref: str
    commit: str
    now: dt.datetime
    files: dict[str, str]  # teams.yaml / rules.yaml -> "added", "removed", "changed", "same"
    impact: Impact
    findings: tuple[Finding, ...]  # the head's
    base_findings: tuple[Finding, ...]
    fail_on: tuple[Cause, ...]

    @property
    def blocked(self) -> bool:
        """Whether the head's configuration stops every command (a blocking problem in
        teams.yaml or rules.yaml): the next sweep would not run at all."""
        return any(f.blocking and f.path in (TEAMS_FILE, RULES_FILE) for f in self.findings)

    @property
    def failing(self) -> tuple[Cause, ...]:
        return tuple(c for c in self.impact.causes if c in self.fail_on)


# ---------------------------------------------------------------- JSON


def preview_json(preview: Preview) -> dict[str, Any]:
    impact = preview.impact
    return {
        "base": {"ref": preview.ref, "commit": preview.commit},
        "now": format_timestamp(preview.now),
        "files": {
            **preview.files,
            "tickets": {
                kind: [t.id for t in impact.tickets if t.change == kind]
                for kind in ("added", "removed", "changed")
            },
        },
        "findings": [str(f) for f in preview.findings],
        "blocked": preview.blocked,  # (the configuration stops every command)
        "base_findings": [str(f) for f in preview.base_findings],
        "routing": [
            {"category": r.category, "base": r.base, "head": r.head} for r in impact.categories
        ],
        "tickets": [_ticket_json(t) for t in impact.tickets],
        "causes": list(impact.causes),
        "fail_on": list(preview.fail_on),
        "failed": bool(preview.failing),
    }


def _ticket_json(item: TicketImpact) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "file": item.file,
        "change": item.change,
        "differs": list(item.differs),
        "causes": list(item.causes),
        "base": _outcome_json(item.base),
        "head": _outcome_json(item.head),
    }


def _outcome_json(outcome: VersionOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    return {
        "policy": outcome.policy,
        "clocks": {
            c.metric: {
                "due": format_timestamp(c.due) if c.due is not None else None,
                "state": c.state,
                "running": c.running,
            }
            for c in outcome.clocks
        },
        "route": outcome.route,
        "fired": list(outcome.fired),
        "escalations": [
            {"kind": e.kind, "from": e.from_, "to": e.to, "by": e.by} for e in outcome.escalations
        ],
        "actions": list(outcome.actions),
    }


def render_json(preview: Preview) -> str:
    return json.dumps(preview_json(preview), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- Markdown


def render_markdown(preview: Preview) -> str:
    impact = preview.impact
    lines = [
        f"### esc plan: this change compared with {md_code(preview.ref)} "
        f"({preview.commit[:10]}), as of {format_timestamp(preview.now)}",
        "",
        _changed_line(preview),
        "",
    ]
    if impact.causes:
        failing = set(preview.failing)
        named = ", ".join(f"**{c}**" if c in failing else c for c in impact.causes)
        verdict = " (fails: `--fail-on` names them)" if failing else ""
        lines += [f"What it causes: {named}{verdict}", ""]
    if preview.findings:
        lines += ["#### Problems on this side", ""]
        lines += [f"- {md_code(f)}" for f in preview.findings] + [""]
    if preview.base_findings:
        lines += [
            f"#### Problems in {md_code(preview.ref)} (its tickets are compared with nothing)",
            "",
        ]
        lines += [f"- {md_code(f)}" for f in preview.base_findings] + [""]
    lines += _sla_section(impact.tickets, preview.now)
    lines += _routing_section(impact)
    lines += _sweep_section(impact.tickets)
    lines += _files_section(impact.tickets)
    if preview.blocked:  # (nothing is compared: the configuration cannot be used)
        lines += [
            "**This configuration stops every esc command (exit 1) until its problems are"
            " fixed: the next sweep would not run.**",
            "",
        ]
    elif not any(t.differs for t in impact.tickets) and not impact.categories:
        lines += ["No ticket's SLA, routing or next sweep changes.", ""]
    return "\n".join(lines)


def _changed_line(preview: Preview) -> str:
    parts = [f"{name} {state}" for name, state in preview.files.items() if state != "same"]
    counts = {
        kind: sum(1 for t in preview.impact.tickets if t.change == kind)
        for kind in ("added", "changed", "removed")
    }
    tickets = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    parts.append(f"tickets: {tickets}" if tickets else "no ticket file changed")
    unchanged = [name for name in FILES if preview.files.get(name) == "same"]
    if unchanged:
        parts.append(f"{' and '.join(unchanged)} unchanged")
    return "Changed: " + "; ".join(parts) + "."


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        hidden = len(rows) - MAX_ROWS
        lines += ["", f"… and {hidden} more rows (`esc plan --format json` lists them all)"]
    return [*lines, ""]


def _ticket_cell(item: TicketImpact) -> str:
    return f"{md_code(item.id)} {md_escape(item.title)}"


def _sla_section(items: Sequence[TicketImpact], now: dt.datetime) -> list[str]:
    """The SLA table; its deadlines in ``now``'s zone, as people read them (the JSON has
    each in its calendar's: a policy on a calendar of UTC read `+00:00` beside `+01:00`)."""
    rows: list[list[str]] = []
    changed = [t for t in items if "sla" in t.differs]
    for item in changed:
        first = True
        for what, before, after in _sla_rows(item.base, item.head, now):
            rows.append([_ticket_cell(item) if first else "", what, before, after])
            first = False
    if not changed:
        return []
    title = f"#### SLA ({len(changed)} ticket{'s' if len(changed) != 1 else ''})"
    return [title, "", *_table(["ticket", "what", "base", "this change"], rows)]


def _sla_rows(
    before: VersionOutcome | None, after: VersionOutcome | None, now: dt.datetime
) -> list[tuple[str, str, str]]:
    rows = []
    old = before.policy if before is not None else None
    new = after.policy if after is not None else None
    if before is None or old != new:
        rows.append(("policy", _or_dash(old), _or_dash(new)))
    metrics = dict.fromkeys(
        c.metric for o in (before, after) if o is not None for c in o.clocks
    )
    for metric in metrics:
        was = before.clock(metric) if before is not None else None
        after_clock = after.clock(metric) if after is not None else None
        if before is None or shown(was) != shown(after_clock):
            rows.append((metric, _clock_text(was, now), _clock_text(after_clock, now)))
    return rows


def _clock_text(clock: ClockView | None, now: dt.datetime) -> str:
    if clock is None:
        return "–"
    state: str = clock.state
    if state == "breached":  # (still running: overdue; stopped past its deadline: met late,
        state = "**breached**" if clock.running else "met late"  # as `esc list` says it)
    if clock.due is None:
        return state
    moment = clock.due.astimezone(now.tzinfo)
    due = moment.strftime("%Y-%m-%d %H:%M") + format_timestamp(moment)[19:]
    return f"{state}, due {due}"


def _or_dash(value: str | None) -> str:
    return md_escape(value) if value else "–"


def _routing_section(impact: Impact) -> list[str]:
    moved = [t for t in impact.tickets if "route" in t.differs]
    if not impact.categories and not moved:
        return []
    lines = ["#### Routing", ""]
    if impact.categories:
        rows = [[md_escape(r.category), md_escape(r.base), md_escape(r.head)]
                for r in impact.categories]  # fmt: skip
        lines += _table(["a new ticket of category", "base", "this change"], rows)
    if moved:
        rows = [
            [_ticket_cell(t), _or_dash(t.base.route if t.base else None),
             _or_dash(t.head.route if t.head else None)]
            for t in moved
        ]  # fmt: skip
        lines += _table(
            ["ticket at its first level: routing picks (if it is classified again)", "base",
             "this change"], rows
        )  # fmt: skip  (nothing moves a ticket already routed but `esc classify`)
    return lines


def _sweep_section(items: Sequence[TicketImpact]) -> list[str]:
    changed = [t for t in items if "sweep" in t.differs]
    if not changed:
        return []
    rows = [[_ticket_cell(t), _sweep_text(t.base), _sweep_text(t.head)] for t in changed]
    title = f"#### Next sweep ({len(changed)} ticket{'s' if len(changed) != 1 else ''})"
    return [title, "", *_table(["ticket", "base", "this change"], rows)]


def _sweep_text(outcome: VersionOutcome | None) -> str:
    if outcome is None or not any(outcome.sweep):
        return "–"
    parts = [f"fires {', '.join(outcome.fired)}"] if outcome.fired else []
    parts += [f"escalates {e}" for e in outcome.escalations]
    parts += list(outcome.actions)
    return md_escape("; ".join(parts))


def _files_section(items: Sequence[TicketImpact]) -> list[str]:
    changed = [t for t in items if t.change != "same"]
    if not changed:
        return []
    rows = [[_ticket_cell(t), t.change] for t in changed]
    title = f"#### Ticket files in this change ({len(changed)})"
    return [title, "", *_table(["ticket", "file"], rows)]
