"""A session on the oci backend: a detached box with an idle keeper, commands by ``exec``.

Like the engine's sessions (:mod:`reprobox.sandbox.keeper`): the keeper runs as another user
than the commands; each command runs under a wrapper that SIGKILLs everything its user can
signal when it ends; a timeout sends the same kill from a second ``exec``, and when that cannot
run (a fork bomb filled the pids limit) the whole box is killed and lost. The OOM counter is
read from the box's cgroup on the host, not from inside.
"""

from __future__ import annotations

import subprocess
from collections.abc import Generator

from reprobox import errors
from reprobox.exitcodes import SIGKILLED
from reprobox.oci import runtime as rt
from reprobox.oci.box import KEEPER, KILL_ALL, WRAPPER, Launched, Setup, launched, pipe_frames
from reprobox.oci.config import user as oci_user
from reprobox.sandbox.output import Capture
from reprobox.sandbox.pump import supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import shielded
from reprobox.sandbox.spec import keeper_user
from reprobox.sandbox.transfer import tar_error

EXEC_TIMEOUT_S = 10.0


class OciSession:
    """One detached box serving commands as the policy's user."""

    def __init__(self, box: Launched) -> None:
        self.box = box
        ids = oci_user(box.setup.spec.user, box.setup.image.rootfs)
        self.user = f"{ids['uid']}:{ids['gid']}"
        self.lost = False

    @classmethod
    def start(cls, setup: Setup) -> OciSession:
        box = launched(setup, KEEPER, keeper_user(setup.policy), None)
        try:
            log = box.bundle.path / "start.log"
            with log.open("wb") as err:
                code = rt.quiet_to(
                    [*setup.runtime_argv(), "run", "--detach", "--pid-file",
                     str(box.bundle.pid_file), "--bundle", str(box.bundle.path), box.box_id],
                    err,
                    runtime=setup.runtime,
                )  # fmt: skip
            if code != 0:
                message = log.read_text(errors="replace").strip().splitlines()
                raise errors.SandboxError(
                    f"{setup.runtime.name} could not start the box: "
                    f"{message[-1] if message else f'exit {code}'}"
                )
            return cls(box)
        except BaseException:
            box.remove()
            raise

    @property
    def container_id(self) -> str:
        return self.box.box_id

    def destroy(self) -> None:
        with shielded():
            self.box.kill()
            rt.delete(self.box.setup.runtime, self.box.box_id, self.box.setup.network)
            self.box.remove()

    def _exec(
        self, cmd: list[str], *, cwd: str | None = None, stdin: bool = False
    ) -> subprocess.Popen[bytes]:
        where = ["--cwd", cwd] if cwd else []
        argv = [*self.box.setup.runtime_argv(), "exec", "--user", self.user, *where]
        return rt.spawn(
            self.box.setup.runtime,
            [*argv, self.box.box_id, *cmd],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def events(
        self, cmd: list[str], timeout: float | None
    ) -> Generator[OutputChunk, None, RunResult]:
        """Run ``cmd``; yields live output and returns the result."""
        self._check_alive()
        before = rt.oom_kills(self.box.box_id)
        start = rt.usage(self.box.box_id, reset_peak=True)
        proc = self._exec(["sh", "-c", WRAPPER, "reprobox", *cmd], cwd=self.box.setup.spec.workdir)
        assert proc.stdout is not None and proc.stderr is not None
        cap = self.box.setup.policy.output_cap_bytes
        try:
            frames = pipe_frames(proc.stdout, proc.stderr)
            outcome = yield from supervise(frames, cap, timeout, self.kill_all)
        finally:
            proc.stdout.close()
            proc.stderr.close()
            code = proc.wait()
        if self.lost:
            code = SIGKILLED
        oom = code == SIGKILLED and not outcome.timed_out and rt.oom_kills(self.box.box_id) > before
        end = rt.usage(self.box.box_id)
        return outcome.result(code, oom, end.peak_memory_bytes, rt.cpu_seconds(start, end))

    def kill_all(self) -> None:
        """SIGKILL every process of the command's user; kill the box if that fails."""
        if self.lost:
            return
        proc = self._exec(KILL_ALL)
        try:
            _, _ = proc.communicate(timeout=EXEC_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode != 0:
            self.lost = True
            self.box.kill()

    def copy_in(self, archive: bytes, dest: str) -> None:
        """Unpack ``archive`` (a tar) into ``dest`` inside the box, as the command's user."""
        proc = self._exec(["tar", "-x", "-f", "-", "-C", dest], stdin=True)
        _, stderr = proc.communicate(archive)
        if proc.returncode != 0:
            raise errors.SandboxError(f"copy into {dest} failed: {tar_error(stderr)}")

    def copy_out(self, folder: str, name: str, limit: int) -> bytes:
        """A tar of ``name`` in ``folder`` inside the box (at most ``limit`` bytes)."""
        path = f"{folder}/{name}"
        proc = self._exec(["tar", "-c", "-f", "-", "-C", folder, name])
        assert proc.stdout is not None and proc.stderr is not None
        data, stderr = Capture(limit), Capture(64 * 1024)
        for stream, chunk in pipe_frames(proc.stdout, proc.stderr):
            (data if stream == 1 else stderr).feed(chunk)
        proc.stdout.close()
        proc.stderr.close()
        if proc.wait() != 0:
            raise errors.SandboxError(f"copy out of {path} failed: {tar_error(stderr.value())}")
        if data.truncated:
            raise errors.SandboxError(f"copy out of {path} failed: larger than {limit} bytes")
        return data.value()

    def _check_alive(self) -> None:
        if self.lost:
            raise errors.SandboxError(
                "this box was lost: a command exhausted it and the box was killed",
                "open a new Sandbox",
            )
