"""--hadolint: run hadolint once and merge its findings with their own IDs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.lint import LintOptions, OutputFormat, hadolint, lint_paths, render
from reprobox.lint.rules.interface import Category


def _installed() -> bool:
    try:
        hadolint.binary()
    except errors.ToolMissing:
        return False
    return True


HADOLINT = _installed()


@pytest.mark.skipif(not HADOLINT, reason="hadolint (reprobox[hadolint]) not installed")
def test_findings_are_merged(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12\nRUN apt-get install -y curl\n")
    report = lint_paths([path], LintOptions(hadolint=True))
    theirs = [f for f in report.findings if f.category is Category.HADOLINT]
    assert {"DL3008", "DL3015"} <= {f.rule_id for f in theirs}
    assert all(f.line == 2 for f in theirs if f.rule_id == "DL3008")
    sarif = render(report, OutputFormat.SARIF)
    assert "https://github.com/hadolint/hadolint/wiki/DL3008" in sarif


def test_missing_binary_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM scratch\n")
    monkeypatch.setattr(shutil, "which", lambda name, path=None: None)
    with pytest.raises(errors.ToolMissing) as raised:
        lint_paths([path], LintOptions(hadolint=True))
    assert "reprobox[hadolint]" in (raised.value.hint or "")
