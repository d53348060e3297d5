"""A strict, fast reader for front-matter in the style esc writes. Pure.

esc writes one fact per line: ``key: scalar``, ``key: []``, ``key: {}``, a block list of
``  - item`` lines, or a block mapping of ``  name: value`` lines, where an item or value
is a scalar or a one-line flow mapping ``{k: v, ...}``; scalars are plain, JSON-style
double-quoted, integers, ``true``/``false``, ``null`` and ISO timestamps with an offset.
Reading that with a YAML library's constructors costs ~0.2 ms a ticket, most of a cold
sweep.

:func:`load` reads exactly that subset and returns ``None`` for anything else (comments,
blank lines, other indentation, quoting styles, anchors, floats, multi-line values,
duplicate keys, unusual characters, ...), so the caller falls back to ruamel.yaml.  Where
it returns a value it is the value ruamel.yaml's safe loader gives for the same text, as
YAML 1.2 (the dialect of every file esc reads): scalars are resolved with ruamel.yaml's
own resolver, and a property test compares the two on generated and mutated front-matter
(tests/ticketfile/test_fast_front.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

# Anything YAML treats specially outside a plain scalar's middle, or rejects outright.
_ODD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_KEY_LINE = re.compile(r"([A-Za-z_][\w\-]*):(?: (.*))?")
_CHILD_LINE = re.compile(r"( +)(?:- (.*)|([A-Za-z0-9_][\w.\-]*):(?: (.*))?)")
# One ``key: value`` of a flow mapping, and what follows it: a comma or the closing brace.
_FLOW_PAIR_TEXT = r'([A-Za-z_][\w\-]*): (?:("(?:[^"\\]|\\.)*")|([^,{}\[\]#"]+))'
_FLOW_PAIR = re.compile(_FLOW_PAIR_TEXT)
# What would end a plain scalar early in flow context: ": ", a final ":" or a final space.
_FLOW_PLAIN_END = re.compile(r":(?: |$)| $")
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_TIMESTAMP_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)")
_DATE_TEXT = re.compile(r"\d{4}-\d\d-\d\d")
_STAMP_LINE = re.compile(
    r"( *)([A-Za-z_][\w\-]*): (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z))"
)
_JSON_ESCAPES = re.compile(r'\\(?:["\\bfnrt]|u(?![dD][89a-fA-F])[0-9a-fA-F]{4})')
_DECODER = json.JSONDecoder()
_BOOLS = {"true": True, "false": False}
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`=<~ ")
# Plain scalars already resolved (values are immutable): statuses, names and timestamps
# recur from ticket to ticket.  Only texts that are valid in both block and flow context
# are kept, so a hit needs no further checks.
_SCALARS: dict[str, Any] = {}
_SCALARS_KEPT = 50_000
_SAFE_ANYWHERE = re.compile(r"[^\[\]{}#]+")
_MISSING = object()


class _Unsupported(Exception):
    """The text is outside the subset: let ruamel.yaml read it."""


@dataclass
class Front:
    """A front-matter as read: the data, and 0-based line numbers of what is in it."""

    data: dict[str, Any]
    key_lines: dict[str, int]  # top-level key -> line
    item_lines: dict[str, list[int]]  # top-level block list -> the line of each item


def load(text: str) -> Front | None:
    """The front-matter ``text`` (without its ``---`` lines), or None if outside the subset."""
    if not text.endswith("\n") or _ODD.search(text) is not None:
        return None
    try:
        return _load(text.split("\n")[:-1])
    except (_Unsupported, ValueError, OverflowError):
        return None


def _load(lines: list[str]) -> Front:
    front = Front({}, {}, {})
    data = front.data
    open_key: str | None = None  # a ``key:`` line whose block has not started
    block: list[Any] | dict[str, Any] | None = None
    indent = 0
    for index, line in enumerate(lines):
        kind, depth, key, value = _LINES.get(line) or _line(line)
        if kind is _TOP:
            if key in data:
                raise _Unsupported
            front.key_lines[key] = index
            data[key] = None if value is _OPEN else value
            open_key, block = (key if value is _OPEN else None), None
        elif open_key is None:
            raise _Unsupported
        elif block is None:
            indent, block = depth, [] if kind is _ITEM else {}
            data[open_key] = block
            if kind is _ITEM:
                front.item_lines[open_key] = []
        elif depth != indent or (kind is _ITEM) != isinstance(block, list):
            raise _Unsupported
        if kind is _ITEM:
            assert isinstance(block, list) and open_key is not None
            block.append(value)
            front.item_lines[open_key].append(index)
        elif kind is _CHILD:
            assert isinstance(block, dict)
            if key in block:
                raise _Unsupported
            block[key] = value
    return front


_TOP, _ITEM, _CHILD, _OPEN = object(), object(), object(), object()
# Lines already read whose value is immutable (a scalar, or ``key:`` opening a block):
# ``status: closed``, ``  - vip``, ``  policy: standard`` recur from ticket to ticket.
_LINES: dict[str, tuple[object, int, str, Any]] = {}
_LINES_KEPT = 50_000
_IMMUTABLE = (str, int, dt.datetime, dt.date, type(None))


def _line(line: str) -> tuple[object, int, str, Any]:
    """One front-matter line: (kind, indent, key, value); remembered if its value is."""
    stamp = _STAMP_LINE.fullmatch(line)  # most lines not seen before are timestamps
    if stamp is not None:
        indent, key, value = stamp[1], _key(stamp[2]), _timestamp(stamp[3])
        return (_CHILD, len(indent), key, value) if indent else (_TOP, 0, key, value)
    if line[:1] != " ":
        match = _KEY_LINE.fullmatch(line)
        if match is None:
            raise _Unsupported
        parsed = (_TOP, 0, _key(match[1]), _OPEN if match[2] is None else _value(match[2]))
    else:
        match = _CHILD_LINE.fullmatch(line)
        if match is None:
            raise _Unsupported
        if match[2] is not None:
            parsed = (_ITEM, len(match[1]), "", _value(match[2]))
        elif match[4] is not None:
            parsed = (_CHILD, len(match[1]), _key(match[3]), _value(match[4]))
        else:
            raise _Unsupported
    if parsed[3] is _OPEN or isinstance(parsed[3], _IMMUTABLE):
        if len(_LINES) >= _LINES_KEPT:
            _LINES.clear()
        _LINES[line] = parsed
    return parsed


def _key(text: str) -> str:
    value = _SCALARS.get(text, _MISSING)
    if value is _MISSING:
        value = _plain(text)
    if not isinstance(value, str):
        raise _Unsupported
    return value


def _value(text: str) -> Any:
    """A one-line value in block context: a scalar, ``[]``, ``{}`` or a flow mapping."""
    if text == "[]":
        return []
    if text == "{}":
        return {}
    if text[:1] == "{":
        return _flow_mapping(text)
    if text[:1] == '"':
        value, end = _quoted(text, 0)
        if end != len(text):
            raise _Unsupported
        return value
    value = _SCALARS.get(text, _MISSING)
    if value is not _MISSING:
        return value
    if ": " in text or " #" in text or text.endswith((":", " ")):
        raise _Unsupported
    return _plain(text)


def _flow_mapping(text: str) -> dict[str, Any]:
    """``{k: v, k: v}`` with exactly one space after each ``:`` and ``,``."""
    if text[-1] != "}":
        raise _Unsupported
    result: dict[str, Any] = {}
    for raw_key, quoted, raw in _flow_pairs(text):
        key = _key(raw_key)
        if key in result:
            raise _Unsupported
        if quoted:
            result[key] = _quoted(quoted, 0)[0]
            continue
        value = _SCALARS.get(raw, _MISSING)
        if value is _MISSING:
            if _FLOW_PLAIN_END.search(raw) is not None:
                raise _Unsupported
            value = _plain(raw)
        result[key] = value
    return result


def _flow_pairs(text: str) -> list[tuple[str, ...]]:
    """The (key, quoted value, plain value) of each pair of ``{pair, pair}``, pair after
    pair (a pair's plain value holds no comma or brace, so there is one way to cut)."""
    pairs = []
    pos, last = 1, len(text) - 1  # after the "{"; the "}"
    while True:
        pair = _FLOW_PAIR.match(text, pos)
        if pair is None:
            raise _Unsupported
        pairs.append(pair.groups(""))
        pos = pair.end()
        if pos == last:
            return pairs
        if not text.startswith(", ", pos):
            raise _Unsupported
        pos += 2


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """A double-quoted scalar at ``pos`` whose escapes mean the same in YAML and JSON."""
    value, end = _DECODER.raw_decode(text, pos)
    if not isinstance(value, str):
        raise _Unsupported
    inner = text[pos + 1 : end - 1]
    if "\\" in inner and _JSON_ESCAPES.sub("", inner).count("\\"):
        raise _Unsupported
    return value, end


def _plain(text: str) -> Any:
    """A plain scalar, resolved as ruamel.yaml resolves it (and remembered, unless a
    timestamp)."""
    if _TIMESTAMP_TEXT.fullmatch(text):
        return _timestamp(text)
    value = _resolve(text)
    if _SAFE_ANYWHERE.fullmatch(text) and ": " not in text and text[-1] not in ": ":
        if len(_SCALARS) >= _SCALARS_KEPT:
            _SCALARS.clear()
        _SCALARS[text] = value
    return value


def _timestamp(text: str) -> dt.datetime:
    """A timestamp matching _TIMESTAMP_TEXT, which ruamel.yaml resolves as one (tested)."""
    return dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] == "Z" else text)


def _resolve(text: str) -> Any:
    if _TIMESTAMP_TEXT.fullmatch(text):
        return _timestamp(text)
    if not text or text[0] in _INDICATORS:
        raise _Unsupported
    tag = _tag_of(text)
    if tag == _STR:
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _BOOLS[text.lower()]
    if tag == _INT and _DECIMAL.fullmatch(text):
        return int(text)
    if tag == _TIMESTAMP and _DATE_TEXT.fullmatch(text):
        return dt.date.fromisoformat(text)
    raise _Unsupported


def reads_as_itself(text: str) -> bool:
    """Whether ``text``, written as a plain scalar, reads back as the string ``text``."""
    try:
        return bool(_resolve(text) == text)
    except (_Unsupported, ValueError, OverflowError):
        return False


_RESOLVER: Any = None
# The words YAML 1.2 reads as booleans or null; other plain scalars that start with a letter
# are text.  (Only these first letters have resolvers in ruamel.yaml's YAML 1.2 table.)
_WORDS = {
    "true": _BOOL, "True": _BOOL, "TRUE": _BOOL, "false": _BOOL, "False": _BOOL,
    "FALSE": _BOOL, "null": _NULL, "Null": _NULL, "NULL": _NULL,
}  # fmt: skip
_WORD_LETTERS = frozenset("tTfFnN")


def _tag_of(text: str) -> str:
    """The tag YAML 1.2 gives the plain scalar ``text``, as ruamel.yaml's resolver (which
    reads teams.yaml and rules.yaml) gives it: words and decimal integers directly (tested
    against it), anything else by asking it (imported on first use)."""
    first = text[0]
    if first.isalpha():
        return _WORDS.get(text, _STR) if first in _WORD_LETTERS else _STR
    if (_DECIMAL.fullmatch(text) and text.lstrip("+-")[:1] != "0") or text == "0":
        return _INT
    global _RESOLVER
    if _RESOLVER is None:
        from ruamel.yaml.resolver import VersionedResolver

        _RESOLVER = VersionedResolver(version=(1, 2))
    from ruamel.yaml.nodes import ScalarNode

    return str(_RESOLVER.resolve(ScalarNode, text, (True, False)))
