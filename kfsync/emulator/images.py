"""Avatar pictures: the upload checks (JPEG by content, size) and the CDN-like re-encoding.

Pillow is imported inside the functions: only an upload needs it.  Uploads are
decoded by `kfsync.pictures.decoded`, in the formats given only (JPEG for WeChat),
within its memory budget.
"""

from __future__ import annotations

import io
import secrets

from kfsync.emulator.exceptions import EmulatorError
from kfsync.errors import AvatarError
from kfsync.pictures import decoded

MAX_BYTES = 5 * 1024 * 1024
SIZE = (640, 640)
CDN_QUALITY = 80
_JPEG_MAGIC = b"\xff\xd8\xff"


def new_media_id() -> str:
    """A fresh picture id, as in `/mmbiz_jpg/<id>/0`."""
    return secrets.token_hex(20)


def cdn_reencode(data: bytes, *, formats: tuple[str, ...] = ("JPEG",),
                 max_bytes: int = MAX_BYTES) -> bytes:
    """The picture as the CDN would store it: 640x640 JPEG at another quality.

    Raises EmulatorError 40009 when it is larger than `max_bytes` and 40005 when
    its content is not a picture in one of `formats` (Pillow's names; the file
    name plays no part).
    """
    if len(data) > max_bytes:
        raise EmulatorError(40009)
    if formats == ("JPEG",) and not data.startswith(_JPEG_MAGIC):
        raise EmulatorError(40005)
    from PIL import Image

    try:
        # Only `formats` (JPEG, as WeChat): no other decoder of Pillow's ever sees an upload.
        with decoded(data, formats=formats, draft=SIZE[0]) as picture:
            resized = picture.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    except AvatarError as exc:
        raise EmulatorError(40005) from exc
    out = io.BytesIO()
    resized.save(out, "JPEG", quality=CDN_QUALITY)
    return out.getvalue()
