"""Strict reading: generated files (encodings, sizes, control characters) and YAML corner cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfsync.config import load_config
from kfsync.config.positions import dotted, line_col
from kfsync.config.yamlsafe import MAX_FILE_BYTES, parse, parse_all
from kfsync.errors import ConfigError, UsageError

VALID = (
    b"version: 1\nofficial_account:\n  wechat_id: shop_cs\n"
    b"accounts:\n  alice:\n    nickname: Alice\n"
)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "kfsync.yaml"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"version: 1\nofficial_account:\n  wechat_id: caf\xe9\n", "3:17: not UTF-8: byte 0xe9"),
        (
            "accounts:\n  alice:\n    nickname: 小美".encode() + b"\xff\n",
            "3:17: not UTF-8: byte 0xff",
        ),
        (b"\xff\xfev\x00e\x00", "1:1: not UTF-8: byte 0xff"),  # UTF-16 with its byte-order mark
        (b"version: 1\r\nofficial_account: \xc3\x28\r\n", "2:19: not UTF-8: byte 0xc3"),
    ],
)
def test_not_utf8_is_reported_at_the_first_bad_byte(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    assert problems_of(write(tmp_path, data)) == [f"{expected} cannot be decoded; save as UTF-8"]


def test_a_utf8_byte_order_mark_is_accepted_and_does_not_shift_columns(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, b"\xef\xbb\xbf" + VALID)).accounts[0].nickname == "Alice"
    bad = b"\xef\xbb\xbf" + VALID.replace(b"version: 1", b"version: 2")
    assert problems_of(write(tmp_path, bad)) == [
        "1:10: version: must be 1, the only format version this kfsync knows, got 2"
    ]


def test_a_file_over_one_mebibyte_is_refused_before_reading(tmp_path: Path) -> None:
    big = VALID + b"#" * (MAX_FILE_BYTES - len(VALID)) + b"\n"
    assert problems_of(write(tmp_path, big)) == [
        f"1:1: the file is {MAX_FILE_BYTES + 1} bytes; the limit is 1 MiB ({MAX_FILE_BYTES})"
    ]


def test_a_file_of_exactly_one_mebibyte_is_read(tmp_path: Path) -> None:
    exact = VALID + b"#" * (MAX_FILE_BYTES - len(VALID) - 1) + b"\n"
    assert len(exact) == MAX_FILE_BYTES
    assert load_config(write(tmp_path, exact)).accounts[0].prefix == "alice"


def test_an_unprintable_character_is_reported_where_it_is(tmp_path: Path) -> None:
    data = VALID.replace(b"Alice", b"Al\x07ice")
    assert problems_of(write(tmp_path, data)) == ["6:17: unprintable character U+0007; remove it"]


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        (40, "8:45: nested more than 32 levels deep"),
        (300, "8:45: nested more than 32 levels deep"),
        (5000, "1:1: the document is nested too deeply"),  # deeper than PyYAML can compose
    ],
)
def test_deep_nesting_is_a_problem_not_a_crash(tmp_path: Path, depth: int, expected: str) -> None:
    lists = b"[" * depth + b"]" * depth
    data = VALID + b"policy:\n  protected: [" + lists + b", " + lists + b"]\n"
    assert problems_of(write(tmp_path, data)) == [expected]


def test_a_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(UsageError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: no such file; create it (see examples/kfsync.yaml) or pass -c FILE"
    )


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a regular file"):
        load_config(tmp_path)


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.symlink_to(path)
    with pytest.raises(UsageError, match=r"loop\.yaml: cannot read"):
        load_config(path)


def test_keys_are_the_text_written_and_dates_stay_text() -> None:
    data, positions = parse("007:\n  when: 2024-01-01\n  n: 0x10\ntrue: ~\n", "f.yaml")
    assert data == {"007": {"when": "2024-01-01", "n": 16}, "true": None}
    assert positions.keys[("007", "when")] == (2, 3)
    assert positions.values[("007", "when")] == (2, 9)
    assert positions.plain[("007", "n")] == "0x10"


def test_a_tab_inside_a_quoted_key_or_value_is_fine_but_not_in_a_comment() -> None:
    data, _ = parse("'a\tb': \"c\td\"\n", "f.yaml")
    assert data == {"a\tb": "c\td"}
    with pytest.raises(ConfigError) as caught:
        parse("a: b # c\td\n", "f.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "f.yaml:1:9: tab character; use spaces (tabs are only allowed inside quoted strings)"
    ]


def test_an_explicit_standard_tag_is_fine_but_a_bad_value_for_it_is_not() -> None:
    assert parse("a: !!str 12\nb: !!int '7'\n", "f.yaml")[0] == {"a": "12", "b": 7}
    with pytest.raises(ConfigError) as caught:
        parse("a: !!int seven\nb: !!set {x}\n", "f.yaml")
    assert [p.message for p in caught.value.problems] == [
        "a: 'seven' is not a valid !!int",
        "b: unsupported YAML tag !!set; write a plain value",
    ]


@pytest.mark.parametrize("text", ["a: !!int\n", "a: !!float\n", "a: !!int ''\n", 'a: !!float ""\n'])
def test_an_empty_value_tagged_as_a_number_is_a_problem_not_a_crash(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text, "f.yaml")
    assert [p.message for p in caught.value.problems] == [
        f"a: '' is not a valid !!{'int' if 'int' in text else 'float'}"
    ]


def test_an_undefined_alias_is_reported_like_any_alias() -> None:
    with pytest.raises(ConfigError) as caught:
        parse("a: *nowhere\n", "f.yaml")
    assert [p.message for p in caught.value.problems] == [
        "alias *nowhere: aliases are not supported; write the value out "
        "(defaults: can share an avatar)"
    ]


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [("ab", 1, (1, 2)), ("a\nb", 2, (2, 1)), ("a\r\nb", 3, (2, 1)), ("a\u2028b", 2, (2, 1))],
)
def test_line_col_counts_breaks_as_yaml_does(
    text: str, index: int, expected: tuple[int, int]
) -> None:
    assert line_col(text, index) == expected


def test_dotted_paths() -> None:
    assert dotted(("policy", "ignore", 2)) == "policy.ignore[2]"
    assert dotted(()) == ""


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("a: 1\na: 2\n", {"a": 1},
         ["f.yaml:2:1: a: duplicate key (first at line 1); remove one of them"]),
        ("a:\n  b: 1\n  b: 2\nc: 3\nc: 4\n", {"a": {"b": 1}, "c": 3},
         ["f.yaml:3:3: a.b: duplicate key (first at line 2); remove one of them",
          "f.yaml:5:1: c: duplicate key (first at line 4); remove one of them"]),
        ("a: [{b: 1, b: 2}]\n", {"a": [{"b": 1}]},
         ["f.yaml:1:12: a[0].b: duplicate key (first at line 1); remove one of them"]),
        ('"a": 1\n\'a\': 2\n', {"a": 1},
         ["f.yaml:2:1: a: duplicate key (first at line 1); remove one of them"]),
    ],
    ids=["top", "two-depths", "flow-in-a-list", "quoted-either-way"],
)
def test_duplicate_keys_at_any_depth_keep_the_first_value_and_are_all_returned(
        text: str, data: object, expected: list[str]) -> None:
    read, _, duplicates = parse_all(text, "f.yaml")
    assert read == data
    assert [str(p) for p in duplicates] == expected
    with pytest.raises(ConfigError) as caught:
        parse(text, "f.yaml")
    assert [str(p) for p in caught.value.problems] == expected


def test_duplicate_keys_are_reported_with_the_problems_that_stop_the_reading() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_all("a: 1\nb: *x\na: 2\nc: !!set {x}\n", "f.yaml")
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, 4), (3, 1), (4, 4)]
    assert "duplicate key" in caught.value.problems[1].message
