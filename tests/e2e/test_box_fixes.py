"""The box as the docs describe it: copies out, writable mounts, live Python output."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.engine import Engine
from reprobox.sandbox import OutputChunk, Sandbox
from tests.conftest import reprobox_cli
from tests.e2e.test_sandbox_support import leftovers

pytestmark = pytest.mark.e2e

MAIN = (
    "import pathlib; pathlib.Path('out').mkdir(); pathlib.Path('out/answer.txt').write_text('42')"
)


def test_copy_out_of_a_folder_gives_its_contents_as_documented(
    engine: Engine,
    base_image: str,
    labels: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    with Sandbox(base_image, labels=labels, engine=engine) as box:
        assert box.run(["python3", "-c", MAIN]).exit_code == 0
        assert box.copy_out("out", "./out") == ["answer.txt"]
        box.copy_out("out/answer.txt", "./single")
        with pytest.raises(errors.SandboxError, match="No such file or directory"):
            box.copy_out("missing", "./missing")
    assert (tmp_path / "out" / "answer.txt").read_text() == "42"
    assert not (tmp_path / "out" / "out").exists()
    assert (tmp_path / "single" / "answer.txt").read_text() == "42"
    assert leftovers(labels) == []


def _run(base: str, labels: dict[str, str], *args: str) -> tuple[int, str, str]:
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    done = reprobox_cli("run", "--image", base, *label_args, *args, timeout=120)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="sets a folder's owner")
def test_a_writable_mount_is_writable_or_refused_with_a_reason(
    base_image: str, labels: dict[str, str], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chown(shared, 0, 0)
    shared.chmod(0o755)
    write = ["--mount", f"{shared}:rw", "--", "sh", "-c", "echo hi > /mnt/shared/f"]
    code, _, err = _run(base_image, labels, *write)
    assert code == 2
    assert err.splitlines()[0] == (
        f"error: writable mount {shared}: the box runs as uid 65534, which cannot write there "
        "(owner uid 0, mode 0755)"
    )
    assert not (shared / "f").exists()
    code, out, err = _run(base_image, labels, "--explain", *write)
    assert code == 2 and "WRITE" not in out, out  # --explain never claims what a run refuses
    os.chown(shared, 65534, 65534)  # the control: once the box's user owns it, it writes
    code, _, err = _run(base_image, labels, *write)
    assert code == 0, err
    assert (shared / "f").read_text() == "hi\n"
    code, out, _ = _run(base_image, labels, "--explain", *write)
    assert code == 0 and "can read AND WRITE everything in it" in out
    assert leftovers(labels) == []


def test_python_output_arrives_while_the_command_still_runs(
    engine: Engine, base_image: str, labels: dict[str, str]
) -> None:
    arrived: list[float] = []

    def seen(chunk: OutputChunk) -> None:
        if b"first" in chunk.data:
            arrived.append(time.monotonic())

    script = "import time; print('first'); time.sleep(4); print('last')"
    result = Sandbox(base_image, labels=labels, engine=engine).run(
        ["python3", "-c", script], on_output=seen
    )
    ended = time.monotonic()
    assert result.exit_code == 0 and result.stdout_text == "first\nlast\n"
    assert arrived, "the first line never arrived on its own"
    assert ended - arrived[0] > 2.5, "the first line arrived only when the command ended"
