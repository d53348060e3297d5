"""Mail to customers: addresses, templates, subjects and threading headers."""

from __future__ import annotations

import datetime as dt

from esc.domain import customer_mail as cm

AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)


def test_the_address_of_a_customer() -> None:
    assert cm.address_of("Jane Doe <Jane@Shop.example>") == "jane@shop.example"
    assert cm.address_of('"Doe, Jane" <jane@shop.example>') == "jane@shop.example"
    assert cm.address_of("jane@shop.example") == "jane@shop.example"
    assert cm.address_of("Bob at the front desk") is None
    assert cm.address_of("") is None and cm.address_of(None) is None
    assert cm.display_name('"Doe, Jane" <jane@shop.example>') == "Doe, Jane"
    assert cm.display_name("jane@shop.example") == "jane@shop.example"
    # (a quoted name's escapes are the characters they stand for: "Hello Jürgen "JJ" Müller,")
    quoted = '"J\u00fcrgen \\"JJ\\" M\u00fcller" <jm@shop.example>'
    assert cm.display_name(quoted) == 'J\u00fcrgen "JJ" M\u00fcller'
    assert cm.display_name('"a\\\\b" <c@shop.example>') == "a\\b"


def test_templates_name_known_placeholders_only() -> None:
    assert cm.template_problems("[{id}] {title} for {name}") == []
    (problem,) = cm.template_problems("Hello {nmae}")
    assert problem.startswith("unknown placeholder {nmae} (did you mean 'name'?)")
    assert cm.render("{id}: {other} {title}", {"id": "T-1", "title": "x"}) == "T-1: {other} x"


def test_the_acknowledgement_carries_the_id_and_answers_the_message() -> None:
    settings = cm.CustomerMail("customers", cm.Acknowledge("Got it: {subject}", "Hi {name}"))
    ack = cm.acknowledgement(
        settings, "T-abcd", "Checkout", "Jane <jane@x.example>", "Checkout", "<m1@x>"
    )
    assert ack is not None
    assert ack.subject == "[T-abcd] Got it: Checkout"  # the ID added when the template lacks it
    assert ack.to == "jane@x.example" and ack.body == "Hi Jane"
    assert ack.headers["In-Reply-To"] == "<m1@x>" and ack.headers["References"] == "<m1@x>"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    again = cm.acknowledgement(
        settings, "T-abcd", "Changed", "Jane <jane@x.example>", "x", "<m1@x>"
    )
    assert again is not None and again.event == ack.event  # same ticket and message: same id
    assert (
        cm.acknowledgement(cm.CustomerMail("customers"), "T-abcd", "t", "j@x.example", "s", "<m>")
        is None
    )


def test_a_reply_names_the_latest_messages_of_the_customer() -> None:
    ids = [f"<m{n}@x>" for n in range(12)]
    reply = cm.reply("T-abcd", "Checkout", "jane@x.example", "Done", AT, "alice", ids)
    assert reply.subject == "Re: [T-abcd] Checkout"
    assert reply.body == "Done\n"
    assert reply.headers["In-Reply-To"] == "<m11@x>"
    assert reply.headers["References"].split() == ids[-cm.REFERENCES_KEPT :]
    assert "Auto-Submitted" not in reply.headers
    assert cm.reply("T-abcd", "t", "j@x.example", "Done", AT, "alice", []).headers == {
        "X-Esc-Ticket": "T-abcd"  # (so that a copy of it that comes back is known as esc's)
    }


def test_a_reply_threads_on_the_customer_s_ascii_message_ids_alone() -> None:
    """A Message-ID in UTF-8 (`<tü@x.example>`) went into In-Reply-To as an encoded word,
    which no mail reader takes for a Message-ID: left out, the others kept."""
    assert cm.threading_headers(["<a@x.example>", "<tü@x.example>"]) == {
        "In-Reply-To": "<a@x.example>", "References": "<a@x.example>"
    }
    assert cm.threading_headers(["<tü@x.example>"]) == {}


def test_a_mail_s_header_lines_stay_inside_what_a_server_takes() -> None:
    """A title of 1,000 characters made a Subject line no server takes ("500 line too
    long": RFC 5322's 998), sent unfolded, and retried at every sweep for ever; so did
    References of many long ids (audit helper-455).  The subject's title is cut with "…",
    the oldest ids left out; the acknowledgement's body keeps the whole title."""
    title = "x" * 1000
    reply = cm.reply("T-abcd", title, "jane@x.example", "Done", AT, "alice", [])
    assert reply.subject == "Re: [T-abcd] " + "x" * (cm.SUBJECT_TITLE_AT_MOST - 1) + "…"
    long_ids = [f"<{n}{'y' * 200}@x.example>" for n in range(10)]
    headers = cm.threading_headers(long_ids)
    assert len(headers["References"]) <= cm.REFERENCES_AT_MOST
    assert headers["References"].split() == long_ids[-len(headers["References"].split()) :]
    assert headers["In-Reply-To"] == long_ids[-1]
    settings = cm.CustomerMail("c", cm.Acknowledge("Got it: {subject} ({title})", "On {title}"))
    ack = cm.acknowledgement(settings, "T-abcd", title, "j@x.example", "s" * 1000, "<m@x>")
    assert ack is not None and len(ack.subject) < 2 * cm.SUBJECT_TITLE_AT_MOST + 40
    assert ack.body == "On " + title
    named = cm.CustomerMail("c", cm.Acknowledge("Thanks {name}: {title}", "Hi {name}"))
    long_name = '"' + "N" * 1200 + '" <j@x.example>'  # (the sender's own display name)
    ack = cm.acknowledgement(named, "T-abcd", "t", long_name, "s", "<m@x>")
    assert ack is not None and len(ack.subject) < cm.SUBJECT_TITLE_AT_MOST + 40
    assert ack.body == "Hi " + "N" * 1200
