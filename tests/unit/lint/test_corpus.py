"""The shared corpus of 268 real Dockerfiles: linted in one process without a crash."""

from __future__ import annotations

import pytest

from reprobox.lint import LintOptions, lint_paths
from tests.conftest import SHARED, TASKS_APP

CORPUS = SHARED / "corpus" / "dockerfiles"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not available")
def test_whole_corpus_in_one_process() -> None:
    report = lint_paths([CORPUS], LintOptions(recursive=True))
    assert len(report.files) == 268
    assert not [f for f in report.findings if f.rule_id == "RBX1001"]
    linted = {f.path for f in report.findings}
    assert linted <= set(report.files)
    assert len(linted) > 200  # almost every real Dockerfile has something to say


@pytest.mark.skipif(not (TASKS_APP / "Dockerfile").is_file(), reason="tasks-app not present")
def test_tasks_app_has_no_warning_or_error() -> None:
    report = lint_paths([TASKS_APP / "Dockerfile"], LintOptions())
    serious = [f for f in report.findings if f.severity.value in ("error", "warning")]
    assert serious == []
