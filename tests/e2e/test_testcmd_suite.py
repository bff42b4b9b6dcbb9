"""``reprobox test`` against the real engine: the suite runs in a throwaway container, its
exit code comes back, and the working tree is byte-identical afterwards."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reprobox.engine import Engine
from reprobox.suite import TestSpec, run_tests
from tests.conftest import ROOTFUL_ENGINES, TASKS_APP, docker_cli, reprobox_cli
from tests.conftest import test_labels as session_labels

pytestmark = [pytest.mark.e2e, pytest.mark.engines(*ROOTFUL_ENGINES)]

FAILING = """\
import unittest


class Planted(unittest.TestCase):
    def test_planted_failure(self):
        self.assertEqual(1 + 1, 3)
"""


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every path under ``root`` with its content hash, mtime (ns) and mode."""
    found = {}
    for path in sorted([root, *root.rglob("*")]):
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        found[str(path.relative_to(root))] = (digest, stat.st_mtime_ns, stat.st_mode)
    return found


def _cli_with_pid(*args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``reprobox`` as a user would, returning its pid (its containers are labelled
    with it)."""
    cmd = [sys.executable, "-m", "reprobox", *args]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        stdout, stderr = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), proc.pid


def _left_by(pid: int) -> list[str]:
    flt = ("--filter", "label=io.reprobox.managed=true", "--filter", f"label=io.reprobox.pid={pid}")
    return (
        docker_cli("ps", "-aq", *flt).stdout.split()
        + docker_cli("volume", "ls", "-q", *flt).stdout.split()
    )


def test_tasks_app_suite_passes_and_leaves_the_tree_untouched(base_image: str) -> None:
    before = snapshot(TASKS_APP)
    done, pid = _cli_with_pid("test", str(TASKS_APP), "--build-arg", f"BASE_IMAGE={base_image}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "OK" in done.stdout + done.stderr
    assert "tests passed in" in done.stderr
    assert snapshot(TASKS_APP) == before
    assert _left_by(pid) == []


def test_failing_copy_exits_1_and_names_the_test(tmp_path: Path, base_image: str) -> None:
    for name in ("Dockerfile", "tasks.py", "test_tasks.py"):
        shutil.copy2(TASKS_APP / name, tmp_path / name)
    (tmp_path / "test_planted.py").write_text(FAILING)
    before = snapshot(tmp_path)
    done, pid = _cli_with_pid("test", str(tmp_path), "--build-arg", f"BASE_IMAGE={base_image}")
    assert done.returncode == 1
    assert "FAIL: test_planted_failure" in done.stdout + done.stderr
    assert "failed (exit 1)" in done.stderr
    assert snapshot(tmp_path) == before
    assert _left_by(pid) == []


def test_container_is_hardened_and_labelled(
    engine: Engine, tmp_path: Path, base_image: str
) -> None:
    probe = (
        "import os, socket\n"
        "print('uid', os.getuid())\n"
        "print('ifaces', sorted(n for _, n in socket.if_nameindex()))\n"
        "open('written-inside', 'w').write('x')\n"
        "try:\n    open('/etc/x', 'w')\nexcept OSError as e:\n    print('rootfs', e.errno)\n"
    )
    (tmp_path / "probe.py").write_text(probe)
    chunks: list[bytes] = []
    spec = TestSpec(
        tmp_path, image=base_image, command=("python", "probe.py"), labels=session_labels()
    )
    result = run_tests(engine, spec, chunks.append)
    output = b"".join(chunks).decode()
    assert result.exit_code == 0, output
    assert "uid 65534" in output
    assert "ifaces ['lo']" in output
    assert "rootfs 30" in output  # EROFS: the root filesystem is read-only
    assert not (tmp_path / "written-inside").exists()


def test_pytest_project_without_pytest_in_the_image(tmp_path: Path, base_image: str) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_x.py").write_text("def test_x():\n    assert True\n")
    done = reprobox_cli("test", str(tmp_path), "--image", base_image)
    assert done.returncode == 3
    assert "has no pytest" in done.stderr and "network is off" in done.stderr


def test_absent_image_names_the_fixes(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("")
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE=nope/missing:1\nFROM ${BASE_IMAGE}\n")
    done = reprobox_cli("test", str(tmp_path))
    assert done.returncode == 3
    assert "nope/missing:1 is not on this engine" in done.stderr
    assert "reprobox base" in done.stderr and "--image" in done.stderr
