"""``reprobox gc``: remove what reprobox left behind on the engine and on the oci backend."""

from __future__ import annotations

import dataclasses

import click

from reprobox import errors
from reprobox.cli.common import engine_from, guarded, out, print_json


@click.command()
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also remove resources of reprobox processes that are still running.",
)
@click.option(
    "--cache-max",
    default=None,
    metavar="SIZE",
    help="Also shrink the oci backend's image cache to SIZE (e.g. 2g), least recently used "
    "images first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@click.pass_context
@guarded
def gc(ctx: click.Context, everything: bool, cache_max: str | None, as_json: bool) -> None:
    """Remove leftovers (containers, images, volumes, networks, oci boxes) of dead reprobox
    sessions, and cached oci images nothing uses."""
    from reprobox.oci.gc import sweep
    from reprobox.sandbox.command import parse_size

    limit = None if cache_max is None else parse_size(cache_max)

    def engine_has(image_id: str) -> bool | None:
        try:
            return engine_from(ctx).image(image_id) is not None
        except errors.ReproboxError:
            return None  # no engine to ask: the image is kept

    # The oci backend needs no engine: its leftovers go even when the engine is down.
    oci = sweep(only_dead=not everything, cache_max=limit, engine_has=engine_has)
    if not as_json:
        out.print(
            f"removed {len(oci.boxes)} oci box(es), {len(oci.images)} cached oci image(s) "
            f"({oci.freed_bytes >> 20} MiB)"
        )
    report = engine_from(ctx).sweep(only_dead=not everything)
    if as_json:
        print_json({**dataclasses.asdict(report), "oci": oci})
        return
    out.print(
        f"removed {len(report.containers)} container(s), {len(report.images)} image(s), "
        f"{len(report.volumes)} volume(s), {len(report.networks)} network(s)"
    )
