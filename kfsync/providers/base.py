"""The seam between kfsync's generic core and one product's API: the `Provider` protocol.

The engine, the applier and the renderers know a provider only through this
protocol; they import nothing from a provider's package.  A provider package
(`kfsync.providers.wechat_mp`, one per product) holds the client of its API,
its error codes, its rules, its importer mapping and its emulator, and offers
one class that satisfies `Provider`.

A new provider follows these steps:

1. `read`: one reading of the live side, parsed at the boundary into
   `kfsync.model.LiveState` (the accounts, and the fingerprints of the pictures
   the plan compares), after checking that the credentials and the config
   describe the same account (a mismatch is a `UsageError` naming the fix).
2. `execute`: one `kfsync.plan.Change` made as the calls it takes (a rebind
   may be a delete and an add; an avatar an upload, its bytes taken from the
   `uploads` the engine hands over).  A refusal raises a
   `KfsyncError` (for an API error, `kfsync.errors.WeChatError` or a subclass,
   carrying its errcode); a write whose answer was lost raises
   `OutcomeUnknownError`, never a blind resend.
3. `holds`: re-read the live side and say whether what a change makes is
   already so; the applier asks after a lost answer and after an "already
   exists" refusal.
4. `classify`: map the provider's errors to the generic `ErrorKind`s, which
   are all the applier knows of errcodes.
5. `stop` (Ctrl-C: send nothing more, retry nothing) and `close`.
6. `rules`: the product's planning rules (`Rules`), a pure value that the
   engine hands to `kfsync.plan.plan`: which live account a declared entry is,
   and which calls make, delete or change one.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Protocol

from kfsync.progress import Advance, ignore

#: Calls made at once, and pictures downloaded at once, unless --parallelism says otherwise.
DEFAULT_PARALLELISM = 8

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kfsync.config import Config
    from kfsync.errors import KfsyncError
    from kfsync.model import (
        DesiredAccount,
        DesiredAvatar,
        Difference,
        Field,
        LiveAccount,
        LiveState,
    )
    from kfsync.plan import Action, Change, Expansion, Matching, Output


class ErrorKind(enum.Enum):
    """What the applier needs to know of a provider's error."""

    NOT_FOUND = "not found"  #: the account a change names does not exist
    ALREADY_EXISTS = "already exists"  #: what the change makes may already be there: re-read
    QUOTA = "quota"  #: stop starting new changes
    TRANSIENT = "transient"  #: try again later (the client's own retries are spent)
    OUTCOME_UNKNOWN = "outcome unknown"  #: sent, but the answer was lost: re-read


class Rules(Protocol):
    """A product's planning rules: identity and the calls a difference takes; pure, no I/O.

    `kfsync.plan.plan` keeps what is generic (ignored, unmanaged, protected and
    absent accounts, the field diff, the order); a provider's rules say which
    live account each declared entry is and turn what differs into changes.
    """

    @property
    def scope(self) -> str:
        """What the plan is for, as it names it (the Official Account's WeChat ID)."""
        ...

    @property
    def actions(self) -> Sequence[Action]:
        """The kinds of change this product plans (the Official Account: no servicers)."""
        ...

    @property
    def fields(self) -> Sequence[Field[Any]]:
        """The `kfsync.model` fields this product's accounts have, compared in this order."""
        ...

    def match(self, declared: Sequence[DesiredAccount], live: Sequence[LiveAccount]) -> Matching:
        """Pair each declared entry (present or absent) with its live account, if it has one.

        Live accounts that are not the provider's to manage are left out, with a
        warning; an ambiguous match is a refusal (the plan may not be applied).
        """
        ...

    def create(self, entry: DesiredAccount, avatar: DesiredAvatar | None, reason: str) -> list[Change]:
        """The changes that make a declared account that is not live, with their dependencies."""
        ...

    def delete(self, account: LiveAccount, reason: str) -> Change:
        """The change that deletes a live account."""
        ...

    def expand(
        self,
        entry: DesiredAccount,
        avatar: DesiredAvatar | None,
        account: LiveAccount,
        differences: Sequence[Difference],
        now: int,
    ) -> Expansion:
        """The changes that turn `account` into `entry`, given the fields that differ at `now`.

        Asked only when at least one field differs: an account in sync needs nothing.
        """
        ...

    def outputs(self, present: Sequence[DesiredAccount]) -> tuple[Output, ...]:
        """What apply will report for the declared accounts (values unknown: None)."""
        ...


class Provider(Protocol):
    """One product's live side: read it, change it one change at a time, explain its errors."""

    #: How messages name the service, e.g. "WeChat" in "stopped after WeChat quota error 45011".
    service: str

    def read(self, config: Config, *, now: int | None = None, progress: Advance = ignore) -> LiveState:
        """The live state to plan `config` against; `now` (unix seconds) defaults to the clock.

        The provider reads its own section of the config (e.g. `official_account`)
        and picks the live pictures worth comparing (those of accounts declared
        with an avatar); `progress` hears of each picture fingerprinted.
        """
        ...

    def execute(self, change: Change, uploads: Mapping[str, bytes]) -> None:
        """Make one change; raise `KfsyncError` if it is refused, `OutcomeUnknownError` if lost.

        `uploads` holds the declared pictures, normalised as they are uploaded, by
        account: only the changes that upload one read it.
        """
        ...

    def holds(self, change: Change) -> bool:
        """Re-read the live side: whether what `change` makes is already so."""
        ...

    def classify(self, error: KfsyncError) -> ErrorKind | None:
        """The generic kind of an error `execute` or `read` raised, or None for any other."""
        ...

    def outputs(self, wanted: Sequence[Output]) -> tuple[Output, ...]:
        """The outputs a plan listed, with their values, read or made after apply."""
        ...

    def rules(self, config: Config) -> Rules:
        """The planning rules for `config`'s accounts (pure: reading nothing)."""
        ...

    def stop(self) -> None:
        """Ctrl-C: send nothing more, not even a retry of a call under way."""
        ...

    def close(self) -> None:
        """Let go of connections; the provider is not used again."""
        ...
