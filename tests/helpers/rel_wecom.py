"""The reliability tests' WeCom corp: a bootstrap to declare, its CLI environment, the verdicts.

A corp of 30 members and 5 departments, with one account the app manages (a
WeCom app that manages none cannot add any), and a file declaring accounts
with an avatar each, servicers of both kinds and contact-link scenes.  The
verdicts read the emulator's request log and state: each declared account
added once (counting adds whose answer was lost), and the live corp exactly
the declared one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kfsync.providers.wecom.emulator import (
    DEFAULT_CORPID,
    DEFAULT_SECRET,
    WeComAdmin,
    WeComEmulator,
)
from tests.helpers.reliability import cli_env, picture

ADD = "/cgi-bin/kf/account/add"
UPLOAD = "/cgi-bin/media/upload"
SERVICER_ADD = "/cgi-bin/kf/servicer/add"
#: The calls that change the corp (a contact link is made, never changed: not a write here).
WRITES = frozenset({UPLOAD, ADD, "/cgi-bin/kf/account/update", "/cgi-bin/kf/account/del",
                    SERVICER_ADD, "/cgi-bin/kf/servicer/del"})
#: WeCom's transient errcodes, 5xx, and answers lost before and after the work was done.
WECOM_CHAOS_KINDS = ["errcode:-1", "errcode:45033", "errcode:6000", "http_status:502",
                     "drop:before", "drop:after"]
BOOTSTRAP = "wkBootstrap0001"  #: the account the console assigned to the app; left undeclared
USERS = [f"user{n:02d}" for n in range(30)]
DEPARTMENTS = [2, 3, 4, 5, 6]


@dataclass(frozen=True)
class WeComWorkspace:
    """A folder for the config, and the WeCom emulator the environment points at."""

    folder: Path
    emulator: WeComEmulator


@dataclass(frozen=True)
class WeComWanted:
    """One declared account: its name, servicers and scenes."""

    name: str
    users: tuple[str, ...]
    departments: tuple[int, ...]
    scenes: tuple[str, ...]


def wecom_accounts(count: int) -> list[WeComWanted]:
    """`count` accounts, each with two or three members, most with a department, some with links."""
    return [WeComWanted(f"客服{i:03d}",
                        tuple(sorted({USERS[i % 30], USERS[(i * 7 + 3) % 30], USERS[(i + 11) % 30]})),
                        (DEPARTMENTS[i % 5],) if i % 4 else (),
                        ("web", "app")[:i % 3])
            for i in range(count)]


def seed_corp(admin: WeComAdmin, **switches: bool) -> None:
    """Members, departments, and the one account the app manages (with `switches` set)."""
    admin.seed(switches=switches, users=[{"userid": u} for u in USERS],
               departments=[{"department_id": d, "members": USERS[d::5]} for d in DEPARTMENTS],
               accounts=[{"open_kfid": BOOTSTRAP, "name": "Front desk", "manage_privilege": True}])


def write_wecom_shop(folder: Path, wanted: Sequence[WeComWanted]) -> Path:
    """A kfsync.yaml declaring every account with its own avatar, its servicers and its scenes."""
    (folder / "avatars").mkdir(parents=True, exist_ok=True)
    accounts: dict[str, Any] = {}
    for index, account in enumerate(wanted):
        (folder / "avatars" / f"{index:03d}.png").write_bytes(picture(index))
        entry: dict[str, Any] = {"avatar": f"avatars/{index:03d}.png",
                                 "servicers": {"users": list(account.users),
                                               "departments": list(account.departments)}}
        if account.scenes:
            entry["scenes"] = list(account.scenes)
        accounts[account.name] = entry
    document = {"version": 1, "wecom": {"corp_id": DEFAULT_CORPID}, "accounts": accounts}
    config = folder / "kfsync.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    return config


def wecom_env(base_url: str, home: Path) -> dict[str, str]:
    """A CLI subprocess's environment: the corp's credentials, the emulator, its own cache."""
    env = cli_env(base_url, home, KFSYNC_CORPID=DEFAULT_CORPID, KFSYNC_CORPSECRET=DEFAULT_SECRET)
    del env["KFSYNC_APPID"], env["KFSYNC_APPSECRET"]
    return env


# --------------------------------------------------------------------------- verdicts


def wecom_adds(entries: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Accounts the emulator added, by name: accepted (errcode 0), answered or not (drop:after)."""
    return Counter(str(e["body"]["name"]) for e in entries
                   if e["path"] == ADD and e["errcode"] == 0 and e["fault"] in (None, "drop:after"))


def writes(entries: Iterable[Mapping[str, Any]]) -> int:
    """The calls the emulator processed that change the corp (a drop:after was processed too)."""
    return sum(1 for e in entries if e["path"] in WRITES and e["errcode"] == 0
               and e["fault"] in (None, "drop:after"))


def assert_wecom_no_duplicates(entries: Iterable[Mapping[str, Any]],
                               wanted: Sequence[WeComWanted]) -> None:
    """Each declared account was added exactly once, and nothing else was added."""
    adds = wecom_adds(entries)
    assert adds == Counter(w.name for w in wanted), {a: n for a, n in adds.items() if n != 1}


def assert_wecom_live_matches(state: Mapping[str, Any], wanted: Sequence[WeComWanted]) -> None:
    """The corp holds the bootstrap account and exactly the declared ones, one of each name,
    each with an avatar and exactly its servicers."""
    accounts = [a for a in state["accounts"] if a["open_kfid"] != BOOTSTRAP]
    names = Counter(a["name"] for a in accounts)
    assert names == Counter(w.name for w in wanted), {n: c for n, c in names.items() if c != 1}
    live = {a["name"]: a for a in accounts}
    for account in wanted:
        got = live[account.name]
        assert got["manage_privilege"], got
        assert got["picture"], f"{account.name} has no avatar"
        servicers = {(s["userid"], s["department_id"]) for s in got["servicers"]}
        assert servicers == ({(u, None) for u in account.users}
                             | {(None, d) for d in account.departments}), (account.name, servicers)
