"""Where reprobox keeps what it builds once and reuses (the boxes' init, the oci backend's
unpacked images): one rule for every cache.

Root: ``/var/cache/reprobox`` (root's home is private, and a rootless engine, another user,
must read the boxes' init). Anyone else: ``$XDG_CACHE_HOME/reprobox``, else
``~/.cache/reprobox``.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_root() -> Path:
    """reprobox's cache folder for this user (not created here)."""
    if os.geteuid() == 0:
        return Path("/var/cache/reprobox")
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "reprobox"
