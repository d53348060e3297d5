"""A real webhook receiver on 127.0.0.1 for the notification tests (apprise's `json://`
posts to it): what each request held, and ways to make it fail or wait."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hook:
    """Every JSON body posted, by path, and each request's Authorization header; ``fail``
    answers 500, ``refuse`` 400 to a body holding that text (a payload the service does
    not take); ``calls`` counts every request; with ``hold``, a request waits until
    ``hold`` is set (``arrived`` is set when one came), then is answered if
    ``answer_held`` (else the sender is taken for gone)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, object]]] = []
        self.auth: list[str | None] = []
        self.headers: list[dict[str, str]] = []  # each post's request headers
        self.fail = False
        self.refuse = ""
        self.calls = 0
        self.hold: threading.Event | None = None  # set: answer only once it is set
        self.arrived = threading.Event()  # a request came
        self.answer_held = False  # answer a held request once ``hold`` is set
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.calls += 1
                hook.arrived.set()
                if hook.hold is not None:
                    hook.hold.wait(60)
                    if not hook.answer_held:
                        return  # (the sender is gone: no answer)
                if hook.fail:
                    self.send_response(500)
                elif hook.refuse and hook.refuse in body.decode("utf-8", "replace"):
                    self.send_response(400)
                else:
                    hook.posts.append((self.path, json.loads(body)))
                    hook.auth.append(self.headers.get("Authorization"))
                    hook.headers.append(dict(self.headers.items()))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages(self) -> list[tuple[str, str]]:
        """(path, message text) of each post, in order."""
        return [(path, str(body["message"])) for path, body in self.posts]

    def events(self) -> list[str]:
        """The event id each message ends with, in order."""
        return [text.rpartition("event ")[2] for _, text in self.messages()]

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
