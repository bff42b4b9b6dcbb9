"""Containers and execs for the sandbox: create from a typed spec, stream output, kill, remove.

The sandbox (``reprobox.sandbox``) decides *what* a box looks like as a :class:`ContainerSpec`;
this module is the only place that turns it into engine API calls. Output is read straight
from the engine's multiplexed attach/exec stream (8-byte frame headers), through a buffered
reader, so reading is linear in the size of the output.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reprobox import errors
from reprobox.engine import cgroups, lite
from reprobox.engine import reaper as reaping
from reprobox.engine.core import Engine
from reprobox.engine.flavour import Flavour, adapt_host_config, refusal

STDOUT = 1
STDERR = 2
_LOG = logging.getLogger("reprobox")
REMOVAL_WAIT_S = 10.0
_HEADER = struct.Struct(">BxxxL")
_READ_BUFFER = 1 << 16


@dataclass(frozen=True)
class BindMount:
    """A host folder mounted into the container."""

    source: str
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ContainerSpec:
    """Everything the engine needs to create one box; built by ``reprobox.sandbox``."""

    image: str
    command: tuple[str, ...]
    user: str
    env: tuple[tuple[str, str], ...]
    workdir: str
    labels: tuple[tuple[str, str], ...]
    network: str  # "disabled", "none" or "host"
    read_only: bool = True
    tmpfs: tuple[tuple[str, str], ...] = ()
    cap_drop: tuple[str, ...] = ("ALL",)
    cap_add: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ("no-new-privileges",)
    pids_limit: int | None = None
    memory_bytes: int | None = None
    memory_swap_bytes: int | None = None
    nano_cpus: int | None = None
    ulimits: tuple[tuple[str, int], ...] = ()
    # The box sets ``ulimits`` itself (its init, and a session's command wrapper), so every
    # command of the box has them even where the engine drops them (rootless Podman's API).
    ulimits_by_init: bool = False
    init: bool = True
    runtime: str | None = None
    binds: tuple[BindMount, ...] = field(default_factory=tuple)
    # Output is streamed to the caller; the engine keeping a second copy costs disk and time.
    log_driver: str = "none"
    # Keep stdin open until the first attached client closes it (the box's init reads its
    # owner's messages there, and ends the box when the owner's connection ends).
    stdin: bool = False
    # The engine removes the container as soon as its main process exits.
    auto_remove: bool = False
    # A detached reaper removes the container if the owner process dies before it removed it
    # (for boxes that cannot be AutoRemove: see reprobox.engine.reaper). Local engines only.
    reaped: bool = False


def host_config_kwargs(spec: ContainerSpec) -> dict[str, Any]:
    """The ``create_host_config`` arguments for ``spec`` (pure, so it is unit-tested).

    Ulimits and the log config are plain dicts in the engine's own shape (the SDK accepts
    them as it accepts its ``Ulimit``/``LogConfig`` types), so this module needs no SDK."""
    kwargs: dict[str, Any] = {
        "read_only": spec.read_only,
        "tmpfs": dict(spec.tmpfs),
        "cap_drop": list(spec.cap_drop),
        "cap_add": list(spec.cap_add) or None,
        "security_opt": list(spec.security_opt),
        "pids_limit": spec.pids_limit,
        "mem_limit": spec.memory_bytes,
        "memswap_limit": spec.memory_swap_bytes,
        "nano_cpus": spec.nano_cpus,
        "ulimits": [{"Name": n, "Soft": v, "Hard": v} for n, v in spec.ulimits] or None,
        "init": spec.init,
        "log_config": {"Type": spec.log_driver, "Config": {}},
        "runtime": spec.runtime,
        "auto_remove": spec.auto_remove or None,
        "binds": [f"{b.source}:{b.target}:{'ro' if b.read_only else 'rw'}" for b in spec.binds]
        or None,
    }
    if spec.network != "disabled":
        kwargs["network_mode"] = spec.network
    return {k: v for k, v in kwargs.items() if v is not None}


def create_kwargs(spec: ContainerSpec) -> dict[str, Any]:
    """The ``create_container`` arguments for ``spec`` (without the host config)."""
    return {
        "image": spec.image,
        "entrypoint": list(spec.command[:1]),
        "command": list(spec.command[1:]),
        "user": spec.user,
        "environment": [f"{k}={v}" for k, v in spec.env],
        "working_dir": spec.workdir,
        "labels": dict(spec.labels),
        "network_disabled": spec.network == "disabled",
        "detach": not spec.stdin,
        "stdin_open": spec.stdin,
        "tty": False,
        # The SDK would copy proxy settings from the host's ~/.docker/config.json into the
        # box's environment: host configuration must never leak into a sandbox.
        "use_config_proxy": False,
    }


def engine_host_config_kwargs(flavour: Flavour, spec: ContainerSpec) -> dict[str, Any]:
    """:func:`host_config_kwargs` as ``flavour``'s engine needs them for the same box; raises
    :class:`reprobox.errors.Unsupported` when the engine cannot give the box what it asks."""
    ulimits = bool(spec.ulimits) and not spec.ulimits_by_init
    refused = refusal(flavour, limits=_limited(spec), ulimits=ulimits, runtime=spec.runtime)
    if refused is not None:
        raise refused
    return adapt_host_config(
        flavour,
        host_config_kwargs(spec),
        user=spec.user,
        network_disabled=spec.network == "disabled",
    )


def _limited(spec: ContainerSpec) -> bool:
    return any(v is not None for v in (spec.pids_limit, spec.memory_bytes, spec.nano_cpus))


# Each box's own cgroup parent, made by reprobox (rootless Podman on cgroup v1): removed with it.
_BOX_CGROUPS: dict[str, str] = {}
_CGROUP_LIMIT_KWARGS = ("pids_limit", "mem_limit", "memswap_limit", "nano_cpus")


def _box_cgroup(flavour: Flavour, spec: ContainerSpec) -> str | None:
    """Make the box's limited cgroup when the engine cannot (see engine/cgroups.py)."""
    uid = flavour.host_uid(0)
    if not (flavour.needs_box_cgroups and _limited(spec)) or uid is None:
        return None
    limits = cgroups.BoxLimits(
        spec.memory_bytes, spec.memory_swap_bytes, spec.pids_limit, spec.nano_cpus
    )
    return cgroups.create(uid, limits)


def create(engine: Engine, spec: ContainerSpec) -> str:
    """Create (not start) a container for ``spec``; returns its ID."""
    flavour = engine.flavour()
    kwargs = engine_host_config_kwargs(flavour, spec)
    parent = _box_cgroup(flavour, spec)
    if parent is not None:
        kwargs = {k: v for k, v in kwargs.items() if k not in _CGROUP_LIMIT_KWARGS}
        kwargs["cgroup_parent"] = parent
    try:
        container_id = _create(engine, spec, kwargs)
    except BaseException:
        if parent is not None:
            cgroups.remove(parent)
        raise
    if parent is not None:
        _BOX_CGROUPS[container_id] = parent
    return container_id


def _create(engine: Engine, spec: ContainerSpec, kwargs: dict[str, Any]) -> str:
    api = engine.api
    reaper = _reaper(engine, spec)
    if reaper is not None:
        spec = replace(spec, labels=(*spec.labels, reaper.label))
    try:
        with engine.guard(f"create a box from {spec.image}"):
            host_config = api.create_host_config(**kwargs)
            created = api.create_container(host_config=host_config, **create_kwargs(spec))
    except BaseException:
        if reaper is not None:
            reaper.abandon()  # whatever the engine made of the request is removed
        raise
    container_id = str(created["Id"])
    if reaper is not None:
        reaping.watch(container_id, reaper)
    return container_id


def _reaper(engine: Engine, spec: ContainerSpec) -> reaping.Reaper | None:
    if not spec.reaped or not engine.url.startswith("unix://"):
        return None
    return reaping.Reaper(engine.url.removeprefix("unix://"))


def attach(engine: Engine, container_id: str, stdin: bool = False) -> object:
    """A raw socket streaming the container's stdout and stderr (attach before start); with
    ``stdin``, writes to it go to the main process's stdin."""
    params = {"stdin": int(stdin), "stdout": 1, "stderr": 1, "stream": 1}
    with engine.guard("attach to the box"):
        sock = engine.api.attach_socket(container_id, params=params)
    return _blocking(sock)


def start(engine: Engine, container_id: str) -> None:
    with engine.guard("start the box"):
        engine.api.start(container_id)


def wait(engine: Engine, container_id: str) -> int:
    """Wait for the container's main process; returns its exit status."""
    with engine.guard("wait for the box"):
        return int(engine.api.wait(container_id)["StatusCode"])


def wait_removed(engine: Engine, container_id: str) -> Callable[[], int]:
    """Start waiting for an auto-removed container *before* it can exit (afterwards it is
    gone, and so is its status); call the result for the main process's exit status. The
    lite client sends the wait now on a connection of its own; the SDK's waits in a thread."""
    api = engine.api
    if isinstance(api, lite.LiteAPIClient):
        with engine.guard("wait for the box"):
            pending = api.wait_later(container_id, condition="removed")

        def lite_result() -> int:
            with engine.guard("wait for the box"):
                return int(pending()["StatusCode"])

        return lite_result
    return _threaded_wait(engine, container_id)


def _threaded_wait(engine: Engine, container_id: str) -> Callable[[], int]:
    answer: list[int | BaseException] = []

    def waiting() -> None:
        try:
            with engine.guard("wait for the box"):
                answer.append(int(engine.api.wait(container_id, condition="removed")["StatusCode"]))
        except BaseException as exc:
            answer.append(exc)

    thread = threading.Thread(target=waiting, name="reprobox-wait", daemon=True)
    thread.start()

    def result() -> int:
        thread.join()
        if isinstance(answer[0], BaseException):
            raise answer[0]
        return answer[0]

    return result


def killed_by_engine_stop(engine: Engine) -> None:
    """Raise :class:`errors.EngineUnavailable` when the engine no longer takes new
    connections: a command SIGKILLed then was killed by the engine stopping, not by itself.
    (A stopping engine closes its listener first and kills containers after, while it still
    answers on connections it already had; so ask on a new one.)"""
    if not engine.url.startswith("unix://"):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(5)
    try:
        probe.connect(engine.url.removeprefix("unix://"))
        probe.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        answered = probe.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        answered = False
    finally:
        probe.close()
    if not answered:
        raise errors.EngineUnavailable(
            f"the engine at {engine.url} stopped while the command ran, and killed it",
            "start the engine again; 'reprobox gc' then removes what is left",
        )


def oom_reported(engine: Engine, container_id: str, since: float) -> bool:
    """Whether the engine reported an out-of-memory kill in the container since ``since``
    (a Unix time): works after the container was removed, unlike its ``OOMKilled`` state."""
    filters = json.dumps({"container": [container_id], "event": ["oom"]})
    until = f"{time.time():.9f}"
    with engine.guard("read the box's events"):
        api = engine.api
        if isinstance(api, lite.LiteAPIClient):
            found = api.events_between(f"{since:.9f}", until, filters)
        else:
            # The SDK passes string times through unchanged (its int/datetime forms would cut
            # them to whole seconds, and an "until" in the future makes the engine wait).
            sdk: Any = engine.raw.api
            found = list(
                sdk.events(
                    since=f"{since:.9f}", until=until, filters=json.loads(filters), decode=True
                )
            )
    return any(event.get("status") == "oom" or event.get("Action") == "oom" for event in found)


def oom_killed(engine: Engine, container_id: str) -> bool:
    """Whether the engine recorded that the container's main process was OOM-killed."""
    with engine.guard("inspect the box"):
        state = engine.api.inspect_container(container_id)["State"]
    return bool(state.get("OOMKilled"))


def kill(engine: Engine, container_id: str) -> None:
    """SIGKILL the container (every process in it); a container already gone is fine."""
    with contextlib.suppress(errors.EngineError, errors.ImageNotFound), engine.guard("kill"):
        engine.api.kill(container_id)


def remove(engine: Engine, container_id: str) -> None:
    """Kill and remove the container and its anonymous volumes; returns when it is gone
    (also when the engine was removing it already). Idempotent. A failure is logged as a
    warning on the ``reprobox`` logger, never swallowed: the container may be left behind
    (then its reaper, if it has one, still removes it when this process ends)."""
    try:
        with engine.guard("remove the box"):
            engine.api.remove_container(container_id, force=True, v=True)
        _released(container_id)
    except errors.EngineError as exc:
        if exc.status == 404 and _gone_or_going(exc.message):
            _released(container_id)
            return
        if exc.status == 409 and _gone_or_going(exc.message) and _await_gone(engine, container_id):
            _released(container_id)
            return
        _LOG.warning(
            "could not remove container %s: %s (remove it with 'reprobox gc')",
            container_id[:12],
            exc.message,
        )
    except errors.EngineUnavailable as exc:
        _LOG.warning(
            "could not remove container %s: %s (once the engine is back, 'reprobox gc' removes it)",
            container_id[:12],
            exc.message,
        )


def _released(container_id: str) -> None:
    """The container is gone: forget its reaper, remove its own cgroup folders."""
    reaping.release(container_id)
    parent = _BOX_CGROUPS.pop(container_id, None)
    if parent is not None:
        cgroups.remove(parent)


def _await_gone(engine: Engine, container_id: str, seconds: float = REMOVAL_WAIT_S) -> bool:
    """Wait until the engine's own removal of the container is done; whether it is gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with engine.guard("inspect the box"):
                engine.api.inspect_container(container_id)
        except errors.EngineError as exc:
            return exc.status == 404
        time.sleep(0.02)
    return False


def _gone_or_going(message: str) -> bool:
    text = message.lower()
    return "no such container" in text or "already in progress" in text


def exec_start(
    engine: Engine,
    container_id: str,
    cmd: list[str],
    user: str,
    workdir: str | None = None,
    stdin: bool = False,
) -> tuple[str, object]:
    """Start ``cmd`` in the running container; returns the exec ID and its output socket."""
    api = engine.api
    with engine.guard("run a command in the box"):
        exec_id = api.exec_create(
            container_id, cmd, stdout=True, stderr=True, stdin=stdin, user=user, workdir=workdir
        )["Id"]
        sock = _exec_stream(engine, str(exec_id))
    return str(exec_id), _blocking(sock)


def _exec_stream(engine: Engine, exec_id: str) -> Any:
    """The started exec's stream. On a local socket it is hijacked by the stdlib client,
    which never reads past the response head: the SDK's buffered reader can swallow the
    first output when the engine sends it together with the head (Podman does)."""
    api = engine.api
    if isinstance(api, lite.LiteAPIClient):
        return api.exec_start_socket(exec_id)
    if not engine.url.startswith("unix://"):
        return engine.raw.api.exec_start(exec_id, socket=True)
    version = str(getattr(engine.raw.api, "api_version", "") or lite.MIN_API_VERSION)
    client = lite.LiteAPIClient(engine.url.removeprefix("unix://"), version=version)
    return client.exec_start_socket(exec_id)


@dataclass(frozen=True)
class ExecState:
    """An exec's state: ``exit_code`` is ``None`` while it runs, and also when the engine
    recorded no exit status for a finished exec (it never started, or its box was killed)."""

    running: bool
    exit_code: int | None


def exec_state(engine: Engine, exec_id: str) -> ExecState:
    with engine.guard("inspect a command in the box"):
        data = engine.api.exec_inspect(exec_id)
    code = data.get("ExitCode")
    return ExecState(bool(data.get("Running")), None if code is None else int(code))


def exec_quick(engine: Engine, container_id: str, cmd: list[str], user: str) -> bytes:
    """Run a short helper command to completion; returns its stdout."""
    _, sock = exec_start(engine, container_id, cmd, user)
    out = bytearray()
    try:
        for stream, data in frames(sock):
            if stream == STDOUT:
                out += data
    finally:
        close(sock)
    return bytes(out)


def write_stdin(sock: Any, data: bytes) -> None:
    """Write ``data`` to the stdin of an attach stream, keeping it open."""
    try:
        _socket_of(sock).sendall(data)
    except OSError as exc:
        raise errors.SandboxError(f"the box stopped reading its input: {exc}") from exc


def send_stdin(sock: Any, data: bytes) -> None:
    """Write ``data`` to an exec's stdin and close the writing half (EOF for the command)."""
    raw = _socket_of(sock)
    try:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise errors.SandboxError(f"the box stopped reading its input: {exc}") from exc


def frames(sock: Any) -> Iterator[tuple[int, bytes]]:
    """``(stream, data)`` frames of a multiplexed (non-TTY) stream until the engine closes it
    (a connection reset ends the stream too: the caller then asks the engine what happened)."""
    reader = _buffered(sock)
    while True:
        try:
            header = reader.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            stream, size = _HEADER.unpack(header)
            data = reader.read(size) if size else b""
        except OSError:
            return
        if size and not data:
            return
        yield stream, data


def close(sock: Any) -> None:
    """Close an attach/exec socket, ignoring errors of an already closed one."""
    raw = getattr(sock, "_sock", sock)
    if isinstance(raw, socket.socket):
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def _blocking(sock: object) -> object:
    """The client's request timeout must not end a long quiet command: reads block."""
    _socket_of(sock).settimeout(None)
    return sock


def _socket_of(sock: Any) -> socket.socket:
    raw = getattr(sock, "_sock", sock)
    if not isinstance(raw, socket.socket):
        raise errors.SandboxError(f"unsupported engine stream {type(sock).__name__}")
    return raw


def _buffered(sock: Any) -> io.BufferedIOBase | io.BufferedReader:
    if isinstance(sock, io.RawIOBase):
        return io.BufferedReader(sock, _READ_BUFFER)
    if isinstance(sock, socket.socket):
        return io.BufferedReader(socket.SocketIO(sock, "rb"), _READ_BUFFER)
    raise errors.SandboxError(f"unsupported engine stream {type(sock).__name__}")


# Where the engine's cgroupfs driver puts a container's cgroup (v1 controllers), relative to
# /sys/fs/cgroup/<controller>/; checked in order.
_CGROUP_DIRS = (
    "docker/{id}",
    "system.slice/docker-{id}.scope",
    "libpod_parent/libpod-{id}",  # rootful Podman with the cgroupfs manager
)
_CGROUP_ROOT = "/sys/fs/cgroup"


@dataclass(frozen=True)
class Usage:
    """What a container's cgroup has used (``None`` where the host does not say)."""

    peak_memory_bytes: int | None
    cpu_ns: int | None


def usage(engine: Engine, container_id: str, reset_peak: bool = False) -> Usage:
    """Peak memory and CPU time from the host's cgroup v1 files: cheap (two small reads), and
    only available when the engine runs on this host; ``Usage(None, None)`` otherwise.
    ``reset_peak`` restarts the peak measurement after reading it."""
    if not engine.url.startswith("unix://"):
        return Usage(None, None)
    memory = _cgroup_file("memory", container_id, "memory.max_usage_in_bytes")
    cpu = _cgroup_file("cpuacct", container_id, "cpuacct.usage")
    peak = _read_int(memory)
    if reset_peak and memory is not None:
        with contextlib.suppress(OSError):
            memory.write_text("0")
    return Usage(peak, _read_int(cpu))


def _cgroup_file(controller: str, container_id: str, name: str) -> Path | None:
    parent = _BOX_CGROUPS.get(container_id)  # a box's own parent (rootless Podman, cgroup v1)
    own = (f"{parent.strip('/')}/libpod-{{id}}",) if parent else ()
    for pattern in (*own, *_CGROUP_DIRS):
        path = Path(_CGROUP_ROOT, controller, pattern.format(id=container_id), name)
        if path.exists():
            return path
    return None


def _read_int(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
