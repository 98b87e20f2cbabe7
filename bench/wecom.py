"""Scenario 7, WeCom bootstrap apply: 100 new 微信客服 accounts with avatars, servicers and links.

The WeCom emulator runs as its own process, charging L per request and 2 × L
more for each new connection, seeded with the corp's users and departments and
the one account the console gives the app (WeCom refuses an add from an app
that manages no account yet); that account is not in the file, so kfsync only
reports it.  Each declared account has an avatar, two users and a department as
servicers, and two scenes whose contact links apply reports.

`kfsync apply --auto-approve` runs at the default --parallelism and at a larger
one, each time against the emulator emptied and seeded again, after a `kfsync
plan` whose cache each apply starts from (as in the bootstrap scenario).  Then
`bench/reference.py wecom-apply`: the minimal concurrent client at the same
widths, and the sequential script, whose live state must be kfsync's.

The limit (`Limit`) is counted from the emulator's request log of each apply:
the plan's requests, the writes at P at a time or the longest chain of
requests that wait on each other, and the verification's reads and the contact
links at width P after its list.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import harness, workload
from bench.harness import EmulatorProcess, RequestLog, Settings, median, run_timed, say
from bench.report import AT_FLOOR, Row, Table, floor_verdict, ms, secs, times, verdict
from kfsync.providers.base import DEFAULT_PARALLELISM
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, WeComAdmin

ACCOUNTS = 100
DEPARTMENTS = 10  #: departments 2 to 11; account i has department 2 + i % 10
SCENES = ("web", "app")
DEFAULT_WIDTH = DEFAULT_PARALLELISM
LARGE_WIDTH = 32
LIMIT_TARGET = 1.3  #: × the limit, at the default width
SPEED_UP_TARGET = 4.0  #: over the sequential script, at the default width
#: The one account the console gives the app (not declared: kfsync reports it).
CONSOLE_ACCOUNT: dict[str, Any] = {"open_kfid": "wkConsoleGiven0001", "name": "接待台",
                                   "manage_privilege": True}

TOKEN = "/cgi-bin/gettoken"
LIST = "/cgi-bin/kf/account/list"
SERVICER_LIST = "/cgi-bin/kf/servicer/list"
LINK = "/cgi-bin/kf/add_contact_way"
PICTURES = "/wwhead/"
WRITES = frozenset({"/cgi-bin/media/upload", "/cgi-bin/kf/account/add",
                    "/cgi-bin/kf/account/update", "/cgi-bin/kf/account/del",
                    "/cgi-bin/kf/servicer/add", "/cgi-bin/kf/servicer/del"})


@dataclass(frozen=True)
class Declared:
    """One declared account: its name, avatar file (relative), servicers and scenes."""

    index: int
    name: str
    avatar: str
    users: tuple[str, ...]
    departments: tuple[int, ...]
    scenes: tuple[str, ...] = SCENES


def declared(count: int) -> list[Declared]:
    return [Declared(i, f"客服{i:05d}", f"avatars/kf{i:05d}.jpg",
                     (f"u{2 * i:05d}", f"u{2 * i + 1:05d}"), (2 + i % DEPARTMENTS,))
            for i in range(count)]


def seed(admin: WeComAdmin, accounts: Sequence[Declared]) -> None:
    """The corp as the console leaves it: its users, departments and the one account given."""
    users = sorted({u for a in accounts for u in a.users})
    admin.seed(users=[{"userid": u} for u in users],
               departments=[{"department_id": 2 + d, "name": f"部门{d}"}
                            for d in range(DEPARTMENTS)],
               accounts=[CONSOLE_ACCOUNT])


def write_corp(folder: Path, accounts: Sequence[Declared]) -> Path:
    """kfsync.yaml for the accounts, with their avatar files; returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for account in accounts:
        path = folder / account.avatar
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(workload.picture(account.index))
        entries[account.name] = {"avatar": account.avatar,
                                 "servicers": {"users": list(account.users),
                                               "departments": list(account.departments)},
                                 "scenes": list(account.scenes)}
    document = {"version": 1, "wecom": {"corp_id": DEFAULT_CORPID},
                "policy": {"unmanaged": "report"}, "accounts": entries}
    config = folder / "kfsync.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    return config


def manifest(folder: Path, accounts: Sequence[Declared]) -> Path:
    """The accounts as `bench/reference.py wecom-apply` reads them (avatars as absolute paths)."""
    items = [{"name": a.name, "avatar": str((folder / a.avatar).resolve()),
              "users": list(a.users), "departments": list(a.departments),
              "scenes": list(a.scenes)} for a in accounts]
    path = folder / "accounts.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Tally:
    """One command's requests by kind; reads before its first write are the plan's."""

    token: int = 0
    plan_lists: int = 0  #: pages of kf/account/list before the first write
    plan_reads: int = 0  #: servicer lists and pictures before the first write
    writes: int = 0  #: media/upload, account add/update/del, servicer add/del
    after_lists: int = 0  #: pages of the list after the first write (the verification)
    after_reads: int = 0  #: servicer lists and pictures after the first write
    links: int = 0  #: add_contact_way
    other: int = 0

    @classmethod
    def of(cls, entries: Sequence[Mapping[str, Any]]) -> Tally:
        paths = [str(e["path"]) for e in entries]
        first = next((i for i, p in enumerate(paths) if p in WRITES), len(paths))
        before, after = paths[:first], paths[first:]

        def reads(part: list[str]) -> int:
            return sum(p == SERVICER_LIST or p.startswith(PICTURES) for p in part)

        known = {TOKEN, LIST, SERVICER_LIST, LINK} | WRITES
        return cls(token=paths.count(TOKEN), plan_lists=before.count(LIST),
                   plan_reads=reads(before), writes=sum(p in WRITES for p in paths),
                   after_lists=after.count(LIST), after_reads=reads(after),
                   links=paths.count(LINK),
                   other=sum(p not in known and not p.startswith(PICTURES) for p in paths))

    @property
    def total(self) -> int:
        return (self.token + self.plan_lists + self.plan_reads + self.writes + self.after_lists
                + self.after_reads + self.links + self.other)

    def show(self) -> str:
        return (f"{self.total} (token {self.token}; plan: list {self.plan_lists}, servicers and "
                f"pictures {self.plan_reads}; writes {self.writes}; after: list "
                f"{self.after_lists}, servicers and pictures {self.after_reads}, links "
                f"{self.links}" + (f"; other {self.other}" if self.other else "") + ")")


#: Requests one change makes, one after the other: a new account's picture is uploaded
#: before the add that takes its media_id; so is a new picture's before its update.
def cost(change: Mapping[str, Any]) -> int:
    after = change.get("after") or {}
    uploads = change["action"] == "add" or (change["action"] == "update" and "avatar" in after)
    return 2 if uploads else 1


def chain(changes: Sequence[Mapping[str, Any]]) -> int:
    """The longest chain of requests that wait on each other, along the plan's `depends_on`."""
    by_id = {str(c["id"]): c for c in changes}
    memo: dict[str, int] = {}

    def longest(change_id: str) -> int:
        if change_id not in memo:
            needs = [d for d in by_id[change_id].get("depends_on", ()) if d in by_id]
            memo[change_id] = cost(by_id[change_id]) + max(map(longest, needs), default=0)
        return memo[change_id]

    return max(map(longest, by_id), default=0)


@dataclass(frozen=True)
class Limit:
    """The least wall time the latency allows for one apply's requests, in round trips of L."""

    tally: Tally
    chain: int  #: longest chain of requests that wait on each other
    parallelism: int
    latency_ms: int

    @property
    def terms(self) -> tuple[int, int, int]:
        t, p = self.tally, self.parallelism
        plan = t.token + t.plan_lists + math.ceil(t.plan_reads / p)
        after = t.after_lists + math.ceil((t.after_reads + t.links) / p)
        return plan, max(math.ceil(t.writes / p), self.chain), after

    @property
    def seconds(self) -> float:
        return sum(self.terms) * self.latency_ms / 1000

    def formula(self) -> str:
        t, p = self.tally, self.parallelism
        plan, writes, after = self.terms
        return (f"limit(P={p}) = L × (plan (token {t.token} + list {t.plan_lists} + "
                f"⌈{t.plan_reads}/{p}⌉) + max(⌈{t.writes}/{p}⌉, chain {self.chain}) + "
                f"verification and outputs (list {t.after_lists} + ⌈({t.after_reads} + "
                f"{t.links})/{p}⌉)) = {self.latency_ms} ms × ({plan} + {writes} + {after}) = "
                f"{ms(self.seconds)}")


def live_state(api_base: str) -> dict[str, tuple[object, ...]]:
    """Each live account by name: servicer users and departments, picture hash, link scenes."""
    from kfsync.cache import Cache
    from kfsync.downloads import fetch_pictures
    from kfsync.providers.wecom.client import WeComClient
    from kfsync.providers.wecom.emulator import DEFAULT_SECRET
    from kfsync.providers.wecom.live import read_accounts

    with WeComClient(DEFAULT_CORPID, DEFAULT_SECRET, api_base=api_base) as client:
        accounts = read_accounts(client)
    urls = [a.headimgurl for a in accounts if a.headimgurl]
    pictures = fetch_pictures(urls, Cache(None).live)
    scenes: dict[str, list[str]] = {}
    for key in WeComAdmin(api_base).state()["links"]:
        open_kfid, _, scene = str(key).partition(" ")
        scenes.setdefault(open_kfid, []).append(scene)
    return {a.kf_account: (a.servicer_users, a.servicer_departments,
                           pictures[a.headimgurl].phash if a.headimgurl else None,
                           tuple(sorted(scenes.get(a.kf_id or "", ()))))
            for a in accounts}


@dataclass(frozen=True)
class Measured:
    timed: harness.Timed
    tally: Tally
    opened: int  #: connections the command opened


class Bench:
    """One emulator, one corp, and the commands measured against it."""

    def __init__(self, emulator: EmulatorProcess, folder: Path, accounts: int) -> None:
        self.emulator = emulator
        self.folder = folder
        self.accounts = declared(accounts)
        self.admin = WeComAdmin(emulator.base_url)
        self.log = RequestLog(self.admin)
        self.config = write_corp(folder / "corp", self.accounts)
        self.manifest = manifest(folder / "corp", self.accounts)
        self.planned_cache = folder / "plan-cache"
        self.planned_cache.mkdir()
        self._reset()
        planned = run_timed([*harness.launcher(), "plan", "-c", str(self.config), "--format",
                             "json"], env=self._env(self.planned_cache))
        if planned.code not in (0, 2):
            raise RuntimeError(f"kfsync plan failed (exit {planned.code}): {planned.err[-800:]}")
        self.changes: list[dict[str, Any]] = json.loads(planned.out)["changes"]
        self.runs = 0

    def _env(self, cache: Path) -> dict[str, str]:
        return harness.kfsync_env(self.emulator.base_url, cache, provider="wecom")

    def _reset(self) -> None:
        self.admin.reset()
        seed(self.admin, self.accounts)

    def _measured(self, argv: list[str], env: Mapping[str, str] | None) -> Measured:
        self._reset()
        mark = self.log.mark()
        opened = harness.connections(self.emulator)
        timed = run_timed(argv, env=env)
        if timed.code != 0:
            raise RuntimeError(f"{argv[1:3]} failed (exit {timed.code}): {timed.err[-800:]}")
        # Each admin call opens a connection of its own: the count read now includes its own.
        opened = harness.connections(self.emulator) - opened - 1
        return Measured(timed, Tally.of(self.log.since(mark)), opened)

    def kfsync(self, parallelism: int) -> Measured:
        self.runs += 1
        cache = self.folder / f"cache-{self.runs}"
        shutil.copytree(self.planned_cache, cache)
        measured = self._measured(
            [*harness.launcher(), "apply", "-c", str(self.config), "--auto-approve",
             "--parallelism", str(parallelism), "--format", "json"], self._env(cache))
        if not json.loads(measured.timed.out).get("complete", True):
            raise RuntimeError(f"apply did not converge: {measured.timed.err[-800:]}")
        shutil.rmtree(cache, ignore_errors=True)
        return measured

    def script(self, width: int) -> Measured:
        return self._measured(harness.reference("wecom-apply", self.emulator.base_url,
                                                "--accounts", str(self.manifest),
                                                "--width", str(width)), None)

    def limit(self, tally: Tally, parallelism: int) -> Limit:
        return Limit(tally, chain(self.changes), parallelism, self.emulator.latency_ms)


def run(settings: Settings, *, accounts: int | None = None) -> Table:
    accounts = accounts or settings.reps(ACCOUNTS, 20)
    table = Table(f"7. WeCom bootstrap apply ({accounts} new accounts with avatar, servicers "
                  f"and {len(SCENES)} links each)")
    latency = settings.latency_ms
    rounds = settings.reps(3, 1)
    widths = (DEFAULT_WIDTH, LARGE_WIDTH)
    walls: dict[int, list[float]] = {p: [] for p in widths}
    cpus: dict[int, list[float]] = {p: [] for p in widths}
    runs: dict[int, Measured] = {}
    clients: dict[int, Measured] = {}
    with harness.scratch(settings.work, "wecom") as folder, \
            EmulatorProcess(latency_ms=latency, connection_latency_ms=2 * latency,
                            provider="wecom") as emulator:
        bench = Bench(emulator, folder, accounts)
        for index in range(rounds):
            for p in widths:
                say(f"wecom: L={latency} ms, --parallelism {p}, round {index + 1}/{rounds}")
                runs[p] = bench.kfsync(p)
                walls[p].append(runs[p].timed.wall)
                cpus[p].append(runs[p].timed.cpu)
                if index == 0 and p == DEFAULT_WIDTH:
                    kfsync_state = live_state(emulator.base_url)
        for p in widths:
            say(f"wecom: L={latency} ms, minimal concurrent client, width {p}")
            clients[p] = bench.script(p)
        say(f"wecom: L={latency} ms, the sequential script")
        sequential = bench.script(1)
        script_state = live_state(emulator.base_url)
        limits = {p: bench.limit(runs[p].tally, p) for p in widths}
        changes = bench.changes

    actions = {a: sum(1 for c in changes if c["action"] == a) for a in ("add", "servicers")}
    done = runs[DEFAULT_WIDTH].tally
    table.add(Row("changes planned; writes and links of one apply",
                  f"{len(changes)} ({', '.join(f'{a} {n}' for a, n in actions.items())}); "
                  f"{done.writes} writes, {done.links} links",
                  f"{2 * accounts}; {3 * accounts} writes, {len(SCENES) * accounts} links",
                  verdict=verdict(len(changes) == 2 * accounts and done.writes == 3 * accounts
                                  and done.links == len(SCENES) * accounts)))
    wall = {p: median(walls[p]) for p in widths}
    for p in widths:
        bound = LIMIT_TARGET * limits[p].seconds
        client = clients[p].timed.wall
        targeted = p == DEFAULT_WIDTH
        table.add(Row(f"--parallelism {p}: wall time (limit {ms(limits[p].seconds)})",
                      secs(wall[p]), f"≤ {LIMIT_TARGET} × limit = {secs(bound)}" if targeted else "—",
                      f"{times(wall[p] / limits[p].seconds)} of the limit; "
                      f"{times(wall[p] / client)} of the minimal concurrent client "
                      f"({times(client / limits[p].seconds)} of the limit); "
                      f"{times(sequential.timed.wall / wall[p])} faster than the sequential script",
                      floor_verdict(wall[p], bound, AT_FLOOR * client) if targeted else "info",
                      timed=True))
    table.add(Row("the sequential script: wall time", secs(sequential.timed.wall),
                  ratio=f"{times(sequential.timed.wall / limits[DEFAULT_WIDTH].seconds)} of the "
                        f"limit at P={DEFAULT_WIDTH}"))
    speed_up = sequential.timed.wall / wall[DEFAULT_WIDTH]
    client_speed_up = sequential.timed.wall / clients[DEFAULT_WIDTH].timed.wall
    table.add(Row(f"speed-up over the sequential script at the default --parallelism "
                  f"{DEFAULT_WIDTH}", times(speed_up), f"≥ {SPEED_UP_TARGET:g}×",
                  f"the minimal concurrent client: {times(client_speed_up)}",
                  floor_verdict(wall[DEFAULT_WIDTH], sequential.timed.wall / SPEED_UP_TARGET,
                                AT_FLOOR * clients[DEFAULT_WIDTH].timed.wall), timed=True))
    same = kfsync_state == script_state and len(script_state) == accounts + 1
    table.add(Row("live state after kfsync and after the sequential script",
                  "the same" if same else "different",
                  "the same (names, servicers, picture hashes, link scenes)", verdict=verdict(same)))
    table.add_traffic({p: runs[p].opened for p in widths}, sequential.opened, DEFAULT_WIDTH,
                      done.show(), sequential.tally.show())
    table.add(Row(f"CPU of kfsync at P={DEFAULT_WIDTH}", secs(median(cpus[DEFAULT_WIDTH])),
                  ratio=f"{times(median(cpus[DEFAULT_WIDTH]) / wall[DEFAULT_WIDTH])} of the wall "
                        "time"))
    table.note(f"Medians of {rounds} round{'s' if rounds > 1 else ''} at L = {latency} ms, each "
               "apply against the emulator emptied and seeded again, after `kfsync plan` (from a "
               "copy of the cache that plan left). The emulator charges L per request and 2 × L "
               "more for the first answer on each new connection, counted from when it was "
               "opened.")
    for p in widths:
        table.note(limits[p].formula())
    table.note("The limit, counted from the emulator's request log of the apply: the plan's "
               "token, its pages of the list, and the servicer lists (and pictures) it read P at "
               "a time; the writes P at a time, or the longest chain of requests that wait on "
               "each other if longer (a picture's upload, the add that takes its media_id, then "
               "the account's servicers); the verification's pages of the list, then its "
               "servicer lists and picture downloads and the contact links, P at a time. "
               "Handshakes, process start-up and CPU are not in it.")
    table.note("`bench/reference.py wecom-apply`: the sequential script makes the same writes "
               "and links one by one with a requests.Session (width 1), then re-reads the list "
               "and each account's servicers (it downloads no picture); the minimal concurrent "
               "client makes them at width P on P threads, each account's servicers and links "
               "after its add, with no checks, no plan and no cache. Its times: "
               + ", ".join(f"P={p}: {secs(clients[p].timed.wall)}" for p in widths) + ".")
    return table
