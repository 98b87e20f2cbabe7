"""A hypothesis helper shared by the YAML fuzz tests: a text with pieces spliced in and spans cut out."""

from __future__ import annotations

from hypothesis import strategies as st


def spliced(draw: st.DrawFn, text: str, pieces: st.SearchStrategy[str], *, edits: int,
            longest_cut: int) -> str:
    """`text` after 1 to `edits` edits: a drawn piece inserted, or up to `longest_cut` chars cut."""
    for _ in range(draw(st.integers(1, edits))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(pieces) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, longest_cut)) :]
    return text
