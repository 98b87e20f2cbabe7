"""Live picture URLs (`kf_headimgurl`) that are hostile: plan warns for that account and goes on.

Pictures are downloaded only over http(s), with a size cap, a per-read timeout,
a total deadline and a redirect limit, and decoded with Pillow's bomb guard on.
A picture that cannot be read is never "different": it gives a warning, no
avatar upload, and the plan still exits 0 (or 2 for other changes).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import kfsync
from kfsync import downloads as live
from tests.helpers.security import (
    AVATAR_PATH,
    MIB,
    OpenLog,
    Route,
    Shop,
    StandIn,
    body,
    chunked_gzip,
    claimed_png,
    gzip_bomb,
    picture,
    redirect,
    seeded,
    trickle,
)

PASSWD = "file:///etc/passwd"

#: name -> (kf_headimgurl, or a route served at /p, and why the picture could not be read)
HOSTILE: dict[str, tuple[str | Route, str]] = {
    "file": (PASSWD, "not an http(s) URL"),
    "file-upper": ("FILE:///etc/passwd", "not an http(s) URL"),
    "ftp": ("ftp://127.0.0.1/p.png", "not an http(s) URL"),
    "javascript": ("javascript:alert(1)", "not an http(s) URL"),
    "redirect-loop": (redirect("/p"), "too many redirects"),
    "redirect-to-file": (redirect(PASSWD), "InvalidSchema"),
    "redirect-to-ftp": (redirect("ftp://127.0.0.1/p.png"), "InvalidSchema"),
    "not-found": (body(b"<html>404</html>", status=404, content_type="text/html"), "HTTP 404"),
    "bomb-png": (body(claimed_png(50_000, 50_000), content_type="image/png"),
                 "not a readable image (too many pixels: decompression bomb guard)"),
    "not-a-picture": (body(b"GIF89a" + b"\x00" * 50, content_type="image/gif"),
                      "not a JPEG, PNG, GIF, WebP or BMP picture; kfsync reads no other format"),
    "ten-mib": (body(b"\x89" * MIB, content_type="image/png", repeat=10),
                f"larger than {live.MAX_PICTURE_BYTES} bytes"),
    "gzip-bomb": (gzip_bomb(64), f"larger than {live.MAX_PICTURE_BYTES} bytes"),
}


def plan_with_live_picture(shop: Shop, stand_in: StandIn, target: str | Route) -> str:
    """alice declared with an avatar, live with `target` as her picture URL; returns the URL."""
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()}})
    if isinstance(target, str):
        url = target
    else:
        stand_in.routes["/p"] = target
        url = f"{stand_in.url}/p"
    shop.seed(seeded("alice", "Alice", kf_headimgurl=url))
    return url


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_live_picture_is_a_warning_not_an_upload(
        shop: Shop, stand_in: StandIn, opens: OpenLog, case: str) -> None:
    target, why = HOSTILE[case]
    plan_with_live_picture(shop, stand_in, target)
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert f"alice@shop_cs: live avatar could not be read ({why}); left as it is" in planned.out
    # The first request, then at most MAX_REDIRECTS more.
    expected = 1 + live.MAX_REDIRECTS if case == "redirect-loop" else int(not isinstance(target, str))
    assert stand_in.hit_count("/p") == expected
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert [e for e in shop.requests() if e["path"] == AVATAR_PATH] == []
    assert opens.opened("/etc/passwd") == []


def test_a_file_url_to_a_runner_file_is_never_opened(
        shop: Shop, stand_in: StandIn, opens: OpenLog, tmp_path: Path) -> None:
    secret = tmp_path / "runner-secret.png"
    secret.write_bytes(picture())
    plan_with_live_picture(shop, stand_in, secret.as_uri())
    opens.paths.clear()
    planned = shop.plan()
    assert planned.code == 0, planned.text
    assert "live avatar could not be read (not an http(s) URL)" in planned.out
    assert opens.opened(str(secret)) == []


def test_a_trickling_picture_server_is_cut_off_at_the_deadline(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYNC_PICTURE_DEADLINE", "0.2")  # 30 s by default
    plan_with_live_picture(shop, stand_in, trickle(every=0.01))
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert ("live avatar could not be read (not downloaded within the 0.2 s of "
            "KFSYNC_PICTURE_DEADLINE)") in planned.out


def test_a_good_picture_sent_chunked_and_compressed_is_compared(
        shop: Shop, stand_in: StandIn) -> None:
    plan_with_live_picture(shop, stand_in, chunked_gzip(picture()))
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "No changes." in planned.out
    assert "could not be read" not in planned.out
    assert stand_in.hit_count("/p") == 1


def test_the_caps_are_what_the_security_model_says() -> None:
    assert live.MAX_PICTURE_BYTES == 6 * MIB
    assert live.MAX_REDIRECTS == 3
    assert live.PICTURE_TIMEOUT == 10
    assert live.PICTURE_DEADLINE == 30


def test_pillow_bomb_guard_stays_on_after_importing_every_kfsync_module() -> None:
    for module in pkgutil.walk_packages(kfsync.__path__, "kfsync."):
        if module.name != "kfsync.__main__":  # that one runs the CLI
            importlib.import_module(module.name)
    from PIL import Image

    assert Image.MAX_IMAGE_PIXELS is not None
    assert 0 < Image.MAX_IMAGE_PIXELS <= 100_000_000
