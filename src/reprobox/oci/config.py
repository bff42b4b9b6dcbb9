"""One policy, one translation: the engine's :class:`ContainerSpec` -> an OCI runtime config.

The sandbox turns a :class:`~reprobox.sandbox.policy.Policy` into a ``ContainerSpec`` once
(:func:`reprobox.sandbox.spec.container_spec`); the engine backend sends it as a HostConfig,
and this module writes the same fields as the ``config.json`` of an OCI bundle, field by
field, each in its own small function with its own unit test. What the engines add on top of
a HostConfig (masked and read-only paths, the default mounts, the seccomp profile) is the
engines' own: the lists equal ``runc spec``'s defaults (a test compares them), and the
profile is the maintained file of :mod:`reprobox.oci.seccomp`.
"""

from __future__ import annotations

import functools
import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprobox import errors
from reprobox.engine.containers import BindMount, ContainerSpec
from reprobox.oci import seccomp
from reprobox.oci.images import CachedImage

OCI_VERSION = "1.0.2"
INIT_PATH = "/dev/init"  # /dev is the box's own tmpfs: the init's mount point is never in the image
MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
# The engines' default capability set, for a policy that does not drop them all.
DEFAULT_CAPS = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
RLIMITS = {"fsize": "RLIMIT_FSIZE", "nofile": "RLIMIT_NOFILE", "nproc": "RLIMIT_NPROC"}
CPU_PERIOD_US = 100_000
MOUNT_ROOT = "/mnt"


@dataclass(frozen=True)
class BoxPlan:
    """A box to write as a bundle: the spec, the unpacked image and the box's own names."""

    spec: ContainerSpec
    image: CachedImage
    cgroups_path: str
    hostname: str
    init: Path | None = None


def runtime_config(plan: BoxPlan) -> dict[str, Any]:
    """The complete ``config.json`` for ``plan``."""
    config = _config_without_seccomp(plan)
    if seccomp_enabled(plan.spec):
        config["linux"]["seccomp"] = json.loads(_seccomp_json(*_seccomp_key(plan.spec)))
    return config


def runtime_config_json(plan: BoxPlan) -> str:
    """:func:`runtime_config` serialized, as written to the bundle. The seccomp section (most
    of the file) is serialized once per profile file and capability set and spliced in as the
    last key of ``linux`` (itself the last key), so each box only serializes its own fields."""
    text = json.dumps(_config_without_seccomp(plan), separators=(",", ":"))
    if not seccomp_enabled(plan.spec):
        return text
    assert text.endswith("}}"), "linux must be the config's last key"
    return f'{text[:-2]},"seccomp":{_seccomp_json(*_seccomp_key(plan.spec))}}}}}'


def _config_without_seccomp(plan: BoxPlan) -> dict[str, Any]:
    spec = plan.spec
    caps = capabilities(spec)
    linux: dict[str, Any] = {
        "namespaces": namespaces(spec.network),
        "resources": resources(spec),
        "cgroupsPath": plan.cgroups_path,
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }
    return {
        "ociVersion": OCI_VERSION,
        "process": process(spec, plan.image, caps, plan.init is not None),
        "root": {"path": str(plan.image.rootfs), "readonly": spec.read_only},
        "hostname": plan.hostname,
        "mounts": mounts(spec, plan.init),
        "annotations": dict(spec.labels),
        "linux": linux,
    }


def _seccomp_key(spec: ContainerSpec) -> tuple[Path, tuple[str, ...]]:
    return seccomp.profile_path(), tuple(capabilities(spec))


@functools.cache
def _seccomp_json(path: Path, caps: tuple[str, ...]) -> str:
    """The ``linux.seccomp`` section for ``caps`` from the profile at ``path``, as JSON (made
    once per process: the profile file is read once per process too)."""
    return json.dumps(seccomp.to_oci(seccomp.load_profile(path), caps), separators=(",", ":"))


def process(spec: ContainerSpec, image: CachedImage, caps: list[str], init: bool) -> dict[str, Any]:
    """The box's process: command (under the init), user, env, cwd, caps, rlimits."""
    args = [INIT_PATH, "--", *spec.command] if init else list(spec.command)
    return {
        "terminal": False,
        "user": user(spec.user, image.rootfs),
        "args": args,
        "env": environment(image.env, spec.env),
        "cwd": spec.workdir,
        "capabilities": {
            "bounding": caps,
            "effective": caps,
            "permitted": caps,
            "inheritable": [],
            "ambient": [],
        },
        "rlimits": rlimits(spec.ulimits),
        "noNewPrivileges": "no-new-privileges" in spec.security_opt,
    }


def environment(
    image_env: Iterable[tuple[str, str]], box_env: Iterable[tuple[str, str]]
) -> list[str]:
    """The image's ``ENV`` overridden by the box's own (as the engines merge them)."""
    merged = dict(image_env) | dict(box_env)
    return [f"{key}={value}" for key, value in merged.items()]


def user(text: str, rootfs: Path) -> dict[str, int]:
    """``uid[:gid]`` or a name from the image's ``/etc/passwd`` -> the OCI user."""
    name, _, group = text.partition(":")
    uid, default_gid = _passwd_ids(name, rootfs)
    gid = default_gid if not group else _group_id(group, rootfs)
    return {"uid": uid, "gid": gid}


def _passwd_ids(name: str, rootfs: Path) -> tuple[int, int]:
    if name.isdigit():
        found = _lookup(rootfs / "etc/passwd", lambda f: f[2] == name)
        return int(name), int(found[3]) if found and found[3].isdigit() else int(name)
    found = _lookup(rootfs / "etc/passwd", lambda f: f[0] == name)
    if not found or not found[3].isdigit():
        raise errors.UsageError(f"user {name} is not in the image's /etc/passwd")
    return int(found[2]), int(found[3])


def _group_id(group: str, rootfs: Path) -> int:
    if group.isdigit():
        return int(group)
    found = _lookup(rootfs / "etc/group", lambda f: f[0] == group)
    if not found:
        raise errors.UsageError(f"group {group} is not in the image's /etc/group")
    return int(found[2])


def _lookup(path: Path, match: Any) -> list[str] | None:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit() and match(fields):
            return fields
    return None


def capabilities(spec: ContainerSpec) -> list[str]:
    """``cap_drop`` / ``cap_add`` -> the capability set (names as ``CAP_X``)."""
    added = [_cap(name) for name in spec.cap_add]
    base = [] if "ALL" in spec.cap_drop else [c for c in DEFAULT_CAPS if c not in _caps(spec)]
    return sorted(set(base) | set(added))


def _caps(spec: ContainerSpec) -> set[str]:
    return {_cap(name) for name in spec.cap_drop}


def _cap(name: str) -> str:
    upper = name.upper()
    return upper if upper.startswith("CAP_") else f"CAP_{upper}"


def seccomp_enabled(spec: ContainerSpec) -> bool:
    return "seccomp=unconfined" not in spec.security_opt


def rlimits(ulimits: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """``(fsize, N)`` -> ``RLIMIT_FSIZE`` soft = hard = N."""
    out = []
    for name, value in ulimits:
        if name not in RLIMITS:
            raise errors.UsageError(f"ulimit {name} is not supported by the oci backend")
        out.append({"type": RLIMITS[name], "soft": value, "hard": value})
    return out


def namespaces(network: str) -> list[dict[str, str]]:
    """Own pid, ipc, uts and mount namespaces; an own network namespace (only ``lo``, which
    the runtime brings up) unless the box shares the host's network."""
    kinds = ["pid", "ipc", "uts", "mount"]
    if network != "host":
        kinds.append("network")
    return [{"type": kind} for kind in kinds]


def resources(spec: ContainerSpec) -> dict[str, Any]:
    """Cgroup limits: memory (swap = memory, so none), pids, CPU quota; no devices."""
    out: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}]}
    if spec.memory_bytes is not None:
        memory: dict[str, Any] = {"limit": spec.memory_bytes}
        if spec.memory_swap_bytes is not None and spec.memory_swap_bytes >= 0:
            memory["swap"] = spec.memory_swap_bytes
        out["memory"] = memory
    if spec.pids_limit is not None:
        out["pids"] = {"limit": spec.pids_limit}
    if spec.nano_cpus is not None:
        quota = spec.nano_cpus * CPU_PERIOD_US // 1_000_000_000
        out["cpu"] = {"quota": quota, "period": CPU_PERIOD_US}
    return out


def base_mounts() -> list[dict[str, Any]]:
    """``/proc``, ``/dev`` and its kin, read-only ``/sys`` and cgroups: as ``runc spec`` does."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        _tmpfs_mount("/dev", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
    ]


def mounts(spec: ContainerSpec, init: Path | None) -> list[dict[str, Any]]:
    """Base mounts, the policy's tmpfs (``/tmp``, the working folder), the init, the binds."""
    out = base_mounts()
    out += [_tmpfs_mount(target, options.split(",")) for target, options in spec.tmpfs]
    if init is not None:
        out.append(_bind(str(init), INIT_PATH, read_only=True))
    if any(_under(MOUNT_ROOT, b.target) for b in spec.binds):
        # Bind targets are made inside this tmpfs, never in the shared read-only image.
        out.append(_tmpfs_mount(MOUNT_ROOT, ["nosuid", "nodev", "mode=755", "size=1m"]))
    out += [bind_mount(b) for b in spec.binds]
    return out


def bind_mount(bind: BindMount) -> dict[str, Any]:
    return _bind(bind.source, bind.target, bind.read_only)


def _bind(source: str, target: str, read_only: bool) -> dict[str, Any]:
    options = ["rbind", "rprivate", "nosuid", "nodev", "ro" if read_only else "rw"]
    return {"destination": target, "type": "bind", "source": source, "options": options}


def _tmpfs_mount(target: str, options: list[str]) -> dict[str, Any]:
    return {"destination": target, "type": "tmpfs", "source": "tmpfs", "options": options}


def _under(root: str, target: str) -> bool:
    return posixpath.normpath(target).startswith(root + "/")


def mount_targets_missing(spec: ContainerSpec, rootfs: Path) -> list[str]:
    """Mount targets that are neither in the image nor under ``/mnt``: the runtime would have
    to create them inside the shared read-only image, so the oci backend refuses them."""
    targets = [t for t, _ in spec.tmpfs] + [b.target for b in spec.binds]
    return [
        t for t in targets if not _under(MOUNT_ROOT, t) and not (rootfs / t.lstrip("/")).is_dir()
    ]
