"""Strict YAML reading: a file's bytes become plain data plus the position of every key and value.

Stricter than `yaml.safe_load`, because kfsync.yaml is read in CI jobs that
hold secrets and must mean exactly one thing:

- a regular file in the folder it is named in: a symbolic link leading out of
  that folder is refused, since a pull request could otherwise make a CI job
  read (and quote in its error messages) any file of the runner;
- at most 1 MiB (checked before reading), strict UTF-8; a UTF-8 byte-order
  mark is accepted and ignored, any other encoding is refused;
- no tab characters outside quoted strings (tabs in indentation are reported
  before parsing, with their exact position);
- no duplicate keys, anchors, aliases or merge keys (`defaults:` is the way to
  share a value), no tags beyond the plain JSON-like ones;
- keys are always the text written: `007:` is the key "007", not the number 7;
- dates stay text (no implicit timestamps).

Every problem becomes a `Problem` with a 1-based line and column; all that can
be found are reported together.  A duplicate key keeps its first value and the
reading goes on, so that the loader reports it with every schema and semantic
problem of the file (`Document.problems`); the other problems stop the reading.

When PyYAML has libyaml, libyaml parses (several times faster); a document it
does not read without a single problem, or that holds one of the few things on
which the two differ, is read again by pure PyYAML, so that what is accepted,
every message and every position stay pure PyYAML's.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from kfsync.config.positions import LINE_BREAK, FieldPath, Positions, field_problem, line_col
from kfsync.errors import ConfigError, Problem, UsageError
from kfsync.textsafe import has_surrogates, join_pairs, lone_surrogate

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32  #: a kfsync.yaml needs 4 levels; deeper data never reaches the checks

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML + name for name in ("str", "int", "float", "bool", "null"))
_MERGE_TAG = _YAML + "merge"
_INDENT = re.compile(r"[ \t]*")
_TAB = "tab character; use spaces (tabs are only allowed inside quoted strings)"
_PLAIN = "; write a plain value"
_TAB_INDENT = "tab character in indentation; indent with spaces"


@dataclass(frozen=True)
class Document:
    """A parsed file: its plain data, where everything is, and the exact bytes read."""

    data: object
    positions: Positions
    raw: bytes
    problems: tuple[Problem, ...] = ()  #: duplicate keys: the first value is kept


def read_bytes(path: Path, display: str) -> bytes:
    """The file's bytes, refusing missing, non-regular or oversized files."""

    def too_big(size: int) -> ConfigError:
        message = f"the file is {size} bytes; the limit is 1 MiB ({MAX_FILE_BYTES})"
        return ConfigError([Problem(display, 1, 1, message)])

    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UsageError(f"{display}: not a regular file; pass a YAML file with -c FILE")
        if not path.resolve().is_relative_to(path.absolute().parent.resolve()):
            raise UsageError(f"{display}: a symbolic link leading outside its folder; refused "
                             "(pass the file it points to with -c FILE)")
        if size > MAX_FILE_BYTES:
            raise too_big(size)
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(
            f"{display}: no such file; create it (see examples/kfsync.yaml) or pass -c FILE"
        ) from None
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:  # it grew after the stat
        raise too_big(len(raw))
    return raw


def decode(raw: bytes, display: str) -> str:
    """Strict UTF-8, without a leading byte-order mark; a bad byte is reported where it is."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8").removeprefix("\ufeff")
        line, col = line_col(before, len(before))
        message = f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; save as UTF-8"
        raise ConfigError([Problem(display, line, col, message)]) from None
    return text.removeprefix("\ufeff")


def _tab_problems(text: str, display: str) -> list[Problem]:
    """A tab in the indentation of any line, reported before the parser trips over it."""
    problems = []
    starts = [0] + [match.end() for match in LINE_BREAK.finditer(text)]
    for number, start in enumerate(starts, 1):
        indent = _INDENT.match(text, start)
        tab = indent.group().find("\t") if indent else -1
        if tab >= 0:
            problems.append(Problem(display, number, tab + 1, _TAB_INDENT))
    return problems


class _Strict(Composer, SafeConstructor, Resolver):
    """Composes nodes like SafeLoader, noting anchors and aliases instead of following them.

    The events come from whichever parser follows in the MRO: PyYAML's or libyaml's.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {  # noqa: RUF012 - PyYAML's own class-level table
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _YAML + "timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    found: list[tuple[yaml.Mark, str]]
    check_event: Callable[..., bool]
    peek_event: Callable[[], Any]
    get_event: Callable[[], Any]
    dispose: Callable[[], None]

    def compose_node(self, parent: Node | None, index: object) -> Node:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            self.found.append(
                (
                    event.start_mark,
                    f"alias *{event.anchor}: aliases are not supported; "
                    "write the value out (defaults: can share an avatar)",
                )
            )
            return ScalarNode(_YAML + "null", "", event.start_mark, event.end_mark)
        event = self.peek_event()
        if event.anchor is not None:
            self.found.append(
                (
                    event.start_mark,
                    f"anchor &{event.anchor}: anchors are not supported; "
                    "write the value out (defaults: can share an avatar)",
                )
            )
        node = super().compose_node(parent, index)  # type: ignore[arg-type]
        assert node is not None
        return node


class _Loader(_Strict, yaml.SafeLoader):
    """Pure PyYAML: what it accepts, its messages and its positions are the reference."""

    def __init__(self, text: str) -> None:
        yaml.SafeLoader.__init__(self, text)
        self.found = []


class _Unsure(Exception):
    """libyaml met something on which it and PyYAML are known to disagree."""


#: the libyaml loader, when PyYAML has it
_FAST: Callable[[str], _Strict] | None = None

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _FastLoader(_Strict, CParser):
        """libyaml's events (CParser), composed by PyYAML's composer, which comes first in the MRO.

        libyaml skips byte-order marks that PyYAML reads as text, reads tags (even `!`),
        block scalar headers and `?` in flow collections otherwise, and places some
        empty values elsewhere: a document with a byte-order mark, a tag, a block
        scalar, an empty plain value or a plain value holding `?` is left to PyYAML.
        """

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.found = []
            if "\ufeff" in text:
                raise _Unsure

        def compose_node(self, parent: Node | None, index: object) -> Node:
            event = self.peek_event()
            plain = isinstance(event, yaml.ScalarEvent) and not event.style
            if (
                getattr(event, "tag", None) is not None
                or getattr(event, "style", None) in ("|", ">")
                or (plain and (not event.value or "?" in event.value))
            ):
                raise _Unsure
            return super().compose_node(parent, index)

    _FAST = _FastLoader


class _Builder:
    """Turns composed nodes into dicts, lists and scalars while recording positions."""

    def __init__(self, loader: _Strict, display: str) -> None:
        self.loader = loader
        self.display = display
        self.positions = Positions()
        self.problems: list[Problem] = []
        self.duplicates: list[Problem] = []  #: the first value is kept: the data still means one thing
        self.too_deep = False

    def problem(self, mark: yaml.Mark, message: str, path: FieldPath = ()) -> None:
        self.problems.append(field_problem(self.display, _position(mark), path, message))

    def build(self, node: Node, path: FieldPath) -> object:
        if len(path) > MAX_DEPTH:
            if not self.too_deep:
                self.too_deep = True
                self.problem(node.start_mark, f"nested more than {MAX_DEPTH} levels deep")
            return None
        self.positions.values[path] = _position(node.start_mark)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _YAML + "seq":
                self.problem(
                    node.start_mark, f"unsupported YAML tag {_short(node.tag)}{_PLAIN}", path
                )
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[str, object]:
        if node.tag != _YAML + "map":
            self.problem(node.start_mark, f"unsupported YAML tag {_short(node.tag)}{_PLAIN}", path)
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node.start_mark, "a key must be plain text", path)
                continue
            if key_node.tag == _MERGE_TAG:
                self.problem(
                    key_node.start_mark,
                    "merge keys (<<) are not supported; write the keys out",
                    path,
                )
                continue
            key = self._text(key_node.value, key_node.start_mark, (*path, key_node.value))
            child = (*path, key)
            if key in result:
                first = self.positions.keys[child][0]
                message = f"duplicate key (first at line {first}); remove one of them"
                self.duplicates.append(
                    field_problem(self.display, _position(key_node.start_mark), child, message)
                )
                continue
            self.positions.keys[child] = _position(key_node.start_mark)
            result[key] = self.build(value_node, child)
        return result

    def _scalar(self, node: ScalarNode, path: FieldPath) -> object:
        if node.tag not in _SCALAR_TAGS:
            self.problem(node.start_mark, f"unsupported YAML tag {_short(node.tag)}{_PLAIN}", path)
            return None
        construct = self.loader.yaml_constructors[node.tag]
        try:
            value: object = construct(self.loader, node)
        except (ValueError, KeyError, IndexError, yaml.YAMLError):  # IndexError: `!!int ""`
            self.problem(node.start_mark, f"{node.value!r} is not a valid {_short(node.tag)}", path)
            return None
        if not node.style and not isinstance(value, str):  # plain: None, or "" from libyaml
            self.positions.plain[path] = node.value
        if isinstance(value, str):
            return self._text(value, node.start_mark, path)
        return value

    def _text(self, text: str, mark: yaml.Mark, path: FieldPath) -> str:
        """`text` with its `\\ud83d\\ude00` pairs joined; a lone surrogate is a problem.

        YAML's double-quoted escapes, like JSON's, can spell half a character,
        which no output and no WeChat call could encode.
        """
        if not has_surrogates(text):
            return text
        lone = lone_surrogate(text)
        if lone:
            self.problem(mark, f"{lone} is half a character (a lone UTF-16 surrogate); write the "
                         "whole character (\\U0001F600, or the character itself) or remove it",
                         path)
        return join_pairs(text)

    def unquoted_tabs(self, text: str, root: Node | None) -> None:
        """Any tab left outside quoted strings (separators, comments, plain and block scalars)."""
        quoted = sorted(
            (node.start_mark.index, node.end_mark.index)
            for node in _walk(root)
            if isinstance(node, ScalarNode) and node.style in ('"', "'")
        )
        starts = [start for start, _ in quoted]
        last_line = 0
        for index in (match.start() for match in re.finditer("\t", text)):
            where = bisect.bisect_right(starts, index) - 1
            if where >= 0 and index < quoted[where][1]:
                continue
            line, col = line_col(text, index)
            if line != last_line:
                last_line = line
                self.problems.append(Problem(self.display, line, col, _TAB))


def _walk(root: Node | None) -> Iterator[Node]:
    """Every node below `root`, keys included, without recursion."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(part for pair in node.value for part in pair)


def _position(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag


def _syntax_problem(exc: yaml.YAMLError, text: str, display: str) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):
        line, col = line_col(text, exc.position)
        message = f"unprintable character U+{exc.character:04X}; remove it"
        return Problem(display, line, col, message)
    mark = None
    reason = str(exc)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark:
            line, col = _position(exc.context_mark)
            reason += f" ({exc.context} at line {line}, column {col})"
    line, col = _position(mark) if mark else (1, 1)
    if mark and text[mark.index : mark.index + 1] == "\t":
        return Problem(display, line, col, _TAB)
    return Problem(display, line, col, f"YAML syntax error: {reason}")


def parse(text: str, display: str) -> tuple[object, Positions]:
    """Plain data and positions from YAML text, or ConfigError with every problem found."""
    data, positions, duplicates = parse_all(text, display)
    if duplicates:
        raise ConfigError(duplicates)
    return data, positions


def parse_all(text: str, display: str) -> tuple[object, Positions, list[Problem]]:
    """Like `parse`, but duplicate keys are returned (the first value kept), not raised.

    libyaml's reading stands only when it found no problem at all: PyYAML gives the positions.
    """
    tabs = _tab_problems(text, display)
    if tabs:
        raise ConfigError(tabs)
    if _FAST is not None:
        try:
            fast = _parse_with(_FAST, text, display)
            if not fast[2]:
                return fast
        except Exception:
            pass  # whatever went wrong, PyYAML tells it, in the words and places it always has
    return _parse_with(_Loader, text, display)


def _parse_with(
    make_loader: Callable[[str], _Strict], text: str, display: str
) -> tuple[object, Positions, list[Problem]]:
    try:
        loader = make_loader(text)
    except yaml.YAMLError as exc:
        raise ConfigError([_syntax_problem(exc, text, display)]) from None
    builder = _Builder(loader, display)
    try:
        node = loader.get_single_node()
        data = builder.build(node, ()) if node is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError([_syntax_problem(exc, text, display)]) from None
    except RecursionError:
        raise ConfigError([Problem(display, 1, 1, "the document is nested too deeply")]) from None
    finally:
        loader.dispose()
    for mark, message in loader.found:
        builder.problem(mark, message)
    builder.unquoted_tabs(text, node)
    duplicates = _in_order(builder.duplicates)
    if builder.problems:
        raise ConfigError(_in_order(builder.problems + duplicates))
    return data, builder.positions, duplicates


def _in_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.column))


def read_document(path: str | os.PathLike[str], display: str) -> Document:
    """Read, decode and parse one file (see the module docstring for what is refused)."""
    raw = read_bytes(Path(path), display)
    data, positions, duplicates = parse_all(decode(raw, display), display)
    return Document(data, positions, raw, tuple(duplicates))
