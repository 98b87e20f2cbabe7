"""The reliability fixtures, defined in rel_fixtures so that mypy checks them under a unique name."""

from __future__ import annotations

from rel_fixtures import no_sleep_retries, patient_retries, workspace

__all__ = ["no_sleep_retries", "patient_retries", "workspace"]
