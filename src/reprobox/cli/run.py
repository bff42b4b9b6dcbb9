"""``reprobox run``: run an untrusted command in a hardened throwaway box.

Heavy modules (the sandbox, the engine) are imported inside the command so that
``reprobox --help`` and other commands do not pay for them. A one-shot run (no copies in or
out) talks to a local engine through the stdlib client of ``reprobox.engine.lite``: the
docker SDK's imports would cost more than the run itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reprobox import errors
from reprobox.cli.box_options import BoxOptions, box_options
from reprobox.cli.common import fail, os_error, quiet_if_reader_gone
from reprobox.cli.placement import CommandFirstOptionsLast
from reprobox.exitcodes import for_run, for_run_error
from reprobox.sandbox.signals import Terminated

if TYPE_CHECKING:
    from reprobox.sandbox.command import RunRequest
    from reprobox.sandbox.result import OutputChunk, RunResult


@click.command(cls=CommandFirstOptionsLast, context_settings={"allow_interspersed_args": False})
@box_options
@click.option(
    "--copy-in",
    "copy_in",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Copy a host file or folder into the working folder first (repeatable).",
)
@click.option(
    "--copy-out",
    "copy_out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Copy the working folder's contents to DIR afterwards.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the RunResult as JSON at the end.")
@click.option("--explain", is_flag=True, help="Say what this box blocks and what it doesn't.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    /,
    command: tuple[str, ...],
    explain: bool,
    as_json: bool,
    copy_in: tuple[Path, ...],
    copy_out: Path | None,
    box: BoxOptions,
) -> None:
    """Run COMMAND in a hardened throwaway box: reprobox run [OPTIONS] -- COMMAND...

    The exit code is the command's own; 124 = timed out, 137 = killed for exceeding its
    memory limit, 125 = reprobox itself failed, 130 = interrupted, 2 = bad usage.
    """
    if not command and not explain:
        raise click.UsageError("no command given: reprobox run [OPTIONS] -- COMMAND...")
    try:
        request = box.request(command, copy_in=copy_in, copy_out=copy_out)
        if explain:
            _explain(request)
            return
        code = _execute(ctx, request, as_json)
    except errors.ReproboxError as exc:
        fail(exc, int(for_run_error(exc)))
    except OSError as exc:
        quiet_if_reader_gone(exc)
        fail(os_error(exc), int(for_run_error(exc)))
    except (KeyboardInterrupt, Terminated) as exc:
        click.echo("interrupted: the box was removed", err=True)
        sys.exit(int(for_run_error(exc)))
    sys.exit(code)


def _explain(request: RunRequest) -> None:
    from reprobox.sandbox.explain import explain

    policy, mounts = request.policy(), request.parsed_mounts()
    for mount in mounts:
        mount.check_writable(policy.user)  # what the run would refuse, --explain refuses too
    click.echo(explain(policy, mounts, request.image))


def _execute(ctx: click.Context, request: RunRequest, as_json: bool) -> int:
    from reprobox.cli.common import engine_from
    from reprobox.sandbox.command import run_request

    oci = request.backend == "oci"  # needs no engine, except to look an image up by name
    engine = None if oci else engine_from(ctx, lite=request.one_shot)
    result = run_request(engine, request, None if as_json else _live)
    if as_json:
        from reprobox.cli.common import print_json

        print_json(result)
    else:
        for line in _verdict(request, result):
            click.echo(f"reprobox: {line}", err=True)
    return for_run(result.exit_code, result.timed_out, result.oom_killed)


def _verdict(request: RunRequest, result: RunResult) -> list[str]:
    """What the user must know besides the command's own output: why it stopped, what was
    dropped. Printed on stderr after the run, never mixed into stdout."""
    policy = request.policy()
    lines = []
    if result.timed_out:
        lines.append(
            f"timed out after {policy.timeout_s:g} s: the command and every process "
            "it started were killed (exit 124)"
        )
    if result.oom_killed:
        limit = (policy.memory_bytes or 0) >> 20
        lines.append(
            f"killed: exceeded the {limit} MiB memory limit (exit 137; raise it with --memory)"
        )
    for name, cut, total in (
        ("stdout", result.stdout_truncated, result.stdout_bytes),
        ("stderr", result.stderr_truncated, result.stderr_bytes),
    ):
        if cut:
            lines.append(
                f"{name} truncated: kept the first {policy.output_cap_bytes} of {total} bytes"
            )
    return lines


def _live(chunk: OutputChunk) -> None:
    stream = sys.stdout if chunk.stream == "stdout" else sys.stderr
    stream.buffer.write(chunk.data)
    stream.buffer.flush()
