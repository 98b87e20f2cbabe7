"""Every policy rule over HTTP: unmanaged, protected, ignore, max_deletes, the empty config."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.e2e import ADD_PATH, DELETE_PATH, Shop, json_out, kf, seeded


def live_trio(shop: Shop) -> None:
    shop.seed(seeded("bob", "Bob"), seeded("zed", "Zed"), seeded("yan", "Yan"))


def test_unmanaged_report_lists_the_extra_accounts_and_changes_nothing(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}}, policy={"unmanaged": "report"})
    live_trio(shop)
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert "Unmanaged accounts:" in result.out
    assert "yan@shop_cs: not declared; policy unmanaged: report" in result.out
    assert "zed@shop_cs: not declared; policy unmanaged: report" in result.out
    assert json_out(shop.plan("--format", "json"))["unmanaged"] == [kf("yan"), kf("zed")]
    assert shop.apply("--auto-approve").code == 0
    assert set(shop.live()) == {kf("bob"), kf("yan"), kf("zed")}


def test_unmanaged_ignore_says_nothing(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}}, policy={"unmanaged": "ignore"})
    live_trio(shop)
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert "zed" not in result.out
    assert "yan" not in result.out
    assert json_out(shop.plan("--format", "json"))["unmanaged"] == []


def test_unmanaged_delete_deletes_within_max_deletes(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}}, policy={"unmanaged": "delete", "max_deletes": 2})
    live_trio(shop)
    result = shop.plan("--detailed-exitcode")
    assert result.code == 2, result.text
    assert "not declared (unmanaged: delete)" in result.out
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert set(shop.live()) == {kf("bob")}
    shop.assert_converged()


def test_protected_tombstone_is_a_config_error_naming_the_glob(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}, "boss": {"state": "absent"}},
                      policy={"protected": ["bo*"]})
    shop.seed(seeded("bob", "Bob"), seeded("boss", "Boss"))
    for result in (shop.plan(), shop.apply("--auto-approve", "--allow-delete", "boss")):
        assert result.code == 1, result.text
        assert 'accounts.boss.state: the account matches policy.protected glob "bo*"' in result.err
    assert shop.requests() == []


def test_protected_account_is_never_rebound(shop: Shop) -> None:
    shop.write_config({"boss": {"nickname": "Boss", "wechat": "new_boss"}},
                      policy={"protected": ["boss"], "max_deletes": 5})
    shop.seed(seeded("boss", "Boss", kf_wx="old_boss"))
    planned = shop.plan()
    assert planned.code == 3, planned.text
    assert "boss@shop_cs is protected and cannot be rebound from old_boss to new_boss" in planned.err
    applied = shop.apply("--auto-approve", "--allow-delete", "boss")
    assert applied.code == 3, applied.text
    assert "boss@shop_cs is protected" in applied.err
    assert shop.writes() == []


def test_protected_unmanaged_account_is_not_deleted(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}},
                      policy={"unmanaged": "delete", "protected": ["boss"]})
    shop.seed(seeded("bob", "Bob"), seeded("boss", "Boss"))
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert kf("boss") in shop.live()
    assert shop.calls(DELETE_PATH) == []


def test_ignored_accounts_are_invisible(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}},
                      policy={"unmanaged": "delete", "ignore": ["temp*"], "max_deletes": 5})
    shop.seed(seeded("bob", "Bob"), seeded("temp1", "Helper"), seeded("temp3", "Helper 3"))
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert "temp" not in result.out
    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert shop.writes() == []
    assert set(shop.live()) == {kf("bob"), kf("temp1"), kf("temp3")}


def test_declaring_an_ignored_account_is_a_config_error(shop: Shop) -> None:
    shop.write_config({"temp2": {"nickname": "Helper"}}, policy={"ignore": ["temp*"]})
    result = shop.plan()
    assert result.code == 1, result.text
    assert 'accounts.temp2: matches policy.ignore glob "temp*"' in result.err


def tombstones(*prefixes: str) -> dict[str, dict[str, Any]]:
    return {p: {"state": "absent"} for p in prefixes}


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        ((), 3),
        (("--allow-delete", "yan"), 3),  # a partial list is still refused
        (("--allow-delete", "yan,zed"), 0),
        (("--allow-delete", " zed , yan@shop_cs "), 0),
    ],
    ids=["unnamed", "partial", "all-named", "spaces-and-full-names"],
)
def test_max_deletes_exceeded_needs_every_deletion_named(
        shop: Shop, flags: tuple[str, ...], code: int) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}, **tombstones("yan", "zed")},
                      policy={"max_deletes": 1})
    live_trio(shop)
    planned = shop.plan(*flags)
    assert planned.code == code, planned.text
    applied = shop.apply("--auto-approve", *flags)
    assert applied.code == code, applied.text
    if code == 3:
        assert "more than max_deletes=1; name each with --allow-delete yan,zed" in applied.err
        assert shop.writes() == []
    else:
        assert len(shop.effective(DELETE_PATH)) == 2
        assert set(shop.live()) == {kf("bob")}


def test_max_deletes_zero_refuses_a_single_delete_unless_named(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}, **tombstones("zed")}, policy={"max_deletes": 0})
    live_trio(shop)
    assert shop.apply("--auto-approve").code == 3
    assert shop.apply("--auto-approve", "--allow-delete", "zed").code == 0
    assert kf("zed") not in shop.live()


@pytest.mark.parametrize(
    "accounts",
    [{}, tombstones("bob", "yan", "zed")],
    ids=["no-accounts", "only-tombstones"],
)
def test_empty_config_against_live_accounts_is_always_refused(
        shop: Shop, accounts: dict[str, dict[str, Any]]) -> None:
    shop.write_config(accounts, policy={"unmanaged": "delete", "max_deletes": 100})
    live_trio(shop)
    planned = shop.plan("--allow-delete", "bob,yan,zed")
    assert planned.code == 3, planned.text
    assert "while live has some; refusing to delete them all" in planned.err
    applied = shop.apply("--auto-approve", "--allow-delete", "bob,yan,zed")
    assert applied.code == 3, applied.text
    assert shop.writes() == []
    assert len(shop.live()) == 3


def test_empty_config_against_an_empty_live_is_in_sync(shop: Shop) -> None:
    shop.write_config({})
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert shop.calls(ADD_PATH) == []
