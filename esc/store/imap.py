"""Reading incoming mail from an IMAP folder, with imapclient (imported only for
``esc intake --imap``).

Always over TLS: implicit TLS (port 993) by default, or STARTTLS (port 143), the server's
certificate checked against the system's CAs (or ``cafile``).  The password comes from an
environment variable, never from the command line.  The messages taken are those of the
folder without esc's keywords, read with ``BODY.PEEK[]`` (so reading does not mark them
seen); a message taken is marked ``\\Seen`` and ``esc-taken`` (or moved to a folder, with
MOVE, or COPY and EXPUNGE on a server without it), a quarantined one ``esc-quarantined``
(or moved to another).  Messages are matched to tickets by Message-ID, as every source
is, so one flagged late (a crash, a lost connection) is ``already taken`` on the next
run, and flagged then.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from esc.domain.errors import BadInput, EscError
from esc.store.mail import MAX_MESSAGE_BYTES, Incoming

Security = Literal["tls", "starttls"]
PORTS: dict[Security, int] = {"tls": 993, "starttls": 143}
TAKEN = b"esc-taken"  # the keyword of a message intake took (with \Seen)
QUARANTINED = b"esc-quarantined"  # of one it could not use
TIMEOUT = 30.0  # seconds for the connection and each command
BATCH = 20  # messages fetched at once


class ImapError(EscError):
    """The server cannot be reached, refuses the login, or fails a command."""


@dataclass
class ImapSettings:
    host: str
    user: str
    password: str
    port: int | None = None  # None: 993 for tls, 143 for starttls
    folder: str = "INBOX"
    security: Security = "tls"
    cafile: str | None = None  # a CA file to check the server's certificate with
    done_folder: str | None = None  # move taken messages there (else flag them)
    quarantine_folder: str | None = None  # move quarantined ones there (else flag them)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port or PORTS[self.security]}"


class ImapSource:
    """One session with the server: ``with ImapSource(settings) as source:`` logs in and
    selects the folder; :meth:`messages` yields the messages to take."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.client: Any = None

    def __enter__(self) -> ImapSource:
        import imapclient  # (only for --imap)

        s = self.settings
        context = self._call(  # (a --imap-cafile that is missing or no PEM: one line)
            f"CA file {s.cafile}", ssl.create_default_context, cafile=s.cafile
        )
        port = s.port or PORTS[s.security]
        tls = s.security == "tls"
        self.client = client = self._call(
            "cannot connect", imapclient.IMAPClient, s.host, port, ssl=tls, ssl_context=context,
            timeout=TIMEOUT,
        )  # fmt: skip
        try:
            if s.security == "starttls":
                self._call("STARTTLS", client.starttls, context)
            # (LOGIN takes ASCII alone: a user or password with `ä` failed, "ascii"; such
            # a one logs in by AUTHENTICATE PLAIN, in UTF-8: audit helper-424)
            plain = (s.user + s.password).isascii()
            login = client.login if plain else client.plain_login
            self._call(f"login as {s.user}", login, s.user, s.password)
            selected = self._call(f"folder {s.folder}", client.select_folder, s.folder)
            problem = keywords_problem(selected, s)
            if problem is not None:
                raise ImapError(f"imap {s.address}: folder {s.folder}: {problem}")
            for folder in (s.done_folder, s.quarantine_folder):
                if folder is not None and not self._call("list", client.folder_exists, folder):
                    self._call(f"create folder {folder}", client.create_folder, folder)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # (the connection may be gone: nothing is left to do)
            with contextlib.suppress(Exception):
                client.shutdown()

    def _call(self, what: str, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``action(*args)``, its failure one line naming the server (never the password)."""
        try:
            return action(*args, **kwargs)
        except ssl.SSLError as exc:
            reason = exc.reason or type(exc).__name__
            raise ImapError(f"imap {self.settings.address}: {what}: TLS: {reason}") from None
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise ImapError(f"imap {self.settings.address}: {what}: {reason}") from None
        except Exception as exc:  # imapclient's and imaplib's errors
            text = exc.args[0] if exc.args else type(exc).__name__
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            text = _unquoted_bytes(text)
            raise ImapError(f"imap {self.settings.address}: {what}: {text}") from None

    def messages(self) -> Iterator[Incoming]:
        """The messages to take (not taken, quarantined or deleted), oldest first; one over
        the size limit is not downloaded (yielded empty, with its ``problem``: intake
        quarantines it on the server only)."""
        client, s = self.client, self.settings
        uids = self._call(
            "search",
            client.search,
            # (a message flagged \\Deleted was deleted by a mail reader, not yet expunged)
            ["NOT", "DELETED", "NOT", "KEYWORD", TAKEN, "NOT", "KEYWORD", QUARANTINED],
        )
        uids = sorted(int(u) for u in uids)
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            sizes = self._call("fetch", client.fetch, chunk, ["RFC822.SIZE"])
            small = [
                u
                for u in chunk
                if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= MAX_MESSAGE_BYTES
            ]
            bodies = self._call("fetch", client.fetch, small, ["BODY.PEEK[]"]) if small else {}
            for uid in chunk:
                data = bodies.get(uid, {}).get(b"BODY[]")
                if uid in small and data is None:  # (deleted meanwhile by another reader)
                    continue
                too_big = f"over {MAX_MESSAGE_BYTES // (1024 * 1024)} MB (left on the server)"
                yield Incoming(
                    f"imap://{s.address}/{s.folder}#{uid}",
                    bytes(data) if data is not None else b"",
                    taken=functools.partial(self.taken, uid),
                    quarantined=functools.partial(self.quarantined, uid),
                    problem=None if data is not None else too_big,
                )

    def taken(self, uid: int) -> None:
        self._done(uid, TAKEN, self.settings.done_folder)

    def quarantined(self, uid: int) -> None:
        self._done(uid, QUARANTINED, self.settings.quarantine_folder)

    def _done(self, uid: int, keyword: bytes, folder: str | None) -> None:
        client = self.client
        self._call("store", client.add_flags, [uid], [b"\\Seen", keyword], silent=True)
        if folder is not None:
            try:
                self._move([uid], folder)
            except ImapError:  # (flagged, it was searched for no more, and never moved: the
                # flag is taken back, and the next run, finding it `already taken`, moves it;
                # audit helper-453)
                with contextlib.suppress(ImapError):
                    self._call("store", client.remove_flags, [uid], [keyword], silent=True)
                raise

    def _move(self, uids: list[int], folder: str) -> None:
        """Move ``uids`` to ``folder``: MOVE, or on a server without it COPY, ``\\Deleted``
        and EXPUNGE (UID EXPUNGE of those alone with UIDPLUS; without it, a plain EXPUNGE
        also removes the folder's other messages flagged ``\\Deleted``)."""
        client = self.client
        if self._call("capability", client.has_capability, "MOVE"):
            self._call("move", client.move, uids, folder)
            return
        self._call("copy", client.copy, uids, folder)
        self._call("store", client.add_flags, uids, [b"\\Deleted"], silent=True)
        if self._call("capability", client.has_capability, "UIDPLUS"):
            self._call("expunge", client.uid_expunge, uids)
        else:
            self._call("expunge", client.expunge)


def keywords_problem(selected: object, settings: ImapSettings) -> str | None:
    """Why esc cannot mark what it takes in the folder ``selected`` (imapclient's answer to
    SELECT): its PERMANENTFLAGS allow no new keyword (``\\*``) and lack esc's, and no folder
    to move such messages to is given.  A server ignores a keyword it cannot keep (RFC
    9051): each run read the folder's messages again, and quarantined the same ones again
    (audit helper-453).  None when it can, or the server did not say."""
    permanent = selected.get(b"PERMANENTFLAGS") if isinstance(selected, dict) else None
    if permanent is None:
        return None
    flags = {bytes(f).lower() if isinstance(f, (bytes, bytearray)) else str(f).encode().lower()
             for f in permanent}  # fmt: skip
    missing = [
        option
        for keyword, folder, option in (
            (TAKEN, settings.done_folder, "--imap-move-to"),
            (QUARANTINED, settings.quarantine_folder, "--imap-quarantine-to"),
        )
        if b"\\*" not in flags and keyword not in flags and folder is None
    ]
    if not missing:
        return None
    return (
        "it cannot keep esc's keywords (its PERMANENTFLAGS allow none), so nothing would"
        f" mark what intake took: give {' and '.join(missing)} to move messages instead"
    )


def settings_of(
    host: str,
    user: str | None,
    password: str | None,
    password_variable: str,
    **options: Any,
) -> ImapSettings:
    """The settings for ``--imap``; bad input when the user or password is missing."""
    if not host or host.startswith("-"):
        raise BadInput("--imap: give the server's host name")
    if not user:
        raise BadInput("--imap: give the user with --imap-user or ESC_IMAP_USER")
    if not password:
        raise BadInput(f"--imap: the password is read from {password_variable}, which is not set")
    return ImapSettings(host, user, password, **options)


def _unquoted_bytes(text: str) -> str:
    """The server's words where imapclient wrote them as Python bytes (its LoginError says
    `b'[AUTHENTICATIONFAILED] Authentication failed.'`), anywhere in the text (imaplib's
    read-only folder: `b'"RO"' is not writable`, audit helper-453): without the `b'…'`."""

    def plain(found: re.Match[str]) -> str:
        try:
            value = ast.literal_eval(found[0])
        except (ValueError, SyntaxError):
            return found[0]
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else found[0]

    return _BYTES_LITERAL.sub(plain, text)


# A Python bytes literal as repr() writes one: b'…' (or b"…" when it holds a ')
_BYTES_LITERAL = re.compile(r"""\bb(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
