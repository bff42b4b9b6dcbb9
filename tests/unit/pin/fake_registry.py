"""A registry API v2 on 127.0.0.1 for unit tests of the HTTP logic (never a real remote)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


@dataclass
class Fake:
    """What the fake serves and how it behaves; ``seen`` records (method, path, headers)."""

    manifests: dict[str, dict[str, tuple[str, bytes]]] = field(default_factory=dict)
    auth: str | None = None  # None, "bearer", "basic", "bearer-refused"
    digest_header: bool = True
    status: int | None = None  # answer every manifest request with this status
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add(self, repo: str, tag: str, media_type: str = INDEX, body: bytes | None = None) -> str:
        body = body or json.dumps({"mediaType": media_type, "tag": tag}).encode()
        self.manifests.setdefault(repo, {})[tag] = (media_type, body)
        self.manifests[repo][digest_of(body)] = (media_type, body)
        return digest_of(body)


class _Handler(BaseHTTPRequestHandler):
    fake: Fake

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        fake = self.fake
        fake.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/token"):
            return self._token()
        if not self._authorised():
            return
        if fake.status is not None:
            return self._send(fake.status, b"{}", {})
        repo, _, ref = self.path.removeprefix("/v2/").partition("/manifests/")
        found = fake.manifests.get(repo, {}).get(ref)
        accepted = self.headers.get("Accept", "")
        if found is None or found[0] not in accepted:
            return self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', {})
        media_type, body = found
        headers = {"Content-Type": media_type}
        if fake.digest_header:
            headers["Docker-Content-Digest"] = digest_of(body)
        self._send(200, body if send_body else b"", headers, len(body))

    def _authorised(self) -> bool:
        auth = self.fake.auth
        if auth is None or self.headers.get("Authorization") == "Bearer t0k":
            return True
        if auth == "basic":
            challenge = 'Basic realm="fake"'
        else:
            realm = f"http://{self.fake.host}/token"
            challenge = f'Bearer realm="{realm}",service="fake",scope="repository:x:pull"'
        self._send(401, b"{}", {"WWW-Authenticate": challenge})
        return False

    def _token(self) -> None:
        if self.fake.auth == "bearer-refused":
            return self._send(401, b"{}", {})
        self._send(200, b'{"token": "t0k"}', {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict[str, str], length: int = -1) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length if length >= 0 else len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)


@contextmanager
def fake_registry() -> Iterator[Fake]:
    fake = Fake()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
