"""`esc log`: a ticket's story, from its activity log and the git history of its file. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from esc.domain.model import Activity
from esc.domain.records import immutable
from esc.domain.timestamps import coerce_timestamp, format_timestamp
from esc.ticketfile.body import activity_what

StorySource = Literal["activity", "git"]


@immutable
class StoryLine:
    """One line of a ticket's story: an activity line of its file, or a git commit."""

    at: dt.datetime
    source: StorySource
    by: str
    what: str
    commit: str | None = None


def story(
    activity: Sequence[Activity], commits: Sequence[tuple[str, str, str, str]]
) -> list[StoryLine]:
    """A ticket's activity entries and the commits of its file (hash, author, ISO date,
    subject; newest first, as git lists them) in time order: commits of one second in the
    order they were made."""
    events = []
    for item in activity:
        events.append(StoryLine(item.at, "activity", item.by, activity_what(item)))
    for commit, author, date, subject in reversed(commits):
        when = coerce_timestamp(date)
        if when is not None:
            events.append(StoryLine(when, "git", author, subject, commit))
    order = {"activity": 0, "git": 1}
    return sorted(events, key=lambda e: (e.at, order[e.source]))


def story_text(events: Sequence[StoryLine]) -> str:
    width = max((len(e.by) for e in events), default=0)
    lines = []
    for event in events:
        who = event.by.ljust(width)
        if event.source == "git":
            commit = (event.commit or "")[:10]
            lines.append(f"{format_timestamp(event.at)}  {who}  commit {commit}: {event.what}")
        else:
            lines.append(f"{format_timestamp(event.at)}  {who}  {event.what}")
    return "\n".join(lines)


def story_json(events: Sequence[StoryLine]) -> list[dict[str, object]]:
    """Each event as ``{at, source, by, what, commit}``; a commit's also names its parts as
    git does (``author``, ``date``, ``message``: its subject)."""
    items: list[dict[str, object]] = []
    for e in events:
        at = format_timestamp(e.at)
        item: dict[str, object] = {
            "at": at, "source": e.source, "by": e.by, "what": e.what, "commit": e.commit,
        }  # fmt: skip
        if e.source == "git":
            item.update(author=e.by, date=at, message=e.what)
        items.append(item)
    return items
