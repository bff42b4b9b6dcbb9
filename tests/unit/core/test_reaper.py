"""The reaper of boxes that cannot be AutoRemove: a released reaper touches nothing; one whose
owner is gone removes every container with its label, through the engine's API socket (here a
small recording server on a Unix socket)."""

from __future__ import annotations

import json
import socketserver
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobox.engine.reaper import LABEL, Reaper


class Recorder(socketserver.ThreadingUnixStreamServer):
    requests: list[str]


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline().decode().split()
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        method, target = line[0], urllib.parse.unquote(line[1])
        assert isinstance(self.server, Recorder)
        self.server.requests.append(f"{method} {target}")
        body = b"{}"
        if method == "GET":
            body = json.dumps([{"Id": "box1"}, {"Id": "box2"}]).encode()
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body)


@pytest.fixture
def engine() -> Iterator[Recorder]:
    with tempfile.TemporaryDirectory() as folder:
        server = Recorder(str(Path(folder) / "engine.sock"), Handler)
        server.requests = []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield server
        finally:
            server.shutdown()
            server.server_close()


def _settle(server: Recorder, count: int) -> list[str]:
    end = time.monotonic() + 30
    while len(server.requests) < count and time.monotonic() < end:
        time.sleep(0.02)
    return server.requests


def test_a_reaper_whose_owner_is_gone_removes_what_carries_its_label(engine: Recorder) -> None:
    reaper = Reaper(str(engine.server_address))
    name, token = reaper.label
    assert name == LABEL and len(token) == 32
    reaper.abandon()  # the write end closes, as when the owner dies
    requests = _settle(engine, 3)
    assert requests[0] == (f'GET /containers/json?all=1&filters={{"label": ["{LABEL}={token}"]}}')
    assert sorted(requests[1:]) == [
        "DELETE /containers/box1?force=1&v=1",
        "DELETE /containers/box2?force=1&v=1",
    ]


def test_a_released_reaper_touches_nothing(engine: Recorder) -> None:
    reaper = Reaper(str(engine.server_address))
    reaper.release()
    reaper.release()  # idempotent
    reaper._proc.wait(timeout=30)
    assert engine.requests == []
