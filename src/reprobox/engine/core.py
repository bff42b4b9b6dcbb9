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

    from reprobox.engine.api import OneShotAPI
    from reprobox.engine.flavour import Flavour
    from reprobox.engine.info import EngineInfo


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

    ``raw`` is the docker SDK client; only modules inside ``reprobox.engine`` may use it.
    With ``lite``, ``raw`` is a :class:`reprobox.engine.lite.LiteClient`, which has only
    what a one-shot run needs (see :mod:`reprobox.engine.lite`). ``api`` is the one-shot
    calls of either client behind one typed interface (:class:`~reprobox.engine.api.OneShotAPI`),
    which the one-shot path uses, so mypy checks the lite client there as it checks the SDK.
    """

    def __init__(
        self,
        raw: docker.DockerClient,
        url: str,
        lite: bool = False,
        api: OneShotAPI | None = None,
    ) -> None:
        self.raw = raw
        self.url = url
        self.lite = lite
        self._api = api
        self._flavour: Flavour | None = None

    @property
    def api(self) -> OneShotAPI:
        """The one-shot calls, typed alike for the SDK and the lite client."""
        return self.raw.api if self._api is None else self._api

    def guard(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Translate engine client errors inside the block (for ``reprobox.engine`` modules)."""
        return _client.translated(action, self.url)

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- health -----------------------------------------------------------------------------
    def ping(self) -> None:
        with self.guard("ping"):
            self.raw.ping()

    def flavour(self) -> Flavour:
        """Which engine this is and what it can give a box (asked once per connection)."""
        if self._flavour is None:
            from reprobox.engine import flavour

            with self.guard("identify the engine"):
                kind, version = flavour.kind_from_server(self._server_header())
                if kind is flavour.EngineKind.DOCKER:
                    self._flavour = flavour.Flavour(kind, version)
                else:
                    self._flavour = flavour.from_libpod_info(version, self._libpod_info())
        return self._flavour

    def _server_header(self) -> str:
        if self.lite:
            return str(self.raw.api.server_header())  # type: ignore[attr-defined]
        api = self.raw.api
        return str(api.get(f"{api.base_url}/_ping").headers.get("Server", ""))

    def _libpod_info(self) -> dict[str, Any]:
        if self.lite:
            return cast("dict[str, Any]", self.raw.api.libpod_info())  # type: ignore[attr-defined]
        api = self.raw.api
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


def connect(base_url: str | None = None, timeout: float = 120, lite: bool = False) -> Engine:
    """Connect to the engine at ``base_url`` (default ``DOCKER_HOST`` or the local socket).

    ``lite`` asks for the stdlib client of :mod:`reprobox.engine.lite`, which serves only
    one-shot runs (create, attach, start, wait, inspect, kill, remove); it is used when the
    engine is a local Unix socket speaking a recent enough API, else the docker SDK is."""
    url = _client.engine_url(base_url)
    if lite and url.startswith("unix://"):
        from reprobox.engine import lite as _lite

        with _client.translated("connect", url):
            raw = _lite.open_client(url, timeout)
        if raw is not None:
            # The lite client stands in for the SDK on the one-shot path only: typed there as
            # the OneShotAPI both clients provide (duck-typed as ``raw`` for ping and close).
            return Engine(cast("docker.DockerClient", raw), url, lite=True, api=raw.api)
    return Engine(_client.open_client(url, timeout), url)
