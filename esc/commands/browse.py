"""The commands that read tickets: show, list, log and explain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

from esc.commands.session import Output, Session
from esc.domain import query
from esc.domain.conditions import split_comparison
from esc.domain.config import Config
from esc.domain.errors import BadInput, ParseError
from esc.domain.model import ACTIVE_STATUSES, Activity, Ticket
from esc.domain.sla import Clock, Sla, request_clocks
from esc.domain.timestamps import format_timestamp
from esc.report import views
from esc.report.slas import sla_now, sla_states_now
from esc.report.terminal import printable
from esc.store import cache_codec
from esc.store.cache_codec import Listing
from esc.store.catalog import Catalog, Record
from esc.store.catalog import load as load_catalog
from esc.store.workspace import Workspace
from esc.ticketfile import problems


def show(session: Session, ref: str, as_json: bool) -> Output:
    """One ticket: facts, SLA clocks, escalations, description and conversation."""
    from esc.domain.plan import sla_of  # (here: `esc list` needs none of the sweep's plan)

    doc = session.workspace.load(ref)
    ticket = doc.ticket
    config, now = session.config, session.now
    sla = sla_of(ticket, config, now)
    # (one that does not fit the configuration, a team since renamed say, is shown, and
    # its problems are findings: exit 1, as every command that counts it says)
    misfit = [] if config.fits(ticket) else [
        str(ParseError(f.path, f.line, f.message))
        for f in problems.check_ticket(doc, config) if f.blocking
    ]  # fmt: skip
    from esc.commands import kb  # (list, log and explain need none of the knowledge base)
    from esc.report import kb as kb_views

    suggestions, notes = kb.suggestions_for_show(session, ticket, config)
    if as_json:
        data = views.ticket_json(ticket, config, full=True, sla=sla)
        if suggestions is not None:  # (`[]` when no article matches, as `suggest --json`)
            data["suggestions"] = [kb_views.suggestion_json(s) for s in suggestions]
        return Output(data=data, notes=misfit + notes, code=1 if misfit else 0)
    section = kb_views.suggestion_lines(suggestions or [], session.colour)
    article, unknown = kb.article_for_show(session, doc)
    text = views.ticket_text(ticket, config, now, session.colour, sla, section, article)
    return Output(text=text + "\n", notes=misfit + notes + unknown, code=1 if misfit else 0)


def list_tickets(
    session: Session,
    statuses: tuple[str, ...],
    all_: bool,
    filters: Mapping[str, Sequence[str]],
    overdue: bool,
    sort: str | None,
    as_json: bool,
    involving: Sequence[str] = (),
) -> Output:
    """Tickets as a table (or JSON), filtered and sorted; ``filters`` maps team, priority,
    assignee, category, tags and level to what they may be (any of the values given; none
    given: anything);
    ``involving``: only tickets with an open request to any of those teams.

    Without filters or ``--sort`` the rows come from what the cache keeps for them (what a
    row shows, the numbers of its SLA cell, each ticket's fixed JSON text): a ticket is
    built only for a filter or a sort, or where the cache cannot answer."""
    config, now = session.config, session.now
    involving = [query.in_its_case(config, "team", _one_team(team)) for team in involving]
    catalog, records, broken = load_catalog(session.workspace, session.now)
    spec: dict[str, object] = {}
    if statuses or not all_:
        wanted_statuses = list(statuses or ACTIVE_STATUSES)
        records = [r for r in records if r.status in wanted_statuses]
        # (no status in ``spec``: the records are filtered already, and click checked
        # the names; a spec left empty matches without looking at any ticket)
    if overdue and not involving:  # judged by the numbers kept with each SLA: built for
        # the overdue only (a team's queue judges the clocks of the requests to it, below)
        records = [r for r in records if catalog.standing(r, now) in (None, "overdue")]
    for key, given in filters.items():  # (a value given more than once: any of them)
        if not given:
            continue
        option = "--tag" if key == "tags" else f"--{key}"
        if any(not v.strip() for v in given):  # (`--team ''` listed nothing, exit 0)
            raise BadInput(f"{option} must not be empty")
        if key in ("assignee", "category"):  # (`none` in any case, as `assign T NONE` and
            # `classify --category None` take it: `--assignee NONE` listed nothing, exit 0)
            given = ["none" if v.strip().casefold() == "none" else v for v in given]
        spelled = [query.in_its_case(config, key, v) for v in given]
        if key == "assignee" or (key == "category" and config.categories is None):  # (an
            # open set: the file's own spelling as given too, `category: DATA` written by
            # hand or by an older esc)
            given = list(dict.fromkeys([*spelled, *given]))
        else:
            given = spelled
        if key == "level":
            values: list[object] = [query.level_value(v) for v in given]
        elif key in ("assignee", "category"):  # (`none`: the tickets without one)
            values = [None if v == "none" else v for v in given]
        else:
            values = list(given)
        spec[key] = values[0] if len(values) == 1 else values
    listings: dict[str, Listing] = {}  # (what the cache keeps of the rows, once read)
    if spec or sort is not None or involving:
        chosen = _selected(catalog, records, spec, sort, involving, now)
        # (one whose team or priority the configuration lacks cannot be judged by a
        # filter on them, and was left out without a word, exit 0: a finding, as it is
        # listed unfiltered; review helper-474)
        kept = {r.name for r in chosen}
        unjudged = [
            r for r in records if r.name not in kept and _unknown_to(config, catalog.listing(r))
        ]
        broken = broken + [e for r in unjudged for e in catalog.misfits(r)]
    else:  # (in the order query.select gives, by the cached rows)
        listings = {r.name: catalog.listing(r) for r in records}
        ranks = {p: -config.rank(p) for p in {listing[1] for listing in listings.values()}}

        def order(record: Record) -> tuple[int, float, str]:  # (priority, created, ID)
            listing = listings[record.name]
            return ranks[listing[1]], listing[5], listing[0]

        chosen = sorted(records, key=order)
    del records
    # (the table shows one clock's state and deadline; --overdue judges every clock)
    slas: dict[str, Sla] | None = None
    if overdue and involving:
        sla_at = sla_now if as_json else sla_states_now  # (--json shows the time used)
        judged = {r.name: sla_at(catalog, r, now) for r in chosen}
        catalog.save()
        chosen = [r for r in chosen if _overdue(r.ticket, judged[r.name], involving, now)]
        if sort is None:  # (most overdue first: by the team's own clocks, in its queue)
            chosen.sort(key=lambda r: -_overdue_by(r.ticket, judged[r.name], involving, now))
        slas = judged
    elif overdue:
        slas, chosen = _overdue_records(catalog, chosen, now, as_json, sort is None)
    # (a ticket that does not fit the configuration, a team since renamed say, is listed,
    # and a finding: the cache keeps no SLA for one, so only those are looked at)
    broken = broken + [e for r in chosen if catalog.standing(r, now) is None
                       for e in catalog.misfits(r)]  # fmt: skip
    output = Output(notes=[str(error) for error in broken], code=1 if broken else 0)
    if as_json:
        listings.clear()  # (not needed while the JSON streams)
        output.items = _json_items(catalog, chosen, slas, now, involving)
    elif chosen:
        moment = now.timestamp()
        rows = [
            _queue_row(catalog, r, involving, now, slas)
            if involving
            else _row(catalog, r, listings.pop(r.name, None), now, moment, slas)
            for r in chosen
        ]
        del chosen, listings
        catalog.let_go()  # (the table needs the memory more: 100k rows)
        output.text = views.list_table(rows, session.width, session.colour)
    else:
        output.notes.append("no tickets match")
    return output


def _unknown_to(config: Config, listing: Listing) -> bool:
    """Whether a ticket's row names a priority or team ``config`` lacks."""
    return listing[1] not in config.priorities or listing[3] not in config.teams


def _one_team(given: str) -> str:
    """A ``--involving`` team: ``=ops`` is ``ops``, as ``--team =ops`` is; anything else as
    given (a comparison names no one team: refused as an unknown team)."""
    if not given.strip():  # (as `--team ''` is: it said "unknown team ''")
        raise BadInput("--involving must not be empty")
    operator, word = split_comparison(given)
    return word if operator in ("", "=") else given


def _overdue_records(
    catalog: Catalog, records: list[Record], now: dt.datetime, as_json: bool, ordered: bool
) -> tuple[dict[str, Sla], list[Record]]:
    """The overdue of ``records`` (most overdue first if ``ordered``, else in their order),
    judged and ordered by the numbers kept with each SLA: an SLA is built only for a ticket
    those cannot answer for (returned with it: its row shows it), so that 10,000 overdue
    tickets are not held as objects (``list --overdue`` at 100k: ~60 MB)."""
    built: dict[str, Sla] = {}
    late: dict[str, float] = {}  # the deadline furthest past, of each overdue ticket
    sla_at = sla_now if as_json else sla_states_now  # (--json shows the time used)
    for record in records:
        due = catalog.overdue_since(record, now)
        if due is None:
            sla = sla_at(catalog, record, now)
            if not _overdue(None, sla, (), now):
                continue
            built[record.name] = sla
            due = min(c.due for c in sla.overdue_clocks if c.due is not None).timestamp()
        late[record.name] = due
    if built:
        catalog.save()
    chosen = [r for r in records if r.name in late]
    if ordered:  # (as Sla.overdue orders them: by the earliest deadline a running clock missed)
        chosen.sort(key=lambda r: late[r.name])
    return built, chosen


def _overdue(ticket: Ticket | None, sla: Sla, teams: Sequence[str], now: dt.datetime) -> bool:
    """Whether a ticket is overdue, as ``--overdue`` judges it: a clock of its SLA running
    past its deadline; in a team's queue (``ticket`` given, of ``list --involving``), the
    OLA clock of an open request to the team, where the policy sets one (the clock the
    queue shows), not another team's."""
    clocks = [] if ticket is None else _team_clocks(ticket, sla, teams, now)
    if not clocks:
        return bool(sla.overdue_clocks)
    return any(clock.state == "breached" and clock.stop is None for clock in clocks)


def _overdue_by(ticket: Ticket | None, sla: Sla, teams: Sequence[str], now: dt.datetime) -> float:
    """How far past its deadline (seconds) the clock :func:`_overdue` judged a ticket by
    is: the ticket's most overdue one, or in a team's queue the team's own request's."""
    clocks = [] if ticket is None else _team_clocks(ticket, sla, teams, now)
    if not clocks:
        return (sla.overdue or dt.timedelta()).total_seconds()
    late = [c.due for c in clocks if c.state == "breached" and c.stop is None and c.due]
    return max((now - due).total_seconds() for due in late) if late else 0.0


def _team_clocks(ticket: Ticket, sla: Sla, teams: Sequence[str], now: dt.datetime) -> list[Clock]:
    """The OLA clocks of ``ticket``'s requests to ``teams`` open at ``now`` (none where the
    policy of ``sla`` sets no ``collaboration`` target)."""
    ola = request_clocks(ticket, sla.policy, now)
    return [
        clock
        for request, clock in zip(ticket.requests, ola, strict=True)
        if clock is not None and request.team in teams and request.open_at(now)
    ]


def _selected(
    catalog: Catalog,
    records: list[Record],
    spec: dict[str, object],
    sort: str | None,
    involving: Sequence[str],
    now: dt.datetime,
) -> list[Record]:
    """The records whose tickets ``spec`` and ``involving`` choose, in ``sort`` order (as
    :func:`esc.domain.query.select` orders their tickets: built for it)."""
    tickets = [r.ticket for r in records]
    record_of = {id(t): r for t, r in zip(tickets, records, strict=True)}
    if involving:
        tickets = query.involving(tickets, catalog.config, involving)
    spec = _in_every_case(spec, tickets, catalog.config.categories is None)
    return [record_of[id(t)] for t in query.select(tickets, catalog.config, spec, sort, now)]


def _in_every_case(
    spec: dict[str, object], tickets: list[Ticket], open_categories: bool
) -> dict[str, object]:
    """``spec`` with each assignee (and category, where rules.yaml lists none) given as a
    plain value matching every spelling the tickets have of it in another case: `--category
    shipping` lists `category: Shipping` too, as a value the configuration names is taken
    in any case (an open set has no spelling of its own to take)."""
    keys = ("assignee", "category") if open_categories else ("assignee",)
    out = dict(spec)
    for key in keys:
        if key not in spec:
            continue
        value = spec[key]
        given: list[object] = list(value) if isinstance(value, list) else [value]
        plain = {  # (`=ben` is `ben`, as a filter reads it)
            split_comparison(v)[1].casefold()
            for v in given
            if isinstance(v, str) and split_comparison(v)[0] in ("", "=")
        }
        if not plain:
            continue
        spelt = {getattr(t, key) for t in tickets}
        more = sorted(v for v in spelt if isinstance(v, str) and v.casefold() in plain)
        values = list(dict.fromkeys([*given, *more]))
        out[key] = values[0] if len(values) == 1 else values
    return out


def _row(
    catalog: Catalog,
    record: Record,
    listing: Listing | None,
    now: dt.datetime,
    moment: float,
    slas: dict[str, Sla] | None,
) -> views.ListRow:
    """The record's row of the table (``listing``, if read already), its SLA cell from the
    numbers kept when it can; ``moment`` is ``now`` as a Unix time."""
    if listing is None:
        listing = catalog.listing(record)
    sla = None if slas is None else slas.get(record.name)
    if sla is None:  # (the cell from the numbers kept, where they say it)
        numbers = catalog.kept_cell(record, moment)
        if numbers is not None:
            shown = cache_codec.next_clock_at(numbers, moment)
            if shown is None:
                cell = views.stopped_cell(numbers[0])
                return views.list_row(listing, catalog.config, now, cell, None)
            _, state, due = shown
            at = None if due is None else dt.datetime.fromtimestamp(due, dt.timezone.utc)
            cell = views.clock_cell(state, at, now)
            return views.list_row(listing, catalog.config, now, cell, state)
        sla = sla_states_now(catalog, record, now)
    clock = views.next_clock(sla)
    shown_state = None if clock is None else clock.state
    cell = views.sla_cell(sla, record.ticket)
    return views.list_row(listing, catalog.config, now, cell, shown_state)


def _queue_row(
    catalog: Catalog,
    record: Record,
    teams: Sequence[str],
    now: dt.datetime,
    slas: dict[str, Sla] | None,
) -> views.ListRow:
    """The record's row of a team's queue (``list --involving``): its SLA cell is the OLA
    clock of the request to the team (of those ``teams``) due first, the clock that team
    answers to; the ticket's own SLA where the policy sets no ``collaboration`` target."""
    sla = slas[record.name] if slas is not None else sla_states_now(catalog, record, now)
    clocks = _team_clocks(record.ticket, sla, teams, now)
    listing = catalog.listing(record)
    if not clocks:
        clock = views.next_clock(sla)
        shown = None if clock is None else clock.state
        cell = views.sla_cell(sla, record.ticket)
        return views.list_row(listing, catalog.config, now, cell, shown)
    first = views.first_clock(clocks)
    if first is None:  # (every one stopped with the ticket, resolved or closed while the
        # request was open: never answered, no "met"; late if its deadline passed first)
        late = [c for c in clocks if c.state == "breached"]
        if late:
            return views.list_row(listing, catalog.config, now, "never answered, late", "breached")
        return views.list_row(listing, catalog.config, now, "never answered", None)
    cell = views.clock_cell(first.state, first.due, now)
    return views.list_row(listing, catalog.config, now, cell, first.state)


def _json_items(
    catalog: Catalog,
    chosen: list[Record],
    slas: dict[str, Sla] | None,
    now: dt.datetime,
    involving: Sequence[str] = (),
) -> Iterator[views.Encoded]:
    """Each ticket of ``list --json`` as it is written: its fixed text kept in the cache
    (made and kept where missing), its SLA computed (unless given in ``slas``) and spliced
    in, a few hundred at a time, so memory stays flat.  In a team's queue (``involving``)
    ``next_sla`` is the clock the table shows there: the OLA of the request to the team."""
    moment = now.timestamp()
    for start in range(0, len(chosen), 500):
        chunk = chosen[start : start + 500]
        kept = catalog.texts(chunk)
        for record in chunk:
            parts = kept.pop(record.name, None)
            if parts is None:
                parts = views.ticket_json_parts(record.ticket, catalog.config)
                catalog.keep_text(record, parts)
            given = None if slas is None else slas.get(record.name)
            plain = None
            if given is None and "requests" not in parts and not involving:  # (requests need
                # the SLA's policy; a team's queue shows its request's clock)
                plain = catalog.kept_plain_sla(record, now, moment)
            filled: dict[str, object]
            if plain is not None:
                policy, clocks = plain
                filled = {
                    "sla": views.plain_sla_json(policy, clocks),
                    "next_sla": views.plain_next_sla_json(clocks, now),
                }
            else:
                sla = given if given is not None else sla_now(catalog, record, now)
                filled = {"sla": views.sla_json(sla), "next_sla": views.next_sla_json(sla)}
                ola = _team_clocks(record.ticket, sla, involving, now) if involving else []
                if ola:  # (as _queue_row's cell: none when every one stopped unanswered)
                    first = views.first_clock(ola)
                    filled["next_sla"] = (
                        None if first is None else views.clock_next_json(first, now)
                    )
                if "requests" in parts:
                    filled["requests"] = views.requests_json(record.ticket, sla)
            yield views.ticket_json_text(parts, filled)
            record.release()
    catalog.save()


def log(session: Session, ref: str, as_json: bool) -> Output:
    """A ticket's story: its activity log and the git commits of its file, in time order."""
    from esc.report.history import story, story_json, story_text
    from esc.store import git

    workspace = session.workspace
    path = workspace.resolve(ref)
    notes: list[str] = []
    try:
        activity = workspace.read(path).ticket.activity
    except ParseError as exc:  # (a file edited by hand into one that does not parse: who
        # changed it is what its story is for; its activity as far as it reads, and the
        # commits, with the problem said, exit 1)
        activity = _activity_as_written(workspace.read_bytes(path))
        notes.append(str(exc))
    events = story(activity, git.file_history(workspace.root, path))
    code = 1 if notes else 0
    if as_json:
        return Output(data=story_json(events), notes=notes, code=code)
    return Output(text=story_text(events) + "\n", notes=notes, code=code)


def _activity_as_written(data: bytes) -> Sequence[Activity]:
    """The activity lines of a ticket file that does not parse, as far as its body reads;
    when it does not read at all (git's conflict markers in it, as a merge that conflicts
    leaves, when its story is most wanted: audit helper-409), each line under an
    ``## Activity`` heading that reads as an activity line, once."""
    from esc.ticketfile.body import ACTIVITY, heading_of, parse_activity_line, parse_body
    from esc.ticketfile.document import split

    text = data.decode("utf-8", "replace")
    try:
        _, _, body = split(text, "")
        return parse_body(text[body:])[2]
    except (ParseError, ValueError):
        pass
    found: dict[str, Activity] = {}  # (a line both sides of a conflict hold: once)
    under = False
    for line in text.splitlines():
        heading = heading_of(line)
        if heading is not None:
            under = heading == ACTIVITY
        elif under and line.strip() not in found:
            item = parse_activity_line(line)
            if item is not None:
                found[line.strip()] = item
    return list(found.values())


def explain(session: Session, ref: str) -> Output:
    """Why a ticket's SLA clocks stand where they do, which rules match it, and what a sweep
    at ``--now`` would do to it (the moments it replays since the last one included)."""
    from esc.domain.explain import explain_ticket

    ticket = session.workspace.load(ref).ticket
    text = explain_ticket(ticket, session.config, session.now)
    head = f"{ticket.id}  {ticket.title}"  # (its first line: a title's line break shown as
    text = f"{ticket.id}  {printable(ticket.title, one_line=True)}" + text[len(head) :]  # \n)
    after = _next_sweep(session.workspace, ticket, session.config, session.now)
    return Output(text=f"{text}\n\n{after}\n")


def _next_sweep(workspace: Workspace, ticket: Ticket, config: Config, now: dt.datetime) -> str:
    """What a sweep at ``now`` does to the ticket, rule by rule, as `esc sweep` prints it,
    each at the moment the rule acted: a rule that matched at a moment since the last sweep
    (a deadline crossed before a reply, say) acts though it no longer matches now."""
    from esc.report.actions import action_text, rule_actions
    from esc.store import config_versions

    made = config_versions.plan_here(workspace.root, config, ticket, now)
    head = f"A sweep at {format_timestamp(now)}"
    if made.note is not None:
        return f"{head}: leaves it ({made.note.removeprefix(f'{ticket.id}: ')})"
    if not ticket.active and not made.change:
        return f"{head}: leaves it (the ticket is {ticket.status})"
    actions = rule_actions(ticket.id, made.change)
    lines = [
        f"  {format_timestamp(a.at)}  {action_text(a).removeprefix(f'{ticket.id}: ')}"
        for a in actions
    ]
    lines += [f"  skipped: {why}" for why in made.skipped]
    if not lines:
        return f"{head}: no rule acts"
    return "\n".join([f"{head} (the moments since the last sweep replayed):", *lines])
