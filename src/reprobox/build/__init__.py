"""Reproducible builds (``reprobox build``) and rebuild-and-compare (``reprobox verify``)."""

from reprobox.build.builder import Backend, BuildResult, BuildSpec, build

__all__ = ["Backend", "BuildResult", "BuildSpec", "build"]
