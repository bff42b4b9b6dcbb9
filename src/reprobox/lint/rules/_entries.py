"""Shared by the context rules: one finding per COPY line for the entries of one kind."""

from __future__ import annotations

from collections.abc import Iterator

from reprobox.dockerfile import Dockerfile
from reprobox.lint.buildcontext import BuildContext, Kind
from reprobox.lint.commands import copy_line
from reprobox.lint.rules.interface import Finding, Rule

SHOWN = 5


def entry_findings(
    rule: Rule, dockerfile: Dockerfile, context: BuildContext, kind: Kind, what: str
) -> Iterator[Finding]:
    """Group the context entries of ``kind`` by the line that copies them (1: sent only)."""
    by_line: dict[int, list[str]] = {}
    for entry in context.entries:
        if entry.kind is kind:
            line = copy_line(dockerfile.instructions, entry.relpath)
            by_line.setdefault(line or 0, []).append(entry.relpath)
    for line, paths in sorted(by_line.items()):
        shown = ", ".join(paths[:SHOWN]) + (
            f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
        )
        verb = "copied into the image" if line else "sent to the builder"
        yield rule.finding(dockerfile, line or 1, f"{what} {verb}: {shown}")
