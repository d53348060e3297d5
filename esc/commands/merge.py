"""`esc merge-file`: the git merge driver for ticket files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from esc.commands.session import Output
from esc.domain.errors import EscError
from esc.store import merge_driver
from esc.store.workspace import Workspace, find_root

if TYPE_CHECKING:
    from esc.commands.sweep import SweepsWrites


def merge_file(base: str, ours: str, theirs: str, path: str | None = None) -> Output:
    """Merge three versions of a ticket into ``ours``: exit 0 when clean, 1 when conflict
    markers are left for a human (``path``, the ticket's path in the work tree, names it,
    and its workspace is the one it lies in: git runs the driver at the work tree's top)."""
    where = f"{path}: " if path else ""
    try:
        judge = _GivesWay(path)
        result = merge_driver.merge_files(
            Path(base), Path(ours), Path(theirs), judge, judge.unswept
        )
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
    if result.replayed is not None and result.kept_own:
        kept = "theirs" if result.replayed == "ours" else "ours"
        return Output(
            notes=[
                f"esc merge-file: {where}took {kept} with {result.replayed}' own changes, "
                f"not {result.replayed}' sweep's rewrite, which never saw {kept}' change "
                "before it; the next `esc sweep` replays from there"
            ]
        )
    if result.replayed is not None:
        kept = "theirs" if result.replayed == "ours" else "ours"
        return Output(
            notes=[
                f"esc merge-file: {where}took {kept} whole: {result.replayed} is a sweep's "
                f"rewrite that never saw {kept}' change before it; the next `esc sweep` "
                "replays from there"
            ]
        )
    return Output()


class _GivesWay:
    """:data:`esc.store.merge_driver.GivesWay` by the sweep's own test
    (:meth:`esc.commands.sweep.SweepsWrites.gives_way`), under the workspace's
    configuration; the workspace and the sweep's code loaded only when a merge asks.  No
    workspace, or one whose configuration does not load: no side gives way.  The
    workspace is the one the ticket lies in (ESC_ROOT, set for other work, is not asked:
    the merge is of this repository's files)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.loaded = False
        self.sweeps: SweepsWrites | None = None

    def __call__(self, base: str, swept: str, other: str) -> bool:
        sweeps = self._sweeps()
        if sweeps is None:
            return False
        try:
            return sweeps.gives_way(self.path or "ticket", base.encode("utf-8"), swept, other)
        except (EscError, OSError):  # (the cache of configurations unreadable: as none)
            return False

    def unswept(self, base: str, side: str, other: str) -> str | None:
        """:data:`esc.store.merge_driver.Unswept` by the sweep's own test
        (:meth:`esc.commands.sweep.SweepsWrites.unswept`)."""
        sweeps = self._sweeps()
        if sweeps is None:
            return None
        try:
            return sweeps.unswept(self.path or "ticket", base.encode("utf-8"), side, other)
        except (EscError, OSError):
            return None

    def _sweeps(self) -> SweepsWrites | None:
        if not self.loaded:
            self.loaded = True
            from esc.commands.sweep import SweepsWrites  # (the plan's code: only if asked)

            try:
                start = Path.cwd() / Path(self.path).parent if self.path else Path.cwd()
                workspace = Workspace(find_root(start))
                self.sweeps = SweepsWrites(workspace.root, workspace.config())
            except (EscError, OSError):  # (no workspace, or its files unreadable)
                self.sweeps = None
        return self.sweeps
