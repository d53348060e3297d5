"""The configurations sweeps ran under, by version: the texts of teams.yaml and rules.yaml
each sweep's version (``esc.domain.plan.sweep_version``) was made from, kept in the
workspace's ``.esc-cache/configs/VERSION.json``.

A ticket records the version it was last swept under (``sla.rules``).  When rules.yaml
changed since, the next sweep replays the moments the ticket missed under the rules that
were in effect then (found here), and applies the new ones from now: an edit between two
sweeps neither loses what the old rules would have done in between, nor stamps what the
new ones do before the edit.  A version not kept here (a fresh clone) is evaluated at now
alone, as before.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from esc.store.atomic import atomic_write
from esc.store.workspace import CACHE_DIR

FOLDER = "configs"

# A version as esc writes it (eight hex digits): what names a file here, so that a value
# read from a ticket never names a path of its own choosing.
_VERSION = re.compile(r"[0-9a-f]{8}")


def _path(root: Path, version: str) -> Path | None:
    if not _VERSION.fullmatch(version):
        return None
    return root / CACHE_DIR / FOLDER / f"{version}.json"


def remember(root: Path, version: str, texts: tuple[str, str]) -> None:
    """Keep the texts (teams.yaml, rules.yaml) of ``version``, unless kept already."""
    path = _path(root, version)
    if path is None or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": version, "teams.yaml": texts[0], "rules.yaml": texts[1]}
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n", sync_dir=False)


def kept_any(root: Path) -> bool:
    """Whether a sweep here kept the configuration it ran under (one of an esc that writes
    a ticket no SLA policy applies to an `sla:` block of its own, so that one without a
    block was never swept)."""
    try:
        return any(name.endswith(".json") for name in os.listdir(root / CACHE_DIR / FOLDER))
    except OSError:
        return False


def recall(root: Path, version: str) -> tuple[str, str] | None:
    """The texts (teams.yaml, rules.yaml) ``version`` was made from, if kept (None if not,
    or if the file is not what esc wrote: a cache, never trusted blindly)."""
    path = _path(root, version)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != version:
        return None
    teams, rules = data.get("teams.yaml"), data.get("rules.yaml")
    if not isinstance(teams, str) or not isinstance(rules, str):
        return None
    return teams, rules
