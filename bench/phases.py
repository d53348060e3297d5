#!/usr/bin/env python3
"""Where a sweep's work per ticket goes: the instructions of each phase of what a sweep's
worker does to a ticket, in one process, each phase counted under valgrind.

    python bench/phases.py WORKSPACE [--tickets 1000] [--workdir DIR] [--rev REV | --esc-src DIR]

The first ``--tickets`` ticket files of WORKSPACE (a workspace bench/generate.py or
bench/rewrites.py made) are copied as bench/instructions.py copies them.  Then the same
program runs six times under `valgrind --tool=cachegrind --cache-sim=no`, each time going
one phase further over every ticket (in memory, nothing written): 0 reads the files; 1
parses them (`parse_ticket`); 2 validates them against the configuration; 3 plans them at
bench/run.py's NOW (`plan`: the replay since the last sweep, the SLA clocks, the rules,
the `sla:` block); 4 makes each change in the text (`document.changed`, with its check
that the front-matter reads back as intended); 5 makes what the sweep keeps of each (the
new cache entry, the SLA as numbers, the next event).  Each phase's instructions per
ticket are its count minus the one before, divided by the tickets.

What it leaves out (the writes, locks and the hand-back to the parent process) is
~0.1-0.3 M instructions a ticket: compare with a worker's whole job in
bench/instructions.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from instructions import counting_parser, counting_setup  # noqa: E402
from run import NOW, restore  # noqa: E402

PHASES = [
    "read the files",
    "parse (parse_ticket)",
    "validate (require_valid)",
    "plan (replay, SLAs, rules, sla: block)",
    "edit and check (document.changed)",
    "cache entry, SLA numbers, next event",
]

# The program each count runs: every phase up to PHASE over every ticket of ROOT.
PROGRAM = """
import gc, os, sys
from pathlib import Path
from esc.commands.sweep import next_event
from esc.domain.plan import plan
from esc.domain.timestamps import parse_timestamp
from esc.store import cache, cache_codec
from esc.store.catalog import Catalog
from esc.store.workspace import Workspace, parse_ticket
from esc.ticketfile import document, problems

phase, root, now = int(sys.argv[1]), Path(sys.argv[2]), parse_timestamp(sys.argv[3])
workspace = Workspace(root)
config = workspace.config()
gc.disable()
files = [(p.read_bytes(), os.stat(p), p.name) for p in workspace.ticket_paths()]
if phase >= 1:
    docs = [parse_ticket(data, name) for data, _, name in files]
if phase >= 2:
    for doc in docs:
        problems.require_valid(doc, config)
if phase >= 3:
    plans = [plan(doc.ticket, config, now) for doc in docs]
if phase >= 4:
    new = [document.changed(d, p.change) if p.change else d for d, p in zip(docs, plans)]
if phase >= 5:
    for (_, st, _), doc, p in zip(files, new, plans):
        Catalog._entry(st, cache.digest(doc.text.encode()), doc.ticket)
        cache.pack(cache_codec.sla_summary(p.sla))
        cache_codec.verdict_instants(p.sla)
        cache.pack(cache_codec.cell_numbers(p.sla, p.ticket))
        next_event(p.ticket, p.sla, config, now)
"""

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count(phase: int, root: Path, env: dict[str, str]) -> int:
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-P", "-c", PROGRAM, str(phase), str(root), NOW],
        cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, check=False,
    )
    found = _REFS.search(proc.stderr)
    if proc.returncode != 0 or found is None:
        sys.exit(f"phase {phase} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return int(found[1].replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = counting_parser(__doc__)
    args = parser.parse_args(argv)
    env, label, root = counting_setup(parser, args)
    restore(root)  # (pristine: the tickets as generated, to be planned)
    tickets = len(list((root / "tickets").glob("*.md")))
    print(f"{label}; {tickets} tickets of {args.workspace}; instructions per ticket")
    before = None
    for phase, name in enumerate(PHASES):
        refs = count(phase, root, env)
        if before is None:
            print(f"  {name}: {refs / 1e9:.3f} G in all (start-up and reading)")
        else:
            print(f"  {name}: {(refs - before) / tickets / 1e6:.3f} M")
        before = refs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
