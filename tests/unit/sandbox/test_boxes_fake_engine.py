"""The watchdog, the primed box, the session box and the pool against a fake engine,
including their failure paths: start failures, slow starts, recoveries, boxes that end while
they wait, exit statuses that never come, removals that fail."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.engine import containers as c
from reprobox.engine import lite
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox import boxinit
from reprobox.sandbox.backend import BoxGone
from reprobox.sandbox.engine_backend import EngineBoxes
from reprobox.sandbox.keeper import KeeperBox
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.pool import SandboxPool
from reprobox.sandbox.primed import PrimedBox
from reprobox.sandbox.pump import Watchdog, supervise
from reprobox.sandbox.spec import container_spec
from tests.unit.sandbox.fake_engine import FakeAPI, fake_engine, frame

POLICY = Policy(timeout_s=5.0)


@pytest.fixture(autouse=True)
def no_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boxinit, "binary", lambda: Path("/fake/boxinit"))


@pytest.fixture
def fake() -> Iterator[tuple[object, FakeAPI]]:
    engine, api = fake_engine()
    yield engine, api
    for box in list(api.boxes.values()):
        api._end(box, SIGKILLED)


def spec(image: str = "img") -> c.ContainerSpec:
    return container_spec(image, POLICY, ())


def until(check: object, seconds: float = 10) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


# --- the watchdog and the shared supervision ------------------------------------------------
def test_watchdog_fires_once_and_reports_it() -> None:
    fired: list[float] = []
    dog = Watchdog(0.05, lambda: fired.append(time.monotonic()))
    assert until(lambda: fired)
    assert dog.cancel() is True
    assert len(fired) == 1


def test_watchdog_cancelled_in_time_never_fires() -> None:
    fired: list[int] = []
    dog = Watchdog(10, lambda: fired.append(1))
    assert dog.cancel() is False
    assert Watchdog(None, lambda: fired.append(2)).cancel() is False
    assert fired == []


def test_watchdog_cancel_waits_until_a_slow_kill_is_done() -> None:
    done = threading.Event()

    def slow_kill() -> None:
        time.sleep(0.3)
        done.set()

    dog = Watchdog(0.01, slow_kill)
    assert until(lambda: dog.fired.is_set())
    assert dog.cancel() is True
    assert done.is_set(), "cancel returned while the kill was still running"


def test_supervise_kills_at_the_timeout_and_when_the_caller_stops_early() -> None:
    kills: list[str] = []
    release = threading.Event()

    def frames() -> Iterator[tuple[int, bytes]]:
        yield 1, b"abc"
        release.wait(5)

    stream = supervise(frames(), 2, 0.05, lambda: (kills.append("timeout"), release.set()))
    chunks = []
    try:
        while True:
            chunks.append(next(stream))
    except StopIteration as stop:
        outcome = stop.value
    assert [c.data for c in chunks] == [b"ab"] and outcome.timed_out
    assert outcome.stdout.truncated and kills == ["timeout"]

    abandoned = supervise(iter([(1, b"x"), (2, b"y")]), 10, None, lambda: kills.append("abort"))
    next(abandoned)
    abandoned.close()
    assert kills == ["timeout", "abort"]


# --- the primed (pool) box ----------------------------------------------------------------
def test_primed_box_runs_its_command_under_boxinit_once(fake: tuple[object, FakeAPI]) -> None:
    engine, api = fake
    box = PrimedBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    config = api.boxes[box.container_id].config
    assert config["Entrypoint"] == [boxinit.MOUNT_PATH]
    assert config["Cmd"][:2] == ["-r", "-w"] and config["stdin_open"]
    assert config["HostConfig"]["auto_remove"] is True
    assert config["HostConfig"]["init"] is False
    result = _drain(box.events(["echo", "hi"], 5))
    assert (result.exit_code, result.stdout, result.timed_out) == (0, b"hi\n", False)
    box.destroy()
    assert box.container_id not in api.boxes


def test_primed_box_timeout_kills_it(fake: tuple[object, FakeAPI]) -> None:
    engine, _ = fake
    box = PrimedBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    result = _drain(box.events(["hang"], 0.1))
    assert result.timed_out and result.exit_code == SIGKILLED


def test_primed_box_that_ended_while_waiting_is_gone(fake: tuple[object, FakeAPI]) -> None:
    engine, api = fake
    box = PrimedBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    api._end(api.boxes[box.container_id], 0)  # e.g. its idle lifetime passed
    with pytest.raises(BoxGone):
        _drain(box.events(["echo", "never"], 5))


def test_primed_box_start_failure_leaves_nothing(
    fake: tuple[object, FakeAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, api = fake

    def broken(*args: object, **kwargs: object) -> None:
        raise lite.APIError(500, "attach failed")

    monkeypatch.setattr(api, "attach_socket", broken)
    with pytest.raises(errors.EngineError, match="attach failed"):
        PrimedBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    assert api.boxes == {} and len(api.removed) == 1


# --- the session box ------------------------------------------------------------------------
def test_session_box_leases_each_run_then_idles(fake: tuple[object, FakeAPI]) -> None:
    engine, api = fake
    box = KeeperBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    try:
        assert api.boxes[box.container_id].config["Cmd"][0] == "-i"
        result = _drain(box.events(["echo", "one"], 4))
        assert (result.exit_code, result.stdout) == (0, b"one\n")
        box_state = api.boxes[box.container_id]
        assert until(lambda: b"".join(box_state.messages).endswith(b"L20000\n"))
        assert b"".join(box_state.messages).startswith(b"L6000\n")
        failed = _drain(box.events(["fail", "3"], None))
        assert failed.exit_code == 3 and failed.stderr == b"failed\n"
    finally:
        box.destroy()
    assert box.container_id not in api.boxes


def test_session_timeout_kills_the_command_and_the_box_lives_on(
    fake: tuple[object, FakeAPI],
) -> None:
    engine, _ = fake
    box = KeeperBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    try:
        slow = _drain(box.events(["hang"], 0.1))
        assert slow.timed_out and not box.lost
        assert _drain(box.events(["echo", "alive"], 5)).stdout == b"alive\n"
    finally:
        box.destroy()


def test_session_box_is_lost_when_no_killer_can_start(fake: tuple[object, FakeAPI]) -> None:
    engine, api = fake
    box = KeeperBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    api.exec_failures = 1  # e.g. a fork bomb filled the pids limit
    result = _drain(box.events(["hang"], 0.1))
    assert result.timed_out and result.exit_code == SIGKILLED and box.lost
    with pytest.raises(errors.SandboxError, match="lost"):
        _drain(box.events(["echo", "x"], 5))
    box.destroy()


def test_session_box_is_lost_when_the_killer_hangs(
    fake: tuple[object, FakeAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reprobox.sandbox import keeper

    engine, api = fake
    monkeypatch.setattr(keeper, "KILL_HELPER_S", 0.2)
    box = KeeperBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    api.kill_helper_hangs = True  # e.g. the box is too loaded to finish the kill
    result = _drain(box.events(["hang"], 0.1))
    assert result.timed_out and result.exit_code == SIGKILLED and box.lost
    box.destroy()


def test_an_unreadable_exit_status_is_an_error_not_137(fake: tuple[object, FakeAPI]) -> None:
    engine, api = fake
    box = KeeperBox.start(EngineBoxes(engine), spec(), POLICY)  # type: ignore[arg-type]
    api.exec_status_missing = True
    try:
        with pytest.raises(errors.SandboxError, match="no exit status"):
            _drain(box.events(["echo", "x"], 5))
    finally:
        box.destroy()


# --- the pool -------------------------------------------------------------------------------
def test_pool_fails_fast_while_starts_fail_and_heals_by_itself(
    fake: tuple[object, FakeAPI],
) -> None:
    engine, api = fake
    with SandboxPool("missing", POLICY, size=2, engine=engine) as pool:  # type: ignore[arg-type]
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(errors.ImageNotFound, match="missing is not on this engine"):
                pool.run(["echo", "x"])
            assert time.monotonic() - started < 3, "run() waited instead of failing fast"
        api.images.add("missing")  # the image arrives: the pool recovers on its own
        assert until(lambda: len(api.boxes) == 2), "the pool did not refill"
        assert pool.run(["echo", "back"]).stdout == b"back\n"
    assert api.boxes == {}


def test_pool_recovers_from_engine_errors_with_the_cause(fake: tuple[object, FakeAPI]) -> None:
    engine, api = fake
    api.create_failures = 3
    with SandboxPool("img", POLICY, size=1, engine=engine) as pool:  # type: ignore[arg-type]
        outcomes = []
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                outcomes.append(pool.run(["echo", "ok"]).stdout)
                break
            except errors.EngineError as exc:
                assert "create failed on purpose" in exc.message
                outcomes.append(b"failed")
                time.sleep(0.05)
        assert outcomes[-1] == b"ok\n"


def test_pool_waits_for_slow_starts_instead_of_failing(fake: tuple[object, FakeAPI]) -> None:
    engine, api = fake
    api.create_delay = 0.4
    with SandboxPool("img", POLICY, size=1, engine=engine) as pool:  # type: ignore[arg-type]
        assert pool.run(["echo", "slow"]).stdout == b"slow\n"
        assert pool.run(["fail", "4"]).exit_code == 4


def test_pool_skips_a_box_that_ended_while_ready_and_uses_each_box_once(
    fake: tuple[object, FakeAPI],
) -> None:
    engine, api = fake
    with SandboxPool("img", POLICY, size=2, engine=engine) as pool:  # type: ignore[arg-type]
        assert until(lambda: len(api.boxes) == 2)
        first = next(iter(api.boxes.values()))
        api._end(first, 0)  # ended while it waited
        assert pool.run(["echo", "a"]).stdout == b"a\n"
        assert pool.run(["echo", "b"]).stdout == b"b\n"
        used = [b for b in api.calls if b == "create"]
        assert len(used) >= 3
    assert api.boxes == {}


# --- removal failures are warnings ----------------------------------------------------------
def test_failed_removal_is_a_warning_and_a_gone_box_is_not(
    fake: tuple[object, FakeAPI], caplog: pytest.LogCaptureFixture
) -> None:
    engine, api = fake
    caplog.set_level(logging.WARNING, logger="reprobox")
    c.remove(engine, "box9999")  # type: ignore[arg-type]  # already gone: quiet
    assert caplog.records == []
    api.create_container({}, image="img")
    api.remove_error = lite.APIError(500, "driver failed to remove root filesystem")
    c.remove(engine, "box0001")  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [
        "could not remove container box0001: remove the box: driver failed to remove root "
        "filesystem (remove it with 'reprobox gc')"
    ]


def _drain(events: object) -> object:
    gen = events
    try:
        while True:
            next(gen)  # type: ignore[call-overload]
    except StopIteration as stop:
        return stop.value


assert frame(1, b"x") == b"\x01\x00\x00\x00\x00\x00\x00\x01x"


def test_gc_warns_about_what_it_could_not_remove(caplog: pytest.LogCaptureFixture) -> None:
    from reprobox.engine import sweep

    failures = {
        "busy": lite.APIError(500, "device or resource busy"),
        "gone": lite.NotFound(404, "No such container: gone"),
    }

    def remove(ident: str, force: bool) -> None:
        if ident in failures:
            raise failures[ident]

    engine, _ = fake_engine()
    caplog.set_level(logging.WARNING, logger="reprobox")
    assert sweep._try(engine, remove, "busy", True) is False
    assert sweep._try(engine, remove, "fine", True) is True
    assert sweep._try(engine, remove, "gone", True) is False  # quietly: someone removed it
    assert [r.getMessage() for r in caplog.records] == [
        "could not remove busy: remove busy: device or resource busy"
    ]
