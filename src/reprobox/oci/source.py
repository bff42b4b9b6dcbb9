"""Where a box's image comes from: an archive, or the local engine (exported once)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from reprobox import errors
from reprobox.oci.images import CachedImage, ImageRef, ImageStore, archive_image_id

if TYPE_CHECKING:
    from reprobox.engine import Engine

EngineFactory = Callable[[], "Engine"]
ENGINE_SOURCE = "engine:"  # how a cache entry exported from the engine records its source


def cached_image(store: ImageStore, text: str, engine: EngineFactory) -> CachedImage:
    """The unpacked image for ``--image text``: ``docker-archive:PATH`` and
    ``oci-archive:PATH`` need no engine; a name is looked up on the engine (which is only
    asked to export it when it is not cached yet)."""
    ref = ImageRef.parse(text)
    if ref.kind != "engine":
        return store.ensure(archive_image_id(ref), lambda: contextlib.nullcontext(ref))
    live = engine()
    summary = live.image(ref.value)
    if summary is None:
        raise errors.ImageNotFound(f"image {ref.value} is not on this engine")
    exported = lambda: _exported(store, live, summary.id)  # noqa: E731
    return store.ensure(summary.id, exported, f"{ENGINE_SOURCE}{ref.value}")


@contextlib.contextmanager
def _exported(store: ImageStore, engine: Engine, image_id: str) -> Iterator[ImageRef]:
    """A temporary ``docker save`` archive of ``image_id``, removed afterwards."""
    from reprobox.engine import connect
    from reprobox.engine.images import save_image

    folder = store.root / "tmp" / f"export-{image_id[7:19]}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "image.tar"
    full = connect() if engine.lite else engine  # the stdlib client cannot export
    try:
        with target.open("wb") as out:
            for chunk in save_image(full, image_id):
                out.write(chunk)
        yield ImageRef("docker-archive", str(target))
    finally:
        if full is not engine:
            full.close()
        shutil.rmtree(folder, ignore_errors=True)
