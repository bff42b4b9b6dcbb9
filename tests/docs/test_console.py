"""The console-block convention of the docs tests (no engine): parsing, matching, renaming."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.docs import console

BLOCK = """\
$ docker run --rm -v "$PWD/x:/src:ro" \\
    -w /src img \\
    python -c 'print(1)'
1
$ cat > f.txt <<'EOF'
$ not a prompt inside a heredoc
EOF
$ false
$ echo $?
1
"""


def test_parse_joins_continuations_and_heredocs() -> None:
    block = console.parse(BLOCK)
    assert [c.source.split("\n")[0] for c in block.commands] == [
        'docker run --rm -v "$PWD/x:/src:ro" \\',
        "cat > f.txt <<'EOF'",
        "false",
        "echo $?",
    ]
    assert block.commands[0].expected == "1"
    assert block.commands[1].source.endswith("EOF")
    assert block.commands[3].shows_exit_code
    assert block.skip_reason is None


def test_text_before_the_first_prompt_is_refused() -> None:
    with pytest.raises(ValueError, match="must start with"):
        console.parse("output\n$ true\n")


def test_skip_mark_gives_the_reason() -> None:
    block = console.parse("$ docker pull x   # not run by the docs tests: needs a registry\n")
    assert block.skip_reason == "needs a registry"


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ("a\nb", "a\nb\n", True),
        ("a\nb", "a\nb  \n\n", True),
        ("a\nb", "b\na", False),
        ("id ...", "id 1234-abcd", True),
        ("id ...", "id 1\nmore", False),
        ("...\nOK", "...\n-----\nRan 3 tests\n\nOK\n", True),
        ("...\nOK", "OK", True),
        ("x (... s)", "x (10 s)", True),
        ("x (... s)", "x (10 ms)", False),
        ("", "", True),
        ("", "something", False),
        ("a.b", "axb", False),
    ],
)
def test_matches(expected: str, actual: str, ok: bool) -> None:
    assert console.matches(expected, actual) is ok


def _run(source: str, tmp_path: Path) -> str | None:
    block = console.parse(source)
    outcomes = console.run_block(block, tmp_path, dict(os.environ), timeout=60)
    return console.check(block, outcomes)


def test_a_failing_command_needs_echo_to_show_its_code(tmp_path: Path) -> None:
    assert _run("$ false\n$ echo $?\n1\n", tmp_path) is None
    failure = _run("$ false\n$ true\n", tmp_path)
    assert failure is not None
    assert "exited 1" in failure


def test_wrong_output_is_reported_with_both_sides(tmp_path: Path) -> None:
    failure = _run("$ echo hello\nhallo\n", tmp_path)
    assert failure is not None
    assert "expected:\nhallo\ngot:\nhello" in failure


def test_stderr_output_without_newline_and_heredocs(tmp_path: Path) -> None:
    source = "$ printf 'no newline' >&2\nno newline\n$ cat <<EOF\nin\nEOF\nin\n"
    assert _run(source, tmp_path) is None


def test_renamer_renames_images_and_volumes_not_folders() -> None:
    renamer = console.Renamer(suffix="s1")
    build = renamer.command("docker build --build-arg B=x -t tasks-app tasks-app")
    assert build == "docker build --build-arg B=x -t tasks-app-docs-s1 tasks-app"
    run = renamer.command(
        'docker run --rm -v tasks-data:/data -v "$PWD/tasks-app:/src:ro" tasks-app list'
    )
    assert run == (
        'docker run --rm -v tasks-data-docs-s1:/data -v "$PWD/tasks-app:/src:ro" '
        "tasks-app-docs-s1 list"
    )
    assert renamer.command("docker volume rm tasks-data") == "docker volume rm tasks-data-docs-s1"
    assert renamer.command("reprobox build tasks-app --tag tasks-app:1") == (
        "reprobox build tasks-app --tag tasks-app-docs-s1:1"
    )
    assert renamer.command("reprobox run --image reprobox/python:3.11-bookworm -- true") == (
        "reprobox run --image reprobox/python:3.11-bookworm -- true"
    )
    assert renamer.python('Sandbox("tasks-app").run(["ls", "tasks-app"])') == (
        'Sandbox("tasks-app-docs-s1").run(["ls", "tasks-app"])'
    )
    assert renamer.restore("Successfully tagged tasks-app-docs-s1:latest") == (
        "Successfully tagged tasks-app:latest"
    )
