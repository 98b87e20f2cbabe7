"""The emulator's fixed settings: credentials, the WeChat ID and behaviour switches."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_APPID = "wx5f1e0000000e1a7e"
DEFAULT_SECRET = "0e1a7e5ec7e70000e1a7e5ec7e70cafe"
DEFAULT_WECHAT_ID = "shop_cs"
DEFAULT_INVITE_LIFETIME = 86400 * 3
DEFAULT_MAX_ACCOUNTS = 100
MSGID_MODES = ("next", "last")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that does not change while the emulator runs."""

    appid: str = DEFAULT_APPID
    secret: str = DEFAULT_SECRET
    wechat_id: str = DEFAULT_WECHAT_ID
    latency_ms: int = 0
    strict: bool = False
    invite_lifetime: int = DEFAULT_INVITE_LIFETIME
    msgid_mode: str = "next"
    max_accounts: int = DEFAULT_MAX_ACCOUNTS
    #: Added once to the first answer on each new connection, from when it was opened: the
    #: TCP and TLS handshakes that a real HTTPS connection costs (2 round trips or more).
    connection_latency_ms: int = 0

    def __post_init__(self) -> None:
        if self.msgid_mode not in MSGID_MODES:
            raise ValueError(f"msgid_mode must be one of {MSGID_MODES}, not {self.msgid_mode!r}")
        if (self.latency_ms < 0 or self.connection_latency_ms < 0 or self.invite_lifetime <= 0
                or self.max_accounts < 0):
            raise ValueError("latency_ms, connection_latency_ms and max_accounts must be >= 0, "
                             "invite_lifetime > 0")

    def __repr__(self) -> str:
        # The secret never appears in a repr.
        return (f"EmulatorConfig(appid={self.appid!r}, wechat_id={self.wechat_id!r}, "
                f"strict={self.strict}, msgid_mode={self.msgid_mode!r})")

    def to_dict(self) -> dict[str, object]:
        """The public settings (no secret), as shown by the admin state."""
        return {
            "appid": self.appid,
            "wechat_id": self.wechat_id,
            "latency_ms": self.latency_ms,
            "connection_latency_ms": self.connection_latency_ms,
            "strict": self.strict,
            "invite_lifetime": self.invite_lifetime,
            "msgid_mode": self.msgid_mode,
            "max_accounts": self.max_accounts,
        }
