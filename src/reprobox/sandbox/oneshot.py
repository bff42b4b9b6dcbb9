"""One-shot runs: the command is the box's main process; the box dies with it.

Written once over :class:`~reprobox.sandbox.backend.BoxAPI`. Each backend keeps its own
backstops inside: on the engine, the box's init (:mod:`reprobox.sandbox.boxinit`) ends the
box at the command's deadline and as soon as this process's attach connection (its lifeline)
closes, and the engine removes it; on oci, the owner's supervisor does the same.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from reprobox.engine.containers import ContainerSpec
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox.backend import BoxAPI, Events, H, Main, Output
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import Outcome, supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded


def one_shot(
    opened: Callable[[], BoxAPI[H]], spec: ContainerSpec, policy: Policy, timeout: float | None
) -> Events:
    """Create, start attached, stream, wait. On timeout the box is killed, which kills every
    process in it; the box is removed whatever happens (also on Ctrl-C and SIGTERM)."""
    api = opened()
    with held() as holder:
        box = api.create(spec, policy, Main("command", timeout))
    try:
        holder.reraise()
        output = api.start(box)
        outcome = yield from streamed(output, policy, timeout, lambda: api.kill(box))
        return finished(api, box, outcome)
    finally:
        with shielded():
            api.remove(box)


def streamed(
    output: Output, policy: Policy, timeout: float | None, kill: Callable[[], None]
) -> Generator[OutputChunk, None, Outcome]:
    """:func:`supervise` the box's output, closing it afterwards."""
    try:
        return (yield from supervise(output.frames(), policy.output_cap_bytes, timeout, kill))
    finally:
        output.close()


def finished(api: BoxAPI[H], box: H, outcome: Outcome) -> RunResult:
    """The result of a box whose main process ended: its exit status, and whether the kernel
    killed it for lack of memory (asked only for a SIGKILL that was not our timeout's)."""
    code = api.wait(box)
    killed = code == SIGKILLED and not outcome.timed_out
    used = api.stats(box, oom=killed)
    cpu = None if used.cpu_ns is None else used.cpu_ns / 1e9
    return outcome.result(code, killed and bool(used.oom_kills), used.peak_memory_bytes, cpu)
