"""Accounts over real HTTP: add, update, delete, paging, manage_privilege, limits, switches."""

from __future__ import annotations

import pytest
import requests

from kfsync.errors import UsageError, WeChatError
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import WeComEmulator
from tests.helpers.wecom import LIST, bootstrap, calls_to, picture


def add(client: WeComClient, name: str) -> str:
    return client.add_account(name, client.upload_image(picture()).media_id)


def errcode(exc: pytest.ExceptionInfo[WeChatError]) -> int:
    return exc.value.errcode


def test_add_update_delete_round_trip(wecom: WeComEmulator, client: WeComClient) -> None:
    bootstrap(wecom)
    open_kfid = add(client, "Sales")
    assert open_kfid.startswith("wk")
    added = {a.open_kfid: a for a in client.list_accounts()}[open_kfid]
    assert (added.name, added.manage_privilege) == ("Sales", True)
    assert added.avatar is not None
    assert "/wwhead/" in added.avatar
    client.update_account(open_kfid, name="Sales 2")
    renamed = {a.open_kfid: a for a in client.list_accounts()}[open_kfid]
    assert renamed.name == "Sales 2"
    assert renamed.avatar == added.avatar  # an omitted field is left unchanged
    client.update_account(open_kfid, media_id=client.upload_image(picture(color="blue")).media_id)
    assert {a.open_kfid: a for a in client.list_accounts()}[open_kfid].avatar != added.avatar
    client.delete_account(open_kfid)
    assert open_kfid not in {a.open_kfid for a in client.list_accounts()}
    with pytest.raises(WeChatError) as exc:
        client.delete_account(open_kfid)
    assert errcode(exc) == 95004
    assert "list the accounts again" in str(exc.value)


def test_update_needs_something_to_change(client: WeComClient) -> None:
    with pytest.raises(UsageError):
        client.update_account("wkAnything")


@pytest.mark.parametrize("name", ["", " ", "x" * 17])
def test_invalid_names_are_95006(wecom: WeComEmulator, client: WeComClient, name: str) -> None:
    bootstrap(wecom)
    with pytest.raises(WeChatError) as exc:
        add(client, name)
    assert errcode(exc) == 95006


def test_an_app_that_manages_no_account_cannot_add(wecom: WeComEmulator,
                                                    client: WeComClient) -> None:
    wecom.admin.seed(accounts=[{"name": "Console only", "manage_privilege": False}])
    with pytest.raises(WeChatError) as exc:
        add(client, "First")
    assert errcode(exc) == 48002
    assert "可管理的客服账号" in str(exc.value)


def test_unverified_corp_holds_ten_accounts(wecom: WeComEmulator, client: WeComClient) -> None:
    bootstrap(wecom, verified=False)
    for number in range(9):
        add(client, f"Desk {number}")
    with pytest.raises(WeChatError) as exc:
        add(client, "Desk 11")
    assert errcode(exc) == 95027
    assert "verify the corp" in str(exc.value)
    assert len(client.list_accounts()) == 10


@pytest.mark.parametrize("code", [48002, 95004, 60011])
def test_unmanaged_accounts_refuse_changes_with_the_switched_errcode(
        wecom: WeComEmulator, client: WeComClient, code: int) -> None:
    bootstrap(wecom)
    wecom.admin.switch(unmanaged_errcode=code)
    wecom.admin.seed(accounts=[{"open_kfid": "wkTheirs", "name": "Theirs",
                                "manage_privilege": False}])
    media = client.upload_image(picture()).media_id
    for change in (lambda: client.update_account("wkTheirs", name="Mine"),
                   lambda: client.update_account("wkTheirs", media_id=media),
                   lambda: client.delete_account("wkTheirs"),
                   lambda: client.add_servicers("wkTheirs", ["nobody"])):
        with pytest.raises(WeChatError) as exc:
            change()
        assert errcode(exc) == code
    assert {a.name for a in client.list_accounts()} == {"Front desk", "Theirs"}


def test_accounts_the_app_adds_become_manageable(wecom: WeComEmulator,
                                                 client: WeComClient) -> None:
    bootstrap(wecom)
    open_kfid = add(client, "Added")
    client.update_account(open_kfid, name="Changed")
    assert {a.open_kfid: a.manage_privilege for a in client.list_accounts()}[open_kfid] is True


@pytest.mark.parametrize("allowed", [True, False])
def test_duplicate_names_switch(wecom: WeComEmulator, client: WeComClient, allowed: bool) -> None:
    bootstrap(wecom)
    wecom.admin.switch(duplicate_names=allowed)
    add(client, "Twin")
    if allowed:
        add(client, "Twin")
        assert [a.name for a in client.list_accounts()].count("Twin") == 2
    else:
        with pytest.raises(WeChatError) as exc:
            add(client, "Twin")
        assert errcode(exc) == 95006


@pytest.mark.parametrize("deletable", [True, False])
def test_last_account_switch(wecom: WeComEmulator, client: WeComClient, deletable: bool) -> None:
    only = bootstrap(wecom)
    wecom.admin.switch(last_account_deletable=deletable)
    if deletable:
        client.delete_account(only)
        assert client.list_accounts() == ()
    else:
        with pytest.raises(WeChatError) as exc:
            client.delete_account(only)
        assert errcode(exc) == 95005


def test_paging_past_100_posts_offsets_and_stops_on_a_short_page(
        wecom: WeComEmulator, client: WeComClient) -> None:
    wecom.admin.seed(accounts=[{"name": f"A{n}"} for n in range(250)])
    accounts = client.list_accounts()
    assert len(accounts) == len({a.open_kfid for a in accounts}) == 250
    bodies = [(c["method"], c["body"]) for c in calls_to(wecom, LIST)]
    assert bodies == [("POST", {"offset": o, "limit": 100}) for o in (0, 100, 200)]


def test_an_exact_multiple_of_the_page_asks_one_empty_page(wecom: WeComEmulator,
                                                           client: WeComClient) -> None:
    wecom.admin.seed(accounts=[{"name": f"A{n}"} for n in range(200)])
    assert len(client.list_accounts()) == 200
    assert len(calls_to(wecom, LIST)) == 3


def test_duplicates_across_pages_are_dropped(wecom: WeComEmulator, client: WeComClient,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts added while paging, newest first, push page 1's tail onto page 2."""
    wecom.admin.seed(accounts=[{"name": f"A{n}"} for n in range(150)])
    wecom.admin.switch(list_order="newest_first")
    fetch = client.list_accounts_page
    pages: list[int] = []

    def fetch_and_add(offset: int = 0, limit: int = 100) -> tuple[object, ...]:
        page = fetch(offset, limit)
        pages.append(len(page))
        if len(pages) == 1:
            wecom.admin.seed(accounts=[{"name": f"New{n}"} for n in range(10)])
        return page

    monkeypatch.setattr(client, "list_accounts_page", fetch_and_add)
    accounts = client.list_accounts()
    assert pages == [100, 60]
    assert len(accounts) == len({a.open_kfid for a in accounts}) == 150


def test_paging_is_bounded(wecom: WeComEmulator, client: WeComClient) -> None:
    wecom.admin.seed(accounts=[{"name": f"A{n}"} for n in range(30)])
    with pytest.raises(Exception, match="stopping instead of looping"):
        client.list_accounts(limit=10, max_pages=2)


@pytest.mark.parametrize(("mode", "expected"), [("paged", 50), ("first_page", 100),
                                                ("refused", None)])
def test_get_list_switch(wecom: WeComEmulator, client: WeComClient, mode: str,
                         expected: int | None) -> None:
    wecom.admin.seed(accounts=[{"name": f"A{n}"} for n in range(150)])
    wecom.admin.switch(get_list=mode)
    token = client.tokens.current()
    query = {"access_token": token, "offset": "100", "limit": "100"}
    body = requests.get(f"{wecom.base_url}{LIST}", timeout=10, params=query).json()
    if expected is None:
        assert body["errcode"] == 40058
    else:
        assert len(body["account_list"]) == expected
    assert len(client.list_accounts()) == 150  # POST is the same in every mode


@pytest.mark.parametrize("stable", [True, False])
def test_contact_url_switch(wecom: WeComEmulator, client: WeComClient, stable: bool) -> None:
    open_kfid = bootstrap(wecom)
    wecom.admin.switch(stable_contact_url=stable)
    first, second = (client.add_contact_way(open_kfid, "spring_sale") for _ in range(2))
    assert first.url.startswith("https://work.weixin.qq.com/kf/")
    assert (first == second) is stable
    assert client.add_contact_way(open_kfid) != first  # another scene, another link


def test_contact_way_refuses_a_bad_scene(wecom: WeComEmulator, client: WeComClient) -> None:
    open_kfid = bootstrap(wecom)
    with pytest.raises(WeChatError) as exc:
        client.add_contact_way(open_kfid, "no spaces")
    assert errcode(exc) == 40058
