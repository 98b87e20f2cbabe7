"""The WeCom shape of kfsync.yaml: loaded into exact accounts, and each mistake one problem at its line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from kfsync.cli import main
from kfsync.config import Config, DesiredAccount, Policy, WeComCorp, load_config
from kfsync.config.schema import apply_defaults, load_schema
from kfsync.config.semantic import UNVERIFIED_CORP_ACCOUNTS
from kfsync.errors import ConfigError, Problem

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "wecom" / "kfsync.yaml"
AVATARS = EXAMPLE.parent / "avatars"

#: lines 1 to 6; accounts start on line 7
HEAD = """\
version: 1
wecom:
  corp_id: ww0123456789abcdef
defaults:
  avatar: avatars/default.png
accounts:
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(AVATARS, tmp_path / "avatars")
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "kfsync.yaml"
    path.write_text(text, "utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert all(problem.file == str(path) for problem in caught.value.problems)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


# --------------------------------------------------------------------------- valid


def test_the_example_loads_into_exactly_the_declared_accounts() -> None:
    config = load_config(EXAMPLE)
    avatars = AVATARS.resolve()
    assert (config.wecom, config.official_account) == (WeComCorp("ww0123456789abcdef"), None)
    assert (config.product, config.scope) == ("wecom", "ww0123456789abcdef")
    assert config.policy == Policy(protected=("VIP*",))
    assert config.accounts == (
        DesiredAccount(
            prefix="售前咨询", name="售前咨询", line=18, avatar=avatars / "presale.png",
            servicer_users=("lisi", "zhangsan"), servicer_departments=("2",),
            scenes=("app", "website"),
        ),
        DesiredAccount(
            prefix="售后服务", name="售后服务", line=24, avatar=avatars / "aftersales.png",
            id="wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", previously=("售后",),
            servicer_users=("wangwu",), servicer_departments=(),
        ),
        DesiredAccount(prefix="旧账号", name="旧账号", state="absent", line=30),
    )
    assert config.kf_account("售前咨询") == "售前咨询"
    assert Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_the_example_passes_the_published_schema_as_editors_read_it() -> None:
    validator = Draft202012Validator(load_schema())
    assert list(validator.iter_errors(yaml.safe_load(EXAMPLE.read_text("utf-8")))) == []
    both = {"version": 1, "wecom": {"corp_id": "ww0123456789abcdef"},
            "official_account": {"wechat_id": "shop_cs"}, "accounts": {}}
    assert [error.validator for error in validator.iter_errors(both)] == ["not"]


def test_validate_passes_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-c", str(EXAMPLE)]) == 0
    assert capsys.readouterr() == (f"{EXAMPLE}: valid (3 accounts, 1 absent)\n", "")


def test_lists_are_sorted_and_departments_in_numeric_order(folder: Path) -> None:
    config = load_config(write(folder, HEAD + """\
  客服:
    previously: [b, a]
    servicers:
      users: [wu, Li, 1zhao]
      departments: [10, 2, 300, 3]
    scenes: [web, app_2, A-1]
"""))
    [account] = config.accounts
    assert account.previously == ("a", "b")
    assert account.servicer_users == ("1zhao", "Li", "wu")
    assert account.servicer_departments == ("2", "3", "10", "300")
    assert account.scenes == ("A-1", "app_2", "web")
    assert account.avatar == (folder / "avatars" / "default.png").resolve()  # defaults.avatar


@pytest.mark.parametrize(
    ("servicers", "users", "departments"),
    [
        ("", None, None),  # not managed
        ("    servicers: {}\n", (), ()),  # managed: none
        ("    servicers:\n      departments: [1]\n", (), ("1",)),
        ("    servicers:\n      users: [lisi]\n", ("lisi",), ()),
    ],
    ids=["absent", "empty", "departments-only", "users-only"],
)
def test_servicers_left_out_are_unmanaged_and_a_list_left_out_is_empty(
    folder: Path, servicers: str, users: tuple[str, ...] | None,
    departments: tuple[str, ...] | None,
) -> None:
    config = load_config(write(folder, HEAD + "  客服:\n    scenes: []\n" + servicers))
    [account] = config.accounts
    assert (account.servicer_users, account.servicer_departments) == (users, departments)


def test_a_name_may_be_any_sixteen_characters_without_at_or_controls(folder: Path) -> None:
    name = "VIP 客服 (EN)!·十六个字符以内"[:16]
    config = load_config(write(folder, HEAD + f"  {json.dumps(name, ensure_ascii=False)}: {{}}\n"))
    assert [account.name for account in config.accounts] == [name]
    assert len(name) == 16


def test_policy_globs_match_names(folder: Path) -> None:
    config = load_config(write(folder, HEAD.replace("defaults:", """\
policy:
  protected: ["VIP*", "售后[服务]*"]
  ignore: ["临时?"]
defaults:""") + "  VIP客服: {}\n"))
    assert config.policy.is_protected("VIP客服")
    assert config.policy.is_protected("售后服务")
    assert config.policy.is_ignored("临时1")
    assert not config.policy.is_ignored("临时客服")


def test_defaults_follow_the_wecom_shape() -> None:
    schema = load_schema()
    filled = apply_defaults(schema, {"wecom": {"corp_id": "ww01234567"}, "accounts": {"客服": {}}})
    assert filled["accounts"] == {"客服": {"state": "present"}}  # type: ignore[index]
    assert filled["policy"]["unmanaged"] == "report"  # type: ignore[index]


# --------------------------------------------------------------------------- one problem each

NAMES = "a name must be 1 to 16 characters, not only spaces, without @ or control characters"
CASES = {
    "both-sections": (
        HEAD + "  客服: {}\nofficial_account:\n  wechat_id: shop_cs\n",
        "8:1: official_account: a file manages an Official Account or a WeCom corp, not both: "
        "keep `official_account` or `wecom`, and move the other's accounts to a file of their own",
    ),
    "neither-section": (
        "version: 1\naccounts: {}\n",
        "1:1: the file needs `official_account:` (for an Official Account's kf accounts) or "
        "`wecom:` (for a WeCom corp's accounts); add one",
    ),
    "corp-id-missing": (
        HEAD.replace("wecom:\n  corp_id: ww0123456789abcdef\n", "wecom: {}\n") + "  客服: {}\n",
        "2:1: wecom: `corp_id` is missing; add it",
    ),
    "corp-id-form": (
        HEAD.replace("ww0123456789abcdef", "wwshort") + "  客服: {}\n",
        "3:12: wecom.corp_id: must be the corp's CorpID (企业ID, under 我的企业 → 企业信息): ww "
        "(wx for some older corps), then 8 to 30 letters or digits, e.g. ww0123456789abcdef, "
        'got "wwshort"',
    ),
    "nickname-in-wecom": (
        HEAD + "  客服:\n    nickname: 客服\n",
        "8:15: accounts.客服.nickname: this key is for an Official Account's kf accounts; a WeCom "
        "account is named by its key and worked by its `servicers`: remove this line",
    ),
    "wechat-in-wecom": (
        HEAD + "  客服:\n    wechat: alice_wx\n",
        "8:13: accounts.客服.wechat: this key is for an Official Account's kf accounts; a WeCom "
        "account is named by its key and worked by its `servicers`: remove this line",
    ),
    "name-too-long": (
        HEAD + "  一二三四五六七八九十一二三四五六七: {}\n",
        f"7:3: accounts.一二三四五六七八九十一二三四五六七: {NAMES}; this one has 17",
    ),
    "name-with-at": (
        HEAD + "  kf@shop: {}\n",
        f"7:3: accounts.kf@shop: {NAMES}",
    ),
    "name-only-spaces": (
        HEAD + '  "   ": {}\n',
        f'7:3: accounts.   : {NAMES}',
    ),
    "name-with-control": (
        HEAD + '  "kf\\tshop": {}\n',
        f'7:3: accounts."kf\\tshop": {NAMES}',
    ),
    "previously-bad-name": (
        HEAD + "  客服:\n    previously: [old@name]\n",
        f'8:18: accounts.客服.previously[0]: {NAMES}, got "old@name"',
    ),
    "previously-names-another-account": (
        HEAD + "  售后:\n    scenes: []\n  售后服务:\n    previously: [售后]\n",
        "10:18: accounts.售后服务.previously[0]: 售后 is already the name of account 售后 "
        "(line 7); a name may appear once in the file, as an account or in a `previously`",
    ),
    "previously-names-itself": (
        HEAD + "  售后:\n    previously: [售后]\n",
        "8:18: accounts.售后.previously[0]: 售后 is already this account's own name (line 7); "
        "a name may appear once in the file, as an account or in a `previously`",
    ),
    "previously-twice-in-the-file": (
        HEAD + "  甲:\n    previously: [旧]\n  乙:\n    previously: [旧]\n",
        "10:18: accounts.乙.previously[0]: 旧 is already in the `previously` of account 甲 "
        "(line 8); a name may appear once in the file, as an account or in a `previously`",
    ),
    "previously-listed-twice": (
        HEAD + "  客服:\n    previously: [旧, 旧]\n",
        '8:21: accounts.客服.previously[1]: "旧" is listed twice; remove one',
    ),
    "missing-avatar": (
        HEAD.replace("defaults:\n  avatar: avatars/default.png\n", "")
        + "  售前咨询:\n    scenes: [web]\n  旧账号:\n    state: absent\n",
        "5:3: accounts.售前咨询: needs an avatar (WeCom creates no account without one): add "
        "`avatar:` to it, or `defaults.avatar`",
    ),
    "avatar-not-a-file": (
        HEAD + "  客服:\n    avatar: avatars/none.png\n",
        "8:13: accounts.客服.avatar: no such file avatars/none.png (paths are relative to the "
        "folder of the config file)",
    ),
    "bad-scene": (
        HEAD + "  客服:\n    scenes: [web, 官网]\n",
        '8:19: accounts.客服.scenes[1]: a scene must be 1 to 32 letters, digits, _ or -, got "官网"',
    ),
    "scene-too-long": (
        HEAD + f"  客服:\n    scenes: [{'s' * 33}]\n",
        f'8:14: accounts.客服.scenes[0]: a scene must be 1 to 32 letters, digits, _ or -, '
        f'got "{"s" * 33}"',
    ),
    "department-zero": (
        HEAD + "  客服:\n    servicers:\n      departments: [2, 0]\n",
        "9:24: accounts.客服.servicers.departments[1]: must be at least 1, got 0",
    ),
    "department-as-text": (
        HEAD + "  客服:\n    servicers:\n      departments: [\"2\"]\n",
        '9:21: accounts.客服.servicers.departments[0]: must be a whole number, got "2"',
    ),
    "department-too-big": (
        HEAD + "  客服:\n    servicers:\n      departments: [4294967296]\n",
        "9:21: accounts.客服.servicers.departments[0]: must be at most 4294967295, got 4294967296",
    ),
    "bad-id-form": (
        HEAD + "  客服:\n    id: 12345\n",
        "8:9: accounts.客服.id: must be text, got 12345; write it in quotes: \"12345\"",
    ),
    "id-without-wk": (
        HEAD + "  客服:\n    id: AJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw\n",
        "8:9: accounts.客服.id: must be an open_kfid as `kfsync import` writes it: wk, then "
        'letters, digits, _ or -, at most 64 characters, got "AJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"',
    ),
    "id-pins-two-entries": (
        HEAD + "  甲:\n    id: wkAAAA\n  乙:\n    id: wkAAAA\n",
        "10:9: accounts.乙.id: wkAAAA already pins account 甲 (line 7); an account may be "
        "declared once: remove one of them",
    ),
    "duplicate-userid": (
        HEAD + "  客服:\n    servicers:\n      users: [zhangsan, lisi, zhangsan]\n",
        '9:31: accounts.客服.servicers.users[2]: "zhangsan" is listed twice; remove one',
    ),
    "bad-userid": (
        HEAD + "  客服:\n    servicers:\n      users: [张三]\n",
        "9:15: accounts.客服.servicers.users[0]: must be a member's UserID: 1 to 64 letters, "
        'digits, _ - @ or ., starting with a letter or digit, got "张三"',
    ),
    "servicers-misspelt": (
        HEAD + "  客服:\n    servicers:\n      user: [lisi]\n",
        "9:7: accounts.客服.servicers.user: unknown key; did you mean `users`?",
    ),
    "absent-with-servicers": (
        HEAD + "  客服:\n    state: absent\n    id: wkAAAA\n    servicers: {}\n",
        "10:5: accounts.客服.servicers: an account with state: absent takes only `id` and "
        "`previously`; remove this line",
    ),
    "name-glob-unclosed": (
        HEAD.replace("defaults:", "policy:\n  protected: [\"售后[\"]\ndefaults:") + "  客服: {}\n",
        '5:15: policy.protected[0]: "售后[" is not a valid glob: close every [ with ] and put '
        "at least one character inside",
    ),
    "name-glob-with-at": (
        HEAD.replace("defaults:", "policy:\n  ignore: [\"*@x\"]\ndefaults:") + "  客服: {}\n",
        '5:12: policy.ignore[0]: a glob on names may not hold @ or control characters, got "*@x"',
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_mistake_is_one_problem_at_its_line(folder: Path, case: str) -> None:
    text, expected = CASES[case]
    assert problems(write(folder, text)) == [expected]


OFFICIAL = """\
version: 1
official_account:
  wechat_id: shop_cs
accounts:
  alice:
    nickname: Alice
"""


@pytest.mark.parametrize(
    ("key", "value", "column"),
    [("servicers", "{users: [lisi]}", 5), ("scenes", "[web]", 5), ("id", "wkAAAA", 9),
     ("previously", "[bob]", 5)],
)
def test_wecom_keys_in_an_official_account_file_are_named_as_such(
    folder: Path, key: str, value: str, column: int
) -> None:
    path = write(folder, OFFICIAL + f"    {key}: {value}\n")
    assert problems(path) == [
        f"7:{column}: accounts.alice.{key}: this key is for a WeCom corp's accounts (a file with "
        "`wecom:`); an Official Account's kf account has nickname, avatar and wechat: remove "
        "this line"
    ]


def test_a_refused_key_is_never_suggested_for_a_misspelling(folder: Path) -> None:
    path = write(folder, HEAD + "  客服:\n    nicknam: 客服\n")
    assert problems(path) == [
        "8:5: accounts.客服.nicknam: unknown key; allowed here: state, id, previously, avatar, "
        "servicers, scenes"
    ]


def test_a_misspelt_wecom_is_one_problem(folder: Path) -> None:
    path = write(folder, HEAD.replace("wecom:", "wecon:") + "  售前咨询:\n    scenes: [web]\n")
    assert problems(path) == ["2:1: wecon: unknown key; did you mean `wecom`?"]


def test_a_stray_wecom_like_key_in_an_official_account_file_hides_nothing(folder: Path) -> None:
    path = write(folder, OFFICIAL.replace("\n    nickname: Alice", " {}") + "wecon: 1\n")
    assert problems(path) == [
        "5:3: accounts.alice: needs a nickname (or `state: absent` to delete the account)",
        "6:1: wecon: unknown key; did you mean `wecom`?",
    ]


# --------------------------------------------------------------------------- the 10-account warning


def corp(folder: Path, present: int, absent: int = 0) -> Path:
    lines = [f"  客服{i}: {{}}" for i in range(present)]
    lines += [f"  旧{i}:\n    state: absent" for i in range(absent)]
    return write(folder, HEAD + "\n".join(lines) + "\n")


@pytest.mark.parametrize("output", ["text", "json", "github"])
def test_validate_warns_past_ten_accounts_and_still_succeeds(
    capsys: pytest.CaptureFixture[str], folder: Path, output: str
) -> None:
    path = corp(folder, UNVERIFIED_CORP_ACCOUNTS + 1)
    assert main(["validate", "-c", str(path), "--format", output]) == 0
    out, err = capsys.readouterr()
    warning = (
        f"{path}:6:1: warning: accounts: 11 accounts are declared present; an unverified corp "
        "may hold at most 10 accounts (WeCom errcode 95027); verify the corp, or declare at most 10"
    )
    assert err.splitlines()[0] == warning
    assert "warning" not in out
    if output == "json":
        assert json.loads(out)["valid"] is True


def test_validate_does_not_warn_at_ten_present_accounts(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    path = corp(folder, UNVERIFIED_CORP_ACCOUNTS, absent=3)
    assert main(["validate", "-c", str(path)]) == 0
    assert capsys.readouterr() == (f"{path}: valid (13 accounts, 3 absent)\n", "")


def test_the_warning_reaches_load_config_callers_only_when_asked(folder: Path) -> None:
    path = corp(folder, 12)
    warnings: list[Problem] = []
    assert len(load_config(path).present) == 12
    load_config(path, warnings=warnings)
    assert [(warning.line, warning.field) for warning in warnings] == [(6, "accounts")]


def test_more_than_five_thousand_accounts_is_an_error(folder: Path) -> None:
    path = corp(folder, 5001)
    assert problems(path) == [
        "6:1: accounts: 5001 accounts are declared present; WeCom allows at most 5000 per corp"
    ]
