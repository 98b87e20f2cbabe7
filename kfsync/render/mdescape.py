"""User-derived strings made inert in GitHub/GitLab Markdown, and still copyable.

Names, nicknames, paths and other values become code spans: inside one,
GitHub renders no Markdown, no HTML, no autolink, no mention and no issue
reference, and what a reader copies is the string itself.  The fence is one
backtick longer than the longest run of backticks in the string, padded with
a space where the string starts or ends with a backtick or a space.

What a code span cannot hold is written visibly instead: line breaks, other
controls and bidi overrides as `\\xNN`/`\\uNNNN` (see `visible`), and in a
table cell `|` as `\\|`, which GFM's table parser needs even inside a code
span and renders as `|`.

Free text that mixes our words with user-derived ones (reasons, warnings,
refusals) keeps plain words as prose, with their punctuation as entities, and
puts every other run of characters in a code span: `rebind from `wx_old` to
`wx_new``.
"""

from __future__ import annotations

import itertools
import operator
import re
import string

from kfsync.render.common import visible

#: Longest user-derived string shown, in characters (WeChat's own limits are lower).
MAX_FIELD = 200

#: A word of prose: letters, or a short number (7 or more digits could read as a commit),
#: with an opening parenthesis or quote and closing punctuation around it.
_WORD = re.compile(r"[(\"']?(?:[^\W\d_]+(?:'[^\W\d_]+)?|\d{1,6})[)\"',.;:!?]*")
_SENTENCE = re.compile(rf"{_WORD.pattern}(?: {_WORD.pattern})*")  #: plain words only, the usual case
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
_BACKTICKS = re.compile("`+")
_PIECES = re.compile(r"( +)")


def clip(text: str, longest: int = MAX_FIELD) -> str:
    """`text` cut to `longest` characters, with an ellipsis when it was longer."""
    return text[:longest] + "…" if len(text) > longest else text


def md_code(text: str, *, in_table: bool = False) -> str:
    """`text` as one code span that renders, and copies, as `text` (clipped, controls visible)."""
    return _span(visible(clip(text)), in_table)


def _span(body: str, in_table: bool) -> str:
    if not body:
        return "(empty)"
    if in_table:
        body = body.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    if body.strip(" ") and (body[0] in "` " or body[-1] in "` "):
        body = f" {body} "  # CommonMark strips one space from each side, and only then
    return fence + body + fence


def md_text(text: str, *, in_table: bool = False, longest: int = MAX_FIELD) -> str:
    """Free text: plain words stay prose, every other run of characters is a code span."""
    text = clip(text, longest)
    if _SENTENCE.fullmatch(text):
        return text.translate(_ENTITIES)
    pieces = _PIECES.split(text)  # words at even indexes, runs of spaces at odd ones
    runs: list[tuple[bool, str]] = []  # (in a code span, characters)
    for index, piece in enumerate(pieces):
        if index % 2:  # one space between words, one of them plain, is prose
            words = pieces[index - 1], pieces[index + 1]
            prose = piece == " " and all(words) and any(map(_plain, words))
            runs.append((not prose, piece))
        elif _plain(piece):
            runs.append((False, piece))
        elif piece:
            lead, core, tail = _peel(piece)  # `bob@shop_cs`: left as it is (see `policy.x`)
            runs += [(False, lead), (True, core), (False, tail)]
    out: list[str] = []
    for code, group in itertools.groupby((r for r in runs if r[1]), key=operator.itemgetter(0)):
        joined = "".join(characters for _, characters in group)
        out.append(_span(visible(joined), in_table) if code else joined.translate(_ENTITIES))
    return "".join(out)


def _plain(word: str) -> bool:
    return bool(_WORD.fullmatch(word))


def _peel(word: str) -> tuple[str, str, str]:
    """An opening parenthesis and closing punctuation around `word`, and what they enclose.

    A parenthesis is peeled only when its partner is not in the word: `f(x)` stays whole.
    """
    lead = "(" if word.startswith("(") and ")" not in word else ""
    core = word[len(lead):].rstrip(",;:" if "(" in word else ",;:)")
    if not core:
        return "", word, ""
    return lead, core, word[len(lead) + len(core):]
