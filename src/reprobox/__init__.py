"""reprobox: reproducible, checkable containers for Python apps, and a hardened throwaway box
for commands you don't trust."""

from reprobox.errors import ReproboxError

__version__ = "0.1.0"

__all__ = ["ReproboxError", "__version__"]
