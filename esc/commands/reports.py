"""The commands for team leads and analysts: report and export."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from esc.commands.session import Output, Session
from esc.domain import query
from esc.domain.errors import BadInput, EscError, ParseError
from esc.domain.kb import ticket_kb_findings
from esc.domain.stats import Period, ReportJson
from esc.report.choices import ReportFormat, report_format_for
from esc.report.contents import (
    Counted,
    catalog_report,
    count_records,
    counted_report,
    links_to,
    period_of,
)
from esc.report.render import render_report
from esc.store import workers
from esc.store.atomic import REGULAR_ONLY
from esc.store.cache import CachedFile
from esc.store.catalog import Catalog
from esc.store.kb import load as load_kb
from esc.store.user_cache import compiled_templates_dir
from esc.store.workspace import TEMPLATES_DIR
from esc.ticketfile import problems


def report(
    session: Session,
    fmt: ReportFormat | None,
    out: str | None,
    since: str | None,
    until: str | None,
    team: str | None,
    jobs: int | None = None,
) -> Output:
    """One report for the period, to ``out`` or stdout, in ``fmt`` (None: as ``out``'s
    extension says); counted by two processes (one forked) on a large workspace unless
    ``jobs`` is 1 (see :func:`_numbers`)."""
    workspace, now = session.workspace, session.now
    if team is not None:  # (in any case, as `list --team` takes it)
        team = query.in_its_case(session.config, "team", team)
    if fmt is None:
        fmt = report_format_for(None if out == "-" else out)
    period = period_of(since, until, now, local=session.now_is_local)
    if out == "-":  # (stdout, as for most tools that write files)
        out = None
    _require_file_name(out)
    if out:
        workspace.refuse_own(Path(out))
    catalog = Catalog(workspace, streamed=True)  # (each ticket read once, none kept)
    data, broken = _numbers(catalog, now, period, team, jobs)
    catalog.save()
    links = _relative_links(workspace.root, out)
    text = render_report(
        data, fmt, workspace.root / TEMPLATES_DIR, links, compiled_templates_dir()
    )
    output = Output(
        notes=[str(error) for error in broken],
        code=1 if broken else 0,
        exact=fmt in ("json", "csv", "html"),  # (Markdown is for reading in a terminal too)
    )
    if out:
        workspace.write_output(Path(out), text)
    else:
        output.text = text
    return output


SPLIT_AT = 4_000  # tickets from which a report counts the later ones in a second process
# How many more tickets this process counts than the forked one: what the forked process
# spends getting going (the pages it touches copied from this one's, ~0.15 s), in tickets
# (~65 us each), so that both halves end together on a workspace of 10,000.
FORK_HEAD_START = 2_000


def _numbers(
    catalog: Catalog, now: dt.datetime, period: Period, team: str | None, jobs: int | None
) -> tuple[ReportJson, list[ParseError]]:
    """:func:`catalog_report`; on a large workspace and a machine with more than one CPU
    (unless ``jobs`` is 1), the later tickets (about half: FORK_HEAD_START fewer) counted
    in a forked process while this one counts the others (each ticket read and counted
    once, by one of them), then added after this one's, as one process counting them all
    in turn would: the same report.  If that process fails, this one counts them too."""
    names = catalog.names()
    processes = min(jobs or workers.cpus(), 2)  # (halves: more would gain little more)
    if len(names) < SPLIT_AT or processes < 2 or not workers.can_fork():
        return catalog_report(catalog, now, period, team)
    cut = min(len(names) - 1, (len(names) + FORK_HEAD_START) // 2)  # (the fork's first)
    counted = Counted.start(catalog, now, period, team)  # (a --team that is none: said here)

    def later_tickets() -> _Handed:
        theirs = Counted.start(catalog, now, period, team)
        return _handed(catalog, count_records(catalog, theirs, catalog.share(cut, len(names))))

    aside = workers.Aside(later_tickets)
    count_records(catalog, counted, catalog.share(0, cut))
    handed = aside.result()
    if handed is None:
        count_records(catalog, counted, catalog.share(cut, len(names)))
    else:
        _take(catalog, counted, handed)
    return counted_report(catalog, counted), counted.broken


# What a process that counted some tickets hands back: the tally's counts, the tickets
# settled before the period, the files that do not parse (path, line, message), the
# articles tickets name (file, article), and what
# it changed in the cache (entries made, rows forgotten or damaged, other values kept).
_Handed = tuple[
    dict[str, Any],
    int,
    list[tuple[str, int, str]],
    list[tuple[str, str]],
    dict[str, tuple[Any, ...]],
    list[str],
    list[object],
    dict[str, str],
    dict[str, tuple[bytes, str, bytes]],
    bool,
]


def _handed(catalog: Catalog, counted: Counted) -> _Handed:
    kept = catalog.cache
    return (
        counted.tally.counts(),
        counted.settled,
        [(e.path, e.line, e.message) for e in counted.broken],
        list(counted.kb_uses),
        {name: entry.row() for name, entry in kept.dirty.items()},
        sorted(kept.removed),
        list(kept.damaged),
        dict(kept.dirty_meta),
        dict(kept.dirty_texts),
        kept.tickets_changed,
    )


def _take(catalog: Catalog, counted: Counted, handed: _Handed) -> None:
    """Add what the other process counted, and made in its cache, to ``counted`` and to
    ``catalog``'s cache (saved with this process's own changes)."""
    counts, settled, broken, kb_uses, entries, removed, damaged, meta, texts, changed = handed
    counted.tally.merge(counts)
    counted.settled += settled
    counted.broken += [ParseError(*error) for error in broken]
    counted.kb_uses += kb_uses
    kept = catalog.cache
    for name, row in entries.items():  # (what the rows say changed if it said so)
        kept.restamp(name, CachedFile(*row))
    kept.tickets_changed = kept.tickets_changed or changed
    kept.forget(removed)
    kept.damaged += damaged
    for key, value in meta.items():
        kept.set_meta(key, value)
    for name, (digest, key, parts) in texts.items():
        kept.put_text(name, digest, key, parts)


def _relative_links(root: Path, out: str | None) -> str:
    """How a report at ``out`` (stdout: the current folder) links to the workspace's
    ticket files."""
    return links_to(root, Path(os.path.realpath(out)).parent if out else Path.cwd())


def _require_file_name(path: str | None) -> None:
    """A file to write must be named as one: ``reports/`` names a folder (as ``cp`` says,
    not a file to create), and a Path would drop its slash and write a file there."""
    if path and path.endswith(("/", os.sep)):
        raise EscError(f"cannot write {path}: a folder's name, not a file's; {REGULAR_ONLY}")


def export(session: Session, sqlite_file: str | None, csv_dir: str | None) -> Output:
    """Every ticket as SQLite tables and/or CSV files."""
    from esc.report import export as exporting  # (not for `esc report`)

    _require_file_name(sqlite_file)
    for option, given in (("--csv", csv_dir), ("--sqlite", sqlite_file)):
        if given == "-":  # (it made a folder, or a file, named `-`)
            raise BadInput(f"{option} takes a path; `-` (standard output) is not one here")
    for given in (sqlite_file, csv_dir):
        if given:
            session.workspace.refuse_own(Path(given))
    if csv_dir:  # (and each file it writes there: one may be a symlink to a ticket)
        for table in exporting.SCHEMA:
            session.workspace.refuse_own(Path(csv_dir) / f"{table}.csv")
    exporting.check_targets(
        Path(sqlite_file) if sqlite_file else None, Path(csv_dir) if csv_dir else None
    )
    docs, broken = exporting.exportable(session.workspace.scan())
    # (one that names a team, priority or category the configuration lacks: exported, as a
    # report counts it, and a finding, as everywhere)
    broken += [error for doc in docs for error in problems.misfits(doc, session.config)]
    uses = [(d.path, d.key_lines.get("kb", 1), d.ticket.kb) for d in docs if d.ticket.kb]
    if uses:  # (a `kb:` naming an article kb/ lacks: exported, and said as validate says it)
        held = load_kb(session.workspace.root, categories=None)
        broken += [ParseError(f.path, f.line, f.message)
                   for f in ticket_kb_findings(uses, held.ids(), held.broken_ids)]  # fmt: skip
    tables = exporting.build_tables(
        [d.ticket for d in docs], session.config, [d.path for d in docs]
    )
    targets = []
    if sqlite_file:
        exporting.write_sqlite(Path(sqlite_file), tables)
        targets.append(sqlite_file)
    if csv_dir:
        exporting.write_csv(Path(csv_dir), tables)
        targets.append(csv_dir)
    return Output(
        text=f"exported {tables.summary()} to {' and '.join(targets)}\n",
        notes=[str(error) for error in broken],
        code=1 if broken else 0,
    )
