"""Splitting RUN shell text into simple commands."""

from __future__ import annotations

from reprobox.dockerfile.shell import ShellCommand, split_commands, split_script


def words(text: str) -> list[tuple[str, ...]]:
    return [c.words for c in split_commands(text)]


def test_operators_split_commands() -> None:
    assert words("a && b || c; d | e & f") == [("a",), ("b",), ("c",), ("d",), ("e",), ("f",)]


def test_quotes_are_removed_and_keep_operators() -> None:
    assert words("echo 'a && b' \"c;d\" e\\ f") == [("echo", "a && b", "c;d", "e f")]


def test_redirections_are_words() -> None:
    assert words("x >/dev/null 2>&1 || true") == [("x", ">/dev/null", "2>&1"), ("true",)]


def test_pipes_are_marked() -> None:
    commands = split_commands("curl x | sh")
    assert [c.piped for c in commands] == [True, False]


def test_unclosed_quote_does_not_raise() -> None:
    assert words('echo "open') == [("echo", '"', "open")]


def test_program_skips_assignments_and_wrappers() -> None:
    command = ShellCommand(("A=1", "sudo", "-E", "/usr/bin/pip", "install", "x"))
    assert command.program == "pip"
    assert command.args == ("install", "x")


def test_heredoc_script_lines() -> None:
    script = "# comment\napt-get update\npip install \\\n  x\n"
    assert [c.words for c in split_script(script)] == [
        ("apt-get", "update"),
        ("pip", "install", "x"),
    ]
