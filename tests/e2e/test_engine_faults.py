"""The engine stops or restarts under reprobox: one clear error, the documented exit code,
within a bounded time, never a hang; afterwards nothing reprobox made is left.

Every test here runs against a PRIVATE dockerd that this module starts (its own data root,
exec root, pid file and socket, ``--bridge=none --iptables=false``) and restarts; the shared
engine is never touched. Its only image is a tiny one imported from the host's own ``sh``,
``sleep``, ``cat`` and ``tar`` (with their libraries): nothing is pulled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import reprobox_cli
from tests.e2e.test_sandbox_support import CASE_LABEL

pytestmark = pytest.mark.e2e

BOUND_S = 40.0  # how long a command may take to fail after the engine went away
TINY = "reprobox-test/tiny:1"
TOOLS = ("/bin/sh", "/bin/dash", "/bin/sleep", "/bin/cat", "/bin/tar", "/bin/echo", "/bin/ls")


class PrivateEngine:
    """A dockerd of this test module's own, that it may stop and restart at will."""

    def __init__(self, root: Path) -> None:
        self.root = root
        ident = uuid.uuid4().hex[:8]
        self.socket = Path(f"/run/reprobox-test-{ident}.sock")
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None
        (root / "daemon.json").write_text("{}")

    def start(self) -> None:
        args = [
            "dockerd", "--config-file", str(self.root / "daemon.json"),
            "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"), "-H", self.url,
            "--bridge=none", "--iptables=false", "--shutdown-timeout", "3",
        ]  # fmt: skip
        log = (self.root / "dockerd.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.docker("version", check=False).returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("the private dockerd did not start: " + self.log_tail())

    def stop(self) -> None:
        """Stop it as an init system would (SIGTERM, then SIGKILL after 30 s)."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "-H", self.url, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def containers(self, labels: dict[str, str]) -> list[str]:
        flt = f"label={CASE_LABEL}={labels[CASE_LABEL]}"
        return self.docker("ps", "-aq", "--filter", flt).stdout.split()

    def log_tail(self) -> str:
        return (self.root / "dockerd.log").read_text(errors="replace")[-1500:]


def tiny_rootfs(tarball: Path) -> None:
    """A root file system of the host's own shell tools and the libraries they load (every
    link followed: the host's /bin and /lib may be links into /usr)."""
    files = set(TOOLS)
    for tool in TOOLS:
        ldd = subprocess.run(["ldd", tool], capture_output=True, text=True, check=False)
        files.update(p for line in ldd.stdout.splitlines() for p in line.split() if p[0] == "/")
    with tarfile.open(tarball, "w", dereference=True) as tar:
        for name in ("tmp", "work", "proc", "dev", "sys", "etc"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        for path in sorted(files):
            tar.add(path, arcname=path.lstrip("/"))


@pytest.fixture(scope="module")
def private_engine(
    engine_available: bool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivateEngine]:
    if shutil.which("dockerd") is None or os.geteuid() != 0:
        pytest.skip("a private dockerd needs dockerd and root")
    root = Path(f"/tmp/reprobox-test-dockerd-{uuid.uuid4().hex[:8]}")
    root.mkdir()
    made = PrivateEngine(root)
    made.start()
    try:
        rootfs = tmp_path_factory.mktemp("tiny") / "rootfs.tar"
        tiny_rootfs(rootfs)
        made.docker("import", str(rootfs), TINY)
        yield made
    finally:
        made.stop()
        made.socket.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def engine_back(private_engine: PrivateEngine) -> Iterator[PrivateEngine]:
    """The private engine, running again after the test whatever happened."""
    yield private_engine
    if private_engine.proc is None:
        private_engine.start()


def owner(engine: PrivateEngine, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DOCKER_HOST": engine.url}
    return subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def label_args(labels: dict[str, str]) -> list[str]:
    return [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]


def stop_under(engine: PrivateEngine, proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Waits for the owner's "started", stops the engine; returns the owner's exit code and
    stderr once it ended (it must, within BOUND_S)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "started\n", line + (proc.stderr.read() if proc.stderr else "")
    engine.stop()
    try:
        _, stderr = proc.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        pytest.fail(f"still running {BOUND_S:g} s after the engine stopped: {stderr}")
    return proc.returncode, stderr


def assert_one_clear_error(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert "engine" in errors[0] or "daemon" in errors[0], stderr
    after = lines[lines.index(errors[0]) + 1 :]
    assert all(line.startswith("hint: ") for line in after), stderr  # nothing after but a hint


def assert_cleaned_after_restart(engine: PrivateEngine, labels: dict[str, str]) -> None:
    engine.start()
    done = reprobox_cli("--host", engine.url, "gc")
    assert done.returncode == 0, done.stderr
    assert engine.containers(labels) == []


STARTED = ["--", "sh", "-c", "echo started; exec sleep 100"]


@pytest.mark.parametrize("mode", ["one-shot", "session"])
def test_engine_stop_during_reprobox_run(
    engine_back: PrivateEngine, labels: dict[str, str], tmp_path: Path, mode: str
) -> None:
    (tmp_path / "input.txt").write_text("x")
    session = ["--copy-in", str(tmp_path / "input.txt")] if mode == "session" else []
    run = ["-m", "reprobox", "run", "--image", TINY, *label_args(labels), *session]
    code, stderr = stop_under(engine_back, owner(engine_back, *run, *STARTED))
    assert code == 125, stderr
    assert_one_clear_error(stderr)
    assert_cleaned_after_restart(engine_back, labels)


def test_engine_stop_during_reprobox_test(
    engine_back: PrivateEngine, labels: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_x.py").write_text("def test_x():\n    pass\n")
    proc = owner(engine_back, "-m", "reprobox", "test", str(project), "--image", TINY, *STARTED)
    code, stderr = stop_under(engine_back, proc)
    assert code == 3, stderr
    assert_one_clear_error(stderr)
    engine_back.start()
    assert reprobox_cli("--host", engine_back.url, "gc").returncode == 0
    assert engine_back.docker("ps", "-aq").stdout.split() == []


POOL = """
import json, sys, time
from reprobox import errors
from reprobox.engine import connect
from reprobox.sandbox import SandboxPool

labels = json.loads(sys.argv[1])
with SandboxPool(sys.argv[2], size=1, labels=labels, engine=connect()) as pool:
    pool.run(["true"])
    print("started", flush=True)
    try:
        pool.run(["sh", "-c", "sleep 100"], timeout=None)
    except errors.ReproboxError as exc:
        print("failed:", type(exc).__name__, exc.message, flush=True)
    failed_fast = []
    end = time.monotonic() + 90
    while time.monotonic() < end:
        began = time.monotonic()
        try:
            print("healed:", pool.run(["echo", "ok"]).stdout_text.strip(), flush=True)
            break
        except errors.ReproboxError as exc:
            failed_fast.append(round(time.monotonic() - began, 1))
            time.sleep(0.2)
    print("slowest failure:", max(failed_fast or [0]), flush=True)
"""


def test_engine_restart_during_a_pool_fails_fast_then_heals(
    engine_back: PrivateEngine, labels: dict[str, str]
) -> None:
    proc = owner(engine_back, "-c", POOL, json.dumps(labels), TINY)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"
    engine_back.stop()
    failed = proc.stdout.readline()
    assert failed.startswith("failed: Engine"), failed  # EngineUnavailable / EngineError
    engine_back.start()
    out, stderr = proc.communicate(timeout=120)
    assert "healed: ok" in out, out + stderr
    slowest = float(out.split("slowest failure:")[1])
    assert slowest < 10, f"a run() waited {slowest} s instead of failing fast"
    assert proc.returncode == 0, stderr
    assert engine_back.containers(labels) == []


def test_engine_stop_during_a_build(engine_back: PrivateEngine, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {TINY}\nRUN echo started && sleep 100\n")
    proc = owner(engine_back, "-m", "reprobox", "build", str(context), "--tag", "reprobox-test/b:1")
    assert proc.stderr is not None and proc.stdout is not None
    # The build's progress goes to stderr: wait for the step's own output there.
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "started" in line:
            break
    assert any("started" in line for line in seen), "".join(seen)
    stopped = time.monotonic()
    engine_back.stop()
    try:
        _, rest = proc.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"reprobox build still running {BOUND_S:g} s after the engine stopped")
    assert time.monotonic() - stopped < BOUND_S
    assert proc.returncode == 3, rest
    assert_one_clear_error(rest)
    engine_back.start()
    assert reprobox_cli("--host", engine_back.url, "gc").returncode == 0
    assert engine_back.docker("ps", "-aq").stdout.split() == []
