"""Reports rendered from tickets and their SLAs with jinja2 templates: data in, text out (it
reads the templates, a workspace's own too, and keeps jinja's compiled ones in the user cache).

A workspace ``templates/`` folder may override a shipped template of the same name.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, overload

from esc.domain.config import Config
from esc.domain.durations import format_duration
from esc.domain.errors import EscError, ParseError, utf8_text
from esc.domain.model import ACTIVE_STATUSES, Ticket
from esc.domain.sla import Sla
from esc.domain.stats import UNKNOWN_LEVEL, UNKNOWN_TEAM, Rate, ReportJson, standing
from esc.domain.timestamps import END_OF_TIME, format_timestamp
from esc.report.choices import ReportFormat
from esc.report.spreadsheet import csv_text
from esc.report.terminal import printable
from esc.store.diagnostics import fallback

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")  # (an & that starts an entity reference)
# (the start of what GitHub makes a link of by itself, `www.` and `scheme://`: a customer's
# `Pay at www.evil.example/pay` was a live link in a pull-request comment; audit helper-392)
_MD_AUTOLINK = re.compile(r"(?i)(www)\.|:(?=//)")  # (whatever is before it: GitHub links
# `_www.x` and `3https://x` too; review helper-405)


def md_escape(text: object) -> str:
    """Text that shows literally inside a GitHub-flavoured Markdown table cell (an `&`
    that would start an entity, as in `&amp;` or `&#169;`, written as `&amp;`), its
    control characters shown as escapes (`\\x1b`), as a terminal is shown them: the file
    is `cat` too.  A mention (`@octocat`, `@org/team`, not an address's `@`) gets a word
    joiner after its `@`: shown the same, it pings no one in a pull request's comment or
    a wiki (audit helper-463)."""
    one = _shown_on_one_line(text)
    escaped = _MD_ENTITY.sub("&amp;", _MD_SPECIAL.sub(r"\\\1", one))
    if "www" in escaped.lower() or "://" in escaped:
        escaped = _MD_AUTOLINK.sub(_unlinked, escaped)
    if "@" in escaped:  # (a mention a customer wrote pings no one where the report is shown)
        escaped = _MD_MENTION.sub("@\u2060", escaped)
    return escaped


# The `@` of a mention: not right after a letter or digit (an address: jane@shop.example),
# and before a name's (after any other mark, `-@octocat`, `.@octocat`, it is one).
_MD_MENTION = re.compile(r"(?<![0-9A-Za-z_])@(?=[0-9A-Za-z])")


def _unlinked(found: re.Match[str]) -> str:
    """``www\\.`` or ``scheme\\:``: shown as written, and no link (GitHub's autolinks)."""
    return f"{found[1]}\\." if found[1] else "\\:"


def _shown_on_one_line(text: object) -> str:
    """``text`` on one line, its control characters shown as escapes (most values:
    nothing to escape, and no pass made)."""
    one = " ".join(str(text).split())
    return one if one.isascii() and one.isprintable() else printable(one, one_line=True)


def md_code(text: object) -> str:
    """``text`` on one line as a Markdown code span, shown as it is (a backslash escape is
    no escape inside one): fenced by more backticks than it holds in a row, and spaced
    from a backtick at either end."""
    one = _shown_on_one_line(text)
    longest = max((len(run) for run in _BACKTICKS.findall(one)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if one.startswith("`") or one.endswith("`") else ""
    return f"{fence}{pad}{one}{pad}{fence}"


_BACKTICKS = re.compile("`+")


def link_target(path: str) -> str:
    """A path as a Markdown link's target: percent-encoded, so that a space or a
    parenthesis in it (`help desk/tickets/T-….md`) leaves the link a link."""
    from urllib.parse import quote

    return quote(path, safe="/:@!$&'*+,;=-._~")


def last_day(until: str) -> str:
    """The last day of a period that ends before ``until`` (its end, not in it), as a title
    names it: ``2026-11-10T00:00:00+01:00`` ends the 9th; an end within a day ends that day."""
    end = dt.datetime.fromisoformat(until)
    if end.time() == dt.time():
        return (end.date() - dt.timedelta(days=1)).isoformat()
    return end.date().isoformat()


def seconds_text(seconds: object) -> str:
    """A duration in seconds as a report's cell shows it: "2d 3h", "3h 0m", "45m"; an en
    dash when there is none."""
    if seconds is None:
        return "–"
    return format_duration(dt.timedelta(seconds=float(str(seconds))), places=2, separator=" ")


def percent_text(rate: object) -> str:
    """A rate (0 to 1) as a report's cell shows it: "75%"; one that is not all, or not
    none, never shows as 100% or 0% (399 of 400 met: "99.7%", not "100%" beside a breach);
    an en dash when there is none.  A :class:`~esc.domain.stats.Rate` is shown from its
    counts (rounded once: 51 of 101 is 50%); any other number (a template's own) as it is."""
    if rate is None:
        return "–"
    # (half up, as people round: 5 of 8 is 63%; exactly, where 0.145 is 14.5, not 14.49…)
    if isinstance(rate, Rate):
        part, of = rate.part, rate.whole
    else:
        import decimal  # (only where it is used)

        part, of = decimal.Decimal(str(rate)).as_integer_ratio()
    whole = (200 * part + of) // (2 * of)
    if whole == 100 and part < of:
        return f"{min(1000 * part // of / 10, 99.9):.1f}%"
    if whole == 0 and part > 0:
        return f"{max(-(-1000 * part // of) / 10, 0.1):.1f}%"
    return f"{whole}%"


def working_text(seconds: object) -> str:
    """Working time (on a calendar's hours) as a report's cell shows it: in hours and
    minutes, "240h 0m", "3h 20m", "45m" (a day of it is no 24 hours: 240 working hours
    read "10d 0h"), rounded down as every duration esc shows; an en dash when none."""
    if seconds is None:
        return "–"
    td = dt.timedelta(seconds=float(str(seconds)))
    return format_duration(td, largest="h", places=2, separator=" ")


_ENVIRONMENTS: dict[tuple[Path | None, Path | None], Any] = {}


def _environment(overrides: Path | None, compiled: Path | None = None) -> Any:
    """Jinja with esc's templates (``overrides`` first); ``compiled`` keeps compiled
    templates between runs (jinja checks each against its source).

    Made once per process: templates it loaded are checked against their files and
    reused.
    """
    key = (overrides if overrides is not None and overrides.is_dir() else None, compiled)
    if key[0] is not None:
        try:
            os.listdir(key[0])
        except OSError as exc:  # (jinja finds no template there, and takes esc's own:
            # an unreadable templates/ rendered the reports as if it were empty)
            raise EscError(f"{key[0].name}: cannot be read ({exc.strerror or exc})") from None
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = _ENVIRONMENTS[key] = _new_environment(*key)
    return env


def load_templates(names: Sequence[str], overrides: Path | None, compiled: Path | None) -> None:
    """Load templates ahead of rendering (jinja and all it imports with them)."""
    env = _environment(overrides, compiled)
    for name in names:
        env.get_template(name)


def _new_environment(overrides: Path | None, compiled: Path | None) -> Any:
    import jinja2

    shipped = jinja2.PackageLoader("esc.report", "templates")
    # (esc's own as `esc/NAME` too, so that a workspace's template may include or extend
    # the one it overrides: by its own name it is itself, and recursed until Python stopped)
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({"esc": shipped})]
    if overrides is not None:
        loaders.append(_own_files_loader(overrides))
    loaders.append(shipped)
    # A workspace's templates come with its commits, which anyone who may edit a ticket
    # may make: rendered in jinja's sandbox, which refuses the attributes that lead out of
    # it (`cycler.__init__.__globals__.os.popen(…)` ran a shell on the sweep's host, with
    # its notification secrets).  esc's own alone need none (and are rendered faster).
    kind = jinja2.Environment
    if overrides is not None:  # (and one that changes no data it is handed: a Markdown
        # override's `r.trend.reverse()` reversed the trend in the sweep's report.json and
        # dashboard, rendered after it from the same numbers; audit helper-435)
        import jinja2.sandbox

        kind = jinja2.sandbox.ImmutableSandboxedEnvironment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(compiled, sandboxed=overrides is not None),
    )
    env.filters["md"] = md_escape
    env.filters["link"] = link_target
    env.filters["duration"] = seconds_text
    env.filters["percent"] = percent_text
    env.filters["hours"] = working_text
    env.filters["last_day"] = last_day
    env.globals["links"] = "../"
    return env


def _own_files_loader(folder: Path) -> Any:
    """jinja's loader of the workspace's ``templates/``, which takes no template reached
    through a symbolic link (the folder, a folder in it, or the file): git commits links,
    and a `summary.md.j2` linked to /proc/self/environ, or an `{% include %}` through a
    link to /etc, put the sweep's secrets and the host's files in the reports, whatever
    the sandbox (audit helper-422).  EscError, naming the link."""
    import jinja2

    class OwnFiles(jinja2.FileSystemLoader):
        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            found = super().get_source(environment, template)
            pieces = jinja2.loaders.split_template_path(template)
            for depth in range(len(pieces) + 1):
                path = os.path.join(str(folder), *pieces[:depth])
                if os.path.islink(path):
                    shown = "/".join([folder.name, *pieces[:depth]])
                    raise EscError(
                        f"{shown}: a symbolic link; esc renders only templates that are"
                        " files of the workspace's templates/ folder"
                    )
            return found

    return OwnFiles(str(folder))


def _bytecode_cache(folder: Path | None, sandboxed: bool) -> Any:
    """jinja's compiled templates in ``folder``, those of the sandbox apart from the others:
    jinja keys them by name and source alone, and the sandbox compiles calls otherwise
    (`environment.call`), so one report in a workspace with `templates/` made every later
    one without (a cron sweep too) exit 3, "'Environment' object has no attribute 'call'",
    for every workspace of the user, and esc's own templates compiled outside the sandbox
    were run unsandboxed in one with overrides (audit helper-451)."""
    import jinja2

    class QuietCache(jinja2.FileSystemBytecodeCache):
        """A cache that cannot be written is simply not used, and a compiled template that
        cannot be read (a file cut short: jinja's unpickling of its checksum raised) is
        compiled again."""

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception as exc:  # anything a damaged file raises: compiled again
                fallback(f"compiled template not used ({type(exc).__name__}: {exc})")
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError as exc:
                fallback(f"compiled template not kept ({exc}); compiled again next time")

    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # (a read-only cache: compiled every time)
        fallback(f"templates compiled every time: {folder} cannot be made ({exc})")
        return None
    kind = "sandboxed" if sandboxed else "plain"
    return QuietCache(str(folder), pattern=f"__jinja2_{kind}_%s.cache")


def summary_data(
    items: Iterable[tuple[Ticket, Sla]], config: Config, as_of: dt.datetime
) -> dict[str, object]:
    """What summary.md shows, counted as report.json counts it (:mod:`esc.domain.stats`):
    active tickets by status and team, how many of them are overdue or in warning
    (:func:`stats.standing`), and the breached clocks and clocks in warning, as of
    ``as_of``.  ``overdue`` and ``warning`` list clocks; every ``*_tickets`` counts tickets."""
    tally = SummaryTally(config, as_of)
    for ticket, sla in items:
        tally.add(ticket, sla)
    return tally.data()


# A clock row as kept: (its due, ticket ID, rank, clock index; title, team, priority, metric,
# due or None), made into the dict summary.md shows only as it is rendered (kept as dicts,
# the rows of 100,000 overdue tickets were ~65 MB)
_ClockRow = tuple[dt.datetime, str, int | str, int, str, str, str, str, "dt.datetime | None"]


class ClockRows(Sequence[dict[str, object]]):
    """The clock rows summary.md lists, in order, each made into its dict when read."""

    def __init__(self, rows: list[_ClockRow], zone: dt.tzinfo | None) -> None:
        self._rows, self._zone = rows, zone

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> dict[str, object]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, object]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, object] | list[dict[str, object]]:
        if isinstance(index, slice):
            return [self._dict(row) for row in self._rows[index]]
        return self._dict(self._rows[index])

    def __iter__(self) -> Iterator[dict[str, object]]:
        return map(self._dict, self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def _dict(self, row: _ClockRow) -> dict[str, object]:
        _, ticket_id, _, _, title, team, priority, metric, due = row
        return {
            "id": ticket_id,
            "title": title,
            "team": team,
            "priority": priority,
            "metric": metric,
            "due": format_timestamp(due.astimezone(self._zone)) if due else "-",
        }


class SummaryTally:
    """:func:`summary_data` counted one (ticket, SLA) at a time, keeping only the active
    tickets' ids, counts and clock rows (as tuples); ``rank`` is a ticket's place in the
    order."""

    def __init__(self, config: Config, as_of: dt.datetime) -> None:
        self.config, self.as_of = config, as_of
        self.active: list[tuple[int | str, str]] = []
        self.counts: dict[str | None, Counter[str]] = {}  # team (None: unknown) -> counts
        self.overdue: list[_ClockRow] = []
        self.warning: list[_ClockRow] = []
        self._shared: dict[str, str] = {}

    def add(self, ticket: Ticket, sla: Sla, rank: int | str | None = None) -> None:
        if not ticket.active:
            return
        order: int | str = len(self.active) if rank is None else rank
        self.active.append((order, ticket.id))
        team = ticket.team if ticket.team in self.config.teams else None
        counts = self.counts.setdefault(team, Counter())
        counts[ticket.status] += 1
        counts["active"] += 1
        counts[standing(sla)] += 1
        shared = self._shared  # (one string for each team and priority)
        team_name = shared.setdefault(ticket.team, ticket.team)
        priority = shared.setdefault(ticket.priority, ticket.priority)
        for rows, clocks in (
            (self.overdue, sla.overdue_clocks),
            (self.warning, sla.warning_clocks),
        ):
            rows += [
                (
                    clock.due or END_OF_TIME,
                    ticket.id,
                    order,
                    n,
                    ticket.title,
                    team_name,
                    priority,
                    clock.metric,
                    clock.due,
                )
                for n, clock in enumerate(clocks)
            ]

    def _row(self, counts: Counter[str]) -> dict[str, int]:
        return {
            **{status: counts[status] for status in ACTIVE_STATUSES},
            "active": counts["active"],
            "overdue": counts["overdue"],
            "warning": counts["warning"],
        }

    def data(self) -> dict[str, object]:
        config = self.config
        teams: list[dict[str, object]] = [
            {
                "name": team.key,
                "level": team.level,
                **self._row(self.counts.get(team.key, Counter())),
            }
            for team in sorted(config.teams.values(), key=lambda tm: (tm.level, tm.key))
        ]
        if None in self.counts:  # (a team teams.yaml no longer has: counted, so the table adds up)
            unknown = self._row(self.counts[None])
            teams.append({"name": UNKNOWN_TEAM, "level": UNKNOWN_LEVEL, **unknown})
        total = self._row(sum(self.counts.values(), Counter[str]()))
        return {
            "as_of": format_timestamp(self.as_of),
            "active": [ticket_id for _, ticket_id in sorted(self.active, key=lambda a: a[0])],
            "counts": {status: total[status] for status in ACTIVE_STATUSES},
            "overdue_tickets": total["overdue"],
            "warning_tickets": total["warning"],
            "overdue": ClockRows(sorted(self.overdue, key=_first_four), self.as_of.tzinfo),
            "warning": ClockRows(sorted(self.warning, key=_first_four), self.as_of.tzinfo),
            "teams": teams,
            "total": total,
            "generated": None,
        }


def _first_four(row: _ClockRow) -> tuple[dt.datetime, str, int | str, int]:
    return row[0], row[1], row[2], row[3]


def render(
    name: str,
    data: dict[str, object],
    overrides: Path | None = None,
    compiled: Path | None = None,
) -> str:
    return _joined(render_pieces(name, data, overrides, compiled))


def render_pieces(
    name: str,
    data: dict[str, object],
    overrides: Path | None = None,
    compiled: Path | None = None,
) -> Iterator[str]:
    """:func:`render`'s text in the pieces the template yields, as it yields them (for a
    writer that never holds the whole text: a sweep's reports at 100,000 open tickets are
    ~20-70 MB each); errors are raised as :func:`render` raises them, while iterating."""
    import jinja2

    env = _environment(overrides, compiled)
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        shown = _workspace_template(exc.filename, overrides)
        if shown is None:
            raise  # a shipped template: a bug in esc
        raise ParseError(shown, exc.lineno, f"template does not parse: {exc.message}") from None
    except UnicodeDecodeError:
        raise _undecodable_template(overrides) from None
    except OSError as exc:
        raise _unreadable_template(exc, overrides) from None
    try:
        yield from template.generate(**data)
    except jinja2.TemplateError as exc:
        shown = _workspace_template(template.filename, overrides)
        if shown is None:
            raise
        raise EscError(f"{shown}: template failed: {exc}") from None
    except UnicodeDecodeError:  # (a template it includes or extends, loaded as it renders)
        raise _undecodable_template(overrides) from None
    except OSError as exc:
        raise _unreadable_template(exc, overrides) from None
    except RecursionError:  # (a template that includes or extends itself, as one that
        # overrides esc's own does by its name: `{% extends 'summary.md.j2' %}`)
        shown = _workspace_template(template.filename, overrides)
        if shown is None:
            raise
        raise EscError(
            f"{shown}: template failed: it includes or extends itself, without end (esc's own"
            f" {name} is `esc/{name}`: `{{% extends 'esc/{name}' %}}`)"
        ) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        # (a workspace template's own expression: `{{ 1/0 }}`, `{{ n + "x" }}`; jinja keeps
        # the template's line in the traceback)
        shown = _workspace_template(template.filename, overrides)
        if shown is None:
            raise  # a shipped template: a bug in esc
        line = _template_line(exc, template.filename)
        where = shown if line is None else f"{shown}:{line}"
        raise EscError(f"{where}: template failed: {type(exc).__name__}: {exc}") from None


def _template_line(exc: BaseException, filename: str | None) -> int | None:
    """The line of template ``filename`` that raised ``exc`` (the last of its frames)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if filename is not None and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _unreadable_template(exc: OSError, overrides: Path | None) -> Exception:
    """A workspace template esc cannot read (a dangling symlink, a folder, no permission):
    one line naming it; any other OSError as it was."""
    filename = None if exc.filename is None else os.fsdecode(exc.filename)
    shown = _workspace_template(filename, overrides)
    if shown is None:
        return exc
    return EscError(f"{shown}: cannot read the template: {exc.strerror or exc}")


def _undecodable_template(overrides: Path | None) -> ParseError:
    """The error of the first of the workspace's templates that is not UTF-8 (jinja's
    loader says only that one was not); a UnicodeDecodeError if none is (a bug)."""
    folder = overrides if overrides is not None and overrides.is_dir() else None
    for path in sorted(folder.rglob("*")) if folder is not None else ():
        if path.is_file():
            try:
                utf8_text(path.read_bytes(), str(_workspace_template(str(path), overrides)))
            except ParseError as exc:
                return exc
    raise UnicodeDecodeError("utf-8", b"", 0, 0, "a shipped template is not UTF-8 text")


def _joined(pieces: Iterator[str], size: int = 4096) -> str:
    """The pieces a template yields, as one text, joined ``size`` at a time: the HTML report
    of 100,000 open tickets is ~500,000 pieces, which as one list (as ``render`` joins
    them) take four times the text's own memory."""
    chunks = []
    while batch := list(itertools.islice(pieces, size)):
        chunks.append("".join(batch))
    return "".join(chunks)


def _workspace_template(filename: str | None, overrides: Path | None) -> str | None:
    """``templates/NAME`` for a template of the workspace; None for a shipped one."""
    if filename is None or overrides is None:
        return None
    path = Path(filename)
    if not path.is_relative_to(overrides):
        return None
    return f"{overrides.name}/{path.relative_to(overrides).as_posix()}"


TEMPLATE_OF = {"markdown": "report.md.j2", "html": "report.html.j2"}


def render_report(
    report: ReportJson,
    fmt: ReportFormat,
    overrides: Path | None = None,
    links: str = "",
    compiled: Path | None = None,
) -> str:
    """The report in one format; every format shows the same numbers.

    ``links`` prefixes links to ticket files (``../`` from a report folder).
    """
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return report_csv(dict(report))
    return render(TEMPLATE_OF[fmt], {"r": report, "links": links}, overrides, compiled)


def report_pieces(
    report: ReportJson,
    fmt: Literal["markdown", "html", "json"],
    overrides: Path | None = None,
    links: str = "",
    compiled: Path | None = None,
) -> Iterator[str]:
    """:func:`render_report`'s text in pieces, never whole (see :func:`render_pieces`)."""
    if fmt == "json":  # (json.dumps joins the very pieces iterencode yields)
        yield from json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(report)
        yield "\n"
        return
    yield from render_pieces(TEMPLATE_OF[fmt], {"r": report, "links": links}, overrides, compiled)


def flatten(report: dict[str, Any]) -> list[tuple[str, object]]:
    """Every value of the report as (dotted key, value) rows, lists indexed by position; an
    empty list or object is one row with no value (`broken,`: there, and empty)."""
    rows: list[tuple[str, object]] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, (dict, list)) and not value and prefix:
            rows.append((prefix, ""))
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            for n, inner in enumerate(value):
                walk(f"{prefix}[{n}]", inner)
        else:
            rows.append((prefix, value))

    walk("", report)
    return rows


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: one row per value, ``key,value``, keys as in the JSON; text a
    spreadsheet would take for a formula starts with ``'`` (:mod:`esc.report.spreadsheet`),
    numbers are written as they are."""
    return csv_text(["key", "value"], flatten(report), lineterminator="\n")
