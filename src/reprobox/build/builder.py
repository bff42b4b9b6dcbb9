"""``reprobox build``: build an image and normalize it so identical inputs give one image ID.

The steps: resolve the inputs (source date, git facts), check every ``FROM`` image is on the
engine (reprobox never pulls), send a normalized context to the classic builder with
``network_mode="none"`` and ``SOURCE_DATE_EPOCH`` as a build argument, rewrite the saved image
(see :mod:`reprobox.build.normalize`), load it, and remove the raw build.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import assert_never

from reprobox import errors
from reprobox.build.buildah import build_with_buildah
from reprobox.build.inputs import BuildInputs, resolve_inputs, write_context
from reprobox.build.normalize import BaseFacts, NormalizedImage, normalize_save
from reprobox.dockerfile import Dockerfile, bases
from reprobox.engine import Engine, images
from reprobox.images import image_tag

Progress = Callable[[str], None]
MISSING_HINT = (
    "reprobox never pulls: build a local base with `reprobox base` and pass "
    "--build-arg BASE_IMAGE=reprobox/python:3.11-bookworm (or load the image with docker load)"
)


class Backend(StrEnum):
    """Which tool builds the image."""

    DOCKER = "docker"
    BUILDAH = "buildah"


@dataclass(frozen=True)
class BuildSpec:
    """What to build: the context folder and how."""

    context: Path
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = field(default_factory=dict)
    tag: str | None = None
    nocache: bool = False
    network_mode: str = "none"
    backend: Backend = Backend.DOCKER


@dataclass(frozen=True)
class BuildResult:
    """A finished reproducible build."""

    image_id: str
    tag: str
    size_bytes: int
    seconds: float
    source_date_epoch: int
    sde_origin: str
    revision: str


def default_tag(context: Path) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", context.resolve().name.lower()).strip(".-_")
    return f"{name or 'image'}:latest"


def check_bases(engine: Engine, spec: BuildSpec) -> Dockerfile:
    """The parsed Dockerfile, after checking every base image is on the engine."""
    dockerfile = bases.read(spec.context / spec.dockerfile, spec.build_args)
    for ref in bases.needed_images(dockerfile):
        if engine.image(ref) is None:
            raise errors.ImageNotFound(f"base image {ref} is not on this engine", MISSING_HINT)
    return dockerfile


def build_normalized(
    engine: Engine,
    spec: BuildSpec,
    inputs: BuildInputs,
    workdir: Path,
    progress: Progress,
) -> NormalizedImage:
    """Build ``spec`` and normalize it into ``workdir`` (nothing is loaded; raw build removed)."""
    base_ref = bases.final_base(check_bases(engine, spec))
    diff_ids, history = images.layer_facts(engine, base_ref) if base_ref else ((), 0)
    context_tar = workdir / "context.tar"
    write_context(spec.context, inputs, spec.dockerfile, context_tar)
    request = images.BuildRequest(
        context_tar,
        spec.dockerfile,
        {**spec.build_args, "SOURCE_DATE_EPOCH": str(inputs.source_date_epoch)},
        inputs.labels(),
        spec.nocache,
        spec.network_mode,
    )
    raw_id = images.build_image(engine, request, progress)
    try:
        progress("normalizing the image (mtimes, order, owners, config times)")
        return normalize_save(
            images.save_image(engine, raw_id),
            BaseFacts(diff_ids, history),
            inputs.source_date_epoch,
            workdir,
            progress,
            spec.tag,
            keep_base=not engine.flavour().loads_partial_archives,
        )
    finally:
        images.remove_if_untagged(engine, raw_id)


def build(engine: Engine, spec: BuildSpec, progress: Progress = lambda _: None) -> BuildResult:
    """Build ``spec`` reproducibly, load the result into the engine and tag it."""
    started = time.monotonic()
    spec = replace(spec, tag=image_tag(spec.tag) if spec.tag else default_tag(spec.context))
    inputs = resolve_inputs(spec.context)
    progress(f"SOURCE_DATE_EPOCH={inputs.source_date_epoch} ({inputs.sde_origin})")
    image_id = _build_with(engine, spec, inputs, progress)
    summary = engine.require_image(image_id, "the build reported success but left no image")
    return BuildResult(
        image_id,
        spec.tag or "",
        summary.size_bytes,
        time.monotonic() - started,
        inputs.source_date_epoch,
        inputs.sde_origin,
        inputs.revision,
    )


def _build_with(engine: Engine, spec: BuildSpec, inputs: BuildInputs, progress: Progress) -> str:
    tag = spec.tag or default_tag(spec.context)
    if spec.backend is Backend.DOCKER:
        with tempfile.TemporaryDirectory(prefix="reprobox-build-") as work:
            image = build_normalized(engine, spec, inputs, Path(work), progress)
            progress(f"loading {image.image_id[7:19]} as {tag}")
            images.load_archive(engine, image.archive)
        return image.image_id
    if spec.backend is Backend.BUILDAH:
        needed = bases.needed_images(check_bases(engine, spec))
        return build_with_buildah(
            spec.context, spec.dockerfile, spec.build_args, inputs, needed, tag, progress
        )
    assert_never(spec.backend)
