"""W&B servers on loopback for the tests and the benchmarks, for `WANDB_BASE_URL` (standard library only).

    with misbehaving_wandb("429") as url: ...     # every request answered 429 Too Many Requests (throttled)
    with misbehaving_wandb("500") as url: ...     # every request answered 500
    with misbehaving_wandb("close") as url: ...   # every connection accepted and closed without an answer
    with misbehaving_wandb("silent") as url: ...  # every request read and never answered

    with wandb_standin(silent_from="artifacts") as server: ...

`wandb_standin` speaks enough of W&B's API for the real client to complete a run online (its answers:
testing_support/wandb_standin_api.py): the GraphQL start (Viewer, ServerFeaturesQuery, UpsertBucket,
RunResumeStatus), the file stream (history, summary, console), run files (CreateRunFiles and the uploads), artifacts
(CreateArtifact, CreateArtifactFiles, CreateArtifactManifest, CommitArtifact, UseArtifact and the uploads). It keeps
what it got per run (`server.runs`), and goes silent (reads a request and never answers it, as a server that stopped
answering) from a point on: `silent_from` names it (one of SILENT_POINTS), or a test calls `go_silent()`;
`answer_again()` ends the silence.

A silent handler waits on an event that `answer_again()` or the context manager's exit sets, so no thread outlives
the test by more than its own wait; requests are counted (`server.requests`) so a test can show W&B talked to it.

    with parent_wandb_service(tmp_path) as token: ...  # WANDB_SERVICE of a live service, as a notebook leaves one
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from testing_support.wandb_standin_api import file_stream, graphql, operation, upload

MODES = ("429", "500", "close", "silent")
FAKE_API_KEY = "f" * 40  # W&B checks only the key's shape before it talks to the server

# where a stand-in may go silent: the first request of that kind and every one after it goes unanswered
SILENT_POINTS = {
    "start": lambda kind, body: kind == "file_stream",  # the run's start answered, its first file-stream post not
    "artifacts": lambda kind, body: kind == "graphql" and body.get("op") == "CreateArtifact",
    "finish": lambda kind, body: kind == "file_stream" and body.get("complete"),
}


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


def _serve(server: http.server.ThreadingHTTPServer) -> Iterator[http.server.ThreadingHTTPServer]:
    server.daemon_threads = True
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


@contextmanager
def misbehaving_wandb(mode: str) -> Iterator[http.server.ThreadingHTTPServer]:
    """A loopback HTTP server in a thread that answers every request as `mode` says; yields the server (its
    `url`, `requests`)."""
    assert mode in MODES, mode
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.mode, server.requests, server.lock, server.released = mode, 0, threading.Lock(), threading.Event()
    yield from _serve(server)


# ------------------------------------------------------------------------------------------------ the stand-in


@dataclass
class RunRecord:
    """What the stand-in got of one W&B run (by its id)."""

    history: dict[int, dict] = field(default_factory=dict)  # line offset -> row
    summary: dict = field(default_factory=dict)
    files: set[str] = field(default_factory=set)  # run files uploaded
    artifacts: list[str] = field(default_factory=list)  # names of the artifacts committed
    exitcode: int | None = None

    @property
    def history_lines(self) -> int:
        return max(self.history, default=-1) + 1


class StandInServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up on a silent request resets its connection: expected, not news

    def __init__(self, silent_from: str | None, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _StandInHandler)  # port 0: any free one
        assert silent_from is None or silent_from in SILENT_POINTS, silent_from
        self.silent_from = silent_from
        self.requests = 0
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.silent = threading.Event()
        self.runs: dict[str, RunRecord] = {}
        self.artifacts: dict[str, tuple[str, str | None]] = {}  # artifact id -> (name, the run that logs it)
        self.ops: list[str] = []  # what was asked, in order ("graphql:UpsertBucket", "file_stream", "upload")

    def go_silent(self) -> None:
        self.silent.set()

    def answer_again(self) -> None:
        self.silent.clear()
        self.released.set()
        self.released = threading.Event()

    def run(self, run_id: str) -> RunRecord:
        with self.lock:
            return self.runs.setdefault(run_id, RunRecord())


class _StandInHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandInServer

    def _any(self) -> None:
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        kind = (
            "graphql"
            if path.rstrip("/").endswith("/graphql")
            else "file_stream"
            if path.endswith("/file_stream")
            else "upload"
            if path.startswith("/upload/")
            else "other"
        )
        body: dict[str, Any] = {}
        if kind in ("graphql", "file_stream"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
        if kind == "graphql":
            body["op"] = body.get("operationName") or operation(body.get("query") or "")
        with server.lock:
            server.requests += 1
            server.ops.append(f"{kind}:{body.get('op')}" if kind == "graphql" else kind)
        point = SILENT_POINTS.get(server.silent_from or "")
        if point is not None and point(kind, body):
            server.silent.set()
        if server.silent.is_set():
            released = server.released
            released.wait(120)  # bounded: answer_again() or the context manager's exit releases it at once
            self.close_connection = True
            return
        if kind == "graphql":
            answer = {"data": graphql(server, body["op"], body.get("variables") or {})}
        elif kind == "file_stream":
            answer = file_stream(server, path, body)
        elif kind == "upload":
            upload(server, path)
            answer = {}
        else:
            answer = {}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _any

    def log_message(self, *args) -> None:
        pass


def wandb_services_of(pid: int) -> list[int]:
    """Live `wandb-core` processes that the process `pid` started (W&B passes it `--pid <pid>`), found in /proc:
    also after they were reparented, when that process has exited."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = [a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0")]
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        mine = any(a == "--pid" and b == str(pid) for a, b in zip(argv, argv[1:]))
        if Path(argv[0]).name == "wandb-core" and mine and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


@contextmanager
def wandb_standin(silent_from: str | None = None) -> Iterator[StandInServer]:
    """A loopback stand-in for W&B's server (module docstring); yields it (its `url`, `runs`, `requests`)."""
    yield from _serve(StandInServer(silent_from))


@contextmanager
def parent_wandb_service(folder: Path) -> Iterator[str]:
    """The WANDB_SERVICE token of a live W&B service that this (the test's) process started with an offline run in
    `folder`, as a notebook or a driver script that used W&B leaves one to the processes it starts; stopped on
    exit."""
    import wandb  # deferred: wandb is heavy, and the servers above need only the standard library

    wandb.teardown()  # a service of its own, not one an earlier test of this process left
    wandb.init(mode="offline", dir=str(folder), project="parent").finish()
    try:
        token = os.environ.get("WANDB_SERVICE")
        assert token, "W&B started no service in this process"
        yield token
    finally:
        wandb.teardown()
