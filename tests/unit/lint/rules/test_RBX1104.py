"""RBX1104: requirements files without hashes (read from the build context)."""

from pathlib import Path

from tests.unit.lint.helpers import context_lines

RULE = "RBX1104"
DF = (
    "FROM python:3.12\nCOPY requirements.txt .\n\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n"
)


def test_requirements_without_hashes(tmp_path: Path) -> None:
    files = {"requirements.txt": "flask==3.0.3\n", ".dockerignore": ".git\n"}
    assert context_lines(tmp_path, DF, files, RULE) == [4]


def test_found_by_base_name(tmp_path: Path) -> None:
    df = (
        "FROM python:3.12\nCOPY deps/requirements.txt /tmp/\n"
        "RUN pip install -r /tmp/requirements.txt\n"
    )
    files = {"deps/requirements.txt": "flask==3.0.3\n"}
    assert context_lines(tmp_path, df, files, RULE) == [3]


def test_hashed_file_passes(tmp_path: Path) -> None:
    files = {"requirements.txt": "flask==3.0.3 \\\n    --hash=sha256:" + "0" * 64 + "\n"}
    assert context_lines(tmp_path, DF, files, RULE) == []


def test_missing_file_is_skipped(tmp_path: Path) -> None:
    assert context_lines(tmp_path, DF, {}, RULE) == []
