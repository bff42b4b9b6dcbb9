"""RBX4001: apt-get install without --no-install-recommends."""

from tests.unit.lint.helpers import lines

RULE = "RBX4001"


def test_recommends() -> None:
    text = "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y curl\n"
    assert lines(text, RULE) == [3]


def test_passing() -> None:
    ok = (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n"
        "RUN apt-get -o APT::Install-Recommends=false install -y curl\n"
    )
    assert lines(ok, RULE) == []


def test_onbuild_run_is_checked() -> None:
    assert lines("FROM debian:12\nONBUILD RUN apt-get install -y curl\n", RULE) == [2]
