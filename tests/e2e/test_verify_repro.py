"""``reprobox verify`` against the real engine: the tasks-app is identical; planted
nondeterminism is found, with the right path and cause."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ALL_ENGINES, TASKS_APP, docker_cli, reprobox_cli

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ALL_ENGINES)]

PLANTED = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY umask.txt /app/umask.txt
RUN date > /stamp
RUN head -c 64 /dev/urandom > /random.bin
RUN mkdir /lib2 && echo 'X = 1' > /lib2/mod.py && python -m compileall -q /lib2
RUN echo stable > /stable.txt
"""


def _images() -> set[str]:
    return set(docker_cli("images", "-aq", "--no-trunc").stdout.split())


def test_tasks_app_verifies_identical(base_image: str) -> None:
    before = _images()
    done = reprobox_cli("verify", str(TASKS_APP), "--build-arg", f"BASE_IMAGE={base_image}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verify: identical" in done.stdout
    assert not (_images() - before), "verify left images behind"


@pytest.mark.engines("docker")  # representative subset: identical verify runs on Podman
def test_planted_nondeterminism_is_reported_with_path_and_cause(
    tmp_path: Path, base_image: str
) -> None:
    (tmp_path / "Dockerfile").write_text(PLANTED)
    (tmp_path / "umask.txt").write_text("mode follows the checkout's umask\n")
    (tmp_path / "umask.txt").chmod(0o644)
    before = _images()
    done = reprobox_cli(
        "verify", str(tmp_path), "--json", "--build-arg", f"BASE_IMAGE={base_image}"
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    causes = {d["path"]: (d["differs"], d["cause"]) for d in report["paths"]}
    assert causes["/stamp"] == (["content"], causes["/stamp"][1])
    assert "SOURCE_DATE_EPOCH" in causes["/stamp"][1]
    assert causes["/random.bin"] == (["content"], "random content")
    pyc = next(p for p in causes if p.endswith("mod.cpython-311.pyc"))
    assert causes[pyc][1].startswith("pyc embeds mtime")
    assert causes["/app/umask.txt"][0] == ["mode"]
    assert "umask" in causes["/app/umask.txt"][1]
    assert "/stable.txt" not in causes
    assert report["identical"] is False and report["schema_version"] == 1
    assert not (_images() - before), "verify left images behind"


@pytest.mark.engines("docker")  # representative subset: identical verify runs on Podman
def test_text_report_and_diffoscope(tmp_path: Path, base_image: str) -> None:
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN date > /stamp\n")
    done = reprobox_cli(
        "verify", str(tmp_path), "--diffoscope", "--build-arg", f"BASE_IMAGE={base_image}"
    )
    assert done.returncode == 1, done.stderr
    assert "verify: DIFFERENT" in done.stdout
    assert "/stamp  [content]" in done.stdout
    if shutil.which("diffoscope"):
        assert "--- diffoscope /stamp" in done.stdout
    else:
        assert "diffoscope is not installed" in done.stdout


@pytest.mark.engines("docker")  # representative subset: identical verify runs on Podman
def test_could_not_build_exits_3(tmp_path: Path, base_image: str) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nRUN exit 1\n")
    assert reprobox_cli("verify", str(tmp_path)).returncode == 3
