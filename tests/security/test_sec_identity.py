"""kfsync refuses to work on the wrong Official Account, and never skips the check in silence.

- The AppID guard: `official_account.appid` must match the credentials.  A
  static token does not say whose it is, so the AppID then comes from
  KFSYNC_APPID, and without it kfsync refuses with a hint.
- The suffix: a mistyped `official_account.wechat_id` would add every account
  under the wrong suffix.  When live accounts exist and none carries the
  configured suffix, kfsync stops with one error naming the one WeChat uses.
"""

from __future__ import annotations

import json

import pytest

from kfsync.emulator import DEFAULT_APPID
from tests.helpers.security import LIST_PATH, Route, Shop, StandIn, assert_one_line_error, body, kf, seeded

OTHER_APPID = "wx0123456789abcdef"


@pytest.fixture
def static_shop(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Shop:
    """The shop with a static token of the emulator's account (and no KFSYNC_APPID yet)."""
    from kfsync.providers.wechat_mp.client import KfClient

    with KfClient() as client:  # a token from the emulator, as a central token service would give
        token = client.tokens.current()
    shop.secrets.add(token)
    monkeypatch.setenv("KFSYNC_TOKEN_MODE", "static")
    monkeypatch.setenv("KFSYNC_ACCESS_TOKEN", token)
    monkeypatch.delenv("KFSYNC_APPSECRET")
    monkeypatch.delenv("KFSYNC_APPID")
    return shop


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_static_mode_refuses_an_appid_it_cannot_check(static_shop: Shop, command: str) -> None:
    static_shop.write_config({"alice": {"nickname": "Alice"}},
                             official_account={"wechat_id": "shop_cs", "appid": OTHER_APPID})
    line = assert_one_line_error(static_shop.run(command, "-c", static_shop.config, "--auto-approve")
                                 if command == "apply" else static_shop.plan())
    assert f"official_account.appid is {OTHER_APPID}" in line
    assert "set KFSYNC_APPID" in line
    assert "remove official_account.appid" in line
    assert static_shop.writes() == []
    assert "/cgi-bin/customservice/getkflist" not in static_shop.paths()


@pytest.mark.parametrize(("given", "code"), [(OTHER_APPID, 1), (DEFAULT_APPID, 0)])
def test_static_mode_compares_kfsync_appid_with_the_config(
        static_shop: Shop, monkeypatch: pytest.MonkeyPatch, given: str, code: int) -> None:
    monkeypatch.setenv("KFSYNC_APPID", given)
    static_shop.write_config({"alice": {"nickname": "Alice"}},
                             official_account={"wechat_id": "shop_cs", "appid": DEFAULT_APPID})
    run = static_shop.plan()
    assert run.code == code, run.text
    if code:
        assert f"the credentials are for {OTHER_APPID}" in assert_one_line_error(run)


def test_static_mode_without_an_appid_in_the_config_runs(static_shop: Shop) -> None:
    static_shop.write_config({"alice": {"nickname": "Alice"}})
    assert static_shop.apply("--auto-approve").code == 0


@pytest.mark.parametrize("typed", ["Shop_CS", "shop_sc", "shopcs", "gh_0123456789ab", "shop_cs2"])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_mistyped_wechat_id_stops_with_the_suffix_wechat_uses(
        shop: Shop, typed: str, command: str) -> None:
    shop.seed(*(seeded(p, p.title()) for p in ("alice", "bob", "carol")))
    shop.write_config({p: {"nickname": p.title()} for p in ("alice", "bob", "dave")},
                      official_account={"wechat_id": typed})
    run = shop.run(command, "-c", shop.config, *(["--auto-approve"] if command == "apply" else []))
    line = assert_one_line_error(run)
    assert f"official_account.wechat_id is {typed}" in line
    assert "none of the 3 live accounts" in line
    assert "WeChat uses @shop_cs" in line
    assert "set official_account.wechat_id: shop_cs" in line
    assert run.out == ""
    assert shop.writes() == []


def live_list(*kf_accounts: str) -> Route:
    """A getkflist answer with these accounts (the emulator holds only its own suffix)."""
    return body(json.dumps({"kf_list": [{"kf_account": a, "kf_nick": "N", "kf_id": i}
                                        for i, a in enumerate(kf_accounts)]}).encode())


def test_the_suffix_wechat_uses_most_is_named(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    stand_in.routes[LIST_PATH] = live_list("alice@shop_cs", "bob@shop_cs", "zed@old_cs")
    shop.write_config({"alice": {"nickname": "A"}}, official_account={"wechat_id": "shop"})
    line = assert_one_line_error(shop.plan())
    assert "none of the 3 live accounts ends in @shop" in line
    assert "WeChat uses @shop_cs (2 of them) (and 1 other suffixes)" in line


def test_ignored_accounts_and_an_empty_live_side_do_not_stop_the_plan(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.write_config({"alice": {"nickname": "A"}}, official_account={"wechat_id": "new_cs"})
    assert shop.plan().code == 0  # nothing live: a new Official Account
    shop.seed(seeded("bot1", "Bot"))
    shop.write_config({"alice": {"nickname": "A"}}, official_account={"wechat_id": "new_cs"},
                      policy={"ignore": ["bot*"]})
    assert shop.plan().code == 0  # only ignored accounts live: invisible
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    stand_in.routes[LIST_PATH] = live_list("bob@shop_cs", "yan@other_oa")
    shop.write_config({"alice": {"nickname": "A"}}, policy={"ignore": ["bot*"]})
    planned = shop.plan()  # one of ours among others: a warning for the other, as before
    assert planned.code == 0, planned.text
    assert "yan@other_oa is not an account of shop_cs" in planned.out
    assert f"+ add        {kf('alice')}" in planned.out
