"""``reprobox doctor``: ask the engine itself whether it is really up, and how it is set up.

Every answer comes from the daemon (an API ping, ``/info`` and ``/version``), never from the
client alone: a client prints its version even when no daemon runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reprobox.base import default_tag
from reprobox.engine import Engine, EngineInfo


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""


@dataclass(frozen=True)
class DoctorReport:
    url: str
    info: EngineInfo
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        return all(c.status is not Status.FAIL for c in self.checks)


def diagnose(engine: Engine, base_tag: str | None = None, oci: Check | None = None) -> DoctorReport:
    """The engine's checks (``oci``: the oci backend's one-line summary, appended)."""
    engine.ping()
    info = engine.info()
    tag = base_tag or default_tag("bookworm") or ""
    base = engine.image(tag)
    checks = (
        Check("engine", Status.OK, f"{info.flavour.name} answers ping at {engine.url}"),
        Check(
            "versions",
            Status.OK,
            f"engine {info.server_version}, API {info.api_version}"
            f" (min {info.min_api_version}), {info.operating_system}, {info.architecture}",
        ),
        Check("storage", Status.OK, f"{info.storage_driver} under {info.docker_root}"),
        _cgroup(info),
        _seccomp(info),
        _lsm(info),
        _user_isolation(info),
        _runtimes(info),
        _network(info),
        _init(info),
        Check("base image", Status.OK, f"{tag} ({base.id[7:19]})")
        if base
        else Check(
            "base image",
            Status.WARN,
            f"{tag} not built",
            "build it from Debian packages: sudo reprobox base",
        ),
    )
    return DoctorReport(engine.url, info, (*checks, oci) if oci else checks)


def _cgroup(info: EngineInfo) -> Check:
    detail = f"cgroup v{info.cgroup_version} ({info.cgroup_driver} driver)"
    if not info.flavour.enforces_limits:
        return Check(
            "cgroups",
            Status.WARN,
            f"{detail}: {info.flavour.name} cannot enforce memory, CPU or pids limits "
            "without a delegated cgroup parent; reprobox run refuses a limited box",
            "as root: scripts/setup-engine --engine podman --rootless USER; or use rootful "
            "Podman or Docker, or run boxes with --no-limits knowingly",
        )
    if info.flavour.delegated_cgroups:
        return Check(
            "cgroups",
            Status.OK,
            f"{detail}: memory, CPU and pids limits available "
            "(each box's own cgroup under the delegated parent)",
        )
    return Check("cgroups", Status.OK, detail + ": memory, CPU and pids limits available")


def _seccomp(info: EngineInfo) -> Check:
    if info.seccomp:
        return Check("seccomp", Status.OK, f"on (profile: {info.seccomp_profile or 'default'})")
    return Check(
        "seccomp",
        Status.WARN,
        "off: containers may make any system call",
        "use an engine built with seccomp support",
    )


def _lsm(info: EngineInfo) -> Check:
    if info.apparmor or info.selinux:
        return Check("LSM", Status.OK, "AppArmor" if info.apparmor else "SELinux")
    return Check(
        "LSM",
        Status.WARN,
        "no AppArmor or SELinux profile confines containers",
        "capabilities, seccomp and no-new-privileges still apply; gVisor adds more",
    )


def _user_isolation(info: EngineInfo) -> Check:
    if info.rootless:
        root = info.flavour.host_uid(0)
        mapped = f"host uid {root}" if root is not None else "an unprivileged host uid"
        return Check(
            "user",
            Status.OK,
            f"rootless engine: uid 0 in a box is {mapped} (the engine's user), other uids "
            "its subordinate range; root in a box has no privilege on the host",
        )
    if info.userns:
        return Check("user", Status.OK, "user namespaces remap container root")
    return Check(
        "user",
        Status.WARN,
        "rootful engine without userns-remap: root in a container is root on the host kernel",
        "reprobox run uses a non-root user by default",
    )


def _runtimes(info: EngineInfo) -> Check:
    names = ", ".join(info.runtimes)
    if info.has_runsc and not info.flavour.runs_gvisor:
        return Check(
            "runtimes",
            Status.WARN,
            f"{names}; default {info.default_runtime}; gVisor (runsc) cannot run on a "
            "rootless engine: reprobox run --runtime runsc is refused",
            "use a rootful engine for gVisor",
        )
    if info.has_runsc:
        return Check(
            "runtimes",
            Status.OK,
            f"{names}; default {info.default_runtime}; gVisor "
            "(runsc) available for the strongest isolation",
        )
    return Check(
        "runtimes",
        Status.WARN,
        f"{names}; no gVisor",
        "install runsc for a user-space kernel: sudo scripts/setup-engine",
    )


def _network(info: EngineInfo) -> Check:
    if info.bridge_network:
        return Check(
            "network",
            Status.OK,
            f"networks: {', '.join(info.networks)}; default "
            "bridge present (reprobox run still disables networking unless asked)",
        )
    return Check(
        "network",
        Status.OK,
        f"networks: {', '.join(info.networks)}; no default "
        "bridge: containers get no network unless given the host's",
    )


def _init(info: EngineInfo) -> Check:
    if info.init_binary:
        return Check("init", Status.OK, f"{info.init_binary} reaps zombies in --init containers")
    return Check("init", Status.WARN, "no init binary", "install tini or docker-init")
