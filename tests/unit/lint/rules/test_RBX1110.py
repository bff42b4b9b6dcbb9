"""RBX1110: the Python version in FROM disagrees with the one CI pins."""

from pathlib import Path

from tests.unit.lint.helpers import context_lines

RULE = "RBX1110"
WORKFLOW = (
    "jobs:\n  t:\n    steps:\n      - uses: actions/setup-python@v5\n"
    "        with:\n          python-version: '3.12'\n"
)


def _repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    return tmp_path / "app"


def test_disagreeing_version(tmp_path: Path) -> None:
    df = "FROM python:3.12 AS build\n\nFROM python:3.11-slim\n"
    assert context_lines(_repo(tmp_path), df, {}, RULE) == [3]


def test_gitlab_image(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitlab-ci.yml").write_text("image: python:3.10\n")
    assert context_lines(tmp_path / "app", "FROM python:3.12\n", {}, RULE) == [1]


def test_passing(tmp_path: Path) -> None:
    assert context_lines(_repo(tmp_path), "FROM python:3.12.4-slim\n", {}, RULE) == []


def test_no_ci_no_finding(tmp_path: Path) -> None:
    assert context_lines(tmp_path, "FROM python:3.9\n", {}, RULE) == []
