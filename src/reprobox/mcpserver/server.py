"""Serving one MCP client over stdio until it leaves or the server is told to stop.

The box is removed in every way the connection can end: the client closes stdin (a normal
disconnect, or the client died: the kernel closes its end of the pipe), writing to the client
fails, or SIGTERM/SIGINT arrives. Only SIGKILL of the server itself leaves the box behind,
labelled with the server's PID for ``reprobox gc``.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from enum import StrEnum

import anyio
import anyio.abc
import anyio.to_thread

from reprobox.mcpserver.session import BoxSession
from reprobox.mcpserver.tools import build_server
from reprobox.sandbox import Sandbox


class Stopped(StrEnum):
    """Why the server stopped."""

    CLIENT_LEFT = "client-left"
    SIGNALLED = "signalled"


def serve(new_box: Callable[[], Sandbox]) -> Stopped:
    """Serve MCP on stdin/stdout with one box made by ``new_box`` on first use."""
    session = BoxSession(new_box)
    try:
        return anyio.run(_serve, session, new_box)
    finally:
        session.close()


async def _serve(session: BoxSession, new_box: Callable[[], Sandbox]) -> Stopped:
    server = build_server(session, new_box())
    stopped = Stopped.CLIENT_LEFT
    async with anyio.create_task_group() as group:

        async def on_signal() -> None:
            nonlocal stopped
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    stopped = Stopped.SIGNALLED
                    await _shut(session, group)
                    return

        group.start_soon(on_signal)
        try:
            await server.run_stdio_async()
        except* OSError as broken:  # the client is gone: writing to it failed
            print(f"reprobox mcp: client gone ({broken.exceptions[0]})", file=sys.stderr)
        await _shut(session, group)
    return stopped


async def _shut(session: BoxSession, group: anyio.abc.TaskGroup) -> None:
    """Remove the box first (which ends a command still running), then stop serving."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(session.close)
    group.cancel_scope.cancel()
