"""The result of a lint run: files, findings, and what ``--fail-on`` decides."""

from __future__ import annotations

from dataclasses import dataclass

from reprobox.lint.rules.interface import Finding, RuleMeta, Severity


@dataclass(frozen=True)
class LintReport:
    """Everything the formatters need; they never look anywhere else."""

    files: tuple[str, ...]
    findings: tuple[Finding, ...]
    rules: tuple[RuleMeta, ...]
    fail_on: Severity
    suppressed: int = 0

    def count(self, severity: Severity) -> int:
        """How many findings have ``severity``."""
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        """True when a finding is at or above the ``--fail-on`` threshold."""
        threshold = self.fail_on.to_rank()
        return any(f.severity.to_rank() >= threshold for f in self.findings)

    def by_file(self) -> dict[str, list[Finding]]:
        """Findings grouped by path, in the order of :attr:`files`."""
        grouped: dict[str, list[Finding]] = {path: [] for path in self.files}
        for finding in self.findings:
            grouped.setdefault(finding.path, []).append(finding)
        return grouped
