"""RBX1108: apt-get update alone in a RUN."""

from tests.unit.lint.helpers import lines

RULE = "RBX1108"


def test_lone_update() -> None:
    text = "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends x\n"
    assert lines(text, RULE) == [2]


def test_passing() -> None:
    ok = "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends x\n"
    assert lines(ok, RULE) == []
