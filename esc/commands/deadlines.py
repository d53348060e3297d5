"""The commands about SLA deadlines: check (for CI) and upcoming."""

from __future__ import annotations

import dataclasses
from collections import Counter

from esc.commands.notify import failing_notes
from esc.commands.session import Output, Session
from esc.domain.calendar import MAX_HORIZON
from esc.domain.durations import DurationError, parse_duration
from esc.domain.errors import BadInput, ConfigError, ParseError
from esc.domain.model import Ticket
from esc.domain.sla import Sla
from esc.report import views
from esc.report.choices import CheckFormat, FailOn
from esc.report.findings import (
    github_config_errors,
    json_config_errors,
    junit_config_errors,
    overdue_findings,
    render_check,
    upcoming_breaches,
)
from esc.report.slas import tickets_with_sla, tickets_with_states
from esc.store import git
from esc.store.catalog import load as load_catalog
from esc.store.workspace import TICKETS_DIR


def check(
    session: Session, fmt: CheckFormat, fail_on: FailOn, changed_since: str | None = None
) -> Output:
    """Open tickets overdue (or in warning): exit 1 if there is any.  Read-only.

    With ``changed_since`` (a git ref) only the tickets whose files changed since the
    commit where HEAD forked from it, or that git does not track yet, are judged.
    """
    if fmt != "text":  # (a configuration that does not load stops every command: in a
        # pull request's check, annotated at its line too, as a broken ticket is, and in
        # json and junit written where CI reads the report, not on stderr alone)
        try:
            session.config  # noqa: B018
        except ConfigError as exc:
            _, found = session.workspace.config_findings()
            errors = [ParseError(f.path, f.line, f.message) for f in found if f.blocking]
            errors = errors or [exc]
            if fmt == "github":
                prefix = git.prefix_in_repository(session.workspace.root)
                text = github_config_errors(errors, prefix)
            elif fmt == "json":
                text = json_config_errors(errors, session.now, fail_on, changed_since)
            else:
                prefix = git.prefix_in_repository(session.workspace.root)
                text = junit_config_errors(errors, session.now, prefix)
            return Output(
                text=text,
                notes=[str(error) for error in errors],
                code=1,
                exact=fmt in ("json", "junit"),
            )
    notes = []
    only = None
    if changed_since is not None:
        root = session.workspace.root
        commit, note = git.base_commit(root, changed_since, "--changed-since")
        notes += [note] if note else []
        changed = git.paths_changed_since(root, commit, TICKETS_DIR)
        only = {path.rpartition("/")[2] for path in changed}
    items, others, broken = _judged(session, fmt, fail_on, only)
    in_repository = fmt in ("github", "junit")  # (CI reads their files from the top)
    prefix = git.prefix_in_repository(session.workspace.root) if in_repository else ""
    outcome = overdue_findings(items, session.now, fail_on, broken, changed_since, others)
    failing = failing_notes(session)  # notifications that keep failing: a finding too
    outcome = dataclasses.replace(outcome, undelivered=tuple(failing))
    return Output(
        text=render_check(outcome, fmt, session.config, prefix),
        notes=notes + [f"esc: {note}" for note in failing],
        code=int(outcome.failed),
        exact=fmt in ("json", "junit"),
    )


LONGEST_WITHIN = MAX_HORIZON  # how far ahead `upcoming` looks at most: 10 years


def upcoming(session: Session, within: str, as_json: bool) -> Output:
    """Tickets that will breach an SLA within ``within`` if nobody acts, soonest first."""
    try:
        horizon = parse_duration(within)
    except DurationError as exc:
        raise BadInput(f"--within: {exc}") from None
    now = session.now
    if horizon > LONGEST_WITHIN:  # (now + horizon must stay a time esc computes with)
        raise BadInput(f"--within: {within} is longer than esc looks ahead (at most 10 years)")
    items, broken = _active_with_sla(session)
    rows = upcoming_breaches(items, now, horizon)
    output = Output(notes=[], code=1 if broken else 0)
    if as_json:
        output.data = [views.upcoming_json(t, c, now) for t, c in rows]
    elif rows:
        output.text = views.upcoming_text(rows, now) + "\n"
    else:
        output.notes.append(f"nothing will breach within {within}")
    output.notes += [str(error) for error in broken]
    return output


def _judged(
    session: Session, fmt: CheckFormat, fail_on: FailOn, only: set[str] | None
) -> tuple[list[tuple[Ticket, Sla]], Counter[str], list[ParseError]]:
    """What `check` needs: the active tickets it prints, with their SLAs as of --now; how
    many of the others stand where (judged by the numbers the cache keeps, no SLA built);
    the broken files.  Every active ticket is printed in junit; else only failing ones."""
    catalog, records, broken = load_catalog(session.workspace, session.now)
    if only is not None:
        records = [r for r in records if r.name in only]
        broken = [e for e in broken if e.path.rpartition("/")[2] in only]
    now = session.now
    failing = ("overdue",) if fail_on == "breached" else ("overdue", "warning")
    shown = []
    others: Counter[str] = Counter()
    for record in records:
        if not record.active:
            continue
        standing = None if fmt == "junit" else catalog.standing(record, now)
        if standing is None:  # (the cache keeps no SLA for a ticket that does not fit
            # the configuration: built, and checked, here; counted as every command counts
            # it, and a finding at its line, as of validate)
            broken += catalog.misfits(record)
        if standing is None or standing in failing:
            shown.append(record)
        else:
            others[_LEVELS[standing]] += 1
    # The other tickets' entries are let go of (saved first) before the shown tickets get
    # their Ticket and SLA: without a cache, at 100k tickets, both at once were the peak.
    del records
    catalog.let_go()
    pairs = tickets_with_sla if fmt == "json" else tickets_with_states
    items = pairs(catalog, shown, now)
    catalog.save()
    return items, others, broken


_LEVELS = {"overdue": "breached", "warning": "warning", "ok": "ok"}


def _active_with_sla(
    session: Session, used: bool = True, only: set[str] | None = None
) -> tuple[list[tuple[Ticket, Sla]], list[ParseError]]:
    """The open tickets and their SLAs as of --now, through the cache (with each clock's
    time used counted to --now if ``used``); ``only`` these ticket files, if given."""
    catalog, records, broken = load_catalog(session.workspace, session.now)
    if only is not None:
        records = [r for r in records if r.name in only]
        broken = [e for e in broken if e.path.rpartition("/")[2] in only]
    active = [r for r in records if r.active]
    pairs = tickets_with_sla if used else tickets_with_states
    items = pairs(catalog, active, session.now)
    # (one that does not fit the configuration, a team since renamed: listed, and a
    # finding, as `list` and `check` say it; the cache keeps no SLA for one: review 482)
    broken = broken + [e for r in active if catalog.standing(r, session.now) is None
                       for e in catalog.misfits(r)]  # fmt: skip
    catalog.save()
    return items, broken
