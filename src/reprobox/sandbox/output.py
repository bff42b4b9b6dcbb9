"""Capped, linear-time capture of one output stream."""

from __future__ import annotations


class Capture:
    """Keeps the first ``cap`` bytes written to a stream and counts the rest.

    Chunks are appended to a list and joined once, so capture is linear in the output size;
    past the cap nothing more is stored, so a flood never fills memory.
    """

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._parts: list[bytes] = []
        self._kept = 0
        self.total = 0

    def feed(self, data: bytes) -> bytes:
        """Record ``data`` (stored only up to the cap); returns the part that was kept."""
        self.total += len(data)
        room = self._cap - self._kept
        if room <= 0 or not data:
            return b""
        piece = data if len(data) <= room else data[:room]
        self._parts.append(piece)
        self._kept += len(piece)
        return piece

    @property
    def truncated(self) -> bool:
        return self.total > self._cap

    def value(self) -> bytes:
        """The kept bytes (the first ``cap`` of the stream)."""
        if len(self._parts) > 1:
            self._parts = [b"".join(self._parts)]
        return self._parts[0] if self._parts else b""
