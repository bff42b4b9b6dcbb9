"""Primed boxes for the pool: started containers whose main process waits for its command.

The main process is a tiny ``sh`` launcher, attached with stdin open, that reads the command
(shell-quoted) from stdin and ``exec``s it. A pool run writes the command, closes stdin and
then behaves exactly like a one-shot run: the command is the container's main process, a
timeout kills the container (and so every process in it), and the box is never reused.
"""

from __future__ import annotations

import shlex
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

from reprobox.engine import Engine
from reprobox.engine import containers as c
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded

# Reads the command to its end with shell builtins only (no `cat` to fork) and execs it.
LAUNCHER = (
    "sh",
    "-c",
    'cmd=; while IFS= read -r line; do cmd="$cmd$line\n"; done; eval "exec $cmd$line"',
)


@dataclass
class PrimedBox:
    """A started container whose launcher waits on ``sock`` for one command."""

    engine: Engine
    container_id: str
    policy: Policy
    sock: Any

    @classmethod
    def start(cls, engine: Engine, spec: c.ContainerSpec, policy: Policy) -> PrimedBox:
        with held() as holder:
            container_id = c.create(engine, replace(spec, command=LAUNCHER, stdin=True))
        try:
            holder.reraise()
            sock = c.attach(engine, container_id, stdin=True)
            c.start(engine, container_id)
        except BaseException:
            with shielded():
                c.remove(engine, container_id)
            raise
        return cls(engine, container_id, policy, sock)

    def destroy(self) -> None:
        c.close(self.sock)
        c.remove(self.engine, self.container_id)

    def kill(self) -> None:
        c.kill(self.engine, self.container_id)

    def events(
        self, cmd: list[str], timeout: float | None
    ) -> Generator[OutputChunk, None, RunResult]:
        """Run ``cmd`` as this box's main process; yields live output, returns the result."""
        try:
            c.send_stdin(self.sock, shlex.join(cmd).encode())
            cap = self.policy.output_cap_bytes
            outcome = yield from supervise(c.frames(self.sock), cap, timeout, self.kill)
        finally:
            c.close(self.sock)
        code = c.wait(self.engine, self.container_id)
        oom = (
            code == SIGKILLED
            and not outcome.timed_out
            and c.oom_killed(self.engine, self.container_id)
        )
        return outcome.result(code, oom)
