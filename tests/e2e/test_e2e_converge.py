"""The reconciler contract over HTTP: seed, plan, apply, plan again with nothing left."""

from __future__ import annotations

from tests.helpers.e2e import AVATAR_PATH, Shop, kf, seeded


def drifted(shop: Shop) -> None:
    """A config of four accounts and a live side that has drifted from it in every way."""
    shop.write_config(
        {
            "alice": {"nickname": "小美", "avatar": shop.avatar("alice.png", "stripes"),
                      "wechat": "alice_wx"},
            "bob": {"nickname": "Bob"},
            "carol": {"state": "absent"},
            "dora": {"nickname": "Dora", "avatar": shop.avatar("dora.jpg", "checker", "JPEG")},
        },
    )
    shop.seed(
        seeded("bob", "Bobby"),
        seeded("carol", "Carol", kf_wx="carol_wx"),
        seeded("dora", "Dora"),
    )


def test_plan_apply_plan_again_finds_nothing(shop: Shop) -> None:
    drifted(shop)
    before = shop.plan("--detailed-exitcode")
    assert before.code == 2, before.text
    assert "Plan: 1 to add, 1 to change, 1 to delete, 1 to invite, 2 avatars" in before.out

    applied = shop.apply("--auto-approve")
    assert applied.code == 0, applied.text
    assert "Apply complete: 1 added, 1 updated, 1 deleted, 1 invited, 2 avatars set" in applied.out
    assert "Verified: the live accounts match the configuration." in applied.out

    live = shop.live()
    assert set(live) == {kf("alice"), kf("bob"), kf("dora")}
    assert live[kf("alice")]["kf_nick"] == "小美"
    assert live[kf("alice")]["invitation"]["invite_wx"] == "alice_wx"
    assert live[kf("bob")]["kf_nick"] == "Bob"
    assert live[kf("dora")]["media_id"]
    assert len(shop.calls(AVATAR_PATH)) == 2
    shop.assert_converged()


def test_apply_of_a_plan_in_sync_makes_no_call(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}})
    shop.seed(seeded("bob", "Bob"))
    result = shop.apply("--auto-approve")
    assert result.code == 0, result.text
    assert "No changes." in result.out
    assert shop.writes() == []
