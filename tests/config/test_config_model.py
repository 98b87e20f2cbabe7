"""The loaded model, through the examples: defaults, sorting, helpers, round trips."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kfsync.config import Config, DesiredAccount, OfficialAccount, Policy, load_config

EXAMPLES = Path(__file__).parents[2] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[path.name for path in EXAMPLE_FILES])
def test_every_example_validates(path: Path) -> None:
    config = load_config(path)
    assert config.accounts
    first_line = path.read_text("utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schemas/kfsync.schema.json"


def test_the_example_is_a_small_shop() -> None:
    config = load_config(EXAMPLES / "kfsync.yaml")
    assert config.official_account == OfficialAccount("shop_cs", None)
    assert config.policy == Policy("report", 1, ("boss",), ("temp*",))
    assert [a.prefix for a in config.accounts] == ["alice", "bob", "carol", "chen", "dora"]
    assert [a.prefix for a in config.absent] == ["carol"]
    assert len(config.present) == 4
    avatars = EXAMPLES.resolve() / "avatars"
    alice, bob, carol = config.accounts[:3]
    assert alice == DesiredAccount(
        "alice", "present", "小美", avatars / "alice.jpg", "alice_wx2024", 21
    )
    assert bob.avatar == avatars / "default.png"  # from defaults.avatar
    assert carol == DesiredAccount("carol", "absent", None, None, None, 27)
    assert {path.suffix for path in avatars.iterdir()} >= {".jpg", ".png"}


def test_digest_is_the_sha256_of_the_file_bytes() -> None:
    path = EXAMPLES / "kfsync.yaml"
    assert load_config(path).digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_accounts_are_sorted_by_prefix_whatever_the_file_order(tmp_path: Path) -> None:
    path = tmp_path / "kfsync.yaml"
    path.write_text(
        "version: 1\nofficial_account: {wechat_id: shop_cs, appid: wx0123456789abcdef}\n"
        "accounts:\n  zed: {nickname: Z}\n  Amy: {nickname: A}\n  _x: {nickname: X}\n"
        "  '007': {nickname: Bond, state: present}\n",
        "utf-8",
    )
    config = load_config(path)
    assert [a.prefix for a in config.accounts] == ["007", "Amy", "_x", "zed"]
    assert [a.line for a in config.accounts] == [7, 5, 6, 4]
    assert config.official_account is not None
    assert config.official_account.appid == "wx0123456789abcdef"
    assert config.account("zed") == config.accounts[-1]
    assert config.account("nobody") is None


def test_kf_account_and_globs() -> None:
    config = load_config(EXAMPLES / "kfsync.yaml")
    assert config.kf_account("alice") == "alice@shop_cs"
    policy = Policy(protected=("boss", "vip*", "m[ab]n"), ignore=("temp?", "[!a-z]*"))
    assert policy.is_protected("boss")
    assert policy.is_protected("vip7")
    assert policy.is_protected("man")
    assert not policy.is_protected("mcn")
    assert not policy.is_protected("Boss")  # case matters, as in prefixes
    assert policy.is_ignored("temp1")
    assert not policy.is_ignored("temp12")
    assert not Policy().is_ignored("anything")
    assert not Policy().is_protected("anything")


def test_values_are_frozen_and_round_trip_through_dicts() -> None:
    config = load_config(EXAMPLES / "kfsync.yaml")
    assert Config.from_dict(config.to_dict()) == config
    with pytest.raises(AttributeError):
        config.policy.max_deletes = 5  # type: ignore[misc]
