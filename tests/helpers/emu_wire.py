"""Helpers for the emulator tests: plain `requests` calls to the WeChat side, and pictures.

The tests speak HTTP exactly as a client would, without kfsync's own client.
"""

from __future__ import annotations

import io
from typing import Any

import requests

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_WECHAT_ID

TIMEOUT = 10


def kf(prefix: str) -> str:
    """A kf account of the emulator's default Official Account."""
    return f"{prefix}@{DEFAULT_WECHAT_ID}"


def bound(prefix: str, *, status: int = 1, **extra: Any) -> dict[str, Any]:
    """A seed item: a kf account bound to a WeChat user (online unless status=0)."""
    return {"kf_account": kf(prefix), "kf_nick": prefix, "kf_wx": f"wx_{prefix}_user",
            "status": status, **extra}


OK = {"errcode": 0, "errmsg": "ok"}


def jpeg(size: tuple[int, int] = (96, 64), color: str = "red", quality: int = 95) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, "PNG")
    return out.getvalue()


class Wx:
    """Calls the WeChat side of an emulator with a classic token fetched on first use."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._token: str | None = None

    def fetch_token(self, **overrides: str) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": DEFAULT_APPID,
                  "secret": DEFAULT_SECRET, **overrides}
        body: dict[str, Any] = self.response("GET", "/cgi-bin/token", params=params,
                                             token=None).json()
        return body

    def stable_token(self, force_refresh: Any = None, **overrides: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {"grant_type": "client_credential", "appid": DEFAULT_APPID,
                                   "secret": DEFAULT_SECRET, **overrides}
        if force_refresh is not None:
            payload["force_refresh"] = force_refresh
        body: dict[str, Any] = self.response("POST", "/cgi-bin/stable_token", json=payload,
                                             token=None).json()
        return body

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = str(self.fetch_token()["access_token"])
        return self._token

    def response(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 token: str | None = "", **kwargs: Any) -> requests.Response:
        """One raw exchange; token "" means this helper's token, None means no token."""
        query = dict(params or {})
        if token is not None:
            query["access_token"] = token or self.token
        return requests.request(method, self.base_url + path, params=query, timeout=TIMEOUT,
                                **kwargs)

    def get(self, path: str, token: str | None = "", **params: Any) -> dict[str, Any]:
        response = self.response("GET", path, params=params, token=token)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    def post(self, path: str, body: Any = None, *, token: str | None = "",
             params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        response = self.response("POST", path, params=params, token=token, json=body, **kwargs)
        assert response.status_code == 200
        answer: dict[str, Any] = response.json()
        return answer

    def add(self, prefix: str, nickname: str = "nick") -> dict[str, Any]:
        return self.post("/customservice/kfaccount/add",
                         {"kf_account": kf(prefix), "nickname": nickname})

    def invite(self, kf_account: str, invite_wx: str) -> dict[str, Any]:
        return self.post("/customservice/kfaccount/inviteworker",
                         {"kf_account": kf_account, "invite_wx": invite_wx})

    def upload(self, kf_account: str, data: bytes, filename: str = "avatar.jpg",
               content_type: str = "image/jpeg") -> dict[str, Any]:
        return self.post("/customservice/kfaccount/uploadheadimg",
                         params={"kf_account": kf_account},
                         files={"media": (filename, data, content_type)})

    def accounts(self) -> dict[str, dict[str, Any]]:
        """getkflist items by kf_account."""
        listed = self.get("/cgi-bin/customservice/getkflist")
        return {item["kf_account"]: item for item in listed["kf_list"]}

    def session(self, action: str, kf_account: str, openid: str) -> dict[str, Any]:
        return self.post(f"/customservice/kfsession/{action}",
                         {"kf_account": kf_account, "openid": openid})
