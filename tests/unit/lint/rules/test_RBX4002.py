"""RBX4002: apt lists or apk cache left in the layer."""

from tests.unit.lint.helpers import lines

RULE = "RBX4002"


def test_apt_lists_left() -> None:
    text = (
        "FROM debian:12\nRUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends x\n"
    )
    assert lines(text, RULE) == [2]  # the line of apt-get update, which writes the lists


def test_the_run_that_updates_is_the_one_to_clean() -> None:
    assert lines("FROM debian:12\nRUN apt-get update\n", RULE) == [2]
    assert lines("FROM debian:12\nRUN apt-get install -y --no-install-recommends x\n", RULE) == []


def test_apk_cache_left() -> None:
    assert lines("FROM alpine:3.20\nRUN apk add curl\n", RULE) == [2]


def test_passing() -> None:
    ok = (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*\n"
        "RUN --mount=type=cache,target=/var/lib/apt apt-get install -y x\n"
        "RUN --mount=type=cache,target=/var/lib/apt/lists --mount=type=cache,target=/var/cache/apt"
        " apt-get update && apt-get install -y x\n"
        "RUN apk add --no-cache curl\n"
        "RUN apt-get update; apt-get install -y x; apt-get dist-clean\n"
        "RUN apk add --no-cache a && xargs -rt apk add --no-network --virtual .r b\n"
    )
    assert lines(ok, RULE) == []


def test_a_mount_on_the_deb_cache_leaves_the_lists() -> None:
    text = (
        "FROM debian:bookworm\n"
        "RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y x\n"
    )
    assert lines(text, RULE) == [2]


def test_onbuild_run_is_checked() -> None:
    text = "FROM debian:bookworm\nONBUILD RUN apt-get update && apt-get install -y x\n"
    assert lines(text, RULE) == [2]
