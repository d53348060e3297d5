"""Ticket IDs: random, so clones never need to coordinate, and resolvable by any unique prefix."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable

from esc.domain.errors import AmbiguousTicket, BadInput, TicketNotFound

# Crockford's base32 alphabet, lower case: no i, l, o or u to misread.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RANDOM_CHARS = 8  # 40 bits: two clones creating tickets concurrently practically never collide


def new_id(prefix: str, existing: Collection[str], token: Callable[[int], int]) -> str:
    """A fresh ID like ``T-4k8q2m7x`` that is not in ``existing``; ``token(n)`` draws a
    number below n (the caller's source of randomness: ``secrets.randbelow``)."""
    for _ in range(100):
        suffix = "".join(ALPHABET[token(len(ALPHABET))] for _ in range(RANDOM_CHARS))
        candidate = f"{prefix}-{suffix}" if prefix else suffix
        if candidate not in existing:
            return candidate
    raise RuntimeError("could not find a free ticket ID")  # pragma: no cover


def is_whole_id(stem: str, prefix: str) -> bool:
    """Whether ``stem`` is a whole ticket ID as :func:`new_id` makes one (its prefix, then
    :data:`RANDOM_CHARS` of the alphabet), in any case, not the start of one."""
    head = f"{prefix}-".lower() if prefix else ""
    tail = stem[len(head) :] if stem.lower().startswith(head) else ""
    return len(tail) == RANDOM_CHARS and all(c in ALPHABET for c in tail)


def normalise_ref(ref: str, prefix: str) -> str:
    """What the user typed, in the form IDs are stored: lower-case suffix, prefix added."""
    text = ref.strip()
    if text.endswith(".md"):
        text = text.rsplit("/", 1)[-1][:-3]
    if not text:
        raise BadInput("empty ticket ID")
    if prefix and text.lower().startswith(prefix.lower() + "-"):
        text = text[len(prefix) + 1 :]
    elif prefix and text.lower() == prefix.lower():
        text = ""
    return (f"{prefix}-" if prefix else "") + text.lower()


def resolve(ref: str, ids: Iterable[str], prefix: str) -> str:
    """The one ID that ``ref`` names: exact, else a unique prefix (case-insensitive).  The
    reference is read as under the current prefix and also as typed, so an ID made under an
    earlier ``id_prefix`` (``OPS-4k8q2m7x`` while the prefix is ``T``) is found the same way,
    with its prefix or, if no ID under the current one starts so, without."""
    known = list(ids)
    forms = {normalise_ref(ref, prefix).lower(), normalise_ref(ref, "").lower()}
    try:
        return _resolve(ref, forms, known)
    except TicketNotFound:
        read = {_as_crockford(form) for form in forms}  # (`O` for `0`, `l` for `1`)
        if read != forms:
            with contextlib.suppress(TicketNotFound):
                return _resolve(ref, read, known)
        near = _near(read, known)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise TicketNotFound(f"no ticket {_shown(ref)}{hint}") from None


def _shown(ref: str) -> str:
    """``ref`` as a message quotes it: a long one cut (a 5,000-character value made the
    one line of the error 5,000 characters long)."""
    if len(ref) <= SHOWN_AT_MOST:
        return repr(ref)
    return f"{ref[:SHOWN_AT_MOST]!r}… ({len(ref):,} characters)"


SHOWN_AT_MOST = 60


def _as_crockford(form: str) -> str:
    """``form`` (lower case) with the letters Crockford's base32 reads as digits in its
    random part (after the prefix's ``-``): ``o`` as ``0``, ``i`` and ``l`` as ``1``."""
    head, dash, tail = form.rpartition("-")
    return head + dash + tail.translate(_CROCKFORD)


_CROCKFORD = str.maketrans({"o": "0", "i": "1", "l": "1"})


def _near(forms: Collection[str], known: Iterable[str]) -> list[str]:
    """The IDs (at most five) that start with one of ``forms`` but for one typo: a
    character wrong, left out, added, or two neighbours swapped (a form of at least four
    characters after its prefix: any shorter one is a typo away from too many)."""
    forms = [f for f in forms if len(f.rpartition("-")[2]) >= 4]
    found = sorted(
        i for i in known
        if any(_one_typo(f, i.lower()[: len(f) + d]) for f in forms for d in (-1, 0, 1))
    )  # fmt: skip
    return found[:5] + (["..."] if len(found) > 5 else [])


def _one_typo(typed: str, meant: str) -> bool:
    if typed == meant or abs(len(typed) - len(meant)) > 1:
        return False
    if len(typed) == len(meant):
        differ = [n for n, (a, b) in enumerate(zip(typed, meant, strict=True)) if a != b]
        if len(differ) == 1:
            return True
        return (
            len(differ) == 2 and differ[1] == differ[0] + 1
            and typed[differ[0]] == meant[differ[1]] and typed[differ[1]] == meant[differ[0]]
        )  # fmt: skip
    short, long = sorted((typed, meant), key=len)
    n = next((k for k, (a, b) in enumerate(zip(short, long, strict=False)) if a != b), len(short))
    return short[n:] == long[n + 1 :]


def _resolve(ref: str, forms: set[str], known: list[str]) -> str:
    lowered: dict[str, list[str]] = {}
    for i in known:
        lowered.setdefault(i.lower(), []).append(i)
    exact = sorted({i for f in forms for i in lowered.get(f, ())})
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1 and len({i.lower() for i in exact}) == 1:  # (T-aaaa0001.md beside
        # t-AAAA0001.md: one ID twice, which `esc validate` reports; neither is "the" one)
        raise AmbiguousTicket(f"ticket ID {_shown(ref)} is ambiguous: {', '.join(exact)}")
    if ref in known:
        return ref
    matches = sorted(i for i in known if any(i.lower().startswith(f) for f in forms))
    bare = ref.strip().lower()
    if not matches and bare and "-" not in bare:  # (`zpey` for T-zpey… under `id_prefix: HD`)
        matches = sorted(i for i in known if i.lower().partition("-")[2].startswith(bare))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise TicketNotFound(f"no ticket {_shown(ref)}")
    shown = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
    raise AmbiguousTicket(f"ticket ID {_shown(ref)} is ambiguous: {shown}")
