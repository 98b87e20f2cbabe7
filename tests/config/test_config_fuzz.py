"""Property: whatever bytes the file holds, the loader returns a Config or raises ConfigError."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfsync.config import Config, load_config
from kfsync.errors import ConfigError, Problem
from tests.helpers.yaml_edits import spliced

EXAMPLES = Path(__file__).parents[2] / "examples"
EXAMPLE = (EXAMPLES / "kfsync.yaml").read_text("utf-8")

KEYS = [
    "version", "official_account", "wechat_id", "appid", "policy", "unmanaged", "max_deletes",
    "protected", "ignore", "defaults", "avatar", "accounts", "nickname", "state", "wechat",
    "alice", "bob", "007", "al-ice", "temp1", "boss", "<<", "? ", "", "nicknam", '"a\\nb"',
    "'a.b'", '"\\t"',
]  # fmt: skip
VALUES = [
    "1", "2", "-1", "1.5", "shop_cs", "absent", "present", "delete", "report", "'q'", '"d\\te"',
    "[a, b", "[boss, vip*]", "{x: 1}", "&a", "*a", "!!binary aGk=", "!!python/object:os.system",
    "!foo", "|", ">-", "~", "null", "yes", "2024-01-01", "0x1F", "---", "...", "%YAML 1.1", "#",
    "\t", "\u2028", "\x85", "\ufeff", "小美", "一二三四五六七八九十一二三四五六七", "\x07",
    "avatars/alice.jpg", "avatars/chen.png", "../x.png", "/etc/passwd", "wx0123456789abcdef",
    "alice_wx2024", "temp[1", '"x\\ny"', '"avatars/\\n.png"', "'", '"', "\\", "\\x", "{", "}",
    "[", "]", ",", "-", "?", ":",
]  # fmt: skip
BREAKS = ["\n", "\r\n", "\r"]

fragment = st.one_of(
    st.sampled_from(KEYS).map(lambda key: key + ": "),
    st.sampled_from(VALUES),
    st.sampled_from(["- ", ": ", " ", "  "]),
    st.text(max_size=4),
    st.integers(1, 400).map(lambda depth: "[" * depth + "]" * depth),
)
line = st.tuples(
    st.sampled_from(["", " ", "  ", "    ", "\t", "  \t", "      "]),
    st.lists(fragment, max_size=5).map("".join),
    st.sampled_from(BREAKS),
).map("".join)
documents = st.lists(line, max_size=25).map(lambda lines: "".join(lines).encode("utf-8"))


@st.composite
def mutated_example(draw: st.DrawFn) -> bytes:
    """The example with a few fragments spliced in and spans cut out."""
    text = spliced(draw, EXAMPLE, st.one_of(fragment, line), edits=4, longest_cut=20)
    data = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


files = st.one_of(documents, mutated_example(), st.binary(max_size=200))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(EXAMPLES / "avatars", path / "avatars")
    return path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=files, check_avatars=st.booleans())
def test_the_loader_only_ever_raises_config_error(
    folder: Path, data: bytes, check_avatars: bool
) -> None:
    path = folder / "kfsync.yaml"
    path.write_bytes(data)
    problems: tuple[Problem, ...] = ()
    try:
        config = load_config(path, check_avatars=check_avatars)
    except ConfigError as exc:
        problems = exc.problems
    else:
        assert isinstance(config, Config)
        return
    assert problems
    for problem in problems:
        assert problem.file == str(path)
        assert problem.line >= 1
        assert problem.column >= 1
        assert problem.message
        assert "\n" not in str(problem)
