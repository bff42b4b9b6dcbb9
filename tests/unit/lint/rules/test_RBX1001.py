"""RBX1001: a rule that raises becomes a finding, not a traceback."""

from collections.abc import Iterator

import pytest

from reprobox.lint import lint_text
from reprobox.lint.rules import RBX1101
from reprobox.lint.rules.interface import Finding

RULE = "RBX1001"


def test_a_failing_rule_is_reported_at_line_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: object, dockerfile: object, context: object) -> Iterator[Finding]:
        raise RuntimeError("kaput")

    monkeypatch.setattr(RBX1101.MovingBaseImage, "check", boom)
    report = lint_text("FROM python\n")
    internal = [f for f in report.findings if f.rule_id == RULE]
    assert [f.line for f in internal] == [1]
    assert "RBX1101" in internal[0].message and "kaput" in internal[0].message


def test_no_internal_error_normally() -> None:
    assert not [f for f in lint_text("FROM python\n").findings if f.rule_id == RULE]
