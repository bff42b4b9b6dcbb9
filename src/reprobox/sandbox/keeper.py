"""A running box that serves commands by exec: a session.

The container's main process is the box's own init (:mod:`reprobox.sandbox.boxinit`),
running as a different user than the commands (see :func:`reprobox.sandbox.spec.keeper_user`)
and holding the session's lifetime: the owner's lifeline on its stdin (the box ends when the
owner's connection closes, e.g. the owner was SIGKILLed), a lease of one run's timeout while
a command runs, and the idle lifetime, renewed by the owner's heartbeat, between runs. Every
command runs under a small ``sh`` wrapper that, when the command ends, sends SIGKILL to every
process the command's user may signal (``kill -9 -1``): background and ``setsid`` processes
included, init excluded. On timeout the same kill is sent from a second exec; when that
cannot run (a fork bomb exhausted the pids limit), the whole container is killed and the box
is lost. Either way, the command's whole process tree is dead when ``run()`` returns.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from reprobox import errors
from reprobox.engine import Engine
from reprobox.engine import containers as c
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox import boxinit
from reprobox.sandbox.lifeline import Heartbeat, Lifeline
from reprobox.sandbox.output import Capture
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded
from reprobox.sandbox.spec import boxed, keeper_user
from reprobox.sandbox.transfer import tar_error

# "$@" runs the command; then everything the command's user can signal is killed.
WRAPPER = '"$@"; rc=$?; kill -9 -1 2>/dev/null; exit $rc'
KILL_ALL = ["sh", "-c", "kill -9 -1 2>/dev/null; exit 0"]
OOM_COUNTER = ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null"]
EXIT_STATUS_WAIT_S = 5.0


@dataclass
class KeeperBox:
    """One started session box, serving commands as ``policy.user``."""

    engine: Engine
    container_id: str
    policy: Policy
    workdir: str
    sock: Any = None
    lifeline: Lifeline | None = None
    lost: bool = False
    running: bool = False
    _oom_seen: int = 0
    _heartbeat: Heartbeat | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls, engine: Engine, spec: c.ContainerSpec, policy: Policy, idle_s: float | None = None
    ) -> KeeperBox:
        """Create and start a session box from ``spec`` (its command is replaced)."""
        auto = engine.flavour().auto_removes_with_status
        session = boxed(spec, boxinit.keeper(idle_s), auto, user=keeper_user(policy))
        with held() as holder:
            container_id = c.create(engine, session)
        try:
            holder.reraise()
            sock = c.attach(engine, container_id, stdin=True)
            c.start(engine, container_id)
        except BaseException:
            with shielded():
                c.remove(engine, container_id)
            raise
        box = cls(engine, container_id, policy, spec.workdir, sock)
        box.lifeline = Lifeline(lambda m: c.write_stdin(sock, m))
        lifelines = (box.lifeline,)
        # Between runs only: while a command runs, its lease (its timeout) alone holds.
        box._heartbeat = Heartbeat(lambda: () if box.running else lifelines)
        return box

    def destroy(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
        c.remove(self.engine, self.container_id)
        if self.sock is not None:
            c.close(self.sock)

    def copy_in(self, archive: bytes, dest: str) -> None:
        copy_in(self, archive, dest)

    def copy_out(self, folder: str, name: str, limit: int) -> bytes:
        return copy_out(self, folder, name, limit)

    def _lease(self, message: bytes) -> None:
        if self.lifeline is None:
            return
        try:
            self.lifeline.send(message)
        except errors.SandboxError as exc:
            self.lost = True
            raise errors.SandboxError(
                "this box was lost: it ended (its engine restarted or it was removed)",
                "open a new Sandbox",
            ) from exc

    def events(
        self, cmd: list[str], timeout: float | None
    ) -> Generator[OutputChunk, None, RunResult]:
        """Run ``cmd``; yields live output and returns the result."""
        self._check_alive()
        self.running = True
        try:
            return (yield from self._run(cmd, timeout))
        finally:
            self.running = False

    def _run(
        self, cmd: list[str], timeout: float | None
    ) -> Generator[OutputChunk, None, RunResult]:
        self._lease(boxinit.run_lease(timeout))
        before = c.usage(self.engine, self.container_id, reset_peak=True)
        wrapped = ["sh", "-c", WRAPPER, "reprobox", *cmd]
        exec_id, sock = c.exec_start(
            self.engine, self.container_id, wrapped, self.policy.user, self.workdir
        )
        try:
            cap = self.policy.output_cap_bytes
            outcome = yield from supervise(c.frames(sock), cap, timeout, self.kill_all)
        finally:
            c.close(sock)
        code = self.exit_code(exec_id)
        if not self.lost:
            self._lease(boxinit.idle_lease())
        after = c.usage(self.engine, self.container_id)
        oom = self._oom(code, outcome.timed_out)
        return outcome.result(code, oom, after.peak_memory_bytes, _cpu_seconds(before, after))

    def kill_all(self) -> None:
        """SIGKILL every process of the command's user; kill the container if that fails."""
        if self.lost:
            return
        try:
            c.exec_quick(self.engine, self.container_id, KILL_ALL, self.policy.user)
        except errors.ReproboxError:
            self.lose()

    def lose(self) -> None:
        """Kill the whole container: every process in it dies, and the box is lost."""
        self.lost = True
        c.kill(self.engine, self.container_id)

    def exit_code(self, exec_id: str) -> int:
        """The exit status of a finished exec. When the engine never reports one, the box is
        killed: then the command was SIGKILLed by us (:data:`SIGKILLED`); an exec that
        finished without any status recorded is an error, never a made-up status."""
        deadline = time.monotonic() + EXIT_STATUS_WAIT_S
        pause = 0.001  # the exec is almost always done when its stream ends: poll fast first
        while time.monotonic() < deadline:
            state = c.exec_state(self.engine, exec_id)
            if not state.running:
                return self._finished(state)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        self.lose()
        c.killed_by_engine_stop(self.engine)
        return SIGKILLED

    def _finished(self, state: c.ExecState) -> int:
        if state.exit_code is not None:
            return state.exit_code
        if self.lost:
            return SIGKILLED  # we killed the container under it
        raise errors.SandboxError(
            "the engine recorded no exit status for the command",
            "the result is unknown: run it again; 'reprobox doctor' checks the engine",
        )

    def _oom(self, code: int, timed_out: bool) -> bool:
        if code != SIGKILLED or timed_out or self.lost:
            return False
        c.killed_by_engine_stop(self.engine)
        try:
            text = c.exec_quick(self.engine, self.container_id, OOM_COUNTER, "0:0")
        except errors.ReproboxError:
            return False
        count = _oom_kills(text)
        seen, self._oom_seen = self._oom_seen, max(count, self._oom_seen)
        return count > seen

    def _check_alive(self) -> None:
        if self.lost:
            raise errors.SandboxError(
                "this box was lost: a command exhausted it and the container was killed",
                "open a new Sandbox",
            )


def _cpu_seconds(before: c.Usage, after: c.Usage) -> float | None:
    if before.cpu_ns is None or after.cpu_ns is None:
        return None
    return (after.cpu_ns - before.cpu_ns) / 1e9


def _oom_kills(text: bytes) -> int:
    for line in text.decode("ascii", "replace").splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0


def copy_in(box: KeeperBox, archive: bytes, dest: str) -> None:
    """Unpack ``archive`` (a tar) into ``dest`` inside the box, as the command's user."""
    cmd = ["tar", "-x", "-f", "-", "-C", dest]
    exec_id, sock = c.exec_start(box.engine, box.container_id, cmd, box.policy.user, stdin=True)
    try:
        c.send_stdin(sock, archive)
        stderr = b"".join(d for s, d in c.frames(sock) if s == c.STDERR)
    finally:
        c.close(sock)
    if box.exit_code(exec_id) != 0:
        raise errors.SandboxError(f"copy into {dest} failed: {tar_error(stderr)}")


def copy_out(box: KeeperBox, folder: str, name: str, limit: int) -> bytes:
    """A tar of ``name`` in ``folder`` inside the box (at most ``limit`` bytes)."""
    path = f"{folder}/{name}"
    cmd = ["tar", "-c", "-f", "-", "-C", folder, name]
    exec_id, sock = c.exec_start(box.engine, box.container_id, cmd, box.policy.user)
    data, stderr = Capture(limit), Capture(64 * 1024)
    try:
        for stream, chunk in c.frames(sock):
            (data if stream == c.STDOUT else stderr).feed(chunk)
    finally:
        c.close(sock)
    if box.exit_code(exec_id) != 0:
        raise errors.SandboxError(f"copy out of {path} failed: {tar_error(stderr.value())}")
    if data.truncated:
        raise errors.SandboxError(f"copy out of {path} failed: larger than {limit} bytes")
    return data.value()
