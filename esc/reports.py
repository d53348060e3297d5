"""Reports rendered from tickets and their SLAs with jinja2 templates. Pure: data in, text out.

A workspace ``templates/`` folder may override a shipped template of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from esc.clock import format_timestamp
from esc.config import Config
from esc.model import Ticket
from esc.sla import Clock, Sla

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: object) -> str:
    """Text that shows literally inside a GitHub-flavoured Markdown table cell."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _environment(overrides: Path | None) -> object:
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if overrides is not None and overrides.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(overrides)))
    loaders.append(jinja2.PackageLoader("esc", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = md_escape
    return env


def _clock_row(ticket: Ticket, clock: Clock) -> dict[str, object]:
    return {
        "id": ticket.id,
        "title": ticket.title,
        "team": ticket.team,
        "priority": ticket.priority,
        "metric": clock.metric,
        "due": format_timestamp(clock.due) if clock.due else "-",
    }


def summary_data(items: Sequence[tuple[Ticket, Sla]], config: Config) -> dict[str, object]:
    active = [(t, s) for t, s in items if t.active]
    overdue = [_clock_row(t, c) for t, s in active for c in s.overdue_clocks]
    warning = [_clock_row(t, c) for t, s in active for c in s.warning_clocks]
    counts = {
        status: sum(1 for t, _ in active if t.status == status)
        for status in ("new", "open", "pending")
    }
    teams = []
    for team in sorted(config.teams.values(), key=lambda tm: (tm.level, tm.key)):
        mine = [(t, s) for t, s in active if t.team == team.key]
        teams.append(
            {
                "name": team.key,
                "level": team.level,
                **{
                    status: sum(1 for t, _ in mine if t.status == status)
                    for status in ("new", "open", "pending")
                },
                "overdue": sum(1 for _, s in mine if s.overdue_clocks),
            }
        )
    return {
        "active": [t.id for t, _ in active],
        "counts": counts,
        "overdue": sorted(overdue, key=lambda r: str(r["due"])),
        "warning": sorted(warning, key=lambda r: str(r["due"])),
        "teams": teams,
        "generated": None,
    }


def render(name: str, data: dict[str, object], overrides: Path | None = None) -> str:
    env = _environment(overrides)
    template = env.get_template(name)  # type: ignore[attr-defined]
    return str(template.render(**data))
