"""The output format family: a ``str`` enum whose members map to pure render functions."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import assert_never

from reprobox.lint.report import LintReport

Renderer = Callable[[LintReport], str]


class OutputFormat(StrEnum):
    """``--format``: how a report is written."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"

    def to_renderer(self) -> Renderer:
        """The pure function that renders a report in this format."""
        if self is OutputFormat.TEXT:
            from reprobox.lint.formats.text import render_text

            return render_text
        if self is OutputFormat.JSON:
            from reprobox.lint.formats.json import render_json

            return render_json
        if self is OutputFormat.SARIF:
            from reprobox.lint.formats.sarif import render_sarif

            return render_sarif
        assert_never(self)


def render(report: LintReport, fmt: OutputFormat) -> str:
    """``report`` as a string in ``fmt``."""
    return fmt.to_renderer()(report)
