"""``Policy.strict()`` with no engine asks the default engine, as the README promises."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import reprobox.engine
from reprobox import Policy


class _Engine:
    def __init__(self, runsc: bool) -> None:
        self.runsc, self.closed = runsc, False

    def info(self) -> Any:
        return SimpleNamespace(has_runsc=self.runsc)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(("runsc", "runtime"), [(True, "runsc"), (False, None)])
def test_strict_without_an_engine_asks_the_default_one(
    monkeypatch: pytest.MonkeyPatch, runsc: bool, runtime: str | None
) -> None:
    made: list[_Engine] = []

    def connect(*args: object, **kwargs: object) -> _Engine:
        made.append(_Engine(runsc))
        return made[-1]

    monkeypatch.setattr(reprobox.engine, "connect", connect)
    policy = Policy.strict(pids_limit=10)
    assert policy.runtime == runtime
    assert policy.pids_limit == 10
    assert [e.closed for e in made] == [True]
