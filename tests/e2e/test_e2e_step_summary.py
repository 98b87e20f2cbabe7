"""In GitHub Actions, plan also writes its Markdown to $GITHUB_STEP_SUMMARY; refusals show there too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.e2e import Shop, seeded
from tests.helpers.gfm import assert_inert_comment


def test_plan_appends_markdown_to_the_step_summary(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    shop.write_config({"alice": {"nickname": "<b>Alice</b>"}})
    run = shop.plan("--detailed-exitcode")  # text on stdout, Markdown in the summary
    assert run.code == 2
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("earlier step\n<!-- kfsync:shop_cs -->")
    assert_inert_comment(written.removeprefix("earlier step\n"))
    assert "`<b>Alice</b>`" in written  # the nickname, in a code span
    assert "<!--" not in run.out
    shop.assert_no_secret(written)


def test_unwritable_step_summary_is_a_warning_not_a_failure(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no-such-dir" / "summary.md"))
    shop.write_config({"alice": {"nickname": "Alice"}})
    run = shop.plan()
    assert run.code == 0
    assert "could not write the step summary" in run.err


def test_refusal_is_stated_in_the_markdown(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    shop.write_config({"bob": {"nickname": "Bob"}, "yan": {"state": "absent"},
                       "zed": {"state": "absent"}}, policy={"max_deletes": 1})
    shop.seed(seeded("bob", "Bob"), seeded("yan", "Yan"), seeded("zed", "Zed"))
    run = shop.plan("--format", "markdown")
    assert run.code == 3
    assert run.out.startswith("<!-- kfsync:shop_cs -->\n\n> [!CAUTION]\n> **Refused.** kfsync will")
    assert "\n> - the plan deletes 2 accounts" in run.out
    assert run.out.lower().count("refused") == 1
    assert summary.read_text(encoding="utf-8") == run.out
