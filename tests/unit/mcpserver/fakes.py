"""A fake Sandbox for the MCP server's logic: scripted results, recorded calls, no engine."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reprobox.sandbox import Policy, RunResult

Handler = Callable[[list[str], "float | None"], RunResult]


def result(code: int = 0, stdout: bytes = b"", stderr: bytes = b"", **flags: Any) -> RunResult:
    return RunResult(code, stdout, stderr, 0.01, stdout_bytes=len(stdout), **flags)


@dataclass
class Boxes:
    """Every fake box made, and what each of them was asked to do."""

    handler: Handler = lambda argv, timeout: result()
    policy: Policy = field(default_factory=Policy)
    made: list[FakeBox] = field(default_factory=list)
    enter_gate: threading.Event | None = None
    entering: threading.Event = field(default_factory=threading.Event)
    copy_error: Exception | None = None

    def new(self) -> FakeBox:
        box = FakeBox(self)
        self.made.append(box)
        return box


class FakeBox:
    image = "img:1"
    workdir = "/work"
    mounts = ()

    def __init__(self, boxes: Boxes) -> None:
        self.boxes = boxes
        self.policy = boxes.policy
        self.entered = self.closed = False
        self.runs: list[tuple[list[str], float | None]] = []
        self.copies: list[tuple[str, bytes, int, str]] = []

    @property
    def container_id(self) -> str | None:
        return "c1" if self.entered and not self.closed else None

    def __enter__(self) -> FakeBox:
        self.boxes.entering.set()
        if self.boxes.enter_gate is not None:
            self.boxes.enter_gate.wait(10)
        self.entered = True
        return self

    def close(self) -> None:
        self.closed = True

    def run(self, argv: list[str], *, timeout: float | None) -> RunResult:
        assert self.entered and not self.closed, "run on a box that is not open"
        self.runs.append((argv, timeout))
        return self.boxes.handler(argv, timeout)

    def copy_in(self, path: Path, dest: str) -> None:
        if self.boxes.copy_error is not None:
            raise self.boxes.copy_error
        self.copies.append((path.name, path.read_bytes(), path.stat().st_mode & 0o777, dest))
