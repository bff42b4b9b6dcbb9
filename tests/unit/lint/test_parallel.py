"""Linting in several processes: who forks, how files are split, and that the report is the
same byte for byte as in one process (on generated files; the shared corpus in tests/e2e)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reprobox import errors
from reprobox.lint import parallel
from tests.unit.lint.helpers import lint_cli

DOCKERFILES = [
    "FROM python:3.12\nRUN pip install flask requests==2.31.0\n",
    "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nUSER 1000\n",
    "# reprobox: ignore=RBX1102 (pinned elsewhere)\nFROM alpine:3.19\nRUN sudo make install\n",
    "FROM scratch\nUSER 1\n",
    "FROM node AS build\nRUN npm install\nFROM build\nENV API_TOKEN=abc\n",
    "FROM x\nRUN <<EOF\n",  # a parse error: RBX1000
    "ARG BASE=ubuntu:22.04\nFROM $BASE\nADD https://example.org/a.tgz /a\n",
]


def generate(root: Path, count: int) -> None:
    """``count`` Dockerfiles in folders of one to three, some with a build context."""
    for index in range(count):
        folder = root / f"svc{index // 3:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = ("Dockerfile", "api.Dockerfile", "Dockerfile.dev")[index % 3]
        (folder / name).write_text(DOCKERFILES[index % len(DOCKERFILES)] + f"# {index}\n")
        if index % 5 == 0:
            (folder / ".env").write_text("SECRET=1\n")
            (folder / ".dockerignore").write_text("*.log\n")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_processes_give_byte_identical_output(tmp_path: Path, fmt: str) -> None:
    generate(tmp_path / "tree", 90)
    one, forks_one = lint_cli(tmp_path, "-r", "--format", fmt, "--jobs", "1", "tree")
    many, forks_many = lint_cli(tmp_path, "-r", "--format", fmt, "--jobs", "3", "tree")
    assert (forks_one, forks_many) == (0, 2)  # the control: three processes really linted
    assert one.returncode == many.returncode == 1, one.stderr
    assert one.stdout == many.stdout and one.stderr == many.stderr == b""
    assert b"RBX1000" in one.stdout and b"RBX2003" in one.stdout  # varied, real findings


def test_one_file_and_few_files_stay_in_process(tmp_path: Path) -> None:
    generate(tmp_path / "tree", 4)
    assert lint_cli(tmp_path, "-r", "--jobs", "4", "tree")[1] == 0
    assert lint_cli(tmp_path, "--jobs", "4", "tree/svc000/Dockerfile")[1] == 0


def test_first_error_in_file_order_as_in_one_process(tmp_path: Path) -> None:
    """Two unreadable Dockerfiles (dangling links) in folders different processes lint: both
    runs stop at the first one in file order, one line, exit 3, nothing on stdout."""
    generate(tmp_path / "tree", 60)
    (tmp_path / "tree" / "svc004" / "Containerfile").symlink_to(tmp_path / "gone")
    (tmp_path / "tree" / "svc011" / "Containerfile").symlink_to(tmp_path / "gone")
    one, _ = lint_cli(tmp_path, "-r", "--jobs", "1", "tree")
    many, forks = lint_cli(tmp_path, "-r", "--jobs", "2", "tree")
    assert forks == 1
    assert one.returncode == many.returncode == 3
    assert one.stdout == many.stdout == b""
    assert one.stderr == many.stderr
    assert many.stderr.startswith(b"error: cannot read tree/svc004/Containerfile")
    assert b"Traceback" not in many.stderr


def test_workers_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "available_cpus", lambda: 4)
    monkeypatch.setattr(parallel, "may_fork", lambda: True)
    per = parallel.MIN_FILES_PER_WORKER
    assert parallel.workers(0, 1) == 1
    assert parallel.workers(0, 2 * per - 1) == 1
    assert parallel.workers(0, 2 * per) == 2
    assert parallel.workers(0, 100 * per) == 4  # one per available CPU
    assert parallel.workers(1, 100 * per) == 1
    assert parallel.workers(8, 100 * per) == 8
    monkeypatch.setattr(parallel, "may_fork", lambda: False)
    assert parallel.workers(0, 100 * per) == 1


def test_no_fork_while_another_thread_runs() -> None:
    fresh = subprocess.run(
        [sys.executable, "-c", "from reprobox.lint.parallel import may_fork; print(may_fork())"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert fresh.stdout.strip() == "True"  # the control: a fresh interpreter may fork
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not parallel.may_fork()
    finally:
        release.set()
        thread.join()


def owner_pid(item: tuple[str, int]) -> tuple[int, int]:
    return item[1], os.getpid()


def test_map_split_keeps_order_and_groups_by_key() -> None:
    items = [(f"dir{i % 7}", i) for i in range(50)]
    got = parallel.map_split(owner_pid, items, key=lambda item: item[0], processes=3)
    assert [value for value, _ in got] == list(range(50))
    pids: dict[str, set[int]] = {}
    for (folder, _), (_, pid) in zip(items, got, strict=True):
        pids.setdefault(folder, set()).add(pid)
    assert all(len(seen) == 1 for seen in pids.values())  # one folder, one process
    assert len(set().union(*pids.values())) == 3
    assert os.getpid() in set().union(*pids.values())  # the caller takes a share too


def fail_at(item: int) -> int:
    if item in (5, 9):
        raise errors.LintError(f"cannot read item {item}", hint="look at it")
    return item


def test_map_split_raises_the_first_failure_in_order() -> None:
    for processes in (2, 3, 4):  # 5 and 9 land in different processes, the caller's or not
        with pytest.raises(errors.LintError) as caught:
            parallel.map_split(fail_at, list(range(20)), key=lambda item: item, processes=processes)
        assert caught.value.message == "cannot read item 5" and caught.value.hint == "look at it"


class Unpicklable(Exception):
    def __init__(self, what: str, lock: object) -> None:
        super().__init__(what)
        self.lock = lock


def raise_unpicklable(item: int) -> int:
    if item == 1 and os.getpid() != PARENT:
        raise Unpicklable("odd", threading.Lock())
    return item


def die_in_child(item: int) -> int:
    if item == 1 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


PARENT = os.getpid()


def test_map_split_reports_what_a_child_could_not_send() -> None:
    with pytest.raises(RuntimeError, match=r"^Unpicklable: odd$"):
        parallel.map_split(raise_unpicklable, [0, 1, 2, 3], key=lambda item: item, processes=2)
    assert children_left() == []


def test_a_dead_child_is_an_error_not_a_hang() -> None:
    with pytest.raises(errors.LintError) as caught:
        parallel.map_split(die_in_child, [0, 1, 2, 3], key=lambda item: item, processes=2)
    assert "killed by SIGKILL" in caught.value.message
    assert caught.value.hint and "--jobs 1" in caught.value.hint
    assert children_left() == []


def children_left() -> list[int]:
    """This process's children that were not reaped (zombies included)."""
    task = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    return [int(pid) for pid in task.read_text().split()] if task.exists() else []
