"""``reprobox mcp``: a sandbox for AI agents, served over the Model Context Protocol (stdio).

Needs the MCP SDK (the ``mcp`` extra); :func:`serve` says so in one line when it is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from reprobox.tools import MCP_SDK

if TYPE_CHECKING:
    from reprobox.mcpserver.server import Stopped
    from reprobox.sandbox import Sandbox

__all__ = ["instructions", "require_sdk", "serve"]


def serve(new_box: Callable[[], Sandbox]) -> Stopped:
    """Serve one MCP client on stdin/stdout; its box is made by ``new_box`` on first use and
    removed when the client leaves or the server is stopped."""
    stopped: Stopped = _server().serve(new_box)
    return stopped


def require_sdk() -> None:
    """Raise :class:`~reprobox.errors.ToolMissing` unless the MCP SDK is installed."""
    _server()


def _server() -> ModuleType:
    try:
        from reprobox.mcpserver import server
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "mcp":
            raise
        raise MCP_SDK.missing("reprobox mcp serves with it") from exc
    return server


def instructions(box: Sandbox) -> str:
    """What the agent is told about the box, from ``reprobox run --explain`` (the server's
    instructions; every tool's description ends with it)."""
    from reprobox.sandbox.explain import explain

    text = explain(box.policy, box.mounts, box.image)
    _, _, rest = text.partition("\n")
    return f"The box runs the image {box.image}.\n{rest}"
