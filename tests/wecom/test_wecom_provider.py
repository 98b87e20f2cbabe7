"""WeComProvider over real HTTP: read, execute each action, holds, classify, outputs, dispatch.

Changes are built by hand, as the rules make them (see WECOM-DESIGN in the
provider's docstring), so these tests need no planning rules.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kfsync.apply import Applier, ApplyResult
from kfsync.config import Config, DesiredAccount, Policy
from kfsync.config.model import WeComCorp
from kfsync.errors import (
    KfsyncError,
    OutcomeUnknownError,
    QuotaError,
    TransportError,
    UsageError,
    WeChatError,
)
from kfsync.plan import Action, Change, Output, Plan
from kfsync.providers import open_provider
from kfsync.providers.base import ErrorKind
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from kfsync.providers.wecom.provider import NotManagedError, ServicerItemsError, WeComProvider
from tests.helpers.wecom import LIST, WeComFactory, bootstrap, calls_to, people, picture

UPLOAD = "/cgi-bin/media/upload"
ADD = "/cgi-bin/kf/account/add"
UPDATE = "/cgi-bin/kf/account/update"
SERVICERS = "/cgi-bin/kf/servicer/list"
WRITES = (UPLOAD, ADD, UPDATE, "/cgi-bin/kf/account/del", "/cgi-bin/kf/servicer/add",
          "/cgi-bin/kf/servicer/del")
SALES = "售前咨询"
JPEG = picture()


@pytest.fixture
def provider(client: WeComClient) -> Iterator[WeComProvider]:
    made = WeComProvider(client, parallelism=4)
    yield made
    made.close()


def config(tmp_path: Path, *entries: DesiredAccount, corp_id: str = DEFAULT_CORPID) -> Config:
    return Config(tmp_path / "kfsync.yaml", None, Policy(), tuple(entries), "0" * 64,
                  wecom=WeComCorp(corp_id))


def entry(tmp_path: Path, name: str, **fields: Any) -> DesiredAccount:
    return DesiredAccount(prefix=name, name=name, avatar=tmp_path / "a.jpg", **fields)


def seeded(name: str, open_kfid: str, *, managed: bool = True, avatar: bool = False,
           servicers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    account: dict[str, Any] = {"open_kfid": open_kfid, "name": name, "manage_privilege": managed,
                               "servicers": servicers or []}
    if avatar:
        account["avatar_base64"] = base64.b64encode(JPEG).decode()
    return account


def live(wecom: WeComEmulator) -> dict[str, dict[str, Any]]:
    """The emulator's accounts by open_kfid, as its state holds them."""
    return {a["open_kfid"]: a for a in wecom.admin.state()["accounts"]}


def servicers_of(wecom: WeComEmulator, open_kfid: str) -> set[str]:
    return {f"u:{s['userid']}" if s["userid"] is not None else f"d:{s['department_id']}"
            for s in live(wecom)[open_kfid]["servicers"]}


def paths(wecom: WeComEmulator) -> list[str]:
    return [e["path"] for e in wecom.admin.requests() if e["path"] != "/cgi-bin/gettoken"]


def corp(wecom: WeComEmulator, *accounts: dict[str, Any]) -> None:
    """Members alice, bob, carol; departments 2 and 3; the accounts given."""
    wecom.admin.seed(users=people("alice", "bob", "carol"),
                     departments=[{"department_id": 2, "members": ["alice"]},
                                  {"department_id": 3}],
                     accounts=list(accounts))


# --------------------------------------------------------------------------- read


def test_read_pages_and_reads_servicers_only_of_managed_accounts(
        wecom: WeComEmulator, provider: WeComProvider, tmp_path: Path) -> None:
    corp(wecom, seeded(SALES, "wkSales", servicers=[{"userid": "bob"}, {"department_id": 3},
                                                    {"userid": "alice"}, {"department_id": 2}]),
         *(seeded(f"客服{n:03d}", f"wkAcc{n:03d}", managed=n % 10 != 0) for n in range(149)))
    state = provider.read(config(tmp_path), now=1234)
    assert state.now == 1234
    assert len(state.accounts) == 150
    assert len(calls_to(wecom, LIST)) == 2  # 100 + 50
    by_id = {a.kf_id: a for a in state.accounts}
    sales = by_id["wkSales"]
    assert (sales.kf_account, sales.servicer_users, sales.servicer_departments) == (
        SALES, ("alice", "bob"), ("2", "3"))
    unmanaged = by_id["wkAcc010"]
    assert (unmanaged.manage_privilege, unmanaged.servicer_users) == (False, None)
    assert by_id["wkAcc011"].servicer_users == ()
    asked = {c["query"]["open_kfid"] for c in calls_to(wecom, SERVICERS)}
    assert asked == {a.kf_id for a in state.accounts if a.manage_privilege}
    assert len(asked) == 150 - 15


def test_read_fingerprints_avatars_only_of_accounts_an_entry_may_be(
        wecom: WeComEmulator, provider: WeComProvider, tmp_path: Path) -> None:
    corp(wecom, *(seeded(name, f"wk{key}", avatar=True) for key, name in
                  (("ById", "Renamed by hand"), ("ByName", SALES), ("ByOld", "新名字"),
                   ("Other", "Nobody wants me"))),
         seeded("Theirs", "wkTheirs", managed=False, avatar=True),
         seeded("No avatar", "wkBare"))
    declared = config(tmp_path, entry(tmp_path, "Pinned", id="wkById"), entry(tmp_path, SALES),
                      entry(tmp_path, "Newer", previously=("新名字",)),
                      entry(tmp_path, "Theirs"), entry(tmp_path, "No avatar"),
                      DesiredAccount(prefix="Nobody wants me", name="Nobody wants me",
                                     state="absent"))
    state = provider.read(declared)
    urls = {a.kf_id: a.headimgurl for a in state.accounts}
    assert urls["wkBare"] is None
    assert set(state.pictures) == {urls["wkById"], urls["wkByName"], urls["wkByOld"]}
    assert all(p.phash for p in state.pictures.values())
    downloaded = [p for p in paths(wecom) if p.startswith("/wwhead/")]
    assert len(downloaded) == 3


def test_read_refuses_a_config_for_another_corp(wecom: WeComEmulator, provider: WeComProvider,
                                               tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        provider.read(config(tmp_path, corp_id="ww0123456789abcdef"))
    message = str(exc.value)
    assert "wecom.corp_id is ww0123456789abcdef" in message
    assert f"credentials are for corp {DEFAULT_CORPID}" in message
    assert "KFSYNC_CORPID" in message
    assert DEFAULT_SECRET not in message
    assert paths(wecom) == []  # refused before any call


def test_a_static_token_without_a_corp_id_skips_the_check(
        wecom: WeComEmulator, make_client: WeComFactory, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_CORPID", raising=False)
    bootstrap(wecom)
    token = make_client().tokens.current()
    static = WeComProvider(make_client(corpid=None, secret=None, access_token=token,
                                       token_mode="static"))
    state = static.read(config(tmp_path, corp_id="ww0123456789abcdef"))
    assert [a.kf_account for a in state.accounts] == ["Front desk"]


# --------------------------------------------------------------------------- execute


def test_add_uploads_the_avatar_just_before_the_add(wecom: WeComEmulator,
                                                    provider: WeComProvider) -> None:
    bootstrap(wecom, users=people("alice"))
    provider.execute(Change(Action.ADD, SALES, None, {"name": SALES, "avatar": "a.jpg"}, "new"),
                     {SALES: JPEG})
    assert paths(wecom) == [UPLOAD, ADD]
    added = next(a for a in live(wecom).values() if a["name"] == SALES)
    assert added["manage_privilege"] is True
    assert added["picture"]
    # The servicers change that follows needs no list to find the new account.
    provider.execute(Change(Action.SERVICERS, SALES, {"users": ()}, {"users": ("alice",)},
                            "servicers of a new account: 1 to add", depends_on=(f"add:{SALES}",)), {})
    assert LIST not in paths(wecom)
    assert servicers_of(wecom, added["open_kfid"]) == {"u:alice"}


def test_update_renames_and_sets_the_avatar_in_one_call(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded("旧名", "wkSales", avatar=True))
    before = live(wecom)["wkSales"]["picture"]
    provider.execute(Change(Action.UPDATE, SALES,
                            {"id": "wkSales", "name": "旧名", "avatar": "https://old"},
                            {"id": "wkSales", "name": SALES, "avatar": "a.jpg"}, "renamed"),
                     {SALES: JPEG})
    assert paths(wecom) == [UPLOAD, UPDATE]
    body = calls_to(wecom, UPDATE)[0]["body"]
    assert set(body) == {"open_kfid", "name", "media_id"}
    after = live(wecom)["wkSales"]
    assert after["name"] == SALES
    assert after["picture"] != before


def test_a_rename_alone_uploads_nothing(wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded("旧名", "wkSales"))
    provider.execute(Change(Action.UPDATE, SALES, {"id": "wkSales", "name": "旧名"},
                            {"id": "wkSales", "name": SALES}, "renamed"), {})
    assert paths(wecom) == [UPDATE]
    assert "media_id" not in calls_to(wecom, UPDATE)[0]["body"]
    assert live(wecom)["wkSales"]["name"] == SALES


def test_servicers_are_added_and_removed_by_kind(wecom: WeComEmulator,
                                                 provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales", servicers=[{"userid": "alice"}, {"department_id": 2}]))
    provider.execute(Change(Action.SERVICERS, SALES,
                            {"id": "wkSales", "users": ("alice",), "departments": ("2",)},
                            {"id": "wkSales", "users": ("bob", "carol"), "departments": ("3",)},
                            "servicers differ"), {})
    assert servicers_of(wecom, "wkSales") == {"u:bob", "u:carol", "d:3"}
    added, removed = (calls_to(wecom, f"/cgi-bin/kf/servicer/{verb}")[0]["body"]
                      for verb in ("add", "del"))
    assert (added["userid_list"], added["department_id_list"]) == (["bob", "carol"], [3])
    assert (removed["userid_list"], removed["department_id_list"]) == (["alice"], [2])


def test_a_list_the_change_omits_is_left_alone(wecom: WeComEmulator,
                                               provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales", servicers=[{"userid": "alice"}, {"department_id": 2}]))
    provider.execute(Change(Action.SERVICERS, SALES, {"id": "wkSales", "departments": ("2",)},
                            {"id": "wkSales", "departments": ()}, "servicers differ"), {})
    assert servicers_of(wecom, "wkSales") == {"u:alice"}
    assert calls_to(wecom, "/cgi-bin/kf/servicer/add") == []


def test_a_failed_servicer_item_is_named_and_the_others_stay_done(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales", servicers=[{"userid": "bob"}]))
    change = Change(Action.SERVICERS, SALES,
                    {"id": "wkSales", "users": ("bob",), "departments": ()},
                    {"id": "wkSales", "users": ("alice", "bob", "nosuchuser"),
                     "departments": ("2", "99")}, "servicers differ")
    with pytest.raises(WeChatError) as exc:
        provider.execute(change, {})
    assert isinstance(exc.value, ServicerItemsError)
    assert exc.value.errcode == 60111
    assert str(exc.value) == (
        f"{SALES}: servicers not added: nosuchuser (60111 no member of the corp has this "
        "userid), department 99 (60123 the department id is not valid)")
    assert servicers_of(wecom, "wkSales") == {"u:alice", "u:bob", "d:2"}
    assert provider.classify(exc.value) is None


def test_a_failed_removal_is_named_too(wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales", servicers=[{"userid": "alice"}]))
    with pytest.raises(ServicerItemsError, match=r"servicers not removed: ghost \(60111 "):
        provider.execute(Change(Action.SERVICERS, SALES,
                                {"id": "wkSales", "users": ("alice", "ghost")},
                                {"id": "wkSales", "users": ()}, "servicers differ"), {})
    assert servicers_of(wecom, "wkSales") == set()


def test_servicers_of_an_account_added_elsewhere_are_found_by_name(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales"), seeded(SALES, "wkTheirs", managed=False))
    provider.execute(Change(Action.SERVICERS, SALES, {"users": ()}, {"users": ("alice",)},
                            "servicers differ", depends_on=(f"add:{SALES}",)), {})
    assert servicers_of(wecom, "wkSales") == {"u:alice"}
    wecom.admin.seed(accounts=[seeded(SALES, "wkTwin")])
    twin = Change(Action.SERVICERS, SALES, {"users": ()}, {"users": ("bob",)}, "again")
    with pytest.raises(KfsyncError, match=r"2 live accounts have this name \(wkSales, wkTwin\)"):
        WeComProvider(provider.client).execute(twin, {})


def test_delete(wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales"), seeded("Other", "wkOther"))
    provider.execute(Change(Action.DELETE, SALES, {"id": "wkSales", "name": SALES}, None,
                            "not declared"), {})
    assert set(live(wecom)) == {"wkOther"}


@pytest.mark.parametrize(("change", "message"), [
    (Change(Action.UPDATE, SALES, {"name": "old"}, {"name": SALES}, "r"),
     f"the plan gives no id for update:{SALES}"),
    (Change(Action.DELETE, SALES, {"name": SALES}, None, "r"),
     f"the plan gives no id for delete:{SALES}"),
    (Change(Action.ADD, SALES, None, {"avatar": "a.jpg"}, "r"),
     f"the plan gives no name for add:{SALES}"),
    (Change(Action.ADD, "Unknown", None, {"name": "Unknown", "avatar": "a.jpg"}, "r"),
     "add:Unknown: the config declares no avatar for Unknown"),
    (Change(Action.UPDATE, SALES, {"id": "wkSales"}, {"id": "wkSales"}, "r"),
     f"the plan gives neither a name nor an avatar for update:{SALES}"),
    (Change(Action.SERVICERS, SALES, {"id": "wkSales", "departments": ()},
            {"id": "wkSales", "departments": ("sales",)}, "r"),
     f"servicers:{SALES}: department 'sales' is not a department id"),
    (Change(Action.INVITE, SALES, None, {"invite_wx": "someone"}, "r"),
     f"invite:{SALES}: WeCom accounts have no invite change"),
])
def test_a_hand_edited_change_without_its_values_sends_nothing(
        wecom: WeComEmulator, provider: WeComProvider, change: Change, message: str) -> None:
    corp(wecom, seeded(SALES, "wkSales"))
    with pytest.raises(KfsyncError) as exc:
        provider.execute(change, {SALES: JPEG})
    assert message in str(exc.value)
    assert not set(paths(wecom)) & set(WRITES)


@pytest.mark.parametrize("code", [48002, 95004, 60011])
def test_an_account_the_app_does_not_manage_names_the_console_setting(
        wecom: WeComEmulator, provider: WeComProvider, code: int) -> None:
    wecom.admin.switch(unmanaged_errcode=code)
    corp(wecom, seeded(SALES, "wkSales", managed=False), seeded("Ours", "wkOurs"))
    change = Change(Action.DELETE, SALES, {"id": "wkSales", "name": SALES}, None, "r")
    with pytest.raises(NotManagedError) as exc:
        provider.execute(change, {})
    assert exc.value.errcode == code
    assert "可管理的客服账号" in str(exc.value)
    assert f"does not manage {SALES} (wkSales)" in str(exc.value)
    # 95004 here is not "already deleted": the applier must not take it as done.
    assert provider.classify(exc.value) is None
    assert "wkSales" in live(wecom)


def test_an_account_really_gone_stays_not_found(wecom: WeComEmulator,
                                                provider: WeComProvider) -> None:
    bootstrap(wecom)
    with pytest.raises(WeChatError) as exc:
        provider.execute(Change(Action.DELETE, SALES, {"id": "wkGone", "name": SALES}, None,
                                "r"), {})
    assert not isinstance(exc.value, NotManagedError)
    assert provider.classify(exc.value) is ErrorKind.NOT_FOUND


# --------------------------------------------------------------------------- holds


def test_holds_judges_each_action_by_re_reading(wecom: WeComEmulator,
                                                provider: WeComProvider) -> None:
    corp(wecom, seeded("旧名", "wkSales", avatar=True, servicers=[{"userid": "alice"}]),
         seeded("Doomed", "wkDoomed"), seeded("新号", "wkTheirs", managed=False))
    url = next(a.avatar for a in provider.client.list_accounts() if a.open_kfid == "wkSales")
    add = Change(Action.ADD, "新号", None, {"name": "新号", "avatar": "a.jpg"}, "r")
    rename = Change(Action.UPDATE, SALES, {"id": "wkSales", "name": "旧名", "avatar": url},
                    {"id": "wkSales", "name": SALES, "avatar": "a.jpg"}, "r")
    servicers = Change(Action.SERVICERS, SALES, {"id": "wkSales", "users": ("alice",)},
                       {"id": "wkSales", "users": ("bob",)}, "r")
    delete = Change(Action.DELETE, "Doomed", {"id": "wkDoomed", "name": "Doomed"}, None, "r")
    changes = (add, rename, servicers, delete)
    assert [provider.holds(c) for c in changes] == [False] * 4  # an unmanaged namesake: not ours
    for change in changes:
        provider.execute(change, {"新号": JPEG, SALES: JPEG})
    assert [provider.holds(c) for c in changes] == [True] * 4
    name_only = Change(Action.UPDATE, SALES, {"id": "wkSales", "name": SALES},
                       {"id": "wkSales", "name": "Again"}, "r")
    gone = Change(Action.UPDATE, SALES, {"id": "wkDoomed"}, {"id": "wkDoomed", "name": "x"}, "r")
    assert (provider.holds(name_only), provider.holds(gone)) == (False, False)


def test_holds_of_an_add_remembers_the_account_for_its_servicers(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales"))
    assert provider.holds(Change(Action.ADD, SALES, None, {"name": SALES, "avatar": "a"}, "r"))
    lists = len(calls_to(wecom, LIST))
    provider.execute(Change(Action.SERVICERS, SALES, {"users": ()}, {"users": ("bob",)}, "r"), {})
    assert len(calls_to(wecom, LIST)) == lists
    assert servicers_of(wecom, "wkSales") == {"u:bob"}


# --------------------------------------------------------------------------- classify


@pytest.mark.parametrize(("error", "kind"), [
    (OutcomeUnknownError("lost", endpoint=ADD), ErrorKind.OUTCOME_UNKNOWN),
    (QuotaError(45009, "api freq out of limit", endpoint=ADD), ErrorKind.QUOTA),
    (WeChatError(95004, "open_kfid not exist", endpoint=UPDATE), ErrorKind.NOT_FOUND),
    (WeChatError(95000, "invalid open_kfid", endpoint=UPDATE), ErrorKind.NOT_FOUND),
    (WeChatError(95006, "invalid kf account name", endpoint=ADD), ErrorKind.ALREADY_EXISTS),
    (WeChatError(-1, "system busy", endpoint=ADD), ErrorKind.TRANSIENT),
    (WeChatError(45033, "api concurrent out of limit", endpoint=ADD), ErrorKind.TRANSIENT),
    (WeChatError(6000, "data version conflict", endpoint=ADD), ErrorKind.TRANSIENT),
    (WeChatError(95027, "corp unverified", endpoint=ADD), None),
    (WeChatError(48002, "api forbidden", endpoint=ADD), None),
    (NotManagedError(95004, "open_kfid not exist", endpoint=UPDATE), None),
    (TransportError("HTTP 502", endpoint=ADD), None),
    (UsageError("bad"), None),
])
def test_classify(provider: WeComProvider, error: KfsyncError, kind: ErrorKind | None) -> None:
    assert provider.classify(error) is kind


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("stable", [True, False])
def test_outputs_make_each_contact_link_in_order(wecom: WeComEmulator, provider: WeComProvider,
                                                 tmp_path: Path, stable: bool) -> None:
    wecom.admin.switch(stable_contact_url=stable)
    corp(wecom, seeded(SALES, "wkSales"), seeded("Pinned", "wkPinned"),
         seeded("Pinned", "wkTwin"))
    provider.read(config(tmp_path, entry(tmp_path, "Pinned", id="wkPinned"),
                         entry(tmp_path, SALES)))
    wanted = [Output(SALES, "contact_link", "web"), Output("Pinned", "contact_link", "qr"),
              Output(SALES, "contact_link", "")]
    first = provider.outputs(wanted)
    assert [(o.account, o.key) for o in first] == [(SALES, "web"), ("Pinned", "qr"), (SALES, "")]
    assert all(o.value and o.value.startswith("https://work.weixin.qq.com/kf/") for o in first)
    sent = {(c["body"]["open_kfid"], c["body"].get("scene"))
            for c in calls_to(wecom, "/cgi-bin/kf/add_contact_way")}
    assert sent == {("wkSales", "web"), ("wkPinned", "qr"), ("wkSales", None)}
    again = provider.outputs(wanted)
    assert ([o.value for o in again] == [o.value for o in first]) is stable


def test_outputs_of_an_account_not_live_or_of_an_unknown_kind_fail_clearly(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded(SALES, "wkSales"))
    with pytest.raises(KfsyncError, match="no live account this app manages"):
        provider.outputs([Output("Ghost", "contact_link", "web")])
    with pytest.raises(KfsyncError, match="WeCom hands out no qr_code outputs"):
        provider.outputs([Output(SALES, "qr_code", "web")])


# --------------------------------------------------------------------------- dispatch


def test_open_provider_picks_wecom_for_a_wecom_config(
        wecom: WeComEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in (("KFSYNC_CORPID", DEFAULT_CORPID),
                            ("KFSYNC_CORPSECRET", DEFAULT_SECRET),
                            ("KFSYNC_API_BASE", wecom.base_url)):
        monkeypatch.setenv(variable, value)
    bootstrap(wecom)
    provider = open_provider(config(tmp_path), parallelism=3, connections=2)
    try:
        assert isinstance(provider, WeComProvider)
        assert (provider.service, provider.parallelism) == ("WeCom", 3)
        state = provider.read(config(tmp_path))
        assert [a.kf_id for a in state.accounts] == ["wkBootstrap0001"]
        assert type(provider.rules(config(tmp_path))).__name__ == "WeComRules"
    finally:
        provider.close()


# --------------------------------------------------------------------------- with the applier


def apply(provider: WeComProvider, *changes: Change,
          uploads: dict[str, bytes] | None = None) -> ApplyResult:
    plan = Plan(DEFAULT_CORPID, tuple(sorted(changes, key=lambda c: c.sort_key)))
    return Applier(provider, uploads or {}, parallelism=4).run(plan)


def outcomes(result: ApplyResult) -> dict[str, tuple[str, str | None]]:
    return {o.change.id: (o.status, o.note or o.message) for o in result.outcomes}


def test_the_applier_runs_a_hand_built_plan_against_the_emulator(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded("旧名", "wkSales", servicers=[{"userid": "alice"}]),
         seeded("Doomed", "wkDoomed"))
    result = apply(
        provider,
        Change(Action.DELETE, "Doomed", {"id": "wkDoomed", "name": "Doomed"}, None, "r"),
        Change(Action.ADD, "新号", None, {"name": "新号", "avatar": "a.jpg"}, "r"),
        Change(Action.SERVICERS, "新号", {"users": (), "departments": ()},
               {"users": ("bob",), "departments": ("3",)}, "r", depends_on=("add:新号",)),
        Change(Action.UPDATE, SALES, {"id": "wkSales", "name": "旧名"},
               {"id": "wkSales", "name": SALES, "avatar": "a.jpg"}, "r"),
        Change(Action.SERVICERS, SALES, {"id": "wkSales", "users": ("alice",)},
               {"id": "wkSales", "users": ("carol", "nosuchuser")}, "r"),
        uploads={"新号": JPEG, SALES: JPEG})
    assert outcomes(result) == {
        "delete:Doomed": ("done", None), "add:新号": ("done", None),
        "servicers:新号": ("done", None), f"update:{SALES}": ("done", None),
        f"servicers:{SALES}": ("failed", "errcode 60111 servicers not added: nosuchuser "
                                         "(60111 no member of the corp has this userid)")}
    accounts = {a["name"]: a for a in live(wecom).values()}
    assert set(accounts) == {SALES, "新号"}
    assert servicers_of(wecom, accounts["新号"]["open_kfid"]) == {"u:bob", "d:3"}
    assert servicers_of(wecom, "wkSales") == {"u:carol"}  # alice removed, carol added


def test_a_lost_add_is_confirmed_by_re_reading_and_its_servicers_follow(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    bootstrap(wecom, users=people("alice"))
    wecom.admin.fault(ADD, drop="after")
    result = apply(provider,
                   Change(Action.ADD, SALES, None, {"name": SALES, "avatar": "a.jpg"}, "r"),
                   Change(Action.SERVICERS, SALES, {"users": ()}, {"users": ("alice",)}, "r",
                          depends_on=(f"add:{SALES}",)),
                   uploads={SALES: JPEG})
    assert outcomes(result) == {f"add:{SALES}": ("done", "answer lost; confirmed by re-reading"),
                                f"servicers:{SALES}": ("done", None)}
    added = [a for a in live(wecom).values() if a["name"] == SALES]
    assert len(added) == 1  # never sent twice
    assert servicers_of(wecom, added[0]["open_kfid"]) == {"u:alice"}


def test_a_taken_name_is_already_so_for_an_add_and_a_failure_for_a_rename(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    wecom.admin.switch(duplicate_names=False)
    corp(wecom, seeded(SALES, "wkSales"), seeded("Other", "wkOther"))
    result = apply(provider,
                   Change(Action.ADD, SALES, None, {"name": SALES, "avatar": "a.jpg"}, "r"),
                   Change(Action.UPDATE, "Other", {"id": "wkOther", "name": "Other"},
                          {"id": "wkOther", "name": SALES}, "r"),
                   uploads={SALES: JPEG})
    done, failed = result.outcomes
    assert (done.status, done.note) == ("done", "WeCom said 95006; already so")
    assert (failed.status, failed.errcode) == ("failed", 95006)
    assert "not taken" in (failed.message or "")
    assert sorted(a["name"] for a in live(wecom).values()) == ["Other", SALES]


def test_a_delete_of_a_gone_account_is_done_but_never_one_the_app_does_not_manage(
        wecom: WeComEmulator, provider: WeComProvider) -> None:
    wecom.admin.switch(unmanaged_errcode=95004)
    corp(wecom, seeded("Ours", "wkOurs"), seeded("Theirs", "wkTheirs", managed=False))
    result = apply(provider,
                   Change(Action.DELETE, "Gone", {"id": "wkGone", "name": "Gone"}, None, "r"),
                   Change(Action.DELETE, "Theirs", {"id": "wkTheirs", "name": "Theirs"}, None,
                          "r"))
    gone, theirs = result.outcomes
    assert (gone.status, gone.note) == ("done", "WeCom said 95004; already so")
    assert (theirs.status, theirs.errcode) == ("failed", 95004)
    assert "可管理的客服账号" in (theirs.message or "")
    assert "wkTheirs" in live(wecom)


def test_a_quota_error_stops_the_apply(wecom: WeComEmulator, provider: WeComProvider) -> None:
    corp(wecom, seeded("A", "wkA"), seeded("B", "wkB"))
    wecom.admin.fault("/cgi-bin/kf/account/del", errcode=45009)
    plan = Plan(DEFAULT_CORPID, (
        Change(Action.DELETE, "A", {"id": "wkA", "name": "A"}, None, "r"),
        Change(Action.UPDATE, "B", {"id": "wkB", "name": "B"}, {"id": "wkB", "name": "C"}, "r",
               depends_on=("delete:A",))))
    result = Applier(provider, {}, parallelism=1).run(plan)
    assert result.stopped == "stopped after WeCom quota error 45009"
    assert [o.status for o in result.outcomes] == ["failed", "skipped"]
    assert set(live(wecom)) == {"wkA", "wkB"}
