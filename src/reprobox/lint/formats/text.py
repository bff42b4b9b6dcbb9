"""Human-readable text: grouped by file, each finding with its source line and a fix hint."""

from __future__ import annotations

from reprobox.lint.report import LintReport
from reprobox.lint.rules.interface import Finding, Severity


def render_text(report: LintReport) -> str:
    """The report as text, ending with a one-line summary."""
    lines: list[str] = []
    for path, findings in report.by_file().items():
        if findings:
            lines.append(path)
            lines.extend(line for finding in findings for line in _finding(finding))
            lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _finding(finding: Finding) -> list[str]:
    head = (
        f"{finding.path}:{finding.line}  {finding.severity.value.upper():<7}  "
        f"{finding.rule_id}  {finding.message}"
    )
    result = [head]
    if finding.source:
        result.append(f"    | {finding.source}")
    if finding.fix:
        result.append(f"    fix: {finding.fix}")
    return result


def summary(report: LintReport) -> str:
    """``3 files, 5 findings (1 error, 3 warning, 1 info); ...``."""
    files = f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}"
    if not report.findings:
        text = f"{files}, no findings"
    else:
        counts = ", ".join(f"{report.count(s)} {s.value}" for s in Severity)
        found = len(report.findings)
        text = f"{files}, {found} finding{'s' if found != 1 else ''} ({counts})"
    if report.suppressed:
        text += f", {report.suppressed} suppressed"
    verdict = "FAIL" if report.failed else "ok"
    return f"{text}; {verdict} at --fail-on {report.fail_on.value}"
