"""``reprobox build``, ``reprobox verify`` and ``reprobox test``: parse, call, render."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.status import Status

from reprobox import errors
from reprobox.build import Backend, BuildSpec, build
from reprobox.build.report import render_text, to_json
from reprobox.build.verify import verify
from reprobox.cli.common import engine_from, err, guarded, literal, out
from reprobox.cli.placement import FolderBeforeDashDash
from reprobox.exitcodes import ExitCode
from reprobox.images import image_tag
from reprobox.suite import TestSpec, run_tests

_DIR = click.argument(
    "directory",
    default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
_BUILD_ARG = click.option(
    "--build-arg", "build_args", multiple=True, metavar="K=V", help="Build argument (repeatable)."
)
_FILE = click.option("--file", "-f", "dockerfile", default="Dockerfile", show_default=True,
                     help="Dockerfile, relative to DIRECTORY.")  # fmt: skip


def parse_build_args(values: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not K=V", param_hint="--build-arg")
        found[key] = item
    return found


def _progress(status: Status) -> Callable[[str], None]:
    def progress(line: str) -> None:
        err.print(literal(line, "dim"))
        status.update(literal(line[:80]))

    return progress


def _show_tail(exc: errors.BuildFailed) -> None:
    if exc.log_tail:
        err.print("[bold]last lines of the failing step:[/]")
        for line in exc.log_tail:
            err.print(literal(f"  {line}"))


@click.command(name="build")
@_DIR
@_BUILD_ARG
@_FILE
@click.option("--tag", "-t", default=None, help="Image tag [default: <dirname>:latest].")
@click.option("--backend", type=click.Choice([b.value for b in Backend]), default="docker",
              show_default=True, help="Image builder (buildah: the Debian package).")  # fmt: skip
@click.pass_context
@guarded
def build_cmd(
    ctx: click.Context,
    directory: Path,
    build_args: tuple[str, ...],
    dockerfile: str,
    tag: str | None,
    backend: str,
) -> None:
    """Build an image reproducibly: identical inputs give an identical image ID."""
    full_tag = image_tag(tag) if tag is not None else None
    spec = BuildSpec(
        directory, dockerfile, parse_build_args(build_args), full_tag, backend=Backend(backend)
    )
    engine = engine_from(ctx)
    try:
        with err.status("building", spinner="dots") as status:
            result = build(engine, spec, _progress(status))
    except errors.BuildFailed as exc:
        _show_tail(exc)
        raise
    out.print(
        f"{result.tag} {result.image_id} {result.size_bytes / 2**20:.0f} MiB "
        f"built in {result.seconds:.1f} s (SOURCE_DATE_EPOCH={result.source_date_epoch}, "
        f"{result.sde_origin})"
    )


@click.command(name="verify")
@_DIR
@_BUILD_ARG
@_FILE
@click.option("--diffoscope", is_flag=True, help="Run diffoscope on differing files.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@guarded
def verify_cmd(
    ctx: click.Context,
    directory: Path,
    build_args: tuple[str, ...],
    dockerfile: str,
    diffoscope: bool,
    as_json: bool,
) -> None:
    """Build twice from scratch and report every difference (exit 0 same, 1 differs)."""
    spec = BuildSpec(directory, dockerfile, parse_build_args(build_args))
    engine = engine_from(ctx)
    try:
        with err.status("verifying", spinner="dots") as status:
            report = verify(engine, spec, _progress(status), diffoscope)
    except errors.BuildFailed as exc:
        _show_tail(exc)
        raise
    if as_json:
        click.echo(json.dumps(to_json(report), indent=2, sort_keys=True))
    else:
        click.echo(render_text(report))
    ctx.exit(int(ExitCode.OK if report.identical else ExitCode.FINDINGS))


def _write(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


@click.command(
    name="test", cls=FolderBeforeDashDash, context_settings={"ignore_unknown_options": True}
)
@_DIR
@_BUILD_ARG
@_FILE
@click.option("--image", default=None, help="Image to test in [default: the Dockerfile's base].")
@click.option("--network", is_flag=True, help="Give the container the host's network.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
@guarded
def test_cmd(
    ctx: click.Context,
    directory: Path,
    build_args: tuple[str, ...],
    dockerfile: str,
    image: str | None,
    network: bool,
    command: tuple[str, ...],
) -> None:
    """Run the test suite in a clean throwaway container; exit code is the suite's.

    To choose the command, name DIRECTORY first: reprobox test . -- python -m pytest -x
    """
    spec = TestSpec(directory, image, parse_build_args(build_args), network, command, dockerfile)
    result = run_tests(engine_from(ctx), spec, _write, lambda line: err.print(literal(line, "dim")))
    verdict = "passed" if result.exit_code == 0 else f"failed (exit {result.exit_code})"
    err.print(literal(f"tests {verdict} in {result.seconds:.1f} s ({result.image})"))
    ctx.exit(result.exit_code)
