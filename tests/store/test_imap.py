"""`esc intake --imap` against a real IMAP server: Debian's dovecot, started here on a
loopback port with its own configuration, TLS with a certificate made for the test."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import mail_corpus as corpus
from tests.conftest import Esc

DOVECOT = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
PASSWORD = "s3cret"
UMLAUTS = "pässwörd"  # (another user's: LOGIN takes ASCII alone)


@dataclass
class Imap:
    port: int
    cafile: Path

    def client(self) -> Any:
        import imapclient

        context = ssl.create_default_context(cafile=str(self.cafile))
        client = imapclient.IMAPClient("127.0.0.1", self.port, ssl_context=context, timeout=5)
        client.login("esc", PASSWORD)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        for data in messages:
            client.append(folder, data)
        client.logout()

    def flags(self, folder: str = "INBOX") -> list[set[bytes]]:
        """The flags of each message of ``folder``, in order."""
        client = self.client()
        client.select_folder(folder, readonly=True)
        found = client.fetch(client.search("ALL"), ["FLAGS"])
        client.logout()
        return [set(found[uid][b"FLAGS"]) for uid in sorted(found)]

    def args(self, *more: str) -> list[str]:
        return ["intake", "--imap", "127.0.0.1", "--imap-port", str(self.port),
                "--imap-user", "esc", "--imap-cafile", str(self.cafile), *more]  # fmt: skip


def unavailable(reason: str) -> None:
    """Skip locally; on CI (which installs dovecot-imapd) a missing server is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the IMAP tests (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def imap(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Imap]:
    """The server; ``request.param`` (indirect parametrization) adds configuration lines."""
    extra = str(getattr(request, "param", ""))
    if DOVECOT is None:
        unavailable("dovecot is not installed (apt-get install dovecot-imapd)")
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed (it makes the server's certificate)")
    assert DOVECOT is not None
    me = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:  # dovecot's own users read its files, and never get mail as root:
        here = Path(tempfile.mkdtemp(prefix="esc-dovecot-"))  # (tmp_path is root's only)
        here.chmod(0o755)
        nobody = pwd.getpwnam("nobody")
        mail = here / "mail"
        mail.mkdir()
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)  # the mail is nobody's
        owner, users = f"uid={nobody.pw_uid} gid={nobody.pw_gid}", ""
    else:  # (dovecot run by a user: every service as that user)
        here = tmp_path / "dovecot"
        here.mkdir()
        mail = here / "mail"
        owner = f"uid={os.getuid()} gid={os.getgid()}"
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(here / "key.pem"), "-out", str(here / "cert.pem"), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    (here / "users").write_text(f"esc:{{PLAIN}}{PASSWORD}\nesc2:{{PLAIN}}{UMLAUTS}\n",
                                encoding="utf-8")  # fmt: skip
    (here / "users").chmod(0o644)
    port = _free_port()
    config = here / "dovecot.conf"
    config.write_text(f"""\
base_dir = {here}/run
state_dir = {here}/state
log_path = {here}/dovecot.log
{users}protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{here}/cert.pem
ssl_key = <{here}/key.pem
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 0
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {here}/users
}}
userdb {{
  driver = static
  args = {owner} home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
{extra}
""")
    server = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = here / "dovecot.log"
                    raise AssertionError(
                        "dovecot did not start: " + (log.read_text() if log.exists() else "")
                    ) from None
                time.sleep(0.05)
        yield Imap(port, here / "cert.pem")
    finally:
        server.terminate()
        server.wait(10)
        if not here.is_relative_to(tmp_path):
            shutil.rmtree(here, ignore_errors=True)


def test_imap_messages_become_tickets_and_are_flagged_or_moved(
    esc: Esc, workspace: Path, imap: Imap
) -> None:
    imap.append(corpus.message(), corpus.auto_reply(), corpus.broken_mime())
    env = {"ESC_IMAP_PASSWORD": PASSWORD}
    result = esc(*imap.args("--imap-quarantine-to", "Quarantine"), env=env)
    assert result.code == 1  # one quarantined
    (ticket,) = [p.stem for p in (workspace / "tickets").glob("*.md")]
    assert f"/INBOX#1: new ticket {ticket}, team support" in result.out
    assert "/INBOX#2: ignored: Auto-Submitted: auto-replied" in result.out
    assert result.out.endswith("3 messages: 1 new ticket, 1 ignored, 1 quarantined\n")
    (note,) = result.err.splitlines()
    assert "/INBOX#3: broken MIME" in note and "kept in quarantine/" in note
    taken = {b"\\Seen", b"esc-taken"}
    assert [f & taken for f in imap.flags()] == [taken, taken]  # the broken one moved away
    assert [b"esc-quarantined" in f for f in imap.flags("Quarantine")] == [True]
    # a rerun takes nothing; a reply is taken and moved to the folder named
    assert esc.ok(*imap.args(), env=env).strip() == "0 messages"
    imap.append(corpus.reply("apple", "Works now", in_reply_to="<m1@shop.example>"))
    out = esc.ok(*imap.args("--imap-move-to", "Done"), env=env)
    assert f"customer message on {ticket}" in out
    assert len(imap.flags()) == 2 and len(imap.flags("Done")) == 1


_ACL = (  # (the ACL plugin: a folder's rights from its `dovecot-acl` file)
    "mail_plugins = acl\nprotocol imap {\n  mail_plugins = acl imap_acl\n}\n"
    "plugin {\n  acl = vfile\n}"
)


@pytest.mark.parametrize("imap", [_ACL], ids=["acl"], indirect=True)
def test_a_message_whose_move_failed_is_moved_by_a_later_run(
    esc: Esc, workspace: Path, imap: Imap
) -> None:
    """`--imap-move-to Done` refused (no right to insert there, as a full quota does): the
    message was flagged taken before the move, searched for no more, and left in the inbox
    for good, one a run (audit helper-453).  Its flag is taken back: a later run finds it
    `already taken`, and moves it."""
    client = imap.client()
    client.create_folder("Done")
    client.logout()
    mail = imap.cafile.parent / "mail" / "esc" / ".Done"
    acl = mail / "dovecot-acl"
    acl.write_text("owner lr\n")  # (list and read: nothing may be put there)
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(acl, nobody.pw_uid, nobody.pw_gid)
    imap.append(corpus.message())
    env = {"ESC_IMAP_PASSWORD": PASSWORD}
    refused = esc(*imap.args("--imap-move-to", "Done"), env=env)
    assert refused.code == 1 and "move" in refused.err, refused.err
    # (what was taken before it stopped is said, then why: the whole report was lost)
    assert "/INBOX#1: new ticket T-" in refused.out, refused.out
    assert refused.out.endswith("1 message: 1 new ticket\n")
    assert refused.err.splitlines()[-1].startswith("esc: imap 127.0.0.1:")
    assert [b"esc-taken" in f for f in imap.flags()] == [False]  # (left to be taken again)
    acl.unlink()
    again = esc(*imap.args("--imap-move-to", "Done"), env=env)
    assert again.code == 0 and "already taken" in again.out, (again.out, again.err)
    assert imap.flags() == [] and len(imap.flags("Done")) == 1


def test_an_imap_message_deleted_but_not_yet_expunged_is_not_taken(
    esc: Esc, workspace: Path, imap: Imap
) -> None:
    client = imap.client()  # (a mail reader deleted it; the server keeps it until EXPUNGE)
    client.append("INBOX", corpus.message(message_id="<gone@shop.example>"), flags=[b"\\Deleted"])
    client.logout()
    imap.append(corpus.message(message_id="<kept@shop.example>"))
    out = esc.ok(*imap.args(), env={"ESC_IMAP_PASSWORD": PASSWORD})
    assert out.endswith("1 message: 1 new ticket\n")
    assert "/INBOX#2: new ticket" in out
    assert len(list((workspace / "tickets").glob("*.md"))) == 1
    assert imap.flags()[0] == {b"\\Deleted"}  # (left as the reader left it)


def test_a_password_that_is_not_ascii_logs_in(esc: Esc, workspace: Path, imap: Imap) -> None:
    """IMAP's LOGIN takes ASCII alone: a password with umlauts failed, "login as esc2:
    ascii" (audit helper-424); it logs in by AUTHENTICATE PLAIN, in UTF-8."""
    args = imap.args()
    args[args.index("esc")] = "esc2"
    result = esc(*args, env={"ESC_IMAP_PASSWORD": UMLAUTS})
    assert (result.code, result.out, result.err) == (0, "0 messages\n", "")
    wrong = esc(*args, env={"ESC_IMAP_PASSWORD": "pässwort"})
    assert wrong.code == 1 and "login as esc2: " in wrong.err and "ascii" not in wrong.err


def test_the_server_s_words_are_said_without_python_s_bytes_marks() -> None:
    """imaplib's error for a read-only folder says `b'"RO"' is not writable`: the bytes mark
    was taken off only when it held the whole text (audit helper-453)."""
    from esc.store.imap import _unquoted_bytes

    assert _unquoted_bytes("b'\"RO\"' is not writable") == '"RO" is not writable'
    assert _unquoted_bytes("b'[AUTHENTICATIONFAILED] Failed.'") == "[AUTHENTICATIONFAILED] Failed."
    assert _unquoted_bytes("b'caf\\xc3\\xa9' and b\"it's\"") == "café and it's"
    assert _unquoted_bytes("plain words, lib'rary") == "plain words, lib'rary"


def test_imap_failures_are_one_line(esc: Esc, workspace: Path, imap: Imap) -> None:
    wrong = esc(*imap.args(), env={"ESC_IMAP_PASSWORD": "wrong"})
    assert wrong.code == 1
    assert wrong.err.startswith(f"esc: imap 127.0.0.1:{imap.port}: login as esc: ")
    assert "b'" not in wrong.err and "Authentication failed" in wrong.err  # (the server's words)
    assert "wrong" not in wrong.err and "Traceback" not in wrong.err
    untrusted = esc(*imap.args()[:-2], env={"ESC_IMAP_PASSWORD": PASSWORD})  # no --imap-cafile
    assert untrusted.code == 1
    assert "cannot connect: TLS: CERTIFICATE_VERIFY_FAILED" in untrusted.err
    missing = esc(*imap.args())
    assert missing.code == 2
    assert missing.err == (
        "esc: --imap: the password is read from ESC_IMAP_PASSWORD, which is not set\n"
    )
    closed = esc("intake", "--imap", "127.0.0.1", "--imap-port", str(_free_port()),
                 "--imap-user", "esc", env={"ESC_IMAP_PASSWORD": PASSWORD})  # fmt: skip
    assert closed.code == 1 and "cannot connect: Connection refused" in closed.err
    for cafile, reason in [(workspace / "nowhere.pem", "No such file or directory"),
                           (workspace / "teams.yaml", "TLS: "), (workspace, "Is a directory")]:
        bad = esc("intake", "--imap", "127.0.0.1", "--imap-user", "esc", "--imap-cafile",
                  str(cafile), env={"ESC_IMAP_PASSWORD": PASSWORD})  # fmt: skip
        assert bad.code == 1, bad.err  # (not an internal error)
        assert bad.err.startswith(f"esc: imap 127.0.0.1:993: CA file {cafile}: {reason}")
    assert not list((workspace / "tickets").glob("*.md"))


@pytest.mark.parametrize(
    "imap",
    ["imap_capability = IMAP4rev1 LITERAL+ UIDPLUS", "imap_capability = IMAP4rev1 LITERAL+"],
    ids=["uidplus", "plain"],
    indirect=True,
)
def test_imap_moves_by_copy_and_expunge_on_a_server_without_move(
    esc: Esc, workspace: Path, imap: Imap
) -> None:
    client = imap.client()
    assert b"MOVE" not in client.capabilities()  # (as an older server announces)
    client.logout()
    imap.append(corpus.message(), corpus.broken_mime())
    env = {"ESC_IMAP_PASSWORD": PASSWORD}
    args = imap.args("--imap-move-to", "Done", "--imap-quarantine-to", "Quarantine")
    result = esc(*args, env=env)
    assert result.code == 1, result.err  # (the broken one quarantined; no MOVE failure)
    assert "Traceback" not in result.err and "MOVE" not in result.err
    assert result.out.endswith("2 messages: 1 new ticket, 1 quarantined\n")
    assert imap.flags() == []  # both moved away: copied, then expunged
    assert [b"esc-taken" in f for f in imap.flags("Done")] == [True]
    assert [b"esc-quarantined" in f for f in imap.flags("Quarantine")] == [True]
    assert esc.ok(*args, env=env).strip() == "0 messages"


def test_a_folder_that_cannot_keep_esc_s_keywords_is_refused_unless_messages_are_moved() -> None:
    """A server ignores a keyword its folder cannot keep (PERMANENTFLAGS without `\\*`):
    each run read the same messages again and quarantined the same ones again (audit
    helper-453).  Said at once, naming the options that move messages instead."""
    from esc.store.imap import ImapSettings, keywords_problem

    plain = ImapSettings("imap.example.com", "u", "p")
    fixed = {b"PERMANENTFLAGS": (b"\\Answered", b"\\Seen", b"\\Deleted")}
    said = keywords_problem(fixed, plain)
    assert said is not None and "--imap-move-to and --imap-quarantine-to" in said
    moving = ImapSettings("imap.example.com", "u", "p", done_folder="Done")
    assert keywords_problem(fixed, moving) is not None  # (quarantined ones still flagged)
    both = ImapSettings("h", "u", "p", done_folder="Done", quarantine_folder="Bad")
    assert keywords_problem(fixed, both) is None
    assert keywords_problem({b"PERMANENTFLAGS": (b"\\Seen", b"\\*")}, plain) is None
    kept = {b"PERMANENTFLAGS": (b"\\Seen", b"esc-taken", b"esc-quarantined")}
    assert keywords_problem(kept, plain) is None
    assert keywords_problem({b"EXISTS": 3}, plain) is None  # (the server did not say)
