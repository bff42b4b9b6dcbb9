"""Can the oci backend run here, and if not, why: facts gathered once, judged purely."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reprobox import errors
from reprobox.doctor import Check, Status
from reprobox.oci import runtime as rt
from reprobox.oci import seccomp
from reprobox.oci.images import ImageStore, cache_root

TOOLS = ("skopeo", "umoci", "tini-static")


@dataclass(frozen=True)
class OciFacts:
    """What the checks look at (gathered from this machine by :func:`gather`)."""

    root: bool
    runtimes: dict[str, str]  # name -> first line of its --version, for those installed
    hybrid_cgroups: bool
    cgroups_writable: bool
    missing_tools: tuple[str, ...]
    seccomp_profile: str | None
    cache: Path
    cache_writable: bool
    cache_entries: int


def gather() -> OciFacts:
    cache = cache_root()
    return OciFacts(
        root=os.geteuid() == 0,
        runtimes={name: _version(name) for name in rt.RUNTIMES if shutil.which(name)},
        hybrid_cgroups=rt.hybrid_cgroups(),
        cgroups_writable=_cgroups_writable(),
        missing_tools=tuple(t for t in TOOLS if shutil.which(t) is None),
        seccomp_profile=_profile(),
        cache=cache,
        cache_writable=_writable(cache),
        cache_entries=_entries(cache),
    )


def _entries(cache: Path) -> int:
    try:
        return len(ImageStore(cache).entries())
    except OSError:
        return 0


def checks(facts: OciFacts) -> tuple[Check, ...]:
    """The oci backend's checks; any FAIL means it cannot run here."""
    return (
        _runc(facts),
        _runsc(facts),
        _crun(facts),
        _cgroups(facts),
        _tools(facts),
        _seccomp(facts),
        _cache(facts),
    )


def summary(facts: OciFacts) -> Check:
    """One line for the engine's doctor report (never a FAIL there: it is another backend)."""
    failed = [c for c in checks(facts) if c.status is Status.FAIL]
    if not failed:
        return Check("oci", Status.OK, "the daemonless backend can run here (--backend oci)")
    first = failed[0]
    return Check("oci", Status.WARN, f"--backend oci cannot run here: {first.detail}", first.hint)


def _runc(facts: OciFacts) -> Check:
    if "runc" in facts.runtimes:
        return Check("runc", Status.OK, f"{facts.runtimes['runc']} (the default runtime)")
    return Check("runc", Status.FAIL, "runc is not installed", "apt-get install runc")


def _runsc(facts: OciFacts) -> Check:
    if "runsc" in facts.runtimes:
        return Check("runsc", Status.OK, f"{facts.runtimes['runsc']}: --runtime runsc, no engine")
    return Check("runsc", Status.WARN, "runsc (gVisor) is not installed", "apt-get install runsc")


def _crun(facts: OciFacts) -> Check:
    if "crun" not in facts.runtimes:
        return Check("crun", Status.OK, "not installed (optional)")
    if facts.hybrid_cgroups:
        return Check(
            "crun",
            Status.WARN,
            "installed, but it refuses this machine's hybrid cgroups",
            "use runc (the default) or runsc",
        )
    return Check("crun", Status.OK, f"{facts.runtimes['crun']}: --runtime crun")


def _cgroups(facts: OciFacts) -> Check:
    if not facts.root:
        return Check(
            "cgroups",
            Status.FAIL,
            "not root: the oci backend runs runc as root (rootless runc is not supported)",
            "run as root (sudo)",
        )
    if not facts.cgroups_writable:
        return Check("cgroups", Status.FAIL, "cgroups are not writable", "mount cgroups rw")
    kind = "hybrid v1 + v2" if facts.hybrid_cgroups else "writable"
    return Check("cgroups", Status.OK, f"{kind}: memory, pids and CPU limits per box")


def _tools(facts: OciFacts) -> Check:
    if facts.missing_tools:
        return Check(
            "tools",
            Status.FAIL,
            f"missing {', '.join(facts.missing_tools)}",
            "apt-get install skopeo umoci tini",
        )
    return Check("tools", Status.OK, "skopeo and umoci unpack images; tini-static reaps zombies")


def _seccomp(facts: OciFacts) -> Check:
    if facts.seccomp_profile:
        return Check("seccomp", Status.OK, f"profile {facts.seccomp_profile}")
    return Check(
        "seccomp",
        Status.FAIL,
        "no seccomp profile file",
        "apt-get install golang-github-containers-common",
    )


def _cache(facts: OciFacts) -> Check:
    if not facts.cache_writable:
        return Check(
            "cache", Status.FAIL, f"{facts.cache} is not writable", "set REPROBOX_CACHE_DIR"
        )
    return Check("cache", Status.OK, f"{facts.cache} ({facts.cache_entries} image(s) unpacked)")


def _version(name: str) -> str:
    try:
        done = subprocess.run([name, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return name
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else name


def _cgroups_writable() -> bool:
    memory = rt.CGROUP_ROOT / "memory"
    folder = memory if memory.is_dir() else rt.CGROUP_ROOT
    return os.access(folder, os.W_OK)


def _profile() -> str | None:
    try:
        return str(seccomp.profile_path())
    except errors.SandboxError:
        return None


def _writable(path: Path) -> bool:
    try:
        for candidate in (path, *path.parents):
            if candidate.exists():
                return os.access(candidate, os.W_OK)
    except OSError:
        return False
    return False
