"""What every box of the oci backend is made of: the shared :class:`Setup` (runtime, unpacked
image, spec), and each box's bundle and supervisor (:class:`Launched`). How boxes run is in
:mod:`reprobox.oci.backend`.
"""

from __future__ import annotations

import os
import selectors
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from reprobox import errors, tools
from reprobox.engine.containers import ContainerSpec
from reprobox.oci import runtime as rt
from reprobox.oci.config import BoxPlan, mount_targets_missing, runtime_config_json
from reprobox.oci.images import CachedImage, ImageStore
from reprobox.oci.source import EngineFactory, cached_image
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.signals import shielded

READ_SIZE = 1 << 16
INIT_BINARIES = ("tini-static", "catatonit")
KEEPER = ("sleep", "infinity")
# A primed box's main process: reads the command to its end with shell builtins only and
# execs it.
LAUNCHER = (
    "sh",
    "-c",
    'cmd=; while IFS= read -r line; do cmd="$cmd$line\n"; done; eval "exec $cmd$line"',
)


def init_binary() -> Path:
    """A static init that reaps zombies (Debian's ``tini`` ships ``tini-static``): looked up
    on ``PATH`` once per process and ``PATH``, and again when it is no longer there."""
    search = os.environ.get("PATH")
    found = _init_found.get(search)
    if found is None or not os.access(found, os.X_OK):
        found = _init_found[search] = _find_init()
    return found


_init_found: dict[str | None, Path] = {}


def _find_init() -> Path:
    for name in INIT_BINARIES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise tools.TINI.missing("the oci backend's boxes need a static init that reaps zombies")


@dataclass(frozen=True)
class Setup:
    """What every box of one Sandbox shares: runtime, unpacked image, policy's spec."""

    runtime: rt.Runtime
    image: CachedImage
    spec: ContainerSpec
    policy: Policy

    def __post_init__(self) -> None:
        missing = mount_targets_missing(self.spec, self.image.rootfs)
        if missing:
            raise errors.UsageError(
                f"{missing[0]} does not exist in the image: on the oci backend a working "
                f"folder or mount target must exist in the image or be under /mnt"
            )

    @property
    def network(self) -> str:
        return self.spec.network

    def runtime_argv(self) -> list[str]:
        return self.runtime.argv(self.network)


@dataclass
class Launched:
    """A box's bundle and its supervisor: removed together."""

    setup: Setup
    bundle: rt.Bundle
    supervisor: rt.Supervisor

    @property
    def box_id(self) -> str:
        return self.bundle.box_id

    @classmethod
    def create(
        cls, setup: Setup, command: tuple[str, ...], user: str, deadline: float | None
    ) -> Launched:
        box_id = rt.new_box_id()
        spec = replace(setup.spec, command=command, user=user)
        init = init_binary() if spec.init else None
        plan = BoxPlan(spec, setup.image, f"/{rt.CGROUP_PARENT}/{box_id}", box_id[:12], init)
        owner = rt.Owner.me(setup.image.key, setup.runtime.name, setup.network)
        bundle = rt.Bundle.create(box_id, runtime_config_json(plan), owner)
        try:
            supervisor = rt.Supervisor(setup.runtime, bundle, setup.network, deadline)
        except BaseException:
            bundle.remove()
            raise
        return cls(setup, bundle, supervisor)

    def kill(self) -> None:
        rt.quiet([*self.setup.runtime_argv(), "kill", self.box_id, "KILL"])

    def remove(self) -> None:
        """Delete the box from the runtime (if it still knows it) and its bundle."""
        with shielded():
            if rt.has_state(self.setup.runtime, self.box_id):
                rt.delete(self.setup.runtime, self.box_id, self.setup.network)
            if not self.setup.runtime.keeps_state:
                rt.remove_memory_cgroup(self.box_id)
            self.bundle.remove()
            self.supervisor.release()


def pipe_frames(out: IO[bytes], err: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(1, data)`` / ``(2, data)`` as the box writes, until both pipes close."""
    with selectors.DefaultSelector() as selector:
        selector.register(out, selectors.EVENT_READ, 1)
        selector.register(err, selectors.EVENT_READ, 2)
        while selector.get_map():
            for key, _ in selector.select():
                data = os.read(key.fd, READ_SIZE)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                yield key.data, data


def make_setup(image: str, spec: ContainerSpec, policy: Policy, engine: EngineFactory) -> Setup:
    """Find the runtime, unpack (or find) the image, check the spec fits the oci backend."""
    if os.geteuid() != 0:
        raise errors.SandboxError(
            "the oci backend needs root (it runs runc as root; rootless runc is not supported)",
            "run as root, or use the engine backend (the default)",
        )
    runtime = rt.find_runtime(policy.runtime)
    cached = cached_image(ImageStore(), image, engine)
    return Setup(runtime, cached, spec, policy)
