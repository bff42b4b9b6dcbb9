"""The typed facade over the docker SDK that the rest of reprobox talks to.

Importing it does not import the SDK: :func:`connect` does, unless it is asked for the
stdlib client of :mod:`reprobox.engine.lite` (the CLI's one-shot run).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reprobox import errors
from reprobox.engine import client as _client

if TYPE_CHECKING:
    import docker

    from reprobox.engine.api import ContainerAPI
    from reprobox.engine.flavour import Flavour
    from reprobox.engine.info import EngineInfo
    from reprobox.engine.lite import LiteClient


@dataclass(frozen=True)
class ImageSummary:
    id: str
    tags: tuple[str, ...]
    size_bytes: int
    labels: dict[str, str]


@dataclass(frozen=True)
class SweepReport:
    containers: tuple[str, ...]
    images: tuple[str, ...]
    volumes: tuple[str, ...]
    networks: tuple[str, ...]


class Engine:
    """A connection to one engine. Create with :func:`connect`.

    ``api`` is the box calls (:class:`~reprobox.engine.api.ContainerAPI`) of the connection's
    client, the docker SDK's or the stdlib lite client's (:mod:`reprobox.engine.lite`): one
    typed interface, so mypy checks the lite path as it checks the SDK's. ``raw`` is the
    docker SDK client, for everything else (images, builds, info); only modules inside
    ``reprobox.engine`` may use it, and a lite connection has none (``lite`` is true).
    """

    def __init__(self, client: docker.DockerClient | LiteClient, url: str) -> None:
        self._client = client
        self.url = url
        self._flavour: Flavour | None = None

    @property
    def lite(self) -> bool:
        """Whether this connection uses the stdlib lite client (box calls only)."""
        from reprobox.engine.lite import LiteClient

        return isinstance(self._client, LiteClient)

    @property
    def api(self) -> ContainerAPI:
        """The box calls, typed alike for the SDK and the lite client."""
        return self._client.api

    @property
    def raw(self) -> docker.DockerClient:
        """The docker SDK client; :class:`errors.EngineError` on a lite connection."""
        from reprobox.engine.lite import LiteClient

        if isinstance(self._client, LiteClient):
            raise errors.EngineError(
                "this needs the docker SDK client, and the connection uses the lite one",
                "connect with reprobox.engine.connect() (without lite=True)",
            )
        return self._client

    def guard(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Translate engine client errors inside the block (for ``reprobox.engine`` modules)."""
        return _client.translated(action, self.url)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- health -----------------------------------------------------------------------------
    def ping(self) -> None:
        with self.guard("ping"):
            self._client.ping()

    def flavour(self) -> Flavour:
        """Which engine this is and what it can give a box (asked once per connection)."""
        if self._flavour is None:
            from reprobox.engine import flavour

            with self.guard("identify the engine"):
                kind, version = flavour.kind_from_server(self._server_header())
                if kind is flavour.EngineKind.DOCKER:
                    self._flavour = flavour.Flavour(kind, version)
                else:
                    found = flavour.from_libpod_info(version, self._libpod_info())
                    self._flavour = flavour.with_delegation(found, self.url.startswith("unix://"))
        return self._flavour

    def _server_header(self) -> str:
        from reprobox.engine.lite import LiteClient

        if isinstance(self._client, LiteClient):
            return self._client.api.server_header()
        api = self._client.api
        return str(api.get(f"{api.base_url}/_ping").headers.get("Server", ""))

    def _libpod_info(self) -> dict[str, Any]:
        from reprobox.engine.lite import LiteClient

        if isinstance(self._client, LiteClient):
            return self._client.api.libpod_info()
        api = self._client.api
        answer = api.get(f"{api.base_url}/v{api.api_version}/libpod/info")
        if answer.status_code != 200:
            raise errors.EngineError(
                f"the engine answered {answer.status_code} to GET /libpod/info",
                status=answer.status_code,
            )
        return cast("dict[str, Any]", answer.json())

    def info(self) -> EngineInfo:
        from reprobox.engine.info import from_api

        with self.guard("read engine info"):
            info = self.raw.info()
            version = self.raw.version()
            networks = [n["Name"] for n in self.raw.api.networks()]
        return from_api(info, version, networks, self.flavour(), local=self.url.startswith("unix:"))

    # --- images -----------------------------------------------------------------------------
    def image(self, ref: str) -> ImageSummary | None:
        """The image ``ref`` names, or ``None`` when the engine does not have it."""
        try:
            with self.guard(f"inspect image {ref}"):
                data = self.api.inspect_image(ref)
        except errors.ImageNotFound:
            return None
        except errors.EngineError as exc:
            if exc.status == 404:
                return None
            raise
        return ImageSummary(
            id=str(data["Id"]),
            tags=tuple(data.get("RepoTags") or ()),
            size_bytes=int(data.get("Size", 0)),
            labels=dict((data.get("Config") or {}).get("Labels") or {}),
        )

    def require_image(self, ref: str, hint: str) -> ImageSummary:
        found = self.image(ref)
        if found is None:
            raise errors.ImageNotFound(f"image {ref} is not on this engine", hint)
        return found

    def import_rootfs(self, tarball: Path, ref: str, changes: tuple[str, ...]) -> str:
        """``docker import`` a root filesystem tarball as ``ref``; returns the image ID."""
        repository, _, tag = ref.rpartition(":")
        if not repository or "/" in tag:
            repository, tag = ref, "latest"
        with self.guard(f"import {tarball} as {ref}"):
            self.raw.api.import_image_from_file(
                str(tarball), repository=repository, tag=tag, changes=list(changes)
            )
        return self.require_image(ref, "the import reported success but left no image").id

    def remove_image(self, ref: str, force: bool = True) -> None:
        with contextlib.suppress(errors.ImageNotFound), self.guard(f"remove image {ref}"):
            self.raw.api.remove_image(ref, force=force)

    # --- leftovers --------------------------------------------------------------------------
    def sweep(self, session: str | None = None, only_dead: bool = False) -> SweepReport:
        """Remove reprobox resources (of ``session``, or every session; with ``only_dead``,
        only those whose creating process on this host has exited)."""
        from reprobox.engine.sweep import sweep

        return sweep(self, session, only_dead)


def connect(
    base_url: str | None = None, timeout: float = 120, lite: bool = False, lookup: bool = False
) -> Engine:
    """Connect to the engine at ``base_url`` (default ``DOCKER_HOST`` or the local socket).

    ``lite`` asks for the stdlib client of :mod:`reprobox.engine.lite`, which serves only
    one-shot runs (create, attach, start, wait, inspect, kill, remove); it is used when the
    engine is a local Unix socket speaking a recent enough API, else the docker SDK is.
    ``lite`` with ``lookup`` is for :meth:`Engine.image` only (the oci backend's image by
    name): no version is negotiated first, so a lookup is one request, answered at the
    engine's own API version."""
    url = _client.engine_url(base_url)
    if lite and url.startswith("unix://"):
        from reprobox.engine import lite as _lite

        with _client.translated("connect", url):
            raw = _lite.open_client(url, timeout, negotiate=not lookup)
        if raw is not None:
            return Engine(raw, url)
    return Engine(_client.open_client(url, timeout), url)
