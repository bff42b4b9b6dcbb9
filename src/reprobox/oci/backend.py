"""The oci backend: :class:`~reprobox.sandbox.backend.BoxAPI` over an OCI runtime, no daemon.

A one-shot or primed box is ``<runtime> run`` in the foreground, with the box's stdout and
stderr on two pipes (the runtime passes them straight to the box's init); the command runs
under the init (``tini``), so when the command ends the init exits and the kernel kills every
other process of the box's pid namespace. A kill kills the init, with the same effect. With
runc the box is kept after it exits (``run --keep``) just long enough to read its cgroup
(peak memory, CPU, the OOM counter), then deleted. A session box runs an idle keeper
(``run --detach``) and serves each command with ``<runtime> exec``.

What only this backend has: each box is registered with its owner's *supervisor*
(:class:`reprobox.oci.runtime.Supervisor`), which kills and deletes it when the owner dies or
its deadline passes; so there is nothing to renew or lease (:meth:`OciBoxes.renew`,
:meth:`~OciBoxes.hold` and :meth:`~OciBoxes.release` do nothing).
"""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from reprobox import errors
from reprobox.engine.containers import ContainerSpec
from reprobox.exitcodes import SIGKILLED
from reprobox.oci import runtime as rt
from reprobox.oci.box import KEEPER, LAUNCHER, Launched, Setup, make_setup, pipe_frames
from reprobox.oci.config import resources
from reprobox.oci.config import user as oci_user
from reprobox.sandbox.backend import Frames, Main, Stats
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.spec import keeper_user
from reprobox.sandbox.transfer import copy_in_by_exec, copy_out_by_exec

if TYPE_CHECKING:
    from reprobox.engine import Engine

STDERR_TAIL = 4096
KILL_TRIES = 100


class Piped:
    """A runtime process's stdout and stderr as frames (the end of stderr is kept: it holds
    the runtime's own error when it could not start the box). Closing reaps the process."""

    def __init__(self, proc: subprocess.Popen[bytes], feeder: threading.Thread | None = None):
        self.proc = proc
        self.stderr_tail = b""
        self._feeder = feeder

    def frames(self) -> Frames:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, data in pipe_frames(self.proc.stdout, self.proc.stderr):
            if stream == 2:
                self.stderr_tail = (self.stderr_tail + data)[-STDERR_TAIL:]
            yield stream, data

    def close(self) -> None:
        """Close the pipes and wait for the process (it ends with its output)."""
        for pipe in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        if self._feeder is not None:
            self._feeder.join()
        self.proc.wait()


class NoOutput:
    """A detached box's output: nothing (its keeper writes nothing)."""

    def frames(self) -> Frames:
        return iter(())

    def close(self) -> None:
        pass


@dataclass(eq=False)
class OciBox:
    """One box: its bundle and supervisor, and the foreground runtime process (one-shot and
    primed boxes) with its output."""

    launched: Launched
    main: Main
    lost: bool = False
    output: Piped | None = field(default=None, repr=False)

    @property
    def box_id(self) -> str:
        return self.launched.box_id


class OciExec(Piped):
    """One ``<runtime> exec`` in a session box."""

    def __init__(
        self, proc: subprocess.Popen[bytes], box: OciBox, feeder: threading.Thread | None
    ) -> None:
        super().__init__(proc, feeder)
        self.box = box

    def exit_status(self) -> int | None:
        code = self.proc.wait()
        return SIGKILLED if self.box.lost else code


class OciBoxes:
    """Boxes run by one OCI runtime from one unpacked image (see the module's documentation)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self._users: dict[str, str] = {}

    @classmethod
    def open(cls, spec: ContainerSpec, policy: Policy, engine: Callable[[], Engine]) -> OciBoxes:
        """Find the runtime and unpack (or find) the image of ``spec``, once."""
        return cls(make_setup(spec.image, spec, policy, engine))

    def create(self, spec: ContainerSpec, policy: Policy, main: Main) -> OciBox:
        if main.kind == "command":
            made = Launched.create(self.setup, spec.command, spec.user, main.timeout)
        elif main.kind == "primed":
            made = Launched.create(self.setup, LAUNCHER, spec.user, None)
        else:
            made = Launched.create(self.setup, KEEPER, keeper_user(policy), None)
        return OciBox(made, main)

    def start(self, box: OciBox) -> Piped | NoOutput:
        if box.main.kind == "keeper":
            self._detach(box)
            return NoOutput()
        setup, bundle = self.setup, box.launched.bundle
        keep = ["--keep"] if setup.runtime.keeps_state else []
        if not setup.runtime.keeps_state:  # runsc: so its OOM counter outlives it
            rt.memory_cgroup_made(box.box_id, resources(setup.spec).get("memory"))
        cmd = [*setup.runtime_argv(), "run", *keep, "--pid-file", str(bundle.pid_file)]
        proc = rt.spawn(
            setup.runtime,
            [*cmd, "--bundle", str(bundle.path), box.box_id],
            stdin=subprocess.PIPE if box.main.kind == "primed" else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        box.output = Piped(proc)
        return box.output

    def _detach(self, box: OciBox) -> None:
        setup, bundle = self.setup, box.launched.bundle
        log = bundle.path / "start.log"
        with log.open("wb") as err:
            code = rt.quiet_to(
                [*setup.runtime_argv(), "run", "--detach", "--pid-file", str(bundle.pid_file),
                 "--bundle", str(bundle.path), box.box_id],
                err,
                runtime=setup.runtime,
            )  # fmt: skip
        if code != 0:
            message = log.read_text(errors="replace").strip().splitlines()
            raise errors.SandboxError(
                f"{setup.runtime.name} could not start the box: "
                f"{message[-1] if message else f'exit {code}'}"
            )

    def send(self, box: OciBox, cmd: list[str], timeout: float | None) -> None:
        assert box.output is not None and box.output.proc.stdin is not None
        stdin = box.output.proc.stdin
        try:
            stdin.write(shlex.join(cmd).encode())
            stdin.close()
        except BrokenPipeError:
            pass  # the box ended: its output ends at once, and wait() says why

    def exec(
        self,
        box: OciBox,
        cmd: list[str],
        user: str,
        workdir: str | None = None,
        stdin: bytes | None = None,
    ) -> OciExec:
        where = ["--cwd", workdir] if workdir else []
        argv = [*self.setup.runtime_argv(), "exec", "--user", self._ids(user), *where]
        proc = rt.spawn(
            self.setup.runtime,
            [*argv, box.box_id, *cmd],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        feeder = None
        if stdin is not None:
            assert proc.stdin is not None
            feeder = threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True)
            feeder.start()
        return OciExec(proc, box, feeder)

    def _ids(self, user: str) -> str:
        """``user`` as numeric ``uid:gid`` (names looked up in the image, once)."""
        if user not in self._users:
            ids = oci_user(user, self.setup.image.rootfs)
            self._users[user] = f"{ids['uid']}:{ids['gid']}"
        return self._users[user]

    def copy_in(self, box: OciBox, archive: bytes, dest: str, user: str) -> None:
        copy_in_by_exec(self, box, archive, dest, user)

    def copy_out(self, box: OciBox, folder: str, name: str, limit: int, user: str) -> bytes:
        return copy_out_by_exec(self, box, folder, name, limit, user)

    def wait(self, box: OciBox) -> int:
        """The foreground runtime's exit status (the box's main process's); an error when
        the runtime could not start the box at all."""
        assert box.output is not None, "wait() on a box with no main process to wait for"
        box.output.close()
        code = box.output.proc.wait()
        if not box.launched.bundle.started():
            raise errors.SandboxError(
                f"{self.setup.runtime.name} could not start the box: "
                f"{_last_line(box.output.stderr_tail)}"
            )
        return code

    def kill(self, box: OciBox) -> None:
        """Kill the box's init (and so every process of the box); for a foreground box,
        retrying until its runtime process is gone."""
        if box.output is None:
            box.launched.kill()
            return
        proc = box.output.proc
        for _ in range(KILL_TRIES):
            if proc.poll() is not None:
                return
            box.launched.kill()
            try:
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            return

    def remove(self, box: OciBox) -> None:
        """Kill what is left, delete the box from the runtime, remove its bundle and
        release its supervisor: nothing of the box is left (runtime state, cgroup, mount)."""
        if box.output is None:
            box.launched.kill()
            rt.delete(self.setup.runtime, box.box_id, self.setup.network)
        else:
            if box.output.proc.poll() is None:
                self.kill(box)
            box.output.close()
        box.launched.remove()

    def stats(self, box: OciBox, *, oom: bool = False, reset_peak: bool = False) -> Stats:
        """From the box's cgroup on the host (a few small reads); a session box's OOM count
        always (it is cheap), a one-shot box's when asked."""
        used = rt.usage(box.box_id, reset_peak=reset_peak)
        count = rt.oom_kills(box.box_id) if oom or box.main.kind == "keeper" else None
        return Stats(used.peak_memory_bytes, used.cpu_ns, count)

    def hold(self, box: OciBox, timeout: float | None) -> None:
        pass  # the supervisor holds the box's lifetime

    def release(self, box: OciBox) -> None:
        pass

    def renew(self, box: OciBox) -> bool:
        return True


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
    except (BrokenPipeError, OSError):
        pass  # the command stopped reading: its exit status says why
    finally:
        with contextlib.suppress(OSError):
            pipe.close()


def _last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else "no error message"
