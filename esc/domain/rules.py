"""The automation rules of rules.yaml as records: reading one, and finding rules that
could trigger each other endlessly.  Pure.  Running them is :mod:`esc.domain.automation`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping, Sequence

from esc.domain.choices import did_you_mean, shown, unknown_choice
from esc.domain.conditions import (
    AllOf,
    AnyOf,
    Condition,
    ConditionError,
    EntryError,
    Facts,
    FieldCondition,
    Vocabulary,
    compile_condition,
)
from esc.domain.model import ACTIVE_STATUSES, line_problem, new_tag_problem
from esc.domain.records import immutable
from esc.domain.sla import PolicyError, parse_working_duration

ACTIONS = ("escalate", "priority", "assign", "tag", "note", "status", "notify", "involve")
RULE_KEYS = {"name", "when", "then", "repeat", "description"}


class RuleError(EntryError):
    """A rule that cannot be used (see :class:`~esc.domain.conditions.EntryError`)."""


@immutable
class Rule:
    name: str
    when: Condition
    actions: tuple[tuple[str, object], ...]
    repeat: dt.timedelta | None = None

    def reads(self) -> set[str]:
        fields = set(self.when.fields())
        return fields | ({"level"} if "team" in fields else set())


def parse_rule(
    raw: Mapping[str, object],
    teams: Mapping[str, object],
    vocabulary: Vocabulary,
    path: str,
    names: set[str],
) -> Rule:
    unknown = sorted(set(map(str, raw)) - RULE_KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], sorted(RULE_KEYS))
        raise RuleError(f"unknown key {unknown[0]!r}{hint}", unknown[0])
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleError("a rule needs a name", "name")
    problem = line_problem(name.replace("\t", " "))  # (a tab is written quoted, and read)
    if problem is None and " · " in name:
        problem = "it has ' · ', which separates the parts of a log line"
    if problem is not None:  # (it is written in ticket files, as `rule:NAME`)
        raise RuleError(f"rule name {name!r} is no name: {problem}", "name")
    if name in names:
        raise RuleError(f"two rules are named {name!r}", "name")
    try:
        when = compile_condition(raw.get("when"), vocabulary, path=f"{path}.when")
    except ConditionError as exc:
        raise RuleError(str(exc), "when", exc.location) from None
    then = raw.get("then")
    if not isinstance(then, Mapping) or not then:
        raise RuleError(f"rule {name}: `then` must map actions to values", "then")
    actions = tuple((str(k), v) for k, v in then.items())
    for action, value in actions:
        _check_action(action, value, teams, vocabulary.priorities, name)
    repeat = None
    if raw.get("repeat") is not None:
        try:
            repeat = parse_working_duration(raw["repeat"], f"rule {name}: repeat")
        except PolicyError as exc:
            raise RuleError(str(exc), "repeat") from None
    return Rule(name, when, actions, repeat)


def _check_action(
    action: str, value: object, teams: Mapping[str, object], priorities: Sequence[str], name: str
) -> None:
    where = f"rule {name}: {action}"
    at = (action,)  # (the action's own line, below `then:`)
    if action not in ACTIONS:
        raise RuleError(
            f"rule {name}: unknown action {action!r}; one of {', '.join(ACTIONS)}", "then", at
        )
    if action == "escalate":
        target = value.get("to") if isinstance(value, Mapping) else None
        others = [str(k) for k in value if k != "to"] if isinstance(value, Mapping) else []
        if others:  # (`{to: engineering, reasn: …}`: the key was dropped, unsaid; the reason
            # an escalation gives is the rule's `note:`)
            key = others[0]
            hint = did_you_mean(key, ["to"]) or (
                " (the reason is the rule's `note:`)" if did_you_mean(key, ["reason"]) else ""
            )
            said = f"unknown key {key!r}{hint}: escalate takes `up` or `{{to: TEAM}}`"
            raise RuleError(f"{where}: {said}", "then", (action, key))
        if value != "up" and target is None:
            hint = did_you_mean(value, ["up"]) if isinstance(value, str) else ""
            raise RuleError(f"{where} takes `up` or `{{to: TEAM}}`{hint}", "then", at)
        if target is not None and teams and target not in teams:  # (no teams: teams.yaml is broken)
            raise RuleError(
                f"{where}: {unknown_choice('team', target, tuple(teams))}", "then", (action, "to")
            )
    elif action == "priority":
        if value != "raise" and value not in priorities:
            hint = did_you_mean(value, [*priorities, "raise"]) if isinstance(value, str) else ""
            said = f"{shown(value)} is not a priority{hint}"
            said += "" if "'raise'" in hint else " (or `raise`)"
            raise RuleError(f"{where}: {said}", "then", at)
    elif action == "status":
        statuses = ("open", "pending", "resolved", "closed")
        if value not in statuses:
            hint = did_you_mean(value, statuses) if isinstance(value, str) else ""
            said = f"takes open, pending, resolved or closed, not {shown(value)}{hint}"
            raise RuleError(f"{where}: {said}", "then", at)
    elif action == "involve":
        if not isinstance(value, str):  # (one team a rule; a list is several rules)
            said = f"takes one team, not {shown(value)} (one rule for each team to ask)"
            raise RuleError(f"{where}: {said}", "then", at)
        if teams and value not in teams:  # (as escalate's)
            raise RuleError(f"{where}: {unknown_choice('team', value, tuple(teams))}", "then", at)
    elif action == "notify":
        names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise RuleError(
                f"{where}: takes the name of a target, or of a team or person notify: lists "
                "(or a list of them)",
                "then",
                at,
            )
    elif not isinstance(value, str) or not value.strip():
        raise RuleError(f"{where}: needs a text value", "then", at)
    elif (control := _control_in(value)) is not None:  # (a NUL made every ticket the rule
        # wrote one git takes for binary, and the merge driver refuses)
        raise RuleError(f"{where}: holds the control character U+{ord(control):04X}", "then", at)
    elif action == "assign" and value != "lead" and teams:
        people = _people(teams)
        if value not in people:  # (`esc assign` needs --force for one; a rule cannot)
            choices = ("lead", *sorted(people))
            raise RuleError(f"{where}: {unknown_choice('person', value, choices)}", "then", at)
    elif action == "tag":
        problem = new_tag_problem(value)
        if problem is not None:
            raise RuleError(f"{where}: {problem}", "then", at)


def _control_in(text: str) -> str | None:
    """The first control character of ``text`` but a tab or line break, if any."""
    return next((c for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None)


def _people(teams: Mapping[str, object]) -> set[str]:
    """Everyone teams.yaml names: each team's members and lead."""
    people: set[str] = set()
    for team in teams.values():
        people.update(str(m) for m in getattr(team, "members", ()) or ())
        lead = getattr(team, "lead", None)
        if lead:
            people.add(str(lead))
    return people


def acts_on_no_active_ticket(rule: Rule) -> bool:
    """Whether ``rule``'s condition holds only for resolved or closed tickets (its
    ``status:`` terms, however nested, let no status of an active ticket through): rules
    act on new, open and pending tickets alone, so it never fires."""
    return not any(_may_hold(rule.when, status) for status in ACTIVE_STATUSES)


def _may_hold(when: Condition, status: str) -> bool:
    """Whether ``when`` may hold for a ticket in ``status``: exactly, for a condition only
    the status decides (``status:``, and ``all``, ``any`` and ``not`` of such); else as far
    as its ``all`` and ``any`` tell (any other term may hold)."""
    if when.fields() == {"status"}:
        return when.matches(Facts(fields={"status": status}))
    if isinstance(when, AllOf):
        return all(_may_hold(child, status) for child in when.children)
    if isinstance(when, AnyOf):
        return any(_may_hold(child, status) for child in when.children)
    return True


def loop_findings(
    rules: Sequence[Rule],
    priorities: Sequence[str] = (),
    levels: Mapping[str, int] | None = None,
) -> list[tuple[int, str]]:
    """Rules that can trigger each other endlessly: (index of the first, message).

    Rule A can trigger rule B when A writes a value that B's condition may accept.  Rules
    that can trigger each other in a cycle loop endlessly only if they write one field with
    different values (one sets priority low, another raises it); writes that only move one
    way (escalate up, raise, add a tag) run out, and so does a priority set only from a
    lower one (``priority: urgent`` when ``priority: "<urgent"``: a raise too, by the
    order of ``priorities``), and so does an escalation to a team that only ever moves a
    ticket up (``escalate: {to: engineering}`` when ``team: support``, or ``level: "<2"``:
    its condition cannot hold at engineering's level or above; ``levels``: each team's).
    Time (age, idle) is left out: a rule that waits for time to pass fires again only as
    time passes.
    """
    edges = {a.name: {b.name for b in rules if b is not a and _can_enable(a, b)} for a in rules}
    index = {r.name: i for i, r in enumerate(rules)}
    by_name = {r.name: r for r in rules}
    found = []
    for component in _cycles(edges):
        members = [by_name[n] for n in component]
        field_name = _conflicting_field(members, priorities, levels or {})
        if field_name is None:
            continue
        names = sorted(component, key=index.__getitem__)
        names = _the_loop(names, edges, by_name, priorities, levels or {})
        found.append(
            (index[names[0]], f"rules {', '.join(names)} can trigger each other endlessly "
             f"(they set {field_name} to different values and each re-enables the other)")
        )
    return found


def _the_loop(
    names: list[str],
    edges: Mapping[str, set[str]],
    by_name: Mapping[str, Rule],
    priorities: Sequence[str],
    levels: Mapping[str, int],
) -> list[str]:
    """Of a cycle of rules that loops, the rules that loop without those that only move a
    ticket one way (`priority: raise`, `escalate: up`: they run out), if those alone still
    loop: `overdue-raise` is no part of two rules setting a priority back and forth."""
    kept = [n for n in names if any(
        f not in ("sla", "level", "tags") for f in _writes(by_name[n], bounded=False)
    )]  # fmt: skip
    if len(kept) == len(names) or len(kept) < 2:
        return names
    inner = {n: edges[n] & set(kept) for n in kept}
    for component in _cycles(inner):
        if _conflicting_field([by_name[n] for n in component], priorities, levels) is not None:
            return [n for n in names if n in component]
    return names


_ANY = object()  # a value known only when the rule runs (raise, escalate up, the lead)


def _writes(rule: Rule, bounded: bool = True) -> dict[str, set[object]]:
    """Field -> the values the rule's actions write to it (without ``bounded``, leaving
    out what `escalate: up` and `priority: raise` write: they only move one way, up the
    chain or the priorities, so they run out, and what they change on the way (the
    assignee an escalation clears) cannot flip back and forth for ever either)."""
    out: dict[str, set[object]] = {}

    def put(name: str, value: object) -> None:
        out.setdefault(name, set()).add(value)

    for action, value in rule.actions:
        if not bounded and (
            (action == "escalate" and value == "up") or (action == "priority" and value == "raise")
        ):
            continue
        if action == "escalate":
            target = value.get("to") if isinstance(value, Mapping) else None
            put("team", _ANY if target is None else str(target))
            put("level", _ANY)
            put("assignee", None)
            put("sla", _ANY)
        elif action == "priority":
            put("priority", _ANY if value == "raise" else str(value))
            put("sla", _ANY)
        elif action == "assign":
            put("assignee", _ANY if value == "lead" else str(value))
        elif action == "tag":
            put("tags", str(value))
        elif action == "status":
            put("status", str(value))
            put("sla", _ANY)
        elif action == "involve":
            put("sla", _ANY)  # (the collaboration clock)
    return out


def _can_enable(a: Rule, b: Rule) -> bool:
    reads = b.reads()
    writes = _writes(a)
    for name, values in writes.items():
        if name not in reads:
            continue
        if any(v is _ANY or _accepts(b.when, name, v) for v in values):
            return _compatible(a, writes, b)
    return False


def _compatible(a: Rule, writes: Mapping[str, set[object]], b: Rule) -> bool:
    """Whether ``b``'s condition may hold right after ``a`` fired, as far as the fields
    ``a``'s condition pins to a few values go (``category: outage``) and ``a`` does not
    write: they still hold one of those values, so a ``b`` that needs another
    (``category: how-to``) cannot follow."""
    for name, values in _pinned(a, writes).items():
        for leaf in _leaves(b.when):
            if not isinstance(leaf, FieldCondition) or leaf.name != name:
                continue
            if not any(leaf.matches(Facts(fields={name: value})) for value in values):
                return False
    # (and the other way: a field ``b`` pins that ``a`` does not write held one of those
    # values as ``a`` fired, so an ``a`` that refuses them all, `category: "!=how-to"`
    # before a ``b`` on `category: how-to`, cannot be followed by it)
    for name, values in _pinned(b, {}).items():
        if name in writes or (name == "level" and "team" in writes):
            continue
        for leaf in _leaves(a.when):
            if not isinstance(leaf, FieldCondition) or leaf.name != name:
                continue
            if not any(leaf.matches(Facts(fields={name: value})) for value in values):
                return False
    return True


def _pinned(rule: Rule, writes: Mapping[str, set[object]]) -> dict[str, list[object]]:
    """Field -> the only values it can hold when ``rule``'s condition holds, for the fields
    the condition compares with equality (or null) alone and the rule does not write."""
    out: dict[str, list[object]] = {}
    for leaf in _leaves(rule.when):
        if not isinstance(leaf, FieldCondition) or leaf.name in writes or leaf.name == "tags":
            continue
        if leaf.name == "level" and "team" in writes:
            continue
        values = leaf.only_values()
        if values is not None:  # (two such parts on one field: either's values, to be safe)
            out.setdefault(leaf.name, []).extend(values)
    return out


def _leaves(condition: Condition) -> tuple[Condition, ...]:
    """The conditions all of which ``condition`` needs (itself, or an ``all``'s parts)."""
    return condition.children if isinstance(condition, AllOf) else (condition,)


def _accepts(condition: Condition, name: str, value: object) -> bool:
    """Whether ``condition`` may hold when field ``name`` has ``value`` (False if surely not)."""

    leaves = condition.children if isinstance(condition, AllOf) else (condition,)
    facts_ = Facts(fields={name: [value] if name == "tags" else value})
    for leaf in leaves:
        if isinstance(leaf, FieldCondition) and leaf.name == name and not leaf.matches(facts_):
            return False
    return True


def _conflicting_field(
    rules: Sequence[Rule], priorities: Sequence[str], levels: Mapping[str, int]
) -> str | None:
    """A field the rules write with more than one value, if any: among the writes that do
    not run out (see :func:`_writes`), or one that undoes a one-way move (a team another
    rule escalates up from, a priority another raises).  A priority a rule sets only from
    a lower one is a raise (:func:`_raises_only`), an escalation to a team only from
    below its level a move up (:func:`_goes_up_only`)."""
    # (a write that only moves a field one way: a priority set only from a lower one, a
    # team only from a lower level)
    upward: dict[str, Callable[[Rule, object], bool]] = {
        "priority": lambda rule, value: _raises_only(rule, value, priorities),
        "team": lambda rule, value: _goes_up_only(rule, value, levels),
    }
    seen: dict[str, set[object]] = {}
    one_way: set[str] = set()
    for rule in rules:
        writes = _writes(rule, bounded=False)
        if writes.get("team") and all(upward["team"](rule, v) for v in writes["team"]):
            # (the assignee an escalation up clears runs out with it, as for `escalate: up`)
            writes = {**writes, "assignee": writes.get("assignee", set()) - {None}}
        for name, values in writes.items():
            if name in ("sla", "level", "tags") or not values:
                continue
            if name in upward:
                kept = {v for v in values if not upward[name](rule, v)}
                if kept != values:
                    one_way.add(name)
                if not kept:
                    continue
                values = kept
            seen.setdefault(name, set()).update(values)
    for name, values in seen.items():
        if len(values) > 1:
            return name
    one_way |= {
        "team" if action == "escalate" else "priority"
        for rule in rules
        for action, value in rule.actions
        if (action, value) in (("escalate", "up"), ("priority", "raise"))
    }
    return next((name for name in sorted(one_way) if name in seen), None)


def _raises_only(rule: Rule, value: object, priorities: Sequence[str]) -> bool:
    """Whether the rule's ``priority: value`` only ever raises the priority: its condition
    cannot hold at ``value`` or any priority above it."""
    if not isinstance(value, str) or value not in priorities:
        return False
    above = priorities[priorities.index(value) :]
    return not any(_accepts(rule.when, "priority", p) for p in above)


def _goes_up_only(rule: Rule, value: object, levels: Mapping[str, int]) -> bool:
    """Whether the rule's ``escalate: {to: value}`` only ever moves a ticket up the chain:
    its condition cannot hold at any other team of that team's level or above."""
    if not isinstance(value, str) or value not in levels:
        return False
    return not any(
        _accepts(rule.when, "team", team) and _accepts(rule.when, "level", level)
        for team, level in levels.items()
        if team != value and level >= levels[value]
    )


def _cycles(edges: Mapping[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one rule (Tarjan's algorithm)."""
    counter = [0]
    low: dict[str, int] = {}
    order: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        for nxt in edges[node]:
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            component = set()
            while True:
                item = stack.pop()
                component.add(item)
                if item == node:
                    break
            if len(component) > 1:
                out.append(component)

    for node in edges:
        if node not in order:
            visit(node)
    return out


# ---------------------------------------------------------------- running rules
