"""The engine calls a box makes, as one typed interface with two implementations.

The docker SDK's ``APIClient`` and the stdlib :class:`reprobox.engine.lite.LiteAPIClient`
both provide :class:`ContainerAPI`; ``mypy --strict`` checks that both do (the assignments
at the bottom), so the lite path is type-checked against the same interface as the SDK's.
:mod:`reprobox.engine.containers` makes every box call (one-shot, pool and session boxes:
create, attach, start, exec, wait, inspect, kill, remove) through :attr:`Engine.api
<reprobox.engine.core.Engine.api>`, so the engine backend
(:mod:`reprobox.sandbox.engine_backend`) runs the same code on either client. Answers are
the engine's JSON objects (``dict[str, Any]``), read into typed values in ``containers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol


class ContainerAPI(Protocol):
    """Create, attach, start, exec, wait, inspect, kill, remove: a box's engine calls."""

    def inspect_image(self, image: str) -> dict[str, Any]: ...

    def create_host_config(
        self,
        *,
        read_only: bool | None = ...,
        tmpfs: dict[str, str] | None = ...,
        cap_drop: list[str] | None = ...,
        cap_add: list[str] | None = ...,
        security_opt: list[str] | None = ...,
        pids_limit: int | None = ...,
        mem_limit: Any = ...,
        memswap_limit: Any = ...,
        nano_cpus: int | None = ...,
        ulimits: Any = ...,
        init: bool | None = ...,
        log_config: Any = ...,
        runtime: str | None = ...,
        binds: Any = ...,
        network_mode: str | None = ...,
    ) -> dict[str, Any]: ...

    def create_container(
        self,
        image: str,
        command: str | list[str] | None = ...,
        *,
        user: str | None = ...,
        detach: bool = ...,
        stdin_open: bool = ...,
        tty: bool = ...,
        environment: list[str] | None = ...,
        network_disabled: bool = ...,
        entrypoint: str | list[str] | None = ...,
        working_dir: str | None = ...,
        host_config: Any = ...,
        labels: dict[str, str] | None = ...,
        use_config_proxy: bool = ...,
    ) -> dict[str, Any]: ...

    def attach_socket(self, container: str, params: Any = ..., ws: bool = ...) -> object: ...

    def start(self, container: str) -> None: ...

    def wait(
        self,
        container: str,
        timeout: int | None = ...,
        condition: Literal["not-running", "next-exit", "removed"] | None = ...,
    ) -> Mapping[str, Any]: ...

    def exec_create(
        self,
        container: str,
        cmd: str | list[str],
        stdout: bool = ...,
        stderr: bool = ...,
        stdin: bool = ...,
        tty: bool = ...,
        privileged: bool = ...,
        user: str = ...,
        environment: list[str] | None = ...,
        workdir: str | None = ...,
    ) -> dict[str, Any]: ...

    def exec_inspect(self, exec_id: str) -> dict[str, Any]: ...

    def inspect_container(self, container: str) -> dict[str, Any]: ...

    def kill(self, container: str, signal: str | int | None = ...) -> None: ...

    def remove_container(
        self, container: str, v: bool = ..., link: bool = ..., force: bool = ...
    ) -> None: ...


if TYPE_CHECKING:  # both clients provide the interface (checked by mypy, free at run time)
    import docker

    from reprobox.engine.lite import LiteAPIClient

    def _sdk(api: docker.APIClient) -> ContainerAPI:
        return api

    def _lite(api: LiteAPIClient) -> ContainerAPI:
        return api
