"""The engine backend: :class:`~reprobox.sandbox.backend.BoxAPI` over the engine's API.

Every call goes through :mod:`reprobox.engine.containers` and so through the
:class:`~reprobox.engine.Engine`'s client, the docker SDK or the stdlib lite client: both are
one typed interface there (:class:`reprobox.engine.api.ContainerAPI`), so this backend is the
same code, checked alike by ``mypy --strict``, on either.

What only this backend has: the box's own init (:mod:`reprobox.sandbox.boxinit`) is every
box's main process, with the owner's *lifeline* on its stdin (the attach connection, opened
before the box starts): it ends the box when the owner dies, at the command's deadline, and
after an idle lifetime the owner renews. Where the engine can report an exit status for an
auto-removed container (Docker), boxes are created with AutoRemove and a wait is sent before
the box can exit; elsewhere (Podman) the box is removed after its status was read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reprobox import errors
from reprobox.engine import Engine
from reprobox.engine import containers as c
from reprobox.engine.containers import ContainerSpec
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox import boxinit
from reprobox.sandbox.backend import BoxGone, Frames, Main, Stats
from reprobox.sandbox.lifeline import Lifeline
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import boxed, keeper_user
from reprobox.sandbox.transfer import copy_in_by_exec, copy_out_by_exec

OOM_COUNTER = ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null"]
EXIT_STATUS_WAIT_S = 5.0


@dataclass(eq=False)
class EngineBox:
    """One container: its main process, and the owner's attach stream (lifeline + output)."""

    box_id: str
    main: Main
    auto_remove: bool
    lost: bool = False
    sock: object = None
    lifeline: Lifeline | None = None
    since: float = 0.0  # when its command started (Unix time): OOM events are read from then
    exit_status: Callable[[], int] | None = None
    removed: bool = False  # its status was read and the engine removed it by itself
    # boxinit's record at the end of a one-shot or pool box's stderr (an OOM kill, said by
    # the box's own cgroup: how Podman 4.3 on cgroup v1 tells one at all)
    words: boxinit.LastWords = field(default_factory=boxinit.LastWords)


@dataclass
class EngineStream:
    """An attach or exec stream: the engine's multiplexed frames (less boxinit's record at
    the end, for a box's main process: ``words``)."""

    sock: object
    words: boxinit.LastWords | None

    def frames(self) -> Frames:
        frames = c.frames(self.sock)
        return frames if self.words is None else self.words.frames(frames)

    def close(self) -> None:
        c.close(self.sock)


@dataclass
class EngineExec(EngineStream):
    """One exec in a running container."""

    engine: Engine
    box: EngineBox
    exec_id: str

    def exit_status(self) -> int | None:
        """The exec's status; when the engine never reports one, the container is killed
        (the box is lost) and the command counts as SIGKILLed by us."""
        deadline = time.monotonic() + EXIT_STATUS_WAIT_S
        pause = 0.001  # the exec is almost always done when its stream ends: poll fast first
        while time.monotonic() < deadline:
            state = c.exec_state(self.engine, self.exec_id)
            if not state.running:
                return state.exit_code
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        self.box.lost = True
        c.kill(self.engine, self.box.box_id)
        c.killed_by_engine_stop(self.engine)
        return SIGKILLED


class EngineBoxes:
    """Boxes as containers of one engine (see the module's documentation)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, spec: ContainerSpec, policy: Policy, main: Main) -> EngineBox:
        auto = self.engine.flavour().auto_removes_with_status
        if main.kind == "command":
            boxed_spec = boxed(spec, boxinit.one_shot(spec.command, main.timeout), auto)
        elif main.kind == "primed":
            boxed_spec = boxed(spec, boxinit.primed(), auto)
        else:
            boxed_spec = boxed(spec, boxinit.keeper(), auto, user=keeper_user(policy))
        return EngineBox(c.create(self.engine, boxed_spec), main, auto)

    def start(self, box: EngineBox) -> EngineStream:
        """Attach (stdin open: the lifeline), then start. A one-shot box's wait is sent
        first: an auto-removed box's status is gone once it has exited."""
        box.since = time.time()
        sock = box.sock = c.attach(self.engine, box.box_id, stdin=True)
        box.lifeline = Lifeline(lambda message: c.write_stdin(sock, message))
        if box.main.kind == "command":
            box.exit_status = self._exit_status_of(box)
        c.start(self.engine, box.box_id)
        return EngineStream(sock, None if box.main.kind == "keeper" else box.words)

    def send(self, box: EngineBox, cmd: list[str], timeout: float | None) -> None:
        message = boxinit.run_message(cmd, timeout)
        assert box.lifeline is not None, "send() before start()"
        box.since = time.time()
        try:
            box.exit_status = self._exit_status_of(box)
            box.lifeline.send(message)
        except errors.EngineError as exc:
            raise BoxGone(f"the box ended before its command: {exc.message}") from exc
        except errors.SandboxError as exc:
            raise BoxGone(str(exc)) from exc

    def _exit_status_of(self, box: EngineBox) -> Callable[[], int]:
        """How to get the box's exit status: a wait sent now, before an auto-removed box can
        exit and vanish; else a plain wait, later."""
        if box.auto_remove:
            return c.wait_removed(self.engine, box.box_id)
        return lambda: c.wait(self.engine, box.box_id)

    def exec(
        self,
        box: EngineBox,
        cmd: list[str],
        user: str,
        workdir: str | None = None,
        stdin: bytes | None = None,
    ) -> EngineExec:
        exec_id, sock = c.exec_start(
            self.engine, box.box_id, cmd, user, workdir, stdin=stdin is not None
        )
        if stdin is not None:
            try:
                c.send_stdin(sock, stdin)
            except BaseException:
                c.close(sock)
                raise
        return EngineExec(sock, None, self.engine, box, exec_id)

    def copy_in(self, box: EngineBox, archive: bytes, dest: str, user: str) -> None:
        copy_in_by_exec(self, box, archive, dest, user)

    def copy_out(self, box: EngineBox, folder: str, name: str, limit: int, user: str) -> bytes:
        return copy_out_by_exec(self, box, folder, name, limit, user)

    def wait(self, box: EngineBox) -> int:
        exit_status = box.exit_status or (lambda: c.wait(self.engine, box.box_id))
        try:
            code = exit_status()
        except errors.EngineError as exc:
            if box.main.kind == "primed" and exc.status == 404:
                # It was gone before the wait began: the command never ran.
                raise BoxGone(f"the box ended before its command: {exc.message}") from exc
            raise
        box.removed = box.auto_remove
        return code

    def kill(self, box: EngineBox) -> None:
        c.kill(self.engine, box.box_id)

    def remove(self, box: EngineBox) -> None:
        if not box.removed:
            c.remove(self.engine, box.box_id)
        if box.sock is not None:
            c.close(box.sock)

    def stats(self, box: EngineBox, *, oom: bool = False, reset_peak: bool = False) -> Stats:
        """A session box's usage from the host's cgroup files, and its OOM-kill count read
        inside it; for a one-shot or pool box only whether the kernel OOM-killed it."""
        if box.main.kind == "keeper":
            used = c.usage(self.engine, box.box_id, reset_peak=reset_peak)
            count = self._oom_count(box) if oom else None
            return Stats(used.peak_memory_bytes, used.cpu_ns, count)
        return Stats(oom_kills=int(self._oom_killed(box))) if oom else Stats()

    def _oom_killed(self, box: EngineBox) -> bool:
        """Said by the box's init (its last words), else asked of the engine's events when
        the box was auto-removed, else of its state; raises when the engine's stop killed it."""
        if box.words.oom_killed:
            return True
        if box.auto_remove and c.oom_reported(self.engine, box.box_id, box.since):
            return True
        if not box.auto_remove and c.oom_killed(self.engine, box.box_id):
            return True
        c.killed_by_engine_stop(self.engine)
        return False

    def _oom_count(self, box: EngineBox) -> int | None:
        c.killed_by_engine_stop(self.engine)
        try:
            text = c.exec_quick(self.engine, box.box_id, OOM_COUNTER, "0:0")
        except errors.ReproboxError:
            return None
        return oom_kills(text)

    def hold(self, box: EngineBox, timeout: float | None) -> None:
        self._lease(box, boxinit.run_lease(timeout))

    def release(self, box: EngineBox) -> None:
        self._lease(box, boxinit.idle_lease())

    def renew(self, box: EngineBox) -> bool:
        return box.lifeline is None or box.lifeline.beat()

    def _lease(self, box: EngineBox, message: bytes) -> None:
        if box.lifeline is None:
            return
        try:
            box.lifeline.send(message)
        except errors.SandboxError as exc:
            box.lost = True
            raise errors.SandboxError(
                "this box was lost: it ended (its engine restarted or it was removed)",
                "open a new Sandbox",
            ) from exc


def oom_kills(text: bytes) -> int:
    """The ``oom_kill`` count of a cgroup v1 ``memory.oom_control`` file (0 when absent)."""
    for line in text.decode("ascii", "replace").splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0
