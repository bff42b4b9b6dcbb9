"""``reprobox run`` as one library call: a request from the command line -> a RunResult."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from reprobox import errors
from reprobox.engine import Engine
from reprobox.sandbox.backend import check_backend
from reprobox.sandbox.box import OnOutput, Sandbox
from reprobox.sandbox.policy import Network, Policy
from reprobox.sandbox.result import RunResult
from reprobox.sandbox.spec import Mount

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``512m``, ``1g``, ``1GiB``, ``1048576`` -> bytes (binary units, like docker)."""
    match = _SIZE.match(text)
    if not match:
        raise errors.UsageError(f"not a size: {text!r} (use e.g. 512m or 1g)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _limit(text: str) -> int | None:
    """A memory limit: a size, or ``none``/``0`` for no limit."""
    if text.strip().lower() in ("none", "0"):
        return None
    return parse_size(text)


def parse_labels(items: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` pairs -> a dict."""
    labels = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise errors.UsageError(f"a label must be KEY=VALUE, not {item!r}")
        labels[key] = value
    return labels


@dataclass(frozen=True)
class RunRequest:
    """What ``reprobox run`` was asked to do; ``None`` keeps the policy's default."""

    image: str
    command: tuple[str, ...]
    timeout_s: float | None = None
    memory: str | None = None
    cpus: float | None = None
    pids: int | None = None
    network: Network | None = None
    runtime: str | None = None
    mounts: tuple[str, ...] = ()
    copy_in: tuple[Path, ...] = ()
    copy_out: Path | None = None
    labels: tuple[str, ...] = field(default=())
    backend: str = "engine"
    no_limits: bool = False

    def policy(self) -> Policy:
        """The default policy, with exactly the relaxations the request names."""
        changes: dict[str, object] = {}
        if self.timeout_s is not None:
            changes["timeout_s"] = self.timeout_s if self.timeout_s > 0 else None
        if self.memory is not None:
            changes["memory_bytes"] = _limit(self.memory)
        for name, limit in (("cpus", self.cpus), ("pids_limit", self.pids)):
            if limit is not None:
                changes[name] = limit or None  # 0 = no limit, as for the timeout
        for name, value in (
            ("network", self.network),
            ("runtime", self.runtime),
        ):
            if value is not None:
                changes[name] = value
        return (Policy.unlimited() if self.no_limits else Policy()).relaxed(**changes)

    def parsed_mounts(self) -> tuple[Mount, ...]:
        return tuple(Mount.parse(m) for m in self.mounts)

    @property
    def one_shot(self) -> bool:
        """A fresh container for the command alone; copies in or out make it a session."""
        return not self.copy_in and self.copy_out is None


def run_request(
    engine: Engine | None, request: RunRequest, on_output: OnOutput | None = None
) -> RunResult:
    """Run the request's command: one-shot, or a session when files go in or out. The oci
    backend connects to an engine (``engine``, else the local one) only to look an image up
    by name."""
    box = Sandbox(
        request.image,
        request.policy(),
        mounts=request.parsed_mounts(),
        labels=parse_labels(request.labels),
        engine=engine,
        backend=check_backend(request.backend),
    )
    if request.one_shot:
        return box.run(list(request.command), on_output=on_output)
    with box:
        for path in request.copy_in:
            box.copy_in(path)
        result = box.run(list(request.command), on_output=on_output)
        if request.copy_out is not None:
            box.copy_out(".", request.copy_out)
    return result
