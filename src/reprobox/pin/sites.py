"""Where each base image of a Dockerfile is written, so a digest can be added right there.

A ``FROM image:tag`` gets the digest after the tag. A ``FROM ${BASE}`` (or ``$BASE``) whose
whole image comes from one global ``ARG BASE=image:tag`` gets it in the ARG's default, so the
ARG stays the one place to change. Any other ``FROM`` built from ARGs (``python:${PY}-slim``)
gets it after the word as written. ``scratch``, stages built on earlier stages and images that
still hold a ``$`` (an ARG without a default) are not registry images to pin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reprobox.dockerfile import Arg, Dockerfile, Span, Stage

_WHOLE_ARG = re.compile(r"^\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))$")


@dataclass(frozen=True)
class Site:
    """A base image of stage ``stage`` (``FROM`` on ``line``): the image the build uses, and
    where to write its digest (``span``, holding ``written``; ``via`` says which word)."""

    stage: int
    line: int
    image: str
    span: Span | None
    written: str
    via: str


@dataclass(frozen=True)
class Unpinnable:
    """A ``FROM`` that names no image to pin, and why."""

    line: int
    reason: str


def sites(dockerfile: Dockerfile) -> tuple[list[Site], list[Unpinnable]]:
    """The base images of ``dockerfile`` to pin or verify, and those left alone with a reason."""
    found: list[Site] = []
    skipped: list[Unpinnable] = []
    for stage in dockerfile.stages:
        if stage.is_scratch or stage.parent_stage is not None:
            continue
        if not stage.image.resolved:
            skipped.append(Unpinnable(stage.line, f"FROM {stage.written}: an ARG has no default"))
            continue
        found.append(_site(dockerfile, stage))
    return found, skipped


def _site(dockerfile: Dockerfile, stage: Stage) -> Site:
    arg = _whole_arg(dockerfile, stage)
    if arg is not None and arg.span is not None:
        written = _text(dockerfile, arg.span)
        return Site(stage.index, stage.line, stage.image.raw, arg.span, written, f"ARG {arg.name}")
    span = stage.span
    written = _text(dockerfile, span) if span is not None else stage.written
    return Site(stage.index, stage.line, stage.image.raw, span, written, "FROM")


def _whole_arg(dockerfile: Dockerfile, stage: Stage) -> Arg | None:
    """The global ARG whose default is this stage's whole image, if the FROM is just ``$ARG``."""
    match = _WHOLE_ARG.match(stage.written)
    if not match:
        return None
    name = match.group(1) or match.group(2)
    declared = [a for a in dockerfile.args if a.stage == -1 and a.name == name]
    if not declared or declared[-1].default is None:
        return None
    return declared[-1]


def _text(dockerfile: Dockerfile, span: Span) -> str:
    return dockerfile.lines[span.line - 1][span.start : span.end]


def with_digest(written: str, digest: str) -> str:
    """``written`` with ``@digest`` added where it expands right: inside a closing quote."""
    if len(written) >= 2 and written[-1] in "\"'" and written[0] == written[-1]:
        return f"{written[:-1]}@{digest}{written[-1]}"
    return f"{written}@{digest}"


def apply(text: str, edits: dict[Span, str]) -> str:
    """``text`` with each span replaced; every other byte (line endings included) unchanged."""
    lines = text.splitlines(keepends=True)
    for span in sorted(edits, key=lambda s: (s.line, s.start), reverse=True):
        line = lines[span.line - 1]
        lines[span.line - 1] = line[: span.start] + edits[span] + line[span.end :]
    return "".join(lines)
