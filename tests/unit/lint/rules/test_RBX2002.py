"""RBX2002: .git in the build context."""

from pathlib import Path

from tests.unit.lint.helpers import context_findings, context_lines

RULE = "RBX2002"
DF = "FROM scratch\nENV A=1\nCOPY . /app\n"


def test_git_copied_by_copy_dot(tmp_path: Path) -> None:
    found = context_findings(tmp_path, DF, {".git/HEAD": "ref", "a.py": ""}, RULE)
    assert [f.line for f in found] == [3]
    assert "copied into the image" in found[0].message


def test_git_sent_but_not_copied(tmp_path: Path) -> None:
    df = "FROM scratch\nCOPY a.py /app/\n"
    assert context_lines(tmp_path, df, {".git/HEAD": "ref", "a.py": ""}, RULE) == [1]


def test_excluded_passes(tmp_path: Path) -> None:
    files = {".git/HEAD": "ref", "a.py": "", ".dockerignore": ".git\n"}
    assert context_lines(tmp_path, DF, files, RULE) == []
