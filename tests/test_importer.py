"""The pure half of import: choosing the accounts, the binding table, the schema check, the YAML text."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageDraw

from kfsync.avatars import normalise_avatar, picture_hash
from kfsync.config import load_config
from kfsync.errors import AvatarError, UsageError
from kfsync.model import LiveAccount
from kfsync.plan import SAME_PICTURE_BITS, hamming
from kfsync.providers.wechat_mp.importer import (
    Imported,
    ImportedAccount,
    UnimportableError,
    build_import,
    check_import,
    prepare_avatar,
    render_config,
    scalar,
    select_accounts,
)

NOW = 1_800_000_000


def kf(kf_account: str, nickname: str = "Nick", **fields: Any) -> LiveAccount:
    return LiveAccount(kf_account=kf_account, nickname=nickname, **fields)


# --------------------------------------------------------------------------- choosing


def test_the_one_shared_suffix_is_the_wechat_id() -> None:
    wechat_id, mine, warnings = select_accounts([kf("b@shop"), kf("a@shop")], None)
    assert (wechat_id, [a.prefix for a in mine], warnings) == ("shop", ["a", "b"], ())


def test_no_accounts_and_mixed_suffixes_need_a_wechat_id() -> None:
    with pytest.raises(UsageError, match=r"no live kf accounts .* pass --wechat-id"):
        select_accounts([], None)
    with pytest.raises(UsageError, match=r"2 different suffixes \(one, two\); pass --wechat-id"):
        select_accounts([kf("a@two"), kf("b@one")], None)


def test_an_explicit_wechat_id_skips_the_others_with_a_warning() -> None:
    wechat_id, mine, warnings = select_accounts([kf("a@one"), kf("b@two"), kf("c")], "one")
    assert (wechat_id, [a.kf_account for a in mine]) == ("one", ["a@one"])
    assert warnings == ("b@two is not an account of one; skipped", "c is not an account of one; skipped")


# --------------------------------------------------------------------------- the binding table


@pytest.mark.parametrize(
    ("fields", "wechat", "pending", "note"),
    [
        ({}, None, False, None),
        ({"kf_wx": "bound_wx1"}, "bound_wx1", False, None),
        ({"kf_wx": "bound_wx1", "invite_wx": "other_wx", "invite_status": "waiting",
          "invite_expire_time": NOW + 60}, "bound_wx1", False, None),
        ({"invite_wx": "wait_wx1", "invite_status": "waiting", "invite_expire_time": NOW + 60},
         "wait_wx1", True, None),
        ({"invite_wx": "wait_wx1", "invite_status": "waiting", "invite_expire_time": NOW},
         None, False, "invitation to wait_wx1 expired; add `wechat: wait_wx1` to invite again"),
        ({"invite_wx": "gone_wx1", "invite_status": "expired", "invite_expire_time": NOW + 60},
         None, False, "invitation to gone_wx1 expired; add `wechat: gone_wx1` to invite again"),
        ({"invite_wx": "no_wx123", "invite_status": "rejected", "invite_expire_time": NOW + 60},
         None, False, "invitation to no_wx123 was rejected; add `wechat: no_wx123` to invite again"),
    ],
)
def test_binding_mirrors_what_plan_would_invite(
    fields: dict[str, Any], wechat: str | None, pending: bool, note: str | None
) -> None:
    imported = build_import("shop", [kf("a@shop", **fields)], now=NOW)
    (entry,) = imported.accounts
    assert (entry.wechat, entry.pending) == (wechat, pending)
    assert entry.notes == ((note,) if note else ())
    if pending:
        assert entry.wechat_note == "invitation pending until 2027-01-15 16:01+08:00"
    assert (imported.bound, imported.pending) == (int(wechat is not None and not pending), int(pending))


def test_avatars_and_their_failures() -> None:
    imported = build_import(
        "shop", [kf("a@shop"), kf("b@shop")], now=NOW,
        avatars={"a": "avatars/a.jpg"}, avatar_failures={"b": "HTTP 404"},
    )
    a, b = imported.accounts
    assert (a.avatar, b.avatar, imported.avatars) == ("avatars/a.jpg", None, 1)
    assert b.notes == ("live avatar not imported (HTTP 404); add avatar: to manage it",)
    assert imported.warnings == ("b@shop: avatar not imported (HTTP 404); written without it",)


# --------------------------------------------------------------------------- the schema check


def test_a_prefix_the_schema_refuses_names_the_account() -> None:
    imported = build_import("shop", [kf("a@shop"), kf("elevenchars@shop")], now=NOW)
    with pytest.raises(UnimportableError, match=r"^cannot import elevenchars@shop: accounts\.elevenchars"):
        check_import(imported)


@pytest.mark.parametrize("nickname", ["", "x" * 17, "two\nlines", " padded"])
def test_a_nickname_the_schema_refuses_names_the_account(nickname: str) -> None:
    with pytest.raises(UnimportableError, match=r"^cannot import a@shop: accounts\.a\.nickname: "):
        check_import(build_import("shop", [kf("a@shop", nickname)], now=NOW))


def test_a_wechat_or_appid_the_schema_refuses_is_left_out() -> None:
    imported = build_import("shop", [kf("a@shop", kf_wx="abc")], now=NOW, appid="wxNOPE")
    checked = check_import(imported)
    assert checked.appid is None
    (entry,) = checked.accounts
    assert entry.wechat is None
    assert entry.notes == ("works with WeChat ID abc, which kfsync.yaml cannot hold",)
    assert checked.warnings[0].startswith("a@shop: works with WeChat ID abc, which kfsync.yaml cannot hold")


# --------------------------------------------------------------------------- the YAML text


@pytest.mark.parametrize(
    "value",
    ["小美", "陈师傅·售后", "true", "null", "007", "1_000", "0x1F", "Bob: the #1", "# x", "- x", "@x",
     "'q'", '"q"', "a\\b", "x\ny", "a\u2028b", "é\x85", "tab\there", "~", "yes", "1e3"],
)
def test_scalar_reads_back_the_same_on_one_line(value: str) -> None:
    text = scalar(value)
    assert "\n" not in text
    assert yaml.safe_load(f"key: {text}  # comment\n") == {"key": value}


def test_cjk_is_kept_as_utf8() -> None:
    assert scalar("小美") == "小美"


def test_an_empty_account_list_is_valid(tmp_path: Path) -> None:
    text = render_config(Imported("shop", ()))
    assert "accounts: {}" in text
    (tmp_path / "kfsync.yaml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "kfsync.yaml").accounts == ()


def test_rendered_text_loads_back_to_the_same_accounts(tmp_path: Path) -> None:
    nicknames = ["小美", "true", "Bob: the #1", "'q'", "-x", "@x", "a # b", "[x]", "{y}", "%z", "é"]
    accounts = [kf(f"p{i}@shop", nick, kf_wx=f"user_wx{i}") for i, nick in enumerate(nicknames)]
    imported = check_import(build_import("shop", accounts, now=NOW, appid="wx0123456789abcdef"))
    (tmp_path / "kfsync.yaml").write_text(render_config(imported), encoding="utf-8")
    config = load_config(tmp_path / "kfsync.yaml")
    assert [(a.prefix, a.nickname, a.wechat) for a in config.accounts] == sorted(
        (f"p{i}", nick, f"user_wx{i}") for i, nick in enumerate(nicknames)
    )
    assert config.official_account is not None
    assert config.official_account.appid == "wx0123456789abcdef"


def test_comments_never_break_a_line() -> None:
    entry = ImportedAccount("a", "A", wechat="user_wx1", wechat_note="x\ny", notes=("one\rtwo\u2028",))
    text = render_config(Imported("shop", (entry,)))
    assert "# x y" in text
    assert "# one two " in text
    assert yaml.safe_load(text)["accounts"] == {"a": {"nickname": "A", "wechat": "user_wx1"}}


# --------------------------------------------------------------------------- pictures


def patterned(size: tuple[int, int], fmt: str) -> bytes:
    image = Image.new("RGB", size, (240, 240, 230))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 24):
        draw.rectangle((x, 0, x + 11, size[1] // 2), fill=(20, 30, 90))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def test_a_live_jpeg_is_saved_as_served_and_compares_equal() -> None:
    data = patterned((640, 640), "JPEG")
    saved = prepare_avatar(data)
    assert saved == data
    assert hamming(picture_hash(data), picture_hash(normalise_avatar(saved))) <= SAME_PICTURE_BITS


def test_a_live_png_is_saved_as_a_jpeg() -> None:
    saved = prepare_avatar(patterned((320, 320), "PNG"))
    assert saved.startswith(b"\xff\xd8\xff")


def test_a_picture_that_would_not_compare_equal_is_refused() -> None:
    image = Image.new("RGB", (1920, 640), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((0, 0, 639, 639), fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG")
    with pytest.raises(AvatarError, match="plan would want to upload it"):
        prepare_avatar(out.getvalue())


def test_garbage_is_not_a_picture() -> None:
    with pytest.raises(AvatarError, match="not a JPEG, PNG, GIF, WebP or BMP picture"):
        prepare_avatar(b"\xff\xd8\xff not really")
