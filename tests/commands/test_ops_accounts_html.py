"""`kfsync accounts --format html`: the page, opened in real headless Chromium.

The accounts come from the emulator over HTTP, their avatars from its picture
server; the page is screenshotted at desktop and phone widths and the pixels
checked with Pillow, and its loaded DOM compared with what was listed.  A
local server records any request the page makes: there must be none, even
when markup is slipped into the file (the Content-Security-Policy stops it).
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from kfsync.emulator import Emulator
from tests.helpers.browser import chromium, dump_dom, screenshot

Run = Callable[..., tuple[int, str, str]]
Fails = Callable[..., str]

RED = (220, 40, 40)
BLUE = (40, 90, 220)
BOUND = (0xDA, 0xFB, 0xE1)  #: the "bound" badge
PENDING = (0xFF, 0xF8, 0xC5)  #: the "invitation pending" badge
REJECTED = (0xFF, 0xEB, 0xE9)  #: the "invitation rejected" badge
HOSTILE_NICK = "<img src=x>"  # 11 characters: WeChat allows up to 16


class Recorder:
    """A server on 127.0.0.1 that remembers each path asked; 404 but for its `files`."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.files: dict[str, bytes] = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.paths.append(self.path)
                body = recorder.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _jpeg(color: tuple[int, int, int]) -> str:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), color).save(out, "JPEG", quality=95)
    return base64.b64encode(out.getvalue()).decode()


def _seed(emu: Emulator, recorder: Recorder) -> None:
    now = emu.admin.now()
    emu.admin.seed(accounts=[
        {"kf_account": "alice@shop_cs", "kf_nick": "小美😀", "kf_wx": "alice_wx",
         "headimg_base64": _jpeg(RED)},
        {"kf_account": "bob@shop_cs", "kf_nick": HOSTILE_NICK, "invite_wx": "bob_wx",
         "invite_expire_time": now + 3 * 86400, "headimg_base64": _jpeg(BLUE)},
        {"kf_account": "chen@shop_cs", "kf_nick": "陈师傅", "invite_wx": "chen_wx",
         "invite_status": "rejected", "invite_expire_time": now - 86400,
         "kf_headimgurl": f"{recorder.url}/gone.jpg"},
    ])


def _page(emu: Emulator, recorder: Recorder, run: Run, folder: Path) -> Path:
    _seed(emu, recorder)
    page = folder / "accounts.html"
    code, out, err = run("accounts", "--format", "html", "-o", str(page))
    assert (code, out, err) == (0, "", f"Wrote 3 accounts to {page}.\n")
    recorder.paths.clear()  # the download of chen's picture, by kfsync
    return page


def _pixels(png: Path, color: tuple[int, int, int]) -> list[tuple[int, int]]:
    """Where `color` is in the screenshot (within a small tolerance)."""
    with Image.open(png) as shot:
        rgb = shot.convert("RGB")
    data, width = rgb.tobytes(), rgb.width
    red, green, blue = color
    return [(i // 3 % width, i // 3 // width) for i in range(0, len(data), 3)
            if abs(data[i] - red) <= 12 and abs(data[i + 1] - green) <= 12
            and abs(data[i + 2] - blue) <= 12]


def test_the_page_shows_every_account_with_its_avatar(
        ops_env: Emulator, ops_run: Run, recorder: Recorder, tmp_path: Path) -> None:
    page = _page(ops_env, recorder, ops_run, tmp_path)
    png = screenshot(page, tmp_path / "desktop.png", width=1000, height=700)
    with Image.open(png) as shot:
        assert shot.size == (1000, 700)
        assert len(shot.convert("RGB").getcolors(1_000_000) or ()) > 50, "a blank page"
    red, blue = _pixels(png, RED), _pixels(png, BLUE)
    # Each avatar is a 48-pixel disc (about 1,800 pixels), in the first column, alice's above bob's.
    for disc in (red, blue):
        assert 1500 < len(disc) < 2400, len(disc)
        assert max(x for x, _ in disc) - min(x for x, _ in disc) in range(44, 50)
        assert max(x for x, _ in disc) < 150
    assert max(y for _, y in red) < min(y for _, y in blue)
    assert _pixels(png, PENDING)
    assert _pixels(png, REJECTED)
    # A table: alice's "bound" badge is on her avatar's line.
    bound = _pixels(png, BOUND)
    assert min(y for _, y in red) < min(y for _, y in bound) < max(y for _, y in red)
    assert recorder.paths == [], "the page asked a server for something"


def test_the_loaded_page_holds_the_names_as_text(
        ops_env: Emulator, ops_run: Run, recorder: Recorder, tmp_path: Path) -> None:
    page = _page(ops_env, recorder, ops_run, tmp_path)
    dom = dump_dom(page)
    assert '<span class="nick">&lt;img src=x&gt;</span>' in dom
    assert '<span class="nick">小美😀</span>' in dom
    assert dom.count("<img ") == 2
    assert dom.count('src="data:image/jpeg;base64,') == 2
    assert 'alt="Avatar of &lt;img src=x&gt;"' in dom
    assert '<span class="note">avatar not downloaded: HTTP 404</span>' in dom
    assert "to chen_wx, ended " in dom
    assert recorder.paths == []


def test_on_a_phone_every_column_is_on_screen(
        ops_env: Emulator, ops_run: Run, recorder: Recorder, tmp_path: Path) -> None:
    page = _page(ops_env, recorder, ops_run, tmp_path)
    png = screenshot(page, tmp_path / "phone.png", width=390, height=1400)
    red, blue = _pixels(png, RED), _pixels(png, BLUE)
    assert 1500 < len(red) < 2400
    assert 1500 < len(blue) < 2400
    # Each account is a card, its fields one under the other: alice's "bound" badge is below
    # her avatar, not squeezed beside it; nothing runs off the right edge (no ink in the last
    # 10 pixels of any line).
    assert _pixels(png, PENDING)
    assert _pixels(png, REJECTED)
    assert max(y for _, y in red) < min(y for _, y in _pixels(png, BOUND)) < min(y for _, y in blue)
    with Image.open(png) as shot:
        edge = shot.convert("L").crop((380, 0, 390, shot.height))
    assert min(edge.tobytes()) > 150, "something runs off the right edge of a phone's screen"


@pytest.mark.parametrize("with_policy", [True, False])
def test_the_policy_stops_scripts_and_requests(
        ops_env: Emulator, ops_run: Run, recorder: Recorder, tmp_path: Path,
        with_policy: bool) -> None:
    """Markup slipped into the file does nothing; without the policy the same markup would."""
    page = _page(ops_env, recorder, ops_run, tmp_path)
    text = page.read_text(encoding="utf-8")
    if not with_policy:
        start = text.index('<meta http-equiv="Content-Security-Policy"')
        text = text[:start] + text[text.index(">", start) + 1:]
    slipped = (f'<img src="{recorder.url}/img"><link rel="stylesheet" href="{recorder.url}/css">'
               f'<script>document.body.dataset.ran = "yes"</script>'
               f'<iframe src="{recorder.url}/frame"></iframe>')
    page.write_text(text.replace("</main>", slipped + "</main>"), encoding="utf-8")
    dom = dump_dom(page)
    if with_policy:
        assert 'data-ran="yes"' not in dom
        assert recorder.paths == []
    else:
        assert 'data-ran="yes"' in dom
        assert {"/img", "/css", "/frame"} <= set(recorder.paths)


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")  # 64 megapixels in a few kilobytes
    return out.getvalue()


@pytest.mark.parametrize(
    ("body", "note"),
    [
        (b"GIF89a but not really", "avatar not shown: not a JPEG, PNG, GIF, WebP or BMP picture"),
        (_bomb(), "avatar not shown: the picture is 8000x8000 pixels"),
        (b"\xff" * (7 * 1024 * 1024), "avatar not downloaded: larger than"),
    ],
)
def test_a_picture_that_cannot_be_shown_says_why(
        ops_env: Emulator, ops_run: Run, recorder: Recorder, body: bytes, note: str) -> None:
    recorder.files["/picture"] = body
    ops_env.admin.seed(accounts=[{"kf_account": "ann@shop_cs", "kf_nick": "Ann",
                                  "kf_headimgurl": f"{recorder.url}/picture"}])
    code, out, err = ops_run("accounts", "--format", "html")
    assert (code, err) == (0, "")
    assert f'<span class="note">{note}' in out
    assert "<img " not in out
    assert recorder.paths == ["/picture"]


def test_html_goes_to_standard_output_without_a_file(
        ops_env: Emulator, ops_run: Run, recorder: Recorder) -> None:
    _seed(ops_env, recorder)
    code, out, err = ops_run("accounts", "--format", "html")
    assert (code, err) == (0, "")
    assert out.startswith("<!doctype html>")
    assert out.count('src="data:image/jpeg;base64,') == 2


def test_a_file_that_cannot_be_written_is_a_one_line_error(
        ops_env: Emulator, ops_fails: Fails, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    target = tmp_path / "a-file" / "accounts.html"
    message = ops_fails("accounts", "--format", "html", "-o", str(target))
    assert message.startswith(f"cannot write {target}: ")
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "x"


def test_json_and_tables_go_to_a_file_too(
        ops_env: Emulator, ops_run: Run, recorder: Recorder, tmp_path: Path) -> None:
    _seed(ops_env, recorder)
    for fmt in ("json", "table"):
        target = tmp_path / f"accounts.{fmt}"
        code, out, _ = ops_run("accounts", "--format", fmt, "-o", str(target))
        assert (code, out) == (0, "")
        assert "alice@shop_cs" in target.read_text(encoding="utf-8")


def test_chromium_is_there_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """In CI the browser tests fail rather than skip when Chromium is missing."""
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        chromium()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        chromium()
