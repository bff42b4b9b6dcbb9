"""Image references as the engine reads them: ``python:3.12`` is ``docker.io/library/python``.

Only what ``reprobox pin`` needs: the registry host to ask, the repository path, the tag and
the digest, following the engine's normalisation rules (a first component with a ``.`` or a
``:``, or ``localhost``, is a registry host; Docker Hub's official images live under
``library/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reprobox import errors

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_LOOPBACK = re.compile(r"^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$")


@dataclass(frozen=True)
class Reference:
    """``domain/path:tag@digest``; ``tag`` and ``digest`` are ``None`` when absent."""

    domain: str
    path: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse an image reference, or raise :class:`~reprobox.errors.UsageError` saying why."""
        name, _, digest = text.partition("@")
        slash, colon = name.rfind("/"), name.rfind(":")
        tag = name[colon + 1 :] if colon > slash else None
        name = name[:colon] if tag is not None else name
        first, sep, rest = name.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            domain, path = first, rest
        else:
            domain, path = DOCKER_HUB, name
        if domain == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        reference = cls(domain, path, tag, digest or None)
        reference.validate(text)
        return reference

    def validate(self, text: str) -> None:
        if not all(_COMPONENT.match(part) for part in self.path.split("/")):
            raise errors.UsageError(f"not an image reference: {text!r} (bad repository name)")
        if self.tag is not None and not _TAG.match(self.tag):
            raise errors.UsageError(f"not an image reference: {text!r} (bad tag)")
        if self.digest is not None and not DIGEST.match(self.digest):
            raise errors.UsageError(f"not an image reference: {text!r} (only sha256 digests)")

    @property
    def api_host(self) -> str:
        """The host that serves this repository's registry API."""
        return DOCKER_HUB_API if self.domain == DOCKER_HUB else self.domain

    @property
    def loopback(self) -> bool:
        """A registry on this machine's loopback (spoken to over plain HTTP, as the engine does)."""
        return bool(_LOOPBACK.match(self.domain))

    @property
    def repository(self) -> str:
        """The full repository name, e.g. ``docker.io/library/python``."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        text = self.repository + (f":{self.tag}" if self.tag else "")
        return text + (f"@{self.digest}" if self.digest else "")
