"""Sessions, streaming, files in and out, and the pool, on the real engine (the session
attacks and file copies also on the daemonless oci backend)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.engine import Engine
from reprobox.sandbox import OutputChunk, Policy, Sandbox, SandboxPool, Stream
from reprobox.sandbox.backend import Backend, check_backend
from tests.conftest import ALL_ENGINES, docker_cli
from tests.e2e.oci_support import my_leftovers, require_oci_tools
from tests.e2e.test_sandbox_support import leftovers, runtime_param

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ALL_ENGINES)]

# One line per process: "pid ppid comm uid" (shell builtins only, so it spawns nothing).
LIST = (
    "for p in /proc/[0-9]*; do read -r stat < $p/stat || continue; u=?; "
    'while read -r k v rest; do [ "$k" = Uid: ] && u=$v; done < $p/status; '
    'set -- $stat; echo "$1 $4 $2 $u"; done; echo self $$ $PPID'
)


@pytest.fixture(params=["runc", "runsc"])
def runtime(request: pytest.FixtureRequest, base_image: str) -> str | None:
    return runtime_param(request, base_image)


@pytest.fixture(params=["engine", "oci"])
def backend(request: pytest.FixtureRequest, engine_name: str) -> Backend:
    if request.param == "oci":
        if engine_name != "docker":
            pytest.skip("the oci backend uses no engine: its sessions run once, with docker's")
        require_oci_tools()
    return check_backend(str(request.param))


def nothing_left(labels: dict[str, str]) -> bool:
    """No container of this case, and no bundle, state or cgroup of this process's oci boxes."""
    return leftovers(labels) == [] and my_leftovers() == []


def others(box: Sandbox, before: str = "") -> list[str]:
    """Processes in the box other than its init (PID 1), the oci backend's keeper (root's
    ``sleep``) and the lister."""
    lines = box.run(["sh", "-c", before + LIST]).stdout_text.splitlines()
    _, me, parent = lines.pop().split()
    rows = [line.split() for line in lines]
    return [
        " ".join(row)
        for row in rows
        if row[0] not in ("1", me, parent) and not (row[2] == "(sleep)" and row[3] == "0")
    ]


def test_session_runs_share_files_and_leave_no_process(
    engine: Engine, base_image: str, runtime: str | None, labels: dict[str, str], backend: Backend
) -> None:
    policy = Policy(runtime=runtime)
    with Sandbox(base_image, policy, labels=labels, engine=engine, backend=backend) as box:
        assert box.run(["sh", "-c", "echo 42 > state"]).exit_code == 0
        first = box.run(["sh", "-c", "cat state; sleep 1000 & setsid sleep 999 & exit 3"])
        assert first.exit_code == 3 and first.stdout_text == "42\n"
        assert others(box) == []
        # Control: the listing does see a process that is still running.
        # (Waiting until the background child has exec'd sleep: it is briefly a forked sh.)
        running = 'sleep 77 & until read -r c < /proc/$!/comm && [ "$c" = sleep ]; do :; done; '
        assert [p for p in others(box, running) if "(sleep)" in p]
        assert len(leftovers(labels)) == (1 if backend == "engine" else 0)
    assert nothing_left(labels)


def test_session_timeout_kills_the_whole_tree_and_the_box_lives_on(
    engine: Engine, base_image: str, runtime: str | None, labels: dict[str, str], backend: Backend
) -> None:
    policy = Policy(runtime=runtime)
    with Sandbox(base_image, policy, labels=labels, engine=engine, backend=backend) as box:
        started = time.monotonic()
        tree = "sleep 1000 & (setsid sleep 999 &); echo started; sleep 1000"
        result = box.run(["sh", "-c", tree], timeout=2)
        assert result.timed_out and result.stdout_text == "started\n"
        assert time.monotonic() - started < 15
        assert others(box) == []
        assert box.run(["echo", "alive"]).stdout_text == "alive\n"
    assert nothing_left(labels)


def test_session_memory_bomb_is_oom_killed_and_a_plain_sigkill_is_not(
    engine: Engine, base_image: str, labels: dict[str, str], backend: Backend
) -> None:
    bomb = "a = []\nwhile True:\n    a.append(bytearray(16 << 20))"
    policy = Policy(memory_bytes=96 << 20)
    with Sandbox(base_image, policy, labels=labels, engine=engine, backend=backend) as box:
        control = box.run(["sh", "-c", "kill -9 $$"])  # 137, but not the OOM killer
        oom = box.run(["python3", "-c", bomb])
        after = box.run(["sh", "-c", "kill -9 $$"])  # an earlier OOM kill is not this one's
    assert (control.exit_code, control.oom_killed) == (137, False)
    assert (oom.exit_code, oom.oom_killed, oom.timed_out) == (137, True, False)
    assert (after.exit_code, after.oom_killed) == (137, False)
    assert nothing_left(labels)


def test_session_fork_bomb_is_killed_even_when_the_box_is_lost(
    engine: Engine, base_image: str, labels: dict[str, str], backend: Backend
) -> None:
    policy = Policy(pids_limit=64)
    with Sandbox(base_image, policy, labels=labels, engine=engine, backend=backend) as box:
        result = box.run(["sh", "-c", "f(){ f | f & }; f; sleep 30"], timeout=3)
        assert result.timed_out or result.exit_code != 0
        # When the pids limit left no room for a killer exec, the container itself was
        # killed and the box is lost (SandboxError); otherwise nothing may remain.
        with contextlib.suppress(errors.SandboxError):
            assert others(box) == []
    assert nothing_left(labels)


def test_streaming_reports_live_chunks_and_the_right_exit_code(
    engine: Engine, base_image: str, labels: dict[str, str]
) -> None:
    script = "echo one; echo two >&2; sleep 0.3; echo three; exit 3"
    seen: list[tuple[float, OutputChunk]] = []
    start = time.monotonic()
    box = Sandbox(base_image, labels=labels, engine=engine)
    result = box.run(["sh", "-c", script], on_output=lambda c: seen.append((time.monotonic(), c)))
    assert result.exit_code == 3
    assert b"".join(c.data for _, c in seen if c.stream is Stream.STDOUT) == b"one\nthree\n"
    assert [c.data for _, c in seen if c.stream is Stream.STDERR] == [b"two\n"]
    assert seen[0][0] - start < time.monotonic() - start - 0.25, "first chunk was not live"
    with Sandbox(base_image, labels=labels, engine=engine) as session:
        stream = session.stream(["sh", "-c", script])
        chunks = list(stream)
        assert stream.result.exit_code == 3 and chunks
    assert leftovers(labels) == []


def test_copy_in_and_out_round_trip_and_refuse_escaping_links(
    engine: Engine, base_image: str, labels: dict[str, str], tmp_path: Path, backend: Backend
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.txt").write_text("hello")
    with Sandbox(base_image, labels=labels, engine=engine, backend=backend) as box:
        box.copy_in(src)
        result = box.run(["sh", "-c", "cat src/data.txt > out.txt; echo made >> out.txt"])
        assert result.exit_code == 0
        assert box.copy_out("out.txt", tmp_path / "back") == ["out.txt"]
        assert (tmp_path / "back/out.txt").read_text() == "hellomade\n"
        box.run(["sh", "-c", "mkdir evil; ln -s /etc/shadow evil/link; ln -s ../../x evil/up"])
        with pytest.raises(errors.SandboxError, match="refused"):
            box.copy_out("evil", tmp_path / "evil")
        assert not (tmp_path / "evil" / "evil").exists()
    assert nothing_left(labels)


def test_missing_image_says_so_without_pulling(engine: Engine, labels: dict[str, str]) -> None:
    box = Sandbox("reprobox-test/not-there:nope", labels=labels, engine=engine)
    with pytest.raises(errors.ImageNotFound, match="never pulls") as caught:
        box.run(["true"])
    assert "reprobox base" in (caught.value.hint or "")
    assert leftovers(labels) == []


def test_pool_serves_each_box_once_and_cleans_up(
    engine: Engine, base_image: str, labels: dict[str, str]
) -> None:
    with SandboxPool(base_image, size=2, labels=labels, engine=engine) as pool:
        first = pool.run(["sh", "-c", "echo $HOSTNAME; echo x > /work/mark; exit 4"])
        second = pool.run(["sh", "-c", "echo $HOSTNAME; cat /work/mark"])
        assert first.exit_code == 4 and second.exit_code == 1
        assert first.stdout_text != second.stdout_text.splitlines()[0]
        slow = pool.run(["sh", "-c", "sleep 1000 & sleep 1000"], timeout=1.5)
        assert slow.timed_out
        bomb = "a = []\nwhile True:\n    a.append(bytearray(16 << 20))"
        oom = pool.run(["python3", "-c", bomb])
        assert oom.oom_killed and oom.exit_code == 137
    assert leftovers(labels) == []


def test_session_reports_peak_memory_and_cpu_time(
    engine: Engine, base_image: str, labels: dict[str, str]
) -> None:
    work = "x = bytearray(80 << 20)\nn = 0\nfor i in range(3_000_000): n += i"
    with Sandbox(base_image, labels=labels, engine=engine) as box:
        result = box.run(["python3", "-c", work])
        small = box.run(["true"])
    assert result.exit_code == 0
    if result.peak_memory_bytes is None:
        pytest.skip("the engine's cgroups are not readable from here (remote engine)")
    assert result.peak_memory_bytes >= 80 << 20
    assert small.peak_memory_bytes is not None and small.peak_memory_bytes < 80 << 20
    assert result.cpu_time_s is not None and result.cpu_time_s > 0.05


SESSION_SCRIPT = """
import sys
from reprobox.sandbox import Sandbox
labels = dict(a.split("=", 1) for a in sys.argv[2:])
def show(chunk):
    sys.stdout.write(chunk.data.decode())
    sys.stdout.flush()

with Sandbox(sys.argv[1], labels=labels) as box:
    box.run(["sh", "-c", "echo running; exec sleep 100"], timeout=None, on_output=show)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_api_session_is_removed_on_ctrl_c_and_sigterm(
    base_image: str, labels: dict[str, str], sig: signal.Signals
) -> None:
    args = [f"{k}={v}" for k, v in labels.items()]
    proc = subprocess.Popen(
        [sys.executable, "-c", SESSION_SCRIPT, base_image, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "running\n"
        assert len(leftovers(labels)) == 1
        proc.send_signal(sig)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert leftovers(labels) == []


def test_pool_on_a_missing_tag_fails_fast_then_recovers_once_it_exists(
    engine: Engine, base_image: str, labels: dict[str, str], unique: str
) -> None:
    tag = f"reprobox-test/late:{unique}"
    try:
        with SandboxPool(tag, size=1, labels=labels, engine=engine) as pool:
            for _ in range(2):
                started = time.monotonic()
                with pytest.raises(errors.ImageNotFound, match="is not on this engine"):
                    pool.run(["true"])
                assert time.monotonic() - started < 10, "run() waited instead of failing fast"
            docker_cli("tag", base_image, tag)
            recovered = None
            end = time.monotonic() + 30
            while recovered is None and time.monotonic() < end:
                with contextlib.suppress(errors.ImageNotFound):
                    recovered = pool.run(["echo", "back"])
            assert recovered is not None and recovered.stdout_text == "back\n"
        assert leftovers(labels) == []
    finally:
        docker_cli("rmi", tag, check=False)  # only the tag: the base image stays
