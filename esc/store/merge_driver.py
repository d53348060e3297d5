"""esc's git merge driver, on the files git hands it: installing it in a repository, and
merging three versions of a ticket file into the one git keeps (the merge itself is
:mod:`esc.ticketfile.merge`; plain text merges by ``git merge-file``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from esc.config import starter
from esc.domain.errors import EscError
from esc.store.atomic import atomic_write
from esc.store.git import run
from esc.ticketfile.merge import TEXT, MergeResult, merge_ticket

DRIVER = "esc"
DRIVER_NAME = "esc ticket merge"
DRIVER_COMMAND = "esc merge-file %O %A %B"
ATTRIBUTES_PATTERN = "tickets/*.md"
ATTRIBUTES_LINE = f"{ATTRIBUTES_PATTERN} merge={DRIVER}"
GITATTRIBUTES = starter.GITATTRIBUTES


def merge_text(base: str, ours: str, theirs: str) -> tuple[str, bool]:
    """A plain 3-way text merge by ``git merge-file``: (text, True if conflicts remain)."""
    with tempfile.TemporaryDirectory(prefix="esc-merge-") as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
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


def merge_files(base: Path, ours: Path, theirs: Path) -> MergeResult:
    """Merge the files git hands its merge driver, writing the result to ``ours``."""
    try:
        texts = [p.read_bytes().decode("utf-8") for p in (base, ours, theirs)]
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
    except OSError as exc:
        raise EscError(f"cannot read {exc.filename}: {exc.strerror}") from None
    base_text, ours_text, theirs_text = texts
    result = merge_ticket(base_text, ours_text, theirs_text, merge_text)
    if result.text != texts[1]:
        try:
            atomic_write(ours, result.text)
        except OSError as exc:
            raise EscError(f"cannot write {ours}: {exc.strerror or exc}") from None
    return result


def ensure_gitattributes(root: Path) -> bool:
    """Make ``root/.gitattributes`` send ``tickets/*.md`` to esc's driver; True if changed.

    Other lines are kept; the line is appended unless the last ``merge`` attribute given
    to ``tickets/*.md`` already is ``merge=esc``.
    """
    path = root / ".gitattributes"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise EscError(f"cannot read {path}: {exc}") from None
    if text is None:
        new = GITATTRIBUTES
    else:
        merge_attr = None
        for line in text.splitlines():
            words = line.split()
            if words and words[0] == ATTRIBUTES_PATTERN:
                for word in words[1:]:
                    if word in ("merge", "-merge", "!merge") or word.startswith("merge="):
                        merge_attr = word
        if merge_attr == f"merge={DRIVER}":
            return False
        nl = "\r\n" if "\r\n" in text else "\n"
        sep = "" if not text or text.endswith("\n") else nl
        new = text + sep + GITATTRIBUTES.replace("\n", nl)
    try:
        atomic_write(path, new)
    except OSError as exc:
        raise EscError(f"cannot write {path}: {exc.strerror or exc}") from None
    return True


def configure_git(root: Path) -> None:
    """Define the ``esc`` merge driver in the local config of the repository at ``root``."""
    for name, value in (("merge.esc.name", DRIVER_NAME), ("merge.esc.driver", DRIVER_COMMAND)):
        proc = run(root, "config", "--local", name, value)
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise EscError(f"git config {name} failed: {detail[-1] if detail else proc.returncode}")
