"""The cache on disk: one directory, one typed store per purpose.

`Cache(directory)` gives three stores that share the directory and its
small files written atomically:

- `live`: the fingerprint of each live picture, by URL (`LivePictures`);
- `avatars`: declared avatar files known to upload, by a key of their content
  and the recipe that normalises them, with the normalised upload kept by its
  sha256 (`AvatarPrints`), so that apply after plan does not normalise again;
- `verdicts`: config data known to satisfy the schema, by a digest of the data
  and the schema (`SchemaVerdicts`), so that an unchanged config is not
  validated again (nor jsonschema imported).

The cache only saves time: deleting it changes no plan.  `Cache(None)` keeps
nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

from kfsync.files import remove_stale_temps, write_atomic, write_atomic_bytes

log = logging.getLogger(__name__)

#: A kept upload larger than this is not kept (WeChat's own cap is 5 MB).
MAX_UPLOAD_BYTES = 6 * 1024 * 1024
_VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_VALID = "valid"


def default_cache_dir() -> Path:
    """`$KFSYNC_CACHE_DIR`, else the user cache directory."""
    explicit = os.environ.get("KFSYNC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kfsync" / "pictures"


class _Files:
    """Text entries by key, one small JSON file each, and blobs by their sha256."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._tidy = directory is not None  #: leftovers of killed writes not yet removed

    def _tidied(self) -> None:
        """Once, before the first write: remove what writes killed earlier left behind."""
        if self._tidy and self.directory is not None:
            self._tidy = False
            remove_stale_temps(self.directory)

    def _path(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / (hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")

    def text(self, key: str) -> str | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("v") != _VERSION or data.get("url") != key:
            return None
        value = data.get("phash")
        return value if isinstance(value, str) else None

    def keep_text(self, key: str, value: str) -> None:
        path = self._path(key)
        if path is None:
            return
        self._tidied()
        try:
            entry = json.dumps({"v": _VERSION, "url": key, "phash": value})
            write_atomic(path, entry, durable=False)  # a lost entry only costs time
        except OSError as exc:  # a cache that cannot be written only costs speed
            log.debug("cache not written: %s", exc)

    def _blob_path(self, sha256: str) -> Path | None:
        if self.directory is None or not _SHA256.fullmatch(sha256):
            return None
        return self.directory / f"{sha256}.jpg"

    def blob(self, sha256: str) -> bytes | None:
        path = self._blob_path(sha256)
        if path is None:
            return None
        try:
            with path.open("rb") as stream:
                data = stream.read(MAX_UPLOAD_BYTES + 1)
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def keep_blob(self, sha256: str, data: bytes) -> None:
        path = self._blob_path(sha256)
        if path is None or len(data) > MAX_UPLOAD_BYTES:
            return
        self._tidied()
        try:
            write_atomic_bytes(path, data, durable=False)  # a lost upload is only made again
        except OSError as exc:
            log.debug("cache not written: %s", exc)


class LivePictures:
    """The perceptual hash of each live picture, by its URL."""

    def __init__(self, files: _Files) -> None:
        self._files = files

    def get(self, url: str) -> str | None:
        return self._files.text(url)

    def put(self, url: str, phash: str) -> None:
        self._files.keep_text(url, phash)


class AvatarPrints:
    """For a declared avatar's content: the hash and the sha256 of its upload, and the upload."""

    def __init__(self, files: _Files) -> None:
        self._files = files

    def get(self, key: str) -> tuple[str, str] | None:
        """(phash, upload sha256) of the avatar file `key` names, if known."""
        entry = (self._files.text(key) or "").split()
        return (entry[0], entry[1]) if len(entry) == 2 else None

    def put(self, key: str, phash: str, jpeg: bytes) -> str:
        """Keep an avatar's upload, then its entry (which never names an upload not kept)."""
        upload = hashlib.sha256(jpeg).hexdigest()
        self._files.keep_blob(upload, jpeg)
        self._files.keep_text(key, f"{phash} {upload}")
        return upload

    def upload(self, sha256: str) -> bytes | None:
        """A kept upload, if it is there and intact."""
        return self._files.blob(sha256)


class SchemaVerdicts:
    """Config data already found to satisfy the schema, by a digest of both."""

    def __init__(self, files: _Files) -> None:
        self._files = files

    def known_valid(self, key: str) -> bool:
        return self._files.text(key) == _VALID

    def remember_valid(self, key: str) -> None:
        self._files.keep_text(key, _VALID)


class Cache:
    """The three stores of one cache directory (None: nothing is kept)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        files = _Files(directory)
        self.live = LivePictures(files)
        self.avatars = AvatarPrints(files)
        self.verdicts = SchemaVerdicts(files)
