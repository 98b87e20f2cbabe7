"""Hostile pictures and slow servers for the security tests: what a pull request or a bad host sends.

- `DISGUISED`: pictures in formats kfsync does not read (several of which
  Pillow would read), each to be committed under a .png or .jpg name.
- `bomb`: small files that decode to many bytes (16-bit, RGBA, CMYK, palette,
  progressive JPEG, WebP, GIF, BMP), made at a size the test chooses.
- `animated`: GIF and WebP with many frames.
- `trickled`: an HTTP answer sent a byte at a time, headers included or not.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Callable

from PIL import Image

from tests.helpers.security import Route, StandInHandler

MIB = 1024 * 1024


def _saved(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _psd(side: int = 16) -> bytes:
    """A minimal RGB Photoshop file: header, empty sections, raw planes."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, side, side, 8, 3)
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + b"\x80" * (3 * side * side)


def _disguised() -> dict[str, bytes]:
    rgb = Image.new("RGB", (32, 32), (200, 30, 30))
    found = {fmt.lower(): _saved(rgb, fmt) for fmt in (
        "EPS", "TIFF", "ICO", "PCX", "TGA", "PPM", "SGI", "DDS", "ICNS", "QOI", "PDF")}
    found["xbm"] = _saved(rgb.convert("1"), "XBM")
    found["msp"] = _saved(rgb.convert("1"), "MSP")
    found["spider"] = _saved(rgb.convert("F"), "SPIDER")
    found["psd"] = _psd()
    found["svg"] = (b'<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32">'
                    b'<rect width="32" height="32" fill="red"/></svg>')
    found["postscript"] = b"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 32 32\nshowpage\n"
    return found


#: format name -> bytes of a small picture in a format kfsync refuses
DISGUISED = _disguised()
#: formats in DISGUISED that Pillow itself would open, given the chance
PILLOW_READS = ("eps", "tiff", "ico", "pcx", "tga", "ppm", "sgi", "dds", "icns", "qoi",
                "xbm", "msp", "spider", "psd")


def png(width: int, height: int, *, depth: int = 8, colour: int = 2, rows: bytes | None = None) -> bytes:
    """A PNG of `width` x `height` whose rows are all `rows` (zeros by default), well compressed."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = b"\x00" + (rows or b"\x00" * (width * channels * depth // 8))
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    palette = chunk(b"PLTE", b"\x00\x00\x00" * 256) if colour == 3 else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + palette + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


def bomb(kind: str, side: int) -> bytes:
    """A `side` x `side` picture of `kind` that is small on disk and large decoded."""
    def plain(mode: str) -> Image.Image:
        return Image.new(mode, (side, side))
    makers: dict[str, Callable[[], bytes]] = {
        "png-rgba16": lambda: png(side, side, depth=16, colour=6),
        "png-rgb16": lambda: png(side, side, depth=16, colour=2),
        "png-grey16": lambda: png(side, side, depth=16, colour=0),
        "png-palette": lambda: png(side, side, depth=8, colour=3),
        "png-la": lambda: png(side, side, depth=8, colour=4),
        "jpeg-cmyk": lambda: _saved(plain("CMYK"), "JPEG", quality=10),
        "jpeg-progressive": lambda: _saved(plain("RGB"), "JPEG", quality=10, progressive=True),
        "webp": lambda: _saved(plain("RGBA"), "WEBP", quality=1),
        "gif": lambda: _saved(plain("P"), "GIF"),
        "bmp": lambda: _saved(plain("1"), "BMP"),  # one bit a pixel on disk, 8 bytes decoded
    }
    return makers[kind]()


BOMB_KINDS = ("png-rgba16", "png-rgb16", "png-grey16", "png-palette", "png-la", "jpeg-cmyk",
              "jpeg-progressive", "webp", "gif", "bmp")


def animated(fmt: str, frames: int, side: int = 64) -> bytes:
    """An animation of `frames` frames: the first dark on the left, the others all light."""
    first = Image.new("RGB", (side, side), (240, 240, 240))
    first.paste((20, 20, 20), (0, 0, side // 2, side))
    rest = [Image.new("RGB", (side, side), (240 - i % 7, 240, 240)) for i in range(frames - 1)]
    return _saved(first, fmt, save_all=True, append_images=rest, duration=10, loop=0)


def trickled(data: bytes, *, every: float = 0.05, headers_too: bool = False, length: bool = True,
             content_type: str = "application/json", pause: float = 0.0) -> Route:
    """An answer that comes a byte every `every` seconds (after `pause`), for as long as it lasts.

    With `headers_too`, the status line and headers trickle too; without
    `length`, the answer has no Content-Length and ends when the connection does.
    """

    def route(handler: StandInHandler) -> None:
        time.sleep(pause)
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
        head += f"Content-Length: {len(data)}\r\n" if length else ""
        raw = (head + "\r\n").encode()
        slow = raw + data if headers_too else data
        if not headers_too:
            handler.wfile.write(raw)
            handler.wfile.flush()
        for index in range(len(slow)):
            handler.wfile.write(slow[index:index + 1])
            handler.wfile.flush()
            time.sleep(every)
        handler.close_connection = True

    return route
