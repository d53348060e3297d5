"""Whether a regex matches somewhere in a long text, in time linear in the text.  Pure.

Python's ``re`` backtracks: ``/error.*timeout.*retry/`` on a customer's message of 40,000
characters that never says "retry" tries every pair of places for the two ``.*`` (minutes),
and :mod:`esc.domain.slow_regex` cannot refuse every such pattern (a repeat written out by
hand).  A rule's condition asks only *whether* its pattern matches, not where, so the
pattern can be read as the automaton it stands for: every way to match is followed at once,
one character at a time (Thompson's construction, with the sets of states it reaches
remembered as they are met: a lazily built DFA), and no text costs more than a few steps a
character.

The automaton is built from the pattern as ``re`` parses it.  Each part that matches one
character (``a``, ``[^\\w-]``, ``.``, under the flags in force there: ``(?i:…)``) is asked
of ``re`` itself, one character at a time, and each anchor (``^``, ``$``, ``\\b``, ``\\A``…)
of the two characters around its place: what they accept is exactly what ``re`` accepts.
A pattern the automaton cannot stand for (a back-reference, a lookaround, an atomic group
or a possessive repeat, which change what matches; a group with ASCII or Unicode classes of
its own, `(?a:…)`, where ``re.search`` finds what ``re.match`` would not; or too many
states) has no searcher: ``re`` matches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from esc.domain.slow_regex import SRE, parsed_pattern

LONG_TEXT = 2_000  # characters: below this, ``re`` is both fast and safe enough, with
# one unbounded repeat (`\d+`); with more (`a.*b.*c`: n**3 ways to try), below a quarter
# of it for each more, down to SHORT_TEXT.  (With none, ``re`` takes time linear in the
# text, and a fraction of the automaton's: it is searched by ``re`` at any length.)
SHORT_TEXT = 64
NEVER = 1 << 62  # (the length from which a text is long for a pattern ``re`` searches alone)
_MAX_NODES = 2_000  # automaton states (a counted repeat is written out: `(ab){500}`)
_MAX_BUILT = 20_000  # parts read while building it (`(?:){4294967294}` makes no state)
_MAX_SETS = 5_000  # sets of states remembered before the memory starts afresh
_MAX_HELD = 200_000  # states held in those sets and in the steps remembered, likewise
_MAX_REMEMBERED = 100_000  # steps, characters tested, or places' anchors remembered
_KEPT = 20_000  # states a searcher keeps remembered from one text to the next

# the letters of the flags a group may turn on or off (`(?a-i:…)`)
_LETTERS = {"a": re.ASCII, "i": re.IGNORECASE, "L": re.LOCALE, "m": re.MULTILINE,
            "s": re.DOTALL, "u": re.UNICODE, "x": re.VERBOSE}  # fmt: skip
_ANCHORS = {
    "AT_BEGINNING": "^",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END": "$",
    "AT_END_STRING": r"\Z",
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
}
_CLASSES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}


class _Unsupported(Exception):
    """The pattern holds a part the automaton cannot stand for."""


def search(pattern: re.Pattern[str], text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text`` (``pattern.search``), in time
    linear in ``text`` when it is long (for the pattern: see LONG_TEXT) and the pattern
    has a searcher."""
    if len(text) >= SHORT_TEXT:
        long, found = _searcher(pattern)
        if found is not None and len(text) >= long:
            return found(text)
    return pattern.search(text) is not None


_SEARCHERS: dict[re.Pattern[str], tuple[int, Callable[[str], bool] | None]] = {}


def searcher(pattern: re.Pattern[str]) -> Callable[[str], bool] | None:
    """The linear-time ``bool(pattern.search(text))`` of ``pattern``, or None if it has
    none (see the module's documentation)."""
    return _searcher(pattern)[1]


def _searcher(pattern: re.Pattern[str]) -> tuple[int, Callable[[str], bool] | None]:
    """The pattern's searcher, and the length from which a text is long for it."""
    known = _SEARCHERS.get(pattern)
    if known is None:
        try:
            automaton = _Automaton(pattern)
        except (_Unsupported, RecursionError):  # (groups nested hundreds deep)
            known = _SEARCHERS[pattern] = (NEVER, None)
        else:
            more = max(automaton.unbounded - 1, 0)
            long = max(LONG_TEXT >> min(2 * more, 16), SHORT_TEXT)
            if not automaton.unbounded:
                long = NEVER
            known = _SEARCHERS[pattern] = (long, automaton.search)
    return known


class _Automaton:
    """The pattern's states: each one matches a character (``tests``, then goes on to
    ``outs``), or is an anchor (``anchors``: goes on if it holds), or splits (goes on to
    every one of ``outs``), or is the end (``MATCH``)."""

    MATCH = 0

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.kinds: list[str] = ["match"]
        self.outs: list[list[int]] = [[]]
        self.tests: list[int] = [-1]  # (a character state's test, else -1)
        self.anchor_of: list[int] = [-1]  # (an anchor state's anchor, else -1)
        self.char_tests: list[re.Pattern[str]] = []
        self.anchors: list[re.Pattern[str]] = []
        self._flags = pattern.flags & ~re.DEBUG  # (the pattern's own: `(?i)` too)
        self._known: dict[tuple[bool, str], int] = {}  # (an anchor?, a part's source in
        # its scopes) -> the number of its test
        self.unbounded = 0  # repeats without an upper bound, each time one is written out
        self._built = 0  # parts read
        parsed = parsed_pattern(pattern.pattern, pattern.flags)
        self.start = self._sequence(list(parsed), "", self.MATCH)
        # (what each character test said of each character, and of each anchor the
        # characters around it)
        self._said: list[dict[str, bool]] = [{} for _ in self.char_tests]
        self._held: dict[tuple[str, str, bool], int] = {}
        self._closures: dict[tuple[frozenset[int], int], tuple[int, bool]] = {}
        self._steps: dict[tuple[int, str], frozenset[int]] = {}
        self._sets: dict[frozenset[int], int] = {}
        self._set_list: list[frozenset[int]] = []
        self._size = 0  # states held in the sets and steps remembered

    # ------------------------------------------------------------------ building

    def _node(self, kind: str, outs: list[int], test: int = -1, anchor: int = -1) -> int:
        if len(self.kinds) >= _MAX_NODES:
            raise _Unsupported("too many states")
        self.kinds.append(kind)
        self.outs.append(outs)
        self.tests.append(test)
        self.anchor_of.append(anchor)
        return len(self.kinds) - 1

    def _compiled(self, source: str, scopes: str, into: list[re.Pattern[str]]) -> int:
        """The number of the test of ``source`` in the scoped flags ``scopes`` opens
        (``(?a:(?i:``): compiled as the part of the whole pattern it is, the flags
        combined as ``re`` combines them (`\\W` in `(?a:…)` is no `\\W` under re.ASCII)."""
        whole = scopes + source + ")" * scopes.count("(")
        key = (into is self.anchors, whole)
        if key not in self._known:
            into.append(re.compile(whole, self._flags))
            self._known[key] = len(into) - 1
        return self._known[key]

    def _sequence(self, items: Sequence[tuple[Any, Any]], scopes: str, after: int) -> int:
        self._built += len(items) + 1
        if self._built > _MAX_BUILT:
            raise _Unsupported("too many parts")
        node = after
        for op, arg in reversed(items):
            node = self._item(str(op), arg, scopes, node)
        return node

    def _item(self, op: str, arg: Any, scopes: str, after: int) -> int:
        if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            test = self._compiled(_one_character(op, arg), scopes, self.char_tests)
            return self._node("char", [after], test=test)
        if op == "AT":
            source = _ANCHORS.get(str(arg))
            if source is None:
                raise _Unsupported(str(arg))
            anchor = self._compiled(source, scopes, self.anchors)
            return self._node("anchor", [after], anchor=anchor)
        if op == "SUBPATTERN":
            _group, add, remove, items = arg
            if add & (re.ASCII | re.UNICODE | re.LOCALE):  # (`re.search` itself differs
                # from `re.match` at each place there: `(?a:[^\w\s])` finds no "É")
                raise _Unsupported("a group of its own ASCII or Unicode classes")
            if add or remove:
                scopes += f"(?{_letters(add)}{'-' if remove else ''}{_letters(remove)}:"
            return self._sequence(list(items), scopes, after)
        if op == "BRANCH":
            _, alternatives = arg
            starts = [self._sequence(list(a), scopes, after) for a in alternatives]
            return self._node("split", starts)
        if op in ("MAX_REPEAT", "MIN_REPEAT"):  # (greedy or lazy: alike for "whether")
            least, most, items = arg
            body = list(items)
            node = after
            if most == SRE.MAXREPEAT:
                self.unbounded += 1
                loop = self._node("split", [])
                self.outs[loop] = [self._sequence(body, scopes, loop), after]
                node = loop
            else:
                for _ in range(most - least):
                    node = self._node("split", [self._sequence(body, scopes, node), after])
            for _ in range(least):
                node = self._sequence(body, scopes, node)
            return node
        raise _Unsupported(op)  # (GROUPREF, ASSERT, ATOMIC_GROUP, POSSESSIVE_REPEAT…)

    # ------------------------------------------------------------------ searching

    def search(self, text: str) -> bool:
        try:
            return self._search(text)
        finally:
            if self._size > _KEPT:  # (what it remembers of a text is of no use for long)
                self._forget()

    def _search(self, text: str) -> bool:
        anchored = bool(self.anchors)
        kernel: frozenset[int] = frozenset()
        last = len(text) - 1
        closures, steps = self._closures, self._steps
        for i in range(len(text) + 1):
            held = self._context(text, i, last) if anchored else 0
            closure = closures.get((kernel, held))
            if closure is None:
                closure = self._closure(kernel, held)
            chars, matched = closure
            if matched:
                return True
            if i > last:
                break
            step = steps.get((chars, text[i]))
            if step is None:
                step = self._step(chars, text[i])
            kernel = step
        return False

    def _context(self, text: str, i: int, last: int) -> int:
        """Which anchors hold at place ``i`` (before ``text[i]``), as bits."""
        key = (text[i - 1] if i else "", text[i] if i <= last else "", i == last)
        bits = self._held.get(key)
        if bits is None:
            if len(self._held) > _MAX_REMEMBERED:
                self._held.clear()
            before, after, at_last = key
            # (the place between the two characters, in a text that goes on after them
            # unless ``after`` is the last: `$` holds before a last "\n" alone)
            around = before + after + ("x" if after and not at_last else "")
            bits = self._held[key] = sum(
                1 << n for n, anchor in enumerate(self.anchors)
                if anchor.match(around, len(before)) is not None
            )  # fmt: skip
        return bits

    def _closure(self, kernel: frozenset[int], held: int) -> tuple[int, bool]:
        """The character states reached from ``kernel`` (and from the start: a search may
        begin anywhere) by splits and the anchors that hold, and whether the end is."""
        if (
            len(self._closures) > _MAX_SETS
            or len(self._steps) > _MAX_REMEMBERED
            or self._size > _MAX_HELD
        ):
            self._forget()
        seen: set[int] = set()
        todo = [self.start, *kernel]
        chars: list[int] = []
        matched = False
        kinds, outs, anchor_of = self.kinds, self.outs, self.anchor_of
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            kind = kinds[node]
            if kind == "char":
                chars.append(node)
            elif kind == "split":
                todo += outs[node]
            elif kind == "anchor":
                if held >> anchor_of[node] & 1:
                    todo += outs[node]
            else:
                matched = True
        found = frozenset(chars)
        number = self._sets.get(found)
        if number is None:
            number = self._sets[found] = len(self._set_list)
            self._set_list.append(found)
            self._size += len(found)
        closure = self._closures[(kernel, held)] = (number, matched)
        self._size += len(kernel)
        return closure

    def _step(self, chars: int, character: str) -> frozenset[int]:
        """The states the character states numbered ``chars`` go on to on ``character``."""
        reached = []
        for node in self._set_list[chars]:
            test = self.tests[node]
            said = self._said[test]
            accepts = said.get(character)
            if accepts is None:
                if len(said) > _MAX_REMEMBERED:  # (a text of very many characters)
                    said.clear()
                accepts = said[character] = self.char_tests[test].fullmatch(character) is not None
            if accepts:
                reached += self.outs[node]
        step = frozenset(reached)
        if len(self._steps) <= _MAX_REMEMBERED:  # (else not kept: see _closure)
            self._steps[(chars, character)] = step
            self._size += len(step)
        return step

    def _forget(self) -> None:
        """Start the remembered sets afresh (a pattern and text that meet very many)."""
        self._closures.clear()
        self._steps.clear()
        self._sets.clear()
        self._set_list.clear()
        self._size = 0


def _one_character(op: str, arg: Any) -> str:
    """A pattern of the one character ``op``/``arg`` matches, for ``re`` to test."""
    if op == "LITERAL":
        return _char(arg)
    if op == "NOT_LITERAL":
        return f"[^{_char(arg)}]"
    if op == "ANY":
        return "."
    negated = ""
    parts = []
    for kind, value in arg:
        kind = str(kind)
        if kind == "NEGATE":
            negated = "^"
        elif kind == "LITERAL":
            parts.append(_char(value))
        elif kind == "RANGE":
            parts.append(f"{_char(value[0])}-{_char(value[1])}")
        elif kind == "CATEGORY" and str(value) in _CLASSES:
            parts.append(_CLASSES[str(value)])
        else:
            raise _Unsupported(kind)
    return f"[{negated}{''.join(parts)}]"


def _letters(flags: int) -> str:
    return "".join(letter for letter, flag in _LETTERS.items() if flags & flag)


def _char(code: int) -> str:
    return f"\\U{code:08x}"
