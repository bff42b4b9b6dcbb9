"""The BoxAPI contract (tests/box_contract.py) against the engine backend on the fake engine:
the same checks the e2e suite runs against the real engine and the oci runtimes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox import boxinit
from reprobox.sandbox.engine_backend import EngineBoxes
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import container_spec
from tests.box_contract import CONTRACT, Kit
from tests.unit.sandbox.fake_engine import fake_engine


@pytest.fixture
def kit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    monkeypatch.setattr(boxinit, "binary", lambda: Path("/fake/boxinit"))
    engine, api = fake_engine()
    policy = Policy(timeout_s=5.0)
    yield Kit(
        api=EngineBoxes(engine),
        spec=container_spec("img", policy, ()),
        policy=policy,
        echo=lambda text: ["echo", text],
        fail=lambda code: ["slow_fail", str(code)],
        hang=["hang"],
        exists=lambda box_id: box_id in api.boxes,
        files=False,  # the fake runs no tar
    )
    for box in list(api.boxes.values()):
        api._end(box, SIGKILLED)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
def test_engine_backend_keeps_the_contract(kit: Kit, check: Callable[[Kit], None]) -> None:
    check(kit)
