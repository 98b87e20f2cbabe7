"""The reliability fixtures, defined in rel_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

from rel_fixtures import _rel_logger, no_sleep_retries, patient_retries, sent_tokens, workspace

__all__ = ["_rel_logger", "no_sleep_retries", "patient_retries", "sent_tokens", "workspace"]
