"""The parsed Dockerfile model."""

from __future__ import annotations

from reprobox.lint.model import ImageRef, parse, substitute


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


def test_substitution_forms() -> None:
    values = {"A": "x", "E": ""}
    assert substitute("$A ${A} ${B:-d} ${A:+y} ${E:-z} $B", values) == "x x d y z $B"


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
