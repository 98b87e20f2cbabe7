"""The WeCom emulator's fixed settings (corp id, secret, latency) and its switches.

Defaults: corp id `ww5f1e0e1a7e0cafe0` style (`ww` + 16 hex), secret
`DEFAULT_SECRET`.  `Switches` are the points the reference leaves *uncertain*;
each can be set on the command line, and changed by a seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

DEFAULT_CORPID = "ww5f1e0e1a7e0cafe0"
DEFAULT_SECRET = "kfsyncEmulatorWeComSecret0e1a7e5ec7e7cafe0"
DEFAULT_RATE_LIMIT = 10_000  #: calls per API per minute per corp (45009 past it)
GET_LIST_MODES = ("paged", "first_page", "refused")
UNMANAGED_ERRCODES = (48002, 95004, 60011)
LIST_ORDERS = ("oldest_first", "newest_first")
IMAGE_LIMITS_MB = (2, 10)


@dataclass(frozen=True)
class Switches:
    """The uncertain behaviours, each either way (see the package docstring)."""

    get_list: str = "paged"  #: GET kf/account/list: like POST, first page only, or 40058
    duplicate_names: bool = True  #: two accounts may share a name (else 95006)
    stable_contact_url: bool = True  #: the same (account, scene) gives the same URL
    last_account_deletable: bool = True  #: else deleting the last account answers 95005
    token_reuse: bool = True  #: gettoken returns the valid token (else a fresh one; old: 40014)
    unmanaged_errcode: int = 48002  #: the answer to a change of an account the app does not manage
    image_max_mb: int = 2  #: temporary image size cap
    list_order: str = "oldest_first"  #: undocumented; newest first shifts pages as accounts come

    def __post_init__(self) -> None:
        if self.get_list not in GET_LIST_MODES:
            raise ValueError(f"get_list must be one of {', '.join(GET_LIST_MODES)}")
        if self.unmanaged_errcode not in UNMANAGED_ERRCODES:
            raise ValueError(f"unmanaged_errcode must be one of {UNMANAGED_ERRCODES}")
        if self.list_order not in LIST_ORDERS:
            raise ValueError(f"list_order must be one of {', '.join(LIST_ORDERS)}")
        if self.image_max_mb not in IMAGE_LIMITS_MB:
            raise ValueError(f"image_max_mb must be one of {IMAGE_LIMITS_MB}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Switches:
        """These switches with `changes`; ValueError naming a bad name, type or value."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown switch {name!r}; switches: {', '.join(known)}")
            expected = type(getattr(self, name))
            if type(value) is not expected:
                raise ValueError(f"switch {name} must be a {expected.__name__}")
        return replace(self, **changes)

    @classmethod
    def parse(cls, pairs: tuple[str, ...]) -> Switches:
        """From NAME=VALUE strings (the command line): true/false, numbers, words."""
        changes: dict[str, Any] = {}
        for pair in pairs:
            name, sep, text = pair.partition("=")
            if not sep:
                raise ValueError(f"a switch is NAME=VALUE, got {pair!r}")
            value: Any = text
            if text.lower() in ("true", "false"):
                value = text.lower() == "true"
            elif text.isdigit():
                value = int(text)
            changes[name.strip()] = value
        return cls().updated(changes)


@dataclass(frozen=True)
class WeComEmulatorConfig:
    corpid: str = DEFAULT_CORPID
    secret: str = field(default=DEFAULT_SECRET, repr=False)
    latency_ms: int = 0
    switches: Switches = Switches()
    rate_limit: int = DEFAULT_RATE_LIMIT
    #: Added once to the first answer on each new connection (the handshakes of HTTPS).
    connection_latency_ms: int = 0

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.connection_latency_ms < 0 or self.rate_limit < 1:
            raise ValueError("latency_ms and connection_latency_ms must be >= 0 and "
                             "rate_limit >= 1")

    def to_dict(self) -> dict[str, Any]:
        """The public settings (no secret), as the admin state shows them."""
        return {"corpid": self.corpid, "latency_ms": self.latency_ms,
                "connection_latency_ms": self.connection_latency_ms,
                "rate_limit": self.rate_limit, "switches": self.switches.to_dict()}
