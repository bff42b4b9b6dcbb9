"""docs/cli.md is generated from the live command tree; this keeps it from drifting."""

from __future__ import annotations

from pathlib import Path

from reprobox.cli.reference import render

PAGE = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert PAGE.read_text() == render(), (
        "docs/cli.md is stale: regenerate with python -m reprobox.cli.reference > docs/cli.md"
    )


def test_every_command_is_documented() -> None:
    from reprobox.cli.main import COMMANDS

    text = PAGE.read_text()
    for command in COMMANDS:
        assert f"## `reprobox {command.name}`" in text
