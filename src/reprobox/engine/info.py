"""What the engine says about itself, as a frozen value object."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import Any

from reprobox.engine.flavour import DOCKER, EngineKind, Flavour

# Where Debian's catatonit package puts Podman's init (containers.conf's init_path default).
PODMAN_INIT = "/usr/libexec/podman/catatonit"


@dataclass(frozen=True)
class EngineInfo:
    server_version: str
    api_version: str
    min_api_version: str
    os_type: str
    operating_system: str
    kernel: str
    architecture: str
    storage_driver: str
    cgroup_version: str
    cgroup_driver: str
    security_options: tuple[str, ...]
    runtimes: tuple[str, ...]
    default_runtime: str
    init_binary: str
    networks: tuple[str, ...]
    bridge_network: bool
    docker_root: str
    cpus: int
    memory_bytes: int
    containers: int
    images: int
    flavour: Flavour = DOCKER

    @property
    def seccomp(self) -> bool:
        return any(opt.startswith("name=seccomp") for opt in self.security_options)

    @property
    def seccomp_profile(self) -> str:
        for opt in self.security_options:
            if opt.startswith("name=seccomp"):
                for part in opt.split(","):
                    if part.startswith("profile="):
                        return part.removeprefix("profile=")
        return ""

    @property
    def apparmor(self) -> bool:
        return any(opt.startswith("name=apparmor") for opt in self.security_options)

    @property
    def selinux(self) -> bool:
        return any(opt.startswith("name=selinux") for opt in self.security_options)

    @property
    def rootless(self) -> bool:
        return self.flavour.rootless or any(
            opt.startswith("name=rootless") for opt in self.security_options
        )

    @property
    def userns(self) -> bool:
        return any(opt.startswith("name=userns") for opt in self.security_options)

    @property
    def has_runsc(self) -> bool:
        return "runsc" in self.runtimes


def from_api(
    info: dict[str, Any],
    version: dict[str, Any],
    networks: list[str],
    flavour: Flavour = DOCKER,
    local: bool = False,
) -> EngineInfo:
    """Build :class:`EngineInfo` from the engine's ``/info`` and ``/version`` answers.

    Podman lists every runtime name it knows with the first path it would try; on a local
    engine only those whose binary exists are kept. Its ``/info`` names no init binary: a
    local one at Podman's default path is reported."""
    runtimes = info.get("Runtimes") or {}
    init = str(info.get("InitBinary", ""))
    if flavour.kind is EngineKind.PODMAN and local:
        runtimes = {k: v for k, v in runtimes.items() if _exists((v or {}).get("path", k))}
        init = init or (PODMAN_INIT if os.path.exists(PODMAN_INIT) else "")
    return EngineInfo(
        server_version=str(version.get("Version", info.get("ServerVersion", "?"))),
        api_version=str(version.get("ApiVersion", "?")),
        min_api_version=str(version.get("MinAPIVersion", "?")),
        os_type=str(info.get("OSType", "?")),
        operating_system=str(info.get("OperatingSystem", "?")),
        kernel=str(info.get("KernelVersion", "?")),
        architecture=str(info.get("Architecture", "?")),
        storage_driver=str(info.get("Driver", "?")),
        cgroup_version=str(info.get("CgroupVersion", "1")),
        cgroup_driver=str(info.get("CgroupDriver", "?")),
        security_options=tuple(info.get("SecurityOptions") or ()),
        runtimes=tuple(sorted(runtimes)),
        default_runtime=str(info.get("DefaultRuntime", "runc")),
        init_binary=init,
        networks=tuple(sorted(networks)),
        bridge_network="bridge" in networks,
        docker_root=str(info.get("DockerRootDir", "?")),
        cpus=int(info.get("NCPU", 0)),
        memory_bytes=int(info.get("MemTotal", 0)),
        containers=int(info.get("Containers", 0)),
        images=int(info.get("Images", 0)),
        flavour=flavour,
    )


def _exists(path: str) -> bool:
    return os.path.exists(path) if os.path.isabs(path) else shutil.which(path) is not None
