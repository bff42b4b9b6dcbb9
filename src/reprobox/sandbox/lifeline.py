"""The owner's end of a box's stdin (see :mod:`reprobox.sandbox.boxinit`), and the heartbeat.

A :class:`Lifeline` sends boxinit its messages; when the owner process dies, the operating
system closes it and the box ends itself; it only needs a function that writes bytes to the
box's init. A :class:`Heartbeat` calls a function (the boxes' ``renew``, which beats their
lifelines where the backend has them) from a helper thread while the owner lives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from reprobox import errors
from reprobox.sandbox import boxinit


class Lifeline:
    """Writes messages to one box's init; ``alive`` turns false once a write failed."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self.alive = True

    def send(self, message: bytes) -> None:
        """Send ``message``; raises :class:`errors.SandboxError` when the box is gone."""
        with self._lock:
            try:
                self._write(message)
            except (errors.ReproboxError, OSError) as exc:
                self.alive = False
                raise errors.SandboxError(f"the box is gone: {exc}") from exc

    def beat(self) -> bool:
        """Renew the box's idle lifetime; returns whether it is still there."""
        try:
            self.send(boxinit.HEARTBEAT)
        except errors.SandboxError:
            return False
        return True


class Heartbeat:
    """Every ``every`` seconds (default: a quarter of the idle lifetime), from a daemon
    thread, calls ``beat`` (which renews idle boxes), until :meth:`stop`."""

    def __init__(self, beat: Callable[[], object], every: float | None = None) -> None:
        self._beat = beat
        self._every = every or boxinit.IDLE_S / boxinit.BEATS_PER_IDLE
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reprobox-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._beat()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
