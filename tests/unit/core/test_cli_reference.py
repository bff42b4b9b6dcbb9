"""docs/cli.md is generated from the live command tree; this keeps it from drifting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reprobox.cli.reference import render

PAGE = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert PAGE.read_text() == render(), (
        "docs/cli.md is stale: regenerate with python -m reprobox.cli.reference > docs/cli.md"
    )


def test_every_command_is_documented() -> None:
    from reprobox.cli.main import commands

    text = PAGE.read_text()
    for command in commands():
        assert f"## `reprobox {command.name}`" in text


def test_registry_names_match_the_commands() -> None:
    from reprobox.cli.main import COMMANDS, commands

    assert [c.name for c in commands()] == list(COMMANDS)


def test_the_group_imports_no_command_until_one_runs() -> None:
    code = (
        "import sys, reprobox.cli.main\n"
        "print(sorted(m for m in sys.modules if m.startswith('reprobox.cli.') "
        "or m in ('docker', 'rich', 'requests')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['reprobox.cli.main']"
