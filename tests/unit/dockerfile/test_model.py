"""The parsed Dockerfile model."""

from __future__ import annotations

import pytest

from reprobox.dockerfile import ImageRef, parse


def test_stages_aliases_and_parents() -> None:
    df = parse("ARG V=3.12\nFROM python:${V} AS build\nRUN x\nFROM build\nUSER app\n")
    assert [s.image.raw for s in df.stages] == ["python:3.12", "build"]
    assert df.stages[0].alias == "build"
    assert df.stages[1].parent_stage == 0
    assert [i.cmd for i in df.stages[1].instructions] == ["USER"]


def test_image_refs() -> None:
    assert ImageRef.parse("localhost:5000/a/b").tag is None
    ref = ImageRef.parse("a/b:1.2@sha256:00")
    assert (ref.name, ref.tag, ref.digest) == ("a/b", "1.2", "sha256:00")


def test_heredoc_run_commands() -> None:
    df = parse("FROM x\nRUN <<EOF\napt-get update\npip install y\nEOF\n")
    run = df.of("RUN")[0]
    assert [c.program for c in run.commands] == ["apt-get", "pip"]
    assert (run.line, run.end_line) == (2, 5)


def test_exec_form_run() -> None:
    run = parse('FROM x\nRUN ["pip", "install", "y"]\n').of("RUN")[0]
    assert run.commands[0].words == ("pip", "install", "y")


def test_locate_and_source_line() -> None:
    df = parse("FROM x\nRUN a \\\n    b \\\n    c\n")
    assert df.locate(df.of("RUN")[0], "c") == 4
    assert df.source_line(3) == "b \\"
    assert df.source_line(99) == ""


def test_pairs() -> None:
    df = parse("FROM x\nENV A=1 B=2\nARG C D=4\n")
    assert df.of("ENV")[0].pairs == (("A", "1"), ("B", "2"))
    assert df.of("ARG")[0].pairs == (("C", ""), ("D", "4"))


ISSUE_EXAMPLE = """\
ARG BASE="reprobox/python:3.11-bookworm"
FROM ${BASE} AS Builder
RUN true
FROM builder
"""


def test_issue_example_quotes_removed_and_alias_in_any_case() -> None:
    df = parse(ISSUE_EXAMPLE)
    builder, final = df.stages
    assert builder.image.raw == "reprobox/python:3.11-bookworm"
    assert builder.alias == "builder"
    assert final.parent_stage == 0
    assert df.root(final) is builder
    assert [s.image.raw for s in df.base_stages] == ["reprobox/python:3.11-bookworm"]


def test_from_refers_to_a_stage_in_another_case() -> None:
    df = parse("FROM a:1 AS build\nFROM BUILD\nFROM Build AS two\nFROM TWO\n")
    assert [s.parent_stage for s in df.stages] == [None, 0, 0, 2]
    assert [s.image.raw for s in df.base_stages] == ["a:1"]


def test_only_earlier_stages_are_parents() -> None:
    df = parse("FROM later\nFROM a:1 AS later\n")
    assert df.stages[0].parent_stage is None
    assert [s.image.raw for s in df.base_stages] == ["later", "a:1"]


def test_build_args_override_declared_args_only() -> None:
    text = "ARG BASE=a:1\nFROM ${BASE}\nFROM ${UNDECLARED:-b:2}\n"
    df = parse(text, build_args={"BASE": "c:3", "UNDECLARED": "d:4"})
    assert [s.image.raw for s in df.stages] == ["c:3", "b:2"]


def test_arg_without_value_leaves_the_reference_unresolved() -> None:
    df = parse("ARG BASE\nFROM ${BASE}\n")
    assert df.stages[0].image.raw == "${BASE}"
    assert not df.stages[0].image.resolved
    resolved = parse("ARG BASE\nFROM ${BASE}\n", build_args={"BASE": "a:1"})
    assert resolved.stages[0].image.resolved
    assert resolved.args[0].value == "a:1"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("${V}", "3.12"),
        ("${V:-0}", "3.12"),
        ("${MISSING:-3.11}", "3.11"),
        ("${V:+3.13}", "3.13"),
        ("${MISSING:+3.13}-slim", "-slim"),
        ("$V", "3.12"),
    ],
)
def test_from_expansion_forms(written: str, expected: str) -> None:
    df = parse(f"ARG V='3.12'\nFROM python:{written}\n")
    assert df.stages[0].image.raw == f"python:{expected}"


def test_arg_scoping() -> None:
    text = """\
ARG GLOBAL=g
ARG LATER=${GLOBAL}-l
FROM a:1 AS one
ARG GLOBAL
ARG LOCAL="in one"
ARG MIXED=${LATER}
FROM a:${LOCAL:-2}
ARG LOCAL
"""
    df = parse(text)
    assert df.global_args == {"GLOBAL": "g", "LATER": "g-l"}
    by_line = {(a.line, a.name): a for a in df.args}
    assert by_line[4, "GLOBAL"].default is None
    assert by_line[4, "GLOBAL"].value == "g"  # a bare ARG in a stage takes the global value
    assert by_line[5, "LOCAL"].value == "in one"
    assert by_line[6, "MIXED"].value == "${LATER}"  # LATER was not redeclared in the stage
    assert df.stages[1].image.raw == "a:2"  # a stage ARG never reaches a later FROM
    assert by_line[8, "LOCAL"].value is None  # nor the next stage
    assert [a.stage for a in df.args] == [-1, -1, 0, 0, 0, 1]


def test_platform_flag_and_image_span() -> None:
    text = (
        'ARG BASE="a:1"\n'
        "FROM  --platform=$BUILDPLATFORM   ${BASE} AS b\n"
        "FROM --platform=${P:-linux/arm64} \\\n"
        "  b:2\n"
    )
    df = parse(text)
    first, second = df.stages
    assert first.platform == "$BUILDPLATFORM"
    assert second.platform == "linux/arm64"
    assert (first.written, first.image.raw) == ("${BASE}", "a:1")
    assert first.span is not None and second.span is not None
    assert df.lines[first.span.line - 1][first.span.start : first.span.end] == "${BASE}"
    assert (second.span.line, df.lines[3][second.span.start : second.span.end]) == (4, "b:2")
    arg_span = df.args[0].span
    assert arg_span is not None
    assert df.lines[0][arg_span.start : arg_span.end] == '"a:1"'


def test_scratch() -> None:
    df = parse("FROM scratch AS s\nFROM s\nFROM a:1\n")
    assert df.stages[0].is_scratch
    assert not df.stages[0].pulls_registry_image
    assert df.root(df.stages[1]).is_scratch
    assert [s.image.raw for s in df.base_stages] == ["a:1"]


def test_escape_directive() -> None:
    df = parse("# escape=`\nARG V=`$x\nFROM a:${V}\n")
    assert df.args[0].default == "$x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM a\nRUN 'unterminated\nBOGUS x\n", "unknown instruction BOGUS"),
        ("RUN true\nFROM a\n", "RUN before the first FROM"),
        ("ARG A=1\n", "no FROM instruction"),
        ("FROM a\nRUN <<EOF\n", "cannot parse"),
    ],
)
def test_problems_never_raise(text: str, message: str) -> None:
    problems = parse(text).problems
    assert problems and message in problems[0].message


def test_onbuild_run_is_a_run_with_its_own_flags() -> None:
    df = parse(
        "FROM debian:12\n"
        "ONBUILD RUN --mount=type=cache,target=/c --network=none make install\n"
        'onbuild run ["pip", "install", "x"]\n'
        "ONBUILD COPY . /app\n"
    )
    runs = df.runs
    assert [(i.cmd, i.sub_cmd) for i in runs] == [("ONBUILD", "RUN"), ("ONBUILD", "RUN")]
    assert runs[0].flags == ("--mount=type=cache,target=/c", "--network=none")
    assert [c.words for c in runs[0].commands] == [("make", "install")]
    assert [c.words for c in runs[1].commands] == [("pip", "install", "x")]
    assert df.instructions[-1].commands == ()
