"""Moving output from a box to the caller: capped capture, live chunks, the watchdog.

:func:`supervise` is the one setup every kind of box uses (one-shot, pool, session, and any
backend): capture both streams up to the policy's cap, kill the command when its timeout
expires, kill it too when the caller stops early (Ctrl-C, a closed stream), and hand back
what was seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass

from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox.output import Capture
from reprobox.sandbox.result import OutputChunk, RunResult, Stream

STREAMS = {1: Stream.STDOUT, 2: Stream.STDERR}


@dataclass
class Outcome:
    """What the pump saw; turned into a :class:`RunResult` once the exit code is known."""

    stdout: Capture
    stderr: Capture
    started: float
    timed_out: bool = False
    timeout: float | None = None

    def result(
        self,
        exit_code: int,
        oom_killed: bool = False,
        peak_memory_bytes: int | None = None,
        cpu_time_s: float | None = None,
    ) -> RunResult:
        duration = time.monotonic() - self.started
        # The box's own deadline (a little after the timeout) killed it: the watchdog was late.
        late = exit_code == SIGKILLED and self.timeout is not None and duration >= self.timeout
        return RunResult(
            exit_code=exit_code,
            stdout=self.stdout.value(),
            stderr=self.stderr.value(),
            duration_s=duration,
            timed_out=self.timed_out or late,
            oom_killed=oom_killed,
            stdout_truncated=self.stdout.truncated,
            stderr_truncated=self.stderr.truncated,
            stdout_bytes=self.stdout.total,
            stderr_bytes=self.stderr.total,
            peak_memory_bytes=peak_memory_bytes,
            cpu_time_s=cpu_time_s,
        )


def pump(
    frames: Iterable[tuple[int, bytes]], outcome: Outcome
) -> Generator[OutputChunk, None, None]:
    """Capture every frame up to the caps and yield what was kept as a live chunk: the cap
    holds for live output too, so a flood never reaches the caller past it."""
    for stream_id, data in frames:
        stream = STREAMS.get(stream_id)
        if stream is None:
            continue
        kept = (outcome.stdout if stream is Stream.STDOUT else outcome.stderr).feed(data)
        if kept:
            yield OutputChunk(stream, kept)


class Watchdog:
    """Calls ``on_expiry`` once, from a helper thread, if not cancelled within ``seconds``."""

    def __init__(self, seconds: float | None, on_expiry: Callable[[], None]) -> None:
        self.fired = threading.Event()
        self._on_expiry = on_expiry
        self._done = threading.Lock()
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        if self._done.acquire(blocking=False):
            self.fired.set()
            self._on_expiry()

    def cancel(self) -> bool:
        """Stop the timer; returns whether it had already fired (waiting until its action is
        complete, so the caller sees the command dead)."""
        if self._timer is not None:
            self._timer.cancel()
        if self._done.acquire(blocking=False):
            return False
        # It fired: its action may still be running; wait for it to finish.
        while self._timer is not None and self._timer.is_alive():
            self._timer.join(0.05)
        return True


def supervise(
    frames: Iterable[tuple[int, bytes]],
    cap: int,
    timeout: float | None,
    kill: Callable[[], None],
) -> Generator[OutputChunk, None, Outcome]:
    """Stream ``frames`` (``(1|2, data)``) with both streams capped at ``cap`` bytes, calling
    ``kill`` when ``timeout`` expires or when the caller abandons the stream; returns what was
    seen (``timed_out`` set when the watchdog fired). The caller owns ``frames``' source."""
    outcome = Outcome(Capture(cap), Capture(cap), time.monotonic(), timeout=timeout)
    watchdog = Watchdog(timeout, kill)
    try:
        try:
            yield from pump(frames, outcome)
        finally:
            outcome.timed_out = watchdog.cancel()
    except BaseException:
        kill()  # interrupted or abandoned: the command must not outlive the caller's interest
        raise
    return outcome
