"""Normalization of a synthetic ``docker save`` archive: no engine needed."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from reprobox.build.normalize import (
    BaseFacts,
    normalize_config,
    normalize_entry,
    normalize_save,
    rewrite_layer,
)

EPOCH = 1_700_000_000


def _entry(tar: tarfile.TarFile, name: str, data: bytes | None = None, **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = attrs.pop("mtime", EPOCH + 5000)  # type: ignore[assignment]
    for key, value in attrs.items():
        setattr(info, key, value)
    if data is not None:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _layer(order: list[str], mtime: int, atime: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries = {
            "app": dict(type=tarfile.DIRTYPE, mode=0o755),
            "app/a.txt": dict(data=b"hello", mode=0o644, uname="root"),
            "app/.wh.old": dict(data=b"", mode=0o600),
            "app/link": dict(type=tarfile.SYMTYPE, linkname="a.txt"),
            "app/hard": dict(type=tarfile.LNKTYPE, linkname="app/a.txt"),
            "app/old.txt": dict(data=b"old", mtime=1000),
        }
        for name in order:
            attrs = dict(entries[name])
            data = attrs.pop("data", None)
            attrs.setdefault("mtime", mtime)
            attrs["pax_headers"] = {"atime": atime, "SCHILY.xattr.user.k": "v"}
            _entry(tar, name, data, **attrs)  # type: ignore[arg-type]
    return buffer.getvalue()


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


BASE_LAYER = b"base-layer-bytes" * 64


def _save(layer: bytes, created: str, container: str) -> list[bytes]:
    config = {
        "architecture": "amd64",
        "config": {"Image": "sha256:" + container * 2, "Labels": {"x": "y"}},
        "container": container,
        "container_config": {"Hostname": container[:12]},
        "created": created,
        "docker_version": "20.10.24",
        "history": [
            {"created": "2020-01-01T00:00:00Z", "comment": "base"},
            {"created": created, "created_by": "/bin/sh -c make"},
        ],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [_sha(BASE_LAYER), _sha(layer)]},
    }
    raw = json.dumps(config).encode()
    manifest = [{"Config": "cfg.json", "RepoTags": None, "Layers": ["b/layer.tar", "n/layer.tar"]}]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (
            ("b/layer.tar", BASE_LAYER),
            ("n/layer.tar", layer),
            ("cfg.json", raw),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            _entry(tar, name, data)
    data = buffer.getvalue()
    return [data[i : i + 777] for i in range(0, len(data), 777)]


ORDER_A = ["app", "app/a.txt", "app/.wh.old", "app/link", "app/hard", "app/old.txt"]
ORDER_B = ["app", "app/old.txt", "app/link", "app/a.txt", "app/hard", "app/.wh.old"]


def _normalize(tmp_path: Path, name: str, layer: bytes, created: str, container: str) -> str:
    work = tmp_path / name
    work.mkdir()
    base = BaseFacts((_sha(BASE_LAYER),), 1)
    image = normalize_save(_save(layer, created, container), base, EPOCH, work)
    assert image.archive.is_file()
    return image.image_id


def test_two_different_saves_normalize_to_one_image_id(tmp_path: Path) -> None:
    first = _normalize(
        tmp_path, "a", _layer(ORDER_A, EPOCH + 10, "1.5"), "2026-01-01T00:00:00Z", "c1" * 32
    )
    second = _normalize(
        tmp_path, "b", _layer(ORDER_B, EPOCH + 99, "7.25"), "2026-02-02T00:00:00Z", "c2" * 32
    )
    assert first == second


def test_rewritten_layer_clamps_sorts_and_keeps_links_whiteouts_xattrs(tmp_path: Path) -> None:
    source = tmp_path / "in.tar"
    source.write_bytes(_layer(ORDER_B, EPOCH + 10, "1.5"))
    rewrite_layer(source, tmp_path / "out.tar", EPOCH)
    with tarfile.open(tmp_path / "out.tar") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == ["app", "app/.wh.old", "app/a.txt", "app/link", "app/old.txt", "app/hard"]
    by_name = {m.name: m for m in members}
    assert by_name["app/a.txt"].mtime == EPOCH
    assert by_name["app/old.txt"].mtime == 1000  # older than the source date: kept
    assert by_name["app/hard"].islnk() and by_name["app/hard"].linkname == "app/a.txt"
    assert by_name["app/link"].issym() and by_name["app/link"].linkname == "a.txt"
    assert all(m.uname == "" and m.gname == "" for m in members)
    assert by_name["app/a.txt"].pax_headers.get("SCHILY.xattr.user.k") == "v"
    assert "atime" not in by_name["app/a.txt"].pax_headers


def test_base_layers_are_not_copied_into_the_archive(tmp_path: Path) -> None:
    layer = _layer(ORDER_A, EPOCH + 10, "1")
    base = BaseFacts((_sha(BASE_LAYER),), 1)
    image = normalize_save(_save(layer, "2026-01-01T00:00:00Z", "c" * 64), base, EPOCH, tmp_path)
    with tarfile.open(image.archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["Layers"][0] == _sha(BASE_LAYER)[7:] + "/layer.tar"
    assert manifest[0]["Layers"][0] not in names
    assert manifest[0]["Layers"][1] in names


def test_config_drops_volatile_fields_and_keeps_base_history() -> None:
    config = {
        "container": "abc",
        "container_config": {},
        "docker_version": "20.10",
        "created": "2026-01-01T00:00:00.123Z",
        "config": {"Image": "sha256:parent", "Env": ["A=1"]},
        "history": [{"created": "2001-01-01T00:00:00Z"}, {"created": "2026-01-01T00:00:00Z"}],
        "rootfs": {"type": "layers", "diff_ids": ["old"]},
    }
    fixed = normalize_config(config, 1, EPOCH, ["new"])
    assert not {"container", "container_config", "docker_version"} & fixed.keys()
    assert fixed["created"] == "2023-11-14T22:13:20Z"
    assert fixed["config"] == {"Image": "", "Env": ["A=1"]}
    assert [h["created"] for h in fixed["history"]] == ["2001-01-01T00:00:00Z", fixed["created"]]
    assert fixed["rootfs"]["diff_ids"] == ["new"]
    assert config["created"] == "2026-01-01T00:00:00.123Z"  # the input is not changed


def test_keep_base_puts_every_layer_in_the_archive_with_the_same_image_id(tmp_path: Path) -> None:
    """Podman's load needs every layer; the image ID must not change for it."""
    layer = _layer(ORDER_A, EPOCH + 10, "1")
    base = BaseFacts((_sha(BASE_LAYER),), 1)
    save = _save(layer, "2026-01-01T00:00:00Z", "c" * 64)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    partial = normalize_save(save, base, EPOCH, tmp_path / "a")
    full = normalize_save(save, base, EPOCH, tmp_path / "b", keep_base=True)
    assert full.image_id == partial.image_id
    with tarfile.open(full.archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        base_member = tar.extractfile(manifest[0]["Layers"][0])
        assert base_member is not None and base_member.read() == BASE_LAYER
    assert all(layer_name in names for layer_name in manifest[0]["Layers"])


def test_podman_build_noise_is_normalized() -> None:
    """buildah (Podman's builder) records the intermediate image ("parent", step comments),
    the build container's random hostname, and the request's labels in map order."""

    def config(labels: list[str], parent: str, host: str) -> dict[str, object]:
        steps = [{"created_by": "/bin/sh -c #(nop) WORKDIR /app", "comment": f"FROM {parent}"}]
        steps += [
            {"created_by": f"/bin/sh -c #(nop) LABEL {x}", "empty_layer": True} for x in labels
        ]
        return {
            "parent": f"sha256:{parent}",
            "config": {"Hostname": host, "Env": ["A=1"]},
            "history": [{"created": "2001-01-01T00:00:00Z"}, *steps],
            "rootfs": {"type": "layers", "diff_ids": []},
        }

    first = normalize_config(config(['"a"="1"', '"b"="2"'], "p1", "h1"), 1, EPOCH, ["x"])
    second = normalize_config(config(['"b"="2"', '"a"="1"'], "p2", "h2"), 1, EPOCH, ["x"])
    assert first == second
    assert "parent" not in first and first["config"]["Hostname"] == ""  # type: ignore[index]
    history = first["history"]
    assert "comment" not in history[1]  # type: ignore[index]
    assert [h["created_by"] for h in history[2:]] == [  # type: ignore[index]
        '/bin/sh -c #(nop) LABEL "a"="1"',
        '/bin/sh -c #(nop) LABEL "b"="2"',
    ]


def test_overlayfs_bookkeeping_xattrs_are_dropped_and_real_ones_kept() -> None:
    """Rootless Podman's native overlay leaks user.overlay.* into its layers: without this a
    rootless and a rootful Podman build of the same inputs had two image IDs."""
    member = tarfile.TarInfo("etc")
    member.pax_headers = {
        "SCHILY.xattr.user.overlay.impure": "y",
        "SCHILY.xattr.user.overlay.origin": "",
        "SCHILY.xattr.trusted.overlay.opaque": "y",
        "SCHILY.xattr.user.k": "v",
        "SCHILY.xattr.security.capability": "c",
    }
    kept = normalize_entry(member, 0).pax_headers
    assert kept == {"SCHILY.xattr.user.k": "v", "SCHILY.xattr.security.capability": "c"}
