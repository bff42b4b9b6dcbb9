"""Output capping, frame demultiplexing and the run exit-code table, without an engine."""

from __future__ import annotations

import io
import struct
import time

from reprobox import errors
from reprobox.engine import containers as c
from reprobox.exitcodes import ExitCode, for_run, for_run_error
from reprobox.sandbox.output import Capture
from reprobox.sandbox.signals import Terminated


def test_capture_keeps_the_first_cap_bytes_and_counts_the_rest() -> None:
    cap = Capture(10)
    for piece in (b"abc", b"defgh", b"ijklmnop", b"q"):
        cap.feed(piece)
    assert cap.value() == b"abcdefghij"
    assert cap.total == 17 and cap.truncated


def test_capture_at_exactly_the_cap_is_not_truncated() -> None:
    cap = Capture(4)
    cap.feed(b"abcd")
    assert cap.value() == b"abcd" and not cap.truncated


def test_capture_is_linear_and_bounded_for_a_flood() -> None:
    cap = Capture(1 << 20)
    chunk = b"x" * 32768
    start = time.perf_counter()
    for _ in range(100 * 32):  # 100 MiB
        cap.feed(chunk)
    assert time.perf_counter() - start < 2
    assert len(cap.value()) == 1 << 20 and cap.total == 100 << 20


def _frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


class _Raw(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 7))  # short reads, like a socket
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_frames_demultiplex_stdout_and_stderr_across_short_reads() -> None:
    data = _frame(1, b"out1") + _frame(2, b"err") + _frame(1, b"x" * 100) + _frame(1, b"")
    got = list(c.frames(_Raw(data)))
    assert got == [(1, b"out1"), (2, b"err"), (1, b"x" * 100), (1, b"")]


def test_frames_stop_at_a_truncated_header() -> None:
    assert list(c.frames(_Raw(_frame(1, b"ok") + b"\x01\x00"))) == [(1, b"ok")]


def test_run_exit_codes_do_not_overlap() -> None:
    assert for_run(3, False, False) == 3
    assert for_run(137, True, False) == int(ExitCode.RUN_TIMEOUT) == 124
    assert for_run(137, False, True) == int(ExitCode.RUN_OOM) == 137
    internal = for_run_error(errors.EngineUnavailable("down"))
    assert int(internal) == 125 and internal is ExitCode.RUN_INTERNAL
    assert for_run_error(errors.ImageNotFound("x")) is ExitCode.RUN_INTERNAL
    assert for_run_error(KeyboardInterrupt()) == ExitCode.INTERRUPTED
    assert for_run_error(Terminated()) == ExitCode.INTERRUPTED
    assert for_run_error(errors.UsageError("bad")) == ExitCode.USAGE
    assert len({124, 125, 130, 137, 2}) == 5


def test_live_chunks_stop_at_the_cap_like_the_capture() -> None:
    from reprobox.sandbox.pump import Outcome, pump

    outcome = Outcome(Capture(10), Capture(4), time.monotonic())
    frames = [(1, b"abcdef"), (2, b"ERR!!"), (1, b"ghijkl"), (1, b"mno"), (2, b"more")]
    live = [(chunk.stream.value, chunk.data) for chunk in pump(frames, outcome)]
    assert live == [("stdout", b"abcdef"), ("stderr", b"ERR!"), ("stdout", b"ghij")]
    assert outcome.stdout.value() == b"abcdefghij" and outcome.stdout.total == 15
    assert outcome.stderr.value() == b"ERR!" and outcome.stderr.truncated
