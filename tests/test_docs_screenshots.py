"""docs/screenshots.py, which makes the README's pictures, still runs and makes pictures worth showing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.helpers.browser import chromium

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_pictures_can_be_made_again(tmp_path: Path) -> None:
    chromium()  # skipped without a browser, outside CI
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "screenshots.py"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("accounts.png", "plan-comment.png"):
        assert f"](docs/{name})" in readme
        assert (ROOT / "docs" / name).stat().st_size < 400_000
        made = tmp_path / name
        assert made.stat().st_size < 400_000
        with Image.open(made) as picture:
            assert picture.width > 600
            assert picture.height > 300
            assert len(picture.convert("RGB").getcolors(1_000_000) or ()) > 100, "a blank picture"
