"""Options several commands share, and the session they fill in."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from esc.cli.output import tell_waiting
from esc.domain.durations import wait_seconds
from esc.domain.errors import BadInput

if TYPE_CHECKING:
    from esc.commands.session import Session

F = TypeVar("F", bound=Callable[..., Any])


def session() -> Session:
    """This run's session, completed with what the terminal says."""
    from esc.commands.session import Session

    ctx = click.get_current_context()
    found = ctx.ensure_object(Session)
    found.command = ctx.info_name or ""
    found.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    found.width = terminal_width()
    found.on_wait = tell_waiting if sys.stderr.isatty() else None
    if found.now_option:  # (a --now that is no time is refused by every command, also one
        found.now  # noqa: B018  that reads no clock: `esc export` took it silently)
    return found


def terminal_width(fallback: int = 120) -> int:
    """The terminal's width in columns, as ``shutil.get_terminal_size`` finds it (``COLUMNS``
    first, then standard output's terminal), without importing shutil on every run."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        stdout = sys.__stdout__
        try:
            columns = 0 if stdout is None else os.get_terminal_size(stdout.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else fallback


# An empty --now given on the command line is a mistake (a script's unset variable: `--now
# "$WHEN"`), not a wish for the clock: refused.  An empty ESC_NOW is as if unset, as click
# (and esc's other variables, ESC_DEBUG) read an empty environment variable.
EMPTY_NOW = "--now is empty: give a time such as 2026-11-20T10:00:00+01:00, or leave --now out"


def given_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A path option's value; an empty one is a usage error, as an empty --now is (a
    script's unset variable: `--out "$FILE"` wrote to stdout, `init ""` made a workspace
    in the current folder)."""
    if value is not None and not value.strip():
        if ctx.get_parameter_source(param.name or "") == click.core.ParameterSource.ENVIRONMENT:
            return None  # (an empty ESC_ROOT is as if unset, as an empty ESC_NOW is)
        name = param.opts[0] if param.opts and param.opts[0].startswith("-") else "DIR"
        raise BadInput(f"{name} is empty: give a path, or leave it out")
    return value


def refuse_empty_now(value: str | None) -> None:
    """BadInput if ``value``, a --now given on the command line, is empty."""
    if value == "":
        raise BadInput(EMPTY_NOW)


def _set_now(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    refuse_empty_now(value)
    if value:
        from esc.commands.session import Session

        found = ctx.ensure_object(Session)
        if found.now_option is not None and found.now_name == "--now":  # (one before the
            # command too: `esc --now A comment … --now B` kept B and dropped A silently)
            raise click.BadParameter("given twice; it takes one value", ctx=ctx, param=_param)
        found.now_option, found.now_name = value, "--now"


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


def _set_notify(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        from esc.commands.session import Session

        ctx.ensure_object(Session).notify = True


def notify_option(func: F) -> F:
    return click.option(
        "--notify/--no-notify",
        default=False,
        expose_value=False,
        callback=_set_notify,
        help="Send the notifications this change makes (rules.yaml's notify:), as a sweep "
        "does; without it (or with --no-notify) the next sweep sends them.",
    )(func)


def by_option(func: F) -> F:
    """Options of every command that changes a ticket: --by, and --notify."""
    func = notify_option(func)
    return click.option(
        "--by",
        "actor",
        metavar="NAME",
        help="Who does this (default: ESC_USER, git user.name, $USER).",
    )(func)


def once(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """Callback of an option that takes one value, declared ``multiple=True`` so that giving
    it twice is refused (click would keep the last one and drop the other silently: `esc
    involve --team sre --team engineering` asking engineering alone)."""
    if len(values) > 1:
        raise click.BadParameter(f"given {len(values)} times; it takes one value", param=param)
    return values[0] if values else None


def refuse_repeated(command: click.Command, ctx: click.Context, args: list[str]) -> None:
    """Refuse an option that takes one value given twice (exit 2): click keeps the last one
    and drops the other silently (`esc comment -m "Part one" -m "Part two"` wrote "Part
    two" alone; `escalate --to sre --to engineering` went to engineering).  Options that
    take several values (``multiple``), flags and counts may repeat; with --help given,
    the help is shown as ever."""
    try:
        _, _, order = command.make_parser(ctx).parse_args(args=list(args))
    except click.UsageError:
        return  # (click's own parse says what is wrong)
    if any(p.is_eager and isinstance(p, click.Option) and p.is_flag for p in order):
        return  # (--help, --version: shown as ever; a command's own --now, eager too, is
        # no reason to let a repeated option through: `--title a --title b --now …`)
    seen: set[str] = set()
    for param in order:
        if not isinstance(param, click.Option) or param.multiple:
            continue
        if param.is_flag or param.count:
            continue
        name = param.name or ""
        if name in seen:
            times = sum(p is param for p in order)
            raise click.BadParameter(
                f"given {times} times; it takes one value", ctx=ctx, param=param
            )
        seen.add(name)


def refuse_option_as_value(command: click.Command, ctx: click.Context, args: list[str]) -> None:
    """Refuse (exit 2) an option given, as the next word, the name of one of the command's
    own options as its value: `esc comment T -m --internal` wrote a public reply saying
    "--internal", `esc resolve T --resolution --kb` resolved the ticket with "--kb" as the
    customer's answer, `--by --json` recorded a person named so.  The value itself is
    still taken in one word (`--message=--internal`)."""
    takes_value: dict[str, click.Option] = {}
    names: set[str] = {"--"}  # (`-m --`: the end of the options, not a message)
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option):
            continue
        names.update(param.opts, param.secondary_opts)
        if not (param.is_flag or param.count):
            takes_value.update((opt, param) for opt in param.opts)
    words = iter(args)
    for word in words:
        if word == "--":
            return
        option = takes_value.get(word)
        if option is None:
            continue
        value = next(words, None)
        if value is not None and value in names:
            long = next((o for o in option.opts if o.startswith("--")), word)
            raise click.BadParameter(
                f"given {value!r}, an option of this command, as its value: give the value"
                f" after {word}, or, if {value!r} is the value meant, write {long}={value}",
                ctx=ctx,
                param=option,
            )


@contextlib.contextmanager
def usage_of(ctx: click.Context) -> Iterator[None]:
    """A usage error click raises without the command's context (`option '--title'
    requires an argument`) given it, so that it says where the usage is, as every other
    one does."""
    try:
        yield
    except click.UsageError as exc:
        if exc.ctx is None:
            exc.ctx = ctx
        raise


class OneValueCommand(click.Command):
    """A command whose options that take one value refuse to be given twice."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_repeated(self, ctx, args)
        refuse_option_as_value(self, ctx, args)
        with usage_of(ctx):
            return super().parse_args(ctx, args)


class OneValueGroup(click.Group):
    """A group of :class:`OneValueCommand` (and groups of its own kind), refusing its own
    options given twice as they do."""

    command_class = OneValueCommand
    group_class = type  # (its subgroups are of this class too)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_repeated(self, ctx, args)
        with usage_of(ctx):
            return super().parse_args(ctx, args)


class WholeNumber(click.IntRange):
    """click's ``IntRange``, in ASCII digits alone, as every number esc reads: Python's
    ``int`` takes `３` and `٣` (`close --csat ３` wrote `csat: 3` where `--level ３` was
    refused: audit helper-446)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            text = value.strip()
            digits = text[1:] if text[:1] in "+-" else text
            if not (digits.isascii() and digits.isdigit()):
                self.fail(f"{value!r} is not a whole number (ASCII digits)", param, ctx)
        return super().convert(value, param, ctx)


class Seconds(click.ParamType):  # type: ignore[type-arg]  # (generic from click 8.2)
    """A number of seconds to wait: 0 or more, and finite (``nan`` or ``inf`` would wait
    for ever, or not at all)."""

    name = "seconds"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        seconds = wait_seconds(str(value))
        if seconds is None:
            why = f"{value!r}: give a number of seconds, 0 to 86400 (a day)"
            source = ctx.get_parameter_source(param.name) if ctx and param and param.name else None
            envvar = getattr(param, "envvar", None)
            if source is ParameterSource.ENVIRONMENT and isinstance(envvar, str):
                raise BadInput(f"{envvar}={why}")  # (named as the setting it came from)
            self.fail(why, param, ctx)
        return seconds

