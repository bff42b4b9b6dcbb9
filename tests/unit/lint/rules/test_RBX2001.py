"""RBX2001: no .dockerignore."""

from pathlib import Path

from tests.unit.lint.helpers import context_lines

RULE = "RBX2001"


def test_missing_dockerignore(tmp_path: Path) -> None:
    assert context_lines(tmp_path, "FROM scratch\nCOPY app /\n", {"app": "x"}, RULE) == [1]


def test_present_passes(tmp_path: Path) -> None:
    files = {"app": "x", ".dockerignore": "*\n!app\n"}
    assert context_lines(tmp_path, "FROM scratch\nCOPY app /\n", files, RULE) == []


def test_lone_dockerfile_passes(tmp_path: Path) -> None:
    assert context_lines(tmp_path, "FROM scratch\n", {}, RULE) == []
