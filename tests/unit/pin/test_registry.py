"""The registry client against a fake registry API v2 on 127.0.0.1, and reference parsing."""

from __future__ import annotations

import socket

import pytest

from reprobox import errors
from reprobox.pin.reference import Reference
from reprobox.pin.registry import Registry
from tests.unit.pin.fake_registry import INDEX, MANIFEST, digest_of, fake_registry


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    [
        ("python", "docker.io", "library/python", None, None),
        ("python:3.12-slim", "docker.io", "library/python", "3.12-slim", None),
        ("user/app:1", "docker.io", "user/app", "1", None),
        ("ghcr.io/o/app:2", "ghcr.io", "o/app", "2", None),
        ("localhost/app", "localhost", "app", None, None),
        ("127.0.0.1:5000/py:3.11", "127.0.0.1:5000", "py", "3.11", None),
        ("py@sha256:" + "a" * 64, "docker.io", "library/py", None, "sha256:" + "a" * 64),
    ],
)
def test_references_are_normalised_like_the_engine_does(
    text: str, domain: str, path: str, tag: str | None, digest: str | None
) -> None:
    assert Reference.parse(text) == Reference(domain, path, tag, digest)


@pytest.mark.parametrize("text", ["Python:3", "py:", "py@sha256:abc", "a//b", "py:bad tag"])
def test_bad_references_say_so(text: str) -> None:
    with pytest.raises(errors.UsageError, match="not an image reference"):
        Reference.parse(text)


def test_only_loopback_registries_are_spoken_to_over_http() -> None:
    assert Reference.parse("127.0.0.1:5000/a").loopback
    assert Reference.parse("localhost:5000/a").loopback
    assert not Reference.parse("registry.example:5000/a").loopback
    assert Reference.parse("python").api_host == "registry-1.docker.io"


def test_a_multi_platform_tag_pins_to_its_index_digest() -> None:
    with fake_registry() as fake:
        index = fake.add("py", "3.11", INDEX)
        assert Registry().digest(Reference.parse(f"{fake.host}/py:3.11")) == index
        method, path, headers = fake.seen[-1]
        assert (method, path) == ("HEAD", "/v2/py/manifests/3.11")
        accepted = headers["accept"].split(", ")
        assert accepted[:2] == [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ]
        assert MANIFEST in accepted


def test_without_a_digest_header_the_manifest_is_hashed() -> None:
    with fake_registry() as fake:
        body = b'{"schemaVersion": 2}'
        fake.add("py", "1", MANIFEST, body)
        fake.digest_header = False
        assert Registry().digest(Reference.parse(f"{fake.host}/py:1")) == digest_of(body)
        assert [m for m, _, _ in fake.seen] == ["HEAD", "GET"]


def test_a_bearer_challenge_gets_an_anonymous_token_once() -> None:
    with fake_registry() as fake:
        fake.auth = "bearer"
        one, two = fake.add("py", "1"), fake.add("py", "2")
        registry = Registry()
        assert registry.digest(Reference.parse(f"{fake.host}/py:1")) == one
        assert registry.digest(Reference.parse(f"{fake.host}/py:2")) == two
        tokens = [p for _, p, _ in fake.seen if p.startswith("/token")]
        assert tokens == ["/token?service=fake&scope=repository%3Ax%3Apull"]
        assert fake.seen[-1][2]["authorization"] == "Bearer t0k"


@pytest.mark.parametrize("auth", ["basic", "bearer-refused"])
def test_credentials_wanted_is_auth_required(auth: str) -> None:
    with fake_registry() as fake:
        fake.auth = auth
        fake.add("py", "1")
        with pytest.raises(errors.RegistryAuthRequired) as caught:
            Registry().digest(Reference.parse(f"{fake.host}/py:1"))
        assert caught.value.message.startswith(f"auth required: {fake.host} wants credentials")


def test_an_unknown_tag_says_which() -> None:
    with fake_registry() as fake:
        fake.add("py", "1")
        with pytest.raises(errors.TagNotFound, match=f"unknown tag: {fake.host} has no py:9"):
            Registry().digest(Reference.parse(f"{fake.host}/py:9"))


def test_a_registry_error_status_is_reported() -> None:
    with fake_registry() as fake:
        fake.status = 500
        with pytest.raises(errors.RegistryError, match="answered HTTP 500 for py:1"):
            Registry().digest(Reference.parse(f"{fake.host}/py:1"))


def test_nothing_listening_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(errors.RegistryUnreachable) as caught:
        Registry(timeout=5).digest(Reference.parse(f"127.0.0.1:{port}/py:1"))
    assert caught.value.message.startswith(f"registry 127.0.0.1:{port} unreachable: ")
    assert "refused" in caught.value.message


def test_has_tells_a_served_digest_from_a_gone_one() -> None:
    with fake_registry() as fake:
        digest = fake.add("py", "1")
        registry, ref = Registry(), Reference.parse(f"{fake.host}/py:1")
        assert registry.has(ref, digest)
        assert not registry.has(ref, "sha256:" + "0" * 64)
