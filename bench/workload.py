"""Synthetic shops: declared accounts, their avatar pictures, and live states to seed.

Everything is derived from an index and a seed, so two runs build the same
files.  Avatars are 640x640 JPEGs (the size WeChat recommends) of a random
8x8 block pattern: patterned, because the perceptual hash compares cells with
the mean and plain colours would all hash alike.
"""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kfsync.emulator import DEFAULT_WECHAT_ID, EmulatorAdmin

AVATAR_SIDE = 640
SEED_BATCH = 1000  #: accounts per admin seed call


@dataclass(frozen=True)
class Account:
    """One synthetic account, as declared."""

    prefix: str
    nickname: str
    wechat: str | None = None
    avatar: str | None = None  #: path relative to the config's folder

    @property
    def kf_account(self) -> str:
        return f"{self.prefix}@{DEFAULT_WECHAT_ID}"


def prefix(index: int) -> str:
    """`a0000042`: at most 10 characters, sorts like the index."""
    return f"a{index:07d}"


def accounts(count: int, *, avatars: bool, bindings: bool) -> list[Account]:
    return [
        Account(
            prefix(i),
            f"客服{i:05d}",
            wechat=f"worker_{i:05d}" if bindings else None,
            avatar=f"avatars/{prefix(i)}.jpg" if avatars else None,
        )
        for i in range(count)
    ]


def picture(seed: int, side: int = AVATAR_SIDE) -> bytes:
    """A JPEG of a random block pattern; different seeds give pictures the hash tells apart."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (side, side), (rng.randrange(190, 256),) * 3)
    draw = ImageDraw.Draw(image)
    cell = side // 8
    for x in range(8):
        for y in range(8):
            if rng.random() < 0.5:
                colour = (rng.randrange(0, 90), rng.randrange(0, 90), rng.randrange(60, 160))
                draw.rectangle((x * cell, y * cell, (x + 1) * cell - 1, (y + 1) * cell - 1),
                               fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def write_shop(folder: Path, declared: Sequence[Account], *,
               policy: dict[str, Any] | None = None, picture_side: int = AVATAR_SIDE) -> Path:
    """Write kfsync.yaml and its avatar files into `folder`; returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    for index, account in enumerate(declared):
        entry: dict[str, Any] = {"nickname": account.nickname}
        if account.avatar:
            path = folder / account.avatar
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(picture(index, picture_side))
            entry["avatar"] = account.avatar
        if account.wechat:
            entry["wechat"] = account.wechat
        entries[account.prefix] = entry
    document: dict[str, Any] = {
        "version": 1,
        "official_account": {"wechat_id": DEFAULT_WECHAT_ID},
        "policy": policy or {"unmanaged": "report"},
        "accounts": entries,
    }
    config = folder / "kfsync.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    return config


def in_sync_seed(folder: Path, declared: Iterable[Account]) -> list[dict[str, Any]]:
    """Seed items that make the live side exactly what `declared` asks for.

    Each avatar is sent as kfsync would upload it (normalised); the emulator
    re-encodes it as the CDN does, so the live picture is the same picture in
    another encoding, as after a real apply.  Bindings are accepted ones.
    """
    from kfsync.avatars import load_avatar

    items: list[dict[str, Any]] = []
    for account in declared:
        item: dict[str, Any] = {"kf_account": account.kf_account, "kf_nick": account.nickname}
        if account.wechat:
            item["kf_wx"] = account.wechat
        if account.avatar:
            jpeg = load_avatar(folder / account.avatar)
            item["headimg_base64"] = base64.b64encode(jpeg).decode("ascii")
        items.append(item)
    return items


def batches(items: Sequence[dict[str, Any]], size: int = SEED_BATCH) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def seed(admin: EmulatorAdmin, items: Sequence[dict[str, Any]]) -> None:
    """Seed accounts in batches (the admin API takes any number, but one huge body is slow)."""
    for batch in batches(items):
        admin.seed(accounts=batch)


def in_sync_shop(folder: Path, admin: EmulatorAdmin, count: int) -> Path:
    """A shop of `count` accounts with avatars and bindings, and a live side exactly like it."""
    declared = accounts(count, avatars=True, bindings=True)
    config = write_shop(folder, declared)
    seed(admin, in_sync_seed(folder, declared))
    return config


def manifest(folder: Path, declared: Sequence[Account]) -> Path:
    """The accounts as `bench/reference.py` reads them: JSON, avatars as absolute paths."""
    import json

    items = [{"kf_account": a.kf_account, "nickname": a.nickname, "wechat": a.wechat,
              "avatar": str((folder / a.avatar).resolve()) if a.avatar else None}
             for a in declared]
    path = folder / "accounts.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


#: What chat records say: short and long, Chinese and Latin, escapes that JSON must write.
RECORD_TEXTS = ("你好，请问有什么可以帮您？", "ok", "[image]", "订单 #20261101 已发货，预计 3 天内送达。",
                'He said "thanks" \\ see you', "line one\nline two", "👍", "")


def records(start: int, days: int, per_day: int, *, workers: int = 20) -> Iterator[dict[str, Any]]:
    """`per_day` chat records a day for `days` days from `start`, in time order, evenly spread."""
    rng = random.Random(start ^ days ^ per_day)
    step = 86400 / per_day
    for index in range(days * per_day):
        yield {"openid": f"oCustomer{rng.randrange(5000):05d}_{'x' * 14}",
               "opercode": 2002 + index % 2, "text": rng.choice(RECORD_TEXTS),
               "time": start + int(index * step), "worker": f"{prefix(index % workers)}@{DEFAULT_WECHAT_ID}"}


def seed_records(admin: EmulatorAdmin, items: Iterable[dict[str, Any]], batch: int = 20000) -> int:
    """Seed records in batches, in the order given; how many."""
    count = 0
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == batch:
            admin.seed(records=chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        admin.seed(records=chunk)
        count += len(chunk)
    return count
