"""The options that say which box to make, shared by ``reprobox run`` and ``reprobox mcp``:
the image and the policy flags (limits, network, mounts, runtime, labels), defined once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from reprobox.sandbox.command import RunRequest
    from reprobox.sandbox.policy import Network

R = TypeVar("R")

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
    click.option(
        "--memory",
        default=None,
        help="Memory limit, no swap (e.g. 1g; none = no limit) [default: 512m].",
    ),
    click.option("--cpus", type=float, default=None, help="CPUs [default: 1; 0 = no limit]."),
    click.option("--pids", type=int, default=None, help="Process limit [default: 128; 0 = none]."),
    click.option(
        "--no-limits",
        is_flag=True,
        help="No memory, process, CPU, file-size or open-file limits (for engines that cannot "
        "enforce them, e.g. rootless Podman on cgroup v1).",
    ),
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
    "no_limits",
    "network",
    "mounts",
    "runtime",
    "backend",
    "labels",
)


@dataclass(frozen=True)
class BoxOptions:
    """The box options as given on the command line, typed (``None`` keeps the default)."""

    image: str | None = None
    timeout: float | None = None
    memory: str | None = None
    cpus: float | None = None
    pids: int | None = None
    no_limits: bool = False
    network: Network | None = None
    mounts: tuple[str, ...] = ()
    runtime: str | None = None
    backend: str = "engine"
    labels: tuple[str, ...] = ()

    def request(
        self,
        command: tuple[str, ...] = (),
        *,
        copy_in: tuple[Path, ...] = (),
        copy_out: Path | None = None,
    ) -> RunRequest:
        """The :class:`RunRequest` these options (and a command, copies) describe."""
        from reprobox.images import default_run_image
        from reprobox.sandbox.command import RunRequest

        return RunRequest(
            image=self.image or default_run_image(),
            command=command,
            timeout_s=self.timeout,
            memory=self.memory,
            cpus=self.cpus,
            pids=self.pids,
            no_limits=self.no_limits,
            network=self.network,
            runtime=self.runtime,
            mounts=self.mounts,
            copy_in=copy_in,
            copy_out=copy_out,
            labels=self.labels,
            backend=self.backend,
        )


def box_options(command: Callable[..., R]) -> Callable[..., R]:
    """Add the box options to a click command; it receives them as one typed ``box``
    (:class:`BoxOptions`) keyword argument instead of one argument per option."""

    @functools.wraps(command)
    def with_box(*args: Any, **kwargs: Any) -> R:
        box = BoxOptions(**{name: kwargs.pop(name) for name in NAMES})
        return command(*args, box=box, **kwargs)

    wrapped: Callable[..., R] = with_box
    for option in reversed(BOX_OPTIONS):
        wrapped = option(wrapped)
    return wrapped
