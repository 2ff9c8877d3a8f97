"""The registration plan: each topic once to the target, omnistock's strays removed, the
rest left alone."""

from __future__ import annotations

from omnistock.adapters.base import Subscription
from omnistock.adapters.subscribing import Held, plan_register, plan_remove

TOPICS = ("a", "b")
HERE, THERE = "https://here/hook", "https://there/hook"


def held(topic: str, target: str, id: str, *, ours: bool = True, active: bool = True) -> Held:
    return Held(
        subscription=Subscription(topic=topic, target=target, id=id), ours=ours, active=active
    )


def test_nothing_held_creates_every_topic() -> None:
    plan = plan_register([], TOPICS, HERE)
    assert plan.create == TOPICS
    assert plan.keep == plan.remove == plan.reactivate == ()


def test_what_is_there_is_kept_and_an_inactive_one_switched_back_on() -> None:
    plan = plan_register([held("a", HERE, "1"), held("b", HERE, "2", active=False)], TOPICS, HERE)
    assert plan.create == ()
    assert [s.id for s in plan.keep] == ["1"]
    assert [s.id for s in plan.reactivate] == ["2"]
    assert [s.id for s in plan.report(()).kept] == ["1", "2"]


def test_our_old_address_and_duplicates_go_and_others_stay() -> None:
    plan = plan_register(
        [
            held("a", THERE, "old"),
            held("a", HERE, "1"),
            held("a", HERE, "dup"),
            held("b", THERE, "theirs", ours=False),
            held("c", THERE, "unrelated"),
        ],
        TOPICS,
        HERE,
    )
    assert plan.create == ("b",)
    assert [s.id for s in plan.keep] == ["1"]
    assert [s.id for s in plan.remove] == ["old", "dup"]


def test_remove_takes_what_delivers_to_the_target_only() -> None:
    plan = plan_remove(
        [
            held("a", HERE, "1"),
            held("z", HERE, "ours-other-topic"),
            held("z", HERE, "theirs", ours=False),
            held("a", THERE, "elsewhere"),
        ],
        TOPICS,
        HERE,
    )
    assert [s.id for s in plan.remove] == ["1", "ours-other-topic"]
