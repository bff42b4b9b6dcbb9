"""Rootless Podman on cgroup v1 enforces a box's limits: each box gets its own limited cgroup
under the delegated parent ``scripts/setup-engine --engine podman --rootless USER`` made, and
its file-size and open-file limits are set by its own init (the rootless API drops them).

Every limit is attacked, with a control that shows the limit (not something else) stopped it;
after every test no container and no box cgroup folder is left, even when the test failed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reprobox.engine import Engine, cgroups
from reprobox.sandbox import Policy, RunResult, Sandbox
from tests.conftest import reprobox_cli
from tests.e2e.test_sandbox_support import CASE_LABEL, leftovers, remove_leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.engines("podman-rootless")]

MiB = 1024 * 1024


def _box_folders(engine: Engine) -> list[Path]:
    uid = engine.flavour().host_uid(0)
    assert uid is not None
    name = cgroups.parent_name(uid)
    return [p for h in cgroups.v1_hierarchies() for p in (h / name).glob("box-*")]


Run = Callable[[Policy, str], RunResult]
Session = Callable[[Policy], Sandbox]


@pytest.fixture
def session(boxes: Run, engine: Engine, base_image: str, labels: dict[str, str]) -> Session:
    """A session box (with ``boxes``' clean-up): its commands are execs, not the init's."""
    return lambda policy: Sandbox(base_image, policy, labels=labels, engine=engine)


@pytest.fixture
def boxes(engine: Engine, base_image: str, labels: dict[str, str]) -> Iterator[Run]:
    """Runs boxes on rootless Podman; afterwards nothing of them is left, whatever happened."""
    flavour = engine.flavour()
    if not flavour.needs_box_cgroups:
        pytest.skip(f"{flavour.name} on cgroup v{flavour.cgroup_version} limits boxes itself")
    assert flavour.delegated_cgroups, "scripts/setup-engine --rootless delegates a parent"
    before = set(_box_folders(engine))
    try:

        def run(policy: Policy, script: str) -> RunResult:
            box = Sandbox(base_image, policy, labels=labels, engine=engine)
            return box.run(["python3", "-c", script])

        yield run
    finally:
        left = leftovers(labels)
        remove_leftovers(labels)
        new = set(_box_folders(engine)) - before
        for folder in new:
            cgroups.remove(f"/{folder.parent.name}/{folder.name}", wait_s=0)
        assert left == [], "every box is removed"
        assert new == set(), "every box's cgroup folders are removed with it"


MEMORY = "b = bytearray({n} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('alive')"


def test_a_memory_bomb_is_killed_at_the_limit(boxes: Run) -> None:
    policy = Policy(memory_bytes=64 * MiB, cpus=None)
    bomb = boxes(policy, MEMORY.format(n=256))
    assert bomb.exit_code == 137 and bomb.oom_killed, bomb.stderr
    assert b"alive" not in bomb.stdout
    control = boxes(policy, MEMORY.format(n=16))
    assert control.exit_code == 0 and control.stdout == b"alive\n", control.stderr


FORKS = """
import os, time
started = 0
for _ in range(100):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    started += 1
print(started)
"""


def test_processes_stop_at_the_pids_limit(boxes: Run) -> None:
    bomb = boxes(Policy(pids_limit=30, cpus=None), FORKS)
    assert bomb.exit_code == 0, bomb.stderr
    assert int(bomb.stdout) < 30, "no more than the pids limit"
    control = boxes(Policy(pids_limit=300, cpus=None), FORKS)
    assert control.exit_code == 0 and int(control.stdout) == 100, control.stderr


SPIN = """
import os, time
start, cpu0 = time.monotonic(), sum(os.times()[:2])
while time.monotonic() - start < 2:
    pass
print(round((sum(os.times()[:2]) - cpu0) / (time.monotonic() - start), 3))
"""


def test_a_spinning_process_gets_its_cpu_quota(boxes: Run) -> None:
    limited = boxes(Policy(cpus=0.2), SPIN)
    assert limited.exit_code == 0, limited.stderr
    assert 0.05 < float(limited.stdout) < 0.35, "about 0.2 of a cpu"
    control = boxes(Policy(cpus=None), SPIN)
    assert control.exit_code == 0, control.stderr
    assert float(control.stdout) > 0.45, "the same spin, unlimited, gets far more"


RAISE = """
import resource, sys
r = resource.RLIMIT_{res}
try:
    resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
except (ValueError, OSError):
    print("cannot raise")
print(resource.getrlimit(r))
"""

WRITE = """
try:
    with open("/tmp/f", "wb") as f:
        f.write(b"x" * {n})
    print("wrote")
except OSError as e:
    print("refused", e.errno)
"""


def test_the_file_size_limit_holds_and_cannot_be_raised(boxes: Run) -> None:
    policy = Policy(file_size_bytes=MiB, cpus=None)
    raised = boxes(policy, RAISE.format(res="FSIZE"))
    assert raised.stdout.decode().splitlines() == ["cannot raise", f"({MiB}, {MiB})"]
    # Python ignores SIGXFSZ: the write fails with EFBIG (27) instead.
    big = boxes(policy, WRITE.format(n=2 * MiB))
    assert big.stdout == b"refused 27\n", big.stderr
    control = boxes(policy, WRITE.format(n=MiB // 2))
    assert control.stdout == b"wrote\n", control.stderr


OPEN = """
files = []
try:
    for _ in range(200):
        files.append(open("/dev/null"))
except OSError as e:
    print("refused", e.errno)
print(len(files))
"""


def test_the_open_file_limit_holds_and_cannot_be_raised(boxes: Run) -> None:
    policy = Policy(open_files=64, cpus=None)
    raised = boxes(policy, RAISE.format(res="NOFILE"))
    assert raised.stdout.decode().splitlines() == ["cannot raise", "(64, 64)"]
    many = boxes(policy, OPEN)
    lines = many.stdout.decode().splitlines()
    assert lines[0] == "refused 24" and int(lines[1]) < 64, many.stderr
    control = boxes(Policy(open_files=512, cpus=None), OPEN)
    assert control.stdout == b"200\n", control.stderr


def test_the_cli_box_is_limited_too(boxes: Run, base_image: str, labels: dict[str, str]) -> None:
    """``reprobox run`` talks to the engine through its own small client (engine/lite.py):
    the box's cgroup parent reaches the engine that way too."""
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    run = ("run", "--image", base_image, *label_args, "--memory", "64m", "--")
    bomb = reprobox_cli(*run, "python3", "-c", MEMORY.format(n=256))
    assert bomb.returncode == 137, bomb.stderr
    assert bomb.stderr.splitlines()[-1].startswith("reprobox: killed: exceeded the 64 MiB")
    control = reprobox_cli(*run, "python3", "-c", MEMORY.format(n=16))
    assert control.returncode == 0 and control.stdout == "alive\n", control.stderr


def test_a_session_command_has_the_file_size_and_open_file_limits(session: Session) -> None:
    """A session's commands run by exec (not under the box's init); the command wrapper sets
    both limits, and the command cannot raise them."""
    with session(Policy(file_size_bytes=MiB, open_files=64, cpus=None)) as box:
        raised = box.run(["python3", "-c", RAISE.format(res="FSIZE")])
        assert raised.stdout_text.splitlines() == ["cannot raise", f"({MiB}, {MiB})"]
        raised = box.run(["python3", "-c", RAISE.format(res="NOFILE")])
        assert raised.stdout_text.splitlines() == ["cannot raise", "(64, 64)"]
        big = box.run(["python3", "-c", WRITE.format(n=2 * MiB)])
        assert big.stdout == b"refused 27\n", big.stderr
        control = box.run(["python3", "-c", WRITE.format(n=MiB // 2)])
        assert control.stdout == b"wrote\n", control.stderr


OWNER = """
import sys, time
from reprobox.sandbox import Policy, Sandbox
box = Sandbox(sys.argv[1], Policy(), labels={sys.argv[2]: sys.argv[3]})
box.__enter__()
box.run(["true"])
print("ready", flush=True)
time.sleep(600)
"""


def test_gc_removes_the_folders_of_a_killed_owners_box(
    boxes: Run, engine: Engine, base_image: str, labels: dict[str, str]
) -> None:
    ((key, value),) = [(k, v) for k, v in labels.items() if k == CASE_LABEL]
    before = set(_box_folders(engine))
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, base_image, key, value], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline() == "ready\n"
        assert set(_box_folders(engine)) - before, "the session box has its own folders"
    finally:
        owner.kill()
        owner.wait()
    done = reprobox_cli("gc")
    assert done.returncode == 0, done.stderr
    assert set(_box_folders(engine)) - before == set(), "gc removed the dead owner's folders"
