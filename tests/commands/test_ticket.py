"""`esc comment --send`: a public reply e-mailed to the customer, through the outbox."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest

from tests import mail_corpus as corpus
from tests.commands.test_intake import CUSTOMER_MAIL, only_ticket
from tests.commands.test_notify import smtp  # noqa: F401  (the fixture)
from tests.conftest import NOW, Esc

Mails = tuple[int, list[tuple[str, list[str], str]]]


@pytest.fixture
def mail_out(workspace: Path, smtp: Mails, monkeypatch: pytest.MonkeyPatch) -> Mails:  # noqa: F811
    """A workspace whose rules.yaml sends customer mail to a real SMTP server."""
    monkeypatch.setenv("SMTP_PORT", str(smtp[0]))
    no_ack = CUSTOMER_MAIL.split("  acknowledge:")[0]
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(no_ack)
    return smtp


def test_a_sent_reply_reaches_the_customer_and_threads_back(
    esc: Esc, workspace: Path, mail_out: Mails
) -> None:
    _port, mails = mail_out
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    assert mails == []  # (no acknowledge: configured)
    out = esc.ok("comment", ticket_id, "--send", "-m", "Please try another card.")
    assert out == f"{ticket_id}: reply added, sent to jane@shop.example\n"
    ((sender, recipients, text),) = mails
    assert (sender, recipients) == ("help@esc.example", ["jane@shop.example"])
    sent = email.message_from_string(text, policy=email.policy.default)
    assert sent["Subject"] == f"Re: [{ticket_id}] Checkout returns 500"
    assert sent["In-Reply-To"] == "<m1@shop.example>"
    assert sent["Auto-Submitted"] is None  # a person's reply
    assert "Please try another card." in sent.get_body(("plain",)).get_content()
    shown = esc.ok("show", ticket_id)
    assert "Please try another card." in shown
    # the customer answers the reply: it threads onto the ticket by the [ID] in its subject
    answer = corpus.message(
        subject=str(sent["Subject"]).replace("Re:", "Re: Re:"),
        text="Done, it works.",
        message_id="<a2@shop.example>",
    )
    assert f"customer message on {ticket_id}" in esc.ok(
        "intake", "--eml", "-", input=answer.decode()
    )
    esc.ok("sweep")
    assert len(mails) == 1  # sent once
    # esc's own reply, come back to the helpdesk's mailbox (an archive copy): not the
    # customer's message (it reopened the ticket it answered)
    assert sent["X-Esc-Ticket"] == ticket_id
    esc.ok("resolve", ticket_id, "--resolution", "works")
    back = esc.ok("intake", "--eml", "-", input=text)
    assert f"ignored: sent by esc (about {ticket_id})" in back
    assert json.loads(esc.ok("show", ticket_id, "--json"))["status"] == "resolved"


def test_a_customer_whose_domain_has_other_letters_is_mailed_at_its_ascii_form(
    esc: Esc, workspace: Path, mail_out: Mails
) -> None:
    """`jurgen@müller.example` (raw UTF-8, as an SMTPUTF8 server hands it on): the reply
    was "not sent" for good and never retried, where `jurgen@xn--mller-kva.example`
    reaches them (audit helper-437)."""
    _port, mails = mail_out
    message = ("From: Jurgen <jurgen@müller.example>\nTo: help@esc.example\nSubject: Broken\n"
               "Message-ID: <u1@x.example>\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\n\nIt broke.\n")  # fmt: skip
    esc.ok("intake", "--eml", "-", input=message)
    ticket_id = only_ticket(workspace)
    out = esc.ok("comment", ticket_id, "--send", "-m", "Hello")
    assert out == f"{ticket_id}: reply added, sent to jurgen@müller.example\n", out
    ((_sender, recipients, _text),) = mails
    assert recipients == ["jurgen@xn--mller-kva.example"]


def test_a_reply_stopped_just_after_its_write_is_mailed_by_the_next_sweep(
    esc: Esc, workspace: Path, mail_out: Mails, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`comment --send` killed between its write and the mail's queueing left the reply
    recorded, never sent, and nothing retried it: the mail is queued before the write."""
    _port, mails = mail_out
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)

    def stopped(*_: object) -> str:
        raise KeyboardInterrupt  # (Ctrl-C, or a SIGTERM, once the reply is written)

    with monkeypatch.context() as patched:
        patched.setattr("esc.commands.session.Session.send_to_customer", stopped)
        assert esc("comment", ticket_id, "--send", "-m", "Please try another card.").code == 130
    assert "Please try another card." in esc.ok("show", ticket_id)
    assert mails == []
    esc.ok("sweep")
    ((_, recipients, text),) = mails
    assert recipients == ["jane@shop.example"] and "Please try another card." in text
    esc.ok("sweep")
    assert len(mails) == 1


def test_a_reply_whose_write_fails_is_never_mailed(
    esc: Esc, workspace: Path, mail_out: Mails, monkeypatch: pytest.MonkeyPatch
) -> None:
    _port, mails = mail_out
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    before = (workspace / "tickets" / f"{ticket_id}.md").read_bytes()

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr("esc.store.atomic.replace_if_unchanged", full)
        result = esc("comment", ticket_id, "--send", "-m", "Please try another card.")
    assert result.code == 1 and "No space left on device" in result.err, result.err
    assert (workspace / "tickets" / f"{ticket_id}.md").read_bytes() == before
    esc.ok("sweep")
    assert mails == []


def test_one_customer_s_mail_refused_for_now_holds_back_no_other_s(
    esc: Esc, workspace: Path, mail_out: Mails, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 450 (greylisting) for one customer's address held every other customer's mail of
    the delivery behind it, as if the server were down (audit helper-455): it waits alone,
    and goes once the server takes it."""
    port, mails = mail_out
    customers = ("ann@x.example", "grey@grey.example", "bea@x.example", "cem@x.example")
    tickets = [
        esc.ok("create", "--title", f"t{n}", "--category", "billing", "--customer", address)
        .strip()
        for n, address in enumerate(customers)
    ]  # fmt: skip
    monkeypatch.setenv("SMTP_PORT", "1")  # (the server away: each reply waits for the sweep,
    for ticket in tickets:  # which sends them in one delivery)
        assert "not sent yet" in esc.ok("comment", ticket, "-m", "On it.", "--send")
    monkeypatch.setenv("SMTP_PORT", str(port))
    esc("sweep", "--no-report", now="2026-11-20T10:30:00+01:00")
    assert sorted(m[1][0] for m in mails) == ["ann@x.example", "bea@x.example", "cem@x.example"]


@pytest.mark.parametrize("archive", [True, False])
def test_a_customer_address_the_server_refuses_is_never_retried_nor_archived_again(
    esc: Esc, workspace: Path, smtp: Mails, monkeypatch: pytest.MonkeyPatch, archive: bool  # noqa: F811
) -> None:
    """The mail server refused the customer's address (550 at RCPT) while the target's
    `bcc=` archive took the mail: each later sweep retried it, and the archive got another
    copy every time, for ever (audit e67).  Refused for good: said, kept, never retried;
    doctor names it."""
    port, mails = smtp
    monkeypatch.setenv("SMTP_PORT", str(port))
    archived = CUSTOMER_MAIL.split("  acknowledge:")[0].replace(
        "mode=insecure", "mode=insecure&bcc=archive@esc.example" if archive else "mode=insecure"
    )  # (without an archive, the only recipient refused: said by smtplib's exception)
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(archived)
    gone = corpus.message(sender="Joe <joe@bounce.example>", message_id="<j1@bounce.example>")
    esc.ok("intake", "--eml", "-", input=gone.decode())
    ticket_id = only_ticket(workspace)
    result = esc("comment", ticket_id, "--send", "-m", "Your refund is on its way.")
    assert result.code == 0, result.err
    assert result.out == f"{ticket_id}: reply added, not sent to joe@bounce.example\n"
    assert "the mail server refused 'joe@bounce.example' (550 5.1.1 no such user)" in result.err
    assert "refused for good: not retried" in result.err
    copies = [["archive@esc.example"]] if archive else []
    assert [recipients for _, recipients, _ in mails] == copies
    for hour in ("11", "13", "18"):
        swept = esc("sweep", now=f"2026-11-20T{hour}:00:00+01:00")
        assert swept.code == 0 and "notify failed" not in swept.err, swept.err
    assert len(mails) == len(copies)  # (the archive's one copy)
    doctor = json.loads(esc("doctor", "--json").out)
    (check,) = [c for c in doctor["checks"] if c["check"] == "refused-mail"]
    assert "joe@bounce.example" in check["detail"] and check["advice"] is True


def test_a_refusal_of_policy_is_retried_and_an_archive_refused_sends_the_customer_one(
    esc: Esc, workspace: Path, smtp: Mails, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """A 5.7.1 refusal (relay denied: the server's setting, mended by a person) stays
    queued and is retried; an archive (`bcc=`) the server refuses while it takes the
    customer's address: the customer has it, and never gets it again (r68)."""
    port, mails = smtp
    monkeypatch.setenv("SMTP_PORT", str(port))
    archived = CUSTOMER_MAIL.split("  acknowledge:")[0].replace(
        "mode=insecure", "mode=insecure&bcc=archive@bounce.example"
    )
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(archived)
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    jane = only_ticket(workspace)
    out = esc.ok("comment", jane, "--send", "-m", "Your refund is on its way.")
    assert out == f"{jane}: reply added, sent to jane@shop.example\n"
    for hour in ("11", "13"):
        esc.ok("sweep", now=f"2026-11-20T{hour}:00:00+01:00")
    assert [recipients for _, recipients, _ in mails] == [["jane@shop.example"]]
    relayed = corpus.message(sender="Kim <kim@relay.example>", message_id="<k1@relay.example>",
                             subject="Where is my parcel?")  # fmt: skip
    esc.ok("intake", "--eml", "-", input=relayed.decode())
    (kim,) = set(json.loads(esc.ok("list", "--json"))[i]["id"] for i in range(2)) - {jane}
    result = esc("comment", kim, "--send", "-m", "It ships today.")
    assert result.out == f"{kim}: reply added, not sent yet to kim@relay.example\n"
    assert "the next sweep retries" in result.err and "refused for good" not in result.err


def test_send_is_refused_without_customer_mail_or_an_address(esc: Esc, workspace: Path) -> None:
    ticket_id = esc.ok("create", "--title", "Phone call", "--customer", "Bob at the front desk")
    before = (workspace / "tickets" / f"{ticket_id.strip()}.md").read_bytes()
    result = esc("comment", ticket_id.strip(), "--send", "-m", "hello")
    assert result.code == 1
    assert result.err == (
        "esc: --send: rules.yaml sends no mail to customers (no customer_mail: section); "
        "nothing changed\n"
    )
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(CUSTOMER_MAIL.split("  acknowledge:")[0])
    result = esc("comment", ticket_id.strip(), "--send", "-m", "hello", env={"SMTP_PORT": "25"})
    assert result.code == 1
    assert "no e-mail address to send to (the customer is 'Bob at the front desk')" in result.err
    assert (workspace / "tickets" / f"{ticket_id.strip()}.md").read_bytes() == before
    assert not (workspace / ".esc-cache" / "outbox").exists()


def test_an_internal_note_can_never_be_sent(esc: Esc, workspace: Path) -> None:
    ticket_id = esc.ok("create", "--title", "x", "--customer", "jane@shop.example").strip()
    for flag in ("--internal", "--from-customer"):
        result = esc("comment", ticket_id, flag, "--send", "-m", "secret")
        assert result.code == 2
        assert "--send e-mails a public reply: not with --internal or --from-customer" in result.err
    assert "secret" not in (workspace / "tickets" / f"{ticket_id}.md").read_text()


def test_a_failed_send_keeps_the_reply_and_the_next_sweep_sends_it(
    esc: Esc, workspace: Path, mail_out: Mails, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, mails = mail_out
    ticket_id = esc.ok("create", "--title", "x", "--customer", "Jane <Jane@Shop.example>").strip()
    monkeypatch.setenv("SMTP_PORT", "1")  # nothing listens there
    result = esc("comment", ticket_id, "--send", "-m", "On it.")
    assert result.code == 0
    assert result.out == f"{ticket_id}: reply added, not sent yet to jane@shop.example\n"
    assert "esc: sending the reply to jane@shop.example failed: " in result.err
    assert "the next sweep retries" in result.err
    monkeypatch.setenv("SMTP_PORT", str(port))
    esc.ok("sweep", now="2026-11-20T10:06:00+01:00")  # after the 5 minutes' backoff
    assert [m[1] for m in mails] == [["jane@shop.example"]]


def test_send_with_json_says_what_became_of_the_mail(
    esc: Esc, workspace: Path, mail_out: Mails, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`comment --send --json` gives the ticket and, under `mail`, where the reply went and
    whether it was sent or is kept for the next sweep, as the line says it (it said
    nothing of the mail; audit helper-455)."""
    _port, mails = mail_out
    ticket_id = esc.ok("create", "--title", "x", "--customer", "Jane <Jane@Shop.example>").strip()
    data = json.loads(esc.ok("comment", ticket_id, "--send", "--json", "-m", "On it."))
    assert (data["id"], data["mail"]) == (ticket_id, {"to": "jane@shop.example", "state": "sent"})
    assert data["conversation"][-1]["text"] == "On it."
    monkeypatch.setenv("SMTP_PORT", "1")  # nothing listens there
    result = esc("comment", ticket_id, "--send", "--json", "-m", "And again.")
    assert result.code == 0
    assert json.loads(result.out)["mail"] == {"to": "jane@shop.example", "state": "queued"}
    assert "the next sweep retries" in result.err
    assert len(mails) == 1
    plain = json.loads(esc.ok("comment", ticket_id, "--json", "-m", "Not mailed."))
    assert "mail" not in plain


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("mallory\n\n## Activity", "is no name: it has a line break"),
        ("a · b", "is no name: it has ' · ', which separates the parts of a log line"),
        ("x\x1b[31m", "is no name: it has the control character U+001B"),
        ("   ", "is empty: name a person"),
        ("", "is empty: name a person"),
        # (a person's escalation under a rule's name was counted as rule-made, and one
        # under the sweep's was never told: neither is a person's name)
        ("rule:breached-goes-up", "is no person's name: it names a rule, and what a person "
                                  "does under it would be counted and told as that"),
        ("esc", "is no person's name: it names esc's own sweep, and what a person does under "
                "it would be counted and told as that"),
    ],
)
@pytest.mark.parametrize("command", [["comment", "-m", "hi"], ["tag", "vip"], ["assign", "ann"]])
def test_a_name_given_with_by_that_cannot_be_written_is_refused_not_changed(
    workspace: Path, given: str, said: str, command: list[str]
) -> None:
    """`--by` (and ESC_USER) as `assign PERSON` is: refused with exit 2, the ticket as it
    was, never written with the name changed (`mallory ## Activity`, `a - b`, `?`)."""
    esc = Esc(workspace)
    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    before = path.read_bytes()
    result = esc(command[0], ticket, *command[1:], "--by", given)
    named = "--by" if said.startswith("is empty") else f"--by {given!r}"
    assert (result.code, result.err) == (2, f"esc: {named} {said}\n")
    assert path.read_bytes() == before
    bad_env = esc(command[0], ticket, *command[1:], env={"ESC_USER": "bad\tname"})
    no_name = "esc: ESC_USER 'bad\\tname' is no name: it has a tab\n"
    assert (bad_env.code, bad_env.err) == (2, no_name)
    assert path.read_bytes() == before


@pytest.mark.parametrize("given", ["=bob", ">bob", "!bob", "<bob"])
def test_an_assignee_no_filter_could_select_is_refused(
    esc: Esc, workspace: Path, given: str
) -> None:
    """`assign T '=bob' --force` wrote an assignee `--assignee` can never select (a filter
    reads `=`, `!`, `<` and `>` as a comparison), as `esc tag` refuses such a tag (audit
    helper-421); and `'  bob'` was written with its spaces.  Exit 2, nothing written."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    path = workspace / "tickets" / f"{ticket}.md"
    before = path.read_bytes()
    refused = esc("assign", ticket, given, "--force")
    assert refused.code == 2 and "which a filter reads as a comparison" in refused.err
    assert path.read_bytes() == before
    esc.ok("assign", ticket, "  bob", "--force")
    assert ticket in esc.ok("list", "--assignee", "bob")


def test_names_given_with_spaces_around_them_are_kept_trimmed(esc: Esc, workspace: Path) -> None:
    """`--by " maya "` was written `" maya "` in `requests:` and `escalations:` (the log
    line trimmed it), and the maya who asked was never told of the answer; `involve
    --person " dan "` was refused as " dan  is not in team engineering" (audit helper-443)."""
    ticket = esc.ok("create", "--title", "t", "--category", "billing").strip()
    asked = esc.ok("involve", ticket, "--team", "engineering", "--person", " dan ", "--ask",
                   "q", "--by", " maya ")  # fmt: skip
    assert asked == f"{ticket}: asked engineering (dan)\n"
    esc.ok("answer", ticket, "--team", "engineering", "-m", "a", "--by", " ben ")
    esc.ok("escalate", ticket, "--to", "engineering", "--reason", "r", "--by", "  maya ")
    shown = json.loads(esc.ok("show", ticket, "--json"))
    request = shown["requests"][0]
    assert (request["by"], request["person"], request["closed_by"]) == ("maya", "dan", "ben")
    assert shown["escalations"][0]["by"] == "maya"
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert '" maya "' not in text and '" ben "' not in text


def test_show_prints_a_multi_line_escalation_reason_on_one_line(esc: Esc) -> None:
    ticket = esc.ok("create", "--title", "t", "--body", "x").strip()
    esc.ok("escalate", ticket, "--up", "--reason", "multi\nline: reason")
    shown = esc.ok("show", ticket).split("Escalations\n", 1)[1].splitlines()[0]
    assert shown.endswith(": multi\\nline: reason")


def test_the_same_words_sent_twice_in_one_second_are_two_mails(
    esc: Esc, workspace: Path, mail_out: Mails
) -> None:
    """Two `comment --send` of one text at one `--now`: both said "sent" and both replies
    are in the ticket, but one mail went (the second was taken for a repeat of the first)."""
    _port, mails = mail_out
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    for _ in range(2):
        out = esc.ok("comment", ticket_id, "--send", "-m", "Please try turning it off and on.")
        assert out == f"{ticket_id}: reply added, sent to jane@shop.example\n"
    assert len(mails) == 2
    for _ in range(2):  # (words the file keeps otherwise: its line breaks, trailing blanks)
        esc.ok("comment", ticket_id, "--send", "-m", "-", input="line one\r\nline two   \r\n")
    assert len(mails) == 4


def test_without_a_list_of_categories_the_ones_teams_handle_are_taken_in_any_case(
    esc: Esc, workspace: Path
) -> None:
    """rules.yaml without `categories:`: `--category DATA` was written as typed and so sent
    to intake, though engineering handles `data`; a case-only retype re-routed the ticket
    down a level.  A category the teams handle is written as they spell it; another as
    given; `list --assignee DAN` finds dan's tickets, as `assign ID DAN` assigns dan."""
    rules = workspace / "rules.yaml"
    rules.write_text("".join(line for line in rules.read_text().splitlines(keepends=True)
                             if not line.startswith("categories:")))  # fmt: skip
    data = esc.ok("create", "--title", "d", "--category", "DATA").strip()
    bug = esc.ok("create", "--title", "b", "--category", "bug").strip()
    assert esc.ok("classify", bug, "--category", "BUG") == f"{bug}: bug, normal, team engineering\n"
    other = esc.ok("create", "--title", "s", "--category", "Security").strip()
    shown = {t["id"]: (t["category"], t["team"]) for t in json.loads(esc.ok("list", "--json"))}
    assert shown == {data: ("data", "engineering"), bug: ("bug", "engineering"),
                     other: ("Security", "support")}  # fmt: skip
    assert "routed to engineering (engineering handles data)" in (
        workspace / "tickets" / f"{data}.md"
    ).read_text()
    listed = esc.ok("list", "--category", "Data")
    assert data in listed and bug not in listed
    path = workspace / "tickets" / f"{other}.md"  # (spelled `DATA` by hand, or by an older
    path.write_text(path.read_text().replace("category: Security", "category: DATA"))  # esc)
    spelled_so = esc.ok("list", "--category", "DATA")
    assert other in spelled_so and data in spelled_so
    esc.ok("assign", bug, "DAN")
    assert bug in esc.ok("list", "--assignee", "Dan")
    assert data not in esc.ok("list", "--assignee", "DAN")


@pytest.mark.parametrize("given", ["", "  ", "a\nb", "x\x1b", "-neg", ">=x", "=x"])
def test_without_a_list_a_category_given_is_still_a_name(
    esc: Esc, workspace: Path, given: str
) -> None:
    """rules.yaml without `categories:`: `--category` was written as given, a blank, a line
    break, an escape, `-neg` or `>=x` (which no filter can name) into the ticket, and
    validate said ok (audit helper-406); the same for `--impact`/`--urgency` without a
    priority matrix.  A usage error (exit 2), nothing written."""
    rules = workspace / "rules.yaml"
    rules.write_text("".join(line for line in rules.read_text().splitlines(keepends=True)
                             if not line.startswith("categories:")))  # fmt: skip
    made = esc.ok("create", "--title", "t").strip()
    before = (workspace / "tickets" / f"{made}.md").read_bytes()
    for command in (("create", "--title", "t", "--category", given),
                    ("classify", made, "--category", given)):  # fmt: skip
        refused = esc(*command)
        assert refused.code == 2 and "a category is a name" in refused.err, refused.err
    rules.write_text("".join(line for line in rules.read_text().splitlines(keepends=True)
                             if not line.startswith(("priority_matrix", "  high:", "  medium:",
                                                     "  low:"))))  # fmt: skip
    refused = esc("classify", made, "--impact", given, "--urgency", "low")
    assert refused.code == 2 and "an impact is a name" in refused.err, refused.err
    assert [p.name for p in (workspace / "tickets").glob("*.md")] == [f"{made}.md"]
    assert (workspace / "tickets" / f"{made}.md").read_bytes() == before


def test_a_tag_is_one_tag_in_either_unicode_form(esc: Esc, workspace: Path) -> None:
    """`café` typed NFC and NFD (as macOS input gives it) was two tags, `tags café, café`,
    and `list --tag` in one form missed tickets tagged in the other (audit helper-409)."""
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    one = esc.ok("create", "--title", "a", "--tag", nfd).strip()
    esc.ok("tag", one, nfc)
    assert json.loads(esc.ok("show", one, "--json"))["tags"] == [nfc]  # (written NFC)
    two = esc.ok("create", "--title", "b").strip()
    path = workspace / "tickets" / f"{two}.md"  # (NFD by hand, or by an older esc)
    path.write_text(path.read_text().replace("tags: []", f"tags: [{nfd}]"))
    for form in (nfc, nfd):
        listed = esc.ok("list", "--tag", form)
        assert one in listed and two in listed
    assert esc.ok("tag", two, nfc) == f"{two}: tags {nfd}\n"  # (it has it already)


def test_category_none_means_no_category(esc: Esc, workspace: Path) -> None:
    """`--category none` (in any case) is no category, as the README says and `list
    --category none` reads it: without a list of categories it was written as the category
    `none`, which `list --category none` then did not list (audit helper-406)."""
    for closed in (True, False):
        if not closed:
            rules = workspace / "rules.yaml"
            rules.write_text("".join(line for line in rules.read_text().splitlines(keepends=True)
                                     if not line.startswith("categories:")))  # fmt: skip
        made = esc.ok("create", "--title", "t", "--category", "None").strip()
        shown = json.loads(esc.ok("show", made, "--json"))
        assert shown["category"] is None
        assert made in esc.ok("list", "--category", "none")
        esc.ok("classify", made, "--category", "billing")
        assert json.loads(esc.ok("show", made, "--json"))["category"] == "billing"
        esc.ok("classify", made, "--category", "none")  # (taken away)
        assert json.loads(esc.ok("show", made, "--json"))["category"] is None


def test_without_a_list_a_category_spelled_two_ways_is_kept_as_given(
    esc: Esc, workspace: Path
) -> None:
    """`handles: [Outage]` beside a routing rule and a rule on `category: outage`: written
    as teams.yaml spells it, `--category outage` missed both rules.  A category the
    configuration names in two spellings is kept as given; the teams' `handles` route it
    whatever its case."""
    rules = workspace / "rules.yaml"
    text = "".join(line for line in rules.read_text().splitlines(keepends=True)
                   if not line.startswith("categories:"))  # fmt: skip
    text = text.replace("  - when: {category: outage}\n    team: engineering",
                        "  - when: {category: outage}\n    team: management")  # fmt: skip
    rules.write_text(text + "  - name: billing-tag\n    when: {category: billing}\n"
                     "    then: {tag: money}\n")  # fmt: skip
    teams = workspace / "teams.yaml"
    teams.write_text(teams.read_text().replace("[bug, outage, data]", "[bug, Outage, data]")
                     .replace("[billing, account,", "[Billing, account,"))  # fmt: skip
    outage = esc.ok("create", "--title", "o", "--category", "outage").strip()
    billing = esc.ok("create", "--title", "b", "--category", "billing").strip()
    shown = {t["id"]: (t["category"], t["team"]) for t in json.loads(esc.ok("list", "--json"))}
    assert shown == {outage: ("outage", "management"), billing: ("billing", "support")}
    out = esc.ok("sweep", "--no-report", "--dry-run")
    assert f"{billing}: tag money (billing-tag)" in out
    assert f"{outage}: normal → urgent (outage-is-urgent)" in out


def test_teams_categories_and_priorities_are_taken_in_any_case(esc: Esc) -> None:
    """`esc list --team Support` took any case, `esc escalate --to Support` was a usage
    error: every command takes a name of the configuration in any case, and writes it as
    rules.yaml and teams.yaml spell it; a misspelling is still refused with a hint."""
    ticket = esc.ok("create", "--title", "t", "--category", "Billing", "--priority", "HIGH",
                    "--channel", "EMAIL").strip()  # fmt: skip
    esc.ok("escalate", ticket, "--to", "Engineering", "--reason", "r")
    esc.ok("escalate", ticket, "--priority", "Urgent", "--reason", "r")
    esc.ok("involve", ticket, "--team", "SUPPORT", "--ask", "q")
    esc.ok("answer", ticket, "--team", "Support", "-m", "a")
    esc.ok("classify", ticket, "--category", "BUG")
    shown = json.loads(esc.ok("show", ticket, "--json"))
    assert (shown["team"], shown["priority"], shown["category"], shown["channel"]) == (
        "engineering", "urgent", "bug", "email"
    )
    assert [r["team"] for r in shown["requests"]] == ["support"]
    wrong = esc("escalate", ticket, "--to", "Enginering", "--reason", "r")
    assert wrong.code == 2 and "did you mean 'engineering'?" in wrong.err
    form = {"title": "From a form", "category": "Refund", "priority": "Low", "channel": "Portal"}
    esc.ok("intake", "--json", "-", input=json.dumps(form))
    [made] = [t for t in json.loads(esc.ok("list", "--json")) if t["title"] == "From a form"]
    assert (made["category"], made["priority"], made["channel"]) == ("refund", "low", "portal")


@pytest.mark.parametrize("customer", ["esc", "rule:vip", "-x", "esc sweep"])
def test_a_customer_named_as_esc_or_a_rule_writes_no_line_of_theirs(
    esc: Esc, workspace: Path, customer: str
) -> None:
    """`comment --from-customer` on a ticket whose customer is `esc` wrote `· esc · message
    added`: read back, the sweep's own line (a name no person may act under); written
    `customer (esc)` now, the customer's name kept."""
    ticket = esc.ok("create", "--title", "Odd customer", "--customer", customer,
                    "--category", "billing").strip()  # fmt: skip
    esc.ok("comment", ticket, "--from-customer", "-m", "Hello")
    text = (workspace / "tickets" / f"{ticket}.md").read_text()
    assert f" · customer ({customer}) · message added" in text
    assert f"### {NOW} · customer ({customer}) · message (public)" in text
    entry = json.loads(esc.ok("show", ticket, "--json"))["conversation"][-1]
    assert entry["author"] == f"customer ({customer})"
    # (and their feedback on closing, which wrote the raw name: helper-446)
    esc.ok("close", ticket, "--resolution", "done", "--feedback", "Thanks", "--csat", "5")
    esc.ok("close", ticket, "--feedback", "Later: all good")  # (a survey after closing)
    shown = json.loads(esc.ok("show", ticket, "--json"))["conversation"]
    given = [e["author"] for e in shown if e["kind"] == "feedback"]
    assert given == [f"customer ({customer})"] * 2


def test_a_reply_a_sweep_sent_meanwhile_is_said_sent(
    esc: Esc, workspace: Path, mail_out: Mails, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep's delivery sends the reply between the command's queueing and its own
    delivery (the race, made here by running that delivery first): the command finds
    nothing due, and says the reply was sent, as it was, not "not sent yet" (review
    helper-486)."""
    from esc.store import outbox as module

    _port, mails = mail_out
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    real = module.deliver

    def after_a_sweep(*args: object, **kwargs: object) -> module.Delivery:
        real(args[0], args[1], args[2])  # type: ignore[arg-type]  (the sweep's: all due)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "deliver", after_a_sweep)
    out = esc.ok("comment", ticket_id, "--send", "-m", "Please try another card.")
    assert out == f"{ticket_id}: reply added, sent to jane@shop.example\n"
    assert len(mails) == 1
