"""Quote removal, escapes and variable expansion as the builder applies them to FROM and ARG."""

from __future__ import annotations

import pytest

from reprobox.dockerfile import expand

VALUES = {"A": "x", "E": ""}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$A/${A}", "x/x"),
        ("${B:-d}", "d"),
        ("${E:-d}", "d"),
        ("${A:-d}", "x"),
        ("${B-d}", "d"),
        ("${E-d}", ""),
        ("${A:+y}", "y"),
        ("${E:+y}", ""),
        ("${B:+y}", ""),
        ("${E+y}", "y"),
        ("${B+y}", ""),
        ("${B:-${A}-z}", "x-z"),
    ],
)
def test_variable_forms(word: str, expected: str) -> None:
    assert expand(word, VALUES) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ('"reprobox/python:3.11-bookworm"', "reprobox/python:3.11-bookworm"),
        ("'a $A'", "a $A"),
        ('"a $A"', "a x"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("\\$A", "$A"),
        ('pre"mid"post', "premidpost"),
        ('"unterminated $A', '"unterminated x'),
        ("'unterminated", "'unterminated"),
        ("trailing\\", "trailing\\"),
        ('"\\a"', "\\a"),
    ],
)
def test_quotes_and_escapes(word: str, expected: str) -> None:
    assert expand(word, VALUES) == expected


@pytest.mark.parametrize("word", ["$B", "${B}", "${A#x}", "${A?err}", "${"])
def test_unknown_is_kept_as_written(word: str) -> None:
    assert expand(word, VALUES) == word


def test_backtick_escape() -> None:
    assert expand("`$A", VALUES, escape="`") == "$A"
    assert expand("\\$A", VALUES, escape="`") == "\\x"
