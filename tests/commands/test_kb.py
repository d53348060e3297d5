"""The knowledge base as a user runs it: esc kb new|list|search|show, esc suggest,
esc resolve --kb, esc validate on kb/, and the suggestions esc show lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import frontmatter
import pytest

from tests.conftest import REPO, Esc, findings

LOCKED = "Unlock an account locked after failed logins"


def new_ticket(esc: Esc, title: str, body: str, category: str = "account") -> str:
    return esc.ok(
        "create", "--title", title, "--body", body, "--category", category,
        "--customer", "noah@brewbox.example", "--channel", "email",
    ).strip()  # fmt: skip


@pytest.fixture
def kb_esc(esc: Esc) -> Esc:
    esc.ok("kb", "new", "--title", LOCKED, "--category", "account", "--tag", "login",
           "--body", "Too many failed logins lock the account for 24 hours. Unlock it.")
    esc.ok("kb", "new", "--title", "Offer free shipping above an order value",
           "--category", "how-to", "--body", "Add a 'free above order value' rule per zone.")
    return esc  # fmt: skip


def test_kb_new_writes_the_next_article_and_list_show_it(kb_esc: Esc) -> None:
    result = kb_esc("kb", "new", "--title", "Refunds", "--category", "Refund", "--body", "-",
                    input="## Solution\n\nRefund it.\n")  # fmt: skip (any case: as written)
    assert (result.code, result.out, result.err) == (0, "KB-0003\n", "esc: wrote kb/KB-0003.md\n")
    post = frontmatter.load(str(kb_esc.cwd / "kb" / "KB-0003.md"))
    assert post.metadata == {
        "id": "KB-0003", "title": "Refunds", "categories": ["refund"], "tags": [],
        "updated": __import__("datetime").date(2026, 11, 20),
    }  # fmt: skip
    assert post.content == "## Solution\n\nRefund it."
    table = kb_esc.ok("kb", "list").splitlines()
    assert table[0].split() == ["ID", "UPDATED", "CATEGORIES", "TITLE"]
    assert [line.split()[0] for line in table[1:]] == ["KB-0001", "KB-0002", "KB-0003"]
    listed = json.loads(kb_esc.ok("kb", "list", "--json", "--category", "account"))
    assert [(a["id"], a["title"], a["file"]) for a in listed] == [
        ("KB-0001", LOCKED, "kb/KB-0001.md")
    ]
    shown = kb_esc.ok("kb", "show", "3")
    assert shown.startswith("KB-0003  Refunds\n") and "Refund it." in shown
    assert json.loads(kb_esc.ok("kb", "show", "kb-0003", "--json"))["body"] == post.content
    assert kb_esc.ok("kb", "show", "KB-3") == shown  # (the number without its zeros)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["kb", "new"], 2, "esc: give --title (or --from TICKET"),
        (["kb", "new", "--title", "X", "--category", "biling"], 2,
         "esc: unknown category 'biling' (did you mean 'billing'?)"),
        (["kb", "new", "--title", "a\nb"], 2, "esc: --title must be one line of text"),
        (["kb", "new", "--title", "X", "--tag", "a,b"], 2, "esc: tag 'a,b' has a comma"),
        (["kb", "show", "KB-0022"], 2, "esc: unknown article 'KB-0022' (did you mean 'KB-0002'?)"),
        (["kb", "search", " "], 2, "esc: give some words to search for"),
        (["kb", "list", "--category", "biling"], 2,
         "esc: unknown category 'biling' (did you mean 'billing'?)"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(
    kb_esc: Esc, args: list[str], code: int, message: str
) -> None:
    before = sorted(p.name for p in (kb_esc.cwd / "kb").iterdir())
    result = kb_esc(*args)
    assert result.code == code and result.err.startswith(message), result.err
    assert len(result.err.splitlines()) == 1 and "Traceback" not in result.err
    assert sorted(p.name for p in (kb_esc.cwd / "kb").iterdir()) == before


def test_search_and_suggest_rank_with_scores_and_matched_words(kb_esc: Esc) -> None:
    found = json.loads(kb_esc.ok("kb", "search", "locked out after failed logins", "--json"))
    assert [a["id"] for a in found] == ["KB-0001"]
    unquoted = ["kb", "search", "locked", "out", "after", "failed", "logins", "--json"]
    assert json.loads(kb_esc.ok(*unquoted)) == found  # (the words, quoted or not)
    assert found[0]["terms"] == ["locked", "failed", "logins"] and found[0]["score"] > 0
    ticket = new_ticket(kb_esc, "Account locked", "It says my account is locked for 24 hours.")
    table = kb_esc.ok("suggest", ticket).splitlines()
    assert table[0].split() == ["ID", "SCORE", "TITLE", "MATCHED"]
    assert table[1].startswith("KB-0001") and LOCKED in table[1] and len(table) == 2
    ranked = json.loads(kb_esc.ok("suggest", ticket, "--json"))
    assert [(s["id"], s["terms"]) for s in ranked] == [
        ("KB-0001", ["account", "locked", "24", "hours"])
    ]
    assert f"{ranked[0]['score']:.2f}" in table[1]
    nothing = kb_esc("suggest", new_ticket(kb_esc, "Zebra", "Quux"))
    assert (nothing.code, nothing.out, nothing.err) == (0, "", "no articles match\n")


def test_show_lists_the_top_articles_for_a_new_ticket_at_level_1(kb_esc: Esc) -> None:
    ticket = new_ticket(kb_esc, "Account locked", "Locked out after failed logins.")
    shown = kb_esc.ok("show", ticket)
    section = shown.split("Suggested articles\n", 1)[1].split("\n\n", 1)[0]
    assert section.split("\n")[0].startswith("  KB-0001 ") and LOCKED in section
    data = json.loads(kb_esc.ok("show", ticket, "--json"))
    assert [s["id"] for s in data["suggestions"]] == ["KB-0001"]
    # none matching: `[]`, as `esc suggest --json` says it (the key was left out: audit
    # helper-383, a script reading it failed)
    nothing = new_ticket(kb_esc, "Zebra", "Quux")
    assert json.loads(kb_esc.ok("show", nothing, "--json"))["suggestions"] == []
    assert json.loads(kb_esc.ok("suggest", nothing, "--json")) == []
    # not once the ticket is escalated away from level 1
    kb_esc.ok("escalate", ticket, "--up", "--reason", "needs engineering")
    assert "Suggested articles" not in kb_esc.ok("show", ticket)
    assert "suggestions" not in json.loads(kb_esc.ok("show", ticket, "--json"))


def test_show_names_the_article_a_ticket_was_solved_with_and_flags_one_kb_lacks(
    demo: Path,
) -> None:
    """`solved with KB-0093` was shown as it was, an article kb/ does not hold: only
    `esc validate` said so (audit helper-383)."""
    esc = Esc(demo, now="2026-11-27T12:00:00+01:00")
    path = next(p for p in sorted((demo / "tickets").glob("*.md"))
                if "\nkb: KB-0001\n" in p.read_text())  # fmt: skip
    ticket = path.stem
    title = next(line for line in (demo / "kb" / "KB-0001.md").read_text().splitlines()
                 if line.startswith("title: "))[len("title: "):]  # fmt: skip
    assert f"solved with    KB-0001 ({title})" in esc.ok("show", ticket)
    path.write_text(path.read_text().replace("\nkb: KB-0001\n", "\nkb: KB-0093\n"))
    shown = esc("show", ticket)
    assert shown.code == 0 and "solved with    KB-0093 (not in kb/)" in shown.out
    line = path.read_text().splitlines().index("kb: KB-0093") + 1
    finding = (
        f"tickets/{ticket}.md:{line}: kb: unknown article 'KB-0093' (did you mean"
        " 'KB-0009'?); `esc kb list` lists them"
    )
    assert shown.err == finding + "\n"
    assert finding in esc("validate").out + esc("validate").err
    # (an ID validate does not take, `kb-1`, is not taken by show either: review helper-398)
    path.write_text(path.read_text().replace("\nkb: KB-0093\n", "\nkb: KB-1\n"))
    shown = esc("show", ticket)
    assert "solved with    KB-1 (not in kb/)" in shown.out and "unknown article 'KB-1'" in shown.err
    # (an article whose file is there but cannot be used, a byte order mark an editor added:
    # "not in kb/" and "unknown article … (did you mean another?)"; audit helper-438)
    path.write_text(path.read_text().replace("\nkb: KB-1\n", "\nkb: KB-0001\n"))
    article = demo / "kb" / "KB-0001.md"
    article.write_bytes(b"\xef\xbb\xbf" + article.read_bytes())
    shown = esc("show", ticket)
    assert "solved with    KB-0001 (its file has a problem)" in shown.out
    assert "kb: article KB-0001 cannot be used: kb/KB-0001.md:1: a byte order mark" in shown.err
    assert "unknown article" not in esc("validate").err
    # (its file there with another article's ID: that problem said, not "did you mean";
    # audit helper-458)
    article.write_bytes(article.read_bytes()[3:].replace(b"\nid: KB-0001\n", b"\nid: KB-0099\n"))
    shown = esc("show", ticket)
    assert "solved with    KB-0001 (its file has a problem)" in shown.out
    assert "kb: article KB-0001 cannot be used: kb/KB-0001.md:2: id KB-0099 does not match" in (
        shown.err
    )
    assert "unknown article" not in esc("validate").out + esc("validate").err


def test_show_without_a_knowledge_base_does_not_load_the_ranking(esc: Esc) -> None:
    """A real process: in-process tests share sys.modules with every test before them."""
    ticket = new_ticket(esc, "Account locked", "Locked out after failed logins.")
    code = (
        "import sys; from esc.cli.main import main; c = main(['show', sys.argv[1]]); "
        "print('bm25s' in sys.modules, 'numpy' in sys.modules); sys.exit(c)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "ESC_NOW": "2026-11-20T10:00:00+01:00"}
    run = subprocess.run([sys.executable, "-c", code, ticket], cwd=esc.cwd, env=env,
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("False False\n") and "Suggested articles" not in run.stdout


def test_resolve_kb_records_the_article_and_refuses_one_that_does_not_exist(kb_esc: Esc) -> None:
    ticket = new_ticket(kb_esc, "Account locked", "Locked out.")
    path = kb_esc.cwd / "tickets" / f"{ticket}.md"
    before = path.read_bytes()
    bad = kb_esc("resolve", ticket, "--resolution", "Unlocked", "--kb", "KB-0011")
    assert bad.code == 2 and bad.err.startswith("esc: unknown article 'KB-0011' (did you mean")
    assert path.read_bytes() == before
    assert kb_esc.ok("resolve", ticket, "--resolution", "Unlocked", "--kb", "1") == (
        f"{ticket}: resolved with KB-0001\n"
    )
    text = path.read_text()
    assert "\ncsat: null\nkb: KB-0001\nescalations: []\n" in text
    assert "· alice · kb: — → KB-0001\n" in text
    assert json.loads(kb_esc.ok("show", ticket, "--json"))["kb"] == "KB-0001"
    assert "solved with    KB-0001" in kb_esc.ok("show", ticket)
    assert "kb:" not in (kb_esc.cwd / "tickets" / f"{new_ticket(kb_esc, 'x', 'y')}.md").read_text()
    # reopened: the article did not solve it after all (the log keeps it)
    kb_esc.ok("reopen", ticket, "--reason", "locked again")
    assert frontmatter.load(str(path))["kb"] is None
    assert "· alice · kb: KB-0001 → —" in path.read_text()
    # the customer writing back reopens it as surely (the report counted the article used)
    kb_esc.ok("resolve", ticket, "--resolution", "Unlocked", "--kb", "1")
    kb_esc.ok("comment", ticket, "--from-customer", "-m", "Still locked", "--by", "jane")
    assert frontmatter.load(str(path))["status"] == "open"
    assert frontmatter.load(str(path))["kb"] is None
    assert "· jane · kb: KB-0001 → —" in path.read_text()


def test_close_kb_records_the_article_as_resolve_does(kb_esc: Esc) -> None:
    ticket = new_ticket(kb_esc, "Account locked", "Locked out.")
    path = kb_esc.cwd / "tickets" / f"{ticket}.md"
    before = path.read_bytes()
    bad = kb_esc("close", ticket, "--resolution", "Unlocked", "--kb", "KB-0011")
    assert bad.code == 2 and bad.err.startswith("esc: unknown article 'KB-0011'")
    assert path.read_bytes() == before
    assert kb_esc.ok("close", ticket, "--resolution", "Unlocked", "--kb", "2", "--csat", "5") == (
        f"{ticket}: closed with KB-0002\n"
    )
    shown = json.loads(kb_esc.ok("show", ticket, "--json"))
    assert (shown["status"], shown["kb"], shown["csat"]) == ("closed", "KB-0002", 5)
    # a resolved ticket closed with the article that solved it
    other = new_ticket(kb_esc, "Locked again", "Locked out.")
    kb_esc.ok("resolve", other, "--resolution", "Unlocked")
    kb_esc.ok("close", other, "--kb", "KB-0001")
    assert json.loads(kb_esc.ok("show", other, "--json"))["kb"] == "KB-0001"


def test_kb_new_from_a_resolved_ticket_drafts_it(kb_esc: Esc) -> None:
    ticket = new_ticket(kb_esc, "Reset link expired", "Every reset link says expired.")
    refused = kb_esc("kb", "new", "--from", ticket)
    assert refused.code == 1
    assert refused.err == f"esc: {ticket} is new: draft an article from a resolved ticket\n"
    kb_esc.ok("comment", ticket, "--from-customer", "-m", "We use Safe Links.")
    kb_esc.ok("resolve", ticket, "--resolution", "Copy the link into the browser.")
    assert kb_esc.ok("kb", "new", "--from", ticket[:6], "--tag", "password") == "KB-0003\n"
    post = frontmatter.load(str(kb_esc.cwd / "kb" / "KB-0003.md"))
    assert (post["title"], post["categories"], post["tags"]) == (
        "Reset link expired", ["account"], ["password"],
    )  # fmt: skip
    assert post.content == (
        "## Problem\n\nEvery reset link says expired.\n\nWe use Safe Links.\n\n"
        "## Solution\n\nCopy the link into the browser."
    )


def test_a_draft_s_sections_stay_its_own_whatever_the_customer_wrote(kb_esc: Esc) -> None:
    """A customer's `## Solution` line is shown as written (escaped), not as the draft's
    second Solution section ahead of the real one."""
    ticket = new_ticket(kb_esc, "Export broke", "It broke.\n\n## Solution\n\nI guessed a fix.")
    kb_esc.ok("comment", ticket, "--from-customer", "-m", "## Solution?\nPlease help")
    kb_esc.ok("resolve", ticket, "--resolution", "Rerun the export.")
    kb_esc.ok("kb", "new", "--from", ticket)
    content = frontmatter.load(str(kb_esc.cwd / "kb" / "KB-0003.md")).content
    headings = [line for line in content.splitlines() if line.startswith("#")]
    assert headings == ["## Problem", "## Solution"]
    assert "It broke.\n\n\\## Solution\n\nI guessed a fix." in content
    assert "\\## Solution?\nPlease help" in content  # (a heading of the same word, too)
    assert content.endswith("## Solution\n\nRerun the export.")


def test_a_draft_keeps_code_as_written(kb_esc: Esc) -> None:
    """A shell comment `# Solution: …` in a fenced block is code, not a heading: it was
    escaped too (`\\# Solution`), changing the snippet (a code review's find)."""
    ticket = new_ticket(kb_esc, "Agent hangs", "It hangs.")
    fix = "Run this:\n\n```sh\n# Solution: restart the agent\nsystemctl restart agent\n```"
    kb_esc.ok("resolve", ticket, "--resolution", fix)
    kb_esc.ok("kb", "new", "--from", ticket)
    content = frontmatter.load(str(kb_esc.cwd / "kb" / "KB-0003.md")).content
    assert content.endswith(fix)


def test_validate_checks_the_articles_and_the_tickets_that_name_them(kb_esc: Esc) -> None:
    root = kb_esc.cwd
    assert kb_esc("validate").err == "ok: teams.yaml, rules.yaml and 0 tickets, 2 articles\n"
    (root / "kb" / "KB-0005.md").write_text(
        "---\nid: KB-0001\ntitle: Copy\ncategories: [acount]\ntags: []\nupdated: 2026-01-01\n"
        "sumary: x\n---\n"
    )
    (root / "kb" / "KB-0006.md").write_text("---\nid: KB-0006\ntitle: [broken\n---\n")
    ticket = new_ticket(kb_esc, "x", "y")
    kb_esc.ok("resolve", ticket, "--resolution", "done", "--kb", "KB-0002")
    path = root / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace("kb: KB-0002", "kb: KB-0020"))
    result = kb_esc("validate")
    assert result.code == 1
    kb_line = path.read_text().splitlines().index("kb: KB-0020") + 1
    lines = findings(result)
    assert lines[:4] == [  # (a file's problems in the order of its lines)
        "kb/KB-0005.md:2: id KB-0001 does not match the file name KB-0005.md",
        "kb/KB-0005.md:2: duplicate id KB-0001 (also in kb/KB-0001.md)",
        "kb/KB-0005.md:4: unknown category 'acount' (did you mean 'account'?); choose from "
        "billing, account, how-to, refund, bug, outage, data",
        "kb/KB-0005.md:7: unknown key 'sumary'; an article has id, title, categories, tags, "
        "updated",
    ]
    assert lines[4].startswith("kb/KB-0006.md:3: front-matter does not parse: ")
    assert lines[5:] == [
        f"tickets/{ticket}.md:{kb_line}: kb: unknown article 'KB-0020' (did you mean "
        "'KB-0002'?); `esc kb list` lists them",
    ]
    # the other commands leave the broken articles out, say so, and exit 1
    listed = kb_esc("kb", "list")
    assert listed.code == 1 and [line.split()[0] for line in listed.out.splitlines()[1:]] == [
        "KB-0001", "KB-0002",
    ]  # fmt: skip
    assert listed.err.splitlines()[0].startswith("kb/KB-0005.md:")


def test_validate_finds_an_id_written_with_more_zeros_as_the_other_commands_do(
    kb_esc: Esc,
) -> None:
    """KB-00001 and KB-0001 are one article to `kb show`, `resolve --kb` and the rest:
    validate says the second file is a duplicate, as `kb list` does, rather than "ok"."""
    root = kb_esc.cwd
    (root / "kb" / "extra.md").write_text(
        "---\nid: KB-00001\ntitle: Big\ncategories: [billing]\ntags: []\nupdated: 2026-01-01\n"
        "---\nbody\n"
    )
    result = kb_esc("validate")
    assert result.code == 1
    assert findings(result) == ["kb/extra.md:2: duplicate id KB-00001 (also in kb/KB-0001.md)"]
    listed = kb_esc("kb", "list")
    assert listed.err.splitlines()[0] == (
        "kb/extra.md:2: duplicate id KB-00001 (also in kb/KB-0001.md)"
    )
    # (neither is offered, as `kb show 1` and `resolve --kb 1` refuse the ID: which one is
    # meant is not known; `kb list` and `suggest` offered the first)
    assert "KB-0001" not in listed.out and "KB-0002" in listed.out
    assert kb_esc("kb", "show", "1").code == 1
    assert "KB-0001" not in kb_esc("kb", "search", "logins").out


def test_an_article_added_by_hand_may_have_any_file_name(kb_esc: Esc) -> None:
    """README: "a file you add by hand may have any name ending in `.md`"; only a name
    that is itself an article ID must be the article's."""
    (kb_esc.cwd / "kb" / "password-reset.md").write_text(
        "---\nid: KB-0003\ntitle: Reset a password\ncategories: [account]\ntags: [login]\n"
        "updated: 2026-10-01\n---\n\nUse the reset link.\n"
    )
    assert kb_esc("validate").err == "ok: teams.yaml, rules.yaml and 0 tickets, 3 articles\n"
    assert "Reset a password" in kb_esc.ok("kb", "show", "3")


# ---------------------------------------------------------------- the demo's quality bar


def test_demo_tickets_resolved_with_an_article_get_it_in_their_top_3(demo: Path) -> None:
    desk = Esc(demo, now="2026-11-27T09:00:00+01:00")
    solved = {
        t["id"]: t["kb"] for t in json.loads(desk.ok("list", "--all", "--json")) if t["kb"]
    }
    assert len(solved) >= 8
    hits = [
        ticket
        for ticket, article in solved.items()
        if article in [s["id"] for s in json.loads(desk.ok("suggest", ticket, "--json"))[:3]]
    ]
    assert len(hits) / len(solved) >= 0.8, sorted(set(solved) - set(hits))


def test_a_broken_article_is_named_by_every_command_that_reads_them_all(kb_esc: Esc) -> None:
    """`report` leaves it out, names it and exits 1 as `kb list` does; `resolve --kb` and
    `kb show` naming it give its problem (exit 1), not "unknown article"."""
    path = kb_esc.cwd / "kb" / "KB-0001.md"
    path.write_text(path.read_text().replace("\ntitle:", "\ntitel:", 1))
    problem = "kb/KB-0001.md:3: unknown key 'titel' (did you mean 'title'?)"
    for command in (("report", "--format", "json"), ("kb", "list"), ("kb", "show", "1")):
        result = kb_esc(*command)
        assert result.code == 1, command
        assert result.err.startswith(problem), (command, result.err)
    report = json.loads(kb_esc("report", "--format", "json").out)
    assert report["knowledge_base"]["articles"] == 1
    ticket = new_ticket(kb_esc, "Account locked", "Locked out.")
    before = (kb_esc.cwd / "tickets" / f"{ticket}.md").read_bytes()
    result = kb_esc("resolve", ticket, "--resolution", "Unlocked", "--kb", "1")
    assert (result.code, result.err.startswith(problem)) == (1, True), result.err
    assert (kb_esc.cwd / "tickets" / f"{ticket}.md").read_bytes() == before
    assert kb_esc("kb", "show", "2").code == 0  # (an article that reads is shown)
    # the same for a file added by hand under a name of its own: found by the ID it holds
    path.rename(kb_esc.cwd / "kb" / "password-reset.md")
    moved = problem.replace("KB-0001.md", "password-reset.md")
    resolve = ("resolve", ticket, "--resolution", "x", "--kb", "1")
    for command in (("kb", "show", "KB-0001"), resolve):
        result = kb_esc(*command)
        assert (result.code, result.err.startswith(moved)) == (1, True), (command, result.err)


def test_an_article_two_files_name_or_one_that_does_not_parse_is_its_problem(
    kb_esc: Esc,
) -> None:
    """Naming an ID two files hold gives the duplicate (exit 1), not the first file's
    article; a hand-named file that does not parse, by the ID its `id:` line states, gives
    its problem, not "unknown article", and `kb new` never takes that ID."""
    (kb_esc.cwd / "kb" / "copy.md").write_text(
        "---\nid: KB-0001\ntitle: Dup\ncategories: [account]\ntags: [x]\nupdated: 2026-01-01"
        "\n---\nbody\n"
    )
    duplicate = "kb/copy.md:2: duplicate id KB-0001 (also in kb/KB-0001.md)"
    ticket = new_ticket(kb_esc, "Account locked", "Locked out.")
    before = (kb_esc.cwd / "tickets" / f"{ticket}.md").read_bytes()
    for command in (("kb", "show", "KB-0001"), ("resolve", ticket, "--resolution", "x", "--kb",
                                                "1")):  # fmt: skip
        result = kb_esc(*command)
        assert (result.code, result.err) == (1, duplicate + "\n"), command
    assert (kb_esc.cwd / "tickets" / f"{ticket}.md").read_bytes() == before
    (kb_esc.cwd / "kb" / "copy.md").unlink()
    (kb_esc.cwd / "kb" / "unclosed.md").write_text(
        "---\nid: KB-0003\ntitle: ok\ncategories: [account]\ntags: [x]\nupdated: 2026-01-01\n"
    )
    unclosed = "kb/unclosed.md:1: front-matter is not closed by a '---' line"
    result = kb_esc("kb", "show", "3")
    assert (result.code, result.err) == (1, unclosed + "\n")
    assert kb_esc.ok("kb", "new", "--title", "Next", "--category", "account").strip() == "KB-0004"


def test_an_article_whose_category_rules_yaml_lacks_is_left_out_and_named(
    kb_esc: Esc,
) -> None:
    """README: validate reports it; kb list, kb search, suggest and report leave it out,
    name it and exit 1; kb show and resolve --kb naming it give that problem."""
    path = kb_esc.cwd / "kb" / "KB-0001.md"
    path.write_text(path.read_text().replace("  - account\n", "  - acount\n", 1))
    problem = "kb/KB-0001.md:4: unknown category 'acount' (did you mean 'account'?)"
    ticket = new_ticket(kb_esc, "Account locked after failed logins", "Locked out, unlock it.")
    assert kb_esc("validate").err.startswith(problem)
    for command in (("kb", "list"), ("kb", "search", "unlock locked account"),
                    ("suggest", ticket), ("report", "--format", "json"), ("kb", "show", "1")):
        result = kb_esc(*command)
        assert result.code == 1, command
        assert problem in result.err, (command, result.err)
        assert "KB-0001" not in result.out, (command, result.out)
    report = json.loads(kb_esc("report", "--format", "json").out)
    assert report["knowledge_base"]["articles"] == 1
    result = kb_esc("resolve", ticket, "--resolution", "Unlocked", "--kb", "1")
    assert (result.code, result.err.startswith(problem)) == (1, True), result.err
    # once rules.yaml has the category, the article is used again (the ranking's cache too)
    rules = kb_esc.cwd / "rules.yaml"
    rules.write_text(rules.read_text().replace("categories: [", "categories: [acount, ", 1))
    assert "KB-0001" in kb_esc.ok("kb", "search", "unlock locked account")
    assert "KB-0001" in kb_esc.ok("kb", "list")


def test_an_article_whose_id_is_not_its_file_name_is_left_out_and_named(kb_esc: Esc) -> None:
    """`kb/KB-0014.md` holding `id: KB-0013`: validate said so, `kb list` and `kb show`
    used it silently, exit 0."""
    source = (kb_esc.cwd / "kb" / "KB-0001.md").read_text()
    (kb_esc.cwd / "kb" / "KB-0014.md").write_text(source.replace("KB-0001", "KB-0013", 1))
    problem = "kb/KB-0014.md:2: id KB-0013 does not match the file name KB-0014.md"
    assert problem in kb_esc("validate").err
    for command in (("kb", "list"), ("kb", "show", "KB-0013")):
        result = kb_esc(*command)
        assert result.code == 1 and problem in result.err, (command, result.err)
    assert "KB-0013" not in kb_esc("kb", "list").out


def test_suggest_without_articles_says_none_match(esc: Esc) -> None:
    ticket = new_ticket(esc, "Account locked", "Locked out.")
    result = esc("suggest", ticket)
    assert (result.code, result.out, result.err) == (0, "", "no articles match (kb/ holds none)\n")


def test_an_article_that_cannot_be_read_is_one_broken_article(
    kb_esc: Esc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One article esc may not read (mode 000, for another user) made `esc show` of any
    ticket, and `esc report`, fail (exit 1); it is named as a broken article is."""
    import errno

    from esc.store import atomic

    real = atomic.read_with_stat
    unreadable = kb_esc.cwd / "kb" / "KB-0002.md"

    def read(path: object, *args: object, **kwargs: object) -> object:
        if str(path) == str(unreadable):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "read_with_stat", read)
    ticket = new_ticket(kb_esc, "Account locked", "Locked out after failed logins.")
    shown = kb_esc("show", ticket)
    assert shown.code == 0, shown.err
    assert "KB-0001" in shown.out
    listed = kb_esc("kb", "list")
    assert listed.code == 1
    assert "kb/KB-0002.md:1: cannot be read (Permission denied)" in listed.err


def test_kb_list_takes_a_category_in_any_case_as_list_does(demo: Path) -> None:
    """(`esc list --category Refund` listed; `esc kb list --category Refund` was exit 2)"""
    esc = Esc(demo)
    assert esc.ok("kb", "list", "--category", "Refund") == esc.ok("kb", "list", "--category",
                                                                   "refund")  # fmt: skip
    assert "KB-" in esc.ok("kb", "list", "--category", "REFUND")
    assert esc("kb", "list", "--category", "refnd").code == 2


def test_kb_list_puts_articles_in_number_order(demo: Path) -> None:
    """`KB-10000` came before `KB-9999` (text order), where `kb new` numbers by value
    (audit helper-462)."""
    esc = Esc(demo, now="2026-11-27T12:00:00+01:00")
    second = (demo / "kb" / "KB-0002.md").read_text()
    (demo / "kb" / "KB-9999.md").write_text(second.replace("\nid: KB-0002\n", "\nid: KB-9999\n"))
    made = esc.ok("kb", "new", "--title", "Newest", "--category", "billing", "--body", "hi")
    assert "KB-10000" in made
    listed = [line.split()[0] for line in esc.ok("kb", "list").splitlines()[1:]]
    assert listed[-2:] == ["KB-9999", "KB-10000"]
    assert listed == sorted(listed, key=lambda i: int(i.removeprefix("KB-")))


def test_articles_filed_in_folders_under_kb_are_read_searched_and_validated(demo: Path) -> None:
    """(`kb/billing/nested.md` was ignored: not searched, not counted, not validated)"""
    esc = Esc(demo, now="2026-11-27T12:00:00+01:00")
    first = sorted((demo / "kb").glob("KB-*.md"))[0].read_text()
    (demo / "kb" / "billing").mkdir()
    nested = first.replace(first.split("\n")[1], "id: KB-0200", 1)
    nested = "\n".join(
        "title: Zebra invoices explained" if line.startswith("title:") else line
        for line in nested.split("\n")
    )
    (demo / "kb" / "billing" / "nested.md").write_text(nested)
    assert "KB-0200" in esc.ok("kb", "search", "zebra")
    assert "Zebra invoices explained" in esc.ok("kb", "show", "200")
    (demo / "kb" / "billing" / "bad.md").write_text("---\nid: KB-0201\n---\nbroken\n")
    result = esc("validate")
    assert result.code == 1
    assert "kb/billing/bad.md:1: title is missing" in result.err


def test_an_article_s_problems_are_said_in_the_order_of_its_lines(kb_esc: Esc) -> None:
    """They came as lines 7, 6, 4, 5 (by kind of check), not as a reader fixes them."""
    (kb_esc.cwd / "kb" / "h.md").write_text(
        "---\nid: KB-0077\ntitle: t\ncategories: [biling]\ntags: 7\nupdated: 2026-12-01\n"
        "extra: 1\n---\nb\n"
    )
    lines = [line.split(":")[1] for line in kb_esc("validate").err.splitlines()
             if line.startswith("kb/h.md:")]  # fmt: skip
    assert lines == sorted(lines, key=int) and len(lines) == 3


def test_the_report_s_stale_articles_tie_in_number_order(demo: Path) -> None:
    """Two stale articles of one date: KB-10000 came before KB-9999 (review helper-464)."""
    esc = Esc(demo, now="2026-11-27T12:00:00+01:00")
    second = (demo / "kb" / "KB-0002.md").read_text()
    for article in ("KB-9999", "KB-10000"):
        text = second.replace("\nid: KB-0002\n", f"\nid: {article}\n")
        text = "\n".join("updated: 2025-01-01" if line.startswith("updated:") else line
                         for line in text.split("\n"))  # fmt: skip
        (demo / "kb" / f"{article}.md").write_text(text)
    assert esc("validate").code in (0, 1)
    report = json.loads(esc("report", "--format", "json").out)
    stale = [a["id"] if isinstance(a, dict) else a for a in report["knowledge_base"]["stale"]]
    assert stale.index("KB-9999") < stale.index("KB-10000")
