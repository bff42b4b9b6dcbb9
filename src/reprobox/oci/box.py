"""Boxes run by an OCI runtime directly: one-shot, primed (for the pool) and session boxes.

A one-shot or primed box is ``<runtime> run`` in the foreground, with the box's stdout and
stderr on two pipes (the runtime passes them straight to the box's init); the command runs
under the init (``tini``), so when the command ends the init exits and the kernel kills every
other process of the box's pid namespace. A timeout kills the init, with the same effect. With
runc the box is kept after it exits (``run --keep``) just long enough to read its cgroup's OOM
counter, then deleted. A session box runs an idle keeper (``run --detach``) and serves each
command with ``exec``, like the engine's sessions.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import shutil
import subprocess
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from reprobox import errors, tools
from reprobox.engine.containers import ContainerSpec
from reprobox.exitcodes import SIGKILLED
from reprobox.oci import runtime as rt
from reprobox.oci.config import BoxPlan, mount_targets_missing, resources, runtime_config
from reprobox.oci.images import CachedImage, ImageStore
from reprobox.oci.source import EngineFactory, cached_image
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pump import supervise
from reprobox.sandbox.result import OutputChunk, RunResult
from reprobox.sandbox.signals import held, shielded

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
WRAPPER = '"$@"; rc=$?; kill -9 -1 2>/dev/null; exit $rc'
KILL_ALL = ["sh", "-c", "kill -9 -1 2>/dev/null; exit 0"]


def init_binary() -> Path:
    """A static init that reaps zombies (Debian's ``tini`` ships ``tini-static``)."""
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
        bundle = rt.Bundle.create(box_id, runtime_config(plan), owner)
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
            if any(self.setup.runtime.state_root.glob(f"*{self.box_id}*")):
                rt.delete(self.setup.runtime, self.box_id, self.setup.network)
            if not self.setup.runtime.keeps_state:
                rt.remove_memory_cgroup(self.box_id)
            self.bundle.remove()
            self.supervisor.release()


def launched(setup: Setup, command: tuple[str, ...], user: str, deadline: float | None) -> Launched:
    """:meth:`Launched.create` with Ctrl-C and SIGTERM held until it is complete."""
    with held() as holder:
        box = Launched.create(setup, command, user, deadline)
    try:
        holder.reraise()
    except BaseException:
        box.remove()
        raise
    return box


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


class ForegroundBox:
    """``<runtime> run`` in the foreground: the box's main process is ``command``."""

    def __init__(self, box: Launched, stdin: bool) -> None:
        self.box = box
        setup = box.setup
        keep = ["--keep"] if setup.runtime.keeps_state else []
        if not setup.runtime.keeps_state:  # runsc: so its OOM counter outlives it
            rt.memory_cgroup_made(box.box_id, resources(setup.spec).get("memory"))
        cmd = [*setup.runtime_argv(), "run", *keep, "--pid-file", str(box.bundle.pid_file)]
        self.proc = rt.spawn(
            setup.runtime,
            [*cmd, "--bundle", str(box.bundle.path), box.box_id],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    @property
    def container_id(self) -> str:
        return self.box.box_id

    def kill(self) -> None:
        """Kill the box's init (and so every process of the box), retrying until it is gone."""
        for _ in range(100):
            if self.proc.poll() is not None:
                return
            self.box.kill()
            try:
                self.proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            return

    def send(self, command: list[str]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(shlex.join(command).encode())
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def events(self, timeout: float | None) -> Generator[OutputChunk, None, RunResult]:
        """Stream the box's output; returns the result once it has exited."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        frames = pipe_frames(self.proc.stdout, self.proc.stderr)
        cap = self.box.setup.policy.output_cap_bytes
        try:
            outcome = yield from supervise(frames, cap, timeout, self.kill)
        finally:
            code = self._wait()
        if not self.box.bundle.started():
            raise errors.SandboxError(
                f"{self.box.setup.runtime.name} could not start the box: "
                f"{_last_line(outcome.stderr.value())}"
            )
        box_id = self.box.box_id
        oom = code == SIGKILLED and not outcome.timed_out and rt.oom_kills(box_id) > 0
        used = rt.usage(box_id)  # the cgroup is still there when the runtime kept the box
        cpu = rt.cpu_seconds(rt.Usage(None, 0), used)
        return outcome.result(code, oom, used.peak_memory_bytes, cpu)

    def _wait(self) -> int:
        for pipe in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        return self.proc.wait()

    def destroy(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._wait()
        self.box.remove()


def one_shot(
    setup: Setup, command: list[str], timeout: float | None
) -> Generator[OutputChunk, None, RunResult]:
    """Run ``command`` as a fresh box's main process; nothing of the box is left afterwards
    (no runtime state, cgroup, bundle or mount), also on errors, Ctrl-C and SIGTERM."""
    box = launched(setup, tuple(command), setup.spec.user, timeout)
    try:
        running = ForegroundBox(box, stdin=False)
    except BaseException:
        box.remove()
        raise
    try:
        return (yield from running.events(timeout))
    finally:
        running.destroy()


class PrimedBox:
    """A started box whose launcher waits on stdin for its one command (for the pool)."""

    def __init__(self, running: ForegroundBox) -> None:
        self.running = running

    @classmethod
    def start(cls, setup: Setup) -> PrimedBox:
        box = launched(setup, LAUNCHER, setup.spec.user, None)
        try:
            return cls(ForegroundBox(box, stdin=True))
        except BaseException:
            box.remove()
            raise

    @property
    def container_id(self) -> str:
        return self.running.container_id

    def events(
        self, cmd: list[str], timeout: float | None
    ) -> Generator[OutputChunk, None, RunResult]:
        self.running.send(cmd)
        return (yield from self.running.events(timeout))

    def renew(self) -> bool:
        return True  # nothing to renew: its supervisor holds its lifetime

    def destroy(self) -> None:
        self.running.destroy()


def _last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else "no error message"


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
