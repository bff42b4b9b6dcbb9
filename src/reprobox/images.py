"""Image references reprobox uses by default, each pinned in exactly one place."""

from __future__ import annotations

import os

# The digest-pinned Python image the tasks-app uses; ``reprobox run`` defaults to it.
DEFAULT_PYTHON_IMAGE = (
    "python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea"
)
IMAGE_ENV = "REPROBOX_IMAGE"


def default_run_image() -> str:
    """``REPROBOX_IMAGE`` when set, else :data:`DEFAULT_PYTHON_IMAGE`."""
    return os.environ.get(IMAGE_ENV) or DEFAULT_PYTHON_IMAGE
