"""Pictures in formats kfsync does not read, whatever their name: one clean refusal, no decoder run.

Pillow picks a decoder from a file's content, not its name, and some of its
decoders run programs (EPS runs Ghostscript on the PostScript inside).  kfsync
opens pictures only as JPEG, PNG, GIF, WebP or BMP: declared avatars
(`validate`, `plan`), live pictures (`plan`, `import`) and the emulator's
uploads.  A fake `gs` that leaves a mark proves that no PostScript ever reaches it.
"""

from __future__ import annotations

import base64
import io
import subprocess
from pathlib import Path

import pytest
import requests
from PIL import EpsImagePlugin, Image

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET
from kfsync.pictures import SUPPORTED_FORMATS
from tests.helpers.hostile import DISGUISED, PILLOW_READS
from tests.helpers.security import AVATAR_PATH, Shop, StandIn, assert_one_line_error, body, picture, seeded

REFUSAL = "not a JPEG, PNG, GIF, WebP or BMP picture; kfsync reads no other format"
NAMES = ("a.png", "a.jpg")


@pytest.fixture
def ghostscript(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `gs` that Pillow would run for EPS; it leaves the returned file when it runs."""
    mark = tmp_path / "ghostscript-ran"
    fake = tmp_path / "gs"
    fake.write_text(f"#!/bin/sh\ntouch {mark}\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", str(fake))
    monkeypatch.setattr(EpsImagePlugin, "has_ghostscript", lambda: True)
    return mark


def test_the_fake_ghostscript_runs_when_pillow_picks_the_decoder(ghostscript: Path) -> None:
    """The control: Pillow left to itself opens EPS named anything, and runs gs to decode it."""
    with Image.open(io.BytesIO(DISGUISED["eps"])) as opened:
        assert opened.format == "EPS"
        with pytest.raises(subprocess.CalledProcessError):  # what used to end in exit 70
            opened.load()
    assert ghostscript.exists()
    for name in PILLOW_READS:  # each of these would be decoded by some Pillow plugin
        with Image.open(io.BytesIO(DISGUISED[name])) as opened:
            assert opened.format not in SUPPORTED_FORMATS, name


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fmt", sorted(DISGUISED))
def test_a_declared_avatar_in_another_format_is_one_error_naming_the_file(
        shop: Shop, ghostscript: Path, fmt: str, name: str) -> None:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar(name, DISGUISED[fmt])}})
    validated = shop.run("validate", "-c", shop.config)
    assert validated.code == 1, validated.text
    assert "invalid, 1 problem" in validated.text
    assert f"kfsync.yaml:7:13: accounts.alice.avatar: avatars/{name}: {REFUSAL}" in validated.text
    line = assert_one_line_error(shop.plan())
    assert f"avatars/{name}: {REFUSAL}" in line
    assert shop.requests() == []
    assert not ghostscript.exists()


@pytest.mark.parametrize(("fmt", "name"), [("WEBP", "a.png"), ("BMP", "a.jpg"), ("GIF", "a.png"),
                                           ("PNG", "a.jpg"), ("JPEG", "a.gif"), ("WEBP", "a"),
                                           ("MPO", "a.jpg")])
def test_a_supported_format_is_read_whatever_its_name(shop: Shop, fmt: str, name: str) -> None:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar(name, picture(fmt=fmt))}})
    assert shop.run("validate", "-c", shop.config).code == 0
    planned = shop.plan()
    assert planned.code == 0, planned.text
    assert shop.apply("--auto-approve").code == 0
    assert len([e for e in shop.requests() if e["path"] == AVATAR_PATH]) == 1


@pytest.mark.parametrize("fmt", ["eps", "psd", "tiff", "ico", "svg", "xbm", "pdf", "postscript"])
def test_a_live_picture_in_another_format_is_a_warning(
        shop: Shop, stand_in: StandIn, ghostscript: Path, fmt: str) -> None:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()}})
    stand_in.routes["/p.jpg"] = body(DISGUISED[fmt], content_type="image/jpeg")
    shop.seed(seeded("alice", "Alice", kf_headimgurl=f"{stand_in.url}/p.jpg"))
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert f"alice@shop_cs: live avatar could not be read ({REFUSAL}); left as it is" in planned.out
    assert not ghostscript.exists()


@pytest.mark.parametrize("fmt", ["eps", "psd", "tiff", "ico"])
def test_import_refuses_a_live_picture_in_another_format(
        shop: Shop, stand_in: StandIn, ghostscript: Path, fmt: str) -> None:
    stand_in.routes["/p.png"] = body(DISGUISED[fmt], content_type="image/png")
    shop.seed(seeded("alice", "Alice", kf_headimgurl=f"{stand_in.url}/p.png"))
    out = shop.folder / "imported.yaml"
    imported = shop.run("import", "-o", out)
    assert imported.code == 0, imported.text
    assert f"alice@shop_cs: avatar not imported ({REFUSAL})" in imported.err
    assert not (shop.folder / "avatars").exists() or not any((shop.folder / "avatars").iterdir())
    assert not ghostscript.exists()


@pytest.mark.parametrize("fmt", ["eps", "psd", "tiff", "png", "gif", "webp"])
def test_the_emulator_takes_jpeg_only_as_wechat(shop: Shop, ghostscript: Path, fmt: str) -> None:
    data = DISGUISED.get(fmt) or picture(fmt=fmt.upper())
    base = shop.emulator.base_url
    token = requests.post(f"{base}/cgi-bin/stable_token", timeout=10, json={
        "grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET,
    }).json()["access_token"]
    shop.seed(seeded("alice", "Alice"))
    for payload in (data, b"\xff\xd8\xff" + data):  # with a JPEG's first bytes, too
        answer = requests.post(f"{base}{AVATAR_PATH}", timeout=10,
                               params={"access_token": token, "kf_account": "alice@shop_cs"},
                               files={"media": ("a.jpg", payload, "image/jpeg")}).json()
        assert answer["errcode"] == 40005, answer
    with pytest.raises(Exception, match="40005"):
        shop.admin.seed(accounts=[seeded("bob", "Bob", headimg_base64=base64.b64encode(data).decode())])
    assert not ghostscript.exists()
