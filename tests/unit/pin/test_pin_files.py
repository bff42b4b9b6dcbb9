"""Rewriting Dockerfiles: only the digest is added, through ARGs too, atomically, idempotently."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from reprobox import errors
from reprobox.cli.main import cli
from reprobox.pin import pin_paths
from reprobox.pin.reference import Reference
from tests.unit.pin.fake_registry import fake_registry

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


@dataclass
class Digests:
    """A resolver from a dict: ``{image as written: digest}``; errors raised as given."""

    tags: dict[str, str] = field(default_factory=dict)
    served: set[str] = field(default_factory=set)
    error: errors.ReproboxError | None = None
    asked: list[str] = field(default_factory=list)

    def digest(self, ref: Reference) -> str:
        self.asked.append(str(ref))
        if self.error is not None:
            raise self.error
        return self.tags[str(ref)]

    def has(self, ref: Reference, digest: str) -> bool:
        return digest in self.served


HUB = "docker.io/library/"

TWO_STAGES = (
    "# syntax=docker/dockerfile:1\r\n"
    "ARG BASE=python:3.12-slim   # the runtime\r\n"
    "ARG PY=3.11\r\n"
    "FROM --platform=$BUILDPLATFORM  debian:bookworm  AS Builder\r\n"
    "RUN apt-get update && \\\r\n"
    "    apt-get install -y gcc\r\n"
    "FROM builder AS tests\r\n"
    "FROM \\\r\n"
    "  python:${PY}-slim AS alt\r\n"
    "FROM ${BASE}\r\n"
    "COPY --from=Builder /x /x\r\n"
    "FROM scratch\r\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_bytes(text.encode())
    path.chmod(0o640)
    return path


def test_only_digests_are_added_everything_else_stays_byte_for_byte(tmp_path: Path) -> None:
    path = write(tmp_path, TWO_STAGES)
    digests = Digests(
        {
            f"{HUB}debian:bookworm": A,
            f"{HUB}python:3.11-slim": B,
            f"{HUB}python:3.12-slim": C,
        }
    )
    report = pin_paths((path,), digests)
    assert path.read_bytes().decode() == (
        TWO_STAGES.replace("python:3.12-slim ", f"python:3.12-slim@{C} ")
        .replace("debian:bookworm ", f"debian:bookworm@{A} ")
        .replace("python:${PY}-slim AS", f"python:${{PY}}-slim@{B} AS")
    )
    (file,) = report.files
    assert file.written and not file.problems
    assert [(p.line, p.image, p.via) for p in file.pinned] == [
        (4, "debian:bookworm", "FROM"),
        (8, "python:3.11-slim", "FROM"),
        (10, "python:3.12-slim", "ARG BASE"),
    ]
    assert oct(path.stat().st_mode & 0o777) == "0o640", "permissions kept"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"], "no temporary file left"
    assert not report.findings and not report.could_not_ask


def test_pinning_twice_changes_nothing_and_verifies_the_pins(tmp_path: Path) -> None:
    path = write(tmp_path, "FROM python:3.12-slim AS a\nFROM a\n")
    digests = Digests({f"{HUB}python:3.12-slim": A}, served={A})
    pin_paths((path,), digests)
    once = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    report = pin_paths((path,), digests)
    assert path.read_bytes() == once and path.stat().st_mtime_ns == mtime
    assert report.files[0].verified == (f"python:3.12-slim@{A}",)
    assert not report.files[0].written and not report.findings


def test_a_stale_pin_is_kept_and_reported(tmp_path: Path) -> None:
    text = f"FROM python:3.12-slim@{A}\n"
    path = write(tmp_path, text)
    report = pin_paths((path,), Digests(served={B}))
    assert path.read_text() == text
    (problem,) = report.files[0].problems
    assert problem.message == (
        f"python:3.12-slim@{A}: the pinned digest is no longer served by registry-1.docker.io"
    )
    assert report.findings and not report.could_not_ask


@pytest.mark.parametrize(
    "error",
    [
        errors.RegistryUnreachable("registry r unreachable: refused"),
        errors.TagNotFound("unknown tag: r has no a:1"),
        errors.RegistryAuthRequired("auth required: r wants credentials for a"),
    ],
)
def test_a_registry_that_cannot_answer_leaves_the_file_untouched(
    tmp_path: Path, error: errors.RegistryError
) -> None:
    path = write(tmp_path, TWO_STAGES)
    report = pin_paths((path,), Digests(error=error))
    assert path.read_bytes() == TWO_STAGES.encode()
    assert report.could_not_ask and not report.files[0].written
    assert {p.message for p in report.files[0].problems} == {error.message}


def test_check_writes_nothing_and_finds_the_unpinned(tmp_path: Path) -> None:
    path = write(tmp_path, "ARG B=python:3.12\nFROM $B\n")
    report = pin_paths((path,), Digests({f"{HUB}python:3.12": A}), check=True)
    assert path.read_text() == "ARG B=python:3.12\nFROM $B\n"
    assert report.findings and [p.via for p in report.files[0].pinned] == ["ARG B"]


def test_unresolvable_stage_and_scratch_images_are_left_alone(tmp_path: Path) -> None:
    text = "ARG IMAGE\nFROM $IMAGE AS one\nFROM one\nFROM scratch\n"
    path = write(tmp_path, text)
    digests = Digests()
    report = pin_paths((path,), digests)
    assert path.read_text() == text and digests.asked == []
    assert report.files[0].skipped == ("line 2: FROM $IMAGE: an ARG has no default",)


def test_a_quoted_arg_default_gets_the_digest_inside_the_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, 'ARG BASE="python:3.12"\nFROM ${BASE}\n')
    pin_paths((path,), Digests({f"{HUB}python:3.12": A}))
    assert path.read_text() == f'ARG BASE="python:3.12@{A}"\nFROM ${{BASE}}\n'


def test_a_folder_means_its_dockerfile_and_a_missing_one_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, "FROM scratch\n")
    assert pin_paths((tmp_path,), Digests()).files[0].path == str(tmp_path / "Dockerfile")
    with pytest.raises(errors.UsageError, match="no Dockerfile at"):
        pin_paths((tmp_path / "nope",), Digests())


def run_cli(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, ["pin", *args])
    return done.exit_code, done.stdout, done.stderr


def test_the_cli_pins_checks_and_maps_exit_codes(tmp_path: Path) -> None:
    with fake_registry() as fake:
        digest = fake.add("py", "3.11")
        path = write(tmp_path, f"FROM {fake.host}/py:3.11 AS base\nFROM base\n")
        code, out, err = run_cli(str(path), "--check")
        assert (code, err) == (1, "")
        assert out.splitlines() == [
            f"{path}:1: {fake.host}/py:3.11 is not pinned by digest: {digest}",
            "1 base image not pinned by digest; 0 base images already pinned and verified; "
            "run reprobox pin to pin them",
        ]
        code, out, _ = run_cli(str(path))
        assert code == 0 and out.splitlines()[-1].startswith("pinned 1 base image in 1 file")
        assert path.read_text() == f"FROM {fake.host}/py:3.11@{digest} AS base\nFROM base\n"
        code, out, _ = run_cli(str(path), "--check")
        assert (code, out) == (0, "nothing to pin: 1 base image already pinned and verified\n")


def test_the_cli_reports_an_unknown_tag_in_one_line_exit_3(tmp_path: Path) -> None:
    with fake_registry() as fake:
        path = write(tmp_path, f"FROM {fake.host}/py:9\n")
        before = path.read_bytes()
        code, _, err = run_cli(str(path))
    assert code == 3 and path.read_bytes() == before
    assert err == f"error: {path}:1: unknown tag: {fake.host} has no py:9\n"


def test_a_parse_error_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, "RUN echo no from\n")
    code, _, err = run_cli(str(path))
    assert code == 2 and err.startswith(f"error: {path}:1: ")
    assert os.path.exists(path)


def test_exit_codes_put_could_not_ask_before_findings() -> None:
    from reprobox.exitcodes import ExitCode, for_pin

    assert for_pin(could_not_ask=True, findings=True) is ExitCode.COULD_NOT_RUN
    assert for_pin(could_not_ask=False, findings=True) is ExitCode.FINDINGS
    assert for_pin(could_not_ask=False, findings=False) is ExitCode.OK


def test_the_cli_reports_unreachable_and_auth_required_in_one_line_exit_3(
    tmp_path: Path,
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    with fake_registry() as fake:
        fake.auth = "basic"
        fake.add("py", "1")
        path = write(tmp_path, f"FROM {closed}/py:1 AS a\nFROM {fake.host}/py:1\n")
        before = path.read_bytes()
        code, out, err = run_cli(str(path))
    assert code == 3 and path.read_bytes() == before
    unreachable, auth = err.splitlines()
    assert unreachable.startswith(f"error: {path}:1: registry {closed} unreachable: ")
    assert auth.startswith(f"error: {path}:2: auth required: {fake.host} wants credentials")
    assert out == "2 base images could not be pinned or verified; 1 file left unchanged\n"
