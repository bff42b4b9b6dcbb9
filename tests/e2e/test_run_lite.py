"""``reprobox run`` one-shots through the stdlib engine client (``reprobox.engine.lite``):
real subprocesses, a real engine, and proof that the docker SDK was never imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOTFUL_ENGINES
from tests.e2e.test_sandbox_support import leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ROOTFUL_ENGINES)]

# Runs the CLI as `reprobox` does, and records at exit whether the docker SDK was loaded.
_LAUNCH = (
    "import atexit, sys\n"
    "marker = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(marker, 'w').write(str('docker' in sys.modules)))\n"
    "from reprobox.cli.main import main\n"
    "main()\n"
)
FLOOD = 20 << 20
MiB = 1 << 20


def launch(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], bool]:
    """``reprobox ARGS`` in a subprocess; returns it and whether it imported the docker SDK."""
    marker = tmp_path / f"sdk-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, str(marker), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )
    return done, marker.read_text() == "True"


def lite_run(
    tmp_path: Path, image: str, labels: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    done, sdk = launch(tmp_path, "run", "--image", image, *label_args, *args)
    assert not sdk, "the one-shot run imported the docker SDK"
    assert leftovers(labels) == [], "reprobox run left a container"
    return done


@pytest.mark.parametrize("code", [0, 3])
def test_exit_codes_pass_through_and_streams_stay_apart(
    base_image: str, labels: dict[str, str], tmp_path: Path, code: int
) -> None:
    script = f"echo out; echo err >&2; echo more; exit {code}"
    done = lite_run(tmp_path, base_image, labels, "--", "sh", "-c", script)
    assert (done.returncode, done.stdout, done.stderr) == (code, "out\nmore\n", "err\n")


def test_timeout_exits_124(base_image: str, labels: dict[str, str], tmp_path: Path) -> None:
    done = lite_run(tmp_path, base_image, labels, "--timeout", "1.5", "--", "sleep", "1000")
    assert done.returncode == 124


def test_out_of_memory_exits_137(base_image: str, labels: dict[str, str], tmp_path: Path) -> None:
    bomb = "a = []\nwhile True:\n    a.append(bytearray(16 << 20))"
    done = lite_run(tmp_path, base_image, labels, "--memory", "64m", "--", "python3", "-c", bomb)
    assert done.returncode == 137


def test_a_20mb_flood_is_capped_and_flagged(
    base_image: str, labels: dict[str, str], tmp_path: Path
) -> None:
    flood = f"import sys; sys.stdout.buffer.write(b'x' * {FLOOD}); print('e', file=sys.stderr)"
    done = lite_run(tmp_path, base_image, labels, "--json", "--", "python3", "-c", flood)
    result = json.loads(done.stdout)
    assert done.returncode == 0
    assert result["stdout_truncated"] is True and result["stdout_bytes"] == FLOOD
    assert result["stdout"] == "x" * MiB
    assert (result["stderr"], result["stderr_truncated"]) == ("e\n", False)


def test_missing_image_is_the_one_line_error(labels: dict[str, str], tmp_path: Path) -> None:
    image = f"reprobox-test/missing:{uuid.uuid4().hex[:8]}"
    done = lite_run(tmp_path, image, labels, "--", "true")
    first, *rest = done.stderr.splitlines()
    assert done.returncode == 125
    assert first == f"error: image {image} is not on this engine (reprobox never pulls)"
    assert len(rest) == 1 and rest[0].startswith("hint: ") and "reprobox base" in rest[0]


def test_dead_socket_is_daemon_not_running_exit_125(tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    done, sdk = launch(tmp_path, "run", "--image", "x", "--", "true", env=env)
    assert done.returncode == 125 and not sdk
    assert done.stderr.startswith("error: daemon not running: nothing answers at unix://")
    assert "hint: start it with" in done.stderr


def test_sessions_keep_the_sdk(base_image: str, labels: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("data")
    label_args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    args = ("--copy-in", str(tmp_path / "in.txt"), "--", "cat", "in.txt")
    done, sdk = launch(tmp_path, "run", "--image", base_image, *label_args, *args)
    assert (done.returncode, done.stdout, sdk) == (0, "data", True)
    assert leftovers(labels) == []
