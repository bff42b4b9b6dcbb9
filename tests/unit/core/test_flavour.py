"""Engine flavours: detection from the engine's answers, and what each changes in a box."""

from __future__ import annotations

from typing import Any

import pytest

from reprobox import errors
from reprobox.engine.containers import engine_host_config_kwargs, host_config_kwargs
from reprobox.engine.flavour import (
    DOCKER,
    EXPLICIT_ULIMITS,
    EngineKind,
    Flavour,
    IdRange,
    from_libpod_info,
    kind_from_server,
    podman_tmpfs_options,
)
from reprobox.engine.info import from_api
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import container_spec, keeper_user

PODMAN = Flavour(EngineKind.PODMAN, "4.3.1", rootless=False, cgroup_version="1")
ROOTLESS_MAP = (IdRange(0, 1001, 1), IdRange(1, 100000, 65536))
ROOTLESS = Flavour(EngineKind.PODMAN, "4.3.1", True, "1", ROOTLESS_MAP)
ROOTLESS_V2 = Flavour(EngineKind.PODMAN, "4.3.1", True, "2", ROOTLESS_MAP)
LIBPOD_INFO: dict[str, Any] = {
    "host": {
        "cgroupVersion": "v1",
        "security": {"rootless": True},
        "idMappings": {
            "uidmap": [
                {"container_id": 0, "host_id": 1001, "size": 1},
                {"container_id": 1, "host_id": 100000, "size": 65536},
            ]
        },
    }
}


@pytest.mark.parametrize(
    ("server", "kind", "version"),
    [
        ("Docker/20.10.24+dfsg1 (linux)", EngineKind.DOCKER, "20.10.24+dfsg1"),
        ("Libpod/4.3.1 (linux)", EngineKind.PODMAN, "4.3.1"),
        ("", EngineKind.DOCKER, ""),
    ],
)
def test_the_ping_server_header_names_the_engine(
    server: str, kind: EngineKind, version: str
) -> None:
    assert kind_from_server(server) == (kind, version)


def test_libpod_info_gives_rootless_cgroups_and_the_uid_map() -> None:
    flavour = from_libpod_info("4.3.1", LIBPOD_INFO)
    assert flavour == ROOTLESS
    assert flavour.name == "Podman 4.3.1 (rootless)"
    assert flavour.host_uid(0) == 1001
    assert flavour.host_uid(65534) == 100000 + 65533
    assert flavour.host_uid(70000) is None
    assert DOCKER.host_uid(0) == 0 and DOCKER.name == "Docker ? (rootful)"


def _spec(policy: Policy, user: str | None = None) -> Any:
    return container_spec("img", policy, ["true"], user=user)


def test_docker_gets_exactly_the_plain_host_config() -> None:
    spec = _spec(Policy())
    assert engine_host_config_kwargs(DOCKER, spec) == host_config_kwargs(spec)


def test_podman_gets_network_none_u_tmpfs_and_explicit_ulimits() -> None:
    spec = _spec(Policy())
    kwargs = engine_host_config_kwargs(PODMAN, spec)
    assert kwargs["network_mode"] == "none"  # Podman ignores NetworkDisabled
    assert kwargs["tmpfs"]["/work"] == "rw,nosuid,nodev,size=268435456,mode=0755,U"
    assert kwargs["tmpfs"]["/tmp"] == host_config_kwargs(spec)["tmpfs"]["/tmp"]
    assert not any("uid=" in options for options in kwargs["tmpfs"].values())
    names = {u["Name"]: u["Soft"] for u in kwargs["ulimits"]}
    assert names == {"fsize": 256 << 20, "nofile": 1024, "nproc": dict(EXPLICIT_ULIMITS)["nproc"]}
    relaxed = engine_host_config_kwargs(PODMAN, _spec(Policy(open_files=None)))
    assert {u["Name"] for u in relaxed["ulimits"]} == {"fsize", "nofile", "nproc"}


def test_podman_host_network_is_kept() -> None:
    kwargs = engine_host_config_kwargs(PODMAN, _spec(Policy(network="host")))
    assert kwargs["network_mode"] == "host"


def test_a_session_keeper_of_another_user_gets_a_sticky_workdir_on_podman() -> None:
    policy = Policy()
    spec = _spec(policy, user=keeper_user(policy))
    options = engine_host_config_kwargs(PODMAN, spec)["tmpfs"]["/work"]
    assert "mode=1777" in options and ",U" not in options and "uid=" not in options


@pytest.mark.parametrize(
    ("options", "user", "expected"),
    [
        ("rw,size=1,mode=0755,uid=5,gid=6", "5:6", "rw,size=1,mode=0755,U"),
        ("rw,size=1,mode=0755,uid=5,gid=5", "5", "rw,size=1,mode=0755,U"),
        ("rw,size=1,mode=0755,uid=5,gid=6", "0:0", "rw,size=1,mode=1777"),
        ("rw,size=1,mode=1777", "5:6", "rw,size=1,mode=1777"),
    ],
)
def test_podman_tmpfs_options(options: str, user: str, expected: str) -> None:
    assert podman_tmpfs_options(options, user) == expected


@pytest.mark.parametrize("flavour", [ROOTLESS])
def test_rootless_podman_on_cgroup_v1_refuses_limits_it_would_ignore(flavour: Flavour) -> None:
    with pytest.raises(errors.Unsupported, match=r"Podman 4.3.1 \(rootless\) on cgroup v1") as e:
        engine_host_config_kwargs(flavour, _spec(Policy()))
    assert "--no-limits" in (e.value.hint or "")
    assert "without a delegated cgroup parent" in str(e.value)
    assert "scripts/setup-engine --engine podman --rootless" in (e.value.hint or "")
    only_ulimits = Policy.unlimited(open_files=64)
    with pytest.raises(errors.Unsupported, match="file-size or open-file limits"):
        engine_host_config_kwargs(flavour, _spec(only_ulimits))
    kwargs = engine_host_config_kwargs(flavour, _spec(Policy.unlimited()))
    assert "ulimits" not in kwargs and "mem_limit" not in kwargs


def test_rootless_podman_on_cgroup_v2_enforces_limits_but_not_ulimits() -> None:
    no_ulimits = Policy(file_size_bytes=None, open_files=None)
    kwargs = engine_host_config_kwargs(ROOTLESS_V2, _spec(no_ulimits))
    assert kwargs["mem_limit"] == 512 << 20 and kwargs["pids_limit"] == 128


def test_a_delegated_cgroup_parent_lets_rootless_v1_enforce_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reprobox.engine import cgroups, flavour

    monkeypatch.setattr(cgroups, "delegated", lambda uid: uid == 1001)
    monkeypatch.setattr(flavour.os, "geteuid", lambda: 1001)
    found = flavour.with_delegation(ROOTLESS, local=True)
    assert found.delegated_cgroups and found.enforces_limits
    assert not flavour.with_delegation(ROOTLESS, local=False).delegated_cgroups
    assert not flavour.with_delegation(PODMAN, local=True).delegated_cgroups
    monkeypatch.setattr(flavour.os, "geteuid", lambda: 1002)  # another user's engine
    assert not flavour.with_delegation(ROOTLESS, local=True).delegated_cgroups


def test_ulimits_set_by_the_box_init_are_not_refused_on_rootless_podman() -> None:
    from dataclasses import replace

    spec = replace(_spec(Policy.unlimited(open_files=64)), ulimits_by_init=True)
    assert engine_host_config_kwargs(ROOTLESS, spec)["read_only"], "not refused"


def test_gvisor_is_refused_on_rootless_podman_only() -> None:
    runsc = Policy.unlimited(runtime="runsc")
    with pytest.raises(errors.Unsupported, match=r"rootless\) cannot run gVisor"):
        engine_host_config_kwargs(ROOTLESS, _spec(runsc))
    assert engine_host_config_kwargs(PODMAN, _spec(runsc))["runtime"] == "runsc"


def test_unlimited_policy_drops_exactly_the_limits() -> None:
    policy = Policy.unlimited()
    assert (policy.memory_bytes, policy.pids_limit, policy.cpus) == (None, None, None)
    assert (policy.file_size_bytes, policy.open_files) == (None, None)
    assert policy.read_only_root and policy.network == "disabled" and policy.user == "65534:65534"


def test_podman_info_lists_only_runtimes_whose_binary_exists(tmp_path: Any) -> None:
    real = tmp_path / "runc"
    real.write_text("")
    info = {"Runtimes": {"runc": {"path": str(real)}, "krun": {"path": str(tmp_path / "no")}}}
    listed = from_api(info, {}, [], PODMAN, local=True)
    assert listed.runtimes == ("runc",)
    assert from_api(info, {}, [], PODMAN, local=False).runtimes == ("krun", "runc")
    assert from_api(info, {}, [], DOCKER, local=True).runtimes == ("krun", "runc")
    assert from_api({}, {}, [], ROOTLESS).rootless


class _FakeLiteAPI:
    def __init__(self, server: str) -> None:
        self.server, self.asked = server, 0

    def server_header(self) -> str:
        return self.server

    def libpod_info(self) -> dict[str, Any]:
        self.asked += 1
        return LIBPOD_INFO


def _lite_engine(server: str) -> tuple[Any, _FakeLiteAPI]:
    from reprobox.engine.core import Engine
    from reprobox.engine.lite import LiteClient

    api = _FakeLiteAPI(server)
    return Engine(LiteClient(api), "unix:///x"), api  # type: ignore[arg-type]


def test_engine_detects_its_flavour_once_and_asks_libpod_only_of_podman(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reprobox.engine import cgroups

    monkeypatch.setattr(cgroups, "delegated", lambda uid: False)
    docker, docker_api = _lite_engine("Docker/20.10.24 (linux)")
    assert docker.flavour() == Flavour(EngineKind.DOCKER, "20.10.24")
    assert docker_api.asked == 0
    podman, podman_api = _lite_engine("Libpod/4.3.1 (linux)")
    assert podman.flavour() == ROOTLESS and podman.flavour() is podman.flavour()
    assert podman_api.asked == 1


def test_a_lite_connection_refuses_sdk_only_calls_with_one_clear_error() -> None:
    import pytest

    from reprobox import errors

    engine, _ = _lite_engine("Docker/20.10.24 (linux)")
    assert engine.lite
    with pytest.raises(errors.EngineError, match="needs the docker SDK client"):
        engine.raw  # noqa: B018
