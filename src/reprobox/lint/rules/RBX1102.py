"""RBX1102: a base image is pinned by tag only, not by digest."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity


class TagWithoutDigest(Rule):
    """Per stage: ``FROM name:tag`` (a tag other than ``latest``) without ``@sha256:``."""

    meta = RuleMeta(
        id="RBX1102",
        title="Base image pinned by tag, not by digest",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "Tags are mutable: `python:3.12-slim` is re-pushed for every patch release and "
            "every Debian security update. Only a digest names one exact image. Keep the tag "
            "for readers and add the digest; a bot (Renovate, Dependabot) can update both."
        ),
        bad="FROM python:3.12-slim",
        good=(
            "FROM python:3.12-slim@sha256:"
            "2ec5a4a5c3e919570f57675471f081d6299668d909feabd8d4803c6c61af666c"
        ),
        fix="run `reprobox pin` to add the registry's digest to every FROM "
        "(`reprobox pin --check` in CI)",
        exceptions="`scratch`, and `FROM <earlier stage>`.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        for stage in dockerfile.stages:
            image = stage.image
            if not stage.pulls_registry_image:
                continue
            if image.digest is None and image.tag not in (None, "latest"):
                yield self.finding(
                    dockerfile, stage.line, f"base image {image.raw} is not pinned by digest"
                )
