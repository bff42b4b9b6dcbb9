"""One-shot runs: the command is the container's main process; the container dies with it."""

from __future__ import annotations

from collections.abc import Generator

from reprobox.engine import Engine
from reprobox.engine import containers as c
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded


def one_shot(
    engine: Engine, spec: c.ContainerSpec, policy: Policy, timeout: float | None
) -> Generator[OutputChunk, None, RunResult]:
    """Create, attach, start, stream, wait, remove. On timeout the container is killed, which
    kills every process in it; the container is removed whatever happens (also on Ctrl-C)."""
    with held() as holder:
        container_id = c.create(engine, spec)
    try:
        holder.reraise()
        return (yield from _attached(engine, container_id, policy, timeout))
    finally:
        with shielded():
            c.remove(engine, container_id)


def _attached(
    engine: Engine, container_id: str, policy: Policy, timeout: float | None
) -> Generator[OutputChunk, None, RunResult]:
    sock = c.attach(engine, container_id)
    try:
        c.start(engine, container_id)
        kill = lambda: c.kill(engine, container_id)  # noqa: E731
        outcome = yield from supervise(c.frames(sock), policy.output_cap_bytes, timeout, kill)
    finally:
        c.close(sock)
    code = c.wait(engine, container_id)
    oom = code == SIGKILLED and not outcome.timed_out and c.oom_killed(engine, container_id)
    return outcome.result(code, oom)
