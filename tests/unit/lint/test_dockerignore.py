"""reprobox's ``.dockerignore`` matcher agrees exactly with the docker SDK's ``PatternMatcher``.

The differential property test generates patterns and paths from an alphabet rich in the
characters that matter (``* ? [ ] ! ^ - \\ . / ..``, upper case, spaces) and asserts the same
verdict for every path, or that both refuse the same pattern set. Derandomized for stable CI.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from docker.utils.build import PatternMatcher, exclude_paths
from hypothesis import given
from hypothesis import strategies as st

from reprobox import errors
from reprobox.lint.dockerignore import DockerIgnore, read_dockerignore
from tests.unit.lint.helpers import DIFFERENTIAL

PATTERN_TOKENS = [
    "a", "b", "A", "B", "ab", ".", "..", "/", "*", "**", "?", "[", "]", "!", "^", "-", "\\",
    " ", "[a-b]", "[!a]", "[^a]", "[]]", "[!]", "[z-a]", "x.y", ".dockerignore", "#", "é",
]  # fmt: skip
SEGMENTS = [
    "a", "b", "A", "ab", "aB", "ba", "x.y", ".", "..", "", " a", "a ", "[", "]", "!", "^", "-",
    "\\", "*", "?", ".dockerignore", "é", "É", "a\n",
]  # fmt: skip

paths = st.builds("/".join, st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5))
free_form = st.builds("".join, st.lists(st.sampled_from(PATTERN_TOKENS), max_size=7))
# Path-shaped patterns (parts that look like the paths' parts) reach deep parent matches.
path_shaped = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["", "!", "/", "./", "**/"]),
        st.builds("/".join, st.lists(st.sampled_from([*SEGMENTS, "*", "**", "?"]), min_size=1,
                                     max_size=5)),
        st.sampled_from(["", "/", "/**", "*"]),
    ),
)  # fmt: skip
patterns = st.lists(free_form | path_shaped, max_size=5)


@st.composite
def derived(draw: st.DrawFn, path: str) -> str:
    """A pattern made from a prefix of ``path``'s parts, some turned into wildcards."""
    parts = path.split("/")
    keep = parts[: draw(st.integers(1, len(parts)))]
    wild = st.sampled_from(["*", "?*", "**", "[a-z]*", "[!b]*"])
    mixed = [draw(wild) if draw(st.booleans()) else part for part in keep]
    return draw(st.sampled_from(["", "!"])) + "/".join(mixed)


def sdk_verdicts(lines: list[str], candidates: list[str]) -> list[bool] | None:
    """The SDK's verdict per path, or None when it cannot compile one of the patterns."""
    matcher = PatternMatcher(list(lines))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return [bool(matcher.matches(path)) for path in candidates]
    except re.error:
        return None


def ours(lines: list[str], candidates: list[str]) -> list[bool] | None:
    try:
        matcher = DockerIgnore(lines)
    except errors.ContextPatternError:
        return None
    return [matcher.matches(path) for path in candidates]


@DIFFERENTIAL
@given(patterns, st.lists(paths, min_size=1, max_size=6))
def test_agrees_with_the_sdk(lines: list[str], candidates: list[str]) -> None:
    assert ours(lines, candidates) == sdk_verdicts(lines, candidates)


@DIFFERENTIAL
@given(st.data(), st.lists(paths, min_size=1, max_size=4))
def test_agrees_with_the_sdk_on_patterns_made_from_the_paths(
    data: st.DataObject, candidates: list[str]
) -> None:
    lines = [data.draw(derived(path)) for path in candidates]
    lines += data.draw(patterns)
    assert ours(lines, candidates) == sdk_verdicts(lines, candidates)


@pytest.mark.parametrize(
    ("lines", "path", "excluded"),
    [
        (["build"], "build/x/y.txt", True),
        (["*.pyc"], "a/b.pyc", False),  # "*" does not cross "/"
        (["**/*.pyc"], "a/b.pyc", True),
        (["**"], "anything/at/all", True),
        (["*", "!src"], "src/main.py", False),
        (["Secret.TXT"], "secret.txt", True),  # the SDK matches case-insensitively
        (["a/../b"], "b", True),
        (["./x/"], "x", True),
        (["*", "!.dockerignore"], ".dockerignore", False),
        (["*"], ".dockerignore", False),  # always re-included
        (["[!a]"], "b", True),
        (["[ab"], "[ab", True),  # an unclosed class is literal
    ],
)
def test_known_cases(lines: list[str], path: str, excluded: bool) -> None:
    assert DockerIgnore(lines).matches(path) is excluded
    assert bool(PatternMatcher(list(lines)).matches(path)) is excluded


def test_unusable_pattern_is_one_clear_error() -> None:
    with pytest.raises(
        errors.ContextPatternError, match=r"unusable \.dockerignore pattern '\[z-a\]'"
    ):
        DockerIgnore(["ok", "[z-a]"])


def test_reading_strips_comments_and_blanks(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("# note\n\n  *.log  \n!keep.log\n")
    assert read_dockerignore(tmp_path / ".dockerignore") == ("*.log", "!keep.log")


def test_walk_agrees_with_sdk_exclude_paths(tmp_path: Path) -> None:
    """Walking a real tree: the same files reach the context as with the SDK's own walk."""
    from reprobox.lint.buildcontext import load_context

    lines = ["*", "!src", "src/**/*.pyc", "build", "!build/keep.txt", "!Dockerfile"]
    (tmp_path / ".dockerignore").write_text("\n".join(lines) + "\n")
    for rel in ["Dockerfile", "src/a.py", "src/x/b.pyc", "src/x/c.py", "build/keep.txt",
                "build/drop.txt", "other/z.txt", "README.md"]:  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    expected = {
        p
        for p in exclude_paths(str(tmp_path), list(lines), dockerfile="Dockerfile")
        if (tmp_path / p).is_file()
    }
    assert load_context(tmp_path).files == expected
