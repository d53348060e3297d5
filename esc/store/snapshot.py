"""The workspace's configuration and ticket files as one version holds them: a git commit
(read through :mod:`esc.store.git`) or the work tree, for `esc plan` to compare.

Nothing here writes: a version's files are only read and parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from esc.domain.config import RULES_FILE, TEAMS_FILE, Config, Finding
from esc.domain.errors import ParseError, utf8_text
from esc.store import git
from esc.store.workspace import TICKETS_DIR, Workspace
from esc.ticketfile import document
from esc.ticketfile.document import TicketDoc


@dataclass
class Snapshot:
    """One version of a workspace: its configuration (None if unusable, with the
    findings), the text of teams.yaml and rules.yaml (None: the file is missing) and its
    ticket files by name (``T-….md``)."""

    config: Config | None
    findings: list[Finding]
    teams: str | None
    rules: str | None
    files: dict[str, bytes]
    _parsed: dict[str, TicketDoc | ParseError] = field(default_factory=dict)

    def doc(self, name: str) -> TicketDoc | ParseError:
        """The ticket file ``name`` parsed (once), or why it does not parse."""
        found = self._parsed.get(name)
        if found is None:
            found = self._parsed[name] = _parse(self.files[name], f"{TICKETS_DIR}/{name}")
        return found


def at_commit(workspace: Workspace, commit: str) -> Snapshot:
    """The workspace as ``commit`` holds it (the same folder of the repository)."""
    found = git.files_at(workspace.root, commit, [TEAMS_FILE, RULES_FILE, f"{TICKETS_DIR}/"])
    teams, rules = _text(found.get(TEAMS_FILE)), _text(found.get(RULES_FILE))
    files = {
        path.removeprefix(f"{TICKETS_DIR}/"): data
        for path, data in found.items()
        if _is_ticket(path)
    }
    if teams is None:
        return Snapshot(None, [Finding(TEAMS_FILE, 1, "file is missing")], None, rules, files)
    from esc.config.loading import build_config  # (ruamel.yaml only when needed)

    config, findings = build_config(teams, rules or "")
    return Snapshot(config, findings, teams, rules, files)


def in_work_tree(workspace: Workspace) -> Snapshot:
    """The workspace as its files are now, committed or not."""
    config, findings = workspace.config_findings()
    texts = workspace.config_texts()
    teams = texts[0] if texts is not None else None
    has_rules = texts is not None and (workspace.root / RULES_FILE).is_file()
    rules = texts[1] if texts is not None and has_rules else None
    files = {}
    for path in workspace.ticket_paths():
        try:
            files[path.name] = path.read_bytes()
        except FileNotFoundError:  # (removed while listed)
            continue
    return Snapshot(config, findings, teams, rules, files)


def _is_ticket(path: str) -> bool:
    folder, _, name = path.rpartition("/")
    return folder == TICKETS_DIR and name.endswith(".md") and not name.startswith(".")


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


def _parse(data: bytes, path: str) -> TicketDoc | ParseError:
    try:
        return document.parse(utf8_text(data, path), path)
    except ParseError as exc:
        return exc
