"""``reprobox pin`` as one library call: Dockerfiles in, a report out, files rewritten safely.

Every base image is resolved before anything is written; a file is rewritten only when all of
its images resolved, atomically (a temporary file in the same folder, then a rename), and only
the digest is added: every other byte stays as it was. An image already pinned is checked (the
repository still serves that digest) and kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reprobox import errors
from reprobox.dockerfile import Span, parse
from reprobox.pin.reference import Reference
from reprobox.pin.sites import Site, apply, sites, with_digest


class Resolver(Protocol):
    """Where digests come from: a registry's HTTP API, or the local engine (``--local``)."""

    def digest(self, ref: Reference) -> str: ...

    def has(self, ref: Reference, digest: str) -> bool: ...


@dataclass(frozen=True)
class Pinned:
    """One base image pinned (or, with ``--check``, to pin): ``line`` is its ``FROM``."""

    line: int
    image: str
    digest: str
    via: str


@dataclass(frozen=True)
class Problem:
    """A base image that could not be pinned or verified (``line`` is its ``FROM``)."""

    line: int
    message: str
    could_not_ask: bool  # True: the registry could not answer (exit 3); False: a finding (1)


@dataclass(frozen=True)
class FileReport:
    path: str
    pinned: tuple[Pinned, ...]
    verified: tuple[str, ...]
    skipped: tuple[str, ...]
    problems: tuple[Problem, ...]
    written: bool


@dataclass(frozen=True)
class PinReport:
    files: tuple[FileReport, ...]
    check: bool

    @property
    def could_not_ask(self) -> bool:
        return any(p.could_not_ask for f in self.files for p in f.problems)

    @property
    def findings(self) -> bool:
        """Something is (or, with ``--check``, would be) unpinned, or a pin is stale."""
        pending = self.check and any(f.pinned for f in self.files)
        return pending or any(not p.could_not_ask for f in self.files for p in f.problems)


def dockerfile_paths(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """The Dockerfiles named (a folder means its ``Dockerfile``; none means ``./Dockerfile``)."""
    found = []
    for path in paths or (Path("Dockerfile"),):
        file = path / "Dockerfile" if path.is_dir() else path
        if not file.is_file():
            raise errors.UsageError(f"no Dockerfile at {file}")
        found.append(file)
    return tuple(found)


def pin_paths(paths: tuple[Path, ...], resolver: Resolver, check: bool = False) -> PinReport:
    """Pin every base image of every Dockerfile in ``paths``; with ``check``, write nothing."""
    return PinReport(tuple(pin_file(p, resolver, check) for p in dockerfile_paths(paths)), check)


def pin_file(path: Path, resolver: Resolver, check: bool = False) -> FileReport:
    text = _read(path)
    dockerfile = parse(text, str(path))
    if dockerfile.problems:
        problem = dockerfile.problems[0]
        raise errors.UsageError(f"{path}:{problem.line}: {problem.message}")
    found, unpinnable = sites(dockerfile)
    edits: dict[Span, str] = {}
    pinned, verified, problems = [], [], []
    for site in found:
        try:
            outcome = _resolve(site, resolver)
        except errors.ReproboxError as exc:
            problems.append(Problem(site.line, exc.message, isinstance(exc, errors.RegistryError)))
            continue
        if isinstance(outcome, str):
            verified.append(outcome)
        elif site.span is not None:
            edits[site.span] = with_digest(site.written, outcome.digest)
            pinned.append(outcome)
    skipped = tuple(f"line {u.line}: {u.reason}" for u in unpinnable)
    write = bool(edits) and not problems and not check
    if write:
        _write(path, _checked(text, edits, pinned, str(path)))
    return FileReport(str(path), tuple(pinned), tuple(verified), skipped, tuple(problems), write)


def _resolve(site: Site, resolver: Resolver) -> Pinned | str:
    """A pin to write, or (already pinned and still served) the image as verified."""
    ref = Reference.parse(site.image)
    if ref.digest is not None:
        if not resolver.has(ref, ref.digest):
            raise errors.ReproboxError(
                f"{site.image}: the pinned digest is no longer served by {ref.api_host}"
            )
        return site.image
    if site.span is None:
        raise errors.ReproboxError(f"cannot find where {site.image} is written on this line")
    return Pinned(site.line, site.image, resolver.digest(ref), site.via)


def _checked(text: str, edits: dict[Span, str], pinned: list[Pinned], path: str) -> str:
    """The rewritten text, after proving it parses to the images it should pin."""
    new = apply(text, edits)
    images = {s.line: s.image.raw for s in parse(new, path).stages}
    for pin in pinned:
        if images.get(pin.line) != f"{pin.image}@{pin.digest}":
            raise errors.ReproboxError(
                f"{path}:{pin.line}: rewriting {pin.image} went wrong; the file was left as it was"
            )
    return new


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.UsageError(f"{path} is not UTF-8 text") from exc
    except OSError as exc:
        raise errors.ReproboxError(f"cannot read {path}: {exc.strerror}") from exc


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically, keeping its permissions."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
        shutil.copymode(path, temp)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise errors.ReproboxError(f"cannot write {path}: {exc.strerror}") from exc
