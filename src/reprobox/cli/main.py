"""The ``reprobox`` command group. Each command lives in its own module of this package.

Commands load lazily: :data:`COMMANDS` maps each name to ``"module:attribute"`` (an explicit
registry, never a directory scan), and a command's module is imported only when that command
runs, so ``reprobox run`` does not pay for the build, lint and base commands' imports.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

from reprobox import __version__

COMMANDS: dict[str, str] = {
    "doctor": "reprobox.cli.doctor:doctor",
    "base": "reprobox.cli.base:base",
    "build": "reprobox.cli.build:build_cmd",
    "verify": "reprobox.cli.build:verify_cmd",
    "test": "reprobox.cli.build:test_cmd",
    "lint": "reprobox.cli.lint:lint",
    "rules": "reprobox.cli.lint:rules",
    "pin": "reprobox.cli.pin:pin",
    "run": "reprobox.cli.run:run",
    "mcp": "reprobox.cli.mcp:mcp",
    "batch": "reprobox.cli.batch:batch",
    "gc": "reprobox.cli.gc:gc",
}
# Commands that never use the engine, so log nothing: they skip importing logging (lint is
# meant to start instantly, as in a pre-commit hook).
SILENT = frozenset({"lint", "rules"})


def load(name: str) -> click.Command:
    """The command registered as ``name`` (imports its module)."""
    module, _, attribute = COMMANDS[name].partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name]} is not a click command")
    return command


def commands() -> tuple[click.Command, ...]:
    """Every command, in registry order (imports them all; for docs and tests)."""
    return tuple(load(name) for name in COMMANDS)


class LazyGroup(click.Group):
    """A group whose commands come from :data:`COMMANDS`, imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = load(cmd_name)
        if not gc.isenabled():  # main() paused collection for the imports: resume it
            gc.freeze()
            gc.enable()
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--host",
    envvar="DOCKER_HOST",
    default=None,
    help="Engine address [default: DOCKER_HOST or unix:///var/run/docker.sock].",
)
@click.version_option(__version__, prog_name="reprobox")
def cli(host: str | None) -> None:
    """Reproducible, checkable containers, and a hardened box for commands you don't trust."""


def warnings_to_stderr() -> None:
    """Warnings the library logs (e.g. a container it could not remove) as ``warning: ...``
    lines on stderr."""
    import logging

    logger = logging.getLogger("reprobox")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False


def command_name(argv: list[str]) -> str | None:
    """The command ``argv`` names (the first word that is not a group option)."""
    words = iter(argv)
    for word in words:
        if word == "--host":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main() -> None:
    # Importing allocates a lot and frees almost nothing: collecting meanwhile only rescans the
    # growing heap (a sixth of a one-file lint). LazyGroup resumes collection once the
    # command is imported, with what the imports made frozen out of later collections.
    gc.disable()
    name = command_name(sys.argv[1:])
    if name not in SILENT:
        warnings_to_stderr()
        cli(prog_name="reprobox")
        return
    try:
        cli(prog_name="reprobox")
    except SystemExit as done:
        exit_now(done.code)


def exit_now(code: object) -> None:
    """Leave without the interpreter's teardown (a sixth of a one-file lint). Only for the
    SILENT commands: they start no thread, register no atexit work and close their files."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        raise SystemExit(code) from None
    if code is None or isinstance(code, int):
        os._exit(code or 0)
    raise SystemExit(code)
