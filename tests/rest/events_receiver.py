"""A real HTTP receiver on loopback for the outgoing events' tests: `http.server` in a thread that
keeps every post (its form fields, in order) and answers with the statuses it is told."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class Receiver:
    def __init__(self, tls=None):
        """`tls`: a server-side ssl.SSLContext — the receiver answers HTTPS and keeps the server
        name each client asked for (SNI) in `server_names`."""
        self.server_names: list[str | None] = []
        self.posts: list[list[tuple[str, str]]] = []
        self.headers: list[dict[str, str]] = []
        self.answers: list[int] = []  # statuses to answer, in turn; 200 once they run out
        self.redirect_to = ""
        receiver = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.posts.append(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                receiver.headers.append(dict(self.headers))
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                else:
                    self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/bitrix/events"
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fields(self, index: int = -1) -> dict[str, str]:
        return dict(self.posts[index])

    def events(self) -> list[tuple[str, str]]:
        """(event, record id) of every post, in order."""
        found = []
        for post in self.posts:
            fields = dict(post)
            found.append((fields["event"], fields.get("data[FIELDS][ID]") or fields.get("data[FIELDS_AFTER][ID]")
                          or fields.get("data[FIELDS_BEFORE][ID]")))
        return found

    def close(self):
        self.server.shutdown()
        self.server.server_close()
