"""RBX4003: pip cache left in the layer."""

from tests.unit.lint.helpers import lines

RULE = "RBX4003"


def test_pip_cache() -> None:
    assert lines("FROM python:3.12\nRUN pip install -r r.txt\n", RULE) == [2]


def test_passing() -> None:
    assert lines("FROM python:3.12\nRUN pip install --no-cache-dir -r r.txt\n", RULE) == []
    assert lines("FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r r.txt\n", RULE) == []
    text = "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r r\n"
    assert lines(text, RULE) == []
