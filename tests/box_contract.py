"""The contract every :class:`reprobox.sandbox.backend.BoxAPI` implementation keeps, written
once and run against each: the fake engine in ``tests/unit`` (for logic), the real engine
(docker SDK and lite client) and the oci backend (runc and runsc) in ``tests/e2e``.

A :class:`Kit` says how to reach one implementation: the API, a spec and policy, the argv of
three small programs in its world (a shell in a real image, Python stand-ins in the fake),
and how to tell whether a box still exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from reprobox.engine.containers import ContainerSpec
from reprobox.exitcodes import SIGKILLED
from reprobox.sandbox.backend import Main, Stats
from reprobox.sandbox.policy import Policy


@dataclass(frozen=True)
class Kit:
    api: Any  # a BoxAPI[H]: each implementation has its own handle type
    spec: ContainerSpec
    policy: Policy
    echo: Callable[[str], list[str]]  # prints its argument and a newline, exits 0
    fail: Callable[[int], list[str]]  # prints "failed\n" on stderr, exits with the code
    hang: list[str]  # runs until killed, printing nothing
    exists: Callable[[str], bool]  # whether anything of the box is left
    files: bool = True  # whether tar runs in the box (copies)


def drain(output: Any) -> tuple[bytes, bytes]:
    """Read an output stream to its end and close it: (stdout, stderr)."""
    out, err = bytearray(), bytearray()
    try:
        for stream, data in output.frames():
            (out if stream == 1 else err).extend(data)
    finally:
        output.close()
    return bytes(out), bytes(err)


def one_shot(kit: Kit, cmd: list[str]) -> tuple[int, bytes, bytes, str]:
    api = kit.api
    box = api.create(replace(kit.spec, command=tuple(cmd)), kit.policy, Main("command", 30))
    try:
        out, err = drain(api.start(box))
        return api.wait(box), out, err, box.box_id
    finally:
        api.remove(box)


def check_one_shot_streams_output_and_exit_status(kit: Kit) -> None:
    code, out, _, box_id = one_shot(kit, kit.echo("hello"))
    assert (code, out) == (0, b"hello\n")
    code, out, err, _ = one_shot(kit, kit.fail(3))
    assert (code, out, err) == (3, b"", b"failed\n")
    assert not kit.exists(box_id)


def check_kill_ends_the_box_with_sigkill(kit: Kit) -> None:
    api = kit.api
    box = api.create(replace(kit.spec, command=tuple(kit.hang)), kit.policy, Main("command", 30))
    try:
        output = api.start(box)
        threading.Timer(0.2, api.kill, args=(box,)).start()
        drain(output)  # ends because the box was killed
        assert api.wait(box) == SIGKILLED
        assert api.stats(box, oom=True).oom_kills in (0, None)  # killed, but not for memory
    finally:
        api.remove(box)
        api.remove(box)  # idempotent
    assert not kit.exists(box.box_id)


def check_primed_box_runs_the_command_it_is_sent(kit: Kit) -> None:
    api = kit.api
    box = api.create(kit.spec, kit.policy, Main("primed"))
    try:
        output = api.start(box)
        assert api.renew(box) is True  # waiting, alive
        api.send(box, kit.fail(4), 30)
        _, err = drain(output)
        assert (api.wait(box), err) == (4, b"failed\n")
    finally:
        api.remove(box)
    assert not kit.exists(box.box_id)


def check_session_serves_execs_and_files(kit: Kit) -> None:
    api = kit.api
    box = api.create(kit.spec, kit.policy, Main("keeper"))
    try:
        api.start(box)  # its output is never read: on the engine it is the owner's lifeline
        for cmd, status, expected in ((kit.echo("one"), 0, b"one\n"), (kit.fail(5), 5, b"")):
            api.hold(box, 30)
            before = api.stats(box, reset_peak=True)
            run = api.exec(box, ["sh", "-c", '"$@"', "reprobox", *cmd], kit.policy.user, "/tmp")
            out, _ = drain(run)
            assert (run.exit_status(), out) == (status, expected)
            api.release(box)
            assert isinstance(before, Stats) and isinstance(api.stats(box, oom=True), Stats)
        assert api.renew(box) is True
        if kit.files:
            check_files_round_trip(kit, box)
    finally:
        api.remove(box)
    assert not kit.exists(box.box_id)


def check_files_round_trip(kit: Kit, box: Any) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("note.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    kit.api.copy_in(box, buffer.getvalue(), "/tmp", kit.policy.user)
    archive = kit.api.copy_out(box, "/tmp", "note.txt", 1 << 20, kit.policy.user)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("note.txt")
        assert member is not None and member.read() == b"hi\n"


CONTRACT = (
    check_one_shot_streams_output_and_exit_status,
    check_kill_ends_the_box_with_sigkill,
    check_primed_box_runs_the_command_it_is_sent,
    check_session_serves_execs_and_files,
)
