"""What build and test need from a Dockerfile: base images resolved, or one clear usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobox import errors
from reprobox.dockerfile import bases

DOCKERFILE = """\
ARG BASE_IMAGE=python:3.12-slim@sha256:abc
ARG OTHER
FROM ${BASE_IMAGE} AS build
RUN make
FROM $OTHER AS other
FROM build
COPY --from=other /x /x
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


def test_final_base_follows_stages_and_applies_build_args(tmp_path: Path) -> None:
    path = write(tmp_path, DOCKERFILE)
    df = bases.read(path, {"OTHER": "busybox:1"})
    assert bases.final_base(df) == "python:3.12-slim@sha256:abc"
    assert bases.needed_images(df) == ("python:3.12-slim@sha256:abc", "busybox:1")
    df = bases.read(path, {"BASE_IMAGE": "reprobox/python:3.11-bookworm", "OTHER": "b:1"})
    assert bases.final_base(df) == "reprobox/python:3.11-bookworm"


def test_issue_example(tmp_path: Path) -> None:
    text = 'ARG BASE="reprobox/python:3.11-bookworm"\nFROM ${BASE} AS Builder\nFROM builder\n'
    df = bases.read(write(tmp_path, text), {})
    assert bases.needed_images(df) == ("reprobox/python:3.11-bookworm",)
    assert bases.final_base(df) == "reprobox/python:3.11-bookworm"


def test_needed_images_skip_stage_names_and_scratch(tmp_path: Path) -> None:
    df = bases.read(write(tmp_path, "FROM scratch AS s\nFROM a:1 AS b\nFROM B\nFROM s\n"), {})
    assert bases.needed_images(df) == ("a:1",)
    assert bases.final_base(df) is None


def test_an_arg_without_value_names_the_build_arg_to_pass(tmp_path: Path) -> None:
    df = bases.read(write(tmp_path, DOCKERFILE), {})
    with pytest.raises(errors.UsageError, match=r"line 5: FROM \$OTHER has no value") as caught:
        bases.needed_images(df)
    assert caught.value.hint == "pass --build-arg OTHER=IMAGE"


def test_an_undeclared_variable_says_where_to_declare_it(tmp_path: Path) -> None:
    text = "FROM a:1 AS one\nARG LATE=b:2\nFROM ${LATE}\n"
    df = bases.read(write(tmp_path, text), {"LATE": "c:3"})
    with pytest.raises(errors.UsageError, match="LATE is not an ARG declared before") as caught:
        bases.needed_images(df)
    assert (
        caught.value.hint
        == "declare ARG LATE before the first FROM and pass --build-arg LATE=IMAGE"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM a\nBOGUS x\n", r"Dockerfile:2: unknown instruction BOGUS"),
        ("ARG A=1\n", r"Dockerfile:1: no FROM instruction"),
    ],
)
def test_bad_dockerfiles_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(errors.UsageError, match=message):
        bases.read(write(tmp_path, text), {})


def test_missing_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="no Dockerfile at"):
        bases.read(tmp_path / "Dockerfile", {})
