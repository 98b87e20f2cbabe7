"""kfsync.avatars: the upload normalisation, its guards, and the picture fingerprint."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from kfsync import avatars
from kfsync.avatars import load_avatar, normalise_avatar, picture_hash
from kfsync.errors import AvatarError

EXAMPLES = Path(__file__).parents[2] / "examples" / "avatars"
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def stripes(width: int, height: int, colours: list[tuple[int, int, int]]) -> Image.Image:
    """Vertical stripes of equal width, left to right."""
    image = Image.new("RGB", (width, height))
    step = width // len(colours)
    for index, colour in enumerate(colours):
        image.paste(colour, (index * step, 0, (index + 1) * step, height))
    return image


def near(pixel: object, colour: tuple[int, int, int], slack: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=True))


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "CMYK", "1"])
def test_any_mode_becomes_a_640_rgb_jpeg_without_metadata(mode: str) -> None:
    source = stripes(300, 200, [RED, GREEN, BLUE]).convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"  # TIFF is not a format kfsync reads
    result = decode(normalise_avatar(encode(source, fmt)))
    assert (result.format, result.mode, result.size) == ("JPEG", "RGB", (640, 640))
    assert not result.getexif()
    assert "icc_profile" not in result.info


def test_the_output_is_deterministic() -> None:
    data = (EXAMPLES / "dora.jpg").read_bytes()
    assert normalise_avatar(data) == normalise_avatar(data)


def test_a_wide_picture_is_cropped_to_its_middle() -> None:
    result = decode(normalise_avatar(encode(stripes(300, 100, [RED, GREEN, BLUE]), "PNG")))
    assert all(near(result.getpixel(xy), GREEN) for xy in [(5, 5), (320, 320), (634, 634)])


def test_transparency_is_flattened_on_white() -> None:
    clear = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    clear.paste((0, 0, 255, 255), (16, 16, 48, 48))
    result = decode(normalise_avatar(encode(clear, "PNG")))
    assert near(result.getpixel((5, 5)), WHITE)
    assert near(result.getpixel((320, 320)), BLUE)


def test_exif_orientation_is_applied_before_cropping() -> None:
    source = stripes(200, 100, [RED, BLUE])  # rotated 90 degrees: red on top, blue below
    exif = Image.Exif()
    exif[0x0112] = 6
    result = decode(normalise_avatar(encode(source, "JPEG", exif=exif.tobytes())))
    assert near(result.getpixel((320, 100)), RED, 40)
    assert near(result.getpixel((320, 540)), BLUE, 40)
    assert not result.getexif()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a but not really", "not a JPEG, PNG, GIF, WebP or BMP picture; kfsync reads no other format"),
        (b"", "not a JPEG, PNG, GIF, WebP or BMP picture; kfsync reads no other format"),
        ((20_000, 20_000), "not a readable image (too many pixels: decompression bomb guard)"),
        ((8_000, 8_000), "the picture is 8000x8000 pixels; kfsync reads at most 50 megapixels"),
    ],
)
def test_what_is_not_a_usable_image_is_refused(
    data: bytes | tuple[int, int], reason: str, claimed_png: Callable[[int, int], bytes]
) -> None:
    with pytest.raises(AvatarError) as caught:
        normalise_avatar(claimed_png(*data) if isinstance(data, tuple) else data)
    assert str(caught.value) == reason


def test_a_truncated_image_is_refused() -> None:
    data = encode(stripes(300, 300, [RED, BLUE]), "PNG")
    with pytest.raises(AvatarError, match="not a readable image"):
        normalise_avatar(data[: len(data) // 2])


def test_load_avatar_returns_the_upload_bytes(tmp_path: Path) -> None:
    path = EXAMPLES / "chen.png"
    assert load_avatar(path) == normalise_avatar(path.read_bytes())


def test_load_avatar_refuses_what_does_not_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = EXAMPLES / "alice.jpg"
    size = len(load_avatar(path))
    monkeypatch.setattr(avatars, "MAX_UPLOAD_BYTES", size - 1)
    with pytest.raises(AvatarError) as caught:
        load_avatar(path)
    assert str(caught.value) == (
        f"the picture is {size} bytes as a JPEG; WeChat takes at most {size - 1} bytes"
    )
    monkeypatch.setattr(avatars, "MAX_SOURCE_BYTES", 1024 * 1024)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    with pytest.raises(AvatarError, match="the file is over 1 MiB"):
        load_avatar(big)


def test_load_avatar_names_a_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(AvatarError, match=r"cannot read .*nope\.png: No such file"):
        load_avatar(tmp_path / "nope.png")


def test_picture_hash_survives_reencoding_but_tells_pictures_apart() -> None:
    uploads = [normalise_avatar(path.read_bytes()) for path in sorted(EXAMPLES.iterdir())]
    hashes = [picture_hash(data) for data in uploads]
    assert all(len(value) == 64 and int(value, 16) >= 0 for value in hashes)
    for data, value in zip(uploads, hashes, strict=True):
        served = encode(decode(data), "JPEG", quality=60)  # as a CDN re-compresses
        assert (int(picture_hash(served), 16) ^ int(value, 16)).bit_count() <= 8
    for i, left in enumerate(hashes):
        for right in hashes[i + 1 :]:
            assert (int(left, 16) ^ int(right, 16)).bit_count() > 40


def test_picture_hash_refuses_a_non_image() -> None:
    with pytest.raises(AvatarError):
        picture_hash(b"nope")
