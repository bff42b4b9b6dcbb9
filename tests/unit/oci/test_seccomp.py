"""The engines' seccomp profile format -> the OCI seccomp section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reprobox import errors
from reprobox.oci import seccomp

PROFILE: dict[str, Any] = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 38,
    "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    ],
    "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
        {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
            "excludes": {"caps": ["CAP_SYS_ADMIN"]},
        },
        {"names": ["new_call"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.5"}},
        {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    ],
}


def names(section: dict[str, Any]) -> set[str]:
    return {n for rule in section["syscalls"] for n in rule["names"]}


def test_default_action_and_errno_are_kept() -> None:
    section = seccomp.to_oci(PROFILE, [], arch="amd64", kernel=(6, 1))
    assert section["defaultAction"] == "SCMP_ACT_ERRNO"
    assert section["defaultErrnoRet"] == 38


def test_only_the_native_architecture_unless_compat() -> None:
    assert seccomp.to_oci(PROFILE, [], arch="amd64")["architectures"] == ["SCMP_ARCH_X86_64"]
    compat = seccomp.to_oci(PROFILE, [], arch="amd64", compat=True)
    assert compat["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]


def test_rules_for_other_architectures_are_dropped() -> None:
    assert "arch_prctl" in names(seccomp.to_oci(PROFILE, [], arch="amd64"))
    assert "arch_prctl" not in names(seccomp.to_oci(PROFILE, [], arch="arm64"))


def test_capability_conditions_follow_the_box_capabilities() -> None:
    none = seccomp.to_oci(PROFILE, [], arch="amd64")
    assert "mount" not in names(none) and "clone" in names(none)
    admin = seccomp.to_oci(PROFILE, ["CAP_SYS_ADMIN"], arch="amd64")
    assert "mount" in names(admin) and "clone" not in names(admin)


def test_argument_filters_and_errno_are_carried_over() -> None:
    section = seccomp.to_oci(PROFILE, [], arch="amd64", kernel=(6, 1))
    clone = next(r for r in section["syscalls"] if r["names"] == ["clone"])
    assert clone["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"
    ptrace = next(r for r in section["syscalls"] if r["names"] == ["ptrace"])
    assert ptrace == {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}


def test_min_kernel_is_respected() -> None:
    assert "new_call" not in names(seccomp.to_oci(PROFILE, [], arch="amd64", kernel=(6, 1)))
    assert "new_call" in names(seccomp.to_oci(PROFILE, [], arch="amd64", kernel=(6, 18)))


def test_kernel_version_parsing() -> None:
    assert seccomp.kernel_version("6.18.44-fc-v857") == (6, 18)
    assert seccomp.kernel_version("5.10.0-28-amd64") == (5, 10)


def test_a_missing_profile_file_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(seccomp, "PROFILE_PATHS", (tmp_path / "absent.json",))
    with pytest.raises(errors.SandboxError, match="no seccomp profile") as caught:
        seccomp.profile_path()
    assert caught.value.hint and "containers-common" in caught.value.hint
