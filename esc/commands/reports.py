"""The commands for team leads and analysts: report and export."""

from __future__ import annotations

import os
from pathlib import Path

from esc.commands.session import Output, Session
from esc.report.contents import catalog_report, period_of
from esc.report.render import ReportFormat, render_report
from esc.store.catalog import Catalog
from esc.store.user_cache import compiled_templates_dir
from esc.store.workspace import TEMPLATES_DIR


def report(
    session: Session,
    fmt: ReportFormat,
    out: str | None,
    since: str | None,
    until: str | None,
    team: str | None,
) -> Output:
    """One report for the period, to ``out`` or stdout."""
    workspace, now = session.workspace, session.now
    period = period_of(since, until, now)
    catalog = Catalog(workspace, streamed=True)  # (each ticket read once, none kept)
    data, broken = catalog_report(catalog, now, period, team)
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


def _relative_links(root: Path, out: str | None) -> str:
    """How a report at ``out`` links to the workspace's ticket files."""
    folder = Path(os.path.realpath(out)).parent if out else Path.cwd().resolve()
    try:
        rel = os.path.relpath(root, folder)
    except ValueError:
        return str(root) + "/"
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"


def export(session: Session, sqlite_file: str | None, csv_dir: str | None) -> Output:
    """Every ticket as SQLite tables and/or CSV files."""
    from esc.report import export as exporting  # (not for `esc report`)

    docs, broken = exporting.exportable(session.workspace.scan())
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
