"""Inline and file-level suppressions."""

from __future__ import annotations

from reprobox.lint import lint_text


def ids(text: str) -> list[tuple[str, int]]:
    return [(f.rule_id, f.line) for f in lint_text(text).findings]


def test_inline_pragma_silences_the_next_instruction_only() -> None:
    text = (
        "# reprobox: ignore=RBX1102,RBX3001 (mirror has no digests)\n"
        "FROM python:3.12\n"
        "FROM debian:12\n"
        "USER 1000\n"
    )
    assert ids(text) == [("RBX1102", 3)]
    assert lint_text(text).suppressed == 1


def test_pragma_covers_continuation_lines() -> None:
    text = (
        "FROM python:3.12@sha256:" + "a" * 64 + "\nUSER 1\n"
        "# reprobox: ignore=RBX1103 (pinned by constraints)\n"
        "RUN pip install --no-cache-dir \\\n    httpx\n"
    )
    assert ids(text) == []


def test_file_pragma() -> None:
    text = "FROM python:3.12\n# reprobox: ignore-file=RBX1102, RBX3001\n"
    assert ids(text) == []


def test_malformed_pragma_is_ignored() -> None:
    assert ("RBX1102", 2) in ids("# reprobox: ignor=RBX1102\nFROM python:3.12\n")
