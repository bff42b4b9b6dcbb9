"""doctor's judgement of an engine's answers (logic only; the e2e test asks a real engine)."""

from __future__ import annotations

import dataclasses
from typing import Any

from reprobox.doctor import Status, diagnose
from reprobox.engine.core import ImageSummary
from reprobox.engine.info import EngineInfo, from_api

INFO: dict[str, Any] = {
    "ServerVersion": "20.10.24",
    "OSType": "linux",
    "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
    "KernelVersion": "6.1",
    "Architecture": "x86_64",
    "Driver": "overlay2",
    "CgroupVersion": "2",
    "CgroupDriver": "systemd",
    "SecurityOptions": ["name=seccomp,profile=default", "name=apparmor"],
    "Runtimes": {"runc": {}, "runsc": {"path": "/usr/bin/runsc"}},
    "DefaultRuntime": "runc",
    "InitBinary": "docker-init",
    "DockerRootDir": "/var/lib/docker",
    "NCPU": 2,
    "MemTotal": 1 << 30,
}
VERSION = {"Version": "20.10.24", "ApiVersion": "1.41", "MinAPIVersion": "1.12"}


class FakeEngine:
    url = "unix:///fake.sock"

    def __init__(self, info: EngineInfo, base: ImageSummary | None = None) -> None:
        self._info = info
        self._base = base
        self.pinged = False

    def ping(self) -> None:
        self.pinged = True

    def info(self) -> EngineInfo:
        return self._info

    def image(self, ref: str) -> ImageSummary | None:
        return self._base


def _statuses(info: EngineInfo, base: ImageSummary | None = None) -> dict[str, Status]:
    engine = FakeEngine(info, base)
    report = diagnose(engine)  # type: ignore[arg-type]
    assert engine.pinged, "doctor must ping the daemon, not trust the client"
    return {c.name: c.status for c in report.checks}


def test_parses_security_options_and_runtimes() -> None:
    info = from_api(INFO, VERSION, ["bridge", "host", "none"])
    assert info.seccomp and info.seccomp_profile == "default"
    assert info.apparmor and not info.rootless and not info.userns
    assert info.has_runsc and info.bridge_network
    assert info.cgroup_version == "2" and info.api_version == "1.41"


def test_healthy_engine_with_gvisor_and_base() -> None:
    info = from_api(INFO, VERSION, ["host", "none"])
    base = ImageSummary("sha256:" + "a" * 64, ("reprobox/python:3.11-bookworm",), 1, {})
    statuses = _statuses(info, base)
    assert statuses["runtimes"] is Status.OK
    assert statuses["base image"] is Status.OK
    assert statuses["seccomp"] is Status.OK


def test_warns_without_seccomp_gvisor_or_base() -> None:
    info = dataclasses.replace(
        from_api(INFO, VERSION, ["host", "none"]), security_options=(), runtimes=("runc",)
    )
    statuses = _statuses(info)
    assert statuses["seccomp"] is Status.WARN
    assert statuses["runtimes"] is Status.WARN
    assert statuses["base image"] is Status.WARN
    assert statuses["LSM"] is Status.WARN


def test_rootless_engine_is_reported() -> None:
    info = dataclasses.replace(
        from_api(INFO, VERSION, []), security_options=("name=rootless", "name=seccomp")
    )
    assert info.rootless
    assert _statuses(info)["user"] is Status.OK


def _details(info: EngineInfo) -> dict[str, str]:
    report = diagnose(FakeEngine(info))  # type: ignore[arg-type]
    return {c.name: f"{c.status} {c.detail}" for c in report.checks}


def test_podman_is_named_and_rootless_explains_what_uid_0_maps_to() -> None:
    from reprobox.engine.flavour import EngineKind, Flavour, IdRange

    rootless = Flavour(EngineKind.PODMAN, "4.3.1", True, "1", (IdRange(0, 1001, 1),))
    details = _details(from_api(INFO, VERSION, [], rootless))
    assert details["engine"].startswith("ok Podman 4.3.1 (rootless) answers ping")
    assert "uid 0 in a box is host uid 1001" in details["user"]
    assert details["cgroups"].startswith("warn") and "refuses a limited box" in details["cgroups"]
    assert details["runtimes"].startswith("warn") and "runsc is refused" in details["runtimes"]
    rootful = Flavour(EngineKind.PODMAN, "4.3.1", False, "1")
    details = _details(from_api(INFO, VERSION, [], rootful))
    assert details["engine"].startswith("ok Podman 4.3.1 (rootful)")
    assert details["cgroups"].startswith("ok") and details["runtimes"].startswith("ok")
