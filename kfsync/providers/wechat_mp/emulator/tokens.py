"""Access tokens: issuing classic and stable tokens, supersession, rotation and validation.

Rules (see the API reference, section 5), all on the emulator clock:
- a token lives `LIFETIME` seconds; after that it answers 42001;
- each classic token (GET /cgi-bin/token) supersedes the previous one, which stays
  valid `OVERLAP` more seconds; older ones are revoked at once (40001);
- the stable token is returned unchanged while valid; in its last `OVERLAP` seconds a
  call rotates it (the old one lives until its own expiry);
- `force_refresh` revokes every stable token at once and issues a new one, unless the
  previous forced refresh was less than `FORCE_SPACING` seconds ago (then the current
  token is returned);
- classic and stable tokens never affect each other.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from typing import Any

from kfsync.emulator.exceptions import EmulatorError

LIFETIME = 7200
OVERLAP = 300
FORCE_SPACING = 30
KINDS = ("classic", "stable")
_KEEP = 512  # tokens remembered; beyond that the long-expired ones are forgotten


@dataclass(frozen=True)
class Token:
    value: str
    kind: str
    expires_at: int
    revoked_at: int | None = None  #: from this moment on the token answers 40001

    def usable(self, now: int) -> bool:
        return now < self.expires_at and (self.revoked_at is None or now < self.revoked_at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Token:
        return cls(**data)


class TokenStore:
    """Every token issued, and which one is current for each kind."""

    def __init__(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.current: dict[str, str] = {}
        self.issued: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.last_forced: int | None = None

    def check(self, value: str | None, now: int) -> None:
        """Raise the errcode WeChat gives for this token, if it is not usable now."""
        if not value:
            raise EmulatorError(41001)
        token = self.tokens.get(value)
        if token is None:
            raise EmulatorError(40001)
        if now >= token.expires_at:
            raise EmulatorError(42001)
        if token.revoked_at is not None and now >= token.revoked_at:
            raise EmulatorError(40001)

    def classic(self, now: int) -> Token:
        for value, token in list(self.tokens.items()):
            if token.kind == "classic" and token.usable(now):
                grace = now + OVERLAP if value == self.current.get("classic") else now
                revoked_at = grace if token.revoked_at is None else min(grace, token.revoked_at)
                self.tokens[value] = replace(token, revoked_at=revoked_at)
        return self._issue("classic", now)

    def stable(self, now: int, force: bool) -> Token:
        current = self.tokens.get(self.current.get("stable", ""))
        live = current is not None and current.usable(now)
        if force and (self.last_forced is None or now - self.last_forced >= FORCE_SPACING):
            self.last_forced = now
            for value, token in list(self.tokens.items()):
                if token.kind == "stable" and token.usable(now):
                    self.tokens[value] = replace(token, revoked_at=now)
            return self._issue("stable", now)
        if current is not None and live and now < current.expires_at - OVERLAP:
            return current
        return self._issue("stable", now)

    def _issue(self, kind: str, now: int) -> Token:
        token = Token(secrets.token_urlsafe(64), kind, now + LIFETIME)
        self.tokens[token.value] = token
        self.current[kind] = token.value
        self.issued[kind] += 1
        if len(self.tokens) > _KEEP:
            self.tokens = {v: t for v, t in self.tokens.items() if t.expires_at > now - LIFETIME}
        return token

    def summary(self, now: int) -> dict[str, Any]:
        return {
            "issued": dict(self.issued),
            "valid": {k: sum(t.kind == k and t.usable(now) for t in self.tokens.values())
                      for k in KINDS},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokens": [t.to_dict() for t in self.tokens.values()],
            "current": dict(self.current),
            "issued": dict(self.issued),
            "last_forced": self.last_forced,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenStore:
        store = cls()
        store.tokens = {t.value: t for t in map(Token.from_dict, data["tokens"])}
        store.current = dict(data["current"])
        store.issued.update(data["issued"])
        store.last_forced = data["last_forced"]
        return store
