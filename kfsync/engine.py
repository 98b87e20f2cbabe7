"""The one flow: read the live side, plan, check safety (once), apply, verify.

`kfsync plan`, `kfsync apply`, the demo, the bench and the soak all run it
through `Engine`, so that they read, plan and judge safety the same way;
command modules only parse options, call it and render.  The engine knows a
provider only through `kfsync.providers.base.Provider`.

Two speed devices live here, each behind one name: the live side is read in a
thread of its own while the declared side is fingerprinted (`Engine.start`),
and the pictures to upload are normalised in the background while apply makes
its first calls (`Uploads.prepare`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from kfsync.apply import Applier, ApplyResult, Progress
from kfsync.cache import Cache
from kfsync.errors import KfsyncError
from kfsync.model import AVATAR, Desired, DesiredAvatar, LiveState
from kfsync.plan import Output, Plan, plan
from kfsync.progress import Advance, ignore
from kfsync.providers.base import DEFAULT_PARALLELISM
from kfsync.safety import SafetyError, check_safety

if TYPE_CHECKING:
    from kfsync.avatars import AvatarPrint
    from kfsync.cache import AvatarPrints
    from kfsync.config import Config
    from kfsync.planfile import SavedPlan
    from kfsync.providers.base import Provider, Rules


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
    """A plan, what it was made from, and the safety verdict, decided once."""

    declared: Declared
    live: LiveState
    plan: Plan
    refused: SafetyError | None = None  #: why the plan may not be applied, if it may not
    consent: frozenset[str] = frozenset()  #: the deletes named, on the command line or in the file
    rules: Rules | None = None  #: the provider's planning rules it was made by


@dataclass(frozen=True)
class Applied:
    """How an apply went, and the plan made again afterwards to verify it."""

    result: ApplyResult
    verify: Prepared | None  #: None when the live side could not be read again
    verify_error: str | None = None  #: why it could not
    outputs: tuple[Output, ...] = ()  #: what the provider hands out (e.g. contact links), values set
    outputs_error: str | None = None  #: why they could not be read or made

    @property
    def converged(self) -> bool:
        return self.result.complete and self.verify is not None and self.verify.plan.empty

    @property
    def succeeded(self) -> bool:
        """Converged, and the outputs reported: as Terraform, an output that fails fails the apply."""
        return self.converged and self.outputs_error is None


class Uploads(Mapping[str, bytes]):
    """The JPEG to upload for each declared avatar, by kf_account, normalised when first asked for.

    Planning needs only the fingerprints; the pictures are made when apply uploads
    them (or ahead, by `prepare`), from files that must still be the ones fingerprinted.
    Each file is normalised once, whoever asks first; the others wait for it.
    """

    def __init__(
        self, files: Mapping[str, tuple[Path, str]], cache: AvatarPrints | None = None
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


def declare(
    config: Config, cache: Cache | None = None, prints: Mapping[Path, AvatarPrint] | None = None
) -> Declared:
    """Fingerprint every declared avatar exactly as it will be uploaded (see `fingerprint_avatar`).

    `prints` are the fingerprints the loader made (`load_config(prints=...)`):
    they are used where it made them, so that each file is read once.
    """
    from kfsync.avatars import fingerprint_avatar

    cached = cache.avatars if cache is not None else None
    known = prints or {}
    avatars: dict[str, DesiredAvatar] = {}
    files: dict[str, tuple[Path, str]] = {}
    folder = config.path.resolve().parent
    by_path: dict[Path, DesiredAvatar] = {}
    for account in config.present:
        path = account.avatar
        if path is None:
            continue
        if path not in by_path:
            found = known.get(path) or fingerprint_avatar(path, cached)
            shown = path.relative_to(folder).as_posix()  # the loader keeps avatars inside the folder
            by_path[path] = DesiredAvatar(shown, found.phash, found.digest)
        avatars[account.prefix] = by_path[path]
        files[config.kf_account(account.prefix)] = (path, by_path[path].digest)
    return Declared(Desired(config, avatars), Uploads(files, cached))


def judged(
    declared: Declared,
    live: LiveState,
    allow_delete: frozenset[str] = frozenset(),
    saved: SavedPlan | None = None,
    *,
    rules: Rules,
) -> Prepared:
    """The plan from the declared and the live side by the provider's `rules`, and its verdict.

    A saved plan is first checked to be exactly this plan, made from the same
    inputs; the consent it records is added to `allow_delete`.
    """
    made = plan(declared.desired, live, declared.config.policy, rules)
    consent = allow_delete
    if saved is not None:
        from kfsync.planfile import check_fresh, check_matches

        check_fresh(saved, declared, live)
        consent = consent | check_matches(saved, made)
    refused: SafetyError | None = None
    try:
        check_safety(made, declared.config.policy, consent)
    except SafetyError as exc:
        refused = exc
    return Prepared(declared, live, made, refused, consent, rules)


class Engine:
    """One config against one provider; a context manager that closes the provider.

    `start` begins reading the live side at once, in a thread of its own, so
    that the network's round trips overlap what the caller does meanwhile
    (fingerprinting the declared side, loading the renderers); `plan` waits for
    it.  Without `start`, `plan` reads in the caller's thread.
    """

    def __init__(
        self,
        config: Config,
        open_provider: Callable[[], Provider],
        *,
        cache: Cache | None = None,
        now: int | None = None,
        prints: Mapping[Path, AvatarPrint] | None = None,
    ) -> None:
        """`prints`: the fingerprints the loader made of the config's avatars, if it made them."""
        self.config = config
        self.cache = cache or Cache(None)
        self.prints = prints
        self.now = now
        self._open = open_provider
        self._provider: Provider | None = None
        self._live: LiveState | None = None
        self._error: BaseException | None = None
        self._finished: threading.Event | None = None
        self._lock = threading.Lock()
        self._closing = False
        self._progress: Advance = ignore

    # ------------------------------------------------------------------ reading

    def start(self, progress: Advance = ignore) -> Engine:
        """Begin reading the live side in the background; `progress` hears of each live picture."""
        self._progress = progress
        if self._finished is None:
            self._finished = threading.Event()
            threading.Thread(target=self._read_in_background, name="kfsync-read",
                             daemon=True).start()
        return self

    def _read_in_background(self) -> None:
        assert self._finished is not None
        try:
            self._live = self.read()
        except BaseException as exc:  # handed to plan(), in the caller's thread
            self._error = exc
        finally:
            with self._lock:
                self._finished.set()
                if self._closing:
                    self._close_provider()

    @property
    def provider(self) -> Provider:
        if self._provider is None:
            self._provider = self._open()
        return self._provider

    @property
    def rules(self) -> Rules:
        """The provider's planning rules for this config."""
        return self.provider.rules(self.config)

    def read(self) -> LiveState:
        """One reading of the live side, now."""
        return self.provider.read(self.config, now=self.now, progress=self._progress)

    def _first_reading(self) -> LiveState:
        if self._finished is None:
            return self.read()
        self._finished.wait()
        if self._error is not None:
            raise self._error
        assert self._live is not None
        return self._live

    # ------------------------------------------------------------------ the flow

    def plan(
        self,
        allow_delete: frozenset[str] = frozenset(),
        *,
        declared: Declared | None = None,
        saved: SavedPlan | None = None,
    ) -> Prepared:
        """Declare (unless given), read (or wait for the reading), plan and judge safety."""
        declared = declared or declare(self.config, self.cache, self.prints)
        live = self._first_reading()
        return judged(declared, live, allow_delete, saved, rules=self.rules)

    def apply(self, prepared: Prepared, *, parallelism: int = DEFAULT_PARALLELISM,
              progress: Progress | None = None) -> Applied:
        """Apply a plan that passed the safety rules, then plan again to verify that nothing is left.

        A verification that cannot read the live side does not hide what was
        applied: it is reported as not verified.
        """
        if prepared.refused is not None:
            raise prepared.refused
        uploads = prepared.declared.uploads
        if isinstance(uploads, Uploads):  # adds come first: their round trips hide the normalising
            uploads.prepare(c.account for c in prepared.plan.changes
                            if c.after is not None and c.after.get(AVATAR.name))
        applier = Applier(self.provider, uploads, parallelism=parallelism, progress=progress)
        result = applier.run(prepared.plan)
        self._progress = ignore  # the verification's pictures are not watched
        if result.interrupted:  # whoever pressed Ctrl-C wants out: no verification
            return Applied(result, None)
        try:
            verify = self.verify(prepared)
        except KfsyncError as exc:
            return Applied(result, None, str(exc))
        except KeyboardInterrupt:  # during the verification: what was applied is still reported
            return Applied(replace(result, interrupted=True), None)
        try:
            return self._reported(result, verify)
        except KeyboardInterrupt:
            return Applied(replace(result, interrupted=True), verify)

    def in_sync(self, prepared: Prepared) -> Applied:
        """The apply of a plan with nothing to change: no call but the outputs, reported again.

        As Terraform reports its outputs when nothing changed: a scene added to
        the file changes no account, yet its contact link is wanted.
        """
        return self._reported(ApplyResult(()), prepared)

    def _reported(self, result: ApplyResult, verify: Prepared) -> Applied:
        try:
            outputs = self.outputs(verify)
        except KfsyncError as exc:
            return Applied(result, verify, outputs_error=str(exc))
        return Applied(result, verify, outputs=outputs)

    def outputs(self, prepared: Prepared) -> tuple[Output, ...]:
        """The plan's outputs with their values, from the provider (e.g. each contact link).

        Only the outputs of accounts that are live are asked for: an account whose
        add failed has none.
        """
        live = {a.kf_account for a in prepared.live.accounts}
        wanted = tuple(o for o in prepared.plan.outputs if o.account in live)
        return self.provider.outputs(wanted) if wanted else ()

    def verify(self, prepared: Prepared) -> Prepared:
        """Read the live side again and plan again, with the same consent."""
        return judged(prepared.declared, self.read(), prepared.consent, rules=self.rules)

    # ------------------------------------------------------------------ closing

    def _close_provider(self) -> None:
        provider, self._provider = self._provider, None
        if provider is not None:
            provider.close()

    def close(self) -> None:
        """Close the provider, at once or, if the reading is still at work, when it ends."""
        with self._lock:
            self._closing = True
            if self._finished is None or self._finished.is_set():
                self._close_provider()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
