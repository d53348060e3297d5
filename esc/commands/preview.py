"""`esc plan --base REF`: what a change to teams.yaml, rules.yaml or tickets/ would do, as of
--now, compared with REF (read from git); for a pull request's check.

The head is the workspace as its files are now (committed or not); the base is the
commit where HEAD forked from REF.  The pure comparison is :mod:`esc.domain.impact`; the
sweep's plan of one ticket, which it runs on both sides, is :mod:`esc.domain.plan`.
"""

from __future__ import annotations

from collections.abc import Iterable

from esc.commands.session import Output, Session
from esc.domain.choices import unknown_choice
from esc.domain.config import Finding
from esc.domain.errors import BadInput, ParseError
from esc.domain.impact import CAUSES, Cause, FileChange, TicketPair, compare
from esc.domain.model import Ticket
from esc.report.choices import PlanFormat
from esc.report.impact import Preview, render_json, render_markdown
from esc.store import git, snapshot
from esc.store.snapshot import Snapshot
from esc.ticketfile import document, fingerprint
from esc.ticketfile.problems import require_valid, ticket_problems


def fail_on_causes(values: Iterable[str]) -> tuple[Cause, ...]:
    """``--fail-on`` values (each a comma list) as causes; BadInput for an unknown word."""
    wanted: set[str] = set()
    for value in values:
        if not value.strip(" ,"):  # (`--fail-on "$CAUSES"` unset: it would never fail)
            raise BadInput("--fail-on must not be empty")
        for word in value.split(","):
            word = word.strip().lower()  # (in any case, as every closed set of esc's)
            if not word:
                continue
            if word not in CAUSES:
                raise BadInput("--fail-on: " + unknown_choice("cause", word, CAUSES))
            wanted.add(word)
    return tuple(c for c in CAUSES if c in wanted)


def plan_change(
    session: Session, base_ref: str, fmt: PlanFormat, fail_on: Iterable[str]
) -> Output:
    """The change's impact as Markdown or JSON; exit 1 if it causes one of ``fail_on``."""
    causes = fail_on_causes(fail_on)
    workspace = session.workspace
    commit, note = git.base_commit(workspace.root, base_ref, "--base")
    base = snapshot.at_commit(workspace, commit)
    head = snapshot.in_work_tree(workspace)
    pairs, changed = _pairs(base, head)
    findings = list(head.findings)
    if head.config is not None:  # the tickets this change adds or edits, as validate sees them
        # (and those its configuration leaves unfit, which validated before it: a team
        # renamed in teams.yaml whose tickets still name it, none of them edited, which
        # every sweep after the merge leaves alone: audit helper-413)
        unfit = [p.name for p in pairs if p.change == "same" and p.head is None
                 and base.config is not None and _ticket(base, p.name) is not None]  # fmt: skip
        findings += ticket_problems((head.doc(name) for name in changed + unfit), head.config)
    else:
        findings += [_finding(head.doc(n)) for n in changed if isinstance(head.doc(n), ParseError)]
    # (a configuration with a blocking problem stops every command: what its policies and
    # rules would do is not told, but that it stops them)
    stops = any(finding.blocking for finding in head.findings)
    head_config = None if stops else head.config
    impact = compare(pairs, base.config, head_config, session.now, invalid=bool(findings))
    preview = Preview(
        ref=base_ref,
        commit=commit,
        now=session.now,
        files=_config_files(base, head),
        impact=impact,
        findings=tuple(findings),
        base_findings=tuple(base.findings) if base.config is None else (),
        fail_on=causes,
    )
    text = render_json(preview) if fmt == "json" else render_markdown(preview)
    notes = [note] if note else []
    if preview.failing:
        notes.append(f"the change causes: {', '.join(preview.failing)} (--fail-on)")
    return Output(text=text, notes=notes, code=1 if preview.failing else 0, exact=fmt == "json")


def _pairs(base: Snapshot, head: Snapshot) -> tuple[list[TicketPair], list[str]]:
    """Each ticket file on either side (all of them if the configuration changed, else
    only those whose file changed), and the names of the files the head adds or changes."""
    same_config = (base.teams, base.rules) == (head.teams, head.rules)
    pairs = []
    changed = []
    for name in sorted(set(base.files) | set(head.files)):
        before, after = base.files.get(name), head.files.get(name)
        change: FileChange = (
            "added" if before is None
            else "removed" if after is None
            else "same" if _same_text(before, after)
            else "changed"
        )  # fmt: skip
        if change in ("added", "changed"):
            changed.append(name)
        if change == "same" and same_config:
            continue  # (the same ticket under the same configuration: nothing differs)
        new = _ticket(head, name) if after is not None else None
        old = new if change == "same" else _ticket(base, name) if before is not None else None
        pairs.append(TicketPair(name, change, old, new))
    return pairs, changed


def _same_text(before: bytes, after: bytes) -> bool:
    """Whether two versions of a file say the same, line endings aside (a clone whose
    checkout makes CRLF holds every ticket so, its commits LF: every ticket was "changed";
    audit helper-413), and a sweep's fingerprint aside (a comment, never data: audit
    helper-457)."""
    if before == after:
        return True
    old, new = (text.replace(b"\r\n", b"\n") for text in (before, after))
    if old == new:
        return True
    if fingerprint.MARK.encode() not in old + new:
        return False
    try:
        return document.unstamped(old.decode("utf-8")) == document.unstamped(new.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _ticket(side: Snapshot, name: str) -> Ticket | None:
    """The ticket ``name`` on one side, as commands act on it: None when it does not parse
    or does not validate (no command acts on it: no SLA of its is computed, and a made-up
    1970 deadline is no breach the change causes; it is a problem the change has)."""
    parsed = side.doc(name)
    if isinstance(parsed, ParseError):
        return None
    if side.config is not None:
        try:
            require_valid(parsed, side.config)
        except ParseError:
            return None
    return parsed.ticket


def _finding(error: object) -> Finding:
    assert isinstance(error, ParseError)
    return Finding(error.path, error.line, error.message)


def _config_files(base: Snapshot, head: Snapshot) -> dict[str, str]:
    states = {}
    for name, before, after in (
        ("teams.yaml", base.teams, head.teams),
        ("rules.yaml", base.rules, head.rules),
    ):
        states[name] = (
            "same" if before == after
            else "added" if before is None
            else "removed" if after is None
            else "changed"
        )  # fmt: skip
    return states
