"""The :class:`Sandbox`: a hardened throwaway box for commands you don't trust."""

from __future__ import annotations

import contextlib
import posixpath
import shlex
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, TypeVar

from reprobox import errors
from reprobox.engine import Engine
from reprobox.engine.containers import ContainerSpec
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import shielded, sigterm_raises
from reprobox.sandbox.spec import DEFAULT_WORKDIR, Mount, container_spec

if TYPE_CHECKING:
    from reprobox.sandbox.backend import Backend, SessionBox

Command = str | Sequence[str]
OnOutput = Callable[[OutputChunk], None]


class Default(Enum):
    """The marker for "use the policy's value"."""

    POLICY = "policy"


POLICY_TIMEOUT = Default.POLICY
Timeout = float | None | Literal[Default.POLICY]
T = TypeVar("T")
COPY_OUT_LIMIT = 1 << 30


def argv(cmd: Command) -> list[str]:
    """A command as an argument list (a string is split like a POSIX shell would)."""
    parts = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
    if not parts:
        raise errors.UsageError("no command to run")
    return parts


class RunStream:
    """Live output of one command: iterate for :class:`OutputChunk`, then read ``result``.

    Closing (or leaving the ``with`` block) before the end kills the command.
    """

    def __init__(self, events: Generator[OutputChunk, None, RunResult]) -> None:
        self._events = events
        self._result: RunResult | None = None

    def __iter__(self) -> Iterator[OutputChunk]:
        self._result = yield from self._events

    @property
    def result(self) -> RunResult:
        if self._result is None:
            raise errors.UsageError("the stream has not ended: iterate it to the end first")
        return self._result

    def close(self) -> None:
        self._events.close()

    def __enter__(self) -> RunStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Sandbox:
    """A box for untrusted commands, hardened by ``policy`` (default: :class:`Policy`).

    Outside a ``with`` block, :meth:`run` is *one-shot*: a fresh container whose main process
    is the command, removed when it ends. Inside ``with Sandbox(...) as box:`` the box is a
    *session*: one container serves several :meth:`run` calls (each with its own timeout,
    each leaving no process behind), plus :meth:`copy_in` and :meth:`copy_out`; the container
    is removed when the block ends, also on exceptions, Ctrl-C and SIGTERM.

    Host folders in ``mounts`` are read-only unless ``Mount(..., writable=True)``.
    ``backend="oci"`` runs the box with an OCI runtime (runc, or ``Policy(runtime="runsc")``)
    directly, with no engine; the image may then also be ``docker-archive:PATH`` or
    ``oci-archive:PATH``.
    """

    def __init__(
        self,
        image: str,
        policy: Policy | None = None,
        *,
        mounts: Iterable[Mount | str] = (),
        workdir: str = DEFAULT_WORKDIR,
        labels: dict[str, str] | None = None,
        engine: Engine | None = None,
        backend: Backend = "engine",
    ) -> None:
        from reprobox.sandbox.backend import check_backend

        self.backend = check_backend(backend)
        self.image = image
        self.policy = policy or Policy()
        self.mounts = tuple(m if isinstance(m, Mount) else Mount.parse(m) for m in mounts)
        for mount in self.mounts:
            mount.check_writable(self.policy.user)  # refused now, not half-way through a run
        self.workdir = workdir
        self.labels = dict(labels or {})
        self._engine = engine
        self._session: SessionBox | None = None
        self._stack: contextlib.ExitStack | None = None

    # --- life cycle -----------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        from reprobox.sandbox.backend import start_session

        stack = contextlib.ExitStack()
        with stack:
            stack.enter_context(sigterm_raises())
            spec = self._spec(())
            engine = self._engine_factory(stack)
            stack.callback(self._end_session)
            self._session = starting(
                self.image, lambda: start_session(self.backend, spec, self.policy, engine)
            )
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the session's container (idempotent)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    @property
    def container_id(self) -> str | None:
        """The session container's ID (``None`` outside a session)."""
        return self._session.container_id if self._session else None

    # --- running --------------------------------------------------------------------------
    def run(
        self,
        cmd: Command,
        *,
        timeout: Timeout = POLICY_TIMEOUT,
        on_output: OnOutput | None = None,
    ) -> RunResult:
        """Run ``cmd`` to the end (or its timeout); ``on_output`` sees live output."""
        with self.stream(cmd, timeout=timeout) as stream:
            for chunk in stream:
                if on_output is not None:
                    on_output(chunk)
        return stream.result

    def stream(self, cmd: Command, *, timeout: Timeout = POLICY_TIMEOUT) -> RunStream:
        """Start ``cmd`` and return its live output; the result comes at the end."""
        seconds = self.policy.timeout_s if timeout is POLICY_TIMEOUT else timeout
        args = argv(cmd)
        if self._session is not None:
            return RunStream(self._session.events(args, seconds))
        return RunStream(self._one_shot(args, seconds))

    def _one_shot(
        self, args: list[str], seconds: float | None
    ) -> Generator[OutputChunk, None, RunResult]:
        from reprobox.sandbox.backend import one_shot_events

        with contextlib.ExitStack() as stack:
            stack.enter_context(sigterm_raises())
            spec = self._spec(args)
            engine = self._engine_factory(stack)
            events = one_shot_events(self.backend, spec, self.policy, seconds, engine)
            return (yield from _first_step_guarded(self.image, events))

    # --- files ----------------------------------------------------------------------------
    def copy_in(self, path: str | Path, dest: str | None = None) -> None:
        """Copy a host file or folder into ``dest`` (default: the working folder)."""
        from reprobox.sandbox import transfer

        box = self._require_session("copy_in")
        uid, gid = _ids(self.policy.user)
        box.copy_in(transfer.pack(Path(path), uid, gid), dest or self.workdir)

    def copy_out(self, path: str, dest: str | Path) -> list[str]:
        """Copy ``path`` (relative to the working folder, or absolute) out of the box into
        the host folder ``dest`` (created when missing), refusing unsafe archive members.
        A folder's *contents* land in ``dest`` (``copy_out("out", "./out")`` gives
        ``./out/answer.txt``, as ``cp -r out/. ./out`` would; ``"."`` is the working folder);
        a file lands in ``dest`` under its own name. Returns the names written."""
        from reprobox.sandbox import transfer

        box = self._require_session("copy_out")
        folder, name = self._split(path)
        data = box.copy_out(folder, name, COPY_OUT_LIMIT)
        return transfer.unpack(data, Path(dest), contents_of=name)

    # --- helpers --------------------------------------------------------------------------
    def _split(self, path: str) -> tuple[str, str]:
        full = path if path.startswith("/") else f"{self.workdir.rstrip('/')}/{path}"
        full = posixpath.normpath(full)
        if full == posixpath.normpath(self.workdir):
            return full, "."
        folder, name = posixpath.split(full)
        return folder or "/", name or "."

    def _spec(self, args: Sequence[str]) -> ContainerSpec:
        return container_spec(
            self.image,
            self.policy,
            args,
            mounts=self.mounts,
            workdir=self.workdir,
            labels=self.labels,
        )

    def _engine_factory(self, stack: contextlib.ExitStack) -> Callable[[], Engine]:
        """The engine, connected on first use (the oci backend needs it only to look up an
        image by name, through the small stdlib client)."""
        made: list[Engine] = []

        def engine() -> Engine:
            if not made:
                made.append(self._connect(stack, lite=self.backend == "oci"))
            return made[0]

        return engine

    def _connect(self, stack: contextlib.ExitStack, lite: bool = False) -> Engine:
        if self._engine is not None:
            return self._engine
        from reprobox.engine import connect

        engine = connect(lite=True, lookup=True) if lite else connect()
        stack.callback(engine.close)
        return engine

    def _end_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with shielded():
                session.destroy()

    def _require_session(self, what: str) -> SessionBox:
        if self._session is None:
            raise errors.UsageError(
                f"{what} needs a session: use it inside 'with Sandbox(...) as box:'"
            )
        return self._session


def _ids(user: str) -> tuple[int | None, int | None]:
    uid, _, gid = user.partition(":")
    gid = gid or uid
    return (int(uid) if uid.isdigit() else None, int(gid) if gid.isdigit() else None)


def missing_image(image: str, cause: errors.ReproboxError) -> errors.ImageNotFound:
    """The one-line error for a box whose image is not on the engine (never pulled)."""
    error = errors.ImageNotFound(
        f"image {image} is not on this engine (reprobox never pulls)",
        "build the offline base with 'reprobox base' and pass --image "
        "reprobox/python:3.11-bookworm, or load the image and pass --image",
    )
    error.__cause__ = cause
    return error


def starting(image: str, start: Callable[[], T]) -> T:
    """``start()``, with a missing image reported as :func:`missing_image`."""
    try:
        return start()
    except errors.ImageNotFound as exc:
        raise missing_image(image, exc) from exc


def _first_step_guarded(
    image: str, events: Generator[OutputChunk, None, RunResult]
) -> Generator[OutputChunk, None, RunResult]:
    try:
        first = next(events)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except errors.ImageNotFound as exc:
        raise missing_image(image, exc) from exc
    yield first
    return (yield from events)
