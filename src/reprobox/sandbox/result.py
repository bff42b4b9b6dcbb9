"""What one command in a box did: :class:`RunResult`, and live output chunks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stream(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"


@dataclass(frozen=True)
class OutputChunk:
    """A piece of live output, in the order the engine delivered it."""

    stream: Stream
    data: bytes


@dataclass(frozen=True)
class RunResult:
    """The outcome of one command.

    ``exit_code`` is what the engine reported for the command (137 when it was killed, also
    on timeout); ``timed_out`` and ``oom_killed`` say why. ``stdout``/``stderr`` hold at most
    the policy's output cap; ``*_bytes`` count everything the command wrote. ``peak_memory_bytes``
    and ``cpu_time_s`` are ``None`` where the engine does not report them cheaply.
    """

    exit_code: int
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool = False
    oom_killed: bool = False
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    peak_memory_bytes: int | None = None
    cpu_time_s: float | None = None

    @property
    def ok(self) -> bool:
        """The command ran to completion and exited 0."""
        return self.exit_code == 0 and not self.timed_out and not self.oom_killed

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")
