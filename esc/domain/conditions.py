"""The condition language of ``when:`` in rules.yaml (routing and automation rules).

A ``when`` mapping is an implicit ``all:`` of its keys; ``any:``, ``all:`` and ``not:`` nest.
Conditions are compiled (and validated) once, then evaluated against :class:`Facts`.
Compiling checks every key against the fields a ticket has (built-in, or declared in
rules.yaml's ``fields:``) and every value of a field with a closed set of values against
that set (the :class:`Vocabulary`), so a misspelling is an error, never a condition that
silently never holds.
Pure: nothing here does I/O or reads the clock; ``now`` arrives in the facts.
"""
from __future__ import annotations

import math
import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from esc.domain.choices import did_you_mean, unknown_choice
from esc.domain.durations import DurationError, format_duration, parse_duration
from esc.domain.linear_regex import search as regex_search
from esc.domain.model import (
    CHANNELS,
    CLOCK_STATES,
    CUSTOMER_METRICS,
    FIELD_ORDER,
    METRICS,
    STATUSES,
    one_form,
)
from esc.domain.records import ADDED_WITH_DEFAULT, immutable
from esc.domain.slow_regex import backtracks_badly
from esc.domain.timestamps import coerce_timestamp

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "ConditionError",
    "DurationCondition",
    "Facts",
    "FieldCondition",
    "Not",
    "SlaCondition",
    "TextCondition",
    "Vocabulary",
    "compile_condition",
]

TEXT_FIELDS = ("title", "body", "text")
DURATION_FIELDS = ("age", "idle", "overdue")
_OPERATORS = ("<=", ">=", "!=", "<", ">")  # two-character ones first
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "!=": lambda a, b: a != b,
}
_REGEX_LITERAL = re.compile(r"/(.*)/([A-Za-z]*)", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_SHOW_LIMIT = 60
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>\s*$")
ADDRESS_FIELDS = ("to",)  # fields of e-mail addresses: compared as addresses
GROUP_KEYS = ("all", "any", "not")
# The front-matter fields a condition may read (escalations, requests, sla and fired are not
# fields of this kind: ``sla`` and ``sla.<metric>`` read the clocks), plus the computed level.
# ``to``, ``external_id`` and ``follows`` are written by `esc intake` (esc.domain.mail):
# the recipient addresses of an e-mail ticket, a JSON ticket's id, the closed ticket a
# reply followed up.
INTAKE_KEYS = ("to", "external_id", "follows")
FIELD_KEYS = (
    *(f for f in FIELD_ORDER if f not in ("escalations", "requests", "sla", "fired")),
    "level",
    *INTAKE_KEYS,
)
SLA_KEYS = ("sla", *(f"sla.{metric}" for metric in METRICS))
BUILT_IN_KEYS = frozenset((*FIELD_KEYS, *TEXT_FIELDS, *DURATION_FIELDS, *SLA_KEYS, *GROUP_KEYS))
CSAT_SCORES = (1, 2, 3, 4, 5)


class ConditionError(ValueError):
    """A condition that does not compile; ``path`` says where, e.g. ``rules[2].when.any[0]``,
    and ``location`` the same place as keys and indexes below the ``when`` itself (e.g.
    ``("any", 0)``), for finding its line in the file."""

    def __init__(self, message: str, path: str, location: tuple[str | int, ...] = ()) -> None:
        super().__init__(f"{path}: {message}")
        self.message = message
        self.path = path
        self.location = location


class EntryError(ValueError):
    """An entry of rules.yaml (a policy, a rule) that cannot be used; ``key`` names the
    offending key, ``location`` the place below it (for a condition: the keys and indexes
    inside ``when``).  The configuration's loader says it at its line."""

    def __init__(
        self, message: str, key: str | None = None, location: tuple[str | int, ...] = ()
    ) -> None:
        super().__init__(message)
        self.key = key
        self.location = location


@immutable
class Vocabulary:
    """What the configuration lets a condition name: its custom fields, and the values of
    the fields whose values come from a closed set.

    ``None`` leaves that part unchecked: any key when ``fields`` is None (a caller with no
    configuration), any category when rules.yaml has no closed list of categories, any
    team or level when the teams are not known.
    """

    priorities: tuple[str, ...]
    fields: frozenset[str] | None = frozenset()  # custom front-matter fields (rules.yaml)
    categories: tuple[str, ...] | None = None
    teams: tuple[str, ...] | None = None
    levels: tuple[int, ...] | None = None
    impacts: tuple[str, ...] | None = None
    urgencies: tuple[str, ...] | None = None

    def keys(self) -> tuple[str, ...]:
        """Every key a condition may use, for "did you mean"."""
        return (*sorted(BUILT_IN_KEYS), *sorted(self.fields or ()))

    def choices(self, name: str) -> tuple[str, tuple[object, ...]] | None:
        """(what to call it, its values) for a field with a closed set of values."""
        known: dict[str, tuple[str, tuple[object, ...] | None]] = {
            "priority": ("priority", self.priorities),
            "category": ("category", self.categories),
            "status": ("status", STATUSES),
            "team": ("team", self.teams),
            "channel": ("channel", CHANNELS),
            "level": ("level", self.levels),
            "impact": ("impact", self.impacts),
            "urgency": ("urgency", self.urgencies),
            "csat": ("csat score", CSAT_SCORES),
        }
        what, values = known.get(name, (name, None))
        return None if values is None else (what, values)


@immutable
class Facts:
    """What a condition is evaluated against."""

    fields: Mapping[str, object]  # front-matter values plus the computed "level"
    body: str = ""
    now: datetime | None = None
    created: datetime | None = None
    updated: datetime | None = None
    sla: Mapping[str, str] = field(default_factory=dict)  # metric -> state
    overdue: timedelta | None = None  # None if nothing is breached


# --- values -------------------------------------------------------------------------------


def _is_empty(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


def _elements(value: object) -> list[object]:
    """A field's values: a list's items, or the one value (none if missing)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _number(value: object) -> float | None:
    """The value as a number: ints, floats and numeric strings; never booleans."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _text(value: object) -> str:
    """The value as YAML would write it (unquoted)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    return str(value)


def _show(value: object) -> str:
    """The value for a human reason: 'not set' when empty, shortened when long."""
    if _is_empty(value):
        return "not set"
    shown = _text(value)
    return shown if len(shown) <= _SHOW_LIMIT else shown[: _SHOW_LIMIT - 3] + "..."


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _equal(actual: object, expected: object) -> bool:
    """Equality across YAML types: 5 == 5.0 == "5", true == "true", a date == that day's times."""
    if type(actual) is type(expected):
        if actual == expected:
            return True
        # (a text in either Unicode form: a tag `café` written NFD by hand or by an older
        # esc is the filter's and the rule's `café`; audit helper-409)
        if isinstance(actual, str) and isinstance(expected, str):
            ascii_both = actual.isascii() and expected.isascii()
            return not ascii_both and one_form(actual) == one_form(expected)
        return False
    actual_number, expected_number = _number(actual), _number(expected)
    if actual_number is not None and expected_number is not None:
        return actual_number == expected_number
    if isinstance(actual, str) or isinstance(expected, str):
        return _text(actual) == _text(expected)
    if isinstance(actual, date) and isinstance(expected, date):
        return _day(actual) == _day(expected)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False  # true is not 1
    return actual == expected


def _elapsed(now: datetime, since: datetime) -> timedelta:
    """now - since; a naive time is taken as UTC when the other one is aware."""
    if (now.tzinfo is None) != (since.tzinfo is None):
        now, since = _as_utc(now), _as_utc(since)
    return now - since


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


# --- value matchers: one test on one field's value ----------------------------------------


class _Matcher(ABC):
    @abstractmethod
    def check(self, value: object) -> bool:
        """Whether the field's value passes."""

    @abstractmethod
    def text(self) -> str:
        """The matcher as written in rules.yaml."""


@immutable
class _Empty(_Matcher):
    def check(self, value: object) -> bool:
        return _is_empty(value)

    def text(self) -> str:
        return "null"


@immutable
class _Equals(_Matcher):
    expected: object

    def check(self, value: object) -> bool:
        return any(_equal(item, self.expected) for item in _elements(value))

    def text(self) -> str:
        return _text(self.expected)


@immutable
class _NotEquals(_Matcher):
    expected: object

    def check(self, value: object) -> bool:
        if _is_empty(value):
            return False
        return not any(_equal(item, self.expected) for item in _elements(value))

    def text(self) -> str:
        return f"!={_text(self.expected)}"


@immutable
class _Ordered(_Matcher):
    """<, <=, >, >= on numbers, or on a scale of names (the priorities, lowest first)."""

    op: str
    bound: float
    source: str
    scale: tuple[str, ...] | None = None

    def check(self, value: object) -> bool:
        rank = self._rank(value)
        return rank is not None and _COMPARE[self.op](rank, self.bound)

    def _rank(self, value: object) -> float | None:
        if self.scale is None:
            return _number(value)
        if isinstance(value, str) and value in self.scale:
            return float(self.scale.index(value))
        return None

    def text(self) -> str:
        return f"{self.op}{self.source}"


@immutable
class _Regex(_Matcher):
    pattern: re.Pattern[str]
    source: str

    def check(self, value: object) -> bool:
        # (a long text in linear time: a customer's message cannot hold up a sweep)
        return any(regex_search(self.pattern, _text(item)) for item in _elements(value))

    def text(self) -> str:
        return self.source


@immutable
class _Contains(_Matcher):
    """Case-insensitive substring, for title, body and text."""

    needle: str

    def check(self, value: object) -> bool:
        return isinstance(value, str) and self.needle.casefold() in value.casefold()

    def text(self) -> str:
        return repr(self.needle)


@immutable
class _Address(_Matcher):
    """An e-mail address (``to:``): any case, a display name and angle brackets ignored on
    both sides (``"Sec" <Security@Example.com>`` is ``security@example.com``)."""

    address: str  # as :func:`_address` gives it
    source: str  # as written

    def check(self, value: object) -> bool:
        return any(_address(_text(item)) == self.address for item in _elements(value))

    def text(self) -> str:
        return self.source


def _address(text: str) -> str:
    found = _ANGLE_ADDRESS.search(text)
    return (found.group(1) if found else text).strip().lower()


def _need(matchers: Sequence[_Matcher]) -> str:
    if len(matchers) == 1:
        return "to be empty" if isinstance(matchers[0], _Empty) else matchers[0].text()
    return "one of " + ", ".join(m.text() for m in matchers)


def _written(texts: Sequence[str]) -> str:
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


# --- conditions ---------------------------------------------------------------------------


class Condition(ABC):
    """A compiled ``when``: test it, say why it fails, list the fields it reads."""

    @abstractmethod
    def matches(self, facts: Facts) -> bool:
        """Whether the facts satisfy the condition."""

    @abstractmethod
    def explain(self, facts: Facts) -> list[str]:
        """Short reasons why the facts do not satisfy it; empty exactly when it matches."""

    @abstractmethod
    def fields(self) -> frozenset[str]:
        """The field names the condition reads (sla, age, idle, overdue count as fields)."""

    @abstractmethod
    def describe(self) -> str:
        """The condition in rules.yaml's flow style, e.g. ``priority: >=high, idle: >1h``."""


class _Leaf(Condition):
    def explain(self, facts: Facts) -> list[str]:
        return [] if self.matches(facts) else [self._reason(facts)]

    @abstractmethod
    def _reason(self, facts: Facts) -> str:
        """Why the facts fail this condition."""


@immutable
class FieldCondition(_Leaf):
    """A front-matter field (or ``level``): equals, one of, empty, compared, /regex/."""

    name: str
    matchers: tuple[_Matcher, ...]

    def matches(self, facts: Facts) -> bool:
        value = facts.fields.get(self.name)
        for m in self.matchers:  # noqa: SIM110 (a loop: a generator costs more than most checks)
            if m.check(value):
                return True
        return False

    def _reason(self, facts: Facts) -> str:
        value = facts.fields.get(self.name)
        need = _need(self.matchers)
        if isinstance(value, (list, tuple)) and value and all(
            isinstance(m, _Equals) for m in self.matchers
        ):
            need = f"to include {need}"
        return f"{self.name} is {_show(value)}, needs {need}"

    def fields(self) -> frozenset[str]:
        return frozenset({self.name})

    def only_values(self) -> tuple[object, ...] | None:
        """The values the field can hold when this holds, if it names them all (equality
        or null, as in ``category: [outage, bug]``); None for a comparison or a /regex/."""
        if not all(isinstance(m, (_Equals, _Empty)) for m in self.matchers):
            return None
        return tuple(m.expected if isinstance(m, _Equals) else None for m in self.matchers)

    def describe(self) -> str:
        return f"{self.name}: {_written([m.text() for m in self.matchers])}"


@immutable
class TextCondition(_Leaf):
    """title, body or text (title and body): substring (any case), /regex/ or empty."""

    name: str
    matchers: tuple[_Matcher, ...]

    def _value(self, facts: Facts) -> str:
        raw = facts.fields.get("title")
        title = "" if raw is None else _text(raw)
        if self.name == "title":
            return title
        if self.name == "body":
            return facts.body
        return "\n".join(part for part in (title, facts.body) if part)

    def matches(self, facts: Facts) -> bool:
        value = self._value(facts)
        for m in self.matchers:  # noqa: SIM110 (a loop: a generator costs more than most checks)
            if m.check(value):
                return True
        return False

    def _reason(self, facts: Facts) -> str:
        if len(self.matchers) > 1:
            return f"{self.name} matches none of {', '.join(m.text() for m in self.matchers)}"
        matcher = self.matchers[0]
        if isinstance(matcher, _Empty):
            return f"{self.name} is not empty"
        verb = "match" if isinstance(matcher, _Regex) else "contain"
        return f"{self.name} does not {verb} {matcher.text()}"

    def fields(self) -> frozenset[str]:
        return frozenset({"title", "body"}) if self.name == "text" else frozenset({self.name})

    def describe(self) -> str:
        texts = [m.needle if isinstance(m, _Contains) else m.text() for m in self.matchers]
        return f"{self.name}: {_written(texts)}"


@immutable
class SlaCondition(_Leaf):
    """``sla: state`` (any clock of the customer's SLA in that state: not the internal OLA,
    ``collaboration``) or ``sla.<metric>: state`` (that clock)."""

    metric: str | None
    states: tuple[str | None, ...]  # None: no clock at all / that clock not running
    # (`sla: "!=breached"`: no clock breached; that clock not in it)
    negated: bool = field(default=False, metadata=ADDED_WITH_DEFAULT)

    @property
    def key(self) -> str:
        return "sla" if self.metric is None else f"sla.{self.metric}"

    def matches(self, facts: Facts) -> bool:
        if self.negated:  # (as any field's `!=x`: a clock that is not there is no match)
            if self.metric is not None:
                state = facts.sla.get(self.metric)
                return state is not None and state not in self.states
            clocks = [s for m, s in facts.sla.items() if m in CUSTOMER_METRICS]
            return bool(clocks) and not any(state in clocks for state in self.states)
        if self.metric is not None:
            return facts.sla.get(self.metric) in self.states
        clocks = [s for m, s in facts.sla.items() if m in CUSTOMER_METRICS]
        return any(state in clocks for state in self.states) or (
            None in self.states and not clocks
        )

    def _reason(self, facts: Facts) -> str:
        if self.metric is not None:
            shown = facts.sla.get(self.metric) or "not set"
        else:
            shown = ", ".join(
                f"{m} {s}" for m, s in facts.sla.items() if m in CUSTOMER_METRICS
            ) or "not set"
        if self.negated:
            return f"{self.key} is {shown}, needs {_written([f'!={s}' for s in self.states])}"
        need = _need([_Empty() if s is None else _Equals(s) for s in self.states])
        return f"{self.key} is {shown}, needs {need}"

    def fields(self) -> frozenset[str]:
        return frozenset({"sla"})

    def describe(self) -> str:
        if self.negated:
            return f"{self.key}: {_written([f'!={s}' for s in self.states])}"
        return f"{self.key}: {_written([_text(s) for s in self.states])}"


@immutable
class DurationCondition(_Leaf):
    """age (now - created), idle (now - updated) or overdue, compared with a duration."""

    name: str
    op: str
    limit: timedelta
    source: str

    def _value(self, facts: Facts) -> timedelta | None:
        if self.name == "overdue":
            return facts.overdue
        since = facts.created if self.name == "age" else facts.updated
        if facts.now is None or since is None:
            return None
        return _elapsed(facts.now, since)

    def matches(self, facts: Facts) -> bool:
        value = self._value(facts)
        if value is None:
            return False
        return _COMPARE[self.op](value.total_seconds(), self.limit.total_seconds())

    def _reason(self, facts: Facts) -> str:
        value = self._value(facts)
        if value is not None:
            shown = format_duration(value, smallest="s")
        elif self.name == "overdue":
            shown = "not set (nothing breached)"
        else:
            shown = "unknown"
        return f"{self.name} is {shown}, needs {self.op}{self.source}"

    def fields(self) -> frozenset[str]:
        return frozenset({self.name})

    def describe(self) -> str:
        return f"{self.name}: {self.op}{self.source}"


def _braced(condition: Condition) -> str:
    text = condition.describe()
    return text if text == "{}" else "{" + text + "}"


@immutable
class AllOf(Condition):
    """Every child holds; no children: always holds (an empty or missing ``when``)."""

    children: tuple[Condition, ...] = ()

    def matches(self, facts: Facts) -> bool:
        for child in self.children:  # noqa: SIM110 (a generator costs more than most checks)
            if not child.matches(facts):
                return False
        return True

    def explain(self, facts: Facts) -> list[str]:
        return [reason for child in self.children for reason in child.explain(facts)]

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(child.fields() for child in self.children))

    def describe(self) -> str:
        return ", ".join(child.describe() for child in self.children) or "{}"


@immutable
class AnyOf(Condition):
    """At least one child holds."""

    children: tuple[Condition, ...]

    def matches(self, facts: Facts) -> bool:
        for child in self.children:  # noqa: SIM110
            if child.matches(facts):
                return True
        return False

    def explain(self, facts: Facts) -> list[str]:
        if self.matches(facts):
            return []
        if len(self.children) == 1:
            return self.children[0].explain(facts)
        parts = [" and ".join(child.explain(facts)) for child in self.children]
        return ["none of: " + " or ".join(f"({part})" for part in parts)]

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(child.fields() for child in self.children))

    def describe(self) -> str:
        return "any: [" + ", ".join(_braced(child) for child in self.children) + "]"


@immutable
class Not(Condition):
    """The child does not hold."""

    child: Condition

    def matches(self, facts: Facts) -> bool:
        return not self.child.matches(facts)

    def explain(self, facts: Facts) -> list[str]:
        return [] if self.matches(facts) else [f"excluded by not: {self.child.describe()}"]

    def fields(self) -> frozenset[str]:
        return self.child.fields()

    def describe(self) -> str:
        return f"not: {_braced(self.child)}"


def values_named(condition: Condition, name: str) -> list[object]:
    """The values ``condition`` compares field ``name`` with (``assignee: alcie``,
    ``assignee: "!=bob"``), anywhere in it: what `esc validate` checks against a list
    the conditions themselves do not close (the people teams.yaml names)."""
    if isinstance(condition, (AllOf, AnyOf)):
        return [v for child in condition.children for v in values_named(child, name)]
    if isinstance(condition, Not):
        return values_named(condition.child, name)
    if isinstance(condition, FieldCondition) and condition.name == name:
        return [m.expected for m in condition.matchers if isinstance(m, (_Equals, _NotEquals))]
    return []


def holds_only_on_breach(condition: Condition) -> bool:
    """Whether ``condition`` can hold only while a clock is breached (``sla: breached``,
    ``overdue: …``, or all of a rule's ``when`` with one of those): what a rule fired on it
    tells is news of a breach, urgent as a breach is (never held for quiet hours)."""
    if isinstance(condition, SlaCondition):
        if condition.negated:  # (`!=ok`: a warning too)
            return False
        return bool(condition.states) and all(s == "breached" for s in condition.states)
    if isinstance(condition, DurationCondition):
        return condition.name == "overdue"  # (no overdue time while nothing is breached)
    if isinstance(condition, AllOf):
        return any(holds_only_on_breach(child) for child in condition.children)
    if isinstance(condition, AnyOf):
        return all(holds_only_on_breach(child) for child in condition.children)
    return False


CrossedState = Literal["warning", "breached"]  # a state a clock crosses into at an instant


def crossings(
    condition: Condition,
) -> tuple[tuple[str | None, tuple[str | None, ...], tuple[CrossedState, ...]], ...]:
    """Each ``sla:`` term of ``condition`` (outside a ``not:``) that a clock crossing into
    ``warning`` or ``breached`` makes true: its metric (None: any clock of the customer's
    SLA), the states it names, and those of them a clock crosses into.  A rule fired on
    such a term and still true fires again when another clock crosses into one of them
    after it fired (breached, escalated, breached again at the next level: escalated
    again), not only once the condition was false; a clock that went from one state the
    term names to another (warning, then breached, for `[warning, breached]`) is the same
    match, not a new one."""
    if isinstance(condition, (AllOf, AnyOf)):
        return tuple(c for child in condition.children for c in crossings(child))
    if isinstance(condition, SlaCondition) and not condition.negated:
        crossed = tuple(s for s in _CROSSED_STATES if s in condition.states)
        return ((condition.metric, condition.states, crossed),) if crossed else ()
    return ()


_CROSSED_STATES: tuple[CrossedState, ...] = ("warning", "breached")


# --- compiling ----------------------------------------------------------------------------

Location = tuple[str | int, ...]  # keys and list indexes below the ``when``


def compile_condition(
    spec: object, vocabulary: Vocabulary, *, path: str = "when", before_sla: str | None = None
) -> Condition:
    """Compile a ``when`` value (a mapping; None matches everything), validating it all:
    its structure, its keys and the values of fields with a closed set of values.
    ``before_sla``: what the condition chooses before any SLA is known ("a policy", "a
    route"): ``sla``, ``sla.<metric>`` and ``overdue`` are refused there (they would never
    match).

    Raises ConditionError naming the exact path of the first problem.
    """
    if spec is None:
        return AllOf()
    return _Compiler(vocabulary, path, before_sla).mapping(spec, ())


# The fields of a ticket that hold a time, and words meant as YAML's null that are text
_TIME_KEYS = frozenset({"created", "updated", "first_response_at", "resolved_at", "closed_at"})
_NULL_WORDS = frozenset({"none", "null", "nul", "nil", "~", "nothing", "empty"})
# The fields whose `none` (in any case) is none, as on the command line: no person or
# category may be so named (teams.yaml refuses it)
_NONE_IS_NULL = frozenset({"assignee", "category"})


def _split_operator(text: str) -> tuple[str, str] | None:
    for op in _OPERATORS:
        if text.startswith(op):
            return op, text[len(op) :].strip()
    return None


def split_comparison(text: str) -> tuple[str, str]:
    """A filter's or a condition's value as (operator, operand): ``>=high`` is
    (``>=``, ``high``), ``=high`` (``=``, ``high``), ``high`` (``""``, ``high``)."""
    split = _split_operator(text)
    if split is not None:
        return split
    equals = _split_equals(text)
    return ("=", equals) if equals is not None else ("", text)


def _split_equals(text: str) -> str | None:
    """The operand of ``=VALUE`` (``--priority =high``: the companion of ``!=high``), or
    None when ``text`` is not written so."""
    if text.startswith("=") and not text.startswith("=="):
        return text[1:].strip()
    return None


def field_values(condition: Condition, name: str) -> list[str]:
    """The texts ``condition`` compares field ``name`` with (`category: outage`,
    `category: "!=how-to"`, in lists, `any:` and `not:` too), as written."""
    if isinstance(condition, (AllOf, AnyOf)):
        return [v for child in condition.children for v in field_values(child, name)]
    if isinstance(condition, Not):
        return field_values(condition.child, name)
    if isinstance(condition, FieldCondition) and condition.name == name:
        return [
            m.expected
            for m in condition.matchers
            if isinstance(m, (_Equals, _NotEquals)) and isinstance(m.expected, str)
        ]
    return []


@immutable
class _Compiler:
    vocabulary: Vocabulary
    root: str  # the path of the ``when`` itself, e.g. rules[2].when
    before_sla: str | None = None  # what it chooses before an SLA is known (a policy…)

    def error(self, message: str, at: Location) -> ConditionError:
        path = self.root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in at)
        return ConditionError(message, path, at)

    def mapping(self, spec: object, at: Location) -> Condition:
        if not isinstance(spec, Mapping):
            raise self.error(f"expected a mapping of conditions, got {_kind(spec)}", at)
        children = []
        for key, value in spec.items():
            if not isinstance(key, str):
                raise self.error(f"condition keys must be strings, got {key!r}", at)
            children.append(self.entry(key, value, (*at, key)))
        return AllOf(tuple(children))

    def entry(self, key: str, value: object, at: Location) -> Condition:
        if key in ("all", "any"):
            return self.group(key, value, at)
        if key == "not":  # (`not: {sla: breached}` always holds where no SLA is known yet:
            # useless there, but it matches, and is no mistake to refuse)
            if isinstance(value, Mapping) and not value:  # (`not: {}` never holds: the rule
                raise self.error("not needs at least one condition", at)  # never fired)
            return Not(replace(self, before_sla=None).mapping(value, at))
        if key == "sla" or key.startswith("sla."):
            return self.known_sla(key, self.sla(key, value, at), at)
        if key in DURATION_FIELDS:
            return self.known_sla(key, self.duration(key, value, at), at)
        if key in TEXT_FIELDS:
            return TextCondition(key, self.matchers(value, at, self.text_matcher))
        self.check_key(key, at)
        return FieldCondition(
            key, self.matchers(value, at, lambda v, p: self.field_matcher(key, v, p))
        )

    def known_sla(self, key: str, condition: Condition, at: Location) -> Condition:
        """``condition`` (on ``key``, checked), unless it reads the SLA (``sla``,
        ``overdue``) where none is known yet, what chooses a policy or a route, and so can
        never match there (``sla: null``, no clock, always does)."""
        sla = condition if isinstance(condition, SlaCondition) else None
        if sla is not None and not sla.negated and None in sla.states:
            return condition
        if key not in ("age", "idle") and self.before_sla is not None:
            raise self.error(
                f"{key} cannot choose {self.before_sla}: it is known only once a policy"
                " gives the ticket its SLA, so it would never match (use it in a rule)",
                at,
            )
        return condition

    def check_key(self, key: str, at: Location) -> None:
        """A field's key is a built-in field or a custom one rules.yaml declares."""
        declared = self.vocabulary.fields
        if declared is None or key in FIELD_KEYS or key in declared:
            return
        hint = f" (did you mean 'sla.{key}'?)" if key in METRICS else ""
        raise self.error(
            f"unknown condition key {key!r}{hint or did_you_mean(key, self.vocabulary.keys())}; "
            "a custom front-matter field must be declared in rules.yaml's `fields:`",
            at,
        )

    def group(self, key: str, value: object, at: Location) -> Condition:
        if not isinstance(value, (list, tuple)):
            raise self.error(f"{key} needs a list of conditions, got {_kind(value)}", at)
        if key == "any" and not value:  # (`all: []` holds, as an empty `when:` does)
            raise self.error("any needs at least one condition", at)
        children = tuple(self.mapping(item, (*at, i)) for i, item in enumerate(value))
        return AnyOf(children) if key == "any" else AllOf(children)

    def matchers(
        self, value: object, at: Location, one: Callable[[object, Location], _Matcher]
    ) -> tuple[_Matcher, ...]:
        """One matcher per value; a list means any of them."""
        return tuple(one(item, item_at) for item, item_at in self.values(value, at))

    def values(self, value: object, at: Location) -> list[tuple[object, Location]]:
        """The scalar values written (one, or a non-empty list), each with its location."""
        if not isinstance(value, (list, tuple)):
            return [(self.scalar(value, at), at)]
        if not value:
            raise self.error("needs at least one value", at)
        return [(self.scalar(item, (*at, i)), (*at, i)) for i, item in enumerate(value)]

    def scalar(self, value: object, at: Location) -> object:
        if isinstance(value, float) and not math.isfinite(value):  # (.inf, .nan: a ticket
            raise self.error(  # refuses them, so no ticket could ever match)
                f"{value} is a number JSON cannot hold (quote it to keep it as text)", at
            )
        if value is None or isinstance(value, (str, int, float, date)):
            return value
        raise self.error(f"expected a value, got {_kind(value)}", at)

    def field_matcher(self, name: str, value: object, at: Location) -> _Matcher:
        if _is_empty(value):
            return _Empty()
        if name in _NONE_IS_NULL and isinstance(value, str) and value.strip().casefold() == "none":
            return _Empty()  # (`assignee: none`, as `--assignee none` and `esc assign T none`
            # mean no one: a warning of an unknown person, and a rule that never fired)
        if isinstance(value, str):
            regex = self.regex(value, at)
            if regex is not None:
                return regex
            equals = _split_equals(value)
            if equals is not None:  # (the value itself, compared as a value is)
                if not equals:
                    raise self.error("nothing to compare with after '='", at)
                if equals[0] in "<>!":  # (`=>high` read as `=` then `>high`: a typo)
                    flipped = equals[0] + "=" + equals[1:].strip()
                    raise self.error(
                        f"{value!r} is no comparison; did you mean {flipped!r}?", at
                    )
                value = int(equals) if name == "level" and _INTEGER.fullmatch(equals) else equals
                return self.field_matcher(name, value, at)
            split = _split_operator(value)
            if split is not None:
                matcher = self.comparison(name, *split, at)
                if isinstance(matcher, _NotEquals):
                    self.check_value(name, matcher.expected, at)
                elif isinstance(matcher, _Ordered):
                    self.check_reachable(name, matcher, at)
                return matcher
        self.check_value(name, value, at)
        if name in ADDRESS_FIELDS and isinstance(value, str):
            return _Address(_address(value), value)
        self.check_time(name, value, at)
        return _Equals(value)

    def check_time(self, name: str, value: object, at: Location) -> None:
        """A value a field that holds a time equals is a time: `resolved_at: None` (text in
        YAML 1.2) never matched, and the rule never fired (audit helper-452)."""
        if name in _TIME_KEYS and isinstance(value, str) and coerce_timestamp(value) is None:
            null = value.strip().casefold() in _NULL_WORDS
            raise self.error(
                f"{name} holds a time, and {value!r} is none (a time with its offset, or"
                f" null for none){' (did you mean null?)' if null else ''}",
                at,
            )

    def check_value(self, name: str, value: object, at: Location) -> None:
        """A value of a field with a closed set of values is one of them."""
        found = self.vocabulary.choices(name)
        if found is None:
            return
        what, choices = found
        if not any(_equal(value, choice) for choice in choices):
            raise self.error(unknown_choice(what, value, [_text(c) for c in choices]), at)

    def check_reachable(self, name: str, matcher: _Ordered, at: Location) -> None:
        """A comparison on a field with a closed set of values holds for one of them (as
        an unknown value is refused, so is ``level: ">=5"`` with levels 1 to 3)."""
        found = self.vocabulary.choices(name)
        if found is None:
            return
        what, choices = found
        if not any(matcher.check(choice) for choice in choices):
            shown = ", ".join(_text(c) for c in choices)
            raise self.error(
                f"{what} {matcher.text()} holds for none of the values ({shown})", at
            )

    def comparison(self, name: str, op: str, operand: str, at: Location) -> _Matcher:
        if not operand:
            raise self.error(f"nothing to compare with after {op!r}", at)
        if name == "priority":
            return self.priority_comparison(op, operand, at)
        if name == "tags" and op != "!=":
            raise self.error(f"tags cannot be compared with {op!r}", at)
        if name == "level" and not _INTEGER.fullmatch(operand):
            raise self.error(f"level is a whole number, cannot compare with {operand!r}", at)
        if op == "!=":
            return _NotEquals(operand)
        bound = _number(operand)
        if bound is None:
            raise self.error(f"{op!r} compares numbers (or priorities), got {operand!r}", at)
        return _Ordered(op, bound, operand)

    def priority_comparison(self, op: str, operand: str, at: Location) -> _Matcher:
        priorities = self.vocabulary.priorities
        if operand not in priorities:
            raise self.error(unknown_choice("priority", operand, priorities), at)
        if op == "!=":
            return _NotEquals(operand)
        return _Ordered(op, float(priorities.index(operand)), operand, priorities)

    def regex(self, text: str, at: Location) -> _Regex | None:
        """A /regex/flags value compiled; None if the text is not written as a regex."""
        literal = _REGEX_LITERAL.fullmatch(text)
        if literal is None:
            return None
        pattern, letters = literal.groups()
        flags = 0
        for letter in letters:
            if letter not in _REGEX_FLAGS:
                raise self.error(f"unknown regex flag {letter!r} in {text} (use i, m, s)", at)
            flags |= _REGEX_FLAGS[letter]
        try:
            with warnings.catch_warnings():  # (Python's warning of a character a later
                # Python reads otherwise, `[[]`: two raw lines on stderr at each command;
                # it works as Python reads it now, and a rule that worked keeps working)
                warnings.simplefilter("ignore", FutureWarning)
                compiled = re.compile(pattern, flags)
        except re.error as exc:
            raise self.error(f"invalid regex {text}: {exc}", at) from None
        if backtracks_badly(pattern, flags):
            raise self.error(
                f"regex {text} repeats a part that can match one text in many ways (as"
                " `(\\w+\\s?)*` or `(a|aa)+`): on some text Python's regex engine takes"
                " minutes, and a customer's message would hold up the sweep and intake;"
                " write it so that each repeat can cut a text one way only (`[\\w\\s]*`)",
                at,
            )
        return _Regex(compiled, text)

    def text_matcher(self, value: object, at: Location) -> _Matcher:
        if _is_empty(value):
            return _Empty()
        if not isinstance(value, str):
            raise self.error(f"expected text or a /regex/, got {_kind(value)}", at)
        return self.regex(value, at) or _Contains(value)

    def sla(self, key: str, value: object, at: Location) -> Condition:
        metric = None if key == "sla" else key[len("sla.") :]
        if metric == "":
            raise self.error("missing SLA metric after 'sla.'", at)
        if metric is not None and metric not in METRICS:
            raise self.error(unknown_choice("SLA metric", metric, METRICS), at)
        if isinstance(value, str) and value.strip().startswith("!="):
            # (`sla: "!=breached"`, as any field takes `!=x`: one state, not a list)
            return SlaCondition(metric, (self.sla_state(value.strip()[2:], at),), negated=True)
        states = tuple(self.sla_state(item, p) for item, p in self.values(value, at))
        return SlaCondition(metric, states)

    def sla_state(self, value: object, at: Location) -> str | None:
        if isinstance(value, str):  # (`=breached`, the companion of `!=breached`)
            equals = _split_equals(value.strip())
            value = value.strip() if equals is None else equals
            if value.startswith("!="):
                raise self.error(f"'!=' takes one SLA state, not a list of them: {value!r}", at)
        if value is None or (isinstance(value, str) and value in CLOCK_STATES):
            return value
        raise self.error(unknown_choice("SLA state", _text(value), CLOCK_STATES), at)

    def duration(self, key: str, value: object, at: Location) -> Condition:
        example = "expected a comparison with a duration, like '>1h', got"
        if not isinstance(value, str):
            raise self.error(f"{example} {_kind(value)}", at)
        split = _split_operator(value.strip())
        if split is None:
            raise self.error(f"{example} {value!r}", at)
        op, text = split
        try:
            limit = parse_duration(text)
        except DurationError as exc:
            raise self.error(str(exc), at) from None
        return DurationCondition(key, op, limit, text)
