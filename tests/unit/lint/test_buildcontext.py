"""Build context facts: the engine's .dockerignore rules, gitignore, pruning, CI pins."""

from __future__ import annotations

from pathlib import Path

from reprobox.lint.buildcontext import (
    Kind,
    ci_python_pins,
    classify,
    gitignore_patterns,
    load_context,
)


def make(root: Path, files: dict[str, str]) -> Path:
    for relpath, content in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(content)
    return root


def test_dockerignore_applied_with_engine_rules(tmp_path: Path) -> None:
    make(tmp_path, {".dockerignore": "*\n!src\n**/*.pyc\n", "Dockerfile": "", "src/a.py": "",
                    "src/a.pyc": "", "other.txt": ""})  # fmt: skip
    context = load_context(tmp_path)
    assert context.files == {"Dockerfile", "src/a.py", ".dockerignore"}
    assert context.excluded("other.txt") and not context.excluded("src/a.py")


def test_classified_dirs_are_not_walked(tmp_path: Path) -> None:
    big = {f".venv/lib/m{i}.py": "" for i in range(50)}
    make(tmp_path, {"Dockerfile": "", **big, "node_modules/x/y.js": ""})
    context = load_context(tmp_path)
    assert not any(f.startswith(".venv/") for f in context.files)
    assert {e.relpath for e in context.entries if e.kind is Kind.VENV} == {".venv", "node_modules"}


def test_reinclusion_below_excluded_dir_is_found(tmp_path: Path) -> None:
    make(tmp_path, {".dockerignore": "build\n!build/keep.txt\n", "Dockerfile": "",
                    "build/keep.txt": "", "build/drop.txt": ""})  # fmt: skip
    files = load_context(tmp_path).files
    assert "build/keep.txt" in files and "build/drop.txt" not in files


def test_classify() -> None:
    assert classify(".env", False) is Kind.SECRET
    assert classify(".env.example", False) is None
    assert classify("a/b/key.pem", False) is Kind.SECRET
    assert classify("x/__pycache__", True) is Kind.CACHE
    assert classify(".git", True) is Kind.GIT
    assert classify("readme.md", False) is None


def test_gitignore_translation(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    make(tmp_path, {".gitignore": "# c\n*.log\n/app/state/\n/top-only\n!keep.log\n"})
    (tmp_path / "app").mkdir(exist_ok=True)
    patterns = gitignore_patterns(tmp_path / "app")
    assert "**/*.log" in patterns and "state" in patterns and "!keep.log" in patterns
    assert not any("top-only" in p for p in patterns)


def test_ci_pins(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    make(tmp_path, {".github/workflows/ci.yml": "python-version: ['3.11', '3.12']\n",
                    ".gitlab-ci.yml": "image: python:3.10-slim\n"})  # fmt: skip
    assert sorted(p.version for p in ci_python_pins(tmp_path)) == ["3.10", "3.11", "3.12"]
