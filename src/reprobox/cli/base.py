from __future__ import annotations

import click

from reprobox.base import BaseSpec, build_base
from reprobox.cli.common import engine_from, err, guarded, literal, out

# debootstrap says these once per package: shown in the spinner, not printed.
_CHATTY = ("Extracting", "Unpacking", "Configuring", "Retrieving", "Validating")


@click.command()
@click.option("--suite", default="bookworm", show_default=True, help="Debian suite to install.")
@click.option("--tag", default=None, help="Image tag [default: reprobox/python:<py>-<suite>].")
@click.option("--mirror", default=None, help="Debian mirror URL [default: debootstrap's].")
@click.option("--rebuild", is_flag=True, help="Rebuild even if the tag already exists.")
@click.pass_context
@guarded
def base(
    ctx: click.Context, suite: str, tag: str | None, mirror: str | None, rebuild: bool
) -> None:
    """Build a Python base image from Debian packages (no container registry needed)."""
    engine = engine_from(ctx)
    with err.status("starting", spinner="dots") as status:

        def progress(line: str) -> None:
            if not line.startswith(_CHATTY):
                err.print(literal(line, "dim"))
            status.update(literal(line[:80]))

        result = build_base(engine, BaseSpec(suite, tag, mirror, rebuild), progress)
    verb = "reused" if result.reused else f"built in {result.seconds:.0f} s"
    out.print(
        literal(
            f"{result.tag} {result.image_id[7:19]} {result.size_bytes / 2**20:.0f} MiB ({verb})"
        )
    )
