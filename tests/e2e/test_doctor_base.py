"""doctor and base against the real engine, driven as a user drives them (subprocesses)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ALL_ENGINES, docker_cli, reprobox_cli, run_rm

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ALL_ENGINES)]


def test_doctor_reports_the_engines_own_answers(engine_available: bool) -> None:
    done = reprobox_cli("doctor", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    server = docker_cli("version", "--format", "{{.Server.Version}}").stdout.strip()
    assert report["healthy"] is True
    assert report["info"]["server_version"] == server
    assert report["info"]["storage_driver"] and report["info"]["cgroup_version"] in ("1", "2")
    assert "runc" in report["info"]["runtimes"]
    names = {c["name"] for c in report["checks"]}
    assert {"engine", "seccomp", "runtimes", "network", "user", "base image"} <= names


def test_doctor_text_output(engine_available: bool) -> None:
    done = reprobox_cli("doctor")
    assert done.returncode == 0, done.stderr
    assert "answers ping" in done.stdout and "seccomp" in done.stdout


@pytest.fixture
def dead_socket(tmp_path: Path) -> Iterator[Path]:
    """A unix socket that exists but where no daemon listens (connect is refused)."""
    path = tmp_path / "docker.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    try:
        yield path
    finally:
        sock.close()


@pytest.mark.engines("docker")  # no engine answers here: once is enough
@pytest.mark.parametrize("kind", ["refused", "missing"])
def test_doctor_without_daemon_exits_3_with_fix(dead_socket: Path, kind: str) -> None:
    target = dead_socket if kind == "refused" else dead_socket.with_name("absent.sock")
    done = reprobox_cli("--host", f"unix://{target}", "doctor")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"error: daemon not running: nothing answers at unix://{target}"
    assert lines[1].startswith("hint: start it with: sudo scripts/setup-engine")
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.engines("docker")  # always Docker's default socket: once is enough
def test_doctor_socket_not_permitted(engine_available: bool) -> None:
    setpriv = shutil.which("setpriv")
    if setpriv is None or not Path("/var/run/docker.sock").exists():
        pytest.skip("needs setpriv and the default socket")
    done = subprocess.run(
        [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "reprobox",
            "--host",
            "unix:///var/run/docker.sock",
            "doctor",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.startswith("error: permission denied on the engine socket")
    assert "docker group" in done.stderr


def test_base_reuses_an_existing_image(base_image: str) -> None:
    done = reprobox_cli("base")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(base_image) and "(reused)" in done.stdout


def test_base_image_has_python_and_no_apt_state(base_image: str) -> None:
    script = (
        "python --version; python3 -c 'import sys; print(sys.version_info[:2])'; "
        "ls -A /var/lib/apt/lists /var/cache/apt /var/log"
    )
    done = run_rm("--network", "none", base_image, "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Python 3.11"), "python-is-python3 gives `python`"
    assert lines[1] == "(3, 11)"
    assert [x for x in lines[2:] if x and not x.endswith(":")] == [], "apt state left behind"
    inspect = ("image", "inspect", "--format", "{{json .Config.Labels}}", base_image)
    labels = json.loads(docker_cli(*inspect).stdout)
    assert labels["io.reprobox.base.python"] == "3.11"


@pytest.mark.slow
@pytest.mark.engines("docker")  # debootstrap once is enough
def test_base_rebuild_builds_a_new_tag_from_debian_packages(
    engine_available: bool, unique: str
) -> None:
    """A real debootstrap + import under a throwaway tag (about a minute)."""
    tag = f"reprobox-test/python:{unique}"
    try:
        done = reprobox_cli("base", "--tag", tag, timeout=900)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.startswith(tag) and "built in" in done.stdout
        assert "debootstrap" in done.stderr  # progress was shown
        ran = docker_cli("run", "--rm", "--network", "none", tag, "python", "-c", "print(6*7)")
        assert ran.stdout.strip() == "42"
        again = reprobox_cli("base", "--tag", tag)
        assert again.returncode == 0 and "(reused)" in again.stdout
    finally:
        docker_cli("rmi", "-f", tag, check=False)


@pytest.mark.engines("docker")  # Podman's socket gives another permission error
def test_base_without_root_says_so(engine_available: bool, unique: str) -> None:
    """A docker-group user reaches the engine but cannot debootstrap: one clear line, exit 3."""
    import grp

    setpriv = shutil.which("setpriv")
    try:
        docker_gid = grp.getgrnam("docker").gr_gid
    except KeyError:
        docker_gid = None
    if setpriv is None or docker_gid is None:
        pytest.skip("needs setpriv and a docker group")
    tag = f"reprobox-test/python:{unique}"
    done = subprocess.run(
        [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            f"--groups={docker_gid}",
            sys.executable,
            "-m",
            "reprobox",
            "base",
            "--tag",
            tag,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-2].startswith("error: building the base image needs root"), done.stderr
    assert lines[-1] == "hint: run it as root: sudo reprobox base"
    assert "Traceback" not in done.stderr
    assert docker_cli("image", "inspect", tag, check=False).returncode != 0
