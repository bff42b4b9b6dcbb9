"""RBX1105: a lockfile in the context that the install does not enforce."""

from pathlib import Path

from tests.unit.lint.helpers import context_lines

RULE = "RBX1105"


def test_uv_sync_without_locked(tmp_path: Path) -> None:
    df = "FROM python:3.12\nCOPY uv.lock pyproject.toml ./\nRUN uv sync\n"
    assert context_lines(tmp_path, df, {"uv.lock": "", "pyproject.toml": ""}, RULE) == [3]


def test_npm_install_with_lock(tmp_path: Path) -> None:
    df = "FROM node:20\nCOPY . .\nRUN npm install\nRUN yarn install\n"
    files = {"package-lock.json": "{}", "yarn.lock": ""}
    assert context_lines(tmp_path, df, files, RULE) == [3, 4]


def test_enforced_passes(tmp_path: Path) -> None:
    df = (
        "FROM node:20\nCOPY . .\nRUN uv sync --locked\nRUN npm ci\n"
        "RUN yarn install --frozen-lockfile\nRUN npm install left-pad\n"
    )
    files = {"uv.lock": "", "package-lock.json": "{}", "yarn.lock": ""}
    assert context_lines(tmp_path, df, files, RULE) == []


def test_no_lockfile_no_finding(tmp_path: Path) -> None:
    assert context_lines(tmp_path, "FROM node:20\nRUN uv sync\n", {}, RULE) == []
