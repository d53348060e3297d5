"""The starter files `esc init` writes: a working support → engineering → management chain."""

from __future__ import annotations

TEAMS_YAML = """\
# teams.yaml: who handles tickets, and where they go when a level cannot solve them.
intake: support              # team that receives new tickets no routing rule claims

teams:
  support:
    name: Customer Support
    level: 1                 # 1 = first line; higher = more senior
    members: [alice, bob]
    lead: carol              # a rule's `assign: lead` assigns to carol (`esc assign ID carol`)
    escalates_to: engineering    # next step up the hierarchical chain (`esc escalate --up`)
    handles: [billing, account, how-to, refund]   # categories routed here
  engineering:
    name: Engineering
    level: 2
    members: [dan, erin]
    escalates_to: management
    handles: [bug, outage, data]
  management:
    name: Management
    level: 3
    members: [frank]         # the top of the chain: no escalates_to
"""

RULES_YAML = """\
# rules.yaml: priorities, categories, routing, and (for `esc sweep`) SLAs and automation.
id_prefix: T                 # ticket IDs look like T-4k8q2m7x

priorities: [low, normal, high, urgent]   # ordered, lowest first
default_priority: normal
categories: [billing, account, how-to, refund, bug, outage, data]   # a closed list
# Conditions read the tickets' fields; a field of your own in the front-matter (such as
# `vip: true`) must be declared before a condition may use it:
# fields: [vip, region]

priority_matrix:             # impact x urgency -> priority (`esc create --impact --urgency`)
  high:   {high: urgent, medium: high,   low: normal}
  medium: {high: high,   medium: normal, low: low}
  low:    {high: normal, medium: low,    low: low}

routing:                     # first match wins; then the teams' `handles`; then `intake`
  - when: {category: outage}
    team: engineering

calendars:
  office:
    timezone: Europe/Berlin
    hours:
      mon-fri: "09:00-17:00"
  always: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}

sla:                         # first matching policy wins
  - name: urgent
    when: {priority: urgent}
    calendar: always
    targets: {first_response: 30m, resolution: 4h}
  - name: standard
    calendar: office
    targets: {first_response: 4h, next_response: 8h, resolution: 24h}
    warn_at: 75%
    pause_on: [pending]

rules:                       # evaluated in order on every `esc sweep`
  - name: breached-goes-up
    when: {sla: breached, level: "<3"}
    then: {escalate: up, note: "SLA breached, escalating"}
  - name: outage-is-urgent
    when: {category: outage, priority: "<urgent"}
    then: {priority: urgent}
"""

GITIGNORE = """\
# esc's local cache of parsed tickets: rebuilt on demand, never committed
.esc-cache/
# the reports `esc sweep` renders: re-rendered every hour, so not committed (README: Reports)
reports/
# the messages `esc intake` could not use (customers' mail, kept for a person's look)
quarantine/
# what a write killed part-way leaves beside its file (.NAME.PID-RANDOM.tmp): never committed
.*.tmp
"""



def gitignore_with_esc(text: str | None) -> str | None:
    """A ``.gitignore``'s ``text`` (None: there is none) with esc's entries it lacks added
    at its end, each under its comment, in the file's line endings; None if it has them all
    (``.esc-cache``, ``/.esc-cache/`` and ``.esc-cache/`` are one entry)."""
    if text is None:
        return GITIGNORE
    lines = GITIGNORE.splitlines(keepends=True)
    wanted = set(gitignore_lacks(text))
    missing = [
        comment + entry
        for comment, entry in zip(lines[::2], lines[1::2], strict=True)
        if entry.strip() in wanted
    ]
    if not missing:
        return None
    nl = "\r\n" if "\r\n" in text else "\n"
    sep = "" if not text or text.endswith("\n") else nl
    return text + sep + "".join(missing).replace("\n", nl)


def gitignore_lacks(text: str | None) -> list[str]:
    """esc's ``.gitignore`` entries a ``.gitignore``'s ``text`` does not name, as written
    in :data:`GITIGNORE`; one it names negated (``!reports/``: a team that commits its
    reports) is its own choice, named."""
    have = {line.strip().lstrip("!").strip("/") for line in (text or "").splitlines()}
    entries = GITIGNORE.splitlines()[1::2]
    return [entry for entry in entries if entry.strip("/") not in have]


GITATTRIBUTES = """\
# Ticket files are merged field by field by `esc merge-file` (`esc install-git` registers it)
tickets/*.md merge=esc
"""

STARTER_FILES = {
    "teams.yaml": TEAMS_YAML,
    "rules.yaml": RULES_YAML,
    ".gitignore": GITIGNORE,
    ".gitattributes": GITATTRIBUTES,
    "tickets/.gitkeep": "",
}
