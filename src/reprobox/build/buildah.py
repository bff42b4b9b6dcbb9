"""The ``buildah`` backend of ``reprobox build`` (Debian package ``buildah``).

``buildah bud --timestamp SOURCE_DATE_EPOCH`` already writes identical images from identical
inputs (every new file's mtime and every time in the config become that date), so no rewrite
is needed. reprobox gives it the same normalized context as the docker backend (extracted to
a temporary folder, so git modes and mtimes apply), no network (``--network none``), never
pulls (``--pull-never``), copies missing base images from the local docker engine
(``docker-daemon:`` transport, over its socket), and pushes the result back there. The image
ID differs from the docker backend's (another config layout), but is stable across builds.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from reprobox import errors, tools
from reprobox.build.inputs import BuildInputs, write_context

Progress = Callable[[str], None]
TAIL_LINES = 20


def _binary() -> str:
    return tools.find(tools.BUILDAH, "--backend buildah builds with it", "use --backend docker")


def _run(cmd: list[str], action: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    if done.returncode != 0:
        raise errors.BuildFailed(f"{action} failed: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def ensure_base(binary: str, ref: str, progress: Progress) -> None:
    """Copy ``ref`` from the docker engine into buildah's storage when it is not there."""
    probe = subprocess.run(
        [binary, "inspect", "--type", "image", ref], capture_output=True, check=False
    )
    if probe.returncode == 0:
        return
    tagged = ref if ":" in ref.rsplit("/", 1)[-1] else ref + ":latest"
    progress(f"copying {tagged} from the docker engine into buildah's storage")
    _run([binary, "pull", "--quiet", f"docker-daemon:{tagged}"], f"buildah pull {tagged}")


def bud_command(
    binary: str,
    context: Path,
    dockerfile: str,
    args: dict[str, str],
    labels: dict[str, str],
    epoch: int,
    iidfile: Path,
) -> list[str]:
    """The ``buildah bud`` command line: fixed timestamp, no network, never pull, no cache."""
    cmd = [binary, "bud", "--timestamp", str(epoch), "--network", "none", "--pull-never"]
    cmd += ["--no-cache", "--force-rm", "--iidfile", str(iidfile), "-f", str(context / dockerfile)]
    for key, value in sorted(args.items()):
        cmd += ["--build-arg", f"{key}={value}"]
    for key, value in sorted(labels.items()):
        cmd += ["--label", f"{key}={value}"]
    return [*cmd, str(context)]


def _bud(cmd: list[str], progress: Progress) -> None:
    tail: list[str] = []
    step = ""
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            if line.startswith("STEP "):
                step, tail = line, []
            else:
                tail = [*tail, line][-TAIL_LINES:]
            progress(line)
        code = proc.wait()
    if code != 0:
        last = tail[-1] if tail else f"exit {code}"
        raise errors.BuildFailed(
            f"build failed at {step or 'the first step'}: {last}",
            "the step's output is shown above; fix the Dockerfile or the context",
            tuple(tail),
        )


def build_with_buildah(
    context: Path,
    dockerfile: str,
    build_args: dict[str, str],
    inputs: BuildInputs,
    bases: tuple[str, ...],
    tag: str,
    progress: Progress,
) -> str:
    """Build with buildah and push to the docker engine as ``tag``; returns the image ID."""
    binary = _binary()
    for ref in bases:
        ensure_base(binary, ref, progress)
    with tempfile.TemporaryDirectory(prefix="reprobox-buildah-") as work:
        root = Path(work)
        write_context(context, inputs, dockerfile, root / "context.tar")
        with tarfile.open(root / "context.tar") as tar:
            tar.extractall(root / "context", filter="fully_trusted")
        args = {**build_args, "SOURCE_DATE_EPOCH": str(inputs.source_date_epoch)}
        iidfile = root / "iid"
        cmd = bud_command(
            binary, root / "context", dockerfile, args, inputs.labels(),
            inputs.source_date_epoch, iidfile,
        )  # fmt: skip
        _bud(cmd, progress)
        image_id = iidfile.read_text().strip()
    try:
        progress(f"pushing {image_id[:19]} to the docker engine as {tag}")
        _run([binary, "push", "--quiet", image_id, f"docker-daemon:{tag}"], "buildah push")
    finally:
        subprocess.run([binary, "rmi", "--force", image_id], capture_output=True, check=False)
    return image_id if image_id.startswith("sha256:") else "sha256:" + image_id
