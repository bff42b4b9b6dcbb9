"""``reprobox gc``: remove what reprobox left behind on the engine."""

from __future__ import annotations

import click

from reprobox.cli.common import engine_from, guarded, out, print_json


@click.command()
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also remove resources of reprobox processes that are still running.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@click.pass_context
@guarded
def gc(ctx: click.Context, everything: bool, as_json: bool) -> None:
    """Remove leftovers (containers, images, volumes, networks) of dead reprobox sessions."""
    report = engine_from(ctx).sweep(only_dead=not everything)
    if as_json:
        print_json(report)
        return
    out.print(
        f"removed {len(report.containers)} container(s), {len(report.images)} image(s), "
        f"{len(report.volumes)} volume(s), {len(report.networks)} network(s)"
    )
