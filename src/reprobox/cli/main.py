"""The ``reprobox`` command group. Each command lives in its own module of this package."""

from __future__ import annotations

import click

from reprobox import __version__
from reprobox.cli.base import base
from reprobox.cli.build import build_cmd, test_cmd, verify_cmd
from reprobox.cli.doctor import doctor
from reprobox.cli.gc import gc
from reprobox.cli.lint import lint, rules
from reprobox.cli.run import run

COMMANDS: tuple[click.Command, ...] = (
    doctor,
    base,
    build_cmd,
    verify_cmd,
    test_cmd,
    lint,
    rules,
    run,
    gc,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--host",
    envvar="DOCKER_HOST",
    default=None,
    help="Engine address [default: DOCKER_HOST or unix:///var/run/docker.sock].",
)
@click.version_option(__version__, prog_name="reprobox")
def cli(host: str | None) -> None:
    """Reproducible, checkable containers, and a hardened box for commands you don't trust."""


for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="reprobox")
