"""verify's difference classification: which cause each planted difference gets."""

from __future__ import annotations

import pytest

from reprobox.build.compare import (
    Cause,
    Entry,
    Kind,
    classify,
    compare_configs,
    compare_layers,
    entry_kinds,
)


def entry(path: str = "x", **changes: object) -> Entry:
    base: dict[str, object] = dict(
        path=path, type="file", mode=0o644, uid=0, gid=0, link="", size=3,
        sha256="aa", mtime=100, sample=b"abc",
    )  # fmt: skip
    base.update(changes)
    return Entry(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "cause"),
    [
        (entry("stamp", sha256="1", sample=b"Fri Nov 27 22:02:39 UTC 2026\n"),
         entry("stamp", sha256="2", sample=b"Fri Nov 27 22:02:41 UTC 2026\n"), Cause.TIMESTAMP),
        (entry("m.pyc", sha256="1", sample=b"\xa7\r\r\n\0\0"),
         entry("m.pyc", sha256="2", sample=b"\xa7\r\r\n\0\1"), Cause.PYC),
        (entry("r", sha256="1", sample=bytes(range(200, 256))),
         entry("r", sha256="2", sample=bytes(range(100, 156))), Cause.RANDOM),
        (entry("t", sha256="1", sample=b"id=abc"), entry("t", sha256="2", sample=b"id=abd"),
         Cause.GENERATED),
        (entry("u", mode=0o644), entry("u", mode=0o600), Cause.UMASK),
        (entry("o", uid=0), entry("o", uid=1000), Cause.OWNER),
        (entry("l", type="symlink", link="a"), entry("l", type="symlink", link="b"), Cause.LINK),
        (entry("m", mtime=100), entry("m", mtime=200), Cause.BUILD_TIME),
        (entry("k", type="file"), entry("k", type="dir"), Cause.TYPE),
    ],
)  # fmt: skip
def test_each_planted_difference_gets_its_cause(a: Entry, b: Entry, cause: Cause) -> None:
    kinds = entry_kinds(a, b)
    assert kinds
    assert classify(a, b, kinds) is cause


def test_identical_entries_have_no_differences() -> None:
    assert entry_kinds(entry(), entry()) == ()


def test_layer_comparison_names_paths_only_in_one_build() -> None:
    diffs = compare_layers(2, "RUN x", {"a": entry("a"), "b": entry("b")}, {"a": entry("a")})
    assert [(d.path, d.kinds, d.cause, d.layer) for d in diffs] == [
        ("b", (Kind.ONLY_FIRST,), Cause.NAME, 2)
    ]


def test_config_comparison_skips_layer_digests_and_explains_copy_lines() -> None:
    a = {"rootfs": {"diff_ids": ["1"]}, "history": [{"created_by": "COPY file:aa in /x"}]}
    b = {"rootfs": {"diff_ids": ["2"]}, "history": [{"created_by": "COPY file:bb in /x"}]}
    diffs = compare_configs(a, b)
    assert [(d.field, d.cause) for d in diffs] == [("history[0].created_by", Cause.COPIED)]


def test_every_cause_is_one_line() -> None:
    assert all("\n" not in c.value and len(c.value) < 100 for c in Cause)
