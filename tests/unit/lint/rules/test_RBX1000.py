"""RBX1000: parse errors are findings with a line, never a crash."""

from pathlib import Path

from tests.unit.lint.helpers import context_findings, lines

RULE = "RBX1000"


def test_unterminated_heredoc_reports_where_it_starts() -> None:
    text = "FROM python:3.12-slim\nRUN echo ok\nRUN <<EOF\necho never closed\nmore\n"
    assert lines(text, RULE) == [3]


def test_env_without_value_reports_its_line() -> None:
    assert lines("FROM python:3.12-slim\nUSER 1\nENV A\nUSER 2\n", RULE) == [3]


def test_unknown_instruction_reports_its_line() -> None:
    assert lines("FROM python:3.12-slim\n\nFROB x\n", RULE) == [3]


def test_instruction_before_from_reports_its_line() -> None:
    assert lines("# c\nRUN echo\nFROM python:3.12-slim\n", RULE) == [2]


def test_empty_file() -> None:
    assert lines("", RULE) == [1]


def test_bad_dockerignore_pattern_is_a_finding(tmp_path: Path) -> None:
    files = {".dockerignore": "[z-a]\n", "a": ""}
    found = context_findings(tmp_path, "FROM scratch\nUSER 1\n", files, RULE)
    assert [f.line for f in found] == [1]
    assert ".dockerignore" in found[0].message and "bad character range" in found[0].message


def test_valid_file_passes() -> None:
    assert lines("ARG V=3.12\nFROM python:${V}-slim\nRUN <<EOF\necho ok\nEOF\n", RULE) == []
