"""Avatar pictures: the one normalisation applied before upload, shared with validation.

WeChat takes a JPEG of at most 5 MB and recommends 640x640.  Whatever supported
format comes in (JPEG, PNG, GIF, WebP or BMP: see `kfsync.pictures`, which
opens every picture), `normalise_avatar` returns a deterministic 640x640
baseline JPEG: EXIF orientation applied, centre-cropped to a square,
transparency flattened onto white, no EXIF or ICC metadata.  `load_avatar` reads a file
(size-capped) and checks the result fits; `kfsync validate` calls it too, so a
file that validates is a file that uploads.  `picture_hash` fingerprints a
picture so that the one uploaded and the one WeChat serves back (re-encoded)
can be recognised as the same; `thumbnail` makes the small copies an HTML
page embeds.  `fingerprint_avatar` does both checks and the
fingerprint at once, and remembers the result by the file's content in a cache,
so that planning again with unchanged pictures decodes none of them.

Pillow is imported inside the functions (and by `kfsync.pictures` only when it
decodes): loading a config without avatars, or starting the CLI, never pays for it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kfsync.errors import AvatarError
from kfsync.pictures import decoded, flattened
from kfsync.progress import Advance, ignore

if TYPE_CHECKING:
    from kfsync.cache import AvatarPrints

AVATAR_SIZE = 640  #: pixels, both sides
JPEG_QUALITY = 90
THUMBNAIL_QUALITY = 82
MAX_UPLOAD_BYTES = 5 * 1000 * 1000  #: WeChat's "5 MB", read the strict way
MAX_SOURCE_BYTES = 20 * 1024 * 1024  #: refuse to read bigger source files
HASH_SIDE = 16  #: picture_hash works on a HASH_SIDE x HASH_SIDE thumbnail


def normalise_avatar(data: bytes) -> bytes:
    """Any supported picture -> 640x640 RGB JPEG bytes; AvatarError if it is not one."""
    return _square_jpeg(data, AVATAR_SIZE, JPEG_QUALITY)


def thumbnail(data: bytes, side: int) -> bytes:
    """A small square JPEG of any supported picture, cropped as the upload is (for HTML pages)."""
    return _square_jpeg(data, side, THUMBNAIL_QUALITY)


def _square_jpeg(data: bytes, side: int, quality: int) -> bytes:
    """The picture centre-cropped to a square, `side` pixels a side, as a JPEG with no metadata.

    The crop and the resize are one step on the decoded picture, and the
    transparency is flattened after it, on the small picture: no full-size copy
    is made but the ones `kfsync.pictures.decoded` reserves memory for.  A JPEG
    is decoded straight at the smallest scale that still gives `side` pixels.
    """
    from PIL import Image

    with decoded(data, draft=side) as image:
        crop = min(image.size)
        left, top = (image.width - crop) // 2, (image.height - crop) // 2
        resized = image.resize(
            (side, side), Image.Resampling.LANCZOS, box=(left, top, left + crop, top + crop)
        )
    result = flattened(resized)
    result.info = {}  # no EXIF, ICC profile or comments carried over
    out = io.BytesIO()
    result.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def picture_hash(data: bytes) -> str:
    """A perceptual fingerprint: 256 bits as 64 hex digits, stable under re-encoding.

    Each bit says whether one cell of a 16x16 grey thumbnail is brighter than
    the mean, so a picture WeChat re-compressed differs from the uploaded one
    in a few bits while a different picture differs in about half of them.
    """
    from PIL import Image

    # A JPEG is decoded straight at 1/2 to 1/8 scale (its DCT allows it): the grid
    # cells come out the same, about ten times faster than a full decode.
    with decoded(data, draft=4 * HASH_SIDE) as image:
        small = image.resize((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX)
    cells = flattened(small).convert("L").tobytes()
    mean = sum(cells) / len(cells)
    bits = "".join("1" if cell > mean else "0" for cell in cells)
    return f"{int(bits, 2):0{HASH_SIDE * HASH_SIDE // 4}x}"


def load_avatar(
    path: str | os.PathLike[str],
    *,
    digest: str | None = None,
    cache: AvatarPrints | None = None,
) -> bytes:
    """The bytes to upload for an avatar file: read, normalised, and checked against 5 MB.

    With `digest`, the file must still have that sha256 (it was fingerprinted earlier).
    With `cache`, the upload `fingerprint_avatar` made of these very bytes is
    taken from it, if it is there intact, instead of normalising again.
    """
    data = _read_source(path)
    actual = hashlib.sha256(data).hexdigest()
    if digest is not None and actual != digest:
        raise AvatarError(f"{os.fspath(path)} changed since it was planned; plan again")
    if cache is not None:
        known = _cached(cache, actual)
        jpeg = cache.upload(known.upload) if known is not None else None
        if jpeg is not None:
            return jpeg
    return _upload_bytes(data)


def _read_source(path: str | os.PathLike[str]) -> bytes:
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise AvatarError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise AvatarError(
            f"the file is over {MAX_SOURCE_BYTES // (1024 * 1024)} MiB; use a smaller picture"
        )
    return data


def _upload_bytes(data: bytes) -> bytes:
    jpeg = normalise_avatar(data)
    if len(jpeg) > MAX_UPLOAD_BYTES:
        raise AvatarError(
            f"the picture is {len(jpeg)} bytes as a JPEG; WeChat takes at most "
            f"{MAX_UPLOAD_BYTES} bytes"
        )
    return jpeg


@dataclass(frozen=True)
class AvatarPrint:
    """An avatar file known to upload: its content digest and the fingerprint of its upload."""

    digest: str  #: sha256 of the source file, hex
    phash: str  #: picture_hash of the normalised JPEG
    upload: str  #: sha256 of the normalised JPEG, hex


def fingerprint_avatar(
    path: str | os.PathLike[str], cache: AvatarPrints | None = None
) -> AvatarPrint:
    """Check that an avatar file uploads (as `load_avatar`) and fingerprint its upload.

    The result depends only on the file's bytes and on how they are normalised,
    so it is cached under a key made of both: a hit means these very bytes
    already normalised into an upload with this fingerprint, and nothing is
    decoded.  The upload itself is kept in the cache too, for `load_avatar`.
    """
    found = fingerprint_avatars([Path(path)], cache)[Path(path)]
    if isinstance(found, AvatarError):
        raise found
    return found


def fingerprint_avatars(
    paths: Iterable[Path], cache: AvatarPrints | None = None, *, progress: Advance = ignore
) -> dict[Path, AvatarPrint | AvatarError]:
    """`fingerprint_avatar` for many files: each print, or why the file does not upload, in order.

    Files the cache knows are done at once; the others are decoded in parallel
    threads, one per CPU: Pillow lets go of the interpreter's lock while it
    decodes, resizes and encodes, so a cold plan of many avatars runs on every core.
    `progress` hears of each file done.
    """
    done: dict[Path, AvatarPrint | AvatarError] = {}
    todo: list[tuple[Path, str]] = []
    unique = list(dict.fromkeys(paths))
    for path in unique:
        try:
            # Only the digest is kept: a hundred files of 20 MiB are never in memory at once.
            digest = hashlib.sha256(_read_source(path)).hexdigest()
        except AvatarError as exc:
            done[path] = exc
            continue
        known = _cached(cache, digest) if cache is not None else None
        if known is not None:
            done[path] = known
        else:
            todo.append((path, digest))

    def made(item: tuple[Path, str]) -> AvatarPrint | AvatarError:
        path, digest = item
        try:
            data = _read_source(path)
            if hashlib.sha256(data).hexdigest() != digest:
                raise AvatarError(f"{path} changed while it was being read; run again")
            return _made(data, digest, cache)
        except AvatarError as exc:
            return exc

    progress(len(done), len(unique))
    if len(todo) == 1:
        done[todo[0][0]] = made(todo[0])
    elif todo:
        from concurrent.futures import ThreadPoolExecutor

        # The threads share the decoding memory budget (`kfsync.pictures`): at most
        # as many large pictures are decoded at once as fit in it.
        with ThreadPoolExecutor(max_workers=min(len(todo), _cpus(), 8)) as pool:
            for (path, _), result in zip(todo, pool.map(made, todo), strict=True):
                done[path] = result
                progress(len(done), len(unique))
    progress(len(done), len(unique))
    return {path: done[path] for path in unique}


def _cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _made(data: bytes, digest: str, cache: AvatarPrints | None) -> AvatarPrint:
    """Normalise a source file's bytes, fingerprint the upload, and keep both in the cache."""
    jpeg = _upload_bytes(data)
    found = AvatarPrint(digest, picture_hash(jpeg), hashlib.sha256(jpeg).hexdigest())
    if cache is not None:
        cache.put(_cache_key(digest), found.phash, jpeg)
    return found


def _cached(cache: AvatarPrints, digest: str) -> AvatarPrint | None:
    entry = cache.get(_cache_key(digest))
    return AvatarPrint(digest, *entry) if entry is not None else None


def _cache_key(digest: str) -> str:
    import PIL  # the package alone, without its image modules: cheap

    recipe = f"{AVATAR_SIZE}px-q{JPEG_QUALITY}-hash{HASH_SIDE}draft-pillow{PIL.__version__}"
    return f"kfsync-avatar-3:{recipe}:sha256:{digest}"
