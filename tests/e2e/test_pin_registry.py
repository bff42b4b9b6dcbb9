"""``reprobox pin`` against a real registry (Debian's ``docker-registry``) on 127.0.0.1: push
the offline base image, pin a two-stage Dockerfile, lint it clean of RBX1101/RBX1102, build it.
The registry's only address is the loopback; everything pushed or tagged is removed after."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import docker_cli, reprobox_cli

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry on 127.0.0.1:<free port> with its storage in a temporary folder."""
    binary = shutil.which("docker-registry")
    if binary is None:
        if os.environ.get("REPROBOX_REQUIRE_ENGINE") == "1":
            pytest.fail("docker-registry is not installed (scripts/test installs it)")
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    root = tmp_path_factory.mktemp("registry")
    host = f"127.0.0.1:{_free_port()}"
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\nhttp:\n  addr: {host}\n"
    )
    proc = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"http://{host}/v2/"):
            assert proc.poll() is None, f"docker-registry exited: {proc.stderr.read()!r}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "docker-registry did not answer within 30 s"
            time.sleep(0.1)
        yield host
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def pushed(registry: str, base_image: str) -> Iterator[tuple[str, str]]:
    """The base image pushed as <registry>/python:3.11-bookworm: (reference, digest)."""
    ref = f"{registry}/python:3.11-bookworm"
    docker_cli("tag", base_image, ref)
    digest = ""
    try:
        push = docker_cli("push", ref, timeout=600)
        digest = push.stdout.split("digest: ", 1)[1].split()[0]
        yield ref, digest
    finally:
        refs = [ref] + ([f"{registry}/python@{digest}"] if digest else [])
        docker_cli("rmi", *refs, check=False)


TWO_STAGES = """\
# syntax=docker/dockerfile:1
ARG BASE={ref}   # build stage base
FROM ${{BASE}} AS Build
RUN echo built > /tmp/made # {marker}

# runtime: the same image, named directly
FROM  {ref}
COPY --from=build /tmp/made /made
USER 65534
CMD ["cat", "/made"]
"""


def _remove_stage_images(marker: str) -> None:
    """The classic builder keeps the first stage's image (untagged, no child) after the tag of
    the final one is removed: find it by the unique marker its RUN step wrote, and remove it."""
    ids = docker_cli("images", "-a", "-q", "--filter", "dangling=true", check=False).stdout.split()
    for image_id in dict.fromkeys(ids):
        history = docker_cli(
            "history", "--no-trunc", "--format", "{{.CreatedBy}}", image_id, check=False
        )
        if f"echo built > /tmp/made # {marker}" in history.stdout:
            docker_cli("rmi", image_id, check=False)


def test_pin_a_two_stage_dockerfile_then_lint_and_build_it(
    tmp_path: Path, pushed: tuple[str, str], unique: str
) -> None:
    ref, digest = pushed
    (tmp_path / ".dockerignore").write_text("*\n")
    dockerfile = tmp_path / "Dockerfile"
    original = TWO_STAGES.format(ref=ref, marker=unique)
    dockerfile.write_text(original)

    check = reprobox_cli("pin", "--check", str(tmp_path), timeout=120)
    assert check.returncode == 1, check.stderr
    assert dockerfile.read_text() == original, "--check writes nothing"

    done = reprobox_cli("pin", str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert dockerfile.read_text() == original.replace(ref, f"{ref}@{digest}")
    assert done.stdout.splitlines()[-1] == (
        "pinned 2 base images in 1 file; 0 base images already pinned and verified"
    )

    again = reprobox_cli("pin", str(tmp_path), timeout=120)
    assert again.returncode == 0 and dockerfile.read_text() == original.replace(
        ref, f"{ref}@{digest}"
    )
    assert again.stdout == "nothing pinned: 2 base images already pinned and verified\n"

    lint = reprobox_cli("lint", str(tmp_path), "--format", "json", timeout=120)
    rules = {f["rule_id"] for f in json.loads(lint.stdout)["findings"]}
    assert not rules & {"RBX1101", "RBX1102"}, rules

    tag = f"reprobox-test-pin:{unique}"
    label_args = [a for k, v in conftest.test_labels().items() for a in ("--label", f"{k}={v}")]
    try:
        docker_cli("build", "-q", *label_args, "-t", tag, str(tmp_path), timeout=600)
        assert docker_cli("run", "--rm", "--network", "none", tag).stdout == "built\n"
    finally:
        docker_cli("rmi", tag, check=False)
        _remove_stage_images(unique)


def test_local_pins_to_the_engines_repo_digest(tmp_path: Path, pushed: tuple[str, str]) -> None:
    ref, digest = pushed
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {ref}\n")
    done = reprobox_cli("pin", "--local", str(dockerfile), timeout=120)
    assert done.returncode == 0, done.stderr
    assert dockerfile.read_text() == f"FROM {ref}@{digest}\n"


def test_an_unknown_tag_is_one_line_exit_3_and_the_file_untouched(
    tmp_path: Path, registry: str
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    text = f"FROM {registry}/python:3.99\n"
    dockerfile.write_text(text)
    done = reprobox_cli("pin", str(dockerfile), timeout=120)
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"error: {dockerfile}:1: unknown tag: {registry} has no python:3.99"
    ]
    assert dockerfile.read_text() == text
