"""Avatars over HTTP: compared by picture, not by bytes or URL, through the picture cache."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest

from kfsync.avatars import load_avatar
from kfsync.providers.wechat_mp.client import KfClient
from tests.helpers.e2e import AVATAR_PATH, Shop, kf, picture, reencode, seeded


def in_sync(shop: Shop) -> None:
    """Alice and Bob with their avatars applied; nothing left to do."""
    shop.write_config({
        "alice": {"nickname": "Alice", "avatar": shop.avatar("alice.png", "stripes")},
        "bob": {"nickname": "Bob", "avatar": shop.avatar("bob.jpg", "diagonal", "JPEG")},
    })
    assert shop.apply("--auto-approve").code == 0
    shop.assert_converged()


def _replaced_locally(shop: Shop, console: KfClient) -> str:
    (shop.folder / "avatars" / "alice.png").write_bytes(picture("checker"))
    return kf("alice")


def _changed_in_the_console(shop: Shop, console: KfClient) -> str:
    console.set_avatar(kf("bob"), picture("frame", "JPEG"))
    return kf("bob")


@pytest.mark.parametrize("change", [_replaced_locally, _changed_in_the_console],
                         ids=["replaced-locally", "changed-in-the-console"])
def test_avatar_that_differs_is_uploaded(
        shop: Shop, console: KfClient, change: Callable[[Shop, KfClient], str]) -> None:
    in_sync(shop)
    account = change(shop, console)
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 2, planned.text
    assert re.search(rf"~ set_avatar {account}  avatar \S+ → \S+  # live avatar is a different picture",
                     planned.out), planned.out
    assert "Plan: 0 to add, 0 to change, 0 to delete, 0 to invite, 1 avatar" in planned.out
    since = shop.last_seq()
    assert shop.apply("--auto-approve").code == 0
    assert [e["query"]["kf_account"] for e in shop.calls(AVATAR_PATH, since)] == [account]
    shop.assert_converged()


def test_same_picture_encoded_again_is_no_change(shop: Shop, console: KfClient) -> None:
    in_sync(shop)
    wanted = load_avatar(shop.folder / "avatars" / "alice.png")
    console.set_avatar(kf("alice"), reencode(wanted, 55))
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "No changes." in planned.out


def test_second_plan_downloads_no_picture(shop: Shop) -> None:
    shop.write_config({
        "alice": {"nickname": "Alice", "avatar": shop.avatar("alice.png", "stripes")},
        "bob": {"nickname": "Bob", "avatar": shop.avatar("bob.png", "halves")},
        "cy": {"nickname": "Cy"},  # no declared avatar: its live picture is not worth fetching
    })
    live_picture = {"headimg_base64": base64.b64encode(picture("frame", "JPEG")).decode()}
    shop.seed(seeded("alice", "Alice", **live_picture), seeded("bob", "Bob", **live_picture),
              seeded("cy", "Cy", **live_picture))
    first = shop.plan()
    assert first.code == 0, first.text
    assert shop.picture_downloads() == 2
    since = shop.last_seq()
    second = shop.plan()
    assert second.out == first.out
    assert shop.picture_downloads(since) == 0

    since = shop.last_seq()
    fresh = shop.plan("--cache-dir", shop.folder.parent / "another-cache")
    assert fresh.out == first.out  # the cache only saves time
    assert shop.picture_downloads(since) == 2


def test_live_picture_that_cannot_be_fetched_is_a_warning_not_an_upload(shop: Shop) -> None:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar("alice.png", "stripes")}})
    gone = f"{shop.emulator.base_url}/mmbiz_jpg/{'0' * 40}/0"
    shop.seed(seeded("alice", "Alice", kf_headimgurl=gone))
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "alice@shop_cs: live avatar could not be read (HTTP 404); left as it is" in planned.out
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert shop.calls(AVATAR_PATH) == []
