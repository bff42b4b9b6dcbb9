"""What every command shares: the error boundary, exit codes and the consoles."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console

from reprobox import errors
from reprobox.engine import Engine, connect
from reprobox.exitcodes import ExitCode, for_error

P = ParamSpec("P")
R = TypeVar("R")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(error: BaseException) -> NoReturn:
    """Print a one-line error (and a hint) on stderr and exit with the documented code."""
    message = error.message if isinstance(error, errors.ReproboxError) else str(error)
    click.echo(f"error: {message}", err=True)
    hint = getattr(error, "hint", None)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(int(for_error(error)))


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command body, turning reprobox errors and Ctrl-C into exit codes."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except errors.ReproboxError as exc:
            fail(exc)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper


def engine_from(ctx: click.Context) -> Engine:
    """The engine for this invocation (``--host`` or ``DOCKER_HOST``), connected once."""
    root = ctx.find_root()
    cached = root.meta.get("reprobox.engine")
    if cached is None:
        cached = connect(root.params.get("host"))
        root.meta["reprobox.engine"] = cached
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
    click.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=True))
