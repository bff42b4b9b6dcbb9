"""Helpers for oci-backend tests: hand-made OCI archives (hostile ones too), leftover checks."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from reprobox.oci import runtime as rt

Member = tuple[tarfile.TarInfo, bytes]


def member(name: str, data: bytes = b"", **attrs: object) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def _tar(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def oci_archive(path: Path, layers: list[list[Member]], corrupt: bool = False) -> Path:
    """An ``oci-archive`` with ``layers`` (uncompressed); ``corrupt`` flips a byte of the
    first layer after its digest was recorded."""
    blobs: dict[str, bytes] = {}
    descriptors = []
    for members in layers:
        data = _tar(members)
        digest = _digest(data)
        blobs[digest] = data
        descriptors.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest,
                "size": len(data),
            }
        )
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descriptors]},
        }
    ).encode()
    blobs[_digest(config)] = config
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": descriptors,
        }
    ).encode()
    blobs[_digest(manifest)] = manifest
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": _digest(manifest),
                "size": len(manifest),
            }
        ],
    }
    if corrupt:
        first = descriptors[0]["digest"]
        data = bytearray(blobs[first])
        data[600] ^= 0xFF
        blobs[first] = bytes(data)
    files = [member("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')]
    files.append(member("index.json", json.dumps(index).encode()))
    files += [member("blobs/sha256/" + d.split(":")[1], b) for d, b in blobs.items()]
    path.write_bytes(_tar(files))
    return path


def require_oci_tools() -> None:
    for tool in ("skopeo", "umoci", "runc", "tini-static"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/setup-engine installs it)")


# Every oci box this test process creates, so a test checks its own boxes only (other
# processes on the machine may run oci boxes at the same time).
CREATED: list[str] = []
_new_box_id = rt.new_box_id


def _recording_new_box_id() -> str:
    box_id = _new_box_id()
    CREATED.append(box_id)
    return box_id


rt.new_box_id = _recording_new_box_id


def boxes_of(pid: int) -> list[str]:
    """The IDs of the live oci boxes whose owner is process ``pid``."""
    folder = rt.run_dir() / "boxes"
    found = []
    for bundle in folder.iterdir() if folder.is_dir() else ():
        try:
            owner = json.loads((bundle / "owner").read_text())
        except (OSError, ValueError):
            continue
        if owner.get("pid") == pid:
            found.append(bundle.name)
    return found


def my_leftovers() -> list[str]:
    """What is left of the oci boxes this test process created."""
    return oci_leftovers(list(CREATED))


def oci_leftovers(box_ids: list[str] | None = None) -> list[str]:
    """Bundles, runtime state and cgroups of oci boxes that still exist (optionally only
    those of ``box_ids``)."""
    found = []
    for folder in (rt.run_dir() / "boxes", rt.run_dir() / "runc", rt.run_dir() / "runsc"):
        if folder.is_dir():
            found += [str(p) for p in folder.iterdir()]
    cgroups = rt.CGROUP_ROOT / "memory" / rt.CGROUP_PARENT
    if cgroups.is_dir():
        found += [str(p) for p in cgroups.iterdir() if p.is_dir()]
    if box_ids is not None:
        found = [f for f in found if any(b in f for b in box_ids)]
    return found
