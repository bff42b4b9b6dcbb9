"""Build output is printed literally, and Ctrl-C during a build leaves no images behind.

Real builds whose steps print rich markup, ANSI colour codes, invalid UTF-8 and a very long
line; a real build interrupted with SIGINT in the middle of a step.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import docker_cli, reprobox_cli

pytestmark = pytest.mark.e2e

HOSTILE_STEP = (
    """RUN echo "see [/usr/share/doc] and [bold]not bold[/bold] :smile:" """
    """&& printf '\\033[91mred\\033[0m and \\033]0;title\\007\\n' """
    """&& printf 'bad utf-8: \\377\\376\\n' """
    """&& head -c 20000 /dev/zero | tr '\\0' x && echo"""
)
_LAYER = re.compile(r"---> ([0-9a-f]{12})\b")


def _context(tmp_path: Path, base: str, *steps: str) -> Path:
    nonce = uuid.uuid4().hex  # no build cache hit: every step is new
    lines = [f"FROM {base}", f"RUN echo {nonce} > /nonce", *steps]
    (tmp_path / "Dockerfile").write_text("\n".join(lines) + "\n")
    return tmp_path


def _assert_literal(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "see [/usr/share/doc] and [bold]not bold[/bold] :smile:" in stderr
    assert "\x1b" not in stderr and "\x07" not in stderr
    assert "\nred and \n" in stderr  # the colour codes are gone, not left as "[91m"


def test_markup_and_escapes_in_a_failing_step_are_shown_literally(
    tmp_path: Path, base_image: str
) -> None:
    context = _context(tmp_path, base_image, HOSTILE_STEP + " && exit 7")
    done = reprobox_cli("build", str(context), "--tag", f"reprobox-test/hostile:{uuid.uuid4().hex}")
    assert done.returncode == 3, done.stderr
    _assert_literal(done.stderr)
    tail = done.stderr.split("last lines of the failing step:", 1)[1]
    assert "  see [/usr/share/doc]" in tail
    assert done.stderr.rstrip().splitlines()[-2].startswith("error: build failed at Step 3/")


def test_build_and_verify_print_markup_in_build_output(
    tmp_path: Path, base_image: str, made: list[str]
) -> None:
    context = _context(tmp_path, base_image, HOSTILE_STEP)
    tag = f"reprobox-test/hostile:{uuid.uuid4().hex[:12]}"
    made.append(tag)
    done = reprobox_cli("build", str(context), "--tag", tag)
    assert done.returncode == 0, done.stderr
    _assert_literal(done.stderr)
    verified = reprobox_cli("verify", str(context))
    assert verified.returncode == 0, verified.stderr
    _assert_literal(verified.stderr)
    assert verified.stdout.startswith("verify: identical")


def _wait_for(proc: subprocess.Popen[str], marker: str, seen: list[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if marker in line and not line.startswith(("Step", " --->")):
            return
    pytest.fail("the build ended before its long step started:\n" + "".join(seen))


def test_ctrl_c_during_a_build_removes_its_intermediate_images(
    tmp_path: Path, base_image: str
) -> None:
    marker = f"started-{uuid.uuid4().hex[:8]}"
    steps = ("RUN echo one > /one", "RUN echo two > /two", f"RUN echo {marker} && sleep 120")
    context = _context(tmp_path, base_image, *steps)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reprobox", "build", str(context), "--tag", "reprobox-test/int:x"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen: list[str] = []
    try:
        _wait_for(proc, marker, seen)
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert output.rstrip().endswith("interrupted")
    base_id = docker_cli("image", "inspect", "--format", "{{.Id}}", base_image).stdout.strip()
    steps_made = [i for i in _LAYER.findall(output) if not base_id.startswith(f"sha256:{i}")]
    assert len(steps_made) >= 3, output  # /nonce, /one, /two committed before the Ctrl-C
    left = [i for i in steps_made if docker_cli("image", "inspect", i, check=False).returncode == 0]
    for ident in left:
        docker_cli("rmi", "-f", ident, check=False)
    assert left == [], f"intermediate images left after Ctrl-C: {left}"
