"""Live pictures: bounded downloads and their fingerprints.

`fetch_pictures` downloads the avatar pictures a plan needs to compare, in
parallel, bounded in size and time (each download has a total deadline,
headers and body together), with no credential from the environment, through
the cache of fingerprints by URL (`kfsync.cache.LivePictures`).  The cache only
saves time: deleting it changes no plan.  `download_pictures` is the same
bounded download, keeping the bytes (for import); `process_pictures` hands each
download to a function instead (thumbnails).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from kfsync.client.config import PICTURE_DEADLINE as DEFAULT_PICTURE_DEADLINE
from kfsync.model import LivePicture
from kfsync.progress import Advance, ignore

if TYPE_CHECKING:
    import requests
    from requests.adapters import BaseAdapter
    from requests.sessions import _Settings

    from kfsync.cache import LivePictures

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: A live picture larger than this is not downloaded (WeChat's own cap is 5 MB).
MAX_PICTURE_BYTES = 6 * 1024 * 1024
PICTURE_TIMEOUT = 10.0  #: seconds to connect, and between two pieces of the answer
#: seconds for a whole download, redirects included, by default (KFSYNC_PICTURE_DEADLINE)
PICTURE_DEADLINE = DEFAULT_PICTURE_DEADLINE
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class PictureBytes:
    """A downloaded live picture, or why it could not be downloaded."""

    data: bytes | None
    error: str | None = None


def fetch_pictures(
    urls: Iterable[str], cache: LivePictures, *, workers: int = 8,
    deadline: float = PICTURE_DEADLINE, progress: Advance = ignore,
    adapter: BaseAdapter | None = None,
) -> dict[str, LivePicture]:
    """Fingerprint each picture, from the cache or by a bounded download; `progress` hears of each.

    `workers` downloads at once; with `adapter` (a client's), over its connection pools:
    a picture host that is the API's host (the emulator's) reuses the connections the
    calls opened.
    """
    result: dict[str, LivePicture] = {}
    missing: list[str] = []
    for url in urls:
        cached = cache.get(url)
        if cached is not None:
            result[url] = LivePicture(cached)
        else:
            missing.append(url)

    def remembered(url: str, download: PictureBytes) -> LivePicture:
        picture = _fingerprint(download)
        if picture.phash is not None:
            cache.put(url, picture.phash)  # in the worker, alongside the other downloads
        return picture

    total = len(result) + len(missing)
    progress(len(result), total)
    for url, picture in _each_download(missing, remembered, workers, deadline, adapter):
        result[url] = picture
        progress(len(result), total)
    return result


def download_pictures(
    urls: Iterable[str], *, workers: int = 8, deadline: float = PICTURE_DEADLINE,
    prepare: Callable[[bytes], bytes] | None = None, progress: Advance = ignore,
) -> dict[str, PictureBytes]:
    """Download each picture with the same bounds as `fetch_pictures`, keeping the bytes.

    With `prepare`, each picture goes through it in its download's worker and only
    what it returns is kept (its AvatarError is the download's error): a hundred
    large downloads are never all in memory at once.
    """
    from kfsync.errors import AvatarError

    def prepared(_: str, download: PictureBytes) -> PictureBytes:
        if prepare is None or download.data is None:
            return download
        try:
            return PictureBytes(prepare(download.data))
        except AvatarError as exc:
            return PictureBytes(None, str(exc))

    return process_pictures(urls, prepared, workers=workers, deadline=deadline, progress=progress)


def process_pictures(
    urls: Iterable[str],
    then: Callable[[str, PictureBytes], _T],
    *,
    workers: int = 8,
    deadline: float = PICTURE_DEADLINE,
    progress: Advance = ignore,
) -> dict[str, _T]:
    """Download each picture with the same bounds and hand it to `then` in the worker.

    Only what `then` returns is kept, so a page of a thousand thumbnails never
    holds a thousand full-size pictures at once.  `progress` hears of each picture.
    """
    unique = list(dict.fromkeys(urls))
    result: dict[str, _T] = {}
    progress(0, len(unique))
    for url, value in _each_download(unique, then, workers, deadline):
        result[url] = value
        progress(len(result), len(unique))
    return result


def _each_download(
    urls: list[str], then: Callable[[str, PictureBytes], _T], workers: int, deadline: float,
    adapter: BaseAdapter | None = None,
) -> Iterator[tuple[str, _T]]:
    """The one download path: a shared session, bounded parallelism, `then` run in the worker.

    With `adapter` (a client's, which cuts requests at their deadlines as the session's own
    does), the session borrows those connection pools and leaves them open.
    """
    if not urls:
        return
    from kfsync.client.deadline import DeadlineAdapter

    if not isinstance(adapter, DeadlineAdapter):  # e.g. a session handed to the client
        adapter = None
    with _download_session() as session:
        if adapter is not None:
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(urls)))) as pool:
                results = pool.map(lambda u: then(u, _download(session, u, deadline)), urls)
                yield from zip(urls, results, strict=True)
        finally:
            if adapter is not None:  # its owner closes it, not this session
                session.adapters.clear()


def _download_session() -> requests.Session:
    """A session for pictures: no credential from the environment, its proxies honoured.

    `trust_env` is off, so requests never reads `~/.netrc` (it would send those
    credentials with the first request and again after every redirect, in
    clear text to an http:// host).  What requests would read from the
    environment for a URL (its proxies, NO_PROXY, a CA bundle) is read by
    requests itself, through a session that never sends anything, once per
    scheme and host, first hop and redirects alike.  No cookie and no
    Authorization go from one hop to the next, and a `DeadlineAdapter` cuts
    each download at its deadline.
    """
    import http.cookiejar

    import requests

    from kfsync.client.deadline import DeadlineAdapter

    environment = requests.Session()  # trust_env on: only asked, never used to send
    settings: dict[tuple[str, str], _Settings] = {}

    def settings_for(url: str) -> _Settings:
        key = (*urlsplit(url)[:2],)
        if key not in settings:
            settings[key] = environment.merge_environment_settings(url, {}, None, None, None)
        found = settings[key]
        return {**found, "proxies": dict(found["proxies"])}

    class Session(requests.Session):
        def merge_environment_settings(
            self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> _Settings:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if isinstance(url, str) and not proxies:
                found = settings_for(url)
                merged["proxies"] = found["proxies"]
                if verify is None:
                    merged["verify"] = found["verify"]
            return merged

        def rebuild_auth(self, prepared_request: requests.PreparedRequest,
                         response: requests.Response) -> None:
            # requests keeps the cookies a redirect sets for the next hop: neither they
            # nor any Authorization go on (and ~/.netrc is never asked, trust_env is off).
            for header in ("Authorization", "Cookie"):
                prepared_request.headers.pop(header, None)

        def rebuild_proxies(self, prepared_request: requests.PreparedRequest,
                            proxies: Any) -> dict[str, str]:
            # The proxy for the hop's own scheme and host, as for a first request.
            fresh = settings_for(prepared_request.url or "")["proxies"]
            rebuilt: dict[str, str] = super().rebuild_proxies(  # type: ignore[no-untyped-call]
                prepared_request, fresh)
            return rebuilt

    session = Session()
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))  # none kept
    adapter = DeadlineAdapter(pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _download(session: requests.Session, url: str, seconds: float) -> PictureBytes:
    import requests
    from urllib3.exceptions import HTTPError

    from kfsync.client.deadline import deadline, timeouts

    if not url.lower().startswith(("http://", "https://")):
        return PictureBytes(None, "not an http(s) URL")
    late = PictureBytes(None, f"not downloaded within the {seconds:g} s of KFSYNC_PICTURE_DEADLINE")
    with deadline(seconds) as window:
        try:
            with session.get(url, timeout=timeouts(window, PICTURE_TIMEOUT), stream=True) as answer:
                if answer.status_code != 200:
                    return late if window.timed_out() else PictureBytes(
                        None, f"HTTP {answer.status_code}")
                data = bytearray()
                # read1, not iter_content: iter_content waits for whole 64 KiB pieces.
                while chunk := answer.raw.read1(64 * 1024, decode_content=True):
                    data.extend(chunk)
                    if len(data) > MAX_PICTURE_BYTES:
                        return PictureBytes(None, f"larger than {MAX_PICTURE_BYTES} bytes")
                    if window.remaining() <= 0:
                        return late
        except requests.TooManyRedirects:
            return PictureBytes(None, "too many redirects")
        except (requests.RequestException, HTTPError, OSError) as exc:  # read1 raises urllib3's
            return late if window.timed_out() else PictureBytes(None, type(exc).__name__)
        # A cut connection may look like the end of an answer sent without a length.
        return late if window.timed_out() else PictureBytes(bytes(data))


def _fingerprint(download: PictureBytes) -> LivePicture:
    from kfsync.avatars import picture_hash
    from kfsync.errors import AvatarError

    if download.data is None:
        return LivePicture(None, download.error)
    try:
        return LivePicture(picture_hash(download.data))
    except AvatarError as exc:  # any format but the supported ones, bombs, broken pictures
        return LivePicture(None, str(exc))
