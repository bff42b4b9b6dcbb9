"""Policy -> ContainerSpec -> OCI runtime config, one test per field, without a runtime."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reprobox import errors
from reprobox.oci import config as cfg
from reprobox.oci.images import CachedImage
from reprobox.sandbox.policy import MiB, Policy
from reprobox.sandbox.spec import Mount, container_spec

SECCOMP_FILE = Path("/usr/share/containers/seccomp.json")


@pytest.fixture
def image(tmp_path: Path) -> CachedImage:
    rootfs = tmp_path / "entry" / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    for name in ("work", "tmp", "mnt"):
        (rootfs / name).mkdir()
    (rootfs / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:10001:10002::/app:\n")
    (rootfs / "etc/group").write_text("root:x:0:\nstaff:x:50:\n")
    env = (("PATH", "/image/bin"), ("IMAGE_ONLY", "1"))
    return CachedImage("sha256:" + "a" * 64, tmp_path / "entry", env, "", "")


def config(image: CachedImage, policy: Policy | None = None, **kw: Any) -> dict[str, Any]:
    spec = container_spec("img", policy or Policy(), ["python3", "-c", "1"], **kw)
    return cfg.runtime_config(cfg.BoxPlan(spec, image, "/reprobox/rbx-1", "rbx-1", None))


def test_network_gets_its_own_namespace_with_only_lo_unless_host(image: CachedImage) -> None:
    for network in ("disabled", "none"):
        kinds = {n["type"] for n in config(image, Policy(network=network))["linux"]["namespaces"]}
        assert kinds == {"pid", "ipc", "uts", "mount", "network"}
    host = config(image, Policy(network="host"))["linux"]["namespaces"]
    assert "network" not in {n["type"] for n in host}


def test_root_is_the_cached_rootfs_read_only_unless_relaxed(image: CachedImage) -> None:
    assert config(image)["root"] == {"path": str(image.rootfs), "readonly": True}
    assert config(image, Policy(read_only_root=False))["root"]["readonly"] is False


def test_tmp_and_workdir_are_size_limited_tmpfs_owned_by_the_user(image: CachedImage) -> None:
    mounts = {m["destination"]: m for m in config(image)["mounts"]}
    tmp, work = mounts["/tmp"], mounts["/work"]
    assert tmp["type"] == work["type"] == "tmpfs"
    assert f"size={64 * MiB}" in tmp["options"] and "mode=1777" in tmp["options"]
    assert f"size={256 * MiB}" in work["options"]
    assert "uid=65534" in work["options"] and "gid=65534" in work["options"]
    assert {"nosuid", "nodev"} <= set(tmp["options"]) & set(work["options"])


def test_no_capabilities_by_default_and_named_ones_when_added(image: CachedImage) -> None:
    caps = config(image)["process"]["capabilities"]
    assert all(v == [] for v in caps.values())
    added = config(image, Policy(add_capabilities=("net_bind_service",)))["process"]
    assert added["capabilities"]["bounding"] == ["CAP_NET_BIND_SERVICE"]
    assert added["capabilities"]["ambient"] == []
    kept = config(image, Policy(drop_all_capabilities=False))["process"]["capabilities"]
    assert set(kept["bounding"]) == set(cfg.DEFAULT_CAPS)


def test_no_new_privileges_unless_relaxed(image: CachedImage) -> None:
    assert config(image)["process"]["noNewPrivileges"] is True
    assert config(image, Policy(no_new_privileges=False))["process"]["noNewPrivileges"] is False


@pytest.mark.skipif(not SECCOMP_FILE.is_file(), reason="no maintained seccomp profile file")
def test_seccomp_is_the_maintained_profile_unless_relaxed(image: CachedImage) -> None:
    section = config(image)["linux"]["seccomp"]
    profile = json.loads(SECCOMP_FILE.read_text())
    assert section["defaultAction"] == profile["defaultAction"]
    allowed = {n for rule in section["syscalls"] for n in rule["names"]}
    assert {"read", "write", "execve"} <= allowed
    assert "seccomp" not in config(image, Policy(seccomp=False))["linux"]


def test_masked_and_readonly_paths_are_the_engines(image: CachedImage) -> None:
    linux = config(image)["linux"]
    assert linux["maskedPaths"] == list(cfg.MASKED_PATHS)
    assert linux["readonlyPaths"] == list(cfg.READONLY_PATHS)
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc not installed")
def test_masked_readonly_paths_and_base_mounts_equal_runc_spec_defaults(tmp_path: Path) -> None:
    subprocess.run(["runc", "spec"], cwd=tmp_path, check=True)
    default = json.loads((tmp_path / "config.json").read_text())
    assert default["linux"]["maskedPaths"] == list(cfg.MASKED_PATHS)
    assert default["linux"]["readonlyPaths"] == list(cfg.READONLY_PATHS)
    assert cfg.base_mounts() == default["mounts"]


def test_user_numeric_named_and_group(image: CachedImage) -> None:
    assert config(image)["process"]["user"] == {"uid": 65534, "gid": 65534}
    assert cfg.user("app", image.rootfs) == {"uid": 10001, "gid": 10002}
    assert cfg.user("10001", image.rootfs) == {"uid": 10001, "gid": 10002}
    assert cfg.user("app:staff", image.rootfs) == {"uid": 10001, "gid": 50}
    with pytest.raises(errors.UsageError, match="nobody-here"):
        cfg.user("nobody-here", image.rootfs)


def test_rlimits_file_size_and_open_files(image: CachedImage) -> None:
    limits = {r["type"]: r for r in config(image)["process"]["rlimits"]}
    assert limits["RLIMIT_FSIZE"] == {"type": "RLIMIT_FSIZE", "soft": 256 * MiB, "hard": 256 * MiB}
    assert limits["RLIMIT_NOFILE"]["hard"] == 1024
    relaxed = config(image, Policy(file_size_bytes=None, open_files=None))["process"]
    assert relaxed["rlimits"] == []


def test_memory_limit_has_no_swap_unless_relaxed(image: CachedImage) -> None:
    memory = config(image)["linux"]["resources"]["memory"]
    assert memory == {"limit": 512 * MiB, "swap": 512 * MiB}
    assert "swap" not in config(image, Policy(swap=True))["linux"]["resources"]["memory"]
    assert "memory" not in config(image, Policy(memory_bytes=None))["linux"]["resources"]


def test_pids_limit(image: CachedImage) -> None:
    assert config(image)["linux"]["resources"]["pids"] == {"limit": 128}
    assert "pids" not in config(image, Policy(pids_limit=None))["linux"]["resources"]


def test_cpu_quota(image: CachedImage) -> None:
    assert config(image, Policy(cpus=1.5))["linux"]["resources"]["cpu"] == {
        "quota": 150_000,
        "period": 100_000,
    }
    assert "cpu" not in config(image, Policy(cpus=None))["linux"]["resources"]


def test_devices_are_denied(image: CachedImage) -> None:
    devices = config(image)["linux"]["resources"]["devices"]
    assert devices == [{"allow": False, "access": "rwm"}]


def test_environment_is_the_images_overridden_by_the_policys_minimal_one(
    image: CachedImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    env = dict(e.split("=", 1) for e in config(image)["process"]["env"])
    assert env["PATH"] == dict(Policy().env)["PATH"]
    assert env["IMAGE_ONLY"] == "1" and env["HOME"] == "/work"
    assert "AWS_SECRET_ACCESS_KEY" not in env


def test_init_wraps_the_command_and_is_bind_mounted_read_only(
    image: CachedImage, tmp_path: Path
) -> None:
    spec = container_spec("img", Policy(), ["true"])
    plan = cfg.BoxPlan(spec, image, "/reprobox/x", "x", tmp_path / "tini")
    made = cfg.runtime_config(plan)
    assert made["process"]["args"] == [cfg.INIT_PATH, "--", "true"]
    init = next(m for m in made["mounts"] if m["destination"] == cfg.INIT_PATH)
    assert init["source"] == str(tmp_path / "tini") and "ro" in init["options"]
    assert config(image)["process"]["args"] == ["python3", "-c", "1"]  # no init given


def test_binds_are_read_only_unless_writable_and_mnt_is_a_tmpfs(
    image: CachedImage, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "out").mkdir()
    mounts = [Mount(tmp_path / "data"), Mount(tmp_path / "out", writable=True)]
    made = {m["destination"]: m for m in config(image, mounts=mounts)["mounts"]}
    assert "ro" in made["/mnt/data"]["options"] and "rw" in made["/mnt/out"]["options"]
    assert made["/mnt"]["type"] == "tmpfs"


def test_cgroup_path_hostname_and_labels_as_annotations(image: CachedImage) -> None:
    made = config(image, labels={"case": "x"})
    assert made["linux"]["cgroupsPath"] == "/reprobox/rbx-1"
    assert made["hostname"] == "rbx-1"
    assert made["annotations"]["case"] == "x"


def test_working_folder_and_mount_targets_must_exist_in_the_image(image: CachedImage) -> None:
    ok = container_spec("img", Policy(), ["true"])
    assert cfg.mount_targets_missing(ok, image.rootfs) == []
    elsewhere = container_spec("img", Policy(), ["true"], workdir="/nowhere")
    assert cfg.mount_targets_missing(elsewhere, image.rootfs) == ["/nowhere"]


@pytest.mark.skipif(not SECCOMP_FILE.is_file(), reason="no maintained seccomp profile file")
@pytest.mark.parametrize(
    "policy",
    [Policy(), Policy(seccomp=False), Policy(network="host", read_only_root=False)],
    ids=["default", "no-seccomp", "relaxed"],
)
def test_the_serialized_config_is_the_config(image: CachedImage, policy: Policy) -> None:
    """What a bundle gets (seccomp serialized once and spliced in) is exactly the config, for
    every box: two boxes of one spec differ only in their own fields."""
    spec = container_spec("img", policy, ["true"], labels={"io.x": '"}}'})
    for box in ("rbx-1", "rbx-2"):
        plan = cfg.BoxPlan(spec, image, f"/reprobox/{box}", box, None)
        assert json.loads(cfg.runtime_config_json(plan)) == cfg.runtime_config(plan)
    assert ("seccomp" in cfg.runtime_config(plan)["linux"]) is policy.seccomp
