"""The declared side as the engine builds it: avatar fingerprints through the cache, uploads made lazily."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageDraw

from kfsync import avatars
from kfsync.avatars import AvatarPrint, fingerprint_avatar, fingerprint_avatars, load_avatar, picture_hash
from kfsync.cache import Cache
from kfsync.config import load_config
from kfsync.engine import Uploads, declare
from kfsync.errors import AvatarError, ConfigError


def picture(path: Path, dark_half: int) -> Path:
    """A small PNG whose left (0) or top (1) half is dark: two pictures the hash tells apart."""
    image = Image.new("RGB", (64, 64), (240, 240, 240))
    box = (0, 0, 31, 63) if dark_half == 0 else (0, 0, 63, 31)
    ImageDraw.Draw(image).rectangle(box, fill=(20, 30, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path


def shop(folder: Path, accounts: dict[str, str]) -> Path:
    """A kfsync.yaml whose accounts (prefix -> avatar path) are all present."""
    document = {"version": 1, "official_account": {"wechat_id": "shop_cs"},
                "accounts": {p: {"nickname": p.title(), "avatar": a} for p, a in accounts.items()}}
    config = folder / "kfsync.yaml"
    config.write_text(yaml.safe_dump(document), encoding="utf-8")
    return config


def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes) -> bytes:
        raise AssertionError("decoded a picture the cache knows")

    monkeypatch.setattr(avatars, "normalise_avatar", refuse)


def test_a_fingerprint_is_that_of_the_upload(tmp_path: Path) -> None:
    path = picture(tmp_path / "a.png", 0)
    found = fingerprint_avatar(path)
    assert found.phash == picture_hash(load_avatar(path))
    assert len(found.digest) == 64


def test_a_cached_fingerprint_spares_decoding_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache").avatars
    path = picture(tmp_path / "a.png", 0)
    first = fingerprint_avatar(path, cache)
    no_decoding(monkeypatch)
    assert fingerprint_avatar(path, cache) == first
    picture(path, 1)  # other bytes: another key, so decoded (and refused here)
    with pytest.raises(AssertionError, match="decoded"):
        fingerprint_avatar(path, cache)


def test_a_broken_avatar_is_reported_by_the_loader_with_a_cache(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    config = shop(tmp_path, {"alice": "broken.png"})
    with pytest.raises(ConfigError, match="not a JPEG, PNG, GIF, WebP or BMP picture"):
        load_config(config, cache=Cache(tmp_path / "cache"))


def test_declare_with_a_warm_cache_decodes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    picture(tmp_path / "a.png", 0)
    config_path = shop(tmp_path, {"alice": "a.png", "bob": "a.png"})
    cache = Cache(tmp_path / "cache")
    cold = declare(load_config(config_path, cache=cache), cache)
    no_decoding(monkeypatch)
    warm = declare(load_config(config_path, cache=cache), cache)
    assert warm.desired.avatars == cold.desired.avatars
    assert warm.desired.avatars["alice"] == warm.desired.avatars["bob"]
    assert isinstance(fingerprint_avatar(tmp_path / "a.png", cache.avatars), AvatarPrint)


def test_uploads_are_normalised_when_asked_for_once_per_file(tmp_path: Path) -> None:
    path = picture(tmp_path / "a.png", 0)
    picture(tmp_path / "b.png", 1)
    declared = declare(load_config(shop(tmp_path, {"alice": "a.png", "bob": "a.png", "carol": "b.png"})))
    uploads = declared.uploads
    assert sorted(uploads) == ["alice@shop_cs", "bob@shop_cs", "carol@shop_cs"]
    assert len(uploads) == 3
    assert uploads["alice@shop_cs"] == load_avatar(path)
    assert uploads["alice@shop_cs"] is uploads["bob@shop_cs"]
    assert uploads.get("nobody@shop_cs") is None


def test_uploads_prepared_ahead_are_the_same(tmp_path: Path) -> None:
    path = picture(tmp_path / "a.png", 0)
    declared = declare(load_config(shop(tmp_path, {"alice": "a.png"})))
    uploads = declared.uploads
    assert isinstance(uploads, Uploads)
    uploads.prepare(["alice@shop_cs", "nobody@shop_cs"])
    assert uploads["alice@shop_cs"] == load_avatar(path)


def test_an_avatar_changed_since_it_was_fingerprinted_is_not_uploaded(tmp_path: Path) -> None:
    path = picture(tmp_path / "a.png", 0)
    declared = declare(load_config(shop(tmp_path, {"alice": "a.png"})))
    picture(path, 1)
    with pytest.raises(AvatarError, match="changed since it was planned; plan again"):
        declared.uploads["alice@shop_cs"]


def test_the_loader_fingerprints_each_avatar_once_and_declare_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture(tmp_path / "a.png", 0)
    picture(tmp_path / "b.png", 1)
    prints: dict[Path, AvatarPrint] = {}
    config = load_config(shop(tmp_path, {"alice": "a.png", "bob": "a.png", "carol": "b.png"}),
                         prints=prints)
    assert sorted(p.name for p in prints) == ["a.png", "b.png"]
    made: list[Path] = []
    real = avatars.fingerprint_avatar

    def counted(path: Path, cache: object = None) -> AvatarPrint:
        made.append(path)
        return real(path)

    monkeypatch.setattr(avatars, "fingerprint_avatar", counted)
    declared = declare(config, prints=prints)
    assert made == []
    assert declared.desired.avatars["alice"].phash == prints[tmp_path / "a.png"].phash


def test_a_fingerprint_keeps_the_upload_for_apply_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache").avatars
    path = picture(tmp_path / "a.png", 0)
    expected = load_avatar(path)
    found = fingerprint_avatar(path, cache)
    assert cache.upload(found.upload) == expected
    no_decoding(monkeypatch)
    assert load_avatar(path, digest=found.digest, cache=cache) == expected


def test_a_damaged_or_missing_cached_upload_is_made_again(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache").avatars
    path = picture(tmp_path / "a.png", 0)
    expected = load_avatar(path)
    found = fingerprint_avatar(path, cache)
    stored = tmp_path / "cache" / f"{found.upload}.jpg"
    stored.write_bytes(stored.read_bytes()[:-10])  # truncated: no longer its sha256
    assert cache.upload(found.upload) is None
    assert load_avatar(path, cache=cache) == expected
    stored.unlink()
    assert load_avatar(path, cache=cache) == expected


def test_the_cache_stores_and_reads_uploads_only_under_a_sha256_name(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache").avatars
    (tmp_path / "secret.jpg").write_bytes(b"runner file")
    cache._files.keep_blob("../secret", b"x")  # the store under the typed one
    assert cache.upload("../secret") is None
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []
    assert Cache(None).avatars.upload("0" * 64) is None


def test_many_avatars_fingerprinted_at_once_are_as_one_by_one_with_each_failure_its_own(
    tmp_path: Path,
) -> None:
    paths = [picture(tmp_path / f"p{i}.png", i % 2) for i in range(6)]
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    cache = Cache(tmp_path / "cache").avatars
    found = fingerprint_avatars([*paths, tmp_path / "broken.png", tmp_path / "none.png", paths[0]], cache)
    assert list(found) == [*paths, tmp_path / "broken.png", tmp_path / "none.png"]
    for path in paths:
        assert found[path] == fingerprint_avatar(path)
    assert isinstance(found[tmp_path / "broken.png"], AvatarError)
    assert "not a JPEG, PNG, GIF, WebP or BMP picture" in str(found[tmp_path / "broken.png"])
    assert isinstance(found[tmp_path / "none.png"], AvatarError)
    again = fingerprint_avatars(paths, cache)  # all known now: the same, nothing decoded
    assert again == {path: found[path] for path in paths}
