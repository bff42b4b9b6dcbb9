"""One box, every engine: Docker, rootful Podman and rootless Podman give the same hardened
defaults, say which engine they are, refuse what they cannot give, and rootless is proven.

Runs on every engine in ``REPROBOX_TEST_ENGINES`` (see tests/conftest.py).
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobox.engine import Engine
from reprobox.sandbox import Mount, Policy, Sandbox
from tests.conftest import ALL_ENGINES, ROOTLESS_USER, reprobox_cli
from tests.e2e.test_sandbox_support import leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ALL_ENGINES)]

# What the box reports about itself: one line per fact, read by the test below.
PROBE = r"""
echo "uid $(id -u):$(id -g)"
grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t'
echo "pid1 $(tr '\0' ' ' </proc/1/cmdline)"
echo "self $$"
grep -E '^Max (file size|open files|processes) ' /proc/self/limits | tr -s ' '
awk '$2=="/" || $2=="/tmp" || $2=="/work" {print "mount", $2, $3, $4}' /proc/self/mounts
stat -c 'owner %n %u %a' /work /tmp
ls /sys/class/net | sed 's/^/net /'
touch /etc/x 2>/dev/null && echo "wrote /etc" || echo "etc read-only"
"""


def _facts(stdout: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(" ") if " " in line else line.partition(":")
        facts.setdefault(key, "")
        facts[key] = (facts[key] + "\n" + value).strip()
    return facts


def _policy(engine: Engine) -> Policy:
    """The defaults, minus the limits on an engine that refuses them (the refusal itself is
    tested below)."""
    return Policy() if engine.flavour().enforces_limits else Policy.unlimited()


def test_every_hardened_default_holds(
    engine: Engine, base_image: str, labels: dict[str, str]
) -> None:
    policy = _policy(engine)
    result = Sandbox(base_image, policy, labels=labels, engine=engine).run(["sh", "-c", PROBE])
    assert result.exit_code == 0, result.stderr
    out = result.stdout.decode()
    facts = _facts(out)
    assert facts["uid"] == "65534:65534"
    assert "CapEff:0000000000000000" in out and "CapBnd:0000000000000000" in out
    assert "NoNewPrivs:1" in out and "Seccomp:2" in out
    # The box's own init (reprobox's boxinit, which keeps its deadline) is pid 1 and runs the
    # command as its child.
    assert facts["pid1"].split()[0] == "/.reprobox/init", facts["pid1"]
    assert facts["self"] != "1"
    mounts = {line.split()[0]: line.split() for line in facts["mount"].splitlines()}
    root, tmp, work = mounts["/"], mounts["/tmp"], mounts["/work"]
    assert root[2].startswith("ro"), "read-only root"
    assert tmp[1] == "tmpfs" and "nosuid" in tmp[2] and "size=65536k" in tmp[2]
    assert work[1] == "tmpfs" and "nosuid" in work[2] and "size=262144k" in work[2]
    assert "owner /work 65534 755" in out, "the working folder belongs to the box's user"
    assert "owner /tmp 0 1777" in out
    assert facts["net"] == "lo", "networking disabled: loopback only"
    assert "etc read-only" in out
    if policy.open_files is not None:  # by the engine, or by the box's init (rootless)
        assert "Max file size 268435456 268435456 bytes" in out
        assert "Max open files 1024 1024 files" in out
    # With a delegated cgroup parent (rootless Podman on cgroup v1) the limits are on the
    # box's parent, which the box cannot see: test_rootless_limits.py attacks them instead.
    if engine.flavour().enforces_limits and not engine.flavour().needs_box_cgroups:
        limits = Sandbox(base_image, policy, labels=labels, engine=engine).run(
            [
                "sh",
                "-c",
                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                "/sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max "
                "/sys/fs/cgroup/pids.max",
            ]
        )
        assert limits.stdout.decode().split() == [str(512 << 20), "128"]
    assert leftovers(labels) == []


def test_doctor_names_the_engine_and_lists_only_real_runtimes(engine: Engine) -> None:
    done = reprobox_cli("doctor")
    assert done.returncode == 0, done.stderr
    flavour = engine.flavour()
    engine_line = next(line for line in done.stdout.splitlines() if " engine " in line)
    assert f"{flavour.name} answers ping" in engine_line
    assert flavour.kind.product in ("Docker", "Podman")
    runtimes = next(line for line in done.stdout.splitlines() if " runtimes " in line)
    for name in ("crun", "kata", "krun", "runj"):
        if flavour.kind.value == "podman" and shutil.which(name) is None:
            assert name not in runtimes, f"{name} is not installed but listed: {runtimes}"
    if flavour.rootless:
        assert f"uid 0 in a box is host uid {flavour.host_uid(0)}" in done.stdout


def test_what_the_engine_cannot_give_is_refused_in_one_line(
    engine: Engine, base_image: str, labels: dict[str, str]
) -> None:
    flavour = engine.flavour()
    if flavour.enforces_limits and flavour.runs_gvisor:
        pytest.skip(f"{flavour.name} gives every hardened default: nothing to refuse")
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    run = ("run", "--image", base_image, *label_args)
    if not flavour.enforces_limits:
        done = reprobox_cli(*run, "--", "true")
        assert done.returncode == 125
        assert done.stderr.splitlines()[0] == (
            f"error: {flavour.name} on cgroup v1 cannot enforce memory, process or CPU "
            "limits without a delegated cgroup parent (it would silently ignore them)"
        )
        assert "scripts/setup-engine --engine podman --rootless" in done.stderr
        assert "--no-limits" in done.stderr and "Traceback" not in done.stderr
    if not flavour.runs_gvisor:
        done = reprobox_cli(*run, "--no-limits", "--runtime", "runsc", "--", "true")
        assert done.returncode == 125
        assert done.stderr.splitlines()[0] == (
            f"error: {flavour.name} cannot run gVisor (runsc needs a rootful engine)"
        )
    assert leftovers(labels) == [], "a refused box is never created"


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder the rootless engine's user can reach (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="reprobox-rootless-test-"))
    folder.chmod(0o755)
    try:
        yield folder / "shared"
    finally:
        shutil.rmtree(folder)


@pytest.mark.engines("podman-rootless")
def test_rootless_root_in_a_box_is_an_unprivileged_host_user(
    engine: Engine, base_image: str, labels: dict[str, str], shared: Path
) -> None:
    flavour = engine.flavour()
    assert flavour.rootless
    rootless = pwd.getpwnam(ROOTLESS_USER)
    shared.mkdir()
    os.chown(shared, rootless.pw_uid, rootless.pw_gid)
    shared.chmod(0o777)  # the box's non-root users map to the rootless user's range
    mount = Mount(shared, "/shared", writable=True)
    script = "id -u; cat /proc/self/uid_map; touch /shared/by-$(id -u)"
    for user in ("0:0", "65534:65534"):
        policy = Policy.unlimited(user=user)
        box = Sandbox(base_image, policy, mounts=[mount], labels=labels, engine=engine)
        result = box.run(["sh", "-c", script])
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.decode().splitlines()
        inside = int(lines[0])
        assert inside == int(user.split(":")[0])
        first_range = lines[1].split()
        assert first_range[:2] == ["0", str(rootless.pw_uid)], "uid 0 maps to the user"
        owner = os.stat(shared / f"by-{inside}").st_uid
        assert owner == flavour.host_uid(inside) and owner != 0
        assert owner in _host_ids_of(rootless), "owned by the rootless user's range"
    assert (shared / "by-0").stat().st_uid == rootless.pw_uid
    assert leftovers(labels) == []


def _host_ids_of(user: pwd.struct_passwd) -> set[int]:
    """The user's own uid and its subordinate range from /etc/subuid."""
    ids = {user.pw_uid}
    for line in Path("/etc/subuid").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in (user.pw_name, str(user.pw_uid)):
            start, _, count = rest.partition(":")
            ids |= set(range(int(start), int(start) + int(count)))
    return ids
