"""RBX2006: COPY of a path that .dockerignore excludes."""

from pathlib import Path

from tests.unit.lint.helpers import context_lines

RULE = "RBX2006"


def test_excluded_source(tmp_path: Path) -> None:
    df = "FROM scratch\nCOPY app.py \\\n     requirements.lock /app/\n"
    files = {".dockerignore": "*.lock\n", "requirements.lock": "", "app.py": ""}
    assert context_lines(tmp_path, df, files, RULE) == [3]


def test_excluded_folder(tmp_path: Path) -> None:
    df = "FROM scratch\nCOPY ./docs/ /docs/\n"
    assert context_lines(tmp_path, df, {".dockerignore": "docs\n", "docs/a": ""}, RULE) == [2]


def test_reincluded_and_other_stages_pass(tmp_path: Path) -> None:
    df = "FROM scratch\nCOPY requirements.lock /\nCOPY --from=build /x.lock /\nCOPY *.lock /\n"
    files = {".dockerignore": "*.lock\n!requirements.lock\n", "requirements.lock": ""}
    assert context_lines(tmp_path, df, files, RULE) == []
