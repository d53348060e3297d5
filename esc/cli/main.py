"""The command line: click's options for each command, dispatched to :mod:`esc.commands`.

Each command here only turns its options into plain values and calls one function of
:mod:`esc.commands`, which returns what to print.  ``main`` maps what went wrong to an
exit code: an expected problem (EscError) is one line on stderr and exit 1, a usage error
2, an interruption 130, and anything else is a bug (exit 3).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import get_args

import click
from click.core import ParameterSource

from esc import __version__
from esc.cli import stops
from esc.cli.options import (
    OneValueGroup,
    Seconds,
    WholeNumber,
    by_option,
    common,
    given_path,
    json_option,
    notify_option,
    once,
    refuse_empty_now,
    session,
)
from esc.cli.output import emit, say, standard_output_closed
from esc.cli.stops import Terminated
from esc.domain.errors import (
    EXIT_BUG,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_TEMPFAIL,
    EXIT_TERMINATED,
    EXIT_USAGE,
    LONE_SURROGATE,
    BadInput,
    EscError,
    ParseError,
)
from esc.domain.model import CHANNELS, STATUSES
from esc.report.choices import CheckFormat, FailOn, PlanFormat, ReportFormat
from esc.store.diagnostics import debugging
from esc.store.launch import CRON_PATH
from esc.store.names import resolved

# Each command imports its module of esc.commands when it runs: `esc --help` and the
# small commands then load only what they use.

# ---------------------------------------------------------------- the group


@click.group(cls=OneValueGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    metavar="PATH",
    envvar="ESC_ROOT",
    callback=given_path,
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
    from esc.commands.session import Session

    refuse_empty_now(now)  # (an empty ESC_NOW is as if unset: click gives None for it)
    found = ctx.ensure_object(Session)
    found.root_option = root
    if found.now_option is None and now and (
        ctx.get_parameter_source("now") is ParameterSource.ENVIRONMENT
    ):
        found.now_name = "ESC_NOW"
    found.now_option = found.now_option or now


@cli.command(short_help="Writes a starter workspace: teams.yaml, rules.yaml, tickets/.")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False), callback=given_path
)
@click.option("--force", is_flag=True, help="Overwrite existing starter files.")
@common
def init(directory: str | None, force: bool) -> int:
    """Create a workspace in DIRECTORY (default: --root or ESC_ROOT, else here): starter
    teams.yaml, rules.yaml, tickets/, .gitignore and .gitattributes (and, inside a git
    work tree, register esc's merge driver)."""
    from esc.commands import setup
    from esc.commands.session import Session

    ctx = click.get_current_context()
    root = ctx.ensure_object(Session).root_option
    typed = ctx.parent is not None and (
        ctx.parent.get_parameter_source("root") is ParameterSource.COMMANDLINE
    )  # (--root given; ESC_ROOT, set in a shell's profile, gives way to a DIRECTORY given)
    given = directory is not None and root is not None and typed
    if given and os.path.realpath(directory or "") != os.path.realpath(root or ""):
        raise BadInput(f"two folders given: {directory!r} and --root {root!r}; give one")
    return emit(setup.init(directory or root or ".", force))


# ---------------------------------------------------------------- one ticket


@cli.command(short_help="Records a new ticket, with its priority and team worked out.")
@click.option("--title", required=True, help="One line saying what is wrong.")
@click.option("--body", metavar="TEXT", help="The description; '-' reads it from stdin.")
@click.option("--customer", metavar="WHO", help="Who asked (a name or e-mail).")
@click.option(
    "--channel", type=click.Choice(CHANNELS, case_sensitive=False), help="Where the ticket came in."
)
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
    from esc.commands import ticket
    from esc.domain.lifecycle import Intake

    state = session()
    state.workspace.config()  # (a broken configuration stops it before the editor opens)

    intake = Intake(
        title, _read_body(body), customer, channel, category, priority, impact, urgency, tags
    )
    return emit(ticket.create(state, intake, actor, as_json))


_EDITOR_MARKER = "<!-- Describe the problem above. This line is removed. -->"


@contextlib.contextmanager
def _editor_on_terminal() -> Iterator[None]:
    """The editor draws on the terminal even when esc's stdout is captured: its stdout is
    the terminal (``/dev/tty``) while it runs, and esc's own is put back after."""
    if sys.stdout.isatty():
        yield
        return
    try:
        tty = os.open("/dev/tty", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:  # (no controlling terminal: the editor gets stdout as it is)
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(tty, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(tty)


MAX_STDIN_CHARS = 50_000_000  # (as intake takes a message of 50 MB at most)


def _stdin_text() -> str:
    """What stdin holds, as text: BadInput (nothing done) if it is not UTF-8 or holds a
    NUL byte, as an argument that is not (a ticket file holds text only)."""
    text = sys.stdin.read(MAX_STDIN_CHARS + 1)  # (never all of an endless stream)
    if len(text) > MAX_STDIN_CHARS:
        raise BadInput(
            f"stdin holds more than {MAX_STDIN_CHARS:,} characters, more than a ticket's "
            "text may be; nothing was done"
        )
    bad = LONE_SURROGATE.search(text)
    if bad is not None:
        raise BadInput(f"stdin is not valid UTF-8 text (at character {bad.start() + 1})")
    if "\0" in text:
        raise BadInput("stdin holds a NUL byte, which is no text")
    return text.removeprefix("\ufeff")  # (a byte order mark a Windows editor wrote: no text)


def _dash_is_stdin(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Callback of a text option: ``-`` is the text stdin holds (as `--body -`, `-m -` and
    `--ask -` read it), not a literal dash sent to the customer, without the line breaks
    it ends with (as the shell's ``$(…)`` takes a command's output: `echo why | esc
    escalate --reason -` gives the reason "why").  Stdin holds one text: a second option
    given ``-`` is refused."""
    if value != "-":
        return value
    meta = ctx.find_root().meta  # (this run's: esc runs many times in one test process)
    if meta.get("esc.stdin_read"):
        raise click.BadParameter("- (stdin) was given to another option already", param=param)
    meta["esc.stdin_read"] = True
    return _stdin_text().rstrip("\r\n")


def _read_body(body: str | None) -> str:
    if body == "-":
        return _stdin_text()
    if body is not None:
        return body
    if sys.stdin.isatty():  # (also when stdout is captured: `ID=$(esc create --title …)`)
        with _editor_on_terminal():
            edited = click.edit(f"\n{_EDITOR_MARKER}\n")
        lines = (edited or "").splitlines()
        text = "\n".join(line for line in lines if line.strip() != _EDITOR_MARKER).strip()
        if not text:  # (as `git commit` aborts on a message left unsaved or empty)
            raise EscError(
                "no description was saved in the editor, so no ticket was created "
                "(give --body '' for a ticket without one)"
            )
        return text
    return ""


@cli.command(short_help="Re-classifies a ticket: category, priority, impact and urgency.")
@click.argument("ref", metavar="TICKET")
@click.option(
    "--category",
    metavar="C",
    help="One of rules.yaml's categories (re-routes a first-level ticket).",
)
@click.option("--priority", metavar="P", help="The priority, set by hand.")
@click.option("--impact", metavar="I", help="Impact, for the priority matrix (with --urgency).")
@click.option("--urgency", metavar="U", help="Urgency, for the priority matrix (with --impact).")
@by_option
@json_option
@common
def classify(
    ref: str,
    category: str | None,
    priority: str | None,
    impact: str | None,
    urgency: str | None,
    actor: str | None,
    as_json: bool,
) -> int:
    """Set category and priority; re-routes a ticket still at its first level."""
    from esc.commands import ticket

    return emit(
        ticket.classify(session(), ref, category, priority, impact, urgency, actor, as_json)
    )


@cli.command(short_help="Assigns a ticket to a member of its team (none: nobody).")
@click.argument("ref", metavar="TICKET")
@click.argument("person")
@click.option("--force", is_flag=True, help="Assign someone outside the ticket's team.")
@by_option
@json_option
@common
def assign(ref: str, person: str, force: bool, actor: str | None, as_json: bool) -> int:
    """Give a ticket to a member of its team (PERSON `none`: to nobody)."""
    from esc.commands import ticket

    return emit(ticket.assign(session(), ref, person, force, actor, as_json))


@cli.command(short_help="Adds a public reply, an internal note or a customer message.")
@click.argument("ref", metavar="TICKET")
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
@click.option(
    "--send",
    is_flag=True,
    help="Also e-mail the reply to the customer (rules.yaml's customer_mail:).",
)
@notify_option
@json_option
@common
def comment(
    ref: str,
    message: str,
    internal: bool,
    from_customer: bool,
    author: str | None,
    send: bool,
    as_json: bool,
) -> int:
    """Add a public reply, an internal note (--internal) or a customer message."""
    from esc.commands import ticket

    kind = ticket.comment_kind(internal, from_customer)
    text = _stdin_text() if message == "-" else message
    return emit(ticket.comment(session(), ref, text, kind, author, as_json, send))


@cli.command(short_help="Puts a ticket on hold (pending), waiting for the customer.")
@click.argument("ref", metavar="TICKET")
@click.option(
    "--reason", required=True, metavar="TEXT", callback=_dash_is_stdin,
    help="What the customer must do (- reads it from stdin).",
)  # fmt: skip
@by_option
@json_option
@common
def wait(ref: str, reason: str, actor: str | None, as_json: bool) -> int:
    """Put a ticket on hold (pending) until the customer answers."""
    from esc.commands import ticket

    return emit(ticket.wait(session(), ref, reason, actor, as_json))


@cli.command(short_help="Takes a pending ticket back to open.")
@click.argument("ref", metavar="TICKET")
@by_option
@json_option
@common
def resume(ref: str, actor: str | None, as_json: bool) -> int:
    """Take a pending ticket back to open."""
    from esc.commands import ticket

    return emit(ticket.resume(session(), ref, actor, as_json))


@cli.command(short_help="Escalates to a specialist team, up the chain, or in priority.")
@click.argument("ref", metavar="TICKET")
@click.option("--to", "to", metavar="TEAM", help="Functional escalation to a specialist team.")
@click.option("--up", is_flag=True, help="Hierarchical escalation to the next team up the chain.")
@click.option("--priority", metavar="P", help="Priority escalation to a higher priority.")
@click.option(
    "--reason", required=True, metavar="TEXT", callback=_dash_is_stdin,
    help="Why this level cannot solve it (- reads it from stdin).",
)  # fmt: skip
@by_option
@json_option
@common
def escalate(
    ref: str,
    to: str | None,
    up: bool,
    priority: str | None,
    reason: str,
    actor: str | None,
    as_json: bool,
) -> int:
    """Escalate: functional (--to), hierarchical (--up) or priority (--priority)."""
    from esc.commands import ticket

    return emit(ticket.escalate(session(), ref, to, up, priority, reason, actor, as_json))


@cli.command(short_help="Asks another team for help while the ticket stays with its own.")
@click.argument("ref", metavar="TICKET")
@click.option(
    "--team", required=True, multiple=True, callback=once, metavar="TEAM",
    help="The team asked for help.",
)
@click.option(
    "--person", multiple=True, callback=once, metavar="PERSON",
    help="Someone in that team to ask.",
)
@click.option(
    "--ask", required=True, multiple=True, callback=once, metavar="TEXT",
    help="What they are asked ('-' reads stdin).",
)
@by_option
@json_option
@common
def involve(
    ref: str, team: str, person: str | None, ask: str, actor: str | None, as_json: bool
) -> int:
    """Ask another team for help; the ticket stays with its team."""
    from esc.commands import ticket

    text = _stdin_text() if ask == "-" else ask
    return emit(ticket.involve(session(), ref, team, person, text, actor, as_json))


@cli.command(short_help="Answers (or declines) a team's open request on a ticket.")
@click.argument("ref", metavar="TICKET")
@click.option(
    "--team", required=True, multiple=True, callback=once, metavar="TEAM",
    help="The team whose request it closes.",
)
@click.option("-m", "--message", required=True, metavar="TEXT", help="The answer ('-': stdin).")
@click.option("--decline", is_flag=True, help="Decline the request instead of answering it.")
@by_option
@json_option
@common
def answer(
    ref: str, team: str, message: str, decline: bool, actor: str | None, as_json: bool
) -> int:
    """Answer (or --decline) a team's open request: an internal note that closes it."""
    from esc.commands import ticket

    text = _stdin_text() if message == "-" else message
    return emit(ticket.answer(session(), ref, team, text, decline, actor, as_json))


@cli.command(short_help="Marks a ticket resolved and tells the customer how.")
@click.argument("ref", metavar="TICKET")
@click.option(
    "--resolution", required=True, metavar="TEXT", callback=_dash_is_stdin,
    help="How it was solved (- reads it from stdin).",
)  # fmt: skip
@click.option(
    "--kb", "article", metavar="ARTICLE", help="The kb/ article that solved it (KB-0003)."
)
@by_option
@json_option
@common
def resolve(
    ref: str, resolution: str, article: str | None, actor: str | None, as_json: bool
) -> int:
    """Mark a ticket solved, telling the customer how."""
    from esc.commands import ticket

    return emit(ticket.resolve(session(), ref, resolution, article, actor, as_json))


@cli.command(short_help="Closes a ticket for good, with satisfaction and feedback.")
@click.argument("ref", metavar="TICKET")
@click.option("--csat", type=WholeNumber(1, 5), help="Customer satisfaction, 1 to 5.")
@click.option(
    "--feedback", metavar="TEXT", callback=_dash_is_stdin,
    help="What the customer said about the help (- reads it from stdin).",
)  # fmt: skip
@click.option(
    "--resolution", metavar="TEXT", callback=_dash_is_stdin,
    help="Needed to close a ticket not yet resolved (- reads it from stdin).",
)  # fmt: skip
@click.option(
    "--kb", "article", metavar="ARTICLE", help="The kb/ article that solved it (KB-0003)."
)
@by_option
@json_option
@common
def close(
    ref: str,
    csat: int | None,
    feedback: str | None,
    resolution: str | None,
    article: str | None,
    actor: str | None,
    as_json: bool,
) -> int:
    """Close a ticket for good, recording satisfaction."""
    from esc.commands import ticket

    return emit(
        ticket.close(session(), ref, csat, feedback, resolution, article, actor, as_json)
    )


@cli.command(short_help="Takes a resolved or closed ticket back to open.")
@click.argument("ref", metavar="TICKET")
@click.option(
    "--reason", required=True, metavar="TEXT", callback=_dash_is_stdin,
    help="Why it is not solved after all (- reads it from stdin).",
)  # fmt: skip
@by_option
@json_option
@common
def reopen(ref: str, reason: str, actor: str | None, as_json: bool) -> int:
    """Reopen a resolved or closed ticket."""
    from esc.commands import ticket

    return emit(ticket.reopen(session(), ref, reason, actor, as_json))


@cli.command(short_help="Adds tags to a ticket.")
@click.argument("ref", metavar="TICKET")
@click.argument("tags", nargs=-1, required=True)
@by_option
@json_option
@common
def tag(ref: str, tags: tuple[str, ...], actor: str | None, as_json: bool) -> int:
    """Add tags to a ticket."""
    from esc.commands import ticket

    return emit(ticket.tag(session(), ref, tags, actor, as_json))


# ---------------------------------------------------------------- reading tickets


@cli.command(short_help="One ticket: facts, SLA clocks, escalations, conversation.")
@click.argument("ref", metavar="TICKET")
@json_option
@common
def show(ref: str, as_json: bool) -> int:
    """Show one ticket: facts, escalations, conversation."""
    from esc.commands import browse

    return emit(browse.show(session(), ref, as_json))


@cli.command("list", short_help="The work in hand, filtered and sorted: a table, or JSON.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES, case_sensitive=False),
    help="Only this status (repeatable). Default: new, open and pending.",
)
@click.option("--all", "all_", is_flag=True, help="Include resolved and closed tickets.")
@click.option("--team", "teams", metavar="TEAM", multiple=True, help="Only this team (repeatable).")
@click.option(
    "--priority", metavar="P", multiple=True, callback=once,
    help="A priority, or a comparison like '>=high'.",
)
@click.option(
    "--assignee",
    "assignees",
    metavar="PERSON",
    multiple=True,
    help="Only this person's; 'none' for unassigned tickets (repeatable).",
)
@click.option("--category", "categories", metavar="C", multiple=True, help="(Repeatable.)")
@click.option("--tag", "tags", metavar="X", multiple=True, help="With this tag (repeatable: any).")
@click.option(
    "--level", metavar="N", multiple=True, callback=once,
    help="A level, or a comparison like '>=2'.",
)
@click.option("--overdue", is_flag=True, help="Only tickets with a running SLA clock past due.")
@click.option(
    "--involving",
    metavar="TEAM",
    multiple=True,
    help="Only tickets with an open request to TEAM (repeatable: any).",
)
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
    teams: tuple[str, ...],
    priority: str | None,
    assignees: tuple[str, ...],
    categories: tuple[str, ...],
    tags: tuple[str, ...],
    level: str | None,
    overdue: bool,
    involving: tuple[str, ...],
    sort: str | None,
    as_json: bool,
) -> int:
    """List tickets as a table (or JSON), filtered and sorted."""
    from esc.commands import browse

    filters: dict[str, tuple[str, ...]] = {
        "team": teams,
        "priority": (priority,) if priority is not None else (),
        "category": categories,
        "tags": tags,
        "level": (level,) if level is not None else (),
        "assignee": assignees,
    }
    return emit(
        browse.list_tickets(session(), statuses, all_, filters, overdue, sort, as_json, involving)
    )


# ---------------------------------------------------------------- the knowledge base


@cli.group()
@common
def kb() -> None:
    """The knowledge base: Markdown articles in kb/."""


@kb.command("new", short_help="Writes a new article, or drafts one from a solved ticket.")
@click.option("--from", "source", metavar="TICKET", help="Draft it from a resolved ticket.")
@click.option("--title", metavar="T", help="The title (with --from: the ticket's).")
@click.option("--category", "categories", multiple=True, metavar="C", help="A category (repeat).")
@click.option("--tag", "tags", multiple=True, metavar="X", help="A tag (repeatable).")
@click.option("--body", metavar="TEXT|-", help="The article's Markdown; '-' reads stdin.")
@json_option
@common
def kb_new(
    source: str | None,
    title: str | None,
    categories: tuple[str, ...],
    tags: tuple[str, ...],
    body: str | None,
    as_json: bool,
) -> int:
    """Write a new article kb/KB-NNNN.md under the next ID; prints the ID."""
    from esc.commands import kb as articles

    text = _stdin_text() if body == "-" else body
    return emit(articles.new(session(), source, title, categories, tags, text, as_json))


@kb.command("list", short_help="Lists the knowledge-base articles.")
@click.option("--category", metavar="C", help="Only articles of this category.")
@json_option
@common
def kb_list(category: str | None, as_json: bool) -> int:
    """List the articles."""
    from esc.commands import kb as articles

    return emit(articles.list_articles(session(), category, as_json))


@kb.command("search", short_help="Finds the articles that best match some words.")
@click.argument("words", metavar="TEXT...", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True, type=WholeNumber(min=1))
@json_option
@common
def kb_search(words: tuple[str, ...], limit: int, as_json: bool) -> int:
    """The articles that best match TEXT (quoted or not), with scores and the words matched."""
    from esc.commands import kb as articles

    return emit(articles.search_articles(session(), " ".join(words), limit, as_json))


@kb.command("show", short_help="One article.")
@click.argument("ref", metavar="ARTICLE")
@json_option
@common
def kb_show(ref: str, as_json: bool) -> int:
    """Show one article (KB-0003, or just 3)."""
    from esc.commands import kb as articles

    return emit(articles.show_article(session(), ref, as_json))


@cli.command(short_help="The articles that best match a ticket.")
@click.argument("ref", metavar="TICKET")
@click.option("--limit", default=5, show_default=True, type=WholeNumber(min=1))
@json_option
@common
def suggest(ref: str, limit: int, as_json: bool) -> int:
    """The knowledge-base articles that best match a ticket, with scores and matched words."""
    from esc.commands import kb as articles

    return emit(articles.suggest_for(session(), ref, limit, as_json))


@cli.command(short_help="Checks the configuration, every ticket and the knowledge base.")
@common
def validate() -> int:
    """Check teams.yaml, rules.yaml and every ticket; prints path:line: message."""
    from esc.commands.validate import validate as validate_all

    return emit(validate_all(session()))


@cli.command(short_help="A ticket's story in time order, with the git commits on it.")
@click.argument("ref", metavar="TICKET")
@json_option
@common
def log(ref: str, as_json: bool) -> int:
    """A ticket's story: its activity log and the git commits of its file, in time order."""
    from esc.commands import browse

    return emit(browse.log(session(), ref, as_json))


# ---------------------------------------------------------------- SLAs and automation


@cli.command(short_help="For cron: SLA clocks, rules, notifications, reports, git push.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option(
    "--report-dir",
    metavar="DIR",
    callback=given_path,
    help="Where to render reports (default: reports/).",
)
@click.option("--no-report", is_flag=True, help="Do not render reports.")
@click.option(
    "--commit",
    is_flag=True,
    help="Commit the tickets the sweep changed (and the reports, if git tracks them); "
    "tickets with uncommitted changes are left for the next sweep.",
)
@click.option("--push", is_flag=True, help="Commit and push; retry after a rebase if rejected.")
@click.option("--remote", default="origin", show_default=True, help="Where --push pushes.")
@click.option(
    "--branch",
    metavar="B",
    help="The branch --push pushes to: the current one (the default), or any from a detached HEAD.",
)
@click.option(
    "--lock-timeout",
    type=Seconds(),
    default=60.0,
    show_default=True,
    envvar="ESC_LOCK_TIMEOUT",
    metavar="SECONDS",
    help="How long to wait for another sweep, or for a ticket another command is writing "
    "(also ESC_LOCK_TIMEOUT).",
)
@click.option(
    "--jobs",
    type=WholeNumber(min=1),
    envvar="ESC_JOBS",
    metavar="N",
    help="Processes for parsing many tickets at once (default: one per CPU; also ESC_JOBS).",
)
@click.option(
    "--no-notify", is_flag=True, help="Queue and send no notifications (see Notifications)."
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
    no_notify: bool,
    as_json: bool,
) -> int:
    """Compute SLAs, apply the rules, write changed tickets and render reports (for cron)."""
    from esc.commands import sweep as sweeping

    if no_report and report_dir:
        raise BadInput("--report-dir and --no-report exclude each other")
    if dry_run and (commit or push):
        raise BadInput("--dry-run excludes --commit and --push")
    options = sweeping.SweepOptions(
        dry_run=dry_run,
        report_dir=resolved(Path(report_dir), "--report-dir") if report_dir else None,
        reports=not no_report,
        commit=commit or push,
        push=push,
        remote=remote,
        branch=branch,
        lock_timeout=lock_timeout,
        jobs=jobs,
        notify=not no_notify,
    )
    return emit(sweeping.sweep(session(), options, as_json))


@cli.group()
@common
def notify() -> None:
    """Notifications: the targets of rules.yaml's `notify:` section."""


@notify.command("test", short_help="Sends a test message to a notification target.")
@click.argument("target")
@common
def notify_test(target: str) -> int:
    """Send a test message to TARGET now (exit 1 if it is not accepted)."""
    from esc.commands import notify as notifying

    return emit(notifying.test(session(), target))


@cli.command(short_help="For cron or an MTA: makes tickets from e-mail or JSON.")
@click.option(
    "--maildir",
    metavar="DIR",
    callback=given_path,
    help="Take the unseen messages of this Maildir.",
)
@click.option(
    "--mbox", metavar="FILE", callback=given_path, help="Take the messages of this mbox file."
)
@click.option("--eml", metavar="-", help="'-': take one RFC 5322 message from stdin (an MTA pipe).")
@click.option("--json", "json_in", metavar="-", help="'-': take tickets as JSON from stdin.")
@click.option("--imap", metavar="HOST", help="Take the messages of an IMAP folder (over TLS).")
@click.option(
    "--imap-port",
    type=WholeNumber(1, 65535),
    metavar="PORT",
    help="Default 993 (143: STARTTLS).",
)
@click.option(
    "--imap-user", envvar="ESC_IMAP_USER", metavar="USER", help="Also ESC_IMAP_USER. "
    "The password is read from ESC_IMAP_PASSWORD only.",
)  # fmt: skip
@click.option(
    "--imap-folder",
    default="INBOX",
    show_default=True,
    metavar="FOLDER",
    help="The folder to read.",
)
@click.option("--imap-starttls", is_flag=True, help="STARTTLS on the plain port, not TLS at once.")
@click.option(
    "--imap-cafile",
    metavar="FILE",
    callback=given_path,
    help="Check the server's certificate with this CA.",
)
@click.option(
    "--imap-move-to", metavar="FOLDER", help="Move taken messages there (else flag them)."
)
@click.option(
    "--imap-quarantine-to", metavar="FOLDER", help="Move unusable messages there (else flag them)."
)
@click.option(
    "--quarantine",
    metavar="DIR",
    callback=given_path,
    help="Where unusable messages go (default: quarantine/).",
)
@click.option("--allow", multiple=True, metavar="PATTERN", help="Only these senders (glob).")
@click.option("--deny", multiple=True, metavar="PATTERN", help="Never these senders (glob).")
@click.option(
    "--attachment-limit",
    type=WholeNumber(min=0),
    default=10,
    show_default=True,
    metavar="MB",
    help="Larger attachments are listed, not saved.",
)
@click.option(
    "--lock-timeout",
    type=Seconds(),
    default=60.0,
    show_default=True,
    envvar="ESC_LOCK_TIMEOUT",
    metavar="SECONDS",
    help="How long to wait for a sweep or another intake (also ESC_LOCK_TIMEOUT).",
)
@notify_option
@common
def intake(
    maildir: str | None,
    mbox: str | None,
    eml: str | None,
    json_in: str | None,
    imap: str | None,
    imap_port: int | None,
    imap_user: str | None,
    imap_folder: str,
    imap_starttls: bool,
    imap_cafile: str | None,
    imap_move_to: str | None,
    imap_quarantine_to: str | None,
    quarantine: str | None,
    allow: tuple[str, ...],
    deny: tuple[str, ...],
    attachment_limit: int,
    lock_timeout: float,
) -> int:
    """Make tickets from e-mail (new ones, or customer messages on the ticket a reply
    continues) or from JSON (web forms, chat)."""
    from esc.commands import intake as intaking

    given = [
        name
        for name, v in (
            ("--maildir", maildir),
            ("--mbox", mbox),
            ("--eml", eml),
            ("--json", json_in),
            ("--imap", imap),
        )
        if v is not None
    ]
    if len(given) != 1:
        raise BadInput("give one of --maildir DIR, --mbox FILE, --eml -, --imap HOST or --json -")
    imap_only = (imap_port, imap_starttls or None, imap_cafile, imap_move_to, imap_quarantine_to)
    ctx = click.get_current_context()
    typed = {  # (the options given on the command line, not left at their defaults)
        name for name in ("imap_folder", "attachment_limit")
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }  # fmt: skip
    if imap is None and (any(v is not None for v in imap_only) or "imap_folder" in typed):
        raise BadInput("the --imap-… options need --imap HOST")
    mail_only = [name for name, given in (
        ("--allow", allow), ("--deny", deny), ("--quarantine", quarantine),
        ("--attachment-limit", "attachment_limit" in typed),
    ) if given]  # fmt: skip
    if json_in is not None and mail_only:
        raise BadInput(f"{', '.join(mail_only)}: for e-mail intake, not with --json -")
    for name, value in (("--eml", eml), ("--json", json_in)):
        if value is not None and value != "-":
            raise BadInput(f"{name} takes '-' (stdin)")
    if eml is not None:  # (piped by an MTA: whatever stops esc, the MTA keeps the message)
        with _not_taken_now():
            options = intaking.MailOptions(
                eml=_read_bytes(),
                quarantine=resolved(Path(quarantine), "--quarantine") if quarantine else None,
                allow=allow,
                deny=deny,
                attachment_limit=attachment_limit * 1024 * 1024,
                lock_timeout=lock_timeout,
            )
            return emit(intaking.intake_mail(session(), options))
    state = session()
    if json_in is not None:
        return emit(intaking.intake_json(state, _stdin_text(), lock_timeout))
    options = intaking.MailOptions(
        maildir=Path(maildir) if maildir else None,
        mbox=Path(mbox) if mbox else None,
        quarantine=resolved(Path(quarantine), "--quarantine") if quarantine else None,
        allow=allow,
        deny=deny,
        attachment_limit=attachment_limit * 1024 * 1024,
        lock_timeout=lock_timeout,
        imap=None
        if imap is None
        else intaking.imap_settings(
            imap,
            imap_user,
            port=imap_port,
            folder=imap_folder,
            security="starttls" if imap_starttls else "tls",
            cafile=imap_cafile,
            done_folder=imap_move_to,
            quarantine_folder=imap_quarantine_to,
        ),
    )
    return emit(intaking.intake_mail(state, options))


@contextlib.contextmanager
def _not_taken_now() -> Iterator[None]:
    """For `esc intake --eml -` (an MTA's pipe): a problem that is not the message's (a
    rules.yaml that does not parse, a folder esc may not write, even a bug in esc) is one
    line on stderr, as for any command, ending `; not taken now`, and exit 75: the MTA
    keeps the message and delivers it again later, where any other code would bounce the
    customer's mail back to them."""
    try:
        yield
    except Terminated:  # (an MTA's time limit: killed by a signal, it deferred the message;
        say("esc: terminated; not taken now")  # exit 143 would bounce it)
    except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt):
        raise
    except ParseError as exc:
        say(f"{exc}; not taken now")
    except EscError as exc:
        say(f"esc: {exc}; not taken now")
    except OSError as exc:
        if exc.errno not in _SYSTEM_TROUBLE:
            _bug(exc)
        else:
            say(f"esc: {_system_trouble(exc)}; not taken now")
    except Exception as exc:  # (a bug: said as such, and the message still not bounced)
        _bug(exc)
    else:
        return
    raise click.exceptions.Exit(EXIT_TEMPFAIL)


def _read_bytes() -> bytes:
    """stdin as bytes (in tests stdin may be text only)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read()
        return data
    return sys.stdin.read().encode("utf-8", "surrogateescape")


@cli.command(short_help="For CI: lists the overdue tickets; fails when there are some.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(get_args(CheckFormat), case_sensitive=False),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--fail-on",
    type=click.Choice(get_args(FailOn), case_sensitive=False),
    default="breached",
    show_default=True,
    help="Fail on overdue tickets, or also on those in warning.",
)
@click.option(
    "--changed-since",
    metavar="REF",
    help="Judge only the tickets whose files changed since this git ref (for pull requests).",
)
@common
def check(fmt: CheckFormat, fail_on: FailOn, changed_since: str | None) -> int:
    """Fail (exit 1) if open tickets are overdue: read-only, the scheduled alarm (for CI)."""
    from esc.commands import deadlines

    return emit(deadlines.check(session(), fmt, fail_on, changed_since))


@cli.command(short_help="For a pull request: what its change to the workspace would do.")
@click.option(
    "--base",
    "base_ref",
    required=True,
    metavar="REF",
    help="The git ref to compare with (e.g. origin/main); its fork point with HEAD is used.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*get_args(PlanFormat), "md"], case_sensitive=False),
    callback=lambda _ctx, _param, value: "markdown" if value == "md" else value,
    default="markdown",
    show_default=True,
    help="Markdown (a PR comment, $GITHUB_STEP_SUMMARY) or JSON.",
)
@click.option(
    "--fail-on",
    "fail_on",
    multiple=True,
    metavar="CAUSES",
    help="Exit 1 if the change causes one of these (a comma list): invalid, policy, "
    "deadline, breach, warning, escalation, rule, routing.",
)
@common
def plan(base_ref: str, fmt: PlanFormat, fail_on: tuple[str, ...]) -> int:
    """What a change to teams.yaml, rules.yaml or tickets/ does, compared with a git ref:
    SLAs, routing and the next sweep's rules, ticket by ticket."""
    from esc.commands import preview

    return emit(preview.plan_change(session(), base_ref, fmt, fail_on))


@cli.command(short_help="The tickets that will breach an SLA soon if nobody acts.")
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
    from esc.commands import deadlines

    return emit(deadlines.upcoming(session(), within, as_json))


@cli.command(short_help="How each SLA clock of a ticket was computed.")
@click.argument("ref", metavar="TICKET")
@common
def explain(ref: str) -> int:
    """Why a ticket's SLA clocks stand where they do, and which rules match it."""
    from esc.commands import browse

    return emit(browse.explain(session(), ref))


# ---------------------------------------------------------------- reports


@cli.command(short_help="SLA compliance, escalations, resolution times, satisfaction.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*get_args(ReportFormat), "md"], case_sensitive=False),
    callback=lambda _ctx, _param, value: "markdown" if value == "md" else value,
    help="Output format (md: markdown; default: as --out's extension says, .html .json .csv "
    ".md; else markdown).",
)
@click.option(
    "--out",
    metavar="PATH",
    callback=given_path,
    help="Write to this file instead of stdout (-: stdout).",
)
@click.option(
    "--since", metavar="DATE", help="Start of the period (default: 30 days before --until)."
)
@click.option(
    "--until", metavar="DATE", help="End of the period; a date means its end (default: now)."
)
@click.option("--team", metavar="TEAM", help="Only tickets that are or were with this team.")
@click.option(
    "--jobs",
    type=WholeNumber(min=1),
    envvar="ESC_JOBS",
    metavar="N",
    help="Processes for counting many tickets at once (default: two when there are several "
    "CPUs; 1: one; also ESC_JOBS).",
)
@common
def report(
    fmt: ReportFormat | None,
    out: str | None,
    since: str | None,
    until: str | None,
    team: str | None,
    jobs: int | None,
) -> int:
    """Render a report: backlog, SLA compliance, escalations, speed, satisfaction, trend,
    collaboration and the knowledge base."""
    from esc.commands import reports

    return emit(reports.report(session(), fmt, out, since, until, team, jobs))


@cli.command(short_help="Every ticket as an SQLite database or CSV files, for analysts.")
@click.option(
    "--sqlite",
    "sqlite_file",
    metavar="FILE",
    callback=given_path,
    type=click.Path(),  # (a folder, a FIFO…: refused by the command, exit 1, nothing written)
    help="Write an SQLite database (replaced atomically if it exists).",
)
@click.option(
    "--csv",
    "csv_dir",
    metavar="DIR",
    callback=given_path,
    type=click.Path(),
    help="Write DIR/tickets.csv, escalations.csv, requests.csv and events.csv.",
)
@common
def export(sqlite_file: str | None, csv_dir: str | None) -> int:
    """Export tickets, escalations, requests and the activity log as SQLite or CSV."""
    from esc.commands import reports

    if not sqlite_file and not csv_dir:
        raise click.UsageError("give --sqlite FILE, --csv DIR, or both")
    return emit(reports.export(session(), sqlite_file, csv_dir))


# ---------------------------------------------------------------- git


@cli.command("merge-file", short_help="The git merge driver for ticket files.")
@click.argument("base", type=click.Path(exists=True, dir_okay=False))
@click.argument("ours", type=click.Path(exists=True, dir_okay=False))
@click.argument("theirs", type=click.Path(exists=True, dir_okay=False))
@click.argument("path", required=False)
@common
def merge_file(base: str, ours: str, theirs: str, path: str | None) -> int:
    """Merge three versions of a ticket file field by field into OURS (git's merge driver).

    Git runs it as `/abs/python -P -m esc merge-file %O %A %B %P` (PATH, the ticket's path
    in the work tree, only names it in messages).  Exit 0 when the merge is clean, 1 when
    a conflict is left between <<<<<<< ours / >>>>>>> theirs markers for a human.
    """
    from esc.commands.merge import merge_file as merge_three

    return emit(merge_three(base, ours, theirs, path))


@cli.command("install-git", short_help="Registers the merge driver in the git repository.")
@common
def install_git() -> int:
    """Register esc's merge driver for tickets/*.md in this workspace's git repository.

    Adds `tickets/*.md merge=esc` to .gitattributes (commit it) and defines merge.esc in
    the repository's own git config (every clone runs this once: git does not copy config).
    """
    from esc.commands import setup

    return emit(setup.install_git(session()))


@cli.command(short_help="Finds what in a clone's setup would make cron or CI fail.")
@click.option(
    "--remote", default="origin", show_default=True, help="The remote `esc sweep --push` uses."
)
@click.option(
    "--cron-path",
    default=CRON_PATH,
    show_default=True,
    metavar="PATH",
    help="The PATH cron runs esc with (cron's own, unless your crontab sets PATH=).",
)
@click.option(
    "--maildir",
    metavar="DIR",
    callback=given_path,
    help="The Maildir cron takes new mail from: the crontab line runs esc intake first.",
)
@json_option
@common
def doctor(remote: str, cron_path: str, maildir: str | None, as_json: bool) -> int:
    """List what in this clone's setup would make esc fail in cron, CI or a merge, each with
    its fix: merge driver, git identity, remote, locks, caches, Python, cron's PATH.

    Exit 1 if there is any problem, 0 if none.  Changes nothing.
    """
    from esc.commands.doctor import doctor as diagnose

    folder = Path(maildir).absolute() if maildir else None
    return emit(diagnose(session(), remote, cron_path, as_json, folder))


# ---------------------------------------------------------------- entry point


# How an argument holds bytes that are not UTF-8: Python decodes them as lone surrogates.
_SURROGATE = re.compile("[\udc80-\udcff]")
_TEXT_SETTINGS = ("ESC_USER", "ESC_NOW", "ESC_ROOT")  # environment variables esc reads as text


def main(argv: list[str] | None = None) -> int:
    """Run esc; map expected errors to exit 1, usage errors to 2 (one line for a value
    outside its choices, click's or the configuration's) and bugs to 3."""
    args = sys.argv[1:] if argv is None else argv
    code = _run(args)
    if code in _NOT_THE_MESSAGE_S and stops.mta_pipe(args):  # (a setup mistake in the
        # MTA's pipe, `--lock-timeout abc`, `ESC_LOCK_TIMEOUT=bad`: a bounce of every
        # customer's mail until it is mended; deferred, the MTA delivers them again later.
        # intake --eml - itself ends 0 or 75: see _not_taken_now)
        return EXIT_TEMPFAIL
    return code


# What an MTA's pipe ends with 75 (deferred, delivered again later) rather than bounce the
# mail: a mistake in the pipe's options or environment, and a stop before intake's own
# handling (_not_taken_now) began; a message taken just as it stopped is found already
# taken when delivered again.
_NOT_THE_MESSAGE_S = (EXIT_USAGE, EXIT_ERROR, EXIT_TERMINATED)  # (Ctrl-C: a person's, 130)


def _run(args: list[str]) -> int:
    """:func:`main` for ``args``."""
    given = [(f"argument '{a}'", a) for a in args]
    given += [(f"{n}='{os.environ[n]}'", os.environ[n]) for n in _TEXT_SETTINGS if n in os.environ]
    undecodable = next((what for what, text in given if _SURROGATE.search(text)), None)
    if undecodable is not None:
        shown = undecodable.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        shown = shown.replace("\n", "\\n")  # (one line, its line breaks too)
        say(f"esc: {shown} is not valid UTF-8 text; nothing was done")  # (controls escaped)
        return EXIT_USAGE
    nul = next((what for what, text in given if "\0" in text), None)
    if nul is not None:  # (only a caller in this process can pass one: no argv holds it)
        say(f"esc: {nul} holds a NUL byte; nothing was done")  # (say shows it as \x00)
        return EXIT_USAGE
    gone = _current_folder_gone(args)
    if gone is not None:
        say(gone)
        return EXIT_ERROR
    umask = os.umask(0o022)  # (a shared workspace widens it: see share_with_group)
    os.umask(umask)
    try:
        with _terminated_as_interrupted():
            return _main(args)
    finally:
        os.umask(umask)  # (for a caller in this process: the tests)


@contextlib.contextmanager
def _terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` while esc runs (in the main thread, where
    Python runs signal handlers; not if whoever started esc had it ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGTERM)
    hook = sys.unraisablehook

    def quiet_when_interrupted(unraisable: sys.UnraisableHookArgs) -> None:
        """No traceback for a Ctrl-C or SIGTERM that landed in a finaliser or a weak
        reference's callback (Python prints it as "Exception ignored in"): an interruption
        is said once, as ``esc: interrupted`` or ``esc: terminated``."""
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            hook(unraisable)

    thread_hook = threading.excepthook
    stopping: list[BaseException] = []

    def quiet_when_stopping(args: threading.ExceptHookArgs) -> None:
        """No traceback from a helper thread a stop cut short (the worker pool's manager
        finding its futures cancelled: `InvalidStateError: CANCELLED`): said once too."""
        if not stopping:
            thread_hook(args)

    def terminate(signum: int, frame: FrameType | None) -> None:
        stopping.append(Terminated())  # (known at once: the pool's threads may fail while
        stops.terminate(signum, frame)  # the stop unwinds, before it leaves this block)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        stopping.append(KeyboardInterrupt())
        signal.default_int_handler(signum, frame)

    sys.unraisablehook = quiet_when_interrupted
    threading.excepthook = quiet_when_stopping
    ours = before in (signal.SIG_DFL, stops.terminate)  # (esc.cli.entry's, as esc starts)
    if ours:
        signal.signal(signal.SIGTERM, terminate)
    before_int = signal.getsignal(signal.SIGINT)
    if before_int is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    except KeyboardInterrupt as exc:
        stopping.append(exc)
        raise
    finally:  # (for a caller in this process: the tests)
        sys.unraisablehook = hook
        if not stopping:  # (helper threads may still be ending as the process exits)
            threading.excepthook = thread_hook
        if ours:
            signal.signal(signal.SIGTERM, before)
        if before_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, before_int)


def _current_folder_gone(args: list[str]) -> str | None:
    """Why esc cannot run here, if the current folder was removed (from under a shell that
    is still in it): with a workspace given by its absolute path (--root, ESC_ROOT) esc runs
    from there; else one line, not an internal error."""
    try:
        os.getcwd()
        return None
    except FileNotFoundError:
        pass
    given = [a.split("=", 1)[1] for a in args if a.startswith("--root=")]
    given += [args[n + 1] for n, a in enumerate(args[:-1]) if a == "--root"]
    given += [os.environ["ESC_ROOT"]] if os.environ.get("ESC_ROOT") else []
    for root in given:
        if os.path.isabs(root) and os.path.isdir(root):
            os.chdir(root)  # (relative paths, as --out's, are then the workspace's)
            return None
    return (
        "esc: the current folder no longer exists (it was removed); cd to one that does, "
        "or give the workspace by its absolute path (--root)"
    )


def _main(args: list[str]) -> int:
    """:func:`main`, once its arguments are known to be text."""
    try:
        result = cli.main(args=args, prog_name="esc", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.BadParameter as exc:
        if isinstance(exc, click.MissingParameter):  # (the usage says what to give)
            _show(exc)
            return EXIT_USAGE
        message = exc.format_message()  # a value outside its choices: one line, as esc's own
        message = message.replace("is not a valid integer range.", "is not a whole number")
        from_env = _from_environment(exc.param, args)
        if from_env is not None:  # (`ESC_JOBS=-1`: named, not an option never given)
            message = f"{from_env}={os.environ[from_env]!r}: {message.partition(': ')[2]}"
        else:
            message = message[:1].lower() + message[1:]
        say(f"esc: {message}")
        return EXIT_USAGE
    except click.exceptions.NoArgsIsHelpError as exc:  # (`esc` or `esc kb` alone)
        from esc.commands.session import Output

        shown = exc.ctx.get_help() if exc.ctx is not None else exc.format_message()
        try:  # (its help, as --help prints it: asked for, in effect; through the one
            # output guard: on /dev/full, or to a reader gone, it was a traceback, exit 1,
            # audit helper-430)
            return emit(Output(text=shown + "\n", exact=True))
        except EscError as written:
            say(f"esc: {written}")
            return written.exit_code
    except click.UsageError as exc:
        _show(exc)
        return EXIT_USAGE
    except click.ClickException as exc:
        _show(exc)
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt) as exc:  # (click makes either an Abort)
        if isinstance(exc, Terminated) or isinstance(exc.__cause__, Terminated):
            if stops.mta_pipe(args):  # (before intake's own handling: not taken either)
                say("esc: terminated; not taken now")
                return EXIT_TEMPFAIL
            say("esc: terminated")
            return EXIT_TERMINATED
        say("esc: interrupted")
        return EXIT_INTERRUPTED
    except ParseError as exc:
        say(str(exc))
        return exc.exit_code
    except EscError as exc:
        say(f"esc: {exc}")
        return exc.exit_code
    except BrokenPipeError:  # (stdout's reader gone is emit's; this is stderr's, or a pipe
        sys.stderr.close()  # to a program esc ran: whatever went on, it did not finish)
        return EXIT_ERROR
    except OSError as exc:
        if exc.errno not in _SYSTEM_TROUBLE:
            return _bug(exc)
        say(f"esc: {_system_trouble(exc)}")
        return EXIT_ERROR
    except Exception as exc:  # a bug: say so, distinctly
        return _bug(exc)
    return result if isinstance(result, int) else 0


# What the machine, not esc, is to blame for: a full or read-only disk, a quota, a file
# esc may not read or write, a disk error, too many open files, a path of the wrong
# shape.  Each is one line, exit 1; what esc was writing is left whole (its temporary
# file removed: esc.store.atomic).
_SYSTEM_TROUBLE = {
    errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM,
    errno.EIO, errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ETXTBSY, errno.ENAMETOOLONG,
    # and a path of the wrong shape: a symlink loop, a file where a folder must be (say
    # `.esc-cache` or `.esc-cache/locks`), or a folder where a file must be
    errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.EEXIST,
}  # fmt: skip
_WRITING = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}  # (only a write says so)


def _system_trouble(exc: OSError) -> str:
    """``cannot write tickets/T-1.md: No space left on device``, or ``PATH: Permission
    denied`` (the path relative to here if it is below)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:  # (a write with no file named: stdout, as click's help writes it)
        return f"cannot write the output: {reason}" if exc.errno in _WRITING else reason
    path = os.fsdecode(exc.filename)
    with contextlib.suppress(ValueError):
        path = str(Path(path).relative_to(Path.cwd())) if Path(path).is_absolute() else path
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):  # (a file where a folder must be)
        where = _file_in_the_way(Path(os.fsdecode(exc.filename)), exc.errno == errno.EEXIST)
        if where is not None:
            shown = where if not where.is_absolute() else where.name
            return f"{path}: {reason}: {shown} is a file where esc keeps a folder; move it away"
    return f"cannot write {path}: {reason}" if exc.errno in _WRITING else f"{path}: {reason}"


_ESC_FOLDERS = frozenset({".esc-cache", "locks", "outbox", "sent", "tickets", "reports", "kb"})


def _file_in_the_way(path: Path, itself: bool) -> Path | None:
    """The file (not a folder) that stands where a folder must be (`.esc-cache` made a file
    by hand): ``path`` itself (``itself``: a folder could not be made there), or a folder
    above it; as relative to here as it can be."""
    for candidate in (path, *path.parents) if itself else path.parents:
        if candidate.name not in _ESC_FOLDERS:
            continue
        try:
            if candidate.exists() and not candidate.is_dir():
                with contextlib.suppress(ValueError):
                    return candidate.resolve().relative_to(Path.cwd().resolve())
                return candidate
        except OSError:
            return None
    return None


def _bug(exc: Exception) -> int:
    """Say that esc has a bug (with the traceback under ESC_DEBUG=1)."""
    if debugging():
        import traceback  # (only for a bug: not imported by every run)

        traceback.print_exc()
    say(
        f"esc: internal error ({type(exc).__name__}: {exc}); this is a bug in esc, "
        "please report it (set ESC_DEBUG=1 for the traceback)"
    )
    return EXIT_BUG


def _from_environment(param: click.Parameter | None, args: list[str]) -> str | None:
    """The environment variable an option's bad value came from (``ESC_JOBS``), when none
    of its names is on the command line; else None."""
    envvar = getattr(param, "envvar", None)
    if param is None or not isinstance(envvar, str) or not os.environ.get(envvar):
        return None
    names = param.opts
    given = any(a in names or a.split("=", 1)[0] in names for a in args if a.startswith("-"))
    return None if given else envvar


def _show(exc: click.ClickException) -> None:
    """click's message for ``exc`` as one line (for a usage error, with where the usage is:
    ``esc: missing option '--title' (see `esc create --help`)``), which may quote an
    argument, with its control characters escaped as everything esc prints for a person."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    given = getattr(exc, "option_name", None)
    if isinstance(exc, click.NoSuchOption) and given == "--root" and ctx is not None:
        command = ctx.command_path.removeprefix("esc ")  # (esc's own, before any command)
        message = f"--root goes before the command: esc --root PATH {command} …"
    line = f"esc: {message[:1].lower()}{message[1:]}"
    if isinstance(exc, click.UsageError) and ctx is not None:
        line += f" (see `{ctx.command_path} --help`)"
    say(line)


def run() -> None:  # pragma: no cover - console script
    # One command is a short run: reference counting frees what it is done with, and the
    # cyclic collector's passes over the loaded cache cost a tenth of a warm `esc list`.
    gc.disable()
    if standard_output_closed():
        say("esc: standard output is closed; nothing was done (send it to /dev/null instead)")
        exit_now(EXIT_ERROR)
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
