#!/usr/bin/env python3
"""How many instructions a command of esc executes: a count the machine's load does not
change, for comparing two versions of esc on a shared VM.

    python bench/instructions.py WORKSPACE [--tickets 1000] [--repeat 1] [--workdir DIR]
                                 [--rev REV | --esc-src DIR] [-- ESC ARGS...]

On this 2-vCPU VM wall-clock and even CPU seconds of the same command swing by 7-25%
from one run to the next (two runs of the same esc differed by 7% in CPU seconds), so a
change that saves 5% cannot be seen in bench/run.py's numbers.  Instructions can: the
count of one command on the same files is the same to within ~0.5% (the workers' share
of the tickets depends on timing).

WORKSPACE is a workspace bench/generate.py or bench/rewrites.py made (a git repository).
Its configuration and its first ``--tickets`` ticket files (by name) are copied into
DIR/instructions-<name>-<N>, a git repository of their own; then, ``--repeat`` times, it
is restored (pristine tickets, no reports, no cache) and the command (by default `esc
sweep --no-notify` at bench/run.py's NOW) runs under `valgrind --tool=cachegrind
--cache-sim=no`, which counts every instruction of every process.  The sweep's workers and
the process that renders its reports aside are forks, which valgrind follows; **a forked
process's count starts from its parent's count at the fork**, so the sum counts what the
parent ran before each fork more than once (~0.5-0.8 G of start-up, cache and config
per worker).  Compare the totals of two versions (the part before the forks is the same
code), or count a single process (`-- sweep --no-notify --jobs 1`).  Before the first
count, the command runs once without valgrind so that esc's configuration cache (keyed
by esc's own source files) is warm, as it is for a user.

Instructions are not time: system calls, waits and cache misses are not counted.  Use it
for the CPU work of esc's own code, beside bench/run.py for the rest.  valgrind must be
installed (Debian: `apt-get install valgrind`); it runs esc ~50x slower, hence a subset.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import NOW, esc_source, git, restore  # noqa: E402

_REFS = re.compile(r"==(\d+)== I\s+refs:\s+([\d,]+)")


def subset(source: Path, n: int, workdir: Path) -> Path:
    """DIR/instructions-<name>-<n>: ``source``'s configuration and its first n tickets,
    committed (made once; reused while ``source``'s ticket names are the same)."""
    names = sorted(p.name for p in (source / "tickets").glob("*.md"))[:n]
    root = workdir / f"instructions-{source.name}-{len(names)}"
    marker = root / ".instructions-source"
    stamp = f"{source.resolve()}\n{len(names)}\n{names[-1] if names else ''}\n"
    if marker.exists() and marker.read_text() == stamp:
        return root
    shutil.rmtree(root, ignore_errors=True)
    (root / "tickets").mkdir(parents=True)
    for name in ("rules.yaml", "teams.yaml", ".gitignore", ".gitattributes"):
        if (source / name).exists():
            shutil.copy2(source / name, root / name)
    for name in names:
        shutil.copy2(source / "tickets" / name, root / "tickets" / name)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
        "commit", "-qm", "instructions workspace")
    marker.write_text(stamp)  # (untracked: `git clean` is only run on tickets and reports)
    return root


def count(root: Path, argv: list[str], env: dict[str, str]) -> list[int]:
    """The instructions each process of one run executed, the first process first."""
    restore(root)
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         *argv],
        cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, check=False,
    )
    found = sorted(
        (int(pid), int(refs.replace(",", ""))) for pid, refs in _REFS.findall(proc.stderr)
    )
    if proc.returncode not in (0, 1) or not found:
        sys.exit(f"valgrind run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return [refs for _, refs in found]


def counting_parser(doc: str) -> argparse.ArgumentParser:
    """The arguments of a tool that counts instructions on a bench workspace's tickets
    (this one, bench/phases.py)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("workspace", type=Path, help="a workspace bench/ generated")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "esc-bench")
    parser.add_argument("--rev", help="count esc as of this git revision")
    parser.add_argument("--esc-src", help="count esc from this source tree")
    return parser


def counting_setup(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[dict[str, str], str, Path]:
    """Check that valgrind and the workspace's tickets are there (else a usage error), and
    make the esc under test and the subset of tickets: (environment, label, subset root)."""
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (Debian: apt-get install valgrind)")
    if not list((args.workspace / "tickets").glob("*.md")) or args.tickets < 1:
        parser.error(f"{args.workspace}: no tickets/*.md to count on (or --tickets < 1)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    env, label = esc_source(args, args.workdir)
    env["PYTHONHASHSEED"] = "0"  # (str hashes decide dict and set orders: fixed, for a count)
    return env, label, subset(args.workspace, args.tickets, args.workdir)


def main(argv: list[str] | None = None) -> int:
    parser = counting_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)  # (what follows is esc's)
    args = parser.parse_args(argv[:cut])
    args.esc_args = argv[cut + 1 :]
    env, label, root = counting_setup(parser, args)
    command = args.esc_args or ["sweep", "--no-notify"]
    # -P: the workspace folder is not put first on sys.path (--rev and --esc-src put the
    # esc under test first through PYTHONPATH)
    esc = [sys.executable, "-P", "-m", "esc", "--root", str(root), "--now", NOW, *command]
    restore(root)
    subprocess.run(esc, cwd=root, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)  # (esc's configuration cache)
    tickets = len(list((root / "tickets").glob("*.md")))
    print(f"{label}; {tickets} tickets of {args.workspace}; esc {' '.join(command)}")
    for run in range(1, args.repeat + 1):
        refs = count(root, esc, env)
        each = " + ".join(f"{r / 1e9:.3f}" for r in refs)
        print(f"run {run}: {sum(refs) / 1e9:.3f} G instructions ({len(refs)} processes: {each})")
    restore(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
