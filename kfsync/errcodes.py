"""Error-code tables: each provider's codes, their wire `errmsg`, a hint, and how to treat them.

One table per product serves both sides: its emulator answers with the
`errmsg` text, and the transport attaches the `hint` to the errors it raises
and decides from the table's sets which codes to retry, refresh the token on,
or raise as a quota.  The tables themselves live in the provider packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrCode:
    code: int
    errmsg: str
    hint: str


@dataclass(frozen=True)
class ErrcodeTable:
    """One product's codes, and how the transport treats them (each provider has one)."""

    codes: Mapping[int, ErrCode]
    token_invalid: frozenset[int]  #: refresh the token once and repeat the call
    transient: frozenset[int]  #: retry with backoff, a bounded number of times
    quota: frozenset[int]  #: raised as QuotaError
    ip_codes: frozenset[int] = frozenset()  #: codes whose errmsg names the caller's IP
    service: str = "WeChat"  #: how messages name the API: "WeChat errcode 45009", "WeCom errcode 60111"

    def hint(self, code: int) -> str | None:
        entry = self.codes.get(code)
        return entry.hint if entry else None

    def errmsg(self, code: int) -> str:
        entry = self.codes.get(code)
        return entry.errmsg if entry else "system error"
