"""RBX1101: a base image has no tag, or the tag ``latest``."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class MovingBaseImage(Rule):
    """Per stage: ``FROM name`` or ``FROM name:latest`` without a digest."""

    meta = RuleMeta(
        id="RBX1101",
        title="Base image has no tag, or `latest`",
        category=Category.REPRODUCIBILITY,
        severity=Severity.ERROR,
        rationale=(
            "`latest` (and no tag, which means `latest`) moves whenever the publisher pushes: "
            "next week's build starts from a different operating system, Python or libc. "
            "Every stage counts, because builder stages shape what is copied out of them."
        ),
        bad="FROM python\nFROM debian:latest",
        good=(
            "FROM python:3.12.7-slim-bookworm@sha256:"
            "2ec5a4a5c3e919570f57675471f081d6299668d909feabd8d4803c6c61af666c"
        ),
        fix="name a version tag and pin it by digest: FROM image:tag@sha256:<digest>",
        exceptions="`scratch`, and `FROM <earlier stage>`, are not images from a registry.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for stage in dockerfile.stages:
            image = stage.image
            if not stage.pulls_registry_image:
                continue
            if image.digest is None and image.tag in (None, "latest"):
                shown = image.raw or "(empty)"
                yield self.finding(dockerfile, stage.line, f"base image {shown} moves over time")
