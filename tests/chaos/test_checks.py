"""The chaos run's judgement of `broker` failures: only the fault schedule may explain them."""

from __future__ import annotations

from model import OrderStatus, Result
from tests.chaos.checks import Outage, check_results, out_of_order, unexplained_failures

START = 1_800_000_000.0  # the run's start on the wall clock
TTL = 30.0
LOGINS = {"acct-01": 7_000_002, "acct-02": 7_000_003}


def failed(order_id: str, instance: str, routed: float, done: float) -> Result:
    return Result(
        result_id=f"r-{order_id}",
        order_id=order_id,
        signal_id=f"s-{order_id}",
        instance=instance,
        status=OrderStatus.FAILED,
        field="broker",
        error="broker unavailable: (10031, 'Request rejected due to absence of network')",
        routed_at=START + routed,
        done_at=START + done,
    )


def judge(*results: Result, outages: list[Outage]) -> dict[str, str]:
    check = check_results(list(results), {r.order_id: OrderStatus.FILLED for r in results})
    assert not check.unexpected  # `broker` failures are set apart, for the judgement below
    return unexplained_failures(check.broker_away, LOGINS, outages, TTL, START)


def test_a_failure_past_its_ttl_while_its_link_is_cut_is_explained() -> None:
    cut = Outage(LOGINS["acct-01"], START + 40, START + 46)
    assert judge(failed("a", "acct-01", routed=5, done=44), outages=[cut]) == {}
    assert judge(failed("b", "acct-01", routed=5, done=50), outages=[cut]) == {}  # slack
    redis = Outage(None, START + 60, START + 61)  # every simulated account goes with Redis
    assert judge(failed("c", "acct-02", routed=20, done=60.5), outages=[redis]) == {}


def test_a_failure_without_an_outage_of_its_account_is_reported() -> None:
    other = Outage(LOGINS["acct-02"], START + 40, START + 46)
    own = Outage(LOGINS["acct-01"], START + 50, START + 51)
    why = judge(
        failed("a", "acct-01", routed=5, done=44),  # another account was cut
        failed("b", "acct-01", routed=5, done=57),  # its cut ended 6 s before
        failed("c", "acct-01", routed=5, done=49),  # before its cut
        outages=[other, own],
    )
    assert sorted(why) == ["a", "b", "c"]
    assert why["a"].startswith("acct-01 at 44.00s: its broker was reachable (no cut of login")


def test_a_failure_within_its_ttl_is_reported_even_during_a_cut() -> None:
    cut = Outage(LOGINS["acct-01"], START + 10, START + 16)
    why = judge(failed("a", "acct-01", routed=1, done=12), outages=[cut])
    assert why == {
        "a": "acct-01 at 12.00s: 11.0s after its routing, within its 30s TTL: "
        "broker unavailable: (10031, 'Request rejected due to absence of network')"
    }


def test_an_outage_still_in_force_covers_what_follows() -> None:
    cut = Outage(LOGINS["acct-01"], START + 10)
    assert judge(failed("a", "acct-01", routed=1, done=500), outages=[cut]) == {}


def test_an_order_executed_after_a_later_one_of_its_instance_is_out_of_order() -> None:
    placed = [("a1", "acct-01"), ("b1", "acct-02"), ("a2", "acct-01"), ("a3", "acct-01")]
    a1, b1, a2, a3 = (failed(order, instance, 0, 1) for order, instance in placed)
    sent = {"a1": 0, "b1": 1, "a2": 2, "a3": 3}
    assert out_of_order([a1, b1, a2, a3], sent) == {}
    assert out_of_order([b1, a1, a2, a3, a1], sent) == {}  # instances apart; a repeat ignored
    assert out_of_order([a1, a3, a2, b1], sent) == {"acct-01": ["a2 after a3"]}
    assert out_of_order([a2, a1], {"a2": 2}) == {}  # a1: not the executor's (rejected)
