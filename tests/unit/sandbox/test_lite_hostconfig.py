"""The lite engine client builds exactly the requests the docker SDK builds, reads the
engine's HTTP correctly, and its errors become the same reprobox errors (no engine needed:
the SDK is installed in tests, and a fake engine listens on a Unix socket)."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from reprobox import errors
from reprobox.engine import client as engine_client
from reprobox.engine import containers as c
from reprobox.engine import lite
from reprobox.sandbox.policy import MiB, Policy
from reprobox.sandbox.spec import Mount, container_spec

IMAGE = "reprobox/python:3.11-bookworm"
VERSIONS = ("1.41", "1.44")


@pytest.fixture(autouse=True)
def no_docker_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An empty docker CLI config: no proxies for the SDK to inject into environments."""
    (tmp_path / "docker-config").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


def _policies(tmp_path: Path) -> dict[str, tuple[Policy, tuple[Mount, ...]]]:
    ro, rw = tmp_path / "ro", tmp_path / "rw"
    ro.mkdir()
    rw.mkdir()
    base = Policy()
    return {
        "default": (base, ()),
        "memory": (base.relaxed(memory_bytes=2048 * MiB), ()),
        "no memory limit": (base.relaxed(memory_bytes=None), ()),
        "swap": (base.relaxed(swap=True), ()),
        "cpus": (base.relaxed(cpus=2.5), ()),
        "no cpu limit": (base.relaxed(cpus=None), ()),
        "pids": (base.relaxed(pids_limit=4096), ()),
        "no pids limit": (base.relaxed(pids_limit=None), ()),
        "network host": (base.relaxed(network="host"), ()),
        "network none": (base.relaxed(network="none"), ()),
        "runsc": (base.relaxed(runtime="runsc"), ()),
        "mounts ro and rw": (base, (Mount(ro), Mount(rw, writable=True))),
        "tmpfs sizes": (base.relaxed(tmp_bytes=8 * MiB, workdir_bytes=32 * MiB), ()),
        "ulimits": (base.relaxed(file_size_bytes=None, open_files=4096), ()),
        "no ulimits": (base.relaxed(file_size_bytes=None, open_files=None), ()),
        "root, caps, unconfined": (
            base.relaxed(
                user="0:0",
                add_capabilities=("NET_RAW",),
                drop_all_capabilities=False,
                no_new_privileges=False,
                seccomp=False,
                read_only_root=False,
                init=False,
            ),
            (),
        ),
    }


def _cases(tmp_path: Path) -> Iterator[tuple[str, c.ContainerSpec]]:
    for name, (policy, mounts) in _policies(tmp_path).items():
        yield name, container_spec(IMAGE, policy, ["sh", "-c", "echo hi"], mounts=mounts)
    primed = container_spec(IMAGE, Policy(), ["sh", "-c", "x"], labels={"k": "v"})
    yield "stdin (primed)", dataclasses.replace(primed, stdin=True)
    yield "no command", container_spec(IMAGE, Policy(), [])


def _sdk(version: str) -> docker.APIClient:
    return docker.APIClient(base_url="unix:///nonexistent/docker.sock", version=version)


@pytest.mark.parametrize("version", VERSIONS)
def test_host_config_is_identical_to_the_sdks(version: str, tmp_path: Path) -> None:
    api = lite.LiteAPIClient("/nonexistent/docker.sock", version=version)
    for name, spec in _cases(tmp_path):
        # A box's own cgroup parent (rootless Podman on cgroup v1: engine/cgroups.py).
        for extra in ({}, {"cgroup_parent": "/reprobox-rootless-1001/box-1-ab"}):
            kwargs = {**c.host_config_kwargs(spec), **extra}
            ours = api.create_host_config(**kwargs)
            theirs = _sdk(version).create_host_config(**kwargs)
            assert json.dumps(ours) == json.dumps(theirs), name
            assert ours == json.loads(json.dumps(theirs)), name


def _sdk_body(version: str, path: str, call: Callable[[docker.APIClient], object]) -> bytes:
    """The body the SDK posts to ``path`` in ``call``."""
    api, sent = _sdk(version), []

    def post(url: str, **kwargs: Any) -> object:
        assert url.endswith(f"/v{version}{path}")
        sent.append(kwargs["data"].encode())
        return object()

    api._post = post  # type: ignore[method-assign]
    api._result = lambda response, json=False, binary=False: {"Id": "x"}  # type: ignore[method-assign]
    call(api)
    return sent[0]


def _lite_body(version: str, path: str, call: Callable[[lite.LiteAPIClient], object]) -> bytes:
    """The body the lite client posts to ``path`` in ``call`` (which must get the answer)."""
    api = lite.LiteAPIClient("/nonexistent/docker.sock", version=version)
    sent: list[tuple[str, str, bytes]] = []

    def request(
        method: str, target: str, body: bytes = b"", timeout: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        sent.append((method, target, body))
        return 201, {}, b'{"Id": "x", "Warnings": []}'

    api._conn.request = request  # type: ignore[method-assign]
    assert call(api) == {"Id": "x", "Warnings": []}
    assert sent[0][:2] == ("POST", f"/v{version}{path}")
    return sent[0][2]


def _create(api: docker.APIClient | lite.LiteAPIClient, spec: c.ContainerSpec) -> object:
    host = api.create_host_config(**c.host_config_kwargs(spec))
    return api.create_container(host_config=host, **c.create_kwargs(spec))


def _sdk_create_body(version: str, spec: c.ContainerSpec) -> bytes:
    return _sdk_body(version, "/containers/create", lambda api: _create(api, spec))


def _lite_create_body(version: str, spec: c.ContainerSpec) -> bytes:
    return _lite_body(version, "/containers/create", lambda api: _create(api, spec))


@pytest.mark.parametrize("version", VERSIONS)
def test_create_request_body_is_identical_to_the_sdks(version: str, tmp_path: Path) -> None:
    for name, spec in _cases(tmp_path):
        assert _lite_create_body(version, spec) == _sdk_create_body(version, spec), name


EXEC_CASES = {
    "session command": (["sh", "-c", "true"], {"user": "65534:65534", "workdir": "/work"}),
    "copy in, with stdin": (
        ["tar", "-x", "-f", "-", "-C", "/work"],
        {"user": "1000", "stdin": True},
    ),
    "helper as root": (["sh", "-c", "cat x"], {"user": "0:0"}),
    "string command": ("echo 'a b'", {}),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", EXEC_CASES)
def test_exec_create_body_is_identical_to_the_sdks(version: str, case: str) -> None:
    cmd, kwargs = EXEC_CASES[case]
    path = "/containers/box1/exec"
    theirs = _sdk_body(version, path, lambda api: api.exec_create("box1", cmd, **kwargs))
    ours = _lite_body(version, path, lambda api: api.exec_create("box1", cmd, **kwargs))
    assert ours == theirs


def test_unknown_host_config_arguments_are_refused() -> None:
    api = lite.LiteAPIClient("/nonexistent/docker.sock")
    with pytest.raises(TypeError):
        api.create_host_config(privileged=True)
    with pytest.raises(TypeError):
        api.create_host_config(security_opt="no-new-privileges")


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (404, b'{"message":"No such image: x:1"}', lite.ImageNotFound),
        (404, b'{"message":"No such container: abc"}', lite.NotFound),
        (409, b'{"message":"container abc is not running"}', lite.APIError),
        (500, b"plain text\n", lite.APIError),
    ],
)
def test_api_errors_are_classified_like_the_sdk(status: int, body: bytes, kind: type) -> None:
    error = lite.api_error(status, body)
    assert type(error) is kind and error.status == status
    assert error.explanation in (json.loads(body)["message"] if b"{" in body else "plain text")


def _translated(exc: Exception) -> BaseException:
    with (
        pytest.raises(errors.ReproboxError) as caught,
        engine_client.translated("act", "unix:///s"),
    ):
        raise exc
    return caught.value


def test_lite_errors_become_the_same_reprobox_errors() -> None:
    missing = _translated(lite.api_error(404, b'{"message":"No such image: x:1"}'))
    assert isinstance(missing, errors.ImageNotFound) and "No such image: x:1" in str(missing)
    conflict = _translated(lite.api_error(409, b'{"message":"is not running"}'))
    assert isinstance(conflict, errors.EngineError) and conflict.status == 409
    gone = _translated(lite.api_error(404, b'{"message":"No such container: abc"}'))
    assert isinstance(gone, errors.EngineError) and gone.status == 404
    down = lite.ConnectionFailed("GET /_ping: no socket")
    down.__cause__ = FileNotFoundError(2, "No such file or directory")
    unavailable = _translated(down)
    assert isinstance(unavailable, errors.EngineUnavailable)
    assert unavailable.message.startswith("daemon not running")
    assert unavailable.hint == engine_client.START_HINT


def test_other_exceptions_pass_through_the_guard() -> None:
    with pytest.raises(KeyError), engine_client.translated("act", "unix:///s"):
        raise KeyError("x")


def test_dead_socket_is_daemon_not_running(tmp_path: Path) -> None:
    from reprobox.engine import connect

    with pytest.raises(errors.EngineUnavailable) as caught:
        connect(f"unix://{tmp_path}/no.sock", lite=True)
    assert caught.value.message.startswith("daemon not running")


# --- HTTP against a fake engine ----------------------------------------------------------------
Handler = Callable[[socket.socket, bytes], None]


@pytest.fixture
def fake_engine(tmp_path: Path) -> Iterator[Callable[[Handler], str]]:
    """``serve(handler)`` -> a socket path; ``handler(conn, request_head)`` answers each
    request of each connection until the client closes it."""
    path = str(tmp_path / "engine.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    threads: list[threading.Thread] = []

    def connection(conn: socket.socket, handler: Handler) -> None:
        with conn:
            reader = conn.makefile("rb")
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                handler(conn, head + reader.read(length))

    def serve(handler: Handler) -> str:
        def accept() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                worker = threading.Thread(target=connection, args=(conn, handler), daemon=True)
                worker.start()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        threads.append(thread)
        return path

    yield serve
    server.close()


def _reply(status: str, body: bytes, *headers: str, chunked: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        parts = [body[:3], body[3:]] if len(body) > 3 else [body]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def test_keep_alive_chunked_and_content_length(fake_engine: Callable[[Handler], str]) -> None:
    requests: list[bytes] = []

    def handler(conn: socket.socket, request: bytes) -> None:
        requests.append(request)
        if request.startswith(b"GET /_ping"):
            conn.sendall(_reply("200 OK", b"OK", "Api-Version: 1.43"))
        elif b"/wait" in request:
            conn.sendall(_reply("200 OK", b'{"StatusCode": 3}', chunked=True))
        else:
            conn.sendall(_reply("200 OK", b'{"State": {"OOMKilled": true}}'))

    client = lite.open_client(f"unix://{fake_engine(handler)}")
    assert client is not None and client.api.api_version == "1.43"
    assert client.api.wait("abc") == {"StatusCode": 3}
    assert client.api.inspect_container("abc")["State"]["OOMKilled"] is True
    client.close()
    assert requests[1].startswith(b"POST /v1.43/containers/abc/wait HTTP/1.1\r\n")
    assert b"Content-Length: 0\r\n" in requests[1]


def test_old_engines_get_the_sdk(fake_engine: Callable[[Handler], str]) -> None:
    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(_reply("200 OK", b"OK", "Api-Version: 1.40"))

    assert lite.open_client(f"unix://{fake_engine(handler)}") is None


def test_a_dropped_idle_connection_is_reopened(fake_engine: Callable[[Handler], str]) -> None:
    dropped = threading.Event()

    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(_reply("200 OK", b'{"Id": "x"}', "Connection: keep-alive"))
        conn.shutdown(socket.SHUT_RDWR)  # the engine drops the idle connection
        dropped.set()

    api = lite.LiteAPIClient(fake_engine(handler))
    assert api.inspect_image("x") == {"Id": "x"}
    assert dropped.wait(5)
    assert api.inspect_image("x") == {"Id": "x"}
    api.close()


def test_attach_hands_over_the_stream_after_the_head(
    fake_engine: Callable[[Handler], str],
) -> None:
    frames = b"\x01\x00\x00\x00\x00\x00\x00\x03out\x02\x00\x00\x00\x00\x00\x00\x03err"

    def handler(conn: socket.socket, request: bytes) -> None:
        assert b"Upgrade: tcp" in request and b"Connection: Upgrade" in request
        head = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
        conn.sendall(head + b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + frames)
        conn.shutdown(socket.SHUT_WR)

    api = lite.LiteAPIClient(fake_engine(handler))
    sock = api.attach_socket("abc", params={"stdout": 1, "stderr": 1, "stream": 1})
    try:
        assert list(c.frames(sock)) == [(c.STDOUT, b"out"), (c.STDERR, b"err")]
    finally:
        c.close(sock)


def test_exec_start_keeps_output_sent_with_the_head(
    fake_engine: Callable[[Handler], str],
) -> None:
    """Podman sends an exec's first output in the same packet as the response head: none of
    it may be lost (the SDK's buffered ``exec_start(socket=True)`` drops it)."""
    frames = b"\x01\x00\x00\x00\x00\x00\x00\x0342\n"

    def handler(conn: socket.socket, request: bytes) -> None:
        assert request.startswith(b"POST /v1.41/exec/e1/start HTTP/1.1")
        assert request.endswith(b'{"Detach": false, "Tty": false}')
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
        conn.sendall(head + frames)
        conn.shutdown(socket.SHUT_WR)

    sock = lite.LiteAPIClient(fake_engine(handler)).exec_start_socket("e1")
    try:
        assert list(c.frames(sock)) == [(c.STDOUT, b"42\n")]
    finally:
        c.close(sock)


def test_attach_to_a_missing_container_raises_not_found(
    fake_engine: Callable[[Handler], str],
) -> None:
    def handler(conn: socket.socket, request: bytes) -> None:
        conn.sendall(_reply("404 Not Found", b'{"message":"No such container: abc"}'))

    api = lite.LiteAPIClient(fake_engine(handler))
    with pytest.raises(lite.NotFound):
        api.attach_socket("abc")


def test_plain_dict_ulimits_and_log_config_give_the_sdk_the_same_json() -> None:
    """host_config_kwargs passes plain dicts (no SDK import); the SDK's own types agree."""
    from docker.types import LogConfig, Ulimit

    kwargs = c.host_config_kwargs(container_spec(IMAGE, Policy(), ["true"]))
    typed = {
        **kwargs,
        "ulimits": [
            Ulimit(name=u["Name"], soft=u["Soft"], hard=u["Hard"]) for u in kwargs["ulimits"]
        ],
        "log_config": LogConfig(type=kwargs["log_config"]["Type"]),
    }
    sdk = _sdk("1.41")
    assert json.dumps(sdk.create_host_config(**kwargs)) == json.dumps(
        sdk.create_host_config(**typed)
    )


def test_a_lookup_client_asks_once_unversioned(fake_engine: Callable[[Handler], str]) -> None:
    """The oci backend's image lookup: no ping first, and the one request unversioned, so
    the engine answers at its own API version (what negotiation would pick), even an old one."""
    requests: list[bytes] = []

    def handler(conn: socket.socket, request: bytes) -> None:
        requests.append(request)
        conn.sendall(_reply("200 OK", b'{"Id": "sha256:abc"}', "Api-Version: 1.40"))

    client = lite.open_client(f"unix://{fake_engine(handler)}", negotiate=False)
    assert client is not None
    assert client.api.inspect_image("repo/img:tag") == {"Id": "sha256:abc"}
    client.close()
    assert len(requests) == 1
    assert requests[0].startswith(b"GET /images/repo/img:tag/json HTTP/1.1\r\n")
