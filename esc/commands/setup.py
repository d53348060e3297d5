"""The commands that set a workspace up: init and install-git."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

from esc.commands.session import Output, Session
from esc.config.starter import STARTER_FILES, gitignore_lacks, gitignore_with_esc
from esc.domain.errors import EscError
from esc.domain.timestamps import FIRST_YEAR
from esc.store import config_versions, git, launch, merge_driver
from esc.store.names import resolved
from esc.store.workspace import CACHE_DIR, Workspace


def init(directory: str, force: bool) -> Output:
    """Starter teams.yaml, rules.yaml, tickets/, .gitignore and .gitattributes (those two
    added to, never overwritten: they hold the repository's other lines); inside a git work
    tree, esc's merge driver registered too."""
    workspace = Workspace(resolved(Path(directory), "the folder"))
    kept = (".gitattributes", ".gitignore")
    starters = {name: text for name, text in STARTER_FILES.items() if name not in kept}
    # (a link to nowhere is there too: written over, it was replaced by a file)
    existing = [name for name in starters if os.path.lexists(workspace.root / name)]
    if existing and not force:
        are = "already exists" if len(existing) == 1 else "already exist"
        raise EscError(f"{', '.join(existing)} {are} in {directory}; use --force to overwrite")
    _require_room(workspace.root, directory, [*starters, f"{CACHE_DIR}/"])
    attributes = merge_driver.gitattributes_text(workspace.root)  # (read before any write)
    ignored = gitignore_with_esc(workspace.read_text_file(".gitignore"))
    for name, text in starters.items():
        workspace.write_new_file(name, text, force=True)
    if ignored is not None:
        workspace.write_new_file(".gitignore", ignored, force=True)
    if attributes is not None:
        merge_driver.write_gitattributes(workspace.root, attributes)
    _mark_blocks_since_the_start(workspace)
    lines = [f"esc workspace ready in {workspace.root}"]
    if git.inside_git_work_tree(workspace.root):
        merge_driver.configure_git(workspace.root)
        lines.append("git merge driver for tickets/*.md registered (merge.esc in the git config)")
        return Output(text="\n".join(lines) + "\n")
    return Output(
        text="\n".join(lines) + "\n",
        notes=[
            "not in a git repository: after `git init`, run `esc install-git` to register "
            "esc's merge driver for tickets"
        ],
    )


def _require_room(root: Path, directory: str, names: Iterable[str]) -> None:
    """EscError, before anything is written, if a starter file cannot go where it goes: a
    file where its folder goes (`tickets` a file: teams.yaml and rules.yaml were written,
    then init failed, and a second init refused them as existing: audit helper-406), or a
    folder where it goes."""
    for name in names:
        parts = Path(name).parts
        for depth in range(1, len(parts) + name.endswith("/")):
            folder = root.joinpath(*parts[:depth])
            if os.path.lexists(folder) and not folder.is_dir():
                shown = Path(directory, *parts[:depth])
                raise EscError(f"{shown} is a file where esc keeps a folder; move it away")
        if name.endswith("/"):  # (a folder esc makes: esc's cache)
            continue
        if (root / name).is_dir() and not (root / name).is_symlink():
            raise EscError(f"{Path(directory, name)} is a folder where esc writes a file; move"
                           " it away")  # fmt: skip


def _mark_blocks_since_the_start(workspace: Workspace) -> None:
    """A workspace with no ticket yet: every ticket in it will be written by this esc,
    whose sweeps write each a block, so one without a block was never swept (see
    :func:`esc.store.config_versions.blocks_since`); one that holds tickets (``--force``
    over an older workspace) may hold tickets an older esc swept."""
    if workspace.ticket_paths():
        return
    start = dt.datetime(FIRST_YEAR, 1, 1, tzinfo=dt.timezone.utc)
    config_versions.mark_blocks_since(workspace.root, start)


def install_git(session: Session) -> Output:
    """esc's merge driver registered for tickets/*.md in the workspace's repository."""
    root = session.workspace.root
    if not git.inside_git_work_tree(root):
        raise EscError(f"{root} is not inside a git work tree; run `git init` first")
    changed = merge_driver.ensure_gitattributes(root)
    before = session.workspace.read_text_file(".gitignore")
    ignored, added = gitignore_with_esc(before), gitignore_lacks(before)
    if ignored is not None:  # (a workspace made by hand, then `git init`: its cache, locks
        # and reports were committed by the first `git add -A`, as `esc init` keeps them out)
        session.workspace.write_new_file(".gitignore", ignored, force=True)
    merge_driver.configure_git(root)
    overridden = merge_driver.ticket_merge(root)
    forced = merge_driver.force_ticket_merge(root)
    done = "added" if changed else "kept"
    text = (
        f"{done} `{merge_driver.ATTRIBUTES_LINE}` in .gitattributes; "
        f"git config merge.esc.driver = {launch.merge_driver_command()}\n"
    )
    if ignored is not None:
        text += f"added {', '.join(added)} to .gitignore, as `esc init` does\n"
    if forced:  # (a line after esc's, `*.md merge=union`, or another .gitattributes)
        text += (
            f"git gave tickets merge={overridden} (a .gitattributes line overrides esc's): "
            f"added `{merge_driver.ATTRIBUTES_LINE}` to .git/info/attributes, which wins "
            "in this clone; remove the other line so that every clone merges with esc\n"
        )
    return Output(text=text)
