"""Build context facts: the engine's .dockerignore rules, gitignore, pruning, CI pins."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.lint import buildcontext as context_module
from reprobox.lint.buildcontext import Kind, ci_python_pins, classify, load_context
from reprobox.lint.gitignore import clear_caches


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


def gitignored(root: Path) -> set[str]:
    clear_caches()
    return {e.relpath for e in load_context(root).entries if e.kind is Kind.GITIGNORED}


def git_says(repo: Path, context: Path) -> set[str]:
    """What git itself reports as ignored below ``context`` (the oracle for these tests)."""
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "--others", "--ignored", "--exclude-standard"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    prefix = context.relative_to(repo).as_posix()
    cut = len(prefix) + 1 if prefix != "." else 0
    return {p[cut:] for p in out if prefix == "." or p.startswith(prefix + "/")}


GIT_CASES = {
    ".gitignore": "# comment\n*.log\n!keep.log\n/top-only\nbuild/\napp/state/\ndoc\\#1\n",
    "app/.gitignore": "*.tmp\n!important.log\nsub/\n",
    "app/Dockerfile": "", "app/x.log": "", "app/keep.log": "", "app/important.log": "",
    "app/state/db": "", "app/top-only": "", "app/build": "", "app/out/build/y": "",
    "app/a.tmp": "", "app/sub/z.py": "", "app/deep/.gitignore": "!*.tmp\n", "app/deep/b.tmp": "",
    "app/deep/build/keep.log": "", "app/doc#1": "", "app/ok.py": "",
}  # fmt: skip


def test_gitignore_follows_git_exactly(tmp_path: Path) -> None:
    """Nested files, negation, anchored and directory-only patterns, escapes: as git says."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    make(tmp_path, GIT_CASES)
    (tmp_path / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("ok.py\n")
    expected = git_says(tmp_path, tmp_path / "app")
    assert "build" not in expected and "out/build/y" in expected  # "build/" is folders only
    assert gitignored(tmp_path / "app") == expected


def test_context_inside_an_ignored_folder(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    make(tmp_path, {".gitignore": "generated/\n", "generated/ctx/Dockerfile": "",
                    "generated/ctx/a.py": ""})  # fmt: skip
    assert gitignored(tmp_path / "generated" / "ctx") == {"Dockerfile", "a.py"}


def test_whole_context_is_walked(tmp_path: Path) -> None:
    """A secret is found wherever the walk meets it, not only in the first folders."""
    for d in range(30):
        make(tmp_path, {f"data/d{d:02}/f{i}.txt": "" for i in range(5)})
    make(tmp_path, {"Dockerfile": "", "data/d00/.env": "", "data/d29/.env": ""})
    secrets = {e.relpath for e in load_context(tmp_path).entries if e.kind is Kind.SECRET}
    assert secrets == {"data/d00/.env", "data/d29/.env"}


def test_context_past_the_bound_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_module, "WALK_LIMIT", 20)
    make(tmp_path, {"Dockerfile": "", **{f"d/f{i}": "" for i in range(25)}})
    with pytest.raises(errors.ContextTooLarge, match="more than 20 entries"):
        load_context(tmp_path)
    make(tmp_path, {".dockerignore": "d\n"})
    assert len(load_context(tmp_path).files) == 2  # excluded folders do not count


def test_ci_pins(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    make(tmp_path, {".github/workflows/ci.yml": "python-version: ['3.11', '3.12']\n",
                    ".gitlab-ci.yml": "image: python:3.10-slim\n"})  # fmt: skip
    assert sorted(p.version for p in ci_python_pins(tmp_path)) == ["3.10", "3.11", "3.12"]
