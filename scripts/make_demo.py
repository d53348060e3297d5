#!/usr/bin/env python3
"""Build the demo helpdesk of Brightcart, a small e-commerce SaaS, in DIR/tickets/.

    python scripts/make_demo.py [DIR]        # DIR defaults to the repository root

Every ticket is made by running the installed `esc` command, exactly as a person would,
so each file is in esc's own format:

    ESC_USER=<who> esc --root DIR --now <time> <command> ...

The tickets are written down below as STORIES: each story is one ticket, a list of steps
``at(time, who, action)``.  Times are wall-clock times in Berlin (Europe/Berlin: +02:00
until the clocks go back on 25 October 2026, +01:00 after).  All steps of all stories are
replayed in time order, so a story can mention another ticket's ID as ``<<story-name>>``
once that ticket exists.

Tickets that arrive by e-mail, the merchant portal or the API are created by the
integrations ("mailbot", "portal", "monitoring"); chat and phone tickets by the agent who
took them.  Everyone else is a person from teams.yaml.

The script first deletes DIR/tickets/*.md (it is a generator: it asks nothing), and ends by
running `esc validate` and printing a summary.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
REPO = Path(__file__).resolve().parent.parent
FIRST_DAY, LAST_DAY = dt.date(2026, 10, 19), dt.date(2026, 11, 26)

# Integrations that create tickets on their own.
MAILBOT, PORTAL, MONITORING = "mailbot", "portal", "monitoring"


# ---------------------------------------------------------------- the actions


@dataclass(frozen=True)
class Action:
    """One esc command, without the ticket ID (the replay puts it in)."""

    command: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    when: str  # "YYYY-MM-DD HH:MM", Berlin wall-clock time
    who: str  # ESC_USER for this command
    action: Action


@dataclass(frozen=True)
class Story:
    name: str
    steps: tuple[Step, ...]


def text(value: str) -> str:
    """A message as written in the stories below: dedented, without outer blank lines."""
    return textwrap.dedent(value).strip("\n")


def at(when: str, who: str, action: Action) -> Step:
    return Step(when, who, action)


def story(name: str, *steps: Step) -> Story:
    return Story(name, steps)


def create(
    title: str,
    body: str,
    *,
    customer: str,
    channel: str,
    category: str | None = None,
    priority: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    tags: tuple[str, ...] = (),
) -> Action:
    options = [f"--title={title}", f"--body={text(body)}", f"--customer={customer}"]
    options.append(f"--channel={channel}")
    for name, value in (
        ("category", category),
        ("priority", priority),
        ("impact", impact),
        ("urgency", urgency),
    ):
        if value is not None:
            options.append(f"--{name}={value}")
    options += [f"--tag={t}" for t in tags]
    return Action("create", tuple(options))


def assign(person: str) -> Action:
    return Action("assign", (person,))


def reply(message: str) -> Action:
    """A public reply from the agent to the customer."""
    return Action("comment", (f"--message={text(message)}",))


def note(message: str) -> Action:
    """An internal note: between agents and teams, never shown to the customer."""
    return Action("comment", ("--internal", f"--message={text(message)}"))


def customer(message: str) -> Action:
    """A message from the customer."""
    return Action("comment", ("--from-customer", f"--message={text(message)}"))


def wait(reason: str) -> Action:
    return Action("wait", (f"--reason={reason}",))


def resume() -> Action:
    return Action("resume")


def escalate_to(team: str, reason: str) -> Action:
    """Functional escalation: to a specialist team."""
    return Action("escalate", (f"--to={team}", f"--reason={reason}"))


def escalate_up(reason: str) -> Action:
    """Hierarchical escalation: to the next team up the chain in teams.yaml."""
    return Action("escalate", ("--up", f"--reason={reason}"))


def escalate_priority(priority: str, reason: str) -> Action:
    return Action("escalate", (f"--priority={priority}", f"--reason={reason}"))


def classify(**fields: str) -> Action:
    return Action("classify", tuple(f"--{k}={v}" for k, v in fields.items()))


def tag(*tags: str) -> Action:
    return Action("tag", tags)


def resolve(resolution: str, kb: str | None = None) -> Action:
    """Resolve; ``kb``: the knowledge-base article (in kb/, written by hand) that solved it."""
    return Action("resolve", (f"--resolution={text(resolution)}", *([f"--kb={kb}"] if kb else [])))


def close(csat: int | None = None, feedback: str | None = None) -> Action:
    options = [] if csat is None else [f"--csat={csat}"]
    if feedback:
        options.append(f"--feedback={feedback}")
    return Action("close", tuple(options))


def reopen(reason: str) -> Action:
    return Action("reopen", (f"--reason={reason}",))


# Commands that take --by (comment does not: it uses ESC_USER).
TAKES_BY = {
    "create", "assign", "wait", "resume", "escalate", "classify", "tag", "resolve", "close",
    "reopen",
}


# ---------------------------------------------------------------- the stories
#
# Brightcart's people (teams.yaml):
#   support (level 1):      sofia (lead), maya, jonas, priya, lukas
#   engineering (level 2):  nadia (lead), tomas, aylin, ben
#   sre (level 2):          hannah (lead), oskar, wei
#   management (level 3):   clara (Head of Customer Operations, lead), daniel (CTO)

STORIES: list[Story] = [
    # ------------------------------------------------------------ October: closed history
    story(
        "vat-id",  # billing question, solved at first contact
        at("2026-10-19 08:47", MAILBOT, create(
            "Invoice shows our old VAT ID",
            """
            Hi,

            our October invoice (BC-INV-2026-10-0412) still shows our old VAT ID DE281734551.
            We became a GmbH in August and the new one is DE314902877. Our tax advisor needs a
            corrected invoice before the 10th.

            Thanks,
            Lena Vogt
            Nordkaffee Rösterei
            """,
            customer="lena.vogt@nordkaffee.de", channel="email", category="billing")),
        at("2026-10-19 09:05", "maya", assign("maya")),
        at("2026-10-19 09:16", "maya", reply("""
            Hi Lena,

            invoices take the VAT ID from **Settings → Billing → Tax details**, which still had
            the old number. I've changed it to `DE314902877` and re-issued the invoice as
            BC-INV-2026-10-0412-R1. You'll find it under **Billing → Invoices**, and it is on
            its way to your billing e-mail address too.

            Future invoices will use the new ID automatically.

            Best,
            Maya
            """)),
        at("2026-10-19 09:17", "maya", resolve(
            "Updated the VAT ID in the billing profile and re-issued the October invoice as "
            "BC-INV-2026-10-0412-R1.", kb="KB-0005")),
        at("2026-10-21 09:00", "maya", close(5, "Super quick, thank you Maya!")),
    ),
    story(
        "free-shipping",  # how-to in chat, first contact
        at("2026-10-20 11:02", "jonas", create(
            "How do I offer free shipping above £50?",
            """
            Chat with Tom (Urban Pedals): wants free UK shipping on orders over £50 and £4.95
            below that. Can only find flat rates in the shipping settings.
            """,
            customer="tom@urbanpedals.co.uk", channel="chat", category="how-to",
            priority="low")),
        at("2026-10-20 11:03", "jonas", assign("jonas")),
        at("2026-10-20 11:06", "jonas", reply("""
            Hi Tom! You can do that with a shipping rule:

            1. Go to **Settings → Shipping → United Kingdom**.
            2. Keep your flat rate of £4.95.
            3. Click **Add rule → Free above order value** and enter `50.00`.
            4. Save. It applies to new checkouts straight away.

            Note that the threshold is checked after discounts: a £55 order with a £10 code
            still pays shipping.
            """)),
        at("2026-10-20 11:09", "jonas", customer("Perfect, got it working. Cheers!")),
        at("2026-10-20 11:10", "jonas", resolve(
            "Explained shipping rules: a 'Free above order value' rule of £50 on the UK zone.",
            kb="KB-0004")),
        at("2026-10-22 09:00", "jonas", close(
            5, "Fast answer in the chat, exactly what I needed.")),
    ),
    story(
        "reset-token",  # login failure, first contact
        at("2026-10-21 08:37", PORTAL, create(
            "Can't log in: password reset link says 'invalid or expired'",
            """
            I requested a password reset three times this morning. Every link says "This link
            is invalid or has expired", even when I click it within a minute. I'm locked out of
            the admin and need to ship today's orders.
            """,
            customer="sam.okafor@tinyleafplants.com", channel="portal", category="account")),
        at("2026-10-21 09:06", "priya", assign("priya")),
        at("2026-10-21 09:14", "priya", reply("""
            Hi Sam,

            sorry about that! A reset link works only once, and some mail filters (Microsoft
            Defender *Safe Links*, Mimecast) open every link to scan it, which uses it up before
            you get to click.

            Which e-mail provider do you use? I've sent you a fresh link just now: please copy
            it into the browser's address bar instead of clicking it in the e-mail.
            """)),
        at("2026-10-21 09:31", "priya", customer("""
            We're on Microsoft 365, so that sounds right. Copy and paste worked, I'm back in.
            Is there a way to stop this from happening next time?
            """)),
        at("2026-10-21 09:40", "priya", resolve("""
            The reset links were used up by Microsoft 365 Safe Links scanning them. Copying the
            link into the browser works. To prevent it, your IT admin can add `*.brightcart.io`
            to the Safe Links "do not rewrite" list; turning on two-factor login also means
            you'll need resets less often.
            """, kb="KB-0006")),
        at("2026-10-23 10:15", "priya", close(
            4, "Solved quickly. It would be nice if the reset page explained this.")),
    ),
    story(
        "double-charge",  # refund dispute: support -> engineering -> management
        at("2026-10-22 09:41", MAILBOT, create(
            "Annual plan charged twice: refund and compensation requested",
            """
            Dear Brightcart team,

            on 20 October our company card was charged **twice** for the annual Growth plan
            (2 × EUR 1,188.00). Please refund the duplicate immediately.

            We will also claim the costs this has caused us; details will follow.

            Regards,
            Jana Hoffmann
            Finance, KitchenKraft GmbH
            """,
            customer="finance@kitchenkraft.de", channel="email", category="refund",
            tags=("vip",))),
        at("2026-10-22 10:02", "lukas", assign("lukas")),
        at("2026-10-22 10:09", "lukas", reply("""
            Dear Ms Hoffmann,

            thank you for the details, and I'm sorry for the trouble. I can see both payments on
            your account and I'm finding out with our payments engineers how this happened.
            You'll hear from us today.

            Kind regards,
            Lukas
            """)),
        at("2026-10-22 10:36", "lukas", note("""
            Stripe shows two successful payments 4 s apart for the same renewal, with different
            idempotency keys. I can refund the duplicate myself, but she is already talking about
            claiming costs and I can't tell whether this was us or a double submit on their side.
            Sending it up for a root cause before we commit to anything.
            """)),
        at("2026-10-22 10:38", "lukas", escalate_up(
            "Need the root cause of the duplicate charge before we commit to a refund and "
            "compensation")),
        at("2026-10-22 11:15", "nadia", assign("tomas")),
        at("2026-10-22 12:50", "tomas", note("""
            Root cause: the renewal worker timed out waiting for Stripe (latency spike at 04:12)
            and the retry created a *new* payment instead of re-using the first one.
            Fix: BC-2291 (retry re-uses the idempotency key). Three other accounts were hit,
            none of them VIP; support is contacting them.

            Duplicate refunded in Stripe just now.
            """)),
        at("2026-10-22 12:58", "lukas", reply("""
            Dear Ms Hoffmann,

            we have confirmed that the second charge was caused by a fault on our side: a retry
            in our billing system. The duplicate EUR 1,188.00 was refunded today; depending on
            your bank it will show within 5-10 business days. The fault is fixed, so it cannot
            happen again.

            Again, our apologies.
            Lukas
            """)),
        at("2026-10-22 14:05", "lukas", customer("""
            Thank you for the quick refund. However, the duplicate charge pushed our company card
            over its limit and two supplier payments bounced. Our bank charged us EUR 85.00 in
            fees (statement attached). As a precaution we have also asked our bank to open a
            chargeback.

            We expect the fees to be covered, and given the disruption a goodwill gesture would
            be appropriate.
            """)),
        at("2026-10-22 14:20", "sofia", escalate_priority(
            "high", "VIP account with an open chargeback; needs a decision within the bank's "
            "7-day deadline")),
        at("2026-10-22 14:31", "tomas", escalate_up(
            "Bank fees and a goodwill credit are beyond what support or engineering may grant")),
        at("2026-10-23 09:12", "clara", assign("clara")),
        at("2026-10-23 09:30", "clara", note("""
            Decision:

            - reimburse the EUR 85.00 bank fees by transfer (finance pays out Monday);
            - credit 2 months of Growth (EUR 198.00) as goodwill.

            Same for the 3 other affected accounts: bank fees on proof plus 1 month credit.
            Lukas, please watch for the chargeback being withdrawn.
            """)),
        at("2026-10-23 09:44", "clara", reply("""
            Dear Ms Hoffmann,

            I'm Clara Lindqvist, Head of Customer Operations at Brightcart. Please accept my
            apology: the duplicate charge was entirely our fault. We will

            - reimburse the EUR 85.00 bank fees by transfer to your account within 3 business
              days, and
            - credit two months of the Growth plan (EUR 198.00) to your Brightcart account as a
              goodwill gesture.

            As the duplicate has already been refunded, may I ask you to withdraw the chargeback
            with your bank?

            Kind regards,
            Clara Lindqvist
            """)),
        at("2026-10-26 10:05", "clara", customer("""
            Dear Ms Lindqvist, thank you, that is fair. The fees have arrived and we have
            withdrawn the chargeback.

            Regards, Jana Hoffmann
            """)),
        at("2026-10-26 10:30", "clara", resolve("""
            Duplicate EUR 1,188.00 refunded (22 Oct), EUR 85.00 bank fees reimbursed and two
            months of Growth credited; the customer withdrew the chargeback. Root cause fixed in
            BC-2291.
            """)),
        at("2026-10-29 09:00", "lukas", close(
            4, "It took a few days and an escalation, but the outcome was fair and Ms Lindqvist "
            "was very clear.")),
    ),
    story(
        "ssl-renewal",  # bug straight to engineering; waited on the customer; unhappy
        at("2026-10-26 07:12", MAILBOT, create(
            "Browsers say our shop is 'Not secure'",
            """
            Since this morning Chrome shows "Your connection is not private" on
            www.saltandsage.co. The brightcart.io address of the shop works. Customers are
            e-mailing us asking if we've been hacked!
            """,
            customer="hello@saltandsage.co", channel="email", category="bug")),
        at("2026-10-26 08:40", "nadia", assign("ben")),
        at("2026-10-26 09:05", "ben", reply("""
            Hi, thanks for the report. The certificate for www.saltandsage.co expired last night
            because our automatic renewal failed. I'm finding out why and will renew it by hand
            in the meantime.
            """)),
        at("2026-10-26 09:40", "ben", note("""
            Let's Encrypt HTTP-01 challenge fails: their DNS still has an AAAA record pointing to
            the old host and LE tries IPv6 first. Manual renewal fails for the same reason.
            They need to delete the AAAA record (DNS-01 would need DNS access too).
            """)),
        at("2026-10-26 09:48", "ben", reply("""
            Found it: your domain still has an IPv6 (`AAAA`) record pointing to your old hosting
            provider, and the certificate authority checks that address first. Could you delete
            the AAAA record for www.saltandsage.co at your DNS provider? The certificate will be
            renewed within the hour after that.
            """)),
        at("2026-10-26 09:49", "ben", wait("Customer must delete the stale AAAA record")),
        at("2026-10-27 10:10", "ben", note(
            "Still expired this morning. Their DNS is run by their old agency (Pixelwerk); I "
            "called Pixelwerk and left a message. Taking this off hold while we chase them.")),
        at("2026-10-27 10:11", "ben", resume()),
        at("2026-10-27 16:20", "ben", customer("""
            We don't have access to the DNS, our old agency manages it and they haven't answered
            yet. The warning is still there. We're losing sales, can't you do something?
            """)),
        at("2026-10-27 16:45", "sofia", escalate_priority(
            "high", "Shop has shown a certificate warning for two days; customer losing sales")),
        at("2026-10-27 17:02", "ben", reply("""
            I'm sorry, without a change to your DNS no certificate authority will issue a
            certificate for the domain. If it helps, I can write the exact change down for your
            agency: "Delete the AAAA record of www.saltandsage.co; leave the CNAME to
            shops.brightcart.io as it is."
            """)),
        at("2026-10-28 09:58", "ben", customer("The agency says the record is deleted now.")),
        at("2026-10-28 10:40", "ben", resolve("""
            Certificate for www.saltandsage.co renewed (valid until 26 January 2027) after the
            stale AAAA record was removed. From now on we e-mail shop owners 14 days before a
            renewal would fail (BC-2302).
            """)),
        at("2026-10-30 09:00", "ben", close(
            2, "Three days with a security warning on our shop. The fix was simple in the end; "
            "I wish you had warned us before the certificate expired.")),
    ),
    # ------------------------------------------------------------ early November
    story(
        "cancel-account",  # phone, first contact
        at("2026-11-02 14:25", "lukas", create(
            "Close our account and delete the shop data",
            """
            Mia (Paws & Purr) called: she is closing the shop at the end of November because she
            is retiring. She wants the subscription cancelled and all shop data deleted
            afterwards, and a final export of her orders first.
            """,
            customer="mia@pawsandpurr.shop", channel="phone", category="account",
            priority="low")),
        at("2026-11-02 14:26", "lukas", assign("lukas")),
        at("2026-11-02 14:40", "lukas", reply("""
            Hi Mia,

            as we discussed on the phone:

            1. Your subscription ends on 30 November; you won't be charged again.
            2. Before then, download your data under **Reports → Export → Full shop export**
               (orders, customers and products as CSV files).
            3. 30 days after the shop closes we delete all shop data for good and send you a
               confirmation e-mail.

            All the best for your retirement!
            Lukas
            """)),
        at("2026-11-02 14:41", "lukas", resolve(
            "Subscription cancelled as of 2026-11-30, data deletion scheduled for 2026-12-30; "
            "told the customer how to export everything first.")),
        at("2026-11-04 09:00", "lukas", close(
            3, "Friendly on the phone, but odd that I had to call to cancel. There should be a "
            "button for that.")),
    ),
    story(
        "addon-refund",  # refund, first contact
        at("2026-11-04 10:18", "maya", create(
            "Refund for the Abandoned Cart add-on we never used",
            """
            Anna (Linen & Loom) in the chat: they switched on the "Abandoned cart e-mails" add-on
            by mistake at the end of their trial and were charged €19.00 for November. They
            never set it up and would like the money back.
            """,
            customer="anna@linenandloom.nl", channel="chat", category="refund")),
        at("2026-11-04 10:19", "maya", assign("maya")),
        at("2026-11-04 10:24", "maya", reply("""
            Hi Anna, I checked: the add-on was switched on on 1 November and hasn't sent a single
            e-mail. I've switched it off and refunded the €19.00 to your card; it will show in
            3-5 business days. Anything else I can do for you?
            """)),
        at("2026-11-04 10:26", "maya", customer("No, that's all. Thank you!")),
        at("2026-11-04 10:27", "maya", resolve(
            "Add-on switched off and €19.00 refunded (unused, within 14 days).", kb="KB-0001")),
        at("2026-11-06 09:00", "maya", close(5, "Easy and fast, thanks!")),
    ),
    story(
        "discount-twice",  # a regression, reported on a Sunday night
        at("2026-11-08 21:47", PORTAL, create(
            "Discount code applied twice on mobile checkout",
            """
            When a customer enters a code on the phone (iPhone, Safari) and taps **Apply**
            twice, the discount is taken off twice. WELCOME10 gave 20% off on 6 orders this
            weekend, about €400 in total.

            This already happened in September and you told us it was fixed!
            """,
            customer="shop@retroreels.fr", channel="portal", category="bug")),
        at("2026-11-09 09:20", "nadia", assign("tomas")),
        at("2026-11-09 09:50", "tomas", note("""
            Reproduced on iOS 18 Safari: a double tap sends two `POST /cart/discount` requests.
            The server-side "code already applied" check got lost in the cart refactor (v3.38).
            Regression of BC-2104.
            """)),
        at("2026-11-09 09:51", "tomas", tag("regression")),
        at("2026-11-09 10:05", "tomas", reply("""
            Hello, thank you for the detailed report. You're right: this is the bug we fixed in
            September, and it came back with a later update. I'm sorry.

            The fix is being tested and goes live tomorrow morning. Until then you can limit
            WELCOME10 to one use per customer under **Marketing → Codes → Usage limits**, which
            stops the double discount.
            """)),
        at("2026-11-10 08:30", "tomas", resolve(
            "Fixed in v3.41.1: the server rejects a code that is already applied to the cart. "
            "Added a regression test for double submits.")),
        at("2026-11-12 09:00", "tomas", close(
            1, "Same bug twice in two months, and nobody offered to cover the €400 of discounts "
            "we gave away.")),
    ),
    # ------------------------------------------------------------ 12 November: checkout outage
    story(
        "checkout-alert",  # monitoring alert, routed straight to SRE by rules.yaml
        at("2026-11-12 14:04", MONITORING, create(
            "Synthetic check failing: POST /checkout/pay returns 502",
            """
            Alert **CheckoutPaySynthetic** firing since 14:03:40 CET.

            - region: eu-central
            - success rate (5 min): 12 %
            - error: `502 Bad Gateway` from payments-gateway

            Runbook: https://runbooks.brightcart.internal/checkout-pay
            """,
            customer="alerts@brightcart.io", channel="api", impact="high", urgency="high")),
        at("2026-11-12 14:06", "oskar", assign("oskar")),
        at("2026-11-12 14:09", "oskar", note("""
            Ack. payments-gateway pods are crash-looping (OOMKilled) since the v3.41.0 deploy at
            14:02. Rolling back.
            """)),
        at("2026-11-12 14:29", "oskar", note(
            "Rollback to v3.40.2 complete, synthetic check green since 14:29. The customer side "
            "is tracked in <<checkout-outage>>.")),
        at("2026-11-12 14:45", "oskar", classify(category="outage")),
        at("2026-11-12 14:46", "oskar", resolve(
            "Rolled payments-gateway back to v3.40.2; alert cleared at 14:29. Follow-up in "
            "<<checkout-outage>>.")),
    ),
    story(
        "checkout-outage",  # support -> sre -> engineering, urgent, customer updates
        at("2026-11-12 14:07", "maya", create(
            "Checkout broken: customers get 'Payment could not be processed'",
            """
            Chat from Hopfenkiste: for a few minutes now **no** customer can pay in their shop
            (hopfenkiste.de). Every card payment ends with "Payment could not be processed.
            Please try again."; PayPal too. They are running a newsletter promotion right now.
            """,
            customer="ops@hopfenkiste.de", channel="chat", impact="medium", urgency="high")),
        at("2026-11-12 14:08", "maya", assign("maya")),
        at("2026-11-12 14:10", "maya", reply("""
            Hi, thanks for telling us so quickly. I can reproduce it on your shop and I'm checking
            right now whether other shops are affected. I'll update you within 15 minutes.
            """)),
        at("2026-11-12 14:12", "maya", escalate_priority(
            "urgent", "Three more shops report the same error within 5 minutes: platform-wide")),
        at("2026-11-12 14:13", "maya", escalate_to(
            "sre", "Payment step fails with 502 for several shops: not a shop setting, needs "
            "on-call")),
        at("2026-11-12 14:13", "maya", tag("incident", "checkout")),
        at("2026-11-12 14:14", "maya", note("""
            @sre this looks like the synthetic alert in <<checkout-alert>>. I'll keep the shops
            updated from here; please note anything I can tell them. Duplicates so far:
            Pasta Prima (phone), plus 2 chats I answered directly.
            """)),
        at("2026-11-12 14:15", "hannah", assign("hannah")),
        at("2026-11-12 14:16", "hannah", classify(category="outage")),
        at("2026-11-12 14:18", "hannah", note("""
            Incident INC-2026-031 open, I'm incident lead. Oskar is rolling back payments-gateway
            v3.41.0 (OOMKilled since 14:02). Status page set to *Major outage: Checkout*.
            Rollback ETA 15 min. Customers can be told: nobody was charged for failed attempts.
            """)),
        at("2026-11-12 14:20", "maya", reply("""
            Update 14:20: this affects all shops on Brightcart, not just yours. Our on-call
            engineers have found the cause, a faulty update of our payment service at 14:02, and
            are rolling it back now. We expect checkout to work again within 15 minutes. Live
            updates: https://status.brightcart.io
            """)),
        at("2026-11-12 14:31", "hannah", note("""
            Rollback complete, error rate back to baseline since 14:29. Root cause: the new
            fraud-score client loads its model on every request, so memory explodes under load.
            v3.41 needs a code fix before it can ship again.
            """)),
        at("2026-11-12 14:34", "maya", reply("""
            Update 14:34: checkout works again since 14:29.

            Payments attempted between 14:02 and 14:29 were **not charged**, so none of your
            customers paid twice. We can send you the list of checkouts that failed in that time
            so you can follow up with those customers.
            """)),
        at("2026-11-12 14:52", "maya", customer("""
            Confirmed, orders are coming in again. Yes please, send the list: we had maybe 30
            people trying during the promotion.
            """)),
        at("2026-11-12 15:05", "hannah", escalate_to(
            "engineering", "Rollback holds; the code fix in the fraud-score client and the list "
            "of failed checkouts need engineering")),
        at("2026-11-12 15:10", "nadia", assign("aylin")),
        at("2026-11-12 16:42", "aylin", note("""
            Fix merged: BC-2317 (load the fraud model once per process, plus a memory test under
            load). Failed checkout sessions 14:02-14:29: 27 for hopfenkiste.de, exported to their
            Reports.
            """)),
        at("2026-11-12 16:50", "aylin", reply("""
            Hello, the 27 checkouts that failed between 14:02 and 14:29 are in your admin under
            **Reports → Abandoned checkouts → 12 Nov, 14:00-14:30**, with the customers' e-mail
            addresses where they had entered them.

            The faulty update has been fixed and will only be rolled out again after extra load
            testing.
            """)),
        at("2026-11-13 10:15", "hannah", resolve("""
            Checkout restored at 14:29 by rolling back payments-gateway v3.41.0; fix BC-2317
            merged; the shop's failed checkouts exported. Post-mortem:
            https://status.brightcart.io/incidents/2026-11-12-checkout
            """)),
        at("2026-11-16 09:30", "maya", close(
            3, "You fixed it fast, but we learned about it from our own customers. An e-mail "
            "from you during outages would help.")),
    ),
    story(
        "outage-duplicate",  # a duplicate of the outage, answered at first level
        at("2026-11-12 14:11", "jonas", create(
            "All payments fail at checkout",
            """
            Carlo (Pasta Prima) called: every payment in his shop fails since about 14:05 with
            "Payment could not be processed". He asks whether his Stripe account has been
            blocked.
            """,
            customer="carlo@pastaprima.it", channel="phone", priority="high")),
        at("2026-11-12 14:12", "jonas", assign("jonas")),
        at("2026-11-12 14:15", "jonas", note("Same as <<checkout-outage>> (with SRE now).")),
        at("2026-11-12 14:16", "jonas", reply("""
            Hi Carlo, as I said on the phone: your Stripe account is fine. This is an outage on
            our side that affects all shops, and our engineers are working on it. You can follow
            it on https://status.brightcart.io and I'll write here as soon as it works again.
            """)),
        at("2026-11-12 14:36", "jonas", reply(
            "Good news: checkout works again since 14:29. Payments that failed in between were "
            "not charged.")),
        at("2026-11-12 14:37", "jonas", resolve(
            "Platform-wide checkout outage 14:02-14:29, handled in <<checkout-outage>>; "
            "customer informed that it works again.", kb="KB-0011")),
    ),
    # ------------------------------------------------------------ the last two weeks: the backlog
    story(
        "invoice-pdf",  # resolved too early, reopened, escalated to engineering
        at("2026-11-16 10:05", MAILBOT, create(
            "Invoice PDF download gives a 404",
            """
            Hello,

            when I click "Download PDF" for our October invoice I get a 404 page. The September
            invoice downloads fine.

            Greetings from the accounts department,
            Petra Brandt, Grüne Gabel
            """,
            customer="buchhaltung@gruenegabel.de", channel="email", category="billing")),
        at("2026-11-16 10:30", "lukas", assign("lukas")),
        at("2026-11-16 10:48", "lukas", reply("""
            Hello Ms Brandt, thank you. I've regenerated the PDF of your October invoice
            (BC-INV-2026-10-0388) and the download works for me now. Could you try again?
            """)),
        at("2026-11-16 10:49", "lukas", resolve("Regenerated the missing October invoice PDF.")),
        at("2026-11-23 09:12", "lukas", note("""
            Ms Brandt called: October works now, but the November invoice issued this morning
            gives a 404 again. Checked: ~40 invoices from today have no PDF, all of them with a
            credit line (refund or goodwill credit). Not a one-off.
            """)),
        at("2026-11-23 09:14", "lukas", reopen(
            "November invoice has no PDF either; regenerating by hand only hid the problem")),
        at("2026-11-23 09:20", "lukas", escalate_to(
            "engineering", "Invoice PDFs are not generated for invoices with a credit line; "
            "about 40 accounts today")),
        at("2026-11-23 09:21", "lukas", classify(category="bug")),
        at("2026-11-23 09:25", "lukas", reply("""
            Hello Ms Brandt, as promised on the phone: the missing PDF is not specific to your
            account. It affects invoices with a credit line, and our engineers are on it. I'll
            send you the November PDF as soon as it is fixed.
            """)),
        at("2026-11-23 10:40", "nadia", assign("ben")),
        at("2026-11-23 15:30", "ben", note("""
            Cause: the PDF template crashes on negative line totals since template v12 (deployed
            16 Nov). Fix in review (BC-2331); after the deploy I'll re-render all invoices since
            16 Nov that have no PDF.
            """)),
        at("2026-11-23 15:31", "ben", tag("regression")),
    ),
    story(
        "export-truncated",  # data-export bug escalated to engineering, then a priority raise
        at("2026-11-18 11:23", PORTAL, create(
            "Order export stops at 10,000 rows",
            """
            Our accountant exported all October orders as CSV (**Reports → Export → Orders**,
            1-31 Oct). The file has exactly 10,000 rows, but we had 13,412 orders in October.
            There was no error message.

            We need the complete list for our VAT return by 10 December.

            Markus Keller, Alpenbike
            """,
            customer="m.keller@alpenbike.at", channel="portal", category="how-to")),
        at("2026-11-18 13:05", "priya", assign("priya")),
        at("2026-11-18 13:40", "priya", note("""
            Reproduced with the demo shop: exporting 15k orders gives a CSV with exactly 10,000
            data rows and no warning. Exports under 10k are complete. Looks like a hard limit in
            the export job, not a how-to.
            """)),
        at("2026-11-18 13:44", "priya", escalate_to(
            "engineering", "Order export silently stops at 10,000 rows; needs a fix in the "
            "export service")),
        at("2026-11-18 13:45", "priya", classify(category="data")),
        at("2026-11-18 13:52", "priya", reply("""
            Hello Mr Keller, thank you. I could reproduce it: the export currently stops at
            10,000 rows without any warning. I've passed this to our engineering team.

            Until it is fixed, please export October in two parts (1-15 and 16-31 October); each
            part stays under the limit.
            """)),
        at("2026-11-19 09:35", "nadia", assign("tomas")),
        at("2026-11-19 10:10", "tomas", note("""
            The new export job (v3.36) asks the search API for one page of max 10k results and
            never pages. Affects every shop and every export type over 10k rows. Fix: cursor
            paging, about 2 days with tests.
            """)),
        at("2026-11-20 15:12", "tomas", customer("""
            The split export works, thanks. But our accountant also needs the customer export
            (22,000 rows), and that one can't be split by date. Please fix this before our
            year-end closing.
            """)),
        at("2026-11-20 15:40", "sofia", escalate_priority(
            "high", "Affects all shops with more than 10k rows; year-end exports start in "
            "December")),
        at("2026-11-20 15:41", "sofia", tag("regression")),
        at("2026-11-23 17:05", "tomas", note(
            "Cursor paging done for the orders and customers exports, in review (BC-2330). "
            "Products export next.")),
        at("2026-11-24 10:20", "tomas", reply("""
            Hello Mr Keller, the fix for exports over 10,000 rows is in its final review and
            should be live by Monday, 30 November. I'll tell you here as soon as you can export
            the full customer list.
            """)),
    ),
    story(
        "gdpr-request",  # data request, pending on the customer
        at("2026-11-19 15:20", MAILBOT, create(
            "GDPR access request: all data about one of our customers",
            """
            Bonjour,

            one of our shop's customers asks for a copy of all personal data we hold about her
            (GDPR art. 15). The customer export in the portal only includes orders; we also need
            abandoned carts, the newsletter consent log and support messages.

            Customer: j.durand@orange.fr

            Merci,
            Élodie Martin, data protection officer, Maison Verte
            """,
            customer="dpo@maison-verte.fr", channel="email", category="data", tags=("gdpr",))),
        at("2026-11-20 09:40", "nadia", assign("aylin")),
        at("2026-11-20 10:15", "aylin", reply("""
            Bonjour Ms Martin,

            we can produce a complete export for that customer (orders, carts, consent log and
            messages) within 5 working days. As it contains personal data, the request has to
            come from the shop's account: could the shop owner confirm it under
            **Settings → Privacy → Data requests** in the admin? We'll start as soon as it
            arrives.
            """)),
        at("2026-11-20 10:16", "aylin", wait(
            "Shop owner must confirm the request under Settings → Privacy → Data requests")),
    ),
    story(
        "cdn-images",  # outage for a part of the shops, SRE, solved
        at("2026-11-19 07:52", MAILBOT, create(
            "Product images missing on our storefront",
            """
            Since early this morning our product pages show grey boxes instead of pictures. The
            admin still shows the images. The browser console says:

                GET https://cdn.brightcart.io/s/bergmann/p/10233/main.webp 504

            Thomas Bergmann, Bergmann Möbel
            """,
            customer="it@bergmann-moebel.de", channel="email", category="outage",
            impact="medium", urgency="high")),
        at("2026-11-19 08:05", "hannah", assign("wei")),
        at("2026-11-19 08:20", "wei", note("""
            CDN origin returns 504 for about 4% of shops, all on storage shard 7: a node failed at
            05:40 and its replica is still catching up. Pointed shard 7 at replica 7b and purged
            the CDN for those shops.
            """)),
        at("2026-11-19 08:34", "wei", reply("""
            Good morning, thanks for the report. A storage server behind our image CDN failed
            overnight and about 4% of shops were affected. We've switched your images to a
            healthy copy; they should load again within a few minutes (reload the page without
            cache if they don't).
            """)),
        at("2026-11-19 09:10", "wei", customer("Images are back. Thanks!")),
        at("2026-11-19 09:22", "wei", resolve(
            "Images served from replica 7b; the failed storage node was replaced. About 4% of "
            "shops affected from 05:40 to 08:31.")),
    ),
    story(
        "payout-mismatch",  # billing question answered at first contact
        at("2026-11-20 13:14", MAILBOT, create(
            "Payout doesn't match what arrived in our bank",
            """
            Hi,

            the Brightcart Payments report for week 46 says NOK 48,210.00 in sales, but only
            NOK 46,530.40 arrived in our account. Where did the NOK 1,679.60 go?

            Ingrid, Fjord Wool
            """,
            customer="orders@fjordwool.no", channel="email", category="billing")),
        at("2026-11-20 13:40", "maya", assign("maya")),
        at("2026-11-20 14:02", "maya", reply("""
            Hi Ingrid,

            the difference is the payment fees and one refund, which are taken off before the
            payout:

            | week 46                     |        NOK |
            |-----------------------------|-----------:|
            | sales                       |  48,210.00 |
            | card and PayPal fees        |  −1,279.60 |
            | refund of order #10482      |    −400.00 |
            | **payout**                  |  46,530.40 |

            You can see this breakdown for every payout under
            **Payments → Payouts → Week 46 → Details**.

            Best,
            Maya
            """)),
        at("2026-11-20 14:03", "maya", resolve(
            "Explained the payout: card/PayPal fees and one refund are deducted before payout.",
            kb="KB-0002")),
    ),
    story(
        "klarna-austria",  # chat, classified as a bug (re-routed), freeze exception from management
        at("2026-11-20 10:34", "jonas", create(
            "Klarna not offered at checkout for Austrian customers",
            """
            Chat with Wiener Zucker: since Wednesday, Klarna is gone from the checkout for
            customers with an Austrian shipping address. German addresses still see it. Klarna
            is switched on under **Settings → Payments**. About a third of their orders are
            usually Klarna.
            """,
            customer="shop@wienerzucker.at", channel="chat")),
        at("2026-11-20 10:35", "jonas", assign("jonas")),
        at("2026-11-20 10:41", "jonas", reply("""
            Thank you! I see the same with a test order to Vienna, so it's not your settings. I'm
            handing this to our engineers; they'll get back to you here.
            """)),
        at("2026-11-20 10:42", "jonas", classify(category="bug", impact="medium", urgency="high")),
        at("2026-11-20 10:44", "jonas", note(
            "AT address → no Klarna, DE fine. Started Wed 18 Nov, the day of the payments "
            "config release.")),
        at("2026-11-20 11:15", "nadia", assign("aylin")),
        at("2026-11-20 14:20", "aylin", note(
            "Klarna's markets moved to the new payments config in v3.41.2 and Austria got "
            "dropped (typo `AU` instead of `AT`). Fix: BC-2334.")),
        at("2026-11-20 14:25", "aylin", tag("regression")),
        at("2026-11-20 14:30", "aylin", reply("""
            Found it: a configuration change on Wednesday left Austria out of Klarna's list of
            countries. The fix goes out with Monday's release; I'll confirm here.
            """)),
        at("2026-11-23 09:40", "aylin", customer(
            "Still no Klarna for Austria this morning. Any news?")),
        at("2026-11-23 10:02", "aylin", note(
            "Monday's release was cancelled by the Black Friday change freeze. BC-2334 is a "
            "one-line config fix; asking management for a freeze exception.")),
        at("2026-11-23 10:05", "aylin", escalate_up(
            "Fix is ready but the Black Friday change freeze blocks it; needs a freeze exception")),
        at("2026-11-23 11:30", "daniel", assign("daniel")),
        at("2026-11-23 11:32", "daniel", note(
            "Exception approved: ship BC-2334 on its own, Tue 24 Nov 16:00, with SRE watching "
            "checkout error rates for an hour.")),
        at("2026-11-23 11:40", "aylin", reply("""
            Sorry for the delay: Monday's release was held back by our pre-Black-Friday freeze.
            We've made an exception for this fix; it goes live on Tuesday at 16:00.
            """)),
        at("2026-11-24 16:30", "aylin", reply(
            "Klarna is back for Austrian addresses since 16:05; I placed a test order to Vienna "
            "to check.")),
        at("2026-11-24 16:35", "daniel", resolve(
            "BC-2334 deployed 16:05 under a freeze exception: Austria is back in Klarna's "
            "markets.")),
    ),
    story(
        "webhooks-late",  # bug at engineering, open
        at("2026-11-23 11:47", MAILBOT, create(
            "Webhook order.created arrives hours late",
            """
            Our ERP receives `order.created` webhooks up to 3 hours after the order. Yesterday,
            orders from 18:00 arrived at 21:10. Our warehouse picks from the ERP, so those orders
            ship a day late.

            Endpoint: https://erp.nordlicht-tee.de/hooks/brightcart (answers 200 in under
            300 ms; we checked our logs).
            """,
            customer="it@nordlicht-tee.de", channel="email", category="bug",
            tags=("integration",))),
        at("2026-11-23 13:10", "nadia", assign("ben")),
        at("2026-11-23 14:30", "ben", note("""
            The webhook queue of shard eu-2 backs up every evening 18-21h: 10k+ retries to
            another shop's dead endpoint (30 s timeout each) block the worker pool. Cleared
            those retries; the real fix is a per-endpoint concurrency limit (BC-2336).
            """)),
        at("2026-11-23 14:42", "ben", reply("""
            Hello, thanks for checking your side: your endpoint is fine. Deliveries were delayed
            because our webhook queue got stuck behind retries to another shop's unreachable
            server. I've cleared those, and deliveries are back to under a minute.

            The permanent fix (keeping slow endpoints from delaying others) is in progress; I'll
            update you by Friday.
            """)),
        at("2026-11-25 09:02", "ben", customer(
            "Deliveries were on time yesterday evening and today. We'll wait for the permanent "
            "fix.")),
        at("2026-11-25 10:12", "ben", reply(
            "Thanks for confirming! I'm keeping an eye on the queue every evening until the "
            "permanent fix is live.")),
    ),
    story(
        "rate-limit",  # VIP how-to that needs SRE: functional escalation
        at("2026-11-23 09:15", MAILBOT, create(
            "Black Friday: can you raise our API rate limit?",
            """
            Hello,

            we sync stock from our warehouse every minute through the Admin API. On Black Friday
            we expect 5× normal traffic and want to push stock updates every 10 seconds. Today we
            already get `429 Too Many Requests` at about 2 requests per second.

            Could you raise our limit for 27-30 November?

            Felix Brandt, IT, KitchenKraft GmbH
            """,
            customer="tech@kitchenkraft.de", channel="email", category="how-to",
            tags=("vip", "black-friday"))),
        at("2026-11-23 09:40", "lukas", assign("lukas")),
        at("2026-11-23 09:55", "lukas", reply("""
            Hello Mr Brandt, thanks for planning ahead!

            The default limit is 2 requests per second with bursts of 40. Raising it needs our
            platform team's approval, and I've asked them. Meanwhile, the bulk inventory endpoint
            `POST /admin/api/inventory/bulk` takes up to 250 items per call and usually makes a
            higher limit unnecessary.
            """)),
        at("2026-11-23 09:57", "lukas", escalate_to(
            "sre", "Temporary rate-limit increase for a VIP shop over Black Friday needs an SRE "
            "capacity check")),
        at("2026-11-23 11:30", "hannah", assign("wei")),
        at("2026-11-23 15:10", "wei", note("""
            Their peak last Black Friday was a 38 req/s burst. Proposal: 10 req/s sustained,
            bursts of 100, for shop 4471 from 26 Nov 00:00 to 1 Dec 00:00. Capacity of the
            api-eu pool is fine.
            """)),
        at("2026-11-24 11:00", "wei", customer("""
            We've switched the stock sync to the bulk endpoint, that helps a lot. We'd still like
            the higher limit as a safety net for Friday.
            """)),
        at("2026-11-24 11:40", "wei", reply("""
            Good to hear, thanks! The safety net is fine from our side; I'll confirm the exact
            window once it's scheduled.
            """)),
        at("2026-11-25 16:30", "wei", reply("""
            Hello Mr Brandt, the higher limit (10 requests per second, bursts of 100) is scheduled
            for your shop from Thursday 26 November 00:00 to Tuesday 1 December 00:00.
            """)),
        at("2026-11-26 09:05", "wei", note(
            "Override active since 00:00, checked with a test key. Keeping this open until it "
            "expires on 1 Dec.")),
        at("2026-11-26 09:10", "wei", reply(
            "The higher limit is active now. Good luck for Black Friday! We'll keep this ticket "
            "open until the limit goes back to normal on 1 December.")),
    ),
    story(
        "proration",  # billing question, waiting for the customer
        at("2026-11-24 14:10", "jonas", create(
            "Why was I charged €37.40 when upgrading to Growth?",
            """
            Chat: upgraded from Starter to Growth yesterday and was charged €37.40 instead of
            €99. Not complaining, just wants to understand what happens next month.
            """,
            customer="aoife@bloomandbrew.ie", channel="chat", category="billing",
            priority="low")),
        at("2026-11-24 14:11", "jonas", assign("jonas")),
        at("2026-11-24 14:16", "jonas", reply("""
            Hi Aoife! When you upgrade in the middle of a month, we only charge the difference
            between the two plans for the rest of the current period (that's called proration).
            From 1 December you'll pay the full €99 a month.

            If you send me the invoice number of the €37.40 charge, I'll check the calculation
            for you.
            """)),
        at("2026-11-24 14:20", "jonas", wait("Asked for the invoice number of the €37.40 charge")),
    ),
    story(
        "sso-google",  # login failure, priority escalation, waiting on the customer's IT
        at("2026-11-24 08:50", MAILBOT, create(
            "Google sign-in fails with redirect_uri_mismatch",
            """
            Since this morning none of our 12 staff can sign in with "Sign in with Google".
            Google shows:

                Error 400: redirect_uri_mismatch

            Password login is switched off for our account (Google only), so nobody can work.
            """,
            customer="ops@mosaic-tiles.co.uk", channel="email", category="account")),
        at("2026-11-24 09:12", "priya", assign("priya")),
        at("2026-11-24 09:20", "priya", reply("""
            Hi, I'm on it. Did anyone change your Google Workspace settings recently, or did you
            move your admin to a custom address (such as admin.mosaic-tiles.co.uk)?
            """)),
        at("2026-11-24 09:41", "priya", customer(
            "Yes, we moved the admin to admin.mosaic-tiles.co.uk yesterday evening.")),
        at("2026-11-24 09:45", "priya", escalate_priority(
            "high", "Whole team (12 users) locked out of an account with Google sign-in only")),
        at("2026-11-24 10:05", "priya", reply("""
            That's the cause: Google only sends sign-ins back to addresses registered for your
            app. Please add

                https://admin.mosaic-tiles.co.uk/auth/google/callback

            under **Google Cloud console → APIs & Services → Credentials → (your OAuth client)
            → Authorised redirect URIs**.

            In the meantime I've switched on password login for your two owners, so they can
            work; they'll receive an e-mail to set a password.
            """)),
        at("2026-11-24 10:06", "priya", tag("security", "sso")),
        at("2026-11-24 10:07", "priya", wait(
            "Customer's IT must add the new redirect URI in Google Cloud")),
    ),
    story(
        "locked-out",  # login failure, first contact
        at("2026-11-24 08:12", MAILBOT, create(
            "Account locked after too many login attempts",
            """
            I can't log in: "Your account is locked for 24 hours after too many failed
            attempts". I haven't even tried today! Please unlock it, we have orders to ship.

            Noah, Brewbox
            """,
            customer="noah@brewbox.ie", channel="email", category="account")),
        at("2026-11-24 09:03", "priya", assign("priya")),
        at("2026-11-24 09:15", "priya", reply("""
            Hi Noah, I've unlocked your account. The lock came from 10 failed logins between 02:00
            and 02:10 last night from an IP address in Dublin (`86.44.x.x`). Does someone there
            have an old password saved, for example on a till or tablet?

            If that wasn't anyone from your team, please change your password and switch on
            two-factor login under **Settings → Security**.
            """)),
        at("2026-11-24 09:15", "priya", tag("security")),
        at("2026-11-24 09:50", "priya", customer(
            "That was our old POS tablet with a saved password. Removed it, thanks!")),
        at("2026-11-24 09:55", "priya", resolve(
            "Unlocked the account; the failed logins came from the customer's own old POS "
            "tablet with a stale password.", kb="KB-0003")),
    ),
    story(
        "refund-arn",  # refund question, waiting on the shop's customer
        at("2026-11-23 16:40", MAILBOT, create(
            "Customer's refund hasn't arrived after 10 days",
            """
            Ciao,

            one of our customers (order #4471) says the refund we issued on 12 November never
            reached her card. In the admin the refund shows as "Succeeded". Can you check with
            the payment provider?

            Carlo, Pasta Prima
            """,
            customer="carlo@pastaprima.it", channel="email", category="refund")),
        at("2026-11-24 09:30", "maya", assign("maya")),
        at("2026-11-24 09:55", "maya", note(
            "Stripe: refund succeeded on 12 Nov, ARN 74987506317000123456789. Nothing wrong on "
            "our side; her bank needs the ARN to trace it.")),
        at("2026-11-24 10:00", "maya", reply("""
            Hi Carlo,

            the refund for order #4471 was paid out successfully on 12 November. Banks can take
            up to 10 business days to show it, and sometimes it is listed under a different name.

            Your customer can give her bank this reference number (ARN), which lets them find the
            refund: `74987506317000123456789`.

            Could you let me know whether she has received it after talking to her bank?
            """)),
        at("2026-11-24 10:01", "maya", wait(
            "Shop's customer is checking with her bank using the ARN")),
    ),
    story(
        "bulk-prices",  # data import failed; priority escalation; fixed by hand overnight
        at("2026-11-24 16:02", PORTAL, create(
            "CSV price import stopped halfway: half our products have Black Friday prices",
            """
            I uploaded our Black Friday price list (2,340 products) under
            **Products → Import → Update prices**. After 15 minutes the progress bar stopped at
            1,180 and now says "Import failed". Half the shop has sale prices, half doesn't.

            The sale starts on Friday at 00:00!

            Sam
            """,
            customer="sam.okafor@tinyleafplants.com", channel="portal", category="data",
            tags=("black-friday",))),
        at("2026-11-24 16:25", "nadia", assign("ben")),
        at("2026-11-24 16:31", "ben", reply("""
            Hi Sam, I've got the log of the failed import and will look at it first thing
            tomorrow morning. Please don't upload the file again until then.
            """)),
        at("2026-11-25 09:40", "ben", note("""
            The import job died on row 1,181: price `12,50` with a decimal comma → parse error.
            It aborts the job but doesn't roll back the first 1,180 rows. Two bugs: no locale
            handling, no transaction.
            """)),
        at("2026-11-25 09:50", "ben", reply("""
            Hi Sam, row 1,181 of your file has a price with a decimal comma (`12,50`), which our
            importer can't read, and it stopped there. If you replace the commas with points in
            the price column and upload the file again, the import will finish (the first 1,180
            rows are simply updated again).

            We're fixing the importer so a single bad row can't stop an import any more.
            """)),
        at("2026-11-25 17:20", "ben", customer(
            "Re-uploaded with points, now it fails at row 2,006 with no message at all. The sale "
            "starts in 30 hours!")),
        at("2026-11-25 17:35", "sofia", escalate_priority(
            "high", "Sale starts Friday 00:00 and half the catalogue has the wrong prices")),
        at("2026-11-25 17:40", "ben", note(
            "Row 2,006: product handle with a trailing space, so the lookup fails. I'll import "
            "the rest of the file from the console tonight.")),
        at("2026-11-26 08:50", "ben", reply("""
            Good morning Sam, I imported the remaining 335 rows by hand last night: all 2,340
            products now have the Black Friday prices from your file. Could you check a few of
            them? The importer fixes (decimal commas, stray spaces, all or nothing) are in
            progress.
            """)),
    ),
    story(
        "swiss-vat",  # billing, open at first level
        at("2026-11-25 11:20", MAILBOT, create(
            "German VAT on our invoice, but we're a Swiss company",
            """
            Grüezi,

            our November invoice from Brightcart adds 19% German VAT, but we are a Swiss company
            (CHE-412.337.908 MWST). Until now our invoices never had VAT on them.

            Regards, Reto Meier, Alpenglow Outdoor
            """,
            customer="info@alpenglow-outdoor.ch", channel="email", category="billing")),
        at("2026-11-25 13:10", "lukas", assign("lukas")),
        at("2026-11-25 13:25", "lukas", note(
            "Billing country changed from CH to DE on 2 Nov by their user k.meier. Probably a "
            "mistake in the profile; asking before I change it back.")),
        at("2026-11-25 13:30", "lukas", reply("""
            Hello Mr Meier, thank you. The country in your billing profile was changed from
            Switzerland to Germany on 2 November, which is why VAT was added. Was that intended
            (for example a new German company), or shall we set it back to Switzerland and
            re-issue the invoice without VAT?
            """)),
        at("2026-11-26 10:15", "lukas", customer(
            "That was a mistake by a new colleague. Please set it back to Switzerland and correct "
            "the invoice.")),
        at("2026-11-26 10:40", "lukas", note(
            "Country set back to CH. Credit note + new invoice need finance's sign-off, asked "
            "Clara; will send both once approved.")),
    ),
    story(
        "account-takeover",  # security: routed to engineering by rules.yaml, then up to management
        at("2026-11-25 22:41", "wei", create(
            "Someone logged into our admin and changed the payout bank account",
            """
            Ms Adeyemi (Goldleaf Jewellery) called the emergency line at 22:38. At 22:30 she got
            the e-mail "Your payout bank account was changed", which she did not do. The login
            history shows logins from an IP address in Hanoi. She has changed her password.
            She asks us to stop all payouts.
            """,
            customer="owner@goldleaf-jewellery.com", channel="phone", category="account",
            impact="high", urgency="high", tags=("security",))),
        at("2026-11-25 22:48", "wei", note("""
            On-call actions:

            - froze payouts for shop 2219 (Goldleaf) in the payments admin;
            - revoked all sessions and API tokens of the shop;
            - reverted the payout bank account to the previous one.

            The change was made at 22:27 from 14.161.x.x (VN) after a login with the correct
            password; the account has no 2FA. No payout went to the new account.
            """)),
        at("2026-11-25 22:52", "wei", reply("""
            Dear Ms Adeyemi,

            as promised on the phone: all payouts from your shop are frozen, everyone has been
            logged out, and the bank account change has been reverted. No money was paid to the
            new account. Our security engineers will look into this first thing tomorrow
            morning.

            Please switch on two-factor login (**Settings → Security**) as soon as you're back in.
            """)),
        at("2026-11-26 08:40", "nadia", assign("nadia")),
        at("2026-11-26 09:30", "nadia", note("""
            Findings: the password was valid (it appears in a 2025 breach dump, so most likely
            reused). The attacker also exported the customer list at 22:29: 1,842 customers with
            names, e-mail and postal addresses. That is a personal data breach: the shop has to
            notify its authority within 72 h, and we must decide what we do as processor.
            """)),
        at("2026-11-26 09:35", "nadia", escalate_up(
            "Customer data was exported by the attacker: GDPR notification and liability need "
            "a management decision within 72 h")),
        at("2026-11-26 09:36", "nadia", tag("gdpr")),
        at("2026-11-26 10:10", "daniel", assign("daniel")),
        at("2026-11-26 10:40", "daniel", note("""
            Talked to legal. Goldleaf is the controller and must notify its data protection
            authority by Sat 28 Nov 22:29; we are the processor and give them all the facts. We
            send a timeline and a draft notification today. Also: 2FA becomes mandatory for
            payout changes (BC-2340, ships after the freeze).
            """)),
        at("2026-11-26 11:05", "daniel", reply("""
            Dear Ms Adeyemi,

            I'm Daniel Roth, CTO of Brightcart. Our investigation shows that the person who
            logged in with your password also downloaded your customer list at 22:29 (1,842
            customers: names, e-mail and postal addresses).

            Under the GDPR you, as the shop owner, have to report this to your data protection
            authority within 72 hours, that is by Saturday 28 November, 22:29. To help, we've
            attached a timeline with exact times and the data affected, and a draft you can use
            for the report.

            Your payouts stay frozen until you tell us otherwise. I'm sorry this happened; we
            will make two-factor login mandatory for changing payout details.
            """)),
        at("2026-11-26 11:50", "daniel", customer("""
            Thank you. My lawyer will file the report today. Please keep the payouts frozen until
            I have confirmed our bank details by phone.
            """)),
    ),
    story(
        "second-admin",  # how-to in chat, first contact
        at("2026-11-25 15:31", "jonas", create(
            "How do I add my business partner as a second admin?",
            "Chat: Kasia (Amber & Oak) wants to give her business partner full admin access.",
            customer="kasia@amberandoak.pl", channel="chat", category="how-to", priority="low")),
        at("2026-11-25 15:32", "jonas", assign("jonas")),
        at("2026-11-25 15:35", "jonas", reply("""
            Hi Kasia! Go to **Settings → Team → Invite member**, enter your partner's e-mail and
            choose the role *Admin*. They'll get an invitation e-mail to set their password.
            Your Growth plan includes 3 staff seats, so this costs nothing extra.
            """)),
        at("2026-11-25 15:39", "jonas", customer("Done, she's in. Thanks!")),
        at("2026-11-25 15:40", "jonas", resolve(
            "Explained Settings → Team → Invite member with the Admin role.", kb="KB-0007")),
    ),
    story(
        "custom-domain",  # how-to, waiting on the customer
        at("2026-11-25 10:02", PORTAL, create(
            "Custom domain says 'Domain not connected'",
            """
            I bought wildwoodcandles.com and entered it under **Settings → Domains**. Since
            yesterday it says "Domain not connected". What am I doing wrong?
            """,
            customer="shop@wildwoodcandles.com", channel="portal", category="how-to")),
        at("2026-11-25 10:30", "priya", assign("priya")),
        at("2026-11-25 10:45", "priya", reply("""
            Hi! Your domain still points to your registrar's parking page. Please add these two
            records in your registrar's DNS settings:

            - an `A` record for `@` pointing to `185.199.110.42`
            - a `CNAME` record for `www` pointing to `shops.brightcart.io`

            DNS changes can take a few hours. Let me know once they're added and I'll check the
            connection and the SSL certificate for you.
            """)),
        at("2026-11-25 10:46", "priya", wait("Customer must add the A and CNAME records")),
    ),
    story(
        "safari-login-loop",  # login failure, waiting for a screenshot
        at("2026-11-26 11:05", "priya", create(
            "Login loop in Safari: back on the login page after signing in",
            """
            Chat: Kim (Seoul Food Market) signs in with Safari on a Mac, the dashboard flashes
            for a second, then she's back on the login page. Chrome works. She has already
            cleared the cache.
            """,
            customer="kim@seoulfoodmarket.de", channel="chat", category="account")),
        at("2026-11-26 11:06", "priya", assign("priya")),
        at("2026-11-26 11:12", "priya", reply("""
            Thanks, Kim! This usually happens when Safari blocks our session cookie. Could you
            open **Safari → Settings → Privacy** and check whether "Block all cookies" is
            switched on? A screenshot of that tab would help me a lot.
            """)),
        at("2026-11-26 11:20", "priya", wait(
            "Asked for a screenshot of Safari's privacy settings")),
    ),
    story(
        "guest-orders",  # how-to, open at first level
        at("2026-11-26 14:20", "lukas", create(
            "Can guest customers see their orders in the customer portal?",
            """
            Chat with Meadow Made: customers who checked out as guests ask where they can see
            their order status. The customer portal only shows orders of registered accounts.
            """,
            customer="team@meadowmade.co.uk", channel="chat", category="how-to")),
        at("2026-11-26 14:21", "lukas", assign("lukas")),
        at("2026-11-26 14:26", "lukas", reply("""
            Hi! Guests can't log in to the portal, but they can follow their order with the
            tracking link in the order confirmation e-mail. If you'd like guests to see past
            orders too, switch on **Settings → Customer portal → Let guests claim orders**: when
            they create an account with the same e-mail address, their earlier guest orders show
            up in the portal.
            """)),
        at("2026-11-26 14:31", "lukas", customer(
            "Great. Does claiming also work for orders older than a year? We've been on "
            "Brightcart since 2023.")),
        at("2026-11-26 14:33", "lukas", note(
            "Not sure about the 12-month window for claiming orders; asking engineering in "
            "#eng-help before I answer.")),
    ),
    # ------------------------------------------------------------ 26 November, evening: new
    story(
        "translate-checkout",
        at("2026-11-26 16:48", MAILBOT, create(
            "How do I translate the checkout into Polish?",
            """
            Dzień dobry! We sell to Poland now. The shop pages are translated, but the checkout
            is still in English. How can I switch it to Polish?

            Kasia, Amber & Oak
            """,
            customer="kasia@amberandoak.pl", channel="email", category="how-to")),
    ),
    story(
        "storefront-slow",  # not yet classified
        at("2026-11-26 17:35", MAILBOT, create(
            "Storefront very slow since this afternoon",
            """
            Our product pages take 8-10 seconds to load since about 15:00; the admin is normal.
            Tomorrow is Black Friday, please check!

            Jens, Nordlicht Tee
            """,
            customer="it@nordlicht-tee.de", channel="email", impact="medium",
            urgency="medium")),
    ),
    story(
        "etsy-sync",  # high priority, unassigned, waiting for the morning
        at("2026-11-26 18:22", MAILBOT, create(
            "Orders from the Etsy connector not imported since 16:00",
            """
            Since about 16:00 none of our Etsy orders show up in Brightcart (23 so far, we can
            see them in Etsy). The connector status says "Connected". Our warehouse works only
            from Brightcart orders, so these won't be shipped tomorrow.

            Lisa Klein, Klein & Fein
            """,
            customer="sales@kleinundfein.de", channel="email", category="bug",
            impact="medium", urgency="high", tags=("integration",))),
    ),
    story(
        "annual-discount",
        at("2026-11-26 20:05", PORTAL, create(
            "Discount for paying yearly?",
            "Is there a discount if we switch from monthly to annual billing, and can we switch "
            "in the middle of our current month?",
            customer="finance@pixelpaws.de", channel="portal", category="billing",
            priority="low")),
    ),
    story(
        "2fa-new-phone",
        at("2026-11-26 22:14", MAILBOT, create(
            "2FA codes rejected after changing my phone",
            """
            I got a new phone and moved my authenticator app, but Brightcart rejects every code
            ("Invalid code"). I don't have the recovery codes any more. How do I get back in?

            David, Brewbox
            """,
            customer="david@brewbox.ie", channel="email", category="account")),
    ),
    story(
        "trial-charge",
        at("2026-11-26 23:31", PORTAL, create(
            "Charged €39 after I cancelled my trial",
            """
            I cancelled my trial on 20 November (I have the confirmation e-mail), but today I was
            charged €39.00 for the Starter plan. Please refund it.
            """,
            customer="lea@kraeuterkiste.de", channel="portal", category="refund")),
    ),
]


# ---------------------------------------------------------------- the replay


def esc_command() -> str:
    """The installed esc: next to this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "esc"
    if beside.exists():
        return str(beside)
    found = shutil.which("esc")
    if found is None:
        sys.exit("make_demo: cannot find the `esc` command; activate the venv first")
    return found


def moment(when: str) -> dt.datetime:
    return dt.datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=BERLIN)


def check_stories(stories: list[Story]) -> None:
    """Each story starts with `create`, its steps are in time order and inside the demo span."""
    names = [s.name for s in stories]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        sys.exit(f"make_demo: story names used twice: {', '.join(sorted(duplicates))}")
    end = dt.datetime.combine(LAST_DAY, dt.time(23, 59), BERLIN)
    for s in stories:
        if not s.steps or s.steps[0].action.command != "create":
            sys.exit(f"make_demo: story {s.name} must start with create")
        first = moment(s.steps[0].when)
        if not FIRST_DAY <= first.date() <= LAST_DAY:
            sys.exit(f"make_demo: story {s.name} is created outside {FIRST_DAY}..{LAST_DAY}")
        previous = first
        for step in s.steps[1:]:
            if step.action.command == "create":
                sys.exit(f"make_demo: story {s.name} creates twice")
            current = moment(step.when)
            if current < previous or current > end:
                sys.exit(f"make_demo: story {s.name}: step at {step.when} is out of order")
            previous = current


def run(esc: str, root: Path, step: Step, args: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("ESC_NOW", "ESC_ROOT")}
    env.update(ESC_USER=step.who, NO_COLOR="1")
    now = moment(step.when).isoformat()
    command = [esc, "--root", str(root), "--now", now, *args]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        shown = " ".join(args[:2])
        sys.exit(f"make_demo: `esc {shown} ...` at {now} as {step.who} failed:\n{proc.stderr}")
    return proc.stdout.strip()


def replay(esc: str, root: Path, stories: list[Story]) -> dict[str, str]:
    """Run every step of every story in time order; returns story name -> ticket ID."""
    ids: dict[str, str] = {}
    order = sorted(
        ((moment(step.when), n, i, s, step)
         for n, s in enumerate(stories) for i, step in enumerate(s.steps)),
        key=lambda item: item[:3],
    )

    def fill(value: str) -> str:
        def ticket_id(match: re.Match[str]) -> str:
            if match[1] not in ids:
                sys.exit(f"make_demo: <<{match[1]}>> is used before that ticket exists")
            return ids[match[1]]

        return re.sub(r"<<([\w-]+)>>", ticket_id, value)

    for _, _, _, s, step in order:
        action = step.action
        args = [action.command]
        if action.command != "create":
            args.append(ids[s.name])
        args += [fill(option) for option in action.options]
        if action.command in TAKES_BY:
            args.append(f"--by={step.who}")
        out = run(esc, root, step, args)
        if action.command == "create":
            ids[s.name] = out
            print(f"{out}  {s.name}")
    return ids


def summary(esc: str, root: Path) -> None:
    proc = subprocess.run(
        [esc, "--root", str(root), "list", "--all", "--json"],
        capture_output=True, text=True, check=True,
    )
    tickets = json.loads(proc.stdout)
    kinds = collections.Counter(e["kind"] for t in tickets for e in t["escalations"])
    print(f"\n{len(tickets)} tickets")
    for field in ("status", "priority", "category", "team", "channel"):
        counts = collections.Counter(str(t[field] or "-") for t in tickets)
        print(f"  {field:<9} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("  escalations " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())), flush=True)


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0] in ("-h", "--help")):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    root = Path(argv[0]).resolve() if argv else REPO
    if not (root / "teams.yaml").is_file():
        sys.exit(f"make_demo: {root} has no teams.yaml (run `esc init {root}` first?)")
    check_stories(STORIES)
    tickets = root / "tickets"
    tickets.mkdir(exist_ok=True)
    for old in tickets.glob("*.md"):
        old.unlink()
    esc = esc_command()
    replay(esc, root, STORIES)
    summary(esc, root)
    return subprocess.run([esc, "--root", str(root), "validate"], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
