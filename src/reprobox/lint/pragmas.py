"""Inline suppressions written as comments in the Dockerfile.

``# reprobox: ignore=RBX1102,RBX4001 (reason)`` on the line(s) before an instruction silences
those rules for that instruction (all its lines). ``# reprobox: ignore-file=RBX2001 (reason)``
anywhere silences them for the whole file. The BuildKit parser drops comments, so pragmas are
read from the raw lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reprobox.dockerfile import Dockerfile
from reprobox.lint.rules.interface import Finding

_PRAGMA = re.compile(
    r"^\s*#\s*reprobox:\s*(ignore|ignore-file)\s*=\s*([A-Za-z0-9_, ]+?)\s*(?:\((.*)\))?\s*$"
)


@dataclass(frozen=True)
class Pragma:
    """One suppression: which rules, which lines (empty range means the whole file)."""

    rule_ids: frozenset[str]
    first: int
    last: int
    reason: str

    def covers(self, finding: Finding) -> bool:
        in_range = self.first == 0 or self.first <= finding.line <= self.last
        return in_range and (finding.rule_id in self.rule_ids or "ALL" in self.rule_ids)


def pragmas(dockerfile: Dockerfile) -> tuple[Pragma, ...]:
    """The pragmas of a file, each bound to the instruction that follows it."""
    starts = sorted((i.line, i.end_line) for i in dockerfile.instructions)
    found: list[Pragma] = []
    for number, text in enumerate(dockerfile.lines, 1):
        if "reprobox" not in text:
            continue
        match = _PRAGMA.match(text)
        if match is None:
            continue
        ids = frozenset(p.strip().upper() for p in match.group(2).split(",") if p.strip())
        reason = match.group(3) or ""
        if match.group(1) == "ignore-file":
            found.append(Pragma(ids, 0, 0, reason))
            continue
        span = next(((s, e) for s, e in starts if s > number), None)
        if span is not None:
            found.append(Pragma(ids, span[0], span[1], reason))
    return tuple(found)


def suppressed(finding: Finding, active: tuple[Pragma, ...]) -> bool:
    """True when a pragma silences ``finding``."""
    return any(p.covers(finding) for p in active)
