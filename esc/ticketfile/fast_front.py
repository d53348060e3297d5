"""A strict, fast reader for front-matter in the style esc writes. Pure.

esc writes one fact per line: ``key: scalar``, ``key: []``, ``key: {}``, a block list of
``  - item`` lines, or a block mapping of ``  name: value`` lines, where an item or value
is a scalar or a one-line flow mapping ``{k: v, ...}``; scalars are plain, JSON-style
double-quoted, integers, ``true``/``false``, ``null`` and ISO timestamps with an offset.
Reading that with a YAML library's constructors costs ~0.2 ms a ticket, most of a cold
sweep.

:func:`load` reads exactly that subset (and the sweep's fingerprint, a comment as the
last line: :mod:`esc.ticketfile.fingerprint`) and returns ``None``
for anything else (other comments, blank lines, other indentation, quoting styles,
anchors, floats, multi-line values, duplicate keys, unusual characters, ...), so the
caller falls back to ruamel.yaml.  Where
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

from esc.domain.timestamps import shared_zone
from esc.ticketfile import fingerprint

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

# Anything YAML treats specially outside a plain scalar's middle, or rejects outright.
_ODD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# One ``key: value`` of a flow mapping, and what follows it: a comma or the closing brace.
_FLOW_PAIR_TEXT = r'([A-Za-z_][\w\-]*): (?:("(?:[^"\\]|\\.)*")|([^,{}\[\]#"]+))'
_FLOW_PAIR = re.compile(_FLOW_PAIR_TEXT)
# What would end a plain scalar early in flow context: ": ", a final ":" or a final space.
_FLOW_PLAIN_END = re.compile(r":(?: |$)| $")
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# (an offset's minutes past 59, `+01:60`, are left to ruamel.yaml, which names the zone as
# written: a time no file may hold, found as such; read here, it was another instant)
_TIMESTAMP_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:[0-5]\d|Z)", re.ASCII)
_DATE_TEXT = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)
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
    key_lines: dict[str, int]  # top-level key -> line, in line order
    item_lines: dict[str, list[int]]  # top-level block list -> the line of each item


def load(text: str) -> Front | None:
    """The front-matter ``text`` (without its ``---`` lines), or None if outside the subset."""
    if not text.endswith("\n") or _ODD.search(text) is not None:
        return None
    text = fingerprint.split_off(text)[0]  # (the sweep's stamp, a comment: nothing to YAML)
    if not text:  # (nothing else: no mapping, as ruamel.yaml reads it; review helper-459)
        return None
    try:
        return _load(text.split("\n")[:-1])
    except (_Unsupported, ValueError, OverflowError):
        return None


def _load(lines: list[str]) -> Front:
    data: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    item_lines: dict[str, list[int]] = {}
    known = _LINES.get
    open_key: str | None = None  # a ``key:`` line whose block has not started
    items: list[Any] | None = None  # the block list being read (its item lines: ``lines``)
    mapping: dict[str, Any] | None = None  # the block mapping being read
    numbers: list[int] = []
    indent = 0  # the indentation of the block being read
    for index, line in enumerate(lines):
        kind, depth, key, value = known(line) or _line(line)
        if type(value) is _Pairs:  # (a remembered flow mapping: a new one each time)
            value = dict(value)
        if kind is _TOP:
            if key in data:
                raise _Unsupported
            key_lines[key] = index
            items = mapping = open_key = None
            if value is _OPEN:
                data[key], open_key = None, key
            elif value is _NO_ITEMS:
                data[key] = []
            elif value is _NO_PAIRS:
                data[key] = {}
            else:
                data[key] = value
        elif kind is _ITEM:
            if items is None:
                if open_key is None:  # (a block mapping's, or no block's)
                    raise _Unsupported
                items = data[open_key] = []
                numbers = item_lines[open_key] = []
                indent, open_key = depth, None
            elif depth != indent:
                raise _Unsupported
            items.append(value)
            numbers.append(index)
        else:
            if mapping is None:
                if open_key is None:  # (a block list's, or no block's)
                    raise _Unsupported
                mapping = data[open_key] = {}
                indent, open_key = depth, None
            elif depth != indent or key in mapping:
                raise _Unsupported
            mapping[key] = value
    return Front(data, key_lines, item_lines)


_TOP, _ITEM, _CHILD, _OPEN = object(), object(), object(), object()
# What a remembered ``key: []`` or ``key: {}`` line holds: a new list or mapping each time.
_NO_ITEMS, _NO_PAIRS = object(), object()
# Lines already read whose value is immutable (a scalar, or ``key:`` opening a block):
# ``status: closed``, ``  - vip``, ``  policy: standard`` recur from ticket to ticket.
_LINES: dict[str, tuple[object, int, str, Any]] = {}
_LINES_KEPT = 50_000
_IMMUTABLE = (str, int, dt.datetime, dt.date, type(None))


class _Pairs(tuple):  # type: ignore[type-arg]
    """What a remembered line holding a flow mapping of scalars holds: its pairs, made a
    new mapping each time the line is read (``  first_response: {due: ..., state: ok}``:
    a sweep writes the same deadlines into many tickets, and reads them back)."""

    __slots__ = ()


def _line(line: str) -> tuple[object, int, str, Any]:
    """One front-matter line: (kind, indent, key, value); remembered if its value is.

    A line is cut with str methods at its first ``": "`` (a key holds no colon or space),
    and the key checked against the grammar's key patterns once per key text."""
    if line[:1] != " ":
        head, colon, text = line.partition(": ")
        if colon:
            parsed = (_TOP, 0, _key_of(head, _TOP_KEYS, _TOP_KEY), _value(text))
        elif line[-1:] == ":":
            parsed = (_TOP, 0, _key_of(line[:-1], _TOP_KEYS, _TOP_KEY), _OPEN)
        else:
            raise _Unsupported
    else:
        inner = line.lstrip(" ")
        depth = len(line) - len(inner)
        if inner[:2] == "- ":
            parsed = (_ITEM, depth, "", _value(inner[2:]))
        else:
            head, colon, text = inner.partition(": ")
            if not colon:
                raise _Unsupported
            parsed = (_CHILD, depth, _key_of(head, _CHILD_KEYS, _CHILD_KEY), _value(text))
    value = parsed[3]
    if value is _OPEN or isinstance(value, _IMMUTABLE):
        kept = parsed
    elif parsed[0] is _TOP and (value == [] or value == {}):
        kept = (_TOP, 0, parsed[2], _NO_ITEMS if value == [] else _NO_PAIRS)
    elif type(value) is dict and all(isinstance(v, _IMMUTABLE) for v in value.values()):
        kept = (parsed[0], parsed[1], parsed[2], _Pairs(value.items()))
    else:
        return parsed
    if len(_LINES) >= _LINES_KEPT:
        _LINES.clear()
    _LINES[line] = kept
    return parsed


# The key of a top-level line and of a line in a block mapping (the text before its colon).
_TOP_KEY = re.compile(r"[A-Za-z_][\w\-]*")
_CHILD_KEY = re.compile(r"[A-Za-z0-9_][\w.\-]*")
_TOP_KEYS: dict[str, str] = {}  # key texts already read (keys are few: never cleared)
_CHILD_KEYS: dict[str, str] = {}
_KEYS_KEPT = 10_000


# Words YAML 1.1 readers take for booleans, which esc writes quoted, as values and as keys
# (a rule named `on` in `fired:`): a key so written is read here too.
YAML_1_1_BOOLEANS = frozenset(
    ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"]
)
_QUOTED_KEYS = {f'"{word}"': word for word in YAML_1_1_BOOLEANS}


def _key_of(text: str, known: dict[str, str], pattern: re.Pattern[str]) -> str:
    """The key ``text`` (before a colon), if ``pattern`` takes it (or it is one of the words
    esc writes quoted); else _Unsupported."""
    key = known.get(text)
    if key is None:
        quoted = _QUOTED_KEYS.get(text)
        if quoted is not None:
            return quoted
        if pattern.fullmatch(text) is None:
            raise _Unsupported
        key = _key(text)
        if len(known) < _KEYS_KEPT:
            known[text] = key
    return key


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
    inner = text[1:-1]
    pairs = inner.split(", ")
    # (plain values only, none holding a comma, bracket, brace or #: then the pairs are
    # what lies between the ", "s, as _flow_pairs would cut them, and cut here faster)
    if _FLOW_PLAIN_OUT.search(inner.replace(", ", "")) is None:
        return _plain_pairs(pairs)
    result: dict[str, Any] = {}
    for raw_key, quoted, raw in _flow_pairs(text):
        key = _key(raw_key)
        if key in result:
            raise _Unsupported
        if quoted:
            result[key] = _quoted(quoted, 0)[0]
            continue
        result[key] = _flow_plain(raw)
    return result



def _flow_plain(raw: str) -> Any:
    """A plain value of a flow mapping, as :func:`_flow_mapping` reads it."""
    value = _SCALARS.get(raw, _MISSING)
    if value is _MISSING:
        if _FLOW_PLAIN_END.search(raw) is not None:
            raise _Unsupported
        value = _plain(raw)
    return value

# What a plain value in a flow mapping does not hold (_FLOW_PAIR_TEXT); a quote starts none.
_FLOW_PLAIN_OUT = re.compile(r'[,{}\[\]#"]')


def _plain_pairs(pairs: list[str]) -> dict[str, Any]:
    """The flow mapping of ``pairs`` (each ``key: plain value``, with no character that
    _FLOW_PLAIN_OUT finds), as :func:`_flow_mapping` reads them."""
    result: dict[str, Any] = {}
    for pair in pairs:
        raw_key, colon, raw = pair.partition(": ")
        if not colon or not raw:
            raise _Unsupported
        key = _key_of(raw_key, _TOP_KEYS, _TOP_KEY)
        if key in result:
            raise _Unsupported
        result[key] = _flow_plain(raw)
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


_STAMPS: dict[str, dt.datetime] = {}


def _timestamp(text: str) -> dt.datetime:
    """A timestamp matching _TIMESTAMP_TEXT, which ruamel.yaml resolves as one (tested),
    with the shared time zone object of its offset (:func:`shared_zone`); remembered, as
    the body's times are (a ticket repeats its times: created, updated, deadlines)."""
    moment = _STAMPS.get(text)
    if moment is None:
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] == "Z" else text)
        if moment.tzinfo is not None:
            moment = shared_zone(moment)
        if len(_STAMPS) >= _SCALARS_KEPT:
            _STAMPS.clear()
        _STAMPS[text] = moment
    return moment


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
