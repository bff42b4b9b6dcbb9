"""The BoxAPI contract (tests/box_contract.py) against the real backends: the engine (through
the docker SDK and through the stdlib lite client) and the oci runtimes (runc, runsc). The
unit suite runs the same checks against the fake engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from reprobox.engine import Engine, connect
from reprobox.sandbox.engine_backend import EngineBoxes
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import container_spec
from tests.box_contract import CONTRACT, Kit
from tests.conftest import ROOTFUL_ENGINES
from tests.e2e.oci_support import my_leftovers, require_oci_tools
from tests.e2e.test_sandbox_support import leftovers, remove_leftovers, runsc_works

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ROOTFUL_ENGINES)]
IMPLEMENTATIONS = ("engine-sdk", "engine-lite", "oci-runc", "oci-runsc")


def shell_kit(
    api: object, image: str, policy: Policy, labels: dict[str, str], exists: Callable[[str], bool]
) -> Kit:
    return Kit(
        api=api,
        spec=container_spec(image, policy, (), labels=labels),
        policy=policy,
        echo=lambda text: ["echo", text],
        fail=lambda code: ["sh", "-c", f"echo failed >&2; exit {code}"],
        hang=["sleep", "60"],
        exists=exists,
    )


@pytest.fixture(params=IMPLEMENTATIONS)
def kit(
    request: pytest.FixtureRequest, engine_name: str, base_image: str, labels: dict[str, str]
) -> Iterator[Kit]:
    name = str(request.param)
    policy = Policy(timeout_s=30.0)
    if name.startswith("engine"):
        live: Engine = connect(lite=name == "engine-lite")
        if name == "engine-lite" and not live.lite:
            live.close()
            pytest.skip("the engine is not local or too old for the lite client")

        def gone_from_engine(box_id: str) -> bool:
            return any(box_id.startswith(found) for found in leftovers(labels))

        try:
            yield shell_kit(EngineBoxes(live), base_image, policy, labels, gone_from_engine)
        finally:
            live.close()
            remove_leftovers(labels)
        return
    if engine_name != "docker":
        pytest.skip("the oci backend uses no engine: it runs once, with docker's")
    require_oci_tools()
    runtime = name.removeprefix("oci-")
    if runtime == "runsc" and runsc_works(base_image):
        pytest.skip(str(runsc_works(base_image)))
    from reprobox.oci.backend import OciBoxes

    oci_policy = Policy(timeout_s=30.0, runtime=runtime)
    spec = container_spec(base_image, oci_policy, (), labels=labels)
    api = OciBoxes.open(spec, oci_policy, lambda: connect(lite=True))

    def left(box_id: str) -> bool:
        return any(box_id in path for path in my_leftovers())

    yield shell_kit(api, base_image, oci_policy, labels, left)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
def test_backend_keeps_the_contract(kit: Kit, check: Callable[[Kit], None]) -> None:
    check(kit)
