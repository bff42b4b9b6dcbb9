"""The hardened defaults of a box, as one frozen value; every field can be relaxed explicitly."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reprobox import errors

if TYPE_CHECKING:
    from reprobox.engine import Engine

MiB = 1 << 20
Network = Literal["disabled", "none", "host"]
NETWORKS: tuple[Network, ...] = ("disabled", "none", "host")
ROOT_USERS = ("0", "root")
# The only environment a box gets (on top of the image's own ENV): nothing from the host.
MINIMAL_ENV: tuple[tuple[str, str], ...] = (
    ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    ("HOME", "/work"),
    ("TMPDIR", "/tmp"),
    ("LANG", "C.UTF-8"),
    # Python's output reaches the caller as it is printed, not when a buffer fills: output
    # of a box always goes to a pipe. Override it with Policy(env=...) or with_env().
    ("PYTHONUNBUFFERED", "1"),
)


_NO_LIMITS: dict[str, object] = dict.fromkeys(
    ("memory_bytes", "pids_limit", "cpus", "file_size_bytes", "open_files")
)


@dataclass(frozen=True)
class Policy:
    """What a box allows. The defaults are the hardened ones; relax a field by naming it:
    ``Policy(network="host")``, ``dataclasses.replace(policy, memory_bytes=None)``.

    ``network="disabled"`` creates the container with networking disabled (no network
    namespace setup at all, only loopback); ``"none"`` attaches it to the ``none`` network
    (same isolation, slower start); ``"host"`` shares the host's network and defeats
    network isolation. ``None`` for a limit means "no limit".
    """

    network: Network = "disabled"
    read_only_root: bool = True
    tmp_bytes: int = 64 * MiB
    workdir_bytes: int = 256 * MiB
    drop_all_capabilities: bool = True
    add_capabilities: tuple[str, ...] = ()
    no_new_privileges: bool = True
    seccomp: bool = True
    user: str = "65534:65534"
    pids_limit: int | None = 128
    memory_bytes: int | None = 512 * MiB
    swap: bool = False
    cpus: float | None = 1.0
    file_size_bytes: int | None = 256 * MiB
    open_files: int | None = 1024
    init: bool = True
    env: tuple[tuple[str, str], ...] = MINIMAL_ENV
    timeout_s: float | None = 30.0
    output_cap_bytes: int = 1 * MiB
    runtime: str | None = None

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise errors.UsageError(f"network must be one of {', '.join(NETWORKS)}")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise errors.UsageError("timeout_s must be positive (or None for no timeout)")
        if self.output_cap_bytes < 0:
            raise errors.UsageError("output_cap_bytes must not be negative")

    @classmethod
    def strict(cls, engine: Engine | None = None, **overrides: object) -> Policy:
        """The defaults, plus the gVisor ``runsc`` runtime when the engine has it registered
        (``engine``, or else the default one: ``DOCKER_HOST`` or the local socket)."""
        if engine is None:
            from reprobox.engine import connect

            with contextlib.closing(connect()) as default:
                return cls.strict(default, **overrides)
        runtime = "runsc" if engine.info().has_runsc else None
        return dataclasses.replace(cls(runtime=runtime), **overrides)  # type: ignore[arg-type]

    @classmethod
    def unlimited(cls, **overrides: object) -> Policy:
        """The defaults without memory, process, CPU, file-size and open-file limits: for
        engines that cannot enforce them (rootless Podman on cgroup v1), chosen explicitly."""
        return cls().relaxed(**(_NO_LIMITS | overrides))

    def relaxed(self, **changes: object) -> Policy:
        """A copy with ``changes`` applied (each one a deliberate relaxation)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def runs_as_root(self) -> bool:
        return self.user.split(":", 1)[0] in ROOT_USERS

    def with_env(self, **values: str) -> Policy:
        """A copy whose environment also has ``values`` (explicit, never from the host)."""
        merged = dict(self.env) | values
        return dataclasses.replace(self, env=tuple(merged.items()))
