"""Classification of "engine unreachable" causes into one-line errors with a fix."""

from __future__ import annotations

import pytest
import requests.exceptions

from reprobox.engine.client import START_HINT, engine_url, unavailable


def _wrapped(cause: BaseException) -> Exception:
    outer = requests.exceptions.ConnectionError(("Connection aborted.", cause))
    outer.__cause__ = cause
    return outer


def test_missing_socket_says_daemon_not_running_with_fix() -> None:
    err = unavailable(_wrapped(FileNotFoundError(2, "No such file or directory")), "unix:///x")
    assert err.message.startswith("daemon not running")
    assert err.hint == START_HINT
    assert "\n" not in err.message


def test_refused_connection_is_daemon_not_running() -> None:
    err = unavailable(_wrapped(ConnectionRefusedError(111, "Connection refused")), "tcp://h:1")
    assert err.message.startswith("daemon not running")


def test_permission_denied_names_the_socket_and_the_fix() -> None:
    err = unavailable(_wrapped(PermissionError(13, "Permission denied")), "unix:///s.sock")
    assert "permission denied" in err.message and "unix:///s.sock" in err.message
    assert err.hint is not None and "docker group" in err.hint


def test_unknown_cause_still_gives_a_hint() -> None:
    err = unavailable(RuntimeError("weird"), "unix:///x")
    assert "weird" in err.message and err.hint


def test_engine_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///env.sock")
    assert engine_url() == "unix:///env.sock"
    assert engine_url("unix:///explicit.sock") == "unix:///explicit.sock"
    monkeypatch.delenv("DOCKER_HOST")
    assert engine_url() == "unix:///var/run/docker.sock"


def test_a_stream_the_engine_broke_off_is_engine_unavailable() -> None:
    import docker  # noqa: F401  (the SDK is loaded: its errors are translated)
    import urllib3.exceptions

    from reprobox import errors
    from reprobox.engine.client import translate

    broken = urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(0 bytes read)")
    error = translate(broken, "build image", "unix:///x.sock")
    assert isinstance(error, errors.EngineUnavailable)
    assert error.message.startswith("the engine at unix:///x.sock broke off the connection")
