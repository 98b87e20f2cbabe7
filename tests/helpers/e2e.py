"""Helpers for the end-to-end tests: a shop folder (config and avatars), CLI runs, the request log.

A `Shop` writes a kfsync.yaml and its avatar pictures into a temporary folder,
runs `kfsync.cli.main` against the emulator, and checks on every run that no
secret (the app secret, any access token the client used) reached stdout or
stderr.  Pictures are small patterned images: the perceptual hash compares
brightness against the mean, so a plain colour would hash the same as any other.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageDraw

from kfsync.emulator import DEFAULT_SECRET, DEFAULT_WECHAT_ID, Emulator
from tests.helpers.cli_run import Run, run_main

TOKEN_PATH = "/cgi-bin/stable_token"
LIST_PATH = "/cgi-bin/customservice/getkflist"
ADD_PATH = "/customservice/kfaccount/add"
UPDATE_PATH = "/customservice/kfaccount/update"
DELETE_PATH = "/customservice/kfaccount/del"
INVITE_PATH = "/customservice/kfaccount/inviteworker"
AVATAR_PATH = "/customservice/kfaccount/uploadheadimg"
WRITE_PATHS = frozenset({ADD_PATH, UPDATE_PATH, DELETE_PATH, INVITE_PATH, AVATAR_PATH})
PICTURE_PREFIX = "/mmbiz_jpg/"
ANSI = re.compile("\x1b\\[")


def kf(prefix: str) -> str:
    """The full kf account of a prefix on the emulated Official Account."""
    return f"{prefix}@{DEFAULT_WECHAT_ID}"


def picture(pattern: str, fmt: str = "PNG", size: int = 96, quality: int = 90) -> bytes:
    """A small picture with a pattern that the perceptual hash tells apart from the others."""
    image = Image.new("RGB", (size, size), (240, 240, 230))
    draw = ImageDraw.Draw(image)
    dark = (30, 40, 90)
    step = size // 8
    if pattern == "stripes":
        for x in range(0, size, 2 * step):
            draw.rectangle((x, 0, x + step - 1, size), fill=dark)
    elif pattern == "checker":
        for x in range(0, size, step * 2):
            for y in range(0, size, step * 2):
                draw.rectangle((x, y, x + step - 1, y + step - 1), fill=dark)
                draw.rectangle((x + step, y + step, x + 2 * step - 1, y + 2 * step - 1), fill=dark)
    elif pattern == "halves":
        draw.rectangle((0, 0, size // 2, size), fill=dark)
    elif pattern == "diagonal":
        draw.polygon([(0, 0), (size, 0), (0, size)], fill=dark)
    elif pattern == "frame":
        draw.rectangle((0, 0, size, size), fill=dark)
        draw.rectangle((size // 4, size // 4, 3 * size // 4, 3 * size // 4), fill=(250, 250, 250))
    else:
        raise ValueError(pattern)
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()


def seeded_jpeg(seed: int, size: int = 120) -> str:
    """A patterned JPEG in base64, as the emulators' seeds take it, far from the other seeds'."""
    image = Image.new("RGB", (size, size), (235, 235, 225))
    draw = ImageDraw.Draw(image)
    step = size // (seed + 2)
    for x in range(0, size, 2 * step):
        draw.rectangle((x, 0, x + step - 1, size // (1 + seed % 2)), fill=(20, 30, 80))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return base64.b64encode(out.getvalue()).decode()


def reencode(jpeg: bytes, quality: int) -> bytes:
    """The same picture as another JPEG encoding (as a console upload or a CDN would make)."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(jpeg)) as image:
        image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()




class ConfigFolder:
    """A folder with a kfsync.yaml and its avatars, the emulator's request log, plan and apply.

    What a `Shop` (an Official Account) and a WeCom `Corp` share.  Each says how it
    runs the CLI (`run`, which checks that no secret came out), which of its paths
    write (`WRITE_PATHS`) and what apply needs beyond the config (`APPLY_ARGS`).
    """

    WRITE_PATHS: frozenset[str] = frozenset()
    APPLY_ARGS: tuple[str, ...] = ()

    def __init__(self, folder: Path, admin: Any, secret: str, secrets: set[str]) -> None:
        self.folder = folder
        self.admin = admin
        self.config = folder / "kfsync.yaml"
        self.secret = secret  #: the app's secret
        self.secrets = secrets  #: access tokens, filled by a spy as they are met

    # ------------------------------------------------------------------ the desired side

    def _write_document(self, product: dict[str, Any], accounts: dict[str, dict[str, Any]],
                        policy: dict[str, Any] | None, path: Path | None = None,
                        **sections: dict[str, Any] | None) -> Path:
        """kfsync.yaml (or `path`): version, the product's section, policy, `sections`, accounts."""
        document: dict[str, Any] = {"version": 1, **product}
        for key, value in {"policy": policy, **sections}.items():
            if value is not None:
                document[key] = value
        document["accounts"] = accounts
        target = path or self.config
        target.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                          encoding="utf-8")
        return target

    def avatar(self, name: str, pattern: str, fmt: str = "PNG") -> str:
        """Write an avatar picture; returns its path as the config names it."""
        path = self.folder / "avatars" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(picture(pattern, fmt))
        return f"avatars/{name}"

    # ------------------------------------------------------------------ the request log

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """Request-log entries after sequence number `since`."""
        return [e for e in self.admin.requests() if e["seq"] > since]

    def last_seq(self) -> int:
        entries = self.admin.requests()
        return int(entries[-1]["seq"]) if entries else 0

    def calls(self, path: str, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.requests(since) if e["path"] == path]

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.requests(since) if e["path"] in self.WRITE_PATHS]

    # ------------------------------------------------------------------ the CLI

    def run(self, *args: str | os.PathLike[str]) -> Run:
        raise NotImplementedError

    def plan(self, *args: str | os.PathLike[str]) -> Run:
        return self.run("plan", "-c", self.config, *args)

    def apply(self, *args: str | os.PathLike[str]) -> Run:
        return self.run("apply", "-c", self.config, *self.APPLY_ARGS, *args)

    def save_plan(self) -> Path:
        """`kfsync plan --out plan.json`, which must succeed and hold no secret; the file."""
        saved = self.folder / "plan.json"
        planned = self.plan("--out", saved)
        assert planned.code == 0, planned.text
        assert f"Saved the plan to {saved}" in planned.err
        self.assert_no_secret(saved.read_text(encoding="utf-8"))
        return saved

    def assert_no_secret(self, text: str) -> None:
        for secret in {self.secret, *self.secrets}:
            assert secret not in text

    def assert_converged(self) -> Run:
        """Planning again finds nothing to do."""
        again = self.plan("--detailed-exitcode")
        assert again.code == 0, again.text
        assert "No changes." in again.out
        return again


class Shop(ConfigFolder):
    """An Official Account's folder, applied in this process to the emulator."""

    WRITE_PATHS = WRITE_PATHS

    def __init__(self, folder: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str],
                 secrets: set[str]) -> None:
        super().__init__(folder, emulator.admin, DEFAULT_SECRET, secrets)
        self.emulator = emulator
        self.capsys = capsys

    def write_config(self, accounts: dict[str, dict[str, Any]], *,
                     policy: dict[str, Any] | None = None,
                     defaults: dict[str, Any] | None = None) -> Path:
        return self._write_document({"official_account": {"wechat_id": DEFAULT_WECHAT_ID}},
                                    accounts, policy, defaults=defaults)

    def seed(self, *accounts: dict[str, Any]) -> None:
        self.admin.seed(accounts=list(accounts))

    def live(self) -> dict[str, dict[str, Any]]:
        """The emulator's accounts by kf_account."""
        return {a["kf_account"]: a for a in self.admin.state()["accounts"]}

    def effective(self, path: str, since: int = 0) -> list[dict[str, Any]]:
        """The calls to `path` that the emulator processed and accepted (errcode 0)."""
        return [e for e in self.calls(path, since)
                if e["errcode"] in (None, 0) and e["fault"] in (None, "drop:after")]

    def picture_downloads(self, since: int = 0) -> int:
        return sum(1 for e in self.requests(since) if e["path"].startswith(PICTURE_PREFIX))

    def run(self, *args: str | os.PathLike[str]) -> Run:
        """`kfsync ARGS`, in-process; asserts no secret reached the output."""
        run = run_main(self.capsys, *args)
        self.assert_no_secret(run.text)
        return run


def only_paths(entries: Iterable[dict[str, Any]]) -> set[str]:
    """The paths of log entries, pictures folded into one prefix."""
    return {PICTURE_PREFIX if e["path"].startswith(PICTURE_PREFIX) else e["path"] for e in entries}


def progress_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("[")]


def json_out(run: Run) -> Any:
    return json.loads(run.out)


def statuses(document: dict[str, Any]) -> dict[str, str]:
    """Outcome status by change id, from an apply JSON document."""
    return {o["id"]: o["status"] for o in document["outcomes"]}


def seeded(prefix: str, nick: str, **fields: Any) -> dict[str, Any]:
    """A seed item for the emulator."""
    return {"kf_account": kf(prefix), "kf_nick": nick, **fields}


def names(changes: Sequence[dict[str, Any]]) -> list[str]:
    """Change ids of a plan document's changes."""
    return [c["id"] for c in changes]
