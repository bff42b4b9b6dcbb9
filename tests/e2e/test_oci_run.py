"""The oci backend end to end: real runc (and runsc), real images, real cgroups.

Each test asserts what a user relies on and that nothing of the box is left behind: no bundle,
no runtime state, no cgroup, no process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.sandbox import Policy, Sandbox, SandboxPool
from tests.e2e.oci_support import boxes_of, my_leftovers, oci_leftovers, require_oci_tools
from tests.e2e.test_sandbox_support import runsc_works

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean(base_image: str) -> Iterator[None]:
    require_oci_tools()
    yield
    assert my_leftovers() == [], "an oci box left something behind"


def box(image: str, **policy: object) -> Sandbox:
    return Sandbox(image, Policy().relaxed(**{"timeout_s": 20.0, **policy}), backend="oci")


def processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def wait_until(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_exit_code_output_user_network_and_read_only_root(base_image: str) -> None:
    script = "echo out; echo err >&2; id -u; ls /sys/class/net; echo x > /x; exit 3"
    result = box(base_image).run(["sh", "-c", script])
    assert result.exit_code == 3 and not result.timed_out and not result.oom_killed
    lines = result.stdout_text.split()
    assert lines == ["out", "65534", "lo"]
    assert "err" in result.stderr_text and "Read-only file system" in result.stderr_text


def test_timeout_kills_the_whole_tree_including_background_processes(base_image: str) -> None:
    token = f"{300 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 1000}"
    started = time.monotonic()
    result = box(base_image).run(["sh", "-c", f"sleep {token} & echo up; sleep {token}"], timeout=2)
    assert result.timed_out and result.exit_code == 137 and result.stdout_text == "up\n"
    assert time.monotonic() - started < 10
    assert processes_with(token) == []


def test_a_background_process_dies_with_the_command(base_image: str) -> None:
    token = f"{400 + uuid.uuid4().int % 1000}"
    result = box(base_image).run(["sh", "-c", f"(setsid sleep {token} &); echo done"])
    assert result.exit_code == 0 and result.stdout_text == "done\n"
    assert processes_with(f"sleep {token}") == []


def test_memory_bomb_is_oom_killed_with_137(base_image: str) -> None:
    bomb = "a = []\nwhile True:\n    a.append(bytearray(16 << 20))"
    result = box(base_image, memory_bytes=96 << 20).run(["python3", "-c", bomb])
    assert result.exit_code == 137 and result.oom_killed and not result.timed_out
    control = box(base_image, memory_bytes=96 << 20).run(["python3", "-c", "print(1)"])
    assert control.ok and not control.oom_killed


def test_output_is_capped_while_it_streams(base_image: str) -> None:
    seen = []
    cap = 1 << 20
    flood = "import sys\nfor _ in range(100): sys.stdout.write('x' * (1 << 20))"
    result = box(base_image, output_cap_bytes=cap).run(
        ["python3", "-c", flood], on_output=lambda c: seen.append(len(c.data))
    )
    assert result.exit_code == 0 and result.stdout_truncated
    assert len(result.stdout) == cap and sum(seen) == cap and result.stdout_bytes == 100 << 20


def test_a_runtime_failure_half_way_is_one_error_and_leaves_nothing(base_image: str) -> None:
    # A CPU quota below the kernel's minimum: runc creates the box, then fails to set it up.
    with pytest.raises(errors.SandboxError, match="runc could not start the box"):
        box(base_image, cpus=0.0001).run(["true"])
    with pytest.raises(errors.SandboxError, match="runc could not start the box"):  # a session
        box(base_image, cpus=0.0001).__enter__()
    pool = SandboxPool(base_image, Policy(cpus=0.0001), size=1, backend="oci")
    with pytest.raises(errors.SandboxError, match="runc could not start the box"), pool:
        pool.run(["true"])


def test_session_copies_files_and_each_run_leaves_no_process(
    base_image: str, tmp_path: Path
) -> None:
    (tmp_path / "in.txt").write_text("hello\n")
    token = f"{500 + uuid.uuid4().int % 1000}"
    with box(base_image) as session:
        session.copy_in(tmp_path / "in.txt")
        assert session.run("cat in.txt").stdout_text == "hello\n"
        late = session.run(["sh", "-c", f"sleep {token} & echo bye > out.txt"])
        assert late.exit_code == 0 and processes_with(f"sleep {token}") == []
        slow = session.run(["sh", "-c", f"sleep {token} & sleep {token}"], timeout=1)
        assert slow.timed_out and processes_with(f"sleep {token}") == []
        session.copy_out(".", tmp_path / "out")
    assert (tmp_path / "out" / "out.txt").read_text() == "bye\n"


def test_pool_runs_each_command_in_a_fresh_box(base_image: str) -> None:
    policy = Policy(timeout_s=20.0)
    with SandboxPool(base_image, policy, size=2, backend="oci") as pool:
        first = pool.run(["sh", "-c", "echo 1 > /tmp/mark; cat /tmp/mark"])
        second = pool.run(["sh", "-c", "cat /tmp/mark 2>/dev/null || echo fresh"])
        slow = pool.run(["sleep", "100"], timeout=1)
        lines = pool.run(["python3", "-c", "print(1)\nprint('a  b', \"it's\")"])
    assert first.stdout_text == "1\n" and second.stdout_text == "fresh\n"
    assert lines.stdout_text == "1\na  b it's\n"  # the launcher keeps newlines and quotes
    assert slow.timed_out


OWNER = """
import sys
from reprobox.sandbox import Policy, Sandbox
box = Sandbox(sys.argv[1], Policy(timeout_s=float(sys.argv[3])), backend="oci")
box.run(["sh", "-c", "echo started; sleep " + sys.argv[2]], on_output=lambda c: print(
    c.data.decode(), end="", flush=True))
"""


def owner(image: str, token: str, timeout: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", OWNER, image, token, str(timeout)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "started\n"
    return proc


def test_a_box_dies_with_its_sigkilled_owner(base_image: str) -> None:
    token = f"{600 + uuid.uuid4().int % 1000}"
    proc = owner(base_image, token, 300)
    boxes = boxes_of(proc.pid)
    assert len(boxes) == 1 and oci_leftovers(boxes), "the box exists while its owner runs"
    proc.kill()
    proc.wait()
    assert wait_until(lambda: processes_with(f"sleep {token}") == [], 10)
    assert wait_until(lambda: oci_leftovers(boxes) == [], 10)


def test_a_box_dies_by_its_deadline_even_when_its_owner_is_stuck(base_image: str) -> None:
    token = f"{700 + uuid.uuid4().int % 1000}"
    proc = owner(base_image, token, 1)
    boxes = boxes_of(proc.pid)
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert wait_until(lambda: processes_with(f"sleep {token}") == [], 15)
        assert time.monotonic() - started < 10
        assert wait_until(lambda: oci_leftovers(boxes) == [], 10)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.wait(timeout=30)


def reprobox_run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    cli = [sys.executable, "-m", "reprobox", "run", "--backend", "oci", *args]
    return subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=REPO, **kw)  # type: ignore[call-overload, no-any-return]


def test_cli_exit_codes(base_image: str) -> None:
    ok = reprobox_run("--image", base_image, "--", "python3", "-c", "print(6*7)")
    assert ok.returncode == 0 and ok.stdout == "42\n"
    assert reprobox_run("--image", base_image, "--", "sh", "-c", "exit 7").returncode == 7
    slow = reprobox_run("--image", base_image, "--timeout", "1", "--", "sleep", "100")
    assert slow.returncode == 124 and "timed out after 1 s" in slow.stderr
    missing = reprobox_run("--image", "docker-archive:/nonexistent.tar", "--", "true")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: image archive /nonexistent.tar does not exist"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_ctrl_c_and_sigterm_remove_the_box(base_image: str, sig: signal.Signals) -> None:
    token = f"{900 + uuid.uuid4().int % 1000}"
    cli = [sys.executable, "-m", "reprobox", "run", "--backend", "oci", "--image", base_image]
    proc = subprocess.Popen(
        [*cli, "--", "sh", "-c", f"echo started; sleep {token}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "started\n"
    boxes = boxes_of(proc.pid)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted: the box was removed" in stderr
    assert len(boxes) == 1 and oci_leftovers(boxes) == []
    assert processes_with(f"sleep {token}") == []


def test_crun_is_refused_with_one_line_on_hybrid_cgroups(base_image: str) -> None:
    from reprobox.oci import runtime as rt

    if not rt.hybrid_cgroups():
        pytest.skip("this machine's cgroups are not hybrid")
    result = reprobox_run("--runtime", "crun", "--image", base_image, "--", "true")
    assert result.returncode == 125
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: crun is not installed") or first == (
        "error: crun refuses this machine's hybrid cgroups (v1 controllers plus a v2 "
        "'unified' mount)"
    )


def test_doctor_reports_whether_the_oci_backend_can_run(tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "reprobox", "doctor", "--backend", "oci"]
    good = subprocess.run(cli, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert good.returncode == 0 and "runc version" in good.stdout and "FAIL" not in good.stdout
    # A seccomp profile that is not there: the backend cannot run, and doctor says why.
    env = {**os.environ, "REPROBOX_SECCOMP_PROFILE": str(tmp_path / "absent.json")}
    bad = subprocess.run(cli, capture_output=True, text=True, timeout=60, cwd=REPO, env=env)
    assert bad.returncode == 3 and "FAIL  seccomp     no seccomp profile file" in bad.stdout


def test_gc_removes_the_box_of_an_owner_that_died_with_its_supervisor(base_image: str) -> None:
    token = f"{800 + uuid.uuid4().int % 1000}"
    proc = owner(base_image, token, 300)
    boxes = boxes_of(proc.pid)
    assert len(boxes) == 1
    mine = [p for p in processes_with("reprobox-supervisor") if parent_of(p) == proc.pid]
    assert len(mine) == 1  # one supervisor per owner
    os.kill(mine.pop(), signal.SIGKILL)  # a crash that takes the supervisor too
    proc.kill()
    proc.wait()
    time.sleep(1)
    assert processes_with(f"sleep {token}"), "without its supervisor the box lives on"
    done = subprocess.run(
        [sys.executable, "-m", "reprobox", "gc"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert " oci box(es)" in done.stdout and "0 oci box(es)" not in done.stdout
    assert processes_with(f"sleep {token}") == []
    assert oci_leftovers(boxes) == []


def test_runsc_memory_bomb_is_reported_as_an_oom_kill_and_the_limit_holds(
    base_image: str,
) -> None:
    """runsc removes the cgroups it made as the box exits; the box's memory cgroup is made
    (with its limit) by reprobox instead, so the OOM counter can still be read."""
    why = runsc_works(base_image)
    if why:
        pytest.skip(why)
    limit = 96 << 20
    grow = (
        "a = []\nfor _ in range({}):\n"
        "    a.append(bytearray(16 << 20))\n    a[-1][::4096] = b'x' * 4096"
    )
    bomb = box(base_image, runtime="runsc", memory_bytes=limit).run(
        ["python3", "-c", grow.format(64)]  # 1 GiB, if the limit did not hold
    )
    assert bomb.exit_code == 137 and bomb.oom_killed and not bomb.timed_out
    # The kernel may charge a page or a batch past the limit before it kills; the bomb
    # asked for 1 GiB, so a peak within 1 MiB of the limit is the limit holding.
    assert bomb.peak_memory_bytes is not None and bomb.peak_memory_bytes <= limit + (1 << 20)
    # Control: the same program under the limit ends normally, and is no OOM kill.
    fits = box(base_image, runtime="runsc", memory_bytes=limit).run(
        ["python3", "-c", grow.format(2) + "\nprint('fits')"]
    )
    assert fits.exit_code == 0 and fits.stdout_text == "fits\n" and not fits.oom_killed


def test_peak_memory_and_cpu_time_come_from_the_box_cgroup(base_image: str) -> None:
    alloc = "a = bytearray({} << 20); a[::4096] = b'x' * len(a[::4096])"
    one_shot = box(base_image).run(["python3", "-c", alloc.format(100)])
    assert one_shot.peak_memory_bytes is not None and one_shot.peak_memory_bytes > 100 << 20
    assert one_shot.cpu_time_s is not None and one_shot.cpu_time_s > 0
    with box(base_image) as session:
        big = session.run(["python3", "-c", alloc.format(100)])
        small = session.run(["python3", "-c", alloc.format(10)])
    assert big.peak_memory_bytes is not None and small.peak_memory_bytes is not None
    assert big.peak_memory_bytes > 100 << 20 > small.peak_memory_bytes  # reset between runs
