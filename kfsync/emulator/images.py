"""Avatar pictures: the upload checks (JPEG by content, size) and the CDN-like re-encoding.

Pillow is imported inside the functions: only an upload needs it.
"""

from __future__ import annotations

import io
import secrets
import warnings

from kfsync.emulator.exceptions import EmulatorError

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
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as picture:
                if picture.format not in formats:
                    raise EmulatorError(40005)
                picture.draft("RGB", SIZE)
                resized = picture.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        raise EmulatorError(40005) from exc
    out = io.BytesIO()
    resized.save(out, "JPEG", quality=CDN_QUALITY)
    return out.getvalue()
