"""`esc plan`'s output (esc.report.impact): what a change does as Markdown for a pull request
and as JSON.  Pure: impacts built directly or compared from YAML, a fixed ``now``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from zoneinfo import ZoneInfo

from esc.config.loading import build_config
from esc.config.starter import TEAMS_YAML
from esc.domain.config import Config, Finding
from esc.domain.impact import (
    Cause,
    ClockView,
    Escalating,
    Impact,
    RouteChange,
    TicketImpact,
    TicketPair,
    VersionOutcome,
    compare,
)
from esc.domain.model import Ticket
from esc.report.impact import MAX_ROWS, Preview, preview_json, render_json, render_markdown
from tests.helpers import CALENDARS_YAML, berlin

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.timezone.utc
NOW = berlin(2026, 11, 23, 12, 30)  # Monday, office hours 09-17
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SAME = {"teams.yaml": "same", "rules.yaml": "same"}


def clock(
    metric: str,
    due: dt.datetime | None,
    state: str = "ok",
    running: bool = True,
) -> ClockView:
    return ClockView(metric, due, state, running)


def outcome(
    policy: str | None = "standard",
    clocks: tuple[ClockView, ...] = (),
    route: str | None = "support",
    fired: tuple[str, ...] = (),
    escalations: tuple[Escalating, ...] = (),
    actions: tuple[str, ...] = (),
) -> VersionOutcome:
    return VersionOutcome(policy, clocks, route, fired, escalations, actions)


def item(
    ticket_id: str = "T-aaaa0001",
    title: str = "Invoice missing",
    change: str = "same",
    base: VersionOutcome | None = None,
    head: VersionOutcome | None = None,
    differs: tuple[str, ...] = (),
    causes: tuple[str, ...] = (),
) -> TicketImpact:
    return TicketImpact(
        ticket_id,
        title,
        f"tickets/{ticket_id}.md",
        change,  # type: ignore[arg-type]
        base,
        head,
        differs,  # type: ignore[arg-type]
        causes,  # type: ignore[arg-type]
    )


def preview(
    tickets: tuple[TicketImpact, ...] = (),
    categories: tuple[RouteChange, ...] = (),
    causes: tuple[Cause, ...] = (),
    files: dict[str, str] | None = None,
    findings: tuple[Finding, ...] = (),
    base_findings: tuple[Finding, ...] = (),
    fail_on: tuple[Cause, ...] = (),
    ref: str = "main",
) -> Preview:
    return Preview(
        ref,
        COMMIT,
        NOW,
        dict(SAME) if files is None else files,
        Impact(tickets, categories, causes),
        findings,
        base_findings,
        fail_on,
    )


def section(markdown: str, title: str) -> list[str]:
    """The lines of the Markdown section whose heading starts with ``title`` (to the next)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return [line for line in lines[start:end] if line]


# A ticket the change moves to a stricter policy: its first response breaches, the next sweep
# escalates it, and routing would send it elsewhere.
TIGHTER = item(
    title="Invoice | missing",
    change="changed",
    base=outcome(
        clocks=(
            clock("first_response", berlin(2026, 11, 23, 13), "warning"),
            clock("resolution", berlin(2026, 11, 26, 9)),
        )
    ),
    head=outcome(
        policy="urgent",
        clocks=(
            clock("first_response", dt.datetime(2026, 11, 23, 8, 30, tzinfo=UTC), "breached"),
            clock("resolution", berlin(2026, 11, 26, 9)),
        ),
        route="engineering",
        fired=("breached-goes-up",),
        escalations=(Escalating("team", "support", "engineering", "rule:breached-goes-up"),),
        actions=("assignee → dan",),
    ),
    differs=("sla", "route", "sweep"),
    causes=("policy", "deadline", "breach", "escalation", "rule", "routing"),
)


# ---------------------------------------------------------------- Preview


def test_failing_is_what_the_change_causes_that_fail_on_names() -> None:
    shown = preview(causes=("deadline", "breach", "routing"), fail_on=("routing", "invalid"))
    assert shown.failing == ("routing",)
    assert preview(causes=("deadline",), fail_on=("breach",)).failing == ()


# ---------------------------------------------------------------- JSON


def test_json_gives_the_base_the_files_and_each_ticket_under_both_versions() -> None:
    added = item("T-aaaa0002", "New one", "added", head=outcome(clocks=()), differs=("sla",))
    removed = item("T-aaaa0003", "Gone", "removed", base=outcome())
    shown = preview(
        (TIGHTER, added, removed),
        (RouteChange("outage", "engineering", "support"),),
        ("breach", "routing"),
        files={"teams.yaml": "same", "rules.yaml": "changed"},
        findings=(Finding("rules.yaml", 3, "bad"),),
        base_findings=(Finding("teams.yaml", 0, "not UTF-8 text"),),
        fail_on=("breach",),
    )
    data = preview_json(shown)
    assert data["base"] == {"ref": "main", "commit": COMMIT}
    assert data["now"] == "2026-11-23T12:30:00+01:00"
    assert data["files"] == {
        "teams.yaml": "same",
        "rules.yaml": "changed",
        "tickets": {"added": ["T-aaaa0002"], "removed": ["T-aaaa0003"], "changed": ["T-aaaa0001"]},
    }
    assert data["findings"] == ["rules.yaml:3: bad"]
    assert data["base_findings"] == ["teams.yaml:1: not UTF-8 text"]
    assert data["routing"] == [{"category": "outage", "base": "engineering", "head": "support"}]
    assert (data["causes"], data["fail_on"], data["failed"]) == (
        ["breach", "routing"],
        ["breach"],
        True,
    )
    first = data["tickets"][0]
    assert {k: v for k, v in first.items() if k not in ("base", "head")} == {
        "id": "T-aaaa0001",
        "title": "Invoice | missing",
        "file": "tickets/T-aaaa0001.md",
        "change": "changed",
        "differs": ["sla", "route", "sweep"],
        "causes": ["policy", "deadline", "breach", "escalation", "rule", "routing"],
    }
    assert first["head"] == {
        "policy": "urgent",
        "clocks": {
            "first_response": {
                "due": "2026-11-23T08:30:00+00:00",
                "state": "breached",
                "running": True,
            },
            "resolution": {"due": "2026-11-26T09:00:00+01:00", "state": "ok", "running": True},
        },
        "route": "engineering",
        "fired": ["breached-goes-up"],
        "escalations": [
            {"kind": "team", "from": "support", "to": "engineering", "by": "rule:breached-goes-up"}
        ],
        "actions": ["assignee → dan"],
    }
    assert data["tickets"][1]["base"] is None  # added: not in the base
    assert data["tickets"][2]["head"] is None  # removed


def test_json_of_a_paused_clock_has_no_due_and_a_pass_has_not_failed() -> None:
    paused = outcome(clocks=(clock("resolution", None, "paused"),), route=None)
    shown = preview((item(change="changed", base=paused, head=paused),), fail_on=("breach",))
    data = preview_json(shown)
    assert data["tickets"][0]["base"]["clocks"] == {
        "resolution": {"due": None, "state": "paused", "running": True}
    }
    assert data["tickets"][0]["base"]["route"] is None
    assert data["failed"] is False


def test_render_json_is_that_json_indented_with_its_text_unescaped() -> None:
    shown = preview((item(title="Rückerstattung", change="changed"),))
    text = render_json(shown)
    assert text.endswith("}\n")
    assert "Rückerstattung" in text
    assert json.loads(text) == preview_json(shown)
    assert text.startswith('{\n  "base"')


# ---------------------------------------------------------------- Markdown: heading, summary


def test_markdown_of_a_change_that_changes_nothing() -> None:
    assert render_markdown(preview()) == (
        "### esc plan: this change compared with `main` (0123456789), "
        "as of 2026-11-23T12:30:00+01:00\n"
        "\n"
        "Changed: no ticket file changed; teams.yaml and rules.yaml unchanged.\n"
        "\n"
        "No ticket's SLA, routing or next sweep changes.\n"
    )


def test_the_changed_line_names_the_files_and_counts_the_tickets_by_kind() -> None:
    tickets = (
        item("T-aaaa0001", change="removed"),
        item("T-aaaa0002", change="added"),
        item("T-aaaa0003", change="added"),
        item("T-aaaa0004", change="changed"),
        item("T-aaaa0005", change="same", differs=("sla",), base=outcome(), head=outcome()),
    )
    shown = preview(tickets, files={"teams.yaml": "removed", "rules.yaml": "same"})
    assert render_markdown(shown).splitlines()[2] == (
        "Changed: teams.yaml removed; tickets: 2 added, 1 changed, 1 removed; rules.yaml unchanged."
    )
    both = preview(files={"teams.yaml": "added", "rules.yaml": "changed"})
    assert render_markdown(both).splitlines()[2] == (
        "Changed: teams.yaml added; rules.yaml changed; no ticket file changed."
    )


def test_the_causes_line_bolds_those_that_fail_and_says_so() -> None:
    shown = preview(causes=("deadline", "breach", "routing"), fail_on=("breach", "routing"))
    assert "What it causes: deadline, **breach**, **routing** (fails: `--fail-on` names them)" in (
        render_markdown(shown).splitlines()
    )
    calm = preview(causes=("deadline",), fail_on=("breach",))
    assert "What it causes: deadline" in render_markdown(calm).splitlines()
    assert "What it causes" not in render_markdown(preview(fail_on=("breach",)))


def test_problems_on_either_side_are_listed() -> None:
    shown = preview(
        findings=(Finding("rules.yaml", 3, "unknown key"), Finding("tickets/T-x.md", 1, "bad")),
        base_findings=(Finding("teams.yaml", 2, "no teams"),),
        ref="origin/main",
    )
    text = render_markdown(shown)
    assert section(text, "#### Problems on this side") == [
        "#### Problems on this side",
        "- `rules.yaml:3: unknown key`",
        "- `tickets/T-x.md:1: bad`",
    ]
    assert section(text, "#### Problems in") == [
        "#### Problems in `origin/main` (its tickets are compared with nothing)",
        "- `teams.yaml:2: no teams`",
        "**This configuration stops every esc command (exit 1) until its problems are fixed:"
        " the next sweep would not run.**",
    ]
    assert "Problems" not in render_markdown(preview())


def test_code_spans_show_a_ref_and_a_finding_as_they_are() -> None:
    """Inside a code span a backslash escape is no escape: GitHub showed `fix\\_login`."""
    finding = Finding("rules.yaml", 7, "sla[0].targets.first_response: not a duration")
    text = render_markdown(preview(findings=(finding,), ref="feature/fix_login"))
    heading = text.splitlines()[0]
    assert "`feature/fix\\_login`" not in heading  # shown with its backslash on GitHub
    line = section(text, "#### Problems on this side")[1]
    # either verbatim in a code span, or escaped outside one
    assert line in (
        f"- `{finding}`",
        "- rules.yaml:7: sla\\[0\\].targets.first\\_response: not a duration",
    )


# ---------------------------------------------------------------- Markdown: SLA


def test_the_sla_table_shows_what_changed_for_each_ticket() -> None:
    text = render_markdown(preview((TIGHTER,)))
    assert section(text, "#### SLA") == [
        "#### SLA (1 ticket)",
        "| ticket | what | base | this change |",
        "| --- | --- | --- | --- |",
        "| `T-aaaa0001` Invoice \\| missing | policy | standard | urgent |",
        "|  | first_response | warning, due 2026-11-23 13:00+01:00 "
        "| **breached**, due 2026-11-23 09:30+01:00 |",
    ]  # (the resolution clock did not change: no row; each due in --now's zone, the
    # urgent policy's calendar being UTC: it read `08:30+00:00` beside `+01:00`)


def test_an_added_ticket_shows_its_policy_and_every_clock() -> None:
    head = outcome(
        clocks=(
            clock("first_response", berlin(2026, 11, 23, 16)),
            clock("resolution", None, "paused"),
        )
    )
    added = item("T-aaaa0002", "New", "added", head=head, differs=("sla",))
    lines = section(render_markdown(preview((added,))), "#### SLA")
    assert lines[3:] == [
        "| `T-aaaa0002` New | policy | – | standard |",
        "|  | first_response | – | ok, due 2026-11-23 16:00+01:00 |",
        "|  | resolution | – | paused |",
    ]


def test_a_stopped_breached_clock_is_not_bold_and_a_missing_one_is_a_dash() -> None:
    base = outcome(clocks=(clock("first_response", berlin(2026, 11, 23, 10), "breached", False),))
    head = outcome(
        clocks=(
            clock("first_response", berlin(2026, 11, 23, 10), "breached", False),
            clock("next_response", berlin(2026, 11, 24, 10), "ok"),
        )
    )
    changed = item(change="same", base=base, head=head, differs=("sla",))
    lines = section(render_markdown(preview((changed,))), "#### SLA")
    assert lines[3:] == [
        "| `T-aaaa0001` Invoice missing | next_response | – | ok, due 2026-11-24 10:00+01:00 |"
    ]
    moved = outcome(clocks=(clock("first_response", berlin(2026, 11, 23, 11), "met", False),))
    late = outcome(clocks=(clock("first_response", berlin(2026, 11, 23, 10), "breached", False),))
    history = item(base=moved, head=late, differs=("sla",))
    lines = section(render_markdown(preview((history,))), "#### SLA")
    assert lines[3:] == [
        "| `T-aaaa0001` Invoice missing | first_response | met, due 2026-11-23 11:00+01:00 "
        "| met late, due 2026-11-23 10:00+01:00 |"
    ]  # (stopped past its deadline: "met late", as `esc list` says; a running one, bold)


def test_the_sla_title_counts_tickets() -> None:
    two = tuple(
        dataclasses.replace(TIGHTER, id=f"T-aaaa000{n}", file=f"tickets/T-aaaa000{n}.md")
        for n in (1, 2)
    )
    assert "#### SLA (2 tickets)" in render_markdown(preview(two)).splitlines()


# ---------------------------------------------------------------- Markdown: routing, sweep, files


def test_the_routing_section_shows_new_tickets_by_category_and_moved_tickets() -> None:
    text = render_markdown(preview((TIGHTER,), (RouteChange("bug_fix", "engineering", "support"),)))
    assert section(text, "#### Routing") == [
        "#### Routing",
        "| a new ticket of category | base | this change |",
        "| --- | --- | --- |",
        "| bug\\_fix | engineering | support |",
        "| ticket at its first level: routing picks (if it is classified again) | base "
        "| this change |",
        "| --- | --- | --- |",
        "| `T-aaaa0001` Invoice \\| missing | support | engineering |",
    ]
    only_categories = render_markdown(preview(categories=(RouteChange("bug", "a", "b"),)))
    assert "ticket at its first level" not in only_categories
    assert "No ticket's SLA" not in only_categories  # routing changes
    assert "#### Routing" not in render_markdown(preview())


def test_the_sweep_section_says_what_the_next_sweep_does_under_each_version() -> None:
    text = render_markdown(preview((TIGHTER,)))
    assert section(text, "#### Next sweep") == [
        "#### Next sweep (1 ticket)",
        "| ticket | base | this change |",
        "| --- | --- | --- |",
        "| `T-aaaa0001` Invoice \\| missing | – | fires breached-goes-up; escalates team "
        "support → engineering by rule:breached-goes-up; assignee → dan |",
    ]
    tagged = item(
        base=outcome(actions=("tag +vip",)), head=outcome(), differs=("sweep",), causes=()
    )
    lines = section(render_markdown(preview((tagged,))), "#### Next sweep")
    assert lines[3] == "| `T-aaaa0001` Invoice missing | tag \\+vip | – |"


def test_the_files_section_lists_the_ticket_files_the_change_touches() -> None:
    tickets = (TIGHTER, item("T-aaaa0002", "Same file", base=outcome(), head=outcome()))
    text = render_markdown(preview(tickets))
    assert section(text, "#### Ticket files") == [
        "#### Ticket files in this change (1)",
        "| ticket | file |",
        "| --- | --- |",
        "| `T-aaaa0001` Invoice \\| missing | changed |",
    ]


def test_a_ticket_file_changed_without_effect_still_says_nothing_changes() -> None:
    edited = item(change="changed", base=outcome(), head=outcome())
    text = render_markdown(preview((edited,)))
    assert "#### Ticket files in this change (1)" in text
    assert text.endswith("No ticket's SLA, routing or next sweep changes.\n")


def test_a_long_table_shows_its_first_rows_and_how_many_more() -> None:
    n = MAX_ROWS + 3
    tickets = tuple(item(f"T-{i:08d}", change="added") for i in range(n))
    lines = section(render_markdown(preview(tickets)), "#### Ticket files")
    assert lines[0] == f"#### Ticket files in this change ({n})"
    rows = [line for line in lines if line.startswith("| `T-")]
    assert len(rows) == MAX_ROWS
    assert rows[-1].startswith(f"| `T-{MAX_ROWS - 1:08d}`")
    assert lines[-2:] == [
        "… and 3 more rows (`esc plan --format json` lists them all)",
        "No ticket's SLA, routing or next sweep changes.",  # (files added, nothing else)
    ]
    exact = tuple(item(f"T-{i:08d}", change="added") for i in range(MAX_ROWS))
    assert "more rows" not in render_markdown(preview(exact))


# ---------------------------------------------------------------- compared from YAML


def config(first_response: str) -> Config:
    rules = (
        CALENDARS_YAML
        + f"""\
categories: [billing, account, how-to, refund, bug, outage, data]
sla:
  - name: standard
    calendar: office
    targets: {{first_response: {first_response}, resolution: 24h}}
    warn_at: 75%
"""
    )
    built, findings = build_config(TEAMS_YAML, rules)
    assert built is not None and not findings, findings
    return built


def test_a_tightened_target_as_esc_plan_shows_it() -> None:
    created = berlin(2026, 11, 23, 9)
    ticket = Ticket(
        id="T-4k8q2m7x",
        title="Invoice missing",
        status="new",
        priority="normal",
        team="support",
        created=created,
        updated=created,
        category="billing",
    )
    pair = TicketPair("T-4k8q2m7x.md", "same", ticket, ticket)
    impact = compare([pair], config("8h"), config("4h"), NOW)
    files = {"teams.yaml": "same", "rules.yaml": "changed"}
    shown = Preview("main", COMMIT, NOW, files, impact, (), (), ("warning",))
    text = render_markdown(shown)
    assert "Changed: rules.yaml changed; no ticket file changed; teams.yaml unchanged." in text
    assert "What it causes: deadline, **warning** (fails: `--fail-on` names them)" in text
    assert section(text, "#### SLA")[3:] == [
        "| `T-4k8q2m7x` Invoice missing | first_response | ok, due 2026-11-23 17:00+01:00 "
        "| warning, due 2026-11-23 13:00+01:00 |"
    ]
    assert json.loads(render_json(shown))["failed"] is True
