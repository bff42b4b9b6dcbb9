"""Attacks on a one-shot box, once per backend (the engine, and the daemonless oci backend)
and per runtime (runc, and runsc if it works).

Each test asserts containment (the attack failed or was stopped), a correct RunResult, that no
container (engine) or bundle, runtime state or cgroup (oci) is left behind, and, where it
could be touched, that the host is unaffected.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.engine import Engine
from reprobox.sandbox import Mount, Policy, RunResult, Sandbox
from reprobox.sandbox.backend import Backend, check_backend
from tests.conftest import ALL_ENGINES
from tests.e2e.oci_support import my_leftovers, require_oci_tools
from tests.e2e.test_sandbox_support import (
    case_labels,
    host_listener,
    leftovers,
    remove_leftovers,
    runtime_param,
)

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ALL_ENGINES)]


@pytest.fixture(params=["runc", "runsc"])
def runtime(request: pytest.FixtureRequest, base_image: str) -> str | None:
    return runtime_param(request, base_image)


@pytest.fixture(params=["engine", "oci"])
def backend(request: pytest.FixtureRequest, engine_name: str) -> Backend:
    if request.param == "oci":
        if engine_name != "docker":
            pytest.skip("the oci backend uses no engine: its battery runs once, with docker's")
        require_oci_tools()
    return check_backend(str(request.param))


class Box:
    """Runs one-shot commands under a policy and checks nothing is left afterwards."""

    def __init__(self, engine: Engine, image: str, runtime: str | None, backend: Backend) -> None:
        self.engine, self.image, self.runtime, self.backend = engine, image, runtime, backend
        self.labels = case_labels()

    def run(
        self, cmd: list[str] | str, mounts: tuple[Mount, ...] = (), **policy: object
    ) -> RunResult:
        chosen = Policy(runtime=self.runtime).relaxed(**{"timeout_s": 20.0, **policy})
        box = Sandbox(
            self.image,
            chosen,
            mounts=mounts,
            labels=self.labels,
            engine=self.engine,
            backend=self.backend,
        )
        result = box.run(cmd)
        assert leftovers(self.labels) == [], "a container was left behind"
        assert my_leftovers() == [], "an oci bundle, state or cgroup was left behind"
        return result


@pytest.fixture
def box(engine: Engine, base_image: str, runtime: str | None, backend: Backend) -> Iterator[Box]:
    made = Box(engine, base_image, runtime, backend)
    try:
        yield made
    finally:
        remove_leftovers(made.labels)


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


def test_fork_bomb_is_contained_by_the_pids_limit_and_the_timeout(box: Box) -> None:
    started = time.monotonic()
    result = box.run(sh("f(){ f | f & }; f; sleep 30"), timeout_s=4.0)
    # runc: the bomb fills the pids limit and the timeout kills it all. gVisor: the shell
    # gives up when fork fails. Either way it stops, and nothing is left.
    assert result.timed_out or result.exit_code != 0
    assert time.monotonic() - started < 30
    # The host still forks fine.
    assert os.system("true") == 0


PIDS_PROBE = (
    "import subprocess\nprocs = []\nfor _ in range(100):\n    try:\n"
    "        procs.append(subprocess.Popen(['sleep', '30']))\n    except OSError:\n        break\n"
    "print(len(procs))\nfor p in procs:\n    p.kill()"
)


def started(box: Box, pids: int) -> int | None:
    """How many of 100 background processes started under ``pids`` (``None``: the box died
    or never started)."""
    try:
        result = box.run(["python3", "-c", PIDS_PROBE], pids_limit=pids)
    except errors.SandboxError:
        return None
    text = result.stdout_text.strip()
    return int(text) if result.exit_code == 0 and text.isdigit() else None


def test_the_pids_limit_itself_stops_100_background_processes(box: Box) -> None:
    limited = started(box, 32)
    if box.runtime is None:
        assert limited is not None and limited < 32
    else:  # gVisor's own host threads count against the limit: the sandbox dies first
        assert limited is None or limited < 100
    # Control: with room for them, all 100 start (so the limit, not something else, stopped them).
    assert started(box, 1000) == 100


def test_memory_bomb_is_oom_killed(box: Box) -> None:
    # On Podman 4.3 / cgroup v1 the engine records no OOM kill: the box's init says so.
    bomb = "a = []\nwhile True:\n    a.append(bytearray(16 << 20))"
    result = box.run(["python3", "-c", bomb], memory_bytes=96 << 20)
    assert not result.timed_out
    assert result.exit_code != 0
    if box.runtime is None or box.backend == "oci":
        assert result.oom_killed and result.exit_code == 137
    else:  # gVisor kills the command inside its own kernel; the engine may not see an OOM
        assert result.oom_killed or result.exit_code in (137, 1)


# The command writes the init's OOM record itself, then SIGKILLs itself: the record is output.
FAKE_OOM = r"printf '\0[reprobox-init oom]\0' >&2; kill -9 $$"


def test_control_a_command_sigkilled_otherwise_is_not_oom_killed(box: Box) -> None:
    """Control for the memory bomb: same limit, 137 from a SIGKILL that is not the OOM
    killer's, even when the command forges the init's OOM record."""
    result = box.run(["sh", "-c", FAKE_OOM], memory_bytes=96 << 20)
    assert result.exit_code == 137 and not result.timed_out
    assert not result.oom_killed
    assert result.stderr == b"\0[reprobox-init oom]\0", "the forged record is plain output"


def test_filling_tmp_stops_at_its_size(box: Box) -> None:
    result = box.run(
        sh("head -c 200000000 /dev/zero > /tmp/fill; echo rc=$?; du -k /tmp/fill"),
        tmp_bytes=16 << 20,
    )
    assert "rc=0" not in result.stdout_text
    size_kib = int(result.stdout_text.split()[-2])
    assert size_kib <= 16 * 1024


@pytest.mark.parametrize(
    "target", ["/evil", "/etc/evil", "/etc/passwd", "/proc/sys/kernel/hostname", "/usr/bin/python3"]
)
def test_writing_outside_tmp_and_workdir_fails(box: Box, target: str) -> None:
    result = box.run(sh(f"echo pwned > {target} && echo WROTE"))
    assert result.exit_code != 0 and "WROTE" not in result.stdout_text


def test_mount_is_refused(box: Box) -> None:
    result = box.run(sh("mount -t tmpfs none /tmp && echo MOUNTED"))
    assert result.exit_code != 0 and "MOUNTED" not in result.stdout_text


def test_setuid_root_binary_does_not_change_uid(box: Box) -> None:
    script = (
        # The attack is real: su and mount are setuid-root in the image (python's stat, since
        # old gVisor builds lack statx, which ls uses).
        "python3 -c \"import os; s = os.stat('/bin/su'); "
        "print('mode', oct(s.st_mode), s.st_uid)\"; "
        "su root -c 'id -u > /tmp/x' </dev/null; mount -t tmpfs none /mnt; "
        "cat /tmp/x 2>/dev/null; id -u; grep -E '^(NoNewPrivs|CapEff)' /proc/self/status"
    )
    result = box.run(sh(script))
    assert "mode 0o104755 0" in result.stdout_text
    lines = result.stdout_text.splitlines()
    assert "0" not in lines, result.stdout_text
    assert "65534" in lines
    if box.runtime is None:
        assert "NoNewPrivs:\t1" in result.stdout_text
    assert "CapEff:\t0000000000000000" in result.stdout_text


def test_raw_sockets_are_refused(box: Box) -> None:
    code = "import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"
    result = box.run(["python3", "-c", code])
    assert result.exit_code == 1 and "PermissionError" in result.stderr_text


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A folder every engine can mount (a rootless engine's user cannot enter pytest's
    tmp_path, which is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="reprobox-attack-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_host_file_not_mounted_is_invisible(box: Box, reachable: Path) -> None:
    tmp_path = reachable
    secret = uuid.uuid4().hex
    path = tmp_path / "secret.txt"
    path.write_text(secret)
    # World-readable, so only the missing mount (not file modes) can stop the box reading it.
    tmp_path.chmod(0o755)
    path.chmod(0o644)
    result = box.run(sh(f"cat {path}; cat /mnt/*/secret.txt"))
    assert secret not in result.stdout_text and result.exit_code != 0
    # Control: mounted, it is readable, and read-only.
    mounted = box.run(
        sh(f"cat /mnt/{tmp_path.name}/secret.txt; echo x > /mnt/{tmp_path.name}/w"),
        mounts=(Mount(tmp_path),),
    )
    assert secret in mounted.stdout_text and mounted.exit_code != 0
    assert not (tmp_path / "w").exists()


def test_host_environment_secret_is_not_visible(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = uuid.uuid4().hex
    monkeypatch.setenv("REPROBOX_TEST_SECRET", secret)
    result = box.run(sh("env; cat /proc/1/environ"))
    assert secret not in result.stdout_text
    assert "REPROBOX_TEST_SECRET" not in result.stdout_text


def test_engine_socket_is_not_reachable(box: Box) -> None:
    code = (
        "import socket\nfor p in ('/var/run/docker.sock', '/run/docker.sock', "
        "'/run/containerd/containerd.sock'):\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    try:\n        s.connect(p); print('REACHED', p)\n"
        "    except OSError as e:\n        print('blocked', p, e)"
    )
    result = box.run(["python3", "-c", code])
    assert "REACHED" not in result.stdout_text and result.stdout_text.count("blocked") == 3


def test_network_is_isolated_from_a_host_loopback_listener(box: Box) -> None:
    code = (
        "import socket, sys\ns = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 3)\n"
        "print(s.recv(64).decode())"
    )
    with host_listener() as (port, token):
        blocked = box.run(["python3", "-c", code, str(port)])
        assert token.decode() not in blocked.stdout_text and blocked.exit_code != 0
        if box.runtime is not None and box.backend == "engine":
            pytest.skip("control skipped: runsc is registered with --network=none here")
        reached = box.run(["python3", "-c", code, str(port)], network="host")
    assert reached.exit_code == 0 and token.decode() in reached.stdout_text


def test_100_mb_of_output_is_capped_fast_and_flagged(box: Box) -> None:
    started = time.monotonic()
    result = box.run(sh("head -c 100000000 /dev/zero; echo done >&2"))
    elapsed = time.monotonic() - started
    assert result.exit_code == 0 and result.stdout_truncated and not result.stderr_truncated
    assert len(result.stdout) == 1 << 20 and result.stdout_bytes == 100_000_000
    assert result.stderr == b"done\n"
    assert elapsed < 20, f"100 MB took {elapsed:.1f} s"


def test_sleep_past_the_timeout_is_killed(box: Box) -> None:
    started = time.monotonic()
    result = box.run(["sleep", "1000"], timeout_s=2.0)
    assert result.timed_out and not result.oom_killed
    assert 2 <= time.monotonic() - started < 15


def test_background_process_outliving_its_parent_is_killed(box: Box) -> None:
    started = time.monotonic()
    result = box.run(sh("sleep 1000 & setsid sleep 1000 & echo parent-done"))
    assert result.exit_code == 0 and result.stdout_text == "parent-done\n"
    assert not result.timed_out and time.monotonic() - started < 15
