#!/usr/bin/env python3
"""Generate a realistic esc workspace of N tickets for the benchmark (bench/run.py).

    python bench/generate.py N DIR [--shape realistic|open] [--jobs J] [--verify K] [--force]

DIR becomes a git repository holding what `esc init` writes (teams.yaml and rules.yaml
from esc/scaffold.py, .gitignore, tickets/) and N tickets in esc's exact format, as if a
small support team had used esc for two years up to NOW (2026-11-27T09:00+01:00).

Every ticket is a story told through esc's own library, exactly as the CLI does it:
`lifecycle.create` makes the front-matter and the first activity line, then each step
(`assign`, `comment`, `wait`, `escalate`, `resolve`, `close`, `reopen`, `tag`, ...) is a
`lifecycle` function returning a `Change`, applied to the in-memory ticket.  The text is
then written in one go with `ticketfile`'s own renderers (`render_new` for the
front-matter, description and activity, `render_entry` for the conversation) instead of
re-parsing the file after every step: `--verify K` replays K tickets the slow way
(`ticketfile.parse` + `ticketfile.apply_change` after every step, which is what the CLI
does) and checks the bytes are identical.

Finally every ticket is swept once with `sweep.plan` and `ticketfile.apply_change`, which
is what `esc sweep --no-report` does to each ticket, so the tickets carry their `sla:`
blocks (and the rules' effects) as cron leaves them: at PRESWEEP (NOW - 1h), or, for a
ticket changed after PRESWEEP, at the first tick of a 5-minute cron after its last change
(a sweep cannot see a ticket as of a time before its last change; one changed after
08:55 is left for NOW's sweep).  What happened since that sweep (warnings and deadlines
crossed, rules due) is left to the sweep measured.  The result is committed:
`git checkout -- . && git clean -fdq tickets reports` restores this pristine state.

`--shape open` makes the work in hand large instead (issue 19: an outage week, a backlog
nobody triaged): every ticket is `open` and was created on NOW's day, between midnight
and 08:30, with the steps an open ticket's story has (assignment, replies, notes, waits
answered, escalations), squeezed into that time.

Everything is seeded with N (each ticket with its own `random.Random`), so the same N
always gives the same bytes, whatever the number of worker processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

try:  # esc laid out in layers
    from esc.config.loading import build_config
    from esc.config.starter import RULES_YAML, STARTER_FILES, TEAMS_YAML
    from esc.domain import ids, lifecycle
    from esc.domain.config import Config
    from esc.domain.errors import EscError
    from esc.domain.model import Activity, Change, Ticket
    from esc.domain.plan import plan
    from esc.ticketfile import body, document
except ImportError:  # an esc from before (bench/run.py --rev): flat modules
    from esc import ids, lifecycle  # type: ignore[no-redef,attr-defined]
    from esc import ticketfile as document  # type: ignore[no-redef,attr-defined]

    body = document  # type: ignore[assignment]
    from esc.config import Config  # type: ignore[no-redef,attr-defined]
    from esc.errors import EscError  # type: ignore[no-redef]
    from esc.model import Activity, Change, Ticket  # type: ignore[no-redef]
    from esc.scaffold import RULES_YAML, STARTER_FILES, TEAMS_YAML  # type: ignore[no-redef]
    from esc.sweep import plan  # type: ignore[no-redef]

    try:
        from esc.configfile import build_config  # type: ignore[no-redef]
    except ImportError:  # an esc from before configfile.py
        from esc.config import build_config  # type: ignore[attr-defined,no-redef]
try:  # the sweep's fingerprint of what it wrote (none before it existed)
    from esc.ticketfile import fingerprint
except ImportError:
    fingerprint = None  # type: ignore[assignment]

GENERATOR_VERSION = 7  # 2: each ticket swept by the cron tick after its last change; 3-7: its
# fingerprint stamped as that sweep stamps it (esc.ticketfile.fingerprint; 7: a ticket the
# rules acted on until none would is stamped, as one they left alone: TicketPlan.at_rest)
SHAPES = ("realistic", "open")
MARKER = ".bench-workspace.json"
NOW = dt.datetime.fromisoformat("2026-11-27T09:00:00+01:00")
PRESWEEP = NOW - dt.timedelta(hours=1)
CRON = dt.timedelta(minutes=5)  # a ticket changed after PRESWEEP: swept at the next tick
YEARS = 2
BERLIN = ZoneInfo("Europe/Berlin")
GIT_ID = ["-c", "user.name=esc-bench", "-c", "user.email=bench@localhost",
          "-c", "commit.gpgsign=false"]

# ---------------------------------------------------------------- vocabulary

FIRST = ["anna", "ben", "chloe", "david", "elena", "felix", "greta", "hugo", "ines", "jan",
         "kim", "lena", "marc", "nina", "omar", "paula", "quentin", "rosa", "sam", "tara",
         "umut", "vera", "wim", "xenia", "yusuf", "zoe", "lars", "mia", "noah", "ida"]
LAST = ["keller", "vogt", "okafor", "hoffmann", "martin", "rossi", "nowak", "jansen", "berg",
        "silva", "novak", "dubois", "meyer", "schmidt", "larsen", "costa", "weber", "fischer",
        "kowalski", "moreau", "bauer", "lindqvist", "horvat", "peters", "yilmaz"]
SHOP_A = ["nord", "alpen", "urban", "tiny", "salt", "kitchen", "green", "blue", "little",
          "wild", "sun", "river", "stone", "happy", "city", "old", "bright", "true", "north"]
SHOP_B = ["kaffee", "bike", "pedals", "leaf", "sage", "kraft", "tea", "books", "goods",
          "wool", "paper", "herbs", "toys", "socks", "bakery", "outdoor", "beauty", "pets"]
TLDS = ["de", "at", "ch", "co.uk", "com", "nl", "fr", "it", "eu", "shop"]

CATEGORIES = [("how-to", 25), ("billing", 19), ("account", 17), ("bug", 18), ("refund", 7),
              ("data", 8), ("outage", 6)]
CHANNELS = [("email", 40), ("portal", 24), ("chat", 16), ("phone", 9), ("api", 11)]
BOT = {"email": "mailbot", "portal": "portal", "api": "monitoring"}

TITLES = {
    "how-to": ["How do I offer free shipping above {amount}?",
               "How can I add a second admin user?",
               "Where do I change the order confirmation e-mail?",
               "Can I import products from a CSV file?",
               "How do I set up discount codes for {season}?",
               "How do I connect my own domain {domain}?",
               "Question about tax rates for {country}"],
    "billing": ["Invoice {invoice} shows the wrong VAT ID",
                "Charged for the {plan} plan after downgrading",
                "Need a copy of invoice {invoice}",
                "Payment failed but the card is fine",
                "Question about the {plan} plan price change",
                "Invoice address must be changed to our new office"],
    "account": ["Can't log in: password reset link says 'invalid or expired'",
                "Two-factor codes are not accepted",
                "Please transfer the shop to a new owner",
                "Locked out after too many login attempts",
                "Close our account and delete our data",
                "Staff account {name} cannot see orders"],
    "bug": ["Checkout shows a blank page on {browser}",
            "Order export stops at {rows} rows",
            "Product images are not shown in the mobile app",
            "Discount code {code} applied twice",
            "Stock count goes negative after refunds",
            "Search returns no results for words with umlauts",
            "Order confirmation e-mails arrive twice"],
    "refund": ["Refund for order {order} not received",
               "Annual plan charged twice: refund requested",
               "Refund the {plan} plan: we never used it",
               "Partial refund for order {order} went to the wrong card"],
    "data": ["Orders from {date} are missing in the report",
             "Customer list export has broken characters",
             "Revenue in the dashboard does not match the invoices",
             "Duplicate customers after the import",
             "Analytics show zero visits since {date}"],
    "outage": ["Checkout returns 500 for all customers",
               "Shop {domain} is down",
               "Payment provider timeouts since {time}",
               "Admin panel does not load",
               "Monitoring: error rate above 5% on checkout-api",
               "Monitoring: p95 latency above 2s on storefront"],
}

SENTENCES = [
    "It started {when} and nothing changed on our side as far as we know.",
    "We tried it in {browser} and in the app, with the same result.",
    "Our team has {staff} people working in the shop and all of them see it.",
    "This affects roughly {pct}% of our orders today.",
    "The order number of one example is {order}.",
    "I attached a screenshot of the error message.",
    "We have a campaign starting {when}, so this is getting urgent for us.",
    "Our accountant needs this before the end of the month.",
    "Could you please have a look and tell us what to do?",
    "The error message says \"{error}\".",
    "We already cleared the cache and logged out and in again.",
    "Last month everything worked fine with the same settings.",
    "We changed the {setting} setting last week, maybe that is related.",
    "Customers are writing to us about it, so please hurry.",
    "Our shop runs on the {plan} plan with the {domain} domain.",
    "I could not find anything about this in the help center.",
]
REPLY_OPEN = ["Hi {first},", "Hello {first},", "Dear {first},", "Hi there,"]
REPLY_BODY = [
    "thank you for the details. I could reproduce it and I am looking into it now.",
    "sorry for the trouble. This comes from the {setting} setting, which I have corrected "
    "for you.",
    "you can do that under **Settings → {setting}**: choose the option and save; it applies "
    "to new orders straight away.",
    "I have passed this to our engineers, who are on it. I will update you here as soon as "
    "I know more.",
    "could you tell me which browser and which device you use, and send the exact time it "
    "happened? That helps us find it in our logs.",
    "the fix is live since this morning. Could you please check again on your side?",
    "I have re-issued the document and sent it to your billing address.",
    "this is a known limitation of the current version; the workaround is to split the "
    "export into two parts, each under {rows} rows.",
    "I have reset the login for you; the new link is valid for 24 hours and can only be "
    "used once.",
]
REPLY_CLOSE = ["Best,\n{agent}", "Kind regards,\n{agent}", "Cheers,\n{agent}", "{agent}"]
MESSAGES = [
    "Thanks, that worked!",
    "It still happens, I just tried again at {time}.",
    "We use {browser} on Windows 11. It happened at {time} today.",
    "Any news on this? Our customers keep asking.",
    "Here is the information you asked for: order {order}, placed at {time}.",
    "That is not what we asked. We need the {setting} fixed, not a workaround.",
    "Perfect, got it working. Cheers!",
    "Sorry for the late answer, we were closed over the holidays. Yes, it works now.",
]
NOTES = [
    "Reproduced with the demo shop. Looks like a problem in {setting}, not a how-to.",
    "Logs show timeouts from the payment provider between {time} and 10:40.",
    "Customer is on the {plan} plan, so the extended support hours apply.",
    "Checked the account: the {setting} was changed by the customer on {date}.",
    "Same root cause as last week's incident; linking the postmortem BC-{num}.",
    "Called the customer, left a voicemail. Will try again tomorrow.",
    "Fix is in review (BC-{num}), should ship with the next release.",
    "Duplicate of an older ticket from the same customer; answering here.",
]
RESOLUTIONS = [
    "Explained how to configure {setting}; the customer confirmed it works.",
    "Corrected the {setting} setting and re-issued invoice {invoice}.",
    "Fixed in release 3.{num} (BC-{num}); the customer confirmed the fix.",
    "Refunded the duplicate payment of EUR {amount}; it shows within 5-10 business days.",
    "Reset the two-factor login; the customer can log in again.",
    "Restored the missing data from the nightly backup and re-ran the export.",
    "The payment provider fixed the timeouts on their side; monitoring is green again.",
    "Duplicate of an earlier ticket; answered there.",
]
FEEDBACK = ["Super quick, thank you!", "Solved quickly, but the help page could be clearer.",
            "Took a few days, but the outcome was fair.", "Great support as always.",
            "Too slow for an outage like this.", "Nobody told us what was going on."]
WAIT_REASONS = ["Waiting for the customer's screenshots", "Asked for the order numbers",
                "Customer tests the fix", "Waiting for the customer's bank statement",
                "Customer will confirm after the weekend"]
ESC_REASONS = {
    "functional": ["Needs a developer: looks like a bug in {setting}",
                   "Data problem, needs access to the database",
                   "Not a bug after all: a how-to question for support"],
    "hierarchical": ["Refund beyond what support may grant",
                     "Customer threatens to cancel; needs a decision",
                     "Fix needs a change of plan pricing; management decides",
                     "Second breach this month for this key account"],
    "priority": ["Affects all shops on the {plan} plan",
                 "VIP account, chargeback deadline in 7 days",
                 "Checkout blocked for the customer: losing sales"],
}
REOPEN_REASONS = ["Customer says it happens again", "The refund never arrived",
                  "The fix was rolled back in release 3.{num}"]
TAG_POOL = ["vip", "regression", "enterprise", "mobile", "gdpr", "follow-up", "docs",
            "payments", "export", "eu", "migration", "known-issue"]
FILL = {
    "amount": ["£50", "€40", "EUR 1,188.00", "EUR 85.00", "$25", "CHF 60"],
    "season": ["Black Friday", "Christmas", "the summer sale", "Easter"],
    "domain": ["shop.example.com", "www.saltandsage.co", "store.nordkaffee.de"],
    "country": ["Austria", "Switzerland", "the Netherlands", "Italy"],
    "invoice": ["BC-INV-2025-10-0412", "BC-INV-2026-03-1187", "BC-INV-2026-09-0077"],
    "plan": ["Starter", "Growth", "Pro", "Enterprise"],
    "name": ["anna", "marc", "jan", "paula"],
    "browser": ["Safari", "Chrome", "Firefox", "Edge"],
    "rows": ["10,000", "65,536", "5,000"],
    "code": ["WELCOME10", "BLACKFRIDAY", "SUMMER25"],
    "order": ["#10482", "#22731", "#90017", "#5566"],
    "date": ["1 October", "the 15th", "Monday", "last Friday"],
    "time": ["08:50", "14:12", "22:03", "06:30"],
    "when": ["this morning", "yesterday evening", "on Monday", "after your last update"],
    "staff": ["3", "5", "12", "40"],
    "pct": ["5", "20", "50", "100"],
    "error": ["Something went wrong", "Error 500", "Request timed out", "Invalid token"],
    "setting": ["Shipping → Zones", "Billing → Tax details", "Checkout → Payment methods",
                "Notifications", "Exports", "Staff permissions"],
    "num": ["2291", "2330", "1844", "3012", "41"],
}


_PLACEHOLDER = re.compile(r"\{(\w+)\}")

# ---------------------------------------------------------------- stories


class Story:
    """One ticket's life, told step by step through esc's lifecycle functions."""

    def __init__(self, config: Config, ticket_id: str, rng: random.Random,
                 shape: str = "realistic") -> None:
        self.config = config
        self.shape = shape
        self.rng = rng
        self.id = ticket_id
        self.steps: list[tuple[float, bool, Callable[[Ticket, dt.datetime], Change]]] = []

    # -- text

    def fill(self, template: str) -> str:
        """``template`` with each {placeholder} replaced by a random word of its kind."""
        rng = self.rng

        def word(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "first":
                return self.first.title()
            return rng.choice(FILL[key]) if key in FILL else match.group()

        return _PLACEHOLDER.sub(word, template)

    def paragraph(self, k: int) -> str:
        return " ".join(self.fill(s) for s in self.rng.sample(SENTENCES, k))

    def description(self) -> str:
        rng = self.rng
        paras = [self.paragraph(rng.randint(2, 3)) for _ in range(rng.choice([1, 1, 2, 3]))]
        if self.channel in ("chat", "phone"):
            return f"{self.channel.title()} with {self.first.title()}: " + paras[0]
        if self.channel == "api":
            return ("Alert fired by monitoring.\n\n```\nservice: checkout-api\n"
                    f"error_rate: {rng.randint(5, 60)}%\nsince: {self.fill('{time}')}\n```")
        sign = f"{self.first.title()} {self.last.title()}\n{self.shop.title()}"
        return f"Hello,\n\n{chr(10).join(p + chr(10) for p in paras)}\nThanks,\n{sign}"

    def reply_text(self, agent: str) -> str:
        rng = self.rng
        body = [self.fill(t) for t in rng.sample(REPLY_BODY, rng.choice([1, 1, 2]))]
        closing = rng.choice(REPLY_CLOSE).format(agent=agent.title())
        return self.fill(rng.choice(REPLY_OPEN)) + "\n\n" + "\n\n".join(body) + "\n\n" + closing

    # -- the plan

    def add(self, delay_minutes: float, step: Callable[[Ticket, dt.datetime], Change]) -> None:
        by_agent = step != self.customer_message  # agents work office hours (mostly)
        self.steps.append((max(1.0, delay_minutes), by_agent, step))

    def minutes(self, median: float, spread: float = 1.0) -> float:
        return self.rng.lognormvariate(0, spread) * median

    def person(self, ticket: Ticket) -> str:
        """Who of the ticket's team acts: its assignee, else anyone of the team."""
        if ticket.assignee:
            return ticket.assignee
        return self.rng.choice(self.config.teams[ticket.team].people)

    def build(self) -> tuple[dict[str, object], str, list[Activity], list[Change], Ticket]:
        rng, config = self.rng, self.config
        self.first, self.last = rng.choice(FIRST), rng.choice(LAST)
        self.shop = rng.choice(SHOP_A) + rng.choice(SHOP_B)
        self.customer = f"{self.first}.{self.last}@{self.shop}.{rng.choice(TLDS)}"
        status = "open" if self.shape == "open" else _weighted(
            rng, [("closed", 75), ("resolved", 8), ("open", 9), ("pending", 4), ("new", 4)])
        category = _weighted(rng, CATEGORIES)
        channel = "api" if category == "outage" and rng.random() < 0.6 else _weighted(
            rng, CHANNELS)
        if channel == "api":
            category = rng.choice(["outage", "outage", "bug"])
        self.channel = channel
        created = _created_today(rng) if self.shape == "open" else _created(rng, status)
        creator = BOT.get(channel) or rng.choice(config.teams["support"].people)
        title = self.fill(rng.choice(TITLES[category]))
        priority = impact = urgency = None
        roll = rng.random()
        if category == "outage":
            priority = rng.choice(["urgent", "urgent", "high"])
        elif roll < 0.25:
            impact, urgency = rng.choice(["low", "medium", "high"]), rng.choice(
                ["low", "medium", "high"])
        elif roll < 0.45:
            priority = _weighted(rng, [("low", 30), ("normal", 40), ("high", 25), ("urgent", 5)])
        tags = tuple(rng.sample(TAG_POOL, rng.choice([0, 0, 0, 1, 1, 2])))
        unclassified = channel in ("email", "portal") and rng.random() < 0.15
        description = self.description()
        intake = lifecycle.Intake(title, description, self.customer, channel,
                                  None if unclassified else category, priority, impact,
                                  urgency, tags)
        front, activity = lifecycle.create(intake, self.id, config, created, creator)
        ticket = _ticket(front, description, activity)

        self.plan_steps(status, category, unclassified)
        changes, ticket = self.play(ticket, created)
        return front, description, activity, changes, ticket

    def plan_steps(self, status: str, category: str, unclassified: bool) -> None:
        rng = self.rng
        say = self.add
        if status == "new":
            if rng.random() < 0.5:
                say(self.minutes(40), self.customer_message)
            else:
                say(self.minutes(20), self.note)
            return
        if unclassified:
            say(self.minutes(25), lambda t, now: lifecycle.classify(
                t, self.config, now, self.person(t), category=category))
        if rng.random() < 0.8:
            say(self.minutes(45), self.assign)
        entries = rng.choice([1, 1, 1, 2, 2, 3, 4, 5]) if status != "closed" else rng.choice(
            [0, 1, 1, 1, 2, 2, 3, 4])
        say(self.minutes(70), self.reply)  # the first response
        escalate = rng.random() < 0.17  # with the sweep's own, ~20% have escalations
        at_escalation = rng.randint(0, entries)
        for n in range(entries):
            if escalate and n == at_escalation:
                self.escalations()
            roll = rng.random()
            if roll < 0.4:
                say(self.minutes(300, 1.3), self.customer_message)
                say(self.minutes(90, 1.2), self.reply)
            elif roll < 0.6:
                say(self.minutes(30), self.note)
            elif roll < 0.75:
                say(self.minutes(20), self.wait)
                say(self.minutes(900, 1.4), self.customer_message)
            else:
                say(self.minutes(120), self.reply)
        if escalate and at_escalation >= entries:
            self.escalations()
        if rng.random() < 0.12:
            say(self.minutes(30), self.tag)
        if status == "open":
            if rng.random() < 0.3:
                say(self.minutes(200), self.customer_message)
            return
        if status == "pending":
            say(self.minutes(30), self.wait)
            return
        if status == "closed" and rng.random() < 0.05:
            say(self.minutes(60), self.close_unresolved)  # spam, duplicates
            return
        say(self.minutes(150, 1.3), self.resolve)
        if status == "resolved":
            return
        say(self.minutes(2 * 1440, 0.7), self.close)
        if rng.random() < 0.04:  # reopened, answered, closed again
            say(self.minutes(3 * 1440), lambda t, now: lifecycle.reopen(
                t, self.config, now, self.person(t), self.fill(rng.choice(REOPEN_REASONS))))
            say(self.minutes(200), self.reply)
            say(self.minutes(600), self.resolve)
            say(self.minutes(2 * 1440, 0.7), self.close)

    def escalations(self) -> None:
        rng = self.rng
        kinds = rng.choice([["functional"], ["functional"], ["hierarchical"], ["priority"],
                            ["functional", "priority"], ["priority", "hierarchical"],
                            ["functional", "hierarchical"],
                            ["functional", "priority", "hierarchical"]])
        for kind in kinds:
            self.add(self.minutes(60), lambda t, now, kind=kind: self.escalate(t, now, kind))
            if kind != "priority":
                self.add(self.minutes(40), self.assign)
            self.add(self.minutes(90), self.note if rng.random() < 0.5 else self.reply)

    # -- steps (each returns a lifecycle Change)

    def assign(self, t: Ticket, now: dt.datetime) -> Change:
        team = self.config.teams[t.team]
        lead = team.lead or self.rng.choice(team.people)
        return lifecycle.assign(t, self.config, now, lead, self.rng.choice(team.people))

    def reply(self, t: Ticket, now: dt.datetime) -> Change:
        agent = self.person(t)
        return lifecycle.comment(t, self.config, now, agent, self.reply_text(agent), "reply")

    def note(self, t: Ticket, now: dt.datetime) -> Change:
        return lifecycle.comment(t, self.config, now, self.person(t),
                                 self.fill(self.rng.choice(NOTES)), "note")

    def customer_message(self, t: Ticket, now: dt.datetime) -> Change:
        return lifecycle.comment(t, self.config, now, t.customer or "customer",
                                 self.fill(self.rng.choice(MESSAGES)), "message")

    def wait(self, t: Ticket, now: dt.datetime) -> Change:
        return lifecycle.wait(t, self.config, now, self.person(t),
                              self.rng.choice(WAIT_REASONS))

    def tag(self, t: Ticket, now: dt.datetime) -> Change:
        return lifecycle.add_tags(t, now, self.person(t), [self.rng.choice(TAG_POOL)])

    def escalate(self, t: Ticket, now: dt.datetime, kind: str) -> Change:
        who, reason = self.person(t), self.fill(self.rng.choice(ESC_REASONS[kind]))
        if kind == "priority":
            ranks = self.config.priorities
            higher = ranks[ranks.index(t.priority) + 1:] if t.priority in ranks else ()
            if not higher:
                return Change()
            return lifecycle.escalate(t, self.config, now, who, reason,
                                      priority=self.rng.choice(higher))
        if kind == "hierarchical":
            return lifecycle.escalate(t, self.config, now, who, reason, up=True)
        other = [k for k in self.config.teams if k not in (t.team, "management")]
        return lifecycle.escalate(t, self.config, now, who, reason, to=self.rng.choice(other))

    def resolve(self, t: Ticket, now: dt.datetime) -> Change:
        return lifecycle.resolve(t, self.config, now, self.person(t),
                                 self.fill(self.rng.choice(RESOLUTIONS)))

    def close(self, t: Ticket, now: dt.datetime) -> Change:
        rng = self.rng
        csat = _weighted(rng, [(5, 50), (4, 28), (3, 10), (2, 6), (1, 6)]) if rng.random() < 0.7 \
            else None
        feedback = rng.choice(FEEDBACK) if csat is not None and rng.random() < 0.4 else None
        return lifecycle.close(t, self.config, now, self.person(t), csat=csat, feedback=feedback)

    def close_unresolved(self, t: Ticket, now: dt.datetime) -> Change:
        return lifecycle.close(t, self.config, now, self.person(t),
                               resolution="Duplicate or spam; closed without action.")

    # -- replay

    def play(self, ticket: Ticket, created: dt.datetime) -> tuple[list[Change], Ticket]:
        """Give each step its time (squeezed to end before NOW) and run it."""
        total = sum(d for d, _, _ in self.steps)
        room = (NOW - dt.timedelta(minutes=10) - created).total_seconds() / 60
        scale = min(1.0, room / total) if total else 1.0
        changes, at = [], created
        latest = NOW - dt.timedelta(minutes=5)
        for delay, by_agent, step in self.steps:
            at = at + dt.timedelta(minutes=max(1, round(delay * scale)))
            if by_agent and self.rng.random() < 0.9:
                at = _office(at, self.rng)
            at = min(at, latest)
            try:
                change = step(ticket, _local(at))
            except EscError:  # a step the story's state made impossible: skip it
                continue
            if change:
                ticket = lifecycle.applied(ticket, change)
                changes.append(change)
        return changes, ticket


def _weighted(rng: random.Random, choices: list[tuple[object, int]]) -> object:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]  # type: ignore


def _local(moment: dt.datetime) -> dt.datetime:
    """Berlin wall-clock time as a fixed-offset timestamp (as esc reads it back)."""
    local = moment.astimezone(BERLIN)
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=dt.timezone(offset))


def _office(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """``moment``, or the next weekday morning if it is outside 08:00-18:00 in Berlin."""
    local = moment.astimezone(BERLIN)
    if local.weekday() < 5 and 8 <= local.hour < 18:
        return moment
    if local.hour >= 18:
        local += dt.timedelta(days=1)
    while local.weekday() >= 5:
        local += dt.timedelta(days=1)
    start = local.replace(hour=8, minute=0, second=0, microsecond=0)
    return _local(start + dt.timedelta(minutes=rng.randint(0, 90)))


def _created(rng: random.Random, status: str) -> dt.datetime:
    if status == "closed":
        age = 3 + (YEARS * 365 - 3) * rng.random() ** 1.3  # a growing business
    elif status == "resolved":
        age = rng.uniform(0.5, 14)
    elif status == "new":
        age = rng.uniform(0.02, 2) if rng.random() < 0.8 else rng.uniform(2, 30)
    else:
        roll = rng.random()
        age = (rng.uniform(0.1, 14) if roll < 0.7 else rng.uniform(14, 90) if roll < 0.95
               else rng.uniform(90, 400))
    moment = NOW - dt.timedelta(days=age)
    local = moment.astimezone(BERLIN)
    if rng.random() < 0.8:  # most tickets arrive in office hours on weekdays
        while local.weekday() >= 5:
            local -= dt.timedelta(days=1)
        local = local.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59))
    moment = min(local.replace(second=0, microsecond=0), NOW - dt.timedelta(minutes=30))
    return _local(moment)


def _created_today(rng: random.Random) -> dt.datetime:
    """A moment of NOW's day in Berlin, between midnight and 30 minutes before NOW."""
    midnight = NOW.astimezone(BERLIN).replace(hour=0, minute=0, second=0)
    room = (NOW - dt.timedelta(minutes=30) - midnight).total_seconds() / 60
    return _local(midnight + dt.timedelta(minutes=int(rng.uniform(0, room))))


def _ticket(front: dict[str, object], description: str, activity: list[Activity]) -> Ticket:
    """The in-memory ticket esc would read back from render_new's text."""
    get = front.get
    return Ticket(
        id=str(get("id")), title=str(get("title")), status=str(get("status")),
        priority=str(get("priority")), team=str(get("team")),
        created=get("created"), updated=get("updated"),  # type: ignore[arg-type]
        category=get("category"), assignee=get("assignee"),  # type: ignore[arg-type]
        customer=get("customer"), channel=get("channel"),  # type: ignore[arg-type]
        tags=tuple(get("tags") or ()),  # type: ignore[arg-type]
        impact=get("impact"), urgency=get("urgency"),  # type: ignore[arg-type]
        description=description.strip("\n"), activity=tuple(activity),
    )


# ---------------------------------------------------------------- text


def fast_text(front: dict[str, object], description: str, activity: list[Activity],
              changes: list[Change]) -> str:
    """The file after all changes, rendered once with esc's renderers."""
    final = dict(front)
    tags = list(final.get("tags") or [])  # type: ignore[call-overload]
    escalations = list(final.get("escalations") or [])  # type: ignore[call-overload]
    entries, log = [], list(activity)
    for change in changes:
        final.update(change.sets)
        tags += change.tags_added
        escalations += [e.as_yaml() for e in change.escalations]
        entries += change.entries
        log += change.activity
    final["tags"], final["escalations"] = tags, escalations
    text = document.render_new(final, description, log)
    if entries:
        cut = text.index(body.ACTIVITY + "\n\n", text.index("\n---\n") + 5)
        conversation = "".join(body.render_entry(e) for e in entries)
        text = text[:cut] + body.CONVERSATION + "\n\n" + conversation + text[cut:]
    return text


def slow_text(front: dict[str, object], description: str, activity: list[Activity],
              changes: list[Change], path: str) -> str:
    """The file as the CLI would write it: parse and apply_change after every step."""
    text = document.render_new(front, description, activity)
    for change in changes:
        text = document.apply_change(document.parse(text, path), change)
    return text


def swept(text: str, path: str, config: Config) -> str:
    """What the last `esc sweep` of cron before NOW wrote in this ticket (its sla block,
    rule effects): the sweep at PRESWEEP, or for a ticket changed after it, the first sweep
    of a 5-minute cron after its last change (none if that is NOW's own)."""
    doc = document.parse(text, path)
    at = max(PRESWEEP, _next_tick(doc.ticket.updated))
    if at >= NOW:
        return text
    result = plan(doc.ticket, config, at)
    if not result.change:
        return text
    if fingerprint is None:
        return document.apply_change(doc, result.change)
    new = document.changed(doc, result.change)  # (stamped as the sweep stamps it; see
    # esc.commands.sweep._swept_doc; an esc before TicketPlan.at_rest stamped only a ticket
    # no rule acted on)
    at_rest = getattr(result, "at_rest", not (result.fired or result.skipped))
    return fingerprint.stamped(new, at_rest).text


def _next_tick(moment: dt.datetime) -> dt.datetime:
    """The first 5-minute cron tick at or after ``moment``."""
    since = moment - NOW
    ticks = -(-since // CRON)  # (ceiling)
    return NOW + ticks * CRON


# ---------------------------------------------------------------- workers


@dataclass(frozen=True)
class Job:
    n: int
    start: int
    ids: tuple[str, ...]
    tickets_dir: str
    verify: int  # replay every verify-th ticket the slow way (0: none)
    presweep: bool
    shape: str = "realistic"


_CONFIG: Config | None = None


def _config() -> Config:
    global _CONFIG
    if _CONFIG is None:
        config, findings = build_config(TEAMS_YAML, RULES_YAML)
        if config is None or findings:
            raise SystemExit(f"the starter configuration does not load: {findings}")
        _CONFIG = config
    return _CONFIG


def make_ticket(n: int, index: int, ticket_id: str, verify: bool, presweep: bool,
                shape: str = "realistic") -> tuple[str, str | None]:
    """(text, problem) of ticket number ``index`` of a workspace of ``n``."""
    config = _config()
    seed = f"esc-bench/{n}/{index}" if shape == "realistic" else f"esc-bench/{shape}/{n}/{index}"
    rng = random.Random(seed)
    front, description, activity, changes, ticket = Story(config, ticket_id, rng,
                                                          shape).build()
    text = fast_text(front, description, activity, changes)
    path = f"tickets/{ticket_id}.md"
    problem = None
    if verify:
        if slow_text(front, description, activity, changes, path) != text:
            problem = f"{path}: the fast rendering differs from parse+apply_change"
        elif document.parse(text, path).ticket != ticket:
            problem = f"{path}: esc reads back another ticket than the story made"
    if presweep:
        text = swept(text, path, config)
    return text, problem


def run_job(job: Job) -> tuple[int, int, list[str]]:
    """Write one chunk of tickets; returns (count, bytes, problems)."""
    total, problems = 0, []
    for offset, ticket_id in enumerate(job.ids):
        index = job.start + offset
        verify = bool(job.verify) and index % job.verify == 0
        text, problem = make_ticket(job.n, index, ticket_id, verify, job.presweep, job.shape)
        if problem:
            problems.append(problem)
        data = text.encode("utf-8")
        with open(os.path.join(job.tickets_dir, f"{ticket_id}.md"), "wb") as handle:
            handle.write(data)
        total += len(data)
    return len(job.ids), total, problems


def ticket_ids(n: int) -> list[str]:
    rng = random.Random(n)
    seen: set[str] = set()
    out = []
    for _ in range(n):
        ticket_id = ids.new_id("T", seen, rng.randrange)
        seen.add(ticket_id)
        out.append(ticket_id)
    return out


# ---------------------------------------------------------------- the workspace


def marker(n: int, presweep: bool, shape: str = "realistic") -> dict[str, object]:
    """What a workspace was made from; one that differs in any of these is regenerated."""
    config = hashlib.sha256(f"{TEAMS_YAML}\0{RULES_YAML}".encode()).hexdigest()[:12]
    return {"generator_version": GENERATOR_VERSION, "n": n, "now": NOW.isoformat(),
            "presweep": PRESWEEP.isoformat() if presweep else None, "config_sha": config,
            "shape": shape, "stamps": _stamps()}


def _stamps() -> str:
    """Which esc's stamps the tickets carry: a stamp proves a text to the esc whose source
    made it alone (esc.ticketfile.fingerprint.salt_of), so a workspace is made again for
    another esc (a --rev), as a fresh clone swept by that esc would be."""
    salt = getattr(fingerprint, "_salt", None)
    if callable(salt):
        return hashlib.sha256(salt()).hexdigest()[:12]
    return hashlib.sha256(getattr(fingerprint, "_SALT", b"")).hexdigest()[:12]


def is_ready(root: Path, n: int, presweep: bool = True, shape: str = "realistic") -> bool:
    try:
        found = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return False
    wanted = marker(n, presweep, shape)
    # a marker from before shapes (no "shape" key) is a realistic workspace
    return (isinstance(found, dict)
            and all(found.get(k, "realistic" if k == "shape" else None) == v
                    for k, v in wanted.items())
            and (root / ".git").is_dir())


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=root, check=True, text=True,
                          capture_output=True).stdout


def generate(root: Path, n: int, jobs: int = 0, verify: int = 0, presweep: bool = True,
             quiet: bool = False, shape: str = "realistic") -> dict[str, object]:
    """Create the workspace of ``n`` tickets in ``root`` (replacing what is there)."""
    began = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for name, text in STARTER_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    tickets_dir = root / "tickets"
    all_ids = ticket_ids(n)
    jobs = jobs or os.cpu_count() or 1
    chunk = max(1, min(2000, n // (jobs * 4) or 1))
    work = [Job(n, s, tuple(all_ids[s:s + chunk]), str(tickets_dir), verify, presweep, shape)
            for s in range(0, n, chunk)]
    done = size = 0
    problems: list[str] = []
    last = 0.0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for count, nbytes, found in pool.map(run_job, work):
            done, size = done + count, size + nbytes
            problems += found
            now = time.perf_counter()
            if not quiet and (now - last > 2 or done == n):
                last = now
                rate = done / (now - began)
                print(f"  generated {done}/{n} tickets ({rate:.0f}/s, "
                      f"{size / max(done, 1) / 1024:.1f} KB each)", file=sys.stderr, flush=True)
    if problems:
        raise SystemExit("verification failed:\n" + "\n".join(problems[:20]))
    written = time.perf_counter() - began
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"esc-bench workspace: {n} tickets ({shape})")
    seconds = time.perf_counter() - began
    info = {"bytes": size, "seconds": round(seconds, 2), "write_seconds": round(written, 2),
            "jobs": jobs, "verified": (n + verify - 1) // verify if verify else 0,
            "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    # the marker is written last and never committed: a half-made workspace is regenerated
    (root / ".git" / "info" / "exclude").write_text(MARKER + "\n")
    (root / MARKER).write_text(json.dumps({**marker(n, presweep, shape), **info}, indent=2)
                               + "\n")
    if not quiet:
        print(f"  {n} tickets, {size / 1e6:.1f} MB, written in {written:.1f} s, "
              f"committed in {seconds - written:.1f} s", file=sys.stderr)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default: nproc)")
    parser.add_argument("--verify", type=int, default=0, metavar="K",
                        help="replay every K-th ticket through parse+apply_change and compare")
    parser.add_argument("--no-presweep", action="store_true",
                        help="leave the tickets unswept (no sla: blocks)")
    parser.add_argument("--shape", choices=SHAPES, default="realistic",
                        help="realistic: two years of history; open: every ticket open, "
                             "created today")
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args(argv)
    presweep = not args.no_presweep
    if not args.force and is_ready(args.dir, args.n, presweep, args.shape):
        print(f"{args.dir}: up to date", file=sys.stderr)
        return 0
    generate(args.dir, args.n, args.jobs, args.verify, presweep, shape=args.shape)
    return 0


if __name__ == "__main__":
    sys.exit(main())
