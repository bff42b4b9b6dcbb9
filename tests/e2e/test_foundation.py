"""The tasks-app, containerized for real: every README lab step against the real engine.

Each test mirrors a command from the README's container lab, with unique names so it never
touches a user's own ``tasks-app`` image or ``tasks-data`` volume.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    ROOTFUL_ENGINES,
    TASKS_APP,
    TEST_LABEL,
    TEST_SESSION,
    docker_cli,
    run_rm,
)

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ROOTFUL_ENGINES)]

LABEL_ARGS = ("--label", f"{TEST_LABEL}={TEST_SESSION}")


def build(context: Path, tag: str, base: str, *extra: str) -> str:
    """docker build as the README shows it; returns the build output."""
    done = docker_cli(
        "build",
        "--network",
        "none",
        "--build-arg",
        f"BASE_IMAGE={base}",
        *LABEL_ARGS,
        "-t",
        tag,
        *extra,
        str(context),
    )
    return done.stdout + done.stderr


def run(image: str, *args: str, opts: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``docker run --rm`` as the lab shows it (``podman run --rm`` on Podman: see run_rm)."""
    return run_rm("--network", "none", *LABEL_ARGS, *opts, image, *args, timeout=120)


@pytest.fixture(scope="module")
def tasks_image(base_image: str) -> Iterator[str]:
    tag = f"reprobox-test/tasks-app:{TEST_SESSION}"
    build(TASKS_APP, tag, base_image)
    try:
        yield tag
    finally:
        docker_cli("rmi", "-f", tag, check=False)


@pytest.fixture
def volume(unique: str) -> Iterator[str]:
    name = f"reprobox-test-tasks-{unique}"
    docker_cli("volume", "create", *LABEL_ARGS, name)
    try:
        yield name
    finally:
        docker_cli("volume", "rm", "-f", name, check=False)


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every path under root with its content hash, mode and mtime (ns)."""
    found: dict[str, tuple[str, int, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[str(path.relative_to(root))] = (digest, st.st_mode, st.st_mtime_ns)
    return found


def test_list_in_a_fresh_container_shows_no_tasks(tasks_image: str) -> None:
    done = run(tasks_image)  # CMD ["list"]
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(no tasks yet)"


def test_state_is_per_container_with_rm(tasks_image: str) -> None:
    added = run(tasks_image, "add", "buy", "milk")
    assert added.returncode == 0, added.stderr
    assert "buy milk" in added.stdout
    after = run(tasks_image, "list")
    assert after.stdout.strip() == "(no tasks yet)", "a --rm container's writes must vanish"


def test_named_volume_and_tasks_file_keep_state(tasks_image: str, volume: str) -> None:
    opts = ("-v", f"{volume}:/data", "-e", "TASKS_FILE=/data/tasks.json")
    first = run(tasks_image, "add", "water", "plants", opts=opts)
    assert first.returncode == 0, first.stderr
    second = run(tasks_image, "list", opts=opts)
    assert second.stdout.strip() == "0. [ ] water plants"
    assert run(tasks_image, "count", opts=opts).stdout.strip() == "1"


def test_container_user_is_not_root(tasks_image: str) -> None:
    user = docker_cli("image", "inspect", "--format", "{{.Config.User}}", tasks_image)
    assert user.stdout.strip() not in ("", "0", "root", "0:0")
    uid = run(
        tasks_image,
        "-c",
        "import os; print(os.getuid(), os.getgid())",
        opts=("--entrypoint", "python"),
    )
    assert uid.returncode == 0, uid.stderr
    assert all(int(n) != 0 for n in uid.stdout.split())


def test_code_is_not_writable_by_the_app_user(tasks_image: str) -> None:
    probe = run(tasks_image, "-c", "open('/app/cli.py', 'a')", opts=("--entrypoint", "python"))
    assert probe.returncode != 0 and "Permission denied" in probe.stderr


def test_state_files_and_git_never_reach_the_image(
    base_image: str, tmp_path: Path, unique: str
) -> None:
    context = tmp_path / "tasks-app"
    shutil.copytree(TASKS_APP, context)
    planted = {
        "tasks.json": '[{"title": "secret", "done": false}]',
        ".env": "TOKEN=s3cret",
        ".git/HEAD": "ref: refs/heads/main\n",
        "__pycache__/x.pyc": "x",
        ".venv/bin/python": "",
        "README.md": "docs",
    }
    for rel, text in planted.items():
        (context / rel).parent.mkdir(parents=True, exist_ok=True)
        (context / rel).write_text(text)
    # A probe Dockerfile outside the context copies the whole context the engine received.
    probe = tmp_path / "probe.Dockerfile"
    probe.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /ctx/\n")
    tag, probe_tag = f"reprobox-test/tasks-ctx:{unique}", f"reprobox-test/probe:{unique}"
    try:
        build(context, tag, base_image)
        build(context, probe_tag, base_image, "-f", str(probe))
        listing = run(probe_tag, "find", "/ctx", opts=("--entrypoint", "")).stdout.split()
        names = {Path(p).relative_to("/ctx").as_posix() for p in listing if p != "/ctx"}
        assert names, "the probe should list the context it received"
        assert {"tasks.py", "cli.py"} <= names
        for rel in planted:
            assert rel not in names and rel.split("/")[0] not in names, rel
        found = run(
            tag,
            "-c",
            "import os; print([os.path.join(d, f) for d, ds, fs in "
            "os.walk('/') if not d.startswith(('/proc', '/sys')) for f in fs + ds "
            "if f in ('tasks.json', '.git', '.env')])",
            opts=("--entrypoint", "python"),
        )
        assert found.returncode == 0, found.stderr
        assert found.stdout.strip() == "[]"
    finally:
        docker_cli("rmi", "-f", tag, probe_tag, check=False)


def _layers(tag: str) -> list[str]:
    out = docker_cli("image", "inspect", "--format", "{{json .RootFS.Layers}}", tag).stdout
    return [layer for layer in out.strip().strip("[]").replace('"', "").split(",") if layer]


@pytest.mark.engines("docker")  # reads the Docker builder's "Step N/M :" output
def test_code_change_rebuilds_only_the_layers_after_copy(
    base_image: str, tmp_path: Path, unique: str
) -> None:
    context = tmp_path / "tasks-app"
    shutil.copytree(TASKS_APP, context)
    first, second = f"reprobox-test/cache-a:{unique}", f"reprobox-test/cache-b:{unique}"
    try:
        build(context, first, base_image)
        cli = context / "cli.py"
        cli.write_text(cli.read_text() + "# a one-line change\n")
        output = build(context, second, base_image)
        blocks = output.split("Step ")[1:]
        copy_at = next(
            i for i, b in enumerate(blocks) if b.split("\n")[0].split(" : ")[1].startswith("COPY")
        )
        for block in blocks[:copy_at]:
            instruction = block.split("\n")[0].split(" : ")[1]
            if not instruction.startswith(("ARG", "FROM")):
                assert "Using cache" in block, f"rebuilt before COPY: {instruction}"
        assert "Using cache" not in blocks[copy_at], "the changed code must be copied again"
        before, after = _layers(first), _layers(second)
        base_layers = _layers(base_image)
        assert after[: len(base_layers)] == base_layers
        differing = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert len(differing) == 1, "only the COPY layer may change"
    finally:
        docker_cli("rmi", "-f", first, second, check=False)


def test_unittest_suite_passes_in_clean_base_container_readonly(base_image: str) -> None:
    before = snapshot(TASKS_APP)
    done = run_rm(
        "--network",
        "none",
        *LABEL_ARGS,
        "-e",
        "PYTHONDONTWRITEBYTECODE=1",
        "-v",
        f"{TASKS_APP}:/src:ro",
        "-w",
        "/src",
        "--user",
        "65534:65534",
        base_image,
        "python",
        "-m",
        "unittest",
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stderr.splitlines()[-1]
    assert snapshot(TASKS_APP) == before, "the suite must write nothing into the working tree"


def test_throwaway_box_is_read_only_and_has_only_loopback(base_image: str) -> None:
    opts = ("--read-only",)
    write = run(base_image, "sh", "-c", "echo x > /pwned", opts=opts)
    assert write.returncode != 0 and "Read-only file system" in write.stderr
    nics = run(base_image, "ls", "/sys/class/net", opts=opts)
    assert nics.returncode == 0, nics.stderr
    assert nics.stdout.split() == ["lo"]


def test_no_test_container_or_volume_left_after_runs(tasks_image: str) -> None:
    run(tasks_image, "list")
    flt = f"label={TEST_LABEL}={TEST_SESSION}"
    assert docker_cli("ps", "-aq", "--filter", flt).stdout.strip() == ""
