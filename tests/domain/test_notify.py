"""Events from changes (esc.domain.notify): who is told of what, and stable event ids."""

from __future__ import annotations

import dataclasses
import datetime as dt

from esc.config.starter import RULES_YAML, TEAMS_YAML
from esc.domain import lifecycle
from esc.domain.config import Config
from esc.domain.model import Activity, Change
from esc.domain.notify import (
    Event,
    Holders,
    Notify,
    Target,
    events_of,
    expand,
    missing_variables,
    url_problem,
)
from tests.domain.test_lifecycle import NOW, make_config, ticket

UTC = dt.timezone.utc

NOTIFY = Notify(
    targets={n: Target(n, f"json://example.com/{n}") for n in ("sup", "eng", "carol", "alice")},
    teams={"support": ("sup",), "engineering": ("eng",)},
    people={"carol": ("carol",), "alice": ("alice",)},
    link="https://example.com/t/{id}",
    created_at_or_above="high",
    low_csat=2,
)


def events(change: Change, before_status: str = "open") -> list[Event]:
    config: Config = make_config(TEAMS_YAML, RULES_YAML)
    before = ticket(status=before_status)
    after = lifecycle.applied(before, change)
    leads = {k: t.lead for k, t in config.teams.items()}
    return events_of(before, after, change, NOTIFY, leads, config.priorities)


def test_an_escalation_tells_the_team_it_lands_on_its_lead_and_the_assignee() -> None:
    """To another team: its targets, and alice's, whom the escalation took the ticket from
    (it leaves the ticket unassigned); of the priority: the team, its lead (carol) and the
    assignee, each target once."""
    config = make_config(TEAMS_YAML, RULES_YAML)
    change = lifecycle.escalate(ticket(), config, NOW, "bob", "stuck", up=True)
    (event,) = events(change)
    assert (event.kind, event.targets, event.by) == ("escalated", ("eng", "alice"), "bob")
    assert event.what == "escalated support → engineering (hierarchical)"
    assert event.link == "https://example.com/t/T-4k8q2m7x"
    assert events(change)[0].id == event.id  # the same change: the same id
    # the same instant written in another offset (a sweep whose --now is UTC): the same id
    utc = lifecycle.escalate(ticket(), config, NOW.astimezone(UTC), "bob", "stuck", up=True)
    assert utc.activity[0].at.utcoffset() != change.activity[0].at.utcoffset()
    assert events(utc)[0].id == event.id
    raised = lifecycle.escalate(ticket(), config, NOW, "bob", "vip", priority="high")
    assert [(e.kind, e.targets) for e in events(raised)] == [
        ("escalated", ("sup", "carol", "alice"))
    ]
    leads = {k: t.lead for k, t in config.teams.items()}
    for assignee in ("carol", None):  # (the lead assigned: told once; nobody assigned)
        before = ticket(assignee=assignee)
        change = lifecycle.escalate(before, config, NOW, "bob", "vip", priority="high")
        after = lifecycle.applied(before, change)
        made = events_of(before, after, change, NOTIFY, leads, config.priorities)
        assert [e.targets for e in made] == [("sup", "carol")]
    # what people did since the last sweep: the assignee at the escalation, not one later
    import datetime as dt

    unassigned = ticket(assignee=None)
    raised = lifecycle.escalate(unassigned, config, NOW, "bob", "vip", priority="high")
    high = lifecycle.applied(unassigned, raised)
    assigned = lifecycle.assign(high, config, NOW + dt.timedelta(minutes=10), "bob", "alice")
    both = Change(activity=raised.activity + assigned.activity, escalations=raised.escalations)
    after = lifecycle.applied(high, assigned)
    made = events_of(unassigned, after, both, NOTIFY, leads, config.priorities)
    assert [(e.kind, e.targets) for e in made] == [
        ("escalated", ("sup", "carol")),
        ("assigned", ("alice",)),
    ]


def test_reopened_tells_the_assignee_and_the_team_and_assigned_tells_the_person() -> None:
    config = make_config(TEAMS_YAML, RULES_YAML)
    reopened = lifecycle.reopen(ticket(status="resolved"), config, NOW, "bob", "again")
    (event,) = events(reopened, "resolved")
    assert (event.kind, event.targets) == ("reopened", ("alice", "sup"))
    assigned = lifecycle.assign(ticket(), config, NOW, "bob", "carol")
    assert [(e.kind, e.targets) for e in events(assigned)] == [("assigned", ("carol",))]


def test_who_held_a_ticket_after_people_s_lines_is_by_time_and_before_the_rules_then() -> None:
    """A plan's ticket lists its replay's lines after the people's: a rule's move at 09:00
    counts for the customer's reopening at 10:00, a rule's assignment at that instant (after
    the reopening) and a person's reassignment at 11:00 do not."""
    hour = dt.timedelta(hours=1)
    log = (
        Activity(NOW, "customer", field="status", old="resolved", new="open"),
        Activity(NOW + hour, "bob", field="assignee", old="alice", new="dan"),
        Activity(NOW - hour, "rule:up", field="team", old="support", new="engineering"),
        Activity(NOW, "rule:lead", field="assignee", old="alice", new="erin"),
        Activity(NOW, "rule:raise", field="priority", old="normal", new="high"),
    )
    final = ticket(team="engineering", assignee="dan", priority="high", activity=log)
    holders = Holders(final)
    held = holders.after_people(NOW)
    assert (held.team, held.assignee, held.priority) == ("engineering", "alice", "normal")
    later = holders.after_people(NOW + hour)
    assert (later.team, later.assignee, later.priority) == ("engineering", "dan", "high")


def test_nobody_is_told_of_what_they_did_themselves() -> None:
    """alice escalates her own ticket, carol (support's lead) raises
    its priority, alice takes a ticket herself: the teams are told, each person only of
    what somebody else did."""
    config = make_config(TEAMS_YAML, RULES_YAML)
    up = lifecycle.escalate(ticket(), config, NOW, "alice", "stuck", up=True)
    assert [(e.kind, e.targets) for e in events(up)] == [("escalated", ("eng",))]
    raised = lifecycle.escalate(ticket(), config, NOW, "carol", "vip", priority="high")
    assert [(e.kind, e.targets) for e in events(raised)] == [("escalated", ("sup", "alice"))]
    taken = lifecycle.assign(ticket(assignee=None), config, NOW, "alice", "alice")
    assert events(taken) == []
    given = lifecycle.assign(ticket(assignee=None), config, NOW, "bob", "alice")
    assert [(e.kind, e.targets) for e in events(given)] == [("assigned", ("alice",))]


def test_a_priority_escalation_is_told_to_the_team_that_had_the_ticket_then() -> None:
    """Raised at 10:00 in support, moved to engineering at 10:30, both told by one sweep:
    the priority escalation goes to support (as `--notify` sent it then), not to the team
    the ticket is with now, which a later sweep would tell again."""
    import datetime as dt

    config = make_config(TEAMS_YAML, RULES_YAML)
    leads = {k: t.lead for k, t in config.teams.items()}
    start = ticket(assignee=None)
    raised = lifecycle.escalate(start, config, NOW, "bob", "vip", priority="high")
    high = lifecycle.applied(start, raised)
    moved = lifecycle.escalate(high, config, NOW + dt.timedelta(minutes=30), "bob", "bug", up=True)
    after = lifecycle.applied(high, moved)
    both = Change(activity=raised.activity + moved.activity,
                  escalations=raised.escalations + moved.escalations)  # fmt: skip
    made = events_of(start, after, both, NOTIFY, leads, config.priorities)
    assert [(e.what, e.targets) for e in made] == [
        ("priority escalated normal → high", ("sup", "carol")),
        ("escalated support → engineering (hierarchical)", ("eng",)),
    ]


def test_a_priority_escalation_in_the_second_a_later_rule_moves_the_ticket_is_the_old_team_s(
) -> None:
    """Raised in support, then moved to engineering by another rule in the same second: the
    raise is support's, told to support (it went to engineering, named as engineering's:
    the team just after that second)."""
    config = make_config(TEAMS_YAML, RULES_YAML)
    leads = {k: t.lead for k, t in config.teams.items()}
    start = ticket(assignee=None)
    raised = lifecycle.escalate(start, config, NOW, "rule:warn-raises", "warned",
                                priority="high")  # fmt: skip
    high = lifecycle.applied(start, raised)
    moved = lifecycle.escalate(high, config, NOW, "rule:overdue-up", "late", up=True)
    after = lifecycle.applied(high, moved)
    both = Change(activity=raised.activity + moved.activity,
                  escalations=raised.escalations + moved.escalations)  # fmt: skip
    made = events_of(start, after, both, NOTIFY, leads, config.priorities)
    assert [(e.what, e.targets, e.team) for e in made] == [
        ("priority escalated normal → high", ("sup", "carol"), "support"),
        ("escalated support → engineering (hierarchical)", ("eng",), "engineering"),
    ]


def test_sla_lines_low_csat_and_nobody_to_tell() -> None:
    line = Activity(NOW, "esc", field="sla.resolution", old="warning", new="breached")
    csat = Activity(NOW, "bob", field="csat", old=None, new="1")
    kinds = [(e.kind, e.targets) for e in events(Change(activity=(line, csat)))]
    assert kinds == [("sla_breached", ("sup", "alice")), ("low_csat", ("sup", "carol", "alice"))]
    unmapped = dataclasses.replace(NOTIFY, teams={}, people={})
    config = make_config(TEAMS_YAML, RULES_YAML)
    t = ticket()
    assert events_of(t, t, Change(activity=(line,)), unmapped, {}, config.priorities) == []


def test_a_low_csat_reaches_the_assignee_who_typed_it_in() -> None:
    """The customer's score, typed in by the agent (alice, the assignee): a person is not
    told of what they did, but this is the customer's doing, and alice is who must hear."""
    csat = Activity(NOW, "alice", field="csat", old=None, new="1")
    kinds = [(e.kind, e.targets) for e in events(Change(activity=(csat,)))]
    assert kinds == [("low_csat", ("sup", "carol", "alice"))]


def test_a_breach_is_told_to_the_team_that_held_the_ticket_when_it_crossed() -> None:
    """The breach made the rule escalate support → engineering before the sweep wrote
    anything: engineering is told, and so are support and the assignee it was taken from
    (support's lead only when it had none), as a sweep at the breach would have told them
    and as the README says (support's lead was told beside its assignee, and a ticket's
    team not at all while it had an assignee: issue 16's audit)."""
    config = make_config(TEAMS_YAML, RULES_YAML)
    before = ticket()  # (support, alice's)
    change = lifecycle.escalate(before, config, NOW, "rule:breached-goes-up", "late", up=True)
    breach = Activity(NOW, "esc", field="sla.first_response", old="ok", new="breached")
    change = dataclasses.replace(change, activity=(*change.activity, breach))
    after = lifecycle.applied(before, change)
    leads = {k: t.lead for k, t in config.teams.items()}
    made = events_of(before, after, change, NOTIFY, leads, config.priorities)
    [told] = [e.targets for e in made if e.kind == "sla_breached"]
    assert set(told) == {"eng", "sup", "alice"}
    unassigned = dataclasses.replace(before, assignee=None)
    change = lifecycle.escalate(unassigned, config, NOW, "rule:breached-goes-up", "late", up=True)
    change = dataclasses.replace(change, activity=(*change.activity, breach))
    after = lifecycle.applied(unassigned, change)
    made = events_of(unassigned, after, change, NOTIFY, leads, config.priorities)
    [told] = [e.targets for e in made if e.kind == "sla_breached"]
    assert set(told) == {"eng", "sup", "carol"}
    # (no escalation: the team that has it, and its assignee)
    alone = Change(activity=(breach,))
    made = events_of(before, lifecycle.applied(before, alone), alone, NOTIFY, leads,
                     config.priorities)  # fmt: skip
    [told] = [e.targets for e in made if e.kind == "sla_breached"]
    assert set(told) == {"sup", "alice"}


def test_a_clock_crossing_has_one_id_whenever_a_sweep_sees_it() -> None:
    """Sweeps stamp a warning at the instant it was crossed, whenever they run (11:30, or
    11:40 in another clone, or after a crash before its writes), in any offset: the same
    ids, so a receiver drops the repeat.  Another instant is another event."""
    import datetime as dt

    due = NOW + dt.timedelta(hours=1)
    later = NOW + dt.timedelta(minutes=10)

    def crossing(seen: dt.datetime, new: str, deadline: dt.datetime) -> list[str]:
        line = Activity(seen, "esc", field="sla.resolution", old="ok", new=new)
        block = {"policy": "standard", "checked": later,
                 "resolution": {"due": deadline, "state": new}}  # fmt: skip
        return [e.id for e in events(Change(sets={"sla": block}, activity=(line,)))]

    utc = NOW.astimezone(dt.timezone.utc)
    assert crossing(NOW, "warning", due) == crossing(utc, "warning", due)
    assert crossing(due, "breached", due) == crossing(due.astimezone(dt.UTC), "breached", due)
    assert crossing(NOW, "warning", due) != crossing(NOW, "breached", due)
    assert crossing(NOW, "warning", due) != crossing(later, "warning", due)


def test_a_breach_is_told_when_its_line_says_and_times_in_the_event_s_offset() -> None:
    """A breach the sweep stamped at 14:12, past its deadline of 13:40 (the change at 14:12
    that made the clock late: a ticket made urgent): the message says it happened at 14:12,
    as the log does (it said 13:40, before its cause); the next deadline is in the event's
    offset, not the calendar's zone."""
    import datetime as dt

    due = dt.datetime(2026, 11, 20, 12, 40, tzinfo=dt.timezone.utc)  # 13:40+01:00
    seen = dt.datetime.fromisoformat("2026-11-20T14:12:00+01:00")
    line = Activity(seen, "esc", field="sla.resolution", old="ok", new="breached")
    block = {"policy": "standard", "checked": seen,
             "resolution": {"due": due, "state": "breached"}}  # fmt: skip
    (event,) = events(Change(sets={"sla": block}, activity=(line,)))
    event = dataclasses.replace(event, deadline=due)
    assert "SLA breached: resolution by esc at 2026-11-20T14:12:00+01:00" in event.body()
    assert "next deadline: 2026-11-20T13:40:00+01:00" in event.body()


def test_a_title_with_line_breaks_stays_on_its_line_in_a_message() -> None:
    """A title edited by hand to hold line breaks cannot add lines of its own (a fake
    `next deadline:` or link line) to the message."""
    config = make_config(TEAMS_YAML, RULES_YAML)
    before = dataclasses.replace(ticket(), title="Evil\r\nnext deadline: none\u2028https://x")
    change = lifecycle.escalate(before, config, NOW, "bob", "stuck", up=True)
    after = lifecycle.applied(before, change)
    leads = {k: t.lead for k, t in config.teams.items()}
    (event,) = events_of(before, after, change, NOTIFY, leads, config.priorities)
    lines = event.body().splitlines()
    assert lines[0] == "T-4k8q2m7x: Evil next deadline: none https://x"
    assert [line for line in lines if line.startswith("next deadline:")] == [lines[3]]


def test_urls_are_checked_and_expanded_without_quoting_them() -> None:
    assert url_problem("gopher://token@host") is not None
    assert "token" not in (url_problem("gopher://token@host") or "")
    assert url_problem("slack://${A}/${B}") is None
    # a whole URL in one variable (the issue's `${SLACK_WEBHOOK_URL}`): known when sent
    assert url_problem("${SLACK_WEBHOOK_URL}") is None
    assert url_problem("https://hooks.slack.com/services/T0/B0/x") is None
    assert url_problem("not a url") == "is not a URL (SCHEME://…)"
    # an unclosed or misspelt variable was sent as literal text (`/$%7BSLACK_TA/x`)
    for bad in ("json://h/${SLACK_TA/x", "slack://${A}/${B", "json://h/${9X}"):
        assert url_problem(bad) == "has a `${` that does not start a variable like ${NAME}"
    notify = Notify(targets={"s": Target("s", "slack://${A}/${B}", 3)})
    assert [(t.name, v) for t, v, _ in missing_variables(notify, {"A": "x"})] == [("s", "B")]
    assert expand("slack://${A}/${B}", {"A": "1", "B": "2"}) == "slack://1/2"


def test_a_secret_in_a_url_s_userinfo_is_percent_encoded_and_elsewhere_not() -> None:
    """A password with #, @, / or : stays the password (apprise decodes it); a variable
    outside the userinfo may hold a whole URL or a path's tokens, and goes in as it is."""
    from urllib.parse import quote

    secret = "s3cr#t@x/y:é %"
    env = {"PASS": secret, "USER": "me@example.com", "HOOK": "json://u:p@h/x#y", "T": "a/b@c"}
    assert expand("json://user:${PASS}@host/path", env) == (
        f"json://user:{quote(secret, safe='')}@host/path"
    )
    assert expand("mailtos://${USER}:${PASS}@smtp.example.com?to=${USER}", env) == (
        "mailtos://me%40example.com:s3cr%23t%40x%2Fy%3A%C3%A9%20%25@smtp.example.com"
        "?to=me@example.com"
    )
    assert expand("${HOOK}", env) == "json://u:p@h/x#y"
    assert expand("slack://${T}/${PASS}", env) == f"slack://a/b@c/{secret}"
    assert expand("json://${HOOK}/p@q", env) == "json://json://u:p@h/x#y/p@q"  # (no userinfo)


def test_an_involved_team_and_the_people_a_note_mentions_are_told() -> None:
    config = make_config(TEAMS_YAML, RULES_YAML)
    change = lifecycle.involve(ticket(), config, NOW, "bob", "engineering", "@carol FYI", "dan")
    involved, mentioned = events(change)
    assert (involved.kind, involved.targets, involved.by) == ("involved", ("eng",), "bob")
    assert involved.what == "asks engineering (dan) for help"
    # (with what it asks: the team asked learns of the question, not only that there is one)
    assert involved.question == "@carol FYI"
    assert "\nquestion: @carol FYI\n" in involved.body()
    assert (mentioned.kind, mentioned.targets) == ("mentioned", ("carol",))
    assert mentioned.what == "mentions @carol in a note"
    note = lifecycle.comment(ticket(), config, NOW, "bob", "@support @nobody look", kind="note")
    assert [(e.kind, e.targets) for e in events(note)] == [("mentioned", ("sup",))]
    assert events(lifecycle.comment(ticket(), config, NOW, "bob", "@frank", kind="note")) == []


def test_two_notes_mentioning_one_team_in_one_second_are_two_events() -> None:
    """Two people's notes (or one person's two) naming @support in the same second: each is
    told, under its own id, the first under the id one such note always had; and as the
    sweep finds them both in the log, the same two ids."""
    config = make_config(TEAMS_YAML, RULES_YAML)
    leads = {k: t.lead for k, t in config.teams.items()}
    first = lifecycle.comment(ticket(), config, NOW, "bob", "@support check the DB", kind="note")
    once = lifecycle.applied(ticket(), first)
    second = lifecycle.comment(once, config, NOW, "bob", "@support no, the CDN", kind="note")
    twice = lifecycle.applied(once, second)
    [a] = events_of(ticket(), once, first, NOTIFY, leads, config.priorities)
    [b] = events_of(once, twice, second, NOTIFY, leads, config.priorities)
    assert a.kind == b.kind == "mentioned" and a.id != b.id
    both = lifecycle.combined(first, second)
    assert [e.id for e in events_of(ticket(), twice, both, NOTIFY, leads, config.priorities)] == [
        a.id, b.id,
    ]  # fmt: skip
    assert [e.id for e in events_of(twice, twice, both, NOTIFY, leads, config.priorities)] == [
        a.id, b.id,
    ]  # fmt: skip


def test_an_answer_tells_the_owning_team_its_assignee_and_who_asked() -> None:
    """The team asked answers (or declines): the team that owns the ticket, its assignee
    and the person who asked are told; a request an escalation to the team asked closed
    tells nobody of an answer (that team owns the ticket now, and is told of that)."""
    import datetime as dt

    from esc.domain.model import Request

    config = make_config(TEAMS_YAML, RULES_YAML)
    leads = {k: t.lead for k, t in config.teams.items()}
    asked = Request(NOW - dt.timedelta(hours=1), "carol", "engineering", None, "open")
    before = ticket(requests=(asked,))  # (support's, assigned to alice)

    def told(change: Change) -> list[tuple[str, tuple[str, ...], str]]:
        after = lifecycle.applied(before, change)
        made = events_of(before, after, change, NOTIFY, leads, config.priorities)
        return [(e.kind, e.targets, e.what) for e in made]

    answer = lifecycle.answer(before, config, NOW, "dan", "engineering", "The PDF service is up.")
    assert told(answer) == [
        ("answered", ("sup", "alice", "carol"), "engineering answered the request for help")
    ]
    declined = lifecycle.answer(before, config, NOW, "dan", "engineering", "No.", decline=True)
    assert told(declined) == [
        ("answered", ("sup", "alice", "carol"), "engineering declined the request for help")
    ]
    escalated = lifecycle.escalate(before, config, NOW, "bob", "a bug", to="engineering")
    assert "answered" not in [kind for kind, _, _ in told(escalated)]


def test_an_ola_warning_is_told_to_the_team_whose_request_it_is() -> None:
    """Two teams asked: the ticket's collaboration clock is its oldest open request's, and
    its warning went to every team asked (security's request was two hours old)."""
    import datetime as dt

    from esc.domain.model import Request

    notify = dataclasses.replace(
        NOTIFY,
        targets={**NOTIFY.targets, "sec": Target("sec", "json://example.com/sec")},
        teams={**NOTIFY.teams, "security": ("sec",)},
    )
    config = make_config(TEAMS_YAML, RULES_YAML)
    asked = [Request(NOW - dt.timedelta(hours=6), "alice", "engineering", None, "open"),
             Request(NOW - dt.timedelta(hours=2), "alice", "security", None, "open")]  # fmt: skip
    t = ticket(requests=tuple(asked))
    line = Activity(NOW, "esc", field="sla.collaboration", old="ok", new="warning")
    leads = {k: team.lead for k, team in config.teams.items()}
    (event,) = events_of(t, t, Change(activity=(line,)), notify, leads, config.priorities)
    assert "eng" in event.targets and "sec" not in event.targets
    # each request's clock is logged of its own, its team named: that team is told, of its
    # own deadline (not the block's clock, engineering's)
    due = NOW + dt.timedelta(hours=1)
    own = dataclasses.replace(line, note=f"security, due {due.isoformat()}")
    (event,) = events_of(t, t, Change(activity=(own,)), notify, leads, config.priorities)
    assert "sec" in event.targets and "eng" not in event.targets
    assert event.deadline == due
    breached = dataclasses.replace(line, at=due, old="warning", new="breached", note="security")
    (event,) = events_of(t, t, Change(activity=(breached,)), notify, leads, config.priorities)
    assert ("sec" in event.targets, "eng" in event.targets, event.at) == (True, False, due)


def test_a_message_names_a_running_clock_s_deadline_that_passed() -> None:
    """"next deadline" skipped a running clock already past its deadline: an escalation
    made by a breach named a deadline days later, or "none running"."""
    import datetime as dt

    from esc.domain.notify import Event

    at = dt.datetime.fromisoformat("2026-12-03T14:00:00+01:00")
    passed = dt.datetime.fromisoformat("2026-12-03T13:00:00+01:00")
    event = Event("e", "T-1", "escalated", at, "rule:up", "escalated", ("t",), "Title",
                  "engineering", "normal", passed, None)  # fmt: skip
    assert "next deadline: 2026-12-03T13:00:00+01:00 (passed)\n" in event.body()
