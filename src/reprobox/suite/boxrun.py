"""The one place ``reprobox test`` starts a container: the ``reprobox run`` sandbox.

The project is staged (caches and VCS folders left out) in a host temporary folder and each
top-level entry is copied into the box's working folder, a tmpfs owned by the box's user;
nothing is bind-mounted, so nothing reaches the working tree. The sandbox's hardened
defaults apply (non-root user, read-only root, all capabilities dropped, no new privileges,
seccomp, pids/memory/CPU limits, network disabled), relaxed only where a test suite needs
it: no timeout, and the host's network with ``--network``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reprobox.engine import Engine
from reprobox.sandbox.box import Sandbox
from reprobox.sandbox.policy import Policy
from reprobox.sandbox.result import OutputChunk

Output = Callable[[bytes], None]
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
     ".hypothesis", ".tox", ".nox", ".venv", "venv", "node_modules"}
)  # fmt: skip
SKIP_SUFFIXES = (".pyc", ".pyo")
ENV = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True)
class BoxRun:
    """One command over a copy of ``project`` (``None``: no files) in ``image``."""

    image: str
    command: tuple[str, ...]
    project: Path | None = None
    network: bool = False
    labels: dict[str, str] = field(default_factory=dict)


def project_files(project: Path) -> Iterator[Path]:
    """The project's files and folders that go into the box, in path order."""
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        if SKIP_DIRS.intersection(rel.parts) or path.suffix in SKIP_SUFFIXES:
            continue
        yield path


def stage(project: Path, target: Path) -> int:
    """Copy the project's files into ``target``; returns how many entries were staged."""
    count = 0
    for path in project_files(project):
        dest = target / path.relative_to(project)
        if path.is_dir() and not path.is_symlink():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest, follow_symlinks=False)
        count += 1
    return count


def policy(network: bool) -> Policy:
    return (
        Policy().relaxed(timeout_s=None, network="host" if network else "disabled").with_env(**ENV)
    )


def run_in_box(engine: Engine, run: BoxRun, output: Output) -> int:
    """Run ``run`` and return the command's exit code, streaming its output."""

    def forward(chunk: OutputChunk) -> None:
        output(chunk.data)

    box = Sandbox(run.image, policy(run.network), engine=engine, labels=run.labels)
    if run.project is None:
        return box.run(list(run.command), on_output=forward).exit_code
    with tempfile.TemporaryDirectory(prefix="reprobox-test-") as work:
        staged = Path(work) / "project"
        staged.mkdir()
        stage(run.project, staged)
        with box:
            for entry in sorted(staged.iterdir()):
                box.copy_in(entry)
            return box.run(list(run.command), on_output=forward).exit_code
