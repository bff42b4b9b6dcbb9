"""What every lint rule is: metadata, a check over a parsed Dockerfile, and its findings.

A rule is a class with a :class:`RuleMeta` and a ``check`` method that yields :class:`Finding`
objects. Rules never read files or the network: everything they need is in the
:class:`~reprobox.dockerfile.Dockerfile` and the :class:`~reprobox.lint.buildcontext.BuildContext`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:
    from reprobox.dockerfile import Dockerfile
    from reprobox.lint.buildcontext import BuildContext

DOCS_BASE = "https://github.com/reprobox/reprobox/blob/main/docs/rules"


class Severity(StrEnum):
    """How bad a finding is; ``--fail-on`` compares against this order."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def to_rank(self) -> int:
        """Higher is worse: error 3, warning 2, info 1."""
        if self is Severity.ERROR:
            return 3
        if self is Severity.WARNING:
            return 2
        if self is Severity.INFO:
            return 1
        assert_never(self)

    def to_sarif_level(self) -> str:
        """The SARIF ``level`` of this severity."""
        if self is Severity.ERROR:
            return "error"
        if self is Severity.WARNING:
            return "warning"
        if self is Severity.INFO:
            return "note"
        assert_never(self)


class Category(StrEnum):
    """What kind of harm a rule guards against; the first digit of its ID says the same."""

    PARSE = "parse"
    REPRODUCIBILITY = "reproducibility"
    CONTEXT = "context"
    SECURITY = "security"
    BLOAT = "bloat"
    HADOLINT = "hadolint"

    def to_title(self) -> str:
        """A heading for this category in the catalog."""
        if self is Category.PARSE:
            return "Parse and internal errors"
        if self is Category.REPRODUCIBILITY:
            return "Reproducibility"
        if self is Category.CONTEXT:
            return "Build context"
        if self is Category.SECURITY:
            return "Security hygiene"
        if self is Category.BLOAT:
            return "Image bloat"
        if self is Category.HADOLINT:
            return "hadolint (merged with --hadolint)"
        assert_never(self)


@dataclass(frozen=True)
class RuleMeta:
    """Everything about a rule that is not code: the source of its doc page.

    ``bad`` and ``good`` are Dockerfiles (a stage's body when they have no ``FROM``), and
    ``bad_files`` / ``good_files`` the ``(path, text)`` files of their build context. They are
    test data too: ``tests/unit/lint/test_examples.py`` lints each one in a fresh git checkout
    holding just those files and asserts the bad one fires this rule and the good one does not.
    """

    id: str
    title: str
    category: Category
    severity: Severity
    rationale: str
    bad: str
    good: str
    fix: str
    exceptions: str = "None known."
    uri: str = ""
    bad_files: tuple[tuple[str, str], ...] = ()
    good_files: tuple[tuple[str, str], ...] = ()

    @property
    def help_uri(self) -> str:
        """The rule's page in the repository (a string only; reprobox never fetches it)."""
        return self.uri or f"{DOCS_BASE}/{self.id}.md"


@dataclass(frozen=True)
class Finding:
    """One problem at one line of one file."""

    rule_id: str
    severity: Severity
    message: str
    path: str
    line: int
    fix: str = ""
    source: str = ""
    category: Category = Category.PARSE


class Rule(ABC):
    """A lint rule: metadata plus a single pass over the parsed Dockerfile and its context."""

    meta: RuleMeta

    @abstractmethod
    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        """Yield the findings of this rule for one Dockerfile."""

    def finding(self, dockerfile: Dockerfile, line: int, message: str) -> Finding:
        """A finding of this rule at ``line`` of ``dockerfile``, with its default severity."""
        return Finding(
            rule_id=self.meta.id,
            severity=self.meta.severity,
            message=message,
            path=dockerfile.display_path,
            line=line,
            fix=self.meta.fix,
            source=dockerfile.source_line(line),
            category=self.meta.category,
        )
