"""The sweep's fingerprint of a ticket file it wrote: a comment, the front-matter's last
line. Pure.

    sla:
      policy: standard
      checked: 2026-11-27T08:55:00+01:00
      resolution: {due: 2026-12-02T11:20:00+01:00, state: ok}
    # sweep fingerprint 3f2a9c0d41b7e655
    ---

A sweep that writes a ticket and leaves it at rest (no rule held back by the action limit:
``TicketPlan.at_rest``; rules that acted did so until none would) ends its front-matter
with a hash of the file's text without that line, and of esc's version, but for the ``sla:``
block's ``checked`` time and the ID on the ``id:`` line (so that sweeps at other times,
or of the same story in another clone, write the same line where the rest is the same).
While the hash matches, the file is what a sweep of this esc wrote, and a sweep without
its cache (a fresh clone, CI, a deleted ``.esc-cache``) need not plan it again while no
deadline, warning or time-based condition comes due, as a sweep with its cache need not:
:func:`esc.domain.plan.as_last_swept` asks besides that its block is what a sweep at its
``checked`` time writes (a ``checked`` moved by hand is planned).  Any other change to
the file (a person's edit, a merge, another esc command) makes the hash stale, and the
ticket is planned from its log as before: the line is never data.  Being a comment, it is
nothing to YAML: every reader of the front-matter, esc's and anyone's, sees the same
fields with it or without it.  esc's other edits leave it where it is, stale
(:func:`split_off`); a merged text has none (:func:`esc.ticketfile.merge.merge_ticket`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from esc import __version__


class _Doc(Protocol):  # (a TicketDoc, which esc.ticketfile.document defines with this)
    text: str
    front_start: int
    front_end: int
    body_start: int
    data: dict[str, Any]
    __dataclass_fields__: ClassVar[dict[str, Any]]


Doc = TypeVar("Doc", bound=_Doc)

_FORMAT = f"esc {__version__} fingerprint 2\0".encode()  # (esc's version, and this format's)


def salt_of(package: Path) -> bytes:
    """What a stamp's hash starts with: esc's version, this format's, and the content of
    every source file of the esc package at ``package``.  A text another esc stamped (an
    older one, whose checks or planning were other: a file it let through, or a rule it
    did not know, review helper-483) proves nothing to this one; every install of the same
    code, wherever it is, stamps alike."""
    digest = hashlib.sha256(_FORMAT)
    sources = (
        path for path in package.rglob("*.py")
        if not any(p.startswith((".", "__pycache__")) for p in path.relative_to(package).parts)
        and path.is_file()  # (an editor's lock file, `.#plan.py`, a dangling link: none)
    )  # fmt: skip
    for path in sorted(sources):
        digest.update(path.relative_to(package).as_posix().encode("utf-8", "surrogateescape"))
        digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


@functools.cache
def _salt() -> bytes:
    """:func:`salt_of` this esc (read once a process, when a stamp is first made or
    checked: ~2 MB of source); its version alone if its sources cannot be read."""
    try:
        return salt_of(Path(__file__).resolve().parent.parent)
    except OSError:  # pragma: no cover - an install without its sources
        return _FORMAT

MARK = "# sweep fingerprint "  # (what a text must hold to have a stamp at all: a quick test)
_DIGITS = 16  # hex digits: a 64-bit hash, against accidental matches, not forgery
_LINE = re.compile(rf"{MARK}([0-9a-f]{{{_DIGITS}}})\r?\n")


def split_off(front: str) -> tuple[str, str]:
    """The front-matter text ``front`` without the stamp that ends it, and that stamp's
    line ("" if none does): what esc edits, and what it puts back after (stale)."""
    if MARK not in front:
        return front, ""
    start = front.rfind("\n", 0, len(front) - 1) + 1
    found = _LINE.match(front, start)
    if found is None or found.end() != len(front):
        return front, ""
    return front[:start], found[0]


# The ``checked:`` line of the ``sla:`` block (one key a line, as a sweep writes it).
_CHECKED = re.compile(
    r"sla:[ \t]*(?:#[^\n]*)?\r?\n(?:[ \t]+[^\n]*\n)*?(?P<line>[ \t]+checked:[^\n]*\n)"
)
# The ID on the ``id:`` line.
_ID = re.compile(r"^id:[ \t]*", re.MULTILINE)


def _hash(doc: _Doc, text: str, end: int, gap: tuple[int, int] = (0, 0)) -> str:
    """The hash of ``doc``'s ``text`` (its front-matter ending at ``end``), without a stamp
    (``gap``: the range of ``text`` after ``end`` its stamp's line takes, if it has one):
    the first 64 bits of the SHA-256 (the fastest of hashlib's here) of the text without
    its ``checked:`` line and the ID on its ``id:`` line, after esc's version.  (No plan
    reads the ID; a ``checked`` moved by hand is found by the block it no longer fits.)
    The parts between are hashed one after another, never joined into a copy."""
    start = doc.front_start
    cuts = [gap] if gap[1] > gap[0] else []
    at = start if text.startswith("sla:", start) else text.find("\nsla:", start - 1, end) + 1
    found = _CHECKED.match(text, at, end) if at > 0 else None
    if found is not None:
        cuts.append(found.span("line"))
    ticket_id = doc.data.get("id")
    if isinstance(ticket_id, str) and ticket_id:
        line = _ID.search(text, start, end)  # (no `checked:` line is an `id:` line)
        if line is not None and text.startswith(ticket_id, line.end()):
            cuts.append((line.end(), line.end() + len(ticket_id)))
    digest = hashlib.sha256(_salt())
    kept = 0
    for cut, resume in sorted(cuts):
        digest.update(text[kept:cut].encode("utf-8", "surrogatepass"))
        kept = resume
    digest.update(text[kept:].encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:_DIGITS]


def proven(doc: _Doc) -> bool:
    """Whether ``doc`` is the text a sweep of this esc wrote and stamped (but for the
    ``checked`` time and the ID: see :func:`_hash`)."""
    text, end = doc.text, doc.front_end
    if MARK not in text:
        return False
    line = split_off(text[doc.front_start : end])[1]
    if not line:
        return False
    return _hash(doc, text, end - len(line), (end - len(line), end)) == line[len(MARK) :].rstrip()


def stamped(doc: Doc, stamp: bool = True) -> Doc:
    """``doc`` with its stamp made anew (``stamp``), or with none: the same fields, lines
    and ticket, the front-matter's last line added, replaced or taken out."""
    text, end = doc.text, doc.front_end
    old = split_off(text[doc.front_start : end])[1]
    if not stamp and not old:
        return doc
    plain = text[: end - len(old)] + text[end:]
    end -= len(old)
    nl = "\r\n" if plain.endswith("\r\n", 0, end) else "\n"
    line = f"{MARK}{_hash(doc, plain, end)}{nl}" if stamp else ""
    shift = len(line) - len(old)
    return dataclasses.replace(
        doc,
        text=plain[:end] + line + plain[end:],
        front_end=doc.front_end + shift,
        body_start=doc.body_start + shift,
    )
