"""The ``reprobox-lint`` pre-commit hook, through ``pre-commit try-repo`` as a user tries it.

pre-commit builds the hook's virtualenv from this repository (``pip install .``, which needs
PyPI). Both tests name the same revision (``git stash create`` when the checkout has local
changes, as try-repo's own shadow repository would hold), so the environment is built once, in
a private ``PRE_COMMIT_HOME``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

BAD = "FROM python:3.12\nRUN pip install flask\n"
CLEAN = "FROM scratch\nUSER 1\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def rev() -> str:
    """This checkout as one commit: HEAD, or HEAD plus its local changes to tracked files."""
    git = ["git", "-C", str(ROOT)]
    stash = subprocess.run([*git, "stash", "create"], capture_output=True, text=True, check=True)
    if stash.stdout.strip():
        return stash.stdout.strip()
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def repo(root: Path, files: dict[str, str]) -> Path:
    """A throwaway git repository with ``files`` staged (what ``--all-files`` sees)."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def try_repo(project: Path, home: Path, rev: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "reprobox-lint"]
    argv += ["--ref", rev]
    return subprocess.run(
        [*argv, "--all-files", "--verbose", "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )


def test_bad_dockerfile_fails_with_its_rule_ids(tmp_path: Path, home: Path, rev: str) -> None:
    project = repo(tmp_path, {"Dockerfile": BAD, ".dockerignore": ".git\n", "README.md": "x"})
    done = try_repo(project, home, rev)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "reprobox lint" in done.stdout and "Failed" in done.stdout
    for finding in ("Dockerfile:1  WARNING  RBX1102", "Dockerfile:2  WARNING  RBX1103"):
        assert finding in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_clean_dockerfiles_pass(tmp_path: Path, home: Path, rev: str) -> None:
    files = {
        "Dockerfile": CLEAN,
        "svc/api.Dockerfile": CLEAN,  # its build context is svc/
        "svc/.dockerignore": "*.md\n",
        "svc/api.Dockerfile.dockerignore": "*.md\n",  # an ignore file, not a Dockerfile
        ".dockerignore": ".git\n",
        "notes.md": "FROM python:3.12\n",  # not a Dockerfile: never passed to the hook
    }
    done = try_repo(repo(tmp_path, files), home, rev)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reprobox lint" in done.stdout and "Passed" in done.stdout
    # Both Dockerfiles were linted; the ignore file and the notes were not passed.
    assert "2 files, no findings" in done.stdout
