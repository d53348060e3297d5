"""esc's git merge driver, on the files git hands it: installing it in a repository, and
merging three versions of a ticket file into the one git keeps (the merge itself is
:mod:`esc.ticketfile.merge`; plain text merges by ``git merge-file``)."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from esc.config import starter
from esc.domain.errors import EscError
from esc.store import atomic, launch
from esc.store.atomic import atomic_write
from esc.store.git import INNER_MERGE, run
from esc.store.workspace import TICKETS_DIR, read_text_file

if TYPE_CHECKING:
    from esc.ticketfile.merge import MergeResult

DRIVER = "esc"
DRIVER_NAME = "esc ticket merge"
ATTRIBUTES_PATTERN = "tickets/*.md"
ATTRIBUTES_LINE = f"{ATTRIBUTES_PATTERN} merge={DRIVER}"
GITATTRIBUTES = starter.GITATTRIBUTES


def merge_text(base: str, ours: str, theirs: str) -> tuple[str, bool]:
    """A plain 3-way text merge by ``git merge-file``: (text, True if conflicts remain)."""
    import tempfile  # (only merges need it)

    with tempfile.TemporaryDirectory(prefix="esc-merge-") as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            with atomic.naming(path):  # (a full disk: names the file, not "the output")
                path.write_bytes(text.encode("utf-8"))
            paths.append(str(path))
        proc = run(
            Path(folder), "merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs",
            "--", *paths,
        )  # fmt: skip
    if not 0 <= proc.returncode < 128:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        raise EscError(f"git merge-file failed: {detail or proc.returncode}")
    return proc.stdout.decode("utf-8"), proc.returncode > 0


NUL, NL = b"\0", b"\n"


class BrokenSide(EscError):
    """A version git handed the merge driver that is no text to merge (``side``: base,
    ours or theirs); nothing is written, so git keeps ours and marks the merge failed."""

    def __init__(self, side: str, path: Path, problem: str, unreadable: bool = False) -> None:
        super().__init__(f"{side} ({path}) {problem}")
        self.side, self.path, self.problem = side, path, problem
        self.unreadable = unreadable  # (text, but no ticket esc reads: said so already)


GivesWay = Callable[[str, str, str], bool]
"""Whether a version of a ticket (the second text, ``swept``) is exactly what a sweep makes
of the base (the first) and would have made something else of the other version (the
third), or could not have planned it (swept later itself): a sweep's rewrite alone, which
the other side's change would have changed."""


Unswept = Callable[[str, str, str], "str | None"]
"""What a version of a ticket (the second text) was before the sweep that rewrote it last
(what :func:`esc.ticketfile.merge.swept_amid` names: its changes of the base, the first
text, hold others' beside the sweeps'), when that sweep would have made something else of
it merged with the other version (the third); None when it would not, or when no sweep's
rewrite can be taken out of it."""


def merge_files(
    base: Path,
    ours: Path,
    theirs: Path,
    gives_way: GivesWay | None = None,
    unswept: Unswept | None = None,
) -> MergeResult:
    """Merge the files git hands its merge driver, writing the result to ``ours``.

    A side that is a sweep's rewrite of the base alone, whose sweep never saw what the
    other side did before it checked (a person's escalation in another clone) and would
    have acted otherwise had it seen it (``gives_way``), gives way: the other side is
    taken whole, as if that sweep had not run, and the next sweep replays from the base's
    ``checked`` with the person's change in it (field by field, the rule's escalation of
    the old team stood beside the person's, and the ticket a level lower than sweeping at
    every instant leaves it).  Its result says so (``replayed``).  (A change that would
    not have changed what the sweep did, an internal note, merges field by field.)  A
    side that holds others' changes beside the sweep's (the customer's message the cron
    line's intake took, committed with the sweep's rewrite) gives way in its sweep's part
    alone (``unswept``): the rest of it is merged with the other side field by field."""
    # (imported here: every command that writes a ticket asks this module about the clone)
    from esc.ticketfile.merge import TEXT, MergeResult, in_the_breaks_of, merge_ticket

    try:
        data = [p.read_bytes() for p in (base, ours, theirs)]
    except OSError as exc:
        raise EscError(f"cannot read {exc.filename}: {exc.strerror}") from None
    for side, path, raw in zip(("base", "ours", "theirs"), (base, ours, theirs), data, strict=True):
        if NUL in raw:  # (git would call it binary and merge nothing: say which side)
            line = raw.count(NL, 0, raw.index(NUL)) + 1
            raise BrokenSide(side, path, f"holds a NUL byte (line {line})")
    _refuse_newly_broken(base, ours, theirs, data)
    try:
        texts = [raw.decode("utf-8") for raw in data]
    except UnicodeDecodeError:
        # not text esc can read: let git merge it in place, as its own text driver would
        proc = run(
            ours.resolve().parent, "merge-file", "-L", "ours", "-L", "base", "-L", "theirs",
            "--", *(str(p.resolve()) for p in (ours, base, theirs)),
        )  # fmt: skip
        if not 0 <= proc.returncode < 128:
            raise EscError(f"git merge-file failed on {ours}") from None
        text = ours.read_bytes().decode("utf-8", "replace")
        return MergeResult(text, [TEXT] if proc.returncode else [], structured=False)
    _refuse_unreadable_side((base, ours, theirs), texts)
    base_text, ours_text, theirs_text = texts
    result = merge_ticket(base_text, ours_text, theirs_text, merge_text)
    unseen = result.unseen_by
    swept, other = (ours_text, theirs_text) if unseen == "ours" else (theirs_text, ours_text)
    if unseen is not None and not result.amid and gives_way is not None:
        if gives_way(base_text, swept, other):
            taken = in_the_breaks_of(ours_text, other)  # (as a merge writes theirs)
            result = MergeResult(taken, [], replayed=unseen)
    elif result.amid and unswept is not None:
        for side in result.amid:  # (the first that comes apart: one that holds a person's
            # escalation the other side's sweep never saw does not)
            swept, other = (ours_text, theirs_text) if side == "ours" else (theirs_text, ours_text)
            kept = unswept(base_text, swept, other)
            if kept is None:
                continue
            sides = (kept, theirs_text) if side == "ours" else (ours_text, kept)
            again = merge_ticket(base_text, *sides, merge_text)
            if again.clean and again.structured:
                result = replace(again, unseen_by=side, replayed=side, kept_own=True)
            break
    if result.text != texts[1]:
        try:
            atomic_write(ours, result.text)
        except OSError as exc:
            raise EscError(f"cannot write {ours}: {exc.strerror or exc}") from None
    return result


_BOM = b"\xef\xbb\xbf"


# The start of a line of a ticket's structure: an activity line's time, an entry's or a
# section's heading, a front-matter field.
_STRUCTURE = re.compile(r"- [0-9]|#{2,3} |[A-Za-z_][\w-]*:|  [A-Za-z_][\w-]*:|  - \{")


def _refuse_unreadable_side(paths: tuple[Path, Path, Path], texts: list[str]) -> None:
    """A side that is no ticket esc reads (its front-matter gone, or not parsing) or one
    cut short (it ends in a line esc cannot read, with no line break after it, where the
    base ends in one) while the base is a ticket: a BrokenSide, named.  Merged as text it
    went through cleanly (a truncation reads as lines deleted), and git committed a ticket
    every command then refused.  (A side with a finding validate names, a hand-written
    entry head esc reads otherwise, merges as before: the finding stays the file's.)"""
    from esc.domain.errors import ParseError
    from esc.ticketfile.document import parse

    def problem(text: str, path: Path) -> str | None:
        try:
            doc = parse(text, str(path))
        except ParseError as exc:
            return f"line {exc.line}: {exc.message}"
        if doc.problems and ends_whole and not text.endswith("\n"):  # (cut short: its last
            line, message = doc.problems[-1]  # line half written)
            return f"cut short: line {line}: {message}"
        if len(text) < len(base_text) and base_text.startswith(text) and (
            "\n" in base_text[len(text) :].rstrip("\n") or text.endswith("\n")
        ):  # (the base's start and nothing more, whole lines of it gone, cut at a line's end
            # too: merged, what it lacks went as if deleted, the append-only log with it,
            # exit 0.  Its last line alone shortened, `Regards, Reto`, is a person's edit)
            kept, lines = text.count("\n"), base_text.count("\n")
            return f"cut short: it is the start of the base alone ({kept} of its {lines} lines)"
        last = text.rsplit("\n", 1)[-1]
        if ends_whole and _STRUCTURE.match(last) and any(  # (its last line the start of one
            # of base's log lines, entry heads or fields, `- 2026-11-`: cut part-way, the
            # rest of the file with it; merged, every line after the cut went as if deleted,
            # exit 0.  A line of text a person shortened, saved without a final line break,
            # `Regards, Reto`, is no cut)
            line.startswith(last) and line != last for line in base_lines
        ):
            return f"cut short: line {text.count(chr(10)) + 1} ends part-way: {last!r}"
        return None

    ends_whole = texts[0].endswith("\n")
    base_text = texts[0]
    base_lines = set(base_text.splitlines())
    found = [problem(text, path) for text, path in zip(texts, paths, strict=True)]
    if found[0] is not None:
        return
    for side, path, said in zip(("ours", "theirs"), paths[1:], found[1:], strict=True):
        if said is not None:
            raise BrokenSide(side, path, f"is no ticket esc reads ({said})", unreadable=True)


def _refuse_newly_broken(base: Path, ours: Path, theirs: Path, data: list[bytes]) -> None:
    """A side that is not UTF-8, or starts with a byte order mark, where another side is a
    text esc reads (a ticket broken on one side only) is a BrokenSide: merged as plain text
    it would be taken into the ticket silently, which esc then refuses.  (All three not
    UTF-8: the file was never a ticket esc reads; it is merged as git merges text.)"""
    sides = list(zip(("base", "ours", "theirs"), (base, ours, theirs), data, strict=True))
    problems: list[tuple[str, Path, str]] = []
    for side, path, raw in sides:
        if raw.startswith(_BOM):
            problems.append((side, path, "starts with a byte order mark, which esc refuses"))
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(NL, 0, exc.start) + 1
            problems.append((side, path, f"is not UTF-8 text (line {line})"))
    if problems and len(problems) < len(sides):
        raise BrokenSide(*problems[0])


def ensure_gitattributes(root: Path) -> bool:
    """Make ``root/.gitattributes`` send ``tickets/*.md`` to esc's driver; True if changed.

    Other lines are kept; the line is appended unless the last ``merge`` attribute given
    to ``tickets/*.md`` already is ``merge=esc``.
    """
    new = gitattributes_text(root)
    if new is not None:
        write_gitattributes(root, new)
    return new is not None


def gitattributes_text(root: Path) -> str | None:
    """What :func:`ensure_gitattributes` would write to ``root/.gitattributes`` (None:
    nothing); EscError if the file cannot be read."""
    text = read_text_file(root / ".gitattributes", ".gitattributes")
    if text is None:
        return GITATTRIBUTES
    if routes_tickets(text):
        return None
    nl = "\r\n" if "\r\n" in text else "\n"
    sep = "" if not text or text.endswith("\n") else nl
    return text + sep + GITATTRIBUTES.replace("\n", nl)


def write_gitattributes(root: Path, text: str) -> None:
    path = root / ".gitattributes"
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise EscError(f"cannot write {path}: {exc.strerror or exc}") from None


def routes_tickets(text: str) -> bool:
    """Whether the ``.gitattributes`` ``text`` sends ``tickets/*.md`` to esc's driver: the
    last ``merge`` attribute it gives that pattern is ``merge=esc``."""
    merge_attr = None
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == ATTRIBUTES_PATTERN:
            for word in words[1:]:
                if word in ("merge", "-merge", "!merge") or word.startswith("merge="):
                    merge_attr = word
    return merge_attr == f"merge={DRIVER}"


def ticket_merge(root: Path) -> str | None:
    """The ``merge`` attribute git gives a ticket of the workspace at ``root``, all of its
    attribute files read (a later ``*.md merge=union`` line, a ``tickets/.gitattributes``
    may override the workspace's line): ``esc`` when esc's driver merges tickets; None if
    git cannot tell."""
    proc = run(root, "check-attr", "merge", "--", "tickets/T-0.md", timeout=30)
    if proc.returncode != 0:
        return None
    line = proc.stdout.decode("utf-8", "replace").strip()
    return line.rsplit(": ", 1)[-1] if ": " in line else None


def force_ticket_merge(root: Path) -> bool:
    """Make git merge the workspace's tickets with esc's driver whatever its
    ``.gitattributes`` files say: the line in the clone's ``$GIT_DIR/info/attributes``,
    which git reads last; True if it was added (only when another file overrides the
    workspace's own line).  EscError if it cannot be written."""
    if ticket_merge(root) == DRIVER:
        return False
    where = run(root, "rev-parse", "--git-path", "info/attributes", "--show-prefix", timeout=30)
    if where.returncode != 0:
        return False
    path_text, prefix = [*where.stdout.decode("utf-8", "replace").split("\n"), "", ""][:2]
    path = root / path_text  # (relative to ``root``, or absolute)
    line = f"/{prefix}{ATTRIBUTES_LINE}\n"  # (anchored at the top of the repository)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if line not in text:
            sep = "" if not text or text.endswith("\n") else "\n"
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text + sep + line)
    except (OSError, UnicodeDecodeError) as exc:
        raise EscError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return True


def gitattributes_route_tickets(root: Path) -> bool:
    """Whether git sends the workspace's tickets to esc's driver: ``root/.gitattributes``
    says so in esc's own line (read, no git asked), or, when an attribute file names
    ``merge=esc`` otherwise (`tickets/** merge=esc`, `*.md merge=esc`, a line of the
    repository's top folder naming `helpdesk/tickets/*.md`), git's own answer; False if
    none names it, or the files cannot be read."""
    try:
        if routes_tickets((root / ".gitattributes").read_text(encoding="utf-8")):
            return True
    except (OSError, UnicodeDecodeError):
        pass
    if not any(f"merge={DRIVER}" in text for text in _attribute_texts(root)):
        return False
    try:
        return ticket_merge(root) == DRIVER
    except EscError:
        return False


def _attribute_texts(root: Path) -> Iterator[str]:
    """The texts of the attribute files that may name the workspace's tickets: its own
    ``.gitattributes``, its tickets folder's, those of each folder above it up to the
    repository's top (none outside it), and the clone's ``info/attributes`` (unreadable
    ones: empty; outside a repository, none)."""
    files = [root / TICKETS_DIR / ".gitattributes"]
    for folder in (root, *root.parents):
        files.append(folder / ".gitattributes")
        if (folder / ".git").exists():
            files.append(folder / ".git" / "info" / "attributes")
            break
    else:
        return
    for path in files:
        try:
            yield path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            yield ""


def configure_git(root: Path) -> None:
    """Define the ``esc`` merge driver in the local config of the repository at ``root``:
    this esc by absolute path (:func:`esc.store.launch.merge_driver_command`), so merges
    work where esc is not on PATH."""
    driver = launch.merge_driver_command()
    for name, value in (
        ("merge.esc.name", DRIVER_NAME),
        ("merge.esc.driver", driver),
        ("merge.esc.recursive", INNER_MERGE),
    ):
        proc = run(root, "config", "--local", name, value)
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise EscError(f"git config {name} failed: {detail[-1] if detail else proc.returncode}")


def configured_driver(root: Path) -> str | None:
    """``merge.esc.driver`` as git sees it in the repository at ``root`` (None if unset)."""
    proc = run(root, "config", "--get", f"merge.{DRIVER}.driver", timeout=30)
    value = proc.stdout.decode("utf-8", "replace").strip()
    return value if proc.returncode == 0 and value else None


def clone_lacks_driver(root: Path) -> bool:
    """Whether the workspace at ``root`` sends tickets to ``merge=esc`` in its
    ``.gitattributes`` while its clone defines no ``merge.esc.driver`` (git would then
    merge tickets as plain text, silently).  Outside a git repository it is False: there
    is nothing to merge."""
    return driver_trouble(root) == ("missing", "")


def driver_trouble(root: Path) -> tuple[Literal["missing", "gone"], str] | None:
    """What is wrong with the merge driver of the clone holding ``root``, if its
    ``.gitattributes`` sends tickets to it: ``("missing", "")`` (no ``merge.esc.driver``:
    tickets merge as plain text), ``("gone", PROGRAM)`` (it runs a program named by an
    absolute path that no longer exists, a venv moved or made again since `esc
    install-git`: git leaves a ticket both sides changed with one side alone, no
    markers); None if nothing is.

    Cheap enough for every command that writes a ticket: two small files are read; git is
    asked (once) only when the repository's own config file does not show the driver
    (`esc doctor` asks git, and runs the driver)."""
    if not gitattributes_route_tickets(root):
        return None
    config = _repository_config(root)
    if config is None:
        return None
    try:
        shown = _driver_shown(config.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        shown = None
    if shown is None:
        try:  # a global or included config, a worktree's: git knows
            return ("missing", "") if configured_driver(root) is None else None
        except EscError:
            return None
    try:
        words = shlex.split(shown.strip('"'))
    except ValueError:
        return None
    program = words[0] if words else ""
    gone = os.path.isabs(program) and not os.path.exists(program)
    return ("gone", program) if gone else None


def _driver_shown(config: str) -> str | None:
    """The ``merge.esc.driver`` the git config file text ``config`` defines in the usual
    form (``[merge "esc"]`` and a ``driver = ...`` line; the last, as git takes it), or
    None (anything else: git is asked)."""
    in_section = False
    found = None
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            words = line[1:].split("]", 1)[0].split(None, 1)
            in_section = words[:1] == ["merge"] and words[1:] == [f'"{DRIVER}"']
        elif in_section:
            key, equals, value = line.partition("=")
            if equals and key.strip().lower() == "driver" and value.strip():
                found = value.strip()
    return found


def _repository_config(root: Path) -> Path | None:
    """The config file of the repository holding ``root`` (found by walking up to its
    ``.git``; a linked worktree's ``.git`` file leads to its common folder), or None
    outside a repository."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / "config"
        if dot_git.is_file():
            try:
                line = dot_git.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return folder / ".git"  # (not a config file: git is asked)
            git_dir = (folder / line.removeprefix("gitdir:").strip()).resolve()
            try:
                common = (git_dir / "commondir").read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return git_dir / "config"
            return (git_dir / common).resolve() / "config"
    return None


def driver_fails(command: list[str]) -> str | None:
    """Why the merge driver's program (``command``, the words before ``merge-file``) cannot
    run esc, found by running it with ``--version``; None if it can.  It runs without this
    shell's PYTHONPATH, as cron and git's merges elsewhere would: a venv recreated without
    esc fails there even where this shell's PYTHONPATH finds it."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        proc = subprocess.run(
            [*command, "--version"], capture_output=True, timeout=60, check=False, env=env
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run it: {exc}"
    if proc.returncode == 0 and proc.stdout.startswith(b"esc"):
        return None
    said = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
    return f"`{' '.join(command)} --version` exits {proc.returncode}" + (
        f": {said[-1]}" if said else ""
    )
