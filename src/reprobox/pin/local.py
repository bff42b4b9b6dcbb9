"""``reprobox pin --local``: digests from the local engine's ``RepoDigests`` only.

An image pulled from (or pushed to) a registry remembers the digest that registry served, per
repository; that is what ``--local`` pins to. Nothing goes over the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from reprobox import errors
from reprobox.engine import Engine
from reprobox.engine.images import inspect_image
from reprobox.pin.reference import Reference


@dataclass
class LocalDigests:
    """Answers like :class:`reprobox.pin.registry.Registry`, from the engine's image store."""

    engine: Engine

    def digest(self, ref: Reference) -> str:
        name = str(ref)
        try:
            data = inspect_image(self.engine, name)
        except errors.ImageNotFound as exc:
            raise errors.TagNotFound(
                f"unknown tag: {name} is not on this engine (pull it, or pin without --local)"
            ) from exc
        for digest in repo_digests(data.get("RepoDigests") or (), ref.repository):
            return digest
        raise errors.TagNotFound(
            f"no registry digest for {name} on this engine: it was built or imported, never "
            "pulled or pushed (pin without --local to ask the registry)"
        )

    def has(self, ref: Reference, digest: str) -> bool:
        try:
            data = inspect_image(self.engine, f"{ref.repository}@{digest}")
        except errors.ImageNotFound:
            return False
        return digest in repo_digests(data.get("RepoDigests") or (), ref.repository)


def repo_digests(entries: object, repository: str) -> list[str]:
    """The digests in ``RepoDigests`` entries (``name@sha256:...``) for ``repository``."""
    found = []
    for entry in entries if isinstance(entries, list | tuple) else ():
        name, _, digest = str(entry).partition("@")
        try:
            same = Reference.parse(name).repository == repository
        except errors.UsageError:
            continue
        if same and digest:
            found.append(digest)
    return found
