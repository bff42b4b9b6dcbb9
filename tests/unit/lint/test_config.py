"""[tool.reprobox.lint] in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobox import errors
from reprobox.lint import LintConfig, LintOptions, Severity, find_pyproject, lint_text, load_config


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(body)
    return path


def test_defaults_without_file() -> None:
    config = load_config(None)
    assert config.fail_on is Severity.WARNING and not config.ignore


def test_table_is_applied(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[tool.reprobox.lint]\nignore = ["rbx3001"]\nfail-on = "error"\n'
        'severity = { RBX1102 = "info" }\n',
    )
    config = load_config(path)
    report = lint_text("FROM python:3.12\n", options=LintOptions(config=config))
    assert [(f.rule_id, f.severity) for f in report.findings] == [("RBX1102", Severity.INFO)]
    assert not report.failed


@pytest.mark.parametrize(
    "body",
    ['[tool.reprobox.lint]\nfail-on = "fatal"\n', "[tool.reprobox.lint]\nnope = 1\n",
     '[tool.reprobox.lint]\nignore = "RBX1"\n', "[tool.reprobox.lint]\nnot toml ["],
)  # fmt: skip
def test_bad_config_is_a_usage_error(tmp_path: Path, body: str) -> None:
    with pytest.raises(errors.LintConfigError):
        load_config(write(tmp_path, body))


def test_find_pyproject_walks_up(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_pyproject(tmp_path / "a" / "b") == path


def test_a_pyproject_without_reprobox_is_not_read(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[tool.black]\nnot toml [")) == LintConfig()


@pytest.mark.parametrize(
    "body",
    ['[tool.reprobox.lint]\nfail-on = "error"\n',
     '[ tool . "reprobox" . lint ]\nfail-on = "error"\n',
     '[tool]\nreprobox.lint.fail-on = "error"\n',
     '[tool]\nreprobox = { lint = { fail-on = "error" } }\n',
     'tool.reprobox.lint.fail-on = "error"\n'],
)  # fmt: skip
def test_every_spelling_of_the_table_is_read(tmp_path: Path, body: str) -> None:
    assert load_config(write(tmp_path, body)).fail_on is Severity.ERROR
