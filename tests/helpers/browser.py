"""Headless Chromium for the tests of browser-facing output: screenshots and the loaded DOM.

`chromium()` finds the browser.  Without one, a test is skipped with the
reason, except in CI (`CI=true`), where the browser is installed by `.ci/run`
and its absence is a failure.  Each run gets a fresh profile and the flags
that keep Chromium from calling home, so the only requests it can make are
the page's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--force-device-scale-factor=1", "--disable-extensions", "--mute-audio",
)
#: Seconds a page may take to load and be captured.
TIMEOUT = 90


def chromium() -> str:
    """The browser's path; skips the test where there is none, fails it in CI."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("headless Chromium is required in CI: apt-get install -y chromium")
    pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")


def _run(page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="kfsync-chromium-") as profile:
        done = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *flags, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def screenshot(page: Path, png: Path, *, width: int, height: int) -> Path:
    """`page` as Chromium shows it in a `width` x `height` window, saved to `png`."""
    _run(page, f"--window-size={width},{height}", f"--screenshot={png}")
    assert png.is_file(), f"Chromium wrote no screenshot of {page}"
    return png


def dump_dom(page: Path) -> str:
    """The page's DOM once loaded (and any script it was allowed to run), serialised."""
    return _run(page, "--dump-dom").stdout
