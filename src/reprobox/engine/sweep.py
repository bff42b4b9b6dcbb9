"""Find and remove what reprobox left on the engine (``reprobox gc`` and test teardown)."""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from reprobox import errors
from reprobox.engine import labels

if TYPE_CHECKING:
    from reprobox.engine.core import Engine, SweepReport

_LOG = logging.getLogger("reprobox")


def owner_alive(resource_labels: dict[str, str]) -> bool:
    """Whether the process that created a resource still runs (unknown owners count as alive
    unless they were created on this host, where we can check)."""
    if resource_labels.get(labels.HOST) != socket.gethostname():
        return True
    try:
        pid = int(resource_labels.get(labels.PID, ""))
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _selected(items: list[dict[str, Any]], key: str, only_dead: bool) -> list[dict[str, Any]]:
    return [i for i in items if not only_dead or not owner_alive(i.get(key) or {})]


def sweep(engine: Engine, session: str | None, only_dead: bool) -> SweepReport:
    from reprobox.engine.core import SweepReport

    api = engine.raw.api
    filters = labels.filter_managed(session)
    with engine.guard("list reprobox resources"):
        containers = _selected(api.containers(all=True, filters=filters), "Labels", only_dead)
        images = _selected(api.images(filters=filters), "Labels", only_dead)
        volumes = _selected(api.volumes(filters=filters).get("Volumes") or [], "Labels", only_dead)
        networks = _selected(api.networks(filters=filters), "Labels", only_dead)
    removed_c = [c["Id"] for c in containers if _try(engine, api.remove_container, c["Id"], True)]
    removed_v = [v["Name"] for v in volumes if _try(engine, api.remove_volume, v["Name"], True)]
    removed_n = [n["Id"] for n in networks if _try(engine, api.remove_network, n["Id"], None)]
    removed_i = [i["Id"] for i in images if _try(engine, api.remove_image, i["Id"], True)]
    _sweep_cgroups(engine)
    return SweepReport(tuple(removed_c), tuple(removed_i), tuple(removed_v), tuple(removed_n))


def _sweep_cgroups(engine: Engine) -> None:
    """Remove the cgroup folders reprobox made for boxes whose owner is dead (rootless
    Podman on cgroup v1: see engine/cgroups.py)."""
    from reprobox.engine import cgroups

    flavour = engine.flavour()
    uid = flavour.host_uid(0)
    if flavour.delegated_cgroups and uid is not None:
        for parent in cgroups.sweep(uid):
            _LOG.info("removed the cgroup folders of a dead owner's box: %s", parent)


def _try(engine: Engine, remove: Any, ident: str, force: bool | None) -> bool:
    """Remove one resource; whether this call removed it. One that is gone already is
    quietly not counted; any other failure is logged as a warning (it stays behind)."""
    kwargs = {} if force is None else {"force": force}
    try:
        with engine.guard(f"remove {ident[:12]}"):
            remove(ident, **kwargs)
    except errors.ImageNotFound:
        return False
    except errors.EngineError as exc:
        if exc.status == 404:
            return False
        _LOG.warning("could not remove %s: %s", ident[:12], exc.message)
        return False
    return True
