"""RBX4003: pip cache left in the layer."""

from tests.unit.lint.helpers import lines

RULE = "RBX4003"
DEBIAN = "FROM debian:bookworm\n"


def test_pip_cache() -> None:
    assert lines("FROM python:3.12\nRUN pip install -r r.txt\n", RULE) == [2]


def test_passing() -> None:
    assert lines("FROM python:3.12\nRUN pip install --no-cache-dir -r r.txt\n", RULE) == []
    assert lines("FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r r.txt\n", RULE) == []
    text = "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r r\n"
    assert lines(text, RULE) == []


def test_pip_no_cache_dir_in_a_parent_stage() -> None:
    text = f"{DEBIAN[:-1]} AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install x==1\n"
    assert lines(text, RULE) == []
    text = (
        f"{DEBIAN[:-1]} AS base\nENV PIP_NO_CACHE_DIR=1\nFROM debian:bookworm\nRUN pip install x\n"
    )
    assert lines(text, RULE) == [4]  # another image: the ENV does not carry over


def test_any_value_pip_accepts_turns_the_cache_off() -> None:
    for value in ("no", "n", "f", "0", "off", "false", "True", "YES", '"1"'):
        text = f"{DEBIAN}ENV PIP_NO_CACHE_DIR={value}\nRUN pip install x==1\n"
        assert lines(text, RULE) == [], value


def test_tmpfs_or_cache_mount_on_the_cache() -> None:
    for mount in ("type=tmpfs,target=/root/.cache/pip", "type=cache,dst=/root/.cache",
                  "type=cache,target=/home/app/.cache/pip,uid=1000"):  # fmt: skip
        assert lines(f"{DEBIAN}RUN --mount={mount} pip install x==1\n", RULE) == [], mount
    text = f"{DEBIAN}RUN --mount=type=secret,id=t,target=/root/.cache/pip pip install x==1\n"
    assert lines(text, RULE) == [2]
    assert lines(f"{DEBIAN}RUN --mount=type=cache,target=/root/.cache-x pip install x\n", RULE) == [
        2
    ]


def test_onbuild_run_is_checked() -> None:
    assert lines(f"{DEBIAN}ONBUILD RUN pip install x==1\n", RULE) == [2]
    ok = f"{DEBIAN}ONBUILD RUN --mount=type=cache,target=/root/.cache/pip pip install x==1\n"
    assert lines(ok, RULE) == []
