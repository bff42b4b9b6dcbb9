"""RBX1110: the Python version in ``FROM`` is not one that CI pins."""

from __future__ import annotations

import re
from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

_VERSION = re.compile(r"^(\d+\.\d+)")


_CI = (
    (
        ".github/workflows/ci.yml",
        "jobs:\n  test:\n    steps:\n      - uses: actions/setup-python@v5\n"
        "        with:\n          python-version: '3.12'\n",
    ),
)


class PythonVersionDrift(Rule):
    """Compares ``FROM python:X.Y...`` with ``setup-python`` / GitLab ``image: python:X.Y``."""

    meta = RuleMeta(
        id="RBX1110",
        title="Python version in FROM disagrees with CI",
        category=Category.REPRODUCIBILITY,
        severity=Severity.WARNING,
        rationale=(
            "When CI tests on Python 3.12 and the image runs 3.11, the tests vouch for a "
            "program the image never runs. Behaviour, wheels and syntax differ between minor "
            "versions."
        ),
        bad="FROM python:3.11-slim",
        good="FROM python:3.12-slim",
        bad_files=_CI,
        good_files=_CI,
        fix="use the same minor version in FROM and in CI",
        exceptions="Only GitHub Actions `python-version:` and GitLab `image: python:` are read.",
    )

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        pins = {pin.version for pin in context.ci_pins}
        if not pins:
            return
        for stage in dockerfile.stages:
            image = stage.image
            match = _VERSION.match(image.tag or "")
            if image.name.rsplit("/", 1)[-1] != "python" or not match:
                continue
            if match.group(1) not in pins:
                where = context.ci_pins[0]
                message = (
                    f"FROM uses Python {match.group(1)}; CI pins {', '.join(sorted(pins))} "
                    f"({where.path}:{where.line})"
                )
                yield self.finding(dockerfile, stage.line, message)
