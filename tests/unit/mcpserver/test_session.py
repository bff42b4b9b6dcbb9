"""BoxSession: paths, lazy life cycle, timeouts, lost boxes, file reads and writes (fake box)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from reprobox import errors
from reprobox.mcpserver.session import BoxLost, BoxSession, box_path, file_path
from reprobox.sandbox import Policy
from tests.unit.mcpserver.fakes import Boxes, result


def session(boxes: Boxes) -> BoxSession:
    return BoxSession(boxes.new)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "full"),
    [
        ("a.txt", "/work/a.txt"),
        ("src/../b", "/work/b"),
        ("/tmp/x", "/tmp/x"),
        ("//etc///passwd", "/etc/passwd"),
        ("../../..", "/"),
        ("./", "/work"),
    ],
)
def test_paths_are_relative_to_the_working_folder_unless_absolute(path: str, full: str) -> None:
    assert box_path(path, "/work") == full


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("", "empty path"),
        ("  ", "empty path"),
        ("a\0b", "NUL byte"),
        ("/", "names a folder"),
        ("src/", "names a folder"),
        ("src/.", "names a folder"),
    ],
)
def test_bad_file_paths_are_refused_with_the_reason(path: str, says: str) -> None:
    with pytest.raises(errors.UsageError, match=says):
        file_path(path, "/work")


def test_the_box_is_made_on_first_use_reused_and_removed_once() -> None:
    boxes = Boxes()
    s = session(boxes)
    assert [b.entered for b in boxes.made] == [False], "no container before the first call"
    s.run("echo 1")
    s.run("echo 2")
    assert len(boxes.made) == 1 and boxes.made[0].entered
    assert [argv for argv, _ in boxes.made[0].runs] == [
        ["sh", "-c", "echo 1"],
        ["sh", "-c", "echo 2"],
    ]
    s.close()
    s.close()
    assert boxes.made[0].closed
    with pytest.raises(BoxLost, match="stopping"):
        s.run("echo 3")
    assert len(boxes.made) == 1, "no new box after close"


def test_closing_before_first_use_makes_nothing() -> None:
    boxes = Boxes()
    session(boxes).close()
    assert not boxes.made[0].entered


def test_timeouts_default_to_the_limit_and_may_only_be_shorter() -> None:
    boxes = Boxes(policy=Policy(timeout_s=30))
    s = session(boxes)
    s.run("true")
    s.run("true", 2.5)
    assert [t for _, t in boxes.made[0].runs] == [30, 2.5]
    with pytest.raises(errors.UsageError, match="over this server's limit of 30 s"):
        s.run("true", 31)
    with pytest.raises(errors.UsageError, match="positive"):
        s.run("true", 0)
    unlimited = session(Boxes(policy=Policy(timeout_s=None)))
    assert unlimited.timeout(None) is None and unlimited.timeout(1e6) == 1e6


def test_an_empty_command_is_refused() -> None:
    with pytest.raises(errors.UsageError, match="empty command"):
        session(Boxes()).run("  ")


def test_a_lost_box_is_removed_and_the_next_call_gets_a_new_one() -> None:
    calls = []

    def handler(argv: list[str], timeout: float | None) -> Any:
        calls.append(argv)
        if len(calls) == 1:
            raise errors.SandboxError("this box was lost: a command exhausted it")
        return result(0, b"fresh\n")

    boxes = Boxes(handler=handler)
    s = session(boxes)
    with pytest.raises(BoxLost, match="next call starts a new, empty box"):
        s.run("bomb")
    assert boxes.made[0].closed
    assert s.run("echo fresh").stdout == b"fresh\n"
    assert len(boxes.made) == 2 and not boxes.made[1].closed


def test_close_waits_for_a_box_being_made_then_removes_it() -> None:
    gate = threading.Event()
    boxes = Boxes(enter_gate=gate)
    s = session(boxes)
    failures: list[BaseException] = []

    def first_call() -> None:
        try:
            s.run("true")
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=first_call)
    worker.start()
    assert boxes.entering.wait(10)
    closer = threading.Thread(target=s.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close must wait for the box being made"
    gate.set()
    closer.join(5)
    worker.join(5)
    assert boxes.made[0].entered and boxes.made[0].closed
    assert failures == [] or isinstance(failures[0], BoxLost)


def test_calls_never_overlap() -> None:
    running, most = [0], [0]
    lock = threading.Lock()

    def handler(argv: list[str], timeout: float | None) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return result()

    s = session(Boxes(handler=handler))
    threads = [threading.Thread(target=s.run, args=("true",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1


@pytest.mark.parametrize(
    ("code", "flags", "says"),
    [
        (3, {}, "no such file: /work/x.txt"),
        (4, {}, "/work/x.txt is a folder, not a file"),
        (5, {}, "cannot read /work/x.txt: permission denied"),
        (137, {"timed_out": True}, "reading /work/x.txt timed out"),
        (1, {}, "cannot read /work/x.txt: head: read error"),
    ],
)
def test_read_failures_say_what_happened(code: int, flags: dict[str, bool], says: str) -> None:
    s = session(Boxes(handler=lambda argv, t: result(code, stderr=b"head: read error\n", **flags)))
    with pytest.raises(errors.UsageError, match=says):
        s.read_file("x.txt")


def test_read_returns_the_bytes_the_size_and_the_cap() -> None:
    boxes = Boxes(
        policy=Policy(output_cap_bytes=4),
        handler=lambda argv, t: result(0, b"\x00\xff\x01\x02", b"9000\n", stdout_truncated=True),
    )
    read = session(boxes).read_file("/bin/x")
    assert (read.path, read.data, read.size_bytes, read.truncated) == (
        "/bin/x",
        b"\x00\xff\x01\x02",
        9000,
        True,
    )
    argv, _ = boxes.made[0].runs[0]
    assert argv[-2:] == ["/bin/x", "5"], "asks for one byte past the cap, to see truncation"


def test_write_creates_the_folder_then_copies_the_bytes_in() -> None:
    boxes = Boxes()
    written = session(boxes).write_file("src/app.py", b"print(1)\n")
    assert (written.path, written.bytes_written) == ("/work/src/app.py", 9)
    box = boxes.made[0]
    assert box.runs[0][0][-2:] == ["/work/src/app.py", "/work/src"]
    assert box.copies == [("app.py", b"print(1)\n", 0o644, "/work/src")]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (4, "cannot write /etc/x: it is a folder"),
        (5, "cannot write /etc/x: /etc is read-only in the box"),
        (1, "cannot write /etc/x: mkdir: cannot create directory"),
    ],
)
def test_write_failures_say_what_happened(code: int, says: str) -> None:
    stderr = b"mkdir: cannot create directory '/etc': Read-only file system\n"
    boxes = Boxes(handler=lambda argv, t: result(code, stderr=stderr))
    with pytest.raises(errors.UsageError, match=says):
        session(boxes).write_file("/etc/x", b"a")
    assert boxes.made[0].copies == []


def test_a_failed_copy_reports_tars_reason() -> None:
    boxes = Boxes(
        copy_error=errors.SandboxError(
            "copy into /work failed: tar: a: Cannot write: No space left on device"
        )
    )
    with pytest.raises(errors.UsageError, match="cannot write /work/a: No space left on device"):
        session(boxes).write_file("a", b"x")
