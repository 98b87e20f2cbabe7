"""The edges around the pure planner: read the declared and the live side, plan, apply, verify.

`plan` and `apply` commands, the demo and the benchmarks all go through here,
so that they read, plan and judge safety the same way.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kfsync.apply import DEFAULT_PARALLELISM, Applier, ApplyResult, Progress
from kfsync.errors import CredentialsError, KfsyncError, UsageError
from kfsync.live import LiveAccount, LiveState, PictureCache, read_live
from kfsync.plan import Action, Desired, DesiredAvatar, Plan, plan
from kfsync.progress import Advance, ignore
from kfsync.safety import check_safety

if TYPE_CHECKING:
    from kfsync.avatars import FingerprintCache
    from kfsync.client import KfClient
    from kfsync.config import Config


@dataclass(frozen=True)
class Declared:
    """The declared side, with each avatar fingerprinted and ready to upload."""

    desired: Desired
    uploads: Mapping[str, bytes]  #: normalised JPEG by kf_account

    @property
    def config(self) -> Config:
        return self.desired.config

    def avatar_digests(self) -> dict[str, str]:
        return {prefix: a.digest for prefix, a in sorted(self.desired.avatars.items())}


@dataclass(frozen=True)
class Prepared:
    declared: Declared
    live: LiveState
    plan: Plan


@dataclass(frozen=True)
class Applied:
    """How an apply went, and the plan made again afterwards to verify it."""

    result: ApplyResult
    verify: Prepared | None  #: None when the live side could not be read again
    verify_error: str | None = None  #: why it could not

    @property
    def converged(self) -> bool:
        return self.result.complete and self.verify is not None and self.verify.plan.empty


class Uploads(Mapping[str, bytes]):
    """The JPEG to upload for each declared avatar, by kf_account, normalised when first asked for.

    Planning needs only the fingerprints; the pictures are made when apply uploads
    them (or ahead, by `prepare`), from files that must still be the ones fingerprinted.
    Each file is normalised once, whoever asks first; the others wait for it.
    """

    def __init__(
        self, files: Mapping[str, tuple[Path, str]], cache: FingerprintCache | None = None
    ) -> None:
        self._files = files  #: kf_account -> (file, sha256 when fingerprinted)
        self._cache = cache  #: where fingerprinting kept the uploads it made
        self._made: dict[Path, Future[bytes]] = {}
        self._lock = threading.Lock()

    def __getitem__(self, kf_account: str) -> bytes:
        from kfsync.avatars import load_avatar

        path, digest = self._files[kf_account]
        with self._lock:
            made = self._made.get(path)
            mine = made is None
            if made is None:
                made = self._made[path] = Future()
        if mine:
            try:
                made.set_result(load_avatar(path, digest=digest, cache=self._cache))
            except BaseException as exc:
                made.set_exception(exc)
        return made.result()

    def prepare(self, kf_accounts: Iterable[str]) -> None:
        """Normalise these accounts' pictures in the background, while apply makes other calls."""

        def make_all() -> None:
            for kf_account in kf_accounts:
                with contextlib.suppress(Exception):  # the upload itself reports it
                    self.get(kf_account)

        threading.Thread(target=make_all, name="kfsync-pictures", daemon=True).start()

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def declare(config: Config, cache: FingerprintCache | None = None) -> Declared:
    """Fingerprint every declared avatar exactly as it will be uploaded (see `fingerprint_avatar`).

    The loader's fingerprints are used where it made them: the file was read once.
    """
    from kfsync.avatars import fingerprint_avatar

    avatars: dict[str, DesiredAvatar] = {}
    files: dict[str, tuple[Path, str]] = {}
    folder = config.path.resolve().parent
    by_path: dict[Path, DesiredAvatar] = {}
    for account in config.present:
        path = account.avatar
        if path is None:
            continue
        if path not in by_path:
            found = config.avatar_prints.get(path) or fingerprint_avatar(path, cache)
            shown = path.relative_to(folder).as_posix()  # the loader keeps avatars inside the folder
            by_path[path] = DesiredAvatar(shown, found.phash, found.digest)
        avatars[account.prefix] = by_path[path]
        files[config.kf_account(account.prefix)] = (path, by_path[path].digest)
    return Declared(Desired(config, avatars), Uploads(files, cache))


def check_appid(config: Config, client: KfClient) -> None:
    """The config's `official_account.appid`, when set, must match the credentials in use.

    A static token does not say whose it is: then the AppID comes from
    KFSYNC_APPID, and without it the check cannot be made, so kfsync refuses
    rather than skip it in silence.
    """
    wanted = config.official_account.appid
    actual = client.appid
    if wanted and not actual:
        raise CredentialsError(
            f"{config.path}: official_account.appid is {wanted}, but with a static token kfsync "
            "cannot tell which Official Account the token is for; set KFSYNC_APPID to the "
            "token's AppID, or remove official_account.appid from the config"
        )
    if wanted and actual and wanted != actual:
        raise UsageError(
            f"{config.path}: official_account.appid is {wanted} but the credentials are for "
            f"{actual}; point KFSYNC_APPID at the right Official Account"
        )


def check_suffix(config: Config, live: LiveState) -> None:
    """Live accounts that all carry another suffix mean a mistyped `official_account.wechat_id`.

    Planned as they are, every declared account would be added under the
    wrong suffix; kfsync stops instead and names the suffix WeChat uses.
    """
    wechat_id = config.official_account.wechat_id
    suffixes = Counter(a.kf_account.partition("@")[2] for a in live.accounts
                       if not config.policy.is_ignored(a.prefix))
    if not suffixes or wechat_id in suffixes:
        return
    used, count = suffixes.most_common(1)[0]
    if not used:  # accounts without any suffix say nothing about the right one
        return
    others = f" (and {len(suffixes) - 1} other suffixes)" if len(suffixes) > 1 else ""
    raise UsageError(
        f"{config.path}: official_account.wechat_id is {wechat_id}, but none of the "
        f"{sum(suffixes.values())} live accounts ends in @{wechat_id}: WeChat uses @{used} "
        f"({count} of them){others}; set official_account.wechat_id: {used} (the suffix is the "
        "Official Account's WeChat ID), or check that the credentials are for this account"
    )


def _worth_comparing(config: Config) -> Callable[[tuple[LiveAccount, ...]], list[str]]:
    """The live pictures a plan compares: those of accounts declared with an avatar."""
    with_avatar = {account.prefix for account in config.present if account.avatar is not None}

    def pick(accounts: tuple[LiveAccount, ...]) -> list[str]:
        return [a.headimgurl for a in accounts if a.headimgurl and a.prefix in with_avatar]

    return pick


def _live_side(config: Config, client: KfClient, cache: PictureCache, now: int | None,
               parallelism: int, progress: Advance = ignore) -> LiveState:
    """The live side of `config`: one `getkflist` and the pictures worth comparing.

    The pictures are downloaded `parallelism` at a time, the width of apply's calls;
    `progress` hears of each one fingerprinted.
    """
    check_appid(config, client)
    return read_live(
        client,
        now=int(time.time()) if now is None else now,
        picture_urls=_worth_comparing(config),
        cache=cache,
        workers=parallelism,
        progress=progress,
    )


def read_and_plan(
    declared: Declared,
    client: KfClient,
    *,
    cache: PictureCache,
    now: int | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
) -> Prepared:
    """One `getkflist`, the pictures worth comparing, and the plan."""
    return planned(declared, _live_side(declared.config, client, cache, now, parallelism))


def planned(declared: Declared, live: LiveState) -> Prepared:
    """The plan from the declared side and a live side already read."""
    check_suffix(declared.config, live)
    return Prepared(declared, live, plan(declared.desired, live, declared.config.policy))


class Reading:
    """The live side of a config, read in a thread of its own by a client of its own.

    The thread starts at once: it makes the client and opens `connections`
    connections (no call yet), then waits for `begin(config)`, given once the
    config is known to be valid, to make its calls (the token, `getkflist` and
    the pictures worth comparing).  So the handshakes overlap the config's
    checks, and the round trips what the caller does meanwhile: building the
    declared side, loading the planner and the renderers.
    `result()` waits and returns the client (for apply's calls) and what was
    read, or raises what went wrong.  Leaving the `with` block closes the
    client, at once or, if the thread is still at work, when it ends.
    """

    def __init__(self, cache: PictureCache, now: int | None, parallelism: int,
                 connections: int, progress: Advance = ignore) -> None:
        self._finished = threading.Event()
        self._begun = threading.Event()
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._client: KfClient | None = None
        self._live: LiveState | None = None
        self._error: BaseException | None = None
        self._closing = False
        threading.Thread(
            target=self._read, args=(cache, now, parallelism, connections, progress),
            name="kfsync-read", daemon=True,
        ).start()

    def begin(self, config: Config) -> None:
        """The config is valid: the calls may start."""
        self._config = config
        self._begun.set()

    def _read(self, cache: PictureCache, now: int | None, parallelism: int,
              connections: int, progress: Advance) -> None:
        try:
            from kfsync.client import KfClient

            client = self._client = KfClient()
            client.preconnect(connections, wait=True)  # so that the first call takes one of them
            self._begun.wait()
            if self._config is not None:  # else the caller left before the config was valid
                self._live = _live_side(self._config, client, cache, now, parallelism, progress)
        except BaseException as exc:  # handed to result(), in the caller's thread
            self._error = exc
        finally:
            with self._lock:
                self._finished.set()
                if self._closing:
                    self._close_client()

    def result(self) -> tuple[KfClient, LiveState]:
        self._finished.wait()
        if self._error is not None:
            raise self._error
        assert self._client is not None
        assert self._live is not None
        return self._client, self._live

    def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closing = True
            self._begun.set()  # a thread still waiting for the config ends
            if self._finished.is_set():
                self._close_client()


def start_reading(config: Config, cache: PictureCache, *, now: int | None = None,
                  parallelism: int = DEFAULT_PARALLELISM, connections: int = 1,
                  progress: Advance = ignore) -> Reading:
    """Begin reading the live side of a valid `config` in the background (see `Reading`).

    `parallelism`: pictures downloaded at once; `connections`: how many to have open
    when the reading ends (apply: its parallelism); `progress` hears of each live
    picture fingerprinted.
    """
    reading = Reading(cache, now, parallelism, connections, progress)
    reading.begin(config)
    return reading


@contextlib.contextmanager
def loading_and_reading(
    load: Callable[[], Config], cache: PictureCache, *, parallelism: int = DEFAULT_PARALLELISM,
    connections: int = 1, progress: Advance = ignore,
) -> Iterator[tuple[Config, Reading]]:
    """`load()` the config while the client connects; read the live side once it is valid.

    No call is made for a config with a problem, but the connections' handshakes
    overlap its checks (for a new avatar, decoding and normalising it).
    """
    with Reading(cache, None, parallelism, connections, progress) as reading:
        config = load()
        reading.begin(config)
        yield config, reading


def apply_plan(
    prepared: Prepared,
    client: KfClient,
    *,
    allow_delete: frozenset[str],
    parallelism: int,
    progress: Progress | None,
    cache: PictureCache,
) -> Applied:
    """Apply a checked plan, then plan again to verify that nothing is left to do.

    A verification that cannot read the live side does not hide what was applied:
    it is reported as not verified.
    """
    check_safety(prepared.plan, prepared.declared.config.policy, allow_delete)
    uploads = prepared.declared.uploads
    if isinstance(uploads, Uploads):  # adds come first: their round trips hide the normalising
        uploads.prepare(c.account for c in prepared.plan.changes if c.action is Action.SET_AVATAR)
    applier = Applier(client, uploads, parallelism=parallelism, progress=progress)
    result = applier.run(prepared.plan)
    if result.interrupted:  # whoever pressed Ctrl-C wants out: no verification
        return Applied(result, None)
    try:
        verify = read_and_plan(prepared.declared, client, cache=cache, parallelism=parallelism)
    except KfsyncError as exc:
        return Applied(result, None, str(exc))
    except KeyboardInterrupt:  # during the verification: what was applied is still reported
        return Applied(replace(result, interrupted=True), None)
    return Applied(result, verify)
