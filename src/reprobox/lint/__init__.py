"""``reprobox lint``: find what makes an image unreproducible, bloated or leaky, before a build.

Library entry points: :func:`lint_paths` and :func:`lint_text` return a :class:`LintReport`;
:func:`render` turns it into text, JSON or SARIF. Nothing here prints, exits or uses the network.
"""

from reprobox.lint.config import LintConfig, find_pyproject, load_config
from reprobox.lint.formats import OutputFormat, render
from reprobox.lint.report import LintReport
from reprobox.lint.rules import RULES
from reprobox.lint.rules.interface import Category, Finding, RuleMeta, Severity
from reprobox.lint.runner import LintOptions, lint_paths, lint_text

__all__ = [
    "RULES",
    "Category",
    "Finding",
    "LintConfig",
    "LintOptions",
    "LintReport",
    "OutputFormat",
    "RuleMeta",
    "Severity",
    "find_pyproject",
    "lint_paths",
    "lint_text",
    "load_config",
    "render",
]
