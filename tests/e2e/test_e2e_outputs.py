"""`kfsync apply` reports the outputs a provider hands out, and exits 4 when it cannot.

The accounts are the Official Account's, read and changed by the real provider
on its emulator; only their outputs are added, as WeCom's accounts have them:
one contact link each, made by a real `kf/add_contact_way` call to the WeCom
emulator.  A link for an account the WeCom emulator does not have fails there
with its own errcode: the fault is the server's, not a stand-in's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from kfsync.cache import Cache
from kfsync.config import Config
from kfsync.config.resources import data_path
from kfsync.model import DesiredAccount
from kfsync.plan import Output
from kfsync.providers.wechat_mp.client import KfClient
from kfsync.providers.wechat_mp.provider import WechatMpProvider
from kfsync.providers.wechat_mp.rules import WechatMpRules
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from tests.helpers.e2e import Shop, json_out
from tests.helpers.wecom import NO_WAIT, calls_to

LINK = "/cgi-bin/kf/add_contact_way"
URL = re.compile(r"https://work\.weixin\.qq\.com/kf/kfc[0-9a-f]{32}")
NOTE = ("A contact link cannot be deleted through the API: a scene removed from the file is only "
        "dropped from this report.")


@dataclass(frozen=True)
class LinkingRules(WechatMpRules):
    """The Official Account's rules, every declared account with one contact link to report."""

    def outputs(self, present: Sequence[DesiredAccount]) -> tuple[Output, ...]:
        return tuple(Output(f"{a.prefix}@{self.scope}", "contact_link", "menu")
                     for a in sorted(present, key=lambda a: a.prefix))


class LinkingProvider(WechatMpProvider):
    """The Official Account's provider, whose accounts' links are made on the WeCom emulator."""

    def __init__(self, client: KfClient, links: WeComClient, kfids: dict[str, str],
                 **options: Any) -> None:
        super().__init__(client, **options)
        self.links = links
        self.kfids = kfids  #: kf_account -> the open_kfid of its twin on the WeCom emulator

    def rules(self, config: Config) -> LinkingRules:
        return LinkingRules(config.scope)

    def outputs(self, wanted: Sequence[Output]) -> tuple[Output, ...]:
        return tuple(replace(o, value=self.links.add_contact_way(
            self.kfids.get(o.account, "wkNotThere"), o.key).url) for o in wanted)

    def close(self) -> None:
        super().close()
        self.links.close()


@pytest.fixture(scope="module")
def wecom_server() -> Iterator[WeComEmulator]:
    with WeComEmulator() as emu:
        yield emu


@pytest.fixture
def wecom(wecom_server: WeComEmulator) -> WeComEmulator:
    wecom_server.admin.reset()
    wecom_server.admin.seed(accounts=[{"open_kfid": "wkAlice", "name": "alice",
                                       "manage_privilege": True}])
    return wecom_server


@pytest.fixture
def linking(wecom: WeComEmulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The CLI opens a `LinkingProvider`; the map it finds each account's open_kfid in."""
    kfids = {"alice@shop_cs": "wkAlice"}

    def open_provider(config: Config, *, cache: Cache | None = None, parallelism: int = 4,
                      connections: int = 1) -> LinkingProvider:
        links = WeComClient(corpid=DEFAULT_CORPID, secret=DEFAULT_SECRET,
                            api_base=wecom.base_url, retry=NO_WAIT)
        return LinkingProvider(KfClient(), links, kfids, cache=cache, parallelism=parallelism)

    monkeypatch.setattr("kfsync.providers.open_provider", open_provider)
    return kfids


def declare_alice(shop: Shop) -> None:
    shop.write_config({"alice": {"nickname": "Alice"}})


def apply_document() -> Draft202012Validator:
    schema = json.loads(data_path("schemas", "plan.schema.json").read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator({"$ref": f"{schema['$id']}#/$defs/apply_document"},
                                registry=registry)


def link_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("  alice@shop_cs: "))


def test_the_plan_says_known_after_apply_and_apply_gives_the_link(
    shop: Shop, wecom: WeComEmulator, linking: dict[str, str]
) -> None:
    declare_alice(shop)
    planned = shop.plan()
    assert planned.code == 0, planned.text
    assert '  alice@shop_cs: contact_link "menu" = (known after apply)' in planned.out
    assert calls_to(wecom, LINK) == []  # a plan makes no link

    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    report = applied.out.split("Verified: the live accounts match the configuration.")[1]
    value = link_line(report).removeprefix('  alice@shop_cs: contact_link "menu" = ')
    assert URL.fullmatch(value.strip('"')), value
    assert NOTE in report
    assert [c["body"]["open_kfid"] for c in calls_to(wecom, LINK)] == ["wkAlice"]
    assert "alice@shop_cs" in shop.live()


def test_json_apply_carries_the_links(shop: Shop, linking: dict[str, str]) -> None:
    declare_alice(shop)
    applied = shop.apply("--auto-approve", "--format", "json")
    assert applied.code == 0, applied.text
    document = json_out(applied)
    apply_document().validate(document)
    [output] = document["outputs"]
    assert (output["account"], output["kind"], output["key"]) == ("alice@shop_cs", "contact_link",
                                                                  "menu")
    assert URL.fullmatch(output["value"])
    assert "outputs_error" not in document


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_link_that_cannot_be_made_leaves_the_apply_incomplete(
    shop: Shop, linking: dict[str, str], fmt: str
) -> None:
    linking["alice@shop_cs"] = "wkGone"  # not an account of the WeCom emulator: errcode 95004
    declare_alice(shop)
    applied = shop.apply("--auto-approve", "--format", fmt)
    assert applied.code == 4, applied.text
    assert "alice@shop_cs" in shop.live()  # the change itself was made
    if fmt == "json":
        document = json_out(applied)
        apply_document().validate(document)
        assert document["complete"] is True
        assert "95004" in document["outputs_error"]
        assert "outputs" not in document
        return
    [warning] = [line for line in applied.out.splitlines() if line.startswith("Outputs not")]
    assert warning.startswith("Outputs not reported: ")
    assert "95004" in warning
    assert applied.out.rstrip().splitlines()[-1].startswith("Apply complete: 1 added")


def test_an_apply_in_sync_reports_the_links_again(
    shop: Shop, wecom: WeComEmulator, linking: dict[str, str]
) -> None:
    declare_alice(shop)
    assert shop.apply("--auto-approve").code == 0
    since = shop.last_seq()
    again = shop.apply("--auto-approve")
    assert again.code == 0, again.text
    assert "No changes. The live accounts match the configuration." in again.out
    assert URL.fullmatch(link_line(again.out.split("No changes.")[1]).split(" = ")[1].strip('"'))
    assert shop.writes(since) == []  # no call to the accounts: only the link is asked for again
    assert len(calls_to(wecom, LINK)) == 2

    as_json = shop.apply("--auto-approve", "--format", "json")
    assert as_json.code == 0, as_json.text
    document = json_out(as_json)
    apply_document().validate(document)
    assert document["outcomes"] == []
    assert document["verify"]["changes"] == []
    assert URL.fullmatch(document["outputs"][0]["value"])

    linking["alice@shop_cs"] = "wkGone"
    failed = shop.apply("--auto-approve")
    assert failed.code == 4, failed.text
    assert "Outputs not reported: " in failed.out
