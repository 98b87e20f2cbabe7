"""Temporary media: upload, the 3-day expiry on the emulator clock, formats, sizes, avatars."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageChops, ImageStat

from kfsync.errors import UsageError, WeChatError
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import WeComEmulator
from tests.helpers.wecom import bootstrap, calls_to, picture

UPLOAD = "/cgi-bin/media/upload"


def test_upload_answers_a_media_id_and_its_time(wecom: WeComEmulator, client: WeComClient) -> None:
    media = client.upload_image(picture())
    assert media.type == "image"
    assert media.created_at == wecom.admin.now()
    assert media.expires_at == media.created_at + 3 * 86400
    call = calls_to(wecom, UPLOAD)[0]
    assert call["query"]["type"] == "image"
    part = call["body"]["multipart"]["media"]
    assert part["content_type"] == "image/jpeg"
    assert part["filename"] == "avatar.jpg"


def test_upload_from_a_path_keeps_its_name(wecom: WeComEmulator, client: WeComClient,
                                           tmp_path: Path) -> None:
    path = tmp_path / "desk.png"
    path.write_bytes(picture("PNG"))
    client.upload_image(path)
    part = calls_to(wecom, UPLOAD)[0]["body"]["multipart"]["media"]
    assert (part["filename"], part["content_type"]) == ("desk.png", "image/png")
    with pytest.raises(UsageError, match="cannot read avatar picture"):
        client.upload_image(tmp_path / "missing.png")


def test_media_expire_after_three_days(wecom: WeComEmulator, client: WeComClient) -> None:
    bootstrap(wecom)
    media = client.upload_image(picture())
    wecom.admin.advance_clock(3 * 86400 - 1)
    client.add_account("In time", media.media_id)
    wecom.admin.advance_clock(1)
    with pytest.raises(WeChatError) as exc:
        client.add_account("Too late", media.media_id)
    assert exc.value.errcode == 40007
    assert "upload again" in str(exc.value)


@pytest.mark.parametrize(("data", "code"), [
    (picture("GIF"), 40005), (b"GIF89", 40006), (b"\xff\xd8\xff" + b"\0" * 64, 40005),
    (picture("JPEG", (3000, 3000)) + b"\0" * (2 * 1024 * 1024), 40009)])
def test_bad_uploads(wecom: WeComEmulator, client: WeComClient, data: bytes, code: int) -> None:
    with pytest.raises(WeChatError) as exc:
        client.upload_image(data)
    assert exc.value.errcode == code


def test_image_cap_switch(wecom: WeComEmulator, client: WeComClient) -> None:
    big = picture("JPEG", (64, 64)) + b"\0" * (3 * 1024 * 1024)
    with pytest.raises(WeChatError):
        client.upload_image(big)
    wecom.admin.switch(image_max_mb=10)
    assert client.upload_image(big).media_id


def test_avatars_are_served_re_encoded_and_look_the_same(wecom: WeComEmulator,
                                                         client: WeComClient) -> None:
    bootstrap(wecom)
    original = picture("PNG", (200, 120), "teal")
    open_kfid = client.add_account("Pictured", client.upload_image(original).media_id)
    avatar = {a.open_kfid: a.avatar for a in client.list_accounts()}[open_kfid]
    assert avatar is not None
    served = requests.get(avatar, timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.content != original
    with Image.open(io.BytesIO(served.content)) as got, Image.open(io.BytesIO(original)) as want:
        assert got.format == "JPEG"
        assert got.size == (640, 640)
        difference = ImageChops.difference(got.convert("RGB"),
                                           want.convert("RGB").resize(got.size))
        assert max(ImageStat.Stat(difference).mean) < 8
    client.delete_account(open_kfid)
    assert requests.get(avatar, timeout=10).status_code == 404


def test_media_are_not_served_as_avatars(wecom: WeComEmulator, client: WeComClient) -> None:
    media = client.upload_image(picture())
    url = f"{wecom.base_url}/wwhead/{media.media_id}/0"
    assert requests.get(url, timeout=10).status_code == 404
    assert requests.get(f"{wecom.base_url}/cgi-bin/kf/nothing", timeout=10).status_code == 404
