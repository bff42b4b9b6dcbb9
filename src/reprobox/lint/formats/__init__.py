"""Output formats for lint reports: pure functions from a report to a string."""

from reprobox.lint.formats.interface import OutputFormat, render

__all__ = ["OutputFormat", "render"]
