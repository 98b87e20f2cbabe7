"""`EmulatorAdmin`: the admin API client of the Official Account's kf emulator."""

from __future__ import annotations

from typing import Any

from kfsync.emulator import admin


class EmulatorAdmin(admin.EmulatorAdmin):
    """The generic admin calls, and seeding and invitation outcomes."""

    def seed(self, accounts: list[dict[str, Any]] | None = None,
             records: list[dict[str, Any]] | None = None,
             waitcase: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Add accounts, records and waiting customers to the current state."""
        payload = {"accounts": accounts or [], "records": records or [],
                   "waitcase": waitcase or []}
        result: dict[str, Any] = self._call("POST", "seed", payload)
        return result

    def accept_invite(self, kf_account: str) -> None:
        self._call("POST", "invites/accept", {"kf_account": kf_account})

    def reject_invite(self, kf_account: str) -> None:
        self._call("POST", "invites/reject", {"kf_account": kf_account})

    def expire_invite(self, kf_account: str) -> None:
        self._call("POST", "invites/expire", {"kf_account": kf_account})
