"""The one interface between a box and what runs it: :class:`BoxAPI`, and the two backends.

``engine`` (the default) creates containers through the engine's API
(:class:`reprobox.sandbox.engine_backend.EngineBoxes`, over the docker SDK or the stdlib lite
client); ``oci`` drives an OCI runtime (runc, runsc) directly, with no daemon
(:class:`reprobox.oci.backend.OciBoxes`). Both provide :class:`BoxAPI`, the few operations a
box needs, and the sandbox's three kinds of box are written once over it:

- a one-shot run (:func:`reprobox.sandbox.oneshot.one_shot`): the command is the box's main
  process;
- a primed box for the pool (:class:`reprobox.sandbox.primed.PrimedBox`): started ahead,
  sent one command, then removed;
- a session (:class:`reprobox.sandbox.keeper.KeeperBox`): an idle main process that serves
  each command (and each copy) by ``exec``.

What is truly a backend's own stays inside it: on the engine, the box's init
(:mod:`reprobox.sandbox.boxinit`) and the owner's lifeline on its stdin; on oci, the owner's
supervisor process (:mod:`reprobox.oci.runtime`). ``mypy --strict`` checks that each backend
provides the interface (the assignments at the bottom).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from reprobox import errors
from reprobox.sandbox.result import OutputChunk, RunResult

if TYPE_CHECKING:
    from reprobox.engine import Engine
    from reprobox.engine.containers import ContainerSpec
    from reprobox.sandbox.policy import Policy

Backend = Literal["engine", "oci"]
BACKENDS: tuple[Backend, ...] = ("engine", "oci")
Events = Generator[OutputChunk, None, RunResult]
Frames = Iterator[tuple[int, bytes]]  # (1 stdout | 2 stderr, data), as the box writes
MainKind = Literal["command", "primed", "keeper"]


@dataclass(frozen=True)
class Main:
    """What a box's main process is: the spec's ``command`` (a one-shot run, ending the box
    at ``timeout`` at the latest), a ``primed`` launcher waiting for one command, or an idle
    ``keeper`` serving execs (a session)."""

    kind: MainKind
    timeout: float | None = None


@dataclass(frozen=True)
class Stats:
    """What a box has used (``None`` where the backend cannot say, or was not asked):
    peak memory, CPU time, and how many of its processes were killed for lack of memory."""

    peak_memory_bytes: int | None = None
    cpu_ns: int | None = None
    oom_kills: int | None = None


class BoxHandle(Protocol):
    """A backend's own record of one box; ``lost`` once the whole box was killed under a
    running command (a session box then serves nothing more)."""

    @property
    def box_id(self) -> str: ...

    lost: bool


class Output(Protocol):
    """A live output stream (a box's main process, or one exec)."""

    def frames(self) -> Frames: ...

    def close(self) -> None: ...


class Execution(Output, Protocol):
    """One command run in a running box by ``exec``."""

    def exit_status(self) -> int | None:
        """Its exit status once ``frames`` ended; ``None`` when the backend recorded none
        (the box was killed under it)."""
        ...


H = TypeVar("H", bound=BoxHandle)


class BoxAPI(Protocol[H]):
    """The operations a box needs, as each backend provides them. ``H`` is the backend's
    own handle type; calls that can fail raise :mod:`reprobox.errors` exceptions."""

    def create(self, spec: ContainerSpec, policy: Policy, main: Main) -> H:
        """Create (not start) a box for ``spec`` whose main process is ``main``."""
        ...

    def start(self, box: H) -> Output:
        """Start the box, attached to its main process's output."""
        ...

    def send(self, box: H, cmd: list[str], timeout: float | None) -> None:
        """Give a primed box its one command; :class:`BoxGone` when it had ended."""
        ...

    def exec(
        self,
        box: H,
        cmd: list[str],
        user: str,
        workdir: str | None = None,
        stdin: bytes | None = None,
    ) -> Execution:
        """Start ``cmd`` in the running box as ``user`` (``stdin``: its whole input)."""
        ...

    def copy_in(self, box: H, archive: bytes, dest: str, user: str) -> None:
        """Unpack the tar ``archive`` into ``dest`` in the box, as ``user``."""
        ...

    def copy_out(self, box: H, folder: str, name: str, limit: int, user: str) -> bytes:
        """A tar of ``name`` in ``folder`` in the box (at most ``limit`` bytes), as ``user``."""
        ...

    def wait(self, box: H) -> int:
        """The exit status of the box's main process, once its output ended."""
        ...

    def kill(self, box: H) -> None:
        """SIGKILL every process in the box (a box already gone is fine)."""
        ...

    def remove(self, box: H) -> None:
        """Remove the box and everything of it; idempotent, also after a failed start."""
        ...

    def stats(self, box: H, *, oom: bool = False, reset_peak: bool = False) -> Stats:
        """What the box used; ``oom`` asks for the OOM-kill count too (it may cost a
        round trip, and may raise :class:`errors.EngineUnavailable` when the engine, not
        the kernel, killed the box); ``reset_peak`` restarts the peak from now."""
        ...

    def hold(self, box: H, timeout: float | None) -> None:
        """A session's command with ``timeout`` starts now: keep the box alive that long."""
        ...

    def release(self, box: H) -> None:
        """The session's command ended: the box idles again."""
        ...

    def renew(self, box: H) -> bool:
        """Renew an idle box's lifetime; ``False`` once it has ended."""
        ...


class BoxGone(errors.SandboxError):
    """A ready box ended before it received its command (nothing ran): take another."""


class RunBox(Protocol):
    """A started box that runs one command (for the pool)."""

    @property
    def container_id(self) -> str: ...

    def events(self, cmd: list[str], timeout: float | None) -> Events: ...

    def renew(self) -> bool: ...

    def destroy(self) -> None: ...


class SessionBox(Protocol):
    """A box that runs many commands and takes files in and gives them out (as tar)."""

    @property
    def container_id(self) -> str: ...

    def events(self, cmd: list[str], timeout: float | None) -> Events: ...

    def copy_in(self, archive: bytes, dest: str) -> None: ...

    def copy_out(self, folder: str, name: str, limit: int) -> bytes: ...

    def destroy(self) -> None: ...


def check_backend(backend: str) -> Backend:
    if backend == "engine":
        return "engine"
    if backend == "oci":
        return "oci"
    raise errors.UsageError(f"unknown backend {backend!r}: use engine or oci")


def one_shot_events(
    backend: Backend,
    spec: ContainerSpec,
    policy: Policy,
    timeout: float | None,
    engine: Callable[[], Engine],
) -> Events:
    """A one-shot run of ``spec.command`` on ``backend`` (the backend is opened on the
    first step, so a missing image surfaces there, as the run's first event)."""
    from reprobox.sandbox.oneshot import one_shot

    if backend == "oci":
        return one_shot(lambda: _oci(spec, policy, engine), spec, policy, timeout)
    return one_shot(lambda: _engine(engine), spec, policy, timeout)


def start_session(
    backend: Backend, spec: ContainerSpec, policy: Policy, engine: Callable[[], Engine]
) -> SessionBox:
    from reprobox.sandbox.keeper import KeeperBox

    if backend == "oci":
        return KeeperBox.start(_oci(spec, policy, engine), spec, policy)
    return KeeperBox.start(_engine(engine), spec, policy)


def primed_starter(
    backend: Backend, spec: ContainerSpec, policy: Policy, engine: Callable[[], Engine]
) -> Callable[[], RunBox]:
    """A function that starts one primed box for the pool (the backend is opened once)."""
    from reprobox.sandbox.primed import PrimedBox

    if backend == "oci":
        oci = _oci(spec, policy, engine)
        return lambda: PrimedBox.start(oci, spec, policy)
    live = _engine(engine)
    return lambda: PrimedBox.start(live, spec, policy)


def _engine(engine: Callable[[], Engine]) -> EngineBoxes:
    from reprobox.sandbox.engine_backend import EngineBoxes

    return EngineBoxes(engine())


def _oci(spec: ContainerSpec, policy: Policy, engine: Callable[[], Engine]) -> OciBoxes:
    """The oci backend for boxes of ``spec``: its runtime and unpacked image, found once."""
    from reprobox.oci.backend import OciBoxes

    return OciBoxes.open(spec, policy, engine)


if TYPE_CHECKING:  # both backends provide the interface (checked by mypy, free at run time)
    from reprobox.oci.backend import OciBox, OciBoxes
    from reprobox.sandbox.engine_backend import EngineBox, EngineBoxes

    def _engine_api(api: EngineBoxes) -> BoxAPI[EngineBox]:
        return api

    def _oci_api(api: OciBoxes) -> BoxAPI[OciBox]:
        return api
