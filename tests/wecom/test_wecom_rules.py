"""Table-driven tests of WeCom's planning rules, through the pure planner: values built directly, no HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kfsync.config.model import Config, DesiredAccount, Policy, WeComCorp
from kfsync.model import LiveAccount, LivePicture, LiveState
from kfsync.plan import Action, Change, Desired, DesiredAvatar, Output, Plan, plan
from kfsync.providers.base import Rules
from kfsync.providers.wecom.errcodes import CONSOLE
from kfsync.providers.wecom.rules import WeComRules
from kfsync.safety import SafetyError, check_safety, consented
from tests.test_layers import imports_of

CORP = "ww0123456789abcdef"
NOW = 1_714_500_000
PHASH = "0" * 64  #: the declared pictures' fingerprint
OTHER = "f" * 64  #: a live picture nothing like it
RULES: Rules = WeComRules(CORP)  # the protocol, checked by mypy


# --------------------------------------------------------------------------- factories


def url(kf_id: str) -> str:
    return f"https://wework.qpic.cn/{kf_id}/0"


def declare(name: str, *, servicers: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
            **fields: Any) -> DesiredAccount:
    users, departments = servicers if servicers is not None else (None, None)
    return DesiredAccount(name, name=name, avatar=Path(f"/cfg/avatars/{name}.png"),
                          servicer_users=users, servicer_departments=departments, **fields)


def tombstone(name: str, **fields: Any) -> DesiredAccount:
    return DesiredAccount(name, state="absent", name=name, **fields)


def avatar(name: str) -> DesiredAvatar:
    return DesiredAvatar(f"avatars/{name}.png", PHASH, "d" * 64)


def live(name: str, kf_id: str, *, users: tuple[str, ...] = (), departments: tuple[str, ...] = (),
         managed: bool = True) -> LiveAccount:
    return LiveAccount(kf_account=name, nickname=name, kf_id=kf_id, headimgurl=url(kf_id),
                       manage_privilege=managed, servicer_users=users if managed else None,
                       servicer_departments=departments if managed else None)


def make_plan(declared: tuple[DesiredAccount, ...], accounts: tuple[LiveAccount, ...],
              policy: Policy | None = None, *, pictures: Mapping[str, LivePicture] | None = None) -> Plan:
    policy = policy or Policy()
    config = Config(path=Path("/cfg/kfsync.yaml"), official_account=None, wecom=WeComCorp(CORP),
                    policy=policy, accounts=tuple(sorted(declared, key=lambda a: a.prefix)),
                    digest="x")
    avatars = {a.prefix: avatar(a.prefix) for a in declared if a.present}
    # Every live picture is the declared one unless a case says otherwise.
    seen = {url(str(a.kf_id)): LivePicture(PHASH) for a in accounts}
    state = LiveState(accounts=accounts, now=NOW, pictures={**seen, **(pictures or {})})
    return plan(Desired(config, avatars), state, policy, WeComRules(CORP))


@dataclass(frozen=True)
class Case:
    """One row: the two sides, and every change, warning and refusal the plan must have."""

    name: str
    declared: tuple[DesiredAccount, ...]
    live: tuple[LiveAccount, ...]
    changes: tuple[Change, ...] = ()
    policy: Policy = field(default_factory=Policy)
    pictures: Mapping[str, LivePicture] = field(default_factory=dict)
    unmanaged: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  #: each warning, whole, in order
    refusals: tuple[str, ...] = ()  #: likewise


def check(case: Case) -> Plan:
    result = make_plan(case.declared, case.live, case.policy, pictures=case.pictures)
    assert result.changes == case.changes
    assert result.unmanaged == case.unmanaged
    assert result.warnings == case.warnings
    assert result.refusals == case.refusals
    assert result.wechat_id == CORP
    assert result.actions == (Action.DELETE, Action.ADD, Action.UPDATE, Action.SERVICERS)
    return result


def by_name(cases: list[Case]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", cases, ids=[c.name for c in cases])


def update(name: str, before: Mapping[str, object], after: Mapping[str, object], reason: str) -> Change:
    return Change(Action.UPDATE, name, before, after, reason)


NOT_OURS = "售后 (wkB) is not managed by this app; left alone"
NONE_MANAGED = (
    "this app manages no 微信客服 account yet, and WeCom lets an app add accounts only once it "
    f"manages one: assign an account to the app in the console ({CONSOLE}), then plan again"
)
#: A managed account nobody declares: the app may add accounts once it manages one.
SPARE = live("其他", "wkO")


# --------------------------------------------------------------------------- matching and changes


CASES = [
    Case("add with servicers",
         (declare("售前", servicers=(("lisi", "zhangsan"), ("2", "10")), scenes=("web", "app")),),
         (SPARE,), unmanaged=("其他",),
         changes=(
             Change(Action.ADD, "售前", None, {"name": "售前", "avatar": "avatars/售前.png"},
                    "declared, not live"),
             Change(Action.SERVICERS, "售前", {"users": (), "departments": ()},
                    {"users": ("lisi", "zhangsan"), "departments": ("2", "10")},
                    "servicers of a new account: 4 to add",
                    ("add:售前",)),
         )),
    Case("add with departments alone: only that list rides",
         (declare("售前", servicers=((), ("3",))),), (SPARE,), unmanaged=("其他",),
         changes=(
             Change(Action.ADD, "售前", None, {"name": "售前", "avatar": "avatars/售前.png"},
                    "declared, not live"),
             Change(Action.SERVICERS, "售前", {"departments": ()}, {"departments": ("3",)},
                    "servicers of a new account: 1 to add", ("add:售前",)),
         )),
    Case("add with servicers declared empty: no servicers change",
         (declare("售前", servicers=((), ())),), (SPARE,), unmanaged=("其他",),
         changes=(Change(Action.ADD, "售前", None, {"name": "售前", "avatar": "avatars/售前.png"},
                         "declared, not live"),)),
    Case("in sync", (declare("售前", servicers=(("zhangsan",), ("2",))),),
         (live("售前", "wkA", users=("zhangsan",), departments=("2",)),)),
    Case("servicers not declared: not managed, whoever works it",
         (declare("售前"),), (live("售前", "wkA", users=("zhangsan",), departments=("2",)),)),
    Case("rename by id",
         (declare("售后服务", id="wkA"),), (live("售后", "wkA"),),
         changes=(update("售后服务", {"id": "wkA", "name": "售后"}, {"id": "wkA", "name": "售后服务"},
                         "renamed from 售后"),)),
    Case("rename by previously",
         (declare("售后服务", previously=("售后",)),), (live("售后", "wkA"),),
         changes=(update("售后服务", {"id": "wkA", "name": "售后"}, {"id": "wkA", "name": "售后服务"},
                         "renamed from 售后"),)),
    Case("the current name wins over a former one",
         (declare("售后服务", previously=("售后",)),), (live("售后", "wkA"), live("售后服务", "wkB")),
         unmanaged=("售后",)),
    Case("a new avatar",
         (declare("售前"),), (live("售前", "wkA"),), pictures={url("wkA"): LivePicture(OTHER)},
         changes=(update("售前", {"id": "wkA", "avatar": url("wkA")},
                         {"id": "wkA", "avatar": "avatars/售前.png"},
                         "live avatar is a different picture"),)),
    Case("no live avatar",
         (declare("售前"),), (LiveAccount("售前", "售前", kf_id="wkA", manage_privilege=True,
                                         servicer_users=(), servicer_departments=()),),
         changes=(update("售前", {"id": "wkA", "avatar": None}, {"id": "wkA", "avatar": "avatars/售前.png"},
                         "no live avatar"),)),
    Case("a rename and a new avatar are one update",
         (declare("售后服务", id="wkA"),), (live("售后", "wkA"),),
         pictures={url("wkA"): LivePicture(OTHER)},
         changes=(update("售后服务", {"id": "wkA", "name": "售后", "avatar": url("wkA")},
                         {"id": "wkA", "name": "售后服务", "avatar": "avatars/售后服务.png"},
                         "renamed from 售后 and live avatar is a different picture"),)),
    Case("servicers differ, both kinds",
         (declare("售前", servicers=(("wangwu", "zhangsan"), ("2", "10"))),),
         (live("售前", "wkA", users=("lisi", "zhangsan"), departments=("3", "10")),),
         changes=(Change(Action.SERVICERS, "售前",
                         {"id": "wkA", "users": ("lisi", "zhangsan"), "departments": ("3", "10")},
                         {"id": "wkA", "users": ("wangwu", "zhangsan"), "departments": ("2", "10")},
                         "servicers differ: 2 to add, 2 to remove"),)),
    Case("only the list that differs rides",
         (declare("售前", servicers=((), ("2",))),),
         (live("售前", "wkA", users=("lisi",), departments=("2",)),),
         changes=(Change(Action.SERVICERS, "售前", {"id": "wkA", "users": ("lisi",)},
                         {"id": "wkA", "users": ()}, "servicers differ: 1 to remove"),)),
    Case("the same departments in another order are no change",
         (declare("售前", servicers=((), ("10", "2"))),), (live("售前", "wkA", departments=("2", "10")),)),
    Case("a rename and servicers: an update and a servicers change, both under the new name",
         (declare("售后服务", previously=("售后",), servicers=(("lisi",), ())),), (live("售后", "wkA"),),
         changes=(update("售后服务", {"id": "wkA", "name": "售后"}, {"id": "wkA", "name": "售后服务"},
                         "renamed from 售后"),
                  Change(Action.SERVICERS, "售后服务", {"id": "wkA", "users": ()},
                         {"id": "wkA", "users": ("lisi",)}, "servicers differ: 1 to add"))),
    Case("an account the app does not manage is left alone",
         (declare("售前"),), (live("售前", "wkA"), live("售后", "wkB", managed=False)),
         policy=Policy(unmanaged="delete"), warnings=(NOT_OURS,)),
    Case("an entry that would match an account the app does not manage",
         (declare("售后"),), (live("售后", "wkB", managed=False),),
         warnings=(NOT_OURS,),
         refusals=(f"售后: 售后 (wkB) is not managed by this app; let the app manage it under {CONSOLE}, "
                   "or leave it out of the file",)),
    Case("pinned to an account the app does not manage",
         (declare("售后", id="wkB"),), (live("售后", "wkB", managed=False),),
         warnings=(NOT_OURS,),
         refusals=(f"售后: 售后 (wkB) is not managed by this app; let the app manage it under {CONSOLE}, "
                   "or leave it out of the file",)),
    Case("formerly the name of an account the app does not manage",
         (declare("售后服务", previously=("售后",)),), (live("售后", "wkB", managed=False),),
         warnings=(NOT_OURS,),
         refusals=(f"售后服务: 售后 (wkB) is not managed by this app; let the app manage it under "
                   f"{CONSOLE}, or leave it out of the file",)),
    Case("an app that manages no account yet cannot add one: WeCom answers 48002",
         (declare("售前"),), (live("售后", "wkB", managed=False),),
         changes=(Change(Action.ADD, "售前", None, {"name": "售前", "avatar": "avatars/售前.png"},
                         "declared, not live"),),
         warnings=(NOT_OURS,), refusals=(NONE_MANAGED,)),
    Case("an empty corp: no account to manage, so none can be added",
         (declare("售前"),), (),
         changes=(Change(Action.ADD, "售前", None, {"name": "售前", "avatar": "avatars/售前.png"},
                         "declared, not live"),),
         refusals=(NONE_MANAGED,)),
    Case("a tombstone alone needs no managed account",
         (tombstone("售前"),), ()),
    Case("a managed namesake is the match, the one the app may not manage stays alone",
         (declare("售后"),), (live("售后", "wkA"), live("售后", "wkB", managed=False)),
         warnings=(NOT_OURS,)),
    Case("a pinned id that is not live",
         (declare("售前", id="wkGONE"),), (live("售前", "wkA"),),
         unmanaged=("售前",),
         refusals=("售前: id wkGONE is not live; kfsync never re-creates a pinned account: remove `id` "
                   "to create a new one, or fix it",)),
    Case("two live accounts of the name, no pin",
         (declare("售前"),), (live("售前", "wkB"), live("售前", "wkA")),
         refusals=("售前: two live accounts are named 售前 (wkA, wkB): pin one with `id:`",)),
    Case("two live accounts of a former name",
         (declare("售后服务", previously=("售后", "客服")),), (live("售后", "wkB"), live("客服", "wkA")),
         refusals=("售后服务: two live accounts are named 售后 or 客服 (wkA, wkB): pin one with `id:`",)),
    Case("two live accounts of the name, one pinned",
         (declare("售前", id="wkB"),), (live("售前", "wkA"), live("售前", "wkB")),
         unmanaged=("售前",)),
    Case("one live account claimed by two entries",
         (declare("售后服务", id="wkA"), declare("售后")), (live("售后", "wkA"),),
         changes=(update("售后服务", {"id": "wkA", "name": "售后"}, {"id": "wkA", "name": "售后服务"},
                         "renamed from 售后"),),
         refusals=("售后 (wkA) is claimed by 2 entries (售后, 售后服务); an account is one entry: "
                   "remove the others, or pin each with its own `id:`",)),
    Case("a tombstone deletes under the live name",
         (declare("售前"), tombstone("售后")), (live("售前", "wkA"), live("售后", "wkB")),
         changes=(Change(Action.DELETE, "售后", {"id": "wkB", "name": "售后"}, None,
                         "tombstone (state: absent)"),)),
    Case("a pinned tombstone deletes the account by id, whatever its name now",
         (declare("售前"), tombstone("售后", id="wkB")), (live("售前", "wkA"), live("客服", "wkB")),
         changes=(Change(Action.DELETE, "客服", {"id": "wkB", "name": "客服"}, None,
                         "tombstone (state: absent)"),)),
    Case("a tombstone of a renamed account",
         (declare("售前"), tombstone("售后服务", previously=("售后",))),
         (live("售前", "wkA"), live("售后", "wkB")),
         changes=(Change(Action.DELETE, "售后", {"id": "wkB", "name": "售后"}, None,
                         "tombstone (state: absent)"),)),
    Case("a tombstone of an account already gone, pinned or not",
         (declare("售前"), tombstone("售后"), tombstone("客服", id="wkGONE")), (live("售前", "wkA"),)),
    Case("a tombstone of an ambiguous name",
         (declare("售前"), tombstone("售后")),
         (live("售前", "wkA"), live("售后", "wkB"), live("售后", "wkC")),
         refusals=("售后: two live accounts are named 售后 (wkB, wkC): pin one with `id:`",)),
    Case("a tombstone of a protected account",
         (declare("售前"), tombstone("vip客服")), (live("售前", "wkA"), live("vip客服", "wkB")),
         policy=Policy(protected=("vip*",)),
         refusals=("vip客服 is protected and cannot be deleted",)),
    Case("unclaimed accounts deleted (unmanaged: delete), the protected one left alone",
         (declare("售前"),), (live("售前", "wkA"), live("客服", "wkB"), live("vip客服", "wkC")),
         policy=Policy(unmanaged="delete", protected=("vip*",), max_deletes=5),
         changes=(Change(Action.DELETE, "客服", {"id": "wkB", "name": "客服"}, None,
                         "not declared (unmanaged: delete)"),),
         warnings=("vip客服 is not declared but protected; left alone",)),
    Case("unclaimed accounts reported, each namesake",
         (declare("售前"),), (live("售前", "wkA"), live("客服", "wkB"), live("客服", "wkC")),
         unmanaged=("客服", "客服")),
    Case("a rename of a protected account is no delete: allowed",
         (declare("vip服务", id="wkA"),), (live("vip客服", "wkA"),), policy=Policy(protected=("vip*",)),
         changes=(update("vip服务", {"id": "wkA", "name": "vip客服"}, {"id": "wkA", "name": "vip服务"},
                         "renamed from vip客服"),)),
    Case("ignored accounts are invisible, declared or live",
         (declare("售前"), declare("test客服", id="wkGONE")), (live("售前", "wkA"), live("test2", "wkT")),
         policy=Policy(ignore=("test*",), unmanaged="delete")),
]


@by_name(CASES)
def test_accounts(case: Case) -> None:
    check(case)


def test_outputs_one_contact_link_per_declared_scene() -> None:
    declared = (declare("售后", scenes=("web", "app")), declare("售前", scenes=("app",)),
                tombstone("客服"), declare("售中"))
    result = make_plan(declared, ())
    assert result.outputs == (
        Output("售前", "contact_link", "app"),
        Output("售后", "contact_link", "app"),
        Output("售后", "contact_link", "web"),
    )
    assert all(o.value is None for o in result.outputs)


def test_the_plan_does_not_depend_on_the_order_things_come_in() -> None:
    declared = (declare("售后服务", previously=("售后",), servicers=(("b", "a"), ())), declare("售前"),
                tombstone("客服"))
    accounts = (live("售后", "wkB", users=("c",)), live("售前", "wkA"), live("客服", "wkC"),
                live("其他", "wkD"), live("其他", "wkE"), live("不管", "wkF", managed=False))
    forward = make_plan(declared, accounts, Policy(unmanaged="report"))
    backward = make_plan(declared[::-1], accounts[::-1], Policy(unmanaged="report"))
    assert forward == backward
    assert [c.id for c in forward.changes] == ["delete:客服", "update:售后服务", "servicers:售后服务"]
    assert forward.changes[2].reason == "servicers differ: 2 to add, 1 to remove"


def test_an_add_without_an_avatar_is_planned_without_one() -> None:
    """The loader refuses such an entry; the rules still plan it, and the provider refuses the add."""
    entry = DesiredAccount("售前", name="售前", servicer_users=("lisi",), servicer_departments=())
    changes = WeComRules(CORP).create(entry, None, "declared, not live")
    assert changes == [
        Change(Action.ADD, "售前", None, {"name": "售前"}, "declared, not live"),
        Change(Action.SERVICERS, "售前", {"users": ()}, {"users": ("lisi",)},
               "servicers of a new account: 1 to add", ("add:售前",)),
    ]


def test_a_pinned_entry_is_never_created() -> None:
    """`match` refuses a pinned entry that is not live; `create` adds nothing of its own besides."""
    assert WeComRules(CORP).create(declare("售前", id="wkGONE"), avatar("售前"), "declared, not live") == []


def test_a_long_servicer_list_is_counted_in_the_reason() -> None:
    users = tuple(f"u{i:02}" for i in range(20))
    result = make_plan((declare("售前", servicers=(users, ())),), (live("售前", "wkA"),))
    (change,) = result.changes
    assert change.reason == "servicers differ: 20 to add"  # who: the change's lists
    assert change.after is not None
    assert change.after["users"] == users


def test_a_live_servicer_list_not_read_counts_as_no_one() -> None:
    account = LiveAccount("售前", "售前", headimgurl=url("wkA"), kf_id="wkA", manage_privilege=True)
    result = make_plan((declare("售前", servicers=(("lisi",), ())),), (account,))
    assert result.changes == (Change(Action.SERVICERS, "售前", {"id": "wkA", "users": ()},
                                     {"id": "wkA", "users": ("lisi",)}, "servicers differ: 1 to add"),)


def test_summary_counts_servicers_changes() -> None:
    result = make_plan((declare("售前", servicers=(("lisi",), ())), declare("售后")),
                       (live("售后", "wkB", departments=("2",)),))
    assert result.summary() == {"add": 1, "change": 0, "delete": 0, "invite": 0, "avatar": 0,
                                "rebind": 0, "servicers": 1}
    assert not [c for c in result.changes if c.action in (Action.SET_AVATAR, Action.INVITE)]


# --------------------------------------------------------------------------- safety


def test_deletes_beyond_max_deletes_are_refused_until_named() -> None:
    declared = (declare("售前"), tombstone("售后"), tombstone("客服"))
    accounts = (live("售前", "wkA"), live("售后", "wkB"), live("客服", "wkC"))
    policy = Policy(max_deletes=1)
    result = make_plan(declared, accounts, policy)
    assert [c.id for c in result.deletes] == ["delete:售后", "delete:客服"]
    with pytest.raises(SafetyError, match=r"deletes 2 accounts .* max_deletes=1; name each with "
                                          r"--allow-delete 售后,客服"):
        check_safety(result, policy)
    check_safety(result, policy, frozenset({"售后", "客服"}))
    check_safety(result, Policy(max_deletes=2))


def test_a_stray_allow_delete_name_is_refused() -> None:
    result = make_plan((declare("售前"), tombstone("售后")), (live("售前", "wkA"), live("售后", "wkB")))
    with pytest.raises(SafetyError, match="names 客服, which the plan does not delete"):
        check_safety(result, Policy(), frozenset({"客服"}))


def test_consent_names_accounts_as_the_plan_does() -> None:
    """WeCom names stay bare; an Official Account's prefix gains its WeChat ID."""
    wecom = make_plan((declare("售前"), tombstone("售后")), (live("售前", "wkA"), live("售后", "wkB")))
    assert consented(wecom, {"售后", "x@y"}) == {"售后", "x@y"}
    official = Plan("shop_cs", (Change(Action.DELETE, "alice@shop_cs", None, None, "r"),))
    assert consented(official, {"alice", "bob@shop_cs"}) == {"alice@shop_cs", "bob@shop_cs"}
    assert consented(Plan("shop_cs", ()), {"alice"}) == {"alice@shop_cs"}


def test_refusals_hold_whatever_the_flags() -> None:
    result = make_plan((declare("售前"),), (live("售前", "wkA"), live("售前", "wkB")))
    with pytest.raises(SafetyError, match="two live accounts are named 售前"):
        check_safety(result, Policy(max_deletes=100), frozenset())


def test_two_deletes_of_one_name_are_refused() -> None:
    """Two namesakes deleted at once would be two changes of one id, which apply cannot tell apart."""
    declared = (declare("售前"), tombstone("客服", id="wkB"))
    accounts = (live("售前", "wkA"), live("客服", "wkB"), live("客服", "wkC"))
    result = make_plan(declared, accounts, Policy(unmanaged="delete", max_deletes=5))
    assert [c.id for c in result.changes] == ["delete:客服", "delete:客服"]
    assert len(result.refusals) == 1
    assert "delete:客服" in result.refusals[0]
    with pytest.raises(SafetyError, match="delete:客服"):
        check_safety(result, Policy(max_deletes=5))


# --------------------------------------------------------------------------- purity


def test_the_rules_import_only_the_core_and_their_own_package() -> None:
    own = "kfsync.providers.wecom."
    direct = imports_of("kfsync.providers.wecom.rules")
    assert direct - {"kfsync.model", "kfsync.plan"} == {f"{own}errcodes"}
    # and, running, nothing that speaks to a server, reads a config or belongs to another product
    script = textwrap.dedent("""
        import sys
        import kfsync.providers.wecom.rules
        speaking = ("requests", "urllib3", "socket", "http", "kfsync.client", "kfsync.config",
                    "kfsync.providers.wecom.client", "kfsync.providers.wecom.emulator",
                    "kfsync.providers.wechat_mp")
        print(sorted(m for m in sys.modules if m.partition(".")[0] in speaking or m.startswith(speaking)))
    """)
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"
