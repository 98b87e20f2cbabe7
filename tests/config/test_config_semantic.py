"""Cross-field checks that need generated files or a table: the account limit and glob forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfsync.config import load_config
from kfsync.config.positions import Positions
from kfsync.config.semantic import MAX_PRESENT_ACCOUNTS, semantic_problems
from kfsync.config.yamlsafe import parse
from kfsync.errors import ConfigError


def shop(tmp_path: Path, present: int, absent: int) -> Path:
    lines = ["version: 1", "official_account:", "  wechat_id: shop_cs", "accounts:"]
    lines += [f"  kf{i}:\n    nickname: Agent {i}" for i in range(present)]
    lines += [f"  gone{i}:\n    state: absent" for i in range(absent)]
    path = tmp_path / "kfsync.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_a_hundred_present_accounts_and_any_tombstones_are_fine(tmp_path: Path) -> None:
    config = load_config(shop(tmp_path, MAX_PRESENT_ACCOUNTS, 20))
    assert (len(config.present), len(config.absent)) == (100, 20)


def test_a_hundred_and_one_present_accounts_are_too_many(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(shop(tmp_path, MAX_PRESENT_ACCOUNTS + 1, 0))
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'kfsync.yaml'}:4:1: accounts: 101 accounts are declared present; "
        "WeChat allows at most 100 per Official Account"
    ]


GLOB_CHECK = (
    "is not a valid glob: close every [ with ], put at least one character inside, "
    "and use ! only right after ["
)


@pytest.mark.parametrize(
    ("glob", "valid"),
    [
        ("boss", True),
        ("vip*", True),
        ("temp?", True),
        ("kf[12]", True),
        ("kf[!0]*", True),
        ("*", True),
        ("kf[", False),
        ("kf[12", False),
        ("kf]", False),
        ("kf[]", False),
        ("kf[!]", False),
        ("kf[[1]]", False),
        ("!kf", False),
        ("kf[*]", False),
    ],
)
def test_glob_forms(glob: str, valid: bool) -> None:
    data, positions = parse(f"policy:\n  ignore: ['{glob}']\n", "f.yaml")
    problems = [str(p) for p in semantic_problems(data, positions, "f.yaml", ".")]
    assert problems == ([] if valid else [f'f.yaml:2:12: policy.ignore[0]: "{glob}" {GLOB_CHECK}'])


def test_values_of_the_wrong_type_are_left_to_the_schema() -> None:
    text = "policy: [1]\naccounts:\n  a: 1\n  b: {wechat: 5, avatar: 7}\ndefaults: x\n"
    data, positions = parse(text, "f.yaml")
    assert semantic_problems(data, positions, "f.yaml", ".") == []
    assert semantic_problems(["a list"], Positions(), "f.yaml", ".") == []
