"""The floor of the benchmark: the least a Python program must do to look at every ticket.

    python bench/floor.py WORKSPACE

Lists WORKSPACE/tickets/, reads every ``*.md`` file and splits off its front-matter (the
text between the first two ``---`` lines), without parsing any YAML.  Any esc command that
looks at every ticket does at least this, in a process of its own, so esc's time divided
by this one's says how much esc adds.
"""

import os
import sys


def main() -> int:
    folder = os.path.join(sys.argv[1], "tickets")
    count = front_bytes = body_bytes = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".md") or name.startswith("."):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            text = handle.read()
        if not text.startswith("---\n"):
            continue
        end = text.find("\n---\n", 3)
        if end < 0:
            continue
        front, body = text[4 : end + 1], text[end + 5 :]
        count += 1
        front_bytes += len(front)
        body_bytes += len(body)
    print(f"{count} tickets, {front_bytes} bytes of front-matter, {body_bytes} bytes of body")
    return 0


if __name__ == "__main__":
    sys.exit(main())
