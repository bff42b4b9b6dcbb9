"""The two backends a box can run on, behind the few operations a box needs.

``engine`` (the default) creates containers through the engine's API; ``oci`` drives an OCI
runtime (runc, runsc) directly, with no daemon (:mod:`reprobox.oci`). Both give the sandbox
the same kinds of box, typed here as protocols (so ``mypy --strict`` checks both sides):

- a one-shot run: a generator of live output returning the :class:`RunResult`;
- a :class:`RunBox` (a pool's primed box): ``events`` once, then ``destroy``;
- a :class:`SessionBox`: ``events`` many times, ``copy_in``, ``copy_out``, ``destroy``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Literal, Protocol

from reprobox import errors
from reprobox.sandbox.result import OutputChunk, RunResult

if TYPE_CHECKING:
    from reprobox.engine import Engine
    from reprobox.engine.containers import ContainerSpec
    from reprobox.oci.box import Setup
    from reprobox.sandbox.policy import Policy

Backend = Literal["engine", "oci"]
BACKENDS: tuple[Backend, ...] = ("engine", "oci")
Events = Generator[OutputChunk, None, RunResult]


class RunBox(Protocol):
    """A started box that runs one command (or, for a session, many)."""

    @property
    def container_id(self) -> str: ...

    def events(self, cmd: list[str], timeout: float | None) -> Events: ...

    def destroy(self) -> None: ...


class SessionBox(RunBox, Protocol):
    """A box that also takes files in and gives them out (as tar streams)."""

    def copy_in(self, archive: bytes, dest: str) -> None: ...

    def copy_out(self, folder: str, name: str, limit: int) -> bytes: ...


class BoxGone(errors.SandboxError):
    """A ready box ended before it received its command (nothing ran): take another."""


def check_backend(backend: str) -> Backend:
    if backend == "engine":
        return "engine"
    if backend == "oci":
        return "oci"
    raise errors.UsageError(f"unknown backend {backend!r}: use engine or oci")


def oci_setup(
    image: str, spec: ContainerSpec, policy: Policy, engine: Callable[[], Engine]
) -> Setup:
    """The oci backend's runtime and unpacked image for boxes of ``spec``."""
    from reprobox.oci.box import make_setup

    return make_setup(image, spec, policy, engine)


def one_shot_events(
    backend: Backend,
    spec: ContainerSpec,
    policy: Policy,
    timeout: float | None,
    engine: Callable[[], Engine],
) -> Events:
    """A one-shot run of ``spec.command`` on ``backend``."""
    if backend == "oci":
        return _oci_one_shot(spec, policy, timeout, engine)
    from reprobox.sandbox.oneshot import one_shot

    return one_shot(engine(), spec, policy, timeout)


def _oci_one_shot(
    spec: ContainerSpec, policy: Policy, timeout: float | None, engine: Callable[[], Engine]
) -> Events:
    from reprobox.oci.box import one_shot

    setup = oci_setup(spec.image, spec, policy, engine)  # on the first step, like the engine's
    return (yield from one_shot(setup, list(spec.command), timeout))


def start_session(
    backend: Backend, spec: ContainerSpec, policy: Policy, engine: Callable[[], Engine]
) -> SessionBox:
    if backend == "oci":
        from reprobox.oci.session import OciSession

        return OciSession.start(oci_setup(spec.image, spec, policy, engine))
    from reprobox.sandbox.keeper import KeeperBox

    return KeeperBox.start(engine(), spec, policy)


def primed_starter(
    backend: Backend, spec: ContainerSpec, policy: Policy, engine: Callable[[], Engine]
) -> Callable[[], RunBox]:
    """A function that starts one primed box for the pool (the image is resolved once)."""
    if backend == "oci":
        from reprobox.oci.box import PrimedBox as OciPrimed

        setup = oci_setup(spec.image, spec, policy, engine)
        return lambda: OciPrimed.start(setup)
    from reprobox.sandbox.primed import PrimedBox

    live = engine()
    return lambda: PrimedBox.start(live, spec, policy)
