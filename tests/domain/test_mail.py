"""What an incoming message means (esc.domain.mail): pure functions, no files."""

from __future__ import annotations

import datetime as dt

import pytest

from esc.domain import mail as mails
from esc.domain.mail import Mail

CET = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CET)


def a_mail(**changes: object) -> Mail:
    values: dict[str, object] = {
        "message_id": "<m1@shop.example>",
        "sender": "Jane Doe <jane@shop.example>",
        "address": "jane@shop.example",
        "recipients": ("help@esc.example",),
        "subject": "Checkout returns 500",
        "date": NOW - dt.timedelta(minutes=20),
        "in_reply_to": (),
        "references": (),
        "text": "Card payments fail",
        "headers": {},
    }
    values.update(changes)
    return Mail(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (NOW - dt.timedelta(days=3), NOW - dt.timedelta(days=3)),  # waited over a weekend
        (NOW - dt.timedelta(days=8), NOW),  # too old to be the truth
        (NOW + dt.timedelta(minutes=4), NOW),  # a fast clock: now
        (NOW + dt.timedelta(hours=2), NOW),  # a wrong clock
        (None, NOW),
        (dt.datetime(2026, 11, 20, 9, 0), NOW),  # no zone: cannot be placed
    ],
)
def test_created_is_a_sane_date_else_now(date: dt.datetime | None, expected: dt.datetime) -> None:
    assert mails.created_at(date, NOW) == expected


@pytest.mark.parametrize(
    ("headers", "address", "why"),
    [
        ({"auto-submitted": "auto-replied"}, "jane@shop.example", "Auto-Submitted: auto-replied"),
        ({"precedence": "Bulk"}, "jane@shop.example", "Precedence: bulk"),
        ({"precedence": "auto_reply"}, "jane@shop.example", "Precedence: auto_reply"),
        ({"x-autoreply": "yes"}, "jane@shop.example", "x-autoreply: yes"),
        ({}, "mailer-daemon@mx.example", "from mailer-daemon@mx.example"),
        ({"content-type": "multipart/report; report-type=delivery-status"}, "a@b.c",
         "a delivery report"),
        ({"auto-submitted": "no"}, "jane@shop.example", None),
        ({"x-autoreply": "no"}, "jane@shop.example", None),  # (was dropped as an auto-reply)
        ({"x-autorespond": "No (a person)"}, "jane@shop.example", None),
        ({"precedence": "first-class"}, "jane@shop.example", None),
        # (comments, and X-Precedence: a person's mail was dropped as an auto-reply, and a
        # newsletter's `Bulk (newsletter)` taken)
        ({"auto-submitted": "no (sent by a person)"}, "jane@shop.example", None),
        ({"auto-submitted": "auto-replied (vacation)"}, "jane@shop.example",
         "Auto-Submitted: auto-replied"),
        ({"precedence": "Bulk (newsletter)"}, "jane@shop.example", "Precedence: bulk"),
        ({"x-precedence": "auto_reply"}, "jane@shop.example", "Precedence: auto_reply"),
        # (esc's own notification, mailed to the helpdesk's address: made a customer's
        # ticket, and acknowledged, by the next intake)
        ({"x-esc-event": "T-1/breach/ab12"}, "help@esc.example",
         "sent by esc (a notification, event T-1/breach/ab12)"),
    ],
)  # fmt: skip
def test_automatic_mail_is_recognised(
    headers: dict[str, str], address: str, why: str | None
) -> None:
    assert mails.automatic(a_mail(headers=headers, address=address)) == why


def test_deny_wins_and_an_allow_list_excludes_the_rest() -> None:
    assert mails.sender_allowed("jane@shop.example", (), ()) is None
    assert mails.sender_allowed("jane@shop.example", ("*@SHOP.example",), ()) is None
    assert mails.sender_allowed("x@spam.example", ("*@shop.example",), ()) == (
        "sender x@spam.example is not allowed"
    )
    assert mails.sender_allowed("jane@shop.example", ("*@shop.example",), ("jane@*",)) == (
        "sender jane@shop.example is denied (jane@*)"
    )


def test_threading_by_references_then_by_the_subject() -> None:
    recorded = {"<m1@shop.example>": "T-aaaa1111"}
    known = ["T-aaaa1111", "T-bbbb2222"]
    reply = a_mail(references=("<other@x>", "<m1@shop.example>"), subject="Re: hi")
    assert mails.thread(reply, recorded, known) == "T-aaaa1111"
    by_subject = a_mail(subject="Re: [t-BBBB2222] Checkout")
    assert mails.thread(by_subject, recorded, known) == "T-bbbb2222"
    unknown = a_mail(subject="Re: [T-cccc3333] Checkout")
    assert mails.thread(unknown, recorded, known) is None
    assert mails.thread(a_mail(), recorded, known) is None
    # (a tag of an earlier id_prefix: that ticket, as `esc show HELP-…` finds it)
    older = a_mail(subject="Re: [ HELP-dddd4444 ] [T-Mobile] contract")
    assert mails.thread(older, recorded, [*known, "HELP-dddd4444"]) == "HELP-dddd4444"


def test_in_reply_to_comes_first_then_references_from_the_newest() -> None:
    """A reply naming both a closed ticket's first message and its follow-up's newer one
    continues the follow-up (the oldest recorded reference was taken)."""
    recorded = {"<m1@shop.example>": "T-closed11", "<r1@shop.example>": "T-follow22"}
    known = ["T-closed11", "T-follow22"]
    # In-Reply-To names esc's acknowledgement, which no ticket records
    reply = a_mail(
        in_reply_to=("<ack@esc.example>",),
        references=("<m1@shop.example>", "<r1@shop.example>", "<ack@esc.example>"),
    )
    assert mails.thread(reply, recorded, known) == "T-follow22"
    answered = a_mail(
        in_reply_to=("<m1@shop.example>",), references=("<m1@shop.example>", "<r1@shop.example>")
    )
    assert mails.thread(answered, recorded, known) == "T-closed11"


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Re: [T-c5xr0qyf] HTML only", "HTML only"),
        ("AW: WG: re:Fwd:  FW: Checkout [t-C5XR0QYF]", "Checkout"),
        ("RE: [T-c5xr0qyf] Re: Checkout [T-other111]", "Checkout [T-other111]"),
        ("Re: Refund Re: request", "Refund Re: request"),  # (only leading prefixes)
        ("Re: [T-c5xr0qyf]", "Re: [T-c5xr0qyf]"),  # (nothing would be left)
        ("Regarding the invoice", "Regarding the invoice"),
        # (other languages' and clients' prefixes: Nordic, Dutch, French, Spanish, Italian,
        # Polish, Chinese, counted ones, and a gateway's tag)
        ("SV: [T-c5xr0qyf] Printer broken", "Printer broken"),
        ("Antw: Printer broken", "Printer broken"),
        ("TR : RV: R: Odp: Printer broken", "Printer broken"),
        ("\u7b54\u590d: \u56de\u590d\uff1aPrinter broken", "Printer broken"),
        ("Re[2]: Re(3): Printer broken", "Printer broken"),
        ("[EXTERNAL] RE: [T-c5xr0qyf] Printer broken", "Printer broken"),
        ("Rebooted: the server", "Rebooted: the server"),
    ],
)
def test_a_follow_up_title_drops_reply_prefixes_and_the_old_id(subject: str, title: str) -> None:
    intake = mails.intake_for(a_mail(subject=subject), follows="T-c5xr0qyf")
    assert intake.title == title
    assert mails.intake_for(a_mail(subject=subject)).title == " ".join(subject.split())


@pytest.mark.parametrize("subject", ["Re: [T-c5xr0qyf]", "[T-c5xr0qyf]", "AW: Re: [t-c5xr0qyf] "])
def test_a_follow_up_of_a_subject_that_is_only_the_tag_takes_the_old_title(subject: str) -> None:
    """A reply whose subject was nothing but `Re: [T-…]` made a follow-up titled so."""
    intake = mails.intake_for(a_mail(subject=subject), follows="T-c5xr0qyf", earlier="Printer")
    assert intake.title == "Printer"
    # (a chain: the reply names the first ticket, whose closed follow-up it follows)
    chained = mails.intake_for(
        a_mail(subject=subject), follows="T-follow22", earlier="Printer", tags=("T-c5xr0qyf",)
    )
    assert chained.title == "Printer"


def test_a_new_ticket_records_where_the_mail_came_from() -> None:
    intake = mails.intake_for(
        a_mail(subject="  Checkout\n returns 500 "), ["attachments/T-x/a.png"], "T-old"
    )
    assert intake.title == "Checkout returns 500"
    assert intake.customer == "Jane Doe <jane@shop.example>"
    assert intake.channel == "email"
    assert intake.extra == {
        "to": ["help@esc.example"],
        "message_ids": ["<m1@shop.example>"],
        "follows": "T-old",
        "attachments": ["attachments/T-x/a.png"],
    }
    assert mails.intake_for(a_mail(subject="")).title == "(no subject) from jane@shop.example"


@pytest.mark.parametrize(
    ("pattern", "glob"),
    [("@shop.example", "*@shop.example"), ("shop.example", "*@shop.example"),
     ("*@shop.example", "*@shop.example"), ("Jane@Shop.example", "Jane@Shop.example")],
)  # fmt: skip
def test_a_domain_given_to_allow_or_deny_means_every_address_at_it(
    pattern: str, glob: str
) -> None:
    """`--deny '@shop.example'` let jane@shop.example through and `--allow shop.example`
    turned every sender away, both silently: a domain means every address at it."""
    assert mails.sender_pattern(pattern, "--deny") == glob
    assert mails.sender_allowed("jane@shop.example", (), (glob,)) is not None


@pytest.mark.parametrize("pattern", ["", "  ", "jane"])
def test_a_pattern_that_can_match_no_sender_is_refused(pattern: str) -> None:
    from esc.domain.errors import BadInput

    with pytest.raises(BadInput, match=f"--allow {pattern!r} matches no sender"):
        mails.sender_pattern(pattern, "--allow")


@pytest.mark.parametrize("subject", ["\u200b", " \ufeff\u200d ", "\u2060\u00ad"])
def test_a_subject_that_shows_nothing_is_no_subject(subject: str) -> None:
    """A subject of a zero-width space alone made an invisible title."""
    assert mails.intake_for(a_mail(subject=subject)).title == (
        "(no subject) from jane@shop.example"
    )


@pytest.mark.parametrize(
    ("pattern", "glob"), [(".shop.example", "*@*.shop.example"), ("*@*.example", "*@*.example")]
)
def test_a_leading_dot_is_every_subdomain(pattern: str, glob: str) -> None:
    assert mails.sender_pattern(pattern, "--deny") == glob
    assert mails.sender_pattern('"a@b"@c.example', "--deny") == '"a@b"@c.example'


@pytest.mark.parametrize("pattern", ["@", "x@", "@ ", "a@b@c.example"])
def test_an_address_with_no_local_part_or_domain_matches_no_sender(pattern: str) -> None:
    from esc.domain.errors import BadInput

    with pytest.raises(BadInput, match="matches no sender"):
        mails.sender_pattern(pattern, "--deny")


@pytest.mark.parametrize(
    ("subject", "forwards"),
    [("Fwd: invoice", True), ("FW: invoice", True), ("WG: Rechnung", True),
     ("Re: Fwd: invoice", False), ("RE: FW: invoice", False), ("AW: WG: Rechnung", False),
     ("Re: invoice", False)],
)  # fmt: skip
def test_a_reply_to_a_forward_is_a_reply(subject: str, forwards: bool) -> None:
    """`Re: Fwd: …` was taken for a forward, and the reply kept the whole quoted history."""
    assert mails.forwarded(subject) is forwards
