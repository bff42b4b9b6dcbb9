"""``reprobox pin``: add the registry's digest to every ``FROM image:tag``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reprobox.cli.common import guarded
from reprobox.exitcodes import for_pin


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing; exit 1 if a base image is not pinned by digest (for CI).",
)
@click.option(
    "--local",
    is_flag=True,
    help="Take digests from the local engine's RepoDigests only (no registry asked).",
)
@click.pass_context
@guarded
def pin(ctx: click.Context, /, paths: tuple[Path, ...], check: bool, local: bool) -> None:
    """Pin every FROM image:tag in the Dockerfiles at PATHS to image:tag@sha256:<digest>.

    PATHS are Dockerfiles or folders holding one [default: ./Dockerfile]. The digest is the
    one the registry serves for the tag now (the manifest list's, for multi-platform images);
    FROM lines that use an ARG get it in the ARG's default. Everything else stays byte for
    byte; scratch and stage names are left alone; already pinned images are checked against
    the registry and kept. Exit 0 = done, 1 = (--check) something is not pinned or a pin is
    stale, 3 = a registry could not answer (unreachable, unknown tag, auth required), and the
    file was left unchanged.
    """
    from reprobox.pin import Registry, Resolver, pin_paths
    from reprobox.pin.text import render

    resolver: Resolver = Registry()
    if local:
        from reprobox.cli.common import engine_from
        from reprobox.pin.local import LocalDigests

        resolver = LocalDigests(engine_from(ctx))
    report = pin_paths(paths, resolver, check)
    out, err = render(report)
    for line in err:
        click.echo(line, err=True)
    for line in out:
        click.echo(line)
    sys.exit(int(for_pin(report.could_not_ask, report.findings)))
