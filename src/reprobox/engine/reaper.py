"""Removes a box's container when its owner process dies, where the engine cannot.

Docker removes an exited box by itself (AutoRemove) and still reports its exit status;
Podman 4.3 loses the status of an auto-removed container, so its boxes are removed by their
owner after the wait. When the owner dies (SIGKILL too) the box ends by itself (its init's
lifeline closes), but its exited container would stay until ``reprobox gc``. So each such
box gets a reaper: a detached ``sh`` that holds the read end of a pipe whose write end only
the owner holds. The owner removes the box as usual and then says ``done``: the reaper exits
without touching anything. When the owner dies first, the operating system closes the pipe,
the reaper reads end of file and removes every container with the box's reaper label through
the engine's API socket (with a few lines of stdlib Python, started only then).

The label is given before the container is created, so a box whose owner dies between the
create request and its answer is found too. Costs one ``sh`` process per box while it lives.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import uuid

LABEL = "io.reprobox.reaper"

# Waits for the owner: "done" ends it quietly; end of file (the owner died) removes the box.
_WATCH = r"""
trap '' INT TERM HUP
read -r line
[ "$line" = done ] && exit 0
exec "$0" -I -S -c "$1" "$2" "$3"
"""

# Lists the containers with the label and force-removes them (no reprobox import: fast, and
# independent of the owner's environment).
_REMOVE = r"""
import json, socket, sys, time, urllib.parse
path, label = sys.argv[1], sys.argv[2]

def call(method, target):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    s.sendall(f"{method} {target} HTTP/1.0\r\nHost: reprobox\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return data.partition(b"\r\n\r\n")[2]

flt = urllib.parse.quote(json.dumps({"label": [label]}))
for attempt in range(5):
    try:
        for box in json.loads(call("GET", f"/containers/json?all=1&filters={flt}")):
            call("DELETE", f"/containers/{box['Id']}?force=1&v=1")
        break
    except (OSError, ValueError):
        time.sleep(1)
"""


class Reaper:
    """One box's reaper; :attr:`label` goes on the box's container before it is created."""

    def __init__(self, socket_path: str) -> None:
        self.label = (LABEL, uuid.uuid4().hex)
        read, self._write = os.pipe()
        selector = f"{self.label[0]}={self.label[1]}"
        cmd = ["sh", "-c", _WATCH, sys.executable, _REMOVE, socket_path, selector]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=read,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C to the owner's group does not reach it
            )
        finally:
            os.close(read)

    def abandon(self) -> None:
        """Let the reaper remove whatever carries its label now (a failed create)."""
        fd, self._write = self._write, -1
        if fd >= 0:
            os.close(fd)
            threading.Thread(target=self._proc.wait, daemon=True).start()

    def release(self) -> None:
        """The owner removed the box itself: the reaper exits without touching anything.
        Idempotent (a second call must never close a descriptor number reused since)."""
        fd, self._write = self._write, -1
        if fd < 0:
            return
        with contextlib.suppress(OSError):
            os.write(fd, b"done\n")
        with contextlib.suppress(OSError):
            os.close(fd)
        threading.Thread(target=self._proc.wait, daemon=True).start()


_LOCK = threading.Lock()
_REAPERS: dict[str, Reaper] = {}


def watch(container_id: str, reaper: Reaper) -> None:
    """Keep ``reaper`` until :func:`release` is called for ``container_id``."""
    with _LOCK:
        _REAPERS[container_id] = reaper


def release(container_id: str) -> None:
    """The box is removed: its reaper, if any, exits quietly."""
    with _LOCK:
        reaper = _REAPERS.pop(container_id, None)
    if reaper is not None:
        reaper.release()
