"""RBX2005: files that .gitignore ignores reach the build context."""

from pathlib import Path

from tests.unit.lint.helpers import context_findings, context_lines

RULE = "RBX2005"
DF = "FROM scratch\nCOPY . /app\n"


def test_runtime_state(tmp_path: Path) -> None:
    files = {".gitignore": "tasks.json\n/build/\n", "tasks.json": "[]", "build/x": "", "a.py": ""}
    found = context_findings(tmp_path, DF, files, RULE)
    assert [f.line for f in found] == [2]
    assert "tasks.json" in found[0].message and "build/x" in found[0].message


def test_parent_gitignore_applies(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.log\napp/state/\n")
    files = {"x.log": "", "state/db": "", "ok.py": ""}
    found = context_findings(tmp_path / "app", DF, files, RULE)
    assert "x.log" in found[0].message and "state/db" in found[0].message


def test_excluded_passes(tmp_path: Path) -> None:
    files = {".gitignore": "tasks.json\n", "tasks.json": "[]", ".dockerignore": "tasks.json\n"}
    assert context_lines(tmp_path, DF, files, RULE) == []
