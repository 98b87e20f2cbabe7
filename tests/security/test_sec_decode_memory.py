"""Memory bombs under the pixel guard: checked from the header, decoded within a shared budget.

A small file can claim a picture that decodes to hundreds of MiB (16-bit,
RGBA, CMYK, palette, progressive JPEG, WebP...), and eight workers decoding
such pictures at once took `plan` to 7 GiB.  kfsync estimates each picture's
decoding memory from its header, refuses a picture that alone exceeds the
budget before decoding a pixel, and lets the workers decode at once only as
much as the budget holds.  Each test shrinks the budget so that small pictures
play the bombs; the real figure (100 hostile pictures under 1 GiB) is measured
in bench/.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from kfsync import pictures
from kfsync.avatars import fingerprint_avatars, picture_hash
from kfsync.errors import AvatarError
from tests.helpers.hostile import BOMB_KINDS, animated, bomb
from tests.helpers.security import Shop, StandIn, assert_one_line_error, body, seeded

MIB = 1024 * 1024
#: A baseline JPEG is decoded at 1/2 to 1/8 scale (its DCT allows it): never over the budget.
OVER_BUDGET = tuple(kind for kind in BOMB_KINDS if kind != "jpeg-cmyk")


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> pictures.MemoryBudget:
    """A budget of 40 MiB: a 1400x1400 picture (17 to 34 MiB to decode) fits, two do not."""
    small = pictures.MemoryBudget(40 * MIB)
    monkeypatch.setattr(pictures, "BUDGET", small)
    return small


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of the pictures whose pixels were decoded."""
    seen: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        seen.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return seen


@pytest.mark.parametrize("kind", OVER_BUDGET)
def test_a_picture_over_the_budget_is_refused_from_its_header(
        shop: Shop, budget: pictures.MemoryBudget, loads: list[tuple[int, int]], kind: str) -> None:
    data = bomb(kind, 3000)  # 54 to 103 MiB to decode, in a file of a few KiB (BMP: 1 MiB)
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar("a.png", data)}})
    line = assert_one_line_error(shop.plan())
    assert "avatars/a.png: decoding the 3000x3000 picture would take about " in line
    assert "kfsync decodes pictures within 40 MiB" in line
    assert loads == []
    assert budget.most_used == 0


@pytest.mark.parametrize("kind", OVER_BUDGET)
def test_a_live_picture_over_the_budget_is_a_warning(
        shop: Shop, stand_in: StandIn, budget: pictures.MemoryBudget, loads: list[tuple[int, int]],
        kind: str) -> None:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()}})
    stand_in.routes["/p"] = body(bomb(kind, 3000), content_type="image/png")
    shop.seed(seeded("alice", "Alice", kf_headimgurl=f"{stand_in.url}/p"))
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "alice@shop_cs: live avatar could not be read (decoding the 3000x3000 picture" in planned.out
    assert (3000, 3000) not in loads  # only the declared avatar was decoded


def test_many_bombs_at_once_decode_within_the_budget(
        tmp_path: Path, budget: pictures.MemoryBudget) -> None:
    files = []
    for index in range(24):
        kind = BOMB_KINDS[index % len(BOMB_KINDS)]
        path = tmp_path / f"{index}.png"
        data = bomb(kind, 1400 + index)  # each one different, so none comes from another
        path.write_bytes(data)
        files.append(path)
    found = fingerprint_avatars(files)
    assert all(not isinstance(result, AvatarError) for result in found.values()), found
    assert 0 < budget.most_used <= budget.capacity


@pytest.mark.parametrize(("mode", "per_pixel"), [("1", 9), ("P", 9), ("L", 9), ("I;16", 9),
                                                 ("RGB", 9), ("RGBA", 9), ("CMYK", 9)])
def test_the_cost_counts_the_decoded_frame_and_a_working_copy(mode: str, per_pixel: int) -> None:
    assert pictures.decode_cost(7000, 7000, mode) == 7000 * 7000 * per_pixel
    assert pictures.decode_cost(7000, 7000, mode, webp=True) == 7000 * 7000 * (per_pixel + 10)


def test_the_largest_picture_the_pixel_guard_allows_fits_the_default_budget() -> None:
    side = int(pictures.MAX_PIXELS ** 0.5)
    assert pictures.decode_cost(side, side, "RGBA") <= pictures.DECODE_BUDGET


def test_a_progressive_jpeg_counts_its_coefficients_at_any_scale(
        budget: pictures.MemoryBudget) -> None:
    data = bomb("jpeg-progressive", 3000)  # decoded at 1/8 for a fingerprint: 375x375
    with pytest.raises(AvatarError, match="decoding the 3000x3000 picture would take about 52 MiB"):
        picture_hash(data)
    baseline = bomb("jpeg-cmyk", 3000)
    assert len(picture_hash(baseline)) == 64  # the same size, baseline: drafted, fits


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_an_animation_is_its_first_frame_and_no_other_frame_is_decoded(
        monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    seeks: list[int] = []
    seek = Image.Image.seek

    def spy(self: Image.Image, frame: int) -> None:
        seeks.append(frame)
        seek(self, frame)

    many = animated(fmt, 400)
    with Image.open(io.BytesIO(many)) as opened:
        assert getattr(opened, "n_frames", 1) > 100  # WebP merges frames that look alike
        monkeypatch.setattr(type(opened), "seek", spy)
    first = picture_hash(animated(fmt, 1))
    seeks.clear()
    assert picture_hash(many) == first
    assert [frame for frame in seeks if frame != 0] == []
