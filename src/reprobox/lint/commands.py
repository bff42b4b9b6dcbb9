"""Recognisers for the shell commands rules care about (pip, apt, package managers).

Pure functions over :class:`~reprobox.dockerfile.shell.ShellCommand`; no rule state lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from reprobox.dockerfile import Dockerfile, Instruction, Stage
from reprobox.dockerfile.shell import ShellCommand

_PIP = frozenset({"pip", "pip3", "pip2"})
_PYTHON_PREFIX = "python"
# Options of `pip install` (and `uv pip install`) that take the next word as their value: a
# value is never a requirement ("--root-user-action ignore" installs no package "ignore").
_VALUE_OPTIONS = frozenset(
    {
        # pip install
        "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
        "--platform", "--python-version", "--implementation", "--abi", "--root", "--prefix",
        "--src", "--upgrade-strategy", "-C", "--config-settings", "--global-option",
        "--build-option", "--install-option", "--root-user-action", "--report",
        "--no-binary", "--only-binary", "--progress-bar", "-i", "--index-url",
        "--extra-index-url", "-f", "--find-links", "--group",
        # pip's general options
        "--python", "--log", "--log-file", "--local-log", "--proxy", "--retries", "--timeout",
        "--exists-action", "--trusted-host", "--cert", "--client-cert", "--cache-dir",
        "--use-feature", "--use-deprecated", "--keyring-provider", "--resume-retries",
        # uv pip install
        "-p", "--extra", "--index", "--default-index", "--index-strategy", "--resolution",
        "--prerelease", "--link-mode", "--exclude-newer", "--override", "--overrides",
        "--constraints", "--build-constraints", "-P", "--upgrade-package",
        "--reinstall-package", "--no-build-isolation-package", "--python-platform",
        "--torch-backend", "--refresh-package", "--config-file", "--directory", "--project",
    }
)  # fmt: skip
_LOCAL_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tgz")
_VCS = ("git+", "hg+", "svn+", "bzr+")
_COMMIT = re.compile(r"@([0-9a-f]{40}|[0-9a-f]{64})(?:[#&]|$)")
_MOUNT_TYPES_OUT_OF_LAYER = ("cache", "tmpfs", "bind")


@dataclass(frozen=True)
class PipInstall:
    """A ``pip install`` (or ``python -m pip install``, ``uv pip install``) command."""

    command: ShellCommand
    requirements: tuple[str, ...]
    requirement_files: tuple[str, ...]
    options: tuple[str, ...]

    def has(self, *options: str) -> bool:
        return self.command.has(*options)


def pip_argv(command: ShellCommand) -> tuple[str, ...] | None:
    """The words after ``pip`` for any spelling of pip, else None."""
    argv = command.argv
    if not argv:
        return None
    program = argv[0].rsplit("/", 1)[-1]
    if program in _PIP:
        return argv[1:]
    if program.startswith(_PYTHON_PREFIX) and argv[1:3] == ("-m", "pip"):
        return argv[3:]
    if program == "uv" and argv[1:2] == ("pip",):
        return argv[2:]
    return None


def pip_install(command: ShellCommand) -> PipInstall | None:
    """The parsed ``pip install`` command, or None when ``command`` is something else."""
    memo = command.memo
    if "pip" not in memo:
        memo["pip"] = _pip_install(command)
    return cast(PipInstall | None, memo["pip"])


def _pip_install(command: ShellCommand) -> PipInstall | None:
    rest = pip_argv(command)
    if not rest or rest[0] != "install":
        return None
    requirements: list[str] = []
    files: list[str] = []
    options: list[str] = []
    words = rest[1:]
    i = 0
    while i < len(words):
        word = words[i]
        if word in _VALUE_OPTIONS and i + 1 < len(words):
            if word in ("-r", "--requirement"):
                files.append(words[i + 1])
            options.append(word)
            i += 2
            continue
        if word.startswith("--requirement="):
            files.append(word.partition("=")[2])
        if word.startswith("-"):
            options.append(word)
        else:
            requirements.append(word)
        i += 1
    return PipInstall(command, tuple(requirements), tuple(files), tuple(options))


def is_local(requirement: str) -> bool:
    """True for a path, archive or URL requirement (pinned by other means, or local).

    pip reads any argument with a ``/`` (or starting with ``.``) as a path or URL, never as a
    package name. VCS requirements are not local: see :func:`vcs_unpinned`.
    """
    if vcs_url(requirement) is not None:
        return False
    return (
        requirement.startswith((".", "$", "file:"))
        or "/" in requirement
        or requirement.endswith(_LOCAL_SUFFIXES)
        or "@" in requirement
    )


def vcs_url(requirement: str) -> str | None:
    """The ``vcs+scheme://...`` URL of a VCS requirement (also ``name @ git+...``), else None."""
    text = requirement.strip()
    if text.lower().startswith(_VCS):
        return text
    _, at, rest = text.partition("@")
    rest = rest.strip()
    return rest if at and rest.lower().startswith(_VCS) else None


def vcs_unpinned(requirement: str) -> bool:
    """True for a VCS requirement not pinned to a full commit hash (a branch or tag moves)."""
    url = vcs_url(requirement)
    return url is not None and _COMMIT.search(url.split("://", 1)[-1]) is None


def is_pinned(requirement: str) -> bool:
    """True when a requirement names one exact version (``==x`` without ``*``, or ``===``)."""
    spec = requirement.split(";", 1)[0]
    if "===" in spec:
        return True
    if "==" not in spec or "*" in spec:
        return False
    return not any(op in spec for op in (">", "<", "~=", "!=", ","))


def apt_action(command: ShellCommand) -> str | None:
    """The ``apt-get``/``apt`` subcommand (``install``, ``update``...), or None."""
    memo = command.memo
    if "apt" not in memo:
        memo["apt"] = _apt_action(command)
    return cast(str | None, memo["apt"])


def _apt_action(command: ShellCommand) -> str | None:
    argv = command.argv
    if not argv or argv[0].rsplit("/", 1)[-1] not in ("apt-get", "apt", "aptitude"):
        return None
    for word in argv[1:]:
        if not word.startswith("-"):
            return word
    return None


def installs_packages(command: ShellCommand) -> tuple[str, ...]:
    """The package names an apt/apk/yum/dnf install command installs."""
    argv = command.argv
    if not argv:
        return ()
    program = argv[0].rsplit("/", 1)[-1]
    verbs = {"apt-get": "install", "apt": "install", "apk": "add", "yum": "install",
             "dnf": "install", "microdnf": "install"}  # fmt: skip
    verb = verbs.get(program)
    if verb is None or verb not in argv[1:]:
        return ()
    after = argv[argv.index(verb) + 1 :]
    return tuple(w.split("=", 1)[0] for w in after if not w.startswith(("-", "=")))


def stage_env(stage: Stage, before_line: int, globals_: dict[str, str]) -> dict[str, str]:
    """The ``ENV``/``ARG`` names set in ``stage`` before ``before_line`` (plus global ARGs)."""
    values = dict(globals_)
    for instr in stage.instructions:
        if instr.line >= before_line:
            break
        for name, value in instr.pairs if instr.cmd in ("ENV", "ARG") else ():
            values[name] = value
    return values


def inherited_env(
    dockerfile: Dockerfile, instr: Instruction, globals_: dict[str, str] | None = None
) -> dict[str, str]:
    """What a ``RUN`` sees: the ``ENV`` of every stage it builds on (``FROM <stage>``), then
    its own stage's ``ENV`` and ``ARG`` before it."""
    values = dict(globals_ or {})
    if not 0 <= instr.stage < len(dockerfile.stages):
        return values
    stage = dockerfile.stages[instr.stage]
    for ancestor in reversed(_ancestors(dockerfile, stage)):
        for env in ancestor.instructions:
            values.update(env.pairs if env.cmd == "ENV" else ())
    values.update(stage_env(stage, instr.line, {}))
    return values


def _ancestors(dockerfile: Dockerfile, stage: Stage) -> list[Stage]:
    """The stages ``stage`` builds on, nearest first (parents always come earlier)."""
    found: list[Stage] = []
    parent = stage.parent_stage
    while parent is not None and parent < (found[-1].index if found else stage.index):
        found.append(dockerfile.stages[parent])
        parent = found[-1].parent_stage
    return found


def mount_targets(instr: Instruction) -> tuple[str, ...]:
    """The targets of ``RUN --mount`` cache, tmpfs and bind mounts: what is written there
    never reaches the layer."""
    targets: list[str] = []
    for flag in instr.flags:
        if not flag.startswith("--mount="):
            continue
        options = dict(_option(part) for part in flag[len("--mount=") :].split(","))
        target = options.get("target") or options.get("dst") or options.get("destination")
        if target and options.get("type", "bind") in _MOUNT_TYPES_OUT_OF_LAYER:
            targets.append(target.rstrip("/") or "/")
    return tuple(targets)


def _option(part: str) -> tuple[str, str]:
    key, _, value = part.partition("=")
    return key.strip().lower(), value.strip().strip("\"'")


def mounted(instr: Instruction, path: str) -> bool:
    """True when a ``RUN --mount`` (cache, tmpfs, bind) covers ``path`` or a folder above it."""
    return any(path == t or path.startswith(t.rstrip("/") + "/") for t in mount_targets(instr))


def copy_sources(instr: Instruction) -> tuple[str, ...]:
    """The context sources of a ``COPY``/``ADD`` (none for ``--from``, heredocs or URLs)."""
    if instr.cmd not in ("COPY", "ADD") or instr.flag("from") is not None:
        return ()
    sources = instr.args[:-1]
    return tuple(s for s in sources if not s.startswith(("<<", "http://", "https://", "git@", "$")))


def normalise(source: str) -> str:
    """A COPY source as a context-relative path (``./a/`` -> ``a``, ``.`` -> ``""``)."""
    path = source.strip()
    while path.startswith("./"):
        path = path[2:]
    path = path.strip("/")
    return "" if path in (".", "*") else path


def covers(source: str, relpath: str) -> bool:
    """True when COPY ``source`` sends the context path ``relpath`` into the image."""
    from fnmatch import fnmatchcase

    path = normalise(source)
    if not path:
        return True
    if relpath == path or relpath.startswith(path + "/"):
        return True
    return fnmatchcase(relpath, path) or fnmatchcase(relpath.split("/", 1)[0], path)


def copy_line(instructions: tuple[Instruction, ...], relpath: str) -> int | None:
    """The line of the first ``COPY``/``ADD`` that copies ``relpath`` into an image."""
    for instr in instructions:
        if any(covers(source, relpath) for source in copy_sources(instr)):
            return instr.line
    return None
