"""`esc validate`: teams.yaml, rules.yaml and every ticket checked."""

from __future__ import annotations

import os

from esc.commands.notify import environment_findings
from esc.commands.session import Output, Session
from esc.store.catalog import validation_items
from esc.ticketfile.problems import ticket_problems


def validate(session: Session) -> Output:
    """Every problem as ``path:line: message``; exit 1 if there is any."""
    workspace = session.workspace
    config, findings = workspace.config_findings()
    findings = findings + environment_findings(config, os.environ)
    findings = findings + ticket_problems(validation_items(workspace, config), config)
    if findings:
        return Output(
            text="".join(f"{finding}\n" for finding in findings),
            notes=[f"{len(findings)} problem(s)"],
            code=1,
        )
    count = len(workspace.ticket_paths())
    return Output(notes=[f"ok: teams.yaml, rules.yaml and {count} tickets"])
