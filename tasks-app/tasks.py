"""Task-list model and crash-safe JSON storage for the tasks-app.

Model
-----
``Task`` and ``TaskList`` are plain dataclasses.  Task numbers are the
0-based positions in the list, exactly as ``render()`` shows them.

On-disk format
--------------
A UTF-8 JSON list of ``{"title": str, "done": bool}`` objects, written with
``indent=2``, ``ensure_ascii=False`` and a trailing newline.  A missing file
means "no tasks".  Anything else that is not exactly that shape is refused
with a ``CorruptStateError`` and the file is never touched.

Storage guarantees
------------------
* Reads never modify the file.
* Writes are atomic: a temporary file ``.<name>.XXXXXXXX.tmp`` is created in
  the same folder, written, flushed and fsync'ed, then ``os.replace``'d onto
  the state file, and finally the folder itself is fsync'ed.  Readers see
  either the old or the new content, never a mix, an empty file or a
  truncated one.  On any failure the temporary file is removed.
* Read-modify-write cycles (``transaction()``) run under an exclusive
  ``fcntl.flock`` on a separate lock file ``<name>.lock`` next to the state
  file.  The data file cannot be the lock because it is replaced by rename.
  The lock file is never deleted (deleting lock files re-introduces races);
  it is empty and harmless.
* A writer killed with SIGKILL (or a power loss) between creating its
  temporary file and renaming it leaves a stale ``.<name>.XXXXXXXX.tmp``
  behind.  It is never read as data.  Because every writer holds the lock
  while its temporary file exists, any such file found by the next locked
  write is stale by construction, and that write deletes it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CorruptStateError",
    "StoreError",
    "Task",
    "TaskList",
    "is_temp_file_for",
    "load",
    "lock_path_for",
    "locked",
    "save",
    "transaction",
    "validate_title",
]

EMPTY_MESSAGE = "(no tasks yet)"

StrPath = str | os.PathLike[str]


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------


def validate_title(title: object) -> str:
    """Return *title* unchanged if it is acceptable, else raise.

    Rejected (ValueError): empty or whitespace-only titles, titles spanning
    more than one line (they would break ``render()``), titles containing
    other control characters, and text that cannot be stored as UTF-8
    (e.g. lone surrogates from undecodable command-line bytes).
    A non-string raises TypeError.
    """
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, not {type(title).__name__}")
    if not title.strip():
        raise ValueError("title must not be empty")
    if title.splitlines() != [title]:
        raise ValueError("title must be a single line (no line breaks)")
    for ch in title:
        if ch != "\t" and unicodedata.category(ch) == "Cc":
            raise ValueError(f"title must not contain control characters (found {ch!r})")
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("title is not valid text (it cannot be encoded as UTF-8)") from None
    return title


@dataclass
class Task:
    title: str
    done: bool = False

    def __post_init__(self) -> None:
        validate_title(self.title)
        if not isinstance(self.done, bool):
            raise TypeError(f"done must be a bool, not {type(self.done).__name__}")

    def render(self, index: int) -> str:
        return f"{index}. [{'x' if self.done else ' '}] {self.title}"


def _count_phrase(n: int) -> str:
    if n == 0:
        return "there are no tasks"
    if n == 1:
        return "there is 1 task"
    return f"there are {n} tasks"


@dataclass
class TaskList:
    tasks: list[Task] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tasks)

    def _check_index(self, index: object) -> int:
        # bool is an int subclass; done(True) is almost surely a bug.
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"task number must be an int, not {type(index).__name__}")
        if not 0 <= index < len(self.tasks):
            raise IndexError(f"no task {index} ({_count_phrase(len(self.tasks))})")
        return index

    def add(self, title: str) -> Task:
        task = Task(validate_title(title))
        self.tasks.append(task)
        return task

    def complete(self, index: int) -> Task:
        task = self.tasks[self._check_index(index)]
        task.done = True
        return task

    def undo(self, index: int) -> Task:
        task = self.tasks[self._check_index(index)]
        task.done = False
        return task

    def remove(self, index: int) -> Task:
        return self.tasks.pop(self._check_index(index))

    def clear_done(self) -> int:
        before = len(self.tasks)
        self.tasks = [t for t in self.tasks if not t.done]
        return before - len(self.tasks)

    def pending(self) -> list[Task]:
        return [t for t in self.tasks if not t.done]

    def pending_count(self) -> int:
        return sum(1 for t in self.tasks if not t.done)

    def render_line(self, index: int) -> str:
        return self.tasks[self._check_index(index)].render(index)

    def render(self) -> str:
        if not self.tasks:
            return EMPTY_MESSAGE
        return "\n".join(t.render(i) for i, t in enumerate(self.tasks))

    # -- on-disk representation ------------------------------------------

    def to_json_data(self) -> list[dict[str, Any]]:
        return [{"title": t.title, "done": t.done} for t in self.tasks]

    @classmethod
    def from_json_data(cls, data: Any) -> TaskList:
        """Build a TaskList from parsed JSON, or raise ValueError saying
        exactly what is wrong.  Unknown keys are refused rather than
        silently dropped on the next write."""
        if not isinstance(data, list):
            raise ValueError(f"expected a JSON list of tasks, found {_json_type(data)}")
        tasks = []
        for i, item in enumerate(data):
            where = f"item {i}"
            if not isinstance(item, dict):
                raise ValueError(f"{where}: expected an object, found {_json_type(item)}")
            if "title" not in item:
                raise ValueError(f'{where}: missing "title"')
            if "done" not in item:
                raise ValueError(f'{where}: missing "done"')
            extra = sorted(set(item) - {"title", "done"})
            if extra:
                raise ValueError(
                    f"{where}: unexpected key(s) " + ", ".join(json.dumps(k) for k in extra)
                )
            title, done = item["title"], item["done"]
            if not isinstance(title, str):
                raise ValueError(f'{where}: "title" must be a string, found {_json_type(title)}')
            if not isinstance(done, bool):
                raise ValueError(f'{where}: "done" must be true or false, found {_json_type(done)}')
            try:
                validate_title(title)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            tasks.append(Task(title, done))
        return cls(tasks)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__  # pragma: no cover


# --------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------


class StoreError(Exception):
    """The state file (or its lock) could not be read or written.

    ``str(exc)`` is a complete one-line message naming the path."""

    def __init__(self, path: StrPath, problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CorruptStateError(StoreError):
    """The state file exists but does not hold valid task data."""

    def __init__(self, path: StrPath, problem: str) -> None:
        super().__init__(path, problem)
        self.args = (f"{self.path} is not valid task data: {problem}; fix or move it away",)


def _os_problem(exc: OSError) -> str:
    if exc.errno is not None and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc)


def lock_path_for(path: StrPath) -> Path:
    p = Path(path)
    return p.with_name(p.name + ".lock")


_TEMP_SUFFIX = ".tmp"


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def is_temp_file_for(path: StrPath, candidate: str) -> bool:
    """True if *candidate* (a bare file name) is one of our temp files for
    the state file *path*, i.e. ``.<name>.XXXXXXXX.tmp`` from mkstemp."""
    p = Path(path)
    pattern = re.escape(_temp_prefix(p)) + r"[a-z0-9_]{8}" + re.escape(_TEMP_SUFFIX)
    return re.fullmatch(pattern, candidate) is not None


def load(path: StrPath) -> TaskList:
    """Read the task list from *path*.  Missing file -> empty list.

    Raises CorruptStateError for content problems and StoreError for
    I/O problems (permissions, a directory at the path, ...).  Never
    modifies the file."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        _check_folder(path)
        return TaskList()
    except IsADirectoryError:
        raise StoreError(path, "cannot read: is a directory, not a file") from None
    except OSError as exc:
        raise StoreError(path, f"cannot read: {_os_problem(exc)}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptStateError(path, f"not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise CorruptStateError(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptStateError(
            path, f"bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise CorruptStateError(path, "bad JSON: nested too deeply") from None
    try:
        return TaskList.from_json_data(data)
    except ValueError as exc:
        raise CorruptStateError(path, str(exc)) from None


def _check_folder(path: Path) -> None:
    # A missing state file means "no tasks", but a missing folder is
    # almost surely a typo in TASKS_FILE: say so instead of pretending.
    if not path.parent.is_dir():
        raise StoreError(path, f"folder {path.parent} does not exist")


def _new_file_mode() -> int:
    # mkstemp creates 0600 files; give a new state file the usual
    # 0666 & ~umask instead.  (os.umask can only be read by setting it.)
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # cannot open folders here: nothing more we can do
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems do not support fsync on a directory.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def save(path: StrPath, tasklist: TaskList) -> None:
    """Atomically replace *path* with *tasklist*.

    Call it while holding ``locked(path)`` if other writers may exist
    (``transaction()`` does that for you)."""
    path = Path(path)
    directory = path.parent
    payload = (json.dumps(tasklist.to_json_data(), indent=2, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()
    except OSError as exc:
        raise StoreError(path, f"cannot write: {_os_problem(exc)}") from None
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=directory
        )
    except OSError as exc:
        raise StoreError(
            path, f"cannot create a temporary file in {directory}: {_os_problem(exc)}"
        ) from None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            # Covers errors, KeyboardInterrupt and SIGTERM-as-SystemExit.
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(directory)
    except OSError as exc:
        raise StoreError(path, f"cannot write: {_os_problem(exc)}") from None


@contextlib.contextmanager
def locked(path: StrPath) -> Iterator[None]:
    """Hold an exclusive lock for the state file *path*.

    The lock lives on ``<path>.lock``, created if needed and never deleted.
    Blocks until the lock is free."""
    lock = lock_path_for(path)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise StoreError(lock, f"cannot open lock file: {_os_problem(exc)}") from None
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries
                continue
            except OSError as exc:
                raise StoreError(lock, f"cannot lock: {_os_problem(exc)}") from None
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _remove_stale_temp_files(path: Path) -> None:
    # Only called with the lock held: every writer holds the lock while its
    # temp file exists, so any temp file seen now belongs to a dead writer.
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if is_temp_file_for(path, name):
            with contextlib.suppress(OSError):
                os.unlink(path.parent / name)


def _real_path(path: StrPath) -> Path:
    # Follow a symlinked state file so that a write replaces the target and
    # keeps the link, and so all writers lock next to the same real file.
    return Path(os.path.realpath(path))


@contextlib.contextmanager
def transaction(path: StrPath) -> Iterator[TaskList]:
    """Locked read-modify-write::

        with transaction(p) as tl:
            tl.add("milk")

    The list is saved only if the block finishes without an exception and
    actually changed something; otherwise the file is left untouched."""
    real = _real_path(path)
    if real.is_dir():
        raise StoreError(path, "cannot read: is a directory, not a file")
    try:
        _check_folder(real)
    except StoreError as exc:
        raise StoreError(path, exc.problem) from None
    with locked(real):
        try:
            tasklist = load(real)
        except StoreError as exc:
            # Report the path the user gave us, not the resolved one.
            exc_type = type(exc)
            raise exc_type(path, exc.problem) from None
        before = tasklist.to_json_data()
        yield tasklist
        if tasklist.to_json_data() != before:
            _remove_stale_temp_files(real)
            try:
                save(real, tasklist)
            except StoreError as exc:
                raise StoreError(path, exc.problem) from None
