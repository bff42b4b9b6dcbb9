"""One-shot runs: the command is the container's main process; the container dies with it.

The command runs under the box's own init (:mod:`reprobox.sandbox.boxinit`), which ends the
box at the command's deadline and as soon as this process's attach connection (its
lifeline) closes, so a SIGKILLed owner never leaves the command running; the engine then
removes the container by itself (AutoRemove).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

from reprobox.engine import Engine
from reprobox.engine import containers as c
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox import boxinit
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import Outcome, supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded
from reprobox.sandbox.spec import boxed


def one_shot(
    engine: Engine, spec: c.ContainerSpec, policy: Policy, timeout: float | None
) -> Generator[OutputChunk, None, RunResult]:
    """Create, attach, start, stream, wait. On timeout the container is killed, which kills
    every process in it; the container is removed whatever happens (also on Ctrl-C)."""
    auto = engine.flavour().auto_removes_with_status
    spec = boxed(spec, boxinit.one_shot(spec.command, timeout), auto)
    with held() as holder:
        container_id = c.create(engine, spec)
    removed = False
    try:
        holder.reraise()
        since = time.time()
        words = boxinit.LastWords()
        exit_status, outcome = yield from _attached(
            engine, container_id, policy, timeout, auto, words
        )
        code = exit_status()
        removed = auto
        oom = killed_how(engine, container_id, code, outcome, since, auto, words)
        return outcome.result(code, oom)
    finally:
        if not removed:
            with shielded():
                c.remove(engine, container_id)


def killed_how(
    engine: Engine,
    container_id: str,
    code: int,
    outcome: Outcome,
    since: float,
    auto: bool,
    words: boxinit.LastWords,
) -> bool:
    """Whether a box's command was OOM-killed: said by the box's init (``words``), else by
    the engine's events when the box was auto-removed, else by its state; raises when the
    engine's stop killed it."""
    if code != SIGKILLED or outcome.timed_out:
        return False
    if words.oom_killed:
        return True
    if auto and c.oom_reported(engine, container_id, since):
        return True
    if not auto and c.oom_killed(engine, container_id):
        return True
    c.killed_by_engine_stop(engine)
    return False


def exit_status_of(engine: Engine, container_id: str, auto: bool) -> Callable[[], int]:
    """How to get the box's exit status: a wait sent now, before an auto-removed box can
    exit and vanish; else a plain wait, later."""
    if auto:
        return c.wait_removed(engine, container_id)
    return lambda: c.wait(engine, container_id)


def _attached(
    engine: Engine,
    container_id: str,
    policy: Policy,
    timeout: float | None,
    auto: bool,
    words: boxinit.LastWords,
) -> Generator[OutputChunk, None, tuple[Callable[[], int], Outcome]]:
    sock = c.attach(engine, container_id, stdin=True)
    try:
        exit_status = exit_status_of(engine, container_id, auto)
        c.start(engine, container_id)
        kill = lambda: c.kill(engine, container_id)  # noqa: E731
        frames = words.frames(c.frames(sock))
        outcome = yield from supervise(frames, policy.output_cap_bytes, timeout, kill)
    finally:
        c.close(sock)
    return exit_status, outcome
