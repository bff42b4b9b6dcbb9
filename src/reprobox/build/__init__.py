"""Reproducible builds (``reprobox build``), rebuild-and-compare (``reprobox verify``), and
test suites in a clean throwaway container (``reprobox test``)."""

from reprobox.build.builder import Backend, BuildResult, BuildSpec, build

__all__ = ["Backend", "BuildResult", "BuildSpec", "build"]
