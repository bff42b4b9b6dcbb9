"""A fake engine for the sandbox's concurrency logic: no daemon, real sockets, real threads.
(Its URL is a loopback TCP address nothing connects to, so execs take the SDK's path.)

It stands in for the docker SDK's low-level ``APIClient`` under a real
:class:`reprobox.engine.Engine`, so ``reprobox.engine.containers`` and the boxes run their
real code. Containers behave like boxes under ``boxinit``: a primed box reads its command
from the attach socket (the ``R`` message), runs a *program* (a Python function standing in
for the command) and streams its output in the engine's framing; a session box serves execs.
Failures on purpose: missing images, failing or slow creates, removals that fail, execs whose
status never comes, boxes that end while they wait.
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reprobox.engine import lite
from reprobox.engine.core import Engine
from reprobox.exitcodes import SIGKILLED

Output = tuple[bytes, bytes, int]  # stdout, stderr, exit status
Program = Callable[[list[str], threading.Event], Output]


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


def echo(argv: list[str], killed: threading.Event) -> Output:
    return (" ".join(argv[1:]) + "\n").encode(), b"", 0


def fail(argv: list[str], killed: threading.Event) -> Output:
    return b"", b"failed\n", int(argv[1]) if len(argv) > 1 else 1


def slow_fail(argv: list[str], killed: threading.Event) -> Output:
    """``fail`` after a moment, as a real command takes one: the SDK path's wait for an
    auto-removed box is sent from a helper thread, which must get there before the box ends
    (the real engine, too, answers a wait that comes after the removal with 404)."""
    killed.wait(0.2)
    return fail(argv, killed)


def hang(argv: list[str], killed: threading.Event) -> Output:
    killed.wait(60)
    return b"", b"", SIGKILLED


PROGRAMS: dict[str, Program] = {"echo": echo, "fail": fail, "slow_fail": slow_fail, "hang": hang}
KILL_HELPER = ["sh", "-c", "kill -9 -1 2>/dev/null; exit 0"]


@dataclass
class Box:
    id: str
    config: dict[str, Any]
    running: bool = False
    status: int | None = None
    peer: socket.socket | None = None  # the engine's end of the attach socket
    messages: list[bytes] = field(default_factory=list)
    killed: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def argv(self) -> list[str]:
        return [*(self.config.get("Entrypoint") or []), *(self.config.get("Cmd") or [])]


class FakeAPI:
    """The ``APIClient`` methods the sandbox calls, over in-memory boxes."""

    def __init__(self) -> None:
        self.boxes: dict[str, Box] = {}
        self.removed: list[str] = []
        self.images = {"img"}
        self.create_delay = 0.0
        self.create_failures = 0  # the next N creates fail with a 500
        self.remove_error: lite.APIError | None = None
        self.exec_status_missing = False
        self.exec_failures = 0  # the next N "kill everything" helpers cannot start
        self.kill_helper_hangs = False  # "kill everything" helpers run until the box is killed
        self.execs: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- containers ---------------------------------------------------------------------
    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return dict(kwargs)

    def create_container(self, host_config: dict[str, Any], **kwargs: Any) -> dict[str, str]:
        self.calls.append("create")
        time.sleep(self.create_delay)
        if kwargs["image"] not in self.images:
            raise lite.ImageNotFound(404, f"No such image: {kwargs['image']}")
        with self._lock:
            if self.create_failures > 0:
                self.create_failures -= 1
                raise lite.APIError(500, "create failed on purpose")
            ident = f"box{next(self._ids):04d}"
        config = {**kwargs, "HostConfig": host_config}
        config["Entrypoint"], config["Cmd"] = kwargs.get("entrypoint"), kwargs.get("command")
        self.boxes[ident] = Box(ident, config)
        return {"Id": ident}

    def attach_socket(self, ident: str, params: dict[str, Any]) -> socket.socket:
        ours, theirs = socket.socketpair()
        self._box(ident).peer = theirs
        return ours

    def start(self, ident: str) -> None:
        box = self._box(ident)
        box.running = True
        threading.Thread(target=self._serve, args=(box,), daemon=True).start()

    def wait(self, ident: str, condition: str | None = None) -> dict[str, int]:
        box = self._box(ident)
        box.done.wait(30)
        return {"StatusCode": box.status if box.status is not None else -1}

    def kill(self, ident: str) -> None:
        self._end(self._box(ident), SIGKILLED)

    def remove_container(self, ident: str, force: bool = False, v: bool = False) -> None:
        self.calls.append("remove")
        if self.remove_error is not None:
            raise self.remove_error
        box = self._box(ident)
        self._end(box, SIGKILLED)
        self.boxes.pop(ident, None)
        self.removed.append(ident)

    def inspect_container(self, ident: str) -> dict[str, Any]:
        box = self._box(ident)
        return {"State": {"Running": box.running, "OOMKilled": False}}

    def events(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return iter(())

    # --- execs (session boxes) ----------------------------------------------------------
    def exec_create(self, ident: str, cmd: list[str], **kwargs: Any) -> dict[str, str]:
        self._box(ident)
        if self.exec_failures > 0 and cmd == KILL_HELPER:
            self.exec_failures -= 1
            raise lite.APIError(500, "no room for another process")
        exec_id = f"exec{next(self._ids):04d}"
        self.execs[exec_id] = {
            "cmd": cmd, "Running": True, "ExitCode": None, "box": ident,
            "kill": threading.Event(),
        }  # fmt: skip
        return {"Id": exec_id}

    def exec_start(self, exec_id: str, socket: bool = True) -> Any:
        import socket as sockets

        ours, theirs = sockets.socketpair()
        record = self.execs[exec_id]
        box = self._box(record["box"])
        threading.Thread(target=self._exec, args=(record, box, theirs), daemon=True).start()
        return ours

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        record = self.execs[exec_id]
        if (
            self.exec_status_missing
            and record["cmd"][:2] == ["sh", "-c"]
            and len(record["cmd"]) > 4
        ):
            return {"Running": False, "ExitCode": None}
        return {"Running": record["Running"], "ExitCode": record["ExitCode"]}

    # --- behaviour ----------------------------------------------------------------------
    def _box(self, ident: str) -> Box:
        box = self.boxes.get(ident)
        if box is None:
            raise lite.NotFound(404, f"No such container: {ident}")
        return box

    def _end(self, box: Box, status: int) -> None:
        with self._lock:
            if box.done.is_set():
                return
            box.status, box.running = status, False
            if box.config["HostConfig"].get("auto_remove"):
                # Gone before any wait returns, as a real engine's wait(condition="removed")
                # answers only once the container is removed.
                self.boxes.pop(box.id, None)
            box.killed.set()
            box.done.set()
        if box.peer is not None:
            box.peer.close()

    def _serve(self, box: Box) -> None:
        """boxinit: one-shot (``--``), primed (``-w``: the R message) or session."""
        argv = box.argv
        if "--" in argv:
            self._run(box, argv[argv.index("--") + 1 :])
            return
        buffer = b""
        while box.peer is not None and not box.done.is_set():
            try:
                data = box.peer.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._end(box, 0)  # the lifeline closed
                return
            buffer += data
            box.messages.append(data)
            if "-w" in argv and buffer.lstrip(b".").startswith(b"R") and buffer.endswith(b"\0\0"):
                parts = buffer.lstrip(b".").split(b"\0")[1:-2]
                self._run(box, [p.decode() for p in parts])
                return

    def _run(self, box: Box, argv: list[str]) -> None:
        program = PROGRAMS[argv[0]]
        out, err, code = program(argv, box.killed)
        peer = box.peer
        if peer is not None and not box.done.is_set():
            try:
                peer.sendall(frame(1, out) if out else b"")
                peer.sendall(frame(2, err) if err else b"")
            except OSError:
                pass
        self._end(box, code)

    def _exec(self, record: dict[str, Any], box: Box, peer: socket.socket) -> None:
        cmd = record["cmd"]
        argv = cmd[4:] if cmd[:2] == ["sh", "-c"] and len(cmd) > 4 else None
        if argv is None:  # a helper: kill everything of the user, or read the OOM counter
            if cmd == KILL_HELPER and self.kill_helper_hangs:
                box.killed.wait(60)
            elif cmd == KILL_HELPER:
                for other in self.execs.values():
                    if other["box"] == box.id:
                        other["kill"].set()
            out, err, code = b"", b"", 0
        else:
            threading.Thread(
                target=lambda: (box.killed.wait(60), record["kill"].set()), daemon=True
            ).start()
            out, err, code = PROGRAMS[argv[0]](argv, record["kill"])
        with peer:
            if out:
                peer.sendall(frame(1, out))
            if err:
                peer.sendall(frame(2, err))
        record["Running"], record["ExitCode"] = False, code


class FakeClient:
    def __init__(self, api: FakeAPI) -> None:
        self.api = api

    def close(self) -> None:
        pass


def fake_engine() -> tuple[Engine, FakeAPI]:
    from reprobox.engine.flavour import Flavour

    api = FakeAPI()
    engine = Engine(FakeClient(api), "tcp://127.0.0.1:9")  # type: ignore[arg-type]
    engine._flavour = Flavour()  # Docker
    return engine, api
