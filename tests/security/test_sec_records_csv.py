"""`records --format csv`: customer text never runs as a spreadsheet formula (unless --raw).

A customer writes the chat; a member of staff opens the export in a
spreadsheet.  OWASP's rule for CSV injection: a cell starting with `=`, `+`,
`-`, `@`, a tab or a carriage return (after any blanks; full-width forms too)
gets a leading `'`.  JSON lines are data, not formulas, and stay as sent.
"""

from __future__ import annotations

import csv
import json

import pytest

from tests.helpers.security import Shop, kf

#: Cells a spreadsheet would run, and cells it would not.
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1", "  =cmd|' /C calc'!A0", "\uff1d1+1", "\uff0bx", "\uff0dx",
            "\uff20x"]
PLAIN = ["hello", "a=b", "1-2", "mail@example", "'quoted", "", "你好 =1", "two\rlines"]


@pytest.fixture
def chat(shop: Shop) -> Shop:
    texts = FORMULAS + PLAIN
    shop.admin.seed(records=[{"openid": "=evil()" if i == 0 else f"o{i}", "opercode": 2003,
                              "text": text, "time": 1_790_000_000 + i,
                              "worker": kf("alice") if i else "@worker"}
                             for i, text in enumerate(texts)])
    return shop


def export(shop: Shop, *args: str) -> list[dict[str, str]]:
    """The records exported to a file (a carriage return in a cell survives only there)."""
    out = shop.folder / "records.out"
    run = shop.run("records", "--since", "2026-09-01", "--until", "2026-10-01", "-o", out, *args)
    assert run.code == 0, run.text
    with out.open(encoding="utf-8", newline="") as stream:
        if "csv" in args:
            return list(csv.DictReader(stream))
        return [json.loads(line) for line in stream]


def test_formula_cells_get_a_leading_quote(chat: Shop) -> None:
    rows = export(chat, "--format", "csv")
    texts = [row["text"] for row in rows]
    assert texts == ["'" + text for text in FORMULAS] + PLAIN
    assert rows[0]["openid"] == "'=evil()"
    assert rows[0]["worker"] == "'@worker"
    for row in rows:  # nothing a spreadsheet runs is left at the start of any cell
        for cell in row.values():
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d",
                                                    "\uff0b", "\uff0d", "\uff20")), row


def test_raw_keeps_every_cell_as_sent(chat: Shop) -> None:
    rows = export(chat, "--format", "csv", "--raw")
    assert [row["text"] for row in rows] == FORMULAS + PLAIN
    assert rows[0]["openid"] == "=evil()"


def test_json_lines_keep_the_text_as_sent(chat: Shop) -> None:
    assert [row["text"] for row in export(chat, "--format", "jsonl")] == FORMULAS + PLAIN
