"""The only package in reprobox that talks to the container engine (via the docker SDK, or
the small stdlib client in :mod:`reprobox.engine.lite` for the CLI's one-shot run).

Everything else receives an :class:`Engine` and calls its typed methods, so logic can be
tested without a daemon and behaviour is tested against a real one. Names load on first use:
importing this package (or the sandbox) does not import the docker SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reprobox.engine.core import Engine, ImageSummary, SweepReport, connect
    from reprobox.engine.info import EngineInfo

_WHERE = {
    "Engine": "core",
    "EngineInfo": "info",
    "ImageSummary": "core",
    "SweepReport": "core",
    "connect": "core",
}
__all__ = ["Engine", "EngineInfo", "ImageSummary", "SweepReport", "connect"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'reprobox.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reprobox.engine.{module}"), name)
