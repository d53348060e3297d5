"""Regular expressions that Python's engine may take minutes on.  Pure.

A rule's `/regex/` is matched against what customers write, by the sweep and by intake;
Python's ``re`` has no time limit.  It backtracks: when the rest of the pattern fails, it
tries every other way the text could have been matched so far.  Inside a repeat, a text
that can be matched in two ways at each iteration gives 2**n ways over n iterations, and
a customer's message of a few hundred characters holds a sweep for hours.

:func:`backtracks_badly` reads a pattern as ``re`` parses it and finds such a repeat, by
the characters each part may begin with and may go on with, over a sample of characters
(ASCII and a few of each kind beyond: letters, digits, spaces), each tested with ``re``
itself (flags, classes and case folding as the pattern has them).  A repeat is in danger
when, within it, a part that matches more or less (``\\w+``, ``a|aa``) is followed by a
part that may begin with a character it may go on with (``\\w+\\s?\\w``, ``[a-z]+.``),
across the end of one iteration and the start of the next too (``(a+)+``, ``(\\w+\\s?)*``),
or when two alternatives may match one text (``(a|a?)+``).  An anchor between them
(``\\b``, ``^``, ``$``) marks the one place a cut can be (a lookaround or ``\\B`` does not:
it holds inside a run), and possessive repeats and atomic groups never backtrack.  The
sample holds every character the pattern names too (``й``, ``[α-ω]``), and a part that
matches none of it counts as matching any.  It may refuse a pattern that is only slow in
theory; it says which, and a rewrite (``[\\w\\s]*``) says the same.  It does not find
every slow pattern: a repeat written out by hand (``.*a.*a.*a.*a!``) is not one; on a long
text (where it would matter) :mod:`esc.domain.linear_regex` matches without backtracking.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Characters the check tests each part against: ASCII, and beyond it letters (with case
# folding's odd ones: the long s, the Kelvin sign, the dotted I), digits, spaces, a line
# separator and an emoji.
_SAMPLE = "".join(map(chr, range(128))) + (
    "\u00a0\u00b5\u00df\u00e9\u00ff\u0130\u017f\u03a9\u0436\u0663\u1680\u2028\u212a"
    "\u3000\u4e2d\U0001f600"
)
_EVERY = frozenset(_SAMPLE)
_NONE: frozenset[str] = frozenset()
LOOP_AT = 4  # a bounded repeat of at least this many is a loop too: `(.*a){9}` is n**9
_SPELLED_UP_TO = 64  # places a fixed width is kept for (`[a-z]{9999}`: not one by one)
_NEEDS_UP_TO = 16  # characters a part must match, kept for so many places


@dataclass(frozen=True)
class _Part:
    """What the check knows of one part of a pattern (or a sequence of parts)."""

    first: frozenset[str]  # what a match that is not empty may begin with
    more: frozenset[str]  # what may begin the rest of a longer match than one it made
    chars: frozenset[str]  # every character it may match
    empty: bool  # it may match nothing
    cut: bool  # it matches nothing only at an assertion (`\b`, `$`): a place to cut
    ambiguous: bool  # it may match one text in two ways
    spelled: tuple[frozenset[str], ...] | None  # of a fixed width: each place's characters
    needs: tuple[frozenset[str], ...] = ()  # sets each of which a match takes one from
    start: frozenset[str] = _NONE  # what a match may begin with, past anchors (`\b`)


_ANCHOR = _Part(_NONE, _NONE, _NONE, True, True, False, ())
_LOOKAROUND = _Part(_NONE, _NONE, _NONE, True, False, False, ())  # (holds inside a run)


class _Danger(Exception):
    """A repeat that may backtrack without end was found."""


SRE: Any = getattr(re, "_parser", None) or importlib.import_module("sre_parse")


def parsed_pattern(pattern: str, flags: int) -> Any:
    """``pattern`` as ``re`` parses it (with ``flags``): ``re.error`` if it is none, and
    without a word of a character a later Python reads otherwise (`[[`: as Python reads it
    now, as the rule's own compile does)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return SRE.parse(pattern, flags)


def backtracks_badly(pattern: str, flags: int) -> bool:
    """Whether ``pattern`` (with ``flags``) has a repeat that may match one text in
    exponentially many ways (or, bounded, in n**10 or more)."""
    sre = SRE
    try:
        parsed = parsed_pattern(pattern, flags)
        sample = _SAMPLE + "".join(sorted(_named(sre, list(parsed)) - _EVERY))
        _Reader(sre, parsed.state, sample).sequence(list(parsed), free=True)
    except _Danger:
        return True
    except RecursionError:  # (groups nested hundreds deep: Python's own reading stops)
        return False
    except re.error:  # (not a pattern at all: compiling it says why)
        return False
    return False


class _Reader:
    """Reads ``re``'s parse of a pattern, part by part."""

    def __init__(self, sre: Any, state: Any, sample: str) -> None:
        self.sre = sre
        self.sample = sample
        self.every = frozenset(sample)
        self.unknown = _Part(self.every, _NONE, self.every, True, False, False, None,
                             start=self.every)
        self.non_boundary = getattr(sre, "AT_NON_BOUNDARY", None)
        self.times = 1  # (how many times the repeats around the part at hand may repeat it)
        self.flags: int = state.flags  # (as scoped flags, `(?i:…)`, leave them here)
        self.repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT}
        self.atoms = {sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN}
        self.atomic = getattr(sre, "ATOMIC_GROUP", None)  # (Python 3.11 and later)
        self.possessive = getattr(sre, "POSSESSIVE_REPEAT", None)
        self.compiler = getattr(re, "_compiler", None) or importlib.import_module("sre_compile")
        self.known: dict[tuple[int, str], frozenset[str]] = {}

    def sequence(self, items: Sequence[Any], free: bool) -> _Part:
        """The parts ``items`` make in a row; ``free``: nothing after them can fail (the
        end of the pattern, or parts that may match nothing: `\\s*`), so a match of them
        ends the search at once, never tried another way."""
        items = list(items)
        ends = [free] * len(items)  # (whether all after each part may match nothing)
        for at in range(len(items) - 2, -1, -1):
            ends[at] = ends[at + 1] and self.always(*items[at + 1])
        parts = [self.item(op, av, tail) for (op, av), tail in zip(items, ends, strict=True)]
        ambiguous = any(p.ambiguous for p in parts)
        for at, part in enumerate(parts):  # (a part that may go on, and what may follow it)
            if part.more and _meets(part.more, parts[at + 1 :]):
                ambiguous = True
        first: frozenset[str] = _NONE
        for part in parts:
            first |= part.first
            if not part.empty or part.cut:
                break
        start: frozenset[str] = _NONE
        for part in parts:
            start |= part.start
            if not part.empty:
                break
        more = _more_at_end(parts)
        empty = all(p.empty for p in parts)
        cut = empty and any(p.cut for p in parts)
        spelled: tuple[frozenset[str], ...] | None = ()
        for part in parts:
            if spelled is None or part.spelled is None:
                spelled = None
            else:
                spelled += part.spelled
        if spelled is not None and len(spelled) > _SPELLED_UP_TO:
            spelled = None
        chars = frozenset().union(*(p.chars for p in parts))
        needs = tuple(n for p in parts for n in p.needs)[:_NEEDS_UP_TO]
        return _Part(first, more, chars, empty, cut, ambiguous, spelled, needs, start)

    def always(self, op: Any, av: Any) -> bool:
        """Whether the part ``(op, av)`` can never fail: it may match nothing, with no
        condition (`\\s*`, `(x?)`; not `$`, a lookaround or a back reference)."""
        if op in self.repeats:
            return bool(av[0] == 0)
        if op is self.sre.SUBPATTERN:
            return all(self.always(o, a) for o, a in av[3])
        if op is self.sre.BRANCH:
            return any(all(self.always(o, a) for o, a in alternative) for alternative in av[1])
        return False

    def item(self, op: Any, av: Any, free: bool) -> _Part:
        sre = self.sre
        if op in self.atoms:
            chars = self.matched(op, av)
            return _Part(chars, _NONE, chars, False, False, False, (chars,), (chars,), chars)
        if op in self.repeats:  # (after an iteration the loop may stop, if one is enough)
            outside = self.times
            self.times = min(outside * max(av[1], 1), LOOP_AT)  # (repeats in repeats multiply)
            try:
                body = self.sequence(av[2], free and av[0] <= 1)
            finally:
                self.times = outside
            return self.repeat(av[0], av[1], body, free)
        if op is sre.SUBPATTERN:
            outside = self.flags
            self.flags = (outside | av[1]) & ~av[2]
            try:
                return self.sequence(av[3], free)
            finally:
                self.flags = outside
        if op is sre.BRANCH:
            return self.branch([self.sequence(a, free) for a in av[1]])
        if op is sre.AT:
            return _LOOKAROUND if av is self.non_boundary else _ANCHOR
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            self.sequence(av[1], True)  # (a repeat inside a lookaround backtracks too)
            return _LOOKAROUND
        if op is sre.GROUPREF_EXISTS:
            return self.branch([self.sequence(a, free) for a in av[1:] if a is not None])
        if op is not None and op in (self.atomic, self.possessive):
            # (never given back: what it matched is not tried another way once it has)
            inner = self.sequence(av if op is self.atomic else av[2], True)
            empty = inner.empty or (op is self.possessive and av[0] == 0)
            return _Part(inner.first, _NONE, inner.chars, empty, False, False, None,
                         start=inner.start)
        return self.unknown  # (a back reference: what it matches is another part's)

    def repeat(self, least: int, most: int, body: _Part, free: bool) -> _Part:
        wraps = bool(body.more & body.first)  # (an iteration may go on into the next one's)
        loop = most == self.sre.MAXREPEAT or most * self.times >= LOOP_AT
        # (one that nothing after can fail, and one iteration is enough, ends the search at
        # its first match: `/(\\w+\\s?)+/` on any text; never tried another way)
        if loop and (body.ambiguous or wraps) and not (free and least <= 1):
            raise _Danger
        ambiguous = body.ambiguous or (most > 1 and wraps)
        more = body.more | (body.first if most > least else _NONE)
        spelled = None
        width = None if most != least or body.spelled is None else len(body.spelled) * least
        if width is not None and width <= _SPELLED_UP_TO and body.spelled is not None:
            spelled = body.spelled * least
        return _Part(body.first if most else _NONE, more, body.chars, least == 0 or body.empty,
                     least > 0 and body.cut, ambiguous, spelled,
                     body.needs if least else (), body.start if most else _NONE)  # fmt: skip

    def branch(self, alternatives: list[_Part]) -> _Part:
        first = frozenset().union(*(a.first for a in alternatives))
        more = frozenset().union(*(a.more for a in alternatives))
        ambiguous = any(a.ambiguous for a in alternatives)
        for i, j in _pairs(alternatives):
            one, other = alternatives[i], alternatives[j]
            ambiguous = ambiguous or _alike(one, other)
            more |= _goes_on(one, other) | _goes_on(other, one)  # (one may match the start
            # of what the other does)
        spelled = None
        every = [a.spelled for a in alternatives if a.spelled is not None]
        if len(every) == len(alternatives) and len({len(x) for x in every}) == 1:
            spelled = tuple(frozenset().union(*at) for at in zip(*every, strict=True))
        empty = [a for a in alternatives if a.empty]
        chars = frozenset().union(*(a.chars for a in alternatives))
        start = frozenset().union(*(a.start for a in alternatives))
        return _Part(first, more, chars, bool(empty), bool(empty) and all(a.cut for a in empty),
                     ambiguous, spelled, (), start)  # fmt: skip

    def matched(self, op: Any, av: Any) -> frozenset[str]:
        """The sample characters the one-character part ``(op, av)`` matches, asked of
        ``re`` itself (every sample character, if it cannot be asked)."""
        key = (self.flags, f"{op} {av!r}")
        if key not in self.known:
            try:
                state = self.sre.State()  # (of its own: the flags where it stands)
                state.flags = self.flags
                alone = self.sre.SubPattern(state, [(op, av)])
                compiled = self.compiler.compile(alone, self.flags)
            except (AttributeError, TypeError, ValueError, IndexError, re.error):
                self.known[key] = self.every
            else:  # (none of the sample: a character beyond it, as any may be)
                tried: Iterable[str] = self.sample
                if op is self.sre.LITERAL:  # (a character and its other cases: thousands
                    c = chr(av)  # of keywords are not each tried on thousands of characters)
                    tried = {c, c.lower(), c.upper(), c.casefold(), c.swapcase(),
                             *_ODD_CASES} & self.every  # fmt: skip
                found = frozenset(c for c in tried if compiled.fullmatch(c))
                self.known[key] = found or self.every
        return self.known[key]


def _meets(more: frozenset[str], following: Sequence[_Part]) -> bool:
    """Whether a part that may go on with ``more`` may be followed by one that begins with
    one of them (past parts that may match nothing; not past an assertion)."""
    for part in following:
        if more & part.first:
            return True
        if not part.empty or part.cut:
            return False
    return False


def _more_at_end(parts: Sequence[_Part]) -> frozenset[str]:
    """What may begin the rest of a longer match of the sequence ``parts``: its last part
    going on, or, where that matched nothing, matching something, or the one before it
    going on (never past an assertion)."""
    more: frozenset[str] = _NONE
    for part in reversed(parts):
        more |= part.more
        if not part.empty or part.cut:
            break
        more |= part.first
    return more


def _alike(one: _Part, other: _Part) -> bool:
    """Whether two alternatives may match one text: of one width, place by place; else
    (not known) if they may begin alike, or both match nothing, unless one must match a
    character the other never does (`\\d+\\.\\d+` and `\\d+`)."""
    if one.spelled is not None and other.spelled is not None:
        return len(one.spelled) == len(other.spelled) and all(
            a & b for a, b in zip(one.spelled, other.spelled, strict=True)
        )
    if any(not need & other.chars for need in one.needs):
        return False
    if any(not need & one.chars for need in other.needs):
        return False
    return bool(one.start & other.start) or (one.empty and other.empty)


def _pairs(alternatives: Sequence[_Part]) -> set[tuple[int, int]]:
    """The pairs of alternatives that may begin alike, or of which one may match nothing:
    the only ones that may match one text, or one the start of the other (a list of 3,000
    keywords is not compared 4.5 million times)."""
    by_first: dict[str, list[int]] = {}
    empty = [i for i, a in enumerate(alternatives) if a.empty]
    for i, alternative in enumerate(alternatives):
        for c in alternative.start:  # (past an anchor: `\\ba` and `a` begin alike)
            by_first.setdefault(c, []).append(i)
    pairs = {(i, j) for group in by_first.values() for i in group for j in group if i < j}
    pairs |= {(min(i, j), max(i, j)) for i in empty for j in range(len(alternatives)) if i != j}
    return pairs


def _named(sre: Any, items: list[Any]) -> set[str]:
    """Every character ``items`` (re's parse) names: literals, ends of ranges, and their
    other cases, so that the sample holds them (`й`, `[α-ω]`)."""
    codes: list[int] = []
    ranges: list[tuple[int, int]] = []

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)) or type(node).__name__ == "SubPattern":
            if len(node) == 2 and (node[0] is sre.LITERAL or node[0] is sre.NOT_LITERAL):
                if isinstance(node[1], int):
                    codes.append(node[1])
                return
            if len(node) == 2 and node[0] is sre.RANGE and isinstance(node[1], tuple):
                codes.extend(c for c in node[1] if isinstance(c, int))
                if len(node[1]) == 2 and all(isinstance(c, int) for c in node[1]):
                    ranges.append((node[1][0], node[1][1]))
                return
            for child in node:
                walk(child)

    walk(items)
    named: set[str] = set()
    for code in codes:
        c = chr(code)
        named |= {c, c.lower(), c.upper(), c.casefold()}
    for low, high in ranges:  # (a digit, a space, a letter of each case, another: what a
        named |= _kinds_in(low, high)  # class like `\\d` may share with the range)
    return {c for c in named if len(c) == 1}


_ODD_CASES = "\u0130\u0131\u017f\u212a\u00b5\u03bc\u2126\u03c9\u00df"  # (İ ı ſ K µ μ Ω ω ß)
_KINDS: tuple[Callable[[str], bool], ...] = (
    str.isdecimal, str.isdigit, str.isspace, str.isupper, str.islower, str.isalpha,
    lambda c: not c.isalnum() and not c.isspace() and c != "_",
)
_SCANNED_UP_TO = 70_000  # characters of a range looked through (beyond: 64 evenly spaced)


def _kinds_in(low: int, high: int) -> set[str]:
    """The first character of each kind (:data:`_KINDS`) in the range ``low``-``high``."""
    found: set[str] = set()
    wanted = list(_KINDS)
    end = min(high, low + _SCANNED_UP_TO)
    for code in range(low, end + 1):
        c = chr(code)
        for kind in [k for k in wanted if k(c)]:
            found.add(c)
            wanted.remove(kind)
        if not wanted:
            break
    if high > end:
        step = max(1, (high - end) // 64)
        found |= {chr(code) for code in range(end, high + 1, step)}
    return found


def _goes_on(one: _Part, other: _Part) -> frozenset[str]:
    """What may follow a match of alternative ``one`` to make a match of ``other`` (one's
    text the start of other's: `a` and `aa`), as far as is known."""
    if one.empty:
        return _NONE if one.cut else other.first
    if one.spelled is not None and other.spelled is not None:
        shorter, longer = one.spelled, other.spelled
        if len(shorter) < len(longer) and all(
            a & b for a, b in zip(shorter, longer[: len(shorter)], strict=True)
        ):
            return longer[len(shorter)]
        return _NONE
    return other.chars if one.start & other.start else _NONE
