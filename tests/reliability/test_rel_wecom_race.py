"""Racing WeCom applies: two `kfsync apply` of one file at once, against one corp.

Both plan to add every account.  What kfsync guarantees depends on whether the
corp allows two accounts of one name (the emulator's `duplicate_names`; WeCom's
reference does not say):

- duplicates forbidden: the second add of a name is refused with 95006, which
  the re-read confirms (an account of that name is live): done, never failed,
  and no name is ever added twice;
- duplicates allowed: both adds are made.  The apply's verification reading
  finds the twin of each account it added (same name, not live when it began)
  and keeps the smallest open_kfid, deleting the other.  Both applies agree on
  which one stays, and the one that added last always sees both, so one account
  of each name is left: made twice, deleted once.

Either way both applies end in sync, and the corp is exactly the declared one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.errors import ExitCode
from kfsync.providers.wecom.emulator import WeComEmulator
from tests.helpers.rel_wecom import (
    ADD,
    SERVICER_ADD,
    assert_wecom_live_matches,
    assert_wecom_no_duplicates,
    seed_corp,
    wecom_accounts,
    wecom_adds,
    wecom_env,
    write_wecom_shop,
)
from tests.helpers.reliability import Proc, kfsync_argv, run_cli, served_frozen

ACCOUNTS = 12
DELETE = "/cgi-bin/kf/account/del"
SERVICER_LIST = "/cgi-bin/kf/servicer/list"
TWINS = re.compile(r"(\S+): another apply added it too; kept (wk\S+), deleted (wk\S+)")


@pytest.fixture
def race_wecom() -> Iterator[WeComEmulator]:
    """A WeCom emulator of its own, 10 ms per request, so that two applies overlap."""
    yield from served_frozen(WeComEmulator(latency_ms=10))


def race(env: dict[str, str], config: Path, widths: tuple[str, str]) -> list[tuple[int, str]]:
    """Two applies of `config` started at once, at these --parallelism: statuses and outputs."""
    argv = [kfsync_argv("apply", "-c", config, "--auto-approve", "--parallelism", width)
            for width in widths]
    with Proc(argv[0], env=env) as first, Proc(argv[1], env=env) as second:
        return [(proc.finish(), proc.text) for proc in (first, second)]


@pytest.mark.parametrize("widths", [("4", "4"), ("1", "8")])
@pytest.mark.parametrize("duplicate_names", [False, True])
def test_two_applies_at_once_leave_one_account_of_each_name(
        race_wecom: WeComEmulator, tmp_path: Path, duplicate_names: bool,
        widths: tuple[str, str]) -> None:
    admin = race_wecom.admin
    seed_corp(admin, duplicate_names=duplicate_names)
    wanted = wecom_accounts(ACCOUNTS)
    config = write_wecom_shop(tmp_path / "shop", wanted)
    env = wecom_env(race_wecom.base_url, tmp_path / "home")  # one user, one cache directory

    ended = race(env, config, widths)

    for code, text in ended:
        assert code == ExitCode.OK, text
        assert "Verified: the live accounts match the configuration." in text
    entries = admin.requests()
    state = admin.state()
    assert_wecom_live_matches(state, wanted)
    again = run_cli(env, "plan", "-c", config, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    refused = [e for e in entries if e["errcode"] not in (0, None)]
    deletes = [e["body"]["open_kfid"] for e in entries if e["path"] == DELETE]
    if not duplicate_names:
        assert_wecom_no_duplicates(entries, wanted)
        # Each add the other apply had made first was refused, and counted as done.
        assert {(e["path"], e["errcode"]) for e in refused} <= {(ADD, 95006)}, refused
        already = sum(text.count("WeCom said 95006; already so") for _, text in ended)
        assert already == len(refused)
        assert deletes == []
        return
    # Made twice, deleted once; the one kept has the smallest open_kfid.
    live = {a["name"]: a["open_kfid"] for a in state["accounts"]}
    extra = wecom_adds(entries) - Counter(w.name for w in wanted)
    assert sum(extra.values()) == len(set(deletes))
    told = {m[3]: (m[1], m[2]) for _, text in ended for m in TWINS.finditer(text)}
    assert set(told) == set(deletes)
    for deleted, (name, kept) in told.items():
        assert kept == live[name] < deleted
    # What either refused was an account the other had deleted: a twin it deleted too, its own
    # account's servicers (then set on the one kept), or a reading listing it just before.
    assert {(e["path"], e["errcode"]) for e in refused} <= {
        (DELETE, 95004), (SERVICER_ADD, 95004), (SERVICER_LIST, 95004)}, refused
