"""Client settings from arguments and KFSYNC_* variables; missing credentials name the variable."""

from __future__ import annotations

import pytest

from kfsync.client.config import DEFAULT_API_BASE, ClientConfig
from kfsync.errors import CredentialsError, UsageError
from kfsync.providers.wechat_mp.client import KfClient

APP = {"KFSYNC_APPID": "wxenv", "KFSYNC_APPSECRET": "env-secret-value"}


def test_environment_gives_stable_mode_by_default() -> None:
    config = ClientConfig.resolve(environ=APP)
    assert (config.appid, config.secret, config.token_mode, config.api_base) == (
        "wxenv", "env-secret-value", "stable", DEFAULT_API_BASE)


def test_arguments_win_over_the_environment() -> None:
    config = ClientConfig.resolve(appid="wxarg", token_mode="classic",
                                  api_base="http://127.0.0.1:9/",
                                  environ={**APP, "KFSYNC_TOKEN_MODE": "static",
                                           "KFSYNC_API_BASE": "https://elsewhere"})
    assert (config.appid, config.secret, config.token_mode, config.api_base) == (
        "wxarg", "env-secret-value", "classic", "http://127.0.0.1:9")


def test_only_an_access_token_means_static_mode() -> None:
    config = ClientConfig.resolve(environ={"KFSYNC_ACCESS_TOKEN": "handed-in-token"})
    assert config.token_mode == "static"
    assert "handed-in-token" not in repr(config)


def test_an_access_token_with_a_secret_still_means_stable_mode() -> None:
    env = {**APP, "KFSYNC_ACCESS_TOKEN": "handed-in-token"}
    assert ClientConfig.resolve(environ=env).token_mode == "stable"


@pytest.mark.parametrize(("environ", "variable"), [
    ({}, "KFSYNC_APPID"),
    ({"KFSYNC_APPID": "wx1"}, "KFSYNC_APPSECRET"),
    ({"KFSYNC_APPID": "wx1", "KFSYNC_APPSECRET": ""}, "KFSYNC_APPSECRET"),
    ({"KFSYNC_TOKEN_MODE": "static"}, "KFSYNC_ACCESS_TOKEN"),
    ({"KFSYNC_TOKEN_MODE": "classic", "KFSYNC_APPSECRET": "s3cret"}, "KFSYNC_APPID"),
])
def test_missing_credential_names_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(CredentialsError, match=f"^{variable} is not set") as caught:
        ClientConfig.resolve(environ=environ)
    assert "\n" not in str(caught.value)


def test_invalid_mode_names_the_variable_and_the_choices() -> None:
    expected = "KFSYNC_TOKEN_MODE must be one of stable, classic, static, got 'fast'"
    with pytest.raises(UsageError, match=expected):
        ClientConfig.resolve(environ={**APP, "KFSYNC_TOKEN_MODE": "fast"})


def test_api_base_must_be_a_url() -> None:
    with pytest.raises(UsageError, match=r"KFSYNC_API_BASE 'api\.weixin\.qq\.com' is refused: it is not"):
        ClientConfig.resolve(environ={**APP, "KFSYNC_API_BASE": "api.weixin.qq.com"})


def test_client_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("KFSYNC_APPID", "KFSYNC_APPSECRET", "KFSYNC_ACCESS_TOKEN",
                     "KFSYNC_TOKEN_MODE", "KFSYNC_API_BASE"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(CredentialsError, match="KFSYNC_APPID is not set"):
        KfClient()
    monkeypatch.setenv("KFSYNC_APPID", "wxenv")
    monkeypatch.setenv("KFSYNC_APPSECRET", "env-secret-value")
    monkeypatch.setenv("KFSYNC_TOKEN_MODE", "classic")
    with KfClient() as client:
        assert client.config.token_mode == "classic"
        assert client.config.appid == "wxenv"
