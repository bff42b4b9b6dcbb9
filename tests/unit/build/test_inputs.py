"""Build inputs: the source date, git facts, and the normalized context tarball."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.build.inputs import resolve_inputs, source_url, write_context

DATE = "2024-05-01T12:00:00Z"
EPOCH = 1714564800


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": DATE, "GIT_COMMITTER_DATE": DATE,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text("FROM x\n")
    (root / "app" / "run.sh").write_text("#!/bin/sh\n")
    (root / "app" / "run.sh").chmod(0o700)
    (root / "app" / "data.txt").write_text("d\n")
    (root / "app" / "data.txt").chmod(0o600)
    _git(root, "init", "-q")
    _git(root, "remote", "add", "origin", "https://user:secret@example.invalid/r.git")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "x")
    (root / "app" / "untracked.txt").write_text("u\n")
    (root / "app" / "untracked.txt").chmod(0o600)
    return root / "app"


def test_git_facts_and_source_date(repo: Path) -> None:
    inputs = resolve_inputs(repo, environ={})
    assert (inputs.source_date_epoch, inputs.sde_origin) == (EPOCH, "last git commit")
    assert inputs.source == ""  # an https remote with credentials never reaches the image
    assert inputs.repo_subdir == "app"
    assert inputs.labels()["org.opencontainers.image.created"] == DATE
    assert len(inputs.labels()["org.opencontainers.image.revision"]) == 40


def test_environment_wins_and_must_be_a_number(repo: Path) -> None:
    assert resolve_inputs(repo, environ={"SOURCE_DATE_EPOCH": "42"}).source_date_epoch == 42
    with pytest.raises(errors.UsageError):
        resolve_inputs(repo, environ={"SOURCE_DATE_EPOCH": "yesterday"})


def test_outside_git_the_date_is_zero(tmp_path: Path) -> None:
    inputs = resolve_inputs(tmp_path, environ={})
    assert inputs.source_date_epoch == 0 and inputs.revision == ""
    assert list(inputs.labels()) == ["org.opencontainers.image.created"]


def test_context_gets_git_modes_and_one_mtime(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "context.tar"
    write_context(repo, resolve_inputs(repo, environ={}), "Dockerfile", target)
    with tarfile.open(target) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["run.sh"].mode == 0o755
    assert members["data.txt"].mode == 0o644
    assert members["untracked.txt"].mode == 0o600  # not in git: the disk mode stays
    assert {m.mtime for m in members.values()} == {EPOCH}
    assert {(m.uid, m.gid, m.uname) for m in members.values()} == {(0, 0, "")}


@pytest.mark.parametrize(
    ("remote", "label"),
    [
        ("https://example.invalid/org/r.git", "https://example.invalid/org/r.git"),
        ("HTTPS://Example.invalid:8443/r.git", "https://example.invalid:8443/r.git"),
        ("https://example.invalid/r.git?token=x#frag", "https://example.invalid/r.git"),
        ("ssh://git@example.invalid:2222/org/r.git", "ssh://example.invalid:2222/org/r.git"),
        ("git@example.invalid:org/r.git", "ssh://example.invalid/org/r.git"),
        ("example.invalid:org/r.git", "ssh://example.invalid/org/r.git"),
        ("git://example.invalid/r.git", "git://example.invalid/r.git"),
        ("git+ssh://example.invalid/r.git", "git+ssh://example.invalid/r.git"),
        ("ssh://[::1]/r.git", "ssh://[::1]/r.git"),
    ],
)
def test_network_urls_become_the_source_without_userinfo(remote: str, label: str) -> None:
    assert source_url(remote) == label


@pytest.mark.parametrize(
    "remote",
    [
        "/home/me/src/origin",
        "../origin",
        "./origin.git",
        "origin",
        "~/src/origin",
        "file:///home/me/src/origin",
        "https://user:token@example.invalid/r.git",
        "https://ghp_token@example.invalid/r.git",
        "https://user:p@ss@example.invalid/r.git",
        "ssh://git:secret@example.invalid/r.git",
        "http://example.invalid/r.git",
        "ftp://example.invalid/r.git",
        "https:///no-host",
        "https://example.invalid:notaport/r.git",
        "",
    ],
)
def test_local_paths_and_credentials_never_become_the_source(remote: str) -> None:
    assert source_url(remote) == ""
