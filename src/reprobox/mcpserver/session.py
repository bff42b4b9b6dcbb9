"""One sandbox session for one MCP client: created on first use, closed once, thread-safe.

The MCP layer calls these methods from worker threads, so the session serialises tool calls
(a session's timeout kill reaches every process of the box's user, so two commands must never
overlap) and lets :meth:`BoxSession.close` run from any thread at any time: it waits for a box
being created, then removes it, which also ends a command still running in it.

Nothing here imports the MCP SDK: the tools module turns these results into MCP results.
"""

from __future__ import annotations

import posixpath
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reprobox import errors
from reprobox.sandbox import Policy, RunResult, Sandbox

# Exit codes of the read script below, each a distinct, explained failure.
_MISSING, _FOLDER, _DENIED = 3, 4, 5
_READ = (
    'f=$1; [ -e "$f" ] || exit 3; [ -d "$f" ] && exit 4; [ -r "$f" ] || exit 5; '
    'stat -L -c %s -- "$f" >&2 2>/dev/null; exec head -c "$2" -- "$f"'
)
_PREPARE_WRITE = '[ -d "$1" ] && exit 4; mkdir -p -- "$2" || exit 1; [ -w "$2" ] || exit 5'
_FILE_MODE = 0o644


@dataclass(frozen=True)
class FileWritten:
    """``write_file``'s result: where the file is in the box and how many bytes it holds."""

    path: str
    bytes_written: int


@dataclass(frozen=True)
class FileRead:
    """``read_file``'s result: at most the output cap of the file's bytes.

    ``size_bytes`` is the size the file system reports (``None`` if it did not say; 0 for
    files such as those in ``/proc`` whose size is not known in advance)."""

    path: str
    data: bytes
    size_bytes: int | None
    truncated: bool


class BoxLost(errors.SandboxError):
    """The box broke during a call (or the server is stopping); the next call gets a new one."""


def box_path(path: str, workdir: str) -> str:
    """``path`` inside the box: relative to ``workdir`` unless absolute, normalised.
    Every path names something inside the box: there is no way out of it by path."""
    if not path.strip():
        raise errors.UsageError(f"empty path: name a file, relative to {workdir} or absolute")
    if "\0" in path:
        raise errors.UsageError(f"bad path {path!r}: it contains a NUL byte")
    full = posixpath.normpath(posixpath.join(workdir, path))
    return "/" + full.lstrip("/")


def file_path(path: str, workdir: str) -> str:
    """Like :func:`box_path`, for a path that must name a file (not ``/``, not ``dir/``)."""
    full = box_path(path, workdir)
    if full == "/" or path.endswith("/") or path.endswith("/."):
        raise errors.UsageError(f"bad path {path!r}: it names a folder, not a file")
    return full


class BoxSession:
    """The box of one client connection. ``new_box`` makes an unopened :class:`Sandbox`;
    the first call opens it, :meth:`close` removes it, a lost box is replaced on the next call.
    """

    def __init__(self, new_box: Callable[[], Sandbox]) -> None:
        self._new_box = new_box
        template = new_box()
        self.policy: Policy = template.policy
        self.workdir: str = template.workdir
        self._spare: Sandbox | None = template
        self._box: Sandbox | None = None
        self._closed = False
        self._state = threading.Lock()  # guards _box, _spare, _closed
        self._serial = threading.Lock()  # one tool call at a time

    # --- life cycle -----------------------------------------------------------------------
    @property
    def container_id(self) -> str | None:
        box = self._box
        return box.container_id if box is not None else None

    def close(self) -> None:
        """Remove the box (idempotent, any thread); later calls fail with :class:`BoxLost`."""
        with self._state:
            self._closed = True
            box, self._box, self._spare = self._box, None, None
        if box is not None:
            box.close()

    def _open(self) -> Sandbox:
        with self._state:
            if self._closed:
                raise BoxLost("the MCP server is stopping: its box was removed")
            if self._box is None:
                box = self._spare or self._new_box()
                self._spare = None
                box.__enter__()
                self._box = box
            return self._box

    def _discard(self, box: Sandbox) -> None:
        with self._state:
            if self._box is box:
                self._box = None
        box.close()

    # --- tools ----------------------------------------------------------------------------
    def run(self, command: str, timeout_s: float | None = None) -> RunResult:
        """Run ``command`` with ``sh -c`` in the box's working folder."""
        if not command.strip():
            raise errors.UsageError("empty command: give a shell command to run")
        seconds = self.timeout(timeout_s)
        with self._serial:
            return self._exec(["sh", "-c", command], seconds)

    def timeout(self, timeout_s: float | None) -> float | None:
        """The timeout for one call: the server's (``--timeout``) unless a shorter one is asked."""
        limit = self.policy.timeout_s
        if timeout_s is None:
            return limit
        if timeout_s <= 0:
            raise errors.UsageError(
                f"timeout_s must be a positive number of seconds, not {timeout_s:g}"
            )
        if limit is not None and timeout_s > limit:
            raise errors.UsageError(
                f"timeout_s {timeout_s:g} is over this server's limit of {limit:g} s "
                "(set by reprobox mcp --timeout)"
            )
        return timeout_s

    def write_file(self, path: str, data: bytes) -> FileWritten:
        """Create or replace the file at ``path`` (parent folders are created)."""
        full = file_path(path, self.workdir)
        folder, name = posixpath.split(full)
        with self._serial:
            prepared = self._exec(["sh", "-c", _PREPARE_WRITE, "sh", full, folder], None)
            if prepared.exit_code == _FOLDER:
                raise errors.UsageError(f"cannot write {full}: it is a folder")
            if prepared.exit_code == _DENIED:
                raise errors.UsageError(
                    f"cannot write {full}: {folder} is read-only in the box "
                    f"(write under {self.workdir} or /tmp)"
                )
            if not prepared.ok:
                raise errors.UsageError(f"cannot write {full}: {_last_line(prepared)}")
            self._copy_in(full, folder, name, data)
        return FileWritten(full, len(data))

    def read_file(self, path: str) -> FileRead:
        """The bytes of the file at ``path``, at most the output cap."""
        full = file_path(path, self.workdir)
        cap = self.policy.output_cap_bytes
        with self._serial:
            result = self._exec(["sh", "-c", _READ, "sh", full, str(cap + 1)], None)
        _check_read(full, result)
        size = result.stderr_text.strip()
        return FileRead(
            full, result.stdout, int(size) if size.isdigit() else None, result.stdout_truncated
        )

    # --- helpers --------------------------------------------------------------------------
    def _exec(self, argv: list[str], timeout: float | None) -> RunResult:
        box = self._open()
        try:
            return box.run(argv, timeout=timeout if timeout is not None else self.policy.timeout_s)
        except errors.ReproboxError as exc:
            self._discard(box)
            if isinstance(exc, BoxLost):
                raise
            raise BoxLost(
                f"the box was lost ({exc.message}): it was removed, and the next call starts "
                "a new, empty box"
            ) from exc

    def _copy_in(self, full: str, folder: str, name: str, data: bytes) -> None:
        box = self._open()
        with tempfile.TemporaryDirectory(prefix="reprobox-mcp-") as tmp:
            source = Path(tmp) / name
            source.write_bytes(data)
            source.chmod(_FILE_MODE)
            try:
                box.copy_in(source, folder)
            except errors.ReproboxError as exc:
                raise errors.UsageError(f"cannot write {full}: {_tar_reason(exc.message)}") from exc


def _check_read(full: str, result: RunResult) -> None:
    reasons = {
        _MISSING: f"no such file: {full}",
        _FOLDER: f"{full} is a folder, not a file (list it with the run tool: ls -la {full})",
        _DENIED: f"cannot read {full}: permission denied",
    }
    if result.timed_out:
        raise errors.UsageError(f"reading {full} timed out (is it a pipe or a device?)")
    if result.exit_code in reasons:
        raise errors.UsageError(reasons[result.exit_code])
    if result.exit_code != 0:
        raise errors.UsageError(f"cannot read {full}: {_last_line(result)}")


def _last_line(result: RunResult) -> str:
    lines = result.stderr_text.strip().splitlines()
    return lines[-1] if lines else f"exit code {result.exit_code}"


def _tar_reason(message: str) -> str:
    """``copy into /x failed: tar: f: Cannot open: Read-only file system`` -> the reason."""
    return message.rsplit(": ", 1)[-1] if "tar:" in message else message
