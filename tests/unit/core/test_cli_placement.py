"""Misplaced arguments are caught while parsing, with the command line that was meant."""

from __future__ import annotations

from click.testing import CliRunner

from reprobox.cli.main import cli
from tests.conftest import TASKS_APP

NO_ENGINE = ["--host", "unix:///nonexistent.sock"]


def test_run_options_after_the_command_are_refused_with_the_meant_line() -> None:
    result = CliRunner().invoke(
        cli, [*NO_ENGINE, "run", "python3", "-c", "print(1)", "--image", "img", "--json"]
    )
    assert result.exit_code == 2
    assert (
        "Error: --image comes after the command, so it would be passed to it: put reprobox's "
        "options first: cli run --image img --json -- python3 -c 'print(1)'"
    ) in result.output
    assert "default image" not in result.output and "Traceback" not in result.output


def test_run_options_after_dashdash_belong_to_the_command() -> None:
    result = CliRunner().invoke(
        cli, [*NO_ENGINE, "run", "--image", "img", "--explain", "--", "echo", "--image", "x"]
    )
    assert result.exit_code == 0, result.output


def test_run_options_before_the_command_are_fine() -> None:
    result = CliRunner().invoke(
        cli, [*NO_ENGINE, "run", "--image", "img", "--explain", "echo", "-c", "--x"]
    )
    assert result.exit_code == 0, result.output


def test_test_without_a_folder_before_dashdash_says_so() -> None:
    result = CliRunner().invoke(cli, [*NO_ENGINE, "test", "--", "python", "-c", "print(1)"])
    assert result.exit_code == 2
    assert (
        "Error: no folder before --, so 'python' would be read as the folder: name it first: "
        "cli test . -- python -c 'print(1)'"
    ) in result.output
    assert "does not exist" not in result.output


def test_test_with_a_folder_before_dashdash_parses() -> None:
    result = CliRunner().invoke(
        cli, [*NO_ENGINE, "test", "--image", "img", str(TASKS_APP), "--", "python", "-V"]
    )
    assert "no folder before" not in result.output
    assert result.exit_code == 3, result.output  # the engine is not there: parsing passed
