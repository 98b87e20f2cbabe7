"""Redaction: registered secrets and token-like parameters never survive."""

from __future__ import annotations

import logging

import pytest

from kfsync.redact import MASK, RedactingFilter, redact, register_secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /x?access_token=abc123&kf_account=a@b", f"GET /x?access_token={MASK}&kf_account=a@b"),
        ('{"secret": "s3cr3t", "appid": "wx1"}', f'{{"secret": "{MASK}", "appid": "wx1"}}'),
        ("appsecret=zzz", f"appsecret={MASK}"),
        ("nothing to hide", "nothing to hide"),
    ],
)
def test_redact_masks_parameters(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_masks_registered_values_anywhere() -> None:
    register_secret("TOKEN-VALUE-0123456789")
    assert "TOKEN-VALUE-0123456789" not in redact("oops TOKEN-VALUE-0123456789 leaked")


def test_short_values_are_not_registered() -> None:
    register_secret("ab")
    assert redact("a b ab") == "a b ab"


def test_logging_filter_redacts_formatted_message(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("LOGGED-SECRET-987654")
    logger = logging.getLogger("kfsync.test_redact")
    logger.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.DEBUG, logger="kfsync.test_redact"):
            logger.debug("calling %s with %s", "/x?access_token=zz", "LOGGED-SECRET-987654")
    finally:
        logger.filters.clear()
    assert "LOGGED-SECRET-987654" not in caplog.text
    assert "access_token=zz" not in caplog.text
    assert MASK in caplog.text
