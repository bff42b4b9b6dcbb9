"""Primed boxes for the pool: started containers whose init waits for its one command.

The main process is the box's own init (:mod:`reprobox.sandbox.boxinit`), attached with
stdin open: the pool renews its idle lifetime with heartbeats while the box waits, and a run
sends the command over the same stdin. From then on it behaves exactly like a one-shot run:
the command is the only thing the box runs, a timeout kills the container (and so every
process in it), the box ends itself at its deadline or when the owner's connection closes,
the engine removes it, and it is never reused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from reprobox import errors
from reprobox.engine import Engine
from reprobox.engine import containers as c
from reprobox.sandbox import boxinit
from reprobox.sandbox.backend import BoxGone
from reprobox.sandbox.lifeline import Lifeline
from reprobox.sandbox.oneshot import exit_status_of, killed_how
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded
from reprobox.sandbox.spec import boxed

# The oci backend's primed boxes (reprobox.oci.box) run this launcher under their own
# supervisor: it reads the command to its end with shell builtins only and execs it.
LAUNCHER = (
    "sh",
    "-c",
    'cmd=; while IFS= read -r line; do cmd="$cmd$line\n"; done; eval "exec $cmd$line"',
)


@dataclass
class PrimedBox:
    """A started container whose init waits on ``sock`` for one command."""

    engine: Engine
    container_id: str
    policy: Policy
    sock: Any
    lifeline: Lifeline
    auto_remove: bool = True

    @classmethod
    def start(
        cls, engine: Engine, spec: c.ContainerSpec, policy: Policy, idle_s: float | None = None
    ) -> PrimedBox:
        auto = engine.flavour().auto_removes_with_status
        with held() as holder:
            container_id = c.create(engine, boxed(spec, boxinit.primed(idle_s), auto))
        try:
            holder.reraise()
            sock = c.attach(engine, container_id, stdin=True)
            c.start(engine, container_id)
        except BaseException:
            with shielded():
                c.remove(engine, container_id)
            raise
        lifeline = Lifeline(lambda m: c.write_stdin(sock, m))
        return cls(engine, container_id, policy, sock, lifeline, auto)

    def destroy(self) -> None:
        c.remove(self.engine, self.container_id)
        c.close(self.sock)

    def kill(self) -> None:
        c.kill(self.engine, self.container_id)

    def events(
        self, cmd: list[str], timeout: float | None
    ) -> Generator[OutputChunk, None, RunResult]:
        """Run ``cmd`` as this box's command; yields live output, returns the result. Raises
        :class:`BoxGone` (before any output) when the box had already ended."""
        since = time.time()
        words = boxinit.LastWords()
        try:
            exit_status = self._send(cmd, timeout)
            cap = self.policy.output_cap_bytes
            frames = words.frames(c.frames(self.sock))
            outcome = yield from supervise(frames, cap, timeout, self.kill)
        finally:
            c.close(self.sock)
        code = _status(exit_status)
        auto = self.auto_remove
        oom = killed_how(self.engine, self.container_id, code, outcome, since, auto, words)
        return outcome.result(code, oom)

    def _send(self, cmd: list[str], timeout: float | None) -> Callable[[], int]:
        message = boxinit.run_message(cmd, timeout)
        try:
            exit_status = exit_status_of(self.engine, self.container_id, self.auto_remove)
            self.lifeline.send(message)
        except errors.EngineError as exc:
            raise BoxGone(f"the box ended before its command: {exc.message}") from exc
        except errors.SandboxError as exc:
            raise BoxGone(str(exc)) from exc
        return exit_status


def _status(exit_status: Callable[[], int]) -> int:
    try:
        return exit_status()
    except errors.EngineError as exc:
        if exc.status == 404:  # it was gone before the wait began: the command never ran
            raise BoxGone(f"the box ended before its command: {exc.message}") from exc
        raise
