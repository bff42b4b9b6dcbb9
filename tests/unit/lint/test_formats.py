"""Text, JSON and SARIF output: pure functions of the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reprobox.lint import OutputFormat, lint_text, render
from reprobox.lint.report import LintReport
from tests.conftest import SHARED

SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
TEXT = "FROM python:3.12\nRUN pip install flask\n"


@pytest.fixture
def report() -> LintReport:
    return lint_text(TEXT, path="app/Dockerfile")


def test_text_groups_by_file_with_source_and_fix(report: LintReport) -> None:
    out = render(report, OutputFormat.TEXT)
    assert out.startswith("app/Dockerfile\n")
    assert "app/Dockerfile:2  WARNING  RBX1103  unpinned: flask" in out
    assert "    | RUN pip install flask" in out
    assert "    fix: pin exact versions" in out
    assert out.rstrip().endswith("FAIL at --fail-on warning")


def test_text_clean() -> None:
    out = render(lint_text("FROM scratch\nUSER 1\n"), OutputFormat.TEXT)
    assert out == "1 file, no findings; ok at --fail-on warning\n"


def test_json_document(report: LintReport) -> None:
    doc = json.loads(render(report, OutputFormat.JSON))
    assert doc["schema_version"] == 1
    assert doc["tool"]["name"] == "reprobox"
    assert doc["files"] == ["app/Dockerfile"]
    first = next(f for f in doc["findings"] if f["rule_id"] == "RBX1103")
    assert first["line"] == 2 and first["severity"] == "warning"
    assert first["help_uri"].endswith("docs/rules/RBX1103.md")
    assert doc["summary"]["failed"] is True
    assert doc["summary"]["findings"] == len(doc["findings"])


def test_sarif_has_rules_and_results(report: LintReport) -> None:
    doc = json.loads(render(report, OutputFormat.SARIF))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert all(r["helpUri"].startswith("https://") for r in rules)
    result = next(r for r in run["results"] if r["ruleId"] == "RBX1103")
    assert rules[result["ruleIndex"]]["id"] == "RBX1103"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/Dockerfile"
    assert location["region"]["startLine"] == 2


@pytest.mark.skipif(not SARIF_SCHEMA.exists(), reason="shared SARIF schema not available")
@pytest.mark.parametrize("text", [TEXT, "FROM scratch\nUSER 1\n", "FROM x\nRUN <<EOF\n"])
def test_sarif_validates_against_the_schema(text: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(Path(SARIF_SCHEMA).read_text(encoding="utf-8"))
    doc = json.loads(render(lint_text(text), OutputFormat.SARIF))
    jsonschema.validate(doc, schema)


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_renders(fmt: OutputFormat, report: LintReport) -> None:
    assert render(report, fmt).endswith("\n")
