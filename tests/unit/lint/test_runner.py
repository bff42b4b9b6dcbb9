"""Discovery, exit decisions and error handling of the lint runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobox import errors
from reprobox.lint import LintOptions, Severity, lint_text
from reprobox.lint.runner import discover, is_dockerfile


def test_is_dockerfile() -> None:
    for name in ("Dockerfile", "dockerfile", "Containerfile", "Dockerfile.dev", "api.Dockerfile"):
        assert is_dockerfile(name)
    for name in ("README.md", ".dockerignore", "docker-compose.yml"):
        assert not is_dockerfile(name)


def test_discover_folder_and_tree(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "a" / "b" / "Dockerfile.dev").write_text("FROM scratch\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "Dockerfile").write_text("FROM scratch\n")
    assert discover([tmp_path], recursive=False) == [tmp_path / "Dockerfile"]
    assert len(discover([tmp_path], recursive=True)) == 2


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError):
        discover([tmp_path / "nope"], recursive=False)
    with pytest.raises(errors.UsageError):
        discover([tmp_path], recursive=False)


def test_unreadable_file_could_not_run(tmp_path: Path) -> None:
    from reprobox.lint.runner import _parse

    with pytest.raises(errors.LintError):
        _parse(tmp_path, "Dockerfile")  # a folder cannot be read as a file


def test_fail_on_thresholds() -> None:
    text = "FROM python:3.12\nUSER 1\n"  # one warning (RBX1102)
    assert lint_text(text).failed
    assert not lint_text(text, options=LintOptions(fail_on=Severity.ERROR)).failed
    assert lint_text(text, options=LintOptions(fail_on=Severity.INFO)).failed


def test_ignore_option() -> None:
    report = lint_text("FROM python:3.12\n", options=LintOptions(ignore=frozenset({"rbx1102"})))
    assert "RBX1102" not in {f.rule_id for f in report.findings}


def test_findings_are_sorted_by_line() -> None:
    report = lint_text("FROM python\nRUN sudo x\nRUN curl x | sh\n")
    assert [f.line for f in report.findings] == sorted(f.line for f in report.findings)
