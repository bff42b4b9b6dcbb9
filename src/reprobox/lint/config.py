"""``[tool.reprobox.lint]`` in ``pyproject.toml``: ignore list, fail-on, severity overrides.

Example::

    [tool.reprobox.lint]
    ignore = ["RBX1102"]
    fail-on = "warning"
    severity = { RBX4001 = "warning" }

Command-line options add to (``--ignore``) or override (``--fail-on``) these values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reprobox import errors
from reprobox.lint.rules.interface import Severity

_KEYS = frozenset({"ignore", "fail-on", "severity"})
_DOTTED = re.compile(r"""tool\s*\.\s*["']?reprobox""")
_TOOL = re.compile(r"\[\s*tool\s*\]")
_KEY = re.compile(r"""["']?reprobox["']?\s*[.=]""")


@dataclass(frozen=True)
class LintConfig:
    """The effective lint settings."""

    ignore: frozenset[str] = frozenset()
    fail_on: Severity = Severity.WARNING
    severity: dict[str, Severity] = field(default_factory=dict)
    source: str | None = None


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (a few levels at most)."""
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for _ in range(8):
        candidate = current / "pyproject.toml"
        if candidate.is_file():
            return candidate
        if current.parent == current:
            return None
        current = current.parent
    return None


def load_config(pyproject: Path | None) -> LintConfig:
    """Read ``[tool.reprobox.lint]`` (a missing file or table gives the defaults).

    A ``pyproject.toml`` without a ``tool.reprobox`` key is not parsed at all: it cannot
    configure lint, and lint (a pre-commit hook) should neither wait for nor trip over it.
    """
    if pyproject is None:
        return LintConfig()
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.LintConfigError(f"cannot read {pyproject}: {exc}") from exc
    if not mentions_reprobox(text):
        return LintConfig()
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise errors.LintConfigError(f"cannot read {pyproject}: {exc}") from exc
    table = data.get("tool", {}).get("reprobox", {}).get("lint", {})
    return from_table(table, str(pyproject))


def mentions_reprobox(text: str) -> bool:
    """True when ``text`` may hold a ``tool.reprobox`` key (``[tool.reprobox.lint]``, a dotted
    ``tool.reprobox...`` key, or a ``reprobox`` key in a ``[tool]`` table); false positives
    only cost a parse."""
    if _DOTTED.search(text):
        return True
    table = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped
        elif _TOOL.match(table) and _KEY.match(stripped):
            return True
    return False


def from_table(table: Any, source: str) -> LintConfig:
    """Validate a ``[tool.reprobox.lint]`` table."""
    if not isinstance(table, dict):
        raise errors.LintConfigError(f"{source}: [tool.reprobox.lint] must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise errors.LintConfigError(
            f"{source}: unknown key(s) in [tool.reprobox.lint]: {', '.join(sorted(unknown))}",
            hint=f"known keys: {', '.join(sorted(_KEYS))}",
        )
    ignore = table.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
        raise errors.LintConfigError(f"{source}: ignore must be a list of rule IDs")
    return LintConfig(
        ignore=frozenset(i.upper() for i in ignore),
        fail_on=_severity(table.get("fail-on", "warning"), source, "fail-on"),
        severity=_overrides(table.get("severity", {}), source),
        source=source,
    )


def _severity(value: Any, source: str, key: str) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError as exc:
        raise errors.LintConfigError(
            f"{source}: {key} = {value!r} is not one of error, warning, info"
        ) from exc


def _overrides(value: Any, source: str) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise errors.LintConfigError(f"{source}: severity must be a table of ID = level")
    return {str(k).upper(): _severity(v, source, f"severity.{k}") for k, v in value.items()}
