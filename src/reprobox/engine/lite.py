"""A tiny Docker Engine API client over the local Unix socket, for the CLI's one-shot run.

Why it exists: importing the docker SDK (with requests and urllib3) costs ~0.2 s, which is
most of a ``reprobox run -- true`` (the engine's own create/start/wait/remove is ~0.2 s more).
So the run command's one-shot path, and only it, talks to a local engine through this
client: the stdlib only (``socket``, ``json``), HTTP/1.1 written and read by hand (the
stdlib's ``http.client`` would import ``email`` and ``ssl``, another ~40 ms).

What it is: a deliberately tiny, tested subset of the SDK's low-level ``APIClient``, exactly
the methods :mod:`reprobox.engine.containers` calls for a box (the interface
:class:`reprobox.engine.api.ContainerAPI`: ``create_host_config``, ``create_container``,
``attach_socket``, ``start``, ``wait``, ``exec_create``, ``exec_inspect``,
``inspect_container``, ``kill``, ``remove_container``, ``inspect_image``) plus ``version``
and ``ping``, with the same arguments and return shapes, and three of its own:
``exec_start_socket`` (an exec's stream, nothing after the response head read),
``wait_later`` (a ``wait`` sent before the container starts, on its own connection, as the
docker CLI does for ``--rm``) and ``events_between`` (past events, for an OOM kill).
``create_host_config``, ``create_container`` and ``exec_create`` build the same request
bodies as the SDK (unit tests compare them with the SDK's, for the default policy and
relaxed ones, and for the execs a session makes); the
one deliberate difference is that the docker CLI's ``~/.docker/config.json`` proxy settings
are never injected into the box's environment. Errors are :class:`APIError`
(:class:`NotFound`, :class:`ImageNotFound`, classified as the SDK does) and
:class:`ConnectionFailed`, which ``Engine.guard()`` translates into the same reprobox errors
as the SDK's.

What it is not: builds, images, the engine's info and everything else keep the docker SDK
(:attr:`reprobox.engine.Engine.raw` refuses on a lite connection). ``reprobox.engine`` stays
the only package that speaks to the engine.

The API version is the one the engine reports, like the SDK's ``version="auto"`` (which asks
``GET /version``): here the ``Api-Version`` header of one unversioned ``GET /_ping``, as the
docker CLI negotiates it (~1 ms, where ``/version`` takes 10-20 ms); the round trip also
proves the daemon answers. Engines older than :data:`MIN_API_VERSION` get ``None`` from
:func:`open_client`, and the caller uses the SDK.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

MIN_API_VERSION = "1.41"
_MAX_LINE = 65536
_MAX_HEAD = 1 << 16
# How the engine words a missing image (as the SDK's docker.errors classifies a 404).
_IMAGE_MISSING = (
    "no such image",
    "not found: does not exist or no pull access",
    "repository does not exist",
    "was found but does not match the specified platform",
)


class LiteError(Exception):
    """Base of what this client raises."""


class ConnectionFailed(LiteError):
    """The engine could not be reached or broke the connection (the cause is chained)."""


class APIError(LiteError):
    """The engine answered with an error status."""

    def __init__(self, status: int, explanation: str) -> None:
        super().__init__(f"{status}: {explanation}")
        self.status = status
        self.explanation = explanation


class NotFound(APIError):
    """404 for something other than an image."""


class ImageNotFound(NotFound):
    """404 because the image is not on the engine."""


def api_error(status: int, body: bytes) -> APIError:
    """The error for an error response, classified like the SDK does."""
    try:
        explanation = str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        explanation = body.decode("utf-8", "replace").strip()
    if status != 404:
        return APIError(status, explanation)
    missing = any(fragment in explanation.lower() for fragment in _IMAGE_MISSING)
    return (ImageNotFound if missing else NotFound)(status, explanation)


# --- HTTP/1.1 over a Unix socket ------------------------------------------------------------
def _request_head(method: str, target: str, body: bytes, extra: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: docker", "User-Agent: reprobox-lite"]
    if body:
        lines.append("Content-Type: application/json")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(lines: list[bytes]) -> tuple[int, dict[str, str]]:
    """Status and (lower-cased) headers from a response's status line and header lines."""
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ConnectionFailed(f"not an HTTP response: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def _read_exactly(reader: Any, size: int) -> bytes:
    data = reader.read(size)
    if len(data) != size:
        raise ConnectionFailed("the engine closed the connection mid-response")
    return bytes(data)


def _read_body(reader: Any, status: int, headers: dict[str, str]) -> bytes:
    if status in (204, 304) or 100 <= status < 200:
        return b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int(reader.readline(_MAX_LINE).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while reader.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(_read_exactly(reader, size))
            reader.readline(_MAX_LINE)
    if "content-length" in headers:
        return _read_exactly(reader, int(headers["content-length"]))
    return bytes(reader.read())  # no length: the body ends when the engine closes


def _read_response(reader: Any) -> tuple[int, dict[str, str], bytes]:
    lines = []
    while True:
        line = reader.readline(_MAX_LINE)
        if not line:
            raise ConnectionFailed("the engine closed the connection")
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line.rstrip(b"\r\n"))
    status, headers = _parse_head(lines)
    return status, headers, _read_body(reader, status, headers)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = sock.recv(size - len(data))
        if not piece:
            raise ConnectionFailed("the engine closed the connection")
        data += piece
    return data


def _read_raw_head(sock: socket.socket) -> bytes:
    """Exactly the response head (through the blank line), not one byte of the stream after
    it: peek, then consume only what belongs to the head."""
    head = b""
    while True:
        peeked = sock.recv(_MAX_HEAD, socket.MSG_PEEK)
        if not peeked:
            raise ConnectionFailed("the engine closed the connection")
        tail = head[-3:]
        end = (tail + peeked).find(b"\r\n\r\n")
        if end >= 0:
            return head + _recv_exactly(sock, end + 4 - len(tail))
        head += _recv_exactly(sock, len(peeked))
        if len(head) > _MAX_HEAD:
            raise ConnectionFailed("oversized response head")


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle keep-alive connection was closed (or sent something unasked)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Connection:
    """One keep-alive connection for request/response calls (reopened when dropped)."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self._lock = threading.Lock()

    def open_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except BaseException:
            sock.close()
            raise
        return sock

    def request(
        self, method: str, target: str, body: bytes = b"", timeout: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            try:
                return self._exchange(method, target, body, timeout)
            except (OSError, ValueError) as exc:
                self.close()
                raise ConnectionFailed(f"{method} {target}: {exc}") from exc
            except BaseException:
                self.close()  # interrupted mid-response: never reuse the connection
                raise

    def _exchange(
        self, method: str, target: str, body: bytes, timeout: float | None
    ) -> tuple[int, dict[str, str], bytes]:
        if self._sock is not None and _dropped(self._sock):
            self.close()
        if self._sock is None:
            self._sock = self.open_socket()
            self._reader = self._sock.makefile("rb")
        self._sock.settimeout(self.timeout if timeout is None else timeout)
        self._sock.sendall(_request_head(method, target, body, {}) + body)
        status, headers, data = _read_response(self._reader)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, data

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if sock is not None:
            sock.close()


# --- the APIClient subset -------------------------------------------------------------------
class LiteAPIClient:
    """The subset of ``docker.APIClient`` a one-shot run uses (same arguments and returns)."""

    def __init__(self, path: str, timeout: float = 120, version: str = MIN_API_VERSION) -> None:
        self.api_version = version
        self.timeout = timeout
        self.server = ""  # the Server header of the first ping: which engine answers
        self._conn = _Connection(path, timeout)

    def _url(self, pathfmt: str, *args: str, versioned: bool = True, **params: Any) -> str:
        path = pathfmt.format(*(urllib.parse.quote(a, safe="/:") for a in args))
        query = {k: v for k, v in params.items() if v is not None}
        prefix = f"/v{self.api_version}" if versioned and self.api_version else ""
        return prefix + path + (f"?{urllib.parse.urlencode(query)}" if query else "")

    def _call(
        self, method: str, target: str, data: Any = None, timeout: float | None = None
    ) -> bytes:
        body = b"" if data is None else json.dumps(data).encode()
        status, _, answer = self._conn.request(method, target, body, timeout)
        if status >= 400:
            raise api_error(status, answer)
        return answer

    def _json(self, method: str, target: str, data: Any = None, **kw: Any) -> dict[str, Any]:
        answer = json.loads(self._call(method, target, data, **kw))
        if not isinstance(answer, dict):
            raise ConnectionFailed(f"unexpected answer to {method} {target}: {answer!r:.80}")
        return answer

    # --- daemon -----------------------------------------------------------------------------
    def version(self, api_version: bool = True) -> dict[str, Any]:
        return self._json("GET", self._url("/version", versioned=api_version))

    def ping(self) -> bool:
        return self._call("GET", self._url("/_ping")) == b"OK"

    def server_api_version(self) -> str:
        """The engine's API version, from the ``Api-Version`` header of an unversioned
        ``GET /_ping`` (~1 ms; ``GET /version`` asks containerd too and takes 10-20 ms)."""
        status, headers, answer = self._conn.request("GET", "/_ping")
        if status >= 400:
            raise api_error(status, answer)
        self.server = headers.get("server", "")
        version = headers.get("api-version")
        return version or str(self.version(api_version=False).get("ApiVersion", ""))

    def server_header(self) -> str:
        """The engine's ``Server`` header (``Docker/20.10.24 (linux)``, ``Libpod/4.3.1``)."""
        if not self.server:
            self.server_api_version()
        return self.server

    def libpod_info(self) -> dict[str, Any]:
        """Podman's own ``GET /libpod/info`` (rootless, cgroups, id maps); Podman only."""
        return self._json("GET", self._url("/libpod/info"))

    def close(self) -> None:
        self._conn.close()

    # --- images -----------------------------------------------------------------------------
    def inspect_image(self, image: str) -> dict[str, Any]:
        return self._json("GET", self._url("/images/{0}/json", image))

    # --- containers -------------------------------------------------------------------------
    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return host_config(**kwargs)

    def create_container(
        self, image: str, command: str | list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        name = kwargs.pop("name", None)
        config = container_config(image, command, **kwargs)
        return self._json("POST", self._url("/containers/create", name=name), config)

    def attach_socket(
        self, container: str, params: dict[str, Any] | None = None, ws: bool = False
    ) -> socket.socket:
        """The hijacked attach stream as a plain socket (reads: the multiplexed output)."""
        if ws:
            raise LiteError("websocket attach is not supported by the lite client")
        query = params or {"stdout": 1, "stderr": 1, "stream": 1}
        return self._hijack(self._url("/containers/{0}/attach", container, **query), b"")

    def exec_start_socket(self, exec_id: str) -> socket.socket:
        """Start an exec and return its hijacked stream as a plain socket. Nothing after the
        response head is read, so output the engine sends with the head is never lost (the
        SDK's ``exec_start(socket=True)`` buffers and drops it; Podman sends both at once)."""
        body = json.dumps({"Detach": False, "Tty": False}).encode()
        return self._hijack(self._url("/exec/{0}/start", exec_id), body)

    def _hijack(self, target: str, body: bytes) -> socket.socket:
        upgrade = {"Connection": "Upgrade", "Upgrade": "tcp"}
        try:
            sock = self._conn.open_socket()
        except OSError as exc:
            raise ConnectionFailed(f"POST {target}: {exc}") from exc
        try:
            sock.sendall(_request_head("POST", target, body, upgrade) + body)
            head = _read_raw_head(sock).split(b"\r\n")
            status, headers = _parse_head([line for line in head if line])
            if status not in (101, 200):
                with sock.makefile("rb") as reader:
                    raise api_error(status, _read_body(reader, status, headers))
        except (OSError, ValueError) as exc:
            sock.close()
            raise ConnectionFailed(f"POST {target}: {exc}") from exc
        except BaseException:
            sock.close()
            raise
        return sock

    def start(self, container: str) -> None:
        self._call("POST", self._url("/containers/{0}/start", container))

    def wait(
        self, container: str, timeout: float | None = None, condition: str | None = None
    ) -> dict[str, Any]:
        target = self._url("/containers/{0}/wait", container, condition=condition)
        return self._json("POST", target, timeout=timeout)

    def wait_later(
        self, container: str, condition: str | None = None
    ) -> Callable[[], dict[str, Any]]:
        """Send ``wait`` now, on a connection of its own (before the container can exit);
        call the result to read the answer (blocking, no timeout)."""
        target = self._url("/containers/{0}/wait", container, condition=condition)
        try:
            sock = self._conn.open_socket()
        except OSError as exc:
            raise ConnectionFailed(f"POST {target}: {exc}") from exc
        try:
            sock.sendall(_request_head("POST", target, b"", {}))
        except OSError as exc:
            sock.close()
            raise ConnectionFailed(f"POST {target}: {exc}") from exc

        def answer() -> dict[str, Any]:
            try:
                sock.settimeout(None)
                with sock.makefile("rb") as reader:
                    status, _, body = _read_response(reader)
            except (OSError, ValueError) as exc:
                raise ConnectionFailed(f"POST {target}: {exc}") from exc
            finally:
                sock.close()
            if status >= 400:
                raise api_error(status, body)
            data = json.loads(body)
            return data if isinstance(data, dict) else {}

        return answer

    def events_between(self, since: str, until: str, filters: str) -> list[dict[str, Any]]:
        """The engine's events from ``since`` to ``until`` (Unix times, in the past), as
        ``GET /events`` returns them: concatenated JSON objects."""
        target = self._url("/events", since=since, until=until, filters=filters)
        text = self._call("GET", target).decode("utf-8", "replace")
        decoder, at = json.JSONDecoder(), 0
        events: list[dict[str, Any]] = []
        while True:
            while at < len(text) and text[at].isspace():
                at += 1
            if at >= len(text):
                return events
            event, at = decoder.raw_decode(text, at)
            if isinstance(event, dict):
                events.append(event)

    def exec_create(
        self,
        container: str,
        cmd: str | list[str],
        stdout: bool = True,
        stderr: bool = True,
        stdin: bool = False,
        tty: bool = False,
        privileged: bool = False,
        user: str = "",
        environment: list[str] | None = None,
        workdir: str | None = None,
    ) -> dict[str, Any]:
        """Create an exec; the request body is the SDK's (``None`` values left out)."""
        import shlex

        body = {
            "Container": container,
            "User": user,
            "Privileged": privileged,
            "Tty": tty,
            "AttachStdin": stdin,
            "AttachStdout": stdout,
            "AttachStderr": stderr,
            "Cmd": shlex.split(cmd) if isinstance(cmd, str) else cmd,
            "Env": environment,
            "WorkingDir": workdir,
        }
        target = self._url("/containers/{0}/exec", container)
        return self._json("POST", target, {k: v for k, v in body.items() if v is not None})

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return self._json("GET", self._url("/exec/{0}/json", exec_id))

    def inspect_container(self, container: str) -> dict[str, Any]:
        return self._json("GET", self._url("/containers/{0}/json", container))

    def kill(self, container: str, signal: str | int | None = None) -> None:
        sig = signal if signal is None or isinstance(signal, str) else int(signal)
        self._call("POST", self._url("/containers/{0}/kill", container, signal=sig))

    def remove_container(
        self, container: str, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        target = self._url("/containers/{0}", container, v=v, link=link, force=force)
        self._call("DELETE", target)


class LiteClient:
    """Stands in for ``docker.DockerClient`` on the one-shot path: ``api`` and the basics."""

    def __init__(self, api: LiteAPIClient) -> None:
        self.api = api

    def ping(self) -> bool:
        return self.api.ping()

    def version(self, api_version: bool = True) -> dict[str, Any]:
        return self.api.version(api_version)

    def close(self) -> None:
        self.api.close()


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return ()


def open_client(url: str, timeout: float = 120, negotiate: bool = True) -> LiteClient | None:
    """A lite client for the engine at ``unix://`` ``url`` speaking the engine's API version;
    ``None`` when that is older than :data:`MIN_API_VERSION`. Raises :class:`LiteError`.

    Without ``negotiate`` nothing is asked yet: requests go unversioned, which the engine
    answers at its own API version (the one negotiation would pick), for any engine. Only for
    requests whose answer reads alike on every version (the oci backend's image lookup: one
    request instead of a ping and the lookup)."""
    api = LiteAPIClient(url.removeprefix("unix://"), timeout)
    if not negotiate:
        api.api_version = ""
        return LiteClient(api)
    try:
        version = api.server_api_version()
    except BaseException:
        api.close()
        raise
    if _version_tuple(version) < _version_tuple(MIN_API_VERSION):
        api.close()
        return None
    api.api_version = version
    return LiteClient(api)


# --- request bodies, as the SDK builds them -------------------------------------------------
def host_config(
    *,
    binds: list[str] | None = None,
    network_mode: str | None = None,
    cap_add: list[str] | None = None,
    cap_drop: list[str] | None = None,
    read_only: bool | None = None,
    security_opt: list[str] | None = None,
    ulimits: list[dict[str, Any]] | None = None,
    log_config: dict[str, Any] | None = None,
    mem_limit: int | None = None,
    memswap_limit: int | None = None,
    tmpfs: dict[str, str] | list[str] | None = None,
    pids_limit: int | None = None,
    auto_remove: bool = False,
    init: bool | None = None,
    nano_cpus: int | None = None,
    runtime: str | None = None,
    cgroup_parent: str | None = None,
) -> dict[str, Any]:
    """``HostConfig`` as ``APIClient.create_host_config`` builds it from these arguments (the
    only ones :func:`reprobox.engine.containers.host_config_kwargs` passes), key order too."""
    config: dict[str, Any] = {}
    if mem_limit is not None:
        config["Memory"] = mem_limit
    if memswap_limit is not None:
        config["MemorySwap"] = memswap_limit
    if read_only is not None:
        config["ReadonlyRootfs"] = read_only
    config["NetworkMode"] = network_mode or "default"
    if cap_add:
        config["CapAdd"] = cap_add
    if cap_drop:
        config["CapDrop"] = cap_drop
    if security_opt is not None:
        config["SecurityOpt"] = _typed(security_opt, list, "security_opt")
    if binds is not None:
        config["Binds"] = _typed(binds, list, "binds")
    if cgroup_parent is not None:
        config["CgroupParent"] = cgroup_parent
    if ulimits is not None:
        config["Ulimits"] = [_ulimit(u) for u in _typed(ulimits, list, "ulimits")]
    if log_config is not None:
        config["LogConfig"] = _log_config(log_config)
    if tmpfs:
        config["Tmpfs"] = _tmpfs(tmpfs)
    if pids_limit:
        config["PidsLimit"] = _typed(pids_limit, int, "pids_limit")
    if auto_remove:
        config["AutoRemove"] = auto_remove
    if init is not None:
        config["Init"] = init
    if nano_cpus:
        config["NanoCpus"] = _typed(nano_cpus, int, "nano_cpus")
    if runtime:
        config["Runtime"] = runtime
    return config


def container_config(
    image: str,
    command: str | list[str] | None = None,
    *,
    user: str | None = None,
    detach: bool = False,
    stdin_open: bool = False,
    tty: bool = False,
    environment: list[str] | dict[str, str] | None = None,
    network_disabled: bool = False,
    entrypoint: str | list[str] | None = None,
    working_dir: str | None = None,
    host_config: dict[str, Any] | None = None,
    labels: dict[str, str] | list[str] | None = None,
    use_config_proxy: bool = False,
) -> dict[str, Any]:
    """The ``POST /containers/create`` body ``APIClient.create_container`` sends for these
    arguments (``None`` values left out, as the SDK does). ``use_config_proxy`` is accepted
    for signature parity and must be false: the lite client never injects proxy settings."""
    if use_config_proxy:
        raise LiteError("the lite client never injects the host's proxy settings")
    import shlex

    if isinstance(environment, dict):
        environment = [f"{k}={v}" for k, v in environment.items()]
    config: dict[str, Any] = {
        "User": None if user is None else str(user),
        "Tty": tty,
        "OpenStdin": stdin_open,
        "StdinOnce": stdin_open and not detach,
        "AttachStdin": stdin_open and not detach,
        "AttachStdout": not detach,
        "AttachStderr": not detach,
        "Env": environment or None,
        "Cmd": shlex.split(command) if isinstance(command, str) else command,
        "Image": image,
        "NetworkDisabled": network_disabled,
        "Entrypoint": shlex.split(entrypoint) if isinstance(entrypoint, str) else entrypoint,
        "WorkingDir": working_dir,
        "HostConfig": host_config,
        "Labels": {name: "" for name in labels} if isinstance(labels, list) else labels,
    }
    return {k: v for k, v in config.items() if v is not None}


def _typed(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"Invalid type for {name} param: expected {kind.__name__}")
    return value


def _ulimit(limit: dict[str, Any]) -> dict[str, Any]:
    name = limit.get("name", limit.get("Name"))
    if not isinstance(name, str):
        raise ValueError("Ulimit.name must be a string")
    return {
        "Name": name,
        "Soft": limit.get("soft", limit.get("Soft")),
        "Hard": limit.get("hard", limit.get("Hard")),
    }


def _log_config(config: dict[str, Any]) -> dict[str, Any]:
    options = config.get("config", config.get("Config")) or {}
    return {"Type": config.get("type", config.get("Type")), "Config": options}


def _tmpfs(tmpfs: dict[str, str] | list[str]) -> dict[str, str]:
    if isinstance(tmpfs, dict):
        return tmpfs
    result = {}
    for entry in tmpfs:
        name, _, options = entry.partition(":")
        result[name] = options
    return result
