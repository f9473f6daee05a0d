"""Test helper: a W&B server that misbehaves, on loopback, for `WANDB_BASE_URL`.

    with misbehaving_wandb("429") as url: ...     # every request answered 429 Too Many Requests (throttled)
    with misbehaving_wandb("500") as url: ...     # every request answered 500
    with misbehaving_wandb("close") as url: ...   # every connection accepted and closed without an answer
    with misbehaving_wandb("silent") as url: ...  # every request read and never answered

A silent handler waits on an event the context manager sets on exit, so no thread outlives the test by more than
its own wait; requests are counted (`server.requests`) so a test can show W&B really talked to it.
"""

from __future__ import annotations

import http.server
import socket
import threading
from contextlib import contextmanager
from typing import Iterator

MODES = ("429", "500", "close", "silent")
FAKE_API_KEY = "f" * 40  # W&B checks only the key's shape before it talks to the server


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _any(self) -> None:
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with server.lock:
            server.requests += 1
        if server.mode == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if server.mode == "silent":
            server.released.wait(60)  # bounded: the context manager's exit releases it at once
            self.close_connection = True
            return
        body = b'{"errors": [{"message": "misbehaving test endpoint"}]}'
        self.send_response(int(server.mode))
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _any

    def log_message(self, *args) -> None:
        pass


@contextmanager
def misbehaving_wandb(mode: str) -> Iterator[http.server.ThreadingHTTPServer]:
    """A loopback HTTP server in a thread that answers every request as `mode` says; yields the server (its
    `url`, `requests`)."""
    assert mode in MODES, mode
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.mode, server.requests, server.lock, server.released = mode, 0, threading.Lock(), threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
