"""Connecting to the engine and translating engine client errors into reprobox's tree.

This package is the only place in reprobox that imports ``docker``. The SDK (with requests
and urllib3, ~0.2 s of imports) loads only when an SDK client is opened; errors of the
stdlib client in :mod:`reprobox.engine.lite` are translated here too, into the same
reprobox errors.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reprobox import errors

if TYPE_CHECKING:
    import docker
    import docker.errors

START_HINT = (
    "start it with: sudo scripts/setup-engine (or: sudo dockerd --bridge=none --iptables=false &)"
)
DEFAULT_URL = "unix:///var/run/docker.sock"


def engine_url(base_url: str | None = None) -> str:
    """The engine address: explicit, else ``DOCKER_HOST``, else the default socket."""
    return base_url or os.environ.get("DOCKER_HOST") or DEFAULT_URL


def _walk(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for nxt in (current.__cause__, current.__context__):
            if nxt is not None:
                stack.append(nxt)


def unavailable(exc: BaseException, url: str) -> errors.EngineUnavailable:
    """An :class:`EngineUnavailable` naming why ``url`` did not answer and what to do."""
    chain = list(_walk(exc))
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, PermissionError) for e in chain) or "Permission denied" in text:
        return errors.EngineUnavailable(
            f"permission denied on the engine socket {url}",
            "run as root, or add your user to the docker group and log in again",
        )
    if any(isinstance(e, FileNotFoundError | ConnectionRefusedError) for e in chain) or (
        "No such file" in text or "Connection refused" in text
    ):
        return errors.EngineUnavailable(f"daemon not running: nothing answers at {url}", START_HINT)
    if any(_is_timeout(e) for e in chain):
        return errors.EngineUnavailable(
            f"the engine at {url} did not answer in time", "check that dockerd is healthy"
        )
    return errors.EngineUnavailable(f"cannot reach the engine at {url}: {exc}", START_HINT)


def broken_off(url: str) -> errors.EngineUnavailable:
    """The error for a stream the engine ended mid-answer (it stopped or restarted)."""
    return errors.EngineUnavailable(
        f"the engine at {url} broke off the connection mid-answer: did it stop or restart?",
        "check it with 'reprobox doctor'; once it is back, 'reprobox gc' removes what is left",
    )


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError):
        return True
    # requests' Timeout is no TimeoutError; if requests is not loaded, nothing raised it.
    requests_errors = sys.modules.get("requests.exceptions")
    return requests_errors is not None and isinstance(exc, requests_errors.Timeout)


@contextlib.contextmanager
def translated(action: str, url: str) -> Iterator[None]:
    """Turn engine client (docker SDK or lite) and connection errors raised inside the block
    into reprobox errors; anything else passes through unchanged."""
    try:
        yield
    except Exception as exc:
        error = translate(exc, action, url)
        if error is None:
            raise
        raise error from exc


def translate(exc: Exception, action: str, url: str) -> errors.ReproboxError | None:
    """The reprobox error for an engine client's ``exc``, or ``None`` when it is not one."""
    if "reprobox.engine.lite" in sys.modules:
        from reprobox.engine import lite

        if isinstance(exc, lite.ImageNotFound):
            return errors.ImageNotFound(f"{action}: {exc.explanation or exc}")
        if isinstance(exc, lite.APIError):
            return errors.EngineError(f"{action}: {exc.explanation or exc}", status=exc.status)
        if isinstance(exc, lite.ConnectionFailed):
            return unavailable(exc, url)
    # Without the SDK loaded, nothing can have raised its errors: do not import it for that.
    if "docker" not in sys.modules:
        return None
    return _translate_sdk(exc, action, url)


def _translate_sdk(exc: Exception, action: str, url: str) -> errors.ReproboxError | None:
    import docker.errors
    import requests.exceptions
    import urllib3.exceptions

    if isinstance(exc, urllib3.exceptions.ProtocolError | requests.exceptions.ChunkedEncodingError):
        return broken_off(url)
    if isinstance(exc, docker.errors.ImageNotFound):
        return errors.ImageNotFound(f"{action}: {_explanation(exc)}")
    if isinstance(exc, docker.errors.APIError):
        return errors.EngineError(f"{action}: {_explanation(exc)}", status=exc.status_code)
    if isinstance(exc, requests.exceptions.ConnectionError | docker.errors.DockerException):
        return unavailable(exc, url)
    return None


def _explanation(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)


def open_client(base_url: str | None = None, timeout: float = 120) -> docker.DockerClient:
    """A connected client; raises :class:`EngineUnavailable` with a fix when none answers."""
    import docker
    import requests.exceptions

    url = engine_url(base_url)
    try:
        client = docker.DockerClient(base_url=url, version="auto", timeout=int(timeout))
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise unavailable(exc, url) from exc
    return client
