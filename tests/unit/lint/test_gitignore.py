"""The gitignore pre-check never changes a verdict: ``Rules.check`` equals ``GitIgnoreSpec``.

``Rules`` answers "no pattern matches" without pathspec when no pattern's literal text is in
the path; this differential property test runs both on generated patterns and paths.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec

from reprobox.lint.gitignore import Rules, compile_lines, literals
from tests.unit.lint.helpers import DIFFERENTIAL

SEGMENTS = ["a", "b", "ab", "A", "build", "x.log", ".env", "a b", "#c", "!d", "[e]", "f\\", " "]
TOKENS = [*SEGMENTS, "*", "**", "?", "/", "!", "[ab]", "[!a]", "[]]", "[!]]", "[^b]", "[", "]",
          "[a-b]", "[ab]x", "\\#", "\\!", "\\ ", "\\[", "\\*", " ", "#"]  # fmt: skip

paths = st.builds("/".join, st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4))
lines = st.lists(st.builds("".join, st.lists(st.sampled_from(TOKENS), max_size=6)), max_size=6)


@DIFFERENTIAL
@given(lines, st.lists(paths, min_size=1, max_size=5), st.booleans())
def test_pre_check_agrees_with_pathspec(
    patterns: list[str], candidates: list[str], as_dirs: bool
) -> None:
    if not any(line.strip() and not line.startswith("#") for line in patterns):
        return  # a file without patterns is never compiled (no Rules at all)
    rules = Rules(patterns)
    spec = GitIgnoreSpec.from_lines([line for line in patterns if _valid(line)])
    for path in candidates:
        path = path + "/" if as_dirs else path
        assert rules.check(path) == spec.check_file(path).include, (patterns, path)


def _valid(line: str) -> bool:
    try:
        GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


def test_a_line_git_cannot_use_is_skipped_as_git_skips_it() -> None:
    spec = compile_lines(["f\\", "x.log"])  # git: "f\" never matches, x.log still does
    assert spec.check_file("x.log").include is True and spec.check_file("f").include is None


def test_the_pre_check_spares_pathspec_for_unrelated_paths() -> None:
    rules = Rules(["*.pyc", "/build/", "!keep.log", "__pycache__/"])
    assert rules.check("src/app.py") is None and rules._spec is None  # never compiled
    assert rules.check("src/app.pyc") is True and rules._spec is not None
    assert rules.check("keep.log") is False


def test_literals() -> None:
    assert literals("**/node_modules/") == ("node_modules",)
    assert literals("!*.egg-info") == (".egg-info",)
    assert literals("*.py[cod]") == (".pyc", ".pyd", ".pyo")
    assert literals("*.py[a-z]") == (".py",) and literals("\\#notes") == ("notes",)
    assert literals("[ab") == () and literals("*") == ()
