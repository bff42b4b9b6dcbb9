"""``--tag`` is read as ``docker build -t`` reads it, and checked before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reprobox import errors
from reprobox.cli.main import cli
from reprobox.images import image_tag


@pytest.mark.parametrize(
    ("ref", "full"),
    [
        ("my-tasks-app", "my-tasks-app:latest"),
        ("tasks-app:1.0", "tasks-app:1.0"),
        ("a_b.c__d", "a_b.c__d:latest"),
        ("localhost:5000/team/app", "localhost:5000/team/app:latest"),
        ("registry.example:5000/app:v2.1-rc_1", "registry.example:5000/app:v2.1-rc_1"),
    ],
)
def test_a_tag_without_version_means_latest(ref: str, full: str) -> None:
    assert image_tag(ref) == full


@pytest.mark.parametrize(
    "ref", ["", "Upper", "a:b:c", "x@sha256:00", ":x", "a//b", "a___b", "-a", "a:" + "t" * 129]
)
def test_tags_the_engine_refuses_are_usage_errors(ref: str) -> None:
    with pytest.raises(errors.UsageError, match="invalid tag"):
        image_tag(ref)


def test_build_rejects_a_bad_tag_before_touching_the_engine(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = CliRunner().invoke(
        cli, ["--host", "unix:///nonexistent.sock", "build", str(tmp_path), "--tag", "Bad:Tag:x"]
    )
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == (
        "error: invalid tag 'Bad:Tag:x': expected NAME[:TAG] (lower-case NAME, e.g. my-app:1.0)"
    )
    assert "Traceback" not in result.output
