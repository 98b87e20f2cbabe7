"""libyaml reads faster, never otherwise: the same data, positions and problems as pure PyYAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfsync.config import yamlsafe
from kfsync.errors import ConfigError
from tests.helpers.yaml_edits import spliced

ROOT = Path(__file__).parents[2]
FILES = [
    *sorted((ROOT / "examples").glob("*.yaml")),
    ROOT / "examples" / "wecom" / "kfsync.yaml",
    *sorted((Path(__file__).parent / "fixtures").glob("*.yaml")),
]
EXAMPLE = (ROOT / "examples" / "kfsync.yaml").read_text("utf-8")
MANY = "version: 1\nofficial_account:\n  wechat_id: shop_cs\naccounts:\n" + "".join(
    f"  a{i:03d}:\n    nickname: 客服{i:03d}\n    avatar: avatars/a{i:03d}.jpg\n    wechat: w_{i}\n"
    for i in range(100)
)

# Where libyaml 0.2 and PyYAML 6 part ways, or nearly, and the corners around them.
DOCUMENTS = [
    EXAMPLE,
    EXAMPLE.replace("\n", "\r\n"),
    EXAMPLE.replace("\n", "\r"),
    EXAMPLE.replace("\n", "\u2028"),
    EXAMPLE.replace("\n", "\x85"),
    MANY,
    "",
    "# only a comment\n",
    "a: 小美\nb: '陈师傅·售后'\nc: \"😀\"\nd: é\n",
    "a: '小\t美'\r\nb: \"c\td\"\r\nc: x\n",  # tabs in quoted strings, after wide characters
    "a: x\ty\n",
    "a: 'x\ty' # c\td\n",
    "a: '\ta'\nb:\t'x'\n",
    "'a\tb': \"c\td\"\n",
    "a: b\x07\n",
    "a: b\x00\n",
    "a: \ufffe\n",
    "a: b\ud800\n",  # not UTF-8 at all: libyaml cannot even be given it
    "a: \"\\ud800\"\n",  # a lone surrogate escape: libyaml refuses it, PyYAML reads it
    "a: \"\\x41\\u00e9\\U0001F600\\/\\N\\_\\L\\P\\e\\0\\ \"\n",
    "a: \"x\\\n  y\"\nb: 'p\n\n  q'\nc: \"x\u2028y\"\n",
    "a: x\n  y\n\n  z # c\n",
    "a: x\x85 y\n",
    "\ufeffa: 1\n",
    "\ufeffa: \t'x'\n",  # libyaml does not count the mark: the tab would seem quoted
    "a: 1\n\ufeffb: 2\n",
    "a: x\ufeffy\n",
    "a:\n",
    "a:",
    "a:\nb: 1\n",
    "- \n- a\n",
    "{a: }",
    "a: {b: }\n",
    "[a: ]",
    "[a, ]",
    "{a}",
    "? ",
    "? a\n: b\n",
    "- ? a\n",
    "---",
    "--- # c\n",
    "--- a\n",
    "---\na: 1\n",
    "a: 1\n...\n",
    "a: 1\n---\nb: 2\n",
    "%YAML 1.1\n---\na: 1\n",
    "%YAML 1.2\n---\na: 1\n",
    "%YAML 1.3\n---\na: 1\n",  # libyaml refuses it, PyYAML reads it
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x b\n",
    "a: |\n  x\n",
    "a: >-\n  x\n  y\n",
    "a: |#c\n  x\n",  # libyaml reads the comment, PyYAML refuses it
    "a: >1\n  x\n",
    "a: !\n",
    "a: ! 1\n",
    "!",
    "a: !!str 12\nb: !!int '7'\nc: !!float 1\n",
    "a: !!int seven\nb: !!set {x}\nc: !!binary aGk=\n",
    "a: !foo x\n",
    "a: !!python/object:os.system x\n",
    "[a?b]",  # libyaml reads one string, PyYAML refuses it
    "{a: b?c}",
    "a: b?c\n",
    "[?x]",
    "[? x]",
    "{? x}",
    "[a, ? x : y]",
    "[a:b]",
    "{a:b}",
    '{"a":b}',
    '"a":b',
    "a: b:c\n",
    "a: b#c\n",
    "a: b #c\n",
    "a: &x 1\nb: *x\n",
    "a: *nowhere\n",
    "a: &x\n  b: 1\n",
    "a: 1\n<<: {b: 2}\n",
    "a: 1\na: 2\n",
    "a:\n  b: 1\n  b: 2\n",
    "007:\n  when: 2024-01-01\n  n: 0x10\ntrue: ~\n",
    "a: [1, 1.5, .nan, .inf, -.Inf, 0o17, 0b101, 1_000, 1:20, yes, Off, null, ~]\n",
    "a:\n- b\n- c\n",
    "a:\n  b: 1\n c: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "a: [b,\nc]\n",
    "a: {b: [c, {d: e}],\n  f: g}\n",
    "- - - a\n",
    "k" * 1024 + ": v\n",
    "k" * 1025 + ": v\n",
    "小" * 1020 + ": v\n",
    "'" + "a" * 1100 + "': v\n",
    "a: " + "x" * 100_000 + "\n",
    "a: " + "[" * 40 + "]" * 40 + "\n",
    "a: " + "[" * 900 + "]" * 900 + "\n",
    "a: " + "[" * 1100 + "]" * 1100 + "\n",  # deeper than libyaml allows
    "".join(" " * i + "a:\n" for i in range(100)) + " " * 100 + "b\n",
    "a: `b`\n",
    "a: @b\n",
    "a: 'b\n",
    'a: "b\n',
    "a: [b\n",
    "a: }\n",
    "a\nb: c\n",
]


def outcome(text: str) -> tuple[object, ...]:
    """What `parse` makes of `text`: data (as repr, so that 1, 1.0 and True differ) and positions,
    or the problems, or whatever else it raised."""
    try:
        data, positions = yamlsafe.parse(text, "f.yaml")
    except ConfigError as exc:
        return ("problems", exc.problems)
    except Exception as exc:  # compared, not hidden
        return ("raised", type(exc).__name__)
    return ("read", repr(data), positions.keys, positions.values, positions.plain)


def pure_outcome(text: str) -> tuple[object, ...]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlsafe, "_FAST", None)
        return outcome(text)


def assert_same(text: str) -> None:
    """parse() gives what pure PyYAML gives; libyaml on its own accepts nothing else."""
    pure = pure_outcome(text)
    assert outcome(text) == pure
    if yamlsafe._FAST is not None:
        try:
            data, positions, duplicates = yamlsafe._parse_with(yamlsafe._FAST, text, "f.yaml")
        except Exception:  # left to pure PyYAML, checked just above
            return
        if duplicates:  # left to pure PyYAML too, for its positions
            return
        assert pure == ("read", repr(data), positions.keys, positions.values, positions.plain)


needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_example_and_fixture_reads_the_same(path: Path) -> None:
    assert_same(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))


@pytest.mark.parametrize("text", DOCUMENTS)
def test_every_corner_reads_the_same(text: str) -> None:
    assert_same(text)


@needs_libyaml
@pytest.mark.parametrize("text", [EXAMPLE, EXAMPLE.replace("\n", "\r\n"), MANY])
def test_valid_configs_are_read_by_libyaml_alone(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    def no_pure_pyyaml(_: str) -> yamlsafe._Loader:
        raise AssertionError("pure PyYAML was used")

    monkeypatch.setattr(yamlsafe, "_Loader", no_pure_pyyaml)
    data, _ = yamlsafe.parse(text, "f.yaml")
    assert isinstance(data, dict)
    assert data["version"] == 1


def test_without_libyaml_pure_pyyaml_reads_and_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsafe, "_FAST", None)
    data, positions = yamlsafe.parse("a: '小\t美'\nb: 0x10\n", "f.yaml")
    assert data == {"a": "小\t美", "b": 16}
    assert positions.values[("b",)] == (2, 4)
    assert positions.plain == {("b",): "0x10"}
    with pytest.raises(ConfigError) as caught:
        yamlsafe.parse("a: [b?c]\n", "f.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "f.yaml:1:6: YAML syntax error: expected ',' or ']', but got '?' "
        "(while parsing a flow sequence at line 1, column 4)"
    ]


TOKENS = [
    "a", "alice", "小美", "😀", "007", "1", "1.5", "0x1F", ".nan", "~", "null", "yes", "2024-01-01",
    "'q'", "'a''b'", '"d\\te"', '"\\x41\\u00e9"', '"\\ud800"', '"\\/"', "'x\ty'", ": ", ":", "- ",
    "-", "? ", "?", ",", "[", "]", "{", "}", "#c", " #c", "!", "! ", "!!str ", "!!int ", "!e!x ",
    "&a ", "*a", "<<: ", "|", ">-", "|#", "---", "...", "%YAML 1.1\n", "%YAML 1.3\n", "@", "`", "\\",
    "\t", "\ufeff", "\u2028", "\x85", "\x07", " ", "  ", "\n  ", "\n    ",
]  # fmt: skip
line = st.tuples(
    st.sampled_from(["", " ", "  ", "    ", "- "]),
    st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=3)), max_size=6).map("".join),
    st.sampled_from(["\n", "\r\n", "\r", "\u2029"]),
).map("".join)


@st.composite
def edited_example(draw: st.DrawFn) -> str:
    """The example with a few tokens or lines spliced in and spans cut out."""
    return spliced(draw, EXAMPLE, st.one_of(st.sampled_from(TOKENS), line), edits=3, longest_cut=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.lists(line, max_size=10).map("".join), edited_example()))
def test_any_text_reads_the_same(text: str) -> None:
    assert_same(text)
