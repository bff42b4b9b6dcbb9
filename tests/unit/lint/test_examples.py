"""Every rule's documented examples are its test data: the bad one fires, the good one is clean.

Each example is linted as the docs show it (``RuleMeta.bad`` / ``good`` with their
``bad_files`` / ``good_files``) in a fresh git checkout (a ``.git`` folder) holding just those
files; an example without ``FROM`` is the body of a stage on a digest-pinned base.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reprobox.lint.rules import INTERNAL_ERROR, RULES
from reprobox.lint.rules.interface import Rule
from tests.unit.lint.helpers import context_findings

STAGE_BASE = "FROM python:3.12-slim@sha256:" + "2ec5a4a5" * 8
_FROM = re.compile(r"^\s*FROM\s", re.IGNORECASE | re.MULTILINE)
EXAMPLES = [rule for rule in RULES if rule.meta.id != INTERNAL_ERROR]


def example_findings(
    root: Path, rule: Rule, text: str, files: tuple[tuple[str, str], ...]
) -> list[str]:
    dockerfile = text if _FROM.search(text) else f"{STAGE_BASE}\n{text}\n"
    context = {".git/HEAD": "ref: refs/heads/main\n", **dict(files)}
    found = context_findings(root, dockerfile, context, rule.meta.id)
    return [f"{f.line}: {f.message}" for f in found]


@pytest.mark.parametrize("rule", EXAMPLES, ids=lambda rule: rule.meta.id)
def test_the_bad_example_fires(tmp_path: Path, rule: Rule) -> None:
    assert example_findings(tmp_path, rule, rule.meta.bad, rule.meta.bad_files)


@pytest.mark.parametrize("rule", EXAMPLES, ids=lambda rule: rule.meta.id)
def test_the_good_example_is_clean(tmp_path: Path, rule: Rule) -> None:
    assert example_findings(tmp_path, rule, rule.meta.good, rule.meta.good_files) == []


def test_only_the_internal_error_rule_has_no_runnable_example() -> None:
    assert {rule.meta.id for rule in RULES} - {rule.meta.id for rule in EXAMPLES} == {
        INTERNAL_ERROR
    }
