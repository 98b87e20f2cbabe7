"""Where the WeCom client's settings come from, and the one-line errors for bad ones."""

from __future__ import annotations

import pytest

from kfsync.errors import CredentialsError, UsageError
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.config import WeComConfig

ENV = {"KFSYNC_CORPID": "ww0123456789abcdef", "KFSYNC_CORPSECRET": "corp-secret-value"}


def test_defaults_from_the_environment() -> None:
    config = WeComConfig.resolve(environ=ENV)
    assert (config.token_mode, config.api_base, config.corpid) == (
        "gettoken", "https://qyapi.weixin.qq.com", "ww0123456789abcdef")
    assert "corp-secret-value" not in repr(config)


def test_arguments_win_and_empty_variables_are_unset() -> None:
    config = WeComConfig.resolve(corpid="wwother", environ={**ENV, "KFSYNC_API_BASE": ""})
    assert config.corpid == "wwother"
    assert config.api_base == "https://qyapi.weixin.qq.com"


def test_the_deadlines_come_from_the_environment() -> None:
    config = WeComConfig.resolve(environ={**ENV, "KFSYNC_HTTP_DEADLINE": "12",
                                          "KFSYNC_PICTURE_DEADLINE": "7.5"})
    assert (config.deadline, config.picture_deadline) == (12.0, 7.5)
    assert WeComConfig.resolve(environ=ENV).picture_deadline == 30.0


@pytest.mark.parametrize(("environ", "variable"), [
    ({"KFSYNC_CORPSECRET": "s"}, "KFSYNC_CORPID"),
    ({"KFSYNC_CORPID": "ww1"}, "KFSYNC_CORPSECRET"),
    ({"KFSYNC_TOKEN_MODE": "static"}, "KFSYNC_ACCESS_TOKEN"),
])
def test_missing_credentials_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(CredentialsError, match=variable) as exc:
        WeComConfig.resolve(environ=environ)
    assert "self-built app" in str(exc.value)


def test_a_token_alone_is_static() -> None:
    config = WeComConfig.resolve(environ={"KFSYNC_ACCESS_TOKEN": "handed-in-token"})
    assert config.token_mode == "static"
    assert "handed-in-token" not in repr(config)


def test_unknown_token_modes_are_refused() -> None:
    with pytest.raises(UsageError, match="gettoken, static"):
        WeComConfig.resolve(environ={**ENV, "KFSYNC_TOKEN_MODE": "stable"})


@pytest.mark.parametrize("base", [
    "http://qyapi.weixin.qq.com", "https://qyapi.weixin.qq.com@evil.example",
    "ftp://qyapi.weixin.qq.com", "https://qyapi.weixin.qq.com/?x=1"])
def test_api_base_follows_the_same_rules(base: str) -> None:
    with pytest.raises(UsageError, match="KFSYNC_API_BASE") as exc:
        WeComConfig.resolve(environ={**ENV, "KFSYNC_API_BASE": base})
    if base.startswith("http://"):
        assert "the corp secret" in str(exc.value)


def test_client_repr_shows_no_secret() -> None:
    with WeComClient("ww1", "super-secret-corp") as client:
        assert "super-secret-corp" not in repr(client) + repr(client.tokens)
        assert "ww1" in repr(client)
