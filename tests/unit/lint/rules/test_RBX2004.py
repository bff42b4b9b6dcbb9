"""RBX2004: virtualenvs, node_modules and caches in the build context."""

from pathlib import Path

from tests.unit.lint.helpers import context_findings, context_lines

RULE = "RBX2004"


def test_venv_and_pycache(tmp_path: Path) -> None:
    df = "FROM scratch\nCOPY src /app/src\n"
    files = {".venv/pyvenv.cfg": "", "src/__pycache__/a.pyc": "", "src/a.py": ""}
    found = context_findings(tmp_path, df, files, RULE)
    assert sorted(f.line for f in found) == [1, 2]  # .venv only sent; the cache copied by line 2


def test_excluded_pass(tmp_path: Path) -> None:
    files = {".venv/pyvenv.cfg": "", ".dockerignore": ".venv\n**/__pycache__\n"}
    assert context_lines(tmp_path, "FROM scratch\nCOPY . /\n", files, RULE) == []
