"""`esc validate`: teams.yaml, rules.yaml, every ticket and every kb/ article checked."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path

from esc.commands import kb
from esc.commands.notify import environment_findings
from esc.commands.session import Output, Session
from esc.domain.config import RULES_FILE, TEAMS_FILE, Finding
from esc.domain.errors import ParseError
from esc.domain.kb import ticket_kb_findings
from esc.store import git
from esc.store.catalog import validation_items
from esc.store.kb import load as load_kb
from esc.store.workspace import TICKETS_DIR
from esc.ticketfile.document import TicketDoc, conflict_line
from esc.ticketfile.problems import Clean, ticket_problems


def validate(session: Session) -> Output:
    """Every problem as ``path:line: message``, a line each on stderr (as every expected
    problem is), then their count; exit 1 if there is any."""
    workspace = session.workspace
    config, findings = workspace.config_findings()
    files = {TEAMS_FILE: 0, RULES_FILE: 1}  # (each file's problems in its lines' order,
    # the environment's beside the configuration's: as one reads the file)
    findings = sorted(
        findings + environment_findings(config, os.environ),
        key=lambda f: (files.get(f.path, len(files)), f.line),
    )
    uses: list[tuple[str, int, str]] = []  # (path, line, article) of each ticket's kb:
    items = _noting_kb(validation_items(workspace, config), uses)
    findings = findings + ticket_problems(items, config)
    article_findings, articles = kb.article_findings(session, config)
    findings += article_findings
    if uses:
        held = load_kb(workspace.root, categories=None)  # (every one)
        findings += ticket_kb_findings(uses, held.ids(), held.broken_ids)
    findings += _unmerged_findings(workspace.root)
    if findings:
        return Output(notes=[*map(str, findings), f"{len(findings)} problem(s)"], code=1)
    count = len(workspace.ticket_paths())
    tail = f", {articles} article{'s' if articles != 1 else ''}" if articles else ""
    tickets = f"{count} ticket{'s' if count != 1 else ''}"
    return Output(notes=[f"ok: teams.yaml, rules.yaml and {tickets}{tail}"])


def _unmerged_findings(root: Path) -> list[Finding]:
    """A ticket git left unmerged with no markers in it (changed on one side, deleted on
    the other: the file is one side's, whole), named as a file with markers is."""
    try:
        found = git.unmerged_under(root, TICKETS_DIR)
    except git.GitError:  # (no git here: nothing git left)
        return []
    return [
        Finding(path, 1, f"unresolved merge conflict ({what}): {_unmerged_advice(path, what)}")
        for path, what in found.items()
        if not _marked(root / path)  # (markers in it: the ticket's own finding says so)
    ]


def _unmerged_advice(path: str, what: str) -> str:
    """What to do with a ticket git left unmerged without markers.  Changed on both sides,
    it holds this side's version alone: the merge driver did not run or failed (a venv
    moved: `…/python3: not found`), and `git add` would drop the other side's changes
    (audit helper-381), so the way back to a merge is said first."""
    if what not in ("both changed", "both added"):  # (one side deleted it: keep or delete)
        return "keep it (`git add`) or delete it (`git rm`)"
    rel = shlex.quote(path)
    return (
        f"the file holds this side's version alone (the other: `git show :3:{rel}`), as "
        "when the merge driver failed; fix it (`esc doctor`), then merge the file again "
        f"with `git checkout -m -- {rel}`"
    )


def _marked(path: Path) -> bool:
    """Whether the file holds a merge's conflict markers (:func:`conflict_line`)."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return False
    return conflict_line(text) is not None


def _noting_kb(
    items: Iterable[TicketDoc | ParseError | Clean], uses: list[tuple[str, int, str]]
) -> Iterator[TicketDoc | ParseError | Clean]:
    """``items``, noting in ``uses`` each ticket that names an article (a file the cache
    found clean names it too: whether the article exists is checked every time)."""
    for item in items:
        if isinstance(item, Clean):
            if item.kb is not None:
                uses.append((item.path, item.kb_line, item.kb))
        elif not isinstance(item, ParseError) and item.ticket.kb is not None:
            uses.append((item.path, item.key_lines.get("kb", 1), item.ticket.kb))
        yield item
