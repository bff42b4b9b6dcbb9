"""Helpers (no tests) shared by the sandbox and run e2e tests: runtimes, labels, leftovers."""

from __future__ import annotations

import functools
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests import conftest
from tests.conftest import docker_cli

CASE_LABEL = "io.reprobox.test-case"


def case_labels() -> dict[str, str]:
    """The conftest's test labels plus a label unique to this test case."""
    return {**conftest.test_labels(), CASE_LABEL: uuid.uuid4().hex[:12]}


def leftovers(labels: dict[str, str]) -> list[str]:
    """Containers (any state) still carrying this case's label."""
    flt = f"label={CASE_LABEL}={labels[CASE_LABEL]}"
    return docker_cli("ps", "-aq", "--filter", flt, check=False).stdout.split()


def remove_leftovers(labels: dict[str, str]) -> None:
    found = leftovers(labels)
    if found:
        docker_cli("rm", "-f", *found, check=False)


@functools.cache
def runsc_works(image: str) -> str | None:
    """``None`` when runsc runs a trivial container here, else why not."""
    info = docker_cli("info", "--format", "{{json .Runtimes}}", check=False).stdout
    if "runsc" not in info:
        return "the runsc runtime is not registered with the engine"
    probe = docker_cli(
        "run",
        "--rm",
        "--runtime",
        "runsc",
        "--network",
        "none",
        "--label",
        f"{CASE_LABEL}=probe",
        *_label_args(),
        image,
        "true",
        check=False,
        timeout=60,
    )
    return None if probe.returncode == 0 else f"runsc does not run here: {probe.stderr[-200:]}"


def _label_args() -> list[str]:
    return [a for k, v in conftest.test_labels().items() for a in ("--label", f"{k}={v}")]


def runtime_param(request: pytest.FixtureRequest, image: str) -> str | None:
    """The runtime under test (``None`` = the engine's default, runc); skips runsc when absent."""
    name = str(request.param)
    if name == "runsc":
        if os.environ.get("DOCKER_HOST") == conftest.engine_url("podman-rootless"):
            pytest.skip("gVisor needs a rootful engine (its refusal: test_engines.py)")
        why = runsc_works(image)
        if why:
            pytest.skip(why)
        return "runsc"
    return None


@contextmanager
def host_listener() -> Iterator[tuple[int, bytes]]:
    """A TCP server on the host's 127.0.0.1 that answers every connection with a token."""
    token = uuid.uuid4().hex.encode()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(token)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], token
    finally:
        stop.set()
        thread.join(2)
        server.close()
