"""The only package in reprobox that talks to the container engine (via the docker SDK).

Everything else receives an :class:`Engine` and calls its typed methods, so logic can be
tested without a daemon and behaviour is tested against a real one.
"""

from reprobox.engine.core import Engine, ImageSummary, SweepReport, connect
from reprobox.engine.info import EngineInfo

__all__ = ["Engine", "EngineInfo", "ImageSummary", "SweepReport", "connect"]
