"""The command line: a thin click layer over the esc library.

Each command parses its options, calls the library, and prints.  Expected problems are
library exceptions (EscError) turned into one line on stderr and exit code 1 by ``main``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import getpass
import json
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from esc import __version__
from esc.domain import lifecycle, query
from esc.domain.config import Config
from esc.domain.errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_USAGE, BadInput, EscError, ParseError
from esc.domain.model import CHANNELS, STATUSES, Change, Ticket
from esc.domain.sla import Sla
from esc.domain.timestamps import resolve_now
from esc.report import views
from esc.store.user_cache import compiled_templates_dir
from esc.store.workspace import (
    DEFAULT_LOCK_TIMEOUT,
    TEMPLATES_DIR,
    Workspace,
    find_root,
)

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """What the global options decided, resolved lazily."""

    def __init__(self, root: str | None = None, now: str | None = None) -> None:
        self.root_option = root
        self.now_option = now
        self._workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            command = click.get_current_context().info_name or ""
            self._workspace = Workspace(
                find_root(Path.cwd(), self.root_option),
                lock_timeout=lock_timeout_setting(),
                holder=f"esc {command}".strip(),
                on_wait=_tell_waiting if sys.stderr.isatty() else None,
            )
        return self._workspace

    @property
    def config(self) -> Config:
        return self.workspace.config()

    @functools.cached_property
    def now(self) -> dt.datetime:
        return resolve_now(self.now_option)


def lock_timeout_setting() -> float:
    """How long a command waits for a ticket another esc process is writing (ESC_LOCK_TIMEOUT)."""
    value = os.environ.get("ESC_LOCK_TIMEOUT", "").strip()
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise BadInput(f"ESC_LOCK_TIMEOUT={value!r}: give a number of seconds, 0 or more")
    return seconds


def _tell_waiting(message: str) -> None:
    click.echo(f"esc: {message}…", err=True)


def _state() -> State:
    return click.get_current_context().find_object(State)  # type: ignore[return-value]


def _set_now(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(State)
        ctx.find_object(State).now_option = value  # type: ignore[union-attr]


def common(func: F) -> F:
    """Options every command takes: --now (also accepted before the command)."""
    return click.option(
        "--now",
        metavar="ISO-8601",
        expose_value=False,
        callback=_set_now,
        is_eager=True,
        help="Take this as the current time (also ESC_NOW).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def by_option(func: F) -> F:
    return click.option(
        "--by",
        "actor",
        metavar="NAME",
        help="Who does this (default: ESC_USER, git user.name, $USER).",
    )(func)


def whoami(given: str | None) -> str:
    if given:
        return given
    if os.environ.get("ESC_USER"):
        return os.environ["ESC_USER"]
    try:
        name = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or getpass.getuser()


def colour_enabled() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def emit_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_ticket(ticket: Ticket, as_json: bool, line: str) -> None:
    if as_json:
        emit_json(views.ticket_json(ticket, _state().config, full=True))
    else:
        click.echo(line)


def mutate(ref: str, operation: Callable[[Ticket, Config, dt.datetime], Change]) -> Ticket:
    state = _state()
    config = state.config
    return state.workspace.update(ref, lambda t: operation(t, config, state.now))


# ---------------------------------------------------------------- the group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    metavar="PATH",
    envvar="ESC_ROOT",
    help="The workspace folder (default: found by walking up from here; also ESC_ROOT).",
)
@click.option(
    "--now",
    metavar="ISO-8601",
    envvar="ESC_NOW",
    help="Take this as the current time (also ESC_NOW).",
)
@click.version_option(__version__, prog_name="esc")
@click.pass_context
def cli(ctx: click.Context, root: str | None, now: str | None) -> None:
    """esc: ticket escalation kept as Markdown files in git.

    Tickets live in tickets/<ID>.md; teams.yaml says who handles what, rules.yaml how
    tickets are prioritised, routed and escalated.  Any unique prefix of an ID will do.
    """
    state = ctx.ensure_object(State)
    state.root_option = root
    state.now_option = state.now_option or now


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite existing starter files.")
@common
def init(directory: str, force: bool) -> int:
    """Create a workspace: starter teams.yaml, rules.yaml, tickets/, .gitignore and
    .gitattributes (and, inside a git work tree, register esc's merge driver)."""
    from esc.config.starter import STARTER_FILES
    from esc.store import git

    workspace = Workspace(Path(directory).resolve())
    # .gitattributes is not overwritten but added to (its other lines are kept)
    starters = {name: text for name, text in STARTER_FILES.items() if name != ".gitattributes"}
    existing = [name for name in starters if (workspace.root / name).exists()]
    if existing and not force:
        raise EscError(
            f"{', '.join(existing)} already exist in {directory}; use --force to overwrite"
        )
    for name, text in starters.items():
        workspace.write_new_file(name, text, force=True)
    git.ensure_gitattributes(workspace.root)
    click.echo(f"esc workspace ready in {workspace.root}")
    if git.inside_git_work_tree(workspace.root):
        git.configure_git(workspace.root)
        click.echo("git merge driver for tickets/*.md registered (merge.esc in the git config)")
    else:
        click.echo(
            "not in a git repository: after `git init`, run `esc install-git` to register "
            "esc's merge driver for tickets",
            err=True,
        )
    return 0


@cli.command()
@click.option("--title", required=True, help="One line saying what is wrong.")
@click.option("--body", metavar="TEXT", help="The description; '-' reads it from stdin.")
@click.option("--customer", metavar="WHO", help="Who asked (a name or e-mail).")
@click.option("--channel", type=click.Choice(CHANNELS), help="Where the ticket came in.")
@click.option("--category", metavar="C", help="One of rules.yaml's categories.")
@click.option(
    "--priority", metavar="P", help="Priority (else from --impact/--urgency, else default)."
)
@click.option("--impact", metavar="I", help="Impact, for the priority matrix.")
@click.option("--urgency", metavar="U", help="Urgency, for the priority matrix.")
@click.option("--tag", "tags", multiple=True, metavar="X", help="A tag (repeatable).")
@by_option
@json_option
@common
def create(
    title: str,
    body: str | None,
    customer: str | None,
    channel: str | None,
    category: str | None,
    priority: str | None,
    impact: str | None,
    urgency: str | None,
    tags: tuple[str, ...],
    actor: str | None,
    as_json: bool,
) -> int:
    """Record a new ticket, classify it and route it to a team; prints its ID."""
    state = _state()
    config = state.config
    description = _read_body(body)
    intake = lifecycle.Intake(
        title, description, customer, channel, category, priority, impact, urgency, tags
    )
    who = whoami(actor)
    ticket = state.workspace.create(
        lambda ticket_id: lifecycle.create(intake, ticket_id, config, state.now, who), description
    )
    print_ticket(ticket, as_json, ticket.id)
    return 0


def _read_body(body: str | None) -> str:
    if body == "-":
        return sys.stdin.read()
    if body is not None:
        return body
    if sys.stdin.isatty() and sys.stdout.isatty():
        edited = click.edit("\n<!-- Describe the problem above. This line is removed. -->\n")
        return (edited or "").split("<!-- Describe the problem above.")[0].strip()
    return ""


@cli.command()
@click.argument("ticket")
@click.option("--category", metavar="C")
@click.option("--priority", metavar="P")
@click.option("--impact", metavar="I")
@click.option("--urgency", metavar="U")
@by_option
@json_option
@common
def classify(
    ticket: str,
    category: str | None,
    priority: str | None,
    impact: str | None,
    urgency: str | None,
    actor: str | None,
    as_json: bool,
) -> int:
    """Set category and priority; re-routes a ticket still at its first level."""
    who = whoami(actor)
    result = mutate(
        ticket,
        lambda t, c, n: lifecycle.classify(
            t, c, n, who, category=category, priority=priority, impact=impact, urgency=urgency
        ),
    )
    print_ticket(
        result,
        as_json,
        f"{result.id}: {result.category or '-'}, {result.priority}, team {result.team}",
    )
    return 0


@cli.command()
@click.argument("ticket")
@click.argument("person")
@click.option("--force", is_flag=True, help="Assign someone outside the ticket's team.")
@by_option
@json_option
@common
def assign(ticket: str, person: str, force: bool, actor: str | None, as_json: bool) -> int:
    """Give a ticket to a member of its team."""
    who = whoami(actor)
    result = mutate(ticket, lambda t, c, n: lifecycle.assign(t, c, n, who, person, force))
    print_ticket(result, as_json, f"{result.id}: assigned to {result.assignee}")
    return 0


@cli.command()
@click.argument("ticket")
@click.option("-m", "--message", required=True, metavar="TEXT", help="The text ('-' reads stdin).")
@click.option("--internal", is_flag=True, help="An internal note, not shown to the customer.")
@click.option("--from-customer", is_flag=True, help="A message from the customer.")
@click.option(
    "--author",
    "--by",
    "author",
    metavar="NAME",
    help="Who wrote it (default: you; the customer with --from-customer).",
)
@json_option
@common
def comment(
    ticket: str,
    message: str,
    internal: bool,
    from_customer: bool,
    author: str | None,
    as_json: bool,
) -> int:
    """Add a public reply, an internal note (--internal) or a customer message."""
    if internal and from_customer:
        raise BadInput("--internal and --from-customer exclude each other")
    text = sys.stdin.read() if message == "-" else message
    kind = "note" if internal else "message" if from_customer else "reply"

    me = None if author or from_customer else whoami(None)  # (not while the ticket is locked)

    def operation(t: Ticket, c: Config, n: dt.datetime) -> Change:
        who = author or me or t.customer or "customer"
        return lifecycle.comment(t, c, n, who, text, kind)

    result = mutate(ticket, operation)
    label = {"note": "internal note", "message": "customer message", "reply": "reply"}[kind]
    print_ticket(result, as_json, f"{result.id}: {label} added")
    return 0


@cli.command()
@click.argument("ticket")
@click.option("--reason", required=True, metavar="TEXT", help="What the customer must do.")
@by_option
@json_option
@common
def wait(ticket: str, reason: str, actor: str | None, as_json: bool) -> int:
    """Put a ticket on hold (pending) until the customer answers."""
    who = whoami(actor)
    result = mutate(ticket, lambda t, c, n: lifecycle.wait(t, c, n, who, reason))
    print_ticket(result, as_json, f"{result.id}: pending")
    return 0


@cli.command()
@click.argument("ticket")
@by_option
@json_option
@common
def resume(ticket: str, actor: str | None, as_json: bool) -> int:
    """Take a pending ticket back to open."""
    who = whoami(actor)
    result = mutate(ticket, lambda t, c, n: lifecycle.resume(t, c, n, who))
    print_ticket(result, as_json, f"{result.id}: open")
    return 0


@cli.command()
@click.argument("ticket")
@click.option("--to", "to", metavar="TEAM", help="Functional escalation to a specialist team.")
@click.option("--up", is_flag=True, help="Hierarchical escalation to the next team up the chain.")
@click.option("--priority", metavar="P", help="Priority escalation to a higher priority.")
@click.option("--reason", required=True, metavar="TEXT", help="Why this level cannot solve it.")
@by_option
@json_option
@common
def escalate(
    ticket: str,
    to: str | None,
    up: bool,
    priority: str | None,
    reason: str,
    actor: str | None,
    as_json: bool,
) -> int:
    """Escalate: functional (--to), hierarchical (--up) or priority (--priority)."""
    who = whoami(actor)
    result = mutate(
        ticket,
        lambda t, c, n: lifecycle.escalate(t, c, n, who, reason, to=to, up=up, priority=priority),
    )
    last = result.escalations[-1]
    print_ticket(result, as_json, f"{result.id}: {last.kind} escalation {last.from_} → {last.to}")
    return 0


@cli.command()
@click.argument("ticket")
@click.option("--resolution", required=True, metavar="TEXT", help="How it was solved.")
@by_option
@json_option
@common
def resolve(ticket: str, resolution: str, actor: str | None, as_json: bool) -> int:
    """Mark a ticket solved, telling the customer how."""
    who = whoami(actor)
    result = mutate(ticket, lambda t, c, n: lifecycle.resolve(t, c, n, who, resolution))
    print_ticket(result, as_json, f"{result.id}: resolved")
    return 0


@cli.command()
@click.argument("ticket")
@click.option("--csat", type=click.IntRange(1, 5), help="Customer satisfaction, 1 to 5.")
@click.option("--feedback", metavar="TEXT", help="What the customer said about the help.")
@click.option("--resolution", metavar="TEXT", help="Needed to close a ticket not yet resolved.")
@by_option
@json_option
@common
def close(
    ticket: str,
    csat: int | None,
    feedback: str | None,
    resolution: str | None,
    actor: str | None,
    as_json: bool,
) -> int:
    """Close a ticket for good, recording satisfaction."""
    who = whoami(actor)
    result = mutate(
        ticket,
        lambda t, c, n: lifecycle.close(
            t, c, n, who, resolution=resolution, csat=csat, feedback=feedback
        ),
    )
    print_ticket(result, as_json, f"{result.id}: closed")
    return 0


@cli.command()
@click.argument("ticket")
@click.option("--reason", required=True, metavar="TEXT", help="Why it is not solved after all.")
@by_option
@json_option
@common
def reopen(ticket: str, reason: str, actor: str | None, as_json: bool) -> int:
    """Reopen a resolved or closed ticket."""
    who = whoami(actor)
    result = mutate(ticket, lambda t, c, n: lifecycle.reopen(t, c, n, who, reason))
    print_ticket(result, as_json, f"{result.id}: open")
    return 0


@cli.command()
@click.argument("ticket")
@click.argument("tags", nargs=-1, required=True)
@by_option
@json_option
@common
def tag(ticket: str, tags: tuple[str, ...], actor: str | None, as_json: bool) -> int:
    """Add tags to a ticket."""
    who = whoami(actor)
    result = mutate(ticket, lambda t, c, n: lifecycle.add_tags(t, n, who, tags))
    print_ticket(result, as_json, f"{result.id}: tags {', '.join(result.tags)}")
    return 0


@cli.command()
@click.argument("ticket")
@json_option
@common
def show(ticket: str, as_json: bool) -> int:
    """Show one ticket: facts, escalations, conversation."""
    from esc.domain.plan import sla_of

    state = _state()
    found = state.workspace.load(ticket).ticket
    sla = sla_of(found, state.config, state.now)
    if as_json:
        emit_json(views.ticket_json(found, state.config, full=True, sla=sla))
    else:
        click.echo(views.ticket_text(found, state.config, state.now, colour_enabled(), sla))
    return 0


@cli.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only this status (repeatable). Default: new, open and pending.",
)
@click.option("--all", "all_", is_flag=True, help="Include resolved and closed tickets.")
@click.option("--team", metavar="TEAM")
@click.option("--priority", metavar="P", help="A priority, or a comparison like '>=high'.")
@click.option("--assignee", metavar="PERSON", help="'none' for unassigned tickets.")
@click.option("--category", metavar="C")
@click.option("--tag", metavar="X")
@click.option("--level", metavar="N", help="A level, or a comparison like '>=2'.")
@click.option("--overdue", is_flag=True, help="Only tickets with a running SLA clock past due.")
@click.option(
    "--sort",
    "sort",
    metavar="FIELD",
    default=None,
    help="Sort by a field; '-FIELD' for descending. Default: priority, then age.",
)
@json_option
@common
def list_(
    statuses: tuple[str, ...],
    all_: bool,
    team: str | None,
    priority: str | None,
    assignee: str | None,
    category: str | None,
    tag: str | None,
    level: str | None,
    overdue: bool,
    sort: str | None,
    as_json: bool,
) -> int:
    """List tickets as a table (or JSON), filtered and sorted."""
    from esc.store.catalog import load as load_catalog

    state = _state()
    config = state.config
    catalog, records, broken = load_catalog(state.workspace)
    spec: dict[str, object] = {}
    if statuses or not all_:
        spec["status"] = list(statuses or ("new", "open", "pending"))
        wanted_statuses = set(spec["status"])  # type: ignore[call-overload]
        records = [r for r in records if r.status in wanted_statuses]
    by_id = {r.ticket.id: r for r in records}
    tickets = [r.ticket for r in records]
    for key, value in (
        ("team", team),
        ("priority", priority),
        ("category", category),
        ("tags", tag),
        ("level", level),
    ):
        if value is not None:
            spec[key] = query.level_value(value) if key == "level" else value
    if assignee is not None:
        spec["assignee"] = None if assignee == "none" else assignee
    chosen = query.select(tickets, config, spec, sort, state.now)
    wanted = as_json or overdue
    slas = {t.id: catalog.sla(by_id[t.id], state.now) for t in chosen} if wanted else {}
    catalog.save()
    if overdue:
        chosen = [t for t in chosen if slas[t.id].overdue_clocks]
        if sort is None:
            chosen.sort(key=lambda t: -(slas[t.id].overdue or dt.timedelta()).total_seconds())
    for error in broken:
        click.echo(str(error), err=True)
    if as_json:
        emit_json([views.ticket_json(t, config, sla=slas[t.id]) for t in chosen])
    elif chosen:
        width = shutil.get_terminal_size((120, 24)).columns
        click.echo(views.ticket_table(chosen, config, state.now, width, colour_enabled()))
    else:
        click.echo("no tickets match", err=True)
    return 1 if broken else 0


@cli.command()
@common
def validate() -> int:
    """Check teams.yaml, rules.yaml and every ticket; prints path:line: message."""
    from esc.ticketfile.problems import check_tickets

    state = _state()
    config, findings = state.workspace.config_findings()
    findings = findings + check_tickets(state.workspace.scan(), config)
    for finding in findings:
        click.echo(str(finding))
    if findings:
        click.echo(f"{len(findings)} problem(s)", err=True)
        return 1
    count = len(state.workspace.ticket_paths())
    click.echo(f"ok: teams.yaml, rules.yaml and {count} tickets", err=True)
    return 0


@cli.command()
@click.argument("ticket")
@json_option
@common
def log(ticket: str, as_json: bool) -> int:
    """A ticket's story: its activity log and the git commits of its file, in time order."""
    from esc.report.history import story, story_json, story_text
    from esc.store.git import file_history

    state = _state()
    doc = state.workspace.load(ticket)
    path = state.workspace.root / doc.path
    events = story(doc.ticket, file_history(state.workspace.root, path))
    if as_json:
        emit_json(story_json(events))
    else:
        click.echo(story_text(events))
    return 0


# ---------------------------------------------------------------- SLAs and automation


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--report-dir", metavar="DIR", help="Where to render reports (default: reports/).")
@click.option("--no-report", is_flag=True, help="Do not render reports.")
@click.option("--commit", is_flag=True, help="Commit exactly the files the sweep changed.")
@click.option("--push", is_flag=True, help="Commit and push; retry after a rebase if rejected.")
@click.option("--remote", default="origin", show_default=True, help="Where --push pushes.")
@click.option("--branch", metavar="B", help="The branch --push pushes to (default: current).")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    envvar="ESC_LOCK_TIMEOUT",
    metavar="SECONDS",
    help="How long to wait for another sweep, or for a ticket another command is writing "
    "(also ESC_LOCK_TIMEOUT).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    envvar="ESC_JOBS",
    metavar="N",
    help="Processes for parsing many tickets at once (default: one per CPU; also ESC_JOBS).",
)
@json_option
@common
def sweep(
    dry_run: bool,
    report_dir: str | None,
    no_report: bool,
    commit: bool,
    push: bool,
    remote: str,
    branch: str | None,
    lock_timeout: float,
    jobs: int | None,
    as_json: bool,
) -> int:
    """Compute SLAs, apply the rules, write changed tickets and render reports (for cron)."""
    from esc.commands.sweep import SweepOptions, sweep_json, sweep_text, sweep_workspace

    if no_report and report_dir:
        raise BadInput("--report-dir and --no-report exclude each other")
    if dry_run and (commit or push):
        raise BadInput("--dry-run excludes --commit and --push")
    options = SweepOptions(
        dry_run=dry_run,
        report_dir=Path(report_dir).resolve() if report_dir else None,
        reports=not no_report,
        commit=commit or push,
        push=push,
        remote=remote,
        branch=branch,
        lock_timeout=lock_timeout,
        jobs=jobs,
    )
    state = _state()
    state.workspace.lock_timeout = lock_timeout
    outcome = sweep_workspace(state.workspace, state.now, options)
    if as_json:
        emit_json(sweep_json(outcome))
    else:
        click.echo(sweep_text(outcome))
    for error in outcome.result.broken:
        click.echo(str(error), err=True)
    return 1 if outcome.result.broken else 0


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "junit"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["breached", "warning"]),
    default="breached",
    show_default=True,
    help="Fail on overdue tickets, or also on those in warning.",
)
@common
def check(fmt: str, fail_on: str) -> int:
    """Fail (exit 1) if open tickets are overdue: read-only, for CI."""
    from esc.report.check import check_tickets, render_check

    state = _state()
    items, broken = _active_with_sla(state, used=fmt == "json")
    outcome = check_tickets(items, state.now, fail_on)
    click.echo(render_check(outcome, fmt, state.config), nl=False)
    for error in broken:
        click.echo(str(error), err=True)
    return 1 if outcome.failing or broken else 0


def _active_with_sla(
    state: State, used: bool = True
) -> tuple[list[tuple[Ticket, Sla]], list[ParseError]]:
    """The open tickets and their SLAs as of --now, through the cache."""
    from esc.store.catalog import load as load_catalog

    catalog, records, broken = load_catalog(state.workspace)
    items = catalog.with_sla([r for r in records if r.active], state.now, used=used)
    catalog.save()
    return items, broken


@cli.command()
@click.option(
    "--within",
    default="8h",
    show_default=True,
    metavar="DURATION",
    help="How far ahead to look, in wall-clock time (e.g. 30m, 8h, 2d).",
)
@json_option
@common
def upcoming(within: str, as_json: bool) -> int:
    """Tickets that will breach an SLA within DURATION if nobody acts, soonest first."""
    from esc.domain.calendar import CalendarError, parse_duration
    from esc.report.check import upcoming_breaches

    try:
        horizon = parse_duration(within)
    except CalendarError as exc:
        raise BadInput(f"--within: {exc}") from None
    state = _state()
    items, broken = _active_with_sla(state)
    rows = upcoming_breaches(items, state.now, horizon)
    if as_json:
        emit_json([views.upcoming_json(t, c, state.now) for t, c in rows])
    elif rows:
        click.echo(views.upcoming_text(rows, state.now))
    else:
        click.echo(f"nothing will breach within {within}", err=True)
    for error in broken:
        click.echo(str(error), err=True)
    return 1 if broken else 0


@cli.command()
@click.argument("ticket")
@common
def explain(ticket: str) -> int:
    """Why a ticket's SLA clocks stand where they do, and which rules match it."""
    from esc.domain.explain import explain_ticket

    state = _state()
    found = state.workspace.load(ticket).ticket
    click.echo(explain_ticket(found, state.config, state.now))
    return 0


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "html", "json", "csv"]),
    default="markdown",
    show_default=True,
    help="Output format.",
)
@click.option("--out", metavar="PATH", help="Write to this file instead of stdout.")
@click.option(
    "--since", metavar="DATE", help="Start of the period (default: 30 days before --until)."
)
@click.option(
    "--until", metavar="DATE", help="End of the period; a date means its end (default: now)."
)
@click.option("--team", metavar="TEAM", help="Only tickets that are or were with this team.")
@common
def report(
    fmt: str, out: str | None, since: str | None, until: str | None, team: str | None
) -> int:
    """Render a report: backlog, SLA compliance, escalations, speed, satisfaction, trend."""
    from esc.report.contents import build_report, period_of
    from esc.report.render import render_report
    from esc.store.catalog import load as load_catalog

    state = _state()
    workspace = state.workspace
    period = period_of(since, until, state.now)
    catalog, records, broken = load_catalog(workspace)
    items = catalog.with_sla(records, state.now)
    data = build_report(items, workspace, state.now, period, team)
    catalog.save()
    links = _relative_links(workspace.root, out)
    text = render_report(
        data, fmt, workspace.root / TEMPLATES_DIR, links, compiled_templates_dir()
    )
    if out:
        workspace.write_output(Path(out), text)
    else:
        click.echo(text, nl=False)
    for error in broken:
        click.echo(str(error), err=True)
    return 1 if broken else 0


def _relative_links(root: Path, out: str | None) -> str:
    """How a report at ``out`` links to the workspace's ticket files."""
    folder = Path(out).resolve().parent if out else Path.cwd().resolve()
    try:
        rel = os.path.relpath(root, folder)
    except ValueError:
        return str(root) + "/"
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


@cli.command()
@click.option(
    "--sqlite",
    "sqlite_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write an SQLite database (replaced atomically if it exists).",
)
@click.option(
    "--csv",
    "csv_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write DIR/tickets.csv, DIR/escalations.csv and DIR/events.csv.",
)
@common
def export(sqlite_file: str | None, csv_dir: str | None) -> int:
    """Export tickets, escalations and the activity log as SQLite tables or CSV files."""
    from esc.report import export as exporting

    if not sqlite_file and not csv_dir:
        raise click.UsageError("give --sqlite FILE, --csv DIR, or both")
    state = _state()
    config = state.config
    docs, broken = exporting.exportable(state.workspace.scan())
    tables = exporting.build_tables([d.ticket for d in docs], config, [d.path for d in docs])
    targets = []
    if sqlite_file:
        exporting.write_sqlite(Path(sqlite_file), tables)
        targets.append(sqlite_file)
    if csv_dir:
        exporting.write_csv(Path(csv_dir), tables)
        targets.append(csv_dir)
    click.echo(f"exported {tables.summary()} to {' and '.join(targets)}")
    for error in broken:
        click.echo(str(error), err=True)
    return 1 if broken else 0


# ---------------------------------------------------------------- git


@cli.command("merge-file")
@click.argument("base", type=click.Path(exists=True, dir_okay=False))
@click.argument("ours", type=click.Path(exists=True, dir_okay=False))
@click.argument("theirs", type=click.Path(exists=True, dir_okay=False))
@common
def merge_file(base: str, ours: str, theirs: str) -> int:
    """Merge three versions of a ticket file field by field into OURS (git's merge driver).

    Git runs it as `esc merge-file %O %A %B`.  Exit 0 when the merge is clean, 1 when a
    conflict is left between <<<<<<< ours / >>>>>>> theirs markers for a human.
    """
    from esc.store import git

    result = git.merge_files(Path(base), Path(ours), Path(theirs))
    if result.conflicts:
        what = ", ".join(result.conflicts)
        click.echo(f"esc merge-file: conflicting {what}; resolve the marked lines", err=True)
        return 1
    return 0


@cli.command("install-git")
@common
def install_git() -> int:
    """Register esc's merge driver for tickets/*.md in this workspace's git repository.

    Adds `tickets/*.md merge=esc` to .gitattributes (commit it) and defines merge.esc in
    the repository's own git config (every clone runs this once: git does not copy config).
    """
    from esc.store import git

    root = _state().workspace.root
    if not git.inside_git_work_tree(root):
        raise EscError(f"{root} is not inside a git work tree; run `git init` first")
    changed = git.ensure_gitattributes(root)
    git.configure_git(root)
    click.echo(
        f"{'added' if changed else 'kept'} `{git.ATTRIBUTES_LINE}` in .gitattributes; "
        f"git config merge.esc.driver = {git.DRIVER_COMMAND}"
    )
    return 0


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run esc; map expected errors to exit 1, usage errors to 2 and bugs to 3."""
    try:
        result = cli.main(args=argv, prog_name="esc", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("esc: interrupted", err=True)
        return EXIT_INTERRUPTED
    except ParseError as exc:
        click.echo(str(exc), err=True)
        return exc.exit_code
    except EscError as exc:
        click.echo(f"esc: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug: say so, distinctly
        if os.environ.get("ESC_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"esc: internal error ({type(exc).__name__}: {exc}); this is a bug in esc, "
            "please report it (set ESC_DEBUG=1 for the traceback)",
            err=True,
        )
        return EXIT_BUG
    return result if isinstance(result, int) else 0


def run() -> None:  # pragma: no cover - console script
    # One command is a short run: reference counting frees what it is done with, and the
    # cyclic collector's passes over the loaded cache cost a tenth of a warm `esc list`.
    gc.disable()
    code = main()
    exit_now(code)


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown, which frees every object one by one (tens
    of milliseconds after a sweep of 10,000 tickets): everything esc writes is written,
    synced and closed by now; its output is flushed and any process it forked stopped, as
    a normal exit would."""
    if "multiprocessing" in sys.modules:  # (else it forked nothing)
        import multiprocessing

        for child in multiprocessing.active_children():
            child.terminate()
            child.join()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, or a stream closed
            stream.flush()
    os._exit(code)
