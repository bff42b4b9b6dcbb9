"""``reprobox mcp``: serve a hardened box to an AI agent over MCP (stdio)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from reprobox import errors
from reprobox.cli.box_options import BoxOptions, box_options
from reprobox.cli.common import fail
from reprobox.exitcodes import ExitCode

if TYPE_CHECKING:
    from reprobox.sandbox import Sandbox
    from reprobox.sandbox.command import RunRequest


@click.command()
@box_options
@click.option("--explain", is_flag=True, help="Print what the agent is told about the box.")
@click.pass_context
def mcp(ctx: click.Context, /, explain: bool, box: BoxOptions) -> None:
    """Serve a hardened box to an AI agent over MCP (stdio): tools run, write_file, read_file.

    One box per client connection, made on the first tool call and removed when the client
    disconnects or vanishes, stdin closes, or the server gets SIGTERM or Ctrl-C (exit 130).
    The box options are those of reprobox run; --timeout is also the longest timeout an agent
    may ask for.
    """
    try:
        request = box.request()
        if explain:
            from reprobox.mcpserver import instructions

            click.echo(instructions(_factory(ctx, request, connect=False)()))
            return
        stopped = _serve(ctx, request)
    except errors.ReproboxError as exc:
        fail(exc)
    if stopped == "signalled":
        click.echo("reprobox mcp: stopped by a signal; the box was removed", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))


def _serve(ctx: click.Context, request: RunRequest) -> str:
    from reprobox.mcpserver import require_sdk, serve

    require_sdk()
    new_box = _factory(ctx, request, connect=True)
    return str(serve(new_box))


def _factory(ctx: click.Context, request: RunRequest, connect: bool) -> Callable[[], Sandbox]:
    """A maker of unopened boxes for ``request``, on the engine of ``--host``; with
    ``connect``, the engine must answer and hold the image now (fail before serving)."""
    from reprobox.sandbox import Sandbox
    from reprobox.sandbox.backend import check_backend
    from reprobox.sandbox.box import missing_image
    from reprobox.sandbox.command import parse_labels

    backend = check_backend(request.backend)
    engine = None
    if connect and backend == "engine":
        from reprobox.cli.common import engine_from

        engine = engine_from(ctx)
        if engine.image(request.image) is None:
            raise missing_image(request.image, errors.ImageNotFound(request.image))
    policy, mounts, labels = request.policy(), request.parsed_mounts(), parse_labels(request.labels)

    def new_box() -> Sandbox:
        return Sandbox(
            request.image, policy, mounts=mounts, labels=labels, engine=engine, backend=backend
        )

    return new_box
