"""Deadlines and idle lifetimes hold when the process that owns a box dies or freezes.

Each test starts an owner in a subprocess (``reprobox run``, a Python script holding a
``with Sandbox(...)`` session, one using a ``SandboxPool``), waits until its box runs a
command with a unique marker (state, never a sleep), then SIGKILLs (or SIGSTOPs) the owner
and checks, with nothing else running (no ``gc``), that every container with the test's
label and every process with the marker are gone within the deadline + 5 s. A frozen owner
(SIGSTOP) holds its connection open, so only the box's own deadline can end that box.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from signal import SIGKILL, SIGSTOP

import pytest

from tests.conftest import ROOTFUL_ENGINES, docker_cli
from tests.e2e.test_sandbox_support import CASE_LABEL, leftovers, runtime_param

pytestmark = pytest.mark.e2e
# A SIGKILLed owner's box is removed on each rootful engine: by the engine (Docker's
# AutoRemove), or by the box's reaper (Podman, whose boxes cannot be AutoRemove).
ROOTFUL = pytest.mark.engines(*ROOTFUL_ENGINES)

TIMEOUT = 4.0
MARGIN = 5.0


@pytest.fixture(params=["runc", "runsc"])
def runtime(request: pytest.FixtureRequest, base_image: str) -> str | None:
    return runtime_param(request, base_image)


def marker() -> str:
    """A unique ``sleep`` duration: its command line finds the box's processes on the host."""
    return f"50.{uuid.uuid4().int % 10**9:09d}"


def processes_with(mark: str) -> list[int]:
    """Host PIDs of processes in another PID namespace (a box's) whose command line contains
    ``mark``: the owner's own command line may hold it too, and is not counted."""
    ours = os.readlink("/proc/self/ns/pid")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if mark.encode() in cmdline and os.readlink(entry / "ns/pid") != ours:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def running(labels: dict[str, str]) -> list[str]:
    """Running containers with the case's label."""
    flt = f"label={CASE_LABEL}={labels[CASE_LABEL]}"
    return docker_cli("ps", "-q", "--filter", flt, check=False).stdout.split()


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


@contextmanager
def owner(args: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.kill()  # also ends a stopped one
        proc.wait(timeout=30)


def assert_gone_by(labels: dict[str, str], mark: str, deadline: float) -> float:
    """Everything of the box is gone by the monotonic ``deadline``; returns when it was."""
    gone = wait_until(lambda: not leftovers(labels) and not processes_with(mark), 60)
    at = time.monotonic()
    assert gone, f"still there after 60 s: {leftovers(labels)} {processes_with(mark)}"
    assert at <= deadline, f"gone {at - deadline:.1f} s after its deadline + {MARGIN:g} s"
    return at


def started(labels: dict[str, str], mark: str, proc: subprocess.Popen[bytes]) -> float:
    """Waits until the box's command said "started" (through its owner); returns when."""
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    assert line == b"started\n", line + proc.stderr.read()
    seen = time.monotonic()
    assert leftovers(labels), "the command runs but no container has the test's label"
    return seen


def lifetime_after(args: list[str], labels: dict[str, str], mark: str, sig: int) -> float:
    """Starts the owner, sends it ``sig`` once its box runs, and returns how long after the
    box said "started" everything of it was gone (asserted within TIMEOUT + MARGIN)."""
    with owner(args) as proc:
        seen = started(labels, mark, proc)
        proc.send_signal(sig)
        return assert_gone_by(labels, mark, seen + TIMEOUT + MARGIN) - seen


def marked(mark: str) -> list[str]:
    """The box's command: says "started", then sleeps (the marker) far past its deadline."""
    return ["sh", "-c", 'echo started; exec sleep "$0"', mark]


def cli_args(image: str, labels: dict[str, str], runtime: str | None, *cmd: str) -> list[str]:
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    runtime_args = ["--runtime", runtime] if runtime else []
    return [
        sys.executable, "-m", "reprobox", "run", "--image", image, *label_args, *runtime_args,
        "--timeout", f"{TIMEOUT:g}", "--", *cmd,
    ]  # fmt: skip


@ROOTFUL
def test_killed_reprobox_run_leaves_nothing_past_the_deadline(
    base_image: str, labels: dict[str, str], runtime: str | None
) -> None:
    mark = marker()
    lifetime_after(cli_args(base_image, labels, runtime, *marked(mark)), labels, mark, SIGKILL)


def test_frozen_reprobox_run_box_ends_at_its_own_deadline(
    base_image: str, labels: dict[str, str], runtime: str | None
) -> None:
    mark = marker()
    # SIGSTOP: the owner stays alive and connected, but does nothing any more.
    lived = lifetime_after(
        cli_args(base_image, labels, runtime, *marked(mark)), labels, mark, SIGSTOP
    )
    assert lived >= TIMEOUT - 1, "it ended long before its deadline"


# The command attacks the box's own init: tries to stop and kill PID 1 (and, on runc, kills
# everything it may signal: under gVisor kill(-1) would end the command itself), ignores the
# usual signals, then sleeps past its deadline. Ending the box early is no defeat: only
# outliving the deadline would be (gVisor lets a same-uid process kill PID 1: the box ends).
ATTACK = (
    'trap "" TERM INT HUP; echo started; kill -STOP 1; kill -9 1; kill -TERM 1; exec sleep "$0"'
)


def test_attacks_on_the_box_init_cannot_outlive_the_deadline(
    base_image: str, labels: dict[str, str], runtime: str | None
) -> None:
    mark = marker()
    attack = ATTACK if runtime == "runsc" else "kill -9 -1; " + ATTACK
    args = cli_args(base_image, labels, runtime, "sh", "-c", attack, mark)
    lifetime_after(args, labels, mark, SIGSTOP)


def test_control_a_box_without_deadline_outlives_a_frozen_owner(
    base_image: str, labels: dict[str, str]
) -> None:
    """Control for the test above: with no timeout, a frozen owner's box keeps running."""
    mark = marker()
    args = cli_args(base_image, labels, None, *marked(mark))
    args[args.index("--timeout") + 1] = "0"
    with owner(args) as proc:
        seen = started(labels, mark, proc)
        proc.send_signal(signal.SIGSTOP)
        assert processes_with(mark), "the control must see the box's process"
        assert not wait_until(lambda: not processes_with(mark), TIMEOUT + MARGIN + 1)
        assert time.monotonic() - seen >= TIMEOUT + MARGIN
    assert wait_until(lambda: not leftovers(labels), 30)


SESSION = """
import json, sys, time
from reprobox.sandbox import Policy, Sandbox, boxinit
image, labels, runtime, mode = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
command = sys.argv[5:]
boxinit.IDLE_S = 3.0

def show(chunk):
    sys.stdout.buffer.write(chunk.data)
    sys.stdout.flush()

with Sandbox(image, Policy(runtime=runtime or None), labels=labels) as box:
    if mode == "run":
        box.run(command, timeout=TIMEOUT, on_output=show)
    else:
        box.run(["echo", "started"], on_output=show)
        time.sleep(1000)
""".replace("TIMEOUT", repr(TIMEOUT))


def session_args(
    image: str, labels: dict[str, str], runtime: str | None, mark: str, mode: str
) -> list[str]:
    return [
        sys.executable, "-c", SESSION, image, json.dumps(labels), runtime or "", mode,
        *marked(mark),
    ]  # fmt: skip


@ROOTFUL
def test_killed_session_owner_leaves_nothing_past_the_deadline(
    base_image: str, labels: dict[str, str], runtime: str | None
) -> None:
    mark = marker()
    lifetime_after(session_args(base_image, labels, runtime, mark, "run"), labels, mark, SIGKILL)


def test_frozen_session_owner_box_ends_at_the_runs_deadline(
    base_image: str, labels: dict[str, str]
) -> None:
    mark = marker()
    lived = lifetime_after(
        session_args(base_image, labels, None, mark, "run"), labels, mark, SIGSTOP
    )
    assert lived >= TIMEOUT - 1, "it ended long before its deadline"


def test_idle_session_ends_with_its_killed_or_frozen_owner(
    base_image: str, labels: dict[str, str]
) -> None:
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        mark = marker()  # nothing runs in an idle box: the marker only names the owner
        with owner(session_args(base_image, labels, None, mark, "idle")) as proc:
            seen = started(labels, mark, proc)  # then the box is idle
            if sig == signal.SIGKILL:
                # Control: while its owner lives, heartbeats keep an idle box past its
                # idle lifetime.
                time.sleep(2 * 3.0)
                assert leftovers(labels), "a live owner's idle session box ended"
                seen = time.monotonic()
            proc.send_signal(sig)
            # Killed: the lifeline closes at once. Frozen: the idle lifetime (3 s here,
            # renewed by heartbeats that stopped) ends it.
            assert_gone_by(labels, mark, seen + 3.0 + MARGIN)


POOL = """
import json, sys
from reprobox.sandbox import Policy, SandboxPool
image, labels, command = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]

def show(chunk):
    sys.stdout.buffer.write(chunk.data)
    sys.stdout.flush()

with SandboxPool(image, Policy(), size=2, labels=labels) as pool:
    pool.run(["true"])
    pool.run(command, timeout=TIMEOUT, on_output=show)
""".replace("TIMEOUT", repr(TIMEOUT))


@ROOTFUL
def test_killed_pool_owner_leaves_no_box_past_the_deadline(
    base_image: str, labels: dict[str, str]
) -> None:
    mark = marker()
    args = [sys.executable, "-c", POOL, base_image, json.dumps(labels), *marked(mark)]
    with owner(args) as proc:
        seen = started(labels, mark, proc)
        # Full: one box runs the command, one is ready, none is being created (a container
        # created but not yet started when its owner dies has no process, and stays until gc).
        assert wait_until(lambda: len(running(labels)) == 2, 30), "the pool has no ready box"
        proc.send_signal(signal.SIGKILL)
        # The running box and the ready ones: all gone.
        assert_gone_by(labels, mark, seen + TIMEOUT + MARGIN)


def test_box_init_cannot_be_traced_or_signalled_from_inside(
    base_image: str, labels: dict[str, str]
) -> None:
    from reprobox.sandbox import Sandbox

    probe = (
        "import ctypes, os, signal\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('ptrace', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\n"
        "try:\n    os.listdir('/proc/1/fd')\nexcept PermissionError:\n    print('fd denied')\n"
        "os.kill(1, signal.SIGKILL); os.kill(1, signal.SIGSTOP); print('alive')\n"
        "print(open('/proc/1/status').read().split()[1])\n"
    )
    result = Sandbox(base_image, labels=labels).run(["python3", "-c", probe])
    lines = result.stdout_text.splitlines()
    assert lines[0] == "ptrace -1 1", result.stdout_text + result.stderr_text  # EPERM
    assert lines[1:] == ["fd denied", "alive", "init"]
    assert result.exit_code == 0
    assert os.path.exists("/proc/1")
