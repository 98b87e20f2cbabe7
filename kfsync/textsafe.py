"""Text from outside made safe to show and to encode: escapes, and lone UTF-16 surrogates.

Text kfsync did not write (a nickname from WeChat, an errmsg, a config value,
a file name, a connection error) may hold characters that move the cursor,
forge a CI log line or reorder what a reader sees; `visible` writes each of
them as an escape, for plan output and error lines alike.

It may also hold lone UTF-16 surrogates: half characters that JSON's `\\ud83d`
and YAML's double-quoted escapes can spell, and that no UTF-8 output can
encode.  Each boundary deals with them once: the config reports them
(`lone_surrogate`), API answers replace them (`mend`), and JSON written out
keeps them as JSON escapes (`json_escapes`).
"""

from __future__ import annotations

import re

#: Characters that could move the cursor, reorder text or end a line where a renderer
#: does not expect it: C0/C1 controls, line/paragraph separators, bidi controls, and lone
#: surrogates, which cannot even be encoded.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
REPLACEMENT = "\ufffd"


def visible(text: str) -> str:
    """`text` with every unsafe character written as a `\\xNN`/`\\uNNNN` escape."""
    return _UNSAFE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def join_pairs(text: str) -> str:
    """`text` with each high+low surrogate pair made the one character it spells."""
    if not _SURROGATE.search(text):
        return text
    return _PAIR.sub(lambda m: m.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le"),
                     text)


def lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in `text` (after joining pairs), as `\\udXXX`; None if none."""
    found = _SURROGATE.search(join_pairs(text))
    return f"\\u{ord(found.group()):04x}" if found else None


def mend(data: object) -> tuple[object, int]:
    """Decoded JSON with surrogate pairs joined and each lone surrogate replaced by U+FFFD.

    Keys and values alike, at any depth; returns the data and how many were replaced.
    """
    replaced = 0

    def fix(text: str) -> str:
        nonlocal replaced
        joined = join_pairs(text)
        fixed, count = _SURROGATE.subn(REPLACEMENT, joined)
        replaced += count
        return fixed

    def walk(value: object) -> object:
        if isinstance(value, str):
            return fix(value)
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {fix(k) if isinstance(k, str) else k: walk(v) for k, v in value.items()}
        return value

    return walk(data), replaced


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def json_escapes(text: str) -> str:
    """JSON made with `ensure_ascii=False`, its lone surrogates written as `\\udXXX` escapes.

    Surrogates only occur inside JSON strings, where `\\udXXX` is the escape
    JSON itself has for them: the document stays valid, says the same, and
    can be encoded as UTF-8.
    """
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
