"""What users write instead of kfsync: the same WeChat calls, with `requests.Session`, no checks.

Run as its own process, like kfsync, so that both pay for an interpreter and
their imports.  It imports nothing of kfsync: it is the plain script a user
would write.

    python bench/reference.py apply   --api-base URL --accounts FILE [--width N]
    python bench/reference.py plan    --api-base URL --accounts FILE [--width N]
    python bench/reference.py records --api-base URL --since UNIX --until UNIX --out FILE
    python bench/reference.py wecom-apply --api-base URL --accounts FILE [--width N]

- `apply`: token, list; for each account add, upload its avatar, invite its
  WeChat user; then list again and download every new avatar (what kfsync's
  verification reads).  `--width 1` (the default) makes the calls one by one:
  the sequential script.  A larger width runs the same calls on that many
  threads, an account's avatar and invitation after its add: the minimal
  concurrent client, the floor of this machine for that width.
- `plan`: token, list, and download every declared account's avatar.
- `records`: token, then getmsglist over 24-hour windows, page by page, one
  window after the other, each record written as a JSON line (its wire fields
  and `time_iso` in China Standard Time), as `kfsync records` writes them.

- `wecom-apply`: the same for a WeCom corp's 微信客服 (the emulator's corp):
  gettoken, every page of kf/account/list; for each account upload its
  avatar (media/upload), add it (kf/account/add), add its servicers
  (kf/servicer/add, users and departments in one call) and ask for the link
  of each of its scenes (kf/add_contact_way); then the re-read a user would
  do to check: every page of the list, and kf/servicer/list of each account.
  `--width` as for `apply`: an account's servicers and links after its add.

FILE for `apply` and `plan` is JSON: a list of {"kf_account", "nickname",
"avatar" (a path), "wechat"}; for `wecom-apply`, a list of {"name", "avatar"
(a path), "users", "departments" (numbers), "scenes"}.  Any errcode other than
0 stops the script (exit 1), a failed item of a `result_list` too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from requests.adapters import HTTPAdapter

DAY = 86400
PAGE = 10000
APPID = "wx5f1e0000000e1a7e"  # the emulator's defaults
SECRET = "0e1a7e5ec7e70000e1a7e5ec7e70cafe"
CORPID = "ww5f1e0e1a7e0cafe0"  # the WeCom emulator's defaults
CORPSECRET = "kfsyncEmulatorWeComSecret0e1a7e5ec7e7cafe0"
WECOM_PAGE = 100  #: kf/account/list's largest page


class WeChat:
    """A session, a token, and one method per call; `width` connections at most."""

    def __init__(self, api_base: str, width: int) -> None:
        self.api_base = api_base
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(width, 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.token = ""

    def fetch_token(self) -> None:
        body = self.post("/cgi-bin/stable_token",
                         {"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
                         authenticated=False)
        self.token = str(body["access_token"])

    def _checked(self, response: requests.Response) -> Any:
        response.raise_for_status()
        body = response.json()
        if body.get("errcode", 0) != 0:
            raise SystemExit(f"errcode {body['errcode']} from {response.url.split('?')[0]}")
        return body

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self._checked(self.session.get(f"{self.api_base}{path}",
                                              params={"access_token": self.token, **(query or {})},
                                              timeout=30))

    def post(self, path: str, body: dict[str, Any], *, authenticated: bool = True,
             query: dict[str, str] | None = None) -> Any:
        params = {"access_token": self.token, **(query or {})} if authenticated else None
        return self._checked(self.session.post(f"{self.api_base}{path}", params=params,
                                               json=body, timeout=30))

    def upload(self, kf_account: str, picture: Path) -> None:
        with picture.open("rb") as stream:
            response = self.session.post(
                f"{self.api_base}/customservice/kfaccount/uploadheadimg",
                params={"access_token": self.token, "kf_account": kf_account},
                files={"media": (picture.name, stream, "image/jpeg")}, timeout=30)
        self._checked(response)

    def download(self, url: str) -> bytes:
        response = self.session.get(url, timeout=30)
        response.raise_for_status()
        return response.content


def run_all(width: int, tasks: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the tasks `width` at a time (one by one when 1), in order; their results."""
    if width <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=width) as pool:
        return list(pool.map(lambda task: task(), tasks))


def download_all(wechat: WeChat, urls: list[str], width: int) -> int:
    """Download every URL, `width` at a time; the bytes downloaded."""
    tasks = [functools.partial(wechat.download, url) for url in urls]
    return sum(len(data) for data in run_all(width, tasks))


def apply(wechat: WeChat, accounts: list[dict[str, Any]], width: int) -> int:
    wechat.fetch_token()
    wechat.get("/cgi-bin/customservice/getkflist")

    def add(account: dict[str, Any]) -> None:
        wechat.post("/customservice/kfaccount/add",
                    {"kf_account": account["kf_account"], "nickname": account["nickname"]})

    def avatar(account: dict[str, Any]) -> None:
        wechat.upload(account["kf_account"], Path(account["avatar"]))

    def invite(account: dict[str, Any]) -> None:
        wechat.post("/customservice/kfaccount/inviteworker",
                    {"kf_account": account["kf_account"], "invite_wx": account["wechat"]})

    if width <= 1:
        for account in accounts:
            add(account)
            avatar(account)
            invite(account)
    else:
        # All the adds are queued first; each one, when done, queues its account's avatar and
        # invitation behind them.
        with ThreadPoolExecutor(max_workers=width) as pool:

            def add_then(account: dict[str, Any]) -> list[Future[None]]:
                add(account)
                return [pool.submit(avatar, account), pool.submit(invite, account)]

            for added in [pool.submit(add_then, account) for account in accounts]:
                for dependent in added.result():
                    dependent.result()
    listed = wechat.get("/cgi-bin/customservice/getkflist")["kf_list"]
    urls = [item["kf_headimgurl"] for item in listed if item.get("kf_headimgurl")]
    return download_all(wechat, urls, width)


def plan(wechat: WeChat, accounts: list[dict[str, Any]], width: int) -> int:
    wechat.fetch_token()
    listed = wechat.get("/cgi-bin/customservice/getkflist")["kf_list"]
    declared = {account["kf_account"] for account in accounts if account.get("avatar")}
    urls = [item["kf_headimgurl"] for item in listed
            if item["kf_account"] in declared and item.get("kf_headimgurl")]
    return download_all(wechat, urls, width)


def records(wechat: WeChat, since: int, until: int, out: Path) -> int:
    wechat.fetch_token()
    zone = ZoneInfo("Asia/Shanghai")
    count = 0
    with out.open("w", encoding="utf-8") as stream:
        for low in range(since, until, DAY):
            high = min(low + DAY, until)
            msgid = 1
            while True:
                page = wechat.post("/customservice/msgrecord/getmsglist",
                                   {"starttime": low, "endtime": high, "msgid": msgid,
                                    "number": PAGE})
                for item in page["recordlist"]:
                    if low <= item["time"] < high:
                        record = {"openid": item["openid"], "opercode": item["opercode"],
                                  "text": item["text"], "time": item["time"],
                                  "worker": item["worker"],
                                  "time_iso": dt.datetime.fromtimestamp(item["time"],
                                                                        zone).isoformat()}
                        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                        count += 1
                if page["number"] < PAGE:
                    break
                msgid = page["msgid"]
    return count


class WeCom(WeChat):
    """The same session for WeCom: its token, its media upload, and checked result lists."""

    def fetch_token(self) -> None:
        response = self.session.get(f"{self.api_base}/cgi-bin/gettoken",
                                    params={"corpid": CORPID, "corpsecret": CORPSECRET},
                                    timeout=30)
        self.token = str(self._checked(response)["access_token"])

    def upload_image(self, picture: Path) -> str:
        with picture.open("rb") as stream:
            response = self.session.post(
                f"{self.api_base}/cgi-bin/media/upload",
                params={"access_token": self.token, "type": "image"},
                files={"media": (picture.name, stream, "image/jpeg")}, timeout=30)
        return str(self._checked(response)["media_id"])

    def list_accounts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.post("/cgi-bin/kf/account/list",
                             {"offset": len(found), "limit": WECOM_PAGE})["account_list"]
            found += page
            if len(page) < WECOM_PAGE:
                return found

    def add_servicers(self, open_kfid: str, users: list[str], departments: list[int]) -> None:
        body = self.post("/cgi-bin/kf/servicer/add", {"open_kfid": open_kfid,
                                                     "userid_list": users,
                                                     "department_id_list": departments})
        failed = [item for item in body["result_list"] if item.get("errcode", 0) != 0]
        if failed:
            raise SystemExit(f"servicer/add failed for {open_kfid}: {failed}")


def wecom_apply(wecom: WeCom, accounts: list[dict[str, Any]], width: int) -> int:
    wecom.fetch_token()
    wecom.list_accounts()

    def create(account: dict[str, Any]) -> str:
        media_id = wecom.upload_image(Path(account["avatar"]))
        return str(wecom.post("/cgi-bin/kf/account/add",
                              {"name": account["name"], "media_id": media_id})["open_kfid"])

    def servicers(open_kfid: str, account: dict[str, Any]) -> None:
        if account["users"] or account["departments"]:
            wecom.add_servicers(open_kfid, account["users"], account["departments"])

    def link(open_kfid: str, scene: str) -> None:
        wecom.post("/cgi-bin/kf/add_contact_way", {"open_kfid": open_kfid, "scene": scene})

    def after(open_kfid: str, account: dict[str, Any]) -> list[Callable[[], None]]:
        return [functools.partial(servicers, open_kfid, account),
                *(functools.partial(link, open_kfid, scene) for scene in account["scenes"])]

    if width <= 1:
        for account in accounts:
            for task in after(create(account), account):
                task()
    else:
        # All the adds are queued first; each one, when done, queues its account's servicers
        # and links behind them.
        with ThreadPoolExecutor(max_workers=width) as pool:

            def create_then(account: dict[str, Any]) -> list[Future[None]]:
                return [pool.submit(task) for task in after(create(account), account)]

            for created in [pool.submit(create_then, account) for account in accounts]:
                for dependent in created.result():
                    dependent.result()
    names = {account["name"] for account in accounts}
    ours = [item["open_kfid"] for item in wecom.list_accounts() if item["name"] in names]
    checks = [functools.partial(wecom.get, "/cgi-bin/kf/servicer/list", {"open_kfid": open_kfid})
              for open_kfid in ours]
    return sum(len(body["servicer_list"]) for body in run_all(width, checks))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/reference.py",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("job", choices=("apply", "plan", "records", "wecom-apply"))
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--accounts", type=Path)
    parser.add_argument("--width", type=int, default=1)
    parser.add_argument("--since", type=int)
    parser.add_argument("--until", type=int)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.job == "wecom-apply":
        wecom = WeCom(args.api_base, args.width)
        print(wecom_apply(wecom, json.loads(args.accounts.read_text(encoding="utf-8")),
                          args.width))
        return 0
    wechat = WeChat(args.api_base, args.width)
    if args.job == "records":
        print(records(wechat, args.since, args.until, args.out))
        return 0
    accounts = json.loads(args.accounts.read_text(encoding="utf-8"))
    print((apply if args.job == "apply" else plan)(wechat, accounts, args.width))
    return 0


if __name__ == "__main__":
    sys.exit(main())
