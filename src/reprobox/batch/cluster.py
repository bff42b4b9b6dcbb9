"""Running jobs on a Ray cluster: one worker actor per node that offers a ``reprobox``
resource, each running as many fresh boxes at once as that resource says, on the node's own
backend (engine or oci). The driver sends a job wherever a slot is free; when a node is lost,
its jobs in flight run again on the others (at-least-once execution), and each id still
gets exactly one result, since only the driver writes results.

Ray is an optional extra (``pip install 'reprobox[ray]'``); this module imports it only when a
batch runs on a cluster.
"""

from __future__ import annotations

import contextlib
import os
import socket
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reprobox import errors
from reprobox.batch.jobs import Job
from reprobox.batch.local import BoxConfig, LocalBoxes
from reprobox.batch.results import JobResult

if TYPE_CHECKING:
    from types import ModuleType

RESOURCE = "reprobox"
WAIT_S = 1.0
# Nothing answering at a cluster's address fails at once (refused) or after this (dropped),
# instead of Ray's own 30 s (ray://) or minutes (HOST:PORT) of retrying.
PROBE_S = 5.0
# A Ray Client server forks one server per driver; that fork sometimes dies at birth (a gRPC
# race in Ray's proxier, ray-project/ray#63202), which the driver sees as an aborted
# connection: the next attempt gets a new server.
CONNECT_ATTEMPTS = 3


class NodeWorker:
    """The actor on one node: runs each job it is sent in a fresh local box."""

    def __init__(self, config: BoxConfig, node_id: str) -> None:
        self.node = f"{socket.gethostname()}/{node_id[:8]}"
        self.boxes = LocalBoxes(config, self.node)

    def run(self, job: Job) -> JobResult:
        return self.boxes.run(job)

    def name(self) -> str:
        return self.node


@dataclass
class Slot:
    """A node's actor and the jobs it is running."""

    actor: Any
    capacity: int
    node: str
    running: int = 0


@dataclass
class Dispatch:
    """The driver's book: which job each pending call runs, and on which slot."""

    slots: list[Slot]
    pending: dict[Any, tuple[Slot, Job]] = field(default_factory=dict)
    retry: deque[Job] = field(default_factory=deque)

    def free_slot(self) -> Slot | None:
        free = [s for s in self.slots if s.running < s.capacity]
        return max(free, key=lambda s: s.capacity - s.running, default=None)

    def lose(self, slot: Slot) -> list[Job]:
        """Forget ``slot``'s node; its jobs in flight are to run again elsewhere."""
        self.slots.remove(slot)
        lost = [ref for ref, (s, _) in self.pending.items() if s is slot]
        return [self.pending.pop(ref)[1] for ref in lost]


def import_ray() -> ModuleType:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as exc:
        from reprobox.tools import RAY

        raise RAY.missing("reprobox batch --cluster runs its jobs on a Ray cluster") from exc
    return ray


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def unreachable(address: str, reason: str) -> errors.EngineUnavailable:
    client = address.startswith("ray://")
    port = "--ray-client-server-port PORT " if client else "--port PORT "
    return errors.EngineUnavailable(
        f"cannot connect to the Ray cluster at {address}: {reason}",
        f"start its head with 'ray start --head {port}--resources '{{\"reprobox\": N}}'' "
        "and pass that address (or 'auto' on a machine of the cluster)",
    )


def endpoint(address: str) -> tuple[str, int] | None:
    """The host and port of a ``ray://HOST:PORT`` or ``HOST:PORT`` address; None for ``auto``
    and for what Ray alone can read."""
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname and port else None


def probe(address: str) -> None:
    """Fail at once, with one line, when nothing listens at the cluster's address."""
    found = endpoint(address)
    if found is None:
        return
    try:
        socket.create_connection(found, timeout=PROBE_S).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or "no answer"
        if isinstance(exc, TimeoutError):
            reason = f"no answer in {PROBE_S:.0f} s"
        raise unreachable(address, f"nothing answers at {found[0]}:{found[1]} ({reason})") from exc


class RayRunner:
    """Jobs on a Ray cluster at ``address`` (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``)."""

    def __init__(self, config: BoxConfig, address: str) -> None:
        self.config = config
        self.address = address
        self.reruns = 0
        self.nodes: list[str] = []

    def results(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        ray = import_ray()
        started = not ray.is_initialized()
        if started:
            self._connect(ray)
        try:
            dispatch = Dispatch(self._start_workers(ray))
            yield from self._drive(ray, dispatch, iter(jobs))
        finally:
            if started:
                ray.shutdown()

    def _connect(self, ray: ModuleType) -> None:
        probe(self.address)
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                self._init(ray)
                return
            except ConnectionAbortedError as exc:  # the client's own server died at start
                with contextlib.suppress(Exception):  # Ray has disconnected already
                    ray.shutdown()
                if attempt == CONNECT_ATTEMPTS:
                    raise errors.EngineUnavailable(
                        f"the Ray Client server at {self.address} failed {attempt} times to "
                        f"start a server for this driver: {first_line(exc)}",
                        "see ray_client_server*.err in the head's Ray logs "
                        "(/tmp/ray/session_latest/logs), then run the same command again",
                    ) from exc
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise unreachable(self.address, first_line(exc)) from exc

    def _init(self, ray: ModuleType) -> None:
        with warnings.catch_warnings():  # Ray Client warns besides raising: one line is enough
            warnings.simplefilter("ignore")
            ray.init(
                address=self.address,
                logging_level="ERROR",
                log_to_driver=False,
                include_dashboard=None if self.address.startswith("ray://") else False,
            )

    def _start_workers(self, ray: ModuleType) -> list[Slot]:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = ray.remote(NodeWorker)
        slots = []
        for node in ray.nodes():
            capacity = int(node.get("Resources", {}).get(RESOURCE, 0))
            if not node.get("Alive") or capacity < 1:
                continue
            actor = remote.options(
                num_cpus=0,
                resources={RESOURCE: capacity},
                max_concurrency=capacity,
                max_restarts=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
            ).remote(self.config, node["NodeID"])
            slots.append(Slot(actor, capacity, node["NodeID"]))
        if not slots:
            raise errors.EngineUnavailable(
                f"no node of the Ray cluster offers the {RESOURCE!r} resource",
                "start each node with: ray start ... --resources '{\"reprobox\": N}' "
                "(N = boxes at once on that node)",
            )
        names = ray.get([slot.actor.name.remote() for slot in slots])
        for slot, name in zip(slots, names, strict=True):
            slot.node = name
        self.nodes = list(names)
        return slots

    def _drive(
        self, ray: ModuleType, dispatch: Dispatch, source: Iterator[Job]
    ) -> Iterator[JobResult]:
        exhausted = False
        while True:
            exhausted = self._fill(dispatch, source, exhausted)
            if not dispatch.pending:
                return
            ready, _ = ray.wait(list(dispatch.pending), num_returns=1, timeout=WAIT_S)
            for ref in ready:
                result = self._collect(ray, dispatch, ref)
                if result is not None:
                    yield result

    def _fill(self, dispatch: Dispatch, source: Iterator[Job], exhausted: bool) -> bool:
        while (slot := dispatch.free_slot()) is not None:
            if dispatch.retry:
                job = dispatch.retry.popleft()
            elif exhausted:
                break
            else:
                next_job = next(source, None)
                if next_job is None:
                    return True
                job = next_job
            slot.running += 1
            dispatch.pending[slot.actor.run.remote(job)] = (slot, job)
        if not dispatch.slots and (dispatch.retry or dispatch.pending or not exhausted):
            raise errors.EngineUnavailable(
                "every node of the Ray cluster that offered the 'reprobox' resource was lost",
                "restart the nodes, then run the same command again: finished jobs are kept",
            )
        return exhausted

    def _collect(self, ray: ModuleType, dispatch: Dispatch, ref: Any) -> JobResult | None:
        slot, _job = dispatch.pending[ref]
        try:
            result: JobResult = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
            lost = dispatch.lose(slot)
            self.reruns += len(lost)
            dispatch.retry.extend(lost)
            with contextlib.suppress(Exception):  # its node may be gone already
                ray.kill(slot.actor, no_restart=True)
            return None
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, errors.ReproboxError):
                raise cause from None
            raise errors.SandboxError(f"a Ray worker failed: {cause or exc}") from exc
        del dispatch.pending[ref]
        slot.running -= 1
        return result
