"""What automation rules did to a ticket, as the sweep prints it: one action per change a
rule made (escalate, priority, assign, status, tag, note, involve, any other field), read
from the activity lines of the change the sweep's plan made (``by: rule:NAME``). Pure."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from esc.domain.lifecycle import entry_added
from esc.domain.model import NOTIFIED, Activity, Change, EscalationKind
from esc.domain.records import lean
from esc.domain.timestamps import format_timestamp

RULE_ACTOR = "rule:"
NONE = "—"  # no value, as in the activity log

ActionKind = Literal[
    "escalate", "priority", "assign", "status", "tag", "note", "set", "event", "involve",
    "notify",
]
_FIELD_ACTIONS: dict[str, ActionKind] = {
    "priority": "priority",
    "assignee": "assign",
    "status": "status",
}


@lean
class RuleAction:
    """One change a rule made to one ticket."""

    ticket_id: str
    at: dt.datetime
    by: str  # "rule:NAME"
    action: ActionKind
    field: str | None = None  # the field changed (None for a tag, a note, an event)
    old: str | None = None
    new: str | None = None  # the new value; the tag; the note's text; the event
    kind: EscalationKind | None = None  # an escalation's kind

    @property
    def rule(self) -> str:
        return self.by.removeprefix(RULE_ACTOR)


def rule_actions(ticket_id: str, change: Change) -> tuple[RuleAction, ...]:
    """The changes rules made in ``change``, in the order they were made."""
    escalated = {
        (e.at, e.by, "priority" if e.kind == "priority" else "team"): e.kind
        for e in change.escalations
    }
    notes = [e for e in change.entries if e.kind == "note" and e.author.startswith(RULE_ACTOR)]
    actions = []
    for line in change.activity:
        if not line.by.startswith(RULE_ACTOR):
            continue
        if line.field is not None:
            kind = escalated.get((line.at, line.by, line.field))
            actions.append(_field_action(ticket_id, line, kind))
        elif line.event == "tagged":
            actions.append(RuleAction(ticket_id, line.at, line.by, "tag", new=line.note))
        elif line.event == NOTIFIED:  # (`notify:`: whom, as targets and teams are named)
            actions.append(RuleAction(ticket_id, line.at, line.by, "notify", new=line.note))
        elif line.event is not None and line.event.startswith("involved "):
            team = line.event.removeprefix("involved ")
            actions.append(RuleAction(ticket_id, line.at, line.by, "involve", new=team))
        elif line.event == entry_added("note"):
            entry = next((e for e in notes if (e.at, e.author) == (line.at, line.by)), None)
            if entry is not None:
                notes.remove(entry)  # (each note once, should one rule add two at once)
            text = entry.text if entry is not None else ""
            actions.append(RuleAction(ticket_id, line.at, line.by, "note", new=text))
        else:  # (`mentioned`: whom its note named, as the log line says them)
            said = f"{line.event} {line.note}" if line.event == "mentioned" else line.event
            actions.append(RuleAction(ticket_id, line.at, line.by, "event", new=said))
    return tuple(actions)


def _field_action(ticket_id: str, line: Activity, kind: EscalationKind | None) -> RuleAction:
    field = line.field or ""
    team_escalation = kind in ("functional", "hierarchical")
    action: ActionKind = "escalate" if team_escalation else _FIELD_ACTIONS.get(field, "set")
    return RuleAction(ticket_id, line.at, line.by, action, field, line.old, line.new, kind)


def action_text(a: RuleAction) -> str:
    """One line of the sweep's output: ``T-…: support → engineering (NAME)`` for an
    escalation to a team, ``T-…: normal → urgent (NAME)`` for one of the priority (each
    escalation ``ID: from → to (rule)``, the rule's name, as the commit message lists it),
    ``T-…: priority high → low (NAME)`` for another field's change, ``T-…: tag vip
    (NAME)``, ``T-…: note "…" (NAME)``."""
    if a.action == "escalate" or a.kind == "priority":
        what = f"{a.old or NONE} → {a.new or NONE}"
    elif a.field is not None:
        what = f"{a.field} {a.old or NONE} → {a.new or NONE}"
    elif a.action == "note":
        what = f"note {_quoted(a.new or '')}"
    elif a.action == "event":  # (`mentioned @security`, `request answered by sre`)
        what = a.new or ""
    else:
        what = f"{a.action} {a.new or ''}".rstrip()
    return f"{a.ticket_id}: {what} ({a.rule})"


def _quoted(text: str) -> str:
    flat = " ".join(text.split())
    return f'"{flat[:57]}…"' if len(flat) > 60 else f'"{flat}"'


def action_json(a: RuleAction) -> dict[str, Any]:
    return {
        "id": a.ticket_id,
        "at": format_timestamp(a.at),
        "rule": a.rule,
        "action": a.action,
        "field": a.field,
        "from": a.old,
        "to": a.new,
        "kind": a.kind,
    }
