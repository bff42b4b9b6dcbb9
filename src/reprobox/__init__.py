"""reprobox: reproducible, checkable containers for Python apps, and a hardened throwaway box
for commands you don't trust."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reprobox.errors import ReproboxError

if TYPE_CHECKING:
    from reprobox.sandbox.box import Sandbox
    from reprobox.sandbox.policy import Policy
    from reprobox.sandbox.pool import SandboxPool
    from reprobox.sandbox.result import RunResult
    from reprobox.sandbox.spec import Mount

__version__ = "0.1.0"

__all__ = [
    "Mount",
    "Policy",
    "ReproboxError",
    "RunResult",
    "Sandbox",
    "SandboxPool",
    "__version__",
]

# The sandbox imports the docker SDK; load it on first use so ``import reprobox`` stays cheap.
_LAZY = {"Mount", "Policy", "RunResult", "Sandbox", "SandboxPool"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from reprobox import sandbox

        return getattr(sandbox, name)
    raise AttributeError(f"module 'reprobox' has no attribute {name!r}")
