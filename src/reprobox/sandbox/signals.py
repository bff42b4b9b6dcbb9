"""Turning SIGTERM into an exception while a box is open, so its cleanup runs."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Terminated(SystemExit):
    """Raised in the main thread when the process receives SIGTERM (exit status 143)."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` instead of killing the process,
    when nobody else handles it and this is the main thread; restores the handler after."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Held:
    """Signals that arrived while held; :meth:`reraise` raises the first of them."""

    def __init__(self) -> None:
        self.caught: list[int] = []

    def record(self, signum: int, frame: FrameType | None) -> None:
        self.caught.append(signum)

    def reraise(self) -> None:
        if self.caught:
            first, self.caught = self.caught[0], []
            raise KeyboardInterrupt if first == signal.SIGINT else Terminated()


@contextlib.contextmanager
def held() -> Iterator[Held]:
    """Hold Ctrl-C and SIGTERM back inside the block (so, e.g., a container just created is
    not lost before its ID is known); the caller decides when to :meth:`Held.reraise`. A
    no-op outside the main thread, where Python delivers no signals anyway."""
    holder = Held()
    if threading.current_thread() is not threading.main_thread():
        yield holder
        return
    previous = {s: signal.signal(s, holder.record) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield holder
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back during cleanup, then raise the first one that arrived."""
    with held() as holder:
        yield
    holder.reraise()
