"""End-to-end fixtures: the CLI on the shared emulator, from tmp_path.

Retries never really sleep (the client's default `RetryPolicy` is swapped for
one that only records its delays), and every access token the client sends is
recorded, so that `Shop.run` can check that none reaches the output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy
from tests.helpers.cli_run import point_cli_at
from tests.helpers.e2e import Shop


@pytest.fixture
def shop(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str], sent_tokens: set[str]) -> Shop:
    """An empty shop folder, with the environment pointed at the (reset) emulator."""
    point_cli_at(monkeypatch, emulator.base_url, tmp_path)
    folder = tmp_path / "shop"
    folder.mkdir()
    return Shop(folder, emulator, capsys, sent_tokens)


@pytest.fixture
def console(emulator: Emulator) -> Iterator[KfClient]:
    """A client playing someone who edits the accounts in the WeChat console meanwhile."""
    with KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=emulator.base_url,
                  retry=RetryPolicy(sleep=lambda _: None)) as client:
        yield client
