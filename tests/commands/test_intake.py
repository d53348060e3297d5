"""`esc intake`: real Maildir and mbox files and stdin, built with the email library."""

from __future__ import annotations

import csv
import email
import email.policy
import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests import mail_corpus as corpus
from tests.commands.test_notify import smtp  # noqa: F401  (the fixture)
from tests.conftest import ESC, Esc


def tickets(workspace: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(workspace.glob("tickets/*.md"))}


def shown(esc: Esc, ticket_id: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(esc.ok("show", ticket_id, "--json"))
    return data


def only_ticket(workspace: Path) -> str:
    (ticket_id,) = tickets(workspace)
    return ticket_id


def test_a_new_message_makes_a_routed_ticket_with_its_attachment(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    rules = workspace / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    routing = "  - when: {to: security@esc.example}\n    team: engineering\n"
    text = text.replace(
        "  - when: {category: outage}\n", routing + "  - when: {category: outage}\n"
    )
    rules.write_text(text, encoding="utf-8")
    assert esc.ok("validate") is not None
    box = corpus.maildir(
        tmp_path / "Maildir",
        corpus.message(
            to="Security <Security@esc.example>",
            html="<p>Card payments <b>fail</b></p>",
            attachments=[("../../etc/screen shot.png", b"\x89PNG-data", "image/png")],
        ),
    )
    out = esc.ok("intake", "--maildir", str(box))
    ticket_id = only_ticket(workspace)
    assert f"new ticket {ticket_id}, team engineering" in out
    assert out.endswith("1 message: 1 new ticket\n")
    ticket = shown(esc, ticket_id)
    assert ticket["customer"] == "Jane Doe <jane@shop.example>"
    assert ticket["channel"] == "email"
    assert ticket["title"] == "Checkout returns 500"
    assert ticket["created"] == "2026-11-20T09:40:00+01:00"  # the Date header: sane
    assert ticket["description"].startswith("Card payments fail since 08:50.")  # type: ignore[union-attr]
    saved = workspace / "attachments" / ticket_id / "screen shot.png"
    assert saved.read_bytes() == b"\x89PNG-data"
    assert f"attachments/{ticket_id}/screen shot.png" in tickets(workspace)[ticket_id]
    # the Maildir message is marked seen: a second run takes nothing
    assert not list((box / "new").iterdir())
    assert esc.ok("intake", "--maildir", str(box)).strip() == "0 messages"
    # a reply's files are listed beside the first message's (they were saved, not listed)
    log = ("server.log", b"500 at 08:50", "text/plain")
    answer = corpus.message(subject="Re: Checkout returns 500", text="The log.",
                            message_id="<r9@shop.example>", attachments=[log],
                            headers={"In-Reply-To": "<m1@shop.example>"})  # fmt: skip
    assert f"customer message on {ticket_id}" in esc.ok("intake", "--eml", "-",
                                                        input=answer.decode())  # fmt: skip
    listed = shown(esc, ticket_id)["attachments"]
    assert listed == [f"attachments/{ticket_id}/screen shot.png",
                      f"attachments/{ticket_id}/server.log"]  # fmt: skip
    assert esc("validate").code == 0
    # (and the export has what intake recorded, as show does: the front-matter fields)
    esc.ok("export", "--csv", str(tmp_path / "out"))
    with (tmp_path / "out" / "tickets.csv").open(newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert row["recipients"] == "security@esc.example"
    assert row["message_ids"] == "<m1@shop.example>,<r9@shop.example>"
    assert row["attachments"] == ",".join(listed)


def test_a_routing_rule_gives_an_e_mail_its_category_and_team(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Issue 17: "team and category from routing rules" (matching the subject and body); a
    category the ticket came with is kept."""
    rules = workspace / "rules.yaml"
    routing = "  - when: {body: /refund/i}\n    team: management\n    category: refund\n"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "  - when: {category: outage}\n", routing + "  - when: {category: outage}\n"
    ), encoding="utf-8")  # fmt: skip
    assert esc("validate").code == 0, esc("validate").err
    message = corpus.message(subject="Money back", text="I want a refund for order 42.")
    esc.ok("intake", "--eml", "-", input=message.decode())
    ticket = shown(esc, only_ticket(workspace))
    assert (ticket["team"], ticket["category"]) == ("management", "refund")
    given = json.dumps({"title": "Refund?", "body": "refund", "category": "billing"})
    out = esc.ok("intake", "--json", "-", input=given)
    made = out.split("new ticket ")[1].split(",")[0]
    assert shown(esc, made)["category"] == "billing"
    rules.write_text(rules.read_text(encoding="utf-8").replace("    category: refund\n",
                                                              "    categry: refund\n"))
    bad = esc("validate")
    assert bad.code == 1
    assert "routing[0]: unknown key 'categry' (did you mean 'category'?)" in bad.err


def test_html_only_iso_8859_1_quoted_printable_and_base64(esc: Esc, workspace: Path) -> None:
    html = corpus.message(
        subject="Rechnung für Café",
        text=None,
        html="<html><body><h1>Grüße</h1><p>Die Rechnung ist <i>falsch</i>.</p></body></html>",
        charset="iso-8859-1",
        cte="quoted-printable",
        message_id="<html@shop.example>",
    )
    assert b"=FC" in html or b"=E9" in html  # really quoted-printable Latin-1
    plain = corpus.message(
        text="Prüfung läuft", cte="base64", message_id="<b64@shop.example>", subject="B64"
    )
    esc.ok("intake", "--eml", "-", input=html.decode("ascii"))
    esc.ok("intake", "--eml", "-", input=plain.decode("ascii"))
    by_title = {shown(esc, t)["title"]: shown(esc, t) for t in tickets(workspace)}
    assert "Grüße" in by_title["Rechnung für Café"]["description"]  # type: ignore[operator]
    assert "falsch" in by_title["Rechnung für Café"]["description"]  # type: ignore[operator]
    assert "<p>" not in by_title["Rechnung für Café"]["description"]  # type: ignore[operator]
    assert by_title["B64"]["description"] == "Prüfung läuft"


@pytest.mark.parametrize("quoting", ["gmail", "outlook", "apple"])
def test_a_reply_threads_with_the_quote_stripped_and_reopens(
    esc: Esc, workspace: Path, quoting: str
) -> None:
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    esc.ok("resolve", ticket_id, "--resolution", "Try another card")
    answer = corpus.reply(quoting, "It works now, thanks!", in_reply_to="<m1@shop.example>")
    out = esc.ok("intake", "--eml", "-", input=answer.decode())
    assert f"customer message on {ticket_id}" in out
    ticket = shown(esc, ticket_id)
    assert ticket["status"] == "open"  # a resolved ticket reopens, as --from-customer does
    last = ticket["conversation"][-1]  # type: ignore[index]
    assert last["kind"] == "message"
    assert last["text"] == "It works now, thanks!"
    assert "another card" not in last["text"]
    assert '"<r1@shop.example>"' in tickets(workspace)[ticket_id]


def test_a_reply_s_attachments_are_listed_by_name_as_a_new_ticket_s_are(
    esc: Esc, workspace: Path
) -> None:
    """A new ticket's description listed bare names, a reply's message whole paths
    (`- attachments/T-…/photo.jpg`); both list names now, the paths in `attachments:`."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    answer = corpus.message(
        subject="Re: Checkout returns 500", text="A photo of it", message_id="<r9@shop.example>",
        headers={"In-Reply-To": "<m1@shop.example>"},
        attachments=[("photo.jpg", b"\xff\xd8jpeg", "image/jpeg")],
    )  # fmt: skip
    esc.ok("intake", "--eml", "-", input=answer.decode("utf-8", "surrogateescape"))
    last = shown(esc, ticket_id)["conversation"][-1]  # type: ignore[index]
    assert last["text"] == "A photo of it\n\nAttachments:\n- photo.jpg"
    assert f"  - attachments/{ticket_id}/photo.jpg\n" in tickets(workspace)[ticket_id]


def test_a_reply_to_a_ticket_closed_while_intake_ran_opens_its_follow_up(
    esc: Esc, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`esc close` landed between intake's reading of the statuses and its write: the
    message was left for the next run (exit 75, "or reopen it"); it opens the follow-up,
    as a reply to a closed ticket does."""
    from esc.commands import intake as intake_command

    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    esc.ok("resolve", ticket_id, "--resolution", "Done")
    real = intake_command._add_message

    def closed_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        esc.ok("close", ticket_id)  # (another command, just before this write)
        return real(*args, **kwargs)

    monkeypatch.setattr(intake_command, "_add_message", closed_first)
    answer = corpus.reply("gmail", "It broke again", in_reply_to="<m1@shop.example>")
    result = esc("intake", "--eml", "-", input=answer.decode())
    assert result.code == 0, result.err
    assert f"(a reply to closed {ticket_id})" in result.out
    assert len(tickets(workspace)) == 2


def test_the_ticket_id_in_the_subject_threads_a_message(esc: Esc, workspace: Path) -> None:
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    other = corpus.message(
        subject=f"Re: [{ticket_id.upper()}] Checkout", text="More details", message_id="<x@y>"
    )
    assert f"customer message on {ticket_id}" in esc.ok(
        "intake", "--eml", "-", input=other.decode()
    )
    assert len(tickets(workspace)) == 1


@pytest.mark.parametrize("quoting", ["gmail", "outlook", "apple"])
def test_a_reply_to_a_closed_ticket_opens_a_linked_one(
    esc: Esc, workspace: Path, quoting: str
) -> None:
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    old = only_ticket(workspace)
    esc.ok("close", old, "--resolution", "done", "--csat", "5")
    answer = corpus.reply(quoting, "It broke again", in_reply_to="<m1@shop.example>")
    out = esc.ok("intake", "--eml", "-", input=answer.decode())
    (new,) = set(tickets(workspace)) - {old}
    assert f"new ticket {new} (a reply to closed {old})" in out
    assert f"follows: {old}" in tickets(workspace)[new]
    # its description is what the customer wrote now, without the quote, as for any reply
    assert shown(esc, new)["description"] == "It broke again"
    assert shown(esc, new)["title"] == "Checkout returns 500"  # (not "Re: Checkout …")
    assert shown(esc, old)["status"] == "closed"
    assert f"follow-up ticket {new}" in tickets(workspace)[old]
    # a second reply to the old mail (in this run or the next) joins that follow-up: it
    # made one more ticket each time, each acknowledged
    again = corpus.reply(quoting, "Still broken", in_reply_to="<m1@shop.example>",
                         message_id="<r2@shop.example>")  # fmt: skip
    out = esc.ok("intake", "--eml", "-", input=again.decode())
    assert f"customer message on {new}" in out
    assert set(tickets(workspace)) == {old, new}


def test_the_same_message_twice_and_a_rerun_change_nothing(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    first = corpus.message()
    reply = corpus.reply("gmail", "Still broken", in_reply_to="<m1@shop.example>")
    box = corpus.mbox(tmp_path / "inbox.mbox", first, first, reply)
    out = esc.ok("intake", "--mbox", str(box))
    assert out.endswith("3 messages: 1 new ticket, 1 customer message, 1 already taken\n")
    before = tickets(workspace)
    out = esc.ok("intake", "--mbox", str(box))
    assert out.endswith("3 messages: 3 already taken\n")
    assert tickets(workspace) == before


def test_a_file_that_is_no_mbox_is_refused_not_read_as_an_empty_one(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    eml = tmp_path / "message.eml"  # (one message, as a mail client saves it: no "From " line)
    eml.write_bytes(corpus.message())
    result = esc("intake", "--mbox", str(eml))
    assert result.code == 2
    assert result.err == f'esc: {eml}:1: not an mbox file: it does not start with a "From " line\n'
    assert tickets(workspace) == {}
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert esc.ok("intake", "--mbox", str(empty)).endswith("0 messages\n")


def test_a_notification_esc_sent_by_mail_is_never_taken_back_in(
    esc: Esc, workspace: Path
) -> None:
    """A `mailto://` notification (`[esc] T-… created …`, which carries X-Esc-Event) fed to
    intake made a new ticket, whose own notification made another, without end: it is
    ignored, as the README says (the header was never read)."""
    mine = corpus.message(subject="[esc] T-abcd1234 created at priority normal",
                          message_id="<n1@esc.example>", sender="help@esc.example",
                          headers={"X-Esc-Event": "4f2a9c0e1b7d3a5c6e8f"})  # fmt: skip
    out = esc.ok("intake", "--eml", "-", input=mine.decode())
    assert "ignored: sent by esc (a notification, event 4f2a9c0e1b7d3a5c6e8f)" in out
    assert tickets(workspace) == {}


def test_another_helpdesk_s_esc_reply_is_a_customer_s_message(esc: Esc, workspace: Path) -> None:
    """A partner's person answering from their own esc (`comment --send` marks its mail
    X-Esc-Ticket with their ticket's ID) was ignored as esc's own copy come back, and lost:
    only a copy naming a ticket here is esc's own."""
    partner = corpus.message(subject="Re: [P-9zzzzzzz] API key", text="It expires today.",
                             message_id="<p1@partner.example>", sender="support@partner.example",
                             headers={"X-Esc-Ticket": "P-9zzzzzzz"})  # fmt: skip
    out = esc.ok("intake", "--eml", "-", input=partner.decode())
    assert "new ticket" in out and "ignored" not in out
    (made,) = tickets(workspace)
    assert "It expires today." in esc.ok("show", made)


@pytest.mark.parametrize(
    "header", ["X-Auto-Reply", "X-Autogenerated", "X-Mail-Autoreply", "X-FC-MachineGenerated"]
)
def test_the_other_marks_of_an_autoresponder_are_read(
    esc: Esc, workspace: Path, header: str
) -> None:
    """`Re: [T-…] Out of office` with `X-Auto-Reply: yes` (and the like) made a new ticket,
    acknowledged when acknowledgements are on: a loop with an out-of-office reply."""
    away = corpus.message(subject="Out of office", headers={header: "yes"})
    out = esc.ok("intake", "--eml", "-", input=away.decode())
    assert f"ignored: {header.lower()}: yes" in out
    assert tickets(workspace) == {}


def test_auto_replies_and_bounces_are_ignored_and_bad_mail_quarantined(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    box = corpus.maildir(
        tmp_path / "Maildir",
        corpus.auto_reply(),
        corpus.bounce(),
        corpus.broken_mime(),
        corpus.unknown_charset(),
        corpus.message(sender="", message_id="<nofrom@x>"),
        corpus.message(message_id="<good@shop.example>"),
    )
    result = esc("intake", "--maildir", str(box))
    assert result.code == 1  # something needs a person's look
    assert "ignored: Auto-Submitted: auto-replied" in result.out
    assert "ignored: from mailer-daemon@mx.esc.example" in result.out
    assert "6 messages: 1 new ticket, 2 ignored, 3 quarantined" in result.out
    notes = result.err.splitlines()
    assert len(notes) == 3
    assert any("broken MIME" in n for n in notes)
    assert any("unknown charset" in n for n in notes)
    assert any("no From address" in n for n in notes)
    assert len(list((workspace / "quarantine").iterdir())) == 3
    assert len(tickets(workspace)) == 1
    assert "Traceback" not in result.err
    # piped by an MTA: kept in quarantine is taken (exit 0, its line on stderr), never
    # bounced to a sender it may have forged
    no_from = corpus.message(sender="", message_id="<nf2@x>").decode()
    piped = esc("intake", "--eml", "-", input=no_from)
    assert piped.code == 0 and "no From address" in piped.err, piped
    assert len(list((workspace / "quarantine").iterdir())) == 4


def test_denied_and_not_allowed_senders_are_ignored(esc: Esc, workspace: Path) -> None:
    spam = corpus.message(sender="x@spam.example", message_id="<s@spam.example>")
    out = esc.ok("intake", "--eml", "-", "--deny", "*@spam.example", input=spam.decode())
    assert "ignored: sender x@spam.example is denied (*@spam.example)" in out
    out = esc.ok("intake", "--eml", "-", "--allow", "*@partner.example", input=spam.decode())
    assert "is not allowed" in out
    assert tickets(workspace) == {}


def test_a_large_attachment_is_listed_not_saved(esc: Esc, workspace: Path) -> None:
    big = corpus.message(
        attachments=[("dump.bin", b"x" * (1024 * 1024 + 1), "application/octet-stream")]
    )
    esc.ok("intake", "--eml", "-", "--attachment-limit", "1", input=big.decode())
    ticket_id = only_ticket(workspace)
    assert (
        "dump.bin (not saved: 1048577 bytes, over the 1 MB limit)" in tickets(workspace)[ticket_id]
    )
    assert not (workspace / "attachments").exists()


def test_an_attachment_too_large_to_save_takes_no_name_from_one_saved(
    esc: Esc, workspace: Path
) -> None:
    """Two attachments of one name, the first too large: the one saved keeps the name, as
    no file had it (it was saved as log-2.zip beside no log.zip: audit d72)."""
    message = corpus.message(
        attachments=[("log.zip", b"x" * (1024 * 1024 + 1), "application/zip"),
                     ("log.zip", b"small", "application/zip")]
    )  # fmt: skip
    esc.ok("intake", "--eml", "-", "--attachment-limit", "1", input=message.decode())
    ticket_id = only_ticket(workspace)
    folder = workspace / "attachments" / ticket_id
    assert sorted(p.name for p in folder.iterdir()) == ["log.zip"]
    assert (folder / "log.zip").read_bytes() == b"small"
    description = str(shown(esc, ticket_id)["description"])
    assert description.endswith(
        "Attachments:\n- log.zip (not saved: 1048577 bytes, over the 1 MB limit)\n- log.zip"
    )


def test_an_external_id_is_one_channel_s_own(esc: Esc, workspace: Path) -> None:
    """A chat widget and a portal both number their items from 1: the portal's 5123 was
    `already taken` by the chat's 5123, and Pat's request was stored nowhere. An id is
    taken only by an item of the same channel."""
    chat = {"title": "x1", "channel": "chat", "external_id": 5123}
    portal = {"title": "Refund please", "body": "portal text", "customer": "pat@p.example",
              "channel": "portal", "external_id": 5123}  # fmt: skip
    esc.ok("intake", "--json", "-", input=json.dumps(chat))
    out = esc.ok("intake", "--json", "-", input=json.dumps(portal))
    assert out.endswith("1 item: 1 new ticket, 0 already taken\n"), out
    assert "5123: already taken" in esc.ok("intake", "--json", "-", input=json.dumps(portal))
    assert "5123: already taken" in esc.ok("intake", "--json", "-", input=json.dumps(chat))
    assert len(tickets(workspace)) == 2


def test_json_intake_is_idempotent_by_external_id(esc: Esc, workspace: Path) -> None:
    items = [
        {"title": "Widget shows no prices", "body": "Since 9:00", "customer": "bob@x.example",
         "channel": "chat", "category": "bug", "priority": "high", "external_id": "chat-17"},
        {"title": "Invoice copy please", "external_id": "form-3"},
    ]  # fmt: skip
    out = esc.ok("intake", "--json", "-", input=json.dumps(items))
    assert out.endswith("2 items: 2 new tickets, 0 already taken\n")
    out = esc.ok("intake", "--json", "-", input=json.dumps(items[0]))
    assert "chat-17: already taken" in out
    padded = {**items[1], "external_id": " form-3 "}  # (a form that pads its ids)
    out = esc.ok("intake", "--json", "-", input=json.dumps(padded))
    assert "form-3: already taken" in out
    assert len(tickets(workspace)) == 2
    # (in either Unicode form: `café-1` sent NFC, then NFD, made two tickets; helper-424)
    for cafe in ("caf\u00e9-1", "cafe\u0301-1"):
        esc.ok("intake", "--json", "-", input=json.dumps({"title": "c", "external_id": cafe}))
    assert len(tickets(workspace)) == 3
    (chat,) = [t for t, text in tickets(workspace).items() if "chat-17" in text]
    ticket = shown(esc, chat)
    assert (ticket["channel"], ticket["category"], ticket["priority"]) == ("chat", "bug", "high")
    assert ticket["team"] == "engineering"  # bug: engineering handles it
    # the key of JSON intake is seen where scripts and people look: show, and the export
    assert "  external id    chat-17\n" in esc.ok("show", chat)
    esc.ok("export", "--csv", str(workspace / "out"))
    with (workspace / "out" / "tickets.csv").open(newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert (rows[chat]["external_id"], rows[chat]["follows"]) == ("chat-17", "")


def test_options_of_e_mail_intake_are_refused_where_they_would_do_nothing(
    esc: Esc, workspace: Path
) -> None:
    """`--json - --deny evil.example` made the ticket anyway: the e-mail options with
    --json, and --imap-folder without --imap, are usage errors, nothing written."""
    item = '{"title": "j", "customer": "bad@evil.example"}'
    for extra, said in (
        (("--deny", "evil.example"), "--deny: for e-mail intake, not with --json -"),
        (("--allow", "*@shop.example", "--quarantine", "q"), "--allow, --quarantine: for"),
        (("--attachment-limit", "3"), "--attachment-limit: for e-mail intake"),
    ):
        result = esc("intake", "--json", "-", *extra, input=item)
        assert result.code == 2 and said in result.err, result
    folder = esc("intake", "--maildir", str(workspace / "Maildir"), "--imap-folder", "Junk")
    assert folder.code == 2 and "the --imap-… options need --imap HOST" in folder.err
    assert tickets(workspace) == {}


def test_json_intake_never_makes_a_second_ticket_for_an_id_a_broken_file_holds(
    esc: Esc, workspace: Path
) -> None:
    """The ticket of `form-77` left with a merge conflict: the same item again made a second
    ticket, exit 0, nothing said (the broken files were thrown away unread)."""
    esc.ok("intake", "--json", "-", input=json.dumps({"title": "Form", "external_id": "form-77"}))
    [(first, text)] = tickets(workspace).items()
    conflict = "<<<<<<< ours\npriority: high\n=======\npriority: low\n>>>>>>> theirs\n"
    (workspace / "tickets" / f"{first}.md").write_text(text.replace("priority: normal\n", conflict))
    items = [{"title": "Form", "external_id": "form-77"}, {"title": "New", "external_id": "form-7"}]
    result = esc("intake", "--json", "-", input=json.dumps(items))
    assert result.code == 1
    assert f"form-77: left for the next run (it may belong to {first}, whose file" in result.out
    assert result.out.endswith("2 items: 1 new ticket, 0 already taken, 1 left\n")
    assert f"tickets/{first}.md:5: unresolved merge conflict" in result.err
    assert len(tickets(workspace)) == 2  # (form-7 made; form-77 not twice)
    # (every item taken: exit 0, the broken file still named: a webhook retrying on exit 1
    # would send again what was taken)
    taken = esc("intake", "--json", "-", input=json.dumps({"title": "Other"}))
    assert taken.code == 0 and f"tickets/{first}.md:5: unresolved merge conflict" in taken.err


def test_bad_json_changes_nothing(esc: Esc, workspace: Path) -> None:
    items = [{"title": "fine", "external_id": "a"}, {"title": "x", "category": "nope"}]
    result = esc("intake", "--json", "-", input=json.dumps(items))
    assert result.code == 2
    assert result.err.startswith("esc: --json item 2: ")
    assert "nope" in result.err
    assert tickets(workspace) == {}
    assert esc("intake", "--json", "-", input="[{").code == 2
    assert esc("intake", "--json", "-", input='{"title": "t", "colour": 1}').code == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"title": "x\\udfff", "body": "hi"}', "a lone surrogate escape"),
        ('{"title": "x", "external_id": "\\ud800"}', "a lone surrogate escape"),
        ('{"title": "x", "body": "a\\u0000b"}', "a NUL character"),
    ],
)
def test_json_strings_that_are_no_text_are_refused(
    esc: Esc, workspace: Path, text: str, problem: str
) -> None:
    """A web form's `"\\ud800"` wrote the ticket, then every `esc list` ended in an
    internal error (exit 3); a `"\\u0000"` put a NUL in the file."""
    result = esc("intake", "--json", "-", input=text)
    assert result.code == 2, result.err
    assert result.err.startswith(f"esc: --json: a string holds {problem}")
    assert tickets(workspace) == {}


def test_one_source_is_required(esc: Esc) -> None:
    result = esc("intake")
    assert result.code == 2
    assert (
        result.err
        == "esc: give one of --maildir DIR, --mbox FILE, --eml -, --imap HOST or --json -\n"
    )
    assert esc("intake", "--maildir", "/nonexistent").code == 2


def test_a_rerun_after_a_crash_carries_on(esc: Esc, workspace: Path, tmp_path: Path) -> None:
    box = corpus.maildir(
        tmp_path / "Maildir", corpus.message(), corpus.message(message_id="<m2@shop.example>")
    )
    esc.ok("intake", "--maildir", str(box))
    # as if esc was killed after writing the first ticket, before marking its message seen,
    # and before taking the second message
    seen = sorted((box / "cur").iterdir())
    for path in seen:
        path.rename(box / "new" / path.name.split(":")[0])
    first = next(t for t, text in tickets(workspace).items() if "<m1@shop.example>" in text)
    second = next(t for t, text in tickets(workspace).items() if "<m2@shop.example>" in text)
    (workspace / "tickets" / f"{second}.md").unlink()
    out = esc.ok("intake", "--maildir", str(box))
    assert f"already taken ({first})" in out
    assert out.endswith("2 messages: 1 new ticket, 1 already taken\n")
    assert len(tickets(workspace)) == 2
    assert not list((box / "new").iterdir())


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--lock-timeout", "abc"], {}),
        (["--quarantine", ""], {}),
        (["--attachment-limit", "0.5"], {}),
        (["--imap-port", "993"], {}),
        ([], {"ESC_LOCK_TIMEOUT": "bad"}),
        (["--eml=-", "--bogus"], {}),
        (["--eml=/dev/stdin"], {}),  # (a path: `-` is stdin)
    ],
)
def test_a_mistake_in_the_mta_s_pipe_defers_the_message_never_bounces_it(
    esc: Esc, workspace: Path, args: list[str], env: dict[str, str]
) -> None:
    """A setup mistake in the pipe line (`--lock-timeout abc`) exited 2, which an MTA takes
    for a permanent failure: every customer's mail bounced until it was mended.  Under
    `--eml -` it is 75 (try again later), as a bad `--deny` was; the line says why."""
    given = args if any(a.startswith("--eml=") for a in args) else ["--eml", "-", *args]
    result = esc("intake", *given, input=corpus.message().decode(), env=env)
    assert result.code == 75 and result.out == "", result.err
    assert result.err.startswith("esc: ") and len(result.err.splitlines()) == 1
    assert not tickets(workspace)
    others = [a for a in args if not a.startswith("--eml=")]
    assert esc("intake", "--mbox", "inbox.mbox", *others, env=env).code == 2  # (no MTA: usage)


def test_intake_waits_for_the_sweep_and_gives_up_naming_it(esc: Esc, workspace: Path) -> None:
    from esc.store import lock

    with lock.hold(workspace / ".esc-cache", 5, "esc sweep"):
        result = esc("intake", "--eml", "-", "--lock-timeout", "0", input=corpus.message().decode())
        box = corpus.maildir(workspace / "Maildir", corpus.message())
        from_box = esc("intake", "--maildir", str(box), "--lock-timeout", "0")
    # (piped by an MTA: 75, EX_TEMPFAIL, "try again later", never a bounce of the mail)
    assert result.code == 75
    assert "the workspace is locked by esc sweep" in result.err and "not taken now" in result.err
    assert from_box.code == 1 and "the workspace is locked by esc sweep" in from_box.err
    assert tickets(workspace) == {}


def test_a_piped_message_is_deferred_not_bounced_when_the_mta_s_time_limit_ends_it(
    workspace: Path,
) -> None:
    """An MTA stops a delivery agent that takes too long with SIGTERM: killed by it, esc
    had the message deferred; stopped as on Ctrl-C it must not exit 143, which an MTA
    takes for a failure to bounce.  75, `not taken now`."""
    proc = subprocess.Popen(
        [ESC, "--now", "2026-11-20T10:00:00+01:00", "intake", "--eml", "-"],
        cwd=workspace, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    for _ in range(1000):  # (until it waits to read the message on stdin: read(0, …))
        if Path(f"/proc/{proc.pid}/syscall").read_text().startswith("0 0x0 "):
            break
        time.sleep(0.01)  # (polling a process that runs on its own; no clock is read)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.decode()) == (75, "esc: terminated; not taken now\n")
    assert tickets(workspace) == {}


def test_a_piped_message_taken_beside_a_broken_ticket_file_exits_0(
    esc: Esc, workspace: Path
) -> None:
    """`--eml -` took the message (a new ticket) and exited 1 because another ticket's file
    does not parse: the MTA bounced the customer's mail, which had been taken."""
    other = esc.ok("create", "--title", "Other", "--body", "x").strip()
    path = workspace / "tickets" / f"{other}.md"
    path.write_text(path.read_text().replace("status: new", "status: ["))
    result = esc("intake", "--eml", "-", input=corpus.message().decode())
    assert result.code == 0, result.err
    assert "new ticket" in result.out
    assert f"tickets/{other}.md:" in result.err  # (still named, path:line:)


def test_a_piped_message_is_never_bounced_for_what_is_not_its_fault(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """`--eml -` (an MTA's pipe) exited 1 when rules.yaml did not parse, and 3 when the
    quarantine folder could not be written: the MTA bounced the customer's mail.  Whatever
    stops esc that is not the message's fault is 75 (deliver it again later)."""
    rules = workspace / "rules.yaml"
    good = rules.read_text(encoding="utf-8")
    rules.write_text(good + "default_priority: [\n", encoding="utf-8")
    result = esc("intake", "--eml", "-", input=corpus.message().decode())
    assert result.code == 75, result.err
    assert result.err.startswith("rules.yaml:") and result.err.endswith("; not taken now\n")
    rules.write_text(good, encoding="utf-8")
    outside = Esc(tmp_path / "nowhere", now="2026-11-20T10:00:00+01:00")
    (tmp_path / "nowhere").mkdir()
    lost = outside("intake", "--eml", "-", input=corpus.message().decode())
    assert lost.code == 75 and lost.err.endswith("; not taken now\n"), lost.err
    junk = "no headers at all"  # (quarantined: kept where it cannot be)
    stuck = esc("intake", "--eml", "-", "--quarantine", "/proc/esc-nope", input=junk)
    assert stuck.code == 75 and "internal error" not in stuck.err, stuck.err
    assert "cannot be kept in /proc/esc-nope" in stuck.err
    box = corpus.maildir(workspace / "Maildir", junk.encode())
    batch = esc("intake", "--maildir", str(box), "--quarantine", "/proc/esc-nope")
    assert batch.code == 1 and "cannot be kept in /proc/esc-nope" in batch.err
    assert len(list((box / "new").iterdir())) == 1  # (left where it was)
    assert tickets(workspace) == {}


def test_a_message_for_a_ticket_esc_will_not_write_is_left_and_the_batch_goes_on(
    esc: Esc, workspace: Path
) -> None:
    """A reply to a ticket whose file does not validate (a team teams.yaml no longer has)
    is left in the Maildir for the next run, with its own line; the other messages are
    taken (the batch once stopped there, and its output was lost)."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    path = workspace / "tickets" / f"{ticket_id}.md"
    path.write_text(path.read_text().replace("team: support", "team: legacy"))
    answer = corpus.reply("gmail", "Still broken.", in_reply_to="<m1@shop.example>")
    other = corpus.message(subject="Invoice missing", message_id="<m2@shop.example>")
    box = corpus.maildir(workspace / "Maildir", answer, other)
    result = esc("intake", "--maildir", str(box))
    assert result.code == 1
    lines = result.out.splitlines()
    assert any(f"left for the next run ({ticket_id} cannot be written: " in x for x in lines)
    assert any("new ticket" in x for x in lines)
    assert lines[-1] == "2 messages: 1 new ticket, 1 left for the next run"
    assert len(list((box / "new").iterdir())) == 1  # (the reply, for the next run)
    assert "Still broken" not in path.read_text()
    # piped by an MTA, the same reply is "try again later"
    piped = esc("intake", "--eml", "-", input=answer.decode())
    assert piped.code == 75 and "left for the next run" in piped.out
    # once the file is mended, the next run takes it
    path.write_text(path.read_text().replace("team: legacy", "team: support"))
    assert "customer message on" in esc.ok("intake", "--maildir", str(box))


def test_a_reply_to_a_ticket_changed_after_now_is_left_and_the_batch_goes_on(
    esc: Esc, workspace: Path
) -> None:
    """A ticket last updated after `--now` (a clock behind) refused the reply, and the
    refusal stopped the whole batch: no line, and the messages after it never taken."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode(), now="2026-11-20T09:00:00+01:00")
    ticket_id = only_ticket(workspace)
    esc.ok("comment", ticket_id, "--internal", "-m", "looking", now="2026-11-20T11:00:00+01:00")
    answer = corpus.reply("gmail", "Still broken.", in_reply_to="<m1@shop.example>")
    other = corpus.message(subject="Invoice missing", message_id="<m2@shop.example>")
    box = corpus.maildir(workspace / "Maildir", answer, other)
    result = esc("intake", "--maildir", str(box), now="2026-11-20T10:00:00+01:00")
    assert result.code == 1
    lines = result.out.splitlines()
    assert any(f"left for the next run ({ticket_id} cannot be written: " in x and "after --now"
               in x for x in lines), lines  # fmt: skip
    assert lines[-1] == "2 messages: 1 new ticket, 1 left for the next run"
    assert len(list((box / "new").iterdir())) == 1  # (the reply, for the next run)
    assert "customer message on" in esc.ok("intake", "--maildir", str(box),
                                           now="2026-11-20T11:30:00+01:00")  # fmt: skip


def test_a_reply_to_a_closed_ticket_whose_follow_up_does_not_parse_makes_no_second_one(
    esc: Esc, workspace: Path
) -> None:
    """The follow-up a first reply opened has a broken file (a merge's markers): a second
    reply to the closed ticket's mail is left for the next run, not made a second
    follow-up beside it."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    old = only_ticket(workspace)
    esc.ok("close", old, "--resolution", "done", "--csat", "5")
    answer = corpus.reply("gmail", "It broke again", in_reply_to="<m1@shop.example>")
    esc.ok("intake", "--eml", "-", input=answer.decode())
    (new,) = set(tickets(workspace)) - {old}
    path = workspace / "tickets" / f"{new}.md"
    path.write_text(path.read_text().replace(
        "status: new\n", "<<<<<<< ours\nstatus: new\n=======\nstatus: open\n>>>>>>> theirs\n"))
    again = corpus.reply("gmail", "Still broken", in_reply_to="<m1@shop.example>",
                         message_id="<r2@shop.example>")  # fmt: skip
    box = corpus.maildir(workspace / "Maildir", again)
    result = esc("intake", "--maildir", str(box))
    assert result.code == 1
    assert f"left for the next run (it may belong to {new}, a follow-up of {old}" in result.out
    assert set(tickets(workspace)) == {old, new}


def test_a_maildir_entry_that_cannot_be_read_is_said_and_the_batch_goes_on(
    esc: Esc, workspace: Path
) -> None:
    """A file esc may not read (here a link to itself: root reads any file) stopped every
    run there, and what the run had quarantined before it was never said.  (A folder
    there is no message at all: see test_a_person_s_trash_and_dot_files_are_not_mail.)"""
    box = corpus.maildir(workspace / "Maildir", b"", corpus.message())
    unreadable = box / "new" / "1000000000.M1P1Q1.host"  # (delivered first)
    unreadable.symlink_to(unreadable.name)
    result = esc("intake", "--maildir", str(box))
    assert result.code == 1
    notes = result.err.splitlines()
    assert any("1000000000.M1P1Q1.host: cannot be read (Too many levels of symbolic links);"
               " left where it is" in x for x in notes), notes  # fmt: skip
    assert any("kept in quarantine/" in x for x in notes), notes  # (the empty message)
    assert result.out.splitlines()[-1] == (
        "3 messages: 1 new ticket, 1 quarantined, 1 left for the next run"
    )
    assert unreadable.is_symlink()


def test_a_message_a_broken_ticket_file_may_hold_is_not_made_a_second_ticket(
    esc: Esc, workspace: Path
) -> None:
    """A ticket file with conflict markers (a `git pull` that stopped) may hold a message's
    Message-ID, or be the ticket a reply answers: such a message is left for a run after
    the file is mended; the file is named (path:line:)."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    path = workspace / "tickets" / f"{ticket_id}.md"
    good = path.read_text()
    path.write_text(good.replace("status: new\n", "<<<<<<< ours\nstatus: new\n=======\n"
                                 "status: open\n>>>>>>> theirs\n"))  # fmt: skip
    again = esc("intake", "--eml", "-", input=corpus.message().decode())
    by_subject = esc("intake", "--eml", "-", input=corpus.message(
        subject=f"Re: [{ticket_id}] Checkout", message_id="<m3@shop.example>").decode())
    unrelated = esc("intake", "--eml", "-", input=corpus.message(
        subject="Other", message_id="<m4@shop.example>").decode())  # fmt: skip
    for result in (again, by_subject):
        assert result.code == 75
        assert f"it may belong to {ticket_id}, whose file does not parse" in result.out
        assert f"tickets/{ticket_id}.md:" in result.err and "merge conflict" in result.err
    # (taken, the file named on stderr; 0: piped by an MTA, 1 would bounce the message)
    assert unrelated.code == 0 and "new ticket" in unrelated.out
    assert f"tickets/{ticket_id}.md:" in unrelated.err
    assert len(tickets(workspace)) == 2
    path.write_text(good)
    assert "already taken" in esc.ok("intake", "--eml", "-", input=corpus.message().decode())


def test_control_characters_in_a_subject_do_not_stop_the_batch(esc: Esc, workspace: Path) -> None:
    odd = corpus.message(subject="Bell\x07 and\ttab", message_id="<odd@x>")
    out = esc.ok("intake", "--eml", "-", input=odd.decode())
    assert "new ticket" in out
    assert shown(esc, only_ticket(workspace))["title"] == "Bell and tab"


def git_out(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def helpdesk_repo(tmp_path: Path, *titles: str) -> tuple[Path, Esc]:
    """A git repository holding a workspace `esc init` made (with a ticket per title),
    all committed, as cron's clone is; its folder and an esc run there."""
    root = tmp_path / "helpdesk"
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    esc = Esc(root, now="2026-11-20T10:00:00+01:00")
    esc.ok("init", ".")
    for title in titles:
        esc.ok("create", "--title", title, "--body", "", "--category", "bug")
    git_out(root, "add", "-A")
    git_out(root, "commit", "-qm", "helpdesk")
    return root, esc


def _taken_into_a_committed_helpdesk(tmp_path: Path) -> tuple[Path, Esc, str]:
    """A helpdesk committed in git, and the ticket intake made of a mail with an
    attachment (not committed yet)."""
    import subprocess

    root = tmp_path / "helpdesk"
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    esc = Esc(root, now="2026-11-20T10:00:00+01:00")
    esc.ok("init", ".")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "helpdesk"], cwd=root, check=True)
    box = corpus.maildir(
        tmp_path / "Maildir",
        corpus.message(attachments=[("log.txt", b"boom", "text/plain")]),
    )
    esc.ok("intake", "--maildir", str(box))
    ticket_id = only_ticket(root)
    return root, esc, ticket_id


def test_cron_intake_then_sweep_commits_the_new_tickets_and_attachments(tmp_path: Path) -> None:
    # As the README's cron line runs them: intake writes, the sweep commits what esc wrote
    # (a ticket a person left uncommitted it leaves alone).
    import subprocess

    root, esc, ticket_id = _taken_into_a_committed_helpdesk(tmp_path)
    out = esc.ok("sweep", "--commit")
    # (intake's new ticket, which the sweep swept too, and its attachment: as the commit's
    # message counts them, audit helper-445)
    said = "\ncommitted 1 ticket and 1 attachment left by an earlier sweep or intake\n"
    assert said in out
    assert "1 ticket, 1 attachment\n" in out  # (the commit: an attachment is no ticket)
    message = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=root, check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
    assert "1 of them left by an earlier sweep or intake" in message
    files = subprocess.run(
        ["git", "show", "--name-only", "--format=", "HEAD"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert f"tickets/{ticket_id}.md" in files
    assert f"attachments/{ticket_id}/log.txt" in files
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "tickets", "attachments"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert status == ""


def test_a_new_ticket_s_attachments_wait_with_the_ticket_a_person_changed(tmp_path: Path) -> None:
    """intake's new ticket, edited by a person before the sweep: the sweep leaves the
    ticket for them to commit, and committed its attachments alone (`0 tickets updated`),
    a folder no ticket has in every other clone, which doctor advised to remove (audit
    helper-437).  They wait with their ticket."""
    import subprocess

    root, esc, ticket_id = _taken_into_a_committed_helpdesk(tmp_path)
    path = root / "tickets" / f"{ticket_id}.md"
    path.write_text(path.read_text().replace("title: Checkout", "title: (checked) Checkout"))
    esc.ok("sweep", "--commit")
    tracked = subprocess.run(["git", "ls-files", "attachments", "tickets"], cwd=root,
                             check=True, capture_output=True, text=True).stdout  # fmt: skip
    assert "attachments/" not in tracked and ticket_id not in tracked


def test_a_ticket_an_intake_killed_just_after_writing_it_made_is_committed_by_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake noted a new ticket for the next `sweep --commit` after writing it: killed in
    between (a cron timeout), it left the ticket written and not noted, and every sweep
    said `is not committed yet; left for the next sweep`, for ever (the rerun found the
    message `already taken`).  It is noted before it is written, as the sweep notes."""
    from esc.store import atomic

    root, esc = helpdesk_repo(tmp_path)
    real = atomic.atomic_write

    def killed_after(path: Path, *args: object, **kwargs: object) -> object:
        written = real(path, *args, **kwargs)  # type: ignore[arg-type]
        if Path(path).parent.name == "tickets":
            raise KeyboardInterrupt  # (the process gone the instant the file is in place)
        return written

    monkeypatch.setattr(atomic, "atomic_write", killed_after)
    box = corpus.maildir(tmp_path / "Maildir", corpus.message())
    assert esc("intake", "--maildir", str(box)).code == 130
    monkeypatch.setattr(atomic, "atomic_write", real)
    (ticket_id,) = tickets(root)
    out = esc.ok("sweep", "--commit")
    assert "not committed yet" not in out, out
    committed = git_out(root, "show", "--name-only", "--format=", "HEAD").split()
    assert f"tickets/{ticket_id}.md" in committed


def test_a_reply_an_intake_killed_just_after_writing_it_is_committed_by_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A customer's reply was noted for the next `sweep --commit` only after its write:
    killed in between, the ticket was left for ever as a person's uncommitted change (every
    sweep: "changed since the sweep wrote it; not committed (yours to commit)") and never
    swept again (issue 17's audit).  It is noted before it is written, as a new ticket is."""
    from esc.store import atomic

    root, esc = helpdesk_repo(tmp_path)
    box = corpus.maildir(tmp_path / "Maildir", corpus.message())
    esc.ok("intake", "--maildir", str(box))
    (ticket_id,) = tickets(root)
    esc.ok("sweep", "--commit")
    real = atomic.replace_if_unchanged

    def killed_after(path: Path, *args: object, **kwargs: object) -> object:
        written = real(path, *args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # (the process gone the instant the file is in place)
        return written  # pragma: no cover

    monkeypatch.setattr(atomic, "replace_if_unchanged", killed_after)
    answer = corpus.message(subject="Re: Checkout returns 500", text="Still broken.",
                            message_id="<r1@shop.example>",
                            headers={"In-Reply-To": "<m1@shop.example>"})  # fmt: skip
    assert esc("intake", "--eml", "-", input=answer.decode()).code == 130
    monkeypatch.setattr(atomic, "replace_if_unchanged", real)
    assert "Still broken." in (root / "tickets" / f"{ticket_id}.md").read_text()
    out = esc.ok("sweep", "--commit")
    assert "not committed" not in out and "changed since" not in out, out
    committed = git_out(root, "show", "--name-only", "--format=", "HEAD").split()
    assert f"tickets/{ticket_id}.md" in committed
    assert git_out(root, "status", "--porcelain", "--", "tickets") == ""


def test_a_reply_whose_write_fails_leaves_what_the_run_noted_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply noted ahead whose write failed (a full disk) put the journal back as it was
    when the run began: the same run's new ticket and first reply were no longer noted,
    and the ticket stayed out of git for good, a person's change to every sweep (a review
    of the fix above).  The journal goes back to what it named just before."""
    import errno

    from esc.store import atomic

    root, esc = helpdesk_repo(tmp_path)
    first = corpus.message()
    second = corpus.message(subject="Re: Checkout returns 500", text="Second.",
                            message_id="<m2@shop.example>",
                            headers={"In-Reply-To": "<m1@shop.example>"})  # fmt: skip
    third = corpus.message(subject="Re: Checkout returns 500", text="Third.",
                           message_id="<m3@shop.example>",
                           headers={"In-Reply-To": "<m2@shop.example>"})  # fmt: skip
    real = atomic.replace_if_unchanged

    def full_disk(path: Path, old: str, new: str, *args: object) -> object:
        if "Third." in new:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, old, new, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "replace_if_unchanged", full_disk)
    esc("intake", "--mbox", str(corpus.mbox(tmp_path / "in.mbox", first, second, third)))
    monkeypatch.setattr(atomic, "replace_if_unchanged", real)
    (ticket_id,) = tickets(root)
    text = (root / "tickets" / f"{ticket_id}.md").read_text()
    assert "Second." in text and "Third." not in text
    out = esc.ok("sweep", "--commit")
    assert "not committed" not in out and "changed since" not in out, out
    assert git_out(root, "status", "--porcelain", "--", "tickets") == ""


def test_a_person_s_edit_written_as_intake_takes_the_ticket_is_never_journalled_as_its(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake asked whether a ticket held only what was committed before it took the
    ticket's lock: a person's `esc comment` written in between was then written over with
    the customer's message and journalled as intake's, and the next `sweep --commit`
    committed the person's reply under the sweep's name.  It is asked under the lock."""
    from esc.commands import intake

    root, esc = helpdesk_repo(tmp_path)
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    esc.ok("sweep", "--commit")
    (ticket_id,) = tickets(root)
    path = root / "tickets" / f"{ticket_id}.md"
    real = intake._Journal.is_ours
    asked: list[Path] = []

    def person_saves_meanwhile(journal: intake._Journal, written: Path) -> bool:
        ours = real(journal, written)
        if not asked:  # (the person's save lands just after the first look)
            text = path.read_text(encoding="utf-8")
            path.write_text(text + "- 2026-11-20T10:05:00+01:00 · alice · PERSON-EDIT\n")
        asked.append(written)
        return ours

    monkeypatch.setattr(intake._Journal, "is_ours", person_saves_meanwhile)
    reply = corpus.message(subject="Re: Checkout returns 500", text="Any news?",
                           message_id="<m2@shop.example>",
                           headers={"In-Reply-To": "<m1@shop.example>"})  # fmt: skip
    assert "customer message" in esc.ok("intake", "--eml", "-", input=reply.decode())
    monkeypatch.setattr(intake._Journal, "is_ours", real)
    text = path.read_text(encoding="utf-8")
    assert "PERSON-EDIT" in text and "Any news?" in text
    esc.ok("sweep", "--commit")
    assert "PERSON-EDIT" not in git_out(root, "show", "HEAD:tickets/" + path.name)
    assert git_out(root, "status", "--porcelain", "--", "tickets") != ""  # (theirs to commit)


def test_a_new_ticket_the_sweep_also_rewrites_is_committed_with_the_sweep_s_change(
    tmp_path: Path,
) -> None:
    """The sweep that first rewrites a ticket intake made (its first response breached a
    day later) commits it: what intake wrote is esc's, and so is the sweep's change on
    top (it was once left as "not committed yet" when the sweep wrote a batch ahead)."""
    root, esc = helpdesk_repo(tmp_path, "Older")  # (two to write)

    def git(*args: str) -> str:
        return git_out(root, *args)

    (older,) = tickets(root)
    esc.ok("intake", "--maildir", str(corpus.maildir(tmp_path / "Maildir", corpus.message())))
    (ticket_id,) = set(tickets(root)) - {older}
    out = esc.ok("sweep", "--commit", now="2026-11-23T10:00:00+01:00")
    assert f"{ticket_id}: left" not in out and "not committed yet" not in out
    assert "rule:breached-goes-up" in (root / "tickets" / f"{ticket_id}.md").read_text()
    assert f"tickets/{ticket_id}.md" in git("show", "--name-only", "--format=", "HEAD").split()
    assert git("status", "--porcelain", "--", "tickets") == ""


CUSTOMER_MAIL = """\
notify:
  targets:
    customers: "mailto://127.0.0.1:${SMTP_PORT}?from=help@esc.example&mode=insecure"
customer_mail:
  target: customers
  acknowledge:
    subject: "Re: {subject} [{id}]"
    body: "Hello {name}, we opened {id} for you."
"""


def test_a_new_ticket_from_mail_is_acknowledged_once_with_its_id(
    esc: Esc,
    workspace: Path,
    tmp_path: Path,
    smtp: tuple[int, list[tuple[str, list[str], str]]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, mails = smtp
    monkeypatch.setenv("SMTP_PORT", str(port))
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(CUSTOMER_MAIL)
    assert esc("validate").code == 0, esc("validate").err
    box = corpus.mbox(tmp_path / "inbox.mbox", corpus.message(), corpus.auto_reply())
    out = esc.ok("intake", "--mbox", str(box))
    ticket_id = only_ticket(workspace)
    assert f"new ticket {ticket_id}, team support, acknowledged" in out
    assert "sent: 1 message" in out
    ((sender, recipients, text),) = mails  # the auto-reply got none
    assert (sender, recipients) == ("help@esc.example", ["jane@shop.example"])
    sent = email.message_from_string(text, policy=email.policy.default)
    assert sent["Subject"] == f"Re: Checkout returns 500 [{ticket_id}]"
    assert sent["To"] == "jane@shop.example"
    assert sent["In-Reply-To"] == "<m1@shop.example>"
    assert sent["Auto-Submitted"] == "auto-replied"
    body = sent.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == f"Hello Jane Doe, we opened {ticket_id} for you."
    # a rerun takes nothing and sends nothing, nor does the sweep
    assert "already taken" in esc.ok("intake", "--mbox", str(box))
    esc.ok("sweep")
    assert len(mails) == 1
    # the customer's answer to the acknowledgement threads (References names their message)
    answer = corpus.reply(
        "gmail",
        "Any news?",
        in_reply_to=sent["Message-ID"],  # (apprise's own: esc cannot record it)
        references=f"<m1@shop.example> {sent['Message-ID']}",
    )
    assert f"customer message on {ticket_id}" in esc.ok(
        "intake", "--eml", "-", input=answer.decode()
    )
    assert len(mails) == 1  # a reply to a ticket is not acknowledged


@pytest.fixture
def acknowledging(
    workspace: Path,
    smtp: tuple[int, list[tuple[str, list[str], str]]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[str, list[str], str]]:
    """rules.yaml acknowledging new tickets through a real SMTP server: the mails it got."""
    port, mails = smtp
    monkeypatch.setenv("SMTP_PORT", str(port))
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(CUSTOMER_MAIL)
    return mails


def test_a_customer_s_message_id_reaches_the_acknowledgement_as_written(
    esc: Esc, tmp_path: Path, acknowledging: list[tuple[str, list[str], str]]
) -> None:
    """A Message-ID with `%` escapes in it is a sender's to choose: it reaches the
    acknowledgement's In-Reply-To as written, never decoded into a line break of the
    sender's making (a header of theirs, `Bcc:`), and one that apprise cannot send holds
    up no other customer's mail."""
    mails = acknowledging
    ids = ["<a%0d%0aBcc%3ax@evil.example>", "<b%41%42@shop.example>",
           "<c%0d%0aX-Injected%3a%20yes@shop.example>", "<m4@shop.example>"]  # fmt: skip
    box = corpus.mbox(tmp_path / "inbox.mbox", *(
        corpus.message(subject=f"Problem {n}", sender=f"c{n}@shop.example", message_id=m)
        for n, m in enumerate(ids)
    ))  # fmt: skip
    out = esc.ok("intake", "--mbox", str(box))
    assert out.count("acknowledged") == 4, out
    sent = [email.message_from_string(text, policy=email.policy.default) for _, _, text in mails]
    assert sorted(str(m["In-Reply-To"]) for m in sent) == sorted(ids)
    assert sorted(r for _, recipients, _ in mails for r in recipients) == [
        f"c{n}@shop.example" for n in range(4)
    ]
    assert all(m["X-Injected"] is None and m["Bcc"] is None for m in sent)


def test_a_form_s_message_is_the_person_s_its_reply_to_names(
    esc: Esc, workspace: Path, acknowledging: list[tuple[str, list[str], str]]
) -> None:
    """A contact form (or a list that rewrote From) sends as `noreply@`, with the person in
    Reply-To: the ticket's customer was the form, and every reply went to `noreply@`.  A
    Reply-To that names the helpdesk's own address (a list's) is no person's."""
    mails = acknowledging
    form = corpus.message(sender="Shop Website <noreply@shop.example>",
                          headers={"Reply-To": "Leo Park <leo@gmail.example>"})  # fmt: skip
    assert "acknowledged" in esc.ok("intake", "--eml", "-", input=form.decode())
    (ticket_id,) = tickets(workspace)
    assert shown(esc, ticket_id)["customer"] == "Leo Park <leo@gmail.example>"
    assert [recipients for _, recipients, _ in mails] == [["leo@gmail.example"]]
    listed = corpus.message(subject="Another question", message_id="<m9@shop.example>",
                            headers={"Reply-To": "help@esc.example"})  # fmt: skip
    esc.ok("intake", "--eml", "-", input=listed.decode())
    (other,) = set(tickets(workspace)) - {ticket_id}
    assert shown(esc, other)["customer"] == "Jane Doe <jane@shop.example>"


def test_replies_through_a_list_join_the_ticket_their_reply_to_person_opened(
    esc: Esc, workspace: Path
) -> None:
    """Two replies of one person through a list that rewrites From, each piped on its own
    before the message they answer came: the index keys each ticket by its customer, the
    Reply-To person, while the second was looked up by the list's From (two tickets; r68)."""

    def via_list(message_id: str, text: str) -> str:
        return corpus.message(sender='"Jo via Users" <users@lists.example>', text=text,
                              subject="Re: login broken", message_id=message_id,
                              headers={"Reply-To": "Jo <jo@x.example>",
                                       "In-Reply-To": "<orig@lists.example>",
                                       "References": "<orig@lists.example>"}).decode()  # fmt: skip

    assert "new ticket" in esc.ok("intake", "--eml", "-", input=via_list("<a1@x.example>", "1"))
    (ticket_id,) = tickets(workspace)
    second = esc.ok("intake", "--eml", "-", input=via_list("<a2@x.example>", "more details"))
    assert f"customer message on {ticket_id}" in second
    assert list(tickets(workspace)) == [ticket_id]


def test_an_acknowledgement_not_sent_is_not_said_to_be(
    esc: Esc, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line said `, acknowledged` while stderr said the sending failed: it says the
    acknowledgement is queued, not sent yet (the next sweep retries)."""
    with socket.socket() as probe:  # (a port nothing listens on)
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("SMTP_PORT", str(probe.getsockname()[1]))
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(CUSTOMER_MAIL)
    box = corpus.mbox(tmp_path / "inbox.mbox", corpus.message())
    result = esc("intake", "--mbox", str(box))
    ticket_id = only_ticket(workspace)
    assert f"new ticket {ticket_id}, team support, acknowledgement queued (not sent yet)" in (
        result.out
    ), result.out
    assert ", acknowledged" not in result.out and "failed" in result.err


def test_a_customer_esc_cannot_mail_is_said_to_get_no_acknowledgement(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """From `"jane doe"@shop.example` (a quoted local part, which esc sends no mail to): no
    acknowledgement, and the line said nothing of it, where the README says every new
    mail ticket's line ends with it (audit helper-424)."""
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(CUSTOMER_MAIL)
    box = corpus.mbox(tmp_path / "in.mbox", corpus.message(sender='<"jane doe"@shop.example>'))
    out = esc.ok("intake", "--mbox", str(box))
    assert ", acknowledgement not sent (no e-mail address esc can send to)" in out, out


def test_intake_sends_its_acknowledgements_alone_never_what_others_left_queued(
    esc: Esc,
    workspace: Path,
    smtp: tuple[int, list[tuple[str, list[str], str]]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An intake that acknowledged a new ticket sent everything due in the outbox with it:
    the news a `sweep --no-notify` left queued, and retries of other messages (an MTA's
    pipe then waited on every target that hangs), whatever `--no-notify` said."""
    port, mails = smtp
    monkeypatch.setenv("SMTP_PORT", str(port))
    ops = "mailto://127.0.0.1:${SMTP_PORT}?from=help@esc.example&to=ops@esc.example&mode=insecure"
    config = CUSTOMER_MAIL.replace(
        "  targets:\n", f'  created_at_or_above: normal\n  targets:\n    ops: "{ops}"\n'
    )
    config = config.replace("customer_mail:", "  teams: {support: ops}\ncustomer_mail:")
    with (workspace / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(config)
    assert esc("validate").code == 0, esc("validate").err
    esc.ok("create", "--title", "Printer on fire", "--customer", "bob@shop.example")
    esc.ok("sweep", "--no-notify")  # (its news queued for the next sweep that notifies)
    for flag in ("--no-notify", None):
        mails.clear()
        message = corpus.message(message_id=f"<m{flag}@shop.example>", subject=f"Help {flag}")
        args = ["intake", "--eml", "-", *([flag] if flag else [])]
        out = esc.ok(*args, input=message.decode())
        assert "acknowledged" in out and "sent: 1 message" in out, out
        assert [recipients for _, recipients, _ in mails] == [["jane@shop.example"]]
    mails.clear()
    esc.ok("sweep")  # the sweep sends what it queued, once
    assert ["ops@esc.example"] in [recipients for _, recipients, _ in mails], mails
    mails.clear()
    esc.ok("sweep")
    assert not [m for m in mails if "Printer on fire" in m[2]]


def test_a_quarantined_mbox_message_is_reported_once(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    box = corpus.mbox(tmp_path / "inbox.mbox", corpus.message(), corpus.broken_mime())
    first = esc("intake", "--mbox", str(box))
    assert first.code == 1 and "broken MIME" in first.err
    again = esc("intake", "--mbox", str(box))
    assert again.code == 0 and again.err == ""
    assert f"{box}#2: quarantined before" in again.out
    assert again.out.endswith("2 messages: 1 already taken, 1 quarantined before\n")
    assert len(list((workspace / "quarantine").iterdir())) == 1


def test_attachments_of_one_name_are_listed_as_they_are_saved(
    esc: Esc, workspace: Path
) -> None:
    message = corpus.message(attachments=[("report.pdf", b"one", "application/pdf"),
                                          ("report.pdf", b"two", "application/pdf")])  # fmt: skip
    esc.ok("intake", "--eml", "-", input=message.decode())
    ticket_id = only_ticket(workspace)
    folder = workspace / "attachments" / ticket_id
    assert (folder / "report.pdf").read_bytes() == b"one"
    assert (folder / "report-2.pdf").read_bytes() == b"two"
    description = str(shown(esc, ticket_id)["description"])
    assert description.endswith("Attachments:\n- report.pdf\n- report-2.pdf")
    # (names that differ in case alone are one file on macOS and Windows: git's checkout
    # there collided; a reply's too, beside the files already saved)
    other = corpus.message(message_id="<m2@shop.example>", subject="Another",
                           attachments=[("Report.TXT", b"a", "text/plain"),
                                        ("report.txt", b"b", "text/plain")])  # fmt: skip
    esc.ok("intake", "--eml", "-", input=other.decode())
    (second,) = set(tickets(workspace)) - {ticket_id}
    saved = sorted(p.name for p in (workspace / "attachments" / second).iterdir())
    assert saved == ["Report.TXT", "report-2.txt"]
    reply = corpus.message(message_id="<m3@shop.example>", subject=f"Re: [{ticket_id}] x",
                           attachments=[("REPORT.pdf", b"three", "application/pdf")])  # fmt: skip
    esc.ok("intake", "--eml", "-", input=reply.decode())
    assert (folder / "REPORT-3.pdf").read_bytes() == b"three"


def test_a_forwarded_message_is_saved_whole_as_an_eml_attachment(esc: Esc, workspace: Path) -> None:
    from tests.store.test_mail import forwarded

    esc.ok("intake", "--eml", "-", input=forwarded("original.eml").decode())
    ticket_id = only_ticket(workspace)
    folder = workspace / "attachments" / ticket_id
    assert sorted(p.name for p in folder.iterdir()) == ["original.eml"]
    kept = email.message_from_bytes((folder / "original.eml").read_bytes(),
                                    policy=email.policy.default)  # fmt: skip
    assert kept["Subject"] == "Original problem"
    description = str(shown(esc, ticket_id)["description"])
    assert description == "See the mail below.\n\nAttachments:\n- original.eml"


def test_a_reply_to_the_follow_up_threads_onto_it_not_the_closed_ticket(
    esc: Esc, workspace: Path
) -> None:
    """The customer answers esc's acknowledgement of the follow-up (whose Message-ID esc
    cannot record): References names the closed ticket's message first and the follow-up's
    later; the newest recorded one counts."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    old = only_ticket(workspace)
    esc.ok("close", old, "--resolution", "done")
    again = corpus.reply("gmail", "It broke again", in_reply_to="<m1@shop.example>")
    esc.ok("intake", "--eml", "-", input=again.decode())
    (follow_up,) = set(tickets(workspace)) - {old}
    answer = corpus.reply(
        "gmail", "Here is the log", in_reply_to="<ack@esc.example>",
        references="<m1@shop.example> <r1@shop.example> <ack@esc.example>",
        message_id="<r2@shop.example>",
    )  # fmt: skip
    out = esc.ok("intake", "--eml", "-", input=answer.decode())
    assert f"customer message on {follow_up}" in out
    assert set(tickets(workspace)) == {old, follow_up}


def test_a_follow_up_by_the_id_in_the_subject_drops_prefixes_and_the_old_id(
    esc: Esc, workspace: Path
) -> None:
    esc.ok("intake", "--eml", "-", input=corpus.message(subject="HTML only").decode())
    old = only_ticket(workspace)
    esc.ok("close", old, "--resolution", "done")
    again = corpus.message(subject=f"AW: Re: [{old.upper()}] HTML only", message_id="<n@x>")
    out = esc.ok("intake", "--eml", "-", input=again.decode())
    (new,) = set(tickets(workspace)) - {old}
    assert f"new ticket {new} (a reply to closed {old})" in out
    assert shown(esc, new)["title"] == "HTML only"


@pytest.mark.parametrize(
    "text",
    [
        "The error I get is:\n\n> Permission denied (publickey)\n"
        "> fatal: Could not read from remote repository.",
        '>>> import printer\n>>> printer.status()\n"on fire"',
    ],
)
def test_a_reply_keeps_the_output_its_sender_pasted_with_quote_marks(
    esc: Esc, workspace: Path, text: str
) -> None:
    """`>` lines that quote no message (a terminal's output under "The error I get is:", a
    Python prompt's `>>>`) were cut from a reply as a quote: what the customer sent was
    lost. They are the sender's own and kept."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    reply = corpus.message(
        subject="Re: Checkout returns 500", text=text + "\n",
        message_id="<r9@shop.example>", headers={"In-Reply-To": "<m1@shop.example>"},
    )  # fmt: skip
    esc.ok("intake", "--eml", "-", input=reply.decode())
    last = shown(esc, ticket_id)["conversation"][-1]  # type: ignore[index]
    assert last["text"] == text


def test_a_reply_without_a_quote_header_loses_its_trailing_quote(esc: Esc, workspace: Path) -> None:
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket_id = only_ticket(workspace)
    reply = corpus.message(
        subject="Re: Checkout returns 500", text="It broke again.\n\n> old quoted\n",
        message_id="<r9@shop.example>", headers={"In-Reply-To": "<m1@shop.example>"},
    )  # fmt: skip
    esc.ok("intake", "--eml", "-", input=reply.decode())
    last = shown(esc, ticket_id)["conversation"][-1]  # type: ignore[index]
    assert last["text"] == "It broke again."


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ([{"title": "a", "external_id": ""}, {"title": "b", "external_id": ""}],
         "--json item 1: external_id is empty (leave it out instead)"),
        ([{"title": "a", "external_id": "x"}, {"title": "b", "external_id": "  "}],
         "--json item 2: external_id is empty (leave it out instead)"),
        ([{"title": "a", "external_id": "chat\n17"}],
         "--json item 1: external_id must be one line of text, but it has a line break"),
        ([{"title": "  "}], "--json item 1: a ticket needs a title"),
        ([{"body": "no title"}], "--json item 1: a ticket needs a title"),
        ([{"title": "a\tb"}], "--json item 1: title must be one line of text, but it has a tab"),
        ([{"title": "a", "customer": "Jane\nDoe <j@x.example>"}],
         "--json item 1: customer must be one line of text, but it has a line break"),
        ([None], "--json item 1: expected an object, got null"),
        ([{"title": "a"}, 42], "--json item 2: expected an object, got a number"),
    ],
)  # fmt: skip
def test_json_items_with_an_empty_external_id_or_a_bad_title_are_refused(
    esc: Esc, workspace: Path, items: list[dict[str, str]], error: str
) -> None:
    result = esc("intake", "--json", "-", input=json.dumps(items))
    assert (result.code, result.err) == (2, f"esc: {error}\n")
    assert tickets(workspace) == {}


def test_json_fields_a_form_left_empty_are_as_if_left_out(esc: Esc, workspace: Path) -> None:
    """`"channel": ""` was the default channel, `"category": ""` a usage error that refused
    the whole batch: a form's empty field is as if left out, each of them."""
    item = {"title": "t", "channel": "", "category": " ", "priority": "", "customer": ""}
    esc.ok("intake", "--json", "-", input=json.dumps(item))
    made = shown(esc, only_ticket(workspace))
    assert (made["channel"], made["category"], made["priority"], made["customer"]) == (
        "api", None, "normal", None
    )


def test_json_intake_counts_one_item_in_the_singular(esc: Esc, workspace: Path) -> None:
    out = esc.ok("intake", "--json", "-", input=json.dumps({"title": "One"}))
    assert out.endswith(": new ticket " + only_ticket(workspace) + ", team support\n"
                        "1 item: 1 new ticket, 0 already taken\n")  # fmt: skip


def test_esc_init_keeps_quarantined_mail_out_of_git(tmp_path: Path) -> None:
    import subprocess

    root = tmp_path / "helpdesk"
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    esc = Esc(root, now="2026-11-20T10:00:00+01:00")
    esc.ok("init", ".")
    result = esc("intake", "--eml", "-", input=corpus.broken_mime().decode())
    assert result.code == 0 and "kept in quarantine/" in result.err  # (taken: no bounce)
    (kept,) = (root / "quarantine").iterdir()
    assert kept.suffix == ".eml"
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "quarantine" not in status


RAW_HEADERS = (
    b"From: J\xc3\xbcrgen M\xc3\xbcller <juergen@shop.example>\n"
    b"To: help@esc.example\nSubject: Gr\xc3\xbc\xc3\x9fe: Kasse kaputt\n"
    b"Message-ID: <raw-utf8@shop.example>\nDate: Fri, 20 Nov 2026 09:40:00 +0100\n\nHallo\n"
)


def test_raw_8_bit_headers_are_read_as_utf_8_else_latin_1(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Headers in raw UTF-8 (RFC 6532) or raw Latin-1, not MIME-encoded: the name and
    subject as the sender wrote them, a valid ticket (not one holding lone surrogates that
    validate refuses and a rerun makes again)."""
    esc.ok("intake", "--eml", "-", input=RAW_HEADERS.decode("utf-8"))
    latin = RAW_HEADERS.decode("utf-8").replace("raw-utf8", "raw-latin1").encode("latin-1")
    result = esc("intake", "--maildir", str(corpus.maildir(tmp_path / "box", latin)))
    assert result.code == 0, result.err
    found = [shown(esc, t) for t in tickets(workspace)]
    assert sorted((t["customer"], t["title"]) for t in found) == [
        ("Jürgen Müller <juergen@shop.example>", "Grüße: Kasse kaputt")
    ] * 2
    assert esc("validate").code == 0
    esc.ok("intake", "--eml", "-", input=RAW_HEADERS.decode("utf-8"))  # (the same: taken)
    assert len(tickets(workspace)) == 2
    mixed = RAW_HEADERS.decode("utf-8").replace("raw-utf8", "raw-mixed").replace(
        "Grüße: Kasse kaputt", "Grüße =?utf-8?q?caf=C3=A9?="
    )  # (raw UTF-8 beside an encoded word)
    esc.ok("intake", "--eml", "-", input=mixed)
    assert "Grüße café" in [shown(esc, t)["title"] for t in tickets(workspace)]
    # an address in UTF-8 (RFC 6532): its local part too; it was quarantined
    utf8 = RAW_HEADERS.decode("utf-8").replace("raw-utf8", "raw-address").replace(
        "juergen@shop.example", "jürgen@shöp.example"
    )
    assert "jürgen@shöp.example" in utf8
    assert "new ticket" in esc.ok("intake", "--eml", "-", input=utf8)
    customers = [shown(esc, t)["customer"] for t in tickets(workspace)]
    assert "Jürgen Müller <jürgen@shöp.example>" in customers
    assert esc("validate").code == 0


def test_a_long_attachment_name_is_shortened_and_the_batch_goes_on(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A file name longer than a file system takes (in bytes, not characters) is cut,
    its extension kept: the message and the ones after it are taken."""
    name = "請求書" * 40 + ".pdf"  # (120 characters, 364 bytes)
    box = corpus.maildir(
        tmp_path / "Maildir",
        corpus.message(message_id="<a@x>", attachments=[(name, b"%PDF", "application/pdf")]),
        corpus.message(message_id="<b@x>", subject="After it"),
    )
    out = esc.ok("intake", "--maildir", str(box))
    assert out.endswith("2 messages: 2 new tickets\n")
    (saved,) = (workspace / "attachments").glob("*/*.pdf")
    assert saved.read_bytes() == b"%PDF" and len(saved.name.encode()) <= 200


def test_mail_systems_and_null_senders_are_ignored_and_list_mail_is_taken(
    esc: Esc, workspace: Path
) -> None:
    """`From: MAILER-DAEMON` with no domain and a bounce with `Return-Path: <>` (even one
    naming a ticket in its subject) are a mail system's: ignored, not quarantined; a
    customer writing through a mailing list (`Precedence: list`) is a person."""
    ticket = esc.ok("create", "--title", "Kasse").strip()
    daemon = corpus.message(sender="MAILER-DAEMON", message_id="<d1@x>", subject="failure")
    null = corpus.message(message_id="<d2@x>", subject=f"Undeliverable: [{ticket}] Kasse",
                          headers={"Return-Path": "<>"})  # fmt: skip
    listed = corpus.message(message_id="<d3@x>", headers={"Precedence": "list"})
    named = corpus.message(sender='"MAILER-DAEMON" <>', message_id="<d4@x>", subject="fail")
    for data, said in [(daemon, "ignored: from mailer-daemon"),
                       (null, "ignored: Return-Path: <>"), (listed, "new ticket"),
                       (named, "ignored: from mailer-daemon")]:  # fmt: skip
        result = esc("intake", "--eml", "-", input=data.decode())
        assert result.code == 0 and said in result.out, (result.out, result.err)
    assert len(tickets(workspace)) == 2
    assert "customer message" not in tickets(workspace)[ticket]


def test_a_maildir_with_new_only_is_read(esc: Esc, workspace: Path, tmp_path: Path) -> None:
    box = tmp_path / "box"
    (box / "new").mkdir(parents=True)
    (box / "new" / "1700000000.M1P1.host").write_bytes(corpus.message())
    assert esc.ok("intake", "--maildir", str(box)).endswith("1 message: 1 new ticket\n")
    assert list((box / "cur").iterdir())  # (taken: moved to cur/, marked seen)


def test_text_around_an_inline_image_and_a_named_text_part_are_kept(
    esc: Esc, workspace: Path
) -> None:
    """Apple Mail's layout: the text, an inline image, more text; and a `server.log` text
    part with a name but no Content-Disposition: the body holds both texts, and the log
    and the image are saved as attachments (before: both dropped without a word)."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Jane Doe <jane@shop.example>"
    msg["To"] = "help@esc.example"
    msg["Subject"] = "Checkout broken"
    msg["Message-ID"] = "<apple@shop.example>"
    msg.set_content("Before the screenshot.")
    msg.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="shot.png",
                       disposition="inline")  # fmt: skip
    after = EmailMessage()
    after.set_content("After the screenshot.")
    del after["MIME-Version"]
    msg.attach(after)
    log = EmailMessage()
    log.set_content("ERROR 500 at /checkout")
    log.set_param("name", "server.log")
    msg.attach(log)
    esc.ok("intake", "--eml", "-", input=msg.as_string())
    ticket_id = only_ticket(workspace)
    text = str(shown(esc, ticket_id)["description"])
    assert "Before the screenshot." in text and "After the screenshot." in text
    saved = sorted(p.name for p in (workspace / "attachments" / ticket_id).iterdir())
    assert saved == ["server.log", "shot.png"]


@pytest.mark.parametrize("source", ["--json", "--maildir"])
def test_intake_removes_what_killed_processes_left_as_a_sweep_does(
    esc: Esc, workspace: Path, tmp_path: Path, source: str
) -> None:
    """Intake holds the workspace lock a sweep takes: it removes the temporary files a
    killed command left in tickets/ (issue 12: "the next command that holds the lock"),
    not one whose writer still runs."""
    import os
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = workspace / "tickets" / f".T-1.md.{gone.pid}-0123abcd.tmp"
    alive = workspace / "tickets" / f".T-2.md.{os.getpid()}-0123abcd.tmp"
    for path in (dead, alive):
        path.write_text("half a ticket\n")
    if source == "--json":
        esc.ok("intake", "--json", "-", input=json.dumps({"title": "Hi", "body": "hello"}))
    else:
        box = corpus.maildir(tmp_path / "Maildir", corpus.message())
        esc.ok("intake", "--maildir", str(box))
    assert not dead.exists() and alive.exists()


@pytest.mark.parametrize(
    "text",
    ["[" * 5000, '{"title": "a", "x": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}"],
)
def test_json_nested_thousands_deep_is_refused_in_one_line(
    esc: Esc, workspace: Path, text: str
) -> None:
    result = esc("intake", "--json", "-", input=text)
    assert (result.code, result.err) == (2, "esc: --json: nested too deep; nothing was written\n")
    assert tickets(workspace) == {}


@pytest.mark.parametrize("key", ["external_id", "junk"])
def test_json_with_a_number_of_thousands_of_digits_is_refused_in_one_line(
    esc: Esc, workspace: Path, key: str
) -> None:
    """(Python converts 4300 digits at most: "internal error (ValueError …)", exit 3;
    audit helper-470)"""
    text = '[{"title": "ok"}, {"title": "x", "' + key + '": ' + "1" * 4301 + "}]"
    result = esc("intake", "--json", "-", input=text)
    assert (result.code, result.err) == (
        2,
        "esc: --json: a number has more digits than 4300; nothing was written\n",
    )
    assert tickets(workspace) == {}


def test_json_with_a_key_given_twice_is_refused(esc: Esc, workspace: Path) -> None:
    """JSON readers keep the last of two values silently: which one did the form mean?"""
    result = esc("intake", "--json", "-", input='{"title": "a", "title": "b", "body": "x"}')
    assert (result.code, result.err) == (
        2,
        "esc: --json: the key 'title' is given twice; nothing was written\n",
    )
    assert tickets(workspace) == {}


def test_text_in_an_unknown_8_bit_charset_is_read_as_8_bit_text_is(
    esc: Esc, workspace: Path
) -> None:
    """RFC 1428's `unknown-8bit` (what a gateway writes when it does not know) was
    quarantined as an unknown charset, and a subject in `x-unknown` read as U+FFFD; both
    read as 8-bit text without a charset does: UTF-8, else Latin-1."""
    raw = (
        b"From: Jane <jane@shop.example>\r\nTo: help@desk.example\r\n"
        b"Subject: =?x-unknown?Q?Gr=FC=DFe_aus_K=F6ln?=\r\nMessage-ID: <u8@shop.example>\r\n"
        b"Date: Fri, 20 Nov 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=unknown-8bit\r\n\r\n"
        b"Die Rechnung f\xfcr K\xf6ln fehlt.\r\n"
    )
    result = esc("intake", "--maildir", str(corpus.maildir(workspace / "Maildir", raw)))
    assert result.code == 0, result.err
    ticket = shown(esc, only_ticket(workspace))
    assert (ticket["title"], ticket["description"]) == (
        "Grüße aus Köln", "Die Rechnung für Köln fehlt."
    )


def test_what_mail_clients_send_reads_as_they_show_it(esc: Esc, workspace: Path) -> None:
    """HTML entities are the letters they name; an empty text part gives way to the HTML;
    the old `address (Name)` keeps the name; charsets under their registered names read;
    `Precedence: auto-reply` (hyphen, comment) is an auto-reply, `list` is a customer."""
    messages = [
        corpus.message(subject="Entities", text=None, message_id="<e@x>",
                       html="<p>Gr&uuml;&szlig;e caf&eacute; &#233; &ndash; it&rsquo;s</p>"),
        corpus.message(subject="Empty text", text=" \n", message_id="<t@x>",
                       html="<p>The real content</p>"),
        corpus.message(subject="Old style", sender="jane@shop.example (Jane Doe)",
                       message_id="<o@x>"),
        corpus.message(subject="Thai", text="สวัสดี", charset="cp874", message_id="<th@x>"),
        corpus.message(subject="Japanese", text="こんにちは", charset="cp932", message_id="<j@x>"),
        corpus.message(subject="Auto", message_id="<a@x>",
                       headers={"Precedence": "auto-reply ; vacation"}),
        corpus.message(subject="Group", message_id="<g@x>", headers={"Precedence": "list"}),
    ]  # fmt: skip
    # (the Thai message as Outlook labels it: windows-874, a name Python's codecs lack)
    messages[3] = messages[3].replace(b"charset=\"cp874\"", b"charset=\"windows-874\"")
    assert b"windows-874" in messages[3]
    # (and Microsoft's Shift_JIS under IANA's name, Windows-31J: it was quarantined)
    messages[4] = messages[4].replace(b"charset=\"cp932\"", b"charset=\"Windows-31J\"")
    assert b"Windows-31J" in messages[4]
    result = esc("intake", "--maildir", str(corpus.maildir(workspace / "Maildir", *messages)))
    assert result.code == 0, result.err
    assert "ignored: Precedence: auto_reply" in result.out
    by_title = {shown(esc, t)["title"]: shown(esc, t) for t in tickets(workspace)}
    assert sorted(by_title) == ["Empty text", "Entities", "Group", "Japanese", "Old style", "Thai"]
    assert by_title["Entities"]["description"] == "Grüße café é – it’s"
    assert by_title["Empty text"]["description"] == "The real content"
    assert by_title["Old style"]["customer"] == "Jane Doe <jane@shop.example>"
    assert by_title["Thai"]["description"] == "สวัสดี"
    assert by_title["Japanese"]["description"] == "こんにちは"


def test_a_person_s_trash_and_dot_files_are_not_mail_and_a_bom_is_no_json_error(
    esc: Esc, workspace: Path
) -> None:
    box = corpus.maildir(workspace / "Maildir")
    (box / "new" / ".hidden-file").write_bytes(corpus.message(message_id="<h@x>"))
    (box / "cur" / "1765357200.x:2,T").write_bytes(corpus.message(message_id="<d@x>"))
    (box / "new" / "archive").mkdir()  # (a folder: no message, never "left" on every run)
    assert esc.ok("intake", "--maildir", str(box)) == "0 messages\n"
    assert esc("intake", "--mbox", str(box)).err == (  # (a Maildir given as an mbox)
        f"esc: {box}: a folder, not an mbox file (a Maildir: --maildir)\n"
    )
    bom = '\ufeff{"title": "From a Windows tool", "customer": "a@b.c", "channel": "api"}'
    assert "new ticket" in esc.ok("intake", "--json", "-", input=bom)


def test_a_message_taken_under_an_earlier_esc_s_id_is_not_taken_again(
    esc: Esc, workspace: Path
) -> None:
    """An earlier esc made the id of a message without a Message-ID from every header but
    Status and X-Status; an mbox from mutt (`Lines:`) read again after the upgrade made a
    second ticket of each such message."""
    import hashlib
    import re

    from esc.store.mail import read_mbox

    plain = corpus.message(message_id=None).replace(b"Subject:", b"Lines: 3\r\nSubject:", 1)
    path = corpus.mbox(workspace / "box.mbox", plain)
    esc.ok("intake", "--mbox", str(path))
    ticket = only_ticket(workspace)
    ticket_path = workspace / "tickets" / f"{ticket}.md"
    stored = ticket_path.read_text()
    [today] = re.findall(r"<sha256-[0-9a-f]{32}@esc\.invalid>", stored)
    [item] = read_mbox(path)  # (the bytes intake reads: every header kept, as esc kept them)
    earlier = f"<sha256-{hashlib.sha256(item.data).hexdigest()[:32]}@esc.invalid>"
    assert earlier != today
    ticket_path.write_text(stored.replace(today, earlier))  # (as the earlier esc wrote it)
    assert "already taken" in esc.ok("intake", "--mbox", str(path))
    assert len(tickets(workspace)) == 1


def test_a_message_without_a_message_id_delivered_twice_by_two_relays_is_one_ticket(
    esc: Esc, workspace: Path
) -> None:
    """Taken from a Maildir, then again from an mbox where it came with one more
    `Received:` line (two relays, two aliases): a second ticket.  The headers each server
    that delivers it adds are not its content; one taken under the id an earlier esc gave
    it (every header but the mbox state ones) is known by that id too."""
    first = corpus.message(message_id=None, headers={"Received": "from a by b; Thu, 10 Dec"})
    esc.ok("intake", "--maildir", str(corpus.maildir(workspace / "Maildir", first)))
    ticket = only_ticket(workspace)
    again = first.replace(b"Received:", b"Received: from relay2 by a; Thu, 10 Dec\r\n"
                          b"Delivered-To: support@esc.example\r\nReceived:", 1)  # fmt: skip
    assert again != first
    assert "already taken" in esc.ok("intake", "--mbox", str(corpus.mbox(workspace / "b", again)))
    assert list(tickets(workspace)) == [ticket]
    # (an earlier esc's id of it: every header but the mbox state ones)
    from esc.store import mail as store

    ticket_path = workspace / "tickets" / f"{ticket}.md"
    today = store.fallback_id(first)
    earlier = store.earlier_fallback_ids(first)[-1]
    assert today in ticket_path.read_text() and earlier != today
    ticket_path.write_text(ticket_path.read_text().replace(today, earlier))
    assert "already taken" in esc.ok("intake", "--mbox", str(corpus.mbox(workspace / "c", first)))
    assert list(tickets(workspace)) == [ticket]


@pytest.mark.parametrize(
    "marks",
    [
        b"Status: RO\r\nX-Status: A\r\n",  # (mutt, pine, mail)
        b"X-Mozilla-Status: 0001\r\nX-Mozilla-Status2: 00000000\r\nX-Mozilla-Keys: \r\n"
        b"                                      \r\n",  # (Thunderbird, a folded line too)
        b"Content-Length: 1234\r\nLines: 12\r\n",  # (mutt's sizes)
        b"X-UID: 7\r\nX-Keywords: $Forwarded\r\n",  # (dovecot's and pine's)
    ],
)
def test_a_message_without_a_message_id_read_again_from_an_mbox_marked_read_is_one_ticket(
    esc: Esc, workspace: Path, marks: bytes
) -> None:
    plain = corpus.message(message_id=None)
    path = corpus.mbox(workspace / "box.mbox", plain)
    esc.ok("intake", "--mbox", str(path))
    read = plain.replace(b"Subject:", marks + b"Subject:", 1)
    assert marks in read
    corpus.mbox(path, read)
    assert "already taken" in esc.ok("intake", "--mbox", str(path))
    assert len(tickets(workspace)) == 1


@pytest.mark.parametrize(
    ("subject", "text", "kept"),
    [
        # a forward: what follows the customer's words is what they send
        ("Fwd: Recall notice [{id}]",
         "As you asked, here is the vendor mail.\n\n---------- Forwarded message ---------\n"
         "From: Vendor <v@vendor.example>\nDate: Mon, Mar 3, 2025 at 8:00 AM\n"
         "Subject: Recall notice\nTo: <jane@shop.example>\n\n"
         "Serial 12345 is recalled; return it to depot 7.\n",
         "Serial 12345 is recalled; return it to depot 7."),
        # no quote at all: nothing to leave out (a P.S. after the greeting, a "wrote:")
        ("Re: Checkout returns 500 [{id}]",
         "Hi,\nthe fix did not work.\n\nBest regards,\nJane\n\n"
         "P.S. The order number is 4711, please refund it.\n",
         "P.S. The order number is 4711, please refund it."),
        ("Re: Checkout returns 500 [{id}]",
         'Hello,\nOn Friday your engineer wrote:\n"we will call you back today".\n'
         "Nobody called. I want to cancel the contract.\n",
         "Nobody called. I want to cancel the contract."),
        ("Re: Checkout returns 500 [{id}]",
         "The spooler log says:\nFrom: spooler\nSent: 09:00\nError 0x55 at tray 2.\n"
         "Please check.\n",
         "Error 0x55 at tray 2."),
        # another bracketed tag before the ticket's ID
        ("Re: [T-Mobile] contract [{id}]", "Still broken.\n", "Still broken."),
        # spaces inside the brackets
        ("Re: [ {id} ] spaced", "Still broken.\n", "Still broken."),
    ],
)
def test_a_customer_message_keeps_all_that_the_customer_wrote(
    esc: Esc, workspace: Path, subject: str, text: str, kept: str
) -> None:
    """The audit's cases: a forward joining a ticket kept its first line only; a reply
    quoting nothing lost its P.S., or all after "On Friday your engineer wrote:"; a
    subject with `[T-Mobile]` before the ID made a new ticket."""
    esc.ok("intake", "--eml", "-", input=corpus.message().decode())
    ticket = only_ticket(workspace)
    message = corpus.message(subject=subject.format(id=ticket), text=text,
                             message_id="<r9@shop.example>")  # fmt: skip
    out = esc.ok("intake", "--eml", "-", input=message.decode())
    assert f"customer message on {ticket}" in out
    assert only_ticket(workspace) == ticket
    entries = shown(esc, ticket)["conversation"]
    assert isinstance(entries, list)
    assert kept in entries[-1]["text"]


def test_an_mbox_s_escaped_from_lines_are_read_as_written(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """A delivery agent writes a body line starting "From " as ">From " in an mbox: the
    lines were dropped as a trailing quote, or kept with their ">"."""
    box = tmp_path / "in.mbox"
    box.write_bytes(
        b"From x Mon Mar  3 09:00:00 2025\nFrom: Jane <jane@shop.example>\n"
        b"To: help@esc.example\nSubject: Tray\nMessage-ID: <m7@shop.example>\n\n"
        b"Thanks for the fix.\n\n>From now on we use tray 2.\n>>From the log: ok\n"
    )
    esc.ok("intake", "--mbox", str(box))
    description = shown(esc, only_ticket(workspace))["description"]
    assert description == "Thanks for the fix.\n\nFrom now on we use tray 2.\n>From the log: ok"


def test_json_items_that_would_make_a_ticket_esc_cannot_read_are_refused_first(
    esc: Esc, workspace: Path
) -> None:
    """Every item is checked before any is written, the size of its ticket too: the first
    was written, then the second refused, once esc refused to write tickets it could not
    read back (issue 20)."""
    items = json.dumps([{"title": "ok"}, {"title": "x" * 1_000_001}])
    result = esc("intake", "--json", "-", input=items)
    assert result.code == 2
    assert result.err == (
        "esc: --json item 2: the ticket's front-matter would be too large: 1,000,316 "
        "characters (esc reads at most 1,000,000); nothing was written\n"
    )
    assert list((workspace / "tickets").glob("*.md")) == []


def test_a_message_whose_ticket_esc_could_not_read_is_quarantined(
    esc: Esc, workspace: Path
) -> None:
    """A subject of a million characters: `--eml -` answered 75 (try again), so the MTA
    would deliver it again and again; a Maildir's run stopped at it (issue 20).  Such a
    header is not read at all: Python's parser of headers is quadratic in their encoded
    words (this one took 8 s of the suite's time, a From of a million 16 s and 11.8 GB)."""
    mail = corpus.message(subject="x" * 1_000_100).decode()
    result = esc("intake", "--eml", "-", input=mail)
    assert result.code == 0  # (kept in quarantine: taken, not bounced)
    assert "1 message: 1 quarantined" in result.out
    assert "esc: stdin: its Subject header is 1,230,902 characters long (esc reads at most "
    assert "100,000); kept in quarantine/" in result.err
    assert list((workspace / "tickets").glob("*.md")) == []
    assert len(list((workspace / "quarantine").iterdir())) == 1


@pytest.mark.parametrize(
    ("header", "value", "said"),
    [
        ("From", "=?utf-8?b?" + "w6TDpMOk" * 40_000 + "?= <jane@shop.example>", "header is"),
        ("To", ", ".join(f"a{n}@x.example" for n in range(7_000)), "header is"),
        ("Content-Type", "text/plain; " + "; ".join(f"p{n}*=utf-8''%C3%A4" for n in range(9_000)),
         "header is"),  # (parsed by Python as it reads the message: checked before)
        ("Cc", "\r\nCc: ".join(["=?utf-8?q?J=C3=A4ne?= <a@x.example>, " * 900] * 5),
         "headers are"),  # (five of them, each under the limit: together over it)
    ],
)
def test_a_header_longer_than_esc_reads_is_quarantined_with_its_name(
    esc: Esc, workspace: Path, header: str, value: str, said: str
) -> None:
    headers = {"From": "Jane <jane@shop.example>", "To": "help@esc.example", header: value}
    mail = "".join(f"{name}: {text}\r\n" for name, text in headers.items())
    mail += "Subject: Checkout\r\nMessage-ID: <m1@shop.example>\r\n\r\nHelp.\r\n"
    result = esc("intake", "--eml", "-", input=mail)
    assert result.code == 0 and "1 message: 1 quarantined" in result.out
    assert f"esc: stdin: its {header} {said} " in result.err
    most = "10,000" if header == "Content-Type" else "100,000"  # (a MIME header's is shorter)
    assert f"characters long (esc reads at most {most}); kept in quarantine/" in result.err
    assert list((workspace / "tickets").glob("*.md")) == []


def test_a_reply_naming_five_thousand_messages_is_threaded(esc: Esc, workspace: Path) -> None:
    """A long thread's References (5,000 Gmail-style ids, 350,000 characters: esc reads
    them itself, in linear time, so no limit applies; they were looked up in a list,
    quadratic: 22 s for 60,000): the reply goes to the ticket its last id names."""
    first = corpus.message(message_id="<m1@shop.example>").decode()
    esc.ok("intake", "--eml", "-", input=first)
    (path,) = (workspace / "tickets").glob("*.md")
    ids = " ".join(f"<CAF{n:060d}@mail.gmail.com>" for n in range(5_000))
    ids += " <m1@shop.example>"
    reply = corpus.message(subject="Re: Checkout returns 500", message_id="<m2@shop.example>",
                           text="Still broken.", headers={"References": ids})  # fmt: skip
    result = esc("intake", "--eml", "-", input=reply.decode(), now="2026-11-20T11:00:00+01:00")
    assert "customer message on " + path.stem in result.out, result.out + result.err
    assert "Still broken." in path.read_text()



def test_a_long_header_of_an_attached_message_is_named_as_its(
    esc: Esc, workspace: Path
) -> None:
    """A forward attaching a mail whose own To is longer than esc reads: the line named
    "its To header", which the outer mail's is not."""
    inner = (
        "From: Bob <bob@x.example>\r\nTo: " + ", ".join(f"a{n}@x.example" for n in range(9_000))
        + "\r\nSubject: the list\r\n\r\nHi all.\r\n"
    )
    mail = (
        "From: Jane <jane@shop.example>\r\nTo: help@esc.example\r\nSubject: Fwd: the list\r\n"
        "Message-ID: <fwd@shop.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\n"
        "Content-Type: message/rfc822\r\n\r\n" + inner + "--b--\r\n"
    )
    result = esc("intake", "--eml", "-", input=mail)
    assert result.code == 0 and "1 quarantined" in result.out
    assert "esc: stdin: its attached message's To header is " in result.err


def test_shift_jis_as_outlook_writes_it_is_read_as_cp932(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """Outlook labels CP932 text Shift_JIS, and mail readers read it so (WHATWG): `①`
    (NEC's row) came out as U+FFFD and `@`."""
    body = "注文①が届きません。".encode("cp932")
    mail = (
        b"From: Taro <taro@shop.example>\r\nTo: help@esc.example\r\nSubject: order\r\n"
        b"Message-ID: <sjis@shop.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=Shift_JIS\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )
    box = corpus.maildir(tmp_path / "box", mail)
    result = esc("intake", "--maildir", str(box))
    assert result.code == 0 and "1 new ticket" in result.out, result.err
    (path,) = (workspace / "tickets").glob("*.md")
    assert "注文①が届きません。" in path.read_text(encoding="utf-8")


def test_a_reply_delivered_before_its_original_is_one_conversation(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """The reply came first and opened a ticket; the original, delivered later, opened a
    second one, and later replies went to one or the other.  The first records what it
    answers (`replies_to:`), and the original joins it, in a later run or the same one."""
    original = corpus.message(subject="Printer broken", message_id="<a@shop.example>",
                              text="The printer is broken.")  # fmt: skip
    answers = {"In-Reply-To": "<a@shop.example>", "References": "<a@shop.example>"}
    reply = corpus.message(subject="Re: Printer broken", message_id="<b@shop.example>",
                           text="Still broken.", headers=answers)  # fmt: skip
    first = esc("intake", "--eml", "-", input=reply.decode())
    assert "1 new ticket" in first.out, first.err
    (path,) = (workspace / "tickets").glob("*.md")
    assert 'replies_to:\n  - "<a@shop.example>"\n' in path.read_text()
    esc.ok("export", "--csv", str(tmp_path / "out"))  # (and the export has it, as show does)
    with (tmp_path / "out" / "tickets.csv").open(newline="") as handle:
        assert [row["replies_to"] for row in csv.DictReader(handle)] == ["<a@shop.example>"]
    later = esc("intake", "--eml", "-", input=original.decode(), now="2026-11-20T10:05:00+01:00")
    assert f"customer message on {path.stem}" in later.out, later.out + later.err
    assert list((workspace / "tickets").glob("*.md")) == [path]
    assert "The printer is broken." in path.read_text()
    assert esc("validate").code == 0
    # (in one Maildir run, the reply delivered first)
    for old in (workspace / "tickets").glob("*.md"):
        old.unlink()
    box = corpus.maildir(tmp_path / "box", reply.replace(b"<b@", b"<b2@").replace(b"<a@", b"<a2@"),
                         original.replace(b"<a@", b"<a2@"))  # fmt: skip
    result = esc("intake", "--maildir", str(box), now="2026-11-20T11:00:00+01:00")
    assert "new ticket" in result.out and "customer message on" in result.out, result.out
    assert len(list((workspace / "tickets").glob("*.md"))) == 1


def test_a_mail_another_sender_awaited_is_not_joined(esc: Esc, workspace: Path) -> None:
    """A reply names a Message-ID (`<order-123@shop>`, one anybody can guess) that no ticket
    holds: the mail that has it, from someone else, opens its own ticket, never joins the
    first sender's (whose agents' replies would go to them)."""
    answers = {"In-Reply-To": "<order-123@shop.example>"}
    claim = corpus.message(subject="Re: your order", message_id="<m@evil.example>",
                           sender="Mallory <mallory@evil.example>", headers=answers)  # fmt: skip
    esc.ok("intake", "--eml", "-", input=claim.decode())
    real = corpus.message(subject="Order 123", message_id="<order-123@shop.example>",
                          sender="Ann <ann@shop.example>", text="My order is late.")  # fmt: skip
    result = esc("intake", "--eml", "-", input=real.decode(), now="2026-11-20T10:05:00+01:00")
    assert "new ticket" in result.out, result.out + result.err
    assert len(list((workspace / "tickets").glob("*.md"))) == 2


def test_many_parts_with_long_mime_headers_are_quarantined(esc: Esc, workspace: Path) -> None:
    """Each part's Content-Type under the limit, twenty of them over it together (20 of
    99,000 characters took 235 s to parse, with the workspace locked)."""
    params = "; ".join(f"p{n}=v" for n in range(1_100))  # (~8,900 characters)
    parts = "".join(
        f"--b\r\nContent-Type: text/plain; {params}\r\n\r\npart {n}\r\n" for n in range(20)
    )
    mail = (
        "From: Jane <jane@shop.example>\r\nTo: help@esc.example\r\nSubject: parts\r\n"
        "Message-ID: <parts@shop.example>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="b"\r\n\r\n{parts}--b--\r\n'
    )
    result = esc("intake", "--eml", "-", input=mail)
    assert result.code == 0 and "1 quarantined" in result.out, result.out + result.err
    assert "esc: stdin: its parts' MIME headers are " in result.err
    assert "(esc reads at most 100,000)" in result.err


def test_two_replies_before_their_original_are_one_ticket_which_it_joins(
    esc: Esc, workspace: Path
) -> None:
    """Two replies of one sender came before the original: the second joins the ticket the
    first opened (each opened one: a conversation in two tickets), and so does the original
    (it went by the tickets' file names); another sender's reply to it claims nothing."""
    answers = {"In-Reply-To": "<o@shop.example>", "References": "<o@shop.example>"}
    firsts = []
    for n in range(4):  # (several pairs: file names fall either way)
        ids = {k: v.replace("<o@", f"<o{n}@") for k, v in answers.items()}
        for m, when in enumerate(("09:00", "09:30")):
            reply = corpus.message(subject="Re: Printer", message_id=f"<r{n}{m}@shop.example>",
                                   text=f"Reply {n}{m}.", headers=ids)  # fmt: skip
            out = esc.ok("intake", "--eml", "-", input=reply.decode(),
                         now=f"2026-11-20T{when}:00+01:00")  # fmt: skip
            if m == 0:
                firsts.append(out.split("new ticket ")[1].split(",")[0])
            else:
                assert f"customer message on {firsts[-1]}" in out, out
    assert len(tickets(workspace)) == 4
    other = corpus.message(subject="Re: Printer", sender="eve@elsewhere.example",
                           message_id="<e@elsewhere.example>", headers=answers)  # fmt: skip
    out = esc.ok("intake", "--eml", "-", input=other.replace(b"<o@", b"<o0@").decode(),
                 now="2026-11-20T09:40:00+01:00")  # fmt: skip
    eves = out.split("new ticket ")[1].split(",")[0]
    # (her second reply joins her own ticket: the first sender's was the only one found)
    again = other.replace(b"<e@", b"<e2@").replace(b"<o@", b"<o0@")
    assert f"customer message on {eves}" in esc.ok(
        "intake", "--eml", "-", input=again.decode(), now="2026-11-20T09:45:00+01:00"
    )
    for n, first in enumerate(firsts):
        original = corpus.message(subject="Printer", message_id=f"<o{n}@shop.example>")
        out = esc.ok("intake", "--eml", "-", input=original.decode(),
                     now="2026-11-20T10:00:00+01:00")  # fmt: skip
        assert f"customer message on {first}" in out, (n, out)


def test_a_message_an_older_esc_took_under_an_escaped_utf_8_id_is_never_taken_again(
    esc: Esc, workspace: Path
) -> None:
    """An older esc wrote `<tü@x.example>` with its bytes escaped: a file no command reads.
    Read as text now, the id was found nowhere, and the message made a second ticket; it
    is left for a run after the file is mended (75 through an MTA's pipe), as any message
    a file that does not parse may hold; and a later message whose Message-ID names
    nothing (`<@>`), which that esc recorded for another, is taken, never `already taken`."""
    mail = corpus.message().replace(b"<m1@shop.example>", "<tü@x.example>".encode())
    esc.ok("intake", "--eml", "-", input=mail.decode())
    (ticket,) = tickets(workspace)
    path = workspace / "tickets" / f"{ticket}.md"
    path.write_text(path.read_text().replace('"<tü@x.example>"', '"<t\\udcc3\\udcbc@x.example>"'))
    assert esc("validate").code == 1
    again = esc("intake", "--eml", "-", input=mail.decode())
    assert again.code == 75 and f"it may belong to {ticket}, whose file does not parse" in again.out
    assert list(tickets(workspace)) == [ticket]
    # (one of bytes that are no UTF-8, `<t\xfc@x.example>` in Latin-1, alike)
    latin = corpus.message().replace(b"<m1@shop.example>", b"<t\xfc@x.example>")
    path.write_text(path.read_text().replace("\\udcc3\\udcbc", "\\udcfc"))
    again = esc("intake", "--eml", "-", input=latin.decode("utf-8", "surrogateescape"))
    assert again.code == 75 and f"it may belong to {ticket}, whose file does not parse" in again.out
    path.write_text(path.read_text().replace("\\udcfc", "ü").replace("<tü@x.example>", "<@>"))
    assert esc("validate").code == 0
    other = corpus.message(subject="Another matter", sender="kim@elsewhere.example",
                           text="Unrelated.").replace(b"<m1@shop.example>", b"<@>")  # fmt: skip
    assert "new ticket" in esc.ok("intake", "--eml", "-", input=other.decode())
    # (the very message it took so, read again from an mbox: its sender and subject)
    same = corpus.message().replace(b"<m1@shop.example>", b"<@>")
    assert f"already taken ({ticket})" in esc.ok("intake", "--eml", "-", input=same.decode())


def test_a_now_that_is_no_time_is_a_usage_error_and_takes_no_mail(
    esc: Esc, workspace: Path, tmp_path: Path
) -> None:
    """`--now 2026-12-01T12:71:00Z`: each message was quarantined for it (exit 0 with
    `--eml -`, and the next run said "quarantined before": the mail never became a ticket)."""
    mail = corpus.message().decode()
    bad = esc("intake", "--eml", "-", input=mail, now="2026-12-01T12:71:00Z")
    assert bad.code == 75 and "minute must be in 0..59; not taken now" in bad.err, bad.err
    # (75: the mail system keeps the message and tries again, as for any failure before
    # the message is taken)
    box = corpus.maildir(tmp_path / "box", corpus.message().replace(b"<m1@", b"<m9@"))
    assert esc("intake", "--maildir", str(box), now="2026-13-01T10:00:00Z").code == 2
    assert not (workspace / "quarantine").exists()
    assert len(list((box / "new").iterdir())) == 1  # (left where it was)
    assert "1 new ticket" in esc.ok("intake", "--eml", "-", input=mail)



@pytest.mark.parametrize(
    "cut_after",
    # (in its text; in its headers, before its Message-ID: taken under its content's hash,
    # and again whole under its id; there at a line's end, its headers without their end)
    [b"for order 7", b"Subject: Card charged tw", b"Subject: Card charged twice\n"],
)
def test_an_mbox_message_still_being_written_is_left_for_the_next_run(
    esc: Esc, workspace: Path, tmp_path: Path, cut_after: bytes
) -> None:
    """Cron's intake reads the mbox while the delivery agent still writes its last message:
    it was taken cut short, or, cut in its headers, taken again whole as a second ticket.
    A last message that ends without a line break, or whose headers have no blank line
    after them, is left for the next run, claiming nothing (no ticket, no quarantine); that
    run, the message whole, takes it once."""
    box = corpus.mbox(tmp_path / "inbox.mbox", corpus.message())
    whole = (b"\nFrom jo@y.example Fri Nov 20 09:59:00 2026\nFrom: Jo <jo@y.example>\n"
             b"To: help@esc.example\nSubject: Card charged twice\nMessage-ID: <cut1@y.example>"
             b"\n\nMy card was charged twice for order 777. Please refund 49 EUR.\n\n")  # fmt: skip
    written = whole.index(cut_after) + len(cut_after)
    with box.open("ab") as file:
        file.write(whole[:written])
    result = esc("intake", "--mbox", str(box))
    assert result.code == 1, result.err
    assert f"{box}#2: left for the next run (" in result.out
    assert result.out.endswith("2 messages: 1 new ticket, 1 left for the next run\n")
    (first,) = tickets(workspace)
    assert not (workspace / "quarantine").exists()
    with box.open("ab") as file:  # (the delivery agent finishes it)
        file.write(whole[written:])
    again = esc.ok("intake", "--mbox", str(box))
    assert again.endswith("2 messages: 1 new ticket, 1 already taken\n")
    (new,) = set(tickets(workspace)) - {first}
    ticket = shown(esc, new)
    assert ticket["title"] == "Card charged twice"
    assert ticket["description"] == "My card was charged twice for order 777. Please refund 49 EUR."
    assert esc.ok("intake", "--mbox", str(box)).endswith("2 messages: 2 already taken\n")


def test_bidi_controls_in_a_subject_a_sender_or_a_form_are_left_out_not_refused(
    esc: Esc, workspace: Path
) -> None:
    """A title or customer may not hold a bidi embedding, override or isolate; intake took
    mail and JSON with them (a sender's name wrapped in isolates by a chat or a mail
    client), and turning the message away, or the whole batch, loses a customer's mail:
    they are left out (review helper-482)."""
    sender = "\u202bDan\u202c <dan@shop.example>"
    mail = corpus.message(subject="Refund \u202eFDP.exe", sender=sender)
    assert "new ticket" in esc.ok("intake", "--eml", "-", input=mail.decode())
    made = json.loads(esc.ok("list", "--json"))
    assert [(t["title"], t["customer"]) for t in made] == [
        ("Refund FDP.exe", "Dan <dan@shop.example>")
    ]
    batch = '[{"title": "Login fails", "customer": "\\u2068Ahmed\\u2069"}, {"title": "Other"}]'
    esc.ok("intake", "--json", "-", input=batch)
    customers = sorted(str(t["customer"]) for t in json.loads(esc.ok("list", "--json")))
    assert "Ahmed" in customers
