"""Connecting to the engine and translating the docker SDK's errors into reprobox's tree.

This package is the only place in reprobox that imports ``docker``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import docker
import docker.errors
import requests.exceptions

from reprobox import errors

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
    if any(isinstance(e, TimeoutError | requests.exceptions.Timeout) for e in chain):
        return errors.EngineUnavailable(
            f"the engine at {url} did not answer in time", "check that dockerd is healthy"
        )
    return errors.EngineUnavailable(f"cannot reach the engine at {url}: {exc}", START_HINT)


@contextlib.contextmanager
def translated(action: str, url: str) -> Iterator[None]:
    """Turn docker SDK and connection errors raised inside the block into reprobox errors."""
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise errors.ImageNotFound(f"{action}: {_explanation(exc)}") from exc
    except docker.errors.APIError as exc:
        raise errors.EngineError(f"{action}: {_explanation(exc)}", status=exc.status_code) from exc
    except (requests.exceptions.ConnectionError, docker.errors.DockerException) as exc:
        raise unavailable(exc, url) from exc


def _explanation(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc)


def open_client(base_url: str | None = None, timeout: float = 120) -> docker.DockerClient:
    """A connected client; raises :class:`EngineUnavailable` with a fix when none answers."""
    url = engine_url(base_url)
    try:
        client = docker.DockerClient(base_url=url, version="auto", timeout=int(timeout))
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise unavailable(exc, url) from exc
    return client
