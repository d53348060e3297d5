"""`esc merge-file`: the git merge driver for ticket files."""

from __future__ import annotations

from pathlib import Path

from esc.commands.session import Output
from esc.store import merge_driver


def merge_file(base: str, ours: str, theirs: str, path: str | None = None) -> Output:
    """Merge three versions of a ticket into ``ours``: exit 0 when clean, 1 when conflict
    markers are left for a human (``path``, the ticket's path, names it)."""
    where = f"{path}: " if path else ""
    try:
        result = merge_driver.merge_files(Path(base), Path(ours), Path(theirs))
    except merge_driver.BrokenSide as exc:
        return Output(
            notes=[
                f"esc merge-file: {where}cannot merge: {exc.side} ({exc.path}) {exc.problem}"
                f"{'' if exc.unreadable else ', so it is no ticket text'}; ours is left as it "
                "was: fix that version and merge again"
            ],
            code=1,
        )
    if result.conflicts:
        what = ", ".join(result.conflicts)
        return Output(
            notes=[f"esc merge-file: {where}conflicting {what}; resolve the marked lines"],
            code=1,
        )
    return Output()
