"""Make the README's pictures: the HTML accounts page and a plan comment, as Chromium shows them.

Run from the repository root, with the test extra installed (it brings
cmark-gfm, GitHub's Markdown renderer) and headless Chromium:

    python docs/screenshots.py [--out DIR]

It starts the emulator, seeds it as `kfsync demo` does (the example config,
and live accounts that drifted from it), and runs the real commands:
`kfsync plan --format markdown` gives the comment, rendered to HTML with
cmark-gfm inside a minimal GitHub-like page; `kfsync apply`, then
`kfsync accounts --format html -o FILE` gives the accounts page.  Both are
screenshotted, cropped to their content and written to docs/*.png.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the browser and Markdown helpers of the tests

from kfsync.commands.demo import drifted_live  # noqa: E402
from kfsync.config import load_config  # noqa: E402
from kfsync.emulator import Emulator  # noqa: E402
from kfsync.engine import declare  # noqa: E402
from tests.helpers.browser import screenshot  # noqa: E402
from tests.helpers.gfm import render  # noqa: E402

MARGIN = 16  #: pixels of page kept around the content

#: Enough of GitHub's comment style for the picture to read like the real thing.
COMMENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><style>
body {{ margin: 0; padding: 16px; background: #fff; color: #1f2328;
  font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }}
.comment {{ border: 1px solid #d1d9e0; border-radius: 6px; max-width: 860px; }}
.head {{ background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
  border-radius: 6px 6px 0 0; color: #59636e; }}
.head b {{ color: #1f2328; }} .bot {{ border: 1px solid #d1d9e0; border-radius: 2em;
  padding: 0 6px; font-size: 12px; }}
.body {{ padding: 16px; }} .body > :first-child {{ margin-top: 0; }}
h3 {{ font-size: 16px; margin: 20px 0 8px; }}
ul {{ padding-left: 2em; margin: 0 0 12px; }}
code {{ font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: rgba(129,139,152,.12); border-radius: 6px; padding: .2em .4em; }}
table {{ border-collapse: collapse; margin: 8px 0 12px; }}
th, td {{ border: 1px solid #d1d9e0; padding: 6px 13px; }}
th {{ font-weight: 600; }} tr:nth-child(2n) {{ background: #f6f8fa; }}
summary {{ cursor: pointer; margin: 8px 0; }}
</style></head><body>
<div class="comment"><div class="head"><b>github-actions</b> <span class="bot">bot</span>
commented</div><div class="body">
{body}
</div></div></body></html>
"""


def kfsync(env: dict[str, str], *args: str) -> str:
    """Run the CLI as a user would; its standard output (plan exits 2 when it finds changes)."""
    done = subprocess.run([sys.executable, "-m", "kfsync", *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode not in (0, 2):
        raise SystemExit(f"kfsync {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def crop(png: Path, target: Path) -> None:
    """The screenshot cut to its content plus a margin, saved small."""
    with Image.open(png) as shot:
        rgb = shot.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if box is None:
        raise SystemExit(f"{png} is blank")
    right, bottom = box[2:]
    rgb = rgb.crop((0, 0, min(rgb.width, right + MARGIN), min(rgb.height, bottom + MARGIN)))
    rgb.save(target, optimize=True)
    print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the PNGs go")
    out: Path = parser.parse_args(argv).out
    with tempfile.TemporaryDirectory(prefix="kfsync-screenshots-") as tmp:
        folder = Path(tmp) / "shop"
        shutil.copytree(ROOT / "examples", folder)
        config = load_config(folder / "kfsync.yaml")
        wechat_id = config.scope
        uploads = dict(declare(config).uploads)
        with Emulator(wechat_id=wechat_id) as emulator:
            emulator.admin.seed(accounts=drifted_live(wechat_id, uploads, emulator.admin.now()))
            env = {**os.environ, "KFSYNC_APPID": emulator.config.appid,
                   "KFSYNC_APPSECRET": emulator.config.secret,
                   "KFSYNC_API_BASE": emulator.base_url, "NO_COLOR": "1",
                   "KFSYNC_CACHE_DIR": str(Path(tmp) / "cache")}
            for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITLAB_CI"):
                env.pop(name, None)
            config_file = str(folder / "kfsync.yaml")
            markdown = kfsync(env, "plan", "-c", config_file, "--format", "markdown")
            kfsync(env, "apply", "-c", config_file, "--auto-approve")
            page = Path(tmp) / "accounts.html"
            kfsync(env, "accounts", "--format", "html", "-o", str(page))
        comment = Path(tmp) / "comment.html"
        body = render(markdown).replace("<details>", "<details open>")  # show the table
        comment.write_text(COMMENT_PAGE.format(body=body), encoding="utf-8")
        for source, name, width in ((page, "accounts.png", 1000), (comment, "plan-comment.png", 900)):
            crop(screenshot(source, Path(tmp) / name, width=width, height=1600), out / name)


if __name__ == "__main__":
    main()
