"""Which images a Dockerfile builds FROM, with ``ARG`` defaults and ``--build-arg`` applied.

Used to check, before any build or test run, that every base image is already on the engine:
reprobox never pulls, and a classic-builder build of a missing base would try to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import dockerfile

from reprobox import errors

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Stage:
    """One ``FROM``: the image reference as resolved, its ``AS`` name, and its line."""

    image: str
    name: str
    line: int


def substitute(text: str, values: dict[str, str]) -> str:
    """Expand ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` the way a FROM line does."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2)
        value = values.get(name, "")
        return value if value or default is None else default

    return _VAR.sub(replace, text)


def parse_stages(text: str, build_args: dict[str, str]) -> tuple[Stage, ...]:
    """The stages of the Dockerfile ``text`` in order."""
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        raise errors.UsageError(f"cannot parse the Dockerfile: {exc}") from exc
    globals_: dict[str, str] = {}
    stages: list[Stage] = []
    for cmd in commands:
        kind = cmd.cmd.upper()
        if kind == "ARG" and not stages:
            for item in cmd.value:
                key, sep, default = item.partition("=")
                globals_[key] = build_args.get(key, default if sep else "")
        elif kind == "FROM":
            words = [w for w in cmd.value if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(substitute(words[0], globals_), name, cmd.start_line))
    if not stages:
        raise errors.UsageError("the Dockerfile has no FROM instruction")
    return tuple(stages)


def external_images(stages: tuple[Stage, ...]) -> tuple[str, ...]:
    """Images the build needs from the engine (not ``scratch``, not earlier stage names)."""
    seen: list[str] = []
    names: set[str] = set()
    for stage in stages:
        if stage.image != "scratch" and stage.image not in names and stage.image not in seen:
            seen.append(stage.image)
        if stage.name:
            names.add(stage.name)
    return tuple(seen)


def final_base(stages: tuple[Stage, ...]) -> str:
    """The image the final stage ultimately starts from (following ``FROM <stage>``)."""
    by_name = {s.name: s for s in stages if s.name}
    current = stages[-1]
    for _ in range(len(stages)):
        if current.image not in by_name:
            return current.image
        current = by_name[current.image]
    raise errors.UsageError("the Dockerfile's stages refer to each other in a loop")


def read_stages(path: Path, build_args: dict[str, str]) -> tuple[Stage, ...]:
    """Parse the Dockerfile at ``path``; a missing file is a usage error."""
    if not path.is_file():
        raise errors.UsageError(f"no Dockerfile at {path}")
    return parse_stages(path.read_text(encoding="utf-8", errors="replace"), build_args)
