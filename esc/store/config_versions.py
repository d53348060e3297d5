"""The configurations sweeps ran under, by version: the texts of teams.yaml and rules.yaml
each sweep's version (``esc.domain.plan.sweep_version``) was made from, kept in the
workspace's ``.esc-cache/configs/VERSION.json``.

A ticket records the version it was last swept under (``sla.rules``).  When rules.yaml
changed since, the next sweep replays the moments the ticket missed under the rules that
were in effect then (found here), and applies the new ones from now: an edit between two
sweeps neither loses what the old rules would have done in between, nor stamps what the
new ones do before the edit.  A version not kept here (a fresh clone, a removed
.esc-cache) is looked for in git's history of the two files (:func:`history`), the
configuration of now taken as the sweeps' own from now, as the first sweep that sees it
takes it; one found nowhere is evaluated at now alone, as before.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path

from esc.domain.config import Config
from esc.domain.errors import EscError
from esc.domain.model import Ticket
from esc.domain.plan import Past, TicketPlan, plan, stored_version, sweep_version
from esc.domain.timestamps import coerce_timestamp, format_timestamp
from esc.store import git
from esc.store.atomic import atomic_write
from esc.store.workspace import CACHE_DIR, CONFIGS_DIR

FOLDER = CONFIGS_DIR

# A version as esc writes it (eight hex digits): what names a file here, so that a value
# read from a ticket never names a path of its own choosing.
_VERSION = re.compile(r"[0-9a-f]{8}")


def _path(root: Path, version: str) -> Path | None:
    if not _VERSION.fullmatch(version):
        return None
    return root / CACHE_DIR / FOLDER / f"{version}.json"


CURRENT = "current.json"  # the version the sweeps here run under, and since when
BLOCKS_SINCE = "blocks-since"  # since when the sweeps here write every active ticket a block


def remember(root: Path, version: str, texts: tuple[str, str], now: dt.datetime) -> None:
    """Keep the texts (teams.yaml, rules.yaml) of ``version``, unless kept already, and
    record it as the sweeps' own from ``now`` unless it is already."""
    path = _path(root, version)
    if path is None:
        return
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": version, "teams.yaml": texts[0], "rules.yaml": texts[1]}
        atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n", sync_dir=False)
    last, _, _ = current(root)
    if last != version:
        record = {"version": version, "since": format_timestamp(now), "before": last}
        atomic_write(path.parent / CURRENT, json.dumps(record) + "\n", sync_dir=False)


def current(root: Path) -> tuple[str | None, dt.datetime | None, str | None]:
    """The version the sweeps here last ran under, since when, and the one they ran under
    before it (Nones where unknown)."""
    try:
        data = json.loads((root / CACHE_DIR / FOLDER / CURRENT).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # (a cache: what is not esc's, unknown)
        return None, None, None
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        return None, None, None
    before = data.get("before")
    since = coerce_timestamp(data.get("since"))
    return data["version"], since, before if isinstance(before, str) else None


def blocks_since(root: Path) -> dt.datetime | None:
    """Since when the sweeps here (this esc's) write a block into every active ticket, so
    that one created since and without a block was never swept (None: not known to)."""
    try:
        text = (root / CACHE_DIR / FOLDER / BLOCKS_SINCE).read_text(encoding="utf-8")
    except (OSError, ValueError):  # (not UTF-8: no date esc wrote, unknown)
        return None
    return coerce_timestamp(text.strip())


def mark_blocks_since(root: Path, at: dt.datetime) -> None:
    """Record ``at`` as :func:`blocks_since`, unless one is recorded already."""
    path = root / CACHE_DIR / FOLDER / BLOCKS_SINCE
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, format_timestamp(at) + "\n", sync_dir=False)


def recall(root: Path, version: str) -> tuple[str, str] | None:
    """The texts (teams.yaml, rules.yaml) ``version`` was made from, if kept (None if not,
    or if the file is not what esc wrote: a cache, never trusted blindly)."""
    path = _path(root, version)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("version") != version:
        return None
    teams, rules = data.get("teams.yaml"), data.get("rules.yaml")
    if not isinstance(teams, str) or not isinstance(rules, str):
        return None
    return teams, rules


# ---------------------------------------------------------------- a ticket's past


class Known:
    """One command's view of the sweeps' past here: read once, each earlier configuration
    built once (~20 ms each: ruamel.yaml and its checks)."""

    def __init__(self, root: Path, config: Config, now: dt.datetime) -> None:
        self.root = root
        self.config = config
        version, since, before = current(root)
        # (the current configuration is the sweeps' own since then, the one before it
        # theirs until then; if it is not the one they last ran under, it becomes theirs
        # now, and that one was theirs until now)
        mine = version == sweep_version(config)
        self.switched = since if mine else now
        self.before = before if mine else version
        self.blocks_since = blocks_since(root)
        self.earlier: MutableMapping[str, Config | None] = {}
        # (no configuration kept here at all: a fresh clone, whose earlier ones are in git)
        self.unkept = version is None
        self._history: Iterator[tuple[str, Config]] | None = None
        self._met: dict[str, Config] = {}  # (the versions met in git's history so far)

    def past(self, ticket: Ticket) -> Past:
        """What a sweep here knows of ``ticket``'s past (:class:`esc.domain.plan.Past`)."""
        blockless = self.blocks_since is None or ticket.created < self.blocks_since
        version = stored_version(ticket)
        if (  # (never swept, created while the configuration before this one was theirs:
            # its past is replayed under that one, until this one became theirs)
            version is None
            and "sla" not in ticket.extra
            and self.before is not None
            and self.switched is not None
            and ticket.created < self.switched
        ):
            version = self.before
        if (  # (a block without `rules:`, an older esc's or the demo's, checked before the
            # switch: it was swept under the configuration before this one, whose moments
            # until the switch are replayed under it; under this one, an edit of targets
            # stamped breaches before the edit)
            version is None
            and isinstance(ticket.extra.get("sla"), Mapping)
            and self.before is not None
            and self.switched is not None
        ):
            checked = coerce_timestamp(ticket.extra["sla"].get("checked"))
            if checked is not None and checked < self.switched:
                version = self.before
        if version is None or version == sweep_version(self.config):
            return Past(blockless_swept=blockless)
        if version not in self.earlier:
            self.earlier[version] = earlier_config(self.root, version)
            if self.earlier[version] is None and self.unkept:  # (a fresh clone: git's)
                self.earlier[version] = self._from_history(version)
        return Past(self.earlier[version], self.switched, blockless)

    def _from_history(self, version: str) -> Config | None:
        """The configuration of ``version`` from git's history (:func:`history`), walked
        once a command, as far as needed (each version met on the way kept).  The current
        one is taken as the sweeps' own from now (``switched``), as a sweep with the cache
        takes it at the first sweep that sees it: with the cache or without it, a sweep
        after an edit replays the missed moments under the rules then in effect (they were
        evaluated at now alone, under the new ones: audit helper-472)."""
        if self._history is None:
            self._history = history(self.root)
        for found, config in self._history:
            self._met.setdefault(found, config)
            if found == version:
                break
        return self._met.get(version)


def earlier_config(root: Path, version: str) -> Config | None:
    """The configuration of ``version`` as a sweep here kept its files' texts, if it did
    and they still make that version (esc's own code may count another since)."""
    texts = recall(root, version)
    if texts is None:
        return None
    from esc.config.loading import usable_config  # (ruamel.yaml only when needed)

    config = usable_config(*texts)
    return None if config is None or sweep_version(config) != version else config


HISTORY_LOOKED_AT = 30  # the latest commits that changed teams.yaml or rules.yaml looked at
_NAMES = ("teams.yaml", "rules.yaml")


def history(root: Path) -> Iterator[tuple[str, Config]]:
    """The configurations of the latest HISTORY_LOOKED_AT commits that changed teams.yaml or
    rules.yaml, newest first, each with its version, each pair of texts built once: read
    with one ``git log`` and one ``git cat-file --batch``.  Nothing when there is no git,
    no history, or it cannot be read (a shallow or partial clone: what is missing ends it)."""
    from esc.config.loading import usable_config  # (ruamel.yaml only when needed)

    try:
        log = git.output(root, "log", f"-n{HISTORY_LOOKED_AT}", "--format=%H", "--", *_NAMES)
        commits = log.split()
        if not commits:
            return
        texts = git.blob_texts(root, [f"{c}:./{name}" for c in commits for name in _NAMES])
    except EscError:  # (no git, no repository, no commit: nothing to look in)
        return
    seen: set[tuple[bytes, bytes]] = set()
    for n in range(len(commits)):
        teams, rules = texts[2 * n], texts[2 * n + 1]
        if teams is None or rules is None:
            return  # (before the workspace had both files, or an object missing)
        if (teams, rules) in seen:
            continue
        seen.add((teams, rules))
        try:
            config = usable_config(teams.decode("utf-8"), rules.decode("utf-8"))
        except UnicodeDecodeError:
            continue
        if config is not None:
            yield sweep_version(config), config


def plan_here(root: Path, config: Config, ticket: Ticket, now: dt.datetime) -> TicketPlan:
    """The plan a sweep at ``now`` here makes of ``ticket`` (for `esc explain`)."""
    return plan(ticket, config, now, Known(root, config, now).past(ticket))
