"""The engines' seccomp profile, read from the maintained file and turned into the OCI form.

The profile is never written here: it is the JSON file the container tools maintain
(``/usr/share/containers/seccomp.json`` from Debian's ``golang-github-containers-common``),
in the engines' own format (``archMap``, ``includes``/``excludes`` by capability, architecture
and minimum kernel). :func:`to_oci` applies those conditions the way the engines do and returns
the ``linux.seccomp`` section of an OCI runtime config.
"""

from __future__ import annotations

import functools
import json
import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reprobox import errors

PROFILE_PATHS = (
    Path("/usr/share/containers/seccomp.json"),
    Path("/etc/containers/seccomp.json"),
)
# The engines name architectures the Go way in ``includes.arches``.
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}
SECCOMP_ARCH = {"amd64": "SCMP_ARCH_X86_64", "arm64": "SCMP_ARCH_AARCH64", "arm": "SCMP_ARCH_ARM"}


def profile_path() -> Path:
    """The first maintained profile file present (``REPROBOX_SECCOMP_PROFILE`` overrides)."""
    override = os.environ.get("REPROBOX_SECCOMP_PROFILE")
    for path in (Path(override),) if override else PROFILE_PATHS:
        if path.is_file():
            return path
    raise errors.SandboxError(
        "no seccomp profile file: the oci backend uses the engines' maintained profile",
        "install it: apt-get install golang-github-containers-common",
    )


@functools.cache
def load_profile(path: Path) -> dict[str, Any]:
    """The profile file as JSON (read once per process)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise errors.SandboxError(f"cannot read the seccomp profile {path}: {exc}") from exc
    return data


def kernel_version(release: str | None = None) -> tuple[int, int]:
    """``6.1.0-18-amd64`` -> ``(6, 1)``."""
    parts = (release or platform.release()).split(".")
    digits = ["".join(ch for ch in p if ch.isdigit()) or "0" for p in parts[:2]]
    return int(digits[0]), int(digits[1] if len(digits) > 1 else 0)


def to_oci(
    profile: Mapping[str, Any],
    capabilities: Iterable[str],
    arch: str | None = None,
    kernel: tuple[int, int] | None = None,
    compat: bool = False,
) -> dict[str, Any]:
    """The OCI ``linux.seccomp`` section of ``profile`` for a process holding ``capabilities``
    on ``arch`` (a Go architecture name, default: this machine's) and ``kernel``; ``compat``
    also admits the 32-bit sub-architectures the engines admit."""
    go_arch = arch or GO_ARCH.get(platform.machine(), platform.machine())
    caps = frozenset(capabilities)
    running = kernel or kernel_version()
    section: dict[str, Any] = {
        "defaultAction": profile["defaultAction"],
        "architectures": _architectures(profile, go_arch, compat),
        "syscalls": [
            _rule(entry)
            for entry in profile.get("syscalls", ())
            if _applies(entry, caps, go_arch, running)
        ],
    }
    if profile.get("defaultErrnoRet") is not None:
        section["defaultErrnoRet"] = profile["defaultErrnoRet"]
    return section


def _architectures(profile: Mapping[str, Any], go_arch: str, compat: bool) -> list[str]:
    """The native architecture, plus its 32-bit siblings from ``archMap`` when ``compat``.

    Without them a 32-bit system call (``int 0x80``) matches no architecture of the filter
    and is refused: stricter than the engines, and runc compiles the filter at every start
    (measured CPU per ``runc run``: about 35 ms with the three architectures, 22 ms with the
    native one, 20 ms with no filter at all)."""
    native = SECCOMP_ARCH.get(go_arch)
    if native is None:
        return []
    for entry in profile.get("archMap") or ():
        if compat and entry["architecture"] == native:
            return [native, *entry.get("subArchitectures", ())]
    return [native]


def _applies(
    entry: Mapping[str, Any], caps: frozenset[str], arch: str, kernel: tuple[int, int]
) -> bool:
    includes = entry.get("includes") or {}
    excludes = entry.get("excludes") or {}
    if includes.get("arches") and arch not in includes["arches"]:
        return False
    if arch in (excludes.get("arches") or ()):
        return False
    if not all(cap in caps for cap in includes.get("caps") or ()):
        return False
    if any(cap in caps for cap in excludes.get("caps") or ()):
        return False
    minimum = includes.get("minKernel")
    return not minimum or kernel >= kernel_version(minimum)


def _rule(entry: Mapping[str, Any]) -> dict[str, Any]:
    names = list(entry.get("names") or ([entry["name"]] if entry.get("name") else []))
    rule: dict[str, Any] = {"names": names, "action": entry["action"]}
    if entry.get("args"):
        rule["args"] = [dict(arg) for arg in entry["args"]]
    if entry.get("errnoRet") is not None:
        rule["errnoRet"] = entry["errnoRet"]
    return rule
