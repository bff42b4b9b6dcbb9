"""Property-based fuzzing: no Dockerfile text or .dockerignore pattern makes lint or a rule fail.

5,000 generated inputs in total (3,000 instruction-shaped Dockerfiles, 1,000 raw texts, 1,000
.dockerignore files), derandomized so CI is stable, no example database.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprobox.dockerfile import Dockerfile
from reprobox.lint import LintOptions, lint_paths, lint_text, runner
from reprobox.lint.buildcontext import BuildContext
from reprobox.lint.report import LintReport
from reprobox.lint.rules import INTERNAL_ERROR
from reprobox.lint.rules.interface import Category, Finding, Rule, RuleMeta, Severity

BASE = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INSTRUCTIONS = [
    "FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "USER", "WORKDIR", "LABEL", "CMD",
    "ENTRYPOINT", "ONBUILD", "HEALTHCHECK", "SHELL", "EXPOSE", "VOLUME", "from", "FROB",
]  # fmt: skip
WORDS = [
    "python:3.12", "python", "${V}", "$V", "${V:-x}", "AS", "b", "--from=b", "--chown=1",
    "pip", "install", "-r", "req.txt", "flask>=1", "x==1", "apt-get", "update", "-y",
    "--no-install-recommends", "&&", "||", ";", "|", "sh", "curl", "-k", "sudo", "'", '"',
    "\\", "<<EOF", "EOF", ".", "/app", "[\"a\",", "\"b\"]", "root", "0", "@sha256:", "#",
    "--mount=type=cache,target=/root/.cache/pip", "https://x/y", "--checksum=sha256:0",
    "python", "-m", "compileall", "uv", "sync", "npm", "ci", "=", "A=1", "PASSWORD=x", "`",
    "$(curl", ")", "(", "&", "2>&1", "{", "}", "\t", "é", "\x00",
]  # fmt: skip

word = st.sampled_from(WORDS) | st.text(max_size=6)
CONTINUATION = " \\"
line = st.builds(
    lambda cmd, args, cont: f"{cmd} {' '.join(args)}" + (CONTINUATION if cont else ""),
    st.sampled_from(INSTRUCTIONS),
    st.lists(word, max_size=8),
    st.booleans(),
)
directive = st.sampled_from(
    ["# escape=`", "# syntax=docker/dockerfile:1", "# reprobox: ignore=RBX1102 (x)",
     "# reprobox: ignore-file=ALL", "", "EOF", "  \\"]
)  # fmt: skip
dockerfile = st.lists(line | directive, max_size=20).map("\n".join)
pattern = st.sampled_from(["!", "**", "*", "[", "]", "\\", "/", ".", "..", "a", "b/", "!a",
                           "**/", "?", "[a-", "#", " ", "{", "^", "$"])  # fmt: skip
dockerignore = st.lists(
    st.lists(pattern, max_size=6).map("".join) | st.text(max_size=8), max_size=8
)


def _ok(report: LintReport) -> None:
    """No rule crashed (a crash becomes an RBX1001 finding) and every line is real."""
    crashed = [f.message for f in report.findings if f.rule_id == INTERNAL_ERROR]
    assert crashed == []
    assert all(f.line >= 1 for f in report.findings)


class _Crashing(Rule):
    meta = RuleMeta("RBX1999", "crashes", Category.PARSE, Severity.ERROR, "-", "-", "-", "-")

    def check(self, dockerfile: Dockerfile, context: BuildContext) -> Iterator[Finding]:
        raise KeyError("planted")


def test_the_check_sees_a_crashing_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "RULES", (*runner.RULES, _Crashing()))
    report = lint_text("FROM python:3.12\n")
    with pytest.raises(AssertionError):
        _ok(report)
    assert any("rule RBX1999 failed: KeyError" in f.message for f in report.findings)


@settings(BASE, max_examples=3000)
@given(dockerfile)
def test_instruction_shaped_dockerfiles(text: str) -> None:
    _ok(lint_text(text))


@settings(BASE, max_examples=1000)
@given(st.text(max_size=300))
def test_raw_text(text: str) -> None:
    _ok(lint_text(text))


@pytest.fixture(scope="module")
def context_root() -> Iterator[Path]:
    """One small build context, reused by every example (its .dockerignore is rewritten)."""
    with tempfile.TemporaryDirectory(prefix="reprobox-fuzz-") as folder:
        root = Path(folder)
        for name in ("a", "b/c", ".env", "[x]", "req.txt", ".venv/pyvenv.cfg"):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text("x")
        yield root


@settings(BASE, max_examples=1000)
@given(dockerignore, dockerfile)
def test_dockerignore_patterns(context_root: Path, patterns: list[str], text: str) -> None:
    ignore, dockerfile = context_root / ".dockerignore", context_root / "Dockerfile"
    ignore.write_text("\n".join(patterns), encoding="utf-8", errors="replace")
    dockerfile.write_text(text, encoding="utf-8", errors="replace")
    _ok(lint_paths([dockerfile], LintOptions()))
