"""The ``reprobox`` command group. Each command lives in its own module of this package.

Commands load lazily: :data:`COMMANDS` maps each name to ``"module:attribute"`` (an explicit
registry, never a directory scan), and a command's module is imported only when that command
runs, so ``reprobox run`` does not pay for the build, lint and base commands' imports.
"""

from __future__ import annotations

import importlib
import logging

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
    "gc": "reprobox.cli.gc:gc",
}


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
        return load(cmd_name) if cmd_name in COMMANDS else None


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
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logger = logging.getLogger("reprobox")
    logger.addHandler(handler)
    logger.propagate = False


def main() -> None:
    warnings_to_stderr()
    cli(prog_name="reprobox")
