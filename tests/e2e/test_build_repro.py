"""``reprobox build`` against the real engine: one image ID from any clone, clear failures.

Reproducible images cannot carry the test-session label (it would change the image ID), so
every test removes the images it made by ID in ``finally``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import (
    ALL_ENGINES,
    TASKS_APP,
    docker_cli,
    engine_url,
    reprobox_cli,
    run_rm,
    selected_engines,
)

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ALL_ENGINES)]

APP_FILES = ("Dockerfile", ".dockerignore", "tasks.py", "cli.py")
_ID = re.compile(r"sha256:[0-9a-f]{64}")


def _git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2024-05-01T12:00:00Z",
        "GIT_COMMITTER_DATE": "2024-05-01T12:00:00Z",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def app_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding the tasks-app (one commit at a fixed date)."""
    repo = tmp_path_factory.mktemp("origin")
    _git(repo, "init", "-q", "-b", "main")
    (repo / "tasks-app").mkdir()
    for name in APP_FILES:
        shutil.copy2(TASKS_APP / name, repo / "tasks-app" / name)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "tasks-app")
    return repo


def _clone(origin: Path, target: Path, umask: int) -> Path:
    old = os.umask(umask)
    try:
        subprocess.run(["git", "clone", "-q", str(origin), str(target)], check=True)
    finally:
        os.umask(old)
    return target / "tasks-app"


def _build(context: Path, base: str, tag: str) -> str:
    done = reprobox_cli("build", str(context), "--build-arg", f"BASE_IMAGE={base}", "--tag", tag)
    assert done.returncode == 0, done.stderr
    found = _ID.search(done.stdout)
    assert found, done.stdout
    return found.group(0)


def _labels(ref: str) -> dict[str, str]:
    inspect = docker_cli("image", "inspect", "--format", "{{json .Config.Labels}}", ref)
    return dict(json.loads(inspect.stdout))


def test_clones_of_different_local_paths_give_one_image_id_and_no_host_path(
    app_repo: Path, tmp_path: Path, base_image: str, unique: str, made: list[str]
) -> None:
    """Clones of two origins at different local paths, and a clone whose remote carries
    credentials: no source label, nothing of the host in the image, one image ID."""
    tags = [f"reprobox-test/repro:{unique}-{n}" for n in range(4)]
    made.extend(tags)
    mirror = tmp_path / "mirror-of-origin"
    shutil.copytree(app_repo, mirror)
    first = _clone(app_repo, tmp_path / "one", 0o022)
    second = _clone(mirror, tmp_path / "somewhere" / "else", 0o077)
    ids = [_build(first, base_image, tags[0]), _build(second, base_image, tags[1])]
    _git(first, "remote", "set-url", "origin", "https://user:s3cret-token@example.invalid/a.git")
    ids.append(_build(first, base_image, tags[2]))
    made.extend(ids)
    assert len(set(ids)) == 1, ids
    inspect = docker_cli("image", "inspect", tags[2]).stdout
    for leak in (str(tmp_path), str(app_repo), "s3cret-token", "user:"):
        assert leak not in inspect
    labels = _labels(tags[0])
    assert "org.opencontainers.image.source" not in labels
    assert "org.opencontainers.image.revision" in labels
    assert labels["org.opencontainers.image.created"] == "2024-05-01T12:00:00Z"
    run = run_rm("--network", "none", tags[0], timeout=120)
    assert run.returncode == 0, run.stderr
    assert "(no tasks yet)" in run.stdout
    # The control: a network remote without userinfo does become the source label.
    _git(second, "remote", "set-url", "origin", "https://example.invalid/org/tasks.git")
    made.append(_build(second, base_image, tags[3]))
    assert _labels(tags[3])["org.opencontainers.image.source"] == (
        "https://example.invalid/org/tasks.git"
    )


@pytest.mark.engines("docker")  # Podman words build steps differently
def test_failing_build_names_the_step_and_leaves_nothing(
    tmp_path: Path, base_image: str, unique: str
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo made-a-layer > /ok\nRUN echo the-step-output && exit 7\n"
    )
    before = set(docker_cli("images", "-aq", "--no-trunc").stdout.split())
    done = reprobox_cli("build", str(tmp_path), "--tag", f"reprobox-test/fail:{unique}")
    after = set(docker_cli("images", "-aq", "--no-trunc").stdout.split())
    assert done.returncode == 3
    assert "build failed at Step 3/" in done.stderr
    assert "the-step-output" in done.stderr
    assert "returned a non-zero code: 7" in done.stderr
    assert not (after - before), "intermediate images were left behind"


def test_missing_base_image_is_one_line_and_never_pulled(tmp_path: Path) -> None:
    for name in APP_FILES:
        shutil.copy2(TASKS_APP / name, tmp_path / name)
    done = reprobox_cli("build", str(tmp_path))
    assert done.returncode == 3
    assert "python:3.12-slim" in done.stderr and "is not on this engine" in done.stderr
    assert "reprobox base" in done.stderr and "--build-arg BASE_IMAGE=" in done.stderr


@pytest.mark.skipif(shutil.which("buildah") is None, reason="buildah is not installed")
@pytest.mark.engines("docker")  # pushes to a Docker engine
def test_buildah_backend_gives_one_image_id_that_runs(
    app_repo: Path, tmp_path: Path, base_image: str, unique: str, made: list[str]
) -> None:
    tags = [f"reprobox-test/buildah:{unique}-{n}" for n in range(2)]
    made.extend(tags)
    first = _clone(app_repo, tmp_path / "one", 0o022)
    second = _clone(app_repo, tmp_path / "two", 0o077)
    ids = []
    for context, tag in ((first, tags[0]), (second, tags[1])):
        done = reprobox_cli(
            "build", str(context), "--backend", "buildah",
            "--build-arg", f"BASE_IMAGE={base_image}", "--tag", tag,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        ids.append(_ID.search(done.stdout).group(0))  # type: ignore[union-attr]
    made.extend(ids)
    assert ids[0] == ids[1]
    run = run_rm("--network", "none", tags[0], timeout=120)
    assert "(no tasks yet)" in run.stdout, run.stderr


@pytest.mark.engines("docker")  # buildah is looked up before any engine: once is enough
def test_buildah_missing_from_path_is_one_line_naming_the_package(
    tmp_path: Path, base_image: str
) -> None:
    """The real CLI with a PATH that lacks buildah (the control is the test above)."""
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\n")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    done = reprobox_cli("build", str(tmp_path), "--backend", "buildah", env={"PATH": str(empty)})
    assert done.returncode == 3, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: buildah is not installed (Debian package buildah): --backend buildah builds with it"
    ]
    assert "hint: install it: sudo apt-get install buildah, or use --backend docker" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.engines("podman-rootless")
def test_rootless_and_rootful_podman_give_one_image_id(
    base_image: str, unique: str, made: list[str]
) -> None:
    """Rootless Podman's overlay leaks overlayfs xattrs into its layers; normalized away, the
    same inputs give rootful Podman's image ID (Docker's differs: see the README)."""
    if "podman" not in selected_engines():
        pytest.skip("needs rootful Podman as well (REPROBOX_TEST_ENGINES)")
    tag = f"reprobox-test/cross:{unique}"
    made.append(tag)
    build = ("build", str(TASKS_APP), "--build-arg", f"BASE_IMAGE={base_image}", "--tag", tag)
    try:
        rootless = reprobox_cli(*build)
        rootful = reprobox_cli("--host", engine_url("podman"), *build)
    finally:
        rootful_rmi = ["podman", "--remote", "--url", engine_url("podman"), "rmi", "-f", tag]
        subprocess.run(rootful_rmi, capture_output=True, check=False, timeout=120)
    assert rootless.returncode == 0 and rootful.returncode == 0, rootless.stderr + rootful.stderr
    ids = [_ID.search(done.stdout) for done in (rootless, rootful)]
    assert ids[0] and ids[1], rootless.stdout + rootful.stdout
    assert ids[0].group(0) == ids[1].group(0)
