"""Scenario 3, growth: plan CPU time at 100, 1,000 and 10,000 accounts (no latency, no avatars).

A valid kfsync.yaml declares at most 100 present accounts, so the larger
declared sides are built in memory.  What is timed, all with
`time.process_time` in this process (the emulator runs in its own):

- `plan()`, the pure planner, on the live accounts as the client parsed them
  from the emulator and a `Config` built in memory (the target);
- the client's `list_accounts()` (HTTP, JSON, typed values): the live side's parse;
- `load_config()` on a written file of the same size: the declared side's parse.
  Above 100 accounts it ends in the 100-account error, after every check ran.

The live side: n accounts, a third bound, a third invited, a third unbound.  The
declared side: 98% of them (5% with another nickname) plus 2% new ones, so the
plan has adds, updates, invitations, pending invitations and unmanaged accounts.
"""

from __future__ import annotations

import functools
import gc
import itertools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import harness, workload
from bench.harness import EmulatorProcess, Settings, say
from bench.report import Row, Table, ms, times, verdict
from kfsync.config import Config, DesiredAccount, OfficialAccount, Policy, load_config
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_WECHAT_ID
from kfsync.errors import ConfigError
from kfsync.model import LiveState
from kfsync.plan import Desired, Plan, plan
from kfsync.providers.wechat_mp.client import KfClient
from kfsync.providers.wechat_mp.client.results import KfAccount
from kfsync.providers.wechat_mp.provider import live_account
from kfsync.providers.wechat_mp.rules import WechatMpRules

SIZES = (100, 1_000, 10_000)
TARGET_CPU = 2.0  #: seconds of plan() at 10,000 accounts


def live_seed(count: int, now: int) -> list[dict[str, Any]]:
    items = []
    for index in range(count):
        item: dict[str, Any] = {"kf_account": f"{workload.prefix(index)}@{DEFAULT_WECHAT_ID}",
                                "kf_nick": f"客服{index:05d}"}
        if index % 3 == 0:
            item["kf_wx"] = f"worker_{index:05d}"
        elif index % 3 == 1:
            item.update(invite_wx=f"worker_{index:05d}", invite_expire_time=now + 86400)
        items.append(item)
    return items


def declared(count: int) -> list[workload.Account]:
    """98% of the live accounts (5% renamed), then 2% new ones."""
    first = count // 50
    return [
        workload.Account(workload.prefix(i), f"新客服{i:05d}" if i % 20 == 0 else f"客服{i:05d}",
                         wechat=f"worker_{i:05d}")
        for i in range(first, count + first)
    ]


def config_of(accounts: list[workload.Account]) -> Config:
    return Config(
        path=Path("kfsync.yaml"),
        official_account=OfficialAccount(DEFAULT_WECHAT_ID),
        policy=Policy(unmanaged="report"),
        accounts=tuple(DesiredAccount(a.prefix, nickname=a.nickname, wechat=a.wechat)
                       for a in accounts),
        digest="0" * 64,
    )


def cpu_once(action: Callable[[], object]) -> float:
    """The CPU time of one call, in this process, after collecting the garbage of the call before."""
    gc.collect()
    started = time.process_time()
    action()
    return time.process_time() - started


def cpu_of(action: Callable[[], object], repeats: int) -> float:
    """The least CPU time of `action` over `repeats` runs.

    The least, as `timeit` advises: the work is deterministic, and what varies
    between runs is what the noisy machine adds to it.
    """
    return min(cpu_once(action) for _ in range(repeats))


def load_any(path: Path) -> None:
    try:
        load_config(path)
    except ConfigError as exc:  # over 100 present accounts: expected, and only that
        if len(exc.problems) != 1 or "at most 100" not in exc.problems[0].message:
            raise


def run(settings: Settings, *, sizes: tuple[int, ...] = SIZES) -> Table:
    table = Table(f"3. Growth: plan CPU time at {', '.join(f'{n:,}' for n in sizes)} accounts")
    repeats = {n: settings.reps(max(7, 3_000 // n), 1) for n in sizes}
    rounds = settings.reps(15, 3)
    plans: dict[int, Callable[[], object]] = {}
    parse_cpu: dict[int, float] = {}
    load_cpu: dict[int, float] = {}
    changes: dict[int, Plan] = {}
    with harness.scratch(settings.work, "growth") as folder, \
            EmulatorProcess(latency_ms=0, max_accounts=max(sizes)) as emulator, \
            KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=emulator.base_url) as client:
        for n in sizes:
            say(f"growth: {n:,} accounts")
            emulator.admin.reset()
            workload.seed(emulator.admin, live_seed(n, emulator.admin.now()))
            parse_cpu[n] = cpu_of(client.list_accounts, repeats[n])
            accounts: tuple[KfAccount, ...] = client.list_accounts()
            live = LiveState(tuple(map(live_account, accounts)), now=emulator.admin.now())
            wanted = declared(n)
            desired = Desired(config_of(wanted))
            policy = desired.config.policy
            rules = WechatMpRules(desired.config.scope)
            changes[n] = plan(desired, live, policy, rules)  # once untimed: imports (deepdiff) excluded
            plans[n] = functools.partial(plan, desired, live, policy, rules)
            path = workload.write_shop(folder / f"shop-{n}", wanted)
            load_cpu[n] = cpu_of(functools.partial(load_any, path), max(1, repeats[n] // 2))
    say(f"growth: plan() at every size, {rounds} interleaved rounds")
    spent: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(rounds):  # interleaved, so a noisy moment does not land on one size only
        for n in sizes:
            spent[n].append(min(cpu_once(plans[n]) for _ in range(max(1, 300 // n))))
    plan_cpu = {n: min(spent[n]) for n in sizes}
    largest = sizes[-1]
    table.add(Row(f"target: plan() CPU at {largest:,}", ms(plan_cpu[largest]), f"≤ {TARGET_CPU:g} s",
                  f"{times(plan_cpu[largest] / TARGET_CPU)} of the target",
                  verdict(plan_cpu[largest] <= TARGET_CPU)))
    for n in sizes:
        summary = changes[n].summary()
        table.add(Row(f"plan() CPU at {n:,}", ms(plan_cpu[n]),
                      ratio=f"{len(changes[n].changes):,} changes, {summary['add']} adds, "
                            f"{summary['change']} updates, {len(changes[n].unmanaged)} unmanaged"))
    for small, big in itertools.pairwise(sizes):
        nlogn = (big * math.log(big)) / (small * math.log(small))
        growth = plan_cpu[big] / plan_cpu[small]
        table.add(Row(f"plan() growth {small:,} → {big:,}", times(growth),
                      f"≤ n·log n ratio {times(nlogn)}", f"{times(growth / nlogn)} of n·log n",
                      verdict(growth <= nlogn)))
    for n in sizes:
        table.add(Row(f"client list_accounts() parse CPU at {n:,}", ms(parse_cpu[n]),
                      ratio=f"{times(parse_cpu[n] / plan_cpu[n])} of plan()"))
    for n in sizes:
        table.add(Row(f"load_config() CPU at {n:,}", ms(load_cpu[n]),
                      ratio=f"{times(load_cpu[n] / plan_cpu[n])} of plan()"))
    table.note("CPU time is `time.process_time()` in the benchmark process around each call, each "
               "after a `gc.collect()` (the collector stays on while timing), the least of several "
               f"runs: plan() in {rounds} rounds interleaving the sizes (300 // n calls per size "
               "and round), the others " + ", ".join(f"{repeats[n]} at {n:,}" for n in sizes) + "; the "
               "emulator is another process.  plan() ran once untimed first, so deepdiff's import "
               "is not counted.")
    table.note("n·log n ratios: (b·ln b)/(a·ln a) for sizes a → b.  load_config above 100 accounts "
               "reports the 100-account limit (the only problem) after all its checks.")
    return table
