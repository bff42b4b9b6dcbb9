"""Which engine answers (Docker or Podman, rootful or rootless) and what it can give a box.

Detected once per connection from the engine's own answers: the ``Server`` header of
``GET /_ping`` (``Docker/20.10.24`` or ``Libpod/4.3.1``, free: every client pings first) and,
for Podman only, ``GET /libpod/info`` (rootless, cgroup version, the user-namespace maps).
Every engine difference reprobox knows lives here, as data (:class:`Flavour`) and pure
functions of it, so the rest of the code never asks "is this Podman?".
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from reprobox import errors

# Rootful Podman's own defaults when not told (nproc 4194304, nofile 1048576) exceed many
# hosts' hard limits, and a box then fails to start ("setrlimit: operation not permitted").
# reprobox always sets both; these are used where the policy sets none. RLIMIT_NPROC counts
# every process of the box's host uid, not the box's alone (the pids limit bounds the box).
EXPLICIT_ULIMITS = (("nproc", 4096), ("nofile", 4096))


# Where scripts/setup-engine --engine podman [--rootless USER] serves the API.
PODMAN_URL = "unix:///run/podman/podman.sock"


def rootless_podman_url(uid: int) -> str:
    """The API socket of rootless Podman for ``uid`` (its runtime folder)."""
    return f"unix:///run/user/{uid}/podman/podman.sock"


class EngineKind(StrEnum):
    DOCKER = "docker"
    PODMAN = "podman"

    @property
    def product(self) -> str:
        return "Docker" if self is EngineKind.DOCKER else "Podman"


@dataclass(frozen=True)
class IdRange:
    """``size`` ids from ``container`` inside a box are ``host`` ids on the host."""

    container: int
    host: int
    size: int


@dataclass(frozen=True)
class Flavour:
    """The engine's kind and the facts that change what a box can be."""

    kind: EngineKind = EngineKind.DOCKER
    version: str = ""
    rootless: bool = False
    cgroup_version: str = ""
    uid_map: tuple[IdRange, ...] = ()
    # The engine's user owns a delegated cgroup parent in every v1 controller and reprobox
    # runs as that user: each box gets its own limited cgroup there (engine/cgroups.py).
    delegated_cgroups: bool = False

    @property
    def needs_box_cgroups(self) -> bool:
        """Whether reprobox itself must make each box's limited cgroup (rootless Podman on
        cgroup v1 discards a box's memory, pids and CPU limits)."""
        return self.rootless and self.kind is EngineKind.PODMAN and self.cgroup_version == "1"

    @property
    def name(self) -> str:
        """``Podman 4.3.1 (rootless)``: what doctor and error messages call the engine."""
        mode = "rootless" if self.rootless else "rootful"
        return f"{self.kind.product} {self.version or '?'} ({mode})"

    @property
    def enforces_limits(self) -> bool:
        """Whether memory, pids and CPU limits are enforced (rootless Podman on cgroup v1
        accepts them and silently ignores them, unless reprobox makes each box's cgroup
        under a delegated parent)."""
        return not self.needs_box_cgroups or self.delegated_cgroups

    @property
    def enforces_ulimits(self) -> bool:
        """Whether file-size and open-file limits reach the box (rootless Podman 4's Docker
        API drops a create request's ``Ulimits``: its own CLI is needed for them)."""
        return not (self.rootless and self.kind is EngineKind.PODMAN)

    @property
    def loads_partial_archives(self) -> bool:
        """Whether ``docker load`` accepts an archive without the layers the engine already
        has (Docker does; Podman needs every layer in the archive)."""
        return self.kind is EngineKind.DOCKER

    @property
    def auto_removes_with_status(self) -> bool:
        """Whether a box can be AutoRemove and still report its exit status (Docker's wait
        for ``removed`` returns it; Podman 4.3's answers 0, so its boxes are removed by
        reprobox after the wait instead)."""
        return self.kind is EngineKind.DOCKER

    @property
    def runs_gvisor(self) -> bool:
        """gVisor needs a rootful engine: runsc cannot set up its sandbox without root."""
        return not self.rootless

    def host_uid(self, uid: int) -> int | None:
        """The host uid of ``uid`` inside a box (``uid`` itself on a rootful engine)."""
        if not self.uid_map:
            return None if self.rootless else uid
        for r in self.uid_map:
            if r.container <= uid < r.container + r.size:
                return r.host + uid - r.container
        return None


DOCKER = Flavour()


def kind_from_server(server: str) -> tuple[EngineKind, str]:
    """``Libpod/4.3.1 (linux)`` -> Podman 4.3.1; ``Docker/20.10.24+dfsg1 (linux)`` -> Docker."""
    product, _, rest = server.partition("/")
    version = rest.split(" ", 1)[0]
    if product.strip().lower() == "libpod":
        return EngineKind.PODMAN, version
    return EngineKind.DOCKER, version


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def with_delegation(flavour: Flavour, local: bool) -> Flavour:
    """``flavour`` with ``delegated_cgroups`` found on this host (a local engine only, and
    reprobox running as the engine's user, who owns the delegated parent, or as root)."""
    from reprobox.engine import cgroups

    uid = flavour.host_uid(0)
    if not (local and flavour.needs_box_cgroups and uid is not None and os.geteuid() in (0, uid)):
        return flavour
    return replace(flavour, delegated_cgroups=cgroups.delegated(uid))


def from_libpod_info(version: str, info: dict[str, Any]) -> Flavour:
    """A Podman flavour from ``GET /libpod/info``."""
    host = info.get("host") or {}
    security = host.get("security") or {}
    ranges = ((host.get("idMappings") or {}).get("uidmap")) or ()
    return Flavour(
        kind=EngineKind.PODMAN,
        version=version or str((info.get("version") or {}).get("Version", "")),
        rootless=bool(security.get("rootless")),
        cgroup_version=str(host.get("cgroupVersion", "")).removeprefix("v"),
        uid_map=tuple(
            IdRange(int(r["container_id"]), int(r["host_id"]), int(r["size"])) for r in ranges
        ),
    )


# --- what a box needs from the engine -------------------------------------------------------
_NO_LIMITS_HINT = (
    "use rootful Podman or Docker; or drop the limits explicitly: reprobox run --no-limits "
    "(Python: Policy.unlimited())"
)


def refusal(
    flavour: Flavour, *, limits: bool, ulimits: bool, runtime: str | None
) -> errors.Unsupported | None:
    """Why ``flavour`` cannot give a box what it asks for, or ``None``: a box is refused,
    never silently weakened."""
    if limits and not flavour.enforces_limits:
        uid = flavour.host_uid(0)
        return errors.Unsupported(
            f"{flavour.name} on cgroup v1 cannot enforce memory, process or CPU limits "
            "without a delegated cgroup parent (it would silently ignore them)",
            "set it up as root: scripts/setup-engine --engine podman --rootless "
            f"{_user_name(os.geteuid() if uid is None else uid)}; or use rootful Podman or "
            "Docker; or drop the limits: reprobox run --no-limits (Python: Policy.unlimited())",
        )
    if ulimits and not flavour.enforces_ulimits:
        return errors.Unsupported(
            f"{flavour.name} cannot enforce file-size or open-file limits through its "
            "Docker API (it would silently drop them)",
            _NO_LIMITS_HINT,
        )
    if runtime == "runsc" and not flavour.runs_gvisor:
        return errors.Unsupported(
            f"{flavour.name} cannot run gVisor (runsc needs a rootful engine)",
            "use rootful Podman or Docker for --runtime runsc",
        )
    return None


def adapt_host_config(
    flavour: Flavour, kwargs: dict[str, Any], *, user: str, network_disabled: bool
) -> dict[str, Any]:
    """``create_host_config`` arguments as this engine needs them for the same box.

    Podman ignores the create request's ``NetworkDisabled`` (the box would join its default
    bridge), so a disabled network is asked for as network mode ``none`` there."""
    if flavour.kind is EngineKind.DOCKER:
        return kwargs
    adapted = dict(kwargs)
    if network_disabled:
        adapted["network_mode"] = "none"
    if "tmpfs" in adapted:
        adapted["tmpfs"] = {
            path: podman_tmpfs_options(options, user) for path, options in kwargs["tmpfs"].items()
        }
    if flavour.enforces_ulimits:
        adapted["ulimits"] = explicit_ulimits(kwargs.get("ulimits") or [])
    return adapted


def podman_tmpfs_options(options: str, user: str) -> str:
    """Podman rejects ``uid=``/``gid=`` tmpfs options. When the owner is the container's user,
    its ``U`` option chowns the tmpfs to that user (same result); otherwise (a session's
    keeper runs as another user than the commands) the folder is made sticky and
    world-writable instead, within the box."""
    parts = options.split(",")
    owner = [p for p in parts if p.startswith(("uid=", "gid="))]
    if not owner:
        return options
    rest = [p for p in parts if p not in owner]
    uid = next((p[4:] for p in owner if p.startswith("uid=")), "")
    gid = next((p[4:] for p in owner if p.startswith("gid=")), uid)
    if f"{uid}:{gid}" == user or (uid == user and uid == gid):
        return ",".join([*rest, "U"])
    return ",".join([p if not p.startswith("mode=") else "mode=1777" for p in rest])


def explicit_ulimits(ulimits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Process and open-file limits always set explicitly, so the engine's and the host's
    ``containers.conf`` defaults never apply (:data:`EXPLICIT_ULIMITS` fill the gaps)."""
    named = {u["Name"] for u in ulimits}
    added = [{"Name": n, "Soft": v, "Hard": v} for n, v in EXPLICIT_ULIMITS if n not in named]
    return [*ulimits, *added]
