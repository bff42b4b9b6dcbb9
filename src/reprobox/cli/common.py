"""What every command shares: the error boundary, exit codes and the consoles.

The consoles ``out`` and ``err`` (rich) and the engine load on first use, so a command that
prints plain text does not import rich and one that needs no engine does not connect.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from reprobox import errors
from reprobox.exitcodes import ExitCode, for_error

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from reprobox.engine import Engine

    out: Console
    err: Console

# Terminal escape sequences (CSI such as colours, OSC such as titles, two-byte ESC forms) and
# the control characters a terminal would act on; tabs and newlines stay.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

P = ParamSpec("P")
R = TypeVar("R")


def __getattr__(name: str) -> Any:
    """``out`` (stdout) and ``err`` (stderr): rich consoles, created on first use."""
    if name not in ("out", "err"):
        raise AttributeError(f"module 'reprobox.cli.common' has no attribute {name!r}")
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            if not self.stderr:
                reader_gone()  # rich's own exits 1, the code that means findings here
            super().on_broken_pipe()

    console = _Console(stderr=name == "err", highlight=False, soft_wrap=True)
    globals()[name] = console
    return console


def plain(text: str) -> str:
    """``text`` from outside reprobox (build or command output, engine messages) without
    terminal escape sequences, control characters or undecodable bytes (lone surrogates), so it
    cannot drive the terminal nor fail to print."""
    printable = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    return _CONTROLS.sub("", _ESCAPES.sub("", printable))


def literal(text: str, style: str = "") -> Text:
    """``text`` from outside reprobox as rich prints it literally: :func:`plain`, and never
    read as markup (``[/usr/share/doc]``) or emoji codes (``:smile:``)."""
    from rich.text import Text

    return Text(plain(text), style=style)


def os_error(exc: OSError) -> errors.ReproboxError:
    """An operating-system error that reached the CLI, as one line (exit 3)."""
    where = f"{exc.filename}: " if exc.filename else ""
    return errors.ReproboxError(
        f"{where}{exc.strerror or exc}", "check the paths and permissions on the command line"
    )


def fail(error: BaseException, code: int | None = None) -> NoReturn:
    """Print a one-line error (and a hint) on stderr and exit with ``code``, by default the
    documented code for the error."""
    message = error.message if isinstance(error, errors.ReproboxError) else str(error)
    click.echo(f"error: {plain(message)}", err=True)
    hint = getattr(error, "hint", None)
    if hint:
        click.echo(f"hint: {plain(hint)}", err=True)
    sys.exit(int(for_error(error) if code is None else code))


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command body, turning reprobox errors and Ctrl-C into exit codes."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except errors.ReproboxError as exc:
            fail(exc)
        except OSError as exc:  # a path the library did not expect (name too long, a loop)
            quiet_if_reader_gone(exc)
            fail(os_error(exc))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper


def stdout_gone() -> bool:
    """True when stdout is a pipe (or socket) whose reader has closed it."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(mask & (select.POLLERR | select.POLLHUP) for _, mask in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's buffer)
        return False


def quiet_if_reader_gone(exc: OSError) -> None:
    """Exit quietly (141) if ``exc`` is stdout's reader having left; else return."""
    if isinstance(exc, BrokenPipeError) and stdout_gone():
        reader_gone()


def reader_gone() -> NoReturn:
    """Leave quietly, as a tool killed by SIGPIPE does (exit 141), when the reader of stdout
    left early (``reprobox rules | head -1``). Stdout is pointed at /dev/null first, so the
    final flush of what is still buffered cannot fail again (Python's documented recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(int(ExitCode.READER_GONE))


def engine_from(ctx: click.Context, lite: bool = False) -> Engine:
    """The engine for this invocation (``--host`` or ``DOCKER_HOST``), connected once.
    ``lite`` (the run command's one-shot path only) asks for the stdlib engine client."""
    from reprobox.engine import Engine, connect

    root = ctx.find_root()
    key = "reprobox.engine.lite" if lite else "reprobox.engine"
    cached = root.meta.get(key)
    if cached is None:
        cached = connect(root.params.get("host"), lite=lite)
        root.meta[key] = cached
        root.call_on_close(cached.close)
    assert isinstance(cached, Engine)
    return cached


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, tuples and bytes as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def print_json(value: Any) -> None:
    import json

    click.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=True))
