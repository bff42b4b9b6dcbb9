"""RBX1109: bytecode compiled without SOURCE_DATE_EPOCH."""

from tests.unit.lint.helpers import lines

RULE = "RBX1109"


def test_compileall() -> None:
    assert lines("FROM python:3.12\nCOPY . /app\nRUN python -m compileall /app\n", RULE) == [3]


def test_pip_compile_flag() -> None:
    assert lines("FROM python:3.12\nRUN pip install --compile x==1\n", RULE) == [2]


def test_passing() -> None:
    assert (
        lines("FROM python:3.12\nENV SOURCE_DATE_EPOCH=0\nRUN python -m compileall /app\n", RULE)
        == []
    )
    assert (
        lines("FROM python:3.12\nARG SOURCE_DATE_EPOCH\nRUN python3 -m compileall .\n", RULE) == []
    )
    assert lines("FROM python:3.12\nRUN SOURCE_DATE_EPOCH=0 python -m compileall .\n", RULE) == []
    text = "FROM python:3.12\nRUN python -m compileall --invalidation-mode checked-hash .\n"
    assert lines(text, RULE) == []


def test_epoch_set_in_a_parent_stage() -> None:
    text = (
        "FROM python:3.12 AS base\nENV SOURCE_DATE_EPOCH=0\nFROM base\nRUN python -m compileall .\n"
    )
    assert lines(text, RULE) == []
