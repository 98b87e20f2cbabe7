"""Opening pictures: the supported formats only, within a pixel cap and a shared memory budget.

Every picture kfsync decodes goes through `decoded`: declared avatars, live
pictures downloaded for a plan or an import, and the emulator's uploads.

- Pillow picks a decoder from a file's content, not its name, and knows dozens
  of formats, some of which run external programs (EPS runs Ghostscript).  Only
  `SUPPORTED_FORMATS` are ever tried; anything else is refused unread.
- The size and the pixel mode are read from the header and checked before any
  pixel is decoded.  Animated pictures (GIF, WebP, APNG) are read as their
  first frame only; no other frame is ever decoded.
- The memory a picture needs is estimated from its header (`decode_cost`) and
  reserved from one budget shared by every thread of the process
  (`DECODE_BUDGET`), for as long as the caller works on the picture: the
  fingerprinting pool then runs as many decodes at once as fit, one at a time
  for the largest pictures.  A picture that alone needs more than the budget
  is refused.

Pillow is imported inside the functions: loading a config without avatars, or
starting the CLI, never pays for it.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from kfsync.errors import AvatarError

if TYPE_CHECKING:
    from PIL import Image

#: The formats kfsync opens, as Pillow names them; nothing else is ever tried.
SUPPORTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
SUPPORTED_NAMES = "JPEG, PNG, GIF, WebP or BMP"
MAX_PIXELS = 50_000_000  #: decompression-bomb guard, well under Pillow's own
MIB = 1024 * 1024
DECODE_BUDGET = 512 * MIB  #: bytes of decoded pictures held at once, all threads together
#: PNG text chunks are metadata kfsync never reads: this bounds what one picture's may take.
MAX_TEXT_BYTES = 1 * MIB

#: Bytes per pixel of each pixel mode the supported formats decode to (Pillow stores RGB in 4).
_MODE_BYTES = {
    "1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "LA": 4, "La": 4, "PA": 4,
    "RGB": 4, "RGBA": 4, "RGBa": 4, "RGBX": 4, "CMYK": 4, "YCbCr": 4, "I": 4, "F": 4,
}
#: Modes worked on as they are; the others are converted (see `_workable`).
_WORKABLE = ("RGB", "RGBA", "L", "LA")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


class MemoryBudget:
    """A count of bytes that threads reserve before decoding and give back after."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._free = capacity
        self._lowest = capacity  #: the least ever free, for the bench and the tests
        self._changed = threading.Condition()

    @contextmanager
    def reserved(self, amount: int) -> Iterator[None]:
        """Wait until `amount` bytes (at most the capacity) are free, and hold them for the block."""
        amount = min(amount, self.capacity)
        with self._changed:
            self._changed.wait_for(lambda: self._free >= amount)
            self._free -= amount
            self._lowest = min(self._lowest, self._free)
        try:
            yield
        finally:
            with self._changed:
                self._free += amount
                self._changed.notify_all()

    @property
    def most_used(self) -> int:
        """The most bytes ever reserved at once."""
        return self.capacity - self._lowest


BUDGET = MemoryBudget(DECODE_BUDGET)


def decode_cost(width: int, height: int, mode: str, *, webp: bool = False) -> int:
    """Bytes that decoding a `width` x `height` picture and working on it may hold at once.

    The decoded frame plus one converted copy (see `_workable`), or the copy
    that a resize of a picture with transparency makes: 8 bytes a pixel at most,
    and one more for the decoders' own buffers.  WebP decodes into two canvases
    of its own and hands the frame over as a copy: 10 more.  (Measured against
    the peak RSS of one decode in a fresh process, bench/hostile.py's pictures.)
    """
    pixels = width * height
    return pixels * (max(_MODE_BYTES.get(mode, 4) + 4, 8) + 1 + (10 if webp else 0))


@contextmanager
def decoded(data: bytes, *, formats: tuple[str, ...] = SUPPORTED_FORMATS,
            draft: int | None = None,
            budget: MemoryBudget | None = None) -> Iterator[Image.Image]:
    """The first frame of the picture in `data`, decoded, while its memory is reserved.

    The image is in mode RGB, RGBA, L or LA, with its EXIF orientation applied.
    With `draft`, a JPEG may be decoded at a reduced scale (no smaller than
    `draft` pixels a side).  Raises AvatarError, with a short reason, for a
    picture of another format, too large, or that Pillow cannot read.
    """
    # WebP's plugin is imported by name: Pillow registers the other four formats on its
    # first open, and would otherwise import all of its forty plugins to look for WebP.
    from PIL import (
        Image,
        ImageOps,
        PngImagePlugin,
        UnidentifiedImageError,
        WebPImagePlugin,  # noqa: F401
    )
    from PIL.Image import core as pillow_core  # type: ignore[attr-defined]

    _limit_png_text(PngImagePlugin)
    _reuse_blocks(pillow_core)
    budget = BUDGET if budget is None else budget
    refusal = "not a readable image"
    held = ExitStack()
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two bomb limits; here that is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = held.enter_context(Image.open(io.BytesIO(data), formats=list(formats)))
            held.enter_context(budget.reserved(_checked_cost(opened, draft, budget)))
            opened.load()
        ImageOps.exif_transpose(opened, in_place=True)
        image = _workable(opened)
        held.callback(image.close)
    except UnidentifiedImageError:
        held.close()
        names = SUPPORTED_NAMES if formats == SUPPORTED_FORMATS else " or ".join(formats)
        raise AvatarError(f"not a {names} picture; kfsync reads no other format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        held.close()
        raise AvatarError(f"{refusal} (too many pixels: decompression bomb guard)") from None
    except AvatarError:
        held.close()
        raise
    except Exception as exc:  # Pillow raises many kinds for broken or hostile pictures
        held.close()
        raise AvatarError(f"{refusal} ({type(exc).__name__}: {_short(exc)})") from None
    with held:
        yield image


def _checked_cost(opened: Image.Image, draft: int | None, budget: MemoryBudget) -> int:
    """The header's size and mode, checked; the memory that decoding will hold."""
    width, height = opened.size
    if width * height > MAX_PIXELS:
        raise AvatarError(
            f"the picture is {width}x{height} pixels; kfsync reads at most "
            f"{MAX_PIXELS // 1_000_000} megapixels")
    if opened.mode not in _MODE_BYTES:
        raise AvatarError(f"the picture's pixel mode {opened.mode} is not supported")
    jpeg = opened.format in ("JPEG", "MPO")  # MPO: a camera's JPEG with more pictures after it
    # A progressive JPEG keeps every DCT coefficient, 2 bytes a pixel and band, at any scale.
    progressive = jpeg and bool(opened.info.get("progressive"))
    coefficients = 2 * len(opened.getbands()) * width * height if progressive else 0
    if draft is not None and jpeg:
        opened.draft("RGB", (draft, draft))  # sets the size and mode that will be decoded
    cost = coefficients + decode_cost(*opened.size, opened.mode, webp=opened.format == "WEBP")
    if cost > budget.capacity:
        raise AvatarError(
            f"decoding the {width}x{height} picture would take about {cost // MIB} MiB; "
            f"kfsync decodes pictures within {budget.capacity // MIB} MiB")
    return cost


def _workable(image: Image.Image) -> Image.Image:
    """`image` itself if it is RGB, RGBA, L or LA; else converted, and the original closed."""
    if image.mode in _WORKABLE:
        return image
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    converted = image.convert("RGBA" if has_alpha else "RGB")
    image.close()
    return converted


def flattened(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited onto white."""
    from PIL import Image

    if image.mode in ("RGB", "L"):
        return image.convert("RGB") if image.mode == "L" else image
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _reuse_blocks(core: Any) -> None:
    """Let Pillow keep freed pixel blocks for the next picture, up to the budget.

    Freed to the C library, the blocks a worker thread used stay in that thread's
    own heap, and eight threads decoding pictures of 400 MiB one after another
    grew the process to 3 GiB.  Kept by Pillow, they go from one thread's picture
    to the next: the process holds no more than the budget.
    """
    wanted = DECODE_BUDGET // core.get_block_size()
    if core.get_blocks_max() < wanted:
        core.set_blocks_max(wanted)


def _limit_png_text(png: object) -> None:
    """Lower Pillow's limits on PNG text (64 MiB a picture by default): kfsync never reads it."""
    for name in ("MAX_TEXT_CHUNK", "MAX_TEXT_MEMORY"):
        if getattr(png, name, 0) > MAX_TEXT_BYTES:
            setattr(png, name, MAX_TEXT_BYTES)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:120] or "no detail"
