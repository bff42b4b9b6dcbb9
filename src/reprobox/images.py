"""Image references reprobox uses by default, each pinned in exactly one place."""

from __future__ import annotations

import os
import re

from reprobox import errors

# The digest-pinned Python image the tasks-app uses; ``reprobox run`` defaults to it.
DEFAULT_PYTHON_IMAGE = (
    "python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea"
)
IMAGE_ENV = "REPROBOX_IMAGE"


def default_run_image() -> str:
    """``REPROBOX_IMAGE`` when set, else :data:`DEFAULT_PYTHON_IMAGE`."""
    return os.environ.get(IMAGE_ENV) or DEFAULT_PYTHON_IMAGE


# The engine's reference grammar (distribution/reference): a lower-case path of components
# separated by "/", optionally behind a registry host[:port], then an optional ":tag".
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?/)"
_REFERENCE = re.compile(
    rf"(?P<name>{_HOST}?{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>[\w][\w.-]{{0,127}}))?"
)


def image_tag(ref: str) -> str:
    """``ref`` as a full ``name:tag`` (``:latest`` when it names no tag), as ``docker build -t``
    reads it; :class:`~reprobox.errors.UsageError` when the engine would refuse it."""
    match = _REFERENCE.fullmatch(ref)
    if match is None or len(match.group("name")) > 255:
        raise errors.UsageError(
            f"invalid tag {ref!r}: expected NAME[:TAG] (lower-case NAME, e.g. my-app:1.0)",
            "use lower-case letters, digits and . _ - in the name; a tag has at most 128 "
            "characters of letters, digits, . _ -",
        )
    return ref if match.group("tag") else f"{ref}:latest"
