"""The cluster driver's book-keeping with a fake Ray: free-capacity dispatch, a lost node's
jobs run again elsewhere, exactly one result per id; connecting: a Ray Client server that dies
at birth is tried again, nothing listening is one error at once."""

from __future__ import annotations

import socket
import warnings
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import pytest

from reprobox import errors
from reprobox.batch.cluster import Dispatch, RayRunner, Slot, endpoint, probe
from reprobox.batch.jobs import Job
from reprobox.batch.local import BoxConfig
from reprobox.batch.results import JobResult


class ActorDied(Exception):
    pass


class TaskFailed(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(eq=False)
class Ref:
    actor: FakeActor
    job: Job


class FakeActor:
    """Answers every job; on call ``dies_after + 1`` its node is lost, with every call in
    flight there."""

    def __init__(self, name: str, dies_after: int | None = None, fails: bool = False) -> None:
        self.name = name
        self.dies_after = dies_after
        self.fails = fails
        self.calls = 0
        self.dead = False
        self.run = SimpleNamespace(remote=self._remote)

    def _remote(self, job: Job) -> Ref:
        self.calls += 1
        self.dead = self.dies_after is not None and self.calls > self.dies_after
        return Ref(self, job)


class FakeRay:
    exceptions = SimpleNamespace(
        RayActorError=ActorDied, ActorUnavailableError=ActorDied, RayTaskError=TaskFailed
    )

    def __init__(self) -> None:
        self.killed: list[str] = []
        self.in_flight: Counter[str] = Counter()

    def wait(
        self, refs: list[Ref], num_returns: int, timeout: float
    ) -> tuple[list[Ref], list[Ref]]:
        for ref in refs:
            self.in_flight[ref.actor.name] = max(
                self.in_flight[ref.actor.name], sum(r.actor is ref.actor for r in refs)
            )
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref: Ref) -> JobResult:
        if ref.actor.dead:
            raise ActorDied()
        if ref.actor.fails:
            raise TaskFailed(errors.ImageNotFound("image x is not on this engine"))
        return JobResult(ref.job.id, 0, node=ref.actor.name)

    def kill(self, actor: FakeActor, no_restart: bool) -> None:
        self.killed.append(actor.name)


def drive(slots: list[Slot], jobs: int) -> tuple[RayRunner, FakeRay, list[JobResult]]:
    runner = RayRunner(BoxConfig("img"), "auto")
    ray: Any = FakeRay()
    source = iter([Job(i, ("true",)) for i in range(jobs)])
    results = list(runner._drive(ray, Dispatch(slots), source))
    return runner, ray, results


def test_a_lost_node_s_jobs_run_again_elsewhere_with_one_result_each() -> None:
    lost = FakeActor("lost", dies_after=3)
    kept = FakeActor("kept")
    runner, ray, results = drive([Slot(lost, 2, "lost"), Slot(kept, 2, "kept")], 50)
    assert sorted(r.id for r in results) == list(range(50))
    nodes = Counter(r.node for r in results)
    assert nodes["lost"] == 2 and nodes["kept"] == 48
    assert runner.reruns == 2  # the two calls in flight there when the node went
    assert ray.killed == ["lost"]


def test_no_node_gets_more_jobs_than_its_slots() -> None:
    small, big = FakeActor("small"), FakeActor("big")
    _, ray, results = drive([Slot(small, 1, "small"), Slot(big, 3, "big")], 40)
    assert len(results) == 40
    assert ray.in_flight == Counter({"small": 1, "big": 3})


def test_losing_every_node_is_an_error_not_a_silent_end() -> None:
    with pytest.raises(errors.EngineUnavailable, match="every node"):
        drive([Slot(FakeActor("only", dies_after=2), 2, "only")], 10)


def test_a_box_that_cannot_start_on_a_node_stops_the_batch() -> None:
    with pytest.raises(errors.ImageNotFound):
        drive([Slot(FakeActor("n", fails=True), 2, "n")], 3)


def test_free_slot_prefers_the_node_with_most_room() -> None:
    a, b = Slot(FakeActor("a"), 2, "a", running=1), Slot(FakeActor("b"), 4, "b", running=1)
    assert Dispatch([a, b]).free_slot() is b
    b.running = 4
    assert Dispatch([a, b]).free_slot() is a


class FlakyInit:
    """``ray.init`` as Ray Client behaves: raises each of ``failures`` in turn, then connects."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.inits = 0
        self.shutdowns = 0

    def init(self, **kwargs: object) -> None:
        self.inits += 1
        if self.failures:
            warnings.warn("Ray Client connection timed out. Ensure ...", UserWarning, stacklevel=1)
            raise self.failures.pop(0)

    def shutdown(self) -> None:
        self.shutdowns += 1


def connect(ray: FlakyInit) -> None:
    RayRunner(BoxConfig("img"), "auto")._connect(cast(Any, ray))


def test_a_client_server_that_dies_at_birth_is_retried() -> None:
    ray = FlakyInit(ConnectionAbortedError("Initialization failure from server:\nx"))
    connect(ray)
    assert (ray.inits, ray.shutdowns) == (2, 1)


def test_a_client_server_that_keeps_dying_is_one_error_after_three_tries() -> None:
    ray = FlakyInit(*[ConnectionAbortedError("Initialization failure from server:\nx")] * 3)
    with pytest.raises(errors.EngineUnavailable, match="failed 3 times") as caught:
        connect(ray)
    assert ray.inits == 3
    assert "\n" not in caught.value.message


def test_an_unreachable_cluster_is_one_error_at_once_and_no_warning() -> None:
    ray = FlakyInit(ConnectionError("ray client connection timeout"))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(errors.EngineUnavailable, match="ray client connection timeout"):
            connect(ray)
    assert ray.inits == 1 and seen == []


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ray://head.example:10001", ("head.example", 10001)),
        ("ray://[::1]:10001", ("::1", 10001)),
        ("127.0.0.2:6379", ("127.0.0.2", 6379)),
        ("auto", None),
        ("ray://head.example", None),
        ("ray://head.example:port", None),
    ],
)
def test_the_address_to_probe(address: str, expected: tuple[str, int] | None) -> None:
    assert endpoint(address) == expected


def test_probe_fails_at_once_where_nothing_listens_and_passes_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe(f"ray://127.0.0.1:{port}")
    with pytest.raises(errors.EngineUnavailable) as caught:
        probe(f"ray://127.0.0.1:{port}")
    assert caught.value.message == (
        f"cannot connect to the Ray cluster at ray://127.0.0.1:{port}: nothing answers at "
        f"127.0.0.1:{port} (Connection refused)"
    )
    assert "--ray-client-server-port" in (caught.value.hint or "")
