"""``reprobox run`` and ``reprobox gc`` as a user runs them (real subprocesses, real engine)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from reprobox.engine import labels as rlabels
from tests.conftest import ROOTFUL_ENGINES, docker_cli, reprobox_cli
from tests.e2e.test_sandbox_support import CASE_LABEL, host_listener, leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ROOTFUL_ENGINES)]


def rrun(
    image: str, labels: dict[str, str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    done = reprobox_cli("run", "--image", image, *label_args, *args, env=env, timeout=120)
    assert leftovers(labels) == [], "reprobox run left a container"
    return done


def test_exit_code_and_output_are_the_commands_own(base_image: str, labels: dict[str, str]) -> None:
    done = rrun(base_image, labels, "--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (done.returncode, done.stdout, done.stderr) == (7, "out\n", "err\n")


def test_timeout_exits_124(base_image: str, labels: dict[str, str]) -> None:
    started = time.monotonic()
    done = rrun(base_image, labels, "--timeout", "1.5", "--", "sleep", "1000")
    assert done.returncode == 124 and time.monotonic() - started < 20
    assert done.stderr.strip().splitlines()[-1] == (
        "reprobox: timed out after 1.5 s: the command and every process it started were "
        "killed (exit 124)"
    )


def test_flood_is_capped_live_too_and_says_so(base_image: str, labels: dict[str, str]) -> None:
    done = rrun(base_image, labels, "--", "sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x")
    assert done.returncode == 0
    assert done.stdout == "x" * (1 << 20), "the terminal gets no more than the cap"
    assert done.stderr.strip() == (
        "reprobox: stdout truncated: kept the first 1048576 of 3000000 bytes"
    )


@pytest.mark.engines(
    "docker"
)  # Podman 4.3 records no OOM kill on cgroup v1: exit 137 without the message
def test_out_of_memory_exits_137(base_image: str, labels: dict[str, str]) -> None:
    bomb = "a = []\nwhile True:\n    a.append(bytearray(16 << 20))"
    done = rrun(base_image, labels, "--memory", "64m", "--", "python3", "-c", bomb)
    assert done.returncode == 137
    assert "reprobox: killed: exceeded the 64 MiB memory limit" in done.stderr


def test_json_prints_the_run_result(base_image: str, labels: dict[str, str]) -> None:
    import json

    done = rrun(base_image, labels, "--json", "--", "sh", "-c", "echo hi; exit 3")
    data = json.loads(done.stdout)
    assert done.returncode == 3
    assert data["exit_code"] == 3 and data["stdout"] == "hi\n" and data["timed_out"] is False


def test_missing_image_is_one_line_naming_the_fixes(labels: dict[str, str]) -> None:
    env = {"REPROBOX_IMAGE": f"reprobox-test/missing:{uuid.uuid4().hex[:8]}"}
    done = reprobox_cli("run", "--", "true", env=env)
    assert done.returncode == 125
    assert done.stderr.startswith("error: image reprobox-test/missing")
    assert "reprobox base" in done.stderr and "--image" in done.stderr


def test_default_image_is_the_pinned_python_image() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REPROBOX_IMAGE"}
    done = subprocess.run(
        [sys.executable, "-m", "reprobox", "run", "--explain", "--", "true"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "python:3.12-slim@sha256:78387bc3881b" in done.stdout


def test_explain_says_what_is_and_is_not_blocked(tmp_path: Path) -> None:
    os.chown(tmp_path, 65534, 65534)  # a writable mount the box's user can write to
    done = reprobox_cli("run", "--explain", "--network", "host", "--mount", f"{tmp_path}:rw")
    assert done.returncode == 0
    assert "shares the host's kernel" in done.stdout
    assert "--network host shares the host's network" in done.stdout
    assert f"{tmp_path}: mounted, so the command can read AND WRITE" in done.stdout


def test_host_environment_secret_does_not_leak(base_image: str, labels: dict[str, str]) -> None:
    secret = uuid.uuid4().hex
    done = rrun(base_image, labels, "--", "env", env={"REPROBOX_TEST_SECRET": secret})
    assert done.returncode == 0 and secret not in done.stdout


def test_host_docker_proxy_config_does_not_leak(
    base_image: str, labels: dict[str, str], tmp_path: Path
) -> None:
    """The docker SDK copies ~/.docker/config.json proxies into containers by default; a
    sandbox must not (checked on the SDK path: a session, because of --copy-in)."""
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(
        '{"proxies": {"default": {"httpProxy": "http://127.0.0.1:9/leak", '
        '"noProxy": "leak.invalid"}}}'
    )
    marker = tmp_path / "in.txt"
    marker.write_text("x")
    for extra in ((), ("--copy-in", str(marker))):
        done = rrun(base_image, labels, *extra, "--", "env", env={"DOCKER_CONFIG": str(config)})
        assert done.returncode == 0, done.stderr
        assert "leak" not in done.stdout.lower() and "proxy" not in done.stdout.lower()


def test_network_host_reaches_the_host_listener_default_does_not(
    base_image: str, labels: dict[str, str]
) -> None:
    code = (
        "import socket, sys\ns = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 3)\n"
        "print(s.recv(64).decode())"
    )
    with host_listener() as (port, token):
        blocked = rrun(base_image, labels, "--", "python3", "-c", code, str(port))
        reached = rrun(
            base_image, labels, "--network", "host", "--", "python3", "-c", code, str(port)
        )
    assert blocked.returncode == 1 and token.decode() not in blocked.stdout
    assert reached.returncode == 0 and token.decode() in reached.stdout


def test_copy_in_copy_out_and_read_only_mount(
    base_image: str, labels: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in/x.txt").write_text("data")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    script = (
        "cat in/x.txt > result.txt; cat /mnt/shared/../shared/ 2>/dev/null; touch /mnt/shared/w"
    )
    done = rrun(
        base_image,
        labels,
        "--copy-in",
        str(tmp_path / "in"),
        "--copy-out",
        str(tmp_path / "out"),
        "--mount",
        str(shared),
        "--",
        "sh",
        "-c",
        script,
    )
    assert done.returncode != 0  # the write to the read-only mount failed
    assert (tmp_path / "out/result.txt").read_text() == "data"
    assert not (shared / "w").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_remove_the_box(
    base_image: str, labels: dict[str, str], sig: signal.Signals
) -> None:
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reprobox",
            "run",
            "--image",
            base_image,
            *label_args,
            "--",
            "sh",
            "-c",
            "echo started; sleep 100",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "started\n"
        assert len(leftovers(labels)) == 1
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert leftovers(labels) == []


def test_gc_removes_leftovers_of_dead_sessions_only(
    base_image: str, labels: dict[str, str]
) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    created = []
    for pid in (str(dead.pid), str(os.getpid())):
        owner = {**rlabels.for_resource("sandbox"), rlabels.PID: pid, **labels}
        args = [a for k, v in owner.items() for a in ("--label", f"{k}={v}")]
        created.append(docker_cli("create", *args, base_image, "true").stdout.strip())
    done = reprobox_cli("gc")
    assert done.returncode == 0, done.stderr
    remaining = leftovers(labels)
    assert [c[:12] for c in remaining] == [created[1][:12]]
    assert CASE_LABEL in labels


def test_runsc_runtime_from_the_cli(base_image: str, labels: dict[str, str]) -> None:
    from tests.e2e.test_sandbox_support import runsc_works

    why = runsc_works(base_image)
    if why:
        pytest.skip(why)
    done = rrun(
        base_image,
        labels,
        "--runtime",
        "runsc",
        "--timeout",
        "1.5",
        "--",
        "sh",
        "-c",
        "sleep 1000 & echo $(id -u); sleep 1000",
    )
    assert done.returncode == 124 and done.stdout == "65534\n"


def test_engine_down_exits_125_and_usage_errors_2(tmp_path: Path) -> None:
    down = reprobox_cli(
        "run", "--image", "x", "--", "true", env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    )
    assert down.returncode == 125 and "daemon not running" in down.stderr
    assert reprobox_cli("run", "--image", "x").returncode == 2
    missing = reprobox_cli("run", "--mount", str(tmp_path / "nope"), "--", "true")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
