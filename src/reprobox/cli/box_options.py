"""The options that say which box to make, shared by ``reprobox run`` and ``reprobox mcp``:
the image and the policy flags (limits, network, mounts, runtime, labels), defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from reprobox.sandbox.command import RunRequest

F = TypeVar("F", bound=Callable[..., Any])

# Outermost first, so that --help lists them in this order.
BOX_OPTIONS = (
    click.option(
        "--image",
        envvar="REPROBOX_IMAGE",
        default=None,
        help="Image to run in [default: REPROBOX_IMAGE or the pinned python:3.12-slim].",
    ),
    click.option(
        "--timeout",
        type=float,
        default=None,
        help="Seconds before a command is killed [default: 30; 0 = none].",
    ),
    click.option("--memory", default=None, help="Memory limit, no swap (e.g. 1g) [default: 512m]."),
    click.option("--cpus", type=float, default=None, help="CPUs [default: 1]."),
    click.option("--pids", type=int, default=None, help="Process limit [default: 128]."),
    click.option(
        "--network",
        type=click.Choice(["host", "none", "disabled"]),
        default=None,
        help="'host' shares the host's network and defeats isolation [default: disabled].",
    ),
    click.option(
        "--mount",
        "mounts",
        multiple=True,
        metavar="PATH[:rw]",
        help="Mount a host path at /mnt/<name>, read-only unless :rw (repeatable).",
    ),
    click.option("--runtime", default=None, help="Container runtime, e.g. runsc for gVisor."),
    click.option(
        "--backend",
        type=click.Choice(["engine", "oci"]),
        default="engine",
        show_default=True,
        help="'oci' runs the box with runc/runsc directly, no engine; --image may then also "
        "be docker-archive:PATH or oci-archive:PATH.",
    ),
    click.option(
        "--label",
        "labels",
        multiple=True,
        metavar="KEY=VALUE",
        help="Extra label on the box's container (repeatable).",
    ),
)
NAMES = (
    "image",
    "timeout",
    "memory",
    "cpus",
    "pids",
    "network",
    "mounts",
    "runtime",
    "backend",
    "labels",
)


def box_options(command: F) -> F:
    """Add the box options to a click command (as keyword arguments named in :data:`NAMES`)."""
    for option in reversed(BOX_OPTIONS):
        command = option(command)
    return command


def box_request(
    options: dict[str, object], command: tuple[str, ...] = (), **extra: Any
) -> RunRequest:
    """The :class:`RunRequest` the box options (and ``extra`` fields) describe."""
    from reprobox.images import default_run_image
    from reprobox.sandbox.command import RunRequest

    fields: dict[str, Any] = {name: options[name] for name in NAMES}
    image = fields.pop("image") or default_run_image()
    timeout = fields.pop("timeout")
    return RunRequest(image=image, command=command, timeout_s=timeout, **fields, **extra)
