"""What a build of a Dockerfile needs from the engine, or a usage error saying what is wrong.

``reprobox build`` and ``reprobox test`` read the Dockerfile through :func:`read` and ask for
:func:`needed_images` (every base image, checked against the engine before anything starts:
reprobox never pulls) or :func:`final_base` (the image the final stage ultimately starts from).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from reprobox import errors
from reprobox.dockerfile.model import Dockerfile, Stage
from reprobox.dockerfile.parser import parse_path

_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def read(path: Path, build_args: Mapping[str, str]) -> Dockerfile:
    """The Dockerfile at ``path`` with ``build_args`` applied; unparsable is a usage error."""
    if not path.is_file():
        raise errors.UsageError(f"no Dockerfile at {path}")
    try:
        dockerfile = parse_path(path, build_args=build_args)
    except OSError as exc:
        raise errors.UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if dockerfile.problems:
        problem = dockerfile.problems[0]
        raise errors.UsageError(f"{path}:{problem.line}: {problem.message}")
    return dockerfile


def needed_images(dockerfile: Dockerfile) -> tuple[str, ...]:
    """Every image the stages start from (not ``scratch``, not an earlier stage), resolved."""
    return tuple(dict.fromkeys(_resolved(dockerfile, s) for s in dockerfile.base_stages))


def final_base(dockerfile: Dockerfile) -> str | None:
    """The image the final stage ultimately starts from; None for ``scratch``."""
    root = dockerfile.root(dockerfile.stages[-1])
    return None if root.is_scratch else _resolved(dockerfile, root)


def _resolved(dockerfile: Dockerfile, stage: Stage) -> str:
    if stage.image.resolved:
        return stage.image.raw
    match = _VARIABLE.search(stage.image.raw)
    name = match.group(1) if match else "?"
    where = f"line {stage.line}: FROM {stage.written} has no value"
    if any(arg.name == name and arg.stage < 0 for arg in dockerfile.args):
        raise errors.UsageError(
            f"{where}: ARG {name} has no default", f"pass --build-arg {name}=IMAGE"
        )
    raise errors.UsageError(
        f"{where}: {name} is not an ARG declared before the first FROM",
        f"declare ARG {name} before the first FROM and pass --build-arg {name}=IMAGE",
    )
