"""uploadheadimg: JPEG by content, 5 MB limit, CDN re-encoding, a new URL per upload."""

from __future__ import annotations

import io
import os

import pytest
import requests
from PIL import Image

from kfsync.emulator import Emulator
from tests.helpers.emu_wire import OK, Wx, jpeg, kf, png

ALICE = kf("alice")
UPLOAD = "/customservice/kfaccount/uploadheadimg"


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    wx = Wx(emulator.base_url)
    wx.add("alice")
    return wx


def fetch(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


def test_upload_serves_a_re_encoded_640_square_jpeg(wx: Wx, emulator: Emulator) -> None:
    original = jpeg((200, 120), quality=95)
    assert wx.upload(ALICE, original) == OK
    url = wx.accounts()[ALICE]["kf_headimgurl"]
    assert url.startswith(f"{emulator.base_url}/mmbiz_jpg/")
    assert url.endswith("/0")
    served = fetch(url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.content != original
    with Image.open(io.BytesIO(served.content)) as picture:
        assert (picture.format, picture.size) == ("JPEG", (640, 640))


def test_every_upload_gets_a_new_url(wx: Wx) -> None:
    wx.upload(ALICE, jpeg(color="red"))
    first = wx.accounts()[ALICE]["kf_headimgurl"]
    wx.upload(ALICE, jpeg(color="red"))
    second = wx.accounts()[ALICE]["kf_headimgurl"]
    assert first != second
    assert fetch(second).status_code == 200
    assert fetch(first).status_code == 404  # replaced pictures are dropped


def test_type_is_detected_by_content_not_by_name(wx: Wx) -> None:
    assert wx.upload(ALICE, png(), filename="a.jpg") == {
        "errcode": 40005, "errmsg": "invalid file type"}
    assert wx.upload(ALICE, b"\xff\xd8\xff" + b"garbage" * 10)["errcode"] == 40005
    assert wx.upload(ALICE, jpeg(), filename="a.png", content_type="image/png") == OK


def test_more_than_5_mb_gives_40009(wx: Wx) -> None:
    big = jpeg() + os.urandom(5 * 1024 * 1024)
    assert wx.upload(ALICE, big)["errcode"] == 40009


def test_malformed_uploads(wx: Wx) -> None:
    params = {"kf_account": ALICE}
    assert wx.post(UPLOAD, params=params, files={"file": ("a.jpg", jpeg())})["errcode"] == 40097
    assert wx.post(UPLOAD, params=params)["errcode"] == 44002
    assert wx.post(UPLOAD, params=params, data=b"x",
                   headers={"Content-Type": "multipart/form-data"})["errcode"] == 40097
    assert wx.upload(kf("nobody"), jpeg())["errcode"] == 65401
    assert wx.post(UPLOAD, files={"media": ("a.jpg", jpeg())})["errcode"] == 65401


def test_picture_urls_follow_the_host_the_client_used(wx: Wx, emulator: Emulator) -> None:
    wx.upload(ALICE, jpeg())
    port = emulator.base_url.rsplit(":", 1)[1]
    other = Wx(f"http://localhost:{port}")
    url = other.get("/cgi-bin/customservice/getkflist", token=wx.token)["kf_list"][0][
        "kf_headimgurl"]
    assert url.startswith(f"http://localhost:{port}/mmbiz_jpg/")
    assert fetch(url).status_code == 200


def test_unknown_pictures_are_404(emulator: Emulator) -> None:
    assert fetch(f"{emulator.base_url}/mmbiz_jpg/nothing/0").status_code == 404


def test_deleting_the_account_drops_its_picture(wx: Wx) -> None:
    wx.upload(ALICE, jpeg())
    url = wx.accounts()[ALICE]["kf_headimgurl"]
    wx.get("/customservice/kfaccount/del", kf_account=ALICE)
    assert fetch(url).status_code == 404
