"""The write floor: the least a Python program must do to rewrite every ticket durably.

    python bench/write_floor.py WORKSPACE

Reads every ``tickets/*.md`` file of WORKSPACE, writes its text plus one line to a
temporary file beside it, syncs the file system once (``os.sync``), renames each
temporary file over its ticket and syncs the folder: the pattern of a sweep's batches
(write ahead, one sync, rename), without parsing, planning, locking or comparing
anything.  It rewrites the workspace: run it on a copy.  A sweep that rewrites most
tickets (the first sweep of new tickets, a cold sweep of an all-open workspace) costs
at least this, so its time divided by bench/floor.py's is the least such a sweep's
ratio can be on this machine.
"""

import os
import sys
import time


def main() -> int:
    folder = os.path.join(sys.argv[1], "tickets")
    started, cpu = time.time(), time.process_time()
    written = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".md") or name.startswith("."):
            continue
        path = os.path.join(folder, name)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        tmp = os.path.join(folder, f".{name}.write-floor.tmp")
        with open(tmp, "x", encoding="utf-8") as handle:
            handle.write(text + "\n")
        written.append((tmp, path))
    os.sync()
    for tmp, path in written:
        os.replace(tmp, path)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    print(f"{len(written)} tickets rewritten: {time.time() - started:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
