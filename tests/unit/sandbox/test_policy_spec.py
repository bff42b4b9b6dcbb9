"""Policy -> container spec -> engine create arguments, without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobox import errors
from reprobox.engine import containers as c
from reprobox.engine import labels
from reprobox.sandbox.command import RunRequest, parse_labels, parse_size
from reprobox.sandbox.policy import MiB, Policy
from reprobox.sandbox.spec import Mount, container_spec, keeper_user

IMAGE = "img:1"


def test_defaults_are_hardened() -> None:
    spec = container_spec(IMAGE, Policy(), ["true"])
    host = c.host_config_kwargs(spec)
    create = c.create_kwargs(spec)
    assert create["network_disabled"] is True
    assert "network_mode" not in host
    assert host["read_only"] is True
    assert host["cap_drop"] == ["ALL"]
    assert "cap_add" not in host
    assert host["security_opt"] == ["no-new-privileges"]
    assert host["pids_limit"] == 128
    assert host["mem_limit"] == host["memswap_limit"] == 512 * MiB
    assert host["nano_cpus"] == 1_000_000_000
    assert host["init"] is True
    assert {u["Name"] for u in host["ulimits"]} == {"fsize", "nofile"}
    assert create["user"] == "65534:65534"
    assert "runtime" not in host


def test_tmpfs_for_tmp_and_workdir_is_size_limited_and_owned_by_the_user() -> None:
    tmpfs = dict(container_spec(IMAGE, Policy(), ["true"]).tmpfs)
    assert set(tmpfs) == {"/tmp", "/work"}
    assert "size=67108864" in tmpfs["/tmp"] and "nosuid" in tmpfs["/tmp"]
    assert "uid=65534,gid=65534" in tmpfs["/work"]


def test_environment_is_minimal_and_never_from_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    env = c.create_kwargs(container_spec(IMAGE, Policy(), ["true"]))["environment"]
    assert not any("hunter2" in e or e.startswith("AWS_") for e in env)
    assert {e.split("=", 1)[0] for e in env} == {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "PYTHONUNBUFFERED",
    }


def test_labels_mark_the_box_as_reprobox_and_keep_extras() -> None:
    spec = container_spec(IMAGE, Policy(), ["true"], labels={"x": "y"})
    got = dict(spec.labels)
    assert got[labels.MANAGED] == "true" and got[labels.KIND] == "sandbox"
    assert got[labels.SESSION] == labels.session_id() and got["x"] == "y"


def test_command_is_the_entrypoint_so_image_entrypoints_do_not_interfere() -> None:
    create = c.create_kwargs(container_spec(IMAGE, Policy(), ["python3", "-c", "1"]))
    assert create["entrypoint"] == ["python3"] and create["command"] == ["-c", "1"]


def test_every_field_can_be_relaxed_explicitly() -> None:
    policy = Policy().relaxed(
        network="host",
        read_only_root=False,
        drop_all_capabilities=False,
        seccomp=False,
        no_new_privileges=False,
        pids_limit=None,
        memory_bytes=None,
        cpus=None,
        swap=True,
        file_size_bytes=None,
        open_files=None,
        init=False,
        runtime="runsc",
        user="0:0",
    )
    spec = container_spec(IMAGE, policy, ["true"])
    host = c.host_config_kwargs(spec)
    assert host["network_mode"] == "host"
    assert c.create_kwargs(spec)["network_disabled"] is False
    assert host["read_only"] is False and host["cap_drop"] == []
    assert host["security_opt"] == ["seccomp=unconfined"]
    assert host["runtime"] == "runsc" and host["init"] is False
    for key in ("pids_limit", "mem_limit", "memswap_limit", "nano_cpus", "ulimits"):
        assert key not in host


def test_network_none_uses_the_none_network() -> None:
    spec = container_spec(IMAGE, Policy(network="none"), ["true"])
    assert c.host_config_kwargs(spec)["network_mode"] == "none"


def test_bad_policy_values_are_usage_errors() -> None:
    with pytest.raises(errors.UsageError):
        Policy(network="bridge")  # type: ignore[arg-type]
    with pytest.raises(errors.UsageError):
        Policy(timeout_s=0)


def test_mounts_are_read_only_unless_rw(tmp_path: Path) -> None:
    ro = Mount.parse(str(tmp_path)).bind()
    rw = Mount.parse(f"{tmp_path}:rw").bind()
    assert ro.read_only and not rw.read_only
    assert ro.target == f"/mnt/{tmp_path.name}"
    spec = container_spec(IMAGE, Policy(), ["true"], mounts=[Mount.parse(str(tmp_path))])
    assert c.host_config_kwargs(spec)["binds"] == [f"{tmp_path}:/mnt/{tmp_path.name}:ro"]


def test_a_missing_mount_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="does not exist"):
        Mount.parse(str(tmp_path / "nope")).bind()


def test_keeper_never_runs_as_the_command_user() -> None:
    assert keeper_user(Policy()) == "0:0"
    assert keeper_user(Policy(user="0:0")) != "0:0"
    assert keeper_user(Policy(user="root")) != "0:0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("512m", 512 * MiB), ("1g", 1 << 30), ("1GiB", 1 << 30), ("100", 100), ("1.5k", 1536)],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_parse_size_refuses_garbage() -> None:
    with pytest.raises(errors.UsageError):
        parse_size("lots")


def test_request_policy_applies_only_what_was_asked() -> None:
    request = RunRequest(image=IMAGE, command=("true",), memory="1g", pids=10, timeout_s=0)
    policy = request.policy()
    assert policy.memory_bytes == 1 << 30 and policy.pids_limit == 10
    assert policy.timeout_s is None
    assert policy.network == "disabled" and policy.cpus == 1.0


def test_labels_parse() -> None:
    assert parse_labels(("a=b", "c=")) == {"a": "b", "c": ""}
    with pytest.raises(errors.UsageError):
        parse_labels(("novalue",))


def test_home_follows_a_custom_working_folder() -> None:
    spec = container_spec(IMAGE, Policy(), ["true"], workdir="/app")
    assert dict(spec.env)["HOME"] == "/app" and "/app" in dict(spec.tmpfs)
    custom = Policy().with_env(HOME="/tmp")
    assert dict(container_spec(IMAGE, custom, ["true"], workdir="/app").env)["HOME"] == "/tmp"
