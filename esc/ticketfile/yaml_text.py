"""YAML text that esc writes, and surgical edits of front-matter that keep everything else.

esc never re-dumps a hand-written front-matter: it finds the exact span of the value it
changes (from the parser's marks) and rewrites only that span, so comments, key order,
quoting and odd indentation elsewhere survive byte for byte.  Every edit is verified by
parsing the result; if the result does not mean exactly what was intended the edit is
refused rather than written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import re
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from esc.domain.timestamps import plain_reason
from esc.ticketfile import fast_front

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import Node

_PLAIN = re.compile(r"[A-Za-z_][\w.@/+\-']*(?: [\w.@/+\-!?()'&%$]+)*")
# Characters YAML does not allow raw in a document, or reads as line breaks.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_PLAIN_NUMBERISH = re.compile(r"[-+]?[\d._]+|0x[\da-fA-F]+|0o[0-7]+")


# What esc reads of one YAML document (a ticket's front-matter, teams.yaml, rules.yaml):
# more is refused as a problem in the file, so a hostile file (a "billion laughs" alias
# bomb, nesting thousands deep, megabytes of front-matter) costs milliseconds, not minutes.
MAX_CHARS = 1_000_000  # characters of YAML text
MAX_ALIASES = 100  # uses of an anchor (`*name`)
MAX_NODES = 100_000  # values, counting each alias as the whole value it stands for
MAX_DEPTH = 100  # lists and mappings inside each other


def line_break_of(text: str) -> str:
    """A file's own line break: its first line's, ``\r\n`` or ``\n`` (a CRLF pasted into
    one line of a file does not change the style of the rest)."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


class EditError(Exception):
    """A surgical edit that could not be made safely."""


class YamlError(Exception):
    """Text that is not a YAML document: what is wrong, and on which line (0-based) if
    the parser knows."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        # one line: ruamel.yaml adds ``in "<unicode string>", line N`` on lines of its own
        problem = (problem.strip().splitlines() or ["not YAML"])[0]
        super().__init__(problem)
        self.problem = problem
        self.line = line


class NotAMapping(YamlError):
    """A YAML document that is not a mapping where one is needed."""


def _reader() -> YAML:
    """ruamel.yaml's safe loader: YAML 1.2, as for teams.yaml and rules.yaml (imported when
    first needed: esc's own front-matter is read without it)."""
    from ruamel.yaml import YAML

    reader = YAML(typ="safe", pure=True)
    constructor = reader.constructor
    for tag in _TEXT_TAGS:  # (a plain `=` or `<<` value: text, as YAML 1.2's core schema
        # has it; ruamel resolves them to YAML 1.1's `value` and `merge` types, for which
        # it has no constructor: "could not determine a constructor", audit helper-447.
        # `<<` as a key still merges, before any value is constructed.)
        constructor.add_constructor(tag, type(constructor).construct_yaml_str)
    return reader


_TEXT_TAGS = ("tag:yaml.org,2002:value", "tag:yaml.org,2002:merge")


def load(text: str) -> Any:
    """Parse one YAML document (YAML 1.2, ruamel.yaml)."""
    return _compose_and_load(text)[1]


def load_with_lines(text: str) -> Any:
    """One YAML document as ruamel.yaml's round-trip types, whose mappings and sequences
    know the line of each key and item (teams.yaml and rules.yaml are read so); each value
    in it a plain ``str``, ``int``, ``float`` or ``bool``, as in a ticket."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    _refuse_other_versions(text)
    _compose_and_load(text)  # (refuses a document over budget before it is constructed)
    reader = YAML(typ="rt")
    try:
        with _anchors_reused_quietly():
            return _plain_values(reader.load(text))
    except MarkedYAMLError as exc:
        raise _marked(exc) from None
    except YAMLError as exc:
        raise YamlError(str(exc), _line_of_unacceptable(text)) from None
    except (*_UNREADABLE_VALUE, TypeError):  # a value that is none, like 2026-02-30
        _compose_and_load(text)  # says which, and where
        raise YamlError("a value cannot be read") from None  # pragma: no cover


_VERSION_DIRECTIVE = re.compile(r"%YAML[ \t]+(\S*)")


def _refuse_other_versions(text: str) -> None:
    """A ``%YAML 1.1`` directive would make the parser read that file in another dialect
    (``yes`` a boolean, ``010`` eight) while every other file is YAML 1.2: refused."""
    for number, line in enumerate(text.splitlines()):
        if line.startswith(("---", "...")):
            return  # (directives come before the document)
        found = _VERSION_DIRECTIVE.match(line)
        if found and found.group(1) != "1.2":
            raise YamlError(
                f"%YAML {found.group(1)}: esc reads every file as YAML 1.2; remove the line",
                number,
            )


_STR_TAG = "tag:yaml.org,2002:str"


def _plain_values(data: Any) -> Any:
    """``data`` with each value as the plain type it is, as the safe loader reads it in a
    ticket: a ``!!str``-tagged scalar as its text (the round-trip loader keeps it as a
    TaggedScalar: `!!str 010` in teams.yaml was no string), a block scalar (``|``), a
    float or a hex number (ruamel's subclasses, which the cache's ``marshal`` refuses) as
    ``str``, ``float`` or ``int``; the mappings and lists in place, lines kept."""
    from ruamel.yaml.comments import TaggedScalar

    kind = type(data)
    if kind in (str, int, float, bool) or data is None:
        return data
    if isinstance(data, TaggedScalar):
        tag = getattr(data.tag, "value", data.tag)
        return str(data.value) if tag == _STR_TAG or tag in _TEXT_TAGS else data
    # (set past ruamel's own __setitem__, which gives a new value the old one's subclass)
    if isinstance(data, dict):
        put = OrderedDict.__setitem__ if isinstance(data, OrderedDict) else dict.__setitem__
        for key, value in data.items():
            found = _plain_values(value)
            if found is not value:
                put(data, key, found)
    elif isinstance(data, list):
        for n, value in enumerate(data):
            found = _plain_values(value)
            if found is not value:
                list.__setitem__(data, n, found)
    elif isinstance(data, str):
        return str(data)
    elif isinstance(data, float):
        return float(data)
    elif isinstance(data, int):  # (ruamel's booleans are ints too)
        from ruamel.yaml.scalarbool import ScalarBoolean

        return bool(data) if isinstance(data, ScalarBoolean) else int(data)
    return data


def read_mapping(text: str) -> tuple[dict[str, Any], dict[str, int], dict[str, list[int]]]:
    """A mapping: its data, the 0-based line of each top-level key, and the lines of the
    items of each top-level list."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    node, data = _compose_and_load(text)
    if not isinstance(data, dict) or not isinstance(node, MappingNode):
        raise NotAMapping("not a mapping", 0)
    key_lines = {str(k.value): k.start_mark.line for k, _ in node.value if hasattr(k, "value")}
    item_lines = {
        str(k.value): [item.start_mark.line for item in v.value]
        for k, v in node.value
        if isinstance(v, SequenceNode) and hasattr(k, "value")
    }
    return data, key_lines, item_lines


def field_span(text: str, key: str) -> tuple[int, int] | None:
    """Start and end offsets of the whole lines holding top-level ``key`` and its value."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    node, _ = _compose_and_load(text)
    if not isinstance(node, MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and str(k.value) == key:
            return _line_start(text, k.start_mark.index), _line_end(text, _value_end(k, v, text))
    return None


def field_texts(text: str) -> dict[str, str]:
    """The whole lines of each top-level key and its value (a comment on them included),
    from one parse; keys that are not text are left out."""
    return {key: text[start:end] for key, (start, end) in field_spans(text).items()}


def field_spans(text: str) -> dict[str, tuple[int, int]]:
    """Where the whole lines of each top-level key and its value are (as
    :func:`field_texts`), from one parse."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    node, _ = _compose_and_load(text)
    if not isinstance(node, MappingNode):
        return {}
    return {
        str(k.value): (
            _line_start(text, k.start_mark.index), _line_end(text, _value_end(k, v, text))
        )
        for k, v in node.value
        if isinstance(k, ScalarNode)
    }


def field_gaps(text: str) -> dict[str | None, str]:
    """The lines between top-level fields (:func:`field_texts`): comments and blank lines
    of their own, each run by the key that follows it (None: after the last field)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    node, _ = _compose_and_load(text)
    if not isinstance(node, MappingNode):
        return {}
    gaps: dict[str | None, str] = {}
    end = 0
    for k, v in node.value:
        start = _line_start(text, k.start_mark.index)
        if isinstance(k, ScalarNode):
            gaps[str(k.value)] = text[end:start]
        end = _line_end(text, _value_end(k, v, text))
    gaps[None] = text[end:]
    return gaps


# What ruamel.yaml raises for a scalar its tag says it cannot be: a date on February 30
# (ValueError), `!!bool maybe` (KeyError: no such boolean), `!!int ""` (IndexError).
_UNREADABLE_VALUE = (ValueError, OverflowError, KeyError, IndexError)


def _compose_and_load(text: str) -> tuple[Node | None, Any]:
    """The node tree (with marks) and the constructed data of one YAML document."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text) > MAX_CHARS:
        raise YamlError(f"too large: {len(text):,} characters (esc reads at most {MAX_CHARS:,})", 0)
    _within_flow_depth(text)
    _refuse_other_versions(text)  # (a ticket's or an article's front-matter too)
    reader = _reader()
    try:
        try:
            with _anchors_reused_quietly():
                node = reader.compose(text)
        except RecursionError:
            raise YamlError(f"nested too deeply (esc reads at most {MAX_DEPTH} levels)") from None
        if node is None:
            return None, None
        _within_budget(node)
        try:
            data = reader.constructor.construct_document(node)
        except _UNREADABLE_VALUE as exc:  # e.g. a timestamp on February 30, `!!bool maybe`
            bad = _unconstructable(node)
            kind = str(bad.tag).rsplit(":", 1)[-1]
            why = f" ({plain_reason(exc)})" if isinstance(exc, (ValueError, OverflowError)) else ""
            shown = bad.value or '""'  # (`!!int ""`)
            problem = f"{shown} is not a valid {kind}{why}"
            raise YamlError(problem, bad.start_mark.line) from None
        except TypeError as exc:  # a key no mapping can hold, deep in a tag: !!omap [{[1]: 2}]
            line = _first_tagged_collection(node)
            raise YamlError(f"a value cannot be read ({exc})", line) from None
        except AssertionError:  # (ruamel.yaml's own check: a key twice in `!!omap [a: 1, a: 2]`)
            found = _omap_duplicate(node, reader.constructor)
            key, line = found or ("", _first_tagged_collection(node))
            problem = f"an ordered map (!!omap) gives {f'key {key}' if key else 'a key'} twice"
            raise YamlError(f"{problem} (each key is given once)", line) from None
    except MarkedYAMLError as exc:
        raise _marked(exc) from None
    except YAMLError as exc:
        raise YamlError(str(exc), _line_of_unacceptable(text)) from None
    if "\\u" in text or "\\U" in text:  # (only an escape can make a surrogate)
        _pairs_joined(data)
    return node, data


def _pairs_joined(node: object) -> None:
    """Each text value below ``node`` with its UTF-16 surrogate pairs joined into the one
    character each stands for: `"\\ud83d\\ude00"` is 😀, as JSON (and Python's
    ``json.dumps``) writes it; the YAML parser read two halves, and a ticket so written was
    refused as holding "a lone surrogate" (audit helper-404).  A lone half stays, and is
    said so where the values are checked."""
    items = (
        list(node.items()) if isinstance(node, dict)
        else list(enumerate(node)) if isinstance(node, list)
        else []
    )  # fmt: skip
    for key, value in items:
        if isinstance(value, str):
            if _HIGH_SURROGATE.search(value):
                with contextlib.suppress(UnicodeError):
                    node[key] = value.encode("utf-16", "surrogatepass").decode("utf-16")  # type: ignore[index]
        else:
            _pairs_joined(value)


_HIGH_SURROGATE = re.compile("[\ud800-\udbff][\udc00-\udfff]")


@contextlib.contextmanager
def _anchors_reused_quietly() -> Iterator[None]:
    """An anchor defined again (`&m` on two teams' members) is YAML 1.2 (an alias refers
    to the latest): ruamel.yaml reads it so, but warns with a multi-line message on
    stderr, on every run."""
    from ruamel.yaml.error import ReusedAnchorWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReusedAnchorWarning)
        yield


def _marked(exc: Any) -> YamlError:
    """A parser's error at its line: where it stopped, or, for something opened and never
    closed (a quote, a ``[``) that ran to the end of the text, where that began (`title: "t`
    on line 3 was reported at the front-matter's last line)."""
    problem = str(exc.problem)
    context = str(exc.context or "")
    opened = ("quoted scalar", "flow sequence", "flow mapping")  # (a node says nothing)
    if exc.context_mark is not None and any(what in context for what in opened) and (
        "end of stream" in problem or "<stream end>" in problem
    ):
        what = context.removeprefix("while scanning ").removeprefix("while parsing ")
        return YamlError(f"{what} that begins here is never closed", exc.context_mark.line)
    mark = exc.problem_mark or exc.context_mark
    if exc.problem_mark is not None and _scanned_or_parsed(exc):
        began = _quote_run_on(exc.problem_mark.buffer, exc.problem_mark.line)
        if began is not None:  # (a closing quote left out: the parser stops lines later)
            return YamlError(
                "a quoted value that begins here is not closed on its line (further on, "
                f"where the next quote closes it: {problem})",
                began,
            )
    duplicate = _DUPLICATE.match(problem)
    if duplicate:  # (ruamel.yaml shows each value as "{}" when it is a mapping: misleading)
        problem = f"duplicate key {duplicate.group(1)} (each key is given once in a mapping)"
    return YamlError(problem, mark.line if mark is not None else None)


_DUPLICATE = re.compile(r'found duplicate key (".*?") with value ')


def _scanned_or_parsed(exc: Any) -> bool:
    """Whether the error is the scanner's or the parser's (what a quote left open makes),
    not the constructor's (a duplicate key, a bad value: said where they are)."""
    from ruamel.yaml.parser import ParserError
    from ruamel.yaml.scanner import ScannerError

    return isinstance(exc, (ScannerError, ParserError))


def _quote_run_on(text: object, stop: int) -> int | None:
    """The (0-based) line a quoted value begins on that runs over a line break and closes
    on line ``stop`` (where the parser stopped, finding what follows it wrong), if any: the
    usual sign of a closing quote left out (`note: "SLA breached}`), which the parser
    finds wrong only lines later.  A quote opens only where a value starts (`don't` in a
    plain value is none); comments are skipped."""
    if not isinstance(text, str):
        return None
    line, quote, start, last = 0, "", 0, ""  # (last: the line's last character not a space)
    n = 0
    while n < len(text) and line <= stop:
        char = text[n]
        n += 1
        if char == "\n":
            line, last = line + 1, ""
            continue
        if quote:
            if quote == '"' and char == "\\":
                line += text[n : n + 1] == "\n"  # (an escaped line break is one still)
                n += 1  # (an escape: the next character is no quote)
            elif quote == "'" and char == "'" and text[n : n + 1] == "'":
                n += 1  # ('' inside single quotes)
            elif char == quote:
                if line > start and line == stop:  # (closed where the parser stopped)
                    return start
                quote = ""
                last = char
            continue
        if char == "#" and (last == "" or text[n - 2] in " \t"):
            end = text.find("\n", n)
            n = len(text) if end < 0 else end  # (a comment, to the end of its line)
            continue
        if char in "'\"" and last in ("", ":", "-", "[", "{", ",", "?"):
            quote, start = char, line
        elif char not in " \t":
            last = char
    return None


# What YAML does not allow in a document (ruamel.yaml's reader refuses it): a control
# character but a tab and a line break (ESC, BEL, ...), DEL, the C1 controls but NEL,
# U+FFFE and U+FFFF (and the surrogates).  Named as they are, not as the complement of what
# YAML allows: the same characters (tested), compiled in a 6th of the time (4 ms, at every
# command's start).
_UNACCEPTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)


def _line_of_unacceptable(text: str) -> int | None:
    """The 0-based line of the first character YAML does not allow in ``text`` (ruamel.yaml's
    reader says which character it refused, but at no line), or None."""
    found = _UNACCEPTABLE.search(text)
    return None if found is None else text.count("\n", 0, found.start())


def _within_flow_depth(text: str) -> None:
    """Refuse brackets nested deeper than the budget before ruamel.yaml reads them: its
    scanner takes time quadratic in their depth (3,000 levels: seconds)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth, quote, line = 0, "", 0
    for char in text:
        if char == "\n":
            line += 1
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlError(f"nested too deeply (esc reads at most {MAX_DEPTH} levels)", line)
        elif char in "]}":
            depth = max(depth - 1, 0)


def _within_budget(root: Node) -> None:
    """Refuse a node tree over budget: too deep, too many aliases, or too big once every
    alias is expanded (counted without expanding anything, so a bomb costs nothing)."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    sizes: dict[int, int] = {}  # node id -> values it expands to (done)
    open_ids: set[int] = set()  # nodes whose children are being counted
    aliases = 0
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_ids.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > MAX_NODES:
                raise YamlError(
                    f"too big once its aliases are expanded: more than {MAX_NODES:,} values",
                    node.start_mark.line,
                )
            continue
        if key in sizes or key in open_ids:
            aliases += 1
            if key in open_ids:
                raise YamlError("an alias inside the value it names", node.start_mark.line)
            if aliases > MAX_ALIASES:
                raise YamlError(
                    f"too many aliases (esc reads at most {MAX_ALIASES})", node.start_mark.line
                )
            continue
        if depth > MAX_DEPTH:
            raise YamlError(
                f"nested too deeply (esc reads at most {MAX_DEPTH} levels)", node.start_mark.line
            )
        if isinstance(node, (SequenceNode, MappingNode)):
            open_ids.add(key)
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in reversed(_children(node)))
        else:
            sizes[key] = 1


def _children(node: Node) -> list[Node]:
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _unconstructable(node: Node) -> Node:
    """The first scalar under ``node`` that cannot be turned into a value (else ``node``)."""
    for scalar_node in _scalars(node):
        constructor = _reader().constructor
        try:
            constructor.construct_object(scalar_node, deep=True)
        except _UNREADABLE_VALUE:
            return scalar_node
    return node


def _first_tagged_collection(node: Node) -> int | None:
    """The 0-based line of the first ``!!omap``, ``!!pairs`` or ``!!set`` under ``node`` (the
    tags whose values ruamel.yaml builds from keys it cannot always hold), or None."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, (MappingNode, SequenceNode)):
        if str(node.tag).rsplit(":", 1)[-1] in ("omap", "pairs", "set"):
            return int(node.start_mark.line)
        children = node.value if isinstance(node, SequenceNode) else [
            child for pair in node.value for child in pair
        ]
        for child in children:
            found = _first_tagged_collection(child)
            if found is not None:
                return found
    return None


def _omap_duplicate(node: Node, constructor: Any) -> tuple[str, int] | None:
    """The first key an ``!!omap`` under ``node`` gives twice, as written (quoted as the
    parser quotes a duplicate key), and the 0-based line of its second giving; None if
    none does.  Keys are compared as ruamel.yaml compares them, by the value each stands
    for (`1` and `0x1` are one key; `1` and `"1"` are two)."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if not isinstance(node, (MappingNode, SequenceNode)):
        return None
    children = node.value if isinstance(node, SequenceNode) else [
        child for pair in node.value for child in pair
    ]
    if isinstance(node, SequenceNode) and str(node.tag).rsplit(":", 1)[-1] == "omap":
        seen: set[object] = set()
        for item in children:
            for key, _ in item.value if isinstance(item, MappingNode) else ():
                try:
                    value = constructor.construct_object(key, deep=True)
                    hash(value)
                except (*_UNREADABLE_VALUE, TypeError, YAMLError):  # (no key: not this one)
                    continue
                if (type(value), value) in seen:
                    written = key.value if isinstance(key.value, str) else str(value)
                    return json.dumps(written, ensure_ascii=False), int(key.start_mark.line)
                seen.add((type(value), value))
    for child in children:
        found = _omap_duplicate(child, constructor)
        if found is not None:
            return found
    return None


def _scalars(node: Node) -> Iterator[Node]:
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, SequenceNode):
        for child in node.value:
            yield from _scalars(child)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield from _scalars(key)
            yield from _scalars(value)


def scalar(value: object) -> str:
    """``value`` as a YAML scalar that reads back as exactly the same value."""
    if type(value) is str:  # (most values: answered first)
        return value if _is_plain_safe(value) else quote(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as a YAML scalar")
    if _is_plain_safe(value):
        return value
    return quote(value)


def quote(value: str) -> str:
    """A double-quoted string (JSON syntax) with every unprintable character escaped."""
    return _UNPRINTABLE.sub(_escape_char, json.dumps(value, ensure_ascii=False))


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@functools.lru_cache(maxsize=4096)  # (the sweep writes the same few words in every sla: block)
def _is_plain_safe(text: str) -> bool:
    if not _PLAIN.fullmatch(text) or _PLAIN_NUMBERISH.fullmatch(text):
        return False
    if text in _YAML_1_1_BOOLEANS:
        return False
    return fast_front.reads_as_itself(text)


# Words that YAML 1.1 readers (PyYAML, python-frontmatter, many static site generators)
# take for booleans, though YAML 1.2 does not: written quoted, so every reader sees text.
_YAML_1_1_BOOLEANS = fast_front.YAML_1_1_BOOLEANS


def mapping_key(name: str) -> str:
    """A mapping key that reads back as exactly ``name``: as it is when it is a plain word
    (a field's name, most rules' names), else quoted (a rule's name in `fired:` may hold
    `: `, ` #`, a tab, anything a name may, or be `7` or `true`)."""
    return name if _is_plain_key(name) else quote(str(name))


@functools.lru_cache(maxsize=4096)
def _is_plain_key(name: str) -> bool:
    # (YAML 1.1's `off`, `yes` are quoted, as such a value is: a rule named `on` was a key
    # PyYAML read as True in `fired:`; audit helper-396.  The fast reader reads plain keys
    # only: such a ticket is read by ruamel.yaml)
    return (
        bool(_PLAIN_KEY.fullmatch(name))
        and name not in _YAML_1_1_BOOLEANS
        and fast_front.reads_as_itself(name)
    )


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][\w.\-]*")  # (as fast_front reads a key)


def flow_mapping(mapping: Mapping[str, object]) -> str:
    """``{key: value, ...}`` on one line, keys in the given order."""
    return "{" + ", ".join(f"{mapping_key(k)}: {scalar(v)}" for k, v in mapping.items()) + "}"


def inline(value: object) -> str:
    """A value on one line: scalar, flow mapping or flow sequence."""
    kind = type(value)
    if kind in _SCALAR_TYPES:  # (no Mapping check: an ABC's isinstance is slow)
        return scalar(value)
    if kind is dict:
        return flow_mapping(value)  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        return flow_mapping(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return scalar(value)


_SCALAR_TYPES = frozenset({str, int, bool, type(None), dt.datetime, dt.date})


def block_value(value: object, indent: int, nl: str) -> str:
    """Text after ``key:`` for ``value``: `` scalar`` or a block of one item per line."""
    if type(value) in _SCALAR_TYPES:  # (no Mapping check: an ABC's isinstance is slow)
        return " " + scalar(value)
    if isinstance(value, (list, tuple)) and value:
        pad = " " * indent
        return "".join(f"{nl}{pad}- {inline(item)}" for item in value)
    if isinstance(value, Mapping) and value:
        pad = " " * indent
        return "".join(f"{nl}{pad}{mapping_key(k)}: {inline(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " []"
    if isinstance(value, Mapping):
        return " {}"
    return " " + scalar(value)


def _quoted_as(mark: str, value: str) -> str:
    """``value`` in the quotes a person wrote the value it replaces in: single (each ``'``
    doubled), when it holds nothing single quotes cannot write, else double."""
    if mark == "'" and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return quote(value)


def _written_before_value(old: str, nl: str) -> tuple[str, list[str]]:
    """Of a value's text after its key's colon, what a person wrote before a value on the
    lines below: the key line's own comment (``tags:   # ours``, its spacing kept) and the
    comment and blank lines before the value's first line.  Nothing for a value on the
    key's line (its comment lies after the value, and is kept as it is)."""
    if nl not in old:
        return "", []
    first, *rest = old.split(nl)
    if first.strip() and not first.lstrip().startswith("#"):
        return "", []  # (a value begun on the key's line: a block scalar's `|`, a flow)
    leading = []
    for line in rest:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        leading.append(line)
    return (first if first.strip() else ""), leading


def _comment_after(text: str, index: int) -> str:
    """The comment (with the spaces before it) that follows ``index`` on its line, if only
    a comment does; else ""."""
    rest = text[index : _line_end(text, index)].rstrip("\r\n")
    return rest if rest.lstrip().startswith("#") else ""


def _spacing_at(text: str, start: int, end: int) -> str:
    """The spaces and tabs at ``start`` (before ``end``) that a value on its key's line
    follows: "" when the value starts on the next line."""
    stop = start
    while stop < end and text[stop] in " \t":
        stop += 1
    return text[start:stop] if stop < end and text[stop] not in "\r\n" else ""


def render_mapping(data: Mapping[str, object], nl: str = "\n") -> str:
    """A whole front-matter mapping in esc's own style, one fact per line."""
    return "".join(f"{mapping_key(k)}:{block_value(v, 2, nl)}{nl}" for k, v in data.items())


@dataclass
class _Child:
    """Where a key of a block mapping sits whose value is on its key's line (offsets)."""

    line_start: int  # the start of its line
    start: int  # where its value starts
    end: int  # where its value ends (before any comment after it)
    line_end: int  # after its line's line break
    value: object  # its value as read


@dataclass
class _Slot:
    """Where a top-level key and its value sit in the text (character offsets)."""

    key_start: int
    after_colon: int  # just after the key's ':'
    end: int  # where the value's own text ends (block collections: at their last child)
    indent: int  # the indentation of the value's block children
    list_kind: str | None  # "block" / "flow": a non-empty list; "empty": [] or null
    last_item_end: int = 0  # a non-empty list: where its last item ends
    # A block mapping each of whose keys has its value on its own line (read from a
    # front-matter not in esc's own style, as one with comments), for edits line by line.
    children: dict[str, _Child] | None = None


# A front-matter that is one flow mapping (`{id: T-1, title: x}`, JSON), after any comments.
_FLOW_FRONT = re.compile(r"(?:[^\S\n]*(?:#[^\n]*)?\n)*[^\S\n]*\{")


def is_flow_front(front: str) -> bool:
    """Whether ``front`` is one flow mapping (``{id: T-1, title: x}``): it reads, but esc
    edits front-matter one key per line, and refuses to edit this."""
    return _FLOW_FRONT.match(front) is not None


class FrontMatterEditor:
    """Edits one front-matter text in place, value by value."""

    def __init__(
        self, text: str, order: Sequence[str] = (), front: fast_front.Front | None = None
    ) -> None:
        """``front`` is ``fast_front.load(text)``, if the caller has it already."""
        self._text = text
        self.order = list(order)
        self.nl = line_break_of(text)
        self._front = front
        # The slots of a front-matter in esc's own style, kept up to date edit by edit
        # rather than read again from the whole text before each edit (a sweep makes 3-4
        # edits per ticket); None: read them from the text.
        self._known: dict[str, _Slot] | None = None

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:  # (edited from outside: the slots are read again)
        self._text, self._front, self._known = value, None, None

    def _slots(self) -> dict[str, _Slot]:
        if self._known is not None:
            return self._known
        quick, self._front = self._front or fast_front.load(self.text), None
        if quick is None:
            return self._yaml_slots()
        self._known = _quick_slots(self.text, quick)
        return self._known

    def _yaml_slots(self) -> dict[str, _Slot]:
        from ruamel.yaml.nodes import MappingNode, ScalarNode

        if _FLOW_FRONT.match(self.text):  # (it reads, as YAML or JSON; esc edits by lines)
            raise EditError(
                "it is one flow mapping, {key: value, …}; esc edits front-matter written"
                " one key per line: write each key on a line of its own"
            )
        try:
            node, data = _compose_and_load(self.text)
        except YamlError as exc:
            raise EditError(f"front-matter does not parse: {exc}") from None
        if not isinstance(node, MappingNode):
            raise EditError("front-matter is not a mapping")
        slots = {}
        for k, v in node.value:
            if isinstance(k, ScalarNode):
                slots[k.value] = slot = _node_slot(k, v, self.text, self.nl)
                if not _is_alias(k, v):  # (an alias's children are the anchor's lines)
                    slot.children = _line_children(v, data.get(k.value), self.text)
        return slots

    def set(self, key: str, value: object) -> None:
        """Give top-level ``key`` the value ``value`` (adding the key if missing)."""
        slots = self._slots()
        slot = slots.get(key)
        if slot is None:
            self._insert_key(key, value, slots)
            return
        children = slot.children
        if children and isinstance(value, Mapping) and value and self._set_children(
            slot, children, value
        ):
            return
        old = self._text[slot.after_colon : slot.end]
        if slot.list_kind == "flow" and isinstance(value, list) and value and "\n" not in old:
            # (a list a person wrote on one line, `tags: [a, b]   # c`, stays on one line,
            # its comment after it: as a block the comment went to the key's line)
            new = " " + inline(value)
            self._known = None  # (read again: a flow list is not esc's own style)
        else:
            new = block_value(value, slot.indent, self.nl)
        head, leading = _written_before_value(old, self.nl)
        if head or leading:  # (a person's comments between the key and its block value stay:
            # before a block value, after one the key's line now holds)
            between = head + "".join(self.nl + line for line in leading)
            new = between + new if new.startswith(self.nl) else new + between
            self._known = None  # (not esc's own style: read again)
        elif new.startswith(self.nl) and _comment_after(self._text, slot.end):
            # (a value on the key's line made a block, `tags: []   # none` → a list: the
            # comment after it stays on the key's line, not on the block's first item)
            comment = _comment_after(self._text, slot.end)
            self._known = None  # (not esc's own style: read again)
            self._splice(slot.after_colon, slot.end + len(comment), comment + new)
            return
        elif new.startswith(" ") and self.nl not in new:  # (a value on the key's line keeps
            # the spacing a person put after the colon: `status:    new` → `status:    open`,
            # and the quotes around a text: `priority: 'high'` → `priority: 'urgent'`)
            gap = _spacing_at(self._text, slot.after_colon, slot.end)
            if isinstance(value, str) and old.lstrip()[:1] in ("'", '"'):
                new = " " + _quoted_as(old.strip()[0], value)
            if len(gap) > 1:
                new = gap + new[1:]
        self._splice(slot.after_colon, slot.end, new)
        if self._known is not None:
            self._known[key] = _set_slot(slot, value, new, self.nl, slot.indent)

    def _set_children(
        self, slot: _Slot, children: dict[str, _Child], value: Mapping[str, object]
    ) -> bool:
        """Give a block mapping of one-line values (the ``sla:`` block, say) the value
        ``value`` line by line, with its keys in ``value``'s order: a key whose value stays
        (as read) keeps its line as written, comment included; a changed value is replaced
        on its line, before its comment; a key no longer in ``value`` loses its line; a new
        key gets a line before the key that follows it.  False (nothing done) if the keys
        kept are in another order in ``value``: the block is then written whole."""
        kept = [name for name in value if name in children]
        if kept != [name for name in children if name in value]:
            return False
        edits = []
        for name, child in children.items():
            if name not in value:
                edits.append((child.line_start, child.line_end, ""))
            elif not _same_value(child.value, value[name]):
                edits.append((child.start, child.end, inline(value[name])))
        pad = " " * slot.indent
        last = max(child.line_end for child in children.values())
        names = list(value)
        for n, name in enumerate(names):
            if name in children:
                continue
            following = next((k for k in names[n + 1 :] if k in children), None)
            at = last if following is None else children[following].line_start
            line = f"{pad}{name}: {inline(value[name])}{self.nl}"
            if at == len(self.text) and not self.text.endswith("\n"):
                line = self.nl + line[: -len(self.nl)]  # (the block ends the text unbroken)
            edits.append((at, at, line))
        self._known = None  # (a block of children: the slots are read again)
        # (from the end, so that each offset still holds; of lines inserted at one place,
        # the last in ``value``'s order first, each then put before the ones already there)
        order = sorted(range(len(edits)), key=lambda i: (edits[i][0], edits[i][1], i))
        for i in reversed(order):
            start, end, new = edits[i]
            self._text = self._text[:start] + new + self._text[end:]
        return True

    def append(self, key: str, item: object) -> None:
        """Append ``item`` to the top-level list ``key`` (creating it if missing or empty)."""
        slots = self._slots()
        slot = slots.get(key)
        if slot is None:
            self._insert_key(key, [item], slots)
        elif slot.list_kind == "flow":
            self._known = None  # (read again: a flow list is not esc's own style)
            self._splice(slot.last_item_end, slot.last_item_end, ", " + inline(item))
        elif slot.list_kind == "block":
            at = _line_end(self.text, slot.last_item_end)
            line = f"{' ' * slot.indent}- {inline(item)}"
            self._splice(at, at, line + self.nl)
            if self._known is not None:
                end = at + len(line)
                self._known[key] = _Slot(
                    slot.key_start, slot.after_colon, end, slot.indent, "block", end
                )
        elif slot.list_kind == "empty":
            self.set(key, [item])
        else:
            raise EditError(f"{key} is not a list")

    def remove_items(self, key: str, keep: Sequence[bool]) -> bool:
        """Take out the items of the top-level block list ``key`` whose ``keep`` is False,
        each item's line as written (a comment, quotes) for the others; False, nothing
        done, unless the list is a block list of one line per item, as many as ``keep``."""
        slot = self._slots().get(key)
        if slot is None or slot.list_kind != "block":
            return False
        start = _line_end(self.text, slot.after_colon)
        end = _line_end(self.text, slot.last_item_end)
        lines = self.text[start:end].splitlines(keepends=True)
        prefix = " " * slot.indent + "- "
        if len(lines) != len(keep) or not all(line.startswith(prefix) for line in lines):
            return False
        kept = "".join(line for line, stays in zip(lines, keep, strict=True) if stays)
        if not kept:
            return False  # (an empty list is `[]`: written anew)
        self._known = None  # (read again: the items moved)
        self._splice(start, end, kept)
        return True

    def insert(self, key: str, item: object, before_last: int, items: int) -> int:
        """Put ``item`` in the top-level list ``key`` of ``items`` items before its last
        ``before_last``, when the list is a block list of one line per item and nothing
        else (as esc writes escalations and tags); else at its end (:meth:`append`).  How
        many it went before (0: at the end)."""
        slot = self._slots().get(key)
        if before_last <= 0 or slot is None or slot.list_kind != "block":
            self.append(key, item)
            return 0
        start = _line_end(self.text, slot.after_colon)
        end = _line_end(self.text, slot.last_item_end)
        lines = self.text[start:end].splitlines(keepends=True)
        prefix = " " * slot.indent + "- "
        last = lines[-before_last:]
        # (a comment, a blank line or an item of several lines, as a quoted text's next
        # line starting "- ", would take the new line to the wrong place: at the end then)
        if len(lines) != items or before_last > items or not all(
            line.startswith(prefix) for line in lines
        ):
            self.append(key, item)
            return 0
        at = end - sum(len(line) for line in last)
        self._known = None  # (read again: the items moved)
        self._splice(at, at, f"{prefix}{inline(item)}{self.nl}")
        return before_last

    def _insert_key(self, key: str, value: object, slots: Mapping[str, _Slot]) -> None:
        before = self.order[: self.order.index(key)] if key in self.order else self.order
        previous = [slots[k] for k in before if k in slots]
        if previous:
            anchor = max(previous, key=lambda s: s.key_start)
            at = _line_end(self.text, anchor.end)
        elif key in self.order and slots:
            at = _line_start(self.text, min(s.key_start for s in slots.values()))
        else:
            at = len(self.text)
            if self.text and not self.text.endswith("\n"):
                self._known = None  # (not esc's own style: read again)
                self._splice(at, at, self.nl)
                at = len(self.text)
        new = block_value(value, 2, self.nl)
        self._splice(at, at, f"{key}:{new}{self.nl}")
        if self._known is not None:
            start = _Slot(at, at + len(key) + 1, at + len(key) + 1, 2, None)
            self._known[key] = _set_slot(start, value, new, self.nl, 2)

    def _splice(self, start: int, end: int, new: str) -> None:
        self._text = self._text[:start] + new + self._text[end:]
        if self._known is not None:  # the keys after the edit move by as much as it adds
            delta = len(new) - (end - start)
            for slot in self._known.values():
                if slot.key_start >= start:
                    slot.key_start += delta
                    slot.after_colon += delta
                    slot.end += delta
                    if slot.last_item_end:
                        slot.last_item_end += delta


def _set_slot(slot: _Slot, value: object, new: str, nl: str, indent: int) -> _Slot:
    """The slot of a key whose value text after the colon is now ``new`` (block_value of
    ``value``), as :func:`_quick_slots` would read it from the text."""
    end = slot.after_colon + len(new)
    children = new.startswith(nl)
    kept = _Slot(slot.key_start, slot.after_colon, end, indent if children else 2, None)
    if isinstance(value, (list, tuple)) and value and children:
        kept.list_kind, kept.last_item_end = "block", end
    elif value is None or (isinstance(value, (list, tuple)) and not value):
        kept.list_kind = "empty"
    return kept


_ALIAS = re.compile(r"[^\S\n]*\*[^\s,\[\]{}]+")  # (after a key's colon: ` *name`)


def _is_alias(key: Node, value: Node) -> bool:
    """Whether ``value`` is an alias (``*name``): ruamel gives the anchored node itself,
    which lies before the key that refers to it."""
    return bool(value.start_mark.index < key.end_mark.index)


def _value_end(key: Node, value: Node, text: str) -> int:
    """Where a top-level value ends in ``text``: after its last character, or after its
    key's colon for an empty one (`resolved_at:`, null), whose marks are on the next token
    (the whole next line was taken for its own: `closed_at: null` went with it)."""
    from ruamel.yaml.nodes import ScalarNode

    if isinstance(value, ScalarNode) and value.value == "" and value.style is None:
        return text.find(":", key.end_mark.index) + 1
    return _content_end(value, text)


def _node_slot(key: Node, value: Node, text: str, nl: str) -> _Slot:
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    colon = text.find(":", key.end_mark.index)
    if colon < 0:  # pragma: no cover - a mapping key is always followed by ':'
        raise EditError(f"cannot find ':' after {key.value}")
    if _is_alias(key, value):  # (`updated: *c`: the node is the anchor's, written before)
        alias = _ALIAS.match(text, colon + 1)
        if alias is None:  # pragma: no cover - an alias node after its key is `*name`
            raise EditError(f"cannot find the alias after {key.value}")
        return _Slot(key.start_mark.index, colon + 1, alias.end(), key.start_mark.column + 2, None)
    end = _value_end(key, value, text)
    if isinstance(value, ScalarNode) and value.style in ("|", ">"):
        end = _line_end(text, end) - len(nl)
    block = isinstance(value, (SequenceNode, MappingNode)) and not value.flow_style
    indent = value.start_mark.column if block and value.value else key.start_mark.column + 2
    slot = _Slot(key.start_mark.index, colon + 1, end, int(indent), None)
    if isinstance(value, SequenceNode) and value.value:
        slot.list_kind = "flow" if value.flow_style else "block"
        slot.last_item_end = _content_end(value.value[-1], text)
    elif isinstance(value, SequenceNode) or _is_null(value):
        slot.list_kind = "empty"
    return slot


def _quick_slots(text: str, front: fast_front.Front) -> dict[str, _Slot]:
    """Slots of a front-matter in esc's own style: every key at column 0 of its line, its
    block (if any) on the lines up to the next key."""
    lines = text.split("\n")[:-1]
    # (the start of line n: the lengths of the lines before it, each with its line break)
    starts = list(itertools.accumulate([len(line) + 1 for line in lines], initial=0))
    firsts = list(front.key_lines.values())  # (fast_front keeps the keys in line order)
    firsts.append(len(lines))
    data = front.data
    slots = {}
    for n, key in enumerate(front.key_lines):
        first, after = firsts[n], firsts[n + 1]
        start, end = starts[first], starts[after] - 1  # (the end of its last line)
        value = data[key]
        if after == first + 1:  # one line (most keys)
            kind = "empty" if value is None or value == [] else None
            slots[key] = _Slot(start, start + len(key) + 1, end, 2, kind)
            continue
        child = lines[first + 1]
        slot = _Slot(start, start + len(key) + 1, end, len(child) - len(child.lstrip(" ")), None)
        if isinstance(value, list) and value:
            slot.list_kind, slot.last_item_end = "block", end
        elif value is None or value == []:
            slot.list_kind = "empty"
        slots[key] = slot
    return slots


def _line_children(node: Node, value: object, text: str) -> dict[str, _Child] | None:
    """The children of a block mapping whose every key is plain text with a value (not
    empty) on the key's own line; None for any other value (edited as a whole)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    if not (isinstance(node, MappingNode) and not node.flow_style and node.value):
        return None
    if not isinstance(value, Mapping):
        return None
    children = {}
    for key, child in node.value:
        if not isinstance(key, ScalarNode) or key.style is not None or key.value in children:
            return None
        flat = child.start_mark.line == child.end_mark.line == key.start_mark.line
        if isinstance(child, ScalarNode):
            empty = child.value == "" and child.style is None  # (`key:` alone: null)
            flat = flat and child.style not in ("|", ">") and not empty
        elif not child.flow_style:
            flat = False
        if not flat or key.value not in value:
            return None
        start = _line_start(text, key.start_mark.index)
        children[key.value] = _Child(
            start,
            child.start_mark.index,
            child.end_mark.index,
            _line_end(text, child.end_mark.index),
            value[key.value],
        )
    return children


def _same_value(read: object, new: object) -> bool:
    """Whether a value as read is the value to write (then its text is kept as it is):
    equal, and of the same kind (``1`` is not ``true``, a time not its text)."""
    if isinstance(read, Mapping) and isinstance(new, Mapping):
        return read.keys() == new.keys() and all(_same_value(read[k], new[k]) for k in read)
    if isinstance(read, (list, tuple)) and isinstance(new, (list, tuple)):
        return len(read) == len(new) and all(map(_same_value, read, new))
    if type(read) is not type(new) and not (
        isinstance(read, dt.datetime) and isinstance(new, dt.datetime)
    ):
        return False
    if isinstance(read, dt.datetime) and isinstance(new, dt.datetime):
        return read == new and read.utcoffset() == new.utcoffset()
    return read == new


def _is_null(node: Node) -> bool:
    from ruamel.yaml.nodes import ScalarNode

    return isinstance(node, ScalarNode) and str(node.tag) == "tag:yaml.org,2002:null"


def _content_end(node: Node, text: str) -> int:
    """Where a value's own text ends (block collections end at their last child)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1], text)
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1][1], text)
    end: int = node.end_mark.index
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        # block scalars end after their trailing line breaks; step back onto the last line
        while end > 0 and text[end - 1] in "\r\n":
            end -= 1
    return end


def _line_end(text: str, index: int) -> int:
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1
