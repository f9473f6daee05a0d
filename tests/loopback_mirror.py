"""A loopback HTTP server for the download tests: it serves one folder's files on 127.0.0.1 (nothing leaves the
machine) and records each request's path, so a test sees what a command fetched, and fetched again.

    with serving(folder) as mirror:
        main(["data", "download", "cifar-n", "--root", str(root), "--mirror", mirror.url])
        assert mirror.requests == [...]
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator


@dataclass
class Mirror:
    url: str
    requests: list[str] = field(default_factory=list)  # the path of every GET, in order


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files and says nothing (a test's stderr is the command's)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.mirror.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that closes early (torchvision's redirect probe reads no body) is no error of the server's."""


@contextmanager
def serving(folder: Path) -> Iterator[Mirror]:
    """Serve `folder` on a free loopback port while inside; yields the mirror (its base URL and requests)."""
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    server.mirror = Mirror(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
