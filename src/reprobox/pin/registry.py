"""Digests from a registry's HTTP API v2 (stdlib only): the digest a tag points to now, and
whether a digest still exists.

The request asks for manifest lists and OCI indexes first, so a multi-platform tag yields the
index digest (the one ``docker pull`` and ``docker buildx imagetools`` show), and a
single-platform tag its manifest digest. A ``401`` with a ``Bearer`` challenge gets an
anonymous token from the realm it names (Docker Hub, GHCR, Quay work so); any other challenge,
or a token refused, is "auth required": reprobox pin sends no credentials. Registries on the
loopback (``localhost``, ``127.0.0.0/8``, ``[::1]``) are spoken to over plain HTTP, as the
engine allows; every other registry over HTTPS.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message

from reprobox import errors
from reprobox.pin.reference import DIGEST, Reference

ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
)
MAX_BODY = 4 << 20
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Answer:
    """A registry's answer; header names in lower case."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Registry:
    """Asks registries over HTTP; answers are cached for the life of the object."""

    timeout: float = 15.0
    _tokens: dict[str, str] = field(default_factory=dict)
    _digests: dict[str, str] = field(default_factory=dict)

    def digest(self, ref: Reference) -> str:
        """The digest ``ref``'s tag points to now."""
        key = str(ref)
        if key not in self._digests:
            self._digests[key] = self._lookup(ref, ref.tag or "latest")
        return self._digests[key]

    def has(self, ref: Reference, digest: str) -> bool:
        """Whether ``ref``'s repository still serves the manifest ``digest``."""
        return self._manifest(ref, digest, "HEAD").status == 200

    def _lookup(self, ref: Reference, tag: str) -> str:
        answer = self._manifest(ref, tag, "HEAD")
        if answer.status == 404:
            raise errors.TagNotFound(f"unknown tag: {ref.api_host} has no {ref.path}:{tag}")
        digest = answer.headers.get("docker-content-digest", "")
        if not DIGEST.match(digest):
            body = self._manifest(ref, tag, "GET").body
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        return digest

    def _manifest(self, ref: Reference, name: str, method: str) -> Answer:
        scheme = "http" if ref.loopback else "https"
        url = f"{scheme}://{ref.api_host}/v2/{ref.path}/manifests/{name}"
        answer = self._send(ref, url, method, self._tokens.get(ref.repository))
        if answer.status == 401:
            token = self._token(ref, answer.headers.get("www-authenticate", ""))
            self._tokens[ref.repository] = token
            answer = self._send(ref, url, method, token)
        if answer.status in (401, 403):
            raise _auth_required(ref)
        if answer.status not in (200, 404):
            raise errors.RegistryError(
                f"registry {ref.api_host} answered HTTP {answer.status} for {ref.path}:{name}"
            )
        return answer

    def _token(self, ref: Reference, challenge: str) -> str:
        scheme, _, params = challenge.partition(" ")
        fields = dict(_CHALLENGE.findall(params))
        if scheme.lower() != "bearer" or "realm" not in fields:
            raise _auth_required(ref)
        query = {"service": fields.get("service", "")}
        query["scope"] = fields.get("scope", f"repository:{ref.path}:pull")
        url = f"{fields['realm']}?{urllib.parse.urlencode(query)}"
        answer = self._send(ref, url, "GET", None, accept="application/json")
        if answer.status != 200:
            raise _auth_required(ref)
        try:
            data = json.loads(answer.body)
            return str(data.get("token") or data["access_token"])
        except (ValueError, KeyError, AttributeError) as exc:
            raise errors.RegistryError(
                f"registry {ref.api_host}: its token service answered no token"
            ) from exc

    def _send(
        self, ref: Reference, url: str, method: str, token: str | None, accept: str = ACCEPT
    ) -> Answer:
        headers = {"Accept": accept, "User-Agent": "reprobox-pin"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, method=method, headers=headers)
        host = urllib.parse.urlsplit(url).netloc
        # No proxy for a loopback registry: its traffic must never leave this machine.
        proxies = urllib.request.ProxyHandler({} if ref.loopback else None)
        opener = urllib.request.build_opener(proxies)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return Answer(response.status, _lower(response.headers), response.read(MAX_BODY))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, _lower(exc.headers), exc.read(MAX_BODY))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise errors.RegistryUnreachable(f"registry {host} unreachable: {reason}") from exc


def _lower(headers: Message) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _auth_required(ref: Reference) -> errors.RegistryAuthRequired:
    return errors.RegistryAuthRequired(
        f"auth required: {ref.api_host} wants credentials for {ref.path} (or has no such "
        "repository); reprobox pin sends none: pull the image and pin with --local"
    )
