"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) that answers with scripted statuses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    url: str
    statuses: list[int]  # answered in turn; the last one repeats
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # idempotency keys acted on (once each)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        self.requests.append((headers, body))
        status = self.statuses[min(len(self.requests) - 1, len(self.statuses) - 1)]
        key = headers.get("Idempotency-Key", "")
        if 200 <= status < 300 and key not in self.accepted:
            self.accepted.append(key)
        return status


@contextmanager
def running_receiver(statuses: list[int]) -> Iterator[Receiver]:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            assert receiver is not None
            status = receiver.answer(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/rapport", statuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
