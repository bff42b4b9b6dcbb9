"""A running box that serves commands by exec: a session, written once over
:class:`~reprobox.sandbox.backend.BoxAPI`.

The box's main process is an idle keeper, running as a different user than the commands (see
:func:`reprobox.sandbox.spec.keeper_user`) and holding the session's lifetime (on the engine,
the box's init with the owner's lifeline, a lease of one run's timeout while a command runs,
and the idle lifetime, renewed by :meth:`KeeperBox.renew` between runs; on oci, the runtime's
supervisor). Every command runs under a small ``sh`` wrapper that, when the command ends,
sends SIGKILL to every process the command's user may signal (``kill -9 -1``): background and
``setsid`` processes included, the keeper excluded. On timeout the same kill is sent from a
second exec; when that cannot run (a fork bomb exhausted the pids limit), the whole box is
killed and lost. Either way, the command's whole process tree is dead when ``run()`` returns.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Generic

from reprobox import errors
from reprobox.engine.containers import ContainerSpec
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox.backend import BoxAPI, Execution, H, Main, Stats
from reprobox.sandbox.lifeline import Heartbeat
from reprobox.sandbox.oneshot import streamed
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import Watchdog
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded

# "$@" runs the command; then everything the command's user can signal is killed.
WRAPPER = '"$@"; rc=$?; kill -9 -1 2>/dev/null; exit $rc'


def wrapper(policy: Policy) -> str:
    """:data:`WRAPPER`, first setting the policy's file-size and open-file limits (soft and
    hard, which the command cannot raise again): an exec is not the box init's child, and an
    engine may drop the box's own ulimits (rootless Podman's Docker API). POSIX ``sh`` counts
    file sizes in 512-byte blocks: a size is rounded down to whole blocks."""
    limits = []
    if policy.file_size_bytes is not None:
        limits.append(f"ulimit -f {policy.file_size_bytes // 512}")
    if policy.open_files is not None:
        limits.append(f"ulimit -n {policy.open_files}")
    if not limits:
        return WRAPPER
    fail = 'echo "reprobox: cannot set the resource limits" >&2; exit 125'
    return f"{' && '.join(limits)} || {{ {fail}; }}; {WRAPPER}"


KILL_ALL = ["sh", "-c", "kill -9 -1 2>/dev/null; exit 0"]
KILL_HELPER_S = 10.0  # a kill helper that takes longer cannot run: the box is killed instead


@dataclass
class KeeperBox(Generic[H]):
    """One started session box, serving commands as ``policy.user``."""

    api: BoxAPI[H]
    box: H
    policy: Policy
    workdir: str
    running: bool = False
    _oom_seen: int = 0
    _heartbeat: Heartbeat | None = field(default=None, repr=False)

    @classmethod
    def start(cls, api: BoxAPI[H], spec: ContainerSpec, policy: Policy) -> KeeperBox[H]:
        """Create and start a session box from ``spec`` (its command is replaced)."""
        with held() as holder:
            handle = api.create(spec, policy, Main("keeper"))
        try:
            holder.reraise()
            api.start(handle)  # nothing to read: the keeper writes nothing
        except BaseException:
            with shielded():
                api.remove(handle)
            raise
        box = cls(api, handle, policy, spec.workdir)
        # Between runs only: while a command runs, its hold (its timeout) alone keeps the box.
        box._heartbeat = Heartbeat(lambda: box.running or box.renew())
        return box

    @property
    def container_id(self) -> str:
        return self.box.box_id

    @property
    def lost(self) -> bool:
        return self.box.lost

    def renew(self) -> bool:
        return self.api.renew(self.box)

    def destroy(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self.api.remove(self.box)

    def copy_in(self, archive: bytes, dest: str) -> None:
        self.api.copy_in(self.box, archive, dest, self.policy.user)

    def copy_out(self, folder: str, name: str, limit: int) -> bytes:
        return self.api.copy_out(self.box, folder, name, limit, self.policy.user)

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
        self.api.hold(self.box, timeout)
        before = self.api.stats(self.box, reset_peak=True)
        wrapped = ["sh", "-c", wrapper(self.policy), "reprobox", *cmd]
        run = self.api.exec(self.box, wrapped, self.policy.user, self.workdir)
        outcome = yield from streamed(run, self.policy, timeout, self.kill_all)
        code = self.exit_status(run)
        if not self.box.lost:
            self.api.release(self.box)
        killed = code == SIGKILLED and not outcome.timed_out and not self.box.lost
        after = self.api.stats(self.box, oom=killed)
        oom = killed and self._new_oom_kill(before, after)
        return outcome.result(code, oom, after.peak_memory_bytes, _cpu_seconds(before, after))

    def exit_status(self, run: Execution) -> int:
        """The exit status of a finished command. When the backend recorded none, the
        command was SIGKILLed by us if the box was killed under it (:data:`SIGKILLED`); else
        that is an error, never a made-up status."""
        code = run.exit_status()
        if code is not None:
            return code
        if self.box.lost:
            return SIGKILLED
        raise errors.SandboxError(
            "the backend recorded no exit status for the command",
            "the result is unknown: run it again; 'reprobox doctor' checks the engine",
        )

    def kill_all(self) -> None:
        """SIGKILL every process of the command's user; kill the box if that fails or does
        not finish within :data:`KILL_HELPER_S`."""
        if self.box.lost:
            return
        overdue = Watchdog(KILL_HELPER_S, self.lose)
        try:
            helper = self.api.exec(self.box, KILL_ALL, self.policy.user)
            try:
                for _ in helper.frames():
                    pass
            finally:
                helper.close()
            ok = helper.exit_status() == 0
        except errors.ReproboxError:
            ok = False
        if overdue.cancel() or not ok:
            self.lose()

    def lose(self) -> None:
        """Kill the whole box: every process in it dies, and the box is lost."""
        self.box.lost = True
        self.api.kill(self.box)

    def _new_oom_kill(self, before: Stats, after: Stats) -> bool:
        """Whether the box's OOM-kill count grew during this run (counted from the run's
        start where the backend gave it cheaply, else from the highest count seen)."""
        if after.oom_kills is None:
            return False
        seen = self._oom_seen if before.oom_kills is None else before.oom_kills
        self._oom_seen = max(after.oom_kills, self._oom_seen)
        return after.oom_kills > seen

    def _check_alive(self) -> None:
        if self.box.lost:
            raise errors.SandboxError(
                "this box was lost: a command exhausted it and the box was killed",
                "open a new Sandbox",
            )


def _cpu_seconds(before: Stats, after: Stats) -> float | None:
    if before.cpu_ns is None or after.cpu_ns is None:
        return None
    return (after.cpu_ns - before.cpu_ns) / 1e9
