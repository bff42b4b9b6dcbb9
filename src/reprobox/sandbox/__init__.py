"""A hardened throwaway box for commands you don't trust: policy, box, results, pool.

Names load on first use, so the CLI can import small parts (signals, explain) cheaply.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reprobox.sandbox.box import RunStream, Sandbox
    from reprobox.sandbox.policy import Policy
    from reprobox.sandbox.pool import SandboxPool
    from reprobox.sandbox.result import OutputChunk, RunResult, Stream
    from reprobox.sandbox.spec import Mount

_WHERE = {
    "Mount": "spec",
    "OutputChunk": "result",
    "Policy": "policy",
    "RunResult": "result",
    "RunStream": "box",
    "Sandbox": "box",
    "SandboxPool": "pool",
    "Stream": "result",
}
__all__ = [
    "Mount",
    "OutputChunk",
    "Policy",
    "RunResult",
    "RunStream",
    "Sandbox",
    "SandboxPool",
    "Stream",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'reprobox.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reprobox.sandbox.{module}"), name)
