"""Labels that mark everything reprobox creates on the engine, so leftovers can be found.

Every container, image, volume and network reprobox creates carries ``MANAGED`` plus the
``SESSION`` of the Python process that made it and that process's ``PID`` and ``HOST``; a sweep
(``reprobox gc``) removes what belongs to sessions whose process is gone.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

PREFIX = "io.reprobox."
MANAGED = PREFIX + "managed"
SESSION = PREFIX + "session"
KIND = PREFIX + "kind"
PID = PREFIX + "pid"
HOST = PREFIX + "host"
CREATED = PREFIX + "created"

_SESSION_ID = uuid.uuid4().hex[:12]


def session_id() -> str:
    """The identifier of this Python process's reprobox session."""
    return _SESSION_ID


def for_resource(kind: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Labels for a new resource of ``kind`` ("sandbox", "build", "test", ...)."""
    labels = {
        MANAGED: "true",
        SESSION: _SESSION_ID,
        KIND: kind,
        PID: str(os.getpid()),
        HOST: socket.gethostname(),
        CREATED: str(int(time.time())),
    }
    if extra:
        labels.update(extra)
    return labels


def filter_managed(session: str | None = None) -> dict[str, list[str]]:
    """An engine ``filters`` argument selecting reprobox resources (of one session if given)."""
    wanted = [f"{MANAGED}=true"]
    if session is not None:
        wanted.append(f"{SESSION}={session}")
    return {"label": wanted}
