"""The catalog: registry, rule modules, test modules and doc pages agree; IDs are unique."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reprobox.lint import docs
from reprobox.lint.rules import RULES
from reprobox.lint.rules.interface import Category, Severity

ROOT = Path(__file__).resolve().parents[3]
RULES_SRC = ROOT / "src" / "reprobox" / "lint" / "rules"
RULE_TESTS = Path(__file__).parent / "rules"
DOCS = ROOT / "docs" / "rules"
ID = re.compile(r"^RBX\d{4}$")
REGISTERED = [rule.meta.id for rule in RULES]


def test_ids_are_unique_and_well_formed() -> None:
    assert len(REGISTERED) == len(set(REGISTERED))
    assert all(ID.match(i) for i in REGISTERED)


def test_first_digit_matches_category() -> None:
    digits = {Category.PARSE: "1", Category.REPRODUCIBILITY: "1", Category.CONTEXT: "2",
              Category.SECURITY: "3", Category.BLOAT: "4"}  # fmt: skip
    for rule in RULES:
        assert rule.meta.id[3] == digits[rule.meta.category], rule.meta.id


def test_each_rule_lives_in_the_module_named_by_its_id() -> None:
    for rule in RULES:
        assert type(rule).__module__ == f"reprobox.lint.rules.{rule.meta.id}"
    modules = {p.stem for p in RULES_SRC.glob("RBX*.py")}
    assert modules == set(REGISTERED)


def test_each_rule_has_a_test_module() -> None:
    tests = {p.stem.removeprefix("test_") for p in RULE_TESTS.glob("test_RBX*.py")}
    assert tests == set(REGISTERED)


def test_each_rule_has_a_doc_page_equal_to_the_generated_one() -> None:
    pages = {p.name for p in DOCS.glob("RBX*.md")}
    assert pages == {f"{i}.md" for i in REGISTERED}
    for name, text in docs.pages().items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, (
            f"docs/rules/{name} is stale: run python -m reprobox.lint.docs --write docs/rules"
        )


def test_lint_docs_carry_the_current_catalog() -> None:
    assert docs.catalog_table() in (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")


def test_metadata_is_complete() -> None:
    for rule in RULES:
        m = rule.meta
        assert m.title and m.rationale and m.bad and m.good and m.fix, m.id
        assert m.help_uri.endswith(f"docs/rules/{m.id}.md")


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_maps(severity: Severity) -> None:
    assert severity.to_sarif_level() in ("error", "warning", "note")
    assert severity.to_rank() in (1, 2, 3)


@pytest.mark.parametrize("category", list(Category))
def test_every_category_has_a_title(category: Category) -> None:
    assert category.to_title()


def test_docs_check_mode(tmp_path: Path) -> None:
    assert docs.main(["--check", str(tmp_path)]) == 1
    assert docs.main(["--write", str(tmp_path)]) == 0
    assert docs.main(["--check", str(tmp_path)]) == 0
