"""No input ends in a traceback: the CLI fuzzed through click's CliRunner with hypothesis.

Two families, 2,400 examples in all (see ``EXAMPLES``):

* Command lines: for every command, random combinations of its own options (values drawn
  from odd strings, numbers, image names and tags, and paths: missing, unreadable, a file
  where a folder is expected, a Dockerfile that is a folder or a symlink loop, a folder),
  random arguments and ``--``, against an engine address where nothing answers (the commands
  must say so, not crash) and in a throwaway folder.
* Hostile output: build, verify, test, base and run with the library call replaced by one that
  emits rich markup, emoji codes, ANSI/OSC escapes, control characters, lone surrogates
  (undecodable bytes), invalid UTF-8 and very long lines, then succeeds or fails.

Every example must end with a documented exit code (README table), no traceback, no escape
character from the input on the terminal, and a line saying what went wrong when it failed.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reprobox import errors
from reprobox.cli import main as cli_main
from reprobox.cli.main import cli
from tests.conftest import TASKS_APP

DOCUMENTED = {0, 1, 2, 3, 124, 125, 130, 137}
NO_ENGINE = "unix:///nonexistent/reprobox-fuzz.sock"
# Commands fuzzed by command line; mcp serves stdin until it closes (its options are run's).
COMMANDS = [name for name in cli_main.COMMANDS if name != "mcp"]
EXAMPLES = {"command_line": 1400, "build": 250, "test": 200, "run": 300, "base": 100, "verify": 150}
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)

FRAGMENTS = [
    "[",
    "]",
    "[/",
    "[bold]",
    "[/bold]",
    "[/usr/share/doc]",
    "[link=file:///etc]x[/link]",
    ":smile:",
    "\x1b[91m",
    "\x1b[0m",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "\r",
    "\x00",
    "\x07",
    "\t",
    "\udcff",
    "\udc80",
    "é",
    "日本",
    "%s",
    "{}",
    "--",
    "-",
    "=",
    "x" * 10_000,
]
hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join),
)
hostile_bytes = st.one_of(
    st.binary(max_size=200),
    hostile_text.map(lambda t: t.encode("utf-8", "surrogateescape")),
    st.just(b"\xff\xfe invalid utf-8 \xc3\x28\n"),
)
IMAGES = [
    "",
    "UPPER",
    "a:b:c",
    "x@sha256:00",
    "[/red]",
    "\x1b[31mred",
    "ok:latest",
    "reprobox/python:3.11-bookworm",
    ":",
    "a" * 300,
    "é",
    "--image",
    "localhost:5000/a/b:c",
    "docker-archive:/nonexistent.tar",
    "oci-archive:missing",
]


def _make_pool(root: Path) -> dict[str, Path]:
    """The paths a fuzzed command line may name (fresh for every example)."""
    app = root / "app"
    shutil.copytree(TASKS_APP, app, ignore=shutil.ignore_patterns("__pycache__", "tasks.json"))
    (root / "file.txt").write_text("not a folder\n")
    unreadable = root / "unreadable" / "Dockerfile"
    unreadable.parent.mkdir()
    unreadable.write_bytes(b"FROM \xff\xfe[/bold]\nRUN echo '[/usr/share/doc]'\n")
    unreadable.chmod(0)
    (root / "dir-dockerfile" / "Dockerfile").mkdir(parents=True)
    loop = root / "loop"
    loop.mkdir()
    (loop / "Dockerfile").symlink_to(loop / "Dockerfile")
    (root / "empty").mkdir()
    return {
        "app": app,
        "file": root / "file.txt",
        "missing": root / "missing",
        "unreadable": unreadable.parent,
        "unreadable-file": unreadable,
        "dir-dockerfile": root / "dir-dockerfile",
        "loop": loop,
        "empty": root / "empty",
        "dev-null": Path("/dev/null"),
    }


@contextlib.contextmanager
def _pool() -> Iterator[dict[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="reprobox-fuzz-") as work:
        root = Path(work)
        try:
            with contextlib.chdir(root):
                yield _make_pool(root)
        finally:
            for path in root.rglob("*"):
                with contextlib.suppress(OSError):
                    if not path.is_symlink():
                        path.chmod(0o700)


def _value(option: click.Option, pool: dict[str, Path]) -> st.SearchStrategy[str]:
    """Mostly values of the right kind (so parsing passes and the command runs), sometimes junk."""
    paths = st.sampled_from(sorted(pool)).map(lambda key: str(pool[key]))
    if isinstance(option.type, click.Choice):
        valid: st.SearchStrategy[str] = st.sampled_from(list(option.type.choices))
    elif isinstance(option.type, click.types.IntParamType | click.types.FloatParamType):
        numbers = st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=True))
        valid = numbers.map(str)
    elif isinstance(option.type, click.Path):
        valid = paths
    else:
        valid = st.one_of(st.sampled_from(IMAGES), paths, st.sampled_from(["K=V", "RBX1102"]))
    return st.one_of(valid, valid, valid, hostile_text)


def _argument(command: click.Command, pool: dict[str, Path]) -> st.SearchStrategy[list[str]]:
    options = [p for p in command.params if isinstance(p, click.Option)]
    paths = st.sampled_from(sorted(pool)).map(lambda key: str(pool[key]))
    pieces: list[st.SearchStrategy[list[str]]] = [
        st.one_of(paths, st.sampled_from(IMAGES), hostile_text).map(lambda v: [v]),
        st.just(["--"]),
        st.sampled_from(["-h", "--json", "--explain", "-r", "--nope", "-x"]).map(lambda v: [v]),
    ]
    for option in options:
        names = [*option.opts, *option.secondary_opts]
        if option.is_flag or option.count:
            pieces.append(st.sampled_from(names).map(lambda n: [n]))
        else:
            pieces.append(
                st.tuples(st.sampled_from(option.opts), _value(option, pool)).map(
                    lambda pair: [pair[0], pair[1]]
                )
            )
    # A real command line cannot hold NUL (execve takes C strings); undecodable bytes arrive
    # as lone surrogates and stay.
    return st.lists(st.one_of(pieces), max_size=7).map(
        lambda chunks: [a.replace("\x00", "") for a in itertools.chain.from_iterable(chunks)]
    )


def _check(result: Result, hostile: bool = False, own_code: int | None = None) -> None:
    """``own_code``: the command passes a code through (``test``: the suite's)."""
    shown = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {str(result.exception)[:300]}\n{shown[-300:]}"
    )
    if own_code is not None:
        assert result.exit_code == own_code, shown
        return
    assert result.exit_code in DOCUMENTED, shown[-300:]
    assert "Traceback" not in shown, shown[-2000:]
    if hostile:
        assert "\x1b" not in shown and "\x07" not in shown, repr(shown[-500:])
    if result.exit_code in (2, 3, 125):
        assert "error" in shown.lower(), shown[-300:]


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, catch_exceptions=True)


@settings(FUZZ, max_examples=EXAMPLES["command_line"])
@given(data=st.data(), name=st.sampled_from(COMMANDS))
def test_random_command_lines_end_with_a_documented_code(data: st.DataObject, name: str) -> None:
    command = cli_main.load(name)
    with _pool() as pool:
        argv = data.draw(_argument(command, pool), label="argv")
        result = _invoke(["--host", NO_ENGINE, name, *argv])
        event(f"{name} exit {result.exit_code}")
        _check(result)


# --- hostile output ---------------------------------------------------------------------


class _Engine:
    def close(self) -> None:
        pass


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands get a stand-in engine: the library calls below are fakes."""
    from reprobox.cli import common

    monkeypatch.setattr(common, "engine_from", lambda ctx, lite=False: _Engine())
    for module in ("build", "base"):
        mod = __import__(f"reprobox.cli.{module}", fromlist=["engine_from"])
        monkeypatch.setattr(mod, "engine_from", lambda ctx, lite=False: _Engine())


def _failure(kind: int, message: str, tail: list[str]) -> BaseException | None:
    return [
        None,
        errors.BuildFailed(message, message, tuple(tail)),
        errors.EngineError(message, message),
        KeyboardInterrupt(),
    ][kind]


def _emitting(lines: list[str], failure: BaseException | None, result: Any) -> Callable[..., Any]:
    def fake(*args: Any, **kwargs: Any) -> Any:
        progress = next((a for a in reversed(args) if callable(a)), None)
        progress = kwargs.get("progress", progress)
        for line in lines:
            if progress is not None:
                progress(line)
        if failure is not None:
            raise failure
        return result

    return fake


outcome = st.tuples(
    st.lists(hostile_text, max_size=8),
    st.integers(0, 3),
    hostile_text,
    st.lists(hostile_text, max_size=5),
)


@settings(FUZZ, max_examples=EXAMPLES["build"])
@given(case=outcome)
def test_build_prints_hostile_output_literally(
    case: tuple[list[str], int, str, list[str]], monkeypatch: pytest.MonkeyPatch, no_engine: None
) -> None:
    from reprobox.build.builder import BuildResult
    from reprobox.cli import build as build_cli

    lines, kind, message, tail = case
    done = BuildResult("sha256:" + "0" * 64, "app:latest", 1 << 20, 1.0, 0, "default", "")
    monkeypatch.setattr(build_cli, "build", _emitting(lines, _failure(kind, message, tail), done))
    with _pool() as pool:
        _check(_invoke(["build", str(pool["app"])]), hostile=True)


@settings(FUZZ, max_examples=EXAMPLES["verify"])
@given(case=outcome)
def test_verify_prints_hostile_output_literally(
    case: tuple[list[str], int, str, list[str]], monkeypatch: pytest.MonkeyPatch, no_engine: None
) -> None:
    from reprobox.cli import build as build_cli

    lines, kind, message, tail = case
    failure = _failure(kind, message, tail) or errors.BuildFailed(message, None, tuple(tail))
    monkeypatch.setattr(build_cli, "verify", _emitting(lines, failure, None))
    with _pool() as pool:
        _check(_invoke(["verify", str(pool["app"])]), hostile=True)


@settings(FUZZ, max_examples=EXAMPLES["test"])
@given(
    lines=st.lists(hostile_text, max_size=6),
    chunks=st.lists(hostile_bytes, max_size=6),
    code=st.sampled_from([0, 1, 2, 5, 124, 137]),
    image=st.sampled_from(IMAGES),
)
def test_test_prints_hostile_suite_output(
    lines: list[str],
    chunks: list[bytes],
    code: int,
    image: str,
    monkeypatch: pytest.MonkeyPatch,
    no_engine: None,
) -> None:
    from reprobox.cli import build as build_cli
    from reprobox.suite.runner import TestResult

    def fake(engine: Any, spec: Any, output: Any, progress: Any) -> TestResult:
        for line in lines:
            progress(line)
        for chunk in chunks:
            output(chunk)
        return TestResult(code, image, ("python", "-m", "unittest"), 1.0)

    monkeypatch.setattr(build_cli, "run_tests", fake)
    with _pool() as pool:
        result = _invoke(["test", str(pool["app"])])
    _check(result, own_code=code)
    assert "Traceback" not in result.output


@settings(FUZZ, max_examples=EXAMPLES["run"])
@given(
    chunks=st.lists(st.tuples(st.sampled_from(["stdout", "stderr"]), hostile_bytes), max_size=6),
    code=st.integers(0, 255),
    timed_out=st.booleans(),
    oom=st.booleans(),
    as_json=st.booleans(),
)
def test_run_passes_hostile_command_output_and_its_code(
    chunks: list[tuple[str, bytes]],
    code: int,
    timed_out: bool,
    oom: bool,
    as_json: bool,
    monkeypatch: pytest.MonkeyPatch,
    no_engine: None,
) -> None:
    from reprobox.sandbox import command
    from reprobox.sandbox.result import OutputChunk, RunResult, Stream

    def fake(engine: Any, request: Any, on_output: Any = None) -> RunResult:
        for stream, data in chunks:
            if on_output is not None:
                on_output(OutputChunk(Stream(stream), data))
        out = b"".join(d for s, d in chunks if s == "stdout")
        err = b"".join(d for s, d in chunks if s == "stderr")
        return RunResult(code, out, err, 0.1, timed_out, oom)

    monkeypatch.setattr(command, "run_request", fake)
    args = ["run", "--image", "img", *(["--json"] if as_json else []), "--", "true"]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    expected = 124 if timed_out else 137 if oom else code
    assert result.exit_code == expected, result.output


@settings(FUZZ, max_examples=EXAMPLES["base"])
@given(case=outcome)
def test_base_prints_hostile_debootstrap_output_literally(
    case: tuple[list[str], int, str, list[str]], monkeypatch: pytest.MonkeyPatch, no_engine: None
) -> None:
    from reprobox.base.build import BaseImageResult
    from reprobox.cli import base as base_cli

    lines, kind, message, _ = case
    failure = [None, errors.BaseImageError(message, message), KeyboardInterrupt(), None][kind]
    done = BaseImageResult(
        "reprobox/python:3.11-bookworm", "sha256:" + "0" * 64, 1, False, "3.11", 1.0
    )
    monkeypatch.setattr(base_cli, "build_base", _emitting(lines, failure, done))
    _check(_invoke(["base"]), hostile=True)


def test_the_fuzz_runs_at_least_2000_examples() -> None:
    assert sum(EXAMPLES.values()) >= 2000
    assert os.environ.get("HYPOTHESIS_PROFILE") in (None, "", "default")
