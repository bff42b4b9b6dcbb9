"""Image builds, ``docker save`` / ``docker load`` streams, and build-context file selection.

Builds use the engine's classic builder through the low-level API with ``network_mode="none"``
and ``pull=False``: nothing is ever fetched from a registry. Progress lines are handed to a
callback; a failed build raises :class:`~reprobox.errors.BuildFailed` naming the failing step
and carrying the last lines of its output. Intermediate images of a failed build are removed.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import docker.utils.build

from reprobox import errors
from reprobox.engine.containers import killed_by_engine_stop
from reprobox.engine.core import Engine

Progress = Callable[[str], None]
TAIL_LINES = 20
INTERMEDIATES_GRACE_S = 20.0
_STEP = re.compile(r"^Step \d+/\d+ : ")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12,64})$")


@dataclass(frozen=True)
class BuildRequest:
    """What to send to the engine: a context tarball and how to build it."""

    context_tar: Path
    dockerfile: str = "Dockerfile"
    buildargs: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    nocache: bool = False
    network_mode: str = "none"


@dataclass
class _StreamState:
    step: str = ""
    tail: list[str] = field(default_factory=list)
    intermediates: list[str] = field(default_factory=list)
    image_id: str = ""
    error: str = ""
    cached: bool = False


def context_files(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """The context-relative paths the engine would receive, honouring ``.dockerignore``."""
    ignore = root / ".dockerignore"
    patterns: list[str] = []
    if ignore.is_file():
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
        patterns = [p.strip() for p in lines if p.strip() and not p.strip().startswith("#")]
    return sorted(docker.utils.build.exclude_paths(str(root), patterns, dockerfile=dockerfile))


def build_image(engine: Engine, request: BuildRequest, progress: Progress) -> str:
    """Build ``request`` and return the new image's ID (``sha256:...``)."""
    state = _StreamState()
    try:
        with (
            request.context_tar.open("rb") as fileobj,
            engine.guard("build image"),
            contextlib.closing(_stream(engine, request, fileobj)) as stream,
        ):
            for chunk in stream:
                _consume(chunk, state, progress)
        if state.error or not state.image_id:
            # A step killed because the engine is stopping is no fault of the Dockerfile.
            killed_by_engine_stop(engine)
            raise errors.BuildFailed(
                f"build failed at {state.step or 'the first step'}: "
                f"{state.error or 'the engine returned no image'}",
                "the step's output is shown above; fix the Dockerfile or the context",
                tuple(state.tail),
            )
    except BaseException:
        remove_intermediates(engine, state.intermediates)
        raise
    return state.image_id


def remove_intermediates(engine: Engine, idents: list[str]) -> None:
    """Remove a failed or interrupted build's step images, newest first. After Ctrl-C the
    engine is still tearing down the step's container, which holds the newest image: wait
    (at most :data:`INTERMEDIATES_GRACE_S`) while a container is what stops the removal."""
    deadline = time.monotonic() + INTERMEDIATES_GRACE_S
    for ident in reversed(idents):
        while True:
            try:
                engine.remove_image(ident, force=False)
                break
            except errors.EngineError as exc:
                if "container" not in str(exc) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)


def _stream(engine: Engine, request: BuildRequest, fileobj: IO[bytes]) -> Generator[Any]:
    stream: Generator[Any] = engine.raw.api.build(
        fileobj=fileobj,
        custom_context=True,
        dockerfile=request.dockerfile,
        buildargs=request.buildargs,
        labels=request.labels,
        nocache=request.nocache,
        network_mode=request.network_mode,
        pull=False,
        rm=True,
        forcerm=True,
        decode=True,
    )
    return stream


def _consume(chunk: dict[str, Any], state: _StreamState, progress: Progress) -> None:
    if "error" in chunk:
        state.error = str(chunk["error"]).strip()
        state.tail = [*state.tail, state.error][-TAIL_LINES:]
        return
    if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
        state.image_id = str(chunk["aux"]["ID"])
        return
    for line in str(chunk.get("stream", "")).splitlines():
        _consume_line(line.rstrip(), state, progress)


def _consume_line(line: str, state: _StreamState, progress: Progress) -> None:
    if not line:
        return
    if _STEP.match(line):
        state.step, state.tail = line, []
    elif not line.startswith(("Removing intermediate container", " ---> ")):
        state.tail = [*state.tail, line][-TAIL_LINES:]
    layer = _LAYER.match(line)
    if layer and " : FROM " not in state.step and not state.cached:
        state.intermediates.append(layer.group(1))
    state.cached = line.strip() == "---> Using cache"
    progress(line)


def save_image(engine: Engine, image_id: str) -> Iterator[bytes]:
    """The ``docker save`` stream of one image (a tar archive, read chunk by chunk)."""
    with engine.guard(f"save image {image_id[:19]}"):
        chunks = engine.raw.api.get_image(image_id)
        yield from chunks


def load_archive(engine: Engine, archive: Path) -> None:
    """``docker load`` a docker-archive tarball (layers already on the engine may be absent)."""
    with archive.open("rb") as fileobj, engine.guard("load the normalized image"):
        for chunk in engine.raw.api.load_image(fileobj):
            if isinstance(chunk, dict) and "error" in chunk:
                raise errors.EngineError(f"load the normalized image: {chunk['error']}")


def inspect_image(engine: Engine, ref: str) -> dict[str, Any]:
    """The engine's ``inspect`` answer for ``ref`` (raises ImageNotFound when absent)."""
    with engine.guard(f"inspect image {ref}"):
        data = engine.raw.api.inspect_image(ref)
    return dict(data)


def remove_quietly(engine: Engine, ref: str, force: bool = True) -> None:
    """Remove an image, ignoring one that is already gone or still in use."""
    with contextlib.suppress(errors.ImageNotFound, errors.EngineError):
        engine.remove_image(ref, force=force)


def layer_facts(engine: Engine, ref: str) -> tuple[tuple[str, ...], int]:
    """The image's layer diff IDs and the number of its history entries."""
    data = inspect_image(engine, ref)
    with engine.guard(f"read the history of {ref}"):
        history = engine.raw.api.history(ref)
    layers = tuple(str(d) for d in (data.get("RootFS") or {}).get("Layers") or ())
    return layers, len(history)


def remove_if_untagged(engine: Engine, image_id: str) -> None:
    """Remove a build's raw image unless it carries a tag (then it is someone's image that the
    build cache returned, and stays)."""
    try:
        tags = inspect_image(engine, image_id).get("RepoTags") or []
    except errors.ReproboxError:
        return
    if not tags:
        remove_quietly(engine, image_id)
