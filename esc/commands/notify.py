"""`esc notify test TARGET`, and the validation of the `notify:` section's targets
against the environment (missing variables, named without their values)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping

from esc.commands.session import Output, Session
from esc.domain.choices import unknown_choice
from esc.domain.config import RULES_FILE, Config, Finding
from esc.domain.errors import BadInput, EscError
from esc.domain.notify import expand, missing_variables, probe_id, url_problem, variables
from esc.domain.timestamps import format_timestamp
from esc.store.outbox import Outbox, apprise_knows, send


def environment_findings(config: Config | None, env: Mapping[str, str]) -> list[Finding]:
    """A finding for each variable a target's URL names that the environment lacks, for
    each URL whose scheme, once its variables are put in, esc does not send to (a whole
    secret URL in `${SLACK_WEBHOOK_URL}`; never quoting it), and for each URL apprise
    cannot use, or an http(s) one that is no service it knows (apprise is imported only
    when there are targets)."""
    if config is None or config.notify is None:
        return []
    missing = missing_variables(config.notify, env)
    found = [
        Finding(
            RULES_FILE,
            target.line,
            f"notify target {target.name}: the environment variable {name} {problem}",
        )
        for target, name, problem in missing
    ]
    lacking = {target.name for target, _, _ in missing}
    for target in config.notify.targets.values():
        if target.name in lacking:
            continue
        url = expand(target.url, env)
        problem = url_problem(url) if variables(target.url) else None
        if problem is None and not apprise_knows(url):
            problem = (
                "apprise knows no service at this http(s) address (a webhook of your own "
                "is json://, form:// or xml://; jsons:// and the like for https)"
                if _web_address(url)
                else f"apprise cannot use this {url.partition('://')[0].lower()}:// URL, once"
                " its variables are put in (see apprise's page for that service)"
            )
        if problem is not None:
            found.append(
                Finding(RULES_FILE, target.line, f"notify target {target.name}: {problem}")
            )
    return found


def _web_address(url: str) -> bool:
    """Whether ``url`` is an ``http(s)://`` one, which apprise takes only as the address
    of a service it knows (its scheme says nothing of that)."""
    return url.partition("://")[0].lower() in ("http", "https")


def test(session: Session, target: str) -> Output:
    """Send a test message to ``target`` (or to each target of a team or person that
    rules.yaml's ``notify:`` names, as a rule's ``notify:`` may); exit 1 if one is not
    accepted."""
    notify = session.workspace.config().notify
    if notify is not None and target in notify.targets:
        names: tuple[str, ...] = (target,)
    elif notify is not None and (target in notify.teams or target in notify.people):
        both = (*notify.teams.get(target, ()), *notify.people.get(target, ()))
        names = tuple(dict.fromkeys(both))
        if not names:  # (`support: []`: nothing was sent, and it said nothing, exit 0;
            # audit helper-423)
            raise EscError(f"notify test: {target} has no target in rules.yaml's notify:;"
                           " nothing was sent")  # fmt: skip
    else:
        known = (  # (a team's or a person's name is taken too: said with the targets)
            tuple(dict.fromkeys((*notify.targets, *notify.teams, *notify.people)))
            if notify is not None
            else ()
        )
        said = unknown_choice("target, team or person", target, known)
        raise BadInput(f"rules.yaml notify: {said}")
    now = session.now
    output = Output()
    sent: list[str] = []
    for name in names:
        event = probe_id(name, now)
        error = send(
            notify,
            name,
            f"[esc] test message to {name}",
            f"A test message from esc to {name}, at {format_timestamp(now)}.\n\nevent {event}",
            os.environ,
            event=event,
        )
        if error is None:
            sent.append(f"sent a test message to {name}\n")
        else:
            output.notes.append(f"esc: notify test: {error}")
            output.code = 1
    output.text = "".join(sent) or None
    return output


def refused_notes(session: Session) -> list[str]:
    """One line per message refused for good (a customer's address the mail server
    refused, or none): never retried, a person's to act on (for doctor)."""
    root = session.workspace.root
    outbox = Outbox(root)
    waiting, _ = outbox.read()
    return [
        f"{m.describe()} ({m.to}) refused for good: {m.error}; remove"
        f" {outbox.path(m.key).relative_to(root)} once they have been told another way"
        for m in waiting
        if m.status == "refused"
    ]


def failing_notes(session: Session) -> list[str]:
    """One line per message that failed FAILING_AFTER times or more (for check and doctor),
    to a target rules.yaml still has (one taken out is dropped by the next sweep, not
    retried: nothing to act on), then one per message file that cannot be read."""
    failing, unreadable = outbox_problems(session)
    return failing + unreadable


def outbox_problems(session: Session) -> tuple[list[str], list[str]]:
    """:func:`failing_notes`' lines, those of messages that keep failing apart from those
    of files that cannot be read (each mended another way)."""
    try:
        notify = session.config.notify
    except EscError:  # (a configuration that does not load: each message is still news)
        targets = None
    else:
        targets = set(notify.targets) if notify is not None else set()
    root = session.workspace.root
    waiting, unreadable = Outbox(root).read()  # (one read of the outbox)
    failing = [m for m in waiting if m.failing and (targets is None or m.target in targets)]
    behind = Counter(m.target for m in waiting if m.status == "pending" and not m.failing)
    lines = []
    for m in failing:
        line = f"notification {m.describe()} failed {m.attempts} times: {m.error}"
        if behind[m.target]:  # (said once a target: the others wait for it to answer)
            line += f"; {behind.pop(m.target):,} more to {m.target} not sent yet"
        lines.append(line)
    broken = []
    for path, why in unreadable:  # (never sent, and nothing said it)
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        broken.append(f"notification file {shown} cannot be read ({why}): it is never sent;"
                      " mend it or remove it")  # fmt: skip
    return lines, broken
