"""Reading teams.yaml and rules.yaml: the schema, and validation with exact lines.

Pure: takes the files' text and returns records plus findings; never reads a file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from esc.domain.choices import (
    did_you_mean,
    folded,
    letter_left_out,
    shown,
    swapped,
    unknown_choice,
)
from esc.domain.conditions import BUILT_IN_KEYS, ConditionError, Vocabulary, compile_condition
from esc.domain.config import (
    DEFAULT_PRIORITIES,
    MAX_LEVEL,
    RULES_FILE,
    RULES_KEYS,
    TEAM_KEYS,
    TEAMS_FILE,
    TEAMS_FILE_KEYS,
    Config,
    Finding,
    Route,
    Team,
    vocabulary,
)
from esc.domain.errors import LONE_SURROGATE_PROBLEM, escape_surrogates
from esc.domain.model import holds_lone_surrogate, line_problem, name_problem, one_form
from esc.ticketfile import yaml_text

if TYPE_CHECKING:
    from esc.domain.calendar import Calendar
    from esc.domain.customer_mail import Acknowledge, CustomerMail
    from esc.domain.notify import Notify
    from esc.domain.rules import Rule
    from esc.domain.sla import Policy


class _Reader:
    """Collects findings for one file, with the line of each key."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def add(self, line: int, message: str, *, blocking: bool = True) -> None:
        self.findings.append(Finding(self.path, line, message, blocking))

    def load(self, text: str) -> Any:
        """The file's YAML, or None with a finding: it does not parse, or a key or value
        holds a lone surrogate (``"\\ud800"``), no character, which no ticket, terminal or
        cache could take (each such key or value is named at its line)."""
        from esc.ticketfile.document import conflict_line

        conflict = conflict_line(text)  # (a merge of the file left git's markers in it)
        if conflict is not None:
            self.add(conflict, "unresolved merge conflict: resolve it, then `git add` the file")
            return None
        try:
            data = yaml_text.load_with_lines(text)
        except yaml_text.YamlError as exc:
            self.add(1 if exc.line is None else exc.line + 1, f"does not parse: {exc.problem}")
            return None
        if "\\u" in text or "\\U" in text:  # (only an escape can make one)
            for line, where in _lone_surrogates(data, (), 1):
                self.add(line, f"{where}: {LONE_SURROGATE_PROBLEM}")
        return None if self.findings else data


def _lone_surrogates(
    node: object, path: tuple[str, ...], line: int
) -> list[tuple[int, str]]:
    """The line and key path (``calendars.office.hours``, ``rules[0].then.note``) of each
    key or text value below ``node`` that holds a lone surrogate."""
    found: list[tuple[int, str]] = []
    if isinstance(node, str):
        if holds_lone_surrogate(node):
            found.append((line, ".".join(path) or "a value"))
    elif isinstance(node, CommentedMap):
        for key, value in node.items():
            here = line_of(node, key)
            name = escape_surrogates(str(key))
            if isinstance(key, str) and holds_lone_surrogate(key):
                found.append((here, "key " + ".".join((*path, name))))
            found.extend(_lone_surrogates(value, (*path, name), here))
    elif isinstance(node, CommentedSeq):
        for n, item in enumerate(node):
            at = (*path[:-1], f"{path[-1]}[{n}]") if path else (f"[{n}]",)
            found.extend(_lone_surrogates(item, at, line_of(node, n)))
    return found


def line_of(container: object, key: object = None) -> int:
    """1-based line of ``key`` in a ruamel mapping/sequence (or of the container)."""
    lc = getattr(container, "lc", None)
    if lc is None:
        return 1
    try:
        if isinstance(container, CommentedMap) and key is not None:
            if key not in container:  # (a key named by its text: `2026-01-01:`, `123:`)
                key = next((k for k in container if str(k) == str(key)), key)
            return int(lc.key(key)[0]) + 1
        if isinstance(container, CommentedSeq) and isinstance(key, int):
            return int(lc.item(key)[0]) + 1
    except (KeyError, IndexError, TypeError):
        pass
    return int(lc.line) + 1


def line_at(container: object, location: Sequence[str | int]) -> int:
    """1-based line of the deepest of ``location``'s keys and indexes found below
    ``container`` (a condition's offending key or value; else the nearest that exists)."""
    line = line_of(container)
    for step in location:
        found = (isinstance(container, CommentedMap) and step in container) or (
            isinstance(container, CommentedSeq)
            and isinstance(step, int)
            and 0 <= step < len(container)
        )
        if not found:
            break
        line = line_of(container, step)
        container = container[step]  # type: ignore[index]
    return line


def parse_teams(text: str, path: str = TEAMS_FILE) -> tuple[dict[str, Team], str, list[Finding]]:
    """Teams, the intake team and the findings of teams.yaml."""
    teams, intake, findings, _ = _parse_teams(text, path)
    return teams, intake, findings


def _parse_teams(
    text: str, path: str
) -> tuple[dict[str, Team], str, list[Finding], dict[str, int]]:
    """:func:`parse_teams`, and the line of each team's ``handles``."""
    reader = _Reader(path)
    data = reader.load(text)
    if reader.findings:
        return {}, "", reader.findings, {}
    if not isinstance(data, CommentedMap):
        reader.add(1, "teams.yaml must be a mapping with `intake` and `teams`")
        return {}, "", reader.findings, {}
    # (keys of your own are welcome; one that reads as a misspelt `intake` or `teams` is not)
    for unknown in sorted(set(map(str, data)) - TEAMS_FILE_KEYS):
        if unknown in RULES_KEYS:  # (a section esc reads in rules.yaml: ignored here)
            where = line_of(data, unknown)
            reader.add(where, f"{unknown} belongs in rules.yaml: esc reads it there")
            continue
        hint = did_you_mean(unknown, sorted(TEAMS_FILE_KEYS))
        if hint:  # (beside the key it misspells too, `intak:` below `intake:`, said but not
            # blocking: it may be a key of your own, as `emails:` beside `email:`)
            present = hint.split("'")[1] in set(map(str, data))
            said = f"unknown key {unknown!r}{hint}"
            reader.add(line_of(data, unknown), said, blocking=not present)
    raw_teams = data.get("teams")
    if not isinstance(raw_teams, CommentedMap) or not raw_teams:
        reader.add(line_of(data, "teams"), "`teams` must be a mapping of team names to teams")
        return {}, "", reader.findings, {}
    named = [k for k in raw_teams if isinstance(k, str) or type(k) is int]
    for odd in (k for k in raw_teams if not (isinstance(k, str) or type(k) is int)):
        # (`~:`, `[a]:`, `!!binary …:`: a ticket's team would be written `None`, `('a',)`)
        try:
            where = int(raw_teams.lc.key(odd)[0]) + 1
        except (KeyError, IndexError, TypeError):
            where = line_of(raw_teams)
        said = "binary data" if isinstance(odd, bytes) else shown(odd)
        reader.add(where, f"a team's name must be text, not {said}")
    for key in named:
        problem = name_problem(str(key))
        if problem is not None:  # (`"": …`: `esc escalate --to ''` wrote `team: ""`)
            reader.add(line_of(raw_teams, key), f"team name {shown(key)} {problem}")
    if not named:
        return {}, "", reader.findings, {}
    teams = {str(k): _team(str(k), raw_teams[k], raw_teams, reader) for k in named}
    intake = data.get("intake")
    if "intake" not in data:
        reader.add(1, "intake is missing: the team new tickets go to when no rule routes them")
        intake = next(iter(teams))
    elif not isinstance(intake, str) or intake not in teams:
        hint = did_you_mean(intake, sorted(teams)) if isinstance(intake, str) else ""
        reader.add(line_of(data, "intake"), f"intake: unknown team {shown(intake)}{hint}")
        intake = next(iter(teams))
    _check_references(teams, raw_teams, reader)
    handles = {key: line_of(raw_teams.get(key), "handles") for key in teams}
    return teams, intake, reader.findings, handles


def _team(key: str, raw: object, parent: CommentedMap, reader: _Reader) -> Team:
    where = line_of(parent, key)
    if not isinstance(raw, CommentedMap):
        reader.add(where, f"team {key}: must be a mapping")
        return Team(key, key, 1)
    # (keys of your own are welcome, `slack: "#support"`, as at the top; one that reads as
    # a misspelt key of esc's, `escalate_to:`, is not: the team would silently lack it)
    given = set(map(str, raw))
    for unknown in sorted(given - TEAM_KEYS):
        hint = did_you_mean(unknown, sorted(TEAM_KEYS))
        if hint:  # (beside the key it misspells too, `handle: [data]` below `handles:`, which
            # was ignored and data routed to intake: said, not blocking, as it may be a key
            # of your own, `emails:` beside `email:`)
            present = hint.split("'")[1] in given
            said = f"team {key}: unknown key {unknown!r}{hint}"
            reader.add(line_of(raw, unknown), said, blocking=not present)
    level = raw.get("level", 1)
    if isinstance(level, bool) or not isinstance(level, int) or level < 1:
        reader.add(line_of(raw, "level"), f"team {key}: level must be a positive integer")
        level = 1
    elif level > MAX_LEVEL:  # (a level goes into exports' SQLite, which holds 64 bits)
        reader.add(line_of(raw, "level"), f"team {key}: level {level} is above {MAX_LEVEL}")
        level = 1
    members = _strings(raw, "members", f"team {key}: every member", reader)
    members = _not_none(raw, "members", members, f"team {key}: member", reader)
    for twice in sorted({m for m in members if members.count(m) > 1}):
        said = f"team {key}: members lists {twice!r} twice"
        reader.add(line_of(raw, "members"), said, blocking=False)  # (taken once: harmless)
    members = tuple(dict.fromkeys(members))
    handles = _strings(raw, "handles", f"team {key}: every category in handles", reader)
    handles = _not_none(raw, "handles", handles, f"team {key}: category", reader)
    lead = raw.get("lead")
    if lead is not None and not isinstance(lead, str):
        reader.add(line_of(raw, "lead"), f"team {key}: lead must be a name")
        lead = None
    elif lead is not None and (problem := name_problem(lead)) is not None:
        reader.add(line_of(raw, "lead"), f"team {key}: lead {shown(lead)} {problem}")
        lead = None
    elif lead is not None and lead.strip().casefold() == NOBODY:
        reader.add(line_of(raw, "lead"), f"team {key}: lead {shown(lead)} {_NOBODY_WHY}")
        lead = None
    name = raw.get("name")
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)  # (`name: 2024`: shown as written)
    if name is not None and not isinstance(name, str):  # (`[Customer, Support]`, `true`,
        # `1e3` were shown as Python writes them; audit helper-479)
        reader.add(line_of(raw, "name"), f"team {key}: name must be text")
        name = None
    elif name and (problem := line_problem(name)) is not None:  # (what is shown: one line;
        # "" or blank falls back to the key; `> Escalations` is no filter's: review 482)
        said = problem.replace("it has", "has", 1)
        reader.add(line_of(raw, "name"), f"team {key}: name {shown(name)} {said}")
        name = None
    name = name.strip() if isinstance(name, str) else None
    up = raw.get("escalates_to")
    if isinstance(up, (Mapping, list)):  # (a number is a name: a team may be called 7)
        reader.add(line_of(raw, "escalates_to"), f"team {key}: escalates_to must name a team")
        up = None
    return Team(
        key=key,
        name=name or key,
        level=level,
        members=members,
        lead=lead,
        escalates_to=str(up) if up is not None else None,
        handles=handles,
    )


NOBODY = "none"  # (what `esc assign T none`, `--assignee none` and `--category none` read
# as no one and no category: no person's or category's name)
_NOBODY_WHY = (
    "is what `esc assign T none` and `--assignee none` read as no one: choose another name"
)
_NO_CATEGORY_WHY = "is what `--category none` reads as no category: choose another name"


def _not_none(
    raw: CommentedMap, key: str, names: tuple[str, ...], what: str, reader: _Reader
) -> tuple[str, ...]:
    why = _NOBODY_WHY if key == "members" else _NO_CATEGORY_WHY
    """``names`` (read from ``raw[key]``) but ``none`` in any case, reported at its line."""
    kept = []
    for name in names:
        if name.strip().casefold() == NOBODY:
            where = next((i for i, item in enumerate(raw[key]) if item == name), 0)
            reader.add(line_of(raw[key], where), f"{what} {shown(name)} {why}")
        else:
            kept.append(name)
    return tuple(kept)


def _strings(raw: CommentedMap, key: str, what: str, reader: _Reader) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.add(line_of(raw, key), f"{what} must be in a list")
        return ()
    good = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item:
            problem = name_problem(item)
            if problem is None:
                good.append(item)
            else:
                reader.add(line_of(value, i), f"{what} must be a name; {shown(item)} {problem}")
        else:
            reader.add(line_of(value, i), f"{what} must be a string, not {shown(item)}")
    return tuple(good)


MAX_ID_PREFIX = 32  # (an ID names its file, with room for the rest and a temporary's suffix)


def _check_references(teams: dict[str, Team], raw: CommentedMap, reader: _Reader) -> None:
    _check_cases(teams, raw, reader)
    owners: dict[str, str] = {}
    for team in teams.values():
        raw_team = raw.get(team.key)
        if team.escalates_to is not None and team.escalates_to not in teams:
            reader.add(
                line_of(raw_team, "escalates_to"),
                f"team {team.key}: escalates_to unknown team {shown(team.escalates_to)}"
                + did_you_mean(team.escalates_to, sorted(teams)),
            )
        elif (
            team.escalates_to is not None
            and teams[team.escalates_to].level < team.level
            and all(_level_as_written(raw.get(k)) for k in (team.key, team.escalates_to))
        ):
            # (the next step up the chain, to a less senior level: `escalate --up` lowered
            # the ticket's level, and rules on `level` read it so; audit helper-461)
            up = teams[team.escalates_to]
            reader.add(
                line_of(raw_team, "escalates_to"),
                f"team {team.key} (level {team.level}): escalates_to {up.key}, a lower level"
                f" ({up.level}); the chain goes up: a team escalates to one of its own level"
                " or higher",
            )
        for category in team.handles:
            # (in any case and Unicode form, as every command takes a category: `Billing`
            # beside another team's `billing` sent each spelling to its own team, and
            # validate said ok; audit helper-421)
            key = folded(category)
            if owners.get(key) == team.key:
                said = f"team {team.key}: handles lists {category!r} twice"
                reader.add(line_of(raw_team, "handles"), said)
            elif key in owners:
                reader.add(
                    line_of(raw_team, "handles"),
                    f"category {category!r} is claimed by both {owners[key]} and {team.key}",
                )
            owners.setdefault(key, team.key)
    for team in teams.values():
        seen = [team.key]
        step = team.escalates_to
        while step in teams:
            if step in seen:
                if step == team.key:  # (reported at each team in the cycle, not at those
                    # whose chain only leads into it: their own line is right)
                    chain = " → ".join([*seen, step])
                    where = line_of(raw.get(team.key), "escalates_to")
                    reader.add(where, f"escalation cycle: {chain}")
                break
            seen.append(step)
            step = teams[step].escalates_to


def _level_as_written(raw_team: object) -> bool:
    """Whether a team's level is the one it means: the ``level`` it wrote, or 1 where it
    wrote none (a bad one is said, and taken as 1; so is a team with a key of its own, a
    misspelt `levle:`, whose level is not said again here)."""
    if not isinstance(raw_team, Mapping):
        return True
    if "level" not in raw_team:
        return all(str(key) in TEAM_KEYS for key in raw_team)
    level = raw_team["level"]
    return isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= MAX_LEVEL


def _check_cases(teams: dict[str, Team], raw: CommentedMap, reader: _Reader) -> None:
    """Two teams, or two people, whose names differ only in case (`Support` beside
    `support`, `Alice` beside `alice`): every command takes a name in any case, so one
    of them could never be named (`escalate --to SUPPORT`: unknown team)."""
    seen: dict[str, str] = {}
    for key in teams:
        other = seen.setdefault(key.casefold(), key)
        if other != key:
            said = f"team {key!r} and team {other!r} differ only in case; name them apart"
            reader.add(line_of(raw, key), said)
    people: dict[str, str] = {}
    for team in teams.values():
        for person in team.people:
            other = people.setdefault(person.casefold(), person)
            if other != person:
                key = "members" if person in team.members else "lead"
                said = f"team {team.key}: {person!r} and {other!r} differ only in case"
                # (said, not blocking: both are assigned as written; only a command given
                # the name, in any case, takes one of them)
                reader.add(line_of(raw.get(team.key), key), f"{said}; name them apart",
                           blocking=False)  # fmt: skip


def parse_rules(
    text: str, teams: Mapping[str, Team], path: str = RULES_FILE
) -> tuple[dict[str, Any], list[Finding]]:
    """The settings of rules.yaml (as keyword arguments for Config) and its findings."""
    reader = _Reader(path)
    data = reader.load(text)
    if reader.findings:
        return {}, reader.findings
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        reader.add(1, "rules.yaml must be a mapping")
        return {}, reader.findings
    for unknown in sorted(set(map(str, data)) - RULES_KEYS):
        hint = did_you_mean(unknown, sorted(RULES_KEYS))
        reader.add(line_of(data, unknown), f"unknown key {unknown!r}{hint}")
    priorities = _priorities(data, reader)
    settings: dict[str, Any] = {"priorities": priorities}
    default = data.get("default_priority", "normal" if "normal" in priorities else priorities[0])
    if default not in priorities:
        where = line_of(data, "default_priority")
        hint = did_you_mean(default, priorities) if isinstance(default, str) else ""
        reader.add(where, f"default_priority {shown(default)} is not a priority{hint}")
        default = priorities[0]
    settings["default_priority"] = default
    if "categories" in data:
        settings["categories"] = _not_none(
            data, "categories", _strings(data, "categories", "every category", reader),
            "category", reader,
        )  # fmt: skip
        twice = sorted({c for c in settings["categories"] if settings["categories"].count(c) > 1})
        if twice:  # (said once each, as priorities are: each is one category)
            listed = ", ".join(twice)
            reader.add(line_of(data, "categories"), f"categories lists {listed} more than once")
            settings["categories"] = tuple(dict.fromkeys(settings["categories"]))
        _case_twins(settings["categories"], "category", line_of(data, "categories"), reader)
    settings["priority_matrix"] = _matrix(data, priorities, reader)
    settings["fields"] = _fields(data, reader)
    words = vocabulary(
        teams,
        priorities,
        settings.get("categories"),
        settings["priority_matrix"],
        settings["fields"],
    )
    settings["routing"] = _routing(data, teams, words, reader)
    prefix = data.get("id_prefix", "T")
    if isinstance(prefix, (int, float)) and not isinstance(prefix, bool):
        reader.add(  # (YAML reads `1` as a number, `010` as 10: the text is the user's to say)
            line_of(data, "id_prefix"),
            f'id_prefix {prefix} is read as a number: quote it (id_prefix: "{prefix}")',
        )
        prefix = "T"
    elif not isinstance(prefix, str) or not prefix.isalnum():
        reader.add(line_of(data, "id_prefix"), "id_prefix must be letters or digits, like T or OPS")
        prefix = "T"
    elif len(prefix) > MAX_ID_PREFIX:  # (a file name holds the ID: 255 bytes at most)
        said = f"id_prefix is {len(prefix)} characters long; at most {MAX_ID_PREFIX}, like T or OPS"
        reader.add(line_of(data, "id_prefix"), said)
        prefix = "T"
    settings["id_prefix"] = prefix
    settings["calendars"] = _calendars(data, reader)
    settings["policies"] = _policies(data, settings["calendars"], words, reader)
    settings["automation"] = _automation(data, teams, words, reader)
    loaded = {p.name for p in settings["policies"]} | {r.name for r in settings["automation"]}
    settings["unloaded"] = frozenset(_names_in(data, "sla") | _names_in(data, "rules")) - loaded
    settings["max_actions"] = _max_actions(data, reader)
    settings["notify"] = _notify(
        data, teams, priorities, settings["automation"], reader, settings["calendars"]
    )
    settings["customer_mail"] = _customer_mail(data, settings["notify"], reader)
    return settings, reader.findings


def _check_rule_targets(
    data: CommentedMap, rules: Sequence[Rule], known: tuple[str, ...], reader: _Reader
) -> None:
    """Each name a rule's `notify:` gives must be a target, or a team or person the
    `notify:` section lists."""
    from esc.domain.notify import rule_targets

    for i, rule in enumerate(rules):
        for name in rule_targets(rule.actions):
            if name not in known:
                where = data.get("rules")
                line = line_of(where, i) if isinstance(where, CommentedSeq) else 1
                reader.add(
                    line, f"rule {rule.name}: notify: {unknown_choice('target', name, known)}"
                )


def _customer_mail(
    data: CommentedMap, notify: Notify | None, reader: _Reader
) -> CustomerMail | None:
    """The `customer_mail:` section: a notify target with a mailto:// or mailtos:// URL,
    and the optional acknowledgement (``true`` for the default text, or its templates)."""
    from esc.domain import customer_mail as cm

    raw = data.get(cm.SECTION)
    if raw is None:
        return None
    if not isinstance(raw, CommentedMap):
        reader.add(line_of(data, cm.SECTION), "customer_mail must be a mapping with `target`")
        return None
    for unknown in sorted(set(map(str, raw)) - set(cm.KEYS)):
        reader.add(
            line_of(raw, unknown), f"customer_mail: {unknown_choice('key', unknown, cm.KEYS)}"
        )
    targets = notify.targets if notify is not None else {}
    target = raw.get("target")
    good = True
    if not isinstance(target, str) or target not in targets:
        where = "customer_mail.target"
        if not isinstance(target, str):
            reader.add(line_of(raw, "target"), f"{where} must name a target of notify.targets")
        else:
            reader.add(
                line_of(raw, "target"),
                f"{where}: {unknown_choice('target', target, tuple(targets))}",
            )
        good = False
    elif targets[target].url.partition("://")[0].lower() not in cm.MAIL_SCHEMES:
        reader.add(
            line_of(raw, "target"),
            f"customer_mail.target: notify target {target} is not mail (mailto:// or mailtos://)",
        )
        good = False
    acknowledge = _acknowledge(raw, reader)
    return cm.CustomerMail(str(target), acknowledge) if good else None


def _acknowledge(raw: CommentedMap, reader: _Reader) -> Acknowledge | None:
    from esc.domain import customer_mail as cm

    value = raw.get("acknowledge")
    if value is None or value is False:
        return None
    if value is True:
        return cm.Acknowledge()
    if not isinstance(value, CommentedMap):
        reader.add(
            line_of(raw, "acknowledge"),
            "customer_mail.acknowledge must be true, false or a mapping with subject and body",
        )
        return None
    for unknown in sorted(set(map(str, value)) - set(cm.ACKNOWLEDGE_KEYS)):
        reader.add(
            line_of(value, unknown),
            f"customer_mail.acknowledge: {unknown_choice('key', unknown, cm.ACKNOWLEDGE_KEYS)}",
        )
    texts = {"subject": cm.DEFAULT_SUBJECT, "body": cm.DEFAULT_BODY}
    for key in cm.ACKNOWLEDGE_KEYS:
        text = value.get(key, texts[key])
        where = f"customer_mail.acknowledge.{key}"
        if not isinstance(text, str) or not text.strip():
            reader.add(line_of(value, key), f"{where} must be text")
            continue
        for problem in cm.template_problems(text):
            reader.add(line_of(value, key), f"{where}: {problem}")
        texts[key] = text
    return cm.Acknowledge(texts["subject"], texts["body"])  # (no [{id}]: added in front)


# (at most 64: a message's file is named `EVENT-TARGET.json`, and a 235-character name
# made every sweep fail on `File name too long` before it wrote anything)
_TARGET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def _notify(
    data: CommentedMap,
    teams: Mapping[str, Team],
    priorities: tuple[str, ...],
    rules: Sequence[Rule],
    reader: _Reader,
    calendars: Mapping[str, Calendar] | None = None,
) -> Notify | None:
    """The `notify:` section: targets by URL (never quoted in a finding: a URL may hold a
    secret), who is told, the link; each rule's `notify:` must name a target."""
    from esc.domain.notify import NOTIFY_KEYS, Notify, Target, url_problem, written_secret

    raw = data.get("notify")
    targets: dict[str, Target] = {}
    declared: list[str] = []  # (every target named, its URL usable or not: said once)
    if raw is not None and not isinstance(raw, CommentedMap):
        reader.add(line_of(data, "notify"), "notify must be a mapping with `targets`")
        raw = None
    if raw is not None:
        for unknown in sorted(set(map(str, raw)) - NOTIFY_KEYS):
            hint = did_you_mean(unknown, sorted(NOTIFY_KEYS))
            reader.add(line_of(raw, unknown), f"notify: unknown key {unknown!r}{hint}")
        found = raw.get("targets")
        if not isinstance(found, CommentedMap):
            reader.add(line_of(raw, "targets"), "notify.targets must map names to URLs")
            found = CommentedMap()
        for name, url in found.items():
            line = line_of(found, name)
            if not isinstance(name, str) or not _TARGET_NAME.fullmatch(name):
                reader.add(
                    line,
                    f"notify target {name!r}: a name of up to 64 letters, digits, '-', '_' and"
                    " '.' (it names the outbox's files)",
                )
                continue
            twin = next((d for d in declared if d.casefold() == name.casefold()), None)
            if twin is not None:  # (the outbox's files are named after the target: on a
                # file system that ignores case, macOS's or Windows's, one overwrote the other)
                reader.add(
                    line,
                    f"notify target {name!r} and target {twin!r} differ only in case; name"
                    " them apart (the outbox's files are named after them)",
                )
            declared.append(name)
            if not isinstance(url, str):
                reader.add(line, f"notify target {name}: must be a URL")
                continue
            problem = url_problem(url)
            if problem is not None:
                reader.add(line, f"notify target {name}: {problem}")
                continue
            secret = written_secret(url)
            if secret is not None:  # (it works, but goes into git with rules.yaml)
                reader.add(
                    line,
                    f"notify target {name}: {secret} is written in rules.yaml, which git keeps"
                    " and shares: put it in an environment variable (${NAME}) instead",
                    blocking=False,
                )
            targets[str(name)] = Target(str(name), url, line)
    if raw is None:
        _check_rule_targets(data, rules, tuple(targets), reader)
        return None
    names = tuple(targets)
    groups: dict[str, dict[str, tuple[str, ...]]] = {}
    people = tuple(dict.fromkeys(p for team in teams.values() for p in team.people))
    for key, known in (("teams", tuple(teams) or None), ("people", people or None)):
        section = raw.get(key)
        groups[key] = {}
        if section is None:
            continue
        if not isinstance(section, CommentedMap):
            reader.add(line_of(raw, key), f"notify.{key} must map names to targets")
            continue
        for raw_who, value in section.items():
            line = line_of(section, raw_who)
            who = str(raw_who)
            same = [k for k in known or () if one_form(k) == one_form(who)]
            if known is not None and who not in known and same:  # (in the other Unicode
                # form: `zoë` typed NFD was "unknown person 'zoë' (did you mean 'zoë'?)",
                # and never told; audit helper-423)
                who = same[0]
            if known is not None and who not in known:
                what = "team" if key == "teams" else "person"
                said = f"notify.{key}: {unknown_choice(what, str(who), known)}"
                # (a person teams.yaml does not name: said, not blocking (one a rule's
                # `notify:` names may be no member); a misspelt one is never told)
                reader.add(line, said, blocking=key == "teams")
            chosen = (
                (value,)
                if isinstance(value, str)
                else tuple(value)
                if isinstance(value, list)
                else ()
            )
            for target in chosen:
                if target not in names and target not in declared:  # (a bad URL: said)
                    reader.add(
                        line, f"notify.{key}.{who}: {unknown_choice('target', str(target), names)}"
                    )
            groups[key][str(who)] = tuple(str(t) for t in chosen if t in names)
    _check_rule_targets(data, rules, (*names, *groups["teams"], *groups["people"]), reader)
    link = raw.get("link")
    if link is not None and not (
        isinstance(link, str) and link.startswith(("http://", "https://"))
    ):
        reader.add(
            line_of(raw, "link"), "notify.link must be an http(s) URL, with {id} for the ticket"
        )
        link = None
    elif isinstance(link, str) and (odd := _odd_braces(link)):
        reader.add(
            line_of(raw, "link"),
            f"notify.link: unknown placeholder {odd}; known: {{id}} (the ticket's ID)",
        )
    elif isinstance(link, str) and "{id}" not in link:  # (a base URL, as the repository's
        link = link.rstrip("/") + "/tickets/{id}.md"  # file view: each ticket's file in it)
    floor = raw.get("created_at_or_above")
    if floor is not None and floor not in priorities:
        reader.add(
            line_of(raw, "created_at_or_above"),
            f"notify.created_at_or_above: {shown(floor)} is not a priority"
            + (did_you_mean(floor, priorities) if isinstance(floor, str) else ""),
        )
        floor = None
    low = raw.get("low_csat", 2)
    if isinstance(low, bool) or not isinstance(low, int) or not 1 <= low <= 5:
        reader.add(line_of(raw, "low_csat"), "notify.low_csat must be 1 to 5")
        low = 2
    quiet = _quiet_hours(raw, names, calendars or {}, reader)
    return Notify(targets, groups["teams"], groups["people"], link, floor, low, quiet)


def _quiet_hours(
    raw: CommentedMap, targets: tuple[str, ...], calendars: Mapping[str, Calendar], reader: _Reader
) -> dict[str, Calendar]:
    """`notify.quiet`: target -> the calendar of its working hours (outside them, messages
    that are not urgent wait, and go together at the next working hour)."""
    section = raw.get("quiet")
    if section is None:
        return {}
    if not isinstance(section, CommentedMap):
        reader.add(line_of(raw, "quiet"), "notify.quiet must map targets to calendars")
        return {}
    quiet: dict[str, Calendar] = {}
    for target, calendar in section.items():
        line = line_of(section, target)
        if target not in targets:
            reader.add(line, f"notify.quiet: {unknown_choice('target', str(target), targets)}")
        elif not isinstance(calendar, str) or calendar not in calendars:
            choice = unknown_choice("calendar", calendar, tuple(calendars))
            reader.add(line, f"notify.quiet.{target}: {choice}")
        else:
            quiet[str(target)] = calendars[calendar]
    return quiet


def _odd_braces(link: str) -> str | None:
    """The first brace in ``link`` that is not part of ``{id}`` (a misspelt ``{ID}``, a
    stray ``{``), as written; None if there is none."""
    rest = link.replace("{id}", "")
    for brace in ("{", "}"):
        at = rest.find(brace)
        if at != -1:
            end = rest.find("}", at) if brace == "{" else at
            return rest[at : end + 1] if end != -1 else rest[at:]
    return None


def _calendars(data: CommentedMap, reader: _Reader) -> dict[str, Calendar]:
    from esc.domain.calendar import CalendarError, parse_calendar

    raw = data.get("calendars")
    if raw is None:
        return {}
    if not isinstance(raw, CommentedMap):
        reader.add(line_of(data, "calendars"), "calendars must map names to calendars")
        return {}
    calendars = {}
    for name, spec in raw.items():
        try:
            calendars[str(name)] = parse_calendar(str(name), spec)
        except CalendarError as exc:
            message = str(exc)
            if not message.startswith(f"calendars.{name}"):
                message = f"calendars.{name}: {message}"
            reader.add(_deepest_line(raw, name, message), message)
    return calendars


def _deepest_line(raw: CommentedMap, name: object, message: str) -> int:
    """The line of the key a calendar error names (e.g. ``hours.fri``, ``holidays[0]``, an
    unknown key), else the calendar.  (Guessed from key names anywhere in the message, a
    misspelt `timezon:` was said at the `holidays:` line its hint names: helper-452.)"""
    spec = raw.get(name)
    line = line_of(raw, name)
    unknown = re.search(r'unknown key "([^"]+)"', message)
    if isinstance(spec, CommentedMap) and unknown is not None and unknown[1] in spec:
        return line_of(spec, unknown[1])
    path = message.split(": ", 1)[0].removeprefix(f"calendars.{name}")
    step = re.match(r"\.(hours|holidays|timezone)(?:\[(\d+)\]|\.([^.\[]+))?", path)
    if isinstance(spec, CommentedMap) and step is not None and step[1] in spec:
        inner = spec[step[1]]
        if step[2] is not None and isinstance(inner, CommentedSeq) and int(step[2]) < len(inner):
            return line_of(inner, int(step[2]))
        if step[3] is not None and isinstance(inner, CommentedMap) and step[3] in inner:
            return line_of(inner, step[3])
        return line_of(spec, step[1])
    for key in ("hours", "holidays", "timezone"):
        if isinstance(spec, CommentedMap) and key in spec and key in message:
            line = line_of(spec, key)
            inner = spec[key]
            if isinstance(inner, CommentedMap):
                for sub in inner:
                    if f".{sub}" in message or f"{key}.{sub}" in message:
                        return line_of(inner, sub)
    return line


def _fields(data: CommentedMap, reader: _Reader) -> tuple[str, ...]:
    """The custom front-matter fields conditions may read (``fields: [vip, region]``)."""
    declared = _strings(data, "fields", "every field in fields", reader)
    good = []
    for i, name in enumerate(declared):
        where = line_of(data.get("fields"), i)
        own = name in ("escalations", "requests", "fired")
        if name in BUILT_IN_KEYS or name.startswith("sla.") or own:
            reader.add(where, f"fields: {name!r} is one of esc's own fields; list custom ones only")
        elif name in good:
            reader.add(where, f"fields: {name!r} is listed twice")
        else:
            good.append(name)
            own_name = _swapped_builtin(name)
            if own_name is not None:  # (a condition on it matches nothing: the misspelling
                # is declared; it still works as a field of its own, so only validate says)
                reader.add(where, f"fields: {name!r} is esc's own {own_name!r} misspelt?"
                           " (a custom field needs a name of its own)", blocking=False)  # fmt: skip
    return tuple(good)


def _swapped_builtin(name: str) -> str | None:
    """The field of esc's own ``name`` is with two neighbouring letters swapped
    (``prioirty``), or, for one of five letters or more, with one letter left out
    (``priorty``, ``categry``), if any: a typo, not a field of its own (one letter changed
    or added may well be a field of its own: ``assigned``, ``assignees``)."""
    return next(
        (own for own in sorted(BUILT_IN_KEYS)
         if swapped(name, own) or (len(own) >= 5 and letter_left_out(name, own))),
        None,
    )  # fmt: skip


def _names_in(data: CommentedMap, key: str) -> set[str]:
    """The ``name:`` of each item of the list ``key`` (the policies, the rules) as written."""
    items = data.get(key)
    if not isinstance(items, CommentedSeq):
        return set()
    named = (item.get("name") for item in items if isinstance(item, CommentedMap))
    return {name for name in named if isinstance(name, str)}


def _policies(
    data: CommentedMap,
    calendars: Mapping[str, Calendar],
    words: Vocabulary,
    reader: _Reader,
) -> tuple[Policy, ...]:
    from esc.domain.sla import PolicyError, parse_policy

    raw = data.get("sla")
    if raw is None:
        return ()
    if not isinstance(raw, CommentedSeq):
        reader.add(line_of(data, "sla"), "sla must be a list of policies")
        return ()
    policies: list[Policy] = []
    written = data.get("calendars")  # (a calendar written there but broken is named there:
    broken = {str(k) for k in written} - set(calendars) if isinstance(written, dict) else set()
    for i, item in enumerate(raw):  # not again as unknown, by each policy that uses it)
        if not isinstance(item, CommentedMap):
            reader.add(line_of(raw, i), f"sla[{i}] must be a mapping")
            continue
        try:
            policy = parse_policy(item, calendars, words, f"sla[{i}]")
            if any(p.name == policy.name for p in policies):  # (the `sla:` block, the log
                # and the reports name a policy: a change between two of one name was
                # never logged, and tickets were blamed for the name; audit helper-452)
                where = _line_of_error(item, "name", ()) or line_of(raw, i)
                reader.add(where, f"sla[{i}]: two policies are named {policy.name!r}")
                continue
            policies.append(policy)
        except PolicyError as exc:
            if exc.key == "calendar" and str(item.get("calendar")) in broken:
                continue
            where = _line_of_error(item, exc.key, exc.location) or line_of(raw, i)
            reader.add(where, f"sla[{i}]: {exc}")
    return tuple(policies)


def _automation(
    data: CommentedMap, teams: Mapping[str, Team], words: Vocabulary, reader: _Reader
) -> tuple[Rule, ...]:
    from esc.domain.conditions import values_named
    from esc.domain.rules import RuleError, acts_on_no_active_ticket, loop_findings, parse_rule

    raw = data.get("rules")
    if raw is None:
        return ()
    if not isinstance(raw, CommentedSeq):
        reader.add(line_of(data, "rules"), "rules must be a list of rules")
        return ()
    rules: list[Rule] = []
    lines: list[int] = []
    whens: list[tuple[int, int]] = []  # (each rule's index, and the line of its `when:`)
    for i, item in enumerate(raw):
        if not isinstance(item, CommentedMap):
            reader.add(line_of(raw, i), f"rules[{i}] must be a mapping")
            continue
        try:
            rules.append(parse_rule(item, teams, words, f"rules[{i}]", {r.name for r in rules}))
            lines.append(line_of(raw, i))
            whens.append((i, line_of(item, "when") if "when" in item else line_of(raw, i)))
        except RuleError as exc:
            where = _line_of_error(item, exc.key, exc.location) or line_of(raw, i)
            text = str(exc)  # (a condition's error names its path already: not twice)
            reader.add(where, text if text.startswith(f"rules[{i}]") else f"rules[{i}]: {text}")
    people = sorted({p for team in teams.values() for p in team.people})
    for rule, (i, line) in zip(rules, whens, strict=True):  # (not blocking: a person who
        # left may still hold tickets; a misspelt name never matches)
        for value in values_named(rule.when, "assignee"):
            if teams and isinstance(value, str) and value not in people:
                said = unknown_choice("person", value, people)
                reader.add(line, f"rules[{i}].when.assignee: {said} (rule {rule.name})",
                           blocking=False)  # fmt: skip
        if acts_on_no_active_ticket(rule):  # (not blocking: it does nothing, as it says)
            reader.add(line, f"rules[{i}].when.status: rule {rule.name} never fires: its"
                       " status holds only for resolved or closed tickets, and rules act on"
                       " new, open and pending ones", blocking=False)  # fmt: skip
    levels = {name: team.level for name, team in teams.items()}
    for index, message in loop_findings(rules, words.priorities, levels):  # (the cap stops
        # them)
        reader.add(lines[index], message, blocking=False)
    return tuple(rules)


def _line_of_error(
    item: CommentedMap, key: str | None, location: Sequence[str | int]
) -> int | None:
    """The line of the key a policy's or rule's error names (and of the place below it)."""
    return line_at(item, (key, *location)) if key is not None and key in item else None


def _max_actions(data: CommentedMap, reader: _Reader) -> int:
    value = data.get("max_actions_per_ticket", 10)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        reader.add(line_of(data, "max_actions_per_ticket"), "max_actions_per_ticket must be >= 1")
        return 10
    return value


def _priorities(data: CommentedMap, reader: _Reader) -> tuple[str, ...]:
    if "priorities" not in data:
        return DEFAULT_PRIORITIES
    values = _strings(data, "priorities", "every priority", reader)
    if len(values) < 1 or len(set(values)) != len(values):
        reader.add(line_of(data, "priorities"), "priorities must be a list of distinct names")
        return DEFAULT_PRIORITIES
    _case_twins(values, "priority", line_of(data, "priorities"), reader)
    return values


def _case_twins(values: Sequence[str], what: str, line: int, reader: _Reader) -> None:
    """Two values of a list whose names differ only in case (`High` beside `high`): every
    command takes them in any case, so one of them could never be given (`--priority high`
    was refused, "did you mean 'High'")."""
    seen: dict[str, str] = {}
    for value in values:
        other = seen.setdefault(value.casefold(), value)
        if other != value:
            reader.add(line, f"{what} {value!r} and {what} {other!r} differ only in case;"
                             " name them apart")  # fmt: skip


def _matrix(
    data: CommentedMap, priorities: Sequence[str], reader: _Reader
) -> dict[str, dict[str, str]] | None:
    raw = data.get("priority_matrix")
    if raw is None:
        return None
    if not isinstance(raw, CommentedMap) or not raw:
        reader.add(line_of(data, "priority_matrix"), "priority_matrix must map impact to urgency")
        return None
    rows = {str(impact): row for impact, row in raw.items() if isinstance(row, CommentedMap)}
    # (every row maps the same urgencies: those most rows map, so that the row that lacks
    # one is named, not the rows after the first, which it was compared with)
    kinds = Counter(frozenset(map(str, row)) for row in rows.values())
    most = kinds.most_common(1)[0][0] if kinds else frozenset()
    shapes = [list(map(str, row)) for row in rows.values()]
    urgencies = next((keys for keys in shapes if frozenset(keys) == most), [])
    matrix: dict[str, dict[str, str]] = {}
    for impact, row in raw.items():
        if not isinstance(row, CommentedMap):
            reader.add(
                line_of(raw, impact), f"priority_matrix.{impact} must map urgency to priority"
            )
            continue
        for urgency, priority in row.items():
            if priority not in priorities:
                reader.add(
                    line_of(row, urgency),
                    f"priority_matrix.{impact}.{urgency}: {shown(priority)} is not a priority"
                    + (did_you_mean(priority, priorities) if isinstance(priority, str) else ""),
                )
        matrix[str(impact)] = mapped = {str(u): str(p) for u, p in row.items()}
        lacks = [u for u in urgencies if u not in mapped]
        extra = [u for u in mapped if u not in most]
        if lacks or extra:
            said = [f"it lacks {', '.join(lacks)}"] if lacks else []
            said += [f"it has {', '.join(extra)}, which the others lack"] if extra else []
            reader.add(
                line_of(raw, impact),
                f"priority_matrix.{impact} must map the urgencies the other rows map"
                f" ({', '.join(urgencies)}): {'; '.join(said)}",
            )
    _misspelt_impacts(raw, matrix, urgencies, reader)
    return matrix


def _misspelt_impacts(
    raw: CommentedMap, matrix: Mapping[str, object], urgencies: Sequence[str], reader: _Reader
) -> None:
    """A row named like no urgency but close to one no row is named (``hgh:`` beside the
    urgencies high, medium, low) is a misspelt impact, not a new one: the tickets'
    ``impact: high`` would be refused, and nothing asks for ``hgh``."""
    unnamed = [u for u in urgencies if u not in matrix]
    for impact in matrix:
        others = [i for i in matrix if i != impact]
        shared = bool(others) and all(i in urgencies for i in others)  # (one scale)
        # (a scale shifted by a number, impacts sev2-sev4 beside urgencies sev1-sev3: no
        # misspelling; review helper-398)
        apart = [u for u in unnamed if re.sub(r"\d", "", u) != re.sub(r"\d", "", impact)]
        hint = did_you_mean(impact, apart) if shared and impact not in urgencies else ""
        if hint:
            reader.add(
                line_of(raw, impact),
                f"priority_matrix.{impact}: impact {impact!r} is named like no urgency{hint};"
                f" the others are named as the urgencies are ({', '.join(urgencies)})",
            )


def _routing(
    data: CommentedMap, teams: Mapping[str, Team], words: Vocabulary, reader: _Reader
) -> tuple[Route, ...]:
    raw = data.get("routing")
    if raw is None:
        return ()
    if not isinstance(raw, CommentedSeq):
        reader.add(line_of(data, "routing"), "routing must be a list of {when, team}")
        return ()
    routes = []
    for i, item in enumerate(raw):
        where = line_of(raw, i)
        if not isinstance(item, CommentedMap):
            reader.add(where, f"routing[{i}] must be a mapping with `when` and `team`")
            continue
        unknown = [k for k in item if k not in ROUTING_KEYS]
        if unknown:  # (before a missing `team`: `teem:` is said as a misspelt key)
            key = str(unknown[0])
            reader.add(line_of(item, unknown[0]), f"routing[{i}]: "
                       f"{unknown_choice('key', key, ROUTING_KEYS)}")  # fmt: skip
            continue
        if "team" not in item:
            reader.add(where, f"routing[{i}] must be a mapping with `when` and `team`")
            continue
        team = item["team"]
        if isinstance(team, (Mapping, list, AbstractSet)):  # (a list of teams, `[sre,
            # engineering]`, was an internal error: unhashable; a route goes to one team;
            # audit helper-479.  A number may name a team: said as unknown, did you mean)
            reader.add(line_of(item, "team"), f"routing[{i}]: team must name one team")
            continue
        if teams and team not in teams:  # (no teams: teams.yaml is broken, its own finding)
            reader.add(
                line_of(item, "team"), f"routing[{i}]: {unknown_choice('team', team, tuple(teams))}"
            )
            continue
        category = item.get("category")
        if category is not None and (
            not isinstance(category, str)
            or (words.categories is not None and category not in words.categories)
        ):
            choices = tuple(words.categories or ())
            reader.add(line_of(item, "category"), f"routing[{i}]: "
                       f"{unknown_choice('category', str(category), choices)}")  # fmt: skip
            continue
        try:
            condition = compile_condition(
                item.get("when"), words, path=f"routing[{i}].when", before_sla="a route"
            )
        except ConditionError as exc:
            reader.add(line_at(item, ("when", *exc.location)), str(exc))
            continue
        routes.append(Route(condition, str(team), category))
    return tuple(routes)


ROUTING_KEYS = ("when", "team", "category")


def build_config(
    teams_text: str, rules_text: str, teams_path: str = TEAMS_FILE, rules_path: str = RULES_FILE
) -> tuple[Config | None, list[Finding]]:
    """The whole configuration and every finding; Config is None if it cannot be used."""
    teams, intake, findings, handles = _parse_teams(teams_text, teams_path)
    settings, rule_findings = parse_rules(rules_text, teams, rules_path)
    findings = findings + rule_findings
    categories: tuple[str, ...] = settings.get("categories") or ()
    findings += [
        Finding(
            teams_path,
            handles[team.key],
            f"team {team.key} handles {category!r}, which is not in {rules_path}'s categories"
            + did_you_mean(category, categories),
        )
        for team in (teams.values() if "categories" in settings else ())
        for category in team.handles
        if category not in categories
    ]
    if not teams or not settings:
        return None, findings
    return Config(teams=teams, intake=intake, **settings), findings


def usable_config(teams_text: str, rules_text: str) -> Config | None:
    """The configuration the two files' texts make, if every command can run on it (no
    blocking finding); else None."""
    config, findings = build_config(teams_text, rules_text)
    return None if config is None or any(f.blocking for f in findings) else config
