"""``reprobox base``: debootstrap a minimal Debian with Python and import it as an image.

The image is ``reprobox/python:<python version>-<suite>`` (``reprobox/python:3.11-bookworm``):
the ``minbase`` variant plus ``python3`` and ``python-is-python3``, with apt lists, apt caches,
logs and docs removed. Nothing is pulled from a container registry; packages come from the
Debian mirror that debootstrap uses by default (or ``mirror``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reprobox import errors, tools
from reprobox.engine import Engine

Progress = Callable[[str], None]

# The Python 3 that each Debian suite ships, so the default tag is known before building.
SUITE_PYTHON = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
PACKAGES = ("python3", "python-is-python3")
# Removed from the root filesystem before import: state that is large, changes every run,
# or is useless in an image.
PRUNE = (
    "var/lib/apt/lists",
    "var/cache/apt",
    "var/cache/debconf/*-old",
    "var/log",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "tmp",
    "var/tmp",
)
IMAGE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
)


@dataclass(frozen=True)
class BaseSpec:
    suite: str = "bookworm"
    tag: str | None = None
    mirror: str | None = None
    rebuild: bool = False


@dataclass(frozen=True)
class BaseImageResult:
    tag: str
    image_id: str
    size_bytes: int
    reused: bool
    python_version: str
    seconds: float


def default_tag(suite: str, python_version: str | None = None) -> str | None:
    version = python_version or SUITE_PYTHON.get(suite)
    return f"reprobox/python:{version}-{suite}" if version else None


def _check_host() -> str:
    if os.geteuid() != 0:
        raise errors.BaseImageError(
            "building the base image needs root (debootstrap creates device files and chroots)",
            "run it as root: sudo reprobox base",
        )
    return tools.find(tools.DEBOOTSTRAP, "reprobox base builds the image's root with it")


LOG_DIR = "/var/tmp"


def build_base(
    engine: Engine, spec: BaseSpec, progress: Progress = lambda _: None
) -> BaseImageResult:
    """Build (or reuse) the base image described by ``spec``."""
    started = time.monotonic()
    tag = spec.tag or default_tag(spec.suite)
    if tag is not None and not spec.rebuild:
        existing = engine.image(tag)
        if existing is not None:
            progress(f"{tag} already exists ({existing.id[7:19]}): reusing it (--rebuild to redo)")
            version = existing.labels.get("io.reprobox.base.python", "")
            return BaseImageResult(tag, existing.id, existing.size_bytes, True, version, 0.0)
    debootstrap = _check_host()
    with tempfile.TemporaryDirectory(prefix="reprobox-base-", dir="/var/tmp") as work:
        root = Path(work) / "rootfs"
        _debootstrap(debootstrap, spec, root, progress)
        python_version = _python_version(root)
        tag = tag or default_tag(spec.suite, python_version) or f"reprobox/python:{spec.suite}"
        _prune(root, progress)
        tarball = Path(work) / "rootfs.tar"
        progress(f"packing the root filesystem ({_du(root) // 2**20} MiB)")
        _run(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(tarball), "."])
        progress(f"importing as {tag}")
        old = engine.image(tag)
        changes = (
            *IMAGE_CHANGES,
            f"LABEL io.reprobox.base.suite={spec.suite}",
            f"LABEL io.reprobox.base.python={python_version}",
        )
        image_id = engine.import_rootfs(tarball, tag, changes)
    if old is not None and old.id != image_id and len(old.tags) <= 1:
        engine.remove_image(old.id, force=False)
    summary = engine.require_image(tag, "the import did not leave an image")
    progress(f"built {tag} ({image_id[7:19]}, {summary.size_bytes // 2**20} MiB)")
    return BaseImageResult(
        tag, image_id, summary.size_bytes, False, python_version, time.monotonic() - started
    )


def _debootstrap(binary: str, spec: BaseSpec, root: Path, progress: Progress) -> None:
    cmd = [binary, "--variant=minbase", "--include=" + ",".join(PACKAGES), spec.suite, str(root)]
    if spec.mirror:
        cmd.append(spec.mirror)
    progress(f"debootstrap {spec.suite} (minbase + {', '.join(PACKAGES)}): about a minute")
    lines: list[str] = []
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            lines.append(line)
            if line.startswith(("I: Retrieving", "I: Validating")):
                continue  # one line per package: too chatty for progress
            if line.startswith(("I: ", "W: ", "E: ")):
                progress(line[3:])
        code = proc.wait()
    if code != 0:
        last = next((t for t in reversed(lines) if t.startswith("E:")), lines[-1] if lines else "")
        raise errors.BaseImageError(
            f"debootstrap {spec.suite} failed (exit {code}): {last.strip()}",
            "check the suite name and that the Debian mirror is reachable; "
            f"the full log is in {_keep_log(root, lines)}",
        )


def _keep_log(root: Path, output: list[str]) -> Path:
    """debootstrap's output and its own log, kept outside the work folder (which is removed)."""
    own = root / "debootstrap" / "debootstrap.log"
    text = "\n".join(output) + "\n"
    if own.is_file():
        text += f"\n--- {own.name} ---\n" + own.read_text(encoding="utf-8", errors="replace")
    with tempfile.NamedTemporaryFile(
        "w", prefix="reprobox-base-", suffix=".log", dir=LOG_DIR, delete=False
    ) as handle:
        handle.write(text)
    return Path(handle.name)


def _python_version(root: Path) -> str:
    out = _run(
        ["chroot", str(root), "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    )
    return out.strip()


def _prune(root: Path, progress: Progress) -> None:
    progress("removing apt lists, caches, logs and docs")
    for pattern in PRUNE:
        for path in root.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                for child in path.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
            elif path.exists():
                path.unlink()
    machine_id = root / "etc" / "machine-id"
    if machine_id.exists():
        machine_id.write_text("")


def _du(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if not p.is_symlink())


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    if done.returncode != 0:
        raise errors.BaseImageError(
            f"{cmd[0]} failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        )
    return done.stdout
