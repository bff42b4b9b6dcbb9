"""RBX3001: the image runs as root."""

from tests.unit.lint.helpers import lines

RULE = "RBX3001"


def test_no_user_reports_final_from() -> None:
    assert lines("FROM python:3.12 AS b\nUSER app\nFROM python:3.12\nCMD x\n", RULE) == [3]


def test_root_last() -> None:
    assert lines("FROM python:3.12\nUSER app\nRUN x\nUSER root\n", RULE) == [4]
    assert lines("FROM python:3.12\nUSER 0:0\n", RULE) == [2]


def test_passing() -> None:
    assert lines("FROM python:3.12\nUSER root\nRUN x\nUSER 10001:10001\n", RULE) == []
    assert lines("FROM python:3.12 AS base\nUSER app\nFROM base\nCMD x\n", RULE) == []
