"""Safety rules a plan must pass before it is applied (or, for `plan`, shown as refused).

The rules the plan itself found (a protected account to rebind) are its
`refusals`; here they are enforced, with the policy's own: protected accounts
are never deleted, more deletes than `max_deletes` must each be named, and
every name given must be a delete (or rebind) of the plan: a consent that
matches nothing is a typo, or consent meant for another plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from kfsync.errors import ExitCode, KfsyncError

if TYPE_CHECKING:
    from kfsync.model import Policy
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
    named = set(consented(result, allow_delete))
    unmatched(result, named)
    if len(deletes) <= policy.max_deletes:
        return
    unnamed = [c.account for c in deletes if c.account not in named]
    if unnamed:
        raise SafetyError(
            f"refused: the plan deletes {len(deletes)} accounts (rebinds included), more than "
            f"max_deletes={policy.max_deletes}; name each with --allow-delete "
            + ",".join(c.account.split("@", 1)[0] for c in deletes),
        )


def consented(result: Plan, names: Iterable[str]) -> frozenset[str]:
    """The accounts `names` (as given to --allow-delete) are, named as the plan names them.

    A bare prefix is completed with the plan's WeChat ID (`alice` ->
    `alice@shop_cs`), unless the plan deletes accounts named bare: a WeCom
    account is named by its name alone, which never holds an `@`.
    """
    deleted = [c.account for c in result.deletes]
    bare = bool(deleted) and not any("@" in account for account in deleted)
    return frozenset(n if "@" in n or bare else f"{n}@{result.wechat_id}" for n in names)


def unmatched(result: Plan, named: set[str], *, source: str = "--allow-delete") -> None:
    """Refuse names (full kf_accounts) that are no delete or rebind of the plan, listing those that are."""
    from kfsync.textsafe import visible

    deleted = {c.account for c in result.deletes}
    stray = [visible(name if len(name) <= 80 else name[:80] + "…") for name in sorted(named - deleted)]
    if not stray:
        return
    could = ",".join(c.account.split("@", 1)[0] for c in result.deletes)
    accepts = f"it accepts {could}" if could else "it deletes nothing, so it accepts none"
    raise SafetyError(
        f"refused: {source} names {', '.join(stray)}, which the plan does not delete or "
        f"rebind; {accepts}"
    )
