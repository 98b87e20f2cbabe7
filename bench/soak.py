"""The soak: random declared and live states, random faults, apply, and check that nothing diverged.

In-process for speed: one `Emulator` on loopback and the library calls the CLI
makes (load, declare, plan, apply, verify), with a client that retries without
sleeping.  Each run draws, from `random.Random(SEED, run)`, a kfsync.yaml (present
accounts, tombstones, avatars, bindings, an unmanaged policy), a live side
(accounts, avatars, bindings and invitations in every state) and up to three
queued faults (-1, 45011, HTTP 502, connection dropped before or after the
work) on random endpoints.  When the apply does not converge after a fault hit
it, the faults left are cleared (the outage is over) and it is run once more.

A divergence is a live state, read from the emulator's admin API and not from
kfsync, that differs from the declared one (account, nickname, avatar by
perceptual hash, binding or waiting invitation, tombstone, unmanaged policy),
a correct binding lost, or an account added twice without a delete between.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from bench import harness, workload
from bench.harness import Settings, say
from bench.report import Row, Table, secs, times, verdict
from kfsync.avatars import AvatarPrint, load_avatar, picture_hash
from kfsync.cache import Cache
from kfsync.config import load_config
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_WECHAT_ID, Emulator
from kfsync.engine import Engine, judged
from kfsync.errors import KfsyncError
from kfsync.plan import SAME_PICTURE_BITS, hamming
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy
from kfsync.providers.wechat_mp.provider import WechatMpProvider

SEED = 20_240_501
POOL = tuple(f"s{i:02d}" for i in range(10))
NICKNAMES = ("Alice", "Bob", "小美", "客服")
PICTURES = 4
ADD = "/customservice/kfaccount/add"
DELETE = "/customservice/kfaccount/del"
FAULT_PATHS = (harness.TOKEN_PATH, harness.LIST_PATH, ADD, DELETE, "/customservice/kfaccount/update",
               "/customservice/kfaccount/inviteworker", "/customservice/kfaccount/uploadheadimg")
FAULTS: tuple[dict[str, Any], ...] = ({"errcode": -1}, {"errcode": 45011}, {"http_status": 502},
                                      {"drop": "before"}, {"drop": "after"})


@dataclass
class Tally:
    runs: int = 0
    operations: int = 0
    requests: int = 0
    faults_hit: int = 0
    faults_survived: int = 0
    reruns: int = 0
    divergences: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Shop:
    """Where a run's kfsync.yaml goes, its pictures, and what they look like."""

    folder: Path
    seeds: tuple[str, ...]  #: each picture as kfsync uploads it, base64, for live seeds
    hashes: tuple[str, ...]  #: picture_hash of each upload

    @property
    def config(self) -> Path:
        return self.folder / "kfsync.yaml"


def make_shop(folder: Path) -> Shop:
    seeds, hashes = [], []
    for index in range(PICTURES):
        path = folder / "pictures" / f"p{index}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(workload.picture(1000 + index, side=160))
        jpeg = load_avatar(path)
        seeds.append(base64.b64encode(jpeg).decode("ascii"))
        hashes.append(picture_hash(jpeg))
    return Shop(folder, tuple(seeds), tuple(hashes))


def draw_declared(rng: random.Random) -> dict[str, Any]:
    present = rng.sample(POOL, rng.randint(1, 7))
    accounts: dict[str, dict[str, Any]] = {}
    for prefix in present:
        entry: dict[str, Any] = {"nickname": rng.choice(NICKNAMES)}
        if rng.random() < 0.6:
            entry["avatar"] = f"pictures/p{rng.randrange(PICTURES)}.jpg"
        if rng.random() < 0.6:
            entry["wechat"] = f"{prefix}_wx{rng.choice('ab')}"
        accounts[prefix] = entry
    for prefix in rng.sample([p for p in POOL if p not in accounts], rng.randint(0, 2)):
        accounts[prefix] = {"state": "absent"}
    policy = {"unmanaged": rng.choice(("report", "ignore", "delete")), "max_deletes": len(POOL)}
    return {"version": 1, "official_account": {"wechat_id": DEFAULT_WECHAT_ID},
            "policy": policy, "accounts": dict(sorted(accounts.items()))}


def draw_live(rng: random.Random, declared: Mapping[str, Any], shop: Shop, now: int) -> list[dict[str, Any]]:
    """Live accounts in any state from which the declared one can be reached."""
    items = []
    for prefix in sorted(rng.sample(POOL, rng.randint(0, 7))):
        item: dict[str, Any] = {"kf_account": f"{prefix}@{DEFAULT_WECHAT_ID}",
                                "kf_nick": rng.choice(NICKNAMES)}
        if rng.random() < 0.5:
            item["headimg_base64"] = rng.choice(shop.seeds)
        someone = f"{prefix}_wx{rng.choice('ab')}"
        binding = rng.choice(("none", "bound", "waiting", "rejected", "expired"))
        if binding == "bound":
            item["kf_wx"] = someone
        elif binding == "waiting":  # only for whom the file wants: another one could not be replaced
            wanted = declared["accounts"].get(prefix, {}).get("wechat")
            item.update(invite_wx=wanted or someone, invite_status="waiting")
        elif binding != "none":
            expires = now - 60 if binding == "expired" else now + 86400
            item.update(invite_wx=someone, invite_status=binding, invite_expire_time=expires)
        items.append(item)
    return items


class Soak:
    def __init__(self, emulator: Emulator, shop: Shop, cache: Cache) -> None:
        self.emulator = emulator
        self.admin = emulator.admin
        self.shop = shop
        self.cache = cache

    def one(self, index: int, tally: Tally) -> None:
        rng = random.Random(SEED * 1_000_003 + index)
        self.admin.reset()
        declared = draw_declared(rng)
        live = draw_live(rng, declared, self.shop, self.admin.now())
        self.admin.seed(accounts=live)
        self.shop.config.write_text(yaml.safe_dump(declared, allow_unicode=True), encoding="utf-8")
        for _ in range(rng.randint(0, 3)):
            self.admin.fault(rng.choice(FAULT_PATHS), rng.choice((1, 1, 2, 4)), **rng.choice(FAULTS))
        parallelism = rng.choice((1, 4, 8))
        converged, operations = self.attempt(parallelism)
        tally.operations += operations
        log = self.admin.requests()
        hit = sum(1 for e in log if e["fault"])
        if not converged and hit:
            with self.emulator.app.lock:  # the outage is over: the operator runs apply again
                self.emulator.app.faults.clear()
            tally.reruns += 1
            converged, operations = self.attempt(parallelism)
            tally.operations += operations
            log = self.admin.requests()
        problems = [] if converged else ["apply did not converge"]
        problems += self.diverged(declared, live, log)
        tally.runs += 1
        tally.requests += len(log)
        tally.faults_hit += hit
        if problems:
            tally.divergences.append(f"run {index}: " + "; ".join(problems))
        else:
            tally.faults_survived += hit

    def attempt(self, parallelism: int) -> tuple[bool, int]:
        """One `kfsync apply --auto-approve`: converged?, and how many changes it planned."""
        retry = RetryPolicy(sleep=lambda seconds: None)
        try:
            client = KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET,
                              api_base=self.emulator.base_url, retry=retry)
            prints: dict[Path, AvatarPrint] = {}
            config = load_config(self.shop.config, cache=self.cache, prints=prints)
            with Engine(config, lambda: WechatMpProvider(client, cache=self.cache),
                        cache=self.cache, prints=prints) as engine:
                first = engine.plan()
                if first.plan.empty:
                    return True, 0
                # The soak consents to every delete.
                prepared = judged(first.declared, first.live,
                                  frozenset(c.account for c in first.plan.deletes), rules=engine.rules)
                applied = engine.apply(prepared, parallelism=parallelism)
                return applied.converged, len(prepared.plan.changes)
        except KfsyncError:
            return False, 0

    def diverged(self, declared: Mapping[str, Any], seeded: list[dict[str, Any]],
                 log: list[dict[str, Any]]) -> list[str]:
        state = {a["kf_account"].split("@")[0]: a for a in self.admin.state()["accounts"]}
        before = {i["kf_account"].split("@")[0]: i for i in seeded}
        accounts: Mapping[str, Mapping[str, Any]] = declared["accounts"]
        problems = []
        for prefix, entry in accounts.items():
            now = state.get(prefix)
            if entry.get("state") == "absent":
                if now is not None:
                    problems.append(f"{prefix}: tombstone still live")
                continue
            if now is None:
                problems.append(f"{prefix}: declared, not live")
                continue
            if now["kf_nick"] != entry["nickname"]:
                problems.append(f"{prefix}: nickname {now['kf_nick']!r}, not {entry['nickname']!r}")
            problems += self.binding(prefix, entry.get("wechat"), now, before.get(prefix))
            if "avatar" in entry:
                problems += self.avatar(prefix, entry["avatar"], now)
        unmanaged_gone = declared["policy"]["unmanaged"] == "delete"
        for prefix in sorted(set(before) - set(accounts)):
            if (prefix in state) == unmanaged_gone:
                problems.append(f"{prefix}: undeclared, {'still live' if unmanaged_gone else 'deleted'}")
        problems += added_twice(log)
        return problems

    @staticmethod
    def binding(prefix: str, wechat: str | None, now: Mapping[str, Any],
                before: Mapping[str, Any] | None) -> list[str]:
        if wechat is None:
            return []
        invitation = now.get("invitation") or {}
        if now.get("kf_wx") == wechat:
            return []
        if before is not None and before.get("kf_wx") == wechat:
            return [f"{prefix}: was bound to {wechat}, binding lost"]
        if invitation.get("invite_wx") == wechat and invitation.get("invite_status") == "waiting":
            return []
        return [f"{prefix}: neither bound to nor inviting {wechat}"]

    def avatar(self, prefix: str, written: str, now: Mapping[str, Any]) -> list[str]:
        if not now.get("media_id"):
            return [f"{prefix}: no avatar uploaded"]
        url = f"{self.emulator.base_url}/mmbiz_jpg/{now['media_id']}/0"
        picture = requests.get(url, timeout=10).content
        wanted = self.shop.hashes[int(written.removeprefix("pictures/p").removesuffix(".jpg"))]
        distance = hamming(picture_hash(picture), wanted)
        return [] if distance <= SAME_PICTURE_BITS else [f"{prefix}: another picture ({distance} bits)"]


def _effective(entry: Mapping[str, Any]) -> bool:
    return entry["errcode"] in (None, 0) and entry["fault"] in (None, "drop:after")


def _account(entry: Mapping[str, Any]) -> str:
    body = entry.get("body")
    if isinstance(body, dict) and "kf_account" in body:
        return str(body["kf_account"])
    return str(entry.get("query", {}).get("kf_account"))


def added_twice(log: list[dict[str, Any]]) -> list[str]:
    """Accounts the emulator added twice with no delete between, from its request log."""
    exists: dict[str, bool] = {}
    problems = []
    for entry in log:
        if entry["path"] not in (ADD, DELETE) or not _effective(entry):
            continue
        account = _account(entry)
        if entry["path"] == ADD and exists.get(account):
            problems.append(f"{account}: added twice")
        exists[account] = entry["path"] == ADD
    return problems


@contextlib.contextmanager
def quiet_library() -> Iterator[None]:
    """The library's warnings (pending invitations, lost answers) are expected here; keep stderr clean."""
    logger = logging.getLogger("kfsync")
    handler = logging.NullHandler()
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved


def soak(settings: Settings, *, operations: int, max_runs: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    started = time.monotonic()
    with harness.scratch(settings.work, "soak") as folder, Emulator() as emulator, quiet_library():
        shop = make_shop(folder / "shop")
        runner = Soak(emulator, shop, Cache(folder / "cache"))
        while (tally.operations < operations and tally.runs < max_runs
               and time.monotonic() - started < seconds):
            if tally.runs % 25 == 0:
                say(f"soak: run {tally.runs + 1}, {tally.operations} operations so far")
            runner.one(tally.runs, tally)
    return tally, time.monotonic() - started


def run(settings: Settings) -> Table:
    goal, wanted = settings.reps(2000, 100), settings.reps(1000, 100)
    tally, spent = soak(settings, operations=goal, max_runs=settings.reps(600, 60),
                        seconds=settings.reps(300, 40))
    table = Table("Soak: random states and faults (in-process)")
    table.add(Row("runs", str(tally.runs),
                  ratio=f"{tally.operations / max(tally.runs, 1):.1f} operations a run"))
    table.add(Row("operations applied (planned changes)", str(tally.operations), f"≥ {wanted}",
                  times(tally.operations / wanted), verdict(tally.operations >= wanted)))
    table.add(Row("faults hit", str(tally.faults_hit),
                  ratio=f"{tally.faults_hit / max(tally.operations, 1):.2f} a operation"))
    table.add(Row("faults survived", str(tally.faults_survived),
                  ratio=f"{tally.faults_survived / max(tally.faults_hit, 1):.0%} of those hit"))
    table.add(Row("reruns after a fault", str(tally.reruns),
                  ratio=f"{tally.reruns / max(tally.runs, 1):.0%} of runs"))
    table.add(Row("divergences", str(len(tally.divergences)), "0", verdict=verdict(not tally.divergences)))
    table.add(Row("requests", str(tally.requests), ratio=f"{tally.requests / max(spent, 1e-9):.0f} a second"))
    table.add(Row("soak time", secs(spent), ratio=f"{spent / max(tally.runs, 1) * 1000:.0f} ms a run"))
    table.note(f"Seed {SEED}; runs stop at {goal} operations, {settings.reps(600, 60)} runs or "
               f"{settings.reps(300, 40)} s, whichever comes first.  Retries do not sleep.")
    table.note("Fault kinds: errcode -1, errcode 45011, HTTP 502, drop before, drop after; on the token, "
               "list, add, delete, update, inviteworker and uploadheadimg endpoints; 1, 2 or 4 requests "
               "each (4 exhausts the client's 4 attempts).")
    table.notes += [f"Divergence: {d}" for d in tally.divergences[:10]]
    return table
