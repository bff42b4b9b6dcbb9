"""The engine's box interface: both clients provide every call, with the same parameters.

mypy --strict checks the same at type level (``reprobox.engine.api``); this test keeps the
run-time signatures honest too, so a renamed keyword fails here, not on a user's machine.
"""

from __future__ import annotations

import inspect

import docker
import pytest

from reprobox.engine.api import ContainerAPI
from reprobox.engine.lite import LiteAPIClient

CALLS = sorted(
    name
    for name, value in vars(ContainerAPI).items()
    if callable(value) and not name.startswith("_")
)


def test_the_interface_names_the_box_calls() -> None:
    assert CALLS == [
        "attach_socket",
        "create_container",
        "create_host_config",
        "exec_create",
        "exec_inspect",
        "inspect_container",
        "inspect_image",
        "kill",
        "remove_container",
        "start",
        "wait",
    ]


@pytest.mark.parametrize("client", [docker.APIClient, LiteAPIClient])
@pytest.mark.parametrize("name", CALLS)
def test_each_client_accepts_every_parameter_of_the_interface(client: type, name: str) -> None:
    wanted = inspect.signature(getattr(ContainerAPI, name)).parameters
    given = inspect.signature(getattr(client, name)).parameters
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in given.values())
    for param in wanted:
        assert param in given or open_ended, f"{client.__name__}.{name} lacks {param}"
