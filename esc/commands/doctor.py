"""`esc doctor`: what in this clone's setup would make esc fail where nobody watches it
(cron, CI, a merge), each problem with its fix.

It only looks: it changes no file and no setting (the one file it writes, to learn whether
a cache folder can be written, is removed at once).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from esc.commands.notify import environment_findings, outbox_problems, refused_notes
from esc.commands.session import Output, Session
from esc.domain.durations import format_duration
from esc.domain.errors import EscError, ParseError
from esc.store import atomic, git, launch, lock, merge_driver, user_cache
from esc.store.workspace import CACHE_DIR, REPORTS_DIR, Workspace

CheckName = Literal[
    "python",
    "cron",
    "maildir",
    "git",
    "merge-driver",
    "identity",
    "signing",
    "remote",
    "branch",
    "git-state",
    "index-lock",
    "lock",
    "cache",
    "user-cache",
    "refused-mail",
    "config",
    "notify",
    "reports",
    "attachments",
]
MIN_PYTHON = (3, 10)  # setup.cfg's python_requires
STALE_LOCK = dt.timedelta(hours=1)  # a lock held longer than this: a hung process?
INSTALL_GIT = "esc install-git"


@dataclass
class Check:
    """One thing looked at: what was found, and if it is a problem, how to fix it."""

    name: CheckName
    detail: str
    fix: str | None = None  # None: nothing to do
    advice: bool = False  # a fix worth knowing that is not a problem (exit 0)

    @property
    def ok(self) -> bool:
        return self.fix is None

    @property
    def problem(self) -> bool:
        return self.fix is not None and not self.advice


def doctor(
    session: Session, remote: str, cron_path: str, as_json: bool, maildir: Path | None = None
) -> Output:
    """Every check on the workspace's clone; exit 1 if any found a problem.  ``maildir``:
    the crontab line takes that Maildir's new mail (esc intake) before it sweeps."""
    git.check_remote_name(remote)  # (a value that reaches git: never as an option)
    workspace = session.workspace
    root = workspace.root
    if maildir is not None:  # (the crontab line runs in the workspace: the folder's whole
        maildir = Path(os.path.abspath(maildir))  # path, `..` resolved, as it is from here)
    checks = [
        check_python(sys.version_info[:3], launch.interpreter()),
        check_cron(root, cron_path, maildir, remote),
    ]
    if maildir is not None:
        checks.append(check_maildir(maildir))
    if git.inside_git_work_tree(root):
        identity = check_identity(root)
        checks += [
            check_merge_driver(root),
            identity,
            *([] if identity.problem else [check_signing(root)]),
            check_remote(root, remote),
            *check_branch(root, remote),
            check_unfinished(root),
            check_index_lock(root),
        ]
        checks += check_reports(root)
    else:
        checks.append(
            Check(
                "git",
                f"{root} is not inside a git work tree: `esc sweep --commit`/`--push` and "
                "esc's merge driver need one",
                "git init (or clone your helpdesk repository), then esc install-git",
            )
        )
    checks += [check_locks(workspace, session.now), *check_caches(root)]
    checks += check_attachments(workspace)
    checks += check_config(session)
    failing, unreadable = outbox_problems(session)
    if failing:
        checks.append(Check("notify", "; ".join(failing),
                            "fix the target's URL or service; later sweeps retry"))  # fmt: skip
    for line in unreadable:  # (no sweep retries it: the file itself is at fault)
        checks.append(Check("notify", line, "mend the file's JSON, or remove the file"))
    refused = refused_notes(session)
    if refused:  # (advice: nothing of esc's to mend; a person to tell another way)
        checks.append(Check("refused-mail", "; ".join(refused),
                            "write to them another way, then remove the message's file",
                            advice=True))  # fmt: skip
    problems = sum(c.problem for c in checks)
    crontab = launch.crontab_line(root, maildir, remote)
    code = 1 if problems else 0
    if as_json:
        return Output(data=doctor_json(checks, crontab), code=code)
    return Output(text=doctor_text(checks, crontab), code=code)


# ---------------------------------------------------------------- the checks


def check_config(session: Session) -> list[Check]:
    """Whether teams.yaml and rules.yaml load (else every command, cron's sweep too, stops
    at once), and whether each notify target has what it needs in this environment (a
    variable cron's environment lacks: the sweep runs, and every message to it fails)."""
    try:
        config = session.config
    except ParseError as exc:
        return [Check("config", str(exc), "fix it (esc validate lists every problem)")]
    findings = environment_findings(config, os.environ)
    if not findings:
        return []
    return [
        Check(
            "notify",
            f"{f.path}:{f.line}: {f.message}",
            "set it where cron runs esc (in the crontab, or the file it sources), or fix the URL",
        )
        for f in findings
    ]


def check_python(version: tuple[int, ...], executable: str) -> Check:
    found = f"Python {'.'.join(map(str, version))} ({executable})"
    if tuple(version[:2]) >= MIN_PYTHON:
        return Check("python", found)
    need = ".".join(map(str, MIN_PYTHON))
    return Check(
        "python",
        f"{found} is older than esc needs ({need})",
        f"install esc with Python {need} or newer (python3 -m venv .venv with a newer python3)",
    )


def check_cron(
    root: Path, cron_path: str, maildir: Path | None = None, remote: str = "origin"
) -> Check:
    """Whether a crontab line that runs plain `esc` would find this esc on ``cron_path``
    (cron's own, unless the crontab sets another).  On cron's own PATH that is advice, not
    a problem: esc installed in a venv or with pipx is never there, and the crontab line
    doctor prints names it by its absolute path; a ``--cron-path`` given (the PATH the
    crontab sets) that does not find this esc is a problem."""
    ours = launch.console_script()
    found = shutil.which("esc", path=cron_path)
    line = launch.crontab_line(root, maildir, remote)
    fix = f"name esc by its absolute path in the crontab: {line}"
    advice = cron_path == launch.CRON_PATH
    if found is None:
        return Check(
            "cron",
            f"esc is not on cron's PATH ({cron_path}): a crontab line running plain `esc` "
            "fails with `esc: not found`",
            fix,
            advice,
        )
    if ours is not None and os.path.realpath(found) == os.path.realpath(ours):
        return Check("cron", f"esc is on cron's PATH ({cron_path}): {found}")
    return Check(
        "cron",
        f"cron's PATH ({cron_path}) finds {found}, which is not this esc ({launch.esc_command()})",
        fix,
        advice,
    )


def check_reports(root: Path) -> list[Check]:
    """A note when git tracks the rendered reports (esc init git-ignores them): a sweep
    renders them again every hour and commits them only with a ticket it changed, so
    between two such commits they stay modified in the work tree, where a person's
    `git pull --rebase` refuses to start and `git commit -a` takes them."""
    try:
        files = git.tracked(root, [REPORTS_DIR])
    except git.GitError:
        return []
    if not files:
        return []
    return [
        Check(
            "reports",
            f"git tracks {REPORTS_DIR}/ ({len(files)} file{'s' if len(files) != 1 else ''}): "
            "rendered every hour, they stay modified in the work tree until a sweep commits "
            "a ticket change with them (`git pull --rebase` refuses meanwhile)",
            f"to keep them out of git: git rm -r -q --cached -- {REPORTS_DIR} && git commit -m "
            f"'reports: not versioned' (with `{REPORTS_DIR}/` in .gitignore, as esc init "
            "writes it)",
            advice=True,
        )
    ]


def check_attachments(workspace: Workspace) -> list[Check]:
    """A note for each folder of attachments no ticket has: an intake killed between
    saving a new ticket's attachments and writing the ticket (its message is taken again
    by the next intake, into a ticket of another ID), or a ticket deleted by hand."""
    orphans = workspace.attachments_without_ticket()
    if not orphans:
        return []
    shown = ", ".join(orphans[:5]) + (f" and {len(orphans) - 5} more" if len(orphans) > 5 else "")
    return [
        Check(
            "attachments",
            f"{shown}: no ticket has {'these folders' if len(orphans) > 1 else 'this folder'}"
            " (an intake stopped before it wrote the ticket, or the ticket was deleted)",
            f"if nobody needs {'them' if len(orphans) > 1 else 'it'}: rm -r -- "
            + " ".join(shlex.quote(path) for path in orphans[:5]),
            advice=True,
        )
    ]


def check_maildir(maildir: Path) -> Check:
    """Whether the Maildir the crontab line takes mail from is one (else intake fails in
    every run: `not a Maildir (no new/ folder)`)."""
    if (maildir / "new").is_dir():
        return Check("maildir", f"{maildir} is a Maildir")
    return Check(
        "maildir",
        f"{maildir} is not a Maildir (no new/ folder): the crontab line's intake would fail "
        "in every run",
        "give --maildir the Maildir your mail system delivers to (with new/, cur/ and tmp/)",
    )


def check_merge_driver(root: Path) -> Check:
    """Whether git merges this clone's tickets with a working esc merge driver."""
    fix = f"{INSTALL_GIT} (registers {launch.merge_driver_command()})"
    if not merge_driver.gitattributes_route_tickets(root):
        return Check(
            "merge-driver",
            f".gitattributes does not send `{merge_driver.ATTRIBUTES_PATTERN}` to esc's merge "
            "driver: git merges tickets as plain text and conflicts on concurrent edits",
            f"{INSTALL_GIT}, then commit .gitattributes",
        )
    given = merge_driver.ticket_merge(root)
    if given is not None and given != merge_driver.DRIVER:
        what = (  # (`-merge`, `binary`: git merges nothing, and keeps ours, unmarked)
            "git would not merge tickets at all: a ticket both sides changed is a conflict "
            "whose file holds ours alone, with no markers for `esc validate` to find"
            if given in ("unset", "binary")
            else "git would merge two values of one field into a ticket that does not parse"
        )
        return Check(
            "merge-driver",
            f"git gives tickets merge={given}, not esc's driver: a line of a .gitattributes "
            f"overrides `{merge_driver.ATTRIBUTES_LINE}` (such as `*.md merge=union` or "
            f"`*.md binary` after it), and {what}",
            f"remove that line (`git check-attr -a -- tickets/T-0.md` shows what applies), "
            f"or {INSTALL_GIT}, which makes esc's line win in this clone",
        )
    driver = merge_driver.configured_driver(root)
    if driver is None:
        return Check(
            "merge-driver",
            "this clone has no merge driver for tickets (no merge.esc.driver in its git "
            "config; git does not copy config to clones): git merges tickets as plain text",
            fix,
        )
    try:
        words = shlex.split(driver)
    except ValueError:
        words = []
    if "merge-file" not in words[1:]:
        return Check("merge-driver", f"merge.esc.driver is `{driver}`, not esc's merge-file", fix)
    given_files = words[words.index("merge-file") + 1 :][:3]
    if given_files != ["%O", "%A", "%B"]:  # (`merge-file %O %A`: every merge fails on it,
        # and git keeps ours with no markers, so the other side's change is dropped)
        return Check(
            "merge-driver",
            f"merge.esc.driver is `{driver}`: esc's merge-file takes %O %A %B (the base, ours "
            "and theirs, in that order); every merge of a ticket would fail",
            fix,
        )
    program = words[0]
    if not os.path.isabs(program):
        return Check(
            "merge-driver",
            f"the merge driver (`{driver}`) finds `{program}` through PATH: where esc is not "
            f"on PATH (cron, CI, an IDE) a merge fails with `{program}: not found`",
            fix,
        )
    if not os.access(program, os.X_OK):
        return Check(
            "merge-driver",
            f"the merge driver (`{driver}`) runs {program}, which "
            + ("cannot be run" if os.path.exists(program) else "no longer exists"),
            fix,
        )
    failure = merge_driver.driver_fails(words[: words.index("merge-file")])
    if failure:
        return Check("merge-driver", f"the merge driver (`{driver}`) fails: {failure}", fix)
    inner = _git_config(root, "merge.esc.recursive")
    if inner != git.INNER_MERGE:  # (a clone an older esc set up: advice, not a problem)
        return Check(
            "merge-driver",
            f"merge driver for tickets: {driver}; but merge.esc.recursive is "
            f"{f'`{inner}`' if inner else 'not set'}: a criss-cross merge (two clones that "
            "merged each other's commits) leaves conflict markers in tickets both sides only "
            f"added to (`{git.INNER_MERGE}` takes one common ancestor whole)",
            fix,
            advice=True,
        )
    return Check("merge-driver", f"merge driver for tickets: {driver}")


def check_identity(root: Path) -> Check:
    """Whether `esc sweep --commit` can commit: an identity in git config (cron and CI do
    not have this shell's GIT_AUTHOR_* variables)."""
    values = {key: _git_config(root, key) for key in ("user.name", "user.email")}
    missing = [key for key, value in values.items() if not value]
    if missing:
        return Check(
            "identity",
            f"no git identity: {' and '.join(missing)} not set in git config, so "
            "`esc sweep --commit` cannot commit",
            'git config user.name "esc sweep" && git config user.email "esc-sweep@example.com"'
            " (in this clone; --global for every repository of this user)",
        )
    return Check("identity", f"git identity: {values['user.name']} <{values['user.email']}>")


def check_signing(root: Path) -> Check:
    """Whether the commits `esc sweep --commit` makes can be signed, where the clone signs
    its commits (``commit.gpgsign``): with no key cron can use, every committing sweep
    failed, and nothing said why (audit helper-445)."""
    try:
        problem = git.signing_problem(root)
    except git.GitError as exc:
        problem = str(exc)
    if problem is not None:
        return Check(
            "signing",
            f"commits are signed here (commit.gpgsign) and signing failed ({problem}), so "
            "`esc sweep --commit` cannot commit",
            git.SIGNING_FIX,
        )
    return Check("signing", "commit signing: none, or it works")


def check_unfinished(root: Path) -> Check:
    """Whether a rebase, merge, cherry-pick or revert is left unfinished in the clone: a
    sweep then commits nothing (one a killed sweep left, it aborts itself)."""
    what = git.in_progress(root)
    if what is None:
        return Check("git-state", "no rebase, merge, cherry-pick or revert left unfinished")
    if what == "rebase" and (root / CACHE_DIR / git.REBASING).exists():
        return Check(
            "git-state",
            "a rebase a killed `esc sweep --push` left unfinished: the next --commit or "
            "--push sweep aborts it",
        )
    return Check(
        "git-state",
        f"a {what} is in progress: `esc sweep --commit`/`--push` commits nothing until it "
        "is done",
        f"git {what} --continue (once its conflicts are resolved) or git {what} --abort",
    )


def check_index_lock(root: Path) -> Check:
    """Whether git's ``index.lock`` is left in the clone by a git process that was killed
    (no git process runs here): every git command that writes the index fails on it, a
    sweep's commit too, until it is removed."""
    try:
        state = git.index_lock_state(root)
        lock_file = git.index_lock(root)
    except git.GitError as exc:  # (git cannot say where its folder is: other checks say why)
        return Check("index-lock", f"index.lock not looked at: {exc}")
    if state == "none":
        return Check("index-lock", "no index.lock left in the clone")
    if state == "busy":
        return Check("index-lock", f"{lock_file} is held by a git process running in the clone")
    remove = f"rm -f -- {shlex.quote(str(lock_file))}"
    if state == "unknown":
        return Check(
            "index-lock",
            f"{lock_file} exists: a git command is running in the clone, or one was killed "
            "while it ran, and every commit (a sweep's too) fails until it is removed",
            f"once no git process runs in this clone: {remove}",
        )
    cache = root / CACHE_DIR
    killed = (cache / git.SWEEP_GIT).exists() or (cache / git.REBASING).exists()
    also = " (a killed sweep's: the next --commit or --push sweep removes it)" if killed else ""
    return Check(
        "index-lock",
        f"{lock_file} was left by a git process that was killed (none runs in the clone): "
        f"every commit (a sweep's too) and rebase fails until it is removed{also}",
        remove,
    )


def check_remote(root: Path, remote: str) -> Check:
    """Whether `esc sweep --push` has a remote to push to, and can read it without a
    prompt (its URL is not shown: it may hold a token)."""
    remotes = git.run(root, "remote").stdout.decode("utf-8", "replace").split()
    named = remote in remotes
    if named or git.is_url_or_path(remote):  # (a URL or a path given as --remote, as the
        # sweep takes it: read as a remote's is)
        why = git.unreachable(root, remote)
        what = f"git remote `{remote}`" if named else f"`{remote}`"
        if why is not None:
            check_url = f" (git remote get-url -- {shlex.quote(remote)})" if named else ""
            return Check(
                "remote",
                f"{what} cannot be read: {why}",
                f"check its URL{check_url} and that this user reaches it without a prompt "
                "(an SSH key without a passphrase, or a credential helper)",
            )
        return Check("remote", f"{what} for `esc sweep --push`, reached")
    others = f" (this clone has {', '.join(remotes)}: give sweep --remote)" if remotes else ""
    return Check(
        "remote",
        f"no git remote `{remote}`: `esc sweep --push` has nowhere to push{others}",
        f"git remote add {shlex.quote(remote)} URL",
    )


def check_branch(root: Path, remote: str) -> list[Check]:
    """Whether the clone's branch holds commits the remote's branch lacks that conflict
    with the remote's own (as of the last fetch): a `sweep --push` then fails on every run
    until someone resolves the conflict (unless they are only a sweep's own rewrites of
    tickets, which it takes back itself).  Commits merely not pushed yet are told, and are
    no problem: the next `--push` sweep pushes them."""
    branch = git.branch_of_head(root)
    if git.commit_of(root, "HEAD") is None:  # (said: every sweep --push failed on it, and
        # every --commit sweep left every ticket "not committed yet"; audit helper-429)
        return [Check("branch", "this clone has no commit yet: `sweep --commit` commits no"
                      " ticket nobody committed, and `sweep --push` has nothing to push",
                      "commit the workspace: git add -A && git commit")]  # fmt: skip
    # (the crontab line's `sweep --push` fails on every run, and doctor said "no problems":
    # a detached HEAD, or a branch the remote lacks while it has others; audit helper-433)
    if branch is None and git.in_progress(root) is None:  # (a rebase's detached HEAD:
        # the unfinished rebase is the problem, said by check_unfinished)
        return [Check("branch", "this clone is on no branch (a detached HEAD): `sweep --push`"
                      " needs the branch to push to", "pass --branch NAME in the crontab"
                      " line, or check out the branch: git switch main")]  # fmt: skip
    if branch is None:
        return []
    ref = f"refs/remotes/{remote}/{branch}"
    if git.run(root, "rev-parse", "--verify", "--quiet", ref).returncode:
        others = git.run(root, "for-each-ref", "--format=%(refname:lstrip=3)",
                         f"refs/remotes/{remote}/").stdout.decode().split()  # fmt: skip
        others = [name for name in others if name != "HEAD"]
        if others:
            return [Check("branch", f"{remote} has no branch {branch} (it has"
                          f" {', '.join(others[:5])}): every `sweep --push` stops there",
                          f"push the branch once by hand (git push -u -- {remote} {branch}),"
                          " or pass --branch in the crontab line")]  # fmt: skip
        return []  # (an empty remote: the first push makes the branch)
    ahead, behind = (
        int(git.run(root, "rev-list", "--count", *spec).stdout.decode() or 0)
        for spec in (["HEAD", f"^{ref}"], [ref, "^HEAD"])
    )
    where = f"{remote}/{branch}"
    if not ahead:
        return [Check("branch", f"{branch} has no commit {where} lacks (as of the last fetch)")]
    told = f"{branch} has {ahead} commit{'s' if ahead != 1 else ''} {where} lacks"
    if behind:
        with tempfile.TemporaryDirectory(prefix="esc-doctor-") as scratch:
            # (merged as the sweep's rebase merges: tickets with esc's driver, installed or
            # not; its settings' file kept outside the clone, which doctor leaves as it is)
            settings = git.merge_settings(Path(scratch))
            merged = git.run(root, *settings, "merge-tree", "--write-tree", "--name-only",
                             "--no-messages", "-z", ref, "HEAD")  # fmt: skip
        if merged.returncode == 1:  # (conflicts: their paths after the tree's id; 0: none;
            # else git cannot tell, one older than 2.38: not said)
            paths = [p for p in merged.stdout.decode("utf-8", "replace").split("\0")[1:] if p]
            named = ", ".join(paths[:3]) + (" …" if len(paths) > 3 else "")
            subjects = git.run(root, "log", "--format=%s", "HEAD", f"^{ref}", "--", *paths)
            if subjects.returncode == 0 and all(
                line.startswith(git.SWEEP_SUBJECT)
                for line in subjects.stdout.decode("utf-8", "replace").splitlines()
            ) and _as_sweeps_write(root, ref, paths):  # (only sweeps' commits changed them,
                # and only as a sweep writes: the next --push sweep takes back what they
                # wrote, and makes it again on the remote's; a message intake took, which
                # a sweep's commit holds too, it never takes back: the cron's every push
                # stopped there while doctor said it would mend itself)
                return [Check(
                    "branch",
                    f"{told}, which conflict{'s' if ahead == 1 else ''} with the {behind} it "
                    f"has that {branch} lacks (as of the last fetch), in {named}: sweeps' "
                    "commits, whose own rewrites the next `esc sweep --push` takes back and "
                    "makes again on the remote's tickets (one that also holds a message "
                    "intake took stays a conflict to resolve)",
                    f"esc sweep --commit --push; if it still cannot rebase: git pull --rebase "
                    f"-- {shlex.quote(remote)} {shlex.quote(branch)}, resolve, and push",
                    advice=True,
                )]  # fmt: skip
            return [Check(
                "branch",
                f"{told}, which conflict{'s' if ahead == 1 else ''} with the {behind} it has "
                f"that {branch} lacks (as of the last fetch), in {named}: each `esc sweep "
                "--push` fails to rebase until that is resolved",
                f"git pull --rebase -- {shlex.quote(remote)} {shlex.quote(branch)}, resolve "
                "the conflict, and push",
            )]  # fmt: skip
    return [Check("branch", f"{told} (as of the last fetch): the next `esc sweep --push` "
                  "pushes them")]  # fmt: skip


def _as_sweeps_write(root: Path, upstream: str, paths: list[str]) -> bool:
    """Whether the next ``sweep --push`` takes back each ticket of ``paths`` (relative to
    the top of the work tree) itself: only sweeps' commits changed it, each as a sweep
    writes (no message intake took, no person's line)."""
    from esc.commands.sweep import taken_back_by_the_next_push  # (only on a conflict)

    try:
        workspace = Workspace(root)
        prefix = git.prefix_in_repository(root)
        if not all(p.startswith(prefix) for p in paths):
            return False
        mine = [p.removeprefix(prefix) for p in paths]
        return taken_back_by_the_next_push(workspace, upstream, mine)
    except (EscError, OSError):
        return False


def check_locks(workspace: Workspace, now: dt.datetime) -> Check:
    """Whether a lock has been held so long that its holder probably hangs (a killed
    holder's lock is released by the kernel: it never blocks anyone)."""
    held = lock.held_locks(workspace.root / CACHE_DIR)
    for path, holder, taken in held:
        age = now - dt.datetime.fromtimestamp(taken, dt.timezone.utc)
        if age >= STALE_LOCK:
            words = holder.split()
            pid = words[words.index("pid") + 1] if "pid" in words[:-1] else None
            host = words[words.index("on") + 1] if "on" in words[:-1] else None
            stop = f"kill {pid}" + (f" on {host}" if host else "") if pid else "stop it"
            return Check(
                "lock",
                f"{workspace.rel(path)} has been held for {format_duration(age)} by "
                f"{holder}: a hung process? (every esc command that needs it waits, then "
                "gives up)",
                f"if that process hangs, stop it ({stop}); its lock goes with it",
            )
    if held:
        return Check("lock", f"{len(held)} lock(s) held by running esc commands, none for long")
    return Check("lock", "no lock held")


def check_caches(root: Path) -> list[Check]:
    """Whether esc can write its workspace cache (ticket locks live there) and its cache
    in the user's home (only speed depends on that one)."""
    checks = []
    folder = root / CACHE_DIR
    reason = atomic.cannot_write_in(folder)
    if reason:
        checks.append(
            Check(
                "cache",
                f"{CACHE_DIR}/ cannot be written ({reason}): commands that write tickets "
                "cannot take their locks, and nothing is cached",
                f"make {folder} a folder that every user running esc (cron's too) can write; "
                "its tickets.sqlite is only a cache (esc rebuilds it), but its outbox and "
                "sweep-pending are state: move them along",
            )
        )
    else:
        checks.append(Check("cache", f"{CACHE_DIR}/ can be written"))
    base = user_cache.user_cache_dir()
    if base is not None:
        reason = atomic.cannot_write_in(base)
        if reason:
            checks.append(
                Check(
                    "user-cache",
                    f"esc's user cache {base} cannot be written ({reason}): esc works, but "
                    "parses teams.yaml, rules.yaml and report templates afresh every run",
                    "make it writable, or set XDG_CACHE_HOME to a folder that is",
                )
            )
        else:
            checks.append(Check("user-cache", f"user cache {base} can be written"))
    return checks


def _git_config(root: Path, key: str) -> str:
    proc = git.run(root, "config", "--get", key)
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else ""


# ---------------------------------------------------------------- what it prints


def doctor_text(checks: list[Check], crontab: str) -> str:
    lines = []
    for check in checks:
        if check.ok:
            lines.append(f"ok       {check.detail}")
        else:
            lines.append(f"{'note   ' if check.advice else 'problem'}  {check.detail}")
            lines.append(f"  fix:   {check.fix}")
    lines.append(f"crontab line for this clone: {crontab}")
    problems = sum(c.problem for c in checks)
    lines.append(f"{problems} problem{'s' if problems != 1 else ''}" if problems else "no problems")
    return "\n".join(lines) + "\n"


def doctor_json(checks: list[Check], crontab: str) -> dict[str, Any]:
    return {
        "problems": sum(c.problem for c in checks),
        "checks": [_check_json(c) for c in checks],
        "esc": launch.esc_command(),
        "crontab": crontab,
    }


def _check_json(check: Check) -> dict[str, Any]:
    return {
        "check": check.name,
        "ok": not check.problem,
        "advice": check.advice and not check.ok,
        "detail": check.detail,
        "fix": check.fix,
    }
