"""Safety rules a plan must pass before it is applied (or, for `plan`, shown as refused).

The rules the plan itself found (a protected account to rebind) are its
`refusals`; here they are enforced, with the policy's own: protected accounts
are never deleted, and more deletes than `max_deletes` must each be named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kfsync.errors import ExitCode, KfsyncError

if TYPE_CHECKING:
    from kfsync.config import Policy
    from kfsync.plan import Plan


class SafetyError(KfsyncError):
    """The plan breaks a safety rule; nothing was applied."""

    exit_code = ExitCode.REFUSED

    @property
    def reason(self) -> str:
        """The message without its leading `refused: `, for where the word is said already."""
        return self.message.removeprefix("refused: ")


def check_safety(result: Plan, policy: Policy, allow_delete: frozenset[str] = frozenset()) -> None:
    """Refuse a plan that breaks a safety rule (exit 3); the rules live on the plan.

    Protected accounts are checked here again, not only while planning: a saved
    plan file may have been edited since.
    """
    if result.refusals:
        raise SafetyError("refused: " + "; ".join(result.refusals))
    deletes = result.deletes
    protected = [c.account for c in deletes if policy.is_protected(c.account.split("@", 1)[0])]
    if protected:
        raise SafetyError("refused: " + "; ".join(
            f"{account} is protected and cannot be deleted or rebound" for account in protected))
    if len(deletes) <= policy.max_deletes:
        return
    named = {n if "@" in n else f"{n}@{result.wechat_id}" for n in allow_delete}
    unnamed = [c.account for c in deletes if c.account not in named]
    if unnamed:
        raise SafetyError(
            f"refused: the plan deletes {len(deletes)} accounts (rebinds included), more than "
            f"max_deletes={policy.max_deletes}; name each with --allow-delete "
            + ",".join(c.account.split("@", 1)[0] for c in deletes),
        )
