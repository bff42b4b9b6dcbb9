"""The CLI layer of build, verify and test: option parsing fails before any engine is used."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reprobox.cli.main import cli, commands


@pytest.mark.parametrize("command", ["build", "verify", "test"])
def test_a_build_arg_without_equals_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = CliRunner().invoke(
        cli, ["--host", "unix:///nonexistent.sock", command, str(tmp_path), "--build-arg", "X"]
    )
    assert result.exit_code == 2
    assert "is not K=V" in result.output


def test_unknown_backend_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(tmp_path), "--backend", "kaniko"])
    assert result.exit_code == 2


def test_commands_are_registered() -> None:
    assert {"build", "verify", "test"} <= {command.name for command in commands()}
